"""A headless Chromium driven by Selenium (Debian: ``apt-get install -y chromium chromium-driver``).

Pages load with the network emulated offline, every host name unresolvable and a dead proxy; the
requests a page makes come from Chrome's performance log (DevTools ``Network`` events), so tests can
assert that nothing but the file itself was requested. The driver path is always given, so Selenium
Manager never runs (it would download a driver).
"""

import base64
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, List, Optional

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from tests._support.report_samples import MAX_REPORT_BYTES, external_references

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMEDRIVER_NAMES = ("chromedriver", "chromium.chromedriver")
OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
)
HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                  "--mute-audio")


def _which(variable: str, names) -> Optional[str]:
    explicit = os.environ.get(variable)
    if explicit:
        return explicit if os.path.exists(explicit) else shutil.which(explicit)
    return next((path for path in map(shutil.which, names) if path), None)


def find_chromedriver() -> Optional[str]:
    """Path of chromedriver: ``$CHROMEDRIVER`` or the first one on PATH."""
    return _which("CHROMEDRIVER", CHROMEDRIVER_NAMES)


def find_chromium() -> Optional[str]:
    """Path of a Chromium binary (``$CHROMIUM`` or on PATH), or None when it or chromedriver is missing."""
    binary = _which("CHROMIUM", CHROMIUM_NAMES)
    return binary if binary and find_chromedriver() else None


class Chromium:
    """One headless Chromium session; use as a context manager."""

    def __init__(self, binary: str, *, timeout: float = 30.0):
        self._profile = tempfile.mkdtemp(prefix="tfx-kfp-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*HEADLESS_FLAGS, *OFFLINE_FLAGS, f"--user-data-dir={self._profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        service = Service(executable_path=find_chromedriver(), log_output=os.path.join(self._profile, "driver.log"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_page_load_timeout(timeout)
        self.driver.set_script_timeout(timeout)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the browser and removes its profile."""
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self._profile, ignore_errors=True)

    def open(self, url: str, *, width: int = 1280, height: int = 900) -> "Page":
        """Opens ``url`` (offline) and waits for its load event."""
        self.driver.get_log("performance")  # drop what earlier pages logged
        self.driver.get_log("browser")
        self.driver.set_window_size(width, height)
        self.driver.get(url)
        return Page(self.driver)


class Page:
    """The page last opened, with the requests and console messages logged while it loaded."""

    def __init__(self, driver: webdriver.Chrome):
        self._driver = driver
        self._network = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
        self._console = [entry["message"] for entry in driver.get_log("browser")]

    def requested_urls(self) -> List[str]:
        """Every URL the page requested, the page itself included."""
        return [event["params"]["request"]["url"] for event in self._network
                if event["method"] == "Network.requestWillBeSent"]

    def console_messages(self) -> List[str]:
        """Console messages and browser errors (CSP violations show up here)."""
        return list(self._console)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression evaluated in the page."""
        return self._driver.execute_script(f"return ({expression});")

    def text(self, selector: str = "body") -> str:
        """The rendered text of the first element matching ``selector``."""
        return self._driver.find_element(By.CSS_SELECTOR, selector).text

    def texts(self, selector: str) -> List[str]:
        """``textContent`` of every element matching ``selector``, stripped."""
        return [e.get_attribute("textContent").strip() for e in self._driver.find_elements(By.CSS_SELECTOR, selector)]

    def screenshot(self, path: str) -> None:
        """Saves a PNG of the whole page (beyond the window), through the DevTools protocol."""
        metrics = self._driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self._driver.execute_cdp_cmd("Page.captureScreenshot",
                                            {"format": "png", "captureBeyondViewport": True, "clip": clip})
        Path(path).write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        """Leaves the page (the session stays for the next one)."""
        self._driver.get("about:blank")


_ACCESSIBILITY = """{
  lang: document.documentElement.lang,
  title: document.title,
  tablesWithoutHeaders: [...document.querySelectorAll('table')]
      .filter(t => !t.querySelector('thead th[scope=col]')).length,
  chartsWithoutText: [...document.querySelectorAll('svg')]
      .filter(s => s.getAttribute('role') !== 'img' || !s.getAttribute('aria-label') || !s.querySelector('title'))
      .length,
  scripts: document.querySelectorAll('script').length,
  externalRefs: [...document.querySelectorAll('[src],[href]')]
      .map(e => e.getAttribute('src') || e.getAttribute('href'))
      .filter(u => /^(https?:)?\\/\\//i.test(u)),
}"""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_offline(chromium: Chromium, path: Path, screenshot: Path = None) -> Page:
    """Opens a report file offline, checks it loaded nothing else and is accessible, returns the page."""
    assert len(path.read_bytes()) < MAX_REPORT_BYTES
    assert external_references(path.read_text()) == []
    page = chromium.open(path.as_uri(), width=1100, height=400)
    urls = page.requested_urls()
    assert urls == [path.as_uri()], f"the page requested more than itself: {urls}"
    blocked = [m for m in page.console_messages() if "Content Security Policy" in m or "Refused" in m]
    assert blocked == []
    facts = page.evaluate(_ACCESSIBILITY)
    assert facts["lang"] == "en" and facts["title"]
    assert facts["tablesWithoutHeaders"] == 0 and facts["chartsWithoutText"] == 0
    assert facts["scripts"] == 0 and facts["externalRefs"] == []
    if screenshot is not None:
        page.screenshot(str(screenshot))
        width = int.from_bytes(screenshot.read_bytes()[16:20], "big")  # PNG IHDR: width, then height
        assert screenshot.read_bytes()[:8] == PNG_SIGNATURE and width == 1100
    return page
