"""Countdown text and colour of a 24 h alarm task."""
from __future__ import annotations

from datetime import datetime

URGENT_SECONDS = 2 * 3600
RED, AMBER, GREEN = "#ff4d4f", "#ffb020", "#4cd97b"


def countdown(due: datetime, now: datetime) -> tuple[str, str]:
    """``("01:59:30", RED)`` — remaining time and its colour; past due: ``("超时 督办", RED)``."""
    left = int((due - now).total_seconds())
    if left <= 0:
        return "超时 督办", RED
    h, rest = divmod(left, 3600)
    text = f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return text, RED if left < URGENT_SECONDS else (AMBER if left < 6 * 3600 else GREEN)
