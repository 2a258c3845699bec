"""Which grids' 四至 no longer fit their boundary after the edits of a session.

A grid is flagged when the 四至 suggested from its current boundary differs from the one its
loaded boundary gave (or it was already waiting for review when loaded), and its 四至 fields do
not already say the new thing. Comparing with the loaded state (not with the previous edit)
makes undo clear flags by itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import shapely

from gis.domain import Grid
from gis.four_bounds import SECTORS, FourBounds, suggest_four_bounds

if TYPE_CHECKING:
    from gis.editing.session import GridEditSession

_POLYGON_LEVELS = (1, 2, 3, 4)


class FourBoundsTracker:
    """``flagged``: grid id → the new 四至 suggestion, for grids whose suggestion changed."""

    def __init__(self, session: GridEditSession):
        self.session = session
        self.flagged: dict[int, FourBounds] = {}
        # Flags saved earlier and not yet dealt with (``four_bounds_review``): still to review.
        self.pending: dict[int, FourBounds] = {}
        self._baseline: dict[int, FourBounds | None] = {}
        self._original_trees: dict[int, tuple[shapely.STRtree, list[Grid]]] = {}

    def update(self, before: Mapping[int, Grid | None], after: Mapping[int, Grid | None]) -> None:
        """Recompute suggestions around the grids that just changed."""
        regions: dict[int, list] = {}
        for grid_id in set(before) | set(after):
            self.flagged.pop(grid_id, None)
            for grid in (before.get(grid_id), after.get(grid_id)):
                if grid is not None and grid.level in _POLYGON_LEVELS and not grid.boundary.is_empty:
                    regions.setdefault(grid.level, []).append(shapely.box(*grid.boundary.bounds))
        for level, boxes in regions.items():
            affected = self.session.same_level_near(level, shapely.box(*shapely.total_bounds(boxes)))
            if not affected:
                continue
            around = shapely.box(*shapely.total_bounds([g.boundary for g in affected]))
            context = self.session.same_level_near(level, around)
            now = suggest_four_bounds(context, outside=self.session.outside)
            for grid in affected:
                suggestion = now[grid.id]
                changed = grid.id in self.pending or self.baseline(grid.id) != suggestion
                written = FourBounds(*(getattr(grid, side) for side in SECTORS))
                if changed and written != suggestion:
                    self.flagged[grid.id] = suggestion
                else:
                    self.flagged.pop(grid.id, None)

    def baseline(self, grid_id: int) -> FourBounds | None:
        """The suggestion for the grid as loaded (None for a grid new in this session)."""
        if grid_id not in self._baseline:
            self._baseline[grid_id] = self._suggest_original(grid_id)
        return self._baseline[grid_id]

    def load_pending(self, pending: Mapping[int, FourBounds]) -> None:
        """Flags saved by earlier sessions; they stay flagged until the 四至 is updated."""
        self.pending = dict(pending)
        self.flagged.update(self.pending)

    def rebase(self, ids: Mapping[int, int]) -> None:
        """After a save the saved state is the new reference; open flags carry over (new ids)."""
        self.flagged = {ids.get(i, i): s for i, s in self.flagged.items()}
        self.pending = dict(self.flagged)
        self._baseline.clear()
        self._original_trees.clear()

    def _suggest_original(self, grid_id: int) -> FourBounds | None:
        grid = self.session.original.get(grid_id)
        if grid is None or grid.level not in _POLYGON_LEVELS:
            return None
        if grid.level not in self._original_trees:
            same = [g for g in self.session.original.values() if g.level == grid.level]
            self._original_trees[grid.level] = (shapely.STRtree([g.boundary for g in same]), same)
        tree, same = self._original_trees[grid.level]
        context = [same[i] for i in sorted(tree.query(shapely.box(*grid.boundary.bounds)).tolist())]
        return suggest_four_bounds(context, outside=self.session.outside).get(grid_id)
