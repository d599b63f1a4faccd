-- perps_stats install script, part 40: the HTTP API.
--
-- Schema perps_api is what PostgREST serves (db-schemas = perps_api): views
-- over the tables whose rows carry exchange and symbol names instead of ids,
-- and RPC functions.  Role perps_anon, the anonymous web user, may read the
-- views and call the functions, nothing else.
--
-- The views belong to the extension owner, so reading them needs no
-- privilege on the tables of perps_stats.  They stay simple (joins and
-- LATERAL subqueries, no aggregation or DISTINCT over a fact table) so that
-- the planner pushes filters on ts and on exchange/symbol down to the tables:
-- partition pruning on the time column and the (market_id, ts) index of each
-- partition.  The "latest" views take the newest row of each market with an
-- index scan backwards (ORDER BY ts DESC LIMIT 1 per market), not a pass over
-- the table.  latest_tickers, the most asked for, reads
-- perps_stats.latest_tickers instead, the newest row of each market kept at
-- ingest by triggers on tickers (12_latest.sql).  orderbooks and
-- latest_liquidity look at the last day first: pruned when the executor
-- starts, that reads the newest daily partitions (and the default one)
-- instead of all of them; the branch over the whole table runs only for a
-- market with nothing in the last day.  (Because of the default partition
-- the planner cannot scan the days newest first and stop at the first row:
-- it merges all partitions.)
--
-- The RPC functions are SECURITY INVOKER and read through the views, so they
-- run with perps_anon's rights.

CREATE SCHEMA perps_api;
COMMENT ON SCHEMA perps_api IS 'perps_stats over HTTP: the schema PostgREST serves';
REVOKE ALL ON SCHEMA perps_api FROM PUBLIC;

-- Roles are cluster-wide and outlive the extension: create perps_anon only
-- when it is missing, so DROP/CREATE EXTENSION can be repeated.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'perps_anon') THEN
        CREATE ROLE perps_anon NOLOGIN;
    END IF;
END
$$;
-- PostgREST applies the settings of the role it switches to.
ALTER ROLE perps_anon SET statement_timeout = '5s';
-- PostgREST runs every request as a prepared statement with the values as
-- parameters.  Left to choose, PostgreSQL plans each execution anew: a
-- generic plan over the daily partitions costs more on paper (it keeps
-- every partition, to be pruned when the executor starts), so the custom
-- plan wins, and planning a join with a partitioned table on every request
-- took longer than running it.  The generic plan is made once per
-- connection and statement, and its pruning at executor start reads only
-- the partitions the request's time range covers (test/pgtap/40_api.sql).
ALTER ROLE perps_anon SET plan_cache_mode = force_generic_plan;

-- ---------------------------------------------------------------------------
-- Reference data
-- ---------------------------------------------------------------------------

-- without rest_url and ws_url: where the server connects is no business of
-- anonymous HTTP clients (a test setup's loopback mock, a proxy's address)
CREATE VIEW perps_api.exchanges AS
    SELECT e.name AS exchange, e.maker_fee, e.taker_fee, e.enabled
      FROM perps_stats.exchanges e;

CREATE VIEW perps_api.markets AS
    SELECT e.name AS exchange, m.symbol, m.native_symbol, m.base, m.quote, m.contract_size,
           m.tick_size, m.lot_size, m.min_qty, m.max_qty, m.min_notional, m.max_leverage,
           m.funding_interval_hours, m.active, m.updated_at
      FROM perps_stats.markets m
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE VIEW perps_api.symbols AS
    SELECT m.symbol, array_agg(e.name ORDER BY e.name) AS exchanges
      FROM perps_stats.markets m
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     WHERE m.active
     GROUP BY m.symbol;
COMMENT ON VIEW perps_api.symbols IS 'Global symbols with the venues that list them (active markets)';

-- ---------------------------------------------------------------------------
-- Time series: one view per table, one row per stored row
-- ---------------------------------------------------------------------------

