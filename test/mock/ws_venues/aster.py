"""Aster futures market streams (wss://fstream.asterdex.com) for the WebSocket
mock, reached at /aster/stream.  `ws` is ws_mock, set by the loader.

Aster serves Binance's USD-M market streams (github.com/asterdex/api-docs,
"Websocket Market Streams"), so this module is the Binance one
(ws_venues/binance.py: SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS, the
{"stream","data"} wrapping, the diff depth events lined up with the REST
snapshot's lastUpdateId, the book_delta, replay, trades and tape actions)
with what Aster documents differently:

    one combined-stream endpoint, /stream (the raw /ws/<name> endpoint is
                     not mocked: the client does not use it); there are no
                     /public and /market tiers, every stream is served on it
    at most 200 streams a connection (Binance: 1024): a SUBSCRIBE that goes
                     over them closes the connection, as a 10th message in
                     a second does
    replay           also sends <sym>@bookTicker (best bid and ask with
                     their quantities) to its subscribers
    the payloads     test/payloads/websocket/aster (the project's own frames,
                     written from Aster's documentation) and the REST mock's
                     depth snapshots (test/mock/venues/aster.py,
                     DEPTH_FIXTURES); the tape is the venue "aster" of
                     test/mock/tape.py (aggregate trade ids as Binance's)

The venue's own faults go through the actions: an error answer (send with
subscribe.error.json's frame), a gap in the update ids (book_delta with
skip), a crossed book (book_delta with a bid at or above the best ask).
"""

import importlib.util
import os

D = "websocket/aster/"
_HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    mod.ws = ws  # noqa: F821 (ws is injected by the loader)
    spec.loader.exec_module(mod)
    return mod


_bn = _load("ws_venue_binance_for_aster", os.path.join(_HERE, "binance.py"))


class Venue(_bn.Venue):
    MAX_STREAMS = 200
    REPLAY_KINDS = ("aggTrade", "markPrice@1s", "ticker", "bookTicker")

    def __init__(self, name):
        ws.VenueBase.__init__(self, name)  # noqa: F821
        # the project's own payloads; a payload tree without them (the recorded one has no
        # Aster frames) leaves the venue without them
        fx = ws.optional_fixture_json  # noqa: F821
        rest = _load("rest_venue_aster", os.path.join(os.path.dirname(_HERE), "venues", "aster.py"))
        self.snapshots = {s: b for s, b in ((s, fx(rel)) for s, rel in rest.DEPTH_FIXTURES.items()) if b}
        frames = {k: fx(D + f) for k, f in (("aggTrade", "aggTrade.json"), ("markPrice@1s", "markPriceUpdate.json"),
                                            ("ticker", "24hrTicker.json"), ("bookTicker", "bookTicker.json"),
                                            ("depth", "depthUpdate.json"), ("open", "kline.open.json"),
                                            ("closed", "kline.closed.json"))}
        self.recorded = {k: [frames[k]["data"]] if frames[k] else [] for k in self.REPLAY_KINDS}
        # BTCUSDT's diff event older than its snapshot (the others get a generated one)
        self.recorded_depth = {"BTCUSDT": frames["depth"]["data"]} if frames["depth"] else {}
        self.klines = [frames[k]["data"] for k in ("open", "closed") if frames[k]]
        self.book = {}

    def recorded_for(self, kind, sym):
        return super().recorded_for(kind, sym) if self.recorded.get(kind) else None

    def send_event(self, session, sym, kind, data):
        return False if data is None else super().send_event(session, sym, kind, data)

    def tier(self, session):
        return session.path.split("?", 1)[0].rstrip("/")[len("/aster"):]

    def on_open(self, session):
        if self.tier(session) != "/stream":
            session.drop()

    def wrong_tier(self, session, params):
        return []
