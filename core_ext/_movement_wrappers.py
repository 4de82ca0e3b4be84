"""Validated wrappers of the movement kernels: advance agents along routes, count agents per edge, group by key."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core_ext import _movement

__all__ = ["advance_along_routes", "count_occupancy", "group_by_key", "match_routine_trips"]

_MESSAGES = {
    _movement.STATUS["route_range"]: "route_pos/route_end of agent {i} point outside route_edges",
    _movement.STATUS["position"]: "position_edge[{i}] differs from route_edges[route_pos[{i}]]",
    _movement.STATUS["edge_range"]: "agent {i} is on or routed over an edge id outside [0, n_edges)",
    _movement.STATUS["speed"]: "speed_mps[{i}] is negative or NaN",
    _movement.STATUS["kind"]: "agent_kind[{i}] is >= n_kinds (occupancy.shape[0])",
}


def _state(value: Any, name: str, dtype: type[np.generic], length: int | None = None) -> NDArray[Any]:
    """Check an array the kernel updates in place: exact dtype, C-contiguous, writeable."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name} must be a numpy array updated in place, got {type(value).__name__}")
    if value.dtype != dtype:
        raise ValueError(f"{name} must have dtype {np.dtype(dtype).name}, got {value.dtype}")
    if not value.flags.c_contiguous or not value.flags.writeable:
        raise ValueError(f"{name} must be C-contiguous and writeable")
    if length is not None and value.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {value.shape[0]}")
    return value


def _int_input(
    value: Any, name: str, dtype: type[np.signedinteger[Any]], length: int | None = None
) -> NDArray[Any]:
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    if arr.size and arr.dtype != dtype:
        info = np.iinfo(dtype)  # only when converting: building an iinfo costs microseconds per call
        if arr.min() < info.min or arr.max() > info.max:
            raise ValueError(f"{name} must fit in {np.dtype(dtype).name}")
    return np.ascontiguousarray(arr, dtype=dtype)


def _route_edges(value: Any) -> NDArray[Any]:
    """Return route edge ids as the kernel reads them: int32 and int64 arrays as they are, else int64.

    A route book can be large: copying it on every step would cost more than the step.
    """
    if (
        isinstance(value, np.ndarray)
        and value.dtype in (np.int32, np.int64)
        and value.ndim == 1
        and value.flags.c_contiguous
    ):
        return value
    return _int_input(value, "route_edges", np.int64)


