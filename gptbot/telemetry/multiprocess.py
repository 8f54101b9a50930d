"""prometheus-client's multiprocess mode: every process writes its numbers to its own files
in one directory, and a scrape of any process adds up all of them.

prometheus-client decides where values live in a module-level class, chosen from
PROMETHEUS_MULTIPROC_DIR when it is imported, and each process opens one file per kind of
metric the first time it needs one, reading the variable again. We choose instead, when a
`Metrics` is built: the deployment's directory (the variable when the operator set it, else
one under the data dir, shared by the gunicorn processes and `gptbot worker`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import values

from gptbot.config import Config

ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_directory(config: Config, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    directory = Path(env.get(ENV) or config.data_dir / "metrics").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def export_directory(config: Config, environ: Mapping[str, str] | None = None) -> Path:
    """A process that serves one deployment: its directory in the environment, before any
    metric exists, so a process forked later (gunicorn's workers) finds the same one."""
    directory = metrics_directory(config, environ)
    os.environ[ENV] = str(directory)
    return directory


@contextmanager
def values_in(directory: Path) -> Iterator[None]:
    """Within the block, build the metrics: each kind's file opens in `directory`.

    A process has one value class, so one directory at a time. When a second deployment in
    the same process (tests) uses another directory, the first one's files are closed.
    """
    current = values.ValueClass
    if getattr(current, "directory", None) == directory:
        yield  # the same directory: share the open files (two maps of one file would clash)
        return
    if getattr(current, "directory", None) is not None:
        current.close_all_files()
    with _environment(ENV, str(directory)):
        fresh = values.MultiProcessValue()
        fresh.directory = directory
        values.ValueClass = fresh
        yield


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous
