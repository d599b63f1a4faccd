#!/usr/bin/env bash
# The Hyperliquid stream worker against the WebSocket mock serving the
# recorded payloads (PERPS_RECORDED_WS_URL, test/services/recorded.sh;
# test/mock/ws_venues/hyperliquid.py): the recorded l2Book, trades and asset
# context frames become exactly the expected rows.  Expected values are
# worked out by hand from the frames in shared/fixtures/websocket/hyperliquid.
# The behaviour (snapshots replacing the book, resyncs, reconnects, malformed
# frames, pings) is tested on the project's own payloads in
# test/integration/62_stream_hyperliquid.sh.  Polls with a timeout, never a
# fixed sleep.  TAP.
set -uo pipefail

STREAM_VENUE=hyperliquid
. "$(dirname "$0")/../lib/tap.sh"
# the recorded tier's WebSocket mock (act and received talk to its control)
PERPS_MOCK_WS_CONTROL=$PERPS_RECORDED_WS_CONTROL

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 3 AND symbol = 'BTC')"
ms() { echo "(extract(epoch FROM $1) * 1000)::bigint"; }
received() {  # the client messages the mock saw, one per line
    curl -sf "$PERPS_MOCK_WS_CONTROL/status" | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["hyperliquid"]["received"]))'
}

# the own-payload tier streamed this market before: start from no rows of it
qs "DELETE FROM perps_stats.tickers WHERE market_id = $BTC;
   DELETE FROM perps_stats.funding_rates WHERE market_id = $BTC;
   DELETE FROM perps_stats.trades WHERE market_id = $BTC;
   DELETE FROM perps_stats.orderbooks WHERE market_id = $BTC;
   DELETE FROM perps_stats.liquidity_depth WHERE market_id = $BTC;" >/dev/null

t0=$(q "SELECT now()")
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_RECORDED_WS_URL/hyperliquid/ws' WHERE name = 'hyperliquid';
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
is "$(received | grep -c '"subscription":{"type":"l2Book","coin":"BTC"}') $(received | grep -c '"subscription":{"type":"trades","coin":"BTC"}') $(received | grep -c '"subscription":{"type":"activeAssetCtx","coin":"BTC"}')" \
   "1 1 1" "one subscribe message each for l2Book, trades and activeAssetCtx of BTC"

# ---- the recorded l2Book: 20 levels a side, seq = its time ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1751427259657)" \
        "the recorded l2Book (time 1751427259657) is stored with its time as seq"
book="FROM perps_stats.orderbooks WHERE market_id = $BTC AND seq = 1751427259657"
is "$(q "SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[1][1] || 'x' || bids[1][2] || ' ' || asks[1][1] || 'x' || asks[1][2]
         || ' ' || $(ms ts) $book")" \
   "20 20 106217.0x0.001 106233.0x0.26739 1751427259657" "book: 20 levels a side, best bid and ask, ts = the frame's time"
is "$(q "SELECT bids[20][1] || 'x' || bids[20][2] || ' ' || asks[20][1] || 'x' || asks[20][2] || ' ' || bids[12][1] || 'x' || bids[12][2] || ' ' || asks[13][1] || 'x' || asks[13][2] $book")" \
   "105543.0x0.0197 107675.0x0.00083 106085.0x1.02207 107012.0x1.06873" \
   "worst bid and ask; the two-order levels (n = 2) keep their total size"
is "$(q "SELECT bool_and(bids[i][1] > bids[i+1][1] AND asks[i][1] < asks[i+1][1]) FROM generate_subscripts((SELECT bids $book), 1) i, (SELECT bids, asks $book) b WHERE i < 20")" \
   "t" "bids strictly descending, asks strictly ascending"
# mid = (106217.0 + 106233.0) / 2 = 106225
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.liquidity_depth WHERE market_id = $BTC AND ts = to_timestamp(1751427259.657) AND mid_price = 106225)" \
        "a liquidity_depth row with the book, mid 106225"

# ---- the recorded trade ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '293353986402527')" \
        "the recorded trade (tid 293353986402527) is stored"
is "$(q "SELECT $(ms ts) || ' ' || price || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '293353986402527'")" \
   "1751430933565 106296.0 0.00017 sell" "trade: time, px, sz as sent; side A (the taker sold) -> sell"

