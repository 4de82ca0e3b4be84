"""``precinct hotspots score``: weekly forecasts scored on a dated incident file; bad input is one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.hotspots import main
from sim.config import ModelConfig
from sim.incidents import MODELLED_NOW
from sim.model import run_simulation
from sim.network import load_network
from tests.conftest import DATA, DEFAULT_CITY

ORIGIN = pd.Timestamp("2024-03-04")  # a Monday
MONTH_ONLY = DATA / "incidents" / "sample" / "city_of_london_street_2025-05.csv"
GAP_DAYS = (10, 12)  # the file holds no crime on these days


@pytest.fixture(scope="module")
def dated_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Four weeks of a small simulated city's crime as a generic CSV, and the overrides that read it."""
    cfg = ModelConfig(seed=0, policies={"baseline": {}})
    cfg.sim.days = 28.0
    cfg.sim.step_min = 15.0
    cfg.population.n_residents = 600
    cfg.population.n_offenders = 60
    cfg.police.n_officers = 4
    events = run_simulation(cfg, network=load_network(DEFAULT_CITY, network_type="walk")).events
    crimes = events[events["kind"] == "crime"]
    day = crimes["time_min"] // 1440
    crimes = crimes[(day < GAP_DAYS[0]) | (day >= GAP_DAYS[1])]
    folder = tmp_path_factory.mktemp("hotspots")
    path = folder / "crimes.csv"
    when = ORIGIN + pd.to_timedelta(crimes["time_min"].to_numpy(), unit="min")
    pd.DataFrame({"ref": np.arange(len(crimes)), "longitude": crimes["lon"].to_numpy(),
                  "latitude": crimes["lat"].to_numpy(), "occurred": when.strftime("%Y-%m-%d %H:%M"),
                  "category": crimes["crime_type"].to_numpy()}).to_csv(path, index=False)  # fmt: skip
    mapping = folder / "classes.yaml"
    mapping.write_text("map:\n" + "".join(f"  {c}: {c}\n" for c in sorted(MODELLED_NOW)), encoding="utf-8")
    overrides = ["incidents.columns.lon=longitude", "incidents.columns.lat=latitude",
                 "incidents.columns.datetime=occurred", "incidents.columns.type=category",
                 "incidents.columns.id=ref", f"incidents.mapping={mapping}", "incidents.timezone=Europe/London",
                 f"incidents.origin={ORIGIN.date()}"]  # fmt: skip
    assert len(crimes) > 200
    return path, overrides


