"""The wall's dark theme, sized from ``unit = height / 1080``: colours, the style sheet, the text floor.

Logical pixels throughout: on a screen with a device pixel ratio Qt scales them, and the height
the window is given is the logical one, so a 4K wall at ratio 2 and a 1080p wall look the same.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

BG, PANEL, BORDER, TEXT, DIM, ACCENT = "#0b1220", "#131d33", "#22304f", "#e8eefc", "#8fa3c7", "#3fa9ff"
FONT = "Noto Sans CJK SC"
MONO = "Noto Sans Mono CJK SC"
MIN_TEXT_FRACTION = 1 / 40     # nothing smaller than this share of the screen height


@dataclass(frozen=True, slots=True)
class Scale:
    """Sizes of one wall; ``small`` is the smallest text anywhere (px)."""

    height: int

    @property
    def unit(self) -> float:
        return self.height / 1080

    @property
    def small(self) -> int:
        return math.ceil(self.height * MIN_TEXT_FRACTION - 1e-9)  # 1080 / 40 = 27

    def px(self, at_1080: float) -> int:
        """``at_1080`` pixels of a 1080p wall on this one, never below the text floor."""
        return max(self.small, round(at_1080 * self.unit))

    def length(self, at_1080: float) -> int:
        """A length (margin, border), not text: may be below the floor, at least 1 px."""
        return max(1, round(at_1080 * self.unit))


def style_sheet(s: Scale) -> str:
    return f"""
        QWidget {{ background: {BG}; color: {TEXT}; font-family: '{FONT}'; font-size: {s.small}px; }}
        QFrame#panel {{ background: {PANEL}; border: {s.length(2)}px solid {BORDER}; border-radius: {s.length(10)}px; }}
        QFrame#panel QLabel, QFrame#panel QWidget#plain {{ background: transparent; border: none; }}
        QLabel[role="title"] {{ color: {ACCENT}; font-size: {s.px(30)}px; font-weight: bold; }}
        QLabel[role="heading"] {{ font-size: {s.px(36)}px; font-weight: bold; }}
        QLabel[role="big"] {{ font-size: {s.px(56)}px; font-weight: bold; color: #ffffff; }}
        QLabel[role="dim"] {{ color: {DIM}; font-size: {s.small}px; }}
        QLabel[role="count"] {{ font-size: {s.px(32)}px; font-weight: bold; font-family: '{MONO}'; }}
        QLabel[role="banner"] {{ background: #b3261e; color: white; font-size: {s.px(34)}px;
                                 padding: {s.length(8)}px; }}
        QLabel[role="status"] {{ color: {DIM}; font-size: {s.small}px; }}
    """
