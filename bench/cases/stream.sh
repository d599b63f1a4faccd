#!/usr/bin/env bash
# End-to-end stream ingest: the Bybit stream worker against the WebSocket
# mock, which writes a burst of trades as fast as the socket takes them;
# the figure is trades committed per second (from the burst's request to
# stream_status.rows_written counting the last of them, less the time the
# mock spent encoding the frames before it sent the first), next to COPY of
# the rows the worker stored into the same table, timed in turns with it in
# the same run.  The mock's own
# send rate is measured separately, with a client that only reads frames
# (bench/ws_drain.py), so the product's figure is not the generator's.
# Book deltas: one level per frame, applied to the local book, counted by
# stream_status.messages.  Medians of REPS rounds; default settings
# (flush_rows 1000, flush_interval 200 ms); book snapshots off during the
# runs so that rows_written counts trades only.
set -uo pipefail
# BENCH_STREAM_PARTS: which sections run (default all three)
PARTS=" ${BENCH_STREAM_PARTS:-bybit binance all} "
part() { [[ $PARTS == *" $1 "* ]]; }
N=${BENCH_STREAM_TRADES:-200000}
PER=${BENCH_STREAM_PER_FRAME:-100}
D=${BENCH_STREAM_DELTAS:-50000}
REPS=${BENCH_REPS:-3}

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m}'; }
burst() { curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"venue\":\"bybit\",\"action\":\"burst\",\"kind\":\"$1\",\"count\":$2,\"per_frame\":$3}" "$PERPS_MOCK_WS_CONTROL/action"; }
st() { q "SELECT $1 FROM perps_stats.stream_status WHERE exchange = 'bybit'"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

data=$PERPS_RUN/bench_trades.copy
tck=$(getconf CLK_TCK)
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
ALTER SYSTEM SET perps_stats.stream_workers = on;
ALTER SYSTEM SET perps_stats.book_snapshot_interval = 3600;
SELECT pg_reload_conf();
SQL
if part bybit; then
# ---- the mock alone (no stream worker connected) ----
mock_tr=$(for _ in $(seq "$REPS"); do python3 bench/ws_drain.py "$PERPS_MOCK_WS_URL" "$PERPS_MOCK_WS_CONTROL" trades "$N" "$PER" | awk '{printf "%.1f\n", $2 * 1000}'; done | median)
mock_dl=$(for _ in $(seq "$REPS"); do python3 bench/ws_drain.py "$PERPS_MOCK_WS_URL" "$PERPS_MOCK_WS_CONTROL" deltas "$D" 1 | awk '{printf "%.1f\n", $2 * 1000}'; done | median)

# ---- the stream worker ----
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/bybit/v5/public/linear' WHERE name = 'bybit';
UPDATE perps_stats.watchlist SET stream = (exchange = 'bybit' AND symbol = 'BTC');
SQL
for _ in $(seq 300); do [ "$(st state)" = streaming ] && break; sleep 0.1; done
[ "$(st state)" = streaming ] || { echo "the stream worker did not start: $(st last_error)"; exit 1; }

# run_worker KIND COUNT PER COUNTER TARGET_INCREMENT: ms from the burst to the counter's increment
run_worker() {
    local c0 t0 t1 build
    c0=$(st "$4")
    t0=$(now_ms)
    build=$(burst "$1" "$2" "$3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["build_seconds"])')
    while [ "$(st "$4")" -lt $((c0 + $5)) ]; do sleep 0.02; done
    t1=$(now_ms)
    awk -v a="$t0" -v b="$t1" -v s="$build" 'BEGIN {printf "%.1f\n", b - a - s * 1000}'
}
# The worker and COPY are timed in turns, a run of each per round, so that
# both sample the machine at the same times (its speed drifts from one
# minute to the next).  COPY loads the rows the worker stored in a first,
# untimed run, into the same table emptied; the worker stays connected
# (and idle) while COPY runs.
q "TRUNCATE perps_stats.trades" >/dev/null
run_worker trades "$N" "$PER" rows_written "$N" >/dev/null
q "COPY (SELECT * FROM perps_stats.trades WHERE trade_id LIKE 'burst-%') TO STDOUT" > "$data"
times=() cps=()
for _ in $(seq "$REPS"); do
    q "TRUNCATE perps_stats.trades" >/dev/null
    times+=("$(run_worker trades "$N" "$PER" rows_written "$N")")
    stored=$(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id LIKE 'burst-%'")
    q "TRUNCATE perps_stats.trades" >/dev/null
    t0=$(now_ms); psql -X -q -v ON_ERROR_STOP=1 -c "COPY perps_stats.trades FROM STDIN" < "$data" >/dev/null; t1=$(now_ms)
    cps+=($((t1 - t0)))
done
w_ms=$(printf '%s\n' "${times[@]}" | median)
cp_ms=$(printf '%s\n' "${cps[@]}" | median)
dl_ms=$(for _ in $(seq "$REPS"); do run_worker deltas "$D" 1 messages "$D"; done | median)
errors=$(st parse_errors)
awk -v n="$N" -v per="$PER" -v d="$D" -v w="$w_ms" -v cp="$cp_ms" -v mt="$mock_tr" -v md="$mock_dl" -v dl="$dl_ms" \
    -v stored="$stored" -v reps="$REPS" -v pe="$errors" 'BEGIN {
    printf "stream ingest (bybit, WebSocket mock on loopback), %d trades in frames of %d, median of %d runs\n", n, per, reps
    printf "  stream worker, committed:   %8.1f ms  %9.0f rows/s  (%d rows stored of the last run, %d parse errors)\n", w, n / (w / 1000), stored, pe
    printf "  COPY of the same rows:      %8.1f ms  %9.0f rows/s\n", cp, n / (cp / 1000)
    printf "  the mock alone (a reader that only counts frames): %9.0f trades/s\n", n / (mt / 1000)
    printf "  stream / COPY throughput: %.2f (target >= 0.5)\n", cp / w
    printf "book deltas (one level per frame), %d, median of %d runs\n", d, reps
    printf "  stream worker, applied:     %8.1f ms  %9.0f deltas/s\n", dl, d / (dl / 1000)
    printf "  the mock alone:                          %9.0f deltas/s\n", d / (md / 1000)
}'
fi

if part binance; then
# ---- Binance: two connections, a venue at full speed for a minute ----
# The mock generates a tape of numbered aggregate trades at BR a second for
# BS seconds on its own clock (test/mock/tape.py), to every subscribed
# connection, whether the worker keeps up or not; the worker holds its two
# connections (depth on /public, trades on /market) in one event loop.
# Figures: trades committed per second from the tape's start to the commit
# of its last trade (socket to committed row; a worker that keeps up is
# done a few hundred ms after the venue); the worker's CPU time per 1000
# messages (/proc); the commit latency of each trade (its commit timestamp,
# track_commit_timestamp, minus the venue's trade time) at LR a second,
# p50 / p99 / max.  Not covered: TLS (the mock is plain ws://), a network
# with latency, the venue's other channels at full speed at the same time.
BR=${BENCH_STREAM_RATE:-20000}
BS=${BENCH_STREAM_SECONDS:-60}
LR=${BENCH_STREAM_LATENCY_RATE:-5000}
LS=${BENCH_STREAM_LATENCY_SECONDS:-20}
bst() { q "SELECT $1 FROM perps_stats.stream_status WHERE exchange = 'binance'"; }
tape() {  # tape COUNT RATE START_ID: the tape starts in 300 ms; prints its t0 (ms)
    local t0=$(( $(now_ms) + 300 ))
    curl -sf -X POST -H 'Content-Type: application/json' \
        -d "{\"venue\":\"binance\",\"action\":\"tape\",\"symbol\":\"BTCUSDT\",\"count\":$1,\"rate\":$2,\"start_id\":$3,\"t0_ms\":$t0}" \
        "$PERPS_MOCK_WS_CONTROL/action" >/dev/null
    echo "$t0"
}
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/binance', rest_url = '$PERPS_MOCK_URL/binance' WHERE name = 'binance';
UPDATE perps_stats.watchlist SET stream = (exchange = 'binance' AND symbol = 'BTC');
INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) SELECT 'binance', 'BTC', false, true
 WHERE NOT EXISTS (SELECT 1 FROM perps_stats.watchlist WHERE exchange = 'binance' AND symbol = 'BTC');
SQL
for _ in $(seq 300); do [ "$(bst state)" = streaming ] && break; sleep 0.1; done
if [ "$(bst state)" != streaming ]; then
    echo "the binance stream worker did not start: $(bst last_error)"
else
    q "TRUNCATE perps_stats.trades" >/dev/null
    pid=$(bst pid)
    tck=$(getconf CLK_TCK)
    cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); m0=$(bst messages)
    BN=$((BR * BS)); ID0=9000000001
    t0=$(tape "$BN" "$BR" "$ID0")
    deadline=$(( $(now_ms) + BS * 1000 + 120000 ))
    while [ "$(q "SELECT count(*) FROM perps_stats.trades")" -lt "$BN" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.2; done
    t_done=$(now_ms)
    cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); m1=$(bst messages)
    read -r b_stored b_distinct <<<"$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades")"
    # the COPY of the same rows, as the baseline of this run
    q "COPY (SELECT * FROM perps_stats.trades) TO STDOUT" > "$data"
    q "TRUNCATE perps_stats.trades" >/dev/null
    c0=$(now_ms); psql -X -q -v ON_ERROR_STOP=1 -c "COPY perps_stats.trades FROM STDIN" < "$data" >/dev/null; c1=$(now_ms)
    rm -f "$data"
    q "TRUNCATE perps_stats.trades" >/dev/null
    # latency at LR a second
    ID1=$((ID0 + BN)); LN=$((LR * LS))
    t1=$(tape "$LN" "$LR" "$ID1")
    deadline=$(( $(now_ms) + LS * 1000 + 60000 ))
    while [ "$(q "SELECT count(*) FROM perps_stats.trades")" -lt "$LN" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.2; done
    lat=$(q "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l)) || ' ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY l)) || ' ' || round(max(l)) || ' ' || count(*)
             FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - ts) * 1000 AS l FROM perps_stats.trades) x")
    awk -v n="$BN" -v r="$BR" -v s="$BS" -v t0="$t0" -v td="$t_done" -v st="$b_stored" -v di="$b_distinct" \
        -v cpu="$(( cpu1 - cpu0 ))" -v tck="$tck" -v msg="$(( m1 - m0 ))" -v cp="$(( c1 - c0 ))" \
        -v lat="$lat" -v lr="$LR" -v ls="$LS" 'BEGIN {
        split(lat, L, " ")
        secs = (td - t0) / 1000
        printf "stream, binance (two connections, one event loop), a tape of %d trades at %d/s for %d s\n", n, r, s
        printf "  committed: %d of %d (%d distinct), the last %.2f s after the venue generated it (%s); from the tape'"'"'s start to the last commit %.1f s: %.0f trades/s\n", st, n, di, secs - s, (st == n && secs - s < 2) ? "the worker kept up" : "the worker fell behind", secs, st / secs
        printf "  worker CPU: %.1f s for %d messages: %.2f ms per 1000 messages\n", cpu / tck, msg, msg ? (cpu / tck) * 1000000 / msg : 0
        printf "  COPY of the same rows: %.1f s (%.0f rows/s); the worker'"'"'s rate / COPY'"'"'s %.2f (the venue'"'"'s rate bounds the worker'"'"'s)\n", cp / 1000, st / (cp / 1000), (st / secs) / (st / (cp / 1000))
        printf "  commit latency at %d trades/s for %d s (venue time to commit), %d trades: p50 %d ms, p99 %d ms, max %d ms (target p99 < 1000)\n", lr, ls, L[4], L[1], L[2], L[3]
    }'
