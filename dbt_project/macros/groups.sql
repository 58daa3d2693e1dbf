{#-
    Group rules shared by several models, written once. These macros are engine-neutral: they
    compose the dispatched macros of engine.sql.
-#}

{#- The groups an event carries, one row per (event, group type), as a query over `events` (a
    CTE name with `project_id`, `event_uuid` and `groups`, the `$groups` JSON object text).
    Columns: project_id, event_uuid, group_type, group_key, group_position.
    Rules (docs/groups.md):
    - a key that is not a string is stringified as the loader does (gw_json_value_as_key);
    - a type sent twice in one object: the LAST occurrence wins (as JSON parsers keep it) and the
      type keeps the position of its first occurrence (as a parsed object orders its members);
    - an empty key ('') or a null means "no group": no row. -#}
{% macro gw_event_group_entries(events) -%}
    select
        {{ events }}.project_id,
        {{ events }}.event_uuid,
        group_entry.key as group_type,
        {{ gw_arg_max("coalesce(" ~ gw_json_value_as_key('group_entry.value') ~ ", '')", 'group_entry.id') }}
            as group_key,
        min(group_entry.id) as group_position
    from {{ events }}
    cross join {{ gw_json_each(events ~ '.groups') }} as group_entry
    where {{ events }}.groups <> '{}' and group_entry.key is not null
    group by {{ events }}.project_id, {{ events }}.event_uuid, group_entry.key
    having
        {{ gw_arg_max("coalesce(" ~ gw_json_value_as_key('group_entry.value') ~ ", '')", 'group_entry.id') }}
        <> ''
{%- endmacro %}

{#- Whether a row of an events relation is a `$groupidentify` that names a group: a type and a
    non-empty key. Its `$group_set` is what group properties fold; its `$set` / `$set_once` never
    touch the group (PostHog). `events`: the relation's alias when the query joins several. -#}
{% macro gw_is_group_identify(events=none) -%}
    {%- set prefix = events ~ '.' if events else '' -%}
    (
        {{ prefix }}event_name = '$groupidentify'
        and coalesce({{ prefix }}identified_group_type, '') <> ''
        and coalesce({{ prefix }}identified_group_key, '') <> ''
    )
{%- endmacro %}
