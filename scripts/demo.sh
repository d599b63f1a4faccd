#!/usr/bin/env bash
# perps_stats demo: a throwaway local cluster in .demo/ with the extension
# created and the workers preloaded.  `make demo`; stop it with
# `make demo-stop` (or: pg_ctl -D .demo/data stop).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/cluster.sh

bash scripts/deps.sh
perps_system_python
perps_build SANITIZE=0
RUN=$ROOT/.demo
if [ "${1:-}" = --stop ]; then
    PG_BIN=$RUN/stage$(pg_config --bindir)
    for f in "$RUN"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
    perps_cluster_stop "$RUN"
    echo "demo stopped"
    exit 0
fi
if [ -f "$RUN/data/postmaster.pid" ] && perps_as_pguser "$RUN/stage$(pg_config --bindir)/pg_ctl" -D "$RUN/data" status >/dev/null 2>&1; then
    echo "a demo cluster is already running in $RUN; stop it with: make demo-stop"
    exit 1
fi
rm -rf "$RUN"; mkdir -p "$RUN"
perps_stage "$RUN"
PGDATABASE=perps PGPORT_OVERRIDE=${DEMO_PORT:-55432} \
    perps_cluster_start "$RUN" "cron.database_name = 'perps'" "perps_stats.database = 'perps'"
createdb perps
psql -X -q -d perps -c 'CREATE EXTENSION perps_stats CASCADE'
for hook in scripts/demo.d/*.sh; do [ -e "$hook" ] && . "$hook"; done

cat <<MSG

perps_stats demo is running.
  psql:    psql -h $PGHOST -p $PGPORT -U postgres perps
  try:     SELECT * FROM perps_stats.table_stats;
  stop:    make demo-stop
MSG
