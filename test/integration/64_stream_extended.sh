#!/usr/bin/env bash
# The Extended stream worker against the WebSocket mock (test/mock/ws_venues/extended.py)
# serving the project's own payloads (test/payloads/websocket/extended, written
# from Extended's documentation; no recording exists).  Extended has no
# subscribe message: the path is the subscription, so the worker opens four
# all-market paths (/orderbooks, /publicTrades, /funding, /orderbooks?depth=1)
# and drops the markets it does not watch.  Checked: the book snapshot and
# three deltas whose quantities are CHANGES become the book worked out by
# hand; seq counts the connection's messages (every market's), so an
# unwatched market's message keeps the book going and a jump is one gap, one
# resync by a new /orderbooks connection and one gap row; a crossed book is a
# resync; trades, the best bid and ask (depth=1) and funding become exactly
# their rows; a replayed frame stores nothing twice; malformed and oversized
# frames are counted and skipped; a drop is a reconnect with its downtime;
# no candle stream is opened (candles stay on REST); and trade continuity
# over the trade tape (test/mock/tape.py): a drop midway loses nothing (the
# REST refetch from the latest trades), and with the refetch failing one
# gap row names the missing time range.  Expected values are worked out by
# hand from the payloads and the tape's definition.  Polls with a timeout,
# never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=extended
. "$(dirname "$0")/../lib/tap.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 8 AND symbol = 'BTC')"
ETH="(SELECT id FROM perps_stats.markets WHERE exchange_id = 8 AND symbol = 'ETH')"
urls0=$(q "SELECT rest_url || ' ' || ws_url FROM perps_stats.exchanges WHERE name = 'extended'")
ctl() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$1"; }
paths() { ctl "$PERPS_MOCK_WS_CONTROL/action" '{"venue":"extended","action":"paths"}' | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["paths"]))'; }
received() { curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["extended"]["received"]))'; }
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }
ev() { q "SELECT count(*) FROM perps_stats.ingest_events WHERE source = 'stream' AND exchange_id = 8 AND kind = '$1'"; }

