#!/usr/bin/env bash
# The Bybit stream worker against the WebSocket mock (test/mock/ws_venues/bybit.py)
# serving the project's own frames (test/payloads/websocket/bybit_v5_linear):
# the frames become exactly the expected rows (books, their liquidity depth
# and slippage, trades, tickers merged from a snapshot and deltas, funding),
# a skipped update id one resync and one gap row, a crossed book a resync,
# u = 1 a new snapshot, a dropped or silent connection a reconnect with its
# downtime recorded, malformed frames counted and skipped, failing writes
# kept, and SIGTERM writes what is buffered.  Expected values are worked out
# by hand from the frames.  Polls with a timeout, never a fixed sleep.  TAP.
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
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 28406117)" \
        "the snapshot (u 28406117) is stored"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || (extract(epoch FROM ts) * 1000)::bigint FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 28406117")" \
   "12 12 96999.90x0.412 97000.10x0.388 1794907800417" "snapshot: 12 levels a side, best bid and ask, the frame's ts"
# liquidity depth of the snapshot, by hand: mid = (96999.90 + 97000.10) / 2 = 97000.00, so the
# bounds mid x (1 -/+ bps / 10^4) are bids >= 96990.30 96975.75 96951.50 96903.00 96806.00 96515.00
# 96030.00 and asks <= 97009.70 97024.25 97048.50 97097.00 97194.00 97485.00 97970.00 (1 .. 100 bps),
# five of them exactly on a level (inclusive);
#   bids: 96999.90 x 0.412 = 39963.9588, 96998.50 x 1.250 = 121248.125, 96995.00 x 0.030 = 2909.85,
#         96990.30 x 2 = 193980.6 -> 1 bps 358102.5338; + 96982.10 x 0.857 = 83113.6597
#         + 96975.80 x 3.141 = 304600.9878 -> 2.5 bps 745817.1813; + 96951.50 x 0.5 = 48475.75
#         -> 5 bps 794292.9313; + 96920.00 x 4 = 387680 + 96903.00 x 1.111 = 107659.233
#         -> 10 bps 1289632.1643; + 96806.00 x 5 = 484030 -> 20 bps 1773662.1643;
#         + 96600.00 x 7.25 = 700350 -> 50 and 100 bps 2474012.1643 (96029.90 is beyond)
#   asks: 97000.10 x 0.388 = 37636.0388, 97001.00 x 0.75 = 72750.75, 97009.70 x 1.5 = 145514.55
#         -> 1 bps 255901.3388; + 97015.00 x 0.021 = 2037.315 -> 2.5 bps 257938.6538 (97024.30 is
#         beyond 97024.25); + 97024.30 x 2.222 = 215587.9946 + 97048.50 x 0.9 = 87343.65
#         -> 5 bps 560870.2984; + 97080.00 x 3 = 291240 + 97097.00 x 1 = 97097 -> 10 bps 949207.2984;
#         + 97150.00 x 6.5 = 631475 -> 20 bps 1580682.2984 (97194.10 is beyond 97194.00);
#         + 97194.10 x 2 = 194388.2 + 97485.00 x 4.4 = 428934 -> 50 bps 2204004.4984;
#         + 97900.00 x 8 = 783200 -> 100 bps 2987204.4984
#   deepest levels: (97000 - 96029.90) / 97000 x 10^4 = 100.0103092784 bps,
#                   (97900 - 97000) / 97000 x 10^4 = 92.7835051546 bps
cols="mid_price, bid_1bps, bid_2_5bps, bid_5bps, bid_10bps, bid_20bps, bid_50bps, bid_100bps,
      ask_1bps, ask_2_5bps, ask_5bps, ask_10bps, ask_20bps, ask_50bps, ask_100bps, round(max_bid_bps, 10), round(max_ask_bps, 10)"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1794907800.417))" \
        "the snapshot's liquidity depth is stored"
is "$(q "SELECT row($cols) = row(97000.00, 358102.5338, 745817.1813, 794292.9313, 1289632.1643, 1773662.1643, 2474012.1643, 2474012.1643,
                                255901.3388, 257938.6538, 560870.2984, 949207.2984, 1580682.2984, 2204004.4984, 2987204.4984,
                                100.0103092784, 92.7835051546)
         FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1794907800.417)")" \
   "t" "snapshot depth: every band of both sides, the bounds inclusive"

