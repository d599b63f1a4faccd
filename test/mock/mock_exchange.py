#!/usr/bin/env python3
"""perps_stats mock exchange: serves each venue's documented REST paths on
127.0.0.1 from recorded payloads, with fault injection on demand.

Every venue lives under a path prefix: exchanges.rest_url is pointed at
http://127.0.0.1:PORT/<venue>, and the venue's documented paths follow
unchanged (/fapi/v1/depth, /v5/market/tickers, /info, ...).  The routes of a
venue are in test/mock/venues/<venue>.py, a module with

    def register(venue):            # venue: a Venue (see below)
        venue.route("GET", r"/fapi/v1/depth", handler)

    def handler(req):               # req: a Request
        return 200, body            # body: bytes, str, or a JSON-able object
        # or (status, body, {"Header": "value"})

Control endpoints (JSON), under /_mock:
    POST   /_mock/faults   {"venue": "bybit", "path": "regex", "kind": KIND, "count": N, ...}
           KIND: status (with "status", optional "retry_after", "body" or "body_hex": raw
                 bytes, such as text that is not UTF-8), slow ("delay_ms"),
                 truncate, garbage, wrong_types, oversize ("bytes"), drop (close the socket)
           count: how many matching requests get the fault (default 1; -1 = forever)
           after: let this many matching requests through first (default 0)
    DELETE /_mock/faults   clears every fault
    POST   /_mock/config   {"latency_ms": 100}   added to every venue answer
    POST   /_mock/config   {"arrival_jitter_ms": 400}   each request reaches the venue (and
                           its log) after a random 0..400 ms: a slow, uneven network
                           {"bench_markets": true}  every venue also lists and answers for
                           the BENCH_SYMBOLS (see below); off by default, so that the
                           tests see the recorded markets lists unchanged
                           {"listing": {"binance": {"XRPUSDT": 1712620800000}}}  listing
                           times (ms) per venue and native symbol: a venue's generated
                           history (klines, trades) starts there, where the venue module
                           says it honours it (listing_ms); replaces the whole map,
                           {"listing": {}} clears it
                           {"ws_url": "ws://127.0.0.1:PORT"}  where the WebSocket mock
                           (test/mock/ws_mock.py) runs, for venues whose REST answers
                           point at their stream (KuCoin's bullet-public) or must
                           agree with it (a book snapshot continuing the stream);
                           null: not known (the default). Read with ws_url().
    POST   /_mock/tape     {"venue": "binance", "symbol": "BTCUSDT", "count": N, "rate": trades/s,
                            "start_id": 7000000001, "t0_ms": ms}   registers a trade tape
                           (test/mock/tape.py; t0_ms required: the WebSocket mock's tape
                           action is given the same parameters), replacing the symbol's
                           earlier one; answers {"ok": true, "tape": {the parameters}}.
                           While registered, the venue's trade routes serve the tape's
                           trades that exist by now (time <= now), in place of the
                           venue module's own: binance /fapi/v1/aggTrades, bybit
                           /v5/market/recent-trade, paradex /v1/trades (see those
                           modules).  Faults apply
                           to them as to every route.
    GET    /_mock/tape     the registered tapes, with how many trades exist now
    DELETE /_mock/tape     clears every tape
    GET    /_mock/log      the request log [{venue, method, path, query, t}], ?venue=
    DELETE /_mock/log      clears it
    GET    /_mock/health   200 "ok"

Standard library only: it runs wherever python3 does.
"""

import argparse
import hashlib
import importlib.util
import json
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import tape as tape_mod  # noqa: E402  (test/mock/tape.py, shared with the WebSocket mock)


# The payloads served: the project's own (test/payloads, written from the
# venues' documentation) unless PERPS_PAYLOADS names another tree of the same
# layout (test/services/recorded.sh points a second mock at the recorded
# payloads of ../shared/fixtures).
FIXTURES = os.environ.get("PERPS_PAYLOADS") or os.path.join(ROOT, "test", "payloads")

# The benchmark's universe (bench/cases/collect.sh): 20 global symbols that
# every venue lists and answers for (ticker, open interest, funding, book)
# once /_mock/config {"bench_markets": true} is set.  Where a venue has no
# recording for one of them, its module generates a DOCUMENTED-FORMAT
# payload deterministically from the symbol (bench_price, bench_hash);
# recorded payloads keep being served as they are.
BENCH_SYMBOLS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "DOT", "LTC",
                 "BCH", "ATOM", "TRX", "UNI", "FIL", "BNB", "NEAR", "XLM", "ETC", "AAVE")


def bench_symbols():
    """The BENCH_SYMBOLS when bench_markets is on, else ()."""
    return BENCH_SYMBOLS if MOCK.bench_markets else ()


def ws_url():
    """The WebSocket mock's ws://host:port (POST /_mock/config {"ws_url": ...}), or None."""
    return MOCK.ws_url


