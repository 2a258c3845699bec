"""Invented grid hierarchies (环境监管网格) that tile a real boundary exactly.

Only a district's outer boundary is public; the grids inside it are not. For the demo we
therefore *make up* a plausible hierarchy: the district is cut into a few second-level
grids, each of those into villages/communities, and each of those into fourth-level grids.
Everything here is invented and must be presented as such.

The pieces must behave like a real, clean grid layer:

* siblings tile their parent exactly -- no gaps, no overlaps, and every shared edge is
  identical vertex for vertex (``shapely.coverage_is_valid`` holds);
* the same holds for a whole level (all 146 villages together, all leaves together),
  because the hierarchy is synchronised and rebuilt bottom-up (see `build_hierarchy`);
* pieces are connected and of roughly equal (or prescribed) area.

How a parent is split (`partition`)
-----------------------------------
1. Spread sample points evenly inside the parent (jittered grid); start from ``n`` of
   them, drawn at random, as seeds.
2. Relax them into a *capacity-constrained power diagram*: Lloyd steps (seed -> centroid
   of its cell) alternate with updates of per-seed power weights that grow or shrink a
   cell until it holds its share of the samples. Plain Lloyd/Voronoi only gives roughly
   similar sizes; the weights make the sizes match their targets to a few per cent.
3. Build the final diagram's edges once, each diagram vertex merged into one coordinate,
   node them together with the parent's boundary, ``polygonize`` the linework and give
   every face inside the parent to the seed whose power cell contains it. Because all
   faces come from *one* noded arrangement, neighbouring pieces share their edges exactly;
   clipping each cell separately would not (intersection points can differ in the last
   bit between neighbours).
4. Detached fragments of a piece (a convex cell cut by a concave boundary) are handed to
   the neighbour with which they share the longest edge, so pieces are single polygons
   unless the parent itself is in several parts (islands/exclaves). Such moves upset the
   balance, so a few more weight steps are taken on the exact areas, and a try that is
   still badly off is redrawn.

Limits: pieces come from convex cells, so a parent with deep, narrow bays or prongs (a
comb) gives less even pieces (smallest ~40-60 % of the target instead of ~90 %). The real
district and its invented sub-grids are nowhere near that.

All coordinates are projected metres (e.g. a Gauss-Kruger CRS); angles or degrees would
make areas and tolerances meaningless.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import MultiPolygon, Polygon

__all__ = ["Node", "allocate", "build_hierarchy", "partition"]

# Samples per piece for the area estimate. On a jittered grid 500 measure a piece's area
# to ~1-2 %, far below what anyone notices on a map, and keep the relaxation cheap.
_SAMPLES_PER_PIECE = 500
_MIN_SAMPLES = 2000
# Weight updates per Lloyd step, and after the last one (seeds fixed, sizes polished).
_BALANCE_STEPS = 3
_FINAL_BALANCE_STEPS = 12
# Pieces are polished with exact areas until the smallest reaches _GOOD_RATIO of its
# target (at most _POLISH_STEPS times); a try still below _ACCEPT_RATIO is redrawn.
_GOOD_RATIO = 0.9
_POLISH_STEPS = 4
_ACCEPT_RATIO = 0.75
_MAX_ATTEMPTS = 5
# Distances below this (metres) are treated as "the same point": diagram vertices computed
# from different cells, or a node inserted into a neighbour's edge. It is ~1000x larger than
# the rounding error of coordinates around 4e6 m and ~1e6x smaller than any real feature.
_TOL = 1e-6


# ----------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------


@dataclass(eq=False)
class Node:
    """One grid of the hierarchy.

    Attributes
    ----------
    geom : shapely.Polygon or shapely.MultiPolygon
        The grid's area in projected metres. After `build_hierarchy` it is exactly the
        coverage union of ``children`` (when there are any).
    children : list of Node
        Sub-grids, in reading order (north to south, then west to east).
    path : tuple of int
        Index path from the root: ``()`` for the root, ``(2, 0)`` for the first child of
        the root's third child. Handy for making codes such as ``"03-001"``.
    """

    geom: Polygon | MultiPolygon
    children: list[Node] = field(default_factory=list)
    path: tuple[int, ...] = ()

    @property
    def depth(self) -> int:
        """Level below the root (root = 0)."""
        return len(self.path)

    def walk(self) -> Iterator[Node]:
        """Yield this node and all descendants, depth first, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()

    def __repr__(self) -> str:  # the default would print every coordinate of the subtree
        return (
            f"Node(path={self.path}, {self.geom.geom_type}, area={self.geom.area:.0f} m², "
            f"children={len(self.children)})"
        )

    def level(self, depth: int) -> list[Node]:
        """Return the descendants ``depth`` levels below this node, in tree order.

        Parameters
        ----------
        depth : int
            0 returns ``[self]``, 1 the children, 2 the grandchildren, ...
        """
        nodes = [self]
        for _ in range(depth):
            nodes = [child for node in nodes for child in node.children]
        return nodes


