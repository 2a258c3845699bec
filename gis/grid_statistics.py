"""Per-grid statistics a map can fill grids by: open cases, overdue cases, pollution sources.

Each count is rolled up the hierarchy — a village's count includes its fourth-level grids —
so every level of the map can be filled by the same statistic. Pure Python over the rows
the window already holds (the loader thread computes them).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from gis.domain import OPEN_STATES

# key → (name in the layer panel, unit); the order is the menu's.
GRID_STATISTICS = {
    "open_cases": ("未办结案件数", "件"),
    "overdue_cases": ("超期案件数", "件"),
    "sources": ("污染源数", "家"),
}


def _rolled_up(grids: list, direct: Counter) -> dict[int, float]:
    parent = {g.id: g.parent_id for g in grids}
    totals = {g.id: float(direct.get(g.id, 0)) for g in grids}
    for grid in sorted(grids, key=lambda g: -g.level):  # children before parents
        up = parent.get(grid.id)
        if up in totals:
            totals[up] += totals[grid.id]
    return totals


def grid_statistics(grids: Iterable, sources: Iterable, cases: Iterable,
                    now: datetime | None = None) -> dict[str, dict[int, float]]:
    """``{statistic key: {grid id: value}}`` for every key of ``GRID_STATISTICS``."""
    grids, now = list(grids), now or datetime.now()
    open_cases = [c for c in cases if c.grid_id is not None and c.state in OPEN_STATES]
    direct = {
        "open_cases": Counter(c.grid_id for c in open_cases),
        "overdue_cases": Counter(c.grid_id for c in open_cases if c.due_at is not None and c.due_at < now),
        "sources": Counter(s.grid_id for s in sources if s.grid_id is not None),
    }
    return rolled_up_statistics(grids, direct)


def rolled_up_statistics(grids: Iterable, direct: dict[str, Counter]) -> dict[str, dict[int, float]]:
    """Per-grid counts (``{statistic key: Counter of grid id}``, each case or source in its own grid)
    rolled up the hierarchy; e.g. the live feed's ``gis.storage.grid_counts.read_case_counts``."""
    grids = list(grids)
    return {key: _rolled_up(grids, counts) for key, counts in direct.items() if key in GRID_STATISTICS}
