#!/usr/bin/env bash
# `make fuzz-analytics`: libFuzzer on the order-book SQL functions
# (fuzz/fuzz_analytics.c) for FUZZ_SECONDS (default 60).
#
# The functions fall back to numeric.c, which lives only in the postgres
# executable, so the harness and the analytics sources are built into a
# loadable module (build/fuzz/analytics/perps_fuzz_analytics-<sanitizers>.so,
# with libFuzzer's driver, UBSan and, unless FUZZ_ASAN=0, AddressSanitizer) and
# run in a throwaway single-user backend: initdb into a temporary folder,
# then `postgres --single` loads the module, declares the analytics
# functions from sql/install/20_analytics.sql and calls
# perps_fuzz_analytics(), which hands libFuzzer its command line.  No port,
# no server: nothing is shared with other clusters.  As root, PostgreSQL
# runs as the postgres user (scripts/cluster.sh).
#
# The seeds are the books below; crashes are saved as
# build/fuzz/analytics/crash-*.  FUZZ_REPLAY=FILE runs that one input.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_EACH=${FUZZ_SECONDS:-60}
ASAN=${FUZZ_ASAN:-1}
# levels a side may have (the functions take up to 100000; a book that
# large takes seconds per input here): FUZZ_MAX_LEVELS=100001 for a run
# at the limit, with a seed of that size and one past it
MAX_LEVELS=${FUZZ_MAX_LEVELS:-2000}
. fuzz/common.sh
. scripts/cluster.sh

WORK=$ROOT/$OUT/analytics
mkdir -p "$WORK"
PG_BIN=$(pg_config --bindir)
RT=$($CC -print-runtime-dir)
SAN=undefined
[ "$ASAN" = 1 ] && SAN=address,undefined

# The module, rebuilt when a source, a header or this script changed (not
# through common.sh's fuzz_objects: these need -fPIC and the server's
# headers, and a change to a header, book_lane.h above all, must rebuild).
# -fwrapv is left out (PGXS has it) so that UBSan reports any signed
# overflow: the analytics code means to have none.  -Bsymbolic binds the
# coverage callbacks to the libFuzzer inside the module, not to the weak
# ones of a preloaded ASAN runtime (which leave libFuzzer blind).
so=$WORK/perps_fuzz_analytics-$SAN.so
srcs="src/analytics.c src/book_math.c src/book_walk.c src/exactnum.c src/vwap.c src/wsum.c"
if [ ! -f "$so" ] || [ -n "$(find $srcs src/*.h fuzz/fuzz_analytics.c "$0" -newer "$so" 2>/dev/null)" ]; then
    cflags="-g -O1 -fPIC -fno-omit-frame-pointer -fno-strict-aliasing -I$(pg_config --includedir-server) -Isrc
            -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-ignored-attributes
            -fsanitize=fuzzer-no-link,$SAN -fno-sanitize-recover=all"
    objs=() pids=()
    mkdir -p "$WORK/obj-$SAN"
    for f in $srcs fuzz/fuzz_analytics.c; do
        o=$WORK/obj-$SAN/$(basename "$f" .c).o
        $CC $cflags -c "$f" -o "$o" &
        objs+=("$o") pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    $CC -shared -fsanitize=$SAN -shared-libsan -Wl,-Bsymbolic -Wl,-rpath,"$RT" -o "$so" "${objs[@]}" \
        "$RT/libclang_rt.fuzzer_no_main-x86_64.a" -lstdc++
fi

# The seeds: a few books, each a line per level (fuzz/fuzz_analytics.c
# describes the format); at the size limit only with FUZZ_MAX_LEVELS.
corpus=$WORK/corpus
rm -rf "$corpus"; mkdir -p "$corpus"
seed() { cat > "$corpus/$1"; }
seed btc <<'EOF'
b 64210.5 0.125
b 64210.1 1.5
b 64200 3.25
a 64211 0.4
a 64211.75 2
a 64250 7.125
s buy 50000
s sell 100
EOF
seed fine <<'EOF'
b 0.000123456 1000000
b 0.00012345 2500000.5
b 0.0001 10
a 0.000123457 750000
a 0.0002 1
t 0 0.5 1 2.5 10 10000
EOF
seed deep <<'EOF'
B 400 1999.99 0.01 1.5 0.25 12
A 400 2000.01 0.01 2 0.75
t 1 5 25 100 1000
s buy 1000000
s sell 2500000
EOF
seed scales <<'EOF'
b 100.10 1.000
b 100.0999 2
b L:99.5 0.000000000000000000001
a 100.2 H:3
a 100.20000000000000000001 5.5
a 101 ~0/4/7.5000
s buy Z:12345.678901234567890123456789
v 1.5 2
v NULL 3
v 2.25 -1
w 1
r 30
EOF
seed huge <<'EOF'
b 123456789012345678901234567890.5 98765432109876543210
b 1 1e-40
a 123456789012345678901234567891 1e30
t 0.0000001 1e20
EOF
seed hostile <<'EOF'
b 10 1
b 11 NaN
a 9 Infinity
a -1 0
t -1 NULL
s hold 0
shape asks 1d
EOF
seed shapes <<'EOF'
b 5 1
b 4 2
a 6 1
a 7 2
shape bids flip
shape asks lb=0
shape t 2d
t 1
EOF
# the lane's edges: 64-bit values near their limit, four fractional digit
# groups, elements of other lengths near the end of the array
seed lane <<'EOF'
b 92233720368547.7580 0.0001
b 92233720368547.758 1
b 9223372036854.77 0.00000000000000001
b 100.0001 10000
b 100 123456789012.3456
b 99.9999 1
a 92233720368547.759 1
a 1000000000000000000 0.0000000000000001
a 1e19 1
t 0 0.0001 1e15
s buy 850705917302346158658428241.0000000001
s sell 1e-30
r 17
EOF
seed limits <<'EOF'
b 2 1
a 3 1
T 1001 0 1
EOF
if [ "$MAX_LEVELS" -gt 100000 ]; then
    seed largest <<'EOF'
