"""Run results on disk: atomic writes, a completeness marker, and sweeps loaded into DuckDB and tidy tables.

One run writes into its own directory::

    events.parquet  timeseries.parquet  segments.parquet  actions.parquet  survey.parquet
    metrics.json  config.yaml  config.json  run.json  _COMPLETE

Every file is written to a temporary name in the same directory, flushed to disk and renamed into
place, so a killed run never leaves a file that looks whole. ``_COMPLETE`` is written last and lists
every file with its size and sha256; :func:`is_run_complete` checks them, which is what makes a sweep
resumable and lets ``precinct compare`` tell a partial or corrupt run from a good one. Nothing here
imports Hydra: a notebook can call :func:`write_run` and :func:`load_sweep` directly.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from sim.config import config_to_dict, repo_root
from sim.errors import ResultsError
from sim.policies.registry import policy_specs, reference_policy
from sim.survey import SURVEY_COLUMNS

if TYPE_CHECKING:
    from sim.outputs import SimulationResult

__all__ = [
    "COMPLETE_MARKER",
    "RESULT_FILES",
    "RunCheck",
    "Sweep",
    "check_run",
    "config_fingerprint",
    "find_runs",
    "flatten_config",
    "is_run_complete",
    "load_sweep",
    "policy_label",
    "summary_table",
    "write_database",
    "write_file",
    "write_run",
    "write_table",
]

COMPLETE_MARKER = "_COMPLETE"
TABLE_FILES = (
    "events.parquet",
    "timeseries.parquet",
    "segments.parquet",
    "actions.parquet",
    "survey.parquet",
)
RESULT_FILES = (*TABLE_FILES, "metrics.json", "config.yaml", "config.json", "run.json")
# Files added since format 1: a run whose marker does not list them predates them and is still whole.
_ADDED_LATER = ("survey.parquet",)
FORMAT_VERSION = 1
_VERSIONED = ("precinct", "numpy", "pandas", "pyarrow", "scipy", "networkx", "osmnx", "mesa", "hydra-core")


# --------------------------------------------------------------------------- atomic writes
def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some filesystems do not allow opening directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, write: Any) -> str:
    """Write via ``write(file_object)`` to a temp file beside ``path``, fsync, rename; return sha256."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w+b") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
            fh.seek(0)
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return digest


def _write_bytes(path: Path, data: bytes) -> str:
    return _atomic_write(path, lambda fh: fh.write(data))


def _write_parquet(path: Path, df: pd.DataFrame) -> str:
    return _atomic_write(path, lambda fh: df.to_parquet(fh, index=False))


def _json_safe(obj: Any) -> Any:
    """Replace NaN and infinities with null: JSON has no such numbers and DuckDB rejects them."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _json_safe(obj.item())
    return obj


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(_json_safe(obj), indent=2, sort_keys=False, allow_nan=False) + "\n").encode()


def write_file(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write bytes or UTF-8 text to ``path`` atomically (temp file beside it, fsync, rename)."""
    target = Path(path)
    _write_bytes(target, data.encode() if isinstance(data, str) else data)
    return target


def write_table(path: str | os.PathLike[str], df: pd.DataFrame) -> Path:
    """Write a DataFrame atomically as Parquet (``.parquet``) or CSV (``.csv``), by the file's suffix."""
    target = Path(path)
    if target.suffix == ".parquet":
        _write_parquet(target, df)
    elif target.suffix == ".csv":
        _write_bytes(target, df.to_csv(index=False).encode())
    else:
        raise ValueError(f"{target}: write_table writes .parquet or .csv files")
    return target


# --------------------------------------------------------------------------- one run
def config_fingerprint(config: Any) -> str:
    """Return the sha256 of a config (ModelConfig or plain dict) in canonical JSON form.

    A calibration's per-segment priors (``crime.segment_prior``) count by content, not by path, so
    a run of a city calibrated again under the same name is not mistaken for a finished one.
    """
    data = _json_safe(config_to_dict(config))
    prior = data.get("crime", {}).get("segment_prior") if isinstance(data, dict) else None
    if prior and Path(prior).is_file():
        data["crime"]["segment_prior_sha256"] = _sha256_file(Path(prior))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def policy_label(policies: Mapping[str, Any] | Iterable[str]) -> str:
    """Return the arm label of a set of policies: ``"baseline"`` or e.g. ``"targeted_patrol+cpted"``.

    The reference strategy (random patrol) underlies every other, so it only names the arm when it
    stands alone; the others are in the registry's display order.
    """
    reference = reference_policy()
    rank = {s.name: i for i, s in enumerate(policy_specs())}
    names = sorted((n for n in policies if n != reference), key=lambda n: (rank.get(n, len(rank)), n))
    return "+".join(names) if names else reference


