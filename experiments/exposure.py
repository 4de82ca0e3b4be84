"""Where a synthetic population's offenders would search: the expected search exposure of each street.

A run's expected recorded crime per street (``crimes_recorded_expected``) is where that run's
offenders happened to search, times what they found there: on Portland about two searches a street
in a 23-day run, so the place terms that divide it out learn its sampling noise as well
(docs/calibration.md, "Measured"). An offender picks each search from their awareness space with
probability proportional to familiarity x attractiveness ** ``attraction_power``
(:meth:`sim.agents.offender.Offenders.choose_search_segments`; crime pattern theory, Brantingham &
Brantingham 1993), and offends only while searching (``crime.enroute_factor`` is 0 by default), so
that probability, summed over a population's offenders, is the expectation the runs sample from.
It is computed here from the synthetic population itself, with no run and no random number.

Everything is one pass over the awareness entries of all offenders (``numpy.bincount``), so it
grows with the population, not with offenders x streets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.config import ModelConfig
from sim.network import StreetNetwork

__all__ = ["Population", "blend_exposure", "build_population", "search_shares"]


@dataclass(frozen=True)
class Population:
    """The parts of one synthetic population that decide where its offenders search."""

    aware_offender: NDArray[np.int64]
    """The offender of each awareness entry (the CSR rows of ``Offenders.aware_indptr``, expanded)."""
    aware_segment: NDArray[np.int64]
    aware_weight: NDArray[np.float64]
    home_segment: NDArray[np.int64]
    static_attractiveness: NDArray[np.float64]
    """Each street's attractiveness before any calibration multiplier (mean 1): street class, mapped
    attractors and this population's risky-facility term (:class:`sim.environment.Environment`)."""

    @property
    def n_offenders(self) -> int:
        """Number of offenders."""
        return int(self.home_segment.size)


def build_population(model: ModelConfig, seed: int, net: StreetNetwork) -> Population:
    """Build the offenders and the streets' static attractiveness that a run of ``model`` with ``seed`` builds.

    The model's own set-up (:func:`sim.setup.build_offending_side`, ``population.seed`` when set,
    else the run's ``seed``), so the awareness spaces are those of the run; residents and officers
    are not built (their streams are separate). ``model`` must carry no ``crime.segment_prior``: the
    multiplier is applied by the caller, round by round.
    """
    from sim.setup import build_offending_side

    if model.crime.segment_prior:
        raise ValueError("build_population takes the uncalibrated model (crime.segment_prior empty)")
    side = build_offending_side(dataclasses.replace(model, seed=seed), net, landmarks=0)
    off, env = side.offenders, side.env
    rows = np.repeat(np.arange(off.n, dtype=np.int64), np.diff(off.aware_indptr))
    return Population(rows, off.aware_segment.astype(np.int64), off.aware_weight.astype(np.float64),
                      off.home_segment.astype(np.int64), env.static_attractiveness.copy())  # fmt: skip


def search_shares(
    pop: Population, multiplier: NDArray[np.float64], attraction_power: float
) -> NDArray[np.float64]:
    """Return each street's expected share of the population's search choices, summed over offenders.

    Offender ``i`` searches street ``s`` with probability ``w_is * A_s ** power / sum_s' w_is' *
    A_s' ** power`` (``A`` the static attractiveness times ``multiplier``), as
    ``choose_search_segments`` draws it; an offender with no street to choose searches at home. Each
    offender's row sums to 1, so the result sums to the number of offenders. The near-repeat boost
    and returns to a last success, which follow the run's own crimes, are left out.
    """
    n = pop.static_attractiveness.size
    a = pop.static_attractiveness * np.asarray(multiplier, dtype=np.float64)
    w = pop.aware_weight * a[pop.aware_segment] ** attraction_power
    total = np.bincount(pop.aware_offender, weights=w, minlength=pop.n_offenders)
    p = np.divide(w, total[pop.aware_offender], out=np.zeros_like(w), where=total[pop.aware_offender] > 0)
    out: NDArray[np.float64] = np.bincount(pop.aware_segment, weights=p, minlength=n)
    out += np.bincount(pop.home_segment[total <= 0], minlength=n)
    return out


def blend_exposure(
    sampled: NDArray[np.float64],
    visits: NDArray[np.float64],
    prior_yield: NDArray[np.float64],
    pseudo_visits: float,
    *,
    searches: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Return the runs' exposure with each street's yield per search shrunk towards a smooth prior.

    ``sampled`` is the runs' exposure per street (mean over runs), ``visits`` the searches each
    street was expected to get in a run (:func:`search_shares` times the searches per offender),
    ``prior_yield`` a smooth guess of the exposure one search brings there. The yield per search is
    the gamma-Poisson (empirical-Bayes) mean ``(sampled + a * prior) / (visits + a)`` with ``a`` =
    ``pseudo_visits`` (Clayton & Kaldor 1987, the estimator the place terms use), and the exposure
    is ``visits`` times it: a street searched often keeps what the runs saw, one searched about once
    leans on the prior, since whether a run's offenders happened to search it once or not at all is
    noise. A street with no expected search (reached only by sprees and returns) keeps its sample.

    ``searches`` (default ``visits``) are the searches the exposure is wanted for: ``sampled`` and
    ``visits`` may be sums over several rounds of runs, and the exposure that of the next round.
    """
    sampled = np.asarray(sampled, dtype=np.float64)
    visits = np.asarray(visits, dtype=np.float64)
    searched = visits > 0
    per_search = np.divide(sampled + pseudo_visits * prior_yield, visits + pseudo_visits,
                           out=np.zeros_like(sampled), where=searched)  # fmt: skip
    now = visits if searches is None else np.asarray(searches, dtype=np.float64)
    out: NDArray[np.float64] = np.where(searched, now * per_search, sampled)
    return out
