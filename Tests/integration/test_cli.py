"""The `swiftcask` CLI and the README's embedded example, run as real release binaries against
real temporary data directories."""
import fcntl
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.abspath(os.path.join(REPO, os.environ.get("SWIFTCASK_CLI_BIN", ".build/release/swiftcask")))
EXAMPLE = os.path.abspath(os.path.join(REPO, os.environ.get(
    "SWIFTCASK_EXAMPLE_BIN", os.path.join(os.path.dirname(CLI), "swiftcask-example"))))
SERVER = os.path.abspath(os.path.join(REPO, os.environ.get("SWIFTCASK_SERVER_BIN", ".build/release/swiftcask-server")))
COMMAND_TIMEOUT_SECONDS = 120
READY_POLLS_MAX = 200          # x 50 ms = 10 s for a server to answer PING
SUBCOMMANDS = ["get", "set", "del", "scan", "stats", "verify", "compact", "dump", "load", "backup", "bench"]
SEGMENT_HEADER_BYTES = 32      # docs/FORMAT.md
RECORD_HEADER_BYTES = 20


def run(*arguments, directory=None, stdin=None, check=True):
    """Runs the CLI; returns the CompletedProcess (bytes). `check` asserts exit status 0."""
    if not os.path.exists(CLI):
        pytest.skip(f"CLI not built: {CLI} (make build, or set SWIFTCASK_CLI_BIN)")
    command = [CLI, *arguments] + (["--dir", directory] if directory else [])
    result = subprocess.run(command, input=stdin, capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS)
    if check:
        assert result.returncode == 0, f"{arguments} exited {result.returncode}: {result.stderr.decode(errors='replace')}"
    return result


def resp(*arguments):
    """One command as a RESP array of bulk strings."""
    encoded = [a if isinstance(a, bytes) else str(a).encode() for a in arguments]
    return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in encoded)


def load(directory, stream):
    return run("load", directory=directory, stdin=stream)


def parse_commands(stream):
    """A RESP stream as a list of commands (lists of bytes)."""
    commands, position = [], 0
    while position < len(stream):
        end = stream.index(b"\r\n", position)
        assert stream[position:position + 1] == b"*"
        count, position = int(stream[position + 1:end]), end + 2
        command = []
        for _ in range(count):
            end = stream.index(b"\r\n", position)
            length, position = int(stream[position + 1:end]), end + 2
            command.append(stream[position:position + length])
            assert stream[position + length:position + length + 2] == b"\r\n"
            position += length + 2
        commands.append(command)
    return commands


def by_database(stream):
    """{database: sorted SET commands} from a dump."""
    databases, current = {}, 0
    for command in parse_commands(stream):
        if command[0] == b"SELECT":
            current = int(command[1])
        else:
            databases.setdefault(current, []).append(command)
    return {database: sorted(commands) for database, commands in databases.items()}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_ping(process, port):
    for _ in range(READY_POLLS_MAX):
        assert process.poll() is None, f"server exited with {process.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"server on port {port} did not answer PING")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def data_dir():
    with tempfile.TemporaryDirectory(prefix="swiftcask-cli-") as directory:
        yield os.path.join(directory, "data")


def test_help_on_every_subcommand():
    top = run("--help").stdout.decode()
    for name in SUBCOMMANDS:
        assert name in top
        result = run(name, "--help")
        assert b"--dir" in result.stdout, name


def test_set_get_del(data_dir):
    assert run("set", "greeting", "hello", directory=data_dir).stdout == b"OK\n"
    assert run("get", "greeting", directory=data_dir).stdout == b"hello\n"
    run("set", "greeting", "hello again", directory=data_dir)
    assert run("get", "greeting", directory=data_dir).stdout == b"hello again\n"
    assert run("del", "greeting", "never-set", directory=data_dir).stdout == b"1\n"
    missing = run("get", "greeting", directory=data_dir, check=False)
    assert missing.returncode == 1 and missing.stdout == b""


