#!/usr/bin/env bash
# perps-test: serial (a venue at full speed: test/run.sh runs it alone)
# Trade continuity of the stream workers against mocks that behave like the
# venues (test/mock/tape.py): a tape of numbered trades generated at a fixed
# rate whether or not anyone is connected, sent to every subscribed
# connection, and served over REST by id and by time with the same values.
#
#   Binance (aggregate trade ids are sequential; two connections):
#     a) a flood at 20 000 trades/s, no drop: every trade stored once
#     b) the same with every connection dropped midway: every trade stored
#        once, the missed ones through the REST refetch by id
#     c) the refetch endpoint failing: one gap row naming exactly the ids
#        that are missing, in the venue's time
#     d) the book connection dropped: the trade connection keeps streaming,
#        no gap, no refetch
#   Bybit (trade ids are UUIDs; one connection; REST has only the most
#   recent 1000 trades), and Paradex (opaque ids, SBE frames; REST pages
#   its history by time and cursor):
#     a) a flood, no drop: every trade stored once
#     b) the connection dropped midway: the missed trades refetched from
#        the most recent ones, every trade stored once
#     c) the refetch failing: one gap row, by time, from the last trade
#        stored before the drop to the first after it
#
# Expected values come from the tape's definition (trade k: id, time, price,
# qty), never from what the worker wrote.  TAP.
set -uo pipefail

. "$(dirname "$0")/../lib/tap.sh"
# under valgrind the worker is tens of times slower: so are the tapes (their counts and rates)
SC=1; [ "$SLOW" -gt 1 ] && SC=20

ctl() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$1"; }
# tape VENUE SYMBOL COUNT RATE START_ID: the same tape for the stream and for REST, starting in 300 ms
tape() {
    local t0=$(( $(date +%s%3N) + 300 ))
    local p="{\"venue\":\"$1\",\"symbol\":\"$2\",\"count\":$3,\"rate\":$4,\"start_id\":$5,\"t0_ms\":$t0}"
    ctl "$PERPS_MOCK_URL/_mock/tape" "$p" >/dev/null || echo "# REST tape refused: $p" >&2
    ctl "$PERPS_MOCK_WS_CONTROL/action" "${p%\}},\"action\":\"tape\"}" >/dev/null || echo "# stream tape refused: $p" >&2
    echo "$t0"
}
tape_done() {   # tape_done VENUE SYMBOL: the generator finished
    curl -sf -X POST -H 'Content-Type: application/json' -d "{\"venue\":\"$1\",\"action\":\"tape_status\",\"symbol\":\"$2\"}" \
        "$PERPS_MOCK_WS_CONTROL/action" | python3 -c 'import json,sys; print(json.load(sys.stdin)["done"])'
}
# trade k of a tape as the venue defines it (test/mock/tape.py's docstring), worked out here
tape_trade() {  # tape_trade K T0 RATE -> "time_ms price qty side"
    python3 -c '
import sys
k, t0, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(t0 + k * 1000 // rate, "%d.%020d" % (42000 + k % 997, (k * 7919) % 10**20), "0.%03d" % (k % 999 + 1),
      "buy" if k % 2 == 0 else "sell")' "$1" "$2" "$3"
}
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }
# gap_by_time EXCHANGE_ID MARKET_SQL T0 RATE SINCE LABEL: the one gap row of a venue without
# sequential ids runs from the last trade stored before the drop to the first after it: the two
# stored neighbours furthest apart in time (the trades come 1000 / RATE ms apart)
gap_by_time() {
    local before after
    read -r before after <<<"$(q "WITH s AS (SELECT DISTINCT $(ms ts) AS t FROM perps_stats.trades WHERE market_id = $2 AND ts >= to_timestamp($3 / 1000.0)),
                                  g AS (SELECT t, lead(t) OVER (ORDER BY t) AS nxt FROM s)
                             SELECT t || ' ' || nxt FROM g WHERE nxt - t > 2 * 1000 / $4 ORDER BY nxt - t DESC LIMIT 1")"
    is "$(q "SELECT $(ms range_start) || ' ' || $(ms range_end) || ' ' || (first_missing_id IS NULL) FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = 'gap' AND exchange_id = $1 AND ts >= '$5'")" \
       "$before $after true" "$6 one gap row by time: from the last trade stored before the drop to the first after it (no ids: they are not sequential)"
}
stored_ok() {   # stored_ok MARKET_SQL FROM_TS_MS N: count, distinct ids, the tape's time span
    q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades WHERE market_id = $1 AND ts >= to_timestamp($2 / 1000.0)"
}

