#!/usr/bin/env bash
# perps_stats.backfill of tradexyz (the Hyperliquid HIP-3 DEX xyz, served by the
# hyperliquid adapter with adapter_param 'xyz') against the mock Hyperliquid:
# klines and funding history of XYZ100 through the same adapter, with the
# hyperliquid adapter's page sizes, stored under the tradexyz market.  Expected
# rows read off test/payloads/hyperliquid/fetchOHLCV.candleSnapshot.xyz.json and
# fetchFundingRateHistory.fundingHistory.xyz.json by hand.  TAP.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

url0=$(q "SELECT rest_url FROM perps_stats.exchanges WHERE name = 'tradexyz'")
q "UPDATE perps_stats.exchanges SET rest_url = '$PERPS_MOCK_URL/hyperliquid' WHERE name = 'tradexyz'" >/dev/null

out=$(psql -X -q -t -A -v ON_ERROR_STOP=1 -c "CALL perps_stats.backfill('tradexyz', '{XYZ100}',
          '2026-12-06 11:00+00', '2026-12-06 13:00+00', '{klines,funding_rates}', '1h')" 2>&1 >/dev/null | grep -E '^(ERROR|FATAL)')
is "$out" "" "backfill tradexyz XYZ100, klines 1h and funding, 11:00 to 13:00: no error"

mk="(SELECT m.id FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
      WHERE e.name = 'tradexyz' AND m.symbol = 'XYZ100' AND m.native_symbol = 'xyz:XYZ100')"
# the 11:00 and 12:00 candles of the payload (open, high, low, close, volume, trades)
is "$(q "SET TimeZone = 'UTC'; SELECT string_agg(to_char(open_time, 'HH24:MI') || ' ' || open || ' ' || high || ' ' || low || ' '
                                  || close || ' ' || volume || ' ' || trade_count, ', ' ORDER BY open_time)
          FROM perps_stats.klines WHERE market_id = $mk AND interval = '1h' AND open_time < '2026-12-06 13:00+00'")" \
   "11:00 25061.5 25097.5 25049.0 25088.0 312.4418 1873, 12:00 25088.0 25110.0 25071.0 25079.5 287.0093 1604" \
   "the XYZ100 candles of the range, exact, under the tradexyz market"
# the funding rows of 11:00:00.031 and 12:00:00.118 (10:00:00.019 is before the range)
is "$(q "SET TimeZone = 'UTC'; SELECT string_agg(to_char(funding_time, 'HH24:MI:SS.MS') || ' ' || rate, ', ' ORDER BY funding_time)
          FROM perps_stats.funding_rates WHERE market_id = $mk AND funding_time < '2026-12-06 13:00+00'")" \
   "11:00:00.031 0.00000625, 12:00:00.118 -0.0000014892" "the XYZ100 funding rows of the range, exact"
is "$(q "SELECT count(*) FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
          WHERE e.name = 'hyperliquid' AND m.symbol = 'XYZ100'")" "0" "nothing of the DEX reached the main hyperliquid venue"

# put back what was changed (rows under the tradexyz market are this test's only)
out=$(qs "DELETE FROM perps_stats.klines WHERE market_id = $mk;
   DELETE FROM perps_stats.funding_rates WHERE market_id = $mk;
   DELETE FROM perps_stats.backfill_progress WHERE exchange = 'tradexyz';
   DELETE FROM perps_stats.backfill_earliest WHERE exchange = 'tradexyz';
   DELETE FROM perps_stats.backfill_empty_ranges WHERE exchange = 'tradexyz';
   DELETE FROM perps_stats.backfill_covered WHERE exchange = 'tradexyz';
   DELETE FROM perps_stats.ingest_events WHERE exchange_id = 13 OR market_id = $mk;
   DELETE FROM perps_stats.markets WHERE exchange_id = 13;
   UPDATE perps_stats.exchanges SET rest_url = '$url0' WHERE name = 'tradexyz';
   SELECT rest_url FROM perps_stats.exchanges WHERE name = 'tradexyz';")
is "$out" "$url0" "the test's rows removed, tradexyz's URL put back"

tap_done
