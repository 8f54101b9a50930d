"""The steps of an answer as Stream's AI attachments: `ai_tool_call` and `ai_reasoning`.

Stream's AI components (React >= 14.15.0, React Native >= 9.13.0, Android ai-compose >= 7.15.0,
iOS StreamChatAI >= 5.13.0) show the steps an agent took above its reply's text, one step per
custom attachment on the reply message, in attachment order. The backend adds the steps to the
reply's `attachments` and updates them with the same message updates that stream the text
(docs: getstream.io/chat/docs/sdk/react/guides/ai-integrations/reasoning-and-tool-calls/).

Field names, types and status values follow Stream's own decoder and its tests, in
GetStream/stream-chat-android, module stream-chat-android-ai-compose, package
io.getstream.chat.android.ai.compose.parts:
  AIMessagePart.kt, AIToolCallPart.kt   @ c396ceb61c69b742be1d27a82ce3b369c24073d3
  AIReasoningPart.kt, Fields.kt, test/.../AIMessagePartTest.kt
                                         @ 634c52c5ace2ef0cf783f226aa60fea329e5c3b3
Its decoding is lenient: an empty string or a value of the wrong type reads as missing, so
optional fields are left out rather than written empty.

Everything here is pure: it builds and merges dicts; the reply writer sends them. Every channel
member can read an attachment, so text that goes into one is cut short and scrubbed of
secret-looking values first, and tool arguments are only included when asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

Step = dict[str, Any]

TOOL_CALL = "ai_tool_call"  # AIMessagePart.Kind.ToolCall
REASONING = "ai_reasoning"  # AIMessagePart.Kind.Reasoning
STEP_PREFIX = "ai_"  # AIMessagePart.TYPE_PREFIX: every AI step's type starts with it
FORMAT_VERSION = 1  # `v`, AIMessagePart.SUPPORTED_VERSION

# ai_tool_call `status` (AIToolCallPart.Status; an open set, "running" when absent).
RUNNING = "running"
AWAITING_APPROVAL = "awaiting_approval"
AWAITING_CLIENT = "awaiting_client"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
TOOL_STATUSES = frozenset(
    {RUNNING, AWAITING_APPROVAL, AWAITING_CLIENT, COMPLETED, FAILED, CANCELLED}
)
FINISHED = frozenset({COMPLETED, FAILED, CANCELLED})  # AIToolCallPart.Status.isFinished
# ai_reasoning `status` (AIReasoningPart.Status; "completed" when absent).
STREAMING = "streaming"
REASONING_STATUSES = frozenset({STREAMING, COMPLETED})
# ai_tool_call `executor` (AIToolCallPart.Executor; "server" when absent). gptbot runs its
# tools itself, so it writes "server"; "client" steps also need target_user_id/_client_id.
SERVER = "server"

# How much of each text goes into a step: shown in a chat, re-sent with every update.
MAX_TITLE = 80  # display_title: "what the call is doing, in words for people"
MAX_SUMMARY = 160  # summary: "a short, shareable outcome" (Android shows two lines)
MAX_PREVIEW = 600  # reasoning preview: "a capped excerpt"
MAX_ARGUMENT_TEXT = 200  # each string inside the arguments
MAX_ARGUMENTS = 1000  # the arguments as JSON text
ERROR_PREFIX = "Error:"  # how gptbot/llm/tools.py reports a failed tool to the model
REDACTED = "[redacted]"

_SECRET_KEY = re.compile(  # argument names whose values are never shown
    r"passw(or)?d|passphrase|^pass$|secret|token(?!s)|api[_-]?key|^auth$|authori[sz]ation"
    r"|credential|cookie|session[_-]?(id|key|token)|private[_-]?key|^signature$",
    re.IGNORECASE,
)
_SECRET_VALUES = [
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),  # OpenAI / Anthropic keys
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"),  # Google API keys
    re.compile(r"\b(?:ghp|gho|ghs|github_pat)_[A-Za-z0-9_]{20,}"),  # GitHub tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack tokens
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWTs
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
]
_SECRET_ASSIGNMENTS = [
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)([?&](?:api[_-]?key|key|token|access_token|secret|password|sig|signature)=)"
               r"[^&#\s]+"),
    re.compile(r"(?i)(\b(?:password|passwd|secret|api[_-]?key|token)[\"']?\s*[:=]\s*[\"']?)"
               r"[^\s,;&\"']+"),
]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# -- the steps ---------------------------------------------------------------------------


def tool_call_started(
    call_id: str,
    name: str,
    *,
    title: str | None = None,
    arguments: str | Mapping[str, Any] | list[Any] | None = None,
) -> Step:
    """A tool call the bot is running. `call_id` is the model's tool-call id (Stream matches
    on it); `title` says in words what it does ("Checking the weather"). `arguments` (the
    model's JSON text or its parsed value) are left out unless given: every member sees them."""
    step = _step(TOOL_CALL, call_id, name=_clean_line(name, MAX_TITLE), status=RUNNING)
    step["executor"] = SERVER
    _put(step, "display_title", _clean_line(title or "", MAX_TITLE))
    if arguments is not None:
        _put(step, "arguments", safe_arguments(arguments))
    return step


def tool_call_finished(
    started: Mapping[str, Any],
    result: str,
    *,
    duration_ms: float | None = None,
    failed: bool | None = None,
) -> Step:
    """The `started` step, finished: completed, or failed when `failed` (by default: when
    `result` is one of the toolbox's "Error: …" texts), with a short summary of the result."""
    failed = result.lstrip().startswith(ERROR_PREFIX) if failed is None else failed
    step = {**started, "status": FAILED if failed else COMPLETED}
    step.pop("summary", None)
    _put(step, "summary", summarize_result(result))
    _put(step, "duration_ms", _milliseconds(duration_ms))
    return step


def reasoning(
    step_id: str,
    text: str = "",
    *,
    done: bool = False,
    duration_ms: float | None = None,
    summary: str | None = None,
) -> Step:
    """A round of the model's reasoning (Anthropic thinking, `reasoning_content`), `text` so
    far. The preview is its latest words while streaming and its opening once `done`; pass no
    text for a step that only says the model thought, and for how long."""
    step = _step(REASONING, step_id, status=COMPLETED if done else STREAMING)
    _put(step, "preview", _preview(text, done))
    _put(step, "summary", _clean_line(summary or "", MAX_SUMMARY))
    _put(step, "duration_ms", _milliseconds(duration_ms))
    return step


def _step(kind: str, step_id: str, **fields: Any) -> Step:
    if not step_id:
        raise ValueError(f"an {kind} step needs an id")
    return {"type": kind, "v": FORMAT_VERSION, "id": str(step_id), **fields}


def _put(step: Step, key: str, value: Any) -> None:
    # Stream reads an empty string as missing: such fields are left out.
    if value not in (None, "", [], {}):
        step[key] = value


# -- a message's list of steps -------------------------------------------------------------


def is_step(attachment: Mapping[str, Any]) -> bool:
    """Whether the attachment is an AI step (of any kind, ours or not)."""
    return str(attachment.get("type") or "").startswith(STEP_PREFIX)


def merge_step(attachments: Iterable[Mapping[str, Any]], step: Mapping[str, Any]) -> list[Step]:
    """The message's attachments with `step` in them: in the place of the step with the same
    type and id (an update keeps its position, so the steps stay in the order they began),
    otherwise at the end. Nothing is changed in place; other attachments are kept as they are."""
    key = (step.get("type"), step.get("id"))
    merged, found = [], False
    for attachment in attachments:
        if is_step(attachment) and (attachment.get("type"), attachment.get("id")) == key:
            merged.append(dict(step))
            found = True
        else:
            merged.append(dict(attachment))
    return merged if found else [*merged, dict(step)]


def settle(attachments: Iterable[Mapping[str, Any]], tool_status: str = CANCELLED) -> list[Step]:
    """The attachments with no step left in progress, for the final write of an answer that
    stopped (Stop, an error, the round limit): unfinished tool calls get `tool_status`,
    streaming reasoning becomes completed. Finished steps are kept as they are."""
    return [_settled(dict(attachment), tool_status) for attachment in attachments]


def _settled(attachment: Step, tool_status: str) -> Step:
    kind, status = attachment.get("type"), attachment.get("status") or RUNNING
    if kind == TOOL_CALL and status not in FINISHED:
        attachment["status"] = tool_status
    elif kind == REASONING and attachment.get("status") == STREAMING:
        attachment["status"] = COMPLETED
    return attachment


# -- what goes into a step ---------------------------------------------------------------


def summarize_result(result: str) -> str:
    """The first non-empty line of a tool result, scrubbed and cut to MAX_SUMMARY characters;
    a cut says how many characters were left out."""
    text = scrub(result).strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return ""
    rest = len(text) - len(first)  # what the other lines held (roughly; whitespace counts)
    return clip(" ".join(first.split()), MAX_SUMMARY, extra=rest)


def safe_arguments(arguments: str | Mapping[str, Any] | list[Any]) -> Any:
    """Tool arguments fit to show: parsed when JSON text, secret-looking keys and values
    redacted, long strings cut, and left out (saying how much) when still over MAX_ARGUMENTS.
    Stream reads only an object or an array here."""
    value = _parse(arguments) if isinstance(arguments, str) else arguments
    if not isinstance(value, Mapping | list):
        value = {"arguments": value}  # not JSON, or a bare value: wrapped so it still shows
    cleaned = _redact(value)
    size = len(json.dumps(cleaned, ensure_ascii=False))
    if size > MAX_ARGUMENTS:
        return {"truncated": f"{size} characters of arguments left out"}
    return cleaned


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return "…"
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if _SECRET_KEY.search(str(k)) else _redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(item, depth + 1) for item in value]
    if isinstance(value, str):
        return clip(scrub(value), MAX_ARGUMENT_TEXT)
    return value if value is None or isinstance(value, bool | int | float) else str(value)


