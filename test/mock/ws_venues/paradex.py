"""Paradex public WebSocket (wss://ws.api.prod.paradex.trade/v1?sbeSchemaId=1&sbeSchemaVersion=1)
for the WebSocket mock, reached at /paradex/v1.  `ws` is ws_mock, set by the loader.

Channel data goes out as SBE binary frames, encoded here with `struct` from
Paradex's published schema (tradeparadex/paradex-py paradex_py/api/sbe/paradex_1_0.xml,
little-endian; an 8-byte header blockLength, templateId, schemaId, version; decimals
as int64 mantissas with the schema's constant exponent -8, or -12 for Rate12;
INT64_MIN is null; timestamps in microseconds; groups with a 4-byte
blockLength/numInGroup header; the market as a length-prefixed string last).
The layouts below are written from the field order of that schema, not from
the C decoder.  The JSON-RPC control plane (subscribe, unsubscribe, their
answers and errors) is JSON text, as at the venue.

Negotiation: the URL must carry sbeSchemaId=1 and sbeSchemaVersion 0 or 1
(the frames follow the version asked for: MarketSummaryEvent and
FundingDataEvent are shorter at 0).  Anything else -- the parameters
missing, another schema or version -- is refused with HTTP 400 at the
handshake, which is what Paradex documents for an unsupported schema (and
since 2026-09-21 public channels are not served as JSON any more).

What the frames carry comes from the payload tree (ws_mock.FIXTURES):
the book snapshot is paradex/fetchOrderBook (the REST book: bids, asks,
seq_no; its last_updated_at in µs as ts), and the other frames are
websocket/paradex/<channel>.json, each the fields of one SBE message by
their schema names (decimals as text, times in µs as on the wire):
markets_summary.json (MarketSummaryEvent), funding_data.json
(FundingDataEvent), trades.json (the TradeEvent `replay` sends; side "BUY"
or "SELL"), bbo.json (BboEvent) and order_book.deltas.json (the BookEvent
deltas `replay` sends, a list of {bids, asks}; seq and ts are the mock's
counters, see below).  The project's own payloads (test/payloads) have
them all.  Nothing is recorded from the venue's stream, so the recorded
tree (../shared/fixtures) has no websocket/paradex: there the frames are
made from its REST recordings (fetchTicker for the summary, fetchTrades for
the trade; their values with at most 8 decimals, and the book values of
the fallbacks below), and the funding record is the documented-format one
written here.  Subscribing order_book.SYM.deltas sends the
snapshot (seq_no first, then the next seq on every later book frame,
per symbol, across connections; ts the snapshot's, + 1 ms each frame),
markets_summary.SYM the summary,
funding_data.SYM the funding record.  Subscribing a channel twice is an
error (Paradex documents that; the code -32600 is the mock's choice).
Actions:

    replay              the two book deltas (seq +1 each), the trade, the bbo frame
    book_delta {skip, bids, asks}
                        a delta (default: bid 66800 x 1), skipping `skip` sequence numbers
    trades {count, per_frame, price, qty, rate}
                        generated trades (ids 5000000000000 + n, sides alternating); one SBE
                        message per frame, so per_frame only groups frames into one send;
                        `rate` per second from a background thread
    summary {...}       the market summary again with fields overridden (decimal texts)
    funding {rate, created_at}
                        a funding record (created_at in microseconds)
    heartbeat           HeartbeatEvent (template 40)
    unknown_template {template}
                        a well-formed frame of a template the schema does not have (99)
    bad_schema {schema, version}
                        a trade frame whose header names another schema or version
    group_overrun       a book delta whose bids group claims 1000 entries and carries one
    truncated_sbe       a trade frame cut after 30 bytes
    tape {symbol, count, rate, t0_ms}, tape_status
                        (ws_mock's, see there): the market's trade tape (test/mock/tape.py,
                        symbol a market such as BTC-USD-PERP) goes to every session
                        subscribed to trades.<MARKET>, one SBE TradeEvent a binary frame
                        (as `trades` sends them), in the schema version the session
                        negotiated: ts the send time (µs), seq k + 1, tradeId the tape's id
                        (an int64; the REST mock's /v1/trades gives the same digits as
                        "id"), side 1 BUY / 2 SELL, price and size mantissas at 10^-8,
                        createdAt the trade's time in µs, tradeType 1
"""

