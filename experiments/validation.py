"""A calibrated city held to its test period: simulated against real crime, with intervals and targets.

:func:`validate` compares the recorded crimes of several simulated replications of the test period
with the real recorded crimes of that period (issue 12, part 4) and checks each measure against the
issue's targets; :func:`write_validation` writes ``validation.json`` and a self-contained, offline
``validation.html`` in the comparison report's style. docs/calibration.md ("Validation") describes
every measure. Equal-count subsampling, the hour profile and total variation are those of
:mod:`experiments.sim_vs_real`; the maps are :mod:`experiments.figures`'.

Times: in both tables ``time_min`` counts minutes from midnight at the start of the test period, a
day whose weekday is ``start_weekday`` (0 = Monday; the ``sim.start_weekday`` the replications ran
with). The caller converts the real incidents' local wall-clock times the same way.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import NDArray
from scipy import stats

from experiments import figures, report, wording
from experiments.sim_vs_real import hour_profile, total_variation
from sim import forecast
from sim import metrics as m
from sim.network import StreetNetwork
from sim.offences import CRIME_TYPES, OFFENCES
from sim.results import write_file
from sim.stats import mean_ci

__all__ = [
    "MODEL_FORECASTER",
    "NOT_MEASURABLE",
    "Validation",
    "validate",
    "weekday_profile",
    "write_validation",
]

TEMPLATE = Path(__file__).with_name("validation_template.html")
CONFIDENCE = 0.95
MIN_EQUAL_COUNT = 50  # equal-count measures need this many events in the smaller set (as sim_vs_real)
MIN_TYPE_EVENTS = 10  # fewer real crimes of a type than this cannot test a 20% band
HIT_COVERAGE = 0.05
KNOX_DISTANCE_M, KNOX_DAYS = 100.0, 3.0
# the targets
VOLUME_TOLERANCE = 0.20
CONCENTRATION_RATIO = (0.7, 1.4)
HOUR_TV_MAX = 0.10
KNOX_TOLERANCE = 0.25
HIT_RATE_SHARE = 0.95
#: The forecasts table's name for the calibrated model's own risk; every other but ``oracle`` and
#: the model's other risk (:data:`MODEL_RUNS_FORECASTER`, :data:`MODEL_SMOOTHED_FORECASTER`) is naive.
MODEL_FORECASTER = "model"
#: The model's other risk, scored beside ``model`` and never the target (``calibrate.risk``): the
#: test runs' own mean, or that mean with their search noise taken out
#: (:meth:`experiments.calibrate.Fit.smooth_risk`).
MODEL_RUNS_FORECASTER = "model_runs"
MODEL_SMOOTHED_FORECASTER = "model_smoothed"
PASS, FAIL, NOT_MEASURABLE = "pass", "fail", "not measurable"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MEASURE_COLUMNS = ["measure", "group", "label", "unit", "sim", "sim_lo", "sim_hi", "real", "real_lo", "real_hi",
                   "chance", "ratio", "naive", "naive_ratio", "note"]  # fmt: skip
TARGET_COLUMNS = ["target", "measure", "label", "value", "threshold", "status", "reason"]
PROFILE_COLUMNS = ["sim", "sim_lo", "sim_hi", "real", "real_lo", "real_hi"]
_TV = "total variation (0 same, 1 disjoint)"
# measure -> (group, label, unit); volume rows are "volume_<type>"
_MEASURES = {
    "concentration": ("place", "Share of segments holding 50% of crimes, at equal counts", "share of segments"),
    "knox": ("time", f"Knox ratio, 0-{KNOX_DISTANCE_M:g} m / 0-{KNOX_DAYS:g} days, at equal counts",
             "close pairs: observed / expected"),
    "hour_tv": ("time", "Hour-of-day profile: total variation, simulated from real", _TV),
    "hour_tv_drawn": ("time", "Hour-of-day profile of the drawn crimes: total variation, simulated from real", _TV),
    "weekday_tv": ("time", "Day-of-week profile: total variation, simulated from real", _TV),
    "spearman": ("space", "Rank correlation over segments (Spearman) of mean simulated and real counts",
                 "Spearman's rho"),
    "hit_rate": ("space", f"Hit rate at {HIT_COVERAGE:.0%} of street length, segments ranked by mean simulated crime per metre",
                 "share of real crimes"),
}  # fmt: skip
_NO_CLOCK = "not measurable: the real crimes have no clock times (dates known to the month or day only)"
_NAN3 = (math.nan, math.nan, math.nan)
_Estimate = tuple[float, float, float]  # value, low, high
_Profile = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def weekday_profile(
    time_min: NDArray[np.float64], days: float, *, start_weekday: int = 0
) -> NDArray[np.float64]:
    """Return the share of events on each weekday (Monday first), per occurrence of that weekday.

    Counts are divided by how many times each weekday occurs in the ``days`` from time 0, so a period
    of whole weeks and one of 31 days are alike; a weekday that does not occur gets NaN.
    """
    counts = np.bincount((_day_index(time_min, days) + start_weekday) % 7, minlength=7).astype(float)
    occurs = np.bincount((np.arange(max(1, math.ceil(days))) + start_weekday) % 7, minlength=7).astype(float)
    rate = np.divide(counts, occurs, out=np.full(7, np.nan), where=occurs > 0)
    total = np.nansum(rate)
    out: NDArray[np.float64] = rate / total if total > 0 else rate
    return out


def _day_index(time_min: NDArray[np.float64], days: float) -> NDArray[np.int64]:
    last = max(1, math.ceil(days)) - 1
    return np.clip(np.floor(np.asarray(time_min, dtype=np.float64) / 1440.0), 0, last).astype(np.int64)


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class Validation:
    """Simulated against real on the test period; every table is a DataFrame.

    Attributes
    ----------
    measures
        One row per measure (:data:`MEASURE_COLUMNS`): simulated and real values with their 95%
        intervals, what chance gives, simulated / real, and a note (the reason when not measurable).
    targets
        One row per target of the issue (:data:`TARGET_COLUMNS`): ``status`` pass, fail or not
        measurable, and the reason in words.
    hours, weekdays
        The profiles for curves: ``hour`` (0-23), or ``weekday`` (0 = Monday) and ``name``, then
        :data:`PROFILE_COLUMNS`; empty when not measurable.
    segments
        ``segment``, ``sim_mean`` (mean crimes per replication) and ``real`` (real crimes).
    info
        Counts, periods and methods (plain JSON values).
    """

    measures: pd.DataFrame
    targets: pd.DataFrame
    hours: pd.DataFrame
    weekdays: pd.DataFrame
    segments: pd.DataFrame
    info: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON types (NaN as None): the content of ``validation.json``."""
        out: dict[str, Any] = _json_safe({
            "format": "precinct-validation/1", "info": dict(self.info),
            "measures": self.measures.to_dict("records"), "targets": self.targets.to_dict("records"),
            "hours": self.hours.to_dict("records"), "weekdays": self.weekdays.to_dict("records"),
            "segments": {c: self.segments[c].tolist() for c in ("sim_mean", "sim_expected", "real")
                         if c in self.segments.columns},
        })  # fmt: skip
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Validation:
        """Rebuild from :meth:`to_dict` (or a loaded ``validation.json``; other keys are ignored)."""
        seg = data["segments"]
        segments = pd.DataFrame({"segment": np.arange(len(seg["real"]), dtype=np.int64),
                                 "sim_mean": np.asarray(seg["sim_mean"], dtype=float),
                                 "real": np.asarray(seg["real"], dtype=np.int64)})  # fmt: skip
        if seg.get("sim_expected") is not None:
            segments["sim_expected"] = np.asarray(seg["sim_expected"], dtype=float)
        return cls(
            _frame(data["measures"], MEASURE_COLUMNS), _frame(data["targets"], TARGET_COLUMNS),
            _frame(data["hours"], ["hour", *PROFILE_COLUMNS]),
            _frame(data["weekdays"], ["weekday", "name", *PROFILE_COLUMNS]), segments, dict(data["info"]),
        )  # fmt: skip

    def with_forecasts(self, forecasts: pd.DataFrame, *, model: str = MODEL_FORECASTER) -> Validation:
        """Return a copy whose hit-rate target is judged on scored hot-spot forecasts.

        Parameters
        ----------
        forecasts
            Columns ``forecaster``, ``coverage`` (share of street length, or percent), ``hit_rate``,
            ... as :func:`write_validation` takes them.
        model
            The calibrated model's forecaster; every other one except ``oracle`` is a naive one.
        """
        row = _hit_rate_target(forecasts, model)
        kept = self.targets[self.targets["target"] != "hit_rate"]
        return dataclasses.replace(self, targets=pd.concat([kept, pd.DataFrame([row])], ignore_index=True))


