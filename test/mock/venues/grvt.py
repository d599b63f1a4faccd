"""GRVT routes of the mock exchange (rest_url .../grvt): the market-data
host's POST JSON API, /full/v1/..., from GRVT's API documentation
(api-docs.grvt.io "MarketData APIs"; gravity-technologies/api-spec).

Every route takes a POST with a JSON body and answers {"result": ...}
(history routes also "next": a cursor, "" when nothing older is left);
errors are {"code": N, "message": ..., "status": S} with HTTP status S:
1003 / 404 "Data Not Found" for an instrument GRVT does not list, 3000 /
400 for a malformed request (a limit out of 1..1000, a time that is not a
string of digits, an unknown interval, a malformed cursor).

The payloads, test/payloads/grvt/ (written from the documentation):
fetchMarkets.instruments.json (full/v1/instruments, which the mock serves
whole: the kind / is_active filters are the adapter's to re-check; one
instrument of it is full/v1/instrument's answer), fetchTicker.<instrument>
(BTC, ETH), fetchOrderBook.BTC_USDT_Perp (12 levels a side, the first
`depth` of them served), fetchOHLCV.BTC_USDT_Perp (the 1m candles 09:12 ..
09:14 of 2026-12-01), fetchFundingRateHistory.BTC_USDT_Perp (2026-11-30
16:00, 2026-12-01 00:00 and 08:00) and fetchTrades.BTC_USDT_Perp (the five
most recent trades, 09:14:57.388 .. 09:14:59.001, newest first).

The mock's "now" is 2026-12-01 09:15:00 UTC (NOW_MS).  DOCUMENTED-FORMAT
data generated here:

- Tickers and books of the listed perpetuals without a payload (SOL, DOGE,
  and the benchmark's markets with /_mock/config bench_markets): price P =
  bench_price(base) (mock_exchange), last = mark = index = P, bid P - 0.1
  (size 1.5), ask P + 0.1 (size 2.5), volumes 100 + 150 base and 1000 +
  1500 quote, open P - 1, open interest 42.5, funding_rate "0.0050",
  next_funding_time the next multiple of the instrument's interval; books
  3 levels a side, bids P - i / 10, asks P + i / 10 (i = 1..3), sizes
  i / 2.
- Klines of every instrument and interval, where the payload has none: the
  candle opening at t ms (a multiple of the interval's step s ms),
  i = t // s, open o = 97000 + (i mod 83) / 10, high o + 7, low o - 6,
  close o + 2, volume_b v = (1 + i mod 9) / 10, volume_q o x v, trades
  10 + i mod 13, close_time t + s ms - 1 ns.  The candles whose open time
  is in [start_time, end_time] (ns, inclusive; both optional, end at most
  now), newest first, `limit` of them (1..1000, default 500); "next" a
  cursor (base64 of {"before": open time ns}) while older ones remain in
  the range.
- Funding history: settlements every funding_interval_hours of the
  instrument (from 00:00 UTC), k = t // (interval in ms), funding_rate
  (k mod 7 - 3) x 0.0025 (percent), the payload's rates at its times;
  ranges and paging as klines'.
- Trade history (full/v1/trade_history): trade n (n >= 1) at n x 750 ms
  since the epoch, for every time before 2026-12-01 09:14:00
  (1796116440000 = 750 x 2394821920, so the last is n = 2394821919),
  trade_id "<n x 10^7>-1", price 97000 + (n mod 57) / 10, size (1 + n mod
  40) / 1000, is_taker_buyer unless n is divisible by 3; then the five
  trades of fetchTrades.  [start_time, end_time] (ns, inclusive), newest
  first, `limit` (1..1000, default 500), "next" a cursor (base64 of
  {"before": [event_time ns, id]}) while older trades remain in range.
- While a trade tape is registered for the instrument (POST /_mock/tape
  {"venue": "grvt", "symbol": "BTC_USDT_Perp", ...}, test/mock/tape.py),
  full/v1/trade_history serves it instead: the tape's trades that exist by
  now (time <= the wall clock) in [start_time, end_time], newest first,
  paged the same way, with the values of the WebSocket mock's v1.trade
  feeds.
- Under /deep (rest_url .../grvt/deep), every route as above, except that
  full/v1/book of BTC_USDT_Perp serves a deep book built here (issue 19:
  the adapter asks for the deepest documented depth): 600 levels a side,
  bid i (i = 0..599) at 79999.5 - i, ask i at 80000.5 + i, size 1 and one
  order each, the first `depth` of them (10, 50, 100 or 500, the values
  the documentation lists; anything else is refused like any book request).
"""

