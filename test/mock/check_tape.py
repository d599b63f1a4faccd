#!/usr/bin/env python3
"""Self-check of the trade tape (test/mock/tape.py) across both mocks.

Starts the REST mock (mock_exchange.py) and the WebSocket mock (ws_mock.py)
on free ports as subprocesses, as test/services/*.sh do, and checks:

    * a 2000-trade tape at 2000/s on binance BTCUSDT: two clients on
      /binance/market/stream subscribed to btcusdt@aggTrade, the second one
      dropped halfway with the drop action's "path"; the survivor gets every
      aggregate trade id once, in order, the dropped one a prefix of them; a
      /public/stream client outlives the drop; tape_status says all 2000 were
      generated and counts what each session was sent;
    * REST aggTrades of the same tape: fromId paging gives all 2000 with the
      frames' a, p, q, f, l, T, m; startTime/endTime exactly the window; no
      parameters the newest 500; a window over an hour -1127; an injected
      fault (/_mock/faults) hits aggTrades;
    * the same on bybit: a publicTrade.BTCUSDT client gets every trade once,
      and recent-trade serves the newest ones newest first with the frames'
      values (execId = i, price = p, size = v, side = S, time = T);
    * the generator's achieved rate for a 20000/s tape of 100000 trades with
      one client reading (printed; it must keep up within 3 %).

The WebSocket client is written here from RFC 6455 (handshake, masked
client frames).  Prints "N passed, M failed"; exits 1 on a failure.
Standard library only:  python3 test/mock/check_tape.py
"""

import base64
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - " + what)
    else:
        failed += 1
        print("not ok - " + what + (("\n#   " + str(detail)[:600]) if detail else ""))


def now_ms():
    return int(time.time() * 1000)


# ---- the mocks ----

def start(script, tmp, name):
    port_file = os.path.join(tmp, name + ".port")
    log = open(os.path.join(tmp, name + ".log"), "w")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, script), "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(100):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            with open(port_file) as f:
                return proc, int(f.read())
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("%s did not start; see %s" % (script, log.name))


