#!/usr/bin/env bash
# Order-book analytics against set-based SQL doing the same work, in the
# same run (bench/run.sh sets PGHOST, PGPORT, PGDATABASE and bench_median):
#   - vwap(price, qty) vs sum(price*qty)/sum(qty) over BENCH_VWAP_ROWS
#     trades, serial and with 2 parallel workers, and that the results are
#     equal (value and scale): exchange-scale trades (prices of 2 decimals,
#     sizes of 4: vwap's 64-bit path) and scale-20 ones (price
#     (50000 + g/100.0)::numeric, qty (1 + g/1000.0)::numeric, 20 decimals
#     each: its general path);
#   - vwap vs the same SQL on six other kinds of data (integers near 10^25,
#     8 and 30 decimals, scales mixed row to row, 10^40, 10^-30), serial,
#     BENCH_VWAP_SCALE_ROWS rows each (default 1 million);
#   - liquidity_depth, slippage and slippage_rows on BENCH_BOOKS stored
#     books of BENCH_LEVELS levels per side vs the same logic in SQL over
#     unnest, in microseconds per book.
# Figures are medians over BENCH_RUNS rounds (see pair()), each run timed by
# its wall-clock time in the server (clock_timestamp around it) and the CPU
# time the backend got meanwhile (its scheduler run time from
# /proc/self/schedstat, read with pg_read_file; "NaN" where there is none).
# On a loaded machine the wall clock includes the time the backend waited
# for a core; CPU time leaves that out, though not cache and core sharing.
# The books are stored with the default storage (compressed, out of line),
# so every call also pays for reading the book back (detoast), which is
# reported separately as a floor.
set -uo pipefail

ROWS=${BENCH_VWAP_ROWS:-5000000}
BOOKS=${BENCH_BOOKS:-300}
LEVELS=${BENCH_LEVELS:-1000}
RUNS=${BENCH_RUNS:-5}

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

