"""The background work: one `/gpt` question becomes a streamed reply.

Owns: the job payload (job), the huey queue, worker and sweeper (queue), the answer job
(answer) and stop handling (stop).
May import: gptbot.conversation, gptbot.stream, gptbot.llm, gptbot.store, and below.
"""
