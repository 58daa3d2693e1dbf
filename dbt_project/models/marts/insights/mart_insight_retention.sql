-- One row per retention insight, project, cohort and period: how many actors of the cohort (the
-- interval they did the target event in) did the returning event `period` intervals later
-- (`value`; period 0 is the cohort size). The full cohort × period table is present, zeros
-- included, as PostHog returns it.
with

actors as (

    select * from {{ ref('mart_insight_retention_actors') }}

),

intervals as (

    select * from {{ ref('mart_insight_intervals') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),

periods as (

    select periods.n as period
    from {{ gw_integer_series(0, "(select coalesce(max(lookahead_intervals), 0) - 1 from insights)") }} as periods

),

cell_counts as (

    select
        insight_id,
        project_id,
        cohort_index,
        period,
        count(distinct actor_id) as actors

    from actors
    group by insight_id, project_id, cohort_index, period

),

cells as (

    select
        intervals.insight_id,
        intervals.project_id,
        intervals.interval_index as cohort_index,
        periods.period,
        intervals.interval_start as cohort_start,
        intervals.interval_start_utc as cohort_start_utc,
        coalesce(cell_counts.actors, 0) as actors

    from intervals
    inner join insights
        on
            intervals.insight_id = insights.insight_id
            and intervals.project_id = insights.project_id
    inner join periods
        on insights.lookahead_intervals > periods.period
    left join cell_counts
        on
            intervals.insight_id = cell_counts.insight_id
            and intervals.project_id = cell_counts.project_id
            and intervals.interval_index = cell_counts.cohort_index
            and periods.period = cell_counts.period
    where insights.insight_kind = 'RetentionQuery'

),

final as (

    select
        -- keys
        insight_id,
        project_id,
        cast(cohort_index as bigint) as cohort_index,
        cast(period as bigint) as period,

        -- attributes
        cohort_start,
        cohort_start_utc,

        -- measures
        cast(actors as bigint) as value,  -- noqa: RF04
        cast(max(case when period = 0 then actors end) over (
            partition by insight_id, project_id, cohort_index
        ) as bigint) as cohort_size

    from cells

)

select * from final
