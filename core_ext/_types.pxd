# Shared C types of the core_ext kernels (cimported by every .pyx; no code of its own).
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t

ctypedef double float64_t
ctypedef float float32_t
# Node ids inside heaps are compressed to 32 bits: street graphs stay far below 2**31 nodes and the
# smaller heap items keep more of the heap in cache.
ctypedef int32_t node_t

# Error codes a kernel returns to its wrapper, which turns them into a ValueError naming the argument.
cdef enum KernelError:
    OK = 0
    BAD_INDEX = 1
    BAD_VALUE = 2
    NO_MEMORY = 3
