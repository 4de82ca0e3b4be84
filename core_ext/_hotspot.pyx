"""Hotspot kernels: network kernel density via a precomputed sparse kernel matrix, and a grid KDE.

Kernels only; the validated public wrappers live in core_ext/__init__.py.  The network KDE works on
"places": undirected street pieces (a segment, i.e. both directions of a two-way street), each with two
end nodes and a length.  The distance between two places is the network distance between their
midpoints along the undirected street graph; the kernel matrix holds every pair closer than the
bandwidth, so a refresh is one sparse matrix-vector product.
"""

from libc.math cimport INFINITY, ceil, exp, floor, sqrt
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset

import numpy as np

from core_ext._heap cimport Heap, HeapItem, heap_pop, heap_push_or_decrease
from core_ext._types cimport float64_t, int32_t, int64_t, node_t

KERNELS = {"quartic": 0, "epanechnikov": 1, "gaussian": 2, "uniform": 3}


cdef inline float64_t _kernel(float64_t u, int kind) noexcept nogil:
    """Kernel weight at scaled distance u = d / h in [0, 1): 1 at u = 0 (relative, not normalised)."""
    cdef float64_t t
    if kind == 0:
        t = 1.0 - u * u
        return t * t
    if kind == 1:
        return 1.0 - u * u
    if kind == 2:
        return exp(-4.5 * u * u)  # Gaussian with sigma = h / 3, truncated at h
    return 1.0


def build_kernel_matrix(
    const int64_t[::1] inc_indptr,
    const int64_t[::1] inc_place,
    const int64_t[::1] inc_other,
    const int64_t[::1] place_a,
    const int64_t[::1] place_b,
    const float64_t[::1] place_len,
    float64_t bandwidth,
    int kernel,
):
    """Return CSR ``(indptr, indices, data)`` of K[p, q] = kernel(d(p, q) / h) for d(p, q) < h.

    ``inc_*`` is the node -> incident-place incidence in CSR form (a place is listed under both of its
    end nodes, with the other end in ``inc_other``); it doubles as the undirected street graph.
    """
    cdef int64_t n_nodes = inc_indptr.shape[0] - 1
    cdef int64_t n_places = place_len.shape[0]
    cdef int64_t size = max(n_nodes, 1), psize = max(n_places, 1)
    cdef Heap heap
    cdef float64_t* dist = <float64_t*>malloc(size * sizeof(float64_t))
    cdef int64_t* touched = <int64_t*>malloc(size * sizeof(int64_t))
    cdef float64_t* best = <float64_t*>malloc(psize * sizeof(float64_t))
    cdef int64_t* row = <int64_t*>malloc(psize * sizeof(int64_t))
    cdef int64_t cap = 16 * psize, nnz = 0
    cdef int32_t* k_idx = <int32_t*>malloc(cap * sizeof(int32_t))
    cdef float64_t* k_val = <float64_t*>malloc(cap * sizeof(float64_t))
    cdef int32_t* grown_idx
    cdef float64_t* grown_val
    cdef int64_t p, q, x, y, j, i, n_touched, n_row, seed
    cdef float64_t dx, nd, cand, half
    cdef bint failed = False
    heap.items = <HeapItem*>malloc(size * sizeof(HeapItem))
    heap.pos = <int32_t*>malloc(size * sizeof(int32_t))
    heap.size = 0
    indptr = np.zeros(n_places + 1, dtype=np.int64)
    cdef int64_t[::1] indptr_v = indptr
    if (dist == NULL or touched == NULL or best == NULL or row == NULL or k_idx == NULL or k_val == NULL
            or heap.items == NULL or heap.pos == NULL):
        failed = True
    else:
        with nogil:
            memset(heap.pos, 0xFF, size * sizeof(int32_t))
            for i in range(size):
                dist[i] = INFINITY
            for i in range(psize):
                best[i] = INFINITY
            for p in range(n_places):
                n_touched = 0
                best[p] = 0.0
                row[0] = p
                n_row = 1
                half = 0.5 * place_len[p]
                if half < bandwidth:
                    for seed in range(2):
                        x = place_a[p] if seed == 0 else place_b[p]
                        if half < dist[x]:
                            if heap.pos[x] == -1:
                                touched[n_touched] = x
                                n_touched += 1
                            dist[x] = half
                            heap_push_or_decrease(&heap, <node_t>x, half)
                while heap.size > 0:
                    x = heap_pop(&heap)
                    dx = dist[x]
                    for j in range(inc_indptr[x], inc_indptr[x + 1]):
                        q = inc_place[j]
                        cand = dx + 0.5 * place_len[q]
                        if cand < bandwidth and cand < best[q]:
                            if best[q] == INFINITY:
                                row[n_row] = q
                                n_row += 1
                            best[q] = cand
                        y = inc_other[j]
                        if heap.pos[y] == -2:
                            continue
                        nd = dx + place_len[q]
                        if nd < bandwidth and nd < dist[y]:
                            if heap.pos[y] == -1:
                                touched[n_touched] = y
                                n_touched += 1
                            dist[y] = nd
                            heap_push_or_decrease(&heap, <node_t>y, nd)
                for i in range(n_touched):
                    dist[touched[i]] = INFINITY
                    heap.pos[touched[i]] = -1
                heap.size = 0
                if nnz + n_row > cap:
                    while nnz + n_row > cap:
                        cap *= 2
                    grown_idx = <int32_t*>realloc(k_idx, cap * sizeof(int32_t))
                    if grown_idx != NULL:
                        k_idx = grown_idx
                    grown_val = <float64_t*>realloc(k_val, cap * sizeof(float64_t))
                    if grown_val != NULL:
                        k_val = grown_val
                    if grown_idx == NULL or grown_val == NULL:
                        failed = True
                        break
                for i in range(n_row):
                    q = row[i]
                    k_idx[nnz] = <int32_t>q
                    k_val[nnz] = _kernel(best[q] / bandwidth, kernel)
                    nnz += 1
                    best[q] = INFINITY
                indptr_v[p + 1] = nnz
    indices = np.empty(nnz if not failed else 0, dtype=np.int32)
    data = np.empty(nnz if not failed else 0, dtype=np.float64)
    cdef int32_t[::1] indices_v = indices
    cdef float64_t[::1] data_v = data
    if not failed and nnz > 0:
        memcpy(&indices_v[0], k_idx, nnz * sizeof(int32_t))
        memcpy(&data_v[0], k_val, nnz * sizeof(float64_t))
    free(dist)
    free(touched)
    free(best)
    free(row)
    free(k_idx)
    free(k_val)
    free(heap.items)
    free(heap.pos)
    if failed:
        raise MemoryError()
    return indptr, indices, data


