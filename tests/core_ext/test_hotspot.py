"""Hotspot kernels against slow NumPy/SciPy references: network KDE, grid KDE and top-k selection."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

import core_ext
from tests.benchmarks.graphs import street_grid
from tests.core_ext.conftest import readonly

KERNELS = {
    "quartic": lambda u: (1 - u**2) ** 2,
    "epanechnikov": lambda u: 1 - u**2,
    "gaussian": lambda u: np.exp(-0.5 * (3 * u) ** 2),
    "uniform": lambda u: np.ones_like(u),
}


def reference_network_kde(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    length_m: NDArray[np.float64],
    edge_segment: NDArray[np.int64],
    event_edge: NDArray[np.int64],
    event_weight: NDArray[np.float64],
    h: float,
    kernel: str,
) -> NDArray[np.float64]:
    """Midpoint-to-midpoint network distances from each event's segment by SciPy, then the kernel sum."""
    n = len(indptr) - 1
    tail = np.repeat(np.arange(n), np.diff(indptr))
    # parallel (u, v) pairs would be summed by scipy: keep the shortest
    pairs: dict[tuple[int, int], float] = {}
    for u, v, w in zip(
        np.concatenate([tail, indices]), np.concatenate([indices, tail]), np.tile(length_m, 2), strict=True
    ):
        pairs[(u, v)] = min(w, pairs.get((u, v), np.inf))
    uv = np.array(list(pairs.keys())).reshape(-1, 2)
    undirected = csr_array((np.array(list(pairs.values())), (uv[:, 0], uv[:, 1])), shape=(n, n))
    ends = np.column_stack([tail, indices])
    out = np.zeros(len(indices))
    for e_ev, w_ev in zip(event_edge, event_weight, strict=True):
        dist_from_ends = dijkstra(undirected, indices=ends[e_ev])  # (2, n)
        d_to_node = dist_from_ends.min(axis=0) + length_m[e_ev] / 2
        d = np.minimum(d_to_node[tail], d_to_node[indices]) + length_m / 2
        d[edge_segment == edge_segment[e_ev]] = 0.0
        inside = d < h
        out[inside] += w_ev * KERNELS[kernel](d[inside] / h)
    return out


def test_hand_solved_path() -> None:
    # 0 -- 1 -- 2 -- 3, each segment 100 m and two-way; segment ids 0, 1, 2
    indptr = np.array([0, 1, 3, 5, 6])
    indices = np.array([1, 0, 2, 1, 3, 2])
    length_m = np.full(6, 100.0)
    segment = np.array([0, 0, 1, 1, 2, 2])
    values = core_ext.network_kde(indptr, indices, length_m, [0], bandwidth_m=250.0, edge_segment=segment)
    np.testing.assert_allclose(values, [1, 1, 0.7056, 0.7056, 0.1296, 0.1296])
    # without edge_segment, the two directions of a street are recognised as one place
    np.testing.assert_allclose(
        core_ext.network_kde(indptr, indices, length_m, [1], bandwidth_m=250.0), values
    )
    uniform = core_ext.network_kde(indptr, indices, length_m, [0, 5], bandwidth_m=150.0, kernel="uniform")
    np.testing.assert_allclose(uniform, [1, 1, 2, 2, 1, 1])


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_synthetic_grid_against_reference(kernel: str) -> None:
    g = street_grid(9, seed=3)
    rng = np.random.default_rng(0)
    events = rng.integers(0, g.n_edges, 25)
    weight = rng.uniform(0.5, 2.0, 25)
    indptr, indices, length_m = readonly(g.indptr, g.indices, g.edge_length_m)
    ours = core_ext.network_kde(
        indptr, indices, length_m, events, bandwidth_m=260.0, kernel=kernel, event_weight=weight,
        edge_segment=g.edge_segment,
    )  # fmt: skip
    ref = reference_network_kde(indptr, indices, length_m, g.edge_segment, events, weight, 260.0, kernel)
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    kde = core_ext.NetworkKDE(
        indptr, indices, length_m, bandwidth_m=260.0, kernel=kernel, edge_segment=g.edge_segment
    )
    k = kde.kernel_matrix()
    assert abs(k - k.T).max() < 1e-12  # midpoint distances are symmetric
    np.testing.assert_allclose(k.diagonal(), 1.0)


