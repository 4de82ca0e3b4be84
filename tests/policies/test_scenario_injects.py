"""Scenario injects act through the contract: calls open, intelligence reaches the map, sprees draw crime."""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import ConfigError
from sim.model import PrecinctModel, run_simulation
from sim.network import StreetNetwork
from sim.policies import build_policies
from sim.policies.scenario_injects import area_segments
from tests.policies.conftest import small_config

CENTRE = [-0.0985, 51.5138]  # St Paul's, inside the bundled extract


def test_a_call_spike_opens_calls_that_take_officers_but_are_not_crime(city: StreetNetwork) -> None:
    spike = {"kind": "call_spike", "day": 0, "hour": 2, "hours": 2, "centre": CENTRE, "calls": 12}
    with_spike = run_simulation(small_config({"scenario_injects": {"injects": [spike]}}), network=city)
    without = run_simulation(small_config({"scenario_injects": {}}), network=city)
    assert with_spike.metrics["calls_total"] == without.metrics["calls_total"] + 12
    # crime is not touched before the spike starts (same seed, same draws): the inject draws no random numbers
    early = lambda r: r.events.query("kind == 'crime' and time_min < 120")  # noqa: E731
    assert early(with_spike).equals(early(without))
    opened = with_spike.actions.query("action == 'open_calls'")
    assert len(opened) == 1 and opened["time_min"].iloc[0] == 120.0
    dispatched = with_spike.events.query("kind == 'dispatch'")
    assert len(dispatched) >= len(without.events.query("kind == 'dispatch'")) + 10


def test_a_complaint_reaches_the_police_as_intelligence(city: StreetNetwork) -> None:
    complaint = {"kind": "complaint", "day": 0, "hour": 1, "centre": CENTRE, "items": 3}
    model = PrecinctModel(small_config({"scenario_injects": {"injects": [complaint]}}), network=city,
                          mesa_agents=False)  # fmt: skip
    for _ in range(13):
        model.step()
    intel = model.policing.view.intelligence()
    area = set(area_segments(city, CENTRE, 200.0).tolist())
    assert len(intel) == 3 and all(seg in area for seg, _ in intel)


@pytest.mark.parametrize(
    ("inject", "key"),
    [
        ({"kind": "spree", "day": 0, "centre": [0.5, 51.5]}, "centre"),  # nowhere near the map
        ({"kind": "spree", "day": 0, "centre": CENTRE, "factor": -1}, "factor"),
        ({"kind": "call_spike", "day": 0, "centre": CENTRE, "calls": 0}, "calls"),
        ({"kind": "flood", "day": 0}, "kind"),
    ],
)
def test_bad_injects_name_their_key(city: StreetNetwork, inject: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_policies({"scenario_injects": {"injects": [inject]}})
        PrecinctModel(
            small_config({"scenario_injects": {"injects": [inject]}}), network=city, mesa_agents=False
        )
    assert info.value.key.endswith(key)


def test_the_spree_area_is_the_segments_near_its_centre(city: StreetNetwork) -> None:
    small, large = area_segments(city, CENTRE, 100.0), area_segments(city, CENTRE, 400.0)
    assert 0 < small.size < large.size and set(small) <= set(large)
    mid = 0.5 * (
        city.node_xy[city.edge_source[city.segment_edge]] + city.node_xy[city.indices[city.segment_edge]]
    )
    spread = np.hypot(*(mid[large] - mid[large].mean(axis=0)).T)
    assert spread.max() <= 2 * 400.0
