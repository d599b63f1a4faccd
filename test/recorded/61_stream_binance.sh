#!/usr/bin/env bash
# The recorded tier of test/integration/61_stream_binance.sh: the Binance
# USD-M stream worker against the WebSocket mock (test/mock/ws_venues/binance.py)
# and the REST mock (test/mock/venues/binance.py, which serves the depth
# snapshots the book is synced from) serving the payloads recorded from
# Binance (the second pair of mocks, test/services/recorded.sh): the recorded
# frames become exactly the expected rows; the first REST sync is not a gap;
# a skipped update id gives one gap, one resync and the recorded REST
# snapshot again.  (Malformed frames, drops and paced trades do not depend on
# the payloads: the first tier tests them.)
# Expected values are worked out by hand from shared/fixtures/binance and
# shared/fixtures/websocket/binance_usdm.  Polls with a timeout, never a
# fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=binance
. "$(dirname "$0")/../lib/tap.sh"
# the recorded tier's mocks (act, in tap.sh, talks to PERPS_MOCK_WS_CONTROL)
PERPS_MOCK_URL=$PERPS_RECORDED_MOCK_URL PERPS_MOCK_WS_URL=$PERPS_RECORDED_WS_URL
PERPS_MOCK_WS_CONTROL=$PERPS_RECORDED_WS_CONTROL

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 1 AND symbol = 'BTC')"
SUSHI="(SELECT id FROM perps_stats.markets WHERE exchange_id = 1 AND symbol = 'SUSHI')"
# the REST snapshot of BTCUSDT (fetchOrderBook.swap.json): lastUpdateId L, T
L=35263532345
T0=1706803917258
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

# the first tier stored Binance rows of its own: this test starts without them (the
# worker would take up the last trade stored as the one to go on from)
q "DELETE FROM perps_stats.trades t USING perps_stats.markets m WHERE m.id = t.market_id AND m.exchange_id = 1;
   DELETE FROM perps_stats.tickers t USING perps_stats.markets m WHERE m.id = t.market_id AND m.exchange_id = 1;
   DELETE FROM perps_stats.funding_rates t USING perps_stats.markets m WHERE m.id = t.market_id AND m.exchange_id = 1;
   DELETE FROM perps_stats.ingest_events WHERE exchange_id = 1 AND source = 'stream';" >/dev/null
# nor the funding intervals its markets refreshes stored (a funding row from the stream takes
# its market's interval when it has one: here the stream's own, none, is checked)
q "UPDATE perps_stats.markets SET funding_interval_hours = NULL WHERE exchange_id = 1 AND symbol IN ('BTC', 'SUSHI')" >/dev/null

qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/binance', rest_url = '$PERPS_MOCK_URL/binance' WHERE name = 'binance';
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
   "BTC BTCUSDT USDT, SUSHI SUSHIUSDT USDT" "the worker created the market rows (BTCUSDT, SUSHIUSDT)"
sub=$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c '
import json, sys
r = [json.loads(m) for m in json.load(sys.stdin)["binance"]["received"]]
# the two connections open in either order: sorted, the /public one (depth) first
print(" ".join(sorted((m["method"] + ":" + str(m["id"]) + ":" + ",".join(m["params"]) for m in r),
                      key=lambda x: "depth" not in x)))')
is "$sub" "SUBSCRIBE:1:btcusdt@depth@100ms,sushiusdt@depth@100ms SUBSCRIBE:1:btcusdt@aggTrade,btcusdt@markPrice@1s,btcusdt@ticker,btcusdt@kline_1m,sushiusdt@aggTrade,sushiusdt@markPrice@1s,sushiusdt@ticker,sushiusdt@kline_1m" \
   "two connections: the diff depth subscribed on /public, trades, mark price, ticker and the 1m klines on /market (the mock refuses a stream on the wrong tier)"
is "$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["binance"]["sessions"])')" "2" "two sessions open at the mock"

# the first depth event (older than the snapshot) starts the sync: the REST book, seq = lastUpdateId
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = $L)" \
        "BTCUSDT: the REST snapshot (lastUpdateId $L) is the book"
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2] || ' ' || $(ms ts) $book = $L")" \
   "5 5 42651.10x470.672 42878.00x7.011 $T0" \
   "REST book: 5 levels a side, best bid and ask, the snapshot's T (the stale first event's bid 42651.10 x 999.999 not applied)"
