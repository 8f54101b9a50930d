"""Running the service: `gptbot serve` (the Procfile's web line): gunicorn, configured from
code, with the worker as its child process (or inside each web process:
GPTBOT_EMBEDDED_WORKER=thread); and `gptbot worker`, which is that child process too."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any

import requests
from dotenv import load_dotenv
from flask import Flask
from gunicorn.app.base import BaseApplication
from stream_chat.base.exceptions import StreamAPIException

from gptbot.config import Config
from gptbot.core.errors import SetupError
from gptbot.diagnosis import describe_failure, diagnose_startup, render_failures
from gptbot.jobs.child import WorkerProcess
from gptbot.jobs.housekeeping import Housekeeping
from gptbot.jobs.queue import EmbeddedWorker, worker_for
from gptbot.jobs.waiting import WaitingNotice
from gptbot.services import Services, build_services
from gptbot.stream.registration import register
from gptbot.telemetry import logs
from gptbot.telemetry.multiprocess import export_directory
from gptbot.web.app import create_app
from gptbot.web.public_url import public_url_for

log = logging.getLogger(__name__)
WORKER_NICENESS = 5  # CPU weight ~1/3 of a web process's (Linux CFS) when both are busy


def configure_logging(config: Config | str) -> None:
    """Every line of the process in GPTBOT_LOG_FORMAT (text, or JSON lines), with the
    command's correlation id, secrets masked. A bare level (older callers): plain text."""
    if isinstance(config, str):
        logging.basicConfig(level=config,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return
    logs.install(config)


def serve_app(environ: Mapping[str, str] | None = None) -> Flask:
    """Build one process's app: register with Stream, start its embedded worker."""
    load_dotenv()
    config = Config.from_env(environ)
    configure_logging(config)
    # Before any metric exists: every process of the deployment adds to one directory.
    export_directory(config, environ)
    services = build_services(config)
    register_at_startup(services, _port(environ))
    if config.embedded_worker and config.embedded_worker_mode == "thread":
        start_embedded_worker(services)
    app = create_app(config, services)
    settle_heap()
    return app


def settle_heap() -> None:
    """Move everything built at start-up (modules, services) out of the collector's reach.
    Otherwise each full collection walks those hundreds of thousands of objects again: a
    ~60 ms pause of every thread, in the middle of webhooks that have 1 s."""
    gc.collect()
    gc.freeze()


def register_at_startup(services: Services, port: int | None) -> None:
    """Register with Stream, or log its one cause and fix (the doctor's words, no traceback)
    and keep serving: an earlier registration may well be in place."""
    problem = diagnose_startup(services.config, port)
    if problem:
        _cannot_register(render_failures(problem))
        return
    try:
        url = public_url_for(services.config, port)
    except SetupError as exc:
        log.warning("not registering with Stream: %s", exc)
        return
    try:
        changes = register(services.stream, services.config, url)
    except (StreamAPIException, requests.RequestException) as exc:
        _cannot_register(describe_failure(exc, services.config))
        return
    for change in changes:
        log.info("setup: %s", change)
    log.info("Stream calls %s", services.config.handler_url(url))


def _cannot_register(failure: str) -> None:
    log.error("could not register with Stream: %s\n  then `gptbot doctor` checks the rest",
              failure)


def _worker(services: Services) -> EmbeddedWorker:
    config = services.config
    for deprecation in config.deprecations:
        log.warning("%s", deprecation)
    housekeeping = Housekeeping(services.stores, config.ledger_days,
                                retention_days=config.safety.retention_days)
    waiting = WaitingNotice(services.queue.huey, services.stream, config)
    return worker_for(config, services.queue, services.stores.jobs, services.answerer.running,
                      housekeeping, services.telemetry, on_full=waiting, slots=services.slots)


def run_worker(config: Config, supervised: bool = False) -> None:
    """`gptbot worker`, until SIGTERM or SIGINT; then running answers may finish for
    GPTBOT_SHUTDOWN_GRACE_S and the rest goes back to the queue. A second signal hands it
    back at once, unless `supervised` (serve's child: its parent's signal may come twice);
    then a parent that is gone is a signal too."""
    configure_logging(config)
    if supervised:
        _yield_cpu_to_webhooks()
    services = build_services(config)
    worker = _worker(services)
    settle_heap()
    stop = threading.Event()

    def on_signal(*_: object) -> None:
        (worker.hurry if stop.is_set() and not supervised else stop).set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    if supervised:
        _stop_when_orphaned(stop)
    stop.wait()
    worker.stop()
    services.close()


def _yield_cpu_to_webhooks() -> None:
    """serve's worker children run at a lower CPU priority than its web processes: a
    webhook has 1 s and is a few milliseconds of work, an answer's next update can wait
    that long. Idle cores still go to the worker in full."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError as exc:  # a sandbox may refuse; the worker still runs
        log.warning("could not lower the worker's CPU priority: %s", exc)


def _stop_when_orphaned(stop: threading.Event) -> None:
    parent = os.getppid()

    def watch() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent:
                log.warning("the serving process is gone; stopping")
                stop.set()

    threading.Thread(target=watch, name="gptbot-parent-watch", daemon=True).start()


def start_embedded_worker(services: Services) -> EmbeddedWorker:
    """The worker inside this web process, on real threads (GPTBOT_EMBEDDED_WORKER=thread)."""
    worker = _worker(services)
    log.info("the worker runs inside this web process (GPTBOT_EMBEDDED_WORKER=thread)")
    # Worker threads parse streams while request threads must answer Stream within 1 s:
    # hand the GIL over more often (default 5 ms) so a webhook never queues behind them.
    sys.setswitchinterval(0.001)
    worker.start()
    # At exit (gunicorn's graceful stop of this process): running answers may finish for
    # GPTBOT_SHUTDOWN_GRACE_S, the rest goes back to the queue for another process.
    atexit.register(worker.stop)
    return worker


def _port(environ: Mapping[str, str] | None) -> int | None:
    raw = (environ if environ is not None else os.environ).get("PORT")
    return int(raw) if raw and raw.isdigit() else None


class GunicornServer(BaseApplication):
    """gunicorn, configured from code, serving serve_app() in each worker process.

    Its options should carry `logconfig_dict` (`logs.gunicorn_logconfig`): then the master's
    lines and the access log come out in the same format as the app's.
    """

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return serve_app()


def run_gunicorn(
    host: str, port: int, processes: int, threads: int, config: Config | None = None
) -> None:
    os.environ.setdefault("PORT", str(port))
    config = config or Config.from_env()
    export_directory(config)  # the master's environment, inherited by every worker
    options = {"bind": f"{host}:{port}", "workers": processes, "threads": threads,
               "worker_class": "gthread",
               # Past the answers' own grace: they hand themselves back before gunicorn kills.
               "graceful_timeout": int(config.shutdown_grace_s) + 5,
               # The access log (one line per request, as JSON too) goes through it.
               "logconfig_dict": logs.gunicorn_logconfig(config)}
    if config.embedded_worker and config.embedded_worker_mode == "process":
        options.update(_worker_process_hooks(config))
    GunicornServer(options).run()


def _worker_process_hooks(config: Config) -> dict[str, Any]:
    """The master starts the worker children once it listens (one per core by default: a
    gevent process streams on one core), and stops them (grace, hand-back) after the web
    processes have stopped taking webhooks."""
    children = [WorkerProcess(config.shutdown_grace_s) for _ in range(config.worker_children)]

    def start(_server: object) -> None:
        for child in children:
            child.start()

    def stop(_server: object) -> None:
        # SIGTERM to all first, so their graces run side by side, not one after another.
        stopping = [threading.Thread(target=child.stop) for child in children]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()

    return {"when_ready": start, "on_exit": stop}
