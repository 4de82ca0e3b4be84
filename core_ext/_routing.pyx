"""Shortest-path kernels on CSR street graphs: full, bounded, point-to-point (A*), batch, trees, multi-source.

Kernels only; the validated public wrappers live in core_ext/__init__.py.  Inputs are typed memoryviews
(read-only arrays accepted), every search runs without the GIL and nothing here draws random numbers.
One search engine serves most entry points: Dijkstra (or A* when node coordinates and a target are
given) over an indexed 4-ary heap, with an optional edge mask, cutoff, source labels and predecessor
edges; its order decides ties, which routes and nearest sources depend on.  Two variants: costs alone
from one source by a bucket queue (same costs, no heap), and shortest-path trees that route many pairs
from one origin (:meth:`DijkstraWorkspace.tree_routes`, the same routes as one search per pair).
"""

from libc.math cimport INFINITY, sqrt
from libc.stdint cimport uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset

from cython.view cimport array as cvarray

import numpy as np

from core_ext._heap cimport Heap, HeapItem, heap_pop, heap_push_or_decrease
from core_ext._types cimport NO_MEMORY, OK, float64_t, int32_t, int64_t, node_t, uint8_t


cdef extern from *:
    void __builtin_prefetch(const void*) nogil

# landmark bounds are multiplied by this: a relative margin far above the rounding of a difference of sums
DEF LM_SLACK = 1.0 - 1e-9

cdef enum:
    AMBIGUOUS = 100             # internal: a tree path that depends on tie-breaking (re-routed by one search)
    GAVE_UP = 101               # internal: the bucket search met too many light edges (the heap search runs)
    MAX_BUCKETS = 256          # bucket search: at most this many buckets per largest edge weight


cdef struct Graph:
    const int64_t* indptr
    const int64_t* indices
    const float64_t* weights
    const uint8_t* closed       # NULL: no edge is closed
    const float64_t* xy         # NULL: no straight-line bound; else (n, 2) coordinates for the A* heuristic
    float64_t h_scale           # heuristic = h_scale * straight-line distance (weight units per metre)
    const float64_t* lm_from    # NULL: no landmarks; else (n, n_lm): cost from each landmark to the node
    const float64_t* lm_to      # (n, n_lm): cost from the node to each landmark
    int64_t n_lm
    bint astar                  # a heuristic exists (xy or landmarks): searches to one target use A*


cdef struct Search:
    Heap heap
    float64_t* dist
    int64_t* pred_edge          # NULL: predecessors not needed
    int64_t* label              # NULL: no source labels
    int64_t* touched            # NULL: fresh arrays, nothing to reset afterwards
    int64_t n_touched
    int64_t* order              # NULL: settled order not needed
    int64_t n_order
    uint8_t* tie                # tree searches only: 1 where a second edge reaches the node at its cost
    int32_t* parent             # tree searches only: tail of pred_edge (walking back reads one array)


cdef inline float64_t _heuristic(const Graph* g, int64_t v, int64_t t) noexcept nogil:
    """A lower bound on the cost from ``v`` to ``t``: the straight line and the landmarks' bounds, whichever is larger.

    Landmarks (ALT: Goldberg & Harrelson 2005, *SODA*): by the triangle inequality the cost from ``v``
    to ``t`` is at least ``d(L, t) - d(L, v)`` and ``d(v, L) - d(t, L)`` for every landmark ``L``.
    Each bound is consistent; so is their maximum.  The landmark bounds are shrunk by ``LM_SLACK`` so
    that rounding in their differences cannot make them exceed the true cost.  Unreachable
    landmarks give inf - inf = NaN, which the comparisons skip.
    """
    cdef float64_t h = 0.0, dx, dy, b
    cdef int64_t l, n = g.n_lm
    cdef const float64_t* fv
    cdef const float64_t* ft
    cdef const float64_t* tv
    cdef const float64_t* tt
    if g.xy != NULL:
        dx = g.xy[2 * v] - g.xy[2 * t]
        dy = g.xy[2 * v + 1] - g.xy[2 * t + 1]
        h = g.h_scale * sqrt(dx * dx + dy * dy)
    if n > 0:
        fv = g.lm_from + v * n
        ft = g.lm_from + t * n
        tv = g.lm_to + v * n
        tt = g.lm_to + t * n
        for l in range(n):
            b = (ft[l] - fv[l]) * LM_SLACK
            if b > h:
                h = b
            b = (tv[l] - tt[l]) * LM_SLACK
            if b > h:
                h = b
    return h


