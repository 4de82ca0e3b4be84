"""Time and peak memory of a 1M-resident, 30-day run on the largest network available.

Usage: ``python -m tests.benchmarks.scale_1m [--residents N] [--days D] [--city PATH]``. Default city:
../shared Portland (walk network) where present, else the bundled City of London. Prints set-up
time, run time, steps per second, agent-steps per second and peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from sim.config import ModelConfig, default_city_path
from sim.model import PrecinctModel
from sim.network import load_network

PORTLAND = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "osm" / "portland_central.osm.bz2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--offenders", type=int, default=10_000)
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--city", default=str(PORTLAND if PORTLAND.exists() else default_city_path()))
    args = parser.parse_args()
    t0 = time.perf_counter()
    net = load_network(args.city, network_type="walk")
    cfg = ModelConfig(seed=0)
    cfg.city.path = args.city
    cfg.sim.days = args.days
    cfg.population.n_residents = args.residents
    cfg.population.n_offenders = args.offenders
    cfg.police.n_officers = args.officers
    model = PrecinctModel(cfg, network=net, mesa_agents=False)
    t1 = time.perf_counter()
    steps = 0
    while model.running:
        model.step()
        steps += 1
    t2 = time.perf_counter()
    result_events = len(model.event_log)
    agents = model.residents.n + model.offenders.n + model.officers.n
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"city {Path(args.city).name}: {net.n_nodes} nodes, {net.n_edges} edges (walk)")
    print(f"agents {agents:,} ({args.residents:,} residents), {args.days:g} days, {steps} steps")
    print(f"set-up {t1 - t0:.1f} s (routes routed: {model.resident_routes.n_routed:,})")
    print(
        f"run {t2 - t1:.1f} s = {steps / (t2 - t1):.1f} steps/s = {agents * steps / (t2 - t1) / 1e6:.1f}M agent-steps/s"
    )
    print(f"total {t2 - t0:.1f} s; events {result_events:,}; peak memory {peak_gib:.2f} GiB")


if __name__ == "__main__":
    main()
