#!/usr/bin/env bash
# The Excel export through a real PostgREST (test/services/postgrest.sh) and
# from SQL: GET /rpc/export_xlsx answers the workbook as a download (its
# Content-Type and file name), openpyxl (Debian's python3-openpyxl, not our
# code) reads it back, and every cell is compared with the JSON PostgREST
# answers for the same view and filters: numbers as exact decimals where a
# cell holds them as numbers, the same digits as text where it cannot,
# times as UTC dates (or ISO text below the millisecond), arrays, booleans,
# NULLs.  Then a multi-sheet export of perps_stats.export_xlsx (one sheet
# per table, and a sheet of values whose cells were worked out by hand), the
# row limit (54000) over HTTP, and views outside perps_api refused (22023).
# Prints TAP.
#
# Starts from empty tables and leaves them empty (as 40_postgrest.sh).
set -uo pipefail
. "$(dirname "$0")/../lib/postgrest.sh"
. "$(dirname "$0")/../lib/tap.sh"

U=${PERPS_POSTGREST_URL:?PostgREST is not running (test/services/postgrest.sh)}
: "${PERPS_POSTGREST_LOG:?}"
W=$(mktemp -d "${PERPS_RUN:-/tmp}/xlsx.XXXXXX")
chmod 755 "$W"

empty_tables() {
    psql -X -q -v ON_ERROR_STOP=1 -c 'TRUNCATE perps_stats.markets, perps_stats.ingest_events,
        perps_stats.tickers, perps_stats.orderbooks, perps_stats.trades, perps_stats.funding_rates,
        perps_stats.open_interest, perps_stats.klines, perps_stats.liquidity_depth, perps_stats.slippage'
}
cleanup() {
    psql -X -q -c "ALTER DATABASE $PGDATABASE RESET perps_stats.export_max_rows" >/dev/null 2>&1
    empty_tables
    rm -rf "$W"
}
trap cleanup EXIT
empty_tables || { echo "Bail out! could not empty the tables"; exit 1; }

# The values are chosen for the cell rules (src/export_xlsx.c): at most 15
# significant digits and magnitude in [1e-307, 1e308) is a number, else the
# same digits as text; times to the millisecond are dates, finer ones text.
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || { echo "Bail out! could not insert the test data"; exit 1; }
SELECT perps_stats.create_partitions_for_range('2026-01-05', '2026-01-06');
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote) VALUES
    (201, 1, 'BTC', 'BTCUSDT', 'BTC', 'USDT'),
    (202, 2, 'BTC', 'BTCUSDT', 'BTC', 'USDT'),
    (203, 1, 'ETH', 'ETHUSDT', 'ETH', 'USDT');
INSERT INTO perps_stats.tickers (market_id, ts, last_price, mark_price, index_price, best_bid_qty, price_change_pct) VALUES
    -- 15 digits: a number; 16 and 20 digits: text; 1e-15: one digit, a number
    (201, '2026-01-05 10:00:00.123+00', 100.1, 123456789012345, 1234567890123456, 0.000000000000001, -0.0123),
    -- microseconds: the time goes as text; 42000.12345678901234567890 as text
    (201, '2026-01-05 10:00:01.123456+00', 42000.12345678901234567890, 99999.9999999999, NULL, 1e20, 0),
    (201, '2026-01-05 11:00:00+00', 100.2, 0.1, 1.5, 2, NULL),
    (202, '2026-01-05 10:00:02+00', 100.15, 100.15, 100.15, 3, 0.5),
    (203, '2026-01-05 10:00:03+00', 3000.5, 3000.5, 3000.5, 4, 0.25);
INSERT INTO perps_stats.trades VALUES
    (201, '2026-01-05 10:00:01.5+00', 't1', 100, 1, 'buy'),
    (201, '2026-01-05 10:00:02.25+00', 't2', 101.000000000000001, 3, 'sell'),
    (203, '2026-01-05 10:00:03+00', 'e1', 3000, 0.5, 'buy');
INSERT INTO perps_stats.orderbooks VALUES
    (201, '2026-01-05 10:00:30+00', '{{100.00,2},{99.99,5}}', '{{100.02,1},{100.03,4}}', 2);
INSERT INTO perps_stats.slippage VALUES
    (201, '2026-01-05 10:00:30+00', 1000, 'buy', 100.01, 100.06, 5.4, true),
    (201, '2026-01-05 10:00:31+00', 1000000, 'buy', 100.01, NULL, NULL, false);