cdef inline void _seed(Search* s, int64_t node, float64_t cost, int64_t lab, float64_t key) noexcept nogil:
    if cost < s.dist[node]:
        if s.heap.pos[node] == -1 and s.touched != NULL:
            s.touched[s.n_touched] = node
            s.n_touched += 1
        s.dist[node] = cost
        if s.pred_edge != NULL:
            s.pred_edge[node] = -1
        if s.label != NULL:
            s.label[node] = lab
        heap_push_or_decrease(&s.heap, <node_t>node, key)


cdef inline void _prefetch_adjacency(const Graph* g, int64_t v) noexcept nogil:
    """Start fetching ``v``'s out-edges (targets and weights) so the cache misses overlap other work."""
    cdef int64_t e = g.indptr[v]
    __builtin_prefetch(&g.indices[e])
    __builtin_prefetch(&g.weights[e])


cdef inline void _relax(
    const Graph* g, Search* s, int64_t u, float64_t du, float64_t cutoff, bint astar, int64_t target,
    int64_t lab, bint tree,
) noexcept nogil:
    """Relax the open out-edges of ``u`` (settled at cost ``du``): the inner loop of every heap search.

    Before relaxing, fetch the adjacency of the heap top, usually the next node to settle.  ``astar``
    keys the heap by cost + heuristic towards ``target``; ``lab`` is copied to improved nodes' labels.
    ``tree`` (a constant at each call, so the compiler drops what a search does not use) also keeps
    ``s.parent`` and marks in ``s.tie`` nodes a second edge reaches at exactly their cost.
    """
    cdef const int64_t* indices = g.indices
    cdef const float64_t* weights = g.weights
    cdef const uint8_t* closed = g.closed
    cdef float64_t* dist = s.dist
    cdef int32_t* pos = s.heap.pos
    cdef float64_t nd, key
    cdef int64_t e, v
    if s.heap.size > 0:
        _prefetch_adjacency(g, s.heap.items[0].node)
    for e in range(g.indptr[u], g.indptr[u + 1]):
        if closed != NULL and closed[e]:
            continue
        v = indices[e]
        nd = du + weights[e]
        # No "settled?" test: weights are >= 0 (and the A* heuristic consistent), so a settled
        # node never improves; skipping the test saves a random read per relaxation.
        if nd < dist[v] and nd <= cutoff:
            if pos[v] == -1:
                # First reach: fetch v's adjacency now, long before v is settled, so that its
                # cache misses overlap with the work in between (about 20% of a full search).
                _prefetch_adjacency(g, v)
                if s.touched != NULL:
                    s.touched[s.n_touched] = v
                    s.n_touched += 1
            dist[v] = nd
            if s.pred_edge != NULL:
                s.pred_edge[v] = e
            if tree:
                s.parent[v] = <int32_t>u
                s.tie[v] = 0
            elif s.label != NULL:
                s.label[v] = lab
            key = nd
            if astar:
                key = nd + _heuristic(g, v, target)
            heap_push_or_decrease(&s.heap, <node_t>v, key)
        elif tree and nd == dist[v] and v != u:
            s.tie[v] = 1


cdef bint _run(const Graph* g, Search* s, float64_t cutoff, int64_t target) noexcept nogil:
    """Settle nodes in order until the heap empties or ``target`` (>= 0) is settled; True if it was."""
    cdef bint astar = g.astar and target >= 0
    cdef int64_t u, lab = -1
    while s.heap.size > 0:
        u = heap_pop(&s.heap)
        if s.order != NULL:
            s.order[s.n_order] = u
            s.n_order += 1
        if u == target:
            return True
        if s.label != NULL:
            lab = s.label[u]
        _relax(g, s, u, s.dist[u], cutoff, astar, target, lab, False)
    return False


cdef struct NodeStack:
    int32_t* data
    int64_t size
    int64_t cap


cdef inline bint _stack_push(NodeStack* st, int32_t v) noexcept nogil:
    cdef int64_t cap
    cdef int32_t* grown
    if st.size == st.cap:
        cap = 2 * st.cap if st.cap > 0 else 256
        grown = <int32_t*>realloc(st.data, cap * sizeof(int32_t))
        if grown == NULL:
            return False
        st.data = grown
        st.cap = cap
    st.data[st.size] = v
    st.size += 1
    return True


