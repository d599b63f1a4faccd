"""Binance USD-M combined streams for the WebSocket mock.  `ws` is ws_mock,
set by the loader.

Since 2026-04-23 Binance serves its USD-M streams in path tiers: the book
(depth, bookTicker, trade) on wss://fstream.binance.com/public/stream, the
rest (aggTrade, markPrice, ticker, ...) on /market/stream.  The mock is
reached at ws://127.0.0.1:PORT/binance/public/stream and /binance/market/stream
and is stricter than Binance: subscribing a stream on the wrong tier is
answered with an error instead of silence, so a client that mixes them up
is seen.  Requests are
{"method":"SUBSCRIBE"|"UNSUBSCRIBE"|"LIST_SUBSCRIPTIONS","params":[...],"id":N}
and answered {"result":null,"id":N}; a malformed request gets
{"error":{"code":2,"msg":...},"id":N}.  As Binance does, a connection that
sends more than 10 messages in a second, or subscribes more than 1024
streams, is closed.  Every event goes out wrapped as
{"stream":"<sym>@<kind>","data":{...}}.

The payloads: test/payloads (the project's own) or the tree PERPS_PAYLOADS
names (the recorded ones), as the REST mock (see there).

The book: the REST mock (test/mock/venues/binance.py, a separate process)
serves the depth snapshots of DEPTH_FIXTURES for /fapi/v1/depth;
this module reads the same files, so its diff depth events line up with the
snapshot's lastUpdateId L:

    on subscribe     one event older than the snapshot (u < L): the
                     SUSHIUSDT event of the same session as its snapshot, a
                     generated one (U = L-20, u = L-10, pu = L-21, bid
                     <best bid> x 999.999) for the others.  It starts the
                     client's first sync and must then be dropped as stale.
    book_delta {symbol, skip, bids, asks}
                     the next diff event: the first one after a (re)subscribe
                     or a skip spans the snapshot (pu = L-4, U = L-3,
                     u = highest u sent so far + 3, at least L+3); later ones
                     continue it (pu = previous u, U = pu+1, u = pu+3).
                     skip = k leaves out k events: U = previous u + 3k + 1,
                     u = U + 2, and pu = L.  The REST snapshot does not move
                     (the REST mock is another process and serves the file),
                     so the lost events are made to end where it is: the
                     event is a gap for the client's book and continues the
                     snapshot the client fetches to resync, as it would with
                     Binance's fresh snapshot.  Default levels: none.
                     T = the previous event's T + 1 (from the snapshot's T),
                     E = T + 5.

Actions:
    replay           for each subscribed symbol, the payloads' aggTrade,
                     markPriceUpdate and 24hrTicker events (the symbol's own,
                     from the single-symbol frame or else the !...@arr frame;
                     else the single-symbol frame's with s rewritten); to
                     <sym>@kline_1m, kline.open.json then kline.closed.json
                     (the same candle, going then closed; s rewritten)
    book_delta       see above
    trades {count, per_frame, price, qty, rate, symbol}
                     generated aggTrade events (a = 7000000001, ...; m
                     alternating, first m = true): as fast as possible, or
                     `rate` per second from a background thread (the answer
                     comes at once).  One trade per frame, as Binance sends
                     them; per_frame frames are written back to back.
    tape {symbol, count, rate, start_id, t0_ms}, tape_status
                     (ws_mock's, see there): the symbol's trade tape
                     (test/mock/tape.py) goes to every session subscribed to
                     <sym>@aggTrade (on /market/stream: the subscription check
                     keeps it there), one aggTrade frame a trade as Binance
                     sends them: {"stream":"<sym>@aggTrade","data":{"e":
                     "aggTrade","E":<now ms>,"s":SYM,"a","p","q","f","l","T","m"}},
                     the same a, p, q, f, l, T, m as the REST mock's aggTrades.
"""

import importlib.util
import json
import os
import time

D = "websocket/binance_usdm/"
MAX_STREAMS = 1024
# the stream kinds of the /public tier (everything else is /market)
PUBLIC_KINDS = ("depth", "depth@100ms", "depth@500ms", "bookTicker", "trade")
MAX_MSGS_PER_S = 10


