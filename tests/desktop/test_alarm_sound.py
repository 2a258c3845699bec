"""The new-alarm chime without Qt Multimedia (issue 5): a command-line player started with QProcess
(winsound on Windows), one chime per alarm storm, the settings switch, the beep when there is no
player. Players here are small shell scripts put on PATH that write down how they were called;
no audio hardware is needed."""
from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import shapely
from PySide6.QtWidgets import QApplication

from desktop.widgets import alarm_notice
from desktop.widgets.alarm_notice import SOUND_FILE, AlarmSound
from gis.storage import schema
from gis.storage.store import open_store
from small_workspace import MID_LAT, MID_LON

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="shell-script players")


@pytest.fixture
def players(tmp_path, monkeypatch):
    """``make(name, exit_code=0)`` puts a fake player on an otherwise empty PATH; while ``hold``
    exists every player keeps "playing". ``calls(name)`` lists the argument lines it was run with."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    hold = tmp_path / "hold"

    def make(name: str, exit_code: int = 0) -> Path:
        script = folder / name
        script.write_text(f'#!/bin/sh\nPATH=/usr/bin:/bin\necho "$@" >> "{tmp_path / name}.log"\n'
                          f'while [ -e "{hold}" ]; do sleep 0.02; done\nexit {exit_code}\n')
        script.chmod(0o755)
        return script

    def calls(name: str) -> list[str]:
        log = tmp_path / f"{name}.log"
        return log.read_text().splitlines() if log.exists() else []

    return SimpleNamespace(make=make, calls=calls, hold=hold)


@pytest.fixture
def beeps(monkeypatch):
    calls = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: calls.append(1)))
    return calls


def test_the_first_player_found_is_used_with_the_wav(players):
    for name in ("aplay", "paplay", "pw-play"):
        players.make(name)
    sound = AlarmSound()
    assert sound.player() == [str(Path(players.hold.parent, "bin", "pw-play")), str(SOUND_FILE)]
    (players.hold.parent / "bin" / "pw-play").unlink()
    (players.hold.parent / "bin" / "paplay").unlink()
    assert sound.player()[0].endswith("/aplay") and sound.player()[1:] == ["-q", str(SOUND_FILE)]
    players.make("afplay")
    assert AlarmSound(platform="darwin").player()[0].endswith("/afplay")


def test_a_burst_of_twenty_alarms_plays_once(qtbot, players, beeps):
    players.make("pw-play")
    players.hold.touch()  # the chime is still playing while the storm arrives
    sound = AlarmSound(min_gap=0)  # only "one at a time" holds them back here
    started = [sound.play() for _ in range(20)]
    assert started.count(True) == 1 and started[0] and sound.played == 1
    qtbot.waitUntil(lambda: len(players.calls("pw-play")) == 1, timeout=5000)
    assert sound.playing and sound.play() is False
    players.hold.unlink()
    qtbot.waitUntil(lambda: not sound.playing, timeout=5000)
    assert players.calls("pw-play") == [str(SOUND_FILE)] and beeps == []
    assert sound.play() is True  # finished: the next alarm chimes again
    qtbot.waitUntil(lambda: len(players.calls("pw-play")) == 2, timeout=5000)
    qtbot.waitUntil(lambda: not sound.playing, timeout=5000)


def test_the_minimum_gap_holds_back_a_chime_after_one_has_ended(qtbot, players):
    players.make("pw-play")
    sound = AlarmSound(min_gap=3600)
    assert sound.play() is True
    qtbot.waitUntil(lambda: len(players.calls("pw-play")) == 1 and not sound.playing, timeout=5000)
    assert [sound.play() for _ in range(20)] == [False] * 20
    assert players.calls("pw-play") == [str(SOUND_FILE)] and sound.played == 1


def test_switched_off_nothing_plays(qtbot, players, beeps):
    players.make("pw-play")
    sound = AlarmSound(min_gap=0)
    sound.enabled = False
    assert not AlarmSound().enabled  # kept in the settings, for the next window too
    assert [sound.play() for _ in range(20)] == [False] * 20
    assert sound.played == 0 and not sound.playing and players.calls("pw-play") == [] and beeps == []


def test_without_a_player_the_system_beep(players, beeps):
    sound = AlarmSound()
    assert sound.player() is None
    assert sound.play() is True and beeps == [1] and not sound.playing


def test_a_failing_player_beeps_and_the_next_one_is_used(qtbot, players, beeps):
    players.make("pw-play", exit_code=1)  # e.g. no PipeWire daemon on this desktop
    players.make("paplay")
    sound = AlarmSound(min_gap=0)
    assert sound.play() is True
    qtbot.waitUntil(lambda: beeps == [1], timeout=5000)
    assert sound.player()[0].endswith("/paplay")
    assert sound.play() is True
    qtbot.waitUntil(lambda: len(players.calls("paplay")) == 1 and not sound.playing, timeout=5000)
    assert len(players.calls("pw-play")) == 1 and beeps == [1]


def test_windows_plays_the_wav_asynchronously_with_winsound(monkeypatch, beeps):
    played = []
    fake = SimpleNamespace(SND_FILENAME=0x20000, SND_ASYNC=0x1, SND_NODEFAULT=0x2,
                           PlaySound=lambda sound, flags: played.append((sound, flags)))
    monkeypatch.setitem(sys.modules, "winsound", fake)
    sound = AlarmSound(platform="win32")
    assert [sound.play() for _ in range(20)].count(True) == 1
    assert played == [(str(SOUND_FILE), fake.SND_FILENAME | fake.SND_ASYNC | fake.SND_NODEFAULT)] and beeps == []


def test_an_alarm_storm_in_the_window_is_one_chime(qtbot, small_db, players, beeps):
    """Twenty alarms committed by another connection: one notice (另有 19 条), one chime."""
    from desktop.main_window import MainWindow

    players.make("pw-play")
    players.hold.touch()
    store = open_store(small_db)
    window = MainWindow(store, remember=False)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    with qtbot.waitSignal(window.mapReady, timeout=20_000):
        window.show()
    qtbot.waitUntil(lambda: window.live.feed.state is not None and window.live.feed.state.connected, timeout=5000)
    assert isinstance(window.live.sound, AlarmSound) and window.live.sound.parent() is window.live
    seat = open_store(small_db)
    try:
        now = datetime.now().replace(microsecond=0)
        lon, lat = MID_LON - 0.02, MID_LAT + 0.02
        with seat.engine.begin() as connection:
            station = connection.execute(schema.stations.insert().values(
                mn="88888888000009", name="风暴站", kind="air", location=shapely.Point(lon, lat), lon=lon, lat=lat,
                active=True, created_at=now).returning(schema.stations.c.id)).scalar_one()
            connection.execute(schema.alarms.insert(), [
                dict(station_id=station, pollutant="a34004", value=100.0 + n, threshold=75.0, raised_at=now,
                     grid_id=None, case_id=None, status="待反馈", due_at=now + timedelta(hours=24), feedback="")
                for n in range(20)])
        qtbot.waitUntil(lambda: "另有 19 条" in window.live.notice.text(), timeout=5000)
        qtbot.waitUntil(lambda: len(players.calls("pw-play")) == 1, timeout=5000)
        assert window.live.sound.played == 1
        players.hold.unlink()
        qtbot.waitUntil(lambda: not window.live.sound.playing, timeout=5000)
        assert players.calls("pw-play") == [str(SOUND_FILE)] and beeps == []
    finally:
        seat.close()
        window.close()
        store.close()


def test_stop_ends_a_chime_still_playing(qtbot, players):
    players.make("pw-play")
    players.hold.touch()
    sound = AlarmSound()
    sound.play()
    qtbot.waitUntil(lambda: len(players.calls("pw-play")) == 1, timeout=5000)
    sound.stop()
    assert not sound.playing


def test_a_hung_player_is_stopped_and_not_used_again(qtbot, players, monkeypatch):
    monkeypatch.setattr(alarm_notice, "MAX_PLAY_SECONDS", 0.0)  # every running chime counts as hung
    players.make("pw-play")
    players.make("paplay")
    players.hold.touch()
    sound = AlarmSound(min_gap=0)
    assert sound.play() is True
    qtbot.waitUntil(lambda: len(players.calls("pw-play")) == 1, timeout=5000)
    assert sound.play() is True  # pw-play is killed, paplay takes over
    qtbot.waitUntil(lambda: len(players.calls("paplay")) == 1, timeout=5000)
    assert sound.player()[0].endswith("/paplay") and len(players.calls("pw-play")) == 1
    players.hold.unlink()
    qtbot.waitUntil(lambda: not sound.playing, timeout=5000)
