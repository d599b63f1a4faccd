-- perps_stats install script, part 44: the statistics over HTTP (24_stats.sql).
--
-- The perps_stats statistics as RPC functions of perps_api, reading the
-- perps_api views (so with perps_anon's rights, as the RPCs of 40_api.sql).
-- The bounds of 24_stats.sql apply (a year at most, 32 metrics, 1000 bins,
-- 1000 symbols or exchanges, 32 Mi values a summary), and perps_anon's
-- statement_timeout.  Same arguments, defaults and result columns as the
-- perps_stats functions:
--   GET /rpc/market_stats?symbol=BTC&metrics={oi_rate,price_deviation}
--   GET /rpc/market_histogram?metric=oi_rate&bins=20
--   GET /rpc/funding_stats?symbol=BTC
--   GET /rpc/liquidity_distribution?bps={5,10}

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