import json
import os
import re
import struct
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

SCHEMA_ID = 1
NULL = -(2 ** 63)
HDR = struct.Struct("<HHHH")
GRP = struct.Struct("<HH")
LEVEL = struct.Struct("<qq")
TRADE = struct.Struct("<qqqBqqqB")              # TradeEvent, 50 bytes
BBO = struct.Struct("<qqqqqq")                  # BboEvent, 48 bytes
BOOK = struct.Struct("<qqB" + "q" * 9)          # BookEvent, 89 bytes
SUMMARY_V0 = struct.Struct("<" + "q" * 27)      # MarketSummaryEvent, 216 bytes
SUMMARY_V1 = struct.Struct("<" + "q" * 30)      # 240 bytes since version 1
FUNDING_V0 = struct.Struct("<qqqqqqqh")         # FundingDataEvent, 58 bytes
FUNDING_V1 = struct.Struct("<qqqqqqqhq")        # 66 bytes since version 1

CHANNEL = re.compile(r"^(trades|bbo|markets_summary|funding_data)\.([A-Z0-9]+-USD-PERP)$"
                     r"|^order_book\.([A-Z0-9]+-USD-PERP)\.(deltas|snapshot@15@(50|100)ms)$")


def mant(text, exp=8):
    """Decimal text -> int64 mantissa at 10^-exp, exactly (None -> null)."""
    if text is None:
        return NULL
    v = Decimal(str(text)).scaleb(exp)
    if v != v.to_integral_value():
        raise ValueError("%s has more than %d decimals" % (text, exp))
    return int(v)


def market(sym):
    b = sym.encode()
    return struct.pack("<B", len(b)) + b


def header(block, template, version, schema=SCHEMA_ID):
    return HDR.pack(block, template, schema, version)


def own(rel):
    """A frame of websocket/paradex/ in the payload tree, or None where the tree has none."""
    path = os.path.join(ws.FIXTURES, "websocket", "paradex", rel)  # noqa: F821
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def levels(lv):
    return GRP.pack(LEVEL.size, len(lv)) + b"".join(LEVEL.pack(mant(p), mant(q)) for p, q in lv)


