#!/usr/bin/env bash
# The Nado stream worker against the WebSocket mock (test/mock/ws_venues/nado.py)
# serving the project's own frames (test/payloads/websocket/nado, written from
# docs.nado.xyz "API / Subscriptions"; no recording exists) and the REST mock
# (test/mock/venues/nado.py) for the markets and the book snapshots: one
# subscription per stream and product, the book_depth chain continuing the
# REST snapshot (its timestamp in ns) into exactly the book worked out by
# hand, a break in the chain (a last_max_timestamp that is not the previous
# max_timestamp) one gap row and a resync from REST, a crossed book a resync,
# trades, best bid/offer, funding and 1m candles exactly their rows, replays
# stored once, malformed and oversized frames counted and skipped, a drop a
# reconnect with its downtime, and the trade tape: all its trades stored
# once, or, dropped midway, one gap row whose time range holds every trade
# missing (Nado's streamed trades have no id: nothing is refetched).
# Expected values are worked out by hand from the frames.  Polls with a
# timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=nado
. "$(dirname "$0")/../lib/tap.sh"

ETH="(SELECT id FROM perps_stats.markets WHERE exchange_id = 12 AND symbol = 'ETH')"
url0=$(q "SELECT ws_url FROM perps_stats.exchanges WHERE name = 'nado'")
ctl() { curl -sf -X POST -H 'Content-Type: application/json' -d "$1" "$PERPS_MOCK_WS_CONTROL/action"; }
# the requests the mock received, each as compact JSON with sorted keys
recv() {
    curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["nado"]["received"]:
    print(json.dumps(json.loads(m), sort_keys=True, separators=(",", ":")))'
}
book() { q "SELECT $1 FROM perps_stats.orderbooks WHERE market_id = $ETH ORDER BY ts DESC, seq DESC LIMIT 1"; }

qs "UPDATE perps_stats.exchanges SET rest_url = '$PERPS_MOCK_URL/nado', aux_url = '$PERPS_MOCK_URL/nado/aux',
          ws_url = '$PERPS_MOCK_WS_URL/nado/v1/subscribe' WHERE name = 'nado';
   SELECT perps_stats.refresh_markets('nado');
   INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('nado', 'ETH', false, true)
       ON CONFLICT (exchange, symbol) DO UPDATE SET stream = true;
   UPDATE perps_stats.watchlist SET stream = (exchange = 'nado' AND symbol = 'ETH');
   ALTER SYSTEM SET perps_stats.stream_kline_intervals = '1m,30m,1h';
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.orderbook_store_levels = 500;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null
is "$(q "SELECT native_symbol || ' ' || base || ' ' || quote FROM perps_stats.markets WHERE exchange_id = 12 AND symbol = 'ETH'")" \
   "4 ETH USDT0" "ETH is product 4 (from the REST symbols query)"

# ---- start: one connection, one subscription per stream ----
# ids in order; funding_rate once for every product (product_id null); 1m and 1h candles
# (granularity 60 and 3600 s), no 30m: Nado has no such granularity
subs='{"id":1,"method":"subscribe","stream":{"product_id":null,"type":"funding_rate"}}
{"id":2,"method":"subscribe","stream":{"product_id":4,"type":"book_depth"}}
{"id":3,"method":"subscribe","stream":{"product_id":4,"type":"trade"}}
{"id":4,"method":"subscribe","stream":{"product_id":4,"type":"best_bid_offer"}}
{"id":5,"method":"subscribe","stream":{"granularity":60,"product_id":4,"type":"latest_candlestick"}}
{"id":6,"method":"subscribe","stream":{"granularity":3600,"product_id":4,"type":"latest_candlestick"}}'
ok_until "recv" "$subs" "the worker connects and subscribes: funding_rate (all products), book_depth, trade, best_bid_offer, 1m and 1h candles of product 4" 30
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'")" "1" \
   "one stream worker (the only venue with streamed watchlist rows)"

