#!/usr/bin/env bash
# The Lighter stream worker against the WebSocket mock (test/mock/ws_venues/lighter.py)
# serving the project's own payloads (test/payloads/websocket/lighter, written
# from Lighter's documentation): the CRV book snapshot and its six chained
# updates become exactly the book worked out by hand, the trade frame (two
# trades and a liquidation) and the market statistics exactly their rows
# (ticker and funding), a break in the nonce chain one gap row and one resync
# (unsubscribe + subscribe), a dropped connection a reconnect, and malformed
# frames are counted and skipped.  Expected values are worked out by hand from
# those frames.  Polls with a timeout, never a fixed sleep.  TAP.
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
is "$(q "SELECT native_symbol || ' ' || base || ' ' || quote || ' ' || tick_size || ' ' || lot_size FROM perps_stats.markets WHERE exchange_id = 5 AND symbol = 'CRV'")" \
   "36 CRV USDC 0.00001 0.1" "CRV is market 36 (from the REST markets list), 5 price and 1 size decimals"

# ---- start, first book snapshot ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'lighter' AND state = 'streaming'" \
        "the launcher starts the lighter stream worker and it streams from the mock" 30
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'")" "1" \
   "one stream worker (the only venue with streamed watchlist rows)"
recv() { curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c "import json,sys; r=json.load(sys.stdin)['lighter']['received']; print(sum(1 for m in r if json.loads(m) == json.loads(sys.argv[1])))" "$1"; }
is "$(recv '{"type":"subscribe","channel":"order_book/36"}') $(recv '{"type":"subscribe","channel":"trade/36"}') $(recv '{"type":"subscribe","channel":"market_stats/36"}')" \
   "1 1 1" "one subscribe message per channel: order_book/36, trade/36, market_stats/36"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 20931457112)" \
        "the snapshot (nonce 20931457112) is stored"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || (extract(epoch FROM ts) * 1000)::bigint FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 20931457112")" \
   "12 12 0.41229x6150.3 0.41241x5312.4 1795444685042" "snapshot: 12 bids, 12 asks, best bid and ask, the frame's timestamp (ms, not last_updated_at in µs)"

# ---- the six updates: each begin_nonce is the previous nonce ----
act '{"venue":"lighter","action":"replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 20931457647)" \
        "the book after the six updates (nonce 20931457647) is stored"
# by hand, bids: u1 deletes 0.41229 and adds 0.41225 x 4410.9 (12); u3 adds 0.41228 x 500.0,
# sets 0.41213 to 12.5, deletes 0.40800 (12); u4 deletes 0.41228 (11); u5 adds 0.40800 x 9100.0
# again (12); u6 deletes 0.41227 (11).  asks: u1 sets 0.41243 to 3208.0; u2 deletes 0.41241,
# adds 0.41239 x 770.2 (12); u4 adds 0.41245 x 18000.0, deletes 0.43000 (12); u5 deletes
# 0.41239 (11); u6 adds 0.41241 x 1500.0 again (12)
book="FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 20931457647"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || (extract(epoch FROM ts) * 1000)::bigint $book")" \
   "11 12 0.41225x4410.9 0.41241x1500.0 1795444685456" \
   "after the updates: best bid 0.41225 x 4410.9, 11 bids; best ask 0.41241 x 1500.0, 12 asks; the last update's timestamp"
is "$(q "SELECT bids = '{{0.41225,4410.9},{0.41220,31044.1},{0.41213,12.5},{0.41200,15000.0},{0.41187,29631.4},{0.41176,88012.5},{0.41150,3300.3},{0.41101,72455.0},{0.41000,120000.0},{0.40800,9100.0},{0.39000,1000.0}}'::numeric[] $book")" \
   "t" "every bid level as worked out"
is "$(q "SELECT asks = '{{0.41241,1500.0},{0.41243,3208.0},{0.41245,18000.0},{0.41250,24610.7},{0.41262,48275.3},{0.41270,12000.0},{0.41288,37119.6},{0.41301,95420.2},{0.41333,2500.5},{0.41380,61873.9},{0.41452,150000.0},{0.41600,8800.8}}'::numeric[] $book")" \
   "t" "every ask level as worked out"
qty_at() { q "SELECT coalesce((SELECT $1[i][2]::text FROM generate_subscripts($1, 1) i WHERE $1[i][1] = $2), 'absent') $book"; }
is "$(qty_at bids 0.41229) $(qty_at bids 0.41228) $(qty_at bids 0.41227) $(qty_at bids 0.41225) $(qty_at bids 0.41213) $(qty_at bids 0.40800)" \
   "absent absent absent 4410.9 12.5 9100.0" "bid levels the updates deleted, inserted and deleted, changed, deleted and re-added"
