"""The commands a user runs: precinct network info / run / compare, and how they fail on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.cli import main
from sim.network import describe, load_network
from sim.results import COMPLETE_MARKER, is_run_complete
from tests.conftest import FIXTURE_CITY, REPO, shared_osm_files, skip_without_shared
from tests.experiments.fakes import write_fake_sweep

TINY = ["city=west_oakland", "sim.days=1", "population=small"]


def precinct(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run the installed command the way a user does (a fresh process, its own stdout/stderr)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def one_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    assert lines[0].startswith("precinct: error: "), lines[0]
    assert "Traceback" not in stderr
    return lines[0]


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- network info
def test_network_info_prints_the_network(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "network", "info", str(FIXTURE_CITY), "--network-type", "drive")
    assert code == 0
    info = describe(load_network(FIXTURE_CITY, network_type="drive"))
    fields = dict(
        line.split(None, 1) if "  " not in line else line.split("  ", 1) for line in out.splitlines()
    )
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    assert fields["nodes"] == f"{info['nodes']:,}"
    assert fields["edges"].startswith(f"{info['edges']:,}")
    assert fields["segments"].startswith(f"{info['segments']:,}")
    assert fields["street length"] == f"{info['street_km']:,.2f} km"
    assert fields["CRS"] == info["crs"]
    assert fields["components"].startswith(
        f"{info['components']} found, {info['components_dropped']} dropped"
    )
    assert fields["load time"].endswith(" s")
    assert fields["cache"] in ("hit", "miss (now cached)")
    assert "lon -122.3" in fields["bbox"]


def test_network_info_cache_flags(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["network", "info", str(FIXTURE_CITY), "--cache-dir", str(tmp_path / "cache")]
    assert "cache          miss (now cached)" in run_main(capsys, *args)[1]
    assert "cache          hit" in run_main(capsys, *args)[1]
    assert "cache          off" in run_main(capsys, *args, "--no-cache")[1]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing.osm.pbf", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: (d / "crimes.osm").write_text("id,lat,lon\n1,2,3\n") and d / "crimes.osm", "crimes.osm"),
    ],
    ids=["missing", "directory", "csv-renamed"],
)
def test_network_info_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make, expected: str
) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    code, out, err = run_main(capsys, "network", "info", str(path))
    assert code == 2
    assert expected in one_error_line(err)
    assert out == ""


# --------------------------------------------------------------------------- run: validation at start
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["sim.days=-1"], "sim.days=-1.0 is not allowed: expected a positive finite number"),
        (["policy=nope"], "unknown policy 'nope': choose one of baseline"),
        (["sim.dayz=1"], "sim.dayz"),
        (["sim.days=abc"], "could not be converted to Float"),
        (["police.n_officers=0"], "police.n_officers=0"),
        (["city.path=/no/such/city.osm.pbf"], "/no/such/city.osm.pbf: no such file"),
        (["city=custom"], "city.path=''"),
        (["-m", *TINY, "seed=0,1", "sim.days=1,-5"], "sim.days=-5.0 is not allowed"),
    ],
)
def test_run_rejects_bad_config_before_running(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    overrides: list[str],
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_main(capsys, "run", *overrides)
    assert code == 2
    assert expected in one_error_line(err)
    assert not (tmp_path / "outputs").exists(), "nothing may run (or create folders) when the config is bad"


def test_run_passes_hydra_flags_through(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "run", "--cfg", "job", "policy=baseline", "seed=7")
    assert code == 0
    assert "seed: 7" in out and "baseline:" in out


# --------------------------------------------------------------------------- run: the real model
def test_run_writes_a_complete_run_then_skips_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = precinct("run", *TINY, "seed=2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    run_dir = tmp_path / "outputs" / "runs" / "adhoc" / "city=west_oakland,population=small,seed=2,sim.days=1"
    assert is_run_complete(run_dir)
    assert "done baseline seed=2" in first.stdout
    info = json.loads((run_dir / "run.json").read_text())
    assert info["seed"] == 2 and info["overrides"] == [*TINY, "seed=2"]
    # a single run shows its set-up and run bars, and logs its peak memory (issue 15)
    assert "set-up" in first.stderr and "run:" in first.stderr and "GiB" in first.stderr
    assert "peak memory" in first.stdout and info["peak_rss_bytes"] > 0
    log = (run_dir / "precinct.log").read_text()
    assert "peak memory" in log
    config = json.loads((run_dir / "config.json").read_text())
    assert config["city"]["path"] == str(FIXTURE_CITY) and config["sim"]["days"] == 1.0
    marker = run_dir / COMPLETE_MARKER
    mtime = marker.stat().st_mtime_ns

    # the same command again (in-process from here on, to keep the suite fast): nothing to do
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_main(capsys, "run", *TINY, "seed=2")
    assert code == 0 and "skip (complete)" in out
    assert marker.stat().st_mtime_ns == mtime

    # same folder, different configuration: redone, never silently reused
    fixed_dir = tmp_path / "fixed"
    fixed = [*TINY, "seed=2", f"hydra.run.dir={fixed_dir}"]
    assert run_main(capsys, "run", *fixed)[0] == 0
    code, out, err = run_main(capsys, "run", *fixed, "crime.base_rate_per_hour=0.3")
    assert code == 0, err
    assert "rerun (configuration changed)" in out
    assert json.loads((fixed_dir / "config.json").read_text())["crime"]["base_rate_per_hour"] == 0.3
    code, out, _ = run_main(capsys, "run", *fixed, "crime.base_rate_per_hour=0.3", "resume=false")
    assert code == 0 and "done " in out and "skip" not in out


# --------------------------------------------------------------------------- compare
def test_compare_reports_broken_runs_and_carries_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = write_fake_sweep(tmp_path / "sweep", seeds=range(3))
    (runs[0] / COMPLETE_MARKER).unlink()  # killed before it finished
    (runs[4] / "events.parquet").write_bytes(b"garbage")  # damaged afterwards
    code, out, err = run_main(capsys, "compare", str(tmp_path / "sweep"), "--out", str(tmp_path / "report"))
    assert code == 0, err
    assert f"skipped {runs[0].name}: partial" in err
    assert f"skipped {runs[4].name}: corrupt" in err
    for name in ("report.html", "summary.parquet", "summary.csv", "results.duckdb"):
        assert (tmp_path / "report" / name).is_file(), name
    assert str((tmp_path / "report" / "report.html").resolve()) in out
    page = (tmp_path / "report" / "report.html").read_text()
    assert runs[0].name in page and runs[4].name in page, "the report lists what it left out"


def test_compare_without_runs_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = run_main(capsys, "compare", str(tmp_path / "empty"))
    assert code == 2
    assert "no complete runs to compare" in one_error_line(err)
    code, _, err = run_main(capsys, "compare", str(tmp_path / "nope"))
    assert code == 2 and "not a directory" in one_error_line(err)


# --------------------------------------------------------------------------- demo (make run)
def test_demo_runs_the_default_experiment_then_compares(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import experiments.cli as cli
    import experiments.compare as compare

    calls: list[tuple[list[str], bool]] = []
    monkeypatch.setattr(
        cli, "run_hydra", lambda overrides, *, multirun: calls.append((list(overrides), multirun))
    )
    monkeypatch.setattr(compare, "compare_runs", lambda sweep_dir, **kw: Path(sweep_dir) / "report.html")
    monkeypatch.chdir(tmp_path)

    code, out, _ = run_main(capsys, "demo")
    assert code == 0
    overrides, multirun = calls[-1]
    assert multirun
    assert overrides[:3] == [
        "experiment=compare_strategies",
        "name=compare_strategies",
        "hydra.sweep.dir=outputs/sweeps/compare_strategies",
    ]
    assert str((tmp_path / "outputs/sweeps/compare_strategies/report.html").resolve()) in out

    code, out, _ = run_main(capsys, "demo", "--quick", "--fresh")
    overrides, _ = calls[-1]
    assert "name=compare_strategies_quick" in overrides and "resume=false" in overrides
    assert {"sim.days=2", "seed=range(0,3)"} <= set(overrides)


@pytest.mark.slow
def test_demo_quick_end_to_end(tmp_path: Path) -> None:
    """`precinct demo --quick` on the bundled City of London: every arm runs and the report is written."""
    result = precinct("demo", "--quick", cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = tmp_path / "outputs" / "sweeps" / "compare_strategies_quick" / "report.html"
    assert report.is_file()
    assert f"Strategy comparison report: {report.resolve()}" in result.stdout
    assert "none in baseline" not in report.read_text()  # there is crime to compare


@skip_without_shared()
@pytest.mark.parametrize("path", shared_osm_files(), ids=lambda p: p.name)
def test_network_info_on_every_shared_extract(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    """Every extract a user might hand us, filtered or as published, in every format."""
    code, out, err = run_main(capsys, "network", "info", str(path), "--network-type", "all")
    assert code == 0, err
    net = load_network(path, network_type="all")
    assert f"{net.n_nodes:,}" in out and "EPSG:326" in out and "load time" in out