@lru_cache(maxsize=1)
def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(repo_root()), *args], capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": None if dirty is None else bool(dirty)}


@lru_cache(maxsize=1)
def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def write_run(
    run_dir: str | os.PathLike[str],
    result: SimulationResult,
    *,
    wall_time_s: float,
    config_sha256: str | None = None,
    info: Mapping[str, Any] | None = None,
) -> Path:
    """Write one run's results atomically, then the ``_COMPLETE`` marker; return the run directory.

    Parameters
    ----------
    run_dir
        Output directory (created if needed). Existing result files are replaced.
    result
        What :func:`sim.model.run_simulation` returned.
    wall_time_s
        Wall-clock seconds the run took (recorded in ``run.json``).
    config_sha256
        Fingerprint of the configuration the run was asked for (what resuming compares against);
        default: :func:`config_fingerprint` of ``result.config``.
    info
        Extra entries for ``run.json`` (e.g. the Hydra overrides of the job).
    """
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    marker = out / COMPLETE_MARKER
    marker.unlink(missing_ok=True)  # a rewrite is incomplete until its new marker exists
    fingerprint = config_sha256 or config_fingerprint(result.config)
    config = _json_safe(config_to_dict(result.config))
    net = result.network
    run_info = {
        "seed": int(result.seed),
        "policy": policy_label(config.get("policies", {})),
        "config_sha256": fingerprint,
        "network_content_hash": getattr(net, "content_hash", None),
        "network": {"nodes": net.n_nodes, "edges": net.n_edges, "segments": net.n_segments, "crs": net.crs},
        "wall_time_s": float(wall_time_s),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "versions": _versions(),
        **_git_state(),
        **dict(info or {}),
    }
    digests = {
        "events.parquet": _write_parquet(out / "events.parquet", result.events),
        "timeseries.parquet": _write_parquet(out / "timeseries.parquet", result.timeseries),
        "segments.parquet": _write_parquet(out / "segments.parquet", result.segments),
        "actions.parquet": _write_parquet(out / "actions.parquet", result.actions),
        "survey.parquet": _write_parquet(out / "survey.parquet", _survey_table(result)),
        "metrics.json": _write_bytes(out / "metrics.json", _json_bytes(result.metrics)),
        "config.yaml": _write_bytes(out / "config.yaml", yaml.safe_dump(config, sort_keys=False).encode()),
        "config.json": _write_bytes(out / "config.json", _json_bytes(config)),
        "run.json": _write_bytes(out / "run.json", _json_bytes(run_info)),
    }
    files = {name: {"bytes": (out / name).stat().st_size, "sha256": sha} for name, sha in digests.items()}
    completed = {
        "format": FORMAT_VERSION,
        "completed_at": run_info["finished_at"],
        "config_sha256": fingerprint,
        "files": files,
    }
    _write_bytes(marker, _json_bytes(completed))
    return out


def _survey_table(result: SimulationResult) -> pd.DataFrame:
    """Return the run's survey waves; an empty table for a result made without them (older or stand-ins)."""
    survey = getattr(result, "survey", None)
    if not isinstance(survey, pd.DataFrame):
        return pd.DataFrame({k: pd.Series(dtype=t) for k, t in SURVEY_COLUMNS.items()})
    return survey


# --------------------------------------------------------------------------- completeness
@dataclass(frozen=True)
class RunCheck:
    """Whether a directory holds a complete run, and if not, what is wrong with it."""

    path: Path
    complete: bool
    problem: str | None = None
    config_sha256: str | None = None


