"""Community meetings: officer time comes from patrol, attendees trust more, and report more."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents import officer as ofc
from sim.config import ModelConfig
from sim.model import PrecinctModel
from sim.outputs import build_result
from sim.policies import CommunityMeetingsPolicy, TargetedPatrolPolicy
from sim.stats import paired_difference_ci
from tests.policies.effects import compare_arms, run_arm, run_arms

# meetings twice a week, well attended, persuasive and well publicised: a large dose, to see the
# direction of each downstream effect clearly
STRONG = {"attend_prob": 0.5, "interval_days": 3.5, "trust_gain_attendee": 0.2, "trust_gain_neighbours": 0.05}


def _config(policies: dict, *, seed: int = 0, days: float = 7.0) -> ModelConfig:
    cfg = ModelConfig(seed=seed, policies=policies)
    cfg.sim.days = days
    return cfg


def _meetings(model: PrecinctModel) -> CommunityMeetingsPolicy:
    (policy,) = [p for p in model.policies if isinstance(p, CommunityMeetingsPolicy)]
    return policy


def test_venues_are_community_places_of_each_beat_or_its_centre(city) -> None:
    auto = _meetings(PrecinctModel(_config({"community_meetings": {}}), network=city, mesa_agents=False))
    model = PrecinctModel(
        _config({"community_meetings": {"venues": "centroid"}}), network=city, mesa_agents=False
    )
    centroid = _meetings(model)
    beats = model.policing.beats()
    centres, node_beat = beats.centre_node, beats.node_beat
    on_duty = int(model.officers.on_duty().sum())  # 8 on foot and 2 cars in the default city
    assert auto.venue_node.size == centroid.venue_node.size == on_duty  # one beat per officer on duty
    np.testing.assert_array_equal(centroid.venue_node, centres)
    for beat, venue in enumerate(auto.venue_node):
        in_beat = city.poi_community[node_beat[city.poi_community] == beat]
        assert venue in in_beat if in_beat.size else venue == centres[beat]
    chosen = [int(city.node_osm_id[v]) for v in auto.venue_node[:3]]
    config = _meetings(PrecinctModel(_config({"community_meetings": {"venues": "config", "venue_node_ids": chosen}}),
                                     network=city, mesa_agents=False))  # fmt: skip
    np.testing.assert_array_equal(config.venue_node, auto.venue_node[:3])
    # everyone belongs to the nearest site
    assert set(np.unique(config.site_of_resident)) <= {0, 1, 2}


def test_meeting_hours_come_out_of_patrol_and_attendees_trust_more(city) -> None:
    base = run_arm(0, {"baseline": {}}, days=7.0, network=city)
    model = PrecinctModel(_config({"community_meetings": {}}), network=city, mesa_agents=False)
    policy = _meetings(model)
    in_meeting = 0
    while model.running:
        model.step()
        in_meeting = max(in_meeting, int((model.officers.state == ofc.MEETING).sum()))
    m = build_result(model).metrics
    c = policy.config
    beats = int(model.officers.on_duty().sum())
    assert m["meetings_held"] == beats and m["meetings_cancelled"] == 0  # one meeting per beat, weekly
    assert in_meeting >= 1
    hours = m["meetings_held"] * c.officers_per_meeting * (c.travel_lead_min + c.duration_min) / 60.0
    assert m["officer_hours_meeting"] == pytest.approx(hours, abs=0.5)
    assert m["meeting_officer_hours"] == m["officer_hours_meeting"]

    def patrol(x: dict) -> float:
        return x["officer_hours_patrol"] + x["officer_hours_dwell"] + x["officer_hours_return"]

    def calls(x: dict) -> float:
        return x["officer_hours_respond"] + x["officer_hours_attend"]

    # one budget: patrol falls by the meeting hours (up to the calls that happened differently)
    fall = patrol(base.metrics) - patrol(m)
    assert fall == pytest.approx(m["officer_hours_meeting"] + calls(m) - calls(base.metrics), abs=1e-6)
    assert abs(fall - m["officer_hours_meeting"]) < 0.25 * m["officer_hours_meeting"]
    # the same residents (common random numbers) trust more if they attended
    who = policy.attended
    assert who.sum() == m["meeting_attendees"] > 50
    gain = paired_difference_ci(model.residents.trust[who], base.trust_end[who])
    assert gain.diff_low > 0.01
    assert model.residents.attended_meetings[who].min() >= 1


def test_meetings_surface_unreported_crime_that_feeds_the_hot_spot_map(city) -> None:
    params = {"community_meetings": {**STRONG, "attend_prob": 1.0}, "targeted_patrol": {}}
    model = PrecinctModel(_config(params, days=10.0), network=city, mesa_agents=False)
    meetings = _meetings(model)
    (patrol,) = [p for p in model.policies if isinstance(p, TargetedPatrolPolicy)]
    view = model.policing.view
    checked = 0
    while model.running:
        now, intel_before, refreshes = model.clock.now_min, len(view.intelligence()), len(patrol.history)
        model.step()
        if len(patrol.history) > refreshes and intel_before:
            # the map holds the crime recorded so far plus what meetings surfaced (patrol acts first)
            _, times = model.policing.view.recorded_crimes()
            assert patrol.map.n_known == (times <= now).sum() + intel_before
            checked += 1
    assert checked > 0
    intel = view.intelligence()
    assert len(intel) == meetings.n_intelligence > 0
    crimes = [r for r in model.event_log.rows("crime")]
    attendees = set(np.flatnonzero(meetings.attended).tolist())
    streets = set(model.residents.home_segment[meetings.attended].tolist())
    for seg, t in intel:
        (row,) = [r for r in crimes if r["segment"] == seg and r["time_min"] == t]
        assert not row["reported"]
        assert row["victim_id"] in attendees or seg in streets


@pytest.mark.slow
def test_reporting_and_recorded_share_rise_with_trust(city) -> None:
    """Gill et al. 2014: community policing moves trust and legitimacy much more than crime."""
    runs = run_arms({"baseline": {"baseline": {}}, "meetings": {"community_meetings": STRONG}}, range(12),
                    days=14.0, network=city)  # fmt: skip
    effects = compare_arms(runs["meetings"], runs["baseline"])
    for key in ("trust_end_attendees", "mean_trust_end", "reporting_rate", "recorded_share"):
        r = effects[key]
        print(f"{key}: {r.mean_diff:+.4f} [{r.diff_low:+.4f}, {r.diff_high:+.4f}]")
        assert r.diff_low > 0.0, key
    # ... and crime much less: the change in all crime is small (and not necessarily significant)
    total = effects["crimes_total"]
    trust_pct = 100 * effects["mean_trust_end"].mean_diff / effects["mean_trust_end"].mean_control
    assert abs(total.pct_change) < 10.0
    assert trust_pct > 2.0
    patrol, meeting = effects["officer_hours_patrol_dwell"], effects["officer_hours_meeting"]
    assert patrol.mean_diff < 0 and abs(patrol.mean_diff + meeting.mean_diff) < 0.2 * meeting.mean_diff


@pytest.mark.slow
def test_more_meeting_officers_mean_slower_response(city) -> None:
    """One officer-hours budget: officers in meetings are not free for calls."""
    # two beats meeting daily at 14:00 with five officers each: the whole shift (8 on foot, 2 cars)
    # off patrol for two hours
    heavy = {
        "community_meetings": {"interval_days": 1.0, "n_beats": 2, "officers_per_meeting": 5, "hour": 14.0}
    }
    runs = run_arms({"baseline": {"baseline": {}}, "heavy": heavy}, range(10), days=7.0, network=city)
    # from the call, not from the crime: burglaries are found hours later, which would swamp the effect
    response = compare_arms(runs["heavy"], runs["baseline"])["response_from_call_mean_min"]
    print(
        f"call to arrival: {response.mean_diff:+.1f} min [{response.diff_low:+.1f}, {response.diff_high:+.1f}]"
    )
    assert response.diff_low > 0.0
