#!/usr/bin/env bash
# The upgrade path: every released version installs, updates with
# ALTER EXTENSION ... UPDATE to the current default_version, and ends with
# exactly the schema a fresh install of the current version has (compared
# with pg_dump --schema-only).  Released install scripts are frozen files
# sql/perps_stats--X.sql; upgrades are sql/perps_stats--A--B.sql.
set -uo pipefail
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" perps_stats.control)
released=()
for f in sql/perps_stats--*.sql; do
    v=${f#sql/perps_stats--}; v=${v%.sql}
    case "$v" in *--*) ;; "$current") ;; *) released+=("$v") ;; esac
done
echo "1..$((2 + 3 * ${#released[@]}))"
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@" 2>&1; }
dump() { "$PG_BIN/pg_dump" -s -d "$1" --no-owner | grep -vE '^--|^$|_p[0-9]{8}' | sort; }

q -d postgres -c "DROP DATABASE IF EXISTS perps_fresh" >/dev/null
q -d postgres -c "CREATE DATABASE perps_fresh" >/dev/null
out=$(q -d perps_fresh -c "CREATE EXTENSION perps_stats; SELECT extversion FROM pg_extension WHERE extname = 'perps_stats'")
[ "$out" = "$current" ] && echo "ok 1 - a fresh install is at default_version $current" \
                        || echo "not ok 1 - fresh install: $out"
# every update path the scripts in sql/ define must end at the current version
out=$(q -d perps_fresh -c "SELECT count(*) FROM pg_extension_update_paths('perps_stats')
                            WHERE path IS NOT NULL AND target = '$current'
                              AND source <> ALL (string_to_array('${released[*]}', ' '))")
[ "$out" = "0" ] && echo "ok 2 - the update scripts lead only from released versions (${released[*]:-none yet}) to $current" \
                 || echo "not ok 2 - unexpected update sources: $out"
fresh=$(dump perps_fresh)
n=3
for v in "${released[@]}"; do
    db=perps_from_${v//./_}
    q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null
    q -d postgres -c "CREATE DATABASE $db" >/dev/null
    out=$(q -d "$db" -c "CREATE EXTENSION perps_stats VERSION '$v'; SELECT extversion FROM pg_extension WHERE extname = 'perps_stats'")
    [ "$out" = "$v" ] && echo "ok $n - version $v installs" || echo "not ok $n - version $v: $out"
    n=$((n + 1))
    out=$(q -d "$db" -c "ALTER EXTENSION perps_stats UPDATE; SELECT extversion FROM pg_extension WHERE extname = 'perps_stats'")
    [ "$out" = "$current" ] && echo "ok $n - $v updates to $current" || echo "not ok $n - update from $v: $out"
    n=$((n + 1))
    if diff <(dump "$db") <(echo "$fresh") > "$PERPS_RUN/upgrade_$v.diff"; then
        echo "ok $n - $v updated has the schema of a fresh $current"
    else
        echo "not ok $n - $v updated differs from a fresh $current:"; sed 's/^/# /' "$PERPS_RUN/upgrade_$v.diff" | head -40
    fi
    n=$((n + 1))
    q -d postgres -c "DROP DATABASE $db" >/dev/null
done
q -d postgres -c "DROP DATABASE perps_fresh" >/dev/null