cdef int _run_buckets(
    const Graph* g, float64_t* dist, int64_t n, int64_t source, float64_t source_cost, float64_t cutoff
) noexcept nogil:
    """Distances from one source by a bucket queue (Dial's algorithm with float buckets), no heap.

    Bucket ``b`` holds the nodes whose tentative cost lies in ``[b * delta, (b + 1) * delta)``, in a
    ring of ``max weight / delta + 3`` buckets, ``delta`` being the lightest edge weight or, if larger,
    ``max weight / MAX_BUCKETS`` (street extracts span 1:5,000 in weight; a ring that fine costs more to
    walk than the light edges cost below).  An edge at least ``delta`` long leads at least one bucket
    further, so the nodes of the current bucket are settled in any order, off a stack: no sift, no
    position array, and the adjacency of the nodes next in line is prefetched several nodes ahead.  A
    lighter edge (or rounding) can still lower a node of the current bucket after it was settled: it is
    settled again.  Costs stay exact: every cost is the float sum along some path and is only ever
    lowered, so the search ends at the same least sums as Dijkstra's, bit for bit (the tests compare
    them with the heap search).  Returns OK, NO_MEMORY, or GAVE_UP after ``n`` re-settlements or when
    costs cannot be numbered in buckets (denormal weights): the caller then runs the heap search.
    """
    cdef const int64_t* indptr = g.indptr
    cdef const int64_t* indices = g.indices
    cdef const float64_t* weights = g.weights
    cdef const uint8_t* closed = g.closed
    cdef int64_t m = indptr[n], e, e_end, ev, u, v, k, n_buckets, live = 0, redone = 0
    cdef float64_t w, w_min = INFINITY, w_max = 0.0, delta, inv, du, nd
    cdef uint64_t cur
    cdef NodeStack* ring
    cdef NodeStack* st
    cdef uint8_t* state  # 0 never settled, 1 settled at its cost, 2 lowered since it was settled
    cdef int status = OK
    for e in range(m):
        if closed != NULL and closed[e]:
            continue
        w = weights[e]
        if 0.0 < w < w_min:
            w_min = w
        if w > w_max:
            w_max = w
    delta = w_min if w_min < INFINITY else 1.0
    if delta < w_max / MAX_BUCKETS:
        delta = w_max / MAX_BUCKETS
    inv = 1.0 / delta
    # bucket numbers must fit in 62 bits: every cost is that of a simple path, at most (n - 1) * w_max
    if not (inv < INFINITY and min(cutoff, source_cost + (n - 1) * w_max) * inv < 4.0e18):
        return GAVE_UP
    n_buckets = <int64_t>(w_max * inv) + 3
    ring = <NodeStack*>calloc(n_buckets, sizeof(NodeStack))
    state = <uint8_t*>calloc(max(n, 1), sizeof(uint8_t))
    if ring == NULL or state == NULL:
        free(ring)
        free(state)
        return NO_MEMORY
    cur = <uint64_t>(source_cost * inv)
    dist[source] = source_cost
    if not _stack_push(&ring[cur % n_buckets], <int32_t>source):
        status = NO_MEMORY
    live = 1
    while live > 0 and status == OK:
        st = &ring[cur % n_buckets]
        while st.size > 0:
            st.size -= 1
            u = st.data[st.size]
            live -= 1
            # software pipeline: the adjacency of the node 4 pops ahead, the CSR row of the one 8 ahead
            if st.size >= 8:
                __builtin_prefetch(&indptr[st.data[st.size - 8]])
            if st.size >= 4:
                ev = indptr[st.data[st.size - 4]]
                __builtin_prefetch(&indices[ev])
                __builtin_prefetch(&weights[ev])
            if state[u] == 1:
                continue  # a second entry of a node already settled at its cost
            if state[u] == 2:
                redone += 1
                if redone > n:
                    status = GAVE_UP
                    break
            state[u] = 1
            du = dist[u]
            e_end = indptr[u + 1]
            for e in range(indptr[u], e_end):
                if closed != NULL and closed[e]:
                    continue
                v = indices[e]
                nd = du + weights[e]
                if nd < dist[v] and nd <= cutoff:
                    if dist[v] == INFINITY:
                        ev = indptr[v]
                        __builtin_prefetch(&indices[ev])
                        __builtin_prefetch(&weights[ev])
                    dist[v] = nd
                    if state[v] == 1:
                        state[v] = 2
                    if not _stack_push(&ring[(<uint64_t>(nd * inv)) % n_buckets], <int32_t>v):
                        status = NO_MEMORY
                        break
                    live += 1
            if status != OK:
                break
        cur += 1
    for k in range(n_buckets):
        free(ring[k].data)
    free(ring)
    free(state)
    return status


