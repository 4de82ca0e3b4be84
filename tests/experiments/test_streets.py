"""Streets by name and value for money in the report: labels, tables, CSV data and both ratio branches."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.compare import compare_runs, compare_sweep
from experiments.streets import changed_streets, hotspot_streets, segment_frame, street_labels
from sim.results import load_sweep, write_run
from tests.experiments.fakes import fake_result, fixture_network


def test_network_keeps_osm_names_and_refs() -> None:
    net = fixture_network()
    assert "Wood Street" in set(net.segment_name) and "7th Street" in set(net.segment_name)
    assert net.segment_name.shape == net.segment_ref.shape == (net.n_segments,)
    assert not net.segment_name.flags.writeable


def test_street_labels_fall_back_on_the_road_number_then_the_nearest_named_street() -> None:
    net = fixture_network()
    codes = np.asarray(net.edge_name).copy()
    refs = np.full(net.n_edges, -1, dtype=np.int32)
    first = net.segment_edge[0]
    second = net.segment_edge[1]
    on_first = net.edge_segment == 0
    on_second = net.edge_segment == 1
    codes[on_first | on_second] = -1
    names = (*net.street_names, "CA 123")
    refs[on_first] = len(names) - 1  # segment 0 has a road number only; segment 1 has nothing
    bare = dataclasses.replace(net, edge_name=codes, edge_ref=refs, street_names=names)
    labels = street_labels(bare)
    assert labels[0] == "CA 123"
    assert labels[1].startswith("near ") and labels[1][5:] in set(net.segment_name)
    assert bare.edge_osm_way_id[first] == net.edge_osm_way_id[first] and second >= 0
    nameless = dataclasses.replace(net, edge_name=np.full(net.n_edges, -1, np.int32),
                                   edge_ref=np.full(net.n_edges, -1, np.int32))  # fmt: skip
    assert set(street_labels(nameless)) == {"unnamed street"}


def _write(
    root: Path, policy: str, seed: int, *, crimes_scale: float | None = None, cost: float | None = None
) -> None:
    result = fake_result(fixture_network(), policy, seed)
    if cost is not None:
        result.metrics["cost_total"] = cost
    if crimes_scale is not None:  # the strategy run's crime: the same seed's baseline crime, scaled
        base = fake_result(fixture_network(), "baseline", seed)
        result.metrics["crimes_total"] = base.metrics["crimes_total"] * crimes_scale
    write_run(root / f"policy={policy},seed={seed}", result, wall_time_s=1.0)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("streets")
    for seed in range(3):
        _write(root, "baseline", seed)
        _write(root, "targeted_patrol+cpted", seed)  # halves crime on its streets, costs 1,000
    return root


@pytest.fixture(scope="module")
def page(sweep_dir: Path) -> str:
    return compare_runs(sweep_dir).read_text()


def test_segment_frame_has_names_intervals_and_flags(sweep_dir: Path) -> None:
    comp = compare_sweep(load_sweep(sweep_dir))
    net = fixture_network()
    frame = segment_frame(comp, net)
    assert len(frame) == net.n_segments
    key = "targeted_patrol_cpted"
    for col in ("street", "osm_way_id", "baseline_crimes_week", "baseline_crimes_week_low",
                f"{key}_change_week", f"{key}_change_week_high", f"{key}_treated", f"{key}_buffer", f"{key}_cost"):  # fmt: skip
        assert col in frame, col
    # crimes per week: the runs are 2 days, so a week is 3.5 runs
    seg0 = comp.segment_crimes["baseline"][0].mean() * 3.5
    assert frame.loc[0, "baseline_crimes_week"] == pytest.approx(seg0)
    assert (frame["baseline_crimes_week_low"] <= frame["baseline_crimes_week"]).all()
    # the strategy's cost is shared over the segments it treated
    assert frame[f"{key}_cost"].sum() == pytest.approx(1000.0)
    assert (frame.loc[frame[f"{key}_treated"] == 0, f"{key}_cost"] == 0).all()
    hot = hotspot_streets(frame)
    assert (
        list(hot["rank"]) == list(range(1, len(hot) + 1))
        and hot["baseline_crimes_week"].is_monotonic_decreasing
    )
    arm = next(a for a in comp.arms if a.policy != "baseline")
    changed = changed_streets(frame, arm)
    assert changed[f"{key}_change_week"].abs().is_monotonic_decreasing


def _table_data(page: str, table_id: str) -> pd.DataFrame:
    block = re.search(
        rf"<script type='application/json' id='{table_id}-data'>(.*?)</script>", page, re.DOTALL
    )
    assert block, table_id
    data = json.loads(block.group(1))
    return pd.DataFrame(data["rows"], columns=data["columns"])


def test_report_names_streets_and_offers_csv(page: str) -> None:
    assert (
        "Hot spots by name" in page
        and "Streets it treated" in page
        and "Streets whose crime changed most" in page
    )
    hot = _table_data(page, "hotspots")
    assert {"street", "osm_way_id", "baseline_crimes_week_low"} <= set(hot.columns)
    assert set(hot["street"]) <= set(fixture_network().segment_name)
    assert page.count("class='csv'") == 3 and "table class='sortable'" not in page  # id before class
    assert len(re.findall(r"<table id='[^']+' class='sortable'>", page)) == 3


def test_value_for_money_rows(page: str, tmp_path: Path) -> None:
    from experiments.value import value_for_money, value_table

    row = re.search(r"<table class='value'>.*?</table>", page, re.DOTALL)
    assert row and "Cost per crime prevented" in row.group(0)
    # crime fell clearly and the strategy cost 1,000 per run: a number with an interval
    cells = re.findall(
        r"<td title='Ratio of mean cost[^>]*>([^<]*)<span class='ci'>([^<]*)</span>", row.group(0)
    )
    assert len(cells) == 1
    value = float(cells[0][0].replace(",", ""))
    low, high = (float(x.replace(",", "").replace("−", "-")) for x in cells[0][1].split(" to "))
    assert low < value < high

    # the same strategy with no clear change in crime: not estimable
    for seed in range(3):
        _write(tmp_path, "baseline", seed)
        _write(tmp_path, "targeted_patrol+cpted", seed, crimes_scale=1.0 + (0.02 if seed % 2 else -0.02))
    comp = compare_sweep(load_sweep(tmp_path))
    table = re.search(
        r"<table class='value'>.*?</table>", value_table(value_for_money(comp), comp.days), re.DOTALL
    )
    assert table and "not estimable: the interval of crimes prevented includes zero" in table.group(0)

    # a strategy that spent nothing: nothing per crime prevented, a plain 0 (it was a bare dash)
    free = tmp_path / "free"
    for seed in range(3):
        _write(free, "baseline", seed, cost=0.0)
        _write(free, "targeted_patrol+cpted", seed, cost=0.0)
    comp = compare_sweep(load_sweep(free))
    table = re.search(
        r"<table class='value'>.*?</table>", value_table(value_for_money(comp), comp.days), re.DOTALL
    )
    assert (
        table
        and "<td title='The strategy spent none, so nothing per crime prevented'>0</td>" in table.group(0)
    )
