"""Lighter routes of the mock exchange (rest_url .../lighter).

Served from the payload tree (test/payloads/lighter, or the recorded
../shared/fixtures/lighter): orderBookDetails (fetchMarkets.json), orderBooks
(fetchMarkets.orderBooks.json), ETH's order-level book (market 0,
fetchOrderBook.json), the funding-rates list (fetchFundingRates.json) and
one 1m candlestick of ETH (fetchOHLCV.json).  Where a tree lacks them (the
recorded one does), the module adds DOCUMENTED-FORMAT data written here
(marked "documented format" below): markets BTC (1) and SOL (2) shaped like
the tree's first market, CRV (36, the market of the WebSocket payloads, from
the orderBooks list), BTC's order-level book with several orders at one
price (so that merging orders into levels is tested; a tree may give its
own as fetchOrderBook.btc.json), and the funding-rates rows of BTC and SOL.
Always generated: recentTrades (no recording exists), hourly fundings and
candlesticks outside the tree's one, deterministically from the request's
range with the venue's limits (candlesticks: 500 per call, fundings: 750,
recentTrades: 100, orderBookOrders: 250 per side), the newest count_back of
the range, oldest first; recentTrades end at the tree's candle's time.

Errors answer HTTP 400 {"code": 21100, "message": ...}, Lighter's shape.
"""

import copy
import json
from decimal import Decimal

from mock_exchange import bench_hash, bench_price, bench_symbols, fixture, fixture_json

FX = "lighter/"
KLINE_PAGE = 500
FUNDING_PAGE = 750
TRADES_PAGE = 100
BOOK_PAGE = 250
RESOLUTIONS = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "12h": 43200,
               "1d": 86400, "1w": 604800}


def _bad(msg="market not found", code=21100):
    return 400, {"code": code, "message": msg}


def _crv(eth):
    """Documented format: CRV (36) shaped like eth, from the orderBooks list."""
    crv = next(b for b in fixture_json(FX + "fetchMarkets.orderBooks.json")["order_books"] if b["market_id"] == 36)
    d = copy.deepcopy(eth)
    d.update({"symbol": crv["symbol"], "market_id": 36, "size_decimals": crv["supported_size_decimals"],
              "price_decimals": crv["supported_price_decimals"],
              "supported_size_decimals": crv["supported_size_decimals"],
              "supported_price_decimals": crv["supported_price_decimals"],
              "min_base_amount": crv["min_base_amount"], "min_quote_amount": crv["min_quote_amount"],
              "last_trade_price": 0.20382, "open_interest": 1234567.8, "daily_base_token_volume": 2500000.5,
              "daily_quote_token_volume": 510000.25, "daily_price_change": 2.5,
              "daily_price_high": 0.21, "daily_price_low": 0.198})
    return d


def _details():
    rec = fixture_json(FX + "fetchMarkets.json")["order_book_details"]
    out = list(rec)
    eth = rec[0]
    have = {d["symbol"] for d in out}
    # documented format, where the tree has none: BTC and SOL, shaped like its first market (ETH)
    for sym, mid, sd, pd, last in (("BTC", 1, 5, 1, 104000.5), ("SOL", 2, 3, 3, 160.125)):
        if sym in have:
            continue
        d = copy.deepcopy(eth)
        d.update({"symbol": sym, "market_id": mid, "size_decimals": sd, "price_decimals": pd,
                  "supported_size_decimals": sd, "supported_price_decimals": pd,
                  "last_trade_price": last, "min_base_amount": "0.00020" if mid == 1 else "0.050",
                  "open_interest": 1234.5, "daily_base_token_volume": 100.25,
                  "daily_quote_token_volume": 10400000.5, "daily_price_change": -1.25,
                  "daily_price_high": last + 100, "daily_price_low": last - 100})
        out.append(d)
    # CRV (36), the market of the WebSocket payloads (websocket/lighter/*crv*), where
    # the tree has none: symbol, id, decimals and minimum from the orderBooks list, last
    # price from the recorded trade; the daily figures are documented format
    if "CRV" not in have:
        out.append(_crv(eth))
    # DOCUMENTED-FORMAT: the benchmark's markets (mock config bench_markets),
    # market ids 100.. in BENCH_SYMBOLS order, last price from the symbol
    have = {d["symbol"] for d in out}
    for i, sym in enumerate(bench_symbols()):
        if sym in have:
            continue
        last = float(bench_price(sym).quantize(Decimal("0.01")))
        d = copy.deepcopy(eth)
        d.update({"symbol": sym, "market_id": 100 + i, "size_decimals": 2, "price_decimals": 2,
                  "supported_size_decimals": 2, "supported_price_decimals": 2,
                  "last_trade_price": last, "min_base_amount": "0.01",
                  "open_interest": float(bench_hash(sym, "oi") % 100000), "daily_base_token_volume": 100.25,
                  "daily_quote_token_volume": 10400000.5, "daily_price_change": 1.25,
                  "daily_price_high": last + 1, "daily_price_low": max(last - 1, 0.01)})
        out.append(d)
    return out


