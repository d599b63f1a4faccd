#!/usr/bin/env bash
# The GRVT stream worker against the WebSocket mock (test/mock/ws_venues/grvt.py)
# serving the project's own frames (test/payloads/websocket/grvt, written from
# GRVT's documentation; no recording exists): the JSON-RPC subscriptions of
# one connection for every market, the BTC book snapshot (sequence number 0)
# and its three chained deltas become exactly the book worked out by hand,
# the trade, ticker (with its funding) and candle feeds exactly their rows; a
# prev_sequence_number that is not the book's last sequence number one gap
# row and one resync (unsubscribe + subscribe), a crossed book a resync; a
# dropped connection a reconnect with its downtime; malformed and oversized
# frames counted and skipped; replayed frames no duplicate rows; and trade
# continuity on the trade tape (test/mock/tape.py), by time (GRVT's trade
# ids are not consecutive): a drop midway refetched through
# full/v1/trade_history, or one gap row when that fails.  Expected values
# are worked out by hand from the frames (the arithmetic in the comments).
# Polls with a timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=grvt
. "$(dirname "$0")/../lib/tap.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 11 AND symbol = 'BTC')"
ETH="(SELECT id FROM perps_stats.markets WHERE exchange_id = 11 AND symbol = 'ETH')"
urls0=$(q "SELECT rest_url || ' ' || ws_url FROM perps_stats.exchanges WHERE name = 'grvt'")
streamed0=$(q "SELECT coalesce(string_agg(quote_literal(exchange || '/' || symbol), ','), '''''') FROM perps_stats.watchlist WHERE stream")
ctl() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$1"; }
# recv JSON: how many of the client messages the mock received equal JSON
recv() { curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c "import json,sys; r=json.load(sys.stdin)['grvt']['received']; print(sum(1 for m in r if json.loads(m) == json.loads(sys.argv[1])))" "$1"; }
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }

qs "UPDATE perps_stats.exchanges SET rest_url = '$PERPS_MOCK_URL/grvt', ws_url = '$PERPS_MOCK_WS_URL/grvt/ws/full' WHERE name = 'grvt';
   INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('grvt', 'BTC', false, true), ('grvt', 'ETH', false, true)
       ON CONFLICT (exchange, symbol) DO UPDATE SET stream = true;
   UPDATE perps_stats.watchlist SET stream = (exchange = 'grvt' AND symbol IN ('BTC', 'ETH'));
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null

# ---- start: one connection, one JSON-RPC subscribe per stream listing both instruments ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'grvt' AND state = 'streaming'" \
        "the launcher starts the grvt stream worker and it streams from the mock" 30
is "$(q "SELECT string_agg(symbol || ' ' || native_symbol || ' ' || quote, ', ' ORDER BY symbol) FROM perps_stats.markets WHERE exchange_id = 11 AND symbol IN ('BTC', 'ETH')")" \
   "BTC BTC_USDT_Perp USDT, ETH ETH_USDT_Perp USDT" "market rows: BTC -> BTC_USDT_Perp, ETH -> ETH_USDT_Perp, quoted in USDT"
ok_until "echo \$(recv '{\"jsonrpc\":\"2.0\",\"method\":\"subscribe\",\"params\":{\"stream\":\"v1.book.d\",\"selectors\":[\"BTC_USDT_Perp@100\",\"ETH_USDT_Perp@100\"]},\"id\":1}') \$(recv '{\"jsonrpc\":\"2.0\",\"method\":\"subscribe\",\"params\":{\"stream\":\"v1.trade\",\"selectors\":[\"BTC_USDT_Perp@50\",\"ETH_USDT_Perp@50\"]},\"id\":2}') \$(recv '{\"jsonrpc\":\"2.0\",\"method\":\"subscribe\",\"params\":{\"stream\":\"v1.ticker.s\",\"selectors\":[\"BTC_USDT_Perp@500\",\"ETH_USDT_Perp@500\"]},\"id\":3}') \$(recv '{\"jsonrpc\":\"2.0\",\"method\":\"subscribe\",\"params\":{\"stream\":\"v1.candle\",\"selectors\":[\"BTC_USDT_Perp@CI_1_M-TRADE\",\"ETH_USDT_Perp@CI_1_M-TRADE\"]},\"id\":4}')" \
   "1 1 1 1" "one subscribe a stream, both instruments in it: v1.book.d @100 ms, v1.trade @50, v1.ticker.s @500 ms, v1.candle CI_1_M-TRADE (the default 1m)"