# ---- best bid/offer: a ticker row of the best levels only ----
tick="concat_ws(' ', $(for c in last_price mark_price index_price best_bid_price best_bid_qty best_ask_price best_ask_qty volume_24h open_interest; do printf "coalesce(%s::text, 'NULL'), " $c; done | sed 's/, $//'))"
act '{"venue":"nado","action":"bbo"}'
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'nado' AND state = 'streaming'" \
        "data flows: the worker is streaming" 30
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $ETH AND ts = '2026-12-01 09:15:00.2+00')" \
        "the best_bid_offer frame (timestamp 1796116500200000000 ns = 09:15:00.2) is a ticker row"
# 3521390000000000000000 / 10^18 = 3521.39, 750000000000000000 / 10^18 = 0.75,
# 3521415000000000000000 / 10^18 = 3521.415, 125000000000000000 / 10^18 = 0.125
is "$(q "SELECT $tick FROM perps_stats.tickers WHERE market_id = $ETH AND ts = '2026-12-01 09:15:00.2+00'")" \
   "NULL NULL NULL 3521.39 0.75 3521.415 0.125 NULL NULL" "ticker: the best bid and ask with their sizes from x18, nothing else streamed"

# ---- the book: the REST snapshot, then the chain of book_depth events ----
# a first event makes the worker fetch the REST book (market_liquidity, its
# timestamp the mock's clock in ns, after the event): the event is older, dropped
act '{"venue":"nado","action":"book_delta"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $ETH)" "the REST snapshot is the first book stored"
# the REST mock's ETH book: bids 3521.4 - 0.01 k x k / 2, asks 3521.4 + 0.01 k x k / 4, k = 1..5
is "$(book "bids::text || ' ' || asks::text")" \
   "{{3521.39,0.5},{3521.38,1},{3521.37,1.5},{3521.36,2},{3521.35,2.5}} {{3521.41,0.25},{3521.42,0.5},{3521.43,0.75},{3521.44,1},{3521.45,1.25}}" \
   "the snapshot's levels from x18, best first"
seq0=$(book seq)
# the three frames: 1 sets 3521.39 to 0.75, adds bid 3521.40 x 0.2, deletes ask 3521.41;
# 2 deletes bid 3521.35, adds ask 3521.415 x 0.125; 3 deletes bid 3521.38, adds 3521.30 x 4,
# sets ask 3521.42 to 123456789012345678 / 10^18 = 0.123456789012345678
act '{"venue":"nado","action":"replay"}'
want_bids='{{3521.40,0.2},{3521.39,0.75},{3521.37,1.5},{3521.36,2},{3521.30,4}}'
want_asks='{{3521.415,0.125},{3521.42,0.123456789012345678},{3521.43,0.75},{3521.44,1},{3521.45,1.25}}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $ETH AND bids = '$want_bids' AND asks = '$want_asks')" \
        "the first event spans the snapshot (last_max_timestamp before its timestamp) and the next two continue it"
seq3=$(q "SELECT max(seq) FROM perps_stats.orderbooks WHERE market_id = $ETH AND bids = '$want_bids' AND asks = '$want_asks'")
is "$([ "$seq3" -gt "$seq0" ] && echo later)" "later" "the book's sequence is the last event's max_timestamp, after the snapshot's timestamp"
is "$(q "SELECT (extract(epoch FROM ts) * 1000000)::bigint = $seq3 / 1000 FROM perps_stats.orderbooks WHERE market_id = $ETH AND seq = $seq3")" \
   "t" "the book's time is the event's max_timestamp (ns, to the µs)"
