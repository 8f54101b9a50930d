"""The playground in a real headless Chromium: type `/gpt hello`, watch the answer grow.

The whole loop runs in-process (tests/support/loop.py): the emulator + playground on one
loopback port, the bot (`create_app` + `EmbeddedWorker`, registered like `gptbot serve` does)
and a loopback LLM that streams slowly enough for the growth to be visible in the DOM.
Needs Debian's `chromium` and `chromium-driver` packages and the `selenium` Python package.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    CHROMEDRIVER,
    CHROMIUM,
    bot_text,
    chromium,
    composer,
    js,
    open_playground,
)
from tests.support.common import sse_chat_stream
from tests.support.loop import Loop, chunks, wait_for, whole_loop
from tests.support.servers import FakeLLM

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ANSWER = (
    "Hello! I'm **gptbot**, answering from your own machine through the local Stream "
    "emulator. Ask me anything with `/gpt` followed by a question, for example *how do I "
    "reset my password?*, and watch the answer stream in right here."
)


def plain(text: str) -> str:
    """Text without markdown markers: a half-streamed `**bo` still shows its asterisks."""
    return re.sub(r"\*\*|\*|`", "", text)


VISIBLE_ANSWER = plain(ANSWER)  # what the rendered markdown shows
AI_STATES = ("Thinking…", "Generating…")

if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
    pytest.skip(
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )
pytest.importorskip("selenium.webdriver", reason="needs `pip install selenium`")
pytestmark = pytest.mark.slow


HOLD_S = 30  # the longest the LLM waits for the test (below the bot's 60 s idle timeout)


@dataclass
class HeldLLM(FakeLLM):
    """The scripted LLM, paced by the test instead of the clock: it holds the answer before
    its first byte (the bot shows "Thinking…") and again half-way, each time until the test
    has seen what it looks for, so that no state can come and go between two looks on a
    slow machine."""

    started: threading.Event = field(default_factory=threading.Event)
    halfway: threading.Event = field(default_factory=threading.Event)

    def pieces(self) -> Iterator[bytes]:
        pieces = list(super().pieces())
        self.started.wait(HOLD_S)
        for number, piece in enumerate(pieces):
            if number == len(pieces) // 2:
                self.halfway.wait(HOLD_S)
            yield piece

    def release(self) -> None:
        self.started.set()
        self.halfway.set()


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    llm = HeldLLM(sse_chat_stream(chunks(ANSWER, 6)), piece_sizes=(60, 140), delay=0.02)
    with whole_loop(tmp_path, llm) as running:
        try:
            yield running
        finally:
            llm.release()  # a failed test must not leave the LLM's thread waiting


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def ai_state(driver: Any, pane: str = "channel-composer") -> str:
    bar = f"#{pane} .ai-bar"
    return (
        js(
            driver,
            f"const b = document.querySelector('{bar}'); "
            "return b.hidden ? '' : b.querySelector('.ai-text').textContent",
        )
        or ""
    )


def test_gpt_hello_streams_into_the_page(loop: Loop, browser: Any) -> None:
    open_playground(browser, loop.url)
    box = composer(browser)
    box.send_keys("/")
    read = "return [...document.querySelectorAll('.suggestion')].map(s => s.innerText)"
    suggestions = wait_for(lambda: js(browser, read), what="command suggestions")
    # Custom commands first, each with its arguments and description, as Stream shows them.
    assert " ".join(suggestions[0].split()[1:]) == "/gpt [question] Ask the AI assistant a question"
    assert suggestions[1].split()[1] == "/giphy"
    box.send_keys("gpt hello\n")

    llm = loop.llm
    assert isinstance(llm, HeldLLM)
    state = wait_for(
        lambda: ai_state(browser) in AI_STATES and ai_state(browser), what="the AI state indicator"
    )
    assert state in AI_STATES
    llm.started.set()  # the first half of the answer
    first = wait_for(lambda: bot_text(browser), what="the first words of the answer")
    llm.halfway.set()  # the rest
    later = wait_for(
        lambda: len(bot_text(browser)) > len(first) and bot_text(browser), what="the answer to grow"
    )
    assert VISIBLE_ANSWER.startswith(plain(first)) and len(first) < len(later)
    wait_for(lambda: bot_text(browser) == VISIBLE_ANSWER, what="the finished answer")
    wait_for(lambda: ai_state(browser) == "", what="the AI state to clear")
    # Read in one script: the page may rebuild the message's node between two driver calls.
    bold = "return document.querySelector('#channel-messages .message.bot strong')?.innerText"
    assert wait_for(lambda: js(browser, bold), what="the bold word") == "gptbot"

    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "playground.png"))
    question = [m for m in loop.state.messages.values() if m.get("command") == "gpt"]
    assert [m["user"]["id"] for m in question] == ["you"]


def test_message_text_is_escaped_and_markdown_rendered(loop: Loop, browser: Any) -> None:
    open_playground(browser, loop.url)
    hostile = (
        '<img src=x onerror="window.pwned=1"> **bold** `<b>code</b>` [js](javascript:alert(1))'
    )
    composer(browser).send_keys(hostile + "\n")
    text = wait_for(
        lambda: browser.find_elements("css selector", ".message.mine .message-text"),
        what="the sent message",
    )[-1]
    assert text.find_elements("css selector", "img") == []
    assert text.find_element("css selector", "strong").text == "bold"
    assert text.find_element("css selector", "code").text == "<b>code</b>"
    assert text.find_elements("css selector", "a") == []  # javascript: links stay text
    assert '<img src=x onerror="window.pwned=1">' in text.text
    assert js(browser, "return window.pwned") is None


def test_thread_reply_and_stop_button(loop: Loop, browser: Any) -> None:
    # The Stop reaches the bot only as Stream documents it: on the bot's WebSocket.
    loop.state.update_app({"event_hooks": []})
    open_playground(browser, loop.url)
    composer(browser).send_keys("Is anyone around?\n")
    root = wait_for(
        lambda: browser.find_elements("css selector", ".message.mine"), what="the root message"
    )[-1]
    js(browser, "arguments[0].querySelector('.reply-button').click()", root)
    wait_for(lambda: browser.find_element("id", "thread-pane").is_displayed(), what="the thread")
    composer(browser, "thread-composer").send_keys("/gpt hello\n")

    # The LLM holds the answer before its first byte, so the AI state stays until clicked.
    wait_for(lambda: ai_state(browser, "thread-composer") in AI_STATES, what="the thread AI state")
    browser.find_element("css selector", "#thread-composer .stop-button").click()
    stops = lambda: [e for e in loop.state.events if e["type"] == "ai_indicator.stop"]  # noqa: E731
    [stop] = wait_for(stops, what="the ai_indicator.stop event")
    reply = wait_for(
        lambda: [m for m in loop.state.messages.values() if m.get("ai_generated")],
        what="the bot's reply",
    )[0]
    assert stop["message_id"] == reply["id"] and reply["parent_id"]
    assert stop["cid"] == "messaging:general" and stop["user"]["id"] == "you"
    assert isinstance(loop.llm, HeldLLM)
    loop.llm.release()  # the stream moves again; the bot sees the stop at its next look
    wait_for(lambda: bot_text(browser, "#thread-messages"), what="the reply in the thread")
    stopped = wait_for(lambda: not loop.state.messages[reply["id"]].get("generating")
                       and loop.state.messages[reply["id"]], what="the reply to end")
    text = stopped["text"]  # the note alone when no word had come yet, else after the text
    assert text == "Stopped." or text.endswith("\n\n_Stopped._")
    footer = browser.find_element("css selector", "#channel-messages .replies-link")
    wait_for(lambda: footer.text in ("1 reply", "2 replies"), what="the reply count")
