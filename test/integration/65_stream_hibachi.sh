#!/usr/bin/env bash
# The Hibachi stream worker against the WebSocket mock (test/mock/ws_venues/hibachi.py)
# serving the project's own frames (test/payloads/websocket/hibachi, written from
# Hibachi's documentation: no recording exists): one subscribe message per market;
# the orderbook Snapshot and an Update (its startPrice/endPrice span, zero
# quantities, new levels), trades with the REST side's synthetic ids, the price
# topics as ticker rows, the funding estimate, klines; an Update older than the
# book is a gap and a crossed book a resync (both by resubscribing); malformed
# and oversized frames are counted and skipped; a replay stores nothing twice; a
# dropped connection reconnects with its downtime recorded; the trade tape with a
# drop midway (every trade stored once through the REST refetch of the recent
# trades) and with that refetch failing (one gap row spanning every missing
# trade).  Expected values are worked out by hand from the frames.  Polls with
# a timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=hibachi
. "$(dirname "$0")/../lib/tap.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 10 AND symbol = 'BTC')"
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }
received() {  # the client messages the mock saw, one per line
    curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["hibachi"]["received"]))'
}
ctl() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$1"; }
urls0=$(q "SELECT rest_url || ' ' || ws_url FROM perps_stats.exchanges WHERE name = 'hibachi'")
streamed0=$(q "SELECT coalesce(string_agg(quote_literal(exchange || '/' || symbol), ','), '''''') FROM perps_stats.watchlist WHERE stream")

t0=$(q "SELECT now()")
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/hibachi/ws/market', rest_url = '$PERPS_MOCK_URL/hibachi' WHERE name = 'hibachi';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'hibachi' AND symbol = 'BTC');
   UPDATE perps_stats.markets SET book_steps = NULL WHERE exchange_id = 10 AND symbol = 'BTC';
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null

# ---- start, market row, one subscribe message ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'hibachi' AND state = 'streaming'" \
        "the launcher starts the hibachi stream worker and it streams from the mock" 30
is "$(q "SELECT native_symbol || ' ' || base || ' ' || quote FROM perps_stats.markets WHERE exchange_id = 10 AND symbol = 'BTC'")" \
   "BTC/USDT-P BTC USDT" "the worker created the market row (BTC/USDT-P, quote USDT)"
is "$(received | grep -c '^{"method":"subscribe","parameters":{"subscriptions":\[{"symbol":"BTC/USDT-P","topic":"orderbook","depth":100},{"symbol":"BTC/USDT-P","topic":"trades"},{"symbol":"BTC/USDT-P","topic":"mark_price"},{"symbol":"BTC/USDT-P","topic":"spot_price"},{"symbol":"BTC/USDT-P","topic":"ask_bid_price"},{"symbol":"BTC/USDT-P","topic":"funding_rate_estimation"},{"symbol":"BTC/USDT-P","topic":"klines","interval":"1min"}\]}}$')" \
   "1" "one subscribe message: orderbook (depth 100), trades, the four price topics and the 1m klines (1min) of BTC/USDT-P"

# ---- the Snapshot: 4 levels a side, seq = timestamp_ms ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116500123)" \
        "the Snapshot (timestamp_ms 1796116500123) is stored with its time as seq"
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116500123"
is "$(q "SELECT bids::text || ' ' || asks::text || ' ' || $(ms ts) $book")" \
   "{{97000.0,1.2500000000},{96999.5,0.5000000000},{96998.0,2.0000000000},{96990.0,4.0000000000}} {{97000.5,0.7500000000},{97001.0,1.5000000000},{97003.0,3.0000000000},{97010.0,5.0000000000}} 1796116500123" \
   "the Snapshot's levels as sent, bids best first, asks best first; ts = timestamp_ms"
# mid = (97000.0 + 97000.5) / 2 = 97000.25; 1 bps of it = 9.700025:
#   bids >= 96990.549975: 97000.0 x 1.25 = 121250.0, 96999.5 x 0.5 = 48499.75,
#     96998.0 x 2.0 = 193996.0; sum 363745.75 (96990.0 is out)
#   asks <= 97009.950025: 97000.5 x 0.75 = 72750.375, 97001.0 x 1.5 = 145501.5,
#     97003.0 x 3.0 = 291009.0; sum 509260.875 (97010.0 is out)
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1796116500.123) AND mid_price = 97000.25)" \
        "a liquidity_depth row with the Snapshot, mid 97000.25"
