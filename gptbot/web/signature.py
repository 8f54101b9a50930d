"""Stream's webhook signature: hex HMAC-SHA256 of the raw body, keyed with the API secret."""

from __future__ import annotations

import hashlib
import hmac


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | bytes | None, secret: str) -> bool:
    """Constant-time check of bytes; a missing or malformed signature is simply invalid.

    A header may hold any characters (servers decode headers as latin-1), and
    `hmac.compare_digest` refuses a `str` with non-ASCII ones: compare bytes instead.
    """
    if not signature:
        return False
    given = signature if isinstance(signature, bytes) else _to_bytes(signature)
    return hmac.compare_digest(sign(body, secret).encode("ascii"), given.strip().lower())


def _to_bytes(text: str) -> bytes:
    # Any character encodes (lone surrogates as escapes); a non-ASCII one then never matches.
    return text.encode("utf-8", "backslashreplace")