# timed SETTINGS SQL...: RUNS runs of each statement, taken in turns in one
# session (after settings and one untimed run of each); prints "wall cpu"
# medians in ms for each statement, in the order given, on one line.  (A C
# statement and its baseline are not taken in turns: a run right after a
# baseline's second of work starts with the caches full of the baseline's
# data, which showed as about a third more CPU time for slippage.  The
# untimed run: a backend's first scan of a table maps each shared buffer it
# reads into the process, page by page, which on the 2-core VM of
# 2026-12-07 took 600-1000 ms instead of 355-380 for the first
# sum(price*qty)/sum(qty) over 2M rows of a new session; a baseline timed
# once per session paid that and a C statement timed three times did not.)
timed() {
    local settings=$1 i k out line=
    shift
    out=$({
        echo "$settings;"
        for ((k = 1; k <= $#; k++)); do
            echo "${!k};"
        done
        for ((i = 0; i < RUNS; i++)); do
            for ((k = 1; k <= $#; k++)); do
                echo "SELECT clock_timestamp() AS w0, coalesce(bench_cpu_ns(), -1) AS c0 \\gset"
                echo "${!k};"
                echo "SELECT 'run $k ' || extract(epoch FROM clock_timestamp() - :'w0') * 1000 || ' ' ||
                             CASE WHEN :c0 < 0 THEN 'NaN' ELSE ((bench_cpu_ns() - :c0) / 1e6)::text END;"
            done
        done
    } | psql -X -q -t -A -v ON_ERROR_STOP=1 2>&1 | sed -n 's/^run //p')
    for ((k = 1; k <= $#; k++)); do
        line+="$(awk -v k=$k '$1 == k {print $2}' <<<"$out" | median) $(awk -v k=$k '$1 == k {print $3}' <<<"$out" | median) "
    done
    echo "${line% }"
}
median() {
    sort -n | awk '{a[NR]=$1} END {if (NR == 0 || a[1] == "NaN") {print "NaN"; exit} m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m}'
}
# field N of a line of figures
f() { awk -v n="$2" '{print $n}' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
per_book() { awk -v ms="$1" -v n="$BOOKS" 'BEGIN { printf "%.0f", ms * 1000 / n }'; }

echo "setup: $ROWS trades, $BOOKS books of $LEVELS levels per side"
# synchronous_commit on for the loads (bench/run.sh's cluster has it off):
# VACUUM marks a page all-visible only when its rows carry the "inserter
# committed" hint, which cannot be set on an asynchronous commit until the
# WAL writer has flushed it; right after an asynchronous load VACUUM left
# every page not all-visible, and every scan then checked each row's
# visibility.
q <<SQL
SET synchronous_commit = on;
DROP TABLE IF EXISTS bench_trades, bench_books;
CREATE TABLE bench_trades AS
    SELECT round(60000 + (i * 7919 % 200000) / 100.0, 2) AS price,
           round((i * 104729 % 100000) / 10000.0, 4) AS qty
      FROM generate_series(1::bigint, $ROWS) i;
ALTER TABLE bench_trades SET (parallel_workers = 2);
VACUUM ANALYZE bench_trades;

-- stored as perps_stats.orderbooks stores books (same column compression)
CREATE TABLE bench_books (id int, bids numeric[], asks numeric[]);
ALTER TABLE bench_books ALTER COLUMN bids SET COMPRESSION
    $(psql -X -t -A -c "SELECT CASE attcompression WHEN 'l' THEN 'lz4' WHEN 'p' THEN 'pglz' ELSE 'default' END FROM pg_attribute WHERE attrelid = 'perps_stats.orderbooks'::regclass AND attname = 'bids'"),
    ALTER COLUMN asks SET COMPRESSION
    $(psql -X -t -A -c "SELECT CASE attcompression WHEN 'l' THEN 'lz4' WHEN 'p' THEN 'pglz' ELSE 'default' END FROM pg_attribute WHERE attrelid = 'perps_stats.orderbooks'::regclass AND attname = 'asks'");
INSERT INTO bench_books
    SELECT b AS id,
           (SELECT array_agg(ARRAY[round(60000 - b - i * 0.5 - (i % 3) * 0.1, 1), round(((i * 7919 + b) % 10007) / 1000.0, 3)] ORDER BY i)
              FROM generate_series(1, $LEVELS) i) AS bids,
           (SELECT array_agg(ARRAY[round(60000.1 - b + i * 0.5 + (i % 3) * 0.1, 1), round(((i * 104729 + b) % 10009) / 1000.0, 3)] ORDER BY i)
              FROM generate_series(1, $LEVELS) i) AS asks
      FROM generate_series(1, $BOOKS) b;
VACUUM ANALYZE bench_books;

-- CPU time of this backend so far in ns (Linux), NULL where there is none
CREATE OR REPLACE FUNCTION bench_cpu_ns() RETURNS bigint LANGUAGE sql VOLATILE AS
    \$\$SELECT split_part(pg_read_file('/proc/self/schedstat', 0, 100, true), ' ', 1)::bigint\$\$;

-- The baselines: the same logic as set-based SQL over unnest.
CREATE OR REPLACE FUNCTION bench_liquidity_sql(bids numeric[], asks numeric[],
                                               bps numeric[] DEFAULT '{1,2.5,5,10,20,50,100}')
RETURNS TABLE (bps numeric, bid_notional numeric, ask_notional numeric, bid_complete boolean, ask_complete boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS \$\$
    -- MATERIALIZED: the levels are unnested once, not per threshold.  (The
    -- function is inlined, so every reference to bids or asks still reads
    -- that array back: three times each here, once each in the C function.)
    WITH b AS MATERIALIZED (SELECT p, q FROM unnest(bids[:][1:1], bids[:][2:2]) u(p, q)),
         a AS MATERIALIZED (SELECT p, q FROM unnest(asks[:][1:1], asks[:][2:2]) u(p, q)),
         t AS MATERIALIZED (
             SELECT x, o, m.mid * (1 - x / 10000) AS lo, m.mid * (1 + x / 10000) AS hi
               FROM (SELECT (bids[1][1] + asks[1][1]) / 2 AS mid) m,
                    unnest(bps) WITH ORDINALITY u(x, o)),
         e AS MATERIALIZED (SELECT (SELECT min(p) FROM b) AS bmin, (SELECT max(p) FROM a) AS amax)
    SELECT t.x,
           coalesce((SELECT sum(p * q) FROM b WHERE p >= t.lo), 0),
           coalesce((SELECT sum(p * q) FROM a WHERE p <= t.hi), 0),
           e.bmin <= t.lo,
           e.amax >= t.hi
      FROM t, e ORDER BY t.o
\$\$;

CREATE OR REPLACE FUNCTION bench_slippage_sql(bids numeric[], asks numeric[], side text, notional numeric)
RETURNS TABLE (mid_price numeric, avg_price numeric, slippage_bps numeric, filled_base numeric,
               filled_quote numeric, levels_used int, feasible boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS \$\$
    WITH l AS MATERIALIZED (SELECT p, q, i, sum(p * q) OVER w AS cq, sum(q) OVER w AS cb
                 FROM unnest(CASE side WHEN 'buy' THEN asks[:][1:1] ELSE bids[:][1:1] END,
                             CASE side WHEN 'buy' THEN asks[:][2:2] ELSE bids[:][2:2] END)
                      WITH ORDINALITY u(p, q, i)
               WINDOW w AS (ORDER BY i)),
         m AS MATERIALIZED (SELECT (bids[1][1] + asks[1][1]) / 2 AS mid),
         k AS MATERIALIZED (SELECT * FROM l WHERE cq >= notional ORDER BY i LIMIT 1),
         t AS MATERIALIZED (SELECT max(cq) AS tq, max(cb) AS tb, count(*)::int AS n FROM l),
         f AS MATERIALIZED (SELECT k.i, k.cb - k.q + (notional - (k.cq - k.p * k.q)) / k.p AS base FROM k)
    SELECT m.mid, notional / f.base,
           CASE side WHEN 'buy' THEN notional / f.base - m.mid ELSE m.mid - notional / f.base END / m.mid * 10000,
           coalesce(f.base, t.tb), CASE WHEN f.i IS NULL THEN t.tq ELSE notional END,
           coalesce(f.i::int, t.n), f.i IS NOT NULL
      FROM m CROSS JOIN t LEFT JOIN f ON true
\$\$;
SQL
[ $? -eq 0 ] || { echo "setup failed"; exit 1; }

echo
echo "-- vwap over $ROWS rows (ms, medians of $RUNS rounds)"
serial="SET max_parallel_workers_per_gather = 0"
parallel="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0"
# the scale-20 trades: 20 decimals in price and qty, 40 in their product
q <<SQL
SET synchronous_commit = on;
DROP TABLE IF EXISTS bench_trades20;
CREATE TABLE bench_trades20 AS
    SELECT (50000 + g / 100.0)::numeric AS price, (1 + g / 1000.0)::numeric AS qty
      FROM generate_series(1::bigint, $ROWS) g;
ALTER TABLE bench_trades20 SET (parallel_workers = 2);
VACUUM ANALYZE bench_trades20;
SQL
# pair SETTINGS C BASELINE: "wall cpu wall cpu" of the C statement and its
# baseline, measured in turns: RUNS rounds, each of 3 runs of the C
# statement in a session of their own, then one run of the baseline in
# another; medians over the rounds.  (The C statements take milliseconds:
# all their runs taken at once would sample the machine's speed over a
# fraction of a second, the baseline's over seconds; on a machine whose
# speed drifts by a third between minutes that bias was most of the spread
# of the ratios.)
pair() {
    local k c b cw=() cc=() bw=() bc=()
    for ((k = 0; k < RUNS; k++)); do
        c=$(RUNS=3 timed "$1" "$2")
        b=$(RUNS=1 timed "$1" "$3")
        cw+=("$(f "$c" 1)") cc+=("$(f "$c" 2)") bw+=("$(f "$b" 1)") bc+=("$(f "$b" 2)")
    done
    echo "$(printf '%s\n' "${cw[@]}" | median) $(printf '%s\n' "${cc[@]}" | median)" \
         "$(printf '%s\n' "${bw[@]}" | median) $(printf '%s\n' "${bc[@]}" | median)"
}
# What a parallel query costs before any row: the same statements over
# 1000 rows (one page), with and without the 2 workers (each worker is a new
# process: it starts, maps what it reads of shared memory, and exits before
# the query ends).
q <<SQL
SET synchronous_commit = on;
DROP TABLE IF EXISTS bench_tiny;
CREATE TABLE bench_tiny AS SELECT g::numeric AS price, 1::numeric AS qty FROM generate_series(1, 1000) g;
ALTER TABLE bench_tiny SET (parallel_workers = 2);
VACUUM ANALYZE bench_tiny;
SQL
t_f=$(RUNS=$((RUNS * 3)) timed "$parallel; SET min_parallel_table_scan_size = 0" \
    "SELECT perps_stats.vwap(price, qty) FROM bench_tiny" "SELECT sum(price * qty) / sum(qty) FROM bench_tiny")
t_f0=$(RUNS=$((RUNS * 3)) timed "$serial" \
    "SELECT perps_stats.vwap(price, qty) FROM bench_tiny" "SELECT sum(price * qty) / sum(qty) FROM bench_tiny")
echo "a parallel query's floor, 1000 rows (medians of $((RUNS * 3)) runs): vwap $(f "$t_f" 1) ms, SQL $(f "$t_f" 3) ms" \
     "with 2 workers; $(f "$t_f0" 1) ms, $(f "$t_f0" 3) ms serial"
q -c "DROP TABLE bench_tiny"
for tbl in bench_trades bench_trades20; do
    [ $tbl = bench_trades ] && kind="exchange scale" || kind="scale 20"
    # the table as the statements find it: size, pages VACUUM marked
    # all-visible, and a warm scan's shared-buffer hits and reads
    echo "$tbl: $(q -c "SELECT pg_relation_size('$tbl') / 1048576 || ' MB, ' || relallvisible || ' of ' || relpages || ' pages all-visible'
                          FROM pg_class WHERE oid = '$tbl'::regclass"), a warm scan's" \
         "$(q -c "$serial" -c "SELECT count(*) FROM $tbl" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT count(*) FROM $tbl" |
            grep -m1 'Buffers:' | sed 's/^ *Buffers: //')"
    v_c=$(q -c "$serial" -c "SELECT perps_stats.vwap(price, qty)::text FROM $tbl")
    v_s=$(q -c "$serial" -c "SELECT (sum(price * qty) / sum(qty))::text FROM $tbl")
    v_p=$(q -c "$parallel" -c "SELECT perps_stats.vwap(price, qty)::text FROM $tbl")
    v_sp=$(q -c "$parallel" -c "SELECT (sum(price * qty) / sum(qty))::text FROM $tbl")
    plan=$(q -c "$parallel" -c "EXPLAIN (COSTS OFF) SELECT perps_stats.vwap(price, qty) FROM $tbl" | grep -c 'Partial Aggregate')
    echo "$kind: vwap serial $v_c, SQL $v_s, vwap parallel $v_p, SQL parallel $v_sp:" \
         "$([ "$v_c" = "$v_s" ] && [ "$v_c" = "$v_p" ] && [ "$v_c" = "$v_sp" ] && echo equal || echo DIFFERENT);" \
         "parallel plan has Partial Aggregate: $plan"
    t_s=$(pair "$serial" "SELECT perps_stats.vwap(price, qty) FROM $tbl" "SELECT sum(price * qty) / sum(qty) FROM $tbl")
    t_p=$(pair "$parallel" "SELECT perps_stats.vwap(price, qty) FROM $tbl" "SELECT sum(price * qty) / sum(qty) FROM $tbl")
    # wall clock, then the leader's CPU time (in parallel the workers' is
    # not in it: wall minus the leader's CPU is about what it waited for them)
    printf '%-42s %10s ms   baseline sum(price*qty)/sum(qty) %10s ms   %sx faster   (leader CPU %s / %s ms)\n' \
        "vwap serial, $kind" "$(f "$t_s" 1)" "$(f "$t_s" 3)" "$(ratio "$(f "$t_s" 3)" "$(f "$t_s" 1)")" "$(f "$t_s" 2)" "$(f "$t_s" 4)" \
        "vwap parallel (2 workers), $kind" "$(f "$t_p" 1)" "$(f "$t_p" 3)" "$(ratio "$(f "$t_p" 3)" "$(f "$t_p" 1)")" "$(f "$t_p" 2)" "$(f "$t_p" 4)"
done
q -c "DROP TABLE bench_trades20"

# Other scales and magnitudes (serial): each kind of data a table of
# BENCH_VWAP_SCALE_ROWS rows, vwap against the SQL, results checked equal.
SROWS=${BENCH_VWAP_SCALE_ROWS:-1000000}
echo
echo "-- vwap on other scales, $SROWS rows each, serial (ms, medians of $RUNS rounds)"
while IFS='|' read -r kind price qty <&3; do
    q -c "SET synchronous_commit = on" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS bench_scale" \
      -c "CREATE TABLE bench_scale AS SELECT $price AS price, $qty AS qty FROM generate_series(1::bigint, $SROWS) g" \
      -c "VACUUM ANALYZE bench_scale" >/dev/null || { echo "$kind: setup failed"; continue; }
    same=$(q -c "SELECT (SELECT perps_stats.vwap(price, qty)::text FROM bench_scale) = (SELECT (sum(price * qty) / sum(qty))::text FROM bench_scale)")
    t=$(pair "$serial" "SELECT perps_stats.vwap(price, qty) FROM bench_scale" "SELECT sum(price * qty) / sum(qty) FROM bench_scale")
    printf '%-52s %8s ms   SQL %8s ms   %sx faster   equal: %s\n' "$kind" "$(f "$t" 1)" "$(f "$t" 3)" "$(ratio "$(f "$t" 3)" "$(f "$t" 1)")" \
        "$([ "$same" = t ] && echo yes || echo NO)"
done 3<<'KINDS'
integers near 10^25, sizes 1-1000|(10::numeric ^ 25 + g)::numeric|(g % 1000 + 1)::numeric
8 decimals both (satoshi sizes)|round(30000 + g / 1e4, 8) + 0.00000001|round((g % 99991) / 1e8, 8) + 0.00000001
30 decimals both|(50000 + g / 3.0)::numeric(60,30)|(1 + g / 7.0)::numeric(60,30)
mixed scales row to row (0-24 and 0-18)|round(50000 + g / 7.0, (g % 25)::int)|round(1 + g / 13.0, (g % 19)::int)
10^40 + g, sizes g * 10^-10|1e40 + g|1e-10 * g
g * 10^-30, sizes of 20 decimals|1e-30 * g|1e-20 * (g % 7 + 1)
KINDS
q -c "DROP TABLE IF EXISTS bench_scale"

echo
echo "-- books: $BOOKS stored books, $LEVELS levels per side (ms per run, µs per book, medians of $RUNS rounds)"
same_ld=$(q -c "SELECT count(*) FROM bench_books b,
    LATERAL (SELECT array_agg(d::text) a FROM perps_stats.liquidity_depth(b.bids, b.asks) d) c,
    LATERAL (SELECT array_agg(d::text) a FROM bench_liquidity_sql(b.bids, b.asks) d) s
    WHERE c.a IS DISTINCT FROM s.a")
# exact figures equal as text (value and scale); the divisions of the SQL
# (mid / 2, avg, bps) round differently, so those are compared at 8 decimals
same_sl=$(q -c "SELECT count(*) FROM bench_books b, (VALUES ('buy'), ('sell')) d(side),
    LATERAL perps_stats.slippage(b.bids, b.asks, d.side, 1000000) c,
    LATERAL bench_slippage_sql(b.bids, b.asks, d.side, 1000000) s
    WHERE c.levels_used <> s.levels_used OR c.filled_quote::text <> s.filled_quote::text OR c.feasible <> s.feasible
       OR round(c.avg_price, 8) <> round(s.avg_price, 8) OR round(c.slippage_bps, 8) <> round(s.slippage_bps, 8)
       OR round(c.filled_base, 8) <> round(s.filled_base, 8) OR c.mid_price <> s.mid_price")
echo "books where C and SQL disagree: liquidity_depth $same_ld (of $BOOKS), slippage buy and sell 1M $same_sl (of $((2 * BOOKS)))"
# every output column is used, so nothing can be skipped
LD="sum(bid_notional + ask_notional), count(*) FILTER (WHERE bid_complete AND ask_complete)"
SL="sum(mid_price + avg_price + slippage_bps + filled_base + filled_quote + levels_used), count(*) FILTER (WHERE feasible)"
SR="sum(amount + mid_price + avg_price + slippage_bps), count(*) FILTER (WHERE feasible AND side = 'buy')"
t_dt=$(timed "$serial" "SELECT count(*) FROM bench_books WHERE array_length(bids, 1) + array_length(asks, 1) > 0")
t_l=$(pair "$serial" "SELECT $LD FROM bench_books, perps_stats.liquidity_depth(bids, asks)" \
    "SELECT $LD FROM bench_books, bench_liquidity_sql(bids, asks)")
t_s=$(pair "$serial" "SELECT $SL FROM bench_books, perps_stats.slippage(bids, asks, 'buy', 1000000)" \
    "SELECT $SL FROM bench_books, bench_slippage_sql(bids, asks, 'buy', 1000000)")
t_r=$(pair "$serial" "SELECT $SR FROM bench_books, perps_stats.slippage_rows(bids, asks)" \
    "SELECT $SR FROM bench_books,
    unnest('{1000,10000,50000,100000,500000,1000000,5000000,10000000}'::numeric[]) amount,
    unnest('{buy,sell}'::text[]) side, LATERAL bench_slippage_sql(bids, asks, side, amount)")
fmt='%-34s %8s ms %7s µs/book   baseline SQL %9s ms %8s µs/book   %sx faster\n'
line() {
    local name=$1 t=$2 c=$3
    printf "$fmt" "$name" "$(f "$t" "$c")" "$(per_book "$(f "$t" "$c")")" \
        "$(f "$t" $((c + 2)))" "$(per_book "$(f "$t" $((c + 2)))")" "$(ratio "$(f "$t" $((c + 2)))" "$(f "$t" "$c")")"
}
for c in 1 2; do
    if [ $c = 1 ]; then
        echo "wall clock:"
    else
        [ "$(f "$t_dt" 2)" = NaN ] && break
        echo "CPU time of the backend:"
    fi
    printf '%-34s %8s ms %7s µs/book\n' "reading the books back (detoast)" "$(f "$t_dt" $c)" "$(per_book "$(f "$t_dt" $c)")"
    line "liquidity_depth (7 thresholds)" "$t_l" $c
    line "slippage (buy 1M)" "$t_s" $c
    line "slippage_rows (16 standard rows)" "$t_r" $c
done

# Books at several resolutions (issue 19): liquidity_depth_merged against the
# single-book liquidity_depth of the same stored books, in the same run.
#   one book:    liquidity_depth_merged(ARRAY[the book]): the cost of the merged
#                form where the finest book reaches every threshold;
#   three books: each book's first 40 levels (about 3.5 bps, finest), the book in
#                buckets of 5 (coarser) and in buckets of 50 (coarsest), as a venue
#                aggregates (bids rounded down, asks up): the 5 bps and deeper
#                figures come from the coarser books.
# The target: the merged computation within 1.5x of liquidity_depth per book.
merged_books() {
    q <<SQL
DROP TABLE IF EXISTS bench_books_res;
CREATE TABLE bench_books_res AS
    SELECT b.id, ARRAY[ROW(b.bids[1:40], b.asks[1:40])::perps_stats.order_book,
                       ROW(c5.bids, c5.asks)::perps_stats.order_book,
                       ROW(c50.bids, c50.asks)::perps_stats.order_book] AS books
      FROM bench_books b,
      LATERAL (SELECT (SELECT array_agg(ARRAY[p, q] ORDER BY p DESC) FROM (
                  SELECT floor(u.p / 5) * 5 AS p, sum(u.q) AS q FROM unnest(b.bids[:][1:1], b.bids[:][2:2]) u(p, q) GROUP BY 1) x) AS bids,
                      (SELECT array_agg(ARRAY[p, q] ORDER BY p) FROM (
                  SELECT ceil(u.p / 5) * 5 AS p, sum(u.q) AS q FROM unnest(b.asks[:][1:1], b.asks[:][2:2]) u(p, q) GROUP BY 1) x) AS asks) c5,
      LATERAL (SELECT (SELECT array_agg(ARRAY[p, q] ORDER BY p DESC) FROM (
                  SELECT floor(u.p / 50) * 50 AS p, sum(u.q) AS q FROM unnest(b.bids[:][1:1], b.bids[:][2:2]) u(p, q) GROUP BY 1) x) AS bids,
                      (SELECT array_agg(ARRAY[p, q] ORDER BY p) FROM (
                  SELECT ceil(u.p / 50) * 50 AS p, sum(u.q) AS q FROM unnest(b.asks[:][1:1], b.asks[:][2:2]) u(p, q) GROUP BY 1) x) AS asks) c50;
VACUUM ANALYZE bench_books_res;
SQL
    local LDM="sum(bid_notional + ask_notional), count(*) FILTER (WHERE bid_complete AND ask_complete)"
    local same res t
    same=$(q -c "SELECT count(*) FROM bench_books b,
        LATERAL (SELECT array_agg(d::text) a FROM perps_stats.liquidity_depth(b.bids, b.asks) d) c,
        LATERAL (SELECT array_agg(row(d.bps, d.bid_notional, d.ask_notional, d.bid_complete, d.ask_complete)::text) a
                   FROM perps_stats.liquidity_depth_merged(ARRAY[ROW(b.bids, b.asks)::perps_stats.order_book]) d) m
        WHERE c.a IS DISTINCT FROM m.a")
    res=$(q -c "SELECT string_agg(r::text || ':' || n, ' ' ORDER BY r) FROM (SELECT r, count(*) n FROM bench_books_res,
        LATERAL perps_stats.liquidity_depth_merged(books) d, LATERAL (VALUES (d.bid_resolution), (d.ask_resolution)) v(r) GROUP BY r) x")
    echo "books where liquidity_depth_merged of the one book and liquidity_depth disagree: $same (of $BOOKS);" \
         "three books: figures served by book 1, 2, 3 (bid and ask, 7 thresholds): $res"
    # the three statements in turns in one session (two C functions: no cold baseline to
    # keep apart), RUNS rounds, medians
    t=$(RUNS=$((RUNS * 3)) timed "$serial" \
        "SELECT $LDM FROM bench_books, perps_stats.liquidity_depth(bids, asks)" \
        "SELECT $LDM FROM bench_books, perps_stats.liquidity_depth_merged(ARRAY[ROW(bids, asks)::perps_stats.order_book])" \
        "SELECT $LDM FROM bench_books_res, perps_stats.liquidity_depth_merged(books)")
    echo "-- merged books vs liquidity_depth of the same stored books (µs per book, medians of $((RUNS * 3)) runs taken in turns; target: at most 1.5x)"
    for c in 1 2; do
        [ $c = 2 ] && [ "$(f "$t" 2)" = NaN ] && break
        [ $c = 1 ] && echo "wall clock:" || echo "CPU time of the backend:"
        printf '%-40s %7s µs/book\n' "liquidity_depth, one book" "$(per_book "$(f "$t" $c)")"
        printf '%-40s %7s µs/book   %sx liquidity_depth'"'"'s time\n' \
            "liquidity_depth_merged, one book" "$(per_book "$(f "$t" $((c + 2)))")" "$(ratio "$(f "$t" $((c + 2)))" "$(f "$t" $c)")" \
            "liquidity_depth_merged, three books" "$(per_book "$(f "$t" $((c + 4)))")" "$(ratio "$(f "$t" $((c + 4)))" "$(f "$t" $c)")"
    done
    q -c "DROP TABLE bench_books_res"
}
echo
merged_books

q -c "DROP TABLE bench_trades, bench_books; DROP FUNCTION bench_liquidity_sql, bench_slippage_sql, bench_cpu_ns"
