"""Page geometry, fonts and colours of the printed period report (A4 at 300 dpi, device units)."""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QFontMetricsF

DPI = 300
PAGE_W_MM, PAGE_H_MM = 210.0, 297.0
MARGIN_X_MM, TOP_MM, BOTTOM_MM = 20.0, 24.0, 22.0

INK = QColor("#1a1a1a")
MUTED = QColor("#5f6b76")
ACCENT = QColor("#1f4e79")       # headings, table headers
RED = QColor("#c00000")          # the cover's rule (红头), overdue
RULE = QColor("#9aa5b1")
ZEBRA = QColor("#f2f5f8")
NEW_COLOUR = QColor("#2e75b6")   # 新增
CLOSED_COLOUR = QColor("#70ad47")  # 办结


def mm(value: float) -> float:
    """Millimetres in device units."""
    return value * DPI / 25.4


PAGE_W, PAGE_H = mm(PAGE_W_MM), mm(PAGE_H_MM)
LEFT, RIGHT = mm(MARGIN_X_MM), mm(PAGE_W_MM - MARGIN_X_MM)
TOP, BOTTOM = mm(TOP_MM), mm(PAGE_H_MM - BOTTOM_MM)
WIDTH = RIGHT - LEFT


def ui_families() -> list[str]:
    from desktop.app import UI_FONTS

    return list(UI_FONTS)


def font(points: float, *, bold: bool = False) -> QFont:
    result = QFont()
    result.setFamilies(ui_families())
    result.setPointSizeF(points)
    result.setBold(bold)
    result.setHintingPreference(QFont.HintingPreference.PreferNoHinting)  # print: keep the design's spacing
    # Noto Sans CJK's 'locl' lookup swaps the digits of a Latin run ("AJ2026…") for glyphs no code point
    # maps to, so Qt's ToUnicode map left them out and the PDF's text lost its digits. The SC face's
    # default glyphs are already the Simplified Chinese forms, so nothing visible is lost.
    result.setFeature(QFont.Tag("locl"), 0)
    return result


class Metrics:
    """Font metrics in device units, cached per (size, bold)."""

    def __init__(self, device):
        self.device = device
        self._cache: dict[tuple[float, bool], QFontMetricsF] = {}

    def __call__(self, points: float, bold: bool = False) -> QFontMetricsF:
        key = (points, bold)
        if key not in self._cache:
            self._cache[key] = QFontMetricsF(font(points, bold=bold), self.device)
        return self._cache[key]
