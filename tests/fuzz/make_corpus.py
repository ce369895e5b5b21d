#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/): one
valid input of every kind, so the fuzzer starts behind the length and type
checks. Run it again when the wire format changes (docs/protocol.md)."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def header(ptype, flags=0, n_sack=0, payload=b"", msg_len=None, frag_off=0):
    # version, type, flags, n_sack, src_epoch, dst_sid, src_sid, psn, ack,
    # rwnd, payload_len, echo_hops, reserved, msg_id, msg_len, frag_off, ts,
    # ts_echo, echo_delay, crc (the fuzzer seals it: mode bit 0)
    if msg_len is None:
        msg_len = len(payload)
    h = struct.pack("<BBBBIQQIIIHBBQIIQQII", 1, ptype, flags, n_sack, 7, 0x1234560000000001,
                    0x6543210000000002, 100, 90, 256, len(payload), 1, 0, 3, msg_len, frag_off,
                    123456789, 123450000, 2000, 0)
    assert len(h) == 80
    sacks = b"".join(struct.pack("<II", 95 + 2 * i, 96 + 2 * i) for i in range(n_sack))
    return h + sacks + payload


SEALED = b"\x01"        # mode: the target writes a valid CRC
UNCHECKED = b"\x02"     # mode: as from a link that checked it (NO_CRC allowed)
handshake = struct.pack("<IIIHH", 1000, 256, 64 << 20, 0, 1)
put("wire", "data", SEALED + header(1, payload=b"x" * 48))
put("wire", "data-frag", SEALED + header(1, payload=b"y" * 100, msg_len=3000, frag_off=1400))
put("wire", "data-no-crc", UNCHECKED + header(1, flags=4, payload=b"z" * 16))
put("wire", "ack-sack", SEALED + header(2, n_sack=3))
put("wire", "syn", SEALED + header(3, payload=handshake))
put("wire", "syn-ack", SEALED + header(4, payload=handshake))
put("wire", "close", SEALED + header(5))
put("wire", "rst", SEALED + header(6))

clock = struct.pack("<Q", 5_000_000_000_000)
put("rpc_hdr", "request", struct.pack("<BBHIQ", 1, 0, 7, 5_000_100, 42) + clock + b"args")
put("rpc_hdr", "request-no-deadline", struct.pack("<BBHIQ", 1, 0, 7, 0, 43) + clock)
put("rpc_hdr", "response", struct.pack("<BBHIQ", 2, 0, 7, 0, 42) + b"answer")
put("rpc_hdr", "response-error", struct.pack("<BBHIQ", 2, 0, 7, 2, 42) + struct.pack("<i", 42))
put("rpc_hdr", "cancel", struct.pack("<BBHIQ", 3, 0, 0, 0, 42))
