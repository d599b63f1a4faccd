#!/usr/bin/env bash
# The Bybit stream worker against the WebSocket mock (test/mock/ws_venues/bybit.py):
# the recorded frames become exactly the expected rows, a skipped update id
# one resync and one gap row, a dropped or silent connection a reconnect
# with its downtime recorded, malformed frames counted and skipped, and
# SIGTERM writes what is buffered.  Expected values are worked out by hand
# from the frames in shared/fixtures/websocket/bybit_v5_linear.  Polls with
# a timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=bybit
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/postgrest.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 2 AND symbol = 'BTC')"

qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/bybit/v5/public/linear' WHERE name = 'bybit';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'bybit' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.orderbook_store_levels = 500;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null

# ---- start, market row, first book snapshot ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'bybit' AND state = 'streaming'" \
        "the launcher starts the bybit stream worker and it streams from the mock" 30
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'")" "1" \
   "one stream worker (the only venue with streamed watchlist rows)"
is "$(q "SELECT native_symbol || ' ' || base || ' ' || quote FROM perps_stats.markets WHERE exchange_id = 2 AND symbol = 'BTC'")" \
   "BTCUSDT BTC USDT" "the worker created the market row (global BTC, native BTCUSDT)"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 15076952)" \
        "the recorded snapshot (u 15076952) is stored"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || (extract(epoch FROM ts) * 1000)::bigint FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 15076952")" \
   "200 200 65114.20x6.054 65114.30x10.486 1786310818129" "snapshot: 200 levels a side, best bid and ask, the frame's ts"

# ---- the recorded delta, trade and ticker delta ----
act '{"venue":"bybit","action":"replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = 'a9188a0a-82bc-50de-be60-03eedbe3cdd7')" \
        "the recorded trade is stored"
is "$(q "SELECT (extract(epoch FROM ts) * 1000)::bigint || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades
         WHERE market_id = $BTC AND trade_id = 'a9188a0a-82bc-50de-be60-03eedbe3cdd7'")" \
   "1786310819680 65114.20 0.004 sell" "trade: T, p, v exactly as sent, S Sell -> sell"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 15076953)" \
        "the book after the delta (u 15076953) is stored"
# by hand: the delta deletes 1 bid (65093.10) and adds 1 (65088.60); deletes 5 asks
# (65116.60 65129.10 65130.20 65134.80 65146.70) and adds 5 (65116.80 65129.90 65130.70 65133.40 65134.40)
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 15076953"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || (extract(epoch FROM ts) * 1000)::bigint $book")" \
   "200 200 1786310818130" "after the delta: still 200 levels a side, the delta's ts"
is "$(q "SELECT asks[1:8] = '{{65114.30,10.486},{65115.40,0.002},{65115.70,0.033},{65116.00,0.012},{65116.10,0.968},{65116.20,0.472},{65116.40,0.002},{65116.80,0.002}}'::numeric[] $book")" \
   "t" "best 8 asks: 65116.60 deleted, 65116.80 inserted in order"
qty_at() { q "SELECT coalesce((SELECT $1[i][2]::text FROM generate_subscripts($1, 1) i WHERE $1[i][1] = $2), 'absent') $book"; }
is "$(qty_at bids 65095.30) $(qty_at bids 65094.60) $(qty_at bids 65093.10) $(qty_at bids 65092.20) $(qty_at bids 65088.60) $(qty_at bids 65088.40)" \
   "0.005 0.076 absent 0.641 0.007 0.445" "bid levels changed by the delta (updated, deleted, inserted)"
is "$(qty_at asks 65129.10) $(qty_at asks 65129.50) $(qty_at asks 65129.90) $(qty_at asks 65133.40) $(qty_at asks 65134.50) $(qty_at asks 65135.80) $(qty_at asks 65146.70)" \
   "absent 2.302 0.645 0.689 0.001 3.988 absent" "ask levels changed by the delta"
is "$(q "SELECT bids[200][1] || 'x' || bids[200][2] || ' ' || asks[200][1] || 'x' || asks[200][2] $book")" \
   "65086.00x0.001 65146.60x1.521" "worst levels: bid unchanged, ask 65146.70 deleted so 65146.60 is last"
is "$(q "SELECT bool_and(bids[i][1] > bids[i+1][1]) FROM generate_subscripts((SELECT bids $book), 1) i, (SELECT bids $book) b WHERE i < 200")" \
   "t" "bids strictly descending"
