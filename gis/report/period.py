"""Report periods: the natural week (Monday–Sunday), month or quarter containing a day.

A period is the half-open range ``start <= t < end`` of whole days; ``previous()`` is the
period of the same kind right before it (the comparison column of the KPI table).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

KINDS = {"week": "周报", "month": "月报", "quarter": "季报"}


class PeriodError(ValueError):
    """An unknown period kind or a date that cannot be read."""


@dataclass(frozen=True, slots=True)
class Period:
    kind: str       # week / month / quarter
    first: date     # first day
    last: date      # last day (inclusive)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time())

    @property
    def end(self) -> datetime:
        """Midnight after the last day (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time())

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=k) for k in range((self.last - self.first).days + 1)]

    @property
    def report_name(self) -> str:
        return KINDS[self.kind]

    @property
    def label(self) -> str:
        """``2026年第47周``, ``2026年11月``, ``2026年第四季度``."""
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}年第{week}周"
        if self.kind == "month":
            return f"{self.first.year}年{self.first.month}月"
        return f"{self.first.year}年第{'一二三四'[(self.first.month - 1) // 3]}季度"

    @property
    def span(self) -> str:
        """``2026年11月16日—2026年11月22日``."""
        return f"{_cn(self.first)}—{_cn(self.last)}"

    def previous(self) -> Period:
        return period_containing(self.kind, self.first - timedelta(days=1))


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise PeriodError(f"--period: expected one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def period_containing(kind: str, day: date) -> Period:
    """The week (Mon–Sun), month or quarter that contains ``day``."""
    _check_kind(kind)
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        return Period(kind, first, first + timedelta(days=6))
    month = day.month if kind == "month" else (day.month - 1) // 3 * 3 + 1
    first = date(day.year, month, 1)
    months = 1 if kind == "month" else 3
    following = date(first.year + (first.month + months - 1) // 12, (first.month + months - 1) % 12 + 1, 1)
    return Period(kind, first, following - timedelta(days=1))


def last_complete_period(kind: str, today: date) -> Period:
    """The latest period of ``kind`` that ended before ``today``."""
    return period_containing(_check_kind(kind), today).previous()


def parse_report_date(text: str) -> date:
    """``2026-11-20`` (also ``2026/11/20``, ``20261120``)."""
    cleaned = (text or "").strip().replace("/", "-")
    if len(cleaned) == 8 and cleaned.isdigit():
        cleaned = f"{cleaned[:4]}-{cleaned[4:6]}-{cleaned[6:]}"
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        raise PeriodError(f"--date: expected a day such as 2026-11-20, got {text!r}") from None


def resolve_period(kind: str, day: str | date | None = None, *, today: date | None = None) -> Period:
    """The period of ``kind`` containing ``day``; without a day, the last complete one before ``today``.

    A period that has not begun by ``today`` is refused (it would report nothing but zeros).
    """
    _check_kind(kind)
    today = today or date.today()
    if day is None:
        return last_complete_period(kind, today)
    period = period_containing(kind, day if isinstance(day, date) else parse_report_date(day))
    if period.first > today:
        raise PeriodError(f"--date: the {kind} of {day} ({period.label}) has not begun yet (today is {today})")
    return period
