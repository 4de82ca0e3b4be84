"""Entry points: the ``precinct`` command, the Hydra app, sweeps and the strategy-comparison report.

Only this package imports Hydra and matplotlib; ``sim`` stays usable from a notebook without them.
Modules: :mod:`experiments.cli` (the command), :mod:`experiments.app` (Hydra task),
:mod:`experiments.configuration` (schemas, validation, run folders), :mod:`experiments.progress`
(sweep progress), :mod:`experiments.compare`, :mod:`experiments.report`, :mod:`experiments.wording`,
:mod:`experiments.figures`.
"""

__all__: list[str] = []
