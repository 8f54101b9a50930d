"""Talking to language models: providers, their wire formats, and one answer's model loop.

Owns: the provider registry and one module per provider (`providers/`, each with a pure
`*_wire.py`), SSE / NDJSON / line decoding, accumulation of a stream into an answer, token
estimates, tools, and `generate` (model turns with tool rounds in between).
May import: gptbot.core, gptbot.config, gptbot.local (the embedded model's runtime).
"""
