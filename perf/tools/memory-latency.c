// memory-latency: dependent-load (pointer-chase) latency of the memory a Swiftcask get touches.
//
// A get on the 2M-key workload does two dependent cache misses: the index slot (anonymous
// memory, ~64 MiB) and then the record (a read-only MAP_SHARED map of the segment file,
// ~320 MiB). This tool measures the cost of one such miss in each kind of memory:
//
//   anon-4k        anonymous memory with MADV_NOHUGEPAGE (4 KiB pages), index-sized
//   anon-huge      anonymous memory with MADV_HUGEPAGE, index-sized; reports how much
//                  AnonHugePages actually grew (0 means the kernel gave 4 KiB pages anyway)
//   file-map       a file written with pwrite (page cache warm), mapped PROT_READ MAP_SHARED,
//                  data-sized (4 KiB pages: a segment written in `always` mode)
//   file-map-huge  the same file, its page cache loaded in 2 MiB folios before the writes
//                  (a Swiftcask segment in the other modes, a merge output): 2 MiB pages where
//                  the kernel maps them so (file_pmd_mapped_kb says)
//   get-shaped     anon-huge index + file-map-huge together, each step one index load followed by
//                  one record load whose address came from the index (ns per get = per pair)
//   get-shaped-x4  the same with 4 independent gets interleaved: how much of the two-miss cost
//                  the CPU can overlap when a caller has several keys in hand
//   get-sequence-wN  a benchmark's read loop: independent keys, one get after another (each
//                  key's index line comes from a list read in order, not from the last get),
//                  each get = index load, record load, a CRC32C check of a 136-byte record
//                  (17 crc32 steps, as a Swiftcask read verifies) and N instructions of other
//                  work that does not depend on the record (hashing, locking, calls). With
//                  N = 0 the CPU runs the next get's misses under this one's; the question is
//                  how short a get must be for that to happen (a Swiftcask get is ~430).
//
// Each chase follows a random cyclic permutation of 64-byte lines (Sattolo's algorithm), so
// every load's address comes from the previous load: no prefetching, no overlap, nothing the
// compiler can hoist. Result per case: median of --passes timed passes after one warm-up pass.
//
// Usage: memory-latency [--index-mib N] [--data-mib N] [--passes N] [--loads N] [--dir DIR] [--csv]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22   /* Linux 5.14 */
#endif

enum {
    LINE_BYTES = 64,               // one cache line per chase step
    PAGE_BYTES = 4096,
    WRITE_CHUNK_BYTES = 1 << 20,   // pwrite granularity when building the file
    PASSES_MAX = 101,
    GET_CHAINS_MAX = 4,            // independent gets interleaved in the get-shaped-x4 case
    RECORD_CHECK_WORDS = 17,       // 8-byte crc32 steps over a 136-byte record
};
// Instructions of record-independent work per get in the get-sequence cases.
static const int SEQUENCE_WORK[] = { 0, 100, 250, 550 };
static const size_t HUGE_PAGE_BYTES = 2u << 20;

struct options {
    size_t index_mib, data_mib;
    int passes;
    long loads;
    const char *dir;
    int csv;
};