INSERT INTO perps_stats.klines VALUES
    (201, '1m', '2026-01-05 10:00:00+00', '2026-01-05 10:00:59.999+00', 100, 101, 99.5, 100.5, 4, 403, 9007199254740993);
-- a control character and a literal "_x0041_": Excel's escapes (_xHHHH_)
INSERT INTO perps_stats.ingest_events (ts, exchange_id, market_id, source, kind, message)
VALUES ('2026-01-05 10:00:40+00', NULL, 201, 'stream', 'gap', E'seq 5 -> 7\ttab _x0041_ bell\x07 end');
SQL
pgrst_reload /rpc/health || { echo "Bail out! PostgREST did not reload its schema cache"; exit 1; }

# compare XLSX SHEET JSON: every cell of the sheet against the JSON rows
# (an array of objects, the keys in column order), row 1 the keys.  Prints
# "ok" or the differences, and "numbers N text T dates D" counts of how
# the non-null values were held.  The cell rules are checked as such: a
# JSON number is a cell number exactly when its digits call for it.
compare() {
    python3 - "$@" 2>&1 <<'PY'
import sys, json, re, datetime, decimal
from decimal import Decimal
import openpyxl

path, sheet, jpath = sys.argv[1:4]
ws = openpyxl.load_workbook(path)[sheet]
rows = json.load(open(jpath), parse_float=Decimal, parse_int=Decimal)
cells = [list(r) for r in ws.iter_rows(values_only=True)]
bad = []
def unescape(s):        # Excel's _xHHHH_ escapes (ECMA-376 ST_Xstring)
    return re.sub(r'_x([0-9A-Fa-f]{4})_', lambda m: chr(int(m.group(1), 16)), s)
def fits(d):            # the rule, worked out here independently of the C
    if d == 0: return True
    t = d.normalize().as_tuple()
    lead = len(t.digits) - 1 + t.exponent
    return len(t.digits) <= 15 and -307 <= lead <= 307
def pg_array(s):        # PostgreSQL array text of numbers -> nested lists
    return json.loads(s.replace('{', '[').replace('}', ']'), parse_float=Decimal, parse_int=Decimal)
def utc(s):
    return datetime.datetime.fromisoformat(s).astimezone(datetime.timezone.utc).replace(tzinfo=None)
keys = list(rows[0].keys()) if rows else []
if rows and cells[0] != keys: bad.append(f"header {cells[0]} != {keys}")
if len(cells) != len(rows) + 1: bad.append(f"{len(cells) - 1} rows, JSON has {len(rows)}")
counts = {'numbers': 0, 'text': 0, 'dates': 0}
for i, row in enumerate(rows):
    got_row = cells[i + 1] if i + 1 < len(cells) else []
    got_row += [None] * (len(keys) - len(got_row))
    for k, got in zip(keys, got_row):
        want = row[k]
        where = f"row {i + 2} {k}: cell {got!r}, JSON {want!r}"
        if want is None:
            if got is not None: bad.append(where)
        elif isinstance(want, bool):
            if got is not want: bad.append(where)
        elif isinstance(want, Decimal):
            if fits(want):
                counts['numbers'] += 1
                if isinstance(got, bool) or not isinstance(got, (int, float)) or Decimal(repr(got)) != want:
                    bad.append(where)
            else:
                counts['text'] += 1
                if not isinstance(got, str) or got != str(want): bad.append(where)
        elif isinstance(want, list):
            counts['text'] += 1
            if not isinstance(got, str) or pg_array(got) != want: bad.append(where)
        elif isinstance(want, str) and re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$', want):
            t = utc(want)
            if t.microsecond % 1000 == 0:
                counts['dates'] += 1
                if not isinstance(got, datetime.datetime) or got != t: bad.append(where)
            else:
                counts['text'] += 1
                if not isinstance(got, str) or utc(got.replace(' ', 'T') + ':00') != t: bad.append(where)
        else:
            counts['text'] += 1
            if not isinstance(got, str) or unescape(got) != want: bad.append(where)
print("ok" if not bad else "\n".join(bad[:20]))
print(" ".join(f"{k} {v}" for k, v in counts.items()))
PY
}
# fetch NAME PATH [curl options]: the body to $W/NAME, the headers to $W/NAME.h; prints the status
fetch() {
    local name=$1 path=$2; shift 2
    curl -s -m 30 -D "$W/$name.h" -o "$W/$name" -w '%{http_code}' "$@" "$U$path"
}
header() { tr -d '\r' < "$W/$1.h" | sed -n "s/^$2: //Ip" | head -1; }
xlsx_type=application/vnd.openxmlformats-officedocument.spreadsheetml.sheet

