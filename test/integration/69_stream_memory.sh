#!/usr/bin/env bash
# A venue that sends an ever-deeper book: the stream worker's local books
# stay within perps_stats.stream_memory_limit (half of it for the books,
# shared by the markets), the deepest levels are trimmed and that is
# recorded; streaming goes on.  KuCoin's mock (level-2 changes one price at
# a time, test/mock/ws_venues/kucoin.py).  The expected book is the mock's
# own (its "book" action), cut by hand to the levels the budget allows.  TAP.
set -uo pipefail

STREAM_VENUE=kucoin
. "$(dirname "$0")/../lib/tap.sh"

KC=4
BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = $KC AND symbol = 'BTC')"
act_out() { curl -sf -X POST -H 'Content-Type: application/json' --data-binary "$1" "$PERPS_MOCK_WS_CONTROL/action"; }

# 4096 kB: 2 MB for the books of one market, a level is 2 x 81 bytes
# (price and quantity texts of PERPS_DECIMAL_MAX_LEN + 1): 2097152 / (2 x 162) = 6472 levels a side
LEVELS=6472
# only the stream's books in liquidity_depth for this market (earlier tests collected some)
q "DELETE FROM perps_stats.liquidity_depth WHERE market_id = $BTC" >/dev/null
curl -sf -X POST -d "{\"ws_url\":\"$PERPS_MOCK_WS_URL\"}" "$PERPS_MOCK_URL/_mock/config" >/dev/null
qs "UPDATE perps_stats.exchanges SET rest_url = '$PERPS_MOCK_URL/kucoin', ws_url = '$PERPS_MOCK_WS_URL' WHERE name = 'kucoin';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'kucoin' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_memory_limit = '4096kB';
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   SELECT pg_reload_conf();" >/dev/null
# subscribed: the WebSocket mock's kucoin session has the execution topic (nothing is sent before an action)
ok_until "curl -sf -X POST -H 'Content-Type: application/json' -d '{\"venue\":\"kucoin\",\"action\":\"state\"}' \"\$PERPS_MOCK_WS_CONTROL/action\" | jq -c '[.sessions[][] | select(. == \"/contractMarket/execution:XBTUSDTM\")] | length'" \
         "1" "the kucoin stream worker is subscribed" 60
# 7000 new bid levels, each deeper than the last, one change a frame: 50000.0, 49999.5, ...
# (the first of them makes the worker sync the book from the REST snapshot, the rest continue it)
python3 -c 'import json; print(json.dumps({"venue": "kucoin", "action": "book_delta",
    "changes": [["%.1f" % (50000 - i * 0.5), "buy", "10"] for i in range(7000)]}))' > "$PERPS_RUN/deep_book.json"
since=$(q "SELECT now()")
act_out "@$PERPS_RUN/deep_book.json" >/dev/null
# the venue's whole book now, and by hand the best $LEVELS bids of it
read -r mid deepest total <<<"$(act_out '{"venue":"kucoin","action":"book"}' | python3 -c "
import json, sys
from decimal import Decimal
b = json.load(sys.stdin)
# (the mock keeps the snapshot's prices as their JSON text, quotes and all)
bids = sorted((Decimal(p.strip(chr(34))) for p, q in b['bids']), reverse=True)
asks = sorted(Decimal(p.strip(chr(34))) for p, q in b['asks'])
print((bids[0] + asks[0]) / 2, bids[$LEVELS - 1], len(bids))")"
[ "$total" -gt "$LEVELS" ]; is "$?" "0" "the venue's book is deeper than the budget allows ($total bids)"

ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'info' AND source = 'stream' AND market_id = $BTC
           AND ts >= '$since' AND message LIKE 'XBTUSDTM book trimmed to its best $LEVELS levels a side (% deeper levels dropped): perps_stats.stream_memory_limit = 4096 kB%')" \
        "the trim is recorded: $LEVELS levels a side, from the budget" 30
# the stored depth sees the book as trimmed: its deepest bid is the ${LEVELS}th best of the venue's
ok_wait "SELECT round(max_bid_bps, 6) = round(($mid - $deepest) / $mid * 10000, 6)
           FROM perps_stats.liquidity_depth WHERE market_id = $BTC ORDER BY ts DESC LIMIT 1" \
        "the local book keeps the best $LEVELS bids: the stored max_bid_bps reaches $deepest, not deeper" 30
is "$(status "state || ' ' || parse_errors")" "streaming 0" "the worker streams on, no parse error"

qs "ALTER SYSTEM RESET perps_stats.stream_memory_limit; ALTER SYSTEM RESET perps_stats.book_snapshot_interval;
    ALTER SYSTEM RESET perps_stats.flush_interval; ALTER SYSTEM SET perps_stats.stream_workers = off;
    SELECT pg_reload_conf();
    UPDATE perps_stats.watchlist SET stream = false WHERE exchange = 'kucoin';" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the worker stops"
tap_done
