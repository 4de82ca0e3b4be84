"""`precinct calibrate` on the bundled city, from incidents the model itself recorded (dated, so every stage runs).

The "real" crime is a simulation's recorded crime written as an incident CSV: the file a user would
give, read through the same reader. One small calibration is shared by the tests (module fixture);
the parameter-recovery test is slow and runs a realistic one.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments import calibrate as cal
from experiments.calibration_runs import TEST_FIRST_SEED, CalibrationDataError, Periods, dense_start
from experiments.exposure import Population
from sim.calibration import (
    BOOST_COLUMN,
    CALIBRATION_FILE,
    CalibrationError,
    load_calibration,
    read_segment_priors,
    relative_risk,
)
from sim.config import ModelConfig
from sim.errors import ConfigError
from sim.model import run_simulation

T0 = pd.Timestamp("2024-01-01")  # a Monday
READ = [
    "incidents.columns.lon=lon", "incidents.columns.lat=lat", "incidents.columns.datetime=datetime",
    "incidents.columns.type=type", "incidents.timezone=Europe/London",
]  # fmt: skip
SMALL = [
    "calibrate.days=3", "calibrate.seeds=1", "calibrate.trials=2", "calibrate.moment_rounds=1",
    "calibrate.test_replications=2", "calibrate.population_seed=0", "calibrate.closure_replications=2",
]  # fmt: skip


def write_incidents(config: ModelConfig, path: Path) -> pd.DataFrame:
    """Simulate ``config`` and write its recorded crimes as an incident CSV (lon, lat, datetime, type)."""
    ev = run_simulation(config).events
    crimes = ev[(ev["kind"] == "crime") & ev["recorded"]]
    when = T0 + pd.to_timedelta(crimes["time_min"].to_numpy(), unit="m")
    table = pd.DataFrame({"lon": crimes["lon"].round(6).to_numpy(), "lat": crimes["lat"].round(6).to_numpy(),
                          "datetime": when.strftime("%Y-%m-%d %H:%M"), "type": crimes["crime_type"].to_numpy()})  # fmt: skip
    table.to_csv(path, index=False)
    return table


def count_runs(mp: pytest.MonkeyPatch) -> list[int]:
    """Make every ``Runner.run`` append the runner's simulations so far to the list returned."""
    log: list[int] = []
    original = cal.Runner.run

    def counting(self: cal.Runner, *args: object, **kwargs: object) -> object:
        out = original(self, *args, **kwargs)  # type: ignore[arg-type]
        log.append(self.sims_run)
        return out

    mp.setattr(cal.Runner, "run", counting)
    return log


@pytest.fixture(scope="module")
def incidents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four weeks of the bundled city's recorded crime as a dated incident file."""
    cfg = ModelConfig(seed=11)
    cfg.sim.days = 28
    path = tmp_path_factory.mktemp("incidents") / "recorded.csv"
    write_incidents(cfg, path)
    return path


