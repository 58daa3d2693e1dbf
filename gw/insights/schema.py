"""The supported subset of PostHog's query schema, as pydantic models.

Insight files are written in PostHog's query schema (``TrendsQuery``, ``StickinessQuery``,
``RetentionQuery``, ``LifecycleQuery``, ``FunnelsQuery``; bare or wrapped in PostHog's export node
``InsightVizNode``).  Every model forbids fields it does not know, and fields that PostHog knows but
the warehouse does not compute are typed so that only their "off" value passes: an unsupported
insight fails with an error naming the field instead of silently giving other numbers.

Fields that only change how PostHog draws a chart (legend, colours, value labels…) are accepted and
ignored; they never change a number.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

__all__ = [
    "BreakdownFilter",
    "DateRange",
    "EventsNode",
    "FunnelsFilter",
    "FunnelsQuery",
    "InsightQuery",
    "LifecycleFilter",
    "LifecycleQuery",
    "PropertyFilter",
    "PropertyGroupFilter",
    "RetentionEntity",
    "RetentionFilter",
    "RetentionQuery",
    "StickinessFilter",
    "StickinessQuery",
    "TrendsFilter",
    "TrendsQuery",
    "RELATIVE_DATE",
]

#: PostHog's relative dates: ``-7d``, ``-24h``, ``-3w``, ``-6m``, ``-1q``, ``-1y``, ``mStart``,
#: ``-1mStart``, ``dStart``, ``yStart``, ``-1dEnd``… (the sign is optional: PostHog always goes back).
RELATIVE_DATE = re.compile(r"^-?(?P<amount>[0-9]+)?(?P<unit>[hdwmqy])(?P<position>Start|End)?$")
#: Absolute dates: the date part is what counts (a time or offset after it is ignored, DESIGN.md).
ABSOLUTE_DATE = re.compile(r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9:.]+(Z|[+-][0-9:]+)?)?$")

MAX_GROUP_TYPE_INDEX = 4


class _Strict(BaseModel):
    """Base: unknown fields are errors that name the field."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ------------------------------------------------------------------------------------------------
# Property filters
# ------------------------------------------------------------------------------------------------
PropertyOperator = Literal[
    "exact",
    "is_not",
    "icontains",
    "not_icontains",
    "regex",
    "not_regex",
    "gt",
    "gte",
    "lt",
    "lte",
    "is_set",
    "is_not_set",
]
PropertyValue = str | int | float | bool | None | list[str | int | float | bool]

_NUMERIC_OPERATORS = {"gt", "gte", "lt", "lte"}
_TEXT_OPERATORS = {"icontains", "not_icontains", "regex", "not_regex"}


class _PropertyFilterBase(_Strict):
    key: str = Field(min_length=1)
    operator: PropertyOperator = "exact"
    value: PropertyValue = None
    label: str | None = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> _PropertyFilterBase:
        values = self.value if isinstance(self.value, list) else [self.value]
        if self.operator in ("is_set", "is_not_set"):
            return self
        if self.value is None or (isinstance(self.value, list) and not self.value):
            raise ValueError(f"operator {self.operator!r} needs a value")
        if self.operator in _NUMERIC_OPERATORS:
            if isinstance(self.value, list) and len(self.value) != 1:
                raise ValueError(f"operator {self.operator!r} compares with one number")
            try:
                float(values[0])  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                raise ValueError(f"operator {self.operator!r} needs a number, got {values[0]!r}") from exc
        if self.operator in ("regex", "not_regex"):
            for pattern in values:
                try:
                    re.compile(str(pattern))
                except re.error as exc:
                    raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return self


class EventPropertyFilter(_PropertyFilterBase):
    """A filter on the event's properties; ``$group_0`` … ``$group_4`` mean the event's group keys."""

    type: Literal["event"]


class PersonPropertyFilter(_PropertyFilterBase):
    """A filter on the current properties of the event's person."""

    type: Literal["person"]


class GroupPropertyFilter(_PropertyFilterBase):
    """A filter on the properties of the event's own group of ``group_type_index``."""

    type: Literal["group"]
    group_type_index: int = Field(ge=0, le=MAX_GROUP_TYPE_INDEX)


PropertyFilter = Annotated[
    EventPropertyFilter | PersonPropertyFilter | GroupPropertyFilter,
    Field(discriminator="type"),
]