# the depth row of that book, by hand: mid = (3521.40 + 3521.415) / 2 = 3521.4075; 1 bps:
# bids >= 3521.4075 - 0.35214075 = 3521.05535925: all five, 3521.40 x 0.2 + 3521.39 x 0.75
# + 3521.37 x 1.5 + 3521.36 x 2 + 3521.30 x 4 = 704.28 + 2641.0425 + 5282.055 + 7042.72
# + 14085.2 = 29755.2975; asks <= 3521.75964075: all five, 440.176875 + 3521.42 x
# 0.123456789012345678 (434.74320596385431742276) + 2641.0725 + 3521.44 + 4401.8125
# = 11439.24508096385431742276; max_bid_bps = (3521.4075 - 3521.30) / 3521.4075 x 10^4
# = 0.30527566037..., max_ask_bps = (3521.45 - 3521.4075) / 3521.4075 x 10^4 = 0.12069037735...
liq="FROM perps_stats.liquidity_depth WHERE market_id = $ETH AND ts = (SELECT ts FROM perps_stats.orderbooks WHERE market_id = $ETH AND seq = $seq3)"
ok_wait "SELECT EXISTS (SELECT 1 $liq)" "a liquidity_depth row with the book"
is "$(q "SELECT mid_price || ' ' || bid_1bps || ' ' || ask_1bps || ' ' || bid_100bps || ' ' || ask_100bps || ' ' || round(max_bid_bps, 10) || ' ' || round(max_ask_bps, 10) $liq")" \
   "3521.4075 29755.2975 11439.24508096385431742276 29755.2975 11439.24508096385431742276 0.3052756604 0.1206903774" \
   "depth: the whole book lies within 1 bps of mid; how far each side reaches"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" "no gap, resync, parse error or reconnect so far"

# ---- a break in the chain: one gap row, a resync from the REST book ----
# skip 2: two events nobody is sent; the one sent has last_max_timestamp L = the second
# lost event's max (not the book's seq3): the lost updates are seq3 + 1 .. L
gap=$(ctl '{"venue":"nado","action":"book_delta","skip":2}')
L=$(echo "$gap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_max"])')
M=$(echo "$gap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["max"])')
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'nado'" \
        "a last_max_timestamp that is not the book's max_timestamp: one gap and one resync"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'gap' AND source = 'stream' AND exchange_id = 12)" "a gap row is written"
is "$(q "SELECT count(*) || ' ' || (min(message) LIKE '4 book: update ids $((seq3 + 1))..$L lost; resynced from the REST book at update id %')
           || ' ' || (min((extract(epoch FROM range_start) * 1000000)::bigint) = $seq3 / 1000)
           || ' ' || (min(range_end) >= min(range_start))
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $ETH AND source = 'stream'")" \
   "1 true true true" "exactly one gap row: the lost update times (ns) after the book's up to the event's last_max_timestamp, from the book's time"
T2=$(q "SELECT substring(message FROM 'at update id ([0-9]+)') FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $ETH AND source = 'stream'")
is "$([ "$T2" -gt "$M" ] && echo newer)" "newer" "the new snapshot is newer than the event that showed the gap (which it then holds)"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $ETH AND seq = $T2
           AND bids = '{{3521.39,0.5},{3521.38,1},{3521.37,1.5},{3521.36,2},{3521.35,2.5}}')" \
        "the book is the new REST snapshot, nothing of the old chain left"
act '{"venue":"nado","action":"book_delta","bids":[["3521395000000000000000","100000000000000000"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $ETH AND seq > $T2 AND array_length(bids, 1) = 6
           AND bids[1][1] = 3521.395 AND bids[1][2] = 0.1)" \
        "the next event spans the new snapshot and applies: a sixth bid, 3521.395 x 0.1, best"
is "$(status "gaps || ' ' || resyncs")" "1 1" "still one gap and one resync"

# ---- a crossed book: a resync, recorded ----
# a bid at 3521.50 above the best ask 3521.41 crosses the book: cleared; the next event
# fetches the REST book again
act '{"venue":"nado","action":"book_delta","bids":[["3521500000000000000000","1000000000000000000"]]}'
ok_wait "SELECT gaps = 1 AND resyncs = 2 FROM perps_stats.stream_status WHERE exchange = 'nado'" "a crossed book is a resync, not a gap"
# (the worker fetches a REST book at most once a second: an event sooner after the last one
# is dropped, so events are sent until one is taken)
crossed="SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'resync' AND market_id = $ETH AND source = 'stream'
           AND message LIKE '4 book crossed at update id % resynced from the REST book at update id %')"
ok_until "act '{\"venue\":\"nado\",\"action\":\"book_delta\"}'; wait_for \"\$crossed\" 1 && echo t" "t" \
         "one resync row says the book crossed and was resynced from the REST book"
ok_wait "SELECT bids[1][1] = 3521.39 AND asks[1][1] = 3521.41 FROM perps_stats.orderbooks WHERE market_id = $ETH ORDER BY seq DESC LIMIT 1" \
        "the book is the REST snapshot again"

