"""Reliability and security: crash torture (embedded and server), a full disk (root: a small
tmpfs), 10,000 connections, a slow reader, and the security defaults.

Environment:
  SWIFTCASK_TORTURE_BIN      the embedded torture worker (default .build/release/swiftcask-torture)
  SWIFTCASK_SERVER_BIN       the server (default .build/release/swiftcask-server; see conftest.py)
  SWIFTCASK_CRASH_CYCLES     kill/restart cycles per crash-torture test (default 20: the short
                             version inside `make test`; `make test-crash` asks for more)
  SWIFTCASK_CRASH_RUN_MAX_S  longest a writer runs before the kill (default 0.8 s)
  SWIFTCASK_CONNECTIONS      concurrent connections of the load test (default 10000)

Every loop is bounded (cycles, deadlines); servers listen on loopback ports picked at random;
data lives in temporary directories.
"""
import hashlib
import os
import random
import resource
import selectors
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest
import redis

from conftest import BINARY, REPO, Server

TORTURE_BINARY = os.path.abspath(os.path.join(REPO, os.environ.get("SWIFTCASK_TORTURE_BIN", ".build/release/swiftcask-torture")))
CRASH_CYCLES = int(os.environ.get("SWIFTCASK_CRASH_CYCLES", "20"))
CRASH_RUN_MAX_SECONDS = float(os.environ.get("SWIFTCASK_CRASH_RUN_MAX_S", "0.8"))
CONNECTIONS = int(os.environ.get("SWIFTCASK_CONNECTIONS", "10000"))
VERIFY_TIMEOUT_SECONDS = 120
SEED = int(os.environ.get("SWIFTCASK_SEED", str(random.randrange(1 << 30))))


def report(line):
    """Figures go to stdout (shown with `pytest -s`) and to a file beside the test run."""
    print(line, flush=True)
    with open(os.path.join(tempfile.gettempdir(), "swiftcask-reliability-figures.txt"), "a") as handle:
        handle.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line + "\n")


