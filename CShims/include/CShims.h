// CShims: thin, prefixed wrappers around what Swift cannot call directly (liburing's inline
// helpers, variadic or macro-based libc calls) plus CRC32C. No storage logic lives here.
#ifndef CSHIMS_H
#define CSHIMS_H

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

// MARK: errno

static inline int sc_errno(void) { return errno; }

// MARK: io_uring (liburing)

static inline int sc_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags) {
    return io_uring_queue_init(entries, ring, flags);
}
static inline void sc_uring_queue_exit(struct io_uring *ring) { io_uring_queue_exit(ring); }
static inline struct io_uring_sqe *sc_uring_get_sqe(struct io_uring *ring) { return io_uring_get_sqe(ring); }
static inline void sc_uring_prep_write(struct io_uring_sqe *sqe, int fd, const void *buf, unsigned nbytes, uint64_t offset) {
    io_uring_prep_write(sqe, fd, buf, nbytes, offset);
}
static inline void sc_uring_prep_writev(struct io_uring_sqe *sqe, int fd, const struct iovec *iovecs, unsigned count, uint64_t offset) {
    io_uring_prep_writev(sqe, fd, iovecs, count, offset);
}
/// fdatasync through the ring (IORING_FSYNC_DATASYNC).
static inline void sc_uring_prep_fdatasync(struct io_uring_sqe *sqe, int fd) {
    io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
}
/// IOSQE_IO_LINK: the next SQE starts only after this one succeeded in full.
static inline void sc_uring_sqe_link(struct io_uring_sqe *sqe) { sqe->flags |= IOSQE_IO_LINK; }
static inline void sc_uring_sqe_set_data64(struct io_uring_sqe *sqe, uint64_t data) { io_uring_sqe_set_data64(sqe, data); }
static inline int sc_uring_submit(struct io_uring *ring) { return io_uring_submit(ring); }
static inline int sc_uring_submit_and_wait(struct io_uring *ring, unsigned wait_nr) { return io_uring_submit_and_wait(ring, wait_nr); }
/// Entries queued but not yet taken by the kernel (a short submit leaves some behind).
static inline unsigned sc_uring_sq_ready(const struct io_uring *ring) { return io_uring_sq_ready(ring); }
static inline int sc_uring_wait_cqe(struct io_uring *ring, struct io_uring_cqe **cqe) { return io_uring_wait_cqe(ring, cqe); }
static inline void sc_uring_cqe_seen(struct io_uring *ring, struct io_uring_cqe *cqe) { io_uring_cqe_seen(ring, cqe); }
static inline uint64_t sc_uring_cqe_data64(const struct io_uring_cqe *cqe) { return io_uring_cqe_get_data64(cqe); }
static inline int32_t sc_uring_cqe_result(const struct io_uring_cqe *cqe) { return cqe->res; }

// MARK: memory maps

static inline void *sc_mmap_shared_readonly(int fd, size_t length) {
    return mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0);
}
static inline int sc_mmap_failed(const void *address) { return address == MAP_FAILED; }
static inline int sc_munmap(void *address, size_t length) { return munmap(address, length); }
static inline int sc_madvise_random(void *address, size_t length) { return madvise(address, length, MADV_RANDOM); }
static inline int sc_madvise_sequential(void *address, size_t length) { return madvise(address, length, MADV_SEQUENTIAL); }
static inline int sc_madvise_willneed(void *address, size_t length) { return madvise(address, length, MADV_WILLNEED); }
static inline int sc_madvise_hugepage(void *address, size_t length) { return madvise(address, length, MADV_HUGEPAGE); }
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14; older kernels answer EINVAL */
#endif
/// Faults every page of the range in for reading, without touching the bytes from user space.
static inline int sc_madvise_populate_read(void *address, size_t length) { return madvise(address, length, MADV_POPULATE_READ); }

/// Anonymous, private, zero-filled memory (large index tables), with transparent huge pages
/// requested: a table of millions of slots then costs hundreds of page faults, not millions.
static inline void *sc_mmap_anonymous(size_t length) {
    void *address = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (address != MAP_FAILED) (void)madvise(address, length, MADV_HUGEPAGE);
    return address;
}

/// Asks the CPU to start loading the cache line at `address` (a hint; never faults).
static inline void sc_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

// MARK: files

static inline int sc_open(const char *path, int flags, int mode) { return open(path, flags | O_CLOEXEC, mode); }
/// fallocate(fd, 0, offset, length): reserves blocks (needs _GNU_SOURCE, hence out of line).
int sc_fallocate(int fd, int64_t offset, int64_t length);
/// pthread_setname_np for the calling thread (needs _GNU_SOURCE, hence out of line).
int sc_set_current_thread_name(const char *name);
/// setpriority for the calling thread alone (gettid needs _GNU_SOURCE): 0 or -1 with errno.
int sc_set_current_thread_niceness(int niceness);
/// futex(FUTEX_WAIT_BITSET, private): sleeps while `*word == expected`, until woken or until
/// `deadline_monotonic_nanos` (absolute, CLOCK_MONOTONIC; negative: no deadline). 0 when woken,
/// -1 with errno (EAGAIN: the word had changed, ETIMEDOUT, EINTR).
int sc_futex_wait(uint32_t *word, uint32_t expected, int64_t deadline_monotonic_nanos);
/// futex(FUTEX_WAKE, private): wakes up to `count` threads sleeping on `word`.
int sc_futex_wake(uint32_t *word, int32_t count);
/// The spin-wait hint (x86 `pause`), so a spinning thread yields its core's resources.
static inline void sc_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
/// The CPU's time-stamp counter (x86 `rdtsc`; not serialising, which is fine for intervals of
/// microseconds); 0 on other architectures.
static inline uint64_t sc_timestamp_counter(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}
static inline int sc_flock_exclusive_nonblocking(int fd) { return flock(fd, LOCK_EX | LOCK_NB); }
static inline int sc_flock_unlock(int fd) { return flock(fd, LOCK_UN); }

// MARK: CRC32C (Castagnoli)

/// Extends `crc` (0 to start) over `length` bytes. Uses the SSE4.2 instruction when the CPU
/// has it, else a table-driven software loop. Both give identical results.
uint32_t sc_crc32c(uint32_t crc, const void *data, size_t length);
/// The software path alone, so tests can check both against the published vectors.
uint32_t sc_crc32c_software(uint32_t crc, const void *data, size_t length);
/// 1 when `sc_crc32c` uses the SSE4.2 instruction.
int sc_crc32c_is_hardware_accelerated(void);

#endif