# price_change_24h = lastPrice - prevPrice24h = 65114.30 - 65008.70 = 105.60
# liquidity_depth and slippage of the full book, next to the stored snapshot; the
# depth figures recomputed here in SQL from the stored levels (all 200 are stored)
liq="FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1786310818.130)"
is "$(q "SELECT count(*) || ' ' || min(mid_price) $liq")" "1 65114.25" "one liquidity_depth row with the book, mid = (65114.20 + 65114.30) / 2"
is "$(q "SELECT l.bid_1bps = (SELECT sum(o.bids[i][1] * o.bids[i][2]) FROM generate_subscripts(o.bids, 1) i WHERE o.bids[i][1] >= 65114.25 * (1 - 0.0001))
           AND l.ask_10bps = (SELECT sum(o.asks[i][1] * o.asks[i][2]) FROM generate_subscripts(o.asks, 1) i WHERE o.asks[i][1] <= 65114.25 * (1 + 0.001))
           AND l.bid_1bps > 0 AND l.ask_10bps > l.ask_1bps
         FROM perps_stats.liquidity_depth l, perps_stats.orderbooks o
         WHERE l.market_id = $BTC AND o.market_id = $BTC AND l.ts = o.ts AND o.seq = 15076953")" \
   "t" "bid 1 bps and ask 10 bps depth equal the notional of the stored levels within them"
slip="FROM perps_stats.slippage WHERE market_id = $BTC AND ts = to_timestamp(1786310818.130)"
is "$(q "SELECT count(*) $slip")" "16" "16 standard slippage rows (8 sizes, buy and sell)"
# 1000 quote fits in the best level: buy at the best ask, sell at the best bid
is "$(q "SELECT string_agg(side || ' ' || (avg_price = CASE side WHEN 'buy' THEN 65114.30 ELSE 65114.20 END) || ' ' || feasible, ', ' ORDER BY side) $slip AND amount = 1000")" \
   "buy true true, sell true true" "1000 quote: filled at the best ask (65114.30) / bid (65114.20)"

tick="last_price, mark_price, index_price, best_bid_price, best_bid_qty, best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional, coalesce(price_change_24h::text, 'NULL'), price_change_pct, high_24h, low_24h"
ok_wait "SELECT count(*) = 2 FROM perps_stats.tickers WHERE market_id = $BTC AND ts IN (to_timestamp(1786310817.583), to_timestamp(1786310817.883))" \
        "two ticker rows: the snapshot and the merged delta"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1786310817.583)")" \
   "65114.30 65117.44 65137.76 65114.20 5.954 65114.30 10.470 17573.9120 1142118412.9021 59891.732 3899996265.01 105.60 0.001624 65282.30 64694.40" \
   "ticker snapshot row (ts 1786310817583) with the frame's values"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1786310817.883)")" \
   "65114.30 65117.44 65137.76 65114.20 6.054 65114.30 10.486 17573.9120 1142118412.9021 59891.732 3899996265.01 105.60 0.001624 65282.30 64694.40" \
   "ticker delta row: bid1Size and ask1Size from the delta, every other field from the snapshot"
act '{"venue":"bybit","action":"send","frames":["{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"data\":{\"symbol\":\"BTCUSDT\",\"lastPrice\":\"65200.00\"},\"cs\":753843907771,\"ts\":1786310840000}"]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1786310840))" "a ticker delta with a new last price"
# 65200.00 - 65008.70 = 191.30; the best bid/ask sizes stay those of the previous delta
is "$(q "SELECT concat_ws(' ', last_price, price_change_24h, best_bid_qty, best_ask_qty, mark_price) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1786310840)")" \
   "65200.00 191.30 6.054 10.486 65117.44" "the 24 h change follows the new last price; other fields stay merged"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" "no gap, resync, parse error or reconnect so far"
# the ticker snapshot's funding: fundingRate 0.0001 for the period ending at nextFundingTime
# 1786320000000 ms, fundingIntervalHour 8; the deltas carry no funding
is "$(q "SELECT (extract(epoch FROM funding_time) * 1000)::bigint || ' ' || rate || ' ' || interval_hours || ' ' || coalesce(predicted_rate::text, 'NULL')
         FROM perps_stats.funding_rates WHERE market_id = $BTC")" \
   "1786320000000 0.0001 8 NULL" "one funding_rates row from the ticker stream: the next funding time, its rate and interval"
