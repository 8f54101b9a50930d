"""Finding the public URL through ngrok's local agent API (a loopback fake of it)."""

from __future__ import annotations

import pytest

from gptbot.core.errors import SetupError
from gptbot.web.public_url import find_tunnel, pick_https_tunnel
from tests.support.servers import serve_json

TUNNELS = {"tunnels": [
    {"name": "cmd", "proto": "http", "public_url": "http://ab12.ngrok.app",
     "config": {"addr": "http://localhost:8000"}},
    {"name": "other", "proto": "https", "public_url": "https://other.ngrok.app",
     "config": {"addr": "http://localhost:3000"}},
    {"name": "cmd (https)", "proto": "https", "public_url": "https://ab12.ngrok.app",
     "config": {"addr": "http://localhost:8000"}},
]}


def test_finds_the_https_tunnel_to_our_port():
    with serve_json({"/api/tunnels": lambda: (200, TUNNELS)}) as agent:
        assert find_tunnel(agent.url + "/api/tunnels", 8000) == "https://ab12.ngrok.app"
        assert find_tunnel(agent.url + "/api/tunnels") == "https://other.ngrok.app"


def test_says_how_to_start_ngrok_when_none_runs():
    with serve_json({}) as agent:
        url = agent.url
    with pytest.raises(SetupError, match="ngrok http 8000"):
        find_tunnel(url + "/api/tunnels", timeout=0.5)


def test_says_so_when_no_https_tunnel_exists():
    only_http = {"tunnels": [TUNNELS["tunnels"][0]]}
    with serve_json({"/api/tunnels": lambda: (200, only_http)}) as agent, \
            pytest.raises(SetupError, match="no https tunnel"):
        find_tunnel(agent.url + "/api/tunnels", 8000)


def test_pick_falls_back_to_any_https_tunnel():
    assert pick_https_tunnel(TUNNELS["tunnels"], 9999) == "https://other.ngrok.app"
    assert pick_https_tunnel([], None) is None
