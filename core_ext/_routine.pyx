"""Routine kernels: the residents' wake-up calendar, their departures and their arrivals, one call each.

Kernels only; the callers (``sim.agents._calendar``, ``sim.agents.resident``) own the arrays, built
once with fixed dtypes, and the Cython buffer checks enforce those dtypes on every call.  A step's
bookkeeping was about fifteen NumPy calls per phase on a few hundred residents; here it is one pass.

The calendar is a bucket queue by clock step kept as arrays: ``head[s]`` is the newest block of
entries filed under step ``s`` (-1: none), ``size[s]`` how many entries.  Entries live in blocks of
``BLOCK`` agent ids (``pool_agent[b * BLOCK:(b + 1) * BLOCK]``; ``pool_next[2 * b]`` the bucket's
next block, ``pool_next[2 * b + 1]`` the entries used), free blocks chained from ``meta[0]``,
``meta[1]`` of them: a pop reads whole blocks instead of chasing one pointer per entry, which at 1M
residents after days of filing and popping (a scrambled free list) cost a cache miss per entry.  The
caller keeps enough free blocks (:func:`blocks_needed`) and enough steps; a step beyond the last
bucket is handed back as an overflow (agent, step) for the caller to file once it has grown the
buckets.
"""

from libc.math cimport INFINITY, ceil
from libc.stdlib cimport free, malloc

from core_ext._types cimport float64_t, int8_t, int32_t, int64_t, uint8_t

# the residents' states (sim.agents.resident: HOME, TRAVEL, WORK, LEISURE)
cdef enum:
    HOME = 0
    TRAVEL = 1
    WORK = 2
    LEISURE = 3

# below this many ids a pop sorts by insertion; above, by radix (11 bits a pass)
cdef enum:
    SMALL_SORT = 48
    RADIX_BITS = 11

# agent ids per calendar block
cdef enum:
    BLOCK = 32

ctypedef fused route_edge_t:
    int32_t
    int64_t

# AHEAD: how many residents ahead a pass prefetches their rows.  At 1M residents each leaver's rows
# are a dozen cache misses in as many arrays; a pass that waits for each in turn is slower than
# NumPy's one gather per array, so the misses of later residents are started early.
cdef extern from *:
    """
    #define AHEAD 8
    """
    const int AHEAD
    void __builtin_prefetch(const void*, ...) nogil


cdef struct Calendar:
    int64_t* head
    int64_t* size
    int64_t n_steps
    int64_t* agent
    int64_t* next
    int64_t* meta


cdef inline Calendar _calendar(int64_t[::1] head, int64_t[::1] size, int64_t[::1] pool_agent,
                               int64_t[::1] pool_next, int64_t[::1] meta) noexcept:
    cdef Calendar c
    c.head = &head[0]
    c.size = &size[0]
    c.n_steps = head.shape[0]
    c.agent = &pool_agent[0]
    c.next = &pool_next[0]
    c.meta = &meta[0]
    return c


cdef inline int64_t _first_step(float64_t t, float64_t step_min) noexcept nogil:
    """The first step whose start ``k * step_min`` is at or after ``t`` (as ``first_step_at``)."""
    cdef float64_t k = ceil(t / step_min)
    if (k - 1.0) * step_min >= t:
        k = k - 1.0
    if k * step_min < t:
        k = k + 1.0
    return <int64_t>k


cdef inline bint _file(Calendar* c, int64_t a, int64_t s) noexcept nogil:
    """File agent ``a`` under step ``s``; False if ``s`` is beyond the buckets (the caller keeps it)."""
    cdef int64_t b, nb
    if s >= c.n_steps:
        return False
    b = c.head[s]
    if b < 0 or c.next[2 * b + 1] == BLOCK:
        nb = c.meta[0]
        c.meta[0] = c.next[2 * nb]
        c.meta[1] -= 1
        c.next[2 * nb] = b
        c.next[2 * nb + 1] = 0
        c.head[s] = nb
        b = nb
    c.agent[b * BLOCK + c.next[2 * b + 1]] = a
    c.next[2 * b + 1] += 1
    c.size[s] += 1
    return True


