// Calls that glibc declares only under _GNU_SOURCE, which the Swift-facing header must not
// define (it would make the header's view of libc differ from Swift's Glibc module).
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>

int sc_fallocate(int fd, int64_t offset, int64_t length) { return fallocate(fd, 0, offset, length); }

int sc_set_current_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }
