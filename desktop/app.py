"""Application set-up shared by the window (``envgrid``) and ``envgrid screenshot``.

Creating the QApplication, choosing the workspace (``--db``, else the last one,
else the demo), and building the demo workspace on first start in a worker
thread while a splash says so.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QThread, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen

from gis.storage.store import Store, default_db_path, open_store

UI_FONTS = ["Noto Sans CJK SC", "Microsoft YaHei UI", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC"]
DEMO_SEED = 20181
BUILDING_DEMO_TEXT = "正在生成演示工作空间…"
_IMPORTED_AT = time.time()


def ensure_display() -> None:
    """Headless machines (CI, servers) get Qt's offscreen platform unless told otherwise."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


# Map renders, tile decoding and database reads run in worker threads that hold the GIL in Python
# stretches; the UI thread waiting for it is what makes a pan or zoom stutter. With CPython's default
# 5 ms switch interval a render of the 10,000-grid map kept the UI thread waiting up to 100–140 ms; at
# 1 ms the longest wait was 10–15 ms (benchmarks/README.md, "UI latency").
UI_SWITCH_INTERVAL_S = 0.001


def create_application(argv: list[str] | None = None) -> QApplication:
    sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setOrganizationName("EnvGrid")
    app.setApplicationName("EnvGrid")
    app.setApplicationDisplayName("EnvGrid 网格化环境监管")
    font = QFont(app.font())
    # Without an explicit SC family, fontconfig may pick Japanese glyph forms for Han characters.
    font.setFamilies(UI_FONTS + [app.font().family()])
    app.setFont(font)
    return app


def remembered_workspace() -> str | None:
    from desktop.main_window import LAST_WORKSPACE_KEY, app_settings

    last = app_settings().value(LAST_WORKSPACE_KEY)
    if not last:
        return None
    last = str(last)
    if last.startswith("sqlite") and "///" in last and not Path(last.split("///", 1)[1]).exists():
        return None  # a deleted file: fall back to the demo rather than create an empty workspace
    return last


def is_default_demo(store: Store) -> bool:
    if store.url.get_backend_name() != "sqlite" or not store.url.database:
        return False
    return Path(store.url.database).resolve() == default_db_path().resolve()


def has_grids(store: Store) -> bool:
    from gis.storage.grids import count_by_level

    with store.engine.connect() as connection:
        return sum(count_by_level(connection).values()) > 0


class DemoBuildThread(QThread):
    progress = Signal(str)
    failed = Signal(str)

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self._store = store
        self.counts: dict | None = None

    def run(self) -> None:
        try:
            from gis.demo.build import build_demo

            self.counts = build_demo(self._store, seed=DEMO_SEED, progress=self.progress.emit)
        except Exception as exc:
            self.failed.emit(f"{exc.__class__.__name__}: {exc}")


def build_demo_with_progress(store: Store, report: Callable[[str], None]) -> dict:
    """Build the demo in a worker while the event loop runs; ``report`` gets each step.

    Raises RuntimeError with the builder's message when it fails.
    """
    thread = DemoBuildThread(store)
    errors: list[str] = []
    loop = QEventLoop()
    thread.progress.connect(report)
    thread.failed.connect(errors.append)
    thread.finished.connect(loop.quit)
    thread.start()
    loop.exec()
    thread.wait()
    if errors or thread.counts is None:
        raise RuntimeError(errors[0] if errors else "the demo builder returned nothing")
    return thread.counts


def demo_splash() -> QSplashScreen:
    pixmap = QPixmap(520, 170)
    pixmap.fill(QColor("#f5f7f9"))
    painter = QPainter(pixmap)
    font = QFont()
    font.setFamilies(UI_FONTS)
    font.setPointSize(18)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#1565c0"))
    painter.drawText(28, 58, "EnvGrid 网格化环境监管")
    font.setPointSize(11)
    font.setBold(False)
    painter.setFont(font)
    painter.setPen(QColor("#37474f"))
    painter.drawText(28, 92, BUILDING_DEMO_TEXT + "（仅首次启动）")
    painter.end()
    return QSplashScreen(pixmap)


def prepare_workspace(db: str | Path | None, *, use_last: bool, report: Callable[[str], None] | None = None) -> Store:
    """Open ``db`` (or the last / the demo workspace), building the demo if it is empty.

    ``report`` receives progress lines; without it a splash screen shows them.
    Raises StoreError when the workspace cannot be opened, RuntimeError when the
    demo cannot be built.
    """
    if db is None and use_last:
        db = remembered_workspace()
    from desktop.login_dialog import open_store_asking_password

    store = open_store_asking_password(db, open_store)  # a PostgreSQL password: the keyring's, else asked (never saved in files)
    if not is_default_demo(store) or has_grids(store):
        return store
    splash = None
    if report is None:
        splash = demo_splash()
        splash.show()
        align = Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter
        report = lambda text: splash.showMessage(text, align, QColor("#37474f"))
    report(BUILDING_DEMO_TEXT)
    try:
        build_demo_with_progress(store, report)
    except Exception:
        store.close()
        raise
    finally:
        if splash is not None:
            splash.close()
    return store


def seconds_since_process_start() -> float:
    """Wall time since the OS started this process (Linux), else since this module loaded."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat") as stat:
            started = int(stat.read().rsplit(")", 1)[1].split()[19]) / ticks
        with open("/proc/uptime") as uptime:
            return float(uptime.read().split()[0]) - started
    except (OSError, ValueError, IndexError):
        return time.time() - _IMPORTED_AT


def report_startup_time() -> None:
    """With ENVGRID_TIMING=1, print how long the first map took (the ≤ 3 s target).

    ``ENVGRID_TIMING=exit`` also quits once the map is shown, for benchmarks/bench_startup.py.
    """
    mode = os.environ.get("ENVGRID_TIMING")
    if mode:
        print(f"envgrid: map shown {seconds_since_process_start():.2f} s after process start",
              file=sys.stderr, flush=True)
    if mode == "exit":
        QApplication.quit()