qs "UPDATE perps_stats.exchanges SET rest_url = '$PERPS_MOCK_URL/extended', ws_url = '$PERPS_MOCK_WS_URL/extended/stream.extended.exchange/v1' WHERE name = 'extended';
   SELECT perps_stats.refresh_markets('extended');
   INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('extended', 'BTC', false, true)
       ON CONFLICT (exchange, symbol) DO UPDATE SET stream = true;
   UPDATE perps_stats.watchlist SET stream = (exchange = 'extended' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/tape" >/dev/null

# ---- start: four all-market paths, no message sent ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'extended' AND state = 'streaming'" \
        "the launcher starts the extended stream worker and it streams from the mock" 30
ok_until "paths" "/funding /orderbooks /orderbooks?depth=1 /publicTrades" \
         "four connections, one per all-market path: books, best bid/ask, trades, funding (no candle path)"
is "$(received)" "0" "no subscribe message: the path is the subscription"
# the worker's handshakes carry a User-Agent (the four connections are up); the mock, like the
# venue's REST API, refuses a handshake without one
is "$(curl -s -o /dev/null -w '%{http_code}' -A '' -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
      -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "${PERPS_MOCK_WS_URL/ws:/http:}/extended/stream.extended.exchange/v1/orderbooks")" \
   "400" "a handshake without a User-Agent is refused (the worker's four were not)"

# ---- the BTC-USD snapshot (seq 1 on the book connection; ETH-USD's, seq 2, is not ours) ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1)" "the snapshot (seq 1) is stored"
is "$(q "SELECT bids = '{{97000.0,1.5},{96999.5,2.25},{96999.0,0.8},{96998.0,4.0}}'::numeric[]
              AND asks = '{{97001.0,1.2},{97001.5,0.5},{97002.0,3.0},{97003.5,2.0}}'::numeric[]
              AND $(ms ts) = 1795444620100 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1")" \
   "t" "snapshot: the payload's four bids and four asks, best first, at the message's ts (ms)"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $ETH")" "0" "ETH-USD (on the same all-market path, not watched) is dropped"

# ---- three deltas: their quantities are changes ----
act '{"venue":"extended","action":"replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 5)" \
        "the book after the three deltas (seq 3, 4, 5) is stored"
# by hand: d1 bid 97000.0: 1.5 - 0.5 = 1.0; bid 97000.5 new: 0 + 0.75; ask 97001.0: 1.2 - 1.2 = 0, deleted.
#          d2 bid 96999.5: 2.25 + 1.25 = 3.50; ask 97001.5: 0.5 + 0.3 = 0.8; ask 97004.0 new: 5.0.
#          d3 bid 96998.0: 4.0 - 4.0 = 0, deleted.
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 5"
is "$(q "SELECT bids = '{{97000.5,0.75},{97000.0,1.0},{96999.5,3.50},{96999.0,0.8}}'::numeric[] $book")" "t" \
   "bids: 97000.5 x 0.75 added, 97000.0 x 1.0 and 96999.5 x 3.50 changed by their deltas, 96998.0 gone"
is "$(q "SELECT asks = '{{97001.5,0.8},{97002.0,3.0},{97003.5,2.0},{97004.0,5.0}}'::numeric[] AND $(ms ts) = 1795444620400 $book")" "t" \
   "asks: 97001.0 gone (1.2 - 1.2), 97001.5 x 0.8, 97004.0 x 5.0 added; the last delta's ts"
# mid = (97000.5 + 97001.5) / 2 = 97001.0
ok_wait "SELECT mid_price = 97001.0 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1795444620.4)" \
        "the depth row of that book: mid (97000.5 + 97001.5) / 2 = 97001.0"

# ---- best bid and ask with sizes (depth=1): ticker rows ----
tick() { q "SELECT concat_ws(' ', best_bid_price, best_bid_qty, best_ask_price, best_ask_qty, coalesce(last_price::text, 'NULL'), coalesce(mark_price::text, 'NULL'))
            FROM perps_stats.tickers WHERE market_id = $BTC AND $(ms ts) = $1"; }
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND $(ms ts) = 1795444620400)" "depth=1 messages are ticker rows"
is "$(tick 1795444620100)" "97000.0 1.5 97001.0 1.2 NULL NULL" "the first: the snapshot's best levels with their sizes, nothing else"
is "$(tick 1795444620400)" "97000.5 0.75 97001.5 0.8 NULL NULL" "after the deltas: best bid 97000.5 x 0.75, best ask 97001.5 x 0.8"

# ---- trades: the venue repeats its recent trades to a new connection; a replay stores nothing twice ----
trades() { q "SELECT coalesce(string_agg(trade_id || ' ' || $(ms ts) || ' ' || price || ' ' || qty || ' ' || side, ', ' ORDER BY ts), 'none')
              FROM perps_stats.trades WHERE market_id = $BTC AND trade_id LIKE '186600000000000100_'"; }
ok_wait "SELECT count(*) = 3 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id LIKE '186600000000000100_'" \
        "the recent trades sent on connecting: BTC-USD's three"
is "$(trades)" "1866000000000001001 1795444620150 97001.0 0.015 buy, 1866000000000001003 1795444620180 97000.0 0.250 sell, 1866000000000001004 1795444620190 97001.5 0.004 buy" \
   "id (a JSON integer beyond 2^53, exact), T in ms, price, size; S is the taker's side; the liquidation (tT) is a trade too"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $ETH")" "0" "the ETH-USD trade of the same frame is dropped"
m0=$(status messages)
act '{"venue":"extended","action":"trade_replay"}'
ok_wait "SELECT messages > $m0 FROM perps_stats.stream_status WHERE exchange = 'extended'" "the same trades frame again"
act '{"venue":"extended","action":"trades","count":2,"price":"97005.5","qty":"0.125"}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97005.5" "two new trades after it are stored"
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id LIKE '186600000000000100_'")" \
   "3 3" "the replayed frame stored nothing twice"

# ---- funding: the hour in progress, keyed by the next whole hour ----
fund() { q "SELECT coalesce(string_agg($(ms funding_time) || ' ' || rate || ' ' || interval_hours, ', ' ORDER BY funding_time), 'none') FROM perps_stats.funding_rates WHERE market_id = $BTC"; }
# T 1795444620000 ms: 1795444620000 / 3600000 = 498734.6..., the next hour 498735 x 3600000 = 1795446000000
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC)" "the funding rate sent on connecting is a funding row"
is "$(fund)" "1795446000000 0.000013 1" "rate 0.000013 (as sent) for the hour ending 1795446000000, hourly"
act '{"venue":"extended","action":"funding","f":"0.000021","T":1795447200000,"ts":1795447200005}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.funding_rates WHERE market_id = $BTC" "a rate of the next hour is a second row"
# 1795447200000 / 3600000 = 498735.333...: the hour ending 498736 x 3600000 = 1795449600000
is "$(fund)" "1795446000000 0.000013 1, 1795449600000 0.000021 1" "the second: 0.000021 for the hour ending 1795449600000"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" "no gap, resync, parse error or reconnect so far"

# ---- seq counts the connection's messages, every market's ----
# seq so far: 1 BTC snapshot, 2 ETH snapshot, 3..5 the deltas; 6 an ETH-USD delta (not ours),
# 7 a BTC-USD delta: the next on its connection, applied
act '{"venue":"extended","action":"book_delta","market":"ETH-USD","bids":[["3612.0","1.5"]]}'
act '{"venue":"extended","action":"book_delta","bids":[["96990.0","1.0"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 7 AND bids[5][1] = 96990.0 AND bids[5][2] = 1.0)" \
        "an unwatched market's message (seq 6) between two of ours is no gap: seq 7 applies (bid 96990.0 x 1.0)"
is "$(status "gaps || ' ' || resyncs")" "0 0" "no gap"

echo "# t=${SECONDS}s"
# ---- a jump: lost messages 8..10; the resync is a new /orderbooks connection ----
bc0=$(ev disconnect)
act '{"venue":"extended","action":"book_delta","bids":[["96990.0","1.0"]],"skip":3}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'extended'" "seq 11 after 7: one gap, one resync"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'gap' AND source = 'stream' AND exchange_id = 8)" \
        "the new connection's snapshot rebuilds the book and the gap is recorded" 20
# the venue's book took the lost delta (96990.0: 1.0 + 1.0): the new snapshot (seq 1 on the new
# connection, ts 1795444620402) has it; the gap runs from the last update applied (ts ...401)
is "$(q "SELECT count(*) || ' ' || min(message) || ' ' || min($(ms range_start)) || ' ' || min($(ms range_end)) || ' ' || min(first_missing_id) || '..' || min(last_missing_id)
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND source = 'stream' AND exchange_id = 8")" \
   "1 BTC-USD book: update ids 8..10 lost; resynced at update id 1 1795444620401 1795444620402 8..10" \
   "exactly one gap row: the connection's lost message numbers, the venue's time range"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1 AND $(ms ts) = 1795444620402 AND bids[5][1] = 96990.0 AND bids[5][2] = 2.0)" \
        "the rebuilt book is the venue's: 96990.0 x 2.0 (both deltas)"
