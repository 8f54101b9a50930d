"""gptbot: an LLM in Stream Chat channels, answering `/gpt` with a streamed reply.

Entry points: `gptbot.cli.main:main` (the `gptbot` command) and `gptbot.server:serve_app`
(the WSGI factory gunicorn loads in each process). The subpackages are layers, each
importing only those below it (docs/architecture.md): start reading at `gptbot/web/app.py`
and `gptbot/jobs/answer.py`.
"""
