"""Hand a ``precinct run [-m]`` command to the Hydra app, after validating every job's config.

Used by the command line (:mod:`experiments.cli`) and by the calibration, whose simulations are
sweeps like any other (so they run on the same launchers: joblib, Ray, SLURM).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

__all__ = ["run_hydra"]

# The working folder the joblib launcher's reusable workers were started in (_workers_follow_cwd).
_workers_cwd: str | None = None


def _workers_follow_cwd() -> None:
    """Restart joblib's reusable workers when this process's working folder changed since the last multirun.

    The joblib launcher runs jobs on loky's reusable pool, whose worker processes live on from one
    multirun to the next and keep the working folder they started in. Relative paths in a later
    multirun's overrides (a calibration's trial folders under ``outputs/``, ``city.path=map.osm``)
    would then be read in the old folder: a calibration after ``os.chdir`` failed with "no such
    calibration folder". From the command line the folder never changes and nothing is restarted.
    """
    global _workers_cwd
    cwd = os.getcwd()
    if _workers_cwd is not None and cwd != _workers_cwd:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    _workers_cwd = cwd


def run_hydra(overrides: Sequence[str], *, multirun: bool) -> str | None:
    """Validate every job's config, then hand the overrides to the Hydra app (experiments.app.main).

    Returns the run or sweep folder (None when Hydra flags such as ``--cfg`` were passed through).
    """
    from hydra.core.global_hydra import GlobalHydra

    from experiments import app
    from experiments.configuration import open_mapping_overrides, preflight, quiet_schema_matching

    overrides = open_mapping_overrides(overrides)
    output_dir = None
    if not any(o.startswith("-") for o in overrides):  # --cfg, --help, ... go straight to Hydra
        output_dir = preflight(overrides, multirun=multirun).output_dir
    saved = sys.argv
    sys.argv = ["precinct run", *(["--multirun"] if multirun else []), *overrides]
    # Let errors reach us unformatted, so bad input still ends as one line (see main()).
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    GlobalHydra.instance().clear()
    # Hydra configures logging with dictConfig; its "disabled" job logging (the calibration's and the
    # plan's runs) disables every logger that exists, which in-process would silence this process's own
    # loggers ("precinct": the network's warnings) for good. Put each back as it was.
    loggers = {name: lg.disabled for name, lg in logging.root.manager.loggerDict.items()
               if isinstance(lg, logging.Logger)}  # fmt: skip
    if multirun:
        _workers_follow_cwd()
    try:
        with quiet_schema_matching():
            app.main()
    finally:
        sys.argv = saved
        GlobalHydra.instance().clear()
        for name, disabled in loggers.items():
            logging.getLogger(name).disabled = disabled
    return output_dir
