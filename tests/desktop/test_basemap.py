"""Basemaps: XYZ tiles from a local server, the disk cache, MBTiles, GCJ-02 and key notices."""
from __future__ import annotations

import os
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from tile_server import TileServer, solid_colour, solid_tile

from desktop.widgets.basemap import PLACEHOLDER, BasemapController
from desktop.widgets.map_canvas import MapCanvas
from desktop.widgets.map_viewport import MapViewport
from desktop.widgets.tile_cache import TileDiskCache
from desktop.widgets.tile_fetcher import tile_key
from gis.tile_sources import GCJ02, Basemap, BasemapConfig, TileSource, mbtiles_basemap
from gis.tiles import resolution_for_zoom, tile_bounds, write_mbtiles

Z = 12
X, Y = 3332, 1616  # the view is centred on this tile's north-west corner (near Jincheng)
NW, NE, SW, SE = (Z, X - 1, Y - 1), (Z, X, Y - 1), (Z, X - 1, Y), (Z, X, Y)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("ENVGRID_TIANDITU_TK", raising=False)


@pytest.fixture
def canvas(qtbot):
    widget = MapCanvas()
    qtbot.addWidget(widget)
    widget.resize(512, 512)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _centre_on_corner(canvas: MapCanvas, z: int, x: int, y: int, zoom_offset: int = 0) -> None:
    """One tile pixel per screen pixel, the tile corner exactly in the middle of the canvas."""
    min_x, _, _, max_y = tile_bounds(z, x, y)
    res = resolution_for_zoom(z) / 2 ** zoom_offset
    canvas.set_viewport(MapViewport(min_x, max_y, res, canvas.width(), canvas.height(), canvas.devicePixelRatioF()))


def _controller(canvas, tmp_path, basemap: Basemap, *, timeout_ms: int = 8000) -> BasemapController:
    controller = BasemapController(canvas, config=BasemapConfig(), cache=TileDiskCache(tmp_path / "tiles"),
                                   timeout_ms=timeout_ms, parent=canvas)
    controller.set_basemap(basemap)
    return controller


def _xyz(url: str, **kwargs) -> Basemap:
    return Basemap("local", "本地瓦片", (TileSource("local", "本地瓦片", url, **kwargs),))


def _pixel(canvas, x: int, y: int) -> QColor:
    return canvas.grab().toImage().pixelColor(x, y)


def test_tiles_arrive_while_slow_and_missing_ones_never_block(qtbot, canvas, tmp_path):
    with TileServer(slow={SE}, missing={SW}, delay=4.0) as server:
        source_basemap = _xyz(server.url())
        ticks = []
        heartbeat = QTimer()
        heartbeat.setInterval(10)
        heartbeat.timeout.connect(lambda: ticks.append(time.monotonic()))
        heartbeat.start()
        started = time.monotonic()
        controller = _controller(canvas, tmp_path, source_basemap, timeout_ms=1000)
        _centre_on_corner(canvas, *SE)
        loader = controller.loader
        loader.failed_retry_s = 1.0  # the first back-off (5 s in the app)
        source = source_basemap.layers[0]
        qtbot.waitUntil(lambda: all(loader.image(tile_key(source, *t)) is not None for t in (NW, NE)), timeout=5000)
        arrived = time.monotonic() - started
        assert arrived < 3.0, "the fast tiles waited for the slow one"
        assert loader.image(tile_key(source, *SE)) is None and loader.is_pending(tile_key(source, *SE))
        assert ticks, "the event loop did not run while tiles loaded"

        # The tiles are drawn where they belong; the missing and the slow one show the placeholder.
        assert _pixel(canvas, 128, 128) == solid_colour(*NW)
        assert _pixel(canvas, 384, 128) == solid_colour(*NE)
        assert _pixel(canvas, 128, 384) == PLACEHOLDER
        assert _pixel(canvas, 384, 384) == PLACEHOLDER

        # The slow tile times out (1 s) and is given up for now; the UI ticked all along.
        before = len(ticks)
        qtbot.waitUntil(lambda: not loader.is_pending(tile_key(source, *SE)), timeout=4000)
        assert loader.stats["failed"] >= 1 and loader.stats["missing"] == 1
        # ≥ 1 s of waiting at 10 ms a tick: lenient, since other jobs may share this machine's 2 cores.
        assert len(ticks) - before >= 20, "the event loop stalled while the slow tile hung"
        server.slow.clear()  # the server recovers
        # Neither tile is asked for again on every repaint: "retry later", not a request storm …
        for _ in range(3):
            canvas.repaint()
            qtbot.wait(20)
        assert server.count(*SW) == 1 and server.count(*SE) == 1
        # … and the view, left alone, gets the timed-out tile when its back-off runs out.
        qtbot.waitUntil(lambda: _pixel(canvas, 384, 384) == solid_colour(*SE), timeout=5000)
        assert server.count(*SE) == 2 and server.count(*SW) == 1  # a 404 waits much longer
        heartbeat.stop()
        controller.shutdown()


