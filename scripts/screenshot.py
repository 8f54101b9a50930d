#!/usr/bin/env python3
"""Take the README's screenshot of the playground: a short conversation, a finished answer
and a second answer streaming into a thread, in a real headless Chromium.

Runs the whole loop in-process (emulator + playground, the bot, a scripted loopback LLM),
like tests/test_browser.py. Needs Debian's chromium + chromium-driver and `selenium`.

    python scripts/screenshot.py                      # writes docs/playground.png
    python scripts/screenshot.py --theme dark --out artifacts/playground-dark.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the scripted LLM lives in tests/support

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

from gptbot.answer import LEASE_S  # noqa: E402
from gptbot.emulator import EmulatorState, send_user_message, start_server  # noqa: E402
from gptbot.emulator.playground import create_dev_app  # noqa: E402
from gptbot.jobs import EmbeddedWorker  # noqa: E402
from gptbot.registration import register  # noqa: E402
from gptbot.services import build_services  # noqa: E402
from gptbot.web import create_app  # noqa: E402
from tests.support.common import API_KEY, API_SECRET, make_config, sse_chat_stream  # noqa: E402
from tests.support.servers import FakeLLM, serve_llm  # noqa: E402

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ALICE = {"id": "alice", "name": "Alice Chen"}
BOB = {"id": "bob", "name": "Bob Martin"}
ME = '{"id": "sam", "name": "Sam Lee"}'
BILLING_ANSWER = """To change the billing address on your account:

1. Open **Settings → Billing**.
2. Choose *Edit address* and enter the new one.
3. Press **Save**. New invoices use it from the next cycle.

From code, it is one call:

```python
client.billing.update_address(account_id, new_address)
```

Invoices already issued keep the address they were issued with."""
THREAD_ANSWER = (
    "Alice asked whether anyone has tried the new billing page. Bob likes it and wants to "
    "know if **team accounts** can change their address too. Short answer: yes, any team "
    "*owner* can, from the same Settings → Billing page; members only see it read-only."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "playground.png")
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        with running_loop(Path(tmp)) as (url, state, llm), chromium(profile) as driver:
            stage_scene(driver, url, state, llm, args.theme)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


@contextmanager
def running_loop(tmp: Path) -> Iterator[tuple[str, EmulatorState, FakeLLM]]:
    state = EmulatorState(api_key=API_KEY, api_secret=API_SECRET)
    llm = FakeLLM(piece_sizes=(60, 140), delay=0.01, first_delay=0.4)
    with start_server(create_dev_app(state)) as dev, serve_llm(llm) as llm_server:
        config = make_config(
            tmp,
            stream_chat_url=dev.url,
            update_interval=0.05,
            openai_base_url=llm_server.url + "/v1",
        )
        services = build_services(config)
        with start_server(create_app(config, services)) as bot:
            register(services.stream, config, bot.url)
            worker = EmbeddedWorker(services.jobs, services.store, 2, LEASE_S)
            worker.start()
            try:
                yield dev.url, state, llm
            finally:
                worker.stop()
                services.close()


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    metrics = {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield driver
    finally:
        driver.quit()


def stage_scene(driver: Any, url: str, state: EmulatorState, llm: FakeLLM, theme: str) -> None:
    say = send_user_message
    root = say(
        state, "messaging", "general", ALICE, "Morning! Has anyone tried the new billing page yet?"
    )
    say(
        state,
        "messaging",
        "general",
        BOB,
        "Yes, it looks great. Where do I change the billing address though?",
    )
    driver.get(url + "/")
    driver.execute_script(
        f"localStorage.setItem('gptbot.user', '{ME}');"
        f"localStorage.setItem('gptbot.theme', '{theme}')"
    )
    driver.get(url + "/")
    wait_for(
        lambda: (
            script(driver, "return document.getElementById('connection').dataset.state") == "live"
        )
    )
    llm.body = sse_chat_stream(chunks(BILLING_ANSWER))
    type_into(driver, "#channel-composer textarea", "/gpt How do I change my billing address?\n")
    wait_for(lambda: not state.events or state.events[-1]["type"] == "ai_indicator.clear", 20)
    wait_for(lambda: bot_texts(state) == [BILLING_ANSWER], 20)
    say(state, "messaging", "general", BOB, "Does that work for team accounts too?", root["id"])
    script(
        driver,
        "document.querySelector(arguments[0]).click()",
        f'[data-id="{root["id"]}"] .reply-button',
    )
    llm.body, llm.delay = sse_chat_stream(chunks(THREAD_ANSWER)), 0.06
    type_into(driver, "#thread-composer textarea", "/gpt Summarise this thread\n")
    # Catch the second answer mid-stream, with the AI state and Stop button showing.
    wait_for(lambda: len(thread_text(driver)) > len(THREAD_ANSWER) * 0.6, 30)
    time.sleep(0.1)


def chunks(text: str, size: int = 6) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def type_into(driver: Any, selector: str, text: str) -> None:
    driver.find_element("css selector", selector).send_keys(text)


def script(driver: Any, source: str, *args: Any) -> Any:
    return driver.execute_script(source, *args)


def bot_texts(state: EmulatorState) -> list[str]:
    return [
        m["text"]
        for m in list(state.messages.values())
        if m.get("ai_generated") and not m.get("generating")
    ]


def thread_text(driver: Any) -> str:
    found = script(
        driver,
        "const n = document.querySelectorAll("
        "'#thread-messages .message.bot .message-text');"
        "return n.length ? n[n.length - 1].innerText : ''",
    )
    return str(found or "")


def wait_for(condition: Callable[[], Any], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the scene did not come together in time")
        time.sleep(0.02)


if __name__ == "__main__":
    main()
