"""Which reactions on a bot reply count as 👍 and 👎 (GPTBOT_FEEDBACK_UP, GPTBOT_FEEDBACK_DOWN).

Stream's React SDK ships `like` (👍) among its default reactions but no thumbs-down, so the
defaults also accept the names apps commonly add for one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gptbot.config.env import csv_setting, get
from gptbot.core.errors import ConfigError

UP_DEFAULT = ("like", "thumbsup", "+1")
DOWN_DEFAULT = ("thumbsdown", "dislike", "-1")


@dataclass(frozen=True, slots=True)
class FeedbackSettings:
    up: tuple[str, ...] = UP_DEFAULT
    down: tuple[str, ...] = DOWN_DEFAULT

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FeedbackSettings:
        up = csv_setting(get(env, "GPTBOT_FEEDBACK_UP") or ",".join(UP_DEFAULT))
        down = csv_setting(get(env, "GPTBOT_FEEDBACK_DOWN") or ",".join(DOWN_DEFAULT))
        both = sorted(set(up) & set(down))
        if both:
            raise ConfigError(f"GPTBOT_FEEDBACK_UP and GPTBOT_FEEDBACK_DOWN both list "
                              f"{', '.join(both)}; a reaction can only count one way")
        return cls(tuple(up), tuple(down))

    def vote_of(self, reaction_type: str) -> int:
        """+1, -1, or 0 for a reaction that is no feedback."""
        return 1 if reaction_type in self.up else -1 if reaction_type in self.down else 0
