"""The one case filter the table, the charts and the map show — plain Python, no Qt.

``FilterState`` holds a :class:`gis.storage.case_queries.CaseFilter` and announces changes: one
event per field (``state.events.states``, ``state.events.grid_ids``…) and ``state.events.changed``
after any change, with the new filter and the names of the fields that changed. Views write
with :meth:`FilterState.update` (or the helpers) and read ``state.filter``; a view that writes
and also listens blocks its own event while writing so nothing echoes back
(``with state.events.states.blocked(): …``).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import datetime

from gis.storage.case_queries import CaseFilter, Seat, WorkList

FIELDS = tuple(f.name for f in dataclasses.fields(CaseFilter))


class Event:
    """A list of callbacks; ``emit`` calls them in order, unless the event is blocked."""

    def __init__(self, name: str):
        self.name = name
        self._callbacks: list[Callable] = []
        self._blocked = 0

    def connect(self, callback: Callable) -> Callable:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args) -> None:
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(*args)

    @contextmanager
    def blocked(self):
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1

    def __len__(self) -> int:
        return len(self._callbacks)


class FilterEvents:
    def __init__(self):
        self.changed = Event("changed")  # (CaseFilter, frozenset of changed field names)
        for name in FIELDS:
            setattr(self, name, Event(name))  # (new value)

    def __getitem__(self, name: str) -> Event:
        return getattr(self, name)


class FilterState:
    """The current case filter of a window; every linked view reads and writes this one."""

    def __init__(self, initial: CaseFilter | None = None):
        self._filter = initial or CaseFilter()
        self.events = FilterEvents()

    @property
    def filter(self) -> CaseFilter:
        return self._filter

    def update(self, **changes) -> frozenset[str]:
        """Set fields; emits their events and then ``changed``. Returns the names that changed."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise TypeError(f"FilterState.update: no filter field {', '.join(sorted(unknown))}; "
                            f"fields are {', '.join(FIELDS)}")
        return self._adopt(self._filter.replace(**changes), changes)

    def set_scope(self, grid_id: int | None) -> frozenset[str]:
        """The logged-in user's data scope (None: unrestricted). Only a login, a logout or another
        workspace sets it — so this may widen it, which :meth:`update` never does."""
        return self._adopt(dataclasses.replace(self._filter, scope_grid_id=grid_id), ("scope_grid_id",))

    def _adopt(self, new: CaseFilter, names) -> frozenset[str]:
        changed = frozenset(name for name in names if getattr(new, name) != getattr(self._filter, name))
        if not changed:
            return changed
        self._filter = new
        for name in FIELDS:
            if name in changed:
                self.events[name].emit(getattr(new, name))
        self.events.changed.emit(new, changed)
        return changed

    # -- helpers the views use ---------------------------------------------------------------
    def toggle(self, name: str, value) -> frozenset[str]:
        """Add ``value`` to a set field, or take it out if it is there (a bar click)."""
        current = getattr(self._filter, name)
        return self.update(**{name: current - {value} if value in current else current | {value}})

    def choose(self, name: str, value) -> frozenset[str]:
        """Make ``value`` the only choice of a set field; choosing it again clears the field."""
        current = getattr(self._filter, name)
        return self.update(**{name: frozenset() if current == {value} else frozenset({value})})

    def set_grids(self, grid_ids: Iterable[int]) -> frozenset[str]:
        return self.update(grid_ids=frozenset(grid_ids))

    def set_time_range(self, start: datetime | None, end: datetime | None) -> frozenset[str]:
        return self.update(start=start, end=end)

    def set_work_list(self, work_list: WorkList | None) -> frozenset[str]:
        return self.update(work_list=work_list)

    def set_seat(self, seat: Seat) -> frozenset[str]:
        return self.update(seat=seat)

    def clear(self, *names: str) -> frozenset[str]:
        """Back to "everything" (the seat and the clock are kept); only ``names`` if given."""
        keep = {"seat", "now"}
        names = names or tuple(n for n in FIELDS if n not in keep)
        blank = CaseFilter()
        return self.update(**{n: getattr(blank, n) for n in names})