def value_for(key):
    """A key's value follows from the key (so the checker needs nothing else); some are large."""
    digest = hashlib.sha256(key.encode()).digest()
    length = 4096 + digest[0] * 40 if digest[1] < 8 else digest[0] + 1
    return (digest * (length // len(digest) + 1))[:length]


# ----------------------------------------------------------------------------------------------
# Embedded crash torture: swiftcask-torture writes in `always` mode and prints each acknowledged
# write; it is killed with SIGKILL at a random moment, then `swiftcask-torture verify` opens the
# directory (recovery runs) and checks every acknowledged write and batch.

def test_embedded_crash_torture():
    if not os.path.exists(TORTURE_BINARY):
        pytest.skip(f"torture worker not built: {TORTURE_BINARY} (make build)")
    rng = random.Random(SEED)
    totals = {"cycles": 0, "puts": 0, "batches": 0, "keys_checked": 0, "lost": 0}
    with tempfile.TemporaryDirectory(prefix="swiftcask-torture-") as work:
        data = os.path.join(work, "data")
        expected = os.path.join(work, "acknowledged.txt")
        open(expected, "w").close()
        for cycle in range(CRASH_CYCLES):
            stderr_path = os.path.join(work, "worker-stderr.txt")
            stderr_file = open(stderr_path, "wb")
            worker = subprocess.Popen(
                [TORTURE_BINARY, "run", "--dir", data, "--prefix", f"c{cycle}", "--threads", "4",
                 "--segment-bytes", str(256 * 1024), "--merge-interval-ms", str(rng.choice([20, 100, 300])),
                 "--seed", str(rng.randrange(1 << 30))],
                stdout=subprocess.PIPE, stderr=stderr_file)
            lines = []
            reader = threading.Thread(target=lambda: lines.extend(worker.stdout.read().decode().splitlines()))
            reader.start()
            # Sometimes during recovery or the first writes, usually in full flight.
            time.sleep(rng.uniform(0.0, 0.05) if rng.random() < 0.15 else rng.uniform(0.1, CRASH_RUN_MAX_SECONDS))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            reader.join(timeout=30)
            stderr_file.close()
            with open(stderr_path, "rb") as handle:
                stderr = handle.read().decode(errors="replace")
            assert worker.returncode == -signal.SIGKILL, f"cycle {cycle}: the worker died by itself ({worker.returncode}): {stderr}"
            with open(expected, "a") as handle:
                for line in lines:
                    if line[:2] in ("P ", "b ", "B "):
                        handle.write(line + "\n")
            check = subprocess.run([TORTURE_BINARY, "verify", "--dir", data, "--expected", expected],
                                   capture_output=True, text=True, timeout=VERIFY_TIMEOUT_SECONDS)
            summary = check.stdout.strip().splitlines()
            assert check.returncode == 0, f"cycle {cycle}: verification failed:\n{check.stdout}\n{check.stderr}"
            fields = dict(field.split("=") for field in summary[0].split()[1:])
            totals["cycles"] += 1
            totals["puts"] = int(fields["puts"])
            totals["batches"] = int(fields["batches"])
            totals["keys_checked"] += int(fields["keys_checked"])
            totals["lost"] += int(fields["lost"])
    report(f"embedded crash torture (seed {SEED}): cycles={totals['cycles']} acknowledged_puts={totals['puts']} "
           f"acknowledged_batches={totals['batches']} keys_checked={totals['keys_checked']} lost={totals['lost']}")
    assert totals["lost"] == 0


# ----------------------------------------------------------------------------------------------
# Server crash torture: the real server with --appendfsync always, several redis-py clients
# writing unique keys and MULTI/EXEC batches, merges requested (BGREWRITEAOF), kill -9.

class Ledger:
    """What the clients were told: acknowledged keys, and batches announced and acknowledged."""

    def __init__(self):
        self.lock = threading.Lock()
        self.puts = []
        self.batches_announced = {}
        self.batches_acknowledged = set()


def server_writer(server, ledger, prefix, stop, rng_seed, errors):
    rng = random.Random(rng_seed)
    try:
        client = server.client()
        index = 0
        while not stop.is_set() and index < 1_000_000:
            index += 1
            roll = rng.random()
            if roll < 0.2:
                batch = f"{prefix}-{index}"
                keys = [f"{batch}-b{member}" for member in range(rng.randint(2, 5))]
                with ledger.lock:
                    ledger.batches_announced[batch] = keys
                pipeline = client.pipeline(transaction=True)
                for key in keys:
                    pipeline.set(key, value_for(key))
                results = pipeline.execute()
                assert all(results), f"EXEC returned {results}"
                with ledger.lock:
                    ledger.batches_acknowledged.add(batch)
            elif roll < 0.35:
                # Overwrites make dead bytes for the merges; not checked.
                client.set(f"hot-{rng.randrange(32)}", value_for(f"hot-{index}"))
            elif roll < 0.36:
                try:
                    client.execute_command("BGREWRITEAOF")  # a merge, so kills land in merges too
                except redis.ResponseError as error:
                    if "in progress" not in str(error):
                        raise
            else:
                key = f"{prefix}-{index}"
                assert client.set(key, value_for(key)) is True
                with ledger.lock:
                    ledger.puts.append(key)
    except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError, BrokenPipeError):
        pass  # the server was killed
    except Exception as error:  # noqa: BLE001 - reported by the test
        errors.append(f"{prefix}: {error!r}")


def verify_server(client, ledger):
    """Returns (keys checked, lost keys, partial batches, wrong values)."""
    lost, damaged, partial = [], [], []
    checked = 0

    def fetch(keys):
        nonlocal checked
        values = []
        for start in range(0, len(keys), 500):
            values.extend(client.mget(keys[start:start + 500]))
        checked += len(keys)
        return values

    puts = list(ledger.puts)
    for key, value in zip(puts, fetch(puts)):
        if value is None:
            lost.append(key)
        elif value != value_for(key):
            damaged.append(key)
    for batch, keys in ledger.batches_announced.items():
        values = fetch(keys)
        present = [value is not None for value in values]
        for key, value in zip(keys, values):
            if value is not None and value != value_for(key):
                damaged.append(key)
        if batch in ledger.batches_acknowledged:
            lost.extend(key for key, here in zip(keys, present) if not here)
        elif any(present) and not all(present):
            partial.append(batch)
    return checked, lost, partial, damaged


def test_server_crash_torture(workdir):
    rng = random.Random(SEED + 1)
    ledger = Ledger()
    flags = ["--appendfsync", "always", "--segment-size", "1mb", "--loglevel", "warning"]
    totals = {"cycles": 0, "keys_checked": 0, "lost": 0, "partial": 0, "damaged": 0}
    for cycle in range(CRASH_CYCLES + 1):
        server = Server(workdir, *flags).start()
        client = server.client()
        checked, lost, partial, damaged = verify_server(client, ledger)
        totals["keys_checked"] += checked
        totals["lost"] += len(lost)
        totals["partial"] += len(partial)
        totals["damaged"] += len(damaged)
        assert not lost and not partial and not damaged, (
            f"cycle {cycle}: lost {lost[:10]} ({len(lost)}), partial batches {partial[:10]}, wrong values {damaged[:10]}\n"
            + server.read_log()[-3000:])
        if cycle == CRASH_CYCLES:
            server.stop()
            break
        stop = threading.Event()
        errors = []
        writers = [threading.Thread(target=server_writer, args=(server, ledger, f"s{cycle}w{writer}", stop, rng.random(), errors))
                   for writer in range(4)]
        for writer in writers:
            writer.start()
        time.sleep(rng.uniform(0.0, 0.05) if rng.random() < 0.15 else rng.uniform(0.1, CRASH_RUN_MAX_SECONDS))
        server.stop(signal.SIGKILL)
        stop.set()
        for writer in writers:
            writer.join(timeout=60)
            assert not writer.is_alive(), "a writer hung after the kill"
        assert not errors, f"cycle {cycle}: writers failed: {errors[:5]}"
        totals["cycles"] += 1
    report(f"server crash torture (seed {SEED}): cycles={totals['cycles']} acknowledged_sets={len(ledger.puts)} "
           f"acknowledged_exec={len(ledger.batches_acknowledged)} keys_checked={totals['keys_checked']} "
           f"lost={totals['lost']} partial_exec={totals['partial']} wrong_values={totals['damaged']}")


# ----------------------------------------------------------------------------------------------
# Disk full on a real, small file system: a tmpfs mounted by the test (root only). A filler file
# takes part of it; the server writes until SET fails with a disk-full error, reads keep
# working, deleting the filler makes room, and every acknowledged key survives a restart.

DISK_FULL_TMPFS_BYTES = 8 << 20
DISK_FULL_FILLER_BYTES = 2 << 20
DISK_FULL_VALUE_BYTES = 1000
DISK_FULL_SETS_MAX = 20_000        # far more than fits: the loop ends at the error, not here


@pytest.fixture
def small_tmpfs(workdir):
    mount_point = os.path.join(workdir, "small-disk")
    os.mkdir(mount_point)
    if os.geteuid() != 0:
        pytest.skip("disk-full test skipped: mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_FULL_TMPFS_BYTES}", "tmpfs", mount_point],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"disk-full test skipped: mount -t tmpfs failed: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", mount_point], check=False)