def http(method, url, body=None):
    """(status, parsed JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


# ---- a tiny RFC 6455 client ----

class Client:
    """Connects to ws://127.0.0.1:port + path; a reader thread keeps every text frame
    (as bytes) with its arrival time, or only counts them (keep=False)."""

    def __init__(self, port, path, keep=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (path, port, key)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            buf += chunk
        head, _, self.buf = buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.decode("latin-1"))
        self.sock.settimeout(None)
        self.keep = keep
        self.frames = []            # (arrival time, payload bytes)
        self.count = 0
        self.first_t = self.last_t = None
        self.closed = False
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def send(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(payload)
        head = struct.pack("!BB", 0x81, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x81, 0xFE, n)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def read(self):
        buf = bytearray(self.buf)
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
                t = time.monotonic()
                pos, end, got = 0, len(buf), []
                while end - pos >= 2:
                    b1 = buf[pos + 1] & 0x7F
                    h = 2
                    if b1 == 126:
                        if end - pos < 4:
                            break
                        n, h = struct.unpack_from("!H", buf, pos + 2)[0], 4
                    elif b1 == 127:
                        if end - pos < 10:
                            break
                        n, h = struct.unpack_from("!Q", buf, pos + 2)[0], 10
                    else:
                        n = b1
                    if end - pos < h + n:
                        break
                    if buf[pos] & 0x0F == 0x1:
                        got.append(bytes(buf[pos + h:pos + h + n]) if self.keep else None)
                    pos += h + n
                del buf[:pos]
                if got:
                    with self.cond:
                        if self.first_t is None:
                            self.first_t = t
                        self.last_t = t
                        self.count += len(got)
                        if self.keep:
                            self.frames.extend((t, g) for g in got)
                        self.cond.notify_all()
        except OSError:
            pass
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def messages(self):
        with self.cond:
            return [json.loads(p) for _, p in self.frames]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def binance_trades(client):
    return [m["data"] for m in client.messages() if m.get("data", {}).get("e") == "aggTrade"]


def bybit_trades(client):
    return [t for m in client.messages() if str(m.get("topic", "")).startswith("publicTrade.") for t in m["data"]]


def wait_done(ctl, venue, timeout=30):
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        _, st = http("POST", ctl + "/action", {"venue": venue, "action": "tape_status"})
        if st.get("done"):
            break
        time.sleep(0.05)
    return st


def main():
    tmp = tempfile.mkdtemp(prefix="check_tape.")
    rest_p, rest_port = start("mock_exchange.py", tmp, "mock")
    ws_p, ws_port = start("ws_mock.py", tmp, "ws_mock")
    rest = "http://127.0.0.1:%d" % rest_port
    ctl = "http://127.0.0.1:%d/_ws" % ws_port
    try:
        run(rest, ctl, ws_port)
    finally:
        for p in (ws_p, rest_p):
            p.terminate()
            p.wait(5)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def run(rest, ctl, ws_port):
    N, RATE, START = 2000, 2000, 7000000001

    # ---- the clients ----
    a = Client(ws_port, "/binance/market/stream")
    b = Client(ws_port, "/binance/market/stream?client=b")
    pub = Client(ws_port, "/binance/public/stream")
    y = Client(ws_port, "/bybit/v5/public/linear")
    for c in (a, b):
        c.send({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1})
    pub.send({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1})
    y.send({"op": "subscribe", "args": ["publicTrade.BTCUSDT"]})
    acks = [c.wait(lambda c: c.count >= 1) for c in (a, b, pub, y)]
    check(all(acks), "four clients connected and subscribed", acks)

    # ---- the tapes, the same parameters to both mocks ----
    t0 = now_ms() + 400
    for venue in ("binance", "bybit"):
        spec = {"venue": venue, "symbol": "BTCUSDT", "count": N, "rate": RATE, "start_id": START, "t0_ms": t0}
        st, out = http("POST", rest + "/_mock/tape", spec)
        check(st == 200 and out.get("ok"), "REST mock: %s tape registered" % venue, out)
        st, out = http("POST", ctl + "/action", dict(spec, action="tape"))
        check(st == 200 and out.get("started") is True, "WS mock: %s tape started at once" % venue, out)
    st, out = http("POST", rest + "/_mock/tape", {"venue": "binance", "symbol": "BTCUSDT", "count": 1, "rate": 1})
    check(st == 400, "REST mock: a tape without t0_ms is refused", out)
    st, out = http("POST", ctl + "/action", {"venue": "kucoin", "action": "tape", "symbol": "XBTUSDTM",
                                             "count": 1, "rate": 1})
    check(st == 400, "WS mock: no tape for a venue without one", out)

    # ---- halfway: drop client b by its path; REST sees only what exists ----
    a.wait(lambda c: len(c.frames) >= 1 + N // 2, timeout=10)
    st, out = http("POST", ctl + "/action", {"venue": "binance", "action": "drop", "path": "client=b"})
    check(out == {"dropped": 1}, "drop with a path drops only the session whose path contains it", out)
    before = now_ms()
    st, mid = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT&limit=1000")
    after = now_ms()
    check(st == 200 and 0 < len(mid) <= 1000 and mid[-1]["T"] <= after and mid[-1]["a"] < START + N - 1,
          "REST mid-tape: only trades that exist by now (T <= now, not the last yet)",
          (len(mid), mid[-1] if mid else None, before, after))
    _, status = http("GET", ctl + "/status")
    check(status["binance"]["sessions"] == 2, "the other /market/stream and the /public/stream sessions stay open",
          status["binance"]["sessions"])

    bst = wait_done(ctl, "binance")
    yst = wait_done(ctl, "bybit")
    a.wait(lambda c: len(binance_trades(c)) >= N, timeout=5)
    y.wait(lambda c: len(bybit_trades(c)) >= N, timeout=5)

    # ---- binance over the stream ----
    ws_a = binance_trades(a)
    ws_b = binance_trades(b)
    ids_a = [d["a"] for d in ws_a]
    check(ids_a == list(range(START, START + N)), "the surviving client got every aggregate trade id once, in order",
          (len(ids_a), ids_a[:3], ids_a[-3:]))
    check(0 < len(ws_b) < N and [d["a"] for d in ws_b] == list(range(START, START + len(ws_b))),
          "the dropped client got a prefix (%d trades)" % len(ws_b))
    check(all(d["s"] == "BTCUSDT" and d["E"] >= d["T"] for d in ws_a), "frames: s, E >= T")
    check(bst.get("generated") == N and bst.get("done") is True and bst.get("count") == N,
          "tape_status: all %d generated, done" % N, bst)
    dl = bst.get("delivered", {})
    check(dl.get("/binance/market/stream#1") == N and dl.get("/binance/market/stream?client=b#2") == len(ws_b)
          and len(dl) == 2, "tape_status: delivered per session (path#connection)", dl)
    print("# binance tape max lag %s ms" % bst.get("max_lag_ms"))

    # ---- binance over REST ----
    keys = ("a", "p", "q", "f", "l", "T", "m")
    by_ws = [tuple(d[k] for k in keys) for d in ws_a]
    got, from_id, pages = [], START, 0
    while pages < 10:
        st, page = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=%d&limit=1000" % from_id)
        if st != 200 or not page:
            break
        got += page
        from_id = page[-1]["a"] + 1
        pages += 1
    check([tuple(d[k] for k in keys) for d in got] == by_ws and pages == 2,
          "REST fromId paging: all %d trades in order with the frames' a, p, q, f, l, T, m" % N,
          (len(got), pages, got[:1], by_ws[:1]))
    check(all(len(d["p"].split(".")[1]) == 20 for d in got), "prices have 20 decimals")
    ts, te = ws_a[300]["T"], ws_a[701]["T"]
    want = [d["a"] for d in ws_a if ts <= d["T"] <= te]
    st, win = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT&startTime=%d&endTime=%d&limit=1000"
                   % (ts, te))
    check(st == 200 and [d["a"] for d in win] == want and len(want) > 400,
          "REST startTime/endTime: exactly the trades with T in the window (%d)" % len(want),
          ([d["a"] for d in win][:3], want[:3], len(win)))
    st, win = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT&startTime=%d&endTime=%d&limit=10"
                   % (ts, te))
    check([d["a"] for d in win] == want[:10], "REST window with limit 10: its first 10")
    st, last = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT")
    check(st == 200 and [d["a"] for d in last] == list(range(START + N - 500, START + N)),
          "REST without fromId/startTime: the newest 500, ascending")
    st, e = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT&startTime=%d&endTime=%d"
                 % (t0, t0 + 3600000))
    check(st == 400 and e.get("code") == -1127, "REST: a window of an hour is refused (-1127)", (st, e))
    st, e = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=%d" % (START + N))
    check(st == 200 and e == [], "REST: fromId past the tape: empty")
    http("POST", rest + "/_mock/faults", {"venue": "binance", "path": "aggTrades", "kind": "status", "status": 503})
    st1, _ = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=%d" % START)
    st2, _ = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=%d" % START)
    check((st1, st2) == (503, 200), "an injected fault hits aggTrades once", (st1, st2))
    st, other = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=ETHUSDT&limit=2")
    check(st == 200 and len(other) == 2 and other[0]["a"] < START, "a symbol without a tape keeps its generated history")

    # ---- bybit ----
    ws_y = bybit_trades(y)
    ids_y = [t["i"] for t in ws_y]
    check(len(ws_y) == N and len(set(ids_y)) == N and [t["seq"] for t in ws_y] == sorted(t["seq"] for t in ws_y),
          "bybit: the client got all %d trades once, in order" % N, len(ws_y))
    check(all(len(i) == 36 and i[14] == "5" for i in ids_y), "bybit ids look like UUIDs", ids_y[:2])
    check(yst.get("generated") == N and yst.get("done") is True and
          yst.get("delivered") == {"/bybit/v5/public/linear#1": N}, "bybit tape_status", yst)
    st, rt = http("GET", rest + "/bybit/v5/market/recent-trade?category=linear&symbol=BTCUSDT&limit=1000")
    rows = rt["result"]["list"] if st == 200 and rt.get("retCode") == 0 else []
    want = [(t["i"], t["p"], t["v"], t["S"], str(t["T"]), "BTCUSDT") for t in reversed(ws_y[-1000:])]
    check([(r["execId"], r["price"], r["size"], r["side"], r["time"], r["symbol"]) for r in rows] == want
          and all(r["isBlockTrade"] is False for r in rows),
          "bybit recent-trade limit 1000: the newest 1000 newest first, with the frames' values", rows[:1])
    st, rt = http("GET", rest + "/bybit/v5/market/recent-trade?category=linear&symbol=BTCUSDT")
    check(len(rt["result"]["list"]) == 500 and rt["result"]["list"][0]["execId"] == ids_y[-1],
          "bybit recent-trade default limit: 500")
    for c in (a, b, pub, y):
        c.close()

    # ---- throughput: 100000 trades at 20000/s, one client reading ----
    n, rate = 100000, 20000
    fast = Client(ws_port, "/binance/market/stream", keep=False)
    fast.send({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1})
    fast.wait(lambda c: c.count >= 1)
    with fast.cond:                 # count from the first trade on, not the acknowledgement
        fast.count, fast.first_t, fast.last_t = 0, None, None
    http("POST", ctl + "/action", {"venue": "binance", "action": "tape", "symbol": "BTCUSDT", "count": n,
                                   "rate": rate, "t0_ms": now_ms() + 300})
    fast.wait(lambda c: c.count >= n, timeout=n / rate * 3 + 5)
    st = wait_done(ctl, "binance")
    got = fast.count
    span = (fast.last_t - fast.first_t) if got > 1 else 0
    # from the arrival of trade 0 to that of trade n-1: (n-1) / rate seconds when on time
    achieved = (n - 1) / span if span > 0 else 0
    print("# generator: %d trades at %d/s nominal: achieved %.0f trades/s (%.1f %%), max lag %s ms"
          % (got, rate, achieved, 100.0 * achieved / rate, st.get("max_lag_ms")))
    check(got == n and st.get("done"), "20000/s: the client got all %d trades" % n, (got, st))
    check(achieved >= rate * 0.97, "20000/s: the generator keeps up within 3 %% (%.0f/s)" % achieved)
    fast.close()


if __name__ == "__main__":
    main()
