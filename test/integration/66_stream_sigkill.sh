#!/usr/bin/env bash
# A stream worker killed with SIGKILL: PostgreSQL treats it as a crash and
# restarts every backend; the launcher comes back with the cluster, starts
# the stream worker again and streaming resumes, with nothing written twice
# and the outage recorded (perps_stats.stream_progress survives the crash).
# The killed pid is listed in $PERPS_RUN/expected_kills so that test/run.sh
# does not report this deliberate kill as a server crash.  Uses the Bybit
# mock (test/mock/ws_venues/bybit.py).  TAP.
set -uo pipefail

STREAM_VENUE=bybit
. "$(dirname "$0")/../lib/tap.sh"

BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = 2 AND symbol = 'BTC')"
qs "UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/bybit/v5/public/linear' WHERE name = 'bybit';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'bybit' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   ALTER SYSTEM SET restart_after_crash = on;
   SELECT pg_reload_conf();" >/dev/null
# (the valgrind run switches crash restarts off for the other tests; this one is about them)

ok_wait "SELECT state = 'streaming' FROM perps_stats.stream_status WHERE exchange = 'bybit'" "the bybit stream worker streams" 30
act '{"venue":"bybit","action":"trades","count":10,"per_frame":10,"price":"64111.5"}'
ok_wait "SELECT count(*) = 10 FROM perps_stats.trades WHERE market_id = $BTC AND price = 64111.5" "ten trades before the kill"

# the test cluster commits asynchronously (scripts/cluster.sh): a crash loses commits whose WAL
# was not written yet, so wait until the WAL writer has flushed past those trades
lsn=$(q "SELECT pg_current_wal_insert_lsn()")
ok_wait "SELECT pg_current_wal_flush_lsn() >= '$lsn'" "the trades' commit is flushed to the WAL"
pid=$(status pid)
echo "$pid" >> "$PERPS_RUN/expected_kills"
kill -KILL "$pid"
is "$?" "0" "SIGKILL sent to the stream worker (pid $pid)"
# the postmaster restarts every backend: connections fail for a moment
ok_wait "SELECT state = 'streaming' AND pid <> $pid FROM perps_stats.stream_status WHERE exchange = 'bybit'" \
        "after the crash restart the launcher starts a new stream worker and it streams" 60
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perps_stats launcher'")" "1" "one launcher after the restart"
is "$(status "reconnects || ' ' || gaps || ' ' || parse_errors")" "0 0 0" "the new worker's counters start from zero"
act '{"venue":"bybit","action":"trades","count":10,"per_frame":5,"price":"64112.5"}'
ok_wait "SELECT count(*) = 10 FROM perps_stats.trades WHERE market_id = $BTC AND price = 64112.5" "streaming resumed: ten new trades stored"
is "$(q "SELECT count(*) || ' ' || count(DISTINCT trade_id) FROM perps_stats.trades WHERE market_id = $BTC AND price IN (64111.5, 64112.5)")" \
   "20 20" "the trades from before the kill are there once, the new ones too"
# the outage, from the last message stored before the kill to the first after it, in the venue's time
is "$(q "SELECT count(*) || ' ' || bool_and(e.range_start >= (SELECT max(ts) FROM perps_stats.trades WHERE market_id = $BTC AND price = 64111.5)
                                 AND e.range_start <= p.last_message_at AND e.range_end > e.range_start
                                 AND e.range_end <= (SELECT min(ts) FROM perps_stats.trades WHERE market_id = $BTC AND price = 64112.5))
          FROM perps_stats.ingest_events e, perps_stats.stream_progress p
         WHERE p.exchange_id = 2 AND e.kind = 'reconnect' AND e.source = 'stream' AND e.exchange_id = 2
           AND e.message LIKE 'the stream worker started%' AND e.ts > (SELECT max(ts) FROM perps_stats.trades WHERE market_id = $BTC AND price = 64111.5)")" \
   "1 true" "one reconnect row records the worker's own outage: from the last message stored before the kill to its first after it"

qs "ALTER SYSTEM RESET perps_stats.flush_interval; ALTER SYSTEM SET perps_stats.stream_workers = off;
    ALTER SYSTEM RESET restart_after_crash; SELECT pg_reload_conf();
    UPDATE perps_stats.watchlist SET stream = false WHERE exchange = 'bybit';" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the worker stops when streaming is switched off"
tap_done