is "$(( $(ev disconnect) - bc0 ))" "1" "the resync closed /orderbooks once (a disconnect row)"
ok_until "paths" "/funding /orderbooks /orderbooks?depth=1 /publicTrades" "the other three connections were not touched; /orderbooks is back"

echo "# t=${SECONDS}s"
# ---- a crossed book: a resync ----
# seq 3 on the new connection (1 BTC, 2 ETH snapshots): a bid of 97100.0 above the best ask 97001.5
act '{"venue":"extended","action":"book_delta","bids":[["97100.0","1.0"]],"apply":false}'
ok_wait "SELECT gaps = 1 AND resyncs = 2 FROM perps_stats.stream_status WHERE exchange = 'extended'" "a crossed book is a resync, not a gap"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'resync' AND source = 'stream' AND exchange_id = 8
                        AND message = 'BTC-USD book crossed at update id 3; resynced at update id 1')" \
        "one resync row: crossed at seq 3, resynced by the next connection's snapshot"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND bids[1][1] = 97100.0")" "0" "the crossed book was never stored"

echo "# t=${SECONDS}s"
# ---- malformed and oversized frames: counted and skipped (each goes to the four connections) ----
ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'extended'" "streaming again"
pe0=$(status parse_errors)
act '{"venue":"extended","action":"garbage"}'
act '{"venue":"extended","action":"truncated","frame":"{\"type\":\"DELTA\",\"data\":{\"m\":\"BTC-USD\",\"b\":[],\"a\":[]},\"ts\":1795444620500,\"seq\":99}"}'
act '{"venue":"extended","action":"send","frames":["{\"data\":[{\"i\":1,\"m\":\"BTC-USD\",\"S\":\"BUY\",\"tT\":\"TRADE\",\"T\":1795444620500,\"p\":{\"x\":1},\"q\":\"1\"}],\"ts\":1795444620500,\"seq\":99}"]}'
act '{"venue":"extended","action":"oversized","bytes":4500000}'
act '{"venue":"extended","action":"trades","count":1,"price":"97006.5","qty":"0.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97006.5)" "a good frame after the bad ones is stored"
ok_wait "SELECT parse_errors - $pe0 = 16 FROM perps_stats.stream_status WHERE exchange = 'extended'" \
        "garbage, truncated, wrong-typed and oversized (4.5 MB > 4 MB) frames on each of the four connections: 16 parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '1'")" "0" "nothing of the wrong-typed frame is stored"
