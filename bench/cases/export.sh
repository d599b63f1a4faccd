#!/usr/bin/env bash
# The Excel export against the JSON the API answers for the same rows, in
# the same run (bench/run.sh sets PGHOST, PGPORT, PGDATABASE and
# bench_median): BENCH_EXPORT_ROWS ticker rows of one market (18 columns:
# 2 texts, a time, 15 numerics with prices of 4 to 6 significant digits),
#   - xlsx: perps_stats.export_xlsx of the perps_api.tickers rows;
#   - json: json_agg of the same rows, what PostgREST builds for GET /tickers
#     (without HTTP);
#   - csv: COPY of the same rows to the client, the cheapest text export;
#   - http: what GET /rpc/export_xlsx?view=tickers&symbol=BENCHX runs (without
#     HTTP): perps_api.export_xlsx lists the rows' positions, perps_api.xlsx
#     writes the rows at them; and the listing alone.
# Each timed by the client's wall clock, median of BENCH_RUNS runs; ratios
# against json.  Also the workbook's size against the JSON's.
set -uo pipefail

ROWS=${BENCH_EXPORT_ROWS:-100000}
RUNS=${BENCH_RUNS:-5}

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

q >/dev/null <<SQL
SET perps_stats.export_max_rows = $((ROWS + 1));
SELECT perps_stats.create_partitions_for_range('2026-02-01', '2026-02-03');
DELETE FROM perps_stats.tickers WHERE market_id = 9901;
DELETE FROM perps_stats.markets WHERE id = 9901;
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote)
    VALUES (9901, 1, 'BENCHX', 'BENCHXUSDT', 'BENCHX', 'USDT');
INSERT INTO perps_stats.tickers
SELECT 9901, '2026-02-01'::timestamptz + i * interval '1 second',
       100 + i % 1000 / 100.0, 100.01 + i % 997 / 100.0, 100.02, 99.99, i % 50 + 0.5, 100.03, i % 70 + 0.25,
       123456.78, 12345678.9, 5000.5, 500050, 1.25, 0.0125, 110.5, 90.25
  FROM generate_series(0, $ROWS - 1) i;
ANALYZE perps_stats.tickers;
SQL
query="SELECT * FROM perps_api.tickers WHERE symbol = 'BENCHX' ORDER BY ts"
xlsx() { q -c "SET perps_stats.export_max_rows = $((ROWS + 1))" -c "SELECT length(perps_stats.export_xlsx(ARRAY[\$q\$$query\$q\$]))"; }
json() { q -c "SELECT length(json_agg(t)::text) FROM ($query) t"; }
csv() { q -c "COPY ($query) TO STDOUT WITH (FORMAT csv, HEADER)" > /dev/null; }
http() { q -c "SET perps_stats.export_max_rows = $((ROWS + 1))" \
           -c "SELECT length(perps_api.xlsx(r)) FROM perps_api.export_xlsx('tickers', symbol => 'BENCHX') r"; }
positions() { q -c "SET perps_stats.export_max_rows = $((ROWS + 1))" \
                -c "SELECT count(*) FROM perps_api.export_xlsx('tickers', symbol => 'BENCHX')"; }

t_json=$(bench_median "$RUNS" json)
t_xlsx=$(bench_median "$RUNS" xlsx)
t_csv=$(bench_median "$RUNS" csv)
t_http=$(bench_median "$RUNS" http)
t_pos=$(bench_median "$RUNS" positions)
# the same rows in a sheet of the same name: a workbook of the same size
named=$(q -c "SET perps_stats.export_max_rows = $((ROWS + 1))" \
          -c "SELECT length(perps_stats.export_xlsx(ARRAY[\$q\$$query\$q\$], ARRAY['tickers']))" | tail -1)
[ "$(http | tail -1)" = "$named" ] && same=yes || same=NO
size_xlsx=$(xlsx | tail -1)
size_json=$(json)
echo "rows: $ROWS tickers of one market, medians of $RUNS runs (client wall clock)"
printf 'json_agg (baseline)     %8.1f ms  %10d bytes\n' "$t_json" "$size_json"
printf 'export_xlsx             %8.1f ms  %10d bytes  time x%.2f of json, size x%.2f\n' \
    "$t_xlsx" "$size_xlsx" "$(echo "$t_xlsx / $t_json" | bc -l)" "$(echo "$size_xlsx / $size_json" | bc -l)"
printf 'COPY csv                %8.1f ms                  time x%.2f of json\n' "$t_csv" "$(echo "$t_csv / $t_json" | bc -l)"
printf 'export_xlsx per row     %8.2f us\n' "$(echo "$t_xlsx * 1000 / $ROWS" | bc -l)"
printf 'HTTP path (positions + xlsx) %5.1f ms  time x%.2f of export_xlsx; the same workbook size: %s\n' \
    "$t_http" "$(echo "$t_http / $t_xlsx" | bc -l)" "$same"
printf 'positions listed alone  %8.1f ms  %.2f us a position\n' "$t_pos" "$(echo "$t_pos * 1000 / $ROWS" | bc -l)"
q -c "DELETE FROM perps_stats.tickers WHERE market_id = 9901" -c "DELETE FROM perps_stats.markets WHERE id = 9901" >/dev/null