is "$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c "import json,sys; print(json.load(sys.stdin)['grvt']['connections'])")" "1" \
   "one connection serves every market"

# ---- the book: snapshot (sequence number 0), then three chained deltas ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 0)" \
        "the snapshot (sequence number 0) is stored"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || $(ms ts) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 0")" \
   "5 5 98950.5x1.250 98951.0x0.800 1796650000100" "snapshot: 5 bids, 5 asks, best bid and ask, event_time 1796650000100000000 ns in ms"
act '{"venue":"grvt","action":"replay"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 4003)" \
        "the book after the three deltas (sequence number 4003) is stored"
# by hand, bids: d1 deletes 98950.5 (size "0") and adds 98950.2 x 0.600; d3 deletes 98945.0 and
# sets 98949.5 to 2.500 -> 98950.2 x 0.600, 98950.0 x 0.400, 98949.5 x 2.500, 98948.0 x 0.750.
# asks: d1 sets 98951.0 to 0.500; d2 deletes it and adds 98950.8 x 0.900; d3 deletes 98960.0
# -> 98950.8 x 0.900, 98951.5 x 1.100, 98952.0 x 3.000, 98955.0 x 0.250
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 4003"
is "$(q "SELECT (bids = '{{98950.2,0.600},{98950.0,0.400},{98949.5,2.500},{98948.0,0.750}}'::numeric[]) || ' '
              || (asks = '{{98950.8,0.900},{98951.5,1.100},{98952.0,3.000},{98955.0,0.250}}'::numeric[]) || ' ' || $(ms ts) $book")" \
   "true true 1796650000400" "every level as worked out; the last delta's event_time"
# depth, by hand: mid = (98950.2 + 98950.8) / 2 = 98950.5; 1 bps reaches down to 98940.60495 and
# up to 98960.39505: the whole book.  bids 98950.2 x 0.6 + 98950.0 x 0.4 + 98949.5 x 2.5 + 98948.0 x 0.75
# = 59370.12 + 39580 + 247373.75 + 74211 = 420534.87; asks 98950.8 x 0.9 + 98951.5 x 1.1 + 98952.0 x 3
# + 98955.0 x 0.25 = 89055.72 + 108846.65 + 296856 + 24738.75 = 519497.12.  max_bid_bps = 2.5 / 98950.5
# x 1e4 = 0.252651578...; max_ask_bps = 4.5 / 98950.5 x 1e4 = 0.454772840...
liq="FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1796650000.4)"
is "$(q "SELECT count(*) || ' ' || min(mid_price) || ' ' || bool_and(bid_1bps = 420534.87 AND bid_100bps = 420534.87 AND ask_1bps = 519497.12 AND ask_100bps = 519497.12)
              || ' ' || round(min(max_bid_bps), 9) || ' ' || round(min(max_ask_bps), 9) $liq")" \
   "1 98950.5 true 0.252651578 0.454772841" "the depth row: mid, the whole book within 1 bps of it, how far each side reaches"
# 1000 quote either way fits in the best level: buy at 98950.8, (98950.8 - 98950.5) / 98950.5 x 1e4
# = 0.030318189...; sell at 98950.2, the same distance below mid
is "$(q "SELECT string_agg(side || ' ' || avg_price::float8 || ' ' || round(slippage_bps, 9), ', ' ORDER BY side) FROM perps_stats.slippage WHERE market_id = $BTC AND ts = to_timestamp(1796650000.4) AND amount = 1000")" \
   "buy 98950.8 0.030318189, sell 98950.2 0.030318189" "1000 quote: bought at the best ask, sold at the best bid"

# ---- trades ----
act '{"venue":"grvt","action":"trade_replay"}'
tr="FROM perps_stats.trades WHERE market_id = $BTC AND trade_id IN ('73808524-19', '73808531-1')"
ok_wait "SELECT count(*) = 2 $tr" "the two trade feeds are stored"
is "$(q "SELECT string_agg(trade_id || ' ' || $(ms ts) || ' ' || price || ' ' || qty || ' ' || side, ', ' ORDER BY ts) $tr")" \
   "73808524-19 1796650001500 98951.5 0.015 buy, 73808531-1 1796650001600 98950.0 0.250 sell" \
   "trades: the id as text, event_time ns in ms, price, size; is_taker_buyer true -> buy, false -> sell"

