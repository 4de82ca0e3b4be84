"""The plan in words: the sentence a planner reads first, then the runners-up and the Pareto front.

Each function reads the ``plan.json`` mapping :func:`experiments.plan.plan` writes (a row per mix:
its cost per week and its crime and harm change with their paired 95% CIs), so a saved plan can be
worded again without its runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["describe", "plan_sentence"]


def _cut(row: Mapping[str, Any], objective: str) -> str:
    """Return "cut crime by 4.1% (95% CI 0.3% to 7.9%)" (or "raise ... by") from a row of :func:`_row`."""
    p = "harm_" if objective == "harm" else ""
    what = "harm (Cambridge Crime Harm Index)" if objective == "harm" else "crime"
    pct, low, high = row[f"{p}change_pct"], row[f"{p}change_pct_low"], row[f"{p}change_pct_high"]
    if not math.isfinite(pct):
        return f"leave {what} unmeasured (the reference runs had none)"

    def num(x: float) -> str:
        return f"{x + 0.0:.1f}".replace("-0.0", "0.0")  # no "-0.0"

    if pct <= 0:
        return f"cut {what} by {num(-pct)}% (95% CI {num(-high)}% to {num(-low)}%)"
    return f"raise {what} by {num(pct)}% (95% CI {num(low)}% to {num(high)}%)"


def plan_sentence(result: Mapping[str, Any]) -> str:
    """Return the sentence a planner reads first: the budget, the mix, and its effect with its 95% CI."""
    b, c = result["budget"], result["chosen"]
    objective = result["settings"]["objective"]
    if not result.get("chosen_policies", [None]):
        return (
            f"With {b['officer_hours_per_week']:g} officer-hours and {b['money']:,.0f} per week, no mix tried is "
            f"expected to cut {objective} more than random patrol alone: keep random patrol (no new strategy)."
        )
    return (
        f"With {b['officer_hours_per_week']:g} officer-hours and {b['money']:,.0f} per week, this mix is expected "
        f"to {_cut(c, objective)}: {c['mix']}."
    )


def describe(result: dict[str, Any]) -> str:
    """Return the plan in words: the sentence a planner reads first, then the runners-up and the front."""
    b, c, rob = result["budget"], result["chosen"], result["robustness"]
    s = result["settings"]
    objective = s["objective"]
    p = "harm_" if objective == "harm" else ""
    asked = result.get("pareto_objectives", [])

    def effect(row: dict[str, Any]) -> str:
        extra = "".join(
            f", {label} {row[key]:.{k}f}" for name, key, label, k in
            (("response_time", "response_time_mean_min", "mean response (min)", 1), ("trust", "trust_end", "trust at end", 3))
            if name in asked
        )  # fmt: skip
        other = "crime" if objective == "harm" else "harm"
        return (f"{_cut(row, objective)} [{_cut(row, other)}], "
                f"costs {row['officer_hours_per_week']:.1f} officer-hours and {row['money_per_week']:,.0f} per week{extra}")  # fmt: skip

    lines = [
        result.get("sentence") or plan_sentence(result),
        *(
            [f"  the interval includes no change: the {s['seeds']} seeds of {s['days']:g} days cannot tell this "
             "mix from random patrol; run more (plan.seeds, plan.days) before acting on it"]
            if result.get("chosen_policies") and not (c[f"{p}change_pct_high"] < 0 or c[f"{p}change_pct_low"] > 0)
            else []
        ),
        f"  it uses {c['officer_hours_per_week']:.1f} officer-hours and {c['money_per_week']:,.0f} per week "
        f"(one-off costs spread over {b['amortise_years']:g} years)",
        f"  and is expected to {_cut(c, 'crime' if objective == 'harm' else 'harm')}",
        f"  robustness: lowest {objective} of the {rob['candidates_within_budget']} mixes within budget on "
        f"{rob['best_on_seeds']} of {len(rob['rank_per_seed'])} seeds (ranks per seed: "
        f"{', '.join(map(str, rob['rank_per_seed']))})",
        "runners-up within budget, and what each costs:",
        *(f"  {r['mix']}: {effect(r)}" for r in result["runners_up"]),
        f"Pareto front ({', '.join(asked)}; within budget or not, ! = over budget):",
        *(f"  {'  ' if r['within_budget'] else '! '}{r['mix']}: {effect(r)}" for r in result["pareto_front"]),
        f"{result['candidates']} mixes on {s['seeds']} paired seeds of {s['days']:g} days; "
        f"{result['sims_run']} simulations run by this command in {result['minutes']:.1f} min (a resumed search reuses earlier runs).",
    ]  # fmt: skip
    return "\n".join(lines)
