"""``envgrid report``: the PDF's text is real, selectable Chinese with the fonts embedded; bad input fails cleanly.

The PDF is read back with poppler-utils (pdftotext, pdffonts, pdfinfo), as a reader would.
"""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from gis.storage.store import open_store
from main import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gis"))  # the report's hand-made world
from test_report_world import GENERATED, WEEK, build_report_world  # noqa: E402

POPPLER = all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdfinfo"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdffonts) is not installed")


@pytest.fixture
def report_db(tmp_path):
    path = tmp_path / "report.sqlite"
    store = open_store(str(path))
    _, numbers = build_report_world(store)
    store.close()
    return str(path), numbers


def _text(pdf: Path, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@needs_poppler
def test_report_pdf_text_is_selectable_and_fonts_embedded(qapp, report_db, tmp_path, capsys):
    db, numbers = report_db
    out, xlsx = tmp_path / "out" / "周报.pdf", tmp_path / "out" / "周报.xlsx"
    out.parent.mkdir()
    assert cli(["report", str(out), "--db", db, "--period", "week", "--date", "2026-09-16", "--xlsx", str(xlsx)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in out.parent.iterdir()) == ["周报.pdf", "周报.xlsx"]  # no temporary files left

    text = _text(out)
    for expected in ("测试区", "网格化环境监管周报", "2026年第38周", "2026年9月14日—2026年9月20日", "测试区生态环境局",
                     "主要指标", "新增案件", "↑150.0%", "按期办结率", "↓66.7个百分点", "案件分布图", "空气质量",
                     "超期未办结案件（2 件）", numbers["C"], numbers["B"], "网格长 西镇S村",
                     "重复发生问题", "巡查上报×2、群众举报×1", "城区空气站"):
        assert expected in text, expected
    assert "⽹" not in text and "⻚" not in text  # the Kangxi radicals Qt's own ToUnicode map gave
    pages = _pages(out)
    assert pages >= 4
    for page in range(1, pages + 1):
        assert f"第{page}页共{pages}页" in "".join(_text(out, page).split())
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # emb column
    assert any("NotoSansCJK" in line for line in fonts)
    assert openpyxl.load_workbook(xlsx)["主要指标"]["B3"].value == "件"


@needs_poppler
def test_a_long_overdue_list_runs_over_pages_with_its_header_repeated(qapp, report_db, tmp_path):
    from desktop.report_pdf import write_report_pdf
    from gis.report.breakdowns import OverdueRow
    from gis.report.build import build_report

    db, _ = report_db
    store = open_store(db, create=False)
    with store.engine.connect() as connection:
        report = build_report(connection, WEEK, generated_at=GENERATED)
    store.close()
    rows = [OverdueRow(f"AJ2026{i:07d}", "扬尘污染", f"西镇S村{i}号网格", "处置中", "网格长 某某",
                       datetime(2026, 9, 1) + timedelta(hours=i), 20 - i // 10) for i in range(90)]
    out = tmp_path / "long.pdf"
    pages = write_report_pdf(dataclasses.replace(report, overdue=rows), out)
    text = _text(out)
    assert all(row.number in text for row in rows)
    pages_with_list = [p for p in range(1, pages + 1) if "AJ2026" in _text(out, p)]
    assert len(pages_with_list) >= 3
    for page in pages_with_list:
        assert "案件编号" in _text(out, page) and "超期天" in _text(out, page)  # the header row, on every page


@pytest.mark.parametrize("args, message", [
    (["--period", "year"], "envgrid report: --period: expected one of week, month, quarter, got 'year'"),
    (["--period", "week", "--date", "2026-13-01"], "envgrid report: --date: expected a day such as 2026-11-20"),
    (["--period", "month", "--xlsx", "{tmp}/nowhere/a.xlsx"], "--xlsx: cannot write"),
    (["--period", "month", "--xlsx", "{tmp}/a.csv"], "--xlsx: expected a .xlsx file name"),
])
def test_bad_input_fails_in_one_line_and_writes_nothing(qapp, report_db, tmp_path, capsys, args, message):
    db, _ = report_db
    out = tmp_path / "bad.pdf"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert cli(["report", str(out), "--db", db, *args]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists() and not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".bad.pdf*"))


def test_missing_folder_or_workspace(qapp, report_db, tmp_path, capsys):
    db, _ = report_db
    assert cli(["report", str(tmp_path / "no" / "r.pdf"), "--db", db, "--period", "week"]) != 0
    err = capsys.readouterr().err
    assert "folder" in err and "does not exist" in err
    assert cli(["report", str(tmp_path / "r.pdf"), "--db", str(tmp_path / "none.sqlite"), "--period", "week"]) != 0
    assert "no workspace" in capsys.readouterr().err
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "none.sqlite").exists()
