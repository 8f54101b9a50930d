"""Stream's channel file uploads, and a CDN that serves them from the emulator's own host.

UploadChannelFile / UploadChannelImage take multipart `file` plus a `user` form field (JSON)
and answer `{"file": <url>, "duration": …}` (the image upload adds `thumb_url`), as the
spec's UploadChannelFileResponse has it; DeleteChannelFile / DeleteChannelImage take `?url=`.
Like Stream's CDN the URLs are signed and expire (`Expires`, `Signature`), and they are
fetched without an API key or token, so the CDN sits in front of the REST app's auth.
Files live in memory under a total cap: the emulator is for tests and `gptbot dev`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from flask import request

from gptbot.emulator.errors import fail

Json = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

PREFIX = "/cdn/"
MAX_FILE_BYTES = 100 * 1024 * 1024  # Stream's limit per file
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # the emulator's memory for all of them (oldest go first)
URL_TTL_S = 14 * 24 * 3600  # Stream signs attachment URLs for about two weeks
SAFE_NAME = re.compile(r"[^\w.-]+")
RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    cid: str
    name: str
    content_type: str
    data: bytes
    user_id: str


class FileStore:
    """Uploaded files by id, with URL signing; thread-safe."""

    def __init__(self, secret: str, clock: Callable[[], float]) -> None:
        self._secret = secret.encode()
        self._clock = clock
        self._lock = threading.Lock()
        self._files: OrderedDict[str, StoredFile] = OrderedDict()

    def put(self, cid: str, name: str, content_type: str, data: bytes, user_id: str) -> StoredFile:
        stored = StoredFile(uuid.uuid4().hex, cid, _safe(name), content_type, data, user_id)
        with self._lock:
            self._files[stored.file_id] = stored
            while sum(len(f.data) for f in self._files.values()) > MAX_TOTAL_BYTES:
                self._files.popitem(last=False)
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    def delete(self, file_id: str) -> bool:
        with self._lock:
            return self._files.pop(file_id, None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)

    def url(self, base_url: str, stored: StoredFile) -> str:
        expires = int(self._clock()) + URL_TTL_S
        path = f"{PREFIX}{stored.file_id}/{quote(stored.name)}"
        signature = self._sign(path, expires)
        return f"{base_url.rstrip('/')}{path}?Expires={expires}&Signature={signature}"

    def check(self, path: str, query: str) -> StoredFile | None:
        """The file a signed, unexpired CDN path names; None for anything else."""
        params = {k: v[0] for k, v in parse_qs(query).items()}
        expires, signature = params.get("Expires", ""), params.get("Signature", "")
        if not expires.isdigit() or int(expires) < self._clock():
            return None
        if not hmac.compare_digest(signature, self._sign(path, int(expires))):
            return None
        return self.get(path[len(PREFIX):].split("/", 1)[0])

    def _sign(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()


def file_id_of(url: str) -> str | None:
    path = urlsplit(url).path
    return path[len(PREFIX):].split("/", 1)[0] if path.startswith(PREFIX) else None


def _safe(name: str) -> str:
    return SAFE_NAME.sub("_", name).strip("._")[:120] or "file"


# -- REST views (registered by rest.py; `state` is the EmulatorState) ----------------------


def upload_file(state: Any, ctype: str, channel_id: str, op: str = "UploadChannelFile") -> Json:
    cid = f"{ctype}:{channel_id}"
    if cid not in state.channels:
        raise fail(op, 404, 16, f"channel {cid} doesn't exist")
    upload = request.files.get("file")
    if upload is None:
        raise fail(op, 400, 4, "file is a required field")
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise fail(op, 413, 22, f"file should be less than {MAX_FILE_BYTES} bytes")
    content_type = upload.mimetype or "application/octet-stream"
    stored = state.files.put(cid, upload.filename or "file", content_type, data, _uploader(op))
    return {"file": state.files.url(request.host_url, stored)}


def upload_image(state: Any, ctype: str, channel_id: str) -> Json:
    found = upload_file(state, ctype, channel_id, op="UploadChannelImage")
    return {**found, "thumb_url": found["file"]}


def delete_file(state: Any, ctype: str, channel_id: str) -> Json:
    file_id = file_id_of(request.args.get("url", ""))
    stored = state.files.get(file_id) if file_id else None
    if stored is not None and stored.cid == f"{ctype}:{channel_id}":
        state.files.delete(stored.file_id)
    return {}  # Stream answers the same whether or not the file was there


def _uploader(op: str) -> str:
    """The `user` form field ({"id": …}), which a server-side upload must carry."""
    try:
        user = json.loads(request.form.get("user") or "null")
    except ValueError:
        user = None
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        raise fail(op, 400, 4, "user is a required field for server-side uploads")
    return str(user["id"])


FILE = "/channels/<ctype>/<channel_id>/file"
IMAGE = "/channels/<ctype>/<channel_id>/image"
FILE_ROUTES: list[tuple[str, str, str, Callable[..., Any]]] = [
    ("POST", FILE, "UploadChannelFile", upload_file),
    ("DELETE", FILE, "DeleteChannelFile", delete_file),
    ("POST", IMAGE, "UploadChannelImage", upload_image),
    ("DELETE", IMAGE, "DeleteChannelImage", delete_file),
]


# -- the CDN ------------------------------------------------------------------------------


def with_cdn(files: FileStore, app: WsgiApp) -> WsgiApp:
    """`app`, with signed `GET /cdn/…` URLs served from `files` (no API key, like a CDN)."""

    def dispatch(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return app(environ, start_response)
        return serve(files, environ, start_response)

    return dispatch


def serve(files: FileStore, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return _plain(start_response, "405 Method Not Allowed")
    stored = files.check(environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
    if stored is None:  # CDNs answer an expired or forged signature with 403
        return _plain(start_response, "403 Forbidden")
    status, body, extra = _ranged(stored.data, environ.get("HTTP_RANGE", ""))
    headers = [("Content-Type", stored.content_type), ("Content-Length", str(len(body))),
               ("Accept-Ranges", "bytes"), ("Cache-Control", "private, max-age=3600"), *extra]
    start_response(status, headers)
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def _ranged(data: bytes, header: str) -> tuple[str, bytes, list[tuple[str, str]]]:
    """One `bytes=a-b` range (what an <audio> element asks for when it seeks), else all."""
    match = RANGE.match(header.strip())
    if not match or not data or match.groups() == ("", ""):
        return "200 OK", data, []
    first, last = match.groups()
    start = int(first) if first else max(len(data) - int(last), 0)
    end = min(int(last), len(data) - 1) if first and last else len(data) - 1
    if start > end:
        return "416 Range Not Satisfiable", b"", [("Content-Range", f"bytes */{len(data)}")]
    return "206 Partial Content", data[start : end + 1], [
        ("Content-Range", f"bytes {start}-{end}/{len(data)}")]


def _plain(start_response: StartResponse, status: str) -> list[bytes]:
    body = status.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
