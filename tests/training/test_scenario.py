"""Scenario files: the shipped ones load and compose; a bad field names the file, the field and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from experiments.cli import main
from experiments.training_config import scenario_config
from sim.config import ModelConfig
from sim.errors import ScenarioError
from sim.training import SCENARIO_DIR, load_scenario, scenario_names


def test_at_least_three_scenarios_ship_and_compose_into_model_configs() -> None:
    names = scenario_names()
    assert len(names) >= 3
    for name in names:
        s = load_scenario(name)
        assert s.objectives and s.scoring and s.injects and s.n_shifts >= 3
        cfg = scenario_config(s)
        assert isinstance(cfg, ModelConfig)
        assert cfg.police.foot_per_shift == s.foot_officers and cfg.sim.days == s.days
        assert Path(cfg.incidents.path).is_file()  # what the police know at the start


def _write(tmp_path: Path, change: dict[str, object], drop: str = "") -> Path:
    data = yaml.safe_load((SCENARIO_DIR / "night_time_economy.yaml").read_text())
    data.pop(drop, None)
    for key, value in change.items():
        if "." in key:
            head, _, index_key = key.partition(".")
            index, _, sub = index_key.partition(".")
            data[head][int(index)][sub] = value
        else:
            data[key] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"days": -1}, "days", "a number in [0.1, 60]"),
        ({"city": "atlantis"}, "city", "city_of_london"),
        ({"officers": {"foot": "eight"}}, "officers.foot", "whole number"),
        ({"injects.0.kind": "riot"}, "injects[0].kind", "festival"),
        ({"injects.0.day": 9}, "injects[0].day", "below days=2"),
        ({"injects.1.centre": [200, 51.5]}, "injects[1].centre", "[longitude, latitude]"),
        ({"scoring": {"happiness": 1}}, "scoring.happiness", "crimes_total"),
        ({"compare": ["zero_tolerance"]}, "compare", "targeted_patrol"),
        ({"weather": "rain"}, "weather", "scenario fields"),
    ],
)
def test_a_bad_field_names_file_field_value_and_what_is_allowed(
    tmp_path: Path, change: dict[str, object], field: str, expected: str
) -> None:
    path = _write(tmp_path, change)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    assert info.value.field == field
    assert expected in info.value.expected
    assert str(path) in str(info.value)


def test_a_missing_required_field_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="objectives"):
        load_scenario(str(_write(tmp_path, {}, drop="objectives")))


def test_the_cli_refuses_a_bad_scenario_with_exit_2_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, {"shift_hours": 0})
    plan = tmp_path / "plan.json"
    plan.write_text("[]")
    with pytest.raises(SystemExit) as info:
        main(["train", "play", str(path), "--decisions", str(plan), "--log", str(tmp_path / "log.json")])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "shift_hours=0" in err and str(path) in err and "expected" in err
    with pytest.raises(SystemExit) as info:
        main(["train", "no_such_scenario"])
    assert info.value.code == 2 and "night_time_economy" in capsys.readouterr().err
