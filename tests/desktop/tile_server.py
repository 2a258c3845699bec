"""A tile server on 127.0.0.1 for the basemap tests: generated PNG tiles, a slow one, a missing one.

``http.server`` in a daemon thread; every request is counted by path, so a test can tell
a disk-cache hit (no request) from a download. Tiles are made on demand: ``solid`` gives
each tile one colour derived from its address (easy pixel checks), ``terrain`` a
seamless relief with water, fields and hills plus a label (for screenshots), and
``labels`` a transparent overlay with place names (like Tianditu's cva_w).
"""
from __future__ import annotations

import math
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen

TILE = re.compile(r"^/(?P<layer>\w+)/(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)\.png$")
WORLD_HALF = math.pi * 6378137.0


def solid_colour(z: int, x: int, y: int) -> QColor:
    """A colour unique enough per tile: neighbours always differ in red and green."""
    return QColor(40 + (x * 53) % 200, 40 + (y * 97) % 200, 60 + (z * 31) % 180)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def solid_tile(z: int, x: int, y: int, size: int = 256) -> bytes:
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(solid_colour(z, x, y))
    return png_bytes(image)


_RAMP = np.array([(0.00, (96, 154, 206)), (0.34, (150, 196, 232)), (0.36, (226, 222, 196)),
                  (0.45, (196, 222, 160)), (0.62, (150, 196, 120)), (0.76, (206, 190, 140)),
                  (0.90, (170, 150, 120)), (1.00, (245, 245, 240))], dtype=object)


def terrain_tile(z: int, x: int, y: int, size: int = 256) -> bytes:
    """Hypsometric colours of a made-up relief (continuous across tiles and zooms), roads, a label."""
    span = 2 * WORLD_HALF / 2 ** z
    px = (np.arange(size) + 0.5) / size
    mx = -WORLD_HALF + (x + px[None, :]) * span
    my = WORLD_HALF - (y + px[:, None]) * span
    h = np.full((size, size), 0.52)
    for wavelength, amplitude, phase in ((40_000, 0.20, 0.3), (13_000, 0.12, 1.1), (4_000, 0.06, 2.0),
                                         (1_500, 0.03, 0.7)):
        u, v = mx / wavelength, my / wavelength
        h += amplitude * np.sin(u * 6.283 + phase) * np.cos(v * 5.1 - phase)
        if wavelength > 10_000:
            h += amplitude * 0.4 * np.sin(u * 2.9 - v * 4.7 + phase)
    h = np.clip(h, 0, 1)
    stops = np.array([s for s, _ in _RAMP], dtype=float)
    colours = np.array([c for _, c in _RAMP], dtype=float)
    rgb = np.stack([np.interp(h, stops, colours[:, k]) for k in range(3)], axis=-1)
    # Hill shading from the north-west, in metres of relief per pixel whatever the zoom.
    shade = 1 + np.clip((np.gradient(h, axis=1) - np.gradient(h, axis=0)) / (span / size) * 300, -0.15, 0.15)
    rgb = np.clip(rgb * shade[..., None], 0, 255).astype(np.uint8)
    argb = np.empty((size, size, 4), np.uint8)
    argb[..., 0], argb[..., 1], argb[..., 2], argb[..., 3] = rgb[..., 2], rgb[..., 1], rgb[..., 0], 255
    image = QImage(argb.tobytes(), size, size, size * 4, QImage.Format.Format_ARGB32).copy()
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if z >= 10:  # a road grid every 3 km, main roads every 12 km, as a city map would have
        left, top = -WORLD_HALF + x * span, WORLD_HALF - y * span
        for spacing, pen in ((3000, QPen(QColor(255, 255, 255, 200), 1.5 if z >= 13 else 0.8)),
                             (12000, QPen(QColor(250, 200, 90, 230), 3.0 if z >= 13 else 2.0))):
            first = math.floor(left / spacing) * spacing
            for k in range(int(span / spacing) + 2):
                sx = (first + k * spacing - left) / span * size
                painter.setPen(pen)
                painter.drawLine(QPointF(sx, 0), QPointF(sx, size))
            first = math.floor((top - span) / spacing) * spacing
            for k in range(int(span / spacing) + 2):
                sy = (top - (first + k * spacing)) / span * size
                painter.drawLine(QPointF(0, sy), QPointF(size, sy))
    painter.setPen(QPen(QColor(120, 120, 120, 60), 1, Qt.PenStyle.DashLine))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.setPen(QColor(70, 70, 70, 140))
    painter.drawText(QRectF(4, 2, size - 8, 16), Qt.AlignmentFlag.AlignLeft, f"{z}/{x}/{y}")
    painter.end()
    return png_bytes(image)


def label_tile(z: int, x: int, y: int, size: int = 256) -> bytes:
    """A transparent tile with a made-up place name, like a label layer (cva_w)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setFamilies(["Noto Sans CJK SC", "sans-serif"])
    font.setPointSizeF(10)
    names = "东西南北中山水河桥湾岭坡庄村镇"
    name = names[(x * 7 + y * 3) % len(names)] + names[(x + y * 5) % len(names)] + "村"
    path = QPainterPath()
    path.addText(QPointF(90 + (x * 37) % 60, 110 + (y * 53) % 60), font, name)
    painter.strokePath(path, QPen(QColor(255, 255, 255, 230), 3))
    painter.fillPath(path, QColor(60, 60, 60))
    painter.end()
    return png_bytes(image)


MAKERS = {"solid": solid_tile, "terrain": terrain_tile, "labels": label_tile}


class TileServer:
    def __init__(self, *, slow: set = frozenset(), missing: set = frozenset(), delay: float = 3.0):
        self.slow, self.missing, self.delay = set(slow), set(missing), delay
        self.counts: Counter = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server._lock:
                    server.counts[self.path] += 1
                match = TILE.match(self.path)
                if match is None or match["layer"] not in MAKERS:
                    self.send_error(404)
                    return
                z, x, y = int(match["z"]), int(match["x"]), int(match["y"])
                if (z, x, y) in server.missing:
                    self.send_error(404)
                    return
                if (z, x, y) in server.slow:
                    server._stop.wait(server.delay)
                body = MAKERS[match["layer"]](z, x, y)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to do

            def log_message(self, *_args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, layer: str = "solid") -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{layer}/{{z}}/{{x}}/{{y}}.png"

    def count(self, z: int, x: int, y: int, layer: str = "solid") -> int:
        with self._lock:
            return self.counts[f"/{layer}/{z}/{x}/{y}.png"]

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

