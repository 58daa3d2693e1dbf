-- One row per event and group type it carries in `$groups` with a non-empty key (the long form
-- of an event's groups, before types are mapped to indices; types over the limit included).
-- Rules (gw_event_group_entries, docs/groups.md): an empty key means "no group"; a key that is
-- not a string is stringified as the loader does (42 → '42', 5.0 → '5', true → 'true'); a type
-- repeated in one `$groups` object keeps its last key, so an event has at most one group per type.
with

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

event_groups as (

    {{ gw_event_group_entries('events') }}

),

final as (

    select
        event_groups.project_id,
        event_groups.event_uuid,
        event_groups.group_type,
        event_groups.group_key,
        event_groups.group_position,
        events.distinct_id,
        events.event_name,
        events.event_at,
        events.loaded_at,
        events.source_name,
        events.source_row

    from event_groups
    inner join events
        on
            event_groups.project_id = events.project_id
            and event_groups.event_uuid = events.event_uuid

)

select * from final
