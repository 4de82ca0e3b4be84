"""Type stubs of the compiled movement kernels (core_ext/_movement.pyx); use the wrappers in core_ext."""

import numpy as np
from numpy.typing import NDArray

STATUS: dict[str, int]

def advance(
    route_edges: NDArray[np.int32] | NDArray[np.int64],
    route_end: NDArray[np.int64],
    edge_length_m: NDArray[np.float64],
    route_pos: NDArray[np.int64],
    position_edge: NDArray[np.int64],
    position_offset_m: NDArray[np.float64],
    speed_mps: NDArray[np.float64],
    dt_s: float,
    agent_kind: NDArray[np.int8] | None,
    occupancy: NDArray[np.int32] | None,
    arrived: NDArray[np.uint8],
    route_length_m: NDArray[np.float64] | None = None,
    agents: NDArray[np.int64] | None = None,
) -> tuple[int, int, int]: ...
def count(
    position_edge: NDArray[np.int64],
    agent_kind: NDArray[np.int8],
    occupancy: NDArray[np.int32],
) -> tuple[int, int]: ...
def group_by_key(
    keys: NDArray[np.int64],
    indptr: NDArray[np.int64],
    order: NDArray[np.int64],
) -> int: ...
def routine_slices(
    who: NDArray[np.int64],
    origin: NDArray[np.int64],
    dest: NDArray[np.int64],
    anchors: NDArray[np.int64],
    trip_from: NDArray[np.int64],
    trip_to: NDArray[np.int64],
    trip_start: NDArray[np.int64],
    trip_len: NDArray[np.int32],
    start: NDArray[np.int64],
    end: NDArray[np.int64],
) -> None: ...
