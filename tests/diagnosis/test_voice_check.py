"""The doctor's voice check: off says how to turn it on; a missing part is a warning that
names it and its one fix; a ready setup names its engines."""

from __future__ import annotations

import pytest

from gptbot.config import Config
from gptbot.diagnosis import voice_checks
from gptbot.diagnosis.catalog import WARN, Problem
from gptbot.diagnosis.graph import Context
from gptbot.voice import readiness
from tests.support.common import API_KEY, API_SECRET

BASE = {"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET, "OPENAI_API_KEY": "sk-t"}


def context(**env: str) -> Context:
    return Context(Config.from_env({**BASE, **env}), environ={**BASE, **env})


def test_voice_off_is_fine_and_says_so():
    assert voice_checks.voice(context(GPTBOT_VOICE="off")).startswith("off")


def test_without_the_extra_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(voice_checks, "voice_extra_installed", lambda: False)
    line = voice_checks.voice(context(GPTBOT_VOICE="off"))
    assert "pip install -e '.[voice]'" in line


def test_local_speech_without_espeak_ng_is_a_warning_naming_it(monkeypatch):
    monkeypatch.setattr(readiness, "espeak_path", lambda: None)
    with pytest.raises(Problem) as raised:
        voice_checks.voice(context(GPTBOT_VOICE="local"))
    assert raised.value.cause.severity == WARN
    assert "espeak-ng" in raised.value.line and "espeak-ng" in raised.value.fix


def test_a_ready_local_setup_names_its_engines():
    if readiness.voice_problems(Config.from_env({**BASE, "GPTBOT_VOICE": "local"}).voice):
        pytest.fail("the voice extra, its weights and espeak-ng are installed by .ci/run")
    assert voice_checks.voice(context(GPTBOT_VOICE="local")) == "hearing: local, speaking: local"
