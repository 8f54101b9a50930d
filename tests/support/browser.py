"""Headless Chromium on the playground, for tests/test_browser.py and scripts/screenshot.py.

Needs Debian's `chromium` and `chromium-driver` packages and the `selenium` Python package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.loop import wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
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
    "--force-device-scale-factor=1",
]


@contextmanager
def chromium(profile: Path, width: int = 1280, height: int = 800) -> Iterator[Any]:
    """A driver whose page is `width` x `height` CSS pixels, logging the page's console."""
    # Imported here so that test_browser.py can skip, rather than fail, without selenium.
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path keeps Selenium Manager from looking for a download.
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    # A fixed viewport: --window-size includes the (invisible) browser frame.
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield driver
    finally:
        driver.quit()


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def open_playground(driver: Any, url: str) -> None:
    """Load the page and wait until its event stream is live, so nothing sent is missed."""
    driver.get_log("browser")  # drop what earlier pages logged (e.g. their reconnects)
    driver.get(url + "/")
    live = "return document.getElementById('connection').dataset.state === 'live'"
    wait_for(lambda: js(driver, live), what="the live event stream")


def composer(driver: Any, pane: str = "channel-composer") -> Any:
    return driver.find_element("css selector", f"#{pane} textarea")


def bot_text(driver: Any, scope: str = "#channel-messages") -> str:
    """The text of the last bot message in `scope`, as rendered (markdown markers gone)."""
    # Read in one script: the page rebuilds a message's node whenever its text grows.
    script = (
        "const found = document.querySelectorAll(arguments[0]); "
        "return found.length ? found[found.length - 1].innerText.trim() : ''"
    )
    return str(js(driver, script, f"{scope} .message.bot .message-text") or "")
