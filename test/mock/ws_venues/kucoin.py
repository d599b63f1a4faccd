"""KuCoin Futures public stream (the endpoint a POST /api/v1/bullet-public
answers with) for the WebSocket mock.  `ws` is ws_mock, set by the loader.

The REST mock (test/mock/venues/kucoin.py) answers bullet-public with
ws://127.0.0.1:PORT/kucoin/endpoint (PORT from its /_mock/config "ws_url"),
the token TOKEN and pingInterval 2000 ms.  A connection whose ?token= is not
TOKEN gets {"type":"error","code":401} and is closed; otherwise it is greeted
with {"id": <connectId>, "type": "welcome"}.  Subscribes
({"type":"subscribe","topic":"/contractMarket/level2:SYM1,SYM2",...}) are
acked ({"type":"ack"}) when they ask for a response; unknown topics get a
404 error frame.  {"type":"ping"} is answered with a pong of the same id and
its time recorded.

The frames are the payloads' (test/payloads/websocket/kucoinfutures, or the
recorded ones: see PERPS_PAYLOADS in ws_mock.py), sent with their numbers
as their text is (_loads, _dumps: no rounding through a double).

The XBTUSDTM book is the venue's, kept here: it starts as the REST snapshot
the REST mock serves (payload kucoinfutures/fetchOrderBook.level2_snapshot:
its sequence S and time), and every level2 change this module makes (sent
or lost) is applied to it with the next sequence; the REST mock asks for it
(action "book") so that a REST snapshot taken later continues the stream.
The k-th change (k = 1, 2, ...) carries timestamp = the snapshot's time in
ms + k.  Actions:

    replay          per subscribed symbol: the payloads' match (execution),
                    tickerV2 and snapshot.24h frames with the symbol rewritten,
                    the level2 frame (its sequence is older than the book's:
                    a client drops it), and the /contract/instrument
                    frames: instrument.mark.index.price, then
                    instrument.funding.rate.predicted (where the payloads have
                    one) and instrument.funding.rate; to limitCandle:SYM_1min,
                    candle.stick.open.json then candle.stick.closed.json; where the payloads have
                    none (the recordings), DOCUMENTED-FORMAT ones written here:
                    mark.index.price (mark 29538.28, index 29538.62,
                    timestamp 1654165886000) and funding.rate (granularity
                    28800000, fundingRate 0.000136, timestamp 1654200000000)
    book_delta {changes: [[price, side, size], ...], lost: [[...], ...], skip: N}
                    first `lost` changes (default none) and then `skip` more
                    sequence numbers (default 0) are used up without being
                    sent, then each of `changes` (default [["29639.0","buy","500"]])
                    is sent as one level2 frame with the next sequence
    trades {count, price, qty, rate}
                    generated matches with ids mock-<n> (one per frame, as KuCoin
                    sends them; sides alternate buy, sell), as fast as possible
                    or `rate` per second from a background thread
    book {symbol}   the venue's book now: {sequence, ts_ns, bids, asks} (text; ts_ns is
                    the snapshot's until the first change)
    state           the times (s) of the pings received, the connectIds seen and
                    each open session's subscribed topics
"""

import json
import os
import re
import threading
import time
import urllib.parse
from decimal import Decimal

D = "websocket/kucoinfutures/"
TOKEN = "mock-kucoin-token.AbC/+=="     # the REST mock's bullet-public hands out the same
PREFIXES = ("/contractMarket/level2:", "/contractMarket/execution:", "/contractMarket/tickerV2:",
            "/contractMarket/snapshot:", "/contract/instrument:", "/contractMarket/limitCandle:")
CANDLE_TYPES = ("1min", "3min", "5min", "15min", "30min", "1hour", "2hour", "4hour", "8hour", "12hour",
                "1day", "1week", "1month")