def allocate(total: int, areas: Sequence[float], minimum: int = 1) -> list[int]:
    """Apportion ``total`` pieces among parents in proportion to their areas.

    Largest-remainder (Hamilton) apportionment with a floor: parents whose proportional
    share would fall below ``minimum`` get exactly ``minimum`` and the rest is shared
    among the others.

    Parameters
    ----------
    total : int
        Number of pieces to hand out; the result sums to exactly this.
    areas : sequence of float
        Non-negative size of each parent.
    minimum : int, default 1
        Smallest count any parent may receive.

    Returns
    -------
    list of int
        Counts in the order of ``areas``. Ties in the remainders go to the earlier parent,
        so the result is deterministic.

    Raises
    ------
    ValueError
        If ``total < minimum * len(areas)`` or an area is negative.
    """
    weights = np.asarray(areas, dtype=float)
    k = len(weights)
    if k == 0:
        if total:
            raise ValueError("cannot allocate pieces to no parents")
        return []
    if minimum < 0 or (weights < 0).any() or not np.isfinite(weights).all():
        raise ValueError("areas must be finite and non-negative, minimum >= 0")
    if total < minimum * k:
        raise ValueError(f"total {total} < minimum {minimum} x {k} parents")

    # Pin parents whose quota is below the floor, then recompute the quotas of the rest;
    # pinning can push other quotas below the floor, hence the loop.
    pinned = np.zeros(k, dtype=bool)
    while True:
        free = ~pinned
        budget = total - minimum * pinned.sum()
        free_area = weights[free].sum()
        quota = np.zeros(k)
        if free_area > 0:
            quota[free] = budget * weights[free] / free_area
        else:  # all remaining areas are zero: share evenly
            quota[free] = budget / free.sum()
        newly = free & (quota < minimum)
        if not newly.any():
            break
        pinned |= newly

    counts = np.where(pinned, minimum, np.floor(quota)).astype(int)
    leftover = total - counts.sum()
    remainder = np.where(pinned, -1.0, quota - np.floor(quota))
    order = np.argsort(-remainder, kind="stable")
    counts[order[:leftover]] += 1
    return counts.tolist()


def partition(
    geom: Polygon | MultiPolygon,
    n: int,
    rng: np.random.Generator,
    *,
    lloyd_iterations: int = 8,
    weights: Sequence[float] | None = None,
) -> list[Polygon | MultiPolygon]:
    """Split a (Multi)Polygon into n connected pieces of roughly equal area that tile it exactly.

    Parameters
    ----------
    geom : shapely.Polygon or shapely.MultiPolygon
        Valid, non-empty area in projected metres. Holes are allowed.
    n : int
        Number of pieces, >= 1.
    rng : numpy.random.Generator
        Source of all randomness; the same generator state gives the same pieces.
    lloyd_iterations : int, default 8
        Lloyd (seed -> centroid) steps. More gives rounder, more hexagon-like pieces; 0
        keeps the random seed positions and only balances the sizes.
    weights : sequence of float, optional
        ``n`` positive relative target areas: piece ``k`` aims at
        ``weights[k] / sum(weights)`` of the area. Default: all equal.

    Returns
    -------
    list of shapely.Polygon or shapely.MultiPolygon
        ``n`` pieces, piece ``k`` matching ``weights[k]``. Together they form a valid
        coverage whose union is ``geom`` (the boundary only gains the nodes where internal
        edges meet it; area differences are ~1e-9 m²). A piece is a MultiPolygon only if
        it must contain a disconnected part of ``geom`` (an island). Pieces may have holes
        (a piece entirely surrounded by another).

    Raises
    ------
    ValueError
        For an invalid/empty geometry, ``n < 1`` or bad weights.
    RuntimeError
        If no try yields ``n`` non-empty pieces (only for absurd ``n`` relative to the
        shape, e.g. more pieces than the sampling can resolve).

    Notes
    -----
    The input is not modified. For ``n == 1`` the input itself is returned in the list.
    """
    geom = _check_area(geom)
    if n < 1:
        raise ValueError("n must be >= 1")
    target = _target_fractions(weights, n)
    if n == 1:
        return [geom]

    # Work in coordinates relative to the bounding-box centre: squared distances of
    # Gauss-Kruger coordinates (~4e6 m) would lose ~1e-3 m² of precision otherwise.
    xmin, ymin, xmax, ymax = geom.bounds
    origin = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2])
    local = shapely.transform(geom, lambda xy: xy - origin)
    shapely.prepare(local)
    samples = _sample_points(local, max(_MIN_SAMPLES, _SAMPLES_PER_PIECE * n), rng)

    best: tuple[float, list] | None = None
    for _ in range(_MAX_ATTEMPTS):
        seeds, power = _relax(samples, target, local, rng, lloyd_iterations)
        score, pieces = _polish(geom, local, origin, seeds, power, target)
        if pieces is not None and (best is None or score > best[0]):
            best = (score, pieces)
        if score >= _ACCEPT_RATIO:
            break
    if best is None:
        raise RuntimeError(f"could not split the geometry into {n} non-empty pieces")
    return list(best[1])


