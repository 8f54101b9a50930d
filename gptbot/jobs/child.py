"""The worker as a child process of `gptbot serve`, started again whenever it dies.

Streaming hundreds of answers takes CPU that, inside a web process, would hold the GIL
while Stream waits at most 1 s for a webhook's answer. So `gptbot serve` runs one
`gptbot worker --supervised` beside its web processes (gevent: many answers on few
threads, see dispatcher.py) and only enqueues. Stopping is the worker's own: SIGTERM lets
running answers finish for the grace period and hands the rest back; `--supervised` makes a
second SIGTERM (e.g. systemd's to the whole unit, then ours) no reason to hurry, and a
worker whose parent is gone stops by itself.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time

log = logging.getLogger(__name__)
COMMAND = (sys.executable, "-m", "gptbot.cli", "worker", "--supervised")
RESTART_FIRST_S, RESTART_MAX_S = 1.0, 30.0  # a worker that keeps dying is restarted slower
HEALTHY_S = 30.0  # a worker that lived this long had no start-up trouble: back to 1 s
POLL_S = 0.2


class WorkerProcess:
    def __init__(self, grace_s: float, command: tuple[str, ...] = COMMAND) -> None:
        self.grace_s = grace_s
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # stop() and a restart never cross
        self._started = 0.0
        self._delay = RESTART_FIRST_S
        self._thread = threading.Thread(target=self._watch, name="gptbot-worker-process",
                                        daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def stop(self) -> None:
        """SIGTERM, then wait past the grace (the worker hands back what still runs)."""
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(self.grace_s + 10)
        except subprocess.TimeoutExpired:
            log.error("worker process %d did not stop in time; killing it", process.pid)
            process.kill()
        log.info("worker process %d stopped", process.pid)

    def _spawn(self) -> None:
        # A session of its own: a Ctrl-C or a signal to serve's process group reaches it
        # through stop() only, after the web processes, never twice.
        with self._lock:
            if self._stopping.is_set():
                return
            self.process = subprocess.Popen(self.command, start_new_session=True)
            self._started = time.monotonic()
        log.info("the worker runs in child process %d (gptbot worker)", self.process.pid)

    def _watch(self) -> None:
        while not self._stopping.wait(POLL_S):
            process = self.process
            if process is None or process.poll() is None:
                continue
            self._restart(process.returncode)

    def _restart(self, code: int) -> None:
        lived = time.monotonic() - self._started
        if lived > HEALTHY_S:
            self._delay = RESTART_FIRST_S
        delay, self._delay = self._delay, min(self._delay * 2, RESTART_MAX_S)
        log.error("worker process exited (code %s) after %.0f s; starting another in %.0f s",
                  code, lived, delay)
        if not self._stopping.wait(delay):
            self._spawn()
