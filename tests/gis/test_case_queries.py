"""Case filters, keyset pages, SQL aggregates and the Excel export against a plain-Python reference,
on SQLite and PostgreSQL (the ``store`` fixture)."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from case_world import NOW, build_case_world, python_filter, python_order, subtree
from gis.aqi import hourly_aqi
from gis.domain import OPEN_STATES, CaseSource, CaseState
from gis.storage import case_queries as q
from gis.storage import case_stats as s


@pytest.fixture
def world(store):
    return build_case_world(store)


def _filters(world) -> list[tuple[str, q.CaseFilter]]:
    g = world.grids
    base = q.CaseFilter(now=NOW)
    seat = q.Seat(actor="张三", grid_ids=frozenset({g["140502001001"].id, g["140502002"].id}), command_center=False)
    return [
        ("nothing", base),
        ("one state", base.replace(states={"处置中"})),
        ("two states", base.replace(states={"待受理", "已销号"})),
        ("source", base.replace(sources={str(CaseSource.COMPLAINT)})),
        ("category", base.replace(category_ids={world.categories["water"], world.categories["other"]})),
        ("town subtree", base.replace(grid_ids={g["140502001"].id})),
        ("two subtrees", base.replace(grid_ids={g["140502001002"].id, g["140502002001001"].id})),
        ("leaf grid", base.replace(grid_ids={g["140502002002002"].id})),
        ("district = every grid", base.replace(grid_ids={g["140502"].id})),
        ("levels", base.replace(levels={3, 4})),
        ("time range", base.replace(start=NOW - timedelta(days=20), end=NOW - timedelta(days=5))),
        ("open start", base.replace(start=NOW - timedelta(days=3))),
        ("text", base.replace(text="油烟")),
        ("two words", base.replace(text="凤台街 扬尘")),
        ("LIKE wildcards are literal", base.replace(text="_促销 100%")),
        ("number prefix, any case", base.replace(text="aj202401")),
        ("pollutant", base.replace(pollutants={"a21026"})),
        ("todo, command center", base.replace(work_list=q.WorkList.TODO)),
        ("todo, grid seat", base.replace(work_list=q.WorkList.TODO, seat=seat)),
        ("mine", base.replace(work_list=q.WorkList.MINE, seat=q.Seat(actor="李四"))),
        ("overdue", base.replace(work_list=q.WorkList.OVERDUE)),
        ("jurisdiction", base.replace(work_list=q.WorkList.JURISDICTION, seat=seat)),
        ("jurisdiction, whole district", base.replace(work_list=q.WorkList.JURISDICTION)),
        ("closed", base.replace(work_list=q.WorkList.CLOSED)),
        ("combined", base.replace(grid_ids={g["140502002"].id}, sources={str(CaseSource.PATROL),
                                                                          str(CaseSource.ALARM)},
                                  start=NOW - timedelta(days=40), work_list=q.WorkList.OVERDUE)),
    ]


def test_every_filter_narrows_like_the_python_reference(store, world):
    with store.engine.connect() as connection:
        for label, f in _filters(world):
            expected = python_filter(world, f)
            assert q.count_cases(connection, f) == len(expected), label
            page = q.page_cases(connection, f, limit=1000)
            assert [c.number for c in page] == [r["number"] for r in python_order(
                world, expected, q.CaseOrder(), store.is_postgres)], label
            assert sorted(q.case_ids(connection, f)) == sorted(r["id"] for r in expected), label
            if label not in ("nothing", "district = every grid", "jurisdiction, whole district"):
                assert 0 < len(expected) < len(world.rows), f"{label}: the world should exercise this filter"


@pytest.mark.parametrize("column", list(q.SORT_KEYS))
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_pages_walk_every_order_without_gaps_or_repeats(store, world, column, descending):
    order = q.CaseOrder(column, descending)
    f = q.CaseFilter(now=NOW, states=set(CaseState) - {CaseState.DUPLICATE})
    expected = [r["number"] for r in python_order(world, python_filter(world, f), order, store.is_postgres)]
    seen, after = [], None
    with store.engine.connect() as connection:
        while True:
            page = q.page_cases(connection, f, order, after=after, limit=17)
            seen += [c.number for c in page]
            if len(page) < 17:
                break
            after = order.keyset_of(page[-1])
        assert seen == expected
        # A jump by OFFSET lands where the keyset walk does.
        assert [c.number for c in q.page_cases(connection, f, order, offset=40, limit=5)] == expected[40:45]


def test_summaries_carry_what_the_table_shows(store, world):
    with store.engine.connect() as connection:
        case = q.page_cases(connection, q.CaseFilter(text="AJ20240007"))[0]
    row = world.by_number("AJ20240007")
    assert (case.id, case.state, case.grid_id, case.created_at) == (row["id"], row["state"], row["grid_id"],
                                                                    row["created_at"])
    assert case.extra["address"] == row["address"] and case.extra["category_id"] == row["category_id"]
    grid = world.grid_by_id(row["grid_id"])
    assert case.grid_name == (grid.name if grid else "")


def test_iter_cases_streams_everything_in_order(store, world):
    f = q.CaseFilter(now=NOW, work_list=q.WorkList.CLOSED)
    with store.engine.connect() as connection:
        batches = list(q.iter_cases(connection, f, q.CaseOrder("number", False), batch=10))
    assert all(len(b) == 10 for b in batches[:-1])
    assert [c.number for b in batches for c in b] == sorted(r["number"] for r in python_filter(world, f))


def test_filter_checks_its_input():
    with pytest.raises(TypeError, match="states"):
        q.CaseFilter(states="处置中")
    with pytest.raises(ValueError, match="not before"):
        q.CaseFilter(start=NOW, end=NOW)
    with pytest.raises(ValueError, match="cannot sort"):
        q.CaseOrder("reporter_phone")
    assert q.CaseFilter(states={"处置中"}, text="x").without("states", "text") == q.CaseFilter()
    assert q.CaseFilter(work_list="已超期").work_list is q.WorkList.OVERDUE


# -- aggregates -----------------------------------------------------------------------------------
def test_cases_by_state_ignores_its_own_dimension(store, world):
    f = q.CaseFilter(now=NOW, grid_ids={world.grids["140502002"].id}, states={"处置中"})
    expected = Counter(r["state"] for r in python_filter(world, f.without("states")))
    with store.engine.connect() as connection:
        counts = s.cases_by_state(connection, f)
    assert counts == dict(expected)
    assert list(counts) == [str(x) for x in CaseState if str(x) in expected]  # workflow order


def test_daily_new_vs_closed(store, world):
    f = q.CaseFilter(now=NOW, sources={str(CaseSource.COMPLAINT), str(CaseSource.PATROL)})
    with store.engine.connect() as connection:
        days = s.daily_new_vs_closed(connection, f)  # no range: the last 30 days up to today
        ranged = s.daily_new_vs_closed(connection, f.replace(start=datetime(2024, 4, 1), end=datetime(2024, 4, 11)))
    assert [d.day for d in days] == [date(2024, 5, 20) - timedelta(days=29 - i) for i in range(30)]
    rows = python_filter(world, f)
    for d in days + ranged:
        assert d.new == sum(r["created_at"].date() == d.day for r in rows), d
        assert d.closed == sum(r["closed_at"] is not None and r["closed_at"].date() == d.day for r in rows), d
    assert len(ranged) == 10 and ranged[0].day == date(2024, 4, 1)
    assert sum(d.new for d in days) > 0 and sum(d.closed for d in days) > 0


@pytest.mark.parametrize("by", ["open", "overdue"])
@pytest.mark.parametrize("level", [2, 3])
def test_top_grids_roll_cases_up_to_the_level(store, world, by, level):
    f = q.CaseFilter(now=NOW, sources=set(CaseSource) - {CaseSource.ASSIGNED})
    rows = [r for r in python_filter(world, f) if r["state"] in OPEN_STATES
            and (by == "open" or (r["due_at"] is not None and r["due_at"] < NOW))]
    expected = Counter()
    for grid in world.grids.values():
        if grid.level == level:
            inside = subtree(world, {grid.id})
            expected[grid.id] = sum(r["grid_id"] in inside for r in rows)
    with store.engine.connect() as connection:
        top = s.top_grids(connection, f, by=by, level=level, limit=3)
    ranked = sorted(((n, world.grid_by_id(g).code, g) for g, n in expected.items() if n), key=lambda t: (-t[0], t[1]))
    assert [(t.grid_id, t.count) for t in top] == [(g, n) for n, _c, g in ranked[:3]]
    assert top[0].name == world.grid_by_id(top[0].grid_id).name


def test_top_grids_within_a_selected_town(store, world):
    town = world.grids["140502001"]
    with store.engine.connect() as connection:
        top = s.top_grids(connection, q.CaseFilter(now=NOW, grid_ids={town.id}), level=3)
    assert {t.code for t in top} <= {"140502001001", "140502001002"}
    with pytest.raises(ValueError, match="by must be"):
        with store.engine.connect() as connection:
            s.top_grids(connection, q.CaseFilter(), by="closed")


def test_alarms_by_pollutant(store, world):
    town = world.grids["140502002"]
    f = q.CaseFilter(now=NOW, start=NOW - timedelta(days=5), grid_ids={town.id}, pollutants={"a34004"})
    inside = subtree(world, {town.id})
    expected = Counter(a["pollutant"] for a in world.alarms
                       if a["raised_at"] >= f.start and a["grid_id"] in inside)
    with store.engine.connect() as connection:
        assert s.alarms_by_pollutant(connection, f) == dict(expected)
        assert sum(s.alarms_by_pollutant(connection, q.CaseFilter()).values()) == len(world.alarms)


def test_station_aqi_series_is_hourly_hj633(store, world):
    station = world.stations[1]
    start = NOW - timedelta(hours=47)
    with store.engine.connect() as connection:
        series = s.station_aqi_series(connection, station, start, start + timedelta(hours=10))
    assert [p.at for p in series] == [start + timedelta(hours=h) for h in range(10)]
    by_time: dict = {}
    for r in world.readings:
        if r["station_id"] == station and r["flag"] == "N":
            by_time.setdefault(r["data_time"], {})[r["pollutant"]] = r["avg"]
    for point in series:
        assert point.aqi == hourly_aqi(by_time[point.at], pm_average="1h").aqi
    # The maintenance-flagged PM2.5 hour is computed without PM2.5.
    flagged = next(p for p in series if p.at == start + timedelta(hours=5))
    assert flagged.aqi == hourly_aqi(by_time[flagged.at], pm_average="1h").aqi


# -- export ---------------------------------------------------------------------------------------
def test_excel_export_holds_exactly_the_filtered_rows(store, world, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    from gis.io.case_export import HEADERS, export_cases_xlsx

    f = q.CaseFilter(now=NOW, grid_ids={world.grids["140502001"].id}, work_list=q.WorkList.OVERDUE)
    calls = []
    with store.engine.connect() as connection:
        written = export_cases_xlsx(connection, f, tmp_path / "out.xlsx", order=q.CaseOrder("number", False),
                                    criteria=[("网格", "西街道")], progress=lambda d, t: calls.append((d, t)),
                                    batch=7)
    expected = sorted(python_filter(world, f), key=lambda r: r["number"])
    assert written == len(expected) and calls[-1] == (written, written)
    book = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)
    rows = list(book["案件"].iter_rows(values_only=True))
    assert rows[0] == HEADERS
    assert [r[0] for r in rows[1:]] == [r["number"] for r in expected]
    first = rows[1]
    assert first[5] == expected[0]["created_at"].replace(microsecond=0) or \
        abs(first[5] - expected[0]["created_at"]) < timedelta(seconds=1)
    assert first[8] == "是"  # overdue
    about = dict(book["筛选条件"].iter_rows(values_only=True))
    assert about["网格"] == "西街道" and about["案件数"] == str(written)


def test_export_can_be_cancelled_and_leaves_no_file(store, world, tmp_path):
    from gis.io.case_export import ExportCancelled, export_cases_xlsx

    with store.engine.connect() as connection, pytest.raises(ExportCancelled):
        export_cases_xlsx(connection, q.CaseFilter(), tmp_path / "x.xlsx", progress=lambda d, t: False, batch=10)
    assert not (tmp_path / "x.xlsx").exists()
