#!/usr/bin/env bash
# The Paradex stream worker against the WebSocket mock (test/mock/ws_venues/paradex.py):
# SBE binary frames (schema 1, version 1, negotiated in the URL) become
# exactly the expected rows; a skipped sequence number one resync and one gap
# row; unknown templates are skipped, malformed or truncated binary frames
# counted and skipped; a drop a reconnect; a URL without the SBE parameters
# is refused at the handshake.  The frames carry the project's own payloads:
# the book snapshot is test/payloads/paradex/fetchOrderBook.json, the other
# frames test/payloads/websocket/paradex/*.json (the fields of each SBE
# message; see the mock's docstring); the expected values below are worked
# out by hand from those files.  test/recorded/65_stream_paradex.sh checks
# the frames made of the recorded payloads.  Polls with a timeout, never a
# fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=paradex
. "$(dirname "$0")/../lib/tap.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 6 AND symbol = 'BTC')"
URL="$PERPS_MOCK_WS_URL/paradex/v1?sbeSchemaId=1&sbeSchemaVersion=1"
url0=$(q "SELECT ws_url FROM perps_stats.exchanges WHERE name = 'paradex'")
recv() {  # the JSON-RPC requests the mock received, as "method channel" lines
    curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["paradex"]["received"]:
    r = json.loads(m)
    print(r["method"], r["params"]["channel"])'
}

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
is "$(recv | head -4 | tr '\n' ',')" \
   "subscribe trades.BTC-USD-PERP,subscribe order_book.BTC-USD-PERP.deltas,subscribe markets_summary.BTC-USD-PERP,subscribe funding_data.BTC-USD-PERP," \
   "four JSON-RPC subscribe requests: trades, full-depth book deltas, market summary, funding data"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 48213577)" \
        "the book snapshot (seq 48213577, fetchOrderBook's seq_no) is stored"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || bids[14][1] || 'x' || bids[14][2] || ' ' || asks[10][1] || 'x' || asks[10][2] || ' ' || (extract(epoch FROM ts) * 1000)::bigint
         FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 48213577")" \
   "14 10 97126.3x0.4182 97126.5x0.9637 97075.4x7.5 97163.5x9.2 1794925924962" \
   "snapshot: 14 bids and 10 asks, best and worst levels, the frame's ts (µs on the wire)"
# its liquidity_depth row: mid (97126.3 + 97126.5) / 2 = 97126.4; 1 bps: bids >= 97126.4 x 0.9999 = 97116.68736:
# 97126.3 x 0.4182 + 97126 x 1.2075 + 97125.1 x 0.0031 + 97123.8 x 2.5 + 97122.4 x 0.8716 + 97120 x 3.1442 + 97118.7 x 0.0519
# = 40618.21866 + 117279.645 + 301.08781 + 242809.5 + 84651.88384 + 305364.704 + 5040.46053 = 796065.49984 (97115.2 is out);
# asks <= 97126.4 x 1.0001 = 97136.11264: 97126.5 x 0.9637 + 97126.9 x 0.0502 + 97127.7 x 1.4418 + 97129.2 x 2.0061
# + 97131 x 0.3375 + 97133.6 x 3.8209 = 93600.80805 + 4875.77038 + 140038.71786 + 194850.88812 + 32781.7125 + 371137.77224
# = 837285.66915 (97137.4 is out)
is "$(q "SELECT mid_price || ' ' || bid_1bps || ' ' || ask_1bps FROM perps_stats.liquidity_depth
         WHERE market_id = $BTC AND ts = (SELECT ts FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 48213577)")" \
   "97126.4 796065.49984 837285.66915" "the snapshot's liquidity depth: mid and the notional within 1 bps of it, each side"

tick="last_price, mark_price, index_price, best_bid_price, best_bid_qty, best_ask_price, best_ask_qty, coalesce(volume_24h::text, 'NULL'), turnover_24h, open_interest, coalesce(open_interest_notional::text, 'NULL'), coalesce(price_change_24h::text, 'NULL'), price_change_pct, coalesce(high_24h::text, 'NULL'), coalesce(low_24h::text, 'NULL')"
SUMMARY_TS="'2026-11-17 14:32:05.418262+00'"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = $SUMMARY_TS)" \
        "the market summary gives a ticker row at its ts (1794925925418262 µs, to the µs)"
