"""Differential conformance: each case runs on a real redis-server 7.0 and on swiftcask-server,
each on a fresh connection after FLUSHALL, and the raw RESP bytes of every reply must be equal
(error texts, integer vs bulk, nil encodings, RESP3 types). Volatile replies (TTLs, unordered
KEYS, HELLO's client id) pass through one small, named normalisation rule each."""
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import READY_ATTEMPTS_MAX, Server, free_port

REPLY_TIMEOUT_SECONDS = 10
RECEIVE_BYTES = 65536
READY_POLL_SECONDS = 0.05
REFERENCE_VERSION_PREFIX = b"redis_version:7.0."


# --- a minimal RESP client: one command out, exactly one complete reply back, as raw bytes ---

class RespReader:
    """Reads whole RESP2/RESP3 replies from `receive` (a callable returning more bytes)."""

    def __init__(self, receive):
        self.receive = receive
        self.buffer = b""

    def _more(self):
        chunk = self.receive()
        if not chunk:
            raise ConnectionError("connection closed mid-reply")
        self.buffer += chunk

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._more()
        end = self.buffer.index(b"\r\n") + 2
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def _exactly(self, count):
        while len(self.buffer) < count:
            self._more()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def reply(self):
        line = self._line()
        kind, header = line[:1], line[1:-2]
        if kind in b"+-:_,#(":                       # one-line types
            return line
        if kind in b"$!=":                           # length-prefixed: bulk, blob error, verbatim
            length = int(header)
            return line if length < 0 else line + self._exactly(length + 2)
        if kind in b"*~>":                           # array, set, push
            return line + b"".join(self.reply() for _ in range(max(int(header), 0)))
        if kind == b"%":                             # map: key and value per entry
            return line + b"".join(self.reply() for _ in range(2 * int(header)))
        if kind == b"|":                             # attributes, then the reply they describe
            return line + b"".join(self.reply() for _ in range(2 * int(header))) + self.reply()
        raise AssertionError(f"not a RESP reply: {line!r}")


def elements(raw):
    """The header and the raw elements of one aggregate reply."""
    data = [raw]
    reader = RespReader(lambda: data.pop() if data else b"")
    header = reader._line()
    return header, [reader.reply() for _ in range(max(int(header[1:-2]), 0))]


class RespClient:
    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT_SECONDS)
        self.reader = RespReader(lambda: self.socket.recv(RECEIVE_BYTES))

    def call(self, arguments):
        return self.call_pipelined([arguments])[0]

    def call_pipelined(self, commands):
        """Sends every command in one write, then reads one reply per command."""
        self.socket.sendall(b"".join(map(self.frame, commands)))
        return [self.reader.reply() for _ in commands]

    @staticmethod
    def frame(arguments):
        encoded = [argument if isinstance(argument, bytes) else str(argument).encode() for argument in arguments]
        return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in encoded)

    def close(self):
        self.socket.close()


# --- normalisation rules for replies with a volatile part ---

def within(limit):
    """A TTL-like integer: equal when it is positive and at most `limit` on both servers."""
    def rule(raw):
        match = re.fullmatch(rb":(\d+)\r\n", raw)
        return b":<in (0, %d]>\r\n" % limit if match and 0 < int(match.group(1)) <= limit else raw
    return rule


def beyond(limit):
    """A TTL-like integer far in the future: equal when it exceeds `limit` on both servers (the
    two read the clock a few milliseconds apart, which can move a rounded TTL by one)."""
    def rule(raw):
        match = re.fullmatch(rb":(\d+)\r\n", raw)
        return b":<beyond %d>\r\n" % limit if match and int(match.group(1)) > limit else raw
    return rule


def unordered(raw):
    """KEYS: the same elements in any order."""
    header, items = elements(raw)
    return header + b"".join(sorted(items))


def scanned_keys_unordered(raw):
    """SCAN on a keyspace smaller than COUNT: the cursor and then the keys in any order."""
    header, (cursor, keys) = elements(raw)
    return header + cursor + unordered(keys)


def hello_client_id(raw):
    """HELLO: every field but the connection's id."""
    return re.sub(rb"\$2\r\nid\r\n:\d+\r\n", b"$2\r\nid\r\n:<id>\r\n", raw)


# --- the cases: (name, [command, ...]); a command is a shell-like string, an argument list, or
# --- (command, rule) for a reply compared after normalisation ---

# Glob patterns at the edges of Redis's stringmatchlen: unterminated classes, ranges ending in `]`,
# escapes, and stars against the empty key.
GLOB_EDGE_PATTERNS = ["*", "**", "*?*", "", "?", "[", "[]", "[^]", "[a-]", "[z-a]*", "[b-a]", "[a-", "[-]", "[^a-y]",
                      "[!a]", "[[]", "[\\]]", "[\\a]", "[a\\]b]*", "a]b", "a[b", "\\", "a\\", "\\*",
                      "\\?", "*\\"]
KEY_OVER_LIMIT = "k" * 70_000         # the engine's keys are at most 65535 bytes
EXPIRES_FAR = 4_000_000_000          # an absolute Unix time in seconds, in 2096
PAST = 1_000_000_000                  # 2001

