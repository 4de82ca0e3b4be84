"""Routing kernels against a plain heapq Dijkstra, networkx and scipy.sparse.csgraph."""

from __future__ import annotations

import heapq
import importlib

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

import core_ext
from tests.core_ext.conftest import readonly

# ---------------------------------------------------------------- references (slow, obviously correct)


def reference_dijkstra(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    weights: NDArray[np.float64],
    source_cost: dict[int, float],
    closed: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """Textbook Dijkstra with a heapq and lazy deletion; ``source_cost`` maps start node -> initial cost."""
    n = len(indptr) - 1
    dist = np.full(n, np.inf)
    heap = []
    for s, c in source_cost.items():
        if c < dist[s]:
            dist[s] = c
            heap.append((c, s))
    heapq.heapify(heap)
    done = np.zeros(n, dtype=bool)
    while heap:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for e in range(indptr[u], indptr[u + 1]):
            if closed is not None and closed[e]:
                continue
            v = indices[e]
            if d + weights[e] < dist[v]:
                dist[v] = d + weights[e]
                heapq.heappush(heap, (dist[v], v))
    return dist


def scipy_graph(
    indptr: NDArray[np.int64], indices: NDArray[np.int64], weights: NDArray[np.float64]
) -> csr_array:
    """CSR matrix with parallel edges reduced to their minimum (scipy would add them up)."""
    n = len(indptr) - 1
    tail = np.repeat(np.arange(n), np.diff(indptr))
    order = np.lexsort((weights, indices, tail))
    tail, head, w = tail[order], indices[order], weights[order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    return csr_array((w[first], (tail[first], head[first])), shape=(n, n))


def check_route(
    edges: NDArray[np.int64],
    cost: float,
    o: int,
    d: int,
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    weights: NDArray[np.float64],
    closed: NDArray[np.bool_] | None = None,
) -> None:
    """The edges form a walk from o to d whose weights add up to cost."""
    tail = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    if o == d:
        assert len(edges) == 0 and cost == 0
        return
    assert len(edges) > 0
    assert tail[edges[0]] == o and indices[edges[-1]] == d
    np.testing.assert_array_equal(indices[edges[:-1]], tail[edges[1:]])
    assert np.isclose(weights[edges].sum(), cost, rtol=1e-9, atol=1e-9)
    if closed is not None:
        assert not closed[edges].any()


# ---------------------------------------------------------------- hand-solved graph
#
#   0 --1--> 1 --1--> 2          edge ids in CSR order:
#   |        ^        |          0: 0->1 (1)   1: 0->3 (4)   2: 1->2 (1)   3: 2->4 (5)
#   4        2        5          4: 3->1 (2)   5: 3->4 (1)   6: 4->4 (0, self-loop)
#   v        |        v          node 5 is isolated
#   3 -------+--1---> 4
TINY = (
    np.array([0, 2, 3, 4, 6, 7, 7]),
    np.array([1, 3, 2, 4, 1, 4, 4]),
    np.array([1.0, 4.0, 1.0, 5.0, 2.0, 1.0, 0.0]),
)
TINY_XY = np.array([[0, 1], [1, 1], [2, 1], [0, 0], [2, 0], [9, 9]], dtype=float)


def test_tiny_shortest_path_lengths() -> None:
    np.testing.assert_array_equal(core_ext.shortest_path_lengths(*TINY, 0), [0, 1, 2, 4, 5, np.inf])
    np.testing.assert_array_equal(core_ext.shortest_path_lengths(*TINY, 3), [np.inf, 2, 3, 0, 1, np.inf])
    # cutoff keeps a node exactly at the cutoff
    np.testing.assert_array_equal(
        core_ext.shortest_path_lengths(*TINY, 0, cutoff=4), [0, 1, 2, 4, np.inf, np.inf]
    )
    closed = np.zeros(7, dtype=bool)
    closed[5] = True  # 3->4
    np.testing.assert_array_equal(
        core_ext.shortest_path_lengths(*TINY, 0, closed_edges=closed), [0, 1, 2, 4, 7, np.inf]
    )


def test_tiny_routes() -> None:
    router = core_ext.Router(*TINY, node_xy=TINY_XY)
    edges, cost = router.route(0, 4)
    assert cost == 5 and edges.tolist() == [1, 5]
    edges, cost = router.route(3, 2)
    assert cost == 3 and edges.tolist() == [4, 2]
    edges, cost = router.route(4, 0)
    assert cost == np.inf and edges.size == 0
    edges, cost = router.route(2, 2)
    assert cost == 0 and edges.size == 0
    rip, redges, rcost = router.routes([0, 4, 3, 1], [4, 0, 2, 1])
    assert rip.tolist() == [0, 2, 2, 4, 4]
    assert redges.tolist() == [1, 5, 4, 2]
    np.testing.assert_array_equal(rcost, [5, np.inf, 3, 0])


def test_tiny_routes_from_trees() -> None:
    router = core_ext.Router(*TINY, node_xy=TINY_XY)
    start, end, edges, cost = router.routes_from_trees([0, 0, 4, 3, 1, 0], [4, 4, 0, 2, 1, 2])
    assert edges.dtype == np.int32
    routes = [edges[a:b].tolist() for a, b in zip(start, end, strict=True)]
    assert routes == [[1, 5], [1, 5], [], [4, 2], [], [0, 2]]
    assert start[0] == start[1] and end[0] == end[1]  # equal pairs share one slice
    np.testing.assert_array_equal(cost, [5, 5, np.inf, 3, 0, 2])
    # a last edge per pair: the route goes on along it (to the far end of a destination street)
    closed = np.zeros(7, dtype=bool)
    closed[5] = True  # 3->4
    start, end, edges, cost = router.routes_from_trees(
        [0, 3, 2, 4, 3], [1, 1, 4, 1, 4], last_edges=[2, 2, 6, 2, 6], closed_edges=closed
    )
    routes = [edges[a:b].tolist() for a, b in zip(start, end, strict=True)]
    assert routes == [[0, 2], [4, 2], [3, 6], [], [4, 2, 3, 6]]
    np.testing.assert_array_equal(cost, [2, 3, 5, np.inf, 8])
    closed[2] = True  # a closed last edge cannot be travelled
    _, _, _, cost = router.routes_from_trees([0], [1], last_edges=[2], closed_edges=closed)
    assert cost[0] == np.inf


def test_tiny_bounded_and_nearest() -> None:
    router = core_ext.Router(*TINY)
    nodes, cost = router.find_nodes_within(0, 2.5)
    assert nodes.tolist() == [0, 1, 2] and cost.tolist() == [0, 1, 2]
    nodes, cost = router.find_nodes_within([0, 3], 1.0, source_cost=[0.5, 0.0])
    assert sorted(zip(nodes.tolist(), cost.tolist(), strict=True)) == [(0, 0.5), (3, 0.0), (4, 1.0)]
    nearest, dist = router.nearest_sources([3, 1])
    assert nearest.tolist() == [-1, 1, 1, 0, 0, -1]
    np.testing.assert_array_equal(dist, [np.inf, 0, 1, 0, 1, np.inf])
    # reverse: cost from each node to the nearest source
    nearest, dist = router.nearest_sources([2, 4], reverse=True)
    assert nearest.tolist() == [0, 0, 0, 1, 1, -1]
    np.testing.assert_array_equal(dist, [2, 1, 0, 1, 0, np.inf])


def test_transpose_csr_reverses_every_edge() -> None:
    indptr_t, indices_t, edge_t = core_ext.transpose_csr(TINY[0], TINY[1])
    tail = np.repeat(np.arange(6), np.diff(TINY[0]))
    tail_t = np.repeat(np.arange(6), np.diff(indptr_t))
    np.testing.assert_array_equal(tail_t, TINY[1][edge_t])
    np.testing.assert_array_equal(indices_t, tail[edge_t])


# ---------------------------------------------------------------- random graphs (Hypothesis)


@st.composite
def graphs(draw: st.DrawFn, max_nodes: int = 24) -> tuple[NDArray[np.int64], ...]:
    """Random multigraphs: disconnected parts, parallel edges, self-loops, zero and tied weights."""
    n = draw(st.integers(1, max_nodes))
    m = draw(st.integers(0, 4 * n))
    node = st.integers(0, n - 1)
    tail = np.array(draw(st.lists(node, min_size=m, max_size=m)), dtype=np.int64)
    head = np.array(draw(st.lists(node, min_size=m, max_size=m)), dtype=np.int64)
    weight = st.one_of(st.just(0.0), st.integers(0, 5).map(float), st.floats(0, 1000, allow_nan=False))
    w = np.array(draw(st.lists(weight, min_size=m, max_size=m)), dtype=np.float64)
    order = np.argsort(tail, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    closed = np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m)), dtype=bool)
    xy = np.array(draw(st.lists(st.floats(-50, 50), min_size=2 * n, max_size=2 * n))).reshape(n, 2)
    return indptr, head[order], w[order], closed, xy