# ---- the recorded asset context: a ticker row and a funding row ----
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.tickers WHERE market_id = $BTC)" "the asset context gives a ticker row"
tick="coalesce(last_price::text, 'NULL'), mark_price, index_price, coalesce(best_bid_price::text, 'NULL'), coalesce(best_bid_qty::text, 'NULL'),
      coalesce(best_ask_price::text, 'NULL'), coalesce(best_ask_qty::text, 'NULL'), volume_24h, turnover_24h, open_interest,
      open_interest_notional, price_change_24h, coalesce(price_change_pct::text, 'NULL'), coalesce(high_24h::text, 'NULL'), coalesce(low_24h::text, 'NULL')"
# by hand: open_interest_notional = 27353.17682 x 77562.0 = 2121567100.512840; change = 77562.0 - 76317.0 = 1245.0
is "$(q "SELECT concat_ws(' ', $tick) FROM perps_stats.tickers WHERE market_id = $BTC")" \
   "NULL 77562.0 77605.0 NULL NULL NULL NULL 19707.77457 1516669192.1953897476 27353.17682 2121567100.512840 1245.0 NULL NULL NULL" \
   "ticker: markPx, oraclePx, dayBaseVlm, dayNtlVlm, openInterest, its notional at markPx, markPx - prevDayPx; no last price, bid/ask or high/low in this channel"
is "$(q "SELECT ts >= '$t0' AND ts <= now() FROM perps_stats.tickers WHERE market_id = $BTC")" "t" \
   "the context carries no time: the ticker has the time it was received"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.funding_rates WHERE market_id = $BTC)" "the asset context gives a funding_rates row"
is "$(q "SELECT f.rate || ' ' || f.interval_hours || ' ' || coalesce(f.predicted_rate::text, 'NULL') || ' ' || (f.funding_time = date_trunc('hour', t.ts) + interval '1 hour')
         FROM perps_stats.funding_rates f, perps_stats.tickers t WHERE f.market_id = $BTC AND t.market_id = $BTC")" \
   "-0.0000015186 1 NULL true" "funding row: the current hourly rate, interval 1 h, at the next whole hour after the ticker"
# a new context: mark 77600.0, funding 0.0000125; by hand: change = 77600.0 - 76317.0 = 1283.0,
# notional = 27353.17682 x 77600.0 = 2122606521.232000
act '{"venue":"hyperliquid","action":"ctx","fields":{"markPx":"77600.0","funding":"0.0000125"}}'
ok_wait "SELECT count(*) = 2 FROM perps_stats.tickers WHERE market_id = $BTC" "a second asset context is a second ticker row"
is "$(q "SELECT concat_ws(' ', mark_price, index_price, open_interest_notional, price_change_24h) FROM perps_stats.tickers WHERE market_id = $BTC ORDER BY ts DESC LIMIT 1")" \
   "77600.0 77605.0 2122606521.232000 1283.0" "its mark price, and the notional and 24 h change that follow it"
ok_wait "SELECT f.rate = 0.0000125 FROM perps_stats.funding_rates f WHERE f.market_id = $BTC
         AND f.funding_time = (SELECT date_trunc('hour', max(ts)) + interval '1 hour' FROM perps_stats.tickers WHERE market_id = $BTC)" \
        "the new hourly rate is the funding row of the next whole hour (the period's rate replaced)"
is "$(status "gaps || ' ' || resyncs || ' ' || parse_errors || ' ' || reconnects")" "0 0 0 0" \
   "no gap, resync, parse error or reconnect so far (subscriptionResponse frames are control messages)"

# ---- leave the others a clean start ----
qs "ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf()" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the stream worker stops"
qs "ALTER SYSTEM RESET perps_stats.book_snapshot_interval; ALTER SYSTEM RESET perps_stats.flush_interval;
   ALTER SYSTEM RESET perps_stats.stream_workers; SELECT pg_reload_conf();
   UPDATE perps_stats.watchlist SET stream = true;
   UPDATE perps_stats.exchanges SET ws_url = 'wss://api.hyperliquid.xyz/ws' WHERE name = 'hyperliquid';" >/dev/null

tap_done
