"""Webhook ack latency at a steady request rate, against the real `gptbot serve`.

Starts the Stream emulator and a loopback LLM in a helper process, runs `gptbot serve`
(gunicorn + embedded worker, SQLite store and queue) as a subprocess pointed at them,
then sends signed `/gpt` webhooks at a fixed rate (open loop: a slow answer does not
delay the next request) while the worker streams answers in the background.

    python bench/bench_ack.py [--rate 100] [--seconds 10] [--tokens-per-second 50]
    python bench/bench_ack.py --limits [--rounds 2] [--no-worker]

`--limits` compares, in one run, every quota and budget off with every one on (daily
question limits too high to refuse, every USD budget set) and prints both and the on/off
ratio. Each round is a fresh `gptbot serve` and data dir; rounds go off, on, on, off, …
so drift on the machine (warming up, a neighbour's load) weighs on both alike. Each
webhook comes from a user of its own, and a refusal fails the run. `--no-worker` (or
GPTBOT_EMBEDDED_WORKER=false in the environment) measures the ack alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Event, Process, Queue
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gptbot.cli.dev import free_port
from gptbot.emulator import EmulatorState, create_emulator_app, start_server
from tests.support.common import (
    API_KEY,
    API_SECRET,
    command_payload,
    signed_headers,
    sse_chat_stream,
)
from tests.support.servers import FakeLLM, serve_llm

PORT = 8765
LIMIT_SETTINGS = ("GPTBOT_USER_DAILY_LIMIT", "GPTBOT_CHANNEL_DAILY_LIMIT",
                  "GPTBOT_USER_DAILY_BUDGET_USD", "GPTBOT_CHANNEL_DAILY_BUDGET_USD",
                  "GPTBOT_DAILY_BUDGET_USD", "GPTBOT_MONTHLY_BUDGET_USD")
LIMITS_OFF = dict.fromkeys(LIMIT_SETTINGS, "0")
# Every check on, none reached: a refusal would measure a different (shorter) path.
LIMITS_ON = {"GPTBOT_USER_DAILY_LIMIT": "1000000", "GPTBOT_CHANNEL_DAILY_LIMIT": "1000000",
             "GPTBOT_USER_DAILY_BUDGET_USD": "1000", "GPTBOT_CHANNEL_DAILY_BUDGET_USD": "10000",
             "GPTBOT_DAILY_BUDGET_USD": "100000", "GPTBOT_MONTHLY_BUDGET_USD": "1000000"}


def start_bot(stream_url: str, llm_url: str, data_dir: str, port: int = PORT,
              settings: dict[str, str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
           "STREAM_CHAT_URL": stream_url, "OPENAI_BASE_URL": llm_url + "/v1",
           "OPENAI_API_KEY": "bench", "GPTBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "GPTBOT_DATA_DIR": data_dir, "GPTBOT_LOG_LEVEL": "WARNING", **(settings or {})}
    command = [sys.executable, "-m", "gptbot.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port)]
    bot = subprocess.Popen(command, env=env, cwd=data_dir, stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return bot
        except requests.ConnectionError:
            time.sleep(0.05)
    bot.kill()
    raise SystemExit("gptbot serve did not start")


def one_request(session_of: threading.local, port: int, run: str, index: int) -> float:
    session = getattr(session_of, "session", None) or requests.Session()
    session_of.session = session
    payload = command_payload(f"question {index}", message_id=f"{run}-{index}")
    payload["user"] = {"id": f"{run}-user-{index}", "name": f"User {index}", "role": "user"}
    body = json.dumps(payload).encode()
    started = time.perf_counter()
    response = session.post(f"http://127.0.0.1:{port}/webhooks/stream/gpt", data=body,
                            headers=signed_headers(body, f"wh-{run}-{index}"), timeout=5)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    # The normal ack echoes the question; an ephemeral refusal would be a different path.
    assert response.json() == {"message": payload["message"]}, response.text
    return elapsed


def run_load(rate: float, seconds: float, port: int = PORT, run: str = "bench") -> list[float]:
    """Open loop: request i is sent at start + i/rate whatever the earlier ones are doing."""
    total = int(rate * seconds)
    local = threading.local()
    with ThreadPoolExecutor(max_workers=32) as pool:
        start = time.perf_counter()
        futures = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one_request, local, port, run, i))
        return [f.result() for f in futures]


def measure(stream_url: str, llm_url: str, rate: float, seconds: float,
            settings: dict[str, str] | None = None, port: int = PORT) -> list[float]:
    """One fresh `gptbot serve` (own data dir): warm up, then the timed load, in ms."""
    with tempfile.TemporaryDirectory() as data_dir:
        bot = start_bot(stream_url, llm_url, data_dir, port, settings)
        try:
            run_load(rate=20, seconds=1, port=port, run="warmup")  # connections, SQLite pages
            latencies = run_load(rate, seconds, port=port, run="bench")
        finally:
            bot.terminate()
            bot.wait(timeout=40)
    return [x * 1000 for x in latencies]


def summary(ms: list[float]) -> str:
    return (f"p50 {statistics.median(ms):.1f} ms, p90 {percentile(ms, 0.9):.1f} ms, "
            f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fake_services(urls: Queue, done: Event, answers: Queue, tokens_per_s: float) -> None:
    """Stream emulator and LLM in their own process, so the load client's timings are not
    distorted by them holding this process's GIL."""
    # Stream's per-app write limits off: the bench measures the bot, not a 429 back-off.
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET,
                          rate_limits={"messages": None, "events": None})
    words = [f"token{i} " for i in range(60)]
    if tokens_per_s > 0:  # a model's pace: one ~token-sized piece at a time
        llm = FakeLLM(sse_chat_stream(words), piece_sizes=(120, 140), delay=1 / tokens_per_s)
    else:  # as fast as the machine goes: every answer costs CPU only
        llm = FakeLLM(sse_chat_stream(words), piece_sizes=(4000, 8000))
    with start_server(create_emulator_app(state)) as stream, serve_llm(llm) as llm_server:
        urls.put((stream.url, llm_server.url))
        done.wait()
        answers.put(sum(1 for m in state.messages.values() if m["user"]["id"] == "gpt-bot"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tokens-per-second", type=float, default=50,
                        help="pace of the fake LLM's 60-token answers; 0 = no pauses at all")
    parser.add_argument("--limits", action="store_true",
                        help="measure with every quota and budget off, then on; print the ratio")
    parser.add_argument("--rounds", type=int, default=2,
                        help="with --limits: timed runs of each setting, in ABBA order")
    parser.add_argument("--no-worker", action="store_true",
                        help="no embedded worker (GPTBOT_EMBEDDED_WORKER=false): the ack alone")
    args = parser.parse_args()
    worker = {"GPTBOT_EMBEDDED_WORKER": "false"} if args.no_worker else {}
    urls: Queue = Queue()
    answers: Queue = Queue()
    done = Event()
    fakes = Process(target=fake_services, args=(urls, done, answers, args.tokens_per_second),
                    daemon=True)
    fakes.start()
    stream_url, llm_url = urls.get(timeout=30)
    if not args.limits:
        ms = measure(stream_url, llm_url, args.rate, args.seconds, worker)
        done.set()
        print(f"{len(ms)} webhooks at {args.rate:.0f}/s: {summary(ms)}; "
              f"answers completed meanwhile: {answers.get(timeout=30)}")
        return
    runs: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(args.rounds * 2):
        name = ("off", "on", "on", "off")[i % 4]
        settings = {**worker, **(LIMITS_ON if name == "on" else LIMITS_OFF)}
        ms = measure(stream_url, llm_url, args.rate, args.seconds, settings, free_port())
        print(f"round {i + 1}, limits {name}: {summary(ms)}", flush=True)
        runs[name] += ms
    done.set()
    off, on = runs["off"], runs["on"]
    p50 = statistics.median(on) / statistics.median(off)
    p99 = percentile(on, 0.99) / percentile(off, 0.99)
    print(f"{len(off)} webhooks at {args.rate:.0f}/s with limits off, {len(on)} with them on:")
    print(f"  limits off: {summary(off)}")
    print(f"  limits on:  {summary(on)}")
    print(f"  on/off: p50 x{p50:.2f}, p99 x{p99:.2f}; "
          f"answers completed meanwhile: {answers.get(timeout=30)}")


if __name__ == "__main__":
    main()
