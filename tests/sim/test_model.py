"""The model's invariants, determinism and Mesa integration, on the real default city."""

from __future__ import annotations

import hashlib
import io

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.agents import Offender, Officer, Resident
from sim.agents import officer as ofc
from sim.config import ModelConfig
from sim.errors import ConfigError
from sim.model import PrecinctModel, run_simulation
from sim.network import load_network
from sim.offences import CRIME_TYPES
from tests.conftest import DEFAULT_CITY


@pytest.fixture(scope="module")
def city():
    return load_network(DEFAULT_CITY, network_type="walk")


def small_config(seed: int = 0, days: float = 2.0) -> ModelConfig:
    cfg = ModelConfig(seed=seed)
    cfg.sim.days = days
    cfg.population.n_residents = 800
    cfg.population.n_offenders = 30
    cfg.police.n_officers = 4
    return cfg


def event_bytes(df: pd.DataFrame) -> bytes:
    """sha256 of the event table written as Parquet (what a run stores)."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return hashlib.sha256(buf.getvalue()).digest()


def test_same_seed_gives_identical_event_table(city) -> None:
    a = run_simulation(small_config(seed=5), network=city)
    b = run_simulation(small_config(seed=5), network=city)
    assert len(a.events) > 50
    pd.testing.assert_frame_equal(a.events, b.events)
    assert event_bytes(a.events) == event_bytes(b.events)
    assert a.metrics == b.metrics


def test_different_seeds_differ(city) -> None:
    a = run_simulation(small_config(seed=1), network=city)
    b = run_simulation(small_config(seed=2), network=city)
    assert event_bytes(a.events) != event_bytes(b.events)


def _city_of(model: PrecinctModel) -> dict[str, np.ndarray]:
    """What population.seed fixes: residents' and offenders' places, and the streets' risky-facility term."""
    r, o = model.residents, model.offenders
    return {
        "resident_home": r.home_segment, "resident_work": r.work_segment, "resident_leisure": r.leisure_segment,
        "resident_worker": r.is_worker, "resident_vehicle": r.has_vehicle, "resident_trust": r.trust_start,
        "offender_home": o.home_segment, "offender_anchor": o.anchor_segment,
        "offender_aware": o.aware_segment, "offender_aware_weight": o.aware_weight,
        "risky": model.env.risky,
    }  # fmt: skip


def test_population_seed_fixes_the_city_and_the_run_seed_the_events(city) -> None:
    runs = []
    for seed in (1, 2):
        cfg = small_config(seed=seed, days=1.0)
        cfg.population.seed = 7
        model = PrecinctModel(cfg, network=city, mesa_agents=False)
        runs.append((_city_of(model), model.run()))
    (city_a, a), (city_b, b) = runs
    for key, value in city_a.items():
        np.testing.assert_array_equal(value, city_b[key], err_msg=key)
    assert len(a.events) > 20 and event_bytes(a.events) != event_bytes(b.events)
    # another population seed is another city, and a run without one draws its own
    other = small_config(seed=1, days=1.0)
    other.population.seed = 8
    own = small_config(seed=1, days=1.0)
    for cfg in (other, own):
        drawn = _city_of(PrecinctModel(cfg, network=city, mesa_agents=False))
        assert not np.array_equal(drawn["offender_home"], city_a["offender_home"])
        assert not np.array_equal(drawn["risky"], city_a["risky"])


def test_population_seed_null_is_the_run_seed_city(city) -> None:
    """Left out, the run's own seed draws its city, as before population.seed existed (the golden
    events pin the whole run); two seeds give two cities."""
    a = _city_of(PrecinctModel(small_config(seed=1), network=city, mesa_agents=False))
    b = _city_of(PrecinctModel(small_config(seed=1), network=city, mesa_agents=False))
    c = _city_of(PrecinctModel(small_config(seed=2), network=city, mesa_agents=False))
    for key, value in a.items():
        np.testing.assert_array_equal(value, b[key], err_msg=key)
    assert not np.array_equal(a["offender_home"], c["offender_home"])


def test_agents_never_leave_the_graph_and_time_adds_up(city) -> None:
    cfg = small_config(seed=3, days=1.0)
    model = PrecinctModel(cfg, network=city)
    n_edges = city.n_edges
    while model.running:
        model.step()
        for pop in (model.residents, model.offenders, model.officers):
            assert pop.position_edge.min() >= 0 and pop.position_edge.max() < n_edges
            length = city.edge_length_m[pop.position_edge]
            assert np.all(pop.position_offset_m >= 0) and np.all(pop.position_offset_m <= length + 1e-9)
            moving = pop.route_pos < pop.route_end
            # a moving agent stands on the edge its route cursor points at
            np.testing.assert_array_equal(
                pop.position_edge[moving], model_route_buffer(model, pop)[pop.route_pos[moving]]
            )
    minutes = model.officers.minutes.sum(axis=1)
    np.testing.assert_allclose(minutes, cfg.sim.days * 24 * 60)


def model_route_buffer(model: PrecinctModel, pop: object) -> np.ndarray:
    if pop is model.residents:
        return model.resident_routes.buffer
    if pop is model.offenders:
        return model.offender_routes.buffer
    return model.officer_routes.buffer


