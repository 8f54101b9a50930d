"""Stream's webhook signature: hex HMAC-SHA256 of the raw body, keyed with the API secret."""

from __future__ import annotations

import hashlib
import hmac


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | None, secret: str) -> bool:
    """Constant-time check; a missing or malformed signature is simply invalid."""
    if not signature:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip().lower())
