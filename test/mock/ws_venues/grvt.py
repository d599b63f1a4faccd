"""GRVT market-data stream (wss://market-data.grvt.io/ws/full) for the
WebSocket mock, at ws://127.0.0.1:PORT/grvt/ws/full.  `ws` is ws_mock, set by
the loader.

Written from GRVT's documentation (api-docs.grvt.io, "MarketData Websocket
Streams"); the frames are the project's own, test/payloads/websocket/grvt (no
recording of GRVT's stream exists).  The mock behaves like the venue, not
like the worker: state is the venue's, per (stream, instrument), and every
connection subscribed to a feed is sent every message of it.

Requests are JSON-RPC 2.0:
    {"jsonrpc":"2.0","method":"subscribe"|"unsubscribe",
     "params":{"stream":S,"selectors":["<instrument>@<suffix>",...]},"id":N}
answered {"jsonrpc":"2.0","result":{"stream":S,"subs":[..],"unsubs":[],
"num_snapshots":[1,..],"first_sequence_number":[..],"latest_sequence_number":
[..]},"id":N,"method":"subscribe"} (unsubscribe: {"stream","unsubs"}), or
{"jsonrpc":"2.0","error":{"code":C,"message":M},"id":N,"method":..}: 1101 a
selector without "@", 3000 an instrument that is not <BASE>_USDT_Perp, 3030
a rate the stream does not take, 1003 an unknown stream, 1000 a request
that is not JSON-RPC.  Streams and suffixes (the documented ones):

    v1.book.d    instrument@rate (50, 100, 500, 1000): on subscription the
                 recorded snapshot (sequence number 0, levels of
                 book.d.snapshot.json, the instrument rewritten); deltas only
                 from actions
    v1.trade     instrument@limit (50, 200, 500, 1000): trades from actions
                 and the tape
    v1.ticker.s  instrument@rate (500, 1000, 5000): on subscription the
                 recorded ticker (ticker.s.json); more from the action
    v1.candle    instrument@CI_<n>_<unit>-TRADE: on subscription the recorded
                 open candle (sequence number 0); more from the action

Sequence numbers are the venue's, per (stream, instrument), shared by every
connection: each feed message takes the next one, prev_sequence_number the
one before; snapshots go out with 0.  The book's chain starts at 4000, so the
recorded deltas go out as recorded right after the first snapshot.

Actions (on every connection subscribed to the feed, every instrument):

    replay {instrument}
                      the three recorded book deltas, renumbered to continue the chain
                      (of one instrument, or of every one subscribed)
    book_update {instrument, skip, bids, asks}
                      one delta (default: bid 98950.1 x 1.000); skip > 0 advances the
                      chain by skip first: the deltas between are lost (a gap)
    trade_replay      the two recorded trades (trade.buy.json, trade.sell.json)
    trades {count, per_frame, price, qty, rate}
                      generated trades, ids "90000000<n>-1", event_time now; the taker
                      side alternates (n odd: a buy); price 98951.5, qty 0.010 by default
    ticker {event_time, fields}
                      the recorded ticker, its event_time (ns) and any field replaced
    candle {which}    the recorded candle "closed" (the open one, later) or "next" (the
                      following minute's)
    error             the recorded refusal (error.invalid_instrument.json)
    tape {symbol: "BTC_USDT_Perp", count, rate, t0_ms}, tape_status
                      (ws_mock's, see there): the instrument's trade tape
                      (test/mock/tape.py) as v1.trade feeds, one trade each, to every
                      connection subscribed to the instrument's trades at that moment
"""

import json
import os
import re
import time

D = "websocket/grvt/"
INSTRUMENT = re.compile(r"^[A-Z0-9]+_USDT_Perp$")
SUFFIX = {
    "v1.book.d": re.compile(r"^(50|100|500|1000)$"),
    "v1.trade": re.compile(r"^(50|200|500|1000)$"),
    "v1.ticker.s": re.compile(r"^(500|1000|5000)$"),
    "v1.candle": re.compile(r"^CI_(1|3|5|15|30)_M-TRADE$|^CI_(1|2|4|6|8|12)_H-TRADE$|^CI_1_D-TRADE$"),
}
BOOK_SEQ0 = 4000


def fx(rel):
    """A frame of the payload tree; the project's own where the tree has none (no recording
    of GRVT's stream exists, so the recorded tree has none)."""
    try:
        return ws.fixture_json(D + rel)  # noqa: F821
    except FileNotFoundError:
        with open(os.path.join(ws.ROOT, "test", "payloads", D, rel), encoding="utf-8") as f:  # noqa: F821
            return json.load(f)