@settings(max_examples=150, deadline=None)
@given(graphs(), st.data())
def test_random_graph_lengths_and_bounded(g: tuple[NDArray[np.int64], ...], data: st.DataObject) -> None:
    indptr, indices, w, closed, _ = g
    n = len(indptr) - 1
    s = data.draw(st.integers(0, n - 1))
    use_mask = data.draw(st.booleans())
    mask = closed if use_mask else None
    ref = reference_dijkstra(indptr, indices, w, {s: 0.0}, mask)
    np.testing.assert_allclose(core_ext.shortest_path_lengths(indptr, indices, w, s, closed_edges=mask), ref)
    cutoff = data.draw(st.sampled_from([0.0, 1.0, 5.0, 100.0, 1e9]))
    np.testing.assert_allclose(
        core_ext.shortest_path_lengths(indptr, indices, w, s, cutoff=cutoff, closed_edges=mask),
        np.where(ref <= cutoff, ref, np.inf),
    )
    # bounded search from several sources with initial costs
    k = data.draw(st.integers(1, 3))
    sources = data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    cost0 = data.draw(st.lists(st.integers(0, 3).map(float), min_size=k, max_size=k))
    seeds: dict[int, float] = {}
    for node, c in zip(sources, cost0, strict=True):
        seeds[node] = min(c, seeds.get(node, np.inf))
    ref_multi = reference_dijkstra(indptr, indices, w, seeds, mask)
    router = core_ext.Router(indptr, indices, w)
    nodes, cost = router.find_nodes_within(sources, cutoff, source_cost=cost0, closed_edges=mask)
    expected = np.flatnonzero(ref_multi <= cutoff)
    assert sorted(nodes.tolist()) == expected.tolist()
    np.testing.assert_allclose(cost, ref_multi[nodes])
    assert (np.diff(cost) >= 0).all()
    # the workspace is clean for the next search
    nodes2, cost2 = router.find_nodes_within(sources, cutoff, source_cost=cost0, closed_edges=mask)
    np.testing.assert_array_equal(nodes, nodes2)
    np.testing.assert_array_equal(cost, cost2)


