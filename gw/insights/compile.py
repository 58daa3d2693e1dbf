"""Compile insight files into the one macro file dbt reads.

dbt cannot read arbitrary files, so every insight file (``dbt_project/insights/<id>.yml``, or the
folder named by ``GW_INSIGHTS_DIR``) is validated against :mod:`gw.insights.schema`, normalised into
a small JSON document the SQL macros walk, and written — sorted by id, byte-for-byte deterministic —
into ``dbt_project/macros/generated/gw_insight_definitions.sql``::

    {% macro gw_insight_definitions() %}{{ return(fromjson('[…]')) }}{% endmacro %}

The generated file is committed, so a plain ``dbt build`` on a fresh clone works;
:func:`gw.dbt.ensure_manifest` and :func:`gw.dbt.run_dbt` regenerate it before dbt runs.

Run ``python -m gw.insights`` to regenerate by hand, ``--check`` to fail when it is stale.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from gw.config import REPO_ROOT
from gw.insights.schema import (
    ABSOLUTE_DATE,
    RELATIVE_DATE,
    BreakdownFilter,
    DateRange,
    EventPropertyFilter,
    EventsNode,
    FunnelsQuery,
    GroupPropertyFilter,
    InsightQuery,
    InsightVizNode,
    LifecycleQuery,
    PersonPropertyFilter,
    PropertyGroupFilter,
    PropertyGroupFilterValue,
    RetentionEntity,
    RetentionQuery,
    StickinessQuery,
    TrendsQuery,
)

__all__ = [
    "DEFAULT_INSIGHTS_DIR",
    "GENERATED_MACRO",
    "INSIGHTS_DIR_ENV",
    "Insight",
    "InsightError",
    "compile_definitions",
    "insights_dir",
    "load_insight",
    "render_macro",
    "write_macro",
]

DEFAULT_INSIGHTS_DIR = REPO_ROOT / "dbt_project" / "insights"
GENERATED_MACRO = REPO_ROOT / "dbt_project" / "macros" / "generated" / "gw_insight_definitions.sql"
INSIGHTS_DIR_ENV = "GW_INSIGHTS_DIR"
INSIGHT_SUFFIXES = (".yml", ".yaml", ".json")
INSIGHT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
#: PostHog's defaults (posthog/hogql_queries): breakdown values shown before "Other", retention length.
DEFAULT_BREAKDOWN_LIMIT = 25
DEFAULT_RETENTION_INTERVALS = 7
DEFAULT_RETENTION_EVENT = "$pageview"
GROUP_KEY_PROPERTY = re.compile(r"^\$group_([0-4])$")
#: Keys of an insight file outside the PostHog query (documented extension): a title, a note and
#: how group properties are read (``current``, PostHog's way, or ``as_of_event``).
FILE_METADATA_KEYS = ("name", "description", "group_properties")
GROUP_PROPERTY_MODES = ("current", "as_of_event")

_QUERY = TypeAdapter(InsightQuery)


class InsightError(ValueError):
    """An insight file is invalid; the message names the file and the field path."""


@dataclass(frozen=True)
class Insight:
    """One validated insight file."""

    insight_id: str
    path: Path
    query: TrendsQuery | StickinessQuery | RetentionQuery | LifecycleQuery | FunnelsQuery
    name: str | None = None
    description: str | None = None
    group_properties: str | None = None


def insights_dir() -> Path:
    """The folder of insight files: ``$GW_INSIGHTS_DIR`` when set, else ``dbt_project/insights``."""
    configured = os.environ.get(INSIGHTS_DIR_ENV)
    return Path(configured).expanduser().resolve() if configured else DEFAULT_INSIGHTS_DIR


def insight_files(directory: Path) -> list[Path]:
    """The insight files of ``directory`` (not recursive), sorted by name."""
    if not directory.is_dir():
        raise InsightError(
            f"{directory}: the insights folder does not exist (set {INSIGHTS_DIR_ENV} or create it)"
        )
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in INSIGHT_SUFFIXES)


# ------------------------------------------------------------------------------------------------
# Loading and validation
# ------------------------------------------------------------------------------------------------
def load_insight(path: Path) -> Insight:
    """Read and validate one insight file; errors name the file and the field path."""
    insight_id = path.stem
    if not INSIGHT_ID.match(insight_id):
        raise InsightError(
            f"{path}: the file name is the insight id and may use letters, digits, '_' and '-' only"
        )
    try:
        document = (
            json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
        )
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InsightError(f"{path}: not valid YAML/JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InsightError(f"{path}: expected a mapping with a 'kind' (a PostHog query or InsightVizNode)")
    document = dict(document)
    metadata = {key: document.pop(key) for key in FILE_METADATA_KEYS if key in document}
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise InsightError(f"{path}: {key}: expected text")
    if metadata.get("group_properties", "current") not in GROUP_PROPERTY_MODES:
        raise InsightError(
            f"{path}: group_properties: expected one of {', '.join(GROUP_PROPERTY_MODES)}, "
            f"got {metadata['group_properties']!r}"
        )
    try:
        if document.get("kind") == "InsightVizNode":
            query = InsightVizNode.model_validate(document).source
        else:
            query = _QUERY.validate_python(document)
    except ValidationError as exc:
        raise InsightError(_describe(path, exc, document)) from exc
    return Insight(
        insight_id=insight_id,
        path=path,
        query=query,
        name=metadata.get("name"),
        description=metadata.get("description"),
        group_properties=metadata.get("group_properties"),
    )


def _describe(path: Path, error: ValidationError, document: dict[str, Any]) -> str:
    """One line per problem: ``<file>: <field.path>: <message>``, union branch tags left out."""
    lines = []
    for problem in error.errors():
        location = _field_path(problem["loc"], document)
        message = problem["msg"]
        if problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
            tag = str(problem.get("ctx", {}).get("discriminator", "")).strip("'")
            location = ".".join(part for part in (location, tag) if part)
            if problem["type"] == "union_tag_invalid":
                message = f"unsupported value {problem['ctx'].get('tag')!r} (supported: {problem['ctx'].get('expected_tags')})"
        elif problem["type"] == "extra_forbidden":
            message = "unsupported field (not in the documented subset; see README, 'Insights')"
        elif problem["type"] == "literal_error" and problem.get("input") is not None:
            message = f"unsupported value {problem['input']!r}: {message}"
        lines.append(f"{path}: {location or '<file>'}: {message}")
    unique = list(dict.fromkeys(lines))
    return "\n".join(unique)


def _field_path(location: tuple[int | str, ...], document: Any) -> str:
    """The location as the user wrote it: keys and list positions only, no pydantic union tags."""
    parts: list[str] = []
    current = document
    for position, element in enumerate(location):
        last = position == len(location) - 1
        if isinstance(current, dict) and isinstance(element, str) and (element in current or last):
            parts.append(element)
            current = current.get(element)
        elif isinstance(current, list) and isinstance(element, int):
            parts.append(str(element))
            current = current[element] if element < len(current) else None
        elif isinstance(current, dict) and isinstance(element, str) and element.startswith("function-"):
            continue
        # anything else is the name of a union branch: skip it
    return ".".join(parts)


# ------------------------------------------------------------------------------------------------
# Normalisation: the JSON the SQL macros read
# ------------------------------------------------------------------------------------------------
def _date_spec(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if value == "all":
        return {"kind": "all"}
    absolute = ABSOLUTE_DATE.match(value)
    if absolute:
        return {"kind": "absolute", "date": absolute.group("date")}
    relative = RELATIVE_DATE.match(value)
    assert relative is not None  # validated by DateRange
    amount = relative.group("amount")
    return {
        "kind": "relative",
        "amount": int(amount) if amount is not None else None,
        "unit": relative.group("unit"),
        "position": relative.group("position"),
    }


def _dates(date_range: DateRange | None) -> dict[str, Any]:
    date_range = date_range or DateRange()
    return {"date_from": _date_spec(date_range.date_from), "date_to": _date_spec(date_range.date_to)}


def _text(value: Any) -> str:
    """A filter value as the text PostHog compares (JSON scalars as written)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _leaf(item: EventPropertyFilter | PersonPropertyFilter | GroupPropertyFilter) -> dict[str, Any]:
    values = item.value if isinstance(item.value, list) else [item.value]
    leaf: dict[str, Any] = {
        "type": item.type,
        "key": item.key,
        "operator": item.operator,
        "group_type_index": None,
        "values": [],
        "number": None,
    }
    if isinstance(item, GroupPropertyFilter):
        leaf["group_type_index"] = item.group_type_index
    group_key = GROUP_KEY_PROPERTY.match(item.key) if item.type == "event" else None
    if group_key:
        leaf["type"] = "group_key"
        leaf["group_type_index"] = int(group_key.group(1))
    if item.operator in ("gt", "gte", "lt", "lte"):
        leaf["number"] = float(values[0])  # type: ignore[arg-type]
    elif item.operator not in ("is_set", "is_not_set"):
        leaf["values"] = [_text(v) for v in values if v is not None]
    return leaf


