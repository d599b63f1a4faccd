#!/usr/bin/env bash
# The Pacifica stream worker against the WebSocket mock
# (test/mock/ws_venues/pacifica.py) serving the project's own payloads
# (test/payloads/websocket/pacifica, written from Pacifica's documentation;
# no recorded frames exist): the subscribe messages; the book, prices, bbo,
# trades and candle frames become exactly the rows worked out by hand below;
# every book frame is a whole book (a newer one replaces it, an older or equal
# one is ignored, a crossed one resyncs by resubscribing); malformed and
# oversized frames are counted and skipped; a dropped connection reconnects
# with its downtime recorded and the replayed frames are stored once; the
# trade tape (test/mock/tape.py) with the connection dropped midway: every
# trade stored once (the missed ones from REST's most recent trades, under
# the same synthetic ids), or, with the REST refetch failing, one gap row by
# time; 21 markets, more than Pacifica lets one connection subscribe, on two
# connections, each market's resync on its own.  Polls with a timeout, never
# a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=pacifica
. "$(dirname "$0")/../lib/tap.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 9 AND symbol = 'BTC')"
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }
received() {  # the client messages the mock saw, one per line
    curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["pacifica"]["received"]))'
}
ctl() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$1"; }

urls0=$(q "SELECT rest_url || ' ' || ws_url FROM perps_stats.exchanges WHERE name = 'pacifica'")
t0=$(q "SELECT now()")
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/pacifica/ws', rest_url = '$PERPS_MOCK_URL/pacifica' WHERE name = 'pacifica';
   INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('pacifica', 'BTC', false, true)
       ON CONFLICT (exchange, symbol) DO UPDATE SET stream = true;
   UPDATE perps_stats.watchlist SET stream = (exchange = 'pacifica' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null

# ---- start, market row, the subscriptions ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'pacifica' AND state = 'streaming'" \
        "the launcher starts the pacifica stream worker and it streams from the mock" 30
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'")" "1" \
   "one stream worker (the only venue with streamed watchlist rows)"
is "$(q "SELECT native_symbol || ' ' || quote FROM perps_stats.markets WHERE exchange_id = 9 AND symbol = 'BTC'")" \
   "BTC USDC" "the market row: the symbol is the native one, quote USDC"
is "$(received | grep -cx '{"method":"subscribe","params":{"source":"prices"}}') $(received | grep -cx '{"method":"subscribe","params":{"source":"book","symbol":"BTC","agg_level":1}}') $(received | grep -cx '{"method":"subscribe","params":{"source":"bbo","symbol":"BTC"}}') $(received | grep -cx '{"method":"subscribe","params":{"source":"trades","symbol":"BTC"}}') $(received | grep -cx '{"method":"subscribe","params":{"source":"candle","symbol":"BTC","interval":"1m"}}')" \
   "1 1 1 1 1" "one subscribe message each: prices (every market), the book at agg_level 1, bbo, trades and the 1m candles of BTC"

# ---- book.json: a whole book, 5 levels a side, seq = its time t ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116490250)" \
        "the book frame (t 1796116490250) is stored with its time as seq"
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116490250"
is "$(q "SELECT bids::text || ' ' || asks::text || ' ' || $(ms ts) $book")" \
   "{{97010,1.25},{97009,0.5},{97005,2.125},{97000,10},{96990,0.004}} {{97011,0.75},{97012,1.5},{97015,3},{97020,0.25},{97050,8}} 1796116490250" \
   "book: the five bid and ask levels (p, a as sent; n is not stored), ts = t"
# mid = (97010 + 97011) / 2 = 97010.5; 1 bps of it = 9.70105:
#   bids >= 97000.79895: 97010 x 1.25 = 121262.5, 97009 x 0.5 = 48504.5, 97005 x 2.125 = 206135.625;
#     sum 375902.625 (97000 is out)
#   asks <= 97020.20105: 97011 x 0.75 = 72758.25, 97012 x 1.5 = 145518, 97015 x 3 = 291045,
#     97020 x 0.25 = 24255; sum 533576.25 (97050 is out)
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1796116490.25) AND mid_price = 97010.5)" \
        "a liquidity_depth row with the book, mid 97010.5"
