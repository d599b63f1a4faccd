"""Nado routes of the mock exchange: the gateway at rest_url .../nado, the
archive (indexer) at aux_url .../nado/aux.

Nado splits its public API over two hosts (docs.nado.xyz, "API / Endpoints"):
the gateway answers GET (or POST) /v1/query?type=... and GET /v1/symbols,
the archive POST /v1 with a JSON query and GET /v2/contracts, /v2/trades.
Both live under this one venue here, the archive's paths behind /aux.

Served from test/payloads/nado (written from the documentation):
  gateway  /v1/query?type=symbols   fetchMarkets.symbols.json (product_type
                                    spot|perp keeps those; none: all)
           /v1/symbols              fetchMarkets.symbolsList.json (XRP-PERP delisted)
           /v1/query?type=market_liquidity
                                    BTC-PERP (2): fetchOrderBook.btc.json cut to
                                    depth (1..100, required); other products:
                                    DOCUMENTED-FORMAT levels around the contract's
                                    last price, 5 a side, one tick apart, the
                                    timestamp the wall clock in ns (a live book's
                                    time: the WebSocket mock's book_depth events,
                                    test/mock/ws_venues/nado.py, are timed the
                                    same way, so a snapshot fits their chain)
  archive  /v2/contracts            fetchTickers.contracts.json (edge=true|false
                                    alike)
           /v2/trades               BTC-PERP_USDT0: fetchTrades.json, newest first,
                                    limit (1..500, default 100), max_trade_id;
                                    other tickers: DOCUMENTED-FORMAT, 3 trades
           POST /v1 {"funding_rate": {"product_id"}} and {"funding_rates":
                                    {"product_ids"}}: fetchFundingRate.json
           POST /v1 {"market_snapshots": {"interval": {"count" (1..100),
                                    "granularity", "max_time"}, "product_ids"}}:
                                    for [2], count 3, granularity 3600 and
                                    max_time 1796115600 the file
                                    fetchFundingRateHistory.json; else generated
           POST /v1 {"candlesticks": {"product_id", "granularity", "max_time",
                                    "limit" (1..500, default 100)}}: BTC-PERP's 1m
                                    candles of fetchOHLCV.json where asked; else
                                    generated

The mock's "now" is 1796116499 s, 2026-12-01 09:14:59 UTC (the last
candle of fetchOHLCV.json opens at 09:14:00); max_time defaults to it.

Generated (DOCUMENTED-FORMAT) history, newest first, marks at multiples of
the granularity at or before max_time:
  candle at t (s), i = t // 60: open 97000 + (i mod 83) / 8, high open + 6,
  low open - 6, close open + 0.625, volume (1 + i mod 5) / 4, all x18
  snapshot at mark M: timestamp M - (M // 3600 mod 5) (the last transaction
  before the mark), funding_rates {product: ((M // 3600) mod 11 - 5) * 10^12
  + product} (x18) for each product asked (default: every perp)

With the mock's bench_markets on, the BENCH_SYMBOLS Nado does not list are
perps with product ids 100, 102, ... (in BENCH_SYMBOLS order): in the
symbols, the contracts (last price bench_price), the funding rates and the
generated books.

Errors: the gateway answers HTTP 400 {"status": "failure", "error": ...,
"error_code": 2015 | 2016 | ...}; the archive HTTP 400 with a text body.
"""

import json
import time
from decimal import Decimal

from mock_exchange import bench_hash, bench_price, bench_symbols, fixture, fixture_json

FX = "nado/"
NOW_S = 1796116499
X18 = Decimal(10) ** 18
KLINE_LIMIT = 500
SNAPSHOT_COUNT = 100
TRADES_LIMIT = 500
BOOK_DEPTH = 100
GRANULARITIES = (60, 300, 900, 3600, 7200, 14400, 86400, 604800, 2419200)


def x18(d):
    """A Decimal as an x18 fixed-point integer string (exact for <= 18 decimals)."""
    return str(int(Decimal(d) * X18))


def _fail(msg, code=2016):
    return 400, {"status": "failure", "error": msg, "error_code": code}


def _archive_bad(msg):
    return 400, msg


def _bench():
    """(product id, symbol) of the benchmark's markets Nado does not list."""
    have = {s["symbol"] for s in fixture_json(FX + "fetchMarkets.symbols.json")["data"]["symbols"].values()}
    return [(100 + 2 * i, b) for i, b in enumerate(bench_symbols()) if b + "-PERP" not in have]


def _symbols():
    syms = dict(fixture_json(FX + "fetchMarkets.symbols.json")["data"]["symbols"])
    btc = syms["BTC-PERP"]
    for pid, b in _bench():
        syms[b + "-PERP"] = dict(btc, product_id=pid, symbol=b + "-PERP", price_increment_x18=x18("0.0001"))
    return syms


