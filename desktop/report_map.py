"""Map images for the period report, drawn by the window's renderer (the ``render`` command's path).

The district and its second-level grids with their names, and the report's cases as the app's
pins: open cases at the end of the period (overdue ones red), or every case of the period
(closed ones shown as grey dots, which the app hides by default).
"""
from __future__ import annotations

from datetime import datetime

from gis.domain import CaseSummary

MAP_GRID_LEVELS = (1, 2, 3)


def case_summaries(rows) -> list[CaseSummary]:
    """Report case rows (gis.report.case_figures.CaseRow) with a place, as the pin layer takes them."""
    return [CaseSummary(r.id, r.number, r.source, r.category, r.state, r.grid_id, "", r.lon, r.lat, r.created_at,
                        r.due_at, r.closed_at) for r in rows if r.lon is not None and r.lat is not None]


def read_district(connection):
    """The grids the report maps show, read once for both maps."""
    from desktop.render_command import read_map_data

    data = read_map_data(connection, levels=MAP_GRID_LEVELS, sources=False, cases=False)
    data.stations = []  # the stations' colours are today's AQI, not the period's
    return data


def render_case_map(connection, rows, *, at: datetime, width: int, height: int, dpr: float = 2.0,
                    show_closed: bool = False, district=None):
    """A QImage of ``width`` × ``height`` logical pixels (× ``dpr``) of the whole district with ``rows`` as pins.

    ``district``: :func:`read_district` already read (else it is read here).
    """
    from desktop.render_command import build_layers, full_extent, render_layers
    from desktop.widgets.map_viewport import MapViewport
    from desktop.widgets.pin_layer import CasePinLayer

    layers = build_layers(district or read_district(connection), forced_levels=MAP_GRID_LEVELS)
    extent = full_extent(layers)
    pins = CasePinLayer(case_summaries(rows), now=at)
    if show_closed:
        pins.set_class_visible("closed", True)
    layers.append(pins)
    viewport = MapViewport(width=width, height=height, dpr=dpr)
    if extent is not None:
        viewport = viewport.fitted(extent, margin=0.02)
    return render_layers(layers, viewport)