def _filters(properties: Any) -> dict[str, Any] | None:
    """A filter tree ``{op: and|or, values: [...]}`` of leaves, or ``None`` (keep every event)."""
    if properties is None:
        return None
    if isinstance(properties, list):
        leaves = [_leaf(item) for item in properties]
        return {"op": "and", "values": leaves} if leaves else None
    if isinstance(properties, (PropertyGroupFilter, PropertyGroupFilterValue)):
        children = [
            _filters(child) if not hasattr(child, "key") else _leaf(child) for child in properties.values
        ]
        kept = [child for child in children if child is not None]
        return {"op": properties.type.lower(), "values": kept} if kept else None
    return {"op": "and", "values": [_leaf(properties)]}


def _walk_leaves(tree: dict[str, Any] | None) -> list[dict[str, Any]]:
    if tree is None:
        return []
    if "op" in tree:
        return [leaf for child in tree["values"] for leaf in _walk_leaves(child)]
    return [tree]


def _effective_math(node: EventsNode, interval: str) -> str:
    """PostHog turns weekly/monthly active into daily active when the interval is as long or longer."""
    math = node.math or "total"
    if math == "weekly_active" and interval in ("week", "month"):
        return "dau"
    if math == "monthly_active" and interval == "month":
        return "dau"
    return math


