"""Back/forward through previous map views, like a browser's history.

Pure Python (the canvas and the window wire it up): a view is a (cx, cy, res)
triple in Web Mercator — the window size is not part of it, so going back
after a resize shows the same place at the same scale. A burst of small moves
(wheel notches, key repeats) within ``merge_seconds`` is one step, so "back"
returns to where the user started rather than one notch earlier.
"""
from __future__ import annotations

import time
from collections.abc import Callable

View = tuple[float, float, float]  # cx, cy (EPSG:3857 metres), res (metres per pixel)

MAX_VIEWS = 100
MERGE_SECONDS = 0.6


def same_view(a: View, b: View, tolerance: float = 1e-6) -> bool:
    """Equal up to a millionth of a pixel: float noise is not a new view."""
    res = max(a[2], b[2])
    return abs(a[0] - b[0]) <= tolerance * res and abs(a[1] - b[1]) <= tolerance * res \
        and abs(a[2] - b[2]) <= tolerance * res


class ViewHistory:
    """An undo-like list of views with a current position."""

    def __init__(self, *, merge_seconds: float = MERGE_SECONDS, limit: int = MAX_VIEWS,
                 clock: Callable[[], float] = time.monotonic):
        self.merge_seconds = merge_seconds
        self.limit = limit
        self._clock = clock
        self._views: list[View] = []
        self._index = -1
        self._last_record = float("-inf")
        self.on_change: Callable[[], None] | None = None  # called when can_back/can_forward may differ

    def __len__(self) -> int:
        return len(self._views)

    @property
    def current(self) -> View | None:
        return self._views[self._index] if self._views else None

    @property
    def can_back(self) -> bool:
        return self._index > 0

    @property
    def can_forward(self) -> bool:
        return 0 <= self._index < len(self._views) - 1

    def record(self, view: View) -> None:
        """Note a view the user arrived at; drops the forward views, as browsers do."""
        now = self._clock()
        view = tuple(float(v) for v in view)
        if self._views and same_view(view, self._views[self._index]):
            return
        burst = now - self._last_record < self.merge_seconds and self._index > 0 \
            and self._index == len(self._views) - 1
        self._last_record = now
        del self._views[self._index + 1:]
        if burst:
            self._views[self._index] = view
        else:
            self._views.append(view)
            if len(self._views) > self.limit:
                del self._views[0]
        self._index = len(self._views) - 1
        self._changed()

    def back(self) -> View | None:
        """The previous view (and make it current), or None at the start."""
        if not self.can_back:
            return None
        self._index -= 1
        self._last_record = float("-inf")  # the next move after a jump is a step of its own
        self._changed()
        return self._views[self._index]

    def forward(self) -> View | None:
        if not self.can_forward:
            return None
        self._index += 1
        self._last_record = float("-inf")
        self._changed()
        return self._views[self._index]

    def clear(self) -> None:
        self._views.clear()
        self._index = -1
        self._last_record = float("-inf")
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
