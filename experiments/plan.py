"""``precinct plan``: search the strategies and their main settings for the mix that cuts crime most within a budget.

::

    precinct plan budget.officer_hours_per_week=H budget.money=M [plan.trials=N plan.seeds=S plan.days=D]
                  [any run override: city=..., city.calibration=..., population.*, police.*, hydra/launcher=...]

Each candidate mix (which of targeted patrol, CPTED and community meetings, and their main settings:
:data:`SPACE`) is simulated on the same seeds as one reference run set (random patrol only), so every
comparison is paired. Its cost is what its runs booked, per week: the officer-hours the strategies
count as their own (hot-spot dwell, coordination, team time) plus community-meeting hours, and
money as running cost plus one-off cost spread over ``budget.amortise_years``. A candidate is within
budget when its mean over seeds is within both limits. Optuna's TPE sampler (multi-objective: crime
change and money per week, with the budget as constraints) proposes the candidates; each is run
as a sweep over the seeds with :func:`experiments.launch.run_hydra`, so on whichever launcher the
overrides name (joblib by default, Ray, SLURM). The chosen plan is the candidate within budget with
the largest mean fall in crime; its robustness is its rank among the candidates within budget on
each seed separately. Results: ``outputs/plans/NAME/plan.json`` and ``trials.csv``.

Not built: a harm-weighted objective (e.g. the Cambridge Crime Harm Index) and response time or
trust as objectives; they are reported for the chosen plan, not searched on.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ConfigError
from sim.stats import paired_difference_ci

__all__ = ["SPACE", "Budget", "Candidate", "PlanSettings", "choose_plan", "main", "pareto_front", "plan"]

# strategy -> setting -> (low, high, "int" | "float"): the main settings searched
SPACE: dict[str, dict[str, tuple[float, float, str]]] = {
    "targeted_patrol": {"top_k": (5, 80, "int"), "dwell_min": (5.0, 30.0, "float")},
    "cpted": {"top_k": (5, 150, "int")},
    "community_meetings": {"interval_days": (7.0, 28.0, "float"), "duration_min": (45.0, 120.0, "float")},
}
WEEK_DAYS = 7.0


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
        for name in ("officer_hours_per_week", "money"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"budget.{name}", value, "a number >= 0 (it is required)")
        if not self.amortise_years > 0:
            raise ConfigError("budget.amortise_years", self.amortise_years, "a number of years > 0")
        return self


@dataclass
class PlanSettings:
    """``plan.*``: how hard the search works."""

    trials: int = 12
    seeds: int = 3
    days: float = 7.0
    sampler_seed: int = 0
    fresh: bool = False

    def validate(self) -> PlanSettings:
        """Raise ConfigError naming the first bad ``plan.*`` value."""
        for name in ("trials", "seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (2 if name == "seeds" else 1):
                raise ConfigError(f"plan.{name}", value, "a whole number >= 2" if name == "seeds" else ">= 1")
        if not self.days >= 1:
            raise ConfigError("plan.days", self.days, "at least 1 day")
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


def _short(v: float) -> str:
    return f"{v:g}" if isinstance(v, int) or float(v).is_integer() else f"{v:.3g}"


def pareto_front(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Return the candidates no other beats on mean crime, money and officer-hours per week at once."""
    points = [(np.mean(c.crimes), np.mean(c.money_week), np.mean(c.hours_week)) for c in candidates]
    front = []
    for i, p in enumerate(points):
        dominated = any(
            all(q[k] <= p[k] for k in range(3)) and any(q[k] < p[k] for k in range(3))
            for j, q in enumerate(points)
            if j != i
        )
        if not dominated:
            front.append(candidates[i])
    return _distinct(sorted(front, key=lambda c: float(np.mean(c.crimes))))


def _distinct(candidates: list[Candidate]) -> list[Candidate]:
    """Return the candidates with the first of each mix only (the sampler may propose a mix twice)."""
    seen: set[str] = set()
    out = []
    for c in candidates:
        if c.label not in seen:
            seen.add(c.label)
            out.append(c)
    return out


def choose_plan(candidates: Sequence[Candidate], budget: Budget) -> tuple[Candidate, list[Candidate]]:
    """Return the plan within budget with the lowest mean crime (cheaper first on ties), and the runners-up.

    Raises ValueError when no candidate is within budget (the reference, which spends nothing, always is).
    """
    inside = [c for c in candidates if c.within(budget)]
    if not inside:
        raise ValueError("no candidate is within the budget")
    ranked = sorted(inside, key=lambda c: (float(np.mean(c.crimes)), float(np.mean(c.money_week)),
                                           float(np.mean(c.hours_week))))  # fmt: skip
    ranked = _distinct(ranked)
    return ranked[0], ranked[1:4]