cdef void _run_tree(const Graph* g, Search* s, const int64_t* mark, int64_t stamp, int64_t n_marked) noexcept nogil:
    """Dijkstra until the ``n_marked`` nodes with ``mark == stamp`` are settled, and every node as cheap as
    the dearest of them too; records in ``s.tie`` the nodes that a second edge reaches at their cost.

    Settling the nodes that tie with the dearest target means every edge that could reach a target's
    path at exactly its cost has been relaxed, so ``s.tie`` is complete along those paths.
    """
    cdef float64_t du, last_cost = INFINITY
    cdef int64_t u
    while s.heap.size > 0 and s.heap.items[0].key <= last_cost:
        u = heap_pop(&s.heap)
        du = s.dist[u]
        if mark[u] == stamp:
            n_marked -= 1
            if n_marked == 0:
                last_cost = du
        _relax(g, s, u, du, INFINITY, False, -1, -1, True)


cdef struct EdgeBuffer:
    int32_t* data
    int64_t size
    int64_t cap


cdef bint _reserve(EdgeBuffer* out, int64_t extra) noexcept nogil:
    cdef int64_t cap = out.cap
    cdef int32_t* grown
    if out.size + extra <= cap:
        return True
    while out.size + extra > cap:
        cap = 2 * cap if cap > 0 else 4096
    # realloc of a large block remaps pages instead of copying them, so doubling is cheap here
    grown = <int32_t*>realloc(out.data, cap * sizeof(int32_t))
    if grown == NULL:
        return False
    out.data = grown
    out.cap = cap
    return True


cdef int _append_path(
    const Search* s, const int64_t* edge_tail, bint tree, int64_t t, int64_t last, bint check_ties,
    EdgeBuffer* out,
) noexcept nogil:
    """Append the path to ``t`` in the search tree (then edge ``last`` if >= 0) to ``out``.

    ``tree``: the search was :func:`_run_tree`, which also kept ``s.parent`` (one load per hop instead of
    two dependent ones).  Returns OK, NO_MEMORY, or AMBIGUOUS (with ``check_ties``) when a node on the
    path is reached by a second edge at the same cost: another search order could then have chosen
    another path.
    """
    cdef const int64_t* pred = s.pred_edge
    cdef const int32_t* parent = s.parent
    cdef int64_t v = t, hops = 0, j, e
    if tree:
        while pred[v] != -1:
            if check_ties and s.tie[v]:
                return AMBIGUOUS
            v = parent[v]
            hops += 1
    else:
        while pred[v] != -1:
            v = edge_tail[pred[v]]
            hops += 1
    if not _reserve(out, hops + 1):
        return NO_MEMORY
    j = out.size + hops
    v = t
    while pred[v] != -1:
        j -= 1
        out.data[j] = <int32_t>pred[v]
        v = parent[v] if tree else edge_tail[pred[v]]
    out.size += hops
    if last >= 0:
        out.data[out.size] = <int32_t>last
        out.size += 1
    return OK


cdef int _route_pair(
    const Graph* g, Search* s, const int64_t* edge_tail, int64_t o, int64_t t, int64_t last,
    EdgeBuffer* out, float64_t* cost,
) noexcept nogil:
    """One search from ``o`` to ``t`` exactly as :meth:`DijkstraWorkspace.routes` runs it; append the route."""
    cdef float64_t key = 0.0
    cdef int status = OK
    if g.astar:
        key = _heuristic(g, o, t)
    _seed(s, o, 0.0, -1, key)
    if _run(g, s, INFINITY, t):
        cost[0] = s.dist[t] + (g.weights[last] if last >= 0 else 0.0)
        status = _append_path(s, edge_tail, False, t, last, False, out)
    else:
        cost[0] = INFINITY
    _reset(s)
    return status


cdef inline void _reset(Search* s) noexcept nogil:
    """Undo a search on a reusable workspace, touching only the nodes the search reached."""
    cdef int64_t i, v
    for i in range(s.n_touched):
        v = s.touched[i]
        s.dist[v] = INFINITY
        s.heap.pos[v] = -1
    s.n_touched = 0
    s.n_order = 0
    s.heap.size = 0


cdef Graph _graph(
    const int64_t[::1] indptr,
    const int64_t[::1] indices,
    const float64_t[::1] weights,
    const uint8_t[::1] closed,
    const float64_t[:, ::1] node_xy,
    float64_t h_scale,
    const float64_t[:, ::1] lm_from=None,
    const float64_t[:, ::1] lm_to=None,
):
    cdef Graph g
    g.indptr = &indptr[0]
    g.indices = &indices[0] if indices.shape[0] > 0 else NULL
    g.weights = &weights[0] if weights.shape[0] > 0 else NULL
    g.closed = &closed[0] if closed is not None and closed.shape[0] > 0 else NULL
    g.xy = &node_xy[0, 0] if node_xy is not None and node_xy.shape[0] > 0 else NULL
    g.h_scale = h_scale
    g.lm_from = NULL
    g.lm_to = NULL
    g.n_lm = 0
    if lm_from is not None and lm_to is not None and lm_from.shape[1] > 0 and lm_from.shape[0] > 0:
        if lm_to.shape[0] != lm_from.shape[0] or lm_to.shape[1] != lm_from.shape[1]:
            raise ValueError("landmark tables lm_from and lm_to must have the same shape")
        if lm_from.shape[0] != indptr.shape[0] - 1:
            raise ValueError("landmark tables need one row per node")
        g.lm_from = &lm_from[0, 0]
        g.lm_to = &lm_to[0, 0]
        g.n_lm = lm_from.shape[1]
    g.astar = g.xy != NULL or g.n_lm > 0
    return g


