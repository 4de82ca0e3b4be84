"""Type stubs of the compiled hotspot kernels (core_ext/_hotspot.pyx); use the wrappers in core_ext."""

import numpy as np
from numpy.typing import NDArray

KERNELS: dict[str, int]

def build_kernel_matrix(
    inc_indptr: NDArray[np.int64],
    inc_place: NDArray[np.int64],
    inc_other: NDArray[np.int64],
    place_a: NDArray[np.int64],
    place_b: NDArray[np.int64],
    place_len: NDArray[np.float64],
    bandwidth: float,
    kernel: int,
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]: ...
def spmv_gather(
    k_indptr: NDArray[np.int64],
    k_indices: NDArray[np.int32],
    k_data: NDArray[np.float64],
    x: NDArray[np.float64],
    scale: float,
    y_place: NDArray[np.float64],
    place_of_edge: NDArray[np.int64] | None,
    y_edge: NDArray[np.float64] | None,
) -> None: ...
def scatter_add(
    place_of_edge: NDArray[np.int64],
    event_edge: NDArray[np.int64],
    event_weight: NDArray[np.float64],
    w_place: NDArray[np.float64],
) -> int: ...
def grid_density(
    event_xy: NDArray[np.float64],
    event_weight: NDArray[np.float64],
    x0: float,
    y0: float,
    cell: float,
    bandwidth: float,
    kernel: int,
    out: NDArray[np.float64],
) -> None: ...
def reach_maxima_at(
    sources: NDArray[np.int64],
    reach_start: NDArray[np.int64],
    reach_end: NDArray[np.int64],
    reach_place: NDArray[np.int64],
    reach_weight: NDArray[np.float64],
    level_a: NDArray[np.float64],
    level_b: NDArray[np.float64],
    queries: NDArray[np.int64],
    slot: NDArray[np.int64],
    out_a: NDArray[np.float64],
    out_b: NDArray[np.float64],
) -> int: ...
