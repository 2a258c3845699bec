"""``envgrid watch``: a separate process prints one JSON line per change made by this one; SIGTERM exits 0."""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import insert
from test_changes_triggers import add_person, grid_values

from gis.cli import COMMAND_MODULES, main, watch_commands
from gis.storage import schema
from gis.storage.store import open_store

ROOT = Path(__file__).resolve().parents[2]
EXTRA = [] if watch_commands in COMMAND_MODULES else [watch_commands.register]
SCRIPT = ("import sys; from gis.cli import main; from gis.cli import watch_commands as w; import gis.cli as c;"
          "sys.exit(main(sys.argv[1:], extra=() if w in c.COMMAND_MODULES else (w.register,)))")


class Watcher:
    """``envgrid watch`` in a subprocess, its stdout and stderr lines in queues."""

    def __init__(self, *argv: str):
        self.process = subprocess.Popen([sys.executable, "-c", SCRIPT, "watch", *argv], cwd=ROOT, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=lambda s=stream, q=lines: [q.put(line) for line in s], daemon=True).start()

    def wait_for_err(self, text: str) -> None:
        while text not in self.err.get(timeout=20):
            pass

    def lines(self, count: int) -> list[str]:
        return [self.out.get(timeout=20).rstrip("\n") for _ in range(count)]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_watch_json_prints_changes_made_by_another_process_and_stops_on_sigterm(db_url):
    store = open_store(db_url)
    with store.engine.begin() as connection:
        before = add_person(connection, "已有")
    watcher = Watcher("--db", db_url, "--json", "--since", "0")
    try:
        watcher.wait_for_err("envgrid watch: connected since")
        with store.engine.begin() as connection:
            new = [add_person(connection, "新"), add_person(connection, "新2")]
        with store.engine.begin() as connection:
            connection.exec_driver_sql(f"DELETE FROM people WHERE id = {before}")
        lines = [json.loads(line) for line in watcher.lines(4)]
    finally:
        code = watcher.stop()
        store.close()
    assert code == 0
    assert [(c["table"], c["row_id"], c["op"]) for c in lines] == [
        ("people", before, "insert"), ("people", new[0], "insert"), ("people", new[1], "insert"),
        ("people", before, "delete")]  # --since 0: what was there first, then live
    assert [c["id"] for c in lines] == [1, 2, 3, 4]
    assert set(lines[0]) == {"id", "at", "table", "row_id", "op", "info"} and lines[0]["at"].endswith("Z")
    assert watcher.out.empty()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_watch_text_lines_start_after_the_latest_change(sqlite_url):
    store = open_store(sqlite_url)
    with store.engine.begin() as connection:
        add_person(connection, "已有")
    watcher = Watcher("--db", sqlite_url)
    try:
        watcher.wait_for_err("envgrid watch: connected since")
        with store.engine.begin() as connection:
            connection.execute(insert(schema.grids).values(**grid_values("G1")))
        line, = watcher.lines(1)
    finally:
        assert watcher.stop() == 0
        store.close()
    assert line.startswith("#2 ") and line.endswith(" grids 1 insert code=G1 level=1")


def test_watch_arguments_are_checked(tmp_path, capsys):
    assert main(["watch", "--db", str(tmp_path / "w.sqlite"), "--since", "-1"], extra=EXTRA) == 1
    assert capsys.readouterr().err.strip() == "envgrid watch: --since must be a change id (0 or more), got -1"
    assert main(["watch", "--db", str(tmp_path / "missing.sqlite")], extra=EXTRA) == 2
    assert "no workspace at" in capsys.readouterr().err
