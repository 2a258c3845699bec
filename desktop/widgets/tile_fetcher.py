"""Getting tiles without ever making the map wait for them.

The GUI thread only does bookkeeping: ``want()`` notes which tiles the view needs,
and a 0-ms timer turns that into work. Disk-cache and MBTiles reads and every PNG
decode run in a small QThreadPool; network requests go through one
QNetworkAccessManager (asynchronous by nature, so it lives on the GUI thread) with
a per-request transfer timeout and at most ``max_requests`` in flight. A tile that
is missing (404, not in the MBTiles file) is not asked for again for a while; one
that failed (timeout, network error) is retried later with a growing back-off. A
request for a tile that has scrolled out of view is dropped before it is sent.
"""
from __future__ import annotations

import functools
import logging
import math
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QRectF, QRunnable, QThreadPool, QTimer, QUrl, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from desktop.widgets.tile_cache import TileDiskCache
from gis.tile_sources import MissingTokenError, TileSource, redact_url
from gis.tiles import MBTilesReader

log = logging.getLogger(__name__)

USER_AGENT = b"EnvGrid/0.1 (desktop GIS; +offline tile cache)"
MISSING_RETRY_S = 600.0  # a 404 / empty MBTiles cell: the server said so, ask again in ten minutes
FAILED_RETRY_S = 5.0     # timeouts and network errors: 5, 10, 20 … s, at most 5 min
MAX_RETRY_S = 300.0


@functools.lru_cache(maxsize=256)
def cache_name(source: TileSource) -> str:
    return source.cache_name()


def tile_key(source: TileSource, z: int, x: int, y: int) -> tuple[str, int, int, int]:
    return cache_name(source), z, x, y


@dataclass(frozen=True, slots=True)
class Tile:
    """A decoded tile, cropped to its visible pixels: a label layer's tile is mostly
    transparent, and blending 60 000 empty pixels per tile per frame is what makes panning
    over Tianditu's cva_w slow. ``crop`` is the kept part in the full tile's pixels."""

    image: QImage
    crop: QRectF
    size: int  # the full tile's width in pixels

    @classmethod
    def of(cls, image: QImage) -> Tile:
        image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        size = image.width()
        full = QRectF(0, 0, image.width(), image.height())
        if not image.hasAlphaChannel() or image.isNull():
            return cls(image, full, size)
        w, h = image.width(), image.height()
        rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, :w * 4]
        alpha = rows.reshape(h, w, 4)[..., 3]  # premultiplied ARGB32 is B, G, R, A in memory
        ys, xs = np.nonzero(alpha.any(axis=1))[0], np.nonzero(alpha.any(axis=0))[0]
        if not len(ys):
            return cls(QImage(), QRectF(), size)  # all transparent: nothing to draw
        x0, x1, y0, y1 = int(xs[0]), int(xs[-1]) + 1, int(ys[0]), int(ys[-1]) + 1
        if (x1 - x0) * (y1 - y0) > 0.6 * w * h:
            return cls(image, full, size)
        return cls(image.copy(x0, y0, x1 - x0, y1 - y0), QRectF(x0, y0, x1 - x0, y1 - y0), size)

    def draw(self, painter: QPainter, target: QRectF, source: QRectF | None = None) -> None:
        """Draw the part ``source`` (full-tile pixels; all by default) into ``target``."""
        source = source or QRectF(0, 0, self.size, self.size)
        part = source.intersected(self.crop)
        if part.isEmpty():
            return
        kx, ky = target.width() / source.width(), target.height() / source.height()
        painter.drawImage(QRectF(target.x() + (part.x() - source.x()) * kx, target.y() + (part.y() - source.y()) * ky,
                                 part.width() * kx, part.height() * ky),
                          self.image, part.translated(-self.crop.x(), -self.crop.y()))


class _Signals(QObject):
    done = Signal(object, object, str)  # key, Tile or None, "ok" / "miss" / "bad"