is "$(q "SELECT bid_1bps = 363745.75 AND ask_1bps = 509260.875 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1796116500.123)")" \
   "t" "its 1 bps depth: 363745.75 of bids, 509260.875 of asks"

# ---- the price topics: three ticker rows (mark, spot, ask_bid), the funding estimate ----
tick="coalesce(last_price::text, 'NULL'), coalesce(mark_price::text, 'NULL'), coalesce(index_price::text, 'NULL'),
      coalesce(best_bid_price::text, 'NULL'), coalesce(best_bid_qty::text, 'NULL'), coalesce(best_ask_price::text, 'NULL'),
      coalesce(best_ask_qty::text, 'NULL'), coalesce(volume_24h::text, 'NULL'), coalesce(open_interest::text, 'NULL')"
ok_wait "SELECT count(*) = 3 FROM perps_stats.tickers WHERE market_id = $BTC AND ts >= '$t0'" \
        "mark_price, spot_price and ask_bid_price give a ticker row each (funding_rate_estimation none)"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts >= '$t0' ORDER BY ts DESC LIMIT 1")" \
   "NULL 97001.12345 96998.87654 97000.00000 1.2500000000 97000.50000 0.7500000000 NULL NULL" \
   "the merged ticker: markPrice, spotPrice (the index), bid and ask with their sizes, as sent; no last price, volume or OI on these topics"
is "$(q "SELECT count(*) FROM perps_stats.tickers WHERE market_id = $BTC AND ts >= '$t0' AND ts <= now()")" "3" \
   "the price frames carry no time: the rows have the time they were received"
# fundingRateEstimation: 0.000012500 for the settlement at 1796119200 (2026-12-01 10:00 UTC), hourly
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC AND funding_time = to_timestamp(1796119200))" \
        "the funding estimate gives a funding_rates row at nextFundingTimestamp"
is "$(q "SELECT rate || ' ' || interval_hours || ' ' || coalesce(predicted_rate::text, 'NULL') FROM perps_stats.funding_rates WHERE market_id = $BTC AND funding_time = to_timestamp(1796119200)")" \
   "0.000012500 1 NULL" "funding row: estimatedFundingRate as sent, interval 1 h"

# ---- an Update: the span drops what lies outside, zero deletes, the rest is set ----
# orderbook.update.json (timestamp_ms 1796116500623):
#   bid span [96995.0, 97000.5]: 96990.0 goes; 97000.5 x 0.3 new, 96999.5 x 0 deleted
#     -> 97000.5 x 0.3, 97000.0 x 1.25, 96998.0 x 2.0
#   ask span [97001.0, 97012.0]: 97000.5 goes; 97003.0 now 2.5, 97012.0 x 6.0 new
#     -> 97001.0 x 1.5, 97003.0 x 2.5, 97010.0 x 5.0, 97012.0 x 6.0
act '{"venue":"hibachi","action":"replay","frames":["orderbook.update.json"]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116500623)" \
        "the Update (…623) is applied and the book stored"
is "$(q "SELECT bids::text || ' ' || asks::text FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116500623")" \
   "{{97000.5,0.3000000000},{97000.0,1.2500000000},{96998.0,2.0000000000}} {{97001.0,1.5000000000},{97003.0,2.5000000000},{97010.0,5.0000000000},{97012.0,6.0000000000}}" \
   "the book after it: levels outside startPrice..endPrice dropped, the zero deleted, new and changed levels set"

