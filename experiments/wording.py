"""Words from numbers: the report's plain-language sentences and number formats, never written by hand.

Every phrase is filled from computed effects (:class:`experiments.comparison.Effect`, the WDQ), with the
confidence interval beside each estimate and "no clear change" whenever the interval spans zero.
Strategies are named by their registered labels (:func:`sim.policies.registry.policy_specs`).
"""

from __future__ import annotations

import html
import math

from experiments.comparison import Arm, Effect
from sim.policies.registry import policy_specs, reference_policy
from sim.stats import PairedDifference, PairedWDQ

__all__ = [
    "ACTIVITY_PHRASES",
    "DAYS_PER_MONTH",
    "NO_CLEAR_FALL",
    "arm_title",
    "cost_phrase",
    "diff_with_ci",
    "example_sweep",
    "fmt",
    "hour_shifts",
    "pct_digits",
    "pct_with_ci",
    "seed_text",
    "signed",
    "significant",
    "summary_sentence",
    "wdq_unassessable_because",
    "with_ci",
]

DAYS_PER_MONTH = 30.0
ACTIVITY_PHRASES = {
    "dwell": "stops and hot-spot visits",
    "meeting": "community meetings",
    "patrol": "random patrol",
    "respond": "travelling to calls",
    "attend": "attending calls",
}


def arm_title(arm: Arm | str) -> str:
    """Return the readable name of an arm.

    Parameters
    ----------
    arm
        The arm, or its label, e.g. ``targeted_patrol+cpted [sim_days=7]``.

    Returns
    -------
    str
        Each strategy's registered label, short labels in a combination, then the settings:
        ``Targeted patrol + CPTED [sim_days=7]``. An unregistered name is shown as
        ``name.replace("_", " ").capitalize()``.
    """
    label = arm.label if isinstance(arm, Arm) else arm
    policy, _, rest = label.partition(" [")
    names = policy.split("+")
    titles = [_strategy_title(name, short=len(names) > 1) for name in names]
    return " + ".join(titles) + (f" [{rest}" if rest else "")


def _strategy_title(name: str, *, short: bool) -> str:
    spec = next((s for s in policy_specs() if s.name == name), None)
    if spec is None:
        return name.replace("_", " ").capitalize()
    return spec.short_label if short else spec.label


def example_sweep(seeds: str = "range(0,10)") -> str:
    """Return an example sweep command: the reference strategy and the first other one, over seeds.

    Parameters
    ----------
    seeds
        The seed sweep, in Hydra's override syntax.

    Returns
    -------
    str
        E.g. ``precinct run -m policy=baseline,targeted_patrol 'seed=range(0,10)'``.
    """
    reference = reference_policy()
    others = [spec.name for spec in policy_specs() if spec.name != reference][:1]
    return f"precinct run -m policy={','.join([reference, *others])} 'seed={seeds}'"


