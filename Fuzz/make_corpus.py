#!/usr/bin/env python3
"""Writes the seed corpus under Fuzz/corpus/ (committed; rerun after a format change).
Formats: docs/FORMAT.md. Each file starts with the target's mode byte."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def record(key, value, flags=0, keyspace=0, expires=0):
    body = struct.pack("<BBHIq", flags, keyspace, len(key), len(value), expires) + key + value
    return struct.pack("<I", crc32c(body)) + body


def hint(entries, segment_id=7, segment_bytes=4096, seed=0x5EED, sorted_by_hash=True):
    """Hint version 2; entries are (hash, offset, valueLength, expiresAt, flags, keyspace, keyLength)."""
    body = b""
    for hash_, offset, value_length, expires, flags, keyspace, key_length in entries:
        body += struct.pack("<IIIHBBq", hash_, offset, value_length, key_length, flags, keyspace, expires)
    header = struct.pack("<QHHIQQQQ", 0x5448_4B53_4143_5753, 2, 48, len(entries), segment_id, segment_bytes,
                         seed, 1 if sorted_by_hash else 0)
    data = header + body
    return data + struct.pack("<I", crc32c(data))


def write(kind, name, data):
    directory = os.path.join(HERE, "corpus", kind)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as handle:
        handle.write(data)


def main():
    plain = record(b"key", b"value")
    batch = record(b"a", b"1", flags=2) + record(b"b", b"2", flags=2) + record(b"c", b"3", flags=6)
    tombstone = record(b"gone", b"", flags=1)
    expiring = record(b"ttl", b"v" * 40, keyspace=3, expires=1_700_000_000_000)
    cleared = record(b"", b"", flags=8, keyspace=2)
    write("record", "plain", b"\x00" + plain)
    write("record", "sequence", b"\x00" + plain + batch + tombstone + expiring + cleared + b"\x00" * 20)
    write("record", "torn", b"\x00" + plain + batch[:-3])
    write("record", "bad-crc", b"\x00" + plain[:-1] + b"X")
    write("record", "unsealed", b"\x01" + b"\x00" * 4 + bytes([2, 0, 3, 0, 2, 0, 0, 0]) + b"\x00" * 8 + b"abcxy")
    write("record", "reserved-flags", b"\x01" + record(b"k", b"v", flags=0x80))
    write("record", "huge-length", b"\x01" + b"\x00" * 4 + bytes([0, 0, 255, 255, 255, 255, 255, 255]) + b"\x00" * 8)

    entries = [(0x10, 32, 5, 0, 0, 0, 3), (0x20, 60, 0, 0, 1, 0, 4), (0x30, 84, 1, 1_700_000_000_000, 6, 1, 1)]
    size = struct.pack("<I", 4096)
    write("hint", "valid", b"\x00" + size + hint(entries))
    write("hint", "empty", b"\x00" + size + hint([]))
    write("hint", "outside", b"\x00" + struct.pack("<I", 40) + hint(entries, segment_bytes=40))
    write("hint", "fixup", b"\x01" + size + hint(entries)[:-9] + b"\x00" * 4)
    write("hint", "unsorted", b"\x00" + size + hint(list(reversed(entries))))
    write("hint", "clear-in-record-order", b"\x00" + size + hint([(0x30, 32, 0, 0, 8, 2, 0), (0x10, 52, 5, 0, 0, 0, 3)], sorted_by_hash=False))
    write("hint", "version-1", b"\x00" + size + hint(entries)[:8] + b"\x01\x00" + hint(entries)[10:])

    write("resp", "set", b"\x00*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
    write("resp", "pipeline", b"\x08" + b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" * 3 + b"*1\r\n$4\r\nPING\r\n")
    write("resp", "inline", b"\x10PING\r\nSET a \"b c\" 'd'\r\n\r\nECHO x\n")
    write("resp", "empty-bulk", b"\x00*2\r\n$4\r\nECHO\r\n$0\r\n\r\n")
    write("resp", "unauthenticated", b"\x01*11\r\n" + b"$1\r\nx\r\n" * 11)
    write("resp", "big-bulk", b"\x02*2\r\n$3\r\nSET\r\n$100\r\n" + b"x" * 100 + b"\r\n")
    write("resp", "bad-length", b"\x00*2\r\n$-5\r\nab\r\n")
    write("resp", "negative-count", b"\x00*-1\r\n*0\r\n")
    write("resp", "missing-crlf", b"\x00*1\r\n$4\r\nPINGxx")
    write("resp", "unbalanced-quotes", b"\x00SET \"abc\r\n")


if __name__ == "__main__":
    main()
