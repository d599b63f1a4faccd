#!/usr/bin/env python3
"""The WebSocket mock's own send rate, for bench/cases/stream.sh: a client
that does no work (no JSON parsing, no storage) subscribes to the Bybit
mock, asks it for a burst and reads frames until the burst's last one.

    ws_drain.py WS_URL CONTROL_URL KIND COUNT PER_FRAME

Prints "<frames> <seconds>": the burst's frames and the time from asking
for it to receiving its last byte, less the time the mock spent encoding
the frames before it sent the first one.  Standard library only.
"""
import base64
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request


def send_masked(sock, text):
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
    sock.sendall(head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(data)))


def read_frame(f):
    b0, b1 = f.read(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", f.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", f.read(8))[0]
    return b0 & 0x0F, f.read(n)


def main():
    ws_url, control, kind, count, per = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    u = urllib.parse.urlparse(ws_url + "/bybit/v5/public/linear")
    sock = socket.create_connection((u.hostname, u.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (u.path, u.hostname, u.port, key)).encode())
    f = sock.makefile("rb", buffering=1 << 20)
    while f.readline() not in (b"\r\n", b""):
        pass
    topic = "publicTrade.BTCUSDT" if kind == "trades" else "orderbook.50.BTCUSDT"
    send_masked(sock, json.dumps({"op": "subscribe", "args": [topic]}))
    while b'"success"' not in read_frame(f)[1]:
        pass
    if kind == "deltas":
        read_frame(f)           # the book snapshot
    want = (count + per - 1) // per if kind == "trades" else count
    marker = b'"topic":"publicTrade' if kind == "trades" else b'"type":"delta"'

    answer = {}

    def ask():
        req = urllib.request.Request(control + "/action", method="POST",
                                     data=json.dumps({"venue": "bybit", "action": "burst", "kind": kind,
                                                      "count": count, "per_frame": per}).encode(),
                                     headers={"Content-Type": "application/json"})
        answer.update(json.loads(urllib.request.urlopen(req).read()))

    t0 = time.monotonic()
    threading.Thread(target=ask, daemon=True).start()
    got = 0
    while got < want:
        _, payload = read_frame(f)
        if marker in payload:
            got += 1
    t1 = time.monotonic()
    while "build_seconds" not in answer and time.monotonic() < t1 + 30:
        time.sleep(0.01)
    print(got, "%.4f" % (t1 - t0 - answer.get("build_seconds", 0.0)))
    sock.close()


if __name__ == "__main__":
    main()
