"""The training web app (Solara): brief, decide, run a shift, watch it replay, debrief.

``precinct train [SCENARIO]`` serves it on localhost (:func:`serve`). Everything the page loads comes
from this server: Solara's scripts from the solara-assets package (its CDN cache), the map as SVG
drawn from the street network (:mod:`experiments.training_map`), no tiles and no web fonts; Solara's
telemetry is switched off. The session is kept on the server and saved as a decision log after every
decision and shift (``outputs/training/``): a page reloaded after a lost connection resumes from it.
"""

from __future__ import annotations

import html
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import solara
import solara.lab
import traitlets
from ipyvue import VueTemplate

from experiments.training_config import scenario_config, scenario_of_log
from experiments.training_map import MapFrame, overlay_svg, street_svg
from experiments.training_report import render_debrief
from sim.config import ModelConfig
from sim.errors import DecisionError, PrecinctError, ScenarioError
from sim.network import load_network
from sim.training import DecisionLog, Scenario, TrainingSession, load_scenario, replay, run_debrief

__all__ = ["Page", "StreetMap", "serve"]

ENV_SCENARIO = "PRECINCT_TRAIN_SCENARIO"
ENV_TRAINEE = "PRECINCT_TRAIN_TRAINEE"
ENV_DIR = "PRECINCT_TRAIN_DIR"
ENV_REPLICATIONS = "PRECINCT_TRAIN_REPLICATIONS"


class StreetMap(VueTemplate):  # type: ignore[misc]
    """The street layer (clickable) under the overlay; a click sets ``clicked`` to "segment:time"."""

    template = traitlets.Unicode("""
<template>
  <div style="position: relative; width: 100%;">
    <div v-html="streets" @click="pick"></div>
    <div v-html="overlay" style="position: absolute; left: 0; top: 0; width: 100%; pointer-events: none;"></div>
  </div>
</template>
<script>
module.exports = {
  methods: {
    pick(event) {
      const seg = event.target.getAttribute && event.target.getAttribute('data-seg');
      if (seg !== null && seg !== undefined) { this.clicked = seg + ':' + Date.now(); }
    }
  }
}
</script>
""").tag(sync=True)
    streets = traitlets.Unicode("").tag(sync=True)
    overlay = traitlets.Unicode("").tag(sync=True)
    clicked = traitlets.Unicode("").tag(sync=True)


# --------------------------------------------------------------------------- state (one per browser session)
session: solara.Reactive[TrainingSession | None] = solara.reactive(None)
load_error = solara.reactive("")
message = solara.reactive("")
refusal = solara.reactive("")
version = solara.reactive(0)  # bumped whenever the session changed under the same object
chosen: solara.Reactive[list[int]] = solara.reactive([])
officers = solara.reactive(2)
dwell_min = solara.reactive(15)
patrol_hours: solara.Reactive[list[str]] = solara.reactive([])
branch_at = solara.reactive(1)
meeting_hour: solara.Reactive[str | None] = solara.reactive(None)
cpted_measure = solara.reactive("lighting")
frame_index = solara.reactive(0)
playing = solara.reactive(False)
speed = solara.reactive(12)  # frames (5-minute steps) per second
debrief_html = solara.reactive("")
replications = solara.reactive(int(os.environ.get(ENV_REPLICATIONS, "0") or 0))

_STREETS: dict[str, tuple[str, MapFrame]] = {}
_CONFIGS: dict[str, ModelConfig] = {}


def _log_path(s: TrainingSession) -> Path:
    folder = Path(os.environ.get(ENV_DIR, "outputs/training"))
    who = "".join(c if c.isalnum() else "_" for c in (s.trainee or "trainee"))
    return folder / f"{s.scenario.name}-{who}.json"


def _save(s: TrainingSession) -> None:
    s.log().save(_log_path(s))


def _open() -> None:
    """Build the session of the configured scenario, resumed from its saved log when there is one."""
    try:
        scenario = load_scenario(os.environ.get(ENV_SCENARIO, "night_time_economy"))
        config = _config(scenario)
        fresh = TrainingSession(scenario, config, trainee=os.environ.get(ENV_TRAINEE, ""))
        path = _log_path(fresh)
        if path.is_file():
            log = DecisionLog.load(path)
            if log.scenario.get("name") == scenario.name:
                fresh = replay(log, scenario_of_log(log), config, network=fresh.network, record_frames=True)
                message.value = f"Resumed from {path}: shift {fresh.shift + 1} is next."
        session.value = fresh
    except ScenarioError as exc:
        load_error.value = (f"The scenario file {exc.path} is invalid: field '{exc.field}' is {exc.value!r}; "
                            f"{exc.expected}.")  # fmt: skip
    except PrecinctError as exc:
        load_error.value = str(exc)


