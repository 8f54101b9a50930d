"""The embedded model's server process: `python -m gptbot.local_server JOB_JSON`.

Started by `gptbot.local.model` (which owns the lock, the state file and the reuse logic);
it loads the weights into llama.cpp's OpenAI-compatible server, announces itself in the
state file, and exits when idle or told to.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import requests

from gptbot.local.model import Options, read_metrics, read_state


def _xllamacpp_server(path: Path, name: str, options: Options) -> Any:
    import xllamacpp  # here, not at the top: the core install does not have it

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.model_alias = {name}
    params.n_ctx = options.n_ctx
    params.n_parallel = 1  # one answer at a time; llama.cpp queues the others in order
    threads = options.threads or _threads(os.cpu_count() or 1)
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    params.hostnames, params.port = ["127.0.0.1"], 0  # loopback only, any free port
    params.endpoint_metrics = True  # for queue_depth() and the idle timer
    params.ui = False
    params.cache_ram_mib = 256  # host-side prompt cache; the 8 GiB default is not for laptops
    params.verbosity = 0
    return xllamacpp.Server(params)


def _threads(cpus: int) -> int:
    """Leave a core to the bot and the browser: llama.cpp's threads wait for each other at
    every layer, so one that loses its core stalls all (docs/local-model.md has numbers)."""
    return min(8, max(1, cpus - 1))


def _write_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)  # readers never see half a file


def _wait_until_idle(url: str, idle_exit: float) -> None:
    """Return once nothing has happened on the server for `idle_exit` seconds (0: never)."""
    last_active, seen = time.monotonic(), None
    while True:
        time.sleep(min(5.0, idle_exit / 4) or 5.0)  # short idle limits (tests) poll faster
        metrics: dict[str, float] = {}
        with suppress(requests.RequestException):
            metrics = read_metrics(url)
        busy = metrics.get("requests_processing", 0) + metrics.get("requests_deferred", 0) > 0
        if busy or metrics != seen:
            last_active, seen = time.monotonic(), metrics
        elif idle_exit and time.monotonic() - last_active >= idle_exit:
            return


def serve(path: Path, name: str, state: Path, options: Options) -> None:
    server = _xllamacpp_server(path, name, options)
    url = server.listening_address.rstrip("/")
    _write_state(state, {"pid": os.getpid(), "url": url, "model": name, "path": str(path)})
    try:
        _wait_until_idle(url, options.idle_exit)
    finally:
        if (read_state(state) or {}).get("pid") == os.getpid():  # not a successor's
            state.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    """The server process; its one argument is the JSON job `_spawn` writes."""
    job = json.loads((argv or sys.argv[1:])[0])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwind, so `finally` cleans up
    with suppress(KeyboardInterrupt):
        options = Options(job["n_ctx"], job["threads"], job["idle_exit"], job["start_timeout"])
        serve(Path(job["path"]), job["name"], Path(job["state"]), options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