CREATE VIEW perps_api.tickers AS
    SELECT e.name AS exchange, m.symbol, t.ts, t.last_price, t.mark_price, t.index_price,
           t.best_bid_price, t.best_bid_qty, t.best_ask_price, t.best_ask_qty, t.volume_24h,
           t.turnover_24h, t.open_interest, t.open_interest_notional, t.price_change_24h,
           t.price_change_pct, t.high_24h, t.low_24h
      FROM perps_stats.tickers t
      JOIN perps_stats.markets m ON m.id = t.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE VIEW perps_api.trades AS
    SELECT e.name AS exchange, m.symbol, t.ts, t.trade_id, t.price, t.qty, t.side
      FROM perps_stats.trades t
      JOIN perps_stats.markets m ON m.id = t.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE VIEW perps_api.funding_rates AS
    SELECT e.name AS exchange, m.symbol, f.funding_time, f.rate, f.predicted_rate, f.interval_hours
      FROM perps_stats.funding_rates f
      JOIN perps_stats.markets m ON m.id = f.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE VIEW perps_api.open_interest AS
    SELECT e.name AS exchange, m.symbol, o.ts, o.open_interest, o.open_interest_notional
      FROM perps_stats.open_interest o
      JOIN perps_stats.markets m ON m.id = o.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE VIEW perps_api.klines AS
    SELECT e.name AS exchange, m.symbol, k."interval", k.open_time, k.close_time, k.open, k.high,
           k.low, k.close, k.volume, k.turnover, k.trade_count
      FROM perps_stats.klines k
      JOIN perps_stats.markets m ON m.id = k.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE VIEW perps_api.liquidity_depth AS
    SELECT e.name AS exchange, m.symbol, l.ts, l.mid_price,
           l.bid_1bps, l.bid_2_5bps, l.bid_5bps, l.bid_10bps, l.bid_20bps, l.bid_50bps, l.bid_100bps,
           l.ask_1bps, l.ask_2_5bps, l.ask_5bps, l.ask_10bps, l.ask_20bps, l.ask_50bps, l.ask_100bps,
           l.max_bid_bps, l.max_ask_bps
      FROM perps_stats.liquidity_depth l
      JOIN perps_stats.markets m ON m.id = l.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE VIEW perps_api.slippage AS
    SELECT e.name AS exchange, m.symbol, s.ts, s.amount, s.side, s.mid_price, s.avg_price,
           s.slippage_bps, s.feasible
      FROM perps_stats.slippage s
      JOIN perps_stats.markets m ON m.id = s.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE VIEW perps_api.ingest_events AS
    SELECT v.id, v.ts, e.name AS exchange, m.symbol, v.source, v.kind, v.message,
           v.range_start, v.range_end, v.first_missing_id, v.last_missing_id
      FROM perps_stats.ingest_events v
      LEFT JOIN perps_stats.markets m ON m.id = v.market_id
      LEFT JOIN perps_stats.exchanges e ON e.id = coalesce(v.exchange_id, m.exchange_id);

-- The stream workers' status (38_stream.sql), without their process ids:
-- the web has no use for them.
CREATE VIEW perps_api.stream_status AS
    SELECT exchange, state, connected_since, messages, rows_written, bytes, last_message_at,
           reconnects, gaps, resyncs, parse_errors, refetches, trades_refetched, trade_gaps,
           buffered_rows, last_error
      FROM perps_stats.stream_status;
COMMENT ON VIEW perps_api.stream_status IS
    'Stream workers: connection state and counters per venue, one row per venue streamed since the server started';

-- ---------------------------------------------------------------------------
-- Newest row per market
-- ---------------------------------------------------------------------------

CREATE VIEW perps_api.latest_tickers AS
    SELECT t.exchange, t.symbol, t.ts, t.last_price, t.mark_price, t.index_price,
           t.best_bid_price, t.best_bid_qty, t.best_ask_price, t.best_ask_qty, t.volume_24h,
           t.turnover_24h, t.open_interest, t.open_interest_notional, t.price_change_24h,
           t.price_change_pct, t.high_24h, t.low_24h
      FROM perps_stats.latest_tickers t
     WHERE t.exchange IS NOT NULL AND t.symbol IS NOT NULL;
COMMENT ON VIEW perps_api.latest_tickers IS 'The newest ticker of each market';

CREATE VIEW perps_api.orderbooks AS
    SELECT e.name AS exchange, m.symbol, b.ts, b.bids, b.asks, b.seq
      FROM perps_stats.markets m
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     CROSS JOIN LATERAL (SELECT * FROM (
                (SELECT * FROM perps_stats.orderbooks x WHERE x.market_id = m.id
                    AND x.ts >= now() - interval '1 day' ORDER BY x.ts DESC LIMIT 1)
                UNION ALL
                (SELECT * FROM perps_stats.orderbooks x WHERE x.market_id = m.id ORDER BY x.ts DESC LIMIT 1)
             ) u LIMIT 1) b;
