"""The wall left alone all day: SIGINT/SIGTERM end it cleanly; stale and unreachable data get a banner,
and the wall recovers by itself when the database is back."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from small_workspace import MID_LAT, MID_LON, build_small_workspace
from sqlalchemy import create_engine, text

from desktop.display.health import DataHealth
from desktop.display.window import DisplayWindow
from gis.storage.store import open_store
from gis.workflow.cases import create_case

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def wall_url(tmp_path):
    url = str(tmp_path / "wall.sqlite")
    store = open_store(url)
    build_small_workspace(store)
    store.close()
    return url


def _new_case(store, description: str):
    with store.engine.begin() as connection:
        return create_case(connection, source="群众举报", category="water", description=description, actor="坐席二",
                           lon=MID_LON, lat=MID_LAT)


def _open_wall(qtbot, store) -> DisplayWindow:
    win = DisplayWindow(store, height=1080, rotate_seconds=0)
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    with qtbot.waitSignal(win.refreshed, timeout=20_000):
        win.show()
    qtbot.waitUntil(lambda: win.feed.state is not None and win.feed.state.connected, timeout=10_000)
    return win


# -- signals -------------------------------------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_display_process_exits_cleanly_on_a_signal(wall_url, number):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-c", "import sys; from main import cli; sys.exit(cli())",
                                "display", "--db", wall_url, "--size", "960x540", "--rotate", "0"],
                               cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True)
    reader.start()
    seen = []
    try:
        while not any("display: showing" in line for line in seen):  # the window is up and shows data
            seen.append(lines.get(timeout=60))
        process.send_signal(number)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(10)
    while not lines.empty():
        seen.append(lines.get())
    err = "".join(seen)
    assert code == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert f"{number.name} received" in err and "display: closed" in err, err


# -- stale data ----------------------------------------------------------------------------------------

def test_banner_says_since_when_the_feed_went_silent_and_clears_on_the_next_change(qtbot, wall_url):
    store, seat = open_store(wall_url), open_store(wall_url)
    win = _open_wall(qtbot, store)
    try:
        assert win.banner.isHidden()
        size = win.size()
        last = win.health.last_change
        win.health.stale_minutes = 3
        clock = [datetime.now()]
        win.health.now = lambda: clock[0]
        clock[0] = last + timedelta(minutes=2)
        win._on_tick()
        assert win.banner.isHidden()   # two minutes of quiet is normal
        clock[0] = last + timedelta(minutes=3, seconds=1)
        qtbot.waitUntil(lambda: not win.banner.isHidden(), timeout=3000)   # the once-a-second tick notices
        assert "3 分钟未收到任何变更" in win.banner.text() and f"{last:%H:%M}" in win.banner.text()
        # Over the title, beside the clock: the full wall does not grow and the time stays visible.
        assert win.size() == size and win.banner.height() > 0
        assert not win.banner.geometry().intersects(win.clock.geometry())
        new = _new_case(seat, "沉默之后的新案件")
        qtbot.waitUntil(lambda: win.banner.isHidden(), timeout=5000)
        qtbot.waitUntil(lambda: new.number in win.ticker.text(), timeout=5000)
    finally:
        win.close()
        seat.close()
        store.close()


def test_health_prefers_unreachable_and_dates_an_old_since():
    clock = [datetime(2026, 11, 23, 9, 30)]
    health = DataHealth(stale_minutes=10, now=lambda: clock[0])
    assert health.banner() == ""
    health.read_failed("connection refused")
    clock[0] += timedelta(minutes=5)
    health.feed_state(False, datetime(2026, 11, 23, 9, 20).astimezone(), "server closed the connection")
    assert health.banner().startswith("无法连接数据库（自 09:20）")   # the earlier of the two
    health.feed_state(True, clock[0])
    assert health.banner().startswith("无法连接数据库（自 09:30）")   # reads still fail
    health.read_ok()
    assert health.banner() == ""
    clock[0] += timedelta(days=1)
    assert "（最后一次 11-23 09:35）" in health.banner()
    assert health.banner(live=False) == ""


# -- the database goes away and comes back (PostgreSQL) ------------------------------------------------

@pytest.mark.postgres
def test_wall_shows_unreachable_and_recovers_without_a_restart(qtbot, pg_workspace_url):
    store = open_store(pg_workspace_url)
    build_small_workspace(store)
    database = store.url.database
    server = create_engine(os.environ["ENVGRID_TEST_PG"], isolation_level="AUTOCOMMIT")  # maintenance database
    win = _open_wall(qtbot, store)

    def allow(on: bool) -> None:
        with server.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(on).lower()}'))

    try:
        assert win.banner.isHidden()
        allow(False)
        with server.connect() as connection:
            killed = connection.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                             "WHERE datname = :db AND pid <> pg_backend_pid()"),
                                        {"db": database}).scalar()
        assert killed >= 1   # the change feed's connection at least
        qtbot.waitUntil(lambda: not win.banner.isHidden(), timeout=10_000)
        assert win.banner.text().startswith("无法连接数据库（自 ")
        win.request_refresh()   # a read while the server refuses: fails quietly, the banner stays
        qtbot.waitUntil(lambda: win.health.read_failed_since is not None, timeout=10_000)
        assert not win.banner.isHidden() and "正在自动重连" in win.banner.text()

        allow(True)
        qtbot.waitUntil(lambda: win.banner.isHidden(), timeout=30_000)   # feed back, a read went through
        assert win.feed.state.connected
        seat = open_store(pg_workspace_url)
        try:
            before = win.snapshot.kpis.new
            new = _new_case(seat, "恢复之后的新案件")
            qtbot.waitUntil(lambda: win.kpi_values["new"].text() == str(before + 1), timeout=10_000)
        finally:
            seat.close()
        assert new.number
    finally:
        allow(True)
        server.dispose()
        win.close()
        store.close()