CASES = [
    # connection
    ("ping", ["PING", "PING hello", "PING a b", "ECHO hi", "ECHO", "ECHO a b", ["ECHO", ""]]),
    ("select", ["SELECT 1", "SET k one", "SELECT 0", "GET k", "SELECT 1", "GET k", "SELECT 16", "SELECT -1",
                "SELECT abc", "SELECT", "SELECT 1 2"]),
    ("unknown-command", ["FOO", "FOO a b", "foo 'with space'", ["FOO", ""]]),
    ("unknown-subcommand", ["CLIENT FOO", "CONFIG FOO", "OBJECT FOO k", "OBJECT FOO", "COMMAND FOO", "CLIENT",
                            "CONFIG", "OBJECT"]),
    ("subcommand-arity", ["CLIENT GETNAME x", "CLIENT SETNAME", "CONFIG GET", "OBJECT ENCODING", "OBJECT ENCODING a b"]),
    ("client-options", ["CLIENT NO-EVICT foo", "CLIENT NO-EVICT on", "CLIENT NO-EVICT OFF", "CLIENT REPLY foo",
                        "CLIENT REPLY ON", "CLIENT KILL 1.2.3.4:5", "CLIENT KILL ID abc", "CLIENT KILL ID 999999",
                        "CLIENT KILL FOO bar", "CLIENT KILL ADDR", "CLIENT LIST TYPE foo", "CLIENT LIST ID abc",
                        "CLIENT LIST FOO", "CLIENT INFO x", "CLIENT ID x"]),
    ("client-7.2-subcommands", ["CLIENT SETINFO lib-name x", "CLIENT NO-TOUCH on"]),
    ("client-name", ["CLIENT GETNAME", "CLIENT SETNAME conformance", "CLIENT GETNAME", "CLIENT SETNAME 'a b'",
                     "CLIENT SETNAME ''", "CLIENT GETNAME"]),
    ("hello", ["HELLO 4", "HELLO abc", "HELLO 3 FOO", ("HELLO 2", hello_client_id), "PING"]),
    ("hello-options", [("HELLO 3 AUTH default x", hello_client_id), ("HELLO 2 AUTH foo bar", hello_client_id),
                       "HELLO 3 AUTH default", "HELLO 3 SETNAME", "HELLO 1", "HELLO 0", "HELLO -1",
                       "HELLO 3 SETNAME 'a b'", ("HELLO 2 SETNAME named", hello_client_id), "CLIENT GETNAME"]),
    ("hello-option-errors", [("HELLO 3 AUTH", hello_client_id), ("HELLO 3 AUTH default", hello_client_id),
                             ("HELLO 3 SETNAME a SETNAME b", hello_client_id), "CLIENT GETNAME",
                             ("HELLO 2 AUTH default x SETNAME c", hello_client_id), "CLIENT GETNAME",
                             ("HELLO 3.0", hello_client_id), ("HELLO 03", hello_client_id),
                             ("HELLO 2 foo", hello_client_id), "RESET x", "QUIT x"]),
    ("reset", [("HELLO 3 SETNAME abc", hello_client_id), "CLIENT GETNAME", "SELECT 2", "SET k v", "WATCH k",
               "MULTI", "RESET", "CLIENT GETNAME", "GET k", "EXEC", "GET missing"]),
    ("quit", ["SET a b", "QUIT"]),
    ("resp3", [("HELLO 3", hello_client_id), "GET missing", "SET k v", "GET k", "MGET k missing",
               "SET n 1.5", "INCRBYFLOAT n 1", "OBJECT ENCODING missing", "CLIENT GETNAME", "SET k v XX GET",
               "SET k2 v NX GET", "LCS k k IDX", "LCS k k IDX WITHMATCHLEN", "EXISTS k", "PING", "MULTI", "GET k",
               "EXEC", "WATCH k", "SET k w", "MULTI", "GET k", "EXEC", "FLUSHALL", "RANDOMKEY",
               "GETEX missing", "GETDEL missing", "SET k v GET", "OBJECT IDLETIME missing",
               ("HELLO 2", hello_client_id), "GET missing"]),
    # strings
    ("get-set", ["GET k", "SET k v", "GET k", "SET k ''", "GET k", "STRLEN k", "GET", "GET a b", "SET k",
                 "SET", ["SET", "bin", b"\x00\xff\r\n"], "GET bin"]),
    ("set-nx-xx-get", ["SET k v XX", "GET k", "SET k v NX", "SET k w NX", "GET k", "SET k w XX", "GET k",
                       "SET k x GET", "SET k y NX GET", "SET k z XX GET", "SET missing v XX GET",
                       "SET new v NX GET", "GET new", "SET k v nx xx", "SET k v XX NX", "SET k v GET GET"]),
    ("set-expiry", [("SET k v EX 100", None), ("TTL k", within(100)), "SET k v PX 100000",
                    ("PTTL k", within(100000)), "SET k v", "TTL k", "SET k v EXAT %d" % EXPIRES_FAR,
                    "EXPIRETIME k", "SET k v PXAT %d" % (EXPIRES_FAR * 1000), "PEXPIRETIME k",
                    "SET k v2 KEEPTTL", "EXPIRETIME k", "GET k", "SET k v3", "TTL k"]),
    ("set-expiry-errors", ["SET k v EX 0", "SET k v EX -1", "SET k v EX abc", "SET k v EX 1.5", "SET k v PX 0",
                           "SET k v EX", "SET k v EX 10 PX 10", "SET k v EX 10 KEEPTTL", "SET k v KEEPTTL EX 10",
                           "SET k v EXAT 0", "SET k v PXAT -5", "SET k v EX 9223372036854775807",
                           "SET k v EX 99999999999999999999", "SET k v PX 9223372036854775807", "SET k v FOO",
                           "EXISTS k", "SET k v EX abc FOO", "SET k v EX 0 PX 10", "SET k v EX abc EX 10",
                           ("TTL k", within(10)), "SET k v EX 10 EX 100", ("TTL k", within(100)),
                           "SET k v PX 10 PX 100000", ("PTTL k", within(100000)), "SET k v KEEPTTL KEEPTTL",
                           "TTL k", "SET k v NX NX", "SET k v XX XX GET GET", "SET k v EXAT 10 PXAT 10",
                           "SET k v PX 10 EXAT %d" % EXPIRES_FAR]),
    ("set-options-combined", ["SET k v KEEPTTL", "TTL k", "SET k v EX 100 GET", "SET k w KEEPTTL GET",
                              ("TTL k", within(100)), "SET k x PXAT 1 GET", "EXISTS k", "SET k v NX EX 100 GET",
                              "SET k v XX PX 100 GET", "SET m v XX EX 0", "SET m v NX EX 0", "EXISTS m",
                              "SET m v EXAT 1 NX", "EXISTS m", "GETEX m EXAT 1 PERSIST"]),
    ("set-expiry-in-past", ["SET k v", "SET k v EXAT %d" % PAST, "GET k", "EXISTS k",
                            "SET k v PXAT %d" % (PAST * 1000), "EXISTS k"]),
    ("setnx-setex", ["SETNX k v", "SETNX k w", "GET k", "SETNX k", "SETEX k 100 v", ("TTL k", within(100)),
                     "SETEX k 0 v", "SETEX k -5 v", "SETEX k abc v", "SETEX k 10", "PSETEX k 100000 v",
                     ("PTTL k", within(100000)), "PSETEX k 0 v", "PSETEX k -1 v", "PSETEX k 1.5 v",
                     "SETEX k 9223372036854775807 v", "GET k"]),
    ("getset-getdel", ["GETSET k v", "GETSET k w", "GET k", "SET t v EX 100", "GETSET t w", "TTL t",
                       "GETDEL k", "GETDEL k", "EXISTS k", "GETDEL", "GETSET k"]),
    ("getex", ["GETEX k", "GETEX k EX 100", "SET k v", "GETEX k", "TTL k", "GETEX k EX 100", ("TTL k", within(100)),
               "GETEX k PERSIST", "TTL k", "GETEX k PX 100000", ("PTTL k", within(100000)),
               "GETEX k EXAT %d" % EXPIRES_FAR, "EXPIRETIME k", "GETEX k PXAT %d" % (EXPIRES_FAR * 1000),
               "PEXPIRETIME k", "GETEX k EX 0", "GETEX k EX -1", "GETEX k EX abc", "GETEX k EX", "GETEX k EX 10 PX 10",
               "GETEX k PERSIST EX 10", "GETEX k EX 10 PERSIST", "GETEX k PERSIST PERSIST", "GETEX k FOO",
               "GETEX k EX 10 EX 100", ("TTL k", within(100)), "GETEX k EX abc EX 100", "GETEX k EX abc FOO",
               "GETEX k KEEPTTL", "GETEX k NX", "GETEX k GET", "GETEX missing EX abc", "GETEX missing EX 0",
               "GETEX missing FOO", "GETEX k EXAT %d" % PAST, "EXISTS k", "GETEX"]),
    ("mget-mset", ["MSET a 1 b 2", "MGET a b c", "MSET a", "MSET a 1 b", "MSET", "MGET", "MSETNX a 1 c 3",
                   "MGET c", "MSETNX c 3 d 4", "MGET c d", "MSETNX e", "MSETNX e 1 f", "MSET a 1 a 2", "GET a",
                   "MSETNX x 1 x 2", "GET x"]),
    ("append-strlen", ["APPEND k abc", "APPEND k def", "GET k", "STRLEN k", "STRLEN missing", "APPEND k ''",
                       "APPEND k", "STRLEN", "SET t v EX 100", "APPEND t w", ("TTL t", within(100))]),
    ("getrange", ["SET k 'This is a string'", "GETRANGE k 0 3", "GETRANGE k -3 -1", "GETRANGE k 0 -1",
                  "GETRANGE k 10 100", "GETRANGE k 5 2", "GETRANGE k -1 -5", "GETRANGE k -100 -50",
                  "GETRANGE k -100 2", "GETRANGE k 100 200", "GETRANGE missing 0 -1", "GETRANGE k a 1",
                  "GETRANGE k 0 b", "GETRANGE missing a b", "GETRANGE k 0", "SUBSTR k 0 3",
                  "GETRANGE k 9223372036854775807 -9223372036854775808", "SET e ''", "GETRANGE e 0 -1"]),
    ("setrange", ["SETRANGE k 0 hello", "SETRANGE k 6 world", "GET k", "SETRANGE k 1 a", "GET k",
                  "SETRANGE missing 0 ''", "EXISTS missing", "SETRANGE k 100 ''", "STRLEN k", "SETRANGE k -1 x",
                  "SETRANGE k abc x", "SETRANGE k 536870912 x", "SETRANGE k -1 ''",
                  "SETRANGE k 3", "SETRANGE m 3 ab", "GET m"]),
    ("incr-decr", ["INCR n", "INCR n", "DECR n", "INCRBY n 10", "DECRBY n 3", "INCRBY n -5", "DECRBY n -5", "GET n",
                   "SET n 9223372036854775806", "INCR n", "INCR n", "SET n -9223372036854775807", "DECR n",
                   "DECR n", "INCRBY n -1", "SET s abc", "INCR s", "SET s ' 1'", "INCR s", "SET s '01'", "INCR s",
                   "SET s '1.5'", "INCR s", "SET s ''", "INCR s", "INCRBY n abc", "INCRBY n 1.5",
                   "DECRBY n -9223372036854775808", "SET n 0", "DECRBY n 9223372036854775807",
                   "INCRBY n 99999999999999999999", "INCR", "INCRBY n", "DECR a b", "SET t 5 EX 100", "INCR t",
                   ("TTL t", within(100))]),
    ("incrbyfloat", ["INCRBYFLOAT f 10.5", "INCRBYFLOAT f 0.1", "INCRBYFLOAT f -5", "INCRBYFLOAT f 5.0e3",
                     "INCRBYFLOAT f 2.0e-2", "GET f", "SET f 0.1", "INCRBYFLOAT f 0.2", "SET f 3", "INCRBYFLOAT f 1",
                     "SET f 1e3", "INCRBYFLOAT f 1", "INCRBYFLOAT f abc", "INCRBYFLOAT f ''", "INCRBYFLOAT f 1.5x",
                     "INCRBYFLOAT f inf", "INCRBYFLOAT f nan", "SET f abc", "INCRBYFLOAT f 1", "SET f 1.7e308",
                     "INCRBYFLOAT f 1.7e308", "INCRBYFLOAT", "INCRBYFLOAT f", "SET f 5.0000", "INCRBYFLOAT f 0",
                     "INCRBYFLOAT g 1.23456789012345678", "INCRBYFLOAT h -0.0", "INCRBYFLOAT h 1e-5",
                     "SET t 1 EX 100", "INCRBYFLOAT t 1", ("TTL t", within(100))]),
    ("incrbyfloat-parsing", ["INCRBYFLOAT a ' 1'", "INCRBYFLOAT a '1 '", "INCRBYFLOAT a +1", "INCRBYFLOAT a .5",
                             "INCRBYFLOAT a 5.", "INCRBYFLOAT a 1e", "INCRBYFLOAT a 1e+2", "INCRBYFLOAT a -inf",
                             "INCRBYFLOAT a infinity", "INCRBYFLOAT a 1e-4950", "INCRBYFLOAT a 1e-320",
                             "INCRBYFLOAT a 0x1p3", "INCRBYFLOAT a 1_0", "INCRBYFLOAT a 1e5000", "GET a",
                             ["INCRBYFLOAT", "b", b"1\x00x"], "INCRBYFLOAT c 123456789012345678901234567890",
                             "INCRBYFLOAT d 0.1", "INCRBYFLOAT d 0.1", "INCRBYFLOAT d 0.1", "INCRBYFLOAT e -1.5",
                             "INCRBYFLOAT e 1.5", "SET f 1e400", "INCRBYFLOAT f 1", ["SET", "g", b"2\x00"],
                             "INCRBYFLOAT g 1"]),
    ("lcs", ["SET x x", "LCS x y IDX LEN", "LCS x y LEN MINMATCHLEN 1", "LCS x y WITHMATCHLEN",
             "LCS x y IDX MINMATCHLEN 99999999999999999999", "MSET a ohmytext b mynewtext", "LCS a b", "LCS a b LEN", "LCS a b IDX", "LCS a b IDX MINMATCHLEN 4",
             "LCS a b IDX WITHMATCHLEN", "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN", "LCS a b LEN IDX",
             "LCS a b MINMATCHLEN", "LCS a b MINMATCHLEN abc", "LCS a b IDX MINMATCHLEN -1", "LCS a b FOO",
             "LCS a missing", "LCS missing1 missing2 LEN", "LCS missing1 missing2 IDX", "LCS a", "LCS a b LEN LEN",
             "LCS b a IDX WITHMATCHLEN"]),
    ("setbit-getbit", ["SETBIT k 7 1", "GET k", "GETBIT k 7", "GETBIT k 6", "GETBIT k 100", "GETBIT missing 0",
                       "SETBIT k 7 0", "SETBIT k 7 0", "SETBIT k 15 1", "STRLEN k", "SETBIT k -1 1",
                       "SETBIT k 4294967296 1", "SETBIT k abc 1", "SETBIT k 0 2", "SETBIT k 0 -1", "SETBIT k 0 x",
                       "GETBIT k -1", "GETBIT k 4294967296", "GETBIT k x", "SETBIT k 0", "GETBIT k",
                       "SET t a EX 100", "SETBIT t 0 1", ("TTL t", within(100))]),
    ("bitcount", ["SET k foobar", "BITCOUNT k", "BITCOUNT k 0 0", "BITCOUNT k 1 1", "BITCOUNT k 1 -2",
                  "BITCOUNT k 0 -1 BYTE", "BITCOUNT k 5 30 BIT", "BITCOUNT k 0 -1 BIT", "BITCOUNT k -10 -1 BIT",
                  "BITCOUNT k -100 100", "BITCOUNT k 4 2", "BITCOUNT k 0", "BITCOUNT k 0 1 FOO", "BITCOUNT k a 1",
                  "BITCOUNT k 0 1 BIT extra", "BITCOUNT missing", "BITCOUNT missing 0 1", "BITCOUNT", "SET e ''",
                  "BITCOUNT e 0 -1"]),
    ("bitcount-argument-order", ["BITCOUNT missing 0", "BITCOUNT missing a b", "BITCOUNT missing 0 1 FOO",
                                 "BITCOUNT missing 0 1 2 3", "SET k foobar", "BITCOUNT k -1 -5 FOO", "BITCOUNT k a 1 FOO",
                                 "BITCOUNT k 0 1 2 3", "BITCOUNT k -5 -1 FOO", "SET e ''", "BITCOUNT e 0",
                                 "BITCOUNT e a b", "BITCOUNT e 0 0 BIT", "BITCOUNT k 0 9223372036854775807 BIT",
                                 "BITCOUNT k -9223372036854775808 -1 BIT", "BITCOUNT k 1 0 BIT"]),
    # keyspace
    ("del-exists-touch-type", ["MSET a 1 b 2", "DEL a b c", "MSET a 1 b 2", "DEL a a", "EXISTS a b b c",
                               "TOUCH a b b c", "TYPE b", "TYPE missing", "UNLINK b", "DEL", "EXISTS", "TYPE",
                               "TYPE a b"]),
    ("rename", ["RENAME a b", "SET a 1", "RENAME a b", "GET b", "EXISTS a", "RENAME b b", "SET c 3",
                "RENAME b c", "GET c", "SET t v EX 100", "RENAME t u", ("TTL u", within(100)), "RENAMENX u c",
                "RENAMENX u v", "RENAMENX missing w", "RENAMENX v v", "RENAME a", "RENAMENX a"]),
    ("copy", ["SET a 1", "COPY a b", "GET b", "COPY a b", "SET a 2", "COPY a b REPLACE", "GET b", "COPY a a",
              "COPY missing x", "COPY a b DB 1", "SELECT 1", "GET b", "SELECT 0", "COPY a b DB 1", "COPY a a DB 1",
              "COPY a b DB 16", "COPY a b DB -1", "COPY a b DB abc", "COPY a b DB", "COPY a b FOO",
              "COPY a b REPLACE REPLACE", "COPY a", "SET t v EX 100", "COPY t t2", ("TTL t2", within(100)),
              "COPY missing missing"]),
    ("move", ["SET a 1", "MOVE a 1", "EXISTS a", "SELECT 1", "GET a", "MOVE a 1", "MOVE a 0", "SELECT 0",
              "SET a 2", "SELECT 1", "MOVE a 0", "GET a", "MOVE missing 0", "MOVE a 16", "MOVE a -1", "MOVE a abc",
              "MOVE a"]),
    ("database-index-range", ["SET k v", "SELECT 4000000000", "SELECT -2147483649", "SELECT 2147483647",
                              "SELECT 99999999999999999999", "MOVE k 2147483648", "MOVE k -2147483649",
                              "MOVE k 2147483647", "COPY k j DB 4000000000", "COPY k j DB 2147483647",
                              "SWAPDB 4000000000 0", "SWAPDB 0 4000000000", "SWAPDB 99 abc", "SWAPDB 99 4000000000",
                              "SWAPDB 0 99", "MULTI", "SELECT 4000000000", "EXEC"]),
    ("swapdb", ["SET a 0", "SELECT 1", "SET b 1", "SWAPDB 0 1", "GET a", "GET b", "SELECT 0", "GET a", "GET b",
                "SWAPDB 0 0", "SWAPDB 0 16", "SWAPDB -1 0", "SWAPDB abc 0", "SWAPDB 0 abc", "SWAPDB 0",
                "SWAPDB 1 0", "GET a"]),
    ("keys-dbsize-flush", [("KEYS *", unordered), "MSET alpha 1 beta 2 alps 3", ("KEYS *", unordered),
                           ("KEYS al*", unordered), ("KEYS a?p*", unordered), ("KEYS [ab]*", unordered),
                           "KEYS nomatch*", "DBSIZE", "DBSIZE x", "KEYS", "FLUSHDB FOO", "FLUSHDB ASYNC",
                           "DBSIZE", "SET a 1", "FLUSHDB SYNC", "DBSIZE", "SET a 1", "FLUSHDB", "DBSIZE",
                           "FLUSHALL FOO", "FLUSHALL SYNC extra", "FLUSHALL ASYNC"]),
    ("keys-patterns", [["SET", "a*b", "1"], ["SET", "a\\b", "1"], "SET 'a[b' 1", "SET abc 1",
                       ("KEYS a\\*b", unordered), ("KEYS a[", unordered), ("KEYS *\\\\*", unordered),
                       ("KEYS [^a]*", unordered), ("KEYS [a-c]*", unordered), ("KEYS a[*", unordered),
                       ("KEYS a?c", unordered), ("KEYS [!x]bc", unordered)]),
    ("glob-edges", ["MSET a 1 b 2 ab 3 'a]b' 4 '[' 5 '\\' 6 'a\\' 7 - 8 ^ 9 z 10 a-b 11 '*' 12 '?' 13 '' 14"]
     + [("KEYS '%s'" % pattern, unordered) for pattern in GLOB_EDGE_PATTERNS]
     + [("SCAN 0 COUNT 1000 MATCH '%s'" % pattern, scanned_keys_unordered) for pattern in GLOB_EDGE_PATTERNS]),
    ("expired-keys", ["SET a 1 EXAT %d" % PAST, "COPY a b", "EXISTS a b", "SET c 1 PX 1", "SET d 1 PXAT 1",
                      "RENAME d e", "MOVE d 1", "TTL d", "GETRANGE d 0 -1", "INCR d", "APPEND d x", "TTL d"]),
    ("overwrite-clears-ttl", ["SET a 1 EX 100", "SET b 2", "RENAME b a", "TTL a", "SET c 1 EX 100",
                              "RENAMENX c a", "GET a", "SET t v EX 100", "SET t w", "TTL t", "SET t v EX 100",
                              "GETSET t w", "TTL t", "SET t v EX 100", "MSET t w", "TTL t", "SET t v EX 100",
                              "COPY a t REPLACE", "TTL t"]),
    ("expire", ["EXPIRE missing 100", "SET k v", "EXPIRE k 100", ("TTL k", within(100)), "PEXPIRE k 100000",
                ("PTTL k", within(100000)), "EXPIREAT k %d" % EXPIRES_FAR, "EXPIRETIME k", "PEXPIRETIME k",
                ("TTL k", within(EXPIRES_FAR)), "PEXPIREAT k %d" % (EXPIRES_FAR * 1000 + 5), "PEXPIRETIME k",
                "EXPIRETIME k", "PERSIST k", "PERSIST k", "TTL k", "PTTL k", "EXPIRETIME k", "PEXPIRETIME k",
                "PERSIST missing", "TTL missing", "PTTL missing", "EXPIRETIME missing", "PEXPIRETIME missing",
                "EXPIRE k abc", "EXPIRE k 1.5", "EXPIRE k", "TTL", "PERSIST", "EXPIRETIME"]),
    ("expire-options", ["SET k v", "EXPIRE k 100 XX", "EXPIRE k 100 GT", "EXPIRE k 100 LT", ("TTL k", within(100)),
                        "EXPIRE k 200 NX", "EXPIRE k 300 NX", "EXPIRE k 50 GT", "EXPIRE k 300 GT",
                        "EXPIRE k 400 LT", "EXPIRE k 50 LT", "EXPIRE k 60 XX", ("TTL k", within(60)),
                        "EXPIRE k 10 NX XX", "EXPIRE k 10 NX GT", "EXPIRE k 10 NX LT", "EXPIRE k 10 GT LT",
                        "EXPIRE k 10 XX GT", "EXPIRE k 10 FOO", "EXPIRE k 10 nx", "EXPIRE missing 10 FOO",
                        "EXPIRE missing 10 NX XX", "EXPIRE k 10 XX XX", "PEXPIRE k 10 GT LT",
                        "EXPIREAT k %d NX" % EXPIRES_FAR]),
    ("expire-options-before-amount", ["SET k v", "EXPIRE k abc FOO", "PEXPIRE k 99999999999999999999 GT FOO",
                                      "EXPIREAT k abc NX XX", "PEXPIREAT k 1.5 GT LT", "EXPIRE missing abc FOO",
                                      "EXPIRE k abc XX", "TTL k"]),
    ("expire-in-past", ["SET k v", "EXPIRE k -1", "EXISTS k", "SET k v", "EXPIRE k 0", "EXISTS k", "SET k v",
                        "EXPIREAT k %d" % PAST, "EXISTS k", "SET k v", "PEXPIREAT k 1", "EXISTS k",
                        "SET k v", "PEXPIRE k -100", "GET k"]),
    ("integer-arguments", ["SET k hello", "GETRANGE k 0 99999999999999999999", "SETRANGE k 99999999999999999999 x",
                           "GETBIT k 99999999999999999999", "SELECT 00", "SELECT +1", "SELECT ' 1'", "SELECT 1.0",
                           "MOVE k 00", "COPY k j DB 01", "EXPIRE k 00", "EXISTS k", "SET k v", "EXPIRE k +10",
                           "EXPIRE k ' 10'", "SETEX k 00 v", "SETEX k +5 v", "SET k v EX 010"]),
    ("expire-overflow", ["SET k v", "EXPIRE k 9223372036854775807", "EXPIRE k -9223372036854775808",
                         "PEXPIRE k 9223372036854775807", "EXPIREAT k 9223372036854775807",
                         "PEXPIREAT k 9223372036854775807", "EXPIRE k 99999999999999999999",
                         ("TTL k", beyond(9 * 10**15)),
                         "SETEX k 9223372036854776 v", "PSETEX k 9223372036854775807 v",
                         "SET k v EXAT 9223372036854775", "PEXPIRETIME k", "SET k v EXAT 9223372036854776",
                         "SET k v PXAT 9223372036854775807", "PEXPIRETIME k", "PEXPIREAT k 99999999999999 GT",
                         "EXPIRE k 10 GT", "EXPIRE k 10 LT", ("TTL k", within(10))]),
    ("object", ["SET i 12345", "SET s hello", "SET r %s" % ("x" * 45), "SET e %s" % ("x" * 44),
                "OBJECT ENCODING i", "OBJECT ENCODING s", "OBJECT ENCODING r", "OBJECT ENCODING e",
                "OBJECT ENCODING missing", "SET big 12345678901234567890", "OBJECT ENCODING big",
                "SET neg -5", "OBJECT ENCODING neg", "SET z 007", "OBJECT ENCODING z", "OBJECT FREQ s",
                "OBJECT FREQ missing", "OBJECT IDLETIME missing", "OBJECT REFCOUNT missing", "OBJECT REFCOUNT s",
                "OBJECT REFCOUNT i", "SET small 5", "OBJECT REFCOUNT small", "SET small 9999", "OBJECT REFCOUNT small",
                "SET small 10000", "OBJECT REFCOUNT small", "SET small -1", "OBJECT REFCOUNT small", "INCR c",
                "OBJECT REFCOUNT c", "OBJECT ENCODING c", "OBJECT HELP", "OBJECT HELP x", "OBJECT FREQ",
                "OBJECT IDLETIME a b", "INCRBYFLOAT f 1.5", "OBJECT ENCODING f"]),
    ("object-encoding-history", ["SET s hello", "APPEND s x", "OBJECT ENCODING s", "INCRBYFLOAT f 1",
                                 "OBJECT ENCODING f", "SETBIT b 1 1", "OBJECT ENCODING b", "SET x 1", "COPY x y",
                                 "OBJECT REFCOUNT y"]),
    ("help", ["CONFIG HELP", "SLOWLOG HELP", "OBJECT HELP", "COMMAND HELP x", "CLIENT HELP x", "CONFIG HELP x",
              "SLOWLOG HELP x", "OBJECT HELP x"]),
    ("help-client-command", ["CLIENT HELP", "COMMAND HELP"]),
    ("scan", ["SCAN abc", "SCAN -1", "SCAN ''", "SCAN +0", "SCAN -", "SCAN ' 1'", "SCAN '1 '", "SCAN 1x",
              "SCAN 18446744073709551615", "SCAN 18446744073709551616", "SCAN -18446744073709551616",
              ["SCAN", b"0\x00junk"], "SCAN 0 COUNT 0", "SCAN 0 COUNT abc", "SCAN 0 MATCH", "SCAN 0 FOO bar",
              "SCAN 0", "MSET a 1 b 2 c 3", ("SCAN 0 COUNT 1000", scanned_keys_unordered),
              ("SCAN 0 MATCH [ab] COUNT 1000", scanned_keys_unordered), "SCAN 0 TYPE list COUNT 1000",
              ("SCAN 0 TYPE string COUNT 1000", scanned_keys_unordered), "SCAN"]),
    ("randomkey", ["RANDOMKEY", "SET only v", "RANDOMKEY", "RANDOMKEY x"]),
    ("command-getkeys", ["COMMAND GETKEYS SET k v", "COMMAND GETKEYS MSET a 1 b 2", "COMMAND GETKEYS GET",
                         "COMMAND GETKEYS FOO k", "COMMAND GETKEYS PING", "COMMAND GETKEYS COPY a b DB 1",
                         "COMMAND GETKEYS", "COMMAND COUNT x", "COMMAND INFO foo", "COMMAND DOCS foo"]),
    ("auth", ["AUTH x", "AUTH default anything", "AUTH someone x", "AUTH a b c", "AUTH"]),
    ("arity", """GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX APPEND STRLEN
        GETRANGE SUBSTR SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT LCS SETBIT GETBIT BITCOUNT DEL UNLINK EXISTS
        TYPE TOUCH RENAME RENAMENX COPY MOVE SWAPDB KEYS SCAN EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME
        PEXPIRETIME PERSIST OBJECT WATCH SELECT ECHO CLIENT CONFIG SLOWLOG""".split()
     + ["GET a b", "STRLEN a b", "DBSIZE x", "RANDOMKEY x", "TTL a b", "PERSIST a b", "SETNX a b c", "INCR a b",
        "GETDEL a b", "TYPE a b", "RENAME a b c", "MOVE a 1 2", "SWAPDB 0 1 2", "KEYS a b", "SETEX a 1 b c",
        "MULTI x", "DISCARD x", "UNWATCH x", "PING a b", "ECHO a b", "SELECT 0 1"]),
    # transactions
    ("multi-exec", ["EXEC", "DISCARD", "MULTI", "MULTI", "SET k v", "INCR k", "GET k", "EXEC", "GET k"]),
    ("multi-discard", ["MULTI", "SET k v", "DISCARD", "GET k", "DISCARD", "MULTI", "EXEC"]),
    ("multi-execabort", ["MULTI", "SET k v", "FOO", "GET k", "EXEC", "GET k", "MULTI", "SET k", "EXEC",
                         "MULTI", "SELECT 99", "SET k v", "EXEC", "GET k"]),
    ("multi-watch", ["WATCH k", "MULTI", "WATCH k", "SET k v", "EXEC", "GET k", "WATCH", "UNWATCH", "UNWATCH x",
                     "WATCH k", "SET k changed", "MULTI", "GET k", "EXEC", "WATCH k", "UNWATCH", "SET k again",
                     "MULTI", "GET k", "EXEC", "WATCH k", "DISCARD", "SET k v", "MULTI", "EXEC"]),
    ("multi-arity", ["MULTI x", "EXEC x", "DISCARD x", "MULTI", "EXEC x", "EXEC", "WATCH k", "EXEC x", "MULTI",
                     "SET k v", "MULTI", "EXEC", "GET k"]),
    ("multi-commands", ["MULTI", "SELECT 1", "SET k v", "SWAPDB 0 1", "FLUSHDB", "DEL k k", "TYPE k", "PING",
                        "ECHO x", "CLIENT SETNAME n", "EXEC", "CLIENT GETNAME", "GET k", "SELECT 0", "GET k"]),
    ("multi-string-commands", ["SET k v", "MULTI", "GETDEL k", "GETSET k w", "GETEX k EX 100", "TTL k",
                               "PERSIST k", "APPEND k x", "SETRANGE k 0 y", "STRLEN k", "GETRANGE k 0 -1",
                               "LCS k k", "SETBIT k 0 1", "BITCOUNT k", "EXPIRETIME k", "RENAME k j", "COPY j k",
                               "MOVE k 1", "EXISTS j k", "DBSIZE", "KEYS j", "SET n 1", "INCRBYFLOAT n 0.5", "INCR n",
                               "MSETNX n 1 m 2", "MSET n 1 m 2", "SETNX n 2", "OBJECT ENCODING n", "TYPE n",
                               "SELECT 1", "GET k", "SELECT 0", "EXEC"]),
    ("multi-errors-inside", ["MULTI", "SET k v EX 0", "GETEX k FOO", "INCR k", "EXPIRE k 10 NX XX", "EXEC", "GET k"]),
    ("multi-runtime-errors", ["SET s abc", "MULTI", "INCR s", "SET k v", "LCS s k LEN IDX", "GET k", "EXEC"]),
    ("multi-refused-commands", ["MULTI", "SAVE", "GET k", "EXEC", "MULTI", "SHUTDOWN", "DISCARD", "MULTI",
                                "SAVE", "DISCARD", "GET k"]),
    # server and scripting stubs
    ("slowlog", ["SLOWLOG RESET", "SLOWLOG LEN", "SLOWLOG GET abc", "SLOWLOG GET -2", "SLOWLOG FOO",
                 "SLOWLOG LEN x", "SLOWLOG GET 1 2", "SLOWLOG RESET x", "SLOWLOG"]),
    ("scripting", ["FUNCTION LIST", "FUNCTION FLUSH", "FUNCTION FLUSH ASYNC", "FUNCTION FLUSH sync",
                   "FUNCTION FLUSH foo", "FUNCTION FLUSH a b", "FUNCTION FOO", "FUNCTION LIST WITHCODE",
                   "FUNCTION LIST LIBRARYNAME x", "FUNCTION LIST foo", "FUNCTION LIST LIBRARYNAME",
                   "FUNCTION LIST WITHCODE WITHCODE", "FUNCTION LIST LIBRARYNAME a LIBRARYNAME b", "FUNCTION STATS x",
                   "SCRIPT FLUSH", "SCRIPT FLUSH SYNC", "SCRIPT FLUSH async", "SCRIPT FLUSH foo", "SCRIPT FLUSH a b",
                   "SCRIPT EXISTS abc def", "SCRIPT EXISTS", "SCRIPT FOO", "FUNCTION", "SCRIPT", "READONLY",
                   "READWRITE", "READONLY x", "SAVE x", "TIME x", "LASTSAVE x", "BGREWRITEAOF x"]),
    ("scripting-not-supported", ["FUNCTION STATS", "SCRIPT HELP x"]),
    ("key-size-limit", [["SET", KEY_OVER_LIMIT, "v"]]),
    # commands of types the server does not store (see KNOWN_DIFFERENCES and the test below)
    ("other-type-commands", ["LPUSH l a"]),
]

