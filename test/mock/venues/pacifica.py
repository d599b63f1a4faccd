"""Pacifica routes of the mock exchange: GET /api/v1/... (docs.pacifica.fi,
API Documentation, REST API / Markets).

Every answer is Pacifica's envelope {"success": true, "data": ..., "error":
null, "code": null}; an error is HTTP 400 with {"success": false, "data":
null, "error": "<text>", "code": 400}.  Payloads (test/payloads/pacifica,
the project's own, written from the documentation):

    /api/v1/info                    fetchMarkets.info.json (a spot market and an entry
                                    without instrument_type among them)
    /api/v1/info/prices             fetchTickers.prices.json
    /api/v1/book?symbol             fetchOrderBook.book.json for its symbol (BTC)
    /api/v1/trades?symbol           fetchTrades.json for BTC
    /api/v1/kline?symbol&interval&start_time[&end_time]
                                    fetchOHLCV.kline.json's BTC 1m bars replace generated ones
    /api/v1/funding_rate/history?symbol[&limit][&cursor]
                                    fetchFundingRateHistory.json's BTC rows replace
                                    generated ones of the same hour

The mock's "now" is the close of the last bar of fetchOHLCV.kline.json:
1796116500000 ms = 2026-12-01 09:15:00 UTC.  Its history starts at
2024-01-01 00:00 UTC.

DOCUMENTED-FORMAT, generated deterministically:
  * klines of any symbol and interval, bar i = open_ms // interval_ms:
    open = BASE + i mod 53, high = open + 7, low = open - 6, close = open + 2,
    v = (i mod 5).(i mod 1000, 3 digits), n = i mod 40 + 1; BASE is 97000 for
    BTC, 3500 for ETH, 180 for SOL, 40 for the others (T = t + interval).
  * funding history of any symbol: one row on every hour H (ms) from the
    start of history to now, funding_rate = (H/3600000 mod 41 - 20) x 1e-7,
    next_funding_rate the next hour's, newest first, `limit` rows a page
    (default 100, at most 4000: more is a 400), next_cursor an opaque token,
    has_more.
  * other symbols' books (10 levels a side) and recent trades (20).
Quirks as documented: /kline needs start_time; a window of more than 4000
bars is a 400 (third-party SDKs say so; the docs cap the mark-price
candles' limit at 4000); an unknown symbol is a 400.

While a trade tape is registered for the symbol (POST /_mock/tape {"venue":
"pacifica", "symbol": "BTC", ...}, see test/mock/tape.py) /api/v1/trades
serves it instead: the newest 100 of the tape's trades that exist by now
(time <= now), newest first, each as the WebSocket mock's trade frames have
it (price, amount, side by k % 4, created_at its time), event_type
fulfill_taker.

With bench_markets on, the BENCH_SYMBOLS the payloads lack are listed by
/info and /info/prices (DOCUMENTED-FORMAT, prices from bench_price).
"""

from decimal import Decimal

from mock_exchange import bench_hash, bench_price, bench_symbols, fixture_json, tape

F = "pacifica/"
NOW = 1796116500000
START = 1704067200000            # 2024-01-01 00:00 UTC
HOUR = 3600000
INTERVAL_MS = {"1m": 60000, "3m": 180000, "5m": 300000, "15m": 900000, "30m": 1800000,
               "1h": 3600000, "2h": 7200000, "4h": 14400000, "8h": 28800000, "12h": 43200000,
               "1d": 86400000}
MAX_BARS = 4000
MAX_FUNDING = 4000
BASE = {"BTC": 97000, "ETH": 3500, "SOL": 180}


def ok(data, **extra):
    body = {"success": True, "data": data, "error": None, "code": None}
    body.update(extra)
    return 200, body


def bad(msg):
    return 400, {"success": False, "data": None, "error": msg, "code": 400}


def info():
    data = fixture_json(F + "fetchMarkets.info.json")["data"]
    have = {m["symbol"] for m in data}
    btc = next(m for m in data if m["symbol"] == "BTC")
    data += [dict(btc, symbol=s, base_asset=s, tick_size="0.0001", lot_size="0.01")
             for s in bench_symbols() if s not in have]
    return data


def perp_symbols():
    return {m["symbol"] for m in info() if m.get("instrument_type", "perpetual") == "perpetual"}


def prices():
    data = fixture_json(F + "fetchTickers.prices.json")["data"]
    have = {p["symbol"] for p in data}
    for s in bench_symbols():
        if s in have:
            continue
        p = bench_price(s)
        data.append({"funding": "0.0000125", "mark": str(p), "mid": str(p), "next_funding": "0.0000125",
                     "open_interest": "%d.5" % (bench_hash(s, "oi") % 100000), "oracle": str(p),
                     "symbol": s, "timestamp": NOW - 1269, "volume_24h": str(p * 1000),
                     "yesterday_price": str(p * Decimal("0.99"))})
    return data


def symbol_of(req):
    sym = req.arg("symbol")
    if sym is None:
        return None, bad("missing field `symbol`")
    if sym not in perp_symbols():
        return None, bad("Symbol %s not found" % sym)
    return sym, None


def price_of(sym):
    return BASE.get(sym, 40)


