"""Simulated against real crime on one city, before calibration: volume, concentration, Knox, hours.

Every measure is taken at equal event counts (Bernasco & Steenbeek 2017; ../shared/EVIDENCE.md):
the larger of the two sets of recorded crimes is subsampled, at random with a fixed seed, to the size
of the smaller, so concentration and near repeats are not artefacts of how many events there are.
Real crime is the incident file's rows in the model's offence types (``unmodelled`` left out);
simulated crime is what the police would record.

Usage (needs the shared data for the Portland example)::

    python -m experiments.sim_vs_real --city ../shared/data/osm/portland_central.osm.bz2
        --incidents ../shared/data/crime/portland_crime_2021-01_2021-03.csv
        --start 2021-01-01 --end 2021-03-31 --seeds 2 --days 14
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import metrics as m
from sim.config import ModelConfig
from sim.incidents import MODELLED_NOW, IncidentSource, read_incidents
from sim.model import run_simulation
from sim.network import StreetNetwork, load_network

__all__ = ["Comparison", "compare_crimes", "hour_profile", "mix_weights", "simulate", "total_variation"]


def hour_profile(time_min: np.ndarray) -> np.ndarray:
    """Return the share of events in each hour of the day (24 values summing to 1)."""
    counts = np.bincount(m.label_hours(time_min), minlength=24).astype(float)
    out: np.ndarray = counts / counts.sum()
    return out


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Return the total variation distance between two distributions (0 same, 1 disjoint)."""
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


@dataclass(frozen=True)
class Comparison:
    """One measure, simulated and real, at equal event counts."""

    measure: str
    simulated: float
    real: float
    chance: float = float("nan")


def _knox(crimes: pd.DataFrame, d_m: float, t_days: float, rng: int) -> float:
    t = m.knox_table(
        crimes["x"].to_numpy(), crimes["y"].to_numpy(), crimes["time_min"].to_numpy() / 1440.0,
        distance_bands_m=(0.0, d_m), time_bands_days=(0.0, t_days), n_permutations=49, rng=rng,
    )  # fmt: skip
    row = t.iloc[0]
    return float(row["observed"] / row["expected"]) if row["expected"] > 0 else float("nan")


def compare_crimes(
    sim: pd.DataFrame,
    real: pd.DataFrame,
    network: StreetNetwork,
    *,
    sim_days: float,
    real_days: float,
    rng: int = 0,
    timed: bool = True,
) -> list[Comparison]:
    """Compare simulated and real recorded crime on one network (see the module docstring).

    Parameters
    ----------
    sim, real
        Event tables of crimes (``segment``, ``x``, ``y``, ``time_min``).
    sim_days, real_days
        The periods the tables span, for volume per day.
    timed
        False when the real times are month-only (police.uk): Knox and hours are skipped.
    """
    gen = np.random.default_rng(rng)
    out = [Comparison("recorded crimes per day", len(sim) / sim_days, len(real) / real_days)]
    n = min(len(sim), len(real))
    if n < 50:
        return out
    a = sim.iloc[np.sort(gen.choice(len(sim), n, replace=False))]
    b = real.iloc[np.sort(gen.choice(len(real), n, replace=False))]
    lengths = network.segment_length_m
    chance = m.random_allocation_concentration(n, lengths, rng, 100, fractions=(0.05,))
    share = [m.segments_holding_share(m.count_crimes_per_segment(x, network.n_segments), 0.5) for x in (a, b)]
    out.append(Comparison(f"share of segments holding 50% of {n:,} crimes", share[0], share[1],
                          float(chance["segments_holding_0.5"].mean())))  # fmt: skip
    if timed:
        for d_m, t_days in ((100.0, 3.0), (200.0, 14.0)):
            out.append(Comparison(f"Knox ratio 0-{d_m:g} m / 0-{t_days:g} days", _knox(a, d_m, t_days, rng),
                                  _knox(b, d_m, t_days, rng), 1.0))  # fmt: skip
        tv = total_variation(
            hour_profile(sim["time_min"].to_numpy()), hour_profile(real["time_min"].to_numpy())
        )
        out.append(Comparison("hour-of-day profile, total variation from real", tv, 0.0))
    return out


