"""``precinct train play`` and ``replay``: a plan becomes a log, and the same log gives the same debrief."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from experiments.cli import main
from tests.experiments.test_training_app import short_scenario_file


def _numbers(page: str) -> str:
    """The debrief without its maps (the numbers and the words)."""
    return re.sub(r'<img src="data:[^"]*"', "<img", page)


@pytest.mark.slow  # three Hydra compositions and 12 runs; the engine's replay is checked fast in test_session
def test_play_then_replay_twice_gives_the_same_debrief(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = short_scenario_file(tmp_path, compare=[])
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"shift": 0, "kind": "patrol", "segments": [1593, 304], "officers": 3}]))
    log = tmp_path / "ada.json"
    assert (
        main(
            ["train", "play", str(scenario), "--decisions", str(plan), "--log", str(log), "--trainee", "Ada"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "shift 0:" in out and f"decision log: {log}" in out
    pages = []
    for k in range(2):
        debrief = tmp_path / f"debrief{k}.html"
        assert main(["train", "replay", str(log), "--out", str(debrief), "--replications", "2"]) == 0
        assert f"debrief: {debrief.resolve()}" in capsys.readouterr().out
        pages.append(debrief.read_text())
    assert _numbers(pages[0]) == _numbers(pages[1])
    assert "Ada" in pages[0] and "Oracle" in pages[0] and "segments [1593, 304]" in pages[0]