def test_databases_are_separate(data_dir):
    run("set", "k", "in-db-0", directory=data_dir)
    run("set", "--db", "5", "k", "in-db-5", directory=data_dir)
    assert run("get", "k", directory=data_dir).stdout == b"in-db-0\n"
    assert run("get", "--db", "5", "k", directory=data_dir).stdout == b"in-db-5\n"
    out_of_range = run("get", "--db", "255", "k", directory=data_dir, check=False)
    assert out_of_range.returncode != 0 and b"0...254" in out_of_range.stderr


def test_set_with_time_to_live(data_dir):
    run("set", "--px", "1", "short", "lived", directory=data_dir)
    run("set", "--ex", "3600", "long", "lived", directory=data_dir)
    assert run("get", "long", directory=data_dir).stdout == b"lived\n"
    # Each run is a new process: a millisecond has long passed, so the key reads as absent.
    assert run("get", "short", directory=data_dir, check=False).returncode == 1
    both = run("set", "--ex", "1", "--px", "1", "k", "v", directory=data_dir, check=False)
    assert both.returncode != 0 and b"not both" in both.stderr


def test_scan_prefix_limit_and_db(data_dir):
    load(data_dir, b"".join(resp("SET", f"user:{i}", i) for i in range(50))
         + b"".join(resp("SET", f"order:{i}", i) for i in range(30))
         + resp("SELECT", 2) + resp("SET", "user:x", "other db"))
    everything = run("scan", directory=data_dir).stdout.decode().split("\n")[:-1]
    assert len(everything) == 80 and len(set(everything)) == 80
    users = run("scan", "--prefix", "user:", directory=data_dir).stdout.decode().split()
    assert sorted(users) == sorted(f"user:{i}" for i in range(50))
    assert len(run("scan", "--prefix", "order:", "--limit", "7", directory=data_dir).stdout.split()) == 7
    assert run("scan", "--db", "2", directory=data_dir).stdout == b"user:x\n"


def test_scan_quotes_binary_keys(data_dir):
    load(data_dir, resp("SET", b"line\nbreak\x00", "v"))
    assert run("scan", directory=data_dir).stdout == b'"line\\nbreak\\x00"\n'


def test_stats(data_dir):
    load(data_dir, b"".join(resp("SET", f"k{i}", "x" * 100) for i in range(1000)))
    load(data_dir, b"".join(resp("SET", f"k{i}", "y" * 100) for i in range(500)))
    output = run("stats", directory=data_dir).stdout.decode()
    fields = dict(re.findall(r"^(\S[^\n]*?)\s{2,}(\S.*)$", output, re.M))
    assert fields["keys"] == "1,000"
    assert int(fields["segments"]) == 2
    for name in ["disk bytes", "live bytes", "dead bytes", "index memory", "space amplification"]:
        assert name in fields, output
    assert fields["dead bytes"] != "0 bytes"
    assert float(fields["space amplification"]) > 1.0


def test_dump_load_round_trip(data_dir, tmp_path):
    stream = (b"".join(resp("SET", f"key:{i}", f"value {i}") for i in range(300))
              + resp("SET", b"bin\x00\r\nkey", bytes(range(256)))
              + resp("SET", "ttl", "v", "EX", 3600)
              + resp("SELECT", 3) + resp("SET", "in-db-3", "three")
              + resp("DEL", "in-db-3-never-set"))
    load(data_dir, stream)
    dump_file = tmp_path / "dump.resp"
    run("dump", "--out", str(dump_file), directory=data_dir)
    to_stdout = run("dump", directory=data_dir).stdout
    # The index's hash is seeded per process, so key order differs between dumps.
    assert by_database(to_stdout) == by_database(dump_file.read_bytes())
    assert b"PXAT" in to_stdout and resp("SELECT", 3) in to_stdout

    original = by_database(to_stdout)
    assert sorted(original) == [0, 3] and len(original[0]) == 302
    assert [b"SET", b"bin\x00\r\nkey", bytes(range(256))] in original[0]
    assert [b"SET", b"in-db-3", b"three"] in original[3]

    copy = str(tmp_path / "copy")
    run("load", "--in", str(dump_file), directory=copy)
    assert by_database(run("dump", directory=copy).stdout) == original
    assert run("get", "key:7", directory=copy).stdout == b"value 7\n"
    assert run("get", "--db", "3", "in-db-3", directory=copy).stdout == b"three\n"


