"""Tool round trips end to end: the loopback fake answers with a tool call first, then
with text once it has the result; the second request must carry the call and its
result in the provider's own wire shape."""

from __future__ import annotations

from typing import Any

from gptbot.core.states import EXTERNAL_SOURCES
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.llm.generation import Generation, generate
from gptbot.llm.providers import build_provider
from gptbot.llm.tools import Toolbox, ToolContext, make_tool
from tests.support.common import sse_chat_stream
from tests.support.provider_streams import (
    RecordingSink,
    ScriptedLLM,
    anthropic_stream,
    env_config,
    gemini_stream,
    ollama_stream,
    openai_tool_call_stream,
    serve_quick,
)

ARGUMENTS = '{"order_id": "A-1001"}'
RESULT = '{"status": "shipped", "carrier": "DHL", "asked_by": "alice"}'


def order_status(order_id: str, context: ToolContext) -> dict[str, str]:
    """Look up an order's shipping status."""
    assert order_id == "A-1001"
    return {"status": "shipped", "carrier": "DHL", "asked_by": context.user_id}


TOOLS = Toolbox([make_tool(order_status)])
CONTEXT = ToolContext("messaging", "support", "alice", "Alice")


def answer(fake: ScriptedLLM, **env: str) -> tuple[Generation, RecordingSink, dict[str, Any]]:
    with serve_quick(fake) as server:
        env = {key: value.replace("{url}", server.url) for key, value in env.items()}
        config = env_config(**env)
        request = ChatRequest(
            config.model,
            (
                ChatMessage("system", "You are a shop assistant."),
                ChatMessage("user", "Where is order A-1001?"),
            ),
        )
        sink = RecordingSink()
        result = generate(build_provider(config), request, sink, tools=TOOLS, context=CONTEXT)
    assert len(fake.requests) == 2
    assert EXTERNAL_SOURCES in sink.states
    return result, sink, fake.requests[1]["json"]


def test_openai_style() -> None:
    fake = ScriptedLLM(
        bodies=[
            openai_tool_call_stream(("call_abc", "order_status", ARGUMENTS)),
            sse_chat_stream(["It has ", "shipped with DHL."]),
        ]
    )
    result, sink, second = answer(fake, OPENAI_API_KEY="sk", OPENAI_BASE_URL="{url}/v1")
    assert sink.text == result.text == "It has shipped with DHL."
    first = fake.requests[0]["json"]
    assert first["tools"][0]["function"]["name"] == "order_status"
    assert second["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "order_status", "arguments": ARGUMENTS},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": RESULT},
    ]


def test_anthropic_style() -> None:
    fake = ScriptedLLM(
        bodies=[
            anthropic_stream(
                ["Let me check."],
                tool=("toolu_1", "order_status", ARGUMENTS),
                stop_reason="tool_use",
            ),
            anthropic_stream(["It has shipped with DHL."]),
        ]
    )
    result, sink, second = answer(
        fake, GPTBOT_PROVIDER="anthropic", ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL="{url}"
    )
    assert sink.text == "Let me check.\n\nIt has shipped with DHL."
    assert fake.requests[0]["json"]["tools"][0]["input_schema"]["required"] == ["order_id"]
    assert second["system"] == "You are a shop assistant."
    assert second["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "order_status",
                    "input": {"order_id": "A-1001"},
                },
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": RESULT}],
        },
    ]
    assert result.usage is not None and result.usage.input_tokens == 24


def test_gemini_style() -> None:
    fake = ScriptedLLM(
        bodies=[
            gemini_stream([], call=("order_status", {"order_id": "A-1001"})),
            gemini_stream(["Shipped with DHL."]),
        ]
    )
    result, _, second = answer(
        fake, GPTBOT_PROVIDER="gemini", GEMINI_API_KEY="k", GEMINI_BASE_URL="{url}"
    )
    assert result.text == "Shipped with DHL."
    assert second["contents"][1:] == [
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "order_status", "args": {"order_id": "A-1001"}},
                    "thoughtSignature": "sig-1",
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "order_status", "response": {"result": RESULT}}}
            ],
        },
    ]


def test_ollama_style() -> None:
    fake = ScriptedLLM(
        bodies=[
            ollama_stream([], calls=[("order_status", {"order_id": "A-1001"})]),
            ollama_stream(["Shipped with DHL."]),
        ]
    )
    result, _, second = answer(fake, GPTBOT_PROVIDER="ollama", OLLAMA_HOST="{url}")
    assert result.text == "Shipped with DHL."
    assert second["messages"][2:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "order_status", "arguments": {"order_id": "A-1001"}}}
            ],
        },
        {"role": "tool", "content": RESULT, "tool_name": "order_status"},
    ]


def test_parallel_openai_calls_each_get_their_result() -> None:
    calls = [("call_a", "order_status", ARGUMENTS), ("call_b", "order_status", ARGUMENTS)]
    fake = ScriptedLLM(bodies=[openai_tool_call_stream(*calls), sse_chat_stream(["Both."])])
    _, _, second = answer(fake, OPENAI_API_KEY="sk", OPENAI_BASE_URL="{url}/v1")
    assert [call["id"] for call in second["messages"][2]["tool_calls"]] == ["call_a", "call_b"]
    assert [m["tool_call_id"] for m in second["messages"][3:]] == ["call_a", "call_b"]