static void die(const char *what) {
    fprintf(stderr, "memory-latency: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {   // splitmix64
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// next[i] = the line visited after line i; one cycle through all `count` lines (Sattolo).
static uint32_t *random_cycle(size_t count) {
    uint32_t *next = malloc(count * sizeof *next);
    if (!next) die("malloc");
    for (size_t i = 0; i < count; i++) next[i] = (uint32_t)i;
    for (size_t i = count - 1; i > 0; i--) {
        size_t j = next_random() % i;
        uint32_t t = next[i]; next[i] = next[j]; next[j] = t;
    }
    return next;
}

// Anonymous region aligned to 2 MiB (so MADV_HUGEPAGE can use whole huge pages).
static char *map_anonymous(size_t bytes, int advice) {
    size_t padded = bytes + HUGE_PAGE_BYTES;
    char *raw = mmap(NULL, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) die("mmap anonymous");
    char *base = (char *)(((uintptr_t)raw + HUGE_PAGE_BYTES - 1) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
    if (madvise(base, bytes, advice) != 0) die("madvise");
    return base;
}

static long smaps_kb(const char *field) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') { kb = atol(line + n + 1); break; }
    fclose(f);
    return kb;
}

// Times `passes` runs of `loads` dependent loads starting at offset 0; returns the median ns/load.
// Each step reads the 64-bit offset of the next line out of the current one.
static volatile uint64_t chase_sink;
static void chase_passes(const char *base, long loads, int passes, double *ns) {
    uint64_t offset = 0;
    for (int p = -1; p < passes; p++) {   // p = -1 is the warm-up pass
        double start = now_seconds();
        for (long i = 0; i < loads; i++) offset = *(const volatile uint64_t *)(base + offset);
        if (p >= 0) ns[p] = (now_seconds() - start) * 1e9 / (double)loads;
    }
    chase_sink = offset;
}

// get-shaped: the index line holds a data offset, that data line holds the next index offset.
// `chains` independent walks advance in the same loop (starting at distinct index lines), so
// with chains > 1 the CPU may overlap their misses: ns per get falls only if it does.
static void get_passes(const char *index, const char *data, long gets, int chains, int passes, double *ns) {
    uint64_t offset[GET_CHAINS_MAX];
    for (int c = 0; c < chains; c++) offset[c] = (uint64_t)c * LINE_BYTES;
    long rounds = gets / chains;
    for (int p = -1; p < passes; p++) {
        double start = now_seconds();
        for (long i = 0; i < rounds; i++)
            for (int c = 0; c < chains; c++) {
                uint64_t record = *(const volatile uint64_t *)(index + offset[c]);
                offset[c] = *(const volatile uint64_t *)(data + record + sizeof(uint64_t));
            }
        if (p >= 0) ns[p] = (now_seconds() - start) * 1e9 / (double)(rounds * chains);
    }
    for (int c = 0; c < chains; c++) chase_sink = offset[c];
}

// The record check: 17 dependent crc32 steps over the record's words (SSE4.2 where present).
#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint64_t check_record(const char *record) {
    uint64_t crc = 0;
    for (int w = 0; w < RECORD_CHECK_WORDS; w++) crc = __builtin_ia32_crc32di(crc, ((const uint64_t *)record)[w]);
    return crc;
}
#else
static uint64_t check_record(const char *record) {
    uint64_t crc = 0;
    for (int w = 0; w < RECORD_CHECK_WORDS; w++) crc = (crc ^ ((const uint64_t *)record)[w]) * 0x100000001B3ull;
    return crc;
}
#endif

// get-sequence: `lines[i]` is the index line of get i (a random order, read sequentially, as a
// benchmark reads its key list), so no get's addresses depend on an earlier get. `work` single-
// cycle instructions per get (four independent chains) stand for the rest of a get's code; they
// depend only on the loop counter, never on a record.
static void sequence_passes(const char *index, const char *data, size_t data_bytes, const uint32_t *lines,
                            long gets, int work, int passes, double *ns) {
    const uint64_t record_max = data_bytes - RECORD_CHECK_WORDS * sizeof(uint64_t);   // stays in the map
    uint64_t sum = 0;
    for (int p = -1; p < passes; p++) {
        double start = now_seconds();
        for (long i = 0; i < gets; i++) {
            uint64_t record = *(const volatile uint64_t *)(index + (uint64_t)lines[i] * LINE_BYTES);
            if (record > record_max) record = record_max;
            sum += check_record(data + record);
            uint64_t a = (uint64_t)i, b = a, c = a, d = a;   // four chains: room for ILP
            for (int k = 0; k < work; k += 4)
                __asm__ volatile("add %4, %0\n\tadd %4, %1\n\txor %4, %2\n\txor %4, %3"
                                 : "+r"(a), "+r"(b), "+r"(c), "+r"(d) : "r"((uint64_t)k));
            sum += a ^ b ^ c ^ d;
        }
        if (p >= 0) ns[p] = (now_seconds() - start) * 1e9 / (double)gets;
    }
    chase_sink = sum;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const struct options *o, const char *name, const char *unit, size_t mib, double *ns,
                   const char *note) {
    qsort(ns, (size_t)o->passes, sizeof *ns, compare_double);
    double median = ns[o->passes / 2], low = ns[0], high = ns[o->passes - 1];
    if (o->csv)
        printf("%s,%zu,%.1f,%.1f,%.1f,%s\n", name, mib, median, low, high, note);
    else
        printf("%-13s %5zu MiB  %7.1f ns/%-4s (median of %d; min %.1f max %.1f)  %s\n",
               name, mib, median, unit, o->passes, low, high, note);
    fflush(stdout);
}

// Fills an anonymous region with one random cycle over its lines.
static void fill_cycle(char *base, size_t bytes) {
    size_t lines = bytes / LINE_BYTES;
    uint32_t *next = random_cycle(lines);
    for (size_t i = 0; i < lines; i++) *(uint64_t *)(base + i * LINE_BYTES) = (uint64_t)next[i] * LINE_BYTES;
    free(next);
}

static void parse(int argc, char **argv, struct options *o) {
    *o = (struct options){ .index_mib = 64, .data_mib = 320, .passes = 5, .loads = 2000000, .dir = "/tmp", .csv = 0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--csv")) { o->csv = 1; continue; }
        if (!v) goto usage;
        if (!strcmp(a, "--index-mib")) o->index_mib = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--data-mib")) o->data_mib = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--passes")) o->passes = atoi(v);
        else if (!strcmp(a, "--loads")) o->loads = atol(v);
        else if (!strcmp(a, "--dir")) o->dir = v;
        else goto usage;
        i++;
    }
    if (o->index_mib < 2 || o->data_mib < 2 || o->passes < 1 || o->passes > PASSES_MAX || o->loads < 1
        || o->data_mib * (1u << 20) / LINE_BYTES > UINT32_MAX) goto usage;
    return;
