"""gptbot: an LLM in Stream Chat channels, answering `/gpt` with a streamed reply.

Entry points: `gptbot.cli:main` (the `gptbot` command) and `gptbot.server:serve_app`
(the WSGI factory the Procfile runs). Start reading at `gptbot/web.py` and `gptbot/answer.py`.
"""
