#!/usr/bin/env bash
# The Binance USD-M stream worker against the WebSocket mock
# (test/mock/ws_venues/binance.py) and the REST mock (test/mock/venues/binance.py,
# which serves the depth snapshots the book is synced from): the payloads'
# frames become exactly the expected rows; the first REST sync is not a gap;
# a skipped update id gives one gap, one resync and one fresh REST snapshot;
# a dropped connection a reconnect; malformed frames are counted and skipped.
# Expected values are worked out by hand from the project's own payloads,
# test/payloads/binance and test/payloads/websocket/binance_usdm
# (test/recorded/61_stream_binance.sh checks the recorded ones).  Polls with
# a timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=binance
. "$(dirname "$0")/../lib/tap.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 1 AND symbol = 'BTC')"
SUSHI="(SELECT id FROM perps_stats.markets WHERE exchange_id = 1 AND symbol = 'SUSHI')"
# the REST snapshot of BTCUSDT (fetchOrderBook.swap.json): lastUpdateId L, T
L=9185240417733
T0=1795444672118
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }
# depth requests the REST mock got for a symbol
rest_depths() {
    curl -sf "$PERPS_MOCK_URL/_mock/log?venue=binance" | python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["path"] == "/fapi/v1/depth" and r["query"].get("symbol") == sys.argv[1]
          and r["query"].get("limit") == "1000"))' "$1"
}


# what this test changes, to put back at the end
urls0=$(q "SELECT rest_url || ' ' || ws_url FROM perps_stats.exchanges WHERE name = 'binance'")
streamed0=$(q "SELECT coalesce(string_agg(quote_literal(exchange || '/' || symbol), ','), '''''') FROM perps_stats.watchlist WHERE stream")

# the rows counted below are the stream's alone: none of another test's
# (collect()'s books and tickers, 70_backfill.sh's funding history, when
# they ran before in this cluster)
qs "$(for t in orderbooks liquidity_depth slippage tickers funding_rates trades klines; do
        echo "DELETE FROM perps_stats.$t x USING perps_stats.markets m WHERE m.id = x.market_id AND m.exchange_id = 1;"
      done)" >/dev/null

# the markets from exchangeInfo and fundingInfo (BTCUSDT funds every 8 h, SUSHIUSDT every 4 h),
# whatever earlier tests left in perps_stats.markets
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/binance', rest_url = '$PERPS_MOCK_URL/binance' WHERE name = 'binance';
   SELECT perps_stats.refresh_markets('binance');
   INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('binance', 'SUSHI', false, true);
   UPDATE perps_stats.watchlist SET stream = (exchange = 'binance' AND symbol IN ('BTC', 'SUSHI'));
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.orderbook_store_levels = 1000;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/log" >/dev/null

# ---- start, subscribe, the first sync from REST ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'binance' AND state = 'streaming'" \
        "the launcher starts the binance stream worker and it streams from the mock" 30
is "$(q "SELECT string_agg(symbol || ' ' || native_symbol || ' ' || quote, ', ' ORDER BY symbol) FROM perps_stats.markets WHERE exchange_id = 1 AND symbol IN ('BTC', 'SUSHI')")" \
   "BTC BTCUSDT USDT, SUSHI SUSHIUSDT USDT" "the market rows of the watched symbols (BTCUSDT, SUSHIUSDT)"
sub=$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c '
import json, sys
r = [json.loads(m) for m in json.load(sys.stdin)["binance"]["received"]]
# the two connections open in either order: sorted, the /public one (depth) first
print(" ".join(sorted((m["method"] + ":" + str(m["id"]) + ":" + ",".join(m["params"]) for m in r),
                      key=lambda x: "depth" not in x)))')
is "$sub" "SUBSCRIBE:1:btcusdt@depth@100ms,sushiusdt@depth@100ms SUBSCRIBE:1:btcusdt@aggTrade,btcusdt@markPrice@1s,btcusdt@ticker,btcusdt@kline_1m,sushiusdt@aggTrade,sushiusdt@markPrice@1s,sushiusdt@ticker,sushiusdt@kline_1m" \
   "two connections: the diff depth subscribed on /public, trades, mark price, ticker and the 1m klines (perps_stats.stream_kline_intervals' default) on /market (the mock refuses a stream on the wrong tier)"