# ---- trades: no id on the wire ----
act '{"venue":"nado","action":"trade_replay"}'
tr="FROM perps_stats.trades WHERE market_id = $ETH AND ts < '2026-12-02'"
ok_wait "SELECT count(*) = 2 $tr" "the two trade frames are two trades"
# id: timestamp (ns), b/s (is_taker_buyer), price and taker_qty (x18) as sent; the time to
# the µs; 3521410000000000000000 = 3521.41, 1250000000000000000 = 1.25, 3521385000000000000000
# = 3521.385, 500000000000000 = 0.0005
is "$(q "SELECT string_agg(trade_id || ' ' || to_char(ts AT TIME ZONE 'UTC', 'HH24:MI:SS.US') || ' ' || price || ' ' || qty || ' ' || side, ', ' ORDER BY ts) $tr")" \
   "1796116500123456789-b-3521410000000000000000-1250000000000000000 09:15:00.123456 3521.41 1.25 buy, 1796116500987654321-s-3521385000000000000000-500000000000000 09:15:00.987654 3521.385 0.0005 sell" \
   "trades: the made-up id, the time (ns cut to µs), price and size from x18, the taker's side"
act '{"venue":"nado","action":"trade_replay"}'
act '{"venue":"nado","action":"trades","count":1,"price":"3521.6","qty":"0.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $ETH AND price = 3521.6)" "a later trade is stored"
is "$(q "SELECT count(*) $tr")" "2" "the replayed trades are not stored twice (the same id)"

# ---- funding: the 24 h rate / 24, due at the next hour ----
fund() { q "SELECT coalesce(string_agg((extract(epoch FROM funding_time))::bigint || ' ' || rate || ' ' || interval_hours, ', ' ORDER BY funding_time), 'none')
            FROM perps_stats.funding_rates WHERE market_id = $1 AND funding_time > '2026-12-01' AND funding_time < '2026-12-02'"; }
btc0=$(fund "(SELECT id FROM perps_stats.markets WHERE exchange_id = 12 AND symbol = 'BTC')")
act '{"venue":"nado","action":"funding"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $ETH AND funding_time = to_timestamp(1796119200))" \
        "the funding_rate frame is a funding row"
# -697407056090986 / 24 = -29058627337124.41666..., x 10^-18, rounded at the 38th decimal:
# -0.00002905862733712441666666666666666667; update_time 1796116470 (09:14:30) -> paid at
# 10:00 = 1796119200
is "$(fund "$ETH")" "1796119200 -0.00002905862733712441666666666666666667 1" \
   "funding: the hour's rate, a 24th of the 24 h rate, for the hour ending at 10:00, hourly"
is "$(fund "(SELECT id FROM perps_stats.markets WHERE exchange_id = 12 AND symbol = 'BTC')")" "$btc0" \
   "product 2's rate (every product comes on the one subscription) is not stored: BTC is not streamed"
is "$(q "SELECT count(*) FROM perps_stats.tickers WHERE market_id = $ETH AND ts = to_timestamp(1796116510)")" "0" \
   "a frame with only funding makes no ticker row"

# ---- candles: the 1m one as it grows, then the next ----
act '{"venue":"nado","action":"candles"}'
kl="FROM perps_stats.klines WHERE market_id = $ETH AND \"interval\" = '1m'"
ok_wait "SELECT count(*) = 2 $kl AND open_time >= to_timestamp(1796116440) AND open_time <= to_timestamp(1796116500)" "two 1m candles"
# a (09:14:00): 3521 3521.5 3520.75 3521.25 2.5, then b of the same candle: high 3521.6,
# close 3521.41, volume 3.75 (replaces a); c (09:15:00): 3521.41 3521.41 3521.385 3521.385
# 1250500000000000000 = 1.2505; closes 59.999 s after it opens; no turnover or count
is "$(q "SELECT string_agg(to_char(open_time AT TIME ZONE 'UTC', 'HH24:MI:SS') || '-' || to_char(close_time AT TIME ZONE 'UTC', 'HH24:MI:SS.MS')
             || ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || coalesce(turnover::text, 'NULL')
             || ' ' || coalesce(trade_count::text, 'NULL'), ', ' ORDER BY open_time)
         $kl AND open_time >= to_timestamp(1796116440) AND open_time <= to_timestamp(1796116500)")" \
   "09:14:00-09:14:59.999 3521 3521.6 3520.75 3521.41 3.75 NULL NULL, 09:15:00-09:15:59.999 3521.41 3521.41 3521.385 3521.385 1.2505 NULL NULL" \
   "klines from x18: the later event of the 09:14 candle replaced the earlier one"
pe0=$(status parse_errors)
act "{\"venue\":\"nado\",\"action\":\"send\",\"frames\":[$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$(dirname "$0")/../payloads/websocket/nado/latest_candlestick.eth_2h.json")]}"
act '{"venue":"nado","action":"liquidation"}'
act '{"venue":"nado","action":"send","frames":["{\"result\":null,\"id\":1}"]}'
act '{"venue":"nado","action":"trades","count":1,"price":"3521.7","qty":"0.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $ETH AND price = 3521.7)" "a trade after them is stored"
is "$(q "SELECT count(*) FROM perps_stats.klines WHERE market_id = $ETH AND \"interval\" <> '1m'") $(( $(status parse_errors) - pe0 ))" "0 0" \
   "a 2h candle (no interval of ours), a liquidation and a request's answer are no rows and no parse errors"

