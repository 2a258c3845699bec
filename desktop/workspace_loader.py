"""Reading a workspace for the window, off the GUI thread.

``load_workspace`` is plain Python (it runs anywhere, tests call it directly);
``WorkspaceLoadThread`` runs it in a QThread with its own connection from
``store.engine`` and hands the result back through a queued signal. The map
layers are built there too, so the projection to Web Mercator happens once and
never on the GUI thread.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import QThread, Signal

from desktop.widgets.map_layers import GridFillLayer, GridLabelLayer, GridLayer, MapLayer, PointLayer
from gis.domain import OPEN_STATES, CaseState, CaseSummary, Grid
from gis.storage.store import Store

MAP_LEVELS = (1, 2, 3, 4)  # level-5 units are points of interest, not area grids

# Twelve well-separated colours (Tableau-like); category order picks them.
SOURCE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                  "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#843c39", "#7b4173")

# Drawn in this order, so open cases lie on top of closed ones and the urgent on top of all.
CASE_CLASSES: tuple[tuple[str, tuple[int, int, int, int], frozenset], ...] = (
    ("已办结", (120, 130, 140, 120),
     frozenset({CaseState.CLOSED, CaseState.FALSE_REPORT, CaseState.DUPLICATE})),
    ("整改/复查", (251, 140, 0, 235), frozenset({CaseState.RECTIFIED, CaseState.RECHECK})),
    ("处置中", (245, 124, 0, 255),
     frozenset({CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.TRANSFERRED})),
    ("待处理", (211, 47, 47, 255), frozenset({CaseState.PENDING, CaseState.RETURNED, CaseState.ESCALATED})),
)


def _rgba(hex_colour: str, alpha: int = 235) -> tuple[int, int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha


def case_class(state: str) -> int:
    for index, (_, _, states) in enumerate(CASE_CLASSES):
        if state in states:
            return index
    return len(CASE_CLASSES) - 1 if state in OPEN_STATES else 0


@dataclass
class WorkspaceData:
    display_name: str
    demo: bool
    grids: list[Grid]
    sources: list
    source_categories: list[tuple[int, str, str]]
    cases: list[CaseSummary]
    layers: list[MapLayer] = field(default_factory=list)
    seconds: float = 0.0

    def __post_init__(self):
        self._grid_by_id = {grid.id: grid for grid in self.grids}

    def grid(self, grid_id: int) -> Grid | None:
        return self._grid_by_id.get(grid_id)

    @property
    def open_cases(self) -> int:
        return sum(1 for case in self.cases if case.state in OPEN_STATES)


def build_map_layers(grids: list[Grid], sources: list, categories: list[tuple[int, str, str]],
                     cases: list[CaseSummary]) -> list[MapLayer]:
    """Bottom to top: area fills, finest grids, coarser grids, sources, case pins, grid names."""
    layers: list[MapLayer] = []
    for level in sorted(MAP_LEVELS, reverse=True):
        of_level = [g for g in grids if g.level == level and g.boundary is not None]
        if of_level:
            layers.append(GridLayer(level, [g.id for g in of_level], [g.name for g in of_level],
                                    [g.boundary for g in of_level]))
    fills = [GridFillLayer(layer) for layer in layers if layer.style.fill]
    labels = [GridLabelLayer(layer) for layer in layers if layer.style.label_pt]
    layers = fills + layers
    class_of_category = {cat_id: i for i, (cat_id, _, _) in enumerate(categories)}
    palette = [(name, _rgba(SOURCE_COLOURS[i % len(SOURCE_COLOURS)])) for i, (_, _, name) in enumerate(categories)]
    palette.append(("其他", _rgba("#9e9e9e")))
    layers.append(PointLayer(
        "sources", "污染源", [s.lon for s in sources], [s.lat for s in sources],
        [class_of_category.get(s.category_id, len(palette) - 1) for s in sources], palette,
        marker="dot", size=6.5, ids=[s.id for s in sources]))
    located = [c for c in cases if c.lon is not None and c.lat is not None]
    layers.append(PointLayer(
        "cases", "案件", [c.lon for c in located], [c.lat for c in located],
        [case_class(c.state) for c in located], [(name, rgba) for name, rgba, _ in CASE_CLASSES],
        marker="pin", size=11.0, ids=[c.id for c in located],
        # Closed cases are history: small faded dots, so the open ones stand out.
        class_markers={0: ("dot", 4.5)}))
    return layers + labels


def load_workspace(store: Store) -> WorkspaceData:
    """Everything the main window shows, read in one connection."""
    from gis.storage.cases import read_case_summaries
    from gis.storage.grids import read_grids
    from gis.storage.info import get_setting
    from gis.storage.sources import read_source_categories, read_sources

    started = time.perf_counter()
    with store.engine.connect() as connection:
        demo = bool(get_setting(connection, "demo", False))
        grids = read_grids(connection)
        categories = read_source_categories(connection)
        sources = read_sources(connection)
        cases = read_case_summaries(connection)
    data = WorkspaceData(store.display_name, demo, grids, sources, categories, cases)
    data.layers = build_map_layers(grids, sources, categories, cases)
    data.seconds = time.perf_counter() - started
    return data


class WorkspaceLoadThread(QThread):
    """Runs :func:`load_workspace`; ``loaded``/``failed`` arrive queued in the GUI thread."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self._store = store

    def run(self) -> None:
        try:
            data = load_workspace(self._store)
        except Exception as exc:  # shown to the user; the window stays usable
            self.failed.emit(f"{exc.__class__.__name__}: {exc}")
            return
        self.loaded.emit(data)