# --- one view over HTTP, with filters ---------------------------------------
st=$(fetch t.xlsx '/rpc/export_xlsx?view=tickers&exchange=binance&symbol=BTC&since=2026-01-05T10:00:00Z&until=2026-01-05T11:00:00Z' \
     -H 'Accept: application/octet-stream')
is "$st" 200 "GET /rpc/export_xlsx?view=tickers with Accept: application/octet-stream: 200"
is "$(header t.xlsx Content-Type)" "$xlsx_type" "Content-Type: the spreadsheet's media type"
is "$(header t.xlsx Content-Disposition)" 'attachment; filename="tickers_binance_BTC.xlsx"' \
   "Content-Disposition: a download named after the view, exchange and symbol"
is "$(head -c 4 "$W/t.xlsx" | od -An -tx1 | tr -d ' ')" 504b0304 "the body is the file itself (a zip), not JSON"
fetch t.json '/tickers?exchange=eq.binance&symbol=eq.BTC&ts=gte.2026-01-05T10:00:00Z&ts=lt.2026-01-05T11:00:00Z&order=ts,exchange,symbol' >/dev/null
# [since, until) keeps the rows at 10:00:00.123 and 10:00:01.123456, not 11:00
is "$(jq length "$W/t.json")" 2 "the view's JSON for the same filters: 2 rows"
# the non-null cells, by hand: row 1 exchange, symbol (text), ts (a date),
# 100.1, 123456789012345, 1e-15, -0.0123 (numbers), 1234567890123456 (text);
# row 2 exchange, symbol, ts in µs, 42000.12345678901234567890 (text),
# 99999.9999999999, 1e20, 0 (numbers): 7 numbers, 7 texts, 1 date
is "$(compare "$W/t.xlsx" tickers "$W/t.json")" "ok
numbers 7 text 7 dates 1" "tickers: every cell equals the JSON (7 numbers, 7 texts, 1 date)"
# the same cells read by hand
is "$(python3 -c "
import openpyxl, sys
ws = openpyxl.load_workbook(sys.argv[1])['tickers']
print([ws[c].value for c in ('C2', 'D2', 'E2', 'F2', 'H2', 'C3', 'D3', 'E3', 'F3', 'H3')])" "$W/t.xlsx")" \
   "[datetime.datetime(2026, 1, 5, 10, 0, 0, 123000), 100.1, 123456789012345, '1234567890123456', 1e-15, '2026-01-05 10:00:01.123456+00', '42000.12345678901234567890', 99999.9999999999, None, 1e+20]" \
   "tickers by hand: C2 a date, D2 100.1, E2 15 digits a number, F2 16 digits text, H2 1e-15; row 3 µs and 20 digits as text"
is "$(python3 -c "
import openpyxl, sys
ws = openpyxl.load_workbook(sys.argv[1])['tickers']
print(ws['C2'].number_format, ws.freeze_panes, ws['A1'].font.b)" "$W/t.xlsx")" \
   "yyyy-mm-dd hh:mm:ss.000 A2 True" "dates with a millisecond format, the header row bold and frozen"

# every view with rows, whole, against its JSON
for v in trades orderbooks slippage klines ingest_events markets exchanges; do
    case $v in
        trades|slippage|ingest_events) order='ts,exchange,symbol' ;;
        orderbooks) order='ts,exchange,symbol' ;;
        klines) order='open_time,exchange,symbol' ;;
        markets) order='updated_at,exchange,symbol' ;;
        exchanges) order='exchange' ;;
    esac
    st=$(fetch "$v.xlsx" "/rpc/export_xlsx?view=$v" -H 'Accept: application/octet-stream')
    fetch "$v.json" "/$v?order=$order" >/dev/null
    r=$(compare "$W/$v.xlsx" "$v" "$W/$v.json")
    is "$st ${r%%$'\n'*}" "200 ok" "$v: every cell equals the view's JSON (${r#*$'\n'})"
