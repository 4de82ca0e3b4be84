"""The strategy contract: reads cannot write, commands act, book their cost and log an action."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import PrecinctModel, run_simulation
from sim.policies import CommunityMeetingsPolicy, CptedPolicy
from tests.policies.conftest import small_config


def _context(model: PrecinctModel, cls: type):  # type: ignore[no-untyped-def]
    (k,) = [k for k, p in enumerate(model.policies) if isinstance(p, cls)]
    return model.policies[k], model.contexts[k]


def test_what_a_strategy_reads_is_read_only(city) -> None:
    model = PrecinctModel(small_config({"baseline": {}}), network=city, mesa_agents=False)
    ctx = model.contexts[0]
    for array in (ctx.segments.lit, ctx.segments.gated, ctx.residents.trust, ctx.officers.state,
                  ctx.officers.position_edge, ctx.segments.maintenance_factor):  # fmt: skip
        with pytest.raises(ValueError, match="read-only"):
            array[0] = array[0]
    with pytest.raises(ValueError, match="'patrol' or 'policy'"):
        ctx.rng("offending")  # the offenders' stream is not a strategy's to draw from
    with pytest.raises(ValueError, match="activity"):
        ctx.send_officers(np.array([0]), np.array([0]), activity="lunch", until_min=60.0)
    with pytest.raises(ValueError, match="capital"):
        ctx.book_cost("lamps", capital=-1.0)


def test_install_changes_the_environment_books_its_cost_and_logs_it(city) -> None:
    params = {"hotspots_from": "static", "top_k": 50, "gating": False}
    result = run_simulation(small_config({"cpted": params}), network=city)
    actions = result.actions
    install = actions[actions["action"] == "install"]
    assert len(install) == 1 and install["n_segments"].iloc[0] == 50 and install["time_min"].iloc[0] == 0.0
    booked = actions[actions["action"] == "book_cost"]
    assert set(booked["detail"]) == {"lighting", "maintenance", "surveillance"}  # gating was off
    c = params
    assert c["top_k"] * 3000.0 == booked.loc[booked["detail"] == "surveillance", "capital"].iloc[0]
    assert result.metrics["cost_capital"] == pytest.approx(booked["capital"].sum())
    # running costs accrue per day from the install to the end of the run (1 day here)
    assert result.metrics["cost_running"] == pytest.approx(booked["per_day"].sum() * 1.0)
    assert result.metrics["cost_total"] == pytest.approx(
        result.metrics["cost_capital"] + result.metrics["cost_running"]
    )


def test_meetings_act_through_commands(city) -> None:
    params = {"community_meetings": {"interval_days": 1.0, "hour": 14.0, "attend_prob": 0.5}}
    model = PrecinctModel(small_config(params, days=2.0), network=city, mesa_agents=False)
    policy, _ = _context(model, CommunityMeetingsPolicy)
    result = model.run()
    actions = result.actions
    held = actions[actions["action"] == "hold_meeting"]
    assert len(held) == policy.n_held > 0
    assert held["n_residents"].sum() == policy.n_attendances == model.residents.attended_meetings.sum()
    sent = actions[actions["action"] == "send_officers"]
    assert len(sent) >= policy.n_held and (sent["policy"] == "community_meetings").all()
    assert result.metrics["cost_running"] == pytest.approx(policy.n_held * policy.config.cost_per_meeting)


def test_baseline_books_nothing(city) -> None:
    result = run_simulation(small_config({"baseline": {}}), network=city)
    assert result.actions.empty and list(result.actions.columns)[:4] == [
        "time_min",
        "step",
        "policy",
        "action",
    ]
    assert result.metrics["cost_total"] == 0.0


def test_cpted_and_meetings_costs_add_up_in_one_run(city) -> None:
    params = {"cpted": {"hotspots_from": "static", "top_k": 20}, "community_meetings": {"interval_days": 1.0}}
    model = PrecinctModel(small_config(params, days=2.0), network=city, mesa_agents=False)
    cpted, _ = _context(model, CptedPolicy)
    meetings, _ = _context(model, CommunityMeetingsPolicy)
    result = model.run()
    by_policy = result.actions.groupby("policy")["capital"].sum()
    assert by_policy["cpted"] > 0 and by_policy.get("community_meetings", 0.0) == 0.0
    assert result.metrics["cost_running"] == pytest.approx(
        result.actions.loc[result.actions["policy"] == "cpted", "per_day"].sum() * 2.0
        + meetings.n_held * meetings.config.cost_per_meeting
    )
    assert cpted.install_min == 0.0
