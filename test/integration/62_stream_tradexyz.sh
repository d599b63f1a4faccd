#!/usr/bin/env bash
# The stream of trade.xyz, Hyperliquid's HIP-3 DEX "xyz" (venue tradexyz, id 13:
# the hyperliquid adapter with adapter_param 'xyz'), against the Hyperliquid
# WebSocket mock (test/mock/ws_venues/hyperliquid.py), which serves the main
# venue and the DEX on one endpoint as the one real host does
# (wss://api.hyperliquid.xyz/ws).  What differs from the main venue
# (62_stream_hyperliquid.sh covers the rest): the launcher starts a worker for
# the venue with a parameter; its market comes from the DEX's own list (the
# naming rule knows only the main DEX's names); it subscribes the coin
# "xyz:XYZ100" and stores its frames under the global symbol XYZ100; both
# workers stream from the one host at once and each sees only its own coins;
# a crossed DEX book resyncs by resubscribing that coin; a drop reconnects.
# Expected values are worked out by hand from the project's own frames of the
# DEX, written from Hyperliquid's documentation (test/payloads/websocket/
# hyperliquid/*.xyz.json; no recorded frames exist).  Polls with a timeout,
# never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=tradexyz
. "$(dirname "$0")/../lib/tap.sh"

XYZ="(SELECT id FROM perps_stats.markets WHERE exchange_id = 13 AND symbol = 'XYZ100')"
HBTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 3 AND symbol = 'BTC')"
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }
received() {  # the client messages the mock saw (both workers'), one per line
    curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["hyperliquid"]["received"]))'
}

urls0=$(q "SELECT string_agg(name || '=' || rest_url || ' ' || ws_url, ';' ORDER BY name) FROM perps_stats.exchanges WHERE name IN ('hyperliquid', 'tradexyz')")
streamed0=$(q "SELECT coalesce(string_agg(quote_literal(exchange || '/' || symbol), ','), '''''') FROM perps_stats.watchlist WHERE stream")
is "$(q "SELECT ws_url || ' ' || adapter || ' ' || adapter_param FROM perps_stats.exchanges WHERE name = 'tradexyz'")" \
   "wss://api.hyperliquid.xyz/ws hyperliquid xyz" "the seeded row: Hyperliquid's one WebSocket host, the hyperliquid adapter, dex xyz"
t0=$(q "SELECT now()")
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/hyperliquid/ws', rest_url = '$PERPS_MOCK_URL/hyperliquid' WHERE name IN ('hyperliquid', 'tradexyz');
   INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('tradexyz', 'XYZ100', false, true) ON CONFLICT DO NOTHING;
   UPDATE perps_stats.watchlist SET stream = ((exchange = 'hyperliquid' AND symbol = 'BTC') OR (exchange = 'tradexyz' AND symbol = 'XYZ100'));
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null

# ---- two workers, one host ----
ok_wait "SELECT count(*) = 2 FROM perps_stats.stream_status WHERE exchange IN ('hyperliquid', 'tradexyz') AND state = 'streaming'" \
        "the launcher starts a stream worker for tradexyz (a venue with an adapter parameter) beside hyperliquid's; both stream" 30
is "$(curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hyperliquid"]["sessions"])')" "2" \
   "two sessions on the one endpoint /hyperliquid/ws"
is "$(q "SELECT symbol || ' ' || native_symbol || ' ' || quote FROM perps_stats.markets WHERE exchange_id = 13 AND symbol = 'XYZ100'")" \
   "XYZ100 xyz:XYZ100 USDC" "the DEX's market: global symbol XYZ100, native coin xyz:XYZ100 (from the DEX's meta, not the naming rule)"
# (once a connection: a loaded machine may have made the worker reconnect already)
subs=$(for t in l2Book trades activeAssetCtx bbo; do received | grep -c "^{\"method\":\"subscribe\",\"subscription\":{\"type\":\"$t\",\"coin\":\"xyz:XYZ100\"}}\$"; done | tr '\n' ' ')$(received | grep -c '"subscription":{"type":"candle","coin":"xyz:XYZ100","interval":"1m"}')
c=$(status "reconnects + 1")
is "$subs" "$c $c $c $c $c" "tradexyz subscribes l2Book, trades, activeAssetCtx, bbo and the 1m candles of the coin xyz:XYZ100, once a connection"
is "$(received | grep -c '"coin":"XYZ100"') $(received | grep -c '"coin":"xyz:BTC"')" "0 0" \
   "no subscription of the bare XYZ100, nor of BTC under the DEX's name"

