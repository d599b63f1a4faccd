"""Hyperliquid public stream (wss://api.hyperliquid.xyz/ws) for the WebSocket
mock, reached at /hyperliquid/ws.  `ws` is ws_mock, set by the loader.

{"method":"subscribe","subscription":{"type":T,"coin":C}} is answered with a
subscriptionResponse echoing the subscription, then the payload frame of
that type for the coin (coin rewritten), from websocket/hyperliquid of the
payload tree (test/payloads, or the recorded one: see ws_mock.FIXTURES):

    l2Book          the current book of the coin: l2Book.json's snapshot at first
                    (at its time), later the last one an action made; every
                    snapshot after the first is 1 ms newer than the newest sent
    trades          the trades of trades.json
    activeAssetCtx  the coin's context from allDexsAssetCtxs.trimmed.json: the
                    main dex's ("") contexts follow the order of the universe of
                    hyperliquid/fetchMarkets.meta_nautilus.json, the meta they
                    were served with; other coins get the first one's
    bbo             bbo.json (the project's own frame; none in the recorded tree)
    candle          (with "interval") nothing at once; see the candles action

A builder-deployed (HIP-3) DEX's coins, "dex:COIN" (xyz:XYZ100), are served on
the same endpoint, as the one real host serves them: l2Book, trades,
activeAssetCtx and bbo of a coin of dex xyz come from l2Book.xyz.json,
trades.xyz.json, activeAssetCtx.xyz.json and bbo.xyz.json (the project's own
frames; a tree without them serves the main dex's, coin rewritten).  Every
session gets the frames of its own subscriptions only, so the main venue's
worker and a DEX's, connected at once, each see their own coins.

{"method":"ping"} is answered with {"channel":"pong"}; anything else with an
error frame.  Actions:

    book {bids, asks, time_delta, keep}
                    an l2Book snapshot with the given levels ([[px, sz], ...]; default:
                    the current book), time_delta ms after the newest snapshot sent
                    (default 1; 0 or less: a snapshot as old as or older than it);
                    keep (default true) makes it the coin's current book
    trades {count, per_frame, price, qty, rate}
                    generated trades with tids 900000000001, ...: as fast as possible,
                    or `rate` trades per second from a background thread
    ctx {fields}    an activeAssetCtx with the recorded context, fields overridden
    tape, tape_status   (ws_mock's) the coin's trade tape (test/mock/tape.py, venue
                    "hyperliquid", the coin as symbol: BTC, xyz:XYZ100) to every session
                    subscribed to its trades, the trades due at a tick in one frame
    candles         to every candle subscription of interval 1m: candle.open.json,
                    candle.closed.json, candle.next.json (the same candle going, then
                    final, then the next one opened; s rewritten)
"""

import json
import time

