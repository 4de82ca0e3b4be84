"""The route book: trips are contiguous street paths ending on the destination edge, cached and optimal.

Routes are read off one shortest-path tree per origin; they must be, edge for edge, the routes of the
per-trip A* search the book used before (event logs depend on them), on the bundled City of London
and on the ../shared Portland extract where present.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from core_ext import Router
from sim.agents._routes import RouteBook
from sim.network import StreetNetwork, load_network
from tests.conftest import DEFAULT_CITY, SHARED_OSM

PORTLAND = SHARED_OSM / "portland_central.osm.bz2"
CITIES = [
    pytest.param(DEFAULT_CITY, id="city_of_london"),
    pytest.param(
        PORTLAND,
        id="portland_central",
        marks=[
            pytest.mark.needs_shared,
            pytest.mark.skipif(not PORTLAND.is_file(), reason=f"{PORTLAND} absent (../shared data)"),
        ],
    ),
]


@pytest.fixture(scope="module")
def city() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


def _router(net: StreetNetwork) -> Router:
    return Router(net.indptr, net.indices, net.edge_length_m, node_xy=net.node_xy)


def per_trip_routes(
    router: Router, net: StreetNetwork, a: NDArray[np.int64], b: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The book's former method, one A* search per trip (head(a) -> tail(b), then edge b).

    Returns every trip's route length and all routes' edges concatenated.
    """
    rip, edges, cost = router.routes(net.indices[a], net.edge_source[b])
    moving = (a != b) & np.isfinite(cost)
    lengths = np.where(moving, np.diff(rip) + 1, 0)
    out = np.empty(int(lengths.sum()), dtype=np.int64)
    first = np.cumsum(lengths) - lengths
    last = first + lengths - 1
    path = np.ones(out.size, dtype=bool)
    path[last[moving]] = False
    out[last[moving]] = b[moving]
    out[path] = edges[np.repeat(moving, np.diff(rip))]
    return lengths, out


def book_routes(book: RouteBook, start: NDArray[np.int64], end: NDArray[np.int64]) -> NDArray[np.int32]:
    """The book's slices for the trips, concatenated."""
    lengths = end - start
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return book.buffer[np.repeat(start, lengths) + offset]


def test_trips_are_shortest_contiguous_paths(city: StreetNetwork) -> None:
    router = _router(city)
    book = RouteBook(router, city.edge_source, city.indices, city.edge_length_m)
    rng = np.random.default_rng(0)
    a = rng.integers(0, city.n_edges, 300)
    b = rng.integers(0, city.n_edges, 300)
    b[:5] = a[:5]  # staying put
    start, end, ok = book.trips(a, b)
    assert ok.all()
    assert book.buffer.dtype == np.int32
    for i in range(a.size):
        route = book.buffer[start[i] : end[i]]
        if a[i] == b[i]:
            assert route.size == 0
            continue
        assert route[-1] == b[i]
        assert city.edge_source[route[0]] == city.indices[a[i]]
        np.testing.assert_array_equal(city.edge_source[route[1:]], city.indices[route[:-1]])
        best = router.shortest_path_lengths(int(city.indices[a[i]]))[city.edge_source[b[i]]]
        assert city.edge_length_m[route].sum() == pytest.approx(best + city.edge_length_m[b[i]])
    # asking again routes nothing new and returns the same slices
    routed = book.n_routed
    again = book.trips(a[::-1], b[::-1])
    assert book.n_routed == routed
    np.testing.assert_array_equal(again[0], start[::-1])
    # a later batch is appended: earlier slices keep their edges
    before = book.buffer[start[-1] : end[-1]].copy()
    c = rng.integers(0, city.n_edges, 50)
    _, e2, ok2 = book.trips(c, a[:50])
    np.testing.assert_array_equal(book.buffer[start[-1] : end[-1]], before)
    for i in np.flatnonzero(ok2 & (c != a[:50])):
        assert book.buffer[e2[i] - 1] == a[i]