urls0=$(q "SELECT string_agg(name || '=' || rest_url || ' ' || ws_url, ';' ORDER BY name) FROM perps_stats.exchanges WHERE name IN ('binance', 'bybit', 'paradex')")
streamed0=$(q "SELECT coalesce(string_agg(quote_literal(exchange || '/' || symbol), ','), '''''') FROM perps_stats.watchlist WHERE stream")
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/binance', rest_url = '$PERPS_MOCK_URL/binance' WHERE name = 'binance';
   UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/bybit/v5/public/linear', rest_url = '$PERPS_MOCK_URL/bybit' WHERE name = 'bybit';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'binance' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 3600;
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   SELECT pg_reload_conf();" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null

BN="(SELECT id FROM perps_stats.markets WHERE exchange_id = 1 AND symbol = 'BTC')"
BY="(SELECT id FROM perps_stats.markets WHERE exchange_id = 2 AND symbol = 'BTC')"
ev() { q "SELECT count(*) FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = '$1' AND exchange_id = $2 AND ts >= '$3'"; }

ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'binance'" \
        "binance: the stream worker streams from the mock (two connections)" 30
# the venue's ids go on from the last one stored (the worker took it up when it started)
ID0=$(q "SELECT coalesce(max(trade_id::bigint) + 1, 9000000001) FROM perps_stats.trades
         WHERE market_id = $BN AND trade_id ~ '^[0-9]{1,18}$' AND ts > now() - interval '1 hour'")
q "DELETE FROM perps_stats.trades WHERE market_id = $BN" >/dev/null

# ---- binance a) 20 000 trades/s, no drop ----
N=$((60000 / SC)) R=$((20000 / SC))
t0=$(tape binance BTCUSDT $N $R $ID0)
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0" \
        "binance a) $N trades generated at $R/s are all stored" 60
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) || ' ' || min(trade_id::bigint) || ' ' || max(trade_id::bigint) FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0")" \
   "$N $N $ID0 $((ID0 + N - 1))" "binance a) each once: ids $ID0 .. $((ID0 + N - 1))"
k=$((31337 / SC))
is "$(q "SELECT $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $BN AND trade_id = '$((ID0 + k))'")" \
   "$(tape_trade $k "$t0" $R)" "binance a) trade k = $k: its time, its 20-decimal price, qty and side exactly as the tape defines them"
is "$(q "SELECT refetches || ' ' || trade_gaps FROM perps_stats.stream_status WHERE exchange = 'binance'")" "0 0" \
   "binance a) no refetch, no gap"

# ---- binance b) every connection dropped midway: the refetch by id fills the gap ----
since=$(q "SELECT now()")
ID0=$((ID0 + N)); N=$((60000 / SC))
t0=$(tape binance BTCUSDT $N $R $ID0)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0" 30
act '{"venue":"binance","action":"drop"}'
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0" \
        "binance b) with both connections dropped midway, all $N trades are stored" 60
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) || ' ' || min(trade_id::bigint) || ' ' || max(trade_id::bigint) FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0")" \
   "$N $N $ID0 $((ID0 + N - 1))" "binance b) each once"
is "$(q "SELECT refetches > 0 AND trades_refetched > 0 AND trade_gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'binance'")" "t" \
   "binance b) the missed trades came through the REST refetch, no gap left"
is "$(ev disconnect 1 "$since") $(ev reconnect 1 "$since") $(ev gap 1 "$since")" "2 2 0" \
   "binance b) a disconnect and a reconnect row for each of the two connections, no gap row"