# markets_summary.json: volumeUsd24h 187425630.4182759 (USD, so turnover), the sizes of best bid and ask
# (0.75, 0.3121), the 24 h change rate -0.012746 as a fraction
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = $SUMMARY_TS")" \
   "97126.3 97131.06422958 97124.90713355 97126.4 0.75 97126.5 0.3121 NULL 187425630.4182759 1842.3071 NULL NULL -0.012746 NULL NULL" \
   "ticker: last, mark, index (underlying), best bid/ask with sizes, USD volume as turnover, open interest, 24 h change rate as a fraction"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC)" "the funding data record gives a funding_rates row"
# funding_data.json: fundingRate mantissa 1187 at 10^-8, createdAt 1794925925000731 µs, fundingPeriodHours 8;
# the summary's rate (no funding time) writes no row
is "$(q "SELECT count(*) || ' ' || min((extract(epoch FROM funding_time) * 1000000)::bigint) || ' ' || min(rate) || ' ' || min(interval_hours) || ' ' || coalesce(min(predicted_rate)::text, 'NULL')
         FROM perps_stats.funding_rates WHERE market_id = $BTC")" \
   "1 1794925925000731 0.00001187 8 NULL" "one funding row: createdAt (to the µs) as its time, the period's rate, 8 h"
is "$(q "SELECT count(*) FROM perps_stats.tickers WHERE market_id = $BTC")" "1" "the funding record alone writes no ticker row"

# ---- the scripted deltas, trade and bbo ----
act '{"venue":"paradex","action":"replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '1794925926118407301')" \
        "the trade is stored (int64 tradeId as text)"
is "$(q "SELECT (extract(epoch FROM ts) * 1000000)::bigint || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades
         WHERE market_id = $BTC AND trade_id = '1794925926118407301'")" \
   "1794925926118407 97126.5 0.0213 buy" "trade: createdAt to the µs, price 9712650000000 and size 2130000 at 10^-8, side 1 = BUY"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 48213579)" \
        "the book after the two deltas (seq 48213579) is stored"
# by hand (order_book.deltas.json): delta 48213578 deletes bid 97126.3, inserts bid 97126.4 x 0.75, sets ask
# 97126.5 to 0.3121; delta 48213579 deletes bid 97075.4 and ask 97163.5, inserts ask 97128.1 x 0.6604:
# 14 - 1 + 1 - 1 = 13 bids, 10 + 1 - 1 = 10 asks; ts: the snapshot's + 1 ms a frame
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 48213579"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || (extract(epoch FROM ts) * 1000)::bigint $book")" \
   "13 10 1794925924964" "after the deltas: 13 bids, 10 asks, the last delta's ts"
is "$(q "SELECT bids[1:3] = '{{97126.4,0.75},{97126,1.2075},{97125.1,0.0031}}'::numeric[]
         AND asks = '{{97126.5,0.3121},{97126.9,0.0502},{97127.7,1.4418},{97128.1,0.6604},{97129.2,2.0061},{97131,0.3375},{97133.6,3.8209},{97137.4,1.125},{97142.8,6.0148},{97150.1,0.7734}}'::numeric[] $book")" \
   "t" "best bids: 97126.4 inserted above 97126 (97126.3 deleted); all ten asks in order, 97128.1 in its place"
is "$(q "SELECT bids[13][1] || 'x' || bids[13][2] || ' ' || (SELECT count(*) FROM generate_subscripts((SELECT bids $book), 1) i, (SELECT bids $book) b
         WHERE b.bids[i][1] IN (97126.3, 97075.4)) $book")" \
   "97088.6x0.1104 0" "worst bid 97088.6 (97075.4 deleted); neither deleted price is left"
