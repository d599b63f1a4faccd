"""Extended public streams (wss://api.starknet.extended.exchange/stream.extended.exchange/v1)
for the WebSocket mock, at ws://127.0.0.1:PORT/extended/stream.extended.exchange/v1.
`ws` is ws_mock, set by the loader.

As the venue documents them (api.docs.extended.exchange, "Public WebSocket
streams"): no subscribe message; the path is the subscription, one stream a
connection, the market a last segment or none for every market:

    /orderbooks[/<market>][?depth=1]   SNAPSHOT of each market at once, then DELTAs
                                       whose q is the CHANGE of the level's quantity;
                                       with depth=1 the best bid and ask, as SNAPSHOTs
    /publicTrades[/<market>]           the recent trades at once, then each trade
    /funding[/<market>]                the current rate of each market at once, then
                                       each change
    any other stream or market:        the handshake is refused (HTTP 404)
    a handshake without a User-Agent:  refused (HTTP 400), as the REST API refuses requests

Every message is {"type"?, "data", "ts", "seq"}; seq numbers the messages of
the connection, 1, 2, ... (every market's on an all-market path).  The
venue's state is kept here, not per connection: the books (the payload
snapshots of BTC-USD and ETH-USD, changed by every delta sent), the trades
and the funding rates; whatever is sent goes to every connection whose path
carries it, and the venue goes on changing while nobody is connected.
Messages a client sends are ignored (the venue documents none).  Server
pings: the core answers the client's; none are sent.

The frames come from test/payloads/websocket/extended, written from the
documentation (no recording exists): their seq and ts are the connection's
and the venue's now where the payload has one of its own.

Actions:
    replay              the three BTC-USD deltas of the payload, in order
    book_delta {market, bids: [[p, change]], asks, skip, apply}
                        one delta (default BTC-USD, bid 96990.0 +1.0); skip > 0: each
                        book connection's seq jumps skip numbers first (lost messages);
                        apply false: the venue's book does not change (a bad message:
                        the next snapshot is the book as it was)
    snapshot            every market's snapshot again (the venue sends one a minute)
    trade_replay        the payload's trades frame (two markets, a liquidation)
    trades {market, count, per_frame, rate, price, qty}
                        generated trades, ids 1867000000000000001..., BUY then SELL
    funding {market, f, T}
                        a funding message (default the payload's BTC-USD one)
    error               the payload's error frame to every connection
    paths               {"paths": the paths of the open connections, sorted}
and the trade tape (tape, tape_status; test/mock/tape.py): a tape's trades go to
the trade connections of its market or of every market, and a trade
connection opened while a tape runs first gets the tape's latest 20 trades
(the venue repeats recent trades to a new connection).
"""

import json
import os
import time
from decimal import Decimal

D = "websocket/extended/"
PREFIX = "/extended/stream.extended.exchange/v1/"
STREAMS = ("orderbooks", "publicTrades", "funding")
RECENT = 20


def copy(obj):
    return json.loads(json.dumps(obj))


