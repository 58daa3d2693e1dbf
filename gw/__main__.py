"""``python -m gw`` runs the ``gw`` command."""

from gw.cli import main

main()
