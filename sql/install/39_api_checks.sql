-- perps_stats install script, part 39: the argument checks of the HTTP
-- API's SQL functions (perps_api, 40_api.sql and 42_api_history.sql).
--
-- Each returns true or raises a clear error.  A function of the caller's
-- arguments only: inside an RPC that PostgreSQL inlines into PostgREST's
-- query it becomes a one-time filter (or a filter on PostgREST's row of
-- arguments), evaluated before any partition is read, so the RPC stays
-- inlinable (one SELECT) and still refuses bad input.  They read nothing and
-- keep PUBLIC's EXECUTE: perps_anon calls them through the RPCs.

-- The history functions' arguments (42_api_history.sql): one market, a
-- window [start, end) of at most 31 days, end defaulting to now(), start to
-- end - 24 hours.
CREATE FUNCTION perps_stats._history_check(exchange text, symbol text, start timestamptz, "end" timestamptz)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_end   timestamptz := coalesce("end", now());
    v_start timestamptz := coalesce(start, v_end - interval '24 hours');
BEGIN
    IF exchange IS NULL OR symbol IS NULL THEN
        RAISE EXCEPTION 'exchange and symbol are required'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A history is that of one market: pass exchange and symbol.';
    END IF;
    IF NOT isfinite(v_start) OR NOT isfinite(v_end) THEN
        RAISE EXCEPTION 'start and end must be finite times'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_start >= v_end THEN
        RAISE EXCEPTION 'start must be before end'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, end is %s.', v_start, v_end);
    END IF;
    IF v_end - v_start > interval '31 days' THEN
        RAISE EXCEPTION 'time range too long'
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('From %s to %s is %s; at most 31 days are served at once.',
                                  v_start, v_end, v_end - v_start),
                  HINT = 'Ask for consecutive ranges.';
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION perps_stats._history_check(text, text, timestamptz, timestamptz) IS
    'internal: the argument checks of perps_api''s history functions (market given, start < end, both finite, at most 31 days); true or an error';

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