@pytest.fixture(scope="module")
def calibrated(incidents: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small calibration (the working folder of the module: outputs/ lands there)."""
    work = tmp_path_factory.mktemp("work")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        cal.main([f"incidents.path={incidents}", *READ, *SMALL, "name=small"])
    return work / "outputs" / "calibration" / "small"


def test_calibration_folder_holds_everything_a_run_needs(calibrated: Path) -> None:
    for name in ("calibration.yaml", "segments.parquet", "validation.json", "validation.html"):
        assert (calibrated / name).is_file(), name
    c = load_calibration(calibrated)
    assert c.data["n_fit"] > 0 and c.data["n_test"] > 0
    assert c.data["fit_end"] < c.data["test_start"]  # the periods do not overlap
    assert set(c.crime) >= {"type_weight", "type_by_hour", "type_by_weekday", "prior_strength", "boost_theta",
                            "return_prob", "outings_per_day"}  # fmt: skip
    names = {p["name"] for p in c.parameters}
    assert {
        "crime.prior_strength",
        "crime.boost_theta",
        "crime.return_prob",
        "crime.outings_per_day",
    } <= names
    for p in c.parameters:  # every fitted value carries its spread, and lies within it
        if p["lo"] is not None:
            assert p["lo"] <= p["value"] <= p["hi"], p
    segs = pd.read_parquet(calibrated / "segments.parquet")
    assert {"osm_way_id", "count", "expected", "length_m"} <= set(segs.columns)
    assert segs["count"].sum() == c.data["n_fit"]  # the fit period's crimes, not the test period's
    doc = json.loads((calibrated / "validation.json").read_text())
    assert {t["target"] for t in doc["targets"]} >= {
        "volume_all",
        "concentration",
        "hour_tv",
        "knox",
        "hit_rate",
    }
    assert c.validation  # the headline scores are in calibration.yaml too


def test_the_calibrated_place_terms_are_the_ones_the_last_closure_round_ran(calibrated: Path) -> None:
    """The last closure round steps the volume and the mix on what it measured; a place step there would go unmeasured."""

    def ran(stage: str) -> pd.DataFrame:
        runs = [re.search(r"trials_([0-9a-f]+)", p.name) for p in (calibrated / "runs" / stage).iterdir()]
        (trial,) = {m.group(1) for m in runs if m}
        return pd.read_parquet(calibrated / "trials" / trial / "segments.parquet")

    rounds = sorted(p.name for p in (calibrated / "runs").glob("closure*"))
    assert len(rounds) >= 2, rounds
    last = ran(rounds[-1])
    final = pd.read_parquet(calibrated / "segments.parquet")
    pd.testing.assert_frame_equal(final[last.columns], last)
    # the round before it stepped them (calibrate.closure_place): what it learnt carries over
    assert not np.allclose(ran(rounds[-2])["expected"], last["expected"])


def test_the_models_two_risks_are_scored_and_only_the_smoothed_one_is_the_target(calibrated: Path) -> None:
    """calibrate.risk=smoothed (the default): ``model`` is the smoothed risk, ``model_runs`` the runs' own beside it."""
    doc = json.loads((calibrated / "validation.json").read_text())
    every = pd.DataFrame(doc["forecasts"])
    at = every[np.isclose(every["coverage"], 0.05)].set_index("forecaster")
    assert {"model", "model_runs", "prior_counts"} <= set(at.index)
    # two rankings: the smoothing changed the risk, so somewhere from 1% to 20% coverage they capture differently
    pei = every.pivot_table(index="coverage", columns="forecaster", values="pei")
    assert not np.allclose(pei["model"], pei["model_runs"])
    (target,) = [t for t in doc["targets"] if t["target"] == "hit_rate"]
    naive = at.drop(index=["model", "model_runs"])
    assert target["value"] == pytest.approx(at.loc["model", "hit_rate"] / naive["hit_rate"].max())
    assert "model_runs" not in target["reason"]
    page = (calibrated / "validation.html").read_text()
    assert "<b>model_runs</b> is the runs' own mean" in page


def test_a_calibration_leaves_this_processs_loggers_on(calibrated: Path) -> None:
    """Its runs' Hydra logging is "disabled", which turns off every logger that exists: not ours after."""
    import logging

    assert calibrated.is_dir()
    assert not logging.getLogger("precinct").disabled


def test_a_calibrated_run_uses_the_fitted_values(calibrated: Path, tmp_path: Path) -> None:
    from experiments.configuration import build_model_config
    from sim.config import config_to_dict

    model, _ = build_model_config({"city": {"calibration": str(calibrated)}, "policy": {"baseline": {}}},
                                  overrides=["city.calibration=x"])  # fmt: skip
    c = load_calibration(calibrated)
    assert model.crime.prior_strength == pytest.approx(c.crime["prior_strength"])
    assert model.crime.type_weight == pytest.approx(c.crime["type_weight"])
    assert model.crime.segment_prior == str(calibrated / "segments.parquet")
    # a value given beside the calibration wins over the fitted one
    given, _ = build_model_config({"city": {"calibration": str(calibrated)}, "crime": {"boost_theta": 0.123},
                                   "policy": {"baseline": {}}},
                                  overrides=["city.calibration=x", "crime.boost_theta=0.123"])  # fmt: skip
    assert given.crime.boost_theta == 0.123
    model.sim.days = 1
    run = run_simulation(model)
    assert (run.events["kind"] == "crime").any()
    assert config_to_dict(model)["city"]["calibration"] == str(calibrated)


def test_calibrated_attractiveness_follows_the_fit_periods_counts(calibrated: Path) -> None:
    """Streets with more recorded crime than the model expected become more attractive, and vice versa."""
    from sim.network import load_network

    net = load_network(ModelConfig().city.path, network_type="walk")
    segs = pd.read_parquet(calibrated / "segments.parquet")
    strength = load_calibration(calibrated).crime["prior_strength"]
    mult = read_segment_priors(
        calibrated / "segments.parquet", net.edge_osm_way_id[net.segment_edge], strength
    ).multiplier
    expected = segs["expected"].to_numpy() * segs["count"].sum() / segs["expected"].sum()
    excess = segs["count"].to_numpy() - expected
    assert mult[excess > 1].mean() > 1.0 > mult[excess < -0.5].mean()


def test_the_calibrated_city_starts_from_the_fit_periods_last_weeks(calibrated: Path) -> None:
    """segments.parquet keeps the boost the fit period's end leaves; a run starts from it (crime.warm_start).

    Risk stays raised near a crime for weeks (Johnson et al. 2007; Bowers, Johnson & Pease 2004), so
    a run that starts where the data end starts with more crime on the streets crime hit last.
    """
    from experiments.configuration import build_model_config
    from sim.model import PrecinctModel

    segs = pd.read_parquet(calibrated / "segments.parquet")
    start = segs[BOOST_COLUMN].to_numpy()
    assert start.min() >= 0.0 and start.max() > 0.0
    meta = json.loads((calibrated / "validation.json").read_text())["meta"]
    assert meta["start"].startswith("the near-repeat boost the fit period's last 28 days")
    assert (
        html.escape(f"Each replication starts from {meta['start']}.")
        in (calibrated / "validation.html").read_text()
    )
    model, _ = build_model_config({"city": {"calibration": str(calibrated)}, "policy": {"baseline": {}}},
                                  overrides=["city.calibration=x"])  # fmt: skip
    model.sim.days = 2
    warm = PrecinctModel(model, mesa_agents=False)
    np.testing.assert_allclose(warm.env.boost, model.crime.boost_theta * start)
    cold_config = replace(model, crime=replace(model.crime, warm_start=False))
    assert not PrecinctModel(cold_config, mesa_agents=False).env.boost.any()
    hot = start >= np.quantile(start, 0.95)  # the streets of the last weeks' crime, and next door
    share = []
    for config in (model, cold_config):  # pooled over four seeds: where a few offenders go varies a lot
        expected = sum(
            PrecinctModel(replace(config, seed=seed), mesa_agents=False).run().segments["crimes_recorded_expected"]
            .to_numpy() for seed in range(4)
        )  # fmt: skip
        share.append(expected[hot].sum() / expected.sum())
    assert share[0] > 1.1 * share[1], share


def test_a_calibration_without_a_starting_boost_runs_cold(calibrated: Path, tmp_path: Path) -> None:
    """A month-only file's calibration (days unknown), or one made before boost_start was kept."""
    from sim.network import load_network

    net = load_network(ModelConfig().city.path, network_type="walk")
    way_ids = net.edge_osm_way_id[net.segment_edge]
    old = tmp_path / "segments.parquet"
    pd.read_parquet(calibrated / "segments.parquet").drop(columns=[BOOST_COLUMN]).to_parquet(old)
    assert read_segment_priors(old, way_ids, 1.0).boost_start is None
    bad = tmp_path / "bad.parquet"
    pd.read_parquet(calibrated / "segments.parquet").assign(**{BOOST_COLUMN: -1.0}).to_parquet(bad)
    with pytest.raises(CalibrationError, match=f"{BOOST_COLUMN} that is not finite and >= 0"):
        read_segment_priors(bad, way_ids, 1.0)


def test_relative_risk_shrinks_towards_the_prior() -> None:
    count = np.array([10.0, 0.0, 0.0, 0.0])
    expected = np.array([1.0, 1.0, 1.0, 7.0])
    weak, strong = relative_risk(count, expected, 0.01), relative_risk(count, expected, 1000.0)
    assert weak[0] > 5 and weak[1] < 0.01  # the counts dominate
    assert strong == pytest.approx(np.ones(4), abs=0.01)  # the place-based prior dominates


def test_a_calibration_of_another_map_or_version_is_refused(calibrated: Path, tmp_path: Path) -> None:
    from experiments.configuration import build_model_config
    from sim.config import repo_root

    oakland = str(repo_root() / "data" / "osm" / "west_oakland.osm.bz2")
    with pytest.raises(CalibrationError, match="made on another map"):
        build_model_config({"city": {"calibration": str(calibrated), "path": oakland}, "policy": {"baseline": {}}},
                           overrides=["city.path=" + oakland])  # fmt: skip
    old = tmp_path / "old"
    shutil.copytree(calibrated, old)
    doc = yaml.safe_load((old / CALIBRATION_FILE).read_text())
    doc["model_version"] = "2025.01.0"
    (old / CALIBRATION_FILE).write_text(yaml.safe_dump(doc))
    with pytest.raises(CalibrationError, match="another version of the model"):
        load_calibration(old)
    with pytest.raises(CalibrationError, match="no such calibration folder"):
        load_calibration(tmp_path / "nope")


def test_the_calibrated_city_keeps_one_population(calibrated: Path) -> None:
    """The fit's runs, the test period's and a run of the calibrated city all build the city of
    calibrate.population_seed; a population.seed given beside the calibration wins."""
    from experiments.configuration import build_model_config

    c = load_calibration(calibrated)
    assert c.population == {"seed": 0}
    for trial in (calibrated / "trials").iterdir():
        assert yaml.safe_load((trial / CALIBRATION_FILE).read_text())["population"] == {"seed": 0}
    configs = list((calibrated / "runs").glob("*/*/config.json"))
    assert configs and {json.loads(p.read_text())["population"]["seed"] for p in configs} == {0}
    assert (
        "share one synthetic population (population.seed=0)" in (calibrated / "validation.html").read_text()
    )
    model, _ = build_model_config({"city": {"calibration": str(calibrated)}, "policy": {"baseline": {}}},
                                  overrides=["city.calibration=x"])  # fmt: skip
    assert model.population.seed == 0
    given, _ = build_model_config({"city": {"calibration": str(calibrated)}, "population": {"seed": 4},
                                   "policy": {"baseline": {}}},
                                  overrides=["city.calibration=x", "population.seed=4"])  # fmt: skip
    assert given.population.seed == 4


def test_a_calibration_made_before_the_population_was_kept_still_loads(
    calibrated: Path, tmp_path: Path
) -> None:
    """Its calibration.yaml has no population: its runs draw their own, as when it was made."""
    from experiments.configuration import build_model_config

    old = tmp_path / "old"
    shutil.copytree(calibrated, old, ignore=shutil.ignore_patterns("runs", "trials"))
    doc = yaml.safe_load((old / CALIBRATION_FILE).read_text())
    del doc["population"]
    (old / CALIBRATION_FILE).write_text(yaml.safe_dump(doc))
    assert load_calibration(old).population == {}
    model, _ = build_model_config({"city": {"calibration": str(old)}, "policy": {"baseline": {}}},
                                  overrides=["city.calibration=x"])  # fmt: skip
    assert model.population.seed is None
    doc["population"] = ["seed", 0]
    (old / CALIBRATION_FILE).write_text(yaml.safe_dump(doc))
    with pytest.raises(CalibrationError, match="'population' that is not a mapping"):
        load_calibration(old)


def test_a_killed_calibration_resumes_without_redoing_finished_runs(calibrated: Path) -> None:
    """Delete what a kill during the test period leaves unfinished, and leave an Optuna trial running.

    In place (run folders are tied to where they were made), leaving the folder as it was.
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    work = calibrated.parents[2]
    folder = calibrated
    before = yaml.safe_load((folder / CALIBRATION_FILE).read_text())
    lost = sorted(p for p in (folder / "runs" / "test").iterdir() if p.is_dir())[
        -1
    ]  # one test-period run was still going
    shutil.rmtree(lost)
    (folder / CALIBRATION_FILE).unlink()
    storage = JournalStorage(JournalFileBackend(str(folder / "optuna.journal")))
    optuna.load_study(study_name="place_terms", storage=storage).ask()  # killed while running
    incidents = before["data"]["incidents"]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        model, settings, _ = cal._compose([f"incidents.path={incidents}", *READ, *SMALL, "name=small"])
        runner_log = count_runs(mp)
        cal.calibrate(model, settings, cal.run_overrides([*READ, *SMALL]), Path("outputs/calibration/small"))
    assert runner_log[-1] == 1  # only the lost run was simulated again
    after = yaml.safe_load((folder / CALIBRATION_FILE).read_text())
    assert after["crime"] == before["crime"]
    assert after["validation"] == before["validation"]


def test_the_closure_and_the_test_run_populations_no_other_stage_ran(calibrated: Path) -> None:
    """The moment rounds and the trials run seeds 0 .. seeds - 1; the closure and the test others, apart."""

    def seeds(tag: str) -> set[int]:
        return {int(p.name.rpartition("seed=")[2].split(",")[0]) for p in (calibrated / "runs" / tag).iterdir()
                if p.is_dir() and "seed=" in p.name}  # fmt: skip

    assert seeds("pilot") == seeds("place") == seeds("moments0") == seeds("final0") == {0}  # SMALL: 1 seed
    assert seeds("test") == {TEST_FIRST_SEED, TEST_FIRST_SEED + 1}  # populations no fit ran
    # the closure runs populations no other stage ran, for as long as the test period
    assert seeds("closure0") == {cal.CLOSURE_FIRST_SEED, cal.CLOSURE_FIRST_SEED + 1}

    def days(tag: str) -> set[str]:
        return {p.name.rpartition("sim.days=")[2].split(",")[0] for p in (calibrated / "runs" / tag).iterdir()
                if p.is_dir()}  # fmt: skip

    assert days("closure0") == days("test") == {"7"}  # the last quarter of 28 days


def test_too_few_incidents_says_how_many_are_needed(
    incidents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        CalibrationDataError, match=r"too few incidents to fit: .* at least 100,000 are needed"
    ):
        cal.main([f"incidents.path={incidents}", *READ, *SMALL, "calibrate.min_incidents=100000"])


def test_fit_end_outside_the_data_is_refused(
    incidents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        CalibrationDataError, match=r"calibrate.fit_end=2030-01-01 is outside the data .* 2024-01-01 to"
    ):
        cal.main([f"incidents.path={incidents}", *READ, *SMALL, "calibrate.fit_end=2030-01-01"])


def test_a_test_period_without_events_is_refused(
    incidents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = pd.read_csv(incidents)
    cut = tmp_path / "cut.csv"
    # after the cut only a crime of a type the model does not simulate: no modelled crime to test on
    last = table.iloc[[-1]].assign(datetime="2024-01-25 12:00", type="drug possession")
    pd.concat([table[table["datetime"] < "2024-01-20"], last]).to_csv(cut, index=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CalibrationDataError, match=r"the test period from 2024-01-2.* has no incidents"):
        cal.main([f"incidents.path={cut}", *READ, *SMALL, "calibrate.fit_end=2024-01-20"])


def test_bad_calibrate_settings_name_the_key(
    incidents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"calibrate\.seeds"):
        cal.main([f"incidents.path={incidents}", *READ, "calibrate.seeds=0"])
    with pytest.raises(ConfigError, match=r"calibrate\.fit_end"):
        cal.main([f"incidents.path={incidents}", *READ, "calibrate.fit_end=tuesday"])
    with pytest.raises(ConfigError, match=r"incidents\.path"):
        cal.main(SMALL)
    with pytest.raises(ConfigError, match=r"calibrate\.prior_strength_by='deviance'"):
        cal.main([f"incidents.path={incidents}", *READ, "calibrate.prior_strength_by=deviance"])
    with pytest.raises(ConfigError, match=r"calibrate\.place_gains='falling'"):
        cal.main([f"incidents.path={incidents}", *READ, "calibrate.place_gains=falling"])
    with pytest.raises(
        ConfigError, match=r"calibrate\.exposure='drawn'.*'sampled' or 'expected' or 'blend' or 'pooled'"
    ):
        cal.main([f"incidents.path={incidents}", *READ, "calibrate.exposure=drawn"])
    with pytest.raises(ConfigError, match=r"calibrate\.risk='mean'.*'smoothed' or 'runs'"):
        cal.main([f"incidents.path={incidents}", *READ, "calibrate.risk=mean"])
    with pytest.raises(ConfigError, match=r"calibrate\.closure_replications=-1"):
        cal.main([f"incidents.path={incidents}", *READ, "calibrate.closure_replications=-1"])
    with pytest.raises(ConfigError, match=r"calibrate\.population_seed=-1"):
        cal.main([f"incidents.path={incidents}", *READ, "calibrate.population_seed=-1"])
    # the population is the calibration's to choose, and to record
    with pytest.raises(ConfigError, match=r"population\.seed=3 .*calibrate\.population_seed"):
        cal.main([f"incidents.path={incidents}", *READ, "population.seed=3"])


def test_the_dense_period_leaves_out_a_tail_of_late_reports() -> None:
    days = (
        ["2019-06-01"] * 2
        + ["2020-11-03"] * 3
        + [f"2021-01-{d:02d}" for d in range(1, 29) for _ in range(40)]
    )
    assert dense_start(pd.Series(pd.to_datetime(days))) == pd.Timestamp("2021-01-01")


@pytest.mark.slow
def test_parameters_come_back_from_a_city_with_known_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recovery (issue 12): volume within 15% and the hour profile within total variation 0.05.

    Measured 2026-12-01 06:40 UTC (the defaults: pooled exposure, two closure rounds, the fit run cold;
    8 minutes on 2 cores beside a calibration): volume 0.869x the truth's, hour TV 0.045 of the
    expected profiles (0.087 of the drawn crimes; the truth against itself 0.074). Before the closure
    rounds (2026-11-30) it was 1.017x and 0.044; with the closure runs warm, 0.859x and 0.053 (failed);
    with three closure rounds, cold, 0.917x and 0.049. It was an expected failure before the mix's
    expectation was put on the draws' scale (hour TV 0.053).

    The truth differs from the defaults in volume (fewer outings), mix (burglary x3, violence / 3)
    and hours (violence moved to the afternoon); the calibration starts from the defaults.
    """
    from experiments.sim_vs_real import hour_profile, total_variation

    truth = ModelConfig(seed=101)
    truth.sim.days = 120
    truth.crime.outings_per_day = 2.5
    truth.crime.type_weight = {**truth.crime.type_weight, "burglary": truth.crime.type_weight["burglary"] * 3,
                               "violence": truth.crime.type_weight["violence"] / 3}  # fmt: skip
    truth.crime.type_by_hour = {**truth.crime.type_by_hour, "violence": [1.0] * 12 + [3.0] * 6 + [0.5] * 6}
    path = tmp_path / "truth.csv"
    write_incidents(truth, path)
    monkeypatch.chdir(tmp_path)
    # volume and hours are moment-matched; two trials of the place terms are enough here
    cal.main([f"incidents.path={path}", *READ, "calibrate.days=28", "calibrate.trials=2", "name=recovery",
              "calibrate.test_replications=2"])  # fmt: skip
    fitted, _ = __import__("experiments.configuration", fromlist=["build_model_config"]).build_model_config(
        {"city": {"calibration": str(tmp_path / "outputs/calibration/recovery")}, "policy": {"baseline": {}}},
        overrides=["city.calibration=x"],
    )
    # the truth's runs below start with no boost, as every fitting run did: the parameters are compared
    # from the same start (the calibrated city's own runs start from the fit period's end)
    fitted.crime.warm_start = False
    sims, real, again, expected = [], [], [], {"fitted": np.zeros(24), "truth": np.zeros(24)}
    for seed in range(3):  # fresh seeds: neither the file's nor the fit's
        for cfg, out, base, who in (
            (fitted, sims, 500, "fitted"),
            (truth, real, 500, "truth"),
            (truth, again, 600, ""),
        ):
            c = ModelConfig(**{**cfg.__dict__, "seed": base + seed})
            c.sim.days = 60
            run = run_simulation(c)
            ev = run.events
            out.append(ev[(ev["kind"] == "crime") & ev["recorded"]])
            if who:
                by_hour = run.timeseries.groupby("hour_of_day")["crimes_recorded_expected"].sum()
                expected[who] += by_hour.reindex(range(24), fill_value=0.0).to_numpy()
    s, r, r2 = pd.concat(sims), pd.concat(real), pd.concat(again)

    def tv_from(x: pd.DataFrame, y: pd.DataFrame) -> float:
        return total_variation(hour_profile(x["time_min"].to_numpy()), hour_profile(y["time_min"].to_numpy()))

    # The hour profile is the model's expected recorded crime per hour of day (no draw noise): two
    # draws of about 1,500 crimes from one profile differ by a total variation near 0.07, more than the
    # target, as the truth against itself (other seeds) shows; both are printed beside it
    tv = total_variation(
        expected["fitted"] / expected["fitted"].sum(), expected["truth"] / expected["truth"].sum()
    )
    print(f"recovery: volume {len(s) / len(r):.3f} of the truth's; hour TV {tv:.3f} of the expected profiles, "
          f"{tv_from(s, r):.3f} of the drawn crimes (truth vs truth {tv_from(r2, r):.3f})")  # fmt: skip
    assert len(s) / len(r) == pytest.approx(1.0, abs=0.15)
    assert tv <= 0.05


def test_a_sweep_on_the_calibrated_city_and_its_report_say_so(calibrated: Path) -> None:
    """`precinct run -m city.calibration=DIR` then `precinct compare`: the report names the data and the scores."""
    from experiments.cli import main as cli_main
    from experiments.compare import compare_runs

    work = calibrated.parents[2]
    sweep = work / "outputs" / "sweeps" / "on_calibrated"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        assert cli_main(["run", "-m", f"city.calibration={calibrated}", "policy=baseline,targeted_patrol", "seed=0,1",
                         "sim.days=1", f"hydra.sweep.dir={sweep}"]) == 0  # fmt: skip
    page = compare_runs(sweep).read_text()
    c = load_calibration(calibrated)
    assert "Calibrated city:" in page
    assert f"{c.data['fit_start']} to {c.data['fit_end']}" in page
    assert "Test-period scores" in page and "total variation" in page


def test_shrinkage_strength_follows_how_uneven_the_streets_really_are() -> None:
    """Streets far more uneven than the prior expects get a small k (trust the counts), even ones a large k."""
    rng = np.random.default_rng(0)
    expected = rng.gamma(1.0, 1.0, 5000)
    uneven = expected * rng.gamma(0.5, 2.0, 5000)  # each street's own risk, unseen by the prior
    k_uneven, lo, hi = cal.fit_prior_strength(rng.poisson(uneven * 0.3), rng.poisson(uneven * 0.1), expected)
    k_even, _, _ = cal.fit_prior_strength(rng.poisson(expected * 0.3), rng.poisson(expected * 0.1), expected)
    assert lo <= k_uneven <= hi
    assert k_uneven < 2.0 < k_even


def test_shrinkage_strength_by_hit_rate_flags_the_holdouts_hot_streets() -> None:
    """Fitted on the holdout's hit rate at 5% of length, k captures at least what the likelihood's k does
    there, and is the largest k that captures that much."""
    from sim.forecast import count_captured

    rng = np.random.default_rng(1)
    length = rng.uniform(20.0, 200.0, 5000)
    expected = rng.gamma(1.0, 1.0, 5000)
    risk = expected * rng.gamma(0.3, 1 / 0.3, 5000)
    train, holdout = rng.poisson(risk * 0.3), rng.poisson(risk * 0.1)

    def captured(k: float) -> float:
        forecast = expected * relative_risk(train, expected, k)
        return float(count_captured(forecast, holdout, length, [0.05])[0])

    k_hit, lo, hi = cal.fit_prior_strength(train, holdout, expected, length_m=length)
    k_lik, _, _ = cal.fit_prior_strength(train, holdout, expected)
    assert lo <= k_hit <= hi
    assert captured(k_hit) >= captured(k_lik)
    assert captured(k_hit * 10**0.1) < captured(k_hit) or k_hit == 1000.0  # the largest k of the best


def test_month_only_files_split_on_whole_months() -> None:
    """police.uk dates stand for their month: the periods start and end on month boundaries."""
    from experiments.calibration_runs import CalibrateSettings, split_periods

    months = pd.date_range("2023-05-01", "2024-12-01", freq="MS") + pd.Timedelta(
        days=14
    )  # mid-month stand-ins
    when = np.repeat(months, 30).tz_localize("Europe/London")
    events = pd.DataFrame(
        {"kind": "crime", "crime_type": "violence", "datetime": when, "time_known": "month"}
    )
    p = split_periods(events, CalibrateSettings(), "file.csv")
    assert p.fit_start == pd.Timestamp("2023-05-01") and p.test_end == pd.Timestamp("2025-01-01")
    assert p.fit_end == pd.Timestamp("2024-08-01")  # the last quarter of 20 months, from a month's start
    assert not p.timed and p.fit_days == (p.fit_end - p.fit_start).days


def test_late_reports_are_counted_in_by_the_fit_periods_delays() -> None:
    """A file cut at its last report date: the test period's crimes count for the late reports it lacks.

    60 days of offences, a third of them reported 1-20 days late, the file cut at day 59. The delays
    are fitted on the fit period's offences only: the test period's own report dates change nothing.
    """
    from experiments.calibration_runs import CalibrateSettings, split_periods, type_counts, weighted_count

    rng = np.random.default_rng(3)
    n = 60 * 120
    day = rng.integers(0, 60, n)
    lag = np.where(rng.random(n) < 2 / 3, 0, rng.integers(1, 21, n))
    kinds = np.where(rng.random(n) < 0.5, "burglary", "violence")
    lag[kinds == "violence"] = 0  # reported at once
    kept = day + lag <= 59
    start = pd.Timestamp("2021-01-01", tz="America/Los_Angeles")
    minutes = day[kept] * 1440.0 + 600.0
    events = pd.DataFrame({"kind": "crime", "crime_type": kinds[kept], "time_known": "minute",
                           "datetime": start + pd.to_timedelta(minutes, unit="min"), "time_min": minutes,
                           "reported_min": (day + lag)[kept] * 1440.0, "segment": 0, "x": 0.0, "y": 0.0})  # fmt: skip
    settings = CalibrateSettings(fit_end="2021-02-15")
    p = split_periods(events, settings, "file.csv")
    assert p.delay is not None and p.delay.through_day == 59
    in_test = day >= 45
    per_type = type_counts(p.test)
    for kind in ("burglary", "violence"):
        truth = (in_test & (kinds == kind)).sum()
        held = (in_test & kept & (kinds == kind)).sum()
        assert per_type[kind] == pytest.approx(truth, rel=0.04), kind
        if kind == "burglary":
            assert held < 0.85 * truth  # what the file holds misses the late reports
    assert per_type["violence"] == (in_test & kept & (kinds == "violence")).sum()  # nothing to correct
    assert weighted_count(p.fit) == pytest.approx((~in_test).sum(), rel=0.02)
    # the test period's own report dates are not read
    moved = events.assign(
        reported_min=np.where(events["time_min"] >= 45 * 1440, 59 * 1440.0, events["reported_min"])
    )
    again = split_periods(moved, settings, "file.csv")
    assert again.delay is not None
    np.testing.assert_array_equal(again.delay.curve("burglary"), p.delay.curve("burglary"))
    # without report dates nothing is weighted
    plain = split_periods(events.drop(columns="reported_min"), settings, "file.csv")
    assert plain.delay is None and "count_weight" not in plain.test.columns


def test_the_volume_step_counts_each_real_crime_for_the_crimes_it_stands_for() -> None:
    from experiments.calibration_runs import CalibrateSettings

    p = _half_and_half_fortnight()
    drawn = pd.DataFrame({"time_min": 180.0, "crime_type": ["burglary"] * 300 + ["violence"] * 300,
                          "hour": 3, "weekday": 0})  # fmt: skip
    settings = CalibrateSettings(seeds=2, days=14)
    _, plain = cal.moment_update(_flat_state(), [drawn], cal.Fit(None, p, settings, None, {}, np.ones(1)))  # type: ignore[arg-type]
    p.fit = p.fit.assign(count_weight=np.where(p.fit["crime_type"] == "burglary", 1.5, 1.0))
    state = _flat_state()
    out, weighted = cal.moment_update(state, [drawn], cal.Fit(None, p, settings, None, {}, np.ones(1)))  # type: ignore[arg-type]
    assert weighted["real_per_day"] == pytest.approx(1.25 * plain["real_per_day"])
    # burglary's share rises from 1/2 to 0.6: its weight rises against violence's
    assert (
        out.type_weight["burglary"] / out.type_weight["violence"]
        > state.type_weight["burglary"] / state.type_weight["violence"]
    )


def test_month_only_files_are_forecast_month_by_month() -> None:
    """police.uk's mid-month dates: the hot-spot forecasts step by calendar month, without near repeats."""
    from experiments.calibration_report import score_forecasts
    from experiments.calibration_runs import CalibrateSettings, split_periods
    from sim.network import load_network
    from tests.conftest import DEFAULT_CITY

    net = load_network(DEFAULT_CITY, network_type="walk")
    rng = np.random.default_rng(5)
    hot = rng.choice(net.n_segments, 30, replace=False)  # half of each month's crime on 30 streets
    months = pd.date_range("2023-05-01", "2024-12-01", freq="MS") + pd.Timedelta(days=14)
    segs = np.concatenate(
        [np.concatenate([rng.choice(hot, 40), rng.choice(net.n_segments, 40)]) for _ in months]
    )
    xy = net.edge_midpoint_xy[net.segment_edge[segs]]
    events = pd.DataFrame({"kind": "crime", "crime_type": "violence", "time_known": "month",
                           "datetime": np.repeat(months, 80).tz_localize("Europe/London"),
                           "segment": segs, "x": xy[:, 0], "y": xy[:, 1]})  # fmt: skip
    p = split_periods(events, CalibrateSettings(), "file.csv")
    on_hot = np.zeros(net.n_segments)
    on_hot[hot] = 1.0
    scores = score_forecasts(net, p, on_hot * net.segment_length_m, days=56.0)
    assert scores is not None and set(scores["period"]) == {"month"}
    assert set(scores["n_weeks"]) == {5}  # August to December 2024, whatever the simulated days
    assert set(scores["forecaster"]) == {"prior_counts", "grid_kde", "network_kde", "model"}
    at5 = scores[np.isclose(scores["coverage"], 0.05)].set_index("forecaster")["hit_rate"]
    assert at5["model"] >= 0.45  # flags the hot streets: about half of each month's crime
    assert 0 < at5["prior_counts"] <= 1


@pytest.mark.slow
def test_a_plan_on_the_calibrated_city_runs_every_mix_on_it(calibrated: Path, tmp_path: Path) -> None:
    """`precinct plan city.calibration=DIR`: the reference and every mix tried run on the calibrated city."""
    from experiments.cli import main as cli_main

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        assert cli_main(["plan", "budget.officer_hours_per_week=1000", "budget.money=100000", "plan.trials=1",
                         "plan.seeds=2", "plan.days=1", f"city.calibration={calibrated}", "name=cal"]) == 0  # fmt: skip
    runs = tmp_path / "outputs" / "plans" / "cal" / "runs"
    configs = sorted(runs.glob("*/*/config.json"))
    assert len(configs) >= 2 and (runs / "reference").is_dir()
    fitted = load_calibration(calibrated).crime
    for path in configs:
        config = json.loads(path.read_text())
        assert config["city"]["calibration"] == str(calibrated), path
        assert config["crime"]["segment_prior"] == str(calibrated / "segments.parquet"), path
        assert config["crime"]["prior_strength"] == pytest.approx(fitted["prior_strength"]), path


def test_the_volume_step_pools_the_rounds_elasticity() -> None:
    """Volume = outings ** 2 (self-exciting offending): the pooled slope finds 2, where a bound of 1.5 overshot."""
    x = np.log([4.0, 3.1, 3.4, 3.3])
    noise = np.array([0.02, -0.03, 0.01, 0.0])
    history = [("moments", a, b) for a, b in zip(x, 2.0 * x + 0.5 + noise, strict=True)]
    assert cal.pooled_elasticity(history) == pytest.approx(2.0, abs=0.2)
    assert cal.pooled_elasticity(history[:1]) == 1.0, "one round: the prior"
    assert cal.pooled_elasticity(history[:1], prior=0.6) == pytest.approx(0.6)
    # rounds 1% apart in outings whose volumes differ by 5% (noise): alone a slope of 5, with the prior about 1
    assert cal.pooled_elasticity([("a", 1.0, 2.0), ("a", 1.01, 2.05)]) == pytest.approx(1.0, abs=0.1)
    assert cal.pooled_elasticity([("a", 0.0, 0.0), ("a", 1.0, 10.0)]) == 3.0, "bounded"
    # a secant step on it lands near the target in one round from 11.6 to 8.4 a day
    step = math.log(8.4 / 11.6) / cal.pooled_elasticity(history)
    assert math.exp(2.0 * step) * 11.6 == pytest.approx(8.4, rel=0.1)


def test_the_elasticity_is_the_slope_within_stages_carried_by_the_rounds_that_moved_the_outings() -> None:
    """Portland's rounds (2026-12-01): a first stage far from the answer, then rounds near it that mostly measure noise.

    Outings per day and simulated recorded crimes per day of the first and the last moment stage of a
    calibration whose closure, stepping on the last stage's slope alone (0.3, the bound), then swung
    the volume to 51.1 and 23.1 a day for a target of 39.7.
    """
    first = [("moments", math.log(o), math.log(v)) for o, v in ((4.0, 154.5), (1.35, 72.0), (0.686, 40.8))]
    final = [("final", math.log(o), math.log(v)) for o, v in ((0.668, 38.2), (0.696, 39.9), (0.6945, 36.6))]
    assert cal.pooled_elasticity(final, weight=0.0) == 0.3  # the last stage alone, no prior: its noise
    assert cal.pooled_elasticity(first + final) == pytest.approx(0.75, abs=0.02)
    # a last stage 30% higher (other place terms, longer runs) moves its own level, not the slope;
    # put on the first stage's level, it would flatten the slope
    higher = [(stage, x, y + math.log(1.3) * (stage == "final")) for stage, x, y in first + final]
    assert cal.pooled_elasticity(higher) == pytest.approx(cal.pooled_elasticity(first + final))
    assert cal.pooled_elasticity([("all", x, y) for _, x, y in higher]) < 0.7


def test_the_place_step_moves_the_models_expected_crime_towards_the_shrunk_counts(
    incidents: Path, calibrated: Path
) -> None:
    """A real small run: the uncalibrated model, then the model with the place terms of one step.

    Both are scored against the same target, the shrunk fit-period count of each street given the
    model's own exposure (``place_distance``, total variation over segments), and the holdout's
    crimes on the top 5% of street length rise. In the fixture's working folder (the launcher's
    workers keep the folder they started in).
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(calibrated.parents[2])
        model, settings, _ = cal._compose([f"incidents.path={incidents}", *READ, *SMALL, "name=place"])
        fit = cal.prepare_fit(model, settings, cal.run_overrides([*READ, *SMALL]), Path("outputs/place"))
        state = cal.pilot_round(cal.FitState.from_config(model), fit)
        k = state.prior_strength
        pilot = fit.segments(fit.periods.train, pilot=True)
        before = fit.runner.expected_recorded(
            [cal.trial_folder(fit.runner.out / "trials", cal.FitState.from_config(model), pilot, fit.city,
                               fit.population)],
            settings.seeds, settings.days, "pilot",
        )  # fmt: skip
        x0 = np.mean(next(iter(before.values())), axis=0)
        segs = fit.segments(fit.periods.train)
        folder = cal.trial_folder(fit.runner.out / "trials", state, segs, fit.city, fit.population)
        fit.runner.run([folder], settings.seeds, settings.days, "step")
        x1 = np.mean(
            fit.runner.expected_recorded([folder], settings.seeds, settings.days, "step")[folder], axis=0
        )
    d0, d1 = cal.place_distance(x0, segs, k), cal.place_distance(x1, segs, k)
    # most of what is left is on streets no offender of these short runs reached (85% of them)
    assert d1 < 0.9 * d0, (d0, d1)
    holdout, length = fit.counts(fit.periods.holdout), fit.net.segment_length_m
    assert cal._pei(x1, holdout, length, 0.05) > 1.5 * cal._pei(x0, holdout, length, 0.05)
    # streets the pilot never put an offender on, and where no offender of these populations would
    # search (calibrate.exposure=pooled, the default), keep their static place-based share
    share, _ = fit.search_parts(
        cal.place_multiplier(pilot, 1.0), cal.FitState.from_config(model), range(settings.seeds)
    )
    unseen = (x0 == 0) & (share == 0)
    assert unseen.any()
    assert fit.exposure[unseen] == pytest.approx(fit.static_share[unseen])
    # and those the populations would search but the pilot's offenders did not get some of the
    # expected exposure instead of nothing
    assert np.all(fit.exposure[(x0 == 0) & (share > 0)] > 0)
    assert segs["count"].sum() == len(fit.periods.train)


def test_the_place_step_divides_out_the_multiplier_and_keeps_unseen_streets() -> None:
    """By hand on four streets: the third saw no offender (say, gated), so it keeps its expectation."""
    static = np.array([0.1, 0.2, 0.3, 0.4])
    fit = cal.Fit(None, None, None, None, {}, static)  # type: ignore[arg-type]  # only the shares are used
    none = pd.DataFrame({"count": np.zeros(4), "expected": np.zeros(4)})
    fit.learn_exposure([np.array([1.0, 2.0, 0.0, 1.0]), np.array([3.0, 2.0, 0.0, 1.0])], none, 1.0)
    # mean (2, 2, 0, 1), multiplier 1: the seen streets share the static prior's 0.7 as 2:2:1
    assert fit.exposure == pytest.approx([0.28, 0.28, 0.3, 0.14])
    segs = pd.DataFrame({"count": [6.0, 0.0, 3.0, 1.0], "expected": fit.exposure})
    mult = cal.place_multiplier(segs, 0.5)
    x = (
        mult * np.array([0.28, 0.28, 0.0, 0.14]) * np.array([2.0, 1.0, 1.0, 1.0])
    )  # street 0 drew more offenders
    fit.learn_exposure([x], segs, 0.5, gain=0.5)
    own = np.array([0.56, 0.28, 0.14]) * 0.7 / 0.98  # exposure, the unseen street's share kept
    step = np.array([0.28, 0.28, 0.14]) ** 0.5 * own**0.5
    want = np.array([step[0], step[1], 0.3, step[2]])
    assert fit.exposure == pytest.approx(want / want.sum())
    # a round with no exposure anywhere teaches nothing
    kept = fit.exposure.copy()
    fit.learn_exposure([np.zeros(4)], segs, 0.5, gain=0.5)
    assert np.array_equal(fit.exposure, kept)


def test_the_expected_exposure_replaces_the_runs_own_and_the_blend_shrinks_towards_it() -> None:
    """By hand on four streets and two offenders (calibrate.exposure=expected and blend).

    Offender 0 knows streets 0 and 1 equally, offender 1 streets 1 and 2; street 3 is known to no
    one. With attraction power 1 and static attractiveness (1, 1, 2, 1) the search shares are
    (0.5, 0.5 + 1/3, 2/3, 0) and the smooth exposure share x static attractiveness (0.5, 5/6, 4/3, 0).
    """
    static = np.array([0.25, 0.25, 0.25, 0.25])
    pop = Population(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2]), np.ones(4), np.array([0, 2]),
                     np.array([1.0, 1.0, 2.0, 1.0]))  # fmt: skip
    none = pd.DataFrame({"count": np.zeros(4), "expected": np.zeros(4)})
    runs = [np.array([3.0, 0.0, 1.0, 0.5])]  # what one fitting run happened to see
    state = cal.FitState.from_config(ModelConfig())
    smooth = np.array([0.5, 5.0 / 6.0, 4.0 / 3.0, 0.0])

    def fitted(exposure: str) -> np.ndarray:
        settings = cal.CalibrateSettings(exposure=exposure, seeds=1, test_replications=1, days=3.0)
        fit = cal.Fit(None, None, settings, None, {}, static, model=ModelConfig())  # type: ignore[arg-type]
        fit.populations[0] = fit.populations[TEST_FIRST_SEED] = pop  # the fitting run's, the test run's
        fit.learn_exposure(runs, none, 1.0, state=state)
        return fit.exposure

    # expected: the runs are not read; street 3, searched by no one, keeps its static share
    want = np.append(smooth[:3] / smooth[:3].sum() * 0.75, 0.25)
    assert fitted("expected") == pytest.approx(want)
    # blend: per street, visits x (runs' exposure + 1 x prior per search) / (visits + 1)
    fit = cal.Fit(None, None, cal.CalibrateSettings(days=3.0), None, {}, static, model=ModelConfig())  # type: ignore[arg-type]
    visits = np.array([0.5, 5.0 / 6.0, 2.0 / 3.0, 0.0]) * fit.searches_per_offender(state)
    prior = np.zeros(4)
    prior[:3] = smooth[:3] * (4.0 / smooth.sum()) / visits[:3]  # scaled to the runs' 4.0 on streets searched
    own = np.append(visits[:3] * (runs[0][:3] + prior[:3]) / (visits[:3] + 1.0), 0.5)
    assert fitted("blend") == pytest.approx(own / own.sum())
    # sampled: the run's own; street 1, which the run happened to leave unsearched, keeps its static share
    assert fitted("sampled") == pytest.approx([3.0 / 6.0, 0.25, 1.0 / 6.0, 0.5 / 6.0])
    # pooled: the first round is the blend; a second adds its exposure and its searches to the first's
    fit = cal.Fit(None, None, cal.CalibrateSettings(exposure="pooled", seeds=1, days=3.0), None, {}, static,
                  model=ModelConfig())  # fmt: skip  # type: ignore[arg-type]
    fit.populations[0] = pop
    first = fit.own_exposure(runs[0], np.ones(4), state)
    assert first / first.sum() == pytest.approx(own / own.sum())
    second = fit.own_exposure(np.array([1.0, 2.0, 1.0, 0.0]), np.ones(4), state)
    total = runs[0] + np.array([1.0, 2.0, 1.0, 0.0])
    prior[:3] = smooth[:3] * (total[:3].sum() / smooth.sum()) / (2 * visits[:3])
    per_search = (total[:3] + prior[:3]) / (2 * visits[:3] + 1.0)
    assert second == pytest.approx(np.append(visits[:3] * per_search, 0.0))
    # one offender outing once a day for three days, in an active spell a third of the time: one search
    assert fit.searches_per_offender(replace(state, outings_per_day=1.0)) == pytest.approx(1.0)


def test_the_test_periods_risk_is_smoothed_the_same_way() -> None:
    """The model's risk of the test runs, by hand on the four streets above (``Fit.smooth_risk``)."""
    static = np.full(4, 0.25)
    pop = Population(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2]), np.ones(4), np.array([0, 2]),
                     np.array([1.0, 1.0, 2.0, 1.0]))  # fmt: skip
    # streets whose counts are as expected: a multiplier of 1, so the search shares are those above
    segs = pd.DataFrame({"count": [1.0, 1.0, 1.0, 1.0], "expected": [0.25, 0.25, 0.25, 0.25]})
    state = replace(cal.FitState.from_config(ModelConfig()), prior_strength=1.0, outings_per_day=1.0)
    mult = cal.place_multiplier(segs, 1.0)
    assert mult == pytest.approx(np.ones(4))
    risk = np.array([3.0, 0.0, 1.0, 0.5])

    def smoothed(exposure: str) -> np.ndarray:
        settings = cal.CalibrateSettings(exposure=exposure, test_replications=1)
        fit = cal.Fit(None, None, settings, None, {}, static, model=ModelConfig())  # type: ignore[arg-type]
        fit.populations[TEST_FIRST_SEED] = pop  # the test run's
        return fit.smooth_risk(risk, segs, state, days=6.0)

    share = np.array([0.5, 5.0 / 6.0, 2.0 / 3.0, 0.0])
    per_search = np.array([1.0, 1.0, 2.0, 0.0])  # the static attractiveness of each street searched
    smooth = share * per_search
    assert smoothed("expected") == pytest.approx(smooth * 4.5 / smooth.sum() * mult)
    visits = share * 2.0  # one outing a day for six days, active a third of the time
    prior = per_search * 4.0 / (visits * per_search).sum()
    own = np.append(visits[:3] * (risk[:3] / mult[:3] + prior[:3]) / (visits[:3] + 1.0), 0.5)
    assert smoothed("blend") == pytest.approx(own * mult)
    assert smoothed("pooled") == pytest.approx(own * mult)


