"""Time and peak memory of a 1M-resident, 30-day run on the largest network available.

Usage: ``python -m tests.benchmarks.scale_1m [--residents N] [--days D] [--city PATH] [--quiet]``. Default
city: ../shared Portland (walk network) where present, else the bundled City of London. Shows progress
bars for the set-up and the run (stderr) and prints set-up time, run time, steps per second,
agent-steps per second, the run's share of time by phase (the ten largest) and peak resident memory
(ru_maxrss). Run it from another checkout (``PYTHONPATH=DIR``) to time other code on the same machine.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sim.config import ModelConfig, default_city_path
from sim.model import PrecinctModel
from sim.network import load_network

PORTLAND = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "osm" / "portland_central.osm.bz2"
# (object attribute of the model or "", method): timed per call, as the run's phases
PHASES = (("residents", "plan_day"), ("residents", "leave"), ("", "_move"),
          ("offending", "routine"), ("offending", "offend"), ("policing", "dispatch"), ("policing", "give_orders"),
          ("survey", "observe"), ("env", "decay_and_spread"), ("", "_update_police_presence"),
          ("offending", "update_collective_efficacy"))  # fmt: skip


def peak_memory_bytes() -> int:
    """Peak resident memory of this process so far, bytes (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def time_phases(model: PrecinctModel) -> dict[str, float]:
    """Wrap the step's phases with timers; return the dict of seconds per phase they fill in."""
    spent: dict[str, float] = defaultdict(float)
    for owner, name in PHASES:
        obj: Any = getattr(model, owner) if owner else model
        method = getattr(obj, name, None)
        if method is None:
            continue

        def timed(*args: Any, _m: Any = method, _k: str = f"{owner}.{name}".strip("."), **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return _m(*args, **kw)
            finally:
                spent[_k] += time.perf_counter() - t

        setattr(obj, name, timed)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--offenders", type=int, default=10_000)
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--city", default=str(PORTLAND if PORTLAND.exists() else default_city_path()))
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()
    bars: Any = None
    if not args.quiet:
        try:
            from experiments.progress import RunProgress

            bars = RunProgress(mininterval_s=5.0)
        except ImportError:  # another checkout without bars
            bars = None
    t0, c0 = time.perf_counter(), time.process_time()
    net = load_network(args.city, network_type="walk")
    cfg = ModelConfig(seed=0)
    cfg.city.path = args.city
    cfg.sim.days = args.days
    cfg.population.n_residents = args.residents
    cfg.population.n_offenders = args.offenders
    cfg.police.n_officers = args.officers
    kw = {"progress": bars} if bars is not None else {}
    model = PrecinctModel(cfg, network=net, mesa_agents=False, **kw)
    t1, c1 = time.perf_counter(), time.process_time()
    peak_setup = peak_memory_bytes()
    spent = time_phases(model)
    steps = 0
    while model.running:
        model.step()
        steps += 1
        if bars is not None:
            bars("run", steps, model.clock.n_steps)
    t2, c2 = time.perf_counter(), time.process_time()
    if bars is not None:
        bars.close()
    result_events = len(model.event_log)
    agents = model.residents.n + model.offenders.n + model.officers.n
    run_s = t2 - t1
    print(f"city {Path(args.city).name}: {net.n_nodes} nodes, {net.n_edges} edges (walk)")
    print(f"agents {agents:,} ({args.residents:,} residents), {args.days:g} days, {steps} steps")
    print(
        f"set-up {t1 - t0:.1f} s (routes routed: {model.resident_routes.n_routed:,}); peak {peak_setup / 2**30:.2f} GiB"
    )
    print(
        f"run {run_s:.1f} s = {steps / run_s:.1f} steps/s = {agents * steps / run_s / 1e6:.1f}M agent-steps/s"
    )
    print(f"cpu time: set-up {c1 - c0:.1f} s, run {c2 - c1:.1f} s")
    for name, s in sorted(spent.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {name:36s} {s:8.1f} s  {100 * s / run_s:5.1f}%")
    print(
        f"total {t2 - t0:.1f} s; events {result_events:,}; peak memory {peak_memory_bytes() / 2**30:.2f} GiB"
    )


if __name__ == "__main__":
    main()