# ---- the ticker (v1.ticker.s, sent on subscription) and its funding ----
tick="concat_ws(' ', $(for c in last_price mark_price index_price best_bid_price best_bid_qty best_ask_price best_ask_qty volume_24h turnover_24h open_interest open_interest_notional price_change_24h price_change_pct high_24h low_24h; do printf "coalesce(%s::text, 'NULL'), " $c; done | sed 's/, $//'))"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796650002))" \
        "the ticker feed is a ticker row at its event_time"
# by hand: volume 3115.631 + 3195.236 = 6310.867; turnover 275739265.1558 + 282773286.2658 = 558512551.4216;
# change 98951.5 - 98667.1 = 284.4 (no percentage: it would need a division, as for the REST ticker);
# OI notional 1914.093886738 x 98950.612345678 = 189400762.179843930235818364 (checked with Python's Decimal)
is "$(q "SELECT $tick FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796650002)")" \
   "98951.5 98950.612345678 98955.1 98950.2 0.600 98950.8 0.900 6310.867 558512551.4216 1914.093886738 189400762.179843930235818364 284.4 NULL 99187.2 97404.1" \
   "ticker: last, mark, index, best bid and ask with their sizes, taker volumes summed, OI and its notional at mark, change, high, low"
# funding_rate 0.0125 (percent) = 0.000125 for the funding at next_funding_time 1796659200000000000 ns, every 8 h
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC)" "a funding_rates row from the ticker"
is "$(q "SELECT $(ms funding_time) || ' ' || rate || ' ' || interval_hours FROM perps_stats.funding_rates WHERE market_id = $BTC")" \
   "1796659200000 0.000125 8" "funding: the percent rate as a fraction, at the next funding time, the interval the feed gives"

# ---- klines: the open candle, then the same candle closed, then the next one ----
kl() { q "SELECT coalesce(string_agg($(ms open_time) || ' ' || $(ms close_time) || ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || turnover || ' ' || trade_count, ', ' ORDER BY open_time), 'none')
          FROM perps_stats.klines WHERE market_id = $BTC AND interval = '1m'"; }
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.klines WHERE market_id = $BTC AND interval = '1m' AND open_time = to_timestamp(1796649960))" \
        "the candle sent on subscription is a klines row"
is "$(kl)" "1796649960000 1796650020000 98940.0 98955.5 98938.5 98950.0 1.250 123680.125 14" \
   "1m candle so far: open and close time (ns in ms), OHLC, volume_b, volume_q, trades"
act '{"venue":"grvt","action":"candle","which":"closed"}'
ok_until "kl" "1796649960000 1796650020000 98940.0 98960.0 98938.5 98951.5 1.515 149901.33 17" \
   "a later feed of the same candle replaces its row"
act '{"venue":"grvt","action":"candle","which":"next"}'
ok_until "kl" "1796649960000 1796650020000 98940.0 98960.0 98938.5 98951.5 1.515 149901.33 17, 1796650020000 1796650080000 98951.5 98951.5 98951.5 98951.5 0.0 0.0 0" \
   "the next minute's candle is a row of its own; the closed one stays"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" "no gap, resync, parse error or reconnect so far"

# ---- replays: no duplicate rows ----
act '{"venue":"grvt","action":"trade_replay"}'
act '{"venue":"grvt","action":"ticker"}'
act '{"venue":"grvt","action":"ticker","event_time":"1796650003000000000","fields":{"last_price":"98952.0"}}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796650003) AND last_price = 98952.0)" \
        "a later ticker feed is a row of its own"
is "$(q "SELECT count(*) $tr") $(q "SELECT count(*) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796650002)")" "2 1" \
   "the same trades and the same ticker sent again: no duplicate rows"

