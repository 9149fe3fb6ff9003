"""A stand-alone RFC 5425 collector (syslog over TLS, octet-counted frames) for end-to-end SIEM runs.

Run as a process of its own so that it can be killed (SIGKILL) mid-stream like a real collector:

    python benchmarks/syslog_receiver.py --port 6514 --cert c.pem --key c.key --out received.jsonl [--slow 0.01]

Each complete frame is appended to ``--out`` as one JSON line ``{"conn": N, "len": L, "msg": "..."}`` and flushed
at once, so what the file holds is exactly what the collector took in before it died. A frame that breaks
RFC 5425 (a length that is not digits, starts with 0, or does not match the octets) is written as
``{"conn": N, "bad": "..."}`` and the connection is dropped. ``--slow`` sleeps that many seconds per read of at most
``--chunk`` bytes, a collector that falls behind (the sender's socket buffers fill).
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import sys
import time
from typing import IO


def read_frames(tls: ssl.SSLSocket, out: IO[str], conn: int, slow: float, chunk: int) -> None:
    buffer = b""
    while True:
        if slow:
            time.sleep(slow)
        data = tls.recv(chunk)
        if not data:
            if buffer:
                out.write(json.dumps({"conn": conn, "bad": f"{len(buffer)} octets left at close"}) + "\n")
                out.flush()
            return
        buffer += data
        while True:
            length_text, space, rest = buffer.partition(b" ")
            if not space:
                if len(buffer) > 10:  # MSG-LEN is at most 10 digits here
                    raise ValueError("no SP after MSG-LEN")
                break
            if not length_text.isdigit() or length_text.startswith(b"0"):
                raise ValueError(f"MSG-LEN {length_text[:20]!r} is not a NONZERO-DIGIT *DIGIT")
            length = int(length_text)
            if len(rest) < length:
                break
            text = rest[:length].decode("utf-8")
            out.write(json.dumps({"conn": conn, "len": length, "msg": text}, ensure_ascii=False) + "\n")
            out.flush()
            buffer = rest[length:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--chunk", type=int, default=65536)
    args = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.port))
    server.listen(5)
    print(f"listening on {server.getsockname()[1]}", flush=True)
    conn = 0
    with open(args.out, "a", encoding="utf-8") as out:
        while True:
            raw, _ = server.accept()
            conn += 1
            try:
                with context.wrap_socket(raw, server_side=True) as tls:
                    read_frames(tls, out, conn, args.slow, args.chunk)
            except (ssl.SSLError, OSError, ValueError, UnicodeDecodeError) as exc:
                out.write(json.dumps({"conn": conn, "bad": f"{type(exc).__name__}: {exc}"}) + "\n")
                out.flush()


if __name__ == "__main__":
    sys.exit(main())
