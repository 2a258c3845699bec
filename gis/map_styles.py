"""How the map of a workspace looks: basemap, layer order, visibility, opacity, colours.

Saved with the workspace (``settings`` key ``map_styles``, JSON) so every seat of a
command center opens the same map. Only what the user changed is stored; ``None``
means "the layer's own default", so a default improved in a later version still
reaches workspaces that never touched it. Reading is tolerant: unknown keys are
ignored and bad values fall back, because a style must never keep a workspace from
opening.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from gis.grid_statistics import GRID_STATISTICS

SETTING_KEY = "map_styles"
VERSION = 1
_HEX = set("0123456789abcdefABCDEF")


def _colour(value) -> str | None:
    text = str(value or "").strip()
    if text.startswith("#") and len(text) in (7, 9) and set(text[1:]) <= _HEX:
        return text.lower()
    return None


def _number(value, low: float, high: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return min(max(number, low), high) if math.isfinite(number) else None


def _flag(value) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass
class ClassStyle:
    """One legend class (a source category, a case state, an AQI level)."""

    colour: str | None = None
    visible: bool | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in (("colour", self.colour), ("visible", self.visible)) if v is not None}

    @classmethod
    def from_json(cls, data) -> ClassStyle:
        data = data if isinstance(data, dict) else {}
        return cls(_colour(data.get("colour")), _flag(data.get("visible")))


@dataclass
class LayerStyle:
    visible: bool = True
    opacity: float = 1.0
    colour: str | None = None   # line colour of grid levels
    width: float | None = None  # line width of grid levels, logical px
    classes: dict[str, ClassStyle] = field(default_factory=dict)
    fill_by: str | None = None  # grid levels: fill by this statistic (gis.grid_statistics keys)

    def klass(self, key: str) -> ClassStyle:
        return self.classes.setdefault(key, ClassStyle())

    def to_json(self) -> dict:
        data: dict = {"visible": self.visible, "opacity": round(self.opacity, 3)}
        if self.colour is not None:
            data["colour"] = self.colour
        if self.width is not None:
            data["width"] = self.width
        if self.fill_by is not None:
            data["fill_by"] = self.fill_by
        classes = {k: c.to_json() for k, c in self.classes.items() if c.to_json()}
        if classes:
            data["classes"] = classes
        return data

    @classmethod
    def from_json(cls, data) -> LayerStyle:
        data = data if isinstance(data, dict) else {}
        opacity = _number(data.get("opacity"), 0.0, 1.0)
        classes = data.get("classes") if isinstance(data.get("classes"), dict) else {}
        fill_by = data.get("fill_by")
        return cls(visible=data.get("visible") is not False, opacity=1.0 if opacity is None else opacity,
                   colour=_colour(data.get("colour")), width=_number(data.get("width"), 0.1, 20.0),
                   classes={str(k): ClassStyle.from_json(v) for k, v in classes.items()},
                   fill_by=fill_by if fill_by in GRID_STATISTICS else None)


@dataclass
class MapStyles:
    basemap: str = "none"
    basemap_def: dict | None = None  # a custom basemap's definition, so other seats can use it too
    order: list[str] = field(default_factory=list)  # layer keys, bottom first; [] = the default order
    layers: dict[str, LayerStyle] = field(default_factory=dict)

    def layer(self, key: str) -> LayerStyle:
        return self.layers.setdefault(key, LayerStyle())

    def ordered(self, keys: list[str]) -> list[str]:
        """``keys`` (the default order, bottom first) rearranged by the saved order.

        Layers the saved order does not know (new in this version, or a level the
        workspace gained) keep their default place relative to their neighbours.
        """
        known = set(keys)
        result = [k for k in dict.fromkeys(self.order) if k in known]
        placed = set(result)
        for n, key in enumerate(keys):
            if key in placed:
                continue
            below = next((k for k in reversed(keys[:n]) if k in placed), None)
            result.insert(result.index(below) + 1 if below is not None else 0, key)
            placed.add(key)
        return result

    def to_json(self) -> dict:
        data = {"version": VERSION, "basemap": self.basemap, "order": list(self.order),
                "layers": {k: v.to_json() for k, v in self.layers.items()}}
        if self.basemap_def:
            data["basemap_def"] = self.basemap_def
        return data

    @classmethod
    def from_json(cls, data) -> MapStyles:
        if not isinstance(data, dict):
            return cls()
        layers = data.get("layers") if isinstance(data.get("layers"), dict) else {}
        order = data.get("order") if isinstance(data.get("order"), list) else []
        basemap_def = data.get("basemap_def") if isinstance(data.get("basemap_def"), dict) else None
        return cls(basemap=str(data.get("basemap") or "none"), basemap_def=basemap_def,
                   order=[str(k) for k in order], layers={str(k): LayerStyle.from_json(v) for k, v in layers.items()})


def read_map_styles(connection) -> MapStyles:
    from gis.storage.info import get_setting

    return MapStyles.from_json(get_setting(connection, SETTING_KEY))


def write_map_styles(connection, styles: MapStyles) -> None:
    from gis.storage.info import put_setting

    put_setting(connection, SETTING_KEY, styles.to_json())
