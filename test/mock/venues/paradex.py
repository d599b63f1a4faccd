"""Paradex routes of the mock exchange (rest_url .../paradex).

The payload tree (test/payloads, the project's own, or the recorded
../shared/fixtures; see mock_exchange.FIXTURES) gives, under paradex/:
fetchMarkets (/v1/markets), fetchTicker (/v1/markets/summary for the market
it names), fetchTickers (market=ALL, and market=X for any other market it
lists), fetchOrderBook (/v1/orderbook for the market it names), fetchOHLCV
(the 1-minute candles of BTC-USD-PERP it holds) and fetchTrades (the newest
trade of BTC-USD-PERP, with its "next" cursor).  The recorded tree has only
BTC-USD-PERP and one candle; test/payloads has BTC, ETH and SOL perpetuals
and a perpetual option (which the summary of ALL lists too).
DOCUMENTED-FORMAT data written here (marked "documented format" below):
ETH-USD-PERP and SOL-USD-PERP where the payloads do not list them, funding
data (nothing recorded), klines outside the payload's, and the older pages of
trades, generated deterministically: cursor-paged newest first, page_size
1..5000 (default 100) for funding data, 1..1000 for trades (the trade tape's
documented maximum).

Trades: trade number seq = 1 .. 99999 at BASE + seq * 250 ms, BASE = the
payload trade's created_at - 100000 * 250 (so the payload trade, the newest,
follows 99999; recorded: 1718352985388), id = 13-digit time + 15-digit
seq, side BUY unless seq is divisible by 3, size (1 + seq mod 50) / 1000,
price P + (seq mod 40) / 10 with P the payload trade's price rounded down to
a multiple of 1000 (recorded: 67000.0; test/payloads: 97000.0).  start_at /
end_at (ms, inclusive) bound
every page of a walk; history starts at the symbol's listing time when
/_mock/config sets one (listing_ms), else at seq 1.

Klines: the payload's candles where their open times are asked for (the
file as it is when exactly they are), else [t, o, o + 5, o - 5, o + 1,
100 + i mod 11] with i = t / (resolution in ms) and o = K + (i mod 71) / 10,
K the payload's first open rounded down to a multiple of 1000 (recorded:
60000; test/payloads: 97000).

While a trade tape is registered for the market (POST /_mock/tape {"venue":
"paradex", "symbol": "BTC-USD-PERP", ...}, see test/mock/tape.py) /v1/trades
serves it instead: the tape's trades that exist by now (time <= now) with
start_at <= created_at <= end_at (ms, inclusive, either optional), newest
first, page_size of them (1..1000, default 100); "next" is a cursor (base64
of {"marker":{"marker": the page's last (oldest) id,"direction":0}}, the
shape of the venue's) when older trades of the range remain, else null; a
request with it gives the trades older than that id, in the same range.  id,
price, size, side and created_at are those of the WebSocket mock's SBE
trade frames of the tape (tradeId, price, size, side; createdAt / 1000).

Errors answer {"error": "NOT_FOUND" | "VALIDATION_ERROR", "message": ...}
with HTTP 404 / 400, Paradex's shape.
"""

import base64
import copy
import json
from decimal import Decimal

from mock_exchange import bench_price, bench_symbols, fixture, fixture_json, listing_ms, tape

FX = "paradex/"
PAGE_MAX = 5000
PAGE_DEFAULT = 100
TRADES_PAGE_MAX = 1000
RESOLUTIONS = (1, 3, 5, 15, 30, 60)
FUNDING_STEP_MS = 3600 * 1000
NOW_MS = 1718378007937


