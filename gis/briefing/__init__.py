"""Offline briefing map (简报图): one self-contained HTML file made with folium.

``write_briefing(store, out, period, grid_code=None)`` reads the workspace and writes the page;
Leaflet and its plugins are inlined from ``resources/briefing`` so it opens without internet.
"""
from __future__ import annotations

from pathlib import Path

from gis.briefing.data import BriefingData, BriefingError, Period, read_briefing_data
from gis.briefing.page import build_briefing_map, render_briefing_html

__all__ = ["BriefingData", "BriefingError", "Period", "build_briefing_map", "read_briefing_data",
           "render_briefing_html", "write_briefing"]


def write_briefing(store, out: str | Path, period: Period, *, grid_code: str | None = None,
                   tiles: str | None = None) -> BriefingData:
    """Read the workspace and write the briefing page to ``out`` (UTF-8); returns what was drawn."""
    with store.engine.connect() as connection:
        data = read_briefing_data(connection, period, grid_code)
    html = render_briefing_html(data, tiles=tiles)
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return data