@settings(max_examples=300, deadline=None)
@given(graphs(), st.data())
def test_random_graph_bucket_costs_equal_heap_costs(
    g: tuple[NDArray[np.int64], ...], data: st.DataObject
) -> None:
    """Costs from one source (bucket search) are bit for bit those of the heap search (``nearest_sources``)."""
    indptr, indices, w, closed, _ = g
    n = len(indptr) - 1
    s = data.draw(st.integers(0, n - 1))
    mask = closed if data.draw(st.booleans()) else None
    cutoff = data.draw(st.sampled_from([np.inf, 0.0, 3.0, 250.0]))
    costs, heap_costs = np.full(n, np.inf), np.full(n, np.inf)
    src, zero = np.array([s]), np.zeros(1)
    closed_u8 = None if mask is None else mask.view(np.uint8)
    for out, buckets in ((costs, True), (heap_costs, False)):
        core_ext._routing.shortest_path_lengths(
            indptr, indices, w, closed_u8, src, zero, cutoff, out, None, buckets
        )
    np.testing.assert_array_equal(costs, heap_costs)


def test_bucket_search_gives_up_on_many_light_edges() -> None:
    """A chain of light edges settled in the worst order: the heap search takes over, same costs."""
    chain = 50
    tail = np.concatenate([np.zeros(chain, dtype=np.int64), np.arange(1, chain), [chain]])
    head = np.concatenate([np.arange(1, chain + 1), np.arange(2, chain + 1), [chain + 1]])
    w = np.concatenate([np.arange(1.0, chain + 1), np.full(chain - 1, 0.5), [8192.0 * 100]])
    indptr = np.zeros(chain + 3, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=chain + 2), out=indptr[1:])
    order = np.argsort(tail, kind="stable")
    dist = np.full(chain + 2, np.inf)
    answered = core_ext._routing.shortest_path_lengths(
        indptr, head[order], w[order], None, np.array([0]), np.zeros(1), np.inf, dist, None, True
    )
    assert not answered
    np.testing.assert_array_equal(dist[1 : chain + 1], 1.0 + 0.5 * np.arange(chain))
    np.testing.assert_array_equal(dist, reference_dijkstra(indptr, head[order], w[order], {0: 0.0}))