# ---- the payloads' delta, trades and ticker delta ----
act '{"venue":"bybit","action":"replay"}'
ok_wait "SELECT count(*) = 3 FROM perps_stats.trades WHERE market_id = $BTC AND ts BETWEEN to_timestamp(1794907800.509) AND to_timestamp(1794907800.511)" \
        "the frame's three trades are stored"
is "$(q "SELECT string_agg(trade_id || ' ' || (extract(epoch FROM ts) * 1000)::bigint || ' ' || price || ' ' || qty || ' ' || side, ', ' ORDER BY ts, qty DESC)
         FROM perps_stats.trades WHERE market_id = $BTC AND ts BETWEEN to_timestamp(1794907800.509) AND to_timestamp(1794907800.511)")" \
   "d41f8a62-0c7b-5e93-a1f4-7b2e9c05d318 1794907800509 97000.10 0.150 buy, 6e2b0c97-d3a8-5f14-b65e-19f0a4c7e2d6 1794907800509 97000.10 0.002 buy, a8c3e5f1-47b2-5d06-9e1a-c20f7d8b4a63 1794907800511 96999.90 0.075 sell" \
   "trades: i, T, p, v exactly as sent, S Buy / Sell -> buy / sell"
# kline.open.json then kline.closed.json (topic kline.1.BTCUSDT, interval "1" = 1m): the candle of
# start 1796116440000 (2026-12-01 09:14:00 UTC), end 1796116499999, going (confirm false, close
# 96985.5), then confirmed: open 96950.1 high 97012.3 low 96931.2 close 97001.7 volume 25.678
# turnover 2490123.456700000000000000000001 (24 decimals); in the same frame the next candle
# opens at 1796116500000: 97001.7 / 97003.2 / 97001.7 / 97003.2, volume 0.004, turnover 388.0124
kl="FROM perps_stats.klines WHERE market_id = $BTC AND \"interval\" = '1m'"
ok_wait "SELECT count(*) = 2 AND bool_or(close = 97001.7) $kl" "the kline stream: the confirmed candle and the next one are stored"
is "$(q "SELECT string_agg((extract(epoch FROM open_time) * 1000)::bigint || ' ' || (extract(epoch FROM close_time) * 1000)::bigint || ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || turnover || ' ' || coalesce(trade_count::text, 'NULL'), ', ' ORDER BY open_time) $kl")" \
   "1796116440000 1796116499999 96950.1 97012.3 96931.2 97001.7 25.678 2490123.456700000000000000000001 NULL, 1796116500000 1796116559999 97001.7 97003.2 97001.7 97003.2 0.004 388.0124 NULL" \
   "klines: start and end, the prices, volume and turnover exactly as sent (the confirmed candle replaced the going one); Bybit counts no trades"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 28406118)" \
        "the book after the delta (u 28406118) is stored"
# by hand: the delta updates bid 96998.50 (1.250 -> 0.975), deletes bids 96995.00 and 96920.00,
# inserts bids 96993.60 and 96700.00; inserts asks 97003.30 and 97960.00 (after the last),
# deletes asks 97015.00 and 97485.00, updates ask 97150.00 (6.500 -> 6.125)
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 28406118"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || (extract(epoch FROM ts) * 1000)::bigint $book")" \
   "12 12 1794907800437" "after the delta: 12 levels a side, the delta's ts"
is "$(q "SELECT bids = '{{96999.90,0.412},{96998.50,0.975},{96993.60,0.060},{96990.30,2.000},{96982.10,0.857},{96975.80,3.141},
                         {96951.50,0.500},{96903.00,1.111},{96806.00,5.000},{96700.00,1.750},{96600.00,7.250},{96029.90,10.000}}'::numeric[] $book")" \
   "t" "bids after the delta: updated, deleted and inserted in order, best first"
is "$(q "SELECT asks = '{{97000.10,0.388},{97001.00,0.750},{97003.30,0.015},{97009.70,1.500},{97024.30,2.222},{97048.50,0.900},
                         {97080.00,3.000},{97097.00,1.000},{97150.00,6.125},{97194.10,2.000},{97900.00,8.000},{97960.00,0.333}}'::numeric[] $book")" \
   "t" "asks after the delta: updated, deleted and inserted in order, best first"