# ---- the DEX's book: l2Book.xyz.json, time 1796565613000 ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $XYZ AND seq = 1796565613000)" \
        "the xyz:XYZ100 l2Book frame is stored under XYZ100, its time as seq"
is "$(q "SELECT bids::text || ' ' || asks::text || ' ' || $(ms ts) FROM perps_stats.orderbooks WHERE market_id = $XYZ AND seq = 1796565613000")" \
   "{{25103.5,0.512},{25103.0,0.8812},{25102.5,1.2047},{25099.5,4.5}} {{25104.0,0.6139},{25105.5,2.0},{25106.0,0.0417},{25108.5,7.3106}} 1796565613000" \
   "book: the four levels a side (px, sz as sent), best first; ts the frame's time"
# mid = (25103.5 + 25104.0) / 2 = 25103.75; 1 bps of it 2.510375:
#   bids >= 25101.239625: 25103.5 x 0.512 = 12852.9920, 25103.0 x 0.8812 = 22120.7636,
#     25102.5 x 1.2047 = 30240.98175: 65214.73735 (25099.5 is out)
#   asks <= 25106.260375: 25104.0 x 0.6139 = 15411.34560, 25105.5 x 2.0 = 50211.00,
#     25106.0 x 0.0417 = 1046.92020: 66669.26580 (25108.5 is out)
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.liquidity_depth WHERE market_id = $XYZ AND ts = to_timestamp(1796565613) AND mid_price = 25103.75)" \
        "its liquidity_depth row, mid 25103.75"
is "$(q "SELECT bid_1bps || ' ' || ask_1bps FROM perps_stats.liquidity_depth WHERE market_id = $XYZ AND ts = to_timestamp(1796565613)")" \
   "65214.73735 66669.26580" "1 bps depth a side, worked out above"

# ---- the DEX's trades: trades.xyz.json ----
ok_wait "SELECT count(*) = 2 FROM perps_stats.trades WHERE market_id = $XYZ" "the two trades of the frame are stored under XYZ100"
is "$(q "SELECT string_agg(trade_id || ' ' || $(ms ts) || ' ' || price || ' ' || qty || ' ' || side, ', ' ORDER BY ts) FROM perps_stats.trades WHERE market_id = $XYZ")" \
   "431889201775302 1796565613120 25103.5 0.045 sell, 431889201775311 1796565613187 25104.0 0.12 buy" \
   "trades: tid, time, px, sz; side A (the taker sold) -> sell, B -> buy"

# ---- the DEX's asset context and bbo: a ticker and a funding row ----
tick="coalesce(last_price::text, 'NULL'), mark_price, index_price, coalesce(best_bid_price::text, 'NULL'), coalesce(best_bid_qty::text, 'NULL'),
      coalesce(best_ask_price::text, 'NULL'), coalesce(best_ask_qty::text, 'NULL'), volume_24h, turnover_24h, open_interest,
      open_interest_notional, price_change_24h"
# activeAssetCtx.xyz.json: markPx 25104.5, oraclePx 25101.9, dayBaseVlm 16467.7365, dayNtlVlm
# 412931055.1215, openInterest 1874.0101, prevDayPx 25012.0; by hand: notional = 1874.0101 x
# 25104.5 = 46850252.5 (x 25000) + 195834.05545 (x 104.5) = 47046086.55545 (scale 4 + 1);
# change = 25104.5 - 25012.0 = 92.5.  bbo.xyz.json after it: time 1796565613250, bid 25103.5 x
# 0.512, ask 25104.0 x 0.6139, merged with the context
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $XYZ AND ts = to_timestamp(1796565613.25))" \
        "the bbo frame gives a ticker row at its time"
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $XYZ AND ts = to_timestamp(1796565613.25)")" \
   "NULL 25104.5 25101.9 25103.5 0.512 25104.0 0.6139 16467.7365 412931055.1215 1874.0101 47046086.55545 92.5" \
   "ticker: the DEX context's mark, oracle, volumes, open interest, its notional and the 24 h change; bbo's best bid and ask with sizes"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $XYZ)" "the context gives a funding row"