is "$(q "SELECT rows_written = 41 AND messages >= 7 AND bytes > 9000 AND last_message_at IS NOT NULL AND connected_since IS NOT NULL FROM perps_stats.stream_status WHERE exchange = 'bybit'")" \
   "t" "status counts messages, bytes and rows written (2 books with 1 depth and 16 slippage rows each, 1 trade, 3 tickers, 1 funding rate)"
# the same over HTTP: PostgREST (test/services/postgrest.sh) serves perps_api.stream_status
# and health() the state by venue
http() { curl -s -m 5 "$PERPS_POSTGREST_URL$1"; }
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$PERPS_POSTGREST_URL$1"; }
pgrst_reload /stream_status /rpc/health
is "$(http '/stream_status?select=exchange,state,rows_written,gaps,parse_errors')" \
   '[{"exchange":"bybit","state":"streaming","rows_written":41,"gaps":0,"parse_errors":0}]' \
   "GET /stream_status: the worker's state and counters as JSON"
is "$(http '/rpc/health' | jq -c .streams)" '{"bybit":"streaming"}' "GET /rpc/health: the stream workers' states by venue"
is "$(code '/stream_status?select=pid')" "400" \
   "the workers' process ids are not served"

# ---- a skipped update id: one gap, one resync ----
act '{"venue":"bybit","action":"book_delta","skip":1}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'bybit'" "a skipped u counts one gap and one resync"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 15076956)" \
        "the resubscription's fresh snapshot (u 15076956) rebuilds the book"
is "$(q "SELECT count(*) || ' ' || min(message) || ' ' || min((extract(epoch FROM range_start) * 1000)::bigint) || ' ' || min((extract(epoch FROM range_end) * 1000)::bigint)
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $BTC AND source = 'stream'")" \
   "1 BTCUSDT book: update ids 15076954..15076954 lost; resynced at update id 15076956 1786310818130 1786310818132" \
   "exactly one gap row naming the market, the lost ids and the time range"
recv=$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; r=json.load(sys.stdin)["bybit"]["received"]; print(sum(1 for m in r if json.loads(m).get("op") == "unsubscribe" and json.loads(m)["args"] == ["orderbook.50.BTCUSDT"]))')
is "$recv" "1" "the resync unsubscribed and subscribed the book topic once"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 15076955")" "0" "the update after the gap was not applied"

# ---- a delta that crosses the book: one resync, no gap ----
act '{"venue":"bybit","action":"book_delta","bids":[["65200.00","1.000"]]}'
ok_wait "SELECT gaps = 1 AND resyncs = 2 FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "a bid above the best ask (65114.30) is a crossed book: a resync, not a gap"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'resync' AND market_id = $BTC
         AND message = 'BTCUSDT book crossed at update id 15076957; resynced at update id 15076958')" \
        "its resync row names the crossing update and the fresh snapshot"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 15076958 AND bids[1][1] = 65114.20)" \
        "the book is rebuilt from the fresh snapshot"

# ---- u = 1: a new snapshot (Bybit restarted), not a gap ----
act '{"venue":"bybit","action":"u1_snapshot"}'
act '{"venue":"bybit","action":"book_delta","asks":[["65114.30","0"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 2 AND asks[1][1] = 65115.40)" \
        "after a u = 1 snapshot the delta u = 2 applies (best ask 65114.30 deleted)"
is "$(status "gaps || ' ' || resyncs")" "1 2" "u = 1 counts no gap and no resync"

# ---- malformed frames: counted, skipped, the stream goes on ----
pe0=$(status parse_errors)
act '{"venue":"bybit","action":"garbage"}'
act '{"venue":"bybit","action":"truncated","frame":"{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"ts\":1786310830000,\"data\":{\"symbol\":\"BTCUSDT\",\"bid1Size\":\"1\"}}"}'
act '{"venue":"bybit","action":"send","frames":["{\"topic\":\"publicTrade.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1786310830000,\"data\":[{\"T\":1786310830000,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":{\"x\":1},\"p\":\"1\",\"i\":\"bad-1\"}]}"]}'
act '{"venue":"bybit","action":"oversized","bytes":5000000}'
act '{"venue":"bybit","action":"trades","count":1,"price":"65001.5","qty":"0.25"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 65001.5 AND qty = 0.25)" \
        "a good frame after the bad ones is stored"
