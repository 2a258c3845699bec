"""Building the static map layers from workspace rows: used by the window and ``envgrid render``.

Both call these functions, so the command line draws exactly what the window draws.
Inputs are plain columns (ids, names, geometries, lon/lat arrays) so a caller can read
100,000 sources as arrays instead of objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from desktop.widgets.map_layers import GridFillLayer, GridLabelLayer, GridLayer, SourceLayer
from desktop.widgets.map_symbols import Symbol, category_symbols

MAP_LEVELS = (1, 2, 3, 4)  # level-5 units are points of interest, not area grids
OTHER_CATEGORY = Symbol("其他", "circle", "#9e9e9e")


@dataclass
class GridLayers:
    """Grid layers in drawing order: fills (bottom), outlines (finest first), labels (coarsest first)."""

    fills: list[GridFillLayer] = field(default_factory=list)
    outlines: list[GridLayer] = field(default_factory=list)
    labels: list[GridLabelLayer] = field(default_factory=list)

    def by_level(self) -> dict[int, GridLayer]:
        return {layer.level: layer for layer in self.outlines}


def grid_layers(grids, *, levels=MAP_LEVELS, forced: bool = False, prepare: bool = False) -> GridLayers:
    """One outline layer per level present in ``grids`` (objects with id, name, level, boundary).

    ``forced``: draw these levels at every zoom (the user picked them), not by level of detail.
    ``prepare``: build the simplified copies now (the window's loader thread does; a one-shot
    render builds only the one it needs).
    """
    by_level: dict[int, list] = {}
    for grid in grids:
        if grid.level in levels and grid.boundary is not None:
            by_level.setdefault(grid.level, []).append(grid)
    result = GridLayers()
    for level in sorted(by_level, reverse=True):  # finest at the bottom, district line on top
        rows = by_level[level]
        layer = GridLayer(level, [g.id for g in rows], [g.name for g in rows], [g.boundary for g in rows],
                          always_visible=forced)
        if prepare:
            layer.lod.prepare()
        result.outlines.append(layer)
    coarse_first = sorted(result.outlines, key=lambda layer: layer.level)
    # Every level gets a fill companion so a statistic (set_fill_values) can show on any of them.
    result.fills = [GridFillLayer(layer) for layer in coarse_first]
    result.labels = [GridLabelLayer(layer) for layer in coarse_first if layer.style.label_pt]
    return result


def source_layer(ids, lon, lat, category_ids, is_key, categories) -> SourceLayer:
    """Pollution sources from columns; ``categories`` are ``(id, code, name)`` rows in legend order."""
    symbols = category_symbols(categories) + [OTHER_CATEGORY]
    index_of = {cat_id: i for i, (cat_id, _code, _name) in enumerate(categories)}
    classes = np.fromiter((index_of.get(int(c), len(symbols) - 1) for c in np.asarray(category_ids).tolist()),
                          dtype=np.int64, count=len(category_ids))
    return SourceLayer(lon, lat, classes, is_key, symbols, ids=ids)


def source_layer_from_ledger(sources, categories) -> SourceLayer:
    """Pollution sources from ``PollutionSource`` objects (as the window reads them)."""
    return source_layer([s.id for s in sources], [s.lon for s in sources], [s.lat for s in sources],
                        [s.category_id for s in sources], [bool(s.is_key) for s in sources], categories)
