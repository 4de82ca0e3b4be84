"""Type stubs of the compiled routing kernels (core_ext/_routing.pyx); use the wrappers in core_ext."""

import numpy as np
from numpy.typing import NDArray

def shortest_path_lengths(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    weights: NDArray[np.float64],
    closed: NDArray[np.uint8] | None,
    sources: NDArray[np.int64],
    source_cost: NDArray[np.float64],
    cutoff: float,
    out_dist: NDArray[np.float64],
    out_label: NDArray[np.int64] | None = None,
    buckets: bool = False,
    target: int = -1,
) -> bool: ...

class DijkstraWorkspace:
    n_nodes: int
    def __init__(self, n_nodes: int) -> None: ...
    def bounded(
        self,
        indptr: NDArray[np.int64],
        indices: NDArray[np.int64],
        weights: NDArray[np.float64],
        closed: NDArray[np.uint8] | None,
        sources: NDArray[np.int64],
        source_cost: NDArray[np.float64],
        cutoff: float,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]: ...
    def nearest_of(
        self,
        indptr: NDArray[np.int64],
        indices: NDArray[np.int64],
        weights: NDArray[np.float64],
        closed: NDArray[np.uint8] | None,
        origin: int,
        candidates: NDArray[np.int64],
    ) -> tuple[NDArray[np.int64], float]: ...
    def routes(
        self,
        indptr: NDArray[np.int64],
        indices: NDArray[np.int64],
        weights: NDArray[np.float64],
        closed: NDArray[np.uint8] | None,
        edge_tail: NDArray[np.int64],
        node_xy: NDArray[np.float64] | None,
        h_scale: float,
        origins: NDArray[np.int64],
        destinations: NDArray[np.int64],
        lm_from: NDArray[np.float64] | None = None,
        lm_to: NDArray[np.float64] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]: ...
    def tree_routes(
        self,
        indptr: NDArray[np.int64],
        indices: NDArray[np.int64],
        weights: NDArray[np.float64],
        closed: NDArray[np.uint8] | None,
        edge_tail: NDArray[np.int64],
        node_xy: NDArray[np.float64] | None,
        h_scale: float,
        group_indptr: NDArray[np.int64],
        group_origin: NDArray[np.int64],
        targets: NDArray[np.int64],
        last_edges: NDArray[np.int64] | None,
        min_tree_targets: int,
        out_start: NDArray[np.int64],
        out_end: NDArray[np.int64],
        out_cost: NDArray[np.float64],
        lm_from: NDArray[np.float64] | None = None,
        lm_to: NDArray[np.float64] | None = None,
    ) -> tuple[NDArray[np.int32], int, int]: ...