import base64
import copy
import json
from decimal import Decimal

from mock_exchange import bench_price, bench_symbols, fixture, fixture_json, tape

FX = "grvt/"
NOW_MS = 1796116500000                # 2026-12-01 09:15:00 UTC
GEN_TRADES_END_MS = 1796116440000     # 09:14:00: generated trades before it
TRADE_STEP_MS = 750
PAGE_MAX = 1000
PAGE_DEFAULT = 500
INTERVALS = {"CI_1_M": 60, "CI_3_M": 180, "CI_5_M": 300, "CI_15_M": 900, "CI_30_M": 1800,
             "CI_1_H": 3600, "CI_2_H": 7200, "CI_4_H": 14400, "CI_6_H": 21600, "CI_8_H": 28800,
             "CI_12_H": 43200, "CI_1_D": 86400}


class Bad(Exception):
    pass


def _err(code, msg, status):
    return status, {"code": code, "message": msg, "status": status}


def _instruments():
    rows = fixture_json(FX + "fetchMarkets.instruments.json")["result"]
    have = {r["instrument"] for r in rows}
    btc = rows[0]
    for b in bench_symbols():
        name = b + "_USDT_Perp"
        if name not in have:
            rows.append(dict(copy.deepcopy(btc), instrument=name, base=b, tick_size="0.0001", min_size="0.1"))
    return rows


def _instrument(name):
    for r in _instruments():
        if r["instrument"] == name:
            return r
    return None


def _body(req):
    b = req.json()
    if not isinstance(b, dict):
        raise Bad("the body is not a JSON object")
    return b


def _perp(req):
    """The request's instrument, a listed one (else Bad / None)."""
    b = _body(req)
    name = b.get("instrument")
    if not isinstance(name, str):
        raise Bad("instrument is required")
    return b, _instrument(name)


def _limit(b):
    n = b.get("limit", PAGE_DEFAULT)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= PAGE_MAX:
        raise Bad("limit must be between 1 and %d" % PAGE_MAX)
    return n


