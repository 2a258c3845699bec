"""Open a briefing page in headless Chromium, offline, and report what happened.

Used by the tests and ``benchmarks/bench_briefing.py``. Talks the DevTools protocol over
``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-terminated JSON), so it needs only
the standard library. Networking is cut twice: every host resolves to nothing and every
connection goes to a dead proxy; on top, every request the page makes is recorded, so a test
can assert that nothing but the file itself (and ``data:`` URIs) was asked for.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    """``ENVGRID_CHROMIUM`` or the first Chromium on PATH (Debian: ``apt-get install chromium``)."""
    configured = os.environ.get("ENVGRID_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


@dataclass
class PageReport:
    url: str
    ready: bool
    counts: dict = field(default_factory=dict)   #: what briefing.js built (grids per level, cases…)
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ready_ms: float | None = None                #: navigation start → layers built and painted (page clock)
    wall_ms: float | None = None                 #: navigate command → ready seen (our clock)
    all_counts: dict = field(default_factory=dict)  #: the same after every overlay was shown (``show_all``)
    evaluated: list = field(default_factory=list)   #: values of the ``evaluate`` expressions, in order
    title_text: str = ""
    legend_text: str = ""
    screenshot: bytes | None = None

    @property
    def outside_requests(self) -> list[str]:
        """Requests for anything but the page file itself and inline data."""
        return [u for u in self.requests if not (u == self.url or u.startswith("data:"))]


class ChromiumError(RuntimeError):
    pass


class _Pipe:
    def __init__(self, binary: str, extra_args: list[str]):
        self._profile = tempfile.TemporaryDirectory(prefix="envgrid-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire():  # in the child: the protocol wants the pipes at 3 (commands) and 4 (replies)
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [binary, "--headless", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
                "--disable-gpu", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps", "--metrics-recording-only",
                "--no-pings", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=<-loopback>", f"--user-data-dir={self._profile.name}",
                "--hide-scrollbars", "--font-render-hinting=none", *extra_args]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")
        self.process = subprocess.Popen(args + ["about:blank"], preexec_fn=wire, close_fds=False,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._buffer = b""
        self._lock = threading.Lock()
        self.events: list[dict] = []
        self._replies: dict[int, dict] = {}

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict:
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while message_id not in self._replies:
            if time.monotonic() > deadline:
                raise ChromiumError(f"no answer to {method} within {timeout:.0f} s")
            self._read_some(deadline)
        reply = self._replies.pop(message_id)
        if "error" in reply:
            raise ChromiumError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def _read_some(self, deadline: float) -> None:
        import select

        ready, _, _ = select.select([self._from_child], [], [], max(0.0, min(0.5, deadline - time.monotonic())))
        if not ready:
            if self.process.poll() is not None:
                raise ChromiumError(f"chromium exited with code {self.process.returncode}")
            return
        chunk = os.read(self._from_child, 1 << 20)
        if not chunk:
            raise ChromiumError("chromium closed the DevTools pipe")
        self._buffer += chunk
        *messages, self._buffer = self._buffer.split(b"\0")
        for raw in messages:
            message = json.loads(raw)
            if "id" in message:
                self._replies[message["id"]] = message
            else:
                self.events.append(message)

    def close(self) -> None:
        try:
            os.write(self._to_child, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()


def open_page(path: str | Path, *, width: int = 1600, height: int = 1000, timeout: float = 60.0,
              screenshot: bool = False, show_all: bool = False, evaluate: tuple[str, ...] = (),
              binary: str | None = None) -> PageReport:
    """Load ``path`` in a fresh headless Chromium with networking off; wait until briefing.js says ready."""
    binary = binary or find_chromium()
    if binary is None:
        raise ChromiumError("no Chromium found (apt-get install chromium, or set ENVGRID_CHROMIUM)")
    url = Path(path).resolve().as_uri()
    pipe = _Pipe(binary, [f"--window-size={width},{height}"])
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Page", "Runtime"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": False}, session=session)
        start = time.monotonic()
        pipe.send("Page.navigate", {"url": url}, session=session)
        report = PageReport(url=url, ready=False)
        deadline = start + timeout
        while time.monotonic() < deadline:
            value = _evaluate(pipe, session, "document.body && document.body.getAttribute('data-briefing-ready')")
            if value == "1":
                report.ready = True
                report.wall_ms = (time.monotonic() - start) * 1000
                break
            time.sleep(0.02)
        if report.ready:
            report.counts = json.loads(_evaluate(pipe, session, "document.body.getAttribute('data-briefing')"))
            report.ready_ms = report.counts.get("readyMs")
            report.title_text = _evaluate(pipe, session, "(document.getElementById('eg-title')||{}).innerText||''")
            report.legend_text = _evaluate(pipe, session, "(document.getElementById('eg-legend')||{}).innerText||''")
            if screenshot:
                time.sleep(0.3)  # let the heat layer's and clusters' animations settle
                shot = pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)
                report.screenshot = base64.b64decode(shot["data"])
            if show_all:
                report.all_counts = json.loads(_evaluate(pipe, session, "envgridBriefing.showAll()"))
            report.evaluated = [_evaluate(pipe, session, expression) for expression in evaluate]
            time.sleep(0.2)
            _evaluate(pipe, session, "1")  # collects the events (requests, errors) of the last moments
        for event in pipe.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                exception = details.get("exception", {})
                report.errors.append(f"{details.get('text', '')} {exception.get('description') or exception.get('value', '')}"
                                     f" (line {details.get('lineNumber')})")
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                report.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Network.loadingFailed":
                report.errors.append(f"request failed: {params.get('errorText')}")
        return report
    finally:
        pipe.close()


def _evaluate(pipe: _Pipe, session: str, expression: str):
    result = pipe.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
    if "exceptionDetails" in result:
        details = result["exceptionDetails"]
        raise ChromiumError(f"{expression}: {details.get('exception', {}).get('description') or details.get('text')}")
    return result.get("result", {}).get("value")