is "$(q "SELECT rate || ' ' || interval_hours FROM perps_stats.funding_rates WHERE market_id = $XYZ")" "0.00000625 1" \
   "funding row: the DEX's hourly rate"

# ---- each worker only its own coins ----
ok_wait "SELECT count(*) = 4 FROM perps_stats.trades WHERE market_id = $HBTC AND trade_id IN ('812734901276534', '9007199254740993', '1042387164952177', '1042387164952178')" \
        "hyperliquid's worker stores BTC's trades (trades.json) from the same host meanwhile"
is "$(q "SELECT count(*) FROM perps_stats.trades t JOIN perps_stats.markets m ON m.id = t.market_id
         WHERE (m.exchange_id = 3 AND t.trade_id IN ('431889201775302', '431889201775311'))
            OR (m.exchange_id = 13 AND t.trade_id IN ('812734901276534', '9007199254740993'))")" "0" \
   "no trade of one venue's coins under the other's markets"
is "$(q "SELECT count(*) FROM perps_stats.markets WHERE exchange_id = 3 AND native_symbol LIKE '%:%'")" "0" "and no DEX coin became a market of hyperliquid"

# ---- klines: the 1m candle subscription of the DEX's coin ----
# the candles action sends candle.open.json, candle.closed.json, candle.next.json to every 1m
# subscription with s rewritten: for xyz:XYZ100 the candle of t 1796116440000 as closed
# (o 96950.0 h 97012.0 l 96931.0 c 97001.0 v 25.67891 n 431) and the next one
act '{"venue":"hyperliquid","action":"candles"}'
kl="FROM perps_stats.klines WHERE market_id = $XYZ AND \"interval\" = '1m'"
ok_wait "SELECT count(*) = 2 AND bool_or(close = 97001.0) $kl" "the DEX coin's candles are stored under XYZ100"
is "$(q "SELECT $(ms open_time) || ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || trade_count $kl ORDER BY open_time LIMIT 1")" \
   "1796116440000 96950.0 97012.0 96931.0 97001.0 25.67891 431" "the first candle's final frame replaced its going one"

# ---- a crossed DEX book: resync by resubscribing its coin ----
act '{"venue":"hyperliquid","action":"book","bids":[["25110.0","1"]],"asks":[["25100.0","1"]],"keep":false}'
ok_wait "SELECT gaps = 0 AND resyncs = 1 FROM perps_stats.stream_status WHERE exchange = 'tradexyz'" \
        "a crossed l2Book of xyz:XYZ100 is one resync of tradexyz's, no gap"
# (the mock's snapshots are 1 ms apart: the crossed one, then the resubscription's)
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'resync' AND market_id = $XYZ AND source = 'stream'
         AND message ~ '^xyz:XYZ100 book crossed at update id 17965656130[0-9][0-9]; resynced at update id 17965656130[0-9][0-9]$'
         AND substring(message from 'resynced at update id ([0-9]+)')::bigint = substring(message from 'crossed at update id ([0-9]+)')::bigint + 1)" \
        "its resync row names the coin, the crossed snapshot and the fresh one"
is "$(received | grep -c '^{"method":"unsubscribe","subscription":{"type":"l2Book","coin":"xyz:XYZ100"}}$')" "1" \
   "the resync unsubscribed (and subscribed again) the l2Book of xyz:XYZ100"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $XYZ AND seq = 1796565613002 AND bids[1][1] = 25103.5)" \
        "the fresh snapshot rebuilds the book"

# ---- malformed frames of the DEX ----
pe0=$(status parse_errors)
act '{"venue":"hyperliquid","action":"send","frames":["{\"channel\":\"trades\",\"data\":[{\"coin\":\"xyz:XYZ100\",\"side\":\"B\",\"px\":{\"x\":1},\"sz\":\"1\",\"time\":1796565614000,\"tid\":779}]}"]}'
act '{"venue":"hyperliquid","action":"trades","count":1,"price":"25105.5","qty":"0.3"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $XYZ AND price = 25105.5 AND qty = 0.3)" \
        "a good trade of the DEX after a wrong-typed one is stored"
is "$(( $(status parse_errors) - pe0 )) $(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id = '779'")" "1 0" \
   "the wrong-typed frame is one parse error (each session got it once) and stores nothing"