def _market(req):
    try:
        mid = int(req.arg("market_id", ""))
    except ValueError:
        return None
    for d in _details():
        if d["market_id"] == mid:
            return d
    return None


def order_book_details(req):
    if req.arg("market_id") is None:
        return 200, {"code": 200, "order_book_details": _details(), "spot_order_book_details": []}
    d = _market(req)
    if d is None:
        return _bad()
    return 200, {"code": 200, "order_book_details": [d], "spot_order_book_details": []}


def order_books(req):
    return 200, fixture_json(FX + "fetchMarkets.orderBooks.json")


def _order(idx, price, size):
    return {"order_index": idx, "order_id": str(idx), "owner_account_index": 1000 + idx % 7,
            "initial_base_amount": size, "remaining_base_amount": size, "price": price,
            "order_expiry": 1765419046807}


def _optional_json(rel):
    """A payload of the tree, or None where the tree has no such file."""
    try:
        return fixture_json(rel)
    except FileNotFoundError:
        return None


# documented format, where the tree has no fetchOrderBook.btc.json: BTC's book,
# orders best first; equal prices to merge:
#   bids 104000.4: 0.10000 + 0.25000 + 0.00500 = 0.35500 ; 104000.0: 1.00000 ; 103999.5: 0.00020 + 0.30000 = 0.30020
#   asks 104000.6: 0.05000 + 0.45000 = 0.50000 ; 104001.0: 2.00000 ; an emptied order (0.00000) at 104001.5 is no level
BTC_BOOK = {
    "bids": [("104000.4", "0.10000"), ("104000.4", "0.25000"), ("104000.4", "0.00500"),
             ("104000.0", "1.00000"), ("103999.5", "0.00020"), ("103999.5", "0.30000")],
    "asks": [("104000.6", "0.05000"), ("104000.6", "0.45000"), ("104001.0", "2.00000"),
             ("104001.5", "0.00000")],
}


def order_book_orders(req):
    d = _market(req)
    if d is None:
        return _bad()
    try:
        limit = int(req.arg("limit", ""))
    except ValueError:
        return _bad("limit is required", 20001)
    if not 1 <= limit <= BOOK_PAGE:
        return _bad("limit must be between 1 and 250", 20001)
    if d["market_id"] == 0:
        body = fixture_json(FX + "fetchOrderBook.json")
    elif d["market_id"] == 1 and _optional_json(FX + "fetchOrderBook.btc.json") is not None:
        body = fixture_json(FX + "fetchOrderBook.btc.json")
    elif d["market_id"] == 1:
        bids = [_order(562949953421312 + i, p, s) for i, (p, s) in enumerate(BTC_BOOK["bids"])]
        asks = [_order(281474976710656 + i, p, s) for i, (p, s) in enumerate(BTC_BOOK["asks"])]
        body = {"code": 200, "total_asks": len(asks), "asks": asks, "total_bids": len(bids), "bids": bids}
    else:
        last = Decimal(str(d["last_trade_price"]))
        bids = [_order(900 + i, str(last - Decimal("0.01") * (i + 1)), "1.000") for i in range(3)]
        asks = [_order(950 + i, str(last + Decimal("0.01") * i), "2.000") for i in range(3)]
        body = {"code": 200, "total_asks": 3, "asks": asks, "total_bids": 3, "bids": bids}
    body = dict(body, asks=body["asks"][:limit], bids=body["bids"][:limit])
    return 200, body


def funding_rates(req):
    body = fixture_json(FX + "fetchFundingRates.json")
    rows = list(body["funding_rates"])
    # documented format, where the tree has none: BTC's and SOL's rows (Lighter's and another venue's)
    have = {r["market_id"] for r in rows if r.get("exchange") == "lighter"}
    if 1 not in have:
        rows.append({"market_id": 1, "exchange": "lighter", "symbol": "BTC", "rate": 0.0001})
        rows.append({"market_id": 1, "exchange": "binance", "symbol": "BTC", "rate": 0.00005})
    if 2 not in have:
        rows.append({"market_id": 2, "exchange": "lighter", "symbol": "SOL", "rate": -0.00002})
    # documented format: the benchmark's markets (mock config bench_markets)
    rows += [{"market_id": d["market_id"], "exchange": "lighter", "symbol": d["symbol"],
              "rate": (bench_hash(d["symbol"], "funding") % 200 - 100) / 1000000}
             for d in _details() if d["market_id"] >= 100]
    return 200, dict(body, funding_rates=rows)


