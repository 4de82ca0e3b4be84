"""Crime and policing measures computed from an event table, simulated or recorded by a real police force.

Every function here is pure: it takes a pandas DataFrame laid out as the event table of
``docs/architecture.md`` (or plain arrays) plus explicit keyword arguments, and returns a number,
an array or a tidy DataFrame. Crime rows are the rows whose ``kind`` is ``"crime"`` when a ``kind``
column exists, otherwise every row, so a real force's incident extract works unchanged once its
columns are renamed. Each measure names the study that defines it; ``docs/metrics.md`` has one
paragraph per measure.

One module per family: counts (``_common``), :mod:`~sim.metrics.concentration`,
:mod:`~sim.metrics.near_repeat`, :mod:`~sim.metrics.journey`, :mod:`~sim.metrics.response`,
:mod:`~sim.metrics.trust` and :mod:`~sim.metrics.hotspot_scoring`; use them through this package
(``from sim import metrics as m; m.knox_table(...)``).
"""

from sim.metrics._common import (
    count_crimes,
    count_crimes_per_segment,
    label_hours,
    label_night,
    select_crimes,
)
from sim.metrics.concentration import (
    concentration_curve,
    generalized_gini,
    gini,
    marginal_concentration,
    random_allocation_concentration,
    segments_holding_share,
    share_on_top_segments,
    summarize_concentration,
)
from sim.metrics.hotspot_scoring import pai, pai_for_segments, pai_from_counts
from sim.metrics.journey import DistanceDecay, fit_distance_decay, journey_to_crime
from sim.metrics.near_repeat import knox_table
from sim.metrics.response import (
    OFFICER_ACTIVITIES,
    compute_response_times,
    officer_time_budget,
    response_time_summary,
)
from sim.metrics.trust import mean_trust_by_area, reporting_rate

__all__ = [
    "OFFICER_ACTIVITIES",
    "DistanceDecay",
    "compute_response_times",
    "concentration_curve",
    "count_crimes",
    "count_crimes_per_segment",
    "fit_distance_decay",
    "generalized_gini",
    "gini",
    "journey_to_crime",
    "knox_table",
    "label_hours",
    "label_night",
    "marginal_concentration",
    "mean_trust_by_area",
    "officer_time_budget",
    "pai",
    "pai_for_segments",
    "pai_from_counts",
    "random_allocation_concentration",
    "reporting_rate",
    "response_time_summary",
    "segments_holding_share",
    "select_crimes",
    "share_on_top_segments",
    "summarize_concentration",
]
