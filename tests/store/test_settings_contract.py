"""The settings contract on both backends."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings(stores):
    return stores.settings


def test_channel_settings_set_and_remove(settings):
    assert settings.channel_settings("messaging:a") == {}
    settings.set_channel_setting("messaging:a", "persona", "reviewer")
    settings.set_channel_setting("messaging:a", "system_prompt", "Be brief.")
    settings.set_channel_setting("messaging:b", "persona", "analyst")
    assert settings.channel_settings("messaging:a") == {
        "persona": "reviewer",
        "system_prompt": "Be brief.",
    }
    settings.set_channel_setting("messaging:a", "persona", None)
    settings.set_channel_setting("messaging:a", "never-set", None)
    assert settings.channel_settings("messaging:a") == {"system_prompt": "Be brief."}
    assert settings.channel_settings("messaging:b") == {"persona": "analyst"}
