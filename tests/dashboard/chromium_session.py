"""A headless Chromium page driven over the DevTools protocol, for tests that
click: BrowserPage(url) opens the page; .wait_for(js) polls a JavaScript
expression until it is truthy; .click(selector) sends a real mouse press and
release at the element's centre; .screenshot(path) writes a PNG; .close().

Stdlib only: the protocol runs over --remote-debugging-pipe (Chromium reads
NUL-terminated JSON messages on fd 3 and writes them on fd 4). One browser with
a throw-away profile per page; every wait is bounded (TIMEOUT_S) and the
browser's process group is killed on close.
"""
import base64
import fcntl
import json
import os
import select
import signal
import subprocess
import tempfile
import time

from headless_chromium import WINDOW, chromium_path

TIMEOUT_S = 30


class BrowserPage:
    def __init__(self, url, window=WINDOW):
        self._profile = tempfile.TemporaryDirectory(prefix="servertrack-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def pipes_on_fd_3_and_4():
            high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        args = [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", f"--user-data-dir={self._profile.name}",
                f"--window-size={window[0]},{window[1]}", "--remote-debugging-pipe", "about:blank"]
        self._browser = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, pass_fds=(3, 4),
                                         preexec_fn=pipes_on_fd_3_and_4, start_new_session=True,
                                         cwd=self._profile.name)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._buffer = b""
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._call("Target.attachToTarget",
                                       {"targetId": target, "flatten": True})["sessionId"]
            self._call("Emulation.setDeviceMetricsOverride",
                       {"width": window[0], "height": window[1], "deviceScaleFactor": 1, "mobile": False},
                       session=True)
            self.navigate(url)
        except BaseException:
            self.close()
            raise

    def _call(self, method, params=None, session=False):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                    raise TimeoutError(f"chromium did not answer {method} within {TIMEOUT_S} s")
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"chromium closed the pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") != self._next_id:
                continue  # an event, or the answer to nothing we wait for
            if "error" in answer:
                raise RuntimeError(f"{method}: {answer['error']}")
            return answer["result"]

    def navigate(self, url):
        self._call("Page.navigate", {"url": url}, session=True)

    def evaluate(self, expression):
        result = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                            session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=TIMEOUT_S):
        """Polls until `expression` is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"still false after {timeout} s: {expression}")

    def click(self, selector):
        """A left click, pressed and released at the centre of the first match."""
        point = self.evaluate(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)}); if (!el) return null;"
            " el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        if point is None:
            raise LookupError(f"nothing matches {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            self._call("Input.dispatchMouseEvent", {"type": kind, "x": point[0], "y": point[1],
                                                    "button": "left", "clickCount": 1}, session=True)

    def type_into(self, selector, text):
        """Replaces the text of the input `selector` as typing would: focus, select all, insert."""
        self.evaluate(f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
                      " el.focus(); el.select(); })()")
        self._call("Input.insertText", {"text": text}, session=True)

    def screenshot(self, path):
        data = self._call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        with open(path, "wb") as png:
            png.write(base64.b64decode(data))

    def close(self):
        if self._browser.poll() is None:
            os.killpg(self._browser.pid, signal.SIGKILL)
        self._browser.wait(timeout=10)
        for fd in (self._to_browser, self._from_browser):
            os.close(fd)
        self._profile.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