def _range(req, step_s, unit, page):
    """Aligned times (in the request's unit) of [start, end], the newest count_back of them."""
    try:
        start = int(req.arg("start_timestamp"))
        end = int(req.arg("end_timestamp"))
        count = int(req.arg("count_back"))
    except (TypeError, ValueError):
        return None
    step = step_s * unit
    first = (start + step - 1) // step * step
    times = list(range(first, end + 1, step))
    return times[-min(count, page):] if count > 0 else []


def funding_rate_pct(t_s):
    """Deterministic hourly rate in percent, unsigned, and the paying side."""
    k = (t_s // 3600) % 5
    return Decimal(k) * Decimal("0.0004") + Decimal("0.0001"), "short" if k == 4 else "long"


def fundings(req):
    # documented format: timestamps and range in seconds, rate in percent with its direction
    if _market(req) is None:
        return _bad()
    if req.arg("resolution") not in ("1h", "1d"):
        return _bad("invalid resolution", 20001)
    times = _range(req, RESOLUTIONS[req.arg("resolution")], 1, FUNDING_PAGE)
    if times is None:
        return _bad("start_timestamp, end_timestamp and count_back are required", 20001)
    rows = []
    for t in times:
        rate, side = funding_rate_pct(t)
        rows.append('{"timestamp":%d,"value":"0.0100","rate":"%s","direction":"%s"}' % (t, rate, side))
    return 200, '{"code":200,"resolution":"%s","fundings":[%s]}' % (req.arg("resolution"), ",".join(rows))


def candle(t_ms, step_s):
    i = t_ms // (step_s * 1000)
    o = Decimal(3000) + Decimal(i % 89) / 4
    return ('{"timestamp":%d,"open":%s,"high":%s,"low":%s,"close":%s,"volume0":%s,"volume1":%s,'
            '"last_trade_id":%d}' % (t_ms, o, o + 2, o - 2, o + Decimal("0.5"), 10 + i % 7,
                                     (10 + i % 7) * o, 476396604 + i))


def candlesticks(req):
    d = _market(req)
    if d is None:
        return _bad()
    res = req.arg("resolution")
    if res not in RESOLUTIONS:
        return _bad("invalid resolution", 20001)
    times = _range(req, RESOLUTIONS[res], 1000, KLINE_PAGE)
    if times is None:
        return _bad("start_timestamp, end_timestamp and count_back are required", 20001)
    rec = fixture_json(FX + "fetchOHLCV.json")
    rec_t = rec["candlesticks"][0]["timestamp"]
    if d["market_id"] == 0 and res == "1m" and rec_t in times:
        if times == [rec_t]:
            return 200, fixture(FX + "fetchOHLCV.json")
        return 200, '{"code":200,"resolution":"1m","candlesticks":[%s]}' % ",".join(
            json.dumps(rec["candlesticks"][0]) if t == rec_t else candle(t, 60) for t in times)
    return 200, '{"code":200,"resolution":"%s","candlesticks":[%s]}' % (
        res, ",".join(candle(t, RESOLUTIONS[res]) for t in times))


def recent_trades(req):
    # documented format (no recording): newest first, ids beyond 2^53, the newest at the
    # time of the tree's candle (fetchOHLCV.json), one a second before it
    now_ms = fixture_json(FX + "fetchOHLCV.json")["candlesticks"][0]["timestamp"]
    d = _market(req)
    if d is None:
        return _bad()
    try:
        limit = int(req.arg("limit", ""))
    except ValueError:
        return _bad("limit is required", 20001)
    if not 1 <= limit <= TRADES_PAGE:
        return _bad("limit must be between 1 and 100", 20001)
    last = Decimal(str(d["last_trade_price"]))
    rows = []
    for i in range(limit):
        rows.append('{"trade_id":%d,"tx_hash":"00ab%04d","type":"trade","market_id":%d,"size":"%s",'
                    '"price":"%s","usd_amount":"1.0","ask_id":281474976710656,"bid_id":562949953421312,'
                    '"ask_account_id":1,"bid_account_id":2,"is_maker_ask":%s,"block_height":%d,'
                    '"timestamp":%d,"transaction_time":%d}'
                    % (9007199254740993 + 1000 - i, i, d["market_id"], "0.%04d" % (1 + i), last - i,
                       "true" if i % 2 == 0 else "false", 5000 - i, now_ms - i * 1000,
                       (now_ms - i * 1000) * 1000 + 123))
    return 200, '{"code":200,"trades":[%s]}' % ",".join(rows)


def register(venue):
    venue.route("GET", r"/api/v1/orderBookDetails", order_book_details)
    venue.route("GET", r"/api/v1/orderBooks", order_books)
    venue.route("GET", r"/api/v1/orderBookOrders", order_book_orders)
    venue.route("GET", r"/api/v1/funding-rates", funding_rates)
    venue.route("GET", r"/api/v1/fundings", fundings)
    venue.route("GET", r"/api/v1/candlesticks", candlesticks)
    venue.route("GET", r"/api/v1/recentTrades", recent_trades)
