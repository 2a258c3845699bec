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
import shapely
from small_workspace import MID_LAT, MID_LON, build_small_workspace
from sqlalchemy import create_engine, make_url, select, text

from desktop.display.health import DataHealth
from desktop.display.window import DisplayWindow
from gis.storage import schema
from gis.storage.store import open_store, resolve_db_url
from gis.workflow.cases import create_case

ROOT = Path(__file__).resolve().parents[2]


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


class _Display:
    """``envgrid display`` in a process of its own; its log lines are read as they come."""

    def __init__(self, db: str):
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-c", "import sys; from main import cli; sys.exit(cli())",
                                         "display", "--db", db, "--size", "960x540", "--rotate", "0"],
                                        cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stderr],
                                       daemon=True)
        self.reader.start()

    def wait_for(self, text_: str, timeout: float = 60) -> None:
        while not any(text_ in line for line in self.seen):
            self.seen.append(self.lines.get(timeout=timeout))

    def stop(self, number=signal.SIGTERM) -> tuple[int, str]:
        """Send ``number``; the exit code and everything it logged."""
        try:
            self.process.send_signal(number)
            code = self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self.reader.join(10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "".join(self.seen)


# -- signals -------------------------------------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_display_process_exits_cleanly_on_a_signal(wall_url, number):
    display = _Display(wall_url)
    try:
        display.wait_for("display: showing")   # the window is up and shows data
    finally:
        code, err = display.stop(number)
    assert code == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert f"{number.name} received" in err and "display: closed" in err, err


# -- stale data ----------------------------------------------------------------------------------------

def _add_station_readings(store, hours: list[datetime], cn: str = "2061", name: str = "城区空气自动监测站") -> None:
    """An air station (made once) and its PM2.5 readings of kind ``cn`` at ``hours``."""
    with store.engine.begin() as connection:
        station = connection.execute(select(schema.stations.c.id).where(schema.stations.c.name == name)).scalar()
        if station is None:
            station = connection.execute(schema.stations.insert().values(
                mn="88888888000001", name=name, kind="air", location=shapely.Point(MID_LON, MID_LAT), lon=MID_LON,
                lat=MID_LAT, active=True, created_at=datetime.now()).returning(schema.stations.c.id)).scalar_one()
        connection.execute(schema.readings.insert(), [
            {"station_id": station, "mn": "88888888000001", "cn": cn, "data_time": at, "pollutant": "a34004",
             "avg": 40.0, "flag": "N", "received_at": at} for at in hours])


def test_stale_means_old_readings_not_a_quiet_change_feed(qtbot, wall_url):
    """Hourly data only: stale 90 minutes after the newest hour ended, whatever the cases do; fresh
    readings (read again once a minute: SQLite records no change for them) clear the banner."""
    store = open_store(wall_url)
    hour = datetime.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    _add_station_readings(store, [hour - timedelta(hours=h) for h in range(3)])
    win = _open_wall(qtbot, store)
    try:
        assert win.banner.isHidden()
        size = win.size()
        ended = hour + timedelta(hours=1)   # the hour stamped ``hour`` is complete then
        clock = [ended + timedelta(minutes=89)]
        win.health.now = lambda: clock[0]
        win._on_tick()
        assert win.banner.isHidden()   # no change through the feed for 89 minutes: not stale, data is hourly
        clock[0] = ended + timedelta(minutes=91)
        qtbot.waitUntil(lambda: not win.banner.isHidden(), timeout=3000)   # the once-a-second tick notices
        assert win.banner.text() == f"数据已 91 分钟未更新（最新监测数据 {ended:%H:%M}）"
        # Over the title, beside the clock: the full wall does not grow and the time stays visible.
        assert win.size() == size and win.banner.height() > 0
        assert not win.banner.geometry().intersects(win.clock.geometry())
        _add_station_readings(store, [hour + timedelta(hours=1)])   # the receiver is back: the next hour
        win._on_readings_timer()   # what the minute timer does
        qtbot.waitUntil(lambda: win.banner.isHidden(), timeout=5000)
    finally:
        win.close()
        store.close()


def test_health_prefers_unreachable_and_dates_an_old_since():
    clock = [datetime(2026, 11, 23, 9, 30)]
    health = DataHealth(now=lambda: clock[0])
    assert health.banner() == ""
    health.read_failed("connection refused")
    clock[0] += timedelta(minutes=5)
    health.feed_state(False, datetime(2026, 11, 23, 9, 20).astimezone(), "server closed the connection")
    assert health.banner() == "数据库无法连接（自 09:20），正在自动重连…"   # the earlier of the two
    health.feed_state(True, clock[0])
    assert health.banner().startswith("数据库无法连接（自 09:30）")   # reads still fail
    health.readings([("2061", datetime(2026, 11, 23, 6))])   # old, but unreachable comes first
    assert health.banner().startswith("数据库无法连接")
    health.read_ok()
    assert health.banner() == "数据已 155 分钟未更新（最新监测数据 07:00）"   # the hour 06:00–07:00, at 09:35
    clock[0] += timedelta(days=1)
    assert health.banner() == "数据已 26 小时未更新（最新监测数据 11-23 07:00）"


def test_how_old_the_newest_reading_may_grow_depends_on_what_stations_send():
    clock = [datetime(2026, 11, 23, 12, 0)]
    health = DataHealth(now=lambda: clock[0])
    health.readings([])
    assert not health.stale()   # no station reports: nothing to be stale about
    # Real-time data a few minutes apart: 30 minutes of silence.
    health.readings([("2011", datetime(2026, 11, 23, 11, 31))])
    assert not health.stale()
    clock[0] = datetime(2026, 11, 23, 12, 2)
    assert health.stale() and "（最新监测数据 11:31）" in health.banner() and "31 分钟" in health.banner()
    # Hourly data: the hour stamped 10:00 ends at 11:00 and may be 90 minutes old after that.
    health.readings([("2061", datetime(2026, 11, 23, 10))])
    clock[0] = datetime(2026, 11, 23, 12, 30)
    assert not health.stale()
    clock[0] = datetime(2026, 11, 23, 12, 31)
    assert health.stale() and "（最新监测数据 11:00）" in health.banner()
    # One station's real-time feed stopped, another still sends hourly data: not stale.
    health.readings([("2011", datetime(2026, 11, 23, 11, 0)), ("2061", datetime(2026, 11, 23, 11))])
    assert not health.stale()
    assert health.newest_reading == datetime(2026, 11, 23, 12)
    # Daily data: the day's average arrives the next morning.
    health.readings([("2031", datetime(2026, 11, 22))])
    assert not health.stale()
    # Dated ahead of the clock (the simulator at 60×): fresh while new ones come, counted from when first seen.
    clock[0] = datetime(2026, 11, 23, 13, 0)
    health.readings([("2051", datetime(2026, 11, 24, 9, 0))])
    clock[0] = datetime(2026, 11, 23, 13, 20)
    health.readings([("2051", datetime(2026, 11, 24, 9, 20))])
    clock[0] = datetime(2026, 11, 23, 13, 40)
    health.readings([("2051", datetime(2026, 11, 24, 9, 20))])   # the simulator stopped
    assert not health.stale()
    clock[0] = datetime(2026, 11, 23, 13, 51)
    health.readings([("2051", datetime(2026, 11, 24, 9, 20))])
    assert health.stale() and "（最新监测数据 13:20）" in health.banner()


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
        assert win.banner.text().startswith("数据库无法连接（自 ")
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


# -- the database is not there when the wall starts --------------------------------------------------

def _assert_waiting(win: DisplayWindow, size) -> None:
    """Dark and empty, saying the database cannot be reached and since when; the wall did not grow."""
    assert win.store is None and win.snapshot is None and win.map_panel.data is None
    assert not win.banner.isHidden() and win.banner.text().startswith("数据库无法连接（自 ")
    assert "正在自动重连" in win.banner.text()
    assert {label.text() for label in win.kpi_values.values()} == {"—"}
    assert win.size() == size


def _open_waiting_wall(qtbot, url) -> DisplayWindow:
    win = DisplayWindow(resolve_db_url(url), height=540, rotate_seconds=0)
    qtbot.addWidget(win)
    win.resize(960, 540)
    win.show()
    qtbot.waitUntil(lambda: not win.banner.isHidden(), timeout=10_000)
    return win


def test_wall_starts_before_its_sqlite_file_exists_and_fills_itself_when_it_appears(qtbot, tmp_path, wall_url):
    target = tmp_path / "later" / "wall.sqlite"
    target.parent.mkdir()
    win = _open_waiting_wall(qtbot, str(target))
    try:
        _assert_waiting(win, win.size())
        assert "no workspace at" in win.status.text() and not target.exists()   # waiting creates nothing
        os.replace(wall_url, target)   # the workspace arrives (restored, copied in)
        with qtbot.waitSignal(win.refreshed, timeout=30_000):
            pass
        qtbot.waitUntil(lambda: win.banner.isHidden(), timeout=10_000)
        assert win.store is not None and win.map_panel.data is not None
        assert win.kpi_values["overdue"].text() != "—"
    finally:
        win.close()
    assert win.store is None   # the store it opened, it closed


@pytest.mark.parametrize("db,says", [
    ("mysql://wall@db/envgrid", "unsupported database 'mysql'"),
    ("postgresql+nodriver://wall@db/envgrid", "cannot use postgresql+nodriver"),
    ("postgresql://wall@db:port/envgrid", "not a database URL"),
    ("{tmp}/missing/wall.sqlite", "folder {tmp}/missing does not exist"),
], ids=["driver", "dbapi", "syntax", "folder"])
def test_a_url_that_can_never_work_fails_at_once(qtbot, tmp_path, capsys, db, says):
    from main import cli

    assert cli(["display", "--db", db.format(tmp=tmp_path), "--size", "640x360"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("envgrid display: --db: "), lines   # one clear line
    assert says.format(tmp=tmp_path) in lines[0], lines


@pytest.mark.postgres
def test_wall_starts_before_its_database_exists_and_fills_itself(qtbot, pg_workspace_url):
    store = open_store(pg_workspace_url)
    build_small_workspace(store)
    store.close()
    source = make_url(pg_workspace_url)
    target = source.set(database=f"{source.database}_wall")
    server = create_engine(os.environ["ENVGRID_TEST_PG"], isolation_level="AUTOCOMMIT")
    win = _open_waiting_wall(qtbot, target.render_as_string(hide_password=False))
    try:
        _assert_waiting(win, win.size())
        assert "does not exist" in win.status.text()
        with server.connect() as connection:   # the database appears, whole (a copy of the filled one)
            connection.execute(text(f'CREATE DATABASE "{target.database}" TEMPLATE "{source.database}"'))
        with qtbot.waitSignal(win.refreshed, timeout=60_000):
            pass
        qtbot.waitUntil(lambda: win.banner.isHidden(), timeout=20_000)
        assert win.map_panel.data is not None and win.kpi_values["overdue"].text() != "—"
        qtbot.waitUntil(lambda: win.feed.state is not None and win.feed.state.connected, timeout=20_000)
        seat = open_store(target)
        try:
            before = win.snapshot.kpis.new
            _new_case(seat, "开张之后的新案件")
            qtbot.waitUntil(lambda: win.kpi_values["new"].text() == str(before + 1), timeout=10_000)
        finally:
            seat.close()
    finally:
        win.close()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        server.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_display_command_starts_while_the_server_refuses_and_shows_the_data_once_allowed(pg_workspace_url):
    store = open_store(pg_workspace_url)
    build_small_workspace(store)
    store.close()
    database = make_url(pg_workspace_url).database
    server = create_engine(os.environ["ENVGRID_TEST_PG"], isolation_level="AUTOCOMMIT")

    def allow(on: bool) -> None:
        with server.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(on).lower()}'))

    allow(False)
    display = _Display(pg_workspace_url)
    try:
        display.wait_for("showing the wall and trying again")   # up, not an error
        assert display.process.poll() is None
        allow(True)
        display.wait_for("display: showing")   # it opened the workspace by itself and shows its data
    finally:
        allow(True)
        server.dispose()
        code, err = display.stop()
    assert code == 0 and "Traceback" not in err, err
    assert "is not currently accepting connections" in err, err
