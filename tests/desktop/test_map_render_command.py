"""``envgrid render``: a PNG of the right size from the window's renderer; bad arguments fail in one line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from main import cli

ROOT = Path(__file__).resolve().parents[2]


def test_render_writes_a_png_of_the_requested_size(qapp, small_db, tmp_path, capsys):
    out = tmp_path / "map.png"
    assert cli(["render", str(out), "--db", small_db, "--size", "640x480"]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (640, 480)
    assert "wrote" in capsys.readouterr().out
    # Something was drawn: more than the background colour.
    colours = {image.pixel(x, y) for x in range(0, 640, 16) for y in range(0, 480, 16)}
    assert len(colours) > 3


def test_render_with_bbox_levels_and_without_points(qapp, small_db, tmp_path):
    out = tmp_path / "zoom.png"
    assert cli(["render", str(out), "--db", small_db, "--size", "800x600", "--bbox", "112.82,35.47,112.88,35.53",
                "--levels", "2,3", "--no-sources", "--no-cases"]) == 0
    assert QImage(str(out)).size().toTuple() == (800, 600)


@pytest.mark.parametrize("args, message", [
    (["--bbox", "112.8,35.4,112.9"], "--bbox: expected minlon,minlat,maxlon,maxlat"),
    (["--bbox", "112.9,35.4,112.8,35.5"], "--bbox: need"),
    (["--bbox", "a,b,c,d"], "--bbox: expected"),
    (["--size", "10x10"], "--size: width and height must be"),
    (["--size", "big"], "--size: expected WIDTHxHEIGHT"),
    (["--levels", "5"], "--levels: expected grid levels 1–4"),
    (["--levels", "1,x"], "--levels: expected grid levels 1–4"),
    (["--levels", ""], "--levels: expected grid levels 1–4"),
])
def test_bad_arguments_fail_with_one_clear_line(qapp, small_db, tmp_path, capsys, args, message):
    out = tmp_path / "bad.png"
    assert cli(["render", str(out), "--db", small_db, *args]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("envgrid render: ") and message in err[0], err
    assert not out.exists()


def test_missing_workspace_or_folder_fails_cleanly(qapp, tmp_path, capsys):
    assert cli(["render", str(tmp_path / "a.png"), "--db", str(tmp_path / "nope.sqlite")]) != 0
    assert "no workspace" in capsys.readouterr().err
    assert not (tmp_path / "nope.sqlite").exists()  # never creates an empty workspace
    assert cli(["render", str(tmp_path / "missing" / "a.png"), "--db", str(tmp_path / "x.sqlite")]) != 0
    assert "does not exist" in capsys.readouterr().err


def test_render_runs_without_a_display(small_db, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = tmp_path / "headless.png"
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "render", str(out), "--db", small_db,
                             "--size", "480x320"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert QImage(str(out)).size().toTuple() == (480, 320)
