#!/usr/bin/env bash
# One launcher, one collector, one stream worker per venue, always: the
# launcher terminated with pg_terminate_backend comes back (the postmaster
# restarts it) and adopts the workers its predecessor started instead of
# starting them again; a worker started while another holds its venue exits
# at once; an adopted worker no longer wanted is stopped; a worker whose
# loop fails (pg_cancel_backend) writes what it buffered before it exits.  Counted by
# backend_type in pg_stat_activity, sampled every 0.2 s for 12 s after the
# new launcher appeared.  TAP.
set -uo pipefail

STREAM_VENUE=bybit
. "$(dirname "$0")/../lib/tap.sh"

count() { q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = '$1'"; }
pid_of() { q "SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), '') FROM pg_stat_activity WHERE backend_type = '$1'"; }

urls0=$(q "SELECT rest_url || ' ' || ws_url FROM perps_stats.exchanges WHERE name = 'bybit'")
streamed0=$(q "SELECT coalesce(string_agg(quote_literal(exchange || '/' || symbol), ','), '''''') FROM perps_stats.watchlist WHERE stream")
polled0=$(q "SELECT coalesce(string_agg(quote_literal(exchange || '/' || symbol), ','), '''''') FROM perps_stats.watchlist WHERE poll")
# the collector runs, with nothing to poll (its rounds would write rows other tests count)
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/bybit/v5/public/linear', rest_url = '$PERPS_MOCK_URL/bybit' WHERE name = 'bybit';
   UPDATE perps_stats.watchlist SET poll = false, stream = (exchange = 'bybit' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.collect_interval = '1h';
   SELECT pg_reload_conf();" >/dev/null

ok_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "a stream worker for bybit" 30
ok_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perps_stats collector'" "a collector" 30
stream_pid=$(pid_of 'perps_stats stream')
collector_pid=$(pid_of 'perps_stats collector')
launcher_pid=$(pid_of 'perps_stats launcher')
is "$(count 'perps_stats launcher')" "1" "one launcher"

# ---- the launcher terminated: the postmaster starts a new one after 5 s ----
q "SELECT pg_terminate_backend($launcher_pid)" >/dev/null
ok_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perps_stats launcher' AND pid <> $launcher_pid" \
        "a new launcher comes back" 30
max_s=0 max_c=0 max_l=0
for _ in $(seq 60); do
    s=$(count 'perps_stats stream'); c=$(count 'perps_stats collector'); l=$(count 'perps_stats launcher')
    [ "$s" -gt "$max_s" ] && max_s=$s; [ "$c" -gt "$max_c" ] && max_c=$c; [ "$l" -gt "$max_l" ] && max_l=$l
    sleep 0.2
done
is "$max_l $max_s $max_c" "1 1 1" "for 12 s after: never more than one launcher, one bybit stream worker, one collector"
is "$(pid_of 'perps_stats stream') $(pid_of 'perps_stats collector')" "$stream_pid $collector_pid" \
   "the new launcher adopted the workers its predecessor started (the same processes)"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.stream_status WHERE exchange = 'bybit' AND state = 'streaming' AND pid = $stream_pid)" \
        "the adopted stream worker streams on"
n=$((n + 1))
if grep -q "perps_stats launcher found \"perps_stats stream bybit\" running as process $stream_pid and keeps it" "$PERPS_RUN/postgres.log"; then
    echo "ok $n - the log says the launcher kept the stream worker it found"
else
    failed=$((failed + 1)); echo "not ok $n - the log says the launcher kept the stream worker it found"
fi

# ---- an error in a worker's loop: what it buffered is written before it exits ----
qs "ALTER SYSTEM SET perps_stats.flush_interval = 60000; ALTER SYSTEM SET perps_stats.flush_rows = 1000000; SELECT pg_reload_conf();" >/dev/null
is "$(q "SELECT current_setting('perps_stats.flush_interval') || ' ' || current_setting('perps_stats.flush_rows')")" "1min 1000000" "a minute and a million rows between flushes"
sleep 0.5   # the worker takes the settings with its next turn
act '{"venue":"bybit","action":"trades","count":7,"per_frame":7,"price":"65111.5","qty":"0.007"}'
ok_wait "SELECT buffered_rows >= 7 FROM perps_stats.stream_status WHERE exchange = 'bybit'" "seven trades wait in the buffer"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE price = 65111.5 AND qty = 0.007")" "0" "none of them is written yet"
q "SELECT pg_cancel_backend($stream_pid)" >/dev/null
ok_wait "SELECT count(*) = 7 FROM perps_stats.trades WHERE price = 65111.5 AND qty = 0.007" \
        "pg_cancel_backend on the stream worker: its seven buffered trades are written as it exits" 20
ok_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream' AND pid <> $stream_pid" \
        "and the launcher starts it again, once" 30
qs "ALTER SYSTEM RESET perps_stats.flush_interval; ALTER SYSTEM RESET perps_stats.flush_rows; SELECT pg_reload_conf();" >/dev/null

# ---- a venue no longer wanted while no launcher ran: the new one stops its worker ----
launcher_pid=$(pid_of 'perps_stats launcher')
q "SELECT pg_terminate_backend($launcher_pid)" >/dev/null
q "UPDATE perps_stats.watchlist SET stream = false WHERE exchange = 'bybit'" >/dev/null
ok_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perps_stats launcher' AND pid <> $launcher_pid" \
        "the launcher, terminated again, comes back" 30
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" \
        "and stops the stream worker of the venue that stopped streaming while it was away" 30
q "UPDATE perps_stats.watchlist SET stream = true WHERE exchange = 'bybit' AND symbol = 'BTC'" >/dev/null
ok_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" \
        "wanted again, it is started again, once" 30

# ---- adopted workers that are no longer wanted are stopped ----
qs "ALTER SYSTEM SET perps_stats.stream_workers = off; ALTER SYSTEM SET perps_stats.collect_interval = 0; SELECT pg_reload_conf();" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type IN ('perps_stats stream', 'perps_stats collector')" \
        "stream_workers off and collect_interval 0: the adopted workers are stopped" 30

# ---- put back what was changed ----
qs "ALTER SYSTEM RESET perps_stats.collect_interval;
   ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf();
   UPDATE perps_stats.watchlist SET stream = (exchange || '/' || symbol IN ($streamed0)), poll = (exchange || '/' || symbol IN ($polled0));
   UPDATE perps_stats.exchanges SET rest_url = split_part('$urls0', ' ', 1), ws_url = split_part('$urls0', ' ', 2) WHERE name = 'bybit';" >/dev/null

tap_done