done
# klines.trade_count 9007199254740993 (2^53 + 1, 16 digits): a double would
# say ...992; as text it stays exact
is "$(python3 -c "
import openpyxl, sys
ws = openpyxl.load_workbook(sys.argv[1])['klines']
print(repr(ws['L2'].value), repr(ws['F2'].value))" "$W/klines.xlsx")" "'9007199254740993' 100" \
   "klines: a bigint of 16 digits as text, a price as a number"
# trades: 101.000000000000001 (18 digits) as text; the message with a tab,
# a bell and a literal _x0041_ as Excel reads it
is "$(python3 -c "
import openpyxl, sys
print(repr(openpyxl.load_workbook(sys.argv[1])['trades']['E3'].value))" "$W/trades.xlsx")" "'101.000000000000001'" \
   "trades: 101.000000000000001 (18 significant digits) as text"
is "$(python3 -c "
import openpyxl, sys
print(repr(openpyxl.load_workbook(sys.argv[1])['ingest_events']['G2'].value))" "$W/ingest_events.xlsx")" \
   "'seq 5 -> 7\ttab _x005F_x0041_ bell_x0007_ end'" \
   "ingest_events: the bell as _x0007_, the literal _x0041_ escaped as _x005F_x0041_ (Excel shows the text as stored)"

# --- what the export refuses ---------------------------------------------------
st=$(fetch bad1 '/rpc/export_xlsx?view=pg_roles' -H 'Accept: application/octet-stream')
is "$st $(jq -r .code "$W/bad1")" "400 22023" "a view outside perps_api (pg_roles): 400, SQLSTATE 22023"
st=$(fetch bad2 '/rpc/export_xlsx?view=perps_stats.tickers' -H 'Accept: application/octet-stream')
is "$st $(jq -r .message "$W/bad2")" '400 "perps_stats.tickers" is not a view of perps_api' \
   "a table of perps_stats by its qualified name: refused"
st=$(fetch bad3 '/rpc/export_xlsx?view=exchanges&since=2026-01-05T00:00:00Z' -H 'Accept: application/octet-stream')
is "$st $(jq -r .code "$W/bad3")" "400 22023" "since on a view without a time column: 400"

# --- what the client accepts ---------------------------------------------------
# PostgREST answers the aggregate's "*/*" domain whatever the Accept; the
# aggregate takes the workbook's own type, octet-stream, the wildcards and
# none, and refuses the rest with SQLSTATE PT406, PostgREST's 406
st=$(fetch j.json '/rpc/export_xlsx?view=exchanges' -H 'Accept: application/json')
is "$st $(jq -r .code "$W/j.json")" "406 PT406" "Accept: application/json: 406, not the bytes labelled as JSON"
st=$(fetch d.xlsx '/rpc/export_xlsx?view=exchanges')
is "$st $(header d.xlsx Content-Type) $(head -c 4 "$W/d.xlsx" | od -An -tx1 | tr -d ' ')" "200 $xlsx_type 504b0304" \
   "curl's default Accept (*/*): the workbook, with its Content-Type"
st=$(fetch x.xlsx '/rpc/export_xlsx?view=exchanges' -H "Accept: $xlsx_type")
is "$st $(header x.xlsx Content-Type)" "200 $xlsx_type" "Accept: the spreadsheet's own media type (65 characters): the workbook"

# --- limit and offset: PostgREST's own, on the rows' positions -----------------
# tickers in export order (ts, exchange, symbol): 10:00:00.123 binance BTC,
# 10:00:01.123456 binance BTC, 10:00:02 bybit BTC, 10:00:03 binance ETH,
# 11:00 binance BTC; limit=2 the first two, limit=2&offset=2 the 3rd and 4th
st=$(fetch l.xlsx '/rpc/export_xlsx?view=tickers&limit=2' -H 'Accept: application/octet-stream')
fetch l.json '/tickers?order=ts,exchange,symbol&limit=2' >/dev/null
r=$(compare "$W/l.xlsx" tickers "$W/l.json")
is "$st ${r%%$'\n'*} $(jq -r '[.[].ts] | join(",")' "$W/l.json")" \
   "200 ok 2026-01-05T10:00:00.123+00:00,2026-01-05T10:00:01.123456+00:00" \
   "GET ?limit=2: the first 2 rows by time, every cell equal to the JSON"
