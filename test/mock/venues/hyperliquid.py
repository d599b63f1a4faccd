"""Hyperliquid routes of the mock exchange: POST /info with {"type": ...}.

Payloads (test/payloads/hyperliquid and websocket/hyperliquid, the project's
own; or the same files of the recorded tree, see mock_exchange.FIXTURES).
Which coin a file answers for is read from the file itself, so that one
module serves both trees:

    meta                    fetchMarkets.meta.json
    metaAndAssetCtxs        universe of fetchMarkets.meta_nautilus.json paired in order
                            with the main dex's ("") asset contexts of
                            websocket/hyperliquid/allDexsAssetCtxs.trimmed.json, plus a
                            DOCUMENTED-FORMAT SOL entry when the universe has no SOL
    l2Book                  the "data" of websocket/hyperliquid/l2Book.json for its coin,
                            fetchOrderBook.l2Book.json for its coin; with nSigFigs (2..5)
                            that book aggregated as the venue does (see aggregate)
    /depth8/info            l2Book BTC from the hand-made l2Book.depth8.*.json (full,
                            nSigFigs 4 and 3; the finest stops at 8 bps), else as /info
    /depth8fail/info        the same, but nSigFigs 3 answers HTTP 422
    candleSnapshot          fetchOHLCV.candleSnapshot.json and fetchOHLCV.ccxt_btc_perp.json,
                            each for the coin ("s") and interval ("i") of its candles (the
                            latter has t, T, n as strings); their bars replace generated
                            ones within the asked range
    fundingHistory          fetchFundingRateHistory.fundingHistory.json for its coin, within
                            its span
    recentTrades            the "data" of websocket/hyperliquid/trades.json for its coin; while a
                            trade tape is registered for the coin (POST /_mock/tape, venue
                            "hyperliquid"), its newest RECENT_TRADES trades that exist by now
    allMids                 allMids.json

HIP-3 DEXes ("dex" in meta and metaAndAssetCtxs; coins named dex:COIN in every
request and answer), the project's own payloads of dex xyz (trade.xyz):

    meta, dex xyz               fetchMarkets.meta.xyz.json
    metaAndAssetCtxs, dex xyz   fetchTickers.metaAndAssetCtxs.xyz.json
    l2Book xyz:XYZ100           fetchOrderBook.l2Book.xyz.json
    recentTrades xyz:XYZ100     fetchTrades.recentTrades.xyz.json
    candleSnapshot xyz:XYZ100   fetchOHLCV.candleSnapshot.xyz.json (1h)
    fundingHistory xyz:XYZ100   fetchFundingRateHistory.fundingHistory.xyz.json
An unknown dex gets null from meta and metaAndAssetCtxs, as the venue does; the
other xyz coins get the generated data of any coin.  (A payload tree without
the xyz files, the recorded one, knows no dex.)
DOCUMENTED-FORMAT, generated deterministically: predictedFundings, other
coins' books/candles/trades, funding history outside the file's span (hourly).

Time-range answers hold at most 500 rows, oldest first, from startTime (the
venue's documented pagination rule).  An unknown coin gets null from l2Book
and [] from the time-range requests; a malformed request gets HTTP 422 with
a plain-text reason, as the venue does.
"""

import hashlib
import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from mock_exchange import bench_price, bench_symbols, fixture_json, tape

F = "hyperliquid/"
W = "websocket/hyperliquid/"
PAGE = 500
RECENT_TRADES = 500         # recentTrades of a tape: the newest 500 (the adapter's page)
INTERVAL_MS = {"1m": 60000, "3m": 180000, "5m": 300000, "15m": 900000, "30m": 1800000,
               "1h": 3600000, "2h": 7200000, "4h": 14400000, "8h": 28800000, "12h": 43200000,
               "1d": 86400000, "3d": 259200000, "1w": 604800000}
HOUR = 3600000
BASE_PRICE = {"BTC": Decimal("60000.0"), "ETH": Decimal("2000.0"), "SOL": Decimal("100.00")}


def now_ms():
    return int(time.time() * 1000)


def h(*parts):
    return int(hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:12], 16)


DEX_FILES = {"xyz": ("fetchMarkets.meta.xyz.json", "fetchTickers.metaAndAssetCtxs.xyz.json")}


def dex_json(name):
    """A HIP-3 payload of the project's tree; None where the tree has none."""
    try:
        return fixture_json(F + name)
    except FileNotFoundError:
        return None


def dex_bench_coins(dex):
    """The benchmark coins a DEX lists with bench_markets on: dex:SYM for each of them."""
    return [dex + ":" + c for c in bench_symbols()]