# the bbo frame (bbo.json): bid 97126.4 x 0.75, ask 97126.5 x 0.2908 (0.3121 less the 0.0213 bought) at
# 1794925926204133 µs, merged into the summary's ticker
BBO_TS="'2026-11-17 14:32:06.204133+00'"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = $BBO_TS)" \
        "the bbo frame gives a ticker row"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = $BBO_TS")" \
   "97126.3 97131.06422958 97124.90713355 97126.4 0.75 97126.5 0.2908 NULL 187425630.4182759 1842.3071 NULL NULL -0.012746 NULL NULL" \
   "bbo: best bid/ask and their sizes from the frame, every other field from the summary"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" "no gap, resync, parse error or reconnect so far"
# rows: every book stored so far with its liquidity_depth and slippage rows, 1 trade, 2 tickers, 1 funding rate;
# messages: 4 subscribe answers, snapshot, summary, funding, 2 deltas, trade, bbo
is "$(q "SELECT rows_written = (SELECT sum(n) FROM (SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC
           UNION ALL SELECT count(*) FROM perps_stats.liquidity_depth WHERE market_id = $BTC
           UNION ALL SELECT count(*) FROM perps_stats.slippage WHERE market_id = $BTC
           UNION ALL SELECT count(*) FROM perps_stats.trades WHERE market_id = $BTC
           UNION ALL SELECT count(*) FROM perps_stats.tickers WHERE market_id = $BTC
           UNION ALL SELECT count(*) FROM perps_stats.funding_rates WHERE market_id = $BTC) AS c(n))
         AND rows_written >= 40 AND messages >= 11 AND bytes > 900 FROM perps_stats.stream_status WHERE exchange = 'paradex'")" \
   "t" "status counts messages, bytes and rows written (each row of the tables)"

# ---- a skipped sequence number: one gap, one resync ----
act '{"venue":"paradex","action":"book_delta","skip":1}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'paradex'" "a skipped seq counts one gap and one resync"
# the skipping delta is 48213581 (48213580 lost, ts + 1 ms), the fresh snapshot 48213582 (ts + 1 ms more)
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 48213582 AND bids[1][1] = 97126.3 AND array_length(bids, 1) = 14)" \
        "the resubscription's fresh snapshot (seq 48213582) rebuilds the book"
is "$(q "SELECT count(*) || ' ' || min(message) || ' ' || min((extract(epoch FROM range_start) * 1000)::bigint) || ' ' || min((extract(epoch FROM range_end) * 1000)::bigint)
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $BTC AND source = 'stream'")" \
   "1 BTC-USD-PERP book: update ids 48213580..48213580 lost; resynced at update id 48213582 1794925924964 1794925924966" \
   "exactly one gap row naming the market, the lost seq and the time range (last applied delta to the fresh snapshot)"
is "$(recv | grep -c '^unsubscribe order_book.BTC-USD-PERP.deltas$') $(recv | grep -c '^subscribe order_book.BTC-USD-PERP.deltas$')" \
   "1 2" "the resync unsubscribed the book channel once and subscribed it again"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 48213581")" "0" "the delta after the gap was not applied"

# ---- unknown templates and schemas, venue errors, malformed frames ----
m0=$(status messages)
pe0=$(status parse_errors)
act '{"venue":"paradex","action":"unknown_template","template":99}'
act '{"venue":"paradex","action":"heartbeat"}'
ok_wait "SELECT messages >= $m0 + 2 AND parse_errors = $pe0 FROM perps_stats.stream_status WHERE exchange = 'paradex'" \
        "a frame of an unknown template id and a heartbeat are counted as messages, not parse errors"
act '{"venue":"paradex","action":"bad_schema","schema":2,"version":0}'
ok_wait "SELECT last_error LIKE '%SBE frame of schema 2 version 0 (template 1)%' FROM perps_stats.stream_status WHERE exchange = 'paradex'" \
        "a frame of another schema is skipped and said in last_error"
act '{"venue":"paradex","action":"send","frames":["{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":\"Invalid parameters\"},\"usIn\":1794925931204417,\"usOut\":1794925931204455,\"usDiff\":38,\"id\":9}"]}'
ok_wait "SELECT last_error = 'the venue refused a request: paradex error -32602: Invalid parameters' FROM perps_stats.stream_status WHERE exchange = 'paradex'" \
        "a JSON-RPC error answer is a control event with its code and message"
