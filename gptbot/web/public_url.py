"""Where Stream reaches us: GPTBOT_PUBLIC_URL, or a running ngrok tunnel found through
ngrok's local agent API.

When ngrok is the source, each way it can be wrong (no agent, no https tunnel, a tunnel to
another port) has its own text in NGROK_CAUSES; `gptbot doctor` prints the same texts
(gptbot.diagnosis reads this table), so `setup --ngrok` and the doctor never disagree.
"""

from __future__ import annotations

from typing import Any

import requests

from gptbot.config import Config
from gptbot.core.errors import SetupError

DEFAULT_PORT = 8000  # `gptbot serve`'s
HOW_TO_START = "start one with `ngrok http 8000` (the port `gptbot serve` listens on), then retry"

# cause id → (what is wrong, the fix); filled with the values NgrokProblem carries.
NGROK_CAUSES: dict[str, tuple[str, str]] = {
    "ngrok.not_running": (
        "GPTBOT_PUBLIC_URL is not set and no ngrok agent answers at {api_url} ({reason})",
        "start the tunnel: `ngrok http {port}` (or set GPTBOT_PUBLIC_URL to the bot's https URL)",
    ),
    "ngrok.no_https": (
        "ngrok is running but has no https tunnel (it has: {tunnels})",
        "stop it and start `ngrok http {port}`: it opens an https tunnel to port {port}",
    ),
    "ngrok.other_port": (
        "ngrok's https tunnel {url} forwards to {addr}, not to port {port} where gptbot listens",
        "start `ngrok http {port}` (or pass --port if gptbot really listens on that port)",
    ),
}


class NgrokProblem(SetupError):
    """The public URL was to come from ngrok, and ngrok cannot give it: `cause` says why."""

    def __init__(self, cause: str, **values: Any) -> None:
        line, fix = NGROK_CAUSES[cause]
        self.cause, self.values = cause, values
        self.line, self.fix = line.format(**values), fix.format(**values)
        super().__init__(f"{self.line}; fix: {self.fix}")


def public_url_for(config: Config, port: int | None = None) -> str:
    """GPTBOT_PUBLIC_URL when set, else the https tunnel of a local ngrok agent."""
    if config.public_url:
        return config.public_url
    return find_tunnel(config.ngrok_api_url, port)


def find_tunnel(api_url: str, port: int | None = None, timeout: float = 2.0) -> str:
    """The https tunnel to `port` (to any port when None); NgrokProblem says what is off."""
    shown = port or DEFAULT_PORT
    try:
        response = requests.get(api_url, timeout=timeout)
        response.raise_for_status()
        tunnels = response.json().get("tunnels", [])
    except (requests.RequestException, ValueError, AttributeError) as exc:
        raise NgrokProblem("ngrok.not_running", api_url=api_url, reason=_why(exc),
                           port=shown) from None
    https = [t for t in tunnels if str(t.get("public_url", "")).startswith("https://")]
    if not https:
        raise NgrokProblem("ngrok.no_https", tunnels=_listing(tunnels), port=shown)
    if port is not None and not any(_forwards_to(t, port) for t in https):
        first = https[0]
        raise NgrokProblem("ngrok.other_port", url=first["public_url"], addr=_addr(first),
                           port=port)
    return str(pick_https_tunnel(tunnels, port))


def pick_https_tunnel(tunnels: list[dict], port: int | None) -> str | None:
    """The https tunnel, preferring one that forwards to our port when several run."""
    https = [t for t in tunnels if str(t.get("public_url", "")).startswith("https://")]
    if port is not None:
        ours = [t for t in https if _forwards_to(t, port)]
        https = ours or https
    return https[0]["public_url"] if https else None


def _forwards_to(tunnel: dict, port: int) -> bool:
    addr = _addr(tunnel)
    return addr.rstrip("/").endswith(f":{port}") or addr == str(port)


def _addr(tunnel: dict) -> str:
    return str((tunnel.get("config") or {}).get("addr", "?"))


def _listing(tunnels: list[dict]) -> str:
    return ", ".join(f"{t.get('public_url', '?')} → {_addr(t)}" for t in tunnels) or "none"


def _why(exc: Exception) -> str:
    """A few words, not urllib3's paragraph: the agent is simply not there, or not ngrok."""
    if isinstance(exc, requests.ConnectionError):
        return "connection refused: the agent is not running"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}: not ngrok's agent API"
    return "its answer is not ngrok's tunnel list"
