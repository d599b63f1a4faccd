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
    * the same on paradex (market BTC-USD-PERP): two clients on /paradex/v1,
      one at sbeSchemaVersion 1 and one at 0, subscribed to
      trades.BTC-USD-PERP, each get every trade once, in order, as one SBE
      TradeEvent a binary frame (decoded here from the schema's layout) in
      their own schema version, with the tape's id (19 digits, not
      sequential), price, size, side and createdAt (µs); REST /v1/trades
      pages a start_at/end_at window newest first with the "next" cursor and
      gives exactly the window's trades with the frames' values (id, price,
      size, side, created_at in ms), the whole tape the same way; page_size
      limits, a bad cursor, a fault, a market without a tape;
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
import urllib.parse
import urllib.request
from decimal import Decimal

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
    (as bytes) with its arrival time, or only counts them (keep=False); binary frames
    are kept apart, in bins (payload bytes)."""

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
        self.bins = []              # binary frames' payloads
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
                pos, end, got, bins = 0, len(buf), [], []
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
                    elif buf[pos] & 0x0F == 0x2:
                        bins.append(bytes(buf[pos + h:pos + h + n]))
                    pos += h + n
                del buf[:pos]
                if bins:
                    with self.cond:
                        self.bins.extend(bins)
                        self.cond.notify_all()
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


# ---- Paradex SBE, decoded from the schema (paradex_1_0.xml: little-endian, 8-byte header
# blockLength, templateId, schemaId, version; TradeEvent template 1, block 50: ts i64, seq i64,
# tradeId i64, side u8 (1 BUY, 2 SELL), price i64, size i64 (mantissas at 10^-8), createdAt i64
# (µs), tradeType u8; then the market as varString8 (u8 length, bytes) after the block) ----

SBE_HEADER = struct.Struct("<HHHH")
SBE_TRADE = struct.Struct("<qqqBqqqB")


def sbe_trade(payload):
    """A decoded SBE TradeEvent as a dict, or None for another template."""
    block, tpl, schema, version = SBE_HEADER.unpack_from(payload, 0)
    if tpl != 1:
        return None
    ts, seq, tid, side, price, size, created, ttype = SBE_TRADE.unpack_from(payload, 8)
    mpos = 8 + block
    mlen = payload[mpos]
    return {"block": block, "schema": schema, "version": version, "ts": ts, "seq": seq, "id": str(tid),
            "side": {1: "BUY", 2: "SELL"}.get(side), "price": Decimal(price).scaleb(-8),
            "size": Decimal(size).scaleb(-8), "createdAt": created, "tradeType": ttype,
            "market": payload[mpos + 1:mpos + 1 + mlen].decode(), "rest": len(payload) - (mpos + 1 + mlen)}


def paradex_trades(client):
    with client.cond:
        bins = list(client.bins)
    return [t for t in (sbe_trade(b) for b in bins) if t is not None]


def paradex_walk(rest, query, most=100):
    """Every page of /v1/trades?<query> following "next": (rows, pages, statuses)."""
    rows, pages, cur = [], [], None
    while len(pages) < most:
        st, page = http("GET", rest + "/paradex/v1/trades?" + query +
                        ("&cursor=" + urllib.parse.quote(cur, safe="") if cur else ""))
        if st != 200:
            pages.append((st, page))
            break
        pages.append((st, len(page["results"])))
        rows += page["results"]
        cur = page["next"]
        if not cur:
            break
    return rows, pages


def wait_done(ctl, venue, timeout=30, symbol=None):
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        req = {"venue": venue, "action": "tape_status"}
        if symbol:
            req["symbol"] = symbol
        _, st = http("POST", ctl + "/action", req)
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
    PX = "BTC-USD-PERP"
    px1 = Client(ws_port, "/paradex/v1?sbeSchemaId=1&sbeSchemaVersion=1")
    px0 = Client(ws_port, "/paradex/v1?sbeSchemaId=1&sbeSchemaVersion=0")
    for c in (px1, px0):
        c.send({"jsonrpc": "2.0", "method": "subscribe", "params": {"channel": "trades." + PX}, "id": 1})
    acks = [c.wait(lambda c: c.count >= 1) and c.messages()[0].get("result") == {"channel": "trades." + PX}
            for c in (px1, px0)]
    check(all(acks), "two paradex clients (SBE versions 1 and 0) subscribed to trades." + PX, acks)

    # ---- the tapes, the same parameters to both mocks ----
    t0 = now_ms() + 400
    for venue, sym in (("binance", "BTCUSDT"), ("bybit", "BTCUSDT"), ("paradex", PX)):
        spec = {"venue": venue, "symbol": sym, "count": N, "rate": RATE, "start_id": START, "t0_ms": t0}
        st, out = http("POST", rest + "/_mock/tape", spec)
        check(st == 200 and out.get("ok"), "REST mock: %s tape registered" % venue, out)
        st, out = http("POST", ctl + "/action", dict(spec, action="tape"))
        check(st == 200 and out.get("started") is True, "WS mock: %s tape started at once" % venue, out)
    st, out = http("POST", rest + "/_mock/tape", {"venue": "binance", "symbol": "BTCUSDT", "count": 1, "rate": 1})
    check(st == 400, "REST mock: a tape without t0_ms is refused", out)
    st, out = http("POST", ctl + "/action", {"venue": "kucoin", "action": "tape", "symbol": "XBTUSDTM",
                                             "count": 1, "rate": 1})
    check(st == 400, "WS mock: no tape for a venue without one", out)
    st, out = http("POST", ctl + "/action", {"venue": "paradex", "action": "tape", "symbol": "BTCUSDT",
                                             "count": 1, "rate": 1})
    check(st == 400, "WS mock: a paradex tape's symbol must be a market (BTC-USD-PERP)", out)

    # ---- halfway: drop client b by its path; REST sees only what exists ----
    a.wait(lambda c: len(c.frames) >= 1 + N // 2, timeout=10)
    st, out = http("POST", ctl + "/action", {"venue": "binance", "action": "drop", "path": "client=b"})
    check(out == {"dropped": 1}, "drop with a path drops only the session whose path contains it", out)
    before = now_ms()
    st, mid = http("GET", rest + "/binance/fapi/v1/aggTrades?symbol=BTCUSDT&limit=1000")
    st_px, mid_px = http("GET", rest + "/paradex/v1/trades?market=%s&page_size=1" % PX)
    after = now_ms()
    check(st == 200 and 0 < len(mid) <= 1000 and mid[-1]["T"] <= after and mid[-1]["a"] < START + N - 1,
          "REST mid-tape: only trades that exist by now (T <= now, not the last yet)",
          (len(mid), mid[-1] if mid else None, before, after))
    _, status = http("GET", ctl + "/status")
    check(status["binance"]["sessions"] == 2, "the other /market/stream and the /public/stream sessions stay open",
          status["binance"]["sessions"])

    bst = wait_done(ctl, "binance")
    yst = wait_done(ctl, "bybit")
    pst = wait_done(ctl, "paradex")
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

    # ---- paradex ----
    px1.wait(lambda c: len(c.bins) >= N, timeout=5)
    px0.wait(lambda c: len(c.bins) >= N, timeout=5)
    p1, p0 = paradex_trades(px1), paradex_trades(px0)

    def want_px(k):          # trade k as tape.py's docstring defines it, worked out here
        return {"seq": k + 1, "side": "BUY" if k % 2 == 0 else "SELL",
                "price": "%d.%08d" % (42000 + k % 997, (k * 7919) % 10 ** 8), "size": "0.%03d" % (k % 999 + 1),
                "createdAt": (t0 + k * 1000 // RATE) * 1000}
    ids_p = [t["id"] for t in p1]
    check(len(p1) == N and len(px1.bins) == N and len(set(ids_p)) == N,
          "paradex: the v1 client got all %d trades once, one SBE frame each" % N, (len(p1), len(px1.bins)))
    bad = [(k, t) for k, t in enumerate(p1)
           if (t["seq"], t["side"], t["price"], t["size"], t["createdAt"]) !=
           tuple(Decimal(v) if f in ("price", "size") else v for f, v in want_px(k).items())]
    check(not bad and len(p1) == N, "paradex: in order, with the tape's seq, side, price, size, createdAt (µs)",
          bad[:2])
    check(all(t["block"] == 50 and t["schema"] == 1 and t["version"] == 1 and t["tradeType"] == 1 and
              t["market"] == PX and t["rest"] == 0 and t["ts"] >= t["createdAt"] for t in p1),
          "paradex v1 frames: block 50, schema 1 version 1, market, ts >= createdAt", p1[:1])
    check(all(len(i) == 19 and i.isdigit() and 0 < int(i) < 2 ** 63 for i in ids_p) and
          sum(1 for x, y_ in zip(ids_p, ids_p[1:]) if int(y_) - int(x) == 1) == 0,
          "paradex ids: 19-digit int64 texts, not sequential", ids_p[:3])
    check([(t["id"], t["price"], t["size"], t["side"], t["createdAt"]) for t in p0] ==
          [(t["id"], t["price"], t["size"], t["side"], t["createdAt"]) for t in p1] and
          all(t["version"] == 0 and t["block"] == 50 for t in p0),
          "paradex: the v0 client got the same trades in version 0 frames", (len(p0), p0[:1]))
    check(pst.get("generated") == N and pst.get("done") is True and
          pst.get("delivered") == {"/paradex/v1?sbeSchemaId=1&sbeSchemaVersion=1#1": N,
                                   "/paradex/v1?sbeSchemaId=1&sbeSchemaVersion=0#2": N},
          "paradex tape_status", pst)
    print("# paradex tape max lag %s ms" % pst.get("max_lag_ms"))
    r0 = (mid_px or {}).get("results") or [{}]
    check(st_px == 200 and len(r0) == 1 and r0[0].get("created_at", after + 1) <= after
          and r0[0].get("id") != ids_p[-1] and (mid_px or {}).get("next"),
          "paradex REST mid-tape: the newest trade that exists by now, not the last yet", mid_px)

    def rest_key(r):
        return (r["id"], Decimal(r["price"]), Decimal(r["size"]), r["side"], r["created_at"] * 1000)

    def ws_key(t):
        return (t["id"], t["price"], t["size"], t["side"], t["createdAt"])
    ts, te = p1[300]["createdAt"] // 1000, p1[1701]["createdAt"] // 1000
    want = [ws_key(t) for t in p1 if ts <= t["createdAt"] // 1000 <= te]
    rows, pages = paradex_walk(rest, "market=%s&page_size=250&start_at=%d&end_at=%d" % (PX, ts, te))
    check([rest_key(r) for r in reversed(rows)] == want and len(want) > 1000 and
          [n for _, n in pages] == [250] * (len(want) // 250) + ([len(want) % 250] if len(want) % 250 else []),
          "paradex REST start_at/end_at, page_size 250, cursor paging: exactly the window's %d trades, "
          "newest first, with the frames' values" % len(want), (len(rows), pages[:3], rows[:1], want[-1:]))
    k_of = {i: k for k, i in enumerate(ids_p)}
    check(all(r["price"] == want_px(k_of[r["id"]])["price"] and r["size"] == want_px(k_of[r["id"]])["size"]
              and r["market"] == PX and r["trade_type"] == "FILL" for r in rows),
          "paradex REST texts: price with 8 decimals, size, market, trade_type", rows[:1])
    rows, pages = paradex_walk(rest, "market=%s&page_size=1000" % PX)
    check([rest_key(r) for r in reversed(rows)] == [ws_key(t) for t in p1] and pages == [(200, 1000), (200, 1000)],
          "paradex REST page_size 1000 without a range: the whole tape in 2 pages", (len(rows), pages))
    rows, pages = paradex_walk(rest, "market=%s&start_at=%d&end_at=%d" % (PX, ts, ts + 99))
    check(len(rows) == 200 and pages == [(200, 100), (200, 100)] and rows[-1]["created_at"] == ts,
          "paradex REST default page_size 100", (len(rows), pages))
    st, e = http("GET", rest + "/paradex/v1/trades?market=%s&page_size=1001" % PX)
    st0, _ = http("GET", rest + "/paradex/v1/trades?market=%s&page_size=0" % PX)
    check(st == 400 and st0 == 400 and e.get("error") == "VALIDATION_ERROR", "paradex REST: page_size 1..1000",
          (st, st0, e))
    st, e = http("GET", rest + "/paradex/v1/trades?market=%s&cursor=bm90IGEgY3Vyc29y" % PX)
    check(st == 400 and e.get("error") == "VALIDATION_ERROR", "paradex REST: a bad cursor is refused", (st, e))
    st, e = http("GET", rest + "/paradex/v1/trades?market=%s&start_at=%d&end_at=%d" % (PX, t0 + 10 ** 7, t0 + 10 ** 8))
    check(st == 200 and e == {"next": None, "prev": None, "results": []}, "paradex REST: a window after the tape: empty",
          e)
    http("POST", rest + "/_mock/faults", {"venue": "paradex", "path": "trades", "kind": "status", "status": 503})
    st1, _ = http("GET", rest + "/paradex/v1/trades?market=%s" % PX)
    st2, _ = http("GET", rest + "/paradex/v1/trades?market=%s" % PX)
    check((st1, st2) == (503, 200), "an injected fault hits paradex trades once", (st1, st2))
    st, other = http("GET", rest + "/paradex/v1/trades?market=ETH-USD-PERP&page_size=2")
    check(st == 200 and len(other["results"]) == 2 and len(other["results"][0]["id"]) == 28,
          "paradex: a market without a tape keeps its generated history", other)
    px1.close()
    px0.close()

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
