"""A perception survey of residents: trust in police, fear of crime and satisfaction, with sampling error.

A measure, not a strategy. Each resident holds three perceptions (0..1): *trust* in the police
(the model's own, :mod:`sim.agents.resident`), *fear* of crime and *satisfaction* with the police,
the last two kept here and updated daily from what happened to and around them:

- fear rises by a share of its headroom with each victimisation of the resident
  (``fear_victim``), of a neighbour living within ``crime.near_repeat_m`` of the crime
  (``fear_nearby_victim``; vicarious victimisation: Skogan & Maxfield 1981) and with each
  criminal damage there (``fear_nearby_disorder``; visible disorder: Skogan 1990; Wilson & Kelling
  1982); it falls by a share with each police contact that went well, a prompt response to the
  resident's call or a community meeting attended (``fear_good_contact``; Pate et al. 1986), and
  relaxes to the resident's baseline over ``fear_memory_days``;
- satisfaction starts close to trust (``satisfaction_trust_share`` of it, the rest an independent
  draw from the same distribution) and moves with contacts: up by ``satisfaction_good_contact`` of
  the headroom after a contact that went well, down by ``satisfaction_bad_contact`` after a slow
  response (negative contacts weigh far more: Skogan 2006).

Every ``interval_weeks`` a wave approaches ``sample_size`` residents at random; each answers with
probability ``response_rate x (trust / mean trust) ** response_trust_power`` (the trusting answer
more), and the wave estimates each mean with a t-interval (finite-population corrected) beside
the true mean of all residents. Everything random here comes from the run's ``survey`` stream, so
the survey never changes what happens in the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from sim.agents.resident import Residents
from sim.clock import MINUTES_PER_DAY
from sim.config import SurveyConfig
from sim.events import EventLog
from sim.policing import Policing

__all__ = ["MEASURES", "SURVEY_COLUMNS", "Survey", "estimate_mean"]

MEASURES = ("trust", "fear", "satisfaction")
SURVEY_COLUMNS: dict[str, str] = {
    "wave": "int64", "time_min": "float64", "day": "float64", "measure": "string", "n_approached": "int64",
    "n_responded": "int64", "estimate": "float64", "std_error": "float64", "ci_low": "float64",
    "ci_high": "float64", "true_mean": "float64",
}  # fmt: skip


def estimate_mean(
    answers: NDArray[np.float64], population: int, *, confidence: float
) -> tuple[float, float, float, float]:
    """Return (mean, standard error, low, high): a t-interval for a population mean from a sample.

    The sample is taken as a simple random sample without replacement of ``population`` people,
    hence the finite-population correction ``1 - n / N``. Fewer than two answers give NaNs.
    """
    n = int(answers.size)
    if n < 2:
        mean = float(answers.mean()) if n else math.nan
        return mean, math.nan, math.nan, math.nan
    mean = float(answers.mean())
    se = float(answers.std(ddof=1) / math.sqrt(n) * math.sqrt(max(0.0, 1.0 - n / population)))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    return mean, se, mean - half, mean + half


class Survey:
    """Residents' fear and satisfaction as they evolve, and the survey waves that measure them."""

    def __init__(
        self,
        config: SurveyConfig,
        rng: np.random.Generator,
        *,
        residents: Residents,
        event_log: EventLog,
        policing: Policing,
        nearby: Callable[[int], NDArray[np.int64]],
        n_segments: int,
        days: float,
    ) -> None:
        self.config = config
        self.rng = rng
        self.residents = residents
        self.event_log = event_log
        self.policing = policing
        self.nearby = nearby
        self.n_segments = n_segments
        n = residents.n
        self.fear_baseline = rng.beta(config.fear_alpha, config.fear_beta, size=n)
        self.fear = self.fear_baseline.copy()
        own = rng.beta(residents.config.trust_alpha, residents.config.trust_beta, size=n)
        share = config.satisfaction_trust_share
        self.satisfaction = share * residents.trust + (1.0 - share) * own
        # waves from first_day every interval_weeks, the last at the end of the run at the latest
        self.wave_times: list[float] = []
        t, end = config.first_day * MINUTES_PER_DAY, days * MINUTES_PER_DAY
        while config.enabled and t <= end:
            self.wave_times.append(t)
            t += config.interval_weeks * 7 * MINUTES_PER_DAY
        self.rows: list[dict[str, float | int | str]] = []
        self.n_waves = 0
        self._next_wave = 0
        self._events_seen = 0
        self._calls_seen: set[int] = set()
        self._meetings_seen = residents.attended_meetings.copy()
        self._updated_min = 0.0

    # ------------------------------------------------------------------ perceptions
    def observe(self, now_min: float, *, midnight: bool) -> None:
        """At midnight update perceptions from the day's events; then hold any wave due by now."""
        if not self.config.enabled:
            return
        if midnight:
            self.update_perceptions(now_min)
        while self._next_wave < len(self.wave_times) and self.wave_times[self._next_wave] <= now_min:
            self.conduct(now_min)
            self._next_wave += 1

    def update_perceptions(self, now_min: float) -> None:
        """Move fear back towards each baseline, then apply the crimes and contacts since the last update."""
        c, r = self.config, self.residents
        days = max(0.0, now_min - self._updated_min) / MINUTES_PER_DAY
        self._updated_min = now_min
        self.fear = self.fear_baseline + (self.fear - self.fear_baseline) * math.exp(
            -days / c.fear_memory_days
        )
        own = np.zeros(r.n)
        own_near = np.zeros(r.n)
        near_victim = np.zeros(self.n_segments)
        near_damage = np.zeros(self.n_segments)
        for row in self.event_log.rows("crime", self._events_seen):
            near = self.nearby(int(row["segment"]))
            victim = int(row["victim_id"])
            if victim >= 0:
                own[victim] += 1
                near_victim[near] += 1
                own_near[victim] += float((near == r.home_segment[victim]).any())
            if row["crime_type"] == "criminal_damage":
                near_damage[near] += 1
        self._events_seen = len(self.event_log)
        good, bad = self._contacts()
        heard = near_victim[r.home_segment] - own_near
        rise = (1 - c.fear_victim) ** own * (1 - c.fear_nearby_victim) ** heard
        rise = rise * (1 - c.fear_nearby_disorder) ** near_damage[r.home_segment]
        self.fear = 1.0 - (1.0 - self.fear) * rise
        self.fear *= (1 - c.fear_good_contact) ** good
        s = self.satisfaction
        s = 1.0 - (1.0 - s) * (1 - c.satisfaction_good_contact) ** good
        self.satisfaction = s * (1 - c.satisfaction_bad_contact) ** bad

    def _contacts(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per resident: contacts that went well (prompt responses, meetings) and slow responses since last time."""
        r = self.residents
        good = (r.attended_meetings - self._meetings_seen).astype(np.float64)
        self._meetings_seen = r.attended_meetings.copy()
        bad = np.zeros(r.n)
        for call in self.policing.calls:
            if call.victim < 0 or not math.isfinite(call.arrival_min) or call.call_id in self._calls_seen:
                continue
            self._calls_seen.add(call.call_id)
            if self.policing.response_was_prompt(call):
                good[call.victim] += 1
            else:
                bad[call.victim] += 1
        return good, bad

    def values(self) -> dict[str, NDArray[np.float64]]:
        """Return each resident's true value of every measure now."""
        return {"trust": self.residents.trust, "fear": self.fear, "satisfaction": self.satisfaction}

    # ------------------------------------------------------------------ waves
    def conduct(self, now_min: float) -> list[dict[str, float | int | str]]:
        """Hold one wave now: sample, ask, estimate each measure; return (and keep) its rows."""
        c, r = self.config, self.residents
        approached = self.rng.choice(r.n, size=min(c.sample_size, r.n), replace=False)
        trust = r.trust
        mean_trust = float(trust.mean())
        propensity = c.response_rate * (trust[approached] / mean_trust) ** c.response_trust_power
        answered = approached[self.rng.random(approached.size) < np.clip(propensity, 0.0, 1.0)]
        wave = self.n_waves
        self.n_waves += 1
        out: list[dict[str, float | int | str]] = []
        for measure, value in self.values().items():
            mean, se, low, high = estimate_mean(value[answered], r.n, confidence=c.confidence)
            out.append({"wave": wave, "time_min": now_min, "day": now_min / MINUTES_PER_DAY, "measure": measure,
                        "n_approached": int(approached.size), "n_responded": int(answered.size),
                        "estimate": mean, "std_error": se, "ci_low": low, "ci_high": high,
                        "true_mean": float(value.mean())})  # fmt: skip
        self.rows.extend(out)
        return out

    def finish(self, now_min: float) -> None:
        """At the end of the run: bring perceptions up to date and hold the waves due by now (the last one)."""
        if not self.config.enabled:
            return
        self.update_perceptions(now_min)
        while self._next_wave < len(self.wave_times) and self.wave_times[self._next_wave] <= now_min:
            self.conduct(now_min)
            self._next_wave += 1

    def frame(self) -> pd.DataFrame:
        """Return every wave, one row per wave and measure (columns :data:`SURVEY_COLUMNS`)."""
        if not self.rows:
            return pd.DataFrame({k: pd.Series(dtype=t) for k, t in SURVEY_COLUMNS.items()})
        return pd.DataFrame(self.rows, columns=list(SURVEY_COLUMNS)).astype(SURVEY_COLUMNS)
