"""The Hydra application: one job = one simulation run written to its own folder, skipped if already complete.

``precinct run [-m] OVERRIDES`` calls :func:`main` (so does ``python -m experiments.app``). Each job
builds and validates a :class:`sim.config.ModelConfig` from the composed config, checks whether its
output folder already holds a complete run of the same configuration (then it prints
``skip (complete)`` and returns: that is what makes a rerun of a killed sweep redo only what was
unfinished), runs :func:`sim.model.run_simulation` and writes the results atomically with
:func:`sim.results.write_run`.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from experiments.configuration import CONF_DIR, build_model_config, register_resolvers, register_schemas
from sim.errors import PrecinctError
from sim.results import check_run, config_fingerprint, policy_label, write_run

__all__ = ["JobFailed", "main", "run_job"]

_log = logging.getLogger("precinct")

register_resolvers()
register_schemas()


class JobFailed(PrecinctError):
    """A run failed for a reason Precinct reports (bad input); carries one plain message across processes."""


def run_job(cfg: DictConfig) -> str:
    """Run (or skip) the job described by ``cfg`` inside a Hydra job; return ``"done"`` or ``"skipped"``."""
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    try:
        model_cfg, settings = build_model_config(cfg, cwd=hc.runtime.cwd, overrides=list(hc.overrides.task))
        fingerprint = config_fingerprint(model_cfg)
        label = f"{policy_label(model_cfg.policies)} seed={model_cfg.seed}"
        if settings.resume:
            check = check_run(out_dir)
            if check.complete and check.config_sha256 == fingerprint:
                _say(f"skip (complete) {label}: {out_dir}", flush=True)
                return "skipped"
            if check.complete:
                _say(f"rerun (configuration changed) {label}: {out_dir}", flush=True)

        from experiments.progress import RunProgress
        from sim.model import run_simulation
        from sim.progress import peak_memory_bytes

        # a single run shows its own bars; a sweep's callback shows the runs done instead
        bars = None if multirun or os.environ.get("PRECINCT_QUIET") else RunProgress()
        t0 = time.perf_counter()
        try:
            result = run_simulation(model_cfg, progress=bars)
        finally:
            if bars is not None:
                bars.close()
        wall = time.perf_counter() - t0
        peak = peak_memory_bytes()
        _log.info("run took %.1f s; peak memory %.2f GiB (ru_maxrss)", wall, peak / 2**30)
        write_run(
            out_dir,
            result,
            wall_time_s=wall,
            config_sha256=fingerprint,
            info={
                "overrides": list(hc.overrides.task),
                "choices": dict(hc.runtime.choices),
                "headcounts": result.extra.get("headcounts"),
                "peak_rss_bytes": peak,
            },
        )
    except PrecinctError as exc:
        # Re-raised as a plain-message error: the project's errors carry extra constructor
        # arguments and do not survive pickling back from a worker process.
        where = f"run {out_dir.name}: " if multirun else ""
        raise JobFailed(f"{where}{exc}") from None
    crimes = result.metrics.get("crimes_total", float("nan"))
    _say(f"done {label} in {wall:.1f} s ({crimes:.0f} crimes, peak memory {peak / 2**30:.2f} GiB): {out_dir}",
         flush=True)  # fmt: skip
    return "done"


def _say(line: str, **kwargs: object) -> None:
    """Print a job's line unless a calibration runs it (PRECINCT_QUIET: it prints its own progress)."""
    if not os.environ.get("PRECINCT_QUIET"):
        print(line, flush=True)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Hydra entry point (see module docstring)."""
    run_job(cfg)


if __name__ == "__main__":
    sys.exit(main())
