#!/usr/bin/env bash
# The Hyperliquid stream worker against the WebSocket mock
# (test/mock/ws_venues/hyperliquid.py) serving the project's own payloads:
# the l2Book, trades and asset context frames become exactly the expected
# rows; every l2Book is a whole book (a newer one replaces it, an older or
# equal one is ignored, a crossed one resyncs); a dropped connection
# reconnects with its downtime recorded; malformed frames are counted and
# skipped; the client pings.  Expected values are worked out by hand from the
# frames in test/payloads/websocket/hyperliquid (l2Book.json, trades.json,
# the main dex's BTC context in allDexsAssetCtxs.trimmed.json).  Polls with a
# timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=hyperliquid
. "$(dirname "$0")/../lib/tap.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 3 AND symbol = 'BTC')"
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }
received() {  # the client messages the mock saw, one per line
    curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["hyperliquid"]["received"]))'
}

t0=$(q "SELECT now()")
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/hyperliquid/ws', rest_url = '$PERPS_MOCK_URL/hyperliquid' WHERE name = 'hyperliquid';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'hyperliquid' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null

# ---- start, market row, the three subscriptions ----
ok_wait "SELECT count(*) = 1 FROM perps_stats.stream_status WHERE exchange = 'hyperliquid' AND state = 'streaming'" \
        "the launcher starts the hyperliquid stream worker and it streams from the mock" 30
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'")" "1" \
   "one stream worker (the only venue with streamed watchlist rows)"
is "$(q "SELECT native_symbol || ' ' || base || ' ' || quote FROM perps_stats.markets WHERE exchange_id = 3 AND symbol = 'BTC'")" \
   "BTC BTC USDC" "the worker created the market row (the coin is the global symbol, quote USDC)"
is "$(received | grep -c '"subscription":{"type":"l2Book","coin":"BTC"}') $(received | grep -c '"subscription":{"type":"trades","coin":"BTC"}') $(received | grep -c '"subscription":{"type":"activeAssetCtx","coin":"BTC"}') $(received | grep -c '"subscription":{"type":"bbo","coin":"BTC"}') $(received | grep -c '"subscription":{"type":"candle","coin":"BTC","interval":"1m"}')" \
   "1 1 1 1 1" "one subscribe message each for l2Book, trades, activeAssetCtx, bbo and the 1m candles (perps_stats.stream_kline_intervals' default) of BTC"

# ---- the l2Book frame: 20 levels a side, seq = its time ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1795530690417)" \
        "the l2Book frame (time 1795530690417) is stored with its time as seq"
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1795530690417"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || $(ms ts) $book")" \
   "20 20 97120.0x0.41237 97121.0x1.20815 1795530690417" "book: 20 levels a side, best bid and ask, ts = the frame's time"
is "$(q "SELECT bids[20][1] || 'x' || bids[20][2] || ' ' || asks[20][1] || 'x' || asks[20][2] || ' ' || bids[11][1] || 'x' || bids[11][2] || ' ' || asks[18][1] || 'x' || asks[18][2] $book")" \
   "96990.0x4.20761 97281.0x3.6 97095.0x3.40518 97228.0x4.4" \
   "worst bid and ask; the five-order levels (n = 5) keep their total size"
is "$(q "SELECT bool_and(bids[i][1] > bids[i+1][1] AND asks[i][1] < asks[i+1][1]) FROM generate_subscripts((SELECT bids $book), 1) i, (SELECT bids, asks $book) b WHERE i < 20")" \
   "t" "bids strictly descending, asks strictly ascending"
# mid = (97120.0 + 97121.0) / 2 = 97120.5; within 1 bps (97120.5 x 0.0001 = 9.71205):
#   bids >= 97110.78795: 97120.0 x 0.41237 = 40049.3744, 97119.0 x 0.00512 = 497.24928,
#     97117.0 x 1.0312 = 100147.0504, 97115.0 x 0.25 = 24278.75, 97112.0 x 0.77814 = 75566.73168;
#     sum 240539.15576 (97110.0 is out)
#   asks <= 97130.21205: 97121.0 x 1.20815 = 117336.73615, 97123.0 x 0.0021 = 203.9583,
#     97124.0 x 0.61 = 59245.64, 97127.0 x 0.35002 = 33996.39254, 97130.0 x 1.9 = 184547.0;
#     sum 395329.72699 (97133.0 is out)
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1795530690.417) AND mid_price = 97120.5)" \
        "a liquidity_depth row with the book, mid 97120.5"