is "$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["binance"]["sessions"])')" "2" "two sessions open at the mock"

# the first depth event (older than the snapshot) starts the sync: the REST book, seq = lastUpdateId
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = $L)" \
        "BTCUSDT: the REST snapshot (lastUpdateId $L) is the book"
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2] || ' ' || $(ms ts) $book = $L")" \
   "7 7 97214.20x3.417 97214.30x2.188 $T0" \
   "REST book: 7 levels a side, best bid and ask, the snapshot's T (the stale first event's bid 97214.20 x 999.999 not applied)"
# mid = (97214.20 + 97214.30) / 2 = 97214.25; 1 bps: bids >= 97214.25 x 0.9999 = 97204.528575:
# 97214.20 x 3.417 + 97213.10 x 0.052 + 97208.50 x 1.208 = 332180.9214 + 5055.0812 + 117427.8680
# = 454663.8706; asks <= 97214.25 x 1.0001 = 97223.971425: 97214.30 x 2.188 + 97215.80 x 0.120
# + 97221.60 x 0.734 = 212704.8884 + 11665.8960 + 71360.6544 = 295731.4388; the deepest bid
# 97105.30 is (97214.25 - 97105.30) / 97214.25 x 1e4 = 11.2072... bps from mid
is "$(q "SELECT count(*) || ' ' || min(mid_price) || ' ' || min(bid_1bps) || ' ' || min(ask_1bps) || ' ' || round(min(max_bid_bps), 4) FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp($T0 / 1000.0)")" \
   "1 97214.25 454663.87060 295731.43880 11.2072" "its liquidity_depth row: mid, the notional within 1 bps a side, the deepest bid in bps"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $SUSHI AND seq = 8815502214460)" \
        "SUSHIUSDT: the REST snapshot (lastUpdateId 8815502214460, sent as a string)"
# depthUpdate.json, the diff event of that session (U 8815502213975, u 8815502214388), is older
# than the snapshot: dropped, else the best bid would be 0.8123 x 1500 instead of the snapshot's
# x 4211 and the best ask 0.8124 would be gone
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2] || ' ' || bids[10][1] || ' ' || asks[10][1] || ' ' || $(ms ts)
         FROM perps_stats.orderbooks WHERE market_id = $SUSHI AND seq = 8815502214460")" \
   "10 10 0.8123x4211 0.8124x2950 0.8110 0.8138 1795444671604" "10 levels a side, the snapshot's T (a string too); the stale event is not applied"
is "$(rest_depths BTCUSDT) $(rest_depths SUSHIUSDT)" "1 1" "one REST depth request (limit 1000) per market"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors")" "0 0 0" "the first sync is neither a gap nor a resync"
is "$(q "SELECT count(*) FROM perps_stats.ingest_events WHERE source = 'stream' AND kind IN ('gap', 'resync') AND exchange_id = 1")" "0" "and writes no gap row"

# ---- diff depth events over the snapshot ----
# U = L-3 <= L <= u = L+3: the first event applied over the snapshot
act '{"venue":"binance","action":"book_delta","symbol":"BTCUSDT","bids":[["97214.20","0"],["97213.90","0.731"]],"asks":[["97214.30","0"],["97214.60","1.050"]]}'
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 3)))" "the event spanning the snapshot (U $((L - 3)), u $((L + 3))) is applied"
is "$(q "SELECT bids::text || ' ' || asks::text || ' ' || $(ms ts) $book = $((L + 3))")" \
   "{{97213.90,0.731},{97213.10,0.052},{97208.50,1.208},{97199.90,0.615},{97187.40,7.940},{97160.00,0.003},{97105.30,12.466}} {{97214.60,1.050},{97215.80,0.120},{97221.60,0.734},{97233.00,4.551},{97251.70,0.009},{97290.00,1.377},{97340.20,9.802}} $((T0 + 1))" \
   "bid 97214.20 and ask 97214.30 deleted, bid 97213.90 and ask 97214.60 new best levels; the event's T"
# pu = L+3: continues it
act '{"venue":"binance","action":"book_delta","symbol":"BTCUSDT","bids":[["97213.10","0.500"],["97100.00","2.000"]],"asks":[["97340.20","0"]]}'
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 6)))" "the next event (pu $((L + 3))) continues the book"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[2][2] || ' ' || bids[8][1] || 'x' || bids[8][2] || ' ' || asks[6][1] $book = $((L + 6))")" \
   "8 6 0.500 97100.00x2.000 97290.00" "8 bids (97213.10 now 0.500, 97100.00 added last), 6 asks (97340.20 deleted)"
