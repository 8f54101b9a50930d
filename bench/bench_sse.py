"""Throughput of the whole stream → text path, ours against a client built on the SDK.

Run: python bench/bench_sse.py [megabytes] (default 20)

For each wire format (OpenAI Chat Completions and its compatible servers, Anthropic,
Gemini, Ollama) it times, on the same bytes fed as 4 KiB and 64 KiB reads:

* ours: our framing (gptbot.llm.sse / ndjson) + the wire mapping + ChatAccumulator, to
  the final text, as the provider modules run it;
* dict path: the same with the general `json.loads` mapping only (the code before the
  typed fast path);
* SDK + json.loads: the openai SDK's SSEDecoder (for Ollama's NDJSON: requests'
  iter_lines, what its examples use) + json.loads + joining the text fields;
* json.loads loop: nothing but json.loads on each payload, framed beforehand, the floor
  of any client that decodes into dicts.

The bodies are the real captures in /work/shared/streams (read in place), repeated up to
the size asked for; without them, synthetic streams. Runs are interleaved in one process
and the best of 5 is kept, because the shared build box is noisy.
"""

from __future__ import annotations

import gc
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import requests
from openai._streaming import SSEDecoder as SDKDecoder

from gptbot.core.events import StreamEvent
from gptbot.llm.accumulate import ChatAccumulator
from gptbot.llm.ndjson import decode_ndjson
from gptbot.llm.providers import anthropic_wire, gemini_wire, ollama_wire, openai_wire
from gptbot.llm.providers.base import WholeCallNumbering
from gptbot.llm.sse import decode_sse

STREAMS = Path(__file__).resolve().parents[2] / "shared" / "streams"
READ_SIZES = (4096, 65536)
RUNS = 5
Reads = list[bytes]


# --- ours: framing + mapping + accumulation, as the provider modules run them --------------


def chat_text(reads: Reads, mapper: Callable[[str, str], list[StreamEvent]]) -> str:
    acc = ChatAccumulator()
    for event in decode_sse(reads):
        if openai_wire.is_done(event.data):
            break
        acc.add_all(mapper(event.data, event.event))
    return acc.text


def anthropic_text(reads: Reads, mapper: Callable[[str], list[StreamEvent]]) -> str:
    acc = ChatAccumulator()
    for event in decode_sse(reads):
        if event.event == "message_stop":
            break
        acc.add_all(mapper(event.data))
    return acc.text


def gemini_text(reads: Reads, mapper: Callable[[str], list[StreamEvent]]) -> str:
    acc, numbering = ChatAccumulator(), WholeCallNumbering()
    for event in decode_sse(reads):
        acc.add_all(numbering(mapper(event.data)))
    return acc.text


def ollama_text(reads: Reads, mapper: Callable[[str], list[StreamEvent]]) -> str:
    acc, numbering = ChatAccumulator(), WholeCallNumbering()
    for line in decode_ndjson(reads):
        acc.add_all(numbering(mapper(line)))
    return acc.text


# --- the SDK-based client: its decoder, json.loads, the text fields joined -----------------


def sdk_payloads(reads: Reads) -> Iterator[str]:
    for event in SDKDecoder().iter_bytes(iter(reads)):
        if event.data and not event.data.startswith("[DONE]"):
            yield event.data


def requests_lines(reads: Reads) -> Iterator[bytes]:
    response = requests.Response()
    response.raw = io.BytesIO(b"".join(reads))  # read back in reads of the same size
    for line in response.iter_lines(chunk_size=len(reads[0]) if reads else 1):
        if line.strip():
            yield line


def chat_pieces(payload: dict[str, Any]) -> Iterator[str]:
    for choice in payload.get("choices") or []:
        content = (choice.get("delta") or {}).get("content")
        if choice.get("index", 0) == 0 and isinstance(content, str):
            yield content


def anthropic_pieces(payload: dict[str, Any]) -> Iterator[str]:
    delta = payload.get("delta") or {}
    if payload.get("type") == "content_block_delta" and delta.get("type") == "text_delta":
        yield delta["text"]