def dex_meta(dex):
    """A DEX's meta, plus the benchmark coins it lacks (bench_markets)."""
    m = dex_json(DEX_FILES[dex][0]) if dex in DEX_FILES else None
    if m:
        have = {u["name"] for u in m["universe"]}
        m["universe"] += [bench_universe_entry(c) for c in dex_bench_coins(dex) if c not in have]
    return m


def dex_meta_and_ctxs(dex):
    """A DEX's metaAndAssetCtxs, plus the benchmark coins it lacks (bench_markets)."""
    r = dex_json(DEX_FILES[dex][1]) if dex in DEX_FILES else None
    if r:
        uni, ctxs = r[0]["universe"], r[1]
        have = {u["name"] for u in uni}
        for c in dex_bench_coins(dex):
            if c not in have:
                uni.append(bench_universe_entry(c))
                ctxs.append(bench_ctx(c))
    return r


def dex_coins():
    out = set()
    for dex in DEX_FILES:
        m = dex_meta(dex)
        out |= {u["name"] for u in m["universe"]} if m else set()
    return out


def coins():
    return ({u["name"] for u in fixture_json(F + "fetchMarkets.meta.json")["universe"]} | {"SOL"} |
            set(bench_symbols()) | dex_coins())


def bench_universe_entry(coin):
    """DOCUMENTED-FORMAT universe entry of a benchmark coin (mock config bench_markets)."""
    return {"name": coin, "szDecimals": 2, "maxLeverage": 10, "onlyIsolated": False}


def bench_ctx(coin):
    """DOCUMENTED-FORMAT asset context of a benchmark coin, from bench_price."""
    p = bench_price(coin)
    return {"funding": "0.0000125", "openInterest": "%d.12" % (p * 100), "prevDayPx": str(p * Decimal("0.99")),
            "dayNtlVlm": str(p * 1000), "premium": "0.0", "oraclePx": str(p), "markPx": str(p),
            "midPx": str(p), "impactPxs": [str(p), str(p)], "dayBaseVlm": "1000.0"}


def meta():
    """The meta payload, plus the benchmark coins it lacks (bench_markets)."""
    m = fixture_json(F + "fetchMarkets.meta.json")
    have = {u["name"] for u in m["universe"]}
    m["universe"] += [bench_universe_entry(c) for c in bench_symbols() if c not in have]
    return m


def price_at(coin, t):
    p = BASE_PRICE.get(coin, Decimal("1.000"))
    q = Decimal(1).scaleb(p.as_tuple().exponent)
    return (p * (1 + Decimal(h(coin, t) % 2001 - 1000) / 100000)).quantize(q)


def bad(msg):
    return 422, "Failed to deserialize the JSON body into the target type: " + msg


def meta_and_ctxs():
    meta = fixture_json(F + "fetchMarkets.meta_nautilus.json")
    ctxs = next(c for dex, c in fixture_json(W + "allDexsAssetCtxs.trimmed.json")["data"]["ctxs"] if dex == "")
    uni = meta["universe"]
    ctxs = ctxs[:len(uni)]
    # DOCUMENTED-FORMAT: SOL, where the universe has none (the recorded one)
    if "SOL" not in {u["name"] for u in uni}:
        uni.append({"isDelisted": None, "marginTableId": 20, "maxLeverage": 20, "name": "SOL",
                    "onlyIsolated": None, "szDecimals": 2})
        ctxs.append({"funding": "0.0000125", "openInterest": "3000000.12", "prevDayPx": "98.50",
                     "dayNtlVlm": "123456789.0", "premium": "-0.0001", "oraclePx": "100.05",
                     "markPx": "100.01", "midPx": "100.015", "impactPxs": ["100.0", "100.03"],
                     "dayBaseVlm": "1234567.89"})
    for c in bench_symbols():
        if c not in {u["name"] for u in uni}:
            uni.append(bench_universe_entry(c))
            ctxs.append(bench_ctx(c))
    return [{"universe": uni, "marginTables": meta.get("marginTables", [])}, ctxs]


