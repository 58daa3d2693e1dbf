-- One row per trends insight, project, series, breakdown value and interval: the point PostHog's
-- trends chart shows (`value`), every interval of the range present (zeros where nothing
-- happened). A breakdown keeps its top `breakdown_limit` values and sums the rest into "Other"
-- ('$$_posthog_breakdown_other_$$'), as PostHog does. The actors behind each point are in
-- mart_insight_trend_actors, which this mart aggregates.
{%- set insights = gw_insights('TrendsQuery') %}

with

actors as (

    select * from {{ ref('mart_insight_trend_actors') }}

),

intervals as (

    select * from {{ ref('mart_insight_intervals') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),

series as (
    {{ gw_insight_series_rows(insights) }}
),

property_values as (

    -- the value of each point for one breakdown property value, by the series' math
    select
        insight_id,
        project_id,
        series_index,
        breakdown_value,
        breakdown_property_value,
        interval_index,
        case
            when math = 'total' then sum(event_count)
            else count(distinct actor_id)
        end as point_value

    from actors
    group by
        insight_id,
        project_id,
        series_index,
        breakdown_value,
        breakdown_property_value,
        interval_index,
        math

),

point_values as (

    -- "Other" sums the values of the property values it holds
    select
        insight_id,
        project_id,
        series_index,
        breakdown_value,
        interval_index,
        sum(point_value) as point_value

    from property_values
    group by insight_id, project_id, series_index, breakdown_value, interval_index

),

lines as (

    select distinct
        insight_id,
        project_id,
        series_index,
        breakdown_value
    from point_values

    union

    -- without a breakdown every series has a line, even when nothing happened
    select
        series.insight_id,
        insights.project_id,
        series.series_index,
        cast(null as {{ dbt.type_string() }}) as breakdown_value
    from series
    inner join insights
        on series.insight_id = insights.insight_id
    where not series.has_breakdown

),

final as (

    select
        -- keys
        lines.insight_id,
        lines.project_id,
        cast(lines.series_index as integer) as series_index,
        lines.breakdown_value,
        intervals.interval_index,

        -- attributes
        series.series_label,
        series.series_custom_name,
        series.series_event,
        series.math,
        series.actor_type,
        series.group_type_index,
        intervals.interval_start,
        intervals.interval_start_utc,

        -- measures
        cast(coalesce(point_values.point_value, 0) as bigint) as value  -- noqa: RF04

    from lines
    inner join series
        on
            lines.insight_id = series.insight_id
            and lines.series_index = series.series_index
    inner join intervals
        on
            lines.insight_id = intervals.insight_id
            and lines.project_id = intervals.project_id
    left join point_values
        on
            lines.insight_id = point_values.insight_id
            and lines.project_id = point_values.project_id
            and lines.series_index = point_values.series_index
            and coalesce(lines.breakdown_value, '') = coalesce(point_values.breakdown_value, '')
            and intervals.interval_index = point_values.interval_index

)

select * from final
