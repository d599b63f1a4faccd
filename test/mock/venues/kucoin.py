"""KuCoin Futures routes of the mock exchange (rest_url .../kucoin).

The payloads (test/payloads/kucoinfutures, or the recorded ones of
../shared/fixtures/kucoinfutures: see PERPS_PAYLOADS in mock_exchange.py)
are served for XBTUSDTM where one exists: the contracts list, the ticker,
the level-2 book (for snapshot, depth20 and depth100), the current funding
rate, the klines and the trade history.  They are served as their text is:
a number keeps its digits (a payload's 20-decimal value or 1.77E9 is not
rounded through a double; see _loads and _dumps).  Everything else is
DOCUMENTED-FORMAT data written here (marked "documented format" below): the
ETHUSDTM and SOLUSDTM contracts where the contracts list has none (the
recorded one lists only XBTUSDTM and XBTUSDM), the public funding history
(no payload) and klines outside the payload's range, generated
deterministically from the request's time range with the venue's limits
(klines: 500 per request; funding history: 100 per request, newest first).

Unknown symbols answer HTTP 400 {"code": "400100", "msg": ...}, KuCoin's shape.

The stream side: POST /api/v1/bullet-public (documented format) answers the
WebSocket mock's endpoint ws://127.0.0.1:PORT/kucoin/endpoint (the mock's
/_mock/config "ws_url"; without it, KuCoin's real endpoint, which no test
opens), the token the WebSocket mock's kucoin module checks, and
pingInterval PING_MS.  Once "ws_url" is set, the XBTUSDTM level-2 book is
the WebSocket mock's (action "book": the payload's snapshot with the
changes it streamed since, and their sequence), so that a snapshot taken
after a gap continues the stream; without it, or when the WebSocket mock
does not answer, the payload as it is.
"""

import copy
import json
import re
import urllib.request
from decimal import Decimal

from mock_exchange import bench_hash, bench_price, bench_symbols, fixture, ws_url

FX = "kucoinfutures/"
KLINE_PAGE = 500
FUNDING_PAGE = 100
FUNDING_MS = 8 * 3600 * 1000
GRANULARITIES = (1, 5, 15, 30, 60, 120, 240, 480, 720, 1440, 10080)

