"""Pacifica public stream (wss://ws.pacifica.fi/ws) for the WebSocket mock,
reached at /pacifica/ws.  `ws` is ws_mock, set by the loader.

As the venue documents it (docs.pacifica.fi, API / Websocket): one endpoint;
{"method":"subscribe"|"unsubscribe","params":{"source":S, ...}} with source
prices (no symbol), book (symbol, agg_level one of 1 10 100 1000 10000),
bbo, trades (symbol), candle (symbol, interval); at most 20 subscriptions
per source on a connection; {"method":"ping"} answered {"channel":"pong"}.
Every subscribed connection receives every message of what it subscribed.
The venue's acknowledgement and error frames are not documented: this mock
answers a subscription with {"channel":"subscribe","data":<params>} and a
refused request with {"channel":"error","data":"<reason>"} (error.json).

Payloads (websocket/pacifica of the payload tree, else of test/payloads),
sent on subscription:

    prices  prices.json (every market), later the last one an action made
    book    the symbol's current book: book.json's (s rewritten) at its t at
            first; each later snapshot is time_delta ms newer than the newest
            sent (an action's, default 250: the venue's push period)
    bbo     bbo.json (s rewritten)
    trades, candle: nothing until an action (the venue sends what happens)

Actions:

    book {bids, asks, time_delta, keep}
                    a book snapshot to every session subscribed to a book: the given
                    levels ([[p, a], ...]; default the current book), time_delta ms
                    after the newest one sent (default 250; 0 or less: as old or
                    older); keep (default true) makes it the current book
    prices {fields} prices.json with the BTC element's fields overridden
    replay {frames: ["trades", "bbo", "candle.open", ...]}
                    those payload frames (s rewritten to each subscribed symbol)
                    to every session subscribed to their channel
    trades {count, per_frame, price, qty, rate}
                    generated trades, h from 90000001, t the wall clock
    error {text}    an error frame to every session
    state           {"sessions": [{"key", "subs": ["book:BTC", "candle:BTC:1m", ...],
                    "unsubscribed": ["book:BTC", ...]}, ...]}: what each open
                    connection subscribed, and unsubscribed since it opened
and the trade tape (test/mock/tape.py): tape_sessions / tape_frames below,
trade k as {"h": 70000000 + k, "s", "a": qty, "p": price, "d": open_long,
open_short, close_short, close_long by k % 4 (the taker buys when k is
even), "tc": "normal", "t": time, "li": 1600000000 + k}, every trade due at
a tick in one frame.
"""

import json
import os
import time