B 100000 100000 0.5 1 0.001
A 3 100001 1 1
T 1000 0 0.25
EOF
    seed too_many <<'EOF'
B 50001 1 0 1
shape bids 1d
a 2 1
EOF
fi
seed vwap <<'EOF'
v 64000.5 0.001
v 64001 2
v 63999.99 ~0/2/0.5000
v Infinity 1
v 1 0
w 2
EOF
# quotients that end in a 5 just past their scale: rounding ties
seed ties <<'EOF'
v 1.000000000000000000005 1
v 0 1
b 1.00000000000000000001 1
a 1.00000000000000000003 0.000000000000000000001
s buy 0.000000000000000000001000000000000000000025
EOF
chmod -R a+rX "$WORK"
if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$corpus"; chown postgres "$WORK"; fi

# libFuzzer's dictionary: the format's words
cat > "$WORK/analytics.dict" <<'EOF'
"b "
"a "
"B "
"A "
"t "
"T "
"s buy "
"s sell "
"v "
"w "
"r "
"shape bids "
"shape asks "
"shape t "
" 1d"
" 3d"
" flip"
" empty"
" lb="
"NULL"
"NaN"
"Infinity"
"-Infinity"
"L:"
"H:"
"Z:"
"~"
"e-"
"e+"
".0000000000000000000000000001"
"99999999999999999999"
EOF

# the throwaway cluster, removed on the way out
tmp=$(mktemp -d /tmp/perps_fuzzan.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"
perps_as_pguser "$PG_BIN/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log"; exit 1; }

if [ -n "${FUZZ_REPLAY:-}" ]; then
    cp "$FUZZ_REPLAY" "$tmp/replay"; chmod a+r "$tmp/replay"
    args="'-perps_max_levels=$MAX_LEVELS', '-detect_leaks=0', '$tmp/replay'"
else
    # no leak detection: a backend frees by memory context, not by free()
    args="'-perps_max_levels=$MAX_LEVELS', '-max_total_time=$SECONDS_EACH', '-max_len=8192', '-timeout=60',
          '-rss_limit_mb=4096', '-detect_leaks=0',
          '-dict=$WORK/analytics.dict', '-artifact_prefix=$WORK/', '-print_final_stats=1', '$corpus'"
fi
# single-user input (-j): a statement ends with a semicolon and an empty line
{
    echo "CREATE SCHEMA perps_stats;"
    echo
    sed "s|MODULE_PATHNAME|$so|" sql/install/20_analytics.sql
    echo
    echo "CREATE FUNCTION perps_fuzz_analytics(text[]) RETURNS int AS '$so' LANGUAGE C STRICT;"
    echo
    echo "SELECT perps_fuzz_analytics(ARRAY[$args]);"
    echo
} > "$tmp/input.sql"

env=()
if [ "$ASAN" = 1 ]; then
    # the ASAN runtime preloaded, with scripts/sanitize_preload.c (see there)
    $CC -shared -fPIC -O2 -o "$tmp/sanitize_preload.so" scripts/sanitize_preload.c
    chmod a+r "$tmp/sanitize_preload.so"
    env=("LD_PRELOAD=$RT/libclang_rt.asan-x86_64.so:$tmp/sanitize_preload.so"
         "ASAN_OPTIONS=detect_leaks=0")
fi
env+=("UBSAN_OPTIONS=print_stacktrace=1")

if [ -n "${FUZZ_REPLAY:-}" ]; then
    echo "== replaying $FUZZ_REPLAY"
else
    echo "== fuzzing the analytics functions for ${SECONDS_EACH}s ($(ls "$corpus" | wc -l) seeds, in a single-user backend)"
fi
log=$WORK/fuzz_analytics.log
status=0
perps_as_pguser env "${env[@]}" "$PG_BIN/postgres" --single -j -D "$tmp/data" \
    -c fsync=off -c log_min_messages=warning postgres < "$tmp/input.sql" > "$log" 2>&1 || status=$?
# libFuzzer's last word: "Done N runs in S second(s)", or "Executed FILE" for a replay
if [ $status -ne 0 ] || ! grep -qE '^(Done|Executed) ' "$log"; then
    grep -v '^backend>' "$log" | tail -60
    exit 1
fi
grep -E '^(Done|Executed) ' "$log" | tail -1
