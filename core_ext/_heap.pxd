# Indexed 4-ary min-heap with decrease-key, shared by the routing and hotspot kernels.
#
# Why 4-ary with decrease-key: on street graphs (mean out-degree ~2.5) a 4-ary heap halves the depth of a
# binary heap and, indexed by node, never holds more than one item per node, so pops stay cheap and the
# heap stays small enough for L1/L2.  ``pos[v]`` is the slot of node v, -1 if v was never reached in the
# current search and -2 once v is settled; callers reset only the nodes they touched.
from core_ext._types cimport float64_t, int32_t, int64_t, node_t


cdef struct HeapItem:
    float64_t key
    node_t node


cdef struct Heap:
    HeapItem* items
    int32_t* pos
    int64_t size


cdef inline void heap_sift_up(Heap* h, int64_t i, float64_t key, node_t node) noexcept nogil:
    cdef int64_t parent
    cdef HeapItem* items = h.items
    while i > 0:
        parent = (i - 1) >> 2
        if items[parent].key <= key:
            break
        items[i] = items[parent]
        h.pos[items[i].node] = <int32_t>i
        i = parent
    items[i].key = key
    items[i].node = node
    h.pos[node] = <int32_t>i


cdef inline void heap_push_or_decrease(Heap* h, node_t node, float64_t key) noexcept nogil:
    """Insert ``node`` or lower its key; the caller guarantees the new key is not larger."""
    cdef int64_t i = h.pos[node]
    if i < 0:
        i = h.size
        h.size += 1
    heap_sift_up(h, i, key, node)


cdef inline node_t heap_pop(Heap* h) noexcept nogil:
    """Remove the minimum item, mark its node settled (pos = -2) and return the node."""
    cdef HeapItem* items = h.items
    cdef node_t top = items[0].node
    cdef int64_t i = 0, child, best, last_child, n
    cdef float64_t key, best_key
    cdef node_t node
    h.pos[top] = -2
    h.size -= 1
    n = h.size
    if n > 0:
        key = items[n].key
        node = items[n].node
        while True:
            child = 4 * i + 1
            if child >= n:
                break
            best = child
            best_key = items[child].key
            last_child = child + 4
            if last_child > n:
                last_child = n
            child += 1
            while child < last_child:
                if items[child].key < best_key:
                    best = child
                    best_key = items[child].key
                child += 1
            if best_key >= key:
                break
            items[i] = items[best]
            h.pos[items[i].node] = <int32_t>i
            i = best
        items[i].key = key
        items[i].node = node
        h.pos[node] = <int32_t>i
    return top
