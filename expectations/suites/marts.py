"""Marts suite: what the published marts promise BI tools (continuity, bounds, freshness)."""

from __future__ import annotations

from expectations.checks import Check, Suite, expect
from expectations.settings import AuditSettings

_FUNNEL_LINES = """
    with lines as (
        select
            insight_id,
            project_id,
            breakdown_value,
            step_number,
            actor_count,
            lag(actor_count) over (
                partition by insight_id, project_id, breakdown_value
                order by step_number
            ) as previous_actor_count,
            conversion_rate_from_previous,
            conversion_rate_from_first
        from marts.mart_insight_funnel_steps
    )
"""

#: Trend points of day-interval insights without a breakdown, with the filters that decide which
#: events count, so that a weekly/monthly active series meets the daily series of the same events.
_ACTIVE_PAIRS = """
    with

    day_insights as (
        select
            insight_id,
            project_id,
            definition,
            nullif(cast(json_extract(definition, '$.properties') as varchar), 'null') as filters,
            nullif(cast(json_extract(definition, '$.group_properties') as varchar), 'null') as group_filters
        from marts.mart_insights
        where insight_kind = 'TrendsQuery' and interval_unit = 'day'
    ),

    points as (
        select
            trends.insight_id,
            trends.project_id,
            trends.series_index,
            trends.math,
            trends.actor_type,
            trends.group_type_index,
            trends.series_event,
            trends.interval_start,
            trends.value,
            day_insights.filters,
            day_insights.group_filters,
            nullif(
                cast(
                    json_extract(day_insights.definition, '$.series[' || trends.series_index || '].properties')
                    as varchar
                ),
                'null'
            ) as series_filters
        from marts.mart_insight_trends as trends
        inner join day_insights
            on trends.insight_id = day_insights.insight_id
            and trends.project_id = day_insights.project_id
        where trends.breakdown_value is null
    ),

    windowed as (
        select * from points where math in ('weekly_active', 'monthly_active')
    ),

    daily as (
        select * from points where math in ('dau', 'unique_group')
    ),

    pairs as (
        select
            windowed.insight_id,
            windowed.project_id,
            windowed.series_index,
            windowed.math,
            windowed.interval_start,
            windowed.value as active_value,
            daily.insight_id as daily_source,
            daily.value as daily_value
        from windowed
        inner join daily
            on windowed.project_id = daily.project_id
            and windowed.actor_type = daily.actor_type
            and windowed.group_type_index is not distinct from daily.group_type_index
            and windowed.series_event is not distinct from daily.series_event
            and windowed.filters is not distinct from daily.filters
            and windowed.group_filters is not distinct from daily.group_filters
            and windowed.series_filters is not distinct from daily.series_filters
            and windowed.interval_start = daily.interval_start
        union all
        -- a series over all events of a group type without filters also meets the daily mart
        select
            windowed.insight_id,
            windowed.project_id,
            windowed.series_index,
            windowed.math,
            windowed.interval_start,
            windowed.value as active_value,
            'fct_daily_active_groups' as daily_source,
            daily_groups.active_groups as daily_value
        from windowed
        inner join marts.fct_daily_active_groups as daily_groups
            on windowed.project_id = daily_groups.project_id
            and windowed.group_type_index = daily_groups.group_type_index
            and cast(windowed.interval_start as date) = daily_groups.activity_date
        where windowed.actor_type = 'group'
            and windowed.series_event is null
            and windowed.filters is null
            and windowed.group_filters is null
            and windowed.series_filters is null
    )
"""


