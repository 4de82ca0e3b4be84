"""``precinct calibrate``: fit the model to a city's recorded crime, then score it on a later period.

::

    precinct calibrate city=custom city.path=MAP incidents.path=FILE calibrate.fit_end=2021-03-10 name=NAME

Incidents before ``calibrate.fit_end`` are the fit period, the rest the test period (default: the
last quarter of the file's span). Nothing fitted sees the test period. The fit (docs/calibration.md
states the objective in full) has three stages, each on simulations run through the sweep launchers
(``hydra/launcher=joblib|ray|submitit_slurm``), each simulation a run folder that a rerun finds
complete and skips, so a killed calibration resumes where it stopped:

1. **Moments** (``calibrate.moment_rounds`` rounds): the volume per offence type per day
   (``crime.type_weight``), each type's hour-of-day and weekday profile (``crime.type_by_hour``,
   ``crime.type_by_weekday``, only where the file has times and dates) are moved multiplicatively
   towards the fit period's, ``w <- w * (real / simulated) ** damping``. This is moment matching
   (the method of simulated moments; McFadden 1989), which needs a handful of runs where a black-box
   search over 250 numbers would need thousands. Each round also steps the place terms: the
   per-segment ``expected`` moves towards the model's own exposure (its expected recorded crime per
   segment with the multiplier divided out, :meth:`Fit.learn_exposure`), so that the model's
   expected crime per street approaches the street's shrunk fit-period count.
2. **Place and near-repeat terms.** The shrinkage strength of the per-segment attractiveness
   (``crime.prior_strength``, see :mod:`sim.calibration`) by empirical Bayes: the per-segment counts
   of the first ``1 - holdout_share`` of the fit period, shrunk by ``k``, that best predict the rest
   of it (:func:`fit_prior_strength`). Then, with Optuna's TPE sampler (``calibrate.trials``
   trials), offenders' preference for attractive streets (``crime.attraction_power``), the
   near-repeat boost (``crime.boost_theta``) and offenders' returns (``crime.return_prob``), scored
   on the holdout (spatial agreement) and the whole fit period's concentration, Knox ratio, volume
   and hours.
3. **Moments again** with the fitted place terms, then the priors from the whole fit period.

Then the test period is simulated ``calibrate.test_replications`` times and compared with what was
recorded there (:mod:`experiments.validation`), with hot-spot forecasts scored week by week
(:mod:`sim.forecast`). Everything lands in ``outputs/calibration/NAME/``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.calibration_runs import (
    CLOSURE_FIRST_SEED,
    CalibrateSettings,
    CalibrationDataError,
    Periods,
    Runner,
    profile_counts,
    real_frame,
    say,
    split_periods,
    type_counts,
    weighted_count,
)
from experiments.exposure import Population, blend_exposure, build_population, search_shares
from sim.calibration import (
    BOOST_COLUMN,
    CALIBRATION_FILE,
    CALIBRATION_FORMAT,
    MODEL_VERSION,
    SEGMENTS_FILE,
    file_sha256,
    place_multiplier,
    relative_risk,
)
from sim.config import ModelConfig, city_name
from sim.environment import boost_from_history
from sim.errors import ConfigError
from sim.offences import CRIME_TYPES
from sim.results import write_file, write_table

__all__ = [
    "CalibrateSettings",
    "CalibrationDataError",
    "FitState",
    "Periods",
    "calibrate",
    "fit_prior_strength",
    "main",
]

# Searched by Optuna: name -> (low, high, log scale).
SEARCH: dict[str, tuple[float, float, bool]] = {
    "boost_theta": (0.0, 3.0, False),
    "return_prob": (0.0, 0.95, False),
    "attraction_power": (0.5, 3.0, False),
}
# Weights of the loss terms (docs/calibration.md).
LOSS_WEIGHTS = {"spatial": 1.0, "concentration": 1.0, "knox": 1.0, "volume": 1.0, "hours": 1.0}
# A type's own hour/weekday profile is fitted once it has this many timed fit-period incidents;
# below it the type follows the all-type ratio.
MIN_TYPE_EVENTS = 150
# Gain of the place terms' step (Fit.learn_exposure). The model's crime on a street grows about as
# attractiveness ** (1 + attraction_power) where offenders choose it, so a full step overshoots by
# that power less one and the rounds oscillate; half a step converges for powers up to 3 (the
# error is multiplied by 1 - gain * (1 + power) each round) and still takes most of the way where
# exposure does not answer attractiveness at all.
PLACE_GAIN = 0.5
# Share of street length the hit-rate target flags (docs/calibration.md, "Validation").
HIT_RATE_COVERAGE = 0.05
# Pseudo-searches that shrink a street's exposure per search towards the smooth expectation with
# calibrate.exposure=blend (Fit.own_exposure): a street searched about this often in a fitting run
# gets half its exposure from the runs, half from where the population would search.
EXPOSURE_PSEUDO_VISITS = 1.0
# Pseudo-crimes that shrink a type's drawn / expected ratio towards 1 (drawn_to_expected).
RATIO_PSEUDO_CRIMES = 10.0
# The volume's elasticity to outings is a slope shrunk towards 1 (volume in proportion to outings) with
# this weight, in squared log outings (pooled_elasticity): the rounds' noise variance over the prior's,
# (0.05 / 0.5) ** 2, about 5% noise in a round's log volume (Portland's last two moment rounds, at
# the same outings, recorded 39.9 and 36.6 a day) and a prior standard deviation of 0.5.
ELASTICITY_PRIOR_WEIGHT = 0.01


@dataclass
class FitState:
    """The fitted values as they stand: what a trial or a round simulates."""

    type_weight: dict[str, float]
    type_by_hour: dict[str, list[float]]
    type_by_weekday: dict[str, list[float]]
    prior_strength: float
    boost_theta: float
    return_prob: float
    outings_per_day: float = 4.0
    attraction_power: float = 1.0

    @classmethod
    def from_config(cls, model: ModelConfig) -> FitState:
        """Start from the model's defaults (every type named, flat profiles where none is set)."""
        c = model.crime
        tw = {k: float(c.type_weight.get(k, 1.0)) for k in CRIME_TYPES}
        hours = {k: [float(x) for x in c.type_by_hour.get(k, [1.0] * 24)] for k in CRIME_TYPES}
        days = {k: [float(x) for x in c.type_by_weekday.get(k, [1.0] * 7)] for k in CRIME_TYPES}
        return cls(
            tw,
            hours,
            days,
            c.prior_strength,
            c.boost_theta,
            c.return_prob,
            c.outings_per_day,
            c.attraction_power,
        )

    def crime_values(self) -> dict[str, Any]:
        """Return the ``crime.*`` values of a calibration.yaml (rounded: the file is read by people too)."""
        return {
            "type_weight": {k: round(v, 6) for k, v in self.type_weight.items()},
            "type_by_hour": {k: [round(x, 5) for x in v] for k, v in self.type_by_hour.items()},
            "type_by_weekday": {k: [round(x, 5) for x in v] for k, v in self.type_by_weekday.items()},
            "prior_strength": round(self.prior_strength, 6),
            "boost_theta": round(self.boost_theta, 6),
            "return_prob": round(self.return_prob, 6),
            "outings_per_day": round(self.outings_per_day, 6),
            "attraction_power": round(self.attraction_power, 6),
        }