def _thousands(x):
    """A price rounded down to a multiple of 1000, as a Decimal."""
    return Decimal(int(Decimal(str(x)) // 1000) * 1000)


def _trade_base():
    """(BASE ms, price P) of the generated trades: see the module docstring."""
    t = fixture_json(FX + "fetchTrades.json")["results"][0]
    return t["created_at"] - 100000 * 250, _thousands(t["price"])


def _candles():
    """The payload's candles, numbers kept as their text (Decimal)."""
    return json.loads(fixture(FX + "fetchOHLCV.json"), parse_float=Decimal)["results"]


def _bad(msg, status=400, err="VALIDATION_ERROR"):
    return status, {"error": err, "message": msg}


def _markets():
    rec = fixture_json(FX + "fetchMarkets.json")["results"]
    out = list(rec)
    # documented format: ETH and SOL perpetuals shaped like the payload's first market,
    # where the payload does not list them
    listed = {m["symbol"] for m in rec}
    for base, tick, inc in (("ETH", "0.01", "0.01"), ("SOL", "0.001", "0.1")):
        if base + "-USD-PERP" in listed:
            continue
        m = copy.deepcopy(rec[0])
        m.update({"symbol": base + "-USD-PERP", "base_currency": base, "price_tick_size": tick,
                  "order_size_increment": inc, "min_notional": "100"})
        out.append(m)
    # documented format: the benchmark's markets (mock config bench_markets)
    have = {m["symbol"] for m in out}
    for base in bench_symbols():
        if base + "-USD-PERP" not in have:
            m = copy.deepcopy(rec[0])
            m.update({"symbol": base + "-USD-PERP", "base_currency": base, "price_tick_size": "0.0001",
                      "order_size_increment": "0.1", "min_notional": "100"})
            out.append(m)
    return out


def _known(sym):
    return any(m["symbol"] == sym for m in _markets())


def markets(req):
    return 200, {"results": _markets()}


def _listed_summaries():
    """The rows of fetchTickers (the summary of ALL), by symbol."""
    return {r["symbol"]: r for r in fixture_json(FX + "fetchTickers.json")["results"]}


def _ticker_symbol():
    return fixture_json(FX + "fetchTicker.json")["results"][0]["symbol"]


def _summary(sym):
    if sym == _ticker_symbol():
        return fixture_json(FX + "fetchTicker.json")["results"][0]
    row = _listed_summaries().get(sym)
    if row is not None:
        return row
    # documented format
    base = {"ETH-USD-PERP": "3500.5", "SOL-USD-PERP": "150.25"}.get(sym) or str(bench_price(sym))
    return {"symbol": sym, "oracle_price": base, "mark_price": base, "last_traded_price": base,
            "bid": base, "ask": str(Decimal(base) + Decimal("0.5")), "volume_24h": "1000000.5",
            "total_volume": "5000000.5", "created_at": NOW_MS, "underlying_price": base,
            "open_interest": "42.5", "funding_rate": "0.0001", "price_change_rate_24h": "0.0125"}


def summary(req):
    sym = req.arg("market")
    if sym is None:
        return _bad("market is required")
    if sym == "ALL":
        rows = fixture_json(FX + "fetchTickers.json")["results"]
        have = {r["symbol"] for r in rows}
        rows += [_summary(m["symbol"]) for m in _markets() if m["symbol"] not in have]
        return 200, {"results": rows}
    if not _known(sym):
        return _bad("market %s not found" % sym, 404, "NOT_FOUND")
    if sym == _ticker_symbol():
        return 200, fixture(FX + "fetchTicker.json")
    return 200, {"results": [_summary(sym)]}


def orderbook(req):
    sym = req.match.group(1)
    if not _known(sym):
        return _bad("market %s not found" % sym, 404, "NOT_FOUND")
    try:
        depth = int(req.arg("depth", "20"))
    except ValueError:
        return _bad("depth must be an integer")
    book = fixture_json(FX + "fetchOrderBook.json")
    if book.get("market") != sym:
        summ = _summary(sym)
        px = Decimal(summ["mark_price"])
        book = {"market": sym, "seq_no": 1, "last_updated_at": summ["created_at"],
                "asks": [[str(px + i), "1.5"] for i in range(1, 4)],
                "bids": [[str(px - i), "2.5"] for i in range(1, 4)]}
    return 200, dict(book, asks=book["asks"][:depth], bids=book["bids"][:depth])


def kline_row(t, res, base):
    i = t // (res * 60000)
    o = base + Decimal(i % 71) / 10
    return "[%d,%s,%s,%s,%s,%d]" % (t, o, o + 5, o - 5, o + 1, 100 + i % 11)


def klines(req):
    sym = req.arg("symbol", "")
    if not _known(sym):
        return _bad("market %s not found" % sym, 404, "NOT_FOUND")
    try:
        res = int(req.arg("resolution", ""))
        start, end = int(req.arg("start_at")), int(req.arg("end_at"))
    except (TypeError, ValueError):
        return _bad("resolution, start_at and end_at are required")
    if res not in RESOLUTIONS:
        return _bad("resolution must be one of 1, 3, 5, 15, 30, 60")
    rec = _candles()
    base = _thousands(rec[0][1])
    own = {int(r[0]): r for r in rec} if sym == "BTC-USD-PERP" and res == 1 else {}
    step = res * 60000
    first = (start + step - 1) // step * step
    times = list(range(first, end + 1, step))
    if own and times == sorted(own):
        return 200, fixture(FX + "fetchOHLCV.json")
    return 200, '{"results":[%s]}' % ",".join(
        "[%s]" % ",".join(str(v) for v in own[t]) if t in own else kline_row(t, res, base)
        for t in times)


def _page_size(req, most=PAGE_MAX):
    try:
        n = int(req.arg("page_size", str(PAGE_DEFAULT)))
    except ValueError:
        return None
    return n if 1 <= n <= most else None


def _cursor(obj):
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def _uncursor(text):
    try:
        return json.loads(base64.b64decode(text))
    except (ValueError, TypeError):
        return None


def funding_rate_at(t):
    return Decimal((t // FUNDING_STEP_MS) % 9 - 4) * Decimal("0.00001")


def funding_data(req):
    # documented format: hourly points, newest first, cursor-paged
    sym = req.arg("market", "")
    if not _known(sym):
        return _bad("market %s not found" % sym, 404, "NOT_FOUND")
    n = _page_size(req)
    if n is None:
        return _bad("page_size must be between 1 and 5000")
    start = int(req.arg("start_at", "0"))
    end = int(req.arg("end_at", str(NOW_MS)))
    if req.arg("cursor"):
        c = _uncursor(req.arg("cursor"))
        if not c or "before" not in c:
            return _bad("invalid cursor")
        end = min(end, c["before"] - 1)
    last = end // FUNDING_STEP_MS * FUNDING_STEP_MS
    times = []
    t = last
    while t >= start and len(times) < n + 1:
        times.append(t)
        t -= FUNDING_STEP_MS
    more = len(times) > n
    times = times[:n]
    rows = ",".join('{"market":"%s","funding_index":"0","funding_premium":"0","funding_rate":"%s",'
                    '"created_at":%d}' % (sym, funding_rate_at(t), t) for t in times)
    nxt = '"%s"' % _cursor({"before": times[-1]}) if more else "null"
    return 200, '{"next":%s,"prev":null,"results":[%s]}' % (nxt, rows)


def _trade(sym, seq, base_ms, px):
    """Trade number seq (older = smaller): a 28-digit id like the venue's."""
    t = base_ms + seq * 250
    tid = "%013d%015d" % (t, seq)
    return ('{"id":"%s","market":"%s","side":"%s","size":"0.%03d","price":"%s","created_at":%d,'
            '"trade_type":"FILL"}' % (tid, sym, "BUY" if seq % 3 else "SELL", 1 + seq % 50,
                                      px + Decimal("0.0") + Decimal(seq % 40) / 10, t))


def trades(req):
    # the recorded trade (BTC) is the newest; older pages are documented-format trades 99999, 99998, ...
    sym = req.arg("market", "")
    if not _known(sym):
        return _bad("market %s not found" % sym, 404, "NOT_FOUND")
    n = _page_size(req, TRADES_PAGE_MAX)
    if n is None:
        return _bad("page_size must be between 1 and %d" % TRADES_PAGE_MAX)
    try:
        start = int(req.arg("start_at")) if req.arg("start_at") else None
        end = int(req.arg("end_at")) if req.arg("end_at") else None
    except ValueError:
        return _bad("start_at and end_at must be unix times in milliseconds")
    tp = tape("paradex", sym)
    if tp is not None:
        return _tape_trades(tp, n, start, end, req.arg("cursor"))
    rec = fixture_json(FX + "fetchTrades.json")
    rec_id = rec["results"][0]["id"]
    rec_t = rec["results"][0]["created_at"]
    base_ms, px = _trade_base()
    # the trades [bottom, top] the range and the listing allow
    listed = listing_ms("paradex", sym)
    bottom, top = 1, 99999
    for lo in (start, listed):
        if lo is not None:
            bottom = max(bottom, -(-(lo - base_ms) // 250))
    if end is not None:
        top = min(top, (end - base_ms) // 250)
    cur = req.arg("cursor")
    head = []
    if not cur:
        if sym == "BTC-USD-PERP" and (end is None or end >= rec_t) and (start is None or start <= rec_t):
            if n == 1 and start is None and end is None:
                return 200, fixture(FX + "fetchTrades.json")
            head = [json.dumps(rec["results"][0])]
    else:
        c = _uncursor(cur)
        marker = c.get("marker") if isinstance(c, dict) else None
        marker = marker.get("marker") if isinstance(marker, dict) else None
        if not isinstance(marker, str) or len(marker) != 28 or not marker.isdigit():
            return _bad("invalid cursor")
        if marker != rec_id:
            top = min(top, int(marker[13:]) - 1)
    seqs = list(range(top, max(top - (n - len(head)), bottom - 1), -1))
    rows = head + [_trade(sym, q, base_ms, px) for q in seqs]
    nxt = "null"
    if seqs and seqs[-1] > bottom:
        last_id = "%013d%015d" % (base_ms + seqs[-1] * 250, seqs[-1])
        nxt = '"%s"' % _cursor({"marker": {"marker": last_id, "direction": 0}})
    elif head and not seqs and top >= bottom:
        nxt = '"%s"' % _cursor({"marker": {"marker": rec_id, "direction": 0}})
    return 200, '{"next":%s,"prev":null,"results":[%s]}' % (nxt, ",".join(rows))


def _tape_trades(tp, n, start, end, cur):
    """/v1/trades from a registered tape: see the module docstring."""
    lo, hi = tp.range_of_times(start, end)
    hi = min(hi, tp.generated())
    if cur:
        c = _uncursor(cur)
        marker = c.get("marker") if isinstance(c, dict) else None
        marker = marker.get("marker") if isinstance(marker, dict) else None
        k = tp.paradex_index_of_id(marker)
        if k is None:
            return _bad("invalid cursor")
        hi = min(hi, k)
    ks = range(hi - 1, max(lo, hi - n) - 1, -1)
    nxt = "null"
    if ks and ks[-1] > lo:
        nxt = '"%s"' % _cursor({"marker": {"marker": tp.trade_id(ks[-1]), "direction": 0}})
    return 200, '{"next":%s,"prev":null,"results":[%s]}' % (nxt, ",".join(tp.paradex_rest_json(k) for k in ks))


def register(venue):
    venue.route("GET", r"/v1/markets", markets)
    venue.route("GET", r"/v1/markets/summary", summary)
    venue.route("GET", r"/v1/orderbook/([A-Za-z0-9-]+)", orderbook)
    venue.route("GET", r"/v1/markets/klines", klines)
    venue.route("GET", r"/v1/funding/data", funding_data)
    venue.route("GET", r"/v1/trades", trades)