def build_hierarchy(
    root: Polygon | MultiPolygon,
    counts: Sequence[int | Sequence[int]],
    rng: np.random.Generator,
    *,
    minimum: int | Sequence[int] = 1,
    lloyd_iterations: int = 8,
) -> Node:
    """Build a nested grid hierarchy inside ``root``, top-down, then make it exact bottom-up.

    Parameters
    ----------
    root : shapely.Polygon or shapely.MultiPolygon
        The real boundary (projected metres).
    counts : sequence of (int or sequence of int)
        One entry per level below the root. An ``int`` is the total number of grids on that
        level, apportioned among the parents by area with `allocate`; a sequence gives
        the count for each parent explicitly (in the order of ``Node.level``). Example for
        the Chengqu plan: ``[8, 146, 780]``.
    rng : numpy.random.Generator
        Source of all randomness; the same seed gives the same hierarchy.
    minimum : int or sequence of int, default 1
        Fewest children per parent, for all levels or per level (e.g. ``(1, 1, 2)``).
        Used only for levels given as totals.
    lloyd_iterations : int, default 8
        Passed to `partition`.

    Returns
    -------
    Node
        The root. Its ``geom`` is rebuilt as the union of its children, so it differs from
        ``root`` only by extra boundary nodes (area difference ~1e-9 m²).

    Notes
    -----
    Two guarantees beyond `partition`:

    * *Levels are coverages.* Splitting a parent inserts nodes on its boundary that its
      neighbour does not have. After the leaves are built, every node lying on a leaf's
      edge is inserted into that edge, so all leaves form one valid coverage.
    * *Parents are unions.* Every parent's geometry is then replaced, bottom-up, by the
      coverage union of its children. A parent is therefore exactly (vertex for vertex)
      the union of its children, and each level is a valid coverage of the root.
    """
    root = _check_area(root)
    xmin, ymin, xmax, ymax = root.bounds
    if root.area < 1.0 and -180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90:
        raise ValueError("root looks like lon/lat degrees; project it to metres first")
    mins = [minimum] * len(counts) if isinstance(minimum, int) else list(minimum)
    if len(mins) != len(counts):
        raise ValueError("minimum must be an int or have one entry per level")

    tree = Node(root)
    parents = [tree]
    for spec, floor in zip(counts, mins):
        if isinstance(spec, (int, np.integer)):
            per_parent = allocate(int(spec), [p.geom.area for p in parents], floor)
        else:
            per_parent = [int(k) for k in spec]
            if len(per_parent) != len(parents) or min(per_parent) < 1:
                raise ValueError("explicit counts need one entry >= 1 per parent")
        for parent, k in zip(parents, per_parent):
            pieces = partition(parent.geom, k, rng, lloyd_iterations=lloyd_iterations)
            order = _reading_order(pieces, parent.geom)
            parent.children = [
                Node(pieces[j], path=parent.path + (i,)) for i, j in enumerate(order)
            ]
        parents = [child for p in parents for child in p.children]

    leaves = [node for node in tree.walk() if not node.children]
    for leaf, geom in zip(leaves, _insert_shared_vertices([n.geom for n in leaves])):
        leaf.geom = geom
    _rebuild_bottom_up(tree)
    return tree


