"""Sub-commands that need Qt, added to ``envgrid`` by ``main.py``: ``screenshot``, ``render``, ``report``."""
from __future__ import annotations

import re
import sys
from pathlib import Path

SIZE_PATTERN = re.compile(r"^\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*$")
MIN_SIZE, MAX_SIZE = 320, 8000


def register_desktop_commands(subparsers) -> None:
    from gis.cli import add_db_argument

    shot = subparsers.add_parser("screenshot", help="save a PNG of the main window (works without a display)")
    shot.add_argument("out", help="PNG file to write")
    add_db_argument(shot, required=False)
    shot.add_argument("--size", default="1920x1080", help="window size WxH in pixels (default 1920x1080)")
    shot.add_argument("--timeout", type=float, default=60.0,
                      help="seconds to wait for the data and the map (default 60)")
    shot.set_defaults(handler=run_screenshot)
    from desktop import render_command

    render_command.register(subparsers)
    from desktop import report_command

    report_command.register(subparsers)
    from desktop.grid_panels import sign_command

    sign_command.register(subparsers)
    from desktop.display import command as display_command

    display_command.register(subparsers)


def parse_size(text: str) -> tuple[int, int]:
    from gis.cli import CliError

    match = SIZE_PATTERN.match(text or "")
    if not match:
        raise CliError(f"--size: expected WIDTHxHEIGHT such as 1920x1080, got {text!r}")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIZE <= width <= MAX_SIZE and MIN_SIZE <= height <= MAX_SIZE):
        raise CliError(f"--size: width and height must be {MIN_SIZE}–{MAX_SIZE} pixels, got {width}x{height}")
    return width, height


def _quiet_offscreen_warnings(_mode, _context, message: str) -> None:
    # The offscreen platform warns on every dock/tool bar layout; it says nothing about the PNG.
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def _wait(window, timeout: float) -> str | None:
    """Run the event loop until the map shows the loaded data; an error text otherwise."""
    from PySide6.QtCore import QEventLoop, QTimer

    outcome: list[str] = []
    loop = QEventLoop()
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: (outcome.append("timeout"), loop.quit()))
    window.mapReady.connect(loop.quit)
    window.canvas.renderFinished.connect(loop.quit)
    window.loadFailed.connect(lambda message: (outcome.append(f"loading failed: {message}"), loop.quit()))
    timer.start(int(timeout * 1000))
    # Loop until loaded and no newer render is pending (late layout passes resize the map).
    while not outcome and not (window.is_loaded and not window.canvas.render_pending
                               and window.canvas.last_image()[0] is not None):
        loop.exec()
    timer.stop()
    if outcome:
        return outcome[0] if outcome[0] != "timeout" else (
            f"the map did not finish loading and rendering within {timeout:g} s")
    return None


def run_screenshot(args) -> int:
    from gis.cli import CliError

    width, height = parse_size(args.size)
    out = Path(args.out)
    if not out.parent.exists():
        raise CliError(f"cannot write {out}: folder {out.parent} does not exist")

    from desktop.app import ensure_display

    ensure_display()  # before the first Qt import decides the platform
    from PySide6.QtCore import qInstallMessageHandler

    previous_handler = qInstallMessageHandler(_quiet_offscreen_warnings)
    try:
        return _screenshot(args, out, width, height)
    finally:
        qInstallMessageHandler(previous_handler)


def _screenshot(args, out: Path, width: int, height: int) -> int:
    from desktop.app import create_application, prepare_workspace
    from desktop.main_window import MainWindow
    from gis.cli import CliError

    create_application()
    try:
        store = prepare_workspace(args.db, use_last=False,
                                  report=lambda text: print(text, file=sys.stderr, flush=True))
    except RuntimeError as exc:
        raise CliError(f"cannot build the demo workspace: {exc}") from exc
    window = MainWindow(store, remember=False)
    try:
        window.resize(width, height)
        window.show()
        problem = _wait(window, args.timeout)
        if problem:
            raise CliError(problem)
        pixmap = window.grab()
        if not pixmap.save(str(out), "PNG"):
            raise CliError(f"cannot write {out}")
    finally:
        window.close()
        window.deleteLater()
        store.close()
    print(f"wrote {out} ({pixmap.width()}x{pixmap.height()})")
    return 0
