"""``python -m tui``: the same as the ``hermes-browse`` command."""

from tui.cli import main

raise SystemExit(main())
