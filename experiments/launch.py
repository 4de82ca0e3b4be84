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
    try:
        with quiet_schema_matching():
            app.main()
    finally:
        sys.argv = saved
        GlobalHydra.instance().clear()
        for name, disabled in loggers.items():
            logging.getLogger(name).disabled = disabled
    return output_dir
