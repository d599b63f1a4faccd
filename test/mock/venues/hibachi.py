"""Hibachi routes of the mock exchange.

Hibachi's public market data, exchange-info included, is on one host, the
data API (data-api.hibachi.xyz: /market/exchange-info, /market/inventory,
/market/data/...), the venue row's rest_url, as its official SDK asks it;
the trading API (api.hibachi.xyz) serves only account and order endpoints.
The tests point rest_url at $PERPS_MOCK_URL/hibachi.

Payloads (test/payloads/hibachi, written from Hibachi's API documentation
and its SDK's types, invented late-2026 values): exchangeInfo (BTC, ETH,
SOL, PEPE live, SUI closed), inventory (the same contracts with their
info), prices / stats / openInterest of BTC and ETH, the BTC order book
(bids best first), recent BTC trades, two BTC 1h klines.  The mock's
"now" is 2026-12-01 09:15:00 UTC (1796116500 s).

DOCUMENTED-FORMAT data written here:
- prices, stats, open interest of the other listed markets (and, with
  bench_markets, the BENCH_SYMBOLS): bid P, ask P + 0.0001, trade P,
  mark P, spot P, with P from PRICES (ETH 3521.40, SOL 187.430, PEPE
  0.0000103319), else bench_price(symbol); estimatedFundingRate
  "0.0000100" for 10:00; high P + 10, low P - 10, volume24h "250000.5";
  totalQuantity "42.5".
- order books of the other markets: 3 levels a side around P, 1 apart,
  quantities 1.5 (asks) and 2.5 (bids); ETH's bid side is listed worst
  first (ascending), the other order (the documentation does not say which
  it is), which the adapter must put best first.
- trades of the other markets: one Buy of "0.5" at P at "now" - 10 s.
- klines (/market/data/klines, interval 1min 5min 15min 1h 4h 1d 1w,
  fromMs / toMs in ms, both inclusive, at most 1000 candles, the oldest
  first from fromMs; without fromMs the 1000 ending at toMs or now):
  timestamp t (s, a multiple of the interval), i = t / interval seconds,
  o = 97000 + (i mod 61) / 10, high o + 6, low o - 4, close o + 0.5,
  volumeNotional 50000.25 + 1000 * (i mod 13); BTC's 1h payload candles
  where their times are asked for.
- funding rates (/market/data/funding-rates, startTime / endTime in s,
  both inclusive, limit 1..100 (default 100), offset): one a settlement
  on each hour t <= now, oldest first, fundingRate = ((t / 3600) mod 9
  - 4) * 0.0000025 (seven decimals), indexPrice "97000.0".

While a trade tape is registered for the symbol (POST /_mock/tape {"venue":
"hibachi", "symbol": "BTC/USDT-P", ...}, see test/mock/tape.py)
/market/data/trades serves it instead: the newest 100 of the tape's trades
that exist by now (time <= now), newest first, with the price, quantity,
takerSide and whole-second timestamp the WebSocket mock's trades frames of
the tape carry.

Order books and granularity: /market/data/orderbook takes granularity, one
of the market's orderbookGranularities (exchange-info; any other value
answers 400), and then serves the book aggregated into buckets of that size
as the adapter takes Hibachi to round (src/venues/hibachi.c): a bid at
price x goes to the bucket floor(x / G) * G, an ask to ceil(x / G) * G (a
bucket is named by its price farthest from mid), quantities summed, then
the first depth (1..100) buckets a side.  Without granularity the book is
served as it is.

/deep (rest_url = $PERPS_MOCK_URL/hibachi/deep): the same routes, but two
DOCUMENTED-FORMAT books written here for test/integration/
53_fetch_hibachi_depth.sql, and a book asked without granularity is
refused (the adapter always sends one for a market whose steps it knows):
- BTC, mid 100000.0, each side three zones (bids shown; asks mirror them
  above mid, 100000.1 .. 100010.0, 100010.5 .. 100099.5, 100105 ..
  100995, and 100050 .. 100950):
    A  99999.9 down to 99990.0 every 0.1 (100 levels), 0.1 each
    B  99989.5 down to 99900.5 every 1 (90 levels), 1 each
    C  99895 down to 99005 every 10 (90 levels), 2 each
    D  98950 down to 98050 every 100 (10 levels), 5 each
  so the 100 buckets of granularity 0.1 reach 1 bps, of 1 reach 10 bps,
  of 10 reach 100 bps, and 100 (never needed) reaches past it.
- PEPE (two granularities, 1e-20 and 1e-19): bids 0.0000103319 down by
  0.0000000001, asks 0.0000103320 up by as much, 300 levels a side of
  1000000 each: both granularities give the same 100 levels, about 10 bps
  deep, so no book of PEPE reaches 100 bps.

Errors: {"errorCode": 4, "message": ..., "status": "failed"} with HTTP 400.
"""

