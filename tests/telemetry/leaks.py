"""Zero secrets in any log line: the check, for one test or (from tests/conftest.py) the suite.

`SecretSpy` is a handler for the root logger: it formats every record it is handed (message
and traceback, as a log line would show them) and keeps the lines that contain a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from stream_chat import StreamChat

from tests.support.common import API_KEY, API_SECRET

TEST_PROVIDER_KEYS = ("sk-test",)  # make_config's OpenAI key


def server_token(api_key: str = API_KEY, api_secret: str = API_SECRET) -> str:
    """The server JWT the Stream SDK sends with every call (derived from the secret)."""
    return str(StreamChat(api_key=api_key, api_secret=api_secret).auth_token)


def suite_secrets() -> list[str]:
    """Everything the suite's bots hold that must never be written: the Stream secret,
    the provider keys and the server token."""
    return [API_SECRET, *TEST_PROVIDER_KEYS, server_token()]


def secret_hits(lines: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """The lines that contain any of the secrets (every one checked, however short)."""
    wanted = [secret for secret in secrets if secret]
    return [line for line in lines if any(secret in line for secret in wanted)]


class SecretSpy(logging.Handler):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(logging.NOTSET)
        self.secrets = list(secrets)
        self.hits: list[str] = []
        self.lines = 0
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        self.lines += 1
        self.hits.extend(secret_hits([line], self.secrets))
