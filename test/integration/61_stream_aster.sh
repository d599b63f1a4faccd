#!/usr/bin/env bash
# The Aster stream worker (venue 7) against the WebSocket mock
# (test/mock/ws_venues/aster.py: Binance's market streams on Aster's one
# combined endpoint, /stream) and the REST mock (test/mock/venues/aster.py,
# the depth snapshots the book is synced from and the aggTrades the trade
# refetch reads): the subscribe message; trades, tickers (bookTicker's sizes
# too), funding and klines from the frames; the book's pu/U/u rule; a crossed
# book and a skipped update id each resynced from REST with their
# ingest_events row; malformed and oversized frames counted and skipped; a
# replay stored once; a drop recorded and reconnected; trade continuity with
# the tape (a drop midway: every trade once through the refetch by id; with
# aggTrades failing, one gap row naming the missing ids).
# Expected values are worked out by hand from the project's own payloads,
# written from Aster's documentation (test/payloads/aster and
# test/payloads/websocket/aster; no recorded frames exist).  Polls with a
# timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=aster
. "$(dirname "$0")/../lib/tap.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 7 AND symbol = 'BTC')"
ETH="(SELECT id FROM perps_stats.markets WHERE exchange_id = 7 AND symbol = 'ETH')"
# the REST snapshot of BTCUSDT (aster/fetchOrderBook.swap.json): lastUpdateId L, T
L=2211874305519
T0=1796116496795
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }
rest_depths() {
    curl -sf "$PERPS_MOCK_URL/_mock/log?venue=aster" | python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["path"] == "/fapi/v1/depth" and r["query"].get("symbol") == sys.argv[1]
          and r["query"].get("limit") == "1000"))' "$1"
}
# depth U u pu T BIDS ASKS: one raw diff depth frame of BTCUSDT
depth() {
    act "{\"venue\":\"aster\",\"action\":\"send\",\"frames\":[\"{\\\"stream\\\":\\\"btcusdt@depth@100ms\\\",\\\"data\\\":{\\\"e\\\":\\\"depthUpdate\\\",\\\"E\\\":$(($4 + 4)),\\\"T\\\":$4,\\\"s\\\":\\\"BTCUSDT\\\",\\\"U\\\":$1,\\\"u\\\":$2,\\\"pu\\\":$3,\\\"b\\\":$5,\\\"a\\\":$6}}\"]}"
}
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq"
# depth_until U u pu T BIDS ASKS DESCRIPTION: sends the frame until the book of id u is stored (a
# REST resync of a market waits a second after the previous one: earlier frames are dropped)
depth_until() {
    local deadline=$((SECONDS + 20 * SLOW))
    n=$((n + 1))
    while [ $SECONDS -lt $deadline ]; do
        depth "$1" "$2" "$3" "$4" "$5" "$6"
        wait_for "SELECT EXISTS (SELECT 1 $book = $2)" 1 && { echo "ok $n - $7"; return 0; }
    done
    failed=$((failed + 1)); echo "not ok $n - $7"
}
ctl() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$1"; }

urls0=$(q "SELECT rest_url || ' ' || ws_url FROM perps_stats.exchanges WHERE name = 'aster'")
streamed0=$(q "SELECT coalesce(string_agg(quote_literal(exchange || '/' || symbol), ','), '''''') FROM perps_stats.watchlist WHERE stream")

is "$(q "SELECT ws_url FROM perps_stats.exchanges WHERE name = 'aster'")" "wss://fstream.asterdex.com" \
   "the seeded ws_url is Aster's documented base (the worker adds /stream)"
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/aster', rest_url = '$PERPS_MOCK_URL/aster' WHERE name = 'aster';
   SELECT perps_stats.refresh_markets('aster');
   INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('aster', 'BTC', false, true), ('aster', 'ETH', false, true)
     ON CONFLICT DO NOTHING;
   UPDATE perps_stats.watchlist SET stream = (exchange = 'aster' AND symbol IN ('BTC', 'ETH'));
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.orderbook_store_levels = 1000;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/log" >/dev/null

# ---- start, subscribe, the first sync from REST ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'aster' AND state = 'streaming'" \
        "the launcher starts the aster stream worker and it streams from the mock" 30
