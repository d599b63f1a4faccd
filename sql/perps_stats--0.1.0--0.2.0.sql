-- perps_stats 0.1.0 -> 0.2.0
--
-- New venues: Aster (Binance-compatible futures API), GRVT, Extended and
-- Pacifica, seed rows of exchanges.
--
-- Every write of the time-series tables goes through one writer
-- (perps_stats._store_rows for the backfill) with one clash policy per table.
-- Each venue's rate limit is shared by the whole cluster (rate_limits).
-- A stream worker that starts records the outage since the last message
-- stored (stream_progress).
--
-- The stream workers keep trades continuous (a REST refetch of what the
-- stream missed) and record what remains lost precisely:
--   * ingest_events gains first_missing_id and last_missing_id, and its
--     stream rows' ranges are in the venue's time;
--   * stream_status gains refetches, trades_refetched and trade_gaps.
--
-- A venue row names its adapter and the adapter's parameter (exchanges
-- gains adapter and adapter_param): Hyperliquid's HIP-3 DEXes are rows served
-- by the hyperliquid adapter, the first one trade.xyz (dex xyz).  A venue
-- whose public API is on two hosts has the second in exchanges.aux_url.
\echo Use "ALTER EXTENSION perps_stats UPDATE TO '0.2.0'" to load this file. \quit

-- New venues (the install script's seed rows of perps_stats.exchanges,
-- sql/install/00_schema.sql).  The watchlist is the user's and stays as
-- it is: an updated cluster starts collecting a new venue when its markets
-- are added to perps_stats.watchlist.
INSERT INTO perps_stats.exchanges (id, name, rest_url, ws_url, maker_fee, taker_fee) VALUES
    (7, 'aster', 'https://fapi.asterdex.com', 'wss://fstream.asterdex.com', 0.0001, 0.00035);
-- GRVT (id 11): the market-data host's REST and full-format stream URLs,
-- the fees of its first tier (help.grvt.io, "How does GRVT's Fee Model work?")
INSERT INTO perps_stats.exchanges (id, name, rest_url, ws_url, maker_fee, taker_fee) VALUES
    (11, 'grvt', 'https://market-data.grvt.io', 'wss://market-data.grvt.io/ws/full', 0.00027, 0.00055);

-- Extended (formerly X10, on Starknet), REST only so far: fees of the base
-- tier (maker 0, taker 0.025 %, the documented example of GET /api/v1/user/fees)
INSERT INTO perps_stats.exchanges (id, name, rest_url, ws_url, maker_fee, taker_fee) VALUES
    (8, 'extended', 'https://api.starknet.extended.exchange',
     'wss://api.starknet.extended.exchange/stream.extended.exchange/v1', 0, 0.00025);

-- Pacifica (id 9): REST only so far, fees of its base tier
INSERT INTO perps_stats.exchanges (id, name, rest_url, ws_url, maker_fee, taker_fee) VALUES
    (9, 'pacifica', 'https://api.pacifica.fi', 'wss://ws.pacifica.fi/ws', 0.00015, 0.0004);

ALTER TABLE perps_stats.ingest_events
    ADD COLUMN first_missing_id text,
    ADD COLUMN last_missing_id  text;
COMMENT ON COLUMN perps_stats.ingest_events.range_start IS
    'Where the venue gives times (the stream workers'' disconnect, reconnect and gap rows), the venue''s time: of the last message or trade before what is missing';
COMMENT ON COLUMN perps_stats.ingest_events.range_end IS
    'The venue''s time of the first message or trade after what is missing (NULL: not known yet, as on a disconnect row)';
COMMENT ON COLUMN perps_stats.ingest_events.first_missing_id IS
    'A gap row of a venue that numbers its trades or book updates: the first id missing';
COMMENT ON COLUMN perps_stats.ingest_events.last_missing_id IS
    'A gap row of a venue that numbers its trades or book updates: the last id missing';

-- Which adapter serves a venue row, and with what parameter: a venue that is
-- one part of another venue's API (a Hyperliquid HIP-3 DEX, served by the
-- hyperliquid adapter with the DEX's name) is one more row, no C.  NULL
-- adapter: the adapter named like the venue (the first six rows).  Venues
-- served by one adapter share one rate-limit account (one API, one IP
-- limit), whose limit is the one set on the row named like the adapter.
ALTER TABLE perps_stats.exchanges
    ADD COLUMN adapter       text CHECK (adapter ~ '^[a-z][a-z0-9_]*$'),
    ADD COLUMN adapter_param text CHECK (adapter_param ~ '^[a-z0-9_]{1,32}$');
COMMENT ON COLUMN perps_stats.exchanges.adapter IS
    'the adapter that serves this venue (src/venues/); NULL = the adapter named like the venue';
COMMENT ON COLUMN perps_stats.exchanges.adapter_param IS
    'what the adapter needs to tell this venue from its others (hyperliquid: the HIP-3 DEX name); NULL = none';

-- A venue that splits its public API over two hosts (a data API beside its
-- trading API, an indexer beside its gateway) has the second one here; its
-- adapter marks the requests that go there.
ALTER TABLE perps_stats.exchanges
    ADD COLUMN aux_url text CHECK (aux_url ~ '^https?://[^/?#]+(/[^?#]*)?$' AND aux_url !~ '/$');
COMMENT ON COLUMN perps_stats.exchanges.aux_url IS
    'the venue''s second REST host, like rest_url, for the requests its adapter sends there; NULL = none';

