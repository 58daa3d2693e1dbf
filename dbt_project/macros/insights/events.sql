{#-
    The events an insight series counts: property filters, breakdown values and actors as SQL over
    `events` (marts.fct_events), `persons` (marts.dim_persons) and `groups_<n>` (marts.dim_groups of
    type index n, joined on the event's own group of that type).

    PostHog's filter semantics (posthog/hogql/property.py and HogQL's null handling): a missing
    property never matches exact / icontains / regex / gt / lt, always matches is_not /
    not_icontains / not_regex; a list of values means any of them (is_not, not_icontains,
    not_regex: none of them); is_set means present and not JSON null. Values compare as text,
    gt / gte / lt / lte as numbers (a value that is not a number never matches).
-#}

{#- The text value of the property a filter leaf (or breakdown) names; null when missing. -#}
{% macro gw_insight_property_value(leaf) -%}
    {%- if leaf.type == 'event' -%}
        {{ gw_json_text('events.properties', leaf.key) }}
    {%- elif leaf.type == 'person' -%}
        {{ gw_json_text('persons.properties', leaf.key) }}
    {%- elif leaf.type == 'group' -%}
        {{ gw_json_text('groups_' ~ leaf.group_type_index ~ '.properties', leaf.key) }}
    {%- elif leaf.type == 'group_key' -%}
        nullif(events.group_{{ leaf.group_type_index }}, '')
    {%- else -%}
        {{ exceptions.raise_compiler_error("unsupported property type '" ~ leaf.type ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- A filter tree (compile.py `_filters`) as a boolean SQL expression that is never null. -#}
{% macro gw_insight_filter(tree) -%}
    {%- if tree is none -%}
        true
    {%- elif tree.op is defined -%}
        ({% for child in tree['values'] %}{{ gw_insight_filter(child) }}{% if not loop.last %} {{ tree.op }} {% endif %}{% endfor %})
    {%- else -%}
        {{ gw_insight_filter_leaf(tree) }}
    {%- endif -%}
{%- endmacro %}

{% macro gw_insight_filter_leaf(leaf) -%}
    {%- set value = gw_insight_property_value(leaf) -%}
    {%- set operator = leaf.operator -%}
    {%- if operator == 'is_set' -%}
        ({{ value }} is not null)
    {%- elif operator == 'is_not_set' -%}
        ({{ value }} is null)
    {%- elif operator in ('exact', 'is_not') -%}
        {%- set literals = [] -%}
        {%- for item in leaf['values'] -%}
            {%- do literals.append(gw_insight_literal(item)) -%}
        {%- endfor -%}
        {%- if operator == 'exact' -%}
            coalesce({{ value }} in ({{ literals | join(', ') }}), false)
        {%- else -%}
            coalesce({{ value }} not in ({{ literals | join(', ') }}), true)
        {%- endif -%}
    {%- elif operator in ('icontains', 'not_icontains', 'regex', 'not_regex') -%}
        {%- set tests = [] -%}
        {%- for item in leaf['values'] -%}
            {%- if operator in ('icontains', 'not_icontains') -%}
                {%- set matches = 'lower(' ~ value ~ ') like ' ~ gw_insight_literal('%' ~ (item | lower) ~ '%') -%}
            {%- else -%}
                {%- set matches = gw_regex_match(value, gw_insight_literal(item)) -%}
            {%- endif -%}
            {%- if operator in ('icontains', 'regex') -%}
                {%- do tests.append('coalesce(' ~ matches ~ ', false)') -%}
            {%- else -%}
                {%- do tests.append('coalesce(not (' ~ matches ~ '), true)') -%}
            {%- endif -%}
        {%- endfor -%}
        ({{ tests | join(' or ' if operator in ('icontains', 'regex') else ' and ') }})
    {%- elif operator in ('gt', 'gte', 'lt', 'lte') -%}
        {%- set comparison = {'gt': '>', 'gte': '>=', 'lt': '<', 'lte': '<='}[operator] -%}
        coalesce({{ gw_try_cast_double(value) }} {{ comparison }} {{ leaf.number }}, false)
    {%- else -%}
        {{ exceptions.raise_compiler_error("unsupported operator '" ~ operator ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- The breakdown value of an event as PostHog shows it: the property as text, PostHog's null
    label when it is missing or empty; null when the insight has no breakdown. -#}
{% macro gw_insight_breakdown_value(breakdown) -%}
    {%- if breakdown is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        coalesce(nullif({{ gw_insight_property_value(breakdown) }}, ''), '{{ gw_insight_breakdown_null_label() }}')
    {%- endif -%}
{%- endmacro %}

{#- Who an event counts for: its person, or its group of `group_type_index` (never ''). -#}
{% macro gw_insight_actor(actor, group_type_index) -%}
    {%- if actor == 'group' -%}
        events.group_{{ group_type_index }}
    {%- else -%}
        events.person_id
    {%- endif -%}
{%- endmacro %}

{#- The conditions every counted event meets: its event name (none = all events), the filter trees
    and, when groups are counted, a non-empty group key. -#}
{% macro gw_insight_event_conditions(event_name, trees, actor='person', group_type_index=none) -%}
    {%- if event_name is not none %}
        and events.event = {{ gw_insight_literal(event_name) }}
    {%- endif %}
    {%- for tree in trees if tree is not none %}
        and {{ gw_insight_filter(tree) }}
    {%- endfor %}
    {%- if actor == 'group' %}
        and events.group_{{ group_type_index }} <> ''
    {%- endif %}
{%- endmacro %}

{#- How an insight reads group properties: its file's `group_properties` (compile.py) when set,
    else var `insight_group_properties`; `current` (PostHog: the group's properties now) or
    `as_of_event` (the version valid at the event's time, from fct_event_group_properties). -#}
{% macro gw_insight_group_property_mode_of(insight) -%}
    {{ return(insight.group_properties or gw_insight_group_property_mode()) }}
{%- endmacro %}

{#- The joins an insight's filters and breakdown need: the event's person, its groups. -#}
{% macro gw_insight_event_joins(insight) -%}
    {%- if insight.joins.person %}
    left join persons
        on
            events.project_id = persons.project_id
            and events.person_id = persons.person_id
    {%- endif %}
    {%- for index in insight.joins.groups %}
    {%- if gw_insight_group_property_mode_of(insight) == 'as_of_event' %}
    left join event_group_properties as groups_{{ index }}
        on
            events.project_id = groups_{{ index }}.project_id
            and events.event_uuid = groups_{{ index }}.event_uuid
            and groups_{{ index }}.group_type_index = {{ index }}
    {%- else %}
    left join groups as groups_{{ index }}
        on
            events.project_id = groups_{{ index }}.project_id
            and groups_{{ index }}.group_type_index = {{ index }}
            and events.group_{{ index }} = groups_{{ index }}.group_key
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- Import CTEs for the dimensions `insights` join (put after the `events` import CTE); `persons`
    and `groups` (current) are also imported when `with_persons` / `with_groups` is set. -#}
{% macro gw_insight_dimension_imports(insights, with_persons=false, with_groups=false) -%}
    {%- set modes = [] -%}
    {%- for insight in insights if insight.joins.groups | length > 0 -%}
        {%- do modes.append(gw_insight_group_property_mode_of(insight)) -%}
    {%- endfor -%}
    {%- if with_persons or gw_insights_need_persons(insights) %}

persons as (

    select * from {{ ref('dim_persons') }}

),
    {%- endif %}
    {%- if with_groups or 'current' in modes %}

groups as (

    select * from {{ ref('dim_groups') }}

),
    {%- endif %}
    {%- if 'as_of_event' in modes %}

event_group_properties as (

    select * from {{ ref('fct_event_group_properties') }}

),
    {%- endif %}
{%- endmacro %}
