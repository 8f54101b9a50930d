"""The playground in a real headless Chromium: type `/gpt hello`, watch the answer grow.

The whole loop runs in-process as in test_e2e.py: the emulator + playground on one loopback
port, the bot (`create_app` + `EmbeddedWorker`, registered like `gptbot serve` does) and a
loopback LLM that streams slowly enough for the growth to be visible in the DOM.
Needs Debian's `chromium` and `chromium-driver` packages and the `selenium` Python package.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gptbot.answer import LEASE_S
from gptbot.emulator import EmulatorState, start_server
from gptbot.emulator.playground import create_dev_app
from gptbot.jobs import EmbeddedWorker
from gptbot.registration import register
from gptbot.services import build_services
from gptbot.web import create_app
from tests.support.common import API_KEY, API_SECRET, make_config, sse_chat_stream
from tests.support.servers import FakeLLM, serve_llm

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,800",
    "--force-device-scale-factor=1",
]
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
webdriver = pytest.importorskip("selenium.webdriver", reason="needs `pip install selenium`")
pytestmark = pytest.mark.slow


@dataclass
class Loop:
    url: str
    state: EmulatorState
    llm: FakeLLM


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET)
    pieces = [ANSWER[i : i + 6] for i in range(0, len(ANSWER), 6)]
    llm = FakeLLM(sse_chat_stream(pieces), piece_sizes=(60, 140), delay=0.02, first_delay=0.6)
    with start_server(create_dev_app(state)) as dev, serve_llm(llm) as llm_server:
        config = make_config(
            tmp_path,
            stream_chat_url=dev.url,
            openai_base_url=llm_server.url + "/v1",
            update_interval=0.05,
        )
        services = build_services(config)
        with start_server(create_app(config, services)) as bot:
            register(services.stream, config, bot.url)
            worker = EmbeddedWorker(services.jobs, services.store, 2, LEASE_S)
            worker.start()
            try:
                yield Loop(dev.url, state, llm)
            finally:
                worker.stop()
                services.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path keeps Selenium Manager from looking for a download.
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    # A fixed viewport: --window-size includes the (invisible) browser frame.
    metrics = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def open_playground(driver: Any, url: str) -> None:
    driver.get_log("browser")  # drop what earlier tests' pages logged (e.g. their reconnects)
    driver.get(url + "/")
    live = "return document.getElementById('connection').dataset.state === 'live'"
    wait_for(lambda: js(driver, live), what="the live event stream")


def composer(driver: Any, pane: str = "channel-composer") -> Any:
    return driver.find_element("css selector", f"#{pane} textarea")


def bot_text(driver: Any, scope: str = "#channel-messages") -> str:
    # Read in one script: the page rebuilds a message's node whenever its text grows.
    script = (
        "const found = document.querySelectorAll(arguments[0]); "
        "return found.length ? found[found.length - 1].innerText.trim() : ''"
    )
    return js(driver, script, f"{scope} .message.bot .message-text") or ""


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

    state = wait_for(
        lambda: ai_state(browser) in AI_STATES and ai_state(browser), what="the AI state indicator"
    )
    assert state in AI_STATES
    first = wait_for(lambda: bot_text(browser), what="the first words of the answer")
    later = wait_for(
        lambda: len(bot_text(browser)) > len(first) and bot_text(browser), what="the answer to grow"
    )
    assert VISIBLE_ANSWER.startswith(plain(first)) and len(first) < len(later)
    wait_for(lambda: bot_text(browser) == VISIBLE_ANSWER, what="the finished answer")
    wait_for(lambda: ai_state(browser) == "", what="the AI state to clear")
    strong = browser.find_element("css selector", "#channel-messages .message.bot strong")
    assert strong.text == "gptbot"

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
    open_playground(browser, loop.url)
    composer(browser).send_keys("Is anyone around?\n")
    root = wait_for(
        lambda: browser.find_elements("css selector", ".message.mine"), what="the root message"
    )[-1]
    js(browser, "arguments[0].querySelector('.reply-button').click()", root)
    wait_for(lambda: browser.find_element("id", "thread-pane").is_displayed(), what="the thread")
    composer(browser, "thread-composer").send_keys("/gpt hello\n")

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
    wait_for(lambda: bot_text(browser, "#thread-messages"), what="the reply in the thread")
    footer = browser.find_element("css selector", "#channel-messages .replies-link")
    wait_for(lambda: footer.text in ("1 reply", "2 replies"), what="the reply count")