-- Nado (nado.xyz, on Ink): the gateway's queries at rest_url, its archive
-- (indexer) at aux_url.  Fees of the entry tier (docs.nado.xyz, "Fees &
-- Rebates": maker 1 bp, taker 3.5 bps).
INSERT INTO perps_stats.exchanges (id, name, rest_url, ws_url, maker_fee, taker_fee, aux_url) VALUES
    (12, 'nado', 'https://gateway.prod.nado.xyz', 'wss://gateway.prod.nado.xyz/v1/subscribe', 0.0001, 0.00035,
     'https://archive.prod.nado.xyz');

-- Hyperliquid's builder-deployed DEXes (HIP-3): one row each.  Fees are
-- twice the main DEX's base tier (the deployer takes half).
INSERT INTO perps_stats.exchanges (id, name, rest_url, ws_url, maker_fee, taker_fee, adapter, adapter_param) VALUES
    (13, 'tradexyz', 'https://api.hyperliquid.xyz', 'wss://api.hyperliquid.xyz/ws', 0.0003, 0.0009, 'hyperliquid', 'xyz');

-- Hibachi: all public market data, exchange-info included, is on the data
-- API (as its official SDK asks it); the trading API serves only account and
-- order endpoints.  Fees: feeConfig of exchange-info (maker 0, taker 0.02 %).
INSERT INTO perps_stats.exchanges (id, name, rest_url, ws_url, maker_fee, taker_fee) VALUES
    (10, 'hibachi', 'https://data-api.hibachi.xyz', 'wss://data-api.hibachi.xyz/ws/market', 0, 0.0002);

-- perps_api.exchanges without the venues' URLs (internal addresses)
DROP VIEW perps_api.exchanges;
CREATE VIEW perps_api.exchanges AS
    SELECT e.name AS exchange, e.maker_fee, e.taker_fee, e.enabled
      FROM perps_stats.exchanges e;
GRANT SELECT ON perps_api.exchanges TO perps_anon;

CREATE OR REPLACE VIEW perps_api.ingest_events AS
    SELECT v.id, v.ts, e.name AS exchange, m.symbol, v.source, v.kind, v.message,
           v.range_start, v.range_end, v.first_missing_id, v.last_missing_id
      FROM perps_stats.ingest_events v
      LEFT JOIN perps_stats.markets m ON m.id = v.market_id
      LEFT JOIN perps_stats.exchanges e ON e.id = coalesce(v.exchange_id, m.exchange_id);

-- stream_status: the function's result and both views, with the new counters
DROP VIEW perps_api.stream_status;
DROP VIEW perps_stats.stream_status;
DROP FUNCTION perps_stats._stream_status();

CREATE FUNCTION perps_stats._stream_status(
    OUT exchange text, OUT state text, OUT connected_since timestamptz,
    OUT messages bigint, OUT rows_written bigint, OUT bytes bigint,
    OUT last_message_at timestamptz, OUT reconnects bigint, OUT gaps bigint,
    OUT resyncs bigint, OUT parse_errors bigint, OUT refetches bigint, OUT trades_refetched bigint,
    OUT trade_gaps bigint, OUT buffered_rows bigint,
    OUT last_error text, OUT pid integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'perps_stream_status'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
GRANT EXECUTE ON FUNCTION perps_stats._stream_status() TO PUBLIC;

CREATE VIEW perps_stats.stream_status AS
    SELECT exchange, state, connected_since, messages, rows_written, bytes, last_message_at,
           reconnects, gaps, resyncs, parse_errors, refetches, trades_refetched, trade_gaps,
           buffered_rows, last_error, pid
      FROM perps_stats._stream_status();
COMMENT ON VIEW perps_stats.stream_status IS
    'Stream workers: connection state and counters per venue (state backpressure: the write buffer is full and reading is paused; reconnecting: a connection is down, the others stream; reconnects: connections opened again after one closed; refetches: trade gaps refetched by REST; trade_gaps: trade gaps recorded in ingest_events as lost)';
REVOKE ALL ON perps_stats.stream_status FROM PUBLIC;
GRANT SELECT ON perps_stats.stream_status TO perps_reader;

CREATE VIEW perps_api.stream_status AS
    SELECT exchange, state, connected_since, messages, rows_written, bytes, last_message_at,
           reconnects, gaps, resyncs, parse_errors, refetches, trades_refetched, trade_gaps,
           buffered_rows, last_error
      FROM perps_stats.stream_status;
COMMENT ON VIEW perps_api.stream_status IS
    'Stream workers: connection state and counters per venue, one row per venue streamed since the server started';
GRANT SELECT ON perps_api.stream_status TO perps_anon;

-- One writer per table: the backfill's rows go through the same C writer as
-- collect()'s and the stream workers' (src/store.c), with one clash policy
-- per table: a repeated trade is ignored; a newer observation of a funding
-- period or a kline replaces the stored one (force => true now only fetches
-- covered ranges again).
CREATE FUNCTION perps_stats._store_rows(p_rows anyarray)
RETURNS bigint
AS 'MODULE_PATHNAME', 'perps_stats_store_rows'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION perps_stats._store_rows(anyarray) IS
    'Writes rows of a time-series table (an array of its row type) with the table''s clash policy; returns the rows written';
REVOKE ALL ON FUNCTION perps_stats._store_rows(anyarray) FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'perps_collector') THEN
        GRANT EXECUTE ON FUNCTION perps_stats._store_rows(anyarray) TO perps_collector;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION perps_stats._backfill_klines_chunk(p_exchange text, p_symbol text, p_market int,
                                                   p_interval text, p_from timestamptz, p_to timestamptz,
                                                   p_page int, p_force boolean,
                                                   OUT fetched bigint, OUT inserted bigint)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the last close time wanted: whatever the venue's "until" bounds
    -- (open or close time), the last candle is in and the next is not
    v_until  timestamptz := p_to + perps_stats._kline_step(p_interval) - interval '1 millisecond';
    v_first  date := (p_from AT TIME ZONE 'UTC')::date;
    v_last   date := (p_to AT TIME ZONE 'UTC')::date;
    v_short  boolean := v_last - v_first < 7;
    v_rows   perps_stats.klines[];
BEGIN
    IF v_short THEN
        PERFORM perps_stats._backfill_partition('klines', d::date) FROM generate_series(v_first, v_last, interval '1 day') d;
    END IF;
    SELECT array_agg(ROW(p_market, p_interval, k.open_time, k.close_time, k.open, k.high, k.low, k.close,
                         k.volume, k.turnover, k.trade_count)::perps_stats.klines ORDER BY k.open_time)
      INTO v_rows
      FROM perps_stats.fetch_klines(p_exchange, p_symbol, p_interval, p_from, v_until, p_page) k
     WHERE k.open_time BETWEEN p_from AND p_to;
    fetched := coalesce(cardinality(v_rows), 0);
    inserted := CASE WHEN fetched > 0 THEN perps_stats._store_rows(v_rows) ELSE 0 END;
    IF NOT v_short AND inserted > 0 THEN
        PERFORM perps_stats._backfill_partition('klines', x.day)
           FROM (SELECT DISTINCT (k.open_time AT TIME ZONE 'UTC')::date AS day FROM perps_stats.klines_default k
                  WHERE k.market_id = p_market AND k."interval" = p_interval
                    AND k.open_time BETWEEN p_from AND p_to) x;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION perps_stats._backfill_funding_chunk(p_exchange text, p_symbol text, p_market int,
                                                    p_from timestamptz, p_to timestamptz, p_force boolean,
                                                    OUT fetched bigint, OUT inserted bigint)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows  perps_stats.funding_rates[];
BEGIN
    SELECT array_agg(ROW(p_market, h.funding_time, h.rate, h.predicted_rate, h.interval_hours)::perps_stats.funding_rates
                     ORDER BY h.funding_time)
      INTO v_rows
      FROM perps_stats.fetch_funding_history(p_exchange, p_symbol, p_from, p_to, NULL) h
     WHERE h.funding_time BETWEEN p_from AND p_to;
    fetched := coalesce(cardinality(v_rows), 0);
    inserted := 0;
    IF fetched = 0 THEN
        RETURN;
    END IF;
    PERFORM perps_stats._backfill_partition('funding_rates', d.day)
       FROM (SELECT DISTINCT (r.funding_time AT TIME ZONE 'UTC')::date AS day FROM unnest(v_rows) r) d;
    inserted := perps_stats._store_rows(v_rows);
END
$$;

CREATE OR REPLACE FUNCTION perps_stats._backfill_trades_chunk(p_exchange text, p_symbol text, p_market int,
                                                   p_from timestamptz, p_to timestamptz,
                                                   OUT fetched bigint, OUT inserted bigint)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows  perps_stats.trades[];
BEGIN
    PERFORM perps_stats._backfill_partition('trades', d::date)
       FROM generate_series((p_from AT TIME ZONE 'UTC')::date, (p_to AT TIME ZONE 'UTC')::date, interval '1 day') d;
    SELECT array_agg(ROW(p_market, t.ts, t.trade_id, t.price, t.qty, t.side)::perps_stats.trades)
      INTO v_rows
      FROM perps_stats.fetch_trades(p_exchange, p_symbol, p_from, p_to, NULL) t
     WHERE t.ts BETWEEN p_from AND p_to;
    fetched := coalesce(cardinality(v_rows), 0);
    inserted := CASE WHEN fetched > 0 THEN perps_stats._store_rows(v_rows) ELSE 0 END;
    PERFORM perps_stats._trade_covered(p_exchange, p_symbol, p_from, p_to);
END
$$;

-- Each venue's rate limit is one account for the whole cluster (shared
-- memory): what it let through and refused since the server started.
CREATE FUNCTION perps_stats._rate_limits(
    OUT exchange text, OUT weight_limit integer, OUT window_ms integer, OUT available double precision,
    OUT requests bigint, OUT weight_sent bigint, OUT refused bigint, OUT last_refused_at timestamptz,
    OUT last_refused_pid integer, OUT shared boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'perps_stats_rate_limits'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION perps_stats._rate_limits() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_stats._rate_limits() TO perps_reader;
CREATE VIEW perps_stats.rate_limits AS
    SELECT r.exchange, r.weight_limit, r.window_ms, r.available, r.requests, r.weight_sent,
           r.refused, r.last_refused_at, r.last_refused_pid, r.shared
      FROM perps_stats._rate_limits() r;
COMMENT ON VIEW perps_stats.rate_limits IS
    'Each venue''s rate limit, one account for every backend of the cluster: the weight it could still take in the current window, requests let through and refused (the caller waited) since the server started, and the last backend that waited (shared = false: the library is not preloaded and this backend counts alone)';
REVOKE ALL ON perps_stats.rate_limits FROM PUBLIC;
GRANT SELECT ON perps_stats.rate_limits TO perps_reader;

-- The last message a venue's stream worker stored, kept with each batch it
-- writes: a worker that starts (after a crash, a restart of the cluster, a
-- stop) records the outage from there to its first new message.
CREATE TABLE perps_stats.stream_progress (
    exchange_id      smallint PRIMARY KEY REFERENCES perps_stats.exchanges (id) ON DELETE CASCADE,
    last_message_at  timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE perps_stats.stream_progress IS
    'Per venue, the venue''s time of the last message its stream worker stored (written with each batch): a worker that starts records the outage from there to its first message';
REVOKE ALL ON perps_stats.stream_progress FROM PUBLIC;
GRANT SELECT ON perps_stats.stream_progress TO perps_reader;

-- table_stats: a partition never analyzed yet counts the live rows the
-- statistics collector has seen (a fresh install showed 0 until ANALYZE)
CREATE OR REPLACE FUNCTION perps_stats._table_stats()
RETURNS TABLE (table_name text, rows bigint, total_bytes bigint, oldest timestamptz,
               newest timestamptz, partitions int, default_rows bigint)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r      record;
    p      record;
    v_ts   timestamptz;
BEGIN
    FOR r IN SELECT t.table_name, t.time_column FROM perps_stats.partitioned_tables t ORDER BY 1 LOOP
        table_name := r.table_name;
        -- a partition never analyzed yet (reltuples -1) counts the live rows
        -- the statistics collector has seen inserted
        SELECT coalesce(sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples
                                 ELSE pg_stat_get_live_tuples(c.oid) END), 0)::bigint,
               coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint,
               count(*) FILTER (WHERE c.relname <> r.table_name || '_default')
          INTO rows, total_bytes, partitions
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = format('perps_stats.%I', r.table_name)::regclass;
        EXECUTE format('SELECT count(*), min(%I), max(%I) FROM perps_stats.%I',
                       r.time_column, r.time_column, r.table_name || '_default')
            INTO default_rows, oldest, newest;
        -- Partitions are days: the oldest non-empty one holds the oldest row,
        -- so only one partition per end is scanned.
        FOR p IN SELECT * FROM perps_stats._partitions() x WHERE x.table_name = r.table_name ORDER BY x.day LOOP
            EXECUTE format('SELECT min(%I) FROM perps_stats.%I', r.time_column, p.partition_name) INTO v_ts;
            IF v_ts IS NOT NULL THEN
                oldest := least(oldest, v_ts);
                EXIT;
            END IF;
        END LOOP;
        FOR p IN SELECT * FROM perps_stats._partitions() x WHERE x.table_name = r.table_name ORDER BY x.day DESC LOOP
            EXECUTE format('SELECT max(%I) FROM perps_stats.%I', r.time_column, p.partition_name) INTO v_ts;
            IF v_ts IS NOT NULL THEN
                newest := greatest(newest, v_ts);
                EXIT;
            END IF;
        END LOOP;
        RETURN NEXT;
    END LOOP;
    table_name := 'ingest_events';
    SELECT greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid)
      INTO rows, total_bytes
      FROM pg_class c WHERE c.oid = 'perps_stats.ingest_events'::regclass;
    SELECT min(e.ts), max(e.ts) INTO oldest, newest FROM perps_stats.ingest_events e;
    partitions := 0;
    default_rows := NULL;
    RETURN NEXT;
