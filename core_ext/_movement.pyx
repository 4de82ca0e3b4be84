"""Movement kernels: advance agents along their routes and keep per-edge occupancy counts by agent kind.

Kernels only; the validated public wrappers live in core_ext/__init__.py.  State arrays belong to the
model (structure of arrays) and are updated in place without the GIL.  A kernel that meets an
inconsistent agent stops and returns an error code and the agent's index: the wrapper raises a
ValueError naming the array at fault.
"""

from libc.stdint cimport uint64_t

from core_ext._types cimport float64_t, int8_t, int32_t, int64_t, uint8_t

# Status codes returned by advance() / count(): 0 = fine, else the wrapper names the culprit.
cdef enum:
    ERR_ROUTE_RANGE = 1       # route_pos / route_end outside route_edges
    ERR_POSITION = 2          # position_edge differs from route_edges[route_pos]
    ERR_EDGE_RANGE = 3        # an edge id outside [0, n_edges)
    ERR_SPEED = 4             # speed negative or NaN
    ERR_KIND = 5              # agent_kind >= n_kinds

# PIPELINE: how many agents ahead advance() prefetches (a C macro so it can size a stack array).
cdef extern from *:
    """
    #define PIPELINE 16
    """
    const int PIPELINE
    void __builtin_prefetch(const void*, ...) nogil

# Route books store edge ids in 32 bits (half the memory of a city's routes); int64 is accepted too.
ctypedef fused route_edge_t:
    int32_t
    int64_t

STATUS = {
    "route_range": ERR_ROUTE_RANGE,
    "position": ERR_POSITION,
    "edge_range": ERR_EDGE_RANGE,
    "speed": ERR_SPEED,
    "kind": ERR_KIND,
}


def advance(
    const route_edge_t[::1] route_edges,
    const int64_t[::1] route_end,
    const float64_t[::1] edge_length_m,
    int64_t[::1] route_pos,
    int64_t[::1] position_edge,
    float64_t[::1] position_offset_m,
    const float64_t[::1] speed_mps,
    float64_t dt_s,
    const int8_t[::1] agent_kind,
    int32_t[:, ::1] occupancy,
    uint8_t[::1] arrived,
    const float64_t[::1] route_length_m=None,
    const int64_t[::1] agents=None,
):
    """Advance every agent with an active route by ``speed_mps * dt_s`` metres.

    ``route_edges`` may hold int32 or int64 edge ids.
    Returns ``(status, agent, n_arrived)``; ``status`` is 0 or one of the ERR_* codes, ``agent`` the
    index of the first offending agent (-1 if none).  ``agent_kind``/``occupancy`` may be None.
    ``route_length_m`` (optional, aligned with ``route_edges``) replaces the random reads of
    ``edge_length_m[route_edges[p]]`` by a sequential scan: about twice as fast on large networks.
    ``agents`` (optional, indices into the state arrays) limits the pass to those agents, e.g. the
    travellers of an event-driven population; ``arrived`` is then aligned with ``agents``.
    """
    cdef bint listed = agents is not None
    cdef int64_t n_agents = agents.shape[0] if listed else route_pos.shape[0]
    cdef const int64_t* agent_ids = &agents[0] if listed and agents.shape[0] > 0 else NULL
    cdef int64_t a
    cdef int64_t n_route = route_edges.shape[0]
    cdef uint64_t n_edges = <uint64_t>edge_length_m.shape[0]
    cdef bint track = occupancy is not None and agent_kind is not None
    cdef int64_t n_kinds = occupancy.shape[0] if track else 0
    cdef int64_t i, j, p, end, e, start_e, n_arrived = 0, bad = -1, slot = 0, pending
    cdef int64_t[PIPELINE] ring
    cdef int8_t k
    cdef int status = 0
    cdef float64_t remaining, left, off, v
    cdef const float64_t* lengths = &edge_length_m[0] if edge_length_m.shape[0] > 0 else NULL
    cdef const float64_t* route_len = NULL
    cdef int32_t* occ = &occupancy[0, 0] if track and occupancy.shape[1] > 0 else NULL
    if route_length_m is not None and route_length_m.shape[0] > 0:
        route_len = &route_length_m[0]
    if occ == NULL:
        track = False
    for j in range(PIPELINE):
        ring[j] = -1
    with nogil:
        for a in range(n_agents):
            i = agent_ids[a] if listed else a
            # Software pipelining: the occupancy counters and route data live at random addresses, so
            # fetch those of agent i + PIPELINE now, and apply each "+1 on the new edge" PIPELINE agents
            # late, after its prefetch has landed.  Prefetches are hints: stale guesses cost nothing.
            j = a + PIPELINE
            if j < n_agents:
                if listed:
                    j = agent_ids[j]
                p = route_pos[j]
                if 0 <= p < route_end[j] and route_end[j] <= n_route:
                    if route_len != NULL:
                        __builtin_prefetch(&route_len[p])
                    __builtin_prefetch(&route_edges[p])
                    e = position_edge[j]
                    if track and <uint64_t>e < n_edges and 0 <= agent_kind[j] < n_kinds:
                        __builtin_prefetch(&occ[agent_kind[j] * <int64_t>n_edges + e], 1)
            arrived[a] = 0
            p = route_pos[i]
            end = route_end[i]
            if p >= end:
                continue  # idle: no active route
            if p < 0 or end > n_route:
                status = ERR_ROUTE_RANGE
                bad = i
                break
            e = route_edges[p]
            if e != position_edge[i]:
                status = ERR_POSITION
                bad = i
                break
            if <uint64_t>e >= n_edges:
                status = ERR_EDGE_RANGE
                bad = i
                break
            v = speed_mps[i]
            if not v >= 0.0:
                status = ERR_SPEED
                bad = i
                break
            if track and agent_kind[i] >= n_kinds:
                status = ERR_KIND
                bad = i
                break
            remaining = v * dt_s
            if remaining <= 0.0:
                continue
            off = position_offset_m[i]
            start_e = e
            while True:
                if route_len != NULL:
                    left = route_len[p] - off
                else:
                    left = lengths[e] - off
                if remaining < left:
                    off += remaining
                    break
                remaining -= left
                if p + 1 == end:
                    # Arrival: stop at the end of the last edge and consume the route.
                    off = route_len[p] if route_len != NULL else lengths[e]
                    p = end
                    arrived[a] = 1
                    n_arrived += 1
                    break
                p += 1
                e = route_edges[p]
                off = 0.0
                if <uint64_t>e >= n_edges:
                    status = ERR_EDGE_RANGE
                    break
            if status != 0:
                bad = i
                break
            if e != start_e and track:
                k = agent_kind[i]
                if k >= 0:
                    occ[k * <int64_t>n_edges + start_e] -= 1
                    pending = k * <int64_t>n_edges + e
                    __builtin_prefetch(&occ[pending], 1)
                    if ring[slot] >= 0:
                        occ[ring[slot]] += 1
                    ring[slot] = pending
                    slot = (slot + 1) % PIPELINE
            route_pos[i] = p
            position_edge[i] = e
            position_offset_m[i] = off
        # Apply the increments still in flight (also after an error: those agents did move).
        for j in range(PIPELINE):
            if ring[j] >= 0:
                occ[ring[j]] += 1
    return status, bad, n_arrived


