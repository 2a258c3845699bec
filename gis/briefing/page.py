"""Assemble the briefing map (folium) from :class:`~gis.briefing.data.BriefingData`."""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from html import escape

import folium
import numpy as np
import shapely
from folium.plugins import HeatMap, MarkerCluster
from shapely.geometry import mapping

from gis.briefing import style
from gis.briefing.assets import inline_assets
from gis.briefing.data import BriefingData
from gis.briefing.layers import CaseMarkers, GridLayer, PageOverlay, PageScript, SourceLayer, StationLayer
from gis.briefing.simplify import DECIMALS, metres_per_pixel, simplify_level
from gis.domain import LEVEL_NAMES, STATION_KIND_NAMES, CaseState, SourceStatus

MIN_ZOOM, MAX_ZOOM = 5, 18
#: Zooming out further than this below the opening view shows nothing new; each level fewer is one
#: level less for the marker cluster to build.
ZOOM_OUT_LEVELS = 2
#: From this zoom on, cases are shown one by one (fewer cluster levels to build when the page opens).
#: Clustering runs in one go (chunkedLoading off): in chunks it took twice as long in Chromium.
CASES_UNCLUSTERED_FROM = 17
#: Ledger points are drawn at first only when there are few enough to read (and to draw fast);
#: with more, each category is one tick away in the layer control.
SOURCES_SHOWN_UP_TO = 20_000
#: The finest area level is drawn at first only up to this many outlines.
FINE_GRIDS_SHOWN_UP_TO = 3_000
HEAT_RADIUS = 18
HEAT_SPREAD = 1.5  # neighbouring cells overlap under the blur; a little headroom keeps peaks apart


def _grid_features(data: BriefingData, level: int, grids, tolerance_m: float) -> tuple[list[dict], str]:
    outlines, how = simplify_level([g.boundary for g in grids], tolerance_m)
    features = []
    for grid, outline in zip(grids, outlines):
        properties = {"name": grid.name, "code": grid.code, "level": LEVEL_NAMES.get(level, str(level)),
                      "e": grid.east, "s": grid.south, "w": grid.west, "n": grid.north,
                      "leaders": [list(entry) for entry in data.leaders.get(grid.id, ())]}
        features.append({"type": "Feature", "geometry": mapping(outline), "properties": properties})
    return features, how


def _round(value: float) -> float:
    return round(float(value), DECIMALS)


