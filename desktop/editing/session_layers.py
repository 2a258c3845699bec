"""The map's grid layers drawn from the edit session instead of the loaded workspace.

Layers never change after construction (see ``map_layers``), so an edit replaces the grid
layers of the levels it touched by new ones built from the session's grids (a few
milliseconds even for the demo's 780 fourth-level grids; the simplified copies are made by
the render job) and hands the list to the layer panel, which keeps the user's styles, order
and visibility. Nothing is read from the database: no reload.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from desktop.widgets.map_build import grid_layers
from desktop.widgets.map_layers import GridFillLayer, GridLabelLayer, GridLayer

if TYPE_CHECKING:
    from desktop.main_window import MainWindow
    from gis.editing import GridEditSession

_GRID_LAYER_TYPES = (GridLayer, GridFillLayer, GridLabelLayer)


def _level_of(layer) -> int | None:
    if isinstance(layer, GridLayer):
        return layer.level
    if isinstance(layer, (GridFillLayer, GridLabelLayer)):
        return layer.grids.level
    return None


class SessionLayers:
    """Swaps the grid layers of edited levels in and out of the map.

    The rest of the map comes from ``window.data.layers`` each time, so a layer the live feed
    rebuilt meanwhile (sources, stations, another seat's grids) is kept; only the levels this
    session changed are drawn from the session.
    """

    def __init__(self, window: MainWindow):
        self.window = window
        self._built: dict[int, list] | None = None  # level → its layers built from the session

    @property
    def active(self) -> bool:
        return self._built is not None

    def begin(self) -> None:
        self._built = {}

    def update(self, session: GridEditSession, levels: Iterable[int]) -> None:
        """Rebuild the grid layers of ``levels`` from ``session`` and show them."""
        if self._built is None:
            return
        levels = {level for level in levels if level in (1, 2, 3, 4)}
        if not levels:
            return
        fresh = grid_layers([g for level in levels for g in session.polygon_grids(level)], levels=tuple(levels))
        for level in levels:
            self._built[level] = [layer for layer in (*fresh.fills, *fresh.outlines, *fresh.labels)
                                  if _level_of(layer) == level]
        self._show(self.compose())

    def compose(self) -> list:
        """The loaded layers with the edited levels' grid layers replaced (bottom first)."""
        data = self.window.data
        base = list(data.layers) if data is not None else []
        built = self._built or {}
        out, placed = [], set()
        for layer in base:
            level = _level_of(layer)
            if level not in built:
                out.append(layer)
                continue
            replacement = next((x for x in built[level] if type(x) is type(layer)), None)
            if replacement is not None:
                out.append(replacement)
                placed.add(id(replacement))
        # A level that had no grids before (the first grid drawn there): put its layers in.
        for level in sorted(built):
            for layer in built[level]:
                if id(layer) in placed:
                    continue
                if isinstance(layer, GridFillLayer):
                    out.insert(0, layer)
                elif isinstance(layer, GridLayer):
                    first_line = next((i for i, x in enumerate(out) if isinstance(x, GridLayer)), len(out))
                    out.insert(first_line, layer)
                else:
                    out.append(layer)
        return out

    def refresh(self) -> None:
        """Show the session's levels again over freshly loaded layers (after a reload)."""
        if self._built:
            self._show(self.compose())

    def end(self) -> None:
        """Back to the layers as loaded (or as the live feed has updated them since)."""
        if self._built:
            self._built = None
            data = self.window.data
            self._show(list(data.layers) if data is not None else [])
        self._built = None

    def forget(self) -> None:
        self._built = None

    def _show(self, layers: list) -> None:
        panel = self.window.layer_control.panel
        panel.load(layers, panel.styles())
