"""Properties suite: group properties, their history, display names, creation times and deletions.

The central check recomputes every group's current properties from its ``$groupidentify`` events
with a fold written here, independently of the dbt models (``int_group_property_history`` and
``int_group_properties_current``), and compares it key by key with ``dim_groups.properties``. The
rules are those of docs/groups.md ("Group properties"); the mode is the dbt var
``group_property_mode`` the build used (:class:`~expectations.settings.AuditSettings`).
"""

from __future__ import annotations

import re

import duckdb

from expectations.checks import Check, Suite, expect
from expectations.settings import AuditSettings

PUBLIC_SCHEMA = "marts"


def _fold_sql(mode: str) -> str:
    """CTEs ``identifies``, ``expected``, ``actual`` and ``differences`` (one row per differing key).

    ``expected`` is the fold of each group's updates: updates in event-time order, ties by landing
    order (loaded_at, source_name, source_row) then uuid; within one ``$group_set`` a repeated key
    keeps its last value. ``merge``: each key takes the value of the last update that sent it.
    ``overwrite``: only the last update counts. Events are the de-duplicated events every model
    reads (deletions applied), restricted to types that hold an index.
    """
    only_last_update = "" if mode == "merge" else "and identifies.apply_order = identifies.updates"
    return f"""
        with

        indexed_types as (
            select project_id, group_type from marts.dim_group_types
        ),

        identifies as (
            select
                events.project_id,
                events.identified_group_type as group_type,
                events.identified_group_key as group_key,
                coalesce(events.identified_group_set, '{{}}') as group_set,
                row_number() over (
                    partition by events.project_id, events.identified_group_type, events.identified_group_key
                    order by events.event_at, events.loaded_at, events.source_name, events.source_row,
                        events.event_uuid
                ) as apply_order,
                count(*) over (
                    partition by events.project_id, events.identified_group_type, events.identified_group_key
                ) as updates
            from intermediate.int_events_deduplicated as events
            inner join indexed_types
                on events.project_id = indexed_types.project_id
                and events.identified_group_type = indexed_types.group_type
            where events.event_name = '$groupidentify'
                and coalesce(events.identified_group_key, '') <> ''
        ),

        sent as (
            select
                identifies.project_id,
                identifies.group_type,
                identifies.group_key,
                identifies.apply_order,
                entry.id as entry_position,
                entry.key as property_key,
                cast(entry.value as varchar) as property_value
            from identifies, json_each(identifies.group_set) as entry
            where json_type(identifies.group_set) = 'OBJECT'
                and entry.key is not null
                {only_last_update}
        ),

        expected as (
            select project_id, group_type, group_key, property_key, property_value
            from sent
            qualify row_number() over (
                partition by project_id, group_type, group_key, property_key
                order by apply_order desc, entry_position desc
            ) = 1
        ),

        actual as (
            select
                groups.project_id,
                groups.group_type,
                groups.group_key,
                entry.key as property_key,
                cast(entry.value as varchar) as property_value
            from marts.dim_groups as groups, json_each(groups.properties) as entry
        ),

        differences as (
            select
                coalesce(expected.project_id, actual.project_id) as project_id,
                coalesce(expected.group_type, actual.group_type) as group_type,
                coalesce(expected.group_key, actual.group_key) as group_key,
                coalesce(expected.property_key, actual.property_key) as property_key,
                expected.property_value as expected_value,
                actual.property_value as actual_value
            from expected
            full outer join actual
                on expected.project_id = actual.project_id
                and expected.group_type = actual.group_type
                and expected.group_key = actual.group_key
                and expected.property_key = actual.property_key
            where expected.property_value is distinct from actual.property_value
                or expected.property_key is null
                or actual.property_key is null
        ),

        groups_compared as (
            select project_id, group_type, group_key, true as in_dim_groups
            from marts.dim_groups
            union all
            select distinct identifies.project_id, identifies.group_type, identifies.group_key, false
            from identifies
            anti join marts.dim_groups as groups
                on identifies.project_id = groups.project_id
                and identifies.group_type = groups.group_type
                and identifies.group_key = groups.group_key
        )
    """


