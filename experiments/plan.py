"""``precinct plan``: search the strategies and their main settings for the mix that cuts crime (or harm) most within a budget.

::

    precinct plan budget.officer_hours_per_week=H budget.money=M [plan.trials=N plan.seeds=S plan.days=D]
                  [plan.objective=crime|harm] [plan.objectives=[crime,money,...]] [harm.<type>=DAYS]
                  [any run override: city=..., city.calibration=..., population.*, police.*, hydra/launcher=...]

Each candidate mix (which of targeted patrol, CPTED and community meetings, and their main settings:
:data:`SPACE`) is simulated on the same seeds as one reference run set (random patrol only), so every
comparison is paired. Its cost is what its runs booked, per week: the officer-hours the strategies
count as their own (hot-spot dwell, coordination, team time) plus community-meeting hours, and
money as running cost plus one-off cost spread over ``budget.amortise_years``. A candidate is within
budget when its mean over seeds is within both limits.

``plan.objective`` is what the plan should cut: ``crime`` (all offences counted alike) or ``harm``,
the Cambridge Crime Harm Index (Sherman, Neyroud & Neyroud 2016): each offence weighted by the days
of custody its sentencing guideline starts at (``conf/plan/default.yaml``, sources there and in
docs/experiments.md; ``harm.<type>=DAYS`` changes one). ``plan.objectives`` are what Optuna's TPE
sampler searches on, jointly (default: the objective and money per week): any of :data:`OBJECTIVES`
(crime, harm, money, officer_hours, response_time minimised; trust maximised), with the budget as
constraints. Each candidate runs as a sweep over the seeds with :func:`experiments.launch.run_hydra`,
so on whichever launcher the overrides name (joblib by default, Ray, SLURM). The chosen plan is the
candidate within budget with the largest mean fall in the objective; its effect on crime and on harm
carries a paired 95% CI; its robustness is its rank among the candidates within budget on each seed
separately; the Pareto front is over the objectives searched. Results:
``outputs/plans/NAME/plan.json`` (with the plan's sentence) and ``trials.csv``.

The choice among the mixes tried is :mod:`experiments.plan_choice`; the plan in words,
:mod:`experiments.plan_words`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from experiments.harm import HARM_FILE, check_harm_weights, load_harm_weights
from experiments.plan_choice import (
    OBJECTIVES,
    Budget,
    Candidate,
    choose_plan,
    distinct,
    pareto_front,
    seed_ranks,
)
from experiments.plan_words import describe, plan_sentence
from sim.errors import ConfigError
from sim.offences import CRIME_TYPES
from sim.stats import paired_difference_ci

__all__ = [
    "HARM_FILE", "OBJECTIVES", "SPACE", "Budget", "Candidate", "PlanSettings", "choose_plan",
    "describe", "load_harm_weights", "main", "pareto_front", "plan", "plan_sentence", "seed_ranks",
]  # fmt: skip

# strategy -> setting -> (low, high, "int" | "float"): the main settings searched
SPACE: dict[str, dict[str, tuple[float, float, str]]] = {
    "targeted_patrol": {"top_k": (5, 80, "int"), "dwell_min": (5.0, 30.0, "float")},
    "cpted": {"top_k": (5, 150, "int")},
    "community_meetings": {"interval_days": (7.0, 28.0, "float"), "duration_min": (45.0, 120.0, "float")},
}
WEEK_DAYS = 7.0


@dataclass
class PlanSettings:
    """``plan.*``: what the search optimises and how hard it works (and ``harm.*``, the harm weights)."""

    trials: int = 12
    seeds: int = 3
    days: float = 7.0
    sampler_seed: int = 0
    fresh: bool = False
    objective: str = "crime"
    """What the chosen plan cuts most: ``crime`` or ``harm``."""
    objectives: list[str] = field(default_factory=list)
    """What the sampler optimises jointly (names of :data:`OBJECTIVES`); empty: the objective and money."""
    harm: dict[str, float] = field(default_factory=load_harm_weights)
    """Days per offence type (Cambridge Crime Harm Index; ``conf/plan/default.yaml``)."""

    def validate(self) -> PlanSettings:
        """Raise ConfigError naming the first bad ``plan.*`` or ``harm.*`` value; fill the default objectives."""
        for name in ("trials", "seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (2 if name == "seeds" else 1):
                raise ConfigError(f"plan.{name}", value, "a whole number >= 2" if name == "seeds" else ">= 1")
        if not self.days >= 1:
            raise ConfigError("plan.days", self.days, "at least 1 day")
        if self.objective not in ("crime", "harm"):
            raise ConfigError("plan.objective", self.objective, "crime or harm")
        if not self.objectives:
            self.objectives = [self.objective, "money"]
        for name in self.objectives:
            if name not in OBJECTIVES:
                raise ConfigError(
                    "plan.objectives", self.objectives, f"a list of names from {', '.join(OBJECTIVES)}"
                )
        if len(set(self.objectives)) != len(self.objectives):
            raise ConfigError("plan.objectives", self.objectives, "each name once")
        self.harm = check_harm_weights(self.harm)
        return self


# --------------------------------------------------------------------------- running candidates
def _measures(sweep_dir: Path, policies: list[str], budget: Budget) -> dict[str, Any]:
    """Per seed (in seed order): crimes (all and by type), officer-hours and money per week, response time, trust."""
    from sim.policies.registry import policy_specs
    from sim.results import load_sweep

    sweep = load_sweep(sweep_dir)
    wide = sweep.metrics.pivot_table(index="run_dir", columns="metric", values="value", aggfunc="first")
    wide = wide.reindex(sweep.runs.sort_values("seed")["run_dir"])
    own = [r.metric for s in policy_specs() if s.name in policies for r in s.report_rows
           if r.unit.startswith("officer-hours")]  # fmt: skip

    def col(metric: str) -> np.ndarray:
        return np.nan_to_num(wide[metric].to_numpy(dtype=float)) if metric in wide else np.zeros(len(wide))

    per_week = WEEK_DAYS / col("days")
    hours = sum((col(m) for m in own), np.zeros(len(wide)))
    if "community_meetings" in policies:
        hours = hours + col("officer_hours_meeting")
    weeks_amortised = budget.amortise_years * 365.25 / WEEK_DAYS
    running = col("cost_total") - col("cost_capital")  # the ledger's total is one-off plus running cost
    money = running * per_week + col("cost_capital") / weeks_amortised
    return {
        "crimes": col("crimes_total").tolist(), "hours_week": (hours * per_week).tolist(),
        "money_week": money.tolist(), "response_min": col("response_time_mean_min").tolist(),
        "trust_end": col("mean_trust_end").tolist(),
        "by_type": {t: col(f"crimes_{t}").tolist() for t in CRIME_TYPES},
    }  # fmt: skip


MEASURES = ("crimes", "hours_week", "money_week", "response_min", "trust_end", "by_type")


@dataclass
class _Runner:
    base: list[str]
    out: Path
    settings: PlanSettings
    budget: Budget
    sims_run: int = 0

    def run(self, tag: str, policies: list[str], params: dict[str, dict[str, float]]) -> dict[str, Any]:
        from experiments.calibration_runs import _quiet
        from experiments.launch import run_hydra

        sweep_dir = self.out / "runs" / tag
        overrides = [
            *self.base,
            f"policy=[{','.join(policies)}]" if policies else "policy=baseline",
            *(f"policy.{name}.{k}={v}" for name, values in params.items() for k, v in values.items()),
            f"seed=range(0,{self.settings.seeds})",
            f"sim.days={self.settings.days:g}",
            "name=plan",
            f"hydra.sweep.dir={sweep_dir}",
            "hydra/hydra_logging=disabled",
            "hydra/job_logging=disabled",
            "~hydra.callbacks.progress",
        ]
        done = len(list(sweep_dir.glob("*/_COMPLETE"))) if sweep_dir.exists() else 0
        if done < self.settings.seeds:
            with _quiet(True):
                run_hydra(overrides, multirun=True)
            self.sims_run += self.settings.seeds - done
        return _measures(sweep_dir, policies, self.budget)


def _mix_tag(policies: list[str], params: dict[str, dict[str, float]]) -> str:
    """Return a folder name for a mix: the same mix (from any trial or search) reuses its runs."""
    key = json.dumps([policies, params], sort_keys=True)
    return "mix-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def _suggest(trial: Any, n_segments: int) -> tuple[list[str], dict[str, dict[str, float]]]:
    policies, params = [], {}
    for name, space in SPACE.items():
        if not trial.suggest_categorical(f"use_{name}", [False, True]):
            continue
        policies.append(name)
        values: dict[str, float] = {}
        for key, (lo, hi, kind) in space.items():
            if kind == "int":
                top = min(int(hi), n_segments) if key == "top_k" else int(hi)
                values[key] = trial.suggest_int(f"{name}.{key}", int(lo), max(int(lo), top))
            else:
                values[key] = round(trial.suggest_float(f"{name}.{key}", lo, hi), 2)
        params[name] = values
    return policies, params


def _told(cand: Candidate, reference: Candidate, objective: str, weights: Mapping[str, float]) -> float:
    """Return the value Optuna is told: crime and harm as % change from the reference, the rest as means."""
    mean = float(np.mean(cand.values(objective, weights)))
    if objective in ("crime", "harm"):
        return 100.0 * (mean / max(float(np.mean(reference.values(objective, weights))), 1e-9) - 1.0)
    return mean


def plan(
    base: list[str], budget: Budget, settings: PlanSettings, out: Path, n_segments: int
) -> dict[str, Any]:
    """Search (see the module docstring) and write ``plan.json`` and ``trials.csv`` under ``out``."""
    import optuna
    import pandas as pd
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    settings.validate()
    t0 = time.monotonic()
    # absolute: joblib's reused worker processes keep the working folder they started in
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    runner = _Runner(base, out, settings, budget)
    weights = settings.harm
    say(f"plan: reference runs (random patrol only) on seeds 0-{settings.seeds - 1}, {settings.days:g} days")
    reference = Candidate(-1, [], {}, **runner.run("reference", [], {}))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        # the objectives name the study: a search on other objectives starts its own (the runs are reused)
        study_name="plan-" + "-".join(settings.objectives), load_if_exists=True,
        directions=["maximize" if OBJECTIVES[o] > 0 else "minimize" for o in settings.objectives],
        storage=JournalStorage(JournalFileBackend(str(out / "optuna.journal"))),
        sampler=optuna.samplers.TPESampler(seed=settings.sampler_seed, n_startup_trials=min(6, settings.trials)),
    )  # fmt: skip
    candidates = [reference]
    for t in study.get_trials(deepcopy=False):  # a resumed search: its finished candidates count
        if "candidate" in t.user_attrs:
            candidates.append(Candidate(**t.user_attrs["candidate"]))
            if not candidates[-1].by_type and candidates[-1].policies:
                # saved by a version that did not keep crimes per type: its harm would read as zero
                raise ConfigError("plan.fresh", settings.fresh, f"true: {out} was searched before crimes were kept "
                                  "per offence type, so its mixes have no harm; start again")  # fmt: skip
    while len(candidates) - 1 < settings.trials:
        trial = study.ask()
        policies, params = _suggest(trial, n_segments)
        number = len(candidates) - 1
        say(
            f"plan: trial {number + 1}/{settings.trials}: {Candidate(number, policies, params, [], [], []).label}"
        )
        # no strategy at all is the reference itself: same runs, nothing to simulate again
        measures = (
            asdict(reference) if not policies else runner.run(_mix_tag(policies, params), policies, params)
        )
        cand = Candidate(number, policies, params, **{k: measures[k] for k in MEASURES})
        # feasible when both are <= 0: the budget is a constraint the sampler learns, not a penalty
        trial.set_constraint("officer_hours", float(np.mean(cand.hours_week)) - budget.officer_hours_per_week)
        trial.set_constraint("money", float(np.mean(cand.money_week)) - budget.money)
        trial.set_user_attr("candidate", asdict(cand))
        study.tell(trial, [_told(cand, reference, o, weights) for o in settings.objectives])
        candidates.append(cand)
    chosen, runners_up = choose_plan(candidates, budget, settings.objective, weights)
    result = _result(chosen, runners_up, candidates, reference, budget, settings)
    result["sims_run"] = runner.sims_run
    result["minutes"] = round((time.monotonic() - t0) / 60.0, 2)
    result["sentence"] = plan_sentence(result)
    (out / "plan.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    pd.DataFrame([_row(c, reference, budget, weights) for c in candidates]).to_csv(
        out / "trials.csv", index=False
    )
    return result


def _effect(treatment: list[float], control: list[float], prefix: str, level: str) -> dict[str, float]:
    d = paired_difference_ci(treatment, control)
    return {f"{prefix}{level}": d.mean_treatment, f"{prefix}change_pct": d.pct_change,
            f"{prefix}change_pct_low": d.pct_low, f"{prefix}change_pct_high": d.pct_high,
            f"{prefix}diff": d.mean_diff, f"{prefix}diff_low": d.diff_low, f"{prefix}diff_high": d.diff_high}  # fmt: skip


def _row(c: Candidate, reference: Candidate, budget: Budget, weights: Mapping[str, float]) -> dict[str, Any]:
    """One mix's line: its cost, and its effect on crime (``change_pct``...) and on harm (``harm_change_pct``...)."""
    return {
        "trial": c.number, "mix": c.label, "within_budget": c.within(budget),
        "officer_hours_per_week": float(np.mean(c.hours_week)), "money_per_week": float(np.mean(c.money_week)),
        **_effect(c.crimes, reference.crimes, "", "crimes"),
        **_effect(c.harm(weights), reference.harm(weights), "harm_", "days"),
        "response_time_mean_min": float(np.mean(c.response_min)) if c.response_min else float("nan"),
        "trust_end": float(np.mean(c.trust_end)) if c.trust_end else float("nan"),
    }  # fmt: skip