# ---- malformed frames: counted, skipped; the venue's refusal is not ----
pe0=$(status parse_errors)
act '{"venue":"nado","action":"garbage"}'
act '{"venue":"nado","action":"truncated","frame":"{\"type\":\"trade\",\"timestamp\":\"1796116500123456789\",\"product_id\":4}"}'
act '{"venue":"nado","action":"send","frames":["{\"type\":\"trade\",\"timestamp\":\"1796116501000000000\",\"product_id\":4,\"price\":{\"x\":1},\"taker_qty\":\"1\",\"maker_qty\":\"1\",\"is_taker_buyer\":true}"]}'
act '{"venue":"nado","action":"send","frames":["{\"type\":\"book_depth\",\"min_timestamp\":\"1\",\"max_timestamp\":\"2\",\"last_max_timestamp\":\"1\",\"product_id\":4,\"bids\":[[\"3521390000000000000000\",\"-1\"]],\"asks\":[]}"]}'
act '{"venue":"nado","action":"send","frames":["{\"type\":\"trade\",\"timestamp\":\"1796116501000000000\",\"product_id\":4,\"price\":\"3521.5\",\"taker_qty\":\"1\",\"maker_qty\":\"1\",\"is_taker_buyer\":true}"]}'
act '{"venue":"nado","action":"oversized","bytes":5000000}'
act '{"venue":"nado","action":"trades","count":1,"price":"3521.8","qty":"0.25"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $ETH AND price = 3521.8 AND qty = 0.25)" \
        "a good frame after the bad ones is stored"
is "$(( $(status parse_errors) - pe0 ))" "6" \
   "garbage, truncated, a price that is an object, a negative book size, a price not in x18 and a 5 MB frame: six parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $ETH AND ts = '2026-12-01 09:15:01+00'")" "0" "nothing of the bad trades is stored"
act '{"venue":"nado","action":"error"}'
ok_wait "SELECT last_error = 'the venue refused a request: Invalid product_id: 999' FROM perps_stats.stream_status WHERE exchange = 'nado'" \
        "an error frame is the venue's refusal, in last_error"
is "$(( $(status parse_errors) - pe0 )) $(status state)" "6 streaming" "no parse error for it; the connection survived them all"

# ---- a dropped connection: reconnect, downtime recorded, the book again from REST ----
since=$(q "SELECT now()")
act '{"venue":"nado","action":"drop"}'
act '{"venue":"nado","action":"bbo"}'
ok_wait "SELECT reconnects = 1 FROM perps_stats.stream_status WHERE exchange = 'nado'" "after a drop the worker reconnects (backoff from 1 s)" 20
ok_until "recv | tail -6" "$subs" "the new connection subscribes the same six streams"
act '{"venue":"nado","action":"bbo"}'
ok_wait "SELECT count(*) = 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 12" "one reconnect row"
is "$(q "SELECT d.range_start = r.range_start AND d.range_end IS NULL AND r.range_end IS NOT NULL AND d.ts <= r.ts
         FROM perps_stats.ingest_events d, perps_stats.ingest_events r
         WHERE d.kind = 'disconnect' AND r.kind = 'reconnect' AND d.source = 'stream' AND r.source = 'stream'
           AND d.exchange_id = 12 AND r.exchange_id = 12")" \
   "t" "disconnect and reconnect rows in the venue's time: both from the last message before the drop, the reconnect to the first after it"