def _sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def check_run(run_dir: str | os.PathLike[str], *, verify_hashes: bool = True) -> RunCheck:
    """Check a run directory against its ``_COMPLETE`` marker (sizes, and sha256 unless told not to)."""
    path = Path(run_dir)
    marker = path / COMPLETE_MARKER
    if not marker.is_file():
        present = [n for n in RESULT_FILES if (path / n).exists()]
        what = f"only {', '.join(present)} written" if present else "no results written"
        return RunCheck(
            path, False, f"partial: {what}, no {COMPLETE_MARKER} marker (interrupted or failed run)"
        )
    try:
        content = json.loads(marker.read_text())
        files: dict[str, dict[str, Any]] = content["files"]
        fingerprint = content.get("config_sha256")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return RunCheck(path, False, f"corrupt: {COMPLETE_MARKER} unreadable ({exc})")
    for name in RESULT_FILES:
        entry = files.get(name)
        target = path / name
        if entry is None and name in _ADDED_LATER:
            continue
        if entry is None:
            return RunCheck(path, False, f"corrupt: {COMPLETE_MARKER} does not list {name}")
        if not target.is_file():
            return RunCheck(path, False, f"corrupt: {name} is missing")
        size = target.stat().st_size
        if size != entry.get("bytes"):
            return RunCheck(
                path, False, f"corrupt: {name} has {size} bytes, {entry.get('bytes')} were written"
            )
        if verify_hashes and _sha256_file(target) != entry.get("sha256"):
            return RunCheck(path, False, f"corrupt: {name} changed after the run completed (sha256 differs)")
    return RunCheck(path, True, None, fingerprint)


def is_run_complete(
    run_dir: str | os.PathLike[str], *, config_sha256: str | None = None, verify_hashes: bool = True
) -> bool:
    """Return True if ``run_dir`` holds a complete, intact run (made with ``config_sha256`` if given)."""
    check = check_run(run_dir, verify_hashes=verify_hashes)
    return check.complete and (config_sha256 is None or check.config_sha256 == config_sha256)


def _looks_like_run(path: Path, names: set[str]) -> bool:
    return COMPLETE_MARKER in names or ".hydra" in names or any(n in names for n in RESULT_FILES)


def find_runs(root: str | os.PathLike[str]) -> tuple[list[Path], list[RunCheck]]:
    """Find run directories under ``root``: (complete runs, checks of the partial or corrupt ones)."""
    base = Path(root)
    if not base.is_dir():
        raise ResultsError(f"{base}: not a directory; give the sweep or run directory to compare")
    complete: list[Path] = []
    problems: list[RunCheck] = []
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        names = set(filenames) | set(dirnames)
        if _looks_like_run(here, names):
            dirnames[:] = []  # a run has no runs inside
            check = check_run(here)
            (complete.append(here) if check.complete else problems.append(check))
        else:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
    return sorted(complete), sorted(problems, key=lambda c: c.path)


# --------------------------------------------------------------------------- sweeps and tables
def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten a nested config dict into ``section_key`` columns (lists and dicts of lists as JSON)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if key == "policies":
            name = "policy"
        if isinstance(value, Mapping) and value:
            out.update(flatten_config(value, f"{name}_"))
        elif isinstance(value, list | tuple | Mapping):
            out[name] = json.dumps(value)
        else:
            out[name] = value
    return out