st=$(fetch o.xlsx '/rpc/export_xlsx?view=tickers&limit=2&offset=2' -H 'Accept: application/octet-stream')
fetch o.json '/tickers?order=ts,exchange,symbol&limit=2&offset=2' >/dev/null
r=$(compare "$W/o.xlsx" tickers "$W/o.json")
is "$st ${r%%$'\n'*} $(jq -r '[.[] | .exchange + " " + .symbol] | join(",")' "$W/o.json")" \
   "200 ok bybit BTC,binance ETH" "GET ?limit=2&offset=2: the 3rd and 4th rows (bybit BTC, binance ETH)"
st=$(fetch s.xlsx '/rpc/export_xlsx?view=tickers&symbol=BTC&offset=1&limit=10' -H 'Accept: application/octet-stream')
fetch s.json '/tickers?symbol=eq.BTC&order=ts,exchange,symbol&offset=1' >/dev/null
r=$(compare "$W/s.xlsx" tickers "$W/s.json")
is "$st ${r%%$'\n'*} $(jq length "$W/s.json")" "200 ok 3" "symbol=BTC, offset 1: the 3 BTC rows after the first"
st=$(fetch p.xlsx '/rpc/export_xlsx?limit=1' -X POST -H 'Accept: application/octet-stream' \
     -H 'Content-Type: application/json' -d '{"view": "tickers", "exchange": "bybit"}')
fetch p.json '/tickers?exchange=eq.bybit&order=ts,exchange,symbol' >/dev/null
r=$(compare "$W/p.xlsx" tickers "$W/p.json")
is "$st ${r%%$'\n'*} $(header p.xlsx Content-Disposition)" '200 ok attachment; filename="tickers_bybit.xlsx"' \
   "POST with the arguments in the body and ?limit=1: the one bybit row"
st=$(fetch e.xlsx '/rpc/export_xlsx?view=tickers&offset=10' -H 'Accept: application/octet-stream')
is "$st $(python3 -c "import openpyxl, sys; ws = openpyxl.load_workbook(sys.argv[1])['tickers']; print(ws.max_row, ws['A1'].value)" "$W/e.xlsx")" \
   "200 1 exchange" "an offset past the 5 rows: the header row alone"
st=$(fetch n.json '/rpc/export_xlsx?view=tickers&n=in.(1,3)' -H 'Accept: application/octet-stream')
is "$st $(jq -r .code "$W/n.json")" "400 22023" "a filter on the positions that leaves no run (1 and 3): 400, not a guess"

# --- the row limit over HTTP -----------------------------------------------------
# export_max_rows is superuser-set: for the database, and PostgREST's
# connections renewed so that they read it
psql -X -q -c "ALTER DATABASE $PGDATABASE SET perps_stats.export_max_rows = 4" \
           -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'postgrest'" >/dev/null
ok_until "curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/octet-stream' '$U/rpc/export_xlsx?view=tickers'" 413 \
   "5 ticker rows with export_max_rows = 4: refused (PostgREST answers SQLSTATE 54000 with 413)"
fetch big '/rpc/export_xlsx?view=tickers' -H 'Accept: application/octet-stream' >/dev/null
is "$(jq -r '[.code, .message, .hint] | join(" / ")' "$W/big")" \
   "54000 / export exceeds perps_stats.export_max_rows (4 rows) / Narrow the range with since and until, or take the first rows with limit." \
   "the row limit: SQLSTATE 54000 with a hint, no workbook cut short"
st=$(fetch b2.xlsx '/rpc/export_xlsx?view=tickers&exchange=binance' -H 'Accept: application/octet-stream')
is "$st" 200 "3 binance rows under export_max_rows = 4: fine"
st=$(fetch b3.xlsx '/rpc/export_xlsx?view=tickers&limit=4&offset=1' -H 'Accept: application/octet-stream')
is "$st $(python3 -c "import openpyxl, sys; print(openpyxl.load_workbook(sys.argv[1])['tickers'].max_row)" "$W/b3.xlsx")" \
   "200 5" "5 rows in the range, limit=4&offset=1 under export_max_rows = 4: the last 4 rows and the header"
psql -X -q -c "ALTER DATABASE $PGDATABASE RESET perps_stats.export_max_rows" \
           -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'postgrest'" >/dev/null
# PostgREST reconnects: the 5 rows are fine again
ok_until "curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/octet-stream' '$U/rpc/export_xlsx?view=tickers'" 200 \
   "export_max_rows back to its default: the 5 rows export again"

