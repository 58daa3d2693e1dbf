"""Seeded synthetic capture data: the one source of demo, test and benchmark events.

The generator models a B2B SaaS product with two projects (the demo ``projects.yml`` in
:mod:`gw.config`): companies with teams and projects, persons who arrive anonymously, sign up,
``$identify`` and then use the product, and ``$groupidentify`` calls that describe the groups and
change over time (plans get upgraded, head counts move).  Activity follows a daily and a weekly
rhythm, so some groups are idle on some days.

:func:`generate` writes the events into an inbox the way real clients and exports would deliver
them, and returns the **truth** the warehouse has to reproduce:

* capture bodies ``{"api_key", "batch", "sent_at"}`` (one with ``token``), plain JSON or gzip
  (with and without a ``.gz`` suffix, with and without a ``Content-Encoding`` header), each with a
  sidecar ``<file>.meta.json`` holding the request path, headers and ``received_at``;
* PostHog batch exports as NDJSON (``.ndjson`` and one ``.jsonl.gz``);
* the awkward cases: a client whose clock runs 3 hours fast, a batch retried with the same uuids
  and a re-stamped ``sent_at``, a ``$groupidentify`` that arrives late with an older timestamp, a
  sixth group type in project 2, events with an empty group key;
* identities to resolve (:meth:`_ProjectBuilder.make_identity_scenarios`): a second device that
  ``$identify``-s into a known person, an ``$create_alias`` chain to ids that send no event, an
  alias cycle, a ``$merge_dangerously`` of two identified persons (in project 1 it arrives in the
  last file, after both persons' events), ``$set_once`` values that must lose to earlier ones,
  and group events without a user sent with the static distinct id
  :data:`GROUP_ONLY_DISTINCT_ID`;
* bad input (``bad_files=True``): a truncated gzip body, a file that is not JSON, an empty file, a
  body with an unknown api key and four broken events inside an otherwise good body.

File names start with a zero-padded sequence number, so sorting the inbox gives the landing
order.  The same settings always give byte-identical files (one :class:`random.Random`, times
derived from the data, gzip ``mtime=0``); file modification times are set to the simulated receive
time too.
"""

from __future__ import annotations

import bisect
import functools
import gc
import gzip
import math
import os
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import yaml

from gw.config import DEMO_PROJECTS_YAML, ProjectsConfig

__all__ = [
    "GROUP_ONLY_DISTINCT_ID",
    "GeneratedSample",
    "GeneratorSettings",
    "TruthEvent",
    "UNKNOWN_API_KEY",
    "generate",
]

#: The api key of the body whose events must be quarantined as ``unknown_project``.
UNKNOWN_API_KEY = "phc_unknown_key_9f3a"
#: The static distinct id of group events sent without a user (dbt var group_only_distinct_ids).
GROUP_ONLY_DISTINCT_ID = "$posthog_group_only"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = 1_000_000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
#: How far the skewed client's clock runs ahead.
_CLOCK_SKEW = 3 * _HOUR
#: Share of the good events that goes to project 1 (the rest to project 2).
_PROJECT_SHARES = (0.55, 0.45)
#: A project always gets at least this many files, so every special file shape has a home.
_MIN_CHUNKS = 8

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------
_COMPANY_WORDS = (
    "acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne", "tyrell",
    "cyberdyne", "soylent", "wonka", "gringotts", "oscorp", "aperture", "massive", "dunder",
    "pied", "bluth", "zurich",
)  # fmt: skip
_COMPANY_SUFFIXES = ("Inc", "GmbH", "Labs", "Ltd", "Corp", "AG", "Group")
_INDUSTRIES = ("software", "fintech", "healthcare", "retail", "logistics", "media", "education")
_TEAM_NAMES = ("Growth", "Platform", "Data", "Design", "Sales", "Support")
_FIRST_NAMES = (
    "ada", "alan", "grace", "linus", "margaret", "ken", "barbara", "dennis", "frances", "edsger",
    "radia", "john", "sophie", "tim", "hedy", "donald",
)  # fmt: skip
_LAST_NAMES = (
    "lovelace", "turing", "hopper", "torvalds", "hamilton", "thompson", "liskov", "ritchie",
    "allen", "dijkstra", "perlman", "mccarthy", "wilson", "berners", "lamarr", "knuth",
)  # fmt: skip
_PATHS = ("/", "/home", "/insights", "/dashboard", "/persons", "/groups", "/settings", "/billing")
_INSIGHT_TYPES = ("TRENDS", "FUNNELS", "RETENTION", "LIFECYCLE", "STICKINESS")
_REFERRERS = ("$direct", "https://www.google.com/", "https://news.ycombinator.com/")
_REGIONS = ("eu-west", "us-east", "ap-south")
_CHANNELS = ("web", "mobile", "api")
_PLANS = ("free", "pro", "enterprise")
#: The value only the late, older ``$groupidentify`` sets: it must never win.
_LATE_PLAN = "trial"

#: Names and weights of ordinary (identified) events.
_EVENT_NAMES = ("$pageview", "insight_viewed", "project_created", "invite_sent", "subscription_started")
_EVENT_CUM_WEIGHTS = tuple(sum((40, 32, 6, 6, 1)[: i + 1]) for i in range(5))  # cumulative for random.choices
#: Relative activity per local hour of the day (nights are quiet, never silent).
_HOUR_WEIGHTS = (
    0.15, 0.10, 0.08, 0.06, 0.06, 0.10, 0.25, 0.50, 0.90, 1.0, 1.0, 1.0,
    0.90, 1.0, 1.0, 1.0, 0.90, 0.70, 0.50, 0.40, 0.35, 0.30, 0.25, 0.20,
)  # fmt: skip