def scrub(text: str) -> str:
    """`text` with secret-looking values (API keys, bearer tokens, JWTs, private keys,
    `password=…`, `?token=…`) replaced by REDACTED, and control characters removed."""
    text = _CONTROL.sub("", text)
    for pattern in _SECRET_VALUES:
        text = pattern.sub(REDACTED, text)
    for pattern in _SECRET_ASSIGNMENTS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def clip(text: str, limit: int, extra: int = 0) -> str:
    """`text` cut to at most `limit` characters, at a word break when one is near the end;
    a cut (or `extra` characters already left out) ends in "… (+N chars)"."""
    if len(text) <= limit and not extra:
        return text
    room = max(limit - len(_more(len(text) + extra)), 1)  # the widest suffix it could need
    head = text[:room]
    space = head.rfind(" ")
    if len(text) > room and space >= room * 3 // 4:
        head = head[:space]
    head = head.rstrip()
    return head + _more(len(text) - len(head) + extra)


def _more(dropped: int) -> str:
    return f"… (+{dropped:,} chars)"


def _clean_line(text: str, limit: int) -> str:
    return clip(" ".join(scrub(text).split()), limit)


def _preview(text: str, done: bool) -> str:
    """Blank lines separate paragraphs (kept); the head once done, the tail while streaming."""
    text = scrub(text).strip()
    if len(text) <= MAX_PREVIEW:
        return text
    if done:
        return clip(text, MAX_PREVIEW)
    tail = text[-(MAX_PREVIEW - 1) :]
    space = tail.find(" ")
    return "…" + (tail[space + 1 :] if 0 <= space < MAX_PREVIEW // 4 else tail)


def _milliseconds(value: float | None) -> int | None:
    # A whole number of milliseconds (Stream reads an int; a bool is not a number there).
    return None if value is None or isinstance(value, bool) else max(round(value), 0)
