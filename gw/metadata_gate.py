"""The metadata gate: every public mart is documented and tested, checked by ``dbt-score``.

A public mart is a model in schema ``marts`` — what the published file exposes to BI tools. The
gate's rules (loaded by dbt-score from this module, configured in ``pyproject.toml`` under
``[tool.dbt-score]``) require of each one:

- a description;
- a description of every column, and at least one documented column;
- a grain test (``unique`` on a column or ``unique_combination`` on the model).

Every rule is critical and dbt-score fails below a score of 10, so one missing description fails
the gate. Run it with ``python -m gw.metadata_gate`` (``make lint``; the pre-commit hook): it
parses the project into a private target folder and lints that manifest; ``--manifest PATH``
lints an existing one.
"""

# No `from __future__ import annotations`: dbt-score reads the rules' annotations at runtime.
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from dbt_score import Model, RuleViolation, Severity, rule, rule_filter

#: The schema of the published marts.
PUBLIC_SCHEMA = "marts"
#: The data tests that state a model's grain.
GRAIN_TESTS = frozenset({"unique", "unique_combination"})


@rule_filter
def is_public_mart(model: Model) -> bool:
    """Models published to BI tools (schema ``marts``)."""
    return model.schema == PUBLIC_SCHEMA


@rule(severity=Severity.CRITICAL, rule_filters={is_public_mart()})
def public_mart_has_description(model: Model) -> RuleViolation | None:
    """A public mart says what one row is."""
    if not model.description.strip():
        return RuleViolation("no description: say what one row is (the grain) in its yml")
    return None


@rule(severity=Severity.CRITICAL, rule_filters={is_public_mart()})
def public_mart_columns_have_descriptions(model: Model) -> RuleViolation | None:
    """Every column of a public mart is documented."""
    if not model.columns:
        return RuleViolation("no documented column: list every column with a description in its yml")
    missing = [column.name for column in model.columns if not (column.description or "").strip()]
    if missing:
        return RuleViolation(f"columns without a description: {', '.join(missing)}")
    return None


@rule(severity=Severity.CRITICAL, rule_filters={is_public_mart()})
def public_mart_has_grain_test(model: Model) -> RuleViolation | None:
    """A public mart's grain is tested (``unique`` or ``unique_combination``)."""
    tests = [test.type for test in model.tests]
    tests += [test.type for column in model.columns for test in column.tests]
    if not GRAIN_TESTS.intersection(tests):
        return RuleViolation("no grain test: add unique_combination (or unique) on its key columns")
    return None


def repo_root() -> Path:
    """The repository root, where ``pyproject.toml`` configures dbt-score."""
    return Path(__file__).resolve().parent.parent


def lint(manifest: Path, *extra_args: str) -> subprocess.CompletedProcess[str]:
    """Run ``dbt-score lint`` on ``manifest`` with the repository's configuration.

    ``extra_args`` go to ``dbt-score lint`` (``--format json`` for a machine-readable report).
    """
    executable = Path(sys.executable).with_name("dbt-score")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root()), env.get("PYTHONPATH")]))
    return subprocess.run(
        [
            str(executable) if executable.exists() else "dbt-score",
            "lint",
            "--manifest",
            str(manifest),
            *extra_args,
        ],
        cwd=repo_root(),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def parse_manifest(target: Path) -> Path:
    """``dbt parse`` the project into ``target`` (a private folder); the manifest's path."""
    from gw.config import warehouse_paths
    from gw.dbt import run_dbt

    run_dbt(warehouse_paths(target / "home"), ["parse"], target_path=target)
    return target / "manifest.json"


def main(argv: list[str] | None = None) -> int:
    """``python -m gw.metadata_gate [--manifest PATH]``: exit 1 when a public mart fails."""
    parser = argparse.ArgumentParser(prog="python -m gw.metadata_gate", description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, help="Lint this manifest instead of parsing the project.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gw-metadata-gate-") as folder:
        manifest = args.manifest or parse_manifest(Path(folder))
        completed = lint(manifest)
    sys.stdout.write(completed.stdout)
    sys.stderr.write(completed.stderr)
    if completed.returncode != 0:
        sys.stderr.write(
            "metadata gate failed: describe the mart and every column in its yml and give it a grain "
            "test (see CONTRIBUTING.md)\n"
        )
    return completed.returncode


if __name__ == "__main__":
    raise SystemExit(main())