def marts_suite(settings: AuditSettings) -> Suite:
    """Date spines without gaps, active counts within bounds, funnels that never grow, fresh data."""
    return Suite(
        name="marts",
        description="Published marts are continuous, bounded and fresh.",
        checks=(
            Check(
                name="daily_active_groups_spine",
                description="Each (project, group type) has one row per day from its first to last day.",
                query="""
                    select
                        project_id,
                        group_type_index,
                        count(*) as days_present,
                        count(distinct activity_date) as distinct_days,
                        date_diff('day', min(activity_date), max(activity_date)) + 1 as days_spanned
                    from marts.fct_daily_active_groups
                    group by project_id, group_type_index
                """,
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    expect(
                        "ExpectColumnPairValuesToBeEqual", column_A="days_present", column_B="days_spanned"
                    ),
                    expect(
                        "ExpectColumnPairValuesToBeEqual", column_A="distinct_days", column_B="days_spanned"
                    ),
                ),
            ),
            Check(
                name="active_groups_within_known_groups",
                description="A day's active groups never exceed the groups known for that type.",
                query="""
                    with known as (
                        select project_id, group_type_index, count(*) as known_groups
                        from marts.dim_groups
                        group by project_id, group_type_index
                    )
                    select
                        daily.project_id,
                        daily.group_type_index,
                        daily.activity_date,
                        daily.active_groups,
                        coalesce(known.known_groups, 0) as known_groups,
                        coalesce(known.known_groups, 0) - daily.active_groups as headroom
                    from marts.fct_daily_active_groups as daily
                    left join known
                        on daily.project_id = known.project_id
                        and daily.group_type_index = known.group_type_index
                """,
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    expect("ExpectColumnValuesToBeBetween", column="active_groups", min_value=0),
                    expect("ExpectColumnValuesToBeBetween", column="headroom", min_value=0),
                ),
            ),
            Check(
                name="funnel_step_counts_never_increase",
                description="Along a funnel's steps the actors counted never increase (each line of each project).",
                query=_FUNNEL_LINES
                + """
                    select
                        insight_id,
                        project_id,
                        count(distinct breakdown_value) + count(distinct case when breakdown_value is null then 1 end)
                            as lines,
                        count(*) as steps_checked,
                        count(*) filter (where actor_count > previous_actor_count) as steps_increasing,
                        count(*) filter (where actor_count < 0) as negative_counts
                    from lines
                    group by insight_id, project_id
                """,
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    expect("ExpectColumnValuesToBeBetween", column="steps_checked", min_value=1),
                    expect(
                        "ExpectColumnValuesToBeBetween", column="steps_increasing", min_value=0, max_value=0
                    ),
                    expect(
                        "ExpectColumnValuesToBeBetween", column="negative_counts", min_value=0, max_value=0
                    ),
                ),
                sample_query=_FUNNEL_LINES
                + """
                    select * from lines
                    where actor_count > previous_actor_count or actor_count < 0
                    limit 10
                """,
            ),
            Check(
                name="funnel_conversion_rates_within_0_and_1",
                description=(
                    "Funnel conversion rates (from the previous and from the first step) lie in [0, 1]. "
                    "A funnel nobody entered has no rates (null) and passes; an empty mart fails."
                ),
                query="""
                    select
                        insight_id,
                        project_id,
                        count(*) as steps_checked,
                        count(conversion_rate_from_previous) + count(conversion_rate_from_first) as rates_checked,
                        count(*) filter (where conversion_rate_from_previous not between 0 and 1)
                            + count(*) filter (where conversion_rate_from_first not between 0 and 1)
                            as rates_out_of_bounds
                    from marts.mart_insight_funnel_steps
                    group by insight_id, project_id
                """,
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    expect(
                        "ExpectColumnValuesToBeBetween",
                        column="rates_out_of_bounds",
                        min_value=0,
                        max_value=0,
                    ),
                ),
                sample_query="""
                    select insight_id, project_id, breakdown_value, step_number, actor_count,
                        conversion_rate_from_previous, conversion_rate_from_first
                    from marts.mart_insight_funnel_steps
                    where conversion_rate_from_previous not between 0 and 1
                        or conversion_rate_from_first not between 0 and 1
                    limit 10
                """,
            ),
            Check(
                name="weekly_and_monthly_actives_cover_daily_actives",
                description=(
                    "A weekly or monthly active trend point is never below the daily actives of the same "
                    "day: the daily series (dau / unique_group) of another insight counting the same "
                    "events with the same filters, and fct_daily_active_groups for unfiltered "
                    "all-event group series."
                ),
                query=_ACTIVE_PAIRS
                + """
                    select
                        insight_id,
                        project_id,
                        series_index,
                        daily_source,
                        count(*) as days_compared,
                        count(*) filter (where active_value < daily_value) as days_below_daily
                    from pairs
                    group by insight_id, project_id, series_index, daily_source
                """,
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    expect(
                        "ExpectColumnValuesToBeBetween", column="days_below_daily", min_value=0, max_value=0
                    ),
                ),
                sample_query=_ACTIVE_PAIRS
                + """
                    select * from pairs where active_value < daily_value
                    order by insight_id, project_id, interval_start
                    limit 10
                """,
            ),
            Check(
                name="landed_data_freshness",
                description=f"The newest landed event is at most {settings.max_landed_age_hours:g} h old.",
                query="""
                    select
                        count(*) as events,
                        max(loaded_at) as newest_loaded_at,
                        date_diff(
                            'second', max(loaded_at), cast(current_timestamp at time zone 'UTC' as timestamp)
                        ) / 3600.0 as age_hours
                    from marts.fct_events
                """,
                expectations=(
                    expect("ExpectColumnValuesToBeBetween", column="events", min_value=1),
                    expect(
                        "ExpectColumnValuesToBeBetween",
                        column="age_hours",
                        max_value=settings.max_landed_age_hours,
                    ),
                ),
                sample_query="""
                    select
                        project_id,
                        max(loaded_at) as newest_loaded_at,
                        max(source_name) filter (where loaded_at = (select max(loaded_at) from marts.fct_events))
                            as newest_source_name
                    from marts.fct_events
                    group by project_id
                """,
            ),
        ),
    )