def shortest_path_lengths(
    const int64_t[::1] indptr,
    const int64_t[::1] indices,
    const float64_t[::1] weights,
    const uint8_t[::1] closed,
    const int64_t[::1] sources,
    const float64_t[::1] source_cost,
    float64_t cutoff,
    float64_t[::1] out_dist,
    int64_t[::1] out_label=None,
    bint buckets=False,
    int64_t target=-1,
):
    """Multi-source Dijkstra on fresh dense arrays (``out_dist`` must be all inf on entry).

    With ``target >= 0`` the search stops once ``target`` is settled: its cost and label are final
    then (and the same as a full search's: the search did the same steps up to that point); the other
    nodes' entries are partial.

    ``out_label`` (optional, any content) receives the index into ``sources`` of each node's nearest
    source, -1 where unreachable.  With ``buckets``, costs alone from one source come from the bucket
    search (:func:`_run_buckets`, the same costs), unless it gives up on a graph of many light edges.
    Returns True if the bucket search gave the costs; raises MemoryError only.
    """
    cdef int64_t n = indptr.shape[0] - 1, i
    cdef Graph g = _graph(indptr, indices, weights, closed, None, 0.0)
    cdef Search s
    cdef int status
    if buckets and out_label is None and sources.shape[0] == 1 and n > 0 and target < 0:
        # costs only, from one source: the bucket queue gives the same costs, faster
        if source_cost[0] > cutoff:
            return True
        with nogil:
            status = _run_buckets(&g, &out_dist[0], n, sources[0], source_cost[0], cutoff)
            if status == GAVE_UP:
                for i in range(n):
                    out_dist[i] = INFINITY
        if status == NO_MEMORY:
            raise MemoryError()
        if status == OK:
            return True
    memset(&s, 0, sizeof(Search))
    s.dist = &out_dist[0] if n > 0 else NULL
    if out_label is not None and n > 0:
        s.label = &out_label[0]
    s.heap.items = <HeapItem*>malloc(max(n, 1) * sizeof(HeapItem))
    s.heap.pos = <int32_t*>malloc(max(n, 1) * sizeof(int32_t))
    if s.heap.items == NULL or s.heap.pos == NULL:
        free(s.heap.items)
        free(s.heap.pos)
        raise MemoryError()
    with nogil:
        memset(s.heap.pos, 0xFF, n * sizeof(int32_t))  # all bytes 0xFF == -1: "never reached"
        if s.label != NULL:
            for i in range(n):
                s.label[i] = -1
        for i in range(sources.shape[0]):
            if source_cost[i] <= cutoff:
                _seed(&s, sources[i], source_cost[i], i, source_cost[i])
        _run(&g, &s, cutoff, target)
    free(s.heap.items)
    free(s.heap.pos)
    return False


cdef object _as_int32_array(EdgeBuffer* buf):
    """Hand a malloc'd int32 buffer to NumPy without copying: the array frees it when it dies."""
    cdef cvarray arr
    cdef int32_t* data
    if buf.size == 0:
        free(buf.data)
        return np.zeros(0, dtype=np.int32)
    data = <int32_t*>realloc(buf.data, buf.size * sizeof(int32_t))  # give back the unused tail
    if data == NULL:
        data = buf.data
    arr = cvarray(shape=(buf.size,), itemsize=sizeof(int32_t), format="i", mode="c", allocate_buffer=False)
    arr.data = <char*>data
    arr.callback_free_data = free
    return np.asarray(arr)


