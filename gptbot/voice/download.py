"""Fetching a voice recording: only from allowed hosts, every redirect checked before it is
followed, the declared length refused before any byte moves, and the bytes capped while
they stream in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

from gptbot.voice.errors import DownloadFailed, TooLarge, TooLong
from gptbot.voice.hosts import HostPolicy
from gptbot.voice.trigger import VoiceAttachment

log = logging.getLogger(__name__)
CHUNK = 64 * 1024
MAX_REDIRECTS = 3
TIMEOUT = (5.0, 30.0)  # connect, read


@dataclass(frozen=True, slots=True)
class DownloadLimits:
    max_seconds: int
    max_bytes: int


def download(attachment: VoiceAttachment, hosts: HostPolicy, limits: DownloadLimits,
             session: requests.Session | None = None) -> bytes:
    refuse_declared(attachment, limits)
    return fetch(attachment.asset_url, hosts, limits.max_bytes, session or requests.Session())


def refuse_declared(attachment: VoiceAttachment, limits: DownloadLimits) -> None:
    """What the sender's client claims is checked first: no download for a 15-minute note."""
    if attachment.duration is not None and attachment.duration > limits.max_seconds:
        raise TooLong(f"declared duration {attachment.duration:.0f} s", limits.max_seconds)
    if attachment.file_size is not None and attachment.file_size > limits.max_bytes:
        raise TooLarge(f"declared size {attachment.file_size} bytes", limits.max_bytes)


def fetch(url: str, hosts: HostPolicy, max_bytes: int, session: requests.Session) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        hosts.check(url)  # before each request, redirects included
        response = _get(session, url)
        with response:
            if not response.is_redirect:
                return _body(response, max_bytes, url)
            url = urljoin(url, response.headers.get("location", ""))
    raise DownloadFailed(f"more than {MAX_REDIRECTS} redirects from {_host(url)}")


def _get(session: requests.Session, url: str) -> requests.Response:
    try:
        return session.get(url, stream=True, allow_redirects=False, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise DownloadFailed(f"fetching from {_host(url)}: {type(exc).__name__}") from None


def _body(response: requests.Response, max_bytes: int, url: str) -> bytes:
    if response.status_code != 200:
        raise DownloadFailed(f"HTTP {response.status_code} from {_host(url)}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"Content-Length {declared}", max_bytes)
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise TooLarge(f"more than {max_bytes} bytes", max_bytes)
    except requests.RequestException as exc:
        raise DownloadFailed(f"reading from {_host(url)}: {type(exc).__name__}") from None
    return bytes(body)


def _host(url: str) -> str:
    """For messages: never the whole URL, whose signature is a credential."""
    return urlsplit(url).hostname or "?"
