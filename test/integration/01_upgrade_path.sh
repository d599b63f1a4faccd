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
echo "1..$((2 + 8 * ${#released[@]}))"
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@" 2>&1; }
# (pg_dump 15.14 and later write \restrict lines with a random key: left out)
dump() { "$PG_BIN/pg_dump" -s -d "$1" --no-owner | grep -vE '^--|^$|_p[0-9]{8}|^\\(un)?restrict ' | sort; }

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
    # a row in every table of the old version, and a digest of every table's content
    q -d "$db" -f - >/dev/null <<'SQL'
INSERT INTO perps_stats.markets (exchange_id, symbol, native_symbol, base, quote) VALUES (1, 'BTC', 'BTCUSDT', 'BTC', 'USDT');
INSERT INTO perps_stats.tickers (market_id, ts, last_price, mark_price) VALUES (1, '2026-01-05 12:00+00', 42000.12345678901234567890, 42000.5);
INSERT INTO perps_stats.orderbooks (market_id, ts, bids, asks, seq) VALUES (1, '2026-01-05 12:00+00', '{{100,1}}', '{{101,2}}', 7);
INSERT INTO perps_stats.trades VALUES (1, '2026-01-05 12:00+00', '123', 42000.1, 0.001, 'buy');
INSERT INTO perps_stats.funding_rates (market_id, funding_time, rate) VALUES (1, '2026-01-05 16:00+00', 0.0001);
INSERT INTO perps_stats.open_interest VALUES (1, '2026-01-05 12:00+00', 10, 420000);
INSERT INTO perps_stats.klines VALUES (1, '1m', '2026-01-05 12:00+00', '2026-01-05 12:00:59.999+00', 1, 2, 0.5, 1.5, 10, 15, 3);
INSERT INTO perps_stats.liquidity_depth (market_id, ts, mid_price, bid_1bps) VALUES (1, '2026-01-05 12:00+00', 100.5, 1);
INSERT INTO perps_stats.slippage VALUES (1, '2026-01-05 12:00+00', 1000, 'buy', 100.5, 101, 49.75, true);
INSERT INTO perps_stats.ingest_events (exchange_id, market_id, source, kind, message, range_start, range_end)
    VALUES (1, 1, 'stream', 'gap', 'written by 0.1.0', '2026-01-05 12:00+00', '2026-01-05 12:01+00');
INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('binance', 'ZZZ', false, false);
INSERT INTO perps_stats.backfill_progress (exchange, symbol, kind, unit, state, started_at, updated_at)
    VALUES ('binance', 'BTC', 'klines', 'minutes', 'done', '2026-01-05', '2026-01-05');
INSERT INTO perps_stats.backfill_earliest (exchange, symbol, kind, earliest) VALUES ('binance', 'BTC', 'klines', '2020-01-01');
INSERT INTO perps_stats.backfill_empty_ranges (exchange, symbol, kind, range_start, range_end) VALUES ('binance', 'BTC', 'klines', '2019-01-01', '2019-02-01');
INSERT INTO perps_stats.backfill_covered (exchange, symbol, kind, range_start, range_end) VALUES ('binance', 'BTC', 'trades', '2026-01-01', '2026-01-02');
SQL
    digest="SELECT string_agg(c.relname || ':' || array_to_string(xpath('/row/*/text()', query_to_xml(format('SELECT count(*) AS n, md5(string_agg(t::text, ''|'' ORDER BY t::text)) AS h FROM %I.%I t', n.nspname, c.relname), false, true, '')), ':'), ' ' ORDER BY c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'perps_stats' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
    empty=$(q -d "$db" -c "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = 'perps_stats' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                             AND (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM perps_stats.%I', c.relname), false, true, '')))[1]::text = '0'")
    [ -z "$empty" ] && echo "ok $n - $v: a row in every table before the update" || echo "not ok $n - $v: tables left empty before the update: $empty"
    n=$((n + 1))
    before=$(q -d "$db" -c "$digest")
    out=$(q -d "$db" -c "ALTER EXTENSION perps_stats UPDATE; SELECT extversion FROM pg_extension WHERE extname = 'perps_stats'")
    [ "$out" = "$current" ] && echo "ok $n - $v updates to $current" || echo "not ok $n - update from $v: $out"
    n=$((n + 1))
    # the rows are all there: the same count and content in every table (ingest_events,
    # exchanges, liquidity_depth, slippage and markets, which gained columns, are checked on
    # their old ones; exchanges gained a row)
    after=$(q -d "$db" -c "$digest")
    old_cols() { q -d "$db" -c "SELECT count(*) FROM perps_stats.ingest_events WHERE message = 'written by 0.1.0' AND range_start = '2026-01-05 12:00+00' AND first_missing_id IS NULL
                                UNION ALL
                                SELECT count(*) FROM perps_stats.exchanges WHERE id <= 6 AND adapter IS NULL AND adapter_param IS NULL
                                UNION ALL
                                SELECT count(*) FROM perps_stats.exchanges WHERE name = 'tradexyz' AND adapter = 'hyperliquid' AND adapter_param = 'xyz'
                                UNION ALL
                                SELECT count(*) FROM perps_stats.liquidity_depth WHERE mid_price = 100.5 AND bid_1bps = 1 AND resolution IS NULL
                                UNION ALL
                                SELECT count(*) FROM perps_stats.slippage WHERE avg_price = 101 AND slippage_bps = 49.75 AND feasible AND resolution IS NULL
                                UNION ALL
                                SELECT count(*) FROM perps_stats.markets WHERE native_symbol = 'BTCUSDT' AND contract_size = 1 AND book_steps IS NULL" | paste -sd' '; }
    [ "$(old_cols)" = "1 6 1 1 1 1" ] && echo "ok $n - $v: its ingest_events, liquidity_depth, slippage and markets rows are there after the update, the new columns NULL; its six venues keep their adapters, tradexyz is added" \
                                || echo "not ok $n - $v: the ingest_events row and the venues after the update: $(old_cols)"
    n=$((n + 1))
    # (tables the update created are new and not compared; exchanges gains
    # the seed rows of new venues, checked below)
    old_tables=$(echo "$before" | tr ' ' '\n' | cut -d: -f1 | paste -sd'|')
    same=$(diff <(echo "$before" | tr ' ' '\n' | grep -vE '^(ingest_events|exchanges|liquidity_depth|slippage|markets):') \
                <(echo "$after" | tr ' ' '\n' | grep -E "^($old_tables):" | grep -vE '^(ingest_events|exchanges|liquidity_depth|slippage|markets):') && echo same)
    [ "$same" = "same" ] && echo "ok $n - $v: every other table has the same rows after the update" \
                         || echo "not ok $n - $v: rows changed by the update"
    n=$((n + 1))
    # the venues: the old rows as they were and the new ones as a fresh install seeds them
    venues="SELECT string_agg(e::text, ' ' ORDER BY id) FROM perps_stats.exchanges e"
    if [ "$(q -d "$db" -c "$venues")" = "$(q -d perps_fresh -c "$venues")" ]; then
        echo "ok $n - $v: exchanges after the update are a fresh install's"
    else
        echo "not ok $n - $v: exchanges after the update: $(q -d "$db" -c "$venues")"
    fi
    n=$((n + 1))
    out=$(q -d "$db" -c "SELECT count(*) FROM perps_stats.stream_status WHERE refetches IS NULL; SELECT count(*) FROM perps_api.ingest_events WHERE last_missing_id IS NULL")
    [ "$out" = "0
1" ] && echo "ok $n - $v: the new columns of stream_status and perps_api.ingest_events answer" || echo "not ok $n - $v: $out"
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