is "$(qty_at asks 0.41239) $(qty_at asks 0.41241) $(qty_at asks 0.41243) $(qty_at asks 0.41245) $(qty_at asks 0.43000)" \
   "absent 1500.0 3208.0 18000.0 absent" "ask levels the updates inserted and deleted, deleted and re-added, changed, inserted, deleted"
is "$(q "SELECT bool_and(b[i][1] > b[i+1][1]) FROM (SELECT bids AS b $book) x, generate_subscripts(x.b, 1) i WHERE i < 11")
$(q "SELECT bool_and(a[i][1] < a[i+1][1]) FROM (SELECT asks AS a $book) x, generate_subscripts(x.a, 1) i WHERE i < 12")" \
   "t
t" "bids strictly descending, asks strictly ascending"
# the depth row of that book, by hand: mid = (0.41225 + 0.41241) / 2 = 0.41233;
#  1 bps: bids >= 0.412288767, asks <= 0.412371233: none
#  2.5 bps: bids >= 0.4122269175: 0.41225 x 4410.9 = 1818.393525;
#           asks <= 0.4124330825: 0.41241 x 1500.0 + 0.41243 x 3208.0 = 618.615 + 1323.07544 = 1941.69044
#  10 bps: bids >= 0.41191767: 1818.393525 + 0.41220 x 31044.1 (12796.37802) + 0.41213 x 12.5 (5.151625)
#          + 0.41200 x 15000.0 (6180) = 20799.92317;
#          asks <= 0.41274233: 1941.69044 + 0.41245 x 18000.0 (7424.1) + 0.41250 x 24610.7 (10151.91375)
#          + 0.41262 x 48275.3 (19919.354286) + 0.41270 x 12000.0 (4952.4) = 44389.458476
#  100 bps: bids >= 0.4082067: all but 0.40800 x 9100.0 (3712.8) and 0.39000 x 1000.0 (390) of the
#           153684.837888 the bids hold = 149582.037888; asks <= 0.4164533: all of them, 191600.980011
#  max_bid_bps = (0.41233 - 0.39000) / 0.41233 x 1e4 = 541.55652026...; max_ask_bps = (0.41600 - 0.41233) / 0.41233 x 1e4 = 89.00637838...
liq="FROM perps_stats.liquidity_depth WHERE market_id = $CRV AND ts = to_timestamp(1795444685.456)"
is "$(q "SELECT count(*) || ' ' || min(mid_price) $liq")" "1 0.41233" "one liquidity_depth row with the book, mid = (0.41225 + 0.41241) / 2"
is "$(q "SELECT bid_1bps || ' ' || ask_1bps || ' ' || bid_2_5bps || ' ' || ask_2_5bps || ' ' || bid_10bps || ' ' || ask_10bps
              || ' ' || bid_100bps || ' ' || ask_100bps || ' ' || round(max_bid_bps, 10) || ' ' || round(max_ask_bps, 10) $liq")" \
   "0 0 1818.393525 1941.690440 20799.923170 44389.458476 149582.037888 191600.980011 541.5565202629 89.0063783862" \
   "depth within 1, 2.5, 10 and 100 bps of mid, and how far each side reaches"
slip="FROM perps_stats.slippage WHERE market_id = $CRV AND ts = to_timestamp(1795444685.456)"
# the whole book holds 153684.837888 quote of bids and 191600.980011 of asks: 1000 .. 100000 feasible, 500000 not
is "$(q "SELECT count(*) || ' ' || count(*) FILTER (WHERE feasible) || ' ' || max(amount) FILTER (WHERE feasible) || ' ' || bool_and(avg_price IS NULL) FILTER (WHERE NOT feasible) $slip")" \
   "16 8 100000 true" "16 standard slippage rows; the sizes up to 100000 quote fit in the book, the larger ones have no average"
# 1000 quote: buy 1500.0 at 0.41241 (618.615) and 381.385 / 0.41243 = 924.7266... at 0.41243:
# avg = 1000 / 2424.7266... = 0.41241762747117586..., (avg - mid) / mid x 1e4 = 2.12517816...;
# sell: the best bid holds 1818.39 quote: avg 0.41225, (0.41233 - 0.41225) / 0.41233 x 1e4 = 1.94019353...
is "$(q "SELECT string_agg(side || ' ' || round(avg_price, 12) || ' ' || round(slippage_bps, 8), ', ' ORDER BY side) $slip AND amount = 1000")" \
   "buy 0.412417627471 2.12517816, sell 0.412250000000 1.94019353" "1000 quote: bought over the two best asks, sold at the best bid"

# ---- the trade frame: two trades and a liquidation ----
act '{"venue":"lighter","action":"trade_replay"}'
ok_wait "SELECT count(*) = 3 FROM perps_stats.trades WHERE market_id = $CRV AND trade_id IN ('31250417763', '31250417764', '31250417770')" \
        "the frame's two trades and its liquidation are stored"