usage:
    fprintf(stderr, "usage: memory-latency [--index-mib N>=2] [--data-mib N>=2] [--passes 1..%d] "
                    "[--loads N] [--dir DIR] [--csv]\n", PASSES_MAX);
    exit(2);
}

// The data file: word 0 of each line is the next line of the file-only cycle, word 1 of the
// lines the index points at is the next index line. With `huge_folios`, the preallocated
// file's page cache is first loaded through a MADV_HUGEPAGE map (zeros, no disk read), as
// Swiftcask does, so the writes land in 2 MiB folios. Returns the file mapped read-only,
// every page faulted in (passes then measure loads, not faults).
static const char *build_data_file(const char *template, size_t data_bytes,
                                   const uint32_t *file_next, const uint64_t *index_target, int huge_folios) {
    char path[4096];
    snprintf(path, sizeof path, "%s", template);
    int fd = mkstemp(path);
    if (fd < 0) die(path);
    if (huge_folios) {
        if (fallocate(fd, 0, 0, (off_t)data_bytes) != 0) die("fallocate");
        char *warm = mmap(NULL, data_bytes, PROT_READ, MAP_SHARED, fd, 0);
        if (warm == MAP_FAILED) die("mmap for loading");
        (void)madvise(warm, data_bytes, MADV_HUGEPAGE);
        (void)madvise(warm, data_bytes, MADV_POPULATE_READ);
        munmap(warm, data_bytes);
    }
    char *chunk = aligned_alloc(PAGE_BYTES, WRITE_CHUNK_BYTES);
    if (!chunk) die("aligned_alloc");
    for (size_t at = 0; at < data_bytes; at += WRITE_CHUNK_BYTES) {
        size_t n = data_bytes - at < WRITE_CHUNK_BYTES ? data_bytes - at : WRITE_CHUNK_BYTES;
        memset(chunk, 0, n);
        for (size_t off = 0; off < n; off += LINE_BYTES) {
            size_t line = (at + off) / LINE_BYTES;
            ((uint64_t *)(chunk + off))[0] = (uint64_t)file_next[line] * LINE_BYTES;
            ((uint64_t *)(chunk + off))[1] = index_target[line];
        }
        if (pwrite(fd, chunk, n, (off_t)at) != (ssize_t)n) die("pwrite");
    }
    free(chunk);
    const char *data = mmap(NULL, data_bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED) die("mmap file");
    close(fd);
    unlink(path);
    volatile uint64_t touch = 0;
    for (size_t at = 0; at < data_bytes; at += PAGE_BYTES) touch += *(const volatile uint64_t *)(data + at);
    return data;
}