is "$(q "SELECT bid_1bps = 240539.15576 AND ask_1bps = 395329.72699 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1795530690.417)")" \
   "t" "its 1 bps depth: 240539.15576 of bids, 395329.72699 of asks"
# the book reaches 13.4 bps of bids ((97120.5 - 96990.0) / 97120.5) and 16.4 of asks: the
# snapshots fetch the coarser books by REST, one request a tick (the mock aggregates the same
# 20 levels to nSigFigs 4, 3, 2).  The first snapshot merges the first of them, nSigFigs=4
# (10 USD buckets): its asks end at 97290 (97281.0 rounded up), farther than the streamed
# book's, so the 20 bps and deeper ask figures (lower bounds) come from it and the row names
# it (issue 19)
is "$(q "SELECT resolution FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1795530690.417)")" \
   "nSigFigs=4" "the first snapshot merged the first coarser book of the REST API, nSigFigs=4"

# ---- the trades frame: four trades, one tid beyond 2^53 ----
TIDS="'812734901276534', '9007199254740993', '1042387164952177', '1042387164952178'"
ok_wait "SELECT count(*) = 4 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id IN ($TIDS)" \
        "the four trades of the frame are stored"
is "$(q "SELECT string_agg(trade_id || ' ' || $(ms ts) || ' ' || price || ' ' || qty || ' ' || side, ', ' ORDER BY ts) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id IN ($TIDS)")" \
   "812734901276534 1795530692005 97121.0 0.0481 buy, 9007199254740993 1795530692118 97123.0 0.00142 buy, 1042387164952177 1795530693540 97119.0 0.31 sell, 1042387164952178 1795530693871 97117.0 0.00011 sell" \
   "trades: tid (2^53 + 1 exact), time, px, sz as sent; side B (the taker bought) -> buy, A -> sell"

# ---- the asset context: a ticker row and a funding row ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC)" "the asset context gives a ticker row"
tick="coalesce(last_price::text, 'NULL'), mark_price, index_price, coalesce(best_bid_price::text, 'NULL'), coalesce(best_bid_qty::text, 'NULL'),
      coalesce(best_ask_price::text, 'NULL'), coalesce(best_ask_qty::text, 'NULL'), volume_24h, turnover_24h, open_interest,
      open_interest_notional, price_change_24h, coalesce(price_change_pct::text, 'NULL'), coalesce(high_24h::text, 'NULL'), coalesce(low_24h::text, 'NULL')"
# by hand: open_interest_notional = 31877.4401999999 x 97118.0
#   = 3187744019.99999 (x 100000) - 91870782.6563997118 (x 2882) = 3095873237.34359028820 (scale 10 + 1);
# change = 97118.0 - 95874.0 = 1244.0
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts >= '$t0'")" \
   "NULL 97118.0 97152.0 NULL NULL NULL NULL 29384.91737 2846127309.8127340156 31877.4401999999 3095873237.34359028820 1244.0 NULL NULL NULL" \
   "ticker: markPx, oraclePx, dayBaseVlm, dayNtlVlm, openInterest, its notional at markPx, markPx - prevDayPx; no last price, bid/ask or high/low in this channel"
is "$(q "SELECT count(*) FROM perps_stats.tickers WHERE market_id = $BTC AND ts >= '$t0' AND ts <= now()")" "1" \
   "the context carries no time: the ticker has the time it was received"