def now_ms():
    return int(time.time() * 1000)


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        fx = self.fixture
        self.snapshots = {s["data"]["m"]: s for s in (fx(D + "orderbooks.snapshot.btc.json"),
                                                      fx(D + "orderbooks.snapshot.eth.json"))}
        self.deltas = [fx(D + "orderbooks.delta.btc_%d.json" % i) for i in (1, 2, 3)]
        self.trades_frame = fx(D + "publicTrades.json")
        self.fundings = {f["data"]["m"]: f for f in (fx(D + "funding.btc.json"), fx(D + "funding.eth.json"))}
        self.error = fx(D + "error.market_not_found.json")
        self.markets = sorted(self.snapshots)
        # the venue's books: market -> {"b": {Decimal price: (text, Decimal qty)}, "a": ...}
        self.books = {}
        self.book_ts = {}
        for m, s in self.snapshots.items():
            self.books[m] = {side: {Decimal(lv["p"]): (lv["p"], Decimal(lv["q"])) for lv in s["data"][side]}
                             for side in ("b", "a")}
            self.book_ts[m] = s["ts"]
        self.recent = list(self.trades_frame["data"])

    @staticmethod
    def fixture(rel):
        """A payload of the tree served; a tree without Extended's frames (the recorded one:
        nothing was recorded) gets the project's own."""
        got = ws.optional_fixture_json(rel)  # noqa: F821
        if got is None:
            with open(os.path.join(ws.ROOT, "test", "payloads", rel), encoding="utf-8") as f:  # noqa: F821
                got = json.load(f)
        return got

    # ---- paths ----

    @staticmethod
    def parse_path(path):
        """(stream, market or None, depth1) of a path, or None."""
        if not path.startswith(PREFIX):
            return None
        rest, _, query = path[len(PREFIX):].partition("?")
        parts = rest.split("/")
        if parts[0] not in STREAMS or len(parts) > 2 or (len(parts) == 2 and not parts[1]):
            return None
        depth1 = False
        if query:
            if parts[0] != "orderbooks" or query not in ("depth=1",):
                return None
            depth1 = True
        return parts[0], (parts[1] if len(parts) == 2 else None), depth1

    def refuse(self, path):
        p = self.parse_path(path)
        if p is None or (p[1] is not None and p[1] not in self.snapshots):
            return 404, b'{"status":"ERROR","error":{"code":"NOT_FOUND","message":"Stream or market not found"}}'
        return None

    def refuse_request(self, path, headers):
        """A handshake without a User-Agent is refused, as the venue's REST refuses requests without
        one ("Mandatory headers"; the SDK sends it on the streams too): HTTP 400 (the code is this
        mock's choice)."""
        if not headers.get("user-agent", "").strip():
            return 400, b'{"status":"ERROR","error":{"code":"BAD_REQUEST","message":"User-Agent header is required"}}'
        return self.refuse(path)

    def sessions_of(self, stream, market, depth1=None):
        out = []
        for s in self.sessions_open():
            p = s.state.get("path")
            if p and p[0] == stream and (p[1] is None or p[1] == market) and (depth1 is None or p[2] == depth1):
                out.append(s)
        return out

    def send(self, session, msg):
        """msg with the connection's next seq."""
        msg = dict(msg)
        with self.lock:
            session.state["seq"] = session.state.get("seq", 0) + 1
            msg["seq"] = session.state["seq"]
        return session.send_text(msg)

    # ---- books ----

    def levels(self, m, side, top=None):
        lv = sorted(self.books[m][side].items(), key=lambda kv: kv[0], reverse=(side == "b"))
        if top is not None:
            lv = lv[:top]
        return [{"p": text, "q": str(q)} for _, (text, q) in lv]

    def snapshot_msg(self, m, top=None):
        return {"type": "SNAPSHOT", "data": {"m": m, "b": self.levels(m, "b", top), "a": self.levels(m, "a", top)},
                "ts": self.book_ts[m]}

    def apply_delta(self, m, data):
        book = self.books[m]
        for side in ("b", "a"):
            for lv in data.get(side, []):
                p = Decimal(lv["p"])
                text, q = book[side].get(p, (lv["p"], Decimal(0)))
                q += Decimal(lv["q"])
                if q == 0:
                    book[side].pop(p, None)
                else:
                    book[side][p] = (text, q)

    def broadcast_delta(self, m, data, ts, skip=0, apply=True):
        """A delta: the venue's book changes, every full book connection of the market gets it,
        every depth=1 connection the new best levels.  apply False: a bad message (a crossing
        or negative level) that the venue's own book does not take."""
        if apply:
            self.apply_delta(m, data)
        self.book_ts[m] = ts
        sent = 0
        for s in self.sessions_of("orderbooks", m, depth1=False):
            if skip:
                with self.lock:
                    s.state["seq"] = s.state.get("seq", 0) + skip
            sent += self.send(s, {"type": "DELTA", "data": data, "ts": ts})
        for s in self.sessions_of("orderbooks", m, depth1=True):
            sent += self.send(s, self.snapshot_msg(m, 1))
        return sent

    # ---- trades, funding ----

    def trades_msg(self, trades, market):
        return {"data": [t for t in trades if market is None or t["m"] == market], "ts": now_ms()}

    # ---- protocol ----

    def on_open(self, session):
        p = self.parse_path(session.path)
        session.state["path"] = p
        session.state["seq"] = 0
        stream, market, depth1 = p
        markets = [market] if market else self.markets
        if stream == "orderbooks":
            for m in markets:
                self.send(session, self.snapshot_msg(m, 1 if depth1 else None))
        elif stream == "publicTrades":
            runner = self.tapes.get(market or self.last_tape or "")
            if runner is not None:
                t = runner.tape
                hi = t.generated()
                body = ",".join(t.extended_json(k) for k in range(max(0, hi - RECENT), hi))
                if body:
                    with self.lock:
                        session.state["seq"] += 1
                        seq = session.state["seq"]
                    session.send_text('{"data":[%s],"ts":%d,"seq":%d}' % (body, now_ms(), seq))
            else:
                msg = self.trades_msg(self.recent, market)
                if msg["data"]:
                    self.send(session, msg)
        elif stream == "funding":
            for m in markets:
                self.send(session, {k: v for k, v in self.fundings[m].items() if k != "seq"})

    def on_text(self, session, text):
        pass        # the venue documents no client message

    # ---- actions ----

    def action(self, name, params):
        sent = 0
        if name == "replay":
            for d in self.deltas:
                sent += self.broadcast_delta(d["data"]["m"], copy(d["data"]), max(d["ts"], self.book_ts["BTC-USD"] + 1))
        elif name == "book_delta":
            m = params.get("market", "BTC-USD")
            data = {"m": m,
                    "b": [{"p": p, "q": q} for p, q in params.get("bids", [["96990.0", "1.0"]])],
                    "a": [{"p": p, "q": q} for p, q in params.get("asks", [])]}
            sent += self.broadcast_delta(m, data, self.book_ts[m] + 1, int(params.get("skip", 0)),
                                         bool(params.get("apply", True)))
        elif name == "snapshot":
            for s in self.sessions_of("orderbooks", None):
                p = s.state["path"]
                for m in ([p[1]] if p[1] else self.markets):
                    sent += self.send(s, self.snapshot_msg(m, 1 if p[2] else None))
        elif name == "trade_replay":
            for s in self.sessions_of("publicTrades", None):
                msg = self.trades_msg(self.trades_frame["data"], s.state["path"][1])
                msg["ts"] = self.trades_frame["ts"]
                if msg["data"]:
                    sent += self.send(s, msg)
        elif name == "trades":
            m = params.get("market", "BTC-USD")
            for s in self.sessions_of("publicTrades", m):
                sent += self.start_trades(s, m, params)
        elif name == "funding":
            m = params.get("market", "BTC-USD")
            msg = copy(self.fundings[m])
            msg.pop("seq", None)
            for k in ("f", "T"):
                if k in params:
                    msg["data"][k] = params[k]
            msg["ts"] = params.get("ts", msg["ts"])
            for s in self.sessions_of("funding", m):
                sent += self.send(s, msg)
        elif name == "paths":
            return {"paths": sorted(x.path[len(PREFIX) - 1:] for x in self.sessions_open())}
        elif name == "error":
            msg = {k: v for k, v in self.error.items() if k != "seq"}
            for s in self.sessions_open():
                sent += self.send(s, msg)
        else:
            raise KeyError(name)
        return {"sent": sent}

    def send_trades(self, session, market, params):
        def send(ns, price, qty):
            T = now_ms()
            trades = [{"i": 1867000000000000000 + n, "m": market, "S": "BUY" if n % 2 == 1 else "SELL",
                       "tT": "TRADE", "T": T, "p": price, "q": qty} for n in ns]
            return int(self.send(session, {"data": trades, "ts": T}))
        return self.paced_trades(session, params, "97001.0", "0.010", send)

    # ---- the trade tape ----

    def tape_sessions(self, symbol):
        return [s for s in self.sessions
                if s.open and s.state.get("path") and s.state["path"][0] == "publicTrades"
                and s.state["path"][1] in (None, symbol)]

    def tape_text(self, tape, lo, hi, now_ms_, seq):
        return '{"data":[%s],"ts":%d,"seq":%d}' % (",".join(tape.extended_json(k) for k in range(lo, hi)), now_ms_, seq)

    def tape_frames(self, tape, lo, hi, now_ms_):
        """One frame with trades lo .. hi-1 (seq 1: tape_blobs numbers each connection's)."""
        return ws.frame(0x1, self.tape_text(tape, lo, hi, now_ms_, 1).encode())  # noqa: F821

    def tape_blobs(self, tape, lo, hi, now_ms_, sessions):
        """Each connection's frame carries its own next seq."""
        body = ",".join(tape.extended_json(k) for k in range(lo, hi))
        out = {}
        for s in sessions:
            s.state["seq"] = s.state.get("seq", 0) + 1
            out[s] = ws.frame(0x1, ('{"data":[%s],"ts":%d,"seq":%d}' % (body, now_ms_, s.state["seq"])).encode())  # noqa: F821
        return out
