#!/usr/bin/env bash
# The Lighter stream worker against the WebSocket mock (test/mock/ws_venues/lighter.py):
# the recorded CRV book snapshot and its six updates become exactly the book
# worked out by hand, the recorded trade and market statistics exactly their
# rows (ticker and funding), a break in the nonce chain one gap row and one
# resync (unsubscribe + subscribe), a dropped connection a reconnect, and
# malformed frames are counted and skipped.  Expected values are worked out
# by hand from the frames in shared/fixtures/websocket/lighter.  Polls with a
# timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=lighter
. "$(dirname "$0")/../lib/tap.sh"

CRV="(SELECT id FROM perps_stats.markets WHERE exchange_id = 5 AND symbol = 'CRV')"

# Lighter names markets by id only: the markets come from the REST mock first
qs "SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'), greatest((SELECT max(id) FROM perps_stats.markets), 1));
   UPDATE perps_stats.exchanges SET rest_url = '$PERPS_MOCK_URL/lighter', ws_url = '$PERPS_MOCK_WS_URL/lighter/stream' WHERE name = 'lighter';
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

# ---- a break in the nonce chain: one gap, one resync ----
# the update starts 100 nonces after the book's (18032384785): begin_nonce 18032384885, nonce
# 18032384895; the fresh snapshot after the resubscription has nonce 18032384895 + 1000
act '{"venue":"lighter","action":"book_update","skip":100}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'lighter'" "a begin_nonce that is not the book's nonce: one gap and one resync"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 18032385895)" \
        "the resubscription's fresh snapshot (nonce 18032385895) rebuilds the book"
is "$(q "SELECT array_length(bids, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 18032385895")" \
   "39 0.20351x7673.9" "rebuilt from the snapshot's levels"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'gap' AND source = 'stream' AND exchange_id = 5)" "a gap row is written"
is "$(q "SELECT count(*) || ' ' || min(message) || ' ' || min((extract(epoch FROM range_start) * 1000)::bigint) || ' ' || min((extract(epoch FROM range_end) * 1000)::bigint)
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $CRV AND source = 'stream'")" \
   "1 36 book: update ids 18032384786..18032384885 lost; resynced at update id 18032385895 1785358812764 1785358812766" \
   "exactly one gap row: the market, the lost nonces (after the book's, up to the update's begin_nonce), the time range"
is "$(recv '{"type":"unsubscribe","channel":"order_book/36"}') $(recv '{"type":"subscribe","channel":"order_book/36"}') $(recv '{"type":"subscribe","channel":"trade/36"}')" \
   "1 2 1" "the resync unsubscribed and subscribed order_book/36 once, nothing else"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 18032384895")" "0" "the update after the break was not applied"
act '{"venue":"lighter","action":"book_update","bids":[["0.20360","5.0"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 18032385905 AND bids[1][1] = 0.20360 AND bids[1][2] = 5.0 AND array_length(bids, 1) = 40)" \
        "an update continuing the new snapshot's nonce applies (a 40th bid, 0.20360 x 5.0, best)"
is "$(status "gaps || ' ' || resyncs")" "1 1" "still one gap and one resync"

# ---- malformed frames: counted, skipped; the venue's refusals are not ----
pe0=$(status parse_errors)
act '{"venue":"lighter","action":"garbage"}'
act '{"venue":"lighter","action":"truncated","frame":"{\"channel\":\"trade:36\",\"trades\":[],\"type\":\"update/trade\"}"}'
act '{"venue":"lighter","action":"send","frames":["{\"channel\":\"trade:36\",\"trades\":[{\"trade_id\":1,\"market_id\":36,\"size\":{\"x\":1},\"price\":\"0.2\",\"is_maker_ask\":true,\"timestamp\":1785358835916}],\"type\":\"update/trade\"}"]}'
act '{"venue":"lighter","action":"oversized","bytes":9000000}'
act '{"venue":"lighter","action":"trades","count":1,"price":"0.20001","qty":"250.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $CRV AND price = 0.20001 AND qty = 250.5)" \
        "a good frame after the bad ones is stored"
