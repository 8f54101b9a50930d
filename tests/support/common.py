"""Shared test values and helpers."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from gptbot.config import Config
from gptbot.web.signature import sign

API_KEY = "test-key"
API_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
STREAM_URL = "https://stream.test"
LLM_URL = "https://llm.test/v1"
SHARED_STREAMS = Path(__file__).resolve().parents[3] / "shared" / "streams"


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    config = Config(
        stream_api_key=API_KEY,
        stream_api_secret=API_SECRET,
        stream_chat_url=STREAM_URL,
        openai_api_key="sk-test",
        openai_base_url=LLM_URL,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'gptbot.db'}",
        queue_url=f"sqlite:///{tmp_path / 'jobs.db'}",
        update_interval=0.5,
        llm_max_retries=3,
    )
    return replace(config, **overrides)


def command_payload(args: str = "How do I change my billing address?", *,
                    message_id: str = "alice-0001", cid: str = "messaging:general",
                    command: str = "gpt", parent_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": message_id, "text": f"/{command} {args}".strip(), "command": command,
        "args": args, "html": "", "type": "regular", "cid": cid, "attachments": [],
        "mentioned_users": [], "silent": False,
    }
    if parent_id:
        message["parent_id"] = parent_id
    return {"message": message, "user": {"id": "alice", "name": "Alice", "role": "user"}}


def signed_headers(body: bytes, webhook_id: str = "wh-1", secret: str = API_SECRET) -> dict:
    return {"Content-Type": "application/json", "X-Signature": sign(body, secret),
            "X-Api-Key": API_KEY, "X-Webhook-Id": webhook_id, "X-Webhook-Attempt": "1"}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def sse_chat_stream(pieces: list[str], finish: str = "stop") -> bytes:
    """A Chat Completions stream as OpenAI sends it, with usage and [DONE]."""
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        body = {"id": "c1", "object": "chat.completion.chunk", "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        return f"data: {json.dumps(body)}\n\n"

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in pieces]
    events.append(chunk({}, finish))
    usage = {"id": "c1", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3,
                                                  "total_tokens": 12}}
    events.append(f"data: {json.dumps(usage)}\n\n")
    events.append("data: [DONE]\n\n")
    return "".join(events).encode()
