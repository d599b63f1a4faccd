#!/usr/bin/env bash
# The recorded tier of test/integration/63_stream_kucoin.sh: the KuCoin
# Futures stream worker against the mocks of test/services/recorded.sh,
# which serve the recorded payloads (shared/fixtures/kucoinfutures and
# shared/fixtures/websocket/kucoinfutures).  Only what is about the
# recorded frames' values: the connection (bullet, token, subscribes), the
# recorded match, tickerV2 and snapshot.24h frames, the recorded REST book
# and deltas on it.  Gaps, pings, malformed frames and reconnects are
# tested on the project's own payloads (test/integration).  Expected
# values are worked out by hand from the fixture files.  Polls with a
# timeout, never a fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=kucoin
. "$(dirname "$0")/../lib/tap.sh"
# the recorded tier's mocks, in place of tap.sh's
act() { curl -sf -X POST -H 'Content-Type: application/json' -d "$1" "$PERPS_RECORDED_WS_CONTROL/action" >/dev/null; }

KC=4
BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = $KC AND symbol = 'BTC')"
S=1645045405918     # the REST snapshot's sequence (fetchOrderBook.level2_snapshot.json)
t0=$(date +%s.%N)

# the REST mock's requests for kucoin since the test started: "METHOD path" lines
rest_log() { curl -sf "$PERPS_RECORDED_MOCK_URL/_mock/log?venue=kucoin" | jq -r --argjson t0 "$t0" '.[] | select(.t > $t0) | .method + " " + .path'; }
# the WebSocket mock's kucoin state: pings, connectIds, subscribed topics per session
ws_state() { curl -sf -X POST -H 'Content-Type: application/json' -d '{"venue":"kucoin","action":"state"}' "$PERPS_RECORDED_WS_CONTROL/action"; }
# ok_when "shell condition" DESCRIPTION [timeout]: polls a shell condition
ok_when() {
    n=$((n + 1))
    local deadline=$((SECONDS + ${3:-20} * SLOW))
    while [ $SECONDS -lt $deadline ]; do
        if eval "$1"; then echo "ok $n - $2"; return; fi
        sleep 0.1
    done
    failed=$((failed + 1)); echo "not ok $n - $2"; echo "# timed out waiting for: $1"
}
# one open session subscribed to the five topics of XBTUSDTM
subscribed() { [ "$(ws_state | jq -c '.sessions')" = '[["/contract/instrument:XBTUSDTM","/contractMarket/execution:XBTUSDTM","/contractMarket/level2:XBTUSDTM","/contractMarket/limitCandle:XBTUSDTM_1min","/contractMarket/snapshot:XBTUSDTM","/contractMarket/tickerV2:XBTUSDTM"]]' ]; }

# ---- no market rows: the worker refreshes the venue's markets itself, since only the
# markets list gives the contract size that converts contracts to base units ----
q "DELETE FROM perps_stats.markets WHERE exchange_id = $KC" >/dev/null

# The REST mock learns where the WebSocket mock is (generic mock config); ws_url
# points nowhere: the worker must open the endpoint the bullet names
curl -sf -X POST -d "{\"ws_url\":\"$PERPS_RECORDED_WS_URL\"}" "$PERPS_RECORDED_MOCK_URL/_mock/config" >/dev/null
qs "UPDATE perps_stats.exchanges SET rest_url = '$PERPS_RECORDED_MOCK_URL/kucoin', ws_url = 'ws://127.0.0.1:9/not-the-bullet-endpoint' WHERE name = 'kucoin';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'kucoin' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.book_snapshot_interval = 1;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   SELECT pg_reload_conf();" >/dev/null

# ---- connect: bullet first, then the endpoint with its token ----
ok_when subscribed "the worker connects to the bullet's endpoint and subscribes level2, execution, tickerV2, snapshot, instrument and the 1m candles" 30
is "$(q "SELECT native_symbol || ' ' || contract_size FROM perps_stats.markets WHERE exchange_id = $KC AND symbol = 'BTC'")" \
   "XBTUSDTM 0.001" "the worker refreshed the markets: BTC is XBTUSDTM, multiplier 0.001 BTC per contract"
is "$(rest_log | grep -c '^GET /api/v1/contracts/active$')" "1" "with one markets request"
is "$(rest_log | grep -c '^POST /api/v1/bullet-public$')" "1" "one bullet-public request (POST) before the connection"
cid1=$(ws_state | jq -r '.connect_ids[-1]')
ok_when '[ -n "$cid1" ] && [ "$cid1" != null ]' "the connection carries a connectId ($cid1); the mock accepted its token (no 401)"
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'")" "1" "one stream worker"

# ---- the recorded frames ----
act '{"venue":"kucoin","action":"replay"}'
# execution.match: tradeId 6057bc953c7feb667195bac9, ts 1616362645429686578 ns, price 57850,
# size 16 contracts = 0.016 BTC, side buy (the taker's)
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '6057bc953c7feb667195bac9')" \
        "the recorded match is stored"
is "$(q "SELECT (extract(epoch FROM ts) * 1000000)::bigint || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades
         WHERE market_id = $BTC AND trade_id = '6057bc953c7feb667195bac9'")" \
   "1616362645429686 57850 0.016 buy" "trade: ts (ns to µs), price, 16 contracts x 0.001 = 0.016, taker side buy"

