#!/usr/bin/env bash
# The dashboard page (README "Dashboard"): what serving it costs PostgREST,
# and what a whole page load costs a browser, each next to a baseline
# measured in the same run:
#   - GET /rpc/dashboard, GET /rpc/dashboard_asset?name=uPlot.iife.min.js
#     (51 kB) against GET /exchanges?limit=1 (a trivial view), interleaved,
#     BENCH_DASH_REQUESTS each, curl's time_total, medians;
#   - chromium headless loading the page until its data is drawn
#     (--dump-dom) against chromium loading about:blank, BENCH_DASH_LOADS
#     each, medians (chromium's own start is in both).
# Over the four venues collect() fills from the mock exchange.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
U=${PERPS_POSTGREST_URL:?PostgREST is not running (test/services/postgrest.sh)}
: "${PERPS_MOCK_URL:?the mock exchange is not running}"
N=${BENCH_DASH_REQUESTS:-200}
LOADS=${BENCH_DASH_LOADS:-5}
command -v chromium >/dev/null || { echo "no chromium (scripts/deps.sh installs it)"; exit 1; }

psql -X -q -t -A -v ON_ERROR_STOP=1 -v mock_url="$PERPS_MOCK_URL" >/dev/null <<'SQL' || exit 1
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/' || coalesce(adapter, name),
       aux_url = CASE WHEN aux_url IS NULL THEN NULL ELSE :'mock_url' || '/' || coalesce(adapter, name) || '/aux' END;
SELECT perps_stats.refresh_markets(name) FROM perps_stats.exchanges WHERE name IN ('binance', 'bybit', 'hyperliquid', 'kucoin');
SELECT count(*) FROM perps_stats.collect('{binance,bybit,hyperliquid,kucoin}', '{BTC}');
NOTIFY pgrst, 'reload schema';
SQL
sleep 1

median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.3f\n", m}'; }
t() { curl -s -o /dev/null -w '%{time_total}\n' -H "Accept: $1" "$U$2" | awk '{printf "%.3f\n", $1 * 1000}'; }
: > "$PERPS_RUN/dash.base"; : > "$PERPS_RUN/dash.page"; : > "$PERPS_RUN/dash.lib"
for ((i = 0; i < N; i++)); do
    t 'application/json' '/exchanges?limit=1' >> "$PERPS_RUN/dash.base"
    t 'text/html' '/rpc/dashboard' >> "$PERPS_RUN/dash.page"
    t '*/*' '/rpc/dashboard_asset?name=uPlot.iife.min.js' >> "$PERPS_RUN/dash.lib"
done
base=$(median < "$PERPS_RUN/dash.base")
page=$(median < "$PERPS_RUN/dash.page")
lib=$(median < "$PERPS_RUN/dash.lib")
echo "GET /exchanges?limit=1 (baseline)                     median $base ms over $N"
echo "GET /rpc/dashboard                                    median $page ms  ($(awk -v a="$page" -v b="$base" 'BEGIN {printf "%.2f", a / b}')x the baseline)"
echo "GET /rpc/dashboard_asset?name=uPlot.iife.min.js       median $lib ms  ($(awk -v a="$lib" -v b="$base" 'BEGIN {printf "%.2f", a / b}')x the baseline)"

chrome() {
    local t0 t1
    t0=$(date +%s%N)
    timeout 60 chromium --headless=new --no-sandbox --disable-gpu --no-first-run --virtual-time-budget=5000 \
        --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' --user-data-dir="$PERPS_RUN/chromium" \
        --dump-dom "$1" > "$PERPS_RUN/dash.dom" 2>/dev/null
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}
: > "$PERPS_RUN/dash.blank"; : > "$PERPS_RUN/dash.load"
for ((i = 0; i < LOADS; i++)); do
    chrome about:blank >> "$PERPS_RUN/dash.blank"
    chrome "$U/rpc/dashboard#symbol=BTC" >> "$PERPS_RUN/dash.load"
    grep -q '"loads":1' "$PERPS_RUN/dash.dom" || echo "(load $i: the page did not record its series)"
done
blank=$(median < "$PERPS_RUN/dash.blank" | awk '{printf "%.0f", $1}')
load=$(median < "$PERPS_RUN/dash.load" | awk '{printf "%.0f", $1}')
echo "chromium headless, about:blank (baseline)             median $blank ms over $LOADS"
echo "chromium headless, the dashboard drawn                median $load ms  ($(awk -v a="$load" -v b="$blank" 'BEGIN {printf "%.2f", a / b}')x the baseline, +$(awk -v a="$load" -v b="$blank" 'BEGIN {printf "%.0f", a - b}') ms)"
