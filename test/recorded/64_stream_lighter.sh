#!/usr/bin/env bash
# The Lighter stream worker against the WebSocket mock of the recorded tier
# (test/services/recorded.sh, test/mock/ws_venues/lighter.py serving
# shared/fixtures/websocket/lighter): the recorded CRV book snapshot and its
# six updates become exactly the book worked out by hand, the recorded trade
# and market statistics exactly their rows (ticker and funding).  Only the
# assertions about the recorded frames' values: the gap, resync, malformed
# frames, reconnect and keepalive are tested on the project's own payloads
# (test/integration/64_stream_lighter.sh).  Expected values are worked out by
# hand from the frames in shared/fixtures/websocket/lighter.  Polls with a
# timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=lighter
. "$(dirname "$0")/../lib/tap.sh"
# act and recv below talk to the recorded tier's WebSocket mock
PERPS_MOCK_WS_CONTROL=$PERPS_RECORDED_WS_CONTROL

CRV="(SELECT id FROM perps_stats.markets WHERE exchange_id = 5 AND symbol = 'CRV')"

# Lighter names markets by id only: the markets come from the REST mock first
qs "SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'), greatest((SELECT max(id) FROM perps_stats.markets), 1));
   UPDATE perps_stats.exchanges SET rest_url = '$PERPS_RECORDED_MOCK_URL/lighter', ws_url = '$PERPS_RECORDED_WS_URL/lighter/stream' WHERE name = 'lighter';
   SELECT perps_stats.refresh_markets('lighter');
   INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('lighter', 'CRV', false, true)
       ON CONFLICT (exchange, symbol) DO UPDATE SET stream = true;
   UPDATE perps_stats.watchlist SET stream = (exchange = 'lighter' AND symbol = 'CRV');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.orderbook_store_levels = 500;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null
is "$(q "SELECT native_symbol || ' ' || base || ' ' || quote FROM perps_stats.markets WHERE exchange_id = 5 AND symbol = 'CRV'")" \
   "36 CRV USDC" "CRV is market 36 (from the REST markets list)"

# ---- start, first book snapshot ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'lighter' AND state = 'streaming'" \
        "the launcher starts the lighter stream worker and it streams from the mock" 30
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'")" "1" \
   "one stream worker (the only venue with streamed watchlist rows)"
recv() { curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c "import json,sys; r=json.load(sys.stdin)['lighter']['received']; print(sum(1 for m in r if json.loads(m) == json.loads(sys.argv[1])))" "$1"; }
is "$(recv '{"type":"subscribe","channel":"order_book/36"}') $(recv '{"type":"subscribe","channel":"trade/36"}') $(recv '{"type":"subscribe","channel":"market_stats/36"}')" \
   "1 1 1" "one subscribe message per channel: order_book/36, trade/36, market_stats/36"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 18032383898)" \
        "the recorded snapshot (nonce 18032383898) is stored"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || (extract(epoch FROM ts) * 1000)::bigint FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 18032383898")" \
   "39 40 0.20351x7673.9 0.20382x7816.7 1785358811976" "snapshot: 39 bids, 40 asks, best bid and ask, the frame's timestamp (ms)"

# ---- the six recorded updates: each begin_nonce is the previous nonce ----
act '{"venue":"lighter","action":"replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 18032384785)" \
        "the book after the six updates (nonce 18032384785) is stored"
# by hand, bids: u1 deletes 0.20351 and 0.20308, adds 0.20302 (39 -> 38); u2 sets 0.20334
# to 55192.5; u3 adds 0.20315, deletes 0.20302; u4 deletes 0.20129 (37); u5 adds 0.20316,
# deletes 0.20315; u6 adds 0.20129 x 200.4 again (38).  asks: u1 adds 0.20416, deletes
# 0.20421; u3 deletes 0.20416, adds 0.20417; u5 deletes 0.20660 (40 -> 39)
book="FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 18032384785"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || (extract(epoch FROM ts) * 1000)::bigint $book")" \
   "38 39 0.20350x2495.4 0.20382x7816.7 1785358812764" \
   "after the updates: best bid 0.20350 x 2495.4, 38 bids; best ask 0.20382 x 7816.7, 39 asks; the last update's timestamp"