@settings(max_examples=150, deadline=None)
@given(graphs(), st.data())
def test_random_graph_routes(g: tuple[NDArray[np.int64], ...], data: st.DataObject) -> None:
    indptr, indices, w, closed, xy = g
    n = len(indptr) - 1
    mask = closed if data.draw(st.booleans()) else None
    node_xy = xy if data.draw(st.booleans()) else None
    # landmarks (ALT) bound the cost from the open graph's tables, also where edges are closed
    router = core_ext.Router(indptr, indices, w, node_xy=node_xy, landmarks=data.draw(st.integers(0, 4)))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=8))
    o = np.array([p[0] for p in pairs], dtype=np.int64)
    d = np.array([p[1] for p in pairs], dtype=np.int64)
    rip, redges, rcost = router.routes(o, d, closed_edges=mask)
    assert rip[0] == 0 and len(rip) == len(pairs) + 1 and rip[-1] == len(redges)
    for i, (oi, di) in enumerate(pairs):
        ref = reference_dijkstra(indptr, indices, w, {oi: 0.0}, mask)[di]
        np.testing.assert_allclose(rcost[i], ref)
        edges = redges[rip[i] : rip[i + 1]]
        if np.isinf(ref):
            assert edges.size == 0
        else:
            check_route(edges, rcost[i], oi, di, indptr, indices, w, mask)


def assert_same_routes(
    tree: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]],
    per_pair: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
) -> None:
    """Tree routes (start, end, edges, cost) equal per-pair routes (indptr, edges, cost), edge for edge."""
    start, end, edges, cost = tree
    rip, expected, expected_cost = per_pair
    np.testing.assert_array_equal(cost, expected_cost)
    lengths = end - start
    np.testing.assert_array_equal(lengths, np.diff(rip))
    offset = np.arange(int(lengths.sum())) - np.repeat(rip[:-1], lengths)
    np.testing.assert_array_equal(edges[np.repeat(start, lengths) + offset], expected)


@settings(max_examples=300, deadline=None)
@given(graphs(), st.data())
def test_random_graph_routes_from_trees_equal_routes(
    g: tuple[NDArray[np.int64], ...], data: st.DataObject
) -> None:
    """Trees give the routes of one search per pair, also where shortest paths tie (integer weights)."""
    indptr, indices, w, closed, xy = g
    n = len(indptr) - 1
    if data.draw(st.booleans()):  # positive small integers: many ties, and a non-zero A* heuristic
        w = np.floor(w % 4) + 1.0
        xy = np.round(xy / 20.0)
    mask = closed if data.draw(st.booleans()) else None
    router = core_ext.Router(indptr, indices, w, node_xy=xy if data.draw(st.booleans()) else None,
                             landmarks=data.draw(st.integers(0, 3)))  # fmt: skip
    router.MIN_TREE_TARGETS = data.draw(st.integers(1, 5))
    few = st.integers(0, min(n - 1, 2))  # a few origins, so that trees have many targets
    pairs = data.draw(
        st.lists(st.tuples(st.one_of(few, st.integers(0, n - 1)), st.integers(0, n - 1)), max_size=40)
    )
    o = np.array([p[0] for p in pairs], dtype=np.int64)
    d = np.array([p[1] for p in pairs], dtype=np.int64)
    assert_same_routes(
        router.routes_from_trees(o, d, closed_edges=mask), router.routes(o, d, closed_edges=mask)
    )
    if len(indices) and len(pairs):
        last = np.array(
            data.draw(st.lists(st.integers(0, len(indices) - 1), min_size=len(pairs), max_size=len(pairs)))
        )
        tail = router.edge_tail[last]
        start, end, edges, cost = router.routes_from_trees(o, tail, last_edges=last, closed_edges=mask)
        rip, expected, expected_cost = router.routes(o, tail, closed_edges=mask)
        for i in range(len(pairs)):
            reachable = np.isfinite(expected_cost[i]) and (mask is None or not mask[last[i]])
            route = np.append(expected[rip[i] : rip[i + 1]], last[i]) if reachable else []
            assert edges[start[i] : end[i]].tolist() == list(route)
            assert cost[i] == (expected_cost[i] + w[last[i]] if reachable else np.inf)