fi

fi

# ---- every streamed venue at once, each at full speed ----
# Each venue's stream worker against its WebSocket mock (the seeded ws_url's
# path under the mock), all started together.  Each venue's mock then
# floods AN trades on the venue's BTC market (or its first, trade.xyz's) in
# its own frames, AP trades a frame where the venue's frames carry several
# (one a frame where they carry one: Binance, Aster, KuCoin), as fast as
# the sockets take them, all venues from the same instant
# (test/mock/tape.py, ws_mock.py's tape with "flood": the frames are
# encoded before that instant, so the figure is not the generator's).
# Every connection that subscribed the market's trades gets them, whether
# the worker keeps up or not.  Figures: rows committed per second over all
# venues, from the flood's start to the last row's commit time, against
# COPY of the same rows into the same table, in turns, medians of REPS
# rounds; each worker's CPU per 1000 messages and per 1000 trades (/proc,
# its stream_status pid).  Not
# covered: TLS, a network with latency, the venues' book and ticker channels
# at full speed at the same time (only their subscribe-time frames flow).
if part all; then
AN=${BENCH_STREAM_ALL_TRADES:-20000}
AP=${BENCH_STREAM_ALL_PER_FRAME:-100}
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
UPDATE perps_stats.exchanges
   SET ws_url = regexp_replace(ws_url, '^wss?://[^/?]+', '$PERPS_MOCK_WS_URL/' || coalesce(adapter, name))
 WHERE ws_url IS NOT NULL AND ws_url NOT LIKE '$PERPS_MOCK_WS_URL/%';
