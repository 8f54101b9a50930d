"""The start-up diagnosis `gptbot serve` and `gptbot setup` print instead of a traceback,
and `setup --ngrok`'s messages (the same texts as the doctor's)."""

from __future__ import annotations

import pytest

from gptbot.config import Config
from gptbot.core.errors import SetupError
from gptbot.diagnosis import diagnose_startup, render_failures
from gptbot.web.public_url import NgrokProblem, find_tunnel
from tests.diagnosis.servers import closed_port
from tests.support.servers import serve_json


def test_nothing_to_say_when_stream_answers_and_accepts(rig):
    assert diagnose_startup(rig.config()) is None


def test_unreachable_stream_is_one_cause_and_one_fix(rig):
    url = f"http://127.0.0.1:{closed_port()}"
    diagnosis = diagnose_startup(rig.config(STREAM_CHAT_URL=url))
    assert diagnosis is not None and diagnosis.exit_code == 1
    assert render_failures(diagnosis) == (
        f"Stream API: cannot reach Stream: connection refused at {url[7:]}, nothing listens "
        f"there (STREAM_CHAT_URL={url})\n  fix: correct STREAM_CHAT_URL, or unset it to use "
        "Stream's own API (https://chat.stream-io-api.com); for the local emulator, start "
        "`gptbot dev` first")


def test_rejected_credentials(rig):
    diagnosis = diagnose_startup(rig.config(STREAM_API_KEY="nope"))
    assert diagnosis is not None
    [failure] = diagnosis.failures
    assert failure.cause == "stream.key_unknown"


TUNNEL_3000 = {"tunnels": [{"public_url": "https://ab12.ngrok.app",
                            "config": {"addr": "http://localhost:3000"}}]}


def test_ngrok_to_another_port_says_which_and_how_to_start_the_right_one():
    with serve_json({"/api/tunnels": lambda: (200, TUNNEL_3000)}) as agent, \
            pytest.raises(NgrokProblem) as caught:
        find_tunnel(agent.url + "/api/tunnels", 8000)
    assert caught.value.cause == "ngrok.other_port"
    assert str(caught.value) == (
        "ngrok's https tunnel https://ab12.ngrok.app forwards to http://localhost:3000, not to "
        "port 8000 where gptbot listens; fix: start `ngrok http 8000` (or pass --port if "
        "gptbot really listens on that port)")
    assert isinstance(caught.value, SetupError)  # `gptbot: …` in main, as before


def test_ngrok_not_running_names_the_port_to_tunnel():
    url = f"http://127.0.0.1:{closed_port()}/api/tunnels"
    with pytest.raises(NgrokProblem, match="`ngrok http 8123`") as caught:
        find_tunnel(url, 8123, timeout=0.5)
    assert caught.value.line == (f"GPTBOT_PUBLIC_URL is not set and no ngrok agent answers at "
                                 f"{url} (connection refused: the agent is not running)")


def test_an_answer_that_is_not_ngroks():
    with serve_json({"/api/tunnels": lambda: (200, ["not", "tunnels"])}) as agent, \
            pytest.raises(NgrokProblem, match="not ngrok's tunnel list"):
        find_tunnel(agent.url + "/api/tunnels", 8000)


def test_config_with_public_url_needs_no_ngrok(rig):
    from gptbot.web.public_url import public_url_for

    config = Config.from_env({**rig.env, "GPTBOT_PUBLIC_URL": "https://bot.example"})
    assert public_url_for(config, 8000) == "https://bot.example"


def test_a_stream_error_during_registration_is_described_not_dumped(rig):
    from stream_chat.base.exceptions import StreamAPIException

    from gptbot.diagnosis import describe_failure

    config = rig.config()
    stream = rig.stream()
    with pytest.raises(StreamAPIException) as caught:
        stream.channel_type("nosuch")
    text = describe_failure(caught.value, config)
    assert text.startswith("Stream answered HTTP 404, code 16: the resource does not exist")
    assert "\n  fix: create it" in text
    assert describe_failure(ValueError("plain"), config) == "plain"


def test_an_unreachable_stream_during_registration(rig):
    import requests

    from gptbot.diagnosis import describe_failure

    url = f"http://127.0.0.1:{closed_port()}"
    config = rig.config(STREAM_CHAT_URL=url)
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get(url, timeout=1)
    assert describe_failure(caught.value, config).startswith(
        f"cannot reach Stream: connection refused at {url[7:]}")