D = "websocket/hyperliquid/"
TYPES = ("l2Book", "trades", "activeAssetCtx", "bbo", "candle")
INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M")


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        self.book_frame = ws.fixture_json(D + "l2Book.json")  # noqa: F821
        self.trades_frame = ws.fixture_json(D + "trades.json")  # noqa: F821
        ctxs = ws.fixture_json(D + "allDexsAssetCtxs.trimmed.json")["data"]["ctxs"]  # noqa: F821
        self.ctxs = next(c for dex, c in ctxs if dex == "")
        # the coins of the contexts, in order (the meta universe served with them)
        self.universe = [u["name"] for u in
                         ws.fixture_json("hyperliquid/fetchMarkets.meta_nautilus.json")["universe"]]  # noqa: F821
        self.bbo_frame = ws.optional_fixture_json(D + "bbo.json")  # noqa: F821
        self.candles = [c for c in (ws.optional_fixture_json(D + "candle.%s.json" % k)  # noqa: F821
                                    for k in ("open", "closed", "next")) if c]
        # a HIP-3 DEX's own frames, by dex and channel (None: the main dex's are used)
        self.dex_frames = {"xyz": {t: ws.optional_fixture_json(D + "%s.xyz.json" % t)  # noqa: F821
                                   for t in ("l2Book", "trades", "activeAssetCtx", "bbo")}}
        self.books = {}      # coin -> [bids, asks] of WsLevel, the current book
        self.last_time = {}  # coin -> newest l2Book time sent (ms)

    # ---- helpers ----

    def subs(self, session):
        return session.state.setdefault("subs", set())

    def coins(self, session, typ):
        return sorted(c for t, c in self.subs(session) if t == typ)

    def frame_for(self, typ, coin, main):
        """The frame of channel typ for coin: its DEX's own when there is one, else main."""
        dex = coin.split(":", 1)[0] if ":" in coin else ""
        return self.dex_frames.get(dex, {}).get(typ) or main

    def book_of(self, coin):
        if coin not in self.books:
            frame = self.frame_for("l2Book", coin, self.book_frame)
            self.books[coin] = json.loads(json.dumps(frame["data"]["levels"]))
        return self.books[coin]

    def book_msg(self, coin, levels=None, delta=1):
        last = self.last_time.get(coin)
        t = self.frame_for("l2Book", coin, self.book_frame)["data"]["time"] if last is None else last + delta
        self.last_time[coin] = t if last is None else max(last, t)
        return {"channel": "l2Book", "data": {"coin": coin, "time": t,
                                               "levels": levels if levels is not None else self.book_of(coin)}}

    def ctx_msg(self, coin, fields=None):
        own = self.frame_for("activeAssetCtx", coin, None)
        i = self.universe.index(coin) if coin in self.universe[:len(self.ctxs)] else 0
        ctx = dict(own["data"]["ctx"] if own else self.ctxs[i])
        ctx.update(fields or {})
        return {"channel": "activeAssetCtx", "data": {"coin": coin, "ctx": ctx}}

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
        sub = req.get("subscription") if isinstance(req, dict) else None
        if (method not in ("subscribe", "unsubscribe") or not isinstance(sub, dict)
                or sub.get("type") not in TYPES or not isinstance(sub.get("coin"), str)):
            session.send_text({"channel": "error", "data": "Invalid subscription " + text[:200]})
            return
        typ, coin = sub["type"], sub["coin"]
        echo = {"type": typ, "coin": coin}
        if typ == "candle":
            if sub.get("interval") not in INTERVALS:
                session.send_text({"channel": "error", "data": "Invalid subscription " + text[:200]})
                return
            echo["interval"] = sub["interval"]
            typ = "candle:" + sub["interval"]
        if typ == "l2Book":
            echo.update({"nSigFigs": None, "mantissa": None})
        session.send_text({"channel": "subscriptionResponse", "data": {"method": method, "subscription": echo}})
        if method == "unsubscribe":
            self.subs(session).discard((typ, coin))
            return
        self.subs(session).add((typ, coin))
        if typ == "l2Book":
            session.send_text(self.book_msg(coin))
        elif typ == "trades":
            msg = json.loads(json.dumps(self.frame_for("trades", coin, self.trades_frame)))
            for t in msg["data"]:
                t["coin"] = coin
            session.send_text(msg)
        elif typ == "bbo":
            bbo = self.frame_for("bbo", coin, self.bbo_frame)
            if bbo:
                msg = json.loads(json.dumps(bbo))
                msg["data"]["coin"] = coin
                session.send_text(msg)
        elif typ == "activeAssetCtx":
            session.send_text(self.ctx_msg(coin))

    # ---- actions ----

    def action(self, name, params):
        if name not in ("book", "trades", "ctx", "candles"):
            raise KeyError(name)
        sent = 0
        for s in self.sessions_open():
            if name == "book":
                for coin in self.coins(s, "l2Book"):
                    levels = None
                    if "bids" in params or "asks" in params:
                        levels = [[{"px": str(p), "sz": str(q), "n": 1} for p, q in params.get(side, [])]
                                  for side in ("bids", "asks")]
                        if params.get("keep", True):
                            self.books[coin] = levels
                    sent += s.send_text(self.book_msg(coin, levels, int(params.get("time_delta", 1))))
            elif name == "ctx":
                for coin in self.coins(s, "activeAssetCtx"):
                    sent += s.send_text(self.ctx_msg(coin, params.get("fields")))
            elif name == "candles":
                for coin in self.coins(s, "candle:1m"):
                    for c in self.candles:
                        msg = json.loads(json.dumps(c))
                        msg["data"]["s"] = coin
                        sent += s.send_text(msg)
            else:
                for coin in self.coins(s, "trades"):
                    sent += self.start_trades(s, coin, params)
        return {"sent": sent}

    # the trade tape (ws_mock's): trades lo .. hi-1 in one trades frame, as a block's trades come
    def tape_sessions(self, symbol):
        return [s for s in self.sessions_open() if ("trades", symbol) in self.subs(s)]

    def tape_frames(self, tape, lo, hi, now_ms):
        text = '{"channel":"trades","data":[%s]}' % ",".join(tape.hyperliquid_json(k) for k in range(lo, hi))
        return ws.frame(0x1, text.encode())  # noqa: F821

    def send_trades(self, session, coin, params):
        def send(ns, price, qty):
            now = int(time.time() * 1000)
            data = [{"coin": coin, "side": "B" if n % 2 else "A", "px": price, "sz": qty,
                     "time": now, "hash": "0x%064x" % n, "tid": 900000000000 + n,
                     "users": ["0x%040x" % 1, "0x%040x" % 2]} for n in ns]
            return int(session.send_text({"channel": "trades", "data": data}))
        return self.paced_trades(session, params, "106300.0", "0.001", send)
