"""A shared, append-only book of routes between street edges, cached by (from edge, to edge).

Agents follow slices of one flat ``route_edges`` array (the movement kernel's input). Residents
and offenders travel between a few fixed anchors, so most trips repeat: a trip is routed once and
every later traveller on the same pair reuses the same slice. Slices never move, so agents keep
absolute indices even when the buffer grows.

Routes are routed in batches by one shortest-path tree per origin (:meth:`core_ext.Router.routes_from_trees`,
edge for edge the routes of one A* search per trip) and stored compactly: int32 edge ids in one flat
array, int64 (start, end) offsets per trip, nothing per route in Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from core_ext import Router

__all__ = ["RouteBook", "follow_slices", "start_trips"]

# batches up to this size skip the sort that merges repeated trips (a few spree steps or orders)
SMALL_BATCH = 8


class RouteBook:
    """Routes from the end of one edge to the end of another, as slices of :attr:`buffer`.

    A trip from edge ``a`` to edge ``b`` starts where the agent stands (the head node of ``a``)
    and ends at the far end of ``b``: the shortest path from ``head(a)`` to ``tail(b)`` followed by
    ``b`` itself. Trips with ``a == b`` are empty (start == end). Trips whose routes are equal (the
    same ``head(a)`` and ``b``) share one slice.

    Parameters
    ----------
    router
        A :class:`core_ext.Router` over the network (weights decide what "shortest" means).
    edge_tail, edge_head
        Tail and head node of every edge.
    edge_length_m
        Length of every edge (kept for callers; the movement kernel reads lengths by edge id).
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
        self._buf = np.zeros(0, dtype=np.int32)
        self.size = 0
        self.n_edges = int(edge_tail.shape[0])
        # routed trips, sorted by key (from_edge * n_edges + to_edge), with their (start, end) slices:
        # a lookup is one vectorised binary search, with no Python loop over travellers
        self._keys = np.zeros(0, dtype=np.int64)
        self._slices = np.zeros((0, 2), dtype=np.int64)
        # trips routed since the last merge, by key: one dict insert per trip, where inserting into a
        # sorted side table moved it all (at 1M residents, each spree step or patrol order copied
        # hundreds of thousands of keys)
        self._recent: dict[int, tuple[int, int]] = {}
        self.n_routed = 0
        self.n_unreachable = 0

    @property
    def edges(self) -> NDArray[np.int32]:
        """The flat array of all routes' edges (a view; grows by reallocation, indices stay valid)."""
        return self._buf[: self.size]

    @property
    def buffer(self) -> NDArray[np.int32]:
        """The whole backing array of int32 edge ids (movement reads slices of it by absolute index)."""
        return self._buf

    @property
    def length_buffer(self) -> None:
        """None: the book keeps no per-route copy of edge lengths.

        A float64 length per stored edge would triple the book (the movement kernel then reads
        ``edge_length_m`` by edge id instead: a network's lengths stay in cache).
        """
        return None

    @property
    def n_trips(self) -> int:
        """Number of distinct (from edge, to edge) trips looked up so far (routed or empty)."""
        return int(self._keys.size + len(self._recent))

    @property
    def nbytes(self) -> int:
        """Bytes held by the book: stored edges (with spare capacity), trip keys and slices.

        Trips not yet merged into the sorted tables are counted at the 24 bytes a merged one costs.
        """
        tables = self._keys.nbytes + self._slices.nbytes + 24 * len(self._recent)
        return int(self._buf.nbytes + tables)

    def set_closed(self, closed_edges: NDArray[np.bool_] | None) -> None:
        """Change the closed-edge mask; cached routes that used now-closed edges are forgotten."""
        self.closed_edges = closed_edges
        self._keys = np.zeros(0, dtype=np.int64)
        self._slices = np.zeros((0, 2), dtype=np.int64)
        self._recent = {}

    def trips(
        self, from_edges: NDArray[np.int64], to_edges: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """Return (start, end, ok) slices of the book for each trip, routing the unseen ones.

        ``ok`` is False where the destination cannot be reached (the trip is then empty).
        """
        from_edges = np.asarray(from_edges, dtype=np.int64)
        to_edges = np.asarray(to_edges, dtype=np.int64)
        keys = from_edges * self.n_edges + to_edges
        if keys.size > SMALL_BATCH:
            unique, inverse = np.unique(keys, return_inverse=True)
            slices = self._look_up(unique)[inverse.ravel()]
        else:  # a spree step, a send home, a patrol order: a sort costs more than the rare repeat
            slices = self._look_up_few(keys)
        start = slices[:, 0]
        end = slices[:, 1]
        ok = (end > start) | (from_edges == to_edges)
        return start, end, ok

    def _look_up(self, keys: NDArray[np.int64]) -> NDArray[np.int64]:
        """Return the (start, end) slice of each trip key, routing the unseen ones (keys may repeat)."""
        slices = np.empty((keys.size, 2), dtype=np.int64)
        found = np.zeros(keys.size, dtype=bool)
        if self._keys.size:
            pos = np.minimum(np.searchsorted(self._keys, keys), self._keys.size - 1)
            found = self._keys[pos] == keys
            slices[found] = self._slices[pos[found]]
        missing_at = np.flatnonzero(~found)
        if missing_at.size and self._recent:
            recent = self._recent
            left = []
            for k, key in zip(missing_at.tolist(), keys[missing_at].tolist(), strict=True):
                hit = recent.get(key)
                if hit is None:
                    left.append(k)
                else:
                    slices[k] = hit
            missing_at = np.asarray(left, dtype=np.int64)
        if missing_at.size:
            missing, again = np.unique(keys[missing_at], return_inverse=True)
            new = self._route_missing(missing // self.n_edges, missing % self.n_edges)
            slices[missing_at] = new[again.ravel()]
            if self._keys.size == 0 and not self._recent:
                self._keys, self._slices = missing, new  # the first batch: sorted already
            else:
                self._recent.update(zip(missing.tolist(), map(tuple, new.tolist()), strict=True))
                if len(self._recent) > max(4096, self._keys.size // 8):
                    self._merge_recent()
        return slices

    def _look_up_few(self, keys: NDArray[np.int64]) -> NDArray[np.int64]:
        """:meth:`_look_up` for a handful of keys, key by key in Python (a dozen array passes cost more)."""
        klist = keys.tolist()
        found: list[tuple[int, int] | None] = [None] * len(klist)
        n_sorted = self._keys.size
        if n_sorted:
            table, slices = self._keys, self._slices
            for i, (key, p) in enumerate(zip(klist, np.searchsorted(table, keys).tolist(), strict=True)):
                if p < n_sorted and table[p] == key:
                    found[i] = (int(slices[p, 0]), int(slices[p, 1]))
        recent = self._recent
        for i, key in enumerate(klist):
            if found[i] is None:
                found[i] = recent.get(key)
        missing = sorted({key for key, hit in zip(klist, found, strict=True) if hit is None})
        if missing:
            m = np.array(missing, dtype=np.int64)
            new = self._route_missing(m // self.n_edges, m % self.n_edges)
            routed = dict(zip(missing, map(tuple, new.tolist()), strict=True))
            found = [routed[key] if hit is None else hit for key, hit in zip(klist, found, strict=True)]
            if n_sorted == 0 and not recent:
                self._keys, self._slices = m, new  # the first batch: sorted already
            else:
                recent.update(routed)
                if len(recent) > max(4096, n_sorted // 8):
                    self._merge_recent()
        return np.array(found, dtype=np.int64).reshape(len(klist), 2)

    def _merge_recent(self) -> None:
        """Move the recent trips into the main sorted keys (one merge, not one insert per trip)."""
        n = len(self._recent)
        recent_keys = np.fromiter(self._recent.keys(), dtype=np.int64, count=n)
        recent_slices = np.array(list(self._recent.values()), dtype=np.int64).reshape(n, 2)
        keys = np.concatenate([self._keys, recent_keys])
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._slices = np.concatenate([self._slices, recent_slices])[order]
        self._recent = {}

    def _route_missing(self, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
        """Route trips ``a[i] -> b[i]`` into the buffer; return their (start, end) slices."""
        closed_dest = self.closed_edges[b] if self.closed_edges is not None else np.zeros(a.size, dtype=bool)
        todo = (a != b) & ~closed_dest  # staying put needs no route; a closed destination has none
        slices = np.full((a.size, 2), self.size, dtype=np.int64)
        if todo.any():
            # each trip = path to the destination edge's tail + the destination edge itself
            start, end, route_edges, cost = self.router.routes_from_trees(
                self.edge_head[a[todo]],
                self.edge_tail[b[todo]],
                last_edges=b[todo],
                closed_edges=self.closed_edges,
            )
            base = self._append(route_edges)
            slices[todo, 0] = start + base
            slices[todo, 1] = end + base
            self.n_routed += int(todo.sum())
            self.n_unreachable += int((~np.isfinite(cost)).sum())
        return slices

    def _append(self, route_edges: NDArray[np.int32]) -> int:
        """Store ``route_edges`` at the end of the buffer and return where they start."""
        base = self.size
        if base == 0 and route_edges.size > self._buf.size:
            self._buf = route_edges  # the first big batch (a city's routines) is kept without a copy
        else:
            need = base + route_edges.size
            if need > self._buf.size:
                grown = np.zeros(max(need, self._buf.size + self._buf.size // 2 + 4096), dtype=np.int32)
                grown[:base] = self._buf[:base]
                self._buf = grown
            self._buf[base:need] = route_edges
        self.size = base + int(route_edges.size)
        return base


def start_trips(
    pop: Any, book: RouteBook, who: NDArray[np.int64], dest: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Give agents ``who`` of population ``pop`` routes from where they stand to the end of edges ``dest``.

    Returns ``ok`` per agent (False where the destination cannot be reached: the agent stays put).
    """
    start, end, ok = book.trips(pop.position_edge[who], dest)
    follow_slices(pop, book, who, start, end)
    return ok


def follow_slices(
    pop: Any, book: RouteBook, who: NDArray[np.int64], start: NDArray[np.int64], end: NDArray[np.int64]
) -> None:
    """Set agents ``who`` on the book's slices ``start:end`` (an empty slice: the agent stays put)."""
    moving = end > start
    w = who[moving]
    pop.route_pos[w] = start[moving]
    pop.route_end[w] = end[moving]
    pop.position_edge[w] = book.buffer[start[moving]]
    pop.position_offset_m[w] = 0.0
    stay = who[~moving]
    pop.route_pos[stay] = 0
    pop.route_end[stay] = 0