#: Client styles: how a capture body is encoded, named and labelled.
_STYLES: dict[str, dict[str, Any]] = {
    "python": {
        "lib": "posthog-python",
        "lib_version": "7.91.1",
        "gzip": False,
        "suffix": ".json",
        "headers": {"Content-Type": "application/json", "User-Agent": "posthog-python/7.91.1"},
    },
    "node": {
        "lib": "posthog-node",
        "lib_version": "5.9.2",
        "gzip": True,
        "suffix": ".json.gz",
        "headers": {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": "posthog-node/5.9.2",
        },
    },
    "node_nosuffix": {
        "lib": "posthog-node",
        "lib_version": "5.9.2",
        "gzip": True,
        "suffix": ".json",
        "headers": {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": "posthog-node/5.9.2",
        },
    },
    "js": {
        "lib": "web",
        "lib_version": "1.300.2",
        "gzip": True,
        "suffix": ".json",
        "headers": {
            "Content-Type": "text/plain",
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
        },
    },
}
#: Random style mix of ordinary chunks (name → weight); exports are NDJSON.
_STYLE_MIX = (("python", 30), ("node", 20), ("node_nosuffix", 10), ("js", 20), ("export", 20))

# A record is one logical event before it is put on the wire:
# (time_us, seq, event, distinct_id, properties, groups, person_set, person_set_once)
_Record = tuple[int, int, str, str, dict[str, Any], dict[str, str] | None, dict | None, dict | None]


# --------------------------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GeneratorSettings:
    """What to generate. Every field has a small demo default."""

    events: int = 20_000
    """Approximate number of good logical events (both projects together)."""
    groups: int = 40
    """Companies per project; each has 1–4 teams and 1–5 projects."""
    persons: int = 300
    """Persons per project."""
    days: int = 30
    """Number of days with events, from ``start``."""
    start: date = date(2026, 10, 1)
    """First day (in each project's time zone)."""
    seed: int = 42
    """Seed of the one random generator; same settings → byte-identical files."""
    bad_files: bool = True
    """Also write the bad files and bad events (see :attr:`GeneratedSample.quarantined`)."""
    file_events: int = 500
    """Events per capture or export file (approximately)."""

    def __post_init__(self) -> None:
        if self.events < 0:
            raise ValueError("events must be >= 0")
        if self.groups < 2:
            raise ValueError("groups must be >= 2 (project 2's extra group types need a second company)")
        if self.persons < 2:
            raise ValueError("persons must be >= 2")
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if self.file_events < 1:
            raise ValueError("file_events must be >= 1")


@dataclass(slots=True)
class TruthEvent:
    """One clean logical event the warehouse must land (after de-duplication by uuid)."""

    uuid: str
    project_id: int
    event: str
    distinct_id: str
    timestamp: datetime
    """True event time (aware UTC, µs): what the warehouse stores after clock-skew correction."""
    properties: dict[str, Any]
    """``properties`` exactly as written."""
    groups: dict[str, str]
    """``$groups`` as sent (group type → key; may contain ``""`` keys); ``{}`` when absent."""
    person_set: dict[str, Any] | None
    person_set_once: dict[str, Any] | None
    group_type: str | None
    group_key: str | None
    group_set: dict[str, Any] | None
    source_name: str
    """Path of the file relative to the inbox, of the FIRST landed copy."""
    source_row: int
    """0-based index of the event within that file."""


@dataclass
class GeneratedSample:
    """What :func:`generate` wrote and what the warehouse is expected to make of it."""

    settings: GeneratorSettings
    files: list[Path]
    """Every file written (bodies, sidecars, exports, bad files), sorted by name."""
    events: list[TruthEvent]
    """The good, de-duplicated events, in landing order (``source_name``, ``source_row``)."""
    quarantined: dict[str, int] = field(default_factory=dict)
    """Expected quarantine counts per reason code: events for event-level reasons, one per
    file for file-level reasons."""

    def end_date(self) -> date:
        """The last generated day."""
        return self.settings.start + timedelta(days=self.settings.days - 1)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
def _iso(us: int) -> str:
    """ISO-8601 with ``+00:00`` and microseconds, as posthog-python writes it."""
    day, rest = divmod(us, _DAY)
    seconds, micro = divmod(rest, _SECOND)
    hour, seconds = divmod(seconds, 3600)
    minute, second = divmod(seconds, 60)
    return f"{_day_prefix(day)}T{hour:02d}:{minute:02d}:{second:02d}.{micro:06d}+00:00"


@functools.lru_cache(maxsize=4096)
def _day_prefix(day: int) -> str:
    return (_EPOCH + timedelta(days=day)).date().isoformat()


def _to_us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _SECOND + delta.microseconds


def _uuid4(rng: random.Random) -> str:
    """A version-4 uuid drawn from ``rng`` (the stdlib's uuid4 uses os.urandom)."""
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64)) | (0x4000 << 64)
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


@dataclass
class _Company:
    index: int
    key: str
    name: str
    weight: float
    start_day: int
    active_p: float
    teams: list[str]
    projects: list[str]
    plan: str
    employees: int
    industry: str
    persons: list[int] = field(default_factory=list)


@dataclass
class _Person:
    index: int
    company: int
    team: str
    anon_id: str
    email: str
    name: str
    weight: float
    first_day: int
    identified_at: int  # µs


@dataclass
class _Chunk:
    """One file to write: its records and how they go on the wire."""

    sort_us: int
    order: int
    kind: str  # a style of _STYLES, "export", "export_gz", or a bad-file kind
    project_id: int | None = None
    api_key: str | None = None
    records: list[_Record] = field(default_factory=list)
    sent_us: int = 0
    received_us: int = 0
    skew_us: int = 0
    key_field: str = "api_key"
    bad_events: bool = False
    retry_of: _Chunk | None = None
    wire: list[Any] | None = None  # the events as written (reused by a retry)
    name: str = ""


