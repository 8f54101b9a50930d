"""`gptbot doctor` against the emulator, the fake LLM and a running bot.

(The table of every failure is tests/diagnosis/test_failure_table.py; this is the command.)
"""

from __future__ import annotations

import json

import pytest

from gptbot.cli import doctor
from gptbot.cli.doctor import run_checks
from gptbot.cli.main import main
from gptbot.config import Config
from gptbot.emulator import EmulatorState, create_emulator_app, start_server
from gptbot.services import build_services
from gptbot.stream.registration import register
from gptbot.web.app import create_app
from tests.support.common import API_KEY, API_SECRET, sse_chat_stream
from tests.support.servers import FakeLLM, serve_llm


@pytest.fixture
def env(tmp_path):
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET)
    with start_server(create_emulator_app(state)) as stream, \
            serve_llm(FakeLLM(sse_chat_stream(["OK"]))) as llm:
        yield {"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
               "STREAM_CHAT_URL": stream.url, "OPENAI_BASE_URL": llm.url + "/v1",
               "OPENAI_API_KEY": "sk-x", "GPTBOT_DATA_DIR": str(tmp_path)}


def by_name(checks):
    return {check.name: check for check in checks}


def set_env(monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_everything_green_on_a_registered_running_bot(env):
    config = Config.from_env(env)
    services = build_services(config)
    with start_server(create_app(config, services)) as bot:
        register(services.stream, config, bot.url)
        checks = run_checks({**env, "GPTBOT_PUBLIC_URL": bot.url})
    assert [c.name for c in checks if not c.ok] == []
    assert by_name(checks)["webhook URL"].detail.endswith("answers as this bot "
                                                          "(signature checked)")


def test_fresh_app_fails_once_with_setup_as_the_fix(env):
    checks = by_name(run_checks({**env, "GPTBOT_PUBLIC_URL": "http://127.0.0.1:9"}))
    assert checks["Stream credentials"].ok
    assert not checks["bot user"].ok and checks["bot user"].fix == "run `gptbot setup`"
    for name in ("/gpt command", "channel type 'messaging'", "webhook URL", "event hooks"):
        assert checks[name].detail == "skipped: needs bot user"
    assert checks["language model"].ok and checks["store"].ok and checks["job queue"].ok


def test_wrong_secret_and_missing_config(env):
    checks = by_name(run_checks({**env, "STREAM_API_SECRET": "w" * 40}))
    assert not checks["Stream credentials"].ok
    assert "STREAM_API_SECRET" in checks["Stream credentials"].fix
    assert "w" * 40 not in checks["Stream credentials"].detail
    [config_check] = run_checks({"STREAM_API_SECRET": "x"})
    assert not config_check.ok and "STREAM_API_KEY" in config_check.detail


def test_unset_model_key_is_not_a_registration_problem(env):
    checks = by_name(run_checks({**env, "OPENAI_BASE_URL": "https://api.openai.com/v1",
                                 "OPENAI_API_KEY": ""}))
    model = checks["language model"]
    assert model.detail == "OPENAI_API_KEY is not set (GPTBOT_PROVIDER=openai)"
    assert "gptbot setup" not in model.fix


def test_cli_exit_code(env, monkeypatch, capsys):
    set_env(monkeypatch, {**env, "GPTBOT_PUBLIC_URL": "http://127.0.0.1:9"})
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "fix: run `gptbot setup`" in out
    assert out.count("fix: run `gptbot setup`") == 1  # one cause, printed once


def test_doctor_json_and_exit_codes(env, monkeypatch, capsys):
    set_env(monkeypatch, {**env, "GPTBOT_PUBLIC_URL": "http://127.0.0.1:9"})
    assert doctor.main(["--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "broken"
    assert [c["name"] for c in document["checks"] if c["status"] == "fail"] == ["bot user"]


def test_a_model_without_a_price_warns_with_where_to_add_it(env, tmp_path):
    checks = by_name(run_checks({**env, "GPTBOT_MODEL": "my-private-model",
                                 "GPTBOT_FALLBACK": "anthropic:claude-3-5-haiku-latest"}))
    assert checks["prices"].status == "warn"
    assert checks["prices"].detail.startswith("no price for openai:my-private-model:")
    assert "GPTBOT_PRICES" in checks["prices"].fix
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."my-private-model"]\ninput = 1.0\noutput = 2.0\n')
    priced = by_name(run_checks({**env, "GPTBOT_MODEL": "my-private-model",
                                 "GPTBOT_PRICES": str(prices)}))
    assert priced["prices"].ok
