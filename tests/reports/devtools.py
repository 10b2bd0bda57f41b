"""One headless Chromium kept open and driven over the DevTools protocol, for the page audits.

With one Chromium launch per page, auditing the ~30 pages took 97 s in the suite (its slowest
test); with the browser started once and each page a navigation, 49 s (axe itself is about
1.5 s a page). The protocol runs over a pipe (`--remote-debugging-pipe`): Chromium reads
commands on its file descriptor 3 and writes replies on 4, each a JSON message ended by a NUL
byte; no port, no websocket, nothing else to install.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path

WAIT_FOR = """new Promise((resolve) => {
  const look = () => {
    const found = location.href === %s && document.getElementById(%s);
    found ? resolve(found.textContent) : setTimeout(look, 25);
  };
  look();
})"""


class DevToolsError(RuntimeError):
    pass


class Browser:
    """A Chromium process with one tab; `text_of(url, element_id)` loads a page and returns the
    text of an element the page's own script adds when it has finished."""

    def __init__(self, executable: str, flags: list[str], profile_dir: Path):
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def on_fds_3_and_4() -> None:  # in the child, before exec
            os.dup2(commands_read, 3)
            os.dup2(replies_write, 4)

        self._process = subprocess.Popen(
            [executable, *flags, f"--user-data-dir={profile_dir}", "--remote-debugging-pipe"],
            pass_fds=(3, 4),
            preexec_fn=on_fds_3_and_4,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(replies_write)
        self._pending, self._last_id = b"", 0
        try:
            target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
            attached = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})
        except BaseException:
            self.close()  # no Chromium left running behind a failed start
            raise
        self._session = attached["sessionId"]

    def text_of(self, url: str, element_id: str, timeout: float = 60) -> str:
        self._send("Page.navigate", {"url": url}, session=True, timeout=timeout)
        expression = WAIT_FOR % (json.dumps(url), json.dumps(element_id))
        for _ in range(3):  # the first try can land in the page being left behind
            reply = self._send(
                "Runtime.evaluate",
                {"expression": expression, "awaitPromise": True, "returnByValue": True},
                session=True,
                timeout=timeout,
                check=False,
            )
            if "result" in reply and "exceptionDetails" not in reply["result"]:
                return reply["result"]["result"]["value"]
        raise DevToolsError(f"{url}: no #{element_id} ({reply})")

    def close(self) -> None:
        self._process.kill()
        self._process.wait()
        os.close(self._commands)
        os.close(self._replies)

    def _send(
        self,
        method: str,
        params: dict,
        *,
        session: bool = False,
        timeout: float = 60,
        check: bool = True,
    ) -> dict:
        self._last_id += 1
        message: dict = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        reply = self._reply(self._last_id, time.monotonic() + timeout, method)
        if not check:
            return reply
        if "error" in reply:
            raise DevToolsError(f"{method}: {reply['error']}")
        return reply["result"]

    def _reply(self, wanted: int, deadline: float, method: str) -> dict:
        while True:
            while b"\0" in self._pending:
                raw, self._pending = self._pending.split(b"\0", 1)
                message = json.loads(raw)
                if message.get("id") == wanted:  # events and older replies are not needed
                    return message
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise DevToolsError(f"{method}: no reply from Chromium in time")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise DevToolsError(f"{method}: Chromium exited (code {self._process.poll()})")
            self._pending += chunk