# ---- a gap in the chain: one gap row, one resync by unsubscribe + subscribe ----
# the delta comes 100 sequence numbers on: the mock's chain was at 4003, so it is 4104 with
# prev_sequence_number 4103; lost: 4004 .. 4103.  The mock times it 1 ms after the book's last
# (1796650000400) and the fresh snapshot 1 ms later still (1796650000402)
act '{"venue":"grvt","action":"book_update","instrument":"BTC_USDT_Perp","skip":100}'
ok_wait "SELECT gaps = 1 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'grvt'" \
        "a prev_sequence_number that is not the book's last sequence number: one gap, one resync"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 0 AND ts = to_timestamp(1796650000.402))" \
        "the fresh snapshot after the resubscription rebuilds the book"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 0 AND ts = to_timestamp(1796650000.402)")" \
   "5 5 98950.5x1.250 98951.0x0.800" "rebuilt from the snapshot's levels, nothing of the deltas left"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'gap' AND source = 'stream' AND exchange_id = 11)" "a gap row is written"
is "$(q "SELECT count(*) || ' ' || min(message) || ' ' || min($(ms range_start)) || ' ' || min($(ms range_end)) || ' ' || min(first_missing_id) || ' ' || min(last_missing_id)
         FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $BTC AND source = 'stream'")" \
   "1 BTC_USDT_Perp book: update ids 4004..4103 lost; resynced at update id 0 1796650000400 1796650000402 4004 4103" \
   "exactly one gap row: the lost sequence numbers, from the last good delta to the new snapshot in the venue's time"
is "$(recv '{"jsonrpc":"2.0","method":"unsubscribe","params":{"stream":"v1.book.d","selectors":["BTC_USDT_Perp@100"]},"id":5}') $(recv '{"jsonrpc":"2.0","method":"subscribe","params":{"stream":"v1.book.d","selectors":["BTC_USDT_Perp@100"]},"id":6}')" \
   "1 1" "the resync unsubscribed and subscribed BTC_USDT_Perp@100 on v1.book.d, once"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 4104")" "0" "the delta after the break was not applied"
# the first delta after a snapshot applies (the snapshot has no place in the chain); the next must follow it
act '{"venue":"grvt","action":"book_update","instrument":"BTC_USDT_Perp","bids":[["98950.7","0.300"]]}'
act '{"venue":"grvt","action":"book_update","instrument":"BTC_USDT_Perp","bids":[["98950.6","0.200"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 4106 AND bids[1][1] = 98950.7 AND bids[2][1] = 98950.6 AND array_length(bids, 1) = 7)" \
        "two deltas after the new snapshot (4105, then 4106 following it) apply: bids 98950.7 x 0.300 and 98950.6 x 0.200 on top"
is "$(status "gaps || ' ' || resyncs")" "1 1" "still one gap and one resync"

# ---- a crossed book: a resync, recorded ----
act '{"venue":"grvt","action":"book_update","instrument":"BTC_USDT_Perp","bids":[["98999.0","1.000"]]}'
ok_wait "SELECT resyncs = 2 AND gaps = 1 FROM perps_stats.stream_status WHERE exchange = 'grvt'" \
        "a bid at 98999.0 over the best ask 98951.0 crosses the book: a resync, no gap"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'resync' AND market_id = $BTC AND source = 'stream' AND message LIKE 'BTC_USDT_Perp book crossed at update id 4107;%')" \
        "a resync row names the update that crossed the book (4107)"

# ---- malformed frames: counted, skipped; the venue's refusals are not ----
pe0=$(status parse_errors)
act '{"venue":"grvt","action":"garbage"}'
act '{"venue":"grvt","action":"truncated","frame":"{\"stream\":\"v1.trade\",\"selector\":\"BTC_USDT_Perp@50\",\"sequence_number\":\"1\",\"feed\":{}}"}'
act '{"venue":"grvt","action":"send","frames":["{\"stream\":\"v1.trade\",\"selector\":\"BTC_USDT_Perp@50\",\"sequence_number\":\"9\",\"feed\":{\"event_time\":\"1796650005000000000\",\"instrument\":\"BTC_USDT_Perp\",\"is_taker_buyer\":true,\"size\":{\"x\":1},\"price\":\"98950.0\",\"trade_id\":\"1-1\"}}"]}'
act '{"venue":"grvt","action":"oversized","bytes":9000000}'
act '{"venue":"grvt","action":"trades","count":1,"price":"98900.5","qty":"0.125"}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.trades WHERE market_id IN ($BTC, $ETH) AND price = 98900.5 AND qty = 0.125" \
        "a good frame after the bad ones is stored (one for each instrument)"