act '{"venue":"paradex","action":"group_overrun"}'
act '{"venue":"paradex","action":"truncated_sbe"}'
act '{"venue":"paradex","action":"garbage"}'
act '{"venue":"paradex","action":"book_delta","bids":[["97126.1","1.25"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 48213583 AND bids[2][1] = 97126.1 AND bids[2][2] = 1.25)" \
        "the next delta (seq 48213583) applies, 97126.1 between 97126.3 and 97126: the overrunning frame changed nothing"
is "$(( $(status parse_errors) - pe0 ))" "3" "a group count overrunning the frame, a truncated frame and garbage text: three parse errors"
is "$(status "gaps || ' ' || resyncs || ' ' || state")" "1 1 streaming" "no new gap or resync, the connection survived them"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $BTC")" "1" "nothing of the truncated or foreign-schema trade frames is stored"

# ---- a dropped connection: reconnect, downtime recorded, stream continues ----
act '{"venue":"paradex","action":"drop"}'
ok_wait "SELECT reconnects = 1 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'paradex'" \
        "after a drop the worker reconnects" 20
ok_wait "SELECT count(*) = 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 6" \
        "one reconnect row"
act '{"venue":"paradex","action":"trades","count":3,"price":"97130.7","qty":"0.0025"}'
ok_wait "SELECT count(*) = 3 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97130.7 AND qty = 0.0025" "the stream continues after the reconnect"

# ---- a trade stream at a chosen rate ----
act '{"venue":"paradex","action":"trades","count":40,"rate":100,"price":"97131.9","qty":"0.0042"}'
ok_wait "SELECT count(*) = 40 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97131.9" "40 trades sent at 100/s are all stored"
is "$(q "SELECT count(DISTINCT trade_id) || ' ' || count(*) FILTER (WHERE side = 'buy') || ' ' || count(*) FILTER (WHERE side = 'sell') || ' ' || min(qty) || ' ' || max(qty)
         FROM perps_stats.trades WHERE market_id = $BTC AND price = 97131.9")" "40 20 20 0.0042 0.0042" "each once, sides alternating"

# ---- negotiation: the SBE parameters are required; version 0 frames decode too ----
q "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/paradex/v1' WHERE name = 'paradex'" >/dev/null
ok_wait "SELECT state = 'backoff' AND last_error LIKE 'connection failed%' FROM perps_stats.stream_status WHERE exchange = 'paradex'" \
        "a URL without ?sbeSchemaId=1&sbeSchemaVersion=1 is refused at the handshake (HTTP 400)" 30
echo "# last_error: $(status last_error)"
q "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/paradex/v1?sbeSchemaId=1&sbeSchemaVersion=0' WHERE name = 'paradex'" >/dev/null
ok_wait "SELECT state = 'streaming' AND connected_since > now() - interval '30 s' FROM perps_stats.stream_status WHERE exchange = 'paradex'" \
        "with sbeSchemaVersion=0 the worker streams again" 40
# 2026-11-17 15:40 (1794930000 s) and 16:00 (1794931200 s)
act '{"venue":"paradex","action":"summary","ts":1794930000000000,"lastPrice":"97140.2"}'
act '{"venue":"paradex","action":"funding","rate":"-0.00000462","created_at":1794931200000000}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1794930000))" \
        "a version 0 market summary (216-byte block) gives a ticker row"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1794930000)")" \
   "97140.2 97131.06422958 97124.90713355 97126.4 0.75 97126.5 0.3121 NULL 187425630.4182759 1842.3071 NULL NULL -0.012746 NULL NULL" \
   "its fields at the version 0 offsets"
ok_wait "SELECT rate = -0.00000462 AND interval_hours = 8 FROM perps_stats.funding_rates WHERE market_id = $BTC AND funding_time = to_timestamp(1794931200)" \
        "a version 0 funding record (58-byte block) with a negative rate gives its row"

# ---- reset what this test set ----
q "UPDATE perps_stats.exchanges SET ws_url = '$url0' WHERE name = 'paradex'" >/dev/null
q "UPDATE perps_stats.watchlist SET stream = true" >/dev/null
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"

tap_done