def _series(nodes: list[EventsNode], interval: str) -> list[dict[str, Any]]:
    series = []
    for index, node in enumerate(nodes):
        math = _effective_math(node, interval)
        by_group = node.math_group_type_index is not None and math in (
            "unique_group",
            "dau",
            "weekly_active",
            "monthly_active",
        )
        series.append(
            {
                "index": index,
                "event": node.event,
                "label": node.name or node.event or "All events",
                "custom_name": node.custom_name,
                "math": math,
                "declared_math": node.math or "total",
                "actor": "group" if by_group else "person",
                "group_type_index": node.math_group_type_index if by_group else None,
                "properties": _filters(node.properties),
            }
        )
    return series


def _breakdown(breakdown: BreakdownFilter | None) -> dict[str, Any] | None:
    if breakdown is None or breakdown.breakdown is None:
        return None
    kind = breakdown.breakdown_type or "event"
    group_type_index = breakdown.breakdown_group_type_index if kind == "group" else None
    group_key = GROUP_KEY_PROPERTY.match(breakdown.breakdown) if kind == "event" else None
    if group_key:
        kind, group_type_index = "group_key", int(group_key.group(1))
    return {
        "type": kind,
        "key": breakdown.breakdown,
        "group_type_index": group_type_index,
        "limit": breakdown.breakdown_limit or DEFAULT_BREAKDOWN_LIMIT,
        "hide_other": bool(breakdown.breakdown_hide_other_aggregation),
    }


def _entity(entity: RetentionEntity | None) -> dict[str, Any]:
    if entity is None:
        return {"event": DEFAULT_RETENTION_EVENT, "label": DEFAULT_RETENTION_EVENT, "properties": None}
    return {
        "event": entity.id,
        "label": entity.custom_name or entity.name or entity.id or "All events",
        "properties": _filters(entity.properties),
    }


def _joins(trees: list[dict[str, Any] | None], breakdown: dict[str, Any] | None) -> dict[str, Any]:
    """Which dimensions the per-event SQL joins: persons, and groups of which type indices."""
    leaves = [leaf for tree in trees for leaf in _walk_leaves(tree)]
    if breakdown is not None:
        leaves.append(breakdown)
    groups = sorted({leaf["group_type_index"] for leaf in leaves if leaf["type"] == "group"})
    return {"person": any(leaf["type"] == "person" for leaf in leaves), "groups": groups}