is "$(q "SELECT count(*) FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = 'reconnect' AND exchange_id = 1 AND ts >= '$since' AND message LIKE '%/market/stream%'
           AND range_start < range_end AND range_end - range_start < interval '20 s'")" "1" \
   "binance b) the trade connection's reconnect row spans the venue's time from the last message before the drop to the first after it"

# ---- binance c) the refetch fails: the gap row names the missing ids exactly ----
since=$(q "SELECT now()")
# (at 5000/s the tape lasts 8 s: the worker learns of the gap from the first trade after it
# reconnects, so trades must still come then, as they do on a venue; at 20000/s a slow
# reconnect could find the tape over)
ID0=$((ID0 + N)); N=$((40000 / SC)) R=$((5000 / SC))
# one HTTP retry a page: the worker's own four tries (1, 2, 4 s apart) give up within about
# 10 s, not the 16 to 32 s of five backed-off retries a try, which a loaded machine stretched past the wait
qs "ALTER SYSTEM SET perps_stats.http_max_retries = 1; SELECT pg_reload_conf();" >/dev/null
ctl "$PERPS_MOCK_URL/_mock/faults" '{"venue":"binance","path":"/fapi/v1/aggTrades","kind":"status","status":503,"count":-1}' >/dev/null
t0=$(tape binance BTCUSDT $N $R $ID0)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0" 30
act '{"venue":"binance","action":"drop","path":"/market/stream"}'
ok_wait "SELECT trade_gaps = 1 FROM perps_stats.stream_status WHERE exchange = 'binance'" \
        "binance c) with aggTrades answering 503, the refetch gives up and records a gap" 60
ok_until "tape_done binance BTCUSDT" "True" "binance c) the venue finished its tape" 30
sleep 1
# the ids missing from the table, worked out from the tape's range
missing=$(q "SELECT min(i) || ' ' || max(i) || ' ' || count(*) FROM generate_series($ID0::bigint, $((ID0 + N - 1))) i
             WHERE NOT EXISTS (SELECT 1 FROM perps_stats.trades t WHERE t.market_id = $BN AND t.trade_id = i::text)")
read -r m_first m_last m_count <<<"$missing"
is "$(q "SELECT first_missing_id || ' ' || last_missing_id FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = 'gap' AND exchange_id = 1 AND ts >= '$since'")" \
   "$m_first $m_last" "binance c) one gap row whose first and last missing id are exactly the ids not stored ($m_count of them, $m_first .. $m_last)"
is "$((m_last - m_first + 1))" "$m_count" "binance c) and they are one run: everything else is stored"
kb=$((m_first - 1 - ID0)) ka=$((m_last + 1 - ID0))
is "$(q "SELECT $(ms range_start) || ' ' || $(ms range_end) FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = 'gap' AND exchange_id = 1 AND ts >= '$since'")" \
   "$(tape_trade $kb "$t0" $R | cut -d' ' -f1) $(tape_trade $ka "$t0" $R | cut -d' ' -f1)" \
   "binance c) its range in the venue's time: from the last trade stored before the gap to the first after it"
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
qs "ALTER SYSTEM RESET perps_stats.http_max_retries; SELECT pg_reload_conf();" >/dev/null

# ---- binance d) the book connection dropped: trades keep arriving, no gap ----
since=$(q "SELECT now()")
ID0=$((ID0 + N)); N=$((40000 / SC))
r0=$(q "SELECT refetches || ' ' || trade_gaps FROM perps_stats.stream_status WHERE exchange = 'binance'")
t0=$(tape binance BTCUSDT $N $R $ID0)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0" 30
act '{"venue":"binance","action":"drop","path":"/public/stream"}'
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0" \
        "binance d) with the book connection dropped, all $N trades arrive" 60
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0") $(q "SELECT refetches || ' ' || trade_gaps FROM perps_stats.stream_status WHERE exchange = 'binance'")" \
   "$N $N $r0" "binance d) each once, with no refetch and no gap: the trade connection was never interrupted"
