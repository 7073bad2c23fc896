// RocksDB driver for perf/bench-peers.sh (see peer_common.h for the workload and output).
// Configuration, following the wiki's "Setup Options and Basic Tuning": IncreaseParallelism
// (2 background threads: the machine's cores), OptimizeLevelStyleCompaction with a 64 MiB
// memtable budget, block-based table with a 10-bit Bloom filter, 32 MiB block cache, default
// compression. Fill: WAL on, sync=false, the last put with sync=true; durable fill: WriteBatch
// of 100 with sync=true; reads: rocksdb_get_pinned (no copy into a malloc'd buffer).
#include "peer_common.h"
#include <rocksdb/c.h>

static void check(char *error, const char *what) {
    if (error) fail(what, error);
}

struct handle {
    rocksdb_t *db;
    rocksdb_options_t *options;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
};

static struct handle open_db(const char *path) {
    struct handle h;
    h.options = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(h.options, 1);
    rocksdb_options_increase_parallelism(h.options, 2);
    rocksdb_options_optimize_level_style_compaction(h.options, 64 << 20);
    h.table = rocksdb_block_based_options_create();
    h.cache = rocksdb_cache_create_lru(32 << 20);
    rocksdb_block_based_options_set_block_cache(h.table, h.cache);
    rocksdb_block_based_options_set_filter_policy(h.table, rocksdb_filterpolicy_create_bloom(10));
    rocksdb_options_set_block_based_table_factory(h.options, h.table);
    char *error = NULL;
    h.db = rocksdb_open(h.options, path, &error);
    check(error, "rocksdb_open");
    return h;
}

static void close_db(struct handle h) {
    rocksdb_close(h.db);
    rocksdb_options_destroy(h.options);
    rocksdb_block_based_options_destroy(h.table);
    rocksdb_cache_destroy(h.cache);
}

int main(int argc, char **argv) {
    struct workload w;
    workload_parse(&w, argc, argv, "rocksdb");
    workload_generate(&w);
    printf("# rocksdb: IncreaseParallelism(2), OptimizeLevelStyleCompaction(64 MiB), bloom 10 bits/key, 32 MiB block cache; "
           "fill WAL sync=false (last put sync=true); durable: WriteBatch of %ld with sync=true; reads: rocksdb_get_pinned\n", w.batch_size);
    char path[4096];
    char *error = NULL;
    rocksdb_writeoptions_t *nosync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_t *sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(sync, 1);
    rocksdb_readoptions_t *read_options = rocksdb_readoptions_create();

    snprintf(path, sizeof path, "%s/fill", w.directory);
    struct handle h = open_db(path);
    double start = now_seconds();
    for (long i = 0; i < w.key_count; i++) {
        rocksdb_put(h.db, i + 1 == w.key_count ? sync : nosync, workload_key(&w, i), key_bytes, workload_value(&w, i), value_bytes, &error);
        check(error, "rocksdb_put");
    }
    report(&w, "fill_ops_per_sec", w.key_count / (now_seconds() - start));

    long found = 0;
    start = now_seconds();
    for (long step = 0; step < w.reads; step++) {
        rocksdb_pinnableslice_t *slice = rocksdb_get_pinned(h.db, read_options, workload_read_key(&w, step), key_bytes, &error);
        check(error, "rocksdb_get_pinned");
        if (slice) {
            size_t length = 0;
            rocksdb_pinnableslice_value(slice, &length);
            found += length == value_bytes;
            rocksdb_pinnableslice_destroy(slice);
        }
    }
    report(&w, "read_ops_per_sec", w.reads / (now_seconds() - start));
    if (found != w.reads) fail("reads", "missing keys");
    close_db(h);

    start = now_seconds();
    h = open_db(path);
    report(&w, "reopen_seconds", now_seconds() - start);
    close_db(h);
    report(&w, "disk_bytes", (double)disk_usage(path));

    snprintf(path, sizeof path, "%s/durable", w.directory);
    h = open_db(path);
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create();
    start = now_seconds();
    for (long first = 0; first < w.key_count; first += w.batch_size) {
        long end = first + w.batch_size < w.key_count ? first + w.batch_size : w.key_count;
        rocksdb_writebatch_clear(batch);
        for (long i = first; i < end; i++) rocksdb_writebatch_put(batch, workload_key(&w, i), key_bytes, workload_value(&w, i), value_bytes);
        rocksdb_write(h.db, sync, batch, &error);
        check(error, "rocksdb_write");
    }
    report(&w, "durable_ops_per_sec", w.key_count / (now_seconds() - start));
    rocksdb_writebatch_destroy(batch);
    close_db(h);
    report(&w, "peak_rss_bytes", peak_rss_bytes());
    return 0;
}
