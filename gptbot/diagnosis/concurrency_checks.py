"""Checks of the worker's concurrency: gevent for GPTBOT_CONCURRENCY answers at once, enough
file descriptors for them, worker children for the cores, and the old GPTBOT_WORKERS
setting."""

from __future__ import annotations

import importlib
import os
import resource

from gptbot.config import WORKERS_DEPRECATED
from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Context

# An answer holds a socket to the model, one to Stream, and the store's and queue's
# connections: about four descriptors each.
FILES_PER_ANSWER = 4
_OFF = ("0", "false", "no", "off")


def concurrency(context: Context) -> str:
    """gevent imports (as `gptbot worker` does first thing), unless GPTBOT_GEVENT=false."""
    wanted = context.config.concurrency
    if context.environ.get("GPTBOT_GEVENT", "").strip().lower() in _OFF:
        return f"GPTBOT_CONCURRENCY={wanted} on threads (GPTBOT_GEVENT=false)"
    try:
        gevent = importlib.import_module("gevent")
    except ImportError as exc:
        raise Problem("gevent.missing", error=str(exc), concurrency=wanted) from exc
    return f"GPTBOT_CONCURRENCY={wanted} on gevent {gevent.__version__}"


def open_files(context: Context) -> str:
    """The soft limit (`ulimit -n`) this process inherited, as `gptbot worker` would."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    concurrency = context.config.concurrency
    needed = FILES_PER_ANSWER * concurrency
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise Problem("files.too_few", soft=soft, needed=needed, concurrency=concurrency)
    return f"ulimit -n {soft}, enough for {concurrency} answers"


def worker_processes(context: Context) -> str:
    """More `gptbot serve` worker children than cores only share those cores (and each
    streams up to GPTBOT_CONCURRENCY on its own)."""
    config, cores = context.config, len(os.sched_getaffinity(0))
    children = config.worker_children
    if children > cores:
        raise Problem("workers.over_cores", children=children, cores=cores)
    return (f"{children} worker children (one per core, GPTBOT_WORKER_PROCESSES to change)"
            if not config.worker_processes else f"{children} worker children of {cores} cores")


def deprecated_settings(context: Context) -> str:
    config = context.config
    if WORKERS_DEPRECATED in config.deprecations:
        raise Problem("workers.deprecated", concurrency=config.concurrency,
                      workers=context.environ.get("GPTBOT_WORKERS", "?"))
    return "none"