def advance_along_routes(
    route_edges: ArrayLike,
    route_end: ArrayLike,
    edge_length_m: ArrayLike,
    route_pos: NDArray[np.int64],
    position_edge: NDArray[np.int64],
    position_offset_m: NDArray[np.float64],
    speed_mps: ArrayLike,
    dt_s: float,
    *,
    agent_kind: ArrayLike | None = None,
    occupancy: NDArray[np.int32] | None = None,
    arrived: NDArray[np.bool_] | None = None,
    route_length_m: ArrayLike | None = None,
    agents: ArrayLike | None = None,
) -> NDArray[np.bool_]:
    """Move every routed agent ``speed_mps * dt_s`` metres along its route, in place.

    Agent ``i`` follows ``route_edges[route_pos[i]:route_end[i]]`` and stands on edge
    ``position_edge[i] == route_edges[route_pos[i]]``, ``position_offset_m[i]`` metres from the edge's
    tail.  It walks its distance, crossing as many edges as it takes; reaching the end of the last edge
    is an arrival: it stops there (offset = edge length) and its route is consumed
    (``route_pos[i] = route_end[i]``).  Agents with ``route_pos[i] >= route_end[i]`` are idle and left
    alone, as are agents with zero speed.

    Parameters
    ----------
    route_edges
        All agents' routes as one flat array of edge ids, int32 or int64 (e.g. ``route_edges`` of
        :meth:`Router.routes` or :meth:`Router.routes_from_trees`, possibly offset per agent).
    route_end
        Per agent, the exclusive end of its route in ``route_edges``.
    edge_length_m
        Length of every edge of the network, metres (>= 0; not re-checked on every call).
    route_pos
        Per agent, the index in ``route_edges`` of its current edge.  Updated in place.
    position_edge
        Per agent, its current edge.  Updated in place.
    position_offset_m
        Per agent, metres from the tail of its current edge.  Updated in place.
    speed_mps
        Per agent, walking or driving speed, metres per second (>= 0).
    dt_s
        Length of the step, seconds.
    agent_kind
        Per agent, a small int (int8) kind: 0..n_kinds-1 counted in ``occupancy``, negative = not on
        the street (not counted).  Needed with ``occupancy``.
    occupancy
        int32 array (n_kinds, n_edges) of agents per kind and edge, kept current in place as agents
        change edge (build it with :func:`count_occupancy`; if the model changes an agent's kind or
        teleports it, recount or patch the two entries itself).
    arrived
        Optional output array (bool, length n_agents) to reuse.
    route_length_m
        Optional ``edge_length_m[route_edges]``, computed once when routes are assigned.  The kernel
        then reads lengths in route order instead of gathering them from ``edge_length_m``, which on a
        large network roughly halves the time per step.  Must match ``route_edges`` (not re-checked).
    agents
        Optional indices of the agents to advance (each at most once); the others are not read or
        touched, so an event-driven population passes only its travellers and pays nothing for the
        agents at rest.  ``arrived`` is then aligned with ``agents``.

    Returns
    -------
    numpy.ndarray
        Boolean per agent (per entry of ``agents`` if given), True for agents that arrived during
        this step.

    Raises
    ------
    ValueError
        On a wrong dtype/shape, or on an inconsistent agent (route cursor outside ``route_edges``,
        ``position_edge`` not matching the route, edge id out of range, negative/NaN speed, kind out of
        range).  The kernel stops at that agent: agents before it have moved, so treat the state as
        broken.
    """
    pos = _state(route_pos, "route_pos", np.int64)
    n_agents = pos.shape[0]
    edge = _state(position_edge, "position_edge", np.int64, n_agents)
    offset = _state(position_offset_m, "position_offset_m", np.float64, n_agents)
    edges = _route_edges(route_edges)
    end = _int_input(route_end, "route_end", np.int64, n_agents)
    length = np.ascontiguousarray(edge_length_m, dtype=np.float64)
    if length.ndim != 1:
        raise ValueError(f"edge_length_m must be 1-D, got shape {length.shape}")
    # NaN/negative speeds are caught by the kernel itself: no extra pass over the agents here.
    speed = np.ascontiguousarray(speed_mps, dtype=np.float64)
    if speed.shape != (n_agents,):
        raise ValueError(f"speed_mps must have length {n_agents}, got shape {speed.shape}")
    dt = float(dt_s)
    if not (np.isfinite(dt) and dt >= 0):
        raise ValueError(f"dt_s must be finite and >= 0, got {dt_s}")
    kind = occ = None
    if occupancy is not None:
        if agent_kind is None:
            raise ValueError("agent_kind is required with occupancy")
        occ = _state(occupancy, "occupancy", np.int32)
        if occ.ndim != 2 or occ.shape[1] != length.shape[0]:
            raise ValueError(f"occupancy must have shape (n_kinds, {length.shape[0]}), got {occ.shape}")
        kind = _int_input(agent_kind, "agent_kind", np.int8, n_agents)
    route_len = None
    if route_length_m is not None:
        route_len = np.ascontiguousarray(route_length_m, dtype=np.float64)
        if route_len.shape != edges.shape:
            raise ValueError(
                f"route_length_m must have the shape of route_edges {edges.shape}, got {route_len.shape}"
            )
    listed = None
    if agents is not None:
        listed = _int_input(agents, "agents", np.int64)
        if listed.size and (listed.min() < 0 or listed.max() >= n_agents):
            raise ValueError(f"agents must be indices in [0, {n_agents})")
    n_out = n_agents if listed is None else listed.shape[0]
    if arrived is None:
        arrived = np.empty(n_out, dtype=np.bool_)
    else:
        _state(arrived, "arrived", np.bool_, n_out)
    status, bad, _ = _movement.advance(
        edges, end, length, pos, edge, offset, speed, dt, kind, occ, arrived.view(np.uint8), route_len, listed
    )
    if status:
        raise ValueError(_MESSAGES[status].format(i=bad))
    return arrived


