"""sim.results: atomic run files, the completeness marker, sweep loading, DuckDB and tidy summaries."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sim.errors import ResultsError
from sim.results import (
    COMPLETE_MARKER,
    RESULT_FILES,
    check_run,
    config_fingerprint,
    find_runs,
    is_run_complete,
    load_sweep,
    policy_label,
    summary_table,
    write_database,
    write_run,
)
from tests.experiments.fakes import fake_result, fixture_network, write_fake_sweep


@pytest.fixture(scope="module")
def net():  # type: ignore[no-untyped-def]
    return fixture_network()


def test_write_run_writes_every_file_and_a_verified_marker(tmp_path: Path, net) -> None:  # type: ignore[no-untyped-def]
    result = fake_result(net, "targeted_patrol", 3)
    run_dir = write_run(tmp_path / "run", result, wall_time_s=2.5, info={"overrides": ["seed=3"]})
    for name in (*RESULT_FILES, COMPLETE_MARKER):
        assert (run_dir / name).is_file(), name
    assert not list(run_dir.glob(".*.tmp")), "no temp files left behind"
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "events.parquet"), result.events)
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "segments.parquet"), result.segments)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["seed"] == 3
    assert info["policy"] == "targeted_patrol"
    assert info["network_content_hash"] == net.content_hash
    assert info["wall_time_s"] == 2.5
    assert info["overrides"] == ["seed=3"]
    assert info["versions"]["pandas"] == pd.__version__
    assert "git_commit" in info
    assert json.loads((run_dir / "config.json").read_text())["seed"] == 3
    marker = json.loads((run_dir / COMPLETE_MARKER).read_text())
    assert set(marker["files"]) == set(RESULT_FILES)
    assert marker["config_sha256"] == config_fingerprint(result.config)
    assert is_run_complete(run_dir)
    assert is_run_complete(run_dir, config_sha256=config_fingerprint(result.config))
    assert not is_run_complete(run_dir, config_sha256="0" * 64)


def test_nan_metrics_become_json_null(tmp_path: Path, net) -> None:  # type: ignore[no-untyped-def]
    result = fake_result(net, "baseline", 0)
    result.metrics["response_time_mean_min"] = float("nan")
    run_dir = write_run(tmp_path / "run", result, wall_time_s=1.0)
    assert json.loads((run_dir / "metrics.json").read_text())["response_time_mean_min"] is None


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda d: (d / COMPLETE_MARKER).unlink(), "partial"),
        (lambda d: (d / "events.parquet").unlink(), "events.parquet is missing"),
        (lambda d: (d / "segments.parquet").write_bytes(b"PAR1 truncated"), "segments.parquet has"),
        (lambda d: (d / COMPLETE_MARKER).write_text("{not json"), "unreadable"),
    ],
    ids=["no-marker", "missing-file", "truncated-file", "bad-marker"],
)
def test_damaged_runs_are_not_complete(tmp_path: Path, net, damage, expected: str) -> None:  # type: ignore[no-untyped-def]
    run_dir = write_run(tmp_path / "run", fake_result(net, "baseline", 0), wall_time_s=1.0)
    damage(run_dir)
    check = check_run(run_dir)
    assert not check.complete
    assert expected in (check.problem or "")
    assert not is_run_complete(run_dir)


def test_same_size_edit_is_caught_by_sha256(tmp_path: Path, net) -> None:  # type: ignore[no-untyped-def]
    run_dir = write_run(tmp_path / "run", fake_result(net, "baseline", 0), wall_time_s=1.0)
    path = run_dir / "metrics.json"
    text = path.read_text()
    path.write_text(text.replace('"days": 2.0', '"days": 3.0'))
    assert path.stat().st_size == len(text.encode())
    assert "sha256" in (check_run(run_dir).problem or "")
    assert check_run(run_dir, verify_hashes=False).complete


def test_rewrite_removes_old_marker_first(tmp_path: Path, net, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A rewrite killed midway must not leave the previous run's marker vouching for new files."""
    run_dir = write_run(tmp_path / "run", fake_result(net, "baseline", 0), wall_time_s=1.0)
    import sim.results as results

    def boom(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(results, "_write_parquet", boom)
    with pytest.raises(KeyboardInterrupt):
        write_run(run_dir, fake_result(net, "baseline", 1), wall_time_s=1.0)
    assert not (run_dir / COMPLETE_MARKER).exists()
    assert not is_run_complete(run_dir)
    assert not [p for p in os.listdir(run_dir) if p.endswith(".tmp")]


def test_policy_label_is_canonical() -> None:
    assert policy_label({"baseline": {}}) == "baseline"
    assert policy_label({"cpted": {}, "targeted_patrol": {}}) == "targeted_patrol+cpted"
    assert policy_label(["baseline", "community_meetings"]) == "community_meetings"


def test_find_runs_separates_complete_from_broken(tmp_path: Path) -> None:
    dirs = write_fake_sweep(tmp_path, seeds=range(2))
    (dirs[0] / COMPLETE_MARKER).unlink()
    (tmp_path / "killed-early" / ".hydra").mkdir(parents=True)
    (tmp_path / "notes").mkdir()
    complete, problems = find_runs(tmp_path)
    assert complete == sorted(dirs[1:])
    assert [p.path.name for p in problems] == sorted([dirs[0].name, "killed-early"])
    assert all(not p.complete and p.problem.startswith("partial") for p in problems)
    with pytest.raises(ResultsError, match="not a directory"):
        find_runs(tmp_path / "nope")


def test_load_sweep_summary_and_database(tmp_path: Path) -> None:
    write_fake_sweep(tmp_path / "sweep", seeds=range(3))
    sweep = load_sweep(tmp_path / "sweep")
    assert len(sweep.runs) == 6
    assert set(sweep.runs["policy"]) == {"baseline", "targeted_patrol"}
    assert {"sim_days", "population_n_residents", "city_network_type"} <= set(sweep.runs.columns)

    summary = summary_table(sweep)
    assert list(summary.columns[:5]) == ["run_dir", "policy", "seed", "metric", "value"]
    # one row per run and metric (a strategy's own counters appear in its runs only)
    assert len(summary) == len(sweep.metrics) == sweep.metrics.groupby("run_dir")["metric"].nunique().sum()
    assert summary["sim_days"].eq(2.0).all()

    db = write_database(sweep, tmp_path / "results.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    try:
        n_runs = con.execute("SELECT count(*) FROM runs").fetchone()
        assert n_runs == (6,)
        by_policy = dict(
            con.execute(
                "SELECT policy, sum(crimes) FROM segments WHERE treated GROUP BY policy ORDER BY policy"
            ).fetchall()
        )
        assert set(by_policy) == {"targeted_patrol"}
        events = con.execute("SELECT count(*), count(DISTINCT run_dir) FROM events").fetchone()
        assert events is not None and events[1] == 6
        expected_events = sum(
            len(pd.read_parquet(sweep.path(r, "events.parquet"))) for r in sweep.runs["run_dir"]
        )
        assert events[0] == expected_events
        means = con.execute(
            "SELECT n_runs, mean FROM arm_means WHERE policy = 'baseline' AND metric = 'crimes_total'"
        ).fetchone()
        assert means is not None and means[0] == 3
        assert con.execute("SELECT count(*) FROM timeseries").fetchone() == (6 * 48,)
    finally:
        con.close()


def test_survey_waves_are_written_and_runs_from_before_the_survey_stay_complete(tmp_path: Path, net) -> None:  # type: ignore[no-untyped-def]
    wave = {"wave": [0], "time_min": [0.0], "day": [0.0], "measure": ["trust"], "n_approached": [300],
            "n_responded": [120], "estimate": [0.62], "std_error": [0.01], "ci_low": [0.6], "ci_high": [0.64],
            "true_mean": [0.6]}  # fmt: skip
    runs = []
    for seed in (0, 1):
        result = fake_result(net, "baseline", seed)
        result.survey = pd.DataFrame(wave)  # type: ignore[attr-defined]
        runs.append(write_run(tmp_path / f"seed={seed}", result, wall_time_s=1.0))
    assert pd.read_parquet(runs[0] / "survey.parquet")["estimate"].tolist() == [0.62]
    # a run written before survey.parquet existed: its marker does not list it
    old = runs[1]
    marker = json.loads((old / COMPLETE_MARKER).read_text())
    del marker["files"]["survey.parquet"]
    (old / COMPLETE_MARKER).write_text(json.dumps(marker))
    (old / "survey.parquet").unlink()
    assert check_run(old).complete
    sweep = load_sweep(tmp_path)
    assert len(sweep.runs) == 2 and not sweep.problems
    db = write_database(sweep, tmp_path / "results.duckdb")
    con = duckdb.connect(str(db))
    try:
        assert con.execute("SELECT run_dir, estimate FROM survey").fetchall() == [("seed=0", 0.62)]
    finally:
        con.close()