is "$(q "SELECT bid_1bps = 375902.625 AND ask_1bps = 533576.25 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1796116490.25)")" \
   "t" "its 1 bps depth: 375902.625 of bids, 533576.25 of asks"

# ---- prices.json: BTC's ticker and funding rate (ETH and SOL are not watched) ----
tick="coalesce(last_price::text, 'NULL'), mark_price, index_price, coalesce(best_bid_price::text, 'NULL'), coalesce(best_bid_qty::text, 'NULL'),
      coalesce(best_ask_price::text, 'NULL'), coalesce(best_ask_qty::text, 'NULL'), coalesce(volume_24h::text, 'NULL'), turnover_24h, open_interest,
      open_interest_notional, price_change_24h, coalesce(price_change_pct::text, 'NULL'), coalesce(high_24h::text, 'NULL'), coalesce(low_24h::text, 'NULL')"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116491))" \
        "the prices frame gives a ticker row at its timestamp (1796116491000)"
# by hand: open_interest_notional = 1234.56789 x 97012.5 = 1234.56789 x 97000 + 1234.56789 x 12.5
#   = 119753085.33 + 15432.098625 = 119768517.428625;  change = oracle - yesterday_price = 97008 - 95500.5 = 1507.5
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116491)")" \
   "NULL 97012.5 97008 NULL NULL NULL NULL NULL 98765432.1 1234.56789 119768517.428625 1507.5 NULL NULL NULL" \
   "ticker: mark, oracle as index, volume_24h (USD) as turnover, open interest (base) and its notional at the mark, oracle - yesterday_price; no last price"
# funding 0.0000125 at 1796116491000 ms = 2026-12-01 09:14:51 UTC: the rate paid at 09:00, as the REST side keys it
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC AND funding_time = '2026-12-01 09:00:00+00')" \
        "the prices frame gives a funding_rates row at the hour it was paid"
is "$(q "SELECT rate || ' ' || interval_hours FROM perps_stats.funding_rates WHERE market_id = $BTC AND funding_time = '2026-12-01 09:00:00+00'")" \
   "0.0000125 1" "funding row: the hourly rate as sent, interval 1 h"
is "$(q "SELECT count(*) FROM perps_stats.markets WHERE exchange_id = 9 AND symbol IN ('ETH', 'SOL') AND id IN (SELECT market_id FROM perps_stats.tickers)")" \
   "0" "ETH and SOL, in the frame but not watched, give no rows"

# ---- bbo.json: best bid and ask with their amounts, a ticker row of its time ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116492))" \
        "the bbo frame gives a ticker row at its time (1796116492000)"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116492)")" \
   "NULL 97012.5 97008 97010 1.25 97011 0.75 NULL 98765432.1 1234.56789 119768517.428625 1507.5 NULL NULL NULL" \
   "bbo ticker: b x B and a x A as sent, the prices fields kept"
# new prices: mark 97020; notional = 1234.56789 x 97020 = 119753085.33 + 1234.56789 x 20 (24691.3578)
#   = 119777776.68780 (scale 5 + 0); the bbo's best bid and ask stay
act '{"venue":"pacifica","action":"prices","fields":{"mark":"97020","timestamp":1796116494000}}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116494))" \
        "a second prices frame is a second ticker row"
is "$(q "SELECT concat_ws(' ', mark_price, open_interest_notional, best_bid_price, best_bid_qty, best_ask_price, best_ask_qty) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116494)")" \
   "97020 119777776.68780 97010 1.25 97011 0.75" "its mark and notional; the bbo's best bid and ask stay (prices does not carry them)"

# ---- trades.json: three trades, two alike ----
# synthetic ids as the REST side names trades: <t>-<B|S>-<p>-<a>-<k>, k = equal trades before it:
#   open_long and close_short buy, close_long sells; the first two are alike (t, side, p, a): k 0 and 1
act '{"venue":"pacifica","action":"replay","frames":["trades"]}'
TIDS="'1796116493100-B-97011-0.015-0', '1796116493100-B-97011-0.015-1', '1796116493250-S-97010-0.2-0'"
ok_wait "SELECT count(*) = 3 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id IN ($TIDS)" \
        "the three trades of the frame are stored under their synthetic ids"
