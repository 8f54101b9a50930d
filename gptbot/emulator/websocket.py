"""Stream's client WebSocket (`GET /connect`), on the emulator's own host and port.

The upgrade is handled here, in front of the Flask app: werkzeug's server hands over the
request's socket (`werkzeug.socket`) once the 101 answer is written, and `websockets`'
sans-I/O protocol does the framing. One thread (the request's) owns the socket, so sends
from REST threads only enqueue (see connections.py).

The protocol is the JS SDK's: the query carries `json` ({"user_id", "user_details"}),
`api_key`, `authorization` (a user JWT) and `stream-auth-type=jwt`. A good connect gets a
`health.check` with its `connection_id` first; a bad one gets a `connection.error` event
with Stream's error object, then a close with code 1000. Every client `health.check` (the
JS SDK sends a one-element list) is answered with one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import select
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from gptbot.emulator import auth
from gptbot.emulator.connections import DROP, Connection
from gptbot.emulator.errors import ApiError
from gptbot.emulator.model import now
from gptbot.emulator.state import EmulatorState

Json = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
log = logging.getLogger(__name__)

PATH = "/connect"
POLL_S = 0.02
LINGER_S = 1.0  # after our close frame, how long to wait for the client's
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455's fixed accept-key suffix


def with_websocket(state: EmulatorState, app: WsgiApp) -> WsgiApp:
    """`app`, with `GET /connect` upgraded to Stream's client WebSocket."""

    def dispatch(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return app(environ, start_response)
        return serve_connect(state, environ, start_response)

    return dispatch


def serve_connect(
    state: EmulatorState, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    state.count_request("Connect")
    key, sock = upgrade_key(environ), environ.get("werkzeug.socket")
    if key is None or not isinstance(sock, socket.socket):
        return plain(start_response, "400 Bad Request", "expected a WebSocket upgrade")
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Accept", accept_key(key))]
    start_response("101 Switching Protocols", headers)(b"")  # werkzeug sends it now
    params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    Session(state, sock, params).run()
    return []


def upgrade_key(environ: dict[str, Any]) -> str | None:
    upgrade = environ.get("HTTP_UPGRADE", "").lower()
    connection = environ.get("HTTP_CONNECTION", "").lower()
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY")
    ok = environ.get("REQUEST_METHOD") == "GET" and upgrade == "websocket"
    ok = ok and "upgrade" in connection and environ.get("HTTP_SEC_WEBSOCKET_VERSION") == "13"
    return key if ok and key else None


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = json.dumps({"message": text}).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def authenticate(state: EmulatorState, params: dict[str, str]) -> Json:
    """The connecting user's details, or the ApiError Stream would send."""
    auth.check_api_key(params.get("api_key"), state.api_key)
    if params.get("stream-auth-type", "jwt") != "jwt":
        raise ApiError(401, 5, "the emulator supports only stream-auth-type=jwt")
    claims = auth.decode(params.get("authorization", ""), state.api_secret, state.api_key)
    try:
        payload = json.loads(params.get("json") or "{}")
    except ValueError:
        raise ApiError(400, 4, 'Connect failed with error: "json is not valid JSON"') from None
    user_id = payload.get("user_id") if isinstance(payload, dict) else None
    if not isinstance(user_id, str) or not user_id:
        raise ApiError(400, 4, 'Connect failed with error: "user_id is a required field"')
    if auth.token_user(claims) != user_id:
        raise ApiError(401, 5, "JWTAuth error: the token's user_id is not the connect user_id")
    details = payload.get("user_details")
    return {**(details if isinstance(details, dict) else {}), "id": user_id}


def health_check(connection_id: str, me: Json | None = None) -> Json:
    event: Json = {"type": "health.check", "connection_id": connection_id, "cid": "*"}
    return {**event, **({"me": me} if me else {}), "created_at": now()}


class Session:
    """One client connection, from the first health check to the close."""

    def __init__(self, state: EmulatorState, sock: socket.socket, params: dict[str, str]):
        self.state, self.sock, self.params = state, sock, params
        self.protocol = ServerProtocol(state=State.OPEN, max_size=2**20)
        self._partial: bytearray | None = None

    def run(self) -> None:
        try:
            user = authenticate(self.state, self.params)
        except ApiError as error:
            self.refuse(error)
            return
        connection = self.state.connections.open(user["id"])
        try:
            self.serve(connection, self.state.ensure_user(user))
        except OSError:
            pass  # the client went away
        finally:
            self.state.connections.close(connection.id)

    def refuse(self, error: ApiError) -> None:
        event = {"type": "connection.error", "connection_id": "", "created_at": now(),
                 "error": error.body("0.00ms")}
        self.send_text(json.dumps(event))
        self.protocol.send_close(1000, error.message[:120])
        try:
            self.flush()
            self.linger()
        except OSError:
            pass

    def serve(self, connection: Connection, me: Json) -> None:
        self.send_text(json.dumps(health_check(connection.id, me)))
        self.flush()
        while self.protocol.state is not State.CLOSED:
            if self.read(POLL_S, connection) is False:
                return
            if self.drain(connection) is DROP:
                self.sock.shutdown(socket.SHUT_RDWR)
                return
            self.flush()
            if self.protocol.close_expected():
                return

    def read(self, timeout: float, connection: Connection | None) -> bool:
        """Take in what arrived within `timeout`; False when the client closed the TCP side."""
        readable, _, _ = select.select([self.sock], [], [], timeout)
        if not readable:
            return True
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for frame in self.protocol.events_received():
            if isinstance(frame, Frame):
                self.on_frame(frame, connection)
        return bool(data)

    def on_frame(self, frame: Frame, connection: Connection | None) -> None:
        if frame.opcode is Opcode.TEXT:
            self._partial = bytearray()
        if frame.opcode not in (Opcode.TEXT, Opcode.CONT) or self._partial is None:
            return
        self._partial += frame.data
        if frame.fin:
            text, self._partial = bytes(self._partial), None
            if connection is not None:
                self.on_text(text, connection)

    def on_text(self, text: bytes, connection: Connection) -> None:
        """Only health checks mean anything from a client; the rest is ignored, as a rule."""
        try:
            data = json.loads(text)
        except ValueError:
            return
        items = data if isinstance(data, list) else [data]
        if any(isinstance(i, dict) and i.get("type") == "health.check" for i in items):
            connection.send(health_check(connection.id))

    def drain(self, connection: Connection) -> object:
        while not connection.outbox.empty():
            item = connection.outbox.get_nowait()
            if item is DROP:
                return DROP
            self.send_text(str(item))
        return None

    def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())

    def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)
            else:
                self.sock.shutdown(socket.SHUT_WR)

    def linger(self) -> None:
        """Wait briefly for the client's close frame, so it sees a clean close."""
        for _ in range(int(LINGER_S / POLL_S)):
            if self.protocol.state is State.CLOSED or not self.read(POLL_S, None):
                break
            self.flush()
