"""The route book: trips are contiguous street paths ending on the destination edge, cached and optimal."""

from __future__ import annotations

import numpy as np
import pytest

from core_ext import Router
from sim.agents._routes import RouteBook
from sim.network import load_network
from tests.conftest import DEFAULT_CITY


@pytest.fixture(scope="module")
def city():
    return load_network(DEFAULT_CITY, network_type="walk")


def test_trips_are_shortest_contiguous_paths(city) -> None:
    router = Router(city.indptr, city.indices, city.edge_length_m, node_xy=city.node_xy)
    book = RouteBook(router, city.edge_source, city.indices, city.edge_length_m)
    rng = np.random.default_rng(0)
    a = rng.integers(0, city.n_edges, 300)
    b = rng.integers(0, city.n_edges, 300)
    b[:5] = a[:5]  # staying put
    start, end, ok = book.trips(a, b)
    assert ok.all()
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
        np.testing.assert_array_equal(book.length_buffer[start[i] : end[i]], city.edge_length_m[route])
    # asking again routes nothing new and returns the same slices
    routed = book.n_routed
    again = book.trips(a[::-1], b[::-1])
    assert book.n_routed == routed
    np.testing.assert_array_equal(again[0], start[::-1])


def test_closed_edges_are_avoided(city) -> None:
    router = Router(city.indptr, city.indices, city.edge_length_m, node_xy=city.node_xy)
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
