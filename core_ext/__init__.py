"""Compiled kernels of Precinct: routing, movement and hotspots on contiguous-index CSR street graphs.

Every public function validates its inputs (dtype, shape, index range) and raises a ``ValueError``
naming the argument; the Cython kernels behind them see only typed memoryviews, release the GIL and
draw no random numbers.  Graphs are CSR arrays as in ``sim.network.StreetNetwork``: ``indptr`` (int64,
n_nodes + 1), ``indices`` (int64, head node per edge; an edge's id is its CSR position) and float64
edge weights (``edge_length_m`` or ``edge_travel_time_s``).  Read-only arrays are accepted everywhere.

Routing: :func:`shortest_path_lengths`, :func:`nearest_sources`, :func:`transpose_csr` and
:class:`Router` (validate once; bounded search, A* routes, batch routes, routes read off one
shortest-path tree per origin, nearest source).
Movement: :func:`advance_along_routes`, :func:`count_occupancy`, :func:`group_by_key`,
:func:`match_routine_trips`.
Routine: ``core_ext._routine``, the residents' wake-up calendar, departures and arrivals as arrays
the caller owns (``sim.agents._calendar.WakeCalendar``, ``sim.agents.resident.Residents``).
Hotspots: :class:`NetworkKDE` (set up once, refresh by one sparse mat-vec), :func:`network_kde`,
:func:`grid_kde`, :func:`select_hotspots`, :func:`reach_maxima_at` (a field of sources'
reaches asked at a few places).
"""

from __future__ import annotations

import importlib
from pathlib import Path

_FIX = "run `make build` (or `python setup.py build_ext --inplace`)"
_COMPILED = ("_routing", "_movement", "_hotspot", "_routine")


def _check_build() -> None:
    """Fail loudly, naming the fix, when a kernel is not built or older than its Cython source."""
    here = Path(__file__).parent
    shared = [p.stat().st_mtime for p in here.glob("*.pxd")]
    for name in _COMPILED:
        try:
            module = importlib.import_module(f"core_ext.{name}")
        except ImportError as exc:
            raise ImportError(f"core_ext.{name} is not built: {_FIX}") from exc
        source = here / f"{name}.pyx"
        built = Path(module.__file__ or "")
        stale = (
            source.exists()
            and built.exists()
            and (max([source.stat().st_mtime, *shared]) > built.stat().st_mtime)
        )
        if stale:
            raise ImportError(f"core_ext.{name} is older than {source.name}: {_FIX}")


_check_build()

from core_ext._hotspot_wrappers import (  # noqa: E402
    NetworkKDE,
    grid_kde,
    network_kde,
    reach_maxima_at,
    select_hotspots,
)
from core_ext._movement_wrappers import (  # noqa: E402
    advance_along_routes,
    count_occupancy,
    group_by_key,
    match_routine_trips,
)
from core_ext._routing_wrappers import (  # noqa: E402
    Router,
    nearest_sources,
    shortest_path_lengths,
    transpose_csr,
)

__all__ = [
    "NetworkKDE",
    "Router",
    "advance_along_routes",
    "count_occupancy",
    "grid_kde",
    "group_by_key",
    "match_routine_trips",
    "nearest_sources",
    "network_kde",
    "reach_maxima_at",
    "select_hotspots",
    "shortest_path_lengths",
    "transpose_csr",
]
