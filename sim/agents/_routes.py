"""A shared, append-only book of routes between street edges, cached by (from edge, to edge).

Agents follow slices of one flat ``route_edges`` array (the movement kernel's input). Residents
and offenders travel between a few fixed anchors, so most trips repeat: a trip is routed once and
every later traveller on the same pair reuses the same slice. Slices never move, so agents keep
absolute indices even when the buffer grows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from core_ext import Router

__all__ = ["RouteBook", "start_trips"]


class RouteBook:
    """Routes from the end of one edge to the end of another, as slices of :attr:`edges`.

    A trip from edge ``a`` to edge ``b`` starts where the agent stands (the head node of ``a``)
    and ends at the far end of ``b``: the shortest path from ``head(a)`` to ``tail(b)`` followed by
    ``b`` itself. Trips with ``a == b`` are empty (start == end).

    Parameters
    ----------
    router
        A :class:`core_ext.Router` over the network (weights decide what "shortest" means).
    edge_tail, edge_head
        Tail and head node of every edge.
    closed_edges
        Optional boolean mask of edges this book's travellers may not use (CPTED gating for offenders).
    """

    def __init__(
        self,
        router: Router,
        edge_tail: NDArray[np.int64],
        edge_head: NDArray[np.int64],
        edge_length_m: NDArray[np.float64],
        *,
        closed_edges: NDArray[np.bool_] | None = None,
    ) -> None:
        self.router = router
        self.edge_length_m = edge_length_m
        self.edge_tail = edge_tail
        self.edge_head = edge_head
        self.closed_edges = closed_edges
        self._buf = np.zeros(4096, dtype=np.int64)
        self._len = np.zeros(4096, dtype=np.float64)  # edge lengths along the buffer, for the kernel
        self.size = 0
        self.n_edges = int(edge_tail.shape[0])
        # routed trips, sorted by key (from_edge * n_edges + to_edge), with their (start, end) slices:
        # a lookup is one vectorised binary search, with no Python loop over travellers
        self._keys = np.zeros(0, dtype=np.int64)
        self._slices = np.zeros((0, 2), dtype=np.int64)
        self.n_routed = 0
        self.n_unreachable = 0

    @property
    def edges(self) -> NDArray[np.int64]:
        """The flat array of all routes' edges (a view; grows by reallocation, indices stay valid)."""
        return self._buf[: self.size]

    @property
    def buffer(self) -> NDArray[np.int64]:
        """The whole backing array (movement reads slices of it by absolute index)."""
        return self._buf

    @property
    def length_buffer(self) -> NDArray[np.float64]:
        """Length of each buffered edge (same shape as :attr:`buffer`): saves the kernel a gather."""
        return self._len

    def set_closed(self, closed_edges: NDArray[np.bool_] | None) -> None:
        """Change the closed-edge mask; cached routes that used now-closed edges are forgotten."""
        self.closed_edges = closed_edges
        self._keys = np.zeros(0, dtype=np.int64)
        self._slices = np.zeros((0, 2), dtype=np.int64)

    def trips(
        self, from_edges: NDArray[np.int64], to_edges: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """Return (start, end, ok) slices of the book for each trip, routing the unseen ones.

        ``ok`` is False where the destination cannot be reached (the trip is then empty).
        """
        from_edges = np.asarray(from_edges, dtype=np.int64)
        to_edges = np.asarray(to_edges, dtype=np.int64)
        keys = from_edges * self.n_edges + to_edges
        unique, inverse = np.unique(keys, return_inverse=True)
        pos = np.asarray(np.searchsorted(self._keys, unique), dtype=np.int64)
        known = np.zeros(unique.size, dtype=bool)
        inside = pos < self._keys.size
        known[inside] = self._keys[pos[inside]] == unique[inside]
        if not known.all():
            missing = unique[~known]
            new = self._route_missing(missing // self.n_edges, missing % self.n_edges)
            at = np.searchsorted(self._keys, missing)
            self._keys = np.insert(self._keys, at, missing)
            self._slices = np.insert(self._slices, at, new, axis=0)
            pos = np.asarray(np.searchsorted(self._keys, unique), dtype=np.int64)
        slices = self._slices[pos]
        start = slices[inverse.ravel(), 0]
        end = slices[inverse.ravel(), 1]
        ok = (end > start) | (from_edges == to_edges)
        return start, end, ok

    def _route_missing(self, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
        """Route trips ``a[i] -> b[i]`` into the buffer; return their (start, end) slices."""
        same = a == b
        closed_dest = self.closed_edges[b] if self.closed_edges is not None else np.zeros(a.size, dtype=bool)
        todo = ~same & ~closed_dest  # staying put needs no route; a closed destination has none
        indptr, route_edges, cost = self.router.routes(
            self.edge_head[a[todo]], self.edge_tail[b[todo]], closed_edges=self.closed_edges
        )
        lengths = np.zeros(a.size, dtype=np.int64)
        reachable = np.zeros(a.size, dtype=bool)
        lengths[todo] = np.diff(indptr)
        reachable[todo] = np.isfinite(cost)
        # each trip = path + the destination edge; unreachable and same-edge trips are empty
        out_len = np.where(reachable, lengths + 1, 0)
        total = int(out_len.sum())
        self._reserve(total)
        starts = self.size + np.concatenate([[0], np.cumsum(out_len)[:-1]]).astype(np.int64)
        routed = np.flatnonzero(todo)
        keep = reachable[routed]
        # scatter every path edge to its place, then the destination edge after each path
        path_len = lengths[routed]
        offset_in_path = np.arange(route_edges.size) - np.repeat(indptr[:-1], path_len)
        dest_pos = np.repeat(starts[routed], path_len) + offset_in_path
        in_kept = np.repeat(keep, path_len)
        self._buf[dest_pos[in_kept]] = route_edges[in_kept]
        ends = starts[routed[keep]] + path_len[keep]
        self._buf[ends] = b[routed[keep]]
        self._len[self.size : self.size + total] = self.edge_length_m[
            self._buf[self.size : self.size + total]
        ]
        self.size += total
        self.n_routed += int(todo.sum())
        self.n_unreachable += int((todo & ~reachable).sum())
        return np.column_stack([starts, starts + out_len]).astype(np.int64)

    def _reserve(self, extra: int) -> None:
        need = self.size + extra
        if need > self._buf.size:
            cap = max(need, 2 * self._buf.size)
            grown = np.zeros(cap, dtype=np.int64)
            grown[: self.size] = self._buf[: self.size]
            self._buf = grown
            grown_len = np.zeros(cap, dtype=np.float64)
            grown_len[: self.size] = self._len[: self.size]
            self._len = grown_len


def start_trips(
    pop: Any, book: RouteBook, who: NDArray[np.int64], dest: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Give agents ``who`` of population ``pop`` routes from where they stand to the end of edges ``dest``.

    Returns ``ok`` per agent (False where the destination cannot be reached: the agent stays put).
    """
    start, end, ok = book.trips(pop.position_edge[who], dest)
    moving = end > start
    w = who[moving]
    pop.route_pos[w] = start[moving]
    pop.route_end[w] = end[moving]
    pop.position_edge[w] = book.buffer[start[moving]]
    pop.position_offset_m[w] = 0.0
    stay = who[~moving]
    pop.route_pos[stay] = 0
    pop.route_end[stay] = 0
    return ok