def _config(scenario: Scenario) -> ModelConfig:
    """Return the scenario's model config, composed once per file version (Hydra takes a second or two)."""
    path = Path(scenario.path)
    key = f"{path.resolve()}:{path.stat().st_mtime_ns if path.is_file() else 0}"
    if key not in _CONFIGS:
        _CONFIGS[key] = scenario_config(scenario)
    return _CONFIGS[key]


def _streets(s: TrainingSession) -> tuple[str, MapFrame]:
    key = s.network.content_hash
    if key not in _STREETS:
        frame = MapFrame.of(s.network)
        _STREETS[key] = (street_svg(s.network, frame), frame)
    return _STREETS[key]


def _decide(decision: dict[str, Any]) -> None:
    s = session.value
    assert s is not None
    try:
        s.decide(decision)
    except DecisionError as exc:
        refusal.value = f"Refused: {exc.field} = {exc.value!r}: {exc.reason}."
        return
    refusal.value = ""
    chosen.value = []
    _save(s)
    version.value += 1


def _branch() -> None:
    """Start a new session at the chosen shift with the decisions before it; its log is saved apart."""
    s = session.value
    assert s is not None
    k = branch_at.value - 1
    try:
        branch = s.branch(k)
    except DecisionError as exc:
        refusal.value = f"Refused: branch at shift {k + 1}: {exc.reason}."
        return
    branch.trainee = f"{s.trainee or 'trainee'} branch at shift {k + 1}"
    branch.record_frames = True
    session.value = branch
    _save(branch)
    message.value = (
        f"Branched at shift {k + 1}: the decisions before it were replayed; the log is saved apart."
    )
    version.value += 1


@solara.lab.task  # type: ignore[misc]
def run_shift() -> None:
    """Run the next shift in the background, reporting progress."""
    s = session.value
    assert s is not None

    def progress(share: float) -> None:
        percent = 10.0 * int(10.0 * share)  # every tenth: each update re-renders the page
        if percent != run_shift.progress:
            run_shift.progress = percent

    s.run_shift(progress)
    _save(s)
    frame_index.value = 0
    playing.value = True
    version.value += 1


@solara.lab.task  # type: ignore[misc]
def make_debrief() -> None:
    """Replay the log against every arm (common random numbers) and show the debrief."""
    s = session.value
    assert s is not None
    log = s.log()
    n = replications.value or s.scenario.replications
    total = n * (len(s.scenario.compare) + 2 + ("baseline" not in s.scenario.compare))
    done = [0]

    def progress(_arm: str, _seed: int) -> None:
        done[0] += 1
        make_debrief.progress = 100.0 * done[0] / total

    debrief = run_debrief(
        log, s.scenario, s.base_config, network=s.network, replications=n, on_progress=progress
    )
    page = render_debrief(debrief, s.network)
    path = _log_path(s).with_suffix(".debrief.html")
    path.write_text(page)
    debrief_html.value = page
    message.value = f"Debrief written to {path}"


# --------------------------------------------------------------------------- components
def _html(text: str) -> None:
    # solara.Markdown would ask the assets proxy for KaTeX, which is not in solara-assets: plain HTML instead
    solara.HTML(tag="div", unsafe_innerHTML=text)


@solara.component  # type: ignore[misc]
def Briefing(s: TrainingSession, v: int) -> None:
    """Show the police view before the next shift."""
    b = s.briefing()
    with solara.Card(f"Shift {b.shift + 1} of {s.scenario.n_shifts} · {b.clock}"):
        response = (
            f", answered in {b.response_mean_min:.0f} min on average"
            if np.isfinite(b.response_mean_min)
            else ""
        )
        trust = (f"{b.trust_estimate:.2f} (95% CI {b.trust_ci[0]:.2f}-{b.trust_ci[1]:.2f})"
                 if np.isfinite(b.trust_estimate) else "first wave at the start of the shift")  # fmt: skip
        _html(f"<b>Recorded crime</b>: {b.recorded_last_shift} last shift, {b.recorded_total} this exercise, "
              f"{b.recorded_history} in the previous weeks' records<br><b>Calls</b>: {b.calls_last_shift} last shift, "
              f"{b.calls_waiting} waiting{response}<br><b>Trust survey</b>: {trust}"
              f"<br><b>Officers on duty</b>: {b.officers}")  # fmt: skip
        for line in b.injects:
            solara.Info(line, dense=True)
        _html("<b>Hot spots of recorded crime</b> (tick to patrol, or click streets on the map)")
        with solara.Column(gap="0px", style={"max-height": "260px", "overflow-y": "auto"}):
            for h in b.hotspots:
                seg = h["segment"]

                def toggle(on: bool, seg: int = seg) -> None:
                    chosen.value = (
                        sorted(set(chosen.value) | {seg}) if on else [x for x in chosen.value if x != seg]
                    )

                solara.Checkbox(label=f"{h['rank']}. segment {seg} · {h['street']} · score {h['score']:g}",
                                value=seg in chosen.value, on_value=toggle)  # fmt: skip


