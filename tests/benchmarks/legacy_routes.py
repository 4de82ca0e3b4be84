"""The route book as it was before issue 15, kept as the peer of the routing benchmarks.

One A* search per distinct trip (:meth:`core_ext.Router.routes`), every route stored as int64 edge ids
with a float64 copy of each edge's length beside it, in buffers that double when full. The lookups
(``trips``) are the current book's, so the two differ only in how routes are found and stored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.agents._routes import RouteBook


class PerTripRouteBook(RouteBook):
    """:class:`~sim.agents._routes.RouteBook` routing one trip at a time into int64 + float64 buffers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._buf: Any = np.zeros(4096, dtype=np.int64)
        self._len = np.zeros(4096, dtype=np.float64)

    @property
    def length_buffer(self) -> Any:
        """Length of each buffered edge (same shape as :attr:`buffer`)."""
        return self._len

    @property
    def nbytes(self) -> int:
        return super().nbytes + int(self._len.nbytes)

    def _route_missing(self, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
        same = a == b
        closed_dest = self.closed_edges[b] if self.closed_edges is not None else np.zeros(a.size, dtype=bool)
        todo = ~same & ~closed_dest
        indptr, route_edges, cost = self.router.routes(
            self.edge_head[a[todo]], self.edge_tail[b[todo]], closed_edges=self.closed_edges
        )
        lengths = np.zeros(a.size, dtype=np.int64)
        reachable = np.zeros(a.size, dtype=bool)
        lengths[todo] = np.diff(indptr)
        reachable[todo] = np.isfinite(cost)
        out_len = np.where(reachable, lengths + 1, 0)
        total = int(out_len.sum())
        self._grow(total)
        starts = self.size + np.concatenate([[0], np.cumsum(out_len)[:-1]]).astype(np.int64)
        routed = np.flatnonzero(todo)
        keep = reachable[routed]
        path_len = lengths[routed]
        offset_in_path = np.arange(route_edges.size) - np.repeat(indptr[:-1], path_len)
        dest_pos = np.repeat(starts[routed], path_len) + offset_in_path
        in_kept = np.repeat(keep, path_len)
        self._buf[dest_pos[in_kept]] = route_edges[in_kept]
        self._buf[starts[routed[keep]] + path_len[keep]] = b[routed[keep]]
        new = slice(self.size, self.size + total)
        self._len[new] = self.edge_length_m[self._buf[new]]
        self.size += total
        self.n_routed += int(todo.sum())
        self.n_unreachable += int((todo & ~reachable).sum())
        return np.column_stack([starts, starts + out_len]).astype(np.int64)

    def _grow(self, extra: int) -> None:
        need = self.size + extra
        if need > self._buf.size:
            cap = max(need, 2 * self._buf.size)
            grown = np.zeros(cap, dtype=np.int64)
            grown[: self.size] = self._buf[: self.size]
            self._buf = grown
            grown_len = np.zeros(cap, dtype=np.float64)
            grown_len[: self.size] = self._len[: self.size]
            self._len = grown_len