# an event older than the book (u = L+2 < L+6): stale, dropped without a gap
act '{"venue":"binance","action":"send","frames":["{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1795444672170,\"T\":1795444672164,\"s\":\"BTCUSDT\",\"U\":9185240417734,\"u\":9185240417735,\"pu\":9185240417733,\"b\":[[\"97214.00\",\"1.000\"]],\"a\":[]}}"]}'

# ---- trades, mark price / funding, 24 h ticker ----
act '{"venue":"binance","action":"replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '3187530442')" \
        "the aggregate trade of the payload is stored"
# aggTrade.btcusdt.json: a 3187530442, T 1795444677731, p 97214.30, q 2.471, m false (the buyer took)
is "$(q "SELECT $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '3187530442'")" \
   "1795444677731 97214.30 2.471 buy" "trade: a as id, T, p, q as sent; m false -> the taker bought"
# aggTrade.json (SUSHIUSDT): a 148802251, T 1795444678509, p 0.8124, q 1200, m false
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $SUSHI AND trade_id = '148802251')" "the SUSHIUSDT trade is stored"
is "$(q "SELECT $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $SUSHI")" \
   "1795444678509 0.8124 1200 buy" "and only it, with its values"
# kline.open.json, then kline.closed.json: BTCUSDT's 1m candle opened at t 1796116440000
# (2026-12-01 09:14:00 UTC), T 1796116499999; going (x false): c 96985.50, v 12.345, n 210;
# closed (x true): o 96950.10 h 97012.30 l 96931.20 c 97001.70 v 25.678, q (quote volume)
# 2490123.456700000000000000000001 (24 decimals), n 431.  The closed one replaces the going one.
kl="FROM perps_stats.klines WHERE market_id = $BTC AND \"interval\" = '1m' AND open_time = to_timestamp(1796116440)"
ok_wait "SELECT EXISTS (SELECT 1 $kl AND close = 97001.70)" "the 1m kline stream: the closed candle is stored"
is "$(q "SELECT count(*) || ' ' || string_agg($(ms close_time) || ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || turnover || ' ' || trade_count, '') $kl")" \
   "1 1796116499999 96950.10 97012.30 96931.20 97001.70 25.678 2490123.456700000000000000000001 431" \
   "one row for the candle, the closed one's values exactly (q as turnover to its 24th decimal, n as trade_count)"
ok_wait "SELECT count(*) = 1 AND min(close) = 97001.70 FROM perps_stats.klines WHERE market_id = $SUSHI AND \"interval\" = '1m'" \
        "SUSHIUSDT's subscription got the same frames (s rewritten by the mock): one row of its own"
tick="coalesce(last_price::text, '-'), mark_price, index_price, coalesce(best_bid_price::text, '-'), coalesce(best_ask_price::text, '-'), coalesce(volume_24h::text, '-'), coalesce(turnover_24h::text, '-'), coalesce(open_interest::text, '-'), coalesce(price_change_24h::text, '-'), coalesce(price_change_pct::text, '-'), coalesce(high_24h::text, '-'), coalesce(low_24h::text, '-')"
# markPriceUpdate.json: E 1795444679000, p 97226.41580435, i 97241.03718182, r 0.00007513, T 1795449600000
ok_wait "SELECT count(*) = 2 FROM perps_stats.tickers WHERE market_id = $BTC" "two ticker rows: the mark price event and the 24 h ticker"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1795444679)")" \
   "- 97226.41580435 97241.03718182 - - - - - - - - -" "mark price row: mark and index price, nothing else known yet"
# 24hrTicker.json: E 1795444679403, c 97214.30, p 1401.90, P 1.463 (%), h 97688.00, l 95420.10,
# v 186234.517, q 17972071904.58; merged with the mark and index price before it
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1795444679.403)")" \
   "97214.30 97226.41580435 97241.03718182 - - 186234.517 17972071904.58 - 1401.90 0.01463 97688.00 95420.10" \
   "24 h ticker row: last, change, change as a fraction (1.463 % = 0.01463), high, low, volumes; mark and index merged"
