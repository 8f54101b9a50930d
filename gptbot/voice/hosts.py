"""Where voice recordings may be downloaded from: Stream's CDN, and the emulator.

`asset_url` is written by the sender's client, so fetching it blindly would let anyone make
the bot request any URL (SSRF). Stream documents uploads as signed URLs "on the Stream CDN"
(getstream.io/chat/docs/python/file_uploads) without listing hosts; the hosts below are the
ones Stream's own SDKs recognise as their CDN: `*.stream-io-cdn.com` (stream-chat-swift
`StreamImageCDN.streamCDNURL`, stream-chat-android `AttachmentHelper`) and the older
`stream-chat-*.imgix.net` (the same Android pattern). Both only over HTTPS. The origin of
`STREAM_CHAT_URL` (the emulator, a proxy) is allowed with its own scheme and port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from gptbot.voice.errors import HostNotAllowed

STREAM_CDN = re.compile(
    r"^(?:[a-z0-9-]+\.)+stream-io-cdn\.com$|^stream-chat-[a-z0-9-]+\.imgix\.net$")
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class HostPolicy:
    extra: tuple[Origin, ...] = ()  # exact origins allowed beside Stream's CDN

    @classmethod
    def for_stream(cls, stream_chat_url: str | None) -> HostPolicy:
        origin = origin_of(stream_chat_url) if stream_chat_url else None
        return cls((origin,) if origin else ())

    def allows(self, url: str) -> bool:
        origin = origin_of(url)
        if origin is None:
            return False
        if origin in self.extra:
            return True
        return origin.scheme == "https" and origin.port == 443 and bool(
            STREAM_CDN.match(origin.host))

    def check(self, url: str) -> None:
        """Raises HostNotAllowed, naming only the host (signed URLs are credentials)."""
        if not self.allows(url):
            origin = origin_of(url)
            raise HostNotAllowed(f"voice asset host not allowed: {origin.host if origin else '?'}")


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL; None when malformed or carrying a user name
    (`https://cdn.example@evil.test/` is a classic way to dress one host as another)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    return Origin(parts.scheme, parts.hostname.lower().rstrip("."),
                  port or DEFAULT_PORTS[parts.scheme])