act '{"venue":"nado","action":"book_delta"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $ETH AND ts >= '$since' AND bids[1][1] = 3521.39)" \
        "the book is fetched again from REST on the new connection"
is "$(status "gaps || ' ' || resyncs")" "1 2" "a reconnect is no book gap"
act '{"venue":"nado","action":"trades","count":1,"price":"3521.9","qty":"0.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $ETH AND price = 3521.9)" "a trade after the reconnect is stored"
ok_wait "SELECT trade_gaps = 1 AND refetches = 0 FROM perps_stats.stream_status WHERE exchange = 'nado'" \
        "the trades of the time away are unknown: one trade gap, recorded by time, nothing refetched"
is "$(q "SELECT count(*) || ' ' || bool_and(range_start < range_end) || ' ' || bool_and(range_end = (SELECT ts FROM perps_stats.trades WHERE market_id = $ETH AND price = 3521.9))
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND source = 'stream' AND market_id = $ETH AND message LIKE '4 trades between%'")" \
   "1 true true" "its gap row runs from the last trade before the drop to the first after it"

# ---- the trade tape: every trade once; dropped midway, one gap row naming what is missing ----
# trade k of a tape (test/mock/tape.py): time t0 + k * 1000 / R ms, price
# <42000 + k % 997>.<(k * 7919) % 10^8, 8 digits>, qty 0.<k % 999 + 1, 3 digits>, bought when k is even
tape() {  # tape N R: starts a tape of product 4 in 300 ms; prints t0_ms
    local t0=$(( $(date +%s%3N) + 300 ))
    ctl "{\"venue\":\"nado\",\"action\":\"tape\",\"symbol\":\"4\",\"count\":$1,\"rate\":$2,\"t0_ms\":$t0}" >/dev/null
    echo "$t0"
}
tape_done() { curl -sf -X POST -H 'Content-Type: application/json' -d '{"venue":"nado","action":"tape_status","symbol":"4"}' \
    "$PERPS_MOCK_WS_CONTROL/action" | python3 -c 'import json,sys; print(json.load(sys.stdin)["done"])'; }
# the tape's trades (k, time, price, qty, side) and whether each is stored, as SQL
tape_sql() {  # tape_sql N R T0
    echo "(SELECT k, to_timestamp(($3 + k * 1000 / $2) / 1000.0) AS t, ((42000 + k % 997) || '.' || lpad(((k * 7919) % 100000000)::text, 8, '0'))::numeric AS p,
                  ('0.' || lpad((k % 999 + 1)::text, 3, '0'))::numeric AS qty, CASE WHEN k % 2 = 0 THEN 'buy' ELSE 'sell' END AS side,
                  (SELECT count(*) FROM perps_stats.trades x WHERE x.market_id = $ETH AND x.ts = to_timestamp(($3 + k * 1000 / $2) / 1000.0)
                     AND x.price = ((42000 + k % 997) || '.' || lpad(((k * 7919) % 100000000)::text, 8, '0'))::numeric
                     AND x.qty = ('0.' || lpad((k % 999 + 1)::text, 3, '0'))::numeric AND x.side = CASE WHEN k % 2 = 0 THEN 'buy' ELSE 'sell' END) AS n
            FROM generate_series(0, $1 - 1) k) tk"
}
N=$((1500 / SLOW)) R=$((1000 / SLOW))
t0=$(tape $N $R)
ok_until "tape_done" "True" "a) the venue generated its $N trades" 30
ok_wait "SELECT count(*) = $N FROM perps_stats.trades WHERE market_id = $ETH AND price >= 42000 AND ts >= to_timestamp($t0 / 1000.0)" \
        "a) all $N trades are stored"
