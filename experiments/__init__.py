"""Entry points: the ``precinct`` command, the Hydra app, sweeps and the strategy-comparison report.

Only this package imports Hydra and matplotlib; ``sim`` stays usable from a notebook without them.
Modules: :mod:`experiments.cli` (the command), :mod:`experiments.app` (Hydra task),
:mod:`experiments.configuration` (schemas, validation, run folders), :mod:`experiments.progress`
(sweep progress), :mod:`experiments.compare` (effects of a sweep, into the data classes of
:mod:`experiments.comparison`), :mod:`experiments.report` (the HTML page, with :mod:`experiments.wording`
and :mod:`experiments.figures`; streets by name in :mod:`experiments.streets`, the interactive map in
:mod:`experiments.interactive`, value for money in :mod:`experiments.value`), :mod:`experiments.export`
(GIS files), :mod:`experiments.printing` (PDF) and :mod:`experiments.plan` (the budget search, with
:mod:`experiments.plan_choice` and :mod:`experiments.plan_words`).
Imports run one way: compare -> report -> wording -> comparison.
"""

__all__: list[str] = []
