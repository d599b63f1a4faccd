"""Bybit v5 public market routes (category=linear) of the mock exchange.

The payload files (test/payloads/bybit, the project's own; or the recorded
ones of ../shared/fixtures/bybit, same names) answer these queries:
    instruments-info          fetchMarkets.instruments-info.linear.json (paged here with
                              Bybit's limit (default 500, max 1000) and cursor)
    tickers symbol=BTCUSDT    fetchTicker.json
    tickers (all)             the rows of fetchFundingRate.json, plus documented-format
                              rows for ETHUSDT and SOLUSDT where the file has none
    orderbook BTCUSDT         fetchOrderBook.linear.json (cut to `limit`)
    open-interest BTCUSDT     fetchOpenInterest.linear.json
    kline BTCUSDT interval=60 fetchOHLCV.json (without start/end: as in the file; within a
                              range: its bars replace the generated ones)
    recent-trade BTCUSDT      fetchTrades.json
Everything else is DOCUMENTED-FORMAT data generated here deterministically
(no payload file): funding history (8-hourly, newest first, limit <= 200,
startTime alone refused as Bybit does), klines of other symbols/intervals or
ranges (newest first, limit <= 1000), books, tickers and trades of other
symbols.

While a trade tape is registered for the symbol (POST /_mock/tape, see
test/mock/tape.py) recent-trade serves it instead: the newest `limit` of the
tape's trades that exist by now (time <= now), newest first, execId the id
the WebSocket mock's publicTrade frames of the tape give as i, and price,
size, side, time their p, v, S, T.

Bybit reports errors as HTTP 200 with a non-zero retCode (10001 for bad
parameters and unknown symbols): the mock does the same, since that is the
venue's own error shape.
"""

import hashlib
import time
from decimal import Decimal

from mock_exchange import fixture_json, tape

F = "bybit/"
KLINE_MS = {"1": 60000, "3": 180000, "5": 300000, "15": 900000, "30": 1800000,
            "60": 3600000, "120": 7200000, "240": 14400000, "360": 21600000,
            "720": 43200000, "D": 86400000, "W": 604800000}
OI_INTERVALS = {"5min", "15min", "30min", "1h", "4h", "1d"}
BASE_PRICE = {"BTC": Decimal("43000.0"), "ETH": Decimal("2300.00"), "SOL": Decimal("100.000")}
FUNDING_MS = 8 * 3600000

_instruments = None


def instruments_all():
    global _instruments
    if _instruments is None:
        _instruments = fixture_json(F + "fetchMarkets.instruments-info.linear.json")["result"]["list"]
    return _instruments


def symbols():
    return {i["symbol"] for i in instruments_all()}


def now_ms():
    return int(time.time() * 1000)


def ok(result, t=None):
    return 200, {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {},
                 "time": t if t is not None else now_ms()}


def err(msg, code=10001):
    return 200, {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": now_ms()}


def h(*parts):
    """Deterministic integer from the parts."""
    return int(hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:12], 16)


def base_price(sym):
    for b, p in BASE_PRICE.items():
        if sym == b + "USDT":
            return p
    return Decimal("1.0000")


def price_at(sym, t):
    """A generated price: base +- 1 %, on the symbol's tick."""
    p = base_price(sym)
    q = p.as_tuple().exponent
    return (p * (1 + Decimal(h(sym, t) % 2001 - 1000) / 100000)).quantize(Decimal(1).scaleb(q))


def check_linear(req):
    if req.arg("category") != "linear":
        return err("params error: category only support linear in this mock" if req.arg("category")
                   else "params error: category is required")
    return None


def check_symbol(req):
    sym = req.arg("symbol")
    if not sym:
        return None, err("params error: symbol is required")
    if sym not in symbols():
        return None, err("params error: symbol invalid")
    return sym, None


def int_arg(req, name, default, lo, hi):
    v = req.arg(name)
    if v is None or v == "":
        return default, None
    try:
        n = int(v)
    except ValueError:
        return None, err("params error: %s invalid" % name)
    if n < lo or n > hi:
        return None, err("params error: %s out of range [%d, %d]" % (name, lo, hi))
    return n, None


# ---- routes ----

def instruments(req):
    e = check_linear(req)
    if e:
        return e
    rows = instruments_all()
    if req.arg("symbol"):
        rows = [i for i in rows if i["symbol"] == req.arg("symbol")]
    limit, e = int_arg(req, "limit", 500, 1, 1000)
    if e:
        return e
    start = 0
    cur = req.arg("cursor")
    if cur:
        if not cur.startswith("offset=") or not cur[7:].isdigit():
            return err("params error: cursor invalid")
        start = int(cur[7:])
    page = rows[start:start + limit]
    nxt = "offset%%3D%d" % (start + limit) if start + limit < len(rows) else ""
    return ok({"category": "linear", "list": page, "nextPageCursor": nxt})


