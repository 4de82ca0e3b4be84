"""Paired-seed comparison statistics: policy arm against baseline arm, one pair per seed.

Precinct compares strategies with common random numbers: seed ``s`` gives the same residents,
offenders and random draws in every arm, so the per-seed difference removes most of the
between-run noise. These functions turn per-seed outcomes into an effect with a confidence
interval, and measure displacement or diffusion of benefits around treated areas with the
weighted displacement quotient (Bowers & Johnson 2003). All resampling is driven by an explicit
seed or ``numpy.random.Generator``, so results are reproducible.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "MeanCI",
    "PairedDifference",
    "PairedWDQ",
    "RatioCI",
    "mean_ci",
    "paired_difference_ci",
    "paired_ratio_ci",
    "paired_weighted_displacement_quotient",
    "total_net_effect",
    "weighted_displacement_quotient",
]


def _as_rng(rng: np.random.Generator | int) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def _as_1d(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array (one value per seed), got shape {arr.shape}")
    return arr


@dataclass(frozen=True)
class MeanCI:
    """A mean with its t-based confidence interval."""

    mean: float
    low: float
    high: float
    sem: float
    n: int
    confidence: float

    def as_dict(self) -> dict[str, float]:
        """Return the fields as a plain dict (for tidy tables and JSON)."""
        return asdict(self)


def mean_ci(values: ArrayLike, *, confidence: float = 0.95) -> MeanCI:
    """Return the mean of ``values`` with a Student-t confidence interval.

    NaN values are dropped. With fewer than two values the bounds are NaN.

    Parameters
    ----------
    values
        One value per seed (or any i.i.d. sample).
    confidence
        Coverage of the interval.
    """
    _check_confidence(confidence)
    arr = _as_1d(values, "values")
    arr = arr[np.isfinite(arr)]
    n = int(arr.size)
    if n == 0:
        return MeanCI(float("nan"), float("nan"), float("nan"), float("nan"), 0, confidence)
    mean = float(arr.mean())
    if n < 2:
        return MeanCI(mean, float("nan"), float("nan"), float("nan"), n, confidence)
    sem = float(arr.std(ddof=1) / np.sqrt(n))
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * sem
    return MeanCI(mean, mean - half, mean + half, sem, n, confidence)


@dataclass(frozen=True)
class PairedDifference:
    """Effect of a policy over paired seeds: absolute difference and percent change, with CIs."""

    n: int
    mean_treatment: float
    mean_control: float
    mean_diff: float
    """Mean of per-seed differences treatment - control."""
    diff_low: float
    diff_high: float
    p_value: float
    """Two-sided paired t-test of mean_diff = 0."""
    pct_change: float
    """100 * (mean_treatment / mean_control - 1); NaN when mean_control is 0."""
    pct_low: float
    pct_high: float
    pct_method: str
    confidence: float

    def as_dict(self) -> dict[str, float | str]:
        """Return the fields as a plain dict (for tidy tables and JSON)."""
        return asdict(self)


def _ratio_ci_delta(t: NDArray[np.float64], c: NDArray[np.float64], confidence: float) -> tuple[float, float]:
    # Delta method for R = mean(t) / mean(c): Var(R) ~ Var(t_i - R c_i) / (n mean(c)^2), which keeps
    # the covariance between arms that common random numbers create.
    n = t.size
    ratio = t.mean() / c.mean()
    se = np.std(t - ratio * c, ddof=1) / (np.sqrt(n) * abs(c.mean()))
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * se
    return float(ratio - half), float(ratio + half)


def _ratio_ci_bootstrap(
    t: NDArray[np.float64], c: NDArray[np.float64], confidence: float, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    # Resample whole seeds (pairs) so each replicate keeps the pairing.
    idx = rng.integers(0, t.size, size=(n_boot, t.size))
    num, den = t[idx].mean(axis=1), c[idx].mean(axis=1)
    ok = den != 0
    ratios = num[ok] / den[ok]
    if ratios.size == 0:
        return float("nan"), float("nan")
    alpha = 1 - confidence
    low, high = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def paired_difference_ci(
    treatment: ArrayLike,
    control: ArrayLike,
    *,
    confidence: float = 0.95,
    pct_method: Literal["delta", "bootstrap"] = "delta",
    n_boot: int = 4000,
    rng: np.random.Generator | int = 0,
) -> PairedDifference:
    """Return the paired-seed effect of a policy with confidence intervals.

    The absolute effect is the mean of per-seed differences with a Student-t interval. The percent
    change is ``100 * (mean(treatment) / mean(control) - 1)``, a ratio of means (stable when single
    seeds have small counts, unlike a mean of per-seed ratios). Its interval comes from

    * ``"delta"`` (default, deterministic): first-order delta method on the ratio of means using
      the paired residuals ``t_i - R c_i``, with a t quantile on ``n - 1`` degrees of freedom;
    * ``"bootstrap"``: percentile interval from ``n_boot`` paired bootstrap resamples of seeds,
      driven by ``rng``.

    Pairs with a NaN on either side are dropped; ``n`` is the number of pairs used.

    Parameters
    ----------
    treatment, control
        One outcome per seed, in the same seed order.
    confidence
        Coverage of the intervals.
    pct_method
        ``"delta"`` or ``"bootstrap"``.
    n_boot
        Bootstrap resamples (``"bootstrap"`` only).
    rng
        Generator or seed for the bootstrap.

    Returns
    -------
    PairedDifference
        Interval bounds are NaN with fewer than two pairs; percent fields are NaN when the control
        mean is 0. When the treatment is 0 on every seed (e.g. crime on gated alleys), the percent
        interval is the difference's interval divided by the control mean, floored at -100%. With
        non-negative outcomes (counts) the percent interval never goes below -100%.
    """
    _check_confidence(confidence)
    if pct_method not in ("delta", "bootstrap"):
        raise ValueError(f"pct_method must be 'delta' or 'bootstrap', got {pct_method!r}")
    t = _as_1d(treatment, "treatment")
    c = _as_1d(control, "control")
    if t.shape != c.shape:
        raise ValueError(f"treatment and control must pair up seed by seed; got {t.size} and {c.size} values")
    ok = np.isfinite(t) & np.isfinite(c)
    t, c = t[ok], c[ok]
    n = int(t.size)
    nan = float("nan")
    if n == 0:
        return PairedDifference(0, nan, nan, nan, nan, nan, nan, nan, nan, nan, pct_method, confidence)
    diff = mean_ci(t - c, confidence=confidence)
    if n < 2:
        p_value = nan
    elif diff.sem == 0:
        # Identical differences on every seed: no sampling noise to test against.
        p_value = 1.0 if diff.mean == 0 else 0.0
    else:
        p_value = float(2 * stats.t.sf(abs(diff.mean / diff.sem), df=n - 1))
    mean_c = float(c.mean())
    pct = pct_low = pct_high = nan
    if mean_c != 0:
        pct = 100.0 * (float(t.mean()) / mean_c - 1.0)
        if n >= 2:
            if pct_method == "delta":
                r_low, r_high = _ratio_ci_delta(t, c, confidence)
            else:
                r_low, r_high = _ratio_ci_bootstrap(t, c, confidence, n_boot, _as_rng(rng))
            if np.all(t == 0) and diff.sem > 0:
                # no event at all in the treatment arm: the ratio's residuals are all zero, and both
                # methods would claim certainty. Fall back on the difference's interval over the
                # control mean (a fixed denominator), floored at -100%.
                r_low, r_high = max(0.0, 1.0 + diff.low / mean_c), max(0.0, 1.0 + diff.high / mean_c)
            if np.all(t >= 0) and np.all(c >= 0):
                # a ratio of non-negative means is never below 0 (the delta interval is symmetric)
                r_low = max(r_low, 0.0)
            pct_low, pct_high = 100.0 * (r_low - 1.0), 100.0 * (r_high - 1.0)
    return PairedDifference(
        n=n,
        mean_treatment=float(t.mean()),
        mean_control=mean_c,
        mean_diff=diff.mean,
        diff_low=diff.low,
        diff_high=diff.high,
        p_value=p_value,
        pct_change=pct,
        pct_low=pct_low,
        pct_high=pct_high,
        pct_method=pct_method,
        confidence=confidence,
    )


@dataclass(frozen=True)
class RatioCI:
    """A ratio of means (e.g. cost per crime prevented) with its Fieller interval, or why there is none."""

    ratio: float
    low: float
    high: float
    n: int
    estimable: bool
    """False when the denominator's interval includes zero (or shows a rise): the ratio is unbounded."""
    confidence: float


