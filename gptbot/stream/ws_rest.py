"""Watching a channel as the bot user: Stream's query endpoint with `watch: true`.

As the JS SDK's `channel.watch()` and `channel.stopWatching()` do (stream-chat-js
`src/channel.ts`, `src/client.ts`): `POST channels/{type}/{id}/query` with
`{"state": true, "watch": true, "presence": false}`, and `POST …/stop-watching` with `{}`,
both authenticated as the user (`Authorization: <user JWT>`, `stream-auth-type: jwt`) and
naming the WebSocket connection in the `connection_id` query parameter. Stream then sends
the channel's events to that connection until it stops watching or the connection ends.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests

from gptbot.stream.ws_protocol import CLIENT_NAME, DEFAULT_BASE_URL, channel_path

TIMEOUT_S = 5.0
WATCH_BODY = {"state": True, "watch": True, "presence": False}


class WatchRefused(Exception):
    """Stream answered a watch or stop-watching call with an error."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status

    @property
    def final(self) -> bool:
        """A 4xx other than 429 (no permission, no such channel): retrying soon is useless."""
        return 400 <= self.status < 500 and self.status != 429


class WatchApi:
    """The two REST calls, as `user_id` with its user token (never logged)."""

    def __init__(self, base_url: str | None, api_key: str, token: str, user_id: str,
                 session: requests.Session | None = None) -> None:
        self.base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key
        self.user_id = user_id
        self._headers = {"Authorization": token, "stream-auth-type": "jwt",
                         "X-Stream-Client": CLIENT_NAME}
        self._session = session or requests.Session()

    def watch(self, cid: str, connection_id: str) -> None:
        self._post(channel_path(cid, "query"), WATCH_BODY, connection_id)

    def stop_watching(self, cid: str, connection_id: str) -> None:
        self._post(channel_path(cid, "stop-watching"), {}, connection_id)

    def close(self) -> None:
        self._session.close()

    def _post(self, path: str, body: Mapping[str, object], connection_id: str) -> None:
        params = {"api_key": self.api_key, "user_id": self.user_id,
                  "connection_id": connection_id}
        response = self._session.post(f"{self.base}/{path}", json=body, params=params,
                                      headers=self._headers, timeout=TIMEOUT_S)
        if response.status_code >= 300:
            detail = f"{path}: HTTP {response.status_code} {response.text[:300]}"
            raise WatchRefused(detail, response.status_code)
