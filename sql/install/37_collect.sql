-- perps_stats install script, part 37: collect(), one snapshot round.

CREATE FUNCTION perps_stats.collect(exchanges text[] DEFAULT NULL, symbols text[] DEFAULT NULL)
RETURNS TABLE (exchange text, symbol text, kind text, rows int, error text)
AS 'MODULE_PATHNAME', 'collect'
LANGUAGE C VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION perps_stats.collect(text[], text[]) IS
    'One snapshot round over the watched markets (ticker, open interest, funding, order book with liquidity depth and slippage), all venues and markets concurrently; a row per market and kind with the rows written or the error';

REVOKE ALL ON FUNCTION perps_stats.collect(text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_stats.collect(text[], text[]) TO perps_collector;
