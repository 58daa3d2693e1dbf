-- A group page's events by name: one row per (group, day in the project's time zone, event
-- name) with the events of that name that carried the group that day and the distinct persons
-- who sent them (group-only events count as events, never as persons).
with

event_groups as (

    select * from {{ ref('fct_event_groups') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

final as (

    select
        -- keys
        event_groups.project_id,
        event_groups.group_type_index,
        event_groups.group_key,
        events.event_date as activity_date,
        events.event,

        -- attributes
        min(event_groups.group_type) as group_type,

        -- measures
        count(*) as events,
        count(distinct events.person_id) as persons

    from event_groups
    inner join events
        on
            event_groups.project_id = events.project_id
            and event_groups.event_uuid = events.event_uuid
    group by
        event_groups.project_id,
        event_groups.group_type_index,
        event_groups.group_key,
        events.event_date,
        events.event

)

select * from final