is "$(q "SELECT string_agg(message, ' | ') FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = 'disconnect' AND exchange_id = 1 AND ts >= '$since'")" \
   "connection closed (connection /public/stream)" "binance d) one disconnect row, the book connection's"

# ---- binance e) the worker itself restarted midway: it goes on from the last trade stored ----
# (at 5000/s the tape lasts 8 s: trades still come after the restart, and the first of them shows
# the jump in ids that starts the refetch)
ID0=$((ID0 + N)); N=$((40000 / SC)) R=$((5000 / SC))
wpid=$(q "SELECT pid FROM perps_stats.stream_status WHERE exchange = 'binance'")
t0=$(tape binance BTCUSDT $N $R $ID0)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0" 30
q "SELECT pg_terminate_backend($wpid)" >/dev/null
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0" \
        "binance e) with the worker terminated midway and started again by the launcher, all $N trades are stored" 60
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) || ' ' || min(trade_id::bigint) || ' ' || max(trade_id::bigint) FROM perps_stats.trades WHERE market_id = $BN AND trade_id::bigint >= $ID0")" \
   "$N $N $ID0 $((ID0 + N - 1))" "binance e) each once"
is "$(q "SELECT pid <> $wpid AND trades_refetched > 0 AND trade_gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'binance'")" "t" \
   "binance e) a new worker process refetched the trades of its downtime by id, from the last one stored, no gap"

# ---- bybit: no sequential ids, REST has the most recent 1000 trades ----
qs "UPDATE perps_stats.watchlist SET stream = (exchange = 'bybit' AND symbol = 'BTC');" >/dev/null
ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'bybit'" "bybit: the stream worker streams" 30
q "DELETE FROM perps_stats.trades WHERE market_id = $BY" >/dev/null

N=$((40000 / SC)) R=$((20000 / SC))
since=$(q "SELECT now()")
t0=$(tape bybit BTCUSDT $N $R 0)
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $BY AND ts >= to_timestamp($t0 / 1000.0)" \
        "bybit a) $N trades generated at $R/s are all stored" 60
is "$(stored_ok "$BY" "$t0")" "$N $N" "bybit a) each once"
k=$((7777 / SC))
is "$(q "SELECT $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $BY AND ts >= to_timestamp($t0 / 1000.0) AND price = '$(tape_trade $k "$t0" $R | cut -d' ' -f2)'")" \
   "$(tape_trade $k "$t0" $R)" "bybit a) trade k = $k exactly as the tape defines it"

# b) 400 trades/s: the downtime (a backoff of 0.5 to 1 s) is within the venue's most recent 1000
N=$((3000 / SC)) R=$((400 / SC))
t0=$(tape bybit BTCUSDT $N $R 0)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $BY AND ts >= to_timestamp($t0 / 1000.0)" 30
act '{"venue":"bybit","action":"drop"}'
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $BY AND ts >= to_timestamp($t0 / 1000.0)" \
        "bybit b) with the connection dropped midway, all $N trades are stored" 40
is "$(stored_ok "$BY" "$t0")" "$N $N" "bybit b) each once"
is "$(q "SELECT refetches >= 1 AND trades_refetched > 0 AND trade_gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'bybit'")" "t" \
   "bybit b) the missed ones refetched from the venue's most recent trades, no gap"

# c) the refetch fails: one gap by time
since=$(q "SELECT now()")
ctl "$PERPS_MOCK_URL/_mock/faults" '{"venue":"bybit","path":"/v5/market/recent-trade","kind":"status","status":503,"count":-1}' >/dev/null
t0=$(tape bybit BTCUSDT $N $R 0)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $BY AND ts >= to_timestamp($t0 / 1000.0)" 30
act '{"venue":"bybit","action":"drop"}'
ok_wait "SELECT trade_gaps = 1 FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "bybit c) with recent-trade answering 503, the refetch gives up and records a gap" 60
ok_until "tape_done bybit BTCUSDT" "True" "bybit c) the venue finished its tape" 30
gap_by_time 2 "$BY" "$t0" "$R" "$since" "bybit c)"
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null

