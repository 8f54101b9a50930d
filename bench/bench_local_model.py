"""Speed and memory of the embedded local model, through its real OpenAI-compatible server.

Stops any running local server, then times a cold start (weights already assembled),
asks three support questions with streaming and reports, per question, the time to the
first token and llama.cpp's own decode / prompt speeds (`timings` in the last chunk),
then the server process's peak and current RSS. Prints one answer so quality can be read.

    python bench/bench_local_model.py [--model qwen2.5-coder-1.5b] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from gptbot.local.model import LocalModel, Options, start_local_model, stop_local_model
from gptbot.local.weights import default_cache_dir

SYSTEM = "You are a friendly customer-support assistant for an online store. Answer briefly."
QUESTIONS = [
    "How do I change my billing address?",
    "My order arrived damaged. What should I do?",
    "What is the difference between a refund and store credit?",
]


def ask(local: LocalModel, question: str, max_tokens: int) -> tuple[float, dict[str, Any], str]:
    """(seconds to first content, llama.cpp timings, answer text) of one streamed answer."""
    body = {
        "model": local.model,
        "stream": True,
        "max_tokens": max_tokens,
        "seed": 42,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
    }
    started, first, timings, text = time.monotonic(), 0.0, {}, []
    with requests.post(local.base_url + "/chat/completions", json=body, stream=True) as resp:
        for line in resp.iter_lines():
            if not line.startswith(b"data: {"):
                continue
            chunk = json.loads(line[6:])
            timings = chunk.get("timings", timings)
            for choice in chunk.get("choices", []):
                piece = choice["delta"].get("content") or ""
                first = first or (time.monotonic() - started if piece else 0.0)
                text.append(piece)
    return first, timings, "".join(text)


def rss_mb(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory of the server process."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmHWM", "VmRSS")}


def speeds(timings: dict[str, Any]) -> str:
    decode, prompt = timings.get("predicted_per_second", 0), timings.get("prompt_per_second", 0)
    return (
        f"decode {decode:5.1f} tok/s ({timings.get('predicted_n')} tok)"
        f"  prompt {prompt:6.1f} tok/s ({timings.get('prompt_n')} tok)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="", help="GPTBOT_LOCAL_MODEL value ('' = default)")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    parser.add_argument("--threads", type=int, default=0, help="0 = the module's default")
    args = parser.parse_args()
    stop_local_model(args.cache_dir)
    started = time.monotonic()
    local = start_local_model(args.model, args.cache_dir, Options(threads=args.threads))
    took = time.monotonic() - started
    print(f"{local.model}: started in {took:.1f} s, load {os.getloadavg()[0]:.1f} {local.warnings}")
    answer = ""
    for question in QUESTIONS:
        ttft, timings, answer = ask(local, question, args.max_tokens)
        print(f"  ttft {ttft:5.2f} s  " + speeds(timings))
    print("  rss: " + "  ".join(f"{k} {v:.0f} MB" for k, v in rss_mb(local.pid).items()))
    print(f"  last answer: {answer!r}")
    stop_local_model(args.cache_dir)


if __name__ == "__main__":
    main()
