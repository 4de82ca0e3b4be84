"""The comparison's data: arms of a sweep, their paired effects, and everything the report shows.

Plain containers only, filled by :mod:`experiments.compare` and read by :mod:`experiments.wording`
and :mod:`experiments.report`; this module imports nothing else from ``experiments``, so those
modules depend on it one way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.results import Sweep
from sim.stats import PairedDifference, PairedWDQ

__all__ = ["Arm", "Comparison", "Effect"]


@dataclass
class Arm:
    """The runs of one policy (and one setting of anything else that varies in the sweep).

    Attributes
    ----------
    label
        Unique name of the arm: the policy label, then the settings that set it apart in brackets,
        e.g. ``targeted_patrol+cpted [sim.days=7]``.
    policy
        Arm label of its strategies (:func:`sim.results.policy_label`), e.g. ``targeted_patrol+cpted``.
    settings
        The sweep's varying settings and their values in this arm.
    runs
        One row per seed: ``run_dir``, ``seed``.
    baseline
        The reference arm with the same settings (None for the reference arm itself, or when the
        sweep has no such runs).
    """

    label: str
    policy: str
    settings: dict[str, Any]
    runs: pd.DataFrame
    baseline: Arm | None = None

    @property
    def policies(self) -> list[str]:
        """Return the names of the strategies this arm runs (its policy label split on ``+``)."""
        return self.policy.split("+")


@dataclass
class Effect:
    """One measure of one arm against its baseline, over paired seeds.

    Attributes
    ----------
    metric
        The measure's key (a ``metrics.json`` key, or ``crimes_in_treated`` / ``crimes_in_buffer``).
    diff
        The paired difference with its confidence intervals.
    seeds
        The seeds paired.
    """

    metric: str
    diff: PairedDifference
    seeds: list[int]


@dataclass
class Comparison:
    """Everything the report shows, computed from a sweep.

    Attributes
    ----------
    sweep
        The loaded sweep.
    arms
        Every arm, in display order (reference first, then single strategies, then combinations).
    effects
        Arm label -> metric -> effect against the arm's baseline.
    wdq
        Arm label -> weighted displacement quotient (None when nothing was treated).
    areas
        Arm label -> per-area effects.
    segment_means
        Arm label -> per-segment means over seeds (crimes, treated, buffer).
    segment_crimes
        Arm label -> crimes per run on each segment: one row per seed, one column per segment id.
    days
        Median simulated days per run.
    confidence
        Confidence level of every interval.
    unpaired
        Arm label -> seeds without a same-seed baseline run.
    not_estimable
        Arm label -> metric -> why the report shows no number for it.
    """

    sweep: Sweep
    arms: list[Arm]
    effects: dict[str, dict[str, Effect]] = field(default_factory=dict)
    wdq: dict[str, PairedWDQ | None] = field(default_factory=dict)
    areas: dict[str, pd.DataFrame] = field(default_factory=dict)
    segment_means: dict[str, pd.DataFrame] = field(default_factory=dict)
    segment_crimes: dict[str, pd.DataFrame] = field(default_factory=dict)
    days: float = float("nan")
    confidence: float = 0.95
    unpaired: dict[str, list[int]] = field(default_factory=dict)
    not_estimable: dict[str, dict[str, str]] = field(default_factory=dict)