COMMENT ON VIEW perps_api.orderbooks IS
    'The newest stored book of each market: bids and asks as {{price,qty},...}, best first';

CREATE VIEW perps_api.latest_liquidity AS
    SELECT e.name AS exchange, m.symbol, l.ts, l.mid_price,
           l.bid_1bps, l.bid_2_5bps, l.bid_5bps, l.bid_10bps, l.bid_20bps, l.bid_50bps, l.bid_100bps,
           l.ask_1bps, l.ask_2_5bps, l.ask_5bps, l.ask_10bps, l.ask_20bps, l.ask_50bps, l.ask_100bps,
           l.max_bid_bps, l.max_ask_bps
      FROM perps_stats.markets m
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     CROSS JOIN LATERAL (SELECT * FROM (
                (SELECT * FROM perps_stats.liquidity_depth x WHERE x.market_id = m.id
                    AND x.ts >= now() - interval '1 day' ORDER BY x.ts DESC LIMIT 1)
                UNION ALL
                (SELECT * FROM perps_stats.liquidity_depth x WHERE x.market_id = m.id ORDER BY x.ts DESC LIMIT 1)
             ) u LIMIT 1) l;
COMMENT ON VIEW perps_api.latest_liquidity IS 'The newest liquidity_depth row of each market';

-- ---------------------------------------------------------------------------
-- Table statistics.  perps_stats.table_stats runs its queries with the
-- caller's rights, which perps_anon does not have on the partitions; this
-- view reads the same figures with the view owner's: row estimates and
-- sizes from the catalogs, oldest and newest time per market from the
-- primary-key indexes (one short index scan per market and partition).
-- ---------------------------------------------------------------------------

