// fsync-latency: what one durable batch costs the storage underneath Swiftcask.
//
// The engine appends a batch of records into a segment that was preallocated and zero-filled,
// then makes it durable with fdatasync. This tool repeats exactly that on a file of its own:
//
//   serial       one writer: pwrite(chunk) at the next offset + fdatasync, for each chunk size
//                (default 4096 and 13600 bytes = 100 records of 136 bytes); latency p50/p90/p99
//                and rounds/s
//   direct       the alternative a WAL could take instead: the same appends through a second
//                descriptor opened O_DIRECT | O_DSYNC, each pwrite covering the whole 4 KiB
//                blocks its chunk touches (the partial last block is rewritten by the next
//                append), no fdatasync; latency p50/p90/p99 and rounds/s
//   concurrent   N writer threads on the same file, distinct offsets, each pwrite + fdatasync;
//                total rounds/s against the serial rate shows how far the filesystem
//                overlaps (groups) concurrent flushes
//
// A round is one pwrite + fdatasync; rounds/s counts all writers over the wall time.
//
// The file is zero-filled and fsynced before timing (so fdatasync has no size or block
// allocation to journal), lives in --dir (default /tmp) and is removed at exit.
//
// Usage: fsync-latency [--dir DIR] [--chunks 4096,13600] [--threads 2,4] [--rounds N]
//                      [--seconds-max S] [--csv]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    LIST_MAX = 8,                   // chunk sizes or thread counts per run
    THREADS_MAX = 64,
    CHUNK_BYTES_MAX = 1 << 20,
    DIRECT_BLOCK_BYTES = 4096,      // O_DIRECT alignment of offsets, lengths and buffers
    ZERO_FILL_CHUNK_BYTES = 1 << 20,
};

struct options {
    const char *dir;
    size_t chunks[LIST_MAX]; int chunk_count;
    int threads[LIST_MAX]; int thread_count;
    long rounds;                    // per case (serial) or per case in total (concurrent)
    double seconds_max;             // per case: stop early on slow storage
    int csv;
};

static struct options opt;
static char path[4096];
static int fd = -1;

static void die(const char *what) {
    fprintf(stderr, "fsync-latency: %s: %s\n", what, strerror(errno));
    if (fd >= 0) unlink(path);
    exit(1);
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *sorted, long n, int pct) {
    long i = n * pct / 100;
    return sorted[i < n ? i : n - 1];
}

// Zero-fills [0, bytes) and makes it durable, as the engine's segment preallocation does.
static void zero_fill(size_t bytes) {
    if (ftruncate(fd, 0) != 0) die("ftruncate");
    char *zeros = calloc(1, ZERO_FILL_CHUNK_BYTES);
    if (!zeros) die("calloc");
    for (size_t at = 0; at < bytes; at += ZERO_FILL_CHUNK_BYTES)
        if (pwrite(fd, zeros, ZERO_FILL_CHUNK_BYTES, (off_t)at) != ZERO_FILL_CHUNK_BYTES) die("pwrite zeros");
    if (fsync(fd) != 0) die("fsync");
    free(zeros);
}

static void durable_write(const char *buffer, size_t chunk, size_t offset) {
    if (pwrite(fd, buffer, chunk, (off_t)offset) != (ssize_t)chunk) die("pwrite");
    if (fdatasync(fd) != 0) die("fdatasync");
}

static void print_row(const char *kind, size_t chunk, int threads, long rounds, double elapsed,
                      double *latency_us) {
    if (rounds == 0) {   // the time limit passed before the first round
        printf("%s chunk %zu threads %d: no round finished within %.1f s\n", kind, chunk, threads, opt.seconds_max);
        return;
    }
    qsort(latency_us, (size_t)rounds, sizeof *latency_us, compare_double);
    double p50 = percentile(latency_us, rounds, 50), p90 = percentile(latency_us, rounds, 90);
    double p99 = percentile(latency_us, rounds, 99), rate = (double)rounds / elapsed;
    if (opt.csv)
        printf("%s,%zu,%d,%ld,%.1f,%.1f,%.1f,%.0f\n", kind, chunk, threads, rounds, p50, p90, p99, rate);
    else
        printf("%-10s chunk %6zu B  threads %2d  rounds %5ld  p50 %7.1f us  p90 %7.1f us  p99 %7.1f us  %8.0f rounds/s\n",
               kind, chunk, threads, rounds, p50, p90, p99, rate);
    fflush(stdout);
}

