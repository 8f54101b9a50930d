"""What `gptbot doctor` is told about voice: each problem with its one fix."""

from __future__ import annotations

from gptbot.config.voice import VoiceConfig
from gptbot.voice import readiness
from gptbot.voice.readiness import voice_problems
from gptbot.voice.weights import WeightPackage
from tests.voice.conftest import needs_espeak, needs_extra

LOCAL = VoiceConfig(stt="local", tts="local")


def test_voice_off_has_no_problems(monkeypatch):
    monkeypatch.setattr(readiness, "voice_extra_installed", lambda: False)
    assert voice_problems(VoiceConfig()) == []


def test_a_missing_extra_is_one_problem_with_the_install_command(monkeypatch):
    monkeypatch.setattr(readiness, "voice_extra_installed", lambda: False)
    [problem] = voice_problems(LOCAL)
    assert "voice extra" in problem.what and "pip install -e '.[voice]'" in problem.fix


def test_missing_espeak_and_broken_weights_are_named(monkeypatch, tmp_path):
    monkeypatch.setattr(readiness, "voice_extra_installed", lambda: True)
    monkeypatch.setattr(readiness, "espeak_path", lambda: None)
    gone = WeightPackage("Gone voice", "gone-voice==1", "no_such_voice_pkg", "data", ())
    monkeypatch.setattr(readiness, "JOE_VOICE", gone)
    monkeypatch.setattr(readiness, "WHISPER_TINY_EN", gone)
    problems = voice_problems(LOCAL, marker_dir=tmp_path)
    assert [p.fix for p in problems] == [
        "pip install --force-reinstall 'gone-voice==1'",
        "apt-get install espeak-ng (Debian/Ubuntu), or GPTBOT_VOICE_TTS=off",
        "pip install --force-reinstall 'gone-voice==1'",
    ]


def test_openai_voice_needs_a_key(monkeypatch):
    monkeypatch.setattr(readiness, "voice_extra_installed", lambda: True)
    cloud = VoiceConfig(stt="openai", tts="openai")
    [problem] = voice_problems(cloud)
    assert "OPENAI_API_KEY" in problem.what
    assert voice_problems(cloud, openai_api_key="sk-test") == []


@needs_extra
@needs_espeak
def test_this_machine_is_ready_for_local_voice(tmp_path):
    assert voice_problems(LOCAL, marker_dir=tmp_path) == []