CREATE VIEW perps_api.table_stats AS
    WITH parts AS (
        SELECT t.table_name::text AS table_name,
               coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint AS rows,
               coalesce(sum(pg_catalog.pg_total_relation_size(c.oid)), 0)::bigint AS total_bytes,
               count(*) FILTER (WHERE c.relname <> t.table_name || '_default')::int AS partitions
          FROM perps_stats.partitioned_tables t
          LEFT JOIN pg_catalog.pg_inherits i ON i.inhparent = ('perps_stats.' || t.table_name)::regclass
          LEFT JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
         GROUP BY t.table_name
    ), ends AS (
        SELECT 'tickers' AS table_name, min(a.ts) AS oldest, max(z.ts) AS newest
          FROM perps_stats.markets m
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.tickers x WHERE x.market_id = m.id ORDER BY x.ts LIMIT 1) a ON true
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.tickers x WHERE x.market_id = m.id ORDER BY x.ts DESC LIMIT 1) z ON true
        UNION ALL
        SELECT 'orderbooks', min(a.ts), max(z.ts)
          FROM perps_stats.markets m
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.orderbooks x WHERE x.market_id = m.id ORDER BY x.ts LIMIT 1) a ON true
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.orderbooks x WHERE x.market_id = m.id ORDER BY x.ts DESC LIMIT 1) z ON true
        UNION ALL
        SELECT 'trades', min(a.ts), max(z.ts)
          FROM perps_stats.markets m
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.trades x WHERE x.market_id = m.id ORDER BY x.ts LIMIT 1) a ON true
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.trades x WHERE x.market_id = m.id ORDER BY x.ts DESC LIMIT 1) z ON true
        UNION ALL
        SELECT 'funding_rates', min(a.ts), max(z.ts)
          FROM perps_stats.markets m
          LEFT JOIN LATERAL (SELECT x.funding_time AS ts FROM perps_stats.funding_rates x WHERE x.market_id = m.id ORDER BY x.funding_time LIMIT 1) a ON true
          LEFT JOIN LATERAL (SELECT x.funding_time AS ts FROM perps_stats.funding_rates x WHERE x.market_id = m.id ORDER BY x.funding_time DESC LIMIT 1) z ON true
        UNION ALL
        SELECT 'open_interest', min(a.ts), max(z.ts)
          FROM perps_stats.markets m
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.open_interest x WHERE x.market_id = m.id ORDER BY x.ts LIMIT 1) a ON true
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.open_interest x WHERE x.market_id = m.id ORDER BY x.ts DESC LIMIT 1) z ON true
        UNION ALL
        -- klines: the key is (market_id, interval, open_time), so per interval too
        SELECT 'klines', min(a.ts), max(z.ts)
          FROM perps_stats.markets m
         CROSS JOIN (VALUES ('1m'),('3m'),('5m'),('15m'),('30m'),('1h'),('2h'),('4h'),('8h'),('12h'),('1d'),('1w')) iv(iv)
          LEFT JOIN LATERAL (SELECT x.open_time AS ts FROM perps_stats.klines x WHERE x.market_id = m.id AND x."interval" = iv.iv ORDER BY x.open_time LIMIT 1) a ON true
          LEFT JOIN LATERAL (SELECT x.open_time AS ts FROM perps_stats.klines x WHERE x.market_id = m.id AND x."interval" = iv.iv ORDER BY x.open_time DESC LIMIT 1) z ON true
        UNION ALL
        SELECT 'liquidity_depth', min(a.ts), max(z.ts)
          FROM perps_stats.markets m
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.liquidity_depth x WHERE x.market_id = m.id ORDER BY x.ts LIMIT 1) a ON true
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.liquidity_depth x WHERE x.market_id = m.id ORDER BY x.ts DESC LIMIT 1) z ON true
        UNION ALL
        SELECT 'slippage', min(a.ts), max(z.ts)
          FROM perps_stats.markets m
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.slippage x WHERE x.market_id = m.id ORDER BY x.ts LIMIT 1) a ON true
          LEFT JOIN LATERAL (SELECT x.ts FROM perps_stats.slippage x WHERE x.market_id = m.id ORDER BY x.ts DESC LIMIT 1) z ON true
    )
    SELECT p.table_name, p.rows, p.total_bytes, pg_catalog.pg_size_pretty(p.total_bytes) AS size,
           e.oldest, e.newest, p.partitions
      FROM parts p JOIN ends e USING (table_name)
    UNION ALL
    SELECT 'ingest_events', greatest(c.reltuples, 0)::bigint, pg_catalog.pg_total_relation_size(c.oid),
           pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(c.oid)),
           (SELECT min(v.ts) FROM perps_stats.ingest_events v),
           (SELECT max(v.ts) FROM perps_stats.ingest_events v), 0
      FROM pg_catalog.pg_class c
     WHERE c.oid = 'perps_stats.ingest_events'::regclass;
COMMENT ON VIEW perps_api.table_stats IS
    'Per table: estimated rows (planner statistics), size on disk, oldest and newest time of rows that belong to a known market, daily partitions';

-- ---------------------------------------------------------------------------
-- RPC functions (POST or GET /rpc/<name>)
-- ---------------------------------------------------------------------------

CREATE TYPE perps_api.slippage_estimate AS (
    exchange      text,
    symbol        text,
    ts            timestamptz,
    amount        numeric,
    side          text,
    mid_price     numeric,
    avg_price     numeric,
    slippage_bps  numeric,
    filled_base   numeric,
    filled_quote  numeric,
    levels_used   int,
    feasible      boolean
);

-- A market order of `amount` quote currency against the newest stored book
-- of one market, or of every venue listing the symbol when exchange is NULL
-- (omitted: hence the defaults; symbol and amount are required, 22023);
-- both sides when side is NULL.  No book: no rows.
CREATE FUNCTION perps_api.slippage(exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                   amount numeric DEFAULT NULL, side text DEFAULT NULL)
RETURNS SETOF perps_api.slippage_estimate
LANGUAGE sql STABLE
AS $$
    SELECT b.exchange, b.symbol, b.ts, slippage.amount, s.side,
           r.mid_price, r.avg_price, r.slippage_bps, r.filled_base, r.filled_quote, r.levels_used, r.feasible
      FROM perps_api.orderbooks b
     CROSS JOIN unnest(CASE WHEN slippage.side IS NULL THEN ARRAY['buy', 'sell']
                            ELSE ARRAY[slippage.side] END) WITH ORDINALITY AS s(side, n)
     CROSS JOIN LATERAL perps_stats.slippage(b.bids, b.asks, s.side, slippage.amount) r
     WHERE perps_stats._slippage_check(slippage.symbol, slippage.amount)
       AND (slippage.exchange IS NULL OR b.exchange = slippage.exchange) AND b.symbol = slippage.symbol
     ORDER BY b.exchange, s.n