is "$(( $(status parse_errors) - pe0 ))" "4" "garbage, truncated, wrong-typed and oversized frames: four parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '1-1'")" "0" "nothing of the wrong-typed frame is stored"
act '{"venue":"grvt","action":"error"}'
ok_wait "SELECT last_error = 'the venue refused a request: grvt error 3000: Instrument is invalid' FROM perps_stats.stream_status WHERE exchange = 'grvt'" \
        "a JSON-RPC error is the venue's refusal, in last_error"
is "$(( $(status parse_errors) - pe0 ))" "4" "an error answer is a control frame, no parse error"
is "$(status state)" "streaming" "the connection survived them"

# ---- a dropped connection: reconnect, downtime recorded, stream continues ----
act '{"venue":"grvt","action":"drop"}'
ok_wait "SELECT reconnects = 1 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'grvt'" \
        "after a drop the worker reconnects (backoff from 1 s)" 20
ok_wait "SELECT count(*) = 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 11" \
        "one reconnect row"
is "$(q "SELECT d.range_start = r.range_start AND d.range_end IS NULL AND r.range_end IS NOT NULL AND d.ts <= r.ts
         FROM perps_stats.ingest_events d, perps_stats.ingest_events r
         WHERE d.kind = 'disconnect' AND r.kind = 'reconnect' AND d.source = 'stream' AND r.source = 'stream'
           AND d.exchange_id = 11 AND r.exchange_id = 11")" \
   "t" "disconnect and reconnect rows in the venue's time: both from the last message before the drop, the reconnect to the first after it"
is "$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c "import json,sys; print(json.load(sys.stdin)['grvt']['connections'])")" "2" \
   "one new connection"
act '{"venue":"grvt","action":"trades","count":40,"per_frame":2,"rate":100,"price":"98901.5"}'
ok_wait "SELECT count(*) = 40 FROM perps_stats.trades WHERE market_id = $BTC AND price = 98901.5" "40 trades sent at 100/s after the reconnect are all stored"
is "$(status "gaps || ' ' || resyncs")" "1 2" "a reconnect is no gap"

# ---- trade continuity on the tape: by time, refetched through full/v1/trade_history ----
# tape TAPE COUNT RATE: the same tape for the stream and for REST, starting in 300 ms
tape() {
    local t0=$(( $(date +%s%3N) + 300 ))
    local p="{\"venue\":\"grvt\",\"symbol\":\"BTC_USDT_Perp\",\"count\":$1,\"rate\":$2,\"t0_ms\":$t0}"
    ctl "$PERPS_MOCK_URL/_mock/tape" "$p" >/dev/null || echo "# REST tape refused: $p" >&2
    ctl "$PERPS_MOCK_WS_CONTROL/action" "${p%\}},\"action\":\"tape\"}" >/dev/null || echo "# stream tape refused: $p" >&2
    echo "$t0"
}
tape_done() {
    ctl "$PERPS_MOCK_WS_CONTROL/action" '{"venue":"grvt","action":"tape_status","symbol":"BTC_USDT_Perp"}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["done"])'
}
# trade k of a grvt tape, as test/mock/tape.py defines it: id "<80000000 + 3k>-<k % 3 + 1>", time
# t0 + k x 1000 / rate ms, price 42000 + k mod 997 with 9 decimals (k x 7919) mod 10^9, qty 0.<k mod 999 + 1>
gv_trade() {  # gv_trade K T0 RATE -> "id time_ms price qty side"
    python3 -c '
import sys
k, t0, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print("%d-%d" % (80000000 + 3 * k, k % 3 + 1), t0 + k * 1000 // rate, "%d.%09d" % (42000 + k % 997, (k * 7919) % 10**9),
      "0.%03d" % (k % 999 + 1), "buy" if k % 2 == 0 else "sell")' "$1" "$2" "$3"
}
stored() { q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($1 / 1000.0) AND trade_id LIKE '8%-%'"; }
N=3000 R=1000

# b) the connection dropped midway: every trade once, the missed ones through full/v1/trade_history by time
rf0=$(status refetches)
t0=$(tape $N $R)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($t0 / 1000.0) AND trade_id LIKE '8%-%'" 20
act '{"venue":"grvt","action":"drop"}'
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($t0 / 1000.0) AND trade_id LIKE '8%-%'" \
        "tape b) with the connection dropped midway, all $N trades are stored" 30
