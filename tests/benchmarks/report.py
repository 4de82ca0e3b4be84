"""Print the benchmark table of ``make bench``: per group, medians, ratios peer/core_ext and the floors.

Usage: ``python -m tests.benchmarks.report [results.json]``.  Without an argument it reads
``.benchmarks/latest.json`` (written by tests/benchmarks/conftest.py), else the newest JSON that
pytest-benchmark saved under ``.benchmarks/`` (``--benchmark-autosave``/``--benchmark-save``).
Exit status 1 if a floor is missed, 2 if there are no results.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
STORAGE = REPO / ".benchmarks"


@dataclass(frozen=True)
class Floor:
    """A requirement on one group: a minimum ratio peer/core_ext, or a bound on core_ext itself."""

    group: str
    text: str
    peer: str | None = None  # ratio floor: median(peer) / median(core_ext) >= value
    min_ratio: float = 0.0
    min_rate: float = 0.0  # work items per second of core_ext
    max_median_s: float = 0.0


FLOORS = (
    Floor("sssp_100k", "full SSSP >= 2x SciPy", peer="scipy", min_ratio=2.0),  # issue 15 (was 1.5x)
    Floor("sssp_100k", "full SSSP >= 20x networkx", peer="networkx", min_ratio=20.0),
    Floor("p2p_100k", "random route >= 20x networkx", peer="networkx", min_ratio=20.0),
    Floor("local_trips_100k", "local trips >= 10k routes/s", min_rate=10_000.0),
    Floor("bounded_400m_100k", "bounded 400 m >= 20x SciPy limit=", peer="scipy", min_ratio=20.0),
    Floor(
        "dispatch_nearest_100k", "nearest of 10 officers >= 5x SciPy min_only", peer="scipy", min_ratio=5.0
    ),
    Floor("movement_100k", "movement >= 50M agent-advances/s", min_rate=50e6),
    Floor("kde_refresh_10k", "KDE refresh <= 2 ms", max_median_s=2e-3),
    Floor("model_step_100k", "model >= 50M agent-steps/s", min_rate=50e6),  # issue 15 (was 20M)
    Floor("model_step_100k", "model >= 50x plain Mesa", peer="mesa", min_ratio=50.0),
    Floor("incident_read_1m", "read and snap 1M incidents <= 20 s", max_median_s=20.0),
    Floor("incident_snap_100k", "snapping >= 1x OSMnx nearest_edges", peer="osmnx", min_ratio=1.0),
)


def find_results(argv: list[str]) -> Path | None:
    if argv:
        return Path(argv[0])
    latest = STORAGE / "latest.json"
    if latest.is_file():
        return latest
    saved = sorted(STORAGE.rglob("*.json"), key=lambda p: p.stat().st_mtime) if STORAGE.is_dir() else []
    return saved[-1] if saved else None


def _ours(impls: dict[str, Any]) -> str:
    """The implementation the ratios are taken against: the kernels, or Precinct's own Python."""
    return "core_ext" if "core_ext" in impls else "precinct"


def _fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:8.2f} {unit}"
    return f"{seconds / 1e-9:8.1f} ns"


def _fmt_rate(rate: float) -> str:
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if rate >= scale:
            return f"{rate / scale:.2f}{suffix}/s"
    return f"{rate:.1f}/s"


def summarise(data: dict[str, Any]) -> tuple[list[str], bool]:
    """Return the report lines and whether every floor with results was met."""
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        impl = info.get("impl", bench["name"])
        groups.setdefault(bench.get("group") or "(none)", {})[impl] = {
            "median": bench["stats"]["median"],
            "work": info.get("work", 1),
            "extra": info,
        }
    lines = [
        f"{'group':<20} {'implementation':<14} {'median':>11} {'per item':>11} {'rate':>12} {'ratio':>9}"
    ]
    lines.append("-" * len(lines[0]))
    for group in sorted(groups):
        impls = groups[group]
        key = _ours(impls)
        ours = impls.get(key)
        for impl in sorted(impls, key=lambda k: (k != key, k)):
            r = impls[impl]
            per_item = r["median"] / r["work"]
            ratio = (
                "" if ours is None or impl == key else f"{per_item / (ours['median'] / ours['work']):8.1f}x"
            )
            lines.append(
                f"{group:<20} {impl:<14} {_fmt_time(r['median']):>11} {_fmt_time(per_item):>11} "
                f"{_fmt_rate(1.0 / per_item):>12} {ratio:>9}"
            )
        for impl in sorted(impls, key=lambda k: (k != key, k)):
            extra = impls[impl]["extra"]
            if "bytes_per_trip" in extra:
                lines.append(
                    f"{'':<20} {impl} route book: {extra['bytes_per_trip']:.0f} bytes/trip, "
                    f"{extra['bytes_per_resident']:.0f} bytes/resident, {extra['edges_per_trip']:.1f} edges/trip"
                )
        if ours is not None and "setup_time_s" in ours["extra"]:
            nnz = ours["extra"].get("kernel_nnz", "?")
            lines.append(
                f"{'':<20} set-up (build K): {ours['extra']['setup_time_s'] * 1e3:.1f} ms, nnz {nnz}"
            )
    lines.append("")
    lines.append("floors (issues 3, 4 and 15):")
    all_met = True
    for floor in FLOORS:
        impls = groups.get(floor.group, {})
        ours = impls.get(_ours(impls))
        if ours is None or (floor.peer is not None and floor.peer not in impls):
            lines.append(f"  [ n/a ] {floor.text}: not measured in this run")
            continue
        per_item = ours["median"] / ours["work"]
        if floor.peer is not None:
            peer = impls[floor.peer]
            value = (peer["median"] / peer["work"]) / per_item
            met, shown = value >= floor.min_ratio, f"{value:.1f}x"
        elif floor.min_rate:
            value = 1.0 / per_item
            met, shown = value >= floor.min_rate, _fmt_rate(value)
        else:
            value = ours["median"]
            met, shown = value <= floor.max_median_s, _fmt_time(value).strip()
        all_met &= met
        lines.append(f"  [{' met ' if met else 'MISSED'}] {floor.text}: {shown}")
    return lines, all_met


def main(argv: list[str] | None = None) -> int:
    path = find_results(sys.argv[1:] if argv is None else argv)
    if path is None or not path.is_file():
        print("no benchmark results: run `make bench` (pytest tests/benchmarks --benchmark-enable ...)")
        return 2
    lines, all_met = summarise(json.loads(path.read_text()))
    print(f"benchmark results from {path}")
    print("\n".join(lines))
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
