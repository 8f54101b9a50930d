"""Fetching a recording: allow-listed hosts only (redirects included, checked before each
request), the declared length refused before download, the bytes capped."""

from __future__ import annotations

import pytest
import responses

from gptbot.voice.download import MAX_REDIRECTS, DownloadLimits, download
from gptbot.voice.errors import DownloadFailed, HostNotAllowed, TooLarge, TooLong
from gptbot.voice.hosts import HostPolicy
from gptbot.voice.trigger import voice_of
from tests.voice.conftest import voice_message

CDN = "https://us-east.stream-io-cdn.com/1/attachments/note.wav?Expires=9&Signature=s"
OTHER_CDN = "https://ohio.stream-io-cdn.com/1/attachments/note.wav"
FOREIGN = "https://evil.test/steal"
LIMITS = DownloadLimits(max_seconds=120, max_bytes=1000)
HOSTS = HostPolicy.for_stream(None)


def recording(url: str = CDN, **fields):
    found = voice_of(voice_message(url, **fields))
    assert found is not None
    return found


@pytest.fixture
def web():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_an_allowed_recording_is_downloaded(web):
    web.get(CDN, body=b"RIFF-audio")
    assert download(recording(), HOSTS, LIMITS) == b"RIFF-audio"


def test_a_foreign_host_is_refused_without_any_request(web):
    foreign = web.get(FOREIGN, body=b"secret")
    with pytest.raises(HostNotAllowed):
        download(recording(FOREIGN), HOSTS, LIMITS)
    assert foreign.call_count == 0 and len(web.calls) == 0


def test_a_redirect_off_the_list_is_not_followed(web):
    web.get(CDN, status=302, headers={"Location": FOREIGN})
    foreign = web.get(FOREIGN, body=b"secret")
    with pytest.raises(HostNotAllowed):
        download(recording(), HOSTS, LIMITS)
    assert foreign.call_count == 0 and len(web.calls) == 1


def test_a_redirect_within_the_list_is_followed(web):
    web.get(CDN, status=307, headers={"Location": OTHER_CDN})
    web.get(OTHER_CDN, body=b"moved")
    assert download(recording(), HOSTS, LIMITS) == b"moved"


def test_a_redirect_loop_ends(web):
    web.get(CDN, status=302, headers={"Location": CDN})
    with pytest.raises(DownloadFailed):
        download(recording(), HOSTS, LIMITS)
    assert len(web.calls) == MAX_REDIRECTS + 1


def test_a_declared_duration_over_the_limit_is_refused_before_download(web):
    fetched = web.get(CDN, body=b"x")
    with pytest.raises(TooLong) as raised:
        download(recording(duration=900), HOSTS, LIMITS)
    assert fetched.call_count == 0
    assert "at most 120 seconds" in raised.value.user_message


def test_a_declared_file_size_over_the_cap_is_refused_before_download(web):
    fetched = web.get(CDN, body=b"x")
    with pytest.raises(TooLarge):
        download(recording(file_size=5000), HOSTS, LIMITS)
    assert fetched.call_count == 0


def test_a_content_length_over_the_cap_is_refused(web):
    web.get(CDN, body=b"x" * 1001)
    with pytest.raises(TooLarge) as raised:
        download(recording(), HOSTS, LIMITS)
    assert "at most 0.001 MB" in raised.value.user_message


def test_a_body_without_length_is_cut_off_at_the_cap(web):
    web.add_callback(responses.GET, CDN, callback=lambda _request: (200, {}, b"y" * 5000))
    with pytest.raises(TooLarge):
        download(recording(), HOSTS, LIMITS)
    assert "content-length" not in {k.lower() for k in web.calls[0].response.headers}


def test_an_expired_link_gets_a_friendly_error_without_the_signature(web):
    web.get(CDN, status=403)
    with pytest.raises(DownloadFailed) as raised:
        download(recording(), HOSTS, LIMITS)
    assert "Signature" not in str(raised.value) and "expired" in raised.value.user_message