sub=$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c '
import json, sys
r = [json.loads(m) for m in json.load(sys.stdin)["aster"]["received"]]
print(" ".join(m["method"] + ":" + str(m["id"]) + ":" + ",".join(m["params"]) for m in r))')
is "$sub" "SUBSCRIBE:1:btcusdt@depth@100ms,btcusdt@aggTrade,btcusdt@markPrice@1s,btcusdt@ticker,btcusdt@bookTicker,btcusdt@kline_1m,ethusdt@depth@100ms,ethusdt@aggTrade,ethusdt@markPrice@1s,ethusdt@ticker,ethusdt@bookTicker,ethusdt@kline_1m" \
   "one SUBSCRIBE on one connection: per market the diff depth, aggregate trades, mark price, 24 h ticker, book ticker and 1m klines (12 of the 200 streams allowed)"
is "$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["aster"]["sessions"])')" "1" "one session open at the mock, on /aster/stream"

ok_wait "SELECT EXISTS (SELECT 1 $book = $L)" "BTCUSDT: the REST snapshot (lastUpdateId $L) is the book"
# depthUpdate.json (U L-40, u L-12) is older than the snapshot: dropped, else the best bid
# would be 97244.7 x 555.555 and the best ask 97244.8 gone
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2] || ' ' || $(ms ts) $book = $L")" \
   "6 6 97244.7x2.318 97244.8x0.442 $T0" "REST book: 6 levels a side, best bid and ask, the snapshot's T; the stale first event not applied"
# mid = (97244.7 + 97244.8) / 2 = 97244.75; 1 bps: bids >= 97244.75 x 0.9999 = 97235.025525:
# 97244.7 x 2.318 = 225413.2146, 97244.1 x 0.030 = 2917.3230, 97243.0 x 1.105 = 107453.5150,
# 97240.5 x 0.482 = 46869.9210, 97236.9 x 3.760 = 365610.7440: sum 748264.7176 (97230.0 is out);
# asks <= 97244.75 x 1.0001 = 97254.474475: 97244.8 x 0.442 = 42982.2016, 97245.5 x 0.917 =
# 89174.1235, 97247.2 x 2.004 = 194883.3888, 97250.0 x 0.115 = 11183.7500: sum 338223.4639
is "$(q "SELECT count(*) || ' ' || min(mid_price) || ' ' || min(bid_1bps) || ' ' || min(ask_1bps) FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp($T0 / 1000.0)")" \
   "1 97244.75 748264.7176 338223.4639" "its liquidity_depth row: mid and the notional within 1 bps a side"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $ETH AND seq = 2211874301207)" \
        "ETHUSDT: its own REST snapshot (lastUpdateId 2211874301207)"
is "$(q "SELECT bids::text || ' ' || asks::text || ' ' || $(ms ts) FROM perps_stats.orderbooks WHERE market_id = $ETH AND seq = 2211874301207")" \
   "{{3588.41,12.604},{3588.20,3.310},{3587.95,40.000},{3587.10,7.225}} {{3588.42,5.018},{3588.77,18.400},{3589.30,2.950},{3590.00,61.112}} 1796116496121" \
   "ETHUSDT book: the four levels a side of aster/fetchOrderBook.ethusdt.json, its T"
is "$(rest_depths BTCUSDT) $(rest_depths ETHUSDT)" "1 1" "one REST depth request (limit 1000) per market"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors")" "0 0 0" "the first sync is neither a gap nor a resync"

# ---- diff depth events over the snapshot ----
# the mock's first event: U = L-3 <= L <= u = L+3, T = T0+1
act '{"venue":"aster","action":"book_delta","symbol":"BTCUSDT","bids":[["97244.7","0"],["97244.3","0.700"]],"asks":[["97244.8","0"],["97245.0","1.250"]]}'
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 3)))" "the event spanning the snapshot (U $((L - 3)), u $((L + 3))) is applied"
is "$(q "SELECT bids::text || ' ' || asks::text || ' ' || $(ms ts) $book = $((L + 3))")" \
   "{{97244.3,0.700},{97244.1,0.030},{97243.0,1.105},{97240.5,0.482},{97236.9,3.760},{97230.0,10.000}} {{97245.0,1.250},{97245.5,0.917},{97247.2,2.004},{97250.0,0.115},{97255.3,6.380},{97262.9,1.221}} $((T0 + 1))" \
   "bid 97244.7 and ask 97244.8 deleted, 97244.3 and 97245.0 the new best levels; the event's T"
