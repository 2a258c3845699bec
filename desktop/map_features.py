"""Features of a workspace by kind and id: names for links, tooltip texts, map markers.

Also ``build_indexes``: everything the map's interaction derives from the data
(hit-testing, search, per-grid counts), plain Python that a worker thread runs
while the GUI shows the first map.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from desktop.widgets.identify_panel import rollup_counts
from desktop.widgets.map_hit import Hit, MapHitIndex
from desktop.widgets.map_overlays import MapMarker
from desktop.widgets.search_box import SearchIndex
from gis.domain import LEVEL_NAMES, OPEN_STATES

MARKER_CACHE = 64  # grid outlines converted to mercator, kept for hovering back and forth


@dataclass
class MapIndexes:
    hits: MapHitIndex
    search: SearchIndex
    counts: dict[int, tuple[int, int]]  # grid id → (sources, open cases), sub-grids included
    features: FeatureLookup


def _stations(data) -> list:
    return list(getattr(data, "stations", None) or ())


def category_names(data) -> dict[int, str]:
    return {cat_id: name for cat_id, _code, name in data.source_categories}


def build_indexes(data) -> MapIndexes:
    return MapIndexes(MapHitIndex.from_features(data.grids, data.sources, data.cases, _stations(data)),
                      SearchIndex.from_features(data.grids, data.sources, data.cases, _stations(data),
                                                category_names(data)),
                      rollup_counts(data.grids, data.sources, data.cases), FeatureLookup(data))


class FeatureLookup:
    """Read-only views of one workspace's grids, sources, cases and stations."""

    def __init__(self, data):
        self.data = data
        self.by_kind = {"source": {s.id: s for s in data.sources}, "case": {c.id: c for c in data.cases},
                        "station": {s.id: s for s in _stations(data)}}
        self.categories = category_names(data)
        self._markers: dict[int, MapMarker] = {}

    def feature(self, kind: str, feature_id: int):
        return self.data.grid(feature_id) if kind == "grid" else self.by_kind.get(kind, {}).get(feature_id)

    def label(self, kind: str, feature_id: int) -> str:
        """One line naming a feature, as links and status messages show it."""
        feature = self.feature(kind, feature_id)
        if feature is None:
            return ""
        if kind == "grid":
            return f"{LEVEL_NAMES.get(feature.level, '网格')} {feature.name}"
        if kind == "case":
            return f"案件 {feature.number}（{feature.state}）"
        return f"{'污染源' if kind == 'source' else '监测站点'} {feature.name}"

    def tooltip(self, hit: Hit, counts: dict[int, tuple[int, int]] | None = None) -> str:
        feature = self.feature(hit.kind, hit.id)
        if feature is None:
            return ""
        if hit.kind == "grid":
            sources, open_cases = (counts or {}).get(hit.id, (0, 0))
            return (f"{feature.name}\n{LEVEL_NAMES.get(feature.level, '')} · {feature.code}\n"
                    f"污染源 {sources} 家 · 未办结案件 {open_cases} 件")
        if hit.kind == "source":
            key = " · 重点" if getattr(feature, "is_key", False) else ""
            return f"{feature.name}\n污染源 · {self.categories.get(feature.category_id, '')}{key}"
        if hit.kind == "case":
            overdue = feature.state in OPEN_STATES and feature.due_at is not None and feature.due_at < datetime.now()
            return f"案件 {feature.number}\n{feature.category} · {feature.state}" + ("（已超期）" if overdue else "")
        return f"{feature.name}\n监测站点 · {getattr(feature, 'mn', '')}"

    def marker(self, kind: str, feature_id: int) -> MapMarker | None:
        feature = self.feature(kind, feature_id)
        if feature is None:
            return None
        if kind != "grid":
            return MapMarker.from_lonlat_point(feature.lon, feature.lat)
        if feature_id not in self._markers:
            if len(self._markers) >= MARKER_CACHE:
                self._markers.clear()
            self._markers[feature_id] = MapMarker.from_lonlat_geometry(feature.boundary)
        return self._markers[feature_id]