# --------------------------------------------------------------------------- calibration folders
def write_calibration(
    folder: Path,
    state: FitState,
    segments: pd.DataFrame,
    city: dict[str, Any],
    *,
    data: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    validation: dict[str, Any] | None = None,
    population: dict[str, Any] | None = None,
) -> Path:
    """Write ``calibration.yaml`` and ``segments.parquet`` atomically; return the folder.

    ``population`` holds the ``population.*`` values every run of the calibrated city takes (its ``seed``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    write_table(folder / SEGMENTS_FILE, segments)
    doc = {
        "format": CALIBRATION_FORMAT,
        "model_version": MODEL_VERSION,
        "city": city,
        "population": population or {},
        "crime": state.crime_values(),
        "data": data or {},
        "parameters": parameters or [],
        "validation": validation or {},
    }
    write_file(folder / CALIBRATION_FILE, yaml.safe_dump(_plain(doc), sort_keys=False))
    return folder


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def trial_folder(
    root: Path,
    state: FitState,
    segments: pd.DataFrame,
    city: dict[str, Any],
    population: dict[str, Any] | None = None,
) -> Path:
    """Return a calibration folder for one trial, named by the hash of what it holds (so reruns find it)."""
    values = state.crime_values()
    if population:  # left out when empty, so the folders of a calibration without it keep their names
        values = {**values, "population": population}
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode())
    digest.update(
        pd.util.hash_pandas_object(segments[["count", "expected"]], index=False).to_numpy().tobytes()
    )
    folder = root / digest.hexdigest()[:16]
    if not (folder / CALIBRATION_FILE).is_file():
        write_calibration(folder, state, segments, city, population=population)
    return folder


# --------------------------------------------------------------------------- the fit
@dataclass
class Fit:
    """Everything the calibration needs while it runs."""

    net: Any
    periods: Periods
    settings: CalibrateSettings
    runner: Runner
    city: dict[str, Any]
    static_share: np.ndarray
    population: dict[str, Any] = field(default_factory=dict)
    """The ``population.*`` values of every run (``seed``: the calibrated city's synthetic population)."""
    exposure: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """The model's own expected recorded crime per segment with the place multiplier divided out (a
    share; empty before the pilot): the ``expected`` of the place terms (:meth:`learn_exposure`)."""
    volume_history: list[tuple[str, float, float]] = field(default_factory=list)
    """Every round's ``(stage, log outings, log simulated volume)`` so far (:func:`pooled_elasticity`)."""
    volume_stage: str = ""
    """The stage the next rounds belong to: each stage's place terms and runs put its volume on a curve of its own."""
    drawn_by_type: dict[str, float] = field(default_factory=dict)
    expected_by_type: dict[str, float] = field(default_factory=dict)
    """Each type's drawn and expected recorded crimes summed over every moment round so far
    (:func:`drawn_to_expected`)."""
    log: list[str] = field(default_factory=list)
    model: ModelConfig | None = None
    """The uncalibrated model the runs are built from: :meth:`learn_exposure` rebuilds their synthetic
    populations from it with ``calibrate.exposure`` other than ``sampled``."""
    sampled_sum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    visit_sum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """The runs' exposure and their expected searches per street, summed over the moment rounds so far
    (``calibrate.exposure=pooled``, :meth:`own_exposure`)."""
    populations: dict[int, Population] = field(default_factory=dict)
    """The synthetic populations built so far, by run seed (:func:`experiments.exposure.build_population`)."""

    @property
    def n(self) -> int:
        """Number of street segments."""
        return int(self.net.n_segments)

    def counts(self, frame: pd.DataFrame) -> np.ndarray:
        """Crimes per segment."""
        return np.bincount(frame["segment"].to_numpy(np.int64), minlength=self.n).astype(float)

    def segments(self, real: pd.DataFrame, *, pilot: bool = False) -> pd.DataFrame:
        """Return the per-segment table of a calibration: real counts and the model's expectation."""
        if pilot or self.exposure.size == 0:
            count, expected = np.zeros(self.n), np.zeros(self.n)
        else:
            count, expected = self.counts(real), self.exposure
        net = self.net
        return pd.DataFrame({
            "segment": np.arange(self.n, dtype=np.int64),
            "osm_way_id": net.edge_osm_way_id[net.segment_edge].astype(np.int64),
            "length_m": net.segment_length_m,
            "count": count,
            "expected": expected,
        })  # fmt: skip

    def start_boost(self) -> np.ndarray | None:
        """Return the boost per unit ``boost_theta`` the fit period's recorded crime leaves at its end, or None.

        Each recorded crime of the last weeks stands for ``1 / (report_base x recording_rate)`` crimes
        of its type (every crime boosts its street in a run, reported or not), replayed through the
        runs' own decay and spread (:func:`sim.environment.boost_from_history`). None for a file
        dated to the month only (its days are unknown), and with ``crime.warm_start=false`` given to
        the calibration: its folder then has no ``boost_start``, so its runs start cold wherever they run.
        """
        p, crime = self.periods, (self.model or ModelConfig()).crime
        if not p.timed or p.fit.empty or not crime.warm_start:
            return None
        age = ((p.fit_end - p.fit["local"]).dt.total_seconds() / 86400.0).to_numpy(np.float64)
        types = p.fit["crime_type"].astype(str)
        # a recorded crime stands for the crimes of its type that happen per one reported and recorded
        chance = types.map(lambda k: crime.report_base.get(k, 1.0) * crime.recording_rate).to_numpy(
            np.float64
        )
        return boost_from_history(self.net, crime, p.fit["segment"].to_numpy(np.int64), age, 1.0 / chance)

    def learn_exposure(
        self,
        runs: Sequence[np.ndarray],
        segments: pd.DataFrame,
        strength: float,
        *,
        gain: float = 1.0,
        state: FitState | None = None,
        seeds: Sequence[int] | None = None,
        days: float | None = None,
    ) -> None:
        """Move the place terms' ``expected`` towards the model's own exposure, a damped multiplicative step.

        ``runs`` are the expected recorded crimes per segment (``crimes_recorded_expected``) of runs
        made with ``segments`` and ``strength``; divided by the multiplier those runs had, they are
        what the model puts on each street before the place terms: where its offenders go and what
        they find there. With it as ``expected``, the multiplier ``(count + k) / (expected + k)``
        makes the model's expected crime the shrunk count of each street, if exposure did not answer
        attractiveness. It does (offenders choose where to search by attractiveness **
        ``attraction_power``), so the step repeats each round, ``expected <- expected ** (1 - gain) *
        (exposure) ** gain``: the fixed point is a model whose expected crime per street is the shrunk
        count given its own exposure. A street on which the runs put no exposure at all (no offender
        passed or searched there; gated streets are closed to them) keeps its ``expected``, at the
        start its static place-based share: there is nothing to learn from, and an ``expected`` of 0
        would give it the largest multiplier of all, felt only by the mean the multipliers are scaled by.

        ``calibrate.exposure`` chooses what the exposure is (:meth:`own_exposure`); ``state`` (the
        values the runs had) is needed for any but ``sampled``; ``seeds`` and ``days`` are the runs'
        (default ``0 .. calibrate.seeds - 1`` and ``calibrate.days``).
        """
        x = np.mean(np.asarray(runs, dtype=float), axis=0)
        old = self.exposure if self.exposure.size else self.static_share
        mult = place_multiplier(segments, strength)
        own = x / mult
        if self.settings is not None and self.settings.exposure != "sampled":
            if state is None:
                raise ValueError(f"calibrate.exposure={self.settings.exposure} needs the runs' FitState")
            own = self.own_exposure(own, mult, state, seeds=seeds, days=days)
        seen = own > 0
        if not seen.any():
            return
        exposure = own[seen]
        exposure *= old[seen].sum() / exposure.sum()  # the unseen streets keep their share
        new = old.copy()
        new[seen] = old[seen] ** (1.0 - gain) * exposure**gain
        self.exposure = new / new.sum()

    def own_exposure(
        self,
        sampled: np.ndarray,
        multiplier: np.ndarray,
        state: FitState,
        *,
        seeds: Sequence[int] | None = None,
        days: float | None = None,
    ) -> np.ndarray:
        """Return the model's exposure per street, multiplier divided out, as ``calibrate.exposure`` asks.

        ``sampled`` is the runs' own (their expected recorded crime over the multiplier they had).
        ``expected``: the search shares of :func:`~experiments.exposure.search_shares` times each
        street's static attractiveness (the offence hazard is proportional to it), averaged over the
        synthetic populations of the fitting runs (seeds ``0 .. seeds - 1``) and the test runs (one,
        with ``calibrate.population_seed``): no run enters it, so it
        carries no sampling noise, but also nothing of the targets (homes, shops, people about) the
        runs' offenders find. ``blend``: the runs' exposure with each street's yield per search
        shrunk towards that smooth one by :data:`EXPOSURE_PSEUDO_VISITS`
        (:func:`~experiments.exposure.blend_exposure`), over the runs' own populations (``seeds``,
        default the fitting runs', ``0 .. seeds - 1``; ``days`` long, default ``calibrate.days``).
        ``pooled``: as ``blend``, but the yield per search is the runs' exposure summed over every
        moment round so far over the searches expected in them (what offenders find on a street,
        the multiplier divided out, does not depend on how often they come, so every round adds to
        it), times the searches expected in the next round's runs: where offenders search is then
        the population's expectation, and only what they find there is learnt from the runs.
        """
        s = self.settings
        if s.exposure == "expected":
            seeds = [*range(s.seeds), *s.test_seeds]
        elif seeds is None:
            seeds = range(s.seeds)
        share, per_search = self.search_parts(multiplier, state, seeds)
        if s.exposure == "expected":
            return share * per_search
        visits = share * self.searches_per_offender(state, days=days)
        if s.exposure == "pooled":
            if self.sampled_sum.size == 0:
                self.sampled_sum, self.visit_sum = np.zeros_like(sampled), np.zeros_like(visits)
            self.sampled_sum += sampled
            self.visit_sum += visits
            pooled = self._shrunk(self.sampled_sum, self.visit_sum, per_search, searches=visits)
            return np.where(self.visit_sum > 0, pooled, sampled)  # no expected search: this round's own
        return self._shrunk(sampled, visits, per_search)

    def search_parts(
        self, multiplier: np.ndarray, state: FitState, seeds: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the populations' mean search shares per street, and the static attractiveness met per search.

        The populations are those of the runs of ``seeds``; their risky-facility terms differ, so
        the attractiveness met per search is their mean weighted by each one's searches.
        """
        pops = [self.population_of(seed) for seed in seeds]
        shares = [search_shares(p, multiplier, state.attraction_power) for p in pops]
        smooth = np.mean([sh * p.static_attractiveness for sh, p in zip(shares, pops, strict=True)], axis=0)
        share = np.mean(shares, axis=0)
        return share, np.divide(smooth, share, out=np.zeros_like(smooth), where=share > 0)

    def smooth_risk(
        self, risk: np.ndarray, segments: pd.DataFrame, state: FitState, days: float
    ) -> np.ndarray:
        """Return the test period's model risk with the search noise of its runs taken out (``calibrate.risk``).

        ``risk`` is the mean expected recorded crime per street of the ``calibrate.test_replications``
        test runs (``days`` long) of the calibrated city (``segments`` and ``state``). As
        :meth:`own_exposure` does for the fit: with ``calibrate.exposure=expected`` the populations'
        expected searches times the attractiveness met there take its place (scaled to its total);
        otherwise each street's risk per expected search is shrunk towards that by :data:`EXPOSURE_PSEUDO_VISITS`,
        over the test runs' own populations (seeds from :data:`TEST_FIRST_SEED`). Nothing of the
        test period's crime is read.
        """
        s = self.settings
        mult = place_multiplier(segments, state.prior_strength)
        share, per_search = self.search_parts(mult, state, s.test_seeds)
        own = risk / mult
        if s.exposure == "expected":
            smooth = share * per_search
            out = smooth * own.sum() / max(float(smooth.sum()), 1e-300)
        else:
            out = self._shrunk(own, share * self.searches_per_offender(state, days=days), per_search)
        smoothed: np.ndarray = out * mult
        return smoothed

    @staticmethod
    def _shrunk(
        sampled: np.ndarray, visits: np.ndarray, per_search: np.ndarray, *, searches: np.ndarray | None = None
    ) -> np.ndarray:
        """Return ``sampled`` with each street's yield per search shrunk towards ``per_search`` (:func:`blend_exposure`).

        The prior yield is ``per_search`` scaled so that ``visits`` times it holds the runs' total on
        the streets searched; ``searches`` as in :func:`~experiments.exposure.blend_exposure`.
        """
        searched = visits > 0
        scale = sampled[searched].sum() / max(float((visits * per_search)[searched].sum()), 1e-300)
        return blend_exposure(sampled, visits, per_search * scale, EXPOSURE_PSEUDO_VISITS, searches=searches)

    def population_of(self, seed: int) -> Population:
        """Return the synthetic population of the runs of ``seed`` (built once, then kept)."""
        if self.population.get("seed") is not None:
            seed = 0  # one population for every run: population.seed decides it, whatever the run's seed
        if seed not in self.populations:
            if self.model is None:
                raise ValueError("Fit.model is needed to build the runs' populations")
            model = replace(self.model, population=replace(self.model.population, **self.population))
            self.populations[seed] = build_population(model, seed, self.net)
        return self.populations[seed]

    def searches_per_offender(self, state: FitState, *, days: float | None = None) -> float:
        """Return the searches an offender starts in one fitting run, at least: one per outing.

        Outings arrive at ``outings_per_day`` (the hour and weekday profile has mean 1) while the
        offender is in an active spell, a share ``active / (active + dormant)`` of the time in the
        long run. An outing whose first search finds nothing searches again until it ends, so this is
        a lower bound, which makes :data:`EXPOSURE_PSEUDO_VISITS` weigh the prior a little less.
        """
        assert self.model is not None
        c = self.model.crime
        active = c.active_spell_days / (c.active_spell_days + c.dormant_spell_days)
        return float(state.outings_per_day * (self.settings.days if days is None else days) * active)


def place_distance(expected_crime: np.ndarray, segments: pd.DataFrame, strength: float) -> float:
    """Return the total variation between the model's share of expected crime per segment and the target's.

    The target is the shrunk count of each street, ``expected * (count + k) / (expected + k)``, with
    ``expected`` scaled to the counts' total: what the place terms aim the model's crime at.
    """
    c, e = segments["count"].to_numpy(), segments["expected"].to_numpy()
    if c.sum() <= 0 or e.sum() <= 0 or expected_crime.sum() <= 0:
        return float("nan")
    e = e * c.sum() / e.sum()
    target = e * (c + strength) / (e + strength)
    return 0.5 * float(np.abs(expected_crime / expected_crime.sum() - target / target.sum()).sum())


def moment_update(
    state: FitState,
    sims: list[pd.DataFrame],
    fit: Fit,
    *,
    gain: float | None = None,
    expected: list[pd.DataFrame] | None = None,
    days: float | None = None,
    type_gain: Mapping[str, float] | None = None,
    volume_gain: float | None = None,
    profiles: bool = True,
) -> tuple[FitState, dict[str, float]]:
    """One multiplicative step of volume per type, hours and weekdays towards the fit period's.

    ``gain`` is the exponent of the mix and profile steps (default ``calibrate.damping``); the
    volume step always uses ``calibrate.damping`` over the elasticity pooled from every round so far.
    ``expected`` (the runs' :func:`~experiments.calibration_runs.expected_frame`) puts the model's
    expected recorded crimes per type, hour and weekday on the simulated side of the mix and the
    profiles instead of the crimes the runs drew: the same moments without the draws' noise. The
    volume stays on the drawn crimes, which is what the test period is scored on. ``days`` is each
    run's length (default ``calibrate.days``). ``type_gain`` gives a type's mix step its own exponent
    (else ``gain``), and ``volume_gain`` scales the volume's step (else ``calibrate.damping``);
    ``profiles=False`` leaves the hours and weekdays as they are.
    """
    s, p = fit.settings, fit.periods
    g = s.damping if gain is None else gain
    real = p.fit
    drawn = pd.concat(sims, ignore_index=True)
    sim = drawn
    if expected is not None:
        sim = pd.concat(expected, ignore_index=True)
        ratio = drawn_to_expected(fit, _type_counts(drawn), _type_counts(sim))
        sim["expected"] *= sim["crime_type"].map(ratio).fillna(1.0).to_numpy(np.float64)
    sim_days = (s.days if days is None else days) * len(sims)
    out = replace(
        state,
        type_weight=dict(state.type_weight),
        type_by_hour={k: list(v) for k, v in state.type_by_hour.items()},
        type_by_weekday={k: list(v) for k, v in state.type_by_weekday.items()},
    )
    # the mix: each type's weight times its real over simulated share, the hazard-weighted total kept
    # the real side counts each crime as the crimes it stands for (late reports missing from the file)
    real_n, real_total = type_counts(real), weighted_count(real)
    sim_n = _type_counts(sim)
    r_share = {k: float(real_n.get(k, 0)) / max(real_total, 1) for k in CRIME_TYPES}
    q_share = {k: float(sim_n.get(k, 0.0)) / max(float(sim_n.sum()), 1e-12) for k in CRIME_TYPES}
    new = {}
    for k in CRIME_TYPES:
        if r_share[k] == 0:
            new[k] = 0.0
        elif q_share[k] == 0:
            new[k] = max(out.type_weight[k], 0.05) * 2.0
        else:
            gk = g if type_gain is None else type_gain.get(k, g)
            new[k] = out.type_weight[k] * (r_share[k] / q_share[k]) ** gk
    before = sum(q_share[k] for k in CRIME_TYPES if out.type_weight[k] > 0)
    after = sum(q_share[k] * new[k] / out.type_weight[k] for k in CRIME_TYPES if out.type_weight[k] > 0)
    scale = before / after if after > 0 else 1.0
    out.type_weight = {k: v * scale for k, v in new.items()}
    # the volume: offenders' outings per day, by a secant step on the measured elasticity (offending
    # saturates when most outings end in an offence, so volume is not proportional to hazard)
    tot_r, tot_s = real_total / p.fit_days, len(drawn) / sim_days
    if tot_s > 0:
        fit.volume_history.append((fit.volume_stage, math.log(state.outings_per_day), math.log(tot_s)))
        elasticity = pooled_elasticity(fit.volume_history)
        step = (s.damping if volume_gain is None else volume_gain) * math.log(tot_r / tot_s) / elasticity
        out.outings_per_day = state.outings_per_day * math.exp(step)
    if p.timed and profiles:
        timed = real[real["time_known"] == "minute"]
        dated = real[real["time_known"] != "month"]
        _profiles(
            out.type_by_hour, out.type_weight, real_frame(timed, p.fit_start), sim, "hour", 24, g, smooth=True
        )
        _profiles(out.type_by_weekday, out.type_weight, real_frame(dated, p.fit_start), sim, "weekday", 7, g)
    return out, {"real_per_day": tot_r, "sim_per_day": tot_s}


def drawn_to_expected(fit: Fit, drawn: pd.Series, expected: pd.Series) -> dict[str, float]:
    """Return each type's drawn over expected recorded crimes, pooled over every round so far.

    The expectation leaves out the victims' trust: crime that keeps coming back to the same streets
    wears down the trust of the same residents, who then report less (docs/model.md), so on the
    calibrated City of London the runs drew 0.47-0.64 of the expected criminal damage, burglary,
    theft from vehicles and bicycle theft, and about 1.0 of shoplifting, violence and other theft.
    The ratio is a property of the model that changes slowly from round to round, so it is pooled
    over the rounds (their sums; ``fit`` keeps them) and shrunk towards 1 by
    :data:`RATIO_PSEUDO_CRIMES` pseudo-crimes, so a rare type's few draws do not swing it.
    """
    for k in CRIME_TYPES:
        fit.drawn_by_type[k] = fit.drawn_by_type.get(k, 0.0) + float(drawn.get(k, 0.0))
        fit.expected_by_type[k] = fit.expected_by_type.get(k, 0.0) + float(expected.get(k, 0.0))
    return pooled_ratio(fit)


def pooled_ratio(fit: Fit) -> dict[str, float]:
    """Return each type's drawn / expected ratio from the sums :func:`drawn_to_expected` has kept."""
    a = RATIO_PSEUDO_CRIMES
    return {
        k: (fit.drawn_by_type.get(k, 0.0) + a) / (fit.expected_by_type.get(k, 0.0) + a) for k in CRIME_TYPES
    }


def _type_counts(frame: pd.DataFrame) -> pd.Series:
    """Return simulated crimes per type: counted (drawn crimes) or summed (an ``expected`` column)."""
    if "expected" in frame.columns:
        return frame.groupby("crime_type")["expected"].sum()
    return frame["crime_type"].value_counts().astype(float)


def pooled_elasticity(
    history: Sequence[tuple[str, float, float]],
    *,
    prior: float = 1.0,
    weight: float = ELASTICITY_PRIOR_WEIGHT,
) -> float:
    """Return d log(volume) / d log(outings): one slope over every round, each stage on its own level.

    ``history`` holds ``(stage, log outings, log volume)``. A stage's place terms, run length and
    populations move the whole curve (Portland's 23-day closure runs recorded 10-40% more a day than
    the 7-day moment runs at the same outings), so each stage has its own intercept and the slope is
    the within-stage one (a fixed-effects regression), shrunk towards ``prior`` by ``weight``:
    ``(Sxy + weight * prior) / (Sxx + weight)``, the posterior mean under a normal prior
    (:data:`ELASTICITY_PRIOR_WEIGHT`). The early rounds, which move the outings the most, carry
    the slope; the last stage's, near the answer, move them by a few per cent and mostly measure
    their own noise. Fitted on the last stage alone, Portland's three final rounds at 0.668-0.696
    outings (38.2, 39.9 and 36.6 a day) gave a slope at the lower bound, and the closure's steps on
    it swung the volume to 51.1 and then 23.1 a day; the first stage's rounds (4.0, 1.35 and 0.69
    outings) say 0.7-0.8. A slope over 1 is possible (offending is self-exciting: each crime boosts
    its street), so it is bounded to 0.3-3 only.
    """
    by_stage: dict[str, list[tuple[float, float]]] = {}
    for stage, log_outings, log_volume in history:
        by_stage.setdefault(stage, []).append((log_outings, log_volume))
    sxx = sxy = 0.0
    for rounds in by_stage.values():
        x = np.array([r[0] for r in rounds]) - np.mean([r[0] for r in rounds])
        y = np.array([r[1] for r in rounds]) - np.mean([r[1] for r in rounds])
        sxx += float((x * x).sum())
        sxy += float((x * y).sum())
    slope = (sxy + weight * prior) / (sxx + weight)
    return min(3.0, max(0.3, slope))


def _profiles(
    target: dict[str, list[float]],
    weights: dict[str, float],
    real: pd.DataFrame,
    sim: pd.DataFrame,
    col: str,
    n: int,
    g: float,
    *,
    smooth: bool = False,
) -> None:
    """Multiply each type's profile by (real share / simulated share) ** g, smoothed, scaled to mean 1.

    ``sim`` is either drawn crimes (one row each) or the model's expected crimes (an ``expected``
    column weighting each row, :func:`~experiments.calibration_runs.expected_frame`).

    With ``smooth`` the log ratio is averaged with its neighbours (weights 1/4, 1/2, 1/4, round the
    clock): a bin of a few dozen crimes is a noisy estimate of its share (two samples of 1,500
    crimes from one hour profile differ by a total variation of about 0.07), and crime's hours
    change smoothly from one to the next.

    The type's weight is divided by the change the new profile makes to its simulated volume
    (simulated counts per bin times the profile's change), so that reshaping the hours does not
    also move the volume per type, which :func:`moment_update` fits on its own.
    """

    def counts(frame: pd.DataFrame) -> np.ndarray:
        weights = frame["expected"].to_numpy(np.float64) if "expected" in frame.columns else None
        return profile_counts(frame[col].to_numpy(), n, weights)

    def shares(c: np.ndarray) -> np.ndarray:
        return (c + 2.0) / (c.sum() + 2.0 * n)  # two pseudo-events per bin: no bin divides by zero

    sim_all = counts(sim)
    pooled = shares(counts(real)) / shares(sim_all)
    for k in CRIME_TYPES:
        rk, sk = counts(real[real["crime_type"] == k]), counts(sim[sim["crime_type"] == k])
        own = rk.sum() >= MIN_TYPE_EVENTS and sk.sum() >= 30
        ratio = shares(rk) / shares(sk) if own else pooled
        if smooth:
            log_ratio = np.log(ratio)
            ratio = np.exp(0.25 * np.roll(log_ratio, 1) + 0.5 * log_ratio + 0.25 * np.roll(log_ratio, -1))
        old = np.asarray(target[k])
        v = old * ratio**g
        v = v / v.mean()
        base = sk if sk.sum() > 0 else sim_all
        if base.sum() > 0:
            weights[k] /= float((base * v / old).sum() / base.sum())
        target[k] = list(v)


def losses(
    sims: list[pd.DataFrame], fit: Fit, *, expected: Sequence[np.ndarray] = (), rng: int = 0
) -> dict[str, float]:
    """Return the trial loss terms (docs/calibration.md), each 0 when simulated and real agree.

    ``expected`` are the runs' expected recorded crimes per segment: the spatial term ranks streets
    by their mean (the model's forecast), else by the runs' drawn crimes.
    """
    from experiments.sim_vs_real import hour_profile, total_variation
    from sim import metrics as m

    p, s = fit.periods, fit.settings
    sim = pd.concat(sims, ignore_index=True)
    out: dict[str, float] = {}
    # spatial: 1 - PEI at 5% of street length of the model's forecast of the holdout
    forecast = np.mean(np.asarray(expected, dtype=float), axis=0) if len(expected) else fit.counts(sim)
    observed = fit.counts(p.holdout)
    out["spatial"] = 1.0 - _pei(forecast, observed, fit.net.segment_length_m, 0.05)
    n = min(len(sim), len(p.fit))
    gen = np.random.default_rng(rng)
    if n >= 50:
        a = sim.iloc[np.sort(gen.choice(len(sim), n, replace=False))]
        b = p.fit.iloc[np.sort(gen.choice(len(p.fit), n, replace=False))]
        share = [m.segments_holding_share(fit.counts(x), 0.5) for x in (a, b)]
        out["concentration"] = abs(math.log(max(share[0], 1e-6) / max(share[1], 1e-6)))
        if p.timed:
            real_f = real_frame(b, p.fit_start)
            knox = [_knox(x) for x in (a, real_f)]
            if all(math.isfinite(k) and k > 0 for k in knox):
                out["knox"] = abs(math.log(knox[0] / knox[1]))
    volume = (len(sim) / (s.days * len(sims))) / (weighted_count(p.fit) / p.fit_days)
    out["volume"] = abs(math.log(max(volume, 1e-6)))
    if p.timed:
        timed = real_frame(p.fit[p.fit["time_known"] == "minute"], p.fit_start)
        out["hours"] = total_variation(
            hour_profile(sim["time_min"].to_numpy()), hour_profile(timed["time_min"].to_numpy())
        )
    return out


def _knox(frame: pd.DataFrame) -> float:
    from sim import metrics as m

    t = m.knox_table(
        frame["x"].to_numpy(), frame["y"].to_numpy(), frame["time_min"].to_numpy() / 1440.0,
        distance_bands_m=(0.0, 100.0), time_bands_days=(0.0, 3.0), n_permutations=19, rng=0,
    )  # fmt: skip
    row = t.iloc[0]
    return float(row["observed"] / row["expected"]) if row["expected"] > 0 else float("nan")


def _pei(forecast: np.ndarray, observed: np.ndarray, length: np.ndarray, coverage: float) -> float:
    """Crimes on the forecast's top streets filling ``coverage`` of length, over the oracle's (Hunt 2016)."""

    def captured(score: np.ndarray) -> float:
        order = np.lexsort((np.arange(score.size), -score))
        within = np.cumsum(length[order]) <= coverage * length.sum()
        return float(observed[order][within].sum())

    best = captured(observed)
    return captured(forecast) / best if best > 0 else float("nan")


def total_loss(terms: dict[str, float]) -> float:
    """Weighted sum of the loss terms that could be measured."""
    return float(sum(LOSS_WEIGHTS[k] * v for k, v in terms.items() if math.isfinite(v)))


# --------------------------------------------------------------------------- the whole procedure
def _moment_rounds(
    state: FitState, fit: Fit, rounds: int, tag: str, real: pd.DataFrame, *, decreasing: bool = False
) -> tuple[FitState, list[pd.DataFrame], list[pd.DataFrame]]:
    """Run ``rounds`` rounds of moment matching (priors from ``real``'s counts); the state, last runs and their expectations."""
    s = fit.settings
    sims: list[pd.DataFrame] = []
    expected: list[pd.DataFrame] = []
    fit.volume_stage = tag  # the place terms changed since the last stage: a volume curve of its own
    for i in range(rounds):
        segs = fit.segments(real)
        folder = trial_folder(fit.runner.out / "trials", state, segs, fit.city, fit.population)
        sims = fit.runner.run([folder], s.seeds, s.days, f"{tag}{i}")[folder]
        exposure = fit.runner.expected_recorded([folder], s.seeds, s.days, f"{tag}{i}")[folder]
        expected = fit.runner.expected_crimes([folder], s.seeds, s.days, f"{tag}{i}")[folder]
        place = place_distance(np.mean(exposure, axis=0), segs, state.prior_strength)
        # the last stage starts near the answer, where each round's step is mostly its runs' noise:
        # decreasing gains (Robbins & Monro 1951) average the rounds instead of letting the last one win.
        # The place terms' too with calibrate.place_gains=decreasing: two 7-day runs of one population
        # put their expected crime per street at total variation 0.63 from each other on Portland
        place_gain = PLACE_GAIN / (i + 1) if decreasing and s.place_gains == "decreasing" else PLACE_GAIN
        fit.learn_exposure(exposure, segs, state.prior_strength, gain=place_gain, state=state)
        gain = s.damping / (i + 1) if decreasing else s.damping
        state, vol = moment_update(state, sims, fit, gain=gain, expected=expected)
        terms = losses(sims, fit, expected=exposure)
        say(f"  {tag} round {i + 1}/{rounds}: {vol['sim_per_day']:.1f} simulated vs {vol['real_per_day']:.1f} "
               f"recorded crimes/day; place {place:.3f}; loss {total_loss(terms):.3f} ({_terms(terms)})")  # fmt: skip
    return state, sims, expected


def closure_rounds(
    state: FitState, fit: Fit, segments: pd.DataFrame
) -> tuple[FitState, pd.DataFrame, dict[str, float]]:
    """Last steps of the volume and the mix of types, measured on many long runs of new populations.

    The moment rounds run ``calibrate.seeds`` short runs of the same seeds, and the model's mix of
    offence types differs between synthetic populations (on the City of London the first 14 days of
    five test runs gave 0.5-2.0 expected burglaries a day, one population to the next) and over a
    run's first weeks (burglary and criminal damage recorded at 0.7 a day in the first fortnight,
    0.35-0.45 after it, as victims' trust wears down), so the rounds fit the mix of two populations'
    first fortnight. These rounds run ``calibrate.closure_replications`` populations the fit has not
    seen (seeds from :data:`CLOSURE_FIRST_SEED`, none of the test period's; the same ones every
    round, so that two rounds differ by the step alone) for as long as the test period is simulated.

    The first round takes a full step. Types compete where several are on offer: where offending is
    near certain, a type's share there is its weight over the sum of the local weights, so its share
    grows as ``weight ** (1 - local share)``, less than in proportion (on the City of London one full
    step moved shoplifting from 0.65 to 0.73 of its fit-period rate). Each later round steps each type
    by ``(real / simulated share) ** (1 / e)``, ``e`` the type's elasticity measured between the two
    rounds before (Newton's step on the secant; bounded to 0.5-1, so at most the gap squared, since a
    rare type's share moves by chance too: on Portland robbery's fell 27% between two rounds of the
    same populations for a 4% smaller weight; 1 when the weight barely moved). The volume steps fully
    too, on the elasticity of every round so far (:func:`pooled_elasticity`). The hours and weekdays stay as the
    moment rounds left them: a type's profile is not what differs between populations and run lengths,
    and a full step on it moved violence's weight by 43% on Portland through the volume the reshaping kept.

    With ``calibrate.closure_place`` each round but the last also steps the place terms
    (:meth:`Fit.learn_exposure`) on these runs' exposure, their populations' expected searches: what
    the moment rounds learnt of two populations' streets then carries over to others. The last round
    leaves them as it measured them, since a place step moves the volume too and no round follows to
    see by how much. Returns the state, the place terms'
    per-segment table and the last round's volumes.
    """
    s, p = fit.settings, fit.periods
    days = float(min(p.test_days, s.test_days_max))
    # these runs are longer and of other populations: a curve of their own, on the slope of every round
    fit.volume_stage = "closure"
    before: tuple[dict[str, float], pd.Series] | None = None
    vol: dict[str, float] = {}
    for i in range(s.closure_rounds):
        folder = trial_folder(fit.runner.out / "trials", state, segments, fit.city, fit.population)
        job = ([folder], s.closure_replications, days, f"closure{i}")
        sims = fit.runner.run(*job, first_seed=CLOSURE_FIRST_SEED)[folder]
        # the last round's place step would go unmeasured: on the City of London it took the closure's
        # own populations from 9.26 to 8.44 recorded crimes a day (target 9.23), the step's volume unseen
        if s.closure_place and i < s.closure_rounds - 1:
            exposure = fit.runner.expected_recorded(*job, first_seed=CLOSURE_FIRST_SEED)[folder]
            fit.learn_exposure(exposure, segments, state.prior_strength, gain=PLACE_GAIN, state=state,
                               seeds=s.closure_seeds, days=days)  # fmt: skip
            segments = fit.segments(p.fit)
        shares = _type_counts(pd.concat(sims, ignore_index=True))
        shares = shares / max(float(shares.sum()), 1e-300)
        gains = {k: 1.0 / e for k, e in _type_elasticities(before, state.type_weight, shares).items()}
        before = (dict(state.type_weight), shares)
        state, vol = moment_update(
            state, sims, fit, gain=1.0, type_gain=gains, volume_gain=1.0, days=days, profiles=False
        )
        say(f"  closure round {i + 1}/{s.closure_rounds}: {vol['sim_per_day']:.1f} simulated vs "
            f"{vol['real_per_day']:.1f} recorded crimes/day")  # fmt: skip
    return state, segments, vol


def _type_elasticities(
    before: tuple[dict[str, float], pd.Series] | None, weights: Mapping[str, float], shares: pd.Series
) -> dict[str, float]:
    """Return each type's d log(share) / d log(weight) between two closure rounds (1 without a round before)."""
    out = {}
    for k in CRIME_TYPES:
        e = 1.0
        if before is not None:
            w0, q0 = before[0].get(k, 0.0), float(before[1].get(k, 0.0))
            w1, q1 = weights.get(k, 0.0), float(shares.get(k, 0.0))
            if min(w0, w1, q0, q1) > 0 and abs(math.log(w1 / w0)) > 0.02:
                e = min(1.0, max(0.5, math.log(q1 / q0) / math.log(w1 / w0)))
        out[k] = e
    return out


def _terms(terms: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in terms.items())


def _optuna_stage(state: FitState, fit: Fit) -> tuple[FitState, list[dict[str, Any]]]:
    """Fit the place and near-repeat terms with Optuna (resumable: a journal file in the output folder)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import TrialState
    from tqdm import tqdm

    s = fit.settings
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(fit.runner.out / "optuna.journal")))
    study = optuna.create_study(
        study_name="place_terms", storage=storage, direction="minimize", load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=s.sampler_seed, n_startup_trials=min(8, s.trials),
                                           constant_liar=True),
    )  # fmt: skip
    # a killed calibration leaves trials running: fail them and run their parameters again
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)
        study.enqueue_trial(t.params, skip_if_exists=False)
    if not study.get_trials(deepcopy=False):
        study.enqueue_trial({k: getattr(state, k) for k in SEARCH})  # the moment stage's values first
    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    batch = max(1, _jobs())
    real = fit.periods.train
    bar = tqdm(total=s.trials, initial=min(done, s.trials), desc="trials", unit="trial", file=sys.stderr,
               bar_format="{desc}: {n_fmt}/{total_fmt} {bar:20} {elapsed} elapsed, ~{remaining} left{postfix}")  # fmt: skip
    with bar:
        while done < s.trials:
            trials = [study.ask() for _ in range(min(batch, s.trials - done))]
            states = []
            for t in trials:
                values = {k: t.suggest_float(k, lo, hi, log=log) for k, (lo, hi, log) in SEARCH.items()}
                states.append(replace(state, **values))
            folders = [
                trial_folder(fit.runner.out / "trials", st, fit.segments(real), fit.city, fit.population)
                for st in states
            ]
            results = fit.runner.run(folders, s.seeds, s.days, "place")
            expected = fit.runner.expected_recorded(folders, s.seeds, s.days, "place")
            for t, folder in zip(trials, folders, strict=True):
                terms = losses(results[folder], fit, expected=expected[folder])
                for k, v in terms.items():
                    t.set_user_attr(k, v)
                study.tell(t, total_loss(terms))
            done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
            bar.n = min(done, s.trials)
            bar.set_postfix_str(f"best loss {study.best_value:.3f}")
            bar.refresh()
    complete = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.value)
    best = complete[0]
    top = complete[: max(3, len(complete) // 4)]
    spread = []
    for k in SEARCH:
        vals = [t.params[k] for t in top]
        spread.append({"name": f"crime.{k}", "value": best.params[k], "lo": min(vals), "hi": max(vals),
                       "how": f"best of {len(complete)} Optuna trials; range of the best {len(top)}"})  # fmt: skip
    say(f"  place terms: best loss {best.value:.3f} with "
           + ", ".join(f"{k}={v:.3g}" for k, v in best.params.items()))  # fmt: skip
    return replace(state, **{k: float(best.params[k]) for k in SEARCH}), spread


def fit_prior_strength(
    train: np.ndarray, holdout: np.ndarray, expected: np.ndarray, *, length_m: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Return the shrinkage strength k that best predicts the holdout's counts, with its interval.

    Empirical Bayes without simulation: for each k on a grid, the forecast ``expected * (train + k) /
    (expected' + k)`` (expected' scaled to the train total) is scaled to the holdout's total and
    scored by the holdout's Poisson log-likelihood (k from 0.001 to 1000). The interval is where the log-likelihood is
    within 1.92 of its maximum (a 95% likelihood interval).

    With ``length_m`` (the streets' lengths) the score is instead what the test period's hit-rate
    target scores: the holdout's crimes on the forecast's top streets filling
    :data:`HIT_RATE_COVERAGE` of street length (:func:`sim.forecast.count_captured`). Its maximum is
    a plateau of ks that flag the same streets; the largest of them is taken (the least pull towards
    the counts that forecasts as well), and the interval is the ks capturing at least 98% as much.
    """
    from sim.forecast import count_captured

    grid = np.logspace(-3, 3, 61)
    e = np.asarray(expected, dtype=float)
    e = e / e.sum()
    score = []
    for k in grid:
        rate = e * relative_risk(train, e, float(k))
        if length_m is not None:
            score.append(float(count_captured(rate, holdout, length_m, [HIT_RATE_COVERAGE])[0]))
            continue
        rate = np.maximum(rate / rate.sum() * holdout.sum(), 1e-12)
        score.append(float((holdout * np.log(rate) - rate).sum()))
    sc = np.asarray(score)
    if length_m is not None:
        best = int(np.flatnonzero(sc >= sc.max())[-1])
        inside = grid[sc >= 0.98 * sc.max()]
    else:
        best = int(np.argmax(sc))
        inside = grid[sc >= sc[best] - 1.92]
    return float(grid[best]), float(inside.min()), float(inside.max())


def _jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 2))


def _weight_spread(
    state: FitState, sims: list[pd.DataFrame], expected: list[pd.DataFrame], fit: Fit
) -> list[dict[str, Any]]:
    """Each type's weight with the range implied by the replications (w * real / expected share, per run)."""
    p, s = fit.periods, fit.settings
    out = []
    real_share = type_counts(p.fit) / weighted_count(p.fit)
    ratio = pd.Series(pooled_ratio(fit))  # the expectation on the drawn crimes' scale, as the mix step put it
    per_run = [_type_counts(e).mul(ratio, fill_value=0.0) for e in expected]
    for k in CRIME_TYPES:
        r = float(real_share.get(k, 0.0))
        w = state.type_weight[k]
        ratios = []
        for n_k in per_run:  # the weight each replication alone would have asked for
            q = float(n_k.get(k, 0.0)) / float(n_k.sum()) if n_k.sum() > 0 else 0.0
            if q > 0:
                ratios.append(w * r / q)
        lo, hi = (min([w, *ratios]), max([w, *ratios])) if ratios else (float("nan"), float("nan"))
        out.append({"name": f"crime.type_weight.{k}", "value": w, "lo": lo, "hi": hi,
                    "how": f"share of the mix matched; range of the {len(sims)} last replications' own answers"})  # fmt: skip
    total = weighted_count(p.fit) / p.fit_days
    runs = [
        state.outings_per_day,
        *(state.outings_per_day * total / (len(sim) / s.days) for sim in sims if len(sim)),
    ]
    out.append({"name": "crime.outings_per_day", "value": state.outings_per_day, "lo": min(runs), "hi": max(runs),
                "how": f"recorded crimes per day matched; range over {len(sims)} replications"})  # fmt: skip
    return out


def prepare_fit(model: ModelConfig, settings: CalibrateSettings, base: list[str], out: Path) -> Fit:
    """Read the map and the incidents, split the periods and return the fit's state before any run."""
    from sim.environment import CLASS_WEIGHT
    from sim.incidents import IncidentSource, read_incidents
    from sim.landuse import LandUse, segment_class_values
    from sim.network import load_network

    settings.validate()
    if not model.incidents.path:
        raise ConfigError(
            "incidents.path", "", "the incident file to calibrate to, e.g. incidents.path=crimes.csv"
        )
    out.mkdir(parents=True, exist_ok=True)
    net = load_network(model.city.path, network_type=model.city.network_type, cache_dir=model.city.cache_dir)
    table = read_incidents(IncidentSource(**asdict(model.incidents)), net)
    periods = split_periods(table.events, settings, model.incidents.path)
    say(f"{city_name(model.city)}: {len(periods.fit):,} incidents to fit ({periods.fit_start.date()} to "
           f"{(periods.fit_end - pd.Timedelta(days=1)).date()}), {len(periods.test):,} to test "
           f"({periods.fit_end.date()} to {(periods.test_end - pd.Timedelta(days=1)).date()})"
           + ("" if periods.timed else "; dates only: hours, weekdays and Knox are not fitted"))  # fmt: skip
    city = {"path": str(Path(model.city.path).resolve()), "network_type": model.city.network_type,
            "name": city_name(model.city), "map_sha256": file_sha256(model.city.path), "n_segments": net.n_segments}  # fmt: skip
    land = LandUse.from_network(net)
    static = segment_class_values(net, CLASS_WEIGHT, 1.0) * (
        1.0 + model.crime.place_attraction * np.log1p(land.attractors())
    )
    population = {} if settings.population_seed is None else {"seed": settings.population_seed}
    return Fit(
        net, periods, settings, Runner(base, out), city, static / static.sum(), population, model=model
    )


def pilot_round(state: FitState, fit: Fit) -> FitState:
    """Run the uncalibrated model once, learn its exposure (Fit.learn_exposure) and fit k to it."""
    s = fit.settings
    pilot = fit.segments(fit.periods.train, pilot=True)
    folder = trial_folder(fit.runner.out / "trials", state, pilot, fit.city, fit.population)
    fit.runner.run([folder], s.seeds, s.days, "pilot")
    runs = fit.runner.expected_recorded([folder], s.seeds, s.days, "pilot")[folder]
    fit.learn_exposure(runs, pilot, 1.0, state=state)
    # the place terms step from the first round on, so they start with a k fitted to this exposure
    return replace(state, prior_strength=_prior_strength(fit)[0])


def _prior_strength(fit: Fit) -> tuple[float, float, float]:
    segs = fit.segments(fit.periods.train)
    by_hit_rate = fit.settings.prior_strength_by == "hit_rate"
    return fit_prior_strength(
        segs["count"].to_numpy(), fit.counts(fit.periods.holdout), segs["expected"].to_numpy(),
        length_m=fit.net.segment_length_m if by_hit_rate else None,
    )  # fmt: skip


def calibrate(model: ModelConfig, settings: CalibrateSettings, base: list[str], out: Path) -> Path:
    """Fit ``model``'s city to its incident file and validate on the test period; return the folder."""
    t0 = time.monotonic()
    fit = prepare_fit(model, settings, base, out)
    periods, city = fit.periods, fit.city
    state = FitState.from_config(model)

    say("stage 1: volume per type, hours, weekdays and the place terms")
    state = pilot_round(state, fit)
    state, _, _ = _moment_rounds(state, fit, settings.moment_rounds, "moments", periods.train)
    k, k_lo, k_hi = _prior_strength(fit)
    state = replace(state, prior_strength=k)
    how = ("best holdout Poisson likelihood of the shrunk counts; 95% likelihood interval"
           if settings.prior_strength_by == "likelihood" else
           f"largest k of the best holdout hit rate at {HIT_RATE_COVERAGE:.0%} of street length; ks within 98% of it")  # fmt: skip
    spread: list[dict[str, Any]] = [
        {"name": "crime.prior_strength", "value": k, "lo": k_lo, "hi": k_hi, "how": how}
    ]  # fmt: skip
    say(f"  place prior: shrinkage strength k = {k:.3g} pseudo-crimes (by {settings.prior_strength_by}; "
        f"interval {k_lo:.3g}-{k_hi:.3g})")  # fmt: skip
    if settings.trials:
        say(f"stage 2: place and near-repeat terms ({settings.trials} trials)")
        state, searched = _optuna_stage(state, fit)
        spread += searched
    say("stage 3: moments again, with the fitted place terms and the whole fit period's counts")
    state, sims, expected = _moment_rounds(
        state, fit, settings.moment_rounds, "final", periods.fit, decreasing=True
    )
    parameters = _weight_spread(state, sims, expected, fit) + spread
    segments = fit.segments(periods.fit)
    if settings.closure_replications and settings.closure_rounds:
        say(f"stage 4: the mix and the volume on {settings.closure_replications} runs of new populations, "
            f"as long as the test period")  # fmt: skip
        state, segments, _ = closure_rounds(state, fit, segments)
    # every fitting run started cold, so the fitted values are the model's own; the calibrated city's
    # runs (the test period's, `precinct run city.calibration=...`) start from the fit period's end
    boost = fit.start_boost()
    if boost is not None:
        segments[BOOST_COLUMN] = boost
    data = {
        "incidents": str(Path(model.incidents.path).resolve()),
        "incidents_sha256": file_sha256(model.incidents.path),
        "fit_start": str(periods.fit_start.date()), "fit_end": str((periods.fit_end - pd.Timedelta(days=1)).date()),
        "test_start": str(periods.fit_end.date()), "test_end": str((periods.test_end - pd.Timedelta(days=1)).date()),
        "n_fit": len(periods.fit), "n_test": len(periods.test), "timed": periods.timed,
        "reporting": "not fitted: the file lists recorded crime only, so the share never reported keeps its survey defaults",
    }  # fmt: skip
    write_calibration(out, state, segments, city, data=data, parameters=parameters, population=fit.population)
    validation: dict[str, Any] = {}
    if settings.test_replications:
        from experiments.calibration_report import validate_test_period

        smooth = functools.partial(fit.smooth_risk, segments=segments, state=state)
        validation = validate_test_period(
            out, fit.runner, fit.net, periods, settings, city, model, parameters, smooth_risk=smooth
        )
        write_calibration(out, state, segments, city, data=data, parameters=parameters, validation=validation,
                          population=fit.population)  # fmt: skip
    say(f"calibration written to {out} in {(time.monotonic() - t0) / 60:.1f} min "
           f"({fit.runner.sims_run} simulations run)")  # fmt: skip
    return out


# --------------------------------------------------------------------------- command line
def _compose(overrides: Sequence[str]) -> tuple[ModelConfig, CalibrateSettings, str]:
    from hydra import compose
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from experiments.configuration import build_model_config, conf_context, open_mapping_overrides

    overrides = open_mapping_overrides(overrides)
    with conf_context():
        cfg = compose("config", overrides=list(overrides))
    GlobalHydra.instance().clear()
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    raw = data.pop("calibrate", None) or {}
    allowed = {f.name for f in fields(CalibrateSettings)}
    for key, value in raw.items():
        if key not in allowed:
            raise ConfigError(
                f"calibrate.{key}", value, f"one of the keys of calibrate: {', '.join(sorted(allowed))}"
            )
    settings = CalibrateSettings(**raw).validate()
    if data.get("city", {}).get("calibration"):
        raise ConfigError(
            "city.calibration", data["city"]["calibration"], "empty: calibrate a map, not a calibration"
        )
    model, run = build_model_config(data, overrides=overrides)
    if model.population.seed is not None:
        raise ConfigError("population.seed", model.population.seed,
                          "null: a calibration chooses its population with calibrate.population_seed")  # fmt: skip
    return model, settings, run.name


def run_overrides(overrides: Sequence[str]) -> list[str]:
    """Return the user's overrides that the fitting runs share: the city, population, police, launcher."""
    skip = ("incidents", "calibrate", "name", "resume", "hydra.sweep", "hydra.run")
    return [o for o in overrides if not o.partition("=")[0].lstrip("+~").startswith(skip)]


def main(argv: Sequence[str]) -> int:
    """``precinct calibrate [OVERRIDES...]``: print the folder written."""
    overrides = list(argv)
    if {"-h", "--help"} & set(overrides):
        from experiments.configuration import CONF_DIR

        print((__doc__ or "").split("Incidents before")[0].strip())
        print("\nSettings (calibrate.KEY=VALUE), with their defaults:\n")
        print((CONF_DIR / "calibrate" / "default.yaml").read_text())
        print("The procedure, the objective and the validation: docs/calibration.md")
        return 0
    model, settings, name = _compose(overrides)
    out = Path("outputs") / "calibration" / name
    if settings.fresh and out.exists():
        shutil.rmtree(out)
    folder = calibrate(model, settings, run_overrides(overrides), out)
    print(f"calibration: {folder.resolve()}")
    html = folder / "validation.html"
    if html.is_file():
        print(f"validation report: {html.resolve()}")
    print(f"use it: precinct run city.calibration={folder}")
    return 0
