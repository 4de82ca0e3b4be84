"""The first parts of a run's set-up: streams, head-counts, router, land use, environment and offenders.

:class:`sim.model.PrecinctModel` builds its runs with :func:`build_offending_side`, and the
calibration (``experiments.exposure.build_population``) the synthetic populations it expects those
runs to have, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core_ext import Router
from sim.agents import offender as off
from sim.config import ModelConfig
from sim.environment import Environment
from sim.landuse import LandUse
from sim.network import StreetNetwork
from sim.scale import Headcounts, resolve_headcounts, with_headcounts
from sim.streams import city_rngs, run_rngs

__all__ = ["LANDMARKS", "OffendingSide", "build_offending_side"]

# ALT landmarks of the model's router: 16 halve to third the nodes an A* route settles on a city's
# streets (2.7x faster on Portland's), for 256 bytes a node (docs/performance.md)
LANDMARKS = 16


@dataclass(frozen=True)
class OffendingSide:
    """The parts of a run that say where its offenders live, know and search, built as every run builds them."""

    config: ModelConfig
    """The run's config with its head-counts resolved (``headcounts``)."""
    headcounts: Headcounts
    rngs: dict[str, np.random.Generator]
    """The run's streams (``sim.streams.run_rngs`` of its seed)."""
    build: dict[str, np.random.Generator]
    """The synthetic city's streams (``population.seed`` when set, else the run's)."""
    router: Router
    land: LandUse
    env: Environment
    home_weights: NDArray[np.float64]
    offenders: off.Offenders


def build_offending_side(
    config: ModelConfig, net: StreetNetwork, *, landmarks: int = LANDMARKS
) -> OffendingSide:
    """Build the streams, head-counts, router, land use, environment and offenders of a run of ``config``.

    :class:`PrecinctModel` builds its runs' with it, and the calibration
    (``experiments.exposure.build_population``) the populations it expects those runs to have, so
    the two cannot drift apart. Each part draws from its own named stream, so building the
    residents after it (as the model does) changes none of its draws. ``landmarks`` only speeds
    the router's point-to-point searches up; its routes are the same with any number.
    """
    headcounts = resolve_headcounts(config, net)
    config = with_headcounts(config, headcounts)
    rngs = run_rngs(config.seed)
    build = city_rngs(config.population.seed, rngs)  # the city's: population.seed, if set
    router = Router(net.indptr, net.indices, net.edge_length_m, node_xy=net.node_xy, landmarks=landmarks)
    # the city's places: where people live, work and go out, and what draws and tempts offenders
    land = LandUse.from_network(net)
    env = Environment(net, config.crime, build["environment"], router, land.attractors())
    home_w = land.home_weights(net)
    # who starts in an active spell is the run's, not the city's
    offenders = off.Offenders(
        net, config.population, build["offenders"], router, home_w, spell_rng=rngs["offenders"]
    )
    return OffendingSide(config, headcounts, rngs, build, router, land, env, home_w, offenders)
