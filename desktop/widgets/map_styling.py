"""Saved styles (``gis.map_styles``) onto map layers, and the legend of each layer.

Static layers are immutable, so a style change makes restyled shallow copies — the
projected geometry arrays are shared, only the style value differs — from the layers
as loaded; live layers (pins, stations) are restyled in place. Applying is always
from the loaded layers, so styles never compound.

A grid level can be filled by a statistic (``LayerStyle.fill_by``: open cases, overdue
cases, sources per grid, from ``gis.grid_statistics``): its restyled copy gets graduated
fill classes (``GridLayer.set_fill_values``), and its fill layer shows them in the legend.
"""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from desktop.widgets.legend import LegendEntry, hex_of, rgba_of
from desktop.widgets.map_layers import (
    GridFillLayer,
    GridLabelLayer,
    GridLayer,
    MapLayer,
    PointLayer,
)
from gis.grid_statistics import GRID_STATISTICS
from gis.map_styles import LayerStyle, MapStyles


def is_live(layer: MapLayer) -> bool:
    return bool(getattr(layer, "live", False))


def legend_entries(layer: MapLayer) -> list[LegendEntry]:
    """What the layer panel shows under (or as the icon of) a layer."""
    if hasattr(layer, "legend"):
        rows = layer.legend(2.0) if not is_live(layer) else layer.legend()
        # Layers that draw their own legend give (label, QImage) rows.
        return [row if isinstance(row, LegendEntry) else LegendEntry(f"row-{n}", row[0], "icon", (0, 0, 0, 255),
                                                                     icon=row[1])
                for n, row in enumerate(rows)]
    if isinstance(layer, GridLayer):
        style = layer.style
        return [LegendEntry("", "边界线", "line", rgba_of(style.colour), style.width, dashed=style.dashed, editable=True)]
    if isinstance(layer, GridFillLayer):
        fills = layer.grids.fill_legend(2.0) if layer.grids.fill_state() is not None else []
        if fills:  # graduated: one swatch per class, "未办结案件数 ≤ 3 件", "4 – 7 件" …
            name, unit = GRID_STATISTICS.get(getattr(layer.grids, "fill_by", None) or "", ("", ""))
            texts = ["0" if text == "≤ 0" else text for text, _icon in fills]  # "≤ 0" of a count is 0
            return [LegendEntry(f"fill-{n}", f"{name if n == 0 else ''} {text} {unit}".strip(), "icon",
                                (0, 0, 0, 255), icon=icon) for n, (text, (_t, icon)) in enumerate(zip(texts, fills))]
        return [LegendEntry("", "底色", "fill", rgba_of(layer.grids.style.fill or "#ffffff"), editable=True)]
    if isinstance(layer, GridLabelLayer):
        return [LegendEntry("", "名称注记", "text", rgba_of(layer.grids.style.colour))]
    if isinstance(layer, PointLayer):
        counts = np.bincount(layer.classes, minlength=len(layer.palette)) if len(layer.classes) else \
            np.zeros(len(layer.palette), dtype=np.int64)
        markers = getattr(layer, "class_markers", {})
        return [LegendEntry(name, name, markers.get(i, (layer.marker, layer.size))[0], tuple(rgba),
                            markers.get(i, (layer.marker, layer.size))[1], editable=True, count=int(counts[i]))
                for i, (name, rgba) in enumerate(layer.palette) if counts[i]]
    return []


def fill_by_statistic(layer: GridLayer, key: str | None, stats: dict | None) -> GridLayer:
    """``layer``, or a copy of it filled by statistic ``key`` (``stats[key]``: grid id → value)."""
    values = (stats or {}).get(key) if key else None
    if values is None:
        return layer
    filled = copy.copy(layer)  # the loaded layer keeps no fill: styles never compound
    filled.fill_by = key
    refill(filled, values)
    return filled


def refill(layer: GridLayer, values: dict) -> None:
    """Re-class a filled grid layer from new values (grid id → value; missing: 0), in place.

    The fill is swapped as one object, so a render job under way sees the old or the new one.
    """
    ids = layer.ids.tolist()
    layer.set_fill_values(ids, [values.get(i, 0.0) for i in ids])


