"""Webhook ack latency at a steady request rate, against the real `gptbot serve`.

Starts the Stream emulator and a loopback LLM in a helper process, runs `gptbot serve`
(gunicorn + embedded worker, SQLite store and queue) as a subprocess pointed at them,
then sends signed `/gpt` webhooks at a fixed rate (open loop: a slow answer does not
delay the next request) while the worker streams answers in the background.

    python bench/bench_ack.py [--rate 100] [--seconds 10] [--tokens-per-second 50]
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


def start_bot(stream_url: str, llm_url: str, data_dir: str) -> subprocess.Popen:
    env = {**os.environ, "STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
           "STREAM_CHAT_URL": stream_url, "OPENAI_BASE_URL": llm_url + "/v1",
           "OPENAI_API_KEY": "bench", "GPTBOT_PUBLIC_URL": f"http://127.0.0.1:{PORT}",
           "GPTBOT_DATA_DIR": data_dir, "GPTBOT_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "gptbot.cli", "serve", "--host", "127.0.0.1",
               "--port", str(PORT)]
    bot = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{PORT}/healthz", timeout=0.5)
            return bot
        except requests.ConnectionError:
            time.sleep(0.05)
    bot.kill()
    raise SystemExit("gptbot serve did not start")


def one_request(session_of: threading.local, index: int) -> float:
    session = getattr(session_of, "session", None) or requests.Session()
    session_of.session = session
    body = json.dumps(command_payload(f"question {index}", message_id=f"bench-{index}")).encode()
    started = time.perf_counter()
    response = session.post(f"http://127.0.0.1:{PORT}/webhooks/stream/gpt", data=body,
                            headers=signed_headers(body, f"wh-{index}"), timeout=5)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return elapsed


def run_load(rate: float, seconds: float) -> list[float]:
    total = int(rate * seconds)
    local = threading.local()
    with ThreadPoolExecutor(max_workers=32) as pool:
        start = time.perf_counter()
        futures = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one_request, local, i))
        return [f.result() for f in futures]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fake_services(urls: Queue, done: Event, answers: Queue, tokens_per_s: float) -> None:
    """Stream emulator and LLM in their own process, so the load client's timings are not
    distorted by them holding this process's GIL."""
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET)
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
    args = parser.parse_args()
    urls: Queue = Queue()
    answers: Queue = Queue()
    done = Event()
    fakes = Process(target=fake_services, args=(urls, done, answers, args.tokens_per_second),
                    daemon=True)
    fakes.start()
    stream_url, llm_url = urls.get(timeout=30)
    with tempfile.TemporaryDirectory() as data_dir:
        bot = start_bot(stream_url, llm_url, data_dir)
        try:
            run_load(rate=20, seconds=1)  # warm-up: connections, SQLite pages
            latencies = run_load(args.rate, args.seconds)
        finally:
            bot.terminate()
            bot.wait(timeout=40)
    done.set()
    ms = [x * 1000 for x in latencies]
    print(f"{len(ms)} webhooks at {args.rate:.0f}/s: p50 {statistics.median(ms):.1f} ms, "
          f"p90 {percentile(ms, 0.9):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
          f"max {max(ms):.1f} ms; answers completed meanwhile: {answers.get(timeout=30)}")


if __name__ == "__main__":
    main()
