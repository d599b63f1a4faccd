#!/usr/bin/env bash
# Valgrind (memcheck) run of the analytics tests: a throwaway cluster whose
# postmaster, and so every backend and parallel worker, runs under memcheck;
# then pg_regress 20_analytics and pgTAP 20_analytics, and a summary of the
# per-process reports.  Not part of `make test` (it takes minutes):
#   bash test/valgrind/analytics.sh
# Debian's PostgreSQL is not built with USE_VALGRIND, so memcheck sees
# malloc'd blocks, not individual palloc chunks.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/cluster.sh
RUN=$(mktemp -d /tmp/perps_valgrind.XXXXXX)
mkdir -p $RUN/logs; chmod -R 777 $RUN
perps_build SANITIZE=0 >/dev/null || exit 1
perps_stage $RUN SANITIZE=0 || exit 1
mkdir -p $RUN/data $RUN/sock; chown -R postgres $RUN
perps_as_pguser $PG_BIN/initdb -D $RUN/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null || exit 1
PGPORT=$(perps_free_port)
cat >> $RUN/data/postgresql.conf <<CONF
port = $PGPORT
listen_addresses = ''
unix_socket_directories = '$RUN/sock'
shared_preload_libraries = 'perps_stats'
fsync = off
max_parallel_workers_per_gather = 2
CONF
perps_as_pguser valgrind --trace-children=yes --leak-check=no --error-limit=no \
    --suppressions=$ROOT/test/valgrind/postgres.supp --log-file=$RUN/logs/vg.%p.log \
    $PG_BIN/postgres -D $RUN/data > $RUN/postgres.log 2>&1 &
export PGHOST=$RUN/sock PGPORT PGUSER=postgres
for i in $(seq 1 120); do pg_isready -q && break; sleep 1; done
pg_isready -q || { echo "postmaster did not start"; cat $RUN/logs/* | head -30; exit 1; }
createdb -T template0 contrib_regression
export PGDATABASE=contrib_regression
mkdir -p $RUN/regress
"$PG_STAGE$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" --use-existing --host="$PGHOST" --port="$PGPORT" \
    --user=postgres --bindir="$PG_BIN" --inputdir=test --outputdir=$RUN/regress --dbname=contrib_regression 00_install 20_analytics
psql -X -q -c 'CREATE EXTENSION IF NOT EXISTS pgtap'
psql -X -q -t -A -v ON_ERROR_STOP=1 -f test/pgtap/20_analytics.sql > $RUN/pgtap.out 2>&1
echo "pgTAP: $(grep -c '^ok' $RUN/pgtap.out) ok, $(grep -c '^not ok' $RUN/pgtap.out) not ok"
perps_as_pguser $PG_BIN/pg_ctl -D $RUN/data -m fast -w -t 300 stop
sleep 2
echo "valgrind logs: $(ls $RUN/logs | wc -l) processes"
grep -h "ERROR SUMMARY" $RUN/logs/* | sed 's/^==[0-9]*== //' | sort | uniq -c
echo "reports with a perps_stats frame: $(grep -l 'perps_stats.so' $RUN/logs/* 2>/dev/null | wc -l)"
echo "logs kept in $RUN/logs"
