"""Event-driven residents against the whole-population pass they replace, step by step.

The residents' calendar, traveller list and kept counts must give, at every step, exactly what a pass
over every resident gives: the same departures in the same order, the same people in public per edge,
the same occupied homes per segment, the same victim and witness pools.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from sim.agents import resident as res
from sim.agents._calendar import WakeCalendar, first_step_at
from sim.config import ModelConfig
from sim.model import PrecinctModel
from sim.network import StreetNetwork, load_network
from tests.conftest import DEFAULT_CITY
from tests.sim.routine_reference import use_reference


def departures_by_scan(r: res.Residents, now_min: float) -> NDArray[np.int64]:
    """The departures of a pass over everyone (the code before the calendar), without side effects."""
    at_home = r.state == res.HOME
    to_work = at_home & (now_min >= r.leave_for_work_min)
    to_leisure = at_home & ~to_work & (now_min >= r.leave_for_leisure_min)
    from_activity = ((r.state == res.WORK) | (r.state == res.LEISURE)) & (now_min >= r.activity_end_min)
    return np.concatenate(
        [np.flatnonzero(to_work), np.flatnonzero(to_leisure), np.flatnonzero(from_activity)]
    )


@pytest.fixture(scope="module")
def city() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


def test_first_step_at_is_exact() -> None:
    step = 5.0
    t = np.array([0.0, 1e-12, 4.999999999, 5.0, 5.000000001, 1439.9999999, 1440.0, 7 * 0.1, 3 * 5.0 / 3])
    k = first_step_at(t, step)
    assert (k * step >= t).all()
    assert ((k - 1) * step < t).all()
    odd = 0.3  # not a binary fraction: k * 0.3 rounds
    t = np.arange(1, 2000) * odd
    k = first_step_at(t, odd)
    assert (k * odd >= t).all() and ((k - 1) * odd < t).all()


def test_calendar_pops_each_agent_once_in_order() -> None:
    cal = WakeCalendar(5.0)
    cal.push(np.array([7, 3, 9]), np.array([10.0, 10.0, 12.0]), not_before=0)
    cal.push(np.array([3, 1]), np.array([9.0, np.inf]), not_before=0)  # 3 again, 1 has nothing planned
    cal.push(np.array([4]), np.array([-100.0]), not_before=2)  # overdue: the first step allowed
    assert cal.pop(0).tolist() == [] and cal.pop(1).tolist() == []
    assert cal.pop(2).tolist() == [3, 4, 7]
    assert cal.pop(3).tolist() == [9]
    assert len(cal) == 0


@pytest.mark.parametrize("policies", [["baseline"], ["neighbourhood_watch", "community_meetings"]])
def test_kept_state_matches_a_pass_over_everyone(city: StreetNetwork, policies: list[str]) -> None:
    cfg = ModelConfig(seed=3, policies={p: {} for p in policies})
    cfg.sim.days = 1.5
    cfg.population.n_residents = 1500
    cfg.population.n_offenders = 60
    cfg.police.n_officers = 4
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    r = model.residents
    real_leave = r.leave
    seen = {"departures": 0}

    def checked(book: Any, now_min: float, step: int) -> Any:
        expected = departures_by_scan(r, now_min)
        who = real_leave(book, now_min, step)
        np.testing.assert_array_equal(who, expected)
        seen["departures"] += who.size
        return who

    r.leave = checked  # type: ignore[method-assign]
    net = model.network
    while model.running:
        model.step()
        public = r.in_public()
        np.testing.assert_array_equal(np.sort(r.travelling), np.flatnonzero(r.state == res.TRAVEL))
        np.testing.assert_array_equal(np.sort(r.at_leisure), np.flatnonzero(r.state == res.LEISURE))
        np.testing.assert_array_equal(
            model.occupancy[0], np.bincount(r.position_edge[public], minlength=net.n_edges)
        )
        np.testing.assert_array_equal(
            r.homes_occupied_per_segment(),
            np.bincount(r.home_segment[r.state == res.HOME], minlength=net.n_segments),
        )
        for seg in np.unique(net.edge_segment[r.position_edge[public]])[:5]:
            mask = public & (net.edge_segment[r.position_edge] == seg)
            np.testing.assert_array_equal(r.public_on_segment(int(seg)), np.flatnonzero(mask))
        # every traveller stands on its route, nobody else has one
        t = r.travelling
        assert (r.route_end[r.state != res.TRAVEL] <= r.route_pos[r.state != res.TRAVEL]).all()
        moving = t[r.route_pos[t] < r.route_end[t]]
        np.testing.assert_array_equal(
            model.resident_routes.buffer[r.route_pos[moving]], r.position_edge[moving]
        )
    assert (
        seen["departures"] > cfg.population.n_residents
    )  # the routine ran: everyone left home at least once
    for seg in range(0, net.n_segments, 97):
        np.testing.assert_array_equal(r.homes_on_segment(seg), np.flatnonzero(r.home_segment == seg))


STATE_ARRAYS = ("state", "target_state", "position_edge", "position_offset_m", "route_pos", "route_end",
                "leave_for_work_min", "leave_for_leisure_min", "activity_end_min", "home_count",
                "leisure_per_edge", "travelling")  # fmt: skip


@pytest.mark.parametrize("seed", [4, 5])
def test_routine_kernels_match_the_numpy_bookkeeping(city: StreetNetwork, seed: int) -> None:
    """Every step, the compiled departures and arrivals leave the residents as the NumPy code did."""
    cfg = ModelConfig(seed=seed)
    cfg.sim.days = 1.25
    cfg.population.n_residents = 1200
    cfg.population.n_offenders = 40
    cfg.police.n_officers = 3
    ours = PrecinctModel(cfg, network=city, mesa_agents=False)
    ref = PrecinctModel(cfg, network=city, mesa_agents=False)
    use_reference(ref.residents)
    while ours.running:
        ours.step()
        ref.step()
        for name in STATE_ARRAYS:
            np.testing.assert_array_equal(
                getattr(ours.residents, name), getattr(ref.residents, name), err_msg=name
            )
        np.testing.assert_array_equal(np.sort(ours.residents.at_leisure), np.sort(ref.residents.at_leisure))
        assert len(ours.residents.calendar) == len(ref.residents.calendar)
    a, b = ours.event_log.to_frame(city), ref.event_log.to_frame(city)
    assert len(a) > 0
    assert a.to_csv(index=False) == b.to_csv(index=False)
