-- perps_stats install script, part 20: order-book analytics (src/analytics.c,
-- src/book_math.c).
--
-- A book side is a 2-D numeric[] of {price, qty} rows, best first: bids by
-- descending price, asks by ascending price.  mid = (best bid + best ask) / 2.
-- A book with an empty side has no mid: the scalar functions return NULL and
-- the set-returning ones no rows.  Everything is exact numeric arithmetic.
-- The math is for everyone: EXECUTE is granted to PUBLIC.

CREATE FUNCTION perps_stats.mid_price(bids numeric[], asks numeric[])
RETURNS numeric
AS 'MODULE_PATHNAME', 'mid_price'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perps_stats.mid_price(numeric[], numeric[]) IS
    '(best bid + best ask) / 2, exact; NULL when a side is empty';

CREATE FUNCTION perps_stats.spread_bps(bids numeric[], asks numeric[])
RETURNS numeric
AS 'MODULE_PATHNAME', 'spread_bps'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perps_stats.spread_bps(numeric[], numeric[]) IS
    '(best ask - best bid) / mid * 10^4; NULL when a side is empty';

CREATE FUNCTION perps_stats.liquidity_depth(bids numeric[], asks numeric[],
                                            bps numeric[] DEFAULT '{1,2.5,5,10,20,50,100}')
RETURNS TABLE (bps numeric, bid_notional numeric, ask_notional numeric,
               bid_complete boolean, ask_complete boolean)
AS 'MODULE_PATHNAME', 'liquidity_depth'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 7;
COMMENT ON FUNCTION perps_stats.liquidity_depth(numeric[], numeric[], numeric[]) IS
    'Per threshold in bps: quote notional of the bids with price >= mid*(1 - bps/10^4) and of the asks with price <= mid*(1 + bps/10^4); *_complete is false when the side ends inside the threshold (the notional is then a lower bound). No rows when a side is empty';

CREATE FUNCTION perps_stats.market_depth(bids numeric[], asks numeric[],
                                         pct numeric[] DEFAULT '{0.001,0.0025,0.005,0.01,0.02,0.05}')
RETURNS TABLE (percentage numeric, bid_volume numeric, ask_volume numeric)
AS 'MODULE_PATHNAME', 'market_depth'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 6;
COMMENT ON FUNCTION perps_stats.market_depth(numeric[], numeric[], numeric[]) IS
    'Per fraction of mid (0.01 = 1 %): base quantity of the bids with price >= mid*(1 - pct) and of the asks with price <= mid*(1 + pct). No rows when a side is empty';

CREATE FUNCTION perps_stats.slippage(bids numeric[], asks numeric[], side text, notional numeric)
RETURNS TABLE (mid_price numeric, avg_price numeric, slippage_bps numeric,
               filled_base numeric, filled_quote numeric, levels_used int, feasible boolean)
AS 'MODULE_PATHNAME', 'slippage'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION perps_stats.slippage(numeric[], numeric[], text, numeric) IS
    'A market order of notional quote currency: buy walks the asks, sell the bids. When the side cannot fill it, feasible is false, filled_* is all the side holds and avg_price, slippage_bps are NULL. No rows when a side is empty';

-- The rows ingestion stores in liquidity_depth and slippage (the C API of
-- src/book_math.h), for a stored book:
--   INSERT INTO perps_stats.liquidity_depth
--   SELECT market_id, ts, (perps_stats.liquidity_depth_row(bids, asks)).* FROM perps_stats.orderbooks ...
CREATE FUNCTION perps_stats.liquidity_depth_row(bids numeric[], asks numeric[],
    OUT mid_price numeric,
    OUT bid_1bps numeric, OUT bid_2_5bps numeric, OUT bid_5bps numeric, OUT bid_10bps numeric,
    OUT bid_20bps numeric, OUT bid_50bps numeric, OUT bid_100bps numeric,
    OUT ask_1bps numeric, OUT ask_2_5bps numeric, OUT ask_5bps numeric, OUT ask_10bps numeric,
    OUT ask_20bps numeric, OUT ask_50bps numeric, OUT ask_100bps numeric,
    OUT max_bid_bps numeric, OUT max_ask_bps numeric)
AS 'MODULE_PATHNAME', 'liquidity_depth_row'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perps_stats.liquidity_depth_row(numeric[], numeric[]) IS
    'The liquidity_depth columns of a book: mid, quote notional within 1, 2.5, 5, 10, 20, 50, 100 bps per side, distance of the deepest level per side in bps; NULL when a side is empty';

CREATE FUNCTION perps_stats.slippage_rows(bids numeric[], asks numeric[])
RETURNS TABLE (amount numeric, side text, mid_price numeric, avg_price numeric,
               slippage_bps numeric, feasible boolean)
AS 'MODULE_PATHNAME', 'slippage_rows'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16;
COMMENT ON FUNCTION perps_stats.slippage_rows(numeric[], numeric[]) IS
    'The slippage columns of a book for the standard sizes 1K, 10K, 50K, 100K, 500K, 1M, 5M, 10M quote, buy and sell; no rows when a side is empty';

-- vwap(price, qty): sum(price * qty) / sum(qty), equal in value and scale to
-- PostgreSQL's own expression; rows with a NULL price or qty are skipped.
CREATE FUNCTION perps_stats._vwap_accum(internal, numeric, numeric)
RETURNS internal
AS 'MODULE_PATHNAME', 'vwap_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._vwap_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'vwap_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._vwap_final(internal)
RETURNS numeric
AS 'MODULE_PATHNAME', 'vwap_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._vwap_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'vwap_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION perps_stats._vwap_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'vwap_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE perps_stats.vwap(price numeric, qty numeric) (
    SFUNC        = perps_stats._vwap_accum,
    STYPE        = internal,
    SSPACE       = 120,
    FINALFUNC    = perps_stats._vwap_final,
    COMBINEFUNC  = perps_stats._vwap_combine,
    SERIALFUNC   = perps_stats._vwap_serialize,
    DESERIALFUNC = perps_stats._vwap_deserialize,
    PARALLEL     = SAFE
);
COMMENT ON AGGREGATE perps_stats.vwap(numeric, numeric) IS
    'Volume-weighted average price: sum(price*qty) / sum(qty), the same value and scale as that expression; NULL for no rows or when sum(qty) = 0';

GRANT EXECUTE ON FUNCTION
    perps_stats.mid_price(numeric[], numeric[]),
    perps_stats.spread_bps(numeric[], numeric[]),
    perps_stats.liquidity_depth(numeric[], numeric[], numeric[]),
    perps_stats.market_depth(numeric[], numeric[], numeric[]),
    perps_stats.slippage(numeric[], numeric[], text, numeric),
    perps_stats.liquidity_depth_row(numeric[], numeric[]),
    perps_stats.slippage_rows(numeric[], numeric[]),
    perps_stats.vwap(numeric, numeric)
TO PUBLIC;
