#!/usr/bin/env bash
# The Bybit stream worker against the WebSocket mock serving the recorded
# frames (test/services/recorded.sh; shared/fixtures/websocket/bybit_v5_linear):
# the recorded frames become exactly the expected rows, a skipped update id
# one resync and one gap row, a crossed book a resync, u = 1 a new snapshot.
# Expected values are worked out by hand from the recorded frames.  The
# stream's failure paths (drops, stalls, malformed frames, failing writes,
# SIGTERM, wss://) are tested on the project's own payloads in
# test/integration/60_stream_bybit.sh.  Polls with a timeout, never a fixed
# sleep.  TAP.
set -uo pipefail

STREAM_VENUE=bybit
. "$(dirname "$0")/../lib/tap.sh"
# the recorded tier's WebSocket mock: act() and the status reads go there
PERPS_MOCK_WS_CONTROL=$PERPS_RECORDED_WS_CONTROL

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 2 AND symbol = 'BTC')"

# the tests of the first tier left Bybit rows of their own: start from none
urls0=$(q "SELECT ws_url FROM perps_stats.exchanges WHERE name = 'bybit'")
qs "DELETE FROM perps_stats.ingest_events WHERE exchange_id = 2;
   DELETE FROM perps_stats.trades WHERE market_id IN (SELECT id FROM perps_stats.markets WHERE exchange_id = 2);
   DELETE FROM perps_stats.tickers WHERE market_id IN (SELECT id FROM perps_stats.markets WHERE exchange_id = 2);
   DELETE FROM perps_stats.orderbooks WHERE market_id IN (SELECT id FROM perps_stats.markets WHERE exchange_id = 2);
   DELETE FROM perps_stats.liquidity_depth WHERE market_id IN (SELECT id FROM perps_stats.markets WHERE exchange_id = 2);
   DELETE FROM perps_stats.slippage WHERE market_id IN (SELECT id FROM perps_stats.markets WHERE exchange_id = 2);
   DELETE FROM perps_stats.funding_rates WHERE market_id IN (SELECT id FROM perps_stats.markets WHERE exchange_id = 2);" >/dev/null

qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_RECORDED_WS_URL/bybit/v5/public/linear' WHERE name = 'bybit';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'bybit' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.orderbook_store_levels = 500;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null

# ---- start, market row, first book snapshot ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'bybit' AND state = 'streaming'" \
        "the launcher starts the bybit stream worker and it streams from the mock" 30
is "$(q "SELECT native_symbol || ' ' || base || ' ' || quote FROM perps_stats.markets WHERE exchange_id = 2 AND symbol = 'BTC'")" \
   "BTCUSDT BTC USDT" "the market row (global BTC, native BTCUSDT)"
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

# ---- done: the worker stopped, the settings as they were ----
qs "UPDATE perps_stats.watchlist SET stream = false WHERE exchange = 'bybit';
   UPDATE perps_stats.exchanges SET ws_url = '$urls0' WHERE name = 'bybit';
   ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.orderbook_store_levels;
   ALTER SYSTEM RESET perps_stats.flush_interval; ALTER SYSTEM SET perps_stats.stream_workers = off;
   SELECT pg_reload_conf();" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"

tap_done