def paired_ratio_ci(numerator: ArrayLike, denominator: ArrayLike, *, confidence: float = 0.95) -> RatioCI:
    """Return ``mean(numerator) / mean(denominator)`` over paired seeds with Fieller's interval.

    For cost-effectiveness: ``numerator`` is what a strategy cost in each seed's run and
    ``denominator`` the crimes it prevented there (baseline minus strategy). Fieller's interval
    (Fieller 1954; the standard for cost-effectiveness ratios) solves
    ``(a - R b)^2 = q^2 (v_aa - 2 R v_ab + R^2 v_bb)`` for the means ``a``, ``b`` and their
    (co)variances of the mean, ``q`` the Student-t quantile on ``n - 1`` degrees of freedom. It is a
    bounded interval exactly when the denominator's own t interval excludes zero; otherwise, or when
    the denominator is clearly negative (crime rose), the ratio is not estimable and every field but
    ``n`` and ``confidence`` is NaN.

    Parameters
    ----------
    numerator, denominator
        One value per seed, in the same seed order; pairs with a NaN are dropped.
    confidence
        Coverage of the interval.
    """
    _check_confidence(confidence)
    a_i, b_i = _as_1d(numerator, "numerator"), _as_1d(denominator, "denominator")
    if a_i.shape != b_i.shape:
        raise ValueError(
            f"numerator and denominator must pair up seed by seed; got {a_i.size} and {b_i.size}"
        )
    ok = np.isfinite(a_i) & np.isfinite(b_i)
    a_i, b_i = a_i[ok], b_i[ok]
    n = int(a_i.size)
    nan = float("nan")
    if n < 2:
        return RatioCI(nan, nan, nan, n, False, confidence)
    a, b = float(a_i.mean()), float(b_i.mean())
    cov = np.cov(np.vstack([a_i, b_i]), ddof=1) / n
    v_aa, v_ab, v_bb = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    q2 = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) ** 2
    lead = b * b - q2 * v_bb
    if b <= 0 or lead <= 0:
        return RatioCI(nan, nan, nan, n, False, confidence)
    half_b = a * b - q2 * v_ab
    disc = max(half_b * half_b - lead * (a * a - q2 * v_aa), 0.0)
    root = float(np.sqrt(disc))
    return RatioCI(a / b, (half_b - root) / lead, (half_b + root) / lead, n, True, confidence)


