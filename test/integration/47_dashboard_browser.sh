#!/usr/bin/env bash
# The dashboard page (issue 21) in a real browser: Debian's chromium,
# headless, loads /rpc/dashboard from the test PostgREST over data collected
# from the mock exchange (as `make demo OFFLINE=1` collects it: collect()
# against every venue of test/payloads) plus a few rows written here, lets
# the page run 12 s of virtual time (one refresh at 10 s), and dumps the
# DOM.  Each chart's series, as the page recorded them in #perps-series and
# as uPlot holds them, must equal what the same API requests answer when
# asked here with curl; some of them must equal figures worked out by hand.
# The page may reach nothing but 127.0.0.1: chromium resolves no other host,
# and the page says so in its Content-Security-Policy.  A screenshot is
# saved as $PERPS_RUN/dashboard.png.  Prints TAP.
#
# The test empties the tables before and after (as 40_postgrest.sh does) and
# puts the venues' URLs back as it found them.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/postgrest.sh"

U=${PERPS_POSTGREST_URL:?PostgREST is not running (test/services/postgrest.sh)}
: "${PERPS_POSTGREST_LOG:?}" "${PERPS_MOCK_URL:?the mock exchange is not running (test/services/mock.sh)}"
RUN=${PERPS_RUN:?}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$RUN/dashboard
mkdir -p "$OUT"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "Bail out! no chromium: scripts/deps.sh installs Debian's"; exit 1; }

empty_tables() {
    q "TRUNCATE perps_stats.markets, perps_stats.ingest_events, perps_stats.tickers, perps_stats.orderbooks,
        perps_stats.trades, perps_stats.funding_rates, perps_stats.open_interest, perps_stats.klines,
        perps_stats.liquidity_depth, perps_stats.slippage" >/dev/null
}
# the venues' URLs as they were, put back at the end
saved_urls=$(q "SELECT string_agg(format('(%L, %L, %L)', name, rest_url, aux_url), ',') FROM perps_stats.exchanges")
finish() {
    empty_tables
    q "UPDATE perps_stats.exchanges e SET rest_url = v.r, aux_url = v.a
         FROM (VALUES $saved_urls) v(n, r, a) WHERE e.name = v.n" >/dev/null
}
trap finish EXIT
empty_tables || { echo "Bail out! could not empty the tables"; exit 1; }

# --- data: two collect rounds from the mock, and rows written by hand ------
setup=$(psql -X -q -t -A -v ON_ERROR_STOP=1 -v mock_url="$PERPS_MOCK_URL" 2>&1 <<'SQL'
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/' || coalesce(adapter, name),
       aux_url = CASE WHEN aux_url IS NULL THEN NULL ELSE :'mock_url' || '/' || coalesce(adapter, name) || '/aux' END;
SELECT perps_stats.create_partitions_for_range(current_date - 3, current_date + 1) IS NOT NULL;
SELECT sum(perps_stats.refresh_markets(name)) > 0 FROM perps_stats.exchanges WHERE name IN ('binance', 'bybit', 'hyperliquid', 'kucoin');
SELECT count(*) > 0 FROM perps_stats.collect('{binance,bybit,hyperliquid,kucoin}', '{BTC,ETH}');
SELECT pg_sleep(0.05);
SELECT count(*) > 0 FROM perps_stats.collect('{binance,bybit,hyperliquid,kucoin}', '{BTC}');
-- funding: two settlements by hand (the rates are exact decimals the chart must keep)
INSERT INTO perps_stats.funding_rates (market_id, funding_time, rate, interval_hours)
SELECT m.id, date_trunc('hour', now()) - interval '8 hours', v.rate, 8
  FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
  JOIN (VALUES ('binance', 0.000123456789012345678), ('bybit', -0.0000500000000000001)) v(ex, rate) ON v.ex = e.name
 WHERE m.symbol = 'BTC';
-- events: a gap on binance BTC an hour ago, a reconnect of bybit's stream
-- (no market) two hours ago; one on ETH and one two days old are not BTC's
-- last 24 hours
INSERT INTO perps_stats.ingest_events (ts, exchange_id, market_id, source, kind, message)
SELECT now() - interval '1 hour', NULL, m.id, 'stream', 'gap', 'seq 41 -> 44'
  FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = 'binance' AND m.symbol = 'BTC'
UNION ALL
SELECT now() - interval '2 hours', (SELECT id FROM perps_stats.exchanges WHERE name = 'bybit'), NULL, 'stream', 'reconnect', 'closed by the venue'
UNION ALL
SELECT now() - interval '30 minutes', NULL, m.id, 'stream', 'gap', 'not BTC'
  FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = 'binance' AND m.symbol = 'ETH'
UNION ALL
SELECT now() - interval '2 days', (SELECT id FROM perps_stats.exchanges WHERE name = 'bybit'), NULL, 'stream', 'reconnect', 'too old';
SQL
)
[ $? -eq 0 ] || { echo "Bail out! could not load the data: $setup"; exit 1; }
pgrst_reload /rpc/health || { echo "Bail out! PostgREST did not reload its schema cache"; exit 1; }

