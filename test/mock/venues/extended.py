"""Extended routes of the mock exchange (rest_url .../extended).

Served from the payload tree (test/payloads/extended, written from Extended's
API documentation, api.docs.extended.exchange "Public REST-API"):
/api/v1/info/markets (fetchMarkets.json: BTC-USD, ETH-USD (with "type":
"PERPETUAL"), SOL-USD, DOGE-USD (REDUCE_ONLY), FTM-USD (DELISTED, not
active), MON-USD (PRELISTED), EUR-USD ("type": "SPOT")), BTC-USD's
statistics (fetchTicker.json), order book (fetchOrderBook.json), latest
trades (fetchTrades.json), three 1-minute candles (fetchOHLCV.json) and three
hourly funding rates (fetchFundingRateHistory.json).

DOCUMENTED-FORMAT data written here, deterministic:
  - the statistics of the other markets: their marketStats of the markets
    list (with the deleverage levels of BTC's payload);
  - their books: three levels a side around the mark price, bids at mark -
    k x tick x 10 (k = 1, 2, 3) of 2.5, asks at mark + k x tick x 10 of 1.5;
  - their latest trades: 20 trades, trade k (k = 0 .. 19, the newest 0) at
    1795444620000 - 1000 k ms, id 1866000000000000000 + 1000 - k, BUY when
    k is even, price the last price, quantity (k + 1) x the lot size;
  - candles (every market, every interval, every candle type) other than
    the payload's: with i = T / (the interval in ms), open o = 97000 + (i mod
    61) / 10, high o + 4, low o - 4, close o + 0.5, volume 1 + i mod 9;
    the payload's where its times are asked for (BTC-USD, PT1M, trades);
  - funding rates: one an hour on the hour, at hour h = T / 3600000 the
    rate ((h mod 7) - 3) x 0.000005; the payload's where its times fall
    (BTC-USD).

Paths and limits as documented: candles take interval (PT1M PT5M PT15M
PT30M PT1H PT2H PT4H P1D), limit (required, at most 10 000) and endTime
(ms, default now), and answer the newest `limit` candles opening at or
before endTime, newest first; funding takes startTime and endTime (ms,
required), limit (at most 10 000, default 10 000) and cursor (the T before
which to go on), newest first, with {"pagination": {"cursor", "count"}}.
The latest trades take no parameter.  While a trade tape is registered for
the market (POST /_mock/tape {"venue": "extended", "symbol": "BTC-USD", ...},
see test/mock/tape.py) they are the tape's newest TAPE_LATEST trades that
exist by now (time <= now), newest first, as the stream's frames carry them.

Quirks: the venue requires a User-Agent header (its documentation,
"Mandatory headers"): a request without one gets HTTP 400 (the code the
venue answers is not documented; this mock's choice).  Errors are
{"status": "ERROR", "error": {"code": "NOT_FOUND", "message": "Market not
found"}} with HTTP 404, or code "BAD_REQUEST" with 400.

With /_mock/config {"bench_markets": true} every BENCH_SYMBOL is listed too,
shaped like BTC-USD at bench_price(symbol).
"""

import copy
import json
from decimal import Decimal

from mock_exchange import bench_price, bench_symbols, fixture, fixture_json, tape

FX = "extended/"
NOW_MS = 1795444620000
MAX_RECORDS = 10000
INTERVALS = {"PT1M": 60, "PT5M": 300, "PT15M": 900, "PT30M": 1800, "PT1H": 3600, "PT2H": 7200,
             "PT4H": 14400, "P1D": 86400}
HOUR_MS = 3600 * 1000
TAPE_LATEST = 100           # the latest trades a tape serves (the venue documents no count)


def _error(status, code, msg):
    return status, {"status": "ERROR", "error": {"code": code, "message": msg}}


def _bad(msg):
    return _error(400, "BAD_REQUEST", msg)


def _not_found():
    return _error(404, "NOT_FOUND", "Market not found")


def _ok(data, **extra):
    body = {"status": "OK", "data": data}
    body.update(extra)
    return 200, body


def _markets():
    rec = fixture_json(FX + "fetchMarkets.json")["data"]
    out = list(rec)
    have = {m["name"] for m in out}
    for sym in bench_symbols():
        if sym + "-USD" in have:
            continue
        m = copy.deepcopy(rec[0])
        px = bench_price(sym)
        m.update({"name": sym + "-USD", "uiName": sym + "-USD", "assetName": sym})
        st = m["marketStats"]
        for k in ("lastPrice", "markPrice", "indexPrice", "bidPrice", "dailyHigh", "dailyLow"):
            st[k] = str(px)
        st["askPrice"] = str(px + Decimal("0.0001"))
        m["tradingConfig"]["minPriceChange"] = "0.0001"
        out.append(m)
    return out


def _market(name):
    return next((m for m in _markets() if m["name"] == name), None)


def _int(req, name, default=None):
    v = req.arg(name)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except ValueError:
        return False


def markets(req):
    rows = _markets()
    want = req.arg("market")
    if want:
        rows = [m for m in rows if m["name"] == want]
    return _ok(rows)


def stats(req):
    name = req.match.group(1)
    m = _market(name)
    if m is None:
        return _not_found()
    if name == "BTC-USD":
        return 200, fixture(FX + "fetchTicker.json")
    st = dict(m["marketStats"])
    st["deleverageLevels"] = fixture_json(FX + "fetchTicker.json")["data"]["deleverageLevels"]
    return _ok(st)