# liquidity depth after the delta, by hand (mid still 97000.00, the same bounds):
#   bids: 39963.9588 + 96998.50 x 0.975 = 94573.5375 + 96993.60 x 0.06 = 5819.616 + 193980.6
#         -> 1 bps 334337.7123; + 83113.6597 + 304600.9878 -> 2.5 bps 722052.3598; + 48475.75
#         -> 5 bps 770528.1098; + 107659.233 -> 10 bps 878187.3428; + 484030 -> 20 bps 1362217.3428;
#         + 96700.00 x 1.75 = 169225 + 700350 -> 50 and 100 bps 2231792.3428
#   asks: 37636.0388 + 72750.75 + 97003.30 x 0.015 = 1455.0495 + 145514.55 -> 1 and 2.5 bps
#         257356.3883; + 215587.9946 + 87343.65 -> 5 bps 560288.0329; + 291240 + 97097
#         -> 10 bps 948625.0329; + 97150.00 x 6.125 = 595043.75 -> 20 bps 1543668.7829;
#         + 194388.2 -> 50 bps 1738056.9829; + 783200 + 97960.00 x 0.333 = 32620.68
#         -> 100 bps 2553877.6629 (97960.00 <= 97970.00)
#   deepest ask now (97960 - 97000) / 97000 x 10^4 = 98.9690721649 bps
liq="FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1794907800.437)"
is "$(q "SELECT count(*) $liq")" "1" "one liquidity_depth row with the book"
is "$(q "SELECT row($cols) = row(97000.00, 334337.7123, 722052.3598, 770528.1098, 878187.3428, 1362217.3428, 2231792.3428, 2231792.3428,
                                257356.3883, 257356.3883, 560288.0329, 948625.0329, 1543668.7829, 1738056.9829, 2553877.6629,
                                100.0103092784, 98.9690721649) $liq")" \
   "t" "depth after the delta: every band of both sides"
slip="FROM perps_stats.slippage WHERE market_id = $BTC AND ts = to_timestamp(1794907800.437)"
is "$(q "SELECT count(*) $slip")" "16" "16 standard slippage rows (8 sizes, buy and sell)"
# 1000 quote fits in the best level: buy at the best ask, sell at the best bid
is "$(q "SELECT string_agg(side || ' ' || (avg_price = CASE side WHEN 'buy' THEN 97000.10 ELSE 96999.90 END) || ' ' || feasible, ', ' ORDER BY side) $slip AND amount = 1000")" \
   "buy true true, sell true true" "1000 quote: filled at the best ask (97000.10) / bid (96999.90)"
# buy 100000: 0.388 at 97000.10 (37636.0388), the remaining 62363.9612 at 97001.00 = 0.64292080700...
# base; avg = 100000 / 1.03092080700198967... = 97000.66127369083..., (avg - 97000) / 97000 x 10^4
# = 0.06817254544... bps
is "$(q "SELECT round(avg_price, 10) || ' ' || round(slippage_bps, 10) || ' ' || feasible $slip AND amount = 100000 AND side = 'buy'")" \
   "97000.6612736908 0.0681725454 true" "buy 100K walks two ask levels"
# the asks hold 2553877.6629, the bids 3192091.3428: 5M is more than either side
is "$(q "SELECT string_agg(side || ' ' || feasible || ' ' || coalesce(avg_price::text, 'NULL'), ', ' ORDER BY side) $slip AND amount = 5000000")" \
   "buy false NULL, sell false NULL" "5M quote: infeasible either way"

tick="last_price, mark_price, index_price, best_bid_price, best_bid_qty, best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional, coalesce(price_change_24h::text, 'NULL'), price_change_pct, high_24h, low_24h"
ok_wait "SELECT count(*) = 2 FROM perps_stats.tickers WHERE market_id = $BTC AND ts IN (to_timestamp(1794907800.380), to_timestamp(1794907800.580))" \
        "two ticker rows: the snapshot and the merged delta"
# price_change_24h = lastPrice - prevPrice24h = 97000.10 - 95613.40 = 1386.70
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1794907800.380)")" \
   "97000.10 97001.37 97015.82 96999.90 0.412 97000.10 0.388 90342.118 8731450912.774316 54812.366 5316874594.94 1386.70 0.014503 97250.00 95420.50" \
   "ticker snapshot row (ts 1794907800380) with the frame's values"