def _bench_contracts():
    btc = fixture_json(FX + "fetchTickers.contracts.json")["BTC-PERP_USDT0"]
    out = {}
    for pid, b in _bench():
        p = float(bench_price(b))
        out[b + "-PERP_USDT0"] = dict(btc, product_id=pid, ticker_id=b + "-PERP_USDT0", base_currency=b + "-PERP",
                                      last_price=p, mark_price=p, index_price=p, contract_price=p,
                                      open_interest=float(bench_hash(b, "oi") % 100000))
    return out


def _contracts():
    """The contracts as Python objects (floats: for lookups, not for answers)."""
    c = dict(fixture_json(FX + "fetchTickers.contracts.json"))
    c.update(_bench_contracts())
    return c


def _contracts_text():
    """The answer: the payload's text as it is (its 22-decimal numbers would not survive a
    float), the benchmark's contracts spliced in before its closing brace."""
    raw = fixture(FX + "fetchTickers.contracts.json").decode()
    extra = _bench_contracts()
    if not extra:
        return raw
    head = raw[:raw.rindex("}")].rstrip()
    return head + ",\n" + ",\n".join('"%s": %s' % (k, json.dumps(v)) for k, v in extra.items()) + "\n}\n"


def _contract(pid):
    for v in _contracts().values():
        if v["product_id"] == pid:
            return v
    return None


def _perp_ids():
    return sorted(v["product_id"] for v in _symbols().values() if v["type"] == "perp")


# ---- gateway ----

def _query_args(req):
    if req.method == "POST":
        b = req.json()
        return b if isinstance(b, dict) else {}
    return req.query


def query(req):
    a = _query_args(req)
    t = a.get("type")
    if t == "symbols":
        body = fixture_json(FX + "fetchMarkets.symbols.json")
        syms = _symbols()
        pt = a.get("product_type")
        if pt is not None:
            if pt not in ("spot", "perp"):
                return _fail("Invalid product type %s. 'product_type' must be 'spot' or 'perp'" % pt, 2061)
            syms = {k: v for k, v in syms.items() if v["type"] == pt}
        body["data"]["symbols"] = syms
        return 200, body
    if t == "market_liquidity":
        try:
            pid = int(a.get("product_id"))
            depth = int(a.get("depth"))
        except (TypeError, ValueError):
            return _fail("product_id and depth are required", 2016)
        if not 1 <= depth <= BOOK_DEPTH:
            return _fail("depth must be between 1 and 100", 2016)
        if pid == 2:
            body = fixture_json(FX + "fetchOrderBook.btc.json")
        else:
            c = _contract(pid)
            if c is None:
                return _fail("The market for the given product or ticker ID was not found.", 2015)
            last = Decimal(str(c["last_price"]))
            tick = Decimal("0.01")
            body = {"status": "success", "request_type": "query_market_liquidity",
                    "data": {"bids": [[x18(last - tick * (i + 1)), x18(Decimal(i + 1) / 2)] for i in range(5)],
                             "asks": [[x18(last + tick * (i + 1)), x18(Decimal(i + 1) / 4)] for i in range(5)],
                             "timestamp": str(time.time_ns()), "product_id": pid}}
        body["data"]["bids"] = body["data"]["bids"][:depth]
        body["data"]["asks"] = body["data"]["asks"][:depth]
        return 200, body
    return _fail("unknown query type %r" % (t,), 2063)


def symbols_list(req):
    rows = list(fixture_json(FX + "fetchMarkets.symbolsList.json"))
    rows += [{"product_id": pid, "symbol": b + "-PERP", "delisted": False} for pid, b in _bench()]
    return 200, rows


# ---- archive ----

def contracts(req):
    return 200, _contracts_text()


def trades(req):
    tid = req.arg("ticker_id")
    try:
        limit = int(req.arg("limit", "100"))
        top = int(req.arg("max_trade_id")) if req.arg("max_trade_id") is not None else None
    except ValueError:
        return _archive_bad("invalid limit or max_trade_id")
    if not 1 <= limit <= TRADES_LIMIT:
        return _archive_bad("limit must be between 1 and 500")
    c = _contracts().get(tid or "")
    if c is None or c["product_type"] != "perpetual":
        return _archive_bad("ticker_id not found")
    if tid == "BTC-PERP_USDT0":
        rows = fixture_json(FX + "fetchTrades.json")
    else:
        last = Decimal(str(c["last_price"]))
        rows = [{"product_id": c["product_id"], "ticker_id": tid, "trade_id": 5000 - i,
                 "price": float(last), "base_filled": (-1) ** i * (i + 1) / 10,
                 "quote_filled": float(last * (i + 1) / 10), "timestamp": NOW_S - 10 * i,
                 "trade_type": "sell" if i % 2 else "buy"} for i in range(3)]
    rows = [r for r in rows if top is None or r["trade_id"] <= top][:limit]
    # keep the payload's number texts (97244.58899999999) as they are
    if tid == "BTC-PERP_USDT0" and top is None and limit >= len(rows) == 4:
        return 200, fixture(FX + "fetchTrades.json")
    return 200, rows


