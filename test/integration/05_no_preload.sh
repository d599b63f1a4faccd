#!/usr/bin/env bash
# Without shared_preload_libraries the SQL functions still work (only the
# workers need preloading): a second, short-lived cluster proves it.
set -uo pipefail
. scripts/cluster.sh
echo "1..5"
run=$(mktemp -d "$PERPS_RUN/nopreload.XXXX")
chmod 755 "$run"
trap 'perps_cluster_stop "$run"' EXIT
if ! PGDATABASE=postgres perps_cluster_start "$run" "shared_preload_libraries = ''" >/dev/null 2>&1; then
    echo "not ok 1 - a cluster without shared_preload_libraries starts"; exit 1
fi
echo "ok 1 - a cluster without shared_preload_libraries starts"
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -d postgres -c "$1" 2>&1; }
out=$(q "CREATE EXTENSION perps_stats; SELECT perps_stats.version()")
[ "$out" = "0.2.0" ] && echo "ok 2 - CREATE EXTENSION and version() work without preloading" \
                     || echo "not ok 2 - CREATE EXTENSION without preloading: $out"
out=$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'perps_stats%'")
[ "$out" = "0" ] && echo "ok 3 - and no worker runs" || echo "not ok 3 - workers: $out"
out=$(q "LOAD 'perps_stats'; SHOW perps_stats.collect_interval")
[ "$out" = "1min" ] && echo "ok 4 - the GUCs are defined once the library is loaded" \
                    || echo "not ok 4 - SHOW perps_stats.collect_interval: $out"
out=$(q "SELECT count(*) FROM perps_stats.stream_status")
[ "$out" = "0" ] && echo "ok 5 - stream_status is empty without preloading" \
                 || echo "not ok 5 - stream_status without preloading: $out"
