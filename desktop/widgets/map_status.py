"""Status-bar widgets of the map: an editable 1:N scale box."""
from __future__ import annotations

import math
import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

COMMON_SCALES = (500, 1000, 2000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)
_NUMBER = re.compile(r"^\s*(?:1\s*[:：]\s*)?([\d,，\s]+(?:\.\d+)?)\s*(万)?\s*$")


def parse_scale(text: str) -> float | None:
    """``1:25000``, ``1：25,000``, ``25000`` or ``2.5万`` → 25000.0; None when it is not a scale."""
    match = _NUMBER.match(text or "")
    if not match:
        return None
    try:
        value = float(re.sub(r"[,，\s]", "", match[1]))
    except ValueError:
        return None
    if match[2]:
        value *= 10_000
    return value if math.isfinite(value) and value >= 1 else None


def scale_text(denominator: float) -> str:
    """``1:118,568`` → ``1:119,000``: three significant digits, as paper maps read."""
    if not math.isfinite(denominator) or denominator <= 0:
        return "1:—"
    digits = max(0, math.floor(math.log10(denominator)) - 2)
    return f"1:{round(denominator / 10 ** digits) * 10 ** digits:,}"


class ScaleCombo(QComboBox):
    """Shows the current scale; pick or type one (Enter) to zoom there."""

    scaleEntered = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setToolTip("当前比例尺；可选择或输入（如 1:10000、2.5万）后回车")
        self.setMinimumContentsLength(11)
        self.addItems([scale_text(n) for n in COMMON_SCALES])
        self.setCurrentIndex(-1)
        self.textActivated.connect(self._on_entered)  # picked from the list
        # Typed + Return: with NoInsert a text that is not an item activates nothing.
        self.lineEdit().returnPressed.connect(lambda: self._on_entered(self.currentText()))

    def set_scale(self, denominator: float) -> None:
        """Show the canvas' scale without echoing it back as a request."""
        self.blockSignals(True)
        self.setEditText(scale_text(denominator))
        self.blockSignals(False)

    def _on_entered(self, text: str) -> None:
        value = parse_scale(text)
        if value is not None:
            self.scaleEntered.emit(value)
