#!/usr/bin/env bash
# perps_stats: the whole test suite, from a fresh machine.  `make test`.
#
#   1. installs missing Debian packages (scripts/deps.sh)
#   2. builds with -Werror (SANITIZE=1: with AddressSanitizer and UBSan)
#   3. installs into a private copy of PostgreSQL and starts a throwaway
#      cluster with shared_preload_libraries = 'perps_stats,pg_cron'
#      (SANITIZE=1: with the ASAN runtime preloaded; VALGRIND=1: under
#      valgrind's memcheck)
#   4. starts the services the tests talk to (mock exchange, PostgREST)
#   5. pg_regress (test/sql -> expected/), pgTAP (test/pgtap), integration
#      tests (test/integration: pgTAP files and TAP-emitting scripts)
#   6. stops everything, whatever happened, and prints "N passed, N failed";
#      a sanitizer report, or a valgrind error with a frame in perps_stats,
#      counts as a failure
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/cluster.sh

SANITIZE=${SANITIZE:-0}
VALGRIND=${VALGRIND:-0}
if [ "$SANITIZE" = 1 ] && [ "$VALGRIND" = 1 ]; then
    echo "SANITIZE=1 and VALGRIND=1 do not go together: run one, then the other" >&2
    exit 2
fi
RUN=$(mktemp -d /tmp/perps_test.XXXXXX)
chmod 755 "$RUN"
export PERPS_RUN=$RUN
passed=0 failed=0
PIDS=()
LANE_PIDS=()

# The clusters' directories: the first one, and one per further lane.
cluster_dirs() { echo "$RUN"; for d in "$RUN"/lane.*/; do [ -d "$d" ] && echo "${d%/}"; done; }
server_logs() { local d; for d in $(cluster_dirs); do [ -f "$d/postgres.log" ] && echo "$d/postgres.log"; done; }

