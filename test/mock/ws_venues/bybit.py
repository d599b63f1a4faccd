"""Bybit v5 public linear stream (wss://stream.bybit.com/v5/public/linear) for
the WebSocket mock.  `ws` is ws_mock, set by the loader.

The frames come from the payload files (test/payloads/websocket/bybit_v5_linear,
the project's own; or the recorded ones of ../shared/fixtures, same names).
Subscribing to orderbook.N.SYM sends the file's book snapshot (topic and
symbol rewritten); tickers.SYM the file's ticker snapshot.  The book's
update id u continues per symbol across connections and resubscriptions:
the first snapshot has the file's u, every later frame the next id; its
ts is the file's, every later book frame's the one before + 1 ms (the
replayed delta keeps its own ts when that is later).  Actions:

    replay              the file's book delta, trade and ticker delta, as they are
                        (the delta's u follows the snapshot's); to kline.1.SYM,
                        kline.open.json then kline.closed.json (symbol rewritten)
    book_delta {skip, bids, asks}
                        a delta (default: bid 65000.00 x 1.000), skipping `skip` update ids
    trades {count, per_frame, price, qty, rate}
                        generated trades with ids mock-<n>: as fast as possible, or `rate`
                        trades per second from a background thread (the answer comes at once)
    u1_snapshot         a snapshot with u = 1 (Bybit's service restart)
    burst {kind, count, per_frame, price}
                        for benchmarks: `count` trades in frames of `per_frame` (kind "trades",
                        ids burst-<n>) or `count` book deltas of one level each (kind "deltas":
                        a new size for one of the snapshot's bid prices, in turn), all frames
                        encoded first, then written as fast as the socket takes them; answers
                        {"sent": frames, "bytes": n, "build_seconds": time spent encoding,
                        "seconds": time spent writing}
    tape {symbol, count, rate, t0_ms}, tape_status
                        (ws_mock's, see there): the symbol's trade tape (test/mock/tape.py)
                        goes to every session subscribed to publicTrade.<SYMBOL>: the
                        trades due in one tick share a frame (at most TAPE_PER_FRAME),
                        {"topic":"publicTrade.SYM","type":"snapshot","ts":<now ms>,"data":
                        [{"T","s","S","v","p","L","i","BT","RPI","seq"}, ...]}, i the
                        UUID-looking id the REST mock's recent-trade gives as execId
"""

import json
import time