# SUSHIUSDT's own events (the !markPrice@arr and !ticker@arr frames): E 1795444679000 p 0.81236774
# i 0.81301250 r 0.00012500, then E 1795444679488 c 0.8124 p -0.0187 P -2.250 (%) h 0.8402 l 0.8056
# v 58231977 q 47859733.4511
ok_wait "SELECT count(*) = 2 FROM perps_stats.tickers WHERE market_id = $SUSHI" "SUSHIUSDT: two ticker rows too"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $SUSHI AND ts = to_timestamp(1795444679.488)")" \
   "0.8124 0.81236774 0.81301250 - - 58231977 47859733.4511 - -0.0187 -0.02250 0.8402 0.8056" \
   "its 24 h ticker row: a fall, -2.250 % as the fraction -0.02250, trailing zeros kept"
ok_wait "SELECT count(*) = 2 FROM perps_stats.funding_rates WHERE market_id IN ($BTC, $SUSHI)" "a funding row per market from the mark price stream"
is "$(q "SELECT string_agg(m.symbol || ' ' || $(ms f.funding_time) || ' ' || f.rate || ' ' || coalesce(f.predicted_rate::text, 'NULL') || ' ' || coalesce(f.interval_hours::text, 'NULL'), ', ' ORDER BY m.symbol)
         FROM perps_stats.funding_rates f JOIN perps_stats.markets m ON m.id = f.market_id WHERE f.market_id IN ($BTC, $SUSHI)")" \
   "BTC 1795449600000 0.00007513 NULL 8, SUSHI 1795449600000 0.00012500 NULL 4" \
   "funding rows: the rate r for the settlement at T; the interval, which the stream does not say, is the market's"
# a mark price event without funding (r "" and T 0, as Binance sends them for delivery contracts):
# a ticker row with its mark price, no funding row
act '{"venue":"binance","action":"send","frames":["{\"stream\":\"btcusdt@markPrice@1s\",\"data\":{\"e\":\"markPriceUpdate\",\"E\":1795444681000,\"s\":\"BTCUSDT\",\"p\":\"97230.00000000\",\"P\":\"97231.50000000\",\"i\":\"97240.12500000\",\"r\":\"\",\"T\":0}}"]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1795444681))" \
        "a mark price event with r \"\" and T 0 is a ticker row"
is "$(q "SELECT mark_price || ' ' || index_price FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1795444681)") $(q "SELECT count(*) FROM perps_stats.funding_rates WHERE market_id = $BTC")" \
   "97230.00000000 97240.12500000 1" "with its mark and index price, and no funding row"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = $((L + 2))") $(status "gaps || ' ' || resyncs")" "0 0 0" \
   "the stale event (u $((L + 2))) changed nothing and is no gap"

# ---- a skipped update id: one gap, one resync, one fresh REST snapshot ----
# the mock leaves out the ids after u = L+6: U = L+10, u = L+12, pu = L (where the fresh snapshot is)
act '{"venue":"binance","action":"book_delta","symbol":"BTCUSDT","skip":1,"bids":[["97190.00","3.000"]]}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'binance'" "a skipped id counts one gap and one resync"
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 12)))" "the book is rebuilt from a fresh REST snapshot and the event that followed the gap"
is "$(rest_depths BTCUSDT)" "2" "exactly one more REST depth request for BTCUSDT"
is "$(q "SELECT count(*) || ' | ' || min(message) || ' | ' || min($(ms range_start)) FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $BTC AND source = 'stream'")" \
   "1 | BTCUSDT book: update ids $((L + 7))..$((L + 9)) lost; resynced from the REST book at update id $L | $((T0 + 2))" \
   "exactly one gap row: the lost ids (after u $((L + 6)), before U $((L + 10))), from the last good event's time"
is "$(q "SELECT bids::text || ' ' || asks::text $book = $((L + 12))")" \
   "{{97214.20,3.417},{97213.10,0.052},{97208.50,1.208},{97199.90,0.615},{97190.00,3.000},{97187.40,7.940},{97160.00,0.003},{97105.30,12.466}} {{97214.30,2.188},{97215.80,0.120},{97221.60,0.734},{97233.00,4.551},{97251.70,0.009},{97290.00,1.377},{97340.20,9.802}}" \
   "the REST snapshot again (earlier deltas gone) plus the event's bid 97190.00"
