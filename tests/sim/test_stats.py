"""Tests for sim.stats: hand-computed intervals, coverage over many seeds, and the WDQ."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import stats as s

T_975_DF2 = 4.302652729911275  # Student t quantile, 97.5%, 2 degrees of freedom


def test_mean_ci_hand_example() -> None:
    ci = s.mean_ci([1.0, 2.0, 3.0])
    half = T_975_DF2 / math.sqrt(3)
    assert (ci.mean, ci.n) == (2.0, 3)
    assert (ci.low, ci.high) == pytest.approx((2 - half, 2 + half))
    one = s.mean_ci([5.0, np.nan])
    assert one.mean == 5.0 and one.n == 1 and math.isnan(one.low)
    with pytest.raises(ValueError, match="confidence"):
        s.mean_ci([1.0, 2.0], confidence=95)


def test_mean_ci_covers_known_mean_about_95_percent() -> None:
    rng = np.random.default_rng(2024)
    n_reps = 2000
    hits = 0
    for _ in range(n_reps):
        ci = s.mean_ci(rng.normal(3.0, 2.0, size=10))
        hits += ci.low <= 3.0 <= ci.high
    # binomial sd of the coverage is about 0.005
    assert abs(hits / n_reps - 0.95) < 0.015


def test_paired_difference_hand_example() -> None:
    res = s.paired_difference_ci([3.0, 5.0, 7.0], [1.0, 2.0, 3.0])
    half = T_975_DF2 / math.sqrt(3)  # differences 2, 3, 4: mean 3, sd 1
    assert res.n == 3 and res.mean_diff == pytest.approx(3.0)
    assert (res.diff_low, res.diff_high) == pytest.approx((3 - half, 3 + half))
    assert res.pct_change == pytest.approx(150.0)  # mean 5 against mean 2
    assert res.pct_low < 150.0 < res.pct_high
    # an exact ratio on every seed leaves no uncertainty in the ratio of means
    exact = s.paired_difference_ci([9.0, 18.0, 27.0], [10.0, 20.0, 30.0])
    assert (exact.pct_low, exact.pct_high) == pytest.approx((-10.0, -10.0))


def test_paired_difference_edge_cases() -> None:
    with pytest.raises(ValueError, match="pair up"):
        s.paired_difference_ci([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="pct_method"):
        s.paired_difference_ci([1.0, 2.0], [1.0, 2.0], pct_method="jackknife")  # type: ignore[arg-type]
    zero_control = s.paired_difference_ci([1.0, 2.0], [0.0, 0.0])
    assert math.isnan(zero_control.pct_change) and zero_control.mean_diff == 1.5
    dropped = s.paired_difference_ci([1.0, np.nan, 3.0], [0.5, 1.0, 2.0])
    assert dropped.n == 2
    same = s.paired_difference_ci([2.0, 3.0], [1.0, 2.0])
    assert same.p_value == 0.0 and same.diff_low == same.diff_high == 1.0


def crn_pair(rng: np.random.Generator, n_seeds: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts per seed with common random numbers: both arms share the seed's latent risk."""
    risk = rng.gamma(4.0, 0.25, n_seeds)
    return rng.poisson(90.0 * risk).astype(float), rng.poisson(100.0 * risk).astype(float)


def test_percent_interval_when_the_treatment_arm_has_no_events() -> None:
    """All-zero treatment (crime on gated alleys): not a certain -100%, but the difference's interval."""
    control = np.array([2.0, 0, 1, 0, 3, 1, 0, 1, 2, 0])
    d = s.paired_difference_ci(np.zeros(10), control)
    assert d.pct_change == -100.0
    assert d.pct_low == -100.0
    # the mean difference is -1.0 with a t interval of about +-0.77: the cut could be as small as ~23%
    assert d.pct_high == pytest.approx(100.0 * d.diff_high / control.mean())
    assert -40.0 < d.pct_high < -10.0
    # a large cut on few counts: the symmetric delta interval would reach below -100%
    d = s.paired_difference_ci(np.array([0.0, 0, 1, 0, 0, 0]), np.array([3.0, 0, 9, 1, 0, 4]))
    assert d.pct_low == -100.0 < d.pct_change < d.pct_high


