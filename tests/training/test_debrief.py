"""The debrief: arms on common random numbers, evidence direction, and self-contained pages."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from experiments.training_report import render_class_page, render_debrief
from sim.network import StreetNetwork
from sim.policies.scenario_injects import area_segments
from sim.training import DecisionLog, run_debrief
from sim.training.debrief import run_arm
from sim.training.session import arm_config
from tests.experiments.offline import assert_offline
from tests.training.conftest import model_config, short_scenario


def _log(scenario, decisions, trainee="") -> DecisionLog:  # type: ignore[no-untyped-def]
    return DecisionLog(scenario=scenario.to_dict(), seed=scenario.seed, trainee=trainee, decisions=decisions,
                       shifts_run=scenario.n_shifts)  # fmt: skip


def test_no_decisions_is_the_baseline_draw_for_draw_and_the_pages_are_offline(city: StreetNetwork) -> None:
    s = short_scenario()
    cfg = model_config(s)
    idle = run_debrief(_log(s, [], "Idle"), s, cfg, network=city, arms=["baseline"])
    t, b = idle.arms["trainee"].values, idle.arms["baseline"].values
    for measure in ("crimes_total", "crimes_recorded", "response_time_mean_min", "mean_trust_end"):
        assert t[measure] == b[measure], measure  # common random numbers: the same luck in both arms
    assert idle.differences["baseline"]["crimes_total"].mean_diff == 0.0
    hot = [5, 6, 7]
    busy = run_debrief(_log(s, [{"shift": 0, "kind": "patrol", "segments": hot, "officers": 6, "dwell_min": 15}],
                            "Busy"), s, cfg, network=city, arms=["baseline"])  # fmt: skip
    assert busy.plan_segments == hot
    assert min(busy.arms["trainee"].values["plan_koper_stops"]) > 10
    assert max(busy.arms["baseline"].values["plan_koper_stops"]) == 0
    page = render_debrief(busy)
    assert_offline(page)
    for text in ("What was planned", "What happened", "What the police never saw", "Koper", "Busy"):
        assert text in page
    page = render_class_page([idle, busy])
    assert_offline(page)
    assert "Idle" in page and "Busy" in page and page.index("Busy") < page.index("Baseline")


def test_patrol_on_a_spree_lowers_crime_there_against_no_decisions_on_paired_seeds(
    city: StreetNetwork,
) -> None:
    """Hot-spot patrol cuts crime where it is applied (Braga et al. 2019; Sherman & Weisburd 1995)."""
    centre = [-0.0935, 51.5215]
    spree = {
        "kind": "spree",
        "day": 0,
        "days": 1.0,
        "centre": centre,
        "radius_m": 150.0,
        "factor": 8.0,
        "label": "",
    }
    s = dataclasses.replace(short_scenario("burglary_spree", shifts=3), injects=[spree])
    cfg = model_config(s, small=False)  # the city's own population: enough crime in a day
    area = area_segments(city, centre, 150.0)
    plan = [{"shift": k, "kind": "patrol", "segments": area[:40].tolist(), "officers": 8, "dwell_min": 15}
            for k in range(3)]  # fmt: skip
    patrolled, left = [], []
    for seed in range(2):  # two paired seeds keep the default run short; the effect is large (see below)
        for decisions, out in ((plan, patrolled), ([], left)):
            run = run_arm(dataclasses.replace(arm_config(cfg, s, "trainee", decisions), seed=seed), city)
            out.append(int(run.segments["crimes"].to_numpy()[area].sum()))
    assert sum(left) >= 8, left  # the spree made a hot spot to patrol
    assert sum(patrolled) < 0.6 * sum(left), (patrolled, left)
    assert np.all(np.array(patrolled) <= np.array(left))


def test_the_score_weighs_changes_against_the_baseline_and_cost_against_the_budget() -> None:
    from sim.training.debrief import ArmOutcome, _add_scores

    s = dataclasses.replace(
        short_scenario(), scoring={"crimes_total": 1.0, "cost_total": 0.5}, cpted_budget=10_000.0
    )
    none = np.zeros(3)
    arms = {
        "baseline": ArmOutcome(
            "baseline", "", {"crimes_total": [50.0, 40.0], "cost_total": [0.0, 0.0]}, none, none
        ),
        "trainee": ArmOutcome(
            "trainee", "", {"crimes_total": [45.0, 44.0], "cost_total": [3000.0, 3000.0]}, none, none
        ),
    }
    _add_scores(arms, s)
    assert arms["baseline"].values["score"] == [0.0, 0.0]
    # 10% less crime (+10 points), 10% more (-10), and 30% of the budget spent at weight 0.5 (-15 each)
    assert arms["trainee"].values["score"] == pytest.approx([10.0 - 15.0, -10.0 - 15.0])
