"""Lighter public stream (wss://mainnet.zklighter.elliot.ai/stream) for the
WebSocket mock, at ws://127.0.0.1:PORT/lighter/stream.  `ws` is ws_mock,
set by the loader.

The frames come from the payload tree (test/payloads/websocket/lighter, or the
recorded ../shared/fixtures/websocket/lighter; "recorded" below means the
tree's file).  A client is greeted with the recorded `connected` frame.  It subscribes
with {"type":"subscribe","channel":"order_book/<id>"} (also trade/<id>,
market_stats/<id>); the mock answers as Lighter does:

    order_book/<id>     the recorded CRV snapshot (subscribed/order_book), channel
                        rewritten to the market.  The nonce chain continues per market
                        across connections and resubscriptions: the first snapshot has
                        the recorded nonce, a later one the nonce of the last book
                        message sent + 1000 (its levels are the recording's)
    market_stats/<id>   the recorded ETH statistics as subscribed/market_stats, market
                        id rewritten
    trade/<id>          nothing until an action sends trades
    a channel subscribed twice: the recorded "Already Subscribed" error frame;
    unsubscribe: the recorded `unsubscribed` frame; {"type":"ping"}: {"type":"pong"}

Actions (every market the connection subscribed):

    replay              the six recorded CRV updates in order; each begin_nonce is the
                        nonce of the market's last book message (so right after the
                        first snapshot they go out exactly as recorded)
    book_update {skip, bids, asks}
                        an update (default: bid 0.20300 x 1.0); skip > 0 starts it
                        `skip` nonces after the last one: a break in the chain
    trade_replay        the recorded CRV trade frame, market ids rewritten (in its
                        trades and liquidation_trades)
    trades {count, per_frame, price, qty, rate}
                        generated trades with ids 900000000001..: as fast as possible,
                        or `rate` trades per second from a background thread; the taker
                        side alternates (is_maker_ask true = a buy); price by default
                        the recorded trade's, qty 100.0
    market_stats {timestamp, fields}
                        the recorded ETH statistics (update/market_stats), market id
                        rewritten, the frame's timestamp and any field replaced
    market_stats_all    the recorded market_stats:all frame (GOOGL, market 116), with
                        the same statistics under each subscribed market id added
"""

import json
import time
import uuid

D = "websocket/lighter/"
KINDS = ("order_book", "trade", "market_stats")
NEXT_SNAPSHOT_STEP = 1000