UPDATE perps_stats.exchanges
   SET rest_url = '$PERPS_MOCK_URL/' || coalesce(adapter, name),
       aux_url = CASE WHEN aux_url IS NULL THEN NULL ELSE '$PERPS_MOCK_URL/' || coalesce(adapter, name) || '/aux' END,
       rate_limit_weight = 1000000, rate_limit_window_ms = 1000;
SQL
# KuCoin's bullet-public answer names the WebSocket mock
curl -sf -X POST -d "{\"ws_url\":\"$PERPS_MOCK_WS_URL\"}" "$PERPS_MOCK_URL/_mock/config" >/dev/null
all=$(q "SELECT string_agg(name, ' ' ORDER BY id) FROM perps_stats.exchanges WHERE ws_url IS NOT NULL")
if [ -n "${BENCH_STREAM_ALL_VENUES:-}" ]; then      # a subset, e.g. for a profile of one venue
    all=$(for v in $all; do [[ " $BENCH_STREAM_ALL_VENUES " == *" $v "* ]] && echo "$v"; done | xargs)
fi
for v in $all; do q "SELECT perps_stats.refresh_markets('$v')" >/dev/null 2>&1; done
q "UPDATE perps_stats.watchlist SET stream = false" >/dev/null
# each venue's BTC, or its first market where it has none (trade.xyz)
declare -A SYM
for v in $all; do
    SYM[$v]=$(q "SELECT coalesce((SELECT m.symbol FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
                                  WHERE e.name = '$v' AND m.symbol = 'BTC'),
                                 (SELECT min(m.symbol) FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
                                  WHERE e.name = '$v' AND m.active), 'BTC')")
    q "INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('$v', '${SYM[$v]}', false, true)
       ON CONFLICT (exchange, symbol) DO UPDATE SET stream = true" >/dev/null
