"""Event tables of this code beside another checkout's, for the same configuration and seed.

Usage: ``python -m tests.benchmarks.same_events --baseline DIR [--residents 100000] [--days 3]
[--offenders 100] [--officers 20] [--city PATH] [--policy NAME ...] [--seeds 0 1]``.

``DIR`` is a checkout of the code to compare with, its kernels built (e.g. ``git worktree add`` or
``git archive <commit> | tar -x -C DIR`` then ``python setup.py build_ext --inplace`` there). Each run
is its own process (``PYTHONPATH`` set to the checkout), one after the other, so the run times are
comparable. Prints per run the sha256 of ``events.to_csv(index=False)`` (as
``tests/sim/test_golden_events.py`` hashes it), the number of events, set-up and run seconds, and
whether the two tables are identical; exits 1 if any differ.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def run_one(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """Build and run one model in this process; return its events' hash and timings."""
    import hashlib
    import time

    from sim.config import ModelConfig
    from sim.model import PrecinctModel
    from sim.network import load_network

    t0 = time.perf_counter()
    net = load_network(args.city, network_type="walk")
    cfg = ModelConfig(seed=seed, policies={name: {} for name in args.policy})
    cfg.city.path = args.city
    cfg.sim.days = args.days
    cfg.population.n_residents = args.residents
    cfg.population.n_offenders = args.offenders
    cfg.police.n_officers = args.officers
    model = PrecinctModel(cfg, network=net, mesa_agents=False)
    t1 = time.perf_counter()
    while model.running:
        model.step()
    t2 = time.perf_counter()
    events = model.event_log.to_frame(net)
    return {
        "seed": seed,
        "sha256": hashlib.sha256(events.to_csv(index=False).encode()).hexdigest(),
        "events": len(events),
        "crimes": int((events["kind"] == "crime").sum()),
        "setup_s": round(t1 - t0, 2),
        "run_s": round(t2 - t1, 2),
    }


def main() -> None:
    from sim.config import default_city_path

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", required=True, help="checkout of the code to compare with")
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--offenders", type=int, default=100)
    parser.add_argument("--officers", type=int, default=20)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--city", default=str(default_city_path()))
    parser.add_argument("--policy", nargs="+", default=["baseline"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(run_one(args, args.worker)), flush=True)
        return
    differ = False
    for seed in args.seeds:
        out = {}
        for label, code in (("baseline", Path(args.baseline).resolve()), ("this", REPO)):
            # run this file by path: the worker imports ``sim`` from the checkout on PYTHONPATH
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(seed)]
            cmd += [a for a in sys.argv[1:] if a != "--worker"]
            env = {**os.environ, "PYTHONPATH": str(code)}
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=code)
            if done.returncode:
                sys.exit(f"{label} run failed:\n{done.stderr}")
            out[label] = json.loads(done.stdout.strip().splitlines()[-1])
            print(label, json.dumps(out[label]), flush=True)
        same = out["baseline"]["sha256"] == out["this"]["sha256"]
        differ |= not same
        ratio = out["baseline"]["run_s"] / max(out["this"]["run_s"], 1e-9)
        print(
            f"seed {seed}: events {'identical' if same else 'DIFFER'}; run time ratio baseline/this {ratio:.2f}x"
        )
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
