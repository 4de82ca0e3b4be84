"""Strategy comparison: pair every policy arm with its baseline seed by seed and measure the differences.

``precinct compare DIR`` calls :func:`compare_runs`, which loads the complete runs under ``DIR``
(:func:`sim.results.load_sweep`; partial or corrupt runs are named and left out), writes the tidy
``summary.parquet`` / ``summary.csv`` and ``results.duckdb``, computes every effect with a 95% CI
over paired seeds (:func:`sim.stats.paired_difference_ci`) and the weighted displacement quotient
around treated segments (:func:`sim.stats.paired_weighted_displacement_quotient`), and renders the
self-contained ``report.html`` (:mod:`experiments.report`).

Treated and buffer segments come from each policy run's ``segments.parquet``; the same sets are
applied to the same-seed baseline run, which is that seed's counterfactual (common random numbers).
A strategy's own measures (its registered ``report_rows``, e.g. hot-spot visits) are absent from
the reference runs, which did none of it, and count 0 there. Arms are ordered and paired by the
strategy registry (:func:`sim.policies.registry.policy_specs`, :func:`~sim.policies.registry.reference_policy`);
the results live in :mod:`experiments.comparison`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.comparison import Arm, Comparison, Effect
from experiments.report import write_report
from experiments.wording import example_sweep
from sim.errors import ResultsError
from sim.metrics import random_allocation_concentration, share_on_top_segments
from sim.outputs import count_since
from sim.policies.registry import policy_specs, reference_policy
from sim.results import Sweep, load_sweep, summary_table, write_database, write_table
from sim.stats import paired_difference_ci, paired_weighted_displacement_quotient

__all__ = ["Arm", "Comparison", "Effect", "compare_runs", "compare_sweep"]

# The top share of streets the concentration row is about, and the random allocations its chance
# baseline draws per run.
TOP_FRACTION = 0.05
CHANCE_DRAWS = 100
CONCENTRATION = "share_crime_top5pct_above_chance"

# Columns of sweep.runs that describe the run rather than its configuration.
_RUN_COLUMNS = {"run_dir", "policy", "seed", "wall_time_s", "network_content_hash"}


# --------------------------------------------------------------------------- arms and pairing
def _arms(sweep: Sweep) -> list[Arm]:
    runs = sweep.runs
    config_cols = [c for c in runs.columns if c not in _RUN_COLUMNS and c != "policy_params"]
    varying = [c for c in config_cols if runs[c].astype(str).nunique() > 1]
    arms: list[Arm] = []
    for policy, group in runs.groupby("policy", sort=False):
        # Policy parameters that differ between runs of the same policy make separate arms.
        group = group.copy()
        group["_params"] = group["policy_params"]
        keys = [*varying, "_params"] if group["_params"].nunique() > 1 else varying
        for values, sub in group.groupby(keys, sort=True, dropna=False) if keys else [((), group)]:
            values = values if isinstance(values, tuple) else (values,)
            settings = {k: v for k, v in zip(keys, values, strict=True) if k != "_params"}
            label = str(policy)
            extras = [f"{k}={v}" for k, v in settings.items()]
            if "_params" in keys:
                extras.append(_param_label(group["_params"], sub["_params"].iloc[0]))
            if extras:
                label += f" [{', '.join(extras)}]"
            dup = sub["seed"].duplicated()
            if dup.any():
                print(
                    f"precinct: {label}: seeds {sorted(sub['seed'][dup])} appear twice; using the first",
                    file=sys.stderr,
                )
            arms.append(
                Arm(label, str(policy), settings, sub.loc[~dup, ["run_dir", "seed"]].sort_values("seed"))
            )
    reference = reference_policy()
    for arm in arms:
        if arm.policy != reference:
            arm.baseline = next(
                (a for a in arms if a.policy == reference and a.settings == arm.settings), None
            )
    rank = {spec.name: i for i, spec in enumerate(policy_specs())}
    return sorted(
        arms,
        key=lambda a: (len(a.policies) - 1, [rank.get(p, len(rank)) for p in a.policies], a.label),
    )


def _param_label(all_params: pd.Series, params_json: str) -> str:
    flat = pd.json_normalize([json.loads(p) for p in all_params.unique()])
    mine = pd.json_normalize([json.loads(params_json)]).iloc[0]
    differing = [c for c in flat.columns if flat[c].astype(str).nunique() > 1]
    return ", ".join(f"{c}={mine.get(c)}" for c in differing)


def _own_metrics(arm: Arm) -> set[str]:
    """Return the measures the arm's strategies add to the report (their registered ``report_rows``)."""
    return {row.metric for spec in policy_specs() if spec.name in arm.policies for row in spec.report_rows}


