"""Movement kernels against a plain per-agent Python loop, on hand-solved and random routes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import core_ext
from tests.core_ext.conftest import readonly


def reference_advance(
    route_edges: NDArray[np.int64],
    route_end: NDArray[np.int64],
    length_m: NDArray[np.float64],
    route_pos: NDArray[np.int64],
    edge: NDArray[np.int64],
    offset_m: NDArray[np.float64],
    speed_mps: NDArray[np.float64],
    dt_s: float,
) -> NDArray[np.bool_]:
    """One agent at a time: walk the distance edge by edge; arrival stops at the end of the last edge."""
    arrived = np.zeros(len(route_pos), dtype=bool)
    for i in range(len(route_pos)):
        if route_pos[i] >= route_end[i]:
            continue
        to_go = speed_mps[i] * dt_s
        if to_go <= 0:
            continue
        while True:
            left = length_m[edge[i]] - offset_m[i]
            if to_go < left:
                offset_m[i] += to_go
                break
            to_go -= left
            if route_pos[i] + 1 == route_end[i]:
                offset_m[i] = length_m[edge[i]]
                route_pos[i] = route_end[i]
                arrived[i] = True
                break
            route_pos[i] += 1
            edge[i] = route_edges[route_pos[i]]
            offset_m[i] = 0.0
    return arrived


def test_hand_solved_step() -> None:
    length_m = np.array([100.0, 50.0, 0.0, 30.0, 80.0])
    route_edges = np.array([0, 1, 2, 3, 4, 3])  # agent 0: edges 0,1,2,3 ; agent 1: edges 4,3
    route_end = np.array([4, 6, 0])
    route_pos = np.array([0, 4, 0])  # agent 2 is idle
    edge = np.array([0, 4, 1])
    offset = np.array([90.0, 10.0, 20.0])
    speed = np.array([1.0, 1.0, 5.0])
    kind = np.array([0, 1, 0], dtype=np.int8)
    occ = core_ext.count_occupancy(edge, kind, 2, 5)
    arrived = core_ext.advance_along_routes(
        route_edges, route_end, length_m, route_pos, edge, offset, speed, 65.0, agent_kind=kind, occupancy=occ
    )
    # agent 0: 10 m to finish edge 0, 50 m along edge 1, crosses zero-length edge 2, 5 m into edge 3
    # agent 1: 70 m left on edge 4, so it stays there at 75 m; agent 2 is idle and does not move
    assert route_pos.tolist() == [3, 4, 0]
    assert edge.tolist() == [3, 4, 1]
    np.testing.assert_allclose(offset, [5.0, 75.0, 20.0])
    assert arrived.tolist() == [False, False, False]
    arrived = core_ext.advance_along_routes(
        route_edges, route_end, length_m, route_pos, edge, offset, speed, 40.0, agent_kind=kind, occupancy=occ
    )
    # agent 0: 25 m left on its last edge -> arrives at its end; agent 1: 5 m + 30 m -> arrives too
    assert arrived.tolist() == [True, True, False]
    assert route_pos.tolist() == [4, 6, 0]
    assert edge.tolist() == [3, 3, 1]
    np.testing.assert_allclose(offset, [30.0, 30.0, 20.0])
    np.testing.assert_array_equal(occ, core_ext.count_occupancy(edge, kind, 2, 5))
    assert occ[0, 3] == 1 and occ[1, 3] == 1 and occ[0, 1] == 1 and occ.sum() == 3


@st.composite
def populations(draw: st.DrawFn) -> dict[str, NDArray]:  # type: ignore[type-arg]
    n_edges = draw(st.integers(1, 12))
    length = st.one_of(st.just(0.0), st.floats(0.0, 200.0))
    length_m = np.array(draw(st.lists(length, min_size=n_edges, max_size=n_edges)))
    n_agents = draw(st.integers(0, 20))
    routes, pos, end, offset = [], [], [], []
    for _ in range(n_agents):
        k = draw(st.integers(0, 6))
        route = draw(st.lists(st.integers(0, n_edges - 1), min_size=k, max_size=k))
        start = len(routes)
        routes.extend(route)
        end.append(start + k)
        p = start + draw(st.integers(0, k)) if k else start  # p == end: idle agent
        pos.append(p)
        edge_len = length_m[routes[p]] if p < start + k else 0.0
        offset.append(draw(st.floats(0.0, 1.0)) * edge_len)
    route_edges = np.array(routes, dtype=np.int64)
    route_pos = np.array(pos, dtype=np.int64)
    route_end = np.array(end, dtype=np.int64)
    edge = np.array(
        [
            route_edges[p] if p < e else draw(st.integers(0, n_edges - 1))
            for p, e in zip(pos, end, strict=True)
        ],
        dtype=np.int64,
    )
    speed = np.array(draw(st.lists(st.floats(0.0, 3.0), min_size=n_agents, max_size=n_agents)))
    kind = np.array(draw(st.lists(st.integers(-1, 2), min_size=n_agents, max_size=n_agents)), dtype=np.int8)
    return {
        "route_edges": route_edges,
        "route_end": route_end,
        "length_m": length_m,
        "route_pos": route_pos,
        "edge": edge,
        "offset": np.array(offset, dtype=np.float64),
        "speed": speed,
        "kind": kind,
    }


@settings(max_examples=200, deadline=None)
@given(
    populations(),
    st.sampled_from([0.0, 1.0, 30.0, 300.0]),
    st.integers(1, 3),
    st.booleans(),
    st.sampled_from([np.int64, np.int32]),  # route books store int32 edge ids
)
def test_random_populations_match_reference(
    pop: dict[str, NDArray],  # type: ignore[type-arg]
    dt_s: float,
    steps: int,
    gathered: bool,
    edge_dtype: type[np.signedinteger],  # type: ignore[type-arg]
) -> None:
    ref = {k: v.copy() for k, v in pop.items()}
    route_edges, route_end, length_m = readonly(
        pop["route_edges"].astype(edge_dtype), pop["route_end"], pop["length_m"]
    )
    occ = core_ext.count_occupancy(pop["edge"], pop["kind"], 3, len(length_m))
    for _ in range(steps):
        arrived = core_ext.advance_along_routes(
            route_edges,
            route_end,
            length_m,
            pop["route_pos"],
            pop["edge"],
            pop["offset"],
            readonly(pop["speed"])[0],
            dt_s,
            agent_kind=pop["kind"],
            occupancy=occ,
            route_length_m=length_m[route_edges] if gathered else None,
        )
        ref_arrived = reference_advance(
            ref["route_edges"],
            ref["route_end"],
            ref["length_m"],
            ref["route_pos"],
            ref["edge"],
            ref["offset"],
            ref["speed"],
            dt_s,
        )
        np.testing.assert_array_equal(arrived, ref_arrived)
        np.testing.assert_array_equal(pop["route_pos"], ref["route_pos"])
        np.testing.assert_array_equal(pop["edge"], ref["edge"])
        np.testing.assert_allclose(pop["offset"], ref["offset"], rtol=1e-12, atol=1e-9)
        assert (pop["offset"] <= length_m[pop["edge"]] + 1e-9).all()
        np.testing.assert_array_equal(
            occ, core_ext.count_occupancy(pop["edge"], pop["kind"], 3, len(length_m))
        )


def _one_agent(**overrides: object) -> dict[str, object]:
    args: dict[str, object] = {
        "route_edges": np.array([0, 1]),
        "route_end": np.array([2]),
        "edge_length_m": np.array([10.0, 10.0]),
        "route_pos": np.array([0]),
        "position_edge": np.array([0]),
        "position_offset_m": np.array([0.0]),
        "speed_mps": np.array([1.0]),
        "dt_s": 5.0,
    }
    args.update(overrides)
    return args


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"position_edge": np.array([1])}, r"position_edge\[0\] differs"),
        ({"route_end": np.array([3])}, "point outside route_edges"),
        ({"route_edges": np.array([0, 7]), "dt_s": 15.0}, r"edge id outside \[0, n_edges\)"),
        ({"speed_mps": np.array([-1.0])}, r"speed_mps\[0\] is negative or NaN"),
        ({"speed_mps": np.array([np.nan])}, r"speed_mps\[0\] is negative or NaN"),
        ({"route_pos": np.array([0], dtype=np.int32)}, "route_pos must have dtype int64"),
        ({"position_offset_m": [0.0]}, "position_offset_m must be a numpy array"),
        ({"speed_mps": np.array([1.0, 2.0])}, "speed_mps must have length 1"),
        ({"dt_s": -1.0}, "dt_s must be finite and >= 0"),
        ({"route_length_m": np.array([10.0])}, "route_length_m must have the shape of route_edges"),
        ({"route_edges": np.array([0.0, 1.0])}, "route_edges must hold integers"),
        ({"agent_kind": np.array([5], dtype=np.int8), "occupancy": np.zeros((2, 2), np.int32)}, "agent_kind"),
        ({"occupancy": np.zeros((2, 2), np.int32)}, "agent_kind is required"),
        (
            {"agent_kind": np.array([0]), "occupancy": np.zeros((2, 3), np.int32)},
            r"occupancy must have shape",
        ),
    ],
)
def test_advance_validation(overrides: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        core_ext.advance_along_routes(**_one_agent(**overrides))  # type: ignore[arg-type]


def test_count_occupancy_validation() -> None:
    with pytest.raises(ValueError, match=r"edge id outside"):
        core_ext.count_occupancy(np.array([3]), np.array([0]), 1, 3)
    with pytest.raises(ValueError, match="agent_kind"):
        core_ext.count_occupancy(np.array([0]), np.array([1]), 1, 3)
    with pytest.raises(ValueError, match="agent_kind must fit in int8"):
        core_ext.count_occupancy(np.array([0]), np.array([300]), 1, 3)
    counts = core_ext.count_occupancy(np.array([0, 0, 2, 1]), np.array([0, -1, 1, 1]), 2, 3)
    assert counts.tolist() == [[1, 0, 0], [0, 1, 1]]


def _crowd(n_agents: int, seed: int) -> dict[str, NDArray]:  # type: ignore[type-arg]
    """Many agents on random routes: exercises the kernel's prefetch pipeline (16 agents deep)."""
    rng = np.random.default_rng(seed)
    n_edges = 300
    length_m = rng.uniform(0.0, 150.0, n_edges)
    route_len = rng.integers(0, 10, n_agents)
    route_end = np.cumsum(route_len)
    route_edges = rng.integers(0, n_edges, route_end[-1])
    route_pos = route_end - route_len
    active = route_len > 0
    edge = np.where(
        active, route_edges[np.minimum(route_pos, len(route_edges) - 1)], rng.integers(0, n_edges, n_agents)
    )
    offset = np.where(active, rng.uniform(0, 1, n_agents) * length_m[edge], 0.0)
    return {
        "route_edges": route_edges,
        "route_end": route_end,
        "length_m": length_m,
        "route_pos": route_pos,
        "edge": edge,
        "offset": offset,
        "speed": rng.uniform(0.0, 2.0, n_agents),
        "kind": rng.integers(-1, 3, n_agents).astype(np.int8),
    }