# an event older than the book (u = L+2 < L+3, pu = L): stale, no gap
depth $((L + 1)) $((L + 2)) $L $((T0 + 2)) '[[\"97244.6\",\"9.000\"]]' '[]'

# ---- trades, mark price / funding, 24 h ticker, book ticker, klines ----
act '{"venue":"aster","action":"replay"}'
# aggTrade.json: a 184467301, T 1796116497114, p 97244.8, q 0.135, m false (the buyer took)
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '184467301')" "the aggregate trade is stored"
is "$(q "SELECT count(*) || ' ' || min($(ms ts)) || ' ' || min(price) || ' ' || min(qty) || ' ' || min(side) FROM perps_stats.trades WHERE market_id = $BTC")" \
   "1 1796116497114 97244.8 0.135 buy" "trade: a as id, T, p, q as sent; m false -> the taker bought"
ok_wait "SELECT count(*) = 1 FROM perps_stats.trades WHERE market_id = $ETH AND trade_id = '184467301'" "ETHUSDT's subscription got the same frame (s rewritten by the mock): a row of its own"
tick="coalesce(last_price::text, '-'), coalesce(mark_price::text, '-'), coalesce(index_price::text, '-'), coalesce(best_bid_price::text, '-'), coalesce(best_bid_qty::text, '-'), coalesce(best_ask_price::text, '-'), coalesce(best_ask_qty::text, '-'), coalesce(volume_24h::text, '-'), coalesce(turnover_24h::text, '-'), coalesce(open_interest::text, '-'), coalesce(price_change_24h::text, '-'), coalesce(price_change_pct::text, '-'), coalesce(high_24h::text, '-'), coalesce(low_24h::text, '-')"
ok_wait "SELECT count(*) = 3 FROM perps_stats.tickers WHERE market_id = $BTC" "three ticker rows: mark price, 24 h ticker, book ticker"
# markPriceUpdate.json: E 1796116498000, p 97251.32815000, i 97249.88000000
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116498)")" \
   "- 97251.32815000 97249.88000000 - - - - - - - - - - -" "mark price row: mark and index price only"
# 24hrTicker.json: E 1796116498512, c 97244.8, p -812.4 (= 97244.8 - o 98057.2), P -0.828 (%)
# -> -0.828 / 100 = -0.00828, h 98410.0, l 96902.5, v 48213.772, q 4707110551.93
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116498.512)")" \
   "97244.8 97251.32815000 97249.88000000 - - - - 48213.772 4707110551.93 - -812.4 -0.00828 98410.0 96902.5" \
   "24 h ticker row: last, volumes, change, -0.828 % as the fraction -0.00828, high, low; mark and index merged"
# bookTicker.json: T 1796116498725 (the transaction time), b 97244.7 x B 1.904, a 97244.8 x A 0.613
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116498.725)")" \
   "97244.8 97251.32815000 97249.88000000 97244.7 1.904 97244.8 0.613 48213.772 4707110551.93 - -812.4 -0.00828 98410.0 96902.5" \
   "book ticker row at its T: best bid and ask with their sizes, the rest merged"
# r 0.00010000 for the settlement at T 1796140800000 (2026-12-01 16:00 UTC); the interval is the
# market's (fundingInfo: 8 h), the stream does not say it
ok_wait "SELECT count(*) = 2 FROM perps_stats.funding_rates WHERE market_id IN ($BTC, $ETH)" "a funding row per market from the mark price stream"
is "$(q "SELECT $(ms funding_time) || ' ' || rate || ' ' || coalesce(predicted_rate::text, 'NULL') || ' ' || interval_hours FROM perps_stats.funding_rates WHERE market_id = $BTC")" \
   "1796140800000 0.00010000 NULL 8" "funding row: r at T, the market's 8 h interval"
# kline.open.json then kline.closed.json: the 1m candle opened at t 1796116440000 (09:14 UTC),
# T 1796116499999; closed: o 97238.1 h 97249.9 l 97231.4 c 97247.3 v 31.077 q 3021778.90125 n 207
kl="FROM perps_stats.klines WHERE market_id = $BTC AND \"interval\" = '1m' AND open_time = to_timestamp(1796116440)"
ok_wait "SELECT EXISTS (SELECT 1 $kl AND close = 97247.3)" "the 1m kline stream: the closed candle is stored"
is "$(q "SELECT count(*) || ' ' || string_agg($(ms close_time) || ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || turnover || ' ' || trade_count, '') $kl")" \
   "1 1796116499999 97238.1 97249.9 97231.4 97247.3 31.077 3021778.90125 207" \
   "one row for the candle: the closed one replaced the going one (c 97244.8, v 18.402, n 122)"

