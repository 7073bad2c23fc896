"""Integration tests: the real binary against redis-cli, redis-py and redis-benchmark."""
import os
import signal
import socket
import subprocess
import time

import pytest
import redis

from conftest import BINARY, redis_cli

EXPIRY_POLLS_MAX = 100  # x 20 ms


def raw_exchange(port, payload, read_bytes=4096):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(payload)
        chunks = []
        for _ in range(100):
            chunk = connection.recv(read_bytes)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_redis_cli_round_trip(server):
    assert redis_cli(server.port, "SET", "greeting", "hello world") == "OK"
    assert redis_cli(server.port, "GET", "greeting") == "hello world"
    assert redis_cli(server.port, "INCR", "n") == "1"
    assert redis_cli(server.port, "NOSUCH") == "ERR unknown command 'NOSUCH', with args beginning with:"
    assert "redis_version:" in redis_cli(server.port, "INFO", "server")
    # redis-cli fetches COMMAND DOCS for hints; piping commands exercises its non-interactive path.
    output = redis_cli(server.port, stdin="SET a 1\nGET a\nDBSIZE\n")
    assert output.splitlines() == ["OK", "1", "3"]


def test_inline_commands_and_protocol_errors(server):
    assert raw_exchange(server.port, b"PING\r\nECHO hi\r\nQUIT\r\n") == b"+PONG\r\n$2\r\nhi\r\n+OK\r\n"
    assert raw_exchange(server.port, b"*1\r\n+PING\r\n") == b"-ERR Protocol error: expected '$', got '+'\r\n"
    assert raw_exchange(server.port, b"*1\r\n$999999999999\r\n") == b"-ERR Protocol error: invalid bulk length\r\n"
    assert raw_exchange(server.port, b'SET "unbalanced\r\n') == b"-ERR Protocol error: unbalanced quotes in request\r\n"
    # The server keeps serving other clients through all of it.
    assert server.client().ping()


def test_python_client_pipelines(server):
    client = server.client()
    pipe = client.pipeline(transaction=False)
    for index in range(1000):
        pipe.set(f"key:{index}", f"value:{index}")
    for index in range(1000):
        pipe.get(f"key:{index}")
    results = pipe.execute()
    assert results[:1000] == [True] * 1000
    assert results[1000:] == [f"value:{index}".encode() for index in range(1000)]
    assert client.dbsize() == 1000
    assert client.mget("key:1", "key:2", "missing") == [b"value:1", b"value:2", None]


def test_transactions_with_watch(server):
    client = server.client()
    other = server.client()
    client.set("balance", 100)

    with client.pipeline() as pipe:
        pipe.watch("balance")
        other.set("balance", 50)          # a concurrent change
        pipe.multi()
        pipe.decrby("balance", 10)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert client.get("balance") == b"50"

    def debit(pipe):
        current = int(pipe.get("balance"))
        pipe.multi()
        pipe.set("balance", current - 10)
    client.transaction(debit, "balance")
    assert client.get("balance") == b"40"

    with client.pipeline(transaction=True) as pipe:
        pipe.set("a", 1).incr("a").get("a")
        assert pipe.execute() == [True, 2, b"2"]


def test_scan_iter_sees_every_key(server):
    client = server.client()
    client.mset({f"user:{index}": index for index in range(500)})
    client.mset({f"other:{index}": index for index in range(50)})
    found = set(client.scan_iter(match="user:*", count=37))
    assert found == {f"user:{index}".encode() for index in range(500)}
    assert len(client.keys("other:*")) == 50


def test_expiry(server):
    client = server.client()
    client.set("short", "x", px=100)
    client.set("medium", "z", px=60_000)
    client.set("long", "y", ex=1000)
    # A loaded machine may take more than 100 ms between commands: bounds are checked on a key
    # that cannot expire during the test, expiry itself on "short".
    assert 0 < client.pttl("medium") <= 60_000
    assert 990 <= client.ttl("long") <= 1000
    assert client.ttl("missing") == -2
    for _ in range(EXPIRY_POLLS_MAX):
        if client.get("short") is None:
            break
        time.sleep(0.02)
    assert client.get("short") is None
    assert client.exists("short") == 0
    assert client.persist("long") and client.ttl("long") == -1
    assert client.expire("long", 5, gt=True) is False  # no expiry counts as infinite for GT