# bbo.json, sent after the context on its subscription: time 1796116470012, bid 96984.0 x 3.21875,
# ask 96985.0 x 0.00012: a ticker row of its time with the sizes the context lacks, the context's
# fields merged in
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116470.012))" \
        "the bbo frame gives a ticker row at its time"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1796116470.012)")" \
   "NULL 97118.0 97152.0 96984.0 3.21875 96985.0 0.00012 29384.91737 2846127309.8127340156 31877.4401999999 3095873237.34359028820 1244.0 NULL NULL NULL" \
   "bbo ticker: best bid and ask with their sizes (px, sz as sent), the context's fields kept"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC)" "the asset context gives a funding_rates row"
is "$(q "SELECT f.rate || ' ' || f.interval_hours || ' ' || coalesce(f.predicted_rate::text, 'NULL') || ' ' || (f.funding_time = date_trunc('hour', t.ts) + interval '1 hour')
         FROM perps_stats.funding_rates f, perps_stats.tickers t WHERE f.market_id = $BTC AND t.market_id = $BTC AND t.ts >= '$t0'")" \
   "0.0000093412 1 NULL true" "funding row: the current hourly rate, interval 1 h, at the next whole hour after the ticker"
# a new context: mark 97150.0, funding 0.0000125; by hand: change = 97150.0 - 95874.0 = 1276.0,
# notional = 31877.4401999999 x 97150.0 = 3187744019.99999 - 90850704.569999715 (x 2850)
#   = 3096893315.42999028500
act '{"venue":"hyperliquid","action":"ctx","fields":{"markPx":"97150.0","funding":"0.0000125"}}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.tickers WHERE market_id = $BTC AND ts >= '$t0'" "a second asset context is a second ticker row"
is "$(q "SELECT concat_ws(' ', mark_price, index_price, open_interest_notional, price_change_24h, best_bid_price, best_bid_qty, best_ask_price, best_ask_qty) FROM perps_stats.tickers WHERE market_id = $BTC ORDER BY ts DESC LIMIT 1")" \
   "97150.0 97152.0 3096893315.42999028500 1276.0 96984.0 3.21875 96985.0 0.00012" "its mark price, and the notional and 24 h change that follow it; the bbo's best bid and ask stay (the context does not carry them)"
