-- perps_stats install script, part 39: the argument checks of the HTTP
-- API's SQL functions (perps_api, 40_api.sql and 42_api_history.sql).
--
-- Each raises a clear error on bad input.  They are called from the
-- RPCs' single SELECT, so that the RPCs stay what PostgreSQL inlines into
-- PostgREST's query (and PostgREST's LIMIT, filters and ORDER BY reach the
-- tables) and still refuse bad input before any partition is read.  They
-- read nothing and keep PUBLIC's EXECUTE: perps_anon calls them through the
-- RPCs.

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
