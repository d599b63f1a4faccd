"""Nado subscriptions stream (wss://gateway.prod.nado.xyz/v1/subscribe) for the
WebSocket mock, at ws://127.0.0.1:PORT/nado/v1/subscribe.  `ws` is ws_mock,
set by the loader.

Written from docs.nado.xyz ("API / Subscriptions": Streams, Events); no
recording exists.  The frames are the project's own payloads,
test/payloads/websocket/nado ("recorded" trees have none: the module then
has nothing to replay but generates what it sends).

Requests: {"method": "subscribe" | "unsubscribe", "stream": {"type": T,
"product_id": P[, "granularity": G]}, "id": N} and {"method": "list", "id":
N}.  Answers {"result": null, "id": N} (list: the subscriptions, with
{"type": "default"} first, as the documentation shows).  A request the
venue would refuse (unknown method or stream type, a product it does not
list, product_id null where the stream needs one, a granularity not in
60 300 900 3600 7200 14400 86400 604800 2419200) is answered with
{"status": "failure", "error": ..., "error_code": ..., "id": N}: the
documentation shows no refusal of this API, so the gateway's own shape is
used (a choice, as in the adapter).  Subscribing twice is answered like the
first time.  funding_rate and liquidation take product_id null: every
product.

Every connection subscribed to a stream of a product gets every event of
it; the venue's state (each product's book_depth chain) is the venue's, not
a connection's: it goes on while a client is away.

book_depth: the venue's events carry wall-clock times in ns (like the
gateway's REST market_liquidity answers of the REST mock for every product
but BTC, test/mock/venues/nado.py), so that a client's REST snapshot taken
after an event is newer than it, and the next event spans the snapshot
(last_max_timestamp before the snapshot's timestamp, max_timestamp after),
as with the venue.  Each event: min_timestamp and max_timestamp the send
time (max at least the previous max + 1), last_max_timestamp the previous
event's max_timestamp of the product (0 before the first).

Actions (every session subscribed to the stream of the product; product
defaults to 4, ETH):
    replay {product}      book_depth.eth_1..3.json in order, levels as in the
                          files, times rewritten as above
    book_delta {product, skip, bids, asks}
                          one book_depth event with the given levels
                          ([[price x18, size x18]], default none); skip = k
                          first advances the chain by k events nobody is
                          sent (lost): the event's last_max_timestamp is the
                          last lost one's max.  Answers {"sent", "last_max",
                          "max"} (the lost events' max times are last_max - k
                          + 1 .. last_max)
    trade_replay          trade.eth_buy.json, trade.eth_sell.json
    bbo                   best_bid_offer.eth.json
    funding               funding_rate.eth.json, and the same rate as product
                          2's (BTC) to sessions subscribed to every product
    candles               latest_candlestick.eth_1m_a, _b, _c (1m) and
                          .eth_2h.json (2h)
    liquidation           liquidation.json
    error                 error.invalid_product.json
    trades {count, per_frame, price, qty, rate}
                          generated trade events (timestamp now in ns, price
                          by default 3521.5, qty 0.01, x18; the taker side
                          alternates, the first a buy)
    tape / tape_status    (ws_mock's): trade k of the tape (test/mock/tape.py,
                          symbol = the product id, e.g. "4") is a trade event
                          with timestamp its time in ns, price and taker_qty
                          the tape's (x18), is_taker_buyer its side
"""

import json
import time

D = "websocket/nado/"
STREAMS = ("order_update", "trade", "best_bid_offer", "fill", "position_change", "book_depth", "liquidation",
           "latest_candlestick", "funding_payment", "funding_rate")
ALL_OK = ("order_update", "fill", "position_change", "liquidation", "funding_rate")
PRIVATE = ("order_update", "fill", "position_change")
GRANULARITIES = (60, 300, 900, 3600, 7200, 14400, 86400, 604800, 2419200)
PRODUCTS = (1, 2, 4, 8, 18, 100, 102, 104, 106, 108, 110)
X18 = 10 ** 18


def copy(obj):
    return json.loads(json.dumps(obj))


