"""One line of the KPI table: this period, the previous one and the change between them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Kpi:
    name: str
    value: float | None      # None: nothing to divide by (a rate with no cases)
    previous: float | None
    unit: str = "件"
    rate: bool = False       # a percentage: its change is in percentage points

    @property
    def change(self) -> float | None:
        """Relative change in % (counts) or the difference in percentage points (rates)."""
        if self.value is None or self.previous is None:
            return None
        if self.rate:
            return round(self.value - self.previous, 1)
        if self.previous == 0:
            return None
        return round((self.value - self.previous) / self.previous * 100, 1)

    @property
    def change_text(self) -> str:
        """``↑25.0%``, ``↓3.1个百分点``, ``持平``, ``—`` (no base to compare with)."""
        if self.value is None or self.previous is None:
            return "—"
        if self.value == self.previous:
            return "持平"
        change = self.change
        if change is None:  # from zero
            return "新增" if self.value else "—"
        arrow = "↑" if self.value > self.previous else "↓"
        return f"{arrow}{abs(change):.1f}{'个百分点' if self.rate else '%'}"

    @staticmethod
    def show(value: float | None, rate: bool) -> str:
        if value is None:
            return "—"
        return f"{value:.1f}%" if rate else f"{value:,.0f}"

    @property
    def value_text(self) -> str:
        return self.show(self.value, self.rate)

    @property
    def previous_text(self) -> str:
        return self.show(self.previous, self.rate)


def share(part: int, whole: int) -> float | None:
    """``part / whole`` in %, one decimal; None when ``whole`` is 0."""
    return round(part * 100 / whole, 1) if whole else None
