"""The plan's choice among the mixes tried: the budget, each candidate's measures, the Pareto front.

:func:`choose_plan` takes the candidate within budget with the lowest mean objective (cheaper first on
ties); :func:`pareto_front` keeps the candidates no other beats on all the objectives searched at
once; :func:`seed_ranks` is the plan's rank seed by seed, the robustness :mod:`experiments.plan`
reports. Pure functions of the candidates' per-seed measures: no simulation here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.checks import NON_NEGATIVE, POSITIVE, Rule

__all__ = ["OBJECTIVES", "Budget", "Candidate", "choose_plan", "distinct", "pareto_front", "seed_ranks"]

#: What the search may optimise, and which way: -1 minimise, +1 maximise.
OBJECTIVES: dict[str, int] = {
    "crime": -1, "harm": -1, "money": -1, "officer_hours": -1, "response_time": -1, "trust": 1,
}  # fmt: skip


@dataclass
class Budget:
    """``budget.*``: what a plan may spend per week."""

    officer_hours_per_week: float = float("nan")
    money: float = float("nan")
    """Money per week, in the policies' currency units."""
    amortise_years: float = 5.0
    """One-off costs (CPTED installations) count as spread over this many years."""

    def validate(self) -> Budget:
        """Raise ConfigError naming the first missing or bad ``budget.*`` value."""
        Rule(NON_NEGATIVE.ok, "a number >= 0 (it is required)").check(
            self, "budget.", "officer_hours_per_week", "money"
        )
        Rule(POSITIVE.ok, "a number of years > 0").check(self, "budget.", "amortise_years")
        return self


@dataclass
class Candidate:
    """One mix tried: its strategies and settings, and what its runs showed, per seed and on average."""

    number: int
    policies: list[str]
    params: dict[str, dict[str, float]]
    crimes: list[float]
    """Crimes per run, one per seed (same seeds as the reference)."""
    hours_week: list[float]
    money_week: list[float]
    response_min: list[float] = field(default_factory=list)
    trust_end: list[float] = field(default_factory=list)
    by_type: dict[str, list[float]] = field(default_factory=dict)
    """Crimes per run of each offence type, one per seed."""

    @property
    def label(self) -> str:
        """Return the mix in words, e.g. ``targeted_patrol(top_k=20, dwell_min=12) + cpted(top_k=40)``."""
        if not self.policies:
            return "no new strategy (random patrol only)"
        parts = []
        for name in self.policies:
            settings = ", ".join(f"{k}={_short(v)}" for k, v in self.params.get(name, {}).items())
            parts.append(f"{name}({settings})" if settings else name)
        return " + ".join(parts)

    def within(self, budget: Budget) -> bool:
        """Return whether the mean officer-hours and money per week are within ``budget``."""
        return (
            float(np.mean(self.hours_week)) <= budget.officer_hours_per_week
            and float(np.mean(self.money_week)) <= budget.money
        )

    def harm(self, weights: Mapping[str, float]) -> list[float]:
        """Return the harm per run (sum over types of crimes times days), one per seed."""
        total = np.zeros(len(self.crimes))
        for ctype, days in weights.items():
            total += days * np.asarray(self.by_type.get(ctype, np.zeros(len(self.crimes))), dtype=float)
        return total.tolist()

    def values(self, objective: str, weights: Mapping[str, float] | None = None) -> list[float]:
        """Return one of :data:`OBJECTIVES` per seed (``harm`` needs ``weights``)."""
        if objective == "harm":
            if weights is None:
                raise ValueError("harm needs the harm weights")
            return self.harm(weights)
        return {
            "crime": self.crimes, "money": self.money_week, "officer_hours": self.hours_week,
            "response_time": self.response_min, "trust": self.trust_end,
        }[objective]  # fmt: skip


def _short(v: float) -> str:
    return f"{v:g}" if isinstance(v, int) or float(v).is_integer() else f"{v:.3g}"


def pareto_front(
    candidates: Sequence[Candidate],
    objectives: Sequence[str] = ("crime", "money", "officer_hours"),
    weights: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """Return the candidates no other beats on the means of all ``objectives`` at once (best first on the first)."""
    points = [[-OBJECTIVES[o] * float(np.mean(c.values(o, weights))) for o in objectives] for c in candidates]
    front = []
    for i, p in enumerate(points):
        dominated = any(
            all(a <= b for a, b in zip(q, p, strict=True)) and any(a < b for a, b in zip(q, p, strict=True))
            for j, q in enumerate(points)
            if j != i
        )
        if not dominated:
            front.append(candidates[i])
    first = objectives[0]
    return distinct(
        sorted(front, key=lambda c: -OBJECTIVES[first] * float(np.mean(c.values(first, weights))))
    )


def distinct(candidates: list[Candidate]) -> list[Candidate]:
    """Return the candidates with the first of each mix only (the sampler may propose a mix twice)."""
    seen: set[str] = set()
    out = []
    for c in candidates:
        if c.label not in seen:
            seen.add(c.label)
            out.append(c)
    return out


def choose_plan(
    candidates: Sequence[Candidate],
    budget: Budget,
    objective: str = "crime",
    weights: Mapping[str, float] | None = None,
) -> tuple[Candidate, list[Candidate]]:
    """Return the plan within budget with the lowest mean ``objective`` (cheaper first on ties), and the runners-up.

    Raises ValueError when no candidate is within budget (the reference, which spends nothing, always is).
    """
    inside = [c for c in candidates if c.within(budget)]
    if not inside:
        raise ValueError("no candidate is within the budget")
    ranked = sorted(inside, key=lambda c: (float(np.mean(c.values(objective, weights))),
                                           float(np.mean(c.money_week)), float(np.mean(c.hours_week))))  # fmt: skip
    ranked = distinct(ranked)
    return ranked[0], ranked[1:4]


def seed_ranks(
    chosen: Candidate,
    candidates: Sequence[Candidate],
    budget: Budget,
    objective: str = "crime",
    weights: Mapping[str, float] | None = None,
) -> list[int]:
    """Return the chosen plan's rank (1 = lowest ``objective``) among the candidates within budget, seed by seed."""
    inside = distinct([c for c in candidates if c.within(budget)])
    table = np.array([c.values(objective, weights) for c in inside])  # candidates x seeds
    mine = np.asarray(chosen.values(objective, weights))
    return [int((table[:, s] < mine[s]).sum()) + 1 for s in range(table.shape[1])]
