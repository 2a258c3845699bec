"""Colours and the legend of the briefing map: the app's palettes (gis.palettes) as Leaflet styles and CSS."""
from __future__ import annotations

from html import escape

from gis.aqi import LEVELS as AQI_LEVELS
from gis.domain import LEVEL_NAMES
from gis.palettes import GRID_OUTLINES, NO_DATA_COLOUR, STATION_COLOURS, source_colour

__all__ = ["CASE_KINDS", "GRID_STYLES", "NO_DATA_COLOUR", "PAGE_CSS", "STATION_COLOURS", "grid_style", "legend_html",
           "source_colour", "text_colour_on"]


def _outline(level: int, opacity: float, **fill) -> dict:
    colour, weight = GRID_OUTLINES[level]
    return {"color": colour, "weight": weight, "opacity": opacity, "fill": True, "fillOpacity": 0.0, **fill}


#: Leaflet styles of the grid outlines: darker and wider for the upper levels, so they read without a basemap.
GRID_STYLES: dict[int, dict] = {
    1: _outline(1, 0.95, fillColor="#fffdf5", fillOpacity=0.35),
    2: _outline(2, 0.9),
    3: _outline(3, 0.85),
    4: _outline(4, 0.8),
    5: _outline(5, 0.9, radius=3, fillColor="#ffffff", fillOpacity=1.0),
}
FALLBACK_GRID_STYLE = GRID_STYLES[4]

#: Case markers: (key, label, colour); the index is the ``kind`` the page's data carries.
CASE_KINDS = (
    ("open", "办理中", "#e53935"),
    ("overdue", "已超期", "#4a148c"),
    ("closed", "已销号", "#2e7d32"),
    ("other", "误报/重复", "#90a4ae"),
)

FONT_STACK = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC','WenQuanYi Micro Hei',sans-serif"

PAGE_CSS = f"""
html, body {{ font-family: {FONT_STACK}; }}
.leaflet-container {{ background: #eef1f4; font-family: {FONT_STACK}; }}
.eg-popup h4 {{ margin: 0 0 4px; font-size: 14px; }}
.eg-popup table {{ border-collapse: collapse; font-size: 12px; }}
.eg-popup th {{ text-align: left; color: #555; font-weight: normal; padding: 1px 8px 1px 0; white-space: nowrap;
  vertical-align: top; }}
.eg-popup td {{ padding: 1px 0; }}
.eg-case {{ border-radius: 50%; border: 2px solid #fff; box-shadow: 0 0 2px rgba(0,0,0,.6); }}
{"".join(f".eg-case-{key} {{ background: {colour}; }}" for key, _, colour in CASE_KINDS)}
.eg-cluster div {{ width: 100%; height: 100%; border-radius: 50%; background: rgba(69, 39, 160, .82);
  border: 2px solid #fff; box-shadow: 0 0 3px rgba(0,0,0,.5); display: flex; align-items: center;
  justify-content: center; color: #fff; font: bold 12px/1 {FONT_STACK}; box-sizing: border-box; }}
.eg-station {{ display: flex; align-items: center; justify-content: center; border-radius: 50%;
  border: 2px solid #263238; font: bold 11px/1 {FONT_STACK}; color: #000; box-shadow: 0 0 3px rgba(0,0,0,.5); }}
.eg-station-dark {{ color: #fff; }}
.eg-station-water {{ border-radius: 2px; transform: rotate(45deg); }}
.eg-station-outlet {{ border-radius: 2px; }}
/* Above the map's markers (600) and tooltips (650), under its popups (700) and controls. */
.eg-title {{ position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 690;
  background: rgba(255,255,255,.94); padding: 8px 18px; border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,.35);
  text-align: center; pointer-events: none; }}
.eg-title h1 {{ margin: 0; font-size: 20px; color: #1a237e; letter-spacing: 1px; }}
.eg-title p {{ margin: 2px 0 0; font-size: 13px; color: #333; }}
.eg-legend {{ position: absolute; bottom: 24px; left: 10px; z-index: 690; background: rgba(255,255,255,.94);
  padding: 8px 12px; border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,.35); font-size: 12px; line-height: 18px;
  max-height: calc(100% - 120px); overflow-y: auto; }}
.eg-legend h4 {{ margin: 6px 0 2px; font-size: 13px; }}
.eg-legend h4:first-child {{ margin-top: 0; }}
.eg-legend i {{ display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -2px; }}
.eg-legend i.line {{ height: 0; border-top-style: solid; vertical-align: 4px; width: 18px; }}
.eg-legend i.dot {{ border-radius: 50%; border: 1px solid #fff; box-shadow: 0 0 1px #333; }}
.eg-legend .note {{ color: #666; font-size: 11px; margin-top: 6px; }}
"""


def grid_style(level: int) -> dict:
    return dict(GRID_STYLES.get(level, FALLBACK_GRID_STYLE))


def text_colour_on(hex_colour: str) -> str:
    """Black or white, whichever reads on the background (AQI 重度/严重 are dark)."""
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"


def legend_html(levels: list[int], categories: list[tuple[str, str]], station_kinds: set[str], notes: list[str]) -> str:
    """The legend box: grid levels, ledger categories present, case kinds, AQI levels (HJ 633-2012)."""
    parts = ["<div class=\"eg-legend\" id=\"eg-legend\"><h4>网格</h4>"]
    for level in levels:
        s = grid_style(level)
        if level == 5:
            parts.append(f"<div><i class=\"dot\" style=\"background:#fff;border:1px solid {s['color']}\"></i>"
                         f"{LEVEL_NAMES[5]}</div>")
        else:
            parts.append(f"<div><i class=\"line\" style=\"border-top-color:{s['color']};"
                         f"border-top-width:{max(1, round(s['weight']))}px\"></i>{LEVEL_NAMES.get(level, level)}</div>")
    if categories:
        parts.append("<h4>污染源（红圈为重点源）</h4>")
        parts += [f"<div><i class=\"dot\" style=\"background:{colour}\"></i>{escape(name)}</div>"
                  for name, colour in categories]
    parts.append("<h4>案件</h4><div><i class=\"dot\" style=\"background:rgba(69,39,160,.82)\"></i>聚合（数字为件数）</div>")
    parts += [f"<div><i class=\"dot\" style=\"background:{colour}\"></i>{label}</div>" for _, label, colour in CASE_KINDS]
    parts.append("<div><i style=\"background:linear-gradient(90deg,blue,lime,yellow,red)\"></i>案件热力</div>")
    if "air" in station_kinds:
        parts.append("<h4>空气质量 AQI（HJ 633）</h4>")
        parts += [f"<div><i class=\"dot\" style=\"background:{level.colour}\"></i>{level.name}"
                  f"（{level.lowest}–{level.highest}）</div>" for level in AQI_LEVELS]
        parts.append(f"<div><i class=\"dot\" style=\"background:{NO_DATA_COLOUR}\"></i>无数据</div>")
    if "water" in station_kinds:
        parts.append(f"<div><i style=\"background:{STATION_COLOURS['water']};transform:rotate(45deg)\"></i>水质自动站</div>")
    if "outlet" in station_kinds:
        parts.append(f"<div><i style=\"background:{STATION_COLOURS['outlet']}\"></i>企业排口</div>")
    parts += [f"<div class=\"note\">{escape(note)}</div>" for note in notes]
    parts.append("</div>")
    return "".join(parts)