def test_second_load_comes_from_the_disk_cache(qtbot, canvas, tmp_path):
    with TileServer() as server:
        basemap = _xyz(server.url())
        source = basemap.layers[0]
        first = _controller(canvas, tmp_path, basemap)
        _centre_on_corner(canvas, *SE)
        qtbot.waitUntil(lambda: all(first.loader.image(tile_key(source, *t)) for t in (NW, NE, SW, SE)), timeout=5000)
        requests = server.total()
        assert server.count(*NW) == 1
        first.shutdown()

        second = _controller(canvas, tmp_path, basemap)  # a new session: empty memory, same disk cache
        canvas.update()
        qtbot.waitUntil(lambda: all(second.loader.image(tile_key(source, *t)) for t in (NW, NE, SW, SE)), timeout=5000)
        assert server.total() == requests  # not one more request
        assert _pixel(canvas, 384, 384) == solid_colour(*SE)
        cache_dir = tmp_path / "tiles" / source.cache_name()
        assert (cache_dir / str(Z) / str(X) / str(Y)).is_file()
        second.shutdown()


def test_disk_cache_evicts_the_least_recently_used(tmp_path):
    cache = TileDiskCache(tmp_path / "c", max_bytes=16_000)
    for n in range(5):
        cache.put("src", 1, n, 0, b"x" * 3000)
        path = cache.path("src", 1, n, 0)
        os.utime(path, (1_000_000 + n, 1_000_000 + n))  # written in order, a second apart
    assert cache.get("src", 1, 0, 0) is not None  # used now: the newest
    cache.put("src", 1, 9, 0, b"y" * 3000)
    assert cache.size_bytes() <= 0.9 * 16_000
    assert cache.get("src", 1, 0, 0) is not None  # kept: recently read
    assert cache.get("src", 1, 1, 0) is None and cache.get("src", 1, 2, 0) is None  # the oldest went
    assert cache.evictions >= 2


def test_mbtiles_tile_is_drawn_at_its_place(qtbot, canvas, tmp_path):
    z, x, y = 6, 52, 25
    tiles = {(z, tx, ty): solid_tile(z, tx, ty) for tx in (x - 1, x) for ty in (y - 1, y)}
    path = write_mbtiles(tmp_path / "offline.mbtiles", tiles, {"name": "离线测试"})
    controller = _controller(canvas, tmp_path, mbtiles_basemap(path))
    _centre_on_corner(canvas, z, x, y)
    source = controller.current().layers[0]
    qtbot.waitUntil(lambda: all(controller.loader.image(tile_key(source, *t)) for t in tiles), timeout=5000)
    # TMS rows are flipped on reading: the northern tile (smaller y) is at the top of the screen.
    assert _pixel(canvas, 128, 128) == solid_colour(z, x - 1, y - 1)
    assert _pixel(canvas, 384, 128) == solid_colour(z, x, y - 1)
    assert _pixel(canvas, 128, 384) == solid_colour(z, x - 1, y)
    assert _pixel(canvas, 384, 384) == solid_colour(z, x, y)
    # Closer than the file's deepest zoom: the same tiles, stretched.
    _centre_on_corner(canvas, z, x, y, zoom_offset=1)
    canvas.repaint()
    assert _pixel(canvas, 200, 200) == solid_colour(z, x - 1, y - 1)
    assert _pixel(canvas, 300, 300) == solid_colour(z, x, y)
    # Outside the file: nothing is asked of any server and nothing breaks.
    _centre_on_corner(canvas, z, x + 10, y)
    canvas.repaint()
    qtbot.wait(100)
    assert controller.loader.stats["network"] == 0
    controller.shutdown()