# WATCH k, then writes on the same connection, then MULTI/PING/EXEC: does each write (or non-write)
# fail the transaction as in Redis? name: (setup, commands between WATCH and MULTI)
WATCH_CASES = {
    "flushall-absent-key": ([], ["FLUSHALL"]),
    "flushall-present-key": (["SET k 1"], ["FLUSHALL"]),
    "flushdb-other-db": (["SET k 1"], ["SELECT 1", "FLUSHDB", "SELECT 0"]),
    "swapdb-absent-key": ([], ["SWAPDB 0 1"]),
    "swapdb-present-key": (["SET k 1"], ["SWAPDB 0 1"]),
    "swapdb-other-dbs": (["SET k 1"], ["SWAPDB 2 3"]),
    "del-absent": ([], ["DEL k", "GETDEL k", "EXPIRE k -1"]),
    "failed-conditional-sets": (["SET k 1"], ["SETNX k 2", "SET k 2 NX", "EXPIRE k 100 XX", "PERSIST k", "GETEX k",
                                              "TOUCH k", "SETRANGE k 0 ''", "APPEND k ''"]),
    "expire": (["SET k 1"], ["EXPIRE k 100"]),
    "other-db": ([], ["SELECT 1", "SET k 1", "SELECT 0"]),
    "move-in": (["SELECT 1", "SET k 1", "SELECT 0"], ["SELECT 1", "MOVE k 0", "SELECT 0"]),
    "copy-in": (["SET j 1"], ["COPY j k"]),
    "rename-in": (["SET j 1"], ["RENAME j k"]),
    "incr": ([], ["INCR k"]),
    "setbit-unchanged": (["SET k abc"], ["SETBIT k 1 1", "SETBIT k 4 0"]),
    "setbit-grows": (["SET k abc"], ["SETBIT k 100 0"]),
}
CASES += [("watch-" + name, setup + ["WATCH k"] + writes + ["MULTI", "PING", "EXEC"])
          for name, (setup, writes) in WATCH_CASES.items()]

