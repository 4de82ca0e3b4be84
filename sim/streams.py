"""A run's random streams: one ``SeedSequence`` per run spawned by name, and the synthetic city's.

Each process of the model draws from its own stream (:data:`RNG_STREAMS`), so that the same seed
gives the same residents, offenders and routines in every policy arm (common random numbers). The
streams that build the synthetic city (:data:`CITY_STREAMS`) come from ``population.seed`` instead
when it is set, so runs of any seed share one city and differ only in what happens in it
(docs/model.md, "Stochasticity"; a calibration fixes it: docs/calibration.md).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CITY_STREAMS", "RNG_STREAMS", "city_rngs", "run_rngs"]

# new streams go last: spawned seeds depend on position, so the others keep theirs
RNG_STREAMS = ("population", "offenders", "environment", "routine", "offending", "victims", "reporting",
               "patrol", "policy", "survey")  # fmt: skip
# the streams that build the synthetic city: residents, offenders' homes and anchors, the streets'
# risky-facility term. "population" and "environment" draw only then; "offenders" also steers
# offenders' outings during the run, so with population.seed set the run keeps its own stream for that
CITY_STREAMS = ("population", "offenders", "environment")
# population.seed spawns the city's streams from this child of its SeedSequence: far past the run's
# streams (children 0.. of a run's seed), so no run stream, present or added later, shares its draws
_CITY_BRANCH = 1_000


def run_rngs(seed: int) -> dict[str, np.random.Generator]:
    """Return one generator per name of :data:`RNG_STREAMS`, spawned from the run's ``seed``."""
    streams = np.random.SeedSequence(seed).spawn(len(RNG_STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(RNG_STREAMS, streams, strict=True)}


def city_rngs(
    population_seed: int | None, rngs: dict[str, np.random.Generator]
) -> dict[str, np.random.Generator]:
    """Return the generators that build the synthetic city (:data:`CITY_STREAMS`).

    ``population_seed`` None: the run's own streams ``rngs``, so the run's seed draws its city (the
    behaviour before ``population.seed`` existed, event for event). Set: streams of their own, spawned
    from the population seed's child ``_CITY_BRANCH``, which no run's seed spawns, so the city is the
    same whatever the run's seed and its draws share nothing with the run's.
    """
    if population_seed is None:
        return {name: rngs[name] for name in CITY_STREAMS}
    branch = np.random.SeedSequence(population_seed, spawn_key=(_CITY_BRANCH,))
    return {
        name: np.random.default_rng(s)
        for name, s in zip(CITY_STREAMS, branch.spawn(len(CITY_STREAMS)), strict=True)
    }
