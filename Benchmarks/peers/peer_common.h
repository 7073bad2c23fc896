// Shared workload and reporting for the peer drivers (LMDB, LevelDB, RocksDB). The workload is
// the one swiftcask-bench runs: key i is 16 lowercase hex digits of SplitMix64's finalizer of i,
// values are 100-byte windows into a 1 MiB random pool (SplitMix64 seeded 0x5eed), reads follow
// a Fisher-Yates permutation from the same generator, and the keys are laid out in read order
// so the driver's own key fetch never misses the cache. Output: `engine,run,metric,value` CSV
// rows (the format of `swiftcask-bench --csv`), configuration lines prefixed with '#'.
#ifndef PEER_COMMON_H
#define PEER_COMMON_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { key_bytes = 16, value_bytes = 100, value_pool_bytes = 1 << 20 };

struct workload {
    long key_count;
    long batch_size;
    long reads;
    const char *directory;
    const char *engine;
    int run;
    char *keys;          /* key_count * key_bytes, in insertion order */
    char *read_keys;     /* the same keys in read order */
    char *values;        /* value_pool_bytes + value_bytes */
};

static inline uint64_t splitmix_mix(uint64_t value) {
    uint64_t z = value + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t splitmix_next(uint64_t *state) {
    *state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = *state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline double now_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static inline const char *workload_key(const struct workload *w, long index) { return w->keys + index * key_bytes; }
static inline const char *workload_read_key(const struct workload *w, long step) { return w->read_keys + (step % w->key_count) * key_bytes; }
static inline const char *workload_value(const struct workload *w, long index) {
    return w->values + ((index * 97) & (value_pool_bytes - 1));
}

static inline void fail(const char *what, const char *detail) {
    fprintf(stderr, "peer driver: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static inline void workload_parse(struct workload *w, int argc, char **argv, const char *engine) {
    w->key_count = 2000000;
    w->batch_size = 100;
    w->reads = 0;
    w->directory = NULL;
    w->engine = engine;
    w->run = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--keys") && i + 1 < argc) w->key_count = atol(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) w->batch_size = atol(argv[++i]);
        else if (!strcmp(argv[i], "--reads") && i + 1 < argc) w->reads = atol(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) w->directory = argv[++i];
        else if (!strcmp(argv[i], "--run") && i + 1 < argc) w->run = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s --dir DIR [--keys N] [--batch N] [--reads N] [--run N]\n", argv[0]);
            exit(2);
        }
    }
    if (!w->directory) fail("missing --dir", NULL);
    if (w->reads <= 0) w->reads = w->key_count;
}

static inline void workload_generate(struct workload *w) {
    static const char digits[] = "0123456789abcdef";
    long n = w->key_count;
    w->keys = malloc((size_t)n * key_bytes);
    w->read_keys = malloc((size_t)n * key_bytes);
    w->values = malloc(value_pool_bytes + value_bytes + 8);
    int32_t *order = malloc((size_t)n * sizeof(int32_t));
    if (!w->keys || !w->read_keys || !w->values || !order) fail("out of memory", NULL);
    for (long i = 0; i < n; i++) {
        uint64_t mixed = splitmix_mix((uint64_t)i);
        char *key = w->keys + i * key_bytes;
        for (int position = key_bytes - 1; position >= 0; position--) {
            key[position] = digits[mixed & 0xF];
            mixed >>= 4;
        }
    }
    uint64_t state = 0x5eed;
    for (long offset = 0; offset < value_pool_bytes + value_bytes; offset += 8) {
        uint64_t word = splitmix_next(&state);
        memcpy(w->values + offset, &word, 8);
    }
    for (long i = 0; i < n; i++) order[i] = (int32_t)i;
    for (long i = n - 1; i > 0; i--) {
        long other = (long)(splitmix_next(&state) % (uint64_t)(i + 1));
        int32_t t = order[i]; order[i] = order[other]; order[other] = t;
    }
    for (long step = 0; step < n; step++) memcpy(w->read_keys + step * key_bytes, w->keys + (long)order[step] * key_bytes, key_bytes);
    free(order);
}

static inline void report(const struct workload *w, const char *metric, double value) {
    printf("%s,%d,%s,%.6g\n", w->engine, w->run, metric, value);
    fflush(stdout);
}

/* Allocated bytes of every file below `path` (as du counts them). */
static inline long long disk_usage(const char *path) {
    struct stat info;
    if (lstat(path, &info) != 0) return 0;
    long long total = (long long)info.st_blocks * 512;
    if (!S_ISDIR(info.st_mode)) return total;
    DIR *dir = opendir(path);
    if (!dir) return total;
    struct dirent *entry;
    char child[4096];
    while ((entry = readdir(dir))) {
        if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        total += disk_usage(child);
    }
    closedir(dir);
    return total;
}

static inline double peak_rss_bytes(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_maxrss * 1024.0;
}

static inline void make_directory(const char *path) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST) fail("mkdir", path);
}

#endif
