#!/usr/bin/env bash
# The recorded tier of the Paradex stream test: the stream worker against the
# second WebSocket mock (test/services/recorded.sh: PERPS_RECORDED_WS_URL,
# PERPS_RECORDED_WS_CONTROL), whose SBE frames carry the recorded REST
# payloads of shared/fixtures/paradex (fetchOrderBook, fetchTicker,
# fetchTrades; nothing of Paradex's stream is recorded, see
# test/mock/ws_venues/paradex.py).  Only the assertions about those frames'
# values are here (a reduced copy of what test/integration/65_stream_paradex.sh
# was); the behaviour (subscriptions, faults, drops, negotiation) is tested
# there on the project's own payloads.  The expected values are worked out by
# hand from the recorded files and the mock's docstring.  Polls with a
# timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=paradex
. "$(dirname "$0")/../lib/tap.sh"
# tap.sh's act() talks to the mock of PERPS_MOCK_WS_CONTROL: here, the recorded tier's
PERPS_MOCK_WS_CONTROL=$PERPS_RECORDED_WS_CONTROL

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 6 AND symbol = 'BTC')"
URL="$PERPS_RECORDED_WS_URL/paradex/v1?sbeSchemaId=1&sbeSchemaVersion=1"
url0=$(q "SELECT ws_url FROM perps_stats.exchanges WHERE name = 'paradex'")
# the first tier's stream tests stored Paradex rows and events: this test starts without them
qs "DELETE FROM perps_stats.orderbooks WHERE market_id = $BTC; DELETE FROM perps_stats.liquidity_depth WHERE market_id = $BTC;
   DELETE FROM perps_stats.slippage WHERE market_id = $BTC; DELETE FROM perps_stats.trades WHERE market_id = $BTC;
   DELETE FROM perps_stats.tickers WHERE market_id = $BTC; DELETE FROM perps_stats.funding_rates WHERE market_id = $BTC;
   DELETE FROM perps_stats.ingest_events WHERE exchange_id = 6 AND source = 'stream';" >/dev/null
qs "UPDATE perps_stats.exchanges SET ws_url = '$URL' WHERE name = 'paradex';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'paradex' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null

# ---- start: market row, subscriptions, the book snapshot, summary and funding ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'paradex' AND state = 'streaming'" \
        "the launcher starts the paradex stream worker and it streams from the mock" 30
is "$(q "SELECT native_symbol || ' ' || base || ' ' || quote FROM perps_stats.markets WHERE exchange_id = 6 AND symbol = 'BTC'")" \
   "BTC-USD-PERP BTC USD" "the worker created the market row (global BTC, native BTC-USD-PERP)"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 14139427)" \
        "the book snapshot (seq 14139427, fetchOrderBook's seq_no) is stored"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || bids[20][1] || 'x' || bids[20][2] || ' ' || (extract(epoch FROM ts) * 1000)::bigint FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 14139427")" \
   "20 3 66810x0.078 67643.2x3.734 66131.9x0.109 1718377985388" "snapshot: 20 bids and 3 asks, best and worst levels, the frame's ts (µs on the wire)"

tick="last_price, mark_price, index_price, best_bid_price, best_bid_qty, best_ask_price, best_ask_qty, coalesce(volume_24h::text, 'NULL'), turnover_24h, open_interest, coalesce(open_interest_notional::text, 'NULL'), coalesce(price_change_24h::text, 'NULL'), price_change_pct, coalesce(high_24h::text, 'NULL'), coalesce(low_24h::text, 'NULL')"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1718377977.698))" \
        "the market summary gives a ticker row at its ts (created_at 1718377977698 ms)"
# fetchTicker's values at 8 decimals: volume_24h 2611476.262600002 travels as 2611476.26260000 (USD, so turnover);
# bid/ask sizes 1.5 and 3.734 are the mock's (the REST recording has none)
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1718377977.698)")" \
   "66821.1 67275.25940213 66814.28166666 66821.1 1.5 67643.2 3.734 NULL 2611476.2626 152.777 NULL NULL -0.036863 NULL NULL" \
   "ticker: last, mark, index (underlying), best bid/ask with sizes, USD volume as turnover, open interest, 24 h change rate as a fraction"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC)" "the funding data record gives a funding_rates row"
# fundingRate mantissa 1250 at 10^-8, createdAt 1718380800000000 µs, fundingPeriodHours 8; the summary's rate
# (no funding time) writes no row
is "$(q "SELECT count(*) || ' ' || min((extract(epoch FROM funding_time) * 1000)::bigint) || ' ' || min(rate) || ' ' || min(interval_hours) || ' ' || coalesce(min(predicted_rate)::text, 'NULL')
         FROM perps_stats.funding_rates WHERE market_id = $BTC")" \
   "1 1718380800000 0.0000125 8 NULL" "one funding row: created_at as its time, the period's rate, 8 h"