D = "websocket/bybit_v5_linear/"
TAPE_PER_FRAME = 500


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        self.book_snapshot = ws.fixture_json(D + "orderbook.snapshot.json")  # noqa: F821
        self.book_delta = ws.fixture_json(D + "orderbook.delta.json")  # noqa: F821
        self.trade = ws.fixture_json(D + "publicTrade.snapshot.json")  # noqa: F821
        self.ticker_snapshot = ws.fixture_json(D + "tickers.snapshot.json")  # noqa: F821
        self.ticker_delta = ws.fixture_json(D + "tickers.delta.json")  # noqa: F821
        # a 1m candle going, then closed with the next one opened: the project's own frames only
        self.klines = [k for k in (ws.optional_fixture_json(D + "kline.open.json"),  # noqa: F821
                                   ws.optional_fixture_json(D + "kline.closed.json")) if k]
        self.last_u = {}     # symbol -> last update id sent
        self.last_ts = {}    # symbol -> last book ts sent (ms)

    # ---- helpers ----

    def topics(self, session):
        return session.state.setdefault("topics", set())

    def book_topic(self, session, sym):
        for t in self.topics(session):
            if t.startswith("orderbook.") and t.endswith("." + sym):
                return t
        return None

    def symbols(self, session):
        return sorted({t.rsplit(".", 1)[1] for t in self.topics(session)})

    def next_book(self, sym, u=None):
        if u is None:
            u = self.last_u.get(sym, self.book_snapshot["data"]["u"] - 1) + 1
        self.last_u[sym] = u
        ts = self.last_ts.get(sym)
        ts = self.book_snapshot["ts"] if ts is None else ts + 1
        self.last_ts[sym] = ts
        return u, ts

    def send_snapshot(self, session, topic, sym, u=None):
        u, ts = self.next_book(sym, u)
        msg = json.loads(json.dumps(self.book_snapshot))
        msg["topic"] = topic
        msg["ts"] = ts
        msg["data"]["s"] = sym
        msg["data"]["u"] = u
        session.send_text(msg)

    # ---- protocol ----

    def on_text(self, session, text):
        try:
            req = json.loads(text)
        except ValueError:
            return
        op = req.get("op") if isinstance(req, dict) else None
        conn = "mock-%d" % id(session)
        if op == "ping":
            session.send_text({"success": True, "ret_msg": "pong", "conn_id": conn,
                               "req_id": "", "op": "ping"})
            return
        if op not in ("subscribe", "unsubscribe"):
            session.send_text({"success": False, "ret_msg": "unknown op", "conn_id": conn, "op": op})
            return
        args = [a for a in req.get("args", []) if isinstance(a, str)]
        bad = [a for a in args if not (a.startswith("orderbook.") or a.startswith("publicTrade.")
                                       or a.startswith("tickers.") or a.startswith("kline."))]
        session.send_text({"success": not bad, "ret_msg": ("error:handler not found,topic:" + bad[0]) if bad else "",
                           "conn_id": conn, "req_id": "", "op": op})
        if bad:
            return
        topics = self.topics(session)
        for a in args:
            if op == "unsubscribe":
                topics.discard(a)
                continue
            topics.add(a)
            sym = a.rsplit(".", 1)[1]
            if a.startswith("orderbook."):
                self.send_snapshot(session, a, sym)
            elif a.startswith("tickers."):
                msg = json.loads(json.dumps(self.ticker_snapshot))
                msg["topic"] = a
                msg["data"]["symbol"] = sym
                session.send_text(msg)

    # ---- actions ----

    def action(self, name, params):
        sent = 0
        for s in self.sessions_open():
            for sym in self.symbols(s):
                topic = self.book_topic(s, sym)
                if name == "replay":
                    if topic:
                        u, ts = self.next_book(sym)
                        msg = json.loads(json.dumps(self.book_delta))
                        msg["topic"], msg["data"]["s"], msg["data"]["u"] = topic, sym, u
                        # the delta's own ts when later: the next frames follow it
                        msg["ts"] = self.last_ts[sym] = max(ts, int(msg["ts"]))
                        sent += s.send_text(msg)
                    if "publicTrade." + sym in self.topics(s):
                        msg = json.loads(json.dumps(self.trade))
                        msg["topic"] = "publicTrade." + sym
                        for t in msg["data"]:
                            t["s"] = sym
                        sent += s.send_text(msg)
                    if "tickers." + sym in self.topics(s):
                        msg = json.loads(json.dumps(self.ticker_delta))
                        msg["topic"], msg["data"]["symbol"] = "tickers." + sym, sym
                        sent += s.send_text(msg)
                    if "kline.1." + sym in self.topics(s):
                        for k in self.klines:
                            msg = json.loads(json.dumps(k))
                            msg["topic"] = "kline.1." + sym
                            sent += s.send_text(msg)
                elif name == "book_delta" and topic:
                    skip = int(params.get("skip", 0))
                    u, ts = self.next_book(sym, self.last_u.get(sym, 0) + 1 + skip)
                    bids = params.get("bids", [["65000.00", "1.000"]])
                    sent += s.send_text({"topic": topic, "type": "delta", "ts": ts,
                                         "data": {"s": sym, "b": bids, "a": params.get("asks", []),
                                                  "u": u, "seq": 1}, "cts": ts})
                elif name == "u1_snapshot" and topic:
                    self.send_snapshot(s, topic, sym, u=1)
                    sent += 1
                elif name == "trades" and "publicTrade." + sym in self.topics(s):
                    sent += self.start_trades(s, sym, params)
        if name == "burst":
            return self.burst(params)
        if name not in ("replay", "book_delta", "u1_snapshot", "trades"):
            raise KeyError(name)
        return {"sent": sent}

    def burst(self, params):
        kind = params.get("kind", "trades")
        count = int(params.get("count", 1000))
        per = max(1, int(params.get("per_frame", 100)))
        price = str(params.get("price", "65000.5"))
        targets = []
        for s in self.sessions_open():
            for sym in self.symbols(s):
                if kind == "trades" and "publicTrade." + sym in self.topics(s):
                    targets.append((s, sym, None))
                elif kind == "deltas" and self.book_topic(s, sym):
                    targets.append((s, sym, self.book_topic(s, sym)))
        out = {"sent": 0, "bytes": 0, "build_seconds": 0.0, "seconds": 0.0}
        for s, sym, topic in targets:
            t0 = time.monotonic()
            frames = []
            if kind == "trades":
                now = int(time.time() * 1000)
                for k0 in range(0, count, per):
                    data = []
                    for _ in range(min(per, count - k0)):
                        with self.lock:
                            self.trade_n += 1
                            n = self.trade_n
                        data.append({"T": now, "s": sym, "S": "Buy" if n % 2 else "Sell", "v": "0.001",
                                     "p": price, "L": "PlusTick", "i": "burst-%d" % n, "BT": False})
                    frames.append({"topic": "publicTrade." + sym, "type": "snapshot", "ts": now, "data": data})
            else:
                bids = self.book_snapshot["data"]["b"]
                for k in range(count):
                    u, ts = self.next_book(sym)
                    frames.append({"topic": topic, "type": "delta", "ts": ts,
                                   "data": {"s": sym, "b": [[bids[k % len(bids)][0], "1.%03d" % (k % 997 + 1)]],
                                            "a": [], "u": u, "seq": 1}, "cts": ts})
            blob = b"".join(ws.frame(0x1, json.dumps(f, separators=(",", ":")).encode())  # noqa: F821
                            for f in frames)
            out["build_seconds"] += time.monotonic() - t0
            t0 = time.monotonic()
            ok = s.send_bytes(blob)
            out["seconds"] += time.monotonic() - t0
            out["sent"] += len(frames) if ok else 0
            out["bytes"] += len(blob) if ok else 0
        return out

    def tape_sessions(self, symbol):
        topic = "publicTrade." + symbol
        return [s for s in self.sessions_open() if topic in self.topics(s)]

    def tape_frames(self, tape, lo, hi, now_ms):
        frame = ws.frame  # noqa: F821
        return b"".join(frame(0x1, tape.bybit_ws_json(range(k, min(hi, k + TAPE_PER_FRAME)), now_ms).encode())
                        for k in range(lo, hi, TAPE_PER_FRAME))

    def send_trades(self, session, sym, params):
        def send(ns, price, qty):
            now = int(time.time() * 1000)
            data = [{"T": now, "s": sym, "S": "Buy" if n % 2 else "Sell",
                     "v": qty, "p": price, "L": "PlusTick", "i": "mock-%d" % n,
                     "BT": False, "RPI": False, "seq": n} for n in ns]
            return int(session.send_text({"topic": "publicTrade." + sym, "type": "snapshot", "ts": now, "data": data}))
        return self.paced_trades(session, params, "65000.5", "0.001", send)
