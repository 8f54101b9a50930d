"""Loopback fakes that hold a thousand answers at once cheaply: asyncio (aiohttp), one process.

- An OpenAI-compatible LLM: each answer is `tokens` pieces spread over `seconds`
  ("q<N>t<i> " for question N, so a reply with another question's text shows), or, with
  `fixed_s`, one piece after a fixed pause (the answer costs the bot next to no CPU).
- Stream, as far as the worker uses it, with every limit off (an enterprise app): messages
  by id, partial and ephemeral updates, events, channel types; every other route answers
  `{}`. It records when each reply's final text arrived, and `/_bench/state` hands them out.

    python bench/fake_backends.py            # prints {"llm": url, "stream": url}, then serves
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from typing import Any

from aiohttp import web

QUESTION = re.compile(r"question (\d+)")


def answer_pieces(question: int, tokens: int) -> list[str]:
    return [f"q{question}t{i} " for i in range(tokens)]


def expected_text(question: int, tokens: int) -> str:
    return "".join(answer_pieces(question, tokens)).strip()


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


def llm_app(tokens: int, seconds: float, fixed_s: float,
            first_token: dict[int, float]) -> web.Application:
    """`first_token`: when each question's first words left (question number → time)."""

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        found = QUESTION.search(str(body["messages"][-1]["content"]))
        question = int(found.group(1)) if found else -1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_chunk({"role": "assistant", "content": ""}))
        pieces = answer_pieces(question, tokens)
        pause = fixed_s if fixed_s else seconds / max(1, tokens)
        if fixed_s:
            await asyncio.sleep(fixed_s)
            first_token.setdefault(question, time.time())
            await response.write(_chunk({"content": "".join(pieces)}))
        else:
            for piece in pieces:
                await asyncio.sleep(pause)
                first_token.setdefault(question, time.time())
                await response.write(_chunk({"content": piece}))
        await response.write(_chunk({}, "stop"))
        await response.write(b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    return app


class FakeStream:
    def __init__(self, first_token: dict[int, float]) -> None:
        self.first_token = first_token  # the fake LLM's: question number → time
        self.messages: dict[str, dict[str, Any]] = {}
        self.finished: dict[str, float] = {}  # reply id -> when its final text arrived
        self.first_text: dict[str, float] = {}  # reply id -> when its first text arrived
        self.requests = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 20, middlewares=[self._count])
        app.router.add_post("/channels/{type}/{id}/message", self.send_message)
        app.router.add_post("/channels/{type}/{id}/event", self.event)
        app.router.add_put("/messages/{id}", self.update)
        app.router.add_patch("/messages/{id}/ephemeral", self.update)
        app.router.add_get("/messages/{id}", self.get_message)
        app.router.add_get("/channeltypes/{name}", self.channel_type)
        app.router.add_get("/_bench/state", self.state)
        app.router.add_route("*", "/{tail:.*}", self.anything)
        return app

    @web.middleware
    async def _count(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests += 1
        return await handler(request)

    async def send_message(self, request: web.Request) -> web.Response:
        message = (await request.json())["message"]
        if message["id"] in self.messages:
            return web.json_response({"code": 4, "message": f"a message with ID "
                                      f"{message['id']} already exists"}, status=400)
        self.messages[message["id"]] = {**message, "user": {"id": message.get("user_id")}}
        return web.json_response({"message": self.messages[message["id"]]}, status=201)

    async def update(self, request: web.Request) -> web.Response:
        message_id = request.match_info["id"]
        fields = (await request.json()).get("set", {})
        message = self.messages.setdefault(message_id, {"id": message_id})
        message.update(fields)
        if fields.get("text"):
            self.first_text.setdefault(message_id, time.time())
        if fields.get("generating") is False:
            self.finished[message_id] = time.time()
        return web.json_response({"message": message})

    async def get_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(request.match_info["id"])
        if message is None:
            return web.json_response({"code": 4, "message": "not found"}, status=404)
        return web.json_response({"message": message})

    async def event(self, request: web.Request) -> web.Response:
        return web.json_response({"event": await request.json()}, status=201)

    async def channel_type(self, request: web.Request) -> web.Response:
        return web.json_response({"name": request.match_info["name"], "commands": [],
                                  "max_message_length": 5000})

    async def state(self, request: web.Request) -> web.Response:
        texts = {k: m.get("text", "") for k, m in self.messages.items()}
        return web.json_response({"finished": self.finished, "first_text": self.first_text,
                                  "first_token": self.first_token,
                                  "texts": texts, "requests": self.requests})

    async def anything(self, request: web.Request) -> web.Response:
        return web.json_response({})


async def serve(tokens: int, seconds: float, fixed_s: float) -> None:
    urls, first_token = {}, {}
    for name, app in (("llm", llm_app(tokens, seconds, fixed_s, first_token)),
                      ("stream", FakeStream(first_token).app())):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port = runner.addresses[0][1]
        urls[name] = f"http://127.0.0.1:{port}"
    print(json.dumps(urls), flush=True)
    await asyncio.Event().wait()


def main() -> None:
    tokens = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    fixed_s = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    asyncio.run(serve(tokens, seconds, fixed_s))


if __name__ == "__main__":
    main()