# --- several tables, one sheet each, from SQL (perps_stats.export_xlsx) ---------
psql -X -q -t -A -v ON_ERROR_STOP=1 -o "$W/m.b64" -c "SELECT encode(perps_stats.export_xlsx(ARRAY[
        'SELECT * FROM perps_api.tickers ORDER BY ts, exchange, symbol',
        'SELECT * FROM perps_api.trades ORDER BY ts, exchange, symbol',
        'perps_stats.markets',
        \$q\$SELECT 32767::int2 AS i2, 2147483647 AS i4, 999999999999999::int8 AS i8_15,
                  1000000000000001::int8 AS i8_16, 0.1::float8 AS f_01, 0.1::float8 + 0.2::float8 AS f_03,
                  'NaN'::numeric AS nan, 1e307::numeric AS e307, 1e308::numeric AS e308, 1e-307::numeric AS em307,
                  1e-308::numeric AS em308, 'infinity'::timestamptz AS inf, '1900-02-28'::date AS d_early,
                  '1900-03-01'::date AS d_first, '9999-12-31 23:59:59.999+00'::timestamptz AS t_last,
                  '2026-01-05 12:00'::timestamp AS t_local, true AS b, NULL::numeric AS n,
                  '{\"a\": 1}'::jsonb AS j, interval '1 day' AS iv\$q\$],
        ARRAY['Tickers', 'Trades', NULL, 'types']), 'base64')" &&
    base64 -d "$W/m.b64" > "$W/m.xlsx"
is "$(python3 -c "import openpyxl, sys; print(openpyxl.load_workbook(sys.argv[1]).sheetnames)" "$W/m.xlsx")" \
   "['Tickers', 'Trades', 'markets', 'types']" "perps_stats.export_xlsx: one sheet per query or table, named or by the table's name"
fetch all_t.json '/tickers?order=ts,exchange,symbol' >/dev/null
fetch all_tr.json '/trades?order=ts,exchange,symbol' >/dev/null
is "$(compare "$W/m.xlsx" Tickers "$W/all_t.json" | head -1) $(compare "$W/m.xlsx" Trades "$W/all_tr.json" | head -1)" "ok ok" \
   "the Tickers and Trades sheets equal the views' JSON, cell by cell"
is "$(python3 -c "
import openpyxl, sys
ws = openpyxl.load_workbook(sys.argv[1])['markets']
print(ws.max_row, [c.value for c in ws[1]][:4], sorted(r[0] for r in ws.iter_rows(min_row=2, max_col=1, values_only=True)))" "$W/m.xlsx")" \
   "4 ['id', 'exchange_id', 'symbol', 'native_symbol'] [201, 202, 203]" "the markets table by its name: its columns and 3 rows"
# worked out by hand: int2/int4 and 15 digits numbers, 16 digits text; 0.1 a
# number, 0.1 + 0.2 = 0.30000000000000004 (17 digits) text; NaN text; 1e307
# a number, 1e308 (Excel's largest is 9.99999999999999e307) text; 1e-307 a
# number, 1e-308 text; infinity text; 1900-02-28 (before Excel's false
# 1900-02-29) text, 1900-03-01 a date; 9999-12-31 23:59:59.999 a date; a
# timestamp without zone a date; true a boolean; NULL empty; jsonb and
# interval their text
is "$(python3 -c "
import openpyxl, sys
ws = openpyxl.load_workbook(sys.argv[1])['types']
v = [c.value for c in ws[2]]
# 1e308 and 1e-308 as numeric print all their digits
v[8] = v[8] == '1' + '0' * 308
v[10] = v[10] == '0.' + '0' * 307 + '1'
print(v)" "$W/m.xlsx")" \
   "[32767, 2147483647, 999999999999999, '1000000000000001', 0.1, '0.30000000000000004', 'NaN', 1e+307, True, 1e-307, True, 'infinity', '1900-02-28', datetime.datetime(1900, 3, 1, 0, 0), datetime.datetime(9999, 12, 31, 23, 59, 59, 999000), datetime.datetime(2026, 1, 5, 12, 0), True, None, '{\"a\": 1}', '1 day']" \
   "the types sheet: every cell as worked out by hand"
is "$(q "SELECT count(*) FROM pg_ls_tmpdir()")" 0 "no file left in pgsql_tmp"

tap_done
