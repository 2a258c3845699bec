"""Sign PDFs: one page per grid, the names and phones in the text, a readable page when rendered."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import shapely
from PySide6.QtGui import QImage

from desktop.commands import register_desktop_commands
from desktop.pdf_text import RADICAL_BLOCKS
from desktop.sign_pdf import write_signs_pdf
from gis.cli import main
from gis.domain import HOTLINE, Grid, Person, Role
from gis.signs import build_sign

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


def pdf_pages(path, *options: str) -> list[str]:
    """Text per page exactly as a reader copies it out (no folding of look-alike characters)."""
    text = subprocess.run(["pdftotext", *options, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def radicals(text: str) -> set[str]:
    return {ch for ch in text if any(first <= ord(ch) <= last for first, last in RADICAL_BLOCKS)}


@needs_poppler
def test_level_signs_have_one_page_per_grid_with_names_and_phones(small_db, tmp_path, capsys):
    out = tmp_path / "signs.pdf"
    assert main(["signs", str(out), "--db", small_db, "--level", "3"], extra=[register_desktop_commands]) == 0
    assert "4 pages, A4" in capsys.readouterr().out
    pages = pdf_pages(out, "-layout")
    assert len(pages) == 4
    for page, (name, leader, phone) in zip(pages, [("西南社区", "网格长0", "138 0000 0000"),
                                                    ("西北社区", "网格长1", "138 0000 0001"),
                                                    ("东南社区", "网格长2", "138 0000 0002"),
                                                    ("东北社区", "网格长3", "138 0000 0003")]):
        assert name in page and leader in page and phone in page
        assert "环境保护网格化监管公示牌" in page and "12369" in page and "四至范围" in page
        assert "工作职责" in page


@needs_poppler
def test_single_grid_a3_renders_as_a_sign(small_db, tmp_path):
    out = tmp_path / "one.pdf"
    assert main(["signs", str(out), "--db", small_db, "--grid", "140502002001", "--size", "A3"],
                extra=[register_desktop_commands]) == 0
    info = subprocess.run(["pdfinfo", str(out)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M) and "(A3)" in info
    subprocess.run(["pdftoppm", "-r", "20", "-png", "-singlefile", str(out), str(tmp_path / "page")], check=True)
    image = QImage(str(tmp_path / "page.png"))
    assert not image.isNull()
    top = image.pixelColor(image.width() // 2, int(image.height() * 0.08))  # the red title band
    assert top.red() > 150 and top.green() < 60 and top.blue() < 60
    bottom = image.pixelColor(image.width() // 2, int(image.height() * 0.91))  # the hotline band
    assert bottom.red() > 150 and bottom.green() < 60


def test_bad_choices_are_refused_with_one_line(small_db, tmp_path, capsys):
    out = tmp_path / "x.pdf"
    assert main(["signs", str(out), "--db", small_db, "--grid", "nope"], extra=[register_desktop_commands]) == 1
    assert capsys.readouterr().err.strip() == "envgrid signs: no grid with code nope"
    assert main(["signs", str(out), "--db", small_db, "--level", "3", "--size", "B5"],
                extra=[register_desktop_commands]) == 1
    assert "--size: expected A4 or A3" in capsys.readouterr().err
    assert main(["signs", str(out), "--db", small_db], extra=[register_desktop_commands]) == 1
    assert "choose the grids" in capsys.readouterr().err
    assert not out.exists()


@needs_poppler
def test_copied_text_is_the_characters_printed(qapp, tmp_path):
    """Noto CJK draws 网/⽹, 长/⻓, 门/⻔… with one glyph; the copied text must be the ideographs."""
    grid = Grid(id=1, code="140502001001", name="西门长青网格", level=3, parent_id=None,
                boundary=shapely.MultiPolygon([shapely.box(112.80, 35.45, 112.85, 35.50)]), area_m2=2.5e7,
                east="长青路", south="黄河街", west="马车门", north="见角页")
    sign = build_sign(grid, staff=[(Role.LEADER, Person(1, "马长见", "13800000001"))], district="城区")
    out = tmp_path / "sign.pdf"
    assert write_signs_pdf([sign], out, "A3") == 1
    (page,) = pdf_pages(out)
    lines = page.splitlines()
    assert sign.name in lines
    for phrase in sign.bounds_phrases():
        assert phrase in lines
    assert "马长见" in lines and HOTLINE in page and "环境保护网格化监管公示牌" in lines
    assert radicals(page) == set()
    assert not [p for p in tmp_path.iterdir() if p.name != "sign.pdf"]  # no temporary file left
