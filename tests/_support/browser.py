"""A headless Chromium driven over the DevTools protocol, for report tests.

Talks CDP over ``--remote-debugging-pipe`` (file descriptors 3 and 4, messages
separated by NUL bytes), so it needs no WebSocket library and opens no port.
Pages load with the network emulated offline and every host name unresolvable;
all requests a page makes are recorded so tests can assert none left the file.
"""

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from tests._support.report_samples import MAX_REPORT_BYTES, external_references

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--remote-debugging-pipe",
)


def find_chromium() -> Optional[str]:
    """Path of a Chromium binary: ``$CHROMIUM`` or the first one on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if os.path.exists(explicit) else shutil.which(explicit)
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


# Puts the two pipe ends on the descriptors Chromium expects (3: commands in,
# 4: replies out), then becomes Chromium.
_TRAMPOLINE = "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); os.execv(sys.argv[3], sys.argv[3:])"


def _high_fd(fd: int) -> int:
    """Moves ``fd`` above 9 so that putting the pipes on 3 and 4 cannot clash."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Chromium:
    """One headless Chromium process; use as a context manager."""

    def __init__(self, binary: str, *, timeout: float = 30.0):
        self._timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="tfx-kfp-chromium-")
        commands_read, commands_write = (_high_fd(fd) for fd in os.pipe())
        replies_read, replies_write = (_high_fd(fd) for fd in os.pipe())
        argv = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}"]
        self._log = open(os.path.join(self._profile, "chromium.log"), "wb")
        self._process = subprocess.Popen(
            [sys.executable, "-c", _TRAMPOLINE, str(commands_read), str(replies_write), *argv],
            pass_fds=(commands_read, replies_write),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        os.close(commands_read)
        os.close(replies_write)
        self._write_fd, self._read_fd = commands_write, replies_read
        self._buffer = b""
        self._next_id = 0
        self.events: List[Dict[str, Any]] = []
        self.send("Browser.getVersion")

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the browser and removes its profile."""
        try:
            self.send("Browser.close")
        except Exception:  # the process may already be gone
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._write_fd, self._read_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _read_message(self, deadline: float) -> Dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no DevTools message from Chromium in time")
            ready, _, _ = select.select([self._read_fd], [], [], remaining)
            if ready:
                chunk = os.read(self._read_fd, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium exited (log: {self.log_text()[-2000:]})")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def log_text(self) -> str:
        """Chromium's stdout and stderr so far."""
        with open(os.path.join(self._profile, "chromium.log"), "rb") as log:
            return log.read().decode(errors="replace")

    def send(self, method: str, params: Optional[Dict[str, Any]] = None, session: Optional[str] = None) -> Any:
        """Sends one command and returns its result; events seen meanwhile are kept."""
        self._next_id += 1
        message: Dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self._timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_event(self, method: str, session: Optional[str] = None) -> Dict[str, Any]:
        """Waits for an event (one already received counts) and returns its params."""
        deadline = time.monotonic() + self._timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and (session is None or event.get("sessionId") == session):
                    return event.get("params", {})
            seen = len(self.events)
            self.events.append(self._read_message(deadline))

    def open(self, url: str, *, width: int = 1280, height: int = 900) -> "Page":
        """Opens ``url`` offline in a new tab and waits for its load event."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            session=session,
        )
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        first_event = len(self.events)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for_event("Page.loadEventFired", session)
        return Page(self, target, session, first_event)


class Page:
    """One open tab."""

    def __init__(self, browser: Chromium, target: str, session: str, first_event: int):
        self._browser = browser
        self._target = target
        self._session = session
        self._first_event = first_event

    def _events(self, method: str) -> List[Dict[str, Any]]:
        return [
            e.get("params", {})
            for e in self._browser.events[self._first_event :]
            if e.get("method") == method and e.get("sessionId") == self._session
        ]

    def requested_urls(self) -> List[str]:
        """Every URL the page requested, the page itself included."""
        return [event["request"]["url"] for event in self._events("Network.requestWillBeSent")]

    def console_messages(self) -> List[str]:
        """Browser log entries and console calls (CSP violations show up here)."""
        entries = [e["entry"].get("text", "") for e in self._events("Log.entryAdded")]
        calls = [
            " ".join(str(a.get("value", a.get("description", ""))) for a in e.get("args", []))
            for e in self._events("Runtime.consoleAPICalled")
        ]
        return entries + calls

    def evaluate(self, expression: str) -> Any:
        """Evaluates JavaScript in the page and returns its JSON value."""
        result = self._browser.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self._session
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def text(self, selector: str = "body") -> str:
        """``innerText`` of the first element matching ``selector``."""
        return self.evaluate(f"document.querySelector({json.dumps(selector)}).innerText")

    def texts(self, selector: str) -> List[str]:
        """``textContent`` of every element matching ``selector``."""
        return self.evaluate(
            f"Array.from(document.querySelectorAll({json.dumps(selector)})).map(e => e.textContent.trim())"
        )

    def screenshot(self, path: str) -> None:
        """Saves a PNG of the whole page."""
        metrics = self._browser.send("Page.getLayoutMetrics", session=self._session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self._browser.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
            session=self._session,
        )
        with open(path, "wb") as out:
            out.write(base64.b64decode(shot["data"]))

    def close(self) -> None:
        """Closes the tab."""
        self._browser.send("Target.closeTarget", {"targetId": self._target})


_ACCESSIBILITY = """({
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
})"""


def load_offline(chromium, path: Path, screenshot: Path = None):
    """Opens a report file offline, checks it loaded nothing else, returns the page."""
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
        assert screenshot.stat().st_size > 1000
    return page