# ----------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------


def _check_area(geom) -> Polygon | MultiPolygon:
    """Validate a polygonal input and drop any Z coordinate."""
    if not isinstance(geom, (Polygon, MultiPolygon)) or geom.is_empty:
        raise ValueError("expected a non-empty Polygon or MultiPolygon")
    if not geom.is_valid:
        raise ValueError(f"invalid geometry: {shapely.is_valid_reason(geom)}")
    if geom.area <= 0:
        raise ValueError("geometry has no area")
    return shapely.force_2d(geom) if shapely.has_z(geom) else geom


def _target_fractions(weights, n: int) -> np.ndarray:
    """Normalised target area shares, equal when ``weights`` is None."""
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError("weights must be n positive numbers")
    return w / w.sum()


# ----------------------------------------------------------------------------------------
# Seeds: sampling and relaxation into a capacity-constrained power diagram
# ----------------------------------------------------------------------------------------


def _sample_points(local, m: int, rng: np.random.Generator) -> np.ndarray:
    """About ``m`` points spread evenly inside the (prepared) polygon.

    A jittered grid (one uniform point per grid square) rather than independent uniform
    points: counting samples then measures areas to about a per cent with a few hundred
    samples per piece, where plain random sampling would need ~10x more for the same.
    """
    xmin, ymin, xmax, ymax = local.bounds
    h = np.sqrt(local.area / m)
    while True:
        nx, ny = int(np.ceil((xmax - xmin) / h)), int(np.ceil((ymax - ymin) / h))
        gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
        cells = np.column_stack([gx.ravel(), gy.ravel()]).astype(float)
        xy = (cells + rng.uniform(size=cells.shape)) * h + (xmin, ymin)
        xy = xy[shapely.contains_xy(local, xy[:, 0], xy[:, 1])]
        # The count is ~m for any reasonable shape; only slivers thinner than the grid
        # step can come up short, and then a finer grid is needed.
        if len(xy) >= m // 2:
            return xy
        h /= 2


def _power_labels(xy: np.ndarray, seeds: np.ndarray, power: np.ndarray) -> np.ndarray:
    """Index of the seed with the smallest power distance ``|x - p|² - w`` for each point.

    ``|x|²`` is the same for every seed, so ``-2 p.x + |p|² - w`` is compared instead.
    Written out element-wise (no matrix product) so the result does not depend on the
    BLAS build or thread count -- determinism matters more than the last millisecond.
    """
    score = np.multiply.outer(-2.0 * seeds[:, 0], xy[:, 0])
    score += np.multiply.outer(-2.0 * seeds[:, 1], xy[:, 1])
    score += ((seeds**2).sum(axis=1) - power)[:, None]
    return np.argmin(score, axis=0)


def _relax(samples, target, local, rng, lloyd_iterations: int):
    """Place seeds and power weights so each cell holds its target share of the samples.

    Parameters
    ----------
    samples : ndarray, shape (m, 2)
        Evenly spread points inside ``local``; each stands for ``local.area / m`` m².
    target : ndarray, shape (n,)
        Target area fractions, summing to 1.
    local : shapely.Polygon or shapely.MultiPolygon
        The parent in local coordinates, prepared.
    rng : numpy.random.Generator
        Draws the initial seeds.
    lloyd_iterations : int
        Number of seed -> centroid moves.

    Returns
    -------
    seeds : ndarray, shape (n, 2)
        Local coordinates, always inside the polygon.
    power : ndarray, shape (n,)
        Power weights (m²). Raising a seed's weight pushes its cell's edges outwards.
    """
    m, n = len(samples), len(target)
    seeds = samples[rng.choice(m, size=n, replace=False)].copy()
    power = np.zeros(n)
    want = target * m
    spacing = np.sqrt(local.area / n)
    # d(area)/d(weight) of a cell is the sum over its edges of length / (2 * seed
    # distance): ~1 to 2 for evenly spread seeds, so moving half of the area deficit into
    # the weight is a damped Newton step. One sample is worth local.area / m m².
    gain = 0.5 * local.area / m

    def balance(steps: int) -> np.ndarray:
        nonlocal power, gain
        labels = _power_labels(samples, seeds, power)
        have = np.bincount(labels, minlength=n)
        # Two close seeds react violently to a weight change (their common edge moves by
        # dw / (2 d)); scale their steps down so they do not swap the area back and forth.
        nearest = np.sqrt(_nearest_sq(seeds))
        damping = np.minimum(1.0, nearest / spacing)
        for _ in range(steps):
            power = power + gain * damping * (want - have)
            power -= power.mean()  # only differences matter; keep the numbers small
            labels = _power_labels(samples, seeds, power)
            new_have = np.bincount(labels, minlength=n)
            # Overshoot (error grew): halve the step; otherwise let it recover slowly.
            if np.abs(new_have - want).max() > np.abs(have - want).max():
                gain *= 0.5
            else:
                gain = min(gain * 1.25, 0.5 * local.area / m)
            have = new_have
        return labels

    for _ in range(lloyd_iterations):
        labels = balance(_BALANCE_STEPS)
        seeds, power = _lloyd_step(samples, labels, seeds, power, want, local)
    balance(_FINAL_BALANCE_STEPS)
    return seeds, power


