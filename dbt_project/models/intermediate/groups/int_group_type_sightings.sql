-- One row per (project, group type) ever seen, with the landing position of its first sighting
-- and how many events used it. Landing order (loaded_at, source_name, source_row) is persisted in
-- the lake, so a full refresh and an incremental run see the same first sightings.
with

event_group_keys as (

    select * from {{ ref('int_event_group_keys') }}

),

group_identifies as (

    select * from {{ ref('int_group_identifies') }}

),

sightings as (

    select
        project_id,
        group_type,
        event_uuid,
        event_at,
        loaded_at,
        source_name,
        source_row
    from event_group_keys

    union all

    select
        project_id,
        group_type,
        event_uuid,
        event_at,
        loaded_at,
        source_name,
        source_row
    from group_identifies

),

ranked as (

    select
        *,
        row_number() over (
            partition by project_id, group_type
            order by loaded_at, source_name, source_row
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
        usage.first_seen_at,
        usage.last_seen_at,
        usage.events_affected

    from ranked
    inner join usage
        on ranked.project_id = usage.project_id and ranked.group_type = usage.group_type
    where ranked.sighting_number = 1

)

select * from final