def mix_weights(sim: pd.DataFrame, real: pd.DataFrame, weights: dict[str, float]) -> dict[str, float]:
    """Return offence weights that give ``real``'s recorded mix, from a run with ``weights`` that gave ``sim``'s.

    One multiplicative step per type (``w * real share / simulated share``): the volume-per-type
    part of calibration, and nothing of the hours. A type the records do not have gets weight 0; one
    the run did not produce keeps its weight.
    """
    sim_share = sim["crime_type"].value_counts(normalize=True)
    real_share = real["crime_type"].value_counts(normalize=True)
    out = {}
    for k, w in weights.items():
        s, r = float(sim_share.get(k, 0.0)), float(real_share.get(k, 0.0))
        out[k] = w * r / s if s > 0 else w
    total = sum(out.values())
    return {k: v * len(out) / total for k, v in out.items()}


def simulate(
    city: str, network: StreetNetwork, seeds: int, days: float, type_weight: dict[str, float] | None = None
) -> pd.DataFrame:
    """Run the default model ``seeds`` times on ``city`` (head-counts scaled to its streets); recorded crimes."""
    out = []
    for seed in range(seeds):
        cfg = ModelConfig(seed=seed)
        if type_weight is not None:
            cfg.crime.type_weight = dict(type_weight)
        cfg.city.path = city
        cfg.city.network_type = network.network_type
        cfg.sim.days = days
        ev = run_simulation(cfg, network=network).events
        crimes = ev[(ev["kind"] == "crime") & ev["recorded"]].copy()
        crimes["time_min"] += seed * days * 1440.0  # runs laid end to end: one long period
        out.append(crimes)
    return pd.concat(out, ignore_index=True)


def main() -> None:
    """Print the comparison table for one city and incident file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", required=True)
    ap.add_argument("--network-type", default="walk")
    ap.add_argument("--incidents", required=True)
    ap.add_argument("--start", default=None, help="first local date of real incidents to use")
    ap.add_argument("--end", default=None, help="last local date of real incidents to use")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--days", type=float, default=14.0)
    ap.add_argument("--fit-end", default=None,
                    help="first local date of the test period: the offence mix is set from the records before it")  # fmt: skip
    args = ap.parse_args()
    net = load_network(args.city, network_type=args.network_type)
    table = read_incidents(IncidentSource(path=args.incidents, start=args.start, end=args.end), net)
    ev = table.events
    real = ev[(ev["kind"] == "crime") & ev["crime_type"].isin(sorted(MODELLED_NOW))]
    first, last = table.report.date_first, table.report.date_last
    timed = bool((ev["time_known"] != "month").any())
    if first is None or last is None:
        real_days = float("nan")
    else:  # month-only dates stand for the whole month
        end = last + pd.DateOffset(months=1) if not timed else last + pd.Timedelta(days=1)
        real_days = (end - first).total_seconds() / 86400.0
    sim = simulate(str(Path(args.city)), net, args.seeds, args.days)
    if args.fit_end:  # the city's offence mix from the fit period; compare on the rest
        cut = pd.Timestamp(args.fit_end, tz=real["datetime"].dt.tz)
        fit, real = real[real["datetime"] < cut], real[real["datetime"] >= cut]
        weights = mix_weights(sim, fit, ModelConfig().crime.type_weight)
        print("offence weights from the fit period:", {k: round(v, 3) for k, v in weights.items()})
        sim = simulate(str(Path(args.city)), net, args.seeds, args.days, type_weight=weights)
        real_days = (real["datetime"].max() - cut).total_seconds() / 86400.0
    rows = compare_crimes(sim, real, net, sim_days=args.seeds * args.days, real_days=real_days, timed=timed)
    print(f"{Path(args.city).name} ({args.network_type}) against {Path(args.incidents).name}: "
          f"{len(sim):,} simulated and {len(real):,} real recorded crimes of the modelled types")  # fmt: skip
    for r in rows:
        print(f"  {r.measure:<55} sim {r.simulated:8.3f}   real {r.real:8.3f}   chance {r.chance:8.3f}")


if __name__ == "__main__":
    main()