def _safe_div(num: ArrayLike, den: ArrayLike) -> NDArray[np.float64]:
    n = np.asarray(num, dtype=np.float64)
    d = np.asarray(den, dtype=np.float64)
    out: NDArray[np.float64] = np.divide(n, d, out=np.full(np.broadcast(n, d).shape, np.nan), where=d != 0)
    return out


def _scalar_or_array(arr: NDArray[np.float64]) -> float | NDArray[np.float64]:
    return float(arr) if arr.ndim == 0 else arr


def weighted_displacement_quotient(
    treated_before: ArrayLike,
    treated_after: ArrayLike,
    buffer_before: ArrayLike,
    buffer_after: ArrayLike,
    control_before: ArrayLike,
    control_after: ArrayLike,
) -> float | NDArray[np.float64]:
    """Return the weighted displacement quotient (Bowers & Johnson 2003).

    ``WDQ = (Ba/Ca - Bb/Cb) / (Ra/Ca - Rb/Cb)`` with R the treated (response) area, B the buffer
    around it, C a control area, b before and a after. The denominator is the success measure
    (negative when the treated area improved relative to control), the numerator the buffer's
    change. WDQ > 0: diffusion of benefits (the buffer improved too); WDQ < 0: displacement;
    WDQ < -1: more crime displaced than prevented. The WDQ is only meaningful when the success
    measure is negative (the treatment worked).

    Zero denominators (``Ca``, ``Cb`` or a zero success measure) give NaN rather than an error,
    because a seed or area with no crime is an ordinary outcome. Inputs broadcast, so arrays of
    per-seed counts give per-seed WDQs.

    Parameters
    ----------
    treated_before, treated_after
        Crime counts in the treated area (Rb, Ra).
    buffer_before, buffer_after
        Crime counts in the buffer (Bb, Ba).
    control_before, control_after
        Crime counts in the control area (Cb, Ca). With paired seeds and an untouched control,
        passing equal values (e.g. ones) reduces WDQ to ``(Ba - Bb) / (Ra - Rb)``.
    """
    ra, rb = np.asarray(treated_after, dtype=np.float64), np.asarray(treated_before, dtype=np.float64)
    ba, bb = np.asarray(buffer_after, dtype=np.float64), np.asarray(buffer_before, dtype=np.float64)
    ca, cb = np.asarray(control_after, dtype=np.float64), np.asarray(control_before, dtype=np.float64)
    success = _safe_div(ra, ca) - _safe_div(rb, cb)
    displacement = _safe_div(ba, ca) - _safe_div(bb, cb)
    return _scalar_or_array(_safe_div(displacement, success))


