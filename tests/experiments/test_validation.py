"""The validation of a calibrated city: measures against targets, the JSON, and an offline HTML page."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.validation import NOT_MEASURABLE, Validation, validate, weekday_profile, write_validation
from sim.config import ModelConfig
from sim.model import run_simulation
from sim.network import StreetNetwork, load_network
from tests.conftest import DEFAULT_CITY
from tests.experiments.offline import assert_offline

DAYS = 3.0
META = {
    "city": "City of London", "map": "city_of_london.osm.pbf", "incidents": "street.csv",
    "fit_period": ["2024-01-01", "2024-03-31"], "test_period": ["2024-04-01", "2024-04-03"], "n_replications": 3,
    "parameters": [{"name": "crime.base_rate_per_hour", "value": 0.15, "lo": 0.12, "hi": 0.19, "unit": "per hour"}],
    "calibration_hash": "0123456789abcdef", "version": "test",
    "attribution": "Crime data: data.police.uk, Open Government Licence v3.0",
}  # fmt: skip


@pytest.fixture(scope="module")
def net() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


def _crimes(net: StreetNetwork, seed: int) -> pd.DataFrame:
    """Every crime of a short run: the measures do not care which crimes, and a short run records few."""
    cfg = ModelConfig(seed=seed)
    cfg.sim.days = DAYS
    cfg.population.n_residents = 800
    cfg.population.n_offenders = 250
    cfg.police.n_officers = 4
    ev = run_simulation(cfg, network=net).events
    return ev[ev["kind"] == "crime"].reset_index(drop=True)


@pytest.fixture(scope="module")
def runs(net: StreetNetwork) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Three replications of the model, and another seed of it as the 'real' test period."""
    return [_crimes(net, s) for s in (1, 2, 3)], _crimes(net, 10)


@pytest.fixture(scope="module")
def checked(runs, net: StreetNetwork) -> Validation:
    sims, real = runs
    return validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=200)


def _forecasts() -> pd.DataFrame:
    rows = []
    for name, scale in (("model", 1.0), ("prior_counts", 0.9), ("network_kde", 0.8)):
        for cov in (0.01, 0.05, 0.10, 0.20):
            hit = min(1.0, 4 * cov * scale)
            rows.append({"forecaster": name, "coverage": cov, "hit_rate": hit, "hit_rate_lo": hit * 0.8,
                         "hit_rate_hi": hit * 1.1, "pai": hit / cov, "pai_lo": hit / cov * 0.8,
                         "pai_hi": hit / cov * 1.1, "pei": scale * 0.6, "pei_lo": math.nan, "pei_hi": math.nan,
                         "n_weeks": 4})  # fmt: skip
    return pd.DataFrame(rows)


def _status(v: Validation, target: str) -> tuple[str, str]:
    row = v.targets.set_index("target").loc[target]
    return str(row["status"]), str(row["reason"])


def test_another_seed_of_the_model_passes_volume_and_agrees_on_streets(checked: Validation) -> None:
    measures = checked.measures.set_index("measure")
    assert _status(checked, "volume_all")[0] == "pass"
    assert measures.loc["spearman", "sim"] > 0 and measures.loc["spearman", "sim_lo"] > 0
    assert 0.05 < measures.loc["hit_rate", "sim"] <= measures.loc["hit_rate", "real"]  # at most the oracle's
    for key in ("volume_all", "concentration"):
        row = measures.loc[key]
        assert (
            row["sim_lo"] <= row["sim"] <= row["sim_hi"] and row["real_lo"] <= row["real"] <= row["real_hi"]
        )
    assert measures.loc["concentration", "sim"] < measures.loc["concentration", "chance"]
    assert _status(checked, "hit_rate")[0] == NOT_MEASURABLE, "no forecasts were given"
    status, reason = _status(checked, "knox")
    assert status == NOT_MEASURABLE and "twice the Knox time band" in reason, (
        "a 3-day period cannot test 0-3 days"
    )
    assert set(checked.targets["status"]) <= {"pass", "fail", NOT_MEASURABLE}
    assert len(checked.hours) == 24 and checked.hours["real"].sum() == pytest.approx(1.0)
    assert checked.segments["sim_mean"].sum() == pytest.approx(np.mean(checked.info["sim_events"]))


