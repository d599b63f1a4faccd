#!/usr/bin/env bash
# collect(): one snapshot round over the 13 venues x 20 symbols (260 markets, 4
# kinds each: ticker, open interest, funding, order book) against the mock
# exchange answering every request 100 ms late (bench/run.sh sets PGHOST,
# PGPORT, PGDATABASE and PERPS_MOCK_URL).  The mock's bench_markets switch
# makes every venue list and answer for the 20 BENCH_SYMBOLS of
# test/mock/mock_exchange.py.
#
# (a) Concurrency.  Rate limits raised for the mock (rate_limit_weight
#     1000000 per 1000 ms: never binding).  The round's wall time at the
#     default perps_stats.http_max_concurrency (64, also its maximum) and at 16
#     against the same round with http_max_concurrency = 1, measured in
#     the same run: truly sequential, so its wall time is the sum of its
#     requests' times (plus the same writing work).  Target: under 5 %.
#
# (b) Real limits: each adapter's documented limit (LIMITS below mirrors
#     src/venues/*.c, as WEIGHTS does their request weights).  The limit
#     is one strict sliding window per venue, shared by the cluster
#     (src/ratelimit.h): no more than W weight in any window.  A venue
#     whose round weighs S <= W sends it all at once; one with S > W must
#     wait for the window, ceil(S / W) - 1 windows in all.  Nor can the
#     round be faster than the same round unthrottled (the concurrent round
#     of (a) at the same concurrency).  So the least the limits allow is
#         max(max over venues (ceil(S / W) - 1) * window + LATENCY (100 ms),
#             the unthrottled round).
#     (Parsing and writing the results after the last answer are not counted:
#     the limits do not impose them, and the measured round includes them.)
#     The collector runs a round a minute, so each of its rounds finds the
#     window of the last one gone.  Each run here starts the same way: it
#     sets each venue's limit to the adapter's with the window 1 ms longer
#     than the run before (a changed limit starts its account afresh), not
#     waiting a minute between runs.  Target: the measured round within
#     1.2x of the least.
#
# Figures are medians of BENCH_RUNS runs (default 3); the load average of
# the machine is printed before and after (the benchmark shares 2 cores).
set -uo pipefail