END
$$;

-- History RPCs (issue 20): tickers, liquidity and slippage history of a
-- market over [start, end), the stored book nearest to a time
-- (sql/install/42_api_history.sql), and slippage over every venue when
-- exchange is omitted (40_api.sql); their argument checks (39_api_checks.sql).
-- The history functions' arguments (42_api_history.sql), checked, as the one
-- row the history is read for: one market, a window [start, end) of at most
-- 31 days, end defaulting to now(), start to end - 24 hours.  A row rather
-- than a boolean: the history function joins it first (the outer side of a
-- nested loop), so the checks run whatever the planner can prove about the
-- rest of the query (a constant start after end would otherwise prune every
-- partition at plan time, and a NULL exchange fold the query to nothing,
-- before a boolean check ran).
CREATE FUNCTION perps_stats._history_window(p_exchange text, p_symbol text, p_start timestamptz, p_end timestamptz,
                                            OUT exchange text, OUT symbol text, OUT start timestamptz, OUT "end" timestamptz)
RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_exchange IS NULL OR p_symbol IS NULL THEN
        RAISE EXCEPTION 'exchange and symbol are required'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A history is that of one market: pass exchange and symbol.';
    END IF;
    exchange := p_exchange;
    symbol := p_symbol;
    "end" := coalesce(p_end, now());
    start := coalesce(p_start, "end" - interval '24 hours');
    IF NOT isfinite(start) OR NOT isfinite("end") THEN
        RAISE EXCEPTION 'start and end must be finite times'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF start >= "end" THEN
        RAISE EXCEPTION 'start must be before end'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, end is %s.', start, "end");
    END IF;
    IF "end" - start > interval '31 days' THEN
        RAISE EXCEPTION 'time range too long'
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('From %s to %s is %s; at most 31 days are served at once.',
                                  start, "end", "end" - start),
                  HINT = 'Ask for consecutive ranges.';
    END IF;
END
$$;
COMMENT ON FUNCTION perps_stats._history_window(text, text, timestamptz, timestamptz) IS
    'internal: the arguments of perps_api''s history functions checked (market given, start < end, both finite, at most 31 days) and completed (end: now, start: end - 24 h)';

-- perps_api.slippage: symbol and amount are required (they have defaults
-- only so that exchange can be omitted over HTTP); the amount's own checks
-- are perps_stats.slippage's.
CREATE FUNCTION perps_stats._slippage_check(symbol text, amount numeric)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF symbol IS NULL OR amount IS NULL THEN
        RAISE EXCEPTION 'symbol and amount are required'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Omit exchange for every venue listing the symbol.';
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION perps_stats._slippage_check(text, numeric) IS
    'internal: the argument checks of perps_api.slippage (symbol and amount given); true or an error';