# the delta: lastPrice 96999.90 (change 96999.90 - 95613.40 = 1386.50), markPrice, price24hPcnt,
# openInterest(Value), bid1Size and ask1Size; the rest from the snapshot
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1794907800.580)")" \
   "96999.90 97000.95 97015.82 96999.90 0.337 97000.10 0.236 90342.118 8731450912.774316 54812.866 5316900074.22 1386.50 0.014501 97250.00 95420.50" \
   "ticker delta row: the delta's fields, every other field from the snapshot"
act '{"venue":"bybit","action":"send","frames":["{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"data\":{\"symbol\":\"BTCUSDT\",\"lastPrice\":\"97100.00\"},\"cs\":412968335900,\"ts\":1794907810000}"]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1794907810))" "a ticker delta with a new last price"
# 97100.00 - 95613.40 = 1486.60; the best bid/ask sizes and the mark stay those of the previous delta
is "$(q "SELECT concat_ws(' ', last_price, price_change_24h, best_bid_qty, best_ask_qty, mark_price) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1794907810)")" \
   "97100.00 1486.60 0.337 0.236 97000.95" "the 24 h change follows the new last price; other fields stay merged"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" "no gap, resync, parse error or reconnect so far"
# the ticker snapshot's funding: fundingRate 0.00008125 for the period ending at nextFundingTime
# 1794931200000 ms (2026-11-17 16:00), fundingIntervalHour 8; the deltas carry no funding
is "$(q "SELECT (extract(epoch FROM funding_time) * 1000)::bigint || ' ' || rate || ' ' || interval_hours || ' ' || coalesce(predicted_rate::text, 'NULL')
         FROM perps_stats.funding_rates WHERE market_id = $BTC")" \
   "1794931200000 0.00008125 8 NULL" "one funding_rates row from the ticker stream: the next funding time, its rate and interval"
# rows: 2 books x (1 book + 1 depth + 16 slippage) + 3 trades + 3 tickers + 1 funding rate = 43,
# and the klines: 2 rows, or 3 writes when the going candle was flushed before the confirmed one
# replaced it (a replacement is a row taken); messages: the subscription's answer, 2 snapshots,
# the delta, the trades, 2 ticker deltas = 7; the five payload frames alone are 2660 bytes
is "$(q "SELECT rows_written BETWEEN 45 AND 46 AND messages >= 7 AND bytes > 2660 AND last_message_at IS NOT NULL AND connected_since IS NOT NULL FROM perps_stats.stream_status WHERE exchange = 'bybit'")" \
   "t" "status counts messages, bytes and rows written (2 books with 1 depth and 16 slippage rows each, 3 trades, 3 tickers, 1 funding rate, 2 klines)"
rows0=$(status rows_written)
# the same over HTTP: PostgREST (test/services/postgrest.sh) serves perps_api.stream_status
# and health() the state by venue
http() { curl -s -m 5 "$PERPS_POSTGREST_URL$1"; }
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$PERPS_POSTGREST_URL$1"; }
pgrst_reload /stream_status /rpc/health
is "$(http '/stream_status?select=exchange,state,rows_written,gaps,parse_errors')" \
   '[{"exchange":"bybit","state":"streaming","rows_written":'"$rows0"',"gaps":0,"parse_errors":0}]' \
   "GET /stream_status: the worker's state and counters as JSON"
is "$(http '/rpc/health' | jq -c .streams)" '{"bybit":"streaming"}' "GET /rpc/health: the stream workers' states by venue"
is "$(code '/stream_status?select=pid')" "400" \
   "the workers' process ids are not served"

# a delta carries only what changed: a new fundingRate without nextFundingTime is the rate of
# the period already known (ending 1794931200000), which has not settled at ts 1794907820000
act '{"venue":"bybit","action":"send","frames":["{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"data\":{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"0.00009000\"},\"cs\":412968335950,\"ts\":1794907820000}"]}'
ok_wait "SELECT count(*) = 1 FROM perps_stats.funding_rates WHERE market_id = $BTC AND funding_time = to_timestamp(1794931200)
           AND rate = 0.00009000 AND interval_hours = 8" \
        "a funding-only delta updates the known period's rate (the interval kept), no second row"

# ---- a skipped update id: one gap, one resync ----
# (the mock's book frames after the delta: ts + 1 ms each, u + 1 each, skip: u + 2)
act '{"venue":"bybit","action":"book_delta","skip":1}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'bybit'" "a skipped u counts one gap and one resync"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 28406121)" \
        "the resubscription's fresh snapshot (u 28406121) rebuilds the book"