act '{"venue":"extended","action":"error"}'
ok_wait "SELECT last_error = 'the venue refused a request: Market not found' FROM perps_stats.stream_status WHERE exchange = 'extended'" \
        "an error message is the venue's refusal, in last_error, not a parse error"
is "$(( $(status parse_errors) - pe0 ))" "16" "(no more parse errors)"

echo "# t=${SECONDS}s"
# ---- a drop of every connection: reconnect, downtime recorded ----
r0=$(status reconnects) d0=$(ev disconnect) c0=$(ev reconnect)
act '{"venue":"extended","action":"drop"}'
ok_wait "SELECT reconnects >= $r0 + 4 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'extended'" \
        "after a drop the four connections reconnect (backoff from 1 s)" 30
ok_wait "SELECT count(*) >= $c0 + 4 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 8" \
        "a reconnect row per connection, with the downtime"
is "$(( $(ev disconnect) - d0 ))" "4" "a disconnect row per connection"
is "$(q "SELECT count(*) FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 8
         AND message LIKE 'reconnected after % ms (connection /publicTrades)%' AND range_start IS NOT NULL AND range_end >= range_start")" \
   "$(( $(q "SELECT count(*) FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 8 AND message LIKE '%(connection /publicTrades)%'") ))" \
   "the trade connection's reconnect rows name it and run from the last message before the drop to the first after it"
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id LIKE '186600000000000100_'")" \
   "3 3" "the recent trades repeated on reconnecting are not stored twice"
is "$(q "SELECT count(*) FROM perps_stats.klines k WHERE k.market_id = $BTC")" "0" "no candles from the stream (their path takes one market and interval: REST)"

# ---- trade continuity over the tape ----
# a trade after the reconnect ends the trade connection's interruption (its refetch finds
# nothing between: the latest trades REST serves are older), so the tape starts clean
rest_trades() { curl -sf "$PERPS_MOCK_URL/_mock/log?venue=extended" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["path"].endswith("/BTC-USD/trades")))'; }
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/log" >/dev/null
act '{"venue":"extended","action":"trades","count":1,"price":"97007.5","qty":"0.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97007.5)" "a trade after the reconnect is stored"
ok_until "rest_trades" "1" "the interruption's refetch asked REST for the latest trades once"
read -r rf0 g0 <<<"$(status "refetches || ' ' || trade_gaps")"
echo "# t=${SECONDS}s: continuity"
SC=1; [ "$SLOW" -gt 1 ] && SC=10
tape() {  # tape COUNT RATE: the same tape of BTC-USD for the stream and for REST, starting in 300 ms
    local t0=$(( $(date +%s%3N) + 300 ))
    local p="{\"venue\":\"extended\",\"symbol\":\"BTC-USD\",\"count\":$1,\"rate\":$2,\"t0_ms\":$t0}"
    ctl "$PERPS_MOCK_URL/_mock/tape" "$p" >/dev/null || echo "# REST tape refused: $p" >&2
    ctl "$PERPS_MOCK_WS_CONTROL/action" "${p%\}},\"action\":\"tape\"}" >/dev/null || echo "# stream tape refused: $p" >&2
    echo "$t0"
}
tape_over() { ctl "$PERPS_MOCK_WS_CONTROL/action" '{"venue":"extended","action":"tape_status","symbol":"BTC-USD"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["done"])'; }
since_tape() { echo "market_id = $BTC AND ts >= to_timestamp($1 / 1000.0) AND price >= 42000 AND price < 43000"; }
# trade k (test/mock/tape.py): time t0 + k * 1000 / rate, price 42000 + k mod 997 and 20 decimals
# (k * 7919), qty 0.(k mod 999 + 1), the taker bought when k is even
N=$((150 / SC)) R=$((50 / SC))
t0=$(tape $N $R)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE $(since_tape "$t0")" 30
act '{"venue":"extended","action":"drop","path":"/publicTrades"}'
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE $(since_tape "$t0")" \
        "continuity a) with the trade connection dropped midway, all $N trades of the tape are stored" 40
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades WHERE $(since_tape "$t0")")" "$N $N" "continuity a) each once"
k=$((N - 7))
is "$(q "SELECT $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE $(since_tape "$t0") AND $(ms ts) = $t0 + $k * 1000 / $R")" \
   "$(python3 -c 'import sys; k,t0,r=map(int,sys.argv[1:]); print(t0 + k*1000//r, "%d.%020d" % (42000 + k % 997, (k*7919) % 10**20), "0.%03d" % (k % 999 + 1), "buy" if k % 2 == 0 else "sell")' $k "$t0" $R)" \
   "continuity a) trade k = $k exactly as the tape defines it (20 decimals: never through a double)"