def book(req):
    sym, err = symbol_of(req)
    if err:
        return err
    rec = fixture_json(F + "fetchOrderBook.book.json")["data"]
    if rec["s"] == sym:
        return ok(rec)
    p = price_of(sym)
    lv = lambda side, i, px: {"p": str(px), "a": "%d.%04d" % (bench_hash(sym, side, i) % 9, bench_hash(sym, side, i) % 10000 + 1),
                              "n": bench_hash(sym, side, i) % 5 + 1}
    return ok({"s": sym, "l": [[lv("b", i, p - 1 - i) for i in range(10)], [lv("a", i, p + i) for i in range(10)]],
               "t": NOW - 988})


TAPE_SIDES = ("open_long", "open_short", "close_short", "close_long")
TAPE_PAGE = 100


def trades(req):
    sym, err = symbol_of(req)
    if err:
        return err
    tp = tape("pacifica", sym)
    if tp is not None:
        hi = tp.generated()
        return ok([{"event_type": "fulfill_taker", "price": tp.price(k), "amount": tp.qty(k), "side": TAPE_SIDES[k % 4],
                    "cause": "normal", "created_at": tp.time_ms(k)} for k in range(hi - 1, max(0, hi - TAPE_PAGE) - 1, -1)],
                  last_order_id=1600000000 + hi)
    if sym == "BTC":
        rec = fixture_json(F + "fetchTrades.json")
        return ok(rec["data"], last_order_id=rec["last_order_id"])
    p = price_of(sym)
    out = []
    for i in range(20):
        hh = bench_hash(sym, "trade", i)
        out.append({"event_type": "fulfill_taker", "price": str(p + hh % 3), "amount": "0.%03d" % (hh % 999 + 1),
                    "side": ("open_long", "open_short", "close_long", "close_short")[hh % 4], "cause": "normal",
                    "created_at": NOW - 1000 - i * 700})
    return ok(out, last_order_id=1559885104)


def bar(sym, iv, t):
    step = INTERVAL_MS[iv]
    i = t // step
    o = price_of(sym) + i % 53
    return {"t": t, "T": t + step, "s": sym, "i": iv, "o": str(o), "c": str(o + 2), "h": str(o + 7),
            "l": str(o - 6), "v": "%d.%03d" % (i % 5, i % 1000), "n": i % 40 + 1}


def kline(req):
    sym, err = symbol_of(req)
    if err:
        return err
    iv = req.arg("interval")
    if iv not in INTERVAL_MS:
        return bad("invalid interval")
    try:
        st = int(req.arg("start_time"))
        en = int(req.arg("end_time", NOW))
    except (TypeError, ValueError):
        return bad("missing or invalid start_time")
    step = INTERVAL_MS[iv]
    first = -(-st // step) * step
    if en >= first and (en - first) // step + 1 > MAX_BARS:
        return bad("time range too large: at most %d candles" % MAX_BARS)
    rec = {}
    if sym == "BTC" and iv == "1m":
        rec = {c["t"]: c for c in fixture_json(F + "fetchOHLCV.kline.json")["data"]}
    out = []
    t = max(first, -(-START // step) * step)
    while t <= en and t + step <= NOW:
        out.append(rec.get(t) or bar(sym, iv, t))
        t += step
    return ok(out)


def fund_row(h):
    """The generated funding row of hour index h (h x HOUR ms)."""
    rate = lambda k: format(Decimal(k % 41 - 20).scaleb(-7), "f")
    return {"oracle_price": "97000", "bid_impact_price": "96999", "ask_impact_price": "97001",
            "funding_rate": rate(h), "next_funding_rate": rate(h + 1), "created_at": h * HOUR}


def cursor_of(h):
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        s = digits[h % 62] + s
        h //= 62
        if h == 0:
            return "11" + s


def hour_of(cursor):
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    if not cursor.startswith("11") or len(cursor) < 3:
        raise ValueError(cursor)
    h = 0
    for ch in cursor[2:]:
        h = h * 62 + digits.index(ch)
    return h


def funding_history(req):
    sym, err = symbol_of(req)
    if err:
        return err
    try:
        limit = int(req.arg("limit", 100))
        top = hour_of(req.arg("cursor")) if req.arg("cursor") else (NOW - 1) // HOUR
    except ValueError:
        return bad("invalid limit or cursor")
    if limit < 1 or limit > MAX_FUNDING:
        return bad("limit must be between 1 and %d" % MAX_FUNDING)
    rec = {}
    if sym == "BTC":
        rec = {r["created_at"] // HOUR: r for r in fixture_json(F + "fetchFundingRateHistory.json")["data"]}
    low = START // HOUR
    hours = list(range(top, max(low, top - limit + 1) - 1, -1)) if top >= low else []
    out = [rec.get(h) or fund_row(h) for h in hours]
    more = bool(hours) and hours[-1] > low
    return ok(out, next_cursor=cursor_of(hours[-1] - 1) if more else None, has_more=more)


def register(venue):
    venue.route("GET", r"/api/v1/info", lambda req: ok(info()))
    venue.route("GET", r"/api/v1/info/prices", lambda req: ok(prices()))
    venue.route("GET", r"/api/v1/book", book)
    venue.route("GET", r"/api/v1/trades", trades)
    venue.route("GET", r"/api/v1/kline", kline)
    venue.route("GET", r"/api/v1/funding_rate/history", funding_history)
