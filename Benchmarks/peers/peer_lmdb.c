// LMDB driver for perf/bench-peers.sh (see peer_common.h for the workload and output).
// Configuration, following lmdb.h: one environment per store, map size well above the data,
// MDB_NORDAHEAD (documented for random reads of a database larger than RAM-friendly readahead),
// fill with MDB_NOSYNC | MDB_NOMETASYNC and one transaction per put (a put is its own atomic,
// visible write, as in the other engines) then one mdb_env_sync at the end; durable fill with
// default flags (a commit syncs) and one transaction per batch; reads in a read-only
// transaction renewed per read (mdb_txn_reset / mdb_txn_renew), values borrowed from the map.
#include "peer_common.h"
#include <lmdb.h>

#define CHECK(call) do { int rc_ = (call); if (rc_ != 0) fail(#call, mdb_strerror(rc_)); } while (0)

static const size_t map_bytes = (size_t)8 << 30;

static void open_env(const char *path, unsigned flags, MDB_env **env, MDB_dbi *dbi) {
    make_directory(path);
    CHECK(mdb_env_create(env));
    CHECK(mdb_env_set_mapsize(*env, map_bytes));
    CHECK(mdb_env_open(*env, path, flags | MDB_NORDAHEAD, 0644));
    MDB_txn *txn;
    CHECK(mdb_txn_begin(*env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, NULL, 0, dbi));
    CHECK(mdb_txn_commit(txn));
}

int main(int argc, char **argv) {
    struct workload w;
    workload_parse(&w, argc, argv, "lmdb");
    workload_generate(&w);
    printf("# lmdb %s: map %zu GiB, MDB_NORDAHEAD; fill MDB_NOSYNC|MDB_NOMETASYNC, 1 txn per put, mdb_env_sync at end; "
           "durable: 1 txn per batch of %ld, synced commit; reads: read txn reset/renew per get\n",
           MDB_VERSION_STRING, map_bytes >> 30, w.batch_size);
    char path[4096];
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    MDB_val key, value;

    /* fill without per-op sync, then one sync */
    snprintf(path, sizeof path, "%s/fill", w.directory);
    open_env(path, MDB_NOSYNC | MDB_NOMETASYNC, &env, &dbi);
    double start = now_seconds();
    for (long i = 0; i < w.key_count; i++) {
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        key.mv_size = key_bytes; key.mv_data = (void *)workload_key(&w, i);
        value.mv_size = value_bytes; value.mv_data = (void *)workload_value(&w, i);
        CHECK(mdb_put(txn, dbi, &key, &value, 0));
        CHECK(mdb_txn_commit(txn));
    }
    CHECK(mdb_env_sync(env, 1));
    report(&w, "fill_ops_per_sec", w.key_count / (now_seconds() - start));

    /* random reads */
    CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    mdb_txn_reset(txn);
    long found = 0;
    start = now_seconds();
    for (long step = 0; step < w.reads; step++) {
        CHECK(mdb_txn_renew(txn));
        key.mv_size = key_bytes; key.mv_data = (void *)workload_read_key(&w, step);
        if (mdb_get(txn, dbi, &key, &value) == 0) found += ((const unsigned char *)value.mv_data)[0] != 256;
        mdb_txn_reset(txn);
    }
    report(&w, "read_ops_per_sec", w.reads / (now_seconds() - start));
    mdb_txn_abort(txn);
    if (found != w.reads) fail("reads", "missing keys");
    mdb_env_close(env);

    /* reopen */
    start = now_seconds();
    open_env(path, MDB_NOSYNC, &env, &dbi);
    report(&w, "reopen_seconds", now_seconds() - start);
    mdb_env_close(env);
    report(&w, "disk_bytes", (double)disk_usage(path));

    /* durable fill: batches, each commit synced */
    snprintf(path, sizeof path, "%s/durable", w.directory);
    open_env(path, 0, &env, &dbi);
    start = now_seconds();
    for (long first = 0; first < w.key_count; first += w.batch_size) {
        long end = first + w.batch_size < w.key_count ? first + w.batch_size : w.key_count;
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        for (long i = first; i < end; i++) {
            key.mv_size = key_bytes; key.mv_data = (void *)workload_key(&w, i);
            value.mv_size = value_bytes; value.mv_data = (void *)workload_value(&w, i);
            CHECK(mdb_put(txn, dbi, &key, &value, 0));
        }
        CHECK(mdb_txn_commit(txn));
    }
    report(&w, "durable_ops_per_sec", w.key_count / (now_seconds() - start));
    mdb_env_close(env);
    report(&w, "peak_rss_bytes", peak_rss_bytes());
    return 0;
}
