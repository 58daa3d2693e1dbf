"""Marts suite: what the published marts promise BI tools (continuity, bounds, freshness)."""

from __future__ import annotations

from expectations.checks import Check, Suite, expect
from expectations.settings import AuditSettings


def marts_suite(settings: AuditSettings) -> Suite:
    """Date spines without gaps, active counts within the groups known, fresh landed data."""
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
            ),
        ),
    )