def bench_hash(*parts):
    """A deterministic integer from the parts (sha1, 48 bits)."""
    return int(hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:12], 16)


def bench_price(sym):
    """A deterministic price for a generated payload: 1.0000 .. 9999.9999 with 4
    decimals, as a Decimal; each venue quantizes it to its own tick."""
    return Decimal(bench_hash(sym, "price") % 99990000 + 10000).scaleb(-4)


def tape(venue, native):
    """The Tape registered (POST /_mock/tape) for a venue's native symbol, or None."""
    with MOCK.lock:
        return MOCK.tapes.get((venue, native))


def listing_ms(venue, native):
    """The listing time (ms) /_mock/config set for a venue's native symbol, or None."""
    with MOCK.lock:
        v = MOCK.listing.get(venue) or {}
        t = v.get(native)
    return int(t) if t is not None else None


def fixture(rel):
    """Bytes of a payload, e.g. fixture('binance/fetchOrderBook.swap.json')."""
    with open(os.path.join(FIXTURES, rel), "rb") as f:
        return f.read()


def fixture_json(rel):
    return json.loads(fixture(rel))


class Request:
    def __init__(self, method, path, query, body, headers, match):
        self.method = method
        self.path = path            # the venue path, prefix removed
        self.query = query          # dict: name -> last value
        self.body = body            # bytes
        self.headers = headers
        self.match = match          # the route's re.Match

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def arg(self, name, default=None):
        return self.query.get(name, default)


class Venue:
    def __init__(self, name):
        self.name = name
        self.routes = []
        self.state = {}             # per-venue scratch space for handlers

    def route(self, method, pattern, handler):
        self.routes.append((method, re.compile(pattern + r"\Z"), handler))

    def find(self, method, path):
        for m, rx, h in self.routes:
            if m == method:
                mt = rx.match(path)
                if mt:
                    return h, mt
        return None, None


class Mock:
    def __init__(self):
        self.venues = {}
        self.lock = threading.Lock()
        self.faults = []
        self.log = []
        self.latency_ms = 0
        self.arrival_jitter_ms = 0
        self.bench_markets = False
        self.listing = {}           # venue -> native symbol -> listing time (ms)
        self.ws_url = None
        self.tapes = {}             # (venue, native symbol) -> tape.Tape

    def load_venues(self, names=None):
        # venue modules do `from mock_exchange import fixture, fixture_json, Request`
        sys.modules.setdefault("mock_exchange", sys.modules[__name__])
        vdir = os.path.join(HERE, "venues")
        for fn in sorted(os.listdir(vdir)) if os.path.isdir(vdir) else []:
            if not fn.endswith(".py") or fn.startswith("_"):
                continue
            name = fn[:-3]
            if names and name not in names:
                continue
            spec = importlib.util.spec_from_file_location("perps_mock_" + name, os.path.join(vdir, fn))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            v = Venue(name)
            mod.register(v)
            self.venues[name] = v

    def take_fault(self, venue, path):
        with self.lock:
            for f in self.faults:
                if f.get("venue") not in (None, venue):
                    continue
                if f.get("path") and not re.search(f["path"], path):
                    continue
                if f["count"] == 0:
                    continue
                # "after": N lets the first N matching requests through
                if f.get("after", 0) > 0:
                    f["after"] -= 1
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                return dict(f)
        return None


MOCK = Mock()


