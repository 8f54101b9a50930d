"""Pure classification: which of the few ways a connection fails, and safe shapes of secrets.

requests wraps urllib3 wraps socket/ssl, and each layer's text buries the cause under
"HTTPConnectionPool(... Max retries exceeded ...)": the cause is found by walking the
exception chain for the innermost exception we recognise.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests

DNS, REFUSED, TIMEOUT, TLS, OTHER = "dns", "refused", "timeout", "tls", "other"


@dataclass(frozen=True)
class NetworkCause:
    kind: str  # one of DNS, REFUSED, TIMEOUT, TLS, OTHER
    reason: str  # a short phrase, e.g. "connection refused"


def chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the `reason` urllib3 keeps its cause in."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        todo += [current.__cause__, current.__context__,
                 reason if isinstance(reason, BaseException) else None,
                 *(arg for arg in current.args if isinstance(arg, BaseException))]


def classify(exc: BaseException, timeout: float | None = None) -> NetworkCause:
    """The cause of a failed connection, from the most specific exception in its chain."""
    links = list(chain(exc))
    for test, make in _RULES:
        for link in links:
            if test(link):
                return make(link, timeout)
    return NetworkCause(OTHER, _short(exc))


def _is_dns(exc: BaseException) -> bool:
    return isinstance(exc, socket.gaierror) or "Name or service not known" in str(exc) \
        or "nodename nor servname" in str(exc) or "Failed to resolve" in str(exc)


def _is_tls(exc: BaseException) -> bool:
    return isinstance(exc, ssl.SSLError | requests.exceptions.SSLError)


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError | socket.timeout | requests.Timeout)


def _tls_reason(exc: BaseException, _: float | None) -> NetworkCause:
    return NetworkCause(TLS, tls_reason(exc))


def tls_reason(exc: BaseException) -> str:
    """The few TLS failures an operator can act on, in words (OpenSSL's reason codes)."""
    text = f"{getattr(exc, 'reason', '')} {exc}".upper()
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "TLS handshake failed: its certificate is not trusted here"
    if any(code in text for code in _NOT_TLS):
        return "TLS handshake failed: the server does not speak TLS (an http:// server?)"
    return "TLS handshake failed"


_NOT_TLS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL", "HTTP_REQUEST",
            "PACKET_LENGTH_TOO_LONG")


def _timeout_reason(_: BaseException, timeout: float | None) -> NetworkCause:
    within = f" within {timeout:g}s" if timeout else ""
    return NetworkCause(TIMEOUT, f"no answer{within} (timed out)")


# Most specific first: a TLS error or a DNS failure may arrive wrapped in a ConnectionError.
_RULES = (
    (_is_dns, lambda exc, _: NetworkCause(DNS, "DNS has no address for that host")),
    (_is_tls, _tls_reason),
    (lambda exc: isinstance(exc, ConnectionRefusedError),
     lambda exc, _: NetworkCause(REFUSED, "connection refused: nothing listens there")),
    (_is_timeout, _timeout_reason),
    (lambda exc: isinstance(exc, ConnectionResetError),
     lambda exc, _: NetworkCause(OTHER, "the connection was reset")),
)


def _short(exc: BaseException) -> str:
    """The innermost message, without urllib3's pool boilerplate."""
    text = str(exc).split("Caused by ")[-1].strip("()'\" ")
    return text.rsplit(": ", 1)[-1][:160] or type(exc).__name__


def host_port(url: str) -> str:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.hostname or url}:{parts.port or default}"


def mask(secret: str | None) -> str:
    """What may be shown of a secret: its length and last 4 characters, never more."""
    if not secret:
        return "empty"
    tail = secret[-4:] if len(secret) >= 12 else ""  # a short secret's end is most of it
    return f"{len(secret)} characters, ending …{tail}" if tail else f"{len(secret)} characters"


def safe_url(url: str) -> str:
    """The URL without a password (redis://:pw@host → redis://:***@host)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
