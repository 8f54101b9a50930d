"""Voice errors are GptBotErrors with a short text a channel member may read."""

from __future__ import annotations

import pytest

from gptbot.core.errors import GptBotError, member_message
from gptbot.voice import errors


@pytest.mark.parametrize("error", [
    errors.VoiceNotSetUp("x"), errors.HostNotAllowed("x"), errors.TooLong("x", 120),
    errors.TooLarge("x", 10_000_000), errors.DownloadFailed("x"), errors.NotUnderstood("x"),
    errors.EngineFailed("x"), errors.SpeechFailed("x")])
def test_each_is_a_gptbot_error_with_its_own_short_user_text(error):
    assert isinstance(error, errors.VoiceError) and isinstance(error, GptBotError)
    assert member_message(error) == error.user_message
    assert error.user_message != GptBotError.user_message and len(error.user_message) < 140


def test_the_limits_are_in_the_user_text():
    assert "120 seconds" in errors.TooLong("900 s", 120).user_message
    assert "10 MB" in errors.TooLarge("big", 10_000_000).user_message
    assert "not set up here" in errors.VoiceNotSetUp("off").user_message