# ---- replayed frames are stored once ----
# the replay is 12 frames (aggTrade, markPrice, ticker, bookTicker and the two klines, a market)
m0=$(status messages)
act '{"venue":"aster","action":"replay"}'
ok_wait "SELECT messages - $m0 >= 12 AND buffered_rows = 0 FROM perps_stats.stream_status WHERE exchange = 'aster'" \
        "the replay's 12 frames are taken and written"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $BTC") $(q "SELECT count(*) FROM perps_stats.klines WHERE market_id = $BTC") $(q "SELECT count(*) FROM perps_stats.funding_rates WHERE market_id = $BTC") $(q "SELECT count(*) FROM perps_stats.tickers WHERE market_id = $BTC")" \
   "1 1 1 3" "replay idempotent: still one trade, one kline, one funding row and three ticker rows"

# ---- a crossed book: a resync from REST, recorded ----
# U L+4, u L+6, pu L+3 continues the book, but its bid 97245.2 is above the best ask 97245.0
depth $((L + 4)) $((L + 6)) $((L + 3)) $((T0 + 3)) '[[\"97245.2\",\"0.100\"]]' '[]'
ok_wait "SELECT resyncs = 1 AND gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'aster'" "a crossed book is one resync and no gap"
# the next event continues the fresh snapshot (pu = L) and deletes the ask 97262.9
depth_until $((L + 10)) $((L + 12)) $L $((T0 + 5)) '[]' '[[\"97262.9\",\"0\"]]' \
            "the book is rebuilt from REST and the event after it applies"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || ' ' || asks[1][1] || ' ' || asks[5][1] $book = $((L + 12))")" \
   "6 5 97244.7 97244.8 97255.3" "the REST snapshot again (the earlier deltas gone) without the ask 97262.9"
is "$(q "SELECT count(*) || ' | ' || min(message) || ' | ' || min($(ms range_start)) FROM perps_stats.ingest_events WHERE kind = 'resync' AND market_id = $BTC AND source = 'stream'")" \
   "1 | BTCUSDT book crossed at update id $((L + 6)); resynced from the REST book at update id $L | $((T0 + 3))" \
   "one resync row naming the crossing update, from its time"
is "$(rest_depths BTCUSDT)" "2" "one more REST depth request"

# ---- a skipped update id: one gap, one resync, one fresh REST snapshot ----
# after u L+12 the ids L+13 .. L+15 never come: U L+16, u L+18 (pu L: it continues the REST book)
depth_until $((L + 16)) $((L + 18)) $L $((T0 + 7)) '[[\"97238.0\",\"4.000\"]]' '[]' \
            "after a skipped update id the book is resynced from REST and the event applies to it"
is "$(status "gaps || ' ' || resyncs")" "1 2" "one gap, a second resync"
is "$(q "SELECT count(*) || ' | ' || min(message) || ' | ' || min($(ms range_start)) || ' | ' || min(first_missing_id) || '..' || min(last_missing_id) FROM perps_stats.ingest_events WHERE kind = 'gap' AND market_id = $BTC AND source = 'stream'")" \
   "1 | BTCUSDT book: update ids $((L + 13))..$((L + 15)) lost; resynced from the REST book at update id $L | $((T0 + 5)) | $((L + 13))..$((L + 15))" \
   "exactly one gap row: the lost ids, from the last good event's time"
is "$(q "SELECT bids::text $book = $((L + 18))")" \
   "{{97244.7,2.318},{97244.1,0.030},{97243.0,1.105},{97240.5,0.482},{97238.0,4.000},{97236.9,3.760},{97230.0,10.000}}" \
   "the REST bids plus the event's 97238.0 in its place"
is "$(rest_depths BTCUSDT)" "3" "one more REST depth request"
depth $((L + 19)) $((L + 21)) $((L + 18)) $((T0 + 9)) '[]' '[[\"97244.8\",\"1.000\"]]'
ok_wait "SELECT EXISTS (SELECT 1 $book = $((L + 21)) AND asks[1][2] = 1.000)" "the stream continues after the resync (pu $((L + 18)))"

