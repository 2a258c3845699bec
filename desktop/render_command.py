"""``envgrid render OUT.png --db URL``: the map as the window draws it, into a PNG, without a display.

The layers come from the same builders as the window's (``map_build``, the live case and
station layers) and are painted by the same ``MapRenderJob``, only synchronously. Data is
read as columns (100,000 sources as arrays, not objects) and, with ``--bbox``, only what
touches the view. ``--levels`` draws exactly those grid levels at any zoom; without it the
level of detail decides, as in the window.
"""
from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BBOX_HELP = "minlon,minlat,maxlon,maxlat such as 112.80,35.45,112.90,35.55"


def register(subparsers) -> None:
    from gis.cli import add_db_argument

    render = subparsers.add_parser("render", help="render the map to a PNG with the window's renderer (no display needed)")
    render.add_argument("out", help="PNG file to write")
    add_db_argument(render)
    render.add_argument("--size", default="1920x1080", help="image size WxH in pixels (default 1920x1080)")
    render.add_argument("--bbox", help=f"area to show, lon/lat: {BBOX_HELP} (default: all grids)")
    render.add_argument("--levels", help="grid levels to draw at any scale, e.g. 1,2,3,4 "
                                         "(default: by scale, as the window does)")
    render.add_argument("--no-sources", action="store_true", help="leave out pollution sources")
    render.add_argument("--no-cases", action="store_true", help="leave out case pins")
    render.set_defaults(handler=run_render)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    from gis.cli import CliError

    parts = [p.strip() for p in (text or "").split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise CliError(f"--bbox: expected {BBOX_HELP}, got {text!r}")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon < max_lon <= 180 and -85 <= min_lat < max_lat <= 85):
        raise CliError(f"--bbox: need -180 ≤ minlon < maxlon ≤ 180 and -85 ≤ minlat < maxlat ≤ 85, got {text!r}")
    return min_lon, min_lat, max_lon, max_lat


def parse_levels(text: str) -> tuple[int, ...]:
    from gis.cli import CliError

    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not parts or not all(p.isdigit() and 1 <= int(p) <= 4 for p in parts):
        raise CliError(f"--levels: expected grid levels 1–4 separated by commas, such as 2,3,4, got {text!r}")
    return tuple(sorted({int(p) for p in parts}))


@dataclass
class MapData:
    """What one render needs, read as columns."""

    grids: list
    source_ids: list = field(default_factory=list)
    source_lon: list = field(default_factory=list)
    source_lat: list = field(default_factory=list)
    source_category: list = field(default_factory=list)
    source_key: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    stations: list = field(default_factory=list)
    latest: dict = field(default_factory=dict)


def read_map_data(connection, *, levels=(1, 2, 3, 4), bbox=None, sources: bool = True, cases: bool = True) -> MapData:
    """Grids of ``levels``, sources, located cases and stations; only those touching ``bbox`` (lon/lat) if given."""
    from sqlalchemy import select

    from gis.domain import CaseSummary
    from gis.storage import schema
    from gis.storage.readings import latest_hourly_by_station, read_stations
    from gis.storage.sources import read_source_categories

    def within(table, query):
        if bbox is None:
            return query
        min_lon, min_lat, max_lon, max_lat = bbox
        return query.where(table.c.lon >= min_lon, table.c.lon <= max_lon, table.c.lat >= min_lat,
                           table.c.lat <= max_lat)

    g = schema.grids
    query = select(g.c.id, g.c.name, g.c.level, g.c.boundary).where(g.c.level.in_(list(levels))) \
        .order_by(g.c.level, g.c.code)
    if bbox is not None:
        query = query.where(g.c.max_lon >= bbox[0], g.c.min_lon <= bbox[2], g.c.max_lat >= bbox[1],
                            g.c.min_lat <= bbox[3])
    data = MapData(connection.execute(query).all())  # rows with id, name, level, boundary
    if sources:
        t = schema.pollution_sources
        rows = connection.execute(within(t, select(t.c.id, t.c.lon, t.c.lat, t.c.category_id, t.c.is_key))).all()
        columns = list(zip(*rows)) if rows else [[]] * 5
        (data.source_ids, data.source_lon, data.source_lat, data.source_category, data.source_key) = columns
        data.categories = read_source_categories(connection)
    if cases:
        t = schema.cases
        query = within(t, select(t.c.id, t.c.source, t.c.state, t.c.lon, t.c.lat, t.c.created_at, t.c.due_at)
                       .where(t.c.lon.is_not(None), t.c.lat.is_not(None)))
        data.cases = [CaseSummary(r.id, "", r.source, "", r.state, None, "", r.lon, r.lat, r.created_at, r.due_at, None)
                      for r in connection.execute(query)]
    data.stations = [s for s in read_stations(connection, active_only=True) if bbox is None or (
        s.lon is not None and bbox[0] <= s.lon <= bbox[2] and bbox[1] <= s.lat <= bbox[3])]
    data.latest = latest_hourly_by_station(connection) if data.stations else {}
    return data


