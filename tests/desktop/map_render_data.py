"""Synthetic grid hierarchies and points for the rendering tests (lon/lat near Jincheng)."""
from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtGui import QImage, QPainter

from desktop.widgets.map_base import RenderContext

WEST, SOUTH = 112.80, 35.40
CELL = 0.0025  # degrees: fourth-level grids ~230 m wide


class Row:
    """What the layer builders read from a grid."""

    def __init__(self, id, name, level, boundary):
        self.id, self.name, self.level, self.boundary = id, name, level, boundary


def lattice(n: int = 40) -> list[Row]:
    """Levels 2–4 over an n×n lattice of fourth-level cells: 2 towns, 8 villages, n² grids."""
    rows, next_id = [], 1
    span = n * CELL
    for t in range(2):
        rows.append(Row(next_id, f"第{t + 1}街道办事处", 2,
                        shapely.box(WEST + t * span / 2, SOUTH, WEST + (t + 1) * span / 2, SOUTH + span)))
        next_id += 1
    for v in range(8):
        col, row = v % 4, v // 4
        rows.append(Row(next_id, f"和平{v + 1}社区", 3, shapely.box(WEST + col * span / 4, SOUTH + row * span / 2,
                                                              WEST + (col + 1) * span / 4, SOUTH + (row + 1) * span / 2)))
        next_id += 1
    for i in range(n):
        for j in range(n):
            rows.append(Row(next_id, f"和平社区第{i * n + j + 1}网格", 4,
                            shapely.box(WEST + i * CELL, SOUTH + j * CELL, WEST + (i + 1) * CELL, SOUTH + (j + 1) * CELL)))
            next_id += 1
    return rows


def wiggly_coverage(n: int = 5, seed: int = 3) -> np.ndarray:
    """An exact coverage whose shared edges are long random walks (lots to simplify)."""
    rng = np.random.default_rng(seed)
    size = n * CELL * 4
    lines = []
    for k in range(1, n):
        t = np.linspace(0, size, 400)
        wiggle = np.cumsum(rng.normal(0, CELL * 0.02, len(t)))
        wiggle -= np.linspace(wiggle[0], wiggle[-1], len(t))  # pinned at both ends
        base = k * size / n
        lines.append(shapely.linestrings(np.column_stack([WEST + t, SOUTH + base + wiggle])))
        lines.append(shapely.linestrings(np.column_stack([WEST + base + wiggle, SOUTH + t])))
    frame = shapely.box(WEST, SOUTH, WEST + size, SOUTH + size).boundary
    noded = shapely.union_all(np.concatenate([[frame], lines]))
    return np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))


def paint(layers, viewport) -> tuple[QImage, RenderContext]:
    """Paint like a render job, but keep the context (what was drawn, labels placed)."""
    image = QImage(viewport.width, viewport.height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0xFFFFFFFF)
    ctx = RenderContext(viewport)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for layer in layers:
        painter.save()
        layer.paint(painter, ctx)
        painter.restore()
    painter.end()
    return image, ctx
