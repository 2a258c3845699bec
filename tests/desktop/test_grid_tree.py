from types import SimpleNamespace as G

from PySide6.QtCore import QModelIndex, Qt

from desktop.widgets.grid_tree import GRID_ID_ROLE, GridTreeModel

GRIDS = [
    G(id=1, parent_id=None, level=1, code="140502", name="城区"),
    G(id=2, parent_id=1, level=2, code="140502001", name="西街道"),
    G(id=3, parent_id=1, level=2, code="140502002", name="东街道"),
    G(id=4, parent_id=2, level=3, code="140502001001", name="西南社区"),
    G(id=5, parent_id=2, level=3, code="140502001002", name="西北社区"),
    G(id=6, parent_id=3, level=3, code="140502002001", name="东南社区"),
    G(id=7, parent_id=99, level=3, code="999", name="孤立网格"),  # parent not loaded: top level
]


def test_model_is_consistent(qtmodeltester):
    qtmodeltester.check(GridTreeModel(GRIDS))


def test_parent_child_counts():
    model = GridTreeModel(GRIDS)
    assert model.rowCount() == 2
    district = model.index(0, 0)
    assert model.data(district) == "城区 (140502)"
    assert model.data(model.index(0, 1)) == "一级网格"
    assert model.rowCount(district) == 2
    west, east = model.index(0, 0, district), model.index(1, 0, district)
    assert (model.rowCount(west), model.rowCount(east)) == (2, 1)
    village = model.index(1, 0, west)
    assert model.data(village) == "西北社区 (140502001002)"
    assert model.parent(village) == west
    assert model.parent(district) == QModelIndex()
    assert model.rowCount(village) == 0
    assert model.data(model.index(1, 0)) == "孤立网格 (999)"


def test_lookup_by_grid_id():
    model = GridTreeModel(GRIDS)
    index = model.index_for_grid(6)
    assert model.grid_id(index) == 6
    assert index.data(GRID_ID_ROLE) == 6
    assert model.data(model.parent(index)) == "东街道 (140502002)"
    assert not model.index_for_grid(12345).isValid()
    assert "三级网格" in model.data(index, Qt.ItemDataRole.ToolTipRole)


def test_parent_without_arguments_is_qobject_parent(qapp):
    from PySide6.QtCore import QObject

    owner = QObject()
    assert GridTreeModel(GRIDS, parent=owner).parent() is owner