def count_occupancy(
    position_edge: ArrayLike,
    agent_kind: ArrayLike,
    n_kinds: int,
    n_edges: int,
    *,
    out: NDArray[np.int32] | None = None,
) -> NDArray[np.int32]:
    """Count agents per kind and edge from scratch.

    Parameters
    ----------
    position_edge
        Per agent, its current edge.
    agent_kind
        Per agent, its kind (0..n_kinds-1); negative kinds are not counted.
    n_kinds, n_edges
        Shape of the result.
    out
        Optional int32 array of shape (n_kinds, n_edges) to overwrite.

    Returns
    -------
    numpy.ndarray
        int32 array (n_kinds, n_edges): ``out[k, e]`` agents of kind ``k`` on edge ``e``.
    """
    edge = _int_input(position_edge, "position_edge", np.int64)
    kind = _int_input(agent_kind, "agent_kind", np.int8, edge.shape[0])
    if n_kinds < 0 or n_edges < 0:
        raise ValueError("n_kinds and n_edges must be >= 0")
    if out is None:
        out = np.zeros((n_kinds, n_edges), dtype=np.int32)
    else:
        _state(out, "out", np.int32)
        if out.shape != (n_kinds, n_edges):
            raise ValueError(f"out must have shape ({n_kinds}, {n_edges}), got {out.shape}")
    status, bad = _movement.count(edge, kind, out)
    if status:
        raise ValueError(_MESSAGES[status].format(i=bad))
    return out


def group_by_key(keys: ArrayLike, n_keys: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Group positions by key in one counting pass (a stable sort by a small integer key).

    Returns ``(indptr, order)``: ``order[indptr[k]:indptr[k + 1]]`` are the positions ``i`` with
    ``keys[i] == k``, ascending, as ``np.argsort(keys, kind="stable")`` would give them, in
    ``O(len(keys) + n_keys)`` instead of a comparison sort.

    Raises
    ------
    ValueError
        If a key is outside ``[0, n_keys)``.
    """
    k = _int_input(keys, "keys", np.int64)
    if n_keys < 0:
        raise ValueError("n_keys must be >= 0")
    indptr = np.empty(int(n_keys) + 1, dtype=np.int64)
    order = np.empty(k.shape[0], dtype=np.int64)
    bad = _movement.group_by_key(k, indptr, order)
    if bad >= 0:
        raise ValueError(f"keys[{bad}] = {k[bad]} is outside [0, {n_keys})")
    return indptr, order


def match_routine_trips(
    who: NDArray[np.int64],
    origin: NDArray[np.int64],
    dest: NDArray[np.int64],
    anchors: NDArray[np.int64],
    trip_anchors: NDArray[np.int64],
    trip_start: NDArray[np.int64],
    trip_len: NDArray[np.int32],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the route slices ``(start, end)`` of the first routine trip of ``who[i]`` from ``origin[i]`` to ``dest[i]``.

    Agent ``w``'s routine trip ``k`` runs from ``anchors[w, trip_anchors[k, 0]]`` to
    ``anchors[w, trip_anchors[k, 1]]`` along ``trip_start[w, k] : trip_start[w, k] + trip_len[w, k]``
    (``trip_start`` -1: not a trip of ``w``). ``start[i]`` is -1 where no trip matches or the first
    match is not one of ``w``'s trips: the caller routes those. One pass in place of a few array
    operations per trip column.
    """
    # called on every step with a few hundred travellers: checks kept to what memory safety needs
    w = np.ascontiguousarray(who, dtype=np.int64)
    o = np.ascontiguousarray(origin, dtype=np.int64)
    d = np.ascontiguousarray(dest, dtype=np.int64)
    a = np.ascontiguousarray(anchors, dtype=np.int64)
    pairs = np.asarray(trip_anchors, dtype=np.int64)
    first = np.ascontiguousarray(trip_start, dtype=np.int64)
    length = np.ascontiguousarray(trip_len, dtype=np.int32)
    n, n_trips = w.shape[0], pairs.shape[0]
    if w.ndim != 1 or o.shape != (n,) or d.shape != (n,):
        raise ValueError(
            f"who, origin and dest must be 1-D of one length, got {w.shape}, {o.shape}, {d.shape}"
        )
    if a.ndim != 2 or pairs.shape != (n_trips, 2) or first.shape != (a.shape[0], n_trips):
        raise ValueError("anchors (agents, k), trip_anchors (trips, 2), trip_start (agents, trips) disagree")
    if length.shape != first.shape:
        raise ValueError(f"trip_len must have the shape of trip_start {first.shape}, got {length.shape}")
    if n and (w.min() < 0 or w.max() >= a.shape[0]):
        raise ValueError(f"who must be indices in [0, {a.shape[0]})")
    if pairs.size and (pairs.min() < 0 or pairs.max() >= a.shape[1]):
        raise ValueError(f"trip_anchors must be columns in [0, {a.shape[1]})")
    start = np.empty(n, dtype=np.int64)
    end = np.empty(n, dtype=np.int64)
    _movement.routine_slices(w, o, d, a, np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]),
                             first, length, start, end)  # fmt: skip
    return start, end
