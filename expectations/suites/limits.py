"""Limits suite: the five-type limit per project and what attaching groups to events may produce."""

from __future__ import annotations

from expectations.checks import Check, Suite, expect
from expectations.settings import AuditSettings

_BRIDGE_JOIN = """
    from marts.fct_event_groups as bridge
    left join marts.dim_group_types as types
        on bridge.project_id = types.project_id
        and bridge.group_type_index = types.group_type_index
        and bridge.group_type = types.group_type
"""


def limits_suite(settings: AuditSettings) -> Suite:
    """At most five group types per project, indices 0–4, one key per type per event."""
    return Suite(
        name="limits",
        description="Group type limits and group attachment.",
        checks=(
            Check(
                name="group_types_per_project",
                description="Each project holds between one and five group types.",
                query="""
                    select project_id, count(*) as group_types
                    from marts.dim_group_types
                    group by project_id
                """,
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    expect("ExpectColumnValuesToBeBetween", column="group_types", min_value=1, max_value=5),
                ),
                sample_query="""
                    select project_id, count(*) as group_types, list(group_type) as group_type_names
                    from marts.dim_group_types
                    group by project_id
                    having count(*) > 5
                """,
            ),
            Check(
                name="group_type_indexes",
                description="Indices are 0–4 and unique per project; a type holds one index.",
                query="select project_id, group_type, group_type_index from marts.dim_group_types",
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    expect("ExpectColumnValuesToNotBeNull", column="group_type_index"),
                    expect(
                        "ExpectColumnValuesToBeBetween", column="group_type_index", min_value=0, max_value=4
                    ),
                    expect("ExpectCompoundColumnsToBeUnique", column_list=["project_id", "group_type_index"]),
                    expect("ExpectCompoundColumnsToBeUnique", column_list=["project_id", "group_type"]),
                ),
                sample_query="""
                    select * from marts.dim_group_types
                    where group_type_index not between 0 and 4
                        or (project_id, group_type_index) in (
                            select (project_id, group_type_index) from marts.dim_group_types
                            group by all having count(*) > 1
                        )
                    limit 10
                """,
            ),
            Check(
                name="event_group_keys",
                description=(
                    "No event is attached to an empty key or to a type without an index, and no "
                    "event carries two keys of one type."
                ),
                query=f"""
                    select
                        count(*) as rows_checked,
                        count(*) filter (where bridge.group_key is null or bridge.group_key = '') as empty_keys,
                        count(*) filter (where types.group_type_index is null) as unindexed_types,
                        count(*) - count(distinct (bridge.project_id, bridge.event_uuid, bridge.group_type_index))
                            as second_keys_of_a_type
                    {_BRIDGE_JOIN}
                """,
                expectations=(
                    expect("ExpectColumnValuesToBeBetween", column="rows_checked", min_value=1),
                    expect("ExpectColumnValuesToBeBetween", column="empty_keys", min_value=0, max_value=0),
                    expect(
                        "ExpectColumnValuesToBeBetween", column="unindexed_types", min_value=0, max_value=0
                    ),
                    expect(
                        "ExpectColumnValuesToBeBetween",
                        column="second_keys_of_a_type",
                        min_value=0,
                        max_value=0,
                    ),
                ),
                sample_query=f"""
                    select bridge.*
                    {_BRIDGE_JOIN}
                    where bridge.group_key is null or bridge.group_key = '' or types.group_type_index is null
                        or (bridge.project_id, bridge.event_uuid, bridge.group_type_index) in (
                            select (project_id, event_uuid, group_type_index) from marts.fct_event_groups
                            group by all having count(*) > 1
                        )
                    limit 10
                """,
            ),
            Check(
                name="group_type_limit_violations_warn",
                description="Events on group types beyond the limit (reported, not blocking).",
                query="""
                    select count(*) as violating_types, coalesce(sum(events_affected), 0) as events_affected
                    from marts.fct_group_type_limit_violations
                """,
                expectations=(
                    expect(
                        "ExpectColumnValuesToBeBetween",
                        column="events_affected",
                        min_value=0,
                        max_value=settings.limit_violation_warn_events,
                    ),
                ),
                sample_query="select * from marts.fct_group_type_limit_violations limit 10",
                level="warn",
            ),
            Check(
                name="group_type_limit_violations_fail",
                description="Events on group types beyond the limit stay within the fail tolerance.",
                query="""
                    select count(*) as violating_types, coalesce(sum(events_affected), 0) as events_affected
                    from marts.fct_group_type_limit_violations
                """,
                expectations=(
                    expect(
                        "ExpectColumnValuesToBeBetween",
                        column="events_affected",
                        min_value=0,
                        max_value=settings.limit_violation_fail_events,
                    ),
                ),
                sample_query="select * from marts.fct_group_type_limit_violations limit 10",
            ),
        ),
    )
