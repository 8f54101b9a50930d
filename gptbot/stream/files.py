"""Uploading a file to a channel (the bot's spoken replies) through the SDK's channel file
upload: multipart `file` plus `user` to `channels/{type}/{id}/file`, answering the file's
signed CDN URL.

The SDK's `send_file` takes a path or a URL, not bytes, so the bytes go to a private
temporary file first. An upload is not a message write: it goes through `StreamApi.call`
(retried on 429/5xx) and takes no token of the message budget.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from gptbot.stream.api import StreamApi

SAFE_NAME = re.compile(r"[^\w.-]+")


class UploadFailed(Exception):
    """Stream answered the upload without a file URL."""


def upload_file(api: StreamApi, cid: tuple[str, str], data: bytes, name: str,
                content_type: str, user_id: str) -> str:
    """The uploaded file's URL (use it as the attachment's `asset_url`)."""
    safe = SAFE_NAME.sub("_", name).strip("._") or "file"
    with tempfile.TemporaryDirectory(prefix="gptbot-upload-") as folder:
        path = Path(folder) / safe
        path.write_bytes(data)
        channel = api.client.channel(*cid)
        answer = api.call(channel.send_file, str(path), safe, {"id": user_id}, content_type)
    url = answer.get("file") if hasattr(answer, "get") else None
    if not isinstance(url, str) or not url:
        raise UploadFailed(f"upload to {cid[0]}:{cid[1]} answered no file URL")
    return url