def spmv_gather(
    const int64_t[::1] k_indptr,
    const int32_t[::1] k_indices,
    const float64_t[::1] k_data,
    const float64_t[::1] x,
    float64_t scale,
    float64_t[::1] y_place,
    const int64_t[::1] place_of_edge,
    float64_t[::1] y_edge,
):
    """``y_place = scale * K @ x``; then, if ``y_edge`` is not None, ``y_edge = y_place[place_of_edge]``."""
    cdef int64_t p, j, e, n_places = k_indptr.shape[0] - 1
    cdef float64_t acc
    with nogil:
        for p in range(n_places):
            acc = 0.0
            for j in range(k_indptr[p], k_indptr[p + 1]):
                acc = acc + k_data[j] * x[k_indices[j]]
            y_place[p] = scale * acc
        if y_edge is not None:
            for e in range(place_of_edge.shape[0]):
                y_edge[e] = y_place[place_of_edge[e]]


def scatter_add(
    const int64_t[::1] place_of_edge,
    const int64_t[::1] event_edge,
    const float64_t[::1] event_weight,
    float64_t[::1] w_place,
):
    """``w_place[place_of_edge[event_edge[i]]] += event_weight[i]``; return the first bad event or -1."""
    cdef int64_t i, e, n_edges = place_of_edge.shape[0], bad = -1
    with nogil:
        for i in range(event_edge.shape[0]):
            e = event_edge[i]
            if e < 0 or e >= n_edges:
                bad = i
                break
            w_place[place_of_edge[e]] += event_weight[i]
    return bad


