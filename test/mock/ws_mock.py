#!/usr/bin/env python3
"""perps_stats WebSocket mock: speaks RFC 6455 on 127.0.0.1 and replays each
venue's recorded stream frames, with faults on demand.

A venue is reached at ws://127.0.0.1:PORT/<venue>/<the venue's own path>
(exchanges.ws_url is pointed there); its behaviour lives in
test/mock/ws_venues/<venue>.py, a module with

    class Venue(ws_mock.VenueBase):
        def on_open(self, session): ...           # a client connected
        def on_text(self, session, text): ...     # a text message arrived
        def refuse(self, path): ...               # (status, body) refuses the handshake; None accepts
        def refuse_request(self, path, headers): ...  # the same, seeing the request's headers
                                                  # (lower-case names); by default refuse(path)
        def action(self, name, params): ...       # a control request; returns a dict

Control (HTTP, JSON, same port):
    POST /_ws/action   {"venue": "bybit", "action": NAME, ...}   venue actions, plus for
                       every venue: drop {"path": substring} (close the connections whose
                       path contains it, every connection without "path", without a close
                       frame; answers {"dropped": n}),
                       silence {"on": bool} (send nothing, not even pongs),
                       stall {"on": bool, "path": substring} (connections whose path contains
                       it, now or later, are sent nothing, as with silence, but the client's
                       messages are still handled; without "path": every connection;
                       {"on": false} without "path" ends every stall),
                       send {"frames": [text, ...], "frames_hex": [hex, ...]}, garbage, truncated, oversized {"bytes": N}
                       and, for the venues with a trade tape (test/mock/tape.py VENUES; see below):
                       tape, tape_status
    GET  /_ws/status   per venue: open sessions, connections so far, the last client messages
    GET  /_ws/health   200 ok

The trade tape (test/mock/tape.py): one deterministic sequence of trades per
(venue, symbol) that the REST mock serves too (POST /_mock/tape there with
the same parameters), so that a client can fetch again what it missed:

    tape {"symbol": "BTCUSDT" (paradex: "BTC-USD-PERP"), "count": N, "rate": trades/s, "start_id": first
         aggregate trade id (binance, default 7000000001), "t0_ms": trade 0's time
         (default now + 200 ms)}
         starts the venue's generator for the symbol, replacing (stopping) an
         earlier tape of the same symbol, and answers {"started": true} at once.
         As the wall clock passes trade k's time, trade k goes to every session
         subscribed to the symbol's trades at that moment (the venue module's
         own subscription state), in the venue's frames; trades due while no
         session is subscribed are generated all the same and go to nobody, as
         with a venue.  It wakes every TAPE_TICK_S and writes all that is due
         with one sendall a session.
         With "flood": P (trades a frame, where the venue's frames carry several),
         the whole tape instead goes at once from t0_ms, as fast as the sockets
         take it: its frames are encoded before t0_ms (the trades' times are
         still the tape's, from its rate).
    tape_status {"symbol": optional, default the latest tape}
         {"symbol", "generated": n, "count": N, "done": bool, "delivered":
         {"<session path>#<connection number>": trades written, ...},
         "max_lag_ms": the latest any trade went out after its time}

With --tls-cert/--tls-key it also serves wss:// on a second port, with a
certificate no client trusts: a client that verifies must refuse it.

Standard library only.  The framing is written here from RFC 6455: the
server sends unmasked frames and requires masked client frames.
"""

import argparse
import base64
import hashlib
import importlib.util
import json
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import tape as tape_mod  # noqa: E402  (test/mock/tape.py, shared with the REST mock)
ROOT = os.path.dirname(os.path.dirname(HERE))
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 16384
MAX_CLIENT_FRAME = 1 << 20


# The payloads served: test/payloads unless PERPS_PAYLOADS names another tree
# of the same layout (see test/mock/mock_exchange.py).
FIXTURES = os.environ.get("PERPS_PAYLOADS") or os.path.join(ROOT, "test", "payloads")


def fixture_text(rel):
    with open(os.path.join(FIXTURES, rel), "r", encoding="utf-8") as f:
        return f.read().strip()


def fixture_json(rel):
    return json.loads(fixture_text(rel))


def optional_fixture_json(rel):
    """The payload rel parsed, or None when the tree has none (the recorded
    tree lacks the frames no recording caught, the klines among them)."""
    try:
        return fixture_json(rel)
    except FileNotFoundError:
        return None


