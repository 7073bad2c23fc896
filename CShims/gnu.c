// Calls that glibc declares only under _GNU_SOURCE, which the Swift-facing header must not
// define (it would make the header's view of libc differ from Swift's Glibc module).
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int sc_fallocate(int fd, int64_t offset, int64_t length) { return fallocate(fd, 0, offset, length); }

int sc_set_current_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }

// On Linux a nice value belongs to a thread: PRIO_PROCESS with the thread's id sets only it.
int sc_set_current_thread_niceness(int niceness) { return setpriority(PRIO_PROCESS, (id_t)gettid(), niceness); }

// futex(2) has no glibc wrapper; syscall() is variadic, which Swift cannot call.
int sc_futex_wait(uint32_t *word, uint32_t expected, int64_t deadline_monotonic_nanos) {
    struct timespec deadline;
    struct timespec *timeout = NULL;
    if (deadline_monotonic_nanos >= 0) {
        deadline.tv_sec = deadline_monotonic_nanos / 1000000000;
        deadline.tv_nsec = deadline_monotonic_nanos % 1000000000;
        timeout = &deadline;
    }
    // FUTEX_WAIT_BITSET takes an absolute deadline on CLOCK_MONOTONIC (plain FUTEX_WAIT a relative one).
    return (int)syscall(SYS_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, timeout, NULL, FUTEX_BITSET_MATCH_ANY);
}

int sc_futex_wake(uint32_t *word, int32_t count) {
    return (int)syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, NULL, NULL, 0);
}