def build_briefing_map(data: BriefingData, *, tiles: str | None = None, now: datetime | None = None) -> folium.Map:
    """The complete map, assets not yet inlined (see :func:`render_briefing_html`)."""
    now = now or datetime.now()
    by_level = data.grids_by_level()
    if data.root is not None:
        bounds = data.root.boundary.bounds
    elif data.grids:
        bounds = shapely.total_bounds([g.boundary for g in data.grids])
    else:
        bounds = (73.5, 18.0, 135.0, 53.5)  # an empty workspace: China
    min_lon, min_lat, max_lon, max_lat = (float(b) for b in bounds)
    if min_lon == max_lon and min_lat == max_lat:  # a level-5 point as --grid
        min_lon, max_lon, min_lat, max_lat = min_lon - 0.003, max_lon + 0.003, min_lat - 0.003, max_lat + 0.003
    centre_lat = (min_lat + max_lat) / 2

    map_ = folium.Map(location=[centre_lat, (min_lon + max_lon) / 2], tiles=None, prefer_canvas=True,
                      min_zoom=MIN_ZOOM, max_zoom=MAX_ZOOM, control_scale=False, zoom_start=12)
    opening_zoom = _fit_zoom(min_lon, min_lat, max_lon, max_lat)
    min_zoom = max(MIN_ZOOM, math.floor(opening_zoom) - ZOOM_OUT_LEVELS)
    # folium hands min/max zoom to tile layers only; without tiles the map itself must know them
    # (the marker cluster refuses a map without maxZoom).
    map_.options.update(min_zoom=min_zoom, max_zoom=MAX_ZOOM, zoom_snap=0.5)
    if tiles:
        folium.TileLayer(tiles=tiles, attr=f"底图：{escape(tiles.split('/')[2] if '//' in tiles else tiles)}",
                         name="底图", max_zoom=MAX_ZOOM, overlay=False, control=False).add_to(map_)

    tolerance = metres_per_pixel(centre_lat, MAX_ZOOM)
    grid_counts, how_by_level = {}, {}
    for level, grids in by_level.items():
        features, how = _grid_features(data, level, grids, tolerance)
        grid_counts[level], how_by_level[level] = len(features), how
        finest_area = level == max((lv for lv in by_level if lv < 5), default=level)
        show = level < 5 and not (finest_area and level > 1 and len(features) > FINE_GRIDS_SHOWN_UP_TO)
        GridLayer(features, style.grid_style(level), level, f"{LEVEL_NAMES.get(level, level)}（{len(features)}）",
                  show=show).add_to(map_)

    # Pollution sources, one layer per category present.
    statuses = [str(s) for s in SourceStatus]
    status_index = {s: i for i, s in enumerate(statuses)}
    rows_by_category: dict[int, list[list]] = defaultdict(list)
    for s in data.sources:
        index = status_index.setdefault(s.status, len(statuses))
        if index == len(statuses):
            statuses.append(s.status)
        rows_by_category[s.category_id].append([_round(s.lat), _round(s.lon), s.name, int(bool(s.is_key)), index])
    show_sources = len(data.sources) <= SOURCES_SHOWN_UP_TO
    legend_categories = []
    for i, (category_id, code, name) in enumerate(data.categories):
        rows = rows_by_category.get(category_id)
        if not rows:
            continue
        colour = style.source_colour(i, code)
        legend_categories.append((name, colour))
        SourceLayer(rows, name, colour, statuses, f"污染源·{name}（{len(rows)}）", show=show_sources).add_to(map_)

    # Cases registered in the period: clustered markers, plus a heat layer.
    case_rows, heat = [], []
    lookups: dict[str, dict[str, int]] = {"categories": {}, "states": {}, "sources": {}}

    def code_of(kind: str, value: str) -> int:
        return lookups[kind].setdefault(value, len(lookups[kind]))

    for case in data.cases:
        if case.is_open:
            kind = 1 if case.due_at is not None and case.due_at < now else 0
        else:
            kind = 2 if case.state == CaseState.CLOSED else 3
        lat, lon = _round(case.lat), _round(case.lon)
        case_rows.append([lat, lon, case.number, code_of("categories", case.category), code_of("states", case.state),
                          code_of("sources", case.source), f"{case.created_at:%Y-%m-%d %H:%M}", kind])
        heat.append([lat, lon])
    cluster = MarkerCluster(name=f"案件（{len(case_rows)}，聚合）", overlay=True, control=True, show=True,
                            options={"chunkedLoading": False, "showCoverageOnHover": False, "maxClusterRadius": 45,
                                     "disableClusteringAtZoom": CASES_UNCLUSTERED_FROM})
    cluster.add_to(map_)
    CaseMarkers(case_rows, {"kinds": [k for k, _, _ in style.CASE_KINDS],
                            **{name: list(values) for name, values in lookups.items()}}).add_to(cluster)
    if heat:
        zoom = opening_zoom
        # leaflet.heat weighs a point 1 / 2^(maxZoom - zoom); its maxZoom stays at the map's (a layer
        # maxZoom below the current zoom would grey the layer out in the layer control).
        weight = 2.0 ** -min(MAX_ZOOM - zoom, 12)
        HeatMap(heat, name=f"案件热力（{len(heat)}）", radius=HEAT_RADIUS, blur=14, min_opacity=0.3,
                max_zoom=MAX_ZOOM, max=_heat_max(heat, zoom) * weight, show=True).add_to(map_)

    # Stations, the air ones in the colour of their current AQI level (HJ 633-2012).
    if data.stations:
        StationLayer([_station_row(st) for st in data.stations], f"监测站点（{len(data.stations)}）").add_to(map_)

    folium.LayerControl(collapsed=False, position="topright").add_to(map_)
    notes = []
    if data.unlocated_cases:
        notes.append(f"另有 {data.unlocated_cases} 件案件无坐标，未上图")
    if len(data.sources) > SOURCES_SHOWN_UP_TO:
        notes.append(f"污染源 {len(data.sources):,} 个：在右侧图层中勾选类别显示")
    notes.append(f"生成于 {data.generated_at:%Y-%m-%d %H:%M}")
    legend = style.legend_html(sorted(by_level), legend_categories, {st.kind for st in data.stations}, notes)
    title = (f"<div class=\"eg-title\" id=\"eg-title\"><h1>{escape(data.title_place)} 网格化环境监管简报图</h1>"
             f"<p>统计期：{escape(data.period.label())}　案件 {len(data.cases)} 件　"
             f"网格 {sum(c for lv, c in grid_counts.items() if lv < 5)} 个</p></div>")
    PageOverlay(title + legend, style.PAGE_CSS).add_to(map_)
    PageScript(f"envgridBriefing.noteHeat({len(heat)});").add_to(map_)
    map_.fit_bounds([[min_lat, min_lon], [max_lat, max_lon]], padding=(20, 20))
    map_.envgrid_summary = {"grids": grid_counts, "simplified": how_by_level, "sources": len(data.sources),
                            "cases": len(case_rows), "stations": len(data.stations)}
    return map_