def seed_ranks(chosen: Candidate, candidates: Sequence[Candidate], budget: Budget) -> list[int]:
    """Return the chosen plan's rank (1 = fewest crimes) among the candidates within budget, seed by seed."""
    inside = _distinct([c for c in candidates if c.within(budget)])
    crimes = np.array([c.crimes for c in inside])  # candidates x seeds
    mine = np.asarray(chosen.crimes)
    return [int((crimes[:, s] < mine[s]).sum()) + 1 for s in range(crimes.shape[1])]


# --------------------------------------------------------------------------- running candidates
def _measures(sweep_dir: Path, policies: list[str], budget: Budget) -> dict[str, list[float]]:
    """Per seed (in seed order): crimes, officer-hours and money per week, response time and trust."""
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
    }  # fmt: skip


@dataclass
class _Runner:
    base: list[str]
    out: Path
    settings: PlanSettings
    budget: Budget
    sims_run: int = 0

    def run(
        self, tag: str, policies: list[str], params: dict[str, dict[str, float]]
    ) -> dict[str, list[float]]:
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


def plan(
    base: list[str], budget: Budget, settings: PlanSettings, out: Path, n_segments: int
) -> dict[str, Any]:
    """Search (see the module docstring) and write ``plan.json`` and ``trials.csv`` under ``out``."""
    import optuna
    import pandas as pd
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    t0 = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    runner = _Runner(base, out, settings, budget)
    say(f"plan: reference runs (random patrol only) on seeds 0-{settings.seeds - 1}, {settings.days:g} days")
    reference = Candidate(-1, [], {}, **runner.run("reference", [], {}))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="plan", directions=["minimize", "minimize"], load_if_exists=True,
        storage=JournalStorage(JournalFileBackend(str(out / "optuna.journal"))),
        sampler=optuna.samplers.TPESampler(seed=settings.sampler_seed, n_startup_trials=min(6, settings.trials)),
    )  # fmt: skip
    candidates = [reference]
    for t in study.get_trials(deepcopy=False):  # a resumed search: its finished candidates count
        if "candidate" in t.user_attrs:
            candidates.append(Candidate(**t.user_attrs["candidate"]))
    while len(candidates) - 1 < settings.trials:
        trial = study.ask()
        policies, params = _suggest(trial, n_segments)
        number = len(candidates) - 1
        say(
            f"plan: trial {number + 1}/{settings.trials}: {Candidate(number, policies, params, [], [], []).label}"
        )
        # no strategy at all is the reference itself: same runs, nothing to simulate again
        measures = asdict(reference) if not policies else runner.run(f"trial-{number:03d}", policies, params)
        measures = {
            k: measures[k] for k in ("crimes", "hours_week", "money_week", "response_min", "trust_end")
        }
        cand = Candidate(number, policies, params, **measures)
        # feasible when both are <= 0: the budget is a constraint the sampler learns, not a penalty
        trial.set_constraint("officer_hours", float(np.mean(cand.hours_week)) - budget.officer_hours_per_week)
        trial.set_constraint("money", float(np.mean(cand.money_week)) - budget.money)
        trial.set_user_attr("candidate", asdict(cand))
        change = 100.0 * (float(np.mean(cand.crimes)) / max(float(np.mean(reference.crimes)), 1e-9) - 1.0)
        study.tell(trial, [change, float(np.mean(cand.money_week))])
        candidates.append(cand)
    chosen, runners_up = choose_plan(candidates, budget)
    result = _result(chosen, runners_up, candidates, reference, budget, settings)
    result["sims_run"] = runner.sims_run
    result["minutes"] = round((time.monotonic() - t0) / 60.0, 2)
    (out / "plan.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    pd.DataFrame([_row(c, reference, budget) for c in candidates]).to_csv(out / "trials.csv", index=False)
    return result


def _effect(c: Candidate, reference: Candidate) -> dict[str, float]:
    d = paired_difference_ci(c.crimes, reference.crimes)
    return {"crimes": d.mean_treatment, "change_pct": d.pct_change, "change_pct_low": d.pct_low,
            "change_pct_high": d.pct_high, "diff": d.mean_diff, "diff_low": d.diff_low, "diff_high": d.diff_high}  # fmt: skip


def _row(c: Candidate, reference: Candidate, budget: Budget) -> dict[str, Any]:
    return {
        "trial": c.number, "mix": c.label, "within_budget": c.within(budget),
        "officer_hours_per_week": float(np.mean(c.hours_week)), "money_per_week": float(np.mean(c.money_week)),
        **_effect(c, reference),
        "response_time_mean_min": float(np.mean(c.response_min)) if c.response_min else float("nan"),
        "trust_end": float(np.mean(c.trust_end)) if c.trust_end else float("nan"),
    }  # fmt: skip


def _result(chosen: Candidate, runners_up: list[Candidate], candidates: list[Candidate], reference: Candidate,
            budget: Budget, settings: PlanSettings) -> dict[str, Any]:  # fmt: skip
    ranks = seed_ranks(chosen, candidates, budget)
    n_inside = len(_distinct([c for c in candidates if c.within(budget)]))
    return {
        "budget": asdict(budget), "settings": asdict(settings),
        "chosen": _row(chosen, reference, budget),
        "chosen_policies": chosen.policies, "chosen_params": chosen.params,
        "runners_up": [_row(c, reference, budget) for c in runners_up],
        "pareto_front": [_row(c, reference, budget) for c in pareto_front(candidates)],
        "robustness": {"rank_per_seed": ranks, "candidates_within_budget": n_inside,
                       "best_on_seeds": sum(r == 1 for r in ranks)},
        "candidates": len(candidates),
    }  # fmt: skip


def describe(result: dict[str, Any]) -> str:
    """Return the plan in words: the sentence a planner reads first, then the runners-up and the front."""
    b, c, rob = result["budget"], result["chosen"], result["robustness"]
    s = result["settings"]

    def effect(row: dict[str, Any]) -> str:
        return (f"{row['change_pct']:+.1f}% crime (95% CI {row['change_pct_low']:+.1f}% to {row['change_pct_high']:+.1f}%), "
                f"{row['officer_hours_per_week']:.1f} officer-hours and {row['money_per_week']:,.0f} per week")  # fmt: skip

    lines = [
        f"With {b['officer_hours_per_week']:g} officer-hours and {b['money']:,.0f} per week, this mix is expected "
        f"to change crime by {c['change_pct']:+.1f}% (95% CI {c['change_pct_low']:+.1f}% to {c['change_pct_high']:+.1f}%): "
        f"{c['mix']}.",
        *(
            [f"  the interval includes no change: the {s['seeds']} seeds of {s['days']:g} days cannot tell this "
             "mix from random patrol; run more (plan.seeds, plan.days) before acting on it"]
            if not (c["change_pct_high"] < 0 or c["change_pct_low"] > 0)
            else []
        ),
        f"  it uses {c['officer_hours_per_week']:.1f} officer-hours and {c['money_per_week']:,.0f} per week "
        f"(one-off costs spread over {b['amortise_years']:g} years)",
        f"  robustness: fewest crimes of the {rob['candidates_within_budget']} mixes within budget on "
        f"{rob['best_on_seeds']} of {len(rob['rank_per_seed'])} seeds (ranks per seed: "
        f"{', '.join(map(str, rob['rank_per_seed']))})",
        "runners-up within budget:",
        *(f"  {r['mix']}: {effect(r)}" for r in result["runners_up"]),
        "Pareto front (crime, money, officer-hours; within budget or not):",
        *(f"  {'  ' if r['within_budget'] else '! '}{r['mix']}: {effect(r)}" for r in result["pareto_front"]),
        f"{result['candidates']} mixes on {s['seeds']} paired seeds of {s['days']:g} days; "
        f"{result['sims_run']} simulations run by this command in {result['minutes']:.1f} min (a resumed search reuses earlier runs).",
    ]  # fmt: skip
    return "\n".join(lines)


def say(msg: str) -> None:
    """Print a progress line (stderr)."""
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- command line
def _split(argv: Sequence[str]) -> tuple[Budget, PlanSettings, list[str], str]:
    budget, settings, rest, name = Budget(), PlanSettings(), [], "plan"
    known = {"budget": Budget, "plan": PlanSettings}
    for arg in argv:
        key, _, value = arg.partition("=")
        section, _, field_name = key.partition(".")
        if section in known:
            target = budget if section == "budget" else settings
            if field_name not in {f for f in asdict(target)}:
                raise ConfigError(key, value, f"one of {', '.join(f'{section}.{f}' for f in asdict(target))}")
            current = getattr(target, field_name)
            try:
                parsed: Any = (value.lower() in ("1", "true", "yes")) if isinstance(current, bool) else (
                    int(value) if isinstance(current, int) else float(value))  # fmt: skip
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