def test_crowd_matches_reference() -> None:
    pop = _crowd(3000, seed=4)
    ref = {k: v.copy() for k, v in pop.items()}
    occ = core_ext.count_occupancy(pop["edge"], pop["kind"], 3, len(pop["length_m"]))
    for _ in range(4):
        arrived = core_ext.advance_along_routes(
            pop["route_edges"], pop["route_end"], pop["length_m"], pop["route_pos"], pop["edge"],
            pop["offset"], pop["speed"], 120.0, agent_kind=pop["kind"], occupancy=occ,
        )  # fmt: skip
        expected = reference_advance(
            ref["route_edges"], ref["route_end"], ref["length_m"], ref["route_pos"], ref["edge"],
            ref["offset"], ref["speed"], 120.0,
        )  # fmt: skip
        np.testing.assert_array_equal(arrived, expected)
        np.testing.assert_array_equal(pop["edge"], ref["edge"])
        np.testing.assert_array_equal(
            occ, core_ext.count_occupancy(pop["edge"], pop["kind"], 3, len(pop["length_m"]))
        )


def test_error_leaves_occupancy_consistent_with_moved_agents() -> None:
    pop = _crowd(3000, seed=5)
    pop["speed"][2000] = np.nan
    occ = core_ext.count_occupancy(pop["edge"], pop["kind"], 3, len(pop["length_m"]))
    with pytest.raises(ValueError, match=r"speed_mps\[2000\]"):
        core_ext.advance_along_routes(
            pop["route_edges"], pop["route_end"], pop["length_m"], pop["route_pos"], pop["edge"],
            pop["offset"], pop["speed"], 120.0, agent_kind=pop["kind"], occupancy=occ,
        )  # fmt: skip
    np.testing.assert_array_equal(
        occ, core_ext.count_occupancy(pop["edge"], pop["kind"], 3, len(pop["length_m"]))
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 300), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_group_by_key_is_a_stable_sort_by_key(n: int, n_keys: int, seed: int) -> None:
    keys = np.random.default_rng(seed).integers(0, n_keys, n)
    indptr, order = core_ext.group_by_key(*readonly(keys), n_keys)
    np.testing.assert_array_equal(order, np.argsort(keys, kind="stable"))
    np.testing.assert_array_equal(
        indptr, np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=n_keys))])
    )


