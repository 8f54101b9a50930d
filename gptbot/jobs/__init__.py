"""The background work: one `/gpt` question becomes a streamed reply.

Owns: the job payload (job), the huey queue with JSON messages (queue, serializer), the
worker with graceful shutdown (worker, running), the sweeper (sweeper), an attempt's life
from start to recorded end (lifecycle, heartbeat, owner), the answer job (answer), stop
handling (stop) and housekeeping.
May import: gptbot.conversation, gptbot.stream, gptbot.llm, gptbot.store, and below.
"""