is "$(q "SELECT bids[1:9] = '{{0.20350,2495.4},{0.20341,47502.5},{0.20338,47502.5},{0.20335,39327.4},{0.20334,55192.5},{0.20326,18000.0},{0.20316,25775.2},{0.20300,32203.4},{0.20290,40189.8}}'::numeric[] $book")" \
   "t" "best 9 bids: 0.20334 updated, 0.20316 inserted, 0.20308 gone"
is "$(q "SELECT asks[1:9] = '{{0.20382,7816.7},{0.20383,1915.0},{0.20391,18240.6},{0.20395,47502.5},{0.20398,39308.1},{0.20399,47502.5},{0.20410,47518.6},{0.20417,25374.8},{0.20436,2495.4}}'::numeric[] $book")" \
   "t" "best 9 asks: 0.20421 replaced by 0.20417"
qty_at() { q "SELECT coalesce((SELECT $1[i][2]::text FROM generate_subscripts($1, 1) i WHERE $1[i][1] = $2), 'absent') $book"; }
is "$(qty_at bids 0.20351) $(qty_at bids 0.20308) $(qty_at bids 0.20302) $(qty_at bids 0.20315) $(qty_at bids 0.20316) $(qty_at bids 0.20129) $(qty_at bids 0.20121)" \
   "absent absent absent absent 25775.2 200.4 10587.2" "bid levels the updates deleted, inserted, deleted again and re-added"
is "$(qty_at asks 0.20416) $(qty_at asks 0.20417) $(qty_at asks 0.20421) $(qty_at asks 0.20660) $(qty_at asks 0.20673)" \
   "absent 25374.8 absent absent 10587.2" "ask levels the updates changed"
is "$(q "SELECT bids[38][1] || 'x' || bids[38][2] || ' ' || asks[39][1] || 'x' || asks[39][2] $book")" \
   "0.10500x426.6 0.62997x426.6" "worst levels unchanged"
is "$(q "SELECT bool_and(b[i][1] > b[i+1][1]) FROM (SELECT bids AS b $book) x, generate_subscripts(x.b, 1) i WHERE i < 38")
$(q "SELECT bool_and(a[i][1] < a[i+1][1]) FROM (SELECT asks AS a $book) x, generate_subscripts(x.a, 1) i WHERE i < 39")" \
   "t
t" "bids strictly descending, asks strictly ascending"
liq="FROM perps_stats.liquidity_depth WHERE market_id = $CRV AND ts = to_timestamp(1785358812.764)"
is "$(q "SELECT count(*) || ' ' || min(mid_price) $liq")" "1 0.20366" "one liquidity_depth row with the book, mid = (0.20350 + 0.20382) / 2"
slip="FROM perps_stats.slippage WHERE market_id = $CRV AND ts = to_timestamp(1785358812.764)"
# 1000 quote: the best ask holds 0.20382 x 7816.7 = 1593.2 quote, the best bid only 507.8
# by hand: the book holds 568225.17 quote of bids and 573312.57 of asks: 1000 .. 500000 feasible
is "$(q "SELECT count(*) || ' ' || count(*) FILTER (WHERE feasible) || ' ' || max(amount) FILTER (WHERE feasible) $slip")" "16 10 500000" \
   "16 standard slippage rows; the sizes up to 500000 quote fit in the book"
is "$(q "SELECT string_agg(side || ' ' || (CASE side WHEN 'buy' THEN avg_price = 0.20382 ELSE avg_price < 0.20350 AND avg_price > 0.20341 END), ', ' ORDER BY side) $slip AND amount = 1000")" \
   "buy true, sell true" "1000 quote: bought at the best ask, sold over the two best bids"

