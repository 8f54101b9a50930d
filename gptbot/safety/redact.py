"""Typed, stable placeholders for the personal data `detect` finds (see the package docstring)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from gptbot.safety.detect import DETECTORS, NO_REGION, find

LABELS = {"email": "EMAIL", "phone": "PHONE", "card": "CARD", "iban": "IBAN", "ip": "IP"}
PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|CARD|IBAN|IP)_\d+\]")
MAX_PASSES = 4  # each pass can only shorten what is left; two suffice in practice



class Placeholders:
    """Value → placeholder, numbered per kind; one for a whole request or answer.

    Placeholders already in the text (a remembered turn was stored redacted) are reserved,
    so a new value never takes a number that already means another value."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, str], str] = {}
        self.counts: Counter[str] = Counter()
        self.taken: set[str] = set()

    def reserve(self, text: str) -> None:
        self.taken.update(match.group() for match in PLACEHOLDER.finditer(text))

    def name(self, kind: str, key: str) -> str:
        if (kind, key) not in self.names:
            self.names[kind, key] = self._next(LABELS[kind])
        return self.names[kind, key]

    def _next(self, label: str) -> str:
        while True:
            self.counts[label] += 1
            name = f"[{label}_{self.counts[label]}]"
            if name not in self.taken:
                self.taken.add(name)
                return name


class Redactor:
    def __init__(self, kinds: Iterable[str], *, phone_region: str = NO_REGION) -> None:
        self.kinds = tuple(dict.fromkeys(kinds))  # config order, each once
        unknown = set(self.kinds) - set(DETECTORS)
        if unknown:
            raise ValueError(f"cannot redact {', '.join(sorted(unknown))}")
        self.phone_region = phone_region

    @property
    def enabled(self) -> bool:
        return bool(self.kinds)

    def redact(self, text: str, names: Placeholders | None = None) -> str:
        """The text with every finding replaced; `names` shares numbering across texts."""
        if not self.enabled or not text:
            return text
        names = names if names is not None else Placeholders()
        names.reserve(text)
        # A finding that lost an overlap to a longer one may leave a tail that is itself
        # one ("+49 30 1234567_@x.io": the phone wins, "_@x.io" is left): passes until none
        # is left, so redacting redacted text changes nothing.
        for _ in range(MAX_PASSES):
            redacted = self._one_pass(text, names)
            if redacted == text:
                break
            text = redacted
        return text

    def _one_pass(self, text: str, names: Placeholders) -> str:
        pieces, done = [], 0
        for item in find(text, self.kinds, self.phone_region):
            pieces += [text[done:item.start], names.name(item.kind, item.key)]
            done = item.end
        return "".join(pieces) + text[done:]

    def __repr__(self) -> str:
        return f"Redactor({list(self.kinds)!r})"
