-- One row per stickiness insight, project, series and number of intervals n = 1 … (intervals in
-- the range): how many actors were active on exactly n intervals (`value`, PostHog's default) and
-- on n or more (`cumulative_value`, PostHog's cumulative mode). Zeros where none.
{%- set insights = gw_insights('StickinessQuery') %}

with

actors as (

    select * from {{ ref('mart_insight_stickiness_actors') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),

series as (
    {{ gw_insight_series_rows(insights) }}
),

interval_numbers as (

    select interval_numbers.n
    from {{ gw_integer_series(1, "(select coalesce(max(interval_count), 0) from insights)") }}
        as interval_numbers

),

actor_counts as (

    select
        insight_id,
        project_id,
        series_index,
        active_intervals,
        count(*) as actors

    from actors
    group by insight_id, project_id, series_index, active_intervals

),

counted as (

    select
        series.insight_id,
        insights.project_id,
        series.series_index,
        series.series_label,
        series.series_custom_name,
        series.series_event,
        series.actor_type,
        series.group_type_index,
        interval_numbers.n as active_intervals,
        coalesce(actor_counts.actors, 0) as actors

    from series
    inner join insights
        on series.insight_id = insights.insight_id
    inner join interval_numbers
        on insights.interval_count >= interval_numbers.n
    left join actor_counts
        on
            series.insight_id = actor_counts.insight_id
            and insights.project_id = actor_counts.project_id
            and series.series_index = actor_counts.series_index
            and interval_numbers.n = actor_counts.active_intervals

),

final as (

    select
        -- keys
        insight_id,
        project_id,
        cast(series_index as integer) as series_index,
        cast(active_intervals as bigint) as active_intervals,

        -- attributes
        series_label,
        series_custom_name,
        series_event,
        actor_type,
        cast(group_type_index as integer) as group_type_index,

        -- measures
        cast(actors as bigint) as value,  -- noqa: RF04
        cast(sum(actors) over (
            partition by insight_id, project_id, series_index
            order by active_intervals desc
            rows between unbounded preceding and current row
        ) as bigint) as cumulative_value

    from counted

)

select * from final