def test_dump_single_database(data_dir):
    load(data_dir, resp("SET", "a", "0") + resp("SELECT", 4) + resp("SET", "b", "4"))
    assert run("dump", "--db", "4", directory=data_dir).stdout == resp("SELECT", 4) + resp("SET", "b", "4")


def test_load_applies_write_commands(data_dir):
    load(data_dir, resp("SET", "a", "1") + resp("SET", "a", "2", "NX") + resp("SET", "b", "1", "XX")
         + resp("MSET", "c", "3", "d", "4") + resp("DEL", "d") + resp("SET", "e", "5", "PX", 100000)
         + resp("PERSIST", "e") + resp("PING") + resp("SELECT", 1) + resp("SET", "f", "6") + resp("FLUSHDB"))
    assert by_database(run("dump", directory=data_dir).stdout) == {
        0: [[b"SET", b"a", b"1"], [b"SET", b"c", b"3"], [b"SET", b"e", b"5"]]}
    assert run("get", "--db", "1", "f", directory=data_dir, check=False).returncode == 1


def test_load_rejects_bad_input_with_offset(data_dir):
    good = resp("SET", "a", "1")
    result = run("load", directory=data_dir, stdin=good + b"HELLO\r\n", check=False)
    assert result.returncode == 2 and f"offset {len(good)}".encode() in result.stderr
    result = run("load", directory=data_dir, stdin=good + resp("LPUSH", "l", "x"), check=False)
    assert result.returncode == 2 and b"unsupported command 'LPUSH'" in result.stderr
    result = run("load", directory=data_dir, stdin=good + b"*3\r\n$3\r\nSET\r\n$1\r\nb", check=False)
    assert result.returncode == 2 and b"ends" in result.stderr


@pytest.mark.skipif(shutil.which("redis-server") is None or shutil.which("redis-cli") is None,
                    reason="redis-server and redis-cli are not installed")
def test_dump_is_accepted_by_redis_cli_pipe(data_dir, tmp_path):
    load(data_dir, b"".join(resp("SET", f"k{i}", f"v{i}") for i in range(200))
         + resp("SET", "ttl", "v", "EX", 3600) + resp("SELECT", 2) + resp("SET", "two", "2"))
    dump = run("dump", directory=data_dir).stdout
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(tmp_path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_ping(redis, port)
        piped = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=dump, capture_output=True,
                               timeout=COMMAND_TIMEOUT_SECONDS)
        assert piped.returncode == 0 and b"errors: 0" in piped.stdout, piped.stdout

        def cli(*arguments):
            return subprocess.run(["redis-cli", "-p", str(port), *arguments], capture_output=True, text=True,
                                  timeout=COMMAND_TIMEOUT_SECONDS).stdout.strip()

        assert cli("DBSIZE") == "201"
        assert cli("GET", "k17") == "v17"
        assert 3500 < int(cli("TTL", "ttl")) <= 3600
        assert cli("-n", "2", "GET", "two") == "2"
    finally:
        stop(redis)


def test_backup_then_open_the_copy(data_dir, tmp_path):
    load(data_dir, b"".join(resp("SET", f"k{i}", f"v{i}") for i in range(100)))
    backup = str(tmp_path / "backup")
    assert b"100 keys" in run("backup", "--to", backup, directory=data_dir).stdout
    run("set", "k0", "changed after the backup", directory=data_dir)
    assert run("get", "k0", directory=backup).stdout == b"v0\n"
    assert run("verify", directory=backup).returncode == 0
    again = run("backup", "--to", backup, directory=data_dir, check=False)
    assert again.returncode == 2 and b"not empty" in again.stderr


