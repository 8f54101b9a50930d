"""System prompts: the default, from a file, personas, and the per-channel override."""

from __future__ import annotations

import pytest

from gptbot.conversation.prompts import PERSONAS, Prompts, default_system_prompt, find_persona
from gptbot.core.errors import ConfigError
from gptbot.store.sqlite import open_sqlite
from tests.support.common import make_config


@pytest.fixture
def prompts(tmp_path):
    stores = open_sqlite(tmp_path / "p.db")
    yield Prompts(stores.settings, "The default.")
    stores.close()


def test_default_comes_from_the_setting(tmp_path):
    config = make_config(tmp_path, system_prompt="Be kind.")
    assert default_system_prompt(config) == "Be kind."


def test_a_prompt_file_wins_over_the_setting(tmp_path):
    (tmp_path / "prompt.md").write_text("  From the file.\n", encoding="utf-8")
    config = make_config(tmp_path, system_prompt_file=str(tmp_path / "prompt.md"))
    assert default_system_prompt(config) == "From the file."


@pytest.mark.parametrize("content", [None, "  \n"])
def test_a_missing_or_empty_prompt_file_is_a_config_error(tmp_path, content):
    path = tmp_path / "prompt.md"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    config = make_config(tmp_path, system_prompt_file=str(path))
    with pytest.raises(ConfigError, match="GPTBOT_SYSTEM_PROMPT_FILE"):
        default_system_prompt(config)


def test_personas_are_findable_and_distinct():
    names = [p.name for p in PERSONAS]
    assert {"support", "reviewer", "analyst"} <= set(names)
    assert len(set(names)) == len(names)
    assert find_persona(" Reviewer ") is find_persona("reviewer")
    assert find_persona("pirate") is None


def test_channel_override_precedence(prompts):
    cid = "messaging:dev"
    assert prompts.for_channel(cid) == "The default."
    prompts.set_persona(cid, find_persona("reviewer"))
    assert prompts.for_channel(cid) == find_persona("reviewer").prompt
    assert prompts.describe(cid) == "the code reviewer persona"
    prompts.set_custom(cid, "Answer in French.")
    assert prompts.for_channel(cid) == "Answer in French."
    assert prompts.describe(cid) == "this channel's own system prompt"
    prompts.set_persona(cid, find_persona("analyst"))  # the latest choice wins
    assert prompts.for_channel(cid) == find_persona("analyst").prompt
    prompts.clear(cid)
    assert prompts.for_channel(cid) == "The default."
    assert prompts.describe(cid) == "the default system prompt"


def test_overrides_belong_to_one_channel(prompts):
    prompts.set_custom("messaging:a", "Only here.")
    assert prompts.for_channel("messaging:b") == "The default."


def test_an_unknown_stored_persona_falls_back_to_the_default(prompts):
    prompts.settings.set_channel_setting("messaging:a", "persona", "retired-persona")
    assert prompts.for_channel("messaging:a") == "The default."
