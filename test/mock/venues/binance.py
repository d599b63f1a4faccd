"""Binance USD-M futures (fapi) routes of the mock exchange.

It serves either payload tree (test/mock/mock_exchange.py's FIXTURES): the
project's own (test/payloads/binance and websocket/binance_usdm, written from
Binance's API documentation) or the recorded ones (../shared/fixtures).
Their answers are served as they are where a REST answer is in the tree
(exchangeInfo, depth, openInterest, klines; in the project's own tree also
fundingInfo, fundingRate history and recent trades, see OPTIONAL).  Where
only a WebSocket frame is (24 h ticker, mark price / funding, book ticker),
the REST answer is written here in Binance's documented REST format from
that frame's values.  A few answers neither tree has are written here, marked
DOCUMENTED-FORMAT: Binance's documented format, values invented.

History endpoints (klines, fundingRate) serve deterministic generated history
for any time range with Binance's paging rules (startTime/endTime/limit,
ascending, the newest page when no startTime is given); the klines (and
funding rates) of the payload tree replace the generated ones at their open
(funding) times.  A symbol's klines start at its listing time when
/_mock/config sets one (listing_ms), else at any start.  The history ends at
the mock's "now", now_ms(): the close of the last 1m kline in the tree's
fetchOHLCV.swap.json.

Trade history (aggTrades, DOCUMENTED-FORMAT, see _gen_agg_trade) starts at
the listing time, or at AGG_START_MS when none is set: aggregate trade id
a = 1, 2, 3, ... at time start + (a - 1) * 1.5 s, up to now_ms().  Binance's
rules: limit 1..1000 (default 500), ascending; fromId from that id on;
startTime/endTime inclusive and less than an hour apart (else error -1127);
neither: the most recent.

While a trade tape is registered for the symbol (POST /_mock/tape, see
test/mock/tape.py) aggTrades serves the tape instead, with the same rules:
the tape's trades that exist by now (T <= now), a = start_id + k, the same
a, p, q, f, l, T, m as the WebSocket mock's aggTrade frames of the tape.
"""

from decimal import Decimal

from mock_exchange import bench_hash, bench_price, bench_symbols, fixture, fixture_json, listing_ms, tape

WS = "websocket/binance_usdm/"

# Files only the project's own tree has (the recordings have no such answer):
# where one is missing, the mock answers as it did before it existed (the
# DOCUMENTED-FORMAT values below, or generated history).  A dated name of the
# recorded tree is the fallback of the plain one.
OPTIONAL = {"fundingInfo": "binance/fetchMarkets.fundingInfo.json",
            "fundingRate": "binance/fetchFundingRateHistory.json",
            "trades": "binance/fetchTrades.json",
            "oi_eth": "binance/fetchOpenInterest.ethusdt.json"}
BOOK_TICKER_ETH = (WS + "bookTicker.ethusdt.json", WS + "bookTicker.ethusdt_2022.json")


def optional_json(*rels):
    """The first of the payloads rels that the tree has, parsed; None when it has none."""
    for rel in rels:
        try:
            return fixture_json(rel)
        except FileNotFoundError:
            continue
    return None


_now = []


def now_ms():
    """The mock's "now": the close of the last 1m kline of fetchOHLCV.swap.json
    (the recorded tree: 2024-04-10 08:43:59.999 UTC; the project's own: 2026-11-23 14:37:59.999 UTC)."""
    if not _now:
        _now.append(max(int(r[6]) for r in fixture_json("binance/fetchOHLCV.swap.json")))
    return _now[0]

# The REST depth snapshots served for /fapi/v1/depth; the WebSocket mock
# (test/mock/ws_venues/binance.py) reads this too, so that its diff depth
# events continue these snapshots' lastUpdateId.
DEPTH_FIXTURES = {"BTCUSDT": "binance/fetchOrderBook.swap.json",
                  "SUSHIUSDT": "binance/fetchOrderBook.depth_sushiusdt.json"}

INTERVAL_MS = {"1m": 60000, "3m": 180000, "5m": 300000, "15m": 900000, "30m": 1800000,
               "1h": 3600000, "2h": 7200000, "4h": 14400000, "6h": 21600000, "8h": 28800000,
               "12h": 43200000, "1d": 86400000}
DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
# aggregate trades: the start of history when no listing time is set (2019-09-08 00:00 UTC), the spacing
AGG_START_MS = 1567900800000
AGG_GAP_MS = 1500


def err(code, msg, status=400):
    return status, {"code": code, "msg": msg}


def _ws_data(rel):
    return fixture_json(WS + rel)["data"]


def _state(venue):
    st = venue.state
    if "symbols" not in st:
        info = fixture_json("binance/fetchMarkets.exchangeInfo.json")
        st["symbols"] = {s["symbol"] for s in info["symbols"]}

        day = {}
        for d in [_ws_data("24hrTicker.json")] + _ws_data("24hrTicker.arr.json"):
            day[d["s"]] = {"symbol": d["s"], "priceChange": d["p"], "priceChangePercent": d["P"],
                           "weightedAvgPrice": d["w"], "lastPrice": d["c"], "lastQty": d["Q"],
                           "openPrice": d["o"], "highPrice": d["h"], "lowPrice": d["l"],
                           "volume": d["v"], "quoteVolume": d["q"], "openTime": d["O"],
                           "closeTime": d["C"], "firstId": d["F"], "lastId": d["L"], "count": d["n"]}
        # DOCUMENTED-FORMAT: no BTCUSDT 24 h ticker is recorded (the project's own tree has one)
        day.setdefault("BTCUSDT", {"symbol": "BTCUSDT", "priceChange": "-512.30", "priceChangePercent": "-0.712",
                                   "weightedAvgPrice": "71020.55", "lastPrice": "71481.90", "lastQty": "0.002",
                                   "openPrice": "71994.20", "highPrice": "72250.00", "lowPrice": "70459.40",
                                   "volume": "182733.517", "quoteVolume": "12978052301.29",
                                   "openTime": 1712652240000, "closeTime": 1712738639999,
                                   "firstId": 4826000001, "lastId": 4829351122, "count": 3351122})
        st["day"] = day

        prem = {}
        for d in [_ws_data("markPriceUpdate.json")] + _ws_data("markPriceUpdate.arr.json"):
            if d["s"] in prem:
                continue        # markPriceUpdate.json (BTCUSDT) comes first and wins
            prem[d["s"]] = {"symbol": d["s"], "markPrice": d["p"], "indexPrice": d["i"],
                            "estimatedSettlePrice": d["P"], "lastFundingRate": d["r"],
                            "interestRate": "0.00010000", "nextFundingTime": d["T"], "time": d["E"]}
        st["prem"] = prem

        book = {}
        for d in (_ws_data("bookTicker.json"), optional_json(*BOOK_TICKER_ETH)["data"]):
            book[d["s"]] = {"symbol": d["s"], "bidPrice": d["b"], "bidQty": d["B"],
                            "askPrice": d["a"], "askQty": d["A"], "time": d["T"], "lastUpdateId": d["u"]}
        # DOCUMENTED-FORMAT: no BTCUSDT book ticker is recorded (the project's own
        # tree has one); this one is the top of the recorded BTCUSDT depth
        book.setdefault("BTCUSDT", {"symbol": "BTCUSDT", "bidPrice": "42651.10", "bidQty": "470.672",
                                    "askPrice": "42878.00", "askQty": "7.011", "time": 1706803917258,
                                    "lastUpdateId": 35263532345})
        st["book"] = book

        st["oi"] = {"BTCUSDT": fixture("binance/fetchOpenInterest.json"),
                    # DOCUMENTED-FORMAT where the tree has no ETHUSDT open interest
                    "ETHUSDT": optional_json(OPTIONAL["oi_eth"])
                    or {"symbol": "ETHUSDT", "openInterest": "1234567.890", "time": 1653817860000}}
        st["depth"] = {s: fixture_json(rel) for s, rel in DEPTH_FIXTURES.items()}
        st["exchange_info"] = "binance/fetchMarkets.exchangeInfo.json"
        st["klines"] = {("BTCUSDT", "1m"): {r[0]: r for r in fixture_json("binance/fetchOHLCV.swap.json")}}
        st["funding"] = {(r["symbol"], int(r["fundingTime"])): r for r in optional_json(OPTIONAL["fundingRate"]) or []}
        st["trades"] = optional_json(OPTIONAL["trades"])
        # DOCUMENTED-FORMAT where the tree has no fundingInfo: symbols whose funding parameters were adjusted
        st["funding_info"] = optional_json(OPTIONAL["fundingInfo"]) or [
            {"symbol": "BLZUSDT", "adjustedFundingRateCap": "0.03000000", "adjustedFundingRateFloor": "-0.03000000",
             "fundingIntervalHours": 4, "disclaimer": False}]
    return st


