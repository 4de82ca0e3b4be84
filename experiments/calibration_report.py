"""The test period of a calibration: simulate it, score it against what was recorded, forecast hot spots.

Called by :func:`experiments.calibrate.calibrate` once the fitted values are written: the calibrated
city is run ``calibrate.test_replications`` times over the test period (from its first day's
weekday, at most ``calibrate.test_days_max`` days), the runs are compared with the period's real
recorded crime (:func:`experiments.validation.validate`), and weekly hot-spot forecasts, the
calibrated model's own among them, are scored on the same weeks (:mod:`sim.forecast`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.calibration_runs import (
    TEST_FIRST_SEED,
    CalibrateSettings,
    Periods,
    Runner,
    real_frame,
    say,
    type_counts,
    weighted_count,
)
from sim.calibration import MODEL_VERSION, file_sha256
from sim.config import ModelConfig
from sim.network import StreetNetwork

__all__ = ["fit_rates", "headline", "score_forecasts", "validate_test_period"]

# Shown wherever the crime data or anything derived from it is (data/incidents/README.md).
ATTRIBUTION = {
    "police_uk": "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Crime data: data.police.uk.",
}


def validate_test_period(
    out: Path,
    runner: Runner,
    net: StreetNetwork,
    p: Periods,
    s: CalibrateSettings,
    city: dict[str, Any],
    model: ModelConfig,
    parameters: list[dict[str, Any]],
    *,
    smooth_risk: Callable[..., np.ndarray] | None = None,
) -> dict[str, Any]:
    """Simulate and score the test period; write validation.json/.html into ``out``; return the headline.

    ``out`` is the calibration folder (already holding calibration.yaml), ``runner`` runs its
    simulations, ``p`` and ``s`` are the periods and settings of the fit, ``city`` its map record.
    ``smooth_risk(risk, days=)`` takes the search noise out of the runs' mean expected crime per
    street (:meth:`experiments.calibrate.Fit.smooth_risk`); with ``calibrate.risk=smoothed`` that is
    the model's risk, validated and scored, and the runs' own is scored beside it, else the reverse.
    """
    from experiments.validation import validate, write_validation

    test_start = p.fit_end
    days = float(min(p.test_days, s.test_days_max))
    say(f"test period: {s.test_replications} replications of {days:g} days from {test_start.date()}")
    extra = [f"sim.start_weekday={test_start.weekday()}"]
    saved = list(runner.base)
    runner.base = [*saved, *extra]
    try:
        job = ([out], s.test_replications, days, "test")
        sims = runner.run(*job, first_seed=TEST_FIRST_SEED)[out]
        risk = np.mean(runner.expected_recorded(*job, first_seed=TEST_FIRST_SEED)[out], axis=0)
        hours = None
        if p.timed and model.sim.timeseries_every_min == 60:  # a row per hour: its expected crimes by hour
            hours = expected_hours(runner.expected_crimes(*job, first_seed=TEST_FIRST_SEED)[out], sims)
    finally:
        runner.base = saved
    others = {}  # the model's other risk, scored beside the target's
    if smooth_risk is not None:
        from experiments.validation import MODEL_RUNS_FORECASTER, MODEL_SMOOTHED_FORECASTER

        smoothed = smooth_risk(risk, days=days)
        if s.risk == "smoothed":
            risk, others = smoothed, {MODEL_RUNS_FORECASTER: risk}
        else:
            others = {MODEL_SMOOTHED_FORECASTER: smoothed}
    for frame in sims:  # sim_frame counted weekdays from Monday; this run starts on the test's weekday
        frame["weekday"] = ((frame["time_min"] // 1440 + test_start.weekday()) % 7).astype(np.int64)
    real = p.test
    if p.timed and p.test_days > days:  # the real period cut to the simulated one
        real = real[real["local"] < test_start + pd.Timedelta(days=days)]
    real_days = days if p.timed else p.test_days
    real_t = real_frame(real, test_start)
    v = validate(sims, real_t, net, sim_days=days, real_days=real_days, timed=p.timed,
                 start_weekday=test_start.weekday(), sim_risk=risk, fit_rates=fit_rates(p), sim_hours=hours)  # fmt: skip
    forecasts = None
    if s.forecasts:
        forecasts = score_forecasts(net, p, risk, days, others=others)
        if forecasts is not None:
            v = v.with_forecasts(forecasts)
    meta = {
        "city": city["name"],
        "map": city["path"],
        "incidents": str(model.incidents.path),
        "fit_period": [str(p.fit_start.date()), str((p.fit_end - pd.Timedelta(days=1)).date())],
        "test_period": [str(test_start.date()), str((test_start + pd.Timedelta(days=days - 1)).date())],
        "n_replications": s.test_replications,
        "start": _start_state(out, model),
        "late_reports": late_reports(p, real),
        "population_seed": s.population_seed,
        "parameters": [{**row, "unit": _unit(row["name"])} for row in parameters],
        "calibration_hash": file_sha256(out / "segments.parquet")[:16],
        "version": MODEL_VERSION,
        "attribution": _attribution(model),
    }
    _, html_path = write_validation(v, out, net=net, meta=meta, forecasts=forecasts)
    say(f"validation: {html_path}")
    return headline(v.to_dict())


def late_reports(p: Periods, real: pd.DataFrame) -> dict[str, Any] | None:
    """Say how many of the scored test period's crimes the file lacks as reported after its last report date.

    ``None`` when the file gives no report dates. Shares are ``1 - in the file / stood for`` of the
    crimes scored, all types and per type, by the fit period's delays (``Periods.delay``).
    """
    if p.delay is None or "count_weight" not in real.columns:
        return None
    origin = real["local"].iloc[0] - pd.Timedelta(minutes=float(real["time_min"].iloc[0]))  # the file's day 0
    stood = type_counts(real)
    held = real["crime_type"].astype(str).value_counts()
    per_type = {str(k): round(1.0 - float(held.get(k, 0)) / v, 4) for k, v in stood.items() if v > 0}
    share = 1.0 - len(real) / weighted_count(real)
    worst = sorted(per_type.items(), key=lambda kv: -kv[1])
    detail = ", ".join(f"{k.replace('_', ' ')} {v:.1%}" for k, v in (worst[0], worst[-1])) if worst else ""
    through = (origin + pd.Timedelta(days=p.delay.through_day)).date()
    text = (f"the file holds the crimes reported up to {through}: by the fit period's delays of reporting, "
            f"{share:.1%} of the test period's crimes had not been reported by then ({detail}); the real volumes "
            "count them in (docs/calibration.md, \"Late reports\")")  # fmt: skip
    return {"through": str(through), "share_missing": round(share, 4), "share_missing_by_type": per_type,
            "text": text}  # fmt: skip


def expected_hours(expected: Sequence[pd.DataFrame], sims: Sequence[pd.DataFrame]) -> np.ndarray:
    """Return each run's expected recorded crimes per hour of the day, on the draws' scale (runs x 24).

    ``expected`` are the runs' :func:`~experiments.calibration_runs.expected_frame`, ``sims`` their
    drawn crimes. The expectation leaves out victims' trust, which lowers some types' reporting, so
    each type's is scaled by its drawn over expected crimes summed over the runs (as the fit's mix step).
    """
    drawn = pd.concat(sims, ignore_index=True)["crime_type"].astype(str).value_counts()
    total = pd.concat(expected, ignore_index=True).groupby("crime_type")["expected"].sum()
    ratio = {k: float(drawn.get(k, 0.0)) / v if v > 0 else 0.0 for k, v in total.items()}
    out = np.zeros((len(expected), 24))
    for i, e in enumerate(expected):
        w = e["expected"].to_numpy(np.float64) * e["crime_type"].map(ratio).fillna(0.0).to_numpy(np.float64)
        out[i] = np.bincount(e["hour"].to_numpy(np.int64) % 24, weights=w, minlength=24)
    return out


def fit_rates(p: Periods) -> dict[str, float]:
    """Return the fit period's recorded crimes per day, ``"all"`` and per type: the naive "same as the fit period"."""
    per_type = type_counts(p.fit)
    out = {"all": weighted_count(p.fit) / p.fit_days}
    out.update({str(k): float(v) / p.fit_days for k, v in per_type.items()})
    return out


