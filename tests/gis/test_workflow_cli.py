"""``envgrid case new|act|show|overdue`` on both backends."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import pytest

from gis.cli import COMMAND_MODULES, case_commands, main
from gis.storage.store import open_store
from test_workflow_world import build_world

EXTRA = [] if case_commands in COMMAND_MODULES else [case_commands.register]


def envgrid(*argv) -> int:
    return main([str(a) for a in argv], extra=EXTRA)


@pytest.fixture
def workspace(db_url):
    store = open_store(db_url)
    world = build_world(store)
    store.close()
    return db_url, world


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_new_act_show_through_to_closure(workspace, capsys, tmp_path):
    db, world = workspace
    lon, lat = world.centre("T1S1")
    assert envgrid("case", "new", "--db", db, "--source", "12369", "--category", "扬尘污染", "--lon", lon,
                   "--lat", lat, "--desc", "工地扬尘", "--reporter-name", "李四", "--reporter-phone", "137",
                   "--actor", "坐席王") == 0
    out = capsys.readouterr().out
    number = out.split()[0]
    today = datetime.now().strftime("%Y%m%d")
    assert number == f"AJ{today}001" and "待受理" in out
    assert f"网格: {world['T1S1'].name} (T1S1, 4级)" in out
    assert f"网格长 {world.people['T1S1'].name} {world.people['T1S1'].phone}" in out

    photo = tmp_path / "after.jpg"
    photo.write_bytes(b"\xff\xd8 after")
    for argv in (["派发"], ["accept"], ["整改完成", "--note", "已覆盖", "--photo", photo], ["提交复查"],
                 ["复查不通过", "--reason", "反弹"], ["整改完成", "--note", "再次覆盖"], ["submit_recheck"],
                 ["复查销号"], ["反馈", "--note", "已办结"]):
        assert envgrid("case", "act", number, argv[0], *argv[1:], "--db", db, "--actor", "网格员") == 0, argv
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{number} 派发: 待受理 → 已派发 (版本 2)"
    assert lines[-2] == f"{number} 复查销号: 待复查 → 已销号 (版本 9)"

    assert envgrid("case", "show", number, "--db", db, "--json") == 0
    detail = _json(capsys)
    assert detail["state"] == "已销号" and detail["version"] == 9 and detail["reporter_phone"] == "137"
    assert [e["action"] for e in detail["events"]] == ["登记", "派发", "签收处置", "整改完成", "提交复查", "复查不通过",
                                                       "整改完成", "提交复查", "复查销号", "反馈"]
    (attachment,) = detail["events"][3]["attachments"]
    assert attachment["sha256"] == hashlib.sha256(b"\xff\xd8 after").hexdigest()
    assert detail["leaders"][0]["phone"] == world.people["T1S1"].phone

    assert envgrid("case", "show", number, "--db", db) == 0
    text = capsys.readouterr().out
    assert "复查不通过 (内部)" in text and "附件 after.jpg" in text and "历史:" in text
    assert envgrid("case", "show", number, "--db", db, "--reporter") == 0
    told = capsys.readouterr().out
    assert "已办结" in told and "复查不通过" not in told and "网格员" not in told


def test_refusals_are_one_clear_line(workspace, capsys):
    db, world = workspace
    lon, lat = world.centre("T2N2")
    assert envgrid("case", "new", "--db", db, "--source", "巡查上报", "--lon", lon, "--lat", lat, "--desc", "x",
                   "--json") == 0
    new = _json(capsys)
    number = new["number"]
    assert new["grid"]["code"] == "T2N2" and new["near_border"] == [] and new["duplicates"] == []
    cases = [
        (["act", number, "复查销号"], "待受理 的案件不能执行「复查销号」"),
        (["act", number, "退回"], "待受理 的案件不能执行「退回」"),
        (["act", number, "误报"], "「误报」需要填写原因"),
        (["act", number, "fly"], "未知的操作「fly」"),
        (["act", "AJ20000101001", "派发"], "案件 AJ20000101001 不存在"),
        (["act", number, "派发", "--grid", "NOPE"], "--grid: no grid with code 'NOPE'"),
        (["act", number, "派发", "--photo", "/nonexistent/p.jpg"], "--photo /nonexistent/p.jpg: No such file"),
        (["act", number, "派发", "--expected-version", "5"], f"案件 {number} 已被他人修改：预期版本 5，当前版本 1"),
        (["new", "--source", "传真", "--lon", lon, "--lat", lat, "--desc", "x"], "未知的案件来源「传真」"),
        (["new", "--source", "巡查上报", "--category", "沙尘暴", "--lon", lon, "--lat", lat, "--desc", "x"],
         "未知的案件类别「沙尘暴」"),
    ]
    for argv, message in cases:
        assert envgrid("case", *argv, "--db", db) == 1, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("envgrid case: ") and message in err[0], (argv, err)
    assert envgrid("case", "show", number, "--db", db, "--json") == 0
    assert _json(capsys)["version"] == 1


def test_new_near_a_border_lists_alternatives_and_duplicates(workspace, capsys):
    db, _ = workspace
    lon = 112.825 + 0.0002  # ≈ 18 m east of the T1S1 | T1S2 line
    for _ in range(2):
        assert envgrid("case", "new", "--db", db, "--source", "群众举报", "--category", "噪声扰民", "--lon", lon,
                       "--lat", 35.425, "--desc", "夜间施工") == 0
    out = capsys.readouterr().out
    assert "注意: 距网格边界 18 m，也可能属于: " in out and "(T1S1, 18 m)" in out
    assert "可能重复: " in out and "(待受理, 0 m) 夜间施工" in out


def test_overdue_lists_and_reminds(workspace, capsys):
    db, world = workspace
    lon, lat = world.centre("T2S1")
    assert envgrid("case", "new", "--db", db, "--source", "监测报警", "--category", "监测超标", "--lon", lon,
                   "--lat", lat, "--desc", "PM2.5 超标", "--json") == 0
    number = _json(capsys)["number"]
    assert envgrid("case", "act", number, "派发", "--db", db) == 0
    capsys.readouterr()
    later = (datetime.now() + timedelta(hours=30)).isoformat(timespec="minutes")
    assert envgrid("case", "overdue", "--db", db, "--now", later, "--remind", "--actor", "督办员") == 0
    out = capsys.readouterr().out
    assert number in out and "超期 " in out and world.people["T2S1"].phone in out
    assert out.rstrip().endswith("超期 1 件，已督办 1 件")
    assert envgrid("case", "overdue", "--db", db, "--now", later, "--json") == 0
    (listed,) = _json(capsys)["cases"]
    assert listed["phone"] == world.people["T2S1"].phone and listed["last_reminded_at"] is not None
    assert envgrid("case", "overdue", "--db", db, "--now", "yesterday") == 1
    assert "--now: not an ISO date/time" in capsys.readouterr().err