# What the sanitizers or valgrind saw; run at the end, or by cleanup after
# an early exit (a server that crashed on an error makes the suite stop short).
reports_checked=0
check_reports() {
    reports_checked=1
    if [ "$SANITIZE" = 1 ]; then
        step "sanitizer reports"
        sanitizer_log='runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer'
        reports=$(shopt -s nullglob; echo "$RUN"/asan* "$RUN"/ubsan*)
        if [ -n "$reports" ] || grep -qE "$sanitizer_log" $(server_logs); then
            [ -n "$reports" ] && cat $reports | head -100
            grep -E -A40 "$sanitizer_log" $(server_logs) | head -100
            failed=$((failed + 1))
        else
            echo "no AddressSanitizer or UBSan reports"
        fi
    fi
    if [ "$VALGRIND" = 1 ]; then
        step "valgrind"
        # The logs are complete once the processes have exited.
        perps_cluster_stop "$RUN"
        # Each error is a block between the markers.  Those with a frame in
        # our code (a source path under src/ or worker/, or perps_stats.so
        # without debug information) in any of their stacks (where, and where
        # the memory was allocated or freed) are shown first.  Any error fails
        # the run: one in PostgreSQL itself is either noise for
        # test/valgrind.supp or a bug worth a look.
        vglogs=()
        for f in "$RUN"/valgrind/*.log; do [ -e "$f" ] && vglogs+=("$f"); done
        if [ ${#vglogs[@]} -eq 0 ]; then
            echo "no valgrind logs in $RUN/valgrind: the server did not run under valgrind"
            failed=$((failed + 1))
        fi
        awk -v ours="$ROOT/(src|worker)/|/perps_stats[.]so" -v out="$RUN/valgrind-ours.txt" '
            /VALGRINDERROR-BEGIN/ { inerr = 1; block = ""; mine = 0; next }
            /VALGRINDERROR-END/   { inerr = 0; n++; if (mine) { m++; print block > out } else other = other block "\n"; next }
            inerr { block = block FILENAME ": " $0 "\n"; if ($0 ~ ours) mine = 1 }
            END {
                printf "%d valgrind errors, %d in perps_stats code\n", n, m
                if (n > m) printf "errors outside perps_stats (noise from PostgreSQL goes in test/valgrind.supp):\n%s", other
                exit n > m
            }' /dev/null "${vglogs[@]}" > "$RUN/valgrind-report.txt"
        [ $? -eq 0 ] || failed=$((failed + 1))
        if [ -s "$RUN/valgrind-ours.txt" ]; then
            echo "errors in perps_stats:"
            head -200 "$RUN/valgrind-ours.txt"
            failed=$((failed + 1))
        fi
        head -300 "$RUN/valgrind-report.txt"
        # A process with an error exits with valgrind's error exit code.
        grep -E "exited with exit code $PERPS_VALGRIND_EXIT\b" "$RUN/postgres.log" | head -20
    fi
}

cleanup() {
    for p in "${LANE_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    for d in "$RUN"/lane.*/; do [ -d "$d" ] && perps_cluster_stop "${d%/}"; done
    perps_cluster_stop "$RUN"
    [ "$reports_checked" = 1 ] || [ ! -f "$RUN/postgres.log" ] || check_reports
    if [ "$failed" -eq 0 ] && [ -z "${KEEP_RUN:-}" ]; then rm -rf "$RUN"; else echo "run directory kept: $RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo; echo "== $*"; }

step "dependencies"
[ "$VALGRIND" = 1 ] && export PERPS_EXTRA_PACKAGES="${PERPS_EXTRA_PACKAGES:-} valgrind"
bash scripts/deps.sh || exit 1
perps_system_python

step "build (SANITIZE=$SANITIZE)"
flags="SANITIZE=$SANITIZE"
perps_build "$flags" || exit 1

step "cluster"
perps_stage "$RUN" "$flags" || exit 1
if [ "$SANITIZE" = 1 ]; then
    perps_asan_preload "$RUN" || exit 1
    # ASAN reports go to $RUN/asan.<pid>, UBSan's to the server log; UBSan's
    # log_path sets ASAN's, so they are the same (scripts/sanitize_preload.c).
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:verify_asan_link_order=0:log_path=$RUN/asan"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$RUN/asan"
fi
export PERPS_VALGRIND=$VALGRIND
TESTDB=contrib_regression
# the collector is off: its rounds would write into the tables other tests
# count; test/integration/20_workers.sql switches it on and off again.
# The stream workers are off: they would connect to the real venues;
# test/integration/60_stream_bybit.sh points Bybit at the mock and switches
# them on and off again.
perps_cluster_start "$RUN" "cron.database_name = '$TESTDB'" "perps_stats.database = '$TESTDB'" \
    "perps_stats.collect_interval = 0" "perps_stats.stream_workers = off" || exit 1
createdb -T template0 $TESTDB || exit 1
export PGDATABASE=$TESTDB
echo "cluster on port $PGPORT, socket $PGHOST"
[ "$VALGRIND" = 1 ] && echo "under valgrind, logs in $RUN/valgrind"

# services: each test/services/*.sh is sourced; it starts what it provides,
# appends its pids to PIDS and exports how to reach it.
for svc in test/services/*.sh; do
    [ -e "$svc" ] || continue
    step "service $(basename "$svc" .sh)"
    . "$svc" || { echo "service $svc failed to start"; failed=$((failed+1)); exit 1; }
done

step "pg_regress"
REGRESS=$(cd test/sql && ls *.sql 2>/dev/null | sed 's/\.sql$//' | sort)
mkdir -p build/regress
if [ -n "$REGRESS" ]; then
    "$PG_STAGE$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" \
        --use-existing --host="$PGHOST" --port="$PGPORT" --user=postgres \
        --bindir="$PG_BIN" --inputdir=test --outputdir=build/regress \
        --dbname=$TESTDB $REGRESS | tee "$RUN/regress.out"
    # pg_regress prints one line per test: "test name ... ok" or "... FAILED"
    n_ok=$(grep -cE '\.\.\. ok' "$RUN/regress.out" || true)
    n_bad=$(grep -cE '\.\.\. FAILED' "$RUN/regress.out" || true)
    passed=$((passed + n_ok)); failed=$((failed + n_bad))
    [ "$n_bad" -gt 0 ] && [ -f build/regress/regression.diffs ] && head -200 build/regress/regression.diffs
fi

run_prove() {
    local label=$1; shift
    [ $# -gt 0 ] || return 0
    step "$label"
    prove --norc -v --timer "$@" 2>&1 | tee "$RUN/prove.out"
    local st=${PIPESTATUS[0]}
    local n_ok n_bad
    n_ok=$(grep -cE '^ *ok [0-9]' "$RUN/prove.out" || true)
    n_bad=$(grep -cE '^ *not ok [0-9]' "$RUN/prove.out" || true)
    [ "$st" -ne 0 ] && [ "$n_bad" -eq 0 ] && n_bad=1
    passed=$((passed + n_ok)); failed=$((failed + n_bad))
}

psql -X -q -c 'CREATE EXTENSION IF NOT EXISTS pgtap' >/dev/null || exit 1
pgtap=(test/pgtap/*.sql)
[ -e "${pgtap[0]}" ] && run_prove "pgTAP" --exec "psql -X -q -t -A -v ON_ERROR_STOP=1 -f" "${pgtap[@]}"

# The integration tests (test/integration) and the recorded tier
# (test/recorded, when the recordings are present) run in PERPS_LANES lanes
# (default 2; 1 under valgrind): lane 0 is the cluster and services above,
# each other lane a cluster and services of its own, the same settings, with
# the extension created.  The lanes take the tests from one queue, those
# marked "# perps-test: long" first, then in name order, so that they end
# together; most tests wait on mocks and workers more than they compute.
# Those marked "# perps-test: serial" (a venue flooding a worker at full
# speed, where a busy machine would be the test's subject) run after, in
# lane 0 alone.
# A test owns its lane's cluster while it runs, and sets up what it needs
# (a test never counts on another having run before it).  .sql files are
# pgTAP, everything else an executable that prints TAP.  PERPS_ONLY=regex:
# only the tests whose path matches (e.g. a long VALGRIND=1 run of one
# test); pg_regress and pgTAP always run.  Each test's result is printed as
# it ends; the lanes' whole output follows at the end.
LANES=${PERPS_LANES:-2}
[ "$VALGRIND" = 1 ] && LANES=1
queue=$RUN/queue
list_tests() { # TIER FILE...: the matching ones, "TIER FILE" lines
    local tier=$1 f; shift
    for f in "$@"; do
        [ -f "$f" ] || continue
        [ -n "${PERPS_ONLY:-}" ] && ! [[ "$f" =~ $PERPS_ONLY ]] && continue
        echo "$tier $f"
    done
}
{
    list_tests integration test/integration/*
    [ -n "${PERPS_RECORDED:-}" ] && list_tests recorded test/recorded/*
} > "$RUN/tests"
mark() { grep -q "^# perps-test: $2" "$1"; }
while read -r tier f; do mark "$f" serial || ! mark "$f" long || echo "$tier $f"; done < "$RUN/tests" > "$queue"
while read -r tier f; do mark "$f" serial || mark "$f" long || echo "$tier $f"; done < "$RUN/tests" >> "$queue"
while read -r tier f; do mark "$f" serial && echo "$tier $f"; done < "$RUN/tests" > "$queue.serial"
[ "$(wc -l < "$queue")" -lt "$LANES" ] && LANES=$(( $(wc -l < "$queue") > 0 ? $(wc -l < "$queue") : 1 ))

# lane_run K [QUEUE]: takes tests from the queue until it is empty; its output in
# $RUN/lane.K.out, its counts ("own ok, own failed, recorded ok, recorded
# failed") in $RUN/lane.K.counts.
lane_run() {
    local k=$1 q=${2:-$queue} line tier f t0 st n_ok n_bad own_ok=0 own_bad=0 rec_ok=0 rec_bad=0
    local out=$RUN/lane.$k.out one=$RUN/lane.$k.prove
    [ -f "$RUN/lane.$k.counts" ] && read -r own_ok own_bad rec_ok rec_bad < "$RUN/lane.$k.counts"
    while line=$(flock "$queue.lock" sh -c 'head -1 "$1"; sed -i 1d "$1"' _ "$q") && [ -n "$line" ]; do
        tier=${line%% *} f=${line#* } t0=$SECONDS
        echo >> "$out"; echo "== $tier $(basename "$f") (lane $k)" >> "$out"
        case "$f" in
            *.sql) prove --norc -v --timer --exec "psql -X -q -t -A -v ON_ERROR_STOP=1 -f" "$f" > "$one" 2>&1 ;;
            *)     prove --norc -v --timer --exec bash "$f" > "$one" 2>&1 ;;
        esac
        st=$?
        cat "$one" >> "$out"
        n_ok=$(grep -cE '^ *ok [0-9]' "$one" || true)
        n_bad=$(grep -cE '^ *not ok [0-9]' "$one" || true)
        [ "$st" -ne 0 ] && [ "$n_bad" -eq 0 ] && n_bad=1
        if [ "$tier" = recorded ]; then rec_ok=$((rec_ok + n_ok)) rec_bad=$((rec_bad + n_bad))
        else own_ok=$((own_ok + n_ok)) own_bad=$((own_bad + n_bad)); fi
        printf '%-9s %-32s %4d passed, %d failed, %4d s (lane %d)\n' "$tier" "$(basename "$f")" "$n_ok" "$n_bad" $((SECONDS - t0)) "$k"
    done
    echo "$own_ok $own_bad $rec_ok $rec_bad" > "$RUN/lane.$k.counts"
}

# lane_start K: lane K's cluster ($RUN/lane.K), its database with the
# extensions, its services; then lane_run.  In a subshell of its own, which
# stops them when it ends.
lane_start() {
    local k=$1 dir=$RUN/lane.$k svc
    PIDS=()
    # $dir now: the trap runs when the subshell ends, where the function's locals are gone
    trap 'for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; perps_cluster_stop "'"$dir"'"' EXIT
    trap 'exit 130' INT TERM
    mkdir -p "$dir"
    {
        perps_cluster_start "$dir" "cron.database_name = '$TESTDB'" "perps_stats.database = '$TESTDB'" \
            "perps_stats.collect_interval = 0" "perps_stats.stream_workers = off" &&
        createdb -T template0 $TESTDB &&
        psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION perps_stats CASCADE; CREATE EXTENSION pgtap' &&
        for svc in test/services/*.sh; do [ -e "$svc" ] || continue; . "$svc" || exit 1; done
    } > "$dir.setup" 2>&1 || {
        echo "lane $k: its cluster or services did not start:"; tail -30 "$dir.setup"
        echo "0 1 0 0" > "$RUN/lane.$k.counts"; exit 1
    }
    lane_run "$k"
}

step "integration and recorded tests: $(wc -l < "$queue") files in $LANES lanes, then $(wc -l < "$queue.serial") alone"
LANE_PIDS=()
for k in $(seq 1 $((LANES - 1))); do
    ( lane_start "$k" ) &
    LANE_PIDS+=($!)
done
( lane_run 0 ) &
LANE_PIDS+=($!)
wait "${LANE_PIDS[@]}"
LANE_PIDS=()
lane_run 0 "$queue.serial"
own_passed=0 own_failed=0 rec_passed=0 rec_failed=0
for k in $(seq 0 $((LANES - 1))); do
    [ -f "$RUN/lane.$k.out" ] && cat "$RUN/lane.$k.out"
    if [ -f "$RUN/lane.$k.counts" ]; then read -r a b c d < "$RUN/lane.$k.counts"; else a=0 b=1 c=0 d=0; echo "lane $k left no counts"; fi
    own_passed=$((own_passed + a)) own_failed=$((own_failed + b)) rec_passed=$((rec_passed + c)) rec_failed=$((rec_failed + d))
done
passed=$((passed + own_passed + rec_passed)) failed=$((failed + own_failed + rec_failed))

# the fuzz smoke: every fuzz target for a few seconds (fuzz/run.sh, fuzz/run_stream.sh:
# libFuzzer with ASAN and UBSan, seeded from test/payloads; fuzz/run_analytics.sh: the
# order-book SQL functions in a single-user backend of its own), when clang has libFuzzer.
# PERPS_FUZZ_SMOKE=0 skips it; any crash is a failure.
fuzz_ok=0 fuzz_bad=0
if [ "${PERPS_FUZZ_SMOKE:-1}" = 1 ] && [ -z "${PERPS_ONLY:-}" ] && command -v clang >/dev/null &&
   echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
       clang -x c -fsanitize=fuzzer - -o "$RUN/fuzz_probe" 2>/dev/null; then
    step "fuzz smoke"
    for target in "fuzz/run.sh FUZZ_SECONDS=2" "fuzz/run_stream.sh FUZZ_TIME=2" \
                  "fuzz/run_analytics.sh FUZZ_SECONDS=2"; do
        set -- $target
        if env "$2" bash "$1" > "$RUN/fuzz.out" 2>&1; then
            n_ok=$(grep -c '^== fuzzing' "$RUN/fuzz.out" || true)
            fuzz_ok=$((fuzz_ok + n_ok))
            grep -E '^== fuzzing|^Done' "$RUN/fuzz.out" | paste - - | sed 's/^== /ok fuzz: /'
        else
            fuzz_bad=$((fuzz_bad + 1))
            tail -60 "$RUN/fuzz.out"
        fi
    done
    passed=$((passed + fuzz_ok)); failed=$((failed + fuzz_bad))
fi

check_reports
# any process of the server that died of a signal, except the pids a test
# killed on purpose (listed in $RUN/expected_kills, see 66_stream_sigkill.sh)
crash_lines() {
    local d killed
    for d in $(cluster_dirs); do
        [ -f "$d/postgres.log" ] || continue
        killed=$(paste -sd'|' "$d/expected_kills" 2>/dev/null)
        grep -E 'was terminated by signal|PANIC' "$d/postgres.log" |
            if [ -n "$killed" ]; then grep -vE "\(PID ($killed)\) was terminated by signal 9:"; else cat; fi
    done
}
if [ -n "$(crash_lines)" ]; then
    step "server crashes"
    crash_lines | head -20
    grep -E -B2 -A5 'terminated by signal|PANIC' $(server_logs) | head -60
    failed=$((failed + 1))
fi

echo
echo "own payloads (test/payloads): $own_passed passed, $own_failed failed, besides pg_regress and pgTAP"
if [ -n "${PERPS_RECORDED:-}" ]; then
    echo "recorded payloads ($PERPS_RECORDED): $rec_passed passed, $rec_failed failed"
else
    echo "recorded payloads: NOT RUN, no ../shared/fixtures beside the checkout (set PERPS_FIXTURES to run them)"
fi
if [ $((fuzz_ok + fuzz_bad)) -gt 0 ]; then
    echo "fuzz smoke: $fuzz_ok targets ran clean, $fuzz_bad runs failed"
elif [ -z "${PERPS_ONLY:-}" ]; then
    echo "fuzz smoke: NOT RUN (no clang with libFuzzer, or PERPS_FUZZ_SMOKE=0)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