def gen_ticker(sym, t):
    """DOCUMENTED-FORMAT ticker row (no recording for this symbol)."""
    p = price_at(sym, t)
    step = Decimal(1).scaleb(p.as_tuple().exponent)
    return {
        "symbol": sym, "lastPrice": str(p), "indexPrice": str(p + step), "markPrice": str(p),
        "prevPrice24h": str(price_at(sym, t - 86400000)), "price24hPcnt": "0.001234",
        "highPrice24h": str((p * Decimal("1.02")).quantize(step)),
        "lowPrice24h": str((p * Decimal("0.98")).quantize(step)),
        "prevPrice1h": str(p), "openInterest": "1234.567", "openInterestValue": str((p * Decimal("1234.567")).quantize(Decimal("0.01"))),
        "turnover24h": "98765432.1000", "volume24h": "4321.0000", "fundingRate": "0.0001",
        "nextFundingTime": str((t // FUNDING_MS + 1) * FUNDING_MS), "predictedDeliveryPrice": "",
        "basisRate": "", "deliveryFeeRate": "", "deliveryTime": "0", "ask1Size": "1.5",
        "bid1Price": str(p - step), "ask1Price": str(p), "bid1Size": "2.5", "basis": "",
    }


def tickers(req):
    e = check_linear(req)
    if e:
        return e
    sym = req.arg("symbol")
    if sym:
        if sym not in symbols():
            return err("Not supported symbols")
        if sym == "BTCUSDT":
            return 200, fixture_json(F + "fetchTicker.json")
        t = now_ms()
        return ok({"category": "linear", "list": [gen_ticker(sym, t)]}, t)
    rec = fixture_json(F + "fetchFundingRate.json")
    t = int(rec["time"])
    have = {r.get("symbol") for r in rec["result"]["list"]}
    rows = rec["result"]["list"] + [gen_ticker(s, t) for s in ("ETHUSDT", "SOLUSDT") if s not in have]
    return ok({"category": "linear", "list": rows}, rec["time"])


def orderbook(req):
    e = check_linear(req)
    if e:
        return e
    sym, e = check_symbol(req)
    if e:
        return e
    limit, e = int_arg(req, "limit", 25, 1, 500)
    if e:
        return e
    if sym == "BTCUSDT":
        rec = fixture_json(F + "fetchOrderBook.linear.json")
        rec["result"]["b"] = rec["result"]["b"][:limit]
        rec["result"]["a"] = rec["result"]["a"][:limit]
        return 200, rec
    # DOCUMENTED-FORMAT book: `limit` levels a side around a generated price
    t = now_ms()
    p = price_at(sym, t // 1000)
    step = Decimal(1).scaleb(p.as_tuple().exponent)
    bids = [[str(p - step * (i + 1)), str(Decimal(h(sym, "b", i) % 5000 + 1) / 1000)] for i in range(limit)]
    asks = [[str(p + step * i), str(Decimal(h(sym, "a", i) % 5000 + 1) / 1000)] for i in range(limit)]
    return ok({"s": sym, "b": bids, "a": asks, "ts": t, "u": t % 10000000, "seq": t * 10, "cts": t - 1}, t)


def funding_history(req):
    """DOCUMENTED-FORMAT (no recording): settlements every 8 h, newest first."""
    e = check_linear(req)
    if e:
        return e
    sym, e = check_symbol(req)
    if e:
        return e
    limit, e = int_arg(req, "limit", 200, 1, 200)
    if e:
        return e
    st, en = req.arg("startTime"), req.arg("endTime")
    if st and not en:
        return err("params error: endTime is required when startTime is passed")
    try:
        end = min(int(en), now_ms()) if en else now_ms()
        start = int(st) if st else None
    except ValueError:
        return err("params error: time invalid")
    rows = []
    t = end // FUNDING_MS * FUNDING_MS
    while len(rows) < limit and (start is None or t >= start) and t >= 0:
        r = h(sym, "funding", t) % 2001 - 1000
        rows.append({"symbol": sym, "fundingRate": format(Decimal(r).scaleb(-8), "f"),
                     "fundingRateTimestamp": str(t)})
        t -= FUNDING_MS
    return ok({"category": "linear", "list": rows})


def open_interest(req):
    e = check_linear(req)
    if e:
        return e
    sym, e = check_symbol(req)
    if e:
        return e
    if req.arg("intervalTime") not in OI_INTERVALS:
        return err("params error: intervalTime invalid")
    limit, e = int_arg(req, "limit", 50, 1, 200)
    if e:
        return e
    if sym == "BTCUSDT":
        return 200, fixture_json(F + "fetchOpenInterest.linear.json")
    # DOCUMENTED-FORMAT: newest first, 5-minute buckets
    t = now_ms() // 300000 * 300000
    rows = [{"openInterest": "%d.%03d00000" % (h(sym, "oi", t - i * 300000) % 100000,
                                             h(sym, t, i) % 1000),
             "timestamp": str(t - i * 300000)} for i in range(limit)]
    return ok({"symbol": sym, "category": "linear", "list": rows, "nextPageCursor": ""})


def gen_kline(sym, iv, t):
    """DOCUMENTED-FORMAT bar [start, open, high, low, close, volume, turnover]."""
    o, c = price_at(sym, t), price_at(sym, t + iv)
    hi = max(o, c) * Decimal("1.001")
    lo = min(o, c) * Decimal("0.999")
    q = Decimal(1).scaleb(o.as_tuple().exponent)
    vol = Decimal(h(sym, "v", t) % 100000 + 1) / 1000
    return [str(t), str(o), str(hi.quantize(q)), str(lo.quantize(q)), str(c), str(vol),
            str((vol * c).quantize(Decimal("0.0001")))]


def kline(req):
    e = check_linear(req)
    if e:
        return e
    sym, e = check_symbol(req)
    if e:
        return e
    iv = req.arg("interval")
    if iv not in KLINE_MS:
        return err("params error: interval invalid")
    limit, e = int_arg(req, "limit", 200, 1, 1000)
    if e:
        return e
    rec = None
    if sym == "BTCUSDT" and iv == "60":
        rec = fixture_json(F + "fetchOHLCV.json")
        if req.arg("start") is None and req.arg("end") is None and limit >= len(rec["result"]["list"]):
            return 200, rec
    step = KLINE_MS[iv]
    try:
        end = min(int(req.arg("end")), now_ms()) if req.arg("end") else now_ms()
        start = int(req.arg("start")) if req.arg("start") else None
    except ValueError:
        return err("params error: time invalid")
    recorded = {int(r[0]): r for r in rec["result"]["list"]} if rec else {}
    rows = []
    t = end // step * step
    while len(rows) < limit and (start is None or t >= start) and t >= 0:
        rows.append(recorded.get(t) or gen_kline(sym, step, t))
        t -= step
    return ok({"symbol": sym, "category": "linear", "list": rows})


def recent_trade(req):
    e = check_linear(req)
    if e:
        return e
    sym, e = check_symbol(req)
    if e:
        return e
    limit, e = int_arg(req, "limit", 500, 1, 1000)
    if e:
        return e
    tp = tape("bybit", sym)
    if tp is not None:
        t = now_ms()
        hi = tp.generated(t)
        rows = ",".join(tp.bybit_rest_json(k) for k in range(hi - 1, max(0, hi - limit) - 1, -1))
        return 200, ('{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[%s]},'
                     '"retExtInfo":{},"time":%d}' % (rows, t))
    if sym == "BTCUSDT":
        rec = fixture_json(F + "fetchTrades.json")
        rec["result"]["list"] = rec["result"]["list"][:limit]
        return 200, rec
    # DOCUMENTED-FORMAT trades, newest first
    t = now_ms()
    rows = []
    for i in range(min(limit, 50)):
        ts = t - i * 250
        rows.append({"execId": "%08x-0000-5000-8000-%012x" % (h(sym, ts) & 0xffffffff, ts),
                     "symbol": sym, "price": str(price_at(sym, ts)),
                     "size": str(Decimal(h(sym, "q", ts) % 1000 + 1) / 1000),
                     "side": "Buy" if h(sym, "s", ts) % 2 else "Sell",
                     "time": str(ts), "isBlockTrade": False})
    return ok({"category": "linear", "list": rows}, t)


def register(venue):
    venue.route("GET", r"/v5/market/instruments-info", instruments)
    venue.route("GET", r"/v5/market/tickers", tickers)
    venue.route("GET", r"/v5/market/orderbook", orderbook)
    venue.route("GET", r"/v5/market/funding/history", funding_history)
    venue.route("GET", r"/v5/market/open-interest", open_interest)
    venue.route("GET", r"/v5/market/kline", kline)
    venue.route("GET", r"/v5/market/recent-trade", recent_trade)
