"""``envgrid display --db URL [--screen N] [--size WxH] [--windowed] [--rotate S] [--shot PNG]``: the wall view."""
from __future__ import annotations

import logging
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("display", help="large display (大屏): full-screen wall view of the district")
    p.add_argument("--db", help="workspace file or database URL")
    p.add_argument("--screen", type=int, default=0, help="screen number for full screen (default 0)")
    p.add_argument("--size", help="window size WxH instead of the whole screen (implies --windowed)")
    p.add_argument("--windowed", action="store_true", help="a normal window instead of full screen")
    p.add_argument("--rotate", type=int, metavar="SECONDS",
                   help="seconds per map view of the playlist, 0 = off (default: setting display/rotate_seconds, 30)")
    p.add_argument("--shot", help="save a PNG once the data is shown, then exit (for screenshots)")
    p.set_defaults(handler=run_display)


def run_display(args) -> int:
    from desktop.app import ensure_display
    from desktop.commands import parse_size
    from gis.cli import CliError

    size = parse_size(args.size) if args.size else None
    if args.shot and not Path(args.shot).parent.exists():
        raise CliError(f"cannot write {args.shot}: folder {Path(args.shot).parent} does not exist")
    if args.rotate is not None and args.rotate < 0:
        raise CliError(f"--rotate: expected seconds ≥ 0 (0 = off), got {args.rotate}")
    ensure_display()
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import create_application
    from desktop.display.window import DisplayWindow
    from desktop.display.opening import check_wall_url, may_work_later, open_wall_store, reason
    from desktop.quit_on_signal import QuitOnSignals
    from gis.storage.store import Store, StoreError

    logging.basicConfig(level=logging.INFO)
    log = logging.getLogger("desktop.display")
    app = create_application()
    screens = QApplication.screens()
    if not 0 <= args.screen < len(screens):
        raise CliError(f"--screen {args.screen}: there are {len(screens)} screen(s), numbered from 0")
    screen = screens[args.screen]
    height = size[1] if size else screen.geometry().height()
    quitter = QuitOnSignals(app)   # SIGINT / SIGTERM: leave the event loop, then the clean-up below
    try:
        url = check_wall_url(args.db)   # a URL that can never work: an error now
        try:
            store = open_wall_store(url)
        except StoreError as exc:
            if not may_work_later(exc):
                raise
            # The kiosk started before the database: the wall shows, says so, and keeps trying.
            log.warning("display: cannot open %s yet (%s); showing the wall and trying again",
                        url.render_as_string(hide_password=True), reason(exc))
            store = url
    except BaseException:
        quitter.restore()
        raise
    window = DisplayWindow(store, height=height, live=not args.shot, rotate_seconds=args.rotate)
    shown = url.render_as_string(hide_password=True)
    window.refreshed.connect(lambda: log.info("display: showing %s", shown), Qt.ConnectionType.SingleShotConnection)
    if size:
        window.resize(*size)
        window.show()
    elif args.windowed:
        window.resize(screen.availableGeometry().size())
        window.show()
    else:
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint)
        window.setGeometry(screen.geometry())
        window.showFullScreen()
    try:
        if args.shot:
            window.refreshed.connect(lambda: QTimer.singleShot(300, app.quit))
            QTimer.singleShot(30_000, app.quit)
            app.exec()
            if not window.grab().save(args.shot, "PNG"):
                raise CliError(f"cannot write {args.shot}")
            print(f"wrote {args.shot}", file=sys.stderr)
            return 0
        code = app.exec()
        if quitter.received is not None:
            log.info("display: %s received, closing", quitter.received.name)
            code = 0
        return code
    finally:
        window.close()   # stops the timers and the change feed's thread, waits for reads under way
        if isinstance(store, Store):
            store.close()   # (a store the window opened itself, it closed)
        quitter.restore()
        log.info("display: closed")