def total_net_effect(
    treated_before: ArrayLike,
    treated_after: ArrayLike,
    buffer_before: ArrayLike,
    buffer_after: ArrayLike,
    control_before: ArrayLike,
    control_after: ArrayLike,
) -> float | NDArray[np.float64]:
    """Return the total net effect in crimes prevented, treated area plus buffer (Bowers & Johnson 2003).

    ``TNE = (Rb * Ca/Cb - Ra) + (Bb * Ca/Cb - Ba)``: crimes the control trend predicts minus crimes
    seen, summed over both areas. Positive means crimes prevented overall. NaN when ``Cb`` is 0.

    Parameters
    ----------
    treated_before, treated_after, buffer_before, buffer_after, control_before, control_after
        Counts as in :func:`weighted_displacement_quotient`.
    """
    trend = _safe_div(control_after, control_before)
    out = (
        np.asarray(treated_before, dtype=np.float64) * trend
        - np.asarray(treated_after, dtype=np.float64)
        + np.asarray(buffer_before, dtype=np.float64) * trend
        - np.asarray(buffer_after, dtype=np.float64)
    )
    return _scalar_or_array(out)


@dataclass(frozen=True)
class PairedWDQ:
    """WDQ over paired seeds: pooled estimate, bootstrap CI and per-seed values."""

    wdq: float
    """WDQ of the counts summed over seeds."""
    low: float
    high: float
    success_measure: float
    """Ra/Ca - Rb/Cb on the pooled counts; the WDQ is meaningful only when this is negative."""
    displacement_measure: float
    """Ba/Ca - Bb/Cb on the pooled counts."""
    total_net_effect: float
    """Crimes prevented over treated area and buffer, summed over seeds."""
    n_seeds: int
    n_boot_valid: int
    """Bootstrap replicates with a defined WDQ (the rest had a zero denominator)."""
    per_seed: tuple[float, ...]
    confidence: float
    success_low: float = float("nan")
    success_high: float = float("nan")
    """Bootstrap interval of the success measure (the same resamples as the WDQ's): the WDQ is assessable
    only when it lies below 0, else its denominator can be near 0 and the ratio's interval unbounded."""

    def as_dict(self) -> dict[str, object]:
        """Return the fields as a plain dict (for tidy tables and JSON)."""
        return asdict(self)