def count(
    const int64_t[::1] position_edge,
    const int8_t[::1] agent_kind,
    int32_t[:, ::1] occupancy,
):
    """Recount ``occupancy[kind, edge]`` from scratch; agents of negative kind are not counted.

    Returns ``(status, agent)`` as :func:`advance` does.
    """
    cdef int64_t n_agents = position_edge.shape[0], i, e
    cdef int64_t n_kinds = occupancy.shape[0]
    cdef uint64_t n_edges = <uint64_t>occupancy.shape[1]
    cdef int8_t k
    cdef int status = 0
    cdef int64_t bad = -1
    with nogil:
        occupancy[:, :] = 0
        for i in range(n_agents):
            k = agent_kind[i]
            if k < 0:
                continue
            e = position_edge[i]
            if k >= n_kinds or <uint64_t>e >= n_edges:
                status = ERR_KIND if k >= n_kinds else ERR_EDGE_RANGE
                bad = i
                break
            occupancy[k, e] += 1
    return status, bad


def group_by_key(
    const int64_t[::1] keys,
    int64_t[::1] indptr,
    int64_t[::1] order,
):
    """Counting sort of positions by key: ``order[indptr[k]:indptr[k + 1]]`` are the positions of key ``k``.

    Stable (positions ascending within a key).  ``indptr`` has ``n_keys + 1`` entries; keys must lie in
    ``[0, n_keys)``.  Returns the index of the first key out of range, or -1.
    """
    cdef int64_t n = keys.shape[0], n_keys = indptr.shape[0] - 1, i, k, bad = -1
    with nogil:
        indptr[:] = 0
        for i in range(n):
            k = keys[i]
            if k < 0 or k >= n_keys:
                bad = i
                break
            indptr[k + 1] += 1
        if bad < 0:
            for k in range(n_keys):
                indptr[k + 1] += indptr[k]
            # fill from the back so each key's run keeps the positions in ascending order
            for i in range(n - 1, -1, -1):
                k = keys[i]
                indptr[k + 1] -= 1
                order[indptr[k + 1]] = i
            # indptr[k + 1] now holds the start of key k: shift down into place
            for k in range(n_keys):
                indptr[k] = indptr[k + 1]
            indptr[n_keys] = n
    return bad


def routine_slices(
    const int64_t[::1] who,
    const int64_t[::1] origin,
    const int64_t[::1] dest,
    const int64_t[:, ::1] anchors,
    const int64_t[::1] trip_from,
    const int64_t[::1] trip_to,
    const int64_t[:, ::1] trip_start,
    const int32_t[:, ::1] trip_len,
    int64_t[::1] start,
    int64_t[::1] end,
):
    """Per traveller ``who[i]``, the first routine trip (column ``k``) from ``origin[i]`` to ``dest[i]``.

    Trip ``k`` runs from anchor ``trip_from[k]`` to anchor ``trip_to[k]`` of the traveller (columns of
    ``anchors``, one row per agent).  Sets ``start[i]``, ``end[i]`` to that trip's slice
    ``trip_start[w, k]``, ``trip_start[w, k] + trip_len[w, k]``, or ``start[i] = -1`` where no routine
    trip matches (or its slice is -1: not a trip of this agent).  Indices are not checked.
    """
    cdef int64_t n = who.shape[0], n_trips = trip_from.shape[0], i, k, w, s
    with nogil:
        for i in range(n):
            w = who[i]
            start[i] = -1
            end[i] = 0
            for k in range(n_trips):
                if anchors[w, trip_from[k]] == origin[i] and anchors[w, trip_to[k]] == dest[i]:
                    s = trip_start[w, k]
                    if s >= 0:
                        start[i] = s
                        end[i] = s + trip_len[w, k]
                    break