is "$(q "SELECT string_agg(trade_id || ' ' || $(ms ts) || ' ' || price || ' ' || qty || ' ' || side, ', ' ORDER BY trade_id) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id IN ($TIDS)")" \
   "1796116493100-B-97011-0.015-0 1796116493100 97011 0.015 buy, 1796116493100-B-97011-0.015-1 1796116493100 97011 0.015 buy, 1796116493250-S-97010-0.2-0 1796116493250 97010 0.2 sell" \
   "trades: t, p, a as sent; open_long and close_short -> buy, close_long -> sell"

# ---- candles: the 1m candle of 09:14 going, final, then the next one ----
# candle.open/closed/next.json: t 1796116440000, T 1796116500000 (the next bar's open: close_time =
# T - 1 ms = 1796116499999), final o 97000 h 97015 l 96990 c 97011 v 20.125 n 61; then t 1796116500000,
# close 1796116559999, 97011 / 97012 / 97011 / 97012, v 0.3, n 2.  No turnover, no closed flag.
act '{"venue":"pacifica","action":"replay","frames":["candle.open","candle.closed","candle.next"]}'
kl="FROM perps_stats.klines WHERE market_id = $BTC AND \"interval\" = '1m'"
ok_wait "SELECT count(*) = 2 AND bool_or(close = 97011) AND bool_or(close = 97012) $kl" "the candle stream: two candles stored"
is "$(q "SELECT string_agg($(ms open_time) || ' ' || $(ms close_time) || ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || coalesce(turnover::text, 'NULL') || ' ' || trade_count, ', ' ORDER BY open_time) $kl")" \
   "1796116440000 1796116499999 97000 97015 96990 97011 20.125 NULL 61, 1796116500000 1796116559999 97011 97012 97011 97012 0.3 NULL 2" \
   "klines: t, T - 1 ms, o, h, l, c, v, n as sent; the later frame of the first candle replaced the earlier"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" \
   "no gap, resync, parse error or reconnect so far (the subscription answers are control frames)"

# ---- a newer book replaces the whole book (250 ms later: 1796116490500) ----
act '{"venue":"pacifica","action":"book","bids":[["97030","1.5"],["97025","2"]],"asks":[["97031","0.5"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116490500)" \
        "a book 250 ms newer (1796116490500) is stored"
is "$(q "SELECT bids::text || ' ' || asks::text FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116490500")" \
   "{{97030,1.5},{97025,2}} {{97031,0.5}}" "it replaced the book: none of the ten levels of the first one is left"

# ---- an equal or older book is ignored ----
# both are crossed (bid above ask): applied, either would make the worker resync at once
act '{"venue":"pacifica","action":"book","bids":[["98000","1"]],"asks":[["96000","1"]],"time_delta":0,"keep":false}'
act '{"venue":"pacifica","action":"book","bids":[["98000","1"]],"asks":[["96000","1"]],"time_delta":-1000,"keep":false}'
act '{"venue":"pacifica","action":"trades","count":1,"price":"97042.5","qty":"0.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97042.5)" \
        "a trade sent after them is stored (so they were read)"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors")" "0 0 0" \
   "books as old as (…490500) or older (…489500) than the local one are ignored: no resync, no gap, no error"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND (seq = 1796116489500 OR bids[1][1] = 98000)")" "0" \
   "and never stored"

# ---- a crossed newer book: one resync by resubscribing, no gap ----
# …490750 is crossed; the resubscription answers with the current book 250 ms later (…491000)
act '{"venue":"pacifica","action":"book","bids":[["98000","1"]],"asks":[["96000","1"]],"keep":false}'
ok_wait "SELECT gaps = 0 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'pacifica'" \
        "a newer book with its bid above its ask is a crossed book: one resync, no gap"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'resync' AND market_id = $BTC AND source = 'stream'
         AND message = 'BTC book crossed at update id 1796116490750; resynced at update id 1796116491000')" \
        "its resync row names the crossed book and the fresh one"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116491000 AND bids::text = '{{97030,1.5},{97025,2}}')" \
        "the fresh book from the resubscription rebuilds it"
is "$(received | grep -cx '{"method":"unsubscribe","params":{"source":"book","symbol":"BTC","agg_level":1}}') $(received | grep -cx '{"method":"subscribe","params":{"source":"book","symbol":"BTC","agg_level":1}}')" \
   "1 2" "the resync unsubscribed and subscribed the book of BTC once"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116490750")" "0" "the crossed book was not stored"

