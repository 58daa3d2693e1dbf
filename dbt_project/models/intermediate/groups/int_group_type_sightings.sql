-- One row per (project, group type) ever seen, with the landing position of its first sighting
-- and how many events used it. A type is sighted by a non-empty key in `$groups` (in the order
-- the object lists its types) and by the `$group_type` of a `$groupidentify` (after the event's
-- `$groups`). Landing order (loaded_at, source_name, source_row) is persisted in the lake, so a
-- full refresh and an incremental run see the same first sightings.
-- Read from every landed event, deleted groups included (int_events_first_copies): deleting a
-- group never moves a type's index. Nothing here names a group.
with

events as (

    select * from {{ ref('int_events_first_copies') }}

),

event_groups as (

    {{ gw_event_group_entries('events') }}

),

group_sightings as (

    select
        event_groups.project_id,
        event_groups.group_type,
        event_groups.event_uuid,
        events.event_at,
        events.loaded_at,
        events.source_name,
        events.source_row,
        0 as sighting_kind,
        event_groups.group_position

    from event_groups
    inner join events
        on
            event_groups.project_id = events.project_id
            and event_groups.event_uuid = events.event_uuid

),

identify_sightings as (

    select
        project_id,
        identified_group_type as group_type,
        event_uuid,
        event_at,
        loaded_at,
        source_name,
        source_row,
        1 as sighting_kind,
        0 as group_position

    from events
    where {{ gw_is_group_identify() }}

),

sightings as (

    select * from group_sightings
    union all
    select * from identify_sightings

),

ranked as (

    select
        *,
        row_number() over (
            partition by project_id, group_type
            order by loaded_at, source_name, source_row, sighting_kind, group_position
        ) as sighting_number

    from sightings

),

usage as (

    select
        project_id,
        group_type,
        count(distinct event_uuid) as events_affected,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at

    from sightings
    group by project_id, group_type

),

final as (

    select
        ranked.project_id,
        ranked.group_type,
        ranked.loaded_at as first_loaded_at,
        ranked.source_name as first_source_name,
        ranked.source_row as first_source_row,
        ranked.sighting_kind as first_sighting_kind,
        ranked.group_position as first_group_position,
        usage.first_seen_at,
        usage.last_seen_at,
        usage.events_affected

    from ranked
    inner join usage
        on ranked.project_id = usage.project_id and ranked.group_type = usage.group_type
    where ranked.sighting_number = 1

)

select * from final