def test_every_call_is_answered_or_still_queued(city) -> None:
    model = PrecinctModel(small_config(seed=4, days=3.0), network=city)
    result = model.run()
    events = result.events
    crimes = events[events["kind"] == "crime"]
    reported = crimes[crimes["reported"]]
    assert len(reported) == len(model.policing.calls) > 0
    arrivals = set(events.loc[events["kind"] == "arrival", "call_id"])
    dispatched = set(events.loc[events["kind"] == "dispatch", "call_id"])
    for call in model.policing.calls:
        answered = call.call_id in arrivals
        on_the_way = call.call_id in dispatched and not answered
        queued = call.call_id in model.policing.waiting or call.call_id in model.policing.pending
        assert answered + on_the_way + queued == 1, call
        if answered:
            assert call.arrival_min >= call.call_time_min >= call.crime_time_min
    # police only ever hear of reported crime: recorded implies reported
    assert not (crimes["recorded"] & ~crimes["reported"]).any()
    # what the police side sees is exactly the recorded crime
    edges, _ = model.policing.view.recorded_crimes()
    assert edges.size == int(crimes["recorded"].sum())
    # the model's expected recorded crime (sim.forecast's model risk): positive wherever a crime happened,
    # and about as much as was recorded (all crimes, or crimes unrecorded, would be 3-4 times off)
    seg = result.segments
    expected = seg["crimes_recorded_expected"].to_numpy()
    assert (expected >= 0).all() and (expected[seg["crimes"].to_numpy() > 0] > 0).all()
    assert 0.5 < expected.sum() / seg["crimes_recorded"].sum() < 2.0


def test_event_table_schema(city) -> None:
    result = run_simulation(small_config(seed=6, days=1.0), network=city)
    ev = result.events
    for col in ("time_min", "step", "edge", "osm_way_id", "x", "y", "lon", "lat", "crime_type", "offender_id",
                "victim_id", "reported", "recorded"):  # fmt: skip
        assert col in ev.columns
    crimes = ev[ev["kind"] == "crime"]
    assert set(crimes["crime_type"]) <= set(CRIME_TYPES)
    np.testing.assert_array_equal(crimes["osm_way_id"], city.edge_osm_way_id[crimes["edge"]])
    assert crimes["lon"].between(-0.13, -0.08).all() and crimes["lat"].between(51.50, 51.53).all()
    assert (ev["time_min"].diff().dropna() >= 0).all()


def test_mesa_views_and_datacollector(city) -> None:
    model = PrecinctModel(small_config(seed=7, days=0.25), network=city)
    assert len(model.agents_by_type[Resident]) == 800
    assert len(model.agents_by_type[Offender]) == 30
    assert len(model.agents_by_type[Officer]) == 4
    dc = mesa.DataCollector(
        model_reporters={"mean_trust": lambda m: float(m.residents.trust.mean())},
        agent_reporters={"trust": lambda a: getattr(a, "trust", np.nan)},
    )
    for _ in range(3):
        model.step()
        dc.collect(model)
    assert len(dc.get_model_vars_dataframe()) == 3
    trusting = model.agents_by_type[Resident].select(lambda a: a.trust > 0.5)
    assert 0 < len(trusting) < 800
    officer = model.agents_by_type[Officer][0]
    assert officer.state in ofc.STATE_NAMES
    assert sum(officer.hours_by_state.values()) == pytest.approx(3 * 5 / 60)


def test_bad_config_is_a_clear_error() -> None:
    cfg = small_config()
    cfg.sim.step_min = 7
    with pytest.raises(ConfigError, match=r"sim\.step_min=7"):
        cfg.validate()
    cfg = small_config()
    cfg.police.mode = "horse"
    with pytest.raises(ConfigError, match=r"police\.mode"):
        cfg.validate()
    for bad in (-1, 1.5, True, "7"):
        cfg = small_config()
        cfg.population.seed = bad
        with pytest.raises(ConfigError, match=r"population\.seed"):
            cfg.validate()
    cfg = small_config()
    cfg.policies = {"magic": {}}
    with pytest.raises(ConfigError, match="one of baseline"):
        PrecinctModel(cfg)


def test_budget_limits_officers_on_duty(city) -> None:
    cfg = small_config(seed=8, days=1.0)
    cfg.police.budget_hours_per_day = 48.0
    model = PrecinctModel(cfg, network=city)
    result = model.run()
    on_duty_hours = sum(v for k, v in result.metrics.items() if k.startswith("officer_hours_"))
    assert on_duty_hours == pytest.approx(48.0)


def test_identical_across_processes_with_different_hash_seeds(tmp_path) -> None:
    """Nothing may depend on Python's per-process string hashing (OSMnx merges attributes via sets)."""
    import subprocess
    import sys

    script = (
        "import hashlib, io, sys\n"
        "from sim.config import ModelConfig\n"
        "from sim.model import run_simulation\n"
        "from sim.network import load_network\n"
        "from tests.conftest import DEFAULT_CITY\n"
        "net = load_network(DEFAULT_CITY, network_type='walk', use_cache=False)\n"
        "cfg = ModelConfig(seed=4); cfg.sim.days = 1.0; cfg.population.n_residents = 800\n"
        "cfg.population.n_offenders = 30; cfg.police.n_officers = 4\n"
        "buf = io.BytesIO(); run_simulation(cfg, network=net).events.to_parquet(buf, index=False)\n"
        "print(hashlib.sha256(net.edge_highway.tobytes() + net.edge_osm_way_id.tobytes()).hexdigest(),\n"
        "      hashlib.sha256(buf.getvalue()).hexdigest())\n"
    )
    outs = []
    for hash_seed in ("1", "2"):
        env = {**__import__("os").environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                              cwd=str(DEFAULT_CITY.parents[2]), timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        outs.append(done.stdout.split())
    assert outs[0] == outs[1]