# ---- paradex: no sequential ids (SBE frames), REST history paged by time and cursor ----
PX="(SELECT id FROM perps_stats.markets WHERE exchange_id = 6 AND symbol = 'BTC')"
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/paradex/v1?sbeSchemaId=1&sbeSchemaVersion=1', rest_url = '$PERPS_MOCK_URL/paradex' WHERE name = 'paradex';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'paradex' AND symbol = 'BTC');" >/dev/null
ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'paradex'" "paradex: the stream worker streams" 30
q "DELETE FROM perps_stats.trades WHERE market_id = $PX" >/dev/null
# trade k of a paradex tape (test/mock/tape.py): its 19-digit id, and price and size of 8 decimals at most
px_trade() {  # px_trade K T0 RATE -> "id time_ms price qty side"
    python3 -c '
import hashlib, sys
k, t0, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
h = int(hashlib.sha1(b"BTC-USD-PERP").hexdigest()[:16], 16) % 10**18
print(10**18 + (h + k * 6364136223846793007) % 10**18, t0 + k * 1000 // rate,
      "%d.%08d" % (42000 + k % 997, (k * 7919) % 10**8), "0.%03d" % (k % 999 + 1), "buy" if k % 2 == 0 else "sell")' "$1" "$2" "$3"
}

N=$((8000 / SC)) R=$((2000 / SC))
t0=$(tape paradex BTC-USD-PERP $N $R 0)
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $PX AND ts >= to_timestamp($t0 / 1000.0)" \
        "paradex a) $N trades generated at $R/s are all stored" 60
is "$(stored_ok "$PX" "$t0")" "$N $N" "paradex a) each once"
k=$((4321 / SC))
read -r kid kt kp kq ks <<<"$(px_trade $k "$t0" $R)"
is "$(q "SELECT $(ms ts) || ' ' || (price = $kp) || ' ' || (qty = $kq) || ' ' || side FROM perps_stats.trades WHERE market_id = $PX AND trade_id = '$kid'")" \
   "$kt true true $ks" "paradex a) trade k = $k (id $kid) as the tape defines it: time, price, size, side"

t0=$(tape paradex BTC-USD-PERP $N $R 0)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $PX AND ts >= to_timestamp($t0 / 1000.0)" 30
act '{"venue":"paradex","action":"drop"}'
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $PX AND ts >= to_timestamp($t0 / 1000.0)" \
        "paradex b) with the connection dropped midway, all $N trades are stored" 60
is "$(stored_ok "$PX" "$t0")" "$N $N" "paradex b) each once"
is "$(q "SELECT refetches >= 1 AND trades_refetched > 0 AND trade_gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'paradex'")" "t" \
   "paradex b) the missed ones refetched by time from GET /v1/trades, no gap"

since=$(q "SELECT now()")
ctl "$PERPS_MOCK_URL/_mock/faults" '{"venue":"paradex","path":"/v1/trades","kind":"status","status":503,"count":-1}' >/dev/null
t0=$(tape paradex BTC-USD-PERP $N $R 0)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $PX AND ts >= to_timestamp($t0 / 1000.0)" 30
act '{"venue":"paradex","action":"drop"}'
ok_wait "SELECT trade_gaps = 1 FROM perps_stats.stream_status WHERE exchange = 'paradex'" \
        "paradex c) with /v1/trades answering 503, the refetch gives up and records a gap" 60
ok_until "tape_done paradex BTC-USD-PERP" "True" "paradex c) the venue finished its tape" 30
gap_by_time 6 "$PX" "$t0" "$R" "$since" "paradex c)"
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/tape" >/dev/null

# ---- put back what was changed ----
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM SET perps_stats.stream_workers = off;
   SELECT pg_reload_conf();
   UPDATE perps_stats.watchlist SET stream = (exchange || '/' || symbol IN ($streamed0));" >/dev/null
q "UPDATE perps_stats.exchanges e SET rest_url = split_part(split_part(v, '=', 2), ' ', 1), ws_url = split_part(v, ' ', 2)
     FROM unnest(string_to_array('$urls0', ';')) v WHERE e.name = split_part(v, '=', 1)" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream workers stop"

tap_done
