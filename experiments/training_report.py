"""The training debrief as one self-contained HTML page, after-action review style, and the class page.

After-action review asks what was planned, what happened, why, and what to keep or change. The
page answers in that order from a :class:`sim.training.Debrief`: the trainee's decisions, their
own run shift by shift, their plan against each built-in strategy and an oracle on the same seeds
(intervals over replications), what the police never saw (true against recorded crime), and the
evidence behind each difference. It borrows the comparison report's stylesheet and embeds its maps
as data URIs: no request leaves the file.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import numpy as np

from experiments.figures import crime_map
from experiments.report import TEMPLATE
from sim.network import StreetNetwork
from sim.training import MEASURES, Debrief

__all__ = ["render_class_page", "render_debrief", "write_class_page", "write_debrief"]

HEADLINE = ("crimes_total", "crimes_recorded", "plan_crimes", "buffer_crimes", "response_time_mean_min",
            "survey_trust_estimate", "score")  # fmt: skip


def _style() -> str:
    match = re.search(r"<style>.*?</style>", TEMPLATE.read_text(), flags=re.S)
    return match.group(0) if match else ""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="precinct train">\n<title>{html.escape(title)}</title>\n{_style()}\n'
            f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")  # fmt: skip


def _fmt(value: float, digits: int = 1) -> str:
    return "–" if not math.isfinite(value) else f"{value:,.{digits}f}"


def _digits(measure: str) -> int:
    return 3 if MEASURES[measure][1] == "0-1" else (0 if measure == "cost_total" else 1)


def _cell(d: Debrief, arm: str, measure: str) -> str:
    if measure not in d.arms[arm].values:
        return "<td>–</td>"
    mean, low, high = d.interval(arm, measure)
    k = _digits(measure)
    return f'<td>{_fmt(mean, k)}<span class="ci">{_fmt(low, k)} to {_fmt(high, k)}</span></td>'


def _describe(decision: dict[str, object]) -> str:
    kind = decision["kind"]
    if kind == "patrol":
        hours = decision.get("hours") or "the whole shift"
        return (f"patrol {decision['officers']} officer(s) on segments {decision['segments']}, "
                f"{decision['dwell_min']:g}-minute stops, hours {hours}")  # fmt: skip
    if kind == "meeting":
        return (f"community meeting at segment {decision['segment']}, {decision['hour']:g}:00, "
                f"{decision['officers']} officer(s), {decision['duration_min']:g} min")  # fmt: skip
    return f"CPTED request: {decision['measure']} on segments {decision['segments']}"


def _difference_rows(d: Debrief) -> str:
    rows = []
    for arm, diffs in d.differences.items():
        for measure in HEADLINE:
            if measure not in diffs:
                continue
            e = diffs[measure]
            better = MEASURES[measure][2]
            # two seeds that happen to agree give a zero-width interval: colour from three on
            sure = e.n >= 3 and math.isfinite(e.diff_low) and (e.diff_low > 0 or e.diff_high < 0)
            css = ""
            if sure and better:
                css = "good" if (e.mean_diff > 0) == (better > 0) else "bad"
            k = _digits(measure)
            pct = (
                ""
                if not math.isfinite(e.pct_change)
                else f"{e.pct_change:+.0f}% ({_fmt(e.pct_low, 0)} to {_fmt(e.pct_high, 0)})"
            )
            rows.append(f'<tr class="{css}"><td>{html.escape(d.arms[arm].label)}</td>'
                        f"<td class=\"text\">{html.escape(MEASURES[measure][0])}</td>"
                        f"<td>{_fmt(e.mean_diff, k)}<span class=\"ci\">{_fmt(e.diff_low, k)} to {_fmt(e.diff_high, k)}"
                        f"</span></td><td>{pct}</td></tr>")  # fmt: skip
    return "\n".join(rows)


def _lessons(d: Debrief) -> list[str]:
    """Keep / change: statements read off the numbers, each with its evidence."""
    out = []
    base = d.differences.get("baseline", {})
    crimes = base.get("crimes_total")
    if crimes is not None and math.isfinite(crimes.diff_high):
        if crimes.diff_high < 0:
            out.append(f"<b>Keep</b>: the plan cut crime against doing nothing new by {-crimes.mean_diff:.1f} crimes "
                       f"per run (95% CI {-crimes.diff_high:.1f} to {-crimes.diff_low:.1f}) on the same luck.")  # fmt: skip
        elif crimes.diff_low > 0:
            out.append(f"<b>Change</b>: the plan had more crime than doing nothing new (+{crimes.mean_diff:.1f} per run, "
                       "the interval excludes 0): officers taken off random patrol and calls may have left gaps.")  # fmt: skip
        else:
            out.append("Against doing nothing new, the plan's effect on total crime is within the noise of "
                       f"{len(d.seeds)} replications (interval includes 0): say so rather than claim an effect.")  # fmt: skip
    stops = d.arms["trainee"].values.get("plan_koper_stops", [0.0])
    visits = d.shifts["stops_on_plan"].sum() if not d.shifts.empty else 0
    koper = d.shifts["koper_stops"].sum() if not d.shifts.empty else 0
    if visits:
        share = koper / visits
        verdict = "<b>Keep</b>" if share >= 0.5 else "<b>Change</b>"
        out.append(f"{verdict}: {koper} of {visits} stops on your streets were 10-15 minutes ({share:.0%}); stops under "
                   "about 10 minutes barely deter and 11-15 minutes deter longest after the officer leaves (Koper 1995).")  # fmt: skip
    elif float(np.mean(stops)) == 0:
        out.append(
            "No patrol stops on chosen streets: the plan left patrol to chance (random patrol made no "
            "difference in Kansas City: Kelling et al. 1974)."
        )
    buf = base.get("buffer_crimes")
    if buf is not None and d.plan_segments and math.isfinite(buf.mean_diff):
        word = "fewer (diffusion of benefits)" if buf.mean_diff < 0 else "more (displacement)"
        if abs(buf.mean_diff) < 0.05:
            word = "no more and no fewer"
        out.append(f"Within 200 m of your streets there was {abs(buf.mean_diff):.1f} {word} crime per run than in the "
                   "baseline; diffusion is as common as displacement, and displacement is smaller than the effect "
                   "when it happens (Guerette & Bowers 2009).")  # fmt: skip
    trust = base.get("survey_trust_estimate")
    true = base.get("mean_trust_end")
    if trust is not None and true is not None and math.isfinite(trust.mean_diff):
        out.append(f"Trust: the survey moved {trust.mean_diff:+.3f} against baseline, the true mean {true.mean_diff:+.3f}. "
                   "A survey of a few hundred residents has an interval of a few points: read it before claiming a "
                   "change. Meetings raise trust and legitimacy more than they cut crime (Gill et al. 2014).")  # fmt: skip
    oracle = d.differences.get("oracle", {}).get("crimes_total")
    if oracle is not None and math.isfinite(oracle.mean_diff):
        out.append(f"The oracle saw every crime, recorded or not; your plan had {oracle.mean_diff:+.1f} crimes per run "
                   "against it. That gap is what recorded crime could not tell you (Lum & Isaac 2016).")  # fmt: skip
    return out


def _maps(d: Debrief, net: StreetNetwork | None) -> str:
    if net is None:
        return ""
    t = d.arms["trainee"]
    true_uri = crime_map(net, t.crimes_by_segment, "True crime (mean per run), trainee's plan", label="crimes",
                         width_in=5.5)  # fmt: skip
    rec_uri = crime_map(net, t.recorded_by_segment, "Recorded crime (what police saw)", label="crimes",
                        width_in=5.5)  # fmt: skip
    return (
        f'<div class="figs two"><img src="{true_uri}" alt="true crime map">'
        f'<img src="{rec_uri}" alt="recorded crime map"></div>'
    )


def render_debrief(d: Debrief, net: StreetNetwork | None = None) -> str:
    """Return the debrief page (HTML, self-contained)."""
    s = d.scenario
    who = html.escape(d.log.trainee or "the trainee")
    arms = list(d.arms)
    head = "".join(f"<th>{html.escape(d.arms[a].label)}</th>" for a in arms)
    table = "\n".join(
        f'<tr><td class="text">{html.escape(MEASURES[m][0])} <span class="note">({MEASURES[m][1]})</span></td>'
        + "".join(_cell(d, a, m) for a in arms) + "</tr>"
        for m in MEASURES
    )  # fmt: skip
    decisions = (
        "\n".join(
            f'<tr><td>{x["shift"]}</td><td class="text">{html.escape(_describe(x))}</td></tr>'
            for x in d.log.decisions
        )
        or '<tr><td colspan="2" class="text">No decisions: officers patrolled at random (the baseline).</td></tr>'
    )
    shifts = "\n".join(
        f"<tr><td>{int(r.shift)}</td><td>{int(r.decisions)}</td><td>{int(r.crimes_true)}</td>"
        f"<td>{int(r.crimes_recorded)}</td><td>{int(r.stops_on_plan)}</td><td>{int(r.koper_stops)}</td></tr>"
        for r in d.shifts.itertuples()
    )  # fmt: skip
    never = "\n".join(
        f"<tr><td>{html.escape(d.arms[a].label)}</td><td>{_fmt(d.interval(a, 'crimes_total')[0])}</td>"
        f"<td>{_fmt(d.interval(a, 'crimes_recorded')[0])}</td>"
        f"<td>{_fmt(100 * d.interval(a, 'crimes_recorded')[0] / max(d.interval(a, 'crimes_total')[0], 1e-9), 0)}%</td></tr>"
        for a in arms
    )  # fmt: skip
    lessons = "".join(f"<li>{x}</li>" for x in _lessons(d))
    objectives = "".join(f"<li>{html.escape(o)}</li>" for o in s.objectives)
    body = f"""