def _score(file: Path, *args: str) -> list[str]:
    return ["score", "--city", str(DEFAULT_CITY), "--incidents", str(file), *args]


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("precinct: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_scores_weekly_forecasts_with_intervals(
    dated_file: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, overrides = dated_file
    out = tmp_path / "scores.csv"
    assert (
        main(_score(path, *overrides, "--test-start", "2024-03-18", "--out", str(out), "--n-boot", "200"))
        == 0
    )
    text = capsys.readouterr().out
    assert "test period: 2024-03-18 .. 2024-03-31 (2 weekly forecasts" in text
    assert "% of a week's crimes on the top-ranked segments making up x% of street length" in text
    for name in ("prior_counts", "grid_kde", "network_kde", "prospective"):
        assert sum(line.startswith(name) for line in text.splitlines()) == 5  # one line per coverage
    scores = pd.read_csv(out)
    assert len(scores) == 2 * 4 * 5
    assert sorted(scores["week_start_min"].unique()) == [14 * 1440.0, 21 * 1440.0]
    summary = pd.read_csv(tmp_path / "scores_summary.csv")
    assert (summary["n_weeks"] == 2).all()
    assert (summary["hit_rate_lo"] <= summary["hit_rate"]).all() and (
        summary["hit_rate"] <= summary["hit_rate_hi"]
    ).all()


def test_the_default_test_period_is_the_last_quarter(
    dated_file: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, overrides = dated_file
    assert main(_score(path, *overrides, "--forecasters", "prior_counts,prospective", "--n-boot", "50")) == 0
    text = capsys.readouterr().out
    assert "test period: 2024-03-25 .. 2024-03-31 (1 weekly forecast," in text  # days 21-27 of 28
    assert "grid_kde" not in text


def test_one_month_of_month_only_dates_says_monthly_forecasts_need_earlier_months(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(_score(MONTH_ONLY)) == 2
    err = _error(capsys)
    assert (
        str(MONTH_ONLY) in err and "dated to one month, 2025-05" in err and "a file of several months" in err
    )


@pytest.fixture(scope="module")
def monthly_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled police.uk month, as if published for four months (February to May 2025)."""
    month = pd.read_csv(MONTH_ONLY, dtype=str)
    path = tmp_path_factory.mktemp("monthly") / "street.csv"
    copies = [
        month.assign(Month=f"2025-{m:02d}", **{"Crime ID": month["Crime ID"] + f"-{m}"}) for m in (2, 3, 4, 5)
    ]
    pd.concat(copies).to_csv(path, index=False)  # each copy its own crime ids: not read as duplicates
    return path


def test_month_only_dates_are_forecast_month_by_month(
    monthly_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_score(monthly_file, "--n-boot", "50", "--forecasters", "prior_counts")) == 0
    # the last quarter of mid-February to mid-May, from the nearest first of a month: May
    assert "test period: 2025-05-01 .. 2025-05-31 (1 monthly forecast," in capsys.readouterr().out
    out = tmp_path / "scores.csv"
    assert main(_score(monthly_file, "--test-start", "2025-03-01", "--n-boot", "50", "--out", str(out))) == 0
    text = capsys.readouterr().out
    assert "test period: 2025-03-01 .. 2025-05-31 (3 monthly forecasts" in text
    assert "% of a month's crimes on the top-ranked" in text and "months resampled" in text
    assert "the prospective forecaster, which weighs crimes by weeks old, is left out" in text
    assert not any(line.startswith("prospective") for line in text.splitlines())
    scores = pd.read_csv(out)
    assert scores["week_start_min"].nunique() == 3 and set(scores["forecaster"]) == {
        "prior_counts", "grid_kde", "network_kde",
    }  # fmt: skip
    # every month repeats the same crimes: the months before foresee this month's exactly
    np.testing.assert_allclose(scores.loc[scores["forecaster"] == "prior_counts", "pei"], 1.0)
    assert main(_score(monthly_file, "--test-start", "2025-04-15")) == 2
    err = _error(capsys)
    assert "--test-start" in err and "the first day of a month" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--test-start", "2030-01-01"], ["--test-start", "2030-01-01 is after the last incident", "2024-03-04"]),
        (["--test-start", "2024-03-04"], ["--test-start", "leaves no incident before it to forecast from"]),
        (["--test-start", "2024-03"], ["--test-start", "YYYY-MM-DD"]),
        (["--test-start", "2024-03-18", "--test-end", "2024-03-11"], ["--test-end", "after the test start"]),
        (["--test-start", "2024-03-14", "--test-end", "2024-03-16"], ["test period", "no incident of the simulated types"]),
        (["--forecasters", "prior_counts,model"], ["--forecasters", "'model' needs a calibrated model"]),
        (["--forecasters", "kde"], ["--forecasters", "prior_counts, grid_kde, network_kde, prospective"]),
        (["city=london"], ["unexpected argument", "incidents.KEY=VALUE"]),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_naming_what_was_expected(
    dated_file: tuple[Path, list[str]],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: list[str],
) -> None:
    path, overrides = dated_file
    assert main(_score(path, *overrides, *args)) == 2
    err = _error(capsys)
    for part in expected:
        assert part in err


def test_a_missing_file_or_column_is_one_line(
    dated_file: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, overrides = dated_file
    assert main(_score(tmp_path / "absent.csv", *overrides)) == 2
    assert "absent.csv" in _error(capsys)
    assert main(_score(path, *overrides, "incidents.columns.datetime=when")) == 2
    assert "'when'" in _error(capsys)
    assert main(["score", "--incidents", str(path)]) == 2  # argparse: --city is required
    assert "--city" in capsys.readouterr().err
