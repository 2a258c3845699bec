"""The new-alarm notice: a red bar over the map, never modal, plus a short sound.

``AlarmNoticeBar.notify(text, payload)`` shows the newest alarm with [定位] (centre the map on it)
and [查看] (open its case); alarms that arrive while it is up are counted (另有 N 条) and stay
reachable through the same buttons for the newest one. It stays until the seat closes it: an
alarm must not vanish unseen. ``AlarmSound`` plays ``resources/sounds/alarm.wav`` without Qt
Multimedia — winsound on Windows, a command-line player (pw-play, paplay, aplay; afplay on
macOS) elsewhere, the system beep if there is none; QSettings ``live/alarm_sound`` (default on)
switches it off.
"""
from __future__ import annotations

import logging
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QSettings, Qt, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton

log = logging.getLogger(__name__)
SOUND_KEY = "live/alarm_sound"
SOUND_FILE = Path(__file__).resolve().parents[2] / "resources" / "sounds" / "alarm.wav"
# Command-line WAV players by platform, the first found on PATH is used: PipeWire, PulseAudio,
# ALSA (any other Unix tries the same); macOS ships afplay. Windows uses winsound instead.
PLAYERS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "unix": (("pw-play", ()), ("paplay", ()), ("aplay", ("-q",))),
    "darwin": (("afplay", ()),),
}
MAX_PLAY_SECONDS = 15.0  # a player still running after this (a hung sound server) is stopped
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


class AlarmSound(QObject):
    """The new-alarm sound; ``play()`` does nothing while switched off in the settings, while the
    previous chime still plays, and within ``min_gap`` seconds of it (an alarm storm is one
    chime, not a siren).

    The WAV is played without Qt Multimedia (PySide6-Essentials has none): on Windows by
    ``winsound`` (asynchronous), elsewhere by the first of :data:`PLAYERS` found on PATH, started
    as a QProcess so the GUI thread never waits for it. A player that fails (no sound server, no
    device) is dropped for the next chime and this one falls back to the system beep.
    """

    def __init__(self, parent: QObject | None = None, *, min_gap: float = 3.0, sound_file: Path = SOUND_FILE,
                 platform: str = sys.platform):
        super().__init__(parent)
        self.played = 0  # chimes started (or beeped), for tests and the log
        self.min_gap = min_gap
        self.sound_file = Path(sound_file)
        self.platform = platform
        self._last = float("-inf")
        self._started = float("-inf")
        self._failed: set[str] = set()  # players that did not work here this session
        self._process: QProcess | None = None

    @property
    def enabled(self) -> bool:
        value = QSettings("EnvGrid", "EnvGrid").value(SOUND_KEY, True)
        return value not in (False, "false", "0", 0)

    @enabled.setter
    def enabled(self, on: bool) -> None:
        QSettings("EnvGrid", "EnvGrid").setValue(SOUND_KEY, bool(on))

    @property
    def playing(self) -> bool:
        """A player process is running (Windows' asynchronous PlaySound is not tracked)."""
        process = self._process
        return process is not None and process.state() != QProcess.ProcessState.NotRunning

    def player(self) -> list[str] | None:
        """The command that plays the WAV here (absolute program path first), or None."""
        if not self.sound_file.exists():
            return None
        candidates = PLAYERS.get(self.platform, PLAYERS["unix"]) if self.platform != "win32" else ()
        for name, options in candidates:
            path = shutil.which(name)
            if path is not None and path not in self._failed:
                return [path, *options, str(self.sound_file)]
        return None

    def play(self) -> bool:
        """Start the chime; False if it was not started (switched off, still playing, too soon)."""
        if not self.enabled:
            return False
        now = time.monotonic()
        if self.playing:
            if now - self._started < MAX_PLAY_SECONDS:
                return False
            log.warning("alarm sound: %s still running after %.0f s, stopped", self._process.program(),
                        now - self._started)
            self._failed.add(self._process.program())  # a player that hangs (no sound server) is not used again
            self.stop()
        if now - self._last < self.min_gap:
            return False
        self._last = now
        self.played += 1
        if self.platform == "win32":
            self._play_windows()
        else:
            self._play_with_player()
        return True

    def stop(self) -> None:
        """End a chime still playing (the window closes)."""
        process = self._process
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.kill()
            process.waitForFinished(1000)

    def _play_windows(self) -> None:
        try:
            import winsound

            winsound.PlaySound(str(self.sound_file),
                               winsound.SND_FILENAME | winsound.SND_ASYNC | winsound.SND_NODEFAULT)
        except (ImportError, RuntimeError) as exc:  # no sound device, or the file is gone
            log.warning("alarm sound: %s", exc)
            self._beep()

    def _play_with_player(self) -> None:
        command = self.player()
        if command is None:
            self._beep()
            return
        if self._process is None:
            self._process = QProcess(self)
            self._process.setStandardOutputFile(QProcess.nullDevice())
            self._process.setStandardErrorFile(QProcess.nullDevice())
            self._process.errorOccurred.connect(self._on_error)
            self._process.finished.connect(self._on_finished)
        self._started = time.monotonic()
        self._process.start(command[0], command[1:])

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._give_up_on(f"could not start ({self._process.errorString()})")

    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        if status == QProcess.ExitStatus.NormalExit and code != 0:
            self._give_up_on(f"exit code {code}")

    def _give_up_on(self, why: str) -> None:
        program = self._process.program()
        log.warning("alarm sound: %s: %s; trying another player next time", program, why)
        self._failed.add(program)
        self._beep()

    @staticmethod
    def _beep() -> None:
        QApplication.beep()  # silent on many Linux desktops, but the notice bar is still there