# ---- a dropped connection: both workers reconnect, the DEX's downtime recorded ----
rc0=$(status reconnects)
seq0=$(q "SELECT max(seq) FROM perps_stats.orderbooks WHERE market_id = $XYZ")
since=$(q "SELECT now()")
act '{"venue":"hyperliquid","action":"drop"}'
ok_wait "SELECT reconnects > $rc0 AND state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'tradexyz'" \
        "after a drop the tradexyz worker reconnects" 20
ok_wait "SELECT count(*) >= 1 FROM perps_stats.ingest_events WHERE kind = 'reconnect' AND source = 'stream' AND exchange_id = 13
          AND ts >= '$since' AND message ~ '^reconnected after [0-9]+ ms; '" "a reconnect row of tradexyz, with the downtime"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $XYZ AND seq > $seq0)" \
        "the new subscription's snapshot of xyz:XYZ100 (newer than the last one) is stored"

# ---- trade continuity with the tape (tids are not sequential: by time) ----
# the DEX coin's tape (test/mock/tape.py, venue hyperliquid, symbol xyz:XYZ100) on the stream and
# in the REST mock's recentTrades (the newest 500); the connections dropped midway: the trades
# between the last one before the drop and the first after it come from recentTrades
ctl() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$1"; }
SC=1; [ "$SLOW" -gt 1 ] && SC=10
# (8 s of tape: trades still come after a slow reconnect, and the first of them shows the gap;
# at 100/s a downtime of up to 5 s is within the newest 500)
N=$((800 / SC)) R=$((100 / SC))
tt0=$(( $(date +%s%3N) + 300 ))
p="{\"venue\":\"hyperliquid\",\"symbol\":\"xyz:XYZ100\",\"count\":$N,\"rate\":$R,\"t0_ms\":$tt0}"
ctl "$PERPS_MOCK_URL/_mock/tape" "$p" >/dev/null || echo "# REST tape refused: $p" >&2
ctl "$PERPS_MOCK_WS_CONTROL/action" "${p%\}},\"action\":\"tape\"}" >/dev/null || echo "# stream tape refused: $p" >&2
tape_rows="FROM perps_stats.trades WHERE market_id = $XYZ AND ts >= to_timestamp($tt0 / 1000.0) AND price >= 42000"
wait_for "SELECT count(*) >= $((N / 8)) $tape_rows" 20
r0=$(q "SELECT refetches FROM perps_stats.stream_status WHERE exchange = 'tradexyz'")
act '{"venue":"hyperliquid","action":"drop"}'
ok_wait "SELECT count(*) >= $N $tape_rows" "tape: with the connections dropped midway, all $N trades of xyz:XYZ100 are stored" 30
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) $tape_rows")" "$N $N" "tape: each once"
is "$(q "SELECT refetches > $r0 AND trades_refetched > 0 AND trade_gaps = 0 FROM perps_stats.stream_status WHERE exchange = 'tradexyz'")" "t" \
   "tape: the trades of the downtime came from recentTrades, no gap"
# trade k = 50: time t0 + 50 x 1000 / R, price 42000 + 50 = 42050 with the 20 digits of
# 50 x 7919 = 395950, qty 0.(50 + 1) = 0.051, k even: side B, the taker bought
is "$(q "SELECT $(ms ts) - $tt0 || ' ' || price || ' ' || qty || ' ' || side $tape_rows AND price = 42050.00000000000000395950")" \
   "$((50 * 1000 / R)) 42050.00000000000000395950 0.051 buy" "tape: trade k = 50 exactly as the tape defines it (20 decimals, a tid beyond 2^53)"

# ---- put back what was changed ----
qs "ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf();" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream workers stop"
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM RESET perps_stats.stream_workers; SELECT pg_reload_conf();
   DELETE FROM perps_stats.watchlist WHERE exchange = 'tradexyz' AND symbol = 'XYZ100' AND NOT poll;
   UPDATE perps_stats.watchlist SET stream = (exchange || '/' || symbol IN ($streamed0));
   UPDATE perps_stats.exchanges e SET rest_url = split_part(v, ' ', 1), ws_url = split_part(v, ' ', 2)
     FROM (SELECT split_part(x, '=', 1) AS name, split_part(x, '=', 2) AS v FROM unnest(string_to_array('$urls0', ';')) x) o
    WHERE e.name = o.name;" >/dev/null

tap_done
