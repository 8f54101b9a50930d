"""`gptbot setup` and `gptbot serve` at start, through the real entry points: when Stream
cannot be reached or refuses the credentials they print (setup) or log (serve) the doctor's
first line and fix, and no traceback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from gptbot.cli.main import main
from gptbot.server import register_at_startup
from gptbot.services import build_services
from tests.diagnosis.servers import answer_everything, closed_port, stream_error

STREAM_FIX = ("  fix: correct STREAM_CHAT_URL, or unset it to use Stream's own API "
              "(https://chat.stream-io-api.com)")
KEY_FIX = ("  fix: copy the Key of this app from the Stream dashboard into STREAM_API_KEY; a "
           "key of another app, or of an app in another region, is refused")
UNKNOWN_KEY = stream_error(401, 2, "api_key not found")


def refused_lines(url: str) -> list[str]:
    return [f"Stream API: cannot reach Stream: connection refused at {url[7:]}, nothing "
            f"listens there (STREAM_CHAT_URL={url})",
            STREAM_FIX + "; for the local emulator, start `gptbot dev` first"]


def unknown_key_lines(key: str) -> list[str]:
    return [f"Stream credentials: Stream knows no app with STREAM_API_KEY={key} (code 2: "
            "access key invalid)", KEY_FIX]


def test_setup_against_a_refused_port_says_so_and_exits_1(rig, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    env = {**os.environ, **rig.env, "STREAM_CHAT_URL": url}
    done = subprocess.run([sys.executable, "-m", "gptbot.cli", "setup", "--public-url",
                           "https://bot.example"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stderr.splitlines(), done.stdout) == (1, refused_lines(url), "")


def test_setup_against_a_stream_refusing_the_key(rig, monkeypatch, capsys):
    fake = rig.enter(answer_everything(401, UNKNOWN_KEY))
    for name, value in {**rig.env, "STREAM_CHAT_URL": fake.url}.items():
        monkeypatch.setenv(name, value)
    assert main(["setup", "--public-url", "https://bot.example"]) == 1
    captured = capsys.readouterr()
    assert (captured.err.splitlines(), captured.out) == (unknown_key_lines(rig.values["key"]), "")


def test_a_stream_error_during_setup_is_described_not_dumped(rig, monkeypatch, capsys):
    for name, value in {**rig.env, "GPTBOT_CHANNEL_TYPES": "messaging,nosuch"}.items():
        monkeypatch.setenv(name, value)
    assert main(["setup", "--public-url", "https://bot.example"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("Stream answered HTTP 404, code 16: the resource does not exist")
    assert lines[1].startswith("  fix: create it")
    assert "Traceback" not in "\n".join(lines)


def test_setup_still_registers_a_healthy_app(rig, monkeypatch, capsys):
    for name, value in rig.env.items():
        monkeypatch.setenv(name, value)
    assert main(["setup", "--public-url", "https://bot.example"]) == 0
    assert capsys.readouterr().out.endswith(
        "Stream now calls https://bot.example/webhooks/stream/{type} for /gpt\n")


def serve_start(rig, caplog, **env: str) -> list[logging.LogRecord]:
    services = build_services(rig.config(**env, GPTBOT_PUBLIC_URL="https://bot.example"))
    caplog.set_level(logging.INFO, logger="gptbot.server")
    try:
        register_at_startup(services, None)
    finally:
        services.close()
    return [record for record in caplog.records if record.name == "gptbot.server"]


def test_serve_logs_the_refused_port_once_without_a_traceback(rig, caplog):
    url = f"http://127.0.0.1:{closed_port()}"
    [record] = serve_start(rig, caplog, STREAM_CHAT_URL=url)
    assert (record.levelname, record.exc_info) == ("ERROR", None)
    assert record.getMessage().splitlines() == [
        "could not register with Stream: " + refused_lines(url)[0], refused_lines(url)[1],
        "  then `gptbot doctor` checks the rest"]


def test_serve_logs_the_refused_key(rig, caplog):
    fake = rig.enter(answer_everything(401, UNKNOWN_KEY))
    [record] = serve_start(rig, caplog, STREAM_CHAT_URL=fake.url)
    lines = unknown_key_lines(rig.values["key"])
    assert record.getMessage().splitlines()[:2] == ["could not register with Stream: "
                                                    + lines[0], lines[1]]
    assert record.exc_info is None