def test_resp3_hello(server):
    client = server.client(protocol=3)
    assert client.set("k", "v")
    assert client.get("k") == b"v"
    assert client.get("missing") is None
    assert client.config_get("databases") == {b"databases": b"16"} or client.config_get("databases") == {"databases": "16"}


def parse_benchmark_keys(client, pattern):
    return {key: client.get(key) for key in client.scan_iter(match=pattern, count=1000)}


@pytest.mark.parametrize("pipeline", ["1", "16"])
def test_redis_benchmark_replies_are_right(server, pipeline):
    requests = 20000
    result = subprocess.run(
        ["redis-benchmark", "-p", str(server.port), "-t", "set,get,incr,mset,ping", "-n", str(requests),
         "-r", "1000", "-c", "20", "-P", pipeline, "-q"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "SET" in result.stdout and "requests per second" in result.stdout
    client = server.client()
    # Every INCR landed: the counters sum to the number of INCR requests.
    counters = parse_benchmark_keys(client, "counter:*")
    assert sum(int(value) for value in counters.values()) == requests
    # SET and MSET store redis-benchmark's one 3-byte payload under key:NNNNNNNNNNNN.
    values = parse_benchmark_keys(client, "key:*")
    assert values and len(set(values.values())) == 1 and len(next(iter(values.values()))) == 3
    assert all(len(key) == len(b"key:000000000000") for key in values)


def test_thousand_concurrent_connections(server):
    connections = []
    try:
        for _ in range(1000):
            connections.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        clients = int(server.client().info("clients")["connected_clients"])
        assert clients >= 1000
        for index, connection in enumerate(connections):
            connection.sendall(f"*2\r\n$4\r\nINCR\r\n$4\r\nhits\r\n".encode())
        for connection in connections:
            reply = connection.recv(64)
            assert reply.startswith(b":")
        assert server.client().get("hits") == b"1000"
    finally:
        for connection in connections:
            connection.close()


def test_restart_keeps_data_swapdb_and_ttl(make_server):
    server = make_server().start()
    client = server.client()
    client.set("persisted", "yes")
    client.set("ttl", "v", ex=1000)
    db3 = server.client(db=3)
    db3.set("in3", "x")
    server.client().swapdb(0, 3)
    assert server.stop() == 0
    server.start()
    again = server.client()
    assert again.get("in3") == b"x"
    assert again.get("persisted") is None
    moved = server.client(db=3)
    assert moved.get("persisted") == b"yes"
    assert 900 < moved.ttl("ttl") <= 1000


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("on_loop", ["no", "yes"])
def test_appendfsync_always(make_server, threads, on_loop):
    # no (the default): the committer thread runs every group fsync and the loops wait for
    # nothing. yes: each loop runs its group's fsync itself; with two event loops, one loop's
    # round is often running when the other wants one: that loop then waits for it
    # (DurableReplyGate's fallback) instead of leading its own.
    server = make_server("--appendfsync", "always", "--fsync-on-event-loop", on_loop, "--threads", threads).start()
    assert server.client().config_get("fsync-on-event-loop") == {"fsync-on-event-loop": on_loop}
    client = server.client()
    pipe = client.pipeline(transaction=False)
    for index in range(500):
        pipe.set(f"k{index}", index)
    assert pipe.execute() == [True] * 500
    with client.pipeline(transaction=True) as tx:
        tx.incr("n").incr("n").get("n")
        assert tx.execute() == [1, 2, b"2"]
    result = subprocess.run(["redis-benchmark", "-p", str(server.port), "-t", "set,incr", "-n", "4800",
                             "-r", "100", "-c", "20", "-P", "16", "-q"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    counters = parse_benchmark_keys(client, "counter:*")
    assert sum(int(value) for value in counters.values()) == 4800  # a multiple of -P: exact
    persistence = server.client().info("persistence")
    assert persistence["appendfsync"] == "always"
    # Rounds run on an event loop (or any caller's thread) instead of the committer's.
    if on_loop == "no":
        assert persistence["swiftcask_rounds_led_by_callers"] == 0
    else:
        assert persistence["swiftcask_rounds_led_by_callers"] > 0
    assert server.stop() == 0
    server.start()
    assert server.client().get("k499") == b"499"


def test_requirepass(make_server):
    server = make_server("--requirepass", "s3cret").start()
    with pytest.raises(redis.AuthenticationError):
        server.client().get("k")
    assert server.client(password="s3cret").set("k", "v")
    assert redis_cli(server.port, "-a", "s3cret", "--no-auth-warning", "GET", "k") == "v"


def test_maxclients(make_server):
    server = make_server("--maxclients", "2").start()
    first, second = server.client(), server.client()
    assert first.ping() and second.ping()
    # The refusal is written at accept; sending nothing avoids a reset racing the reply.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as third:
        assert third.recv(4096) == b"-ERR max number of clients reached\r\n"
        assert third.recv(4096) == b""


def test_shutdown_command_exits_cleanly(server):
    client = server.client()
    client.set("k", "v")
    try:
        client.shutdown(nosave=False)
    except redis.ConnectionError:
        pass
    assert server.process.wait(timeout=20) == 0


def test_bad_flags_and_locked_directory_exit_nonzero(server, workdir):
    bad = subprocess.run([BINARY, "--appendfsync", "sometimes", "--dir", os.path.join(workdir, "x")],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "appendfsync" in bad.stderr
    locked = subprocess.run([BINARY, "--port", "0", "--dir", os.path.join(workdir, "data")],
                            capture_output=True, text=True, timeout=30)
    assert locked.returncode != 0 and "cannot open data directory" in locked.stderr


def test_help_lists_every_flag_with_defaults():
    if not os.path.exists(BINARY):
        pytest.skip("server binary not built")
    output = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=30).stdout
    for flag in ["--bind", "--port", "--dir", "--appendfsync", "--threads", "--maxclients", "--requirepass",
                 "--databases", "--proto-max-bulk-len", "--client-query-buffer-limit",
                 "--client-output-buffer-limit", "--io-backend", "--segment-size", "--loglevel",
                 "--fsync-on-event-loop", "--protected-mode", "--slowlog-log-slower-than", "--slowlog-max-len",
                 "--auto-aof-rewrite-percentage", "--auto-aof-rewrite-min-size"]:
        assert flag in output
    assert "default: 6379" in output


def anonymous_resident_bytes(pid):
    """Resident anonymous memory, where buffered replies live. Not VmRSS: it also counts the
    page cache of mapped data files, and the server maps the next 64 MiB segment's pages in at
    a moment of its choosing (seen as a +64 MiB RssFile step in one run of six under load)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"/proc/{pid}/status has no RssAnon line")


def test_slow_reader_is_closed_at_the_output_limit_and_memory_stays_bounded(make_server):
    server = make_server("--client-output-buffer-limit", "8mb").start()
    client = server.client()
    client.set("big", b"x" * (1024 * 1024))
    baseline = anonymous_resident_bytes(server.process.pid)
    reader = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        # 500 MiB of replies requested and not read: Redis closes such a client at its limit.
        reader.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * 500)
        for _ in range(10):
            assert client.ping()
            assert anonymous_resident_bytes(server.process.pid) - baseline < 64 * 1024 * 1024
            time.sleep(0.02)
        received = 0
        for _ in range(10_000):
            try:
                chunk = reader.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += len(chunk)
        assert received < 500 * 1024 * 1024, "the slow reader got every reply"
        for _ in range(500):  # bounded: up to 10 s on a loaded machine
            if int(client.info("clients")["connected_clients"]) == 1:
                break
            time.sleep(0.02)
        assert int(client.info("clients")["connected_clients"]) == 1
    finally:
        reader.close()
    assert client.get("big") == b"x" * (1024 * 1024)


def test_oversized_bulk_is_refused_before_its_bytes(make_server):
    server = make_server("--proto-max-bulk-len", "1mb").start()
    reply = raw_exchange(server.port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
    assert reply == b"-ERR Protocol error: invalid bulk length\r\n"
    assert server.client().set("k", b"y" * (1024 * 1024))


MERGE_POLLS_MAX = 600  # x 50 ms = 30 s for a background merge of a few MiB


def persistence_fields(client):
    return client.info("persistence")


def fields_after_a_merge(client):
    """INFO persistence once a merge has completed and none runs (or after MERGE_POLLS_MAX polls)."""
    fields = persistence_fields(client)
    for _ in range(MERGE_POLLS_MAX):
        if fields["aof_rewrites"] >= 1 and fields["aof_rewrite_in_progress"] == 0:
            break
        time.sleep(0.05)
        fields = persistence_fields(client)
    return fields


def test_auto_aof_rewrite_settings_start_merges_and_change_at_runtime(make_server):
    # Automatic merges off by flag: garbage piles up and no merge runs; CONFIG SET turns them
    # on with a threshold the garbage already passes, and a merge follows without BGREWRITEAOF.
    server = make_server("--segment-size", "1mb", "--auto-aof-rewrite-percentage", "0").start()
    client = server.client()
    assert client.config_get("auto-aof-rewrite-*") == {
        "auto-aof-rewrite-percentage": "0", "auto-aof-rewrite-min-size": str(64 * 1024 * 1024)}
    value = "v" * 200
    for round_number in range(3):
        pipe = client.pipeline(transaction=False)
        for index in range(10000):
            pipe.set(f"key:{index}", f"{round_number}:{value}")
        assert all(pipe.execute())
    before = persistence_fields(client)
    assert before["aof_rewrites"] == 0 and before["swiftcask_space_amplification"] > 2
    assert before["aof_rewrite_scheduled"] == 0  # triggers off: garbage alone schedules nothing
    with pytest.raises(redis.ResponseError, match="auto-aof-rewrite-percentage must not be negative"):
        client.config_set("auto-aof-rewrite-percentage", "-1")
    assert client.config_set("auto-aof-rewrite-min-size", "1mb") is True
    assert client.config_set("auto-aof-rewrite-percentage", "100") is True
    assert client.config_get("auto-aof-rewrite-min-size") == {"auto-aof-rewrite-min-size": str(1 << 20)}
    after = fields_after_a_merge(client)
    assert after["aof_rewrites"] >= 1
    assert after["swiftcask_space_amplification"] < before["swiftcask_space_amplification"]
    assert client.get("key:9999") == f"2:{value}".encode()


def test_bgrewriteaof_merges_garbage_and_moves_the_persistence_fields(make_server):
    # 3 rounds over 20,000 keys of 200 bytes: about 13 one-MiB segments, two thirds garbage
    # (under the automatic merge's 64 MiB trigger, so only BGREWRITEAOF merges).
    server = make_server("--segment-size", "1mb").start()
    client = server.client()
    value = "v" * 200
    for round_number in range(3):
        for chunk in range(0, 20000, 2000):
            pipe = client.pipeline(transaction=False)
            for index in range(chunk, chunk + 2000):
                pipe.set(f"key:{index}", f"{round_number}:{value}")
            assert all(pipe.execute())
    before = persistence_fields(client)
    assert before["aof_rewrites"] == 0 and before["aof_rewrite_in_progress"] == 0
    assert before["swiftcask_dead_bytes"] > 0 and before["swiftcask_space_amplification"] > 2
    assert client.bgrewriteaof() is True  # redis-py's reading of "Background append only file rewriting started"
    after = fields_after_a_merge(client)
    assert after["aof_rewrites"] == 1 and after["swiftcask_merges_completed"] == 1
    assert after["aof_last_bgrewrite_status"] == "ok"
    assert after["swiftcask_merge_reclaimed_bytes"] > 0
    assert after["swiftcask_dead_bytes"] < before["swiftcask_dead_bytes"]
    assert after["swiftcask_disk_bytes"] < before["swiftcask_disk_bytes"]
    assert after["swiftcask_space_amplification"] < before["swiftcask_space_amplification"]
    assert client.mget([f"key:{index}" for index in range(0, 20000, 997)]) == [f"2:{value}".encode()] * 21
    # CONFIG RESETSTAT restarts Redis's counter; our own total stays.
    client.config_resetstat()
    assert persistence_fields(client)["aof_rewrites"] == 0
    assert persistence_fields(client)["swiftcask_merges_completed"] == 1


def test_info_keyspace_stats_and_errorstats_through_redis_py(server):
    client = server.client()
    client.set("plain", "v")
    client.set("expiring", "v", ex=500)
    client.set("short", "v", px=1)
    for _ in range(EXPIRY_POLLS_MAX):
        if client.get("short") is None:
            break
        time.sleep(0.02)
    db0 = client.info("keyspace")["db0"]
    assert db0["keys"] == 2 and db0["expires"] == 1 and 490_000 < db0["avg_ttl"] <= 500_000
    assert client.info("stats")["expired_keys"] == 1
    # redis-py's connect handshake may already have drawn an error (CLIENT MAINT_NOTIFICATIONS,
    # unknown to Redis 7 too): count from here.
    errors_before = client.info("errorstats").get("errorstat_ERR", {"count": 0})["count"]
    total_before = client.info("stats")["total_error_replies"]
    with pytest.raises(redis.ResponseError):
        client.incr("plain")
    assert client.info("errorstats")["errorstat_ERR"] == {"count": errors_before + 1}
    assert client.info("stats")["total_error_replies"] == total_before + 1


def test_flushes_with_appendfsync_always_are_durable_once_acknowledged(make_server):
    server = make_server("--appendfsync", "always").start()
    client = server.client()
    other_db = server.client(db=1)
    for index in range(100):
        client.set(f"a{index}", index)
        other_db.set(f"b{index}", index)
    assert client.flushdb() is True
    assert client.dbsize() == 0 and other_db.dbsize() == 100
    client.set("survivor", "1")
    pipe = client.pipeline(transaction=False)
    pipe.flushall().set("after", "2").get("after")
    assert pipe.execute() == [True, True, b"2"]
    # Every reply above left after its fsync: a crash now loses none of it.
    server.stop(signal.SIGKILL)
    server.start()
    client = server.client()
    assert client.keys("*") == [b"after"] and server.client(db=1).dbsize() == 0


def test_save_replies_after_the_fsync_and_bgsave_runs_in_the_background(make_server):
    server = make_server().start()
    client = server.client()
    before = client.lastsave()
    pipe = client.pipeline(transaction=False)
    for index in range(500):
        pipe.set(f"k{index}", index)
    pipe.execute()
    assert client.save() is True
    assert client.lastsave() >= before
    assert client.bgsave() is True
    for _ in range(MERGE_POLLS_MAX):
        if client.info("persistence")["rdb_bgsave_in_progress"] == 0:
            break
        time.sleep(0.05)
    assert client.info("persistence")["rdb_bgsave_in_progress"] == 0
    server.stop(signal.SIGKILL)
    server.start()
    assert server.client().get("k499") == b"499"


def test_transactions_read_their_own_staged_writes(server):
    client = server.client()
    client.set("existing", "1")
    with client.pipeline(transaction=True) as tx:
        tx.set("n", 5).incr("n").exists("n", "existing").delete("existing").keys("*").dbsize()
        tx.set("t", "v", ex=100).ttl("t").type("n").randomkey().scan(0, count=100)
        replies = tx.execute()
    assert replies[:6] == [True, 6, 2, 1, [b"n"], 1]
    assert replies[6:10] == [True, 100, b"string", replies[9]] and replies[9] in (b"n", b"t")
    assert replies[10][0] == 0 and sorted(replies[10][1]) == [b"n", b"t"]


CONCURRENT_CLIENTS = 8
PIPELINE_ROUNDS = 20
PIPELINE_COMMANDS = 50
WATCHED_INCREMENTS = 25


def test_two_event_loop_threads_serve_concurrent_clients_correctly(make_server):
    import threading
    server = make_server("--threads", "2").start()
    assert server.client().info("server")["event_loop_threads"] == 2
    failures = []

    def work(worker):
        try:
            client = server.client()
            for round_number in range(PIPELINE_ROUNDS):
                pipe = client.pipeline(transaction=False)
                for index in range(PIPELINE_COMMANDS):
                    pipe.incr("shared")
                    pipe.set(f"w{worker}:{index}", f"{round_number}:{index}")
                    pipe.get(f"w{worker}:{index}")
                replies = pipe.execute()
                for index in range(PIPELINE_COMMANDS):
                    assert isinstance(replies[3 * index], int)
                    assert replies[3 * index + 1] is True
                    assert replies[3 * index + 2] == f"{round_number}:{index}".encode()
            for _ in range(WATCHED_INCREMENTS):
                def add_one(tx):
                    current = int(tx.get("watched") or 0)
                    tx.multi()
                    tx.set("watched", current + 1)
                    tx.get("watched")
                replies = client.transaction(add_one, "watched")
                assert replies[0] is True and int(replies[1]) >= 1
        except Exception as error:  # reported to the main thread
            failures.append(f"worker {worker}: {error!r}")

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(CONCURRENT_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    client = server.client()
    assert int(client.get("shared")) == CONCURRENT_CLIENTS * PIPELINE_ROUNDS * PIPELINE_COMMANDS
    assert int(client.get("watched")) == CONCURRENT_CLIENTS * WATCHED_INCREMENTS
    assert client.dbsize() == CONCURRENT_CLIENTS * PIPELINE_COMMANDS + 2
