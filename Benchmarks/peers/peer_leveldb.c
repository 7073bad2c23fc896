// LevelDB driver for perf/bench-peers.sh (see peer_common.h for the workload and output).
// Configuration, following doc/index.md "Performance": a 10-bit Bloom filter (random reads),
// an 8 MiB block cache (the default size, made explicit), default 4 MiB write buffer, Snappy
// compression (default; the values are random, so it saves nothing). Fill: sync=false, the last
// put with sync=true; durable fill: WriteBatch of 100 written with sync=true; reads: leveldb_get
// (a malloc'd copy, freed).
#include "peer_common.h"
#include <leveldb/c.h>

static void check(char *error, const char *what) {
    if (error) fail(what, error);
}

static leveldb_t *open_db(const char *path, leveldb_options_t **options_out, leveldb_cache_t **cache_out, leveldb_filterpolicy_t **filter_out) {
    leveldb_options_t *options = leveldb_options_create();
    leveldb_cache_t *cache = leveldb_cache_create_lru(8 << 20);
    leveldb_filterpolicy_t *filter = leveldb_filterpolicy_create_bloom(10);
    leveldb_options_set_create_if_missing(options, 1);
    leveldb_options_set_cache(options, cache);
    leveldb_options_set_filter_policy(options, filter);
    char *error = NULL;
    leveldb_t *db = leveldb_open(options, path, &error);
    check(error, "leveldb_open");
    *options_out = options; *cache_out = cache; *filter_out = filter;
    return db;
}

static void close_db(leveldb_t *db, leveldb_options_t *options, leveldb_cache_t *cache, leveldb_filterpolicy_t *filter) {
    leveldb_close(db);
    leveldb_options_destroy(options);
    leveldb_cache_destroy(cache);
    leveldb_filterpolicy_destroy(filter);
}

int main(int argc, char **argv) {
    struct workload w;
    workload_parse(&w, argc, argv, "leveldb");
    workload_generate(&w);
    printf("# leveldb %d.%d: bloom 10 bits/key, 8 MiB block cache, 4 MiB write buffer, snappy; fill sync=false (last put sync=true); "
           "durable: WriteBatch of %ld with sync=true; reads: leveldb_get\n", leveldb_major_version(), leveldb_minor_version(), w.batch_size);
    char path[4096];
    char *error = NULL;
    leveldb_options_t *options; leveldb_cache_t *cache; leveldb_filterpolicy_t *filter;
    leveldb_writeoptions_t *nosync = leveldb_writeoptions_create();
    leveldb_writeoptions_t *sync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(sync, 1);
    leveldb_readoptions_t *read_options = leveldb_readoptions_create();

    snprintf(path, sizeof path, "%s/fill", w.directory);
    leveldb_t *db = open_db(path, &options, &cache, &filter);
    double start = now_seconds();
    for (long i = 0; i < w.key_count; i++) {
        leveldb_put(db, i + 1 == w.key_count ? sync : nosync, workload_key(&w, i), key_bytes, workload_value(&w, i), value_bytes, &error);
        check(error, "leveldb_put");
    }
    report(&w, "fill_ops_per_sec", w.key_count / (now_seconds() - start));

    long found = 0;
    start = now_seconds();
    for (long step = 0; step < w.reads; step++) {
        size_t length = 0;
        char *value = leveldb_get(db, read_options, workload_read_key(&w, step), key_bytes, &length, &error);
        check(error, "leveldb_get");
        if (value) { found += length == value_bytes; leveldb_free(value); }
    }
    report(&w, "read_ops_per_sec", w.reads / (now_seconds() - start));
    if (found != w.reads) fail("reads", "missing keys");
    close_db(db, options, cache, filter);

    start = now_seconds();
    db = open_db(path, &options, &cache, &filter);
    report(&w, "reopen_seconds", now_seconds() - start);
    close_db(db, options, cache, filter);
    report(&w, "disk_bytes", (double)disk_usage(path));

    snprintf(path, sizeof path, "%s/durable", w.directory);
    db = open_db(path, &options, &cache, &filter);
    leveldb_writebatch_t *batch = leveldb_writebatch_create();
    start = now_seconds();
    for (long first = 0; first < w.key_count; first += w.batch_size) {
        long end = first + w.batch_size < w.key_count ? first + w.batch_size : w.key_count;
        leveldb_writebatch_clear(batch);
        for (long i = first; i < end; i++) leveldb_writebatch_put(batch, workload_key(&w, i), key_bytes, workload_value(&w, i), value_bytes);
        leveldb_write(db, sync, batch, &error);
        check(error, "leveldb_write");
    }
    report(&w, "durable_ops_per_sec", w.key_count / (now_seconds() - start));
    leveldb_writebatch_destroy(batch);
    close_db(db, options, cache, filter);
    report(&w, "peak_rss_bytes", peak_rss_bytes());
    return 0;
}