def test_real_crime_all_on_one_segment_fails_concentration_by_name(runs, net: StreetNetwork) -> None:
    sims, real = runs
    piled = real.assign(segment=int(real["segment"].iloc[0]), x=real["x"].iloc[0], y=real["y"].iloc[0])
    v = validate(sims[:2], piled, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=100)
    status, reason = _status(v, "concentration")
    assert status == "fail"
    assert reason.startswith("concentration:") and "outside 0.7-1.4x" in reason
    assert v.measures.set_index("measure").loc["concentration", "real"] == pytest.approx(1 / net.n_segments)
    assert "bootstrap" in v.info["sim_interval"], "two replications: intervals from a bootstrap over events"


def test_the_json_round_trips_without_nan(checked: Validation, net: StreetNetwork, tmp_path: Path) -> None:
    json_path, _ = write_validation(checked, tmp_path, net=net, meta=META, forecasts=_forecasts())

    def no_nan(token: str) -> None:
        raise AssertionError(f"validation.json holds {token}")

    loaded = json.loads(json_path.read_text(), parse_constant=no_nan)
    assert loaded["meta"]["calibration_hash"] == META["calibration_hash"]
    again = Validation.from_dict(loaded)
    assert again.to_dict() == {k: loaded[k] for k in again.to_dict()}
    pd.testing.assert_frame_equal(again.measures, checked.measures, check_dtype=False)
    # the forecasts judge the hit-rate target: the model's 5% hit rate over the best naive one's
    row = again.targets.set_index("target").loc["hit_rate"]
    assert row["status"] == "pass" and row["value"] == pytest.approx(1 / 0.9)
    assert "prior_counts" in row["reason"] and "beats it" in row["reason"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validation.html", "validation.json"], (
        "no temp files left"
    )


def test_the_page_is_offline_and_shows_what_was_fitted(
    checked: Validation, net: StreetNetwork, tmp_path: Path
) -> None:
    _, html_path = write_validation(checked, tmp_path, net=net, meta=META, forecasts=_forecasts())
    page = html_path.read_text()
    tags = assert_offline(page)
    images = [attrs["src"] or "" for tag, attrs in tags if tag == "img"]
    assert len(images) == 1 + 2 + 1, "hour curves, two maps, forecast curves (no weekdays in a 3-day period)"
    assert "the test period is shorter than a week" in page
    for src in images:
        assert base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)[:4] == b"\x89PNG"
    for text in ("2024-01-01 to 2024-03-31", "2024-04-01 to 2024-04-03", "© OpenStreetMap contributors (ODbL)",
                 "Open Government Licence v3.0", "crime.base_rate_per_hour", "0.12 to 0.19", "Hot-spot forecasts",
                 "prior_counts", "PEI (95% CI)", "Knox ratio", "shorter than 6 days"):  # fmt: skip
        assert text in page, text
    assert "<td class='pass'>pass</td>" in page


def test_month_only_dates_leave_knox_and_hours_not_measurable(
    runs, net: StreetNetwork, tmp_path: Path
) -> None:
    sims, real = runs
    monthly = real.assign(time_min=DAYS / 2 * 1440.0, time_known="month")
    v = validate(sims[:1], monthly, net, sim_days=DAYS, real_days=DAYS, timed=False, n_boot=100)
    for target in ("knox", "hour_tv"):
        status, reason = _status(v, target)
        assert status == NOT_MEASURABLE and "no clock times" in reason
    notes = v.measures.set_index("measure")["note"]
    assert notes["weekday_tv"].startswith("not measurable")
    assert v.hours.empty and v.weekdays.empty
    volume = v.measures.set_index("measure").loc["volume_all"]
    assert volume["real_lo"] < volume["real"] < volume["real_hi"], "a Poisson interval without days"
    _, html_path = write_validation(v, tmp_path, net=net, meta=META)
    page = html_path.read_text()
    assert "no clock times" in page and "Hot-spot forecasts" not in page


