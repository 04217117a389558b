"""Load a page in headless Chromium over the DevTools protocol (a pipe: no network, no deps).

``inspect_page(path)`` opens ``file://path``, waits for the load event, and returns what a
test wants to know: console errors and uncaught exceptions, each image's natural size, the
page's text, and a PNG screenshot of the whole page.
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
from pathlib import Path
from typing import Any

IMAGES_JS = "JSON.stringify([...document.images].map(i => [i.complete, i.naturalWidth]))"


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


class _Pipe:
    """CDP over --remote-debugging-pipe: JSON messages ending in NUL, fd 3 in, fd 4 out."""

    def __init__(self, binary: str, profile: str):
        to_chrome_r, self._to_chrome = os.pipe()  # os.pipe's fds are closed on exec
        self._from_chrome, from_chrome_w = os.pipe()

        def fds() -> None:  # the child's fd 3 reads our commands, fd 4 writes replies
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
             "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=fds, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf, self._id = b"", 0
        self.events: list[dict[str, Any]] = []

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, session: str | None = None, timeout: float = 30,
             **params: Any) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            e = self._read(deadline)
            if e.get("method") == method:
                return e
            self.events.append(e)

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def inspect_page(path: Path, width: int = 1200, ready: str | None = None,
                 timeout: float = 20) -> dict[str, Any]:
    """``ready``: a JS expression polled after load until it is truthy (a page that draws
    after loading, like vega's); its last value is returned as ``ready``."""
    binary = chromium()
    if binary is None:
        raise FileNotFoundError("chromium not found")
    with tempfile.TemporaryDirectory(prefix="emx-chromium-") as profile:
        pipe = _Pipe(binary, profile)
        try:
            target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
            session = pipe.call("Target.attachToTarget", targetId=target,
                                flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                pipe.call(f"{domain}.enable", session)
            pipe.call("Emulation.setDeviceMetricsOverride", session, width=width, height=900,
                      deviceScaleFactor=1, mobile=False)
            pipe.call("Page.navigate", session, url=path.resolve().as_uri())
            pipe.wait_for("Page.loadEventFired")

            def evaluate(expr: str) -> Any:
                return pipe.call("Runtime.evaluate", session, expression=expr,
                                 returnByValue=True)["result"].get("value")

            state = None
            if ready is not None:
                deadline = time.monotonic() + timeout
                while not (state := evaluate(ready)) and time.monotonic() < deadline:
                    time.sleep(0.2)
            images = json.loads(evaluate(IMAGES_JS))
            text = evaluate("document.body.innerText")
            shot = pipe.call("Page.captureScreenshot", session, format="png",
                             captureBeyondViewport=True)["data"]
        finally:
            pipe.close()
    errors = [e for e in pipe.events if e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Runtime.consoleAPICalled"
                  and e["params"].get("type") in ("error", "assert"))
              or (e.get("method") == "Log.entryAdded"
                  and e["params"]["entry"].get("level") == "error")]
    return {"errors": errors, "images": images, "text": text, "ready": state,
            "screenshot": base64.b64decode(shot)}
