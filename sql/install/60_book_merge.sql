-- perps_stats install script, part 60: books of one market at several
-- resolutions (src/book_merge.c): a venue's finest book and its coarser
-- aggregations (Hyperliquid's nSigFigs, Pacifica's agg_level), finest
-- first.  The merge rule (README, "Multi-resolution books"): mid is the
-- finest book's; a depth figure comes from the finest book whose side
-- reaches the threshold; slippage walks the finest book, then each coarser
-- book's levels beyond the deepest price walked.  After part 40, so that
-- the views built there read the tables as 0.1.0 left them.

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