def _end_to_end(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([f.assign(time_min=f["time_min"] + i * DAYS * 1440.0) for i, f in enumerate(frames)])


def test_knox_is_measured_on_a_period_longer_than_twice_its_band(runs, net: StreetNetwork) -> None:
    sims, real = runs
    long_sim, long_real = _end_to_end([sims[0], real, sims[1]]), _end_to_end([sims[1], sims[2], real])
    days = 3 * DAYS
    v = validate([long_sim], long_real, net, sim_days=days, real_days=days, timed=True, n_boot=50)
    knox = v.measures.set_index("measure").loc["knox"]
    assert np.isfinite(knox["sim"]) and np.isfinite(knox["real"]) and knox["chance"] == 1.0
    assert _status(v, "knox")[0] in ("pass", "fail")
    assert len(v.weekdays) == 7 and v.weekdays["real"].sum() == pytest.approx(1.0), (
        "9 days hold every weekday"
    )


def test_bad_input_is_named(runs, net: StreetNetwork) -> None:
    sims, real = runs
    with pytest.raises(ValueError, match="no real crimes"):
        validate(sims, real.iloc[:0], net, sim_days=DAYS, real_days=DAYS, timed=True)
    with pytest.raises(ValueError, match="no simulated replications"):
        validate([], real, net, sim_days=DAYS, real_days=DAYS, timed=True)
    silent = validate([sims[0].iloc[:0]], real, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=20)
    assert _status(silent, "volume_all")[0] == "fail"
    for target in ("concentration", "hour_tv"):
        status, reason = _status(silent, target)
        assert status == NOT_MEASURABLE and "0 crimes" in reason, target


def test_forecasts_without_the_model_leave_the_hit_rate_target_unmeasured(checked: Validation) -> None:
    naive_only = _forecasts().query("forecaster != 'model'")
    status, reason = _status(checked.with_forecasts(naive_only), "hit_rate")
    assert status == NOT_MEASURABLE and "no forecaster 'model'" in reason


def test_weekday_profile_counts_each_weekday_per_occurrence() -> None:
    one_a_day = np.arange(10) * 1440.0 + 600.0  # ten days from a Monday: Monday to Wednesday occur twice
    assert weekday_profile(one_a_day, 10.0) == pytest.approx(np.full(7, 1 / 7))
    shifted = weekday_profile(np.array([0.0]), 7.0, start_weekday=4)
    assert shifted[4] == 1.0 and shifted.sum() == 1.0
    assert np.isnan(weekday_profile(np.array([0.0]), 3.0)[5]), "a weekday that does not occur"


def test_the_models_expected_crime_ranks_the_streets_when_given(runs, net: StreetNetwork) -> None:
    """With ``sim_risk`` the spatial rows rank by it: the real counts themselves reach the oracle's hit rate."""
    sims, real = runs
    counts = np.bincount(real["segment"].to_numpy(np.int64), minlength=net.n_segments).astype(float)
    v = validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=50, sim_risk=counts)
    hit = v.measures.set_index("measure").loc["hit_rate"]
    assert hit["sim"] == pytest.approx(hit["real"]), "ranked by the real counts: the oracle"
    assert "expected" in hit["label"]
    plain = validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=50)
    assert plain.measures.set_index("measure").loc["hit_rate", "sim"] < hit["sim"]
    again = Validation.from_dict(v.to_dict())
    assert again.segments["sim_expected"].to_numpy() == pytest.approx(counts)
    with pytest.raises(ValueError, match="sim_risk must be"):
        validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, sim_risk=counts[:-1])


def test_the_fit_periods_own_rate_is_shown_beside_the_models(
    runs, net: StreetNetwork, tmp_path: Path
) -> None:
    """A type whose real volume changed between the periods is told apart from the model's own misses."""
    sims, real = runs
    real_rate = real["crime_type"].astype(str).value_counts() / DAYS
    shifted = str(real_rate.index[0])
    rates = {"all": len(real) / DAYS, **{k: float(v) for k, v in real_rate.items()}}
    rates[shifted] *= 2.0  # the fit period saw twice this type's test-period rate
    v = validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=50, fit_rates=rates)
    rows = v.measures.set_index("measure")
    assert rows.loc[f"volume_{shifted}", "naive_ratio"] == pytest.approx(2.0)
    assert rows.loc["volume_all", "naive_ratio"] == pytest.approx(1.0)
    assert np.isnan(rows.loc["concentration", "naive_ratio"])
    reason = v.targets.set_index("target").loc[f"volume_{shifted}", "reason"]
    assert "the real rate itself changed between the periods" in reason or "not measurable" in reason
    assert "within the band" in v.targets.set_index("target").loc["volume_all", "reason"]
    _, html_path = write_validation(v, tmp_path, net=net, meta=META)
    assert "Fit period ÷ real" in html_path.read_text()