class _Num:
    """A JSON number with a fraction or an exponent, kept as the payload's text."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def _loads(text):
    """JSON whose fractional numbers stay their text (_Num)."""
    return json.loads(text, parse_float=_Num)


def _dumps(obj):
    """JSON text of obj, each _Num written back as its own text."""
    s = json.dumps(obj, default=lambda o: "\u0001num:" + o.text)
    return re.sub(r'"\\u0001num:([^"]*)"', r"\1", s)


def _payload(name):
    return _loads(fixture(FX + name))


NOW_MS = _payload("fetchTicker.json")["data"]["ts"] // 1000000  # the ticker's time: "now" for ranges left open
WS_TOKEN = "mock-kucoin-token.AbC/+=="     # test/mock/ws_venues/kucoin.py checks the same
PING_MS = 2000              # short, so that a test sees the client ping at it


def _ok(data):
    return 200, _dumps({"code": "200000", "data": data})


def _bad(msg="Contract parameter invalid", status=400, code="400100"):
    return status, {"code": code, "msg": msg}


def _contracts():
    rec = _payload("fetchMarkets.contracts_active.json")["data"]
    xbt = rec[0]
    out = list(rec)
    listed = {c["symbol"] for c in out}
    # documented format: ETH and SOL contracts, shaped like the XBTUSDTM, where the payload has none
    for sym, base, mult, tick, mark in (("ETHUSDTM", "ETH", 0.01, 0.01, "1850.25"),
                                        ("SOLUSDTM", "SOL", 0.1, 0.001, "21.345")):
        if sym in listed:
            continue
        c = copy.deepcopy(xbt)
        c.update({"symbol": sym, "baseCurrency": base, "multiplier": mult, "tickSize": tick,
                  "fundingRateSymbol": ".%sFPI8H" % sym, "indexSymbol": ".K%sUSDT" % base,
                  "markPrice": float(mark), "indexPrice": float(mark), "lastTradePrice": float(mark),
                  "openInterest": "123456", "volumeOf24h": 1000.5, "turnoverOf24h": 2000000.25,
                  "maxLeverage": 75})
        out.append(c)
    # DOCUMENTED-FORMAT: the benchmark's contracts (mock config bench_markets),
    # shaped like the payload's XBTUSDTM, mark price from the symbol
    have = {c["symbol"] for c in out}
    for base in bench_symbols():
        sym = ("XBT" if base == "BTC" else base) + "USDTM"
        if sym in have:
            continue
        c = copy.deepcopy(xbt)
        mark = float(bench_price(sym))
        c.update({"symbol": sym, "baseCurrency": base, "multiplier": 1, "tickSize": 0.0001,
                  "fundingRateSymbol": ".%sFPI8H" % sym, "indexSymbol": ".K%sUSDT" % base,
                  "markPrice": mark, "indexPrice": mark, "lastTradePrice": mark,
                  "openInterest": str(bench_hash(sym, "oi") % 1000000), "volumeOf24h": 1000.5,
                  "turnoverOf24h": 2000000.25, "maxLeverage": 50})
        out.append(c)
    return out


def _contract(sym):
    for c in _contracts():
        if c["symbol"] == sym:
            return c
    return None


def contracts_active(req):
    return _ok(_contracts())


def contract_detail(req):
    c = _contract(req.match.group(1))
    return _ok(c) if c else _bad()


def _ticker_row(sym):
    if sym == "XBTUSDTM":
        return _payload("fetchTicker.json")["data"]
    c = _contract(sym)
    if c is None or c["isInverse"]:
        return None
    # documented format
    px = Decimal(str(c["markPrice"]))
    tick = Decimal(str(c["tickSize"]))
    return {"sequence": 1000, "symbol": sym, "side": "sell", "size": 3, "tradeId": "1000",
            "price": str(px), "bestBidPrice": str(px - tick), "bestBidSize": 120,
            "bestAskPrice": str(px), "bestAskSize": 80, "ts": NOW_MS * 1000000}


def ticker(req):
    row = _ticker_row(req.arg("symbol", ""))
    return _ok(row) if row else _bad()


def all_tickers(req):
    rows = [_ticker_row(c["symbol"]) for c in _contracts()]
    return _ok([r for r in rows if r])


def _ws_book(sym, n):
    """The WebSocket mock's book of sym (n levels a side; None: all) as a level2 body, or None."""
    if not ws_url():
        return None
    ctl = ws_url().replace("ws://", "http://", 1).rstrip("/") + "/_ws/action"
    req = urllib.request.Request(ctl, data=json.dumps({"venue": "kucoin", "action": "book", "symbol": sym}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            b = json.loads(r.read())
    except (OSError, ValueError):
        return None
    # each level is [price text, size text] as the WebSocket mock keeps them
    lv = lambda side: "[%s]" % ",".join("[%s,%s]" % (p, q) for p, q in b[side][:n])  # noqa: E731
    return '{"code":"200000","data":{"symbol":"%s","sequence":%d,"asks":%s,"bids":%s,"ts":%d}}' % (
        sym, b["sequence"], lv("asks"), lv("bids"), b["ts_ns"])


def bullet_public(req):
    # documented format: POST /api/v1/bullet-public
    endpoint = (ws_url().rstrip("/") + "/kucoin/endpoint") if ws_url() else "wss://ws-api-futures.kucoin.com/"
    return _ok({"token": WS_TOKEN,
                "instanceServers": [{"endpoint": endpoint, "encrypt": endpoint.startswith("wss:"),
                                     "protocol": "websocket", "pingInterval": PING_MS, "pingTimeout": 10000}]})


def level2(req):
    sym = req.arg("symbol", "")
    n = {"depth20": 20, "depth100": 100}.get(req.match.group(1))
    if sym == "XBTUSDTM":
        body = _ws_book(sym, n)
        if body:
            return 200, body
    if sym == "XBTUSDTM":
        if not n:
            return 200, fixture(FX + "fetchOrderBook.level2_snapshot.json")
        book = _payload("fetchOrderBook.level2_snapshot.json")["data"]
    elif _contract(sym):
        # documented format
        px = Decimal(str(_contract(sym)["markPrice"]))
        tick = Decimal(str(_contract(sym)["tickSize"]))
        book = {"symbol": sym, "sequence": 100,
                "bids": [[float(px - tick * (i + 1)), 10 * (i + 1)] for i in range(5)],
                "asks": [[float(px + tick * i), 10 * (i + 1)] for i in range(5)],
                "ts": NOW_MS * 1000000}
    else:
        return _bad()
    if n:
        book = dict(book, bids=book["bids"][:n], asks=book["asks"][:n])
    return _ok(book)


def funding_current(req):
    sym = req.match.group(1)
    if sym == "XBTUSDTM":
        return 200, fixture(FX + "fetchFundingRate.json")
    if _contract(sym):
        # documented format
        return _ok({"symbol": ".%sFPI8H" % sym, "granularity": FUNDING_MS, "timePoint": 1705896000000,
                    "value": 0.0001, "predictedValue": 0.00012})
    return _bad()


def funding_rate_at(t_ms):
    """Deterministic rate of the settlement at t_ms: -0.000075 .. 0.000075 in steps of 0.000025."""
    return Decimal((t_ms // FUNDING_MS) % 7 - 3) * Decimal("0.000025")


def funding_history(req):
    # documented format: GET /api/v1/contract/funding-rates?symbol&from&to, newest first
    sym = req.arg("symbol", "")
    if not _contract(sym):
        return _bad()
    try:
        start, end = int(req.arg("from")), int(req.arg("to"))
    except (TypeError, ValueError):
        return _bad("from and to are required", code="400100")
    # settlements at 04:00, 12:00 and 20:00 UTC
    first = ((start - 4 * 3600000 + FUNDING_MS - 1) // FUNDING_MS) * FUNDING_MS + 4 * 3600000
    times = list(range(first, end + 1, FUNDING_MS))[::-1][:FUNDING_PAGE]
    body = '{"code":"200000","data":[%s]}' % ",".join(
        '{"symbol":"%s","fundingRate":%s,"timepoint":%d}' % (sym, funding_rate_at(t), t) for t in times)
    return 200, body


def kline_row(t_ms, minutes):
    """Deterministic candle (documented format): [time, open, high, low, close, volume]."""
    i = t_ms // (minutes * 60000)
    o = Decimal(40000) + Decimal(i % 97) * Decimal("1.5")
    return "[%d,%s,%s,%s,%s,%d]" % (t_ms, o, o + 10, o - 10, o + Decimal("2.5"), 1000 + i % 13)


def kline(req):
    sym = req.arg("symbol", "")
    if not _contract(sym):
        return _bad()
    try:
        gran = int(req.arg("granularity", ""))
    except ValueError:
        gran = 0
    if gran not in GRANULARITIES:
        return _bad("granularity invalid")
    step = gran * 60000
    end = int(req.arg("to", NOW_MS))
    start = int(req.arg("from", end - KLINE_PAGE * step))
    rec = _payload("fetchOHLCV.json")["data"]
    if sym == "XBTUSDTM" and gran == 60 and start <= rec[0][0] and rec[-1][0] <= end:
        # the payload's candles, for any range that covers them
        return _ok([r for r in rec if start <= r[0] <= end])
    first = (start + step - 1) // step * step
    times = list(range(first, end + 1, step))[:KLINE_PAGE]
    return 200, '{"code":"200000","data":[%s]}' % ",".join(kline_row(t, gran) for t in times)


def trades(req):
    sym = req.arg("symbol", "")
    if sym == "XBTUSDTM":
        return 200, fixture(FX + "fetchTrades.json")
    if not _contract(sym):
        return _bad()
    # documented format: the last 100 trades, newest first
    px = Decimal(str(_contract(sym)["markPrice"]))
    return _ok([{"sequence": 5000 - i, "tradeId": str(5000 - i), "ts": (NOW_MS - i * 1000) * 1000000,
                 "size": 1 + i % 4, "price": str(px + i % 3), "side": "buy" if i % 2 else "sell",
                 "makerOrderId": "1", "takerOrderId": "2"} for i in range(100)])


def register(venue):
    venue.route("GET", r"/api/v1/contracts/active", contracts_active)
    venue.route("GET", r"/api/v1/contracts/([A-Za-z0-9]+)", contract_detail)
    venue.route("GET", r"/api/v1/ticker", ticker)
    venue.route("GET", r"/api/v1/allTickers", all_tickers)
    venue.route("GET", r"/api/v1/level2/(snapshot|depth20|depth100)", level2)
    venue.route("GET", r"/api/v1/funding-rate/([A-Za-z0-9.]+)/current", funding_current)
    venue.route("GET", r"/api/v1/contract/funding-rates", funding_history)
    venue.route("GET", r"/api/v1/kline/query", kline)
    venue.route("GET", r"/api/v1/trade/history", trades)
    venue.route("POST", r"/api/v1/bullet-public", bullet_public)
