-- One row per lifecycle insight, project, interval and status (new, returning, resurrecting,
-- dormant): how many actors had that status, dormant counted negative as PostHog charts it.
-- Every interval and status is present (zeros where none).
with

actors as (

    select * from {{ ref('mart_insight_lifecycle_actors') }}

),

intervals as (

    select * from {{ ref('mart_insight_intervals') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),

statuses as (

    select
        'new' as status,
        1 as status_order
    union all
    select
        'returning' as status,
        2 as status_order
    union all
    select
        'resurrecting' as status,
        3 as status_order
    union all
    select
        'dormant' as status,
        4 as status_order

),

status_counts as (

    select
        insight_id,
        project_id,
        interval_index,
        status,
        count(distinct actor_id) as actors

    from actors
    group by insight_id, project_id, interval_index, status

),

final as (

    select
        -- keys
        intervals.insight_id,
        intervals.project_id,
        intervals.interval_index,
        statuses.status,

        -- attributes
        statuses.status_order,
        intervals.interval_start,
        intervals.interval_start_utc,

        -- measures
        cast(
            case
                when statuses.status = 'dormant' then -coalesce(status_counts.actors, 0)
                else coalesce(status_counts.actors, 0)
            end as bigint
        ) as value  -- noqa: RF04

    from intervals
    inner join insights
        on
            intervals.insight_id = insights.insight_id
            and intervals.project_id = insights.project_id
    cross join statuses
    left join status_counts
        on
            intervals.insight_id = status_counts.insight_id
            and intervals.project_id = status_counts.project_id
            and intervals.interval_index = status_counts.interval_index
            and statuses.status = status_counts.status
    where insights.insight_kind = 'LifecycleQuery'

)

select * from final