-- A market order of `amount` quote currency against the newest stored book
-- of one market, or of every venue listing the symbol when exchange is NULL
-- (omitted: hence the defaults; symbol and amount are required, 22023);
-- both sides when side is NULL.  No book: no rows.
CREATE OR REPLACE FUNCTION perps_api.slippage(exchange text DEFAULT NULL, symbol text DEFAULT NULL,
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

CREATE FUNCTION perps_api.tickers_history(exchange text, symbol text,
                                          start timestamptz DEFAULT NULL, "end" timestamptz DEFAULT NULL)
RETURNS SETOF perps_api.tickers
LANGUAGE sql STABLE
AS $$
    SELECT t.*
      FROM perps_stats._history_window(tickers_history.exchange, tickers_history.symbol, tickers_history.start, tickers_history."end") w
     CROSS JOIN LATERAL (SELECT * FROM perps_api.tickers x
                          WHERE x.exchange = w.exchange AND x.symbol = w.symbol
                            AND x.ts >= w.start AND x.ts < w."end"
                         OFFSET 0) t
     ORDER BY t.ts DESC
$$;
COMMENT ON FUNCTION perps_api.tickers_history(text, text, timestamptz, timestamptz) IS
    'The stored tickers of one market in [start, end), newest first; end defaults to now, start to end - 24 h; at most 31 days';

CREATE FUNCTION perps_api.liquidity_history(exchange text, symbol text,
                                            start timestamptz DEFAULT NULL, "end" timestamptz DEFAULT NULL)
RETURNS SETOF perps_api.liquidity_depth
LANGUAGE sql STABLE
AS $$
    SELECT l.*
      FROM perps_stats._history_window(liquidity_history.exchange, liquidity_history.symbol, liquidity_history.start, liquidity_history."end") w
     CROSS JOIN LATERAL (SELECT * FROM perps_api.liquidity_depth x
                          WHERE x.exchange = w.exchange AND x.symbol = w.symbol
                            AND x.ts >= w.start AND x.ts < w."end"
                         OFFSET 0) l
     ORDER BY l.ts DESC
$$;
COMMENT ON FUNCTION perps_api.liquidity_history(text, text, timestamptz, timestamptz) IS
    'The stored liquidity_depth rows of one market in [start, end), newest first; end defaults to now, start to end - 24 h; at most 31 days';

CREATE FUNCTION perps_api.slippage_history(exchange text, symbol text,
                                           start timestamptz DEFAULT NULL, "end" timestamptz DEFAULT NULL)
RETURNS SETOF perps_api.slippage
LANGUAGE sql STABLE
AS $$
    SELECT s.*
      FROM perps_stats._history_window(slippage_history.exchange, slippage_history.symbol, slippage_history.start, slippage_history."end") w
     CROSS JOIN LATERAL (SELECT * FROM perps_api.slippage x
                          WHERE x.exchange = w.exchange AND x.symbol = w.symbol
                            AND x.ts >= w.start AND x.ts < w."end"
                         OFFSET 0) s
     ORDER BY s.ts DESC, s.amount, s.side
$$;
COMMENT ON FUNCTION perps_api.slippage_history(text, text, timestamptz, timestamptz) IS
    'The slippage stored at ingest (standard sizes, both sides) of one market in [start, end), newest first; end defaults to now, start to end - 24 h; at most 31 days';

-- The stored book of one market nearest to a time, searched within `within`
-- on either side of it (default 1 hour, at most 7 days): direction 'nearest'
-- (default; equally far before and after: the one before), 'before' (the
-- newest at or before `at`: the book as it was known then) or 'after' (the
-- oldest at or after).  No book in the window: no rows.  Each side is one
-- short index scan of the primary keys of the partitions the window covers.
CREATE FUNCTION perps_api.orderbook_at(exchange text, symbol text, at timestamptz,
                                       within interval DEFAULT '1 hour', direction text DEFAULT 'nearest')
RETURNS SETOF perps_api.orderbooks
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_market integer;
BEGIN
    IF exchange IS NULL OR symbol IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'exchange, symbol and at are required'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT isfinite(at) THEN
        RAISE EXCEPTION 'at must be a finite time' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF within IS NULL OR within <= interval '0' OR NOT isfinite(within) THEN
        RAISE EXCEPTION 'within must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('within is %s.', coalesce(within::text, 'NULL'));
    END IF;
    IF within > interval '7 days' THEN
        RAISE EXCEPTION 'search window too long'
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('within is %s; at most 7 days on either side of at.', within);
    END IF;
    IF direction IS NULL OR direction NOT IN ('nearest', 'before', 'after') THEN
        RAISE EXCEPTION 'direction must be "nearest", "before" or "after"'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('direction is %s.', coalesce(quote_literal(direction), 'NULL'));
    END IF;

    SELECT m.id INTO v_market
      FROM perps_stats.markets m
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     WHERE e.name = orderbook_at.exchange AND m.symbol = orderbook_at.symbol;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    RETURN QUERY
    SELECT orderbook_at.exchange, orderbook_at.symbol, c.ts, c.bids, c.asks, c.seq
      FROM ((SELECT b.ts, b.bids, b.asks, b.seq
               FROM perps_stats.orderbooks b
              WHERE b.market_id = v_market AND b.ts <= at AND b.ts >= at - within
                AND direction <> 'after'
              ORDER BY b.ts DESC LIMIT 1)
            UNION ALL
            (SELECT b.ts, b.bids, b.asks, b.seq
               FROM perps_stats.orderbooks b
              WHERE b.market_id = v_market AND b.ts >= at AND b.ts <= at + within
                AND direction <> 'before'
              ORDER BY b.ts LIMIT 1)) c
     -- the distance to at (an interval, exact to the microsecond), then the earlier
     ORDER BY CASE WHEN c.ts >= at THEN c.ts - at ELSE at - c.ts END, c.ts
     LIMIT 1;
END
$$;
COMMENT ON FUNCTION perps_api.orderbook_at(text, text, timestamptz, interval, text) IS
    'The stored book of one market nearest to at within the window (default 1 hour, at most 7 days either side); direction nearest (a tie: the earlier), before or after';

REVOKE ALL ON FUNCTION perps_api.tickers_history(text, text, timestamptz, timestamptz),
                       perps_api.liquidity_history(text, text, timestamptz, timestamptz),
                       perps_api.slippage_history(text, text, timestamptz, timestamptz),
                       perps_api.orderbook_at(text, text, timestamptz, interval, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_api.tickers_history(text, text, timestamptz, timestamptz),
                          perps_api.liquidity_history(text, text, timestamptz, timestamptz),
                          perps_api.slippage_history(text, text, timestamptz, timestamptz),
                          perps_api.orderbook_at(text, text, timestamptz, interval, text) TO perps_anon;
-- ---------------------------------------------------------------------------
-- The dashboard page (issue 21): sql/install/47_dashboard.sql
-- ---------------------------------------------------------------------------
CREATE FUNCTION perps_stats._dashboard_file(name text)
RETURNS bytea
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'perps_stats_dashboard_file';
COMMENT ON FUNCTION perps_stats._dashboard_file(text) IS
    'One of the dashboard''s installed files (index.html, dashboard.js, dashboard.css, uPlot.iife.min.js, uPlot.min.css, uPlot.LICENSE)';
-- The files are the public page: anybody may read them, as anybody may call
-- the math (perps_anon holds no grant of its own outside perps_api).
GRANT EXECUTE ON FUNCTION perps_stats._dashboard_file(text) TO PUBLIC;

CREATE DOMAIN perps_api."text/html" AS text;
CREATE DOMAIN perps_api."*/*" AS bytea;

-- The page.  Its Content-Security-Policy lets it load and fetch from its
-- own origin only (no inline script or style either).
CREATE FUNCTION perps_api.dashboard()
RETURNS perps_api."text/html"
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM pg_catalog.set_config('response.headers', pg_catalog.jsonb_build_array(
        pg_catalog.jsonb_build_object('Content-Security-Policy',
            'default-src ''self''; object-src ''none''; base-uri ''none''; form-action ''none''; frame-ancestors ''none'''),
        pg_catalog.jsonb_build_object('Cache-Control', 'no-cache'),
        pg_catalog.jsonb_build_object('X-Content-Type-Options', 'nosniff'))::text, true);
    RETURN pg_catalog.convert_from(perps_stats._dashboard_file('index.html'), 'UTF8');
END
$$;
COMMENT ON FUNCTION perps_api.dashboard() IS
    'The dashboard page (text/html): liquidity, slippage, funding, open interest and collection health per symbol, from this API';

-- The page's script and style and the charting library (uPlot, MIT licence:
-- name=uPlot.LICENSE), with their Content-Type.
CREATE FUNCTION perps_api.dashboard_asset(name text)
RETURNS perps_api."*/*"
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_type text := CASE
        WHEN name LIKE '%.js' THEN 'text/javascript; charset=utf-8'
        WHEN name LIKE '%.css' THEN 'text/css; charset=utf-8'
        ELSE 'text/plain; charset=utf-8' END;
BEGIN
    IF name IS NULL OR name = 'index.html' THEN
        RAISE EXCEPTION 'unknown dashboard asset "%"', name
            USING ERRCODE = '22023', HINT = 'The page itself is /rpc/dashboard.';
    END IF;
    PERFORM pg_catalog.set_config('response.headers', pg_catalog.jsonb_build_array(
        pg_catalog.jsonb_build_object('Content-Type', v_type),
        pg_catalog.jsonb_build_object('Cache-Control', 'max-age=300'),
        pg_catalog.jsonb_build_object('X-Content-Type-Options', 'nosniff'))::text, true);
    RETURN perps_stats._dashboard_file(name);
END
$$;
COMMENT ON FUNCTION perps_api.dashboard_asset(text) IS
    'A file of the dashboard page (its script, its style, the charting library and its licence), with its Content-Type';

REVOKE ALL ON FUNCTION perps_api.dashboard(), perps_api.dashboard_asset(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_api.dashboard(), perps_api.dashboard_asset(text) TO perps_anon;
-- Excel export (issue 21): sql/install/45_export.sql
CREATE FUNCTION perps_stats.export_xlsx(sheets text[], sheet_names text[] DEFAULT NULL)
RETURNS bytea
LANGUAGE c VOLATILE
SET transaction_read_only = on
AS 'MODULE_PATHNAME', 'perps_stats_export_xlsx';
COMMENT ON FUNCTION perps_stats.export_xlsx(text[], text[]) IS
    'Excel workbook (.xlsx) of one sheet per element of sheets: a query (SELECT, WITH, VALUES, TABLE) or a table or view name, run read-only with the caller''s rights; sheet_names names the sheets (default: the relation''s name, or Sheet<n>)';
REVOKE ALL ON FUNCTION perps_stats.export_xlsx(text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_stats.export_xlsx(text[], text[]) TO perps_reader;

-- perps_api.export_xlsx lists the positions of one view's rows (its
-- filters as arguments); PostgREST's own limit and offset take a run of
-- them, and the aggregate perps_api.xlsx, PostgREST's handler for the
-- function's row type (its result is the "*/*" domain: a media type
-- handler for any Accept), writes those rows as the workbook and sets its
-- Content-Type and a file name through response.headers.  So
--   GET /rpc/export_xlsx?view=tickers&symbol=BTC&limit=1000&offset=1000
-- answers the second thousand rows as a spreadsheet.  The row type is a
-- view (PostgREST finds handlers for tables' and views' types only): it
-- has no row of its own.  It all reads the view with perps_anon's own
-- rights: nothing new is granted but EXECUTE.  Nothing writes.

COMMENT ON DOMAIN perps_api."*/*" IS
    'Answers of the API in a media type of their own, whatever the Accept header (PostgREST''s "any" media type handler): the Excel export, the dashboard''s files';

CREATE VIEW perps_api.export_xlsx_rows AS
    SELECT NULL::bigint AS n WHERE false;
COMMENT ON VIEW perps_api.export_xlsx_rows IS
    'The row type of perps_api.export_xlsx: n, a row''s position in the export (1 = the first by time); no row of its own';
COMMENT ON COLUMN perps_api.export_xlsx_rows.n IS
    'the row''s position in the export, 1 = the first by time, then exchange, then symbol';

CREATE FUNCTION perps_api.export_xlsx(view text, exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                      since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS SETOF perps_api.export_xlsx_rows
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'perps_api_export_xlsx';
COMMENT ON FUNCTION perps_api.export_xlsx(text, text, text, timestamptz, timestamptz) IS
    'The positions of the rows of one view of perps_api, filtered on exchange, symbol and [since, until) of its time column and ordered by time, exchange, symbol; perps_api.xlsx (over HTTP: Accept application/octet-stream, or none) writes those PostgREST''s limit and offset leave as an Excel workbook';

CREATE FUNCTION perps_stats._xlsx_step(internal, perps_api.export_xlsx_rows)
RETURNS internal
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'perps_api_xlsx_step';
CREATE FUNCTION perps_stats._xlsx_final(internal)
RETURNS perps_api."*/*"
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'perps_api_xlsx_final';
CREATE AGGREGATE perps_api.xlsx(perps_api.export_xlsx_rows) (
    SFUNC = perps_stats._xlsx_step,
    STYPE = internal,
    FINALFUNC = perps_stats._xlsx_final
);
COMMENT ON AGGREGATE perps_api.xlsx(perps_api.export_xlsx_rows) IS
    'Excel workbook (.xlsx) of the rows of perps_api.export_xlsx it is given (a run of positions, as limit and offset leave), from the same statement''s call';

REVOKE ALL ON FUNCTION perps_api.export_xlsx(text, text, text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_api.export_xlsx(text, text, text, timestamptz, timestamptz) TO perps_anon;
REVOKE ALL ON FUNCTION perps_stats._xlsx_step(internal, perps_api.export_xlsx_rows) FROM PUBLIC;
REVOKE ALL ON FUNCTION perps_stats._xlsx_final(internal) FROM PUBLIC;
-- (calling the aggregate takes EXECUTE on it alone: its functions are
-- checked against its owner)
REVOKE ALL ON FUNCTION perps_api.xlsx(perps_api.export_xlsx_rows) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_api.xlsx(perps_api.export_xlsx_rows) TO perps_anon;
GRANT SELECT ON perps_api.export_xlsx_rows TO perps_anon;
-- vwap on any numeric scale (issue 20, point 5; src/vwap.c): the transition
-- state is 120 bytes now.  The aggregate keeps its oid, grants and comment.
CREATE OR REPLACE AGGREGATE perps_stats.vwap(price numeric, qty numeric) (
    SFUNC        = perps_stats._vwap_accum,
    STYPE        = internal,
    SSPACE       = 120,
    FINALFUNC    = perps_stats._vwap_final,
    COMBINEFUNC  = perps_stats._vwap_combine,
    SERIALFUNC   = perps_stats._vwap_serialize,
    DESERIALFUNC = perps_stats._vwap_deserialize,
    PARALLEL     = SAFE
);
-- Books of one market at several resolutions (issue 19): sql/install/60_book_merge.sql.
-- Which book served the stored figures: the venue's name of the coarsest
-- resolution any figure of the row came from ('full', 'nSigFigs=4', ...);
-- NULL where the venue serves one book only.
ALTER TABLE perps_stats.liquidity_depth ADD COLUMN resolution text;
COMMENT ON COLUMN perps_stats.liquidity_depth.resolution IS
    'the coarsest book resolution any figure of the row came from (the venue''s name of it: full, nSigFigs=4, agg_level=10, ...); NULL: the venue''s one book';
ALTER TABLE perps_stats.slippage ADD COLUMN resolution text;
COMMENT ON COLUMN perps_stats.slippage.resolution IS
    'the book resolution the order filled in (or ended in, when not feasible): the venue''s name of it; NULL: the venue''s one book';

-- ... and the API's views of those tables show it, as their last column
CREATE OR REPLACE VIEW perps_api.liquidity_depth AS
    SELECT e.name AS exchange, m.symbol, l.ts, l.mid_price,
           l.bid_1bps, l.bid_2_5bps, l.bid_5bps, l.bid_10bps, l.bid_20bps, l.bid_50bps, l.bid_100bps,
           l.ask_1bps, l.ask_2_5bps, l.ask_5bps, l.ask_10bps, l.ask_20bps, l.ask_50bps, l.ask_100bps,
           l.max_bid_bps, l.max_ask_bps, l.resolution
      FROM perps_stats.liquidity_depth l
      JOIN perps_stats.markets m ON m.id = l.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE OR REPLACE VIEW perps_api.slippage AS
    SELECT e.name AS exchange, m.symbol, s.ts, s.amount, s.side, s.mid_price, s.avg_price,
           s.slippage_bps, s.feasible, s.resolution
      FROM perps_stats.slippage s
      JOIN perps_stats.markets m ON m.id = s.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id;

CREATE OR REPLACE VIEW perps_api.latest_liquidity AS
    SELECT e.name AS exchange, m.symbol, l.ts, l.mid_price,
           l.bid_1bps, l.bid_2_5bps, l.bid_5bps, l.bid_10bps, l.bid_20bps, l.bid_50bps, l.bid_100bps,
           l.ask_1bps, l.ask_2_5bps, l.ask_5bps, l.ask_10bps, l.ask_20bps, l.ask_50bps, l.ask_100bps,
           l.max_bid_bps, l.max_ask_bps, l.resolution
      FROM perps_stats.markets m
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     CROSS JOIN LATERAL (SELECT * FROM (
                (SELECT * FROM perps_stats.liquidity_depth x WHERE x.market_id = m.id
                    AND x.ts >= now() - interval '1 day' ORDER BY x.ts DESC LIMIT 1)
                UNION ALL
                (SELECT * FROM perps_stats.liquidity_depth x WHERE x.market_id = m.id ORDER BY x.ts DESC LIMIT 1)
             ) u LIMIT 1) l;

CREATE TYPE perps_stats.order_book AS (bids numeric[], asks numeric[]);
COMMENT ON TYPE perps_stats.order_book IS
    'One book of a market: bids and asks as {{price,qty},...}, best first';

CREATE FUNCTION perps_stats.liquidity_depth_merged(books perps_stats.order_book[],
                                                   bps numeric[] DEFAULT '{1,2.5,5,10,20,50,100}')
RETURNS TABLE (bps numeric, bid_notional numeric, ask_notional numeric,
               bid_complete boolean, ask_complete boolean,
               bid_resolution int, ask_resolution int)
AS 'MODULE_PATHNAME', 'liquidity_depth_merged'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 7;
COMMENT ON FUNCTION perps_stats.liquidity_depth_merged(perps_stats.order_book[], numeric[]) IS
    'liquidity_depth over 1 to 8 books of one market, finest first: per threshold and side the figure of the finest book that reaches it (*_resolution: its subscript in books), else a lower bound from the book that reaches farthest (*_complete false); mid is the first book''s. No rows when its side is empty';

CREATE FUNCTION perps_stats.slippage_merged(books perps_stats.order_book[], side text, notional numeric)
RETURNS TABLE (mid_price numeric, avg_price numeric, slippage_bps numeric,
               filled_base numeric, filled_quote numeric, levels_used int, feasible boolean,
               resolution int)
AS 'MODULE_PATHNAME', 'slippage_merged'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION perps_stats.slippage_merged(perps_stats.order_book[], text, numeric) IS
    'slippage over 1 to 8 books of one market, finest first: the order walks the first book, then each next book''s levels priced beyond the deepest level walked; resolution is the subscript in books of the book it filled (or ended) in; mid is the first book''s. No rows when its side is empty';

GRANT EXECUTE ON FUNCTION
    perps_stats.liquidity_depth_merged(perps_stats.order_book[], numeric[]),
    perps_stats.slippage_merged(perps_stats.order_book[], text, numeric)
TO PUBLIC;
-- Issue 20: the analyst's statistics (sql/install/24_stats.sql, src/stats.c) and
-- their RPCs (sql/install/44_api_stats.sql).
CREATE TYPE perps_stats.numeric_summary AS (
    count   bigint,
    min     numeric,
    mean    numeric,
    median  numeric,
    p5      numeric,
    p95     numeric,
    p99     numeric,
    max     numeric
);
COMMENT ON TYPE perps_stats.numeric_summary IS
    'count, min, mean, median, p5, p95, p99, max of a numeric column (perps_stats.summary)';

CREATE FUNCTION perps_stats._summary_accum(internal, numeric)
RETURNS internal
AS 'MODULE_PATHNAME', 'summary_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._summary_final(internal)
RETURNS perps_stats.numeric_summary
AS 'MODULE_PATHNAME', 'summary_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE perps_stats.summary(numeric) (
    SFUNC            = perps_stats._summary_accum,
    STYPE            = internal,
    SSPACE           = 8192,
    FINALFUNC        = perps_stats._summary_final,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL         = SAFE
);
COMMENT ON AGGREGATE perps_stats.summary(numeric) IS
    'count, min, mean, median, p5, p95, p99, max of the non-NULL values, exact; percentiles continuous as percentile_cont; count 0 and NULLs for no values';

-- _histogram(x, bins): market_histogram's equal-width bins over [min, max]
-- in one scan (src/stats.c): (lo, hi, counts); the values are held in
-- work_mem (16 bytes a value) and spilled to a temporary file beyond it;
-- counts NULL for a value outside the 128-bit form
CREATE TYPE perps_stats._histogram_counts AS (lo numeric, hi numeric, counts bigint[]);

CREATE FUNCTION perps_stats._histogram_accum(internal, numeric, int)
RETURNS internal
AS 'MODULE_PATHNAME', 'histogram_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._histogram_final(internal)
RETURNS perps_stats._histogram_counts
AS 'MODULE_PATHNAME', 'histogram_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE perps_stats._histogram(numeric, int) (
    SFUNC            = perps_stats._histogram_accum,
    STYPE            = internal,
    SSPACE           = 8192,
    FINALFUNC        = perps_stats._histogram_final,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL         = SAFE
);

-- slope_per_day(y, t): the least-squares slope of y against t, per day,
-- exact (sums of x = microseconds since the group's first row, one division)
CREATE FUNCTION perps_stats._slope_accum(internal, numeric, timestamptz)
RETURNS internal
AS 'MODULE_PATHNAME', 'slope_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._slope_final(internal)
RETURNS numeric
AS 'MODULE_PATHNAME', 'slope_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._slope_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'slope_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._slope_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'slope_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION perps_stats._slope_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'slope_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE perps_stats.slope_per_day(y numeric, t timestamptz) (
    SFUNC        = perps_stats._slope_accum,
    STYPE        = internal,
    SSPACE       = 96,
    FINALFUNC    = perps_stats._slope_final,
    COMBINEFUNC  = perps_stats._slope_combine,
    SERIALFUNC   = perps_stats._slope_serialize,
    DESERIALFUNC = perps_stats._slope_deserialize,
    PARALLEL     = SAFE
);
COMMENT ON AGGREGATE perps_stats.slope_per_day(numeric, timestamptz) IS
    'Least-squares slope of y against t, per day, exact numeric (one division); NULL for fewer than two distinct times';

-- _funding(rate, interval_hours, t): funding_stats' figures of one market in
-- one pass, exact (src/stats.c), parallel
CREATE TYPE perps_stats._funding_figures AS (
    count bigint, mean numeric, min numeric, max numeric, stddev numeric,
    interval_hours numeric, annualized_pct numeric, slope_per_day numeric
);

CREATE FUNCTION perps_stats._funding_accum(internal, numeric, numeric, timestamptz)
RETURNS internal
AS 'MODULE_PATHNAME', 'funding_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._funding_final(internal)
RETURNS perps_stats._funding_figures
AS 'MODULE_PATHNAME', 'funding_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._funding_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'funding_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._funding_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'funding_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION perps_stats._funding_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'funding_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE perps_stats._funding(rate numeric, interval_hours numeric, t timestamptz) (
    SFUNC        = perps_stats._funding_accum,
    STYPE        = internal,
    SSPACE       = 2048,
    FINALFUNC    = perps_stats._funding_final,
    COMBINEFUNC  = perps_stats._funding_combine,
    SERIALFUNC   = perps_stats._funding_serialize,
    DESERIALFUNC = perps_stats._funding_deserialize,
    PARALLEL     = SAFE
);

CREATE TYPE perps_stats.market_stat AS (
    exchange text, symbol text, metric text, count bigint, min numeric, mean numeric,
    median numeric, p5 numeric, p95 numeric, p99 numeric, max numeric
);
CREATE TYPE perps_stats.histogram_bin AS (bin int, lower numeric, upper numeric, count bigint);
CREATE TYPE perps_stats.funding_stat AS (
    exchange text, symbol text, count bigint, mean numeric, min numeric, max numeric,
    stddev numeric, interval_hours numeric, annualized_pct numeric, slope_per_day numeric
);
CREATE TYPE perps_stats.liquidity_distribution_row AS (
    exchange text, symbol text, ts timestamptz, bps numeric, bid_notional numeric,
    ask_notional numeric, notional numeric, symbol_share_pct numeric,
    exchange_share_pct numeric, partial boolean
);

-- The relations the statistics read: the perps_api views for the HTTP API,
-- the same columns from the tables otherwise.
CREATE FUNCTION perps_stats._stats_source(what text, api boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN api AND what = 'funding_rates' THEN
                   '(SELECT f.*, mk.funding_interval_hours AS market_interval_hours
                       FROM perps_api.funding_rates f
                       LEFT JOIN perps_api.markets mk ON mk.exchange = f.exchange AND mk.symbol = f.symbol)'
           WHEN api THEN 'perps_api.' || what
           ELSE CASE what
               WHEN 'tickers' THEN
                   '(SELECT e.name AS exchange, m.symbol, x.* FROM perps_stats.tickers x
                       JOIN perps_stats.markets m ON m.id = x.market_id
                       JOIN perps_stats.exchanges e ON e.id = m.exchange_id)'
               WHEN 'funding_rates' THEN
                   '(SELECT e.name AS exchange, m.symbol, m.funding_interval_hours AS market_interval_hours, x.*
                       FROM perps_stats.funding_rates x
                       JOIN perps_stats.markets m ON m.id = x.market_id
                       JOIN perps_stats.exchanges e ON e.id = m.exchange_id)'
               WHEN 'liquidity_depth' THEN
                   '(SELECT e.name AS exchange, m.symbol, x.* FROM perps_stats.liquidity_depth x
                       JOIN perps_stats.markets m ON m.id = x.market_id
                       JOIN perps_stats.exchanges e ON e.id = m.exchange_id)'
               WHEN 'markets' THEN
                   '(SELECT e.name AS exchange, m.* FROM perps_stats.markets m
                       JOIN perps_stats.exchanges e ON e.id = m.exchange_id)'
           END END