is "$(q "SELECT count(*) FILTER (WHERE n = 1) || ' ' || count(*) FILTER (WHERE n <> 1) FROM $(tape_sql $N $R $t0)")" "$N 0" \
   "a) each trade of the tape once, with its time, price, size and side exactly as the tape defines them"
is "$(status "trade_gaps || ' ' || refetches")" "1 0" "a) no new trade gap, nothing refetched"

since=$(q "SELECT now()")
N=$((3000 / SLOW))
t0=$(tape $N $R)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $ETH AND price >= 42000 AND ts >= to_timestamp($t0 / 1000.0)" 30
act '{"venue":"nado","action":"drop"}'
ok_until "tape_done" "True" "b) the venue generated its $N trades, while the client was away too" 30
ok_wait "SELECT trade_gaps = 2 FROM perps_stats.stream_status WHERE exchange = 'nado'" \
        "b) dropped midway: the first trade after the reconnect shows a gap, recorded (not refetched)" 30
gaprow="FROM perps_stats.ingest_events WHERE kind = 'gap' AND source = 'stream' AND market_id = $ETH AND ts >= '$since'"
is "$(q "SELECT count(*) || ' ' || min(message) $gaprow")" \
   "1 4 trades between the two times (the venue's) missing: Nado's streamed trades carry no id, and its REST trades (archive /v2/trades) have ids of their own and times in whole seconds, so a refetch could not tell the trades it stored already from the others." \
   "b) one gap row, saying why nothing was refetched"
# every trade of the tape is stored once, or lies in the gap row's time range (from the last
# trade before the drop to the first after it), which holds at least one missing trade; the
# trades after the reconnect reach the table within a flush interval of the gap row, so the
# check is polled (it fails if any trade outside the range is still missing after 10 s)
ok_until "q \"SELECT count(*) FILTER (WHERE n > 1) || ' ' || count(*) FILTER (WHERE n = 0 AND NOT t BETWEEN g.range_start AND g.range_end)
              || ' ' || (count(*) FILTER (WHERE n = 0) > 0) || ' ' || (count(*) FILTER (WHERE n = 1) > $((N / 3)))
         FROM $(tape_sql $N $R $t0), (SELECT range_start, range_end $gaprow) g\"" "0 0 true true" \
   "b) no trade twice; every trade missing lies in the gap row's range; some were missing, the others stored" 10
is "$(q "SELECT (SELECT max(ts) FROM perps_stats.trades WHERE market_id = $ETH AND price >= 42000 AND ts <= g.range_start AND ts >= to_timestamp($t0 / 1000.0)) = g.range_start
              AND (SELECT min(ts) FROM perps_stats.trades WHERE market_id = $ETH AND price >= 42000 AND ts >= g.range_end) = g.range_end
         FROM (SELECT range_start, range_end $gaprow) g")" "t" \
   "b) the range runs from the last trade stored before the drop to the first stored after it"
is "$(status "refetches || ' ' || trades_refetched")" "0 0" "b) nothing refetched by REST"

# ---- leave the stream workers off and the venue as it was ----
qs "UPDATE perps_stats.watchlist SET stream = true;
   DELETE FROM perps_stats.watchlist WHERE exchange = 'nado' AND symbol = 'ETH';
   UPDATE perps_stats.exchanges SET ws_url = '$url0' WHERE name = 'nado';
   ALTER SYSTEM RESET perps_stats.stream_kline_intervals;
   ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.orderbook_store_levels;
   ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"
q "DELETE FROM perps_stats.trades WHERE market_id = $ETH; DELETE FROM perps_stats.orderbooks WHERE market_id = $ETH;
   DELETE FROM perps_stats.liquidity_depth WHERE market_id = $ETH; DELETE FROM perps_stats.slippage WHERE market_id = $ETH;
   DELETE FROM perps_stats.tickers WHERE market_id = $ETH; DELETE FROM perps_stats.funding_rates WHERE market_id = $ETH;
   DELETE FROM perps_stats.klines WHERE market_id = $ETH;
   DELETE FROM perps_stats.ingest_events WHERE exchange_id = 12 AND source = 'stream'" >/dev/null

tap_done
