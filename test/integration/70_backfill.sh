#!/usr/bin/env bash
# perps_stats.backfill against the mock exchange, venue by venue: exact rows,
# idempotent re-runs that ask only for what is missing (checked in the mock's
# request log), a cancelled run that resumes, a 429 waited out, the advisory
# lock, since => null, and a pg_cron job that really runs.
#
# Expected kline values come from the mock venue's documented generator
# (its docstring), recomputed here in Python from the open time alone.
set -uo pipefail

MOCK=$PERPS_MOCK_URL
n=0
ok()   { n=$((n + 1)); echo "ok $n - $1"; }
nok()  { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check() { # check NAME GOT WANT
    if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got:  $2" "want: $3"; fi
}
q()  { psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
# a CALL; prints nothing on success, "SQLSTATE: message" on failure
call() { psql -X -q -t -A -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "$1" 2>&1 >/dev/null | grep -E '^(ERROR|FATAL)' ; }
mock() { curl -sf -X "$1" "$MOCK/_mock/$2" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
# the mock's request log for a venue path: one line per request, its query as JSON
requests() { curl -sf "$MOCK/_mock/log?venue=$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["path"] == sys.argv[1]:
        print(json.dumps(r["query"], sort_keys=True), r["t"])' "$2"; }
ms() { python3 -c 'import sys, datetime as d; print(int(d.datetime.fromisoformat(sys.argv[1]).replace(tzinfo=d.timezone.utc).timestamp() * 1000))' "$1"; }

# The venues that have klines, with the mock's klines path and what the
# mock's generator gives.  A venue joins this list when its adapter and mock
# module are on the branch.
VENUES=(binance)
declare -A KPATH=([binance]=/fapi/v1/klines)
declare -A FPATH=([binance]=/fapi/v1/fundingRate)
declare -A PAGE=([binance]=1500)

# binance mock (test/mock/venues/binance.py): k = open_ms / 60000;
# open = 60000 + k mod 1000, high = open + 5, low = open - 5,
# close = open + 1.5, volume = 1 + k mod 7, turnover = volume * 60000,
# trades = k mod 50 + 1; close time = open time + 59.999 s
expect_binance() {
    python3 - "$1" <<'EOF'
import sys, datetime as d
t = d.datetime.fromisoformat(sys.argv[1]).replace(tzinfo=d.timezone.utc)
k = int(t.timestamp()) // 60
o = 60000 + k % 1000
v = 1 + k % 7
ct = t + d.timedelta(seconds=59.999)
print("%s|%d|%d|%d|%s|%d|%d|%d" % (ct.strftime("%Y-%m-%d %H:%M:%S.%f")[:23] + "+00", o, o + 5, o - 5,
                                    "%d.5" % (o + 1), v, v * 60000, k % 50 + 1))
EOF
}
stored() { # stored VENUE SYMBOL OPEN_TIME -> the same fields from the table
    q "SELECT to_char(k.close_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || '+00', k.open::numeric(20,0)::text,
              k.high::numeric(20,0), k.low::numeric(20,0), trim_scale(k.close), trim_scale(k.volume), trim_scale(k.turnover), k.trade_count
         FROM perps_stats.klines k JOIN perps_stats.markets m ON m.id = k.market_id
         JOIN perps_stats.exchanges e ON e.id = m.exchange_id
        WHERE e.name = '$1' AND m.symbol = '$2' AND k.interval = '1m' AND k.open_time = '$3+00'"
}
summary() { # count, first and last open time, distinct open times
    q "SELECT count(*) || ' ' || to_char(min(k.open_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' '
              || to_char(max(k.open_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || count(DISTINCT k.open_time)
         FROM perps_stats.klines k JOIN perps_stats.markets m ON m.id = k.market_id
         JOIN perps_stats.exchanges e ON e.id = m.exchange_id
        WHERE e.name = '$1' AND m.symbol = '$2' AND k.interval = '1m'"
}
wait_for() { # wait_for SECONDS SQL-returning-t
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(q "$2")" = "t" ] && return 0
        sleep 0.2
    done
    return 1
}

echo "1..$((25 * ${#VENUES[@]} + 10))"

SINCE="2024-04-07 00:00"
UNTIL="2024-04-10 00:00"
for V in "${VENUES[@]}"; do
    q "UPDATE perps_stats.exchanges SET rest_url = '$MOCK/$V' WHERE name = '$V'" >/dev/null
    mock DELETE faults >/dev/null; mock POST config '{"latency_ms": 0}' >/dev/null
    q "DELETE FROM perps_stats.klines k USING perps_stats.markets m, perps_stats.exchanges e
        WHERE m.id = k.market_id AND e.id = m.exchange_id AND e.name = '$V';
       DELETE FROM perps_stats.funding_rates f USING perps_stats.markets m, perps_stats.exchanges e
        WHERE m.id = f.market_id AND e.id = m.exchange_id AND e.name = '$V';
       DELETE FROM perps_stats.backfill_empty_ranges WHERE exchange = '$V';
       DELETE FROM perps_stats.backfill_progress WHERE exchange = '$V'" >/dev/null
    mock DELETE log >/dev/null
    q "SELECT perps_stats.refresh_markets('$V')" >/dev/null    # markets first, so the log below is history only
    mock DELETE log >/dev/null

    # ---- 3 days of 1m klines for 2 symbols
    ev0=$(q "SELECT coalesce(max(id), 0) FROM perps_stats.ingest_events")
    out=$(call "CALL perps_stats.backfill('$V', '{BTC,ETH}', '$SINCE+00', '$UNTIL+00')")
    check "$V: backfill of 3 days for BTC and ETH succeeds" "$out" ""
    for S in BTC ETH; do
        check "$V $S: 4320 candles from $SINCE to 2024-04-09 23:59, no duplicates" "$(summary "$V" "$S")" \
              "4320 2024-04-07 00:00 2024-04-09 23:59 4320"
    done
    for t in "2024-04-07 00:00" "2024-04-08 13:37" "2024-04-09 23:59"; do
        check "$V BTC: the candle at $t has the generator's values" "$(stored "$V" BTC "$t")" "$(expect_"$V" "$t")"
    done
    check "$V ETH: the candle at 2024-04-08 01:00 (first of the second page) has the generator's values" \
          "$(stored "$V" ETH "2024-04-08 01:00")" "$(expect_"$V" "2024-04-08 01:00")"
    nk=$(requests "$V" "${KPATH[$V]}" | wc -l)
    check "$V: 3 kline requests per symbol (pages of ${PAGE[$V]})" "$nk" "$(( 2 * ( (4320 + PAGE[$V] - 1) / PAGE[$V] ) ))"
    check "$V: nothing landed in the default partitions" \
          "$(q "SELECT (SELECT count(*) FROM perps_stats.klines_default) + (SELECT count(*) FROM perps_stats.funding_rates_default)")" "0"
    # funding every 8 h from 2024-04-07 00:00 to 2024-04-10 00:00 inclusive: 10 per symbol
    check "$V: 10 funding rates per symbol" \
          "$(q "SELECT string_agg(m.symbol || '=' || c, ',' ORDER BY m.symbol) FROM (SELECT f.market_id, count(*) c
                  FROM perps_stats.funding_rates f GROUP BY 1) x JOIN perps_stats.markets m ON m.id = x.market_id
                  JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = '$V'")" "BTC=10,ETH=10"
    check "$V: one ingest_events row for the run, with its totals and range" \
          "$(q "SELECT count(*) || ' ' || string_agg(substring(message from '^backfill done: [0-9]+ rows'), '') || ' '
                       || string_agg(to_char(range_start AT TIME ZONE 'UTC', 'MM-DD HH24:MI') || '..'
                                     || to_char(range_end AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), '')
                  FROM perps_stats.ingest_events WHERE id > $ev0 AND kind = 'backfill'")" \
          "1 backfill done: 8660 rows 04-07 00:00..04-10 00:00"
    check "$V: backfill_status says done, 4320 of 4320 candles, for each symbol" \
          "$(q "SELECT string_agg(symbol || ':' || state || ':' || done || '/' || total || ':' || rows, ',' ORDER BY symbol)
                  FROM perps_stats.backfill_status WHERE exchange = '$V' AND kind = 'klines'")" \
          "BTC:done:4320/4320:4320,ETH:done:4320/4320:4320"

    # ---- again: nothing inserted, no history request (everything is stored,
    # and the range's edges are stored candles)
    mock DELETE log >/dev/null
    ev0=$(q "SELECT max(id) FROM perps_stats.ingest_events")
    out=$(call "CALL perps_stats.backfill('$V', '{BTC,ETH}', '$SINCE+00', '$UNTIL+00')")
    check "$V: a second run over the same range succeeds" "$out" ""
    check "$V: and inserts nothing" \
          "$(q "SELECT substring(message from '^backfill done: [0-9]+ rows') FROM perps_stats.ingest_events WHERE id > $ev0")" \
          "backfill done: 0 rows"
    check "$V: and asks the venue for no klines and no funding history" \
          "$(requests "$V" "${KPATH[$V]}" | wc -l) $(requests "$V" "${FPATH[$V]}" | wc -l)" "0 0"
    # one hour more at the end: only that edge is asked for
    mock DELETE log >/dev/null
    out=$(call "CALL perps_stats.backfill('$V', '{BTC}', '$SINCE+00', '2024-04-10 01:00+00', '{klines}')")
    got=$(requests "$V" "${KPATH[$V]}" | python3 -c 'import json,sys; print(*[json.loads(l.rsplit(" ",1)[0])["startTime"] for l in sys.stdin])')
    check "$V: extending the range by an hour asks for that hour alone" "$out|$got|$(summary "$V" BTC)" \
          "|$(ms "2024-04-10 00:00")|4380 2024-04-07 00:00 2024-04-10 00:59 4380"

    # ---- rows deleted from the middle come back, and only they are asked for
    q "DELETE FROM perps_stats.klines k USING perps_stats.markets m, perps_stats.exchanges e
        WHERE m.id = k.market_id AND e.id = m.exchange_id AND e.name = '$V' AND m.symbol = 'BTC'
          AND (k.open_time BETWEEN '2024-04-08 10:00+00' AND '2024-04-08 10:29+00' OR k.open_time = '2024-04-09 12:00+00')" >/dev/null
    mock DELETE log >/dev/null
    out=$(call "CALL perps_stats.backfill('$V', '{BTC}', '$SINCE+00', '$UNTIL+00', '{klines}')")
    check "$V: after deleting 31 candles, the next run completes the set" "$out|$(summary "$V" BTC)" \
          "|4380 2024-04-07 00:00 2024-04-10 00:59 4380"
    got=$(requests "$V" "${KPATH[$V]}" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l.rsplit(" ", 1)[0]); print(r["startTime"], r["endTime"])' | sort | tr '\n' ',')
    check "$V: it asked for exactly the two holes" "$got" \
          "$(ms "2024-04-08 10:00") $(( $(ms "2024-04-08 10:29") + 59999 )),$(ms "2024-04-09 12:00") $(( $(ms "2024-04-09 12:00") + 59999 )),"
    check "$V: a refetched candle has the generator's values" "$(stored "$V" BTC "2024-04-08 10:17")" \
          "$(expect_"$V" "2024-04-08 10:17")"

    # ---- cancelled halfway: committed chunks stay, the next run completes
    q "DELETE FROM perps_stats.klines k USING perps_stats.markets m, perps_stats.exchanges e
        WHERE m.id = k.market_id AND e.id = m.exchange_id AND e.name = '$V' AND m.symbol = 'ETH'" >/dev/null
    mock POST config '{"latency_ms": 700}' >/dev/null
    psql -X -q -v VERBOSITY=verbose -c "CALL perps_stats.backfill('$V', '{ETH}', '$SINCE+00', '$UNTIL+00', '{klines}')" \
        >"$PERPS_RUN/bf_cancel.out" 2>&1 &
    bg=$!
    if wait_for 30 "SELECT EXISTS (SELECT 1 FROM perps_stats.backfill_status WHERE exchange = '$V' AND symbol = 'ETH'
                                     AND kind = 'klines' AND state = 'running' AND chunks >= 1)"; then
        ok "$V: backfill_status shows the run's progress from another session while it runs"
    else
        nok "$V: backfill_status shows the run's progress from another session while it runs" \
            "$(q "SELECT * FROM perps_stats.backfill_status WHERE exchange = '$V'")"
    fi
    q "SELECT pg_cancel_backend(pid) FROM perps_stats.backfill_status WHERE exchange = '$V' AND symbol = 'ETH' AND kind = 'klines'" >/dev/null
    wait $bg
    mock POST config '{"latency_ms": 0}' >/dev/null
    kept=$(q "SELECT count(*) FROM perps_stats.klines k JOIN perps_stats.markets m ON m.id = k.market_id
               JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = '$V' AND m.symbol = 'ETH'")
    st=$(q "SELECT state || ' ' || rows FROM perps_stats.backfill_status WHERE exchange = '$V' AND symbol = 'ETH' AND kind = 'klines'")
    if grep -q '57014' "$PERPS_RUN/bf_cancel.out" && [ "$kept" -gt 0 ] && [ "$kept" -lt 4320 ] \
       && [ $((kept % PAGE[$V])) -eq 0 ] && [ "$st" = "interrupted $kept" ]; then
        ok "$V: the cancelled run kept its $kept committed rows (whole pages) and shows as interrupted"
    else
        nok "$V: the cancelled run kept its committed chunks" "kept $kept, status '$st'" "$(cat "$PERPS_RUN/bf_cancel.out")"
    fi
    mock DELETE log >/dev/null
    out=$(call "CALL perps_stats.backfill('$V', '{ETH}', '$SINCE+00', '$UNTIL+00', '{klines}')")
    check "$V: the next run completes the set, no duplicates, no holes" "$out|$(summary "$V" ETH)" \
          "|4320 2024-04-07 00:00 2024-04-09 23:59 4320"
    first=$(requests "$V" "${KPATH[$V]}" | python3 -c 'import json,sys; print(min(int(json.loads(l.rsplit(" ",1)[0])["startTime"]) for l in sys.stdin))')
    check "$V: and resumed after the kept rows" "$first" "$(( $(ms "$SINCE") + kept * 60000 ))"

    # ---- a 429 in the middle of a run is waited out
    q "DELETE FROM perps_stats.klines k USING perps_stats.markets m, perps_stats.exchanges e
        WHERE m.id = k.market_id AND e.id = m.exchange_id AND e.name = '$V' AND m.symbol = 'ETH'" >/dev/null
    mock DELETE log >/dev/null
    mock POST config '{"latency_ms": 300}' >/dev/null
    psql -X -q -v VERBOSITY=verbose -c "CALL perps_stats.backfill('$V', '{ETH}', '$SINCE+00', '$UNTIL+00', '{klines}')" \
        >"$PERPS_RUN/bf_429.out" 2>&1 &
    bg=$!
    wait_for 30 "SELECT EXISTS (SELECT 1 FROM perps_stats.backfill_status WHERE exchange = '$V' AND symbol = 'ETH'
                                  AND kind = 'klines' AND state = 'running' AND chunks >= 1)" >/dev/null
    mock POST faults "{\"venue\": \"$V\", \"path\": \"${KPATH[$V]}\", \"kind\": \"status\", \"status\": 429, \"retry_after\": 1, \"count\": 1}" >/dev/null
    wait $bg; rc=$?
    mock POST config '{"latency_ms": 0}' >/dev/null
    check "$V: a run that met a 429 with Retry-After: 1 completes" "$rc|$(grep -c ERROR "$PERPS_RUN/bf_429.out")|$(summary "$V" ETH)" \
          "0|0|4320 2024-04-07 00:00 2024-04-09 23:59 4320"
    got=$(requests "$V" "${KPATH[$V]}" | python3 -c '
import json, sys
rows = [(l.rsplit(" ", 1)[0], float(l.rsplit(" ", 1)[1])) for l in sys.stdin]
rep = [(a, b) for a, b in zip(rows, rows[1:]) if a[0] == b[0]]
print(len(rows), len(rep), all(b[1] - a[1] >= 1.0 for a, b in rep))')
    check "$V: the answered-429 request was repeated once, after at least the second it asked for" "$got" "4 1 True"
    mock DELETE faults >/dev/null
done

# ---- one run per (exchange, symbol, kind): a second one fails with 55P03
V=${VENUES[0]}
psql -X -q -c "SELECT pg_advisory_lock(perps_stats._backfill_lock_key('$V', 'BTC', 'klines')), pg_sleep(4)" >/dev/null 2>&1 &
holder=$!
wait_for 10 "SELECT perps_stats._backfill_lock_holder(perps_stats._backfill_lock_key('$V', 'BTC', 'klines')) IS NOT NULL" >/dev/null
ev0=$(q "SELECT max(id) FROM perps_stats.ingest_events")
out=$(call "CALL perps_stats.backfill('$V', '{BTC}', '$SINCE+00', '$UNTIL+00', '{klines}')")
check "a concurrent run for the same exchange, symbol and kind fails with lock_not_available" \
      "$out" "ERROR:  55P03: a backfill of $V BTC klines is already running"
check "and leaves an ingest_events row saying so" \
      "$(q "SELECT count(*) FROM perps_stats.ingest_events WHERE id > $ev0 AND kind = 'backfill' AND message LIKE 'backfill refused:%already running%'")" "1"
wait $holder

# ---- inside a transaction block: refused by PostgreSQL's own check
out=$(psql -X -q -v VERBOSITY=verbose -c "BEGIN" -c "CALL perps_stats.backfill('$V', '{BTC}', '$SINCE+00', '$UNTIL+00')" 2>&1 | grep ERROR)
check "inside a transaction block it fails with invalid_transaction_termination" "$out" "ERROR:  2D000: invalid transaction termination"

# ---- since => null: the earliest data is probed (max_rows => 1) and remembered.
# The binance mock generates history back to any start, so the earliest is
# the first hour the probe considers (2016-01-01 00:00 UTC).
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('$V', '{BTC}', NULL, '2016-01-01 03:00+00', '{klines}', '1h')")
check "since => null: rows from the earliest the venue has" \
      "$out|$(q "SELECT count(*) || ' ' || min(open_time) FROM perps_stats.klines WHERE interval = '1h'")|$(q "SELECT earliest || ' ' || requests FROM perps_stats.backfill_earliest WHERE exchange = '$V' AND symbol = 'BTC' AND kind = 'klines' AND interval = '1h'")" \
      "|3 2016-01-01 00:00:00+00|2016-01-01 00:00:00+00 1"
mock DELETE log >/dev/null
out=$(call "CALL perps_stats.backfill('$V', '{BTC}', NULL, '2016-01-01 03:00+00', '{klines}', '1h')")
check "a second run remembers it: no probe, no request" "$out|$(requests "$V" "${KPATH[$V]}" | wc -l)" "|0"

# ---- pg_cron
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS perps_bf_nocron" >/dev/null 2>&1
out=$(psql -X -q -d postgres -c "CREATE DATABASE perps_bf_nocron" 2>&1 && \
      psql -X -q -d perps_bf_nocron -v VERBOSITY=verbose -c "CREATE EXTENSION perps_stats CASCADE" \
           -c "SELECT perps_stats.schedule_backfill('x', '* * * * *', 'binance', '{BTC}', '1 day')" 2>&1 | grep -E '^(ERROR|HINT)')
check "without pg_cron, schedule_backfill fails with a hint" "$out" \
      "ERROR:  55000: pg_cron is not installed in database \"perps_bf_nocron\"
HINT:  CREATE EXTENSION pg_cron in the database named by cron.database_name."
psql -X -q -d postgres -c "DROP DATABASE perps_bf_nocron" >/dev/null 2>&1

q "CREATE EXTENSION IF NOT EXISTS pg_cron" >/dev/null
q "DELETE FROM cron.job_run_details" >/dev/null
# The mock's data ends at 2024-04-10 08:43:59.999.  The lookback reaches
# 07:58 that day when scheduled, so whenever within the next 90 s the job
# runs, its range starts before 08:00: the candles 08:00 .. 08:43 (44) and
# the funding rate of 08:00 must be there.
job=$(q "SELECT perps_stats.schedule_backfill('perps_bf_test', '* * * * *', '$V', '{SOL}',
                now() - timestamptz '2024-04-10 07:58+00')")
if [[ "$job" =~ ^[0-9]+$ ]]; then ok "schedule_backfill creates a pg_cron job ($job)"; else nok "schedule_backfill" "$job"; fi
if wait_for 80 "SELECT EXISTS (SELECT 1 FROM cron.job_run_details WHERE jobid = '$job'::bigint AND status = 'succeeded')"; then
    ok "pg_cron ran the job and it succeeded"
else
    nok "pg_cron ran the job and it succeeded" "$(q "SELECT status, return_message FROM cron.job_run_details WHERE jobid = '$job'::bigint")"
fi
check "the job's rows are in the tables" \
      "$(q "SELECT (SELECT count(*) || ' ' || max(open_time) FROM perps_stats.klines k JOIN perps_stats.markets m ON m.id = k.market_id
                     WHERE m.symbol = 'SOL' AND k.open_time >= '2024-04-10 08:00+00'
                       AND m.exchange_id = (SELECT id FROM perps_stats.exchanges WHERE name = '$V'))
                 || ' / ' || (SELECT count(*) FROM perps_stats.funding_rates f JOIN perps_stats.markets m ON m.id = f.market_id
                               WHERE m.symbol = 'SOL' AND f.funding_time = '2024-04-10 08:00+00'
                                 AND m.exchange_id = (SELECT id FROM perps_stats.exchanges WHERE name = '$V'))")" \
      "44 2024-04-10 08:43:00+00 / 1"
out=$(q "SELECT perps_stats.unschedule_backfill('perps_bf_test')")
check "unschedule_backfill removes the job" "$out|$(q "SELECT count(*) FROM cron.job WHERE jobname = 'perps_bf_test'")" "t|0"