$$;

-- since < until, at most 366 days apart
CREATE FUNCTION perps_stats._stats_check_range(since timestamptz, until timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF since IS NULL OR until IS NULL OR since >= until THEN
        RAISE EXCEPTION 'since must be earlier than until'
            USING ERRCODE = '22023',
                  DETAIL = format('since is %s, until is %s.', coalesce(since::text, 'NULL'), coalesce(until::text, 'NULL'));
    END IF;
    IF until - since > interval '366 days' THEN
        RAISE EXCEPTION 'time range longer than 366 days'
            USING ERRCODE = '54000',
                  HINT = 'Ask for a year or less at a time.';
    END IF;
END
$$;

-- One ticker metric: its expression over the row t, and the condition a row
-- must meet to count (NULL: an unknown metric).
CREATE FUNCTION perps_stats._ticker_metric(metric text, notional boolean,
                                           OUT expr text, OUT cond text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN metric = 'oi_rate' AND NOT notional THEN 't.open_interest * 100 / t.volume_24h'
        WHEN metric = 'oi_rate' THEN 't.open_interest_notional * 100 / t.turnover_24h'
        WHEN metric = 'mark_deviation' THEN 'abs(t.last_price - t.mark_price) * 100 / t.mark_price'
        WHEN metric = 'index_deviation' THEN 'abs(t.last_price - t.index_price) * 100 / t.index_price'
        WHEN metric IN ('last_price', 'mark_price', 'index_price', 'best_bid_price', 'best_bid_qty',
                        'best_ask_price', 'best_ask_qty', 'volume_24h', 'turnover_24h', 'open_interest',
                        'open_interest_notional', 'price_change_24h', 'price_change_pct', 'high_24h',
                        'low_24h') THEN 't.' || metric
        END,
        CASE
        WHEN metric = 'oi_rate' AND NOT notional THEN 't.open_interest > 0 AND t.volume_24h > 0'
        WHEN metric = 'oi_rate' THEN 't.open_interest_notional > 0 AND t.turnover_24h > 0'
        WHEN metric = 'mark_deviation' THEN 't.last_price IS NOT NULL AND t.mark_price > 0'
        WHEN metric = 'index_deviation' THEN 't.last_price IS NOT NULL AND t.index_price > 0'
        WHEN metric IN ('last_price', 'mark_price', 'index_price', 'best_bid_price', 'best_bid_qty',
                        'best_ask_price', 'best_ask_qty', 'volume_24h', 'turnover_24h', 'open_interest',
                        'open_interest_notional', 'price_change_24h', 'price_change_pct', 'high_24h',
                        'low_24h') THEN 't.' || metric || ' IS NOT NULL'
        END
$$;

-- The WHERE clause of a ticker query: the time range, and the exchange and
-- symbol when given ($1 since, $2 until, $3 exchange, $4 symbol).
CREATE FUNCTION perps_stats._stats_where(exchange text, symbol text, time_column text DEFAULT 'ts')
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT format('t.%1$I >= $1 AND t.%1$I < $2', time_column)
        || CASE WHEN exchange IS NOT NULL THEN ' AND t.exchange = $3' ELSE '' END
        || CASE WHEN symbol IS NOT NULL THEN ' AND t.symbol = $4' ELSE '' END
$$;

CREATE FUNCTION perps_stats._market_stats(metrics text[], exchange text, symbol text,
                                          since timestamptz, until timestamptz, "by" text,
                                          notional boolean, api boolean)
RETURNS SETOF perps_stats.market_stat
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    names   text[] := '{}';
    aggs    text[] := '{}';
    vals    text[] := '{}';
    m       text;
    x       record;
    gx      text;
    gs      text;
BEGIN
    PERFORM perps_stats._stats_check_range(since, until);
    IF metrics IS NULL OR cardinality(metrics) = 0 OR cardinality(metrics) > 32 THEN
        RAISE EXCEPTION 'metrics must list 1 to 32 metrics' USING ERRCODE = '22023';
    END IF;
    FOREACH m IN ARRAY metrics LOOP
        -- price_deviation: both deviations
        FOREACH m IN ARRAY CASE WHEN m = 'price_deviation' THEN ARRAY['mark_deviation', 'index_deviation']
                                ELSE ARRAY[m] END LOOP
            x := perps_stats._ticker_metric(m, coalesce(notional, false));
            IF x.expr IS NULL THEN
                RAISE EXCEPTION 'unknown metric "%"', coalesce(m, 'NULL')
                    USING ERRCODE = '22023',
                          HINT = 'The metrics are oi_rate, price_deviation, mark_deviation, index_deviation and the numeric columns of tickers.';
            END IF;
            names := names || m;
            aggs := aggs || format('perps_stats.summary(%s) FILTER (WHERE %s) AS s%s',
                                   x.expr, x.cond, cardinality(names));
            vals := vals || format('(%s, %L, s%s)', cardinality(names), m, cardinality(names));
        END LOOP;
    END LOOP;
    CASE coalesce("by", 'market')
        WHEN 'market' THEN gx := 't.exchange'; gs := 't.symbol';
        WHEN 'exchange' THEN gx := 't.exchange'; gs := 'NULL::text';
        WHEN 'symbol' THEN gx := 'NULL::text'; gs := 't.symbol';
        WHEN 'all' THEN gx := 'NULL::text'; gs := 'NULL::text';
        ELSE RAISE EXCEPTION 'unknown grouping "%"', "by"
                 USING ERRCODE = '22023', HINT = 'by is market, exchange, symbol or all.';
    END CASE;
    RETURN QUERY EXECUTE format(
        'SELECT g.gx, g.gs, u.metric, (u.s).count, (u.s).min, (u.s).mean, (u.s).median,
                (u.s).p5, (u.s).p95, (u.s).p99, (u.s).max
           FROM (SELECT %s AS gx, %s AS gs, %s
                   FROM %s t
                  WHERE %s
                  GROUP BY 1, 2) g
          CROSS JOIN LATERAL (VALUES %s) u(n, metric, s)
          ORDER BY 1, 2, u.n',
        gx, gs, array_to_string(aggs, ', '), perps_stats._stats_source('tickers', api),
        perps_stats._stats_where(exchange, symbol), array_to_string(vals, ', '))
        USING since, until, exchange, symbol;
END
$$;

CREATE FUNCTION perps_stats.market_stats(metrics text[] DEFAULT '{oi_rate}',
                                         exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                         since timestamptz DEFAULT now() - interval '24 hours',
                                         until timestamptz DEFAULT now(),
                                         "by" text DEFAULT 'market', notional boolean DEFAULT false)
RETURNS SETOF perps_stats.market_stat
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._market_stats(metrics, exchange, symbol, since, until, "by", notional, false)
$$;
COMMENT ON FUNCTION perps_stats.market_stats(text[], text, text, timestamptz, timestamptz, text, boolean) IS
    'Per metric (oi_rate, price_deviation = mark_deviation and index_deviation, or a numeric column of tickers) over the tickers in [since, until): count, min, mean, median, p5, p95, p99, max; by market, exchange, symbol or all; notional: oi_rate as open_interest_notional / turnover_24h';

CREATE FUNCTION perps_stats._market_histogram(metric text, bins int, edges numeric[],
                                              exchange text, symbol text,
                                              since timestamptz, until timestamptz,
                                              notional boolean, api boolean)
RETURNS SETOF perps_stats.histogram_bin
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    x       record;
    src     text := perps_stats._stats_source('tickers', api);
    wh      text;
    lo      numeric;
    hi      numeric;
    i       int;
    counts  bigint[];
BEGIN
    PERFORM perps_stats._stats_check_range(since, until);
    x := perps_stats._ticker_metric(metric, coalesce(notional, false));
    IF x.expr IS NULL THEN
        RAISE EXCEPTION 'unknown metric "%"', coalesce(metric, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'The metrics are oi_rate, mark_deviation, index_deviation and the numeric columns of tickers.';
    END IF;
    wh := perps_stats._stats_where(exchange, symbol) || ' AND ' || x.cond;
    IF edges IS NOT NULL THEN
        IF cardinality(edges) < 2 OR cardinality(edges) > 1001 OR array_ndims(edges) <> 1 THEN
            RAISE EXCEPTION 'edges must be a list of 2 to 1001 numbers' USING ERRCODE = '22023';
        END IF;
        FOR i IN 1 .. cardinality(edges) LOOP
            IF edges[i] IS NULL OR edges[i] IN ('NaN', 'Infinity', '-Infinity')
               OR (i > 1 AND edges[i] <= edges[i - 1]) THEN
                RAISE EXCEPTION 'edges must be finite numbers in strictly ascending order'
                    USING ERRCODE = '22023', DETAIL = format('Edge %s is %s.', i, coalesce(edges[i]::text, 'NULL'));
            END IF;
        END LOOP;
        -- bin 0: below the first edge; bin i: [edges[i], edges[i+1]); the
        -- last bin: at or above the last edge
        RETURN QUERY EXECUTE format(
            'SELECT b.bin, $5[b.bin], $5[b.bin + 1], coalesce(c.n, 0)
               FROM generate_series(0, cardinality($5)) b(bin)
               LEFT JOIN (SELECT width_bucket(%s, $5) AS bin, count(*) AS n
                            FROM %s t WHERE %s GROUP BY 1) c USING (bin)
              ORDER BY 1', x.expr, src, wh)
            USING since, until, exchange, symbol, edges;
        RETURN;
    END IF;
    IF bins IS NULL OR bins < 1 OR bins > 1000 THEN
        RAISE EXCEPTION 'bins must be between 1 and 1000' USING ERRCODE = '22023',
              DETAIL = format('bins is %s.', coalesce(bins::text, 'NULL'));
    END IF;
    -- bins equal in width over [min, max], each [lower, upper) but the last,
    -- which holds max; a value's bin is exact (width_bucket's), the bounds
    -- shown are numeric divisions.  One scan: min, max and the values
    -- (_histogram: work_mem of them in memory, the rest in a temporary
    -- file); a second one, width_bucket over the rows, only for a value
    -- beyond 128 bits.
    EXECUTE format('SELECT (s.h).lo, (s.h).hi, (s.h).counts
                      FROM (SELECT perps_stats._histogram(%s, $5) AS h FROM %s t WHERE %s) s', x.expr, src, wh)
        INTO lo, hi, counts USING since, until, exchange, symbol, bins;
    IF lo IS NULL THEN
        RETURN;
    END IF;
    IF counts IS NOT NULL THEN
        RETURN QUERY
            SELECT b.bin, lo + (hi - lo) * (b.bin - 1) / bins, lo + (hi - lo) * b.bin / bins, counts[b.bin]
              FROM generate_series(1, bins) b(bin)
             ORDER BY 1;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT b.bin, $5 + ($6 - $5) * (b.bin - 1) / $7, $5 + ($6 - $5) * b.bin / $7, coalesce(c.n, 0)
           FROM generate_series(1, $7) b(bin)
           LEFT JOIN (SELECT CASE WHEN $5 = $6 THEN 1 ELSE least(width_bucket(%s, $5, $6, $7), $7) END AS bin,
                             count(*) AS n
                        FROM %s t WHERE %s GROUP BY 1) c USING (bin)
          ORDER BY 1', x.expr, src, wh)
        USING since, until, exchange, symbol, lo, hi, bins;
END
$$;

CREATE FUNCTION perps_stats.market_histogram(metric text, bins int DEFAULT 10, edges numeric[] DEFAULT NULL,
                                             exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                             since timestamptz DEFAULT now() - interval '24 hours',
                                             until timestamptz DEFAULT now(),
                                             notional boolean DEFAULT false)
RETURNS SETOF perps_stats.histogram_bin
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._market_histogram(metric, bins, edges, exchange, symbol, since, until, notional, false)
$$;
COMMENT ON FUNCTION perps_stats.market_histogram(text, int, numeric[], text, text, timestamptz, timestamptz, boolean) IS
    'Counts of one ticker metric in [since, until) per bin: bins equal-width bins over [min, max] (the last holds max), or the given ascending edges (bin 0 below the first edge, the last bin at or above the last)';

CREATE FUNCTION perps_stats._funding_stats(exchange text, symbol text, since timestamptz,
                                           until timestamptz, api boolean)
RETURNS SETOF perps_stats.funding_stat
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM perps_stats._stats_check_range(since, until);
    -- the interval of a row: its own, else the market's; every figure
    -- from one aggregate (_funding, src/stats.c)
    RETURN QUERY EXECUTE format(
        'SELECT s.exchange, s.symbol, (s.f).count, (s.f).mean, (s.f).min, (s.f).max, (s.f).stddev,
                (s.f).interval_hours, (s.f).annualized_pct, (s.f).slope_per_day
           FROM (SELECT t.exchange, t.symbol,
                        perps_stats._funding(t.rate, coalesce(t.interval_hours, t.market_interval_hours),
                                             t.funding_time) AS f
                   FROM %s t
                  WHERE %s
                  GROUP BY 1, 2) s
          ORDER BY 2, 1',
        perps_stats._stats_source('funding_rates', api),
        perps_stats._stats_where(exchange, symbol, 'funding_time'))
        USING since, until, exchange, symbol;
END
$$;

CREATE FUNCTION perps_stats.funding_stats(symbol text DEFAULT NULL, exchange text DEFAULT NULL,
                                          since timestamptz DEFAULT now() - interval '24 hours',
                                          until timestamptz DEFAULT now())
RETURNS SETOF perps_stats.funding_stat
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._funding_stats(exchange, symbol, since, until, false)
$$;
COMMENT ON FUNCTION perps_stats.funding_stats(text, text, timestamptz, timestamptz) IS
    'Funding rates per market in [since, until), venues of a symbol side by side: count, mean, min, max, sample standard deviation, interval (NULL when it changed), mean annualized rate in percent (rate * 8760 / interval_hours * 100), least-squares slope per day';

CREATE FUNCTION perps_stats._liquidity_distribution(bps numeric[], symbols text[], exchanges text[],
                                                    as_of timestamptz, max_age interval, api boolean)
RETURNS SETOF perps_stats.liquidity_distribution_row
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    levels  numeric[] := coalesce(bps, '{5}');
BEGIN
    IF cardinality(levels) = 0 OR cardinality(levels) > 16 OR array_ndims(levels) <> 1 THEN
        RAISE EXCEPTION 'bps must list 1 to 16 levels' USING ERRCODE = '22023';
    END IF;
    IF NOT levels <@ '{1,2.5,5,10,20,50,100}'::numeric[] OR array_position(levels, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'liquidity is stored for 1, 2.5, 5, 10, 20, 50 and 100 bps only'
            USING ERRCODE = '0A000',
                  DETAIL = format('bps is %s.', levels),
                  HINT = 'For other levels use perps_stats.liquidity_depth on a stored book.';
    END IF;
    IF cardinality(symbols) > 1000 OR cardinality(exchanges) > 1000 THEN
        RAISE EXCEPTION 'more than 1000 symbols or exchanges' USING ERRCODE = '54000';
    END IF;
    IF as_of IS NULL OR max_age IS NULL OR max_age <= interval '0' OR max_age > interval '366 days' THEN
        RAISE EXCEPTION 'as_of must be given and max_age be positive and at most 366 days' USING ERRCODE = '22023';
    END IF;
    -- the newest liquidity_depth row of each market in (as_of - max_age, as_of]
    RETURN QUERY EXECUTE format(
        'SELECT d.exchange, d.symbol, d.ts, d.bps, d.bid, d.ask, d.notional,
                d.notional * 100 / nullif(sum(d.notional) OVER (PARTITION BY d.symbol, d.bps), 0),
                d.notional * 100 / nullif(sum(d.notional) OVER (PARTITION BY d.exchange, d.bps), 0),
                d.partial
           FROM (SELECT mk.exchange, mk.symbol, l.ts, v.bps, v.bid, v.ask, v.bid + v.ask AS notional,
                        coalesce(l.max_bid_bps < v.bps OR l.max_ask_bps < v.bps, true) AS partial
                   FROM %s mk
                  CROSS JOIN LATERAL (SELECT * FROM %s x
                                       WHERE x.exchange = mk.exchange AND x.symbol = mk.symbol
                                         AND x.ts <= $2 AND x.ts > $2 - $3
                                       ORDER BY x.ts DESC LIMIT 1) l
                  CROSS JOIN LATERAL (VALUES (1::numeric, l.bid_1bps, l.ask_1bps),
                                             (2.5, l.bid_2_5bps, l.ask_2_5bps),
                                             (5, l.bid_5bps, l.ask_5bps),
                                             (10, l.bid_10bps, l.ask_10bps),
                                             (20, l.bid_20bps, l.ask_20bps),
                                             (50, l.bid_50bps, l.ask_50bps),
                                             (100, l.bid_100bps, l.ask_100bps)) v(bps, bid, ask)
                  WHERE v.bps = ANY ($1)
                    AND ($4::text[] IS NULL OR mk.symbol = ANY ($4))
                    AND ($5::text[] IS NULL OR mk.exchange = ANY ($5))) d
          ORDER BY d.bps, d.symbol, d.exchange',
        perps_stats._stats_source('markets', api), perps_stats._stats_source('liquidity_depth', api))
        USING levels, as_of, max_age, symbols, exchanges;
END
$$;

CREATE FUNCTION perps_stats.liquidity_distribution(bps numeric[] DEFAULT '{5}', symbols text[] DEFAULT NULL,
                                                   exchanges text[] DEFAULT NULL,
                                                   as_of timestamptz DEFAULT now(),
                                                   max_age interval DEFAULT '1 day')
RETURNS SETOF perps_stats.liquidity_distribution_row
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._liquidity_distribution(bps, symbols, exchanges, as_of, max_age, false)
$$;
COMMENT ON FUNCTION perps_stats.liquidity_distribution(numeric[], text[], text[], timestamptz, interval) IS
    'liq-dist: per bps level (1, 2.5, 5, 10, 20, 50, 100; default 5), venue and symbol, the bid, ask and combined quote notional within bps of mid on the newest liquidity_depth row in (as_of - max_age, as_of], the venue''s share of the symbol''s total over venues and the symbol''s share of the venue''s total over symbols, in percent; partial: the book does not reach the level';

-- The statistics are for everyone who may read the data: they run with the
-- caller's rights.
GRANT EXECUTE ON FUNCTION
    perps_stats.summary(numeric),
    perps_stats.slope_per_day(numeric, timestamptz),
    perps_stats.market_stats(text[], text, text, timestamptz, timestamptz, text, boolean),
    perps_stats.market_histogram(text, int, numeric[], text, text, timestamptz, timestamptz, boolean),
    perps_stats.funding_stats(text, text, timestamptz, timestamptz),
    perps_stats.liquidity_distribution(numeric[], text[], text[], timestamptz, interval)
TO PUBLIC;

CREATE FUNCTION perps_api.market_stats(metrics text[] DEFAULT '{oi_rate}',
                                       exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                       since timestamptz DEFAULT now() - interval '24 hours',
                                       until timestamptz DEFAULT now(),
                                       "by" text DEFAULT 'market', notional boolean DEFAULT false)
RETURNS SETOF perps_stats.market_stat
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._market_stats(metrics, exchange, symbol, since, until, "by", notional, true)
$$;
COMMENT ON FUNCTION perps_api.market_stats(text[], text, text, timestamptz, timestamptz, text, boolean) IS
    'Summaries (count, min, mean, median, p5, p95, p99, max) of ticker metrics in [since, until): oi_rate, price_deviation, mark_deviation, index_deviation or a ticker column; by market, exchange, symbol or all';

CREATE FUNCTION perps_api.market_histogram(metric text, bins int DEFAULT 10, edges numeric[] DEFAULT NULL,
                                           exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                           since timestamptz DEFAULT now() - interval '24 hours',
                                           until timestamptz DEFAULT now(),
                                           notional boolean DEFAULT false)
RETURNS SETOF perps_stats.histogram_bin
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._market_histogram(metric, bins, edges, exchange, symbol, since, until, notional, true)
$$;
COMMENT ON FUNCTION perps_api.market_histogram(text, int, numeric[], text, text, timestamptz, timestamptz, boolean) IS
    'Counts of one ticker metric in [since, until) per bin: equal-width bins over [min, max], or given edges';

CREATE FUNCTION perps_api.funding_stats(symbol text DEFAULT NULL, exchange text DEFAULT NULL,
                                        since timestamptz DEFAULT now() - interval '24 hours',
                                        until timestamptz DEFAULT now())
RETURNS SETOF perps_stats.funding_stat
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._funding_stats(exchange, symbol, since, until, true)
$$;
COMMENT ON FUNCTION perps_api.funding_stats(text, text, timestamptz, timestamptz) IS
    'Funding rates per market in [since, until), venues side by side: mean, min, max, standard deviation, annualized percent, slope per day';

CREATE FUNCTION perps_api.liquidity_distribution(bps numeric[] DEFAULT '{5}', symbols text[] DEFAULT NULL,
                                                 exchanges text[] DEFAULT NULL,
                                                 as_of timestamptz DEFAULT now(),
                                                 max_age interval DEFAULT '1 day')
RETURNS SETOF perps_stats.liquidity_distribution_row
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._liquidity_distribution(bps, symbols, exchanges, as_of, max_age, true)
$$;
COMMENT ON FUNCTION perps_api.liquidity_distribution(numeric[], text[], text[], timestamptz, interval) IS
    'liq-dist: notional within bps of mid per venue and symbol on the newest stored depth, each venue''s share per symbol and each symbol''s share per venue, in percent; partial when the book does not reach the level';

REVOKE ALL ON FUNCTION
    perps_api.market_stats(text[], text, text, timestamptz, timestamptz, text, boolean),
    perps_api.market_histogram(text, int, numeric[], text, text, timestamptz, timestamptz, boolean),
    perps_api.funding_stats(text, text, timestamptz, timestamptz),
    perps_api.liquidity_distribution(numeric[], text[], text[], timestamptz, interval)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    perps_api.market_stats(text[], text, text, timestamptz, timestamptz, text, boolean),
    perps_api.market_histogram(text, int, numeric[], text, text, timestamptz, timestamptz, boolean),
    perps_api.funding_stats(text, text, timestamptz, timestamptz),
    perps_api.liquidity_distribution(numeric[], text[], text[], timestamptz, interval)
TO perps_anon;

-- issue 19, Hibachi: a market's own coarser books (its orderbookGranularities)
ALTER TABLE perps_stats.markets
    ADD COLUMN book_steps numeric[] CHECK (cardinality(book_steps) BETWEEN 1 AND 8 AND 0 < ALL (book_steps));
COMMENT ON COLUMN perps_stats.markets.book_steps IS
    'the price steps the venue''s REST book of this market can be aggregated to, finest first (Hibachi''s orderbookGranularities); NULL: the venue''s own resolutions list';
