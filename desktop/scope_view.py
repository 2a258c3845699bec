"""The data scope in the window: a user restricted to one grid sees that part of the district.

gis/ enforces the scope (gis.security.permissions checks every case, grid and staff write; the case
queries carry ``CaseFilter.scope_grid_id``). This module makes the window say the same:

- the grid tree shows the scope grid's subtree, the grids above it greyed, other branches left out
  (``GridTreeModel.set_scope``); a grid outside cannot be chosen on the map either
  (``MainWindow.show_grid`` asks ``GridTreeModel.in_scope``);
- the map greys everything outside the scope's boundary (:class:`ScopeMask`) and opens on it;
- the case table, the charts and the pins follow ``FilterState.set_scope``; the pin layer keeps
  only the scope's cases (``CasePinLayer.set_scope``), so the layer panel counts those;
- the status bar counts the scope's grids, sources and cases (desktop.status_counts).

:func:`apply_scope` runs on every login, logout and workspace switch
(desktop.session_ui.apply_session), so a scope never outlives its session or its workspace.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from desktop.widgets.map_overlays import MapMarker

OUTSIDE_FILL = QColor(70, 78, 84, 120)
EDGE = QColor("#37474f")


class ScopeMask:
    """Map overlay: everything outside ``boundary`` (lon/lat) greyed, the boundary dashed."""

    def __init__(self, boundary):
        self.marker = MapMarker.from_lonlat_geometry(boundary)  # projected once; per frame an affine map

    def paint(self, painter: QPainter, viewport) -> None:
        inside = self.marker.path(viewport)
        # Odd-even: the view's rectangle minus the scope (its holes, not in scope, are greyed again).
        mask = QPainterPath(inside)
        mask.setFillRule(Qt.FillRule.OddEvenFill)
        mask.addRect(QRectF(-4, -4, viewport.width + 8, viewport.height + 8))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillPath(mask, OUTSIDE_FILL)
        pen = QPen(EDGE, 2.0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(inside)
        painter.restore()


def apply_scope(window, session) -> None:
    """Make ``session``'s scope (None: none) the window's: tree, case filter, map."""
    scope = getattr(session, "scope", None)
    root = scope.grid_id if scope is not None else None
    window.scope = scope
    if window.data is None:
        window.grid_model.set_grids([])  # the tree of a workspace just closed must not show meanwhile
    window.grid_model.set_scope(root)
    views = getattr(window, "case_views", None)
    if views is not None:
        views.state.set_scope(root)
    if not getattr(window, "_scope_follows_loads", False):
        window.dataLoaded.connect(lambda: show_scope_on_map(window))
        window._scope_follows_loads = True
    show_scope_on_map(window)
    if window.data is not None:
        from desktop.status_counts import show_counts

        show_counts(window)


def show_scope_on_map(window) -> None:
    """Grey the map outside the scope (or un-grey it), pin its cases only; the first time for a
    scope, zoom to it."""
    canvas = window.canvas
    _scope_pins(window)
    mask = getattr(window, "scope_mask", None)
    if mask is not None:
        canvas.remove_overlay(mask)
        window.scope_mask = None
    scope = getattr(window, "scope", None)
    grid = window.data.grid(scope.grid_id) if scope is not None and window.data is not None else None
    if grid is None:
        return
    window.scope_mask = ScopeMask(grid.boundary)
    canvas.add_overlay(window.scope_mask)
    shown = (window.store.display_name, scope.grid_id)
    if getattr(window, "_scope_zoomed", None) != shown:  # once per workspace and scope, not on every reload
        window._scope_zoomed = shown
        canvas.zoom_to_bbox(grid.boundary.bounds)


def _scope_pins(window) -> None:
    """The pin layer holds the scope's cases only (all of them without a scope); the layer
    panel's counts per status follow."""
    control = getattr(window, "layer_control", None)
    pins = control.pins if control is not None else None
    if pins is None or window.data is None:
        return
    in_scope = window.grid_model.in_scope if getattr(window, "scope", None) is not None else None
    if in_scope is None and pins.in_scope is None:
        return  # unscoped, and the pins were never narrowed
    pins.set_scope(in_scope, window.data.cases)
    control.panel.refresh_legend()