# ---- malformed frames: counted, skipped, the stream goes on; an error frame ----
pe0=$(status parse_errors)
act '{"venue":"pacifica","action":"garbage"}'
act '{"venue":"pacifica","action":"truncated","frame":"{\"channel\":\"trades\",\"data\":[{\"h\":1,\"s\":\"BTC\",\"a\":\"1\",\"p\":\"1\",\"d\":\"open_long\",\"t\":1796116493100}]}"}'
act '{"venue":"pacifica","action":"send","frames":["{\"channel\":\"trades\",\"data\":[{\"h\":1,\"s\":\"BTC\",\"a\":\"1\",\"p\":{\"x\":1},\"d\":\"open_long\",\"tc\":\"normal\",\"t\":1796116493777}]}"]}'
act '{"venue":"pacifica","action":"send","frames":["{\"channel\":\"trades\",\"data\":[{\"h\":2,\"s\":\"BTC\",\"a\":\"1\",\"p\":\"1\",\"d\":\"sideways\",\"tc\":\"normal\",\"t\":1796116493778}]}"]}'
act '{"venue":"pacifica","action":"oversized","bytes":2000000}'
act '{"venue":"pacifica","action":"error","text":"Invalid subscription params"}'
act '{"venue":"pacifica","action":"trades","count":1,"price":"97043.5","qty":"0.25"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97043.5 AND qty = 0.25)" \
        "a good frame after the bad ones is stored"
is "$(( $(status parse_errors) - pe0 ))" "5" "garbage, truncated, a wrong-typed price, an unknown side and a 2 MB frame (over 1 MiB): five parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE market_id = $BTC AND $(ms ts) IN (1796116493777, 1796116493778)")" "0" "nothing of the bad frames is stored"
is "$(status last_error)" 'the venue refused a request: Invalid subscription params' "an error frame is the venue's refusal, with its text"
is "$(status state)" "streaming" "the connection survived them"

# ---- the client pings (every 15 s) and the pongs are control frames ----
pe1=$(status parse_errors)
deadline=$((SECONDS + 40 * SLOW))
until [ "$(received | grep -cx '{"method":"ping"}')" != 0 ] || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
is "$(received | grep -cx '{"method":"ping"}' | awk '{print ($1 >= 1)}')" "1" "the mock received {\"method\":\"ping\"} from the worker"
act '{"venue":"pacifica","action":"trades","count":1,"price":"97045.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97045.5)" "a trade after the pong is stored"
is "$(status "parse_errors - $pe1 || ' ' || reconnects || ' ' || state")" "0 0 streaming" "the pong is no parse error and the connection stays up"

# ---- a dropped connection: reconnect, downtime recorded, replay stored once ----
act '{"venue":"pacifica","action":"drop"}'
ok_wait "SELECT reconnects = 1 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'pacifica'" \
        "after a drop the worker reconnects (backoff from 1 s)" 20
ok_wait "SELECT count(*) = 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 9" \
        "one reconnect row"
is "$(q "SELECT d.range_start = r.range_start AND d.range_end IS NULL AND r.range_end IS NOT NULL AND d.ts <= r.ts
         FROM perps_stats.ingest_events d, perps_stats.ingest_events r
         WHERE d.kind = 'disconnect' AND r.kind = 'reconnect' AND d.source = 'stream' AND r.source = 'stream' AND d.exchange_id = 9 AND r.exchange_id = 9")" \
   "t" "disconnect and reconnect rows in the venue's time: both from the last message before the drop, the reconnect to the first after it"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1796116491250)" \
        "the new connection's book (…491250) is stored"
act '{"venue":"pacifica","action":"replay","frames":["trades","candle.closed"]}'
act '{"venue":"pacifica","action":"trades","count":1,"price":"97044.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97044.5)" "the stream continues after the reconnect"
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id IN ($TIDS)") $(q "SELECT count(*) $kl")" \
   "3 3 2" "the trades and the candle replayed on the new connection are stored once each: 3 trades, 2 candles"