ok_wait "SELECT f.rate = 0.0000125 FROM perps_stats.funding_rates f WHERE f.market_id = $BTC
         AND f.funding_time = (SELECT date_trunc('hour', max(ts)) + interval '1 hour' FROM perps_stats.tickers WHERE market_id = $BTC)" \
        "the new hourly rate is the funding row of the next whole hour (the period's rate replaced)"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" \
   "no gap, resync, parse error or reconnect so far (subscriptionResponse frames are control messages)"

# ---- candles (the 1m subscription) ----
# candle.open.json, candle.closed.json, candle.next.json: the candle of t 1796116440000
# (2026-12-01 09:14:00 UTC), T 1796116499999 going (c 96985.0), then its final values o 96950.0
# h 97012.0 l 96931.0 c 97001.0 v 25.67891 n 431; then the next one, t 1796116500000, T
# 1796116559999, 97001.0 / 97003.0 / 97001.0 / 97003.0, v 0.00400, n 2.  Hyperliquid sends no
# turnover and no closed flag: the last frame of an open time is the candle.
act '{"venue":"hyperliquid","action":"candles"}'
kl="FROM perps_stats.klines WHERE market_id = $BTC AND \"interval\" = '1m'"
ok_wait "SELECT count(*) = 2 AND bool_or(close = 97001.0) $kl" "the candle stream: two candles stored"
is "$(q "SELECT string_agg($(ms open_time) || ' ' || $(ms close_time) || ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || coalesce(turnover::text, 'NULL') || ' ' || trade_count, ', ' ORDER BY open_time) $kl")" \
   "1796116440000 1796116499999 96950.0 97012.0 96931.0 97001.0 25.67891 NULL 431, 1796116500000 1796116559999 97001.0 97003.0 97001.0 97003.0 0.00400 NULL 2" \
   "klines: t, T, o, h, l, c, v (trailing zeros kept), n as sent; the later frame of the first candle replaced the earlier"

# ---- a newer l2Book replaces the whole book ----
act '{"venue":"hyperliquid","action":"book","bids":[["97140.0","1.5"],["97135.0","2"]],"asks":[["97141.0","0.5"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1795530690418)" \
        "a snapshot 1 ms newer (1795530690418) is stored"
is "$(q "SELECT bids::text || ' ' || asks::text || ' ' || $(ms ts) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1795530690418")" \
   "{{97140.0,1.5},{97135.0,2}} {{97141.0,0.5}} 1795530690418" "it replaced the book: none of the 40 levels of the first one is left"

# ---- an equal or older l2Book is ignored ----
# both are crossed (bid above ask): applied, either would make the worker resync at once
act '{"venue":"hyperliquid","action":"book","bids":[["98000.0","1"]],"asks":[["96000.0","1"]],"time_delta":0,"keep":false}'
act '{"venue":"hyperliquid","action":"book","bids":[["98000.0","1"]],"asks":[["96000.0","1"]],"time_delta":-1000,"keep":false}'
act '{"venue":"hyperliquid","action":"trades","count":1,"price":"97142.5","qty":"0.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97142.5)" \
        "a trade sent after them is stored (so they were read)"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors")" "0 0 0" \
   "snapshots as old as (…418) or older (…689418) than the book are ignored: no resync, no gap, no error"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND (seq = 1795530689418 OR bids[1][1] = 98000.0)")" "0" \
   "and never stored"

# ---- a crossed newer l2Book: one resync by resubscribing, no gap ----
act '{"venue":"hyperliquid","action":"book","bids":[["98000.0","1"]],"asks":[["96000.0","1"]],"keep":false}'
ok_wait "SELECT gaps = 0 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'hyperliquid'" \
        "a newer snapshot with its bid above its ask is a crossed book: one resync, no gap"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'resync' AND market_id = $BTC AND source = 'stream'
         AND message = 'BTC book crossed at update id 1795530690419; resynced at update id 1795530690420')" \
        "its resync row names the crossed snapshot and the fresh one"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1795530690420 AND bids::text = '{{97140.0,1.5},{97135.0,2}}')" \
        "the fresh snapshot from the resubscription rebuilds the book"
is "$(received | grep -c '^{"method":"unsubscribe","subscription":{"type":"l2Book","coin":"BTC"}}$') $(received | grep -c '^{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}$')" \
   "1 2" "the resync unsubscribed and subscribed the l2Book of BTC once"
is "$(q "SELECT count(*) FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1795530690419")" "0" "the crossed book was not stored"

# ---- malformed frames: counted, skipped, the stream goes on; an error frame ----
pe0=$(status parse_errors)
act '{"venue":"hyperliquid","action":"garbage"}'
act '{"venue":"hyperliquid","action":"truncated","frame":"{\"channel\":\"trades\",\"data\":[{\"coin\":\"BTC\",\"side\":\"B\",\"px\":\"1\",\"sz\":\"1\",\"time\":1795530692005,\"tid\":1}]}"}'
act '{"venue":"hyperliquid","action":"send","frames":["{\"channel\":\"trades\",\"data\":[{\"coin\":\"BTC\",\"side\":\"B\",\"px\":{\"x\":1},\"sz\":\"1\",\"time\":1795530692005,\"tid\":777}]}"]}'
act '{"venue":"hyperliquid","action":"send","frames":["{\"channel\":\"trades\",\"data\":[{\"coin\":\"BTC\",\"side\":\"X\",\"px\":\"1\",\"sz\":\"1\",\"time\":1795530692005,\"tid\":778}]}"]}'
act '{"venue":"hyperliquid","action":"oversized","bytes":5000000}'
act '{"venue":"hyperliquid","action":"send","frames":["{\"channel\":\"error\",\"data\":\"Invalid subscription {\\\"type\\\":\\\"nope\\\"}\"}"]}'
act '{"venue":"hyperliquid","action":"trades","count":1,"price":"97143.5","qty":"0.25"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97143.5 AND qty = 0.25)" \
        "a good frame after the bad ones is stored"
