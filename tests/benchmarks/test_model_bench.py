"""The whole model step at 100k agents beside an idiomatic plain-Mesa model of the same movement rule.

Ours: ``PrecinctModel.step`` with 100,000 residents (plus offenders and officers) on the default city,
after two simulated days so every routine trip is routed (steady state): routines, movement through
``core_ext``, occupancy, offending, dispatch, hourly records. One round = one 5-minute step, and the
rounds cover a whole simulated day (288 steps), rush hours included, so the median is a typical step.

Group ``routine_day_100k`` times the residents' routine bookkeeping alone (a day of departures,
movement and arrivals from the warm model's state) in the kernels of ``core_ext/_routine.pyx`` beside
the NumPy code they replaced (``tests/sim/routine_reference.py``); ``deterrence_100k`` the police
fields where the offenders stand (``core_ext.reach_maxima_at``) beside the fields spread over every
segment and then read there.

Peer: a plain Mesa 3 model whose 100,000 agents each have a Python ``step()`` that walks
``speed * dt`` metres along a route of edges (the same routes, speeds and step), turning back along
its return route on arrival, stepped with ``model.agents.shuffle_do("step")`` as Mesa recommends.
It keeps every agent walking, while most of our residents are at home or work at any one time, so
a third implementation, ``mesa_idle``, times the same Mesa model whose agents' ``step()`` returns at
once: the floor of what any per-agent Python step costs (informational: a Mesa model of the real
routine would sit between the two).
"""

from __future__ import annotations

import copy
from typing import Any

import mesa
import numpy as np
import pytest

from sim.agents.resident import Residents
from sim.config import ModelConfig
from sim.model import PrecinctModel
from tests.sim.routine_reference import ReferenceCalendar, use_reference

pytestmark = pytest.mark.slow

N_AGENTS = 100_000
DT_S = 300.0


@pytest.fixture(scope="module")
def warm_model() -> PrecinctModel:
    cfg = ModelConfig(seed=1)
    cfg.sim.days = 60.0
    cfg.population.n_residents = N_AGENTS
    cfg.population.n_offenders = 100
    model = PrecinctModel(cfg, mesa_agents=False)
    for _ in range(2 * 288):
        model.step()
    return model


class Walker(mesa.Agent):  # type: ignore[misc]
    """One agent walking its route edge by edge, the idiomatic Mesa way."""

    def __init__(self, model: Any, out: list[int], back: list[int], speed_mps: float) -> None:
        super().__init__(model)
        self.routes = (out, back)
        self.leg = 0
        self.route = out
        self.pos = 0
        self.offset_m = 0.0
        self.speed_mps = speed_mps

    def step(self) -> None:
        length = self.model.edge_length_m
        left = self.speed_mps * self.model.dt_s
        while left > 0.0:
            edge = self.route[self.pos]
            room = length[edge] - self.offset_m
            if left < room:
                self.offset_m += left
                return
            left -= room
            if self.pos + 1 < len(self.route):
                self.pos += 1
                self.offset_m = 0.0
            else:  # arrived: turn round for the next step
                self.leg ^= 1
                self.route = self.routes[self.leg]
                self.pos = 0
                self.offset_m = 0.0
                return


class Idler(mesa.Agent):  # type: ignore[misc]
    def step(self) -> None:
        return


class PlainMesaWalkers(mesa.Model):  # type: ignore[misc]
    def __init__(
        self,
        routes: list[tuple[list[int], list[int]]],
        edge_length_m: np.ndarray,
        speed_mps: float,
        *,
        idle: bool = False,
    ) -> None:
        super().__init__(seed=1)
        self.edge_length_m = edge_length_m.tolist()
        self.dt_s = DT_S
        for out, back in routes:
            if idle:
                Idler(self)
            else:
                Walker(self, out, back, speed_mps)

    def step(self) -> None:
        self.agents.shuffle_do("step")


@pytest.fixture(scope="module")
def mesa_routes(warm_model: PrecinctModel) -> list[tuple[list[int], list[int]]]:
    r = warm_model.residents
    book = warm_model.resident_routes
    dest = np.where(r.is_worker, r.work_edge, r.leisure_edge[:, 0])
    s_out, e_out, _ = book.trips(r.home_edge, dest)
    s_back, e_back, _ = book.trips(dest, r.home_edge)
    buf = book.buffer
    routes = []
    for i in range(r.n):
        out = buf[s_out[i] : e_out[i]].tolist() or [int(r.home_edge[i])]
        back = buf[s_back[i] : e_back[i]].tolist() or [int(dest[i])]
        routes.append((out, back))
    return routes


