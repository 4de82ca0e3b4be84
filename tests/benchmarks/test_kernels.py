"""core_ext kernels timed beside their peers (SciPy, networkx, plain Python) in the same run.

Each pytest-benchmark ``group`` holds one kernel and its peers doing the same work, so the ratio of
medians, not the absolute time, is the figure (``python -m tests.benchmarks.report`` prints them and
checks the floors of issue 3).  ``extra_info["impl"]`` names the implementation and
``extra_info["work"]`` how many items (routes, agents, searches) one call handles.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

import core_ext
from tests.benchmarks.conftest import as_networkx, as_scipy
from tests.benchmarks.graphs import SyntheticStreets

pytestmark = pytest.mark.slow

SEED = 12345


def _info(benchmark: Any, impl: str, work: int = 1) -> None:
    benchmark.extra_info.update({"impl": impl, "work": work})


# ---------------------------------------------------------------- full single-source shortest paths


@pytest.fixture(scope="module")
def centre_source(grid_100k: SyntheticStreets) -> int:
    centre = grid_100k.node_xy.mean(axis=0)
    return int(np.argmin(np.linalg.norm(grid_100k.node_xy - centre, axis=1)))


@pytest.mark.benchmark(group="sssp_100k")
def test_sssp_100k_core_ext(benchmark: Any, grid_100k: SyntheticStreets, centre_source: int) -> None:
    _info(benchmark, "core_ext")
    g = grid_100k
    dist = benchmark(core_ext.shortest_path_lengths, g.indptr, g.indices, g.edge_length_m, centre_source)
    assert np.isfinite(dist).all()


@pytest.mark.benchmark(group="sssp_100k")
def test_sssp_100k_scipy(benchmark: Any, grid_100k_scipy: Any, centre_source: int) -> None:
    _info(benchmark, "scipy")
    benchmark(dijkstra, grid_100k_scipy, indices=centre_source)


@pytest.mark.benchmark(group="sssp_100k")
def test_sssp_100k_networkx(benchmark: Any, grid_100k_networkx: nx.DiGraph, centre_source: int) -> None:
    _info(benchmark, "networkx")
    benchmark.pedantic(
        nx.single_source_dijkstra_path_length,
        args=(grid_100k_networkx, centre_source),
        kwargs={"weight": "length"},
        rounds=3,
        iterations=1,
    )


@pytest.mark.needs_shared
@pytest.mark.benchmark(group="sssp_real")
@pytest.mark.parametrize("impl", ["core_ext", "scipy", "networkx"])
def test_sssp_largest_extract(benchmark: Any, largest_extract: Any, impl: str) -> None:
    _info(benchmark, impl)
    net = largest_extract
    args = (net.indptr, net.indices, net.edge_length_m)
    if impl == "core_ext":
        benchmark(core_ext.shortest_path_lengths, *args, 0)
    elif impl == "scipy":
        benchmark(dijkstra, as_scipy(*args), indices=0)
    else:
        benchmark(nx.single_source_dijkstra_path_length, as_networkx(*args), 0, weight="length")


# ---------------------------------------------------------------- point-to-point routes


@pytest.fixture(scope="module")
def router_100k(grid_100k: SyntheticStreets) -> core_ext.Router:
    g = grid_100k
    return core_ext.Router(g.indptr, g.indices, g.edge_length_m, node_xy=g.node_xy)


@pytest.fixture(scope="module")
def random_pairs(grid_100k: SyntheticStreets) -> list[tuple[int, int]]:
    rng = np.random.default_rng(SEED)
    return [tuple(p) for p in rng.integers(0, grid_100k.n_nodes, (5, 2)).tolist()]  # type: ignore[misc]


@pytest.mark.benchmark(group="p2p_100k")
def test_p2p_100k_core_ext(
    benchmark: Any, router_100k: core_ext.Router, random_pairs: list[tuple[int, int]]
) -> None:
    _info(benchmark, "core_ext", len(random_pairs))

    def run() -> None:
        for o, d in random_pairs:
            router_100k.route(o, d)

    benchmark(run)


@pytest.mark.benchmark(group="p2p_100k")
def test_p2p_100k_networkx(
    benchmark: Any, grid_100k_networkx: nx.DiGraph, random_pairs: list[tuple[int, int]]
) -> None:
    _info(benchmark, "networkx", len(random_pairs))

    def run() -> None:
        for o, d in random_pairs:
            nx.shortest_path(grid_100k_networkx, o, d, weight="length")  # what osmnx.shortest_path calls

    benchmark.pedantic(run, rounds=2, iterations=1)


@pytest.fixture(scope="module")
def local_pairs(router_100k: core_ext.Router) -> tuple[np.ndarray, np.ndarray]:
    """1000 trips of at most 1.5 km: destinations drawn among the nodes within 1.5 km of the origin."""
    rng = np.random.default_rng(SEED)
    origins = rng.integers(0, router_100k.n_nodes, 1000)
    dests = np.empty_like(origins)
    for i, o in enumerate(origins):
        nodes, _ = router_100k.find_nodes_within(int(o), 1500.0)
        dests[i] = nodes[rng.integers(len(nodes))]
    return origins, dests


@pytest.mark.benchmark(group="local_trips_100k")
def test_local_trips_core_ext(
    benchmark: Any, router_100k: core_ext.Router, local_pairs: tuple[np.ndarray, np.ndarray]
) -> None:
    _info(benchmark, "core_ext", len(local_pairs[0]))
    _, _, cost = benchmark(router_100k.routes, *local_pairs)
    assert (cost <= 1500.0).all()


@pytest.fixture(scope="module")
def router_100k_alt(grid_100k: SyntheticStreets) -> core_ext.Router:
    """The model's router: A* with 16 landmarks (sim.model.LANDMARKS), tables built before timing."""
    g = grid_100k
    router = core_ext.Router(g.indptr, g.indices, g.edge_length_m, node_xy=g.node_xy, landmarks=16)
    router.landmark_tables()
    return router


