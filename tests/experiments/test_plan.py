"""`precinct plan`: the budget holds, the plan is the best mix within it, and the Pareto front is right."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.plan import Budget, Candidate, PlanSettings, _split, choose_plan, pareto_front, seed_ranks
from sim.errors import ConfigError


def _cand(n: int, crimes: list[float], hours: float, money: float) -> Candidate:
    return Candidate(n, [f"s{n}"], {}, crimes, [hours] * len(crimes), [money] * len(crimes))


def test_the_plan_is_the_best_mix_within_budget() -> None:
    reference = Candidate(-1, [], {}, [100.0, 90.0, 110.0], [0.0] * 3, [0.0] * 3)
    cheap = _cand(0, [95.0, 88.0, 104.0], 20.0, 100.0)
    good = _cand(1, [80.0, 85.0, 90.0], 60.0, 900.0)
    best_but_dear = _cand(2, [60.0, 70.0, 75.0], 60.0, 5000.0)
    too_many_hours = _cand(3, [70.0, 72.0, 80.0], 500.0, 10.0)
    budget = Budget(officer_hours_per_week=100.0, money=1000.0)
    everyone = [reference, cheap, good, best_but_dear, too_many_hours]
    chosen, runners_up = choose_plan(everyone, budget)
    assert chosen is good
    assert runners_up == [cheap, reference]
    assert all(c.within(budget) for c in [chosen, *runners_up])
    assert not best_but_dear.within(budget) and not too_many_hours.within(budget)
    # the reference spends nothing, so some plan always fits
    assert choose_plan(everyone, Budget(0.0, 0.0))[0] is reference
    # ranks per seed among the mixes within budget: good is best on every seed
    assert seed_ranks(good, everyone, budget) == [1, 1, 1]
    assert seed_ranks(cheap, everyone, budget) == [2, 2, 2]


def test_pareto_front_keeps_only_undominated_mixes() -> None:
    a = _cand(0, [10.0], 5.0, 5.0)
    b = _cand(1, [8.0], 5.0, 9.0)  # fewer crimes, dearer: on the front
    c = _cand(2, [10.0], 6.0, 5.0)  # same crime and money as a, more hours: dominated
    d = _cand(3, [12.0], 1.0, 1.0)  # cheapest: on the front
    assert pareto_front([a, b, c, d]) == [b, a, d]
    # the sampler may propose the same mix twice: it is listed once
    again = Candidate(9, a.policies, a.params, a.crimes, a.hours_week, a.money_week)
    assert pareto_front([a, again, d]) == [a, d]
    assert choose_plan([a, again, d], Budget(10.0, 10.0)) == (a, [d])


def test_budget_and_settings_are_read_and_checked() -> None:
    budget, settings, rest, name = _split(["budget.officer_hours_per_week=40", "budget.money=2500",
                                           "plan.trials=7", "city=west_oakland", "name=mine"])  # fmt: skip
    assert (budget.officer_hours_per_week, budget.money, settings.trials) == (40.0, 2500.0, 7)
    assert rest == ["city=west_oakland"] and name == "mine"
    with pytest.raises(ConfigError, match=r"budget\.money"):
        _split(["budget.officer_hours_per_week=40"])
    with pytest.raises(ConfigError, match=r"budget\.officer_hours"):
        _split(["budget.officer_hours=40", "budget.money=1"])
    with pytest.raises(ConfigError, match=r"plan\.seeds"):
        PlanSettings(seeds=1).validate()
    assert np.isnan(Budget().money)


@pytest.mark.slow
def test_plan_on_a_small_city_keeps_to_its_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from experiments.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["plan", "budget.officer_hours_per_week=5", "budget.money=300", "plan.trials=3", "plan.seeds=2",
                 "plan.days=1", "city=west_oakland", "name=small"]) == 0  # fmt: skip
    result = json.loads((tmp_path / "outputs" / "plans" / "small" / "plan.json").read_text())
    chosen = result["chosen"]
    assert chosen["within_budget"]
    assert chosen["officer_hours_per_week"] <= 5 and chosen["money_per_week"] <= 300
    assert all(r["officer_hours_per_week"] <= 5 and r["money_per_week"] <= 300 for r in result["runners_up"])
    assert result["candidates"] == 4 and len(result["robustness"]["rank_per_seed"]) == 2
