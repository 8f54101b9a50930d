"""Many answers at once: 1,000 questions within 10 s, each streamed by the LLM over 10 s.

Starts the cheap loopback fakes (bench/fake_backends.py: an asyncio LLM streaming 200
tokens over 10 s per answer, and a Stream with every limit off), then `gptbot serve` (its
worker a child process: the default) pointed at them, sends signed `/gpt` webhooks as
Stream would (open loop, 100/s), and reports: webhook ack p50/p99, answers finished and
exact, seconds from each question to its final text, time to first visible text, the
worker process's peak RSS (VmHWM), and urllib3's "Connection pool is full" warnings in the
log (each one a connection opened and thrown away).

    python bench/bench_concurrency.py                                   # the new engine
    python bench/bench_concurrency.py --env GPTBOT_EMBEDDED_WORKER=thread GPTBOT_CONCURRENCY=100
    python bench/bench_concurrency.py --code /tmp/before --env GPTBOT_WORKERS=100  # older tree
    python bench/bench_concurrency.py --redis redis://127.0.0.1:6379/9 --workers 4 \\
        --fixed 2 --questions 400 --within 0 --env GPTBOT_CONCURRENCY=25   # scaling

`--code DIR` runs the bot from another checkout (e.g. `git archive HEAD | tar -x -C DIR`),
for a before/after on the same load. `--workers N` runs N separate `gptbot worker`
processes on Redis (`GPTBOT_EMBEDDED_WORKER=false`); `--fixed S` makes each answer one
piece after S seconds, so the bench measures scheduling rather than CPU.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fake_backends import expected_text  # noqa: E402
from gptbot.cli.dev import free_port  # noqa: E402
from tests.support.common import API_KEY, API_SECRET, command_payload, signed_headers  # noqa: E402

POOL_FULL = "Connection pool is full"
UNLIMITED = {"GPTBOT_STREAM_WRITES_PER_MIN": "100000000", "GPTBOT_STREAM_EVENTS_PER_MIN":
             "100000000", "GPTBOT_USER_DAILY_LIMIT": "0", "GPTBOT_CHANNEL_DAILY_LIMIT": "0"}


def start_fakes(tokens: int, seconds: float, fixed: float) -> tuple[subprocess.Popen, dict]:
    fakes = subprocess.Popen([sys.executable, str(ROOT / "bench/fake_backends.py"), str(tokens),
                              str(seconds), str(fixed)], stdout=subprocess.PIPE, text=True,
                             stderr=subprocess.DEVNULL)  # a client gone mid-stream: noise
    assert fakes.stdout is not None
    return fakes, json.loads(fakes.stdout.readline())


def bot_env(urls: dict, data_dir: str, args: argparse.Namespace) -> dict[str, str]:
    env = {**os.environ, "STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
           "STREAM_CHAT_URL": urls["stream"], "OPENAI_BASE_URL": urls["llm"] + "/v1",
           "OPENAI_API_KEY": "bench", "GPTBOT_DATA_DIR": data_dir, "GPTBOT_LOG_LEVEL": "WARNING",
           "GPTBOT_LOG_FORMAT": "text", **UNLIMITED}
    env.pop("GPTBOT_PUBLIC_URL", None)  # no registration: the fake Stream keeps no settings
    env["GPTBOT_NGROK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/tunnels"  # refused
    if args.redis:
        env["GPTBOT_DATABASE_URL"] = args.redis
    if args.workers:
        env["GPTBOT_EMBEDDED_WORKER"] = "false"
    env.update(dict(item.split("=", 1) for item in args.env))
    if args.code:
        env["PYTHONPATH"] = args.code
    return env


def start_bot(env: dict[str, str], port: int, data_dir: str, log) -> subprocess.Popen:
    command = [sys.executable, "-m", "gptbot.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port)]
    bot = subprocess.Popen(command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT,
                           start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return bot
        except requests.RequestException:
            time.sleep(0.05)
    bot.kill()
    raise SystemExit("gptbot serve did not start")


def start_workers(count: int, env: dict[str, str], data_dir: str, log) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "gptbot.cli", "worker"], env=env,
                             cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)
            for _ in range(count)]


def ask(local: threading.local, port: int, run: str, index: int) -> tuple[int, float, float]:
    session = getattr(local, "session", None) or requests.Session()
    local.session = session
    # A channel each: answers in one conversation wait for each other (jobs/in_order.py).
    payload = command_payload(f"question {index}", message_id=f"{run}-{index}",
                              cid=f"messaging:{run}-{index}")
    payload["user"] = {"id": f"{run}-user-{index}", "name": f"User {index}", "role": "user"}
    body = json.dumps(payload).encode()
    sent = time.time()
    started = time.perf_counter()
    response = session.post(f"http://127.0.0.1:{port}/webhooks/stream/gpt", data=body,
                            headers=signed_headers(body, f"wh-{run}-{index}"), timeout=10)
    ack = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return index, sent, ack


def send_all(port: int, run: str, questions: int, within: float) -> list[tuple[int, float, float]]:
    """Open loop: question i goes out at start + i·within/questions, whatever came before."""
    local = threading.local()
    # The client's own garbage collections would pause its timing of the acks (a full
    # collection stalled a run of them by ~50 ms at the same question every time).
    gc.disable()
    with ThreadPoolExecutor(max_workers=32) as pool:
        start = time.perf_counter()
        futures = []
        for i in range(questions):
            delay = start + i * within / questions - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(ask, local, port, run, i))
        sent = [f.result() for f in futures]
    gc.enable()
    return sent


def wait_for_answers(stream_url: str, reply_ids: list[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = requests.get(f"{stream_url}/_bench/state", timeout=30).json()
        if all(r in state["finished"] for r in reply_ids) or time.monotonic() > deadline:
            return state
        time.sleep(0.5)


def peak_rss_mb(pids: list[int]) -> float:
    peak = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        peak = max(peak, int(found.group(1)) if found else 0)
    return peak / 1024


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # a thread's children are its own
        try:
            children += (task / "children").read_text().split()
        except OSError:
            continue
    return [p for c in children for p in (int(c), *descendants(int(c)))]


def worker_pids(bot: subprocess.Popen, workers: list[subprocess.Popen]) -> list[int]:
    """The processes that run answers: separate workers, serve's worker child, or (thread
    mode, older code) the web processes themselves."""
    if workers:
        return [w.pid for w in workers]
    pids = descendants(bot.pid)
    named = [p for p in pids if b"worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
    return named or pids


def scrape_ack_buckets(port: int) -> dict[float, int]:
    """The bot's own measure of its webhook acks: how many took at most each bucket."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    found = re.findall(r'gptbot_webhook_ack_seconds_bucket\{[^}]*le="([0-9.]+)"[^}]*\} ([0-9.e+]+)',
                       text)
    return {float(le): int(float(n)) for le, n in found if float(le) <= 0.1}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(sent: list[tuple[int, float, float]], state: dict, run: str, args, rss: float,
           log_text: str) -> None:
    acks = [a * 1000 for _, _, a in sent]
    latencies, firsts, token_to_text, exact, shown_one = [], [], [], 0, False
    for index, at, _ in sent:
        reply = f"gpt-{run}-{index}"
        if reply in state["finished"]:
            latencies.append(state["finished"][reply] - at)
            same = state["texts"].get(reply) == expected_text(index, args.tokens)
            exact += same
            if not same and not shown_one:  # show the first that differs
                shown_one = True
                print(f"{reply} ends: {state['texts'].get(reply, '')[-160:]!r}")
        if reply in state["first_text"]:
            firsts.append(state["first_text"][reply] - at)
            if str(index) in state["first_token"]:  # JSON made the question number a string
                token_to_text.append(state["first_text"][reply] - state["first_token"][str(index)])
    done = len(latencies)
    worst = sorted(sent, key=lambda item: -item[2])[:10]
    print("slowest acks (question: ms): " + ", ".join(f"{i}: {a * 1000:.0f}" for i, _, a in worst))
    print(f"questions {len(sent)} within {args.within:g} s; answered {done}, exact {exact}")
    print(f"webhook ack: p50 {statistics.median(acks):.1f} ms, p99 {percentile(acks, .99):.1f}"
          f" ms, max {max(acks):.1f} ms, over 1 s: {sum(a > 1000 for a in acks)}")
    if latencies:
        print(f"question → final text: p50 {statistics.median(latencies):.2f} s, "
              f"max {max(latencies):.2f} s; question → first text: "
              f"p50 {statistics.median(firsts):.2f} s, max {max(firsts):.2f} s")
        if token_to_text:
            ms = [t * 1000 for t in token_to_text]
            print(f"model's first token → first visible text: p50 {statistics.median(ms):.0f} "
                  f"ms, p90 {percentile(ms, .9):.0f} ms, max {max(ms):.0f} ms")
        span = max(state["finished"][f"gpt-{run}-{i}"] for i, _, _ in sent
                   if f"gpt-{run}-{i}" in state["finished"]) - min(at for _, at, _ in sent)
        print(f"first question → last answer: {span:.2f} s ({done / span:.1f} answers/s)")
        ends = sorted(state["finished"][f"gpt-{run}-{i}"] for i, _, _ in sent
                      if f"gpt-{run}-{i}" in state["finished"])
        if len(ends) > 1 and ends[-1] > ends[0]:  # the service rate, once answers flow
            print(f"first answer → last answer: {(len(ends) - 1) / (ends[-1] - ends[0]):.2f}"
                  " answers/s")
    errors = [line for line in log_text.splitlines() if " ERROR " in line]
    print(f"{len(errors)} ERROR lines in the bot's log" + (f"; the first: {errors[0]}" if errors
                                                          else ""))
    print(f"peak RSS of a worker process: {rss:.0f} MB; '{POOL_FULL}' warnings: "
          f"{log_text.count(POOL_FULL)}; Stream requests: {state['requests']}")