# ---- malformed, oversized and refused ----
pe0=$(status parse_errors)
act '{"venue":"aster","action":"garbage"}'
act '{"venue":"aster","action":"truncated","frame":"{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1796116499000,\"a\":1,\"s\":\"BTCUSDT\",\"p\":\"1\",\"q\":\"1\",\"T\":1796116499000,\"m\":true}}"}'
act '{"venue":"aster","action":"send","frames":["{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1796116499000,\"a\":424242,\"s\":\"BTCUSDT\",\"p\":{\"x\":1},\"q\":\"1\",\"T\":1796116499000,\"m\":true}}"]}'
act '{"venue":"aster","action":"oversized","bytes":5000000}'
act "{\"venue\":\"aster\",\"action\":\"send\",\"frames\":[$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read().strip()))' test/payloads/websocket/aster/subscribe.error.json)]}"
# the next aggregate trade (a 184467302, after the payload's 184467301: ids go on one by one)
trade() {  # trade A PRICE QTY M: one aggTrade frame of BTCUSDT, at the local time
    local now=$(date +%s%3N)
    act "{\"venue\":\"aster\",\"action\":\"send\",\"frames\":[\"{\\\"stream\\\":\\\"btcusdt@aggTrade\\\",\\\"data\\\":{\\\"e\\\":\\\"aggTrade\\\",\\\"E\\\":$now,\\\"s\\\":\\\"BTCUSDT\\\",\\\"a\\\":$1,\\\"p\\\":\\\"$2\\\",\\\"q\\\":\\\"$3\\\",\\\"f\\\":$(($1 * 2)),\\\"l\\\":$(($1 * 2)),\\\"T\\\":$now,\\\"m\\\":$4}}\"]}"
}
trade 184467302 97246.5 0.250 true
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97246.5 AND qty = 0.250 AND side = 'sell')" \
        "a good frame after the bad ones is stored (m true: the taker sold)"
ok_wait "SELECT parse_errors - $pe0 = 4 FROM perps_stats.stream_status WHERE exchange = 'aster'" \
        "garbage, truncated, wrong-typed and oversized (5 MB, over the 4 MB bound) frames: four parse errors" 5
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id = '424242'")" "0" "nothing of the wrong-typed frame is stored"
is "$(status last_error)" "the venue refused a request: Invalid request: unknown variant SUBSCRIBEX, expected one of \`SUBSCRIBE\`, \`UNSUBSCRIBE\`, \`LIST_SUBSCRIPTIONS\`, \`SET_PROPERTY\`, \`GET_PROPERTY\` at line 1 column 28" \
   "the venue's error answer (subscribe.error.json) is the last error"

# ---- a dropped connection: downtime recorded, reconnect, a new first sync ----
act '{"venue":"aster","action":"drop"}'
ok_wait "SELECT reconnects = 1 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'aster'" \
        "after a drop the worker reconnects" 20
ok_until "rest_depths BTCUSDT" "4" "the new connection syncs the book from REST once more"
for a in 184467303 184467304 184467305 184467306; do trade $a 97247.5 0.010 false; done
# (the venue's time of the mock's first frame after it, the stale depth event of the payload, is
# older than the trades before the drop: the range is not checked here)
ok_wait "SELECT count(*) = 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 7
          AND message ~ '^reconnected after [0-9]+ ms; ' AND range_start IS NOT NULL AND range_end IS NOT NULL" \
        "one reconnect row: the downtime in ms, and the venue's times around it"
is "$(q "SELECT count(*) || ' ' || min(message) FROM perps_stats.ingest_events WHERE kind = 'disconnect' AND source = 'stream' AND exchange_id = 7")" \
   "1 connection closed" "one disconnect row"

