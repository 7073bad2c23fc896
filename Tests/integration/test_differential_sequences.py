"""Seeded random differential test: for each fixed seed, a few hundred random string and keyspace
commands, with WATCH and MULTI/EXEC, over six keys in two databases go to a real redis-server 7.0
and to swiftcask-server (one connection each, the same sequence, FLUSHALL first), and every raw
RESP reply must be equal.

The sequence is a pure function of the seed, so a failure names the seed and the step to replay.
Expiries are far in the future or in the past, never short, so no key expires while a sequence
runs; every future expiry is distinct (at least EXPIRY_SPACING_SECONDS from any other), so GT/LT
comparisons cannot depend on the few milliseconds between the two servers' replies. Only the
remaining-time replies of expiring keys are compared with a tolerance (`close_in_time`), KEYS and
SCAN in any order (`unordered`, `scanned_keys_unordered`)."""
import random
import re
from collections import namedtuple

import pytest

from test_redis_conformance import (EXPIRES_FAR, PAST, RespClient, elements, reference_port,  # noqa: F401
                                    scanned_keys_unordered, swiftcask_port, unordered)

STEPS_PER_SEED = 400
KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"]
VALUES = ["", "0", "-1", "1", "7", "3.5", "9223372036854775807", "-9223372036854775808", "abc", "hello",
          "1e3", " 1", "0x10", "foobar", "-0", "+1", "007", "1.0", "a\x00b", "9223372036854775808"]
INTEGERS = ["0", "1", "-1", "5", "100", "-100", "9223372036854775807", "-9223372036854775808",
            "-9223372036854775807", "99999999999999999999", "abc", "3.5", "", "+5", "05", " 5"]
FLOATS = ["0", "1", "-1", "0.1", "3.5", "-2.25", "1e3", "5.0e-2", "abc", "", "inf", "nan", "1.5x", "1e300",
          "-1e-5", "123456789.123456789", "9223372036854775807", "1.7976931348623157e308", "+.5", "-0"]
# Byte and bit offsets: small ones, and ones past the limits that fail before any allocation
# (SETRANGE's 512 MB, SETBIT's 2^32 bits). A valid offset near a limit would make both servers
# build, and the test read back, a value of hundreds of megabytes.
OFFSETS = ["0", "1", "3", "7", "15", "100", "1000", "-1", "536870912", "4294967296",
           "99999999999999999999", "abc"]
BIT_OFFSETS = ["0", "1", "3", "7", "15", "100", "1000", "-1", "4294967296", "99999999999999999999", "abc"]
RANGE_BOUNDS = ["0", "1", "2", "-1", "-2", "5", "-100", "100", "9223372036854775807", "-9223372036854775808",
                "abc"]
DATABASES = ["0", "1"]
INVALID_DATABASES = ["16", "-1", "abc", "2147483647", "4000000000", "-2147483649", "99999999999999999999"]
PATTERNS = ["*", "k?", "k[0-2]", "*1*", "k[^3]", "x*", "k\\1"]
SCAN_COUNT = "1000"             # larger than the keyspace: one SCAN step returns every key
EXPIRY_SPACING_SECONDS = 1000   # far more than a sequence takes, so distinct expiries never swap order
EXPIRY_SLOTS = 100_000
MULTI_PROBABILITY = 0.05
MULTI_END_PROBABILITY = 0.2
MALFORMED_PROBABILITY = 0.1
# Option names and odd values, inserted at random places by SequenceGenerator.malformed.
STRAY_WORDS = ["NX", "XX", "GT", "LT", "GET", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "PERSIST", "REPLACE", "DB",
               "LEN", "IDX", "MINMATCHLEN", "WITHMATCHLEN", "BIT", "BYTE", "MATCH", "COUNT", "TYPE", "FOO", "*",
               "0", "1", "-1", "", "abc", "4000000000", "k1"]
TRANSCRIPT_TAIL = 12


class Sequence(namedtuple("Sequence", "seed protocol most_at_once")):
    """One seeded run: its RESP version (RESP3 has maps for LCS IDX and `_` for nil) and how many
    commands at most go out in one pipelined write (the server prefetches a pipeline's keys)."""

    def __str__(self):
        return "seed %d, RESP%d, pipeline %d" % self


SEQUENCES = [Sequence(1, 2, 1), Sequence(2, 3, 1), Sequence(3, 2, 16), Sequence(4, 3, 16)]