def _nearest_sq(points: np.ndarray) -> np.ndarray:
    """Squared distance from each point to its nearest other point."""
    d2 = ((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d2, np.inf)
    return d2.min(axis=1)


def _lloyd_step(samples, labels, seeds, power, want, local):
    """Move each seed to the centroid of its samples, staying inside the polygon.

    In a concave polygon a centroid can fall outside (in a bay); such a seed goes to its
    own sample nearest to the centroid instead, so it keeps a foothold inside. A seed
    whose cell is empty would never recover (it has no centroid and, squeezed against a
    neighbour, every weight change overshoots), so it restarts at the far end of the most
    over-full cell, with that cell's weight, and takes over the far part of it.
    """
    n = len(seeds)
    have = np.bincount(labels, minlength=n)
    sx = np.bincount(labels, weights=samples[:, 0], minlength=n)
    sy = np.bincount(labels, weights=samples[:, 1], minlength=n)
    seeds, power = seeds.copy(), power.copy()
    filled = have > 0
    seeds[filled, 0] = sx[filled] / have[filled]
    seeds[filled, 1] = sy[filled] / have[filled]
    outside = filled & ~shapely.contains_xy(local, seeds[:, 0], seeds[:, 1])
    for k in np.flatnonzero(outside):
        own = samples[labels == k]
        seeds[k] = own[np.argmin(((own - seeds[k]) ** 2).sum(axis=1))]
    fullness = have / want
    for k in np.flatnonzero(~filled):
        donor = int(np.argmax(fullness))
        own = samples[labels == donor]
        seeds[k] = own[np.argmax(((own - seeds[donor]) ** 2).sum(axis=1))]
        power[k] = power[donor]
        fullness[donor] /= 2  # do not send every empty seed to the same cell
    return seeds, power


# ----------------------------------------------------------------------------------------
# Exact geometry of the final diagram
# ----------------------------------------------------------------------------------------


def _pieces_from_diagram(geom, local, origin, seeds, power):
    """Turn a power diagram into exact pieces of ``geom``.

    Returns None when the try is unusable: a seed gets no face, or the faces do not add
    up to the parent. The latter would mean noding went wrong (never seen, but cheap to
    check, and a fresh try with other seeds is simpler than a repair).
    """
    n = len(seeds)
    edges = _diagram_edges(seeds, power, local.bounds)
    if len(edges) == 0:
        return None
    faces, inner = _faces(geom, shapely.linestrings(edges + origin), local, origin)
    areas = shapely.area(faces)
    if abs(areas.sum() - geom.area) > max(1e-6, 1e-11 * geom.area):
        return None
    labels = _power_labels(inner, seeds, power)
    labels = _merge_fragments(labels, areas, _face_adjacency(faces))
    if len(np.unique(labels)) < n:
        return None
    return np.array([shapely.coverage_union_all(faces[labels == k]) for k in range(n)])


def _polish(geom, local, origin, seeds, power, target):
    """Build the exact pieces, correcting the weights with their true areas if needed.

    The sample-based balance cannot foresee fragment moves: in a concave parent a cell
    may lose a detached part to its neighbour and end up well below its target. A few
    more weight steps driven by the exact areas (which include those moves) fix most of
    that.

    Returns
    -------
    score : float
        Smallest ratio of piece area to target area (``-inf`` if no pieces).
    pieces : ndarray of geometries or None
        The best pieces seen, or None if some seed got no face at all.
    """
    want = target * geom.area
    spacing = np.sqrt(geom.area / len(seeds))
    damping = np.minimum(1.0, np.sqrt(_nearest_sq(seeds)) / spacing)
    best_score, best_pieces, best_power = -np.inf, None, power
    gain = 1.0  # full Newton-like step; halved whenever a step makes things worse
    for step in range(_POLISH_STEPS + 1):
        pieces = _pieces_from_diagram(geom, local, origin, seeds, power)
        if pieces is None:
            if best_pieces is None:
                break
            score = -np.inf
        else:
            areas = shapely.area(pieces)
            score = float(np.min(areas / want))
        if score > best_score:
            best_score, best_pieces, best_power = score, pieces, power
        else:  # fragments flipped or the step overshot: go back and take a shorter one
            gain *= 0.5
        if best_score >= _GOOD_RATIO or step == _POLISH_STEPS:
            break
        areas = shapely.area(best_pieces)
        power = best_power + gain * damping * (want - areas)
    return best_score, best_pieces


def _diagram_edges(seeds, power, bounds) -> np.ndarray:
    """Edges of the power diagram around ``bounds``, each once, as an (E, 2, 2) array.

    Every cell is cut out of a box around the polygon by the half-planes of all other
    seeds. A diagram vertex is computed once per cell that has it, with slightly
    different rounding each time; the copies are merged so that edges meet exactly at
    shared endpoints (otherwise polygonize sees dangles or slivers). Edges on the box are
    dropped: the box lies outside the polygon, so they bound no face we keep.
    """
    xmin, ymin, xmax, ymax = bounds
    pad = max(xmax - xmin, ymax - ymin) * 0.1 + 1.0
    box = np.array(
        [[xmin - pad, ymin - pad], [xmax + pad, ymin - pad],
         [xmax + pad, ymax + pad], [xmin - pad, ymax + pad]]
    )
    verts, starts, ends = [], [], []
    offset = 0
    for cell, labels in _power_cells(seeds, power, box):
        k = len(cell)
        verts.append(cell)
        idx = offset + np.arange(k)
        inner = labels >= 0  # edge k runs from vertex k to k+1 and lies on seed labels[k]
        starts.append(idx[inner])
        ends.append(offset + (np.arange(k)[inner] + 1) % k)
        offset += k
    points = np.concatenate(verts)
    rep = _cluster(points, _TOL)
    a, b = rep[np.concatenate(starts)], rep[np.concatenate(ends)]
    keep = a != b  # edges collapsed by merging (degenerate, near-zero length)
    pairs = np.unique(np.sort(np.column_stack([a[keep], b[keep]]), axis=1), axis=0)
    return points[pairs]


def _power_cells(seeds, power, box):
    """Yield each seed's convex power cell inside ``box`` with per-edge labels.

    Labels say which constraint an edge lies on: the other seed's index, or -1 for the
    box. Power cell of i: points where ``|x - p_i|² - w_i <= |x - p_j|² - w_j`` for all
    j, i.e. the half-planes ``(p_j - p_i) . x <= (p_j - p_i) . (p_i + p_j) / 2 +
    (w_i - w_j) / 2``.
    """
    n = len(seeds)
    for i in range(n):
        cell, labels = box, np.full(4, -1)
        for j in range(n):
            if j == i:
                continue
            normal = seeds[j] - seeds[i]
            middle = (seeds[i] + seeds[j]) / 2
            limit = normal[0] * middle[0] + normal[1] * middle[1] + (power[i] - power[j]) / 2
            cell, labels = _clip(cell, labels, normal, limit, j)
            if cell is None:
                break
        if cell is not None:
            yield cell, labels


def _clip(cell, labels, normal, limit, label):
    """Clip a convex polygon to ``normal . x <= limit`` (Sutherland-Hodgman).

    ``labels[k]`` belongs to the edge from vertex k to vertex k+1; the new edge along the
    clip line gets ``label``. Returns ``(None, None)`` if nothing is left.
    """
    side = cell[:, 0] * normal[0] + cell[:, 1] * normal[1] - limit  # no BLAS: reproducible
    out = side > 0
    if not out.any():
        return cell, labels
    if out.all():
        return None, None
    new_cell, new_labels = [], []
    k_count = len(cell)
    for k in range(k_count):
        k1 = (k + 1) % k_count
        if not out[k]:
            new_cell.append(cell[k])
            new_labels.append(labels[k])
            if out[k1]:  # leaving: the edge continues along the clip line
                t = side[k] / (side[k] - side[k1])
                new_cell.append(cell[k] + t * (cell[k1] - cell[k]))
                new_labels.append(label)
        elif not out[k1]:  # entering: the rest of edge k survives
            t = side[k] / (side[k] - side[k1])
            new_cell.append(cell[k] + t * (cell[k1] - cell[k]))
            new_labels.append(labels[k])
    return np.array(new_cell), np.array(new_labels)


def _cluster(points: np.ndarray, tol: float) -> np.ndarray:
    """Map each point to the index of the first earlier point within ``tol`` (or itself)."""
    d2 = ((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    rep = np.arange(len(points))
    for i in range(len(points)):
        if rep[i] != i:
            continue
        near = np.flatnonzero(d2[i] <= tol * tol)
        near = near[(near > i) & (rep[near] == near)]
        rep[near] = i
    return rep


def _faces(geom, lines, local, origin):
    """Faces of the parent's boundary noded with the diagram edges, inside the parent.

    ``union_all`` nodes all linework in one pass, so every face edge is shared exactly by
    the two faces beside it. The parent boundary only gains vertices where diagram edges
    cross it (rounded onto it within ~1e-10 m).

    Returns
    -------
    faces : ndarray of shapely.Polygon
    inner : ndarray, shape (len(faces), 2)
        A point inside each face, in local coordinates.
    """
    linework = shapely.union_all(np.concatenate([[shapely.boundary(geom)], lines]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    inner = shapely.get_coordinates(shapely.point_on_surface(faces)) - origin
    # Faces of holes and of the space between islands are polygonized too: drop them.
    keep = shapely.contains_xy(local, inner[:, 0], inner[:, 1])
    return faces[keep], inner[keep]


def _face_adjacency(faces) -> list[dict[int, float]]:
    """For each face, its edge-neighbours and the length of the shared boundary."""
    adjacency: list[dict[int, float]] = [{} for _ in faces]
    tree = shapely.STRtree(faces)
    left, right = tree.query(faces, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    rings = shapely.boundary(faces)
    shared = shapely.length(shapely.intersection(rings[left], rings[right]))
    for a, b, length in zip(left.tolist(), right.tolist(), shared.tolist()):
        if length > 0:  # faces touching in a single point are not neighbours
            adjacency[a][b] = adjacency[b][a] = length
    return adjacency


def _merge_fragments(labels, areas, adjacency) -> np.ndarray:
    """Give every detached fragment of a piece to the neighbour sharing its longest edge.

    A piece keeps its largest connected part. Each move joins the fragment to at least
    one component of the receiving piece, so the number of components drops every time
    and the loop ends. Fragments without any foreign neighbour (whole islands of the
    parent) stay where they are.
    """
    labels = labels.copy()
    while True:
        moved = False
        for fragment in _fragments(labels, areas, adjacency):
            border: dict[int, float] = defaultdict(float)
            for f in fragment:
                for g, length in adjacency[f].items():
                    if labels[g] != labels[f]:
                        border[int(labels[g])] += length
            if border:
                # Longest shared edge wins; ties go to the lower label (determinism).
                labels[fragment] = max(sorted(border), key=border.__getitem__)
                moved = True
                break  # components changed: recompute them
        if not moved:
            return labels


def _fragments(labels, areas, adjacency) -> list[list[int]]:
    """Connected components of each label except its largest one."""
    seen = np.zeros(len(labels), dtype=bool)
    components: dict[int, list[tuple[float, list[int]]]] = defaultdict(list)
    for start in range(len(labels)):
        if seen[start]:
            continue
        seen[start] = True
        stack, members = [start], []
        while stack:
            f = stack.pop()
            members.append(f)
            for g in adjacency[f]:
                if not seen[g] and labels[g] == labels[start]:
                    seen[g] = True
                    stack.append(g)
        components[int(labels[start])].append((float(areas[members].sum()), members))
    out = []
    for label in sorted(components):
        parts = sorted(components[label], key=lambda c: -c[0])
        out.extend(sorted(members) for _, members in parts[1:])
    return out


# ----------------------------------------------------------------------------------------
# Hierarchy helpers
# ----------------------------------------------------------------------------------------


def _reading_order(pieces, parent) -> list[int]:
    """Order pieces north to south in bands about one piece high, west to east within."""
    points = shapely.get_coordinates(shapely.point_on_surface(np.asarray(pieces)))
    band = max(np.sqrt(parent.area / len(pieces)), 1e-9)
    row = np.floor((parent.bounds[3] - points[:, 1]) / band)
    return np.lexsort((points[:, 0], row)).tolist()


def _insert_shared_vertices(geoms: list, tol: float = _TOL) -> list:
    """Insert every vertex of ``geoms`` that lies inside another geometry's edge into it.

    Partitions of neighbouring parents add different nodes to their common border; after
    this, both sides carry the same vertex sequence and all ``geoms`` form one coverage.
    The inserted points lie within ~1e-9 m of the edge, so no area changes noticeably.
    """
    rings, spans = [], []  # spans[g]: slice of ``rings`` holding the rings of geoms[g]
    for geom in geoms:
        own = _rings(geom)
        spans.append(slice(len(rings), len(rings) + len(own)))
        rings.extend(own)
    lengths = np.array([len(r) - 1 for r in rings])
    seg_start = np.concatenate([r[:-1] for r in rings])
    seg_end = np.concatenate([r[1:] for r in rings])
    seg_ring = np.repeat(np.arange(len(rings)), lengths)
    seg_pos = np.concatenate([np.arange(k) for k in lengths])

    vertices = np.unique(seg_start, axis=0)
    tree = shapely.STRtree(shapely.points(vertices))
    segments = shapely.linestrings(np.stack([seg_start, seg_end], axis=1))
    seg_idx, pt_idx = tree.query(segments, predicate="dwithin", distance=tol)

    a, b, p = seg_start[seg_idx], seg_end[seg_idx], vertices[pt_idx]
    ab = b - a
    with np.errstate(invalid="ignore", divide="ignore"):  # zero-length segments -> nan
        t = ((p - a) * ab).sum(axis=1) / (ab * ab).sum(axis=1)
    # Keep points strictly inside the segment, not (near) copies of its endpoints.
    far_a = ((p - a) ** 2).sum(axis=1) > tol * tol
    far_b = ((p - b) ** 2).sum(axis=1) > tol * tol
    keep = far_a & far_b & (t > 0) & (t < 1)

    inserts: dict[int, dict[int, list[tuple[float, np.ndarray]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for s, tt, pp in zip(seg_idx[keep], t[keep], p[keep]):
        inserts[int(seg_ring[s])][int(seg_pos[s])].append((float(tt), pp))
    if not inserts:
        return list(geoms)

    new_rings = list(rings)
    for r, by_segment in inserts.items():
        ring = rings[r]
        out = []
        for pos in range(len(ring) - 1):
            out.append(ring[pos])
            for _, pp in sorted(by_segment.get(pos, []), key=lambda item: item[0]):
                out.append(pp)
        out.append(ring[-1])
        new_rings[r] = np.array(out)

    return [
        _from_rings(geom, new_rings[span])
        if any(r in inserts for r in range(span.start, span.stop)) else geom
        for geom, span in zip(geoms, spans)
    ]


def _rings(geom) -> list[np.ndarray]:
    """Coordinates of every ring of a (Multi)Polygon: per polygon, shell then holes."""
    out = []
    for poly in shapely.get_parts(geom):
        out.append(shapely.get_coordinates(poly.exterior))
        out.extend(shapely.get_coordinates(hole) for hole in poly.interiors)
    return out


def _from_rings(geom, rings: list[np.ndarray]):
    """Rebuild a (Multi)Polygon of the same structure as ``geom`` from new ring arrays."""
    polys, i = [], 0
    for poly in shapely.get_parts(geom):
        holes = len(poly.interiors)
        polys.append(Polygon(rings[i], rings[i + 1:i + 1 + holes]))
        i += 1 + holes
    return polys[0] if isinstance(geom, Polygon) else MultiPolygon(polys)


def _rebuild_bottom_up(node: Node) -> None:
    """Replace every parent's geometry by the coverage union of its (rebuilt) children."""
    for child in node.children:
        _rebuild_bottom_up(child)
    if node.children:
        node.geom = shapely.coverage_union_all([c.geom for c in node.children])
