"""The settings contract: per-channel overrides (system prompt, persona) set by admins."""

from __future__ import annotations

from typing import Protocol


class SettingsStore(Protocol):
    def channel_settings(self, cid: str) -> dict[str, str]: ...

    def set_channel_setting(self, cid: str, name: str, value: str | None) -> None:
        """Set one setting of a channel; None removes it."""