def frame(opcode, payload):
    """One unmasked server frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


class Session:
    def __init__(self, sock, venue, path, number=0):
        self.sock = sock
        self.venue = venue
        self.path = path
        self.number = number        # the venue's connection count when it opened (1, 2, ...)
        self.lock = threading.Lock()
        self.open = True
        self.state = {}

    @property
    def key(self):
        """"<path>#<number>": names the session in tape_status."""
        return "%s#%d" % (self.path, self.number)

    def send_bytes(self, data):
        if self.venue.silent or self.venue.stalled(self):
            return False
        with self.lock:
            if not self.open:
                return False
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                self.open = False
                return False

    def send_text(self, text):
        if isinstance(text, (dict, list)):
            text = json.dumps(text, separators=(",", ":"))
        return self.send_bytes(frame(0x1, text.encode("utf-8")))

    def drop(self):
        with self.lock:
            self.open = False
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()


class VenueBase:
    def __init__(self, name):
        self.name = name
        self.lock = threading.RLock()
        self.sessions = []
        self.silent = False
        self.connections = 0
        self.received = []
        self.trade_n = 0
        self.stall_paths = set()    # path substrings of stalled sessions ("" stalls all)
        self.tapes = {}             # symbol -> TapeRunner
        self.last_tape = None

    def stalled(self, session):
        paths = self.stall_paths
        return bool(paths) and any(p in session.path for p in paths)

    def sessions_open(self):
        with self.lock:
            self.sessions = [s for s in self.sessions if s.open]
            return list(self.sessions)

    def start_trades(self, session, key, params):
        """self.send_trades(session, key, params): in a thread of its own when paced
        (params["rate"] > 0), else at once.  Returns what it sent at once."""
        if float(params.get("rate", 0)) > 0:
            threading.Thread(target=self.send_trades, args=(session, key, params), daemon=True).start()
            return 0
        return self.send_trades(session, key, params)

    def paced_trades(self, session, params, price, qty, send, per=None):
        """Generated trades: params["count"] of them (default 1), params["per_frame"] a frame
        (per, when given, instead), at params["rate"] trades a second (0: as fast as the socket
        takes them), while the session is open; params["price"] and ["qty"] default to price and
        qty.  Each trade takes the venue's next trade number; send(ns, price, qty) sends the
        trades numbered ns and returns what it counts as sent (0 when the session refused).
        Returns the sum."""
        count = int(params.get("count", 1))
        per = per or max(1, int(params.get("per_frame", 1)))
        price = str(params.get("price", price))
        qty = str(params.get("qty", qty))
        rate = float(params.get("rate", 0))
        start = time.monotonic()
        sent = 0
        k = 0
        while k < count and session.open:
            if rate > 0:
                due = start + k / rate
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
            ns = []
            for _ in range(min(per, count - k)):
                with self.lock:
                    self.trade_n += 1
                    ns.append(self.trade_n)
                k += 1
            sent += send(ns, price, qty)
        return sent

    # subclasses override
    def refuse(self, path):
        """(status, body) to refuse the upgrade of a request for path (query included); None accepts."""
        return None

    def refuse_request(self, path, headers):
        """refuse(path), for a venue that also looks at the handshake's headers (lower-case names)."""
        return self.refuse(path)

    def on_open(self, session):
        pass

    def on_text(self, session, text):
        pass

    def action(self, name, params):
        raise KeyError(name)

    # the trade tape: a venue with one overrides both
    def tape_sessions(self, symbol):
        """The open sessions subscribed to the trades of native symbol (called with self.lock held)."""
        raise KeyError("tape")

    def tape_frames(self, tape, lo, hi, now_ms):
        """Bytes of the venue's frames carrying trades lo .. hi-1 of tape, sent at now_ms."""
        raise KeyError("tape")

    def tape_blobs(self, tape, lo, hi, now_ms, sessions):
        """{session: bytes to send it} for trades lo .. hi-1: by default tape_frames' bytes,
        the same for every session; a venue whose frames depend on the session (Paradex: the
        SBE schema version it negotiated) overrides this."""
        blob = self.tape_frames(tape, lo, hi, now_ms)
        return {s: blob for s in sessions}

    # faults every venue has
    def common_action(self, name, params):
        sessions = self.sessions_open()
        if name == "drop":
            path = params.get("path")
            hit = [s for s in sessions if path is None or str(path) in s.path]
            for s in hit:
                s.drop()
            return {"dropped": len(hit)}
        if name == "silence":
            self.silent = bool(params.get("on", True))
            return {"silent": self.silent}
        if name == "stall":
            path = str(params.get("path", ""))
            if params.get("on", True):
                self.stall_paths.add(path)
            elif "path" in params:
                self.stall_paths.discard(path)
            else:
                self.stall_paths.clear()
            return {"stalled": sorted(self.stall_paths),
                    "sessions": sum(1 for s in sessions if self.stalled(s))}
        if name == "tape":
            t = tape_mod.from_params(dict(params, venue=self.name))
            self.tape_sessions(t.symbol)            # KeyError for a venue without a tape
            old = self.tapes.get(t.symbol)
            if old is not None:
                old.stop.set()
            runner = TapeRunner(self, t, int(params.get("flood", 0)))
            self.tapes[t.symbol] = runner
            self.last_tape = t.symbol
            runner.start()
            return {"started": True, "symbol": t.symbol, "t0_ms": t.t0_ms}
        if name == "tape_status":
            runner = self.tapes.get(params.get("symbol") or self.last_tape)
            if runner is None:
                raise KeyError("no tape")
            return runner.status()
        if name == "send":
            n = 0
            for s in sessions:
                for f in params.get("frames", []):
                    n += s.send_text(f)
                # text frames given as hex: bytes a venue may send that are not UTF-8
                for f in params.get("frames_hex", []):
                    n += s.send_bytes(frame(0x1, bytes.fromhex(f)))
            return {"sent": n}
        if name == "garbage":
            return {"sent": sum(s.send_bytes(frame(0x1, b"\x7fnot json at all{")) for s in sessions)}
        if name == "truncated":
            text = params.get("frame") or '{"topic":"x","type":"snapshot","ts":1,"data":[]}'
            cut = text.encode()[: max(1, len(text) // 2)]
            return {"sent": sum(s.send_bytes(frame(0x1, cut)) for s in sessions)}
        if name == "oversized":
            size = int(params.get("bytes", 8 << 20))
            payload = b'{"pad":"' + b"x" * size + b'"}'
            return {"sent": sum(s.send_bytes(frame(0x1, payload)) for s in sessions)}
        return None


TAPE_TICK_S = 0.005


class TapeRunner:
    """The generator thread of one tape: see the module docstring."""

    def __init__(self, venue, tape, flood=0):
        self.venue = venue
        self.tape = tape
        self.flood = flood          # > 0: the whole tape at once, this many trades a chunk
        self.build_ms = None
        self.sent_ms = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.done = 0               # trades 0 .. done-1 have been generated
        self.finished = False
        self.delivered = {}         # session key -> trades written
        self.max_lag_ms = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()

    def status(self):
        with self.lock:
            return {"symbol": self.tape.symbol, "generated": self.done, "count": self.tape.count,
                    "done": self.finished, "delivered": dict(self.delivered), "max_lag_ms": self.max_lag_ms,
                    "build_ms": self.build_ms, "sent_ms": self.sent_ms}

    def run_flood(self):
        """The whole tape as fast as the sockets take it: every frame encoded
        first, to the sessions subscribed then, and written from t0_ms on with
        one sendall a session; sent_ms is when the last write returned."""
        t, venue = self.tape, self.venue
        b0 = tape_mod.now_ms()
        with venue.lock:
            sessions = [s for s in venue.tape_sessions(t.symbol) if s.open]
        parts = {s: [] for s in sessions}
        for lo in range(0, t.count, self.flood):
            hi = min(t.count, lo + self.flood)
            for s, b in venue.tape_blobs(t, lo, hi, t.time_ms(hi - 1), sessions).items():
                parts[s].append(b)
        blobs = {s: b"".join(p) for s, p in parts.items()}
        self.build_ms = tape_mod.now_ms() - b0
        wait = (t.t0_ms - tape_mod.now_ms()) / 1000.0
        if wait > 0 and self.stop.wait(wait):
            return
        sent = [s.key for s in sessions if s.send_bytes(blobs[s])]
        with self.lock:
            self.sent_ms = tape_mod.now_ms()
            self.done = t.count
            self.finished = True
            for key in sent:
                self.delivered[key] = t.count

    def run(self):
        t, venue = self.tape, self.venue
        if self.flood > 0:
            self.run_flood()
            return
        while not self.stop.is_set() and self.done < t.count:
            now = tape_mod.now_ms()
            n = t.generated(now)
            if n > self.done:
                lo = self.done
                with venue.lock:
                    sessions = [s for s in venue.tape_sessions(t.symbol) if s.open]
                sent = []
                if sessions:
                    blobs = venue.tape_blobs(t, lo, n, now, sessions)
                    if self.stop.is_set():
                        break
                    sent = [s.key for s in sessions if s.send_bytes(blobs[s])]
                with self.lock:
                    self.done = n
                    self.max_lag_ms = max(self.max_lag_ms, tape_mod.now_ms() - t.time_ms(lo))
                    for key in sent:
                        self.delivered[key] = self.delivered.get(key, 0) + n - lo
                if n >= t.count:
                    break
            wait = (t.time_ms(self.done) - tape_mod.now_ms()) / 1000.0
            self.stop.wait(min(max(wait, TAPE_TICK_S), 0.05))
        with self.lock:
            self.finished = self.done >= t.count


VENUES = {}


def load_venues():
    vdir = os.path.join(HERE, "ws_venues")
    for fn in sorted(os.listdir(vdir)):
        if not fn.endswith(".py") or fn.startswith("_"):
            continue
        name = fn[:-3]
        spec = importlib.util.spec_from_file_location("ws_venue_" + name, os.path.join(vdir, fn))
        mod = importlib.util.module_from_spec(spec)
        mod.ws = sys.modules[__name__]      # the venue module's handle on this one
        spec.loader.exec_module(mod)
        VENUES[name] = mod.Venue(name)


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def read_client_frame(sock):
    """(fin, opcode, payload) of one masked client frame."""
    b0, b1 = read_exact(sock, 2)
    fin, opcode = b0 & 0x80, b0 & 0x0F
    if not b1 & 0x80:
        raise ConnectionError("unmasked client frame")
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(sock, 8))[0]
    if n > MAX_CLIENT_FRAME:
        raise ConnectionError("client frame too large")
    mask = read_exact(sock, 4)
    data = bytearray(read_exact(sock, n))
    for i in range(n):
        data[i] ^= mask[i & 3]
    return fin, opcode, bytes(data)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        tls = getattr(self.server, "tls", None)
        if tls is not None:
            try:
                sock = self.request = tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                return          # the client refused our certificate (or spoke plain text)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                return
            head += chunk
            if len(head) > MAX_HEAD:
                return
        head, _, body = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, path, _ = lines[0].split(" ", 2)
        except ValueError:
            return
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers[k.strip().lower()] = v.strip()
        if path.startswith("/_ws/"):
            n = int(headers.get("content-length", "0") or 0)
            while len(body) < n:
                body += sock.recv(n - len(body))
            self.control(sock, method, path, body)
            return
        if headers.get("upgrade", "").lower() != "websocket" or "sec-websocket-key" not in headers:
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        vname = path.strip("/").split("/", 1)[0]
        venue = VENUES.get(vname)
        if venue is None:
            sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        refusal = venue.refuse_request(path, headers)
        if refusal is not None:
            code, body = refusal
            sock.sendall(b"HTTP/1.1 %d Refused\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % (code, len(body)) + body)
            return
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + WS_GUID).encode()).digest())
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        with venue.lock:
            venue.connections += 1
            session = Session(sock, venue, path, venue.connections)
            venue.sessions.append(session)
            venue.on_open(session)
        self.serve_ws(session)

    def serve_ws(self, session):
        venue = session.venue
        parts = []
        try:
            while session.open:
                fin, opcode, data = read_client_frame(session.sock)
                if opcode == 0x8:
                    session.send_bytes(frame(0x8, data[:2]))
                    break
                if opcode == 0x9:
                    session.send_bytes(frame(0xA, data))
                    continue
                if opcode in (0x1, 0x2, 0x0):
                    parts.append(data)
                    if not fin:
                        continue
                    text = b"".join(parts).decode("utf-8", "replace")
                    parts = []
                    with venue.lock:
                        venue.received.append(text)
                        del venue.received[:-1000]
                        if not venue.silent:
                            venue.on_text(session, text)
        except (ConnectionError, OSError):
            pass
        finally:
            session.open = False
            try:
                session.sock.close()
            except OSError:
                pass

    def control(self, sock, method, path, body):
        status, out = 200, {}
        try:
            if path == "/_ws/health":
                out = "ok"
            elif path.startswith("/_ws/status"):
                out = {n: {"sessions": len(v.sessions_open()), "connections": v.connections,
                           "silent": v.silent, "stalled": sorted(v.stall_paths),
                           "received": v.received[-50:]}
                       for n, v in VENUES.items()}
            elif path == "/_ws/action" and method == "POST":
                req = json.loads(body or b"{}")
                venue = VENUES[req["venue"]]
                name = req["action"]
                with venue.lock:
                    out = venue.common_action(name, req)
                    if out is None:
                        out = venue.action(name, req)
            else:
                status, out = 404, {"error": "no such control path"}
        except (KeyError, ValueError, TypeError) as e:
            status, out = 400, {"error": repr(e)}
        data = json.dumps(out).encode()
        sock.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % (status, len(data)) + data)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--tls-cert", help="also serve wss:// with this self-signed certificate (and --tls-key)")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-port-file")
    args = ap.parse_args()
    load_venues()
    srv = Server(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]
    if args.tls_cert:
        tsrv = Server(("127.0.0.1", 0), Handler)
        tsrv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tsrv.tls.load_cert_chain(args.tls_cert, args.tls_key)
        threading.Thread(target=tsrv.serve_forever, daemon=True).start()
        with open(args.tls_port_file + ".tmp", "w") as f:
            f.write(str(tsrv.server_address[1]))
        os.rename(args.tls_port_file + ".tmp", args.tls_port_file)
    print("ws mock on port %d, venues: %s, payloads %s" % (port, ",".join(sorted(VENUES)), FIXTURES),
          file=sys.stderr, flush=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