def test_group_by_key_rejects_keys_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"keys\[1\] = 3"):
        core_ext.group_by_key(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="outside"):
        core_ext.group_by_key(np.array([-1]), 3)


def reference_routine_trips(
    who: NDArray[np.int64], origin: NDArray[np.int64], dest: NDArray[np.int64], anchors: NDArray[np.int64],
    pairs: NDArray[np.int64], first: NDArray[np.int64], length: NDArray[np.int32],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:  # fmt: skip
    """Column by column, as the residents matched their trips before the kernel."""
    col = np.full(who.size, -1, dtype=np.int64)
    for k, (a, b) in enumerate(pairs):
        hit = (col < 0) & (origin == anchors[who, a]) & (dest == anchors[who, b])
        col[hit] = k
    start = np.full(who.size, -1, dtype=np.int64)
    end = np.zeros(who.size, dtype=np.int64)
    hit = np.flatnonzero(col >= 0)
    start[hit] = first[who[hit], col[hit]]
    end[hit] = start[hit] + length[who[hit], col[hit]]
    end[start < 0] = 0
    return start, end


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 50), st.integers(0, 80), st.integers(0, 2**32 - 1))
def test_match_routine_trips_matches_reference(n_agents: int, n_movers: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # few distinct places, so anchors often coincide and the first matching column decides
    anchors = rng.integers(0, 4, (n_agents, 4))
    pairs = np.array([[0, 1], [1, 0], [0, 2], [0, 3], [2, 0], [3, 0]])
    first = rng.integers(0, 1000, (n_agents, pairs.shape[0]))
    first[rng.random(first.shape) < 0.2] = -1  # not a trip of this agent
    length = rng.integers(0, 20, first.shape).astype(np.int32)
    who = rng.integers(0, n_agents, n_movers)
    origin, dest = rng.integers(0, 5, n_movers), rng.integers(0, 5, n_movers)
    start, end = core_ext.match_routine_trips(
        *readonly(who, origin, dest, anchors), pairs, *readonly(first, length)
    )
    ref_start, ref_end = reference_routine_trips(who, origin, dest, anchors, pairs, first, length)
    np.testing.assert_array_equal(start, ref_start)
    np.testing.assert_array_equal(end[start >= 0], ref_end[start >= 0])
