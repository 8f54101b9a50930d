"""The download allow-list: Stream's CDN over HTTPS, and STREAM_CHAT_URL's exact origin."""

from __future__ import annotations

import pytest

from gptbot.voice.errors import HostNotAllowed
from gptbot.voice.hosts import HostPolicy, origin_of

STREAM = HostPolicy.for_stream(None)


@pytest.mark.parametrize("url", [
    "https://us-east.stream-io-cdn.com/102399/attachments/x.m4a?Expires=1&Signature=s",
    "https://ohio.stream-io-cdn.com/1/video/rec.mp4",
    "https://stream-chat-us-east-c1.imgix.net/1/images/a.aac",
    "https://US-EAST.Stream-IO-CDN.com./a.wav",
])
def test_stream_cdn_urls_are_allowed(url):
    assert STREAM.allows(url)


@pytest.mark.parametrize("url", [
    "http://us-east.stream-io-cdn.com/a.wav",  # plain HTTP
    "https://us-east.stream-io-cdn.com:8443/a.wav",  # another port
    "https://stream-io-cdn.com.evil.test/a.wav",
    "https://evilstream-io-cdn.com/a.wav",
    "https://stream-io-cdn.com/a.wav",  # no region: Stream serves none from the bare name
    "https://us-east.stream-io-cdn.com@evil.test/a.wav",  # user-info trick
    "https://x:y@us-east.stream-io-cdn.com/a.wav",
    "https://other.imgix.net/a.wav",
    "file:///etc/passwd",
    "http://127.0.0.1:8080/cdn/a",
    "http://169.254.169.254/latest/meta-data/",
    "not a url",
    "https://[::1/",
])
def test_everything_else_is_refused(url):
    assert not STREAM.allows(url)
    with pytest.raises(HostNotAllowed) as raised:
        STREAM.check(url)
    assert "Signature" not in str(raised.value)
    assert "stored by this chat" in raised.value.user_message


def test_the_stream_chat_url_origin_is_allowed_with_its_scheme_and_port_only():
    policy = HostPolicy.for_stream("http://127.0.0.1:8099/")
    assert policy.allows("http://127.0.0.1:8099/cdn/abc/n.wav?Expires=9&Signature=s")
    assert not policy.allows("http://127.0.0.1:8100/cdn/abc")
    assert not policy.allows("https://127.0.0.1:8099/cdn/abc")
    assert not policy.allows("http://localhost:8099/cdn/abc")
    assert policy.allows("https://us-east.stream-io-cdn.com/a.wav")  # the CDN stays allowed


def test_default_ports_are_filled_in():
    assert origin_of("https://chat.example.com/x") == origin_of("https://chat.example.com:443/")
    assert HostPolicy.for_stream("http://emulator").allows("http://emulator:80/cdn/x")
