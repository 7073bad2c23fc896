// See include/CMallocCounter.h. Forwarding to __libc_* (not dlsym) keeps the interposer free of
// bootstrapping recursion. Counters are relaxed atomics: totals are read between phases.
#define _GNU_SOURCE
#include "CMallocCounter.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

static uint64_t allocation_count;
static uint64_t free_count;
static uint64_t allocated_bytes;
static __thread uint64_t thread_allocation_count;

static inline void count_allocation(size_t size) {
    __atomic_fetch_add(&allocation_count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&allocated_bytes, size, __ATOMIC_RELAXED);
    thread_allocation_count += 1;
}

void *malloc(size_t size) {
    count_allocation(size);
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    count_allocation(count * size);
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    if (size != 0 || pointer == NULL) count_allocation(size);
    if (pointer != NULL && size == 0) __atomic_fetch_add(&free_count, 1, __ATOMIC_RELAXED);
    return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
    count_allocation(size);
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count_allocation(size);
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    count_allocation(size);
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *result = pointer;
    return 0;
}

void free(void *pointer) {
    if (pointer != NULL) __atomic_fetch_add(&free_count, 1, __ATOMIC_RELAXED);
    __libc_free(pointer);
}

uint64_t swiftcask_allocations(void) { return __atomic_load_n(&allocation_count, __ATOMIC_RELAXED); }
uint64_t swiftcask_frees(void) { return __atomic_load_n(&free_count, __ATOMIC_RELAXED); }
uint64_t swiftcask_allocated_bytes(void) { return __atomic_load_n(&allocated_bytes, __ATOMIC_RELAXED); }
uint64_t swiftcask_thread_allocations(void) { return thread_allocation_count; }

int swiftcask_malloc_counter_is_active(void) {
    uint64_t before = swiftcask_allocations();
    // strdup allocates inside glibc: counted only if the dynamic linker bound glibc's own
    // malloc calls (and so every shared library's) to this file.
    char *copy = strdup("probe");
    free(copy);
    return swiftcask_allocations() > before;
}
