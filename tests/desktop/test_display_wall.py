"""The large display (大屏): fitting the screen, town names, KPIs against a hand count, live update, privacy,
countdown colour."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from map_render_data import paint
from PySide6.QtCore import QRectF, QSize, QSizeF
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QLabel
from small_workspace import MID_LAT, MID_LON
from sqlalchemy import func, select

from desktop.display.countdown import RED, countdown
from desktop.display.panels import TextRows
from desktop.display.privacy import mask_phone
from desktop.display.snapshot import read_kpis
from desktop.display.window import DisplayWindow
from desktop.widgets.map_labels import HALO_PX
from desktop.widgets.map_obstacles import label_obstacles
from gis.demo.build import build_demo
from gis.domain import CaseState
from gis.storage import schema
from gis.storage.store import open_store
from gis.workflow.cases import create_case


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    """The demo district (towns with an air station each, pins, outlets): what a wall really shows."""
    path = str(tmp_path_factory.mktemp("wall-demo") / "demo.sqlite")
    store = open_store(path)
    build_demo(store)
    store.close()
    return path


def _demo_wall(qtbot, demo_url, width, height):
    store = open_store(demo_url, create=False)
    win = DisplayWindow(store, height=height, live=False, rotate_seconds=0)
    qtbot.addWidget(win)
    win.resize(width, height)
    with qtbot.waitSignal(win.refreshed, timeout=20_000):
        win.show()
    return win, store


@pytest.mark.parametrize("width,height", [(1280, 720), (1366, 768), (1920, 1080), (3840, 2160)])
def test_the_wall_is_the_screen_exactly_and_no_text_is_smaller_than_a_fortieth(qtbot, demo_url, width, height):
    win, store = _demo_wall(qtbot, demo_url, width, height)
    try:
        assert win.size() == QSize(width, height) and win.grab().size() == QSize(width, height)
        least = win.minimumSizeHint()   # the layout could shrink further: nothing makes the wall grow
        assert least.width() <= width and least.height() <= height, least
        floor = height / 40 - 0.5
        labels = [label for label in win.findChildren(QLabel) if label.isVisibleTo(win)]
        assert len(labels) > 20 and min(label.fontInfo().pixelSize() for label in labels) >= floor
        rows = win.findChildren(TextRows)
        assert all(QFontInfo(font).pixelSize() >= floor for r in rows for font in r.fonts())
        assert all(font.pixelSize() >= floor for font in win.aqi_chart.tick_fonts())
        assert len(rows) == 4 and all(r.shown() for r in rows)   # short lists show fewer rows, never none
        # A long error in the status line (the database gone) is elided; it does not widen the wall.
        win.status.setText("读取失败：" + "connection to server at 127.0.0.1 failed: Connection refused; " * 4)
        qtbot.wait(50)
        assert win.size() == QSize(width, height) and win.minimumSizeHint().width() <= width
    finally:
        win.close()
        store.close()


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_every_town_is_named_on_the_district_view_above_pins_and_numbers(qtbot, demo_url, width, height):
    win, store = _demo_wall(qtbot, demo_url, width, height)
    try:
        canvas = win.map_panel.canvas
        assert win.playlist.current.kind == "district"
        with store.engine.connect() as connection:
            towns = connection.execute(select(func.count()).select_from(schema.grids)
                                       .where(schema.grids.c.level == 2)).scalar()
        # Paint what the canvas' render job paints: the live layers' symbols as obstacles, the static layers.
        live = [layer for layer in canvas.layers() if getattr(layer, "live", False)]
        static = [layer for layer in canvas.layers() if not getattr(layer, "live", False)]
        _image, ctx = paint([label_obstacles(live), *static], canvas.viewport())
        assert towns >= 8 and ctx.stats["grid-2-labels"] == towns
        numbers = ctx.stats["aqi-numbers"]
        assert numbers > 0
        # Names and numbers are drawn above the live image of pins and stations, and never overlap.
        assert len(ctx.on_top) == towns + numbers and canvas.top_image() is not None
        rects = [QRectF(at, QSizeF(sprite.width(), sprite.height()) / sprite.devicePixelRatio())
                 .adjusted(HALO_PX, HALO_PX, -HALO_PX, -HALO_PX) for at, sprite, _opacity in ctx.on_top]
        assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    finally:
        win.close()
        store.close()


def test_kpis_match_a_hand_count(wall_store):
    now = datetime.now()
    with wall_store.engine.begin() as connection:
        for i in range(3):
            create_case(connection, source="群众举报", category="water", description=f"今日案件{i}", actor="测试",
                        lon=MID_LON, lat=MID_LAT, now=now - timedelta(minutes=5 + i))
        rows = connection.execute(schema.cases.select()).all()
        kpis = read_kpis(connection, now)
    start = datetime.combine(now.date(), datetime.min.time())
    assert kpis.new == sum(1 for r in rows if r.created_at >= start) >= 3
    open_states = {str(s) for s in (CaseState.CLOSED, CaseState.FALSE_REPORT)}
    assert kpis.overdue == sum(1 for r in rows if r.due_at and r.due_at < now and r.state not in open_states)
    assert kpis.closed == sum(1 for r in rows if r.closed_at and r.closed_at >= start
                              and r.state == str(CaseState.CLOSED))


def test_a_case_written_elsewhere_shows_within_seconds(qtbot, wall_url):
    store, seat = open_store(wall_url), open_store(wall_url)
    win = DisplayWindow(store, height=1080)
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    with qtbot.waitSignal(win.refreshed, timeout=10_000):
        win.show()
    qtbot.waitUntil(lambda: win.feed.state is not None and win.feed.state.connected, timeout=5000)
    before = win.snapshot.kpis.new
    with seat.engine.begin() as connection:
        new = create_case(connection, source="群众举报", category="water", description="他席新案件", actor="坐席二",
                          lon=MID_LON, lat=MID_LAT, reporter_name="张三", reporter_phone="13812341234")
    qtbot.waitUntil(lambda: win.kpi_values["new"].text() == str(before + 1), timeout=3000)
    qtbot.waitUntil(lambda: new.number in win.ticker.text(), timeout=3000)
    shown = " ".join(label.text() for label in win.findChildren(QLabel))
    assert "张三" not in shown and "13812341234" not in shown
    win.close()
    seat.close()
    store.close()


def test_phone_numbers_are_masked():
    assert mask_phone("联系 13812341234，备用 15900001111") == "联系 138****1234，备用 159****1111"
    assert mask_phone("编号 2026112300001") == "编号 2026112300001"


def test_countdown_is_red_under_two_hours_and_overdue_says_so():
    now = datetime(2026, 11, 23, 12, 0)
    assert countdown(now + timedelta(hours=1, minutes=59), now) == ("01:59:00", RED)
    assert countdown(now + timedelta(hours=5), now)[1] != RED
    text, colour = countdown(now - timedelta(minutes=1), now)
    assert "超时" in text and "督办" in text and colour == RED


def test_the_view_menu_opens_the_wall(qtbot, wall_store):
    from desktop.main_window import MainWindow

    win = MainWindow(wall_store, remember=False)
    qtbot.addWidget(win)
    action = next(a for menu in win.menuBar().actions() if menu.menu() and menu.text().startswith("视图")
                  for a in menu.menu().actions() if a.text() == "大屏模式")
    action.trigger()
    wall = win._display_wall
    with qtbot.waitSignal(wall.refreshed, timeout=10_000):
        pass
    assert wall.isVisible() and wall.kpi_values["new"].text() != "—"
    wall.close()
    win.close()