def _result(chosen: Candidate, runners_up: list[Candidate], candidates: list[Candidate], reference: Candidate,
            budget: Budget, settings: PlanSettings) -> dict[str, Any]:  # fmt: skip
    w = settings.harm
    ranks = seed_ranks(chosen, candidates, budget, settings.objective, w)
    n_inside = len(distinct([c for c in candidates if c.within(budget)]))
    return {
        "budget": asdict(budget), "settings": asdict(settings),
        "chosen": _row(chosen, reference, budget, w),
        "chosen_policies": chosen.policies, "chosen_params": chosen.params,
        "runners_up": [_row(c, reference, budget, w) for c in runners_up],
        "pareto_objectives": list(settings.objectives),
        "pareto_front": [_row(c, reference, budget, w) for c in pareto_front(candidates, settings.objectives, w)],
        "robustness": {"rank_per_seed": ranks, "candidates_within_budget": n_inside,
                       "best_on_seeds": sum(r == 1 for r in ranks)},
        "candidates": len(candidates),
    }  # fmt: skip


def say(msg: str) -> None:
    """Print a progress line (stderr)."""
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- command line
def _parse_list(key: str, value: str) -> list[str]:
    inner = value.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    names = [v.strip() for v in inner.split(",") if v.strip()]
    if not names:
        raise ConfigError(key, value, f"a list such as [crime,money] of {', '.join(OBJECTIVES)}")
    return names