def _fold_query(mode: str) -> str:
    return (
        _fold_sql(mode)
        + """
        ,

        differences_by_group as (
            select project_id, group_type, group_key, count(*) as keys_differing
            from differences
            group by project_id, group_type, group_key
        )

        select
            groups_compared.project_id,
            groups_compared.group_type,
            count(*) as groups_compared,
            count(*) filter (where not groups_compared.in_dim_groups) as identified_groups_missing,
            count(differences_by_group.group_key) as groups_differing,
            coalesce(sum(differences_by_group.keys_differing), 0) as keys_differing
        from groups_compared
        left join differences_by_group
            on groups_compared.project_id = differences_by_group.project_id
            and groups_compared.group_type = differences_by_group.group_type
            and groups_compared.group_key = differences_by_group.group_key
        group by groups_compared.project_id, groups_compared.group_type
    """
    )


def _fold_sample(mode: str) -> str:
    return (
        _fold_sql(mode)
        + """
        select * from differences
        order by project_id, group_type, group_key, property_key
        limit 10
    """
    )


_HISTORY_BY_GROUP = """
    with

    ordered as (
        select
            *,
            lead(valid_from) over (
                partition by project_id, group_type, group_key
                order by valid_from, property_version
            ) as next_valid_from
        from marts.dim_group_property_history
    ),

    history as (
        select
            project_id,
            group_type,
            group_key,
            count(*) as versions,
            count(*) filter (where is_current) as current_rows,
            count(*) filter (where valid_to is null) as open_rows,
            count(*) filter (where is_current is distinct from (valid_to is null)) as current_flag_wrong,
            count(*) filter (where valid_to < valid_from) as reversed_intervals,
            count(*) filter (
                where next_valid_from is not null and (valid_to is null or next_valid_from < valid_to)
            ) as overlapping_intervals,
            count(*) filter (where next_valid_from > valid_to) as gaps_between_intervals,
            max(properties) filter (where is_current) as current_properties
        from ordered
        group by project_id, group_type, group_key
    ),

    by_group as (
        select
            coalesce(groups.project_id, history.project_id) as project_id,
            coalesce(groups.group_type, history.group_type) as group_type,
            coalesce(groups.group_key, history.group_key) as group_key,
            groups.group_key is not null as in_dim_groups,
            case when coalesce(groups.is_identified, true) then 1 else 0 end as expected_current_rows,
            coalesce(history.versions, 0) as versions,
            coalesce(history.current_rows, 0) as current_rows,
            coalesce(history.open_rows, 0) as open_rows,
            coalesce(history.current_flag_wrong, 0) as current_flag_wrong,
            coalesce(history.reversed_intervals, 0) as reversed_intervals,
            coalesce(history.overlapping_intervals, 0) as overlapping_intervals,
            coalesce(history.gaps_between_intervals, 0) as gaps_between_intervals,
            history.current_rows = 1 and history.current_properties is distinct from groups.properties
                as current_differs_from_dim_groups
        from marts.dim_groups as groups
        full outer join history
            on groups.project_id = history.project_id
            and groups.group_type = history.group_type
            and groups.group_key = history.group_key
    )
"""


#: The marts that carry a display name (docs/groups.md: the `name` property, else the key).
_NAMED_MARTS = ("dim_groups", "dim_groups_list", "dim_group_property_history")


def _display_name_rows() -> str:
    rule = """coalesce(json_extract_string(properties, '$."name"'), group_key)"""
    return "\n        union all\n".join(
        f"""
        select
            '{PUBLIC_SCHEMA}.{mart}' as mart, project_id, group_type, group_key, properties,
            display_name, {rule} as expected_display_name
        from {PUBLIC_SCHEMA}.{mart}"""
        for mart in _NAMED_MARTS
    )


