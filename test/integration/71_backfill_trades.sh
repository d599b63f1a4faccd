#!/usr/bin/env bash
# perps_stats.backfill of trades against the mock exchange: the venues that
# serve trade history over a time range (Binance aggTrades, Paradex
# /v1/trades, GRVT trade_history) page through it chunk by chunk and store exactly the mock's
# trades; a second run asks for nothing (backfill_covered); a 429 is waited
# out; the venues with recent trades only refuse with 0A000; since => null
# finds a symbol's listing time (a /_mock/config key) by probing, for klines
# and trades, and remembers it.
#
# Expected values come from the generation rules documented in
# test/mock/venues/binance.py (_gen_agg_trade) and paradex.py (trades),
# worked out by hand below or recomputed here in Python from those rules.
set -uo pipefail
source "$(dirname "$0")/../lib/tap.sh"

MOCK=$PERPS_MOCK_URL
mock() { curl -sf -X "$1" "$MOCK/_mock/$2" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
# a CALL: its NOTICEs and errors (with SQLSTATE), nothing else
call() { psql -X -q -t -A -v VERBOSITY=verbose -c "$1" 2>&1 >/dev/null | grep -E '^(ERROR|NOTICE)' | sed 's/^NOTICE:  00000: /NOTICE:  /'; }
err() { grep -E '^ERROR' <<<"$1"; }
ms() { python3 -c 'import sys, datetime as d; print(int(d.datetime.fromisoformat(sys.argv[1]).replace(tzinfo=d.timezone.utc).timestamp() * 1000))' "$1"; }
# the mock's log of one venue's requests to a path: "query-as-json arrival-time" per line
requests() { # VENUE PATH
    curl -sf "$MOCK/_mock/log?venue=$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["path"] == sys.argv[1]:
        print(json.dumps(r["query"], sort_keys=True).replace(" ", ""), r["t"])' "$2"
}
# other tests (the streams) store trades of these venues' markets too: this test starts without them
q "DELETE FROM perps_stats.trades t USING perps_stats.markets m, perps_stats.exchanges e
   WHERE m.id = t.market_id AND e.id = m.exchange_id AND e.name IN ('binance', 'paradex')" >/dev/null
summary() { # VENUE SYMBOL: count, distinct ids, first and last time, first and last trade id
    q "SELECT count(*) || ' ' || count(DISTINCT t.trade_id) || ' '
              || to_char(min(t.ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || ' '
              || to_char(max(t.ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || ' '
              || (array_agg(t.trade_id ORDER BY t.ts))[1] || ' ' || (array_agg(t.trade_id ORDER BY t.ts DESC))[1]
         FROM perps_stats.trades t JOIN perps_stats.markets m ON m.id = t.market_id
         JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = '$1' AND m.symbol = '$2'"
}
trade() { # VENUE SYMBOL TRADE_ID: time|price|qty|side
    q "SELECT to_char(t.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || '|' || t.price || '|' || t.qty || '|' || t.side
         FROM perps_stats.trades t JOIN perps_stats.markets m ON m.id = t.market_id
         JOIN perps_stats.exchanges e ON e.id = m.exchange_id
        WHERE e.name = '$1' AND m.symbol = '$2' AND t.trade_id = '$3'"
}

for V in binance aster paradex bybit hyperliquid kucoin lighter nado; do
    q "UPDATE perps_stats.exchanges SET rest_url = '$MOCK/$V',
              aux_url = CASE WHEN aux_url IS NULL THEN NULL ELSE '$MOCK/$V/aux' END WHERE name = '$V'" >/dev/null
done
mock DELETE faults >/dev/null
mock POST config '{"latency_ms": 0, "listing": {}}' >/dev/null
q "DELETE FROM perps_stats.backfill_covered; DELETE FROM perps_stats.backfill_earliest WHERE exchange IN ('binance', 'paradex')" >/dev/null
q "SELECT perps_stats.refresh_markets('binance'), perps_stats.refresh_markets('paradex')" >/dev/null

# ---- Binance: 2.5 hours of aggregate trades, [10:00, 12:30] inclusive.
# The mock's BTCUSDT history starts at 2019-09-08 00:00 UTC (1567900800000)
# with a trade every 1.5 s: 10:00 is 1712570400000, (1712570400000 -
# 1567900800000) / 1500 = 96446400, so trade 96446401 is the first, exactly at
# 10:00:00.000; 12:30 is 9000000 ms = 6000 trades later: trade 96452401, and
# 6001 trades.  Pages of 1000: per hour (2400 trades) the window's page, then
# two by fromId (the second reaches past the hour); the last half hour (1201
# trades) its page and one by fromId: 8 requests in 3 chunks.
mock DELETE log >/dev/null
ev0=$(q "SELECT coalesce(max(id), 0) FROM perps_stats.ingest_events")
out=$(call "CALL perps_stats.backfill('binance', '{BTC}', '2024-04-08 10:00+00', '2024-04-08 12:30+00', '{trades}')")
is "$(err "$out")" "" "binance: a trades backfill of 2.5 hours succeeds"
is "$(summary binance BTC)" "6001 6001 2024-04-08 10:00:00.000 2024-04-08 12:30:00.000 96446401 96452401" \
   "binance: 6001 trades, ids 96446401 .. 96452401, 10:00:00.000 .. 12:30:00.000, no duplicates"
# trade 96446401: 96446401 mod 2000 = 401 -> 60000 + 40 = 60040, a mod 10 = 1 -> .10;
# mod 997 = 609 -> qty 0.610; digit sum 34, not divisible by 3: the buyer took -> buy
is "$(trade binance BTC 96446401)" "2024-04-08 10:00:00.000|60040.10|0.610|buy" "binance: the first trade's values"
# trade 96449001 = 96446401 + 2600, 2600 * 1.5 s = 65 min -> 11:05:00; mod 2000 = 1001 -> 60100.10;
# mod 997 = 218 -> 0.219; divisible by 3 (digit sum 36): the buyer was the maker -> sell
is "$(trade binance BTC 96449001)" "2024-04-08 11:05:00.000|60100.10|0.219|sell" \
   "binance: trade 96449001 (second chunk, a fromId page) has its values"
is "$(trade binance BTC 96452401)" "2024-04-08 12:30:00.000|60040.10|0.628|buy" "binance: the last trade, at until"
got=$(requests binance /fapi/v1/aggTrades | python3 -c '
import json, sys
rows = [json.loads(l.split()[0]) for l in sys.stdin]
print(len(rows), sum("fromId" in r for r in rows), all(r.get("limit") == "1000" for r in rows),
      [r["startTime"] + ".." + r["endTime"] for r in rows if "startTime" in r])')
is "$got" "8 5 True ['1712570400000..1712573999999', '1712574000000..1712577599999', '1712577600000..1712579400000']" \
   "binance: 8 aggTrades requests of 1000: a window under an hour per chunk, then fromId"
is "$(grep -c '^NOTICE:  backfill binance BTC trades: chunk' <<<"$out")" "3" "binance: a NOTICE per chunk (3 chunks)"
is "$(q "SELECT state || ' ' || done || '/' || total || ' ' || unit || ' ' || rows || ' ' || chunks
           FROM perps_stats.backfill_status WHERE exchange = 'binance' AND symbol = 'BTC' AND kind = 'trades'")" \
   "done 9000/9000 seconds 6001 3" "binance: backfill_status shows the run done, 9000 of 9000 s, 6001 rows"
is "$(q "SELECT count(*) || ' ' || string_agg(substring(message from '^backfill done: [0-9]+ rows'), '')
           FROM perps_stats.ingest_events WHERE id > $ev0 AND kind = 'backfill'")" "1 backfill done: 6001 rows" \
   "binance: one ingest_events row with the run's total"
is "$(q "SELECT count(*) || ' ' || to_char(min(range_start) AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') || ' '
                || to_char(max(range_end) AT TIME ZONE 'UTC', 'HH24:MI:SS.MS')
           FROM perps_stats.backfill_covered WHERE exchange = 'binance' AND symbol = 'BTC' AND kind = 'trades'")" \
   "1 10:00:00.000 12:30:00.001" "binance: the fetched range is recorded as one covered range"

# again: nothing to fetch, nothing inserted
mock DELETE log >/dev/null
ev0=$(q "SELECT max(id) FROM perps_stats.ingest_events")
out=$(call "CALL perps_stats.backfill('binance', '{BTC}', '2024-04-08 10:00+00', '2024-04-08 12:30+00', '{trades}')")
is "$(err "$out")|$(requests binance /fapi/v1/aggTrades | wc -l)|$(q "SELECT substring(message from '^backfill done: [0-9]+ rows') FROM perps_stats.ingest_events WHERE id > $ev0")" \
   "|0|backfill done: 0 rows" "binance: a second run over the same range asks for nothing and inserts nothing"
# half an hour more at the end: only that edge (12:30:00.001 .. 13:00:00.000, 1200 trades)
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('binance', '{BTC}', '2024-04-08 10:00+00', '2024-04-08 13:00+00', '{trades}')")
got=$(requests binance /fapi/v1/aggTrades | python3 -c '
import json, sys
rows = [json.loads(l.split()[0]) for l in sys.stdin]
print(len(rows), [r["startTime"] + ".." + r["endTime"] for r in rows if "startTime" in r])')
is "$(err "$out")|$got|$(summary binance BTC)" \
   "|2 ['1712579400001..1712581200000']|7201 7201 2024-04-08 10:00:00.000 2024-04-08 13:00:00.000 96446401 96453601" \
   "binance: extending the range by half an hour fetches only that edge"
# force: fetched again, nothing new
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('binance', '{BTC}', '2024-04-08 12:00+00', '2024-04-08 13:00+00', '{trades}', force => true)")
is "$(err "$out")|$(requests binance /fapi/v1/aggTrades | wc -l)|$(summary binance BTC)" \
   "|4|7201 7201 2024-04-08 10:00:00.000 2024-04-08 13:00:00.000 96446401 96453601" \
   "binance: force fetches the range again (4 pages for 2401 trades) and stores no duplicates"

# the mock answers a window of an hour or more with Binance's own error
is "$(curl -s "$MOCK/binance/fapi/v1/aggTrades?symbol=BTCUSDT&startTime=1712570400000&endTime=1712574000000")" \
   '{"code": -1127, "msg": "More than 1 hours between startTime and endTime."}' \
   "mock: aggTrades refuses a window of an hour with error -1127"
is "$(q "SELECT perps_stats.fetch_trades('binance', 'BTC', '2024-04-08 10:00+00', '2024-04-08 10:00:03+00')::text")" \
   "(96446401,\"2024-04-08 10:00:00+00\",60040.10,0.610,buy)
(96446402,\"2024-04-08 10:00:01.5+00\",60040.20,0.611,buy)
(96446403,\"2024-04-08 10:00:03+00\",60040.30,0.612,sell)" \
   "fetch_trades with a time range: the trades of [since, until], both ends included"
is "$(q "SELECT count(*) FROM perps_stats.fetch_trades('binance', 'BTC', 3)")" "3" \
   "fetch_trades(exchange, symbol, max_rows) still returns the most recent trades"

# ---- a 429 in the middle of a run is waited out.  [10:00, 11:00]: the hour's
# 2400 trades in 3 requests (window, fromId, fromId past the hour), then
# 11:00:00.000 alone, one trade in a short page: 4 requests, and the third
# repeated after the 429.
mock DELETE log >/dev/null
mock POST faults '{"venue": "binance", "path": "aggTrades", "kind": "status", "status": 429, "retry_after": 1, "count": 1, "after": 2}' >/dev/null
out=$(call "CALL perps_stats.backfill('binance', '{ETH}', '2024-04-08 10:00+00', '2024-04-08 11:00+00', '{trades}')")
mock DELETE faults >/dev/null
got=$(requests binance /fapi/v1/aggTrades | python3 -c '
import sys
rows = [(l.split()[0], float(l.split()[1])) for l in sys.stdin]
rep = [(a, b) for a, b in zip(rows, rows[1:]) if a[0] == b[0]]
print(len(rows), len(rep), all(b[1] - a[1] >= 1.0 for a, b in rep))')
is "$(err "$out")|$got|$(summary binance ETH)" \
   "|5 1 True|2401 2401 2024-04-08 10:00:00.000 2024-04-08 11:00:00.000 96446401 96448801" \
   "binance: a 429 (Retry-After: 1) on the third page is waited out, the request repeated once, the set complete"

# ---- Aster serves Binance's aggTrades (test/mock/venues/aster.py: binance.py's
# generator), so [10:00, 10:30] of 2024-04-08 holds trades 96446401 .. 96446401 +
# 1800000 / 1500 = 96447601 (1201): the window's page of 1000, then one by fromId
# (201): 2 requests in one chunk
q "DELETE FROM perps_stats.backfill_earliest WHERE exchange = 'aster'; SELECT perps_stats.refresh_markets('aster')" >/dev/null
q "DELETE FROM perps_stats.trades t USING perps_stats.markets m, perps_stats.exchanges e
   WHERE m.id = t.market_id AND e.id = m.exchange_id AND e.name = 'aster'" >/dev/null
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('aster', '{BTC}', '2024-04-08 10:00+00', '2024-04-08 10:30+00', '{trades}')")
is "$(err "$out")|$(summary aster BTC)|$(trade aster BTC 96446401)" \
   "|1201 1201 2024-04-08 10:00:00.000 2024-04-08 10:30:00.000 96446401 96447601|2024-04-08 10:00:00.000|60040.10|0.610|buy" \
   "aster: a trades backfill of half an hour stores the 1201 aggregate trades, the first one's values"
is "$(requests aster /fapi/v1/aggTrades | python3 -c '
import json, sys
print(" ".join("id" if "fromId" in json.loads(l.split()[0]) else "window" for l in sys.stdin))')" \
   "window id" "aster: a window page, then one by fromId"

# ---- Paradex: [10:00, 10:20] of 2026-11-17.  Trade seq is at BASE + seq * 250 ms,
# BASE = the payload trade's 1794925924731 - 100000 * 250 = 1794900924731
# (07:35:24.731); 10:00 is 1794909600000: (1794909600000 - 1794900924731) / 250
# = 34701.08, so seq 34702 (at 10:00:00.231) is the first; 10:20 gives
# 39501.08: seq 39501 (10:19:59.981) is the last: 4800 trades, 5 pages of
# 1000, newest first, each with the range and the cursor.
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('paradex', '{BTC}', '2026-11-17 10:00+00', '2026-11-17 10:20+00', '{trades}')")
is "$(err "$out")|$(summary paradex BTC)" \
   "|4800 4800 2026-11-17 10:00:00.231 2026-11-17 10:19:59.981 1794909600231000000000034702 1794910799981000000000039501" \
   "paradex: 4800 trades with their 28-digit ids, from 10:00:00.231 to 10:19:59.981"
# seq 34702: 34702 mod 3 = 1 -> BUY; 1 + 34702 mod 50 = 3 -> 0.003; 34702 mod 40 = 22 -> 97002.2
is "$(trade paradex BTC 1794909600231000000000034702)" "2026-11-17 10:00:00.231|97002.2|0.003|buy" \
   "paradex: the first trade's values"
# seq 36000 (BASE + 9000000 = 1794909924731, 10:05:24.731): divisible by 3 -> SELL; 36000 mod 50 = 0 -> 0.001; mod 40 = 0 -> 97000.0
is "$(trade paradex BTC 1794909924731000000000036000)" "2026-11-17 10:05:24.731|97000.0|0.001|sell" \
   "paradex: a trade from a middle page has its values"
got=$(requests paradex /v1/trades | python3 -c '
import json, sys
rows = [json.loads(l.split()[0]) for l in sys.stdin]
print(len(rows), sum("cursor" in r for r in rows),
      all(r["page_size"] == "1000" and r["start_at"] == "1794909600000" and r["end_at"] == "1794910800000" for r in rows))')
is "$got" "5 4 True" "paradex: 5 requests of 1000, start_at/end_at on each, the cursor from the second on"
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('paradex', '{BTC}', '2026-11-17 10:00+00', '2026-11-17 10:20+00', '{trades}')")
is "$(err "$out")|$(requests paradex /v1/trades | wc -l)|$(summary paradex BTC | cut -d' ' -f1)" "|0|4800" \
   "paradex: a second run asks for nothing"
is "$(curl -s "$MOCK/paradex/v1/trades?market=BTC-USD-PERP&page_size=1001")" \
   '{"error": "VALIDATION_ERROR", "message": "page_size must be between 1 and 1000"}' \
   "mock: paradex refuses a trades page_size over 1000"

# ---- GRVT: [10:00, 10:20] of 2026-11-17 from POST /full/v1/trade_history
# (test/mock/venues/grvt.py: trade n at n x 750 ms, id "<n x 10^7>-1").
# 10:00 is 1794909600000 = 750 x 2393212800, 10:20 is 1600 trades later:
# n = 2393212800 .. 2393214400, 1601 trades, 2 pages of 1000 newest first,
# the range (ns) on both, the cursor on the second.
q "DELETE FROM perps_stats.backfill_earliest WHERE exchange = 'grvt'" >/dev/null
q "UPDATE perps_stats.exchanges SET rest_url = '$MOCK/grvt' WHERE name = 'grvt';
   DELETE FROM perps_stats.trades t USING perps_stats.markets m, perps_stats.exchanges e
   WHERE m.id = t.market_id AND e.id = m.exchange_id AND e.name = 'grvt'" >/dev/null
q "SELECT perps_stats.refresh_markets('grvt')" >/dev/null
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('grvt', '{BTC}', '2026-11-17 10:00+00', '2026-11-17 10:20+00', '{trades}')")
is "$(err "$out")|$(summary grvt BTC)" \
   "|1601 1601 2026-11-17 10:00:00.000 2026-11-17 10:20:00.000 23932128000000000-1 23932144000000000-1" \
   "grvt: 1601 trades with their ids beyond 2^53, from 10:00:00.000 to 10:20:00.000"
# n = 2393212800 = 57 x 41986189 + 27: 97002.7; n mod 40 = 0: 0.001; digit sum 30, divisible by 3: a sell.
# n = 2393213600 (800 later, 10:10:00): 800 = 57 x 14 + 2, so mod 57 = 29: 97002.9; 0.001; digit sum 29: a buy
is "$(trade grvt BTC 23932128000000000-1)|$(trade grvt BTC 23932136000000000-1)" \
   "2026-11-17 10:00:00.000|97002.7|0.001|sell|2026-11-17 10:10:00.000|97002.9|0.001|buy" \
   "grvt: the first trade's and a middle one's values"
got=$(curl -sf "$MOCK/_mock/log?venue=grvt" | python3 -c '
import json, sys
rows = [json.loads(r["body"]) for r in json.load(sys.stdin) if r["path"] == "/full/v1/trade_history"]
print(len(rows), sum("cursor" in r for r in rows),
      all(r["limit"] == 1000 and r["instrument"] == "BTC_USDT_Perp" and r["start_time"] == "1794909600000000000"
          and r["end_time"].startswith("1794910800000") for r in rows))')
is "$got" "2 1 True" "grvt: 2 requests of 1000, start_time/end_time (ns) on each, the cursor on the second"
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('grvt', '{BTC}', '2026-11-17 10:00+00', '2026-11-17 10:20+00', '{trades}')")
is "$(err "$out")|$(curl -sf "$MOCK/_mock/log?venue=grvt" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')|$(summary grvt BTC | cut -d' ' -f1)" \
   "|0|1601" "grvt: a second run asks for nothing"

# ---- venues without trade history refuse, before doing anything (nado's /v2/trades pages
# back by trade id from the newest only)
for V in bybit hyperliquid kucoin lighter nado; do
    mock DELETE log >/dev/null
    out=$(call "CALL perps_stats.backfill('$V', '{BTC}', '2024-03-01 00:00+00', '2024-03-01 01:00+00', '{klines,trades}')")
    is "$(err "$out")|$(curl -sf "$MOCK/_mock/log?venue=$V" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
       "ERROR:  0A000: $V serves no trade history over a time range|0" "$V: a trades backfill fails with feature_not_supported, no request made"
done
is "$(psql -X -q -t -A -v VERBOSITY=verbose -c "CALL perps_stats.backfill('bybit', '{BTC}', '2024-03-01 00:00+00', '2024-03-01 01:00+00', '{trades}')" 2>&1 | grep -E '^DETAIL')" \
   "DETAIL:  Bybit v5 serves only the most recent trades (/v5/market/recent-trade, at most 1000 for linear contracts): no trade history over a time range." \
   "bybit: the error says why"
out=$(psql -X -q -t -A -v VERBOSITY=verbose -c "SELECT * FROM perps_stats.fetch_trades('kucoin', 'BTC', now() - interval '1 hour')" 2>&1 | grep -E '^ERROR')
is "$out" "ERROR:  0A000: kucoin serves no trade history over a time range" "fetch_trades with a time range on kucoin: 0A000"

# ---- since => null: a listing time makes the mock's history start there.
# XRPUSDT listed 2024-04-09 20:00 UTC (1712692800000): its first 1m candle
# opens then and its trade 1 is at that instant; until 21:30 gives 90
# candles and trades 1 .. 3601 (21:30:00.000 = 5400000 ms = 3600 * 1.5 s later).
mock POST config '{"listing": {"binance": {"XRPUSDT": 1712692800000, "LTCUSDT": 1712692800000}}}' >/dev/null
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('binance', '{XRP}', NULL, '2024-04-09 21:30+00', '{klines,trades}', '1m')")
probes=$(requests binance /fapi/v1/klines | grep -c '"limit":"1"')
is "$(err "$out")|$(q "SELECT count(*) || ' ' || min(k.open_time) || ' ' || max(k.open_time) FROM perps_stats.klines k
                         JOIN perps_stats.markets m ON m.id = k.market_id WHERE m.exchange_id = 1 AND m.symbol = 'XRP' AND k.interval = '1m'")" \
   "|90 2024-04-09 20:00:00+00 2024-04-09 21:29:00+00" "since => null: the first stored kline opens at the listing time"
is "$(summary binance XRP)" "3601 3601 2024-04-09 20:00:00.000 2024-04-09 21:30:00.000 1 3601" \
   "since => null: the first stored trade is trade 1, at the listing time"
is "$(q "SELECT string_agg(kind || '/' || \"interval\" || ' ' || to_char(earliest AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ', ' ORDER BY kind)
           FROM perps_stats.backfill_earliest WHERE exchange = 'binance' AND symbol = 'XRP'")|$probes" \
   "klines/1m 2024-04-09 20:00, trades/ 2024-04-09 20:00|2" \
   "the earliest data is remembered for klines and trades, found with 2 one-candle probes (one probe serves both kinds)"
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('binance', '{XRP}', NULL, '2024-04-09 21:30+00', '{klines,trades}', '1m')")
is "$(err "$out")|$(requests binance /fapi/v1/klines | wc -l)|$(requests binance /fapi/v1/aggTrades | wc -l)" "|0|0" \
   "a second since => null run does not probe again, and asks for nothing"
# trades alone probe by themselves (the first 1m candle), and remember it
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('binance', '{LTC}', NULL, '2024-04-09 20:10+00', '{trades}')")
is "$(err "$out")|$(summary binance LTC)|$(requests binance /fapi/v1/klines | grep -c '"limit":"1"')" \
   "|401 401 2024-04-09 20:00:00.000 2024-04-09 20:10:00.000 1 401|2" \
   "since => null for trades alone: probed (2 requests), trades from the listing time"
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('binance', '{LTC}', NULL, '2024-04-09 20:10+00', '{trades}')")
is "$(err "$out")|$(requests binance /fapi/v1/klines | wc -l)|$(requests binance /fapi/v1/aggTrades | wc -l)|$(q "SELECT to_char(earliest AT TIME ZONE 'UTC', 'HH24:MI') FROM perps_stats.backfill_earliest WHERE exchange = 'binance' AND symbol = 'LTC' AND kind = 'trades'")" \
   "|0|0|20:00" "and the second run remembers it: no probe, no request"
mock POST config '{"listing": {}}' >/dev/null


# The history written here goes: the tests that follow in this cluster (the
# lanes of test/run.sh run them in any order) count their own rows.
q "TRUNCATE perps_stats.trades, perps_stats.klines, perps_stats.funding_rates; DELETE FROM perps_stats.backfill_progress; DELETE FROM perps_stats.backfill_empty_ranges;
   DELETE FROM perps_stats.backfill_covered; DELETE FROM perps_stats.backfill_earliest" >/dev/null
tap_done
