"""Group deletion requests: the declared list that ``gw delete-group`` appends to and dbt reads.

A request names one group (project, group type, group key) and records who asked, when and why.
Requests live in ``$WAREHOUSE_HOME/deletions/group_deletions.jsonl``, one JSON object a line; the
file is the declared list (operators may also append lines by hand, or remove one to let a group
come back). The next ``gw build`` applies every request: dbt's ``stg_warehouse__group_deletions``
reads the file and ``int_events_deduplicated`` leaves the group out of every model, so the marts
(and the published file) hold no trace of it: no row in ``dim_groups`` or its history, its
``$groupidentify`` updates removed, and its events detached from it (var
``group_deletion_events: detach``, the default) or removed (``remove``).

The request log and the landed lake keep the group key: the log says what was deleted, the lake is
the immutable record of what was captured.
"""

from __future__ import annotations

import fcntl
import getpass
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gw.config import WarehousePaths

__all__ = [
    "GroupDeletionRequest",
    "deletion_requests_file",
    "read_group_deletion_requests",
    "request_group_deletion",
]


class GroupDeletionRequest(BaseModel):
    """One line of the request log: which group, who asked, when and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str
    requested_at: datetime
    """UTC, naive (the warehouse stores UTC timestamps without a zone)."""
    requested_by: str
    project_id: int = Field(ge=1)
    group_type: str = Field(min_length=1)
    group_key: str = Field(min_length=1)
    """The key as the warehouse stores it: text (numbers as the loader stringifies them)."""
    reason: str | None = None

    @field_validator("requested_at")
    @classmethod
    def _utc_naive(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def to_line(self) -> bytes:
        """The request as one JSON Lines record (with its newline)."""
        record = self.model_dump()
        record["requested_at"] = self.requested_at.isoformat(timespec="microseconds")
        return orjson.dumps(record) + b"\n"


def deletion_requests_file(paths: WarehousePaths) -> Path:
    """``$WAREHOUSE_HOME/deletions/group_deletions.jsonl``."""
    return paths.home / "deletions" / "group_deletions.jsonl"


def request_group_deletion(
    paths: WarehousePaths,
    project_id: int,
    group_type: str,
    group_key: str,
    *,
    requested_by: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> GroupDeletionRequest:
    """Append a deletion request for one group to the request log and return it.

    The project must be configured in ``projects.yml`` when that file exists. The append is one
    ``write`` of one line under an exclusive lock, flushed to disk before returning, so concurrent
    requests never interleave and a request that returned is never lost.
    """
    if paths.projects_file.exists():
        configured = {project.id for project in paths.load_projects().projects}
        if project_id not in configured:
            raise ValueError(
                f"project {project_id} is not in {paths.projects_file} (configured: {sorted(configured)})"
            )
    request = GroupDeletionRequest(
        request_id=str(uuid.uuid4()),
        requested_at=now or datetime.now(UTC),
        requested_by=requested_by or _current_user(),
        project_id=project_id,
        group_type=group_type,
        group_key=group_key,
        reason=reason,
    )
    target = deletion_requests_file(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "ab") as log:
        fcntl.flock(log.fileno(), fcntl.LOCK_EX)
        try:
            log.write(request.to_line())
            log.flush()
            os.fsync(log.fileno())
        finally:
            fcntl.flock(log.fileno(), fcntl.LOCK_UN)
    return request


def read_group_deletion_requests(paths: WarehousePaths) -> list[GroupDeletionRequest]:
    """Every request of the log, in file order (empty when there is no log).

    Raises ``ValueError`` naming the file and line of a record that is not a valid request.
    """
    target = deletion_requests_file(paths)
    if not target.exists():
        return []
    requests: list[GroupDeletionRequest] = []
    for number, line in enumerate(target.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            requests.append(GroupDeletionRequest.model_validate(orjson.loads(line)))
        except ValueError as exc:
            raise ValueError(f"{target}, line {number}: {exc}") from exc
    return requests


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