is "$(q "SELECT count(*) || ' ' || min(message) || ' ' || min((extract(epoch FROM range_start) * 1000)::bigint) || ' ' || min((extract(epoch FROM range_end) * 1000)::bigint)
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $BTC AND source = 'stream'")" \
   "1 BTCUSDT book: update ids 28406119..28406119 lost; resynced at update id 28406121 1794907800437 1794907800439" \
   "exactly one gap row naming the market, the lost ids and the time range (the delta's ts to the fresh snapshot's)"
recv=$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; r=json.load(sys.stdin)["bybit"]["received"]; print(sum(1 for m in r if json.loads(m).get("op") == "unsubscribe" and json.loads(m)["args"] == ["orderbook.50.BTCUSDT"]))')
is "$recv" "1" "the resync unsubscribed and subscribed the book topic once"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 28406120")" "0" "the update after the gap was not applied"

# ---- a delta that crosses the book: one resync, no gap ----
act '{"venue":"bybit","action":"book_delta","bids":[["97100.00","1.000"]]}'
ok_wait "SELECT gaps = 1 AND resyncs = 2 FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "a bid above the best ask (97000.10) is a crossed book: a resync, not a gap"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'resync' AND market_id = $BTC
         AND message = 'BTCUSDT book crossed at update id 28406122; resynced at update id 28406123')" \
        "its resync row names the crossing update and the fresh snapshot"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 28406123 AND bids[1][1] = 96999.90)" \
        "the book is rebuilt from the fresh snapshot"

# ---- u = 1: a new snapshot (Bybit restarted), not a gap ----
act '{"venue":"bybit","action":"u1_snapshot"}'
act '{"venue":"bybit","action":"book_delta","asks":[["97000.10","0"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 2 AND asks[1][1] = 97001.00)" \
        "after a u = 1 snapshot the delta u = 2 applies (best ask 97000.10 deleted)"
is "$(status "gaps || ' ' || resyncs")" "1 2" "u = 1 counts no gap and no resync"

# ---- malformed frames: counted, skipped, the stream goes on ----
pe0=$(status parse_errors)
act '{"venue":"bybit","action":"garbage"}'
act '{"venue":"bybit","action":"truncated","frame":"{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"ts\":1794907830000,\"data\":{\"symbol\":\"BTCUSDT\",\"bid1Size\":\"1\"}}"}'
act '{"venue":"bybit","action":"send","frames":["{\"topic\":\"publicTrade.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1794907830000,\"data\":[{\"T\":1794907830000,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":{\"x\":1},\"p\":\"1\",\"i\":\"bad-1\"}]}"]}'
act '{"venue":"bybit","action":"oversized","bytes":5000000}'
act '{"venue":"bybit","action":"trades","count":1,"price":"96990.5","qty":"0.25"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 96990.5 AND qty = 0.25)" \
        "a good frame after the bad ones is stored"
is "$(( $(status parse_errors) - pe0 ))" "4" "garbage, truncated, wrong-typed and oversized frames: four parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id = 'bad-1'")" "0" "nothing of the wrong-typed frame is stored"
is "$(status state)" "streaming" "the connection survived them"
# the garbage frame (0x7f and "not json at all{": 17 bytes) is recorded; the two after it, within the minute, only counted
is "$(q "SELECT count(*) || ' ' || bool_and(message LIKE 'a frame of 17 bytes could not be read: malformed JSON at byte 0%')
         FROM perps_stats.ingest_events WHERE kind = 'error' AND source = 'stream' AND message LIKE 'a frame of %'")" "1 true" \
   "the first unreadable frame is recorded in ingest_events, the next ones within a minute only counted"

# ---- a trade stored before, sent again with a new one: the batch's COPY is refused,
# the INSERT ... ON CONFLICT fallback writes the new one and skips the other ----
act '{"venue":"bybit","action":"send","frames":["{\"topic\":\"publicTrade.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1794907800600,\"data\":[{\"T\":1794907800509,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"0.150\",\"p\":\"97000.10\",\"L\":\"PlusTick\",\"i\":\"d41f8a62-0c7b-5e93-a1f4-7b2e9c05d318\",\"BT\":false},{\"T\":1794907800590,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"0.5\",\"p\":\"97000.10\",\"L\":\"ZeroPlusTick\",\"i\":\"dup-test-new\\t1\",\"BT\":false}]}"]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = E'dup-test-new\\t1')" \
        "a batch with an already stored trade: the new trade is written (its id has a tab, escaped for COPY)"
