"""A tool round trip over real HTTP: the model calls a tool, the reply shows the call as
Stream's `ai_tool_call` attachment while it runs, and the final reply keeps it, completed,
beside the text (schema: tests/stream/test_ai_attachments.py, after Stream's own decoder in
GetStream/stream-chat-android ai-compose)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from gptbot.emulator import create_emulator_app, send_user_message
from gptbot.stream import ai_attachments as ai
from tests.stream.test_ai_attachments import assert_matches_schema
from tests.support.common import sse_chat_stream
from tests.support.loop import wait_for, whole_loop
from tests.support.servers import FakeLLM


def tool_call_stream(call_id: str, name: str, arguments: str) -> bytes:
    def chunk(delta: dict, finish: str | None = None) -> str:
        body = {"id": "c1", "object": "chat.completion.chunk", "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(body)}\n\n"

    call = {"index": 0, "id": call_id, "type": "function",
            "function": {"name": name, "arguments": arguments}}
    events = [chunk({"role": "assistant", "content": None, "tool_calls": [call]}),
              chunk({}, "tool_calls"), "data: [DONE]\n\n"]
    return "".join(events).encode()


class TurnsLLM(FakeLLM):
    """Answers its n-th request with the n-th body (the last one after that)."""

    def __init__(self, bodies: list[bytes]) -> None:
        super().__init__(bodies[0], piece_sizes=(4, 32))
        self.bodies = bodies

    def pieces(self) -> Iterator[bytes]:
        self.body = self.bodies[min(len(self.requests), len(self.bodies)) - 1]
        return super().pieces()


def test_a_tool_call_is_an_ai_tool_call_attachment_the_final_reply_keeps(tmp_path):
    llm = TurnsLLM([tool_call_stream("call_abc", "channel_info", "{}"),
                    sse_chat_stream(["This is ", "the general channel."])])
    with whole_loop(tmp_path, llm, create_emulator_app,
                    tool_modules=("gptbot.builtin_tools",)) as loop:
        question = send_user_message(loop.state, "messaging", "general",
                                     {"id": "alice", "name": "Alice"}, "/gpt where am I?")
        reply_id = f"gpt-{question['id']}"

        def finished() -> dict | None:
            reply = loop.state.messages.get(reply_id)
            return reply if reply and not reply.get("generating") else None

        reply = wait_for(finished, timeout=15)
    assert reply["text"] == "This is the general channel."
    (step,) = reply["attachments"]
    assert (step["type"], step["id"], step["name"]) == (ai.TOOL_CALL, "call_abc", "channel_info")
    assert step["status"] == ai.COMPLETED and step["executor"] == ai.SERVER
    assert "general" in step["summary"] and step["duration_ms"] >= 0
    assert_matches_schema(step)
    tool_message = llm.requests[1]["json"]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_abc"
