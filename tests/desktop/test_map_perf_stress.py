"""Many grids, sources and labels through the new renderer, many times, from several threads.

Guards against the PySide6 None-refcount crash (Python 3.11 + PySide6 6.12; we pin 3.12 and
6.11.3, where None is immortal) and against thread-safety slips in what render jobs share:
the simplified copies and their QPainterPaths, the label and bubble sprite caches.
"""
from __future__ import annotations

import threading

import numpy as np

from desktop.render_command import render_layers
from desktop.widgets.map_build import grid_layers, source_layer
from desktop.widgets.map_canvas import BACKGROUND, MapCanvas
from desktop.widgets.map_viewport import MapViewport
from gis.domain import SOURCE_CATEGORIES
from map_render_data import CELL, SOUTH, WEST, lattice

CATEGORIES = [(i + 1, code, name) for i, (code, name) in enumerate(SOURCE_CATEGORIES)]
N = 70          # 4,900 fourth-level grids
POINTS = 60_000


def _layers():
    grids = grid_layers(lattice(N))
    rng = np.random.default_rng(5)
    span = N * CELL
    sources = source_layer(np.arange(POINTS), rng.uniform(WEST, WEST + span, POINTS),
                           rng.uniform(SOUTH, SOUTH + span, POINTS), rng.integers(1, 15, POINTS),
                           rng.random(POINTS) < 0.03, CATEGORIES)
    villages = grids.by_level()[3]
    villages.set_fill_values(villages.ids, rng.integers(0, 30, len(villages.ids)))
    return [*grids.fills, *grids.outlines, sources, *grids.labels]


def _random_views(rng, count, full: MapViewport) -> list[MapViewport]:
    views = []
    for _ in range(count):
        zoom = float(np.exp(rng.uniform(0, np.log(64))))
        x0, y0, x1, y1 = full.extent
        views.append(MapViewport(rng.uniform(x0, x1), rng.uniform(y0, y1), full.res / zoom, 900, 600))
    return views


def test_many_items_render_from_several_threads(qapp):
    layers = _layers()
    full = MapViewport(width=900, height=600).fitted(layers[-1].grids.extent())
    rng = np.random.default_rng(11)
    failures: list[BaseException] = []

    def worker(views):
        try:
            for view in views:
                image = render_layers(layers, view)
                assert image is not None and image.width() == 900
        except BaseException as exc:  # reported below; a crash would kill the process instead
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(_random_views(rng, 25, full),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    image = render_layers(layers, full)
    pixels = np.frombuffer(image.constBits(), np.uint32, image.width() * image.height())
    assert (pixels != BACKGROUND.rgba()).mean() > 0.3


def test_canvas_survives_bursts_of_zoom_with_the_new_layers(qtbot):
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(1000, 700)
    canvas.show()
    with qtbot.waitSignal(canvas.renderFinished, timeout=60_000):
        canvas.set_layers(_layers())
    for step in range(40):  # every request cancels the job before it, mid-label or mid-bucket
        canvas.zoom_by(1.3 if step % 3 else 1 / 1.2, (200 + 15 * step, 350))
        qtbot.wait(1)
    with qtbot.waitSignal(canvas.renderFinished, timeout=60_000):
        canvas.refresh()
    assert canvas.last_image()[1] == canvas.viewport()
    canvas.close()
