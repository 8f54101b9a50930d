"""`gptbot setup` against the Stream emulator: idempotent, and keeps existing commands."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat

from gptbot.cli.main import main
from gptbot.emulator import EmulatorState, create_emulator_app, start_server
from gptbot.stream.api import StreamApi
from gptbot.stream.registration import register
from tests.support.common import API_KEY, API_SECRET, make_config
from tests.support.servers import serve_json


@pytest.fixture
def stream():
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET)
    with start_server(create_emulator_app(state)) as server:
        yield state, server.url


def client(url: str) -> StreamChat:
    return StreamChat(API_KEY, API_SECRET, base_url=url)


def test_register_sets_everything_up_and_is_idempotent(stream, tmp_path):
    state, url = stream
    sdk = client(url)
    sdk.create_command({"name": "ticket", "description": "Open a ticket"})
    sdk.update_channel_type("messaging", commands=["giphy", "ticket"])
    other_hook = {"enabled": True, "hook_type": "sqs", "sqs_queue_url": "q", "event_types": []}
    sdk.update_app_settings(event_hooks=[other_hook])
    config = make_config(tmp_path, stream_chat_url=url, channel_types=("messaging", "team"))
    sdk.update_channel_type("team", commands=["giphy"])
    api = StreamApi(sdk, max_wait=0)

    changes = register(api, config, "https://bot.example.com")
    assert "created command /gpt" in changes
    names = [c["name"] for c in sdk.get_channel_type("messaging")["commands"]]
    assert names == ["giphy", "ticket", "gpt"]  # nothing dropped
    assert "gpt" in [c["name"] for c in sdk.get_channel_type("team")["commands"]]
    assert sdk.get_app_settings()["app"]["custom_action_handler_url"] == (
        "https://bot.example.com/webhooks/stream/{type}")
    assert (state.users["gpt-bot"]["name"], state.users["gpt-bot"]["role"]) == ("GPT", "admin")
    kept, hook = sdk.get_app_settings()["app"]["event_hooks"]
    assert kept == other_hook  # Stream drops hooks missing from an update: keep theirs
    assert hook["webhook_url"] == "https://bot.example.com/webhooks/stream-events"
    assert hook["event_types"] == ["ai_indicator.stop", "reaction.new", "reaction.deleted"]
    assert hook["should_send_custom_events"] is True
    assert register(api, config, "https://bot.example.com") == []


def test_register_survives_transient_stream_errors(stream, tmp_path):
    state, url = stream
    state.inject_fault("GET", r"/commands$", 503, times=2)
    state.inject_fault("PATCH", r"/app$", 429, code=9, times=1)
    config = make_config(tmp_path, stream_chat_url=url)
    register(StreamApi(client(url), max_wait=0), config, "https://bot.example.com")
    assert client(url).get_app_settings()["app"]["custom_action_handler_url"]


def test_setup_command_with_public_url(stream, tmp_path, monkeypatch, capsys):
    _, url = stream
    env = {"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET, "STREAM_CHAT_URL": url,
           "GPTBOT_DATA_DIR": str(tmp_path)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["setup", "--public-url", "https://bot.example.com"]) == 0
    out = capsys.readouterr().out
    assert "created command /gpt" in out
    assert "https://bot.example.com/webhooks/stream/{type}" in out


def test_setup_with_ngrok_registers_the_tunnel(stream, tmp_path, monkeypatch, capsys):
    _, url = stream
    tunnels = {"tunnels": [{"public_url": "https://abc.ngrok.app",
                            "config": {"addr": "http://localhost:8000"}}]}
    with serve_json({"/api/tunnels": lambda: (200, tunnels)}) as agent:
        for name, value in {"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
                            "STREAM_CHAT_URL": url,
                            "GPTBOT_NGROK_API_URL": agent.url + "/api/tunnels"}.items():
            monkeypatch.setenv(name, value)
        assert main(["setup", "--ngrok"]) == 0
    assert client(url).get_app_settings()["app"]["custom_action_handler_url"] == (
        "https://abc.ngrok.app/webhooks/stream/{type}")


def test_setup_without_credentials_names_the_variable(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("STREAM_API_KEY", raising=False)
    monkeypatch.setenv("STREAM_API_SECRET", "x")
    assert main(["setup", "--public-url", "https://x.example"]) == 2
    assert "STREAM_API_KEY" in capsys.readouterr().err


def test_setup_without_url_explains_ngrok(stream, monkeypatch, capsys, tmp_path):
    _, url = stream
    with serve_json({}) as agent:
        dead = agent.url
    for name, value in {"STREAM_API_KEY": API_KEY, "STREAM_API_SECRET": API_SECRET,
                        "STREAM_CHAT_URL": url, "GPTBOT_NGROK_API_URL": dead}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GPTBOT_PUBLIC_URL", raising=False)
    assert main(["setup"]) == 2
    assert "ngrok http" in capsys.readouterr().err


def test_message_limit_comes_from_the_channel_type(stream):
    _, url = stream
    sdk = client(url)
    sdk.update_channel_type("messaging", max_message_length=1200)
    api = StreamApi(sdk, max_wait=0)
    assert api.message_limit("messaging", 5000) == 1200
    assert api.message_limit("messaging", 800) == 800  # an operator's lower cap wins
    assert api.message_limit("no-such-type", 5000) == 5000  # unreadable: Stream's default


def test_a_concurrent_first_registration_is_not_an_error(stream, tmp_path):
    _, url = stream
    config = make_config(tmp_path, stream_chat_url=url)
    api = StreamApi(client(url), max_wait=0)
    # The other process creates the command between our list and our create.
    api.client.create_command({"name": "gpt", "description": "made by the other process"})
    api.client.list_commands = lambda: {"commands": []}  # what we saw a moment earlier
    assert "created command /gpt" not in register(api, config, "https://bot.example.com")



def test_serve_keeps_starting_when_stream_cannot_be_reached(tmp_path, caplog):
    from gptbot.server import register_at_startup
    from gptbot.services import build_services

    dead = "http://127.0.0.1:9"
    config = make_config(tmp_path, stream_chat_url=dead, public_url="https://bot.example.com")
    stream = StreamApi(StreamChat(API_KEY, API_SECRET, base_url=dead), max_wait=0)
    services = build_services(config, stream=stream)
    register_at_startup(services, None)
    services.close()
    assert "could not register with Stream" in caplog.text
    assert "gptbot doctor" in caplog.text
