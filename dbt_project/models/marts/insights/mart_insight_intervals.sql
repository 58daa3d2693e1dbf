-- One row per insight, project and interval of the insight's range: the calendar that trends,
-- stickiness and lifecycle points and retention cohorts are charted on, in the project's time
-- zone. `interval_index` 0 is the interval holding date_from; every interval is present, so
-- BI tools (and the other insight marts) get missing intervals as zeros by joining to it.
with

insights as (

    select * from {{ ref('mart_insights') }}

),

interval_numbers as (

    select interval_numbers.n
    from {{ gw_integer_series(0, "(select coalesce(max(interval_count), 0) - 1 from insights)") }}
        as interval_numbers

),

spine as (

    select
        insights.insight_id,
        insights.project_id,
        insights.interval_unit,
        insights.project_timezone,
        interval_numbers.n as interval_index,
        insights.first_interval_index + interval_numbers.n as period_index

    from insights
    inner join interval_numbers
        on insights.interval_count > interval_numbers.n

),

final as (

    select
        -- keys
        insight_id,
        project_id,
        interval_index,

        -- attributes
        period_index,
        interval_unit,

        -- timestamps: local wall clock (what charts label) and UTC
        {{ gw_insight_period_start_by_unit('interval_unit', 'period_index', 'project_timezone') }} as interval_start,
        {{ gw_insight_period_start_utc_by_unit('interval_unit', 'period_index', 'project_timezone') }}
            as interval_start_utc,
        {{ gw_insight_period_start_utc_by_unit('interval_unit', 'period_index + 1', 'project_timezone') }}
            as interval_end_utc

    from spine

)

select * from final
