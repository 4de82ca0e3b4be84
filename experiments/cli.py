"""The ``precinct`` command: inspect a street network, run simulations and sweeps, compare strategies.

::

    precinct network info FILE [--network-type T] [--no-cache] [--cache-dir D]
    precinct run [HYDRA OVERRIDES...]          one run, e.g. policy=targeted_patrol seed=3 sim.days=30
    precinct run -m [HYDRA OVERRIDES...]       a sweep, e.g. policy=baseline,cpted 'seed=range(0,20)'
    precinct compare DIR [--out PATH] [--pdf]  report.html (and report.pdf), summary.parquet/csv, results.duckdb
    precinct export DIR --format gpkg|geojson|parquet [--out PATH]   per-street results for QGIS/ArcGIS
    precinct plan budget.officer_hours_per_week=H budget.money=M [plan.* harm.* ...] [OVERRIDES...]
                                               the mix that cuts crime (or harm) most within a budget
    precinct demo [--quick] [--fresh]          the default strategy comparison, then its report
    precinct calibrate [HYDRA OVERRIDES...]    fit the city to its incident file, test it on a later
                                               period: outputs/calibration/NAME (docs/calibration.md)
    precinct hotspots score --city MAP --incidents FILE   weekly hot-spot forecasts, scored
    precinct incidents inspect FILE [OVERRIDES...] [--html OUT]   read a crime-incident file: what was
                                               used and rejected, and the measures a run reports
    precinct train [SCENARIO] [--host H --port P]  officer training web app; also train play | replay LOG |
                                               class LOG... | scenarios (docs/training.md)

Bad input (a missing file, a bad setting) prints one line ``precinct: error: ...`` and exits with
status 2; nothing else prints a traceback unless it is a bug.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from experiments.launch import run_hydra
from sim.errors import PrecinctError

__all__ = ["main"]

DEMO_EXPERIMENT = "compare_strategies"
# `precinct demo --quick`: the same arms over two days and three seeds (about a minute); the city's
# own population, so there is crime to compare (a small population has almost none in two days)
QUICK_OVERRIDES = ("sim.days=2", "seed=range(0,3)")


def _fail(message: str) -> SystemExit:
    line = " ".join(str(message).split())
    print(f"precinct: error: {line}", file=sys.stderr)
    return SystemExit(2)


def _hydra_message(exc: BaseException) -> str:
    """One line from a Hydra/OmegaConf error (their messages span lines and list search paths)."""
    from hydra.errors import MissingConfigException

    if isinstance(exc, MissingConfigException) and exc.options and exc.missing_cfg_file:
        group, _, name = exc.missing_cfg_file.rpartition("/")
        return f"unknown {group or 'config'} {name!r}: choose one of {', '.join(exc.options)}"
    text = str(exc).split("Config search path")[0]
    message = " ".join(text.split())
    cause = exc.__cause__
    if cause is not None and str(cause).strip():
        message += f" ({str(cause).strip().splitlines()[0]})"
    return message


# --------------------------------------------------------------------------- network info
def _cmd_network_info(args: argparse.Namespace) -> int:
    from sim.network import describe, load_network

    net = load_network(
        args.file, network_type=args.network_type, cache_dir=args.cache_dir, use_cache=not args.no_cache
    )
    info = describe(net)
    lon0, lat0, lon1, lat1 = info.get("bbox_lonlat", (float("nan"),) * 4)
    cache = "off" if args.no_cache else ("hit" if info.get("from_cache") else "miss (now cached)")
    rows = [
        ("file", str(args.file)),
        ("network type", info.get("network_type", args.network_type)),
        ("nodes", f"{info['nodes']:,}"),
        ("edges", f"{info['edges']:,} (directed)"),
        ("segments", f"{info['segments']:,} (undirected street segments)"),
        ("street length", f"{info.get('street_km', float('nan')):,.2f} km"),
        ("bbox", f"lon {lon0:.5f} .. {lon1:.5f}, lat {lat0:.5f} .. {lat1:.5f} (WGS84)"),
        ("CRS", str(info.get("crs"))),
        (
            "components",
            f"{info.get('components', '?')} found, {info.get('components_dropped', 0)} dropped "
            f"({info.get('nodes_dropped', 0)} nodes, {info.get('edges_dropped', 0)} edges outside the largest)",
        ),
        (
            "places",
            ", ".join(f"{k} {v:,}" for k, v in info.get("places", {}).items() if v) or "none in the file",
        ),
        ("load time", f"{info.get('load_time_s', float('nan')):.2f} s"),
        ("cache", cache),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


# --------------------------------------------------------------------------- run / demo
def _split_run_args(argv: Sequence[str]) -> tuple[bool, list[str]]:
    multirun = any(a in ("-m", "--multirun") for a in argv)
    return multirun, [a for a in argv if a not in ("-m", "--multirun")]


def _cmd_compare(args: argparse.Namespace) -> int:
    from experiments.compare import compare_runs

    report = compare_runs(Path(args.dir), out_dir=Path(args.out) if args.out else None)
    print(f"report: {report.resolve()}")
    if args.pdf:
        from experiments.printing import print_pdf

        print(f"pdf: {print_pdf(report).resolve()}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from experiments.export import describe_export, export_sweep

    paths = export_sweep(Path(args.dir), fmt=args.format, out_dir=Path(args.out) if args.out else None)
    print(describe_export(paths))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from experiments.compare import compare_runs

    name = DEMO_EXPERIMENT + ("_quick" if args.quick else "")
    sweep_dir = Path(args.out) if args.out else Path("outputs") / "sweeps" / name
    overrides = [f"experiment={DEMO_EXPERIMENT}", f"name={name}", f"hydra.sweep.dir={sweep_dir}"]
    if args.quick:
        overrides += QUICK_OVERRIDES
    if args.fresh:
        overrides.append("resume=false")
    run_hydra(overrides, multirun=True)
    report = compare_runs(sweep_dir)
    print(f"\nStrategy comparison report: {report.resolve()}")
    print("Open it in a browser; it works offline (everything is embedded).")
    return 0


# --------------------------------------------------------------------------- argument parsing
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="precinct",
        description="Agent-based simulation of community policing strategies on real street networks.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    network = sub.add_parser("network", help="inspect a street network")
    net_sub = network.add_subparsers(dest="network_command", required=True, metavar="SUBCOMMAND")
    info = net_sub.add_parser("info", help="load an OSM file and print what the simulation would use")
    info.add_argument("file", help="OpenStreetMap extract (.osm, .osm.xml, .osm.bz2, .osm.pbf)")
    info.add_argument(
        "--network-type", default="drive", help="drive, drive_service, walk, bike, all, all_public"
    )
    info.add_argument("--no-cache", action="store_true", help="neither read nor write the network cache")
    info.add_argument("--cache-dir", default=None, help="network cache folder (default ~/.cache/precinct)")
    info.set_defaults(func=_cmd_network_info)

    sub.add_parser(
        "run",
        help="one run or (-m) a sweep; arguments are Hydra overrides, e.g. policy=targeted_patrol seed=3",
        add_help=False,
    )

    compare = sub.add_parser("compare", help="compare the runs under a sweep folder and write a report")
    compare.add_argument("dir", help="sweep folder (e.g. outputs/sweeps/compare_strategies)")
    compare.add_argument("--out", default=None, help="folder for report.html and tables (default: DIR)")
    compare.add_argument("--pdf", action="store_true", help="also print report.pdf with headless Chromium")
    compare.set_defaults(func=_cmd_compare)

    export = sub.add_parser("export", help="write a sweep's per-street results for GIS (QGIS, ArcGIS)")
    export.add_argument("dir", help="sweep folder (e.g. outputs/sweeps/compare_strategies)")
    export.add_argument("--format", default="gpkg", choices=("gpkg", "geojson", "parquet"),
                        help="gpkg: one GeoPackage with layers; geojson: WGS84 files; parquet: GeoParquet")  # fmt: skip
    export.add_argument("--out", default=None, help="folder for the files (default: DIR/gis)")
    export.set_defaults(func=_cmd_export)

    incidents = sub.add_parser(
        "incidents", help="read a crime-incident file (see: precinct incidents inspect -h)"
    )
    inc_sub = incidents.add_subparsers(dest="incidents_command", required=True, metavar="SUBCOMMAND")
    inc_sub.add_parser(
        "inspect",
        help="FILE [city=custom city.path=MAP] [incidents.columns.lon=COL ...] [--html OUT]: rows used and "
        "rejected by reason, offence mix, concentration, Knox, hour and weekday profiles",
        add_help=False,
    )

    sub.add_parser(
        "calibrate",
        help="fit the city to its incident file and test it on a later period; arguments are Hydra overrides, "
        "e.g. city=custom city.path=MAP incidents.path=FILE calibrate.fit_end=YYYY-MM-DD name=NAME",
        add_help=False,
    )
    sub.add_parser(
        "plan",
        help="budget.officer_hours_per_week=H budget.money=M [plan.trials=N plan.seeds=S plan.days=D] [overrides]: "
        "search strategies and their settings for the mix that cuts crime most within the budget",
        add_help=False,
    )
    hotspots = sub.add_parser("hotspots", help="hot-spot forecasts (see: precinct hotspots score -h)")
    hot_sub = hotspots.add_subparsers(dest="hotspots_command", required=True, metavar="SUBCOMMAND")
    hot_sub.add_parser(
        "score",
        help="--city MAP --incidents FILE: rolling weekly forecasts scored by hit rate, PAI and PEI",
        add_help=False,
    )

    sub.add_parser(
        "train",
        help="[SCENARIO] [--host H --port P]: officer training web app; train play|replay|class|scenarios "
        "(see: precinct train replay -h)",
        add_help=False,
    )
    demo = sub.add_parser("demo", help="run the default strategy comparison and write its report")
    demo.add_argument("--quick", action="store_true", help="quick version: 2 days, 3 seeds")
    demo.add_argument("--fresh", action="store_true", help="redo runs that are already complete")
    demo.add_argument("--out", default=None, help="sweep folder (default outputs/sweeps/compare_strategies)")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``precinct`` console script; returns the exit status."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list and args_list[0] == "run":
            multirun, overrides = _split_run_args(args_list[1:])
            output_dir = run_hydra(overrides, multirun=multirun)
            if multirun and output_dir:
                print(f"\nsweep folder: {output_dir}\ncompare the runs: precinct compare {output_dir}")
            return 0
        if args_list and args_list[0] == "calibrate":
            from experiments.calibrate import main as calibrate_main

            return calibrate_main(args_list[1:])
        if args_list[:1] == ["hotspots"] and args_list[1:2] != ["-h"] and args_list[1:2] != ["--help"]:
            from experiments.hotspots import main as hotspots_main

            return hotspots_main(args_list[1:])
        if args_list[:1] == ["plan"]:
            from experiments.plan import main as plan_main

            return plan_main(args_list[1:])
        if args_list[:1] == ["train"]:
            from experiments.training import main as train_main

            return train_main(args_list[1:])
        if args_list[:2] == ["incidents", "inspect"]:
            from experiments.incidents import main_inspect

            return main_inspect(args_list[2:])
        args = _parser().parse_args(args_list)
        return int(args.func(args))
    except PrecinctError as exc:
        raise _fail(str(exc)) from None
    except (HydraException, OmegaConfBaseException) as exc:
        raise _fail(_hydra_message(exc)) from None
    except KeyboardInterrupt:
        print("precinct: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output was piped into `head` or similar, which stopped reading
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
