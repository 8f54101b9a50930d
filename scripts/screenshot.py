#!/usr/bin/env python3
"""Take the README's screenshot of the playground: a short conversation, a finished answer
and a second answer streaming into a thread, in a real headless Chromium.

Runs the whole loop in-process (emulator + playground, the bot, a scripted loopback LLM)
with tests/support/loop.py, like tests/test_browser.py. Needs Debian's chromium +
chromium-driver and `selenium`.

    python scripts/screenshot.py                      # writes docs/playground.png
    python scripts/screenshot.py --theme dark --out artifacts/playground-dark.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the loop, the browser and the scripted LLM live in tests/support

from gptbot.emulator import EmulatorState, send_user_message  # noqa: E402
from tests.support.browser import bot_text, chromium, composer, js, open_playground  # noqa: E402
from tests.support.common import sse_chat_stream  # noqa: E402
from tests.support.loop import Loop, chunks, wait_for, whole_loop  # noqa: E402
from tests.support.servers import FakeLLM  # noqa: E402

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
    llm = FakeLLM(piece_sizes=(60, 140), delay=0.01, first_delay=0.4)
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        with whole_loop(Path(tmp), llm) as loop, chromium(profile, 1440, 900) as driver:
            try:
                stage_scene(driver, loop, args.theme)
            except AssertionError as timeout:
                raise SystemExit(f"the scene did not come together in time: {timeout}") from None
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


def stage_scene(driver: Any, loop: Loop, theme: str) -> None:
    root = say(loop.state, ALICE, "Morning! Has anyone tried the new billing page yet?")
    say(loop.state, BOB, "Yes, it looks great. Where do I change the billing address though?")
    driver.get(loop.url + "/")  # localStorage needs the page's origin before the real load
    js(
        driver,
        f"localStorage.setItem('gptbot.user', '{ME}');"
        f"localStorage.setItem('gptbot.theme', '{theme}')",
    )
    open_playground(driver, loop.url)
    answer_in_channel(driver, loop)
    say(loop.state, BOB, "Does that work for team accounts too?", root["id"])
    answer_in_thread(driver, loop, root["id"])


def answer_in_channel(driver: Any, loop: Loop) -> None:
    """Ask in the channel and wait for the finished answer, its AI indicator cleared."""
    loop.llm.body = sse_chat_stream(chunks(BILLING_ANSWER, 6))
    composer(driver).send_keys("/gpt How do I change my billing address?\n")
    state = loop.state
    wait_for(lambda: not state.events or state.events[-1]["type"] == "ai_indicator.clear", 20)
    wait_for(lambda: finished_answers(state) == [BILLING_ANSWER], 20)


def answer_in_thread(driver: Any, loop: Loop, root_id: str) -> None:
    """Ask in the thread under `root_id` and return while its answer is still streaming."""
    js(
        driver,
        "document.querySelector(arguments[0]).click()",
        f'[data-id="{root_id}"] .reply-button',
    )
    loop.llm.body, loop.llm.delay = sse_chat_stream(chunks(THREAD_ANSWER, 6)), 0.06
    composer(driver, "thread-composer").send_keys("/gpt Summarise this thread\n")
    # Catch the second answer mid-stream, with the AI state and Stop button showing.
    wait_for(lambda: len(bot_text(driver, "#thread-messages")) > len(THREAD_ANSWER) * 0.6, 30)
    time.sleep(0.1)


def say(state: EmulatorState, user: dict[str, str], text: str, parent_id: str | None = None) -> Any:
    return send_user_message(state, "messaging", "general", user, text, parent_id)


def finished_answers(state: EmulatorState) -> list[str]:
    return [
        m["text"]
        for m in list(state.messages.values())
        if m.get("ai_generated") and not m.get("generating")
    ]


if __name__ == "__main__":
    main()
