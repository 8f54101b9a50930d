"""The operator's commands: `gptbot setup|serve|worker|doctor|dev|models`.

Owns: argument parsing (main), the health checks (doctor) and the local dev loop (dev).
May import: every other part of gptbot; nothing imports it.
"""