@pytest.mark.benchmark(group="local_trips_100k")
def test_local_trips_core_ext_landmarks(
    benchmark: Any, router_100k_alt: core_ext.Router, local_pairs: tuple[np.ndarray, np.ndarray]
) -> None:
    _info(benchmark, "core_ext_alt", len(local_pairs[0]))
    _, _, cost = benchmark(router_100k_alt.routes, *local_pairs)
    assert (cost <= 1500.0).all()


@pytest.mark.benchmark(group="p2p_100k")
def test_p2p_100k_core_ext_landmarks(
    benchmark: Any, router_100k_alt: core_ext.Router, random_pairs: list[tuple[int, int]]
) -> None:
    _info(benchmark, "core_ext_alt", len(random_pairs))

    def run() -> None:
        for o, d in random_pairs:
            router_100k_alt.route(o, d)

    benchmark(run)


@pytest.mark.benchmark(group="local_trips_100k")
def test_local_trips_networkx(
    benchmark: Any, grid_100k_networkx: nx.DiGraph, local_pairs: tuple[np.ndarray, np.ndarray]
) -> None:
    _info(benchmark, "networkx", len(local_pairs[0]))
    pairs = list(zip(local_pairs[0].tolist(), local_pairs[1].tolist(), strict=True))

    def run() -> None:
        for o, d in pairs:
            nx.shortest_path(grid_100k_networkx, o, d, weight="length")

    benchmark.pedantic(run, rounds=1, iterations=1)


# ---------------------------------------------------------------- bounded search (400 m)


@pytest.fixture(scope="module")
def bounded_sources(grid_100k: SyntheticStreets) -> list[int]:
    return np.random.default_rng(SEED).integers(0, grid_100k.n_nodes, 50).tolist()


@pytest.mark.benchmark(group="bounded_400m_100k")
def test_bounded_core_ext(benchmark: Any, router_100k: core_ext.Router, bounded_sources: list[int]) -> None:
    _info(benchmark, "core_ext", len(bounded_sources))

    def run() -> None:
        for s in bounded_sources:
            router_100k.find_nodes_within(s, 400.0)

    benchmark(run)


@pytest.mark.benchmark(group="bounded_400m_100k")
def test_bounded_scipy(benchmark: Any, grid_100k_scipy: Any, bounded_sources: list[int]) -> None:
    _info(benchmark, "scipy", len(bounded_sources))

    def run() -> None:
        for s in bounded_sources:
            dijkstra(grid_100k_scipy, indices=s, limit=400.0)

    benchmark.pedantic(run, rounds=5, iterations=1)


# ---------------------------------------------------------------- dispatch: nearest of a few sources


