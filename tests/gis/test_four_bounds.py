"""四至 suggestions read off shared boundaries."""
import shapely

from gis.domain import Grid
from gis.four_bounds import FourBounds, suggest_four_bounds


def _grid(grid_id, name, x, y, w=0.01, h=0.01):
    return Grid(grid_id, str(grid_id), name, 3, None, shapely.box(112.8 + x, 35.5 + y, 112.8 + x + w, 35.5 + y + h))


def test_two_by_two_block_names_each_neighbour_once_and_the_outside():
    grids = [_grid(1, "西南村", 0, 0), _grid(2, "东南村", 0.01, 0), _grid(3, "西北村", 0, 0.01),
             _grid(4, "东北村", 0.01, 0.01)]
    bounds = suggest_four_bounds(grids, outside="泽州县")
    assert bounds[1] == FourBounds(east="东南村", south="泽州县", west="泽州县", north="西北村")
    assert bounds[4] == FourBounds(east="泽州县", south="东南村", west="西北村", north="泽州县")
    assert bounds[1].phrases() == ["东至东南村", "南至泽州县", "西至泽州县", "北至西北村"]


def test_long_side_shared_by_two_neighbours_lists_the_longer_first_and_drops_corner_touches():
    big = _grid(1, "大村", 0, 0, w=0.01, h=0.03)
    # A valid coverage: the east side carries the vertex where its two neighbours meet.
    big.boundary = shapely.Polygon([(112.8, 35.5), (112.81, 35.5), (112.81, 35.51), (112.81, 35.53), (112.8, 35.53)])
    north_east = _grid(2, "长邻村", 0.01, 0.01, h=0.02)
    south_east = _grid(3, "短邻村", 0.01, 0.0, h=0.01)
    corner = _grid(4, "角村", 0.01, 0.03)  # touches 大村 only at a point
    bounds = suggest_four_bounds([big, north_east, south_east, corner])
    assert bounds[1].east == "长邻村、短邻村"
    assert "角村" not in bounds[1].north + bounds[1].east
