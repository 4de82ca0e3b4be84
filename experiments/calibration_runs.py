"""What a calibration reads and runs: its settings, the fit and test periods, and the simulations.

Shared by :mod:`experiments.calibrate` (the fit) and :mod:`experiments.calibration_report` (the
test period); see the former for the procedure.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.errors import ConfigError, PrecinctError
from sim.incidents._delay import ReportingDelay, fit_reporting_delay

__all__ = [
    "CalibrateSettings",
    "CalibrationDataError",
    "Periods",
    "Runner",
    "dense_start",
    "expected_frame",
    "profile_counts",
    "real_frame",
    "say",
    "sim_frame",
    "split_periods",
    "type_counts",
    "weighted_count",
]


# First seeds of the runs that are not moment rounds or trials (those run 0 .. calibrate.seeds - 1):
# the closure rounds' (experiments.calibrate.closure_rounds) and the test period's, so that neither
# runs a synthetic population another stage ran: the test scores the model on populations the fit never saw.
CLOSURE_FIRST_SEED = 100_000
TEST_FIRST_SEED = 200_000

# What the place terms' exposure can be (CalibrateSettings.exposure; experiments.calibrate.Fit.own_exposure).
EXPOSURES = ("sampled", "expected", "blend", "pooled")


class CalibrationDataError(PrecinctError, ValueError):
    """The incident file cannot support a calibration (too few incidents, periods outside the data)."""


@dataclass
class CalibrateSettings:
    """``calibrate.*``: how the fit and the validation run (conf/calibrate/default.yaml)."""

    fit_end: str | None = None
    seeds: int = 2
    days: float = 14.0
    moment_rounds: int = 3
    damping: float = 0.8
    trials: int = 24
    holdout_share: float = 0.25
    test_replications: int = 20
    test_days_max: float = 56.0
    min_incidents: int = 200
    sampler_seed: int = 0
    # the calibrated city's synthetic population (population.seed of every fitting and test run, and
    # of `precinct run city.calibration=...`); null: each run draws its own from its seed. Off by
    # default: one population's offenders leave streets unreached (docs/calibration.md, measured)
    population_seed: int | None = None
    # what the shrinkage strength k is fitted on: the holdout's Poisson "likelihood" over every street,
    # or its "hit_rate" at 5% of street length (what the test period's hit-rate target scores)
    prior_strength_by: str = "likelihood"
    # the place terms' step in the last moment rounds: "constant" (PLACE_GAIN each round) or
    # "decreasing" (PLACE_GAIN / round: the rounds' exposures averaged, as the mix's steps are)
    place_gains: str = "constant"
    # the exposure the place terms divide out: the fitting runs' own ("sampled"), where the synthetic
    # populations would search ("expected", no run noise), the runs' shrunk towards it ("blend"), or
    # the population's expected searches times what the runs found per search, pooled over rounds ("pooled")
    exposure: str = "pooled"
    # the model's risk scored on the test period: the test runs' mean with their search noise taken
    # out ("smoothed", Fit.smooth_risk) or the runs' own mean ("runs"); the other is scored beside it
    risk: str = "smoothed"
    # runs of new synthetic populations, each as long as the test period, for one last step of the
    # mix and the volume (experiments.calibrate.closure_rounds), in closure_rounds rounds; 0: no such step
    closure_replications: int = 10
    closure_rounds: int = 3
    # the closure rounds but the last step the place terms too, on their populations' exposure
    closure_place: bool = True
    forecasts: bool = True
    # start again: delete the folder's finished runs and trials first
    fresh: bool = False

    @property
    def closure_seeds(self) -> range:
        """The closure rounds' run seeds: populations no other stage runs (:data:`CLOSURE_FIRST_SEED`)."""
        return range(CLOSURE_FIRST_SEED, CLOSURE_FIRST_SEED + self.closure_replications)

    @property
    def test_seeds(self) -> range:
        """The test period's run seeds: populations the fit never ran (:data:`TEST_FIRST_SEED`)."""
        return range(TEST_FIRST_SEED, TEST_FIRST_SEED + self.test_replications)

    def validate(self) -> CalibrateSettings:
        """Raise ConfigError naming the first bad ``calibrate.*`` value."""
        for name in ("closure_replications", "closure_rounds"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ConfigError(f"calibrate.{name}", v, "a whole number >= 0")
        for name in ("seeds", "moment_rounds", "test_replications", "min_incidents"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"calibrate.{name}", v, "a positive whole number")
        if not isinstance(self.trials, int) or self.trials < 0:
            raise ConfigError("calibrate.trials", self.trials, "a whole number >= 0")
        for name in ("days", "test_days_max"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and v >= 1):
                raise ConfigError(f"calibrate.{name}", v, "at least 1 day")
        v = self.population_seed
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise ConfigError("calibrate.population_seed", v, "a non-negative whole number, or null")
        if self.prior_strength_by not in ("likelihood", "hit_rate"):
            raise ConfigError(
                "calibrate.prior_strength_by", self.prior_strength_by, "'likelihood' or 'hit_rate'"
            )
        if self.place_gains not in ("constant", "decreasing"):
            raise ConfigError("calibrate.place_gains", self.place_gains, "'constant' or 'decreasing'")
        if self.risk not in ("smoothed", "runs"):
            raise ConfigError("calibrate.risk", self.risk, "'smoothed' or 'runs'")
        if self.exposure not in EXPOSURES:
            raise ConfigError("calibrate.exposure", self.exposure, " or ".join(f"'{e}'" for e in EXPOSURES))
        if not 0 < self.damping <= 1:
            raise ConfigError("calibrate.damping", self.damping, "a number in (0, 1]")
        if not 0.05 <= self.holdout_share <= 0.5:
            raise ConfigError("calibrate.holdout_share", self.holdout_share, "a share in [0.05, 0.5]")
        if self.fit_end is not None:
            try:
                pd.Timestamp(str(self.fit_end))
            except ValueError:
                raise ConfigError("calibrate.fit_end", self.fit_end, "a date, YYYY-MM-DD") from None
        return self


# --------------------------------------------------------------------------- the data
@dataclass
class Periods:
    """The real crime of the modelled types, split into fit (train, holdout) and test."""

    fit: pd.DataFrame
    train: pd.DataFrame
    holdout: pd.DataFrame
    test: pd.DataFrame
    fit_start: pd.Timestamp
    fit_end: pd.Timestamp
    train_end: pd.Timestamp
    test_end: pd.Timestamp
    timed: bool
    """Times of day are known (not police.uk's month-only dates)."""
    delay: ReportingDelay | None = None
    """The fit period's delays of reporting, when the file gives report dates (``incidents.columns.reported``):
    every real frame then has ``count_weight``, how many crimes each stands for (:func:`weighted_count`)."""

    @property
    def fit_days(self) -> float:
        """Length of the fit period in days."""
        return (self.fit_end - self.fit_start).total_seconds() / 86400.0

    @property
    def test_days(self) -> float:
        """Length of the test period in days."""
        return (self.test_end - self.fit_end).total_seconds() / 86400.0


def dense_start(local: pd.Series) -> pd.Timestamp:
    """Return the first day from which the file is dense: its centred 7-day mean reaches half the median day's.

    A file of incidents *reported* in a period holds a thin tail of older offences (Portland's 2021
    file reaches back to 2019); counted in, that tail would halve the crimes per day of the fit.
    """
    days = local.dt.normalize().value_counts().sort_index()
    days = days.reindex(pd.date_range(days.index[0], days.index[-1], freq="D"), fill_value=0)
    mean7 = days.rolling(7, center=True, min_periods=4).mean()
    dense = mean7 >= 0.5 * float(days[days > 0].median())
    return pd.Timestamp(dense.idxmax()) if dense.any() else pd.Timestamp(days.index[0])


def split_periods(events: pd.DataFrame, settings: CalibrateSettings, source: str) -> Periods:
    """Split real crime into fit and test periods; raise CalibrationDataError with the fix when it cannot."""
    from sim.incidents import MODELLED_NOW

    real = events[(events["kind"] == "crime") & events["crime_type"].isin(sorted(MODELLED_NOW))].copy()
    if real.empty:
        raise CalibrationDataError(f"{source}: no incidents of the modelled offence types to fit")
    real["local"] = real["datetime"].dt.tz_localize(None)
    month_only = bool((real["time_known"] == "month").all())
    timed = bool((real["time_known"] == "minute").mean() > 0.5)
    first = real["local"].min().normalize()
    if not month_only and len(real) >= 100:
        # with fit_end given, the test period does not choose where the fit period starts
        known = real["local"]
        if settings.fit_end is not None and (known < pd.Timestamp(str(settings.fit_end))).sum() >= 100:
            known = known[known < pd.Timestamp(str(settings.fit_end))]
        first = dense_start(known)
        real = real[real["local"] >= first]
    # the file's span counts every crime it holds, of the modelled types or not
    last = max(
        real["local"].max(), events.loc[events["kind"] == "crime", "datetime"].max().tz_localize(None)
    ).normalize()
    end = last + pd.Timedelta(days=1)
    if month_only:  # a month-only date stands for its whole month
        first = first.to_period("M").to_timestamp()
        end = (last.to_period("M") + 1).to_timestamp()
    if settings.fit_end is None:
        cut = first + (end - first) * 0.75
        cut = cut.to_period("M").to_timestamp() if month_only else cut.normalize()
    else:
        cut = pd.Timestamp(str(settings.fit_end))
        if not first < cut < end:
            raise CalibrationDataError(
                f"calibrate.fit_end={settings.fit_end} is outside the data of {source}, which runs from "
                f"{first.date()} to {(end - pd.Timedelta(days=1)).date()}: choose a date between them"
            )
    fit, test = real[real["local"] < cut], real[real["local"] >= cut]
    if len(fit) < settings.min_incidents:
        raise CalibrationDataError(
            f"{source}: too few incidents to fit: {len(fit):,} of the modelled types before {cut.date()}, "
            f"at least {settings.min_incidents:,} are needed (calibrate.min_incidents); use a longer file "
            "or a later calibrate.fit_end"
        )
    if test.empty:
        raise CalibrationDataError(
            f"{source}: the test period from {cut.date()} has no incidents of the modelled types: "
            "choose an earlier calibrate.fit_end"
        )
    span = cut - first
    train_end = first + span * (1.0 - settings.holdout_share)
    if month_only:
        train_end = train_end.to_period("M").to_timestamp()
        if train_end <= first:
            train_end = first + pd.DateOffset(months=1)
    delay = None
    # a delay in days needs occurrence days: a month-only file is not corrected
    if (
        not month_only
        and "reported_min" in real.columns
        and np.isfinite(real["reported_min"].to_numpy(np.float64)).any()
    ):
        delay = _late_reports(events, fit, source)
        if delay is not None:
            day = np.floor(real["time_min"].to_numpy(np.float64) / 1440.0)
            real = real.assign(count_weight=delay.weights(real["crime_type"].astype(str).to_numpy(), day))
            fit, test = real[real["local"] < cut], real[real["local"] >= cut]
    train, holdout = fit[fit["local"] < train_end], fit[fit["local"] >= train_end]
    return Periods(fit, train, holdout, test, first, cut, train_end, end, timed, delay)


def _late_reports(events: pd.DataFrame, fit: pd.DataFrame, source: str) -> ReportingDelay | None:
    """Fit the delays of reporting on the fit period (every real crime is then counted ``1 / completeness`` times).

    The file's last report date is its whole ``reported_min``'s (every row, modelled or not); the
    delays are those of the fit period's crimes only, so nothing of the test period is fitted.
    """
    through = int(np.floor(np.nanmax(events["reported_min"].to_numpy(np.float64)) / 1440.0))
    reported = fit["reported_min"].to_numpy(np.float64) / 1440.0
    try:
        delay = fit_reporting_delay(fit["crime_type"].astype(str).to_numpy(), np.floor(fit["time_min"].to_numpy(
            np.float64) / 1440.0), reported, through_day=through)  # fmt: skip
    except ValueError:
        say(f"{source}: no fit-period incident has a report date on or after its occurrence: counts are not "
            "corrected for late reports")  # fmt: skip
        return None
    return delay


def weighted_count(frame: pd.DataFrame) -> float:
    """Return the crimes a real frame stands for: its rows, each counted ``count_weight`` times when given."""
    return float(frame["count_weight"].sum()) if "count_weight" in frame.columns else float(len(frame))


def type_counts(frame: pd.DataFrame) -> pd.Series:
    """Return a real frame's crimes per type, each counted ``count_weight`` times when given (float)."""
    kinds = frame["crime_type"].astype(str)
    if "count_weight" in frame.columns:
        return frame["count_weight"].groupby(kinds).sum().astype(float)
    return kinds.value_counts().astype(float)


# --------------------------------------------------------------------------- summaries
def profile_counts(values: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Return the counts of ``values`` modulo ``n`` (hours of the day, days of the week), each ``weights`` if given."""
    return np.bincount(values.astype(np.int64) % n, weights=weights, minlength=n).astype(float)


def sim_frame(ev: pd.DataFrame, start_weekday: int = 0) -> pd.DataFrame:
    """Return the recorded simulated crimes with local hour and weekday (the run starts at midnight)."""
    out = ev[(ev["kind"] == "crime") & ev["recorded"]][["segment", "x", "y", "time_min", "crime_type"]].copy()
    out["hour"] = (out["time_min"] // 60 % 24).astype(np.int64)
    out["weekday"] = ((out["time_min"] // 1440 + start_weekday) % 7).astype(np.int64)
    return out


def expected_frame(ts: pd.DataFrame, start_weekday: int = 0) -> pd.DataFrame:
    """Return a run's expected recorded crimes by hour, weekday and type, from its time series.

    One row per interval of the series and offence type: ``hour``, ``weekday``, ``crime_type`` and
    ``expected`` (the ``crimes_recorded_expected_<type>`` columns, :mod:`sim.timeseries`), the
    model's expected recorded crimes there, which no draw made noisy.
    """
    from sim.crime import CRIME_TYPES
    from sim.timeseries import EXPECTED_PREFIX

    cols = [f"{EXPECTED_PREFIX}{k}" for k in CRIME_TYPES]
    values = ts[cols].to_numpy(np.float64)
    n = len(ts)
    return pd.DataFrame({
        "hour": np.repeat(ts["hour_of_day"].to_numpy(np.int64) % 24, len(cols)),
        "weekday": np.repeat((ts["day"].to_numpy(np.int64) + start_weekday) % 7, len(cols)),
        "crime_type": np.tile(np.asarray(CRIME_TYPES, dtype=object), n),
        "expected": values.reshape(-1),
    })  # fmt: skip


def real_frame(real: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """Return real crimes with time_min from ``origin`` (local midnight), hour and weekday."""
    out = real[["segment", "x", "y", "crime_type", "time_known"]].copy()
    out["time_min"] = ((real["local"] - origin).dt.total_seconds() / 60.0).to_numpy()
    out["hour"] = real["local"].dt.hour.to_numpy()
    out["weekday"] = real["local"].dt.day_of_week.to_numpy()
    if "count_weight" in real.columns:
        out["count_weight"] = real["count_weight"].to_numpy()
    return out


# --------------------------------------------------------------------------- simulations
@dataclass
class Runner:
    """Runs sets of simulations as Hydra multiruns (the sweep launchers) and reads their recorded crime."""

    base: list[str]
    """The user's overrides that describe the city and the run (not incidents.*, calibrate.*, name)."""
    out: Path
    quiet: bool = True
    sims_run: int = 0

    def run(
        self, folders: Sequence[Path], seeds: int, days: float, tag: str, *, first_seed: int = 0
    ) -> dict[Path, list[pd.DataFrame]]:
        """Simulate every calibration folder ``seeds`` times for ``days``; recorded crimes per folder and seed.

        The seeds are ``first_seed .. first_seed + seeds - 1``.
        """
        from experiments.launch import run_hydra

        overrides, jobs = self._jobs(folders, seeds, days, tag, first_seed)
        todo = [path for _, path in jobs if not (path / "_COMPLETE").is_file()]
        if todo:
            with _quiet(self.quiet):
                run_hydra(overrides, multirun=True)
            self.sims_run += len(todo)
        out: dict[Path, list[pd.DataFrame]] = {Path(f): [] for f in folders}
        for folder, path in jobs:
            ev = pd.read_parquet(
                path / "events.parquet",
                columns=["kind", "recorded", "segment", "x", "y", "time_min", "crime_type"],
            )
            out[folder].append(sim_frame(ev))
        return out

    def expected_recorded(
        self, folders: Sequence[Path], seeds: int, days: float, tag: str, *, first_seed: int = 0
    ) -> dict[Path, list[NDArray[np.float64]]]:
        """Return each finished run's expected recorded crimes per segment (``crimes_recorded_expected``).

        The runs are those :meth:`run` made with the same arguments; a run written by a version
        that did not keep the column is refused with the fix.
        """
        _, jobs = self._jobs(folders, seeds, days, tag, first_seed)
        out: dict[Path, list[NDArray[np.float64]]] = {Path(f): [] for f in folders}
        for folder, path in jobs:
            table = pd.read_parquet(path / "segments.parquet")
            if "crimes_recorded_expected" not in table.columns:
                raise CalibrationDataError(
                    f"{path}: this run has no crimes_recorded_expected (written by an older version); "
                    f"delete {path.parent} or rerun with calibrate.fresh=true"
                )
            out[folder].append(table["crimes_recorded_expected"].to_numpy(np.float64))
        return out

    def expected_crimes(
        self, folders: Sequence[Path], seeds: int, days: float, tag: str, *, first_seed: int = 0
    ) -> dict[Path, list[pd.DataFrame]]:
        """Return each finished run's expected recorded crimes by hour, weekday and type (:func:`expected_frame`).

        The runs are those :meth:`run` made with the same arguments; a run written by a version
        that did not keep the per-type columns is refused with the fix.
        """
        from sim.timeseries import EXPECTED_PREFIX

        _, jobs = self._jobs(folders, seeds, days, tag, first_seed)
        out: dict[Path, list[pd.DataFrame]] = {Path(f): [] for f in folders}
        for folder, path in jobs:
            ts = pd.read_parquet(path / "timeseries.parquet")
            if not any(str(c).startswith(EXPECTED_PREFIX) for c in ts.columns):
                raise CalibrationDataError(
                    f"{path}: this run has no {EXPECTED_PREFIX}<type> columns (written by an older version); "
                    f"delete {path.parent} or rerun with calibrate.fresh=true"
                )
            out[folder].append(expected_frame(ts))
        return out

    def _jobs(
        self, folders: Sequence[Path], seeds: int, days: float, tag: str, first_seed: int = 0
    ) -> tuple[list[str], list[tuple[Path, Path]]]:
        """Return the multirun's overrides and, per job, its calibration folder and run folder."""
        from experiments.configuration import expand_sweep, job_dirname

        sweep_dir = self.out / "runs" / tag
        overrides = [
            *self.base,
            f"city.calibration={','.join(str(f) for f in folders)}",
            f"seed=range({first_seed},{first_seed + seeds})",
            f"sim.days={days:g}",
            "name=calibrate",
            f"hydra.sweep.dir={sweep_dir}",
            "hydra/hydra_logging=disabled",
            "hydra/job_logging=disabled",
            "~hydra.callbacks.progress",
        ]
        jobs = []
        for job in expand_sweep(overrides):
            folder = Path(next(o for o in job if o.startswith("city.calibration=")).partition("=")[2])
            jobs.append((folder, sweep_dir / job_dirname(job)))
        return overrides, jobs


@contextlib.contextmanager
def _quiet(on: bool) -> Iterator[None]:
    """Keep the runs' own lines off the terminal (the calibration prints its own progress)."""
    if not on:
        yield
        return
    saved = os.environ.get("PRECINCT_QUIET")
    os.environ["PRECINCT_QUIET"] = "1"
    try:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            yield
    finally:
        if saved is None:
            os.environ.pop("PRECINCT_QUIET", None)
        else:
            os.environ["PRECINCT_QUIET"] = saved


def say(msg: str) -> None:
    """Print a progress line of the calibration (on stderr, beside the progress bar)."""
    print(msg, file=sys.stderr, flush=True)