_FIRST_SIGHTINGS = """
    with

    first_events as (
        select project_id, group_type, group_key, min(event_at) as first_event_at
        from marts.fct_event_groups
        group by project_id, group_type, group_key
    ),

    first_identifies as (
        select
            project_id,
            identified_group_type as group_type,
            identified_group_key as group_key,
            min(event_at) as first_identified_at
        from intermediate.int_events_deduplicated
        where event_name = '$groupidentify' and coalesce(identified_group_key, '') <> ''
        group by project_id, identified_group_type, identified_group_key
    ),

    sightings as (
        select
            groups.project_id,
            groups.group_type,
            groups.group_key,
            groups.created_at,
            first_events.first_event_at,
            least(first_events.first_event_at, first_identifies.first_identified_at) as first_sighting_at
        from marts.dim_groups as groups
        left join first_events
            on groups.project_id = first_events.project_id
            and groups.group_type = first_events.group_type
            and groups.group_key = first_events.group_key
        left join first_identifies
            on groups.project_id = first_identifies.project_id
            and groups.group_type = first_identifies.group_type
            and groups.group_key = first_identifies.group_key
    )
"""


# --- deleted groups: every public mart, whatever marts the build holds ---------------------------

_DELETION_REQUESTS = f"""
    requests as (
        select distinct
            requests.project_id,
            requests.group_type,
            requests.group_key,
            types.group_type_index
        from staging.stg_warehouse__group_deletions as requests
        left join {PUBLIC_SCHEMA}.dim_group_types as types
            on requests.project_id = types.project_id
            and requests.group_type = types.group_type
        where coalesce(requests.group_key, '') <> ''
    )
"""

_GROUP_COLUMN = re.compile(r"^group_([0-4])$")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _trace_condition(column: str, columns: set[str]) -> str:
    """SQL that is true when ``t.<column>`` names the requested group ``r`` (see README, "Audit")."""
    cell = f"t.{_quote(column)}"
    by_index = _GROUP_COLUMN.match(column)
    if by_index:  # fct_events.group_N: the key of the type with index N
        return f"({cell} = r.group_key and r.group_type_index = {by_index.group(1)})"
    if column == "group_key" or column.endswith("_group_key"):
        prefix = column.removesuffix("group_key")
        scope = ""
        if f"{prefix}group_type" in columns:
            scope = f" and t.{_quote(prefix + 'group_type')} = r.group_type"
        elif f"{prefix}group_type_index" in columns:
            scope = f" and t.{_quote(prefix + 'group_type_index')} = r.group_type_index"
        return f"({cell} = r.group_key{scope})"
    if column == "actor_id":  # insight actors: a group actor of the type
        scope = " and t.actor_type = 'group'" if "actor_type" in columns else ""
        if "group_type_index" in columns:
            scope += " and t.group_type_index = r.group_type_index"
        return f"({cell} = r.group_key{scope})"
    # Any other text (JSON properties, $groups, distinct ids): the group as a `$groups` member
    # ("type": "key" or "type": key) or as the distinct id the server SDKs give its identifies.
    member = "'\"' || regexp_escape(r.group_type) || '\"\\s*:\\s*\"?' || regexp_escape(r.group_key) || '\"?\\s*[,}]'"
    return (
        f"(contains({cell}, r.group_key) and (regexp_matches({cell}, {member})"
        f" or {cell} = '$' || r.group_type || '_' || r.group_key))"
    )


def _public_text_columns(connection: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """``{mart: {column: data_type}}`` of every table and view of the public schema."""
    rows = connection.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? order by table_name, ordinal_position",
        [PUBLIC_SCHEMA],
    ).fetchall()
    marts: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        marts.setdefault(table, {})[column] = data_type
    return marts


def _text_columns(columns: dict[str, str]) -> list[str]:
    return [name for name, kind in columns.items() if kind in {"VARCHAR", "JSON"}]


