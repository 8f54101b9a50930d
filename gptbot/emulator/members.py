"""Channel members, as Stream serves them: QueryMembers and the add_members form of
UpdateChannel (what `/gpt human` uses to call operators in)."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from gptbot.emulator.errors import ApiError, request_body
from gptbot.emulator.state import EmulatorState

Json = dict[str, Any]


def query_members(state: EmulatorState) -> Json:
    """The filters the bot uses: {} and the member's user id, {"id": x} or {"$in": [...]}."""
    payload = json.loads(request.args.get("payload") or "{}")
    ctype, channel_id = payload.get("type"), payload.get("id")
    if not ctype or not channel_id:
        raise ApiError(400, 4, 'QueryMembers failed with error: "type and id are required"')
    wanted = (payload.get("filter_conditions") or {}).get("id")
    ids = wanted.get("$in", []) if isinstance(wanted, dict) else [wanted]
    only = None if wanted is None else [str(i) for i in ids]
    return {"members": state.query_members(ctype, channel_id, only, payload)}


def update_channel(state: EmulatorState, ctype: str, channel_id: str) -> Json:
    """Only the add_members form of UpdateChannel, as `Channel.add_members` sends it."""
    body = request_body()
    unsupported = sorted(k for k, v in body.items() if k != "add_members" and v is not None)
    members = body.get("add_members")
    if unsupported or not isinstance(members, list):
        detail = f"UpdateChannel: the emulator supports only add_members, not {unsupported}"
        raise ApiError(400, 4, detail)
    return state.add_members(ctype, channel_id, members)