is "$(q "SELECT count(*) || ' ' || min(mid_price) FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp($T0 / 1000.0)")" \
   "1 42764.55" "its liquidity_depth row: mid = (42651.10 + 42878.00) / 2"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $SUSHI AND seq = 600859605926)" \
        "SUSHIUSDT: the REST snapshot of the recorded session (lastUpdateId 600859605926)"
# the recorded diff event of that session (U 600859599090, u 600859600917) is older than the
# snapshot: dropped, else the best bid would be 7.6110 x 2 instead of the snapshot's x 6
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2] || ' ' || bids[1000][1] || ' ' || asks[1000][1]
         FROM perps_stats.orderbooks WHERE market_id = $SUSHI AND seq = 600859605926")" \
   "1000 1000 7.6110x6 7.6120x297 6.3470 9.1220" "1000 levels a side as recorded; the stale recorded event is not applied"
is "$(rest_depths BTCUSDT) $(rest_depths SUSHIUSDT)" "1 1" "one REST depth request (limit 1000) per market"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors")" "0 0 0" "the first sync is neither a gap nor a resync"
is "$(q "SELECT count(*) FROM perps_stats.ingest_events WHERE source = 'stream' AND kind IN ('gap', 'resync') AND exchange_id = 1")" "0" "and writes no gap row"

# ---- diff depth events over the snapshot ----
# U = L-3 <= L <= u = L+3: the first event applied over the snapshot
act '{"venue":"binance","action":"book_delta","symbol":"BTCUSDT","bids":[["42651.10","0"],["42655.50","1.250"]],"asks":[["42950.90","0"],["42870.00","2.500"]]}'
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 3)))" "the event spanning the snapshot (U $((L - 3)), u $((L + 3))) is applied"
is "$(q "SELECT bids::text || ' ' || asks::text || ' ' || $(ms ts) $book = $((L + 3))")" \
   "{{42655.50,1.250},{42650.00,66.452},{42646.80,126.261},{42616.10,1.394},{42609.80,93.162}} {{42870.00,2.500},{42878.00,7.011},{42980.90,0.061},{42981.80,23.165},{42998.10,0.071}} $((T0 + 1))" \
   "bid 42651.10 and ask 42950.90 deleted, bid 42655.50 and ask 42870.00 new best levels; the event's T"
# pu = L+3: continues it
act '{"venue":"binance","action":"book_delta","symbol":"BTCUSDT","bids":[["42650.00","70.000"],["42600.00","5.000"]],"asks":[["42998.10","0"]]}'
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 6)))" "the next event (pu $((L + 3))) continues the book"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[2][2] || ' ' || bids[6][1] || 'x' || bids[6][2] || ' ' || asks[4][1] $book = $((L + 6))")" \
   "6 4 70.000 42600.00x5.000 42981.80" "6 bids (42650.00 now 70.000, 42600.00 added last), 4 asks (42998.10 deleted)"
# an event older than the book (u = L+2 < L+6): stale, dropped without a gap
act '{"venue":"binance","action":"send","frames":["{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1706803917300,\"T\":1706803917290,\"s\":\"BTCUSDT\",\"U\":35263532346,\"u\":35263532347,\"pu\":35263532345,\"b\":[[\"42700.00\",\"1.000\"]],\"a\":[]}}"]}'

# ---- trades, mark price / funding, 24 h ticker ----
act '{"venue":"binance","action":"replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '389551486')" \
        "the recorded aggregate trade is stored"
# aggTrade.btcusdt_2021: a 389551486, T 1616202009188, p 58665.00, q 0.043, m false (the buyer took)
is "$(q "SELECT $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '389551486'")" \
   "1616202009188 58665.00 0.043 buy" "trade: a as id, T, p, q as sent; m false -> the taker bought"
# aggTrade.json (CTKUSDT, rewritten to SUSHIUSDT by the mock): a 16599292, T 1626992741421, p 1.01100, q 10, m false
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $SUSHI AND trade_id = '16599292')" "the SUSHIUSDT trade is stored"
is "$(q "SELECT $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $SUSHI")" \
   "1626992741421 1.01100 10 buy" "and only it, with its values"
