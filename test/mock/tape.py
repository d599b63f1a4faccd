"""The trade tape shared by the WebSocket mock (test/mock/ws_mock.py) and the
REST mock (test/mock/mock_exchange.py): one deterministic sequence of trades
per (venue, symbol), so that what a client misses on the stream it can fetch
again over REST, with the same values.

The two mocks are separate processes: a tape is a pure function of its
parameters Tape(venue, symbol, count, rate, start_id, t0_ms), and both mocks
are given the same ones (the tests pass the same t0_ms to both).  Trade k,
0 <= k < count:

    time    t0_ms + (k * 1000) // rate  (ms; the venue's trade time T).  The
            trade exists (has been generated) once the wall clock reaches it:
            generated(now_ms) of them exist at now_ms.
    id      binance, aster: start_id + k (the aggregate trade id a, sequential);
            bybit: a UUID-looking text from sha1(symbol|k), version nibble 5
            and variant 8..b as Bybit's execIds look (not sequential);
            paradex, hyperliquid: the decimal text of
                10**18 + (H + k * 6364136223846793007) % 10**18,
            H = int(sha1(symbol).hexdigest()[:16], 16) % 10**18: 19 digits,
            not sequential, unique per k (the multiplier is prime to 10) and
            a positive int64, because Paradex's SBE TradeEvent carries the
            trade id as an int64 (the REST id, a text, is the same digits);
            extended: the same 19 digits as a JSON integer (Extended's "i"
            is a number beyond 2^53, on the stream and over REST);
            grvt: "<80000000 + 3 k>-<k % 3 + 1>", as GRVT's trade ids look
            (increasing, not by one, a fill number after the dash).
    price   binance, aster, bybit, hyperliquid, extended: "<42000 + k % 997>.<(k * 7919) % 10**20, 20 digits>":
            20 decimals, so that a client that goes through a double is seen;
            paradex, nado: "<42000 + k % 997>.<(k * 7919) % 10**8, 8 digits>": 8
            decimals, what the SBE Price8 mantissa (exponent -8) carries exactly
            (and Nado's x18 fixed point);
            grvt: "<42000 + k % 997>.<(k * 7919) % 10**9, 9 digits>" (GRVT's
            prices have 9 decimals).
    qty     "0.<k % 999 + 1, 3 digits>": 0.001 .. 0.999.
    side    k even: the taker bought (Binance m false, Bybit "Buy", Paradex
            "BUY" / SBE side 1, Extended "S": "BUY"); k odd: sold ("SELL" / 2).
    hibachi no ids (the venue sends none): its frames and its REST trades carry
            price, quantity, takerSide Buy / Sell and the time in whole seconds
            (time // 1000); see test/mock/ws_venues/hibachi.py.
    binance f = 2 * a, l = f + k % 3 (the first and last plain trade ids).
    bybit   seq = 700000000000 + k; L (tick direction) from the integer part of
            the price against trade k-1 (ZeroPlusTick for k = 0).
    hyperliquid  the symbol is the coin (BTC, xyz:XYZ100); side "B" (k even: the taker
            bought) or "A"; tid the id as a JSON number (beyond 2^53, as real tids may be).
    nado    the symbol is the product id ("4"); no trade id on the stream
            (test/mock/ws_venues/nado.py); time in ns = time * 10**6.
    pacifica the symbol is the market (BTC); the frames and the REST answer
            are the venue modules' (test/mock/ws_venues/pacifica.py,
            test/mock/venues/pacifica.py): no id on REST, sides by k % 4.
    paradex the symbol is the market (BTC-USD-PERP).  SBE TradeEvent: createdAt
            = time * 1000 (µs), ts = the send time (µs), seq = k + 1, price and
            size mantissas at 10^-8, tradeType 1 (FILL).  REST /v1/trades:
            created_at = time (ms), trade_type "FILL".
    grvt    the symbol is the instrument (BTC_USDT_Perp).  v1.trade feed and
            full/v1/trade_history row: event_time = time * 10**6 (ns),
            is_taker_buyer the side.
    lighter the symbol is the market id ("1"); trade_id 600000000 + 2 k (a
            JSON integer, increasing, not by one: Lighter numbers its trades
            over all markets), is_maker_ask true when the taker bought,
            timestamp = time (ms), transaction_time = time * 1000 (µs).
    kucoin  the symbol is the contract (XBTUSDTM).  One execution "match"
            frame a trade, as KuCoin sends them: tradeId "<1700000000000 + k>",
            sequence 90000000 + k, side the taker's ("buy" k even), ts = time *
            10**6 (ns), size a whole number of lots, k % 999 + 1 (a JSON
            number; the stored quantity is lots * the contract's multiplier).

rate (trades a second) may be fractional ("0.5"); times are worked out with
integers (rate as a fraction), so both processes agree to the millisecond.

The *_json helpers format one trade as the venue's wire text (string
formatting, no json.dumps: the stream mock emits 20 000 of them a second).
Standard library only.
"""