cdef inline void _file_or_keep(Calendar* c, int64_t a, float64_t t, int64_t not_before, float64_t step_min,
                               int64_t* over_agent, int64_t* over_step, int64_t* n_over) noexcept nogil:
    """File ``a`` under the first step at or after ``t`` (not before ``not_before``); nothing if ``t`` is not finite."""
    cdef int64_t s
    if not (t - t == 0.0):  # inf or NaN: nothing planned
        return
    s = _first_step(t, step_min)
    if s < not_before:
        s = not_before
    if not _file(c, a, s):
        over_agent[n_over[0]] = a
        over_step[n_over[0]] = s
        n_over[0] += 1


cdef void _sort_ids(int64_t* ids, int64_t n, int64_t* tmp) noexcept nogil:
    """Sort non-negative ids ascending in place (``tmp``: room for ``n``)."""
    cdef int64_t i, j, v, hi = 0, shift, d
    cdef int64_t* src = ids
    cdef int64_t* dst = tmp
    cdef int64_t* swap
    cdef int64_t counts[1 << RADIX_BITS]
    cdef int64_t mask = (1 << RADIX_BITS) - 1
    if n < SMALL_SORT:
        for i in range(1, n):
            v = ids[i]
            j = i - 1
            while j >= 0 and ids[j] > v:
                ids[j + 1] = ids[j]
                j -= 1
            ids[j + 1] = v
        return
    for i in range(n):
        if ids[i] > hi:
            hi = ids[i]
    shift = 0
    while (hi >> shift) > 0:
        for d in range(1 << RADIX_BITS):
            counts[d] = 0
        for i in range(n):
            counts[(src[i] >> shift) & mask] += 1
        v = 0
        for d in range(1 << RADIX_BITS):
            j = counts[d]
            counts[d] = v
            v += j
        for i in range(n):
            d = (src[i] >> shift) & mask
            dst[counts[d]] = src[i]
            counts[d] += 1
        swap = src
        src = dst
        dst = swap
        shift += RADIX_BITS
    if src != ids:
        for i in range(n):
            ids[i] = src[i]


cdef int64_t _pop(Calendar* c, int64_t step, int64_t* out, int64_t* tmp) noexcept nogil:
    """Empty bucket ``step`` into ``out`` (room for ``size[step]``): sorted, each agent once; return the count."""
    cdef int64_t b, nxt, n = 0, i, m, fill
    cdef int64_t* ids
    if step < 0 or step >= c.n_steps:
        return 0
    b = c.head[step]
    while b >= 0:
        fill = c.next[2 * b + 1]
        ids = c.agent + b * BLOCK
        for i in range(fill):
            out[n + i] = ids[i]
        n += fill
        nxt = c.next[2 * b]
        c.next[2 * b] = c.meta[0]
        c.meta[0] = b
        c.meta[1] += 1
        b = nxt
    c.head[step] = -1
    c.size[step] = 0
    if n < 2:
        return n
    _sort_ids(out, n, tmp)
    m = 1
    for i in range(1, n):
        if out[i] != out[m - 1]:
            out[m] = out[i]
            m += 1
    return m


def blocks_needed(int64_t n_entries, int64_t n_steps):
    """Free blocks that filing ``n_entries`` entries over at most ``n_steps`` buckets may take."""
    return n_entries // BLOCK + min(n_entries, n_steps) + 1


def push(
    int64_t[::1] head,
    int64_t[::1] size,
    int64_t[::1] pool_agent,
    int64_t[::1] pool_next,
    int64_t[::1] meta,
    const int64_t[::1] who,
    const float64_t[::1] time_min,
    int64_t not_before,
    float64_t step_min,
    int64_t[::1] over_agent,
    int64_t[::1] over_step,
):
    """File ``who[i]`` under the first step at or after ``time_min[i]`` and not before ``not_before``.

    Infinite (or NaN) times are not filed.  The pool must hold ``blocks_needed(len(who), len(head))``
    free blocks.  Agents due
    beyond the last bucket go to ``over_agent``/``over_step`` (room for ``len(who)``); returns their count.
    """
    cdef Calendar c = _calendar(head, size, pool_agent, pool_next, meta)
    cdef int64_t i, n_over = 0
    with nogil:
        for i in range(who.shape[0]):
            _file_or_keep(&c, who[i], time_min[i], not_before, step_min, &over_agent[0], &over_step[0], &n_over)
    return n_over