is "$(( $(status parse_errors) - pe0 ))" "5" "garbage, truncated, a wrong-typed price, an unknown side and an oversized frame: five parse errors"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id IN ('777', '778')")" "0" "nothing of the bad frames is stored"
is "$(status last_error)" 'the venue refused a request: Invalid subscription {"type":"nope"}' "an error frame is the venue's refusal, with its text"
is "$(status state)" "streaming" "the connection survived them"

# ---- a dropped connection: reconnect, downtime recorded, stream continues ----
act '{"venue":"hyperliquid","action":"drop"}'
ok_wait "SELECT reconnects = 1 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'hyperliquid'" \
        "after a drop the worker reconnects (backoff from 1 s)" 20
ok_wait "SELECT count(*) = 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 3" \
        "one reconnect row"
is "$(q "SELECT d.range_start = r.range_start AND d.range_end IS NULL AND r.range_end IS NOT NULL AND d.ts <= r.ts
         FROM perps_stats.ingest_events d, perps_stats.ingest_events r
         WHERE d.kind = 'disconnect' AND r.kind = 'reconnect' AND d.source = 'stream' AND r.source = 'stream' AND d.exchange_id = 3 AND r.exchange_id = 3")" \
   "t" "disconnect and reconnect rows in the venue's time: both from the last message before the drop, the reconnect to the first after it"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1795530690421)" \
        "the new connection's subscription snapshot (…421) is stored"
ok_wait "SELECT count(*) = 3 FROM perps_stats.tickers WHERE market_id = $BTC AND ts >= '$t0'" "and its asset context is a third ticker row"
# by now the coarser books were all fetched (one every 2 s); nSigFigs=2 puts 96990.0 in the
# bucket of 96000 (116 bps from mid) and 97281.0 in that of 98000 (90 bps): the 20 bps and
# deeper bid figures, the 20 and 50 bps ask ones come from it, and the rows name it
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND resolution = 'nSigFigs=2')" \
        "a later snapshot merged every coarser book, down to nSigFigs=2"
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades WHERE market_id = $BTC AND trade_id IN ($TIDS)")" "4 4" \
   "the four trades of the frame, sent again on the new subscription, are stored once each"
act '{"venue":"hyperliquid","action":"trades","count":3,"per_frame":3,"price":"97144.5"}'
ok_wait "SELECT count(*) = 3 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97144.5" "the stream continues after the reconnect"

# ---- a trade stream at a chosen rate ----
act '{"venue":"hyperliquid","action":"trades","count":40,"rate":100,"price":"97145.5"}'
ok_wait "SELECT count(*) = 40 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97145.5" "40 trades sent at 100/s are all stored"
is "$(q "SELECT count(DISTINCT trade_id) || ' ' || count(*) FILTER (WHERE side = 'buy') || ' ' || count(*) FILTER (WHERE side = 'sell')
         FROM perps_stats.trades WHERE market_id = $BTC AND price = 97145.5")" "40 20 20" "each once, sides B and A alternating"

# ---- the client pings (every 20 s) and the pongs are control frames ----
pe1=$(status parse_errors)
deadline=$((SECONDS + 40 * SLOW))
until received | grep -qx '{"method":"ping"}' || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
is "$(received | grep -cx '{"method":"ping"}' | awk '{print ($1 >= 1)}')" "1" "the mock received {\"method\":\"ping\"} from the worker"
act '{"venue":"hyperliquid","action":"trades","count":1,"price":"97146.5"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND price = 97146.5)" "a trade after the pong is stored"
is "$(status "parse_errors - $pe1 || ' ' || reconnects || ' ' || state")" "0 1 streaming" \
   "the pong is no parse error and the connection stays up"

# ---- leave the others a clean start ----
qs "ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM RESET perps_stats.stream_workers; SELECT pg_reload_conf();
   UPDATE perps_stats.watchlist SET stream = true;
   UPDATE perps_stats.exchanges SET ws_url = 'wss://api.hyperliquid.xyz/ws' WHERE name = 'hyperliquid';" >/dev/null

tap_done
