"""Shortest-path kernels on CSR street graphs: full, bounded, point-to-point (A*), batch and multi-source.

Kernels only; the validated public wrappers live in core_ext/__init__.py.  Inputs are typed memoryviews
(read-only arrays accepted), every search runs without the GIL and nothing here draws random numbers.
One search engine serves all entry points: Dijkstra (or A* when node coordinates and a target are given)
over an indexed 4-ary heap, with an optional edge mask, cutoff, source labels and predecessor edges.
"""

from libc.math cimport INFINITY, sqrt
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset

import numpy as np

from core_ext._heap cimport Heap, HeapItem, heap_pop, heap_push_or_decrease
from core_ext._types cimport NO_MEMORY, float64_t, int32_t, int64_t, node_t, uint8_t


cdef extern from *:
    void __builtin_prefetch(const void*) nogil


cdef struct Graph:
    const int64_t* indptr
    const int64_t* indices
    const float64_t* weights
    const uint8_t* closed       # NULL: no edge is closed
    const float64_t* xy         # NULL: plain Dijkstra; else (n, 2) coordinates for the A* heuristic
    float64_t h_scale           # heuristic = h_scale * straight-line distance (weight units per metre)


cdef struct Search:
    Heap heap
    float64_t* dist
    int64_t* pred_edge          # NULL: predecessors not needed
    int64_t* label              # NULL: no source labels
    int64_t* touched            # NULL: fresh arrays, nothing to reset afterwards
    int64_t n_touched
    int64_t* order              # NULL: settled order not needed
    int64_t n_order


cdef inline float64_t _heuristic(const Graph* g, int64_t v, float64_t tx, float64_t ty) noexcept nogil:
    cdef float64_t dx = g.xy[2 * v] - tx
    cdef float64_t dy = g.xy[2 * v + 1] - ty
    return g.h_scale * sqrt(dx * dx + dy * dy)


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


cdef bint _run(const Graph* g, Search* s, float64_t cutoff, int64_t target) noexcept nogil:
    """Settle nodes in order until the heap empties or ``target`` (>= 0) is settled; True if it was."""
    cdef const int64_t* indptr = g.indptr
    cdef const int64_t* indices = g.indices
    cdef const float64_t* weights = g.weights
    cdef const uint8_t* closed = g.closed
    cdef float64_t* dist = s.dist
    cdef int32_t* pos = s.heap.pos
    cdef bint astar = g.xy != NULL and target >= 0
    cdef float64_t tx = 0.0, ty = 0.0, du, nd, key
    cdef int64_t u, v, e, e_end, nxt, lab = -1
    if astar:
        tx = g.xy[2 * target]
        ty = g.xy[2 * target + 1]
    while s.heap.size > 0:
        u = heap_pop(&s.heap)
        if s.order != NULL:
            s.order[s.n_order] = u
            s.n_order += 1
        if u == target:
            return True
        du = dist[u]
        if s.label != NULL:
            lab = s.label[u]
        if s.heap.size > 0:
            # The next node to settle is usually the current heap top: start fetching its adjacency
            # now so the cache misses overlap with this node's relaxations.
            nxt = s.heap.items[0].node
            e = indptr[nxt]
            __builtin_prefetch(&indices[e])
            __builtin_prefetch(&weights[e])
        e_end = indptr[u + 1]
        for e in range(indptr[u], e_end):
            if closed != NULL and closed[e]:
                continue
            v = indices[e]
            nd = du + weights[e]
            # No "settled?" test: weights are >= 0 (and the A* heuristic consistent), so a settled
            # node never improves; skipping the test saves a random read per relaxation.
            if nd < dist[v] and nd <= cutoff:
                if pos[v] == -1 and s.touched != NULL:
                    s.touched[s.n_touched] = v
                    s.n_touched += 1
                dist[v] = nd
                if s.pred_edge != NULL:
                    s.pred_edge[v] = e
                if s.label != NULL:
                    s.label[v] = lab
                key = nd
                if astar:
                    key = nd + _heuristic(g, v, tx, ty)
                heap_push_or_decrease(&s.heap, <node_t>v, key)
    return False


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
):
    cdef Graph g
    g.indptr = &indptr[0]
    g.indices = &indices[0] if indices.shape[0] > 0 else NULL
    g.weights = &weights[0] if weights.shape[0] > 0 else NULL
    g.closed = &closed[0] if closed is not None and closed.shape[0] > 0 else NULL
    g.xy = &node_xy[0, 0] if node_xy is not None and node_xy.shape[0] > 0 else NULL
    g.h_scale = h_scale
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
):
    """Multi-source Dijkstra on fresh dense arrays (``out_dist`` must be all inf on entry).

    ``out_label`` (optional, any content) receives the index into ``sources`` of each node's nearest
    source, -1 where unreachable.  Returns nothing; raises MemoryError only.
    """
    cdef int64_t n = indptr.shape[0] - 1, i
    cdef Graph g = _graph(indptr, indices, weights, closed, None, 0.0)
    cdef Search s
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
        _run(&g, &s, cutoff, -1)
    free(s.heap.items)
    free(s.heap.pos)


cdef class DijkstraWorkspace:
    """Reusable search state for one graph size: searches cost what they reach, not ``n_nodes``.

    Holds distance, heap-position and predecessor arrays of length ``n_nodes`` that every search leaves
    as it found them (all inf / -1) by resetting only the nodes it touched.  Not thread-safe: use one
    workspace per thread.
    """

    cdef Search s
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
        if (self.s.heap.items == NULL or self.s.heap.pos == NULL or self.s.dist == NULL
                or self.s.pred_edge == NULL or self.s.touched == NULL or self.s.order == NULL):
            raise MemoryError()
        memset(self.s.heap.pos, 0xFF, size * sizeof(int32_t))
        for i in range(size):
            self.s.dist[i] = INFINITY

    def __dealloc__(self):
        free(self.s.heap.items)
        free(self.s.heap.pos)
        free(self.s.dist)
        free(self.s.pred_edge)
        free(self.s.touched)
        free(self.s.order)

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
    ):
        """A* (Dijkstra if ``node_xy`` is None) for each pair; return ``(routes_indptr, route_edges, cost)``.

        Unreachable pairs get an empty route and cost inf; ``origin == destination`` an empty route and 0.
        """
        cdef Graph g = _graph(indptr, indices, weights, closed, node_xy, h_scale)
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
                if g.xy != NULL:
                    key = _heuristic(&g, o, g.xy[2 * t], g.xy[2 * t + 1])
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

    def __reduce__(self):
        return (DijkstraWorkspace, (self.n_nodes,))