# --------------------------------------------------------------------------------------------
# One project's logical events
# --------------------------------------------------------------------------------------------
class _ProjectBuilder:
    """Builds the time-sorted logical events of one project."""

    def __init__(
        self,
        project_id: int,
        api_key: str,
        timezone: str,
        settings: GeneratorSettings,
        rng: random.Random,
        budget: int,
        special_types: bool,
    ) -> None:
        self.project_id = project_id
        self.api_key = api_key
        self.settings = settings
        self.rng = rng
        self.budget = budget
        self.special_types = special_types
        zone = ZoneInfo(timezone)
        self.day_starts = [
            _to_us(datetime.combine(settings.start + timedelta(days=d), time(0), tzinfo=zone))
            for d in range(settings.days + 1)
        ]
        self.records: list[_Record] = []
        self.seq = 0
        self.companies: list[_Company] = []
        self.persons: list[_Person] = []
        #: Time of company 0's newer update, which the late older one must not override.
        self.newer_update_us = 0
        self.company_created_us: dict[int, int] = {}
        self.special_from_us = 0
        #: The ``$merge_dangerously`` that project 1 delivers in the last file (late merge).
        self.late_merge: _Record | None = None

    # -- records -------------------------------------------------------------------------------
    def _add(
        self,
        t_us: int,
        event: str,
        distinct_id: str,
        properties: dict[str, Any],
        groups: dict[str, str] | None = None,
        person_set: dict[str, Any] | None = None,
        person_set_once: dict[str, Any] | None = None,
    ) -> None:
        self.records.append(
            (t_us, self.seq, event, distinct_id, properties, groups, person_set, person_set_once)
        )
        self.seq += 1

    def _group_identify(self, t_us: int, group_type: str, group_key: str, group_set: dict[str, Any]) -> None:
        # Server SDKs send $groupidentify with distinct_id "$<type>_<key>" and no $groups.
        self._add(
            t_us,
            "$groupidentify",
            f"${group_type}_{group_key}",
            {"$group_type": group_type, "$group_key": group_key, "$group_set": group_set},
        )

    def local(self, day: int, hours: float) -> int:
        """µs of ``hours`` after local midnight of ``day``."""
        return self.day_starts[day] + int(hours * _HOUR)

    # -- entities ------------------------------------------------------------------------------
    def make_entities(self) -> None:
        rng, s = self.rng, self.settings
        late_start = max(1, (2 * s.days) // 3)
        for c in range(s.groups):
            word = _COMPANY_WORDS[c % len(_COMPANY_WORDS)]
            key = f"{word}-{c}"
            name = f"{'Zürich' if word == 'zurich' else word.title()} {rng.choice(_COMPANY_SUFFIXES)}"
            start_day = 0 if c < 2 or rng.random() < 0.5 else rng.randrange(late_start)
            n_teams = 1 + rng.randrange(4)
            n_projects = 1 + rng.randrange(5)
            self.companies.append(
                _Company(
                    index=c,
                    key=key,
                    name=name,
                    weight=rng.lognormvariate(0.0, 0.8),
                    start_day=start_day,
                    active_p=rng.uniform(0.55, 0.97),
                    teams=[f"t-{c}-{j}" for j in range(n_teams)],
                    projects=[f"p-{c}-{j}" for j in range(n_projects)],
                    plan=rng.choice(_PLANS[:2]),
                    employees=rng.randrange(5, 2000),
                    industry=rng.choice(_INDUSTRIES),
                )
            )
        company_cum = list(_cumulate(c.weight for c in self.companies))
        for i in range(s.persons):
            if i < s.groups:
                company = self.companies[i]
            else:
                company = rng.choices(self.companies, cum_weights=company_cum)[0]
            first = rng.choice(_FIRST_NAMES)
            last = rng.choice(_LAST_NAMES)
            if i < s.groups:  # the company's first person arrives the day the company starts
                first_day = company.start_day
            else:
                first_day = min(s.days - 1, company.start_day + int(rng.expovariate(1 / 3)))
            if i == 0:
                identified_at = self.local(0, 8)
            else:  # everyone else identifies after person 0's first group events
                identified_at = self.local(first_day, 8) + _MINUTE + rng.randrange(11 * _HOUR)
            person = _Person(
                index=i,
                company=company.index,
                team=company.teams[0] if i == 0 else rng.choice(company.teams),
                anon_id=f"anon-{rng.getrandbits(48):012x}",
                email=f"{first}.{last}.{i}@{company.key}.example",
                name=f"{first.title()} {last.title()}",
                weight=rng.lognormvariate(0.0, 0.7),
                first_day=first_day,
                identified_at=identified_at,
            )
            self.persons.append(person)
            company.persons.append(i)

    # -- structural events ---------------------------------------------------------------------
    def make_structural(self, late_update: bool) -> None:
        """Sign-ups, identifies, group identifies and updates, the fixed first sightings."""
        rng, s = self.rng, self.settings
        for p in self.persons:
            company = self.companies[p.company]
            t = p.identified_at
            self._add(t - rng.randrange(_MINUTE, 20 * _MINUTE), "$pageview", p.anon_id, _pageview("/"))
            self._add(
                t,
                "$identify",
                p.email,
                {"$anon_distinct_id": p.anon_id},
                person_set={"email": p.email, "name": p.name},
                person_set_once={
                    "initial_referrer": rng.choice(_REFERRERS),
                    "signup_date": (s.start + timedelta(days=p.first_day)).isoformat(),
                },
            )
            self._add(
                t + 500_000,
                "signed_up",
                p.email,
                {"signup_method": rng.choice(("email", "google", "github"))},
                groups={"company": company.key},
            )
        # Person 0 fixes the first sightings: company (signed_up above), then team, then project.
        p0 = self.persons[0]
        c0 = self.companies[0]
        t0 = p0.identified_at
        self._add(
            t0 + _SECOND, "insight_viewed", p0.email, _insight(rng), {"company": c0.key, "team": p0.team}
        )
        self._add(
            t0 + 2 * _SECOND,
            "project_created",
            p0.email,
            {"project_name": "First project"},
            {"company": c0.key, "team": p0.team, "project": c0.projects[0]},
        )
        # "No group": an empty key.
        self._add(t0 + 4 * _SECOND, "$pageview", p0.email, _pageview("/home"), {"company": ""})

        for company in self.companies:
            if not company.persons:
                continue
            created = min(self.persons[i].identified_at for i in company.persons) + 5 * _SECOND
            self.company_created_us[company.index] = created
            self._group_identify(
                created,
                "company",
                company.key,
                {
                    "name": company.name,
                    "plan": company.plan,
                    "employees": company.employees,
                    "industry": company.industry,
                    "domain": f"{company.key}.example",
                },
            )
            for j, team in enumerate(company.teams):
                self._group_identify(
                    created + (1 + j) * _SECOND,
                    "team",
                    team,
                    {"name": f"{company.name} {_TEAM_NAMES[j % len(_TEAM_NAMES)]}"},
                )
            for j, project in enumerate(company.projects):
                if rng.random() < 0.5:
                    self._group_identify(
                        created + (10 + j) * _SECOND, "project", project, {"name": f"Project {j + 1}"}
                    )
            # Changes over time: upgrades and head-count changes.
            plan = company.plan
            employees = company.employees
            created_day = self._day_of(created)
            for day in range(created_day + 1, s.days):
                if rng.random() >= 0.08:
                    continue
                change: dict[str, Any] = {}
                if plan != _PLANS[-1] and rng.random() < 0.6:
                    plan = _PLANS[_PLANS.index(plan) + 1]
                    change["plan"] = plan
                if not change or rng.random() < 0.5:
                    employees = max(1, employees + rng.randrange(-50, 200))
                    change["employees"] = employees
                self._group_identify(self.local(day, 9 + rng.random() * 9), "company", company.key, change)

        if late_update:
            # The newer update of company 0: the late older one (written last) must lose "plan".
            newer_day = max(0, (2 * s.days) // 3)
            self.newer_update_us = self.local(newer_day, 15) + 123_456
            self._group_identify(
                self.newer_update_us,
                "company",
                c0.key,
                {"plan": "enterprise", "employees": c0.employees + 50},
            )

        if self.special_types:
            # One client of company 1 also sends workspace, region, channel, first seen in this order.
            c1 = self.companies[1]
            p1 = self.persons[c1.persons[0]]
            day = min(1, s.days - 1)
            t = max(self.local(day, 10), p1.identified_at + _MINUTE)
            base = {"company": c1.key}
            self._add(t, "insight_viewed", p1.email, _insight(rng), {**base, "workspace": "ws-1-0"})
            self._add(
                t + _SECOND,
                "insight_viewed",
                p1.email,
                _insight(rng),
                {**base, "workspace": "ws-1-0", "region": _REGIONS[0]},
            )
            self._add(
                t + 2 * _SECOND,
                "$pageview",
                p1.email,
                _pageview("/insights"),
                {**base, "workspace": "ws-1-0", "region": _REGIONS[0], "channel": _CHANNELS[0]},
            )
            self.special_from_us = t + 3 * _SECOND

    # -- identities ----------------------------------------------------------------------------
    def make_identity_scenarios(self, late_merge: bool) -> None:
        """Identity graphs the warehouse must resolve into persons, on a few chosen persons.

        Draws from a random generator of its own, so the rest of the sample stays as it was.
        """
        s = self.settings
        rng = random.Random(s.seed * 7_919 + self.project_id)
        persons = self.persons
        n = len(persons)

        def later(person: _Person, hours: float) -> int:
            day = min(s.days - 1, person.first_day + 1)
            return max(self.local(day, hours), person.identified_at + _MINUTE)

        # A second device: anonymous browsing, then `$identify` into the same person. Its
        # `$set_once` comes later than the first identify's, so it must lose.
        second = persons[1 % n]
        anon = f"anon-{rng.getrandbits(48):012x}"
        t = later(second, 9.5)
        self._add(t, "$pageview", anon, _pageview("/pricing"))
        self._add(
            t + 30 * _SECOND,
            "$identify",
            second.email,
            {"$anon_distinct_id": anon},
            person_set={"email": second.email, "name": second.name, "device": "laptop-2"},
            person_set_once={"initial_referrer": "second-device", "signup_date": "never"},
        )
        # An alias chain: email → internal user id → CRM id (the CRM id never sends an event).
        chained = persons[2 % n]
        user_id = f"user-{self.project_id}-{chained.index}"
        t = later(chained, 11)
        self._add(t, "$create_alias", chained.email, {"alias": user_id})
        self._add(
            t + _MINUTE,
            "invite_sent",
            user_id,
            {"invitee_role": "member"},
            groups={"company": self.companies[chained.company].key},
            person_set={"crm_synced": True},
        )
        self._add(
            t + 2 * _MINUTE, "$create_alias", user_id, {"alias": f"crm-{self.project_id}-{chained.index}"}
        )
        # An alias cycle: email → a → b → email.
        cyclic = persons[3 % n]
        first_alias = f"cycle-{self.project_id}-{cyclic.index}-a"
        second_alias = f"cycle-{self.project_id}-{cyclic.index}-b"
        t = later(cyclic, 12)
        self._add(t, "$create_alias", cyclic.email, {"alias": first_alias})
        self._add(t + _SECOND, "$create_alias", first_alias, {"alias": second_alias})
        self._add(t + 2 * _SECOND, "$create_alias", second_alias, {"alias": cyclic.email})
        self._add(
            t + _MINUTE, "$pageview", second_alias, _pageview("/settings"), person_set={"theme": "dark"}
        )
        # `$set_once` before identify (anonymous) wins over a later one after identify.
        touched = persons[4 % n]
        self._add(
            touched.identified_at - 30 * _MINUTE,
            "$pageview",
            touched.anon_id,
            _pageview("/blog"),
            person_set_once={"first_touch": "newsletter"},
        )
        self._add(
            later(touched, 14),
            "insight_viewed",
            touched.email,
            _insight(rng),
            {"company": self.companies[touched.company].key},
            person_set={"first_touch_seen": True},
            person_set_once={"first_touch": "webinar"},
        )
        # Two identified persons merged with `$merge_dangerously` near the end.
        kept, merged = persons[5 % n], persons[6 % n]
        if kept.index == merged.index:
            return
        t = max(self.local(s.days - 1, 8), kept.identified_at, merged.identified_at) + _MINUTE
        record: _Record = (
            t,
            self.seq,
            "$merge_dangerously",
            kept.email,
            {"alias": merged.email},
            None,
            None,
            None,
        )
        if late_merge:
            self.late_merge = record  # delivered in the last file, after both persons' events
            self.seq += 1
        else:
            self.records.append(record)
            self.seq += 1

    def make_group_only_events(self) -> None:
        """Server-side group events without a user: the static group-only distinct id."""
        s = self.settings
        rng = random.Random(s.seed * 104_729 + self.project_id)
        for company in self.companies:
            created = self.company_created_us.get(company.index)
            if created is None:
                continue
            for day in range(self._day_of(created) + 1, s.days, 7):
                self._add(
                    self.local(day, 3 + rng.random()),
                    "invoice_paid",
                    GROUP_ONLY_DISTINCT_ID,
                    {"amount_usd": rng.choice((49, 499)), "invoice": f"inv-{company.key}-{day}"},
                    {"company": company.key},
                )

    def _day_of(self, t_us: int) -> int:
        return max(0, bisect.bisect_right(self.day_starts, t_us) - 1)

    # -- volume --------------------------------------------------------------------------------
    def make_volume(self) -> None:
        """Fill the remaining budget with ordinary events, following the seasonality."""
        rng, s = self.rng, self.settings
        budget = max(0, self.budget - len(self.records))
        weights = []
        for d in range(s.days):
            weekday = (s.start + timedelta(days=d)).weekday()
            factor = 1.0 if weekday < 5 else (0.35 if weekday == 5 else 0.3)
            weights.append(factor * (1 + 0.5 * d / s.days) * rng.uniform(0.85, 1.15))
        per_day = _apportion(budget, weights)
        active = [
            [
                d >= c.start_day
                and rng.random() < c.active_p * (1.0 if (s.start + timedelta(days=d)).weekday() < 5 else 0.45)
                for d in range(s.days)
            ]
            for c in self.companies
        ]
        carry = 0
        for d in range(s.days):
            n = per_day[d] + carry
            eligible = [
                p for p in self.persons if p.first_day == d or (p.first_day < d and active[p.company][d])
            ]
            if not eligible or n == 0:
                carry = n
                continue
            carry = 0
            n_hours = round((self.day_starts[d + 1] - self.day_starts[d]) / _HOUR)
            hour_cum = list(_cumulate(_HOUR_WEIGHTS[h % 24] for h in range(n_hours)))
            chosen = rng.choices(eligible, cum_weights=list(_cumulate(p.weight for p in eligible)), k=n)
            hours = rng.choices(range(n_hours), cum_weights=hour_cum, k=n)
            names = rng.choices(_EVENT_NAMES, cum_weights=_EVENT_CUM_WEIGHTS, k=n)
            start = self.day_starts[d]
            for person, hour, name in zip(chosen, hours, names, strict=True):
                t = start + hour * _HOUR + rng.randrange(_HOUR)
                if person.first_day == d and t < person.identified_at:
                    self._add(t, "$pageview", person.anon_id, _pageview(rng.choice(_PATHS)))
                    continue
                if t < person.identified_at + 10 * _SECOND:
                    t = person.identified_at + 10 * _SECOND + rng.randrange(_SECOND)
                self._ordinary(t, person, name)

    def _ordinary(self, t: int, person: _Person, name: str) -> None:
        rng = self.rng
        company = self.companies[person.company]
        groups: dict[str, str]
        if rng.random() < 0.003:
            groups = {"company": ""}
        else:
            groups = {"company": company.key}
            if rng.random() < 0.7:
                groups["team"] = person.team
            if rng.random() < 0.35:
                groups["project"] = rng.choice(company.projects)
            if self.special_types and company.index == 1 and t >= self.special_from_us and rng.random() < 0.9:
                groups["workspace"] = f"ws-1-{rng.randrange(3)}"
                groups["region"] = rng.choice(_REGIONS)
                groups["channel"] = rng.choice(_CHANNELS)
        person_set = None
        if name == "$pageview":
            properties = _pageview(rng.choice(_PATHS))
        elif name == "insight_viewed":
            properties = _insight(rng)
            if rng.random() < 0.05:
                person_set = {"theme": rng.choice(("dark", "light"))}
        elif name == "project_created":
            properties = {"project_name": f"Project {rng.randrange(1000)}"}
        elif name == "invite_sent":
            properties = {"invitee_role": rng.choice(("member", "admin"))}
        else:
            plan = rng.choice(_PLANS[1:])
            properties = {"plan": plan, "amount_usd": 49 if plan == "pro" else 499}
        self._add(t, name, person.email, properties, groups, person_set)

    def build(self, late_update: bool) -> list[_Record]:
        self.make_entities()
        self.make_structural(late_update)
        self.make_identity_scenarios(late_merge=late_update)
        self.make_group_only_events()
        self.make_volume()
        self.records.sort(key=lambda r: (r[0], r[1]))
        return self.records


def _pageview(path: str) -> dict[str, Any]:
    return {"$current_url": f"https://app.example.com{path}", "$pathname": path}


def _insight(rng: random.Random) -> dict[str, Any]:
    return {"insight_id": rng.randrange(1, 500), "insight_type": rng.choice(_INSIGHT_TYPES)}


def _cumulate(values: Iterable[float]) -> Iterator[float]:
    """Running totals (cumulative weights for :meth:`random.Random.choices`)."""
    total = 0.0
    for v in values:
        total += v
        yield total


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    if total <= 0:
        return [0] * len(weights)
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    parts = [math.floor(x) for x in exact]
    rest = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[:rest]:
        parts[i] += 1
    return parts


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------
def _chunk_project(
    records: list[_Record],
    project_id: int,
    api_key: str,
    forced: list[str],
    settings: GeneratorSettings,
    rng: random.Random,
    order_base: int,
) -> list[_Chunk]:
    """Cut a project's time-sorted records into files and pick each file's shape."""
    n = len(records)
    k = min(n, max(_MIN_CHUNKS, math.ceil(n / settings.file_events)))
    if k - 1 < len(forced):
        raise ValueError(f"project {project_id}: {n} events are too few to write every file shape")
    sizes = [1 + extra for extra in _apportion(n - k, [rng.uniform(0.6, 1.4) for _ in range(k)])]
    pieces = []
    at = 0
    for size in sizes:
        pieces.append(records[at : at + size])
        at += size
    kinds: list[str] = []
    styles = [name for name, _ in _STYLE_MIX]
    cum = list(_cumulate(w for _, w in _STYLE_MIX))
    for _ in pieces:
        kinds.append(rng.choices(styles, cum_weights=cum)[0])
    # The first file is a plain capture body; the special shapes go to other, shuffled slots.
    if kinds:
        kinds[0] = "python"
    slots = list(range(1, len(pieces)))
    rng.shuffle(slots)
    chunks: list[_Chunk] = []
    roles: dict[int, str] = dict(zip(slots, forced, strict=False))
    prev_sent = 0
    for i, piece in enumerate(pieces):
        role = roles.get(i, kinds[i])
        kind = {"retry_source": "node", "bad_events": "python", "skew": "python", "token": "python"}.get(
            role, role
        )
        last = piece[-1][0]
        sent = max(last + rng.randrange(200_000, 20 * _SECOND), prev_sent + 1_000)
        prev_sent = sent
        chunk = _Chunk(
            sort_us=sent,
            order=order_base + i,
            kind=kind,
            project_id=project_id,
            api_key=api_key,
            records=piece,
            sent_us=sent,
            received_us=sent + rng.randrange(2_000, 400_000),
            skew_us=_CLOCK_SKEW if role == "skew" else 0,
            key_field="token" if role == "token" else "api_key",
            bad_events=role == "bad_events",
        )
        chunks.append(chunk)
        if role == "retry_source":
            resent = sent + 7 * _MINUTE + rng.randrange(_MINUTE)
            chunks.append(
                _Chunk(
                    sort_us=resent,
                    order=order_base + i + 500_000,
                    kind=kind,
                    project_id=project_id,
                    api_key=api_key,
                    records=piece,
                    sent_us=resent,
                    received_us=resent + (chunk.received_us - chunk.sent_us),
                    retry_of=chunk,
                )
            )
    return chunks


class _Writer:
    """Puts chunks on disk and records the truth in landing order."""

    def __init__(
        self, inbox: Path, rng: random.Random, progress: Callable[[int, int], None] | None, total: int
    ) -> None:
        self.inbox = inbox
        self.rng = rng
        self.progress = progress
        self.total = total
        self.done = 0
        self.files: list[Path] = []
        self.events: list[TruthEvent] = []
        self.seen: set[str] = set()

    def _write(self, name: str, data: bytes, mtime_us: int) -> None:
        path = self.inbox / name
        path.write_bytes(data)
        seconds = mtime_us / _SECOND
        os.utime(path, (seconds, seconds))
        self.files.append(path)

    def _sidecar(self, chunk: _Chunk, headers: dict[str, str], path: str = "/batch/") -> None:
        meta = {"method": "POST", "path": path, "headers": headers, "received_at": _iso(chunk.received_us)}
        self._write(
            chunk.name + ".meta.json", orjson.dumps(meta, option=orjson.OPT_INDENT_2), chunk.received_us
        )

    def _wire_event(self, rec: _Record, style: str, skew_us: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The event as the client sends it, and its ``properties``."""
        t_us, _, event, distinct_id, base, groups, person_set, person_set_once = rec
        spec = _STYLES.get(style, _STYLES["python"])
        properties = dict(base)
        properties["$lib"] = spec["lib"]
        properties["$lib_version"] = spec["lib_version"]
        if groups is not None:
            properties["$groups"] = groups
        wire: dict[str, Any] = {"uuid": "", "event": event}
        top_level_set = style in ("python", "node", "node_nosuffix") and self.rng.random() < 0.5
        if style == "js":
            properties["distinct_id"] = distinct_id  # posthog-js sends it only inside properties
        else:
            wire["distinct_id"] = distinct_id
        if not top_level_set:
            if person_set is not None:
                properties["$set"] = person_set
            if person_set_once is not None:
                properties["$set_once"] = person_set_once
        wire["properties"] = properties
        wire["timestamp"] = _iso(t_us + skew_us)
        if top_level_set:
            if person_set is not None:
                wire["$set"] = person_set
            if person_set_once is not None:
                wire["$set_once"] = person_set_once
        return wire, properties

    def _truth(
        self, chunk: _Chunk, rec: _Record, uuid: str, properties: dict[str, Any], row: int, true_us: int
    ) -> None:
        if uuid in self.seen:
            return
        self.seen.add(uuid)
        event = rec[2]
        is_identify = event == "$groupidentify"
        self.events.append(
            TruthEvent(
                uuid=uuid,
                project_id=chunk.project_id or 0,
                event=event,
                distinct_id=rec[3],
                timestamp=_EPOCH + timedelta(microseconds=true_us),
                properties=properties,
                groups=rec[5] if rec[5] is not None else {},
                person_set=rec[6],
                person_set_once=rec[7],
                group_type=properties["$group_type"] if is_identify else None,
                group_key=properties["$group_key"] if is_identify else None,
                group_set=properties["$group_set"] if is_identify else None,
                source_name=chunk.name,
                source_row=row,
            )
        )
        self.done += 1

    def capture(self, chunk: _Chunk) -> None:
        """A capture body ``{api_key|token, batch, sent_at}`` plus its sidecar."""
        style = chunk.kind
        spec = _STYLES[style]
        rng = self.rng
        source = chunk.retry_of
        if source is not None:
            wire_events = source.wire or []
        else:
            wire_events = []
            rows: list[tuple[_Record, dict[str, Any], dict[str, Any]]] = []
            for rec in chunk.records:
                wire, properties = self._wire_event(rec, style, chunk.skew_us)
                wire["uuid"] = _uuid4(rng)
                wire_events.append(wire)
                rows.append((rec, wire, properties))
            if chunk.bad_events:
                for bad in _bad_events(rng, chunk):
                    wire_events.insert(rng.randrange(len(wire_events) + 1), bad)
            chunk.wire = wire_events
            by_id = {id(wire): (rec, properties) for rec, wire, properties in rows}
            for row, wire in enumerate(wire_events):
                found = by_id.get(id(wire))
                if found is None:
                    continue
                rec, properties = found
                true_us = chunk.received_us + (rec[0] + chunk.skew_us - (chunk.sent_us + chunk.skew_us))
                self._truth(chunk, rec, wire["uuid"], properties, row, true_us)
        body = {
            chunk.key_field: chunk.api_key,
            "batch": wire_events,
            "sent_at": _iso(chunk.sent_us + chunk.skew_us),
        }
        data = orjson.dumps(body)
        if spec["gzip"]:
            data = _gzip(data)
        self._write(chunk.name, data, chunk.received_us)
        self._sidecar(chunk, dict(spec["headers"]), "/batch/?retry_count=1" if source else "/batch/")
        self._report()

    def export(self, chunk: _Chunk, compressed: bool) -> None:
        """A PostHog batch export: NDJSON, one event a line, no ``sent_at``."""
        rng = self.rng
        lines = []
        for row, rec in enumerate(chunk.records):
            t_us, _, event, distinct_id, base, groups, person_set, person_set_once = rec
            properties = dict(base)
            properties["$lib"] = "posthog-python"
            properties["$lib_version"] = "7.91.1"
            if groups is not None:
                properties["$groups"] = groups
            if person_set is not None:
                properties["$set"] = person_set
            if person_set_once is not None:
                properties["$set_once"] = person_set_once
            uuid = _uuid4(rng)
            line = {
                "uuid": uuid,
                "event": event,
                "properties": properties,
                "distinct_id": distinct_id,
                "timestamp": _iso(t_us),
                "team_id": chunk.project_id,
            }
            lines.append(orjson.dumps(line))
            self._truth(chunk, rec, uuid, properties, row, t_us)
        data = b"\n".join(lines) + b"\n"
        self._write(chunk.name, _gzip(data) if compressed else data, chunk.received_us)
        self._report()

    def bad_file(self, chunk: _Chunk) -> None:
        """One of the bad files (with a sidecar, like any capture body)."""
        self._write(chunk.name, _bad_file_bytes(chunk.kind, self.rng, chunk.sent_us), chunk.received_us)
        headers = {"Content-Type": "application/json", "User-Agent": "posthog-python/7.91.1"}
        if chunk.kind == "truncated_gzip":
            headers["Content-Encoding"] = "gzip"
        self._sidecar(chunk, headers)
        self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)


def _bad_events(rng: random.Random, chunk: _Chunk) -> list[Any]:
    """The four broken events hidden in one good body (one per event-level reason)."""
    t = _iso(chunk.records[0][0])
    props = {"$lib": "posthog-python", "$lib_version": "7.91.1"}
    return [
        {"uuid": _uuid4(rng), "distinct_id": "user-without-event", "properties": dict(props), "timestamp": t},
        {"uuid": _uuid4(rng), "event": "$pageview", "properties": dict(props), "timestamp": t},
        {
            "uuid": _uuid4(rng),
            "event": "$pageview",
            "distinct_id": "user-with-bad-time",
            "properties": dict(props),
            "timestamp": "not-a-date",
        },
        "this event is a string, not an object",
    ]


#: Reason codes of the bad input and how many each produces.
_BAD_FILE_REASONS = ("truncated_gzip", "invalid_json", "empty_file")
_UNKNOWN_PROJECT_EVENTS = 5
_BAD_EVENT_REASONS = ("missing_event", "missing_distinct_id", "invalid_timestamp", "not_an_object")


def _bad_file_bytes(kind: str, rng: random.Random, t_us: int) -> bytes:
    if kind == "truncated_gzip":
        body = {
            "api_key": "phc_demo_production_key",
            "batch": [
                {
                    "uuid": _uuid4(rng),
                    "event": "$pageview",
                    "distinct_id": f"anon-{rng.getrandbits(48):012x}",
                    "properties": {"$pathname": "/", "filler": "x" * 64 + str(i)},
                    "timestamp": _iso(t_us - i * _SECOND),
                }
                for i in range(40)
            ],
            "sent_at": _iso(t_us),
        }
        full = _gzip(orjson.dumps(body))
        return full[: len(full) * 3 // 5]
    if kind == "invalid_json":
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"
    if kind == "empty_file":
        return b""
    if kind == "unknown_project":
        body = {
            "api_key": UNKNOWN_API_KEY,
            "batch": [
                {
                    "uuid": _uuid4(rng),
                    "event": "$pageview",
                    "distinct_id": f"stranger-{i}@elsewhere.example",
                    "properties": {
                        "$pathname": "/",
                        "$lib": "posthog-python",
                        "$groups": {"company": "elsewhere"},
                    },
                    "timestamp": _iso(t_us - i * _SECOND),
                }
                for i in range(_UNKNOWN_PROJECT_EVENTS)
            ],
            "sent_at": _iso(t_us),
        }
        return orjson.dumps(body)
    raise ValueError(kind)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------
def generate(
    inbox: Path,
    settings: GeneratorSettings = GeneratorSettings(),  # noqa: B008 - frozen, safe to share
    progress: Callable[[int, int], None] | None = None,
) -> GeneratedSample:
    """Write a seeded synthetic inbox for the demo projects and return the expected truth.

    ``inbox`` is created when missing; files of the same name are overwritten, others are left
    alone.  ``progress`` (optional) is called as ``progress(done_events, total_events)`` after
    every file.  The same ``settings`` always produce byte-identical files.
    """
    # Millions of small, acyclic objects: the cyclic collector would only slow the build down.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(Path(inbox), settings, progress)
    finally:
        if collecting:
            gc.enable()


def _generate(
    inbox: Path, settings: GeneratorSettings, progress: Callable[[int, int], None] | None
) -> GeneratedSample:
    inbox.mkdir(parents=True, exist_ok=True)
    rng = random.Random(settings.seed)
    projects = ProjectsConfig.model_validate(yaml.safe_load(DEMO_PROJECTS_YAML)).projects

    chunks: list[_Chunk] = []
    builders: list[_ProjectBuilder] = []
    forced_roles = (
        [
            "retry_source",
            "bad_events" if settings.bad_files else "python",
            "export",
            "js",
            "node_nosuffix",
            "node",
        ],
        ["skew", "token", "export_gz", "export", "js", "node"],
    )
    for n, (project, share) in enumerate(zip(projects, _PROJECT_SHARES, strict=True)):
        builder = _ProjectBuilder(
            project_id=project.id,
            api_key=project.api_keys[0],
            timezone=project.timezone,
            settings=settings,
            rng=rng,
            budget=round(settings.events * share),
            special_types=n == 1,
        )
        records = builder.build(late_update=n == 0)
        builders.append(builder)
        chunks += _chunk_project(
            records, project.id, project.api_keys[0], forced_roles[n], settings, rng, n * 1_000_000
        )

    # The late, older $groupidentify: arrives in the last file, older than company 0's newer update.
    b1 = builders[0]
    c0 = b1.companies[0]
    older = max(b1.company_created_us[0] + _HOUR, b1.newer_update_us - 2 * _DAY)
    late_record: _Record = (
        older,
        -1,
        "$groupidentify",
        f"$company_{c0.key}",
        {
            "$group_type": "company",
            "$group_key": c0.key,
            "$group_set": {"plan": _LATE_PLAN, "billing_email": f"billing@{c0.key}.example"},
        },
        None,
        None,
        None,
    )
    last_sort = max(c.sort_us for c in chunks)
    late_sent = last_sort + _HOUR
    chunks.append(
        _Chunk(
            sort_us=late_sent,
            order=3_000_000,
            kind="python",
            project_id=b1.project_id,
            api_key=b1.api_key,
            records=[late_record]
            if b1.late_merge is None
            else sorted([late_record, b1.late_merge], key=lambda r: r[0]),
            sent_us=late_sent,
            received_us=late_sent + rng.randrange(2_000, 400_000),
        )
    )

    quarantined: dict[str, int] = {}
    if settings.bad_files:
        span = b1.day_starts[-1] - b1.day_starts[0]
        for k, kind in enumerate((*_BAD_FILE_REASONS, "unknown_project")):
            at = b1.day_starts[0] + span * (k + 1) // 5 + 13 * _HOUR
            chunks.append(
                _Chunk(sort_us=at, order=2_000_000 + k, kind=kind, sent_us=at, received_us=at + 50_000)
            )
        for reason in _BAD_FILE_REASONS:
            quarantined[reason] = 1
        quarantined["unknown_project"] = _UNKNOWN_PROJECT_EVENTS
        for reason in _BAD_EVENT_REASONS:
            quarantined[reason] = 1

    chunks.sort(key=lambda c: (c.sort_us, c.order))
    width = max(4, len(str(len(chunks))))
    for seq, chunk in enumerate(chunks, start=1):
        if chunk.kind == "export":
            suffix, label = ".ndjson", "export"
        elif chunk.kind == "export_gz":
            suffix, label = ".jsonl.gz", "export"
        elif chunk.kind in _STYLES:
            suffix, label = _STYLES[chunk.kind]["suffix"], "capture"
        else:  # bad files look like ordinary capture bodies by name
            suffix, label = (".json.gz" if chunk.kind == "truncated_gzip" else ".json"), "capture"
        chunk.name = f"{seq:0{width}d}-{label}{suffix}"

    total = sum(len(c.records) for c in chunks if c.retry_of is None)
    writer = _Writer(inbox, rng, progress, total)
    for chunk in chunks:
        if chunk.kind in ("export", "export_gz"):
            writer.export(chunk, compressed=chunk.kind == "export_gz")
        elif chunk.kind in _STYLES:
            writer.capture(chunk)
        else:
            writer.bad_file(chunk)

    return GeneratedSample(
        settings=settings,
        files=sorted(writer.files),
        events=writer.events,
        quarantined=quarantined,
    )