def test_real_volumes_count_each_crime_for_the_late_reports_it_stands_for(
    runs, net: StreetNetwork, tmp_path: Path
) -> None:
    """A file cut at its last report date: each real crime counts ``count_weight`` times, in the volumes only."""
    sims, real = runs
    first = validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=50)
    late = real.assign(count_weight=np.where(real["time_min"] >= (DAYS - 2) * 1440, 2.0, 1.0))
    v = validate(sims, late, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=50)
    rows, before = v.measures.set_index("measure"), first.measures.set_index("measure")
    stood = late["count_weight"].sum()
    assert stood > len(real)
    assert rows.loc["volume_all", "real"] == pytest.approx(stood / DAYS)
    assert rows.loc["volume_all", "real_hi"] > before.loc["volume_all", "real_hi"]
    kind = str(late.loc[late["count_weight"] > 1, "crime_type"].iloc[0])
    mine = late[late["crime_type"].astype(str) == kind]
    assert rows.loc[f"volume_{kind}", "real"] == pytest.approx(mine["count_weight"].sum() / DAYS)
    # where crime falls is scored on the crimes in the file
    assert rows.loc["concentration", "real"] == before.loc["concentration", "real"]
    text = "the file holds the crimes reported up to 2021-03-31: 7.0% missing"
    _, html_path = write_validation(v, tmp_path, net=net, meta={**META, "late_reports": {"text": text}})
    assert f"Late reports: {text}." in html_path.read_text()


def test_the_hour_profile_is_the_models_expectation_when_given(runs, net: StreetNetwork) -> None:
    """With ``sim_hours`` the hour target compares the expected profile; the draws' is measured beside it.

    Given the real crimes' own hour counts as every replication's expectation, the profile is the
    real one exactly (total variation 0), whatever the runs drew, which stays in ``hour_tv_drawn``.
    """
    from experiments.sim_vs_real import hour_profile

    sims, real = runs
    exact = hour_profile(real["time_min"].to_numpy(float)) * 100.0
    v = validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=50,
                 sim_hours=[exact, exact * 2, exact * 3])  # fmt: skip
    rows = v.measures.set_index("measure")
    assert rows.loc["hour_tv", "sim"] == pytest.approx(0.0, abs=1e-12)
    assert rows.loc["hour_tv", "chance"] > 0, "the real crimes' sampling alone"
    plain = validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=50)
    drawn = plain.measures.set_index("measure").loc["hour_tv", "sim"]
    assert rows.loc["hour_tv_drawn", "sim"] == pytest.approx(drawn) and drawn > 0.02
    status, reason = _status(v, "hour_tv")
    assert status == "pass" and "expected profile" in reason and f"{drawn:.3f}" in reason
    assert v.hours["sim"].to_numpy() == pytest.approx(exact / 100.0)
    # a flat expectation is as far from the real profile as its total variation says
    flat = np.ones(24)
    v = validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, n_boot=50, sim_hours=[flat] * 3)
    real_profile = hour_profile(real["time_min"].to_numpy(float))
    expected_tv = 0.5 * np.abs(real_profile - 1 / 24).sum()
    assert v.measures.set_index("measure").loc["hour_tv", "sim"] == pytest.approx(expected_tv)
    with pytest.raises(ValueError, match="sim_hours must be 3 rows"):
        validate(sims, real, net, sim_days=DAYS, real_days=DAYS, timed=True, sim_hours=[flat] * 2)


def test_a_value_that_rounds_onto_a_bands_edge_shows_the_digits_that_decide_it() -> None:
    """0.7996 fails 0.80-1.20: shown as 0.80 beside "fail" it would read as a pass."""
    from experiments.validation import _edge_digits, _target_edges

    edges = _target_edges("volume_theft_from_person")
    assert edges == pytest.approx((0.8, 1.2))
    assert f"{0.7996:.{_edge_digits(0.7996, edges)}f}" == "0.7996"
    assert _edge_digits(0.85, edges) == 2 and _edge_digits(0.8, edges) == 2  # clear of the edge, or on it
    assert _edge_digits(0.0946, _target_edges("hour_tv"), 3) == 3 and _edge_digits(0.1004, (0.1,), 3) == 5
    # the targets' reasons (volume, concentration, hours, Knox) format their values the same way
    from experiments.validation import _at_edge

    assert (
        _at_edge(1.2496, _target_edges("knox")) == "1.2496" and _at_edge(1.1, _target_edges("knox")) == "1.10"
    )
    assert _at_edge(0.1004, _target_edges("hour_tv"), 3) == "0.10040"