# ---- the recorded trade ----
act '{"venue":"lighter","action":"trade_replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $CRV AND trade_id = '26412422124')" "the recorded trade is stored"
is "$(q "SELECT (extract(epoch FROM ts) * 1000)::bigint || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades
         WHERE market_id = $CRV AND trade_id = '26412422124'")" \
   "1785358835916 0.20382 0.7 buy" "trade: timestamp in ms, price, size; is_maker_ask true -> the taker bought"

# ---- market statistics: a full ticker, and the funding of the hour in progress ----
tick="concat_ws(' ', $(for c in last_price mark_price index_price best_bid_price best_bid_qty best_ask_price best_ask_qty volume_24h turnover_24h open_interest open_interest_notional price_change_24h price_change_pct high_24h low_24h; do printf "coalesce(%s::text, 'NULL'), " $c; done | sed 's/, $//'))"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1785252530.326))" \
        "the statistics sent on subscription (the ETH recording under market 36) are a ticker row"
# open_interest is in USD -> open_interest_notional; daily_price_change -1.29...% -> a fraction
is "$(q "SELECT $tick FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1785252530.326)")" \
   "1914.28 1914.32 1915.31 1914.26 NULL 1914.28 NULL 220273.9901 418335825.404646 NULL 86574362.972120 NULL -0.012914301622407474 1954.58 1856.3" \
   "ticker: last, mark, index, best bid/ask, base and quote volume, OI in USD, change as a fraction, high, low"
# current_funding_rate -0.0012 % = -0.000012, due at the next hour mark after 1785252530326 ms
fund() { q "SELECT coalesce(string_agg((extract(epoch FROM funding_time) * 1000)::bigint || ' ' || rate || ' ' || interval_hours || ' ' || coalesce(predicted_rate::text, 'NULL'), ', ' ORDER BY funding_time), 'none')
            FROM perps_stats.funding_rates WHERE market_id = $CRV"; }
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $CRV)" "a funding_rates row from the statistics"
is "$(fund)" "1785254400000 -0.000012 1 NULL" "funding: the current rate in percent as a fraction, for the hour ending 1785254400000, hourly"

act '{"venue":"lighter","action":"market_stats_all"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1785252530.620))" \
        "market_stats:all: the statistics under key 36 are a ticker row (market 116 is not streamed)"
is "$(q "SELECT $tick FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1785252530.620)")" \
   "332.89 332.80 332.58 332.82 NULL 332.89 NULL 1887.7484 617554.8948070001 NULL 1580482.874880 NULL 0.018573483063553746 333.27 323.78" \
   "its values (the GOOGL recording), JSON numbers kept as their text"
ok_wait "SELECT rate = 0.000004 FROM perps_stats.funding_rates WHERE market_id = $CRV AND funding_time = to_timestamp(1785254400)" \
        "a newer rate of the same hour (0.0004 % = 0.000004) replaces the older"
act '{"venue":"lighter","action":"market_stats","timestamp":1785255600000,"fields":{"current_funding_rate":"0.0050","last_trade_price":"1920.00"}}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1785255600))" "an update/market_stats frame is a ticker row"
ok_wait "SELECT count(*) = 2 FROM perps_stats.funding_rates WHERE market_id = $CRV" "the next hour has its own funding row"
is "$(fund)" "1785254400000 0.000004 1 NULL, 1785258000000 0.000050 1 NULL" \
   "funding rows: 1785255600000 ms is in the hour ending 1785258000000; 0.0050 % = 0.000050 (the scale of the text kept)"
is "$(q "SELECT last_price || ' ' || mark_price FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1785255600)")" \
   "1920.00 1914.32" "the update's last price"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" "no gap, resync, parse error or reconnect so far"

# ---- leave the stream workers off and the watchlist as it was ----
qs "UPDATE perps_stats.watchlist SET stream = true;
   DELETE FROM perps_stats.watchlist WHERE exchange = 'lighter' AND symbol = 'CRV';
   UPDATE perps_stats.exchanges SET ws_url = 'wss://mainnet.zklighter.elliot.ai/stream' WHERE name = 'lighter';
   ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.orderbook_store_levels;
   ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"

tap_done
