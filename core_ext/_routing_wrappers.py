"""Validated wrappers of the routing kernels: shortest paths, bounded search, A* routes, nearest source."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core_ext import _routing
from core_ext._validation import (
    as_bool_mask,
    as_float_array,
    as_index,
    as_index_array,
    check_csr,
    check_node_xy,
)

__all__ = ["Router", "nearest_sources", "shortest_path_lengths", "transpose_csr"]


def _cutoff(cutoff: float | None) -> float:
    if cutoff is None:
        return float("inf")
    value = float(cutoff)
    if not value >= 0:
        raise ValueError(f"cutoff must be >= 0 or None, got {cutoff}")
    return value


#: Costs from one source use the bucket search (no heap) on graphs of at least this many nodes; on
#: smaller ones setting up its ring of buckets costs more than the heap it saves.
MIN_BUCKET_NODES = 1024


def _dense_search(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    weights: NDArray[np.float64],
    closed: NDArray[np.uint8] | None,
    sources: NDArray[np.int64],
    source_cost: NDArray[np.float64],
    cutoff: float,
    *,
    with_label: bool,
) -> tuple[NDArray[np.float64], NDArray[np.int64] | None]:
    n_nodes = indptr.shape[0] - 1
    dist = np.full(n_nodes, np.inf)
    label = np.empty(n_nodes, dtype=np.int64) if with_label else None
    _routing.shortest_path_lengths(
        indptr,
        indices,
        weights,
        closed,
        sources,
        source_cost,
        cutoff,
        dist,
        label,
        n_nodes >= MIN_BUCKET_NODES,
    )
    return dist, label


def shortest_path_lengths(
    indptr: ArrayLike,
    indices: ArrayLike,
    weights: ArrayLike,
    source: int,
    *,
    cutoff: float | None = None,
    closed_edges: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Return the shortest-path cost from ``source`` to every node (Dijkstra).

    Parameters
    ----------
    indptr, indices
        CSR graph: the out-edges of node ``u`` are ``indptr[u]:indptr[u + 1]``, ``indices`` holds their
        head nodes and an edge's id is its CSR position.
    weights
        Cost of each edge, >= 0 (``edge_length_m`` or ``edge_travel_time_s``).
    source
        Start node.
    cutoff
        Largest cost of interest, in the units of ``weights``; nodes farther away get ``inf``.
    closed_edges
        Boolean mask over edges, True where the edge may not be used.

    Returns
    -------
    numpy.ndarray
        Dense array of length ``n_nodes``: cost of the cheapest path, ``inf`` where unreachable or
        beyond ``cutoff`` (a node exactly at ``cutoff`` is kept).

    Notes
    -----
    Validates the whole graph on every call (O(edges)); inside a simulation loop use
    :class:`Router`, which validates once.  Same results as ``scipy.sparse.csgraph.dijkstra(A,
    indices=source, limit=cutoff)`` with parallel edges reduced to their minimum.  On graphs of at
    least ``MIN_BUCKET_NODES`` nodes the search keeps its frontier in buckets of cost instead of a
    heap: the same costs, bit for bit (60% of the heap's time on the 100k-node benchmark grid).
    """
    indptr_a, indices_a, weights_a = check_csr(indptr, indices, weights)
    n_nodes = indptr_a.shape[0] - 1
    src = as_index(source, "source", upper=n_nodes)
    closed = as_bool_mask(closed_edges, "closed_edges", length=indices_a.shape[0])
    dist, _ = _dense_search(
        indptr_a,
        indices_a,
        weights_a,
        closed,
        np.array([src]),
        np.zeros(1),
        _cutoff(cutoff),
        with_label=False,
    )
    return dist