class Venue(ws.VenueBase):  # noqa: F821 (ws is injected by the loader)
    def __init__(self, name):
        super().__init__(name)
        book = ws.fixture_json("paradex/fetchOrderBook.json")  # noqa: F821
        self.snap_bids = book["bids"]
        self.snap_asks = book["asks"]
        self.snap_seq = book["seq_no"]                  # 14139427
        self.snap_ts = book["last_updated_at"] * 1000   # µs
        fields = ("ts", "seq", "markPrice", "indexPrice", "lastPrice", "volumeUsd24h", "openInterest",
                  "fundingRate", "bid", "ask", "totalVolume", "priceChangeRate24h", "bidSize", "askSize",
                  "fundingRatePrecise")
        self.summary = own("markets_summary.json")
        if self.summary is None:
            # the recorded REST ticker: its values at 8 decimals where the REST text has more
            tk = ws.fixture_json("paradex/fetchTicker.json")["results"][0]  # noqa: F821
            self.summary = {
                "ts": tk["created_at"] * 1000, "seq": 1,
                "markPrice": tk["mark_price"], "indexPrice": tk["underlying_price"],
                "lastPrice": tk["last_traded_price"], "volumeUsd24h": "2611476.2626",
                "openInterest": tk["open_interest"], "fundingRate": "0.00689938",
                "bid": tk["bid"], "ask": tk["ask"], "totalVolume": "589169794.97926034",
                "priceChangeRate24h": tk["price_change_rate_24h"],
                "bidSize": "1.5", "askSize": "3.734",
                "fundingRatePrecise": "0.006899389231",
            }
        self.summary = {k: self.summary.get(k) for k in fields}
        self.trade = own("trades.json")
        if self.trade is None:
            tr = ws.fixture_json("paradex/fetchTrades.json")["results"][0]  # noqa: F821
            self.trade = {"ts": tr["created_at"] * 1000, "seq": 1,
                          "tradeId": int(tr["id"][:19]),    # SBE trade ids are int64
                          "side": tr["side"], "price": tr["price"], "size": tr["size"],
                          "createdAt": tr["created_at"] * 1000}
        self.funding = own("funding_data.json")
        if self.funding is None:
            # documented format
            self.funding = {"ts": 1718380800000000, "seq": 1, "fundingRate": "0.0000125",
                            "fundingIndex": "-2819.53434361", "createdAt": 1718380800000000,
                            "fundingPremium": "0.00001", "fundingRate8h": "0.0000125",
                            "fundingPeriodHours": 8, "impactPremiumRate": None}
        deltas = own("order_book.deltas.json")
        # the recorded tree: deltas written here against the recorded book
        self.deltas = ([(d["bids"], d["asks"]) for d in deltas] if deltas is not None else
                       [([["66810", "0"], ["66815.5", "0.5"]], [["67643.2", "2.5"]]),
                        ([["66131.9", "0"]], [["67000", "0.1"]])])
        self.bbo = own("bbo.json")
        if self.bbo is None:
            self.bbo = {"ts": self.snap_ts + 3000, "bidPrice": "66815.5", "bidSize": "0.5",
                        "askPrice": "67000", "askSize": "0.1"}
        self.last_seq = {}
        self.last_ts = {}

    # ---- negotiation ----

    def refuse(self, path):
        q = parse_qs(urlsplit(path).query)
        if q.get("sbeSchemaId") == ["1"] and q.get("sbeSchemaVersion") in (["0"], ["1"]):
            return None
        return 400, b'{"error":"unsupported or missing sbeSchemaId/sbeSchemaVersion"}'

    def version(self, session):
        return int(parse_qs(urlsplit(session.path).query)["sbeSchemaVersion"][0])

    # ---- frames ----

    def send_sbe(self, session, payload):
        return session.send_bytes(ws.frame(0x2, payload))  # noqa: F821

    def next_book(self, sym, seq=None):
        if seq is None:
            seq = self.last_seq.get(sym, self.snap_seq - 1) + 1
        self.last_seq[sym] = seq
        ts = self.last_ts.get(sym)
        ts = self.snap_ts if ts is None else ts + 1000
        self.last_ts[sym] = ts
        return seq, ts

    def book_frame(self, session, sym, seq, ts, snapshot, bids, asks, raw_bids=None):
        block = BOOK.pack(ts, seq, 0 if snapshot else 1, *([NULL] * 9))
        return (header(BOOK.size, 3, self.version(session)) + block +
                (raw_bids if raw_bids is not None else levels(bids)) + levels(asks) + market(sym))

    def trade_frame(self, session, sym, t, schema=SCHEMA_ID, version=None):
        block = TRADE.pack(t["ts"], t["seq"], t["tradeId"], 1 if t["side"] == "BUY" else 2,
                           mant(t["price"]), mant(t["size"]), t["createdAt"], 1)
        return header(TRADE.size, 1, self.version(session) if version is None else version, schema) + block + market(sym)

    def summary_frame(self, session, sym, over=None):
        s = dict(self.summary, **(over or {}))
        v = self.version(session)
        g = s.get
        vals = [s["ts"], s["seq"], mant(g("markPrice")), mant(g("indexPrice")), mant(g("lastPrice")),
                mant(g("volumeUsd24h")), mant(g("openInterest")), mant(g("fundingRate")),
                mant(g("bid")), mant(g("ask")), mant(g("totalVolume")), mant(g("priceChangeRate24h"))]
        vals += [NULL] * 13                                 # markIv .. externalFairPrice
        vals += [mant(g("bidSize")), mant(g("askSize"))]
        st = SUMMARY_V0
        if v >= 1:
            vals += [NULL, NULL, mant(g("fundingRatePrecise"), 12)]
            st = SUMMARY_V1
        return header(st.size, 4, v) + st.pack(*vals) + market(sym)

    def funding_frame(self, session, sym, over=None):
        f = dict(self.funding, **(over or {}))
        v = self.version(session)
        vals = [f["ts"], f["seq"], mant(f["fundingRate"]), mant(f["fundingIndex"]), f["createdAt"],
                mant(f["fundingPremium"]), mant(f["fundingRate8h"]), f["fundingPeriodHours"]]
        st = FUNDING_V0
        if v >= 1:
            vals.append(mant(f.get("impactPremiumRate")))
            st = FUNDING_V1
        return header(st.size, 5, v) + st.pack(*vals) + market(sym)

    def bbo_frame(self, session, sym, b):
        block = BBO.pack(b["ts"], b.get("seq", 1), mant(b["bidPrice"]), mant(b["bidSize"]),
                         mant(b["askPrice"]), mant(b["askSize"]))
        return header(BBO.size, 2, self.version(session)) + block + market(sym)

    # ---- protocol ----

    def channels(self, session):
        return session.state.setdefault("channels", set())

    def answer(self, session, rid, result=None, error=None):
        now = int(time.time() * 1e6)
        msg = {"jsonrpc": "2.0", "usIn": now, "usDiff": 20, "id": rid}
        if error:
            msg["error"] = {"code": error[0], "message": error[1]}
        else:
            msg["result"] = result
        session.send_text(msg)

    def on_text(self, session, text):
        try:
            req = json.loads(text)
        except ValueError:
            self.answer(session, None, error=(-32700, "Parse error"))
            return
        if not isinstance(req, dict):
            self.answer(session, None, error=(-32600, "invalid request"))
            return
        rid = req.get("id")
        method = req.get("method")
        params = req.get("params") if isinstance(req.get("params"), dict) else {}
        ch = params.get("channel")
        if method not in ("subscribe", "unsubscribe"):
            self.answer(session, rid, error=(-32601, "method does not exist"))
            return
        m = CHANNEL.match(ch) if isinstance(ch, str) else None
        if m is None:
            self.answer(session, rid, error=(-32602, "Invalid parameters"))
            return
        chans = self.channels(session)
        if method == "unsubscribe":
            if ch not in chans:
                self.answer(session, rid, error=(-32600, "not subscribed to " + ch))
                return
            chans.discard(ch)
            self.answer(session, rid, {"channel": ch})
            return
        if ch in chans:
            self.answer(session, rid, error=(-32600, "already subscribed to " + ch))
            return
        chans.add(ch)
        self.answer(session, rid, {"channel": ch})
        kind, sym = (m.group(1), m.group(2)) if m.group(1) else ("order_book", m.group(3))
        if kind == "order_book":
            seq, ts = self.next_book(sym)
            self.send_sbe(session, self.book_frame(session, sym, seq, ts, True, self.snap_bids, self.snap_asks))
        elif kind == "markets_summary":
            self.send_sbe(session, self.summary_frame(session, sym))
        elif kind == "funding_data":
            self.send_sbe(session, self.funding_frame(session, sym))

    # ---- actions ----

    def symbols(self, session, kind):
        out = []
        for c in sorted(self.channels(session)):
            if c.startswith(kind + "."):
                out.append(c.split(".")[1])
        return out

    def action(self, name, params):
        sent = 0
        for s in self.sessions_open():
            if name == "heartbeat":
                sent += self.send_sbe(s, header(16, 40, self.version(s)) + struct.pack("<qq", int(time.time() * 1e6), 1))
            elif name == "unknown_template":
                tpl = int(params.get("template", 99))
                sent += self.send_sbe(s, header(16, tpl, self.version(s)) + struct.pack("<qq", int(time.time() * 1e6), 1)
                                      + market("BTC-USD-PERP"))
            for sym in self.symbols(s, "order_book"):
                if name == "replay":
                    for bids, asks in self.deltas:
                        seq, ts = self.next_book(sym)
                        sent += self.send_sbe(s, self.book_frame(s, sym, seq, ts, False, bids, asks))
                elif name == "book_delta":
                    seq, ts = self.next_book(sym, self.last_seq.get(sym, 0) + 1 + int(params.get("skip", 0)))
                    sent += self.send_sbe(s, self.book_frame(s, sym, seq, ts, False, params.get("bids", [["66800", "1"]]),
                                                             params.get("asks", [])))
                elif name == "group_overrun":
                    # claims 1000 bid entries, carries one; seq and ts are not consumed
                    seq = self.last_seq.get(sym, 0) + 1
                    raw = GRP.pack(LEVEL.size, 1000) + LEVEL.pack(mant("66000"), mant("1"))
                    sent += self.send_sbe(s, self.book_frame(s, sym, seq, self.last_ts.get(sym, 0), False, [], [], raw))
            for sym in self.symbols(s, "trades"):
                if name == "replay":
                    sent += self.send_sbe(s, self.trade_frame(s, sym, self.trade))
                elif name == "bad_schema":
                    sent += self.send_sbe(s, self.trade_frame(s, sym, self.trade, int(params.get("schema", 2)),
                                                              int(params.get("version", 0))))
                elif name == "truncated_sbe":
                    sent += self.send_sbe(s, self.trade_frame(s, sym, self.trade)[:30])
                elif name == "trades":
                    sent += self.start_trades(s, sym, params)
            if name == "replay":
                for sym in self.symbols(s, "trades"):
                    sent += self.send_sbe(s, self.bbo_frame(s, sym, self.bbo))
            for sym in self.symbols(s, "markets_summary"):
                if name == "summary":
                    over = {k: v for k, v in params.items() if k not in ("venue", "action")}
                    sent += self.send_sbe(s, self.summary_frame(s, sym, over))
            for sym in self.symbols(s, "funding_data"):
                if name == "funding":
                    over = {"fundingRate": str(params.get("rate", self.funding["fundingRate"]))}
                    if "created_at" in params:
                        over["createdAt"] = over["ts"] = int(params["created_at"])
                    sent += self.send_sbe(s, self.funding_frame(s, sym, over))
        if name not in ("replay", "book_delta", "group_overrun", "trades", "bad_schema", "truncated_sbe",
                        "summary", "funding", "heartbeat", "unknown_template"):
            raise KeyError(name)
        return {"sent": sent}

    # ---- the trade tape ----

    def tape_sessions(self, symbol):
        ch = "trades." + symbol
        return [s for s in self.sessions_open() if ch in self.channels(s)]

    def tape_frames(self, tape, lo, hi, now_ms, version=1):
        frame = ws.frame  # noqa: F821
        head = header(TRADE.size, 1, version)
        tail = market(tape.symbol)
        ts = now_ms * 1000
        return b"".join(frame(0x2, head + TRADE.pack(ts, *tape.paradex_sbe_fields(k)) + tail)
                        for k in range(lo, hi))

    def tape_blobs(self, tape, lo, hi, now_ms, sessions):
        by_version = {}
        out = {}
        for s in sessions:
            v = self.version(s)
            if v not in by_version:
                by_version[v] = self.tape_frames(tape, lo, hi, now_ms, v)
            out[s] = by_version[v]
        return out

    def send_trades(self, session, sym, params):
        def send(ns, price, qty):
            now = int(time.time() * 1e6)
            batch = b""
            for n in ns:
                t = {"ts": now, "seq": n, "tradeId": 5000000000000 + n, "side": "BUY" if n % 2 else "SELL",
                     "price": price, "size": qty, "createdAt": now}
                batch += ws.frame(0x2, self.trade_frame(session, sym, t))  # noqa: F821
            return int(session.send_bytes(batch))
        return self.paced_trades(session, params, "67000.5", "0.001", send)