def _fit_zoom(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> float:
    """About the zoom Leaflet's fitBounds picks for the area in a ~1200 × 800 px map."""
    def y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_zoom = math.log2(1200 * 360 / (256 * max(max_lon - min_lon, 1e-6)))
    lat_zoom = math.log2(800 * 2 * math.pi / (256 * max(y(max_lat) - y(min_lat), 1e-9)))
    return max(MIN_ZOOM, min(MAX_ZOOM, math.floor(min(lon_zoom, lat_zoom) * 2) / 2))


def _heat_max(points: list[list[float]], zoom: float) -> float:
    """The heat layer's full-colour value: a high percentile of cases per heat cell at the opening zoom.

    leaflet.heat sums points into cells of radius/2 px and colours value/max; with max 1 (its default)
    a year of a district's cases is one red blob. Taken from the data, the hot spots stay hot spots.
    """
    lat = np.radians(np.array([p[0] for p in points]))
    lon = np.array([p[1] for p in points])
    scale = 256 * 2 ** zoom / (HEAT_RADIUS / 2)
    cells = np.stack([np.floor((lon + 180) / 360 * scale),
                      np.floor((1 - np.log(np.tan(lat) + 1 / np.cos(lat)) / np.pi) / 2 * scale)], axis=1)
    _, per_cell = np.unique(cells, axis=0, return_counts=True)
    return float(max(1.0, np.percentile(per_cell, 98) * HEAT_SPREAD))


def _station_row(st) -> list:
    """``[lat, lon, icon html, icon size, popup html, name]`` for briefing.js' station layer."""
    kind_name = STATION_KIND_NAMES.get(st.kind, st.kind)
    detail = ""
    if st.kind == "air":
        result = st.aqi
        level = result.level if result is not None else None
        colour = level.colour if level is not None else style.NO_DATA_COLOUR
        label = str(result.aqi) if level is not None else "—"
        if level is not None:
            primary = "、".join(str(p) for p in result.primary) or "—"
            detail = f"AQI {result.aqi}（{level.grade} {level.name}）<br>首要污染物：{escape(primary)}"
        else:
            detail = "无可用的小时数据"
        size = 26
    else:
        colour, label, size = style.STATION_COLOURS.get(st.kind, "#455a64"), "", 14
    extra = f" eg-station-{escape(st.kind)}" if st.kind != "air" else ""
    icon = (f"<div class=\"eg-station{extra}\" style=\"width:{size}px;height:{size}px;background:{colour};"
            f"color:{style.text_colour_on(colour)}\">{label}</div>")
    popup = (f"<div class=\"eg-popup\"><h4>{escape(st.name)}</h4><table><tr><th>类型</th><td>{kind_name}</td></tr>"
             f"<tr><th>MN</th><td>{escape(st.mn)}</td></tr>"
             + (f"<tr><th>空气质量</th><td>{detail}</td></tr>" if detail else "") + "</table></div>")
    return [_round(st.lat), _round(st.lon), icon, size + 4, popup, st.name]


def render_briefing_html(data: BriefingData, *, tiles: str | None = None, now: datetime | None = None) -> str:
    """One self-contained HTML page: every script and style inlined, nothing fetched unless ``tiles``."""
    map_ = build_briefing_map(data, tiles=tiles, now=now)
    inline_assets(map_)
    html = map_.get_root().render()
    title = f"{data.title_place} 网格化环境监管简报图 {data.period.label()}"
    return html.replace("<head>", f"<head>\n<title>{escape(title)}</title>", 1)
