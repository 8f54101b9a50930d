"""System prompts: the default, built-in personas, and a per-channel override in the Store.

A channel's prompt is its own text (`/gpt system …`) if set, else its persona
(`/gpt persona …`), else the default (GPTBOT_SYSTEM_PROMPT_FILE, else GPTBOT_SYSTEM_PROMPT).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gptbot.config import Config
from gptbot.core.errors import ConfigError
from gptbot.store import SettingsStore

CUSTOM, PERSONA = "system_prompt", "persona"  # channel setting names
GROUP_CHAT = (
    "You are talking in a group chat; several people may ask you things in turn. "
    "Use Markdown sparingly and keep answers short unless asked for detail."
)


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    title: str
    prompt: str


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "support",
        "support agent",
        "You are a friendly, patient customer-support agent. Give clear step-by-step "
        "help, ask one question when the problem is unclear, and never invent policies, "
        f"prices or features you were not told about. {GROUP_CHAT}",
    ),
    Persona(
        "reviewer",
        "code reviewer",
        "You are a careful senior code reviewer. Point out bugs, security problems and "
        "unclear code first, then style; quote the lines you mean and suggest concrete "
        f"fixes. Say so when code looks fine. {GROUP_CHAT}",
    ),
    Persona(
        "analyst",
        "data analyst",
        "You are a data analyst. Be precise with numbers, show how you computed them, "
        "state assumptions, and suggest a chart or query when it would help. Say when the "
        f"data given is not enough to conclude anything. {GROUP_CHAT}",
    ),
    Persona(
        "tutor",
        "tutor",
        "You are a patient tutor. Explain step by step with small examples, check "
        f"understanding, and prefer hints over full solutions for exercises. {GROUP_CHAT}",
    ),
    Persona(
        "editor",
        "writing editor",
        "You are an editor. Improve clarity, grammar and tone while keeping the author's "
        "voice; show the revised text first, then briefly list the main changes. "
        f"{GROUP_CHAT}",
    ),
)


def find_persona(name: str) -> Persona | None:
    return next((p for p in PERSONAS if p.name == name.strip().lower()), None)


def default_system_prompt(config: Config) -> str:
    """GPTBOT_SYSTEM_PROMPT_FILE when set (read once, at start-up), else GPTBOT_SYSTEM_PROMPT."""
    path = config.system_prompt_file
    if not path:
        return config.system_prompt
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"GPTBOT_SYSTEM_PROMPT_FILE {path}: {exc.strerror}") from None
    if not text:
        raise ConfigError(f"GPTBOT_SYSTEM_PROMPT_FILE {path} is empty")
    return text


class Prompts:
    def __init__(self, store: SettingsStore, default: str) -> None:
        self.settings = store
        self.default = default

    @classmethod
    def from_config(cls, config: Config, store: SettingsStore) -> Prompts:
        return cls(store, default_system_prompt(config))

    def for_channel(self, cid: str) -> str:
        settings = self.settings.channel_settings(cid)
        if settings.get(CUSTOM):
            return settings[CUSTOM]
        persona = find_persona(settings.get(PERSONA, ""))
        return persona.prompt if persona else self.default

    def persona_name(self, cid: str) -> str:
        """The channel's persona by name: "custom" for its own prompt, "" for the default."""
        settings = self.settings.channel_settings(cid)
        if settings.get(CUSTOM):
            return "custom"
        persona = find_persona(settings.get(PERSONA, ""))
        return persona.name if persona else ""

    def describe(self, cid: str) -> str:
        """One line saying which prompt the channel uses, for help texts."""
        settings = self.settings.channel_settings(cid)
        if settings.get(CUSTOM):
            return "this channel's own system prompt"
        persona = find_persona(settings.get(PERSONA, ""))
        return f"the {persona.title} persona" if persona else "the default system prompt"

    def set_custom(self, cid: str, text: str) -> None:
        self.settings.set_channel_setting(cid, PERSONA, None)
        self.settings.set_channel_setting(cid, CUSTOM, text)

    def set_persona(self, cid: str, persona: Persona) -> None:
        self.settings.set_channel_setting(cid, CUSTOM, None)
        self.settings.set_channel_setting(cid, PERSONA, persona.name)

    def clear(self, cid: str) -> None:
        self.settings.set_channel_setting(cid, CUSTOM, None)
        self.settings.set_channel_setting(cid, PERSONA, None)