is "$(q "SELECT string_agg(trade_id || ' ' || (extract(epoch FROM ts) * 1000)::bigint || ' ' || price || ' ' || qty || ' ' || side, ', ' ORDER BY trade_id)
         FROM perps_stats.trades WHERE market_id = $CRV AND trade_id IN ('31250417763', '31250417764', '31250417770')")" \
   "31250417763 1795444707311 0.41241 1250.0 buy, 31250417764 1795444707311 0.41229 88.4 sell, 31250417770 1795444707402 0.41220 3400.0 sell" \
   "trades: timestamp in ms, price, size; is_maker_ask true -> the taker bought, false -> sold (the liquidated long too)"

# ---- market statistics: a full ticker, and the funding of the hour in progress ----
tick="concat_ws(' ', $(for c in last_price mark_price index_price best_bid_price best_bid_qty best_ask_price best_ask_qty volume_24h turnover_24h open_interest open_interest_notional price_change_24h price_change_pct high_24h low_24h; do printf "coalesce(%s::text, 'NULL'), " $c; done | sed 's/, $//'))"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1795443160.517))" \
        "the statistics sent on subscription (the ETH payload under market 36) are a ticker row"
# open_interest is in USD -> open_interest_notional; daily_price_change -0.8245913072846315 % -> a fraction
is "$(q "SELECT $tick FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1795443160.517)")" \
   "3612.14 3612.02 3611.84 3612.05 NULL 3612.15 NULL 402118.6275 1452870311.742519 NULL 151248720.338614 NULL -0.008245913072846315 3649.93 3541.08" \
   "ticker: last, mark, index, best bid/ask, base and quote volume, OI in USD, change as a fraction, high, low"
# current_funding_rate -0.0031 % = -0.000031, due at the next hour mark after
# 1795443160517 ms (14:12:40.517): 15:00 = 1795446000000
fund() { q "SELECT coalesce(string_agg((extract(epoch FROM funding_time) * 1000)::bigint || ' ' || rate || ' ' || interval_hours || ' ' || coalesce(predicted_rate::text, 'NULL'), ', ' ORDER BY funding_time), 'none')
            FROM perps_stats.funding_rates WHERE market_id = $CRV"; }
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $CRV)" "a funding_rates row from the statistics"
is "$(fund)" "1795446000000 -0.000031 1 NULL" "funding: the current rate in percent as a fraction, for the hour ending 1795446000000, hourly"

act '{"venue":"lighter","action":"market_stats_all"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1795443161.233))" \
        "market_stats:all: the statistics under key 36 are a ticker row (market 116 is not streamed)"
is "$(q "SELECT $tick FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1795443161.233)")" \
   "306.52 306.47 306.41 306.45 NULL 306.55 NULL 4021.7716 1228611.4410990002 NULL 2314870.551260 NULL 0.014352210620797459 308.04 301.86" \
   "its values (the GOOGL payload), JSON numbers kept as their text"
is "$(q "SELECT count(*) FROM perps_stats.tickers t JOIN perps_stats.markets m ON m.id = t.market_id WHERE m.exchange_id = 5 AND m.native_symbol = '116'")" \
   "0" "nothing is stored for market 116, which is not watched"
ok_wait "SELECT rate = 0.000006 FROM perps_stats.funding_rates WHERE market_id = $CRV AND funding_time = to_timestamp(1795446000)" \
        "a newer rate of the same hour (0.0006 % = 0.000006, at 14:12:41.233) replaces the older"
act '{"venue":"lighter","action":"market_stats","timestamp":1795447200000,"fields":{"current_funding_rate":"0.0075","last_trade_price":"3620.55"}}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1795447200))" "an update/market_stats frame is a ticker row"
ok_wait "SELECT count(*) = 2 FROM perps_stats.funding_rates WHERE market_id = $CRV" "the next hour has its own funding row"
is "$(fund)" "1795446000000 0.000006 1 NULL, 1795449600000 0.000075 1 NULL" \
   "funding rows: 1795447200000 ms (15:20) is in the hour ending 1795449600000 (16:00); 0.0075 % = 0.000075"
is "$(q "SELECT last_price || ' ' || mark_price FROM perps_stats.tickers WHERE market_id = $CRV AND ts = to_timestamp(1795447200)")" \
   "3620.55 3612.02" "the update's last price, the rest as before"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" "no gap, resync, parse error or reconnect so far"

