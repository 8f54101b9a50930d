"""The embedded local model: llama.cpp's OpenAI-compatible server (the `xllamacpp` wheel),
started lazily, once per machine, and shared by every process of the bot.

The first caller takes a file lock, assembles the weights, spawns `python -m
gptbot.local.server` and waits for it to write `server.json` (pid, URL, model); later callers,
in any process, check that pid and /health and reuse the server. It has one slot: llama.cpp
queues concurrent requests in order and counts them on /metrics (`queue_depth()`). It exits
with the caller's process group (Ctrl-C), after `idle_exit` idle seconds, or on
`stop_local_model()`. docs/local-model.md explains the choices.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import requests

from gptbot.core.errors import ProviderError
from gptbot.local.weights import Weights, choose_weights, default_cache_dir, read_json

log = logging.getLogger(__name__)
STATE, LOCK, LOG = "server.json", "server.lock", "server.log"
# Servers this process spawned, so it can reap them (a dead child stays a zombie until then).
_children: dict[int, subprocess.Popen[bytes]] = {}


class LocalModelError(ProviderError):
    user_message = "Sorry, the local model could not start. An operator has to check its log."


@dataclass(frozen=True)
class Options:
    n_ctx: int = 4096  # tokens of context; the model's own maximum would cost far more memory
    threads: int = 0  # 0: one per CPU but one, at most 8 (see _threads)
    idle_exit: float = 900.0  # seconds without requests before the server exits; 0: never
    start_timeout: float = 120.0


@dataclass(frozen=True)
class LocalModel:
    base_url: str  # http://127.0.0.1:PORT/v1, for the openai provider (OPENAI_BASE_URL)
    model: str  # the id the server reports; it accepts any model name in requests
    path: Path
    pid: int
    warnings: tuple[str, ...] = ()  # why the preferred weights were skipped, for the dev UI
    title: str = ""  # for people: "Qwen2.5-Coder-1.5B-Instruct Q4_K_M"


@dataclass(frozen=True)
class QueueDepth:
    running: int
    waiting: int

    @property
    def ahead(self) -> int:  # requests a new request would wait behind
        return self.running + self.waiting


def start_local_model(
    choice: str = "", cache_dir: Path | None = None, options: Options | None = None
) -> LocalModel:
    """Start the local server, or reuse the one already running on this machine.

    `choice` is GPTBOT_LOCAL_MODEL: "" (the best installed), a model name or a .gguf path.
    Cheap when the server runs (a lock, a stat, one loopback request): call it per request.
    """
    cache = cache_dir or default_cache_dir()
    with _machine_lock(cache):
        weights = choose_weights(choice, cache)
        running = _running(cache)
        if running and running.path != weights.path:
            log.info("Local model: replacing %s with %s", running.model, weights.name)
            _terminate(running.pid)
            running = None
        local = running or _spawn(weights, cache, options or Options())
    return replace(local, warnings=weights.warnings, title=weights.title)


def stop_local_model(cache_dir: Path | None = None, timeout: float = 10.0) -> bool:
    """Stop this machine's local server; False when none was running."""
    cache = cache_dir or default_cache_dir()
    with _machine_lock(cache):
        running = _running(cache)
        if running is None:
            return False
        _terminate(running.pid, timeout)  # the server removes its state file as it exits
    return True


def queue_depth(base_url: str) -> QueueDepth:
    """How busy the server is: the answer being generated and the requests waiting for it."""
    metrics = read_metrics(base_url.rstrip("/").removesuffix("/v1"))
    return QueueDepth(int(metrics["requests_processing"]), int(metrics["requests_deferred"]))


def ahead(base_url: str) -> int:
    """Requests the single-slot server will finish before ours; 0 when unknown."""
    try:
        return queue_depth(base_url).ahead
    except (requests.RequestException, KeyError, ValueError):
        return 0


@contextmanager
def _machine_lock(cache: Path) -> Iterator[None]:
    """Serialises start/stop across processes; the kernel drops it if the holder dies."""
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def read_state(path: Path) -> dict[str, Any] | None:
    state = read_json(path)
    return state if isinstance(state, dict) else None


def _as_model(state: dict[str, Any]) -> LocalModel:
    return LocalModel(state["url"] + "/v1", state["model"], Path(state["path"]), state["pid"])


def _running(cache: Path) -> LocalModel | None:
    """The server named by the state file if it answers; a stale file is removed."""
    state = read_state(cache / STATE)
    if state and _alive(state["pid"]) and _healthy(state["url"]):
        return _as_model(state)
    (cache / STATE).unlink(missing_ok=True)
    return None


def _alive(pid: int) -> bool:
    if pid in _children:
        return _children[pid].poll() is None
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return isinstance(exc, PermissionError)  # it exists, as another user's process
    return True


def _healthy(url: str) -> bool:
    with suppress(requests.RequestException):
        return requests.get(url + "/health", timeout=2).status_code == 200
    return False


def _spawn(weights: Weights, cache: Path, options: Options) -> LocalModel:
    (cache / STATE).unlink(missing_ok=True)
    job = {"path": str(weights.path), "name": weights.name, "state": str(cache / STATE)}
    argv = [sys.executable, "-m", "gptbot.local.server", json.dumps({**job, **asdict(options)})]
    log.info("Local model: starting %s", weights.title)
    if weights.warnings:
        log.warning("Local model: %s", "; ".join(weights.warnings))
    with (cache / LOG).open("wb") as out:  # the server's own messages, for when it fails
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    _children[proc.pid] = proc
    return _await_ready(proc, cache, options.start_timeout)


def _await_ready(proc: subprocess.Popen[bytes], cache: Path, timeout: float) -> LocalModel:
    """Wait for the server to write its state file (it does once it listens)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(cache / STATE)
        if state and state.get("pid") == proc.pid:
            return _as_model(state)
        if proc.poll() is not None:
            raise LocalModelError(f"local model exited with {proc.returncode}: {_tail(cache)}")
        time.sleep(0.1)
    _terminate(proc.pid)
    raise LocalModelError(f"local model did not start within {timeout:.0f} s: {_tail(cache)}")


def _tail(cache: Path) -> str:
    return " | ".join((cache / LOG).read_text(errors="replace").splitlines()[-5:])


def _terminate(pid: int, timeout: float = 10.0) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    child = _children.pop(pid, None)
    if child is not None:
        child.wait()  # reap it


def read_metrics(url: str) -> dict[str, float]:
    """llama.cpp's Prometheus gauges and counters, without the `llamacpp:` prefix."""
    text = requests.get(url + "/metrics", timeout=2).text
    pairs = (line.split() for line in text.splitlines() if line and not line.startswith("#"))
    return {p[0].removeprefix("llamacpp:"): float(p[1]) for p in pairs if len(p) == 2}