def filled_grid_layers(layers) -> list[GridLayer]:
    """The grid layers on the map that are filled by a statistic, each once (a fill layer with a
    colour of its own holds a copy of its grid layer, see ``restyle``)."""
    found: dict[int, GridLayer] = {}
    for layer in layers:
        grids = layer.grids if isinstance(layer, GridFillLayer) else layer
        if isinstance(grids, GridLayer) and getattr(grids, "fill_by", None) and grids.fill_state() is not None:
            found[id(grids)] = grids
    return list(found.values())


def restyle(layer: MapLayer, style: LayerStyle | None, grids: dict[int, GridLayer]) -> MapLayer:
    """``layer`` as ``style`` says (a copy if it changes); ``grids`` maps original → restyled grid layers."""
    if is_live(layer):
        _restyle_live(layer, style)
        return layer
    if isinstance(layer, GridLayer):
        if style is None or (style.colour is None and style.width is None):
            return layer
        changed = copy.copy(layer)
        changed.style = replace(layer.style, colour=style.colour or layer.style.colour,
                                width=style.width if style.width is not None else layer.style.width)
        return changed
    if isinstance(layer, GridFillLayer):
        source = grids.get(id(layer.grids), layer.grids)
        if style is not None and style.colour:
            source = copy.copy(source)
            source.style = replace(source.style, fill=style.colour)
        if source is layer.grids:
            return layer
        changed = copy.copy(layer)
        changed.grids = source
        name = GRID_STATISTICS.get(getattr(source, "fill_by", None) or "", ("",))[0]
        if name and source.fill_state() is not None:
            changed.title = f"{source.title}填色：{name}"
        return changed
    if isinstance(layer, GridLabelLayer):
        source = grids.get(id(layer.grids))
        if source is None:
            return layer
        changed = copy.copy(layer)
        changed.grids = source  # labels take the colour of their grid lines
        return changed
    if isinstance(layer, PointLayer) and style is not None and style.classes:
        palette = [(name, rgba_of(style.classes[name].colour, rgba[3]) if name in style.classes
                    and style.classes[name].colour else rgba) for name, rgba in layer.palette]
        if palette != layer.palette:
            changed = copy.copy(layer)
            changed.palette = palette
            return changed
    return layer


def _restyle_live(layer, style: LayerStyle | None) -> None:
    classes = style.classes if style is not None else {}
    for entry in layer.legend():
        klass = classes.get(entry.key)
        if klass is None:
            continue  # the layer's own default (closed cases hidden …)
        if klass.visible is not None and entry.checkable and klass.visible != entry.visible:
            layer.set_class_visible(entry.key, klass.visible)
        if klass.colour and entry.editable and hex_of(entry.colour) != klass.colour:
            layer.set_class_colour(entry.key, klass.colour)


def apply_styles(layers: list[MapLayer], styles: MapStyles, stats: dict | None = None) -> list[MapLayer]:
    """The loaded ``layers`` (bottom first) restyled and put in the saved order.

    ``stats``: ``gis.grid_statistics`` values for grid levels filled by a statistic.
    """
    grids: dict[int, GridLayer] = {}
    styled: dict[str, MapLayer] = {}
    for layer in layers:  # grid lines first: fills and labels follow their grid's restyled copy
        if isinstance(layer, GridLayer):
            style = styles.layers.get(layer.key)
            new = restyle(layer, style, grids)
            new = fill_by_statistic(new if new is not layer else layer, style.fill_by if style else None, stats)
            grids[id(layer)] = new
            styled[layer.key] = new
    for layer in layers:
        if layer.key not in styled:
            styled[layer.key] = restyle(layer, styles.layers.get(layer.key), grids)
    order = styles.ordered([layer.key for layer in layers])
    # Live layers are drawn above the static ones whatever the order says; keep the list honest.
    return [styled[k] for k in order if not is_live(styled[k])] + [styled[k] for k in order if is_live(styled[k])]
