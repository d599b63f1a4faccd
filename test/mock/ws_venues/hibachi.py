"""Hibachi market WebSocket (wss://data-api.hibachi.xyz/ws/market) for the
WebSocket mock, reached at /hibachi/ws/market.  `ws` is ws_mock, set by the
loader.

Written from Hibachi's API documentation ("Market Websocket API") and its
official SDK's market client, not from the C adapter.  Requests:

    {"method": "subscribe" | "unsubscribe", "parameters": {"subscriptions":
     [{"symbol": S, "topic": T, ...}, ...]}}
        topics mark_price, spot_price, ask_bid_price, funding_rate_estimation,
        trades, klines (with "interval": 1min 5min 15min 1h 4h 1d 1w) and
        orderbook (optional "depth" 1..100 and "granularity").  Subscribing
        gets no answer (the documentation: "no response"); what a topic pushes
        comes afterwards.  Unsubscribing needs no parameters.
    {"method": "list_subscription"} answers {"status": 200, "subscriptions": [...]}.
    Anything else (not JSON, an unknown method or topic, a bad symbol or
    interval) is answered {"status": 400, "error": "..."}: the documentation
    shows no error message, so its shape is the mock's (and error.json's).

The frames come from websocket/hibachi of the payload tree (ws_mock.FIXTURES);
the recorded tree has none (nothing was ever recorded from Hibachi's stream),
so there the project's own frames (test/payloads/websocket/hibachi) serve.

Every subscribed connection receives every message of its (topic, symbol),
and the venue's state (the book, its clock) goes on whoever is connected.

    orderbook   on subscribe, the symbol's current book as a Snapshot (every
                level); later Updates only through the actions below.  The
                book of a symbol starts as websocket/hibachi/orderbook.snapshot.json;
                each message is newer than the last one sent for the symbol
                (timestamp_ms + 1 unless an action says otherwise).
    price topics, funding_rate_estimation
                on subscribe, the current value (mark_price.json, spot_price.json,
                ask_bid_price.json, funding_rate_estimation.json; symbol rewritten)
    trades, klines
                nothing on subscribe; frames through the actions

Actions (to the sessions subscribed to the frame's topic and symbol):

    replay {frames: ["trades.json", ...], symbol}
                the payload frames named (websocket/hibachi/<name>), symbol rewritten
                (default BTC/USDT-P); an orderbook frame is sent as it is written,
                its timestamp_ms included, and does not change the mock's book
    book {bids, asks, bid_span, ask_span, time_delta, keep, symbol}
                an Update: levels [[price, qty], ...] per side (qty "0" deletes), the
                spans [startPrice, endPrice] (default: the levels' own extremes; a side
                given as null is sent as null, which empties it); timestamp_ms the
                newest sent + time_delta (default 1; negative: older than the book);
                keep (default true) applies it to the mock's book, as the venue's
                next Snapshot will show it
    trades {count, per_frame, price, qty, rate}
                generated trades (one "trade" a frame; sides alternating), timestamp
                the wall clock's second, quantity qty (default 0.001) with the trade's
                number appended (0.001 -> 0.00117), so that trades of the same second
                differ: Hibachi's trades have no id, and two identical ones in a second
                would get the same synthetic id
    tape {symbol, count, rate, t0_ms}, tape_status
                (ws_mock's): the symbol's trade tape (test/mock/tape.py) to every session
                subscribed to its trades, one frame a trade: price, quantity, takerSide
                Buy (k even) / Sell, timestamp = the trade's time in whole seconds, as
                the REST mock's /market/data/trades serves the same tape
"""

import json
import os
import time
from decimal import Decimal

D = "websocket/hibachi/"
TOPICS = ("mark_price", "spot_price", "ask_bid_price", "funding_rate_estimation", "trades", "klines", "orderbook")
PRICE_FILES = {"mark_price": "mark_price.json", "spot_price": "spot_price.json",
               "ask_bid_price": "ask_bid_price.json", "funding_rate_estimation": "funding_rate_estimation.json"}