is "$(( $(status parse_errors) - pe0 ))" "4" "garbage, truncated, wrong-typed and oversized frames: four parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id = 'bad-1'")" "0" "nothing of the wrong-typed frame is stored"
is "$(status state)" "streaming" "the connection survived them"

# ---- a trade stored before, sent again with a new one: the batch's COPY is refused,
# the INSERT ... ON CONFLICT fallback writes the new one and skips the other ----
act '{"venue":"bybit","action":"send","frames":["{\"topic\":\"publicTrade.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1786310819700,\"data\":[{\"T\":1786310819680,\"s\":\"BTCUSDT\",\"S\":\"Sell\",\"v\":\"0.004\",\"p\":\"65114.20\",\"L\":\"MinusTick\",\"i\":\"a9188a0a-82bc-50de-be60-03eedbe3cdd7\",\"BT\":false},{\"T\":1786310819690,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"0.5\",\"p\":\"65114.30\",\"L\":\"PlusTick\",\"i\":\"dup-test-new\\t1\",\"BT\":false}]}"]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = E'dup-test-new\\t1')" \
        "a batch with an already stored trade: the new trade is written (its id has a tab, escaped for COPY)"
is "$(q "SELECT count(*) || ' ' || min(price) || ' ' || min(qty) FROM perps_stats.trades WHERE trade_id = 'a9188a0a-82bc-50de-be60-03eedbe3cdd7'")" \
   "1 65114.20 0.004" "the trade sent twice is stored once"
is "$(status "last_error NOT LIKE 'flush failed%'")" "t" "and the flush did not fail"

# ---- a trades table with a row trigger: the multi-insert path (src/bulk.c,
# which fires no triggers) refuses it, and the INSERT writes the batch, so
# the trigger sees every row ----
qs "CREATE TABLE public.trade_seen (trade_id text);
    CREATE FUNCTION public.trade_seen_f() RETURNS trigger LANGUAGE plpgsql
        AS \$\$BEGIN INSERT INTO public.trade_seen VALUES (NEW.trade_id); RETURN NULL; END\$\$;
    CREATE TRIGGER trade_seen AFTER INSERT ON perps_stats.trades FOR EACH ROW EXECUTE FUNCTION public.trade_seen_f();" >/dev/null
act '{"venue":"bybit","action":"send","frames":["{\"topic\":\"publicTrade.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1786310819800,\"data\":[{\"T\":1786310819780,\"s\":\"BTCUSDT\",\"S\":\"Sell\",\"v\":\"0.25\",\"p\":\"65114.10\",\"L\":\"MinusTick\",\"i\":\"trig-1\",\"BT\":false},{\"T\":1786310819790,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"1.5\",\"p\":\"65114.30\",\"L\":\"PlusTick\",\"i\":\"trig-2\",\"BT\":false}]}"]}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.trades WHERE trade_id LIKE 'trig-%'" \
        "with a row trigger on trades, the batch is written"
is "$(q "SELECT string_agg(trade_id, ',' ORDER BY trade_id) FROM public.trade_seen")" "trig-1,trig-2" \
   "and the trigger saw both rows (written by the INSERT, not the multi-insert path)"
is "$(q "SELECT string_agg(side || ' ' || price || ' ' || qty, ', ' ORDER BY trade_id) FROM perps_stats.trades WHERE trade_id LIKE 'trig-%'")" \
   "sell 65114.10 0.25, buy 65114.30 1.5" "their values"
is "$(status "last_error NOT LIKE 'flush failed%'")" "t" "and the flush did not fail"
qs "DROP TRIGGER trade_seen ON perps_stats.trades; DROP FUNCTION public.trade_seen_f(); DROP TABLE public.trade_seen;" >/dev/null

# ---- a dropped connection: reconnect, downtime recorded, stream continues ----
act '{"venue":"bybit","action":"drop"}'
ok_wait "SELECT reconnects = 1 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "after a drop the worker reconnects (backoff from 1 s)" 20
ok_wait "SELECT count(*) = 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 2" \
        "one reconnect row"
is "$(q "SELECT d.range_start = r.range_start AND d.range_end IS NULL AND r.range_end IS NOT NULL AND d.ts <= r.ts
         FROM perps_stats.ingest_events d, perps_stats.ingest_events r
         WHERE d.kind = 'disconnect' AND r.kind = 'reconnect' AND d.source = 'stream' AND r.source = 'stream'")" \
   "t" "disconnect and reconnect rows in the venue's time: both from the last message before the drop, the reconnect to the first after it"