# ---- trades: the REST side's synthetic id, seconds ----
act '{"venue":"hibachi","action":"replay","frames":["trades.json","trades.sell.json"]}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.trades WHERE market_id = $BTC AND price IN (97251.2, 97249.0)" "the two trade frames are stored"
is "$(q "SELECT string_agg(trade_id || ' ' || $(ms ts) || ' ' || price || ' ' || qty || ' ' || side, ', ' ORDER BY ts) FROM perps_stats.trades WHERE market_id = $BTC AND price IN (97251.2, 97249.0)")" \
   "1796116471-S-97249.0-0.0000000001-0 1796116471000 97249.0 0.0000000001 sell, 1796116498-B-97251.2-0.0124000000-0 1796116498000 97251.2 0.0124000000 buy" \
   "trades: id <seconds>-<B|S>-<price>-<quantity>-0, time in whole seconds, takerSide Buy -> buy, Sell -> sell"
is "$(q "SELECT count(*) FROM perps_stats.fetch_trades('hibachi', 'BTC') r JOIN perps_stats.trades t ON t.trade_id = r.trade_id AND t.market_id = $BTC")" "2" \
   "the REST trades answer (trades.BTC.json) gives both trades the ids the stream gave them"

# ---- klines (1min): a candle going, then its later values, then the next one ----
# klines.open.json, klines.closed.json: t 1796116440 (09:14:00), o 96990.0 h 97001.0 -> 97005.0
# l 96985.5 c 96999.0 -> 97000.5, volumeNotional 125000.25 -> 250000.75; klines.next.json: t
# 1796116500, 97000.5 / 97001.0 / 97000.0 / 97001.0, 3000.50.  Close = open + 60 s - 1 ms; no base
# volume and no trade count (only the notional is sent)
act '{"venue":"hibachi","action":"replay","frames":["klines.open.json","klines.closed.json","klines.next.json"]}'
kl="FROM perps_stats.klines WHERE market_id = $BTC AND \"interval\" = '1m'"
ok_wait "SELECT count(*) = 2 AND bool_or(close = 97001.0) AND bool_or(close = 97000.5) $kl" "the klines stream: two candles stored"
is "$(q "SELECT string_agg($(ms open_time) || ' ' || $(ms close_time) || ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || coalesce(volume::text, 'NULL') || ' ' || turnover || ' ' || coalesce(trade_count::text, 'NULL'), ', ' ORDER BY open_time) $kl")" \
   "1796116440000 1796116499999 96990.0 97005.0 96985.5 97000.5 NULL 250000.75 NULL, 1796116500000 1796116559999 97000.5 97001.0 97000.0 97001.0 NULL 3000.50 NULL" \
   "klines: the later frame of the first candle replaced the earlier; volumeNotional is the turnover"

# ---- replay: nothing stored twice ----
act '{"venue":"hibachi","action":"replay","frames":["trades.json","trades.sell.json","klines.closed.json","orderbook.snapshot.json","orderbook.update.json"]}'
act '{"venue":"hibachi","action":"trades","count":1,"price":"97300.5","qty":"0.25"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97300.5)" \
        "a trade sent after the replay is stored (so the replay was read)"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $BTC AND price IN (97251.2, 97249.0)") $(q "SELECT count(*) $kl") $(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq IN (1796116500123, 1796116500623)")" \
   "2 2 2" "the replayed trades, candle and book frames added no row (an orderbook message no newer than the book is stale)"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" \
   "no gap, resync, parse error or reconnect so far"

# ---- an Update older than the book: out of order, a gap, resynced by resubscribing ----
act '{"venue":"hibachi","action":"book","bids":[["96999.0","1"]],"time_delta":-100,"keep":false}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'hibachi'" \
        "an Update 100 ms older than the book: one gap, one resync"
# the book was at …623 (the replayed Update, as written); the mock's own clock is still at the
# Snapshot's …123, so this Update is …123 - 100 = …023 and the resubscription's Snapshot …124
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $BTC AND source = 'stream'
         AND message = 'BTC/USDT-P book: update id 1796116500023 came after 1796116500623, out of order; resynced at update id 1796116500124'
         AND first_missing_id IS NULL)" \
        "its gap row names the late update and the book it came after, and no lost ids"