is "$(q "SELECT refetches > $rf0 AND trades_refetched > 0 AND trade_gaps = $g0 FROM perps_stats.stream_status WHERE exchange = 'extended'")" "t" \
   "continuity a) the missed ones refetched from the venue's latest trades, no gap"
ok_until "tape_over" "True" "continuity a) the tape is over" 30
# what the stream recorded of the trades so far, for a failure's reader
gaps_said() { q "SELECT '# ' || kind || ' ' || $(ms range_start) || '..' || $(ms range_end) || ': ' || message FROM perps_stats.ingest_events
                 WHERE source = 'stream' AND exchange_id = 8 AND (kind = 'gap' OR message LIKE '%refetched%') ORDER BY id"; }
[ "$failed" -eq 0 ] || gaps_said

# b) the REST trades answering 503: the refetch gives up, one gap row by time
since=$(q "SELECT now()")
ctl "$PERPS_MOCK_URL/_mock/faults" '{"venue":"extended","path":"/api/v1/info/markets/BTC-USD/trades","kind":"status","status":503,"count":-1}' >/dev/null
t0=$(tape $N $R)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE $(since_tape "$t0")" 30
act '{"venue":"extended","action":"drop","path":"/publicTrades"}'
ok_wait "SELECT trade_gaps = $g0 + 1 FROM perps_stats.stream_status WHERE exchange = 'extended'" \
        "continuity b) with the REST trades failing, the refetch gives up and records one gap" 60
ok_until "tape_over" "True" "continuity b) the tape is over" 30
# the gap row runs from the last trade stored before the drop to the first after it: both ends are
# stored trades with none stored between them (how many the venue sent in between, the worker
# cannot know: ids are not sequential; the trades the venue repeats on a new connection may
# have covered the downtime, then the two are neighbours on the tape)
gap="FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = 'gap' AND exchange_id = 8 AND market_id = $BTC AND ts >= '$since'"
is "$(q "SELECT count(*) || ' ' || bool_and(first_missing_id IS NULL) $gap")" "1 true" "continuity b) one gap row, by time (no ids: they are not sequential)"
is "$(q "SELECT (SELECT count(*) FROM perps_stats.trades WHERE $(since_tape "$t0") AND ts = g.range_start) || ' '
              || (SELECT count(*) FROM perps_stats.trades WHERE $(since_tape "$t0") AND ts = g.range_end) || ' '
              || (SELECT count(*) FROM perps_stats.trades WHERE $(since_tape "$t0") AND ts > g.range_start AND ts < g.range_end)
         FROM (SELECT range_start, range_end $gap) g")" \
   "1 1 0" "continuity b) its range: from a stored trade to the next stored one, none stored between (the drop)"
[ "$failed" -eq 0 ] || gaps_said
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/tape" >/dev/null

# ---- leave the stream workers off and the venue as it was ----
read -r rest0 ws0 <<<"$urls0"
qs "UPDATE perps_stats.watchlist SET stream = true;
   DELETE FROM perps_stats.watchlist WHERE exchange = 'extended' AND symbol = 'BTC';
   UPDATE perps_stats.exchanges SET rest_url = '$rest0', ws_url = '$ws0' WHERE name = 'extended';
   ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"
q "DELETE FROM perps_stats.trades WHERE market_id = $BTC; DELETE FROM perps_stats.orderbooks WHERE market_id = $BTC;
   DELETE FROM perps_stats.liquidity_depth WHERE market_id = $BTC; DELETE FROM perps_stats.slippage WHERE market_id = $BTC;
   DELETE FROM perps_stats.tickers WHERE market_id = $BTC; DELETE FROM perps_stats.funding_rates WHERE market_id = $BTC;
   DELETE FROM perps_stats.ingest_events WHERE exchange_id = 8 AND source = 'stream'" >/dev/null

tap_done