int main(int argc, char **argv) {
    struct options o;
    parse(argc, argv, &o);
    size_t index_bytes = o.index_mib << 20, data_bytes = o.data_mib << 20;
    size_t index_lines = index_bytes / LINE_BYTES, data_lines = data_bytes / LINE_BYTES;
    double ns[PASSES_MAX];
    char note[160];

    if (o.csv) printf("case,size_mib,median_ns,min_ns,max_ns,note\n");

    // (a) anonymous, 4 KiB pages.
    char *small = map_anonymous(index_bytes, MADV_NOHUGEPAGE);
    fill_cycle(small, index_bytes);
    chase_passes(small, o.loads, o.passes, ns);
    report(&o, "anon-4k", "load", o.index_mib, ns, "MADV_NOHUGEPAGE");
    munmap(small, index_bytes);

    // (b) anonymous, MADV_HUGEPAGE; kept mapped for get-shaped below.
    long huge_before = smaps_kb("AnonHugePages");
    char *index = map_anonymous(index_bytes, MADV_HUGEPAGE);
    fill_cycle(index, index_bytes);
    long huge_grown = smaps_kb("AnonHugePages") - huge_before;
    chase_passes(index, o.loads, o.passes, ns);
    snprintf(note, sizeof note, "anon_huge_kb_grown=%ld of %zu", huge_grown, index_bytes >> 10);
    report(&o, "anon-huge", "load", o.index_mib, ns, note);

    // (c) file written with pwrite, mapped read-only and shared. Word 0 of each line: the next
    // line of the file-only cycle. Word 1 of the lines the index points at: the next index line.
    char path[4096];
    snprintf(path, sizeof path, "%s/memory-latency.XXXXXX", o.dir);
    uint32_t *file_next = random_cycle(data_lines);
    uint32_t *index_next = random_cycle(index_lines);
    uint32_t *record_of = random_cycle(data_lines);   // any permutation: distinct record per slot
    uint64_t *index_target = calloc(data_lines, sizeof *index_target);
    if (!index_target) die("calloc");
    for (size_t i = 0; i < index_lines; i++) {
        *(uint64_t *)(index + i * LINE_BYTES) = (uint64_t)record_of[i] * LINE_BYTES;
        index_target[record_of[i]] = (uint64_t)index_next[i] * LINE_BYTES;
    }
    // Built twice with the same contents: page cache in 4 KiB folios (as a segment written
    // with `always`), then loaded in 2 MiB folios before the writes (as a Swiftcask spare in
    // the other modes and a merge output), which the kernel may map with 2 MiB pages.
    const char *small_folios = build_data_file(path, data_bytes, file_next, index_target, 0);
    chase_passes(small_folios, o.loads, o.passes, ns);
    snprintf(note, sizeof note, "PROT_READ MAP_SHARED; 4 KiB folios; file_pmd_mapped_kb=%ld", smaps_kb("FilePmdMapped"));
    report(&o, "file-map", "load", o.data_mib, ns, note);
    munmap((void *)small_folios, data_bytes);
    const char *data = build_data_file(path, data_bytes, file_next, index_target, 1);
    chase_passes(data, o.loads, o.passes, ns);
    snprintf(note, sizeof note, "PROT_READ MAP_SHARED; page cache loaded in huge folios first; file_pmd_mapped_kb=%ld",
             smaps_kb("FilePmdMapped"));
    report(&o, "file-map-huge", "load", o.data_mib, ns, note);
    free(file_next); free(index_next); free(record_of); free(index_target);

    // (d) both together, as a get walks them.
    get_passes(index, data, o.loads / 2, 1, o.passes, ns);
    report(&o, "get-shaped", "get", o.index_mib + o.data_mib, ns, "index load then record load (file-map-huge); one get at a time");
    get_passes(index, data, o.loads / 2, GET_CHAINS_MAX, o.passes, ns);
    snprintf(note, sizeof note, "%d independent gets interleaved (misses may overlap)", GET_CHAINS_MAX);
    report(&o, "get-shaped-x4", "get", o.index_mib + o.data_mib, ns, note);

    // (e) independent gets one after another, as a benchmark's read loop issues them.
    long sequence_gets = o.loads / 2 < (long)index_lines ? o.loads / 2 : (long)index_lines;
    uint32_t *order = random_cycle(index_lines);   // a permutation of the index lines
    for (size_t i = 0; i < sizeof SEQUENCE_WORK / sizeof *SEQUENCE_WORK; i++) {
        char name[32];
        snprintf(name, sizeof name, "get-sequence-w%d", SEQUENCE_WORK[i]);
        sequence_passes(index, data, data_bytes, order, sequence_gets, SEQUENCE_WORK[i], o.passes, ns);
        snprintf(note, sizeof note, "independent keys; 136-byte CRC check + %d instructions of other work per get",
                 SEQUENCE_WORK[i]);
        report(&o, name, "get", o.index_mib + o.data_mib, ns, note);
    }
    free(order);
    return 0;
}