is "$(q "SELECT count(*) || ' ' || min(price) || ' ' || min(qty) FROM perps_stats.trades WHERE trade_id = 'd41f8a62-0c7b-5e93-a1f4-7b2e9c05d318'")" \
   "1 97000.10 0.150" "the trade sent twice is stored once"
is "$(status "last_error NOT LIKE 'flush failed%'")" "t" "and the flush did not fail"

# ---- a trades table with a row trigger: the multi-insert path (src/bulk.c,
# which fires no triggers) refuses it, and the INSERT writes the batch, so
# the trigger sees every row ----
qs "CREATE TABLE public.trade_seen (trade_id text);
    CREATE FUNCTION public.trade_seen_f() RETURNS trigger LANGUAGE plpgsql
        AS \$\$BEGIN INSERT INTO public.trade_seen VALUES (NEW.trade_id); RETURN NULL; END\$\$;
    CREATE TRIGGER trade_seen AFTER INSERT ON perps_stats.trades FOR EACH ROW EXECUTE FUNCTION public.trade_seen_f();" >/dev/null
act '{"venue":"bybit","action":"send","frames":["{\"topic\":\"publicTrade.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1794907800700,\"data\":[{\"T\":1794907800680,\"s\":\"BTCUSDT\",\"S\":\"Sell\",\"v\":\"0.25\",\"p\":\"96999.80\",\"L\":\"MinusTick\",\"i\":\"trig-1\",\"BT\":false},{\"T\":1794907800690,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"1.5\",\"p\":\"97000.20\",\"L\":\"PlusTick\",\"i\":\"trig-2\",\"BT\":false}]}"]}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.trades WHERE trade_id LIKE 'trig-%'" \
        "with a row trigger on trades, the batch is written"
is "$(q "SELECT string_agg(trade_id, ',' ORDER BY trade_id) FROM public.trade_seen")" "trig-1,trig-2" \
   "and the trigger saw both rows (written by the INSERT, not the multi-insert path)"
is "$(q "SELECT string_agg(side || ' ' || price || ' ' || qty, ', ' ORDER BY trade_id) FROM perps_stats.trades WHERE trade_id LIKE 'trig-%'")" \
   "sell 96999.80 0.25, buy 97000.20 1.5" "their values"
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
act '{"venue":"bybit","action":"trades","count":3,"per_frame":3,"price":"96992.5"}'
ok_wait "SELECT count(*) = 3 FROM perps_stats.trades WHERE market_id = $BTC AND price = 96992.5" "the stream continues after the reconnect"

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
act '{"venue":"bybit","action":"trades","count":40,"rate":100,"price":"96993.5"}'
ok_wait "SELECT count(*) = 40 FROM perps_stats.trades WHERE market_id = $BTC AND price = 96993.5" "40 trades sent at 100/s are all stored"
is "$(q "SELECT count(DISTINCT trade_id) || ' ' || count(*) FILTER (WHERE side = 'buy') || ' ' || count(*) FILTER (WHERE side = 'sell')
         FROM perps_stats.trades WHERE market_id = $BTC AND price = 96993.5")" "40 20 20" "each once, sides alternating"

# ---- writes that fail: rows kept, reading paused when the buffer is full, nothing lost ----
qs "CREATE FUNCTION public.perps_test_refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'refused by the test'; END\$\$;
    CREATE TRIGGER perps_test_refuse BEFORE INSERT ON perps_stats.trades FOR EACH ROW
        WHEN (NEW.price = 96995.5) EXECUTE FUNCTION public.perps_test_refuse();" >/dev/null
# 12000 trades in frames of 500: more than the buffer's bound (10 x flush_rows = 10000)
act '{"venue":"bybit","action":"trades","count":12000,"per_frame":500,"rate":50000,"price":"96995.5"}'
ok_wait "SELECT state = 'backpressure' AND buffered_rows >= 10000 AND buffered_rows < 10600 AND last_error LIKE 'flush failed: refused by the test%'
         FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "a failing write keeps the rows; at the bound the worker stops reading and says backpressure" 30
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE price = 96995.5")" "0" "nothing of the refused batch is written"
q "DROP TRIGGER perps_test_refuse ON perps_stats.trades; DROP FUNCTION public.perps_test_refuse()" >/dev/null
ok_wait "SELECT count(*) = 12000 FROM perps_stats.trades WHERE market_id = $BTC AND price = 96995.5" \
        "once writes succeed again, all 12000 trades are written (the retried batch and what waited in the socket)" 60
ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'bybit'" "and the worker streams on"
is "$(q "SELECT count(*) FROM perps_stats.ingest_events WHERE kind = 'error' AND source = 'stream' AND message NOT LIKE 'a frame of %'")" "0" "no rows were dropped"

