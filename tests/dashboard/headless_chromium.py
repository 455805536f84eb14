"""Loads a page in headless Chromium (Debian package `chromium`) and returns what it rendered.

render_dom(url) returns the DOM serialized after the page's scripts ran (--dump-dom);
screenshot(url, path) writes a PNG. Each call starts one browser with a throw-away
profile, lets the page run for VIRTUAL_TIME_MS of virtual time (network fetches
complete first), and is bounded by TIMEOUT_S of wall time; on timeout the browser's
process group is killed. Costs about a second or two per call.
"""
import os
import shutil
import signal
import subprocess
import tempfile

VIRTUAL_TIME_MS = 5000
TIMEOUT_S = 90
WINDOW = (1280, 1100)


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(url, output_flags, window):
    with tempfile.TemporaryDirectory(prefix="servertrack-chromium-") as profile:
        args = [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
                f"--window-size={window[0]},{window[1]}", f"--virtual-time-budget={VIRTUAL_TIME_MS}",
                *output_flags, url]
        browser = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True, cwd=profile)
        try:
            out, err = browser.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(browser.pid, signal.SIGKILL)
            browser.communicate()
            raise
        if browser.returncode != 0:
            raise RuntimeError(f"chromium exited {browser.returncode}: {err.decode(errors='replace')[-2000:]}")
        return out.decode()


def render_dom(url, window=WINDOW):
    return _run(url, ["--dump-dom"], window)


def screenshot(url, path, window=WINDOW):
    _run(url, [f"--screenshot={os.path.abspath(path)}"], window)
    if not os.path.exists(path):
        raise RuntimeError(f"chromium wrote no screenshot at {path}")
