#!/usr/bin/env python3
"""Register /gpt with Stream: a thin wrapper around `gptbot setup` (same flags)."""

import sys

from gptbot.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["setup", *sys.argv[1:]]))