# ---- SIGTERM writes what is buffered ----
qs "ALTER SYSTEM SET perps_stats.flush_interval = 60000; ALTER SYSTEM SET perps_stats.flush_rows = 1000000; SELECT pg_reload_conf()" >/dev/null
pid0=$(status pid)
q "SELECT pg_terminate_backend($pid0)" >/dev/null
# a worker started after the reload has the long flush interval
ok_wait "SELECT state = 'streaming' AND pid <> $pid0 FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "SIGTERM stops the worker and the launcher starts a new one" 30
# its book snapshot (1 book row, 1 depth row, 16 slippage rows: stored on the first book tick
# after the snapshot came, up to book_snapshot_interval later), the ticker snapshot's row and its
# funding row: 20 rows; wait for all of them, or five more trades could meet a later book row
ok_wait "SELECT buffered_rows >= 20 FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "the new worker buffers its book, ticker and funding rows"
b0=$(status buffered_rows)
act '{"venue":"bybit","action":"trades","count":5,"per_frame":5,"price":"96989.5"}'
# the replayed snapshots are older than the last message the previous worker stored; the first
# of the five trades is newer: it closes the worker's own outage, one reconnect row more
ok_wait "SELECT buffered_rows = $b0 + 5 + 1 FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "five trades buffered, and the record of the outage their first one closes"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE price = 96989.5")" "0" "and not written yet (flush_interval 60 s)"
pid1=$(status pid)
q "SELECT pg_terminate_backend($pid1)" >/dev/null
ok_wait "SELECT count(*) = 5 FROM perps_stats.trades WHERE market_id = $BTC AND price = 96989.5" "SIGTERM flushed them before the worker exited" 10
is "$(q "SELECT count(*) FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 2
         AND message LIKE 'the stream worker started%' AND range_start < range_end
         AND range_end = (SELECT min(ts) FROM perps_stats.trades WHERE market_id = $BTC AND price = 96989.5)")" "1" \
   "the restarted worker recorded its own outage: from the last message stored before it to the first trade after it"
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
act '{"venue":"bybit","action":"trades","count":2,"per_frame":2,"price":"96994.5"}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.trades WHERE market_id = $BTC AND price = 96994.5" "trades arrive over wss://"
qs "ALTER SYSTEM RESET perps_stats.stream_ca_file; SELECT pg_reload_conf()" >/dev/null
q "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/bybit/v5/public/linear' WHERE name = 'bybit'" >/dev/null
ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'bybit'" "back on ws:// it streams again" 40

# ---- the kline intervals: a change subscribes anew; an unknown interval is refused ----
is "$(psql -X -q -t -A -v VERBOSITY=verbose -c "ALTER SYSTEM SET perps_stats.stream_kline_intervals = '1m, 2m'" 2>&1 | head -1)" \
   'ERROR:  22023: "2m" is not a kline interval' "an interval perps_stats does not know is refused (22023), named"
n0=$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; r=json.load(sys.stdin)["bybit"]["received"]; print(len(r))')
qs "ALTER SYSTEM SET perps_stats.stream_kline_intervals = '5m,1m , 5m'; SELECT pg_reload_conf()" >/dev/null
deadline=$((SECONDS + 30))
subs() { curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c '
import json, sys
r = [json.loads(m) for m in json.load(sys.stdin)["bybit"]["received"][int(sys.argv[1]):]]
print(" ".join(a for m in r if m.get("op") == "subscribe" for a in m["args"] if a.startswith("kline.")))' "$n0"; }
until [ "$(subs)" = "kline.5.BTCUSDT kline.1.BTCUSDT" ] || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
is "$(subs)" "kline.5.BTCUSDT kline.1.BTCUSDT" \
   "'5m,1m , 5m' (a reload): the worker subscribes anew, 5m then 1m per market, the repeat once"
qs "ALTER SYSTEM RESET perps_stats.stream_kline_intervals; SELECT pg_reload_conf()" >/dev/null

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
