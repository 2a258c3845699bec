"""Colours that mean the same thing wherever they are drawn: the app's map, the briefing page, KML.

Hex strings only (gis never imports Qt); desktop wraps them in ``QColor``. AQI level colours are
not here: HJ 633-2012 fixes them and they live with the levels in :mod:`gis.aqi`.
"""
from __future__ import annotations

#: Pollution-source category code (gis.domain.SOURCE_CATEGORIES) → colour. On the app's map the
#: symbol shape groups the categories (desktop/widgets/map_symbols.py); the colour tells them apart.
SOURCE_COLOURS: dict[str, str] = {
    "industrial": "#1f5fa8", "vocs": "#8e44ad", "boiler": "#5d4037", "sanluanwu": "#757575",
    "hazardous_waste": "#c62828", "medical": "#00897b", "catering": "#ef6c00", "auto_repair": "#3949ab",
    "construction": "#f9a825", "road_dust": "#a1887f", "material_yard": "#455a64", "water_source": "#0288d1",
    "livestock": "#689f38",
}
#: Categories a workspace added itself, by their position in the category list.
FALLBACK_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")

#: Monitoring stations that are not air stations (those take their AQI level's colour).
STATION_COLOURS: dict[str, str] = {"water": "#0277bd", "outlet": "#6d4c41"}
#: An air station without a usable hour.
NO_DATA_COLOUR = "#9e9e9e"

#: Grid outlines (colour, width in px) on pages drawn over any basemap or imagery (the briefing,
#: KML for Google Earth): dark and wider for the upper levels. The app's map has its own
#: user-styled level colours (desktop/widgets/map_layers.py).
GRID_OUTLINES: dict[int, tuple[str, float]] = {
    1: ("#b71c1c", 3.5), 2: ("#6a1b9a", 2.4), 3: ("#1565c0", 1.3), 4: ("#607d8b", 0.7), 5: ("#37474f", 1.0),
}


def source_colour(index: int, code: str) -> str:
    """The colour of the ``index``-th category of a workspace's list, whose code is ``code``."""
    return SOURCE_COLOURS.get(code, FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)])
