"""Synthetic street-like graphs for the benchmarks: a jittered grid with gaps, one-way streets and arterials.

How :func:`street_grid` builds a graph (all draws from one ``numpy.random.Generator`` seeded by ``seed``,
so the same arguments always give the same arrays):

1. Block sizes: column gaps and row gaps are drawn uniformly in ``block_m`` (80-120 m by default), so
   streets are straight but blocks differ in size, as in a planned city.
2. Every node is jittered by up to ``jitter_m`` (10 m) in x and y.
3. Each node joins its east and north neighbour by a street segment; ``removal`` (10 %) of the
   segments are removed at random (dead ends, parks, rail lines).
4. ``one_way`` (15 %) of the remaining segments become one-way in a random direction; the others get
   one directed edge each way, sharing a segment id.
5. Edge length is the straight-line length times a factor in [1, 1.08) (curvature, so lengths exceed
   the chord as with real geometry).  Every 10th row and column is an arterial at 13.9 m/s (50 km/h),
   other streets 8.3 m/s (30 km/h): ``travel_time_s`` = length / speed.
6. Only the largest strongly connected component is kept (as a routable city network is), nodes keep
   their row-major order (so CSR neighbours are close in memory, as after OSMnx's loading) and are
   relabelled ``0..n-1``; edges are sorted by (tail, head) into CSR.

``street_grid(316)`` has 99,690 nodes and 331,527 directed edges: the "100k-node" graph of the issue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

__all__ = ["SyntheticStreets", "street_grid"]


@dataclass(frozen=True)
class SyntheticStreets:
    """CSR arrays of a synthetic street graph, laid out like ``sim.network.StreetNetwork``."""

    indptr: NDArray[np.int64]
    indices: NDArray[np.int64]
    edge_source: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_travel_time_s: NDArray[np.float64]
    edge_segment: NDArray[np.int64]
    node_xy: NDArray[np.float64]

    @property
    def n_nodes(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_edges(self) -> int:
        return len(self.indices)

    def edge_midpoint_xy(self) -> NDArray[np.float64]:
        return 0.5 * (self.node_xy[self.edge_source] + self.node_xy[self.indices])


def street_grid(
    side: int,
    *,
    seed: int = 20240611,
    block_m: tuple[float, float] = (80.0, 120.0),
    jitter_m: float = 10.0,
    removal: float = 0.10,
    one_way: float = 0.15,
) -> SyntheticStreets:
    """Return a ``side`` x ``side`` jittered street grid (see the module docstring for the recipe).

    Parameters
    ----------
    side
        Nodes per row and per column before the gaps are cut (``side**2`` nodes at most).
    seed
        Seed of the generator; the result is a pure function of all arguments.
    block_m
        Range of block sizes, metres.
    jitter_m
        Maximum displacement of a node in x and in y, metres.
    removal
        Share of street segments removed.
    one_way
        Share of the remaining segments made one-way.

    Returns
    -------
    SyntheticStreets
        Read-only CSR arrays of the largest strongly connected component.
    """
    rng = np.random.default_rng(seed)
    col_x = np.concatenate([[0.0], np.cumsum(rng.uniform(*block_m, side - 1))])
    row_y = np.concatenate([[0.0], np.cumsum(rng.uniform(*block_m, side - 1))])
    xx, yy = np.meshgrid(col_x, row_y)  # row-major: node id = row * side + col
    xy = np.column_stack([xx.ravel(), yy.ravel()]) + rng.uniform(-jitter_m, jitter_m, (side * side, 2))

    node = np.arange(side * side).reshape(side, side)
    east = np.column_stack([node[:, :-1].ravel(), node[:, 1:].ravel()])
    north = np.column_stack([node[:-1, :].ravel(), node[1:, :].ravel()])
    seg = np.concatenate([east, north])
    row, col = seg[:, 0] // side, seg[:, 0] % side
    arterial = np.concatenate([row[: len(east)] % 10 == 0, col[len(east) :] % 10 == 0])
    keep = rng.random(len(seg)) >= removal
    seg, arterial = seg[keep], arterial[keep]

    chord_m = np.linalg.norm(xy[seg[:, 0]] - xy[seg[:, 1]], axis=1)
    length_m = chord_m * rng.uniform(1.0, 1.08, len(seg))
    speed_mps = np.where(arterial, 13.9, 8.3)
    is_one_way = rng.random(len(seg)) < one_way
    flip = rng.random(len(seg)) < 0.5
    fwd = np.where(is_one_way & flip, seg[:, 1], seg[:, 0])
    bwd = np.where(is_one_way & flip, seg[:, 0], seg[:, 1])
    two = ~is_one_way
    seg_id = np.arange(len(seg))
    tail = np.concatenate([fwd, bwd[two]])
    head = np.concatenate([bwd, fwd[two]])
    edge_len = np.concatenate([length_m, length_m[two]])
    edge_speed = np.concatenate([speed_mps, speed_mps[two]])
    edge_seg = np.concatenate([seg_id, seg_id[two]])

    n = side * side
    adj = csr_array((np.ones(len(tail)), (tail, head)), shape=(n, n))
    _, comp = connected_components(adj, directed=True, connection="strong")
    big = np.argmax(np.bincount(comp))
    keep_node = comp == big
    new_id = np.full(n, -1, dtype=np.int64)
    new_id[keep_node] = np.arange(keep_node.sum())
    keep_edge = keep_node[tail] & keep_node[head]
    tail, head = new_id[tail[keep_edge]], new_id[head[keep_edge]]
    edge_len, edge_speed, edge_seg = edge_len[keep_edge], edge_speed[keep_edge], edge_seg[keep_edge]
    order = np.lexsort((head, tail))
    tail, head = tail[order], head[order]
    edge_len, edge_speed = edge_len[order], edge_speed[order]
    _, edge_seg = np.unique(edge_seg[order], return_inverse=True)
    n_new = int(keep_node.sum())
    indptr = np.zeros(n_new + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n_new), out=indptr[1:])
    arrays = {
        "indptr": indptr,
        "indices": head.astype(np.int64),
        "edge_source": tail.astype(np.int64),
        "edge_length_m": edge_len,
        "edge_travel_time_s": edge_len / edge_speed,
        "edge_segment": edge_seg.astype(np.int64),
        "node_xy": np.ascontiguousarray(xy[keep_node]),
    }
    for a in arrays.values():
        a.setflags(write=False)
    return SyntheticStreets(**arrays)