act '{"venue":"bybit","action":"trades","count":3,"per_frame":3,"price":"65002.5"}'
ok_wait "SELECT count(*) = 3 FROM perps_stats.trades WHERE market_id = $BTC AND price = 65002.5" "the stream continues after the reconnect"

# ---- a silent connection: restarted after stall_timeout ----
# (under valgrind a reconnect itself takes seconds: the stall timeout and lifetime scale with it)
ST=$((2 * SLOW))
qs "ALTER SYSTEM SET perps_stats.stall_timeout = $ST; SELECT pg_reload_conf()" >/dev/null
sleep 0.5  # let the worker take the new setting
act '{"venue":"bybit","action":"silence","on":true}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'disconnect' AND message LIKE 'no message for $ST s%')" \
        "a connection silent for stall_timeout is restarted and recorded" 20
act '{"venue":"bybit","action":"silence","on":false}'
ok_wait "SELECT reconnects >= 2 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "and it comes back when the venue talks again (each restart counts as a reconnect)" 40
qs "ALTER SYSTEM RESET perps_stats.stall_timeout; SELECT pg_reload_conf()" >/dev/null

# ---- a connection older than its lifetime is replaced at once, without backoff ----
qs "ALTER SYSTEM SET perps_stats.stream_connection_lifetime = $ST; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'disconnect' AND source = 'stream'
         AND message = 'connection replaced after $ST s (the venue''s connection lifetime)')" \
        "a connection older than stream_connection_lifetime is replaced" 20
qs "ALTER SYSTEM RESET perps_stats.stream_connection_lifetime; SELECT pg_reload_conf()" >/dev/null
# the reset reaches the worker with its next configuration reload: until then it may replace again
ok_wait "SELECT max(ts) < now() - interval '$((ST + 1)) s' FROM perps_stats.ingest_events WHERE message LIKE 'connection replaced%'" \
        "with the setting reset, connections are no longer replaced" 20
ok_wait "SELECT state = 'streaming' AND reconnects >= 3 FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "the new connection streams" 20
is "$(q "SELECT max(extract(epoch FROM r.ts - d.ts)) < $SLOW FROM perps_stats.ingest_events d JOIN perps_stats.ingest_events r
         ON r.kind = 'reconnect' AND r.range_start = d.range_start
         WHERE d.kind = 'disconnect' AND d.message LIKE 'connection replaced%'")" \
   "t" "reconnected within a second (no backoff; under valgrind $SLOW), the short gap recorded"

# ---- a trade stream at a chosen rate ----
act '{"venue":"bybit","action":"trades","count":40,"rate":100,"price":"65003.5"}'
ok_wait "SELECT count(*) = 40 FROM perps_stats.trades WHERE market_id = $BTC AND price = 65003.5" "40 trades sent at 100/s are all stored"
is "$(q "SELECT count(DISTINCT trade_id) || ' ' || count(*) FILTER (WHERE side = 'buy') || ' ' || count(*) FILTER (WHERE side = 'sell')
         FROM perps_stats.trades WHERE market_id = $BTC AND price = 65003.5")" "40 20 20" "each once, sides alternating"

# ---- writes that fail: rows kept, reading paused when the buffer is full, nothing lost ----
qs "CREATE FUNCTION public.perps_test_refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'refused by the test'; END\$\$;
    CREATE TRIGGER perps_test_refuse BEFORE INSERT ON perps_stats.trades FOR EACH ROW
        WHEN (NEW.price = 65005.5) EXECUTE FUNCTION public.perps_test_refuse();" >/dev/null
# 12000 trades in frames of 500: more than the buffer's bound (10 x flush_rows = 10000)
act '{"venue":"bybit","action":"trades","count":12000,"per_frame":500,"rate":50000,"price":"65005.5"}'
ok_wait "SELECT state = 'backpressure' AND buffered_rows >= 10000 AND buffered_rows < 10600 AND last_error LIKE 'flush failed: refused by the test%'
         FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "a failing write keeps the rows; at the bound the worker stops reading and says backpressure" 30
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE price = 65005.5")" "0" "nothing of the refused batch is written"
q "DROP TRIGGER perps_test_refuse ON perps_stats.trades; DROP FUNCTION public.perps_test_refuse()" >/dev/null
ok_wait "SELECT count(*) = 12000 FROM perps_stats.trades WHERE market_id = $BTC AND price = 65005.5" \
        "once writes succeed again, all 12000 trades are written (the retried batch and what waited in the socket)" 60
ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'bybit'" "and the worker streams on"
is "$(q "SELECT count(*) FROM perps_stats.ingest_events WHERE kind = 'error' AND source = 'stream'")" "0" "no rows were dropped"