# ---- the trade tape: a venue that keeps trading while the client is away ----
# trade k of a tape (test/mock/tape.py): time t0 + k x 1000 / rate ms, price
# "<42000 + k mod 997>.<(k x 7919) mod 10^20, 20 digits>", amount "0.<k mod 999 + 1, 3 digits>",
# the taker buys when k is even; named as REST names it: <time>-<B|S>-<price>-<amount>-0
tape() {   # tape COUNT RATE: the same tape for the stream and for REST, starting in 300 ms
    local t0=$(( $(date +%s%3N) + 300 ))
    local p="{\"venue\":\"pacifica\",\"symbol\":\"BTC\",\"count\":$1,\"rate\":$2,\"t0_ms\":$t0}"
    ctl "$PERPS_MOCK_URL/_mock/tape" "$p" >/dev/null || echo "# REST tape refused: $p" >&2
    ctl "$PERPS_MOCK_WS_CONTROL/action" "${p%\}},\"action\":\"tape\"}" >/dev/null || echo "# stream tape refused: $p" >&2
    echo "$t0"
}
tape_trade() {  # tape_trade K T0 RATE -> "trade_id time_ms price qty side"
    python3 -c '
import sys
k, t0, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t, p, a = t0 + k * 1000 // rate, "%d.%020d" % (42000 + k % 997, (k * 7919) % 10**20), "0.%03d" % (k % 999 + 1)
print("%d-%s-%s-%s-0" % (t, "B" if k % 2 == 0 else "S", p, a), t, p, a, "buy" if k % 2 == 0 else "sell")' "$1" "$2" "$3"
}
tape_done() {
    ctl "$PERPS_MOCK_WS_CONTROL/action" '{"venue":"pacifica","action":"tape_status","symbol":"BTC"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["done"])'
}
SC=1; [ "$SLOW" -gt 1 ] && SC=5
N=$((150 / SC)) R=$((50 / SC))
since=$(q "SELECT now()")
t0=$(tape $N $R)
wait_for "SELECT count(*) >= $((N / 3)) FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($t0 / 1000.0)" 30
act '{"venue":"pacifica","action":"drop"}'
ok_wait "SELECT count(*) >= $N FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($t0 / 1000.0)" \
        "tape a) with the connection dropped midway, all $N trades generated at $R/s are stored" 40
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) || ' ' || count(DISTINCT ts) FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($t0 / 1000.0)")" \
   "$N $N $N" "tape a) each once: the refetched ones and the stream's at the gap's two ends have the same synthetic ids"
is "$(q "SELECT refetches >= 1 AND trades_refetched > 0 AND trade_gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'pacifica'")" "t" \
   "tape a) the missed ones refetched from the venue's most recent trades, no gap"
k=$((N / 2 + 1))
read -r tid tms tp ta ts <<<"$(tape_trade $k "$t0" $R)"
is "$(q "SELECT trade_id || ' ' || $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '$tid'")" \
   "$tid $tms $tp $ta $ts" "tape a) trade k = $k exactly as the tape defines it (20 decimals kept)"
ok_until "tape_done" "True" "tape a) the venue finished its tape" 30

# b) the refetch fails: one gap row by time, from the last trade stored before the drop to the first after it
# (no HTTP retry within a page: the worker's four tries of the page, 1 s, 2 s, 4 s apart, stay the test's time)
qs "ALTER SYSTEM SET perps_stats.http_max_retries = 0; SELECT pg_reload_conf();" >/dev/null
ctl "$PERPS_MOCK_URL/_mock/faults" '{"venue":"pacifica","path":"/api/v1/trades","kind":"status","status":503,"count":-1}' >/dev/null
# (a longer tape, dropped early: trades must still come after the reconnect, or nothing shows the gap)
since=$(q "SELECT now()")
t0=$(tape $((2 * N)) $R)
wait_for "SELECT count(*) >= $((N / 5)) FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($t0 / 1000.0)" 30
act '{"venue":"pacifica","action":"drop"}'
ok_wait "SELECT trade_gaps = 1 FROM perps_stats.stream_status WHERE exchange = 'pacifica'" \
        "tape b) with /api/v1/trades answering 503, the refetch gives up and records a gap" 40
