"""Stream's JWT checks, for REST calls and WebSocket connects.

A server token is `{"server": true}`, a user token `{"user_id": …}`, both HS256 with the
app secret; the `Authorization` header (REST) or the `authorization` query parameter
(WebSocket) carries it bare, without "Bearer".
"""

from __future__ import annotations

from typing import Any

import jwt

from gptbot.emulator.errors import ApiError

JWT_ERRORS: list[tuple[type[Exception], int, str]] = [
    (jwt.InvalidSignatureError, 43, "signature is not valid"),
    (jwt.ExpiredSignatureError, 40, "token is expired"),
    (jwt.ImmatureSignatureError, 41, "token is not valid yet"),
    (jwt.InvalidIssuedAtError, 42, "token used before issue at (iat)"),
]


def check_api_key(given: str | None, api_key: str) -> None:
    if given != api_key:
        raise ApiError(401, 2, "api_key not found")


def decode(token: str, secret: str, api_key: str) -> dict[str, Any]:
    """The token's claims, or the ApiError Stream answers for a bad token."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError as exc:
        raise jwt_error(exc, api_key) from None
    if not isinstance(claims, dict):
        raise ApiError(401, 5, "JWTAuth error: token is malformed")
    return claims


def token_user(claims: dict[str, Any]) -> str | None:
    """None for a server token, else the user id; a token that is neither is refused."""
    if claims.get("server") is True:
        return None
    user_id = claims.get("user_id")
    if isinstance(user_id, str) and user_id:
        return user_id
    raise ApiError(401, 5, "JWTAuth error: the token has neither server nor user_id")


def jwt_error(exc: Exception, api_key: str) -> ApiError:
    for kind, code, reason in JWT_ERRORS:
        if isinstance(exc, kind):
            hint = f'Make sure the token is created using the secret for API key "{api_key}"'
            return ApiError(401, code, f"JWTAuth error: {reason}. {hint}")
    return ApiError(401, 5, f"JWTAuth error: token is malformed: {exc}")