def _split(argv: Sequence[str]) -> tuple[Budget, PlanSettings, list[str], str]:
    budget, settings, rest, name = Budget(), PlanSettings(), [], "plan"
    known = {"budget": Budget, "plan": PlanSettings}
    for arg in argv:
        key, _, value = arg.partition("=")
        section, _, field_name = key.partition(".")
        if section == "harm":  # the type and the value's range are checked with the file's, in validate
            try:
                settings.harm[field_name] = float(value)
            except ValueError:
                raise ConfigError(key, value, "days of custody, a number >= 0") from None
        elif section in known:
            target = budget if section == "budget" else settings
            fields = [f for f in asdict(target) if f != "harm"]
            if field_name not in fields:
                raise ConfigError(key, value, f"one of {', '.join(f'{section}.{f}' for f in fields)}")
            current = getattr(target, field_name)
            try:
                parsed: Any = (
                    (value.lower() in ("1", "true", "yes")) if isinstance(current, bool)
                    else _parse_list(key, value) if isinstance(current, list)
                    else value if isinstance(current, str)
                    else int(value) if isinstance(current, int) else float(value)
                )  # fmt: skip
            except ValueError:
                raise ConfigError(key, value, "a number") from None
            setattr(target, field_name, parsed)
        elif key == "name":
            name = value
        else:
            rest.append(arg)
    return budget.validate(), settings.validate(), rest, name


def _n_segments(overrides: list[str]) -> int:
    from hydra import compose
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from experiments.configuration import build_model_config, conf_context, open_mapping_overrides
    from sim.network import load_network

    with conf_context():
        cfg = compose(
            "config", overrides=open_mapping_overrides([o for o in overrides if not o.startswith("hydra")])
        )
    GlobalHydra.instance().clear()
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    data.pop("calibrate", None)
    model, _ = build_model_config(data, overrides=overrides)
    city = model.city
    return load_network(city.path, network_type=city.network_type, cache_dir=city.cache_dir).n_segments


def main(argv: Sequence[str]) -> int:
    """``precinct plan budget.officer_hours_per_week=H budget.money=M [...]``: print the plan."""
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    budget, settings, base, name = _split(argv)
    out = Path("outputs") / "plans" / name
    if settings.fresh and out.exists():
        shutil.rmtree(out)
    result = plan(base, budget, settings, out, _n_segments(base))
    print(describe(result))
    print(f"plan: {(out / 'plan.json').resolve()}")
    return 0
