"""The map views the wall rotates through: the whole district, each second-level grid, the newest alarm.

Pure Python (no Qt): the window owns a timer and calls :meth:`Playlist.advance`; the map panel
shows what it returns. Rebuilding the list (grids reloaded, a newer alarm) keeps the position
on the view being shown, so a new alarm does not restart the round.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEFAULT_ROTATE_SECONDS = 30
ALARM_CONTEXT = 0.35   # the newest alarm's grid is shown with its surroundings: at least this share of the district
SETTING_KEY = "display/rotate_seconds"   # QSettings of the wall's machine; ``--rotate`` overrides it


@dataclass(frozen=True, slots=True)
class MapView:
    key: str                                   # "district", "grid-17", "alarm"
    name: str                                  # the map panel's title while shown
    bbox: tuple[float, float, float, float]    # lon/lat: min_lon, min_lat, max_lon, max_lat
    geometry: object = None                    # outlined on the map (a grid), lon/lat; None for the district
    kind: str = "district"                     # district | grid | alarm


def bbox_of(geometries: Iterable) -> tuple[float, float, float, float] | None:
    boxes = [g.bounds for g in geometries if g is not None and not g.is_empty]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def build_playlist(district_name: str, grids: Sequence, alarm=None) -> list[MapView]:
    """Views in playing order.

    ``grids``: rows with ``id``, ``name``, ``level``, ``boundary`` (lon/lat); level 1 makes the district
    view, level 2 one view each. ``alarm``: a :class:`desktop.display.snapshot.AlarmPlace` or None.
    """
    views: list[MapView] = []
    district = bbox_of(g.boundary for g in grids if g.level == 1) or bbox_of(g.boundary for g in grids)
    if district is not None:
        views.append(MapView("district", f"全区 · {district_name}" if district_name else "全区", district))
    for grid in grids:
        if grid.level == 2 and (box := bbox_of([grid.boundary])) is not None:
            views.append(MapView(f"grid-{grid.id}", grid.name, box, grid.boundary, "grid"))
    if alarm is not None and (box := bbox_of([alarm.boundary])) is not None:
        if district is not None:
            box = widened(box, (district[2] - district[0]) * ALARM_CONTEXT, (district[3] - district[1]) * ALARM_CONTEXT)
        views.append(MapView("alarm", f"最新报警 · {alarm.name}", box, alarm.boundary, "alarm"))
    return views


def widened(box: tuple[float, float, float, float], min_width: float, min_height: float):
    """``box`` grown about its centre to at least ``min_width`` × ``min_height``."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = max(box[2] - box[0], min_width) / 2, max(box[3] - box[1], min_height) / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


class Playlist:
    """A cycle over views; ``current`` is what the map shows."""

    def __init__(self, views: Sequence[MapView] = ()):
        self.views: list[MapView] = list(views)
        self.index = 0

    @property
    def current(self) -> MapView | None:
        return self.views[self.index] if self.views else None

    def advance(self) -> MapView | None:
        if self.views:
            self.index = (self.index + 1) % len(self.views)
        return self.current

    def set_views(self, views: Sequence[MapView]) -> bool:
        """Replace the views, staying on the current one if it is still there; True if ``current`` changed."""
        before = self.current
        self.views = list(views)
        keys = [v.key for v in self.views]
        if before is not None and before.key in keys:
            self.index = keys.index(before.key)
        else:
            self.index = min(self.index, max(0, len(self.views) - 1))
        return self.current != before