is "$(stored "$t0")" "$N $N" "tape b) each once"
is "$(q "SELECT refetches > $rf0 AND trades_refetched > 0 AND trade_gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'grvt'")" "t" \
   "tape b) the missed ones refetched by time through full/v1/trade_history, no gap"
for k in 123 1234; do
    read -r kid kt kp kq ks <<<"$(gv_trade $k "$t0" $R)"
    is "$(q "SELECT $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '$kid'")" \
       "$kt $kp $kq $ks" "tape b) trade k = $k (id $kid), streamed or refetched: its time, 9-decimal price, size and side as the tape defines them"
done

# c) the refetch failing: one gap row, by time, from the last trade stored before the drop to the first after it
# (a longer, slower tape: trades must still come after the reconnect, or the gap is never seen)
N=3000 R=500
since=$(q "SELECT now()")
ctl "$PERPS_MOCK_URL/_mock/faults" '{"venue":"grvt","path":"/full/v1/trade_history","kind":"status","status":503,"count":-1}' >/dev/null
t0=$(tape $N $R)
wait_for "SELECT count(*) >= $((N / 5)) FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($t0 / 1000.0) AND trade_id LIKE '8%-%'" 20
act '{"venue":"grvt","action":"drop"}'
ok_wait "SELECT trade_gaps = 1 FROM perps_stats.stream_status WHERE exchange = 'grvt'" \
        "tape c) with full/v1/trade_history answering 503, the refetch gives up and records a gap" 30
ok_until "tape_done" "True" "tape c) the venue finished its tape" 20
read -r before after <<<"$(q "WITH s AS (SELECT DISTINCT $(ms ts) AS t FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($t0 / 1000.0) AND trade_id LIKE '8%-%'),
                              g AS (SELECT t, lead(t) OVER (ORDER BY t) AS nxt FROM s)
                         SELECT t || ' ' || nxt FROM g WHERE nxt - t > 2 * 1000 / $R ORDER BY nxt - t DESC LIMIT 1")"
is "$(q "SELECT count(*) || ' ' || min($(ms range_start)) || ' ' || min($(ms range_end)) || ' ' || bool_and(first_missing_id IS NULL) FROM perps_stats.ingest_events
         WHERE source = 'stream' AND kind = 'gap' AND exchange_id = 11 AND market_id = $BTC AND ts >= '$since'")" \
   "1 $before $after true" "tape c) one gap row by time: from the last trade stored before the drop to the first after it (no ids)"
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/tape" >/dev/null

# ---- keepalive: the worker's WebSocket ping (GRVT documents no application-level ping) ----
is "$(q "SELECT count(*) FROM perps_stats.ingest_events WHERE source = 'stream' AND exchange_id = 11 AND kind = 'disconnect' AND message LIKE '%silent%'")" "0" \
   "no connection was restarted for silence"

# ---- leave the stream workers off and the rest as it was ----
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf();
   UPDATE perps_stats.watchlist SET stream = (exchange || '/' || symbol IN ($streamed0));
   DELETE FROM perps_stats.watchlist WHERE exchange = 'grvt' AND symbol IN ('BTC', 'ETH') AND NOT poll;
   UPDATE perps_stats.exchanges SET rest_url = split_part('$urls0', ' ', 1), ws_url = split_part('$urls0', ' ', 2) WHERE name = 'grvt';" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"
q "DELETE FROM perps_stats.trades WHERE market_id IN ($BTC, $ETH); DELETE FROM perps_stats.orderbooks WHERE market_id IN ($BTC, $ETH);
   DELETE FROM perps_stats.liquidity_depth WHERE market_id IN ($BTC, $ETH); DELETE FROM perps_stats.slippage WHERE market_id IN ($BTC, $ETH);
   DELETE FROM perps_stats.tickers WHERE market_id IN ($BTC, $ETH); DELETE FROM perps_stats.funding_rates WHERE market_id IN ($BTC, $ETH);
   DELETE FROM perps_stats.klines WHERE market_id IN ($BTC, $ETH) AND open_time >= to_timestamp(1796649960);
   DELETE FROM perps_stats.ingest_events WHERE exchange_id = 11 AND source = 'stream'" >/dev/null

tap_done