def file_at(
    int64_t[::1] head,
    int64_t[::1] size,
    int64_t[::1] pool_agent,
    int64_t[::1] pool_next,
    int64_t[::1] meta,
    const int64_t[::1] who,
    const int64_t[::1] steps,
):
    """File ``who[i]`` under step ``steps[i]`` (all within the buckets, free blocks enough)."""
    cdef Calendar c = _calendar(head, size, pool_agent, pool_next, meta)
    cdef int64_t i
    with nogil:
        for i in range(who.shape[0]):
            _file(&c, who[i], steps[i])


def pop(
    int64_t[::1] head,
    int64_t[::1] size,
    int64_t[::1] pool_agent,
    int64_t[::1] pool_next,
    int64_t[::1] meta,
    int64_t step,
    int64_t[::1] out,
):
    """Empty bucket ``step`` into ``out`` (room for ``size[step]``), sorted and each agent once; return the count."""
    cdef Calendar c = _calendar(head, size, pool_agent, pool_next, meta)
    cdef int64_t n
    cdef int64_t* tmp = <int64_t*>malloc(max(out.shape[0], 1) * sizeof(int64_t))
    if tmp == NULL:
        raise MemoryError()
    with nogil:
        n = _pop(&c, step, &out[0] if out.shape[0] else NULL, tmp)
    free(tmp)
    return n


cdef inline void _route(int64_t i, int64_t start, int64_t end, const route_edge_t[::1] route_edges,
                        int64_t[::1] position_edge, float64_t[::1] position_offset_m,
                        int64_t[::1] route_pos, int64_t[::1] route_end) noexcept nogil:
    """Set resident ``i`` on the route slice ``start:end`` (an empty slice: they stay put)."""
    if end > start:
        route_pos[i] = start
        route_end[i] = end
        position_edge[i] = route_edges[start]
        position_offset_m[i] = 0.0
    else:
        route_pos[i] = 0
        route_end[i] = 0


