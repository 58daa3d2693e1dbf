"""Where the warehouse lives and which projects it serves.

Everything the pipeline reads or writes sits under one folder, ``WAREHOUSE_HOME`` (default
``./warehouse``).  ``projects.yml`` in that folder maps api keys to projects and gives each project
its time zone.  Both the Airflow tasks and the ``gw`` command build their paths from
:class:`WarehousePaths`, so there is one definition of the layout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The repository root (the folder holding ``dags/``, ``dbt_project/``, ``loaders/``...).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Api keys of the two projects the synthetic generator writes events for.
DEMO_PROJECTS_YAML = """\
# Projects this warehouse serves. Events are attributed to a project by their api_key / token
# (or the Authorization: Bearer header of the capture request). Unknown keys are quarantined.
projects:
  - id: 1
    name: Production
    api_keys: [phc_demo_production_key]
    timezone: Europe/Berlin
  - id: 2
    name: Staging
    api_keys: [phc_demo_staging_key]
    timezone: America/New_York
"""


class Project(BaseModel):
    """One project: its id, display name, api keys and IANA time zone."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1)
    name: str
    api_keys: list[str] = Field(min_length=1)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value


class ProjectsConfig(BaseModel):
    """The parsed ``projects.yml``."""

    model_config = ConfigDict(extra="forbid")

    projects: list[Project] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids_and_keys(self) -> ProjectsConfig:
        ids = [p.id for p in self.projects]
        if len(ids) != len(set(ids)):
            raise ValueError("project ids must be unique")
        keys = [k for p in self.projects for k in p.api_keys]
        if len(keys) != len(set(keys)):
            raise ValueError("an api key may belong to one project only")
        return self

    def project_for_key(self, api_key: str | None) -> Project | None:
        """The project an api key / token belongs to, or ``None`` when the key is unknown."""
        if not api_key:
            return None
        for project in self.projects:
            if api_key in project.api_keys:
                return project
        return None

    @classmethod
    def load(cls, path: Path) -> ProjectsConfig:
        """Read and validate a ``projects.yml``; errors name the file and the field."""
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: create it (see README, 'projects.yml') or run `gw demo`"
            )
        try:
            return cls.model_validate(yaml.safe_load(path.read_text()) or {})
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc


@dataclass(frozen=True)
class WarehousePaths:
    """The layout of a warehouse home. Create with :func:`warehouse_paths`."""

    home: Path

    @property
    def inbox(self) -> Path:
        """Capture files waiting to be landed."""
        return self.home / "inbox"

    @property
    def lake(self) -> Path:
        """Landed events as Hive-partitioned Parquet (``events/project_id=…/event_date=…``)."""
        return self.home / "lake"

    @property
    def quarantine(self) -> Path:
        """Rejected events and files, each with a reason code."""
        return self.home / "quarantine"

    @property
    def archive(self) -> Path:
        """Inbox files whose data has been committed to the lake."""
        return self.home / "archive"

    @property
    def build_db(self) -> Path:
        """The DuckDB file dbt builds into. BI tools never read it."""
        return self.home / "build" / "warehouse.duckdb"

    @property
    def published_db(self) -> Path:
        """The audited, read-only copy of the marts that BI tools open."""
        return self.home / "published" / "warehouse.duckdb"

    @property
    def projects_file(self) -> Path:
        """``projects.yml``: api keys → projects and their time zones."""
        return self.home / "projects.yml"

    @property
    def reports(self) -> Path:
        """Run reports: audit results, Data Docs, HTML reports."""
        return self.home / "reports"

    @property
    def state(self) -> Path:
        """Small JSON records of the last landing, build, audit and publish."""
        return self.home / "state"

    @property
    def airflow_home(self) -> Path:
        """The project-local ``AIRFLOW_HOME`` (SQLite metadata DB) used by ``gw demo``."""
        return self.home / "airflow"

    def ensure(self) -> WarehousePaths:
        """Create the folders (idempotent) and return ``self``."""
        for folder in (self.inbox, self.lake, self.quarantine, self.archive, self.reports, self.state):
            folder.mkdir(parents=True, exist_ok=True)
        self.build_db.parent.mkdir(parents=True, exist_ok=True)
        self.published_db.parent.mkdir(parents=True, exist_ok=True)
        return self

    def load_projects(self) -> ProjectsConfig:
        """The validated ``projects.yml`` of this home."""
        return ProjectsConfig.load(self.projects_file)

    def write_demo_projects(self) -> bool:
        """Write the demo ``projects.yml`` unless one exists. Returns whether it wrote."""
        if self.projects_file.exists():
            return False
        self.home.mkdir(parents=True, exist_ok=True)
        self.projects_file.write_text(DEMO_PROJECTS_YAML)
        return True


def warehouse_paths(home: str | os.PathLike[str] | None = None) -> WarehousePaths:
    """The warehouse layout rooted at ``home``, else ``$WAREHOUSE_HOME``, else ``./warehouse``."""
    chosen = home if home is not None else os.environ.get("WAREHOUSE_HOME", "warehouse")
    return WarehousePaths(Path(chosen).expanduser().resolve())
