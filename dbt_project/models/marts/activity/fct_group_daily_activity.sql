-- A group page's activity: one row per (group, day in the project's time zone) on which the
-- group had at least one event: its events and its active persons (distinct persons who sent
-- them; group-only events count as events, never as persons). Idle days have no row.
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

        -- attributes
        min(event_groups.group_type) as group_type,

        -- measures
        count(*) as events,
        count(distinct events.person_id) as active_persons

    from event_groups
    inner join events
        on
            event_groups.project_id = events.project_id
            and event_groups.event_uuid = events.event_uuid
    group by
        event_groups.project_id,
        event_groups.group_type_index,
        event_groups.group_key,
        events.event_date

)

select * from final