# ---- a break in the nonce chain: one gap, one resync ----
# the update starts 100 nonces after the book's (20931457647): begin_nonce 20931457747, nonce
# 20931457757; the fresh snapshot after the resubscription has nonce 20931457757 + 1000
# = 20931458757; the mock times them 1 and 2 ms after the book's last (1795444685456)
act '{"venue":"lighter","action":"book_update","skip":100}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'lighter'" "a begin_nonce that is not the book's nonce: one gap and one resync"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 20931458757)" \
        "the resubscription's fresh snapshot (nonce 20931458757) rebuilds the book"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 20931458757")" \
   "12 12 0.41229x6150.3 0.41241x5312.4" "rebuilt from the snapshot's levels, nothing of the updates left"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'gap' AND source = 'stream' AND exchange_id = 5)" "a gap row is written"
is "$(q "SELECT count(*) || ' ' || min(message) || ' ' || min((extract(epoch FROM range_start) * 1000)::bigint) || ' ' || min((extract(epoch FROM range_end) * 1000)::bigint)
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $CRV AND source = 'stream'")" \
   "1 36 book: update ids 20931457648..20931457747 lost; resynced at update id 20931458757 1795444685456 1795444685458" \
   "exactly one gap row: the market, the lost nonces (after the book's, up to the update's begin_nonce), the time range"
is "$(recv '{"type":"unsubscribe","channel":"order_book/36"}') $(recv '{"type":"subscribe","channel":"order_book/36"}') $(recv '{"type":"subscribe","channel":"trade/36"}')" \
   "1 2 1" "the resync unsubscribed and subscribed order_book/36 once, nothing else"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 20931457757")" "0" "the update after the break was not applied"
act '{"venue":"lighter","action":"book_update","bids":[["0.41234","5.0"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 20931458767 AND bids[1][1] = 0.41234 AND bids[1][2] = 5.0 AND array_length(bids, 1) = 13)" \
        "an update continuing the new snapshot's nonce (20931458757 -> 20931458767) applies: a 13th bid, 0.41234 x 5.0, best"
is "$(status "gaps || ' ' || resyncs")" "1 1" "still one gap and one resync"

# ---- malformed frames: counted, skipped; the venue's refusals are not ----
pe0=$(status parse_errors)
act '{"venue":"lighter","action":"garbage"}'
act '{"venue":"lighter","action":"truncated","frame":"{\"channel\":\"trade:36\",\"trades\":[],\"type\":\"update/trade\"}"}'
act '{"venue":"lighter","action":"send","frames":["{\"channel\":\"trade:36\",\"trades\":[{\"trade_id\":1,\"market_id\":36,\"size\":{\"x\":1},\"price\":\"0.41\",\"is_maker_ask\":true,\"timestamp\":1795444707311}],\"type\":\"update/trade\"}"]}'
act '{"venue":"lighter","action":"oversized","bytes":9000000}'
act '{"venue":"lighter","action":"trades","count":1,"price":"0.41001","qty":"250.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $CRV AND price = 0.41001 AND qty = 250.5)" \
        "a good frame after the bad ones is stored"
is "$(( $(status parse_errors) - pe0 ))" "4" "garbage, truncated, wrong-typed and oversized frames: four parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $CRV AND trade_id = '1'")" "0" "nothing of the wrong-typed frame is stored"
act '{"venue":"lighter","action":"send","frames":["{\"error\":{\"code\":30003,\"message\":\"Already Subscribed to : order_book:36\"}}","{\"channel\":\"height\",\"height\":318800999,\"timestamp\":1795444710004,\"type\":\"update/height\"}"]}'
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
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $CRV AND seq = 20931459767)" \
        "the new connection's snapshot (nonce 20931458767 + 1000) is stored"
act '{"venue":"lighter","action":"trades","count":40,"per_frame":2,"rate":100,"price":"0.41002"}'
ok_wait "SELECT count(*) = 40 FROM perps_stats.trades WHERE market_id = $CRV AND price = 0.41002" "40 trades sent at 100/s after the reconnect are all stored"
is "$(q "SELECT count(DISTINCT trade_id) || ' ' || count(*) FILTER (WHERE side = 'buy') || ' ' || count(*) FILTER (WHERE side = 'sell') || ' ' || min(qty)
         FROM perps_stats.trades WHERE market_id = $CRV AND price = 0.41002")" "40 20 20 100.0" \
   "each once, sides alternating with is_maker_ask, the default size 100.0"
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
# and CRV's rows out of the way: the recorded tier (test/recorded/64_stream_lighter.sh)
# streams the same market and counts its rows
q "DELETE FROM perps_stats.trades WHERE market_id = $CRV; DELETE FROM perps_stats.orderbooks WHERE market_id = $CRV;
   DELETE FROM perps_stats.liquidity_depth WHERE market_id = $CRV; DELETE FROM perps_stats.slippage WHERE market_id = $CRV;
   DELETE FROM perps_stats.tickers WHERE market_id = $CRV; DELETE FROM perps_stats.funding_rates WHERE market_id = $CRV;
   DELETE FROM perps_stats.ingest_events WHERE exchange_id = 5 AND source = 'stream'" >/dev/null

tap_done