def nearest_sources(
    indptr: ArrayLike,
    indices: ArrayLike,
    weights: ArrayLike,
    sources: ArrayLike,
    *,
    reverse: bool = False,
    cutoff: float | None = None,
    closed_edges: ArrayLike | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Return, for every node, the nearest of ``sources`` by network cost and that cost.

    One multi-source Dijkstra: used to dispatch the nearest officer (sources = officers' nodes) and to
    partition the network into beats (sources = beat centres).

    Parameters
    ----------
    indptr, indices, weights
        CSR graph and edge costs, as in :func:`shortest_path_lengths`.
    sources
        Node of each source; the same node may appear twice (the lower index wins).
    reverse
        False: cost of travelling from the source to the node (an officer driving to an incident).
        True: cost from the node to the source (someone walking to the nearest police station); the
        search then runs on the transposed graph (:func:`transpose_csr`).
    cutoff
        Largest cost of interest; nodes farther from every source get -1 and ``inf``.
    closed_edges
        Boolean mask over edges (original edge ids, also with ``reverse``), True where closed.

    Returns
    -------
    nearest : numpy.ndarray
        Index into ``sources`` of the nearest source, -1 where none is reachable.  Ties go to the
        source whose search front arrives first; tests check that the chosen source attains ``cost``.
    cost : numpy.ndarray
        Network cost to (or, with ``reverse``, from) the nearest source, ``inf`` where unreachable.
    """
    return Router(indptr, indices, weights).nearest_sources(
        sources, reverse=reverse, cutoff=cutoff, closed_edges=closed_edges
    )


def transpose_csr(
    indptr: ArrayLike, indices: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Return the CSR of the reversed graph and, per reversed edge, the id of the original edge.

    Parameters
    ----------
    indptr, indices
        CSR graph.

    Returns
    -------
    indptr_t, indices_t : numpy.ndarray
        CSR of the graph with every edge reversed (the in-edges of each node, as out-edges).
    edge_t : numpy.ndarray
        ``edge_t[k]`` is the original id of reversed edge ``k``: reorder weights and masks with
        ``weights[edge_t]``.
    """
    indptr_a = as_index_array(indptr, "indptr")
    n_nodes = indptr_a.shape[0] - 1
    indices_a = as_index_array(indices, "indices", upper=n_nodes, length=int(indptr_a[-1]))
    edge_t = np.argsort(indices_a, kind="stable")
    tail = np.repeat(np.arange(n_nodes, dtype=np.int64), np.diff(indptr_a))
    indptr_t = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(indices_a, minlength=n_nodes), out=indptr_t[1:])
    return indptr_t, np.ascontiguousarray(tail[edge_t]), edge_t.astype(np.int64)


class Router:
    """A validated graph with a reusable search workspace: the fast path for repeated searches.

    Validates the CSR arrays once, then every search costs what it reaches (a 400 m search on a
    100k-node graph touches only the nodes within 400 m).  Not thread-safe; use one per thread.

    Parameters
    ----------
    indptr, indices, weights
        CSR graph and edge costs, as in :func:`shortest_path_lengths`.
    node_xy
        Projected node coordinates in metres, shape (n_nodes, 2).  When given, :meth:`route` and
        :meth:`routes` run A* with a straight-line heuristic; otherwise plain Dijkstra with early exit.
    heuristic_scale
        Cost per metre of straight-line distance that never overestimates.  Default: the smallest
        ``weights[e] / chord(e)`` over all edges, which makes the heuristic consistent by construction
        for any weight type (for travel times it is about 1 / top speed), so routes stay optimal.
        Zero-weight edges between distinct points force 0 (Dijkstra).
    landmarks
        Number of landmarks for the ALT heuristic (Goldberg & Harrelson 2005): the costs from and to
        a few far-apart nodes bound every remaining cost by the triangle inequality, much tighter than
        the straight line on a street grid, so A* settles fewer nodes.  The tables (two float64 per
        node and landmark) are computed on the first A* search; 0 (the default) uses none.  The
        routes' costs are the same; where several paths cost exactly the same, the path found can differ.
    """

    #: :meth:`routes_from_trees` grows a tree for an origin with at least this many destinations and
    #: runs one A* search per pair for the others (a tree costs about as much as a few A* searches)
    MIN_TREE_TARGETS = 4

    def __init__(
        self,
        indptr: ArrayLike,
        indices: ArrayLike,
        weights: ArrayLike,
        *,
        node_xy: ArrayLike | None = None,
        heuristic_scale: float | None = None,
        landmarks: int = 0,
    ) -> None:
        self.indptr, self.indices, self.weights = check_csr(indptr, indices, weights)
        if not (isinstance(landmarks, int | np.integer) and landmarks >= 0):
            raise ValueError(f"landmarks must be an integer >= 0, got {landmarks!r}")
        self.n_landmarks = int(min(landmarks, self.indptr.shape[0] - 1))
        self._landmark_tables: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
        self.n_nodes = self.indptr.shape[0] - 1
        self.n_edges = self.indices.shape[0]
        self.edge_tail = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))
        self.node_xy = None if node_xy is None else check_node_xy(node_xy, self.n_nodes)
        self.heuristic_scale = 0.0
        if self.node_xy is not None:
            if heuristic_scale is None:
                heuristic_scale = self._admissible_scale()
            elif not (np.isfinite(heuristic_scale) and heuristic_scale >= 0):
                raise ValueError(f"heuristic_scale must be finite and >= 0, got {heuristic_scale}")
            self.heuristic_scale = float(heuristic_scale)
        self._workspace = _routing.DijkstraWorkspace(self.n_nodes)
        self._transposed: tuple[Any, ...] | None = None
        # what the last routes_from_trees call did: trees grown, pairs re-routed by A* because of ties
        self.n_trees = 0
        self.n_rerouted = 0

    def landmark_tables(self) -> tuple[NDArray[np.float64], NDArray[np.float64]] | tuple[None, None]:
        """Return ``(cost from, cost to)`` each landmark per node, shape ``(n_nodes, landmarks)``; built once.

        Landmarks are chosen farthest first (Goldberg & Harrelson 2005): the node farthest from node 0,
        then each time the node farthest from every landmark chosen so far (inf and unreachable nodes
        aside). ``(None, None)`` without landmarks.
        """
        if self.n_landmarks == 0:
            return None, None
        if self._landmark_tables is None:
            n, k = self.n_nodes, self.n_landmarks
            lm_from, lm_to = np.empty((n, k)), np.empty((n, k))
            indptr_t, indices_t, weights_t, _ = self._reversed()
            one = np.zeros(1)
            reach = self.shortest_path_lengths(0)
            nearest = np.full(n, np.inf)
            for j in range(k):
                far = np.where(np.isfinite(reach), reach, -1.0)
                lm = int(np.argmax(far))
                lm_from[:, j] = self.shortest_path_lengths(lm)
                lm_to[:, j], _ = _dense_search(indptr_t, indices_t, weights_t, None, np.array([lm]), one,
                                               np.inf, with_label=False)  # fmt: skip
                nearest = np.minimum(nearest, lm_from[:, j])
                reach = nearest
            self._landmark_tables = (lm_from, lm_to)
        return self._landmark_tables

    def _admissible_scale(self) -> float:
        assert self.node_xy is not None
        chord = np.hypot(*(self.node_xy[self.edge_tail] - self.node_xy[self.indices]).T)
        moving = chord > 0
        if not moving.any():
            return 0.0
        # Shave a hair off so rounding can never make the heuristic overestimate. A chord too short
        # for its weight overflows to inf, which the minimum passes over.
        with np.errstate(over="ignore"):
            return float(np.min(self.weights[moving] / chord[moving])) * (1.0 - 1e-9)

    def _mask(self, closed_edges: ArrayLike | None) -> NDArray[np.uint8] | None:
        return as_bool_mask(closed_edges, "closed_edges", length=self.n_edges)

    def shortest_path_lengths(
        self, source: int, *, cutoff: float | None = None, closed_edges: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Return dense costs from ``source``; see :func:`core_ext.shortest_path_lengths`."""
        src = as_index(source, "source", upper=self.n_nodes)
        dist, _ = _dense_search(
            self.indptr,
            self.indices,
            self.weights,
            self._mask(closed_edges),
            np.array([src]),
            np.zeros(1),
            _cutoff(cutoff),
            with_label=False,
        )
        return dist

    def find_nodes_within(
        self,
        sources: ArrayLike,
        cutoff: float,
        *,
        source_cost: ArrayLike | None = None,
        closed_edges: ArrayLike | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return the nodes within ``cutoff`` of the nearest source and their costs (bounded Dijkstra).

        Parameters
        ----------
        sources
            Start node(s); an int or an array.
        cutoff
            Largest cost kept, in the units of the weights (a node exactly at ``cutoff`` is kept).
        source_cost
            Cost already spent at each source, e.g. ``length_m - offset_m`` for an agent part-way along
            the edge into that node; default 0.
        closed_edges
            Boolean mask over edges, True where closed.

        Returns
        -------
        nodes : numpy.ndarray
            Reached nodes in order of non-decreasing cost (the sources first).
        cost : numpy.ndarray
            Their costs.  Nothing of size ``n_nodes`` is allocated or scanned.
        """
        src = as_index_array(np.atleast_1d(sources), "sources", upper=self.n_nodes)
        if source_cost is None:
            cost0 = np.zeros(src.shape[0])
        else:
            cost0 = as_float_array(np.atleast_1d(source_cost), "source_cost", length=src.shape[0])
            if cost0.size and cost0.min() < 0:
                raise ValueError("source_cost must be >= 0")
        return self._workspace.bounded(
            self.indptr, self.indices, self.weights, self._mask(closed_edges), src, cost0, _cutoff(cutoff)
        )

    def route(
        self, origin: int, destination: int, *, closed_edges: ArrayLike | None = None
    ) -> tuple[NDArray[np.int64], float]:
        """Return the cheapest route from ``origin`` to ``destination`` as edge ids, and its cost.

        Parameters
        ----------
        origin, destination
            Nodes.
        closed_edges
            Boolean mask over edges, True where closed.

        Returns
        -------
        edges : numpy.ndarray
            Edge ids in travel order; empty if ``origin == destination`` or unreachable.
        cost : float
            Route cost (0 for ``origin == destination``, ``inf`` if unreachable).
        """
        o = as_index(origin, "origin", upper=self.n_nodes)
        d = as_index(destination, "destination", upper=self.n_nodes)
        _, edges, cost = self._routes(np.array([o]), np.array([d]), self._mask(closed_edges))
        return edges, float(cost[0])

    def routes(
        self, origins: ArrayLike, destinations: ArrayLike, *, closed_edges: ArrayLike | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Route many (origin, destination) pairs in one call, without the GIL, into a CSR of routes.

        Parameters
        ----------
        origins, destinations
            Nodes, same length.
        closed_edges
            Boolean mask over edges, True where closed.

        Returns
        -------
        routes_indptr : numpy.ndarray
            Length ``n_pairs + 1``: route ``i`` is ``route_edges[routes_indptr[i]:routes_indptr[i + 1]]``.
        route_edges : numpy.ndarray
            All routes' edge ids, concatenated.
        cost : numpy.ndarray
            Cost of each route, ``inf`` (and an empty route) where unreachable.
        """
        o = as_index_array(origins, "origins", upper=self.n_nodes)
        d = as_index_array(destinations, "destinations", upper=self.n_nodes, length=o.shape[0])
        return self._routes(o, d, self._mask(closed_edges))

    def _routes(
        self, o: NDArray[np.int64], d: NDArray[np.int64], closed: NDArray[np.uint8] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        return self._workspace.routes(
            self.indptr,
            self.indices,
            self.weights,
            closed,
            self.edge_tail,
            self.node_xy,
            self.heuristic_scale,
            o,
            d,
            *self.landmark_tables(),
        )

    def routes_from_trees(
        self,
        origins: ArrayLike,
        destinations: ArrayLike,
        *,
        last_edges: ArrayLike | None = None,
        closed_edges: ArrayLike | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
        """Route many pairs by one shortest-path tree per distinct origin; the routes of :meth:`routes`.

        Pairs are grouped by origin and each origin grows one Dijkstra tree, stopped once all its
        destinations are settled; every route is read off the tree's predecessor edges.  Equal pairs are
        routed once and share one slice of ``route_edges``.  Origins with fewer than
        :attr:`MIN_TREE_TARGETS` destinations get one A* search per pair instead (faster for a few).

        Parameters
        ----------
        origins, destinations
            Nodes, same length.
        last_edges
            Optional edge per pair, appended to its route: the route then ends by travelling that edge
            (to the far end of a destination street).  ``destinations`` must be the tails of these edges.
        closed_edges
            Boolean mask over edges, True where closed (a closed last edge makes the pair unreachable).

        Returns
        -------
        start, end : numpy.ndarray
            Route ``i`` is ``route_edges[start[i]:end[i]]`` (int64 offsets).
        route_edges : numpy.ndarray
            The distinct routes' edge ids, int32, concatenated.
        cost : numpy.ndarray
            Cost of each route (its last edge included), ``inf`` (and an empty route) where unreachable.

        Notes
        -----
        Each route is edge for edge the route :meth:`routes` returns, so a model gives the same events
        whichever method routed it.  Where shortest paths tie, one search per pair keeps the path its
        search order finds first; a plain-Dijkstra tree searches in that same order, but A* does not,
        so (with ``node_xy``) a tree path through a node reached by two edges at exactly the same cost
        is routed again by A* (counted in :attr:`n_rerouted`).
        """
        o = as_index_array(origins, "origins", upper=self.n_nodes)
        d = as_index_array(destinations, "destinations", upper=self.n_nodes, length=o.shape[0])
        last = None
        if last_edges is not None:
            last = as_index_array(last_edges, "last_edges", upper=self.n_edges, length=o.shape[0])
            if (self.edge_tail[last] != d).any():
                raise ValueError("destinations must be the tails of last_edges")
        if self.n_edges >= 2**31:
            raise ValueError("routes_from_trees stores edge ids in 32 bits: the graph has too many edges")
        # one key per distinct pair, sorted by origin: the groups are runs of equal origins
        key = o * self.n_edges + last if last is not None else o * self.n_nodes + d
        if (
            self.node_xy is not None
            and key.size < self.MIN_TREE_TARGETS
            and len(set(key.tolist())) == key.size
        ):
            # too few pairs for any tree: one A* per pair, as below, without the sort that groups them
            return self._tree_routes(np.arange(key.size + 1, dtype=np.int64), o, d, last, closed_edges)
        pairs, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.ravel()
        if last is not None:
            u_origin, u_last = np.divmod(pairs, self.n_edges)
            u_target = self.edge_tail[u_last]
        else:
            u_origin, u_target = np.divmod(pairs, self.n_nodes)
            u_last = None
        new_group = np.ones(pairs.size, dtype=bool)
        new_group[1:] = u_origin[1:] != u_origin[:-1]
        group_start = np.flatnonzero(new_group)
        group_indptr = np.append(group_start, pairs.size).astype(np.int64)
        start, end, route_edges, cost = self._tree_routes(
            group_indptr,
            np.ascontiguousarray(u_origin[group_start]),
            np.ascontiguousarray(u_target),
            None if u_last is None else np.ascontiguousarray(u_last),
            closed_edges,
        )
        return start[inverse], end[inverse], route_edges, cost[inverse]

    def _tree_routes(
        self,
        group_indptr: NDArray[np.int64],
        group_origin: NDArray[np.int64],
        targets: NDArray[np.int64],
        last_edges: NDArray[np.int64] | None,
        closed_edges: ArrayLike | None,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
        n_pairs = targets.shape[0]
        start = np.empty(n_pairs, dtype=np.int64)
        end = np.empty(n_pairs, dtype=np.int64)
        cost = np.empty(n_pairs, dtype=np.float64)
        route_edges, n_trees, n_rerouted = self._workspace.tree_routes(
            self.indptr,
            self.indices,
            self.weights,
            self._mask(closed_edges),
            self.edge_tail,
            self.node_xy,
            self.heuristic_scale,
            group_indptr,
            group_origin,
            targets,
            last_edges,
            self.MIN_TREE_TARGETS,
            start,
            end,
            cost,
            *self.landmark_tables(),
        )
        self.n_trees, self.n_rerouted = int(n_trees), int(n_rerouted)
        return start, end, route_edges, cost

    def nearest_source_of(self, sources: ArrayLike, node: int) -> tuple[int, float]:
        """Return the index in ``sources`` of the source nearest to ``node`` (-1 if none reaches it) and its cost.

        The cost :meth:`nearest_sources` gives for ``node``, from one search out of ``node`` over the
        reversed graph, stopped once the nearest sources are settled: it covers the ball round
        ``node`` out to the nearest source, not a ball round every source. Of sources equally near
        (costs equal to the last bit, or on one node) the first listed is returned.
        """
        src = as_index_array(np.atleast_1d(sources), "sources", upper=self.n_nodes)
        target = as_index(node, "node", upper=self.n_nodes)
        indptr, indices, weights, _ = self._reversed()
        found, cost = self._workspace.nearest_of(indptr, indices, weights, None, target, src)
        if found.size == 0:
            return -1, float("inf")
        on_found = src == found[0] if found.size == 1 else np.isin(src, found)
        return int(np.flatnonzero(on_found)[0]), float(cost)

    def _reversed(
        self,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
        """Return the graph with every edge turned round (CSR) and, per reversed edge, its edge id; built once."""
        if self._transposed is None:
            indptr_t, indices_t, edge_t = transpose_csr(self.indptr, self.indices)
            self._transposed = (indptr_t, indices_t, np.ascontiguousarray(self.weights[edge_t]), edge_t)
        return self._transposed

    def nearest_sources(
        self,
        sources: ArrayLike,
        *,
        reverse: bool = False,
        cutoff: float | None = None,
        closed_edges: ArrayLike | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return each node's nearest source and its cost; see :func:`core_ext.nearest_sources`."""
        src = as_index_array(np.atleast_1d(sources), "sources", upper=self.n_nodes)
        closed = self._mask(closed_edges)
        indptr, indices, weights = self.indptr, self.indices, self.weights
        if reverse:
            indptr, indices, weights, edge_t = self._reversed()
            if closed is not None:
                closed = np.ascontiguousarray(closed[edge_t])
        dist, label = _dense_search(
            indptr, indices, weights, closed, src, np.zeros(src.shape[0]), _cutoff(cutoff), with_label=True
        )
        assert label is not None
        return label, dist
