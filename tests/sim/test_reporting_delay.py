"""The delay of reporting, estimated from a file cut at its last report date (sim.incidents._delay)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.incidents._delay import fit_reporting_delay, product_limit


def truncated_file(n: int, *, days: int = 90, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offences over ``days`` days with a long-tailed delay, kept only when reported by the last day."""
    rng = np.random.default_rng(seed)
    occurred = rng.integers(0, days, n)
    lag = np.minimum(rng.geometric(0.35, n) - 1 + (rng.random(n) < 0.15) * rng.integers(0, 30, n), 40)
    kept = occurred + lag <= days - 1
    return occurred, lag, kept


def test_product_limit_recovers_the_delay_that_truncation_hides() -> None:
    occurred, lag, kept = truncated_file(40_000)
    est = product_limit(lag[kept], (89 - occurred[kept]).astype(np.int64))
    truth = np.array([(lag <= d).mean() for d in range(est.size)]) / (lag <= est.size - 1).mean()
    assert np.abs(est - truth).max() < 0.01
    # the delays as seen in the file are too short: the late ones of the last weeks are missing
    naive = np.array([(lag[kept] <= d).mean() for d in range(est.size)])
    assert (naive[:10] - truth[:10]).min() > 0.01


def test_completeness_and_weights_put_the_last_days_back() -> None:
    occurred, lag, kept = truncated_file(40_000, seed=1)
    kinds = np.full(kept.sum(), "burglary", dtype=object)
    delay = fit_reporting_delay(kinds, occurred[kept], (occurred + lag)[kept].astype(float), through_day=89)
    last = occurred >= 75  # the last fortnight: many of its late reports missing
    true_share = kept[last].mean()
    w = delay.weights(kinds[last[kept]], occurred[kept & last])
    assert true_share < 0.9
    assert w.sum() == pytest.approx(last.sum(), rel=0.03)  # the weights count the missing ones back in
    missing = 1.0 - delay.completeness(["burglary"] * 15, np.arange(75, 90)).mean()  # days weighted alike
    assert missing == pytest.approx(1 - true_share, abs=0.02)
    assert delay.completeness(["burglary"], [10])[0] > 0.99  # old offences are all in


def test_each_type_is_shrunk_towards_the_pooled_delays_as_far_as_its_held_out_delays_say() -> None:
    """A type reported at once keeps its own curve; a type delayed like the rest takes the pooled one."""
    occurred, lag, kept = truncated_file(6_000, seed=2)
    n = int(kept.sum())
    kinds = np.where(np.arange(n) % 3 == 0, "burglary", "other_theft").astype(object)
    rep = (occurred + lag)[kept].astype(float)
    prompt = np.random.default_rng(3).integers(0, 90, 150)  # 150 robberies, each reported the same day
    kinds = np.concatenate([kinds, np.full(prompt.size, "robbery", dtype=object)])
    occ = np.concatenate([occurred[kept], prompt])
    delay = fit_reporting_delay(kinds, occ, np.concatenate([rep, prompt.astype(float)]), through_day=89)
    assert delay.strength["robbery"] <= 10  # its own delays, which the pooled curve would misstate
    assert delay.curve("robbery")[0] > 0.95 > delay.cdf["all"][0] + 0.2
    # burglary and other theft share one delay: their halves' noise is smoothed by the pooled curve
    assert min(delay.strength["burglary"], delay.strength["other_theft"]) >= 100
    truth = (lag <= 5).mean() / (lag <= delay.max_delay).mean()
    assert delay.curve("burglary")[5] == pytest.approx(truth, abs=0.02)
    assert delay.n_events["robbery"] == prompt.size
    np.testing.assert_array_equal(delay.curve("vehicle_theft"), delay.cdf["all"])  # a type not fitted
    # one shoplifting, reported after a delay no other offence had: nothing to score it on, so the pooled curve
    odd = fit_reporting_delay(
        np.append(kinds, "shoplifting"), np.append(occ, 0), np.append(np.concatenate([rep, prompt.astype(float)]), 45.0),
        through_day=89, max_delay=50,
    )  # fmt: skip
    assert (np.concatenate([rep, prompt]) - occ).max() < 45  # the delay is the shoplifting's alone
    assert odd.strength["shoplifting"] == math.inf


def test_a_given_strength_gives_the_pooled_curve_or_the_types_own() -> None:
    occurred, lag, kept = truncated_file(3_000, seed=5)
    kinds = np.where(np.arange(kept.sum()) % 2 == 0, "robbery", "burglary").astype(object)
    occ, rep = occurred[kept], (occurred + lag)[kept].astype(float)
    pooled = fit_reporting_delay(kinds, occ, rep, through_day=89, strength=math.inf)
    np.testing.assert_allclose(pooled.curve("robbery"), pooled.cdf["all"])
    own = fit_reporting_delay(kinds, occ, rep, through_day=89, strength=0, max_delay=20)
    mine = (kinds == "robbery") & (rep - occ <= 20)
    direct = product_limit((rep - occ)[mine].astype(np.int64), (89 - occ)[mine].astype(np.int64))
    assert direct.size == 21  # robbery alone, its delays up to D = 20
    np.testing.assert_allclose(own.curve("robbery"), direct, rtol=1e-12)
    assert np.abs(own.curve("robbery") - own.cdf["all"]).max() > 0.001  # its own, not the pooled one


def test_unknown_and_impossible_report_days_are_left_out_and_bad_input_is_refused() -> None:
    delay = fit_reporting_delay(["a", "a", "a", "a"], [0, 1, 2, 3], [0.0, np.nan, 1.0, 5.0])
    assert delay.n_events["all"] == 2 and delay.through_day == 5
    with pytest.raises(ValueError, match="no incident has a report day"):
        fit_reporting_delay(["a"], [3], [np.nan])
    with pytest.raises(ValueError, match="same length"):
        fit_reporting_delay(["a", "b"], [3], [3.0])
    with pytest.raises(ValueError, match="<= its horizon"):
        product_limit(np.array([5]), np.array([2]))


def test_a_late_report_among_the_files_first_few_offences_does_not_rule_the_delay() -> None:
    """Delays beyond the median horizon are not counted: only the file's first days could show them."""
    occurred, lag, kept = truncated_file(1_000, seed=4)  # about 11 offences a day
    kinds = np.full(kept.sum() + 1, "burglary", dtype=object)
    occ = np.append(occurred[kept], 0)  # one offence of the first day reported 89 days late
    rep = np.append((occurred + lag)[kept], 89).astype(float)
    delay = fit_reporting_delay(kinds, occ, rep, through_day=89)
    assert delay.max_delay == int(np.median(89 - occ))
    assert delay.curve("burglary").size == delay.max_delay + 1 or lag.max() < delay.max_delay
    uncapped = fit_reporting_delay(kinds, occ, rep, through_day=89, max_delay=89)
    truth = (lag <= 20).mean() / (lag <= delay.max_delay).mean()
    assert delay.curve("burglary")[20] == pytest.approx(truth, abs=0.03)
    # a delay of 89 days could be seen only among the first day's dozen offences: one report moves F by 8%
    assert uncapped.curve("burglary")[20] < delay.curve("burglary")[20] - 0.05
    with pytest.raises(ValueError, match="max_delay must be >= 0"):
        fit_reporting_delay(kinds, occ, rep, max_delay=-1)