def test_real_network_against_reference(real_network: object) -> None:
    net = real_network
    rng = np.random.default_rng(1)
    events = rng.integers(0, net.n_edges, 20)  # type: ignore[attr-defined]
    weight = np.ones(20)
    args = (net.indptr, net.indices, net.edge_length_m)  # type: ignore[attr-defined]
    ours = core_ext.network_kde(*args, events, bandwidth_m=400.0, edge_segment=net.edge_segment)  # type: ignore[attr-defined]
    ref = reference_network_kde(*args, net.edge_segment, events, weight, 400.0, "quartic")  # type: ignore[attr-defined]
    np.testing.assert_allclose(ours, ref, atol=1e-9)


def test_decay_incremental_and_renormalised() -> None:
    g = street_grid(7, seed=5)
    rng = np.random.default_rng(2)
    events = rng.integers(0, g.n_edges, 40)
    t_min = np.sort(rng.uniform(0, 5000, 40))
    tau = 100.0  # events span 50 timescales: forces the reference time to move forward
    kde = core_ext.NetworkKDE(
        g.indptr, g.indices, g.edge_length_m, bandwidth_m=300.0, edge_segment=g.edge_segment,
        decay_timescale_min=tau,
    )  # fmt: skip
    for chunk in np.array_split(np.arange(40), 7):
        kde.add_events(events[chunk], time_min=t_min[chunk])
    now = 5100.0
    decayed = np.exp(-(now - t_min) / tau)
    ref = reference_network_kde(
        g.indptr, g.indices, g.edge_length_m, g.edge_segment, events, decayed, 300.0, "quartic"
    )
    np.testing.assert_allclose(kde.refresh(now), ref, rtol=1e-9, atol=1e-300)
    one_shot = core_ext.network_kde(
        g.indptr, g.indices, g.edge_length_m, events, bandwidth_m=300.0, edge_segment=g.edge_segment,
        event_time_min=t_min, now_min=now, decay_timescale_min=tau,
    )  # fmt: skip
    np.testing.assert_allclose(one_shot, ref, rtol=1e-9, atol=1e-300)
    places = kde.refresh_places(now)
    np.testing.assert_allclose(places[kde.place_of_edge], ref, rtol=1e-9, atol=1e-300)
    kde.clear()
    assert not kde.refresh(now).any()


def reference_grid_kde(
    event_xy: NDArray[np.float64],
    query_xy: NDArray[np.float64],
    weight: NDArray[np.float64],
    h: float,
    cell: float,
) -> NDArray[np.float64]:
    centre = (np.floor(query_xy / cell) + 0.5) * cell
    d = np.linalg.norm(centre[:, None, :] - event_xy[None, :, :], axis=2)
    k = np.where(d < h, (1 - np.minimum(d / h, 1) ** 2) ** 2, 0.0)
    return (k * weight[None, :]).sum(axis=1)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 30), st.integers(1, 20), st.floats(20, 300), st.floats(10, 200), st.integers(0, 2**32 - 1)
)
def test_grid_kde_against_reference(n_events: int, n_queries: int, h: float, cell: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ev = rng.uniform(-500, 500, (n_events, 2))
    q = rng.uniform(-400, 400, (n_queries, 2))
    w = rng.uniform(0, 2, n_events)
    ours = core_ext.grid_kde(ev, q, bandwidth_m=h, cell_m=cell, event_weight=w)
    np.testing.assert_allclose(ours, reference_grid_kde(ev, q, w, h, cell), atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0, 2.0, 2.5, -1.0, np.inf]), max_size=40), st.data())
