"""Where Stream reaches us: GPTBOT_PUBLIC_URL, or a running ngrok tunnel found through
ngrok's local agent API."""

from __future__ import annotations

import requests

from gptbot.config import Config
from gptbot.core.errors import SetupError

HOW_TO_START = "start one with `ngrok http 8000` (the port `gptbot serve` listens on), then retry"


def public_url_for(config: Config, port: int | None = None) -> str:
    """GPTBOT_PUBLIC_URL when set, else the https tunnel of a local ngrok agent."""
    if config.public_url:
        return config.public_url
    return find_tunnel(config.ngrok_api_url, port)


def find_tunnel(api_url: str, port: int | None = None, timeout: float = 2.0) -> str:
    try:
        response = requests.get(api_url, timeout=timeout)
        response.raise_for_status()
        tunnels = response.json().get("tunnels", [])
    except (requests.RequestException, ValueError) as exc:
        raise SetupError(f"no ngrok agent answered at {api_url} ({exc}); {HOW_TO_START}") from None
    url = pick_https_tunnel(tunnels, port)
    if url is None:
        raise SetupError(f"ngrok is running but has no https tunnel"
                         f"{f' to port {port}' if port else ''}; {HOW_TO_START}")
    return url


def pick_https_tunnel(tunnels: list[dict], port: int | None) -> str | None:
    """The https tunnel, preferring one that forwards to our port when several run."""
    https = [t for t in tunnels if str(t.get("public_url", "")).startswith("https://")]
    if port is not None:
        ours = [t for t in https if _forwards_to(t, port)]
        https = ours or https
    return https[0]["public_url"] if https else None


def _forwards_to(tunnel: dict, port: int) -> bool:
    addr = str(tunnel.get("config", {}).get("addr", ""))
    return addr.rstrip("/").endswith(f":{port}") or addr == str(port)
