"""Sweeps with the real model: the default experiment through joblib, resuming a killed sweep, Ray."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from experiments.cli import main
from experiments.configuration import job_dirname
from sim.results import COMPLETE_MARKER, find_runs, is_run_complete
from tests.conftest import REPO
from tests.experiments.fakes import EXPERIMENT_POLICIES, skip_unless_policies_registered

TINY = ["city=west_oakland", "population=small", "sim.days=1"]
# the hot-spot policies' defaults (40 and 100 segments) need a real city, not the 59-segment fixture
TINY_ALL_POLICIES = [*(o for o in TINY if not o.startswith("city")), "city=city_of_london"]


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "experiments.cli", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def precinct(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args), cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def test_default_experiment_sweeps_with_joblib_and_compares(tmp_path: Path) -> None:
    """conf/experiment/compare_strategies.yaml, shrunk to one seed and a small population: every arm runs, then the report.

    (Paired-seed statistics are tested on synthetic runs in test_report.py; this checks the plumbing.)
    """
    skip_unless_policies_registered(*EXPERIMENT_POLICIES)
    sweep = tmp_path / "sweep"
    args = [
        "run",
        "-m",
        "experiment=compare_strategies",
        *TINY_ALL_POLICIES,
        "seed=0",
        f"hydra.sweep.dir={sweep}",
    ]
    result = precinct(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    complete, problems = find_runs(sweep)
    assert not problems
    assert "JoblibLauncher" in (sweep / "multirun.yaml").read_text() or "Joblib" in result.stderr
    n_jobs = len(complete)
    assert n_jobs == 7, "baseline, five policies and one combination"
    assert f"runs: {n_jobs}/{n_jobs} done" in result.stderr, "the progress line reaches the total"
    assert result.stdout.count("done ") == n_jobs

    assert main(["compare", str(sweep)]) == 0
    summary = pd.read_parquet(sweep / "summary.parquet")
    assert set(summary["seed"]) == {0}
    assert set(summary["policy"]) == {
        "baseline",
        "targeted_patrol",
        "cpted",
        "community_meetings",
        "neighbourhood_watch",
        "problem_solving",
        "targeted_patrol+cpted",
    }
    assert summary["run_dir"].nunique() == n_jobs
    assert {"run_dir", "policy", "seed", "metric", "value", "sim_days"} <= set(summary.columns)
    con = duckdb.connect(str(sweep / "results.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(DISTINCT run_dir) FROM segments").fetchone() == (n_jobs,)
    finally:
        con.close()
    assert (sweep / "report.html").stat().st_size > 10_000


def test_killed_sweep_resumes_with_only_the_unfinished_runs(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    seeds = range(4)
    job = ["city=west_oakland", "population=small", "sim.days=2"]
    args = [
        "run",
        "-m",
        *job,
        f"seed=range(0,{len(seeds)})",
        f"hydra.sweep.dir={sweep}",
        "hydra.launcher.n_jobs=1",
    ]
    markers = [sweep / job_dirname([*job, f"seed={s}"]) / COMPLETE_MARKER for s in seeds]

    log = tmp_path / "killed.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            _command(*args),
            cwd=tmp_path,
            env=_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    try:
        while sum(m.is_file() for m in markers) < 2:
            assert proc.poll() is None, (
                f"the sweep ended before it could be killed:\n{log.read_text()[-3000:]}"
            )
            assert time.monotonic() < deadline, "no run finished in time"
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the whole sweep: launcher and workers
        proc.wait()
    finished = {m.parent.name: m.stat().st_mtime_ns for m in markers if m.is_file()}
    assert 2 <= len(finished) < len(seeds), "kill the sweep midway"

    rerun = precinct(*args, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.stdout.count("skip (complete)") == len(finished)
    assert rerun.stdout.count("done ") == len(seeds) - len(finished)
    for name, mtime in finished.items():
        assert (sweep / name / COMPLETE_MARKER).stat().st_mtime_ns == mtime, f"{name} was redone"
    assert all(is_run_complete(m.parent) for m in markers)


@pytest.mark.slow
def test_ray_launcher_runs_a_sweep_on_a_local_ray(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="hydra-ray-launcher is not installed")
    sweep = tmp_path / "sweep"
    args = [
        "run", "-m", "hydra/launcher=ray", *TINY, "seed=range(0,2)", f"hydra.sweep.dir={sweep}",
        "hydra.launcher.ray.init.num_cpus=2",
    ]  # fmt: skip
    result = precinct(*args, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    complete, problems = find_runs(sweep)
    assert len(complete) == 2 and not problems
    assert "runs: 2/2 done" in result.stderr


def test_a_multirun_after_a_change_of_folder_reads_relative_paths_in_the_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In one process (a calibration, a plan, a notebook), joblib's reused workers follow os.chdir.

    The first multirun starts the workers in ``first``; the second, from ``second``, names its map by
    a path relative to ``second`` that does not exist in ``first``.
    """
    import shutil

    from experiments.launch import run_hydra

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    shutil.copy(REPO / "data" / "osm" / "west_oakland.osm.bz2", second / "map.osm.bz2")
    tiny = ["population=small", "sim.days=0.05", "seed=0,1"]
    monkeypatch.chdir(first)
    run_hydra(["city=west_oakland", *tiny, f"hydra.sweep.dir={first / 'sweep'}"], multirun=True)
    monkeypatch.chdir(second)
    run_hydra(
        ["city=custom", "city.path=map.osm.bz2", *tiny, f"hydra.sweep.dir={second / 'sweep'}"], multirun=True
    )
    done = sorted(p.parent.name for p in (second / "sweep").rglob(COMPLETE_MARKER))
    assert len(done) == 2, done