import copy
import json
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import tape as tape_mod
from mock_exchange import bench_price, bench_symbols, fixture, fixture_json, tape

FX = "hibachi/"
NOW_S = 1796116500
INTERVALS = {"1min": 60, "5min": 300, "15min": 900, "1h": 3600, "4h": 14400, "1d": 86400, "1w": 604800}
KLINES_MAX = 1000
FUNDING_MAX = 100
TAPE_RECENT = 100    # the recent trades served (CCXT: at most 100)


def _bad(msg):
    return 400, {"errorCode": 4, "message": msg, "status": "failed"}


def _exchange_info():
    info = fixture_json(FX + "exchangeInfo.json")
    listed = {c["symbol"] for c in info["futureContracts"]}
    btc = next(c for c in info["futureContracts"] if c["symbol"] == "BTC/USDT-P")
    for i, b in enumerate(bench_symbols()):
        if b + "/USDT-P" not in listed:
            info["futureContracts"].append(dict(copy.deepcopy(btc), symbol=b + "/USDT-P", underlyingSymbol=b,
                                                displayName=b + "/USDT Perps", id=100 + i, tickSize="0.0001"))
    return info


def _live():
    return {c["symbol"] for c in _exchange_info()["futureContracts"] if c["status"] == "LIVE"}


def _base(sym):
    return sym.split("/")[0]


def exchange_info(req):
    return 200, _exchange_info()


def inventory(req):
    inv = fixture_json(FX + "inventory.json")
    listed = {m["contract"]["symbol"] for m in inv["markets"]}
    for c in _exchange_info()["futureContracts"]:
        if c["symbol"] not in listed:
            p = str(bench_price(_base(c["symbol"])))
            inv["markets"].append({"contract": c, "info": {"category": "Crypto", "markPrice": p,
                                                           "price24hAgo": p, "priceLatest": p, "tags": []}})
    return 200, inv


def _symbol(req):
    sym = req.arg("symbol")
    if sym is None:
        return None, _bad("symbol is required")
    if sym not in _live():
        return None, _bad("Invalid symbol: %s" % sym)
    return sym, None


def _own(kind, sym):
    """The payload test/payloads/hibachi/<kind>.<BASE>.json, or None."""
    try:
        return fixture(FX + "%s.%s.json" % (kind, _base(sym)))
    except OSError:
        return None


# the documented-format markets' price P (bench_price for the benchmark's others)
PRICES = {"BTC": Decimal("97251.2"), "ETH": Decimal("3521.40"), "SOL": Decimal("187.430"),
          "PEPE": Decimal("0.0000103319")}


def _p(sym):
    return PRICES.get(_base(sym)) or bench_price(_base(sym))


def prices(req):
    sym, err = _symbol(req)
    if err:
        return err
    own = _own("prices", sym)
    if own is not None:
        return 200, own
    p = _p(sym)
    return 200, {"askPrice": str(p + Decimal("0.0001")), "bidPrice": str(p),
                 "fundingRateEstimation": {"estimatedFundingRate": "0.0000100", "nextFundingTimestamp": 1796119200},
                 "markPrice": str(p), "spotPrice": str(p), "symbol": sym, "tradePrice": str(p)}