def score_forecasts(
    net: StreetNetwork,
    p: Periods,
    risk: np.ndarray,
    days: float,
    *,
    others: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame | None:
    """Score rolling hot-spot forecasts over the test period, the calibrated model's own risk among them.

    ``risk`` is the model's expected recorded crime per segment over the simulated test period,
    the mean over its replications (``crimes_recorded_expected``, docs/calibration.md). Dated files
    are scored week by week over the simulated days; files dated to the month only (police.uk) month
    by month over the whole test period, without the prospective near-repeat forecaster, whose weeks
    and days those dates cannot show (Bowers, Johnson & Pease 2004 weigh crimes by weeks old).
    The result's ``period`` column says which. ``others`` are the model's other risks by forecaster
    name, scored beside ``model`` and never the target (``model_runs`` or ``model_smoothed``,
    ``calibrate.risk``).
    """
    from sim import forecast

    names = ["prior_counts", "grid_kde", "network_kde", "prospective"]
    start = (p.fit_end - p.fit_start).total_seconds() / 60.0
    if p.timed:
        weeks = int(days // 7)
        if weeks < 1:
            return None
        end, edges, period = start + weeks * 7 * 1440.0, None, "week"
    else:
        end, period = (p.test_end - p.fit_start).total_seconds() / 60.0, "month"
        edges = forecast.month_starts_min(p.fit_start, start, end)
        if not edges:
            return None
        names.remove("prospective")
    events = real_frame(pd.concat([p.fit, p.test]), p.fit_start)
    chosen = {name: forecast.FORECASTERS[name] for name in names}
    chosen["model"] = functools.partial(forecast.model, risk=risk)
    for name, other in (others or {}).items():
        chosen[name] = functools.partial(forecast.model, risk=other)
    scores = forecast.rolling_scores(events, net, start, end, forecasters=chosen, edges_min=edges)
    return forecast.summarise(scores).assign(period=period)


def headline(full: dict[str, Any]) -> dict[str, Any]:
    """Return the few scores calibration.yaml and the comparison report quote (the rest is in validation.json)."""
    out: dict[str, Any] = {}
    for row in full.get("targets", []) or []:
        name = str(row.get("target") or row.get("measure") or "")
        if name:
            out[name] = {k: row[k] for k in ("label", "value", "threshold", "status", "reason") if k in row}
    return out


def _start_state(out: Path, model: ModelConfig) -> str:
    """Say what near-repeat state the test runs start from (``crime.warm_start``, docs/calibration.md)."""
    import pyarrow.parquet as pq

    from sim.calibration import BOOST_COLUMN, SEGMENTS_FILE
    from sim.environment import BOOST_HISTORY_DAYS

    if BOOST_COLUMN in pq.read_schema(out / SEGMENTS_FILE).names:
        return f"the near-repeat boost the fit period's last {BOOST_HISTORY_DAYS:g} days of recorded crime left at its end"
    why = (
        "crime.warm_start=false"
        if not model.crime.warm_start
        else "the incidents are dated to the month only"
    )
    return f"no near-repeat boost ({why})"


def _unit(name: str) -> str:
    if name.endswith("prior_strength"):
        return "pseudo-crimes"
    if name.endswith("return_prob"):
        return "probability"
    if name.endswith("boost_theta"):
        return "attractiveness per crime"
    if name.endswith("outings_per_day"):
        return "outings per offender per day"
    if name.endswith("attraction_power"):
        return "exponent of attractiveness in offenders' choice"
    return "relative hazard"


def _attribution(model: ModelConfig) -> str:
    head = ""
    with contextlib.suppress(OSError):
        head = Path(model.incidents.path).read_text(errors="replace")[:200]
    if "Crime ID" in head and "Falls within" in head:
        return ATTRIBUTION["police_uk"]
    return f"Crime data: {Path(model.incidents.path).name} (see its publisher's licence)."
