"""Precinct's simulation core: load a street network, configure a run, build the model, run it.

The public face of the package; everything else is importable from its own module::

    from sim import ModelConfig, load_network, run_simulation

    net = load_network("data/osm/city_of_london.osm.pbf", network_type="walk")
    result = run_simulation(ModelConfig(seed=3), network=net)
"""

from sim.config import ModelConfig
from sim.model import PrecinctModel, run_simulation
from sim.network import StreetNetwork, load_network
from sim.outputs import SimulationResult

__all__ = [
    "ModelConfig",
    "PrecinctModel",
    "SimulationResult",
    "StreetNetwork",
    "load_network",
    "run_simulation",
]
