"""Find a grid (name or code), a pollution source (name) or a case (number) and go there.

``SearchIndex`` is plain Python: exact codes, numbers and names are dictionary
look-ups; everything else is a substring scan over pre-lowered keys that stops
once it has enough candidates (≈ 10 ms for 130,000 features), ranked exact →
prefix → contains, grids before cases before sources. ``SearchBox`` is a line
edit whose completer shows the best few; it only emits ``featureChosen`` — the
window zooms and flashes.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from gis.domain import LEVEL_NAMES

KIND_ORDER = {"grid": 0, "case": 1, "station": 2, "source": 3}
SCAN_CAP = 400  # substring candidates gathered before ranking; more would not fit in a popup anyway
DEBOUNCE_MS = 120


@dataclass(frozen=True, slots=True)
class SearchEntry:
    kind: str
    id: int
    label: str           # what the completer shows
    keys: tuple[str, ...]  # exact-match keys, lower case (name, code, number…)


class SearchIndex:
    def __init__(self, entries: Iterable[SearchEntry] = ()):
        self.entries = sorted(entries, key=lambda e: KIND_ORDER.get(e.kind, 9))
        self._haystack = [" ".join(e.keys) for e in self.entries]
        self._exact: dict[str, list[int]] = {}
        for n, entry in enumerate(self.entries):
            for key in entry.keys:
                self._exact.setdefault(key, []).append(n)

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def from_features(cls, grids=(), sources=(), cases=(), stations=(), categories: dict | None = None) -> SearchIndex:
        categories = categories or {}
        entries = [SearchEntry("grid", g.id, f"{g.name} · {LEVEL_NAMES.get(g.level, '网格')} · {g.code}",
                               (g.name.lower(), g.code.lower())) for g in grids]
        entries += [SearchEntry("case", c.id, f"{c.number} · 案件 · {c.category} · {c.state}",
                                (c.number.lower(),)) for c in cases]
        entries += [SearchEntry("station", s.id, f"{s.name} · 监测站点 · {getattr(s, 'mn', '')}",
                                (s.name.lower(), str(getattr(s, "mn", "")).lower())) for s in stations]
        entries += [SearchEntry("source", s.id, f"{s.name} · 污染源 · {categories.get(s.category_id, '')}".rstrip(" ·"),
                                (s.name.lower(),)) for s in sources]
        return cls(entries)

    def find(self, text: str, limit: int = 20) -> list[SearchEntry]:
        query = " ".join(text.split()).lower()
        if not query:
            return []
        ranked: dict[int, int] = {n: 0 for n in self._exact.get(query, ())}
        found = 0
        for n, hay in enumerate(self._haystack):
            if query in hay and n not in ranked:
                ranked[n] = 1 if any(key.startswith(query) for key in self.entries[n].keys) else 2
                found += 1
                if found >= SCAN_CAP:
                    break
        order = sorted(ranked, key=lambda n: (ranked[n], KIND_ORDER.get(self.entries[n].kind, 9),
                                              len(self.entries[n].label), n))
        return [self.entries[n] for n in order[:limit]]


class SearchBox(QLineEdit):
    """Type, pick from the list (or press Enter for the best match) → ``featureChosen(kind, id)``."""

    featureChosen = Signal(str, int)
    notFound = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText("搜索网格名称/编码、污染源、案件编号 (Ctrl+F)")
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(280)
        self.setMaximumWidth(420)
        self.index = SearchIndex()
        self._results: list[SearchEntry] = []
        self._answered_return = False
        self._model = QStringListModel(self)
        self._completer = QCompleter(self._model, self)
        self._completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self._completer.setMaxVisibleItems(12)
        # Rows of an unfiltered popup are the model's rows: the index says which entry, even
        # when two sources share a name.
        self._completer.activated[QModelIndex].connect(self._on_activated)
        self.setCompleter(self._completer)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.update_results)
        self.textEdited.connect(lambda _text: self._debounce.start())
        self.returnPressed.connect(self._on_return)

    def set_index(self, index: SearchIndex) -> None:
        self.index = index
        self._results = []
        self._model.setStringList([])

    def results(self) -> list[SearchEntry]:
        return list(self._results)

    def update_results(self) -> None:
        """Fill the completer with the best matches of the current text and show it."""
        self._debounce.stop()
        self._results = self.index.find(self.text())
        self._model.setStringList([entry.label for entry in self._results])
        if self._results and self.hasFocus():
            self._completer.complete()

    def _on_activated(self, index: QModelIndex) -> None:
        if self._answered_return:
            return  # Return already chose this row (see _on_return)
        if 0 <= index.row() < len(self._results):
            self._choose(self._results[index.row()])

    def _on_return(self) -> None:
        popup = self._completer.popup()
        row = popup.currentIndex().row() if popup.isVisible() else -1
        if 0 <= row < len(self._results):
            # The line edit sees Return before the completer does; choose here, and ignore the
            # completer's activated that follows in the same key press.
            self._answered_return = True
            QTimer.singleShot(0, self._forget_return)
            self._choose(self._results[row])
            return
        self.update_results()
        if self._results:
            self._choose(self._results[0])
        elif self.text().strip():
            self.notFound.emit(self.text().strip())

    def _forget_return(self) -> None:
        self._answered_return = False

    def _choose(self, entry: SearchEntry) -> None:
        self._completer.popup().hide()
        self.featureChosen.emit(entry.kind, entry.id)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and not self._completer.popup().isVisible():
            self.clear()
            self.clearFocus()
            return
        super().keyPressEvent(event)
