"""Input checks shared by the core_ext wrappers: coerce dtypes, check shapes and index ranges, name the culprit."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "as_bool_mask",
    "as_float_array",
    "as_index",
    "as_index_array",
    "check_csr",
    "check_node_xy",
]


def _as_array(value: Any, name: str) -> NDArray[Any]:
    try:
        return np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises many types for odd input
        raise ValueError(f"{name} must be array-like, got {type(value).__name__}") from exc


def as_index_array(
    value: Any, name: str, *, upper: int | None = None, ndim: int = 1, length: int | None = None
) -> NDArray[np.int64]:
    """Return ``value`` as a C-contiguous int64 array with every entry in ``[0, upper)`` if given."""
    arr = _as_array(value, name)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "b" and arr.size == 0) and arr.size > 0:
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} has entries too large for int64")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if upper is not None and out.size and (out.min() < 0 or out.max() >= upper):
        bad = out[(out < 0) | (out >= upper)][0]
        raise ValueError(f"{name} must lie in [0, {upper}), found {bad}")
    return out


def as_index(value: Any, name: str, *, upper: int) -> int:
    """Return ``value`` as a Python int in ``[0, upper)``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    if not 0 <= int(value) < upper:
        raise ValueError(f"{name} must lie in [0, {upper}), got {value}")
    return int(value)


def as_float_array(
    value: Any,
    name: str,
    *,
    length: int | None = None,
    ndim: int = 1,
    nonnegative: bool = False,
    finite: bool = True,
) -> NDArray[np.float64]:
    """Return ``value`` as a C-contiguous float64 array, rejecting NaN (and inf/negatives when asked)."""
    arr = _as_array(value, name)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if out.size:
        if np.isnan(out).any():
            raise ValueError(f"{name} must not contain NaN")
        if finite and not np.isfinite(out).all():
            raise ValueError(f"{name} must be finite")
        if nonnegative and out.min() < 0:
            raise ValueError(f"{name} must be >= 0, found {out.min()}")
    return out


def as_bool_mask(value: Any, name: str, *, length: int) -> NDArray[np.uint8] | None:
    """Return a boolean mask as a uint8 view (what the kernels read), or None for "no mask"."""
    if value is None:
        return None
    arr = _as_array(value, name)
    if arr.dtype != np.bool_:
        raise ValueError(f"{name} must be a boolean array, got dtype {arr.dtype}")
    if arr.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},), got {arr.shape}")
    return np.ascontiguousarray(arr).view(np.uint8)


def check_csr(
    indptr: Any, indices: Any, weights: Any, *, weights_name: str = "weights"
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Validate a CSR graph; return int64/int64/float64 C-contiguous arrays (no copy when already so)."""
    indptr_a = as_index_array(indptr, "indptr")
    if indptr_a.shape[0] < 1 or indptr_a[0] != 0:
        raise ValueError("indptr must start with 0 and have length n_nodes + 1")
    if indptr_a.shape[0] > 1 and (np.diff(indptr_a) < 0).any():
        raise ValueError("indptr must be non-decreasing")
    n_nodes = indptr_a.shape[0] - 1
    if n_nodes >= 2**31 - 1:
        raise ValueError("indptr describes too many nodes (the kernels index nodes with 32 bits)")
    indices_a = as_index_array(indices, "indices", upper=n_nodes)
    if indices_a.shape[0] != indptr_a[-1]:
        raise ValueError(f"indices must have length indptr[-1] = {indptr_a[-1]}, got {indices_a.shape[0]}")
    weights_a = as_float_array(weights, weights_name, length=indices_a.shape[0], nonnegative=True)
    return indptr_a, indices_a, weights_a


def check_node_xy(node_xy: Any, n_nodes: int, name: str = "node_xy") -> NDArray[np.float64]:
    """Validate projected node coordinates of shape (n_nodes, 2)."""
    xy = as_float_array(node_xy, name, ndim=2)
    if xy.shape != (n_nodes, 2):
        raise ValueError(f"{name} must have shape ({n_nodes}, 2), got {xy.shape}")
    return xy