def stats(req):
    sym, err = _symbol(req)
    if err:
        return err
    own = _own("stats", sym)
    if own is not None:
        return 200, own
    p = _p(sym)
    return 200, {"high24h": str(p + 10), "low24h": str(p - 10), "symbol": sym, "volume24h": "250000.5"}


def open_interest(req):
    sym, err = _symbol(req)
    if err:
        return err
    own = _own("openInterest", sym)
    return 200, own if own is not None else {"totalQuantity": "42.5"}


def _granularities(sym):
    c = next(c for c in _exchange_info()["futureContracts"] if c["symbol"] == sym)
    return c.get("orderbookGranularities") or []


def _aggregate(levels, g, bids):
    """Levels in buckets of g: bids floor(x / g) * g, asks ceil(x / g) * g, best first."""
    g = Decimal(g)
    buckets = {}
    for lv in levels:
        k = (Decimal(lv["price"]) / g).to_integral_value(ROUND_FLOOR if bids else ROUND_CEILING) * g
        buckets[k] = buckets.get(k, Decimal(0)) + Decimal(lv["quantity"])
    return [{"price": format(k, "f"), "quantity": format(buckets[k], "f")}
            for k in sorted(buckets, reverse=bids)]


def _zones(mid, zones, bids):
    """Levels of zones (first offset from mid, step, count, quantity), best first."""
    sign = -1 if bids else 1
    return [{"price": format(mid + sign * (Decimal(off) + k * Decimal(step)), "f"), "quantity": q}
            for off, step, n, q in zones for k in range(n)]


# /deep: the books of the module docstring
DEEP_BTC = [("0.1", "0.1", 100, "0.1"), ("10.5", "1", 90, "1"), ("105", "10", 90, "2"), ("1050", "100", 10, "5")]


def _deep_book(sym):
    if _base(sym) == "BTC":
        mid = Decimal("100000.0")
        return {"bid": {"levels": _zones(mid, DEEP_BTC, True)}, "ask": {"levels": _zones(mid, DEEP_BTC, False)}}
    if _base(sym) == "PEPE":
        step = Decimal("0.0000000001")
        return {"bid": {"levels": [{"price": format(Decimal("0.0000103319") - k * step, "f"), "quantity": "1000000"}
                                   for k in range(300)]},
                "ask": {"levels": [{"price": format(Decimal("0.0000103320") + k * step, "f"), "quantity": "1000000"}
                                   for k in range(300)]}}
    return None


def orderbook(req):
    sym, err = _symbol(req)
    if err:
        return err
    try:
        depth = int(req.arg("depth", "100"))
    except ValueError:
        return _bad("depth must be an integer")
    if not 1 <= depth <= 100:
        return _bad("depth must be between 1 and 100")
    g = req.arg("granularity")
    if g is not None and g not in _granularities(sym):
        return _bad("Invalid granularity: %s" % g)
    deep = req.path.startswith("/deep/")
    if deep and g is None:
        return _bad("granularity is required here (the /deep books)")
    own = _own("orderbook", sym)
    if deep and _deep_book(sym) is not None:
        book = _deep_book(sym)
    elif own is not None:
        book = json.loads(own)
    else:
        p = _p(sym)
        book = {"ask": {"levels": [{"price": str(p + i), "quantity": "1.5"} for i in range(1, 4)]},
                "bid": {"levels": [{"price": str(p - i), "quantity": "2.5"} for i in range(1, 4)]}}
    if g is not None:
        for side in ("ask", "bid"):
            book[side]["levels"] = _aggregate(book[side]["levels"], g, side == "bid")
    for side in ("ask", "bid"):
        lv = book[side]["levels"][:depth]
        book[side]["levels"] = lv
        if lv:
            book[side]["startPrice"], book[side]["endPrice"] = lv[0]["price"], lv[-1]["price"]
    if _base(sym) == "ETH":     # the other order: worst bid first
        book["bid"]["levels"].reverse()
    return 200, book


