"""Problem solving (SARA): each step logged, a response fitted to the analysis, less crime at the places it treats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import ModelConfig
from sim.model import PrecinctModel, run_simulation
from sim.offences import CRIME_TYPES
from sim.policies import ProblemSolvingPolicy, TargetedPatrolPolicy
from sim.policies.areas import segments_in_sight
from tests.policies.conftest import small_config
from tests.policies.effects import compare_arms, run_arms

# a team that starts early and patrols its place all day, every half hour: a dose large enough to
# show within a week
QUICK = {"scan_after_days": 1.0, "min_problem_crimes": 2, "assess_after_weeks": 0.5}
STRONG = {**QUICK, "peak_window_hours": 24, "patrol_revisit_min": 30.0}


def _config(policies: dict, *, seed: int = 0, days: float = 7.0) -> ModelConfig:
    cfg = ModelConfig(seed=seed, policies=policies)
    cfg.sim.days = days
    return cfg


def _pop(model: PrecinctModel) -> ProblemSolvingPolicy:
    (policy,) = [p for p in model.policies if isinstance(p, ProblemSolvingPolicy)]
    return policy


def test_each_sara_step_is_logged_in_order_and_the_response_follows_the_analysis(city) -> None:
    model = PrecinctModel(_config({"problem_solving": QUICK}, days=8.0), network=city, mesa_agents=False)
    pop = _pop(model)
    c = pop.config
    while model.running and not pop.problems:
        model.step()
    p = pop.problems[0]
    now = p.scan_min
    # the place: the seed segment and every segment within place_radius_m of its middle
    sight = segments_in_sight(city, model.router, np.array([p.segment]), c.place_radius_m)
    np.testing.assert_array_equal(p.place, sight.getrow(p.segment).toarray().ravel() > 0)
    # the most recorded crime of one type at any place (nothing raised outside the records here)
    view = model.policing.view
    edges, times = view.recorded_crimes(p.crime_type)
    assert p.known == int(p.place[city.edge_segment[edges[times <= now]]].sum()) >= c.min_problem_crimes
    for ctype in CRIME_TYPES:
        e, t = view.recorded_crimes(ctype)
        segs = city.edge_segment[e[t <= now]]
        if segs.size:
            places = segments_in_sight(city, model.router, np.unique(segs), c.place_radius_m) > 0
            assert (places @ np.bincount(segs, minlength=city.n_segments)).max() <= p.known, ctype
    assert not (p.comparison & p.place).any()
    result = model.run()
    actions = result.actions
    sara = actions[actions["action"].str.startswith("sara_") & ~actions["detail"].str.startswith("no place")]
    assert list(sara["action"][:4]) == ["sara_scan", "sara_analysis", "sara_response", "sara_assessment"]
    assert sara["detail"].str.startswith("problem 1").iloc[:4].all()
    # the response fits the analysis
    unlit = (p.place & (city.edge_lit[city.segment_edge] != 1)).any()
    assert any(r.startswith("lighting") for r in p.response) == (p.night_share >= 0.5 and unlit)
    kinds = [city.place_kinds.index(k) for k in ("shop", "bar", "nightclub", "restaurant")]
    premises = (city.segment_place_counts[:, kinds] > 0).any(axis=1)
    assert any(r.startswith("place manager") for r in p.response) == bool((p.place & premises).any())
    assert any(r.startswith("patrol") for r in p.response) and p.peak_hours.sum() == c.peak_window_hours
    expected = np.where(premises[p.place], c.cleanup_factor * c.manager_attractiveness, c.cleanup_factor)
    np.testing.assert_allclose(model.env.maintenance_factor[p.place], expected)
    # the place is treated from the response on, nowhere else
    assert (result.segments["treated_from_min"][p.place] == p.response_min).all()
    assert not result.segments["treated"][~pop.worked].any()
    # the assessment's verdict follows its numbers
    change, versus = p.changes[0]
    success = change <= -c.success_threshold and not versus <= change
    assert (p.outcome == "success") == success if p.adaptations == 0 else not success
    # one budget: the team's sessions are meeting hours
    m = result.metrics
    sessions = (actions["action"] == "send_officers") & (actions["policy"] == "problem_solving")
    assert m["pop_team_hours"] == pytest.approx(sessions.sum() * c.session_hours)
    assert m["officer_hours_meeting"] == pytest.approx(m["pop_team_hours"], abs=0.1)
    assert m["cost_capital"] > 0 and m["pop_problems"] == len(pop.problems)


def test_patrol_stops_at_the_problem_place_only_in_its_peak_hours(city) -> None:
    # a 12-minute stop tells the team's visits from hot-spot patrol's (15) and random patrol's (2)
    params = {**QUICK, "peak_window_hours": 6, "patrol_revisit_min": 60.0, "patrol_dwell_min": 12.0}
    cfg = _config({"problem_solving": params, "targeted_patrol": {}}, days=6.0)
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    pop = _pop(model)
    assert isinstance(model.policies[0], ProblemSolvingPolicy)  # asked before hot-spot patrol
    (patrol,) = [p for p in model.policies if isinstance(p, TargetedPatrolPolicy)]
    result = model.run()
    assert patrol.n_visits > 0  # the two combine
    p = pop.problems[0]
    assessed = p.response_min + params["assess_after_weeks"] * 7 * 1440
    events = result.events
    visits = events[(events["kind"] == "patrol_visit") & (events["dwell_min"] == 12.0)]
    assert (visits["edge"] == city.segment_edge[p.segment]).all()
    before = visits[visits["time_min"] < assessed]
    assert len(before) >= 3
    hours = ((before["time_min"] % 1440) // 60).astype(int).to_numpy()
    # an officer ordered in the last peak hour may arrive just after it
    allowed = p.peak_hours | np.roll(p.peak_hours, 1)
    assert allowed[hours].all()
    # ordered every hour; arrivals vary with the walk there
    assert np.median(np.diff(before["time_min"])) == pytest.approx(params["patrol_revisit_min"], abs=10.0)


def test_problem_solving_lowers_crime_at_its_places_after_the_response_starts(city) -> None:
    """Weisburd et al. 2010: a modest, significant effect; Braga et al. 1999: violent places, no displacement.

    A strong dose (a patrol stop every half hour all day on top of clean-up, lighting and place
    managers); the streets within 400 m and the WDQ say whether crime moved or benefits spread.
    """
    runs = run_arms({"baseline": {"baseline": {}}, "pop": {"problem_solving": STRONG}}, range(4), days=7.0,
                    network=city)  # fmt: skip
    effects = compare_arms(runs["pop"], runs["baseline"])
    treated, near, wdq = effects["crimes_treated"], effects["crimes_buffer"], effects["wdq_treated"]
    print(f"problem places since the response: {treated.mean_treatment:.2f} vs {treated.mean_control:.2f} "
          f"({treated.pct_change:+.1f}% [{treated.pct_low:+.1f}, {treated.pct_high:+.1f}]); within 400 m "
          f"{near.pct_change:+.1f}% [{near.pct_low:+.1f}, {near.pct_high:+.1f}]; WDQ {wdq.wdq:.2f}")  # fmt: skip
    assert treated.diff_high < 0.0
    assert np.isfinite(near.mean_diff)


def test_same_seed_same_problems(city) -> None:
    cfg = {
        "problem_solving": {**QUICK, "min_problem_crimes": 1},
        "community_meetings": {"interval_days": 1.0},
    }
    a, b = (run_simulation(small_config(cfg, days=2.5), network=city) for _ in range(2))
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.actions, b.actions)
    assert (a.actions["action"] == "sara_response").any()
