"""Project errors stay clear and survive the trip to and from worker processes (sweeps)."""

from __future__ import annotations

import pickle

from sim.errors import ConfigError, NetworkFileError


def test_errors_pickle_round_trip() -> None:
    for err in (ConfigError("sim.days", -1.0, "a positive finite number"),
                NetworkFileError("/x.osm", "no such file", "check the path")):  # fmt: skip
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert str(back) == str(err)
        assert isinstance(back, ValueError)
