import os
from pathlib import Path

import pytest

from gptbot.config import Config
from gptbot.core.errors import ConfigError

BASE = {"STREAM_API_KEY": "k", "STREAM_API_SECRET": "s"}


def test_defaults_on_a_fresh_machine():
    config = Config.from_env(BASE)
    assert config.provider == "openai"
    assert config.openai_base_url == "https://api.openai.com/v1"
    assert config.bot_user_id == "gpt-bot"
    assert config.channel_types == ("messaging",)
    assert config.database_url == f"sqlite:///{Path('data') / 'gptbot.db'}"
    assert config.queue_url == f"sqlite:///{Path('data') / 'jobs.db'}"
    assert config.update_interval == 0.5


@pytest.mark.parametrize("missing", ["STREAM_API_KEY", "STREAM_API_SECRET"])
def test_missing_credentials_are_named(missing):
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Config.from_env(env)


def test_redis_database_also_carries_the_queue():
    config = Config.from_env({**BASE, "GPTBOT_DATABASE_URL": "redis://127.0.0.1:6379/0"})
    assert config.queue_url == "redis://127.0.0.1:6379/0"


def test_values_are_parsed_and_validated():
    config = Config.from_env({**BASE, "GPTBOT_CHANNEL_TYPES": "messaging, team ,",
                              "GPTBOT_UPDATE_INTERVAL_MS": "250", "STREAM_CHAT_URL": "http://x"})
    assert config.channel_types == ("messaging", "team")
    assert config.update_interval == 0.25
    assert config.stream_chat_url == "http://x"
    with pytest.raises(ConfigError, match="GPTBOT_WORKERS"):
        Config.from_env({**BASE, "GPTBOT_WORKERS": "many"})
    with pytest.raises(ConfigError, match="GPTBOT_EMBEDDED_WORKER"):
        Config.from_env({**BASE, "GPTBOT_EMBEDDED_WORKER": "perhaps"})


def test_secrets_stay_out_of_repr():
    config = Config.from_env({**BASE, "STREAM_API_SECRET": "hunter2-secret",
                              "OPENAI_API_KEY": "sk-very-secret"})
    assert "hunter2" not in repr(config)
    assert "sk-very" not in repr(config)


def test_handler_url_uses_streams_type_placeholder():
    config = Config.from_env(BASE)
    assert config.handler_url("https://bot.example.com/") == (
        "https://bot.example.com/webhooks/stream/{type}")


def test_concurrency_is_the_knob_and_the_old_thread_count_an_alias():
    config = Config.from_env(BASE)
    assert (config.concurrency, config.deprecations) == (256, ())
    assert Config.from_env({**BASE, "GPTBOT_CONCURRENCY": "1000"}).concurrency == 1000
    old = Config.from_env({**BASE, "GPTBOT_WORKERS": "8"})
    assert old.concurrency == 8
    assert "GPTBOT_WORKERS is deprecated" in old.deprecations[0]
    both = Config.from_env({**BASE, "GPTBOT_WORKERS": "8", "GPTBOT_CONCURRENCY": "64"})
    assert both.concurrency == 64  # the new name wins; the old one is still reported
    assert both.deprecations
    with pytest.raises(ConfigError, match="GPTBOT_CONCURRENCY must be at least 1"):
        Config.from_env({**BASE, "GPTBOT_CONCURRENCY": "0"})


def test_serve_runs_one_worker_child_per_core_unless_told():
    cores = len(os.sched_getaffinity(0))  # the cores this process may run on
    assert Config.from_env(BASE).worker_children == cores
    assert Config.from_env({**BASE, "GPTBOT_WORKER_PROCESSES": "3"}).worker_children == 3
    with pytest.raises(ConfigError, match="GPTBOT_WORKER_PROCESSES must be a whole number"):
        Config.from_env({**BASE, "GPTBOT_WORKER_PROCESSES": "two"})


@pytest.mark.parametrize(("raw", "expected"), [
    (None, (True, "process")), ("true", (True, "process")), ("process", (True, "process")),
    ("thread", (True, "thread")), ("THREAD", (True, "thread")), ("false", (False, "process")),
])
def test_the_embedded_worker_runs_in_a_child_process_unless_told_otherwise(raw, expected):
    env = {**BASE, **({"GPTBOT_EMBEDDED_WORKER": raw} if raw else {})}
    config = Config.from_env(env)
    assert (config.embedded_worker, config.embedded_worker_mode) == expected


def test_reasoning_is_shown_only_when_asked():
    assert Config.from_env(BASE).show_reasoning is False
    assert Config.from_env({**BASE, "GPTBOT_SHOW_REASONING": "true"}).show_reasoning is True
    with pytest.raises(ConfigError, match="GPTBOT_SHOW_REASONING"):
        Config.from_env({**BASE, "GPTBOT_SHOW_REASONING": "sometimes"})
