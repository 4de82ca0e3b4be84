"""Turn a finished model into its result tables: events, hourly time series, segments, scalar metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core_ext import Router
from sim import metrics as m
from sim.agents import officer as ofc
from sim.agents.officer import Officers
from sim.agents.resident import Residents
from sim.clock import Clock
from sim.config import ModelConfig
from sim.context import Ledger, ModelContext
from sim.crime import CRIME_TYPES
from sim.environment import Environment
from sim.events import EventLog
from sim.network import StreetNetwork
from sim.offending import Offending
from sim.policies.base import Policy
from sim.policing import Policing
from sim.scale import Headcounts
from sim.survey import SURVEY_COLUMNS, Survey

__all__ = [
    "BUFFER_M",
    "SimulationResult",
    "buffer_from_min",
    "buffer_segments",
    "build_result",
    "count_since",
]


@dataclass
class SimulationResult:
    """Everything one run produced (see docs/architecture.md for the columns)."""

    events: pd.DataFrame
    timeseries: pd.DataFrame
    segments: pd.DataFrame
    metrics: dict[str, float]
    network: StreetNetwork
    config: ModelConfig
    seed: int
    actions: pd.DataFrame = field(default_factory=pd.DataFrame)
    survey: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({k: pd.Series(dtype=t) for k, t in SURVEY_COLUMNS.items()})
    )
    extra: dict[str, Any] = field(default_factory=dict)


class FinishedModel(Protocol):
    """What :func:`build_result` reads of a model (a :class:`~sim.model.PrecinctModel`)."""

    config: ModelConfig
    network: StreetNetwork
    router: Router
    clock: Clock
    event_log: EventLog
    env: Environment
    area: NDArray[np.int64]
    policing: Policing
    officers: Officers
    residents: Residents
    offending: Offending
    policies: list[Policy]
    contexts: list[ModelContext]
    ledger: Ledger
    mean_trust_start: float
    headcounts: Headcounts
    survey: Survey

    def timeseries(self) -> pd.DataFrame:
        """Return the time series."""
        ...


# Displacement is looked for within 400 m of treated places: about two blocks, the catchment most
# hot-spot evaluations use for the "catchment area" (Weisburd et al. 2006; Bowers et al. 2011).
BUFFER_M = 400.0


def buffer_segments(
    model: FinishedModel, treated: NDArray[np.bool_], distance_m: float = BUFFER_M
) -> NDArray[np.bool_]:
    """Untreated segments within ``distance_m`` network distance of a treated segment (either way)."""
    net = model.network
    if not treated.any():
        return np.zeros(net.n_segments, dtype=bool)
    edges = net.segment_edge[treated]
    seeds = np.unique(np.concatenate([net.edge_source[edges], net.indices[edges]]))
    near_nodes, _ = model.router.find_nodes_within(seeds, distance_m)
    near = np.zeros(net.n_nodes, dtype=bool)
    near[near_nodes] = True
    seg_near = near[net.edge_source[net.segment_edge]] | near[net.indices[net.segment_edge]]
    return seg_near & ~treated


def buffer_from_min(
    model: FinishedModel, treated_from: NDArray[np.float64], distance_m: float = BUFFER_M
) -> NDArray[np.float64]:
    """Return, per untreated segment near a treated one, the minute the first treated one near it was treated.

    "Near" is within ``distance_m`` along the streets; NaN elsewhere. The buffer is watched for
    displacement from then on.
    """
    treated = np.isfinite(treated_from)
    out = np.full(model.network.n_segments, np.nan)
    for t in np.unique(treated_from[treated]):
        near = buffer_segments(model, treated_from == t, distance_m) & ~treated & np.isnan(out)
        out[near] = t
    return out


def count_since(
    segment: NDArray[np.int64], time_min: NDArray[np.float64], from_min: NDArray[np.float64]
) -> int:
    """Events (at ``segment``, ``time_min``) on segments with a start time, at or after it."""
    start = from_min[segment]
    return int(np.count_nonzero(np.isfinite(start) & (time_min >= start)))


def _is_night(time_min: NDArray[np.float64], model: FinishedModel) -> NDArray[np.bool_]:
    cfg = model.config.sim
    hour = ((time_min + cfg.start_hour * 60.0) % 1440.0) / 60.0
    return ~((hour >= cfg.sunrise_hour) & (hour < cfg.sunset_hour))


def build_result(model: FinishedModel) -> SimulationResult:
    """Assemble the :class:`SimulationResult` of a finished (or stopped) model."""
    net = model.network
    events = model.event_log.to_frame(net)
    crimes = events[events["kind"] == "crime"]
    n_seg = net.n_segments
    seg = crimes["segment"].to_numpy(np.int64)
    night = _is_night(crimes["time_min"].to_numpy(np.float64), model)
    recorded = crimes["recorded"].to_numpy(bool)
    treated_from = np.full(n_seg, np.nan)
    for policy, ctx in zip(model.policies, model.contexts, strict=True):
        since = policy.treated_from_min(ctx)
        if since is not None:
            treated_from = np.fmin(treated_from, since)
    treated = np.isfinite(treated_from)
    buffer = buffer_segments(model, treated)
    buffer_from = buffer_from_min(model, treated_from)
    counts = np.bincount(seg, minlength=n_seg)
    segments = pd.DataFrame({
        "segment": np.arange(n_seg), "edge": net.segment_edge, "osm_way_id": net.edge_osm_way_id[net.segment_edge],
        "length_m": net.segment_length_m, "area": model.area, "crimes": counts,
        "crimes_recorded": np.bincount(seg[recorded], minlength=n_seg),
        "crimes_night": np.bincount(seg[night], minlength=n_seg),
        "crimes_day": np.bincount(seg[~night], minlength=n_seg),
        "crimes_recorded_expected": model.offending.expected_recorded,
        "police_min": model.env.police_minutes, "treated": treated, "buffer": buffer,
        "treated_from_min": treated_from, "buffer_from_min": buffer_from,
    })  # fmt: skip
    timeseries = model.timeseries()
    metrics = _metrics(model, crimes, counts, night, treated, buffer)
    when = crimes["time_min"].to_numpy(np.float64)
    kinds = events["kind"]
    metrics["deterred_give_up"] = float((kinds == "deterred_give_up").sum())
    metrics["deterred_move_on"] = float((kinds == "deterred_move_on").sum())
    metrics["crimes_treated_since"] = float(count_since(seg, when, treated_from))
    metrics["crimes_buffer_since"] = float(count_since(seg, when, buffer_from))
    survey = model.survey.frame()
    metrics.update(_survey_metrics(model.survey, survey))
    return SimulationResult(
        events=events, timeseries=timeseries, segments=segments, metrics=metrics, network=net,
        config=model.config, seed=model.config.seed, actions=model.ledger.frame(), survey=survey,
        extra={"headcounts": model.headcounts.describe()},
    )  # fmt: skip


def _survey_metrics(survey: Survey, waves: pd.DataFrame) -> dict[str, float]:
    """Return the true mean fear and satisfaction now and the last wave's estimate of each measure."""
    out = {"mean_fear_end": float(survey.fear.mean()), "mean_satisfaction_end": float(survey.satisfaction.mean()),
           "survey_waves": float(survey.n_waves)}  # fmt: skip
    if survey.n_waves:
        last = waves[waves["wave"] == survey.n_waves - 1].set_index("measure")
        for measure in last.index:
            out[f"survey_{measure}_estimate"] = float(last.loc[measure, "estimate"])
            out[f"survey_{measure}_ci_halfwidth"] = float(
                last.loc[measure, "ci_high"] - last.loc[measure, "estimate"]
            )
    return out