def normalise(insight: Insight) -> dict[str, Any]:
    """The JSON document the SQL macros walk for one insight (see ``macros/insights/``)."""
    query = insight.query
    document: dict[str, Any] = {
        "id": insight.insight_id,
        "kind": query.kind,
        "name": insight.name,
        "description": insight.description,
        "group_properties": insight.group_properties,
        "properties": _filters(query.properties),
        **_dates(query.dateRange),
        "query": query.model_dump(mode="json", exclude_none=True),
    }
    trees: list[dict[str, Any] | None] = [document["properties"]]
    breakdown = None
    if isinstance(query, (TrendsQuery, StickinessQuery)):
        document["interval"] = query.interval or "day"
        document["series"] = _series(query.series, document["interval"])
        trees += [series["properties"] for series in document["series"]]
        if isinstance(query, TrendsQuery):
            breakdown = _breakdown(query.breakdownFilter)
            document["breakdown"] = breakdown
        else:
            computed = query.stickinessFilter.computedAs if query.stickinessFilter else None
            document["cumulative"] = computed == "cumulative"
    elif isinstance(query, LifecycleQuery):
        node = query.series[0]
        document["interval"] = query.interval or "day"
        document["aggregation_group_type_index"] = query.aggregation_group_type_index
        document["series"] = _series([node], document["interval"])
        trees.append(document["series"][0]["properties"])
    elif isinstance(query, RetentionQuery):
        retention = query.retentionFilter
        target, returning = _entity(retention.targetEntity), _entity(retention.returningEntity)
        document["interval"] = (retention.period or "Day").lower()
        document["aggregation_group_type_index"] = query.aggregation_group_type_index
        document["retention"] = {
            "type": "first_time" if retention.retentionType == "retention_first_time" else "recurring",
            "total_intervals": retention.totalIntervals or DEFAULT_RETENTION_INTERVALS,
            "target": target,
            "returning": returning,
        }
        trees += [target["properties"], returning["properties"]]
    elif isinstance(query, FunnelsQuery):
        funnels = query.funnelsFilter
        document["interval"] = query.interval or "day"
        document["aggregation_group_type_index"] = query.aggregation_group_type_index
        document["series"] = _series(query.series, document["interval"])
        breakdown = _breakdown(query.breakdownFilter)
        document["breakdown"] = breakdown
        document["funnel"] = {
            "window_interval": (funnels.funnelWindowInterval if funnels else None) or 14,
            "window_unit": (funnels.funnelWindowIntervalUnit if funnels else None) or "day",
            "order": (funnels.funnelOrderType if funnels else None) or "ordered",
            "attribution": (funnels.breakdownAttributionType if funnels else None) or "first_touch",
            "attribution_step": funnels.breakdownAttributionValue if funnels else None,
            "exclusions": [
                {
                    "event": exclusion.event,
                    "from_step": exclusion.funnelFromStep,
                    "to_step": exclusion.funnelToStep,
                    "properties": _filters(exclusion.properties),
                }
                for exclusion in ((funnels.exclusions if funnels else None) or [])
            ],
        }
        trees += [series["properties"] for series in document["series"]]
        trees += [exclusion["properties"] for exclusion in document["funnel"]["exclusions"]]
    document["joins"] = _joins(trees, breakdown)
    return document


def compile_definitions(directory: Path | None = None) -> list[dict[str, Any]]:
    """Every insight of ``directory`` (default :func:`insights_dir`) normalised, sorted by id.

    All files are checked; the error lists every invalid file.
    """
    directory = directory or insights_dir()
    documents, problems = [], []
    seen: dict[str, Path] = {}
    for path in insight_files(directory):
        try:
            insight = load_insight(path)
        except InsightError as exc:
            problems.append(str(exc))
            continue
        if insight.insight_id in seen:
            problems.append(
                f"{path}: insight id {insight.insight_id!r} is also used by {seen[insight.insight_id]}"
            )
            continue
        seen[insight.insight_id] = path
        documents.append(normalise(insight))
    if problems:
        raise InsightError("\n".join(problems))
    return sorted(documents, key=lambda document: document["id"])


# ------------------------------------------------------------------------------------------------
# The generated macro file
# ------------------------------------------------------------------------------------------------
def definitions_json(definitions: list[dict[str, Any]]) -> str:
    """Canonical JSON text of the definitions (sorted keys, ASCII only, no spaces)."""
    return json.dumps(definitions, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def render_macro(definitions: list[dict[str, Any]], source: Path | None = None) -> str:
    """The generated macro file for ``definitions``.

    The JSON sits in a Jinja string literal: Jinja un-escapes backslashes, so they are doubled, and
    single quotes are escaped.
    """
    literal = definitions_json(definitions).replace("\\", "\\\\").replace("'", "\\'")
    origin = "dbt_project/insights" if source in (None, DEFAULT_INSIGHTS_DIR) else f"${INSIGHTS_DIR_ENV}"
    return (
        "{#- Generated by gw/insights/compile.py from the insight files in " + origin + ". Do not edit:\n"
        "    run `python -m gw.insights` (gw build, gw demo and tests do it before dbt runs). -#}\n"
        "{% macro gw_insight_definitions() %}{{ return(fromjson('" + literal + "')) }}{% endmacro %}\n"
    )


def write_macro(directory: Path | None = None, target: Path = GENERATED_MACRO) -> bool:
    """Compile ``directory`` into ``target``; write only when the content changes. Returns whether it wrote."""
    directory = directory or insights_dir()
    content = render_macro(compile_definitions(directory), directory)
    if target.exists() and target.read_text() == content:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(content)
    temporary.replace(target)
    return True


def main(argv: list[str] | None = None) -> int:
    """``python -m gw.insights [--check]``: regenerate (or check) the macro file."""
    arguments = sys.argv[1:] if argv is None else argv
    try:
        if "--check" in arguments:
            directory = insights_dir()
            expected = render_macro(compile_definitions(directory), directory)
            if not GENERATED_MACRO.exists() or GENERATED_MACRO.read_text() != expected:
                print(f"{GENERATED_MACRO} is stale: run python -m gw.insights", file=sys.stderr)
                return 1
            return 0
        wrote = write_macro()
    except InsightError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{'wrote' if wrote else 'unchanged'}: {GENERATED_MACRO}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
