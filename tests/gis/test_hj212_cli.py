"""``envgrid hj212-listen`` and ``envgrid readings``."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import shapely
from sqlalchemy import func, insert, select

import gis.cli
from gis.cli import main as cli_main
from gis.cli import monitoring_commands
from gis.hj212.frame import build_frame, parse_frame
from gis.storage.schema import readings, stations
from gis.storage.store import open_store

ROOT = Path(__file__).resolve().parents[2]
# Until gis/cli/__init__.py lists the module, register it the way main.py adds extra commands.
EXTRA = () if monitoring_commands in gis.cli.COMMAND_MODULES else (monitoring_commands.register,)
T0 = datetime(2024, 5, 1, 8, 0, 0)


def add_station(store, mn: str, kind: str = "air") -> int:
    with store.engine.begin() as connection:
        return connection.execute(insert(stations).returning(stations.c.id), {
            "mn": mn, "name": f"测试站 {mn}", "kind": kind, "location": shapely.Point(112.85, 35.49),
            "lon": 112.85, "lat": 35.49, "active": True, "created_at": datetime.now()}).scalar_one()


def main(argv):
    return cli_main(argv, extra=EXTRA)


def add_readings(store, mn, cn, at, values, station_id=None, flag="N"):
    key = "rtd" if cn == "2011" else "avg"
    rows = [{"station_id": station_id, "mn": mn, "cn": cn, "data_time": at, "pollutant": code, "rtd": None,
             "avg": None, "min": None, "max": None, key: value, "flag": flag, "received_at": at}
            for code, value in values.items()]
    with store.engine.begin() as connection:
        connection.execute(insert(readings), rows)


@pytest.fixture
def monitored(store):
    air = add_station(store, "AIR-0001")
    water = add_station(store, "WATER-01", kind="water")
    hourly = {"a34004": 80.0, "a34002": 120.0, "a21026": 10.0, "a21004": 40.0, "a21005": 0.8, "a05024": 90.0,
              "a01001": 21.0}
    for h in range(3):
        add_readings(store, "AIR-0001", "2061", T0 + timedelta(hours=h), hourly, air)
    add_readings(store, "AIR-0001", "2011", T0, {"a34004": 75.0}, air)
    add_readings(store, "AIR-0001", "2031", T0.replace(hour=0), {"a34004": 40.0, "a05024": 150.0}, air)
    add_readings(store, "WATER-01", "2061", T0, {"w01018": 12.0, "w21003": 0.4}, water)
    add_readings(store, "STRAY-9", "2061", T0, {"a34004": 300.0})
    add_readings(store, "AIR-0001", "2061", T0 - timedelta(days=1), {"a34004": 500.0, "a21026": 900.0}, air, flag="D")
    return store.url.render_as_string(hide_password=False)


def run_json(capsys, url, *args):
    assert main(["readings", "--db", url, "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_readings_json_groups_values_and_aqi(monitored, capsys):
    from gis.aqi import daily_aqi, hourly_aqi

    groups = run_json(capsys, monitored)
    keys = [(g["mn"], g["cn"], g["data_time"]) for g in groups]
    assert keys == sorted(keys, key=lambda k: (k[0], k[2], k[1]))
    assert len(groups) == 8
    first_hour = next(g for g in groups if g["cn"] == "2061" and g["data_time"] == T0.isoformat()
                      and g["mn"] == "AIR-0001")
    assert first_hour["station"] == "测试站 AIR-0001" and first_hour["kind"] == "air"
    assert first_hour["values"]["a34004"] == {"rtd": None, "avg": 80.0, "min": None, "max": None, "flag": "N"}
    expected = hourly_aqi({"a34004": 80.0, "a34002": 120.0, "a21026": 10.0, "a21004": 40.0, "a21005": 0.8,
                           "a05024": 90.0}, pm_average="1h")
    assert (first_hour["aqi"], first_hour["level"], first_hour["primary"]) == (
        expected.aqi, expected.level.name, [str(p) for p in expected.primary])
    assert first_hour["iaqi"]["PM2.5"] == expected.iaqi["PM2.5"] and first_hour["colour"] == expected.level.colour
    daily = next(g for g in groups if g["cn"] == "2031")
    assert daily["aqi"] == daily_aqi({"a34004": 40.0}).aqi and "O3 left out" in daily["aqi_note"]
    realtime = next(g for g in groups if g["cn"] == "2011")
    water = next(g for g in groups if g["mn"] == "WATER-01")
    stray = next(g for g in groups if g["mn"] == "STRAY-9")
    assert "aqi" not in realtime and "aqi" not in water and "aqi" not in stray
    assert stray["station_id"] is None and stray["station"] is None
    faulty = next(g for g in groups if g["data_time"] == (T0 - timedelta(days=1)).isoformat())
    assert faulty["aqi"] is None  # flag D (fault): no value enters the AQI


def test_readings_filters(monitored, capsys):
    assert {g["mn"] for g in run_json(capsys, monitored, "--station", "WATER-01")} == {"WATER-01"}
    since = run_json(capsys, monitored, "--since", (T0 + timedelta(hours=1)).isoformat())
    assert sorted(g["data_time"] for g in since) == [(T0 + timedelta(hours=h)).isoformat() for h in (1, 2)]
    assert {g["cn"] for g in run_json(capsys, monitored, "--cn", "2011")} == {"2011"}
    latest = run_json(capsys, monitored, "--limit", "2")
    assert sorted(g["data_time"] for g in latest) == [(T0 + timedelta(hours=h)).isoformat() for h in (1, 2)]
    assert len(run_json(capsys, monitored, "--limit", "0")) == 8
    aware = run_json(capsys, monitored, "--since", "2024-05-01T09:00:00" + datetime.now().astimezone().strftime("%z"))
    assert len(aware) == 2


def test_readings_text(monitored, capsys):
    assert main(["readings", "--db", monitored, "--station", "AIR-0001", "--cn", "2061"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4
    assert out[1].startswith("AIR-0001  测试站 AIR-0001  2061  2024-05-01 08:00:00  a34004=80 ")
    assert " AQI " in out[1] and "首要污染物" in out[1]
    assert "a34004=500(D)" in out[0] and "AQI -" in out[0]


@pytest.mark.parametrize(("argv", "message"), [
    (["readings", "--since", "yesterday"], "--since: not an ISO date or date-time: 'yesterday' (e.g. 2024-05-01 or 2024-05-01T08:00)"),
    (["readings", "--limit", "-1"], "--limit must be 0 (all) or more, got -1"),
    (["hj212-listen", "--port", "70000"], "--port must be a TCP port number 0-65535, got '70000'"),
    (["hj212-listen", "--port", "http"], "--port must be a TCP port number 0-65535, got 'http'"),
])
def test_bad_arguments_give_one_clear_error(argv, message, tmp_path, capsys):
    assert main([*argv, "--db", str(tmp_path / "w.sqlite")]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [f"envgrid {argv[0]}: {message}"]


def test_listen_on_a_taken_port_is_one_clear_error(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["hj212-listen", "--db", str(tmp_path / "w.sqlite"), "--port", str(port)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"envgrid hj212-listen: cannot listen on 127.0.0.1:{port}: Address already in use"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_listen_stores_frames_prints_stats_and_stops_on_sigterm(tmp_path):
    db = str(tmp_path / "w.sqlite")
    script = ("import sys; from gis.cli import main; from gis.cli import monitoring_commands as m; import gis.cli as c;"
              "sys.exit(main(sys.argv[1:], extra=() if m in c.COMMAND_MODULES else (m.register,)))")
    process = subprocess.Popen([sys.executable, "-c", script, "hj212-listen", "--db", db, "--port", "0",
                                "--stats-interval", "0.2"], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = process.stderr.readline()
        while "listening on" not in line:
            assert line, "the listener exited early"
            line = process.stderr.readline()
        port = int(line.split("listening on 127.0.0.1:")[1].split(",")[0])
        # Three readings at three times (a re-sent frame of the same time would be stored once).
        frames = b"".join(build_frame("22", "2011", "AIR-0001", {"DataTime": T0 + timedelta(seconds=30 * i),
                                                                "a34004-Rtd": 35.0, "a34004-Flag": "N"}, flag=5)
                          for i in range(3))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as device:
            device.sendall(frames)
            received = b""
            while received.count(b"\r\n") < 3:
                received += device.recv(4096)
        assert all(parse_frame(r + b"\r\n").cn == "9014" for r in received.split(b"\r\n")[:3])
        while "frames ok 3" not in line:
            line = process.stderr.readline()
            assert line, "no stats line"
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=20)[1]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "stopped; connections 0 (total 1), frames ok 3 bad 0" in rest
    store = open_store(db)
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(readings)).scalar_one() == 3
    store.close()