$$;
COMMENT ON FUNCTION perps_api.slippage(text, text, numeric, text) IS
    'Slippage of a market order of amount (quote currency) on the newest stored book of one market, or of every venue listing symbol when exchange is NULL; both sides when side is NULL';

-- VWAP of the stored trades of one market in [since, until).
CREATE FUNCTION perps_api.vwap(exchange text, symbol text, since timestamptz, until timestamptz)
RETURNS TABLE (vwap numeric, volume numeric, notional numeric, trade_count bigint,
               first_trade timestamptz, last_trade timestamptz)
LANGUAGE sql STABLE
AS $$
    SELECT perps_stats.vwap(t.price, t.qty), sum(t.qty), sum(t.price * t.qty), count(*),
           min(t.ts), max(t.ts)
      FROM perps_api.trades t
     WHERE t.exchange = vwap.exchange AND t.symbol = vwap.symbol
       AND t.ts >= vwap.since AND t.ts < vwap.until
$$;
COMMENT ON FUNCTION perps_api.vwap(text, text, timestamptz, timestamptz) IS
    'Volume-weighted average price of the stored trades of one market in [since, until), with their volume (base), notional (quote) and count';

CREATE TYPE perps_api.liquidity_share AS (
    exchange      text,
    symbol        text,
    ts            timestamptz,
    bps           numeric,
    bid_notional  numeric,
    ask_notional  numeric,
    notional      numeric,
    share         numeric,
    bid_complete  boolean,
    ask_complete  boolean
);

-- Quote notional within each bps of mid on the newest book of every venue
-- that lists the symbol, and each venue's share of the total over venues
-- (bid + ask notional, a fraction).
CREATE FUNCTION perps_api.liquidity(symbol text, bps numeric[] DEFAULT NULL)
RETURNS SETOF perps_api.liquidity_share
LANGUAGE sql STABLE
AS $$
    SELECT d.exchange, d.symbol, d.ts, d.bps, d.bid_notional, d.ask_notional, d.notional,
           d.notional / nullif(sum(d.notional) OVER (PARTITION BY d.bps), 0),
           d.bid_complete, d.ask_complete
      FROM (SELECT b.exchange, b.symbol, b.ts, l.bps, l.bid_notional, l.ask_notional,
                   l.bid_notional + l.ask_notional AS notional, l.bid_complete, l.ask_complete
              FROM perps_api.orderbooks b
             -- the default thresholds of perps_stats.liquidity_depth
             CROSS JOIN LATERAL perps_stats.liquidity_depth(
                   b.bids, b.asks, coalesce(liquidity.bps, '{1,2.5,5,10,20,50,100}')) l
             WHERE b.symbol = liquidity.symbol) d
     ORDER BY d.bps, d.exchange
$$;
COMMENT ON FUNCTION perps_api.liquidity(text, numeric[]) IS
    'Liquidity within bps of mid on the newest book of each venue listing symbol, and each venue''s share of the total';

CREATE FUNCTION perps_api.health()
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'status', 'ok',
        'version', perps_stats.version(),
        'time', now(),
        'markets', (SELECT count(*) FROM perps_api.markets WHERE active),
        'newest_ticker', (SELECT max(ts) FROM perps_api.latest_tickers),
        'errors_last_hour', (SELECT count(*) FROM perps_api.ingest_events
                              WHERE kind = 'error' AND ts > now() - interval '1 hour'),
        'statement_timeout', current_setting('statement_timeout'),
        -- the stream workers' states by venue ({} when none streams)
        'streams', (SELECT coalesce(jsonb_object_agg(exchange, state), '{}')
                      FROM perps_api.stream_status))
$$;
COMMENT ON FUNCTION perps_api.health() IS
    'The database answers: version, time, active markets, newest ticker, errors in the last hour, stream workers'' states';

-- ---------------------------------------------------------------------------
-- perps_anon: read the views, call the functions, nothing else.
-- ---------------------------------------------------------------------------

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA perps_api FROM PUBLIC;
GRANT USAGE ON SCHEMA perps_api TO perps_anon;
GRANT SELECT ON ALL TABLES IN SCHEMA perps_api TO perps_anon;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA perps_api TO perps_anon;