tick="coalesce(last_price::text, '-'), mark_price, index_price, coalesce(best_bid_price::text, '-'), coalesce(best_ask_price::text, '-'), coalesce(volume_24h::text, '-'), coalesce(turnover_24h::text, '-'), coalesce(open_interest::text, '-'), coalesce(price_change_24h::text, '-'), coalesce(price_change_pct::text, '-'), coalesce(high_24h::text, '-'), coalesce(low_24h::text, '-')"
# markPriceUpdate.json: E 1617308820003, p 58940.14924532, i 58857.26693664, r 0.00058455, T 1617321600000
ok_wait "SELECT count(*) = 2 FROM perps_stats.tickers WHERE market_id = $BTC" "two ticker rows: the mark price event and the 24 h ticker"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1617308820.003)")" \
   "- 58940.14924532 58857.26693664 - - - - - - - - -" "mark price row: mark and index price, nothing else known yet"
# 24hrTicker.json (ETHUSDT, rewritten): E 1653815205866, c 1782.02, p 24.69, P 1.405 (%), h 1809.33, l 1750.45,
# v 1678290.411, q 2990736920.72; merged with the mark and index price before it
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1653815205.866)")" \
   "1782.02 58940.14924532 58857.26693664 - - 1678290.411 2990736920.72 - 24.69 0.01405 1809.33 1750.45" \
   "24 h ticker row: last, change, change as a fraction (1.405 % = 0.01405), high, low, volumes; mark and index merged"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC)" "a funding row from the mark price stream"
is "$(q "SELECT $(ms funding_time) || ' ' || rate || ' ' || coalesce(predicted_rate::text, 'NULL') || ' ' || coalesce(interval_hours::text, 'NULL') FROM perps_stats.funding_rates WHERE market_id = $BTC")" \
   "1617321600000 0.00058455 NULL NULL" "funding row: the rate r for the settlement at T (the stream does not say the interval)"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = $((L + 2))") $(status "gaps || ' ' || resyncs")" "0 0 0" \
   "the stale event (u $((L + 2))) changed nothing and is no gap"

# ---- a skipped update id: one gap, one resync, one fresh REST snapshot ----
# the mock leaves out the ids after u = L+6: U = L+10, u = L+12, pu = L (where the fresh snapshot is)
act '{"venue":"binance","action":"book_delta","symbol":"BTCUSDT","skip":1,"bids":[["42640.00","3.000"]]}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'binance'" "a skipped id counts one gap and one resync"
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 12)))" "the book is rebuilt from a fresh REST snapshot and the event that followed the gap"
is "$(rest_depths BTCUSDT)" "2" "exactly one more REST depth request for BTCUSDT"
is "$(q "SELECT count(*) || ' | ' || min(message) || ' | ' || min($(ms range_start)) FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $BTC AND source = 'stream'")" \
   "1 | BTCUSDT book: update ids $((L + 7))..$((L + 9)) lost; resynced from the REST book at update id $L | $((T0 + 2))" \
   "exactly one gap row: the lost ids (after u $((L + 6)), before U $((L + 10))), from the last good event's time"
is "$(q "SELECT bids::text || ' ' || asks::text $book = $((L + 12))")" \
   "{{42651.10,470.672},{42650.00,66.452},{42646.80,126.261},{42640.00,3.000},{42616.10,1.394},{42609.80,93.162}} {{42878.00,7.011},{42950.90,0.005},{42980.90,0.061},{42981.80,23.165},{42998.10,0.071}}" \
   "the REST snapshot again (earlier deltas gone) plus the event's bid 42640.00"
act '{"venue":"binance","action":"book_delta","symbol":"BTCUSDT","asks":[["42878.00","1.000"]]}'
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 15)) AND asks[1][2] = 1.000)" "the stream continues after the resync (pu $((L + 12)))"
is "$(status "gaps || ' ' || resyncs")" "1 1" "still one gap and one resync"

# ---- put back what was changed ----
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.orderbook_store_levels;
   ALTER SYSTEM RESET perps_stats.flush_interval; ALTER SYSTEM SET perps_stats.stream_workers = off;
   SELECT pg_reload_conf();
   DELETE FROM perps_stats.watchlist WHERE exchange = 'binance' AND symbol = 'SUSHI';
   UPDATE perps_stats.watchlist SET stream = (exchange || '/' || symbol IN ($streamed0));
   UPDATE perps_stats.exchanges SET rest_url = split_part('$urls0', ' ', 1), ws_url = split_part('$urls0', ' ', 2) WHERE name = 'binance';" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"

tap_done
