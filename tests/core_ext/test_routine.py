"""Routine kernels (core_ext/_routine.pyx) against the NumPy code they replaced (tests/sim/routine_reference.py).

The calendar as arrays must file and pop exactly as the dict of arrays did, growing its entry pool and
its steps as it goes; the residents' departures and arrivals must leave every array as the NumPy
bookkeeping left it, step by step (the whole model: tests/sim/test_event_driven.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core_ext import _routine
from sim.agents._calendar import WakeCalendar, first_step_at
from tests.sim.routine_reference import ReferenceCalendar


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([5.0, 0.3, 1.0]), st.integers(1, 40))
def test_calendar_files_and_pops_as_the_dict_calendar(seed: int, step_min: float, n_agents: int) -> None:
    rng = np.random.default_rng(seed)
    # a tiny start, so the entry pool and the steps both grow during the test
    cal = WakeCalendar(step_min, n_steps=3, capacity=2)
    ref = ReferenceCalendar(step_min)
    for step in range(60):
        for _ in range(int(rng.integers(0, 3))):
            k = int(rng.integers(0, 12))
            who = rng.integers(0, n_agents, k)
            time_min = rng.uniform(-20, 120, k) * step_min
            time_min[rng.random(k) < 0.2] = np.inf
            time_min[rng.random(k) < 0.1] = step * step_min  # due exactly at a step's start
            nb = step + int(rng.integers(0, 3))
            cal.push(who, time_min, not_before=nb)
            ref.push(who, time_min, not_before=nb)
        np.testing.assert_array_equal(cal.pop(step), ref.pop(step))
        assert len(cal) == len(ref)


def test_calendar_pops_many_ids_sorted_once_each() -> None:
    rng = np.random.default_rng(1)
    cal = WakeCalendar(5.0)
    who = rng.integers(0, 3_000_000, 50_000)  # the radix sort's passes, with repeats
    cal.push(who, np.full(who.size, 12.0), not_before=0)
    cal.push(who[:1000], np.full(1000, 14.0), not_before=0)
    np.testing.assert_array_equal(cal.pop(3), np.unique(who))
    assert cal.pop(3).size == 0 and len(cal) == 0


def test_calendar_files_at_the_exact_first_step() -> None:
    odd = 0.3  # not a binary fraction: k * 0.3 rounds
    t = np.arange(1, 500) * odd
    cal = WakeCalendar(odd)
    cal.push(np.arange(t.size), t, not_before=0)
    want = first_step_at(t, odd)
    for step in range(int(want.max()) + 1):
        np.testing.assert_array_equal(cal.pop(step), np.flatnonzero(want == step))


def test_pop_of_a_step_beyond_the_buckets_is_empty() -> None:
    cal = WakeCalendar(5.0, n_steps=4)
    assert cal.pop(10).size == 0 and cal.pop(-1).size == 0
    cal.push(np.array([2]), np.array([10_000.0]), not_before=0)  # step 2000: the buckets grow
    assert cal.head.size > 2000 and cal.pop(2000).tolist() == [2]


def test_kernels_reject_arrays_of_the_wrong_dtype() -> None:
    cal = WakeCalendar(5.0)
    with pytest.raises(ValueError, match="dtype"):
        _routine.pop(*cal.arrays, 0, np.zeros(3, dtype=np.int32))  # type: ignore[arg-type]