def _pairs(arm: Arm) -> pd.DataFrame:
    """Seed-matched run folders: columns seed, run_dir (policy), base_dir (baseline)."""
    assert arm.baseline is not None
    base = arm.baseline.runs.rename(columns={"run_dir": "base_dir"})
    return arm.runs.merge(base, on="seed", how="inner").sort_values("seed", ignore_index=True)


# --------------------------------------------------------------------------- per-run tables
class _Tables:
    """Reads each run's segments and timeseries once."""

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}

    def get(self, run_dir: str, table: str) -> pd.DataFrame:
        key = (run_dir, table)
        if key not in self._cache:
            self._cache[key] = pd.read_parquet(self.sweep.path(run_dir, f"{table}.parquet"))
        return self._cache[key]


def _area_counts(pairs: pd.DataFrame, tables: _Tables) -> dict[str, np.ndarray]:
    """Per seed: crimes on the policy run's treated / buffer / other segments, in both arms.

    Treated segments count crime from the minute each was treated on, buffer segments from the first
    treatment within 400 m (``treated_from_min`` / ``buffer_from_min`` of the policy run, applied to
    both runs): a hot spot is chosen *because* of crime, and counting that crime would charge the
    patrol it attracted with it. The rest of the city counts the whole run.
    """
    out: dict[str, list[float]] = {k: [] for k in ("Rb", "Ra", "Bb", "Ba", "Cb", "Ca")}
    for row in pairs.itertuples():
        pol = tables.get(str(row.run_dir), "segments").set_index("segment")
        n = int(pol.index.max()) + 1 if len(pol) else 0
        pol = pol.reindex(range(n), fill_value=0)
        treated = pol["treated"].astype(bool).to_numpy()
        buffer = pol["buffer"].astype(bool).to_numpy() & ~treated
        control = ~treated & ~buffer
        t_from = _from_column(pol, "treated_from_min", treated)
        b_from = _from_column(pol, "buffer_from_min", buffer)
        c_from = np.where(control, 0.0, np.nan)
        for run_dir, which in ((row.base_dir, "b"), (row.run_dir, "a")):
            events = tables.get(str(run_dir), "events")
            crimes = events[events["kind"] == "crime"]
            seg = crimes["segment"].to_numpy(np.int64)
            keep = seg < n
            seg, when = seg[keep], crimes["time_min"].to_numpy(np.float64)[keep]
            for name, since in (("R", t_from), ("B", b_from), ("C", c_from)):
                out[name + which].append(float(count_since(seg, when, since)))
    return {k: np.asarray(v) for k, v in out.items()}


def _from_column(segments: pd.DataFrame, column: str, mask: np.ndarray) -> np.ndarray:
    """Return the start minute per segment of ``mask`` from ``column`` (NaN elsewhere).

    Runs written before the column existed count the segments of ``mask`` from the start.
    """
    since = segments[column].to_numpy(np.float64) if column in segments else np.zeros(len(segments))
    return np.where(mask, since, np.nan)


