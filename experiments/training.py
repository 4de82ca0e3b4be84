"""``precinct train``: the training app, headless play and replay of decision logs, debriefs and class pages.

::

    precinct train [SCENARIO] [--host H] [--port P]     the web app (Solara) on localhost
    precinct train play SCENARIO --decisions PLAN.json --log LOG.json   run a plan headlessly, save its log
    precinct train replay LOG.json [--out DEBRIEF.html] [--replications N]   re-simulate, write the debrief
    precinct train class LOG.json LOG.json ... [--out CLASS.html]    one comparison page for a class
    precinct train scenarios                              the shipped scenarios

Scenarios are conf/scenario/*.yaml (docs/training.md); this module turns one into a model config
with Hydra, which is why it lives here and not in sim/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments.training_config import scenario_config, scenario_of_log
from sim.errors import ScenarioError
from sim.network import load_network
from sim.training import DecisionLog, load_scenario, replay, run_debrief, scenario_names

__all__ = ["main"]

DEFAULT_SCENARIO = "night_time_economy"


def _progress(arm: str, seed: int) -> None:
    print(f"  {arm:<20} seed {seed}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- commands
def _cmd_play(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    try:
        plan = json.loads(Path(args.decisions).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ScenarioError(
            args.decisions, "decisions", "unreadable", f"a JSON list of decisions ({exc})"
        ) from None
    if not isinstance(plan, list):
        raise ScenarioError(args.decisions, "decisions", type(plan).__name__, "a JSON list of decisions")
    log = DecisionLog(scenario=scenario.to_dict(), seed=scenario.seed, trainee=args.trainee, decisions=plan,
                      shifts_run=scenario.n_shifts)  # fmt: skip
    t0 = time.perf_counter()
    session = replay(log, scenario, scenario_config(scenario))
    for r in session.reports:
        print(f"shift {r.shift}: {r.recorded} recorded, {r.calls} calls, {r.stops_on_plan} stops on the plan "
              f"({r.stops_in_koper_range} of 10-15 min)")  # fmt: skip
    path = session.log().save(args.log)
    print(f"{session.shift} shifts in {time.perf_counter() - t0:.1f} s; decision log: {path}")
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from experiments.training_report import write_debrief

    log = DecisionLog.load(args.log)
    scenario = scenario_of_log(log)
    config = scenario_config(scenario)
    net = load_network(
        config.city.path, network_type=config.city.network_type, cache_dir=config.city.cache_dir
    )
    t0 = time.perf_counter()
    debrief = run_debrief(log, scenario, config, network=net, replications=args.replications,
                          on_progress=_progress)  # fmt: skip
    out = Path(args.out) if args.out else Path(args.log).with_suffix(".debrief.html")
    write_debrief(debrief, out, net)
    mean, low, high = debrief.interval("trainee", "crimes_total")
    base = debrief.interval("baseline", "crimes_total")
    print(f"trainee's plan: {mean:.1f} crimes per run (95% CI {low:.1f} to {high:.1f}); "
          f"baseline {base[0]:.1f}; {len(debrief.seeds)} seeds, {time.perf_counter() - t0:.0f} s")  # fmt: skip
    print(f"debrief: {out.resolve()}")
    return 0


def _cmd_class(args: argparse.Namespace) -> int:
    from experiments.training_report import write_class_page

    logs = [DecisionLog.load(p) for p in args.logs]
    names = {log.scenario["name"] for log in logs}
    if len(names) != 1:
        raise ScenarioError(
            args.logs[0], "scenario", sorted(names), "logs of one scenario for one class page"
        )
    scenario = scenario_of_log(logs[0])
    config = scenario_config(scenario)
    net = load_network(
        config.city.path, network_type=config.city.network_type, cache_dir=config.city.cache_dir
    )
    shared: dict[Any, Any] = {}
    debriefs = [run_debrief(log, scenario, config, network=net, replications=args.replications, shared=shared,
                            on_progress=_progress) for log in logs]  # fmt: skip
    out = Path(args.out)
    write_class_page(debriefs, out)
    print(f"class page ({len(logs)} trainees): {out.resolve()}")
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario or DEFAULT_SCENARIO)
    from experiments.training_app import preload, serve

    preload(scenario)  # a bad scenario fails here, before the server starts; the first page is quicker

    return serve(scenario.path, host=args.host, port=args.port, trainee=args.trainee)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="precinct train", description="Officer training scenarios.")
    sub = parser.add_subparsers(dest="sub", metavar="COMMAND")
    play = sub.add_parser("play", help="run a plan (a JSON list of decisions) headlessly and save its log")
    play.add_argument("scenario", help="scenario name (conf/scenario/NAME.yaml) or file")
    play.add_argument("--decisions", required=True, help="JSON list of decisions, each with its shift")
    play.add_argument("--log", required=True, help="where to write the decision log (JSON)")
    play.add_argument("--trainee", default="", help="the trainee's name")
    play.set_defaults(func=_cmd_play)
    rep = sub.add_parser("replay", help="re-simulate a decision log and write the debrief (HTML)")
    rep.add_argument("log", help="decision log (JSON)")
    rep.add_argument("--out", default=None, help="debrief file (default LOG.debrief.html)")
    rep.add_argument("--replications", type=int, default=None, help="seeds per arm (default: the scenario's)")
    rep.set_defaults(func=_cmd_replay)
    cls = sub.add_parser("class", help="several trainees' logs of one scenario: one comparison page")
    cls.add_argument("logs", nargs="+", help="decision logs (JSON)")
    cls.add_argument("--out", default="class.html", help="comparison page (HTML)")
    cls.add_argument("--replications", type=int, default=None, help="seeds per arm (default: the scenario's)")
    cls.set_defaults(func=_cmd_class)
    names = sub.add_parser("scenarios", help="list the shipped scenarios")
    names.set_defaults(func=lambda _a: print("\n".join(scenario_names())) or 0)
    return parser


def _app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="precinct train", description="Start the training web app.")
    parser.add_argument("scenario", nargs="?", default=None, help=f"scenario (default {DEFAULT_SCENARIO})")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--trainee", default="", help="the trainee's name, written in the decision log")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run ``precinct train ...`` (errors are reported by the ``precinct`` entry point)."""
    argv = list(argv)
    if argv[:1] and argv[0] in ("play", "replay", "class", "scenarios", "-h", "--help"):
        args = _parser().parse_args(argv)
    else:
        args = _app_parser().parse_args(argv)
        args.func = _cmd_app
    return int(args.func(args))
