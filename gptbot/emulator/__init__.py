"""A loopback stand-in for Stream Chat's REST API and its custom-command webhook."""

from gptbot.emulator.commands import send_user_message
from gptbot.emulator.errors import ApiError
from gptbot.emulator.rest import create_emulator_app
from gptbot.emulator.server import RunningServer, start_server
from gptbot.emulator.state import EmulatorState

__all__ = [
    "ApiError",
    "EmulatorState",
    "RunningServer",
    "create_emulator_app",
    "send_user_message",
    "start_server",
]