is "$(( $(status parse_errors) - pe0 ))" "4" "garbage, truncated, wrong-typed and oversized frames: four parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $CRV AND trade_id = '1'")" "0" "nothing of the wrong-typed frame is stored"
act '{"venue":"lighter","action":"send","frames":["{\"error\":{\"code\":30003,\"message\":\"Already Subscribed to : order_book:36\"}}","{\"channel\":\"height\",\"height\":301813997,\"timestamp\":1785252531621,\"type\":\"update/height\"}"]}'
ok_wait "SELECT last_error = 'the venue refused a request: Already Subscribed to : order_book:36' FROM perps_stats.stream_status WHERE exchange = 'lighter'" \
        "an error frame is the venue's refusal, in last_error"
is "$(( $(status parse_errors) - pe0 ))" "4" "error and height frames are control frames, no parse error"
is "$(status state)" "streaming" "the connection survived them"

# ---- a dropped connection: reconnect, downtime recorded, stream continues ----
act '{"venue":"lighter","action":"drop"}'
ok_wait "SELECT reconnects = 1 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'lighter'" \
        "after a drop the worker reconnects (backoff from 1 s)" 20
ok_wait "SELECT count(*) = 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 5" \
        "one reconnect row"
is "$(q "SELECT d.range_start = r.range_start AND d.range_end IS NULL AND r.range_end IS NOT NULL AND d.ts <= r.ts
         FROM perps_stats.ingest_events d, perps_stats.ingest_events r
         WHERE d.kind = 'disconnect' AND r.kind = 'reconnect' AND d.source = 'stream' AND r.source = 'stream'
           AND d.exchange_id = 5 AND r.exchange_id = 5")" \
   "t" "disconnect and reconnect rows in the venue's time: both from the last message before the drop, the reconnect to the first after it"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 18032386905)" \
        "the new connection's snapshot (nonce 18032385905 + 1000) is stored"
act '{"venue":"lighter","action":"trades","count":40,"per_frame":2,"rate":100,"price":"0.20002"}'
ok_wait "SELECT count(*) = 40 FROM perps_stats.trades WHERE market_id = $CRV AND price = 0.20002" "40 trades sent at 100/s after the reconnect are all stored"
is "$(q "SELECT count(DISTINCT trade_id) || ' ' || count(*) FILTER (WHERE side = 'buy') || ' ' || count(*) FILTER (WHERE side = 'sell')
         FROM perps_stats.trades WHERE market_id = $CRV AND price = 0.20002")" "40 20 20" "each once, sides alternating with is_maker_ask"
is "$(status "gaps || ' ' || resyncs")" "1 1" "a reconnect is no gap"

# ---- keepalive: a message every 30 s (Lighter closes a connection silent for 2 minutes) ----
pings() { recv '{"type":"ping"}'; }
pe1=$(status parse_errors)
deadline=$((SECONDS + 40 * SLOW))
while [ "$(pings)" = 0 ] && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
is "$([ "$(pings)" -gt 0 ] && echo sent)" "sent" "keepalive: the worker sends {\"type\":\"ping\"} within 30 s of connecting"
is "$(status "state || ' ' || parse_errors")" "streaming $pe1" "the venue's pong is a control frame, no parse error"

# ---- leave the stream workers off and the watchlist as it was ----
qs "UPDATE perps_stats.watchlist SET stream = true;
   DELETE FROM perps_stats.watchlist WHERE exchange = 'lighter' AND symbol = 'CRV';
   UPDATE perps_stats.exchanges SET ws_url = 'wss://mainnet.zklighter.elliot.ai/stream' WHERE name = 'lighter';
   ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.orderbook_store_levels;
   ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"

tap_done
