"""gevent for the worker process: many answers streamed at once on a few OS threads.

`gptbot worker` (also the child process `gptbot serve` starts) patches the standard library
first thing, before anything imports sockets, ssl or threads, so that requests/urllib3,
redis-py, the stream-chat SDK, tenacity's sleeps and every `threading.Thread` of the worker
cooperate on one hub. Nothing is patched at import time, and never in the web processes or
the tests: they run the same code on real threads. GPTBOT_GEVENT=false opts out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence


def wants_greenlets(argv: Sequence[str]) -> bool:
    """Only the worker command, and unless turned off (read before Config exists: patching
    must come before the imports Config.from_env needs)."""
    command = next((arg for arg in argv if not arg.startswith("-")), "")
    off = os.environ.get("GPTBOT_GEVENT", "").strip().lower() in ("0", "false", "no", "off")
    return command == "worker" and not off


def patch() -> None:
    from gevent import monkey

    monkey.patch_all()