def _frame(records: Sequence[Mapping[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(records), columns=columns)
    for c in columns:
        if c in ("sim", "real", "chance", "ratio", "naive", "naive_ratio", "value") or c.endswith(
            ("_lo", "_hi")
        ):
            frame[c] = frame[c].astype(float)
    return frame


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return None if obj is pd.NA else obj


# --------------------------------------------------------------------------- estimates
def _interval(
    draws: Sequence[float] | NDArray[np.float64], point: float | None = None
) -> tuple[float, float]:
    """Return the 95% percentile interval of bootstrap ``draws``, shifted by their bias when ``point`` is given.

    Resampling events with replacement duplicates some, which concentrates crime on fewer
    segments and adds noise to a profile: the draws of those measures sit off the estimate, so
    their interval is moved by ``mean(draws) - point`` (and kept at or above 0).
    """
    d = np.asarray(draws, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size < 2:
        return math.nan, math.nan
    lo, hi = np.quantile(d, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    if point is None or not math.isfinite(point):
        return float(lo), float(hi)
    bias = float(d.mean()) - point
    return max(0.0, float(lo) - bias), max(0.0, float(hi) - bias)


def _across(values: Sequence[float] | NDArray[np.float64]) -> _Estimate:
    """Return the mean over replications with its Student-t interval (kept at or above 0: counts and shares)."""
    ci = mean_ci(np.asarray(values, dtype=np.float64), confidence=CONFIDENCE)
    return ci.mean, max(0.0, ci.low) if math.isfinite(ci.low) else ci.low, ci.high


def _subsample(crimes: pd.DataFrame, n: int, gen: np.random.Generator) -> pd.DataFrame:
    return crimes if len(crimes) <= n else crimes.iloc[np.sort(gen.choice(len(crimes), n, replace=False))]


def _share_holding_half(segments: NDArray[np.int64], n_segments: int) -> float:
    return m.segments_holding_share(np.bincount(segments, minlength=n_segments), 0.5)


def _knox_ratio(crimes: pd.DataFrame, gen: np.random.Generator) -> float:
    table = m.knox_table(
        crimes["x"].to_numpy(), crimes["y"].to_numpy(), crimes["time_min"].to_numpy() / 1440.0,
        distance_bands_m=(0.0, KNOX_DISTANCE_M), time_bands_days=(0.0, KNOX_DAYS), n_permutations=99, rng=gen,
    )  # fmt: skip
    return float(table["knox_ratio"].iloc[0])


def _boot_rate(
    daily: NDArray[np.float64], days: float, gen: np.random.Generator, n_boot: int
) -> NDArray[np.float64]:
    """Bootstrap over days: ``n_boot`` totals of resampled daily counts, per day of ``days``."""
    out: NDArray[np.float64] = daily[gen.integers(0, daily.size, (n_boot, daily.size))].sum(axis=1) / days
    return out


def _poisson_rate_interval(count: int, days: float) -> tuple[float, float]:
    """Exact (Garwood) 95% interval of a Poisson count, per day: for dates known to the month only."""
    lo = stats.chi2.ppf((1 - CONFIDENCE) / 2, 2 * count) / 2 if count > 0 else 0.0
    return float(lo) / days, float(stats.chi2.ppf((1 + CONFIDENCE) / 2, 2 * count + 2) / 2) / days


def _spearman(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan  # a constant ranking has no rank correlation
    return float(stats.spearmanr(a, b).statistic)


# --------------------------------------------------------------------------- the measures
@dataclass(frozen=True)
class _Data:
    """The inputs of :func:`validate`, checked, with the real crimes split by how well their times are known."""

    sims: list[pd.DataFrame]
    real: pd.DataFrame
    clock: pd.DataFrame  # real crimes with a clock time
    dated: pd.DataFrame  # real crimes with a known day
    net: StreetNetwork
    sim_days: float
    real_days: float
    start_weekday: int
    n_boot: int
    timed: bool
    fit_rates: Mapping[str, float] | None = None
    sim_hours: NDArray[np.float64] | None = None  # replications x 24: expected recorded crimes per hour

    @property
    def by_reps(self) -> bool:
        return len(self.sims) >= 3

    def sim_estimate(
        self, per_rep: Sequence[float], draws: Callable[[], Sequence[float] | NDArray[np.float64]]
    ) -> _Estimate:
        """Mean over replications; its interval across them, or from the bootstrap ``draws`` with fewer than 3."""
        if self.by_reps:
            return _across(per_rep)
        finite = [v for v in per_rep if math.isfinite(v)]
        mean = float(np.mean(finite)) if finite else math.nan
        return (mean, *_interval(draws(), mean))


def _row(measure: str, sim: _Estimate = _NAN3, real: _Estimate = _NAN3, chance: float = math.nan, note: str = "",
         *, label: str = "", naive: float = math.nan) -> dict[str, Any]:  # fmt: skip
    group, default, unit = _MEASURES.get(measure, ("volume", "", "recorded crimes per day"))
    ratio = sim[0] / real[0] if real[0] > 0 and math.isfinite(sim[0]) else math.nan
    naive_ratio = naive / real[0] if real[0] > 0 and math.isfinite(naive) else math.nan
    values = (measure, group, label or default, unit, *sim, *real, chance, ratio, naive, naive_ratio, note)
    return dict(zip(MEASURE_COLUMNS, values, strict=True))


def _too_few(n: int, what: str) -> str:
    return f"not measurable: {what} {n:,} crimes; {MIN_EQUAL_COUNT} are needed"


def validate(
    sims: list[pd.DataFrame],
    real: pd.DataFrame,
    net: StreetNetwork,
    *,
    sim_days: float,
    real_days: float,
    timed: bool,
    rng: int = 0,
    n_boot: int = 500,
    start_weekday: int = 0,
    sim_risk: NDArray[np.float64] | None = None,
    fit_rates: Mapping[str, float] | None = None,
    sim_hours: Sequence[NDArray[np.float64]] | None = None,
) -> Validation:
    """Compare simulated replications of the test period with its real recorded crime.

    Parameters
    ----------
    sims
        One table of recorded simulated crimes per replication (``segment``, ``x``, ``y``,
        ``time_min``, ``crime_type``; rows of another ``kind`` are left out), each spanning ``sim_days``.
    real
        The real recorded crimes of the modelled types in the test period, same columns; an optional
        ``time_known`` column ("minute", "day", "month") says which rows have a clock time or a day.
    net
        The street network both are on.
    sim_days, real_days
        Length of one replication and of the real test period, in days.
    timed
        Whether the real times have clock times. False (month-only police.uk dates) leaves the
        Knox ratio and the hour profile not measurable; the weekday profile needs days, so it is
        measured only where ``time_known`` says "day" or "minute".
    rng
        Seed of every subsample, bootstrap and permutation.
    n_boot
        Bootstrap draws per interval.
    start_weekday
        Weekday of the test period's first day (0 = Monday); ``time_min`` 0 is its midnight.
    sim_risk
        The model's expected recorded crimes per segment over the period, mean over the
        replications (the runs' ``crimes_recorded_expected``); the spatial agreement and hit rate
        rank segments by it. Without it they rank by the mean simulated count.
    fit_rates
        Recorded crimes per day in the fit period, ``"all"`` and per type: the naive forecast "the
        test period is like the fit period". Each volume row then shows it beside the model's
        (``naive``, ``naive_ratio``), so a miss the data's own change between the periods explains
        (a season) is told apart from one that is the model's.
    sim_hours
        Per replication, the model's expected recorded crimes in each hour of the day (24 values,
        on the drawn crimes' scale). The hour-of-day measure then compares the model's expected
        profile with the real one, without the noise of which crimes the runs happened to draw
        (the draws' profile is measured beside it, ``hour_tv_drawn``, and judged by no target).

    Returns
    -------
    Validation
    """
    if not sims:
        raise ValueError("validate: no simulated replications were given")
    real = m.select_crimes(real)
    if real.empty:
        raise ValueError("validate: the test period has no real crimes of the modelled types; choose an earlier "
                         "calibrate.fit_end so that it holds some")  # fmt: skip
    if not (sim_days > 0 and real_days > 0):
        raise ValueError(f"validate: sim_days and real_days must be positive, got {sim_days} and {real_days}")
    known = real["time_known"].astype(str).to_numpy() if "time_known" in real.columns else None
    dated = known != "month" if known is not None else np.full(len(real), timed)
    clock = (known == "minute") & timed if known is not None else np.full(len(real), timed)
    hours_in = None
    if sim_hours is not None:
        hours_in = np.asarray(sim_hours, dtype=np.float64)
        if hours_in.shape != (len(sims), 24) or not np.all(np.isfinite(hours_in) & (hours_in >= 0)):
            raise ValueError(f"validate: sim_hours must be {len(sims)} rows (one per replication) of 24 finite "
                             "numbers >= 0")  # fmt: skip
    d = _Data([m.select_crimes(s) for s in sims], real, real[clock], real[dated], net, float(sim_days),
              float(real_days), int(start_weekday), int(n_boot), bool(timed),
              None if fit_rates is None else dict(fit_rates), hours_in)  # fmt: skip
    # one stream per measure, so that adding a measure never changes another's draws
    gens = [np.random.default_rng(s) for s in np.random.SeedSequence(rng).spawn(6)]
    sim_mean = np.mean([m.count_crimes_per_segment(s, net.n_segments) for s in d.sims], axis=0)
    if sim_risk is not None:
        sim_risk = np.asarray(sim_risk, dtype=np.float64)
        if sim_risk.shape != (net.n_segments,) or not np.all(np.isfinite(sim_risk) & (sim_risk >= 0)):
            raise ValueError(
                f"validate: sim_risk must be {net.n_segments} finite numbers >= 0, one per segment"
            )
    hour_rows, hours = _hours(d, gens[3])
    week_row, weekdays = _weekdays(d, gens[4])
    rows = [*_volume_rows(d, gens[0]), _concentration_row(d, gens[1]), _knox_row(d, gens[2]), *hour_rows, week_row,
            *_space_rows(d, sim_mean if sim_risk is None else sim_risk, gens[5], expected=sim_risk is not None)]  # fmt: skip
    measures = pd.DataFrame(rows, columns=MEASURE_COLUMNS)
    interval = (f"Student-t interval of the mean across {len(d.sims)} replications" if d.by_reps else
                f"bootstrap over simulated events or days ({len(d.sims)} replication(s), fewer than 3)")  # fmt: skip
    info = {
        "n_replications": len(d.sims), "sim_events": [len(s) for s in d.sims], "real_events": len(real),
        "real_events_with_day": len(d.dated), "real_events_with_clock_time": len(d.clock),
        "sim_days": d.sim_days, "real_days": d.real_days, "timed": bool(timed), "start_weekday": d.start_weekday,
        "rng": int(rng), "n_boot": d.n_boot, "confidence": CONFIDENCE, "sim_interval": interval,
    }  # fmt: skip
    real_counts = m.count_crimes_per_segment(real, net.n_segments)
    segments = pd.DataFrame({"segment": np.arange(net.n_segments), "sim_mean": sim_mean, "real": real_counts})
    if sim_risk is not None:
        segments["sim_expected"] = sim_risk
    return Validation(measures, _check_targets(measures), hours, weekdays, segments, info)


def _volume_rows(d: _Data, gen: np.random.Generator) -> list[dict[str, Any]]:
    """Return recorded crimes per day, all types then each type; real intervals by day, or Poisson."""
    present = set(d.real["crime_type"].astype(str)).union(*(set(s["crime_type"].astype(str)) for s in d.sims))
    rows = []
    for kind in ["all", *(t for t in CRIME_TYPES if t in present), *sorted(present - set(CRIME_TYPES))]:
        mine = [s if kind == "all" else s[s["crime_type"].astype(str) == kind] for s in d.sims]
        theirs = d.real if kind == "all" else d.real[d.real["crime_type"].astype(str) == kind]
        daily = np.concatenate([np.bincount(_day_index(s["time_min"].to_numpy(float), d.sim_days),
                                            minlength=math.ceil(d.sim_days)) for s in mine]).astype(float)  # fmt: skip
        draws = functools.partial(_boot_rate, daily, len(mine) * d.sim_days, gen, d.n_boot)
        sim = d.sim_estimate([len(s) / d.sim_days for s in mine], draws)
        # a crime missing from the file as reported too late is counted in by weight (count_weight)
        weight = theirs["count_weight"].to_numpy(float) if "count_weight" in theirs.columns else None
        n_real = float(weight.sum()) if weight is not None else float(len(theirs))
        if len(d.dated) == len(d.real):
            real_daily = np.bincount(_day_index(theirs["time_min"].to_numpy(float), d.real_days), weights=weight,
                                     minlength=math.ceil(d.real_days)).astype(float)  # fmt: skip
            lo_hi = _interval(_boot_rate(real_daily, d.real_days, gen, d.n_boot))
        else:
            lo, hi = _poisson_rate_interval(len(theirs), d.real_days)
            lo_hi = (lo * n_real / max(len(theirs), 1), hi * n_real / max(len(theirs), 1))
        label = (
            "All modelled types" if kind == "all" else (OFFENCES[kind].label if kind in OFFENCES else kind)
        )
        note = "" if len(theirs) >= MIN_TYPE_EVENTS else (
            f"not measurable: only {len(theirs)} real crimes ({MIN_TYPE_EVENTS} are needed to test a 20% band)")  # fmt: skip
        naive = float(d.fit_rates.get(kind, 0.0)) if d.fit_rates is not None else math.nan
        rows.append(_row(f"volume_{kind}", sim, (n_real / d.real_days, *lo_hi), note=note, label=label,
                         naive=naive))  # fmt: skip
    return rows


def _concentration_row(d: _Data, gen: np.random.Generator) -> dict[str, Any]:
    """Share of segments holding 50% of crime, each set subsampled to the smaller count."""
    n = min(min(len(s) for s in d.sims), len(d.real))
    if n < MIN_EQUAL_COUNT:
        return _row("concentration", note=_too_few(n, "the smaller set has"))
    k = d.net.n_segments

    def boot(segments: NDArray[np.int64]) -> list[float]:
        return [_share_holding_half(gen.choice(segments, n), k) for _ in range(d.n_boot)]

    shares = [_share_holding_half(_subsample(s, n, gen)["segment"].to_numpy(np.int64), k) for s in d.sims]
    pooled = np.concatenate([s["segment"].to_numpy(np.int64) for s in d.sims])
    sim = d.sim_estimate(shares, lambda: boot(pooled))
    real = _share_holding_half(_subsample(d.real, n, gen)["segment"].to_numpy(np.int64), k)
    real_est = (real, *_interval(boot(d.real["segment"].to_numpy(np.int64)), real))
    chance = m.random_allocation_concentration(n, d.net.segment_length_m, gen, 100, fractions=(0.05,))
    return _row(
        "concentration",
        sim,
        real_est,
        float(chance["segments_holding_0.5"].mean()),
        f"{n:,} crimes in each set",
    )


def _knox_row(d: _Data, gen: np.random.Generator) -> dict[str, Any]:
    """Knox ratio of the first band at equal counts; no interval for real (see the note)."""
    n = min(min(len(s) for s in d.sims), len(d.clock))
    if not d.timed:
        return _row("knox", note=_NO_CLOCK)
    if min(d.sim_days, d.real_days) < 2 * KNOX_DAYS:  # nearly every pair would fall within the band
        return _row("knox", note=f"not measurable: the test period is shorter than {2 * KNOX_DAYS:g} days, twice "
                    f"the Knox time band, so nearly every pair of crimes falls within {KNOX_DAYS:g} days")  # fmt: skip
    if n < MIN_EQUAL_COUNT:
        return _row("knox", note=_too_few(n, "the smaller set (crimes with a clock time) has"))
    ratios = [_knox_ratio(_subsample(s, n, gen), gen) for s in d.sims]
    finite = [r for r in ratios if math.isfinite(r)]
    sim = (
        _across(ratios) if d.by_reps else (float(np.mean(finite)) if finite else math.nan, math.nan, math.nan)
    )
    real = _knox_ratio(_subsample(d.clock, n, gen), gen)
    if not math.isfinite(real):
        note = f"not measurable: no pair of real crimes is expected within {KNOX_DISTANCE_M:g} m and {KNOX_DAYS:g} days"
    else:  # resampling events duplicates them, and a duplicate is a pair at 0 m and 0 days
        note = f"{n:,} crimes in each set; no interval for real: resampled duplicates would count as near repeats"
    return _row("knox", sim, (real, math.nan, math.nan), 1.0, note)


def _profile_row(key: str, x: pd.DataFrame, real: pd.DataFrame, profiles: tuple[_Profile, _Profile], d: _Data,
                 gen: np.random.Generator) -> tuple[dict[str, Any], pd.DataFrame]:  # fmt: skip
    """Total variation of the pooled simulated profile from the real one, and both profiles with bands.

    ``profiles`` turn event times into the simulated and the real profile. The bands and the
    interval of the total variation are a bootstrap over events (the simulated band is across
    replications when there are three or more).
    """
    sim_profile, real_profile = profiles
    sim_times = [s["time_min"].to_numpy(float) for s in d.sims]
    pooled, real_times = np.concatenate(sim_times), real["time_min"].to_numpy(float)

    def draws(times: NDArray[np.float64], n: int, profile: _Profile, k: int) -> NDArray[np.float64]:
        return np.vstack([profile(gen.choice(times, n)) for _ in range(k)])

    p_sim, p_real = sim_profile(pooled), real_profile(real_times)
    sim_draws = draws(pooled, pooled.size, sim_profile, d.n_boot)
    real_draws = draws(real_times, real_times.size, real_profile, d.n_boot)
    if d.by_reps:
        per_rep = np.vstack([sim_profile(t) for t in sim_times])
        sim_curve = np.array([_across(per_rep[:, j]) for j in range(per_rep.shape[1])])
    else:
        sim_curve = np.column_stack([p_sim, np.array([_interval(c) for c in sim_draws.T])])
    # what sampling alone gives: two samples of these sizes from the real profile
    k = min(d.n_boot, 100)
    noise = draws(real_times, pooled.size, real_profile, k)
    chance = float(np.mean([total_variation(a, b) for a, b in zip(noise, real_draws[:k], strict=True)]))
    note = f"{pooled.size:,} simulated and {real_times.size:,} real crimes; chance: the total variation of sampling noise alone"
    return _profile_result(key, x, (p_sim, sim_curve, sim_draws), (p_real, real_draws), chance, note)


def _profile_result(
    key: str,
    x: pd.DataFrame,
    sim: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    real: tuple[NDArray[np.float64], NDArray[np.float64]],
    chance: float,
    note: str,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Return a profile's row and curves: ``sim`` is its profile, band (bins x 3) and bootstrap draws, ``real`` its profile and draws."""
    (p_sim, sim_curve, sim_draws), (p_real, real_draws) = sim, real
    real_curve = np.column_stack([p_real, np.array([_interval(c) for c in real_draws.T])])
    curves = pd.concat([x, pd.DataFrame(np.hstack([sim_curve, real_curve]), columns=PROFILE_COLUMNS)], axis=1)
    tv = total_variation(p_sim, p_real)
    tv_draws = [total_variation(a, b) for a, b in zip(sim_draws, real_draws, strict=True)]
    return _row(key, (tv, *_interval(tv_draws, tv)), chance=chance, note=note), curves


def _expected_hours_row(x: pd.DataFrame, real: pd.DataFrame, d: _Data, gen: np.random.Generator
                        ) -> tuple[dict[str, Any], pd.DataFrame]:  # fmt: skip
    """Total variation of the model's expected hour profile (``d.sim_hours``) from the real one.

    The simulated side has no event sampling: its band and the interval's simulated part resample
    the replications (with three or more; else only the real events are resampled). Chance is the
    total variation of a sample of the real size from the real profile itself.
    """
    assert d.sim_hours is not None
    per_rep = d.sim_hours / np.maximum(d.sim_hours.sum(axis=1, keepdims=True), 1e-300)
    pooled = d.sim_hours.sum(axis=0)
    p_sim = pooled / pooled.sum()
    real_times = real["time_min"].to_numpy(float)
    p_real = hour_profile(real_times)
    real_draws = np.vstack([hour_profile(gen.choice(real_times, real_times.size)) for _ in range(d.n_boot)])
    if d.by_reps:
        picks = gen.integers(0, len(per_rep), size=(d.n_boot, len(per_rep)))
        sim_draws = np.vstack([d.sim_hours[i].sum(axis=0) for i in picks])
        sim_draws /= sim_draws.sum(axis=1, keepdims=True)
        sim_curve = np.array([_across(per_rep[:, j]) for j in range(24)])
    else:
        sim_draws = np.repeat(p_sim[None, :], d.n_boot, axis=0)
        sim_curve = np.column_stack([p_sim, p_sim, p_sim])
    chance = float(np.mean([total_variation(p_real, b) for b in real_draws[: min(d.n_boot, 100)]]))
    note = (f"the model's expected recorded crimes by hour over {len(per_rep)} replications against "
            f"{real_times.size:,} real crimes; chance: the total variation of the real crimes' sampling alone")  # fmt: skip
    return _profile_result("hour_tv", x, (p_sim, sim_curve, sim_draws), (p_real, real_draws), chance, note)


def _hours(d: _Data, gen: np.random.Generator) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Return the hour-of-day rows (the model's expected profile first when given, then the draws') and curves."""
    n_sim, note = sum(len(s) for s in d.sims), ""
    if not d.timed:
        note = _NO_CLOCK
    elif len(d.clock) < MIN_EQUAL_COUNT:
        note = _too_few(len(d.clock), "real crimes with a clock time:")
    elif n_sim < MIN_EQUAL_COUNT:
        note = _too_few(n_sim, "the replications recorded")
    if note:
        return [_row("hour_tv", note=note)], pd.DataFrame(columns=["hour", *PROFILE_COLUMNS])
    x = pd.DataFrame({"hour": np.arange(24)})
    if d.sim_hours is None:
        row, curves = _profile_row("hour_tv", x, d.clock, (hour_profile, hour_profile), d, gen)
        return [row], curves
    row, curves = _expected_hours_row(x, d.clock, d, gen)
    drawn, _ = _profile_row("hour_tv", x, d.clock, (hour_profile, hour_profile), d, gen)
    drawn.update(measure="hour_tv_drawn", label=_MEASURES["hour_tv_drawn"][1])
    return [row, drawn], curves


def _weekdays(d: _Data, gen: np.random.Generator) -> tuple[dict[str, Any], pd.DataFrame]:
    note = ""
    if min(d.sim_days, d.real_days) < 7:
        note = "not measurable: the test period is shorter than a week"
    elif d.dated.empty:
        note = "not measurable: the real crimes are dated to the month only"
    elif len(d.dated) < MIN_EQUAL_COUNT:
        note = _too_few(len(d.dated), "real crimes with a known day:")
    elif sum(len(s) for s in d.sims) < MIN_EQUAL_COUNT:
        note = _too_few(sum(len(s) for s in d.sims), "the replications recorded")
    if note:
        return _row("weekday_tv", note=note), pd.DataFrame(columns=["weekday", "name", *PROFILE_COLUMNS])

    def sim_profile(t: NDArray[np.float64]) -> NDArray[np.float64]:
        return weekday_profile(t, d.sim_days, start_weekday=d.start_weekday)

    def real_profile(t: NDArray[np.float64]) -> NDArray[np.float64]:
        return weekday_profile(t, d.real_days, start_weekday=d.start_weekday)

    x = pd.DataFrame({"weekday": np.arange(7), "name": list(WEEKDAYS)})
    return _profile_row("weekday_tv", x, d.dated, (sim_profile, real_profile), d, gen)


def _space_rows(
    d: _Data, sim_mean: NDArray[np.float64], gen: np.random.Generator, *, expected: bool = False
) -> list[dict[str, Any]]:
    """Spearman over segments (bootstrap over segments); hit rate at 5% of street length (over real crimes).

    ``sim_mean`` is the mean simulated count per segment, or with ``expected`` the model's expected
    recorded crime per segment (the labels say which).
    """
    k = d.net.n_segments
    real_counts = m.count_crimes_per_segment(d.real, k).astype(float)
    rho = _spearman(sim_mean, real_counts)
    boot = [_spearman(sim_mean[i], real_counts[i]) for i in (gen.integers(0, k, k) for _ in range(d.n_boot))]
    note = (
        ""
        if math.isfinite(rho)
        else "not measurable: every segment has the same count in one of the two sets"
    )
    length = d.net.segment_length_m.astype(float)
    score = forecast.score_forecast(sim_mean, real_counts, length, coverages=(HIT_COVERAGE,)).iloc[0]
    hit, pei = float(score["hit_rate"]), float(score["pei"])
    oracle = float(score["oracle_captured"] / score["n_crimes"])
    segments = d.real["segment"].to_numpy(np.int64)

    def hit_rate(crimes: NDArray[np.int64]) -> float:
        counts = np.bincount(crimes, minlength=k).astype(float)
        return float(forecast.count_captured(sim_mean, counts, length, (HIT_COVERAGE,))[0] / crimes.size)

    draws = [hit_rate(gen.choice(segments, segments.size)) for _ in range(d.n_boot)]
    pei_text = f"; PEI {pei:.2f}" if math.isfinite(pei) else ""
    labels = {"spearman": "", "hit_rate": ""}
    if expected:
        labels = {"spearman": "Rank correlation over segments (Spearman) of the model's expected and the real counts",
                  "hit_rate": f"Hit rate at {HIT_COVERAGE:.0%} of street length, segments ranked by the model's "
                              "expected recorded crime per metre"}  # fmt: skip
    return [
        _row("spearman", (rho, *_interval(boot)), chance=0.0, note=note, label=labels["spearman"]),
        _row("hit_rate", (hit, *_interval(draws)), (oracle, math.nan, math.nan), HIT_COVERAGE,
             f"real: the oracle's hit rate, segments ranked by real crimes per metre{pei_text}",
             label=labels["hit_rate"]),
    ]  # fmt: skip


# --------------------------------------------------------------------------- targets
def _target(
    target: str, label: str, value: float, threshold: str, ok: bool | None, reason: str
) -> dict[str, Any]:
    status = NOT_MEASURABLE if ok is None else (PASS if ok else FAIL)
    return dict(zip(TARGET_COLUMNS, (target, target, label, value, threshold, status, reason), strict=True))


def _edge_digits(value: float, edges: tuple[float, ...], digits: int = 2) -> int:
    """Return ``digits``, or two more when the value rounds onto a band's edge (0.7996 is not 0.80: it fails 0.80-1.20)."""
    if math.isfinite(value) and any(round(value, digits) == round(e, digits) and value != e for e in edges):
        return digits + 2
    return digits


def _at_edge(value: float, edges: tuple[float, ...], digits: int = 2) -> str:
    """Format ``value`` with ``digits`` decimals, or with those that decide it on a band's edge (:func:`_edge_digits`)."""
    return f"{value:.{_edge_digits(value, edges, digits)}f}"


def _target_edges(target: str) -> tuple[float, ...]:
    """Return the band edges of a target (:func:`_check_targets`)."""
    if target.startswith("volume_"):
        return (1 - VOLUME_TOLERANCE, 1 + VOLUME_TOLERANCE)
    return {"concentration": CONCENTRATION_RATIO, "knox": (1 - KNOX_TOLERANCE, 1 + KNOX_TOLERANCE),
            "hour_tv": (HOUR_TV_MAX,), "hit_rate": (HIT_RATE_SHARE,)}.get(target, ())  # fmt: skip


def _unmeasurable(note: str) -> str | None:
    return note.removeprefix("not measurable: ") if note.startswith("not measurable") else None


def _check_targets(measures: pd.DataFrame) -> pd.DataFrame:
    """Return each measure the issue sets a target for, checked against it."""
    rows = []
    lo_v, hi_v = 1 - VOLUME_TOLERANCE, 1 + VOLUME_TOLERANCE
    by = {r["measure"]: r for r in measures.to_dict("records")}
    for key, r in ((k, r) for k, r in by.items() if k.startswith("volume_")):
        why = _unmeasurable(r["note"])
        reason = (
            why
            or f"{r['label']}: simulated {r['sim']:.3g} per day is "
            f"{_at_edge(r['ratio'], (lo_v, hi_v))}x the real {r['real']:.3g}"
        )
        if not why and math.isfinite(r.get("naive_ratio", math.nan)):
            shifted = not lo_v <= r["naive_ratio"] <= hi_v
            reason += (f"; the fit period's own rate, {r['naive']:.3g} per day, is {r['naive_ratio']:.2f}x the test "
                       f"period's ({'outside the band too: the real rate itself changed between the periods, by season or by chance' if shifted else 'within the band'})")  # fmt: skip
        ok = None if why else bool(lo_v <= r["ratio"] <= hi_v)
        rows.append(
            _target(
                key, f"Volume: {r['label']}", r["ratio"], f"sim / real in {lo_v:.2f}-{hi_v:.2f}", ok, reason
            )
        )
    r, (lo_c, hi_c) = by["concentration"], CONCENTRATION_RATIO
    why = _unmeasurable(r["note"])
    in_band, below = lo_c <= r["ratio"] <= hi_c, r["sim"] < r["chance"]
    reason = why or (f"concentration: the simulated share of segments holding half the crimes, {r['sim']:.4f}, is "
                     f"{_at_edge(r['ratio'], CONCENTRATION_RATIO)}x the real {r['real']:.4f} ({'inside' if in_band else 'outside'} {lo_c}-{hi_c}x) "
                     f"and {'below' if below else 'not below'} chance ({r['chance']:.4f})")  # fmt: skip
    rows.append(_target("concentration", "Concentration at equal counts", r["ratio"],
                        f"sim / real in {lo_c}-{hi_c}, and sim below chance", None if why else bool(in_band and below), reason))  # fmt: skip
    r = by["hour_tv"]
    why = _unmeasurable(r["note"])
    reason = why or (f"hour of day: total variation {_at_edge(r['sim'], (HOUR_TV_MAX,), 3)} from the real profile (sampling noise alone "
                     f"gives {r['chance']:.3f} at these counts)")  # fmt: skip
    drawn = by.get("hour_tv_drawn")
    if not why and drawn is not None:
        reason = (f"hour of day: the model's expected profile is at total variation {_at_edge(r['sim'], (HOUR_TV_MAX,), 3)} from the real "
                  f"one (the real crimes' sampling alone gives {r['chance']:.3f}); the crimes its runs drew, "
                  f"{drawn['sim']:.3f}")  # fmt: skip
    rows.append(_target("hour_tv", "Hour-of-day profile", r["sim"], f"total variation at most {HOUR_TV_MAX}",
                        None if why else bool(r["sim"] <= HOUR_TV_MAX), reason))  # fmt: skip
    r = by["knox"]
    why = _unmeasurable(r["note"])
    rows.append(_target("knox", "Near repeats (Knox)", r["ratio"],
                        f"sim / real in {1 - KNOX_TOLERANCE:.2f}-{1 + KNOX_TOLERANCE:.2f}",
                        None if why else bool(abs(r["ratio"] - 1) <= KNOX_TOLERANCE),
                        why or f"Knox: simulated ratio {r['sim']:.2f} is {_at_edge(r['ratio'], _target_edges('knox'))}x the real {r['real']:.2f}"))  # fmt: skip
    rows.append(_target("hit_rate", _HIT_LABEL, math.nan, _HIT_THRESHOLD, None,
                        "no hot-spot forecasts were scored, so there is no naive forecaster to compare with"))  # fmt: skip
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)


_HIT_LABEL = f"Hot-spot forecast: hit rate at {HIT_COVERAGE:.0%} of street length"
_HIT_THRESHOLD = f"at least {HIT_RATE_SHARE:.0%} of the best naive forecaster's"


def _coverage_share(forecasts: pd.DataFrame) -> NDArray[np.float64]:
    """Return coverage as a share of street length; a column above 1 was given in percent."""
    coverage = forecasts["coverage"].to_numpy(dtype=float)
    out: NDArray[np.float64] = coverage / 100.0 if coverage.size and coverage.max() > 1 else coverage
    return out


def _hit_rate_target(forecasts: pd.DataFrame, model: str) -> dict[str, Any]:
    at = forecasts[np.isclose(_coverage_share(forecasts), HIT_COVERAGE)]
    mine = at[at["forecaster"] == model]
    naive = at[~at["forecaster"].isin([model, MODEL_RUNS_FORECASTER, MODEL_SMOOTHED_FORECASTER, "oracle"])]
    if mine.empty or naive.empty:
        missing = f"no forecaster '{model}'" if mine.empty else "no naive forecaster"
        return _target("hit_rate", _HIT_LABEL, math.nan, _HIT_THRESHOLD, None,
                       f"the scored forecasts have {missing} at {HIT_COVERAGE:.0%} coverage")  # fmt: skip
    best = naive.iloc[int(np.argmax(naive["hit_rate"].to_numpy(dtype=float)))]
    ours, theirs = float(mine["hit_rate"].iloc[0]), float(best["hit_rate"])
    value = ours / theirs if theirs > 0 else math.nan
    return _target("hit_rate", _HIT_LABEL, value, _HIT_THRESHOLD, bool(ours >= HIT_RATE_SHARE * theirs),
                   f"the calibrated model's hit rate {ours:.3f} is {value:.2f}x the best naive forecaster's "
                   f"({best['forecaster']}, {theirs:.3f}): it {'beats' if ours > theirs else 'does not beat'} it")  # fmt: skip


# --------------------------------------------------------------------------- the page
_DIGITS = {
    "volume": 2,
    "concentration": 4,
    "knox": 2,
    "hour_tv": 3,
    "hour_tv_drawn": 3,
    "weekday_tv": 3,
    "spearman": 2,
    "hit_rate": 3,
}
_GROUPS = {
    "volume": "How much crime: recorded crimes per day",
    "place": "How concentrated",
    "time": "When: near repeats and profiles",
    "space": "Where: agreement street by street",
}
_STATUS_CSS = {PASS: "pass", FAIL: "fail", NOT_MEASURABLE: "na"}


def write_validation(
    validation: Validation,
    out_dir: Path,
    *,
    net: StreetNetwork,
    meta: Mapping[str, Any],
    forecasts: pd.DataFrame | None = None,
) -> tuple[Path, Path]:
    """Write ``validation.json`` and ``validation.html`` into ``out_dir``, each atomically.

    Parameters
    ----------
    validation
        The result of :func:`validate`.
    out_dir
        The calibration folder (created if missing).
    net
        The network the validation was made on, for the maps.
    meta
        What the page's header and footer say: ``city`` (name), ``map`` and ``incidents`` (files),
        ``fit_period`` and ``test_period`` (``[first, last]`` dates or a phrase), ``n_replications``,
        ``parameters`` (a list of dicts ``name``, ``value``, ``lo``, ``hi``, ``unit``),
        ``calibration_hash``, ``version``, ``attribution`` (the crime data's licence line) and
        ``population_seed`` (the replications' shared synthetic population, or None). Stored in the
        JSON under ``meta``.
    forecasts
        Scored hot-spot forecasts (``forecaster``, ``coverage``, ``hit_rate``, ``hit_rate_lo``,
        ``hit_rate_hi``, ``pai``, ``pai_lo``, ``pai_hi``, ``pei``, ``pei_lo``, ``pei_hi``,
        ``n_weeks``, and ``period``, "week" or "month", the length of each forecast's period:
        ``n_weeks`` counts periods); they judge the hit-rate target and get a section of their own.

    Returns
    -------
    tuple of Path
        The JSON file and the HTML file.
    """
    if len(validation.segments) != net.n_segments:
        raise ValueError(
            f"write_validation: the validation has {len(validation.segments)} segments but the "
            f"network {net.n_segments}: pass the network it was made on"
        )
    if forecasts is not None:
        validation = validation.with_forecasts(forecasts)
    page = _render(validation, net, meta, forecasts)
    doc = {
        **validation.to_dict(),
        "meta": _json_safe(dict(meta)),
        "forecasts": None if forecasts is None else _json_safe(forecasts.to_dict("records")),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = write_file(out / "validation.json", json.dumps(doc, indent=1, allow_nan=False) + "\n")
    return json_path, write_file(out / "validation.html", page)


def _esc(value: object) -> str:
    return html.escape(str(value))


def _cell(value: float, lo: float = math.nan, hi: float = math.nan, digits: int = 2) -> str:
    if not math.isfinite(value):
        return "–"  # the column does not apply to this measure
    text = wording.fmt(value, digits)
    if math.isfinite(lo) and math.isfinite(hi):
        text += f"<span class='ci'>{wording.fmt(lo, digits)} to {wording.fmt(hi, digits)}</span>"
    return text


def _period(value: object) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"{value[0]} to {value[1]}"
    return str(value) if value else "an unstated period"


def _img(uri: str, alt: str, css: str = "") -> str:
    return f"<img{f' class={css!r}' if css else ''} src='{uri}' alt='{_esc(alt)}'>"


def _render(
    v: Validation, net: StreetNetwork, meta: Mapping[str, Any], forecasts: pd.DataFrame | None
) -> str:
    city = str(meta.get("city") or "the city")
    n_reps, n_real = int(v.info["n_replications"]), int(v.info["real_events"])
    status = v.targets["status"].value_counts()
    summary = [
        f"<li><strong>{status.get(PASS, 0)} of {len(v.targets)} targets met</strong>, {status.get(FAIL, 0)} "
        f"missed, {status.get(NOT_MEASURABLE, 0)} not measurable on these data.</li>"
    ]
    summary += [
        f"<li class='bad'>Missed: {_esc(r['reason'])}.</li>"
        for r in v.targets.to_dict("records")
        if r["status"] == FAIL
    ]
    warnings = []
    if n_reps < 3:
        warnings.append(
            f"Only {n_reps} simulated replication(s): the intervals of simulated values come from a "
            "bootstrap over simulated events, not from replications. Run at least 3 (10 is better)."
        )
    if not v.info["timed"]:
        warnings.append(
            "The real crimes have no clock times: the near-repeat (Knox) and hour-of-day targets cannot "
            "be tested on these data."
        )
    style = re.search(r"<style>.*?</style>", report.TEMPLATE.read_text(), re.DOTALL)
    if style is None:
        raise RuntimeError(f"{report.TEMPLATE} has no <style> block to share")
    return Template(TEMPLATE.read_text()).substitute(
        title=_esc(f"Calibrated model of {city}, held to its test period"),
        style=style.group(0),
        subtitle=_esc(
            f"Fitted on {meta.get('incidents', 'the incident file')} over {_period(meta.get('fit_period'))}; "
            f"tested on {_period(meta.get('test_period'))}, which the fit never saw: {n_real:,} real "
            f"recorded crimes against {n_reps} simulated replication(s) of the same period, on "
            f"{meta.get('map', 'the city map')}."
            + (f" Each replication starts from {meta['start']}." if meta.get("start") else "")
            + (f" Late reports: {meta['late_reports']['text']}." if meta.get("late_reports") else "")
        ),
        summary="<ul>" + "".join(summary) + "</ul>",
        warnings="".join(f"<div class='warn'>{w}</div>" for w in warnings),
        targets=_targets_table(v.targets),
        measures=_measures_table(v),
        curves=_curves(v),
        maps=_maps(v, net),
        parameters=_parameters_table(meta.get("parameters") or []),
        forecasts=_forecast_section(forecasts),
        methods=_methods(v, meta),
        attribution=_esc(figures.ATTRIBUTION),
        data_attribution=f" {_esc(meta['attribution'])}." if meta.get("attribution") else "",
    )


def _targets_table(targets: pd.DataFrame) -> str:
    head = (
        "<tr><th class='text'>Target</th><th class='text'>Threshold</th><th>Value</th><th>Result</th>"
        "<th class='text'>Why</th></tr>"
    )
    rows = [
        f"<tr><td>{_esc(r['label'])}</td><td class='text'>{_esc(r['threshold'])}</td>"
        f"<td>{_cell(r['value'], digits=_edge_digits(r['value'], _target_edges(r['target']), 3 if r['target'] == 'hour_tv' else 2))}</td>"
        f"<td class='{_STATUS_CSS[r['status']]}'>{_esc(r['status'])}</td><td class='reason'>{_esc(r['reason'])}</td></tr>"
        for r in targets.to_dict("records")
    ]
    return (
        f"<table>{head}{''.join(rows)}</table><p class='note'>Value: simulated ÷ real for volume, concentration "
        "and Knox; the total variation for hours; the model's hit rate ÷ the best naive forecaster's.</p>"
    )


def _measures_table(v: Validation) -> str:
    status = dict(zip(v.targets["measure"], v.targets["status"], strict=True))
    head = (
        "<tr><th class='text'>Measure</th><th class='text'>Unit</th><th>Simulated (mean; 95% interval)</th>"
        "<th>Real (95% interval)</th><th>Chance</th><th>Simulated ÷ real</th><th>Fit period ÷ real</th>"
        "<th>Target</th></tr>"
    )
    rows, group = [], ""
    for r in v.measures.to_dict("records"):
        if r["group"] != group:
            group = r["group"]
            rows.append(f"<tr class='group'><td colspan='8'>{_esc(_GROUPS.get(group, group))}</td></tr>")
        digits = _DIGITS.get(r["measure"], _DIGITS.get(r["group"], 2))
        s = status.get(r["measure"])
        note = f"<span class='ci'>{_esc(r['note'])}</span>" if r["note"] else ""
        rows.append(
            f"<tr><td>{_esc(r['label'])}{note}</td><td class='text'>{_esc(r['unit'])}</td>"
            f"<td>{_cell(r['sim'], r['sim_lo'], r['sim_hi'], digits)}</td>"
            f"<td>{_cell(r['real'], r['real_lo'], r['real_hi'], digits)}</td><td>{_cell(r['chance'], digits=digits)}</td>"
            f"<td>{_cell(r['ratio'], digits=_edge_digits(r['ratio'], _target_edges(r['measure'])))}</td>"
            f"<td>{_cell(r.get('naive_ratio', math.nan))}</td>"
            + (f"<td class='{_STATUS_CSS[s]}'>{_esc(s)}</td>" if s else "<td>–</td>")
            + "</tr>"
        )
    return (
        f"<table>{''.join([head, *rows])}</table><p class='note'>Simulated intervals: {_esc(v.info['sim_interval'])}. "
        "Real intervals: a bootstrap over the test period's days (volume; an exact Poisson interval when dates are "
        "known to the month only) or its crimes. Hit rate: the interval is a bootstrap over real crimes, and "
        "the real column is the oracle's hit rate. Fit period ÷ real: the naive forecast that the test period "
        "records crime at the fit period's rate; where it misses too, the data changed between the periods "
        "(a season), not only the model.</p>"
    )


def _profile_chart(frame: pd.DataFrame, x: str, labels: Sequence[str], title: str) -> str:
    fig = Figure(figsize=(5.6, 3.3))
    ax = fig.add_subplot()
    xs = frame[x].to_numpy(dtype=float)
    for who, colour, name in (
        ("real", figures.ARM_COLOURS[0], "real, test period"),
        ("sim", figures.ARM_COLOURS[2], "simulated, mean of replications"),
    ):
        ax.plot(
            xs,
            frame[who].to_numpy(dtype=float),
            color=colour,
            linewidth=1.8,
            marker="o",
            markersize=3,
            label=name,
        )
        ax.fill_between(
            xs,
            frame[f"{who}_lo"].to_numpy(dtype=float),
            frame[f"{who}_hi"].to_numpy(dtype=float),
            color=colour,
            alpha=0.18,
            linewidth=0,
        )
    ax.set_xticks(xs, labels)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("share of crimes")
    ax.set_title(title, fontsize=11, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return figures.png_data_uri(fig)


def _curves(v: Validation) -> str:
    notes = dict(zip(v.measures["measure"], v.measures["note"], strict=True))
    figs = []
    if not v.hours.empty:
        labels = [f"{h:02d}" if h % 3 == 0 else "" for h in range(24)]
        figs.append(
            _img(
                _profile_chart(v.hours, "hour", labels, "Hour of day"),
                "Hour-of-day profile, simulated and real",
            )
        )
    if not v.weekdays.empty:
        figs.append(
            _img(
                _profile_chart(v.weekdays, "weekday", [d[:3] for d in WEEKDAYS], "Day of week (per day)"),
                "Day-of-week profile, simulated and real",
            )
        )
    missing = [
        f"<p class='note'>{what}: {_esc(notes[key])}.</p>"
        for key, what, frame in (
            ("hour_tv", "Hour of day", v.hours),
            ("weekday_tv", "Day of week", v.weekdays),
        )
        if frame.empty
    ]
    body = f"<div class='figs two'>{''.join(figs)}</div>" if figs else ""
    return (
        body
        + "".join(missing)
        + "<p class='note'>Share of crimes in each hour (or on each weekday, per such "
        "day in the period); bands are 95% intervals.</p>"
    )


def _maps(v: Validation, net: StreetNetwork) -> str:
    days = float(v.info["real_days"])
    real = figures.crime_map(
        net,
        v.segments["real"].to_numpy(dtype=float),
        "Real crimes, test period",
        label="recorded crimes per segment",
        width_in=5.5,
    )
    expected = "sim_expected" in v.segments.columns
    sim = figures.crime_map(
        net,
        v.segments["sim_expected" if expected else "sim_mean"].to_numpy(dtype=float),
        "The model's expected crime" if expected else "Simulated, mean of replications",
        label="expected recorded crimes per segment" if expected else "recorded crimes per segment (mean)",
        width_in=5.5,
    )
    return (
        f"<div class='figs two'>{_img(real, 'Map of real crimes per street segment in the test period')}"
        f"{_img(sim, 'Map of mean simulated crimes per street segment in the test period')}</div>"
        f"<p class='note'>Each line is a street segment, coloured by its crimes over the {wording.fmt(days, 0)}-day "
        "test period; grey streets had none. Each map has its own colour scale.</p>"
    )


def _number(x: object) -> str:
    return f"{x:.4g}" if isinstance(x, int | float) and math.isfinite(x) else "–"


def _parameters_table(parameters: Sequence[Mapping[str, Any]]) -> str:
    if not parameters:
        return "<p class='note'>No fitted parameters were given.</p>"
    head = "<tr><th class='text'>Parameter</th><th>Fitted value</th><th>95% interval</th><th class='text'>Unit</th></tr>"
    rows = [
        f"<tr><td><code>{_esc(p.get('name', ''))}</code></td><td>{_number(p.get('value'))}</td>"
        f"<td>{_number(p.get('lo'))} to {_number(p.get('hi'))}</td><td class='text'>{_esc(p.get('unit') or '')}</td></tr>"
        for p in parameters
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def _forecast_chart(forecasts: pd.DataFrame) -> str:
    fig = Figure(figsize=(10.5, 3.4), layout="constrained")
    for ax, (col, name) in zip(
        fig.subplots(1, 3), (("hit_rate", "Hit rate"), ("pai", "PAI"), ("pei", "PEI")), strict=True
    ):
        for (label, group), colour in zip(
            forecasts.groupby("forecaster", sort=False), figures.ARM_COLOURS * 4, strict=False
        ):
            g = group.sort_values("coverage")
            x = 100 * _coverage_share(g)
            ax.plot(
                x,
                g[col].to_numpy(dtype=float),
                color=colour,
                linewidth=1.6,
                marker="o",
                markersize=3,
                label=str(label),
            )
            ax.fill_between(
                x,
                g[f"{col}_lo"].to_numpy(dtype=float),
                g[f"{col}_hi"].to_numpy(dtype=float),
                color=colour,
                alpha=0.15,
                linewidth=0,
            )
        ax.set_xlabel("street length flagged (%)")
        ax.set_title(name, fontsize=11, loc="left")
        ax.grid(alpha=0.3)
    fig.axes[0].legend(fontsize=7, loc="best")
    return figures.png_data_uri(fig)


def _forecast_section(forecasts: pd.DataFrame | None) -> str:
    if forecasts is None or forecasts.empty:
        return ""
    fc = forecasts.assign(coverage=_coverage_share(forecasts))
    # a file dated to the month only is forecast month by month (experiments.calibration_report)
    period = str(fc["period"].iloc[0]) if "period" in fc else "week"
    shown = [c for c in (0.01, 0.05, 0.10, 0.20) if np.isclose(fc["coverage"], c).any()]
    table = fc[np.isclose(fc["coverage"].to_numpy()[:, None], shown).any(axis=1)] if shown else fc
    head = (
        "<tr><th class='text'>Forecaster</th><th>Street length flagged</th><th>Hit rate (95% CI)</th>"
        f"<th>PAI (95% CI)</th><th>PEI (95% CI)</th><th>{period.capitalize()}s</th></tr>"
    )
    rows = [
        f"<tr><td>{_esc(r['forecaster'])}</td><td>{r['coverage']:.0%}</td>"
        + "".join(
            f"<td>{_cell(r[c], r[f'{c}_lo'], r[f'{c}_hi'], 3 if c != 'pai' else 2)}</td>"
            for c in ("hit_rate", "pai", "pei")
        )
        + f"<td>{int(r['n_weeks'])}</td></tr>"
        for r in table.sort_values(["coverage", "hit_rate"], ascending=[True, False]).to_dict("records")
    ]
    return (
        "<h2 id='forecasts'>Hot-spot forecasts, scored as analysts score them</h2>"
        f"<p>Each {period} of the test period, every forecaster flags the streets it expects most crime on, up to a "
        f"share of street length; the {period}'s real crimes score it. Pooled over the {period}s, with bootstrap 95% "
        f"intervals over {period}s.</p>"
        f"{_model_risk_note(set(fc['forecaster']))}"
        f"<table>{head}{''.join(rows)}</table>"
        + _img(
            _forecast_chart(fc),
            "Hit rate, PAI and PEI against the share of street length flagged, per forecaster",
            "wide",
        )
    )


def _model_risk_note(names: set[str]) -> str:
    """Say which of the model's two risks is the target's, when both were scored (``calibrate.risk``)."""
    smoothed = ("the test runs' mean expected recorded crime per street with their search noise taken out: each "
                "street's crime per expected search shrunk towards what the synthetic populations' offenders would "
                "find there, their searches expected from where they know and how attractive it is")  # fmt: skip
    if MODEL_RUNS_FORECASTER in names:
        return (f"<p><b>model</b> is {smoothed}; <b>{MODEL_RUNS_FORECASTER}</b> is the runs' own mean, shown for "
                "comparison and not judged by the target (calibrate.risk=smoothed).</p>")  # fmt: skip
    if MODEL_SMOOTHED_FORECASTER in names:
        return (f"<p><b>model</b> is the test runs' own mean expected recorded crime per street; "
                f"<b>{MODEL_SMOOTHED_FORECASTER}</b> is {smoothed}, shown for comparison and not judged by the "
                "target (calibrate.risk=runs).</p>")  # fmt: skip
    return ""


def _population_note(meta: Mapping[str, Any]) -> str:
    """Say that the replications share one synthetic population, when they do (``meta["population_seed"]``)."""
    seed = meta.get("population_seed")
    if seed is None:
        return ""
    return (
        f" The replications share one synthetic population (population.seed={_esc(seed)}), the one the place terms "
        "were fitted to: their intervals are conditional on it and leave out how another population would differ."
    )


def _methods(v: Validation, meta: Mapping[str, Any]) -> str:
    info = v.info
    sizes = info["sim_events"]
    return (
        f"<p><strong>Methods.</strong> {info['n_replications']} simulated replication(s) of {wording.fmt(info['sim_days'], 1)} "
        f"days ({min(sizes):,}–{max(sizes):,} recorded crimes each) against {info['real_events']:,} real recorded crimes "
        f"of the modelled types over {wording.fmt(info['real_days'], 1)} days ({info['real_events_with_clock_time']:,} "
        f"with a clock time, {info['real_events_with_day']:,} with a day).{_population_note(meta)} Concentration and Knox at equal event counts "
        "(the larger set subsampled at random to the smaller; Bernasco &amp; Steenbeek 2017); chance concentration from "
        "100 random allocations by street length (Chalfin, Kaplan &amp; Cuellar 2021); Knox pairs within "
        f"{KNOX_DISTANCE_M:g} m and {KNOX_DAYS:g} days against 99 permutations of times (Johnson et al. 2007); "
        f"{info['n_boot']} bootstrap draws per interval, seed {info['rng']}. Map {_esc(meta.get('map', 'unknown'))}, "
        f"incidents {_esc(meta.get('incidents', 'unknown'))}; calibration {_esc(str(meta.get('calibration_hash', 'unknown'))[:12])}, "
        f"Precinct {_esc(meta.get('version', 'unknown'))}; page generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.</p>"
    )