<h1>Debrief: {html.escape(s.title)}</h1>
<p class="subtitle">{who} · scenario <code>{html.escape(s.name)}</code> · {s.n_shifts} shift(s) of {s.shift_hours:g} h ·
{len(d.seeds)} replications (seeds {d.seeds[0]}-{d.seeds[-1]}), every arm on the same seeds</p>
<h2 id="summary">What to keep and what to change</h2>
<div class="summary"><ul>{lessons}</ul></div>
<h2 id="planned">What was planned</h2>
<p>{html.escape(s.briefing)}</p>
<h3>Learning objectives</h3><ul>{objectives}</ul>
<h3>Decisions</h3>
<table><tr><th>Shift</th><th class="text">Decision</th></tr>{decisions}</table>
<h2 id="happened">What happened: your own run (seed {d.seeds[0]}), shift by shift</h2>
<table><tr><th>Shift</th><th>Decisions</th><th>Crime (true)</th><th>Recorded</th><th>Stops on your streets</th>
<th>Of 10-15 min (Koper)</th></tr>{shifts}</table>
<h2 id="compared">Why: your plan against the built-in strategies and an oracle, on the same luck</h2>
<p class="note">Mean per run with its 95% interval over {len(d.seeds)} replications. The same residents,
offenders and random draws in every column (common random numbers), so differences are the decisions.
"Your streets" are the segments you patrolled or changed, measured on the same segments in every arm.</p>
<table><tr><th class="text">Measure</th>{head}</tr>{table}</table>
<h3>Your plan minus each arm (paired by seed)</h3>
<table><tr><th>Against</th><th class="text">Measure</th><th>Difference (95% CI)</th><th>Change</th></tr>
{_difference_rows(d)}</table>
<p class="note">Green: your plan did better and the interval excludes no difference; red: worse (coloured
from three replications on).</p>
<h2 id="never-saw">What the police never saw</h2>
<table><tr><th>Arm</th><th>Crime (true)</th><th>Recorded</th><th>Recorded share</th></tr>{never}</table>
{_maps(d, net)}
<h2 id="evidence">The evidence behind the differences</h2>
<dl>
<dt>Dose and the Koper curve</dt><dd>Stops under about 10 minutes barely deter; 11-15 minutes is the optimum,
and deterrence outlasts the stop; revisit each hot spot within about two hours (Koper 1995; Telep, Mitchell &amp;
Weisburd 2014).</dd>
<dt>Displacement or diffusion</dt><dd>Crime moving round the corner is less common than no change or a diffusion of
benefits, and smaller than the effect when it happens (Guerette &amp; Bowers 2009; Braga et al. 2019).</dd>
<dt>Trust</dt><dd>Community-oriented policing raises satisfaction and legitimacy with limited effect on crime
(Gill et al. 2014); slow responses cost trust more than good ones earn it (Skogan 2006).</dd>
<dt>Recorded against true crime</dt><dd>Maps of recorded crime follow where police look and who reports
(Lum &amp; Isaac 2016); the oracle shows what perfect knowledge would buy.</dd>
</dl>
<footer>Made by <code>precinct train replay</code>. The same decision log gives the same numbers. Scenario file:
{html.escape(str(s.path))}.</footer>
"""
    return _page(f"Debrief: {s.title}", body)


def write_debrief(d: Debrief, path: Path, net: StreetNetwork | None = None) -> Path:
    """Write the debrief page to ``path`` (with maps when the network ``net`` is given) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_debrief(d, net))
    return path


