"""Training speed targets (issue 13): one shift of the default city in at most 3 s, a map update with 3,000 agents in 250 ms.

A shift is :meth:`TrainingSession.run_shift` on a shipped scenario's city and population (the
City of London, 3,000 residents), frames recorded for the map's replay; one round is one 8-hour
shift, taken in turn from the start of the exercise. The map update is the overlay the app redraws
per replay frame, with 3,000 agents and 300 incidents.
"""

from __future__ import annotations

import numpy as np
import pytest

from experiments.training_config import scenario_config
from experiments.training_map import MapFrame, overlay_svg
from sim.training import TrainingSession, load_scenario

pytestmark = pytest.mark.slow


def test_one_shift_of_the_default_city(benchmark) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario("burglary_spree")
    session = TrainingSession(scenario, scenario_config(scenario))
    top = [h["segment"] for h in session.briefing().hotspots[:5]]

    def shift() -> None:
        session.decide({"kind": "patrol", "segments": top, "officers": 4, "dwell_min": 15})
        session.run_shift()

    benchmark.pedantic(shift, rounds=6, iterations=1)
    assert benchmark.stats["median"] <= 3.0


def test_a_map_update_with_3000_agents(benchmark) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario("night_time_economy")
    net = TrainingSession(scenario, scenario_config(scenario)).network
    frame = MapFrame.of(net)
    rng = np.random.default_rng(0)
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    agents, incidents = lo + rng.random((3000, 2)) * (hi - lo), lo + rng.random((300, 2)) * (hi - lo)
    benchmark(overlay_svg, net, frame, officers_xy=agents, incidents_xy=incidents, hotspots=range(15))
    assert benchmark.stats["median"] <= 0.25