def grid_density(
    const float64_t[:, ::1] event_xy,
    const float64_t[::1] event_weight,
    float64_t x0,
    float64_t y0,
    float64_t cell,
    float64_t bandwidth,
    int kernel,
    float64_t[:, ::1] out,
):
    """Add each event's kernel to every cell centre of ``out`` (ny, nx) within ``bandwidth`` of it."""
    cdef int64_t ny = out.shape[0], nx = out.shape[1], i, ix, iy, cx, cy
    cdef int64_t r = <int64_t>ceil(bandwidth / cell)
    cdef float64_t ex, ey, ddx, ddy, d, w
    with nogil:
        for i in range(event_xy.shape[0]):
            ex = event_xy[i, 0]
            ey = event_xy[i, 1]
            w = event_weight[i]
            cx = <int64_t>floor((ex - x0) / cell)
            cy = <int64_t>floor((ey - y0) / cell)
            for iy in range(max(cy - r, 0), min(cy + r + 1, ny)):
                ddy = y0 + (iy + 0.5) * cell - ey
                for ix in range(max(cx - r, 0), min(cx + r + 1, nx)):
                    ddx = x0 + (ix + 0.5) * cell - ex
                    d = sqrt(ddx * ddx + ddy * ddy)
                    if d < bandwidth:
                        out[iy, ix] += w * _kernel(d / bandwidth, kernel)


def reach_maxima_at(
    const int64_t[::1] sources,
    const int64_t[::1] reach_start,
    const int64_t[::1] reach_end,
    const int64_t[::1] reach_place,
    const float64_t[::1] reach_weight,
    const float64_t[::1] level_a,
    const float64_t[::1] level_b,
    const int64_t[::1] queries,
    int64_t[::1] slot,
    float64_t[::1] out_a,
    float64_t[::1] out_b,
):
    """Per query place, the largest ``weight * level`` over the sources whose reach holds it (0: none).

    Source ``i`` (place ``sources[i]``) reaches places ``reach_place[reach_start[s]:reach_end[s]]``
    with weights ``reach_weight[...]`` (``s = sources[i]``); its two levels are ``level_a[i]``,
    ``level_b[i]``.  ``out_a[j]``/``out_b[j]`` get the maxima at place ``queries[j]``: what
    ``np.maximum.at`` into a zeroed array over all places gives there, for only the places asked.
    ``slot`` (one entry per place, all -1) is scratch: left all -1 again.  Returns 0, or 1 for a
    query out of range, 2 for a source or its reach slice out of range, 3 for a reached place out of
    range (nothing is written then but ``out_*``).
    """
    cdef int64_t n_places = slot.shape[0], n_reach = reach_place.shape[0]
    cdef int64_t n_q = queries.shape[0], i, j, e, p, s, status = 0
    cdef float64_t a, b, w, v
    with nogil:
        for j in range(n_q):
            if queries[j] < 0 or queries[j] >= n_places:
                status = 1
                break
        for i in range(sources.shape[0]):
            if status:
                break
            s = sources[i]
            if s < 0 or s >= n_places or reach_start[s] < 0 or reach_end[s] > n_reach:
                status = 2
                break
            for e in range(reach_start[s], reach_end[s]):
                if reach_place[e] < 0 or reach_place[e] >= n_places:
                    status = 3
                    break
    if status:
        return status
    with nogil:
        for j in range(n_q):
            out_a[j] = 0.0
            out_b[j] = 0.0
            if slot[queries[j]] < 0:
                slot[queries[j]] = j
        for i in range(sources.shape[0]):
            s = sources[i]
            a = level_a[i]
            b = level_b[i]
            for e in range(reach_start[s], reach_end[s]):
                p = slot[reach_place[e]]
                if p < 0:
                    continue
                w = reach_weight[e]
                v = w * a
                if v > out_a[p]:
                    out_a[p] = v
                v = w * b
                if v > out_b[p]:
                    out_b[p] = v
        # a place asked twice: its later entries copy the first
        for j in range(n_q):
            p = slot[queries[j]]
            out_a[j] = out_a[p]
            out_b[j] = out_b[p]
        for j in range(n_q):
            slot[queries[j]] = -1
    return status