def render_class_page(debriefs: list[Debrief]) -> str:
    """Return one page comparing several trainees on the same scenario and seeds."""
    s = debriefs[0].scenario
    head = "".join(f"<th>{html.escape(MEASURES[m][0])}</th>" for m in HEADLINE)
    rows = []
    for d in sorted(debriefs, key=lambda x: -float(np.mean(x.arms["trainee"].values["score"]))):
        cells = "".join(_cell(d, "trainee", m) for m in HEADLINE)
        vs = d.differences["baseline"]["crimes_total"]
        rows.append(f"<tr><td>{html.escape(d.log.trainee or '(unnamed)')}</td><td>{len(d.log.decisions)}</td>{cells}"
                    f"<td>{_fmt(vs.mean_diff)}<span class=\"ci\">{_fmt(vs.diff_low)} to {_fmt(vs.diff_high)}</span></td></tr>")  # fmt: skip
    ref = debriefs[0]
    for arm in ref.arms:
        if arm == "trainee":
            continue
        cells = "".join(_cell(ref, arm, m) for m in HEADLINE)
        rows.append(
            f'<tr class="group"><td>{html.escape(ref.arms[arm].label)}</td><td>–</td>{cells}<td></td></tr>'
        )
    body = f"""
<h1>Class comparison: {html.escape(s.title)}</h1>
<p class="subtitle">{len(debriefs)} trainees · {len(ref.seeds)} replications each, all on the same seeds
(common random numbers) · built-in strategies and the oracle below the trainees</p>
<table><tr><th>Trainee</th><th>Decisions</th>{head}<th>Crime vs baseline</th></tr>
{"".join(rows)}</table>
<p class="note">Mean per run with 95% intervals over replications; trainees ordered by score.
"Their streets" differ between trainees: each is measured on their own.</p>
<footer>Made by <code>precinct train class</code>.</footer>
"""
    return _page(f"Class: {s.title}", body)


def write_class_page(debriefs: list[Debrief], path: Path) -> Path:
    """Write the class page to ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_class_page(debriefs))
    return path