def leave(
    # the calendar
    int64_t[::1] head,
    int64_t[::1] size,
    int64_t[::1] pool_agent,
    int64_t[::1] pool_next,
    int64_t[::1] meta,
    int64_t step,
    float64_t now_min,
    # the residents' plan and state
    int8_t[::1] state,
    int8_t[::1] target_state,
    float64_t[::1] leave_for_work_min,
    float64_t[::1] leave_for_leisure_min,
    float64_t[::1] activity_end_min,
    const int64_t[::1] home_edge,
    const int64_t[::1] work_edge,
    const int64_t[:, ::1] leisure_edge,
    const int64_t[::1] leisure_choice,
    const int64_t[::1] home_segment,
    int64_t[::1] position_edge,
    float64_t[::1] position_offset_m,
    int64_t[::1] route_pos,
    int64_t[::1] route_end,
    int64_t[::1] home_count,
    int32_t[::1] leisure_per_edge,
    # routine trips (``indexed`` False: none known, every trip is handed back)
    const int64_t[:, ::1] anchors,
    const int64_t[::1] trip_from,
    const int64_t[::1] trip_to,
    const int64_t[:, ::1] trip_start,
    const int32_t[:, ::1] trip_len,
    bint indexed,
    const route_edge_t[::1] route_edges,
    # who travels and who is out (sorted by row / in no order), updated in place
    int64_t[::1] travelling,
    int64_t n_travelling,
    int64_t[::1] at_leisure,
    int64_t n_at_leisure,
    int64_t[::1] leisure_slot,
    # outputs, room for size[step] each
    int64_t[::1] who,
    int64_t[::1] dest,
    int64_t[::1] unknown,
):
    """The residents due at ``step`` who leave now: test, send on their routine route, update the counts.

    Pops bucket ``step``; of those due, the ones at home whose work (else outing) time has come and
    the ones at work or out whose activity has ended leave, in that order (to work, to go out, home;
    each by row), as ``who``, bound for edge ``dest`` and state WORK, LEISURE or HOME.  Each leaver's
    plan entry is spent (set to inf), the occupied homes and the people out per edge lose them, they
    take the book's slice of their routine trip (``route_edges``), become TRAVEL and join the sorted
    ``travelling``; ``at_leisure`` loses those who were out (each swapped with its last entry: a
    leaver's place in it is ``leisure_slot``).  A leaver whose trip is not a routine
    trip of theirs is listed in ``unknown`` (positions in ``who``) and left for the caller to route.

    Returns ``(n_who, n_unknown, n_travelling, n_at_leisure)``.
    """
    cdef Calendar c = _calendar(head, size, pool_agent, pool_next, meta)
    cdef int64_t cap = who.shape[0]
    cdef int64_t n_due, n_who = 0, n_unknown = 0, n_leaving = 0
    cdef int64_t i, j, r, k, w, s, origin, to, src, dst
    cdef int8_t st, cls, target
    cdef int64_t n_trips = trip_from.shape[0]
    # due (and the sort's scratch), then per leaver the start and end of their routine route
    cdef int64_t* due = <int64_t*>malloc((4 * cap + 1) * sizeof(int64_t))
    cdef int64_t* slice_start = due + 2 * cap
    cdef int64_t* slice_end = due + 3 * cap
    cdef int8_t* kind = <int8_t*>malloc(cap + 1)
    if due == NULL or kind == NULL:
        free(due)
        free(kind)
        raise MemoryError()
    with nogil:
        n_due = _pop(&c, step, due, due + cap)
        # the test a pass over everyone made: 1 to work, 2 to go out, 3 home from work or an outing
        for j in range(n_due):
            if j + AHEAD < n_due:
                r = due[j + AHEAD]
                __builtin_prefetch(&state[r])
                __builtin_prefetch(&leave_for_work_min[r])
                __builtin_prefetch(&leave_for_leisure_min[r])
                __builtin_prefetch(&activity_end_min[r])
            r = due[j]
            st = state[r]
            cls = 0
            if st == HOME:
                if now_min >= leave_for_work_min[r]:
                    cls = 1
                elif now_min >= leave_for_leisure_min[r]:
                    cls = 2
            elif st == WORK or st == LEISURE:
                if now_min >= activity_end_min[r]:
                    cls = 3
            kind[j] = cls
            if cls:
                n_leaving += 1
        for target in range(1, 4):
            for j in range(n_due):
                if j + AHEAD < n_due and kind[j + AHEAD] == target:
                    r = due[j + AHEAD]
                    __builtin_prefetch(&anchors[r, 0])
                    __builtin_prefetch(&trip_start[r, 0])
                    __builtin_prefetch(&trip_len[r, 0])
                    __builtin_prefetch(&position_edge[r])
                    __builtin_prefetch(&home_segment[r])
                    __builtin_prefetch(&route_pos[r], 1)
                    __builtin_prefetch(&route_end[r], 1)
                    __builtin_prefetch(&position_offset_m[r], 1)
                    __builtin_prefetch(&target_state[r], 1)
                    if target == 1:
                        __builtin_prefetch(&work_edge[r])
                    elif target == 2:
                        __builtin_prefetch(&leisure_edge[r, 0])
                    else:
                        __builtin_prefetch(&home_edge[r])
                if kind[j] != target:
                    continue
                r = due[j]
                if target == 1:
                    leave_for_work_min[r] = INFINITY
                    to = work_edge[r]
                    target_state[r] = WORK
                elif target == 2:
                    leave_for_leisure_min[r] = INFINITY
                    to = leisure_edge[r, leisure_choice[r]]
                    target_state[r] = LEISURE
                else:
                    activity_end_min[r] = INFINITY
                    to = home_edge[r]
                    target_state[r] = HOME
                who[n_who] = r
                dest[n_who] = to
                st = state[r]
                if st == HOME:
                    home_count[home_segment[r]] -= 1
                elif st == LEISURE:
                    leisure_per_edge[position_edge[r]] -= 1
                    # out of ``at_leisure``: its last entry takes r's place
                    n_at_leisure -= 1
                    w = at_leisure[n_at_leisure]
                    at_leisure[leisure_slot[r]] = w
                    leisure_slot[w] = leisure_slot[r]
                # the first routine trip of r from where they stand to ``to``
                origin = position_edge[r]
                s = -1
                if indexed:
                    for k in range(n_trips):
                        if anchors[r, trip_from[k]] == origin and anchors[r, trip_to[k]] == to:
                            s = trip_start[r, k]
                            break
                slice_start[n_who] = s
                if s >= 0:
                    # the route's first edge is a miss in a large book: fetch it now, set the route
                    # below, once the other leavers' misses are under way too
                    slice_end[n_who] = s + trip_len[r, k]
                    __builtin_prefetch(&route_edges[s])
                else:
                    unknown[n_unknown] = n_who
                    n_unknown += 1
                state[r] = TRAVEL
                n_who += 1
        for j in range(n_who):
            if slice_start[j] >= 0:
                _route(who[j], slice_start[j], slice_end[j], route_edges, position_edge, position_offset_m,
                       route_pos, route_end)
        # merge the leavers (ascending: ``due`` is) into the sorted travellers, from the back
        src = n_travelling - 1
        dst = n_travelling + n_leaving - 1
        j = n_due - 1
        while j >= 0:
            if kind[j] == 0:
                j -= 1
                continue
            r = due[j]
            while src >= 0 and travelling[src] > r:
                travelling[dst] = travelling[src]
                dst -= 1
                src -= 1
            travelling[dst] = r
            dst -= 1
            j -= 1
        n_travelling += n_leaving
    free(due)
    free(kind)
    return n_who, n_unknown, n_travelling, n_at_leisure