@pytest.mark.parametrize(("method", "n_reps", "tolerance"), [("delta", 1000, 0.03), ("bootstrap", 250, 0.06)])
def test_percent_change_ci_coverage(method: str, n_reps: int, tolerance: float) -> None:
    rng = np.random.default_rng(11)
    hits = 0
    for rep in range(n_reps):
        treatment, control = crn_pair(rng, 20)
        res = s.paired_difference_ci(treatment, control, pct_method=method, n_boot=1000, rng=rep)  # type: ignore[arg-type]
        hits += res.pct_low <= -10.0 <= res.pct_high
    assert abs(hits / n_reps - 0.95) < tolerance


def test_difference_ci_coverage() -> None:
    rng = np.random.default_rng(12)
    n_reps = 1000
    hits = 0
    for _ in range(n_reps):
        treatment, control = crn_pair(rng, 20)
        res = s.paired_difference_ci(treatment, control)
        hits += res.diff_low <= -10.0 <= res.diff_high  # E[t - c] = (90 - 100) * E[risk] = -10
    assert abs(hits / n_reps - 0.95) < 0.03


def test_bootstrap_is_deterministic_given_seed() -> None:
    treatment, control = crn_pair(np.random.default_rng(0), 20)
    a = s.paired_difference_ci(treatment, control, pct_method="bootstrap", rng=5)
    b = s.paired_difference_ci(treatment, control, pct_method="bootstrap", rng=np.random.default_rng(5))
    assert a == b


# --------------------------------------------------------------------------------------------- WDQ
def test_wdq_worked_example_diffusion() -> None:
    # Hand-worked with the Bowers & Johnson (2003) formula. Treated 100 -> 50, buffer 80 -> 60,
    # control 200 -> 200: success = 50/200 - 100/200 = -0.25, buffer change = 60/200 - 80/200 = -0.10.
    wdq = s.weighted_displacement_quotient(100, 50, 80, 60, 200, 200)
    assert wdq == pytest.approx(0.4)  # > 0: the buffer shared the benefit
    assert s.total_net_effect(100, 50, 80, 60, 200, 200) == pytest.approx(70.0)


def test_wdq_worked_example_displacement_with_control_trend() -> None:
    # Control rose 200 -> 250 (trend 1.25). Treated 100 -> 50: 0.2 - 0.5 = -0.3.
    # Buffer 80 -> 110: 0.44 - 0.40 = +0.04, so WDQ = 0.04 / -0.3 < 0 (displacement, less than the gain).
    wdq = s.weighted_displacement_quotient(100, 50, 80, 110, 200, 250)
    assert wdq == pytest.approx(-0.04 / 0.3)
    assert -1 < wdq < 0
    assert s.total_net_effect(100, 50, 80, 110, 200, 250) == pytest.approx(75.0 - 10.0)


def test_wdq_zero_denominators_give_nan_and_arrays_broadcast() -> None:
    assert math.isnan(s.weighted_displacement_quotient(100, 100, 80, 60, 200, 200))  # no success
    assert math.isnan(s.weighted_displacement_quotient(100, 50, 80, 60, 0, 200))  # empty control
    per_seed = s.weighted_displacement_quotient([100, 100], [50, 100], [80, 80], [60, 60], [1, 1], [1, 1])
    assert isinstance(per_seed, np.ndarray)
    assert per_seed[0] == pytest.approx(0.4) and math.isnan(per_seed[1])


