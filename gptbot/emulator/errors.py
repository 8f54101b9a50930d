"""Stream's error responses, and the fault injection tests use to provoke them."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request

# A REST view: takes the state and the path's parts, answers the response's JSON body.
View = Callable[..., dict[str, Any]]

# The Stream code each HTTP status usually carries (the API's error table).
STATUS_CODES = {400: 4, 401: 5, 403: 17, 404: 16, 408: 23, 413: 22, 429: 9, 500: -1}


class ApiError(Exception):
    """An error the REST layer turns into Stream's error JSON."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = {}

    def body(self, duration: str) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "StatusCode": self.status,
            "duration": duration,
            "more_info": "https://getstream.io/chat/docs/api_errors_response",
            "details": [],
        }


def fail(op: str, status: int, code: int, detail: str) -> ApiError:
    """Stream words most errors as `<Operation> failed with error: "<detail>"`."""
    return ApiError(status, code, f'{op} failed with error: "{detail}"')


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    code: int
    remaining: int
    retry_after: float | None
    message: str

    def matches(self, method: str, path: str) -> bool:
        return self.method in (method.upper(), "*") and self.pattern.search(path) is not None

    def error(self) -> ApiError:
        error = ApiError(self.status, self.code, self.message)
        if self.retry_after is not None:
            error.headers["Retry-After"] = f"{self.retry_after:g}"
        if self.status == 429:
            error.headers["x-ratelimit-remaining"] = "0"
        return error


class FaultInjector:
    """Queued failures; each matching request consumes one use of the first matching fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        method: str,
        path_regex: str,
        status: int,
        code: int | None = None,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """Make the next `times` requests matching method ("*" = any) and path fail."""
        code = STATUS_CODES.get(status, 4) if code is None else code
        text = message or f"injected fault: HTTP {status}"
        fault = Fault(
            method.upper(), re.compile(path_regex), status, code, times, retry_after, text
        )
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)


def request_body() -> dict[str, Any]:
    """The JSON object a request carries ({} for none); anything else is Stream's code 4."""
    if not request.get_data():
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, 4, "invalid request body: expected a JSON object")
    return body
