#!/usr/bin/env bash
# perps_stats: the whole test suite, from a fresh machine.  `make test`.
#
#   1. installs missing Debian packages (scripts/deps.sh)
#   2. builds with -Werror (SANITIZE=1: with AddressSanitizer and UBSan)
#   3. installs into a private copy of PostgreSQL and starts a throwaway
#      cluster with shared_preload_libraries = 'perps_stats,pg_cron'
#   4. starts the services the tests talk to (mock exchange, PostgREST)
#   5. pg_regress (test/sql -> expected/), pgTAP (test/pgtap), integration
#      tests (test/integration: pgTAP files and TAP-emitting scripts)
#   6. stops everything, whatever happened, and prints "N passed, N failed"
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/cluster.sh

SANITIZE=${SANITIZE:-0}
RUN=$(mktemp -d /tmp/perps_test.XXXXXX)
chmod 755 "$RUN"
export PERPS_RUN=$RUN
passed=0 failed=0
PIDS=()

cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    perps_cluster_stop "$RUN"
    if [ "$failed" -eq 0 ] && [ -z "${KEEP_RUN:-}" ]; then rm -rf "$RUN"; else echo "run directory kept: $RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo; echo "== $*"; }

step "dependencies"
bash scripts/deps.sh || exit 1

step "build (SANITIZE=$SANITIZE)"
flags="SANITIZE=$SANITIZE"
perps_build "$flags" || exit 1

step "cluster"
perps_stage "$RUN" "$flags" || exit 1
if [ "$SANITIZE" = 1 ]; then
    PERPS_PRELOAD=$(gcc -print-file-name=libasan.so)
    export PERPS_PRELOAD
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:verify_asan_link_order=0:log_path=$RUN/asan"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$RUN/ubsan"
fi
TESTDB=contrib_regression
perps_cluster_start "$RUN" "cron.database_name = '$TESTDB'" "perps_stats.database = '$TESTDB'" \
    "perps_stats.stream_workers = off" || exit 1
createdb -T template0 $TESTDB || exit 1
export PGDATABASE=$TESTDB
echo "cluster on port $PGPORT, socket $PGHOST"

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

integ=()
for f in test/integration/*; do [ -f "$f" ] && integ+=("$f"); done
if [ ${#integ[@]} -gt 0 ]; then
    # .sql files are pgTAP, everything else an executable that prints TAP
    step "integration"
    for f in "${integ[@]}"; do
        case "$f" in
            *.sql) run_prove "integration $(basename "$f")" --exec "psql -X -q -t -A -v ON_ERROR_STOP=1 -f" "$f" ;;
            *)     run_prove "integration $(basename "$f")" --exec bash "$f" ;;
        esac
    done
fi

if [ "$SANITIZE" = 1 ]; then
    step "sanitizer reports"
    if ls "$RUN"/asan* "$RUN"/ubsan* >/dev/null 2>&1; then
        cat "$RUN"/asan* "$RUN"/ubsan* 2>/dev/null | head -100
        failed=$((failed + 1))
    else
        echo "no AddressSanitizer or UBSan reports"
    fi
fi
if grep -qE 'server process .* was terminated by signal|PANIC' "$RUN/postgres.log"; then
    step "server crashes"
    grep -E -B2 -A5 'terminated by signal|PANIC' "$RUN/postgres.log" | head -60
    failed=$((failed + 1))
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
