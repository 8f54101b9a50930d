"""What the model is told: memory of earlier turns, system prompts and personas,
summaries of old turns, and the channel's recent messages as context.

May import: gptbot.core, gptbot.config, gptbot.store, gptbot.llm, gptbot.stream.
"""