def x18(dec):
    """A decimal text (digits, optional point) as its x18 integer text, exactly."""
    ip, _, fp = str(dec).partition(".")
    return str(int(ip + fp.ljust(18, "0")[:18]))


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        fx = ws.optional_fixture_json  # noqa: F821
        self.books = [fx(D + "book_depth.eth_%d.json" % i) for i in (1, 2, 3)]
        self.trades_fx = [fx(D + "trade.eth_buy.json"), fx(D + "trade.eth_sell.json")]
        self.bbo_fx = fx(D + "best_bid_offer.eth.json")
        self.funding_fx = fx(D + "funding_rate.eth.json")
        self.candles_fx = [fx(D + "latest_candlestick.eth_1m_%s.json" % c) for c in "abc"]
        self.candle_2h = fx(D + "latest_candlestick.eth_2h.json")
        self.liq_fx = fx(D + "liquidation.json")
        self.error_fx = fx(D + "error.invalid_product.json")
        self.last_max = {}      # product -> max_timestamp of its last book_depth event (ns)

    # ---- subscriptions ----

    def subs(self, session):
        return session.state.setdefault("subs", [])

    def sessions_for(self, type_, product, granularity=None):
        """Open sessions subscribed to type_ of product (or of every product)."""
        out = []
        for s in self.sessions_open():
            for t, p, g in self.subs(s):
                if t == type_ and (p is None or p == product) and (granularity is None or g == granularity):
                    out.append(s)
                    break
        return out

    def fail(self, session, rid, msg, code=2016):
        session.send_text({"status": "failure", "error": msg, "error_code": code, "id": rid})

    def on_text(self, session, text):
        try:
            req = json.loads(text)
        except ValueError:
            return
        if not isinstance(req, dict):
            return
        rid = req.get("id")
        method = req.get("method")
        if method == "list":
            session.send_text({"result": [{"type": "default"}] +
                               [dict({"type": t, "product_id": p}, **({"granularity": g} if g else {}))
                                for t, p, g in self.subs(session)], "id": rid})
            return
        if method not in ("subscribe", "unsubscribe"):
            return self.fail(session, rid, "Invalid method: %r" % (method,))
        st = req.get("stream")
        if not isinstance(st, dict) or st.get("type") not in STREAMS:
            return self.fail(session, rid, "Invalid stream: %r" % (st,))
        t = st["type"]
        if t in PRIVATE:
            return self.fail(session, rid, "Stream %s requires authentication" % t, 2020)
        p = st.get("product_id")
        if p is None and t not in ALL_OK:
            return self.fail(session, rid, "product_id is required for %s" % t)
        if p is not None and (not isinstance(p, int) or isinstance(p, bool) or p not in PRODUCTS):
            return self.fail(session, rid, "Invalid product_id: %s" % (p,), 2015)
        g = None
        if t == "latest_candlestick":
            g = st.get("granularity")
            if g not in GRANULARITIES:
                return self.fail(session, rid, "Invalid granularity: %r" % (g,))
        key = (t, p, g)
        subs = self.subs(session)
        if method == "subscribe" and key not in subs:
            subs.append(key)
        elif method == "unsubscribe" and key in subs:
            subs.remove(key)
        session.send_text({"result": None, "id": rid})

    # ---- events ----

    def book_event(self, product, bids, asks, skip=0):
        now = time.time_ns()
        last = self.last_max.get(product, 0)
        for _ in range(int(skip)):
            last = max(now, last + 1)        # a lost event: nobody gets it
            now = last + 1
        mx = max(now, last + 1)
        self.last_max[product] = mx
        return {"type": "book_depth", "min_timestamp": str(mx), "max_timestamp": str(mx),
                "last_max_timestamp": str(last), "product_id": product, "bids": bids, "asks": asks}

    def send_all(self, sessions, msg):
        text = json.dumps(msg, separators=(",", ":"))
        return sum(s.send_text(text) for s in sessions)

    def for_product(self, frame, product):
        msg = copy(frame)
        msg["product_id"] = product
        return msg

    def action(self, name, params):
        p = int(params.get("product", 4))
        sent = 0
        if name == "replay":
            for rec in self.books:
                if rec is None:
                    continue
                ev = self.book_event(p, rec["bids"], rec["asks"])
                sent += self.send_all(self.sessions_for("book_depth", p), ev)
            return {"sent": sent}
        if name == "book_delta":
            ev = self.book_event(p, params.get("bids", []), params.get("asks", []), params.get("skip", 0))
            sent = self.send_all(self.sessions_for("book_depth", p), ev)
            return {"sent": sent, "last_max": int(ev["last_max_timestamp"]), "max": int(ev["max_timestamp"])}
        if name == "trade_replay":
            for rec in self.trades_fx:
                if rec is not None:
                    sent += self.send_all(self.sessions_for("trade", p), self.for_product(rec, p))
            return {"sent": sent}
        if name == "bbo":
            if self.bbo_fx is not None:
                sent = self.send_all(self.sessions_for("best_bid_offer", p), self.for_product(self.bbo_fx, p))
            return {"sent": sent}
        if name == "funding":
            if self.funding_fx is not None:
                sent = self.send_all(self.sessions_for("funding_rate", p), self.for_product(self.funding_fx, p))
                sent += self.send_all(self.sessions_for("funding_rate", 2), self.for_product(self.funding_fx, 2))
            return {"sent": sent}
        if name == "candles":
            for rec in self.candles_fx + [self.candle_2h]:
                if rec is not None:
                    sent += self.send_all(self.sessions_for("latest_candlestick", p, rec["granularity"]),
                                          self.for_product(rec, p))
            return {"sent": sent}
        if name in ("liquidation", "error"):
            rec = self.liq_fx if name == "liquidation" else self.error_fx
            return {"sent": self.send_all(self.sessions_open(), rec) if rec is not None else 0}
        if name == "trades":
            for s in self.sessions_for("trade", p):
                sent += self.start_trades(s, p, params)
            return {"sent": sent}
        raise KeyError(name)

    def send_trades(self, session, product, params):
        def send(ns, price, qty):
            now = time.time_ns()
            n = 0               # one trade a frame, as the venue sends them
            for k in ns:
                n += int(session.send_text({"type": "trade", "timestamp": str(now + k), "product_id": product,
                                            "price": x18(price), "taker_qty": x18(qty), "maker_qty": x18(qty),
                                            "is_taker_buyer": k % 2 == 1}))
            return n
        return self.paced_trades(session, params, "3521.5", "0.01", send)

    # ---- the trade tape ----

    def tape_sessions(self, symbol):
        if not symbol.isdigit():
            raise ValueError("a nado tape's symbol is a product id such as 4")
        return self.sessions_for("trade", int(symbol))

    def tape_frames(self, tape, lo, hi, now_ms):
        frame = ws.frame  # noqa: F821
        out = []
        for k in range(lo, hi):
            q = x18(tape.qty(k))
            text = ('{"type":"trade","timestamp":"%d","product_id":%s,"price":"%s","taker_qty":"%s",'
                    '"maker_qty":"%s","is_taker_buyer":%s}'
                    % (tape.time_ms(k) * 1000000, tape.symbol, x18(tape.price(k)), q, q,
                       "true" if tape.buy(k) else "false"))
            out.append(frame(0x1, text.encode()))
        return b"".join(out)