def fmt(x: float, digits: int = 1) -> str:
    """Return ``x`` with thousands separators and ``digits`` decimals, a true minus sign, "n/a" if not finite."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if round(x, digits) == 0:
        x = 0.0  # no "-0.00"
    return f"{x:,.{digits}f}".replace("-", "−")


def signed(x: float, digits: int = 1, suffix: str = "") -> str:
    """Return ``x`` like :func:`fmt` but always signed (``+1.2%``, ``−3.0``; zero unsigned), then ``suffix``."""
    if not math.isfinite(x):
        return "n/a"
    if round(x, digits) == 0:
        return f"{0:.{digits}f}{suffix}"
    return ("+" if x > 0 else "−") + f"{abs(x):,.{digits}f}{suffix}"


def pct_digits(value: float, low: float = float("nan"), high: float = float("nan")) -> int:
    """Return the decimals for a percent: 0 when the interval is wide (decimals would be noise), else 1."""
    width = high - low if math.isfinite(low) and math.isfinite(high) else 0.0
    return 0 if width >= 4 or (math.isfinite(value) and abs(value) >= 10) else 1


def ci_digits(low: float, high: float, digits: int) -> int:
    """Return at least ``digits`` decimals, more when the interval excludes 0: its bound nearest 0 gets 2 significant figures.

    So a significant change never reads as zero (a trust change of +0.0003, 95% CI +0.0001 to
    +0.0005, prints as such, not as "0.000 (0.000 to 0.000)" coloured green). The interval's width
    gets a significant figure too, so a narrow one never reads as a point (+0.0062, 95% CI +0.0058 to
    +0.0066, not "+0.006 (+0.006 to +0.006)").
    """
    if not significant(low, high):
        return digits
    nearest = min(abs(low), abs(high))
    need = 1 - math.floor(math.log10(nearest))
    if high > low:
        need = max(need, -math.floor(math.log10(high - low)))
    return min(max(digits, need), 9)


def significant(lo: float, hi: float) -> bool:
    """Return whether the interval ``[lo, hi]`` is finite and excludes 0."""
    return math.isfinite(lo) and math.isfinite(hi) and (lo > 0 or hi < 0)


def pct_phrase(d: PairedDifference, what: str) -> str:
    """Return the percent change of ``what`` with its 95% CI, flagged "no clear change" when it spans 0."""
    if not math.isfinite(d.pct_change):
        return f"no {what} to compare (none in baseline)"
    k = pct_digits(d.pct_change, d.pct_low, d.pct_high)
    text = f"{signed(d.pct_change, k, '%')} {what}"
    if math.isfinite(d.pct_low):
        clear = "" if significant(d.pct_low, d.pct_high) else ": no clear change"
        text += f" (95% CI {signed(d.pct_low, k, '%')} to {signed(d.pct_high, k, '%')}{clear})"
    return text


NO_CLEAR_FALL = "no clear fall on treated streets"


def wdq_unassessable_because(w: PairedWDQ, treated: PairedDifference | None) -> str | None:
    """Return why the WDQ means nothing here, None when it is assessable.

    The WDQ is defined for a successful intervention (Bowers & Johnson 2003): only when crime clearly
    fell on the treated streets ("clearly": the percent change's 95% interval lies below 0, as in the
    sentences) and the success measure (the WDQ's denominator, relative to the control area) lies
    below 0 too. A denominator whose interval reaches 0 makes the ratio's interval unbounded (e.g. a
    WDQ of 11.6 with an interval of -1041 to 32).
    """
    clear_fall = treated is None or (math.isfinite(treated.pct_high) and treated.pct_high < 0)
    if not clear_fall or not (w.success_measure < 0 and math.isfinite(w.wdq)):
        return NO_CLEAR_FALL
    if math.isfinite(w.success_high) and w.success_high >= 0:
        return "no clear fall on treated streets relative to the control streets"
    return None


def wdq_phrase(w: PairedWDQ | None, treated: PairedDifference | None) -> str | None:
    """Return what happened on nearby streets (displacement, diffusion or neither), None without a WDQ."""
    if w is None:
        return None
    ci = f"WDQ {fmt(w.wdq, 2)}, 95% CI {fmt(w.low, 2)} to {fmt(w.high, 2)}"
    why = wdq_unassessable_because(w, treated)
    if why is not None:
        return f"displacement not assessable ({why})"
    if math.isfinite(w.low) and w.low > 0:
        return f"diffusion of benefits: nearby streets also improved ({ci})"
    if math.isfinite(w.high) and w.high < 0:
        extra = "; more crime moved than was prevented" if w.wdq < -1 else ""
        return f"displacement: some crime moved to nearby streets ({ci}{extra})"
    return f"no significant displacement to nearby streets ({ci})"


def summary_sentence(arm: Arm, effects: dict[str, Effect], wdq: PairedWDQ | None, days: float) -> str:
    """One plain-language sentence for an arm, e.g. ``Targeted patrol: −9% crime on treated streets (...)``."""
    parts = []
    treated = effects.get("crimes_in_treated")
    if wdq is not None and treated is not None:
        parts.append(pct_phrase(treated.diff, "crime on treated streets"))
    if "crimes_total" in effects:
        parts.append(pct_phrase(effects["crimes_total"].diff, "crime overall"))
    displacement = wdq_phrase(wdq, treated.diff if treated else None)
    if displacement:
        parts.append(displacement)
    trust = effects.get("mean_trust_end")
    if (
        trust is not None
        and significant(trust.diff.diff_low, trust.diff.diff_high)
        and abs(trust.diff.mean_diff) >= 5e-4
    ):
        d = trust.diff
        k = ci_digits(d.diff_low, d.diff_high, 3)  # a narrow interval keeps its width (as the table's cell)
        parts.append(
            f"trust in police {signed(d.mean_diff, k)} on a 0–1 scale "
            f"(95% CI {signed(d.diff_low, k)} to {signed(d.diff_high, k)})"
        )
    response = effects.get("response_time_mean_min")
    if (
        response is not None
        and significant(response.diff.diff_low, response.diff.diff_high)
        and abs(response.diff.mean_diff) >= 0.05
    ):
        d = response.diff
        parts.append(
            f"mean response time {signed(d.mean_diff, 1)} min "
            f"(95% CI {signed(d.diff_low, 1)} to {signed(d.diff_high, 1)})"
        )
    parts.append(cost_phrase(effects, days))
    return f"<strong>{html.escape(arm_title(arm))}:</strong> " + "; ".join(p for p in parts if p) + "."


def hour_shifts(effects: dict[str, Effect], days: float) -> list[tuple[float, str]]:
    """Officer-hours per month moved between activities: clear (95% CI excludes 0) and >= 1% of the total."""
    scale = DAYS_PER_MONTH / days if days and math.isfinite(days) else float("nan")
    total = sum(
        e.diff.mean_control
        for k, e in effects.items()
        if k.startswith("officer_hours_") and math.isfinite(e.diff.mean_control)
    )
    shifts = []
    for activity, phrase in ACTIVITY_PHRASES.items():
        e = effects.get(f"officer_hours_{activity}")
        if e is None or not significant(e.diff.diff_low, e.diff.diff_high):
            continue
        if abs(e.diff.mean_diff) >= max(0.01 * total, 1e-9) and abs(e.diff.mean_diff * scale) >= 1:
            shifts.append((e.diff.mean_diff * scale, phrase))
    return sorted(shifts, key=lambda t: -abs(t[0]))


def cost_phrase(effects: dict[str, Effect], days: float) -> str:
    """Return what an arm costs: officer-hours per month moved between activities, and money if any."""
    shifts = hour_shifts(effects, days)
    gains = [(h, p) for h, p in shifts if h > 0][:2]
    losses = [(h, p) for h, p in shifts if h < 0][:1]
    text = ""
    if gains:
        text = "uses " + " and ".join(f"{fmt(h, 0)} officer-hours/month for {p}" for h, p in gains)
        if losses:
            text += f" (taken from {losses[0][1]}, {fmt(losses[0][0], 0)} h)"
    cost = effects.get("cost_total")
    if cost is not None and math.isfinite(cost.diff.mean_treatment) and cost.diff.mean_treatment > 0:
        money = f"{fmt(cost.diff.mean_treatment, 0)} in the policy's currency units per run"
        text = f"{text}; costs {money}" if text else f"costs {money}"
    return text or "no clear change in how officers spend their time"


def with_ci(value: float, low: float, high: float, digits: int, suffix: str = "") -> str:
    """Return a table cell: the estimate, and under it its 95% CI in small print."""
    text = signed(value, digits, suffix)
    if math.isfinite(low) and math.isfinite(high):
        text += f"<span class='ci'>{signed(low, digits, suffix)} to {signed(high, digits, suffix)}</span>"
    return text


def diff_with_ci(d: PairedDifference, digits: int) -> str:
    """Return a table cell of the paired difference and its 95% CI, with enough decimals (:func:`ci_digits`)."""
    return with_ci(d.mean_diff, d.diff_low, d.diff_high, ci_digits(d.diff_low, d.diff_high, digits))


def pct_with_ci(d: PairedDifference) -> str:
    """Return a table cell of the percent change and its 95% CI (:func:`pct_digits`, then :func:`ci_digits`)."""
    k = ci_digits(d.pct_low, d.pct_high, pct_digits(d.pct_change, d.pct_low, d.pct_high))
    return with_ci(d.pct_change, d.pct_low, d.pct_high, k, "%")


def seed_text(seeds: list[int]) -> str:
    """Return a list of seeds, a run of three or more as a range (``0–9``)."""
    seeds = sorted(set(seeds))
    if seeds and seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))