def run(args: argparse.Namespace) -> None:
    if args.redis:  # a database of the bench's own, emptied first
        import redis

        redis.Redis.from_url(args.redis).flushdb()
    fakes, urls = start_fakes(args.tokens, args.seconds, args.fixed)
    port, run_id = free_port(), f"b{int(time.time())}"
    with tempfile.TemporaryDirectory() as data_dir:
        log_path = Path(data_dir) / "bot.log"
        env = bot_env(urls, data_dir, args)
        with log_path.open("wb") as log:
            bot = start_bot(env, port, data_dir, log)
            workers = start_workers(args.workers, env, data_dir, log)
            try:
                time.sleep(args.settle)  # the worker process imports and starts
                sent = send_all(port, run_id, args.questions, args.within)
                replies = [f"gpt-{run_id}-{i}" for i, _, _ in sent]
                state = wait_for_answers(urls["stream"], replies, args.timeout)
                server_acks = scrape_ack_buckets(port)
                pids = worker_pids(bot, workers)
                rss, cpu = peak_rss_mb(pids), cpu_seconds(pids)
                web = [bot.pid, *(p for p in descendants(bot.pid) if p not in pids)]
                others = cpu_seconds(web), cpu_seconds([fakes.pid])
            finally:
                for process in (*workers, bot):
                    process.terminate()
                for process in (*workers, bot):
                    process.wait(timeout=60)
                fakes.terminate()
        report(sent, state, run_id, args, rss, log_path.read_text(errors="replace"))
        print("server-side ack (gptbot_webhook_ack_seconds): " + ", ".join(
            f"≤ {le * 1000:g} ms {n}" for le, n in server_acks.items()))
        print(f"CPU of the worker process(es): {cpu:.1f} s; of the web processes: "
              f"{others[0]:.1f} s; of the fakes: {others[1]:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--within", type=float, default=10.0, help="seconds to send them in")
    parser.add_argument("--tokens", type=int, default=200, help="tokens per answer")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per answer")
    parser.add_argument("--fixed", type=float, default=0.0,
                        help="instead: each answer one piece after this many seconds")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="how long to wait for the answers after the last question")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--redis", help="state and queue in this Redis database")
    parser.add_argument("--workers", type=int, default=0,
                        help="separate `gptbot worker` processes (with --redis)")
    parser.add_argument("--code", help="run the bot from this checkout instead")
    parser.add_argument("--env", nargs="*", default=[], help="NAME=value settings for the bot")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