@solara.component  # type: ignore[misc]
def Decisions(s: TrainingSession, v: int) -> None:
    """Show forms for the three kinds of decision and the list of those pending."""
    hours = s.shift_hours_of_day()
    with solara.Card("Decide"):
        _html(f"Chosen streets: {chosen.value or 'none'}")
        with solara.Row():
            solara.InputInt("Officers", value=officers)
            solara.InputInt("Dwell (min)", value=dwell_min)
            solara.SelectMultiple("Hours (none: the whole shift)", values=patrol_hours,
                                  all_values=[f"{h:02d}" for h in hours])  # fmt: skip
        with solara.Column(gap="6px"):
            solara.Button("Patrol the chosen streets", color="primary",
                          on_click=lambda: _decide({"kind": "patrol", "segments": chosen.value, "officers": officers.value,
                                                    "dwell_min": float(dwell_min.value),
                                                    "hours": sorted(int(h) for h in patrol_hours.value)}))  # fmt: skip
        with solara.Row():
            solara.Select("Meeting hour", values=[f"{h:02d}" for h in hours], value=meeting_hour)
            solara.Button("Community meeting at the first chosen street",
                          on_click=lambda: _decide({"kind": "meeting", "segment": (chosen.value or [-1])[0],
                                                    "hour": float(meeting_hour.value or hours[-2]),
                                                    "officers": 1}))  # fmt: skip
        with solara.Row():
            solara.Select("CPTED measure", values=["lighting", "maintenance", "surveillance", "gating"],
                          value=cpted_measure)  # fmt: skip
            c = s.scenario
            solara.Button(
                "Request CPTED on the chosen streets",
                on_click=lambda: _decide(
                    {"kind": "cpted", "segments": chosen.value, "measure": cpted_measure.value}
                ),
            )
            _html(f"budget {c.cpted_budget:,.0f}; lead time {c.cpted_lead_days or 'defaults'} days")
        if refusal.value:
            solara.Error(refusal.value)
        for k, d in enumerate(s.pending):
            with solara.Row():
                solara.Text(
                    f"Shift {d['shift'] + 1}: {d['kind']} "
                    + str({x: v for x, v in d.items() if x not in ("kind", "shift")})
                )

                def withdraw(k: int = k) -> None:
                    s.withdraw(k)
                    _save(s)
                    version.value += 1

                solara.Button("Withdraw", text=True, on_click=withdraw)


@solara.component  # type: ignore[misc]
def ShiftMap(s: TrainingSession, v: int) -> None:
    """Draw the map: streets, hot spots, chosen streets; after a shift, officers and recorded incidents replayed."""
    streets, frame = _streets(s)
    report = s.reports[-1] if s.reports else None
    n = len(report.frames) if report else 0
    i = min(frame_index.value, max(n - 1, 0))
    if report and n:
        officers_xy = report.frames[i]
        start = report.shift * s.scenario.shift_hours * 60.0
        now = start + (i + 1) * s.model.clock.step_min
        inc = np.array([[x, y] for t, x, y in report.incidents if t <= now]).reshape(-1, 2)
    else:
        officers_xy, inc = s.officer_xy(), np.zeros((0, 2))
    hot = [h["segment"] for h in s.briefing().hotspots]
    shown = report.shift if report else s.shift  # the shift replayed, or the one being planned
    plan = {x for d in [*s.decisions, *s.pending] if d["kind"] == "patrol" and d["shift"] in (shown, s.shift)
            for x in d["segments"]}  # fmt: skip
    overlay = overlay_svg(s.network, frame, officers_xy=officers_xy, incidents_xy=inc,
                          chosen=sorted(set(chosen.value) | plan), hotspots=hot)  # fmt: skip

    def clicked(value: str) -> None:
        seg = int(value.split(":")[0])
        chosen.value = (
            [x for x in chosen.value if x != seg] if seg in chosen.value else sorted([*chosen.value, seg])
        )

    def play() -> None:
        while playing.value and frame_index.value < n - 1:
            time.sleep(1.0 / max(speed.value, 1))
            frame_index.value = frame_index.value + 1
        playing.value = False

    solara.use_thread(play, dependencies=[playing.value, n])
    with solara.Card(
        "Map: officers (blue), recorded incidents (red), hot spots (orange), your streets (green)"
    ):
        StreetMap.element(streets=streets, overlay=overlay, on_clicked=clicked)
        if report:
            with solara.Row():
                solara.Button(
                    "Pause" if playing.value else "Replay", on_click=lambda: playing.set(not playing.value)
                )
                solara.SliderInt("Step", value=frame_index, min=0, max=max(n - 1, 0))
                solara.SliderInt("Speed (steps/s)", value=speed, min=1, max=48)


