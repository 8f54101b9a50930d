"""The HTTP side: what Stream calls, answered within its 1 s budget.

Owns: the app factory and routes (app), webhook parsing and signature checks (webhook,
signature), the command answers and subcommands (commands, subcommands), the event hook for
the Stop button (events), and where Stream reaches us (public_url).
May import: gptbot.services and everything below it.
"""
