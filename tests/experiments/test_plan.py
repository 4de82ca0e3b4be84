"""`precinct plan`: the budget holds, the plan is the best mix within it, and the Pareto front is right."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.plan import (
    HARM_FILE,
    OBJECTIVES,
    Budget,
    Candidate,
    PlanSettings,
    _result,
    _split,
    choose_plan,
    describe,
    load_harm_weights,
    pareto_front,
    plan_sentence,
    seed_ranks,
)
from sim.errors import ConfigError
from sim.offences import CRIME_TYPES
from sim.stats import paired_difference_ci


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
    with pytest.raises(ConfigError, match=r"budget\.money.*a number >= 0"):
        Budget(10.0, True).validate()  # type: ignore[arg-type]  # a YAML `true` is not an amount
    with pytest.raises(ConfigError, match=r"budget\.amortise_years"):
        Budget(10.0, 10.0, amortise_years=0).validate()
    assert Budget(0, 0).validate().money == 0


def _typed(n: int, robberies: list[float], thefts: list[float], money: float = 0.0) -> Candidate:
    """A mix whose crimes are robberies (365 days each) and thefts from the person (2 days each)."""
    by_type = {t: [0.0] * len(robberies) for t in CRIME_TYPES}
    by_type["robbery"], by_type["theft_from_person"] = robberies, thefts
    crimes = [r + t for r, t in zip(robberies, thefts, strict=True)]
    return Candidate(n, [f"s{n}"], {}, crimes, [1.0] * len(crimes), [money] * len(crimes),
                     [10.0] * len(crimes), [0.5] * len(crimes), by_type)  # fmt: skip


def test_harm_weights_are_the_stated_cchi_days_for_every_offence_type() -> None:
    weights = load_harm_weights()
    assert list(weights) == list(CRIME_TYPES)
    assert weights["robbery"] == 365 and weights["theft_from_person"] == 2 and weights["shoplifting"] == 1
    text = HARM_FILE.read_text()
    assert "Sherman, Neyroud & Neyroud 2016" in text and "mapped to" in text  # the source and the mappings
    assert PlanSettings().harm == weights


def test_bad_harm_weights_name_the_file_and_the_type(tmp_path: Path) -> None:
    missing = tmp_path / "harm.yaml"
    missing.write_text("harm:\n  robbery: 365\n")
    with pytest.raises(ConfigError, match=r"harm\.yaml: harm\.burglary"):
        load_harm_weights(missing)
    typo = tmp_path / "typo.yaml"
    typo.write_text("harm:\n  robery: 365\n")
    with pytest.raises(ConfigError, match=r"harm\.robery.*one of robbery"):
        load_harm_weights(typo)
    with pytest.raises(ConfigError, match=r"harm\.violence"):
        _split(["budget.officer_hours_per_week=1", "budget.money=1", "harm.violence=-3"])
    with pytest.raises(ConfigError, match=r"harm\.murder"):
        _split(["budget.officer_hours_per_week=1", "budget.money=1", "harm.murder=5475"])
    _, settings, _, _ = _split(["budget.officer_hours_per_week=1", "budget.money=1", "harm.violence=10"])
    assert settings.harm["violence"] == 10 and settings.harm["robbery"] == 365


def test_the_harm_objective_prefers_fewer_robberies_to_fewer_crimes() -> None:
    reference = _typed(-1, [10.0, 12.0, 11.0], [50.0, 55.0, 52.0])
    fewer_thefts = _typed(0, [10.0, 12.0, 11.0], [30.0, 33.0, 31.0])  # 20 fewer crimes, as harmful
    fewer_robberies = _typed(1, [6.0, 7.0, 7.0], [56.0, 61.0, 57.0])  # 4 fewer robberies, more crimes
    budget = Budget(10.0, 10.0)
    everyone = [reference, fewer_thefts, fewer_robberies]
    weights = load_harm_weights()
    assert choose_plan(everyone, budget)[0] is fewer_thefts
    assert choose_plan(everyone, budget, "harm", weights)[0] is fewer_robberies
    assert seed_ranks(fewer_robberies, everyone, budget, "harm", weights) == [1, 1, 1]
    settings = PlanSettings(objective="harm", seeds=3).validate()
    assert settings.objectives == ["harm", "money"]
    result = _result(fewer_robberies, [fewer_thefts, reference], everyone, reference, budget, settings)
    result.update(sims_run=0, minutes=0.0)
    d = paired_difference_ci(fewer_robberies.harm(weights), reference.harm(weights))
    assert d.pct_change < 0
    sentence = plan_sentence(result)
    assert sentence == (
        f"With 10 officer-hours and 10 per week, this mix is expected to cut harm (Cambridge Crime Harm Index) by "
        f"{-d.pct_change:.1f}% (95% CI {-d.pct_high:.1f}% to {-d.pct_low:.1f}%): s1."
    )
    assert result["chosen"]["harm_change_pct"] == pytest.approx(d.pct_change)
    assert result["chosen"]["change_pct"] > 0  # more crimes, less harm: both are reported
    text = describe(result)
    assert text.splitlines()[0] == sentence and "runners-up within budget, and what each costs:" in text
    assert "  s0: cut harm" in text and "officer-hours and 0 per week" in text


def test_when_no_mix_beats_random_patrol_within_budget_the_sentence_says_keep_it() -> None:
    reference = _typed(-1, [10.0, 12.0, 11.0], [50.0, 55.0, 52.0])
    dear = _typed(0, [5.0, 6.0, 5.0], [40.0, 41.0, 40.0], money=500.0)
    settings = PlanSettings(objective="harm", seeds=3).validate()
    budget = Budget(10.0, 100.0)
    chosen, runners_up = choose_plan([reference, dear], budget, "harm", settings.harm)
    assert chosen is reference and runners_up == []
    result = _result(chosen, runners_up, [reference, dear], reference, budget, settings)
    result.update(sims_run=0, minutes=0.0, chosen_policies=[])
    assert plan_sentence(result) == (
        "With 10 officer-hours and 100 per week, no mix tried is expected to cut harm more than random patrol "
        "alone: keep random patrol (no new strategy)."
    )
    assert "-0.0" not in describe(result)


def test_objectives_are_read_checked_and_make_the_pareto_front() -> None:
    _, settings, _, _ = _split(["budget.officer_hours_per_week=1", "budget.money=1",
                                "plan.objectives=[crime,money,trust]"])  # fmt: skip
    assert settings.objectives == ["crime", "money", "trust"] and settings.objective == "crime"
    with pytest.raises(ConfigError, match=r"plan\.objectives.*response_time"):
        _split(["budget.officer_hours_per_week=1", "budget.money=1", "plan.objectives=[crime,cost]"])
    with pytest.raises(ConfigError, match=r"plan\.objective\b"):
        _split(["budget.officer_hours_per_week=1", "budget.money=1", "plan.objective=money"])
    assert OBJECTIVES["trust"] == 1 and OBJECTIVES["response_time"] == -1
    low_trust = Candidate(0, ["a"], {}, [10.0], [1.0], [5.0], [9.0], [0.40])
    high_trust = Candidate(1, ["b"], {}, [10.0], [1.0], [5.0], [9.0], [0.45])  # same crime, more trust
    slow = Candidate(2, ["c"], {}, [8.0], [1.0], [5.0], [20.0], [0.40])
    # trust is maximised: the mix with less trust and nothing else better is dominated
    assert pareto_front([low_trust, high_trust, slow], ["crime", "trust"]) == [slow, high_trust]
    # on crime and response time, slow answers slower but has fewer crimes: both fronts stay
    assert pareto_front([low_trust, slow], ["crime", "response_time"]) == [slow, low_trust]


@pytest.mark.slow
def test_plan_on_a_small_city_keeps_to_its_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from experiments.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["plan", "budget.officer_hours_per_week=5", "budget.money=300", "plan.trials=3", "plan.seeds=2",
                 "plan.days=1", "plan.objective=harm", "plan.objectives=[harm,money,trust]", "city=west_oakland",
                 "name=small"]) == 0  # fmt: skip
    result = json.loads((tmp_path / "outputs" / "plans" / "small" / "plan.json").read_text())
    chosen = result["chosen"]
    assert chosen["within_budget"]
    assert chosen["officer_hours_per_week"] <= 5 and chosen["money_per_week"] <= 300
    assert all(r["officer_hours_per_week"] <= 5 and r["money_per_week"] <= 300 for r in result["runners_up"])
    assert result["candidates"] == 4 and len(result["robustness"]["rank_per_seed"]) == 2
    assert result["pareto_objectives"] == ["harm", "money", "trust"]
    if result["chosen_policies"]:
        assert result["sentence"].startswith(
            "With 5 officer-hours and 300 per week, this mix is expected to "
        )
        assert "harm (Cambridge Crime Harm Index) by" in result["sentence"]
    else:  # within so small a budget random patrol may stay best
        assert result["sentence"].startswith(
            "With 5 officer-hours and 300 per week, no mix tried is expected to cut harm"
        )
    assert "harm_change_pct_low" in chosen and result["settings"]["harm"]["robbery"] == 365


@pytest.mark.slow
def test_plan_runs_its_mixes_on_the_ray_launcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip(
        "ray", reason="the ray extra is not installed (pip install -e '.[ray]'; make test-slow does)"
    )
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="hydra-ray-launcher is not installed")
    from experiments.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["plan", "budget.officer_hours_per_week=5", "budget.money=300", "plan.trials=1", "plan.seeds=2",
                 "plan.days=1", "city=west_oakland", "hydra/launcher=ray", "hydra.launcher.ray.init.num_cpus=2",
                 "name=on_ray"]) == 0  # fmt: skip
    out = tmp_path / "outputs" / "plans" / "on_ray"
    sweeps = sorted((out / "runs").glob("*/multirun.yaml"))
    assert sweeps, "no sweep ran"
    for multirun in sweeps:  # each sweep Hydra launched says which launcher ran it
        assert "hydra_ray_launcher.ray_launcher.RayLauncher" in multirun.read_text(), multirun
    assert json.loads((out / "plan.json").read_text())["chosen"]["within_budget"]


@pytest.mark.slow
def test_plan_runs_its_mixes_through_submitit_the_slurm_launchers_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``submitit_local`` is the SLURM launcher's plugin with a local executor: jobs pickled, run and collected.

    No SLURM cluster exists here; this runs every piece of that path except ``sbatch``.
    """
    from experiments.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["plan", "budget.officer_hours_per_week=5", "budget.money=300", "plan.trials=1", "plan.seeds=2",
                 "plan.days=1", "city=west_oakland", "hydra/launcher=submitit_local",
                 "hydra.launcher.timeout_min=20", "name=on_submitit"]) == 0  # fmt: skip
    out = tmp_path / "outputs" / "plans" / "on_submitit"
    sweeps = sorted((out / "runs").glob("*/multirun.yaml"))
    assert sweeps, "no sweep ran"
    for multirun in sweeps:  # each sweep Hydra launched says which launcher ran it
        assert "hydra_submitit_launcher.submitit_launcher.LocalLauncher" in multirun.read_text(), multirun
        assert list(multirun.parent.glob(".submitit/*/*_result.pkl")) or list(
            multirun.parent.rglob("*_result.pkl")
        ), f"submitit kept no job results under {multirun.parent}"
    assert json.loads((out / "plan.json").read_text())["chosen"]["within_budget"]