def test_the_fit_never_reads_the_test_period(calibrated: Path, tmp_path: Path) -> None:
    """Another test period (moved, retyped and tripled crimes) beside the same fit period: not one fitting
    run differs and the fitted values and priors are the same; only the validation changes.

    In place, on the fixture's finished runs (run folders are named by their trial's hash, so a fit
    that saw anything else would make new trials and run them), leaving the folder as it was.
    """
    c = load_calibration(calibrated)
    source = pd.read_csv(c.data["incidents"])
    test = pd.to_datetime(source["datetime"]) >= pd.Timestamp(c.data["test_start"])
    rng = np.random.default_rng(0)
    moved = source[test].copy()
    donors = source[~test].sample(len(moved), replace=True, random_state=1)
    moved[["lon", "lat"]] = donors[["lon", "lat"]].to_numpy()
    moved["type"] = rng.permutation(moved["type"].to_numpy())
    other = pd.concat([source[~test], moved, moved, moved], ignore_index=True)
    path = tmp_path / "other.csv"
    other.to_csv(path, index=False)
    saved = tmp_path / "saved"
    saved.mkdir()
    written = [p for p in calibrated.iterdir() if p.is_file() and p.name != "optuna.journal"]
    for p in written:
        shutil.copy2(p, saved / p.name)
    args = [
        f"incidents.path={path}",
        *READ,
        *SMALL,
        f"calibrate.fit_end={c.data['test_start']}",
        "name=small",
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(calibrated.parents[2])  # the launcher's workers keep the folder they started in
        model, settings, _ = cal._compose(args)
        runs = count_runs(mp)
        try:
            folder = cal.calibrate(
                model, settings, cal.run_overrides(args), Path("outputs/calibration/small")
            )
            again = load_calibration(folder)
            segments = pd.read_parquet(folder / "segments.parquet")
        finally:
            for p in written:
                shutil.copy2(saved / p.name, p)
    assert runs and runs[-1] == 0  # every run of the fit (and of the test period) was already there
    assert again.crime == c.crime
    assert again.data["n_test"] == 3 * c.data["n_test"] and again.data["n_fit"] == c.data["n_fit"]
    pd.testing.assert_frame_equal(segments, pd.read_parquet(saved / "segments.parquet"))


def _half_and_half_fortnight() -> Periods:
    """A fit period of 14 days with a burglary and a violent crime every hour, alternating on the half hour."""
    local = T0 + pd.to_timedelta(np.arange(24 * 14 * 2) * 30, unit="m")
    kinds = np.where(np.arange(local.size) % 2 == 0, "burglary", "violence")
    real = pd.DataFrame({"crime_type": kinds, "local": local, "time_known": "minute",
                         "segment": 0, "x": 0.0, "y": 0.0})  # fmt: skip
    return Periods(real, real, real.iloc[:0], real.iloc[:0], T0, T0 + pd.Timedelta(days=14),
                   T0 + pd.Timedelta(days=14), T0 + pd.Timedelta(days=21), timed=True)  # fmt: skip


def _flat_state() -> cal.FitState:
    """The default fitted values with every type's hour and weekday profile flat."""
    from sim.crime import CRIME_TYPES

    return replace(cal.FitState.from_config(ModelConfig()), type_by_hour={k: [1.0] * 24 for k in CRIME_TYPES},
                   type_by_weekday={k: [1.0] * 7 for k in CRIME_TYPES})  # fmt: skip


def test_the_moment_step_reads_the_runs_expected_crime_not_their_draws() -> None:
    """Hours move on the model's expected crime; the mix on it too, on the draws' scale per type.

    The draws: a third burglary and two thirds violence, all at 03:00. The expectations: half each,
    flat over the hours, as the real crime. The hours stay (their shape is the expectation's); the
    mix moves as the draws say, since the expectation of a type is scaled by that type's drawn /
    expected ratio (it leaves out victims' trust, which lowers some types' reporting).
    """
    from experiments.calibration_runs import CalibrateSettings, expected_frame
    from sim.crime import CRIME_TYPES
    from sim.timeseries import EXPECTED_PREFIX

    hours = 24 * 14
    p = _half_and_half_fortnight()
    settings = CalibrateSettings(seeds=2, days=14)
    state = _flat_state()
    drawn = pd.DataFrame({"time_min": 180.0, "crime_type": ["burglary"] * 240 + ["violence"] * 480,
                          "hour": 3, "weekday": 0})  # fmt: skip
    ts = pd.DataFrame({"hour_of_day": np.arange(hours) % 24, "day": np.arange(hours) // 24})
    for k in CRIME_TYPES:
        ts[f"{EXPECTED_PREFIX}{k}"] = 1.0 if k in ("burglary", "violence") else 0.0
    expected = [expected_frame(ts), expected_frame(ts)]
    fit = cal.Fit(None, p, settings, None, {}, np.ones(1))  # type: ignore[arg-type]
    out, _ = cal.moment_update(state, [drawn, drawn], fit, expected=expected)
    for k in ("burglary", "violence"):
        assert out.type_by_hour[k] == pytest.approx(state.type_by_hour[k], rel=1e-9), k
    before = state.type_weight["burglary"] / state.type_weight["violence"]
    on_expected = out.type_weight["burglary"] / out.type_weight["violence"]
    # the expectation (672 a type over both runs) on the draws' scale, 480 burglaries and 960 violence
    # drawn, each shrunk by 10 pseudo-crimes: shares of about 1/3 and 2/3 against the real 1/2 and 1/2
    b, v = 672 * (480 + 10) / (672 + 10), 672 * (960 + 10) / (672 + 10)
    assert on_expected / before == pytest.approx((v / b) ** settings.damping)
    assert on_expected > 1.3 * before
    # on the draws alone the hours move too
    on_draws, _ = cal.moment_update(state, [drawn, drawn], cal.Fit(None, p, settings, None, {}, np.ones(1)))  # type: ignore[arg-type]
    assert on_draws.type_by_hour["violence"][3] < 0.5 * state.type_by_hour["violence"][3]


def test_the_closure_step_puts_the_mix_on_the_fit_periods_in_one_step() -> None:
    """Gain 1 on the draws of runs ``days`` long: a type's share is its weight times what it finds, so
    one step moves each weight by real share / simulated share, and the volume is per day of those runs."""
    from experiments.calibration_runs import CalibrateSettings

    p = _half_and_half_fortnight()  # 48 a day, half each
    settings = CalibrateSettings(seeds=2, days=7)
    state = _flat_state()
    # a crime an hour for 21 days, the first week's burglaries: flat hours and weekdays
    i = np.arange(21 * 24)
    drawn = pd.DataFrame({"time_min": i * 60.0 + 30.0, "hour": i % 24, "weekday": (i // 24) % 7,
                          "crime_type": np.where(i < 7 * 24, "burglary", "violence")})  # fmt: skip
    fit = cal.Fit(None, p, settings, None, {}, np.ones(1))  # type: ignore[arg-type]
    out, vol = cal.moment_update(state, [drawn, drawn], fit, gain=1.0, days=21.0)
    before = state.type_weight["burglary"] / state.type_weight["violence"]
    # shares 1/3 and 2/3 against the real 1/2 and 1/2: burglary's weight doubles against violence's
    assert out.type_weight["burglary"] / out.type_weight["violence"] == pytest.approx(2.0 * before, rel=1e-6)
    assert vol["sim_per_day"] == pytest.approx(24.0) and vol["real_per_day"] == pytest.approx(48.0)
    assert out.outings_per_day > state.outings_per_day  # too few crimes a day: more outings


def test_the_closure_steps_each_type_on_its_measured_elasticity() -> None:
    """Shoplifting's weight x1.3 moved its share x1.3 ** 0.6: the next step is (gap) ** (1 / 0.6), bounded."""
    w0 = {"shoplifting": 2.0, "violence": 4.0, "robbery": 1.0}
    w1 = {"shoplifting": 2.6, "violence": 4.0, "robbery": 1.0 * math.exp(2.0)}
    q0 = pd.Series({"shoplifting": 0.10, "violence": 0.50, "robbery": 0.05})
    q1 = pd.Series({"shoplifting": 0.10 * 1.3**0.6, "violence": 0.49, "robbery": 0.05 * math.exp(0.1)})
    e = cal._type_elasticities((w0, q0), w1, q1)
    assert e["shoplifting"] == pytest.approx(0.6)
    assert e["violence"] == 1.0, "the weight did not move: nothing measured"
    assert e["robbery"] == 0.5, "bounded below: a step of at most the gap squared"
    assert e["burglary"] == 1.0 and cal._type_elasticities(None, w1, q1)["shoplifting"] == 1.0


def test_the_drawn_to_expected_ratio_pools_the_rounds_and_shrinks_rare_types() -> None:
    fit = cal.Fit(None, None, None, None, {}, np.ones(1))  # type: ignore[arg-type]  # only the sums are used
    r1 = cal.drawn_to_expected(fit, pd.Series({"burglary": 30.0, "violence": 50.0}),
                               pd.Series({"burglary": 60.0, "violence": 50.0}))  # fmt: skip
    assert r1["burglary"] == pytest.approx(40 / 70) and r1["violence"] == pytest.approx(1.0)
    assert r1["robbery"] == 1.0  # nothing drawn, nothing expected: no evidence, no change
    r2 = cal.drawn_to_expected(fit, pd.Series({"burglary": 10.0, "robbery": 1.0}),
                               pd.Series({"burglary": 60.0, "robbery": 3.0}))  # fmt: skip
    assert r2["burglary"] == pytest.approx((40 + 10) / (120 + 10))  # pooled over both rounds
    assert r2["robbery"] == pytest.approx(11 / 13)  # one robbery drawn of three expected: shrunk towards 1


def test_the_test_runs_expected_hours_are_put_on_the_draws_scale_per_type() -> None:
    from experiments.calibration_report import expected_hours
    from experiments.calibration_runs import expected_frame
    from sim.crime import CRIME_TYPES
    from sim.timeseries import EXPECTED_PREFIX

    ts = pd.DataFrame({"hour_of_day": np.arange(48) % 24, "day": np.arange(48) // 24})
    for k in CRIME_TYPES:
        ts[f"{EXPECTED_PREFIX}{k}"] = 0.0
    ts[f"{EXPECTED_PREFIX}burglary"] = 1.0  # 48 expected a run, flat
    ts.loc[ts["hour_of_day"] == 3, f"{EXPECTED_PREFIX}violence"] = 5.0  # 10 expected a run, all at 03:00
    runs = [expected_frame(ts), expected_frame(ts)]
    drawn = [pd.DataFrame({"crime_type": ["burglary"] * 24 + ["violence"] * 20})] * 2  # half the burglaries
    hours = expected_hours(runs, drawn)
    assert hours.shape == (2, 24)
    assert hours[0, 0] == pytest.approx(
        2 * 1.0 * 0.5
    )  # two days of one expected burglary an hour, drawn at half
    assert hours[0, 3] == pytest.approx(1.0 + 10.0 * 2.0)  # violence drawn at twice its expectation
    assert hours.sum() == pytest.approx(2 * 44)  # each run's total is what the runs drew, on average


def test_the_closure_learns_the_place_terms_on_its_own_populations_and_run_length() -> None:
    """``seeds`` and ``days`` of Fit.own_exposure: the same answer as the fitting runs' default of that population."""
    static = np.full(4, 0.25)
    pop = Population(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2]), np.ones(4), np.array([0, 2]),
                     np.array([1.0, 1.0, 2.0, 1.0]))  # fmt: skip
    state = cal.FitState.from_config(ModelConfig())
    sampled = np.array([3.0, 0.0, 1.0, 0.5])

    def fit_with(days: float) -> cal.Fit:
        settings = cal.CalibrateSettings(exposure="blend", seeds=1, days=days)
        return cal.Fit(None, None, settings, None, {}, static, model=ModelConfig())  # type: ignore[arg-type]

    as_fitting = fit_with(23.0)
    as_fitting.populations[0] = pop  # a fitting run of 23 days
    closure = fit_with(7.0)
    closure.populations[cal.CLOSURE_FIRST_SEED] = pop  # a closure run of 23 days, the fitting runs' 7
    want = as_fitting.own_exposure(sampled, np.ones(4), state)
    got = closure.own_exposure(sampled, np.ones(4), state, seeds=[cal.CLOSURE_FIRST_SEED], days=23.0)
    assert got == pytest.approx(want)
    assert not np.allclose(
        closure.own_exposure(sampled, np.ones(4), state, seeds=[cal.CLOSURE_FIRST_SEED]), want
    )


def test_the_starting_boost_counts_each_recorded_crime_as_the_crimes_it_stands_for() -> None:
    """Only the fit period's last weeks count, each recorded crime as 1 / P(reported and recorded);
    crime.warm_start=false given to the calibration leaves the folder without a starting boost."""
    from sim.environment import BOOST_HISTORY_DAYS
    from sim.network import load_network

    net = load_network(ModelConfig().city.path, network_type="walk")
    model = ModelConfig()
    model.crime.boost_spread_eta = 0.0  # no spread: each street keeps its own crimes' boost
    local = pd.to_datetime([T0 + pd.Timedelta(days=40, hours=12), T0 + pd.Timedelta(days=5)])
    real = pd.DataFrame({"crime_type": ["burglary", "violence"], "local": local, "segment": [3, 4]})
    end = T0 + pd.Timedelta(days=41)
    periods = Periods(
        real, real, real.iloc[:0], real.iloc[:0], T0, end, end, end + pd.Timedelta(days=7), timed=True
    )
    fit = cal.Fit(net, periods, cal.CalibrateSettings(), None, {}, np.ones(net.n_segments), model=model)  # type: ignore[arg-type]
    boost = fit.start_boost()
    assert boost is not None
    chance = model.crime.report_base["burglary"] * model.crime.recording_rate
    assert boost[3] == pytest.approx(np.exp(-0.5 * model.crime.boost_decay_per_day) / chance, rel=1e-9)
    assert boost[4] == 0.0 and BOOST_HISTORY_DAYS < 41 - 5  # older than the window
    model.crime.warm_start = False
    cold = cal.Fit(net, periods, cal.CalibrateSettings(), None, {}, np.ones(net.n_segments), model=model)  # type: ignore[arg-type]
    assert cold.start_boost() is None