class _LocalJob(QRunnable):
    """Disk cache or MBTiles read plus decode, off the GUI thread."""

    def __init__(self, loader: TileLoader, key, source: TileSource, data: bytes | None = None):
        super().__init__()
        self.key, self.source, self.data = key, source, data
        self.loader, self.cache, self.signals = loader, loader.cache, loader._signals

    def run(self) -> None:
        _, z, x, y = self.key
        data, from_network = self.data, self.data is not None
        try:
            if data is None and self.source.kind == "mbtiles":
                data = self.loader.mbtiles(self.source.url).read_tile(z, x, y)
            elif data is None and self.cache is not None:
                data = self.cache.get(self.key[0], z, x, y)
        except (OSError, ValueError, sqlite3.Error) as exc:  # an unreadable file is a missing tile, not a crash
            log.warning("tile %s: %s", self.key, exc)
            data = None
        if data is None:
            self.signals.done.emit(self.key, None, "miss")
            return
        image = QImage.fromData(data)
        if image.isNull():  # an HTML error page served as a tile (bad key, quota)
            self.signals.done.emit(self.key, None, "bad")
            return
        if from_network and self.cache is not None:
            self.cache.put(self.key[0], z, x, y, data)
        self.signals.done.emit(self.key, Tile.of(image), "ok")


