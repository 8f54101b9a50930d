"""Tools (function calling): plain Python functions the model may call while answering.

Operators mark functions with `@tool` in their own module and list the module in
GPTBOT_TOOLS (e.g. `GPTBOT_TOOLS=gptbot.builtin_tools,myshop.tools`). The JSON schema
for the arguments comes from the type hints (str, int, float, bool, dict, list[...],
Literal[...], Optional[...]) and the Google-style "Args:" section of the docstring, or
is given explicitly with `@tool(parameters={...})`. A parameter annotated ToolContext
is not shown to the model; it receives the channel and the asking user.

Calls never raise into the answer: an unknown tool, arguments that are not a JSON
object, an exception or a timeout all become a short "Error: …" result the model reads.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import logging
import re
import threading
import time
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from gptbot.config import Config
from gptbot.core.errors import ConfigError
from gptbot.core.types import ToolCall, ToolSpec

log = logging.getLogger(__name__)

MARK = "__gptbot_tool__"  # attribute @tool sets on the function it registers
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what every provider accepts as a tool name
MAX_RESULT_CHARS = 20_000  # a runaway result must not fill the model's context
JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object"}
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Where the question was asked; given to tools that declare a ToolContext parameter."""

    channel_type: str = ""
    channel_id: str = ""
    user_id: str = ""
    user_name: str = ""
    parent_id: str = ""  # the thread, when the question was asked in one
    reply_id: str = ""  # the answer being written


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]
    context_parameter: str | None = None  # receives the ToolContext, if any

    @property
    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    def call(self, arguments: dict[str, Any], context: ToolContext) -> Any:
        if self.context_parameter:
            arguments = {**arguments, self.context_parameter: context}
        return self.function(**arguments)


def tool(
    function: F | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    parameters: dict[str, Any] | None = None,
) -> Any:
    """Mark a function as a tool: `@tool` or `@tool(name=..., description=..., parameters=...)`.

    The function itself is returned unchanged, so it stays callable and testable.
    """

    def mark(func: F) -> F:
        setattr(func, MARK, make_tool(func, name, description, parameters))
        return func

    return mark(function) if function is not None else mark


def make_tool(
    func: Callable[..., Any],
    name: str | None = None,
    description: str | None = None,
    parameters: dict[str, Any] | None = None,
) -> Tool:
    name = name or func.__name__
    if not NAME.fullmatch(name):
        raise ValueError(f"tool name {name!r} must be 1-64 letters, digits, '_' or '-'")
    doc = inspect.getdoc(func) or ""
    if parameters is None:
        parameters = parameters_schema(func, _argument_docs(doc))
    return Tool(
        name, description or _summary(doc) or name, parameters, func, context_parameter(func)
    )


# --- JSON schema from type hints ---------------------------------------------------------


def parameters_schema(
    func: Callable[..., Any], docs: dict[str, str] | None = None
) -> dict[str, Any]:
    """The JSON schema of a function's arguments, from its type hints and defaults."""
    hints = get_type_hints(func)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for pname, param in inspect.signature(func).parameters.items():
        hint = hints.get(pname)
        if hint is ToolContext:
            continue
        if hint is None:
            raise TypeError(f"{func.__name__}: parameter {pname!r} needs a type hint")
        schema, optional = type_schema(hint)
        if docs and pname in docs:
            schema["description"] = docs[pname]
        properties[pname] = schema
        if param.default is inspect.Parameter.empty and not optional:
            required.append(pname)
    return {"type": "object", "properties": properties, "required": required}


def context_parameter(func: Callable[..., Any]) -> str | None:
    """The parameter annotated ToolContext, if the function wants one."""
    hints = get_type_hints(func)
    found = (pname for pname, hint in hints.items() if hint is ToolContext and pname != "return")
    return next(found, None)


def type_schema(hint: Any) -> tuple[dict[str, Any], bool]:
    """JSON schema of one type hint, and whether it is Optional.

    Optional[X] is X, not required: every provider accepts that; "null" types are not.
    """
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return type_schema(rest[0])[0], True
        raise TypeError(f"unsupported union {hint!r}: give the schema with parameters=")
    if origin is Literal:
        kind = JSON_TYPES.get(type(args[0]), "string")
        return {"type": kind, "enum": list(args)}, False
    if hint is list or origin is list:
        items = type_schema(args[0])[0] if args else {"type": "string"}
        return {"type": "array", "items": items}, False
    if origin is dict:
        return {"type": "object"}, False
    if hint in JSON_TYPES:
        return {"type": JSON_TYPES[hint]}, False
    raise TypeError(f"unsupported type {hint!r}: give the schema with parameters=")