def _ns(b, key, default):
    v = b.get(key)
    if v is None or v == "":
        return default
    if isinstance(v, str) and v.isdigit():
        return int(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    raise Bad("%s must be unix nanoseconds" % key)


def _cursor(obj):
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def _before(b):
    c = b.get("cursor")
    if not c:
        return None
    try:
        return json.loads(base64.b64decode(c, validate=True))["before"]
    except (ValueError, TypeError, KeyError):
        raise Bad("invalid cursor")


def handles(fn):
    def h(req):
        try:
            return fn(req)
        except Bad as e:
            return _err(3000, str(e), 400)
    return h


@handles
def instruments(req):
    b = _body(req)
    if "limit" in b and (not isinstance(b["limit"], int) or not 1 <= b["limit"] <= 100000):
        raise Bad("limit must be between 1 and 100000")
    return 200, {"result": _instruments()}


@handles
def instrument(req):
    _, ins = _perp(req)
    if ins is None:
        return _err(1003, "Data Not Found", 404)
    return 200, {"result": ins}


def _gen_ticker(ins):
    p = bench_price(ins["base"])
    step = int(ins.get("funding_interval_hours") or 8) * 3600000
    nxt = (NOW_MS // step + 1) * step
    return {"event_time": str(NOW_MS * 1000000), "instrument": ins["instrument"],
            "mark_price": str(p), "index_price": str(p), "last_price": str(p), "last_size": "0.1",
            "mid_price": str(p), "best_bid_price": str(p - Decimal("0.1")), "best_bid_size": "1.5",
            "best_ask_price": str(p + Decimal("0.1")), "best_ask_size": "2.5",
            "buy_volume_24h_b": "100", "sell_volume_24h_b": "150",
            "buy_volume_24h_q": "1000", "sell_volume_24h_q": "1500",
            "high_price": str(p + 2), "low_price": str(p - 2), "open_price": str(p - 1),
            "open_interest": "42.5", "funding_rate": "0.0050", "next_funding_time": str(nxt * 1000000)}


@handles
def ticker(req):
    _, ins = _perp(req)
    if ins is None or ins["kind"] != "PERPETUAL":
        return _err(1003, "Data Not Found", 404)
    try:
        return 200, fixture(FX + "fetchTicker.%s.json" % ins["instrument"])
    except OSError:
        return 200, {"result": _gen_ticker(ins)}


@handles
def book(req):
    b, ins = _perp(req)
    if ins is None:
        return _err(1003, "Data Not Found", 404)
    depth = b.get("depth")
    if depth not in (10, 50, 100, 500):
        raise Bad("depth must be one of 10, 50, 100, 500")
    try:
        bk = fixture_json(FX + "fetchOrderBook.%s.json" % ins["instrument"])["result"]
    except OSError:
        p = bench_price(ins["base"])
        bk = {"event_time": str(NOW_MS * 1000000), "instrument": ins["instrument"],
              "bids": [{"price": str(p - Decimal(i) / 10), "size": str(Decimal(i) / 2), "num_orders": 1}
                       for i in (1, 2, 3)],
              "asks": [{"price": str(p + Decimal(i) / 10), "size": str(Decimal(i) / 2), "num_orders": 1}
                       for i in (1, 2, 3)]}
    return 200, {"result": dict(bk, bids=bk["bids"][:depth], asks=bk["asks"][:depth])}


DEEP_LEVELS = 600


@handles
def deep_book(req):
    """/deep/full/v1/book: the deep BTC book (see the module header); other instruments as book()."""
    b, ins = _perp(req)
    if ins is None or ins["instrument"] != "BTC_USDT_Perp":
        return book(req)
    depth = b.get("depth")
    if depth not in (10, 50, 100, 500):
        raise Bad("depth must be one of 10, 50, 100, 500")
    n = min(depth, DEEP_LEVELS)
    lv = [{"size": "1", "num_orders": 1}] * n
    return 200, {"result": {
        "event_time": str(NOW_MS * 1000000), "instrument": "BTC_USDT_Perp",
        "bids": [dict(lv[i], price=str(Decimal("79999.5") - i)) for i in range(n)],
        "asks": [dict(lv[i], price=str(Decimal("80000.5") + i)) for i in range(n)]}}


def _page(rows, n, key):
    """rows newest first (a generator); the first n, and the next cursor if one more exists."""
    out = []
    more = False
    for r in rows:
        if len(out) == n:
            more = True
            break
        out.append(r)
    nxt = _cursor({"before": key(out[-1])}) if more else ""
    return out, nxt


def kline_row(inst, t, s):
    """The generated candle opening at t ms, step s ms (see the docstring)."""
    i = t // s
    o = Decimal(97000) + Decimal(i % 83) / 10
    v = Decimal(1 + i % 9) / 10
    return {"open_time": str(t * 1000000), "close_time": str((t + s) * 1000000 - 1),
            "open": str(o), "close": str(o + 2), "high": str(o + 7), "low": str(o - 6),
            "volume_b": str(v), "volume_q": str(o * v), "trades": 10 + i % 13, "instrument": inst}


@handles
def kline(req):
    b, ins = _perp(req)
    if ins is None:
        return _err(1003, "Data Not Found", 404)
    if b.get("interval") not in INTERVALS or b.get("type", "TRADE") not in ("TRADE", "MARK", "INDEX", "MID"):
        raise Bad("interval must be a CandlestickInterval, type a CandlestickType")
    n = _limit(b)
    s = INTERVALS[b["interval"]] * 1000
    start = _ns(b, "start_time", 0)
    end = min(_ns(b, "end_time", NOW_MS * 1000000), NOW_MS * 1000000)
    before = _before(b)
    if before is not None:
        end = min(end, before - 1)
    own = {}
    if ins["instrument"] == "BTC_USDT_Perp" and b["interval"] == "CI_1_M":
        own = {int(r["open_time"]): r for r in fixture_json(FX + "fetchOHLCV.BTC_USDT_Perp.json")["result"]}

    def rows():
        t = end // 1000000 // s * s
        while t * 1000000 >= start:
            yield own.get(t * 1000000) or kline_row(ins["instrument"], t, s)
            t -= s
    out, nxt = _page(rows(), n, lambda r: int(r["open_time"]))
    return 200, {"result": out, "next": nxt}


def funding_rate_at(t, step):
    return str(Decimal((t // step) % 7 - 3) * Decimal("0.0025"))


@handles
def funding(req):
    b, ins = _perp(req)
    if ins is None or ins["kind"] != "PERPETUAL":
        return _err(1003, "Data Not Found", 404)
    n = _limit(b)
    h = int(ins.get("funding_interval_hours") or 8)
    step = h * 3600000
    start = _ns(b, "start_time", 0)
    end = min(_ns(b, "end_time", NOW_MS * 1000000), NOW_MS * 1000000)
    before = _before(b)
    if before is not None:
        end = min(end, before - 1)
    own = {}
    if ins["instrument"] == "BTC_USDT_Perp":
        own = {int(r["funding_time"]): r
               for r in fixture_json(FX + "fetchFundingRateHistory.BTC_USDT_Perp.json")["result"]}

    def rows():
        t = end // 1000000 // step * step
        while t * 1000000 >= start:
            yield own.get(t * 1000000) or {
                "instrument": ins["instrument"], "funding_rate": funding_rate_at(t, step),
                "funding_time": str(t * 1000000), "mark_price": "97000.000000000",
                "funding_rate_8_h_avg": funding_rate_at(t, step), "funding_interval_hours": h}
            t -= step
    out, nxt = _page(rows(), n, lambda r: int(r["funding_time"]))
    return 200, {"result": out, "next": nxt}


def _recent():
    return fixture_json(FX + "fetchTrades.BTC_USDT_Perp.json")["result"]


@handles
def trades(req):
    b, ins = _perp(req)
    if ins is None or ins["kind"] != "PERPETUAL":
        return _err(1003, "Data Not Found", 404)
    n = _limit(b)
    if ins["instrument"] != "BTC_USDT_Perp":
        return 200, {"result": []}
    return 200, {"result": _recent()[:n]}


def trade_row(inst, k):
    t = k * TRADE_STEP_MS
    return {"event_time": str(t * 1000000), "instrument": inst, "is_taker_buyer": k % 3 != 0,
            "size": str(Decimal(1 + k % 40) / 1000), "price": str(Decimal(97000) + Decimal(k % 57) / 10),
            "mark_price": "97000.0", "index_price": "97000.0", "interest_rate": "0.0", "forward_price": "0.0",
            "trade_id": "%d-1" % (k * 10000000), "venue": "ORDERBOOK", "is_liquidation": False,
            "trade_index": 1, "is_rpi": False}


def _trade_key(r):
    """(event_time ns, id as numbers): the order of trades, newest last."""
    a, _, c = r["trade_id"].partition("-")
    return [int(r["event_time"]), int(a), int(c or 0)]


@handles
def trade_history(req):
    b, ins = _perp(req)
    if ins is None or ins["kind"] != "PERPETUAL":
        return _err(1003, "Data Not Found", 404)
    n = _limit(b)
    start = _ns(b, "start_time", 0)
    end = min(_ns(b, "end_time", NOW_MS * 1000000), NOW_MS * 1000000)
    before = _before(b)
    if before is not None and (not isinstance(before, list) or len(before) != 3):
        raise Bad("invalid cursor")
    inst = ins["instrument"]
    tp = tape("grvt", inst)
    if tp is not None:
        return _tape_history(tp, b, n, before)
    recent = sorted(_recent(), key=_trade_key, reverse=True) if inst == "BTC_USDT_Perp" else []

    def rows():
        for r in recent:
            if start <= int(r["event_time"]) <= end:
                yield r
        hi = min(end // 1000000, GEN_TRADES_END_MS - 1) // TRADE_STEP_MS
        lo = max(1, -(-start // 1000000 // TRADE_STEP_MS))
        for k in range(hi, lo - 1, -1):
            if k * TRADE_STEP_MS * 1000000 >= start:
                yield trade_row(inst, k)

    def older():
        for r in rows():
            if before is None or _trade_key(r) < before:
                yield r
    out, nxt = _page(older(), n, _trade_key)
    return 200, {"result": out, "next": nxt}


def _tape_history(tp, b, n, before):
    """full/v1/trade_history from a registered tape: see the module docstring."""
    start = _ns(b, "start_time", 0)
    end = _ns(b, "end_time", 1 << 62)
    lo, hi = tp.range_of_times(-(-start // 1000000), end // 1000000)
    hi = min(hi, tp.generated())

    def rows():
        for k in range(hi - 1, lo - 1, -1):
            r = json.loads(tp.grvt_trade_json(k))
            if before is None or _trade_key(r) < before:
                yield r
    out, nxt = _page(rows(), n, _trade_key)
    return 200, {"result": out, "next": nxt}


def register(venue):
    for prefix in ("", "/deep"):
        venue.route("POST", prefix + r"/full/v1/instruments", instruments)
        venue.route("POST", prefix + r"/full/v1/all_instruments", instruments)
        venue.route("POST", prefix + r"/full/v1/instrument", instrument)
        venue.route("POST", prefix + r"/full/v1/ticker", ticker)
        venue.route("POST", prefix + r"/full/v1/book", deep_book if prefix else book)
        venue.route("POST", prefix + r"/full/v1/kline", kline)
        venue.route("POST", prefix + r"/full/v1/funding", funding)
        venue.route("POST", prefix + r"/full/v1/trades", trades)
        venue.route("POST", prefix + r"/full/v1/trade_history", trade_history)
