-- One row per (project, group type index, day in the project's time zone) from the project's
-- first to its last day with events: how many distinct groups of that type were active (had at
-- least one event carrying them) and how many events they had. Days without activity are zeros,
-- so BI tools chart a continuous line.
with

event_groups as (

    select * from {{ ref('fct_event_groups') }}

),

group_types as (

    select * from {{ ref('dim_group_types') }}

),

projects as (

    select * from {{ ref('stg_lake__projects') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

project_days as (

    select
        project_id,
        min(event_date) as first_date,
        max(event_date) as last_date

    from events
    group by project_id

),

calendar as (

    select calendar_days.date_day
    from {{ gw_date_series(
        "(select min(first_date) from project_days)",
        "(select max(last_date) from project_days)"
    ) }} as calendar_days

),

spine as (

    select
        group_types.project_id,
        group_types.group_type_index,
        group_types.group_type,
        calendar.date_day as activity_date

    from group_types
    inner join project_days
        on group_types.project_id = project_days.project_id
    inner join calendar
        on calendar.date_day between project_days.first_date and project_days.last_date

),

activity as (

    select
        event_groups.project_id,
        event_groups.group_type_index,
        cast(
            {{ gw_to_local_timestamp('event_groups.event_at', 'projects.project_timezone') }} as date
        ) as activity_date,
        count(distinct event_groups.group_key) as active_groups,
        count(*) as events

    from event_groups
    inner join projects
        on event_groups.project_id = projects.project_id
    group by
        event_groups.project_id,
        event_groups.group_type_index,
        cast(
            {{ gw_to_local_timestamp('event_groups.event_at', 'projects.project_timezone') }} as date
        )

),

final as (

    select
        spine.project_id,
        spine.group_type_index,
        spine.group_type,
        spine.activity_date,
        coalesce(activity.active_groups, 0) as active_groups,
        coalesce(activity.events, 0) as events

    from spine
    left join activity
        on
            spine.project_id = activity.project_id
            and spine.group_type_index = activity.group_type_index
            and spine.activity_date = activity.activity_date

)

select * from final