@dataclass
class Sweep:
    """The complete runs of a sweep directory, loaded: one row per run, one row per run x metric."""

    root: Path
    runs: pd.DataFrame
    """``run_dir`` (relative to root), ``policy``, ``seed``, ``wall_time_s``, network hash, config columns."""
    metrics: pd.DataFrame
    """Tidy: ``run_dir``, ``metric``, ``value``."""
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Resolved config of each run, keyed by ``run_dir``."""
    problems: list[RunCheck] = field(default_factory=list)

    def path(self, run_dir: str, name: str) -> Path:
        """Return the path of one result file of one run."""
        return self.root / run_dir / name


def load_sweep(root: str | os.PathLike[str]) -> Sweep:
    """Load every complete run under ``root``; partial or corrupt runs are listed in ``problems``."""
    base = Path(root).resolve()
    complete, problems = find_runs(base)
    rows, metric_rows, configs = [], [], {}
    for path in complete:
        rel = path.relative_to(base).as_posix() or "."
        try:
            config = json.loads((path / "config.json").read_text())
            info = json.loads((path / "run.json").read_text())
            metrics = json.loads((path / "metrics.json").read_text())
        except (OSError, ValueError) as exc:
            problems.append(RunCheck(path, False, f"corrupt: unreadable JSON ({exc})"))
            continue
        configs[rel] = config
        flat = flatten_config({k: v for k, v in config.items() if k != "policies"})
        rows.append(
            {
                "run_dir": rel,
                "policy": policy_label(config.get("policies", {})),
                "seed": int(config.get("seed", info.get("seed", -1))),
                "wall_time_s": info.get("wall_time_s"),
                "network_content_hash": info.get("network_content_hash"),
                "policy_params": json.dumps(config.get("policies", {}), sort_keys=True),
                **{k: v for k, v in flat.items() if k != "seed"},
            }
        )
        metric_rows += [
            {"run_dir": rel, "metric": k, "value": float("nan") if v is None else float(v)}
            for k, v in metrics.items()
            if v is None or isinstance(v, int | float)
        ]
    runs = pd.DataFrame(rows)
    metrics_df = pd.DataFrame(metric_rows, columns=["run_dir", "metric", "value"])
    return Sweep(base, runs, metrics_df, configs, sorted(problems, key=lambda c: c.path))


def summary_table(sweep: Sweep) -> pd.DataFrame:
    """Return the tidy summary: one row per run x metric, with the run's policy, seed and config columns."""
    if sweep.runs.empty:
        return pd.DataFrame(columns=["run_dir", "policy", "seed", "metric", "value"])
    lead = ["run_dir", "policy", "seed"]
    merged = sweep.metrics.merge(sweep.runs, on="run_dir", how="left")
    rest = [c for c in sweep.runs.columns if c not in lead]
    return merged[[*lead, "metric", "value", *rest]].sort_values(
        ["policy", "seed", "metric"], ignore_index=True
    )


def write_database(sweep: Sweep, db_path: str | os.PathLike[str]) -> Path:
    """Write ``results.duckdb``: tables runs, metrics, segments, timeseries, survey; views events, summary, arm_means.

    ``segments``, ``timeseries`` and ``survey`` are copied from the runs' Parquet files (with ``run_dir``;
    ``survey`` from the runs that have one);
    ``events`` stays a view over the Parquet files, which can be large. Written to a temp file and
    renamed, like every result file.
    """
    import duckdb

    target = Path(db_path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    runs = sweep.runs if not sweep.runs.empty else pd.DataFrame({"run_dir": pd.Series(dtype=str)})
    root = sweep.root.as_posix()
    # run_dir of a Parquet row = its file's directory relative to the sweep root ("." for the root)
    run_dir_sql = (
        f"CASE WHEN regexp_replace(filename, '/[^/]*$', '') = {root!r} THEN '.' "
        f"ELSE replace(regexp_replace(filename, '/[^/]*$', ''), {root + '/'!r}, '') END"
    )
    con = duckdb.connect(str(tmp))
    try:
        con.register("runs_df", runs)
        con.register("metrics_df", sweep.metrics)
        con.execute("CREATE TABLE runs AS SELECT * FROM runs_df")
        con.execute("CREATE TABLE metrics AS SELECT * FROM metrics_df")
        for table in ("segments", "timeseries", "survey", "events"):
            paths = [sweep.path(r, f"{table}.parquet").as_posix() for r in runs["run_dir"]]
            paths = [p for p in paths if table != "survey" or Path(p).is_file()]
            if not paths:
                continue
            source = f"read_parquet({paths!r}, filename = true, union_by_name = true)"
            rows = f"SELECT {run_dir_sql} AS run_dir, * EXCLUDE (filename) FROM {source}"
            # events can be large: keep them as a view over the Parquet files
            kind = "VIEW" if table == "events" else "TABLE"
            con.execute(
                f"CREATE {kind} {table} AS SELECT t.run_dir, r.policy, r.seed, t.* EXCLUDE (run_dir) "
                f"FROM ({rows}) t JOIN runs r USING (run_dir)"
            )
        con.execute(
            "CREATE VIEW summary AS SELECT m.run_dir, r.policy, r.seed, m.metric, m.value "
            "FROM metrics m JOIN runs r USING (run_dir)"
        )
        con.execute(
            "CREATE VIEW arm_means AS SELECT policy, metric, count(*) AS n_runs, avg(value) AS mean, "
            "stddev_samp(value) AS sd FROM summary GROUP BY policy, metric"
        )
    finally:
        con.close()
    os.replace(tmp, target)
    _fsync_dir(target.parent)
    return target