def gemini_pieces(payload: dict[str, Any]) -> Iterator[str]:
    for candidate in payload.get("candidates") or []:
        if candidate.get("index", 0) == 0:
            for part in (candidate.get("content") or {}).get("parts") or []:
                if isinstance(part.get("text"), str) and not part.get("thought"):
                    yield part["text"]


def ollama_pieces(payload: dict[str, Any]) -> Iterator[str]:
    yield (payload.get("message") or {}).get("content") or payload.get("response") or ""


# --- the formats ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    name: str
    providers: tuple[str, ...]  # sidecar `provider` values; a trailing "/" is a prefix
    whole: Callable[[Reads, Any], str]  # framing + a mapper + accumulation, to the text
    mapper: Callable[..., list[StreamEvent]]  # ours: the fast path first
    dict_mapper: Callable[..., list[StreamEvent]]  # the general path alone
    frame: Callable[[Reads], Iterator[str | bytes]]  # the reference client's framing
    pieces: Callable[[dict[str, Any]], Iterator[str]]
    synthetic: Callable[[list[str]], bytes]

    def ours(self, reads: Reads) -> str:
        return self.whole(reads, self.mapper)

    def dict_path(self, reads: Reads) -> str:
        return self.whole(reads, self.dict_mapper)

    def reference(self, reads: Reads) -> str:
        return "".join(p for data in self.frame(reads) for p in self.pieces(json.loads(data)))

    def payloads(self, reads: Reads) -> list[str | bytes]:
        return list(self.frame(reads))


def sse(*payloads: dict[str, Any], events: tuple[str, ...] = ()) -> bytes:
    named = [f"event: {name}\n" for name in events] or [""] * len(payloads)
    framed = zip(named, payloads, strict=True)
    return "".join(f"{e}data: {json.dumps(p)}\n\n" for e, p in framed).encode()


def synthetic_chat(words: list[str]) -> bytes:
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o"}
    parts = [{**chunk, "choices": [{"index": 0, "delta": {"content": w}}]} for w in words]
    usage = {"prompt_tokens": 14, "completion_tokens": len(words)}
    return sse(*parts, {**chunk, "choices": [], "usage": usage}) + b"data: [DONE]\n\n"


def synthetic_anthropic(words: list[str]) -> bytes:
    delta = {"type": "content_block_delta", "index": 0}
    parts = [{**delta, "delta": {"type": "text_delta", "text": word}} for word in words]
    names = ("content_block_delta",) * len(words) + ("message_stop",)
    return sse(*parts, {"type": "message_stop"}, events=names)


def synthetic_gemini(words: list[str]) -> bytes:
    usage = {"promptTokenCount": 9, "candidatesTokenCount": 1, "totalTokenCount": 10}
    parts = [{"content": {"parts": [{"text": w}], "role": "model"}, "index": 0} for w in words]
    return sse(*({"candidates": [p], "usageMetadata": usage} for p in parts))


def synthetic_ollama(words: list[str]) -> bytes:
    message = [{"role": "assistant", "content": word} for word in words]
    lines = [{"model": "llama3.2", "message": m, "done": False} for m in message]
    lines.append({"model": "llama3.2", "done": True, "eval_count": len(words)})
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


OPENAI = ("openai-chat", "azure-openai-chat", "openai-compatible/")
FORMATS = [
    Format("OpenAI chat", OPENAI, chat_text, openai_wire.map_chat_chunk,
           openai_wire.map_chat_chunk_dict, sdk_payloads, chat_pieces, synthetic_chat),
    Format("Anthropic", ("anthropic",), anthropic_text, anthropic_wire.map_event,
           anthropic_wire.map_event_dict, sdk_payloads, anthropic_pieces, synthetic_anthropic),
    Format("Gemini", ("gemini",), gemini_text, gemini_wire.map_chunk,
           gemini_wire.map_chunk_dict, sdk_payloads, gemini_pieces, synthetic_gemini),
    Format("Ollama", ("ollama",), ollama_text, ollama_wire.map_line,
           ollama_wire.map_line_dict, requests_lines, ollama_pieces, synthetic_ollama),
]


# --- the bodies ----------------------------------------------------------------------------