INTERVALS = ("1min", "5min", "15min", "1h", "4h", "1d", "1w")
SYMBOL_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-_.")


def own_json(name):
    """A frame of the project's own payload tree (test/payloads/websocket/hibachi)."""
    with open(os.path.join(ws.ROOT, "test", "payloads", D, name), encoding="utf-8") as f:  # noqa: F821
        return json.loads(f.read())


def _level_map(side):
    return {Decimal(lv["price"]): lv["quantity"] for lv in (side or {}).get("levels", [])}


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        # the recorded tree (ws_mock.FIXTURES) has no Hibachi frames: the project's own then
        self.snapshot = ws.optional_fixture_json(D + "orderbook.snapshot.json") or own_json("orderbook.snapshot.json")  # noqa: F821
        self.books = {}      # symbol -> {"bid": {Decimal price: qty text}, "ask": {...}}
        self.last_ms = {}    # symbol -> newest timestamp_ms sent

    # ---- state ----

    def subs(self, session):
        return session.state.setdefault("subs", {})     # (topic, symbol[, interval]) -> params

    def subscribed(self, topic, symbol, interval=None):
        key = (topic, symbol) if interval is None else (topic, symbol, interval)
        return [s for s in self.sessions_open() if key in self.subs(s)]

    def book_of(self, sym):
        if sym not in self.books:
            self.books[sym] = {"bid": _level_map(self.snapshot["data"]["bid"]),
                               "ask": _level_map(self.snapshot["data"]["ask"])}
        return self.books[sym]

    def next_ms(self, sym, delta=1):
        last = self.last_ms.get(sym)
        t = self.snapshot["timestamp_ms"] if last is None else last + delta
        self.last_ms[sym] = t if last is None else max(last, t)
        return t

    @staticmethod
    def side_json(levels, bid, span=None):
        prices = sorted(levels, reverse=bid)
        if span is None:
            span = (str(prices[0]), str(prices[-1])) if prices else ("0", "0")
        return {"endPrice": span[1], "levels": [{"price": str(p), "quantity": levels[p]} for p in prices],
                "startPrice": span[0]}

    def book_msg(self, sym, mtype, data, ms):
        return {"data": data, "depth": 100, "granularity": "0.1", "messageType": mtype, "symbol": sym,
                "timestamp_ms": ms, "topic": "orderbook"}

    def snapshot_msg(self, sym):
        book = self.book_of(sym)
        return self.book_msg(sym, "Snapshot", {"ask": self.side_json(book["ask"], False),
                                               "bid": self.side_json(book["bid"], True)}, self.next_ms(sym))

    def payload(self, name, sym):
        msg = ws.optional_fixture_json(D + name) or own_json(name)  # noqa: F821
        msg["symbol"] = sym
        return msg

    # ---- protocol ----

    def error(self, session, text):
        session.send_text({"error": text[:200], "status": 400})

    def on_text(self, session, text):
        try:
            req = json.loads(text)
        except ValueError:
            return self.error(session, "invalid JSON")
        if not isinstance(req, dict):
            return self.error(session, "invalid request")
        method = req.get("method")
        if method == "list_subscription":
            session.send_text({"status": 200, "subscriptions": [dict(p, symbol=k[1], topic=k[0])
                                                                for k, p in self.subs(session).items()]})
            return
        subs = (req.get("parameters") or {}).get("subscriptions") if isinstance(req.get("parameters"), dict) else None
        if method not in ("subscribe", "unsubscribe") or not isinstance(subs, list):
            return self.error(session, "invalid method or parameters")
        for sub in subs:
            if not isinstance(sub, dict):
                return self.error(session, "invalid subscription")
            topic, sym = sub.get("topic"), sub.get("symbol")
            if topic not in TOPICS:
                return self.error(session, "Invalid subscription: unknown topic %s" % topic)
            if not isinstance(sym, str) or not sym or not set(sym) <= SYMBOL_CHARS:
                return self.error(session, "Invalid subscription: bad symbol")
            iv = sub.get("interval")
            if topic == "klines" and method == "subscribe" and iv not in INTERVALS:
                return self.error(session, "Invalid subscription: bad interval %s" % iv)
        for sub in subs:
            topic, sym = sub["topic"], sub["symbol"]
            key = (topic, sym, sub["interval"]) if topic == "klines" and "interval" in sub else (topic, sym)
            if method == "unsubscribe":
                for k in [k for k in self.subs(session) if k[:2] == (topic, sym) and (k == key or len(key) == 2)]:
                    del self.subs(session)[k]
                continue
            self.subs(session)[key] = {k: v for k, v in sub.items() if k not in ("topic", "symbol")}
            if topic == "orderbook":
                session.send_text(self.snapshot_msg(sym))
            elif topic in PRICE_FILES:
                session.send_text(self.payload(PRICE_FILES[topic], sym))

    # ---- actions ----

    def action(self, name, params):
        if name == "replay":
            return self.replay(params)
        if name == "book":
            return self.book_update(params)
        if name == "trades":
            return {"sent": sum(self.start_trades(s, k[1], params) for s in self.sessions_open()
                                for k in list(self.subs(s)) if k[0] == "trades")}
        raise KeyError(name)

    def replay(self, params):
        sym = params.get("symbol", "BTC/USDT-P")
        sent = 0
        for name in params.get("frames", []):
            msg = self.payload(name, sym)
            iv = msg.get("interval") if msg["topic"] == "klines" else None
            for s in self.subscribed(msg["topic"], sym, iv):
                sent += s.send_text(msg)
        return {"sent": sent}

    def book_update(self, params):
        sym = params.get("symbol", "BTC/USDT-P")
        book = self.book_of(sym)
        data = {}
        for side, bid in (("bid", True), ("ask", False)):
            key = side + "s"
            if key not in params:
                continue
            if params[key] is None:
                data[side] = None
                if params.get("keep", True):
                    book[side] = {}
                continue
            levels = {Decimal(str(p)): str(q) for p, q in params[key]}
            span = params.get(side + "_span")
            out = self.side_json(levels, bid, tuple(str(x) for x in span) if span else None)
            data[side] = out
            if params.get("keep", True):
                lo, hi = sorted((Decimal(out["startPrice"]), Decimal(out["endPrice"])))
                kept = {p: q for p, q in book[side].items() if lo <= p <= hi}
                for p, q in levels.items():
                    if Decimal(q) == 0:
                        kept.pop(p, None)
                    else:
                        kept[p] = q
                book[side] = kept
        msg = self.book_msg(sym, "Update", data, self.next_ms(sym, int(params.get("time_delta", 1))))
        return {"sent": sum(s.send_text(msg) for s in self.subscribed("orderbook", sym))}

    def send_trades(self, session, sym, params):
        def send(ns, price, qty):
            now = int(time.time())
            n = 0
            for k in ns:
                n += int(session.send_text({"data": {"trade": {"price": price, "quantity": "%s%d" % (qty, k),
                                                               "takerSide": "Buy" if k % 2 else "Sell",
                                                               "timestamp": now}},
                                            "symbol": sym, "topic": "trades"}))
            return n
        return self.paced_trades(session, params, "97300.5", "0.001", send)

    # ---- the trade tape ----

    def tape_sessions(self, symbol):
        return self.subscribed("trades", symbol)

    def tape_frames(self, tape, lo, hi, now_ms):
        frame = ws.frame  # noqa: F821
        return b"".join(frame(0x1, tape_frame(tape, k).encode()) for k in range(lo, hi))


def tape_frame(tape, k):
    """Trade k of a tape as Hibachi's trades frame (string formatting: the tape is fast)."""
    return ('{"data":{"trade":{"price":"%s","quantity":"%s","takerSide":"%s","timestamp":%d}},'
            '"symbol":"%s","topic":"trades"}' % (tape.price(k), tape.qty(k), "Buy" if tape.buy(k) else "Sell",
                                                 tape.time_ms(k) // 1000, tape.symbol))
