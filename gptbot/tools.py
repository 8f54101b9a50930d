"""The public API for tool authors: `from gptbot.tools import ToolContext, tool`.

A stable name for operators' own modules (GPTBOT_TOOLS); the machinery is in gptbot.llm.tools.
"""

from gptbot.llm.tools import ToolContext, tool

__all__ = ["ToolContext", "tool"]
