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


def hint(entries, segment_id=7, segment_bytes=4096):
    body = b""
    for offset, value_length, expires, flags, keyspace, key in entries:
        body += struct.pack("<IIqHBB", offset, value_length, expires, len(key), flags, keyspace) + key
    header = struct.pack("<QHHIQQ", 0x5448_4B53_4143_5753, 1, 32, len(entries), segment_id, segment_bytes)
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

    entries = [(32, 5, 0, 0, 0, b"key"), (60, 0, 0, 1, 0, b"gone"), (84, 1, 1_700_000_000_000, 6, 1, b"c")]
    size = struct.pack("<I", 4096)
    write("hint", "valid", b"\x00" + size + hint(entries))
    write("hint", "empty", b"\x00" + size + hint([]))
    write("hint", "outside", b"\x00" + struct.pack("<I", 40) + hint(entries, segment_bytes=40))
    write("hint", "fixup", b"\x01" + size + hint(entries)[:-9] + b"\x00" * 4)
    write("hint", "long-key", b"\x01" + size + hint([(32, 1, 0, 0, 0, b"k" * 300)]))

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