def build_plain_mesa(warm_model: PrecinctModel, routes: list[Any], *, idle: bool) -> PlainMesaWalkers:
    length = np.asarray(warm_model.network.edge_length_m)
    return PlainMesaWalkers(routes, length, float(warm_model.config.population.walk_speed_mps), idle=idle)


@pytest.mark.benchmark(group="model_step_100k")
def test_model_step_precinct(benchmark: Any, warm_model: PrecinctModel) -> None:
    n = warm_model.residents.n + warm_model.offenders.n + warm_model.officers.n
    benchmark.extra_info.update({"impl": "core_ext", "work": n})
    benchmark.pedantic(warm_model.step, rounds=288, iterations=1, warmup_rounds=0)
    assert warm_model.running


@pytest.mark.benchmark(group="model_step_100k")
@pytest.mark.parametrize("idle", [False, True], ids=["walking", "idle"])
def test_model_step_plain_mesa(
    benchmark: Any, warm_model: PrecinctModel, mesa_routes: list[Any], idle: bool
) -> None:
    plain = build_plain_mesa(warm_model, mesa_routes, idle=idle)
    benchmark.extra_info.update({"impl": "mesa_idle" if idle else "mesa", "work": len(plain.agents)})
    benchmark.pedantic(plain.step, rounds=5, iterations=1, warmup_rounds=1)
    assert len(plain.agents) == N_AGENTS


def clone_residents(warm_model: PrecinctModel, *, reference: bool) -> Residents:
    """A copy of the warm model's residents (arrays and calendar), on the NumPy bookkeeping if ``reference``."""
    r = warm_model.residents
    c = copy.copy(r)
    for name, value in vars(r).items():
        if isinstance(value, np.ndarray):
            setattr(c, name, value.copy())
    c.calendar = copy.deepcopy(r.calendar)
    if reference:
        filed = copy.deepcopy(r.calendar)
        use_reference(c)
        assert isinstance(c.calendar, ReferenceCalendar)
        for step in range(filed.head.size):
            ids = filed.pop(step)
            if ids.size:
                c.calendar._buckets[step] = [ids]
    return c


def run_routine_day(warm_model: PrecinctModel, r: Residents) -> int:
    """One simulated day of the residents' routine alone: the plan at midnight, departures, movement."""
    clock, book = warm_model.clock, warm_model.resident_routes
    length = warm_model.network.edge_length_m
    step0, step_min = clock.step, clock.step_min
    left = 0
    for k in range(288):
        now = clock.now_min + k * step_min
        if k == 0:
            r.plan_day(np.random.default_rng(0), now, False, step=step0)
        left += r.leave(book, now, step0 + k).size
        r.move(book, length, step_min * 60.0, now + step_min, step0 + k)
    return left


@pytest.mark.benchmark(group="routine_day_100k")
@pytest.mark.parametrize("impl", ["core_ext", "numpy"])
def test_routine_day(benchmark: Any, warm_model: PrecinctModel, impl: str) -> None:
    assert warm_model.clock.is_midnight
    benchmark.extra_info.update({"impl": impl, "work": warm_model.residents.n})
    left = benchmark.pedantic(
        run_routine_day,
        setup=lambda: ((warm_model, clone_residents(warm_model, reference=impl == "numpy")), {}),
        rounds=5,
        iterations=1,
    )
    assert left > warm_model.residents.n // 2


@pytest.mark.benchmark(group="deterrence_100k")
@pytest.mark.parametrize("impl", ["core_ext", "numpy"])
def test_deterrence_at_offenders(benchmark: Any, warm_model: PrecinctModel, impl: str) -> None:
    """The police fields where 6 offenders stand: asked there (core_ext.reach_maxima_at) or spread everywhere."""
    env, now = warm_model.env, warm_model.clock.now_min
    segs = np.random.default_rng(0).integers(0, warm_model.network.n_segments, 6)
    benchmark.extra_info.update({"impl": impl, "work": segs.size})

    def spread() -> Any:
        deter, watch = env.police_fields(now)
        return deter[segs], watch[segs]

    got = benchmark(env.police_fields_at, segs, now) if impl == "core_ext" else benchmark(spread)
    np.testing.assert_array_equal(got[0], spread()[0])