def predicted_fundings():
    """DOCUMENTED-FORMAT: [[coin, [[venue, {fundingRate, nextFundingTime, fundingIntervalHours}]]]]."""
    m, ctxs = meta_and_ctxs()
    nxt = (now_ms() // HOUR + 1) * HOUR
    out = []
    for u, c in zip(m["universe"], ctxs):
        out.append([u["name"], [
            ["BinPerp", {"fundingRate": "0.0001", "nextFundingTime": (now_ms() // (8 * HOUR) + 1) * 8 * HOUR,
                         "fundingIntervalHours": 8}],
            ["HlPerp", {"fundingRate": c["funding"], "nextFundingTime": nxt, "fundingIntervalHours": 1}],
            ["BybitPerp", None],
        ]])
    return out


def l2book(coin):
    for book in (fixture_json(W + "l2Book.json")["data"], fixture_json(F + "fetchOrderBook.l2Book.json"),
                 dex_json("fetchOrderBook.l2Book.xyz.json")):
        if book and coin == book["coin"]:
            return book
    if coin not in coins():
        return None
    # DOCUMENTED-FORMAT: 20 levels a side
    t = now_ms()
    p = price_at(coin, t // 1000)
    step = Decimal(1).scaleb(p.as_tuple().exponent)
    lv = lambda side, i, px: {"px": str(px), "sz": str(Decimal(h(coin, side, i) % 50000 + 1) / 1000),
                              "n": h(coin, side, i) % 3 + 1}
    return {"coin": coin, "time": t,
            "levels": [[lv("b", i, p - step * (i + 1)) for i in range(20)],
                       [lv("a", i, p + step * i) for i in range(20)]]}


def recorded_candles(coin, interval):
    """The candles of the payload files for coin and interval (each file holds one of each)."""
    for name in ("fetchOHLCV.candleSnapshot.json", "fetchOHLCV.ccxt_btc_perp.json", "fetchOHLCV.candleSnapshot.xyz.json"):
        bars = dex_json(name)
        if bars and bars[0]["s"] == coin and bars[0]["i"] == interval:
            return bars
    return []


def candles(req):
    coin, iv = req.get("coin"), req.get("interval")
    st, en = req.get("startTime"), req.get("endTime", now_ms())
    if not isinstance(coin, str) or iv not in INTERVAL_MS or not isinstance(st, int) or not isinstance(en, int):
        return bad("invalid candleSnapshot request")
    if coin not in coins():
        return 200, []
    step = INTERVAL_MS[iv]
    rec = {int(c["t"]): c for c in recorded_candles(coin, iv)}
    out = []
    t = -(-st // step) * step
    en = min(en, now_ms())
    while t <= en and len(out) < PAGE:
        if t in rec:
            out.append(rec[t])
        else:
            # DOCUMENTED-FORMAT candle
            o, c = price_at(coin, t), price_at(coin, t + step)
            q = Decimal(1).scaleb(o.as_tuple().exponent)
            out.append({"t": t, "T": t + step - 1, "s": coin, "i": iv, "o": str(o), "c": str(c),
                        "h": str((max(o, c) * Decimal("1.001")).quantize(q)),
                        "l": str((min(o, c) * Decimal("0.999")).quantize(q)),
                        "v": str(Decimal(h(coin, "v", t) % 100000 + 1) / 100), "n": h(coin, "n", t) % 900 + 1})
        t += step
    return 200, out


def funding_history(body):
    coin, st, en = body.get("coin"), body.get("startTime"), body.get("endTime", now_ms())
    if not isinstance(coin, str) or not isinstance(st, int) or not isinstance(en, int):
        return bad("invalid fundingHistory request")
    if coin not in coins():
        return 200, []
    rec = [r for name in ("fetchFundingRateHistory.fundingHistory.json", "fetchFundingRateHistory.fundingHistory.xyz.json")
           for r in (dex_json(name) or []) if r["coin"] == coin]
    lo, hi = (rec[0]["time"], rec[-1]["time"]) if rec else (None, None)
    en = min(en, now_ms())
    out = [r for r in rec if st <= r["time"] <= en]
    # DOCUMENTED-FORMAT hourly rows outside the recorded span
    t = -(-st // HOUR) * HOUR
    while t <= en:
        if lo is None or t < lo - HOUR or t > hi + HOUR:
            r = h(coin, "f", t) % 2001 - 1000
            out.append({"coin": coin, "fundingRate": format(Decimal(r).scaleb(-8), "f"),
                        "premium": format(Decimal(r - 300).scaleb(-8), "f"), "time": t + h(coin, t) % 500})
        t += HOUR
        if len(out) > 4 * PAGE:
            break
    out.sort(key=lambda r: r["time"])
    return 200, out[:PAGE]


def recent_trades(coin):
    tp = tape("hyperliquid", coin)
    if tp is not None:
        # the newest RECENT_TRADES of the tape's trades that exist by now, newest first
        hi = tp.generated(now_ms())
        return "[%s]" % ",".join(tp.hyperliquid_json(k) for k in range(hi - 1, max(0, hi - RECENT_TRADES) - 1, -1))
    for rec in (fixture_json(W + "trades.json")["data"], dex_json("fetchTrades.recentTrades.xyz.json")):
        if rec and rec[0]["coin"] == coin:
            return rec
    if coin not in coins():
        return []
    t = now_ms()
    # DOCUMENTED-FORMAT trades, newest first
    return [{"coin": coin, "side": "B" if h(coin, "s", i) % 2 else "A", "px": str(price_at(coin, t - i * 300)),
             "sz": str(Decimal(h(coin, "q", i) % 1000 + 1) / 100), "time": t - i * 300,
             "hash": "0x" + "%064x" % h(coin, "hash", t, i), "tid": 10 ** 14 + h(coin, t, i) % 10 ** 14,
             "users": ["0x" + "1" * 40, "0x" + "2" * 40]} for i in range(10)]


def info(req):
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return bad("missing field `type`")
    kind = body["type"]
    dex = body.get("dex", "")
    if not isinstance(dex, str):
        return bad("invalid type: expected a string for `dex`")
    if kind == "meta":
        return 200, meta() if dex == "" else dex_meta(dex)
    if kind == "metaAndAssetCtxs":
        if dex == "":
            return 200, meta_and_ctxs()
        return 200, dex_meta_and_ctxs(dex)
    if kind == "allMids":
        return 200, fixture_json(F + "allMids.json")
    if kind == "predictedFundings":
        return 200, predicted_fundings()
    if kind == "l2Book":
        if not isinstance(body.get("coin"), str):
            return bad("missing field `coin`")
        nsig = body.get("nSigFigs")
        if nsig not in (None, 2, 3, 4, 5):
            return bad("invalid value for `nSigFigs`: expected 2..5 or null")
        return 200, aggregate(l2book(body["coin"]), nsig)
    if kind == "candleSnapshot":
        if not isinstance(body.get("req"), dict):
            return bad("missing field `req`")
        return candles(body["req"])
    if kind == "fundingHistory":
        return funding_history(body)
    if kind == "recentTrades":
        if not isinstance(body.get("coin"), str):
            return bad("missing field `coin`")
        return 200, recent_trades(body["coin"])
    return bad("unknown variant `%s`" % kind)


def aggregate(book, nsig):
    """A book at nSigFigs significant figures of the price, as the venue aggregates it: each
    level in the bucket of its price (bids rounded down, asks up, so a bucket is named by
    its price farthest from mid), sizes and order counts summed; None: the book as it is."""
    if book is None or nsig is None:
        return book
    out = []
    for side, rounding in ((book["levels"][0], ROUND_FLOOR), (book["levels"][1], ROUND_CEILING)):
        buckets = {}
        for lv in side:
            px = Decimal(lv["px"])
            step = Decimal(1).scaleb(px.adjusted() - nsig + 1)
            b = (px / step).to_integral_value(rounding) * step
            sz, n = buckets.get(b, (Decimal(0), 0))
            buckets[b] = (sz + Decimal(lv["sz"]), n + lv["n"])
        keys = sorted(buckets, reverse=(rounding == ROUND_FLOOR))
        out.append([{"px": format(k, "f"),
                     "sz": str(buckets[k][0]), "n": buckets[k][1]} for k in keys[:20]])
    return {"coin": book["coin"], "time": book["time"], "levels": out}


# /depth8/info: the project's hand-made BTC book at three resolutions, the finest stopping
# at 8 bps of mid (test/payloads/hyperliquid/l2Book.depth8.*.json): l2Book BTC at full
# precision, nSigFigs 4 and 3 from those files, 5 and 2 as the venue would aggregate the
# finer file (5 figures of 80000 are the full precision, 1 USD); every other request as /info.
DEPTH8 = {None: "l2Book.depth8.full.json", 5: "l2Book.depth8.full.json",
          4: "l2Book.depth8.nSigFigs4.json", 3: "l2Book.depth8.nSigFigs3.json", 2: "l2Book.depth8.nSigFigs3.json"}


def info_depth8(req):
    body = req.json()
    # /depth8fail/info: the same, but nSigFigs 3 answers 422 (a coarser book that cannot be had)
    if req.path.startswith("/depth8fail/") and isinstance(body, dict) and body.get("nSigFigs") == 3:
        return bad("nSigFigs 3 is not served here")
    if isinstance(body, dict) and body.get("type") == "l2Book" and body.get("coin") == "BTC" and \
            body.get("nSigFigs") in DEPTH8:
        nsig = body.get("nSigFigs")
        book = fixture_json(F + DEPTH8[nsig])
        return 200, aggregate(book, nsig) if nsig in (5, 2) else book
    return info(req)


def register(venue):
    venue.route("POST", r"/info", info)
    venue.route("POST", r"/depth8/info", info_depth8)
    venue.route("POST", r"/depth8fail/info", info_depth8)