def arrive(
    # the calendar
    int64_t[::1] head,
    int64_t[::1] size,
    int64_t[::1] pool_agent,
    int64_t[::1] pool_next,
    int64_t[::1] meta,
    int64_t step,
    float64_t now_min,
    float64_t step_min,
    # the travellers (sorted by row) and who of them got there this step (aligned)
    int64_t[::1] travelling,
    int64_t n_travelling,
    const uint8_t[::1] arrived,
    const int64_t[::1] route_pos,
    const int64_t[::1] route_end,
    # the residents' plan and state
    int8_t[::1] state,
    const int8_t[::1] target_state,
    const float64_t[::1] work_end_min,
    const float64_t[::1] leisure_duration_min,
    float64_t[::1] activity_end_min,
    const float64_t[::1] leave_for_work_min,
    const float64_t[::1] leave_for_leisure_min,
    const int64_t[::1] home_segment,
    const int64_t[::1] position_edge,
    int64_t[::1] home_count,
    int32_t[::1] leisure_per_edge,
    int64_t[::1] at_leisure,
    int64_t n_at_leisure,
    int64_t[::1] leisure_slot,
    # who is due beyond the calendar's last step (room for n_travelling each)
    int64_t[::1] over_agent,
    int64_t[::1] over_step,
):
    """The travellers who arrived (or whose trip was empty) take up their target state at ``now_min``.

    They leave ``travelling`` (kept sorted); at work their activity ends at the end of work (not
    before now), out after their outing's duration (they count as out on their edge and join
    ``at_leisure``, their place in it kept in ``leisure_slot``), at home they count as an occupied home.  Each is filed in the calendar under
    their next departure (the next outing for those at home, the activity's end otherwise), from step
    ``step + 1`` on.  The pool must hold ``blocks_needed(n_travelling, len(head))`` free blocks.

    Returns ``(n_travelling, n_at_leisure, n_over)``.
    """
    cdef Calendar c = _calendar(head, size, pool_agent, pool_next, meta)
    cdef int64_t j, r, kept = 0, n_over = 0
    cdef int64_t nb = step + 1
    cdef int8_t st
    cdef float64_t t, a, b
    cdef int64_t* oa = &over_agent[0] if over_agent.shape[0] else NULL
    cdef int64_t* os = &over_step[0] if over_step.shape[0] else NULL
    with nogil:
        for j in range(n_travelling):
            r = travelling[j]
            if not arrived[j] and route_pos[r] < route_end[r]:
                travelling[kept] = r
                kept += 1
                continue
            st = target_state[r]
            state[r] = st
            if st == WORK:
                t = work_end_min[r]
                if not (t >= now_min):  # np.maximum(work_end, now)
                    t = now_min
                activity_end_min[r] = t
            elif st == LEISURE:
                t = now_min + leisure_duration_min[r]
                activity_end_min[r] = t
                leisure_per_edge[position_edge[r]] += 1
                at_leisure[n_at_leisure] = r
                leisure_slot[r] = n_at_leisure
                n_at_leisure += 1
            elif st == HOME:
                home_count[home_segment[r]] += 1
                a = leave_for_work_min[r]
                b = leave_for_leisure_min[r]
                t = a if a <= b else b  # np.minimum (no NaN in a plan)
            else:
                continue
            _file_or_keep(&c, r, t, nb, step_min, oa, os, &n_over)
    return kept, n_at_leisure, n_over
