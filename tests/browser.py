"""A real headless Chromium for the explorer page's tests, driven through the DevTools
protocol over a pipe (``--remote-debugging-pipe``: JSON messages ended by a NUL byte on
file descriptors 3 and 4), so nothing beyond the standard library is needed.

``find_chromium()`` names the browser or says why there is none; ``Browser`` opens one
page and offers what the tests do with it: navigate, evaluate, click, press a key, take a
screenshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Flags for a closed network and an unattended run (without the background-networking
#: ones Chromium keeps trying hosts it cannot reach).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
KEYS = {  # key -> (code, Windows virtual key code), for Input.dispatchKeyEvent
    "ArrowLeft": ("ArrowLeft", 37),
    "ArrowUp": ("ArrowUp", 38),
    "ArrowRight": ("ArrowRight", 39),
    "ArrowDown": ("ArrowDown", 40),
    "PageUp": ("PageUp", 33),
    "PageDown": ("PageDown", 34),
    "[": ("BracketLeft", 219),
    "]": ("BracketRight", 221),
}


def find_chromium() -> tuple[str | None, str]:
    """``(path, "")`` of a Chromium to drive, or ``(None, why not)``."""
    chosen = os.environ.get("MINICNN_CHROMIUM")
    for name in (chosen,) if chosen else NAMES:
        path = shutil.which(name)
        if path:
            return path, ""
    return None, (
        f"no Chromium found ({', '.join(NAMES)} are not on PATH; MINICNN_CHROMIUM names "
        "another): install Debian's `chromium` package, as .ci/run does"
    )


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless Chromium page of ``width`` x ``height`` CSS pixels."""

    def __init__(self, executable: str, width: int = 1280, height: int = 900, timeout=60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="minicnn-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire():  # in the child: its fd 3 reads our commands, fd 4 writes the replies
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            preexec_fn=wire,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session = attached["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.resize(width, height)

    # -------------------------------------------------------------- protocol
    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_child], [], [], self.timeout)
            if not ready:
                raise BrowserError(f"Chromium sent nothing for {self.timeout} s")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def call(self, method: str, params: dict | None = None) -> dict:
        """``method`` on the page."""
        return self.send(method, params, self.session)

    def wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read())
        raise BrowserError(f"no {method} within {self.timeout} s")

    # -------------------------------------------------------------- what tests do
    def resize(self, width: int, height: int, mobile: bool = False) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def open(self, url: str) -> None:
        """Load ``url`` afresh and wait for its load event."""
        self.events.clear()
        self.call("Page.navigate", {"url": "about:blank"})
        self.wait_event("Page.loadEventFired")
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-able values)."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript error: {text}")
        return result["result"].get("value")

    def click(self, x: float, y: float) -> None:
        """A left click at viewport coordinates ``(x, y)``."""
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def press(self, key: str) -> None:
        code, vk = KEYS[key]
        for kind in ("keyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": vk},
            )

    def screenshot(self) -> bytes:
        """A PNG of the viewport."""
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)