def build_layers(data: MapData, *, forced_levels: tuple[int, ...] | None = None) -> list:
    """The window's layers, bottom first: fills, grids, sources, names, stations, case pins (after the
    label obstacles of the last two, which draw nothing)."""
    from desktop.widgets.map_build import MAP_LEVELS, grid_layers, source_layer
    from desktop.widgets.map_obstacles import label_obstacles
    from desktop.widgets.pin_layer import CasePinLayer
    from desktop.widgets.station_layer import StationLayer

    grid_set = grid_layers(data.grids, levels=forced_levels or MAP_LEVELS, forced=forced_levels is not None)
    layers = [*grid_set.fills, *grid_set.outlines]
    if len(data.source_ids):
        layers.append(source_layer(data.source_ids, data.source_lon, data.source_lat, data.source_category,
                                   data.source_key, data.categories))
    layers += grid_set.labels
    live = []
    if data.stations:
        live.append(StationLayer(data.stations, data.latest))
    if data.cases:
        live.append(CasePinLayer(data.cases))
    obstacles = label_obstacles(live)  # as the canvas does: names keep off pins and stations
    return ([obstacles] if obstacles is not None else []) + layers + live


def render_layers(layers, viewport):
    """Paint ``layers`` for ``viewport`` with the canvas' render job, in this thread; a QImage."""
    from desktop.widgets.map_render import MAP_BACKGROUND, MapRenderJob, RenderSignals

    job = MapRenderJob(0, viewport, tuple(layers), MAP_BACKGROUND, RenderSignals())
    return job.render()


def full_extent(layers):
    boxes = [box for layer in layers if (box := layer.extent()) is not None]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def run_render(args) -> int:
    from desktop.commands import parse_size
    from gis.cli import CliError
    from gis.storage.store import open_store

    width, height = parse_size(args.size)
    bbox = parse_bbox(args.bbox) if args.bbox is not None else None
    levels = parse_levels(args.levels) if args.levels is not None else None
    out = Path(args.out)
    if not out.parent.exists():
        raise CliError(f"cannot write {out}: folder {out.parent} does not exist")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # painting a QImage never needs a display
    from PySide6.QtGui import QGuiApplication

    from desktop.widgets.map_geometry import mercator_bbox, mercator_to_lonlat
    from desktop.widgets.map_viewport import MapViewport

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts need it
    started = time.perf_counter()
    viewport = MapViewport(width=width, height=height)
    query_box = None
    if bbox is not None:  # the view is the bbox fitted to the image: read what the whole image shows
        viewport = viewport.fitted(mercator_bbox(bbox), margin=0.0)
        x0, y0, x1, y1 = viewport.extent
        query_box = (*mercator_to_lonlat(x0, y0), *mercator_to_lonlat(x1, y1))
    store = open_store(args.db, create=False)
    try:
        with store.engine.connect() as connection:
            data = read_map_data(connection, levels=levels or (1, 2, 3, 4), bbox=query_box,
                                 sources=not args.no_sources, cases=not args.no_cases)
    finally:
        store.close()
    layers = build_layers(data, forced_levels=levels)
    if bbox is None:
        extent = full_extent(layers)
        if extent is None:
            raise CliError("nothing to render: the workspace has no grids, sources or cases (give --bbox)")
        viewport = viewport.fitted(extent, margin=0.03)
    read_seconds = time.perf_counter() - started
    painted = time.perf_counter()
    image = render_layers(layers, viewport)
    paint_seconds = time.perf_counter() - painted
    if image is None or not image.save(str(out), "PNG"):
        raise CliError(f"cannot write {out}")
    print(f"wrote {out} ({image.width()}x{image.height()}, 1:{viewport.scale_denominator():,.0f}; "
          f"read {read_seconds * 1000:.0f} ms, render {paint_seconds * 1000:.0f} ms)")
    return 0