done
# ready: every worker streams, or is connected and has had its subscriptions
# answered (a venue that sends nothing before its first change, KuCoin's
# and Nado's mocks, leaves the state at connecting until then)
nall=$(echo $all | wc -w)
vlist=$(for v in $all; do printf "'%s'," "$v"; done); vlist=${vlist%,}
for _ in $(seq 600); do
    [ "$(q "SELECT count(*) FROM perps_stats.stream_status WHERE exchange IN ($vlist)
              AND (state = 'streaming' OR (state = 'connecting' AND messages > 0 AND pid IS NOT NULL))")" -ge "$nall" ] && break
    sleep 0.1
done
sleep 2
# the venues that stream, their workers and their markets
taped="" untaped=""
declare -A PID CPU0 MSG0 MV NAT GOT
for v in $all; do
    st_row=$(q "SELECT coalesce(pid, 0) || ' ' || messages || ' ' || state FROM perps_stats.stream_status WHERE exchange = '$v'")
    read -r pid msgs state <<<"$st_row"
    native=$(q "SELECT native_symbol FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
                 WHERE e.name = '$v' AND m.symbol = '${SYM[$v]}'")
    if [ "${state:-}" != streaming ] && [ "${state:-}" != connecting ] || [ -z "$native" ] || [ "${pid:-0}" = 0 ]; then
        untaped="$untaped $v(${state:-no worker}: $(q "SELECT coalesce(last_error, '') FROM perps_stats.stream_status WHERE exchange = '$v'"))"
        continue
    fi
    # trade.xyz's coins are served by the Hyperliquid mock
    taped="$taped $v"; PID[$v]=$pid; MSG0[$v]=$msgs; NAT[$v]=$native; GOT[$v]=0
    MV[$v]=$(q "SELECT coalesce(adapter, name) FROM perps_stats.exchanges WHERE name = '$v'")
    CPU0[$v]=$(awk '{print $14 + $15}' "/proc/$pid/stat")
done
nv=$(echo $taped | wc -w)
# REPS rounds: each a flood on every venue from one instant, then COPY of the
# rows it stored, timed in turns (the machine's speed drifts)
secs_l=() copy_l=() got_all=0 late=""
if [ "$nv" -gt 0 ]; then
    want=$((nv * AN))
    for ((r = 0; r < REPS; r++)); do
        q "TRUNCATE perps_stats.trades" >/dev/null
        t0=$(( $(now_ms) + ${BENCH_STREAM_ALL_LEAD_MS:-8000} ))
        for v in $taped; do
            # ids past the Binance section's and the last round's (a sequential venue's worker drops ids it has passed)
            curl -sf -X POST -H 'Content-Type: application/json' \
                -d "{\"venue\":\"${MV[$v]}\",\"action\":\"tape\",\"symbol\":\"${NAT[$v]}\",\"count\":$AN,\"rate\":100000,\"start_id\":$((9500000001 + r * AN)),\"t0_ms\":$t0,\"flood\":$AP}" \
                "$PERPS_MOCK_WS_CONTROL/action" >/dev/null || untaped="$untaped $v(no tape)"
        done
        # done: polled seldom (a count over the table costs the workers' CPU), timed
        # exactly by the last row's commit time (track_commit_timestamp)
        deadline=$(( t0 + 120000 ))
        while [ "$(q "SELECT count(*) FROM perps_stats.trades")" -lt "$want" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.5; done
        t_done=$(q "SELECT (extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) * 1000)::bigint FROM perps_stats.trades")
        secs_l+=($(( t_done - t0 )))
        got_all=$(( got_all + $(q "SELECT count(*) FROM perps_stats.trades") ))
        for v in $taped; do
            ts=$(curl -sf -X POST -H 'Content-Type: application/json' -d "{\"venue\":\"${MV[$v]}\",\"action\":\"tape_status\",\"symbol\":\"${NAT[$v]}\"}" \
                 "$PERPS_MOCK_WS_CONTROL/action")
            b_ms=$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("build_ms") or 0)' <<<"$ts")
            [ "$b_ms" -lt "${BENCH_STREAM_ALL_LEAD_MS:-8000}" ] || late="$late $v"
        done
        while read -r v n; do GOT[$v]=$(( ${GOT[$v]:-0} + n )); done < <(q "SELECT e.name || ' ' || count(*) FROM perps_stats.trades t
            JOIN perps_stats.markets m ON m.id = t.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id GROUP BY e.name")
        q "COPY (SELECT * FROM perps_stats.trades) TO STDOUT" > "$data"
        q "TRUNCATE perps_stats.trades" >/dev/null
        c0=$(now_ms); psql -X -q -v ON_ERROR_STOP=1 -c "COPY perps_stats.trades FROM STDIN" < "$data" >/dev/null; c1=$(now_ms)
        copy_l+=($(( c1 - c0 )))
        rm -f "$data"
    done
    secs=$(printf '%s\n' "${secs_l[@]}" | median)
    cp=$(printf '%s\n' "${copy_l[@]}" | median)
    echo "stream, every venue at once at full speed: $nv venues, each sent $AN trades at once ($AP a frame where the venue's frames carry several), median of $REPS rounds${untaped:+; left out:$untaped}"
    awk -v got="$got_all" -v want="$((want * REPS))" -v n="$want" -v secs="$secs" -v cp="$cp" -v sl="${secs_l[*]}" -v cl="${copy_l[*]}" 'BEGIN {
        printf "  committed: %d of %d in all; from the flood'"'"'s start to the last commit %.2f s (rounds: %s ms): %.0f rows/s\n", got, want, secs / 1000, sl, n / (secs / 1000)
        printf "  COPY of the same rows: %.2f s (rounds: %s ms): %.0f rows/s; the workers'"'"' rate / COPY'"'"'s: %.2f (target >= 0.5)\n", cp / 1000, cl, n / (cp / 1000), cp / secs
    }'
    for v in $taped; do
        pid=${PID[$v]}
        cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo "${CPU0[$v]}")
        m1=$(q "SELECT messages FROM perps_stats.stream_status WHERE exchange = '$v'")
        awk -v v="$v" -v c="$(( cpu1 - CPU0[$v] ))" -v tck="$tck" -v m="$(( m1 - MSG0[$v] ))" -v n="${GOT[$v]:-0}" -v an="$((AN * REPS))" 'BEGIN {
            printf "  %-12s %7d of %d trades committed; worker CPU %.2f s for %d messages: %.2f ms per 1000 messages, %.2f ms per 1000 trades\n",
                   v, n, an, c / tck, m, m ? (c / tck) * 1000000 / m : 0, n ? (c / tck) * 1000000 / n : 0 }'
    done
    [ -z "$late" ] || echo "  (the mock was still encoding the frames of$late at the start: raise BENCH_STREAM_ALL_LEAD_MS)"
fi
fi

psql -X -q >/dev/null <<SQL
ALTER SYSTEM RESET perps_stats.book_snapshot_interval;
ALTER SYSTEM SET perps_stats.stream_workers = off;
SELECT pg_reload_conf();
SQL
rm -f "$data"