@settings(max_examples=150, deadline=None)
@given(graphs(), st.data())
def test_random_graph_nearest_sources(g: tuple[NDArray[np.int64], ...], data: st.DataObject) -> None:
    indptr, indices, w, closed, _ = g
    n = len(indptr) - 1
    mask = closed if data.draw(st.booleans()) else None
    sources = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5))
    reverse = data.draw(st.booleans())
    if reverse:
        indptr_t, indices_t, edge_t = core_ext.transpose_csr(indptr, indices)
        ref_graph = (indptr_t, indices_t, w[edge_t], None if mask is None else mask[edge_t])
    else:
        ref_graph = (indptr, indices, w, mask)
    per_source = np.array([reference_dijkstra(*ref_graph[:3], {s: 0.0}, ref_graph[3]) for s in sources])
    nearest, cost = core_ext.nearest_sources(indptr, indices, w, sources, reverse=reverse, closed_edges=mask)
    np.testing.assert_allclose(cost, per_source.min(axis=0))
    reached = np.isfinite(cost)
    assert (nearest[~reached] == -1).all()
    np.testing.assert_allclose(per_source[nearest[reached], np.flatnonzero(reached)], cost[reached])


@settings(max_examples=200, deadline=None)
@given(graphs(), st.data())
def test_random_graph_nearest_source_of_one_node(
    g: tuple[NDArray[np.int64], ...], data: st.DataObject
) -> None:
    """The search from one node gives that node's cost of the full search, and the first of the nearest sources."""
    indptr, indices, w, _, _ = g
    n = len(indptr) - 1
    sources = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6))
    router = core_ext.Router(indptr, indices, w)
    _, cost = router.nearest_sources(sources)
    per_source = np.array([reference_dijkstra(indptr, indices, w, {s: 0.0}, None) for s in sources])
    for node in range(n):
        got, got_cost = router.nearest_source_of(sources, node)
        if not np.isfinite(cost[node]):
            assert (got, got_cost) == (-1, float("inf"))
            continue
        assert got_cost == pytest.approx(cost[node], rel=1e-12, abs=0.0)
        # ties: the first listed of the sources at the least cost (equal up to rounding of the sums)
        tied = np.flatnonzero(np.isclose(per_source[:, node], cost[node], rtol=1e-12, atol=0.0))
        assert got == tied[0]