read -r before after <<<"$(q "WITH s AS (SELECT DISTINCT $(ms ts) AS t FROM perps_stats.trades WHERE market_id = $BTC AND ts >= to_timestamp($t0 / 1000.0)),
                              g AS (SELECT t, lead(t) OVER (ORDER BY t) AS nxt FROM s)
                         SELECT t || ' ' || nxt FROM g WHERE nxt - t > 2 * 1000 / $R ORDER BY nxt - t DESC LIMIT 1")"
is "$(q "SELECT $(ms range_start) || ' ' || $(ms range_end) || ' ' || (first_missing_id IS NULL) FROM perps_stats.ingest_events WHERE source = 'stream' AND kind = 'gap' AND exchange_id = 9 AND ts >= '$since'")" \
   "$before $after true" "tape b) one gap row by time: from the last trade stored before the drop to the first after it (no ids)"
curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
qs "ALTER SYSTEM RESET perps_stats.http_max_retries; SELECT pg_reload_conf();" >/dev/null
ok_until "tape_done" "True" "tape b) the venue finished its tape" 30

# ---- more markets than one connection may carry: two connections ----
# Pacifica allows 20 subscriptions a channel on a connection: 21 markets with the 1m candles need two,
# the first 20 (in the worker's order) on the first with prices, the 21st on the second
state() { ctl "$PERPS_MOCK_WS_CONTROL/action" '{"venue":"pacifica","action":"state"}'; }
qs "INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream)
       SELECT 'pacifica', 'M' || lpad(i::text, 2, '0'), false, true FROM generate_series(1, 20) i
       ON CONFLICT (exchange, symbol) DO UPDATE SET stream = true;" >/dev/null
ok_until "state | jq -c '[.sessions[] | [(.subs | map(select(startswith(\"book:\"))) | length), (.subs | map(select(startswith(\"candle:\"))) | length), (.subs | map(select(. == \"prices:\")) | length)]] | sort'" \
         "[[1,1,0],[20,20,1]]" "21 markets: two connections, 20 books and 20 candles with prices on one, the 21st market's on the other" 30
ok_wait "SELECT count(DISTINCT market_id) = 21 FROM perps_stats.orderbooks WHERE market_id IN (SELECT id FROM perps_stats.markets WHERE exchange_id = 9)" \
        "the books of all 21 markets, from both connections, are stored" 30
ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'pacifica'" "both connections stream"
# a crossed book of the market on the second connection: its resync goes to that connection
lone=$(state | jq -r '.sessions[] | select((.subs | map(select(startswith("book:"))) | length) == 1) | .subs[] | select(startswith("book:"))' | cut -d: -f2)
r0=$(status resyncs)
act '{"venue":"pacifica","action":"book","bids":[["98000","1"]],"asks":[["96000","1"]],"keep":false}'
ok_wait "SELECT resyncs >= $((r0 + 21)) FROM perps_stats.stream_status WHERE exchange = 'pacifica'" "a crossed book on every market: 21 resyncs"
is "$(state | jq -c '[.sessions[] | (.unsubscribed | length)] | sort')" "[1,20]" \
   "each market's resync went to the connection its book comes on (1 on the $lone connection, 20 on the other)"

# ---- leave the others a clean start ----
qs "ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"
read -r rest0 ws0 <<<"$urls0"
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM RESET perps_stats.stream_workers; SELECT pg_reload_conf();
   DELETE FROM perps_stats.watchlist WHERE exchange = 'pacifica' AND symbol ~ '^M[0-9]{2}$';
   CREATE TEMP TABLE m AS SELECT id FROM perps_stats.markets WHERE exchange_id = 9 AND symbol ~ '^M[0-9]{2}$';
   DELETE FROM perps_stats.orderbooks WHERE market_id IN (SELECT id FROM m);
   DELETE FROM perps_stats.liquidity_depth WHERE market_id IN (SELECT id FROM m);
   DELETE FROM perps_stats.slippage WHERE market_id IN (SELECT id FROM m);
   DELETE FROM perps_stats.tickers WHERE market_id IN (SELECT id FROM m);
   DELETE FROM perps_stats.markets WHERE id IN (SELECT id FROM m);
   UPDATE perps_stats.watchlist SET stream = true;
   UPDATE perps_stats.exchanges SET rest_url = '$rest0', ws_url = '$ws0' WHERE name = 'pacifica';" >/dev/null

tap_done
