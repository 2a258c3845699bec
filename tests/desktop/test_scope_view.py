"""The data scope in the window (issue 6): a user restricted to one second-level grid sees that part
— tree, map, cases, charts, alarm notices — and the scope goes with the session: 注销 or another
workspace replaces it, also by "no scope"."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import shapely
from argon2 import PasswordHasher
from PySide6.QtCore import Qt
from sqlalchemy import select

from desktop import login_dialog
from desktop.case_filter_model import FilterState
from desktop.login_dialog import LoginCancelled
from desktop.session_ui import log_out
from desktop.widgets.grid_tree import GridTreeModel
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.workers import wait_for_background
from gis.domain import CaseAction, CaseSource
from gis.security import accounts, passwords
from gis.security.authentication import login
from gis.storage import schema
from gis.storage.case_queries import CaseFilter
from gis.storage.store import open_store
from gis.workflow.cases import apply_action, create_case
from small_workspace import MID_LAT, MID_LON, NORTH, SOUTH, WEST, build_small_workspace

WEST_TOWN, EAST_TOWN = "140502001", "140502002"
LIVE_MS = 10_000  # arrives by itself (latency is benchmarked, not asserted here)


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def _accounts(store, grids):
    with store.engine.begin() as connection:
        accounts.create_first_admin(connection, "admin", "admin-password")
    admin = login(store.engine, "admin", "admin-password")
    with store.engine.begin() as connection:
        accounts.create_user(connection, admin, "xijie", "seat-password", "坐席", display_name="西街坐席",
                             scope_grid_id=grids[WEST_TOWN].id)
        accounts.create_user(connection, admin, "zhongxin", "seat-password", "坐席", display_name="中心坐席")


def _stations_and_alarms(store, grids):
    """An air station with an alarm in each town (the small workspace has none)."""
    now = datetime(2024, 5, 20, 8, 0)
    with store.engine.begin() as connection:
        for n, (code, lon) in enumerate(((WEST_TOWN, MID_LON - 0.02), (EAST_TOWN, MID_LON + 0.02))):
            station = connection.execute(schema.stations.insert().values(
                mn=f"ST{n}", name=f"{'西东'[n]}站", kind="air", location=shapely.Point(lon, MID_LAT), lon=lon,
                lat=MID_LAT, active=True, created_at=now).returning(schema.stations.c.id)).scalar_one()
            village = next(g for c, g in grids.items() if c.startswith(code) and g.level == 3)
            connection.execute(schema.alarms.insert().values(
                station_id=station, pollutant="a34004" if n == 0 else "a21026", value=120.0, threshold=75.0,
                raised_at=now, grid_id=village.id, case_id=None, status="待反馈", due_at=now + timedelta(hours=24),
                feedback=""))


@pytest.fixture
def town(tmp_path):
    store = open_store(str(tmp_path / "scoped.sqlite"))
    grids = build_small_workspace(store)
    _accounts(store, grids)
    _stations_and_alarms(store, grids)
    yield SimpleNamespace(store=store, grids=grids, path=str(tmp_path / "scoped.sqlite"))
    store.close()


def _open(qtbot, store, session):
    from desktop.main_window import MainWindow

    window = MainWindow(store, remember=False, session=session)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    with qtbot.waitSignal(window.mapReady, timeout=20_000):
        window.show()
    _settle(qtbot, window)
    return window


def _settle(qtbot, window):
    views = window.case_views
    qtbot.waitUntil(lambda: window.is_loaded and views.model.total is not None and not views.model.loading
                    and not views.charts.pending and not views.runner.busy and not views._map_timer.isActive(),
                    timeout=10_000)


def _tree(window) -> dict[str, tuple[str | None, bool]]:
    """Grid code → (parent code, selectable), as the tree shows it."""
    model, rows = window.grid_model, {}

    def walk(parent, parent_code):
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            grid = model.grid_at(index)
            rows[grid.code] = (parent_code, bool(model.flags(index) & Qt.ItemFlag.ItemIsSelectable))
            walk(index, grid.code)

    from PySide6.QtCore import QModelIndex
    walk(QModelIndex(), None)
    return rows


def _case_grids(window, grids) -> set[str]:
    code_of = {g.id: c for c, g in grids.items()}
    return {code_of[c.grid_id] for c in window.case_model.loaded_cases()}


def _inside(code) -> bool:
    return code.startswith(WEST_TOWN)


def _pixel(image, window, lon, lat):
    x, y = lonlat_to_mercator(lon, lat)
    sx, sy = window.canvas.viewport().world_to_screen(float(x), float(y))
    scale = image.devicePixelRatio()
    return image.pixelColor(int(sx * scale), int(sy * scale)).getRgb()


def _spread(rgba) -> int:
    """How far from grey a colour is: 0 for any grey."""
    return max(rgba[:3]) - min(rgba[:3])


def _unscoped(window, grids) -> None:
    assert window.scope is None and window.case_views.state.filter.scope_grid_id is None
    assert set(_tree(window)) == set(grids) and all(selectable for _p, selectable in _tree(window).values())
    assert window.scope_mask is None


def test_a_scoped_seat_sees_its_grid_in_tree_map_cases_and_charts(qtbot, town, tmp_path):
    grids = town.grids
    window = _open(qtbot, town.store, login(town.store.engine, "xijie", "seat-password"))
    assert "范围 西街道" in window.user_label.text()

    # Tree: the district greyed above the scope; the scope's subtree; the other town left out.
    tree = _tree(window)
    assert set(tree) == {"140502"} | {c for c in grids if _inside(c)}
    assert tree["140502"] == (None, False) and tree[WEST_TOWN] == ("140502", True)
    district = window.grid_model.index_for_grid(grids["140502"].id)
    assert window.grid_model.data(district, Qt.ItemDataRole.ForegroundRole) is not None
    assert not window.grid_model.index_for_grid(grids[EAST_TOWN].id).isValid()

    # Cases, charts and the alarm chart: only the scope's; the AQI picker: only its station.
    window.case_views.state.update(now=datetime(2024, 5, 20, 9, 0))
    _settle(qtbot, window)
    expected = {c for c in _case_grids_all(town) if _inside(c)}
    assert window.case_model.total == 2 and _case_grids(window, grids) == expected
    assert sum(window.case_views.charts.state_chart.heights().values()) == 2
    assert window.case_views.charts.pollutant_chart.heights() == {"a34004": 1}
    combo = window.case_views.charts.aqi_chart.station_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["西站"]
    pins = window.layer_control.pins
    shown = {case_id for case_id in pins.ids() if pins.is_shown(case_id)}
    with town.store.engine.connect() as connection:
        inside = set(connection.execute(select(schema.cases.c.id).where(schema.cases.c.grid_id.in_(
            [g.id for c, g in grids.items() if _inside(c)]))).scalars())
    assert shown <= inside

    # Map: opened on the scope, everything outside greyed by the mask, the inside untouched.
    lon, lat = window.canvas.lonlat_at(window.canvas.width() / 2, window.canvas.height() / 2)
    assert WEST < lon < MID_LON and SOUTH < lat < NORTH
    assert window.scope_mask in window.canvas._extra_overlays
    masked = window.canvas.grab().toImage()
    window.canvas.remove_overlay(window.scope_mask)
    plain = window.canvas.grab().toImage()
    window.canvas.add_overlay(window.scope_mask)
    outside, inside_point = (MID_LON + 0.004, MID_LAT), (MID_LON - 0.02, MID_LAT + 0.03)
    assert _pixel(masked, window, *outside) != _pixel(plain, window, *outside)
    assert _spread(_pixel(masked, window, *outside)) < _spread(_pixel(plain, window, *outside))  # greyer
    assert _pixel(masked, window, *inside_point) == _pixel(plain, window, *inside_point)
    window.grab().save(str(tmp_path / "scoped_window.png"))

    # A grid outside cannot be chosen (map click, search): nothing of it is shown.
    before = window.case_views.state.filter.grid_ids
    window.show_grid(grids["140502002001"].id)
    assert "不在您的数据范围内" in window.statusBar().currentMessage()
    assert window.case_views.state.filter.grid_ids == before
    window.show_grid(grids["140502001001"].id)
    assert window.case_views.state.filter.grid_ids == {grids["140502001001"].id}
    window.close()
    wait_for_background()


def _case_grids_all(town) -> set[str]:
    code_of = {g.id: c for c, g in town.grids.items()}
    with town.store.engine.connect() as connection:
        return {code_of[g] for g in connection.execute(select(schema.cases.c.grid_id)).scalars()}


def test_logging_out_drops_the_scope_and_the_next_user_brings_theirs(qtbot, town, monkeypatch):
    grids = town.grids
    window = _open(qtbot, town.store, login(town.store.engine, "xijie", "seat-password"))
    assert window.scope is not None and window.logout_action.isVisible()
    asked = []

    def ask(store, **_options):
        asked.append(store)
        assert not window.isVisible() and window.scope is None  # logged out while the dialog is up
        return login(store.engine, "zhongxin", "seat-password")

    monkeypatch.setattr(login_dialog, "ask_for_session", ask)
    assert log_out(window)
    assert asked == [town.store] and window.isVisible()
    _settle(qtbot, window)
    assert window.user_label.text() == "当前用户：中心坐席（坐席）"
    _unscoped(window, grids)
    assert window.case_model.total == 4
    assert sum(window.case_views.charts.pollutant_chart.heights().values()) == 2
    with town.store.engine.connect() as connection:
        actions = [r.action for r in connection.execute(select(schema.audit_log).order_by(schema.audit_log.c.id))]
    assert actions.count("logout") == 1  # the scoped user's session ended with its audit row

    # And back to the scoped user: narrowed again.
    monkeypatch.setattr(login_dialog, "ask_for_session",
                        lambda store, **_o: login(store.engine, "xijie", "seat-password"))
    assert log_out(window)
    _settle(qtbot, window)
    assert set(_tree(window)) == {"140502"} | {c for c in grids if _inside(c)}
    assert window.case_model.total == 2 and window.scope_mask is not None

    def cancel(store, **_options):
        raise LoginCancelled()

    monkeypatch.setattr(login_dialog, "ask_for_session", cancel)
    assert not log_out(window)
    assert not window.isVisible() and window.session is None
    wait_for_background()


def test_another_workspace_replaces_the_scope(qtbot, town, tmp_path, monkeypatch):
    other = open_store(str(tmp_path / "other.sqlite"))  # the same grid codes, no accounts: a single-seat file
    other_grids = build_small_workspace(other)
    other.close()
    window = _open(qtbot, town.store, login(town.store.engine, "xijie", "seat-password"))
    assert window.case_views.state.filter.scope_grid_id == town.grids[WEST_TOWN].id

    window.open_workspace(str(tmp_path / "other.sqlite"))  # no login there: no session, no scope
    assert window.scope is None and window.case_views.state.filter.scope_grid_id is None
    qtbot.waitUntil(lambda: window.is_loaded, timeout=20_000)
    _settle(qtbot, window)
    _unscoped(window, other_grids)
    assert window.case_model.total == 4 and not window.logout_action.isVisible()

    # Back to the accounts workspace as the scoped user: its scope, on its grids.
    monkeypatch.setattr(login_dialog, "ask_for_session",
                        lambda store, **_o: login(store.engine, "xijie", "seat-password"))
    window.open_workspace(town.path)
    qtbot.waitUntil(lambda: window.is_loaded, timeout=20_000)
    _settle(qtbot, window)
    assert window.case_views.state.filter.scope_grid_id == town.grids[WEST_TOWN].id
    assert set(_tree(window)) == {"140502"} | {c for c in town.grids if _inside(c)}
    assert window.case_model.total == 2
    window.close()
    wait_for_background()


def test_a_scoped_seat_is_alerted_only_to_alarms_in_its_scope(qtbot, town):
    window = _open(qtbot, town.store, login(town.store.engine, "xijie", "seat-password"))
    qtbot.waitUntil(lambda: window.live.feed.state is not None and window.live.feed.state.connected, timeout=5000)
    beeps = []
    window.live.sound.play = lambda: beeps.append(1) or True
    seat = open_store(town.path)
    try:
        now = datetime.now().replace(microsecond=0)
        for name, lon in (("东新站", MID_LON + 0.03), ("西新站", MID_LON - 0.03)):  # outside first, then inside
            with seat.engine.begin() as connection:
                station = connection.execute(schema.stations.insert().values(
                    mn=name, name=name, kind="air", location=shapely.Point(lon, MID_LAT + 0.01), lon=lon,
                    lat=MID_LAT + 0.01, active=True, created_at=now).returning(schema.stations.c.id)).scalar_one()
                case = create_case(connection, source=str(CaseSource.ALARM), category="water", actor="监测报警",
                                   description=f"{name} PM2.5 超标", lon=lon, lat=MID_LAT + 0.01)
                apply_action(connection, case.id, CaseAction.DISPATCH, "监测报警")
                connection.execute(schema.alarms.insert().values(
                    station_id=station, pollutant="a34004", value=180.0, threshold=75.0, raised_at=now,
                    grid_id=case.grid.id, case_id=case.id, status="待反馈", due_at=now + timedelta(hours=24),
                    feedback=""))
        qtbot.waitUntil(lambda: window.live.notice.isVisible(), timeout=LIVE_MS)
        text = window.live.notice.text()
        assert "西新站" in text and "东新站" not in text and beeps == [1]
    finally:
        seat.close()
        window.close()
        wait_for_background()


# -- the pieces --------------------------------------------------------------------------------------
def test_grid_tree_scope_keeps_the_subtree_and_greys_what_is_above():
    G = SimpleNamespace
    grids = [G(id=1, parent_id=None, level=1, code="1", name="区"), G(id=2, parent_id=1, level=2, code="11", name="甲"),
             G(id=3, parent_id=1, level=2, code="12", name="乙"), G(id=4, parent_id=2, level=3, code="111", name="甲一"),
             G(id=5, parent_id=3, level=3, code="121", name="乙一")]
    model = GridTreeModel(grids)
    model.set_scope(2)
    assert [model.grid_at(model.index(0, 0)).id, model.rowCount(model.index(0, 0))] == [1, 1]
    assert [model.in_scope(i) for i in range(1, 6)] == [False, True, False, True, False]
    model.set_grids(grids + [G(id=6, parent_id=4, level=4, code="1111", name="新")])  # a grid added live
    assert model.in_scope(6) and model.index_for_grid(6).isValid() and not model.index_for_grid(5).isValid()
    model.set_scope(99)  # not in this workspace: nothing, never everything
    assert model.rowCount() == 0
    model.set_scope(None)
    assert model.rowCount() == 1 and all(model.in_scope(i) for i in range(1, 7))


def test_the_case_filter_scope_changes_only_by_set_scope():
    state = FilterState(CaseFilter())
    seen = []
    state.events.scope_grid_id.connect(seen.append)
    assert state.set_scope(7) == {"scope_grid_id"}
    state.update(scope_grid_id=None)  # a view cannot widen it
    state.clear()
    assert state.filter.scope_grid_id == 7
    assert state.set_scope(None) == {"scope_grid_id"} and state.filter.scope_grid_id is None
    assert seen == [7, None]
