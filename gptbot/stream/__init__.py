"""The one door to Stream Chat.

Owns: `StreamApi` (every SDK call, with retries, and whether Stream accepts ephemeral
updates), the write budget that keeps every process under Stream's per-app limits,
registration of the command and hooks (`gptbot setup`), and the reply writer that grows an
answer in the channel through the AI indicator states.
May import: gptbot.core, gptbot.config.
"""