class TileLoader(QObject):
    tileReady = Signal(object)          # key
    retryDue = Signal()                 # a failed tile may be asked for again: repaint to do so
    sourceProblem = Signal(str, str)    # source name, message for the status bar

    def __init__(self, cache: TileDiskCache | None = None, *, tokens: dict[str, str] | None = None,
                 timeout_ms: int = 8000, max_requests: int = 8, memory_tiles: int = 384, parent=None):
        super().__init__(parent)
        self.cache = cache
        self.tokens = dict(tokens or {})
        self.timeout_ms = timeout_ms
        self.max_requests = max_requests
        self.memory_tiles = memory_tiles
        self.failed_retry_s = FAILED_RETRY_S
        self._memory: OrderedDict = OrderedDict()
        self._pending: dict = {}           # key → source, while a job or request is under way
        self._retry_at: dict = {}          # key → (monotonic time, attempts)
        self._wanted: set = set()
        self._queue: deque = deque()       # (key, source) waiting for a network slot
        self._in_flight: dict = {}         # key → QNetworkReply
        self._readers: dict[str, MBTilesReader] = {}
        self._readers_lock = threading.Lock()
        self.stats = {"disk": 0, "network": 0, "failed": 0, "missing": 0}
        self._signals = _Signals()
        self._signals.done.connect(self._on_done)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(3)
        self._nam = QNetworkAccessManager(self)
        self._pump_timer = QTimer(self)
        self._pump_timer.setSingleShot(True)
        self._pump_timer.setInterval(0)
        self._pump_timer.timeout.connect(self._pump)

    # -- what the view asks --------------------------------------------------------------
    def image(self, key) -> Tile | None:
        image = self._memory.get(key)
        if image is not None:
            self._memory.move_to_end(key)
        return image

    def peek(self, key) -> Tile | None:
        """Like :meth:`image` without counting as a use (for fallbacks from other zooms)."""
        return self._memory.get(key)

    def mbtiles(self, path: str) -> MBTilesReader:
        """The open reader of an MBTiles file (called from the worker threads)."""
        with self._readers_lock:
            reader = self._readers.get(path)
            if reader is None:
                reader = self._readers[path] = MBTilesReader(path)
            return reader

    def is_pending(self, key) -> bool:
        return key in self._pending

    def want(self, tiles: list[tuple[TileSource, int, int, int]]) -> None:
        """The tiles the view needs now, most important first; returns at once."""
        self._wanted = set()
        now = time.monotonic()
        self.memory_tiles = max(self.memory_tiles, 2 * len(tiles))
        for source, z, x, y in tiles:
            key = tile_key(source, z, x, y)
            self._wanted.add(key)
            if key in self._memory or key in self._pending:
                continue
            retry = self._retry_at.get(key)
            if retry is not None and retry[0] > now:
                continue
            self._pending[key] = source
            self._pool.start(_LocalJob(self, key, source))
        self._pump_timer.start()

    # -- results ---------------------------------------------------------------------------
    def _on_done(self, key, image, status: str) -> None:
        source = self._pending.get(key)
        if status == "ok":
            self._pending.pop(key, None)
            self._retry_at.pop(key, None)
            self._memory[key] = image
            while len(self._memory) > self.memory_tiles:
                self._memory.popitem(last=False)
            self.tileReady.emit(key)
        elif status == "miss" and source is not None and source.kind == "xyz":
            if key in self._wanted:
                self._queue.append((key, source))  # not on disk: to the network
                self._pump_timer.start()
            else:
                self._pending.pop(key, None)
        else:
            self._pending.pop(key, None)
            self._give_up(key, missing=status == "miss")
            if status == "bad" and source is not None:
                self.sourceProblem.emit(source.name, "瓦片服务返回的不是图片（密钥无效或超出配额？）")

    def _give_up(self, key, *, missing: bool) -> None:
        attempts = self._retry_at.get(key, (0.0, 0))[1] + 1
        delay = MISSING_RETRY_S if missing else min(self.failed_retry_s * 2 ** (attempts - 1), MAX_RETRY_S)
        self._retry_at[key] = (time.monotonic() + delay, attempts)
        self.stats["missing" if missing else "failed"] += 1
        if not missing:  # a view that stays put still gets its tile once the server is back
            QTimer.singleShot(int(delay * 1000) + 50, self, self.retryDue.emit)

    # -- network ---------------------------------------------------------------------------
    def _pump(self) -> None:
        while self._queue and len(self._in_flight) < self.max_requests:
            key, source = self._queue.popleft()
            if key not in self._wanted:  # scrolled away before its turn
                self._pending.pop(key, None)
                continue
            try:
                url = source.tile_url(*key[1:], self.tokens)
            except MissingTokenError as exc:
                self._pending.pop(key, None)
                self._retry_at[key] = (math.inf, 1)
                self.sourceProblem.emit(source.name, str(exc))
                continue
            request = QNetworkRequest(QUrl(url))
            request.setTransferTimeout(self.timeout_ms)
            request.setRawHeader(b"User-Agent", USER_AGENT)
            reply = self._nam.get(request)
            self._in_flight[key] = reply
            self.stats["network"] += 1
            reply.finished.connect(functools.partial(self._on_reply, key, source, reply))

    def _on_reply(self, key, source: TileSource, reply: QNetworkReply) -> None:
        self._in_flight.pop(key, None)
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        error = reply.error()
        if error == QNetworkReply.NetworkError.NoError and status in (200, 203, None):
            self._pool.start(_LocalJob(self, key, source, bytes(reply.readAll().data())))
        else:
            self._pending.pop(key, None)
            missing = status in (204, 404, 410)
            self._give_up(key, missing=missing)
            if status in (401, 403):
                self.sourceProblem.emit(source.name, f"瓦片服务拒绝访问（HTTP {status}），请检查密钥")
            elif not missing:
                log.info("tile %s: %s (%s)", redact_url(reply.url().toString()), reply.errorString(), status)
        reply.deleteLater()
        self._pump()

    # -- lifetime --------------------------------------------------------------------------
    def forget(self) -> None:
        """Drop memory and retry bookkeeping (after a key or a source changed)."""
        self._memory.clear()
        self._retry_at.clear()

    def shutdown(self) -> None:
        self._pump_timer.stop()
        self._queue.clear()
        for reply in list(self._in_flight.values()):
            reply.abort()
        self._in_flight.clear()
        self._pool.waitForDone(5000)
        with self._readers_lock:
            for reader in self._readers.values():
                reader.close()
            self._readers.clear()
