"""The bottom layer: the types and errors every other part shares.

Owns: chat messages and requests, tool calls, conversation turns (types), the provider-neutral
stream events (events), the AI indicator states (states) and the GptBotError family (errors).
May import: the standard library only — no vendor SDK, Flask, huey or requests (checked by
import-linter in .ci/run).
"""