D = "websocket/pacifica/"
SOURCES = ("prices", "book", "bbo", "trades", "candle")
AGG_LEVELS = (1, 10, 100, 1000, 10000)
INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d")
MAX_PER_SOURCE = 20
SIDES = ("open_long", "open_short", "close_short", "close_long")


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        self.frames = {}
        for k in ("prices", "book", "bbo", "trades", "candle.open", "candle.closed", "candle.next"):
            # a payload tree without Pacifica's frames (the recorded one: none were recorded) gets the project's
            self.frames[k] = ws.optional_fixture_json(D + k + ".json") or json.loads(  # noqa: F821
                open(os.path.join(ws.ROOT, "test", "payloads", D + k + ".json"), encoding="utf-8").read())  # noqa: F821
        self.prices = self.frames["prices"]
        self.books = {}      # symbol -> [bids, asks] of {p, a, n}
        self.last_time = {}  # symbol -> newest book time sent (ms)

    # ---- helpers ----

    def subs(self, session):
        return session.state.setdefault("subs", set())

    def symbols(self, session, source):
        return sorted(k[1] for k in self.subs(session) if k[0] == source)

    def book_msg(self, sym, levels=None, delta=250):
        base = self.frames["book"]["data"]
        last = self.last_time.get(sym)
        t = base["t"] if last is None else last + delta
        self.last_time[sym] = t if last is None else max(last, t)
        if sym not in self.books:
            self.books[sym] = json.loads(json.dumps(base["l"]))
        return {"channel": "book", "data": {"l": levels if levels is not None else self.books[sym],
                                            "s": sym, "t": t, "li": base["li"] + t - base["t"]}}

    def renamed(self, name, sym):
        msg = json.loads(json.dumps(self.frames[name]))
        data = msg["data"]
        for d in data if isinstance(data, list) else [data]:
            d["s"] = sym
        return msg

    # ---- protocol ----

    def on_text(self, session, text):
        try:
            req = json.loads(text)
        except ValueError:
            req = None
        method = req.get("method") if isinstance(req, dict) else None
        if method == "ping":
            session.send_text({"channel": "pong"})
            return
        p = req.get("params") if isinstance(req, dict) else None
        if method not in ("subscribe", "unsubscribe") or not isinstance(p, dict) or p.get("source") not in SOURCES:
            session.send_text({"channel": "error", "data": "Invalid request " + text[:200]})
            return
        src, sym = p["source"], p.get("symbol")
        if src != "prices" and not isinstance(sym, str):
            session.send_text({"channel": "error", "data": "Missing symbol " + text[:200]})
            return
        if src == "book" and p.get("agg_level", 1) not in AGG_LEVELS:
            session.send_text({"channel": "error", "data": "Invalid agg_level " + text[:200]})
            return
        if src == "candle" and p.get("interval") not in INTERVALS:
            session.send_text({"channel": "error", "data": "Invalid interval " + text[:200]})
            return
        key = (src, sym or "", p.get("interval", ""))
        subs = self.subs(session)
        if method == "unsubscribe":
            subs.discard(key)
            session.state.setdefault("unsubscribed", []).append("%s:%s" % (src, sym or ""))
            session.send_text({"channel": "unsubscribe", "data": p})
            return
        if key not in subs and sum(1 for k in subs if k[0] == src) >= MAX_PER_SOURCE:
            session.send_text({"channel": "error", "data": "Too many subscriptions for %s" % src})
            return
        subs.add(key)
        session.send_text({"channel": "subscribe", "data": p})
        if src == "prices":
            session.send_text(self.prices)
        elif src == "book":
            session.send_text(self.book_msg(sym))
        elif src == "bbo":
            session.send_text(self.renamed("bbo", sym))

    # ---- actions ----

    def action(self, name, params):
        if name == "state":
            return {"sessions": [{"key": x.key, "subs": sorted("%s:%s%s" % (k[0], k[1], ":" + k[2] if k[2] else "")
                                                              for k in self.subs(x)),
                                  "unsubscribed": x.state.get("unsubscribed", [])}
                                 for x in self.sessions_open()]}
        if name not in ("book", "prices", "replay", "trades", "error"):
            raise KeyError(name)
        sent = 0
        if name == "prices":
            msg = json.loads(json.dumps(self.frames["prices"]))
            for d in msg["data"]:
                if d["symbol"] == "BTC":
                    d.update(params.get("fields") or {})
            self.prices = msg
        for s in self.sessions_open():
            if name == "book":
                for sym in self.symbols(s, "book"):
                    levels = None
                    if "bids" in params or "asks" in params:
                        levels = [[{"p": str(px), "a": str(q), "n": 1} for px, q in params.get(side, [])]
                                  for side in ("bids", "asks")]
                        if params.get("keep", True):
                            self.books[sym] = levels
                    sent += s.send_text(self.book_msg(sym, levels, int(params.get("time_delta", 250))))
            elif name == "prices":
                if self.symbols(s, "prices"):
                    sent += s.send_text(self.prices)
            elif name == "replay":
                for f in params.get("frames", []):
                    src = f.split(".")[0]
                    for sym in self.symbols(s, src):
                        sent += s.send_text(self.renamed(f, sym))
            elif name == "error":
                sent += s.send_text({"channel": "error", "data": params.get("text", "error")})
            else:
                for sym in self.symbols(s, "trades"):
                    sent += self.start_trades(s, sym, params)
        return {"sent": sent}

    def send_trades(self, session, sym, params):
        def send(ns, price, qty):
            now = int(time.time() * 1000)
            data = [{"h": 90000000 + n, "s": sym, "a": qty, "p": price, "d": SIDES[n % 4], "tc": "normal",
                     "t": now, "li": 1700000000 + n} for n in ns]
            return int(session.send_text({"channel": "trades", "data": data}))
        return self.paced_trades(session, params, "97100", "0.001", send)

    # ---- the trade tape ----

    def tape_sessions(self, symbol):
        return [s for s in self.sessions if s.open and ("trades", symbol, "") in self.subs(s)]

    def tape_frames(self, tape, lo, hi, now_ms):
        items = ",".join(
            '{"h":%d,"s":"%s","a":"%s","p":"%s","d":"%s","tc":"normal","t":%d,"li":%d}'
            % (70000000 + k, tape.symbol, tape.qty(k), tape.price(k), SIDES[k % 4], tape.time_ms(k),
               1600000000 + k) for k in range(lo, hi))
        return ws.frame(0x1, ('{"channel":"trades","data":[%s]}' % items).encode())  # noqa: F821