def deleted_group_traces_query(connection: duckdb.DuckDBPyConnection) -> str:
    """One row per public mart: the deletion requests checked and its rows that name a deleted group."""
    parts = []
    for mart, columns in _public_text_columns(connection).items():
        text = _text_columns(columns)
        name = f"{_literal(f'{PUBLIC_SCHEMA}.{mart}')} as mart"
        if not text:
            parts.append(f"select {name}, 0 as text_columns, 0::bigint as rows_naming_a_deleted_group")
            continue
        scope = "t.project_id = r.project_id" if "project_id" in columns else "true"
        condition = " or ".join(_trace_condition(column, set(columns)) for column in text)
        parts.append(
            f"select {name}, {len(text)} as text_columns, count(*) as rows_naming_a_deleted_group "
            f"from {PUBLIC_SCHEMA}.{_quote(mart)} as t inner join requests as r on {scope} where {condition}"
        )
    if not parts:  # no public marts at all: nothing was looked at (the check fails on its row count)
        parts.append(
            "select null::varchar as mart, 0 as text_columns, 0::bigint as rows_naming_a_deleted_group "
            "from requests limit 0"
        )
    body = "\n    union all\n    ".join(parts)
    return f"""
        with {_DELETION_REQUESTS}
        select marts.*, (select count(*) from requests) as deletion_requests
        from ({body}) as marts
    """


def deleted_group_traces_sample(connection: duckdb.DuckDBPyConnection) -> str:
    """Which mart and column still name which deleted group, and how many rows."""
    parts = []
    for mart, columns in _public_text_columns(connection).items():
        scope = "t.project_id = r.project_id" if "project_id" in columns else "true"
        for column in _text_columns(columns):
            condition = _trace_condition(column, set(columns))
            parts.append(
                f"select {_literal(f'{PUBLIC_SCHEMA}.{mart}')} as mart, {_literal(column)} as column_name, "
                "r.project_id, "
                f"r.group_type, r.group_key, count(*) as rows_naming_it "
                f"from {PUBLIC_SCHEMA}.{_quote(mart)} as t inner join requests as r on {scope} "
                f"where {condition} group by all"
            )
    body = "\n    union all\n    ".join(parts) or "select null::varchar as mart from requests limit 0"
    return f"with {_DELETION_REQUESTS} select * from ({body}) as traces order by mart, column_name limit 10"


