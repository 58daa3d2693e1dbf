"""``python -m gw.insights [--check]``: regenerate (or check) the generated insight macro file."""

from gw.insights.compile import main

raise SystemExit(main())