@pytest.fixture(scope="module")
def dispatch_calls(grid_100k: SyntheticStreets) -> tuple[NDArray[np.int64], list[int]]:
    """Ten free officers' nodes and 50 calls' nodes (the dispatch of a busy shift: few officers free)."""
    rng = np.random.default_rng(SEED + 1)
    return rng.integers(0, grid_100k.n_nodes, 10), rng.integers(0, grid_100k.n_nodes, 50).tolist()


@pytest.mark.benchmark(group="dispatch_nearest_100k")
def test_dispatch_nearest_core_ext(
    benchmark: Any, router_100k: core_ext.Router, dispatch_calls: tuple[NDArray[np.int64], list[int]]
) -> None:
    officers, calls = dispatch_calls
    _info(benchmark, "core_ext", len(calls))
    benchmark(lambda: [router_100k.nearest_source_of(officers, c) for c in calls])


@pytest.mark.benchmark(group="dispatch_nearest_100k")
def test_dispatch_nearest_scipy(
    benchmark: Any, grid_100k_scipy: Any, dispatch_calls: tuple[NDArray[np.int64], list[int]]
) -> None:
    """SciPy's multi-source search labels every node with its nearest source: one search a call."""
    officers, calls = dispatch_calls
    _info(benchmark, "scipy", len(calls))

    def run() -> None:
        for c in calls:
            _, _, nearest = dijkstra(
                grid_100k_scipy, indices=officers, min_only=True, return_predecessors=True
            )
            assert nearest[c] >= 0

    benchmark.pedantic(run, rounds=3, iterations=1)


# ---------------------------------------------------------------- movement


N_AGENTS = 100_000


@pytest.fixture(scope="module")
def walkers(router_100k: core_ext.Router, grid_100k: SyntheticStreets) -> dict[str, np.ndarray]:
    """100k walkers on 20k local routes (1-1.5 km); agent i follows route i % 20k from its start."""
    rng = np.random.default_rng(SEED)
    origins = rng.integers(0, router_100k.n_nodes, 20_000)
    dests = np.empty_like(origins)
    for i, o in enumerate(origins):
        nodes, cost = router_100k.find_nodes_within(int(o), 1500.0)
        far = nodes[cost >= 1000.0]
        dests[i] = far[rng.integers(len(far))] if len(far) else nodes[-1]
    rip, route_edges, _ = router_100k.routes(origins, dests)
    route = np.arange(N_AGENTS) % 20_000
    start, end = rip[route], rip[route + 1]
    kind = (np.arange(N_AGENTS) % 3).astype(np.int8)
    edge = route_edges[start]
    return {
        "route_edges": route_edges,
        "route_end": end,
        "route_pos": start,
        "position_edge": edge,
        "position_offset_m": np.zeros(N_AGENTS),
        "speed_mps": np.full(N_AGENTS, 1.4),
        "agent_kind": kind,
        "occupancy": core_ext.count_occupancy(edge, kind, 3, grid_100k.n_edges),
        "edge_length_m": grid_100k.edge_length_m,
        "route_length_m": grid_100k.edge_length_m[route_edges],
    }


def _fresh(walkers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in walkers.items()}


@pytest.mark.benchmark(group="movement_100k")
def test_movement_core_ext(benchmark: Any, walkers: dict[str, np.ndarray]) -> None:
    """One 300 s step of 100k walkers; between rounds the agents go back to their route starts.

    As in the model, the route arrays and the occupancy table persist from step to step; only the
    per-agent state is reset, in place (untimed).
    """
    _info(benchmark, "core_ext", N_AGENTS)
    w = _fresh(walkers)
    mutable = ("route_pos", "position_edge", "position_offset_m", "occupancy")

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        for name in mutable:
            np.copyto(w[name], walkers[name])
        args = (w["route_edges"], w["route_end"], w["edge_length_m"], w["route_pos"], w["position_edge"])
        rest = (w["position_offset_m"], w["speed_mps"], 300.0)
        kwargs = {
            "agent_kind": w["agent_kind"],
            "occupancy": w["occupancy"],
            "route_length_m": w["route_length_m"],
        }
        return args + rest, kwargs

    benchmark.pedantic(core_ext.advance_along_routes, setup=setup, rounds=30, iterations=1)
    crossed = w["route_pos"] - walkers["route_pos"]
    benchmark.extra_info["mean_edges_crossed"] = float(crossed.mean())


