"""Tests for gis.demo.subdivide: exact, deterministic invented grid hierarchies."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely import MultiPolygon, Polygon, box

from gis.demo.subdivide import Node, allocate, build_hierarchy, partition

DISTRICT = Path(__file__).resolve().parents[2] / "resources" / "data" / "jincheng_chengqu_gcj02.geojson"

SQUARE = box(0, 0, 1000, 1000)
L_SHAPE = Polygon([(0, 0), (2000, 0), (2000, 500), (500, 500), (500, 2000), (0, 2000)])


def assert_tiles(parent, pieces, *, area_tol=1e-3, sym_tol=1.0):
    """``pieces`` are valid, form a valid coverage and their union is ``parent``."""
    pieces = list(pieces)
    assert all(p.is_valid and not p.is_empty for p in pieces)
    assert shapely.coverage_is_valid(pieces)
    union = shapely.coverage_union_all(pieces)
    assert abs(union.area - parent.area) < area_tol
    assert shapely.symmetric_difference(union, parent).area < sym_tol


def area_ratios(pieces) -> np.ndarray:
    areas = shapely.area(np.asarray(pieces))
    return areas / areas.mean()


# ----------------------------------------------------------------------------------------
# allocate
# ----------------------------------------------------------------------------------------


def test_allocate_is_proportional_and_exact():
    assert allocate(10, [1, 1, 2]) == [3, 2, 5]  # quotas 2.5/2.5/5: tie to the first
    assert allocate(146, [1.0] * 8) == [19, 19, 18, 18, 18, 18, 18, 18]
    counts = allocate(780, np.random.default_rng(1).uniform(1, 9, 146), minimum=2)
    assert sum(counts) == 780 and min(counts) >= 2


def test_allocate_respects_minimum():
    # Proportionally the small parents would get 0; the floor lifts them, the big one pays.
    assert allocate(10, [100, 1, 1], minimum=2) == [6, 2, 2]
    assert allocate(3, [5, 0, 0], minimum=1) == [1, 1, 1]


def test_allocate_rejects_impossible_totals():
    with pytest.raises(ValueError):
        allocate(5, [1, 1, 1], minimum=2)
    with pytest.raises(ValueError):
        allocate(5, [1, -1])


# ----------------------------------------------------------------------------------------
# partition on simple shapes
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_partition_square(n):
    pieces = partition(SQUARE, n, np.random.default_rng(3))
    assert len(pieces) == n
    assert_tiles(SQUARE, pieces, area_tol=1e-6, sym_tol=1e-6)
    assert all(isinstance(p, Polygon) for p in pieces)
    assert area_ratios(pieces).min() > 0.8


@pytest.mark.parametrize("n", [2, 3, 5, 12])
def test_partition_l_shape_gives_connected_pieces(n):
    pieces = partition(L_SHAPE, n, np.random.default_rng(n))
    assert len(pieces) == n
    assert_tiles(L_SHAPE, pieces, area_tol=1e-6, sym_tol=1e-6)
    # The L is connected, so every piece must be a single polygon.
    assert all(isinstance(p, Polygon) for p in pieces)
    assert area_ratios(pieces).min() > 0.5


def test_partition_shares_edges_vertex_for_vertex():
    pieces = partition(L_SHAPE, 6, np.random.default_rng(11))
    # Orient all shells the same way: an internal edge then appears exactly once in each
    # direction, in the two pieces beside it; an edge on the outline appears once.
    segments: dict[tuple, int] = {}
    for piece in pieces:
        ring = shapely.get_coordinates(shapely.orient_polygons(piece).exterior)
        for a, b in zip(map(tuple, ring[:-1]), map(tuple, ring[1:])):
            segments[(a, b)] = segments.get((a, b), 0) + 1
    assert set(segments.values()) == {1}
    outline = L_SHAPE.boundary
    internal = 0
    for a, b in segments:
        middle = shapely.Point((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        if outline.distance(middle) > 1e-6:
            internal += 1
            assert (b, a) in segments
    assert internal > 0


def test_partition_multipolygon_with_islands_and_hole():
    main = box(0, 0, 3000, 2000).difference(box(1200, 800, 1600, 1200))
    geom = MultiPolygon([main, box(3100, 0, 3300, 200), box(-500, 2500, -300, 2700)])
    pieces = partition(geom, 6, np.random.default_rng(5))
    assert len(pieces) == 6
    assert_tiles(geom, pieces, area_tol=1e-6, sym_tol=1e-6)
    # The two islands must end up somewhere; each extra part is a whole island.
    parts = [len(shapely.get_parts(p)) for p in pieces]
    assert sum(parts) - len(pieces) <= 2


def test_partition_weights_set_relative_areas():
    pieces = partition(SQUARE, 3, np.random.default_rng(5), weights=[1, 2, 3])
    shares = shapely.area(np.asarray(pieces)) / SQUARE.area
    np.testing.assert_allclose(shares, [1 / 6, 2 / 6, 3 / 6], atol=0.03)


def test_partition_far_from_origin():
    """Gauss-Kruger coordinates (~4e6 m) must not cost precision."""
    geom = shapely.transform(L_SHAPE, lambda xy: xy + (38_390_000, 3_930_000))
    pieces = partition(geom, 5, np.random.default_rng(2))
    assert_tiles(geom, pieces, area_tol=1e-6, sym_tol=1e-6)


def test_partition_is_deterministic():
    first = [p.wkb for p in partition(L_SHAPE, 5, np.random.default_rng(7))]
    again = [p.wkb for p in partition(L_SHAPE, 5, np.random.default_rng(7))]
    other = [p.wkb for p in partition(L_SHAPE, 5, np.random.default_rng(8))]
    assert first == again
    assert first != other


def test_partition_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        partition(SQUARE, 0, rng)
    with pytest.raises(ValueError):
        partition(Polygon(), 2, rng)
    with pytest.raises(ValueError):
        partition(Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), 2, rng)  # bow-tie
    with pytest.raises(ValueError):
        partition(SQUARE, 2, rng, weights=[1, 0])


# ----------------------------------------------------------------------------------------
# build_hierarchy on a simple shape
# ----------------------------------------------------------------------------------------


def check_hierarchy(tree: Node, depth: int, *, min_ratio: float):
    """Every parent is exactly tiled by its children; every level is a coverage."""
    for node in tree.walk():
        if not node.children:
            continue
        children = [c.geom for c in node.children]
        assert_tiles(node.geom, children)
        # Rebuilt bottom-up: the parent *is* the union of its children, vertex for vertex.
        union = shapely.coverage_union_all(children)
        assert shapely.equals_exact(shapely.normalize(union), shapely.normalize(node.geom), 0)
        assert area_ratios(children).min() >= min_ratio
        assert [c.path for c in node.children] == [
            node.path + (i,) for i in range(len(node.children))
        ]
    for d in range(1, depth + 1):
        assert_tiles(tree.geom, [n.geom for n in tree.level(d)])


def test_build_hierarchy_small():
    tree = build_hierarchy(L_SHAPE, [3, 10, 30], np.random.default_rng(1), minimum=[1, 1, 2])
    assert [len(tree.level(d)) for d in (1, 2, 3)] == [3, 10, 30]
    assert all(len(n.children) >= 2 for n in tree.level(2))
    check_hierarchy(tree, 3, min_ratio=0.3)
    assert shapely.symmetric_difference(tree.geom, L_SHAPE).area < 1e-6
    assert "children=3" in repr(tree)


def test_build_hierarchy_explicit_counts_and_determinism():
    def build():
        return build_hierarchy(SQUARE, [2, [3, 1]], np.random.default_rng(4))

    tree = build()
    assert [len(n.children) for n in tree.level(1)] == [3, 1]
    check_hierarchy(tree, 2, min_ratio=0.3)
    assert [n.geom.wkb for n in tree.walk()] == [n.geom.wkb for n in build().walk()]


def test_build_hierarchy_rejects_degrees():
    lonlat = box(112.8, 35.4, 113.0, 35.6)
    with pytest.raises(ValueError, match="lon/lat"):
        build_hierarchy(lonlat, [2], np.random.default_rng(0))


# ----------------------------------------------------------------------------------------
# The real district (晋城市城区), full 1 -> 8 -> 146 -> ~780 hierarchy
# ----------------------------------------------------------------------------------------


def load_district():
    """The district boundary projected to CGCS2000 / 3-degree GK CM 114E (EPSG:4547).

    The file is GCJ-02; for these geometric tests the offset (a few hundred metres of
    shift) is irrelevant, so it is projected as if it were CGCS2000.
    """
    pyproj = pytest.importorskip("pyproj")
    feature = json.loads(DISTRICT.read_text(encoding="utf-8"))["features"][0]
    lonlat = shapely.geometry.shape(feature["geometry"])
    to_gk = pyproj.Transformer.from_crs(4326, 4547, always_xy=True)
    return shapely.transform(lonlat, lambda xy: np.column_stack(to_gk.transform(*xy.T)))


def build_district(district):
    return build_hierarchy(
        district, [8, 146, 780], np.random.default_rng(20181), minimum=[1, 1, 2]
    )


@pytest.fixture(scope="module")
def district():
    if not DISTRICT.exists():
        pytest.skip(f"{DISTRICT} not available")
    return load_district()


@pytest.fixture(scope="module")
def district_tree(district):
    return build_district(district)


@pytest.mark.slow
def test_district_counts(district, district_tree):
    assert isinstance(district, MultiPolygon)
    assert 140e6 < district.area < 160e6
    assert len(district_tree.level(1)) == 8
    assert len(district_tree.level(2)) == 146
    assert 770 <= len(district_tree.level(3)) <= 790


@pytest.mark.slow
def test_district_parents_are_tiled_exactly(district_tree):
    for node in district_tree.walk():
        if not node.children:
            continue
        children = [c.geom for c in node.children]
        assert shapely.coverage_is_valid(children)
        union = shapely.coverage_union_all(children)
        assert abs(union.area - node.geom.area) < 1e-3
        assert shapely.symmetric_difference(union, node.geom).area < 1.0
        areas = np.array([c.area for c in children])
        assert areas.min() >= 0.1 * areas.mean()
        assert all(c.is_valid for c in children)


@pytest.mark.slow
def test_district_levels_are_coverages_of_the_real_boundary(district, district_tree):
    assert shapely.symmetric_difference(district_tree.geom, district).area < 1.0
    assert abs(district_tree.geom.area - district.area) < 1e-3
    for depth in (1, 2, 3):
        geoms = [n.geom for n in district_tree.level(depth)]
        assert shapely.coverage_is_valid(geoms)
        assert abs(shapely.coverage_union_all(geoms).area - district.area) < 1e-3


@pytest.mark.slow
def test_district_pieces_are_single_polygons(district_tree):
    # The district is one part without holes, so nothing needs to be a MultiPolygon.
    assert all(isinstance(n.geom, Polygon) for n in district_tree.walk() if n.depth)


@pytest.mark.slow
def test_district_is_deterministic(district, district_tree):
    again = build_district(district)
    assert [n.path for n in again.walk()] == [n.path for n in district_tree.walk()]
    assert [n.geom.wkb for n in again.walk()] == [n.geom.wkb for n in district_tree.walk()]
