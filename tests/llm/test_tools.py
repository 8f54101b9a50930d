"""Tools: schemas from type hints, the @tool decorator, loading modules, and running calls
(errors, bad arguments, unknown tools and timeouts all become results, never crashes)."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from gptbot.builtin_tools import channel_info, current_time
from gptbot.core.errors import ConfigError
from gptbot.core.types import ToolCall
from gptbot.llm.tools import (
    MARK,
    MAX_RESULT_CHARS,
    Tool,
    Toolbox,
    ToolContext,
    build_toolbox,
    load_tools,
    make_tool,
    tool,
    type_schema,
)
from tests.support.common import make_config

CONTEXT = ToolContext("messaging", "general", "alice", "Alice")


def call(name: str, arguments: Any = None) -> ToolCall:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    return ToolCall(0, "c1", name, raw)


# --- schemas ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hint", "schema", "optional"),
    [
        (str, {"type": "string"}, False),
        (int, {"type": "integer"}, False),
        (float, {"type": "number"}, False),
        (bool, {"type": "boolean"}, False),
        (dict, {"type": "object"}, False),
        (dict[str, int], {"type": "object"}, False),
        (list[int], {"type": "array", "items": {"type": "integer"}}, False),
        (list, {"type": "array", "items": {"type": "string"}}, False),
        (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}, False),
        (Literal[1, 2], {"type": "integer", "enum": [1, 2]}, False),
        (Optional[int], {"type": "integer"}, True),  # noqa: UP045 - the typing spelling on purpose
        (str | None, {"type": "string"}, True),
    ],
)
def test_type_schema(hint: Any, schema: dict[str, Any], optional: bool) -> None:
    assert type_schema(hint) == (schema, optional)


@pytest.mark.parametrize("hint", [int | str, bytes, set[int]])
def test_unsupported_types_ask_for_an_explicit_schema(hint: Any) -> None:
    with pytest.raises(TypeError, match="parameters="):
        type_schema(hint)


def order_status(
    order_id: str,
    context: ToolContext,
    include_items: bool = False,
    carrier: Literal["dhl", "ups"] | None = None,
) -> dict[str, Any]:
    """Look up the status of a customer's order.

    Args:
        order_id: The order number, like A-1001.
        include_items: Whether to list the
            items in the order.
        carrier (str): Only for this carrier.

    Returns:
        the status.
    """
    return {"order": order_id, "user": context.user_id, "items": include_items}


def test_schema_description_and_context_from_the_function() -> None:
    made = make_tool(order_status)
    assert made.description == "Look up the status of a customer's order."
    assert made.context_parameter == "context"
    assert made.parameters == {
        "type": "object",
        "properties": {
            "order_id": {"type": "string", "description": "The order number, like A-1001."},
            "include_items": {
                "type": "boolean",
                "description": "Whether to list the items in the order.",
            },
            "carrier": {
                "type": "string",
                "enum": ["dhl", "ups"],
                "description": "Only for this carrier.",
            },
        },
        "required": ["order_id"],
    }


def test_decorator_forms_keep_the_function_callable() -> None:
    @tool
    def plain(x: int) -> int:
        """Double it."""
        return 2 * x

    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}

    @tool(name="search-docs", description="Search the docs.", parameters=schema)
    def search(**kwargs: Any) -> str:
        return str(kwargs)

    assert plain(2) == 4
    assert getattr(plain, MARK).spec.name == "plain"
    spec = getattr(search, MARK).spec
    assert (spec.name, spec.description, spec.parameters) == (
        "search-docs",
        "Search the docs.",
        schema,
    )


def test_bad_names_and_missing_hints_fail_at_definition() -> None:
    with pytest.raises(ValueError, match="tool name"):
        make_tool(lambda: 1, name="has space")

    def untyped(x):  # type: ignore[no-untyped-def]
        return x

    with pytest.raises(TypeError, match="needs a type hint"):
        make_tool(untyped)


# --- running calls ------------------------------------------------------------------------


def boom(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(f"database down: {reason}")


def nap(seconds: float) -> str:
    """Sleeps."""
    time.sleep(seconds)
    return f"slept {seconds}"


BOX = Toolbox([make_tool(order_status), make_tool(boom), make_tool(nap)])


def test_successful_call_gets_arguments_and_context() -> None:
    result = BOX.run(call("order_status", {"order_id": "A-1"}), CONTEXT)
    assert json.loads(result) == {"order": "A-1", "user": "alice", "items": False}


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (call("nope"), "Error: there is no tool named 'nope'"),
        (replace(call("boom"), name=None), "Error: there is no tool named None"),
        (call("order_status", '{"order_id": "A'), "Error: the arguments are not valid JSON"),
        (call("order_status", "[1]"), "Error: the arguments must be a JSON object"),
        (call("boom", {"reason": "disk"}), "Error: RuntimeError: database down: disk"),
        (call("order_status", {"wrong": 1}), "Error: TypeError: order_status() got an unexpected"),
    ],
    ids=["unknown", "no-name", "invalid-json", "not-object", "raises", "wrong-args"],
)
def test_failures_become_results(bad: ToolCall, expected: str) -> None:
    assert BOX.run(bad, CONTEXT).startswith(expected)


def test_empty_arguments_mean_no_arguments() -> None:
    box = Toolbox([make_tool(channel_info)])
    assert json.loads(box.run(call("channel_info", ""), CONTEXT))["cid"] == "messaging:general"


def test_calls_run_in_parallel() -> None:
    # Each call waits for the other at a barrier: run one after the other, neither could
    # finish (the first would break the barrier after 30 s). No wall-clock bound needed.
    both = threading.Barrier(2, timeout=30)

    def meet(name: str) -> str:
        """Waits for the other call."""
        both.wait()
        return f"met {name}"

    box = Toolbox([make_tool(meet)])
    calls = [call("meet", {"name": "a"}), call("meet", {"name": "b"})]
    assert box.run_all(calls, CONTEXT, timeout=60) == ["met a", "met b"]


def test_a_call_that_outlives_the_timeout_is_abandoned() -> None:
    # The call is held until after run_all returns, so run_all cannot have waited for it.
    release, finished = threading.Event(), threading.Event()

    def hang() -> str:
        """Blocks until released."""
        release.wait(60)
        finished.set()
        return "released"

    box = Toolbox([make_tool(hang)])
    try:
        results = box.run_all([call("hang")], CONTEXT, timeout=0.2)
        assert not finished.is_set()
    finally:
        release.set()
    assert results == ["Error: the tool did not finish within 0.2 s."]


def test_long_results_are_cut() -> None:
    box = Toolbox([make_tool(lambda: "x" * (MAX_RESULT_CHARS + 50), name="big")])
    assert box.run(call("big"), CONTEXT).endswith("…(result cut short)")


def test_same_name_twice_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'boom'"):
        Toolbox([make_tool(boom), make_tool(nap, name="boom")])
    assert len(Toolbox([make_tool(boom), Tool(**vars(make_tool(boom)))])) == 1


# --- loading ------------------------------------------------------------------------------


def write_module(tmp_path: Path, name: str, source: str) -> str:
    (tmp_path / f"{name}.py").write_text(source)
    return name


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("shop_")]:
        del sys.modules[name]


def test_build_toolbox_imports_the_configured_modules(modules: Path, tmp_path: Path) -> None:
    write_module(
        modules,
        "shop_tools",
        (
            "from gptbot.tools import tool\n\n"
            "@tool\ndef order_status(order_id: str) -> str:\n"
            '    """Status of an order."""\n    return "shipped"\n\n'
            "def helper() -> None:\n    pass\n"
        ),
    )
    config = make_config(tmp_path, tool_modules=("gptbot.builtin_tools", "shop_tools"))
    box = build_toolbox(config)
    assert sorted(box.tools) == ["channel_info", "current_time", "order_status"]
    assert len(box.specs) == 3
    assert len(build_toolbox(make_config(tmp_path))) == 0


def test_loading_problems_are_config_errors(modules: Path) -> None:
    write_module(modules, "shop_empty", "x = 1\n")
    write_module(modules, "shop_broken", "raise RuntimeError('needs SHOP_DB_URL')\n")
    with pytest.raises(ConfigError, match="'shop_missing'"):
        load_tools("shop_missing")
    with pytest.raises(ConfigError, match="no @tool functions"):
        load_tools("shop_empty")
    with pytest.raises(ConfigError, match="needs SHOP_DB_URL"):
        load_tools("shop_broken")


# --- built-ins ----------------------------------------------------------------------------


def test_current_time_in_utc_and_a_named_zone() -> None:
    utc = current_time()
    assert utc["timezone"] == "UTC" and utc["iso"].endswith("+00:00")
    berlin = current_time("Europe/Berlin")
    assert datetime.fromisoformat(berlin["iso"]).utcoffset() is not None
    assert berlin["weekday"] == datetime.fromisoformat(berlin["iso"]).strftime("%A")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd"])
def test_current_time_rejects_unknown_zones(zone: str) -> None:
    box = Toolbox([getattr(current_time, MARK)])
    assert box.run(call("current_time", {"timezone": zone}), CONTEXT).startswith(
        "Error: ValueError: unknown time zone"
    )


def test_channel_info_reports_the_context_only() -> None:
    assert channel_info(CONTEXT) == {
        "channel_type": "messaging",
        "channel_id": "general",
        "cid": "messaging:general",
        "asking_user_id": "alice",
        "asking_user_name": "Alice",
    }
    assert getattr(channel_info, MARK).parameters["properties"] == {}