act '{"venue":"binance","action":"book_delta","symbol":"BTCUSDT","asks":[["97214.30","1.000"]]}'
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 15)) AND asks[1][2] = 1.000)" "the stream continues after the resync (pu $((L + 12)))"
is "$(status "gaps || ' ' || resyncs")" "1 1" "still one gap and one resync"

# ---- malformed frames and venue errors ----
pe0=$(status parse_errors)
act '{"venue":"binance","action":"garbage"}'
act '{"venue":"binance","action":"truncated","frame":"{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1795444682000,\"a\":1,\"s\":\"BTCUSDT\",\"p\":\"1\",\"q\":\"1\",\"T\":1795444682000,\"m\":true}}"}'
act '{"venue":"binance","action":"send","frames":["{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1795444682000,\"a\":424242,\"s\":\"BTCUSDT\",\"p\":{\"x\":1},\"q\":\"1\",\"T\":1795444682000,\"m\":true}}"]}'
act '{"venue":"binance","action":"send","frames":["{\"error\":{\"code\":2,\"msg\":\"Invalid request: mock refusal\"},\"id\":7}"]}'
act '{"venue":"binance","action":"trades","symbol":"BTCUSDT","count":1,"price":"97215.50","qty":"0.250"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97215.50 AND qty = 0.250 AND side = 'sell')" \
        "a good frame after the bad ones is stored (m true: the taker sold)"
is "$(( $(status parse_errors) - pe0 ))" "6" "garbage, truncated and wrong-typed frames on each of the two connections: six parse errors (the error answer is none)"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id = '424242'")" "0" "nothing of the wrong-typed frame is stored"
is "$(status last_error)" "the venue refused a request: Invalid request: mock refusal" "the venue's error answer is the last error"
is "$(status state)" "streaming" "the connection survived them"

# ---- a dropped connection: reconnect, a new first sync, the stream continues ----
act '{"venue":"binance","action":"drop"}'
ok_wait "SELECT reconnects = 2 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'binance'" \
        "after a drop the worker reconnects both connections" 20
ok_wait "SELECT count(*) = 2 FROM perps_stats.ingest_events WHERE kind = 'disconnect' AND source = 'stream' AND exchange_id = 1
          AND message IN ('connection closed (connection /public/stream)', 'connection closed (connection /market/stream)')" \
        "one disconnect row per connection"
# the new connection's book comes from REST again; the mock's next event spans the snapshot (u = L+18)
ok_until "rest_depths BTCUSDT" "3" "the new connection syncs the book from REST once more"
act '{"venue":"binance","action":"book_delta","symbol":"BTCUSDT","bids":[["97214.20","1.000"]]}'
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 18)) AND bids[1][2] = 1.000)" "and the diff events apply to it"
is "$(status "gaps || ' ' || resyncs")" "1 1" "a reconnect's sync is not a gap"

# ---- trades at a chosen rate ----
act '{"venue":"binance","action":"trades","symbol":"BTCUSDT","count":40,"per_frame":4,"rate":100,"price":"97216.50"}'
ok_wait "SELECT count(*) = 40 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97216.50" "40 trades sent at 100/s are all stored"
is "$(q "SELECT count(DISTINCT trade_id) || ' ' || count(*) FILTER (WHERE side = 'buy') || ' ' || count(*) FILTER (WHERE side = 'sell')
         FROM perps_stats.trades WHERE market_id = $BTC AND price = 97216.50")" "40 20 20" "each once, sides alternating"
ok_wait "SELECT count(*) = 2 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 1" \
        "one reconnect row per connection, once data came on each again"

# ---- put back what was changed ----
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.orderbook_store_levels;
   ALTER SYSTEM RESET perps_stats.flush_interval; ALTER SYSTEM SET perps_stats.stream_workers = off;
   SELECT pg_reload_conf();
   DELETE FROM perps_stats.watchlist WHERE exchange = 'binance' AND symbol = 'SUSHI';
   UPDATE perps_stats.watchlist SET stream = (exchange || '/' || symbol IN ($streamed0));
   UPDATE perps_stats.exchanges SET rest_url = split_part('$urls0', ' ', 1), ws_url = split_part('$urls0', ' ', 2) WHERE name = 'binance';" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"

tap_done