def test_equal_routes_share_one_slice(city: StreetNetwork) -> None:
    """Trips from two edges into the same node towards the same edge store one route."""
    book = RouteBook(_router(city), city.edge_source, city.indices, city.edge_length_m)
    node = int(np.argmax(np.bincount(city.indices, minlength=city.n_nodes)))
    into = np.flatnonzero(city.indices == node)
    assert into.size >= 2
    dest = np.full(into.size, (into[0] + city.n_edges // 2) % city.n_edges)
    start, end, ok = book.trips(into, dest)
    assert ok.all() and (end > start).all()
    assert np.unique(start).size == 1 and np.unique(end).size == 1
    assert book.n_routed == into.size


def test_closed_edges_are_avoided(city: StreetNetwork) -> None:
    router = _router(city)
    closed = np.zeros(city.n_edges, dtype=bool)
    closed[np.random.default_rng(1).choice(city.n_edges, city.n_edges // 10, replace=False)] = True
    book = RouteBook(router, city.edge_source, city.indices, city.edge_length_m, closed_edges=closed)
    rng = np.random.default_rng(2)
    a = rng.integers(0, city.n_edges, 200)
    b = rng.integers(0, city.n_edges, 200)
    start, end, ok = book.trips(a, b)
    assert not ok[closed[b] & (a != b)].any()
    for i in np.flatnonzero(ok & (a != b)):
        assert not closed[book.buffer[start[i] : end[i]]].any()
    # the same trips, routed one A* search at a time with the mask, give the same edges
    rip, edges, _ = router.routes(city.indices[a], city.edge_source[b], closed_edges=closed)
    for i in np.flatnonzero(a != b):
        expected = np.append(edges[rip[i] : rip[i + 1]], b[i]) if ok[i] else edges[:0]
        np.testing.assert_array_equal(book.buffer[start[i] : end[i]], expected)


@pytest.mark.parametrize("path", CITIES)
def test_tree_routes_equal_per_trip_routes(path: object) -> None:
    """Every routine trip of 3,000 residents, and every trip from a few edges to every edge."""
    net = load_network(path, network_type="walk")  # type: ignore[arg-type]
    router = _router(net)
    rng = np.random.default_rng(3)
    home, work = rng.integers(0, net.n_edges, (2, 3000))
    leisure = rng.integers(0, net.n_edges, (3000, 2))
    routine_a = np.concatenate([home, work, home, home, leisure[:, 0], leisure[:, 1]])
    routine_b = np.concatenate([work, home, leisure[:, 0], leisure[:, 1], home, home])
    sources = rng.choice(net.n_edges, max(2, 50_000 // net.n_edges), replace=False)
    every_a = np.repeat(sources, net.n_edges)
    every_b = np.tile(np.arange(net.n_edges), sources.size)
    for a, b in ((routine_a, routine_b), (every_a, every_b)):
        book = RouteBook(router, net.edge_source, net.indices, net.edge_length_m)
        start, end, _ = book.trips(a, b)
        lengths, expected = per_trip_routes(router, net, a, b)
        np.testing.assert_array_equal(end - start, lengths)
        np.testing.assert_array_equal(book_routes(book, start, end), expected)


@pytest.mark.slow
def test_every_route_of_the_city_equals_per_pair_routes(city: StreetNetwork) -> None:
    """All 5M node pairs of the City of London: trees and one A* search per pair agree edge for edge."""
    router = _router(city)
    targets = np.arange(city.n_nodes)
    for chunk in np.array_split(np.arange(city.n_nodes), 40):
        o = np.repeat(chunk, city.n_nodes)
        d = np.tile(targets, chunk.size)
        start, end, edges, cost = router.routes_from_trees(o, d)
        rip, expected, expected_cost = router.routes(o, d)
        np.testing.assert_array_equal(cost, expected_cost)
        np.testing.assert_array_equal(end - start, np.diff(rip))
        lengths = end - start
        offset = np.arange(int(lengths.sum())) - np.repeat(rip[:-1], lengths)
        np.testing.assert_array_equal(edges[np.repeat(start, lengths) + offset], expected)


def test_small_batches_find_what_one_big_batch_finds(city: StreetNetwork) -> None:
    """Trips looked up a few at a time (sorted table, recent trips, repeats, new ones) get the big batch's routes."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, city.n_edges, 300)
    b = rng.integers(0, city.n_edges, 300)
    b[:5] = a[:5]  # empty trips
    a[290:], b[290:] = a[:10], b[:10]  # repeats, within a batch and across batches
    big = RouteBook(_router(city), city.edge_source, city.indices, city.edge_length_m)
    ref_start, ref_end, ref_ok = big.trips(a, b)
    small = RouteBook(_router(city), city.edge_source, city.indices, city.edge_length_m)
    small.trips(a[:100], b[:100])  # the sorted table
    parts = [small.trips(a[i : i + 3], b[i : i + 3]) for i in range(0, a.size, 3)]  # a few at a time
    start, end, ok = (np.concatenate(p) for p in zip(*parts, strict=True))
    np.testing.assert_array_equal(ok, ref_ok)
    np.testing.assert_array_equal(end - start, ref_end - ref_start)
    np.testing.assert_array_equal(book_routes(small, start, end), book_routes(big, ref_start, ref_end))
    assert small.n_trips == big.n_trips