def test_select_hotspots_matches_sort(values: list[float], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(values)))
    expected = sorted(range(len(values)), key=lambda i: (-values[i], i))[:k]
    assert core_ext.select_hotspots(np.array(values), k).tolist() == expected


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: core_ext.network_kde([0, 1, 2], [1, 0], [5.0, 5.0], [0], bandwidth_m=0),
            "bandwidth_m must be",
        ),
        (
            lambda: core_ext.network_kde([0, 1, 2], [1, 0], [5.0, 5.0], [2], bandwidth_m=9),
            r"edges must lie in \[0, 2\)",
        ),
        (
            lambda: core_ext.network_kde([0, 1, 2], [1, 0], [5.0, 5.0], [0], bandwidth_m=9, kernel="box"),
            "kernel must",
        ),
        (
            lambda: core_ext.network_kde([0, 1, 2], [1, 0], [5.0, -5.0], [0], bandwidth_m=9),
            "length_m must be >= 0",
        ),
        (
            lambda: core_ext.network_kde(
                [0, 1, 2], [1, 0], [5.0, 5.0], [0], bandwidth_m=9, decay_timescale_min=5
            ),
            "time_min is required",
        ),
        (
            lambda: core_ext.network_kde(
                [0, 1, 2], [1, 0], [5.0, 5.0], [0], bandwidth_m=9, decay_timescale_min=5, event_time_min=[0.0]
            ),
            "now_min is required",
        ),
        (lambda: core_ext.grid_kde(np.zeros((2, 3)), np.zeros((1, 2)), bandwidth_m=1, cell_m=1), "shape"),
        (lambda: core_ext.grid_kde(np.zeros((2, 2)), np.zeros((1, 2)), bandwidth_m=1, cell_m=-1), "cell_m"),
        (lambda: core_ext.select_hotspots([1.0, np.nan], 1), "values must not contain NaN"),
        (lambda: core_ext.select_hotspots([1.0, 2.0], 3), r"k must be an integer in \[0, 2\]"),
    ],
)
def test_validation_errors(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def reference_reach_maxima(
    sources: NDArray[np.int64], start: NDArray[np.int64], end: NDArray[np.int64], place: NDArray[np.int64],
    weight: NDArray[np.float64], level: NDArray[np.float64], n_places: int,
) -> NDArray[np.float64]:  # fmt: skip
    """Every source's reach spread over all places with np.maximum.at (the deterrence field's code before)."""
    out = np.zeros(n_places)
    for i, s in enumerate(sources):
        np.maximum.at(out, place[start[s] : end[s]], weight[start[s] : end[s]] * level[i])
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(0, 12), st.integers(0, 10), st.integers(0, 2**32 - 1))
def test_reach_maxima_at_is_the_maximum_at_field_at_the_places_asked(
    n_places: int, n_sources: int, n_queries: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 6, n_places)
    end = np.cumsum(sizes)
    start = end - sizes
    place = rng.integers(0, n_places, int(sizes.sum()))
    weight = rng.uniform(0, 1, place.size)
    weight[rng.random(place.size) < 0.2] = 0.0
    sources = rng.choice(n_places, min(n_sources, n_places), replace=False)
    level_a, level_b = rng.uniform(0, 1, sources.size), rng.uniform(0, 1, sources.size)
    level_b[rng.random(sources.size) < 0.3] = 0.0
    queries = rng.integers(0, n_places, n_queries)  # repeats too
    scratch = np.full(n_places, -1, dtype=np.int64)
    a, b = core_ext.reach_maxima_at(
        *readonly(sources, start, end, place, weight), (level_a, level_b), queries, scratch=scratch
    )
    np.testing.assert_array_equal(
        a, reference_reach_maxima(sources, start, end, place, weight, level_a, n_places)[queries]
    )
    np.testing.assert_array_equal(
        b, reference_reach_maxima(sources, start, end, place, weight, level_b, n_places)[queries]
    )
    assert (scratch == -1).all()


def test_reach_maxima_at_rejects_places_out_of_range() -> None:
    start, end = np.array([0, 1]), np.array([1, 2])
    place, weight = np.array([0, 1]), np.ones(2)
    levels = (np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match="a query"):
        core_ext.reach_maxima_at(np.array([0]), start, end, place, weight, levels, np.array([2]))
    with pytest.raises(ValueError, match="a source"):
        core_ext.reach_maxima_at(np.array([5]), start, end, place, weight, levels, np.array([0]))
    with pytest.raises(ValueError, match="a reached place"):
        core_ext.reach_maxima_at(np.array([1]), start, end, np.array([0, 7]), weight, levels, np.array([0]))