// One writer appending `chunk` bytes per round at the next offset. Buffered ("serial"): pwrite
// + fdatasync. Direct: through a second descriptor opened O_DIRECT | O_DSYNC, each pwrite
// covering the whole 4 KiB blocks the chunk touches, no fdatasync.
static void run_one_writer(size_t chunk, int direct) {
    zero_fill((size_t)opt.rounds * chunk + ZERO_FILL_CHUNK_BYTES);
    int out = fd;
    if (direct && (out = open(path, O_WRONLY | O_DIRECT | O_DSYNC)) < 0) die("open O_DIRECT | O_DSYNC");
    char *buffer;
    size_t capacity = chunk + 2 * DIRECT_BLOCK_BYTES;
    if (posix_memalign((void **)&buffer, DIRECT_BLOCK_BYTES, capacity) != 0) die("posix_memalign");
    double *latency_us = malloc((size_t)opt.rounds * sizeof *latency_us);
    if (!latency_us) die("malloc");
    memset(buffer, 0x5A, capacity);
    long done = 0;
    double start = now_seconds(), deadline = start + opt.seconds_max;
    for (; done < opt.rounds; done++) {
        double t = now_seconds();
        if (t > deadline) break;
        size_t offset = (size_t)done * chunk;
        if (direct) {
            size_t first = offset & ~(size_t)(DIRECT_BLOCK_BYTES - 1);
            size_t end = (offset + chunk + DIRECT_BLOCK_BYTES - 1) & ~(size_t)(DIRECT_BLOCK_BYTES - 1);
            if (pwrite(out, buffer, end - first, (off_t)first) != (ssize_t)(end - first)) die("pwrite O_DIRECT");
        } else {
            durable_write(buffer, chunk, offset);
        }
        latency_us[done] = (now_seconds() - t) * 1e6;
    }
    print_row(direct ? "direct" : "serial", chunk, 1, done, now_seconds() - start, latency_us);
    if (direct) close(out);
    free(buffer);
    free(latency_us);
}

struct writer {
    pthread_t thread;
    int id, count;
    size_t chunk;
    long rounds, done;
    double deadline;
    double *latency_us;             // this writer's slice of the shared array
};

// Writer `id` of `count` owns offsets id, id + count, id + 2 count, ... (in chunks).
static void *writer_main(void *arg) {
    struct writer *w = arg;
    char *buffer = malloc(w->chunk);
    if (!buffer) die("malloc");
    memset(buffer, 0x5A, w->chunk);
    for (w->done = 0; w->done < w->rounds; w->done++) {
        double t = now_seconds();
        if (t > w->deadline) break;
        durable_write(buffer, w->chunk, ((size_t)w->done * (size_t)w->count + (size_t)w->id) * w->chunk);
        w->latency_us[w->done] = (now_seconds() - t) * 1e6;
    }
    free(buffer);
    return NULL;
}

