"""The AI indicator states an answer goes through, in Stream's own names.

They live here, not with the reply writer, because the model loop (llm) reports them too.
"""

THINKING = "AI_STATE_THINKING"
GENERATING = "AI_STATE_GENERATING"
EXTERNAL_SOURCES = "AI_STATE_EXTERNAL_SOURCES"
ERROR = "AI_STATE_ERROR"
