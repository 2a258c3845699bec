"""Open and overdue cases per grid counted in SQL (the live feed's map fills) agree with the
plain-Python statistics the loader computes, on both backends, rolled up the same way."""
from __future__ import annotations

from types import SimpleNamespace

from case_world import NOW, build_case_world

from gis.grid_statistics import grid_statistics, rolled_up_statistics
from gis.storage.grid_counts import read_case_counts
from gis.storage.grids import read_grids


def test_sql_counts_match_the_python_statistics_rolled_up(store):
    world = build_case_world(store)
    with store.engine.connect() as connection:
        direct = read_case_counts(connection, now=NOW)
        grids = read_grids(connection)
    cases = [SimpleNamespace(grid_id=r["grid_id"], state=r["state"], due_at=r["due_at"]) for r in world.rows]
    expected = grid_statistics(grids, [], cases, now=NOW)
    rolled = rolled_up_statistics(grids, direct)
    assert set(rolled) == {"open_cases", "overdue_cases"}
    for key in rolled:
        assert rolled[key] == expected[key]
    assert sum(direct["open_cases"].values()) > sum(direct["overdue_cases"].values()) > 0
    # A later clock: the same open cases, at least as many of them overdue.
    with store.engine.connect() as connection:
        later = read_case_counts(connection, now=NOW.replace(year=NOW.year + 1))
    assert later["open_cases"] == direct["open_cases"]
    assert sum(later["overdue_cases"].values()) >= sum(direct["overdue_cases"].values())
