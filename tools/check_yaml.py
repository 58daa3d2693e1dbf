"""Check YAML files offline: each must parse, and no mapping may repeat a key.

The pre-commit hook `check-yaml` (.pre-commit-config.yaml) runs this with the venv's PyYAML, so
the check needs no hook repository from the network. PyYAML alone keeps the last of two equal
keys silently; a repeated key in a dbt yml or an insight file is almost always a mistake, so it
is reported with both line numbers.

Usage: python tools/check_yaml.py FILE...
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects a mapping with the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found key {key!r} again (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def problems(path: Path) -> str | None:
    """Why ``path`` is not valid YAML (or repeats a key); ``None`` when it is fine."""
    try:
        with path.open(encoding="utf-8") as handle:
            for _ in yaml.load_all(handle, Loader=UniqueKeyLoader):  # noqa: S506 - a safe loader
                pass
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    """Report every bad file; exit 1 when there is one."""
    failed = 0
    for name in sys.argv[1:] if argv is None else argv:
        reason = problems(Path(name))
        if reason:
            failed += 1
            print(f"{name}: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
