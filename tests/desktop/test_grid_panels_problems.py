"""The problem panel lists what validation finds, zooms to it, and its quick fixes really fix."""
from __future__ import annotations

import shapely
from small_workspace import MID_LAT, MID_LON, SOUTH, WEST, build_small_workspace

from desktop.grid_panels.problem_panel import ProblemPanel
from gis.editing import GridEditSession
from gis.storage import schema
from gis.storage.store import open_store
from gis.validation import validate_workspace

SW = "140502001001"  # 西南社区: shrunk by 0.001° so a gap opens inside 西街道


def broken_store(tmp_path):
    store = open_store(str(tmp_path / "broken.sqlite"))
    build_small_workspace(store)
    shrunk = shapely.MultiPolygon([shapely.box(WEST, SOUTH, MID_LON - 0.001, MID_LAT)])
    with store.engine.begin() as connection:
        connection.execute(schema.grids.update().where(schema.grids.c.code == SW)
                           .values(boundary=shrunk, max_lon=MID_LON - 0.001))
    return store


def check(qtbot, panel):
    panel.refresh()
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    return panel.model.problems


def test_problems_of_a_broken_workspace_are_listed_with_area(qtbot, tmp_path):
    store = broken_store(tmp_path)
    zoomed = []
    panel = ProblemPanel(store, zoom=zoomed.append)
    qtbot.addWidget(panel)
    problems = check(qtbot, panel)
    gaps = [p for p in problems if p.kind == "gap"]
    assert len(gaps) == 1 and SW in gaps[0].grids
    # 0.001° × 0.05° at 35.5°N: about 90.6 m × 5.55 km.
    assert 480_000 < gaps[0].area_m2 < 530_000
    assert any(p.kind == "missing_leader" and p.grids == ("140502",) for p in problems)
    row = problems.index(gaps[0])
    assert panel.model.index(row, 1).data() == "空隙"
    assert "西街道" in panel.model.index(row, 5).data()
    assert panel.status.text().startswith("工作空间：1 个错误")
    panel.view.setCurrentIndex(panel.model.index(row, 0))
    assert panel.fix_button.isEnabled()
    panel.zoom_button.click()
    assert zoomed == [gaps[0]]
    # Level filter: level 2 has no gaps (the district is tiled by its towns).
    panel.set_level(2)
    assert not [p for p in check(qtbot, panel) if p.kind == "gap"]
    store.close()


def test_gap_fix_without_an_edit_session_is_saved_and_resolves_the_gap(qtbot, tmp_path):
    store = broken_store(tmp_path)
    panel = ProblemPanel(store)
    qtbot.addWidget(panel)
    problems = check(qtbot, panel)
    gap = next(p for p in problems if p.kind == "gap")
    choices = [text for text, _ in panel.fix_choices(gap)]
    assert choices == ["空隙并入“西南社区”", "空隙并入“西北社区”"]
    assert panel.fix(problems.index(gap))
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    assert not [p for p in panel.model.problems if p.kind == "gap"]
    with store.engine.connect() as connection:
        assert not [p for p in validate_workspace(connection) if p.is_error]
        area = connection.execute(shapely_area_query(SW)).scalar_one()
    assert area > 25_000_000  # 西南社区 got the gap back
    # The boundary change flagged 西南社区's 四至; accepting the suggestion clears the flag.
    assert [r.code for r in panel.review_model.rows] == [SW]
    assert panel.accept_review(0)
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    assert panel.review_model.rows == []
    with store.engine.connect() as connection:
        east = connection.execute(schema.grids.select().where(schema.grids.c.code == SW)).first().east
    assert east == "东南社区"
    store.close()


def shapely_area_query(code):
    return schema.grids.select().with_only_columns(schema.grids.c.area_m2).where(schema.grids.c.code == code)


class FakeEditor:
    """What the panel needs of the edit controller: a session and push."""

    def __init__(self, session):
        self.session = session
        self.pushed = []

    def push(self, command):
        self.pushed.append(command)
        self.session.push(command)
        return True


def test_fix_in_an_edit_session_goes_through_apply_and_undoes(qtbot, tmp_path):
    store = broken_store(tmp_path)
    with store.engine.connect() as connection:
        session = GridEditSession.load(connection)
    editor = FakeEditor(session)
    panel = ProblemPanel(store, editor=editor)
    qtbot.addWidget(panel)
    problems = check(qtbot, panel)
    assert panel.status.text().startswith("编辑中的网格")
    gap = next(p for p in problems if p.kind == "gap")
    west_north = session.grids[next(g.id for g in session.grids.values() if g.code == "140502001002")]
    options = dict(panel.fix_choices(gap))["空隙并入“西北社区”"]
    assert panel.fix_problem(gap, **options)
    assert [c.label for c in editor.pushed] == ["空隙并入“西北社区”"]
    assert session.grids[west_north.id].boundary.area > west_north.boundary.area
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    assert not [p for p in panel.model.problems if p.kind == "gap"]
    with store.engine.connect() as connection:  # nothing saved: the session decides
        assert [p for p in validate_workspace(connection) if p.kind == "gap"]
    session.undo()
    assert session.grids[west_north.id] is west_north
    assert [p for p in check(qtbot, panel) if p.kind == "gap"]
    store.close()
