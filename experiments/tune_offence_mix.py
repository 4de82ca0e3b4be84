"""Re-derive the default offence weights (``sim.offences``, ``crime.type_weight``) on the bundled city.

The default weights make the bundled City of London's simulated *recorded* mix near the police.uk
mix recorded on the same streets in the fit year (May 2023 - April 2024 of the shared file; the
following year is left for validation). Each round runs the default model over a few seeds and
scales each weight by (target share / simulated share), damped; simulated recorded shares are taken
as true counts x the type's report rate, which is less noisy than the few recorded crimes of a run.

Police.uk's "Vehicle crime" is one category (mapped to theft from vehicles); the target splits it
70/30 between theft from and theft of vehicles, near the national split of recorded vehicle crime.

Usage (needs ../shared/data, the workplace's shared data folder)::

    python -m experiments.tune_offence_mix --rounds 4 --seeds 4 --days 7
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim import ModelConfig, load_network, run_simulation
from sim.config import repo_root
from sim.incidents import read_incidents
from sim.offences import CRIME_TYPES, OFFENCES

SHARED_FILE = repo_root().parent / "shared" / "data" / "crime" / "city_of_london_street_2023-05_2025-05.csv"
FIT_START, FIT_END = "2023-05-01", "2024-05-01"


def target_mix(path: Path) -> tuple[dict[str, float], float]:
    """Return the recorded share of each modelled type on the bundled map in the fit year, and crimes per day."""
    net = load_network(ModelConfig().city.path, network_type="walk")
    ev = read_incidents(path, net).events
    tz = ev["datetime"].dt.tz
    fit = (ev["datetime"] >= pd.Timestamp(FIT_START, tz=tz)) & (ev["datetime"] < pd.Timestamp(FIT_END, tz=tz))
    crimes = ev[(ev["kind"] == "crime") & fit]
    counts = crimes["crime_type"].value_counts()
    share = {k: float(counts.get(k, 0)) for k in CRIME_TYPES}
    vehicle = share["theft_from_vehicle"] + share["vehicle_theft"]
    share["theft_from_vehicle"], share["vehicle_theft"] = 0.7 * vehicle, 0.3 * vehicle
    total = sum(share.values())
    days = (pd.Timestamp(FIT_END) - pd.Timestamp(FIT_START)).days
    return {k: v / total for k, v in share.items()}, total / days


def simulated_mix(weights: dict[str, float], seeds: int, days: float) -> tuple[dict[str, float], float]:
    """Return the simulated recorded mix (true counts x report rate) and recorded crimes per day."""
    counts = dict.fromkeys(CRIME_TYPES, 0.0)
    recorded = 0.0
    for seed in range(seeds):
        cfg = ModelConfig(seed=seed)
        cfg.sim.days = days
        cfg.crime.type_weight = dict(weights)
        ev = run_simulation(cfg).events
        crimes = ev[ev["kind"] == "crime"]
        recorded += float(crimes["recorded"].sum())
        for k, n in crimes["crime_type"].value_counts().items():
            counts[str(k)] += float(n) * OFFENCES[str(k)].report_base
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()}, recorded / (seeds * days)


def main() -> None:
    """Run the rounds and print the weights to put in sim/offences.py."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--damping", type=float, default=0.8)
    args = ap.parse_args()
    target, target_per_day = target_mix(SHARED_FILE)
    weights = {k: o.weight for k, o in OFFENCES.items()}
    for r in range(args.rounds):
        sim, per_day = simulated_mix(weights, args.seeds, args.days)
        tv = 0.5 * sum(abs(sim[k] - target[k]) for k in CRIME_TYPES)
        print(f"round {r}: total variation {tv:.3f}, {per_day:.1f} recorded crimes/day")
        for k in CRIME_TYPES:
            ratio = target[k] / max(sim[k], 1e-4)
            weights[k] *= ratio**args.damping
        # the weights set the mix; their sum stays at one per type (volume is calibration's job:
        # raising them all runs into the cap of one offence per outing step and bends the mix)
        scale = len(weights) / sum(weights.values())
        weights = {k: v * scale for k, v in weights.items()}
    print(f"target: {target_per_day:.1f} recorded crimes/day")
    print("target   ", {k: round(v, 3) for k, v in target.items()})
    print("simulated", {k: round(v, 3) for k, v in sim.items()})
    print("weights  ", {k: round(v, 3) for k, v in weights.items()})


if __name__ == "__main__":
    main()