def copy(obj):
    return json.loads(json.dumps(obj))


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        self.snapshot = fx("book.d.snapshot.json")
        self.deltas = [fx("book.d.delta_%d.json" % i) for i in (1, 2, 3)]
        self.trades_rec = [fx("trade.buy.json"), fx("trade.sell.json")]
        self.ticker_rec = fx("ticker.s.json")
        self.candles = {w: fx("candle.%s.json" % w) for w in ("open", "closed", "next")}
        self.error_rec = fx("error.invalid_instrument.json")
        self.seq = {}           # (stream, instrument) -> the last sequence number sent
        self.book_ts = {}       # instrument -> event_time (ns) of its last book message

    # ---- helpers ----

    def subs(self, session):
        """{(stream, instrument): selector} of the session."""
        return session.state.setdefault("subs", {})

    def subscribed(self, stream, inst=None):
        """[(session, instrument, selector)] of the open sessions subscribed to stream."""
        out = []
        for s in self.sessions_open():
            for (st, i), sel in sorted(self.subs(s).items()):
                if st == stream and (inst is None or i == inst):
                    out.append((s, i, sel))
        return out

    def next_seq(self, stream, inst, skip=0):
        key = (stream, inst)
        last = self.seq.get(key, BOOK_SEQ0 if stream == "v1.book.d" else 0) + skip
        self.seq[key] = last + 1
        return last + 1, last

    def feed(self, stream, selector, sn, prev, body):
        return {"stream": stream, "selector": selector, "sequence_number": str(sn), "feed": body,
                "prev_sequence_number": str(prev)}

    def answer(self, session, rid, method, result=None, error=None):
        msg = {"jsonrpc": "2.0"}
        if error is not None:
            msg["error"] = {"code": error[0], "message": error[1]}
        else:
            msg["result"] = result
        if rid is not None:
            msg["id"] = rid
        msg["method"] = method
        session.send_text(msg)

    def book_body(self, template, inst, ts):
        body = copy(template["feed"])
        body["instrument"] = inst
        body["event_time"] = str(ts)
        self.book_ts[inst] = ts
        return body

    def send_snapshot(self, session, inst, sel):
        ts = max(int(self.snapshot["feed"]["event_time"]), self.book_ts.get(inst, 0) + 1000000)
        session.send_text(self.feed("v1.book.d", sel, 0, 0, self.book_body(self.snapshot, inst, ts)))

    # ---- protocol ----

    def on_text(self, session, text):
        try:
            req = json.loads(text)
        except ValueError:
            req = None
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("params"), dict):
            self.answer(session, None, "", error=(1000, "Request is not a JSON-RPC 2.0 request"))
            return
        rid, method, params = req.get("id"), req.get("method"), req["params"]
        stream, sels = params.get("stream"), params.get("selectors")
        if method not in ("subscribe", "unsubscribe"):
            self.answer(session, rid, str(method), error=(1000, "Method is not supported"))
            return
        if stream not in SUFFIX:
            self.answer(session, rid, method, error=(1003, "Stream is not supported"))
            return
        if not isinstance(sels, list) or not all(isinstance(x, str) for x in sels):
            self.answer(session, rid, method, error=(1101, "Feed Format must be in the format of @"))
            return
        parsed = []
        for sel in sels:
            inst, at, suffix = sel.partition("@")
            if not at:
                self.answer(session, rid, method, error=(1101, "Feed Format must be in the format of @"))
                return
            if not INSTRUMENT.match(inst):
                self.answer(session, rid, method, error=(3000, "Instrument is invalid"))
                return
            if not SUFFIX[stream].match(suffix):
                self.answer(session, rid, method, error=(3030, "Feed rate is invalid"))
                return
            parsed.append((inst, sel))
        subs = self.subs(session)
        if method == "unsubscribe":
            for inst, sel in parsed:
                subs.pop((stream, inst), None)
            self.answer(session, rid, method, result={"stream": stream, "unsubs": sels})
            return
        first, latest = [], []
        for inst, sel in parsed:
            # subscribing a primary selector again replaces its secondary selector
            subs[(stream, inst)] = sel
            last = self.seq.get((stream, inst), BOOK_SEQ0 if stream == "v1.book.d" else 0)
            first.append(str(last + 1))
            latest.append(str(last))
        self.answer(session, rid, method, result={"stream": stream, "subs": sels, "unsubs": [],
                                                  "num_snapshots": [1] * len(sels),
                                                  "first_sequence_number": first,
                                                  "latest_sequence_number": latest})
        for inst, sel in parsed:
            if stream == "v1.book.d":
                self.send_snapshot(session, inst, sel)
            elif stream == "v1.ticker.s":
                body = copy(self.ticker_rec["feed"])
                body["instrument"] = inst
                sn, prev = self.next_seq(stream, inst)
                session.send_text(self.feed(stream, sel, sn, prev, body))
            elif stream == "v1.candle":
                body = copy(self.candles["open"]["feed"])
                body["instrument"] = inst
                session.send_text(self.feed(stream, sel, 0, 0, body))

    # ---- actions ----

    def action(self, name, params):
        sent = 0
        if name in ("replay", "book_update"):
            insts = sorted({i for _, i, _ in self.subscribed("v1.book.d", params.get("instrument"))})
            for inst in insts:
                msgs = []
                if name == "replay":
                    for rec in self.deltas:
                        ts = max(int(rec["feed"]["event_time"]), self.book_ts.get(inst, 0) + 1000000)
                        sn, prev = self.next_seq("v1.book.d", inst)
                        msgs.append((sn, prev, self.book_body(rec, inst, ts)))
                else:
                    tmpl = copy(self.deltas[0])
                    tmpl["feed"]["bids"] = [{"price": p, "size": q, "num_orders": 1}
                                            for p, q in params.get("bids", [["98950.1", "1.000"]])]
                    tmpl["feed"]["asks"] = [{"price": p, "size": q, "num_orders": 1}
                                            for p, q in params.get("asks", [])]
                    sn, prev = self.next_seq("v1.book.d", inst, int(params.get("skip", 0)))
                    msgs.append((sn, prev, self.book_body(tmpl, inst, self.book_ts.get(inst, 0) + 1000000)))
                for s, i, sel in self.subscribed("v1.book.d", inst):
                    for sn, prev, body in msgs:
                        sent += s.send_text(self.feed("v1.book.d", sel, sn, prev, body))
        elif name == "trade_replay":
            for inst in sorted({i for _, i, _ in self.subscribed("v1.trade")}):
                msgs = []
                for rec in self.trades_rec:
                    body = copy(rec["feed"])
                    body["instrument"] = inst
                    msgs.append((self.next_seq("v1.trade", inst), body))
                for s, i, sel in self.subscribed("v1.trade", inst):
                    for (sn, prev), body in msgs:
                        sent += s.send_text(self.feed("v1.trade", sel, sn, prev, body))
        elif name == "trades":
            for s, inst, sel in self.subscribed("v1.trade"):
                sent += self.start_trades(s, (inst, sel), params)
        elif name == "ticker":
            for inst in sorted({i for _, i, _ in self.subscribed("v1.ticker.s")}):
                body = copy(self.ticker_rec["feed"])
                body["instrument"] = inst
                if "event_time" in params:
                    body["event_time"] = str(params["event_time"])
                body.update(params.get("fields") or {})
                sn, prev = self.next_seq("v1.ticker.s", inst)
                for s, i, sel in self.subscribed("v1.ticker.s", inst):
                    sent += s.send_text(self.feed("v1.ticker.s", sel, sn, prev, body))
        elif name == "candle":
            rec = self.candles[params.get("which", "closed")]
            for inst in sorted({i for _, i, _ in self.subscribed("v1.candle")}):
                body = copy(rec["feed"])
                body["instrument"] = inst
                sn, prev = self.next_seq("v1.candle", inst)
                for s, i, sel in self.subscribed("v1.candle", inst):
                    if sel.endswith("@CI_1_M-TRADE"):
                        sent += s.send_text(self.feed("v1.candle", sel, sn, prev, body))
        elif name == "error":
            for s in self.sessions_open():
                sent += s.send_text(self.error_rec)
        else:
            raise KeyError(name)
        return {"sent": sent}

    def send_trades(self, session, key, params):
        inst, sel = key

        def send(ns, price, qty):
            now_ns = int(time.time() * 1000) * 1000000
            batch = b""
            for n in ns:
                body = {"event_time": str(now_ns), "instrument": inst, "is_taker_buyer": n % 2 == 1,
                        "size": qty, "price": price, "mark_price": price, "index_price": price,
                        "interest_rate": "0.0", "forward_price": "0.0", "trade_id": "90000000%d-1" % n,
                        "venue": "ORDERBOOK", "is_liquidation": False, "trade_index": 1, "is_rpi": False}
                with self.lock:
                    sn, prev = self.next_seq("v1.trade", inst)
                batch += ws.frame(0x1, json.dumps(self.feed("v1.trade", sel, sn, prev, body),  # noqa: F821
                                                  separators=(",", ":")).encode())
            return int(session.send_bytes(batch))
        return self.paced_trades(session, params, "98951.5", "0.010", send)

    # ---- the trade tape ----

    def tape_sessions(self, symbol):
        return [s for s, _, _ in self.subscribed("v1.trade", symbol)]

    def tape_frames(self, tape, lo, hi, now_ms):
        frame = ws.frame  # noqa: F821
        out = []
        for k in range(lo, hi):
            with self.lock:
                sn, _ = self.next_seq("v1.trade", tape.symbol)
            out.append(frame(0x1, tape.grvt_ws_json(k, sn).encode()))
        return b"".join(out)
