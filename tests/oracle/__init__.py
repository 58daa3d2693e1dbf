"""The correctness oracle: independent Python computations over the generator's truth."""

from .oracle import (
    MAX_GROUP_TYPES,
    current_group_properties,
    daily_active_groups,
    events_per_group,
    group_type_mapping,
    known_groups,
    landing_order,
)

__all__ = [
    "MAX_GROUP_TYPES",
    "current_group_properties",
    "daily_active_groups",
    "events_per_group",
    "group_type_mapping",
    "known_groups",
    "landing_order",
]