# Cases whose replies are expected to differ, each with why. They run as strict xfails: if the
# difference goes away, the entry must go too.
KNOWN_DIFFERENCES = {
    "other-type-commands": "strings only: list/set/hash/zset/stream commands get swiftcask's own error",
    "object-encoding-history": "no encoding history is kept: after APPEND/SETRANGE/SETBIT/INCRBYFLOAT/COPY Redis "
                               "has a raw, embstr or unshared object where the value's text alone says otherwise",
    "watch-swapdb-absent-key": "watches are per physical keyspace: SWAPDB fails every watch on both databases",
    "client-7.2-subcommands": "CLIENT SETINFO and NO-TOUCH (Redis 7.2) are served: clients send SETINFO on connect",
    "scripting-not-supported": "no Lua: FUNCTION STATS lists no engine and SCRIPT/FUNCTION HELP are not served",
    "key-size-limit": "the engine stores keys of at most 65535 bytes; longer ones get a clear error (test below)",
    "help-client-command": "CLIENT HELP and COMMAND HELP list only the subcommands swiftcask implements",
}

# Commands of types swiftcask does not store: Redis runs them, swiftcask replies this error.
OTHER_TYPE_COMMANDS = ["LPUSH l a", "RPOP l", "SADD s a", "HSET h f v", "HGET h f", "ZADD z 1 m", "XADD x * f v",
                       "PFADD p a", "GEOADD g 1 2 m", "SUBSCRIBE c"]
