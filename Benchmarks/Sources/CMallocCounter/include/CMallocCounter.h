// Allocation counters for benchmarks. The executable that links this target interposes the C
// allocator (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, free) and
// forwards every call to glibc's __libc_* entry points, counting with relaxed atomics.
#ifndef CMALLOC_COUNTER_H
#define CMALLOC_COUNTER_H

#include <stdint.h>

/// Allocations (malloc, calloc, realloc, aligned forms) in every thread since start.
uint64_t swiftcask_allocations(void);
/// Frees of a non-NULL pointer in every thread since start.
uint64_t swiftcask_frees(void);
/// Bytes requested by those allocations.
uint64_t swiftcask_allocated_bytes(void);
/// Allocations made by the calling thread only.
uint64_t swiftcask_thread_allocations(void);
/// 1 when the interposer is live (the process's malloc resolved to it), else 0.
int swiftcask_malloc_counter_is_active(void);

#endif
