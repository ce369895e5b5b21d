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
handshake = struct.pack("<IIIHHII", 1000, 256, 64 << 20, 0, 1, 1392, 1000)
put("wire", "data", SEALED + header(1, payload=b"x" * 48))
put("wire", "data-frag", SEALED + header(1, payload=b"y" * 100, msg_len=3000, frag_off=1400))
put("wire", "data-no-crc", UNCHECKED + header(1, flags=4, payload=b"z" * 16))
put("wire", "ack-sack", SEALED + header(2, n_sack=3))
put("wire", "syn", SEALED + header(3, payload=handshake))
put("wire", "syn-ack", SEALED + header(4, payload=handshake))
put("wire", "close", SEALED + header(5))
put("wire", "rst", SEALED + header(6))
put("wire", "cookie", SEALED + header(7))

clock = struct.pack("<Q", 5_000_000_000_000)
put("rpc_hdr", "request", struct.pack("<BBHIQ", 1, 0, 7, 5_000_100, 42) + clock + b"args")
put("rpc_hdr", "request-no-deadline", struct.pack("<BBHIQ", 1, 0, 7, 0, 43) + clock)
put("rpc_hdr", "response", struct.pack("<BBHIQ", 2, 0, 7, 0, 42) + b"answer")
put("rpc_hdr", "response-error", struct.pack("<BBHIQ", 2, 0, 7, 2, 42) + struct.pack("<i", 42))
put("rpc_hdr", "cancel", struct.pack("<BBHIQ", 3, 0, 0, 0, 42))


def record(op, to_client=False, bad_dst=False, bad_src=False, bad_epoch=False, psn=0, ack=0, rwnd=64,
           msg=0, msg_len=0, frag_off=0, payload=0, n_sack=0, fill=0x41, real=False):
    """One packet of fuzz_session's input (see the target for the layout)."""
    flags1 = (1 if to_client else 0) | (2 if bad_dst else 0) | (4 if bad_src else 0) | (8 if bad_epoch else 0)
    return struct.pack("<BBBBBhbBBHHHBBBB", (op - 1) | (0x80 if real else 0), flags1, 0, 1, 1, psn, ack, rwnd,
                       msg, msg_len, frag_off, payload, n_sack, 0, 0, fill)


put("session", "real-messages", record(1, real=True, psn=200, msg_len=0) * 4)
put("session", "overlap", record(1, msg_len=2800, payload=1400) + record(1, psn=1, msg_len=2800, payload=1400))
put("session", "fragments", record(1, msg_len=2800, payload=1400)
    + record(1, psn=1, msg_len=2800, frag_off=1400, payload=1400))
put("session", "forged-rst", record(6, bad_src=True) + record(6, to_client=True) + record(1, real=True, psn=300))
put("session", "sack-ack", record(2, n_sack=3, ack=1, real=True) + record(2, to_client=True, n_sack=2))
put("session", "out-of-window", record(1, psn=5000, msg_len=100, payload=100) + record(1, bad_epoch=True, msg_len=10, payload=10))
put("session", "cookies", record(7, to_client=True) + record(7) + record(3, real=True) + record(1, real=True, psn=100))