is "$(received | grep -c '^{"method":"unsubscribe","parameters":{"subscriptions":\[{"symbol":"BTC/USDT-P","topic":"orderbook"}\]}}$') $(received | grep -c '^{"method":"subscribe","parameters":{"subscriptions":\[{"symbol":"BTC/USDT-P","topic":"orderbook","depth":100}\]}}$')" \
   "1 1" "the resync unsubscribed and subscribed the orderbook of BTC/USDT-P"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116500124
         AND bids::text = '{{97000.0,1.2500000000},{96999.5,0.5000000000},{96998.0,2.0000000000},{96990.0,4.0000000000}}')" \
        "the fresh Snapshot (the mock's book: the replayed Update was not applied to it) rebuilds the book"

# ---- a crossed book: one resync, no gap ----
act '{"venue":"hibachi","action":"book","bids":[["97005.0","1"]],"bid_span":["97005.0","96990.0"],"keep":false}'
ok_wait "SELECT gaps = 1 AND resyncs = 2 FROM perps_stats.stream_status WHERE exchange = 'hibachi'" \
        "an Update with a bid (97005.0) above the best ask (97000.5) crosses the book: a second resync, no new gap"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'resync' AND market_id = $BTC AND source = 'stream'
         AND message = 'BTC/USDT-P book crossed at update id 1796116500125; resynced at update id 1796116500126')" \
        "its resync row names the crossed update and the fresh Snapshot"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116500125")" "0" "the crossed book was not stored"

# ---- malformed frames: counted, skipped, the stream goes on; an error reply ----
pe0=$(status parse_errors)
act '{"venue":"hibachi","action":"garbage"}'
act '{"venue":"hibachi","action":"truncated","frame":"{\"data\":{\"trade\":{\"price\":\"1\",\"quantity\":\"1\",\"takerSide\":\"Buy\",\"timestamp\":1796116498}},\"symbol\":\"BTC/USDT-P\",\"topic\":\"trades\"}"}'
act '{"venue":"hibachi","action":"send","frames":["{\"data\":{\"trade\":{\"price\":{\"x\":1},\"quantity\":\"1\",\"takerSide\":\"Buy\",\"timestamp\":1796116498}},\"symbol\":\"BTC/USDT-P\",\"topic\":\"trades\"}"]}'
act '{"venue":"hibachi","action":"send","frames":["{\"data\":{\"trade\":{\"price\":\"7.5\",\"quantity\":\"1\",\"takerSide\":\"Up\",\"timestamp\":1796116498}},\"symbol\":\"BTC/USDT-P\",\"topic\":\"trades\"}"]}'
act '{"venue":"hibachi","action":"send","frames":["{\"data\":{\"ask\":null,\"bid\":null},\"messageType\":\"Delta\",\"symbol\":\"BTC/USDT-P\",\"timestamp_ms\":1796116500999,\"topic\":\"orderbook\"}"]}'
act '{"venue":"hibachi","action":"oversized","bytes":5000000}'
# error.json: the reply shape the mock gives a request it refuses
act '{"venue":"hibachi","action":"send","frames":["{\"error\":\"Invalid subscription: unknown topic nope\",\"status\":400}"]}'
act '{"venue":"hibachi","action":"trades","count":1,"price":"97301.5","qty":"0.25"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97301.5 AND qty::text LIKE '0.25%')" \
        "a good frame after the bad ones is stored"
is "$(( $(status parse_errors) - pe0 ))" "6" \
   "garbage, truncated, a wrong-typed price, an unknown takerSide, an unknown messageType and an oversized frame: six parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $BTC AND price IN (1, 7.5)")" "0" "nothing of the bad frames is stored"
is "$(status last_error)" 'the venue refused a request: Invalid subscription: unknown topic nope' "an error reply is the venue's refusal, with its text"
is "$(status state)" "streaming" "the connection survived them"

# ---- a dropped connection: reconnect, downtime recorded, stream continues ----
act '{"venue":"hibachi","action":"drop"}'
ok_wait "SELECT reconnects = 1 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'hibachi'" \
        "after a drop the worker reconnects (backoff from 1 s)" 20
ok_wait "SELECT count(*) = 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 10" \
        "one reconnect row"
is "$(q "SELECT d.range_start = r.range_start AND d.range_end IS NULL AND r.range_end IS NOT NULL AND d.ts <= r.ts
         FROM perps_stats.ingest_events d, perps_stats.ingest_events r
         WHERE d.kind = 'disconnect' AND r.kind = 'reconnect' AND d.source = 'stream' AND r.source = 'stream' AND d.exchange_id = 10 AND r.exchange_id = 10")" \
   "t" "disconnect and reconnect rows: both from the last message before the drop, the reconnect to the first after it"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116500127)" \
        "the new connection's Snapshot (…127) is stored"