cdef class DijkstraWorkspace:
    """Reusable search state for one graph size: searches cost what they reach, not ``n_nodes``.

    Holds distance, heap-position and predecessor arrays of length ``n_nodes`` that every search leaves
    as it found them (all inf / -1) by resetting only the nodes it touched.  Not thread-safe: use one
    workspace per thread.
    """

    cdef Search s
    cdef int64_t* mark          # tree_routes: mark[v] == stamp where v is a target of the current tree
    cdef int64_t stamp
    cdef readonly int64_t n_nodes

    def __cinit__(self, int64_t n_nodes):
        cdef int64_t i, size = max(n_nodes, 1)
        if n_nodes < 0:
            raise ValueError("n_nodes must be >= 0")
        self.n_nodes = n_nodes
        memset(&self.s, 0, sizeof(Search))
        self.s.heap.items = <HeapItem*>malloc(size * sizeof(HeapItem))
        self.s.heap.pos = <int32_t*>malloc(size * sizeof(int32_t))
        self.s.dist = <float64_t*>malloc(size * sizeof(float64_t))
        self.s.pred_edge = <int64_t*>malloc(size * sizeof(int64_t))
        self.s.touched = <int64_t*>malloc(size * sizeof(int64_t))
        self.s.order = <int64_t*>malloc(size * sizeof(int64_t))
        self.s.tie = <uint8_t*>malloc(size * sizeof(uint8_t))
        self.s.parent = <int32_t*>malloc(size * sizeof(int32_t))
        self.mark = <int64_t*>malloc(size * sizeof(int64_t))
        if (self.s.heap.items == NULL or self.s.heap.pos == NULL or self.s.dist == NULL
                or self.s.pred_edge == NULL or self.s.touched == NULL or self.s.order == NULL
                or self.s.tie == NULL or self.s.parent == NULL or self.mark == NULL):
            raise MemoryError()
        memset(self.s.heap.pos, 0xFF, size * sizeof(int32_t))
        for i in range(size):
            self.s.dist[i] = INFINITY
            self.mark[i] = -1
        self.stamp = 0

    def __dealloc__(self):
        free(self.s.heap.items)
        free(self.s.heap.pos)
        free(self.s.dist)
        free(self.s.pred_edge)
        free(self.s.touched)
        free(self.s.order)
        free(self.s.tie)
        free(self.s.parent)
        free(self.mark)

    def bounded(
        self,
        const int64_t[::1] indptr,
        const int64_t[::1] indices,
        const float64_t[::1] weights,
        const uint8_t[::1] closed,
        const int64_t[::1] sources,
        const float64_t[::1] source_cost,
        float64_t cutoff,
    ):
        """Return ``(nodes, cost)`` of every node within ``cutoff``, in settled (non-decreasing) order."""
        cdef Graph g = _graph(indptr, indices, weights, closed, None, 0.0)
        cdef Search* s = &self.s
        cdef int64_t i, n_out
        with nogil:
            for i in range(sources.shape[0]):
                if source_cost[i] <= cutoff:
                    _seed(s, sources[i], source_cost[i], -1, source_cost[i])
            _run(&g, s, cutoff, -1)
        n_out = s.n_order
        nodes = np.empty(n_out, dtype=np.int64)
        cost = np.empty(n_out, dtype=np.float64)
        cdef int64_t[::1] nodes_v = nodes
        cdef float64_t[::1] cost_v = cost
        with nogil:
            for i in range(n_out):
                nodes_v[i] = s.order[i]
                cost_v[i] = s.dist[s.order[i]]
            _reset(s)
        return nodes, cost

    def nearest_of(
        self,
        const int64_t[::1] indptr,
        const int64_t[::1] indices,
        const float64_t[::1] weights,
        const uint8_t[::1] closed,
        int64_t origin,
        const int64_t[::1] candidates,
    ):
        """Dijkstra from ``origin`` until the nearest nodes of ``candidates`` are settled; return ``(nodes, cost)``.

        ``nodes`` holds every candidate at the least cost (several where costs tie exactly, e.g. over
        zero-weight edges), in settled order; empty with cost inf if none is reachable.  The search
        covers the ball round ``origin`` out to the nearest candidate, so on a reversed graph it
        answers "which of these sources is nearest to ``origin``" for the cost of one small search,
        not of a search from every source.
        """
        cdef Graph g = _graph(indptr, indices, weights, closed, None, 0.0)
        cdef Search* s = &self.s
        cdef int64_t i, u, n_found = 0
        cdef float64_t cost = INFINITY
        cdef int64_t* saved_order = s.order
        cdef int64_t* saved_pred = s.pred_edge
        if not 0 <= origin < self.n_nodes:
            raise ValueError(f"origin {origin} outside [0, {self.n_nodes})")
        for i in range(candidates.shape[0]):
            if not 0 <= candidates[i] < self.n_nodes:
                raise ValueError(f"candidate node {candidates[i]} outside [0, {self.n_nodes})")
        found = np.empty(candidates.shape[0], dtype=np.int64)
        cdef int64_t[::1] found_v = found
        s.order = NULL
        s.pred_edge = NULL
        self.stamp += 1
        with nogil:
            for i in range(candidates.shape[0]):
                self.mark[candidates[i]] = self.stamp
            _seed(s, origin, 0.0, -1, 0.0)
            # settle in cost order; after the first candidate, only the nodes at exactly its cost
            while s.heap.size > 0 and s.heap.items[0].key <= cost:
                u = heap_pop(&s.heap)
                if self.mark[u] == self.stamp:
                    self.mark[u] = -1  # a node listed twice is found once
                    found_v[n_found] = u
                    n_found += 1
                    cost = s.dist[u]
                _relax(&g, s, u, s.dist[u], cost, False, -1, -1, False)
            for i in range(candidates.shape[0]):
                self.mark[candidates[i]] = -1
            _reset(s)
        s.order = saved_order
        s.pred_edge = saved_pred
        return found[:n_found], cost

    def routes(
        self,
        const int64_t[::1] indptr,
        const int64_t[::1] indices,
        const float64_t[::1] weights,
        const uint8_t[::1] closed,
        const int64_t[::1] edge_tail,
        const float64_t[:, ::1] node_xy,
        float64_t h_scale,
        const int64_t[::1] origins,
        const int64_t[::1] destinations,
        const float64_t[:, ::1] lm_from=None,
        const float64_t[:, ::1] lm_to=None,
    ):
        """A* (Dijkstra without ``node_xy`` or landmarks) for each pair; return ``(routes_indptr, route_edges, cost)``.

        Unreachable pairs get an empty route and cost inf; ``origin == destination`` an empty route and 0.
        ``lm_from``, ``lm_to`` (optional, ``(n_nodes, n_landmarks)``): costs from and to landmarks,
        which tighten the heuristic (:func:`_heuristic`).
        """
        cdef Graph g = _graph(indptr, indices, weights, closed, node_xy, h_scale, lm_from, lm_to)
        cdef Search* s = &self.s
        cdef int64_t n_pairs = origins.shape[0], i, k, j, v, o, t, e
        cdef int64_t cap = 1024, used = 0
        cdef int64_t* buf = <int64_t*>malloc(cap * sizeof(int64_t))
        cdef int64_t* grown
        cdef int status = 0
        cdef float64_t key
        cdef int64_t* saved_order = s.order
        routes_indptr = np.zeros(n_pairs + 1, dtype=np.int64)
        cost = np.empty(n_pairs, dtype=np.float64)
        cdef int64_t[::1] rip = routes_indptr
        cdef float64_t[::1] cost_v = cost
        if buf == NULL:
            raise MemoryError()
        s.order = NULL  # settled order is not needed here; restored below
        with nogil:
            for i in range(n_pairs):
                o = origins[i]
                t = destinations[i]
                key = 0.0
                if g.astar:
                    key = _heuristic(&g, o, t)
                _seed(s, o, 0.0, -1, key)
                if _run(&g, s, INFINITY, t):
                    cost_v[i] = s.dist[t]
                    k = 0
                    v = t
                    while s.pred_edge[v] != -1:
                        v = edge_tail[s.pred_edge[v]]
                        k += 1
                    if used + k > cap:
                        while used + k > cap:
                            cap *= 2
                        grown = <int64_t*>realloc(buf, cap * sizeof(int64_t))
                        if grown == NULL:
                            status = NO_MEMORY
                            _reset(s)
                            break
                        buf = grown
                    j = used + k
                    v = t
                    while s.pred_edge[v] != -1:
                        e = s.pred_edge[v]
                        j -= 1
                        buf[j] = e
                        v = edge_tail[e]
                    used += k
                else:
                    cost_v[i] = INFINITY
                _reset(s)
                rip[i + 1] = used
        s.order = saved_order
        if status == NO_MEMORY:
            free(buf)
            raise MemoryError()
        route_edges = np.empty(used, dtype=np.int64)
        cdef int64_t[::1] re_v = route_edges
        if used > 0:
            memcpy(&re_v[0], buf, used * sizeof(int64_t))
        free(buf)
        return routes_indptr, route_edges, cost

    def tree_routes(
        self,
        const int64_t[::1] indptr,
        const int64_t[::1] indices,
        const float64_t[::1] weights,
        const uint8_t[::1] closed,
        const int64_t[::1] edge_tail,
        const float64_t[:, ::1] node_xy,
        float64_t h_scale,
        const int64_t[::1] group_indptr,
        const int64_t[::1] group_origin,
        const int64_t[::1] targets,
        const int64_t[::1] last_edges,
        int64_t min_tree_targets,
        int64_t[::1] out_start,
        int64_t[::1] out_end,
        float64_t[::1] out_cost,
        const float64_t[:, ::1] lm_from=None,
        const float64_t[:, ::1] lm_to=None,
    ):
        """Route pairs grouped by origin, one shortest-path tree per origin; the routes of :meth:`routes`.

        Group ``i`` starts at ``group_origin[i]`` and holds the pairs ``group_indptr[i]:group_indptr[i + 1]``
        of ``targets`` (and of ``last_edges``, if not None: an edge whose tail is the target, appended to
        the route).  Groups of fewer than ``min_tree_targets`` pairs get one search per pair instead.
        Route ``k`` is ``route_edges[out_start[k]:out_end[k]]`` and costs ``out_cost[k]`` (inf and empty
        when unreachable).

        The tree keeps the first of equally cheap predecessors, as one search per pair does when both
        search in the same order (plain Dijkstra).  A* settles nodes in another order, so with
        ``node_xy`` or landmarks a path through a node that two edges reach at exactly the same cost is
        routed again by the per-pair search: the routes are those of :meth:`routes` in every case.

        Returns ``(route_edges, n_trees, n_rerouted)``: int32 edge ids, the number of trees grown and
        the number of pairs routed again because of ties.
        """
        cdef Graph g = _graph(indptr, indices, weights, closed, node_xy, h_scale, lm_from, lm_to)
        cdef Search* s = &self.s
        cdef int64_t n_groups = group_origin.shape[0], gi, k, k0, k1, o, t, last, n_marked
        cdef int64_t n_trees = 0, n_rerouted = 0, n_amb, i
        cdef const int64_t* last_p = &last_edges[0] if last_edges is not None and last_edges.shape[0] > 0 else NULL
        cdef const int64_t* tail = &edge_tail[0] if edge_tail.shape[0] > 0 else NULL
        cdef bint check_ties = g.astar
        cdef int status = OK
        cdef EdgeBuffer out
        cdef int64_t* amb = <int64_t*>malloc(max(targets.shape[0], 1) * sizeof(int64_t))
        cdef int64_t* saved_order = s.order
        if amb == NULL:
            raise MemoryError()
        out.data = NULL
        out.size = 0
        out.cap = 0
        if not _reserve(&out, max(16 * targets.shape[0], 1)):
            free(amb)
            raise MemoryError()
        s.order = NULL
        with nogil:
            for gi in range(n_groups):
                o = group_origin[gi]
                k0 = group_indptr[gi]
                k1 = group_indptr[gi + 1]
                n_amb = 0
                if not g.astar or k1 - k0 >= min_tree_targets:
                    self.stamp += 1
                    n_marked = 0
                    for k in range(k0, k1):
                        t = targets[k]
                        if self.mark[t] != self.stamp:
                            self.mark[t] = self.stamp
                            n_marked += 1
                    _seed(s, o, 0.0, -1, 0.0)
                    _run_tree(&g, s, self.mark, self.stamp, n_marked)
                    n_trees += 1
                    for k in range(k0, k1):
                        t = targets[k]
                        last = last_p[k] if last_p != NULL else -1
                        out_start[k] = out.size
                        if s.dist[t] == INFINITY or (last >= 0 and g.closed != NULL and g.closed[last]):
                            out_cost[k] = INFINITY
                        else:
                            status = _append_path(s, tail, True, t, last, check_ties, &out)
                            if status == AMBIGUOUS:
                                amb[n_amb] = k
                                n_amb += 1
                                status = OK
                                continue
                            if status != OK:
                                break
                            out_cost[k] = s.dist[t] + (g.weights[last] if last >= 0 else 0.0)
                        out_end[k] = out.size
                    _reset(s)
                    if status != OK:
                        break
                else:
                    for k in range(k0, k1):
                        amb[n_amb] = k
                        n_amb += 1
                    n_rerouted -= n_amb  # routed by design, not because of ties
                n_rerouted += n_amb
                for i in range(n_amb):
                    k = amb[i]
                    last = last_p[k] if last_p != NULL else -1
                    out_start[k] = out.size
                    if last >= 0 and g.closed != NULL and g.closed[last]:
                        out_cost[k] = INFINITY
                    else:
                        status = _route_pair(&g, s, tail, o, targets[k], last, &out, &out_cost[k])
                        if status != OK:
                            break
                    out_end[k] = out.size
                if status != OK:
                    break
        s.order = saved_order
        free(amb)
        if status != OK:
            free(out.data)
            raise MemoryError()
        return _as_int32_array(&out), n_trees, n_rerouted

    def __reduce__(self):
        return (DijkstraWorkspace, (self.n_nodes,))
