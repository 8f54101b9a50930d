"""The embedded model for `gptbot dev`: its weights, its llama.cpp server, and the
lifecycle that starts it once per machine and shares it between processes.

May import: gptbot.core only (the `local` provider in gptbot.llm uses this package).
"""
