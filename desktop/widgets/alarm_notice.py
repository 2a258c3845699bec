"""The new-alarm notice: a red bar over the map, never modal, plus a short sound.

``AlarmNoticeBar.notify(text, payload)`` shows the newest alarm with [定位] (centre the map on it)
and [查看] (open its case); alarms that arrive while it is up are counted (另有 N 条) and stay
reachable through the same buttons for the newest one. It stays until the seat closes it: an
alarm must not vanish unseen. ``AlarmSound`` plays ``resources/sounds/alarm.wav`` through
QSoundEffect where Qt Multimedia is installed, else the system beep; QSettings
``live/alarm_sound`` (default on) switches it off.
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton

SOUND_KEY = "live/alarm_sound"
SOUND_FILE = Path(__file__).resolve().parents[2] / "resources" / "sounds" / "alarm.wav"
STYLE = ("QFrame#alarmNotice { background: #c62828; border-bottom: 1px solid #8e0000; }"
         " QFrame#alarmNotice QLabel { color: white; font-weight: bold; }"
         " QFrame#alarmNotice QPushButton { background: white; color: #b71c1c; border: none; padding: 3px 10px;"
         " border-radius: 3px; font-weight: bold; }"
         " QFrame#alarmNotice QPushButton#closeNotice { background: transparent; color: white; padding: 0 6px; }")


class AlarmNoticeBar(QFrame):
    locateRequested = Signal(object)   # the payload given to notify()
    openRequested = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("alarmNotice")
        self.setStyleSheet(STYLE)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.locate_button = QPushButton("定位")
        self.open_button = QPushButton("查看")
        self.close_button = QPushButton("✕")
        self.close_button.setObjectName("closeNotice")
        self.close_button.setToolTip("关闭提示")
        for button in (self.locate_button, self.open_button, self.close_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a notice must not take the seat's keystrokes
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.locate_button)
        row.addWidget(self.open_button)
        row.addWidget(self.close_button)
        self.payload = None
        self.unseen = 0  # alarms shown in this bar since it was last closed
        self.locate_button.clicked.connect(lambda: self.payload is not None and self.locateRequested.emit(self.payload))
        self.open_button.clicked.connect(lambda: self.payload is not None and self.openRequested.emit(self.payload))
        self.close_button.clicked.connect(self.dismiss)
        self.hide()

    def notify(self, text: str, payload=None, *, can_locate: bool = True, can_open: bool = True,
               when: datetime | None = None) -> None:
        self.unseen += 1
        self.payload = payload
        more = f"（另有 {self.unseen - 1} 条新报警）" if self.unseen > 1 else ""
        self.label.setText(f"⚠ {(when or datetime.now()):%H:%M:%S} {text}{more}")
        self.locate_button.setEnabled(can_locate)
        self.open_button.setEnabled(can_open)
        self.show()
        self.raise_()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def dismiss(self) -> None:
        self.unseen = 0
        self.payload = None
        self.hide()


class AlarmSound:
    """The new-alarm sound; ``play()`` does nothing while switched off in the settings, and plays
    at most once per ``min_gap`` seconds (an alarm storm is one chime, not a siren)."""

    def __init__(self, min_gap: float = 3.0):
        self._effect = None
        self.played = 0
        self.min_gap = min_gap
        self._last = float("-inf")
        try:
            from PySide6.QtMultimedia import QSoundEffect
        except ImportError:  # PySide6-Essentials has no Qt Multimedia: the system beep instead
            return
        if SOUND_FILE.exists():
            self._effect = QSoundEffect()
            self._effect.setSource(QUrl.fromLocalFile(str(SOUND_FILE)))
            self._effect.setVolume(0.8)

    @property
    def enabled(self) -> bool:
        value = QSettings("EnvGrid", "EnvGrid").value(SOUND_KEY, True)
        return value not in (False, "false", "0", 0)

    @enabled.setter
    def enabled(self, on: bool) -> None:
        QSettings("EnvGrid", "EnvGrid").setValue(SOUND_KEY, bool(on))

    def play(self) -> bool:
        if not self.enabled or time.monotonic() - self._last < self.min_gap:
            return False
        self._last = time.monotonic()
        self.played += 1
        if self._effect is not None:
            self._effect.play()
        else:
            QApplication.beep()
        return True