# --- the page over HTTP -------------------------------------------------------
hdr=$(curl -s -m 10 -D - -o "$OUT/page.html" -H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8' "$U/rpc/dashboard" | tr -d '\r')
is "$(sed -n 's/^Content-Type: //Ip' <<<"$hdr")" 'text/html' "GET /rpc/dashboard as a browser asks: text/html"
is "$(sed -n 's/^Content-Security-Policy: //Ip' <<<"$hdr")" \
   "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" \
   "the page may load and fetch from its own origin only"
# every src and href of the page is relative (no scheme, no //host)
is "$(grep -oE '(src|href)="[^"]*"' "$OUT/page.html" | grep -vE '^(src|href)="dashboard_asset\?name=[A-Za-z.]+"$' | paste -sd' ')" "" \
   "the page's src and href are all dashboard_asset?name=... (relative)"
# browsers ask for scripts with Accept: */*: the any handler answers with the file's type
hdr=$(curl -s -m 10 -D - -o "$OUT/uPlot.js" -H 'Accept: */*' "$U/rpc/dashboard_asset?name=uPlot.iife.min.js" | tr -d '\r')
is "$(sed -n 's/^Content-Type: //Ip' <<<"$hdr") $(cmp -s "$OUT/uPlot.js" "$ROOT/build/dashboard/node_modules/uplot/dist/uPlot.iife.min.js" && echo same)" \
   "text/javascript; charset=utf-8 same" "the library with Accept: */*: text/javascript, the bytes npm installed"
hdr=$(curl -s -m 10 -D - -o /dev/null -H 'Accept: text/css,*/*;q=0.1' "$U/rpc/dashboard_asset?name=dashboard.css" | tr -d '\r')
is "$(sed -n 's/^Content-Type: //Ip' <<<"$hdr")" 'text/css; charset=utf-8' "the style sheet as text/css"

# --- the browser ----------------------------------------------------------------
# Every host but 127.0.0.1 resolves to nothing: a request to the internet fails.
chrome() {
    timeout 60 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
        --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' --window-size=1400,1800 \
        --user-data-dir="$OUT/profile" "$@" 2>>"$OUT/chromium.log"
}
t0=$SECONDS
chrome --virtual-time-budget=12000 --dump-dom "$U/rpc/dashboard#symbol=BTC" > "$OUT/dom.html"
is "$?" 0 "chromium loads the page and dumps its DOM ($((SECONDS - t0)) s)"
chrome --virtual-time-budget=3000 --screenshot="$RUN/dashboard.png" "$U/rpc/dashboard#symbol=BTC" >/dev/null
is "$(head -c 8 "$RUN/dashboard.png" 2>/dev/null | od -An -tx1 | tr -d ' \n') $([ "$(stat -c %s "$RUN/dashboard.png" 2>/dev/null || echo 0)" -gt 20000 ] && echo big)" \
   "89504e470d0a1a0a big" "a screenshot, $RUN/dashboard.png (a PNG of more than 20 kB)"

# --- the DOM against the API ----------------------------------------------------
# check.py prints TAP lines without numbers ("ok - ..." / "not ok - ..."),
# numbered here.
PYCHECK=$(cat <<'PY'
import html, json, re, subprocess, sys
from decimal import Decimal
from datetime import datetime

U, dom_file = sys.argv[1], sys.argv[2]
dom = open(dom_file, encoding="utf-8").read()
out = []
def check(cond, desc, got=None, exp=None):
    out.append(("ok - " if cond else "not ok - ") + desc)
    if not cond:
        out.append("#      got: %s" % (got,))
        out.append("# expected: %s" % (exp,))

m = re.search(r'<pre id="perps-series"[^>]*>(.*?)</pre>', dom, re.S)
rec = json.loads(html.unescape(m.group(1))) if m and m.group(1) else {}
check(bool(rec), "the page recorded its series in #perps-series")
if not rec:
    print("\n".join(out)); sys.exit(0)
status = re.search(r'<span id="status"[^>]*>(.*?)</span>', dom, re.S)
check(status is not None and status.group(1).startswith("BTC, updated "), "status line: BTC, updated",
      status and status.group(1))
check(rec["symbol"] == "BTC" and rec["loads"] >= 2, "symbol BTC from the URL, loaded again by the 10 s refresh",
      (rec["symbol"], rec["loads"]), ("BTC", ">= 2"))

# the API, asked here the same way: numbers kept as their decimal text
class Text(str): pass
def api(path):
    body = subprocess.run(["curl", "-s", "-m", "10", "-H", "Accept: application/json", U + "/" + path],
                          capture_output=True, text=True).stdout
    return json.loads(body, parse_float=Text, parse_int=Text)
def t(v): return None if v is None else str(v)
def secs(iso): return datetime.fromisoformat(iso).timestamp()

def series_of(section):
    # the legend labels uPlot drew in the chart's section
    sec = re.search(r'<section[^>]*id="%s".*?</section>' % section, dom, re.S).group(0)
    return sec, re.findall(r'<tr class="u-series[^"]*"><th><div class="u-marker"[^>]*></div><div class="u-label">([^<]*)</div>', sec)[1:]

def compare(name, x, groups):
    c = rec["charts"][name]
    sec, legend = series_of(name)
    check("<canvas" in sec and 'class="uplot' in sec, name + ": uPlot drew a canvas")
    exp_labels = [g[0] for g in groups]
    check([s["label"] for s in c["series"]] == exp_labels, name + ": one series per " + ("venue and side" if name == "slippage" else "venue"),
          [s["label"] for s in c["series"]], exp_labels)
    check(legend == exp_labels, name + ": the chart's legend names them", legend, exp_labels)
    ex = [v if isinstance(v, str) else float(v) for v in x]
    gx = [v if isinstance(ex[0] if ex else 0, str) else float(v) for v in c["x"]]
    check(gx == ex, name + ": x as the API's", c["x"], ex)
    got = [s["values"] for s in c["series"]]
    exp = [[t(v) for v in g[1]] for g in groups]
    check(got == exp, name + ": every value, digit for digit, as the API answers", got, exp)
    if name != "events":
        plotted = c.get("plotted")
        expf = [[None if v is None else float(Decimal(v)) for v in g[1]] for g in groups]
        check(plotted == expf, name + ": uPlot holds the nearest doubles of those values", plotted, expf)
    check(sum(v is not None for s in got for v in s) > 0, name + ": not empty")

def align(rows, xf, kf, yf, order=None):
    xs = sorted(set(xf(r) for r in rows), key=order)
    g = {}
    for r in rows:
        g.setdefault(kf(r), [None] * len(xs))[xs.index(xf(r))] = yf(r)
    return xs, [(k, g[k]) for k in sorted(g)]

src = rec["source"]
BPS = ["1", "2_5", "5", "10", "20", "50", "100"]
rows = api(src["depth"])
compare("depth", [-100, -50, -20, -10, -5, -2.5, -1, 1, 2.5, 5, 10, 20, 50, 100],
        [(r["exchange"], [r["bid_%sbps" % b] for b in reversed(BPS)] + [r["ask_%sbps" % b] for b in BPS]) for r in rows])
# by hand (test/integration/57_collect.sql, from test/payloads/binance): binance
# BTC bids within 1 bps 454663.8706, asks 295731.4388; within 100 bps
# 2496915.9149 and 1827211.0575
b = [s for s in rec["charts"]["depth"]["series"] if s["label"] == "binance"]
check(bool(b) and [Decimal(b[0]["values"][i]) for i in (0, 6, 7, 13)] ==
      [Decimal("2496915.9149"), Decimal("454663.8706"), Decimal("295731.4388"), Decimal("1827211.0575")],
      "depth: binance at -100, -1, +1 and +100 bps as worked out by hand", b and b[0]["values"])

rows = api(src["slippage"])
xs, groups = align(rows, lambda r: Decimal(r["amount"]), lambda r: r["exchange"] + " " + r["side"], lambda r: r["slippage_bps"])
compare("slippage", xs, groups)
# by hand, from the binance book of test/payloads (57_collect.sql walks it): buy 1M takes
# the first six ask levels (873082.4171 quote for 8.979 BTC) and 126917.5829 at 97340.20:
# avg = 1e6 / (8.979 + 126917.5829 / 97340.20) = 97249.24873903332983...,
# slippage = (avg - 97214.25) / 97214.25 * 1e4 = 3.6001655141432279... bps;
# buy 5M is infeasible (the asks hold 1827211.0575): no value
s = [x for x in rec["charts"]["slippage"]["series"] if x["label"] == "binance buy"]
amounts = [Decimal(v) for v in rec["charts"]["slippage"]["x"]]
got = s and (s[0]["values"][amounts.index(1000000)][:18], s[0]["values"][amounts.index(5000000)])
check(got == ("3.6001655141432279", None), "slippage: binance buy 1M 3.6001655141432279... bps, 5M none (too thin), by hand", got)

rows = api(src["funding"])
xs, groups = align(rows, lambda r: str(r["funding_time"]), lambda r: r["exchange"], lambda r: r["rate"], secs)
compare("funding", xs, groups)
vals = {s["label"]: set(s["values"]) for s in rec["charts"]["funding"]["series"]}
check("0.000123456789012345678" in vals.get("binance", ()) and "-0.0000500000000000001" in vals.get("bybit", ()),
      "funding: the rates written here, all 21 digits of them", vals)

rows = api(src["open_interest"])
xs, groups = align(rows, lambda r: str(r["ts"]), lambda r: r["exchange"], lambda r: r["open_interest"], secs)
compare("open_interest", xs, groups)
check(all(sum(v is not None for v in s["values"]) == 2 for s in rec["charts"]["open_interest"]["series"]),
      "open_interest: the two collect rounds, two points a venue")

rows = api(src["events"])
rows.reverse()
xs, groups = align(rows, lambda r: str(r["ts"]), lambda r: r["exchange"] or "(no venue)", lambda r: r["kind"], secs)
compare("events", xs, groups)
ev = sorted((s["label"], v) for s in rec["charts"]["events"]["series"] for v in s["values"] if v)
check(ev == [("binance", "gap"), ("bybit", "reconnect")],
      "events: BTC's gap and bybit's reconnect, not ETH's gap nor the one two days old", ev)

rows = api(src["streams"])
cols = ["exchange", "state", "connected_since", "messages", "rows_written", "last_message_at",
        "reconnects", "gaps", "resyncs", "parse_errors", "last_error"]
exp = [[t(r[c]) for c in cols] for r in rows]
check(rec["charts"]["streams"]["rows"] == exp, "stream status: the table's rows as the API's (%d)" % len(exp),
      rec["charts"]["streams"]["rows"], exp)
sec = re.search(r'<section id="streams".*?</section>', dom, re.S).group(0)
cells = [[html.unescape(c) for c in re.findall(r'<td[^>]*>([^<]*)</td>', tr)] for tr in re.findall(r'<tr>(.*?)</tr>', sec.split("<tbody>")[1])]
check(cells == ([[c or "" for c in r] for r in exp] if exp else [["no stream worker has run since the server started"]]),
      "stream status: the table in the DOM", cells)
print("\n".join(out))
PY
)
while IFS= read -r line; do
    case "$line" in
        "ok - "*)     n=$((n + 1)); echo "ok $n - ${line#ok - }" ;;
        "not ok - "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - ${line#not ok - }" ;;
        *)            echo "$line" ;;
    esac
done < <(python3 -c "$PYCHECK" "$U" "$OUT/dom.html" 2>&1 | sed 's/^Traceback/not ok - check.py failed: Traceback/')

tap_done