def test_compact_reclaims_overwritten_records(data_dir):
    for round_ in range(3):
        load(data_dir, b"".join(resp("SET", f"k{i}", f"{round_}" * 100) for i in range(500)))
    output = run("compact", directory=data_dir).stdout.decode()
    assert "merged 3 segments" in output and "records copied     500" in output, output
    # Each load ended with a close, which wrote the hint of the segment it sealed.
    assert "listed by hints    3 of 3 segments" in output, output
    stats = run("stats", directory=data_dir).stdout.decode()
    assert re.search(r"^dead bytes\s+0 bytes$", stats, re.M), stats
    assert run("get", "k42", directory=data_dir).stdout == b"2" * 100 + b"\n"


def test_verify_finds_damage_and_repair_cuts_it(data_dir):
    key_bytes, value_bytes = 6, 50
    record_bytes = RECORD_HEADER_BYTES + key_bytes + value_bytes
    load(data_dir, b"".join(resp("SET", f"a{i:05d}", "a" * value_bytes) for i in range(100)))
    load(data_dir, b"".join(resp("SET", f"b{i:05d}", "b" * value_bytes) for i in range(100)))
    assert run("verify", directory=data_dir).returncode == 0
    segments = sorted(name for name in os.listdir(data_dir) if name.endswith(".seg"))
    assert len(segments) == 2
    for name in os.listdir(data_dir):
        if name.endswith(".hint"):
            os.remove(os.path.join(data_dir, name))
    damaged_record = 50
    record_offset = SEGMENT_HEADER_BYTES + damaged_record * record_bytes
    with open(os.path.join(data_dir, segments[0]), "r+b") as segment:
        segment.seek(record_offset + RECORD_HEADER_BYTES + key_bytes + value_bytes // 2)
        byte = segment.read(1)
        segment.seek(-1, os.SEEK_CUR)
        segment.write(bytes([byte[0] ^ 0xFF]))

    result = run("verify", directory=data_dir, check=False)
    output = result.stdout.decode()
    assert result.returncode == 1, output
    damage_line = next(line for line in output.splitlines() if "DAMAGED at offset" in line)
    assert segments[0] in damage_line
    offset = int(re.search(r"DAMAGED at offset (\d+)", damage_line).group(1))
    # The bad record itself, or the start of the atomic batch it belongs to.
    assert SEGMENT_HEADER_BYTES <= offset <= record_offset and (offset - SEGMENT_HEADER_BYTES) % record_bytes == 0
    refused = run("get", "b00001", directory=data_dir, check=False)
    assert refused.returncode == 2 and segments[0].encode() in refused.stderr

    repaired = run("verify", "--repair", directory=data_dir, check=False)
    assert repaired.returncode == 0, repaired.stdout.decode() + repaired.stderr.decode()
    assert f"repair: truncating {os.path.join(data_dir, segments[0])} at offset".encode() in repaired.stdout
    assert run("verify", directory=data_dir).returncode == 0
    assert run("get", "b00001", directory=data_dir).stdout == b"b" * value_bytes + b"\n"
    # Records from the cut onwards are gone; the newer segment is whole.
    assert len(run("scan", "--prefix", "a", directory=data_dir).stdout.split()) <= damaged_record
    assert len(run("scan", "--prefix", "b", directory=data_dir).stdout.split()) == 100


def test_refuses_a_locked_directory(data_dir):
    run("set", "k", "v", directory=data_dir)
    with open(os.path.join(data_dir, "LOCK"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for arguments in (["get", "k"], ["set", "k", "w"], ["verify"], ["dump"], ["compact"]):
            result = run(*arguments, directory=data_dir, check=False)
            assert result.returncode == 2, arguments
            assert b"swiftcask: " in result.stderr and b"LOCK" in result.stderr, result.stderr
    assert run("get", "k", directory=data_dir).stdout == b"v\n"


def test_refuses_a_directory_a_running_server_holds(data_dir):
    if not os.path.exists(SERVER):
        pytest.skip(f"server not built: {SERVER}")
    port = free_port()
    os.makedirs(data_dir)
    server = subprocess.Popen([SERVER, "--port", str(port), "--dir", data_dir],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_ping(server, port)
        result = run("stats", directory=data_dir, check=False)
        assert result.returncode == 2 and b"redis-cli" in result.stderr
    finally:
        stop(server)


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_database_numbers_follow_the_servers_swapdb(data_dir):
    if not os.path.exists(SERVER):
        pytest.skip(f"server not built: {SERVER}")
    port = free_port()
    os.makedirs(data_dir)
    server = subprocess.Popen([SERVER, "--port", str(port), "--dir", data_dir],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_ping(server, port)
        for arguments in (["SET", "k", "first"], ["-n", "1", "SET", "k", "second"], ["SWAPDB", "0", "1"]):
            subprocess.run(["redis-cli", "-p", str(port), *arguments], check=True, capture_output=True,
                           timeout=COMMAND_TIMEOUT_SECONDS)
    finally:
        stop(server)
    assert run("get", "k", directory=data_dir).stdout == b"second\n"
    assert run("get", "--db", "1", "k", directory=data_dir).stdout == b"first\n"
    assert by_database(run("dump", directory=data_dir).stdout) == {
        0: [[b"SET", b"k", b"second"]], 1: [[b"SET", b"k", b"first"]]}


def test_missing_directory_is_an_error_not_a_new_store(tmp_path):
    missing = str(tmp_path / "nope")
    for arguments in (["get", "k"], ["scan"], ["stats"], ["verify"], ["dump"]):
        result = run(*arguments, directory=missing, check=False)
        assert result.returncode == 2 and b"no data directory" in result.stderr, arguments
    assert not os.path.exists(missing)


def test_bench_prints_a_summary_and_cleans_up(data_dir):
    output = run("bench", "--keys", "2000", directory=data_dir).stdout.decode()
    for phase in ("put", "get (copy)", "withValue (borrow)", "reopen"):
        assert re.search(rf"^{re.escape(phase)}.*\s2,000\s", output, re.M), output
    assert "ops/s" in output and "µs/op" in output
    assert os.listdir(data_dir) == []


def test_progress_only_on_a_terminal(data_dir):
    arguments = [CLI, "bench", "--keys", "300000", "--dir", data_dir]
    if not os.path.exists(CLI):
        pytest.skip("CLI not built")
    piped = subprocess.run(arguments, capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS)
    assert piped.returncode == 0 and b"\r" not in piped.stderr and b"%" not in piped.stderr
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=terminal)
        os.close(terminal)
        drawn = b""
        deadline = time.monotonic() + COMMAND_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:          # the terminal closed when the process exited
                break
            if not chunk:
                break
            drawn += chunk
        assert process.wait(timeout=COMMAND_TIMEOUT_SECONDS) == 0
    finally:
        os.close(controller)
    assert b"%" in drawn and b"\r" in drawn, drawn[:200]


def test_example_runs():
    if not os.path.exists(EXAMPLE):
        pytest.skip(f"example not built: {EXAMPLE}")
    result = subprocess.run([EXAMPLE], capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert b"all behaved" in result.stdout


def test_readme_shows_the_example_verbatim():
    with open(os.path.join(REPO, "README.md")) as readme:
        blocks = re.findall(r"```swift\n(.*?)```", readme.read(), re.S)
    with open(os.path.join(REPO, "Sources", "swiftcask-example", "main.swift")) as source:
        assert source.read() in blocks