# ---- trade continuity with the tape (aggregate trade ids are sequential) ----
tape() {   # tape COUNT RATE START_ID: the same tape for the stream and REST, starting in 300 ms
    local t0=$(( $(date +%s%3N) + 300 ))
    local p="{\"venue\":\"aster\",\"symbol\":\"BTCUSDT\",\"count\":$1,\"rate\":$2,\"start_id\":$3,\"t0_ms\":$t0}"
    ctl "$PERPS_MOCK_URL/_mock/tape" "$p" >/dev/null || echo "# REST tape refused: $p" >&2
    ctl "$PERPS_MOCK_WS_CONTROL/action" "${p%\}},\"action\":\"tape\"}" >/dev/null || echo "# stream tape refused: $p" >&2
    echo "$t0"
}
SC=1; [ "$SLOW" -gt 1 ] && SC=20
# a) dropped midway: the refetch by id (aggTrades fromId) fills the gap
# the tape's ids go on from the last one streamed (a jump would be a gap of its own)
ID0=$(q "SELECT max(trade_id::bigint) + 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id ~ '^[0-9]{1,18}$'")
# (8 s of tape: trades still come after a slow reconnect, and the first of them shows the gap)
N=$((8000 / SC)) R=$((1000 / SC))
tape $N $R $ID0 >/dev/null
wait_for "SELECT count(*) >= $((N / 8)) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id::bigint >= $ID0" 20
act '{"venue":"aster","action":"drop"}'
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $BTC AND trade_id::bigint >= $ID0" \
        "tape a) with the connection dropped midway, all $N trades are stored" 30
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) || ' ' || min(trade_id::bigint) || ' ' || max(trade_id::bigint) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id::bigint >= $ID0")" \
   "$N $N $ID0 $((ID0 + N - 1))" "tape a) each once: ids $ID0 .. $((ID0 + N - 1))"
is "$(q "SELECT refetches > 0 AND trades_refetched > 0 AND trade_gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'aster'")" "t" \
   "tape a) the missed trades came through the REST refetch, no gap"
# trade k = 1234 of the tape: time t0 + k x 1000 / R, price 42000 + k % 997 = 42237 with the
# 20 digits of k x 7919 = 9772046, qty 0.(k % 999 + 1) = 0.236, k even: the taker bought
is "$(q "SELECT price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '$((ID0 + 1234))'")" \
   "42237.00000000000009772046 0.236 buy" "tape a) trade k = 1234 exactly as the tape defines it (20 decimals, not through a double)"
# b) aggTrades failing: the refetch gives up, one gap row names the missing ids
since=$(q "SELECT now()")
ID0=$((ID0 + N)); N=$((8000 / SC)) R=$((1000 / SC))
qs "ALTER SYSTEM SET perps_stats.http_max_retries = 1; SELECT pg_reload_conf();" >/dev/null
ctl "$PERPS_MOCK_URL/_mock/faults" '{"venue":"aster","path":"/fapi/v1/aggTrades","kind":"status","status":503,"count":-1}' >/dev/null
tape $N $R $ID0 >/dev/null
wait_for "SELECT count(*) >= $((N / 8)) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id::bigint >= $ID0" 20
act '{"venue":"aster","action":"drop"}'
ok_wait "SELECT trade_gaps = 1 FROM perps_stats.stream_status WHERE exchange = 'aster'" \
        "tape b) with aggTrades answering 503, the refetch gives up and records a gap" 40
ok_wait "SELECT count(*) > 0 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id::bigint = $((ID0 + N - 1))" "tape b) the tape's last trade arrives" 20
missing=$(q "SELECT min(i) || ' ' || max(i) || ' ' || count(*) FROM generate_series($ID0::bigint, $((ID0 + N - 1))) i
             WHERE NOT EXISTS (SELECT 1 FROM perps_stats.trades t WHERE t.market_id = $BTC AND t.trade_id = i::text)")
read -r m_first m_last m_count <<<"$missing"
is "$(q "SELECT count(*) || ' ' || min(first_missing_id) || ' ' || min(last_missing_id) FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = 'gap' AND exchange_id = 7 AND ts >= '$since'")" \
   "1 $m_first $m_last" "tape b) one gap row whose first and last missing ids are the ids not stored ($m_count of them)"
is "$((m_last - m_first + 1))" "$m_count" "tape b) and they are one run: everything else is stored once"
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null

# ---- put back what was changed ----
qs "ALTER SYSTEM RESET perps_stats.http_max_retries; ALTER SYSTEM RESET perps_stats.book_snapshot_interval;
   ALTER SYSTEM RESET perps_stats.orderbook_store_levels; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off;
   SELECT pg_reload_conf();
   DELETE FROM perps_stats.watchlist WHERE exchange = 'aster' AND symbol IN ('BTC', 'ETH') AND NOT poll;
   UPDATE perps_stats.watchlist SET stream = (exchange || '/' || symbol IN ($streamed0));
   UPDATE perps_stats.exchanges SET rest_url = split_part('$urls0', ' ', 1), ws_url = split_part('$urls0', ' ', 2) WHERE name = 'aster';" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"

tap_done