def _int(v, default=None):
    if v is None:
        return default
    return int(v)


def candlesticks(q):
    try:
        pid = int(q["product_id"])
        g = int(q["granularity"])
        max_time = _int(q.get("max_time"), NOW_S)
        limit = _int(q.get("limit"), 100)
    except (KeyError, TypeError, ValueError):
        return _archive_bad("product_id and granularity are required")
    if g not in GRANULARITIES:
        return _archive_bad("invalid granularity")
    if not 1 <= limit <= KLINE_LIMIT:
        return _archive_bad("limit must be between 1 and 500")
    if _contract(pid) is None:
        return _archive_bad("product not found")
    rec = {}
    if pid == 2 and g == 60:
        rec = {int(c["timestamp"]): c for c in fixture_json(FX + "fetchOHLCV.json")["candlesticks"]}
    last = min(max_time, NOW_S) // g * g
    rows = []
    for k in range(limit):
        t = last - k * g
        if t in rec:
            rows.append(rec[t])
            continue
        i = t // 60
        o = Decimal(97000) + Decimal(i % 83) / 8
        rows.append({"product_id": pid, "granularity": g, "submission_idx": str(700000000 + i),
                     "timestamp": str(t), "open_x18": x18(o), "high_x18": x18(o + 6), "low_x18": x18(o - 6),
                     "close_x18": x18(o + Decimal("0.625")), "volume": x18(Decimal(1 + i % 5) / 4)})
    return 200, {"candlesticks": rows}


def snapshot_rate(m, pid):
    """The generated hourly funding rate (x18 integer) of a product at hour mark m (s)."""
    return ((m // 3600) % 11 - 5) * 10**12 + pid


def market_snapshots(q):
    try:
        iv = q["interval"]
        count = int(iv["count"])
        g = int(iv["granularity"])
        max_time = _int(iv.get("max_time"), NOW_S)
        pids = [int(p) for p in q.get("product_ids") or _perp_ids()]
    except (KeyError, TypeError, ValueError):
        return _archive_bad("interval.count and interval.granularity are required")
    if not 1 <= count <= SNAPSHOT_COUNT or count * len(pids) >= 2000:
        return _archive_bad("interval.count must be between 1 and 100")
    if pids == [2] and count == 3 and g == 3600 and max_time == 1796115600:
        return 200, fixture(FX + "fetchFundingRateHistory.json")
    snaps = []
    for k in range(count):
        m = min(max_time, NOW_S) - k * g
        snaps.append({"timestamp": m - (m // 3600) % 5, "cumulative_trades": {str(p): 1000 + p for p in pids},
                      "open_interests": {str(p): x18(Decimal(1000 + p)) for p in pids},
                      "funding_rates": {str(p): str(snapshot_rate(m, p)) for p in pids}})
    return 200, {"snapshots": snaps}


def archive(req):
    b = req.json()
    if not isinstance(b, dict) or len(b) != 1:
        return _archive_bad("a query is an object with one key")
    (kind, q), = b.items()
    if not isinstance(q, dict):
        return _archive_bad("invalid query")
    rates = fixture_json(FX + "fetchFundingRate.json")
    for pid, _ in _bench():
        rates[str(pid)] = {"product_id": pid, "update_time": str(NOW_S - 29),
                           "funding_rate_x18": str((bench_hash(pid, "funding") % 2001 - 1000) * 10**12)}
    if kind == "funding_rate":
        r = rates.get(str(q.get("product_id")))
        return (200, r) if r else _archive_bad("product not found")
    if kind == "funding_rates":
        ids = [str(p) for p in q.get("product_ids") or []]
        return 200, {p: rates[p] for p in ids if p in rates}
    if kind == "candlesticks":
        return candlesticks(q)
    if kind == "market_snapshots":
        return market_snapshots(q)
    return _archive_bad("unknown query %r" % kind)


def register(venue):
    venue.route("GET", r"/v1/query", query)
    venue.route("POST", r"/v1/query", query)
    venue.route("GET", r"/v1/symbols", symbols_list)
    venue.route("GET", r"/aux/v2/contracts", contracts)
    venue.route("GET", r"/aux/v2/trades", trades)
    venue.route("POST", r"/aux/v1", archive)