def _summary(doc: str) -> str:
    """The docstring's first paragraph, on one line."""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _argument_docs(doc: str) -> dict[str, str]:
    """`name: text` entries of a Google-style "Args:" section (continuation lines joined)."""
    _, _, section = doc.partition("Args:\n")
    docs: dict[str, str] = {}
    name = ""
    for line in section.splitlines():
        if not line.startswith(" "):
            break  # a blank line or the next heading ends the section
        entry = re.fullmatch(r" {2,4}(\w+)(?: \([^)]*\))?: ?(.*)", line)
        if entry:
            name = entry.group(1)
            docs[name] = entry.group(2).strip()
        elif name:
            docs[name] += " " + line.strip()
    return docs


# --- the toolbox: loading and running ----------------------------------------------------


class Toolbox:
    """The tools the model may call in this deployment, by name."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self.tools: dict[str, Tool] = {}
        for item in tools:
            known = self.tools.get(item.name)
            if known is not None and known.function is not item.function:
                raise ConfigError(f"GPTBOT_TOOLS: two different tools are named {item.name!r}")
            self.tools[item.name] = item

    def __len__(self) -> int:
        return len(self.tools)

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(item.spec for item in self.tools.values())

    def run_all(self, calls: list[ToolCall], context: ToolContext, timeout: float) -> list[str]:
        """Run one round's calls in parallel; one result text per call, in order."""
        runs = [_Run(functools.partial(self.run, call, context)) for call in calls]
        deadline = time.monotonic() + timeout
        for run in runs:
            run.start()
        for run in runs:
            run.join(max(0.0, deadline - time.monotonic()))
        late = f"Error: the tool did not finish within {timeout:g} s."
        return [late if run.result is None else run.result for run in runs]

    def run(self, call: ToolCall, context: ToolContext) -> str:
        """One call's result for the model; never raises."""
        item = self.tools.get(call.name or "")
        if item is None:
            return f"Error: there is no tool named {call.name!r}; use one of {sorted(self.tools)}."
        try:
            arguments = json.loads(call.arguments or "{}")
        except ValueError as exc:
            return f"Error: the arguments are not valid JSON ({exc}); try again."
        if not isinstance(arguments, dict):
            return "Error: the arguments must be a JSON object; try again."
        try:
            return result_text(item.call(arguments, context))
        except Exception as exc:
            log.warning("tool %s failed", item.name, exc_info=True)
            return f"Error: {type(exc).__name__}: {exc}"[:1000]


class _Run(threading.Thread):
    # A daemon thread per call rather than an executor: a tool that hangs past its
    # timeout is abandoned, and must block neither later answers nor process exit.
    def __init__(self, target: Callable[[], str]) -> None:
        super().__init__(daemon=True, name="gptbot-tool")
        self.target = target
        self.result: str | None = None

    def run(self) -> None:
        self.result = self.target()


def result_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > MAX_RESULT_CHARS:
        return text[:MAX_RESULT_CHARS] + " …(result cut short)"
    return text


def load_tools(module_path: str) -> list[Tool]:
    """The @tool functions found in one module (GPTBOT_TOOLS entry)."""
    try:
        module = importlib.import_module(module_path)
    except Exception as exc:
        raise ConfigError(f"GPTBOT_TOOLS: cannot import {module_path!r}: {exc}") from exc
    marks = (getattr(value, MARK, None) for value in vars(module).values())
    found = [mark for mark in marks if isinstance(mark, Tool)]
    if not found:
        raise ConfigError(f"GPTBOT_TOOLS: module {module_path!r} has no @tool functions")
    return found


def build_toolbox(config: Config) -> Toolbox:
    """Every tool of every module in GPTBOT_TOOLS; empty (no tools offered) by default."""
    return Toolbox(item for path in config.tool_modules for item in load_tools(path))
