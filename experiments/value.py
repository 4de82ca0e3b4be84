"""Value for money: what each strategy cost, in money and officer-hours, per crime it prevented.

Per seed, crimes prevented are the baseline run's crimes minus the strategy run's (same seed), the
cost is the strategy run's total cost (the baseline books none of its own) and the officer-hours
are the time the strategy's own measures count in officer-hours (hot-spot dwell, watch coordinator,
problem-solving team) plus the change in community-meeting hours. Ratios are ratios of means over
the paired seeds with Fieller's interval (:func:`sim.stats.paired_ratio_ci`): "not estimable" when
the interval of crimes prevented includes zero, since the cost of a crime that may not have been
prevented has no upper bound.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments import wording
from experiments.comparison import Arm, Comparison
from sim.policies.registry import policy_specs
from sim.stats import PairedDifference, RatioCI, paired_difference_ci, paired_ratio_ci

__all__ = ["Value", "value_for_money", "value_table"]


@dataclass(frozen=True)
class Value:
    """One strategy's value for money against its baseline, per run, with intervals."""

    arm: Arm
    prevented: PairedDifference
    """Crimes prevented per run (baseline minus strategy) as a paired difference."""
    cost: float
    """Mean total cost per run, in the policy's currency units."""
    hours: float
    """Mean officer-hours per run spent on the strategy."""
    cost_per_crime: RatioCI
    hours_per_crime: RatioCI


def _officer_hours_metrics(arm: Arm) -> list[str]:
    """Return the arm's own measures counted in officer-hours (its strategies' registered report rows)."""
    return [
        row.metric
        for spec in policy_specs()
        if spec.name in arm.policies
        for row in spec.report_rows
        if row.unit.startswith("officer-hours")
    ]


def value_for_money(comp: Comparison) -> list[Value]:
    """Return the value for money of every strategy arm that has a baseline (see the module docstring)."""
    wide = comp.sweep.metrics.pivot_table(index="run_dir", columns="metric", values="value", aggfunc="first")
    out = []
    for arm in comp.arms:
        if arm.baseline is None or arm.label not in comp.effects or "crimes_total" not in wide:
            continue
        base = arm.baseline.runs.rename(columns={"run_dir": "base_dir"})
        pairs = arm.runs.merge(base, on="seed").sort_values("seed")
        mine, theirs = list(pairs["run_dir"]), list(pairs["base_dir"])

        def col(metric: str, runs: list[str]) -> np.ndarray:
            if metric not in wide:
                return np.zeros(len(runs))
            return np.nan_to_num(wide[metric].reindex(runs).to_numpy(dtype=float))

        prevented = col("crimes_total", theirs) - col("crimes_total", mine)
        cost = col("cost_total", mine) - col("cost_total", theirs)
        hours = sum((col(m, mine) for m in _officer_hours_metrics(arm)), np.zeros(len(mine)))
        hours = hours + col("officer_hours_meeting", mine) - col("officer_hours_meeting", theirs)
        out.append(
            Value(
                arm,
                paired_difference_ci(col("crimes_total", theirs), col("crimes_total", mine), confidence=comp.confidence),
                float(cost.mean()) if cost.size else float("nan"),
                float(hours.mean()) if hours.size else float("nan"),
                paired_ratio_ci(cost, prevented, confidence=comp.confidence),
                paired_ratio_ci(hours, prevented, confidence=comp.confidence),
            )
        )  # fmt: skip
    return out


def _ratio_cell(r: RatioCI, spent: float, how: str) -> str:
    if not np.isfinite(spent):
        return "<td title='No cost was recorded for this strategy'>–</td>"
    if spent == 0:
        return "<td title='The strategy spent none, so nothing per crime prevented'>0</td>"
    if not r.estimable:
        return (
            f"<td class='text na' title='{html.escape(how)}'>not estimable: the interval of crimes prevented "
            "includes zero (or crime rose)</td>"
        )
    return (
        f"<td title='{html.escape(how)}'>{wording.fmt(r.ratio, 1)}"
        f"<span class='ci'>{wording.fmt(r.low, 1)} to {wording.fmt(r.high, 1)}</span></td>"
    )


def value_table(values: list[Value], days: float) -> str:
    """Render the value-for-money table: one row per strategy, every number with a tooltip."""
    if not values:
        return ""
    head = (
        "<tr><th class='text'>Strategy</th><th>Crimes prevented<br>(per run; 95% CI)</th>"
        "<th>Cost<br>(per run)</th><th>Cost per crime prevented<br>(95% CI)</th>"
        "<th>Officer-hours on the strategy<br>(per run)</th><th>Officer-hours per crime prevented<br>(95% CI)</th></tr>"
    )
    rows = []
    for v in values:
        p = v.prevented
        # prevented = baseline - strategy: the paired difference of baseline against strategy
        prevented = wording.with_ci(
            p.mean_diff, p.diff_low, p.diff_high, wording.ci_digits(p.diff_low, p.diff_high, 1)
        )
        css = " class='good'" if wording.significant(p.diff_low, p.diff_high) and p.mean_diff > 0 else ""
        rows.append(
            f"<tr><td>{html.escape(wording.arm_title(v.arm))}</td>"
            f"<td{css} title='Mean over paired seeds of baseline crimes minus the strategy's, same seed; Student-t CI'>{prevented}</td>"
            f"<td title='Mean total cost per run booked by the strategy (policy currency units)'>{wording.fmt(v.cost, 0)}</td>"
            + _ratio_cell(v.cost_per_crime, v.cost, "Ratio of mean cost to mean crimes prevented; Fieller 95% CI over paired seeds")
            + f"<td title='Officer-hours counted by the strategy (dwell, coordination, team time) plus the change in meeting hours'>{wording.fmt(v.hours, 1)}</td>"
            + _ratio_cell(v.hours_per_crime, v.hours, "Ratio of mean officer-hours to mean crimes prevented; Fieller 95% CI over paired seeds")
            + "</tr>"
        )  # fmt: skip
    note = (
        f"<p class='note'>Per run of {wording.fmt(days, 0)} simulated days. A ratio is not estimable when the 95% "
        "interval of crimes prevented includes zero: the strategy may have prevented none, so the cost of a "
        "prevented crime has no upper bound. Intervals are Fieller's (paired seeds).</p>"
    )
    return f"<table class='value'>{head}{''.join(rows)}</table>{note}"


def value_frame(values: list[Value]) -> pd.DataFrame:
    """Return the value-for-money rows as a plain table (for CSV and GIS export)."""
    return pd.DataFrame(
        [
            {
                "strategy": wording.arm_title(v.arm), "crimes_prevented": v.prevented.mean_diff,
                "crimes_prevented_low": v.prevented.diff_low, "crimes_prevented_high": v.prevented.diff_high,
                "cost": v.cost, "cost_per_crime": v.cost_per_crime.ratio, "cost_per_crime_low": v.cost_per_crime.low,
                "cost_per_crime_high": v.cost_per_crime.high, "officer_hours": v.hours,
                "hours_per_crime": v.hours_per_crime.ratio, "hours_per_crime_low": v.hours_per_crime.low,
                "hours_per_crime_high": v.hours_per_crime.high,
            }
            for v in values
        ]
    )  # fmt: skip
