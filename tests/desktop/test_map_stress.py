"""Thousands of items through the whole pipeline, many times over.

Guards against the PySide6 None-refcount crash (6.12 on Python 3.11: QPainterPath.addPolygon
and setPen return None thousands of times) and against slow paths creeping back in.
"""
from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QCoreApplication

from desktop.widgets.map_canvas import BACKGROUND, MapCanvas
from desktop.widgets.map_layers import GridFillLayer, GridLayer, GridStyle, HighlightLayer, PointLayer

COLUMNS, ROWS = 100, 50  # 5,000 polygons
POINTS = 50_000


def _layers():
    rng = np.random.default_rng(7)
    polygons = [shapely.box(112.8 + i * 0.002, 35.4 + j * 0.002, 112.8 + (i + 1) * 0.002, 35.4 + (j + 1) * 0.002)
                .segmentize(0.0005) for i in range(COLUMNS) for j in range(ROWS)]
    style = GridStyle("#2e7d32", 1.0, fill="#fbfaf4", label_pt=8, label_min_px=40)
    grids = GridLayer(3, range(len(polygons)), [f"网格{i}" for i in range(len(polygons))], polygons, style)
    palette = [(f"类{i}", (30 * i % 255, 90, 200 - 10 * i, 230)) for i in range(13)]
    lon = rng.uniform(112.8, 113.0, POINTS)
    lat = rng.uniform(35.4, 35.5, POINTS)
    points = PointLayer("sources", "污染源", lon, lat, rng.integers(0, 13, POINTS), palette)
    pins = PointLayer("cases", "案件", lon[:5000], lat[:5000], rng.integers(0, 2, 5000),
                      [("已办结", (120, 130, 140, 120)), ("待处理", (211, 47, 47, 255))], marker="pin", size=11,
                      class_markers={0: ("dot", 4.5)})
    return [GridFillLayer(grids), grids, points, pins], polygons


def test_many_items_render_repeatedly(qtbot):
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(1200, 800)
    canvas.show()
    layers, polygons = _layers()
    assert sum(1 for _ in polygons) == COLUMNS * ROWS
    with qtbot.waitSignal(canvas.renderFinished, timeout=30_000):
        canvas.set_layers(layers)
    canvas.set_highlight(HighlightLayer(polygons[1234]))
    # Each waited render paints everything in view: fills (QPainterPath.addPolygon × 5,000),
    # outlines (drawPolyline × 5,000), labels and up to 55,000 markers.
    for step in range(12):
        with qtbot.waitSignal(canvas.renderFinished, timeout=30_000):
            canvas.zoom_by(1.25 if step % 4 < 2 else 0.8, (300 + 40 * step, 400))
        image, _ = canvas.last_image()
        pixels = np.frombuffer(image.constBits(), np.uint32, image.width() * image.height())
        assert (pixels != BACKGROUND.rgba()).mean() > 0.2
    # A burst of interaction: each request cancels the job before it.
    started = canvas.last_job_id
    for step in range(30):
        canvas.zoom_by(1.1 if step % 2 else 1 / 1.1, (600, 400))
        QCoreApplication.processEvents()
    with qtbot.waitSignal(canvas.renderFinished, timeout=30_000):
        canvas.refresh()
    assert canvas.last_job_id - started >= 10
    assert canvas.last_image()[1] == canvas.viewport()
    canvas.zoom_to_full()
    with qtbot.waitSignal(canvas.renderFinished, timeout=30_000):
        pass
    canvas.close()