def test_gcj02_basemap_is_marked_and_warns(qtbot, tmp_path):
    canvas = MapCanvas()  # never shown: nothing is fetched from Amap
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.zoom_to_bbox((112.80, 35.45, 112.90, 35.55))
    controller = BasemapController(canvas, config=BasemapConfig(), cache=TileDiskCache(tmp_path / "t"))
    with qtbot.waitSignal(controller.noticeChanged) as notice:
        controller.set_basemap("amap")
    assert controller.current().gcj02
    assert "GCJ-02" in notice.args[0] and "未做偏移" in notice.args[0] and "米" in notice.args[0]
    with qtbot.waitSignal(controller.noticeChanged) as cleared:
        controller.set_basemap("none")
    assert cleared.args[0] == "" and canvas.basemap() is None


def test_tianditu_without_a_key_asks_for_one_and_fetches_nothing(qtbot, canvas, tmp_path):
    controller = _controller(canvas, tmp_path, BasemapConfig().find("tianditu-vec"))
    assert "密钥" in controller.notice()
    canvas.repaint()
    assert controller._loader is None or controller.loader.stats["network"] == 0
    with qtbot.waitSignal(controller.noticeChanged):
        controller.set_token("tianditu", "test-key", save=False)
    assert controller.notice() == ""


def test_gcj02_local_source_draws_with_a_warning(qtbot, canvas, tmp_path):
    with TileServer() as server:
        basemap = _xyz(server.url(), crs=GCJ02)
        controller = _controller(canvas, tmp_path, basemap)
        _centre_on_corner(canvas, *SE)
        assert "GCJ-02" in controller.notice()
        qtbot.waitUntil(lambda: _pixel(canvas, 128, 128) == solid_colour(*NW), timeout=5000)
        controller.shutdown()


def test_sparse_label_tiles_are_cropped_and_drawn_in_place(qapp):
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QImage, QPainter

    from desktop.widgets.tile_fetcher import Tile

    label = QImage(256, 256, QImage.Format.Format_ARGB32)
    label.fill(Qt.GlobalColor.transparent)
    painter = QPainter(label)
    painter.fillRect(100, 40, 30, 10, QColor("#ff0000"))
    painter.end()
    tile = Tile.of(label)
    assert tile.crop == QRectF(100, 40, 30, 10) and tile.image.size().width() == 30
    assert Tile.of(QImage(256, 256, QImage.Format.Format_RGB32)).crop == QRectF(0, 0, 256, 256)  # opaque: whole
    empty = QImage(256, 256, QImage.Format.Format_ARGB32)
    empty.fill(Qt.GlobalColor.transparent)
    assert Tile.of(empty).crop.isEmpty()
    # Drawn at twice the size, the red bar lands at twice its position.
    out = QImage(512, 512, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(QColor("#ffffff"))
    painter = QPainter(out)
    tile.draw(painter, QRectF(0, 0, 512, 512))
    Tile.of(empty).draw(painter, QRectF(0, 0, 512, 512))
    painter.end()
    assert out.pixelColor(230, 90) == QColor("#ff0000") and out.pixelColor(190, 90) == QColor("#ffffff")
    assert out.pixelColor(230, 70) == QColor("#ffffff")


def test_label_layer_is_drawn_over_the_base_layer(qtbot, canvas, tmp_path):
    with TileServer() as server:
        basemap = Basemap("stack", "叠加", (TileSource("base", "底图", server.url()),
                                            TileSource("labels", "注记", server.url("labels"))))
        controller = _controller(canvas, tmp_path, basemap)
        _centre_on_corner(canvas, *SE)
        loader = controller.loader
        qtbot.waitUntil(lambda: all(loader.image(tile_key(source, *t)) for source in basemap.layers
                                    for t in (NW, NE, SW, SE)), timeout=5000)
        labels = loader.image(tile_key(basemap.layers[1], *NW))
        assert 0 < labels.crop.width() < 256  # cropped to its text
        image = canvas.grab().toImage()
        # The base colour shows around the label, the label's dark text somewhere in its crop.
        assert image.pixelColor(5, 5) == solid_colour(*NW)
        crop = labels.crop
        inside = [image.pixelColor(x, y) for x in range(int(crop.left()), int(crop.right()))
                  for y in range(int(crop.top()), int(crop.bottom()))]
        assert any(c.red() < 100 and c.green() < 100 and c.blue() < 100 for c in inside)
        controller.shutdown()
