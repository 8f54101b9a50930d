"""Streaming HTTP shared by the providers: open with retries, read with an idle timeout.

Retries happen only while opening the stream (before the first token): connection
errors, 429 (honouring Retry-After) and 5xx. Once bytes flow, a failure is final —
repeating half an answer would be worse than saying it broke.

The body is read as it arrives whatever its framing — chunked, Content-Length, or
delimited by the server closing the connection (HTTP/1.1 without a length, as some servers
and proxies send) — so the channel sees the first words while the rest is on its way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import ReadTimeoutError

from gptbot.config import Config
from gptbot.core.errors import ProviderAuthError, ProviderError, ProviderTimeout
from gptbot.core.retry_after import parse_retry_after
from gptbot.llm.ndjson import decode_ndjson
from gptbot.llm.sse import SSEEvent, decode_sse

log = logging.getLogger(__name__)
MAX_RETRY_AFTER_S = 30.0
READ_SIZE = 8192  # the most one read returns; it never waits for this much to arrive


class RetryableStatus(ProviderError):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ContentFiltered(ProviderAuthError):
    """The provider's content filter rejected the question (Azure: HTTP 400, code
    content_filter). Final like any rejected request, but the asker deserves a polite
    explanation rather than "misconfigured"."""

    user_message = "Sorry, I can't answer that: the question was blocked by the content filter."


@dataclass(frozen=True)
class StreamingHttp:
    session: requests.Session
    connect_timeout: float
    idle_timeout: float
    attempts: int = 4

    def open(self, url: str, headers: dict[str, str], body: dict[str, Any]) -> requests.Response:
        retrying = Retrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self.attempts),
            wait=_wait_retry_after,
            before_sleep=lambda state: log.warning(
                "LLM request failed, retrying: %s", state.outcome and state.outcome.exception()
            ),
            reraise=True,
        )
        return retrying(self._open_once, url, headers, body)

    def _open_once(
        self, url: str, headers: dict[str, str], body: dict[str, Any]
    ) -> requests.Response:
        try:
            response = self.session.post(
                url,
                json=body,
                headers=headers,
                stream=True,
                timeout=(self.connect_timeout, self.idle_timeout),
            )
        except requests.Timeout as exc:
            raise ProviderTimeout(f"no response from {_host(url)}: {exc}") from exc
        except requests.ConnectionError as exc:
            raise ProviderError(f"cannot reach {_host(url)}: {exc}") from exc
        if response.status_code >= 400:
            raise _status_error(response)
        return response

    def iter_bytes(self, response: requests.Response) -> Iterator[bytes]:
        """The body as it arrives, decoded (gzip, deflate); the read timeout is the allowed
        silence between reads.

        Each `read1` returns whatever has arrived and waits only while nothing has:
        `iter_content(chunk_size=None)` would wait for the whole body unless it is chunked.
        """
        try:
            while chunk := response.raw.read1(READ_SIZE, decode_content=True):
                yield chunk
        except ReadTimeoutError as exc:
            raise ProviderTimeout(f"no data for {self.idle_timeout:.0f}s") from exc
        except (TransportError, OSError) as exc:  # reset, cut short, undecodable
            raise ProviderError(f"stream broke off: {exc}") from exc
        finally:
            response.close()

    @classmethod
    def from_config(cls, config: Config, session: requests.Session | None = None) -> StreamingHttp:
        return cls(
            session or pooled_session(config.concurrency),
            config.llm_connect_timeout,
            config.llm_idle_timeout,
            config.llm_max_retries,
        )

    def sse_events(self, response: requests.Response) -> Iterator[SSEEvent]:
        """The body as Server-Sent Events."""
        return decode_sse(self.iter_bytes(response))

    def ndjson_lines(self, response: requests.Response) -> Iterator[str]:
        """The body as newline-delimited JSON lines (not yet parsed)."""
        return decode_ndjson(self.iter_bytes(response))


def pooled_session(size: int) -> requests.Session:
    """A session that keeps up to `size` connections alive per host: one per answer that
    may stream at once (GPTBOT_CONCURRENCY), so none is opened and thrown away each time."""
    session = requests.Session()
    for scheme in ("http://", "https://"):
        session.mount(scheme, HTTPAdapter(pool_maxsize=max(size, 10)))
    return session


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, ProviderAuthError):
        return False
    return isinstance(exc, RetryableStatus | ProviderTimeout) or type(exc) is ProviderError


def _wait_retry_after(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
        return min(exc.retry_after, MAX_RETRY_AFTER_S)
    return float(wait_random_exponential(multiplier=0.5, max=8)(state))


def _status_error(response: requests.Response) -> ProviderError:
    detail = error_detail(response)
    message = f"HTTP {response.status_code} from {_host(response.url)}: {detail}"
    code = _error_code(response)
    response.close()
    if response.status_code == 429 or response.status_code >= 500:
        return RetryableStatus(message, parse_retry_after(response.headers.get("Retry-After")))
    if code == "content_filter":
        return ContentFiltered(message)
    return ProviderAuthError(message)


def error_detail(response: requests.Response) -> str:
    """The provider's own error message, short; never the request (it may echo keys)."""
    body = _json_body(response)
    if body is None:
        return response.text[:200].strip() or response.reason or "no detail"
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    return str(error)[:300]


def _error_code(response: requests.Response) -> Any:
    body = _json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _json_body(response: requests.Response) -> Any:
    try:
        return json.loads(response.content[:4096] or b"{}")
    except ValueError:
        return None


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
