"""Limits suite: the group type limit (five per project) and what attaching groups may produce."""

from __future__ import annotations

from typing import Any

from expectations.checks import Check, Suite


def _types_per_project() -> list[Any]:
    import great_expectations as gx

    return [
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        gx.expectations.ExpectColumnValuesToBeBetween(column="group_types", min_value=1, max_value=5),
    ]


def _type_indexes() -> list[Any]:
    import great_expectations as gx

    return [
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="group_type_index"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="group_type_index", min_value=0, max_value=4),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["project_id", "group_type_index"]),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["project_id", "group_type"]),
    ]


def _group_keys() -> list[Any]:
    import great_expectations as gx

    return [
        gx.expectations.ExpectColumnValuesToBeBetween(column="rows_checked", min_value=1),
        gx.expectations.ExpectColumnValuesToBeBetween(column="empty_keys", min_value=0, max_value=0),
        gx.expectations.ExpectColumnValuesToBeBetween(column="unindexed_types", min_value=0, max_value=0),
    ]


def _limit_violations() -> list[Any]:
    import great_expectations as gx

    return [gx.expectations.ExpectTableRowCountToEqual(value=0)]


LIMITS = Suite(
    name="limits",
    description="At most five group types per project, indices 0–4, no empty or unindexed group keys.",
    checks=(
        Check(
            name="group_types_per_project",
            description="Each project holds between one and five group types.",
            query="""
                select project_id, count(*) as group_types
                from marts.dim_group_types
                group by project_id
            """,
            expectations=_types_per_project,
            sample_query="""
                select project_id, count(*) as group_types
                from marts.dim_group_types
                group by project_id
                having count(*) > 5
            """,
        ),
        Check(
            name="group_type_indexes",
            description="Indices are 0–4 and unique per project; a type holds one index.",
            query="select project_id, group_type, group_type_index from marts.dim_group_types",
            expectations=_type_indexes,
        ),
        Check(
            name="event_group_keys",
            description="No event is attached to an empty key or to a type without an index.",
            query="""
                select
                    count(*) as rows_checked,
                    count(*) filter (where bridge.group_key is null or bridge.group_key = '') as empty_keys,
                    count(*) filter (where types.group_type_index is null) as unindexed_types
                from marts.fct_event_groups as bridge
                left join marts.dim_group_types as types
                    on bridge.project_id = types.project_id
                    and bridge.group_type_index = types.group_type_index
                    and bridge.group_type = types.group_type
            """,
            expectations=_group_keys,
            sample_query="""
                select bridge.*
                from marts.fct_event_groups as bridge
                left join marts.dim_group_types as types
                    on bridge.project_id = types.project_id
                    and bridge.group_type_index = types.group_type_index
                    and bridge.group_type = types.group_type
                where bridge.group_key is null or bridge.group_key = '' or types.group_type_index is null
                limit 5
            """,
        ),
        Check(
            name="group_type_limit_violations",
            description="Group types that arrived after a project's fifth (their groups were not attached).",
            query="select * from marts.fct_group_type_limit_violations",
            expectations=_limit_violations,
            sample_query="select * from marts.fct_group_type_limit_violations limit 5",
            level="warn",
        ),
    ),
)