OTHER_TYPE_ERROR = b"-ERR unsupported command '%s': swiftcask stores string values only"


# --- servers ---

def wait_until_ready(process, port, describe):
    for _ in range(READY_ATTEMPTS_MAX):
        if process.poll() is not None:
            raise AssertionError(f"{describe} exited with {process.returncode}")
        try:
            client = RespClient(port)
            try:
                if client.call(["PING"]) == b"+PONG\r\n":
                    return
            finally:
                client.close()
        except OSError:
            pass
        time.sleep(READY_POLL_SECONDS)
    raise AssertionError(f"{describe} did not answer PING on port {port}")


@pytest.fixture(scope="module")
def reference_port():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (`make deps` installs it)")
    with tempfile.TemporaryDirectory(prefix="swiftcask-conformance-redis-") as directory:
        port = free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", directory],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_ready(process, port, "redis-server")
            client = RespClient(port)
            info = client.call(["INFO", "server"])
            client.close()
            if REFERENCE_VERSION_PREFIX not in info:
                pytest.skip("the expected replies are Redis 7.0's; this redis-server is another version")
            yield port
        finally:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def swiftcask_port():
    with tempfile.TemporaryDirectory(prefix="swiftcask-conformance-") as directory:
        server = Server(directory).start()
        try:
            yield server.port
        finally:
            server.stop()


