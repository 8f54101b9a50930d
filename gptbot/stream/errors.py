"""Stream's API error codes in plain words, for the places the bot shows them to operators.

Pure data and lookups, no I/O. Every row is Stream's documented error table, "API Error
Codes" (https://getstream.io/chat/docs/python/api_errors_response/): name, HTTP status and
Stream code are copied from it; the plain words and the hint are ours.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "https://getstream.io/chat/docs/python/api_errors_response/"


@dataclass(frozen=True)
class StreamErrorCode:
    code: int
    status: int
    name: str  # Stream's name for it, as in the table
    words: str  # what it means, in plain words
    hint: str  # what an operator usually does about it


# Source for every row: SOURCE (Stream's "API Error Codes" table).
CODES: dict[int, StreamErrorCode] = {c.code: c for c in (
    StreamErrorCode(2, 401, "Access Key Error", "Stream does not know this API key",
                    "copy the app's Key from the Stream dashboard into STREAM_API_KEY"),
    StreamErrorCode(4, 400, "Input Error", "Stream refused the request's data",
                    "read Stream's message: a field or parameter is wrong"),
    StreamErrorCode(5, 401, "Authentication Error", "Stream could not authenticate the request",
                    "STREAM_API_SECRET must be the secret of STREAM_API_KEY's app"),
    StreamErrorCode(6, 400, "Duplicate Username Error",
                    "the user name is taken and the app enforces unique user names",
                    "change GPTBOT_BOT_NAME, or turn off enforce_unique_usernames"),
    StreamErrorCode(9, 429, "Rate Limit Error", "too many requests to Stream in a short time",
                    "wait for the limit to reset; processes of one app share its limits"),
    StreamErrorCode(16, 404, "Does Not Exist Error", "the resource does not exist in this app",
                    "create it (channel types: in the dashboard) or stop referring to it"),
    StreamErrorCode(17, 403, "Not Allowed Error", "Stream does not allow this request",
                    "check the app's permissions and the bot user's role"),
    StreamErrorCode(18, 400, "Event Not Supported Error", "Stream does not support this event",
                    "nothing to configure: the bot sent an event Stream rejects"),
    StreamErrorCode(19, 400, "Channel Feature Not Supported Error",
                    "the feature is turned off for this channel type",
                    "turn it on for the channel type in the Stream dashboard"),
    StreamErrorCode(20, 400, "Message Too Long Error", "the message is longer than allowed",
                    "lower GPTBOT_MAX_MESSAGE_LENGTH to the channel type's limit"),
    StreamErrorCode(21, 400, "Multiple Nesting Level Error",
                    "replies to replies are not supported", "answer in the thread's parent"),
    StreamErrorCode(22, 413, "Payload Too Big Error", "the request is too large",
                    "lower GPTBOT_MAX_MESSAGE_LENGTH"),
    StreamErrorCode(23, 408, "Request Timeout Error", "Stream timed out on the request",
                    "retry; it is usually temporary"),
    StreamErrorCode(40, 401, "Authentication Token Expired", "the token has expired",
                    "synchronise this machine's clock (NTP)"),
    StreamErrorCode(41, 401, "Authentication Token Not Valid Yet", "the token is not valid yet",
                    "synchronise this machine's clock (NTP)"),
    StreamErrorCode(42, 401, "Authentication Token Before Issued At",
                    "the token's issue date is wrong", "synchronise this machine's clock (NTP)"),
    StreamErrorCode(43, 401, "Authentication Token Signature Invalid",
                    "the token is not signed with this app's secret",
                    "STREAM_API_SECRET must be the secret of STREAM_API_KEY's app"),
    StreamErrorCode(44, 400, "Custom Command Endpoint Missing Error",
                    "the app has no custom_action_handler_url", "run `gptbot setup`"),
    StreamErrorCode(45, 400, "Custom Command Endpoint Call Error",
                    "the custom command handler (the bot's webhook) returned an error",
                    "run `gptbot doctor`: it tests the webhook URL"),
    StreamErrorCode(60, 403, "Cooldown Error",
                    "the user posted during the channel's cooldown (slow mode)",
                    "wait, or turn off slow mode for the channel"),
    StreamErrorCode(99, 403, "App Suspended Error", "the Stream app is suspended",
                    "see the app's status and billing in the Stream dashboard"),
)}

TOKEN_TIME_CODES = frozenset({40, 41, 42})  # the clock, not the credentials
CREDENTIAL_CODES = frozenset({2, 5, 43})


def lookup(code: object) -> StreamErrorCode | None:
    return CODES.get(code) if isinstance(code, int) else None


def plain_words(code: object, status: int | None = None) -> str:
    """`code 43 (the token is not signed with this app's secret)`, or Stream's bare code."""
    known = lookup(code)
    if known is not None:
        return f"code {known.code}: {known.words}"
    return f"HTTP {status}" if code is None else f"code {code}"


def hint(code: object) -> str:
    known = lookup(code)
    return known.hint if known else "read Stream's message; its error table explains the code"


def describe(status: int | None, code: object, message: str = "") -> str:
    """One log-ready phrase for an error Stream answered: our words first, Stream's after
    (`error_code`/`error_text` below give the code and message of an SDK exception)."""
    words = plain_words(code, status)
    head = f"HTTP {status}, {words}" if status and lookup(code) else words
    return f'{head} (Stream: "{message[:200]}")' if message else head


def error_code(exc: Exception) -> int | None:
    """Stream's `code` in an SDK exception's JSON body, if it had one."""
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, int) else None


def error_text(exc: Exception) -> str:
    """The message of an SDK exception (`StreamAPIException`), or its raw response text."""
    return str(getattr(exc, "error_message", None) or getattr(exc, "response_text", "") or "")