def properties_suite(settings: AuditSettings) -> Suite:
    """Group properties and their history, display names, creation times and deletions."""
    mode = settings.group_property_mode
    return Suite(
        name="properties",
        description="Group property behaviour (docs/groups.md): folds, history, names, creation, deletion.",
        checks=(
            Check(
                name="current_properties_equal_the_fold",
                description=(
                    "Each group's dim_groups.properties equal an independent fold of its $groupidentify "
                    f"updates under mode {mode!r}, key by key; every identified group is in dim_groups."
                ),
                query=_fold_query(mode),
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    expect("ExpectColumnValuesToBeBetween", column="groups_compared", min_value=1),
                    expect(
                        "ExpectColumnValuesToBeBetween", column="groups_differing", min_value=0, max_value=0
                    ),
                    expect(
                        "ExpectColumnValuesToBeBetween", column="keys_differing", min_value=0, max_value=0
                    ),
                    expect(
                        "ExpectColumnValuesToBeBetween",
                        column="identified_groups_missing",
                        min_value=0,
                        max_value=0,
                    ),
                ),
                sample_query=_fold_sample(mode),
            ),
            Check(
                name="property_history_intervals",
                description=(
                    "dim_group_property_history: per group, intervals never overlap, leave no gap and "
                    "never run backwards; exactly one current (open) row per identified group, none "
                    "for the others; the current row equals dim_groups.properties."
                ),
                query=_HISTORY_BY_GROUP
                + """
                    select
                        project_id,
                        group_type,
                        count(*) as groups_checked,
                        sum(versions) as versions,
                        count(*) filter (where not in_dim_groups) as history_without_group,
                        count(*) filter (where current_rows <> expected_current_rows) as wrong_current_rows,
                        count(*) filter (where open_rows <> expected_current_rows) as wrong_open_rows,
                        sum(current_flag_wrong) as current_flag_wrong,
                        sum(reversed_intervals) as reversed_intervals,
                        sum(overlapping_intervals) as overlapping_intervals,
                        sum(gaps_between_intervals) as gaps_between_intervals,
                        count(*) filter (where current_differs_from_dim_groups) as current_differs_from_dim_groups
                    from by_group
                    group by project_id, group_type
                """,
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    *(
                        expect("ExpectColumnValuesToBeBetween", column=column, min_value=0, max_value=0)
                        for column in (
                            "history_without_group",
                            "wrong_current_rows",
                            "wrong_open_rows",
                            "current_flag_wrong",
                            "reversed_intervals",
                            "overlapping_intervals",
                            "gaps_between_intervals",
                            "current_differs_from_dim_groups",
                        )
                    ),
                ),
                sample_query=_HISTORY_BY_GROUP
                + """
                    select * from by_group
                    where not in_dim_groups or current_rows <> expected_current_rows
                        or open_rows <> expected_current_rows or current_flag_wrong > 0
                        or reversed_intervals > 0 or overlapping_intervals > 0 or gaps_between_intervals > 0
                        or current_differs_from_dim_groups
                    limit 10
                """,
            ),
            Check(
                name="display_names",
                description=(
                    "display_name is the `name` property, else the group key, in dim_groups, "
                    "dim_groups_list and every version of dim_group_property_history."
                ),
                query=f"""
                    with names as ({_display_name_rows()})
                    select
                        marts.mart,
                        count(names.mart) as rows_checked,
                        count(*) filter (where names.display_name is distinct from names.expected_display_name)
                            as wrong_display_names
                    from (values {", ".join(f"('{PUBLIC_SCHEMA}.{m}')" for m in _NAMED_MARTS)}) as marts (mart)
                    left join names on marts.mart = names.mart
                    group by marts.mart
                """,
                expectations=(
                    expect("ExpectTableRowCountToEqual", value=len(_NAMED_MARTS)),
                    expect("ExpectColumnSumToBeBetween", column="rows_checked", min_value=1),
                    expect(
                        "ExpectColumnValuesToBeBetween",
                        column="wrong_display_names",
                        min_value=0,
                        max_value=0,
                    ),
                ),
                sample_query=f"""
                    with names as ({_display_name_rows()})
                    select * from names
                    where display_name is distinct from expected_display_name
                    limit 10
                """,
            ),
            Check(
                name="created_at_is_first_sighting",
                description=(
                    "created_at is never after the group's first event, and equals its first sighting "
                    "(the first event carrying it or its first $groupidentify)."
                ),
                query=_FIRST_SIGHTINGS
                + """
                    select
                        project_id,
                        group_type,
                        count(*) as groups_checked,
                        count(*) filter (where created_at is null) as without_created_at,
                        count(*) filter (where created_at > first_event_at) as created_after_first_event,
                        count(*) filter (where created_at is distinct from first_sighting_at)
                            as created_not_at_first_sighting
                    from sightings
                    group by project_id, group_type
                """,
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    *(
                        expect("ExpectColumnValuesToBeBetween", column=column, min_value=0, max_value=0)
                        for column in (
                            "without_created_at",
                            "created_after_first_event",
                            "created_not_at_first_sighting",
                        )
                    ),
                ),
                sample_query=_FIRST_SIGHTINGS
                + """
                    select * from sightings
                    where created_at is null or created_at > first_event_at
                        or created_at is distinct from first_sighting_at
                    limit 10
                """,
            ),
            Check(
                name="deleted_groups_leave_no_trace",
                description=(
                    "No table or view of the public schema names a group of the deletion requests "
                    "(deletions/group_deletions.jsonl): not as a key of its type, not as a group actor, "
                    "not as a $groups member or its identify distinct id inside any text or JSON."
                ),
                query=deleted_group_traces_query,
                expectations=(
                    expect("ExpectTableRowCountToBeBetween", min_value=1),
                    expect(
                        "ExpectColumnValuesToBeBetween",
                        column="rows_naming_a_deleted_group",
                        min_value=0,
                        max_value=0,
                    ),
                ),
                sample_query=deleted_group_traces_sample,
            ),
        ),
    )
