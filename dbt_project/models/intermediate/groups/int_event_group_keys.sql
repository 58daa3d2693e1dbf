-- One row per event and group type it carries in `$groups` with a non-empty key (the long form
-- of an event's groups, before types are mapped to indices). An empty key means "no group".
-- `$groups` is a JSON object, so an event holds at most one key per type; when a client sent a
-- repeated key, the loader kept the last one (JSON parsers' rule).
with

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

with_groups as (

    select
        project_id,
        event_uuid,
        event_at,
        loaded_at,
        source_name,
        source_row,
        {{ gw_json_object_entries('groups') }} as group_entry

    from events
    where groups <> '{}'

),

final as (

    select
        with_groups.project_id,
        with_groups.event_uuid,
        group_entry.key as group_type,
        group_entry.value as group_key,
        with_groups.event_at,
        with_groups.loaded_at,
        with_groups.source_name,
        with_groups.source_row

    from with_groups
    where group_entry.value is not null and group_entry.value <> ''

)

select * from final
