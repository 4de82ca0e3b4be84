"""Police deterrence in the street environment: Koper's residual, the reach of presence, and what
offenders do when they notice police, on the real default city."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from core_ext import Router
from sim.config import CrimeConfig
from sim.environment import Environment, koper_residual
from sim.model import PrecinctModel
from sim.network import StreetNetwork, load_network
from tests.conftest import DEFAULT_CITY
from tests.sim.test_model import small_config


@pytest.fixture(scope="module")
def city() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


def make_env(net: StreetNetwork, **crime: float) -> Environment:
    router = Router(net.indptr, net.indices, net.edge_length_m, node_xy=net.node_xy)
    return Environment(net, CrimeConfig(**crime), np.random.default_rng(0), router)


def test_koper_residual_needs_a_stop_and_saturates_at_fifteen_minutes() -> None:
    r = koper_residual(np.array([0.0, 5.0, 7.5, 10.0, 15.0, 60.0]))
    np.testing.assert_allclose(r, [0.0, 0.0, 0.25, 0.5, 1.0, 1.0])


def test_reach_matches_scipy_network_distance_from_the_segment_middle(city: StreetNetwork) -> None:
    env = make_env(city, deterrence_reach_m=100.0)
    n = city.n_nodes
    # undirected node graph with the shortest parallel edge, as SciPy's reference
    order = np.lexsort((city.edge_length_m, city.indices, city.edge_source))
    src, dst, length = city.edge_source[order], city.indices[order], city.edge_length_m[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    graph = sp.csr_matrix((length[first], (src[first], dst[first])), shape=(n, n))
    for seg in np.random.default_rng(1).choice(city.n_segments, size=25, replace=False):
        segs, w = env.reach(int(seg))
        e = int(city.segment_edge[seg])
        half = 0.5 * city.edge_length_m[e]
        ends = [int(city.edge_source[e]), int(city.indices[e])]
        d_node = dijkstra(graph, directed=True, indices=ends, limit=100.0).min(axis=0) + half
        # the expected weight of every segment: 1 - d / reach at its nearer end, 1 on the segment itself
        seg_d = np.full(city.n_segments, np.inf)
        np.minimum.at(seg_d, city.edge_segment, d_node[city.edge_source])
        np.minimum.at(seg_d, city.edge_segment, d_node[city.indices])
        seg_d[seg] = 0.0
        expected = np.flatnonzero(seg_d <= 100.0)
        np.testing.assert_array_equal(np.sort(segs), expected)
        order = np.argsort(segs)
        np.testing.assert_allclose(w[order], 1.0 - seg_d[expected] / 100.0, atol=1e-9)
        assert w[segs == seg][0] == 1.0


def test_standing_officers_watch_passing_officers_only_deter_for_the_moment(city: StreetNetwork) -> None:
    env = make_env(city)
    stand, passing = 10, 2000
    here = np.array([stand, passing])
    # 15 minutes: one officer standing on `stand`, one walking through `passing` at the last step
    env.update_police(here[:1], 5.0, 5.0, np.array([True]))
    env.update_police(here[:1], 10.0, 5.0, np.array([True]))
    env.update_police(here, 15.0, 5.0, np.array([True, False]))
    deter, watch = env.police_fields(15.0)
    assert deter[stand] == pytest.approx(0.9) and watch[stand] == pytest.approx(0.9)
    assert deter[passing] == pytest.approx(0.9) and watch[passing] == 0.0
    near, w = env.reach(stand)
    inside = near[(w > 0) & (near != stand)]
    assert np.all(deter[inside] > 0) and np.all(deter[inside] < 0.9)
    far = np.setdiff1d(np.arange(city.n_segments), np.union1d(near, env.reach(passing)[0]))
    assert np.all(deter[far] == 0.0)
    # both leave: the 15-minute stop leaves a residual that decays (Koper), the passer leaves none
    env.update_police(np.zeros(0, dtype=np.int64), 20.0, 5.0)
    for t, expected in (
        (20.0, 0.9 * np.exp(-5 / 30)),
        (45.0, 0.9 * np.exp(-1.0)),
        (105.0, 0.9 * np.exp(-3.0)),
    ):
        deter, watch = env.police_fields(t)
        assert watch[stand] == pytest.approx(expected)
        assert deter[passing] == 0.0 and watch[passing] == 0.0


@pytest.mark.parametrize("reach_m", [150.0, 0.0])
def test_police_fields_at_segments_are_the_fields_there(city: StreetNetwork, reach_m: float) -> None:
    env = make_env(city, deterrence_reach_m=reach_m)
    rng = np.random.default_rng(7)
    ask = rng.integers(0, city.n_segments, 40)
    for step in range(1, 40):
        here = rng.integers(0, city.n_segments, int(rng.integers(0, 6)))
        env.update_police(here, 5.0 * step, 5.0, rng.random(here.size) < 0.5)
        now = 5.0 * step + float(rng.integers(0, 3))
        near = np.concatenate([ask, here])  # the officers' own segments too, where the fields are largest
        deter, watch = env.police_fields(now)
        deter_at, watch_at = env.police_fields_at(near, now)
        np.testing.assert_array_equal(deter_at, deter[near])
        np.testing.assert_array_equal(watch_at, watch[near])


def test_without_reach_deterrence_stays_on_the_officers_segment(city: StreetNetwork) -> None:
    env = make_env(city, deterrence_reach_m=0.0)
    env.update_police(np.array([10]), 5.0, 5.0)
    deter, _ = env.police_fields(5.0)
    assert np.flatnonzero(deter).tolist() == [10]


def _deterred_events(give_up: float, seed: int = 0) -> tuple[int, int, int]:
    cfg = small_config(seed=seed, days=2.0)
    cfg.crime.deterred_give_up_prob = give_up
    model = PrecinctModel(cfg, mesa_agents=False)
    while model.running:
        model.step()
    kinds = [r["kind"] for r in model.event_log.rows()]
    return kinds.count("deterred_give_up"), kinds.count("deterred_move_on"), kinds.count("crime")


def test_offenders_who_notice_police_give_up_or_move_on_as_configured() -> None:
    gave_up, moved, _ = _deterred_events(1.0)
    assert gave_up > 0 and moved == 0
    gave_up, moved, _ = _deterred_events(0.0)
    assert gave_up == 0 and moved > 0
    gave_up, moved, _ = _deterred_events(0.5)
    assert gave_up > 0 and moved > 0


# ---------------------------------------------------------------- a run's starting boost (warm start)
def test_a_past_crime_leaves_the_boost_a_run_would_have_left(city: StreetNetwork) -> None:
    """Without spread, a crime ``a`` days ago leaves ``w exp(-omega a)``; older than the window, nothing."""
    from sim.environment import boost_from_history

    cfg = CrimeConfig(boost_spread_eta=0.0, boost_decay_per_day=0.2)
    b = boost_from_history(city, cfg, np.array([7, 7, 9, 11]), np.array([3.0, 1.0, 0.0, 40.0]),
                           np.array([2.0, 1.0, 1.0, 5.0]))  # fmt: skip
    assert b[7] == pytest.approx(2.0 * np.exp(-0.6) + np.exp(-0.2), rel=1e-9)
    assert b[9] == pytest.approx(np.exp(-0.2 / 24), rel=1e-9)  # today's: one hour step of decay
    assert b[11] == 0.0  # 40 days old: outside the 28-day window
    assert np.count_nonzero(b) == 2


def test_the_starting_boost_spreads_to_neighbours_as_a_runs_does(city: StreetNetwork) -> None:
    """With spread, the history's boost is what stepping a run's environment from the crime gives."""
    from sim.environment import boost_from_history

    env = make_env(city)
    seg = int(np.argmax(np.diff(env.adjacency.indptr)))  # a segment with neighbours
    b = boost_from_history(city, env.config, np.array([seg]), np.array([2.0]), np.array([1.0]))
    env.boost[seg] = 1.0
    for _ in range(48):
        env.decay_and_spread(1.0 / 24.0)
    np.testing.assert_allclose(b, env.boost, rtol=1e-9, atol=1e-15)
    neighbours = env.adjacency[seg].indices
    assert b[neighbours].min() > 0.0 and b[seg] < np.exp(-0.4)  # some of it moved next door


def test_a_bad_crime_history_names_what_is_wrong(city: StreetNetwork) -> None:
    from sim.environment import boost_from_history

    with pytest.raises(ValueError, match="equal-length"):
        boost_from_history(city, CrimeConfig(), np.array([1, 2]), np.array([1.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"segments in \[0, "):
        boost_from_history(city, CrimeConfig(), np.array([city.n_segments]), np.array([1.0]), np.array([1.0]))
