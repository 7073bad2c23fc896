// Calls that glibc declares only under _GNU_SOURCE, which the Swift-facing header must not
// define (it would make the header's view of libc differ from Swift's Glibc module).
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

int sc_fallocate(int fd, int64_t offset, int64_t length) { return fallocate(fd, 0, offset, length); }

int sc_set_current_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }

// On Linux a nice value belongs to a thread: PRIO_PROCESS with the thread's id sets only it.
int sc_set_current_thread_niceness(int niceness) { return setpriority(PRIO_PROCESS, (id_t)gettid(), niceness); }