# ---- SIGTERM writes what is buffered ----
qs "ALTER SYSTEM SET perps_stats.flush_interval = 60000; ALTER SYSTEM SET perps_stats.flush_rows = 1000000; SELECT pg_reload_conf()" >/dev/null
pid0=$(status pid)
q "SELECT pg_terminate_backend($pid0)" >/dev/null
# a worker started after the reload has the long flush interval
ok_wait "SELECT state = 'streaming' AND pid <> $pid0 FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "SIGTERM stops the worker and the launcher starts a new one" 30
ok_wait "SELECT buffered_rows >= 2 FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "the new worker buffers its ticker and book rows"
b0=$(status buffered_rows)
act '{"venue":"bybit","action":"trades","count":5,"per_frame":5,"price":"64999.5"}'
ok_wait "SELECT buffered_rows = $b0 + 5 FROM perps_stats.stream_status WHERE exchange = 'bybit'" "five trades buffered"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE price = 64999.5")" "0" "and not written yet (flush_interval 60 s)"
pid1=$(status pid)
q "SELECT pg_terminate_backend($pid1)" >/dev/null
ok_wait "SELECT count(*) = 5 FROM perps_stats.trades WHERE market_id = $BTC AND price = 64999.5" "SIGTERM flushed them before the worker exited" 10
ok_wait "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $pid1)" "the worker exited"

qs "ALTER SYSTEM RESET perps_stats.flush_interval; ALTER SYSTEM RESET perps_stats.flush_rows; SELECT pg_reload_conf()" >/dev/null

# ---- the watchlist decides what is streamed, without a restart ----
q "UPDATE perps_stats.watchlist SET stream = true WHERE exchange = 'bybit' AND symbol = 'ETH'" >/dev/null
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks o JOIN perps_stats.markets m ON m.id = o.market_id
         WHERE m.exchange_id = 2 AND m.symbol = 'ETH' AND m.native_symbol = 'ETHUSDT')" \
        "a symbol added to the watchlist is subscribed and its book stored (market row created)" 30
q "UPDATE perps_stats.watchlist SET stream = false WHERE exchange = 'bybit'" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" \
        "the launcher stops the worker when the venue has nothing to stream"
q "UPDATE perps_stats.watchlist SET stream = true WHERE exchange = 'bybit' AND symbol = 'BTC'" >/dev/null
ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "and starts it again when it has" 30

# ---- wss:// verifies the certificate ----
q "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WSS_URL/bybit/v5/public/linear' WHERE name = 'bybit'" >/dev/null
ok_wait "SELECT state = 'backoff' AND last_error LIKE 'connection failed%' FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "a wss:// venue with an untrusted certificate is refused" 30
echo "# last_error: $(status last_error)"
conns=$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bybit"]["sessions"])')
is "$conns" "0" "no WebSocket session was opened over it"
qs "ALTER SYSTEM SET perps_stats.stream_ca_file = '$PERPS_MOCK_WSS_CA'; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT state = 'streaming' AND connected_since > now() - interval '30 s' FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "trusting the mock's authority (stream_ca_file), the worker streams over wss://" 40
act '{"venue":"bybit","action":"trades","count":2,"per_frame":2,"price":"65004.5"}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.trades WHERE market_id = $BTC AND price = 65004.5" "trades arrive over wss://"
qs "ALTER SYSTEM RESET perps_stats.stream_ca_file; SELECT pg_reload_conf()" >/dev/null
q "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/bybit/v5/public/linear' WHERE name = 'bybit'" >/dev/null
ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'bybit'" "back on ws:// it streams again" 40

# ---- DROP EXTENSION while the worker streams ----
t0=$(date +%s%N)
out=$(q "DROP EXTENSION perps_stats")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$out $([ "$ms" -lt $((5000 * SLOW)) ] && echo prompt || echo "slow: $ms ms")" " prompt" "DROP EXTENSION completes promptly while the worker streams"
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "and the stream worker goes away"
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.orderbook_store_levels;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
is "$(q "CREATE EXTENSION perps_stats; SELECT perps_stats.version() IS NOT NULL")" "t" "the extension can be created again"

tap_done