is "$(received | grep -c '"topic":"funding_rate_estimation"}')" "2" "the new connection subscribed again (one message per connection)"
act '{"venue":"hibachi","action":"trades","count":3,"price":"97302.5"}'
ok_wait "SELECT count(*) = 3 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97302.5" \
        "the stream continues after the reconnect (three trades of one second, their quantities differing)"

# ---- trade continuity with the tape (no ids; REST has the most recent 100 trades) ----
# tape HIBACHI: trade k at t0 + k * 1000 / R ms, price 42000 + k % 997 "." (k * 7919) on 20
# digits, qty 0.<k % 999 + 1>, k even a Buy (test/mock/tape.py); both mocks send its time in
# whole seconds, so the synthetic ids of stream and REST agree
tape() {
    local t0=$(( $(date +%s%3N) + 300 ))
    local p="{\"venue\":\"hibachi\",\"symbol\":\"BTC/USDT-P\",\"count\":$1,\"rate\":$2,\"t0_ms\":$t0}"
    ctl "$PERPS_MOCK_URL/_mock/tape" "$p" >/dev/null || echo "# REST tape refused: $p" >&2
    ctl "$PERPS_MOCK_WS_CONTROL/action" "${p%\}},\"action\":\"tape\"}" >/dev/null || echo "# stream tape refused: $p" >&2
    echo "$t0"
}
# the tape's trades as the venue defines them: k, its second, its price
tape_sql() {  # tape_sql T0 N R
    echo "(SELECT k, floor(($1 + k * 1000 / $3) / 1000.0) AS sec,
                  ((42000 + k % 997)::text || '.' || lpad((k * 7919)::text, 20, '0'))::numeric AS price
             FROM generate_series(0, $2 - 1) k)"
}
tape_stored() {  # tape_stored T0 N R: the tape's trades stored, and with how many rows
    q "SELECT count(DISTINCT t.k) || ' ' || count(s.*) FROM $(tape_sql "$1" "$2" "$3") t
         JOIN perps_stats.trades s ON s.market_id = $BTC AND s.price = t.price AND s.ts = to_timestamp(t.sec)"
}
q "DELETE FROM perps_stats.trades WHERE market_id = $BTC AND price < 50000" >/dev/null
# 4 s of trades, dropped after the first sixth: the reconnection (a backoff of 0.5 to 1.5 s) comes
# well before the tape ends, so trades follow it and show the gap (under the sanitizers too)
N=120 R=30
t0=$(tape $N $R)
wait_for "SELECT count(*) >= $((N / 6)) FROM perps_stats.trades WHERE market_id = $BTC AND price < 50000" 30
act '{"venue":"hibachi","action":"drop"}'
ok_until "tape_stored $t0 $N $R" "$N $N" "tape a) with the connection dropped midway, all $N trades (30/s) are stored, each once" 30
is "$(q "SELECT refetches >= 1 AND trades_refetched > 0 AND trade_gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'hibachi'")" "t" \
   "tape a) the missed ones refetched from the venue's most recent trades, no gap"
k=77
is "$(q "SELECT trade_id || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $BTC AND price = 42077.00000000000000609763")" \
   "$(( (t0 + k * 1000 / R) / 1000 ))-S-42077.00000000000000609763-0.078-0 0.078 sell" \
   "tape a) trade 77 (77 x 7919 = 609763; odd: a Sell) has the synthetic id of its second, side, price and quantity"

since=$(q "SELECT now()")
ctl "$PERPS_MOCK_URL/_mock/faults" '{"venue":"hibachi","path":"/market/data/trades","kind":"status","status":503,"count":-1}' >/dev/null
q "DELETE FROM perps_stats.trades WHERE market_id = $BTC AND price < 50000" >/dev/null
t0=$(tape $N $R)
wait_for "SELECT count(*) >= $((N / 6)) FROM perps_stats.trades WHERE market_id = $BTC AND price < 50000" 30
act '{"venue":"hibachi","action":"drop"}'
ok_wait "SELECT trade_gaps = 1 FROM perps_stats.stream_status WHERE exchange = 'hibachi'" \
        "tape b) with /market/data/trades answering 503, the refetch gives up and records a gap" 40
