"""Throughput of gptbot.llm.sse.SSEDecoder against the openai SDK's decoder.

Run: python bench/bench_sse.py [events] [read_size]

Builds a synthetic OpenAI Chat Completions stream (role chunk, content deltas incl.
non-ASCII, finish chunk, usage chunk, [DONE]), feeds it as fixed-size reads and times
framing only and framing + json.loads + joining delta.content. Runs are interleaved in
one process and the best of 5 is kept, because the shared build box is noisy.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from openai._streaming import SSEDecoder as SDKDecoder

from gptbot.llm.sse import SSEDecoder

WORDS = ["Hello", " world", ",", " naïve", " café", " известни", " 日本語", " 🙂", " ok", "\n"]


def build_stream(events: int) -> tuple[bytes, str]:
    """Return (body, expected joined content) for `events` SSE events including [DONE]."""
    head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1727346168}
    head |= {"model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_5050236cbd"}

    def chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        body = {**head, "choices": [choice], **extra}
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"

    content = [WORDS[i % len(WORDS)] for i in range(events - 4)]
    parts = [chunk({"role": "assistant", "content": "", "refusal": None})]
    parts += [chunk({"content": text}) for text in content]
    parts.append(chunk({}, "stop"))
    usage = {"prompt_tokens": 14, "completion_tokens": events - 4, "total_tokens": events + 10}
    parts.append(b"data: " + json.dumps({**head, "choices": [], "usage": usage}).encode() + b"\n\n")
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts), "".join(content)


def reads(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def ours(chunks: list[bytes]) -> Iterator[str]:
    decoder = SSEDecoder()
    for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event.data
    for event in decoder.close():
        yield event.data


def sdk(chunks: list[bytes]) -> Iterator[str]:
    for event in SDKDecoder().iter_bytes(iter(chunks)):
        yield event.data


def framing(source: Callable[[list[bytes]], Iterator[str]], chunks: list[bytes]) -> int:
    return sum(1 for _ in source(chunks))


def framing_json(source: Callable[[list[bytes]], Iterator[str]], chunks: list[bytes]) -> int:
    return content(source, chunks)[0]


def content(source: Callable[[list[bytes]], Iterator[str]], chunks: list[bytes]) -> tuple[int, str]:
    """Count events, json.loads each payload and join delta.content, as a client would."""
    pieces, count = [], 0
    for data in source(chunks):
        count += 1
        if data.startswith("[DONE]"):
            continue
        for choice in json.loads(data)["choices"]:
            text = choice["delta"].get("content")
            if text:
                pieces.append(text)
    return count, "".join(pieces)


def best_of(runs: int, jobs: dict[str, Callable[[], int]]) -> dict[str, tuple[float, int]]:
    best: dict[str, tuple[float, int]] = {}
    for _ in range(runs):
        for name, job in jobs.items():  # interleaved, so drift hits every variant alike
            start = time.perf_counter()
            count = job()
            elapsed = time.perf_counter() - start
            if name not in best or elapsed < best[name][0]:
                best[name] = (elapsed, count)
    return best


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    body, expected = build_stream(events)
    chunks = reads(body, size)
    assert list(ours(chunks)) == list(sdk(chunks)), "decoders disagree"
    assert content(ours, chunks) == (events, expected)
    print(f"{events:,} events, {len(body) / 1e6:.2f} MB, {len(chunks):,} reads of {size} B")
    print(f"Python {sys.version.split()[0]}, best of 5, interleaved\n")
    jobs = {
        "framing      ours": lambda: framing(ours, chunks),
        "framing      sdk ": lambda: framing(sdk, chunks),
        "framing+json ours": lambda: framing_json(ours, chunks),
        "framing+json sdk ": lambda: framing_json(sdk, chunks),
    }
    best = best_of(5, jobs)
    for name, (elapsed, count) in best.items():
        mbps, eps = len(body) / elapsed / 1e6, count / elapsed
        print(f"{name}  {elapsed:6.3f} s  {mbps:6.1f} MB/s  {eps:9,.0f} events/s")
    for kind in ("framing     ", "framing+json"):
        ratio = best[f"{kind} sdk "][0] / best[f"{kind} ours"][0]
        print(f"{kind} ours/SDK throughput ratio: {ratio:.2f}x")


if __name__ == "__main__":
    main()