WORDS = ["Hello", " world", ",", " naïve", " café", " известни", " 日本語", " 🙂", " ok", "\n"]


def bodies(fmt: Format) -> tuple[list[tuple[bytes, str]], str]:
    """(body, expected text) of each capture of the format, else one synthetic stream."""
    found = []
    for path in sorted(STREAMS.glob("*.*")) if STREAMS.is_dir() else []:
        sidecar = path.with_suffix(".json")
        if path.suffix != ".json" and sidecar.is_file():
            expected = json.loads(sidecar.read_text())
            if _is_one_of(expected["provider"], fmt.providers):
                found.append((path.read_bytes(), expected["expected_text"]))
    if found:
        return found, "real captures"
    words = [WORDS[i % len(WORDS)] for i in range(200)]
    return [(fmt.synthetic(words), "".join(words))], "synthetic"


def _is_one_of(provider: str, providers: tuple[str, ...]) -> bool:
    return any(provider == p or (p.endswith("/") and provider.startswith(p)) for p in providers)


def corpus(found: list[tuple[bytes, str]], megabytes: float) -> list[tuple[bytes, str]]:
    """The bodies repeated until they add up to `megabytes`; each stays its own stream."""
    size = sum(len(body) for body, _ in found)
    return found * max(1, round(megabytes * 1e6 / size))


def reads(body: bytes, size: int) -> Reads:
    return [body[i : i + size] for i in range(0, len(body), size)]


# --- timing --------------------------------------------------------------------------------


def jobs(fmt: Format, streams: list[Reads]) -> dict[str, Callable[[], object]]:
    framed = [fmt.payloads(stream) for stream in streams]  # outside the timing
    return {
        "ours": lambda: [fmt.ours(stream) for stream in streams],
        "dict path": lambda: [fmt.dict_path(stream) for stream in streams],
        "SDK + json.loads": lambda: [fmt.reference(stream) for stream in streams],
        "json.loads loop": lambda: loads_loop(framed),
    }


def loads_loop(framed: list[list[str | bytes]]) -> None:
    for payloads in framed:
        for data in payloads:
            json.loads(data)  # dropped at once, like the other jobs' dicts


def best_of(runs: int, timed: dict[str, Callable[[], object]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(runs):
        for name, job in timed.items():  # interleaved, so drift hits every variant alike
            gc.collect()  # no job pays for another's garbage
            start = time.perf_counter()
            job()
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
    return best


def check(fmt: Format, streams: list[Reads], expected: list[str]) -> None:
    for stream, text in zip(streams, expected, strict=True):
        assert fmt.ours(stream) == fmt.dict_path(stream) == text, f"{fmt.name}: wrong text"
        assert fmt.reference(stream) == text, f"{fmt.name}: reference client disagrees"


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    print(f"Python {sys.version.split()[0]}, best of {RUNS}, interleaved, MB/s of body bytes\n")
    head = f"{'format':<12} {'read':>6} {'MB':>5}  {'ours':>6} {'dict':>6} {'SDK+json':>8}"
    print(head + f" {'json loop':>9}  {'ours/SDK':>8} {'ours/json':>9}  bodies")
    for fmt in FORMATS:
        found, source = bodies(fmt)
        bodies_and_texts = corpus(found, megabytes)
        total = sum(len(body) for body, _ in bodies_and_texts)
        for size in READ_SIZES:
            streams = [reads(body, size) for body, _ in bodies_and_texts]
            check(fmt, streams[: len(found)], [text for _, text in found])
            mbps = {k: total / t / 1e6 for k, t in best_of(RUNS, jobs(fmt, streams)).items()}
            ours, sdk, loop = mbps["ours"], mbps["SDK + json.loads"], mbps["json.loads loop"]
            print(
                f"{fmt.name:<12} {size // 1024:>4}Ki {total / 1e6:>5.1f}  {ours:>6.1f}"
                f" {mbps['dict path']:>6.1f} {sdk:>8.1f} {loop:>9.1f}"
                f"  {ours / sdk:>7.2f}x {ours / loop:>8.2f}x  {len(found)} {source}"
            )


if __name__ == "__main__":
    main()
