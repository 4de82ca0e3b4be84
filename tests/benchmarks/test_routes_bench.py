"""Set-up routing: residents' routine trips by one shortest-path tree per origin, beside one A* per trip.

Ours: :class:`sim.agents._routes.RouteBook` (``Router.routes_from_trees``: trees, int32 edges, equal
routes shared). Peer: :class:`tests.benchmarks.legacy_routes.PerTripRouteBook`, the book before issue 15
(one A* search per distinct trip, int64 edges and a float64 length per stored edge). Both route the
same trips of ``N_RESIDENTS`` residents (homes, workplaces and outings drawn from the city's land use,
as in the model) into a fresh book each round; ``extra_info`` records the book's memory: bytes per
distinct trip and per resident.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from core_ext import Router
from sim.agents._routes import RouteBook
from sim.agents.resident import Residents
from sim.config import PopulationConfig
from sim.landuse import LandUse
from sim.network import load_network
from tests.benchmarks.conftest import LARGEST_EXTRACT
from tests.benchmarks.legacy_routes import PerTripRouteBook
from tests.conftest import DEFAULT_CITY

pytestmark = pytest.mark.slow

N_RESIDENTS = 20_000
CITIES = [
    pytest.param(("london", DEFAULT_CITY), id="london"),
    pytest.param(("portland", LARGEST_EXTRACT), id="portland", marks=pytest.mark.needs_shared),
]


@pytest.fixture(scope="module", params=CITIES)
def routines(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The city's walk network, a router and the routine trips of ``N_RESIDENTS`` residents."""
    name, path = request.param
    if not path.is_file():
        pytest.skip(f"{path} absent (../shared data exists in CI and on developer machines only)")
    net = load_network(path, network_type="walk", cache_dir=tmp_path_factory.getbasetemp() / "routes")
    land = LandUse.from_network(net)
    residents = Residents(
        net,
        PopulationConfig(n_residents=N_RESIDENTS),
        np.random.default_rng(0),
        home_weights=land.home_weights(net),
        work_weights=land.work_weights(net),
        leisure_weights=land.leisure_weights(),
        step_min=5.0,
    )
    from_edges, to_edges = residents.routine_trips()
    return {
        "city": name,
        "net": net,
        "router": Router(net.indptr, net.indices, net.edge_length_m, node_xy=net.node_xy),
        "from": from_edges,
        "to": to_edges,
    }


def _route(book_type: type[RouteBook], r: dict[str, Any]) -> RouteBook:
    net = r["net"]
    book = book_type(r["router"], net.edge_source, net.indices, net.edge_length_m)
    book.trips(r["from"], r["to"])
    return book


def _record(benchmark: Any, impl: str, book: RouteBook) -> None:
    benchmark.extra_info.update({
        "impl": impl,
        "work": book.n_trips,
        "bytes_per_trip": book.nbytes / book.n_trips,
        "bytes_per_resident": book.nbytes / N_RESIDENTS,
        "edges_per_trip": book.size / book.n_trips,
    })  # fmt: skip


def _group(benchmark: Any, r: dict[str, Any]) -> None:
    benchmark.group = f"routing_{r['city']}"


def test_setup_routes_trees(benchmark: Any, routines: dict[str, Any]) -> None:
    _group(benchmark, routines)
    book = benchmark.pedantic(_route, args=(RouteBook, routines), rounds=3, iterations=1)
    _record(benchmark, "core_ext", book)
    assert book.buffer.dtype == np.int32


def test_setup_routes_per_trip(benchmark: Any, routines: dict[str, Any]) -> None:
    _group(benchmark, routines)
    book = benchmark.pedantic(_route, args=(PerTripRouteBook, routines), rounds=1, iterations=1)
    _record(benchmark, "per_trip", book)
    trees = _route(RouteBook, routines)  # the same routes, edge for edge
    s_old, e_old, _ = book.trips(routines["from"], routines["to"])
    s_new, e_new, _ = trees.trips(routines["from"], routines["to"])
    np.testing.assert_array_equal(e_old - s_old, e_new - s_new)
    lengths = e_new - s_new
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    np.testing.assert_array_equal(
        book.buffer[np.repeat(s_old, lengths) + offset], trees.buffer[np.repeat(s_new, lengths) + offset]
    )
