"""Web Mercator tile arithmetic and MBTiles files, without Qt.

XYZ ("slippy map") tiles: zoom ``z`` splits the EPSG:3857 square into 2^z × 2^z
tiles, ``x`` from the antimeridian eastwards, ``y`` from the north pole
southwards. MBTiles stores the same tiles with TMS rows, counted from the south:
``row = 2^z - 1 - y``. Everything here takes and returns XYZ ``y``; the flip
happens only at the SQL boundary.
"""
from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

EARTH_RADIUS_M = 6378137.0
WORLD_HALF_M = math.pi * EARTH_RADIUS_M   # 20037508.34…: the square runs from -this to +this
WORLD_M = 2 * WORLD_HALF_M
MAX_TILES_PER_VIEW = 1024  # a 8000 px wall at dpr 2 needs ~600; beyond that something is wrong

__all__ = [
    "WORLD_HALF_M",
    "MBTilesReader",
    "resolution_for_zoom",
    "tile_bounds",
    "tile_range",
    "tiles_for_view",
    "tms_row",
    "write_mbtiles",
    "zoom_for_resolution",
]


def resolution_for_zoom(z: int, tile_size: int = 256) -> float:
    """Metres per tile pixel at zoom ``z`` (156543.03 at z 0 for 256-px tiles)."""
    return WORLD_M / (tile_size * 2 ** z)


def zoom_for_resolution(res: float, dpr: float = 1.0, *, tile_size: int = 256,
                        min_zoom: int = 0, max_zoom: int = 22) -> int:
    """The tile zoom whose pixels best match the screen's device pixels.

    ``res`` is metres per logical pixel; a HiDPI screen (``dpr`` 2) has pixels half
    as large, so it asks for one zoom level more and stays sharp. The nearest zoom in
    log2 terms is taken: tiles are shown between 0.71× and 1.41× their size. Beyond
    ``max_zoom`` the caller over-zooms (scales the deepest tiles up).
    """
    if not (res > 0 and math.isfinite(res)):
        raise ValueError(f"resolution must be a positive number of metres per pixel, got {res!r}")
    device_res = res / max(float(dpr), 1e-3)
    z = math.floor(math.log2(WORLD_M / (tile_size * device_res)) + 0.5)
    return int(min(max(z, min_zoom), max_zoom))


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Mercator (min_x, min_y, max_x, max_y) of XYZ tile ``z/x/y`` (x may lie outside 0…2^z-1)."""
    span = WORLD_M / 2 ** z
    min_x = -WORLD_HALF_M + x * span
    max_y = WORLD_HALF_M - y * span
    return min_x, max_y - span, min_x + span, max_y


def tile_range(extent: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """Inclusive (x0, x1, y0, y1) of the tiles touching a mercator extent.

    Rows are clamped to the world; columns are not (a view across the antimeridian
    gets columns < 0 or ≥ 2^z, which the caller wraps with ``x % 2^z``).
    """
    min_x, min_y, max_x, max_y = extent
    n = 2 ** z
    span = WORLD_M / n
    x0 = math.floor((min_x + WORLD_HALF_M) / span)
    x1 = math.ceil((max_x + WORLD_HALF_M) / span) - 1
    y0 = max(0, math.floor((WORLD_HALF_M - max_y) / span))
    y1 = min(n - 1, math.ceil((WORLD_HALF_M - min_y) / span) - 1)
    return x0, max(x0, x1), y0, y1


def tiles_for_view(extent: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    """(x, y) of the tiles covering ``extent``, nearest to its centre first (they load first)."""
    x0, x1, y0, y1 = tile_range(extent, z)
    if y1 < y0:
        return []
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    tiles = [(x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]
    tiles.sort(key=lambda t: (t[0] - cx) ** 2 + (t[1] - cy) ** 2)
    return tiles[:MAX_TILES_PER_VIEW]


def tms_row(z: int, y: int) -> int:
    """MBTiles/TMS ``tile_row`` of XYZ row ``y`` (and back: the flip is its own inverse)."""
    return 2 ** z - 1 - y


class MBTilesReader:
    """Read-only access to an MBTiles 1.x file (``tiles`` table or view, ``metadata``).

    One sqlite3 connection shared by the tile worker threads under a lock: reads are
    short, and opening a connection per thread would leave files open after the
    threads are gone.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"MBTiles file not found: {self.path}")
        uri = self.path.resolve().as_uri() + "?mode=ro"
        self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        try:
            names = {row[0] for row in self._connection.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        except sqlite3.DatabaseError as exc:
            self._connection.close()
            raise ValueError(f"{self.path} is not an MBTiles (SQLite) file: {exc}") from exc
        if "tiles" not in names:
            self._connection.close()
            raise ValueError(f"{self.path} has no 'tiles' table; not an MBTiles file")
        self._has_metadata = "metadata" in names

    def metadata(self) -> dict[str, str]:
        if not self._has_metadata:
            return {}
        with self._lock:
            return {str(k): str(v) for k, v in self._connection.execute("SELECT name, value FROM metadata")}

    def zoom_range(self) -> tuple[int, int]:
        """(min, max) zoom from the metadata, else from the tiles themselves."""
        meta = self.metadata()
        try:
            return int(meta["minzoom"]), int(meta["maxzoom"])
        except (KeyError, ValueError):
            with self._lock:
                low, high = self._connection.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
            return (int(low), int(high)) if low is not None else (0, 0)

    def read_tile(self, z: int, x: int, y: int) -> bytes | None:
        """The stored image bytes of XYZ tile ``z/x/y``; None where the file has none."""
        with self._lock:
            row = self._connection.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, tms_row(z, y))).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def write_mbtiles(path: str | Path, tiles: Mapping[tuple[int, int, int], bytes] | Iterator,
                  metadata: Mapping[str, str] | None = None) -> Path:
    """Write XYZ-addressed tiles (``{(z, x, y): png_bytes}``) to a new MBTiles file."""
    path = Path(path)
    items = list(tiles.items() if isinstance(tiles, Mapping) else tiles)
    meta = {"name": path.stem, "format": "png", "type": "baselayer", "version": "1.1"}
    if items:
        zooms = [z for (z, _, _), _ in items]
        meta.update(minzoom=str(min(zooms)), maxzoom=str(max(zooms)))
    meta.update(metadata or {})
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        connection.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
                           " tile_data BLOB)")
        connection.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        connection.executemany("INSERT INTO metadata VALUES (?, ?)", list(meta.items()))
        connection.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                               [(z, x, tms_row(z, y), sqlite3.Binary(data)) for (z, x, y), data in items])
    return path
