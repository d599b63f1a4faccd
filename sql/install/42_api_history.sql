-- perps_stats install script, part 42: the history RPCs of the HTTP API.
--
-- The replaced REST service's history endpoints as PostgREST functions:
--
--   GET /rpc/tickers_history?exchange=binance&symbol=BTC&start=..&end=..&limit=..&offset=..
--   GET /rpc/liquidity_history?...   (the same arguments)
--   GET /rpc/slippage_history?...    (the same arguments)
--   GET /rpc/orderbook_at?exchange=binance&symbol=BTC&at=..[&within=..&direction=..]
--
-- Each history function returns the rows of a perps_api view (SETOF
-- perps_api.tickers, liquidity_depth, slippage) of one market in
-- [start, end): end defaults to now(), start to end - 24 hours; start must be
-- before end, and the window at most 31 days (perps_stats._history_window in
-- 39_api_checks.sql: 22023, 54000).  Newest first (ts descending; slippage
-- then by amount and side).
--
-- limit and offset are PostgREST's own query parameters (PostgREST never
-- passes them to a function on a GET), and so are filters (&side=eq.buy),
-- order=, select= and Accept: text/csv: they apply to the function's rows.
-- So that they reach the tables, the history functions are what PostgreSQL
-- inlines into the calling query (LANGUAGE sql, STABLE, SECURITY INVOKER, one
-- SELECT, no SET, not STRICT): PostgREST's LIMIT stops reading after the
-- page.  The checked window is the outer side of a nested loop (the OFFSET 0
-- keeps the view's subquery a parameterised inner side), so the daily
-- partitions outside it are pruned when the inner side starts, whether the
-- arguments are constants, parameters or PostgREST's JSON arguments
-- (test/pgtap/42_api_history.sql).
-- A response holds at most db-max-rows (1000) rows, whatever limit asks.
--
-- orderbook_at reads perps_stats.orderbooks itself (perps_api has a view of
-- the newest book only): SECURITY DEFINER with a fixed search_path, its input
-- checked, executable by perps_anon alone.

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
