"""``envgrid screenshot`` and the argv rule of ``main.cli``."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

import main
from desktop.widgets.map_canvas import BACKGROUND

ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_writes_png_of_requested_size(qapp, small_db, tmp_path, capsys):
    out = tmp_path / "shot.png"
    assert main.cli(["screenshot", str(out), "--db", small_db, "--size", "1100x700"]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1100, 700)
    colours = {image.pixel(x, y) for x in range(0, 1100, 7) for y in range(0, 700, 7)}
    assert len(colours) > 20 and BACKGROUND.rgb() in colours  # map background plus much else
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("size", ["1920", "axb", "10x10", "1920x1080x3"])
def test_bad_size_is_one_clear_line(qapp, small_db, tmp_path, capsys, size):
    assert main.cli(["screenshot", str(tmp_path / "x.png"), "--db", small_db, "--size", size]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("envgrid screenshot: --size:")
    assert not (tmp_path / "x.png").exists()


def test_timeout_is_an_error(qapp, small_db, tmp_path, capsys):
    assert main.cli(["screenshot", str(tmp_path / "x.png"), "--db", small_db, "--timeout", "0"]) == 1
    assert "within 0 s" in capsys.readouterr().err


def test_screenshot_in_a_fresh_process_without_display(small_db, tmp_path):
    out = tmp_path / "sub.png"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "screenshot", str(out), "--db", small_db,
                             "--size", "800x600"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert QImage(str(out)).size().toTuple() == (800, 600)


@pytest.mark.parametrize("argv, expected", [
    ([], None), (["--db", "x.sqlite"], "x.sqlite"), (["--db=y.sqlite"], "y.sqlite"),
])
def test_window_arguments(argv, expected):
    assert main._window_db(argv) == expected


@pytest.mark.parametrize("argv", [["info", "--db", "x"], ["screenshot", "a.png"], ["--db", "x", "info"], ["-h"]])
def test_other_arguments_go_to_the_command_line(argv):
    assert main._window_db(argv) is main._NOT_A_WINDOW