RUNS=${BENCH_RUNS:-3}
M=${PERPS_MOCK_URL:?the mock exchange is not running}
TMP=$(mktemp -d /tmp/perps_bench_collect.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
mock() { curl -sf -X "$1" "$M/_mock/$2" ${3:+-d "$3"} >/dev/null; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR == 0) {print "NaN"; exit} m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.0f\n", m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"

# setup without latency: the collector worker stopped (its rounds would mix
# with ours), the exchanges pointed at the mock, the watchlist = every venue x 20
mock POST config '{"latency_ms": 0, "bench_markets": true}' || { echo "mock config failed"; exit 1; }
q -c "ALTER SYSTEM SET perps_stats.collect_interval = 0" -c "SELECT pg_reload_conf()" >/dev/null
SYMS=$(python3 -c "import sys; sys.path.insert(0, 'test/mock'); import mock_exchange as m; print(','.join(m.BENCH_SYMBOLS))")
q <<SQL || { echo "setup failed"; exit 1; }
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_collect_exchanges, bench_collect_watchlist;
CREATE TABLE bench_collect_exchanges AS
    SELECT name, rest_url, aux_url, enabled, rate_limit_weight, rate_limit_window_ms FROM perps_stats.exchanges;
CREATE TABLE bench_collect_watchlist AS SELECT * FROM perps_stats.watchlist;
-- a venue on two hosts (nado) has its second one under .../<venue>/aux in the mock
UPDATE perps_stats.exchanges SET rest_url = '$M/' || coalesce(adapter, name), enabled = true,
       aux_url = CASE WHEN aux_url IS NULL THEN NULL ELSE '$M/' || coalesce(adapter, name) || '/aux' END,
       rate_limit_weight = NULL, rate_limit_window_ms = NULL;
DELETE FROM perps_stats.watchlist;
-- every venue, the HIP-3 DEX tradexyz too (its mock lists xyz:<SYM> for the BENCH_SYMBOLS;
-- its requests go to the hyperliquid mock and count in hyperliquid's account, as they do live)
INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream)
SELECT e.name, s, true, false FROM perps_stats.exchanges e, unnest('{$SYMS}'::text[]) s;
SQL
for v in $(q -c "SELECT name FROM perps_stats.exchanges ORDER BY name"); do
    q -c "SELECT perps_stats.refresh_markets('$v')" >/dev/null || { echo "refresh_markets $v failed"; exit 1; }
done
nm=$(q -c "SELECT count(*) FROM perps_stats.watchlist w JOIN perps_stats.exchanges e ON e.name = w.exchange
           JOIN perps_stats.markets m ON m.exchange_id = e.id AND m.symbol = w.symbol")
echo "watchlist: $(q -c "SELECT count(DISTINCT exchange) || ' venues x ' || count(DISTINCT symbol) || ' symbols' FROM perps_stats.watchlist"), $nm of them in perps_stats.markets"
mock POST config '{"latency_ms": 100}'

# round SETTINGS LABEL: one collect() in a new session; appends
# "ms ok_kinds all_kinds requests" to $TMP/LABEL and keeps the request log
round() {
    local out ms rows n
    mock DELETE log
    out=$(q -c "$1" -c '\timing on' \
            -c "SELECT count(*) FILTER (WHERE error IS NULL) || ' ' || count(*) FROM perps_stats.collect()" 2>&1)
    ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -1)
    rows=$(grep -v '^Time' <<<"$out" | tail -1)
    curl -sf "$M/_mock/log" >"$TMP/$2.log.json"
    n=$(python3 -c "import json, sys; print(len(json.load(open(sys.argv[1]))))" "$TMP/$2.log.json")
    echo "${ms:-NaN} $rows $n" >>"$TMP/$2"
}
col() { awk -v c="$1" '{print $c}' "$TMP/$2"; }
show() {    # label text: per-run figures
    printf '  %-44s runs (ms): %s   kinds ok: %s   requests: %s\n' "$2" \
        "$(col 1 "$1" | tr '\n' ' ')" "$(awk '{printf "%s/%s ", $2, $3}' "$TMP/$1")" "$(col 4 "$1" | sort -u | tr '\n' ' ')"
}

# ---- (a) limits raised for the mock ----
q -c "UPDATE perps_stats.exchanges SET rate_limit_weight = 1000000, rate_limit_window_ms = 1000" >/dev/null
round "SET perps_stats.http_max_concurrency = 16" warmup     # connections, caches
for ((i = 0; i < RUNS; i++)); do
    round "SET perps_stats.http_max_concurrency = 16" a16
    round "SET perps_stats.http_max_concurrency = 64" a64
    # BENCH_COLLECT_SEQUENTIAL=0 leaves the sequential round out (a quicker look at (b))
    [ "${BENCH_COLLECT_SEQUENTIAL:-1}" = 0 ] || round "SET perps_stats.http_max_concurrency = 1" a1
done
touch "$TMP/a1"
a16=$(median $(col 1 a16)); a64=$(median $(col 1 a64)); a1=$(median $(col 1 a1))
echo
echo "-- (a) rate limits raised: concurrent round vs the same round sequential (median of $RUNS)"
show a1 "sequential (http_max_concurrency = 1)"
show a16 "concurrent (http_max_concurrency = 16)"
show a64 "concurrent (http_max_concurrency = 64)"
printf '  %-44s %8s ms\n' "sequential round (sum of its requests)" "$a1"
printf '  %-44s %8s ms   %s %% of sequential (target < 5 %%)\n' \
    "concurrent round, 16 at a time" "$a16" "$(awk -v a="$a16" -v b="$a1" 'BEGIN {printf "%.1f", 100 * a / b}')" \
    "concurrent round, 64 at a time (the default)" "$a64" "$(awk -v a="$a64" -v b="$a1" 'BEGIN {printf "%.1f", 100 * a / b}')"

# ---- (b) the venues' real limits ----
# each adapter's limit: venue, weight, window ms (as in src/venues/*.c)
LIMITS="binance 2400 60000
bybit 600 5000
hyperliquid 1200 60000
kucoin 2000 30000
lighter 24000 60000
paradex 1500 60000
aster 2400 60000
grvt 600 60000
hibachi 10 1000
nado 400 10000
extended 1000 60000
pacifica 125 60000"
for ((i = 0; i < RUNS; i++)); do
    # an empty window, as each collector round a minute after the last finds it
    while read -r v w win; do
        q -c "UPDATE perps_stats.exchanges SET rate_limit_weight = $w, rate_limit_window_ms = $((win + i + 1)) WHERE name = '$v'" >/dev/null
    done <<<"$LIMITS"
    round "RESET perps_stats.http_max_concurrency" b16     # the default, 64
done
b16=$(median $(col 1 b16))
echo
echo "-- (b) the adapters' own limits, each round from an empty window: round vs the least the limits allow (median of $RUNS)"
show b16 "round (http_max_concurrency: the default, 64)"
LIMITS=$LIMITS python3 - "$TMP/b16.log.json" "$b16" "$a64" <<'PY'
import json, os, re, sys

log, measured, tail = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3])
LIMITS = {v: (int(w), int(win)) for v, w, win in (l.split() for l in os.environ["LIMITS"].splitlines())}
BN_DEPTH = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}
def weight(r):
    v, p, qs = r["venue"], r["path"], r["query"]
    if v == "binance":
        if p == "/fapi/v1/depth":
            return BN_DEPTH[int(qs.get("limit", 500))]
        return {"/fapi/v1/ticker/bookTicker": 2}.get(p, 1) if "symbol" in qs else \
            {"/fapi/v1/ticker/24hr": 40, "/fapi/v1/premiumIndex": 10, "/fapi/v1/ticker/bookTicker": 5}.get(p, 1)
    if v == "aster":        # Aster's fapi v1 weights: depth as Binance's, each per-symbol call 1
        return BN_DEPTH[int(qs.get("limit", 500))] if p == "/fapi/v1/depth" else 1
    if v == "hyperliquid":
        return 2 if json.loads(r["body"] or "{}").get("type") == "l2Book" else 20
    if v == "kucoin":
        for pat, w in ((r"/api/v1/contracts/", 3), (r"/api/v1/ticker", 2), (r"/api/v1/level2/snapshot", 3),
                       (r"/api/v1/level2/depth20", 5), (r"/api/v1/level2/depth100", 10),
                       (r"/api/v1/funding-rate/", 2), (r"/api/v1/allTickers", 5)):
            if p.startswith(pat):
                return w
        return 3
    if v == "lighter":
        return 600 if p == "/api/v1/recentTrades" else 400
    if v == "grvt":         # GRVT publishes no weights: each POST 1 of the adapter's 600 a minute
        return 1
    if v == "nado":         # docs.nado.xyz rate limits; /v1/symbols and /v2/* chosen (src/venues/nado.c)
        if p == "/v1/query":
            return {"symbols": 2, "market_liquidity": 1}.get(qs.get("type"), 1)
        if p == "/aux/v1":
            b = json.loads(r["body"] or "{}")
            if "candlesticks" in b:
                return 1 + int(b["candlesticks"].get("limit", 100)) // 20
            if "market_snapshots" in b:
                return max(int(b["market_snapshots"]["interval"]["count"]) // 100, 2)
            return 2
        if p == "/aux/v2/trades":
            return 1 + int(qs.get("limit", 100)) // 20
        return 2
    if v == "pacifica":     # docs.pacifica.fi "Rate limits": standard 1; the history GETs taken as heavy (12)
        return 12 if p in ("/api/v1/kline", "/api/v1/funding_rate/history") else 1
    return 1                # paradex; hibachi, extended (1000 a minute per IP): every request 1
per = {}
for r in log:
    n, s, paths = per.get(r["venue"], (0, 0, {}))
    key = re.sub(r"/[A-Z0-9]+(USDTM|-USD-PERP|-USD)\b", "/{symbol}", r["path"])
    if r["venue"] == "hyperliquid":
        key += " " + json.loads(r["body"] or "{}").get("type", "")
    if r["venue"] == "nado" and r["path"] in ("/v1/query", "/aux/v1"):
        key += " " + (r["query"].get("type") or ",".join(json.loads(r["body"] or "{}")))
    paths[key] = paths.get(key, 0) + 1
    per[r["venue"]] = (n + 1, s + weight(r), paths)
least = 0.0
print("  %-12s %8s %8s %14s %16s   %s" % ("venue", "requests", "weight", "limit", "windows waited", "requests by path"))
for v in sorted(per):
    n, s, paths = per[v]
    w, win = LIMITS[v]
    windows = -(-s // w) - 1
    least = max(least, windows * win)
    print("  %-12s %8d %8d %8d/%-5.0fs %16d   %s" % (v, n, s, w, win / 1000, windows,
          ", ".join("%s x%d" % kv for kv in sorted(paths.items()))))
# the binding venue's requests as the mock received them: the start of each
# window's wave after the round's first request (where the time beyond the
# least goes)
t0 = min(r["t"] for r in log)
bind = max(per, key=lambda v: (-(-per[v][1] // LIMITS[v][0]), per[v][1] / LIMITS[v][0]))
ts = sorted(r["t"] - t0 for r in log if r["venue"] == bind)
waves, cut = [], None
for t in ts:
    if cut is None or t >= cut:
        waves.append([t, 0])
        cut = t + LIMITS[bind][1] / 2000.0
    waves[-1][1] += 1
print("  %s's requests by wave (s after the round's first request: count): %s; its last answer %.2f s"
      % (bind, ", ".join("%.2f: %d" % (a, n) for a, n in waves), ts[-1] + 0.1 if ts else 0))
print("  the round's last request at %.2f s" % (max(r["t"] for r in log) - t0))
if ts:
    early = {}
    for r in log:
        if r["t"] - t0 < ts[0]:
            early[r["venue"] + " " + r["path"]] = early.get(r["venue"] + " " + r["path"], 0) + 1
    print("  before %s's first request: %s" % (bind, ", ".join("%s x%d" % kv for kv in sorted(early.items())) or "none"))
    late = {}
    for r in log:
        if r["t"] - t0 > ts[-1]:
            k = r["venue"] + " " + r["path"] + (" " + r["body"][:60] if r["body"] else "")
            late[k] = late.get(k, 0) + 1
    print("  after %s's last request: %s" % (bind, ", ".join("%s x%d" % kv for kv in sorted(late.items())) or "none"))
LATENCY = 100
least = max(least + LATENCY, tail)
print("  %-44s %8.0f ms  (max(the windows waited + %d ms, the unthrottled round %.0f ms))" % (
      "least the limits allow", least, LATENCY, tail))
print("  %-44s %8.0f ms   %.2fx the least (target <= 1.2x)" % ("measured round", measured, measured / least))
PY
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# leave the cluster as we found it (the rows collected stay)
mock POST config '{"latency_ms": 0, "bench_markets": false}'
q <<SQL >/dev/null
UPDATE perps_stats.exchanges e SET rest_url = b.rest_url, aux_url = b.aux_url, enabled = b.enabled,
       rate_limit_weight = b.rate_limit_weight, rate_limit_window_ms = b.rate_limit_window_ms
  FROM bench_collect_exchanges b WHERE b.name = e.name;
DELETE FROM perps_stats.watchlist;
INSERT INTO perps_stats.watchlist SELECT * FROM bench_collect_watchlist;
DROP TABLE bench_collect_exchanges, bench_collect_watchlist;
SQL
q -c "ALTER SYSTEM RESET perps_stats.collect_interval" -c "SELECT pg_reload_conf()" >/dev/null