# ---- the benchmark's markets (mock config bench_markets; DOCUMENTED-FORMAT) ----
# Every BENCH_SYMBOLS market is in the recorded exchangeInfo; the ones without
# a recorded ticker, premium index, book ticker, open interest or depth get
# these, generated from the symbol.  Recorded answers win.

def _bench_native():
    return {b + "USDT" for b in bench_symbols()}


def _gen(key, s):
    p = bench_price(s)
    tick = Decimal("0.0001")
    if key == "day":
        return {"symbol": s, "priceChange": str(p * Decimal("0.01")), "priceChangePercent": "1.000",
                "weightedAvgPrice": str(p), "lastPrice": str(p), "lastQty": "1.000",
                "openPrice": str(p - p * Decimal("0.01")), "highPrice": str(p + tick * 100),
                "lowPrice": str(p - tick * 100), "volume": "1000.000", "quoteVolume": str(p * 1000),
                "openTime": now_ms() - 86400000 + 1, "closeTime": now_ms(), "firstId": 1, "lastId": 1000,
                "count": 1000}
    if key == "prem":
        return {"symbol": s, "markPrice": str(p), "indexPrice": str(p), "estimatedSettlePrice": str(p),
                "lastFundingRate": "0.%08d" % (bench_hash(s, "funding") % 20000),
                "interestRate": "0.00010000", "nextFundingTime": (now_ms() // 28800000 + 1) * 28800000,
                "time": now_ms()}
    if key == "book":
        return {"symbol": s, "bidPrice": str(p - tick), "bidQty": "1.000", "askPrice": str(p),
                "askQty": "2.000", "time": now_ms(), "lastUpdateId": bench_hash(s, "u") % 10 ** 10}
    if key == "oi":
        return {"symbol": s, "openInterest": "%d.%03d" % (bench_hash(s, "oi") % 1000000, bench_hash(s) % 1000),
                "time": now_ms()}
    # depth: 100 levels a side, one tick apart, sizes from the symbol
    return {"lastUpdateId": bench_hash(s, "u") % 10 ** 10, "E": now_ms(), "T": now_ms(),
            "bids": [[str(p - tick * (i + 1)), "%d.%03d" % (i % 9 + 1, bench_hash(s, "b", i) % 1000)]
                     for i in range(100)],
            "asks": [[str(p + tick * i), "%d.%03d" % (i % 9 + 1, bench_hash(s, "a", i) % 1000)]
                     for i in range(100)]}


def _symbol(st, req):
    s = req.arg("symbol")
    if s is None:
        return None, err(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    if s not in st["symbols"]:
        return None, err(-1121, "Invalid symbol.")
    return s, None


def _int(req, name, default=None):
    v = req.arg(name)
    if v is None or v == "":
        return default
    return int(v)


def register(venue):
    register_fapi(venue, "binance", lambda: _state(venue), now_ms)


def register_fapi(venue, name, state, now_ms, open_interest=True):
    """The routes of a Binance USD-M compatible venue (fapi v1, Binance's
    parameters, paging rules and errors) named name: state() is its payloads
    as _state builds Binance's (exchange_info the exchangeInfo payload's
    path, or a function answering it), read when first asked for; now_ms() its "now"; open_interest
    False: the venue has no /fapi/v1/openInterest."""
    def _answer(key, s):
        """The recorded (or recording-derived) answer for s, else a generated one
        for a benchmark market, else None."""
        v = state()[key].get(s)
        if v is None and s in _bench_native():
            v = _gen(key, s)
        return v

    def exchange_info(req):
        info = state()["exchange_info"]
        return 200, fixture(info) if isinstance(info, str) else info()

    def funding_info(req):
        return 200, state()["funding_info"]

    def per_symbol(key, name):
        def handler(req):
            st = state()
            if req.arg("symbol") is None:
                return 200, list(st[key].values()) + [_gen(key, s) for s in sorted(_bench_native())
                                                      if s not in st[key]]
            s, e = _symbol(state(), req)
            if e:
                return e
            v = _answer(key, s)
            if v is None:
                return err(-1121, "Invalid symbol.")
            return 200, v
        return handler

    def depth(req):
        s, e = _symbol(state(), req)
        if e:
            return e
        limit = _int(req, "limit", 500)
        if limit not in DEPTH_LIMITS:
            return err(-1130, "Data sent for parameter 'limit' is not valid.")
        book = _answer("depth", s)
        if book is None:
            return err(-1121, "Invalid symbol.")
        return 200, dict(book, bids=book["bids"][:limit], asks=book["asks"][:limit])

    def open_interest(req):
        s, e = _symbol(state(), req)
        if e:
            return e
        oi = _answer("oi", s)
        return (200, oi) if oi is not None else err(-1121, "Invalid symbol.")

    def klines(req):
        s, e = _symbol(state(), req)
        if e:
            return e
        iv = INTERVAL_MS.get(req.arg("interval") or "")
        if iv is None:
            return err(-1120, "Invalid interval.")
        limit = _int(req, "limit", 500)
        if not 1 <= limit <= 1500:
            return err(-1130, "Data sent for parameter 'limit' is not valid.")
        start, end = _int(req, "startTime"), _int(req, "endTime")
        last_open = (min(end, now_ms()) if end is not None else now_ms()) // iv * iv
        listed = listing_ms(name, s)
        if start is not None:
            first = -(-max(start, listed or start) // iv) * iv
            opens = list(range(first, last_open + 1, iv))[:limit]
        else:
            opens = [t for t in range(last_open - (limit - 1) * iv, last_open + 1, iv) if t >= (listed or t)]
        recorded = state()["klines"].get((s, req.arg("interval")), {})
        return 200, [recorded.get(t) or _gen_kline(t, iv) for t in opens]

    def funding_rate(req):
        s, e = _symbol(state(), req)
        if e:
            return e
        limit = _int(req, "limit", 100)
        if not 1 <= limit <= 1000:
            return err(-1130, "Data sent for parameter 'limit' is not valid.")
        start, end = _int(req, "startTime"), _int(req, "endTime")
        step = 8 * 3600000
        last = (min(end, now_ms()) if end is not None else now_ms()) // step * step
        if start is not None:
            times = list(range(-(-start // step) * step, last + 1, step))[:limit]
        else:
            times = list(range(last - (limit - 1) * step, last + 1, step))
        paid = state()["funding"]
        return 200, [paid.get((s, t)) or _gen_funding(s, t) for t in times]

    def trades(req):
        s, e = _symbol(state(), req)
        if e:
            return e
        limit = _int(req, "limit", 500)
        if not 1 <= limit <= 1000:
            return err(-1130, "Data sent for parameter 'limit' is not valid.")
        own = state()["trades"]
        if own is not None:
            # the tree's recent trades (BTCUSDT's), the most recent limit of them, ascending
            return 200, own[-limit:] if s == "BTCUSDT" else []
        return 200, [_gen_trade(5000000000 - (limit - 1 - i)) for i in range(limit)]

    venue.route("GET", r"/fapi/v1/exchangeInfo", exchange_info)
    venue.route("GET", r"/fapi/v1/fundingInfo", funding_info)
    venue.route("GET", r"/fapi/v1/ticker/24hr", per_symbol("day", "24hr"))
    venue.route("GET", r"/fapi/v1/premiumIndex", per_symbol("prem", "premiumIndex"))
    venue.route("GET", r"/fapi/v1/ticker/bookTicker", per_symbol("book", "bookTicker"))
    venue.route("GET", r"/fapi/v1/depth", depth)
    if open_interest:
        venue.route("GET", r"/fapi/v1/openInterest", open_interest)
    venue.route("GET", r"/fapi/v1/klines", klines)
    venue.route("GET", r"/fapi/v1/fundingRate", funding_rate)
    def agg_trades(req):
        s, e = _symbol(state(), req)
        if e:
            return e
        limit = _int(req, "limit", 500)
        if not 1 <= limit <= 1000:
            return err(-1130, "Data sent for parameter 'limit' is not valid.")
        start, end, from_id = _int(req, "startTime"), _int(req, "endTime"), _int(req, "fromId")
        if start is not None and end is not None and end - start >= 3600000:
            return err(-1127, "More than 1 hours between startTime and endTime.")
        tp = tape(name, s)
        if tp is not None:
            return 200, _tape_agg_trades(tp, from_id, start, end, limit)
        t0 = listing_ms(name, s)
        t0 = AGG_START_MS if t0 is None else t0
        newest = (now_ms() - t0) // AGG_GAP_MS + 1 if now_ms() >= t0 else 0
        lo, hi = 1, newest
        if from_id is not None:
            lo = max(lo, from_id)
        if start is not None:
            lo = max(lo, -(-(start - t0) // AGG_GAP_MS) + 1)
        if end is not None:
            hi = min(hi, (end - t0) // AGG_GAP_MS + 1 if end >= t0 else 0)
        if from_id is None and start is None:
            lo = max(lo, hi - limit + 1)        # the most recent (before endTime)
        ids = range(lo, min(hi, lo + limit - 1) + 1)
        return 200, "[%s]" % ",".join(_gen_agg_trade(a, t0) for a in ids)

    venue.route("GET", r"/fapi/v1/trades", trades)
    venue.route("GET", r"/fapi/v1/aggTrades", agg_trades)


def _tape_agg_trades(tp, from_id, start, end, limit):
    """aggTrades from a registered tape: the trades k with lo <= k < hi that exist by now,
    ascending, at most limit; the most recent ones when neither fromId nor startTime is given."""
    lo, hi = tp.range_of_times(start, end)
    hi = min(hi, tp.generated())
    if from_id is not None:
        lo = max(lo, tp.index_of_id(from_id))
    if from_id is None and start is None:
        lo = max(lo, hi - limit)
    hi = min(hi, lo + limit)
    return "[%s]" % ",".join(tp.binance_rest_json(k) for k in range(lo, hi))


# ---- generated history (DOCUMENTED-FORMAT, deterministic values) ----

def _gen_kline(t, iv):
    """[openTime, open, high, low, close, volume, closeTime, quoteVolume, trades,
    takerBuyBase, takerBuyQuote, ignore]: open = 60000 + (t/iv mod 1000), high +5, low -5,
    close +1.5, volume = 1.000 + (t/iv mod 7), quote volume = volume * 60000 (text), trades = t/iv mod 50 + 1."""
    k = t // iv
    o = 60000 + k % 1000
    v = 1 + k % 7
    return [t, "%d.00" % o, "%d.00" % (o + 5), "%d.00" % (o - 5), "%d.50" % (o + 1), "%d.000" % v,
            t + iv - 1, "%d.00" % (v * 60000), k % 50 + 1, "0.500", "30000.00", "0"]


def _gen_funding(symbol, t):
    """rate = 0.0001 + (t/8h mod 5) * 0.00001, as text with 8 decimals."""
    k = t // (8 * 3600000)
    return {"symbol": symbol, "fundingRate": "0.%08d" % (10000 + (k % 5) * 1000),
            "fundingTime": t, "markPrice": "%d.12345678" % (60000 + k % 100)}


def _gen_trade(tid):
    """price = 70000 + (id mod 100) / 10, qty = (id mod 997 + 1) / 1000, time = now_ms() - (5e9 - id) * 137,
    the buyer is the maker when id is divisible by 3."""
    return {"id": tid, "price": "%d.%d0" % (70000 + (tid % 100) // 10, tid % 10),
            "qty": "%d.%03d" % ((tid % 997 + 1) // 1000, (tid % 997 + 1) % 1000),
            "quoteQty": "0", "time": now_ms() - (5000000000 - tid) * 137, "isBuyerMaker": tid % 3 == 0}


def _gen_agg_trade(a, t0):
    """Aggregate trade a of a history starting at t0: time t0 + (a - 1) * 1.5 s, price 60000 + (a mod
    2000) / 10 with 2 decimals, qty (a mod 997 + 1) / 1000 with 3 decimals, the buyer is the maker
    (a sell) when a is divisible by 3, first and last trade ids 2a and 2a + 1."""
    return ('{"a":%d,"p":"%d.%02d","q":"%d.%03d","f":%d,"l":%d,"T":%d,"m":%s}'
            % (a, 60000 + (a % 2000) // 10, (a % 10) * 10, (a % 997 + 1) // 1000, (a % 997 + 1) % 1000,
               2 * a, 2 * a + 1, t0 + (a - 1) * AGG_GAP_MS, "true" if a % 3 == 0 else "false"))
