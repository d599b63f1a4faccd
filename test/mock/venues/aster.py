"""Aster futures (asterdex.com, fapi v1) routes of the mock exchange.

Aster serves Binance's USD-M futures REST API (github.com/asterdex/api-docs,
aster-finance-futures-api), so the routes, parameters, paging rules,
errors and generated history are those of the Binance mock
(test/mock/venues/binance.py, register_fapi), served from Aster's own
payloads, test/payloads/aster, written from Aster's documentation:
exchangeInfo, fundingInfo (Aster's "Get Funding Rate Config": every
symbol with its interval), the 24 h tickers, premium indexes and book
tickers as the REST answers without symbol (one symbol's answer is its
element), the BTCUSDT and ETHUSDT depth, recent trades, 1m klines and funding history.
Aster documents no /fapi/v1/openInterest, so the mock has none.

The mock's "now" is the close of the last 1m kline of fetchOHLCV.swap.json:
2026-12-01 09:14:59.999 UTC.  Generated history (klines, funding rates,
aggregate trades) follows binance.py's formulas.
"""

import importlib.util
import os

from mock_exchange import BENCH_SYMBOLS, bench_symbols, fixture_json

_spec = importlib.util.spec_from_file_location(
    "perps_mock_fapi", os.path.join(os.path.dirname(os.path.abspath(__file__)), "binance.py"))
fapi = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fapi)

_now = []

# the depth snapshots served (the WebSocket mock, ws_venues/aster.py, reads them too,
# so that its diff events line up with their lastUpdateId)
DEPTH_FIXTURES = {"BTCUSDT": "aster/fetchOrderBook.swap.json", "ETHUSDT": "aster/fetchOrderBook.ethusdt.json"}


def now_ms():
    if not _now:
        _now.append(max(int(r[6]) for r in fixture_json("aster/fetchOHLCV.swap.json")))
    return _now[0]


def _by_symbol(rel):
    return {e["symbol"]: e for e in fixture_json(rel)}


def _exchange_info():
    """exchangeInfo; with the mock's bench_markets on, also the BENCH_SYMBOLS
    (DOCUMENTED-FORMAT: BTCUSDT's entry with the symbol's names) that Aster's
    payload does not list, as binance.py answers for them."""
    info = fixture_json("aster/fetchMarkets.exchangeInfo.json")
    listed = {s["symbol"] for s in info["symbols"]}
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    info["symbols"] += [dict(btc, symbol=b + "USDT", pair=b + "USDT", baseAsset=b)
                        for b in bench_symbols() if b + "USDT" not in listed]
    return info


def _state(venue):
    st = venue.state
    if "symbols" not in st:
        info = fixture_json("aster/fetchMarkets.exchangeInfo.json")
        st["symbols"] = {s["symbol"] for s in info["symbols"]} | {b + "USDT" for b in BENCH_SYMBOLS}
        st["exchange_info"] = _exchange_info
        st["funding_info"] = fixture_json("aster/fetchMarkets.fundingInfo.json")
        st["day"] = _by_symbol("aster/fetchTickers.24hr.json")
        st["prem"] = _by_symbol("aster/fetchTickers.premiumIndex.json")
        st["book"] = _by_symbol("aster/fetchTickers.bookTicker.json")
        st["depth"] = {s: fixture_json(rel) for s, rel in DEPTH_FIXTURES.items()}
        st["klines"] = {("BTCUSDT", "1m"): {r[0]: r for r in fixture_json("aster/fetchOHLCV.swap.json")}}
        st["funding"] = {(r["symbol"], int(r["fundingTime"])): r
                         for r in fixture_json("aster/fetchFundingRateHistory.json")}
        st["trades"] = fixture_json("aster/fetchTrades.json")
    return st


def register(venue):
    fapi.register_fapi(venue, "aster", lambda: _state(venue), now_ms, open_interest=False)
