"""The report's workbook: one sheet per table, Chinese headers, number formats; written whole or not at all."""
from __future__ import annotations

import os

import openpyxl
import pytest

from gis.report.build import build_report
from gis.report.files import OutputError, atomic_output
from gis.report.kpi import Kpi
from gis.report.xlsx import write_report_xlsx
from test_report_world import GENERATED, WEEK, build_report_world


def test_workbook_holds_every_table(store, tmp_path):
    world, numbers = build_report_world(store)
    with store.engine.connect() as connection:
        report = build_report(connection, WEEK, generated_at=GENERATED)
    folder = tmp_path / "out"
    folder.mkdir()
    out = write_report_xlsx(report, folder / "周报.xlsx")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["主要指标", "案件类别", "案件来源", "二级网格", "三级网格前十", "每日新增与办结",
                               "空气质量天数", "超期未办结案件", "重复发生问题"]
    assert os.listdir(folder) == ["周报.xlsx"]  # no temporary file left behind

    kpi = book["主要指标"]
    assert kpi["A1"].value.startswith("测试区网格化环境监管周报（2026年第38周")
    assert [c.value for c in kpi[2]] == ["指标", "单位", "本期（2026年第38周）", "上期（2026年第37周）", "环比变化"]
    rows = {r[0]: r[1:] for r in kpi.iter_rows(min_row=3, max_row=10, values_only=True)}
    assert rows["新增案件"] == ("件", 5, 2, "↑150.0%")
    assert rows["按期办结率"] == ("%", 33.3, 100.0, "↓66.7个百分点")
    assert kpi["C3"].number_format == "#,##0" and kpi["C6"].number_format == '0.0"%"'
    assert kpi.column_dimensions["A"].width >= 20

    overdue = book["超期未办结案件"]
    assert [c.value for c in overdue[2]][:4] == ["序号", "案件编号", "问题类别", "所在网格"]
    assert [overdue.cell(r, 2).value for r in (3, 4)] == [numbers["C"], numbers["B"]]
    assert overdue.cell(3, 7).number_format == "yyyy-mm-dd hh:mm" and overdue.cell(3, 8).value == 4

    aqi = book["空气质量天数"]
    assert [c.value for c in aqi[2]] == ["站点", "优", "良", "轻度污染", "中度污染", "重度污染", "严重污染",
                                        "无有效数据", "优良率"]
    assert [c.value for c in aqi[3]] == ["城区空气站", 1, 0, 1, 0, 0, 0, 5, 50.0]


def test_unwritable_targets_fail_before_anything_is_written(tmp_path):
    with pytest.raises(OutputError, match="folder .*missing.* does not exist"):
        with atomic_output(tmp_path / "missing" / "a.xlsx"):
            pass
    with pytest.raises(OutputError, match="it is a folder"):
        with atomic_output(tmp_path):
            pass


def test_a_failure_while_writing_leaves_the_old_file(tmp_path):
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as temporary:
            with open(temporary, "wb") as handle:
                handle.write(b"half")
            raise RuntimeError("broke while writing")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["report.xlsx"]


@pytest.mark.parametrize("value, previous, rate, text", [
    (12, 10, False, "↑20.0%"), (8, 10, False, "↓20.0%"), (10, 10, False, "持平"), (3, 0, False, "新增"),
    (0, 0, False, "持平"), (55.5, 50.0, True, "↑5.5个百分点"), (None, 50.0, True, "—"), (40.0, None, True, "—"),
])
def test_kpi_change_text(value, previous, rate, text):
    assert Kpi("x", value, previous, rate=rate).change_text == text


def test_a_written_file_gets_the_usual_permissions_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "report.pdf") as temporary:
            with open(temporary, "wb") as handle:
                handle.write(b"%PDF")
    finally:
        os.umask(old)
    assert (tmp_path / "report.pdf").stat().st_mode & 0o777 == 0o644
