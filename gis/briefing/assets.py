"""Leaflet and plugin files bundled in ``resources/briefing``, inlined into the page.

folium elements name the scripts and styles they need in ``default_js``/``default_css`` as
``(name, CDN URL)`` pairs and render them as ``<script src>``/``<link href>`` tags. A briefing
must open on a machine without internet, so :func:`inline_assets` empties those lists on every
element of the map and puts the bundled files' text into the page head instead. A name we do
not bundle is an error (a new folium element must not quietly bring a CDN back); the few that
only serve icon markers (jQuery, Bootstrap, Font Awesome, awesome-markers) are dropped, since
the briefing draws every symbol with CSS (DivIcons) or on the canvas.
"""
from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

import folium
from branca.element import Element, Figure

ASSET_DIR = Path(__file__).resolve().parents[2] / "resources" / "briefing"

#: folium's asset name → bundled file, in the order they go into the page.
BUNDLED: dict[str, str] = {
    "leaflet_css": "leaflet.css",
    "markerclustercss": "MarkerCluster.css",
    "markerclusterdefaultcss": "MarkerCluster.Default.css",
    "leaflet": "leaflet.js",
    "markerclusterjs": "leaflet.markercluster.js",
    "leaflet-heat.js": "leaflet-heat.js",
}
#: Only for icon markers, which a briefing never uses.
UNUSED = frozenset({"jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
                    "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css"})
OWN_SCRIPT = "briefing.js"

_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\((['\"]?)images/([\w.-]+)\1\)")


class AssetError(RuntimeError):
    """A folium element asks for a script or style that is not bundled."""


@cache
def asset_text(file_name: str) -> str:
    """A bundled file ready to inline: no source-map comments, CSS images as data: URIs."""
    text = (ASSET_DIR / file_name).read_text(encoding="utf-8")
    text = _SOURCE_MAP.sub("", text)
    if file_name.endswith(".css"):
        text = _CSS_URL.sub(_data_uri, text)
    if "</script" in text.lower() or "</style" in text.lower():
        raise AssetError(f"{ASSET_DIR / file_name}: contains a closing tag and cannot be inlined")
    return text


def _data_uri(match: re.Match) -> str:
    path = ASSET_DIR / match.group(2)
    if not path.exists():  # the default marker icon: never used here, so never fetched
        return "none"
    return "url(data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii") + ")"


def _walk(element):
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def inline_assets(map_: folium.Map) -> list[str]:
    """Replace every CDN link the map's elements would render with the bundled file's text.

    Call after the map is complete and before rendering. Returns the files inlined, in order.
    """
    wanted: set[str] = {"leaflet", "leaflet_css"}
    for element in _walk(map_):
        for attribute in ("default_js", "default_css"):
            pairs = getattr(element, attribute, None)
            if not pairs:
                continue
            for name, url in pairs:
                if name in BUNDLED:
                    wanted.add(name)
                elif name not in UNUSED:
                    raise AssetError(f"{type(element).__name__} needs {name} ({url}), which is not bundled "
                                     f"in {ASSET_DIR}; add the file and a CREDITS entry")
            setattr(element, attribute, [])  # an instance attribute: the class lists stay as folium has them
    figure = map_.get_root()
    if not isinstance(figure, Figure):
        raise AssetError("the map must be inside a branca Figure before its assets are inlined")
    files = [BUNDLED[name] for name in BUNDLED if name in wanted] + [OWN_SCRIPT]
    blocks = []
    for file_name in files:
        tag = "style" if file_name.endswith(".css") else "script"
        blocks.append(f"<{tag}>/* {file_name} (bundled, see resources/briefing/CREDITS.md) */\n"
                      f"{asset_text(file_name)}\n</{tag}>")
    figure.header.add_child(Element("\n".join(blocks)), name="envgrid_inline_assets", index=0)
    return files


_EXTERNAL = re.compile(r"<(?:script|img|iframe)[^>]*\ssrc\s*=\s*[\"']?(?!data:)[^\s\"'>]+|<link[^>]*\shref\s*=|"
                       r"@import|url\(\s*[\"']?(?:https?:)?//", re.IGNORECASE)


def external_references(html: str) -> list[str]:
    """Tags and CSS rules in ``html`` that would load something from outside the file."""
    return [match.group(0)[:120] for match in _EXTERNAL.finditer(html)]
