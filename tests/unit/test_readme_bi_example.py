"""The README's SQLAlchemy example ("BI connections") runs against a published file.

The example is taken from the README as it is (between the ``bi-example`` markers) and run with
``WAREHOUSE_HOME`` pointing at a small published file whose marts have exactly the columns and
types of their dbt contracts, so a renamed column or a changed mart breaks this test, not a
reader's dashboard. The Superset-style URI of the README (read-only through the URL) is checked
on the same file.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
import yaml

REPO = Path(__file__).resolve().parents[2]
MARTS = REPO / "dbt_project" / "models" / "marts"


def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    found = re.search(
        r"<!-- bi-example:start -->\s*```python\n(.*?)```\s*<!-- bi-example:end -->", text, re.S
    )
    assert found, "README.md has no bi-example block"
    return found.group(1)


def contract_columns(model: str) -> list[tuple[str, str]]:
    """(column, data_type) of ``model`` as its yml contract declares them."""
    for path in MARTS.rglob("*.yml"):
        for node in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            if node["name"] == model:
                assert node["config"]["contract"]["enforced"], model
                return [(c["name"], c["data_type"]) for c in node["columns"]]
    raise AssertionError(f"no yml declares {model}")


def create_mart(connection: duckdb.DuckDBPyConnection, model: str, rows: list[dict[str, object]]) -> None:
    columns = contract_columns(model)
    connection.execute(f"create table marts.{model} ({', '.join(f'{n} {t}' for n, t in columns)})")
    for row in rows:
        assert set(row) <= {name for name, _ in columns}, sorted(set(row) - {n for n, _ in columns})
        names = list(row)
        connection.execute(
            f"insert into marts.{model} ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
            [row[n] for n in names],
        )


@pytest.fixture
def published_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    published = tmp_path / "published" / "warehouse.duckdb"
    published.parent.mkdir(parents=True)
    monday = date(2026, 10, 5)
    with duckdb.connect(str(published)) as connection:
        connection.execute("create schema marts")
        create_mart(
            connection,
            "dim_group_types",
            [
                {"project_id": 1, "group_type_index": 0, "group_type": "company", "name_plural": "Companies"},
                {"project_id": 1, "group_type_index": 1, "group_type": "team", "name_plural": None},
                {"project_id": 2, "group_type_index": 0, "group_type": "company", "name_plural": "Firms"},
            ],
        )
        activity = [
            # project 1, companies: two weeks; teams: one day; project 2 must not show up
            (1, 0, "company", monday, 3, 10),
            (1, 0, "company", monday + timedelta(days=1), 5, 7),
            (1, 0, "company", monday + timedelta(days=7), 2, 4),
            (1, 1, "team", monday + timedelta(days=2), 1, 1),
            (2, 0, "company", monday, 9, 99),
        ]
        create_mart(
            connection,
            "fct_daily_active_groups",
            [
                dict(
                    zip(
                        (
                            "project_id",
                            "group_type_index",
                            "group_type",
                            "activity_date",
                            "active_groups",
                            "events",
                        ),
                        values,
                        strict=True,
                    )
                )
                for values in activity
            ],
        )
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    return tmp_path


def test_the_readmes_sqlalchemy_example_prints_weekly_activity(
    published_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exec(compile(readme_example(), "README.md (bi-example)", "exec"), {"__name__": "readme_example"})
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "2026-10-05 Companies 17 5",
        "2026-10-05 team 1 1",
        "2026-10-12 Companies 4 2",
    ]


def test_the_readmes_superset_uri_opens_the_file_read_only(published_home: Path) -> None:
    path = published_home / "published" / "warehouse.duckdb"
    engine = sa.create_engine(f"duckdb:///{path}?access_mode=read_only", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from marts.fct_daily_active_groups")).scalar() == 5
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            connection.execute(sa.text("create table marts.scratch (x integer)"))
    assert "duckdb:////abs/path/to/warehouse/published/warehouse.duckdb?access_mode=read_only" in (
        (REPO / "README.md").read_text()
    )