def _rest_module():
    """test/mock/venues/binance.py, for DEPTH_FIXTURES."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "venues", "binance.py")
    spec = importlib.util.spec_from_file_location("rest_venue_binance", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _copy(obj):
    return json.loads(json.dumps(obj))


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    # what a venue serving the same streams elsewhere (ws_venues/aster.py) sets otherwise
    MAX_STREAMS = MAX_STREAMS
    REPLAY_KINDS = ("aggTrade", "markPrice@1s", "ticker")

    def __init__(self, name):
        super().__init__(name)
        fx = ws.fixture_json  # noqa: F821
        rest = _rest_module()
        self.snapshots = {s: fx(rel) for s, rel in rest.DEPTH_FIXTURES.items()}
        # the payloads' events by kind, as [data, ...]: a symbol's own event
        # is the first of the list with its symbol (the single-symbol frame
        # before the !...@arr frame's), else the first of the list is sent
        # with its symbol rewritten.  The BTCUSDT aggTrade has a dated name
        # in the recorded tree.
        btc_trade = rest.optional_json(D + "aggTrade.btcusdt.json", D + "aggTrade.btcusdt_2021.json")
        self.recorded = {
            "aggTrade": [fx(D + "aggTrade.json")["data"], btc_trade["data"]],
            "markPrice@1s": [fx(D + "markPriceUpdate.json")["data"]] + fx(D + "markPriceUpdate.arr.json")["data"],
            "ticker": [fx(D + "24hrTicker.json")["data"]] + fx(D + "24hrTicker.arr.json")["data"],
        }
        # the diff event of the same session as the SUSHIUSDT snapshot, older than it
        self.recorded_depth = {"SUSHIUSDT": fx(D + "depthUpdate.json")["data"]}
        # a 1m candle as it goes (x false) and closed (x true): the project's own frames only
        self.klines = [k["data"] for k in (ws.optional_fixture_json(D + "kline.open.json"),  # noqa: F821
                                           ws.optional_fixture_json(D + "kline.closed.json")) if k]
        self.book = {}       # symbol -> {"last": u of the last event or None (next spans the snapshot), "top", "t"}

    # ---- helpers ----

    @staticmethod
    def streams(session):
        return session.state.setdefault("streams", [])

    def symbols(self, session, kind=None):
        """Upper-case symbols with a subscribed stream (of that kind)."""
        out = []
        for st in self.streams(session):
            sym, _, k = st.partition("@")
            if (kind is None or k == kind) and sym.upper() not in out:
                out.append(sym.upper())
        return sorted(out)

    def send_event(self, session, sym, kind, data):
        return session.send_text({"stream": sym.lower() + "@" + kind, "data": data})

    def snap(self, sym):
        s = self.snapshots.get(sym)
        if s is None:
            return None
        return int(s["lastUpdateId"]), int(s["T"]), s

    def book_state(self, sym):
        L, T, _ = self.snap(sym)
        return self.book.setdefault(sym, {"last": None, "top": L, "t": T})

    def depth_event(self, sym, U, u, pu, bids, asks):
        st = self.book_state(sym)
        st["t"] += 1
        st["top"] = max(st["top"], u)
        return {"e": "depthUpdate", "E": st["t"] + 5, "T": st["t"], "s": sym,
                "U": U, "u": u, "pu": pu, "b": bids, "a": asks}

    def prime(self, session, sym):
        """The event older than the snapshot sent on subscribe; the next one spans it."""
        if self.snap(sym) is None:
            return
        L, T, s = self.snap(sym)
        st = self.book_state(sym)
        st["last"] = None
        data = self.recorded_depth.get(sym)
        if data is None:
            data = {"e": "depthUpdate", "E": T - 95, "T": T - 100, "s": sym, "U": L - 20, "u": L - 10,
                    "pu": L - 21, "b": [[s["bids"][0][0], "999.999"]], "a": []}
        self.send_event(session, sym, "depth@100ms", data)

    def next_delta(self, sym, skip, bids, asks):
        L, _, _ = self.snap(sym)
        st = self.book_state(sym)
        if st["last"] is None:
            u = max(st["top"], L) + 3
            ev = self.depth_event(sym, L - 3, u, L - 4, bids, asks)
        elif skip > 0:
            first = st["last"] + 3 * skip + 1
            ev = self.depth_event(sym, first, first + 2, L, bids, asks)
        else:
            pu = st["last"]
            ev = self.depth_event(sym, pu + 1, pu + 3, pu, bids, asks)
        st["last"] = ev["u"]
        return ev

    # ---- protocol ----

    def tier(self, session):
        return session.path.split("?", 1)[0].rstrip("/")[len("/binance"):]

    def on_open(self, session):
        if self.tier(session) not in ("/public/stream", "/market/stream"):
            session.drop()          # only the combined-stream endpoints of the two tiers are mocked

    def wrong_tier(self, session, params):
        """The streams of params not served on this session's path."""
        public = self.tier(session) == "/public/stream"
        return [p for p in params if (p.partition("@")[2] in PUBLIC_KINDS) != public]

    def on_text(self, session, text):
        now = time.monotonic()
        times = [t for t in session.state.get("times", []) if now - t < 1.0] + [now]
        session.state["times"] = times
        if len(times) > MAX_MSGS_PER_S:
            session.drop()          # Binance: over the message limit, the connection is closed
            return
        try:
            req = json.loads(text)
        except ValueError:
            session.send_text({"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}})
            return
        rid = req.get("id") if isinstance(req, dict) else None
        if not isinstance(rid, int) or isinstance(rid, bool) or rid < 0:
            session.send_text({"error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
                               "id": rid})
            return
        method = req.get("method")
        params = req.get("params", [])
        if method == "LIST_SUBSCRIPTIONS":
            session.send_text({"result": list(self.streams(session)), "id": rid})
            return
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE") or not isinstance(params, list) or \
                not all(isinstance(p, str) and "@" in p and p.split("@")[0] == p.split("@")[0].lower() for p in params):
            session.send_text({"error": {"code": 2, "msg": "Invalid request: unknown variant or invalid params"},
                               "id": rid})
            return
        wrong = self.wrong_tier(session, params)
        if method == "SUBSCRIBE" and wrong:
            session.send_text({"error": {"code": 2, "msg": "Invalid request: %s is not served on %s"
                                         % (wrong[0], self.tier(session))}, "id": rid})
            return
        streams = self.streams(session)
        if method == "UNSUBSCRIBE":
            for p in params:
                if p in streams:
                    streams.remove(p)
            session.send_text({"result": None, "id": rid})
            return
        new = [p for p in params if p not in streams]
        if len(streams) + len(new) > self.MAX_STREAMS:
            session.drop()
            return
        streams.extend(new)
        session.send_text({"result": None, "id": rid})
        for p in new:
            sym, _, kind = p.partition("@")
            if kind == "depth@100ms":
                self.prime(session, sym.upper())

    # ---- actions ----

    def recorded_for(self, kind, sym):
        rows = self.recorded[kind]
        data = _copy(next((r for r in rows if r["s"] == sym), rows[0]))
        data["s"] = sym
        return data

    def action(self, name, params):
        if name not in ("replay", "book_delta", "trades"):
            raise KeyError(name)
        only = params.get("symbol")
        sent = 0
        for s in self.sessions_open():
            if name == "replay":
                for kind in self.REPLAY_KINDS:
                    for sym in self.symbols(s, kind):
                        if only is None or sym == only:
                            sent += self.send_event(s, sym, kind, self.recorded_for(kind, sym))
                for sym in self.symbols(s, "kline_1m"):
                    for k in self.klines:
                        if only is None or sym == only:
                            data = _copy(k)
                            data["s"] = data["k"]["s"] = sym
                            sent += self.send_event(s, sym, "kline_1m", data)
            elif name == "book_delta":
                for sym in self.symbols(s, "depth@100ms"):
                    if (only is None or sym == only) and self.snap(sym) is not None:
                        ev = self.next_delta(sym, int(params.get("skip", 0)),
                                             params.get("bids", []), params.get("asks", []))
                        sent += self.send_event(s, sym, "depth@100ms", ev)
            else:
                for sym in self.symbols(s, "aggTrade"):
                    if only is None or sym == only:
                        sent += self.start_trades(s, sym, params)
        return {"sent": sent}

    def tape_sessions(self, symbol):
        stream = symbol.lower() + "@aggTrade"
        return [s for s in self.sessions_open() if stream in self.streams(s)]

    def tape_frames(self, tape, lo, hi, now_ms):
        frame = ws.frame  # noqa: F821
        return b"".join(frame(0x1, tape.binance_ws_json(k, now_ms).encode()) for k in range(lo, hi))

    def send_trades(self, session, sym, params):
        def send(ns, price, qty):
            now = int(time.time() * 1000)
            frames = []
            for n in ns:
                a = 7000000000 + n
                frames.append(ws.frame(0x1, json.dumps(  # noqa: F821
                    {"stream": sym.lower() + "@aggTrade",
                     "data": {"e": "aggTrade", "E": now, "a": a, "s": sym, "p": price, "q": qty,
                              "f": a * 2, "l": a * 2, "T": now, "m": n % 2 == 1}},
                    separators=(",", ":")).encode()))
            return len(frames) if session.send_bytes(b"".join(frames)) else 0
        return self.paced_trades(session, params, "42700.10", "0.001", send)