def _metrics(
    model: FinishedModel,
    crimes: pd.DataFrame,
    counts: NDArray[np.int64],
    night: NDArray[np.bool_],
    treated: NDArray[np.bool_],
    buffer: NDArray[np.bool_],
) -> dict[str, float]:
    n = len(crimes)
    reported = crimes["reported"].to_numpy(bool)
    recorded = crimes["recorded"].to_numpy(bool)
    calls = model.policing.calls
    response = np.array([c.arrival_min - c.crime_time_min for c in calls if np.isfinite(c.arrival_min)])
    from_call = np.array([c.arrival_min - c.call_time_min for c in calls if np.isfinite(c.arrival_min)])
    minutes = model.officers.minutes.sum(axis=0)
    out: dict[str, float] = {
        "days": float(model.config.sim.days),
        "crimes_total": float(n),
        "crimes_recorded": float(recorded.sum()),
        "recorded_share": float(recorded.mean()) if n else float("nan"),
        "reporting_rate": float(reported.mean()) if n else float("nan"),
        "crimes_night": float(night.sum()),
        "crimes_day": float((~night).sum()),
        "crimes_treated": float(counts[treated].sum()),
        "crimes_buffer": float(counts[buffer].sum()),
        "crimes_control": float(counts[~treated & ~buffer].sum()),
        "calls_total": float(len(calls)),
        "calls_unanswered": float(sum(1 for c in calls if not np.isfinite(c.arrival_min))),
        "response_time_mean_min": float(response.mean()) if response.size else float("nan"),
        "response_time_p90_min": float(np.percentile(response, 90)) if response.size else float("nan"),
        # from the call reaching the police (queue + travel), the usual operational measure
        "response_from_call_mean_min": float(from_call.mean()) if from_call.size else float("nan"),
        "mean_trust_start": float(model.mean_trust_start),
        "mean_trust_end": float(model.residents.trust.mean()),
        "treated_segments": float(treated.sum()),
    }
    for ctype in CRIME_TYPES:
        out[f"crimes_{ctype}"] = float((crimes["crime_type"] == ctype).sum())
    for name, total in zip(ofc.STATE_NAMES, minutes, strict=True):
        if name != "off":
            out[f"officer_hours_{name}"] = float(total / 60.0)
    if n:
        out["share_segments_50pct"] = float(m.segments_holding_share(counts, 0.5))
        out["share_crime_top5pct"] = float(m.share_on_top_segments(counts, (0.05,)).iloc[0])
        out["gini_generalized"] = float(m.generalized_gini(counts))
    else:
        out["share_segments_50pct"] = float("nan")
        out["share_crime_top5pct"] = float("nan")
    for policy, ctx in zip(model.policies, model.contexts, strict=True):
        for key, value in policy.costs(ctx).items():
            out[key] = out.get(key, 0.0) + float(value)
    money = model.ledger.totals(model.clock.now_min)
    out.update(money)
    out["cost_total"] = float(sum(money.values()))
    return out
