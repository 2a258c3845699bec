"""Which basemaps exist: tile sources, the built-in list, and the user's basemap file.

A :class:`Basemap` is a stack of :class:`TileSource` layers drawn bottom first —
Tianditu needs two, the map (``vec_w``) and its labels (``cva_w``). A source is an
XYZ URL template (``{z}``, ``{x}``, ``{y}``, ``{-y}`` for TMS servers, ``{s}`` for a
subdomain, ``{tk}`` for the user's key) or an MBTiles file.

The user's own list (intranet tile servers, MBTiles files, the Tianditu key) lives
in ``basemaps.json`` in the user config folder — never in the workspace, which a
whole command center may share, so a personal key does not travel with it::

    {"tokens": {"tianditu": "0123abcd…"},
     "basemaps": [{"id": "intranet", "name": "局域网底图",
                   "layers": [{"url": "http://10.1.2.3/tiles/{z}/{x}/{y}.png", "max_zoom": 18}]},
                  {"id": "jincheng-offline", "name": "晋城离线底图",
                   "layers": [{"kind": "mbtiles", "url": "D:/maps/jincheng.mbtiles"}]}]}

GCJ-02 sources (Amap/Gaode) are marked: our data stay CGCS2000/WGS84 and are never
shifted, so over such a basemap everything lies 100–700 m off (DOMAIN.md).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

log = logging.getLogger(__name__)

GCJ02 = "GCJ-02"
WEB_MERCATOR = "EPSG:3857"
TIANDITU = "tianditu"
TOKEN_ENV = {TIANDITU: "ENVGRID_TIANDITU_TK"}  # deployment may set the key for everyone

_TDT = ("https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={tk}")
_TDT_SUBDOMAINS = tuple("01234567")
_TOKEN_IN_URL = re.compile(r"((?:tk|token|key|access_token)=)[^&]+", re.IGNORECASE)


class MissingTokenError(ValueError):
    """A template needs a key (``{tk}``) the user has not entered."""


@dataclass(frozen=True, slots=True)
class TileSource:
    id: str
    name: str
    url: str                       # XYZ template, or the MBTiles file path
    kind: str = "xyz"              # "xyz" or "mbtiles"
    subdomains: tuple[str, ...] = ()
    min_zoom: int = 0
    max_zoom: int = 18
    tile_size: int = 256
    crs: str = WEB_MERCATOR        # or GCJ02
    attribution: str = ""
    token: str = ""                # which key fills {tk}, e.g. "tianditu"

    @property
    def gcj02(self) -> bool:
        return self.crs == GCJ02

    def tile_url(self, z: int, x: int, y: int, tokens: dict[str, str] | None = None) -> str:
        if self.kind != "xyz":
            raise ValueError(f"{self.id} is an {self.kind} source, it has no URL per tile")
        url = self.url
        if "{tk}" in url:
            key = (tokens or {}).get(self.token or TIANDITU, "")
            if not key:
                raise MissingTokenError(f"{self.name} needs a {self.token or TIANDITU} key (tk)")
            url = url.replace("{tk}", key)
        if "{s}" in url:
            url = url.replace("{s}", self.subdomains[(x + y) % len(self.subdomains)] if self.subdomains else "")
        return (url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{-y}", str(2 ** z - 1 - y))
                .replace("{y}", str(y)))

    def cache_name(self) -> str:
        """Folder name of this source's disk cache: the id plus a hash of what it serves.

        The hash covers the template (without the key, which changes nothing served) or
        the file path, so pointing an id at another server never shows the old tiles.
        """
        ident = _TOKEN_IN_URL.sub(r"\1", self.url).replace("{tk}", "")
        digest = hashlib.sha1(f"{self.kind}|{ident}|{self.tile_size}".encode()).hexdigest()[:10]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.id).strip("_") or "source"
        return f"{slug[:40]}-{digest}"

    def to_json(self) -> dict:
        data = {"id": self.id, "name": self.name, "url": self.url, "kind": self.kind,
                "min_zoom": self.min_zoom, "max_zoom": self.max_zoom}
        for key, default in (("subdomains", ()), ("tile_size", 256), ("crs", WEB_MERCATOR),
                             ("attribution", ""), ("token", "")):
            value = getattr(self, key)
            if value != default:
                data[key] = list(value) if key == "subdomains" else value
        return data

    @classmethod
    def from_json(cls, data: dict, default_id: str = "source") -> TileSource:
        if not isinstance(data, dict) or not data.get("url"):
            raise ValueError(f"a tile source needs a 'url', got {data!r}")
        kind = str(data.get("kind", "mbtiles" if str(data["url"]).lower().endswith(".mbtiles") else "xyz"))
        if kind not in ("xyz", "mbtiles"):
            raise ValueError(f"tile source kind must be 'xyz' or 'mbtiles', got {kind!r}")
        subdomains = data.get("subdomains", ())
        return cls(id=str(data.get("id") or default_id), name=str(data.get("name") or data.get("id") or default_id),
                   url=str(data["url"]), kind=kind,
                   subdomains=tuple(subdomains),  # a string "abc" is three subdomains too
                   min_zoom=int(data.get("min_zoom", 0)), max_zoom=int(data.get("max_zoom", 18)),
                   tile_size=int(data.get("tile_size", 256)), crs=str(data.get("crs", WEB_MERCATOR)),
                   attribution=str(data.get("attribution", "")), token=str(data.get("token", "")))


@dataclass(frozen=True, slots=True)
class Basemap:
    id: str
    name: str
    layers: tuple[TileSource, ...] = ()
    builtin: bool = False

    @property
    def gcj02(self) -> bool:
        return any(layer.gcj02 for layer in self.layers)

    @property
    def attribution(self) -> str:
        return " ".join(dict.fromkeys(layer.attribution for layer in self.layers if layer.attribution))

    def missing_tokens(self, tokens: dict[str, str]) -> list[str]:
        return sorted({layer.token or TIANDITU for layer in self.layers
                       if "{tk}" in layer.url and not tokens.get(layer.token or TIANDITU)})

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "layers": [layer.to_json() for layer in self.layers]}

    @classmethod
    def from_json(cls, data: dict) -> Basemap:
        if not isinstance(data, dict) or not data.get("id"):
            raise ValueError(f"a basemap needs an 'id', got {data!r}")
        basemap_id = str(data["id"])
        layers = tuple(TileSource.from_json(layer, f"{basemap_id}-{n}") for n, layer in enumerate(data.get("layers", ())))
        return cls(basemap_id, str(data.get("name") or basemap_id), layers)


NO_BASEMAP = Basemap("none", "无底图", (), builtin=True)


def _tianditu(layer: str, title: str, max_zoom: int = 18) -> TileSource:
    return TileSource(f"tianditu-{layer}", title, _TDT % (layer, layer), subdomains=_TDT_SUBDOMAINS,
                      min_zoom=1, max_zoom=max_zoom, attribution="© 天地图 GS(2024)0568号", token=TIANDITU)


def builtin_basemaps() -> tuple[Basemap, ...]:
    """None, Tianditu (vector, imagery, terrain, each with its label layer), OSM, Amap (GCJ-02)."""
    return (
        NO_BASEMAP,
        Basemap("tianditu-vec", "天地图矢量", (_tianditu("vec", "天地图矢量"), _tianditu("cva", "天地图矢量注记")), True),
        Basemap("tianditu-img", "天地图影像", (_tianditu("img", "天地图影像"), _tianditu("cia", "天地图影像注记")), True),
        Basemap("tianditu-ter", "天地图地形", (_tianditu("ter", "天地图地形", 14), _tianditu("cta", "天地图地形注记", 14)),
                True),
        Basemap("osm", "OpenStreetMap", (TileSource("osm", "OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                                                    max_zoom=19, attribution="© OpenStreetMap contributors"),), True),
        Basemap("amap", "高德地图", (TileSource(
            "amap", "高德地图", "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}", subdomains=tuple("1234"), min_zoom=3, max_zoom=18, crs=GCJ02,
            attribution="© 高德地图"),), True),
    )


def mbtiles_basemap(path: str | Path, name: str | None = None) -> Basemap:
    """A basemap of one MBTiles file, its zoom range read from the file."""
    from gis.tiles import MBTilesReader

    path = Path(path)
    reader = MBTilesReader(path)
    try:
        low, high = reader.zoom_range()
        title = name or reader.metadata().get("name") or path.stem
    finally:
        reader.close()
    basemap_id = f"mbtiles-{path.stem}"
    return Basemap(basemap_id, title, (TileSource(basemap_id, title, str(path), kind="mbtiles",
                                                  min_zoom=low, max_zoom=high),))


@dataclass
class BasemapConfig:
    """The user's keys and own basemaps (see the module docstring for the file)."""

    tokens: dict[str, str] = field(default_factory=dict)
    custom: list[Basemap] = field(default_factory=list)

    def effective_tokens(self) -> dict[str, str]:
        tokens = {name: os.environ[var] for name, var in TOKEN_ENV.items() if os.environ.get(var)}
        tokens.update({k: v for k, v in self.tokens.items() if v})
        return tokens

    def basemaps(self) -> list[Basemap]:
        builtin = builtin_basemaps()
        ids = {b.id for b in builtin}
        return list(builtin) + [b for b in self.custom if b.id not in ids]

    def find(self, basemap_id: str) -> Basemap | None:
        return next((b for b in self.basemaps() if b.id == basemap_id), None)

    def add(self, basemap: Basemap) -> Basemap:
        """Add or replace a custom basemap; the id gets a suffix if a built-in one has it."""
        if any(b.id == basemap.id for b in builtin_basemaps()):
            basemap = replace(basemap, id=f"{basemap.id}-custom")
        self.custom = [b for b in self.custom if b.id != basemap.id] + [basemap]
        return basemap

    def to_json(self) -> dict:
        return {"tokens": dict(self.tokens), "basemaps": [b.to_json() for b in self.custom]}

    @classmethod
    def from_json(cls, data) -> BasemapConfig:
        config = cls()
        if not isinstance(data, dict):
            return config
        config.tokens = {str(k): str(v) for k, v in (data.get("tokens") or {}).items()}
        for item in data.get("basemaps") or ():
            try:
                config.custom.append(Basemap.from_json(item))
            except (TypeError, ValueError) as exc:  # one bad entry must not hide the others
                log.warning("ignoring basemap entry: %s", exc)
        return config


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("EnvGrid", appauthor=False)) / "basemaps.json"


def read_basemap_config(path: str | Path | None = None) -> BasemapConfig:
    """The user's basemap file; a missing or broken file gives the defaults (and a log line)."""
    path = Path(path) if path is not None else default_config_path()
    try:
        return BasemapConfig.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return BasemapConfig()
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s (%s); using the built-in basemaps only", path, exc)
        return BasemapConfig()


def write_basemap_config(config: BasemapConfig, path: str | Path | None = None) -> Path:
    path = Path(path) if path is not None else default_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)  # a crash mid-write never leaves half a file
    return path


def redact_url(url: str) -> str:
    """The URL with any key parameter blanked, for logs and messages."""
    return _TOKEN_IN_URL.sub(r"\1***", url)
