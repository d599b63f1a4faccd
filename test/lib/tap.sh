# Sourced by the TAP test scripts in test/integration: psql shorthands, TAP
# assertions and polling with a timeout (never a fixed sleep).  The script
# ends with `tap_done`, which prints the plan and sets the exit status.
n=0 failed=0
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
# several statements, each in its own transaction (ALTER SYSTEM needs that)
qs() { psql -X -q -t -A -v ON_ERROR_STOP=1 -f - <<<"$1" 2>&1; }
is() {   # is GOT EXPECTED DESCRIPTION
    n=$((n + 1))
    if [ "$1" = "$2" ]; then echo "ok $n - $3"
    else failed=$((failed + 1)); echo "not ok $n - $3"; echo "#      got: $1"; echo "# expected: $2"; fi
}
# under valgrind everything is many times slower: so are the timeouts
SLOW=1; [ "${PERPS_VALGRIND:-0}" = 1 ] && SLOW=6
# wait_for SQL [timeout_s]: polls until the query returns t
wait_for() {
    local deadline=$((SECONDS + ${2:-20} * SLOW))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(q "$1")" = "t" ] && return 0
        sleep 0.1
    done
    return 1
}
ok_wait() {  # ok_wait SQL DESCRIPTION [timeout]
    n=$((n + 1))
    if wait_for "$1" "${3:-20}"; then echo "ok $n - $2"
    else failed=$((failed + 1)); echo "not ok $n - $2"; echo "# timed out waiting for: $1"; fi
}
# ok_until "COMMAND" EXPECTED DESCRIPTION [timeout]: polls a shell command until it prints EXPECTED
ok_until() {
    local deadline=$((SECONDS + ${4:-20} * SLOW)) got=""
    n=$((n + 1))
    while [ $SECONDS -lt $deadline ]; do
        got=$(eval "$1")
        [ "$got" = "$2" ] && { echo "ok $n - $3"; return 0; }
        sleep 0.1
    done
    failed=$((failed + 1)); echo "not ok $n - $3"; echo "#      got: $got"; echo "# expected: $2"
}
# the WebSocket mock's control endpoint (test/mock/ws_mock.py)
act() { curl -sf -X POST -H 'Content-Type: application/json' -d "$1" "$PERPS_MOCK_WS_CONTROL/action" >/dev/null; }
# status COLUMN [EXCHANGE]: one column of perps_stats.stream_status
status() { q "SELECT $1 FROM perps_stats.stream_status WHERE exchange = '${2:-$STREAM_VENUE}'"; }
tap_done() { echo "1..$n"; [ "$failed" -eq 0 ]; }