class _Num:
    """A JSON number with a fraction or an exponent, kept as the payload's text."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def _loads(text):
    """JSON whose fractional numbers stay their text (_Num)."""
    return json.loads(text, parse_float=_Num)


def _dumps(obj):
    """Compact JSON text of obj, each _Num written back as its own text."""
    s = json.dumps(obj, separators=(",", ":"), default=lambda o: "\u0001num:" + o.text)
    return re.sub(r'"\\u0001num:([^"]*)"', r"\1", s)


def _text(v):
    """A payload value as JSON text."""
    return v.text if isinstance(v, _Num) else json.dumps(v)


# where the payloads have no /contract/instrument frames (the recordings): these
INSTRUMENT = (
    ("instrument.mark.index.price.json", {
        "type": "message", "subject": "mark.index.price",
        "data": {"markPrice": 29538.28, "indexPrice": 29538.62, "granularity": 1000,
                 "timestamp": 1654165886000}}),
    ("instrument.funding.rate.predicted.json", None),
    ("instrument.funding.rate.json", {
        "type": "message", "subject": "funding.rate",
        "data": {"granularity": 28800000, "fundingRate": 0.000136, "timestamp": 1654200000000}}),
)


class Book:
    def __init__(self, snap):
        self.seq = int(snap["sequence"])
        self.ts_ns = int(snap["ts"])
        self.base_ms = self.ts_ns // 1000000
        self.k = 0
        self.side = {"buy": {}, "sell": {}}
        for side, key in (("buy", "bids"), ("sell", "asks")):
            for p, q in snap[key]:
                self.side[side][Decimal(str(p))] = (_text(p), _text(q))

    def change(self, price, side, size):
        """Applies one change; returns (sequence, timestamp ms)."""
        self.seq += 1
        self.k += 1
        self.ts_ns = (self.base_ms + self.k) * 1000000
        p = Decimal(price)
        if p != 0:
            if Decimal(size) == 0:
                self.side[side].pop(p, None)
            else:
                self.side[side][p] = (price, size)
        return self.seq, self.ts_ns // 1000000

    def levels(self, side):
        keys = sorted(self.side[side], reverse=(side == "buy"))
        return [list(self.side[side][k]) for k in keys]


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        self.snapshot = _loads(ws.fixture_text("kucoinfutures/fetchOrderBook.level2_snapshot.json"))["data"]  # noqa: F821
        self.match = ws.fixture_text(D + "execution.match.json")  # noqa: F821
        self.level2 = ws.fixture_text(D + "level2.change.json")  # noqa: F821
        self.ticker = ws.fixture_text(D + "tickerV2.json")  # noqa: F821
        self.snap24 = ws.fixture_text(D + "snapshot.24h.json")  # noqa: F821
        # the instrument frames: the payloads' where they have them, else the documented ones
        self.instrument = []
        for name, documented in INSTRUMENT:
            if os.path.exists(os.path.join(ws.FIXTURES, D + name)):  # noqa: F821
                self.instrument.append(ws.fixture_text(D + name))  # noqa: F821
            elif documented is not None:
                self.instrument.append(json.dumps(documented))
        # a 1min candle going, then closed: the project's own frames only
        self.candles = [ws.fixture_text(D + n) for n in ("candle.stick.open.json", "candle.stick.closed.json")  # noqa: F821
                        if os.path.exists(os.path.join(ws.FIXTURES, D + n))]  # noqa: F821
        self.books = {self.snapshot["symbol"]: Book(self.snapshot)}
        self.pings = []
        self.connect_ids = []

    # ---- protocol ----

    def on_open(self, session):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(session.path).query)
        cid = q.get("connectId", [""])[-1]
        self.connect_ids.append(cid)
        if q.get("token", [""])[-1] != TOKEN:
            session.send_text({"id": cid, "type": "error", "code": 401, "data": "token is invalid"})
            session.drop()
            return
        session.state["topics"] = set()

        # KuCoin takes requests once it has greeted the connection: the mock greets
        # after 300 ms and refuses (does not apply) a subscribe that comes earlier
        def welcome():
            time.sleep(0.3)
            session.state["welcomed"] = True
            session.send_text({"id": cid, "type": "welcome"})
        threading.Thread(target=welcome, daemon=True).start()

    def on_text(self, session, text):
        try:
            req = json.loads(text)
        except ValueError:
            return
        if not isinstance(req, dict):
            return
        rid, typ = req.get("id"), req.get("type")
        if typ == "ping":
            self.pings.append(time.time())
            session.send_text({"id": rid, "type": "pong"})
            return
        if typ in ("subscribe", "unsubscribe") and not session.state.get("welcomed"):
            session.send_text({"id": rid, "type": "error", "code": 400, "data": "connection is not welcomed yet"})
            return
        if typ not in ("subscribe", "unsubscribe"):
            session.send_text({"id": rid, "type": "error", "code": 415, "data": "command type is invalid"})
            return
        topic = req.get("topic") if isinstance(req.get("topic"), str) else ""
        prefix, _, syms = topic.partition(":")
        prefix += ":"
        syms = [s for s in syms.split(",") if s]
        if prefix not in PREFIXES or not syms or \
                (prefix == PREFIXES[5] and not all(s.rpartition("_")[2] in CANDLE_TYPES for s in syms)):
            session.send_text({"id": rid, "type": "error", "code": 404, "data": "topic %s is not found" % topic})
            return
        if len(syms) > 100:
            session.send_text({"id": rid, "type": "error", "code": 509,
                               "data": "exceed max subscription count limitation of 100 per time"})
            return
        topics = session.state.setdefault("topics", set())
        for s in syms:
            (topics.add if typ == "subscribe" else topics.discard)((prefix, s))
        if req.get("response"):
            session.send_text({"id": rid, "type": "ack"})

    # ---- helpers ----

    def subscribed(self, session, k):
        return sorted(s for p, s in session.state.get("topics", ()) if p == PREFIXES[k])

    def send_all(self, k, make):
        """make(sym) -> frame, sent to every session subscribed to PREFIXES[k] of sym."""
        n = 0
        for s in self.sessions_open():
            for sym in self.subscribed(s, k):
                f = make(sym)
                if f is not None:
                    n += s.send_text(f)
        return n

    def rewrite(self, rec, prefix, sym):
        """The frame text rec with the topic (and data.symbol, where it has one) of sym."""
        msg = _loads(rec)
        msg["topic"] = prefix + sym
        if "symbol" in msg.get("data", {}):
            msg["data"]["symbol"] = sym
        return _dumps(msg)

    def candle(self, rec, key):
        """The candle frame rec for the subscription SYM_1min (other types: none)."""
        sym, _, typ = key.rpartition("_")
        if typ != "1min":
            return None
        msg = _loads(rec)
        msg["topic"] = PREFIXES[5] + key
        msg["data"]["symbol"] = sym
        return _dumps(msg)

    # ---- actions ----

    def action(self, name, params):
        if name == "replay":
            sent = self.send_all(1, lambda sym: self.rewrite(self.match, PREFIXES[1], sym))
            sent += self.send_all(2, lambda sym: self.rewrite(self.ticker, PREFIXES[2], sym))
            sent += self.send_all(3, lambda sym: self.rewrite(self.snap24, PREFIXES[3], sym))
            sent += self.send_all(0, lambda sym: self.rewrite(self.level2, PREFIXES[0], sym))
            for rec in self.instrument:
                sent += self.send_all(4, lambda sym, rec=rec: self.rewrite(rec, PREFIXES[4], sym))
            for rec in self.candles:
                sent += self.send_all(5, lambda key, rec=rec: self.candle(rec, key))
            return {"sent": sent}
        if name == "book_delta":
            sym = params.get("symbol", self.snapshot["symbol"])
            book = self.books[sym]
            for c in params.get("lost", []):
                book.change(*[str(x) for x in c])
            for _ in range(int(params.get("skip", 0))):
                book.change("0", "buy", "0")
            sent = 0
            for c in params.get("changes", [["29639.0", "buy", "500"]]):
                price, side, size = [str(x) for x in c]
                seq, ts = book.change(price, side, size)
                frame = {"topic": PREFIXES[0] + sym, "type": "message", "subject": "level2", "sn": seq,
                         "data": {"sequence": seq, "change": "%s,%s,%s" % (price, side, size), "timestamp": ts}}
                sent += self.send_all(0, lambda s, f=frame: f if s == sym else None)
            return {"sent": sent, "sequence": book.seq}
        if name == "trades":
            sent = 0
            for s in self.sessions_open():
                for sym in self.subscribed(s, 1):
                    sent += self.start_trades(s, sym, params)
            return {"sent": sent}
        if name == "book":
            book = self.books[params.get("symbol", self.snapshot["symbol"])]
            return {"sequence": book.seq, "ts_ns": book.ts_ns,
                    "bids": book.levels("buy"), "asks": book.levels("sell")}
        if name == "state":
            return {"pings": self.pings, "connect_ids": self.connect_ids,
                    "sessions": [sorted(p + s for p, s in x.state.get("topics", ())) for x in self.sessions_open()]}
        raise KeyError(name)

    def send_trades(self, session, sym, params):
        def send(ns, price, qty):
            (n,) = ns
            data = {"symbol": sym, "sequence": n, "side": "buy" if n % 2 else "sell", "size": qty,
                    "price": price, "takerOrderId": "t%d" % n, "makerOrderId": "m%d" % n,
                    "tradeId": "mock-%d" % n, "ts": time.time_ns()}
            # a JSON number for the size, as KuCoin sends it
            text = json.dumps({"topic": PREFIXES[1] + sym, "type": "message", "subject": "match",
                               "sn": n, "data": data}).replace('"size": "%s"' % qty, '"size": %s' % qty)
            return int(session.send_text(text))
        # one trade a frame, as KuCoin sends them
        return self.paced_trades(session, params, "29640.5", "3", send, per=1)

    # ---- the trade tape (ws_mock's): one match frame a trade, as KuCoin sends them ----

    def tape_sessions(self, symbol):
        return [s for s in self.sessions_open() if symbol in self.subscribed(s, 1)]

    def tape_frames(self, tape, lo, hi, now_ms):
        return b"".join(ws.frame(0x1, tape.kucoin_ws_json(k).encode()) for k in range(lo, hi))  # noqa: F821
