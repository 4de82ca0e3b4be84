"""A training session: police-only view, decisions checked against the rules, replay and branching."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import DecisionError, ResultsError
from sim.model import PrecinctModel
from sim.network import StreetNetwork
from sim.training import DecisionLog, TrainingSession, replay
from sim.training.session import arm_config
from tests.training.conftest import model_config, short_scenario


@pytest.fixture
def session(city: StreetNetwork) -> TrainingSession:
    s = short_scenario()
    return TrainingSession(s, model_config(s), network=city, trainee="Ada")


def _events(session: TrainingSession) -> pd.DataFrame:
    return session.model.event_log.to_frame(session.network)


def test_decisions_outside_the_rules_are_refused_with_a_reason(session: TrainingSession) -> None:
    n_seg = session.network.n_segments
    session.decide({"kind": "patrol", "segments": [1, 2], "officers": 9})
    cases = [
        (
            {"kind": "patrol", "segments": [3], "officers": 2},
            "officers",
            "10 officers on duty this shift, 9 already",
        ),
        ({"kind": "patrol", "segments": [n_seg + 5]}, "segments", "streets on the map"),
        ({"kind": "patrol", "segments": [3], "hours": [23]}, "hours", "hours of this shift"),
        ({"kind": "meeting", "segment": 3, "hour": 2.0}, "hour", "an hour within this shift"),
        (
            {"kind": "cpted", "segments": list(range(20)), "measure": "surveillance"},
            "segments",
            "CPTED budget",
        ),
        ({"kind": "patrol", "segments": [3], "dwell_min": 0}, "dwell_min", "[1, 120]"),
        ({"kind": "curfew"}, "kind", "patrol"),
    ]
    for decision, field, reason in cases:
        with pytest.raises(DecisionError) as info:
            session.decide(decision)
        assert info.value.field == field and reason in info.value.reason, (decision, info.value)
    assert len(session.pending) == 1  # nothing refused was added


def test_the_briefing_shows_only_what_police_know(session: TrainingSession) -> None:
    first = session.briefing()
    assert first.recorded_total == 0 and first.recorded_history > 0  # last month's records, nothing yet
    # the ranked list starts from the incident file: its top segment is the one with most recorded crime
    hist, _ = session.model.contexts[0].recorded_history()
    counts = np.bincount(session.network.edge_segment[hist], minlength=session.network.n_segments)
    assert first.hotspots[0]["segment"] == int(np.argmax(counts))
    assert [h["rank"] for h in first.hotspots] == list(range(1, len(first.hotspots) + 1))
    assert first.injects == []  # the evening's club night is announced before its shift, not earlier
    session.run_shift()
    after = session.briefing()
    assert len(after.injects) == 1 and "club night" in after.injects[0]
    crimes = _events(session).query("kind == 'crime'")
    assert after.recorded_total == int(crimes["recorded"].sum()) <= len(crimes)
    assert (
        np.isfinite(after.trust_estimate) and after.trust_ci[0] <= after.trust_estimate <= after.trust_ci[1]
    )


def test_dose_counts_stops_and_the_koper_range(session: TrainingSession) -> None:
    top = [h["segment"] for h in session.briefing().hotspots[:3]]
    session.decide({"kind": "patrol", "segments": top, "officers": 3, "dwell_min": 12})
    report = session.run_shift()
    assert report.stops_on_plan > 5 and report.stops_in_koper_range == report.stops_on_plan
    assert (
        set(report.officer_minutes_on_plan) == set(top) and sum(report.officer_minutes_on_plan.values()) > 60
    )
    assert len(report.frames) == session.steps_per_shift and report.frames[0].shape == (10, 2)
    session.decide({"kind": "patrol", "segments": top, "officers": 3, "dwell_min": 5})
    short = session.run_shift()
    assert short.stops_on_plan > 5 and short.stops_in_koper_range == 0


def _play(session: TrainingSession) -> None:
    hot = [h["segment"] for h in session.briefing().hotspots[:4]]
    session.decide({"kind": "patrol", "segments": hot, "officers": 4, "dwell_min": 15, "hours": [8, 9, 10]})
    session.decide({"kind": "meeting", "segment": hot[0], "hour": 11.0, "officers": 1})
    session.run_shift()
    session.decide({"kind": "cpted", "segments": hot[:2], "measure": "lighting"})
    session.decide({"kind": "patrol", "segments": hot[2:], "officers": 2, "dwell_min": 10})
    session.run_shift()


def test_the_same_log_gives_the_same_run(
    session: TrainingSession, city: StreetNetwork, tmp_path: Path
) -> None:
    _play(session)
    played = _events(session)
    log = DecisionLog.load(session.log().save(tmp_path / "log.json"))
    assert log.trainee == "Ada" and log.shifts_run == 2 and len(log.decisions) == 4
    again = replay(log, session.scenario, session.base_config, network=city)
    pd.testing.assert_frame_equal(_events(again), played)
    # the whole plan given up front (as the debrief runs it) acts at the same steps
    cfg = arm_config(session.base_config, session.scenario, "trainee", log.decisions)
    upfront = PrecinctModel(cfg, network=city, mesa_agents=False)
    while upfront.running:
        upfront.step()
    pd.testing.assert_frame_equal(upfront.event_log.to_frame(city), played)
    actions = session.model.ledger.frame()
    assert {"hold_meeting", "cpted_request", "book_cost"} <= set(actions["action"])
    # the decisions changed the run: without them the same seed differs
    plain = replay(
        dataclasses.replace(log, decisions=[]), session.scenario, session.base_config, network=city
    )
    assert not _events(plain).equals(played)


def test_a_branch_replays_earlier_shifts_and_can_then_differ(session: TrainingSession) -> None:
    _play(session)
    branch = session.branch(1)
    assert branch.shift == 1 and [d["shift"] for d in branch.log().decisions] == [0, 0]
    shift0 = _events(session).query(f"step < {session.steps_per_shift}")  # events of shift 0's steps
    pd.testing.assert_frame_equal(_events(branch), shift0.reset_index(drop=True), check_index_type=False)
    branch.decide({"kind": "patrol", "segments": [5, 6], "officers": 8, "dwell_min": 15})
    branch.run_shift()
    assert len(branch.log().decisions) == 3
    assert not _events(branch).equals(_events(session))
    with pytest.raises(DecisionError, match="a shift already reached"):
        session.branch(7)


def test_a_log_that_is_not_one_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(ResultsError, match="not a version-1 decision log"):
        DecisionLog.load(bad)
