"""Tests for sim.metrics: hand-solved examples, chance baselines and near-repeat detection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import metrics as m


def make_events() -> pd.DataFrame:
    """A tiny event table: four crimes (two with calls), police rows around them."""
    rows = [
        # kind, time_min, segment, crime_type, reported, recorded, call_id, officer_id
        ("crime", 0.0, 0, "robbery", True, True, 0, -1),
        ("crime", 5.0, 1, "burglary", True, True, 1, -1),
        ("crime", 21 * 60.0, 1, "robbery", False, False, -1, -1),
        ("crime", 1440 + 60.0, 2, "burglary", True, False, 2, -1),
        ("dispatch", 2.0, 0, "", False, False, 0, 7),
        ("arrival", 10.0, 0, "", False, False, 0, 7),
        ("dispatch", 9.0, 1, "", False, False, 1, 8),
        ("arrival", 25.0, 1, "", False, False, 1, 8),
        ("patrol_visit", 30.0, 2, "", False, False, -1, 8),
    ]
    cols = ["kind", "time_min", "segment", "crime_type", "reported", "recorded", "call_id", "officer_id"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------------------------- counts
def test_select_crimes_uses_kind_when_present_and_all_rows_otherwise() -> None:
    events = make_events()
    assert len(m.select_crimes(events)) == 4
    assert len(m.select_crimes(events, recorded_only=True)) == 2
    assert len(m.select_crimes(events, reported_only=True)) == 3
    real = events[events["kind"] == "crime"].drop(columns="kind")
    assert len(m.select_crimes(real)) == 4


def test_count_crimes_by_type_true_and_recorded() -> None:
    events = make_events()
    true = m.count_crimes(events).set_index("crime_type")["count"]
    assert true.to_dict() == {"burglary": 2, "robbery": 2}
    rec = m.count_crimes(events, recorded_only=True).set_index("crime_type")["count"]
    assert rec.to_dict() == {"burglary": 1, "robbery": 1}
    assert m.count_crimes(events, by=())["count"].tolist() == [4]


def test_count_crimes_by_hour_has_all_24_hours() -> None:
    out = m.count_crimes(make_events(), by=("hour",))
    assert out["hour"].tolist() == list(range(24))
    assert out["count"].sum() == 4
    assert out.set_index("hour").loc[[0, 1, 21], "count"].tolist() == [2, 1, 1]
    shifted = m.count_crimes(make_events(), by=("hour",), start_hour=6.0).set_index("hour")["count"]
    assert shifted[6] == 2 and shifted[3] == 1


def test_count_crimes_day_night_by_rule_and_by_flag() -> None:
    events = make_events()
    rule = m.count_crimes(events, by=("period",), night_hours=(20.0, 6.0)).set_index("period")["count"]
    assert rule.to_dict() == {"day": 0, "night": 4}  # 00:00, 00:05, 21:00 and 01:00 are all night
    flag = np.array([False, True, True, False])
    given = m.count_crimes(events, by=("period",), is_night=flag).set_index("period")["count"]
    assert given.to_dict() == {"day": 2, "night": 2}
    night_mask = m.label_night([0.0, 7 * 60.0, 23 * 60.0], night_hours=(22.0, 5.0))
    assert night_mask.tolist() == [True, False, True]


def test_count_crimes_by_area_includes_empty_areas() -> None:
    area_of_segment = np.array([0, 0, 1, 2])
    out = m.count_crimes(make_events(), by=("area", "crime_type"), area_of_segment=area_of_segment)
    table = out.set_index(["area", "crime_type"])["count"]
    assert table[(0, "robbery")] == 2 and table[(0, "burglary")] == 1 and table[(1, "burglary")] == 1
    assert table[(2, "robbery")] == 0  # area 2 has no crime but is reported
    with pytest.raises(ValueError, match="area_of_segment"):
        m.count_crimes(make_events(), by=("area",))


def test_missing_column_names_column_and_expected_columns() -> None:
    events = make_events().drop(columns="segment")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['segment'\].*expected columns"):
        m.count_crimes_per_segment(events, 3)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['call_id'\]"):
        m.response_time_summary(make_events().drop(columns="call_id"))
    with pytest.raises(ValueError, match="cannot group by"):
        m.count_crimes(make_events(), by=("weather",))


def test_count_crimes_per_segment_counts_zero_segments() -> None:
    assert m.count_crimes_per_segment(make_events(), 5).tolist() == [1, 2, 1, 0, 0]
    with pytest.raises(ValueError, match=r"0\.\.1"):
        m.count_crimes_per_segment(make_events(), 2)


# --------------------------------------------------------------------------------------------- concentration
def test_gini_hand_examples() -> None:
    assert m.gini([0, 0, 0, 10]) == pytest.approx(0.75)  # (n-1)/n: all crime on one of four units
    assert m.gini([3, 3, 3, 3]) == pytest.approx(0.0)
    # Bernasco & Steenbeek's lorenzgini examples: 20 crimes on 10 units and 8 crimes on 10 units
    assert m.gini([10, 8, 2, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(0.78)
    assert m.gini([5, 2, 1, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(0.80)
    assert np.isnan(m.gini([0, 0, 0]))


def test_generalized_gini_corrects_for_sparse_data() -> None:
    assert m.generalized_gini([5, 2, 1, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(0.75)
    dense = [10, 8, 2, 0, 0, 0, 0, 0, 0, 0]
    assert m.generalized_gini(dense) == pytest.approx(m.gini(dense))  # N >= n: unchanged
    assert m.generalized_gini([0, 0, 1, 1]) == pytest.approx(0.0)  # two crimes as spread as possible
    assert m.generalized_gini([0, 0, 0, 2]) == pytest.approx(0.5)


def test_concentration_curve_and_shares_hand_example() -> None:
    counts = [50] + [1] * 50 + [0] * 49  # 100 segments, 100 crimes
    curve = m.concentration_curve(counts)
    assert curve.iloc[0].tolist() == [0.0, 0.0] and curve.iloc[-1].tolist() == [1.0, 1.0]
    assert np.all(np.diff(curve["crime_share"]) >= 0)
    top = m.share_on_top_segments(counts, (0.01, 0.05))
    assert top.tolist() == pytest.approx([0.50, 0.54])
    assert m.segments_holding_share(counts, 0.5) == pytest.approx(0.01)
    assert m.segments_holding_share(counts, 0.6) == pytest.approx(0.11)
    assert m.segments_holding_share([0] * 99 + [5], 0.5) == pytest.approx(0.01)  # zeros count


def clustered_and_random_counts(n_segments: int, n_events: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    length = rng.uniform(20, 200, n_segments)
    random_counts = rng.multinomial(n_events, length / length.sum())
    # Clustered: most crime on a few attractive segments (a heavy-tailed risk surface).
    risk = length * rng.pareto(1.0, n_segments)
    clustered_counts = rng.multinomial(n_events, risk / risk.sum())
    return length, random_counts, clustered_counts


def test_marginal_concentration_separates_clustered_from_random() -> None:
    length, random_counts, clustered_counts = clustered_and_random_counts(3400, 300)
    # Raw concentration is misleading for sparse data: random scatter "passes" the 2-6% band.
    assert m.segments_holding_share(random_counts, 0.5) < 0.06

    def looks_clustered(counts: np.ndarray) -> bool:
        table = m.marginal_concentration(counts, length, rng=1, n_draws=99).set_index("measure")
        row = table.loc["share_on_top_0.05"]
        return bool(row["p_value"] <= 0.01 and row["marginal"] > 0.10)

    assert looks_clustered(clustered_counts)
    assert not looks_clustered(random_counts)
    chance = m.marginal_concentration(random_counts, length, rng=1, n_draws=99).set_index("measure")
    assert abs(chance.loc["generalized_gini", "marginal"]) < 0.05


def test_random_allocation_is_reproducible_and_even_when_dense() -> None:
    length = np.ones(50)
    a = m.random_allocation_concentration(5000, length, rng=3, n_draws=5)
    b = m.random_allocation_concentration(5000, length, rng=3, n_draws=5)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 5 and (a["gini"] < 0.1).all()
    assert set(a.columns) == {
        "gini",
        "generalized_gini",
        "share_on_top_0.01",
        "share_on_top_0.05",
        "segments_holding_0.5",
    }


# --------------------------------------------------------------------------------------------- knox
def poisson_events(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.uniform(0, 4000, n), rng.uniform(0, 4000, n), rng.uniform(0, 365, n)


def near_repeat_events(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, t = poisson_events(rng, 600)
    parent = rng.integers(0, 600, 300)  # half as many follow-ups within 100 m and a week
    xs = np.concatenate([x, x[parent] + rng.uniform(-70, 70, 300)])
    ys = np.concatenate([y, y[parent] + rng.uniform(-70, 70, 300)])
    ts = np.concatenate([t, t[parent] + rng.uniform(0, 7, 300)])
    return xs, ys, ts


BANDS = {"distance_bands_m": (0, 200, 400, 800), "time_bands_days": (0, 14, 28, 56)}


def test_knox_detects_near_repeats() -> None:
    x, y, t = near_repeat_events(np.random.default_rng(5))
    table = m.knox_table(x, y, t, n_permutations=99, rng=0, **BANDS)
    close = table.iloc[0]
    assert (close["distance_max_m"], close["time_max_days"]) == (200, 14)
    assert close["knox_ratio"] > 1.5 and close["p_value"] <= 0.01
    # the excess falls away with distance and with time
    far = table[(table["distance_min_m"] == 400) & (table["time_min_days"] == 28)].iloc[0]
    assert far["knox_ratio"] < close["knox_ratio"] and abs(far["knox_ratio"] - 1) < 0.2


def test_knox_ratio_near_one_for_poisson_process() -> None:
    x, y, t = poisson_events(np.random.default_rng(6), 900)
    table = m.knox_table(x, y, t, n_permutations=99, rng=0, **BANDS)
    well_filled = table[table["expected"] > 100]
    assert len(well_filled) >= 4
    assert np.all(np.abs(well_filled["knox_ratio"] - 1) < 0.2)
    assert table.iloc[0]["p_value"] > 0.01


def test_knox_counts_pairs_by_hand_and_network_distance_hook() -> None:
    x = np.array([0.0, 50.0, 1000.0, 1050.0])
    y = np.zeros(4)
    t = np.array([0.0, 1.0, 0.0, 30.0])
    table = m.knox_table(
        x, y, t, distance_bands_m=(0, 100), time_bands_days=(0, 7, 60), n_permutations=9, rng=0
    )
    assert table["observed"].tolist() == [1, 1]  # (0,1): 50 m, 1 day; (2,3): 50 m, 30 days
    assert np.all((table["p_value"] > 0) & (table["p_value"] <= 1))
    late = m.knox_table(x, y, t, distance_bands_m=(0, 100), time_bands_days=(2, 60), n_permutations=9, rng=0)
    assert late["observed"].tolist() == [1]  # the 1-day pair falls before the first time band
    # A detour network (every path 3x the straight line) moves both pairs out of the 0-100 m band.
    detour = m.knox_table(
        x,
        y,
        t,
        distance_bands_m=(0, 100),
        time_bands_days=(0, 7, 60),
        n_permutations=9,
        rng=0,
        network_distance=lambda i, j: 3 * np.abs(x[i] - x[j]),
    )
    assert detour["observed"].tolist() == [0, 0]
    with pytest.raises(ValueError, match="increasing"):
        m.knox_table(x, y, t, distance_bands_m=(100, 0), n_permutations=9)


# --------------------------------------------------------------------------------------------- journey to crime
def test_journey_to_crime_hand_example() -> None:
    table = m.journey_to_crime([100.0, 200.0, 600.0, np.nan], [0, 500, 1000])
    assert table["count"].tolist() == [2, 1]
    assert table["share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert table["density_per_km"].tolist() == pytest.approx([4 / 3, 2 / 3])


def test_distance_decay_detected_for_exponential_not_uniform() -> None:
    rng = np.random.default_rng(8)
    bins = np.arange(0, 5001, 500)
    decaying = m.fit_distance_decay(rng.exponential(1500, 2000), bins)
    assert decaying.decreasing and decaying.rate_per_km == pytest.approx(1 / 1.5, rel=0.2)
    flat = m.fit_distance_decay(rng.uniform(0, 5000, 2000), bins)
    assert not flat.decreasing


# --------------------------------------------------------------------------------------------- response & time
def test_response_time_summary_hand_example() -> None:
    summary = m.response_time_summary(make_events()).iloc[0]
    assert (summary["n_calls"], summary["n_answered"], summary["n_unanswered"]) == (3, 2, 1)
    assert summary["mean_min"] == pytest.approx(15.0)  # 10 and 20 minutes from crime to arrival
    assert summary["median_min"] == pytest.approx(15.0)
    assert summary["p90_min"] == pytest.approx(19.0)
    assert summary["mean_travel_min"] == pytest.approx(12.0)  # 8 and 16 minutes
    by_type = m.response_time_summary(make_events(), by=("crime_type",)).set_index("crime_type")
    assert by_type.loc["burglary", "n_unanswered"] == 1 and by_type.loc["robbery", "mean_min"] == 10.0


def test_officer_time_budget_long_and_wide() -> None:
    long = pd.DataFrame(
        {
            "officer_id": [0, 0, 1, 1],
            "state": ["patrol", "respond", "patrol", "meeting"],
            "minutes": [90, 30, 60, 60],
        }
    )
    out = m.officer_time_budget(long).set_index("activity")
    assert list(out.index) == list(m.OFFICER_ACTIVITIES)
    assert out["hours"].to_dict() == {
        "patrol": 2.5,
        "dwell": 0.0,
        "respond": 0.5,
        "meeting": 1.0,
        "return": 0.0,
    }
    assert out["share"].sum() == pytest.approx(1.0)
    per_officer = m.officer_time_budget(long, by=("officer_id",))
    assert len(per_officer) == 10 and per_officer.groupby("officer_id")["hours"].sum().tolist() == [2.0, 2.0]
    wide = pd.DataFrame({f"n_{a}": [2, 2, 1] for a in m.OFFICER_ACTIVITIES})
    hours = m.officer_time_budget(wide, step_min=30, column_prefix="n_").set_index("activity")["hours"]
    assert hours.tolist() == [2.5] * 5
    with pytest.raises(ValueError, match="step_min"):
        m.officer_time_budget(wide, column_prefix="n_")


# --------------------------------------------------------------------------------------------- trust & PAI
def test_reporting_rate_overall_and_by_area() -> None:
    overall = m.reporting_rate(make_events()).iloc[0]
    assert overall["reporting_rate"] == pytest.approx(0.75) and overall["recording_rate"] == pytest.approx(
        0.5
    )
    by_area = m.reporting_rate(make_events(), by=("area",), area_of_segment=np.array([0, 0, 1])).set_index(
        "area"
    )
    assert by_area["reporting_rate"].to_dict() == pytest.approx({0: 2 / 3, 1: 1.0})


def test_mean_trust_by_area() -> None:
    out = m.mean_trust_by_area([0.2, 0.4, 0.9], [0, 0, 2], n_areas=4)
    assert out["n_residents"].tolist() == [2, 0, 1, 0]
    assert out["mean_trust"].tolist()[0] == pytest.approx(0.3) and np.isnan(out["mean_trust"][1])


def test_pai_hand_examples() -> None:
    assert m.pai(0.5, 0.05) == pytest.approx(10.0)
    assert np.isnan(m.pai(0.5, 0.0))
    assert m.pai_from_counts(30, 100, 2.0, 40.0) == pytest.approx(6.0)
    counts = np.array([10, 0, 5, 5])
    assert m.pai_for_segments(counts, [True, False, False, False]) == pytest.approx(2.0)
    lengths = np.array([100.0, 100.0, 100.0, 700.0])
    assert m.pai_for_segments(counts, [True, False, False, False], segment_length_m=lengths) == pytest.approx(
        5.0
    )