def orderbook(req):
    name = req.match.group(1)
    m = _market(name)
    if m is None:
        return _not_found()
    if name == "BTC-USD":
        return 200, fixture(FX + "fetchOrderBook.json")
    mark = Decimal(m["marketStats"]["markPrice"])
    tick = Decimal(m["tradingConfig"]["minPriceChange"]) * 10
    return _ok({"market": name,
                "bid": [{"qty": "2.5", "price": str(mark - k * tick)} for k in (1, 2, 3)],
                "ask": [{"qty": "1.5", "price": str(mark + k * tick)} for k in (1, 2, 3)]})


def trades(req):
    name = req.match.group(1)
    m = _market(name)
    if m is None:
        return _not_found()
    tp = tape("extended", name)
    if tp is not None:
        hi = tp.generated()
        ks = range(hi - 1, max(0, hi - TAPE_LATEST) - 1, -1)
        return 200, '{"status":"OK","data":[%s]}' % ",".join(tp.extended_json(k) for k in ks)
    if name == "BTC-USD":
        return 200, fixture(FX + "fetchTrades.json")
    lot = Decimal(m["tradingConfig"]["minOrderSizeChange"])
    rows = ['{"i":%d,"m":"%s","S":"%s","tT":"TRADE","T":%d,"p":"%s","q":"%s"}'
            % (1866000000000000000 + 1000 - k, name, "BUY" if k % 2 == 0 else "SELL", NOW_MS - 1000 * k,
               m["marketStats"]["lastPrice"], (k + 1) * lot)
            for k in range(19, -1, -1)]
    return 200, '{"status":"OK","data":[%s]}' % ",".join(rows)


def _candle(t, step_ms):
    i = t // step_ms
    o = Decimal(97000) + Decimal(i % 61) / 10
    return '{"o":"%s","l":"%s","h":"%s","c":"%s","v":"%d","T":%d}' % (o, o - 4, o + 4, o + Decimal("0.5"),
                                                                     1 + i % 9, t)


def candles(req):
    name, ctype = req.match.group(1), req.match.group(2)
    if _market(name) is None:
        return _not_found()
    iv = req.arg("interval")
    if iv not in INTERVALS:
        return _bad("interval must be one of " + ", ".join(INTERVALS))
    limit = _int(req, "limit")
    end = _int(req, "endTime", NOW_MS)
    if limit is None or limit is False or not 1 <= limit <= MAX_RECORDS:
        return _bad("limit is required, 1 to %d" % MAX_RECORDS)
    if end is False:
        return _bad("endTime must be epoch milliseconds")
    step = INTERVALS[iv] * 1000
    last = end // step * step
    times = [last - k * step for k in range(limit)]
    own = {}
    if name == "BTC-USD" and iv == "PT1M" and ctype == "trades":
        own = {r["T"]: r for r in json.loads(fixture(FX + "fetchOHLCV.json"))["data"]}
    if own and times == sorted(own, reverse=True):
        return 200, fixture(FX + "fetchOHLCV.json")
    return 200, '{"status":"OK","data":[%s]}' % ",".join(
        json.dumps(own[t]) if t in own else _candle(t, step) for t in times)


def funding_rate_at(t):
    return format((Decimal(t // HOUR_MS % 7) - 3) * Decimal("0.000005"), "f")


def funding(req):
    name = req.match.group(1)
    if _market(name) is None:
        return _not_found()
    start, end = _int(req, "startTime"), _int(req, "endTime")
    limit = _int(req, "limit", MAX_RECORDS)
    cursor = _int(req, "cursor")
    if start is None or end is None or start is False or end is False:
        return _bad("startTime and endTime are required")
    if limit is False or not 1 <= limit <= MAX_RECORDS:
        return _bad("limit must be 1 to %d" % MAX_RECORDS)
    if cursor is False:
        return _bad("cursor must be a number")
    if cursor is not None:
        end = min(end, cursor - 1)
    own = {}
    if name == "BTC-USD":
        own = {r["T"]: r for r in fixture_json(FX + "fetchFundingRateHistory.json")["data"]}
    rows = []
    t = end // HOUR_MS * HOUR_MS
    while t >= start and len(rows) < limit:
        rows.append(own.get(t) or {"m": name, "T": t, "f": funding_rate_at(t)})
        t -= HOUR_MS
    page = {"cursor": rows[-1]["T"] if rows else 0, "count": len(rows)}
    return 200, json.dumps({"status": "OK", "data": rows, "pagination": page})


def _needs_user_agent(handler):
    def wrapped(req):
        if not (req.headers.get("User-Agent") or "").strip():
            return _bad("User-Agent header is required")
        return handler(req)
    return wrapped


def register(venue):
    for pattern, handler in (
            (r"/api/v1/info/markets", markets),
            (r"/api/v1/info/markets/([A-Za-z0-9_.-]+)/stats", stats),
            (r"/api/v1/info/markets/([A-Za-z0-9_.-]+)/orderbook", orderbook),
            (r"/api/v1/info/markets/([A-Za-z0-9_.-]+)/trades", trades),
            (r"/api/v1/info/candles/([A-Za-z0-9_.-]+)/(trades|mark-prices|index-prices)", candles),
            (r"/api/v1/info/([A-Za-z0-9_.-]+)/funding", funding)):
        venue.route("GET", pattern, _needs_user_agent(handler))
