"""Personal data kept from language-model providers and from what gptbot stores (GPTBOT_REDACT).

`Redactor` finds e-mail addresses, phone numbers, payment cards, IBANs and IP addresses and
replaces each with a typed placeholder (`[EMAIL_1]`, `[CARD_2]`…). One `Placeholders` numbers
the values of one request or answer, so the same value reads the same everywhere in it and the
model can still refer to it. `RedactingProvider` wraps a provider so that every request leaves
redacted. `moderation` checks questions and answers (an OpenAI-compatible `/moderations`
endpoint, a local blocklist) and says why in a `Verdict`. Imports only the core, the validators
(`phonenumbers`, `python-stdnum`) and, for moderation, `requests` and `tenacity`.
"""

from gptbot.safety.provider import RedactingProvider, redacted_request
from gptbot.safety.redact import Placeholders, Redactor

__all__ = ["Placeholders", "RedactingProvider", "Redactor", "redacted_request"]
