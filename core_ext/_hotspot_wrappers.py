"""Validated wrappers of the hotspot kernels: network KDE (fast refresh), grid KDE, top-k selection.

Prospective hotspotting weights recent events more (exponential time decay) and spreads each event's
risk to nearby places (Bowers, Johnson & Pease 2004, Br J Criminol 44:641); measuring "nearby" along
the street network rather than on a grid captures more future crime at equal coverage (Rosser et al.
2017, J Quant Criminol 33:569).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core_ext import _hotspot
from core_ext._validation import as_float_array, as_index_array, check_csr

__all__ = ["NetworkKDE", "grid_kde", "network_kde", "reach_maxima_at", "select_hotspots"]

# Shift the decay reference time once stored weights grow by more than e**RENORMALISE_AT.
RENORMALISE_AT = 50.0


def _kernel_code(kernel: str) -> int:
    if kernel not in _hotspot.KERNELS:
        raise ValueError(f"kernel must be one of {sorted(_hotspot.KERNELS)}, got {kernel!r}")
    return int(_hotspot.KERNELS[kernel])


def _positive(value: float, name: str) -> float:
    out = float(value)
    if not (np.isfinite(out) and out > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value}")
    return out


class NetworkKDE:
    """Network kernel density of events on street edges, refreshed by one sparse mat-vec.

    Set-up (the constructor) finds, for every place, all places whose midpoints lie within
    ``bandwidth_m`` along the undirected street network and stores the kernel weights as a sparse
    matrix K.  Events then accumulate into per-place weights (:meth:`add_events`, incremental) and
    :meth:`refresh` returns ``K @ weights`` with exponential time decay applied as one global factor.

    A place is an undirected street piece: an ``edge_segment`` id if given, otherwise the edges
    joining the same two nodes with the same length (the two directions of a two-way street).  The
    distance between places is the network distance between their midpoints (0 for a place to itself).

    Parameters
    ----------
    indptr, indices
        CSR street graph (``sim.network.StreetNetwork``).
    length_m
        Edge lengths, metres.
    bandwidth_m
        Kernel bandwidth h: places farther apart than h (metres, along the network) do not interact.
        Near-repeat risk extends about 200-400 m (Bowers, Johnson & Pease 2004).
    kernel
        ``"quartic"`` (1 - u**2)**2, ``"epanechnikov"`` 1 - u**2, ``"gaussian"`` exp(-u**2 / (2 (1/3)**2))
        truncated at u = 1, or ``"uniform"``; u = d / h.  Weights are relative (1 at distance 0): the
        result is a risk score for ranking, not a normalised density.
    edge_segment
        Optional segment id per edge (``StreetNetwork.edge_segment``); when its ids are ``0..S-1``
        place ids equal segment ids.
    decay_timescale_min
        Timescale tau of the exponential decay, minutes: an event of age a counts ``exp(-a / tau)``.
        None: no decay.

    Attributes
    ----------
    place_of_edge : numpy.ndarray
        Place id of each edge.
    setup_time_s : float
        Wall time of building K.
    kernel_nnz : int
        Stored entries of K.
    """

    def __init__(
        self,
        indptr: ArrayLike,
        indices: ArrayLike,
        length_m: ArrayLike,
        *,
        bandwidth_m: float,
        kernel: str = "quartic",
        edge_segment: ArrayLike | None = None,
        decay_timescale_min: float | None = None,
    ) -> None:
        t0 = time.perf_counter()
        indptr_a, indices_a, length_a = check_csr(indptr, indices, length_m, weights_name="length_m")
        self.bandwidth_m = _positive(bandwidth_m, "bandwidth_m")
        self.kernel = kernel
        code = _kernel_code(kernel)
        self.decay_timescale_min = (
            None if decay_timescale_min is None else _positive(decay_timescale_min, "decay_timescale_min")
        )
        n_nodes, n_edges = indptr_a.shape[0] - 1, indices_a.shape[0]
        tail = np.repeat(np.arange(n_nodes, dtype=np.int64), np.diff(indptr_a))
        if edge_segment is None:
            key = np.column_stack(
                [np.minimum(tail, indices_a), np.maximum(tail, indices_a), np.round(length_a * 1e3)]
            )
            _, place_of_edge = np.unique(key, axis=0, return_inverse=True)
        else:
            seg = as_index_array(edge_segment, "edge_segment", length=n_edges)
            _, place_of_edge = np.unique(seg, return_inverse=True)
        self.place_of_edge = np.ascontiguousarray(place_of_edge.reshape(-1), dtype=np.int64)
        self.n_edges = n_edges
        self.n_places = int(self.place_of_edge.max()) + 1 if n_edges else 0
        rep = np.empty(self.n_places, dtype=np.int64)
        rep[self.place_of_edge[::-1]] = np.arange(n_edges - 1, -1, -1)  # first edge of each place
        place_a, place_b, place_len = tail[rep], indices_a[rep], length_a[rep]
        ends = np.concatenate([place_a, place_b])
        order = np.argsort(ends, kind="stable")
        inc_indptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(ends, minlength=n_nodes), out=inc_indptr[1:])
        inc_place = np.concatenate([np.arange(self.n_places), np.arange(self.n_places)])[order]
        inc_other = np.concatenate([place_b, place_a])[order]
        self._k_indptr, self._k_indices, self._k_data = _hotspot.build_kernel_matrix(
            inc_indptr,
            np.ascontiguousarray(inc_place, dtype=np.int64),
            np.ascontiguousarray(inc_other),
            place_a,
            place_b,
            np.ascontiguousarray(place_len),
            self.bandwidth_m,
            code,
        )
        self.kernel_nnz = int(self._k_indptr[-1])
        self._weights = np.zeros(self.n_places)
        self._reference_min = 0.0
        self._y_place = np.empty(self.n_places)
        self.setup_time_s = time.perf_counter() - t0

    def add_events(
        self, edges: ArrayLike, *, time_min: ArrayLike | None = None, weight: ArrayLike | None = None
    ) -> None:
        """Add events (edge, optional time, optional weight) to the per-place weights.

        Parameters
        ----------
        edges
            Edge of each event.
        time_min
            Time of each event, minutes (as the event table's ``time_min``); required with decay.
        weight
            Weight of each event (default 1), e.g. by crime type.
        """
        edge_a = as_index_array(np.atleast_1d(edges), "edges", upper=self.n_edges)
        w = (
            np.ones(edge_a.shape[0])
            if weight is None
            else as_float_array(np.atleast_1d(weight), "weight", length=edge_a.shape[0])
        )
        if self.decay_timescale_min is not None:
            if time_min is None:
                raise ValueError("time_min is required when decay_timescale_min is set")
            t = as_float_array(np.atleast_1d(time_min), "time_min", length=edge_a.shape[0])
            if t.size:
                latest = float(t.max())
                if (latest - self._reference_min) / self.decay_timescale_min > RENORMALISE_AT:
                    # Move the reference time forward so exp() below cannot overflow; rescale old weights.
                    self._weights *= np.exp((self._reference_min - latest) / self.decay_timescale_min)
                    self._reference_min = latest
                w = w * np.exp((t - self._reference_min) / self.decay_timescale_min)
        _hotspot.scatter_add(self.place_of_edge, edge_a, np.ascontiguousarray(w), self._weights)

    def clear(self) -> None:
        """Forget every event."""
        self._weights[:] = 0.0
        self._reference_min = 0.0

    def _scale(self, now_min: float | None) -> float:
        if self.decay_timescale_min is None:
            return 1.0
        if now_min is None:
            raise ValueError("now_min is required when decay_timescale_min is set")
        return float(np.exp((self._reference_min - float(now_min)) / self.decay_timescale_min))

    def refresh(
        self, now_min: float | None = None, *, out: NDArray[np.float64] | None = None
    ) -> NDArray[np.float64]:
        """Return the KDE value of every edge at time ``now_min`` (both directions of a street agree).

        Parameters
        ----------
        now_min
            Current time, minutes; required with decay.
        out
            Optional float64 array of length ``n_edges`` to overwrite.

        Returns
        -------
        numpy.ndarray
            Sum over events of weight x decay x kernel(distance / h), per edge.
        """
        if out is None:
            out = np.empty(self.n_edges)
        elif out.dtype != np.float64 or out.shape != (self.n_edges,) or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous float64 array of shape ({self.n_edges},)")
        _hotspot.spmv_gather(
            self._k_indptr,
            self._k_indices,
            self._k_data,
            self._weights,
            self._scale(now_min),
            self._y_place,
            self.place_of_edge,
            out,
        )
        return out

    def refresh_places(self, now_min: float | None = None) -> NDArray[np.float64]:
        """Return the KDE value of every place (segment) at ``now_min``; see :meth:`refresh`."""
        y = np.empty(self.n_places)
        _hotspot.spmv_gather(
            self._k_indptr, self._k_indices, self._k_data, self._weights, self._scale(now_min), y, None, None
        )
        return y

    def kernel_matrix(self) -> Any:
        """Return K as a ``scipy.sparse.csr_array`` (places x places), e.g. for inspection or tests."""
        from scipy.sparse import csr_array

        shape = (self.n_places, self.n_places)
        return csr_array((self._k_data, self._k_indices, self._k_indptr), shape=shape)


def network_kde(
    indptr: ArrayLike,
    indices: ArrayLike,
    length_m: ArrayLike,
    event_edge: ArrayLike,
    *,
    bandwidth_m: float,
    kernel: str = "quartic",
    event_weight: ArrayLike | None = None,
    event_time_min: ArrayLike | None = None,
    now_min: float | None = None,
    decay_timescale_min: float | None = None,
    edge_segment: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Return the network KDE value of every edge for one set of events (one-shot :class:`NetworkKDE`).

    Prospective network hotspotting after Bowers, Johnson & Pease (2004, Br J Criminol 44:641) and
    Rosser et al. (2017, J Quant Criminol 33:569); see :class:`NetworkKDE` for the parameters.  When
    the map is recomputed repeatedly, build a :class:`NetworkKDE` once and call ``refresh``.

    Parameters
    ----------
    indptr, indices, length_m
        CSR street graph and edge lengths, metres.
    event_edge
        Edge of each event.
    bandwidth_m, kernel, edge_segment, decay_timescale_min
        As for :class:`NetworkKDE`.
    event_weight
        Weight of each event (default 1).
    event_time_min, now_min
        Event times and the current time, minutes; required with ``decay_timescale_min``.

    Returns
    -------
    numpy.ndarray
        KDE value per edge.
    """
    kde = NetworkKDE(
        indptr,
        indices,
        length_m,
        bandwidth_m=bandwidth_m,
        kernel=kernel,
        edge_segment=edge_segment,
        decay_timescale_min=decay_timescale_min,
    )
    kde.add_events(event_edge, time_min=event_time_min, weight=event_weight)
    return kde.refresh(now_min)


def grid_kde(
    event_xy: ArrayLike,
    query_xy: ArrayLike,
    *,
    bandwidth_m: float,
    cell_m: float,
    kernel: str = "quartic",
    event_weight: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Return a planar grid KDE of events, read at the cells holding the query points.

    The comparison method of Rosser et al. (2017, J Quant Criminol 33:569): square cells of side
    ``cell_m`` aligned to multiples of ``cell_m`` in the projected CRS; each cell's value is the sum
    over events of weight x kernel(|cell centre - event| / h), straight-line distance; a query point
    (e.g. an edge midpoint) takes the value of its cell.

    Parameters
    ----------
    event_xy
        Projected event coordinates, metres, shape (n_events, 2).
    query_xy
        Projected query points, metres, shape (n_queries, 2).
    bandwidth_m
        Kernel bandwidth h, metres.
    cell_m
        Cell side, metres.
    kernel
        As for :class:`NetworkKDE`.
    event_weight
        Weight of each event (default 1; pass decayed weights for prospective maps).

    Returns
    -------
    numpy.ndarray
        Value per query point.
    """
    h = _positive(bandwidth_m, "bandwidth_m")
    cell = _positive(cell_m, "cell_m")
    code = _kernel_code(kernel)
    ev = as_float_array(event_xy, "event_xy", ndim=2)
    q = as_float_array(query_xy, "query_xy", ndim=2)
    if ev.shape[1:] != (2,) or q.shape[1:] != (2,):
        raise ValueError("event_xy and query_xy must have shape (n, 2)")
    w = (
        np.ones(ev.shape[0])
        if event_weight is None
        else as_float_array(event_weight, "event_weight", length=len(ev))
    )
    if q.shape[0] == 0:
        return np.zeros(0)
    qcell = np.floor(q / cell).astype(np.int64)
    lo = qcell.min(axis=0)
    nx, ny = (qcell.max(axis=0) - lo + 1).tolist()
    surface = np.zeros((ny, nx))
    _hotspot.grid_density(ev, np.ascontiguousarray(w), lo[0] * cell, lo[1] * cell, cell, h, code, surface)
    out: NDArray[np.float64] = surface[qcell[:, 1] - lo[1], qcell[:, 0] - lo[0]]
    return out


def select_hotspots(values: ArrayLike, k: int) -> NDArray[np.int64]:
    """Return the indices of the ``k`` largest values, largest first, ties to the lower index.

    O(n) selection (``argpartition``) with deterministic tie-breaking, so the same map always gives
    the same hotspots.

    Parameters
    ----------
    values
        One value per candidate (segment or edge); NaN is rejected.
    k
        How many to select, 0 <= k <= len(values).

    Returns
    -------
    numpy.ndarray
        ``k`` indices sorted by decreasing value, then increasing index.
    """
    v = as_float_array(values, "values", finite=False)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= v.shape[0]:
        raise ValueError(f"k must be an integer in [0, {v.shape[0]}], got {k}")
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    threshold = v[np.argpartition(-v, k - 1)[k - 1]]
    above = np.flatnonzero(v > threshold)
    ties = np.flatnonzero(v == threshold)[: k - above.shape[0]]
    chosen = np.concatenate([above, ties])
    return chosen[np.lexsort((chosen, -v[chosen]))].astype(np.int64)


def reach_maxima_at(
    sources: NDArray[np.int64],
    reach_start: NDArray[np.int64],
    reach_end: NDArray[np.int64],
    reach_place: NDArray[np.int64],
    reach_weight: NDArray[np.float64],
    levels: tuple[NDArray[np.float64], NDArray[np.float64]],
    queries: NDArray[np.int64],
    *,
    scratch: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return, per query place, the largest ``weight * level`` of each of two levels over the sources reaching it.

    Source ``i`` (place ``sources[i]``) reaches the places ``reach_place[reach_start[s]:reach_end[s]]``
    (``s = sources[i]``) with weights ``reach_weight`` there, at levels ``levels[0][i]`` and
    ``levels[1][i]``. The answer at ``queries[j]`` is what ``np.maximum.at`` of every source's
    ``weight * level`` into a zeroed per-place array leaves there (0 where no source reaches),
    computed for the queried places only: a field asked at a few places costs the sources' reaches,
    not a pass over every place. ``scratch`` (int64, one -1 per place, left so) saves allocating one
    per call; ranges are checked by the kernel (called every step: no extra passes here).

    Raises
    ------
    ValueError
        On a query, source, reach slice or reached place out of range, or inconsistent lengths.
    """
    n_places = int(reach_start.shape[0])
    src = np.ascontiguousarray(sources, dtype=np.int64)
    q = np.ascontiguousarray(queries, dtype=np.int64)
    place = np.ascontiguousarray(reach_place, dtype=np.int64)
    weight = np.ascontiguousarray(reach_weight, dtype=np.float64)
    level_a = np.ascontiguousarray(levels[0], dtype=np.float64)
    level_b = np.ascontiguousarray(levels[1], dtype=np.float64)
    if reach_end.shape[0] != n_places or weight.shape != place.shape:
        raise ValueError("reach_start/reach_end (one per place) and reach_place/reach_weight must agree")
    if src.ndim != 1 or q.ndim != 1 or level_a.shape != src.shape or level_b.shape != src.shape:
        raise ValueError("sources, levels and queries must be 1-D, one level of each per source")
    if scratch is None:
        scratch = np.full(n_places, -1, dtype=np.int64)
    elif scratch.shape != (n_places,) or scratch.dtype != np.int64:
        raise ValueError(f"scratch must be int64 of length {n_places}")
    out_a = np.empty(q.shape[0])
    out_b = np.empty(q.shape[0])
    start = np.ascontiguousarray(reach_start, dtype=np.int64)
    end = np.ascontiguousarray(reach_end, dtype=np.int64)
    status = _hotspot.reach_maxima_at(
        src, start, end, place, weight, level_a, level_b, q, scratch, out_a, out_b
    )
    if status:
        what = {1: "a query", 2: "a source or its reach slice", 3: "a reached place"}[status]
        raise ValueError(f"{what} is out of range")
    return out_a, out_b