def trades(req):
    sym, err = _symbol(req)
    if err:
        return err
    tp = tape("hibachi", sym)
    if tp is not None:
        # the tape's newest TAPE_RECENT trades that exist by now, newest first
        hi = tp.generated(tape_mod.now_ms())
        rows = ",".join('{"price":"%s","quantity":"%s","takerSide":"%s","timestamp":%d}'
                        % (tp.price(k), tp.qty(k), "Buy" if tp.buy(k) else "Sell", tp.time_ms(k) // 1000)
                        for k in range(hi - 1, max(0, hi - TAPE_RECENT) - 1, -1))
        return 200, '{"trades":[%s]}' % rows
    own = _own("trades", sym)
    if own is not None:
        return 200, own
    return 200, {"trades": [{"price": str(_p(sym)), "quantity": "0.5", "takerSide": "Buy",
                             "timestamp": NOW_S - 10}]}


def kline(t, step):
    i = t // step
    o = Decimal(97000) + Decimal(i % 61) / 10
    return {"close": str(o + Decimal("0.5")), "high": str(o + 6), "interval": None, "low": str(o - 4),
            "open": str(o), "timestamp": t, "volumeNotional": str(Decimal("50000.25") + 1000 * (i % 13))}


def klines(req):
    sym, err = _symbol(req)
    if err:
        return err
    iv = req.arg("interval", "")
    if iv not in INTERVALS:
        return _bad("Invalid interval: %s" % iv)
    step = INTERVALS[iv]
    try:
        lo = int(req.arg("fromMs")) if req.arg("fromMs") else None
        hi = int(req.arg("toMs")) if req.arg("toMs") else NOW_S * 1000
    except ValueError:
        return _bad("fromMs and toMs are unix times in milliseconds")
    hi_s = min(hi // 1000, NOW_S) // step * step
    if lo is None:
        first = hi_s - (KLINES_MAX - 1) * step
    else:
        first = -(-lo // (step * 1000)) * step
    own = {}
    if _base(sym) == "BTC" and iv == "1h":
        own = {k["timestamp"]: k for k in fixture_json(FX + "klines.BTC.1h.json")["klines"]}
    rows = []
    t = max(first, 0)
    while t <= hi_s and len(rows) < KLINES_MAX:
        rows.append(own.get(t) or dict(kline(t, step), interval=iv))
        t += step
    return 200, {"klines": rows}


def funding_rate_at(t):
    return Decimal((t // 3600) % 9 - 4) * Decimal("0.0000025")


def funding_rates(req):
    sym, err = _symbol(req)
    if err:
        return err
    try:
        start = int(req.arg("startTime", "0"))
        end = min(int(req.arg("endTime", str(NOW_S))), NOW_S)
        limit = int(req.arg("limit", str(FUNDING_MAX)))
        offset = int(req.arg("offset", "0"))
    except ValueError:
        return _bad("startTime, endTime, limit and offset are integers")
    if not 1 <= limit <= FUNDING_MAX or offset < 0:
        return _bad("limit must be between 1 and 100")
    first = -(-start // 3600) * 3600 + offset * 3600
    rows = []
    t = first
    while t <= end and len(rows) < limit:
        rows.append('{"fundingRate":"%s","fundingTimestamp":%d,"indexPrice":"97000.0","symbol":"%s"}'
                    % (format(funding_rate_at(t), "f"), t, sym))
        t += 3600
    return 200, '{"data":[%s]}' % ",".join(rows)


def register(venue):
    # the data API (rest_url = .../hibachi), and the same under /deep (the deep books)
    for pre in ("", "/deep"):
        venue.route("GET", pre + r"/market/exchange-info", exchange_info)
        venue.route("GET", pre + r"/market/inventory", inventory)
        venue.route("GET", pre + r"/market/data/prices", prices)
        venue.route("GET", pre + r"/market/data/stats", stats)
        venue.route("GET", pre + r"/market/data/open-interest", open_interest)
        venue.route("GET", pre + r"/market/data/orderbook", orderbook)
        venue.route("GET", pre + r"/market/data/trades", trades)
        venue.route("GET", pre + r"/market/data/klines", klines)
        venue.route("GET", pre + r"/market/data/funding-rates", funding_rates)