import hashlib
import re
import time
from fractions import Fraction

VENUES = ("binance", "bybit", "paradex", "nado", "hibachi", "pacifica", "extended", "grvt", "aster", "hyperliquid",
          "lighter", "kucoin")
BINANCE_START_ID = 7000000001
BINANCE_LIKE = ("binance", "aster")         # Aster serves Binance's API: the same ids and frames
BYBIT_SEQ0 = 700000000000
PARADEX_ID_BASE = 10 ** 18
PARADEX_ID_MOD = 10 ** 18
PARADEX_ID_MUL = 6364136223846793007           # prime to 10: k -> id is one-to-one
PARADEX_ID_INV = pow(PARADEX_ID_MUL, -1, PARADEX_ID_MOD)
PARADEX_MARKET = re.compile(r"^[A-Z0-9]+-USD-PERP$")
GRVT_INSTRUMENT = re.compile(r"^[A-Z0-9]+_USDT_Perp$")
GRVT_ID_BASE = 80000000
LIGHTER_ID0 = 600000000
KUCOIN_ID0 = 1700000000000
KUCOIN_SEQ0 = 90000000


def now_ms():
    return int(time.time() * 1000)


class Tape:
    def __init__(self, venue, symbol, count, rate, start_id=None, t0_ms=None):
        if venue not in VENUES:
            raise ValueError("no tape for venue %r (only %s)" % (venue, ", ".join(VENUES)))
        if not isinstance(symbol, str) or not symbol:
            raise ValueError("symbol must be a native symbol such as BTCUSDT")
        if venue == "paradex" and not PARADEX_MARKET.match(symbol):
            raise ValueError("a paradex tape's symbol is a market such as BTC-USD-PERP")
        if venue == "lighter" and not symbol.isdigit():
            raise ValueError("a lighter tape's symbol is a market id such as 1")
        if venue == "grvt" and not GRVT_INSTRUMENT.match(symbol):
            raise ValueError("a grvt tape's symbol is an instrument such as BTC_USDT_Perp")
        self.venue = venue
        self.symbol = symbol
        self.count = int(count)
        if self.count < 0:
            raise ValueError("count must be >= 0")
        r = Fraction(str(rate))
        if r <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self._num, self._den = r.numerator, r.denominator     # rate = num / den trades a second
        self.start_id = BINANCE_START_ID if start_id is None else int(start_id)
        self.t0_ms = now_ms() + 200 if t0_ms is None else int(t0_ms)
        self._sym_b = symbol.encode()
        self._id_h = int(hashlib.sha1(self._sym_b).hexdigest()[:16], 16) % PARADEX_ID_MOD

    def params(self):
        """The parameters, as the control requests take them."""
        return {"venue": self.venue, "symbol": self.symbol, "count": self.count, "rate": self.rate,
                "start_id": self.start_id, "t0_ms": self.t0_ms}

    # ---- time ----

    def time_ms(self, k):
        """The trade time of trade k: t0_ms + (k * 1000) // rate."""
        return self.t0_ms + (k * 1000 * self._den) // self._num

    def index_of_time(self, ms):
        """The first k whose time is >= ms (0 .. count)."""
        d = ms - self.t0_ms
        if d <= 0:
            return 0
        k = -(-(d * self._num) // (1000 * self._den))       # ceil(d * rate / 1000)
        return min(k, self.count)

    def generated(self, now=None):
        """How many trades exist at now (ms, default: the wall clock): those with time <= now."""
        return self.index_of_time((now_ms() if now is None else now) + 1)

    def range_of_times(self, start_ms=None, end_ms=None):
        """(lo, hi): trades lo .. hi-1 have start_ms <= time <= end_ms (None: unbounded)."""
        lo = 0 if start_ms is None else self.index_of_time(start_ms)
        hi = self.count if end_ms is None else self.index_of_time(end_ms + 1)
        return lo, max(lo, hi)

    # ---- values ----

    def trade_id(self, k):
        if self.venue in BINANCE_LIKE:
            return self.start_id + k
        if self.venue == "grvt":
            return "%d-%d" % (GRVT_ID_BASE + 3 * k, k % 3 + 1)
        if self.venue in ("paradex", "extended", "hyperliquid"):
            return "%d" % (PARADEX_ID_BASE + (self._id_h + k * PARADEX_ID_MUL) % PARADEX_ID_MOD)
        h = hashlib.sha1(b"%s|%d" % (self._sym_b, k)).hexdigest()
        return "%s-%s-5%s-%x%s-%s" % (h[:8], h[8:12], h[13:16], 8 | (int(h[16], 16) & 3), h[17:20], h[20:32])

    def index_of_id(self, tid):
        """Binance: the k of aggregate trade id tid (may be out of 0 .. count)."""
        return int(tid) - self.start_id

    def paradex_index_of_id(self, tid):
        """Paradex: the k of trade id tid (text), or None when tid is no trade of this tape."""
        if not isinstance(tid, str) or len(tid) != 19 or not tid.isdigit():
            return None
        k = ((int(tid) - PARADEX_ID_BASE - self._id_h) * PARADEX_ID_INV) % PARADEX_ID_MOD
        return k if k < self.count and self.trade_id(k) == tid else None

    def price(self, k):
        if self.venue == "grvt":
            return "%d.%09d" % (42000 + k % 997, (k * 7919) % 10 ** 9)
        if self.venue in ("paradex", "nado"):
            return "%d.%08d" % (42000 + k % 997, (k * 7919) % 10 ** 8)
        return "%d.%020d" % (42000 + k % 997, (k * 7919) % 10 ** 20)

    @staticmethod
    def price_e8(k):
        """Paradex: the price's SBE mantissa at 10^-8 (int(price * 10**8), exactly)."""
        return (42000 + k % 997) * 10 ** 8 + (k * 7919) % 10 ** 8

    @staticmethod
    def qty_e8(k):
        """Paradex: the size's SBE mantissa at 10^-8."""
        return (k % 999 + 1) * 10 ** 5

    @staticmethod
    def qty(k):
        return "0.%03d" % (k % 999 + 1)

    @staticmethod
    def buy(k):
        """The taker bought."""
        return k % 2 == 0

    def trade(self, k):
        """Trade k as a dict: k, id, time (ms), price, qty (text), buy (the taker bought)."""
        if not 0 <= k < self.count:
            raise IndexError(k)
        return {"k": k, "id": self.trade_id(k), "time": self.time_ms(k), "price": self.price(k),
                "qty": self.qty(k), "buy": self.buy(k)}

    # ---- wire formats ----

    def binance_fields(self, k):
        """The aggTrade fields a, p, q, f, l, T, m of trade k, as JSON members (no braces)."""
        a = self.start_id + k
        return '"a":%d,"p":"%s","q":"%s","f":%d,"l":%d,"T":%d,"m":%s' % (
            a, self.price(k), self.qty(k), 2 * a, 2 * a + k % 3, self.time_ms(k),
            "false" if k % 2 == 0 else "true")

    def binance_rest_json(self, k):
        """One item of GET /fapi/v1/aggTrades."""
        return "{" + self.binance_fields(k) + "}"

    def binance_ws_json(self, k, event_ms):
        """One combined-stream aggTrade frame's text: {"stream":"<sym>@aggTrade","data":{...}}."""
        return '{"stream":"%s@aggTrade","data":{"e":"aggTrade","E":%d,"s":"%s",%s}}' % (
            self.symbol.lower(), event_ms, self.symbol, self.binance_fields(k))

    def tick(self, k):
        if k == 0:
            return "ZeroPlusTick"
        return "PlusTick" if k % 997 > (k - 1) % 997 else "MinusTick"

    def bybit_ws_item_json(self, k):
        """One item of a publicTrade frame's data."""
        return ('{"T":%d,"s":"%s","S":"%s","v":"%s","p":"%s","L":"%s","i":"%s","BT":false,"RPI":false,"seq":%d}'
                % (self.time_ms(k), self.symbol, "Buy" if k % 2 == 0 else "Sell", self.qty(k), self.price(k),
                   self.tick(k), self.trade_id(k), BYBIT_SEQ0 + k))

    def bybit_ws_json(self, ks, event_ms):
        """A publicTrade snapshot frame's text with trades ks (ascending)."""
        return '{"topic":"publicTrade.%s","type":"snapshot","ts":%d,"data":[%s]}' % (
            self.symbol, event_ms, ",".join(self.bybit_ws_item_json(k) for k in ks))

    def bybit_rest_json(self, k):
        """One item of GET /v5/market/recent-trade's result.list."""
        return ('{"execId":"%s","symbol":"%s","price":"%s","size":"%s","side":"%s","time":"%d","isBlockTrade":false}'
                % (self.trade_id(k), self.symbol, self.price(k), self.qty(k), "Buy" if k % 2 == 0 else "Sell",
                   self.time_ms(k)))

    def paradex_rest_json(self, k):
        """One item of GET /v1/trades's results."""
        return ('{"id":"%s","market":"%s","side":"%s","size":"%s","price":"%s","created_at":%d,'
                '"trade_type":"FILL"}' % (self.trade_id(k), self.symbol, "BUY" if k % 2 == 0 else "SELL",
                                          self.qty(k), self.price(k), self.time_ms(k)))

    def extended_json(self, k):
        """Trade k as Extended's stream and REST trade object (the id a JSON integer)."""
        return ('{"i":%s,"m":"%s","S":"%s","tT":"TRADE","T":%d,"p":"%s","q":"%s"}'
                % (self.trade_id(k), self.symbol, "BUY" if k % 2 == 0 else "SELL", self.time_ms(k),
                   self.price(k), self.qty(k)))

    def grvt_trade_json(self, k):
        """One trade object: a v1.trade feed, a row of full/v1/trade_history's result."""
        return ('{"event_time":"%d","instrument":"%s","is_taker_buyer":%s,"size":"%s","price":"%s",'
                '"mark_price":"%s","index_price":"%s","interest_rate":"0.0","forward_price":"0.0",'
                '"trade_id":"%s","venue":"ORDERBOOK","is_liquidation":false,"trade_index":%d,"is_rpi":false}'
                % (self.time_ms(k) * 1000000, self.symbol, "true" if k % 2 == 0 else "false", self.qty(k),
                   self.price(k), self.price(k), self.price(k), self.trade_id(k), k % 3 + 1))

    def grvt_ws_json(self, k, sn):
        """A v1.trade feed frame's text with trade k, sequence number sn."""
        return ('{"stream":"v1.trade","selector":"%s@50","sequence_number":"%d","feed":%s,'
                '"prev_sequence_number":"%d"}' % (self.symbol, sn, self.grvt_trade_json(k), sn - 1))

    def hyperliquid_json(self, k):
        """One WsTrade (the trades channel's and recentTrades' element): tid a JSON number."""
        return ('{"coin":"%s","side":"%s","px":"%s","sz":"%s","time":%d,"hash":"0x%064x","tid":%s,'
                '"users":["0x%040x","0x%040x"]}' % (self.symbol, "B" if k % 2 == 0 else "A", self.price(k),
                                                    self.qty(k), self.time_ms(k), self._id_h + k,
                                                    self.trade_id(k), 1, 2))

    def lighter_json(self, k):
        """One element of a trade frame's "trades" (Lighter's WsTrade)."""
        tid = LIGHTER_ID0 + 2 * k
        return ('{"trade_id":%d,"trade_id_str":"%d","tx_hash":"%064x","type":"trade","market_id":%s,'
                '"size":"%s","price":"%s","usd_amount":"0","ask_id":%d,"bid_id":%d,"ask_account_id":1,'
                '"bid_account_id":2,"is_maker_ask":%s,"block_height":%d,"timestamp":%d,"transaction_time":%d}'
                % (tid, tid, self._id_h + k, self.symbol, self.qty(k), self.price(k), 2 * k, 2 * k + 1,
                   "true" if k % 2 == 0 else "false", 300000000 + k, self.time_ms(k), self.time_ms(k) * 1000))

    def lighter_ws_json(self, lo, hi):
        """A trade channel update with trades lo .. hi-1."""
        return ('{"channel":"trade:%s","liquidation_trades":[],"nonce":%d,"trades":[%s],"type":"update/trade"}'
                % (self.symbol, hi, ",".join(self.lighter_json(k) for k in range(lo, hi))))

    @staticmethod
    def kucoin_lots(k):
        return k % 999 + 1

    def kucoin_ws_json(self, k):
        """One /contractMarket/execution match frame with trade k."""
        seq = KUCOIN_SEQ0 + k
        return ('{"topic":"/contractMarket/execution:%s","type":"message","subject":"match","sn":%d,'
                '"data":{"symbol":"%s","sequence":%d,"side":"%s","size":%d,"price":"%s","takerOrderId":"t%d",'
                '"makerOrderId":"m%d","tradeId":"%d","ts":%d}}'
                % (self.symbol, seq, self.symbol, seq, "buy" if k % 2 == 0 else "sell", self.kucoin_lots(k),
                   self.price(k), k, k, KUCOIN_ID0 + k, self.time_ms(k) * 1000000))

    def paradex_sbe_fields(self, k):
        """The TradeEvent root block's fields of trade k but ts: (seq, tradeId, side, price
        mantissa, size mantissa, createdAt µs, tradeType), to follow ts in the block."""
        return (k + 1, int(self.trade_id(k)), 1 if k % 2 == 0 else 2, self.price_e8(k), self.qty_e8(k),
                self.time_ms(k) * 1000, 1)


def from_params(p, require_t0=False):
    """A Tape from a control request's JSON (venue, symbol, count, rate, start_id, t0_ms)."""
    if require_t0 and p.get("t0_ms") is None:
        raise ValueError("t0_ms is required (pass the WebSocket mock the same one)")
    return Tape(p["venue"], p["symbol"], p["count"], p["rate"], p.get("start_id"), p.get("t0_ms"))