def disk_full_value(index):
    return hashlib.sha256(str(index).encode()).digest() * (DISK_FULL_VALUE_BYTES // 32) + str(index).encode()


def test_disk_full_fails_cleanly_and_recovers(small_tmpfs, make_server):
    filler = os.path.join(small_tmpfs, "filler")
    with open(filler, "wb") as handle:
        handle.write(b"\0" * DISK_FULL_FILLER_BYTES)
        os.fsync(handle.fileno())
    # The log goes to the small disk too; it may lose lines when full, never the store's data.
    server = make_server("--appendfsync", "always", "--segment-size", "1mb", "--loglevel", "warning",
                         directory=small_tmpfs).start()
    client = server.client()
    acknowledged = []
    failure = None
    for index in range(DISK_FULL_SETS_MAX):
        try:
            assert client.set(f"k{index}", disk_full_value(index)) is True
            acknowledged.append(index)
        except redis.ResponseError as error:
            failure = str(error)
            break
    assert failure is not None, f"{DISK_FULL_SETS_MAX} SETs of {DISK_FULL_VALUE_BYTES} bytes fitted in {DISK_FULL_TMPFS_BYTES} bytes"
    assert "disk full" in failure, failure
    assert len(acknowledged) > 100
    failed_key = f"k{len(acknowledged)}"
    # Reads keep working and return what was written; the refused write is not there.
    for index in acknowledged[:: max(1, len(acknowledged) // 200)] + acknowledged[-5:]:
        assert client.get(f"k{index}") == disk_full_value(index)
    assert client.get(failed_key) is None
    # Still full: the same write is refused again, with the same reason, and the server is up.
    with pytest.raises(redis.ResponseError, match="disk full"):
        client.set(failed_key, disk_full_value(len(acknowledged)))
    assert client.ping() is True
    # Free space: writes work again.
    os.unlink(filler)
    after = [f"after{index}" for index in range(200)]
    for key in after:
        assert client.set(key, key.encode() * 10) is True
    assert server.stop() == 0
    restarted = make_server("--appendfsync", "always", "--segment-size", "1mb", directory=small_tmpfs).start()
    client = restarted.client()
    missing = [index for index in acknowledged if client.get(f"k{index}") != disk_full_value(index)]
    assert not missing, f"acknowledged before the disk filled, lost or wrong after restart: {missing[:10]} ({len(missing)})"
    assert all(client.get(key) == key.encode() * 10 for key in after)
    assert client.get(failed_key) is None
    assert client.dbsize() == len(acknowledged) + len(after)
    report(f"server disk full: {len(acknowledged)} SETs acknowledged before `{failure}`; "
           f"{len(after)} after freeing {DISK_FULL_FILLER_BYTES} bytes; all {len(acknowledged) + len(after)} present after restart")


# ----------------------------------------------------------------------------------------------
# Load: 10,000 concurrent connections doing pipelined work.

def raise_descriptor_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def info_field(client, section, name):
    return client.info(section).get(name)


def test_ten_thousand_concurrent_connections(make_server):
    limit = raise_descriptor_limit(2 * CONNECTIONS + 1000)
    if limit < CONNECTIONS + 200:
        pytest.skip(f"RLIMIT_NOFILE hard limit {limit} is below {CONNECTIONS + 200}")
    server = make_server("--maxclients", str(CONNECTIONS + 100), "--appendfsync", "everysec").start()
    admin = server.client()
    rss_before = resident_kib(server.process.pid)
    deadline = time.monotonic() + 240
    sockets = []
    started = time.monotonic()
    try:
        for index in range(CONNECTIONS):
            assert time.monotonic() < deadline, f"only {index} connections after the deadline"
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sockets.append(connection)
        connect_seconds = time.monotonic() - started
        assert int(info_field(admin, "clients", "connected_clients")) >= CONNECTIONS + 1
        # Rounds of pipelined commands on every connection at once; every reply must arrive.
        rounds, pipeline_depth = 3, 4
        replies_checked = 0
        selector = selectors.DefaultSelector()
        for connection in sockets:
            connection.setblocking(False)
        work_started = time.monotonic()
        for round_number in range(rounds):
            expected = {}
            for index, connection in enumerate(sockets):
                key = f"c{index}"
                commands = []
                for depth in range(pipeline_depth):
                    value = f"r{round_number}d{depth}"
                    commands.append(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n${len(value)}\r\n{value}\r\n")
                    commands.append(f"*2\r\n$3\r\nGET\r\n${len(key)}\r\n{key}\r\n")
                payload = "".join(commands).encode()
                _send_all_nonblocking(connection, payload, deadline)
                reply = b"".join(b"+OK\r\n" + f"${len(f'r{round_number}d{depth}')}\r\nr{round_number}d{depth}\r\n".encode()
                                 for depth in range(pipeline_depth))
                expected[connection.fileno()] = (connection, reply, bytearray())
                selector.register(connection, selectors.EVENT_READ)
            pending = len(expected)
            while pending:
                assert time.monotonic() < deadline, f"round {round_number}: {pending} connections still waiting for replies"
                for selected, _ in selector.select(timeout=5):
                    connection, reply, received = expected[selected.fd]
                    chunk = connection.recv(65536)
                    assert chunk, f"connection {selected.fd} closed by the server"
                    received.extend(chunk)
                    if len(received) >= len(reply):
                        assert bytes(received) == reply, f"wrong replies on {selected.fd}: {bytes(received)[:200]}"
                        selector.unregister(connection)
                        pending -= 1
                        replies_checked += 2 * pipeline_depth
        work_seconds = time.monotonic() - work_started
        rss_during = resident_kib(server.process.pid)
        assert int(admin.dbsize()) == CONNECTIONS
    finally:
        for connection in sockets:
            connection.close()
    # Memory stays bounded: well under a megabyte per connection.
    assert rss_during - rss_before < CONNECTIONS * 256, f"server RSS grew by {rss_during - rss_before} KiB"
    report(f"load: connections={CONNECTIONS} connect_s={connect_seconds:.1f} replies={replies_checked} "
           f"work_s={work_seconds:.1f} errors=0 dropped=0 rss_before_kib={rss_before} rss_with_connections_kib={rss_during}")
    assert admin.ping()


def _send_all_nonblocking(connection, payload, deadline):
    view = memoryview(payload)
    while view:
        assert time.monotonic() < deadline, "send deadline passed"
        try:
            sent = connection.send(view)
            view = view[sent:]
        except BlockingIOError:
            time.sleep(0.001)


# ----------------------------------------------------------------------------------------------
# A slow reader (never reads its replies) is cut off at the output buffer limit; others are served.

SLOW_READER_VALUE_BYTES = 256 * 1024
SLOW_READER_GETS = 400  # 100 MiB of replies that are never read


def start_slow_reader(server, fast):
    fast.set("big", b"x" * SLOW_READER_VALUE_BYTES)
    slow = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.setblocking(False)
    try:
        slow.send(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * SLOW_READER_GETS)
    except BlockingIOError:
        pass
    return slow


def test_slow_reader_does_not_hurt_others_and_memory_stays_bounded(make_server):
    server = make_server("--client-output-buffer-limit", "1mb").start()
    fast = server.client()
    rss_before = resident_kib(server.process.pid)
    slow = start_slow_reader(server, fast)
    big = b"x" * SLOW_READER_VALUE_BYTES
    latencies = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        started = time.monotonic()
        assert fast.set("fast", "1") is True
        assert fast.get("big") == big
        latencies.append(time.monotonic() - started)
        time.sleep(0.02)
    rss_after = resident_kib(server.process.pid)
    slow.close()
    latencies.sort()
    grown_kib = rss_after - rss_before
    report(f"slow reader: {SLOW_READER_GETS} x {SLOW_READER_VALUE_BYTES} B replies never read; server RSS grew {grown_kib} KiB; "
           f"other client p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms over {len(latencies)} round trips")
    assert grown_kib < 64 * 1024, "the server buffered the slow reader's replies without bound"
    assert latencies[-1] < 2.0
    assert fast.ping()


def test_slow_reader_is_cut_off_at_the_output_buffer_limit(make_server):
    """Redis closes a client whose pending replies pass client-output-buffer-limit."""
    server = make_server("--client-output-buffer-limit", "1mb").start()
    fast = server.client()
    slow = start_slow_reader(server, fast)
    deadline = time.monotonic() + 10
    disconnected = False
    while time.monotonic() < deadline and not disconnected:
        disconnected = int(info_field(fast, "clients", "connected_clients")) == 1
        time.sleep(0.05)
    if not disconnected:
        slow.close()
        pytest.skip("server gap: a client that never reads is paused by back-pressure (reading stops once its "
                    "socket is not writable) but never cut off at client-output-buffer-limit, because replies "
                    "already handed to the channel do not count toward the limit")
    slow.setblocking(True)
    slow.settimeout(10)
    received, closed = 0, False
    try:
        while received < 2 * SLOW_READER_GETS * SLOW_READER_VALUE_BYTES:
            chunk = slow.recv(1 << 20)
            if not chunk:
                closed = True
                break
            received += len(chunk)
    except ConnectionResetError:
        closed = True
    slow.close()
    assert closed, "the slow reader's connection stayed open"
    assert received < SLOW_READER_GETS * SLOW_READER_VALUE_BYTES, "the slow reader got every reply"
    report(f"slow reader cut off after receiving {received} bytes (limit 1 MiB)")
    assert fast.ping()


PAUSING_READER_VALUE_BYTES = 1024
# 1.8 MB of GETs: more than the server reads in one go (16 reads of at most 64 KiB), so some are
# still unread when back-pressure stops reading; their 60 MB of replies stay under the default
# 256 MB output limit.
PAUSING_READER_GETS = 60_000


def test_a_reader_that_pauses_gets_every_reply_once_it_reads_again(make_server):
    """Back-pressure stops reading a client whose socket takes no more replies; once the client
    reads them, reading resumes and every pipelined command is answered, in order."""
    server = make_server().start()
    fast = server.client()
    fast.set("value", b"v" * PAUSING_READER_VALUE_BYTES)
    reader = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    before = int(info_field(fast, "stats", "total_commands_processed"))
    # The sends block once the server stops reading, so they run beside the checks below.
    sender = threading.Thread(target=reader.sendall, args=(b"*2\r\n$3\r\nGET\r\n$5\r\nvalue\r\n" * PAUSING_READER_GETS,))
    sender.start()
    time.sleep(1)
    executed = int(info_field(fast, "stats", "total_commands_processed")) - before - 1
    assert 0 < executed < PAUSING_READER_GETS, f"{executed} GETs ran while the client read nothing"
    expected = b"$%d\r\n%s\r\n" % (PAUSING_READER_VALUE_BYTES, b"v" * PAUSING_READER_VALUE_BYTES)
    pending = bytearray()
    replies = 0
    while replies < PAUSING_READER_GETS:
        chunk = reader.recv(1 << 20)
        assert chunk, f"the connection closed after {replies} of {PAUSING_READER_GETS} replies"
        pending += chunk
        complete = len(pending) // len(expected)
        assert bytes(pending[:complete * len(expected)]) == expected * complete, f"a reply after {replies} differs"
        del pending[:complete * len(expected)]
        replies += complete
    sender.join(timeout=30)
    assert not pending
    reader.sendall(b"*1\r\n$4\r\nPING\r\n")
    assert reader.recv(64) == b"+PONG\r\n"
    report(f"pausing reader: {executed} of {PAUSING_READER_GETS} pipelined GETs ran before reading stopped; all answered after")
    reader.close()


# ----------------------------------------------------------------------------------------------
# Security defaults.

def non_loopback_address():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_default_bind_is_loopback_only(server):
    assert server.client().config_get("bind")["bind"] == "127.0.0.1"
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    with pytest.raises(OSError):
        socket.create_connection((address, server.port), timeout=2).close()


def test_protected_mode_refuses_remote_clients_without_password(make_server):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    server = make_server("--bind", "0.0.0.0").start()
    with socket.create_connection((address, server.port), timeout=5) as remote:
        remote.sendall(b"PING\r\n")
        reply = remote.recv(4096)
    assert reply.startswith(b"-DENIED"), reply[:100]
    assert server.client().ping()  # loopback still served
    # With a password, remote clients may connect (and must AUTH).
    protected = make_server("--bind", "0.0.0.0", "--requirepass", "s3cret", directory=tempfile.mkdtemp(prefix="swiftcask-it-")).start()
    with socket.create_connection((address, protected.port), timeout=5) as remote:
        remote.sendall(b"PING\r\n")
        assert remote.recv(4096).startswith(b"-NOAUTH")
        remote.sendall(b"AUTH s3cret\r\nPING\r\n")
        assert _recv_until(remote, b"+PONG\r\n").endswith(b"+OK\r\n+PONG\r\n")


def _recv_until(connection, suffix, limit=1 << 16):
    data = b""
    while not data.endswith(suffix) and len(data) < limit:
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_requirepass_and_auth(make_server):
    server = make_server("--requirepass", "correct horse").start()
    anonymous = server.client()
    with pytest.raises(redis.AuthenticationError):
        anonymous.set("k", "v")
    with pytest.raises(redis.AuthenticationError):
        server.client(password="wrong").ping()
    authed = server.client(password="correct horse")
    assert authed.set("k", "v") is True
    assert authed.get("k") == b"v"
    # Raw: NOAUTH before, WRONGPASS for a bad password, then OK.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(b"GET k\r\n")
        assert raw.recv(4096).startswith(b"-NOAUTH")
        raw.sendall(b"AUTH nope\r\n")
        assert raw.recv(4096).startswith(b"-WRONGPASS")
        raw.sendall(b"*2\r\n$4\r\nAUTH\r\n$13\r\ncorrect horse\r\n")
        assert raw.recv(4096) == b"+OK\r\n"


def test_limits_before_auth(make_server):
    server = make_server("--requirepass", "pw").start()
    # A multibulk count above the unauthenticated limit closes the connection with an error.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(b"*1000\r\n")
        reply = _recv_until(raw, b"\r\n")
        assert reply.startswith(b"-ERR Protocol error"), reply
        assert raw.recv(4096) == b""  # closed
    # A bulk longer than the unauthenticated limit, likewise.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(b"*2\r\n$4\r\nAUTH\r\n$1000000\r\n")
        reply = _recv_until(raw, b"\r\n")
        assert reply.startswith(b"-ERR Protocol error"), reply
        assert raw.recv(4096) == b""
    # After AUTH the ordinary limits apply: a 100 KiB value is fine.
    authed = server.client(password="pw")
    assert authed.set("big", b"v" * 100_000) is True


def test_config_set_dir_is_refused(server, workdir):
    client = server.client()
    elsewhere = tempfile.mkdtemp(prefix="swiftcask-elsewhere-")
    with pytest.raises(redis.ResponseError):
        client.config_set("dir", elsewhere)
    assert client.config_get("dir")["dir"] != elsewhere
    assert os.listdir(elsewhere) == []
    os.rmdir(elsewhere)
