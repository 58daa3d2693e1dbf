{{ config(
    materialized='incremental',
    incremental_strategy='gw_replace',
    unique_key=['project_id', 'activity_date'],
    on_schema_change='fail',
    meta={'incremental': {'fingerprint': ['deletions', 'group_types', 'projects'], 'loaded_at_from': 'fct_events'}},
    post_hook="{{ gw_incremental_save_state(this) }}",
) }}
-- One row per (project, group type index, day in the project's time zone) from the project's
-- first to its last day with events: how many distinct groups of that type were active (had at
-- least one event carrying them) and how many events they had. Days without activity are zeros,
-- so BI tools chart a continuous line.
--
-- Incremental (docs/incremental.md): delete+insert by AFFECTED DAY. unique_key: (project_id,
-- activity_date), coarser than the grain: every row of a recomputed day is replaced.
-- Affected days: the days of the events LOADED within var incremental_lookback_days before the
-- newest loaded_at of fct_events at the last build, plus the days the date spine gained (a late
-- event before the first day, or a day after the last).
-- Late-event policy: by load time only: an event of any past day recomputes that day.
-- Deletions, the group type mapping and the projects' time zones are in the fingerprint: a
-- change recomputes and replaces the whole table. Persons play no part here.
-- depends_on: {{ ref('stg_warehouse__group_deletions') }}
{%- set window = gw_incremental_window(this) %}
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

stored_days as (

    -- the days already stored (none on a full build)
    select distinct
        project_id,
        activity_date
    {%- if window.filtered %}
        from {{ this }}
    {%- else %}
        from spine
        where false
    {%- endif %}

),

affected_days as (

    -- days with events loaded in the window (every day on a full build)
    select distinct
        project_id,
        event_date as activity_date

    from events
    {%- if window.filtered %}
        where loaded_at >= {{ window.cutoff }}
    {%- endif %}

    union

    -- days of the spine not stored yet: it grew (every day on a full build)
    select
        spine.project_id,
        spine.activity_date

    from spine
    left join stored_days
        on
            spine.project_id = stored_days.project_id
            and spine.activity_date = stored_days.activity_date
    where stored_days.activity_date is null

),

event_group_days as (

    select
        event_groups.project_id,
        event_groups.group_type_index,
        event_groups.group_key,
        cast(
            {{ gw_to_local_timestamp('event_groups.event_at', 'projects.project_timezone') }} as date
        ) as activity_date

    from event_groups
    inner join projects
        on event_groups.project_id = projects.project_id

),

activity as (

    select
        event_group_days.project_id,
        event_group_days.group_type_index,
        event_group_days.activity_date,
        count(distinct event_group_days.group_key) as active_groups,
        count(*) as events

    from event_group_days
    inner join affected_days
        on
            event_group_days.project_id = affected_days.project_id
            and event_group_days.activity_date = affected_days.activity_date
    group by
        event_group_days.project_id,
        event_group_days.group_type_index,
        event_group_days.activity_date

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
    inner join affected_days
        on
            spine.project_id = affected_days.project_id
            and spine.activity_date = affected_days.activity_date
    left join activity
        on
            spine.project_id = activity.project_id
            and spine.group_type_index = activity.group_type_index
            and spine.activity_date = activity.activity_date

)

select * from final