def _top_share_above_chance(segments: pd.DataFrame, seed: int) -> tuple[float, int, int]:
    """Return (share of crime on the top 5% of segments minus chance's, crimes, segments) of one run.

    Chance is the mean over :data:`CHANCE_DRAWS` allocations of the same number of crimes to segments
    in proportion to their length (:func:`sim.metrics.random_allocation_concentration`): with few
    crimes, chance alone looks concentrated.
    """
    counts = segments["crimes"].to_numpy(np.float64)
    n_crimes = int(counts.sum())
    if n_crimes == 0:
        return float("nan"), 0, int(counts.size)
    observed = float(share_on_top_segments(counts, (TOP_FRACTION,)).iloc[0])
    length = segments["length_m"].to_numpy(np.float64) if "length_m" in segments else np.ones(counts.size)
    chance = random_allocation_concentration(
        n_crimes, length, rng=seed, n_draws=CHANCE_DRAWS, fractions=(TOP_FRACTION,)
    )
    return observed - float(chance[f"share_on_top_{TOP_FRACTION:g}"].mean()), n_crimes, int(counts.size)


def _concentration_effect(
    pairs: pd.DataFrame, tables: _Tables, confidence: float
) -> tuple[Effect, str | None]:
    """Return the top-5% share above chance, paired, and why it is not estimable (None if it is).

    With fewer crimes in a run than 5% of its segments, the top 5% hold all of the crime by
    arithmetic (the share reads 1.000 whatever the strategy did), so the row is not estimable.
    """
    t, c, fewest, n_seg = [], [], None, 0
    for row in pairs.itertuples():
        for run_dir, out in ((row.run_dir, t), (row.base_dir, c)):
            value, n_crimes, n_seg = _top_share_above_chance(
                tables.get(str(run_dir), "segments"), int(row.seed)
            )
            out.append(value)
            fewest = n_crimes if fewest is None else min(fewest, n_crimes)
    effect = Effect(CONCENTRATION, paired_difference_ci(t, c, confidence=confidence), list(pairs["seed"]))
    top = int(np.ceil(TOP_FRACTION * n_seg))
    if fewest is not None and fewest < top:
        return effect, (
            f"not estimable: a run had {fewest} crimes, fewer than the top 5% of streets ({top} segments) "
            "they would be shared among, so those streets hold all of its crime by arithmetic"
        )
    return effect, None


def _area_effects(pairs: pd.DataFrame, tables: _Tables, confidence: float) -> pd.DataFrame:
    per_area = []
    for row in pairs.itertuples():
        for which, run_dir in (("policy", row.run_dir), ("baseline", row.base_dir)):
            seg = tables.get(str(run_dir), "segments")
            counts = seg.groupby("area")["crimes"].sum()
            per_area += [{"seed": row.seed, "arm": which, "area": a, "crimes": c} for a, c in counts.items()]
    wide = pd.DataFrame(per_area).pivot_table(
        index=["area", "seed"], columns="arm", values="crimes", fill_value=0
    )
    rows = []
    for area, sub in wide.groupby(level="area"):
        d = paired_difference_ci(sub["policy"].to_numpy(), sub["baseline"].to_numpy(), confidence=confidence)
        rows.append({"area": area, **d.as_dict()})
    return pd.DataFrame(rows).sort_values("mean_control", ascending=False, ignore_index=True)


def _segment_crimes(arm: Arm, tables: _Tables) -> pd.DataFrame:
    """Crimes per run on each segment: rows are the arm's seeds, columns segment ids (0 where none)."""
    rows = {
        int(seed): tables.get(str(run_dir), "segments").set_index("segment")["crimes"]
        for run_dir, seed in zip(arm.runs["run_dir"], arm.runs["seed"], strict=True)
    }
    wide = pd.DataFrame(rows).T.fillna(0.0).astype(float)
    return wide.reindex(columns=sorted(wide.columns), fill_value=0.0)


def _segment_means(arm: Arm, tables: _Tables) -> pd.DataFrame:
    frames = [
        tables.get(r, "segments")[["segment", "crimes", "treated", "buffer"]] for r in arm.runs["run_dir"]
    ]
    stacked = pd.concat(frames)
    return stacked.groupby("segment").agg(
        crimes=("crimes", "mean"), treated=("treated", "mean"), buffer=("buffer", "mean")
    )


