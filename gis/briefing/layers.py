"""folium elements for the briefing's big layers: compact JSON in, Leaflet layers built by briefing.js.

folium's own ``GeoJson``/``CircleMarker`` write one block of JavaScript (or pretty-printed,
ASCII-escaped JSON) per feature; at 10,000 grids and 100,000 ledger points that is tens of
megabytes. These elements write one compact, UTF-8 JSON array per layer instead, and remain
folium ``Layer``s, so folium's ``LayerControl`` lists them and ``show`` works as usual.
"""
from __future__ import annotations

import json

from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template


def js_json(value) -> str:
    """Compact JSON that is safe inside ``<script>`` (no ``</script>``, no ``<!--``)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


class _DataLayer(Layer):
    """A layer whose rows travel in a ``<script type="application/json">`` block of the page body.

    The browser only scans such a block for its end tag; V8 parses it (``JSON.parse``, several
    times faster than a script literal) when briefing.js first shows the layer, so a hidden layer
    costs next to nothing when the page opens.
    """

    _template = Template("""
        {% macro html(this, kwargs) %}<script type="application/json" id="{{ this.get_name() }}_data">{{ this.data }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = envgridBriefing.{{ this.builder }}("{{ this.get_name() }}_data", {{ this.args }});
        {% endmacro %}
    """)
    builder = ""

    def __init__(self, data, args: dict, name: str, show: bool):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = type(self).__name__
        self.data, self.args = js_json(data), js_json(args)


class GridLayer(_DataLayer):
    """One grid level as a GeoJSON layer with popups (name, code, 四至, leaders)."""

    builder = "gridLayer"

    def __init__(self, features: list[dict], style: dict, level: int, name: str, show: bool = True):
        super().__init__({"type": "FeatureCollection", "features": features},
                         {"style": style, "level": int(level), "n": len(features)}, name, show)


class SourceLayer(_DataLayer):
    """One ledger category: ``[lat, lon, name, key, status index]`` rows."""

    builder = "sourceLayer"

    def __init__(self, rows: list[list], category: str, colour: str, statuses: list[str], name: str,
                 show: bool = True):
        super().__init__(rows, {"category": category, "colour": colour, "statuses": statuses, "n": len(rows)},
                         name, show)


class StationLayer(_DataLayer):
    """Monitoring stations as DivIcon markers (no folium ``Popup``: its template needs jQuery)."""

    builder = "stationLayer"

    def __init__(self, rows: list[list], name: str, show: bool = True):
        super().__init__(rows, {"n": len(rows)}, name, show)


class CaseMarkers(MacroElement):
    """Adds the period's cases to its parent ``MarkerCluster`` as CSS-styled DivIcon markers."""

    _template = Template("""
        {% macro html(this, kwargs) %}<script type="application/json" id="{{ this.get_name() }}_data">{{ this.rows }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            envgridBriefing.addCases({{ this._parent.get_name() }}, "{{ this.get_name() }}_data", {{ this.lookup }});
        {% endmacro %}
    """)

    def __init__(self, rows: list[list], lookup: dict):
        super().__init__()
        self._name = "CaseMarkers"
        self.rows, self.lookup = js_json(rows), js_json(lookup)


class PageScript(MacroElement):
    """Runs after everything else on the map: counts, then marks the page ready (for tests and benchmarks)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this.code }}
            envgridBriefing.ready({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, code: str = ""):
        super().__init__()
        self._name = "PageScript"
        self.code = code


class PageOverlay(MacroElement):
    """Static HTML over the map (title, legend) and the page's CSS."""

    _template = Template("""
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro html(this, kwargs) %}{{ this.html }}{% endmacro %}
    """)

    def __init__(self, html: str, css: str = ""):
        super().__init__()
        self._name = "PageOverlay"
        self.html, self.css = html, css
