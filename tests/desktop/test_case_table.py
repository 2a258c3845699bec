"""CaseTableModel formatting: data() only formats the CaseSummary rows a fetcher handed it."""
from datetime import datetime, timedelta

from PySide6.QtCore import Qt

from desktop.widgets.case_table import CASE_ID_ROLE, CLOSED_COLOUR, OVERDUE_COLOUR, CaseTableModel
from gis.domain import CaseState, CaseSummary

NOW = datetime(2024, 5, 20, 12, 0)


def _case(i, state, created, due=None, grid="西南社区"):
    return CaseSummary(id=i, number=f"AJ{i:04d}", source="群众举报", category="水污染", state=str(state),
                       grid_id=1, grid_name=grid, lon=112.8, lat=35.5, created_at=created, due_at=due,
                       closed_at=None, description=f"说明{i}", extra={"address": f"凤台街{i}号", "category_id": 1})


CASES = [
    _case(1, CaseState.PENDING, NOW - timedelta(days=1), due=NOW - timedelta(hours=1)),   # overdue
    _case(2, CaseState.CLOSED, NOW - timedelta(days=3), due=NOW - timedelta(days=2)),     # closed, not overdue
    _case(3, CaseState.IN_PROGRESS, NOW - timedelta(days=2), due=NOW + timedelta(days=1)),
]


class StaticFetcher:
    """Answers at once with a fixed list (one page)."""

    def __init__(self, cases):
        self.cases = cases

    def fetch_page(self, f, order, after, limit, done):
        done([] if after is not None else self.cases[:limit])

    def fetch_count(self, f, done):
        done(len(self.cases))


def _model(cases=CASES) -> CaseTableModel:
    model = CaseTableModel(StaticFetcher(cases), now=NOW)
    model.reload()
    return model


def test_shape_and_headers(qtmodeltester):
    model = _model()
    qtmodeltester.check(model)
    assert (model.rowCount(), model.columnCount()) == (3, 7)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(7)]
    assert headers == ["编号", "来源", "类别", "状态", "网格", "上报时间", "期限"]


def test_data_only_formats():
    model = _model()
    row = [model.data(model.index(0, c)) for c in range(7)]
    assert row == ["AJ0001", "群众举报", "水污染", "待受理", "西南社区", "2024-05-19 12:00", "2024-05-20 11:00（已超期）"]
    assert model.data(model.index(1, 6)) == "2024-05-18 12:00"  # closed: a past deadline is not overdue
    assert model.data(model.index(0, 3), Qt.ItemDataRole.ForegroundRole) == OVERDUE_COLOUR
    assert model.data(model.index(1, 3), Qt.ItemDataRole.ForegroundRole) == CLOSED_COLOUR
    assert model.data(model.index(2, 0), Qt.ItemDataRole.ToolTipRole) == "说明3\n凤台街3号"
    assert model.data(model.index(2, 0), CASE_ID_ROLE) == 3


def test_reload_resets_and_counts(qtbot):
    model = CaseTableModel(StaticFetcher(CASES[:2]), now=NOW)
    with qtbot.waitSignal(model.modelReset), qtbot.waitSignal(model.countChanged):
        model.reload()
    assert model.rowCount() == 2 and model.total == 2
    assert model.case_at(1).number == "AJ0002"