def test_paired_wdq_pools_seeds_and_bootstraps() -> None:
    rng = np.random.default_rng(3)
    n = 20
    treated_base = rng.poisson(100, n)
    treated_pol = rng.poisson(70, n)
    buffer_base = rng.poisson(80, n)
    buffer_pol = rng.poisson(72, n)  # buffer improves too: diffusion
    control = rng.poisson(500, n)
    res = s.paired_weighted_displacement_quotient(
        treated_base, treated_pol, buffer_base, buffer_pol, control, control, rng=1
    )
    expected = s.weighted_displacement_quotient(
        treated_base.sum(),
        treated_pol.sum(),
        buffer_base.sum(),
        buffer_pol.sum(),
        control.sum(),
        control.sum(),
    )
    assert res.wdq == pytest.approx(expected)
    assert res.success_measure < 0 and res.low < res.wdq < res.high and res.low > 0
    assert res.n_seeds == n and len(res.per_seed) == n and res.n_boot_valid == 4000
    assert res.success_low < res.success_measure < res.success_high < 0  # 30% fewer: clearly below 0
    again = s.paired_weighted_displacement_quotient(
        treated_base, treated_pol, buffer_base, buffer_pol, control, control, rng=1
    )
    assert again == res
    with pytest.raises(ValueError, match="one value per seed"):
        s.paired_weighted_displacement_quotient([1, 2], [1, 2], [1], [1, 2], [1, 2], [1, 2])


def test_ratio_with_a_fixed_numerator_is_the_numerator_over_the_denominator_interval() -> None:
    from sim.stats import mean_ci, paired_ratio_ci

    prevented = np.array([8.0, 11.0, 9.5, 12.0, 10.5, 7.0])
    cost = np.full(prevented.size, 1200.0)
    r = paired_ratio_ci(cost, prevented)
    d = mean_ci(prevented)
    assert r.estimable and r.n == 6
    assert r.ratio == pytest.approx(1200.0 / prevented.mean())
    # Fieller with no numerator variance: exactly the cost over the bounds of crimes prevented
    assert (r.low, r.high) == pytest.approx((1200.0 / d.high, 1200.0 / d.low))


def test_ratio_is_not_estimable_when_crimes_prevented_may_be_zero_or_negative() -> None:
    from sim.stats import paired_ratio_ci

    cost = np.full(6, 1200.0)
    spans_zero = paired_ratio_ci(cost, np.array([3.0, -2.0, 5.0, -4.0, 1.0, 0.5]))
    assert not spans_zero.estimable and np.isnan(spans_zero.ratio) and np.isnan(spans_zero.low)
    rose = paired_ratio_ci(cost, np.array([-8.0, -11.0, -9.5, -12.0, -10.5, -7.0]))
    assert not rose.estimable, "crime clearly rose: no cost per crime prevented"
    assert not paired_ratio_ci([1.0], [2.0]).estimable, "one seed: no interval"


def test_ratio_interval_covers_the_true_ratio_about_95_percent() -> None:
    from sim.stats import paired_ratio_ci

    rng = np.random.default_rng(4)
    hits = 0
    for _ in range(400):
        prevented = rng.normal(10.0, 3.0, size=12)
        cost = 50.0 * prevented + rng.normal(200.0, 40.0, size=12)  # true ratio (500 + 200) / 10 = 70
        r = paired_ratio_ci(cost, prevented)
        hits += r.estimable and r.low <= 70.0 <= r.high
    assert 0.92 <= hits / 400 <= 0.98


def test_paired_wdq_success_interval_reaches_zero_when_the_treated_fall_is_within_noise() -> None:
    """A fall of 1% on the treated streets against control noise: the WDQ's denominator is not clearly < 0."""
    import sim.stats as s

    rng = np.random.default_rng(7)
    n = 10
    res = s.paired_weighted_displacement_quotient(
        rng.poisson(100, n), rng.poisson(99, n), rng.poisson(80, n), rng.poisson(80, n),
        rng.poisson(500, n), rng.poisson(500, n), rng=2,
    )  # fmt: skip
    assert res.success_low < 0 < res.success_high
    assert res.low < -1 and res.high > 1  # the ratio's interval then says nothing about displacement
