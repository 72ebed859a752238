"""``python -m harness``: the command-line entry point."""

from harness.cli.app import main

raise SystemExit(main())