tick="coalesce(last_price::text, '-'), coalesce(mark_price::text, '-'), coalesce(index_price::text, '-'), best_bid_price, best_bid_qty, best_ask_price, best_ask_qty,
      coalesce(volume_24h::text, '-'), coalesce(turnover_24h::text, '-'), coalesce(open_interest::text, '-'), coalesce(price_change_24h::text, '-'),
      coalesce(price_change_pct::text, '-'), coalesce(high_24h::text, '-'), coalesce(low_24h::text, '-')"
ok_wait "SELECT count(*) = 3 FROM perps_stats.tickers WHERE market_id = $BTC" "three ticker rows: tickerV2, snapshot.24h, mark.index.price"
# tickerV2: bestBidPrice 31766.0 x 20074 contracts (20.074 BTC), bestAskPrice 31767.0 x 1187 (1.187), ts 1654032807465857723 ns
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1654032807.465857)")" \
   "- - - 31766.0 20.074 31767.0 1.187 - - - - - - -" "tickerV2 row: best bid/ask, sizes in base units, nothing else yet"
# snapshot.24h (ts 1654165885016336830 ns): lastPrice 29926, volume 58142.397 (base currency already:
# not multiplied), turnover 1766775651.6259518, priceChg -1657, priceChgPct -0.0524, high 31891.0, low 29288.0
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1654165885.016336)")" \
   "29926 - - 31766.0 20.074 31767.0 1.187 58142.397 1766775651.6259518 - -1657 -0.0524 31891.0 29288.0" \
   "snapshot.24h row: the 24 h fields merged with the best bid/ask; the volume not scaled"
# mark.index.price (documented format, timestamp 1654165886000 ms): mark 29538.28, index 29538.62
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC AND ts = to_timestamp(1654165886)")" \
   "29926 29538.28 29538.62 31766.0 20.074 31767.0 1.187 58142.397 1766775651.6259518 - -1657 -0.0524 31891.0 29288.0" \
   "mark.index.price row: mark and index merged into the ticker"
# funding.rate (documented format): granularity 28800000 (8 h), fundingRate 0.000136 settled at 1654200000000 ms
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC)" "a funding_rates row from the instrument topic"
is "$(q "SELECT (extract(epoch FROM funding_time) * 1000)::bigint || ' ' || rate || ' ' || interval_hours FROM perps_stats.funding_rates WHERE market_id = $BTC")" \
   "1654200000000 0.000136 8" "funding row: the settlement time, the rate, an 8 h interval"

# ---- the book: REST snapshot, then deltas by sequence ----
# the recorded level2 frame (sequence 1618232029293) finds no book: the worker syncs it from
# REST (sequence S), and the frame, older than S, is dropped
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = $S)" "the REST snapshot (sequence $S) is the book"
is "$(q "SELECT bids = '{{29640.0,13.007},{29639.0,1.072},{29638.0,0.169}}'::numeric[] AND asks = '{{29641.0,30.109},{29642.0,7.922},{29643.0,5.820}}'::numeric[]
         AND (extract(epoch FROM ts) * 1000000)::bigint = 1654326922830525 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = $S")" \
   "t" "snapshot levels in base units (13007 contracts = 13.007 BTC ...), the snapshot's ts; the stale recorded change (38962.0 buy) not applied"
is "$(rest_log | grep -c '^GET /api/v1/level2/snapshot$')" "1" "one REST book request (the full snapshot)"
# S+1: 29639.0 bid to 500 contracts; S+2: 29641.0 ask deleted; S+3: 29644.5 ask 2500 contracts
act '{"venue":"kucoin","action":"book_delta","changes":[["29639.0","buy","500"],["29641.0","sell","0"],["29644.5","sell","2500"]]}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = $((S + 3)))" "the book after three deltas (sequence S+3)"
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = $((S + 3))"
is "$(q "SELECT bids = '{{29640.0,13.007},{29639.0,0.500},{29638.0,0.169}}'::numeric[] AND asks = '{{29642.0,7.922},{29643.0,5.820},{29644.5,2.500}}'::numeric[] $book")" \
   "t" "levels after the deltas: bid updated, best ask deleted, ask inserted in order"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || (extract(epoch FROM ts) * 1000)::bigint $book")" \
   "3 3 29640.0x13.007 29642.0x7.922 1654326922833" "3 levels a side, best bid and ask, the last delta's timestamp"
# mid (29640 + 29642) / 2 = 29641; 1 bps: bids >= 29638.0359 (29640 x 13.007 + 29639 x 0.5 = 400346.98),
# asks <= 29643.9641 (29642 x 7.922 + 29643 x 5.82 = 407346.184)
is "$(q "SELECT count(*) = 1 AND min(mid_price) = 29641 AND min(bid_1bps) = 400346.98 AND min(ask_1bps) = 407346.184
         FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1654326922.833)")" \
   "t" "liquidity_depth of the book in base units: mid 29641, bid and ask 1 bps notional"

# ---- leave the stream workers off for the next tests ----
q "UPDATE perps_stats.watchlist SET stream = false WHERE exchange = 'kucoin'" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the worker stops when kucoin has nothing to stream"
qs "UPDATE perps_stats.exchanges SET rest_url = 'https://api-futures.kucoin.com', ws_url = NULL WHERE name = 'kucoin';
   ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf();" >/dev/null
curl -sf -X POST -d '{"ws_url":null}' "$PERPS_RECORDED_MOCK_URL/_mock/config" >/dev/null

tap_done