def paired_weighted_displacement_quotient(
    treated_baseline: ArrayLike,
    treated_policy: ArrayLike,
    buffer_baseline: ArrayLike,
    buffer_policy: ArrayLike,
    control_baseline: ArrayLike,
    control_policy: ArrayLike,
    *,
    confidence: float = 0.95,
    n_boot: int = 4000,
    rng: np.random.Generator | int = 0,
) -> PairedWDQ:
    """Return the WDQ for paired seeds, "before" = baseline arm and "after" = policy arm.

    With common random numbers the baseline run of a seed is that seed's counterfactual, so it
    plays the role of the "before" period of Bowers & Johnson (2003). The point estimate is the WDQ
    of counts summed over seeds (per-seed WDQs are ratios of small differences and can explode);
    the interval is a percentile bootstrap that resamples whole seeds, replicates with a zero
    denominator being dropped (``n_boot_valid`` says how many remain).

    Parameters
    ----------
    treated_baseline, treated_policy
        Crimes in the treated area per seed, baseline and policy arms.
    buffer_baseline, buffer_policy
        Crimes in the buffer per seed.
    control_baseline, control_policy
        Crimes in the control area per seed.
    confidence
        Coverage of the bootstrap interval.
    n_boot
        Bootstrap resamples.
    rng
        Generator or seed.
    """
    _check_confidence(confidence)
    arrays = [
        _as_1d(v, name)
        for v, name in [
            (treated_baseline, "treated_baseline"),
            (treated_policy, "treated_policy"),
            (buffer_baseline, "buffer_baseline"),
            (buffer_policy, "buffer_policy"),
            (control_baseline, "control_baseline"),
            (control_policy, "control_policy"),
        ]
    ]
    sizes = {a.size for a in arrays}
    if len(sizes) != 1:
        raise ValueError(
            f"every count array must have one value per seed; got sizes {[a.size for a in arrays]}"
        )
    rb, ra, bb, ba, cb, ca = arrays
    n = int(rb.size)
    if n == 0:
        raise ValueError("paired_weighted_displacement_quotient: no seeds given")
    sums = [float(a.sum()) for a in arrays]
    srb, sra, sbb, sba, scb, sca = sums
    wdq = float(weighted_displacement_quotient(srb, sra, sbb, sba, scb, sca))
    success = float(_safe_div(sra, sca) - _safe_div(srb, scb))
    displacement = float(_safe_div(sba, sca) - _safe_div(sbb, scb))
    tne = float(total_net_effect(srb, sra, sbb, sba, scb, sca))
    per_seed = np.asarray(weighted_displacement_quotient(rb, ra, bb, ba, cb, ca), dtype=np.float64)

    idx = _as_rng(rng).integers(0, n, size=(n_boot, n))
    resampled = [a[idx].sum(axis=1) for a in arrays]
    boot = np.asarray(weighted_displacement_quotient(*resampled), dtype=np.float64)
    boot = boot[np.isfinite(boot)]
    b_rb, b_ra, _, _, b_cb, b_ca = resampled
    with np.errstate(divide="ignore", invalid="ignore"):
        b_success = b_ra / b_ca - b_rb / b_cb
    b_success = b_success[np.isfinite(b_success)]
    alpha = 1 - confidence
    low = high = s_low = s_high = float("nan")
    if boot.size:
        low, high = (float(v) for v in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))
    if b_success.size:
        s_low, s_high = (float(v) for v in np.quantile(b_success, [alpha / 2, 1 - alpha / 2]))
    return PairedWDQ(
        wdq=wdq,
        low=low,
        high=high,
        success_measure=success,
        displacement_measure=displacement,
        total_net_effect=tne,
        n_seeds=n,
        n_boot_valid=int(boot.size),
        per_seed=tuple(float(v) for v in np.atleast_1d(per_seed)),
        confidence=confidence,
        success_low=s_low,
        success_high=s_high,
    )