def _wrong_types(obj):
    """Turns every string into a number-ish object and every number into a list."""
    if isinstance(obj, dict):
        return {k: _wrong_types(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_wrong_types(v) for v in obj]
    if isinstance(obj, str):
        return {"unexpected": obj}
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return [obj]
    return obj


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "perps-mock/1"

    def log_message(self, fmt, *args):
        if os.environ.get("PERPS_MOCK_VERBOSE"):
            sys.stderr.write("mock: " + (fmt % args) + "\n")

    def _send(self, status, body, headers=None, ctype="application/json"):
        if isinstance(body, (dict, list)) or body is None:
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _control(self, method, path, query, body):
        if path == "/_mock/health":
            return self._send(200, "ok", ctype="text/plain")
        if path == "/_mock/faults":
            if method == "POST":
                f = json.loads(body or b"{}")
                f.setdefault("count", 1)
                with MOCK.lock:
                    MOCK.faults.append(f)
                return self._send(200, {"ok": True})
            if method == "DELETE":
                with MOCK.lock:
                    MOCK.faults.clear()
                return self._send(200, {"ok": True})
        if path == "/_mock/config" and method == "POST":
            cfg = json.loads(body or b"{}")
            if "latency_ms" in cfg:
                MOCK.latency_ms = int(cfg["latency_ms"])
            if "arrival_jitter_ms" in cfg:
                MOCK.arrival_jitter_ms = int(cfg["arrival_jitter_ms"])
            if "bench_markets" in cfg:
                MOCK.bench_markets = bool(cfg["bench_markets"])
            if "listing" in cfg:
                with MOCK.lock:
                    MOCK.listing = {str(v): {str(s): int(t) for s, t in (m or {}).items()}
                                    for v, m in (cfg["listing"] or {}).items()}
            if "ws_url" in cfg:
                MOCK.ws_url = cfg["ws_url"] or None
            return self._send(200, {"ok": True, "latency_ms": MOCK.latency_ms,
                                    "bench_markets": MOCK.bench_markets, "listing": MOCK.listing,
                                    "ws_url": MOCK.ws_url})
        if path == "/_mock/tape":
            if method == "POST":
                try:
                    t = tape_mod.from_params(json.loads(body or b"{}"), require_t0=True)
                except (KeyError, ValueError, TypeError) as e:
                    return self._send(400, {"error": repr(e)})
                with MOCK.lock:
                    MOCK.tapes[(t.venue, t.symbol)] = t
                return self._send(200, {"ok": True, "tape": t.params()})
            if method == "GET":
                with MOCK.lock:
                    tapes = list(MOCK.tapes.values())
                return self._send(200, [dict(t.params(), generated=t.generated()) for t in tapes])
            if method == "DELETE":
                with MOCK.lock:
                    MOCK.tapes.clear()
                return self._send(200, {"ok": True})
        if path == "/_mock/log":
            if method == "GET":
                v = query.get("venue")
                with MOCK.lock:
                    rows = [r for r in MOCK.log if v is None or r["venue"] == v]
                return self._send(200, rows)
            if method == "DELETE":
                with MOCK.lock:
                    MOCK.log.clear()
                return self._send(200, {"ok": True})
        return self._send(404, {"error": "no such control endpoint"})

    def _dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        body = self._body()
        if url.path.startswith("/_mock/"):
            return self._control(method, url.path, query, body)

        parts = url.path.split("/", 2)
        vname = parts[1] if len(parts) > 1 else ""
        vpath = "/" + (parts[2] if len(parts) > 2 else "")
        venue = MOCK.venues.get(vname)
        if venue is None:
            return self._send(404, {"error": "unknown venue %r" % vname})
        if MOCK.arrival_jitter_ms:
            time.sleep(random.uniform(0, MOCK.arrival_jitter_ms) / 1000.0)
        with MOCK.lock:
            MOCK.log.append({"venue": vname, "method": method, "path": vpath,
                             "query": query, "body": body.decode("utf-8", "replace"),
                             "t": time.time()})
        if MOCK.latency_ms:
            time.sleep(MOCK.latency_ms / 1000.0)

        fault = MOCK.take_fault(vname, vpath)
        if fault and fault["kind"] == "status":
            headers = {}
            if "retry_after" in fault:
                headers["Retry-After"] = fault["retry_after"]
            body = fault.get("body", {"error": "injected fault"})
            if "body_hex" in fault:
                body = bytes.fromhex(fault["body_hex"])
            return self._send(int(fault.get("status", 500)), body, headers)
        if fault and fault["kind"] == "slow":
            time.sleep(int(fault.get("delay_ms", 5000)) / 1000.0)
        if fault and fault["kind"] == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None

        handler, match = venue.find(method, vpath)
        if handler is None:
            return self._send(404, {"error": "no mock route for %s %s" % (method, vpath)})
        try:
            res = handler(Request(method, vpath, query, body, self.headers, match))
        except Exception as e:  # a bug in a mock route is a 500, visibly
            return self._send(500, {"error": "mock handler failed: %r" % (e,)})
        status, rbody, headers = (res + ({},))[:3] if len(res) == 2 else res
        if isinstance(rbody, (dict, list)):
            rbody = json.dumps(rbody).encode()
        elif isinstance(rbody, str):
            rbody = rbody.encode()

        if fault:
            k = fault["kind"]
            if k == "truncate":
                rbody = rbody[: max(1, len(rbody) // 2)]
            elif k == "garbage":
                rbody = b"<html>502 Bad Gateway</html>\x00\xff{"
            elif k == "wrong_types":
                try:
                    rbody = json.dumps(_wrong_types(json.loads(rbody))).encode()
                except ValueError:
                    pass
            elif k == "oversize":
                n = int(fault.get("bytes", 100 * 1024 * 1024))
                rbody = b'{"pad":"' + b"x" * n + b'"}'
        return self._send(status, rbody, headers)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--venues", nargs="*", help="only these venue modules")
    args = ap.parse_args()
    MOCK.load_venues(args.venues)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 256
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    sys.stderr.write("mock exchange on 127.0.0.1:%d, venues: %s\n" % (port, ", ".join(sorted(MOCK.venues))))
    srv.serve_forever()


if __name__ == "__main__":
    main()