# --------------------------------------------------------------------------- the comparison
def compare_sweep(sweep: Sweep, *, confidence: float = 0.95) -> Comparison:
    """Compute every arm's effects against its baseline (see the module docstring)."""
    arms = _arms(sweep)
    comp = Comparison(sweep, arms, confidence=confidence)
    wide = sweep.metrics.pivot_table(index="run_dir", columns="metric", values="value", aggfunc="first")
    if "days" in wide:
        comp.days = float(wide["days"].median())
    tables = _Tables(sweep)
    for arm in arms:
        comp.segment_means[arm.label] = _segment_means(arm, tables)
        comp.segment_crimes[arm.label] = _segment_crimes(arm, tables)
        if arm.baseline is None:
            continue
        pairs = _pairs(arm)
        missing = sorted(set(arm.runs["seed"]) - set(pairs["seed"]))
        if missing:
            comp.unpaired[arm.label] = [int(x) for x in missing]
        if pairs.empty:
            continue
        effects: dict[str, Effect] = {}
        own = _own_metrics(arm)
        for metric in wide.columns:
            t = wide[metric].reindex(pairs["run_dir"]).to_numpy(dtype=float)
            c = wide[metric].reindex(pairs["base_dir"]).to_numpy(dtype=float)
            if metric in own:  # the reference runs do not record another strategy's counters: it did none
                c = np.where(np.isnan(c) & ~np.isnan(t), 0.0, c)
            effects[metric] = Effect(
                metric, paired_difference_ci(t, c, confidence=confidence), list(pairs["seed"])
            )
        counts = _area_counts(pairs, tables)
        seeds = list(pairs["seed"])
        for name, (a, b) in {"crimes_in_treated": ("Ra", "Rb"), "crimes_in_buffer": ("Ba", "Bb")}.items():
            effects[name] = Effect(
                name, paired_difference_ci(counts[a], counts[b], confidence=confidence), seeds
            )
        effects[CONCENTRATION], why = _concentration_effect(pairs, tables, confidence)
        if why:
            comp.not_estimable.setdefault(arm.label, {})[CONCENTRATION] = why
        comp.effects[arm.label] = effects
        has_treated = counts["Rb"].sum() + counts["Ra"].sum() > 0
        comp.wdq[arm.label] = (
            paired_weighted_displacement_quotient(
                counts["Rb"], counts["Ra"], counts["Bb"], counts["Ba"], counts["Cb"], counts["Ca"],
                confidence=confidence, rng=0,
            )
            if has_treated
            else None
        )  # fmt: skip
        comp.areas[arm.label] = _area_effects(pairs, tables, confidence)
    return comp


def compare_runs(sweep_dir: Path, *, out_dir: Path | None = None, confidence: float = 0.95) -> Path:
    """Compare the runs under ``sweep_dir``; write summary tables, results.duckdb and report.html.

    Returns the report's path. Partial or corrupt runs are reported on stderr (and in the report)
    and left out; with no complete run at all, raises :class:`sim.errors.ResultsError`.
    """
    sweep = load_sweep(sweep_dir)
    for check in sweep.problems:
        print(f"precinct: skipped {_rel(check.path, sweep.root)}: {check.problem}", file=sys.stderr)
    if sweep.runs.empty:
        raise ResultsError(
            f"{sweep_dir}: no complete runs to compare ({len(sweep.problems)} partial or corrupt); "
            f"run a sweep first, e.g. {example_sweep()}"
        )
    out = Path(out_dir) if out_dir is not None else sweep.root
    out.mkdir(parents=True, exist_ok=True)
    summary = summary_table(sweep)
    write_table(out / "summary.parquet", summary)
    write_table(out / "summary.csv", summary)
    write_database(sweep, out / "results.duckdb")
    comparison = compare_sweep(sweep, confidence=confidence)
    return write_report(comparison, out / "report.html")


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
