"""The demo workspace: real boundary, exact tiling, plausible and consistent content, determinism."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

import pytest
import shapely
from sqlalchemy import func, select, text

from gis.crs import geodesic_area_m2
from gis.demo.build import DemoNotEmptyError, build_demo
from gis.demo.district import load_district_boundary
from gis.domain import OPEN_STATES, Role
from gis.storage import schema
from gis.storage.grids import read_grids
from gis.storage.info import get_setting, workspace_info
from gis.storage.people import current_staff
from gis.storage.sources import read_sources
from gis.storage.store import open_store

AS_OF = datetime(2026, 11, 20, 9, 0)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    counts = build_demo(store, seed=20181, as_of=AS_OF)
    yield store, counts
    store.close()


def test_counts_follow_the_jincheng_plan(demo_store):
    _, counts = demo_store
    grids = counts["grids"]
    assert (grids["1"], grids["2"], grids["3"]) == (1, 8, 146)
    assert 770 <= grids["4"] <= 790
    assert grids["5"] > 50
    assert counts["sources"] == 2000 and counts["stations"] == 30
    # Alarms: drawn before the hourly readings, raised by the alarm engine from them after (test_demo_alarms).
    assert counts["cases"] >= 1500 and counts["alarms"] >= 500 and counts["people"] > 2000


def test_second_level_has_the_real_names(demo_store):
    store, _ = demo_store
    with store.engine.connect() as connection:
        names = {g.name for g in read_grids(connection, levels=[2])}
    assert names == {"北石店镇", "东街街道", "西街街道", "南街街道", "北街街道", "矿区街道", "钟家庄街道", "西上庄街道"}


def test_children_tile_their_parent_exactly(demo_store):
    store, _ = demo_store
    with store.engine.connect() as connection:
        grids = read_grids(connection, levels=[1, 2, 3, 4])
    children = defaultdict(list)
    for grid in grids:
        children[grid.parent_id].append(grid.boundary)
    for parent in grids:
        if parent.level == 4:
            continue
        kids = children[parent.id]
        assert kids, parent.code
        assert shapely.coverage_is_valid(kids), f"overlap or unmatched edge among children of {parent.code}"
        union = shapely.coverage_union_all(kids)
        gap = parent.boundary.symmetric_difference(union)
        assert geodesic_area_m2(gap) < 1.0, f"children of {parent.code} leave {geodesic_area_m2(gap)} m²"
    # A whole level is also one clean coverage (shared edges match across parents).
    assert shapely.coverage_is_valid([g.boundary for g in grids if g.level == 4])


def test_district_is_the_real_boundary_converted_to_wgs84(demo_store):
    store, _ = demo_store
    with store.engine.connect() as connection:
        (district,) = read_grids(connection, levels=[1])
    real = load_district_boundary()
    assert district.code == "140502"
    # The subdivision runs in Gauss-Krüger metres: nodes it adds on a boundary edge are on the
    # straight edge there, a few cm off the straight edge in lon/lat. A few m² over ~80 km.
    assert geodesic_area_m2(real.symmetric_difference(district.boundary)) < 20.0
    assert shapely.hausdorff_distance(real, district.boundary) < 5e-6  # degrees, ≈ 0.5 m
    assert 140e6 < district.area_m2 < 160e6


def test_every_grid_has_a_leader_or_staff_and_sources_lie_in_their_grid(demo_store):
    store, _ = demo_store
    with store.engine.connect() as connection:
        grids = {g.id: g for g in read_grids(connection)}
        staff = current_staff(connection, on=AS_OF.date())
        sources = read_sources(connection)
    for grid_id, grid in grids.items():
        roles = {role for role, _ in staff.get(grid_id, [])}
        assert roles & {Role.LEADER, Role.STAFF}, f"{grid.code} has nobody"
    for source in sources:
        grid = grids[source.grid_id]
        assert grid.level == 4 and grid.boundary.covers(shapely.Point(source.lon, source.lat))
    categories = Counter(s.category_id for s in sources)
    assert len(categories) >= 10


def test_case_state_is_the_end_of_its_event_trail(demo_store):
    store, _ = demo_store
    with store.engine.connect() as connection:
        states = dict(connection.execute(select(schema.cases.c.id, schema.cases.c.state)).all())
        trail = defaultdict(list)
        query = select(schema.case_events.c.case_id, schema.case_events.c.from_state,
                       schema.case_events.c.to_state).order_by(schema.case_events.c.case_id, schema.case_events.c.id)
        for case_id, before, after in connection.execute(query):
            trail[case_id].append((before, after))
    for case_id, state in states.items():
        steps = trail[case_id]
        assert steps[0][0] is None and steps[-1][1] == state
        assert all(a[1] == b[0] for a, b in zip(steps, steps[1:])), f"broken trail for case {case_id}"
    counted = Counter(states.values())
    assert sum(n for s, n in counted.items() if s in OPEN_STATES) >= 20  # live work for the seats
    assert counted["已销号"] > 1000


def test_demo_is_marked_and_refuses_to_overwrite(demo_store):
    store, _ = demo_store
    with store.engine.connect() as connection:
        assert "虚构" in get_setting(connection, "demo")["notice"]
    with pytest.raises(DemoNotEmptyError, match="--force"):
        build_demo(store, as_of=AS_OF)


def test_same_seed_same_workspace_on_both_backends(db_url, demo_store):
    reference, _ = demo_store
    store = open_store(db_url)
    build_demo(store, seed=20181, as_of=AS_OF)
    tables = ("grids", "people", "assignments", "pollution_sources", "cases", "case_events", "alarms")
    for table in tables:
        columns = [c for c in schema.metadata.tables[table].columns if c.name not in ("created_at", "updated_at")]
        query = select(*columns).order_by(columns[0])
        with reference.engine.connect() as a, store.engine.connect() as b:
            left, right = a.execute(query).all(), b.execute(query).all()
        assert len(left) == len(right)
        for x, y in zip(left, right):
            assert tuple(_comparable(v) for v in x) == tuple(_comparable(v) for v in y), table
    store.close()


def test_force_rebuilds_a_used_workspace(sqlite_url):
    store = open_store(sqlite_url)
    build_demo(store, seed=1, as_of=AS_OF)
    with store.engine.connect() as connection:
        first = workspace_info(connection)
    build_demo(store, seed=2, as_of=AS_OF, force=True)
    with store.engine.connect() as connection:
        rebuilt = workspace_info(connection)["grids"]
        assert [rebuilt[k] for k in "1234"] == [first["grids"][k] for k in "1234"]
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    store.close()


def _comparable(value):
    if isinstance(value, shapely.Geometry):
        return value.wkb
    if isinstance(value, float):
        return round(value, 6)
    return value


def test_air_stations_have_daily_means_before_the_hourly_window(demo_store):
    from datetime import timedelta

    from gis.demo.build import AIR_DAILY_DAYS
    from gis.report.air import aqi_days
    from gis.report.period import resolve_period

    store, _ = demo_store
    r, s = schema.readings.c, schema.stations.c
    quarter = resolve_period("quarter", today=AS_OF.date())
    with store.engine.connect() as connection:
        air = set(connection.execute(select(s.id).where(s.kind == "air")).scalars())
        daily = connection.execute(select(r.station_id, r.data_time, r.avg, r.min, r.max).where(r.cn == "2031")).all()
        first_hour = connection.execute(select(func.min(r.data_time)).where(r.cn == "2061", r.station_id.in_(air))
                                        ).scalar_one()
        # The last complete quarter and the one before it: every station has a daily AQI on every day.
        for period in (quarter, quarter.previous()):
            entries = aqi_days(connection, period)
            assert len(entries) == len(air) + 1
            assert all(e.no_data == 0 and e.valid_days == len(period.days) for e in entries), period
    days = {row.data_time.date() for row in daily}
    first = AS_OF.date() - timedelta(days=AIR_DAILY_DAYS)
    last = first_hour.date() if first_hour.hour else first_hour.date() - timedelta(days=1)  # up to the first whole day
    assert days == {first + timedelta(days=k) for k in range((last - first).days + 1)}
    assert {row.station_id for row in daily} == air  # water and outlet stations send none
    assert len(daily) == len(air) * len(days) * 6 and all(row.min <= row.avg <= row.max for row in daily)


def test_daily_means_come_from_the_hourly_model_and_leave_the_hours_alone(monkeypatch):
    import numpy as np

    from gis.demo import history
    from gis.demo.ledger import DemoStation
    from gis.domain import StationKind

    stations = [DemoStation("AIR1", "空气站", StationKind.AIR, 112.8, 35.5, 1),
                DemoStation("W1", "断面", StationKind.WATER, 112.8, 35.5, 1)]

    def run(daily_days):
        rng = np.random.default_rng(7)
        rows = history.make_readings(stations, [1, 2], 48, rng, AS_OF, air_days=5, daily_days=daily_days)
        return rows, rng.random()

    (plain, after_plain), (rows, after) = run(0), run(10)
    assert [r for r in rows if r["cn"] == "2061"] == plain and after == after_plain  # cases and alarms stay the same
    # Without noise and weather spells a day's mean moves only with the season (≤ 1 % a day): the last daily
    # frame and the first whole day of hours agree to within 3 %.
    monkeypatch.setattr(history, "STAGNATION_SD", 0.0)
    monkeypatch.setattr(history, "AIR_POLLUTANTS", {k: (b, s, 0) for k, (b, s, _) in history.AIR_POLLUTANTS.items()})
    rows, _ = run(10)
    daily = {(r["data_time"].date(), r["pollutant"]): r["avg"] for r in rows if r["cn"] == "2031"}
    assert {r["station_id"] for r in rows if r["cn"] == "2031"} == {1}
    last_daily = max(day for day, _ in daily)
    first_whole = min(r["data_time"].date() for r in rows if r["cn"] == "2061" and r["data_time"].hour == 0)
    assert (first_whole - last_daily).days == 1
    for code in history.AIR_POLLUTANTS:
        hours = [r["avg"] for r in rows if r["cn"] == "2061" and r["pollutant"] == code and r["station_id"] == 1
                 and r["data_time"].date() == first_whole]
        assert len(hours) == 24
        assert daily[(last_daily, code)] == pytest.approx(sum(hours) / 24, rel=0.03), code