def test_landmarks_make_the_same_routes_on_a_real_network(real_network: object) -> None:
    """ALT tables from and to each landmark are exact costs, and A* with them routes as without."""
    net = real_network
    plain = core_ext.Router(net.indptr, net.indices, net.edge_length_m, node_xy=net.node_xy)  # type: ignore[attr-defined]
    alt = core_ext.Router(net.indptr, net.indices, net.edge_length_m, node_xy=net.node_xy, landmarks=6)  # type: ignore[attr-defined]
    lm_from, lm_to = alt.landmark_tables()
    assert lm_from is not None and lm_to is not None and lm_from.shape == (alt.n_nodes, 6)
    landmark = int(np.flatnonzero(lm_from[:, 2] == 0)[0])
    np.testing.assert_array_equal(lm_from[:, 2], plain.shortest_path_lengths(landmark))
    _, to_landmark = plain.nearest_sources([landmark], reverse=True)
    np.testing.assert_array_equal(lm_to[:, 2], to_landmark)
    assert len({int(np.flatnonzero(lm_from[:, j] == 0)[0]) for j in range(6)}) == 6  # six distinct nodes
    rng = np.random.default_rng(3)
    o, d = rng.integers(0, alt.n_nodes, 300), rng.integers(0, alt.n_nodes, 300)
    for got, want in zip(alt.routes(o, d), plain.routes(o, d), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bad", [-1, 1.5, "8"])
def test_bad_landmarks_are_refused(bad: object) -> None:
    indptr, indices = np.array([0, 1, 2]), np.array([1, 0])
    with pytest.raises(ValueError, match="landmarks must be an integer >= 0"):
        core_ext.Router(indptr, indices, np.ones(2), landmarks=bad)  # type: ignore[arg-type]


def test_nearest_source_of_ties_go_to_the_first_listed() -> None:
    """Two sources on one node, and two at the same cost on either side: the first listed wins."""
    # a path 0 - 1 - 2 - 3 - 4 of unit edges, both ways
    indptr = np.array([0, 1, 3, 5, 7, 8], dtype=np.int64)
    indices = np.array([1, 0, 2, 1, 3, 2, 4, 3], dtype=np.int64)
    router = core_ext.Router(indptr, indices, np.ones(8))
    assert router.nearest_source_of([4, 0, 0], 1) == (1, 1.0)
    assert router.nearest_source_of([3, 1], 2) == (0, 1.0)
    assert router.nearest_source_of([1, 3], 2) == (0, 1.0)
    assert router.nearest_source_of([4, 3, 1], 2) == (1, 1.0)
    assert router.nearest_source_of([2, 4], 2) == (0, 0.0)


# ---------------------------------------------------------------- real extracts


def test_real_network_against_scipy_and_networkx(real_network: object) -> None:
    net = real_network
    indptr, indices = readonly(net.indptr, net.indices)  # type: ignore[attr-defined]
    rng = np.random.default_rng(7)
    for weights in (net.edge_length_m, net.edge_travel_time_s):  # type: ignore[attr-defined]
        graph = scipy_graph(indptr, indices, weights)
        router = core_ext.Router(indptr, indices, weights, node_xy=net.node_xy)  # type: ignore[attr-defined]
        n = router.n_nodes
        sources = rng.integers(0, n, 5)
        ref = dijkstra(graph, indices=sources)
        for s, row in zip(sources, ref, strict=True):
            costs = core_ext.shortest_path_lengths(indptr, indices, weights, s)
            np.testing.assert_allclose(costs, row)
            np.testing.assert_array_equal(costs, router.nearest_sources(int(s))[1])  # buckets == heap
            cutoff = float(np.median(row[np.isfinite(row)]))
            lim = dijkstra(graph, indices=s, limit=cutoff)
            nodes, cost = router.find_nodes_within(s, cutoff)
            assert sorted(nodes.tolist()) == np.flatnonzero(np.isfinite(lim)).tolist()
            np.testing.assert_allclose(cost, lim[nodes])
        o, d = rng.integers(0, n, 40), rng.integers(0, n, 40)
        rip, redges, rcost = router.routes(o, d)
        full = dijkstra(graph, indices=np.unique(o))
        row_of = {s: i for i, s in enumerate(np.unique(o))}
        for i in range(len(o)):
            np.testing.assert_allclose(rcost[i], full[row_of[o[i]], d[i]], rtol=1e-9)
            check_route(redges[rip[i] : rip[i + 1]], rcost[i], o[i], d[i], indptr, indices, weights)
        nearest, cost = router.nearest_sources(sources)
        np.testing.assert_allclose(cost, ref.min(axis=0))
        reached = np.flatnonzero(np.isfinite(cost))
        np.testing.assert_allclose(ref[nearest[reached], reached], cost[reached])
    graph_nx = net.to_networkx()  # type: ignore[attr-defined]
    for s in rng.integers(0, router.n_nodes, 3):
        ref_nx = nx.single_source_dijkstra_path_length(graph_nx, int(s), weight="length")
        ours = core_ext.shortest_path_lengths(indptr, indices, net.edge_length_m, int(s))  # type: ignore[attr-defined]
        assert set(ref_nx) == set(np.flatnonzero(np.isfinite(ours)).tolist())
        np.testing.assert_allclose([ours[v] for v in ref_nx], list(ref_nx.values()))


def test_real_network_routes_from_trees_equal_routes(real_network: object) -> None:
    """Every route from a few origins to every node, by length and by travel time, edge for edge."""
    net = real_network
    rng = np.random.default_rng(11)
    for weights in (net.edge_length_m, net.edge_travel_time_s):  # type: ignore[attr-defined]
        router = core_ext.Router(net.indptr, net.indices, weights, node_xy=net.node_xy)  # type: ignore[attr-defined]
        n = router.n_nodes
        o = np.repeat(rng.choice(n, 8, replace=False), n)
        d = np.tile(np.arange(n), 8)
        assert_same_routes(router.routes_from_trees(o, d), router.routes(o, d))
        assert router.n_trees == 8


# ---------------------------------------------------------------- inputs


def test_read_only_inputs() -> None:
    indptr, indices, w = readonly(*TINY)
    xy = readonly(TINY_XY)[0]
    np.testing.assert_array_equal(
        core_ext.shortest_path_lengths(indptr, indices, w, 0), [0, 1, 2, 4, 5, np.inf]
    )
    router = core_ext.Router(indptr, indices, w, node_xy=xy)
    assert router.route(0, 4)[1] == 5
    closed = np.zeros(7, dtype=bool)
    closed.setflags(write=False)
    assert router.find_nodes_within(0, 10.0, closed_edges=closed)[0].size == 5
    assert router.nearest_sources(readonly(np.array([0]))[0], reverse=True)[0][0] == 0
    o, d, last = readonly(np.array([0, 3]), np.array([1, 1]), np.array([2, 2]))
    assert router.routes_from_trees(o, d, last_edges=last, closed_edges=closed)[3].tolist() == [2, 3]


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.array([0.0, 2, 3, 4, 6, 7, 7]), TINY[1], TINY[2], 0), {}, "indptr must hold integers"),
        ((np.array([1, 2, 3, 4, 6, 7, 7]), TINY[1], TINY[2], 0), {}, "indptr must start with 0"),
        ((np.array([0, 3, 2, 4, 6, 7, 7]), TINY[1], TINY[2], 0), {}, "indptr must be non-decreasing"),
        ((TINY[0], np.array([1, 3, 2, 4, 1, 4, 6]), TINY[2], 0), {}, r"indices must lie in \[0, 6\)"),
        ((TINY[0], TINY[1][:-1], TINY[2], 0), {}, "indices must have length"),
        ((TINY[0], TINY[1], TINY[2][:-1], 0), {}, "weights must have length 7"),
        ((TINY[0], TINY[1], -TINY[2], 0), {}, "weights must be >= 0"),
        ((TINY[0], TINY[1], np.full(7, np.nan), 0), {}, "weights must not contain NaN"),
        ((TINY[0], TINY[1], TINY[2].astype(str), 0), {}, "weights must hold real numbers"),
        ((*TINY, 6), {}, r"source must lie in \[0, 6\)"),
        ((*TINY, 1.0), {}, "source must be an integer"),
        ((*TINY, 0), {"cutoff": -1}, "cutoff must be >= 0"),
        ((*TINY, 0), {"closed_edges": np.zeros(6, dtype=bool)}, r"closed_edges must have shape \(7,\)"),
        ((*TINY, 0), {"closed_edges": np.zeros(7)}, "closed_edges must be a boolean array"),
    ],
)
def test_validation_errors(args: tuple[object, ...], kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        core_ext.shortest_path_lengths(*args, **kwargs)  # type: ignore[arg-type]


def test_router_validation_errors() -> None:
    router = core_ext.Router(*TINY, node_xy=TINY_XY)
    with pytest.raises(ValueError, match="destinations must have length 2"):
        router.routes([0, 1], [2])
    with pytest.raises(ValueError, match=r"origins must lie in \[0, 6\)"):
        router.routes([0, 9], [2, 2])
    with pytest.raises(ValueError, match=r"sources must lie in"):
        router.find_nodes_within([-1], 3.0)
    with pytest.raises(ValueError, match="source_cost must be >= 0"):
        router.find_nodes_within([1], 3.0, source_cost=[-1.0])
    with pytest.raises(ValueError, match="destinations must be the tails of last_edges"):
        router.routes_from_trees([0, 1], [2, 2], last_edges=[2, 3])
    with pytest.raises(ValueError, match=r"last_edges must lie in \[0, 7\)"):
        router.routes_from_trees([0], [2], last_edges=[7])
    with pytest.raises(ValueError, match="destinations must have length 2"):
        router.routes_from_trees([0, 1], [2])
    with pytest.raises(ValueError, match=r"node_xy must have shape \(6, 2\)"):
        core_ext.Router(*TINY, node_xy=TINY_XY[:5])
    with pytest.raises(ValueError, match="heuristic_scale"):
        core_ext.Router(*TINY, node_xy=TINY_XY, heuristic_scale=-1.0)


def test_missing_build_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = importlib.import_module

    def fake_import(name: str, *args: object) -> object:
        if name == "core_ext._routing":
            raise ImportError("No module named 'core_ext._routing'")
        return real_import(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", fake_import)
    with pytest.raises(ImportError, match=r"run `make build` \(or `python setup.py build_ext --inplace`\)"):
        core_ext._check_build()
