"""`python -m gptbot.cli …`, the same as the `gptbot` command."""

from gptbot.cli.main import main

raise SystemExit(main())
