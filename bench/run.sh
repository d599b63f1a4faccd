#!/usr/bin/env bash
# perps_stats benchmarks: `make bench`.  Starts a throwaway cluster (and the
# services the cases need) and runs every bench/cases/*.sh.  Each case
# prints its figures as a ratio against a baseline measured in the same
# run, medians of several runs.  Benchmarks are not tests: they never fail
# the build, they report.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/cluster.sh

RUN=$(mktemp -d /tmp/perps_bench.XXXXXX)
chmod 755 "$RUN"
export PERPS_RUN=$RUN
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    perps_cluster_stop "$RUN"
    rm -rf "$RUN"
}
trap cleanup EXIT

bash scripts/deps.sh
perps_system_python
perps_build SANITIZE=0 || exit 1
perps_stage "$RUN" || exit 1
# Commit timestamps are kept: the stream case measures a trade's latency
# from the venue's time to its row's commit.
# The collector worker is off (collect_interval 0): its rounds would run in
# the middle of other cases' measurements and, after the collect case has
# put a watchlist back, add markets while the postgrest case loads its own.
PGDATABASE=perps_bench perps_cluster_start "$RUN" \
    "cron.database_name = 'perps_bench'" "perps_stats.database = 'perps_bench'" \
    "perps_stats.collect_interval = 0" \
    "shared_buffers = '1GB'" "max_parallel_workers_per_gather = 2" "work_mem = '64MB'" \
    "track_commit_timestamp = on" || exit 1
createdb perps_bench
psql -X -q -c 'CREATE EXTENSION perps_stats'
for svc in test/services/*.sh; do [ -e "$svc" ] && . "$svc"; done

# bench_median N CMD...: runs CMD N times, prints the median wall time in ms
bench_median() {
    local n=$1; shift
    local i t0 t1 times=()
    for ((i = 0; i < n; i++)); do
        t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m / 1000}'
}
export -f bench_median

cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(bench/cases/*.sh)
for c in "${cases[@]}"; do
    [ -e "$c" ] || continue
    echo
    echo "== $(basename "$c" .sh)"
    # what the case before wrote goes to disk now, not during this case's
    # measurements (after the postgrest case's 1.5 GB the checkpoint ran in
    # the middle of the stream case and halved its figure)
    psql -X -q -c CHECKPOINT
    bash "$c" || echo "(case $c failed)"
done