def python_advance(w: dict[str, np.ndarray], dt_s: float) -> None:
    """The plain per-agent loop the kernel replaces (same semantics, occupancy included)."""
    route_edges, end, length = w["route_edges"], w["route_end"], w["edge_length_m"]
    pos, edge, offset, speed = w["route_pos"], w["position_edge"], w["position_offset_m"], w["speed_mps"]
    kind, occ = w["agent_kind"], w["occupancy"]
    for i in range(len(pos)):
        if pos[i] >= end[i]:
            continue
        to_go = speed[i] * dt_s
        start_edge = edge[i]
        while True:
            left = length[edge[i]] - offset[i]
            if to_go < left:
                offset[i] += to_go
                break
            to_go -= left
            if pos[i] + 1 == end[i]:
                offset[i] = length[edge[i]]
                pos[i] = end[i]
                break
            pos[i] += 1
            edge[i] = route_edges[pos[i]]
            offset[i] = 0.0
        if edge[i] != start_edge:
            occ[kind[i], start_edge] -= 1
            occ[kind[i], edge[i]] += 1


@pytest.mark.benchmark(group="movement_100k")
def test_movement_python_loop(benchmark: Any, walkers: dict[str, np.ndarray]) -> None:
    _info(benchmark, "python-loop", N_AGENTS)
    benchmark.pedantic(python_advance, setup=lambda: ((_fresh(walkers), 300.0), {}), rounds=1, iterations=1)


# ---------------------------------------------------------------- network KDE


N_EVENTS = 100_000
TAU_MIN = 7 * 1440.0
NOW_MIN = 60 * 1440.0


@pytest.fixture(scope="module")
def kde_10k(grid_10k: SyntheticStreets) -> tuple[core_ext.NetworkKDE, np.ndarray, np.ndarray]:
    g = grid_10k
    kde = core_ext.NetworkKDE(
        g.indptr, g.indices, g.edge_length_m, bandwidth_m=400.0, edge_segment=g.edge_segment,
        decay_timescale_min=TAU_MIN,
    )  # fmt: skip
    rng = np.random.default_rng(SEED)
    events, times = rng.integers(0, g.n_edges, N_EVENTS), np.sort(rng.uniform(0, NOW_MIN, N_EVENTS))
    for chunk in np.array_split(np.arange(N_EVENTS), 60):  # one batch per simulated day
        kde.add_events(events[chunk], time_min=times[chunk])
    return kde, events, times


@pytest.mark.benchmark(group="kde_refresh_10k")
def test_kde_refresh_core_ext(benchmark: Any, kde_10k: tuple[core_ext.NetworkKDE, Any, Any]) -> None:
    kde = kde_10k[0]
    _info(benchmark, "core_ext")
    benchmark.extra_info["setup_time_s"] = kde.setup_time_s
    benchmark.extra_info["kernel_nnz"] = kde.kernel_nnz
    out = np.empty(kde.n_edges)
    benchmark(kde.refresh, NOW_MIN, out=out)


@pytest.mark.benchmark(group="kde_refresh_10k")
def test_kde_refresh_scipy_rebuild(benchmark: Any, kde_10k: tuple[core_ext.NetworkKDE, Any, Any]) -> None:
    """Peer: the same K as a scipy.sparse matrix, per-edge weights rebuilt from all events each time."""
    kde, events, times = kde_10k
    _info(benchmark, "scipy")
    k = kde.kernel_matrix()
    place = kde.place_of_edge

    def rebuild() -> np.ndarray:
        w = np.bincount(place[events], weights=np.exp((times - NOW_MIN) / TAU_MIN), minlength=kde.n_places)
        return (k @ w)[place]  # type: ignore[no-any-return]

    expected = rebuild()
    np.testing.assert_allclose(kde.refresh(NOW_MIN), expected, rtol=1e-9)
    benchmark(rebuild)


@pytest.mark.benchmark(group="kde_setup_10k")
def test_kde_setup_core_ext(benchmark: Any, grid_10k: SyntheticStreets) -> None:
    _info(benchmark, "core_ext")
    g = grid_10k
    benchmark.pedantic(
        core_ext.NetworkKDE,
        args=(g.indptr, g.indices, g.edge_length_m),
        kwargs={"bandwidth_m": 400.0, "edge_segment": g.edge_segment},
        rounds=3,
        iterations=1,
    )
