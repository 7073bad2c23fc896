"""Fixtures that run the real swiftcask-server binary on a free loopback port."""
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.abspath(os.path.join(REPO, os.environ.get("SWIFTCASK_SERVER_BIN", ".build/release/swiftcask-server")))
READY_ATTEMPTS_MAX = 200      # x 50 ms = 10 s to start
EXIT_TIMEOUT_SECONDS = 20


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One server process. `start()` waits until it answers PING, with a bounded number of polls."""

    def __init__(self, directory, *flags):
        self.directory = directory
        self.flags = list(flags)
        self.port = None
        self.process = None
        self.log_path = os.path.join(directory, "server.log")

    def start(self):
        if not os.path.exists(BINARY):
            pytest.skip(f"server binary not built: {BINARY} (run `make build` or set SWIFTCASK_SERVER_BIN)")
        self.port = free_port()
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [BINARY, "--port", str(self.port), "--dir", os.path.join(self.directory, "data"), *self.flags],
            stdout=self.log, stderr=self.log)
        for _ in range(READY_ATTEMPTS_MAX):
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}: {self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    reply = connection.recv(64)
                    if reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("server did not become ready: " + self.read_log())

    def client(self, **options):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=30, **options)

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=EXIT_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log.close()
        return self.process.returncode if self.process else None

    def read_log(self):
        try:
            with open(self.log_path, "rb") as handle:
                return handle.read().decode(errors="replace")
        except OSError:
            return ""


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="swiftcask-it-") as directory:
        yield directory


@pytest.fixture
def make_server(workdir):
    servers = []

    def make(*flags, directory=None):
        server = Server(directory or workdir, *flags)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server):
    return make_server().start()


def redis_cli(port, *arguments, stdin=None):
    result = subprocess.run(["redis-cli", "-p", str(port), *arguments], input=stdin,
                            capture_output=True, text=True, timeout=60)
    return result.stdout.strip()