def run_case(port, commands):
    client = RespClient(port)
    try:
        assert client.call(["FLUSHALL"]) == b"+OK\r\n"
        assert client.call(["SELECT", "0"]) == b"+OK\r\n"
        transcript = []
        for command in commands:
            command, rule = command if isinstance(command, tuple) else (command, None)
            arguments = shlex.split(command) if isinstance(command, str) else command
            reply = client.call(arguments)
            transcript.append((" ".join(map(str, arguments)), rule(reply) if rule else reply))
        return transcript
    finally:
        client.close()


@pytest.mark.parametrize("commands", [
    pytest.param(commands, id=name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[name])]
                 if name in KNOWN_DIFFERENCES else [])
    for name, commands in CASES])
def test_replies_match_redis(reference_port, swiftcask_port, commands):
    assert run_case(swiftcask_port, commands) == run_case(reference_port, commands)


def test_known_differences_name_cases():
    names = {name for name, _ in CASES}
    assert len(names) == len(CASES), "case names must be unique"
    assert set(KNOWN_DIFFERENCES) <= names


def test_other_type_commands_get_a_clear_error(swiftcask_port):
    client = RespClient(swiftcask_port)
    try:
        for command in OTHER_TYPE_COMMANDS:
            arguments = shlex.split(command)
            assert client.call(arguments).startswith(OTHER_TYPE_ERROR % arguments[0].lower().encode()), command
        assert client.call(["PING"]) == b"+PONG\r\n"
    finally:
        client.close()


def test_keys_over_the_engine_limit_get_one_clear_error(swiftcask_port):
    client = RespClient(swiftcask_port)
    try:
        assert client.call(["SET", "small", "1"]) == b"+OK\r\n"
        error = b"-ERR key is too large (%d bytes, the limit is 65535)\r\n" % len(KEY_OVER_LIMIT)
        for command in (["SET", KEY_OVER_LIMIT, "v"], ["MSET", KEY_OVER_LIMIT, "v"], ["INCR", KEY_OVER_LIMIT],
                        ["APPEND", KEY_OVER_LIMIT, "v"], ["RENAME", "small", KEY_OVER_LIMIT],
                        ["COPY", "small", KEY_OVER_LIMIT]):
            assert client.call(command) == error, command[0]
        assert client.call(["DEL", "small"]) == b":1\r\n"
    finally:
        client.close()