class SequenceGenerator:
    """Random commands from one seed. Each future expiry takes a fresh slot, so no two are equal."""

    def __init__(self, seed):
        self.random = random.Random(seed)
        self.expiry_slots = self.random.sample(range(1, EXPIRY_SLOTS), STEPS_PER_SEED * 2)
        self.in_multi = False

    def pick(self, choices):
        return self.random.choice(choices)

    def key(self):
        return self.pick(KEYS)

    def value(self):
        return self.pick(VALUES)

    def distinct_future_seconds(self):
        return self.expiry_slots.pop() * EXPIRY_SPACING_SECONDS

    def time_argument(self, unit, absolute, past_allowed=True):
        """A relative or absolute time in seconds or milliseconds: mostly a distinct far future,
        sometimes already past, zero, negative, overflowing or not an integer."""
        scale = 1000 if unit == "ms" else 1
        kind = self.random.random()
        if kind < 0.7:
            seconds = self.distinct_future_seconds() + (EXPIRES_FAR if absolute else 0)
            return str(seconds * scale)
        if kind < 0.8:
            return str(PAST * scale) if absolute and past_allowed else "-1"
        if kind < 0.85:        # the edges of 64-bit milliseconds: valid absolute times, relative ones overflow
            edges = ["9223372036854775807", "9223372036854775000"] if unit == "ms" else ["9223372036854775"]
            return self.pick(edges + (["9000000000000000" + "000" * (unit == "ms")] if absolute else []))
        return self.pick(["0", "-5", "abc", "1.5", "9223372036854775807", "99999999999999999999", ""])

    def expiry_option(self):
        option = self.pick(["EX", "PX", "EXAT", "PXAT", "KEEPTTL"])
        if option == "KEEPTTL":
            return [option]
        # No SET … EXAT/PXAT in the past: Redis 7.0 stores that key and counts it in DBSIZE until its
        # expiry cycle (10 times a second) reclaims it, so Redis's own DBSIZE would depend on timing.
        return [option, self.time_argument("ms" if option.startswith("P") else "s", option.endswith("AT"),
                                           past_allowed=False)]

    def set_command(self):
        arguments = ["SET", self.key(), self.value()]
        options = []
        if self.random.random() < 0.4:
            options.append([self.pick(["NX", "XX"])])
        if self.random.random() < 0.3:
            options.append(["GET"])
        if self.random.random() < 0.5:
            options.append(self.expiry_option())
        if self.random.random() < 0.1:             # an invalid combination or a repeated option
            options.append(self.pick([["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["FOO"]] + [self.expiry_option()]))
        self.random.shuffle(options)
        return arguments + [word for option in options for word in option]

    def getex_command(self):
        arguments = ["GETEX", self.key()]
        roll = self.random.random()
        if roll < 0.7:
            option = self.pick(["EX", "PX", "EXAT", "PXAT", "PERSIST"])
            if option == "PERSIST":
                arguments.append(option)
            else:
                arguments += [option, self.time_argument("ms" if option.startswith("P") else "s",
                                                         option.endswith("AT"))]
        if roll > 0.9:
            arguments.append(self.pick(["PERSIST", "KEEPTTL", "EX", "FOO"]))
        return arguments

    def expire_command(self):
        name = self.pick(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
        arguments = [name, self.key(), self.time_argument("ms" if name.startswith("P") else "s",
                                                          name.endswith("AT"))]
        if self.random.random() < 0.5:
            arguments.append(self.pick(["NX", "XX", "GT", "LT"]))
        if self.random.random() < 0.05:
            arguments.append(self.pick(["NX", "XX", "GT", "LT", "FOO"]))
        return arguments

    def multi_key_pairs(self):
        pairs = []
        for _ in range(self.random.randint(1, 3)):
            pairs += [self.key(), self.value()]
        return pairs

    def lcs_command(self):
        arguments = ["LCS", self.key(), self.key()]
        options = self.random.sample([["LEN"], ["IDX"], ["WITHMATCHLEN"], ["MINMATCHLEN", self.pick(INTEGERS)]],
                                     self.random.randint(0, 2))
        return arguments + [word for option in options for word in option]

    def bitcount_command(self):
        arguments = ["BITCOUNT", self.key()]
        if self.random.random() < 0.6:
            arguments += [self.pick(RANGE_BOUNDS), self.pick(RANGE_BOUNDS)]
            if self.random.random() < 0.4:
                arguments.append(self.pick(["BYTE", "BIT", "FOO"]))
        return arguments

    def copy_command(self):
        arguments = ["COPY", self.key(), self.key()]
        if self.random.random() < 0.4:
            arguments += ["DB", self.pick(DATABASES * 3 + INVALID_DATABASES)]
        if self.random.random() < 0.4:
            arguments.append("REPLACE")
        return arguments

    def scan_command(self):
        # Cursors other than 0 name a place in each server's own table (Redis reads "-1" as 2^64-1),
        # so only the full scan from 0 and unparsable cursors are comparable.
        arguments = ["SCAN", self.pick(["0"] * 8 + ["abc", "1x"]), "COUNT", SCAN_COUNT]
        if self.random.random() < 0.3:
            arguments += ["MATCH", self.pick(PATTERNS)]
        if self.random.random() < 0.2:
            arguments += ["TYPE", self.pick(["string", "list"])]
        return arguments

    def keyspace_command(self):
        return self.pick([
            lambda: ["DEL"] + self.random.sample(KEYS, self.random.randint(1, 3)),
            lambda: ["UNLINK"] + self.random.sample(KEYS, self.random.randint(1, 3)),
            lambda: ["EXISTS"] + [self.key() for _ in range(self.random.randint(1, 3))],
            lambda: ["TOUCH"] + [self.key() for _ in range(self.random.randint(1, 3))],
            lambda: ["TYPE", self.key()],
            lambda: ["RENAME", self.key(), self.key()],
            lambda: ["RENAMENX", self.key(), self.key()],
            self.copy_command,
            lambda: ["MOVE", self.key(), self.pick(DATABASES * 3 + INVALID_DATABASES)],
            self.expire_command,
            self.expire_command,
            lambda: [self.pick(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]), self.key()],
            lambda: [self.pick(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]), self.key()],
            lambda: ["PERSIST", self.key()],
            lambda: ["DBSIZE"],
            lambda: ["KEYS", self.pick(PATTERNS)],
            self.scan_command,
            lambda: ["SELECT", self.pick(DATABASES * 6 + INVALID_DATABASES)],
            # A watch makes the next EXEC show whether each write in between touched the key.
            lambda: ["WATCH"] + [self.key() for _ in range(self.random.randint(1, 2))],
            lambda: ["UNWATCH"],
        ])()

    def string_command(self):
        return self.pick([
            lambda: ["GET", self.key()],
            self.set_command,
            self.set_command,
            self.set_command,
            lambda: ["SETNX", self.key(), self.value()],
            lambda: ["SETEX", self.key(), self.time_argument("s", False), self.value()],
            lambda: ["PSETEX", self.key(), self.time_argument("ms", False), self.value()],
            lambda: ["GETSET", self.key(), self.value()],
            lambda: ["GETDEL", self.key()],
            self.getex_command,
            lambda: ["MGET"] + [self.key() for _ in range(self.random.randint(1, 4))],
            lambda: ["MSET"] + self.multi_key_pairs(),
            lambda: ["MSETNX"] + self.multi_key_pairs(),
            lambda: ["APPEND", self.key(), self.value()],
            lambda: ["STRLEN", self.key()],
            lambda: ["GETRANGE", self.key(), self.pick(RANGE_BOUNDS), self.pick(RANGE_BOUNDS)],
            lambda: ["SETRANGE", self.key(), self.pick(OFFSETS), self.value()],
            lambda: [self.pick(["INCR", "DECR"]), self.key()],
            lambda: [self.pick(["INCRBY", "DECRBY"]), self.key(), self.pick(INTEGERS)],
            lambda: ["INCRBYFLOAT", self.key(), self.pick(FLOATS)],
            lambda: ["SETBIT", self.key(), self.pick(BIT_OFFSETS), self.pick(["0", "1", "1", "2", "x"])],
            lambda: ["GETBIT", self.key(), self.pick(OFFSETS)],
            self.bitcount_command,
            self.lcs_command,
        ])()

    def malformed(self, arguments):
        """Wrong arity, a repeated option or a stray word: drop the last argument, repeat the two
        before a random place, or insert one of STRAY_WORDS there."""
        roll = self.random.random()
        if roll < 0.3 and len(arguments) > 1:
            return arguments[:-1]
        if roll < 0.6 and len(arguments) > 2:
            place = self.random.randrange(2, len(arguments) + 1)
            return arguments[:place] + arguments[place - 2:place] + arguments[place:]
        place = self.random.randrange(1, len(arguments) + 1)
        return arguments[:place] + [self.pick(STRAY_WORDS)] + arguments[place:]

    def command(self):
        if self.in_multi and self.random.random() < MULTI_END_PROBABILITY:
            self.in_multi = False
            return [self.pick(["EXEC"] * 4 + ["DISCARD"])]
        if not self.in_multi and self.random.random() < MULTI_PROBABILITY:
            self.in_multi = True
            return ["MULTI"]
        arguments = self.string_command() if self.random.random() < 0.6 else self.keyspace_command()
        return self.malformed(arguments) if self.random.random() < MALFORMED_PROBABILITY else arguments

    def sequence(self):
        commands = [self.command() for _ in range(STEPS_PER_SEED)]
        if self.in_multi:
            commands.append(["EXEC"])
        return commands


# --- comparison rules: each takes (ours, theirs) and returns the pair to compare ---

def each(rule):
    """A rule for one reply, applied to both when both are arrays (errors compare as they are)."""
    def pair_rule(ours, theirs):
        if ours.startswith(b"*") and theirs.startswith(b"*"):
            return rule(ours), rule(theirs)
        return ours, theirs
    return pair_rule


def close_in_time(tolerance):
    """TTL, PTTL, EXPIRETIME, PEXPIRETIME: a relative expiry is set a moment apart on the two servers,
    so positive replies are equal when they differ by at most `tolerance` units."""
    def pair_rule(ours, theirs):
        times = [re.fullmatch(rb":(\d+)\r\n", reply) for reply in (ours, theirs)]
        if all(times) and abs(int(times[0].group(1)) - int(times[1].group(1))) <= tolerance:
            return b":<close>\r\n", b":<close>\r\n"
        return ours, theirs
    return pair_rule


RULES = {
    "TTL": close_in_time(2), "EXPIRETIME": close_in_time(2),
    "PTTL": close_in_time(2000), "PEXPIRETIME": close_in_time(2000),
    "KEYS": each(unordered),
    "SCAN": each(scanned_keys_unordered),
}


def normalised(arguments, ours, theirs, queued):
    """The pair of replies to compare; an EXEC's elements each by the rule of its queued command."""
    name = arguments[0].upper()
    if name == "EXEC" and ours.startswith(b"*") and theirs.startswith(b"*"):
        (our_header, our_items), (their_header, their_items) = elements(ours), elements(theirs)
        if len(our_items) != len(their_items) or len(our_items) != len(queued):
            return ours, theirs
        pairs = [normalised(command, mine, reference, []) for command, mine, reference
                 in zip(queued, our_items, their_items)]
        return (our_header + b"".join(mine for mine, _ in pairs),
                their_header + b"".join(reference for _, reference in pairs))
    rule = RULES.get(name)
    return rule(ours, theirs) if rule else (ours, theirs)


def describe(arguments):
    return " ".join(repr(argument) if argument == "" or " " in argument else argument for argument in arguments)


def test_sequence_generation_is_deterministic():
    assert SequenceGenerator(SEQUENCES[0].seed).sequence() == SequenceGenerator(SEQUENCES[0].seed).sequence()


def batches(seed, commands, most_at_once):
    """The commands cut into pipelined batches of 1 to `most_at_once`, a pure function of the seed."""
    sizes = random.Random(-seed)
    start = 0
    while start < len(commands):
        size = sizes.randint(1, most_at_once)
        yield start, commands[start:start + size]
        start += size


def first_mismatch(our_port, reference_port, sequence):
    """Runs the sequence on both servers; the first difference, described, or None."""
    commands = SequenceGenerator(sequence.seed).sequence()
    ours, theirs = RespClient(our_port), RespClient(reference_port)
    try:
        for client in (ours, theirs):
            hello = client.call(["HELLO", sequence.protocol])
            assert hello.startswith(b"%" if sequence.protocol == 3 else b"*"), hello
            assert client.call(["FLUSHALL"]) == b"+OK\r\n"
            assert client.call(["SELECT", "0"]) == b"+OK\r\n"
        queued, in_multi = [], False
        for start, batch in batches(sequence.seed, commands, sequence.most_at_once):
            reference_replies = theirs.call_pipelined(batch)
            our_replies = ours.call_pipelined(batch)
            for step, arguments, our_reply, reference_reply in zip(
                    range(start, start + len(batch)), batch, our_replies, reference_replies):
                compared_ours, compared_theirs = normalised(arguments, our_reply, reference_reply, queued)
                if compared_ours != compared_theirs:
                    recent = "\n".join("  %d: %s" % (index, describe(command)) for index, command
                                       in enumerate(commands[:step + 1]) if index > step - TRANSCRIPT_TAIL)
                    return ("%s, step %d: %s\n  swiftcask: %r\n  redis:     %r\nlast commands:\n%s"
                            % (sequence, step, describe(arguments), our_reply, reference_reply, recent))
                name = arguments[0].upper()
                if name == "MULTI" and reference_reply == b"+OK\r\n":
                    queued, in_multi = [], True
                elif in_multi and reference_reply == b"+QUEUED\r\n":
                    queued.append(arguments)
                elif in_multi and name in ("EXEC", "DISCARD"):
                    queued, in_multi = [], False
        return None
    finally:
        ours.close()
        theirs.close()


@pytest.mark.parametrize("sequence", SEQUENCES, ids=str)
def test_random_sequences_match_redis(reference_port, swiftcask_port, sequence):  # noqa: F811
    mismatch = first_mismatch(swiftcask_port, reference_port, sequence)
    if mismatch:
        pytest.fail(mismatch, pytrace=False)
