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
    id      binance: start_id + k (the aggregate trade id a, sequential);
            bybit: a UUID-looking text from sha1(symbol|k), version nibble 5
            and variant 8..b as Bybit's execIds look (not sequential).
    price   "<42000 + k % 997>.<(k * 7919) % 10**20, 20 digits>": 20 decimals,
            so that a client that goes through a double is seen.
    qty     "0.<k % 999 + 1, 3 digits>": 0.001 .. 0.999.
    side    k even: the taker bought (Binance m false, Bybit "Buy"); k odd: sold.
    binance f = 2 * a, l = f + k % 3 (the first and last plain trade ids).
    bybit   seq = 700000000000 + k; L (tick direction) from the integer part of
            the price against trade k-1 (ZeroPlusTick for k = 0).

rate (trades a second) may be fractional ("0.5"); times are worked out with
integers (rate as a fraction), so both processes agree to the millisecond.

The *_json helpers format one trade as the venue's wire text (string
formatting, no json.dumps: the stream mock emits 20 000 of them a second).
Standard library only.
"""

import hashlib
import time
from fractions import Fraction

VENUES = ("binance", "bybit")
BINANCE_START_ID = 7000000001
BYBIT_SEQ0 = 700000000000


def now_ms():
    return int(time.time() * 1000)


class Tape:
    def __init__(self, venue, symbol, count, rate, start_id=None, t0_ms=None):
        if venue not in VENUES:
            raise ValueError("no tape for venue %r (only %s)" % (venue, ", ".join(VENUES)))
        if not isinstance(symbol, str) or not symbol:
            raise ValueError("symbol must be a native symbol such as BTCUSDT")
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
        if self.venue == "binance":
            return self.start_id + k
        h = hashlib.sha1(b"%s|%d" % (self._sym_b, k)).hexdigest()
        return "%s-%s-5%s-%x%s-%s" % (h[:8], h[8:12], h[13:16], 8 | (int(h[16], 16) & 3), h[17:20], h[20:32])

    def index_of_id(self, tid):
        """Binance: the k of aggregate trade id tid (may be out of 0 .. count)."""
        return int(tid) - self.start_id

    @staticmethod
    def price(k):
        return "%d.%020d" % (42000 + k % 997, (k * 7919) % 10 ** 20)

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


def from_params(p, require_t0=False):
    """A Tape from a control request's JSON (venue, symbol, count, rate, start_id, t0_ms)."""
    if require_t0 and p.get("t0_ms") is None:
        raise ValueError("t0_ms is required (pass the WebSocket mock the same one)")
    return Tape(p["venue"], p["symbol"], p["count"], p["rate"], p.get("start_id"), p.get("t0_ms"))
