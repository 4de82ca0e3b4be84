"""Snap projected points to the nearest street segment: a k-d tree over short pieces of every street.

Each segment's polyline (its representative edge's geometry) is cut into straight pieces of at most
``piece_m`` metres; a :class:`scipy.spatial.cKDTree` holds the pieces' midpoints. The piece nearest
a point has its midpoint within ``d + piece_m / 2`` of the point (``d`` the true distance to the
street), so the exact distances to the ``k`` nearest midpoints settle every point whose ``k``-th
midpoint lies beyond that radius; the few others are asked again with a larger ``k``. The answer is
exact, and everything is vectorised over points: no Python loop per incident.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyproj
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from sim.network import StreetNetwork

__all__ = ["EdgeSnapper", "SnapResult", "transformer"]

_BLOCK = 65_536  # points per vectorised block: bounds the (block, k) temporaries to a few MB


@lru_cache(maxsize=16)
def transformer(src: str, dst: str) -> pyproj.Transformer:
    """Return a cached pyproj transformer between two CRSs, x/y (lon/lat) axis order."""
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


class SnapResult:
    """Where each point snapped: segment (-1 when none within reach), offset, distance, snapped x, y."""

    __slots__ = ("dist_m", "offset_m", "segment", "x", "y")

    def __init__(self, n: int) -> None:
        self.segment = np.full(n, -1, dtype=np.int64)
        self.offset_m = np.zeros(n, dtype=np.float64)
        self.dist_m = np.full(n, np.inf, dtype=np.float64)
        self.x = np.full(n, np.nan, dtype=np.float64)
        self.y = np.full(n, np.nan, dtype=np.float64)


class EdgeSnapper:
    """Nearest-street index of one network.

    Parameters
    ----------
    network
        The street network; points are snapped to its undirected segments (each segment's
        representative edge, ``network.segment_edge``), as :meth:`StreetNetwork.nearest_edges` does.
    piece_m
        Longest straight piece the polylines are cut into; shorter pieces mean more tree points and
        fewer candidates per query.
    """

    def __init__(self, network: StreetNetwork, *, piece_m: float = 5.0) -> None:
        self.network = network
        self.piece_m = float(piece_m)
        ptr, gxy = network.geom_indptr, network.geom_xy
        edges = network.segment_edge
        n_vert = ptr[edges + 1] - ptr[edges]
        n_line = np.maximum(n_vert - 1, 0)
        # one row per straight line of every segment's polyline
        line_seg = np.repeat(np.arange(edges.size, dtype=np.int64), n_line)
        line_start = np.cumsum(n_line) - n_line
        local = np.arange(int(n_line.sum()), dtype=np.int64) - np.repeat(line_start, n_line)
        va = np.repeat(ptr[edges], n_line) + local
        a, b = gxy[va], gxy[va + 1]
        length = np.hypot(*(b - a).T)
        before = np.cumsum(length) - length  # length of the segment's lines before this one
        before -= np.repeat(before[line_start[n_line > 0]], n_line[n_line > 0])
        geom_len = np.bincount(line_seg, weights=length, minlength=edges.size)
        # cut each line into pieces of at most piece_m
        n_piece = np.maximum(np.ceil(length / self.piece_m).astype(np.int64), 1)
        line_of = np.repeat(np.arange(length.size), n_piece)
        j = np.arange(int(n_piece.sum())) - np.repeat(np.cumsum(n_piece) - n_piece, n_piece)
        t0 = (j / n_piece[line_of])[:, None]
        t1 = ((j + 1) / n_piece[line_of])[:, None]
        d = (b - a)[line_of]
        self._a = a[line_of] + t0 * d
        self._d = (t1 - t0) * d
        self._len2 = np.einsum("ij,ij->i", self._d, self._d)
        self._seg = line_seg[line_of]
        self._along0 = before[line_of] + t0[:, 0] * length[line_of]
        scale = np.divide(
            network.edge_length_m[edges], geom_len, out=np.ones_like(geom_len), where=geom_len > 0
        )
        self._scale = scale
        self._tree = cKDTree(self._a + self._d / 2.0)
        self.bounds = (*gxy.min(axis=0), *gxy.max(axis=0))

    @property
    def n_pieces(self) -> int:
        """Number of straight pieces in the index."""
        return int(self._seg.size)

    def snap(self, x: NDArray[np.float64], y: NDArray[np.float64], *, max_dist_m: float) -> SnapResult:
        """Snap projected points to the nearest segment within ``max_dist_m``.

        Parameters
        ----------
        x, y
            Projected coordinates in the network's CRS (metres), 1-d, same length.
        max_dist_m
            Points farther than this from every street get segment -1.

        Returns
        -------
        SnapResult
            Per point: ``segment``, ``offset_m`` along the segment's representative edge (scaled to
            ``edge_length_m``), ``dist_m`` (straight-line distance to the street) and the snapped
            point ``x``, ``y``. Ties between equally near segments go to the first one found.
        """
        xs = np.asarray(x, dtype=np.float64).ravel()
        ys = np.asarray(y, dtype=np.float64).ravel()
        out = SnapResult(xs.size)
        for lo in range(0, xs.size, _BLOCK):
            hi = min(lo + _BLOCK, xs.size)
            self._snap_block(xs[lo:hi], ys[lo:hi], max_dist_m, out, lo)
        return out

    def _snap_block(
        self, xs: NDArray[np.float64], ys: NDArray[np.float64], max_dist_m: float, out: SnapResult, lo: int
    ) -> None:
        todo = np.arange(xs.size)
        half = self.piece_m / 2.0
        bound = max_dist_m + half
        k = 8
        while todo.size:
            k = min(k, self.n_pieces)
            pts = np.column_stack([xs[todo], ys[todo]])
            mid_d, idx = self._tree.query(pts, k=k, distance_upper_bound=bound)
            mid_d, idx = mid_d.reshape(todo.size, k), idx.reshape(todo.size, k)
            found = idx < self.n_pieces
            safe = np.where(found, idx, 0)
            rel = pts[:, None, :] - self._a[safe]
            dvec = self._d[safe]
            len2 = self._len2[safe]
            t = np.divide(np.einsum("ijk,ijk->ij", rel, dvec), len2, out=np.zeros_like(len2), where=len2 > 0)
            np.clip(t, 0.0, 1.0, out=t)
            px = self._a[safe, 0] + t * dvec[..., 0]
            py = self._a[safe, 1] + t * dvec[..., 1]
            dist = np.hypot(pts[:, 0, None] - px, pts[:, 1, None] - py)
            dist[~found] = np.inf
            best = np.argmin(dist, axis=1)
            rows = np.arange(todo.size)
            best_d = dist[rows, best]
            # settled: the k-th midpoint is beyond best + half (no unseen piece can be nearer), or
            # fewer than k midpoints lie within the search bound, or every piece has been seen
            settled = (mid_d[:, -1] >= best_d + half) | ~found[:, -1] | (k >= self.n_pieces)
            hit = settled & (best_d <= max_dist_m)
            pid = idx[rows, best][hit]
            dst = lo + todo[hit]
            seg = self._seg[pid]
            out.segment[dst] = seg
            out.dist_m[dst] = best_d[hit]
            along = self._along0[pid] + t[rows, best][hit] * np.sqrt(self._len2[pid])
            out.offset_m[dst] = along * self._scale[seg]
            out.x[dst] = px[rows, best][hit]
            out.y[dst] = py[rows, best][hit]
            todo = todo[~settled]
            k *= 4