is "$(q "SELECT count(*) FROM perps_stats.tickers WHERE market_id = $BTC")" "1" "the funding record alone writes no ticker row"

# ---- the scripted deltas, trade and bbo ----
act '{"venue":"paradex","action":"replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '1718377985380201703')" \
        "the trade is stored (int64 tradeId as text)"
is "$(q "SELECT (extract(epoch FROM ts) * 1000)::bigint || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades
         WHERE market_id = $BTC AND trade_id = '1718377985380201703'")" \
   "1718377985388 67643.2 0.026 buy" "trade: createdAt, price 6764320000000 and size 2600000 at 10^-8, side 1 = BUY"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 14139429)" \
        "the book after the two deltas (seq 14139429) is stored"
# by hand: delta 14139428 deletes bid 66810, inserts bid 66815.5 x 0.5, sets ask 67643.2 to 2.5;
# delta 14139429 deletes bid 66131.9 and inserts ask 67000 x 0.1: 20 - 1 + 1 - 1 = 19 bids, 3 + 1 = 4 asks
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 14139429"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || (extract(epoch FROM ts) * 1000)::bigint $book")" \
   "19 4 1718377985390" "after the deltas: 19 bids, 4 asks, the last delta's ts"
is "$(q "SELECT bids[1:3] = '{{66815.5,0.5},{66762.2,0.979},{66691.4,0.025}}'::numeric[] AND asks = '{{67000,0.1},{67643.2,2.5},{79981,0.5},{83681,0.5}}'::numeric[] $book")" \
   "t" "best bids: 66815.5 inserted above 66762.2 (66810 deleted); all four asks in order"
is "$(q "SELECT bids[19][1] || 'x' || bids[19][2] || ' ' || (SELECT count(*) FROM generate_subscripts((SELECT bids $book), 1) i, (SELECT bids $book) b
         WHERE b.bids[i][1] IN (66810, 66131.9)) $book")" \
   "66134.9x0.223 0" "worst bid 66134.9 (66131.9 deleted); neither deleted price is left"
# the bbo frame: bid 66815.5 x 0.5, ask 67000 x 0.1 at ts 1718377985391000 µs, merged into the summary's ticker
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1718377985.391))" \
        "the bbo frame gives a ticker row"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1718377985.391)")" \
   "66821.1 67275.25940213 66814.28166666 66815.5 0.5 67000 0.1 NULL 2611476.2626 152.777 NULL NULL -0.036863 NULL NULL" \
   "bbo: best bid/ask and their sizes from the frame, every other field from the summary"

# ---- a skipped sequence number: one gap, one resync ----
act '{"venue":"paradex","action":"book_delta","skip":1}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'paradex'" "a skipped seq counts one gap and one resync"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 14139432 AND bids[1][1] = 66810 AND array_length(bids, 1) = 20)" \
        "the resubscription's fresh snapshot (seq 14139432) rebuilds the book"
is "$(q "SELECT count(*) || ' ' || min(message) || ' ' || min((extract(epoch FROM range_start) * 1000)::bigint) || ' ' || min((extract(epoch FROM range_end) * 1000)::bigint)
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $BTC AND source = 'stream'")" \
   "1 BTC-USD-PERP book: update ids 14139430..14139430 lost; resynced at update id 14139432 1718377985390 1718377985392" \
   "exactly one gap row naming the market, the lost seq and the time range"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 14139431")" "0" "the delta after the gap was not applied"

# ---- version 0 frames of the recorded values ----
t_change=$(q "SELECT now()")
q "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_RECORDED_WS_URL/paradex/v1?sbeSchemaId=1&sbeSchemaVersion=0' WHERE name = 'paradex'" >/dev/null
ok_wait "SELECT state = 'streaming' AND connected_since > '$t_change' FROM perps_stats.stream_status WHERE exchange = 'paradex'" \
        "with sbeSchemaVersion=0 the worker streams again" 40
act '{"venue":"paradex","action":"summary","ts":1718400000000000,"lastPrice":"66900"}'
act '{"venue":"paradex","action":"funding","rate":"-0.00000375","created_at":1718409600000000}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1718400000))" \
        "a version 0 market summary (216-byte block) gives a ticker row"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1718400000)")" \
   "66900 67275.25940213 66814.28166666 66821.1 1.5 67643.2 3.734 NULL 2611476.2626 152.777 NULL NULL -0.036863 NULL NULL" \
   "its fields at the version 0 offsets"
ok_wait "SELECT rate = -0.00000375 AND interval_hours = 8 FROM perps_stats.funding_rates WHERE market_id = $BTC AND funding_time = to_timestamp(1718409600)" \
        "a version 0 funding record (58-byte block) with a negative rate gives its row"

# ---- reset what this test set ----
q "UPDATE perps_stats.exchanges SET ws_url = '$url0' WHERE name = 'paradex'" >/dev/null
q "UPDATE perps_stats.watchlist SET stream = true" >/dev/null
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"

tap_done