ok_wait "SELECT count(*) >= 1 FROM perps_stats.trades WHERE market_id = $BTC AND price < 50000 AND ts >= to_timestamp(floor(($t0 + ($N - 1) * 1000 / $R) / 1000.0))" \
        "tape b) the tape's last second is streamed" 20
# every trade of the tape that is not stored lies in the gap row's range (whole seconds)
is "$(q "WITH m AS (SELECT t.* FROM $(tape_sql "$t0" "$N" "$R") t WHERE NOT EXISTS
                      (SELECT 1 FROM perps_stats.trades s WHERE s.market_id = $BTC AND s.price = t.price)),
              g AS (SELECT * FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = 'gap' AND exchange_id = 10 AND ts >= '$since')
         SELECT (SELECT count(*) FROM g) || ' ' || (SELECT count(*) > 0 FROM m) || ' ' ||
                (SELECT bool_and(m.sec BETWEEN extract(epoch FROM g.range_start) AND extract(epoch FROM g.range_end)) FROM m, g) || ' ' ||
                (SELECT bool_and(first_missing_id IS NULL) FROM g)")" \
   "1 true true true" "tape b) one gap row by time, holding every trade of the tape that is missing, with no ids (they do not exist)"
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/tape" >/dev/null

# ---- coarser books (issue 19): the market's book_steps reach the worker's snapshots ----
# The market row has no steps (set NULL at the start, or made by the worker, which has
# no exchange-info): one book, unnamed.  With book_steps {0.1,1} (two granularities) a snapshot whose
# streamed book falls short of 100 bps is merged with granularity 1 fetched by REST
# (the mock's payload book at 1), and the rows are named (the snapshots' times are
# the venue's, so the rows are told apart by their names); there is no third to ask.
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/log" >/dev/null
# (the snapshots carry the mock venue's time, 2026-12-01 09:15 on; collect() rows of other tests, now)
streamed="market_id = $BTC AND ts >= to_timestamp(1796116500) AND ts < to_timestamp(1796116500) + interval '1 day'"
is "$(q "SELECT count(*) FROM perps_stats.liquidity_depth WHERE $streamed AND resolution IS NOT NULL")" "0" \
   "without book_steps, no snapshot row names a resolution"
q "UPDATE perps_stats.markets SET book_steps = '{0.1,1}' WHERE id = $BTC" >/dev/null
named=f
for i in $(seq 1 40); do   # a book change a second (the worker reads its markets every 5 s)
    act '{"venue":"hibachi","action":"book","asks":[["97100.0","'$i'"]]}'
    named=$(q "SELECT count(*) > 0 FROM perps_stats.liquidity_depth WHERE $streamed AND resolution LIKE 'granularity=%'")
    [ "$named" = t ] && break
    sleep 1
done
is "$named" "t" "with book_steps, the snapshots' liquidity_depth rows name the granularity of the book they came from"
is "$(curl -sf "$PERPS_MOCK_URL/_mock/log?venue=hibachi" | python3 -c 'import json,sys
g = [r["query"].get("granularity") for r in json.load(sys.stdin) if r["path"].endswith("/market/data/orderbook")]
print(len(g) >= 1, sorted(set(map(str, g))))')" \
   "True ['1']" "the worker's REST book requests ask granularity=1, the second step, and no other"
q "UPDATE perps_stats.markets SET book_steps = NULL WHERE id = $BTC" >/dev/null

# ---- leave the others a clean start ----
qs "ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM RESET perps_stats.stream_workers; SELECT pg_reload_conf();
   UPDATE perps_stats.watchlist SET stream = (exchange || '/' || symbol IN ($streamed0));
   UPDATE perps_stats.exchanges SET rest_url = split_part('$urls0', ' ', 1), ws_url = split_part('$urls0', ' ', 2) WHERE name = 'hibachi';" >/dev/null

tap_done
