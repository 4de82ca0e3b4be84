"""Set-up time and peak memory of a large model, tree routing beside the former per-trip routing.

Usage: ``python -m tests.benchmarks.setup_scale [--residents 100000 1000000] [--methods tree per-trip]``.
Default city: ../shared Portland (walk network) where present, else the bundled City of London.
Each (residents, method) pair is built in its own process, one after the other, so that peak memory
(``ru_maxrss``) is that set-up's alone; only the set-up runs (``PrecinctModel(..., mesa_agents=False)``,
no step). ``per-trip`` swaps in :class:`tests.benchmarks.legacy_routes.PerTripRouteBook`, the route book
before issue 15. Prints one JSON line per run and then a Markdown table with the ratios.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import ModelConfig, default_city_path
from tests.benchmarks.scale_1m import PORTLAND


def measure(city: str, residents: int, method: str) -> dict[str, Any]:
    """Build one model (set-up only) and return its timings and memory."""
    import sim.model
    from sim.network import load_network

    t0 = time.perf_counter()
    net = load_network(city, network_type="walk")
    t_net = time.perf_counter() - t0
    rss_network = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if method == "per-trip":
        from tests.benchmarks.legacy_routes import PerTripRouteBook

        sim.model.RouteBook = PerTripRouteBook  # type: ignore[misc]
    routing: list[float] = []
    route_routines = sim.model.PrecinctModel._route_routines

    def timed(model: Any) -> None:
        t = time.perf_counter()
        route_routines(model)
        routing.append(time.perf_counter() - t)

    sim.model.PrecinctModel._route_routines = timed  # type: ignore[method-assign]
    cfg = ModelConfig(seed=0)
    cfg.city.path = city
    cfg.population.n_residents = residents
    cfg.population.n_offenders = 10_000
    cfg.police.n_officers = 200
    t1 = time.perf_counter()
    model = sim.model.PrecinctModel(cfg, network=net, mesa_agents=False)
    t_setup = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    book = model.resident_routes
    slices = book._slices[book._slices[:, 1] > book._slices[:, 0]]
    stored = int(np.unique(slices[:, 0]).size)  # slices never overlap: one start per stored route
    return {
        "city": Path(city).name,
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "residents": residents,
        "method": method,
        "network_s": round(t_net, 2),
        "setup_s": round(t_setup, 2),
        "routing_s": round(routing[0], 2),
        "trips": book.n_trips,
        "routes_stored": stored,
        "route_edges": book.size,
        "book_bytes": book.nbytes,
        "peak_rss_bytes": peak,
        "rss_after_network_bytes": rss_network,
    }


def table(runs: list[dict[str, Any]]) -> str:
    """Markdown table of the runs, each tree run with its ratio to the per-trip run of the same size."""
    old = {r["residents"]: r for r in runs if r["method"] == "per-trip"}
    lines = [
        "| residents | method | set-up s | routing s | peak RSS GiB | book MiB | bytes/resident (book) "
        "| bytes/trip | distinct trips | edges/trip | set-up ratio | routing ratio | peak ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        ref = old.get(r["residents"])
        ratios = ["", "", ""]
        if ref is not None and r is not ref:
            ratios = [
                f"{ref['setup_s'] / r['setup_s']:.1f}x",
                f"{ref['routing_s'] / r['routing_s']:.0f}x",
                f"{ref['peak_rss_bytes'] / r['peak_rss_bytes']:.1f}x",
            ]
        lines.append(
            f"| {r['residents']:,} | {r['method']} | {r['setup_s']:.1f} | {r['routing_s']:.1f} "
            f"| {r['peak_rss_bytes'] / 2**30:.2f} | {r['book_bytes'] / 2**20:.0f} "
            f"| {r['book_bytes'] / r['residents']:.0f} | {r['book_bytes'] / r['trips']:.0f} | {r['trips']:,} "
            f"| {r['route_edges'] / r['trips']:.1f} | {' | '.join(ratios)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--methods", nargs="+", default=["per-trip", "tree"], choices=["per-trip", "tree"])
    parser.add_argument("--city", default=str(PORTLAND if PORTLAND.exists() else default_city_path()))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.city, args.residents[0], args.methods[0])), flush=True)
        return
    runs = []
    for residents in args.residents:
        for method in args.methods:
            cmd = [sys.executable, "-m", "tests.benchmarks.setup_scale", "--worker", "--city", args.city]
            cmd += ["--residents", str(residents), "--methods", method]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), flush=True)
    print(table(runs))


if __name__ == "__main__":
    main()