@solara.component  # type: ignore[misc]
def Afterwards(s: TrainingSession, v: int) -> None:
    """Show what happened in the last shift and the dose the plan delivered."""
    if not s.reports:
        return
    r = s.reports[-1]
    dose = (
        ", ".join(f"{seg}: {m:.0f} min" for seg, m in r.officer_minutes_on_plan.items())
        or "no patrol decisions"
    )
    with solara.Card(f"After shift {r.shift + 1}"):
        _html(f"<b>Recorded crime</b>: {r.recorded} · <b>calls</b>: {r.calls}, {r.calls_waiting} waiting at the end · "
              f"<b>response</b>: {r.response_mean_min:.0f} min · <b>trust survey</b>: {r.trust_estimate:.2f}<br>"
              f"<b>Dose</b>: officer minutes per street: {dose}<br><b>Stops on your streets</b>: {r.stops_on_plan}, "
              f"of which {r.stops_in_koper_range} of 10-15 min (Koper)")  # fmt: skip


@solara.component  # type: ignore[misc]
def Page() -> None:
    """Lay out the whole app."""
    solara.Title("Precinct training")
    if session.value is None and not load_error.value:
        _open()
    if load_error.value:
        solara.Error(load_error.value)
        return
    s = session.value
    assert s is not None
    # the session changes in place: children get the version so that they re-render with it
    with solara.Column(style={"padding": "12px"}):
        _html(f"<h2>{html.escape(s.scenario.title)}</h2>")
        with solara.Details("Briefing and objectives"):
            objectives = "".join(f"<li>{html.escape(o)}</li>" for o in s.scenario.objectives)
            _html(f"<p>{html.escape(s.scenario.briefing)}</p><ul>{objectives}</ul>")
        if message.value:
            solara.Info(message.value)
        with solara.Columns([1, 2]):
            with solara.Column():
                if not s.finished:
                    Briefing(s, version.value)
                    Decisions(s, version.value)
                    solara.Button(f"Run shift {s.shift + 1}", color="success", on_click=run_shift,
                                  disabled=run_shift.pending)  # fmt: skip
                    if run_shift.pending:
                        solara.ProgressLinear(run_shift.progress or True)
                        solara.Text(f"Simulating shift {s.shift + 1}: {run_shift.progress or 0:.0f}%")
                else:
                    solara.Success("The exercise is over.")
                Afterwards(s, version.value)
                if s.shift > 0:
                    with solara.Card("What if? Branch from an earlier shift"):
                        solara.InputInt(
                            "Branch at shift (the shifts before it are replayed)", value=branch_at
                        )
                        solara.Button("Branch here", on_click=_branch)
                with solara.Card("Debrief"):
                    solara.InputInt("Replications", value=replications)
                    solara.Button("Debrief: compare with the built-in strategies", on_click=make_debrief,
                                  disabled=make_debrief.pending)  # fmt: skip
                    if make_debrief.pending:
                        solara.ProgressLinear(make_debrief.progress or True)
            with solara.Column():
                ShiftMap(s, version.value)
        if debrief_html.value:
            solara.HTML(tag="iframe", attributes={"srcdoc": debrief_html.value, "title": "debrief"},
                        style="width: 100%; height: 900px; border: 1px solid #ddd;")  # fmt: skip


# --------------------------------------------------------------------------- server
def preload(scenario: Scenario) -> None:
    """Compose the scenario's config and draw its streets now (a bad scenario raises ScenarioError here)."""
    config = _config(scenario)
    net = load_network(
        config.city.path, network_type=config.city.network_type, cache_dir=config.city.cache_dir
    )
    frame = MapFrame.of(net)
    _STREETS[net.content_hash] = (street_svg(net, frame), frame)


def serve(scenario_path: str, *, host: str, port: int, trainee: str = "") -> int:
    """Serve the app on ``host:port`` until interrupted; print its address first."""
    os.environ[ENV_SCENARIO] = str(scenario_path)
    os.environ[ENV_TRAINEE] = trainee
    os.environ["SOLARA_APP"] = "experiments.training_app"
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"  # no request leaves this machine
    import uvicorn

    print(f"Precinct training: http://{host}:{port}/  (scenario {scenario_path}; Ctrl+C to stop)", flush=True)
    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":  # python -m experiments.training_app SCENARIO PORT (tests)
    sys.exit(serve(sys.argv[1], host="127.0.0.1", port=int(sys.argv[2])))