def _filter_or_group(value: Any) -> str:
    """Discriminator of a nested ``values`` item: a property filter by its type, or an AND/OR group."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "group" if kind in ("AND", "OR") else f"{kind}_filter"


class PropertyGroupFilterValue(_Strict):
    """A nested AND / OR group of property filters (PostHog's ``PropertyGroupFilterValue``)."""

    type: Literal["AND", "OR"]
    values: list[
        Annotated[
            Annotated[EventPropertyFilter, Tag("event_filter")]
            | Annotated[PersonPropertyFilter, Tag("person_filter")]
            | Annotated[GroupPropertyFilter, Tag("group_filter")]
            | Annotated[PropertyGroupFilterValue, Tag("group")],
            Discriminator(_filter_or_group),
        ]
    ]


class PropertyGroupFilter(_Strict):
    """The top-level AND / OR group PostHog writes for ``properties`` (``PropertyGroupFilter``)."""

    type: Literal["AND", "OR"]
    values: list[PropertyGroupFilterValue]


def _list_or_group(value: Any) -> str:
    """Discriminator of ``properties``: a list of filters or PostHog's AND/OR group object."""
    return "list" if isinstance(value, list) else "group"


PropertiesField = (
    Annotated[
        Annotated[list[PropertyFilter], Tag("list")] | Annotated[PropertyGroupFilter, Tag("group")],
        Discriminator(_list_or_group),
    ]
    | None
)


# ------------------------------------------------------------------------------------------------
# Shared nodes
# ------------------------------------------------------------------------------------------------
class DateRange(_Strict):
    """``dateRange``: absolute (``2026-10-01``), relative (``-7d``, ``mStart``) or ``all``."""

    date_from: str | None = None
    date_to: str | None = None
    explicitDate: Literal[False] | None = None  # noqa: N815 - PostHog's field name

    @field_validator("date_from", "date_to")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value == "all" or RELATIVE_DATE.match(value) or ABSOLUTE_DATE.match(value):
            return value
        raise ValueError(
            f"unsupported date {value!r}: use YYYY-MM-DD, a relative date such as -7d, -24h, -2w, -3m, "
            "-1y, mStart, -1mStart, yStart, or all"
        )

    @model_validator(mode="after")
    def _to_is_not_all(self) -> DateRange:
        if self.date_to == "all":
            raise ValueError("date_to cannot be 'all'")
        return self


TrendsMath = Literal["total", "dau", "unique_group", "weekly_active", "monthly_active"]


class EventsNode(_Strict):
    """One series: an event (``null`` = all events), its math and its own property filters."""

    kind: Literal["EventsNode"] = "EventsNode"
    event: str | None = None
    name: str | None = None
    custom_name: str | None = None
    math: TrendsMath | None = None
    math_group_type_index: int | None = Field(default=None, ge=0, le=MAX_GROUP_TYPE_INDEX)
    properties: list[PropertyFilter] | None = None
    version: int | None = None

    @model_validator(mode="after")
    def _group_math_has_an_index(self) -> EventsNode:
        if self.math == "unique_group" and self.math_group_type_index is None:
            raise ValueError("math 'unique_group' needs math_group_type_index")
        if self.math_group_type_index is not None and self.math not in (
            "unique_group",
            "dau",
            "weekly_active",
            "monthly_active",
        ):
            raise ValueError(
                "math_group_type_index only applies to math unique_group, dau, weekly_active, monthly_active"
            )
        return self


class BreakdownFilter(_Strict):
    """``breakdownFilter``: one property of the event, its person or its group."""

    breakdown: str | None = None
    breakdown_type: Literal["event", "person", "group"] | None = "event"
    breakdown_group_type_index: int | None = Field(default=None, ge=0, le=MAX_GROUP_TYPE_INDEX)
    breakdown_limit: int | None = Field(default=None, ge=1)
    breakdown_hide_other_aggregation: bool | None = None
    breakdown_normalize_url: Literal[False] | None = None
    breakdown_histogram_bin_count: None = None
    breakdowns: None = None

    @model_validator(mode="after")
    def _group_breakdown_has_an_index(self) -> BreakdownFilter:
        if (
            self.breakdown_type == "group"
            and self.breakdown is not None
            and self.breakdown_group_type_index is None
        ):
            raise ValueError("breakdown_type 'group' needs breakdown_group_type_index")
        return self


class _QueryBase(_Strict):
    """Fields every insight query shares (``InsightsQueryBase``)."""

    dateRange: DateRange | None = None  # noqa: N815
    properties: PropertiesField = None
    filterTestAccounts: Literal[False] | None = None  # noqa: N815
    samplingFactor: Literal[1] | None = None  # noqa: N815
    aggregation_group_type_index: None = None
    # accepted and ignored: metadata and colours
    version: int | None = None
    tags: dict[str, Any] | None = None
    dataColorTheme: int | None = None  # noqa: N815


_DISPLAY_TIME_SERIES = Literal["ActionsLineGraph", "ActionsBar", "ActionsAreaGraph", "ActionsStackedBar"]


class TrendsFilter(_Strict):
    """``trendsFilter``: only time-series displays; formulas and smoothing are not supported."""

    display: _DISPLAY_TIME_SERIES | None = None
    showLegend: bool | None = None  # noqa: N815
    showValuesOnSeries: bool | None = None  # noqa: N815
    showPercentStackView: bool | None = None  # noqa: N815
    showLabelsOnSeries: bool | None = None  # noqa: N815
    hiddenLegendIndexes: list[int] | None = None  # noqa: N815
    aggregationAxisFormat: str | None = None  # noqa: N815
    aggregationAxisPrefix: str | None = None  # noqa: N815
    aggregationAxisPostfix: str | None = None  # noqa: N815
    decimalPlaces: int | None = None  # noqa: N815
    showAlertThresholdLines: bool | None = None  # noqa: N815
    yAxisScaleType: str | None = None  # noqa: N815
    smoothingIntervals: Literal[1] | None = None  # noqa: N815


Interval = Literal["hour", "day", "week", "month"]


class TrendsQuery(_QueryBase):
    """Trends: one line per series (and breakdown value), one point per interval."""

    kind: Literal["TrendsQuery"]
    series: list[EventsNode] = Field(min_length=1)
    interval: Interval | None = None
    breakdownFilter: BreakdownFilter | None = None  # noqa: N815
    trendsFilter: TrendsFilter | None = None  # noqa: N815
    compareFilter: None = None  # noqa: N815


class StickinessFilter(_Strict):
    """``stickinessFilter``: non-cumulative (default) or cumulative counts."""

    display: Literal["ActionsLineGraph", "ActionsBar"] | None = None
    showLegend: bool | None = None  # noqa: N815
    showValuesOnSeries: bool | None = None  # noqa: N815
    hiddenLegendIndexes: list[int] | None = None  # noqa: N815
    computedAs: Literal["non_cumulative", "cumulative"] | None = None  # noqa: N815
    stickinessCriteria: None = None  # noqa: N815


class StickinessQuery(_QueryBase):
    """Stickiness: how many actors were active on exactly 1, 2, … N intervals of the range."""

    kind: Literal["StickinessQuery"]
    series: list[EventsNode] = Field(min_length=1)
    interval: Interval | None = None
    intervalCount: Literal[1] | None = None  # noqa: N815
    stickinessFilter: StickinessFilter | None = None  # noqa: N815
    compareFilter: None = None  # noqa: N815

    @model_validator(mode="after")
    def _stickiness_math(self) -> StickinessQuery:
        for number, node in enumerate(self.series):
            if node.math not in (None, "total", "dau", "unique_group"):
                raise ValueError(
                    f"series.{number}.math: stickiness counts persons (total, dau) or groups (unique_group)"
                )
            if node.math == "dau" and node.math_group_type_index is not None:
                raise ValueError(f"series.{number}: for groups use math unique_group")
        return self


class LifecycleFilter(_Strict):
    """``lifecycleFilter``: display toggles only."""

    toggledLifecycles: list[Literal["new", "returning", "resurrecting", "dormant"]] | None = None  # noqa: N815
    showLegend: bool | None = None  # noqa: N815
    showValuesOnSeries: bool | None = None  # noqa: N815
    stacked: bool | None = None


class LifecycleQuery(_QueryBase):
    """Lifecycle: new / returning / resurrecting / dormant actors per interval."""

    kind: Literal["LifecycleQuery"]
    series: list[EventsNode] = Field(min_length=1, max_length=1)
    interval: Interval | None = None
    lifecycleFilter: LifecycleFilter | None = None  # noqa: N815
    aggregation_group_type_index: int | None = Field(default=None, ge=0, le=MAX_GROUP_TYPE_INDEX)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _lifecycle_series(self) -> LifecycleQuery:
        node = self.series[0]
        if node.math not in (None, "total"):
            raise ValueError(
                "series.0.math: lifecycle counts actors; aggregate groups with aggregation_group_type_index"
            )
        return self


class RetentionEntity(_Strict):
    """``targetEntity`` / ``returningEntity``: an event (``id``; ``null`` = all events)."""

    id: str | None = None
    type: Literal["events"] = "events"
    name: str | None = None
    custom_name: str | None = None
    kind: Literal["EventsNode"] | None = None
    order: int | None = None
    uuid: str | None = None
    properties: list[PropertyFilter] | None = None


class RetentionFilter(_Strict):
    """``retentionFilter``: first-time or recurring retention by hour, day, week or month."""

    retentionType: Literal["retention_first_time", "retention_recurring"] | None = None  # noqa: N815
    period: Literal["Hour", "Day", "Week", "Month"] | None = None
    totalIntervals: int | None = Field(default=None, ge=1, le=400)  # noqa: N815
    targetEntity: RetentionEntity | None = None  # noqa: N815
    returningEntity: RetentionEntity | None = None  # noqa: N815
    retentionReference: Literal["total", "previous"] | None = None  # noqa: N815
    display: str | None = None
    showMean: bool | Literal["simple", "weighted", "none"] | None = None  # noqa: N815
    meanRetentionCalculation: Literal["simple", "weighted", "none"] | None = None  # noqa: N815
    cumulative: Literal[False] | None = None
    minimumOccurrences: Literal[1] | None = None  # noqa: N815
    timeWindowMode: Literal["strict_calendar_dates"] | None = None  # noqa: N815
    retentionCustomBrackets: None = None  # noqa: N815
    aggregationType: Literal["count"] | None = None  # noqa: N815


class RetentionQuery(_QueryBase):
    """Retention: cohorts by the period of their target event × periods since."""

    kind: Literal["RetentionQuery"]
    retentionFilter: RetentionFilter  # noqa: N815
    aggregation_group_type_index: int | None = Field(default=None, ge=0, le=MAX_GROUP_TYPE_INDEX)  # type: ignore[assignment]
    breakdownFilter: None = None  # noqa: N815


class FunnelExclusion(_Strict):
    """An exclusion step: the event must not happen between two steps of an attempt."""

    kind: Literal["EventsNode"] = "EventsNode"
    event: str | None = None
    name: str | None = None
    custom_name: str | None = None
    properties: list[PropertyFilter] | None = None
    funnelFromStep: int = Field(ge=0)  # noqa: N815
    funnelToStep: int = Field(ge=1)  # noqa: N815

    @model_validator(mode="after")
    def _step_order(self) -> FunnelExclusion:
        if self.funnelToStep <= self.funnelFromStep:
            raise ValueError("funnelToStep must be after funnelFromStep")
        return self


class FunnelsFilter(_Strict):
    """``funnelsFilter``: conversion window, order type and exclusion steps."""

    funnelWindowInterval: int | None = Field(default=None, ge=1)  # noqa: N815
    funnelWindowIntervalUnit: (  # noqa: N815
        Literal["second", "minute", "hour", "day", "week", "month"] | None
    ) = None
    funnelOrderType: Literal["ordered", "strict", "unordered"] | None = None  # noqa: N815
    exclusions: list[FunnelExclusion] | None = None
    #: Which breakdown value an actor counts under (PostHog's default: first_touch); ``step`` takes
    #: the value of the event that filled step ``breakdownAttributionValue`` (0-based).
    breakdownAttributionType: Literal["first_touch", "last_touch", "all_events", "step"] | None = None  # noqa: N815
    breakdownAttributionValue: int | None = Field(default=None, ge=0)  # noqa: N815
    funnelVizType: Literal["steps"] | None = None  # noqa: N815
    layout: Literal["horizontal", "vertical"] | None = None
    showValuesOnSeries: bool | None = None  # noqa: N815
    hiddenLegendBreakdowns: list[str] | None = None  # noqa: N815
    funnelStepReference: Literal["total", "previous"] | None = None  # noqa: N815


class FunnelsQuery(_QueryBase):
    """Funnels: steps (events with property filters) by person or by group type."""

    kind: Literal["FunnelsQuery"]
    series: list[EventsNode] = Field(min_length=2)
    funnelsFilter: FunnelsFilter | None = None  # noqa: N815
    aggregation_group_type_index: int | None = Field(default=None, ge=0, le=MAX_GROUP_TYPE_INDEX)  # type: ignore[assignment]
    breakdownFilter: BreakdownFilter | None = None  # noqa: N815
    interval: Interval | None = None

    @model_validator(mode="after")
    def _steps_are_plain_events(self) -> FunnelsQuery:
        for number, node in enumerate(self.series):
            if node.math not in (None, "total"):
                raise ValueError(f"series.{number}.math: funnel steps take no math")
        funnels = self.funnelsFilter or FunnelsFilter()
        order = funnels.funnelOrderType or "ordered"
        exclusions = funnels.exclusions or []
        for number, exclusion in enumerate(exclusions):
            if exclusion.funnelToStep >= len(self.series):
                raise ValueError(
                    f"funnelsFilter.exclusions.{number}.funnelToStep: the funnel has {len(self.series)} steps"
                )
            if order == "unordered" and (exclusion.funnelFromStep, exclusion.funnelToStep) != (
                0,
                len(self.series) - 1,
            ):
                raise ValueError(
                    f"funnelsFilter.exclusions.{number}: an unordered funnel only takes exclusions over the "
                    f"whole funnel (funnelFromStep 0, funnelToStep {len(self.series) - 1}), as in PostHog"
                )
            for step_number in range(exclusion.funnelFromStep, exclusion.funnelToStep + 1):
                if _narrower_or_equal(exclusion, self.series[step_number]):
                    raise ValueError(
                        f"funnelsFilter.exclusions.{number}: every such event would also be step "
                        f"{step_number} (series.{step_number}); exclusions cannot be funnel steps, as in PostHog"
                    )
        self._check_attribution(funnels, order)
        if order == "unordered":
            self._check_unordered_steps()
        return self

    def _check_attribution(self, funnels: FunnelsFilter, order: str) -> None:
        attribution = funnels.breakdownAttributionType or "first_touch"
        if funnels.breakdownAttributionValue is not None and attribution != "step":
            raise ValueError(
                "funnelsFilter.breakdownAttributionValue: only with breakdownAttributionType 'step'"
            )
        if attribution == "step":
            if order == "unordered":
                raise ValueError(
                    "funnelsFilter.breakdownAttributionType: 'step' attribution is not supported for unordered funnels"
                )
            step = funnels.breakdownAttributionValue
            if step is None or step >= len(self.series):
                raise ValueError(
                    f"funnelsFilter.breakdownAttributionValue: the step (0 … {len(self.series) - 1}) whose "
                    "event gives the breakdown value"
                )

    def _check_unordered_steps(self) -> None:
        """Unordered funnels count steps by their own events: no two steps may share an event."""
        for number, node in enumerate(self.series):
            if node.event is None:
                raise ValueError(
                    f"series.{number}.event: an unordered funnel needs a named event for every step "
                    "(all events would match every step)"
                )
            for earlier in range(number):
                if self.series[earlier].event == node.event:
                    raise ValueError(
                        f"series.{number}.event: {node.event!r} is also step {earlier}; an unordered funnel "
                        "needs a different event for every step (use an ordered funnel)"
                    )


def _property_reprs(properties: list[Any] | None) -> list[str]:
    """PostHog's semantic representation of property filters (posthog/hogql_queries/insights/utils)."""
    return sorted(
        f"{prop.type}: {prop.key} {prop.operator} {prop.value}"
        for prop in (properties or [])
        if hasattr(prop, "key")
    )


def _narrower_or_equal(exclusion: FunnelExclusion, step: EventsNode) -> bool:
    """Whether every event matching ``exclusion`` also matches ``step`` (PostHog's is_equal/is_superset)."""
    if exclusion.event != step.event:
        return False
    remaining = list(_property_reprs(exclusion.properties))
    for item in _property_reprs(step.properties):
        if item not in remaining:
            return False
        remaining.remove(item)
    return True


InsightQuery = Annotated[
    TrendsQuery | StickinessQuery | RetentionQuery | LifecycleQuery | FunnelsQuery,
    Field(discriminator="kind"),
]


class InsightVizNode(_Strict):
    """PostHog's export wrapper: ``{kind: InsightVizNode, source: {…query…}}`` plus display flags."""

    kind: Literal["InsightVizNode"]
    source: InsightQuery
    full: bool | None = None
    showHeader: bool | None = None  # noqa: N815
    showTable: bool | None = None  # noqa: N815
    showCorrelationTable: bool | None = None  # noqa: N815
    showLastComputation: bool | None = None  # noqa: N815
    showLastComputationRefresh: bool | None = None  # noqa: N815
    showFilters: bool | None = None  # noqa: N815
    showResults: bool | None = None  # noqa: N815
    hidePersonsModal: bool | None = None  # noqa: N815
    hideTooltipOnScroll: bool | None = None  # noqa: N815
    embedded: bool | None = None
    suppressSessionAnalysisWarning: bool | None = None  # noqa: N815
    vizSpecificOptions: dict[str, Any] | None = None  # noqa: N815
