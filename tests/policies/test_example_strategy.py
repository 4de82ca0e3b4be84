"""The worked example of docs/policies.md: a strategy in its own file runs in a sweep and reaches the report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.results import find_runs
from tests.conftest import REPO

SWEEP = ["city=city_of_london", "population=small", "sim.days=2", "police.n_officers=6"]


def precinct(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def test_night_foot_patrol_runs_in_a_sweep_and_appears_in_the_report(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    run = precinct("run", "-m", "policy=baseline,night_foot_patrol", "seed=0,1", *SWEEP,
                   f"hydra.sweep.dir={sweep}", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    complete, problems = find_runs(sweep)
    assert len(complete) == 4 and not problems
    night = [p for p in complete if "night_foot_patrol" in (p / "run.json").read_text()]
    assert len(night) == 2
    for run_dir in night:
        events = pd.read_parquet(run_dir / "events.parquet")
        visits = events[(events["kind"] == "patrol_visit") & (events["dwell_min"] == 15.0)]
        hour = (visits["time_min"] / 60.0) % 24
        assert len(visits) > 0, "the strategy never sent an officer to a street"
        assert np.all((hour >= 20) | (hour < 2.25)), "foot patrol stood on streets by day"
    compare = precinct("compare", str(sweep), cwd=tmp_path)
    assert compare.returncode == 0, compare.stderr[-3000:]
    report = (sweep / "report.html").read_text()
    assert "Night foot patrol" in report