def copy(obj):
    return json.loads(json.dumps(obj))


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        fx = ws.fixture_json  # noqa: F821
        self.connected = fx(D + "control.connected.json")
        self.already = fx(D + "control.error_already_subscribed.json")
        self.unsubscribed = fx(D + "control.unsubscribed.json")
        self.snapshot = fx(D + "order_book.subscribed.crv.json")
        self.updates = [fx(D + "order_book.update.crv_%d.json" % i) for i in range(1, 7)]
        self.trade = fx(D + "trade.update.crv.json")
        self.stats = fx(D + "market_stats.update.eth.json")
        self.stats_all = fx(D + "market_stats.update.all_googl.json")
        self.nonce = {}      # market id -> nonce of the last book message sent
        self.ts = {}         # market id -> its timestamp (ms)
        self.offset = {}     # market id -> its offset

    # ---- helpers ----

    def channels(self, session):
        return session.state.setdefault("channels", set())

    def markets(self, session, kind):
        return sorted({c.split("/", 1)[1] for c in self.channels(session) if c.startswith(kind + "/")})

    def book_msg(self, template, mid, begin, nonce, ts):
        msg = copy(template)
        self.offset[mid] = self.offset.get(mid, template["offset"] - 1) + 1
        msg["channel"] = "order_book:%s" % mid
        msg["timestamp"] = ts
        msg["offset"] = msg["order_book"]["offset"] = self.offset[mid]
        msg["last_updated_at"] = msg["order_book"]["last_updated_at"] = ts * 1000
        msg["order_book"]["nonce"] = nonce
        msg["order_book"]["begin_nonce"] = begin
        self.nonce[mid] = nonce
        self.ts[mid] = ts
        return msg

    def send_snapshot(self, session, mid):
        rec = self.snapshot
        if mid not in self.nonce:
            msg = self.book_msg(rec, mid, 0, rec["order_book"]["nonce"], rec["timestamp"])
        else:
            msg = self.book_msg(rec, mid, 0, self.nonce[mid] + NEXT_SNAPSHOT_STEP, self.ts[mid] + 1)
        session.send_text(msg)

    def stats_msg(self, mid, type_, ts=None, fields=None):
        msg = copy(self.stats)
        msg["type"] = type_
        msg["channel"] = "market_stats:%s" % mid
        msg["market_stats"]["market_id"] = int(mid)
        if ts is not None:
            msg["timestamp"] = int(ts)
        msg["market_stats"].update(fields or {})
        return msg

    # ---- protocol ----

    def on_open(self, session):
        msg = copy(self.connected)
        msg["session_id"] = str(uuid.uuid4())
        session.send_text(msg)

    def on_text(self, session, text):
        try:
            req = json.loads(text)
        except ValueError:
            return
        if not isinstance(req, dict):
            return
        op = req.get("type")
        if op == "ping":
            session.send_text({"type": "pong"})
            return
        if op not in ("subscribe", "unsubscribe"):
            session.send_text({"error": {"code": 30000, "message": "Invalid Type"}})
            return
        chan = req.get("channel")
        kind, _, mid = chan.partition("/") if isinstance(chan, str) else ("", "", "")
        if kind not in KINDS or not (mid.isdigit() or (kind == "market_stats" and mid == "all")):
            session.send_text({"error": {"code": 30001, "message": "Invalid Channel: %s" % chan}})
            return
        chans = self.channels(session)
        name = "%s:%s" % (kind, mid)
        if op == "unsubscribe":
            chans.discard(chan)
            msg = copy(self.unsubscribed)
            msg["channel"] = name
            session.send_text(msg)
            return
        if chan in chans:
            msg = copy(self.already)
            msg["error"]["message"] = "Already Subscribed to : " + name
            session.send_text(msg)
            return
        chans.add(chan)
        if kind == "order_book":
            self.send_snapshot(session, mid)
        elif kind == "market_stats" and mid != "all":
            session.send_text(self.stats_msg(mid, "subscribed/market_stats"))

    # ---- actions ----

    def action(self, name, params):
        if name not in ("replay", "book_update", "trade_replay", "trades", "market_stats", "market_stats_all"):
            raise KeyError(name)
        sent = 0
        for s in self.sessions_open():
            if name == "replay":
                for mid in self.markets(s, "order_book"):
                    for rec in self.updates:
                        begin = self.nonce[mid]
                        nonce = begin + rec["order_book"]["nonce"] - rec["order_book"]["begin_nonce"]
                        ts = max(rec["timestamp"], self.ts[mid] + 1)
                        sent += s.send_text(self.book_msg(rec, mid, begin, nonce, ts))
            elif name == "book_update":
                for mid in self.markets(s, "order_book"):
                    begin = self.nonce[mid] + int(params.get("skip", 0))
                    tmpl = copy(self.updates[0])
                    tmpl["order_book"]["bids"] = [{"price": p, "size": q}
                                                  for p, q in params.get("bids", [["0.20300", "1.0"]])]
                    tmpl["order_book"]["asks"] = [{"price": p, "size": q} for p, q in params.get("asks", [])]
                    sent += s.send_text(self.book_msg(tmpl, mid, begin, begin + 10, self.ts[mid] + 1))
            elif name == "trade_replay":
                for mid in self.markets(s, "trade"):
                    msg = copy(self.trade)
                    msg["channel"] = "trade:%s" % mid
                    for t in msg["trades"] + (msg.get("liquidation_trades") or []):
                        t["market_id"] = int(mid)
                    sent += s.send_text(msg)
            elif name == "trades":
                for mid in self.markets(s, "trade"):
                    sent += self.start_trades(s, mid, params)
            elif name == "market_stats":
                for mid in self.markets(s, "market_stats"):
                    if mid != "all":
                        sent += s.send_text(self.stats_msg(mid, "update/market_stats", params.get("timestamp"),
                                                           params.get("fields")))
            elif name == "market_stats_all":
                msg = copy(self.stats_all)
                rec = next(iter(msg["market_stats"].values()))
                for mid in self.markets(s, "market_stats"):
                    if mid != "all":
                        msg["market_stats"][mid] = dict(copy(rec), market_id=int(mid))
                sent += s.send_text(msg)
        return {"sent": sent}

    def send_trades(self, session, mid, params):
        def send(ns, price, qty):
            now_us = int(time.time() * 1000000)
            trades = []
            for n in ns:
                tid = 900000000000 + n
                trades.append({"trade_id": tid, "trade_id_str": str(tid), "tx_hash": "%080x" % n, "type": "trade",
                               "market_id": int(mid), "size": qty, "price": price, "usd_amount": "0",
                               "ask_id": 2 * n, "ask_id_str": str(2 * n), "bid_id": 2 * n + 1,
                               "bid_id_str": str(2 * n + 1), "ask_account_id": 1, "bid_account_id": 2,
                               "is_maker_ask": n % 2 == 1, "block_height": 303153774 + n,
                               "timestamp": now_us // 1000, "transaction_time": now_us})
            return int(session.send_text({"channel": "trade:%s" % mid, "liquidation_trades": [], "nonce": ns[-1],
                                          "trades": trades, "type": "update/trade"}))
        return self.paced_trades(session, params, self.trade["trades"][0]["price"], "100.0", send)

    # ---- the trade tape (ws_mock's): trades lo .. hi-1 in one trade update ----

    def tape_sessions(self, symbol):
        return [s for s in self.sessions_open() if symbol in self.markets(s, "trade")]

    def tape_frames(self, tape, lo, hi, now_ms):
        return ws.frame(0x1, tape.lighter_ws_json(lo, hi).encode())  # noqa: F821