static void run_concurrent(size_t chunk, int count) {
    long per_writer = opt.rounds / count;
    if (per_writer < 1) per_writer = 1;
    zero_fill((size_t)per_writer * (size_t)count * chunk + ZERO_FILL_CHUNK_BYTES);
    double *latency_us = malloc((size_t)per_writer * (size_t)count * sizeof *latency_us);
    struct writer *writers = calloc((size_t)count, sizeof *writers);
    if (!latency_us || !writers) die("malloc");
    double start = now_seconds();
    for (int i = 0; i < count; i++) {
        writers[i] = (struct writer){ .id = i, .count = count, .chunk = chunk, .rounds = per_writer,
                                      .deadline = start + opt.seconds_max,
                                      .latency_us = latency_us + (size_t)i * (size_t)per_writer };
        errno = pthread_create(&writers[i].thread, NULL, writer_main, &writers[i]);
        if (errno) die("pthread_create");
    }
    long total = 0;
    for (int i = 0; i < count; i++) pthread_join(writers[i].thread, NULL);
    double elapsed = now_seconds() - start;
    for (int i = 0; i < count; i++) {   // pack the measured prefix of each slice together
        memmove(latency_us + total, writers[i].latency_us, (size_t)writers[i].done * sizeof *latency_us);
        total += writers[i].done;
    }
    print_row("concurrent", chunk, count, total, elapsed, latency_us);
    free(latency_us);
    free(writers);
}

// Parses "a,b,c" into at most LIST_MAX positive numbers; returns how many, 0 on error.
static int parse_list(const char *text, long *values, long max) {
    int n = 0;
    for (char *end; *text; text = end + (*end == ',')) {
        long v = strtol(text, &end, 10);
        if (end == text || v < 1 || v > max || n == LIST_MAX || (*end && *end != ',')) return 0;
        values[n++] = v;
    }
    return n;
}

static void parse(int argc, char **argv) {
    opt = (struct options){ .dir = "/tmp", .chunks = { 4096, 13600 }, .chunk_count = 2,
                            .threads = { 2, 4 }, .thread_count = 2, .rounds = 2000, .seconds_max = 5.0 };
    long values[LIST_MAX];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--csv")) { opt.csv = 1; continue; }
        if (!v) goto usage;
        if (!strcmp(a, "--dir")) opt.dir = v;
        else if (!strcmp(a, "--rounds")) opt.rounds = atol(v);
        else if (!strcmp(a, "--seconds-max")) opt.seconds_max = atof(v);
        else if (!strcmp(a, "--chunks")) {
            if (!(opt.chunk_count = parse_list(v, values, CHUNK_BYTES_MAX))) goto usage;
            for (int k = 0; k < opt.chunk_count; k++) opt.chunks[k] = (size_t)values[k];
        } else if (!strcmp(a, "--threads")) {
            opt.thread_count = parse_list(v, values, THREADS_MAX);   // "0" turns concurrency off
            if (!opt.thread_count && strcmp(v, "0")) goto usage;
            for (int k = 0; k < opt.thread_count; k++) opt.threads[k] = (int)values[k];
        } else goto usage;
        i++;
    }
    if (opt.rounds < 1 || opt.seconds_max <= 0) goto usage;
    return;
usage:
    fprintf(stderr, "usage: fsync-latency [--dir DIR] [--chunks B,B..] [--threads N,N..|0] [--rounds N>=1] "
                    "[--seconds-max S] [--csv]   (at most %d list items, chunk <= %d B, threads <= %d)\n",
            LIST_MAX, CHUNK_BYTES_MAX, THREADS_MAX);
    exit(2);
}

int main(int argc, char **argv) {
    parse(argc, argv);
    snprintf(path, sizeof path, "%s/fsync-latency.XXXXXX", opt.dir);
    fd = mkstemp(path);
    if (fd < 0) die(path);
    if (opt.csv) printf("kind,chunk_bytes,threads,rounds,p50_us,p90_us,p99_us,rounds_per_s\n");
    for (int i = 0; i < opt.chunk_count; i++) run_one_writer(opt.chunks[i], 0);
    for (int i = 0; i < opt.chunk_count; i++) run_one_writer(opt.chunks[i], 1);
    // Concurrent writers use the first chunk size (4096 by default: one page per flush).
    for (int i = 0; i < opt.thread_count; i++) run_concurrent(opt.chunks[0], opt.threads[i]);
    close(fd);
    unlink(path);
    return 0;
}
