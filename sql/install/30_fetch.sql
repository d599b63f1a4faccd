-- perps_stats install script, part 30: live data from the exchanges (fetch_*).
--
-- These functions call an exchange's REST API from the calling backend
-- (libcurl, see src/http.c) and return what it answered, converted exactly:
-- decimals from the venue's JSON text to numeric, quantities in base units,
-- times as timestamptz.  They reach the network, so PUBLIC may not execute
-- them; the role perps_collector may.

-- Per-venue rate limits: NULL means the venue's documented default (in its
-- adapter).  The HTTP layer keeps each backend's requests to a venue within
-- rate_limit_weight per rate_limit_window_ms.
ALTER TABLE perps_stats.exchanges
    ADD COLUMN rate_limit_weight    integer CHECK (rate_limit_weight > 0),
    ADD COLUMN rate_limit_window_ms integer CHECK (rate_limit_window_ms > 0);
COMMENT ON COLUMN perps_stats.exchanges.rate_limit_weight IS
    'request weight allowed per rate_limit_window_ms; NULL = the venue''s documented limit';
COMMENT ON COLUMN perps_stats.exchanges.rate_limit_window_ms IS
    'window of rate_limit_weight in milliseconds; NULL = the venue''s documented window';

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

-- Roles are cluster-wide: create it only once, so that DROP and CREATE
-- EXTENSION work repeatedly.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'perps_collector') THEN
        CREATE ROLE perps_collector NOLOGIN;
    END IF;
END
$$;
-- the collector reads what it resolves markets from
GRANT perps_reader TO perps_collector;

CREATE FUNCTION perps_stats.fetch_markets(exchange text)
RETURNS TABLE (symbol text, native_symbol text, base text, quote text, contract_size numeric,
               tick_size numeric, lot_size numeric, min_qty numeric, max_qty numeric,
               min_notional numeric, max_leverage numeric, funding_interval_hours numeric)
AS 'MODULE_PATHNAME', 'fetch_markets'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_markets(text) IS
    'the perpetual markets an exchange lists now (global and native symbols, contract size, limits)';

CREATE FUNCTION perps_stats.refresh_markets(exchange text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'refresh_markets'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION perps_stats.refresh_markets(text) IS
    'fetches the markets of one exchange (NULL: every enabled one) and upserts perps_stats.markets; markets no longer listed become inactive; returns the number upserted';

CREATE FUNCTION perps_stats.fetch_ticker(exchange text, symbol text,
    OUT exchange text, OUT symbol text, OUT ts timestamptz,
    OUT last_price numeric, OUT mark_price numeric, OUT index_price numeric,
    OUT best_bid_price numeric, OUT best_bid_qty numeric, OUT best_ask_price numeric, OUT best_ask_qty numeric,
    OUT volume_24h numeric, OUT turnover_24h numeric, OUT open_interest numeric, OUT open_interest_notional numeric,
    OUT price_change_24h numeric, OUT price_change_pct numeric, OUT high_24h numeric, OUT low_24h numeric)
RETURNS record
AS 'MODULE_PATHNAME', 'fetch_ticker'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_ticker(text, text) IS
    'the ticker of one market now: prices, best bid and ask, 24 h volume (base) and turnover (quote), open interest (base), 24 h change (price_change_pct is a fraction)';

CREATE FUNCTION perps_stats.fetch_tickers(exchange text)
RETURNS TABLE (exchange text, symbol text, ts timestamptz,
    last_price numeric, mark_price numeric, index_price numeric,
    best_bid_price numeric, best_bid_qty numeric, best_ask_price numeric, best_ask_qty numeric,
    volume_24h numeric, turnover_24h numeric, open_interest numeric, open_interest_notional numeric,
    price_change_24h numeric, price_change_pct numeric, high_24h numeric, low_24h numeric)
AS 'MODULE_PATHNAME', 'fetch_tickers'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_tickers(text) IS
    'the tickers of every market of an exchange listed in perps_stats.markets (refreshed first when it has none)';

CREATE FUNCTION perps_stats.fetch_orderbook(exchange text, symbol text, depth integer DEFAULT 100,
    OUT exchange text, OUT symbol text, OUT ts timestamptz,
    OUT bids numeric[], OUT asks numeric[], OUT seq bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'fetch_orderbook'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_orderbook(text, text, integer) IS
    'the order book of one market now: bids and asks as 2-D numeric arrays {{price,qty},...}, best first, at most depth levels per side, quantities in base units';

CREATE FUNCTION perps_stats.fetch_funding_rate(exchange text, symbol text,
    OUT exchange text, OUT symbol text, OUT funding_time timestamptz, OUT rate numeric,
    OUT predicted_rate numeric, OUT next_funding_time timestamptz, OUT interval_hours numeric)
RETURNS record
AS 'MODULE_PATHNAME', 'fetch_funding_rate'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_funding_rate(text, text) IS
    'the current funding rate of one market';

CREATE FUNCTION perps_stats.fetch_funding_history(exchange text, symbol text,
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, max_rows integer DEFAULT NULL)
RETURNS TABLE (exchange text, symbol text, funding_time timestamptz, rate numeric,
    predicted_rate numeric, next_funding_time timestamptz, interval_hours numeric)
AS 'MODULE_PATHNAME', 'fetch_funding_history'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_funding_history(text, text, timestamptz, timestamptz, integer) IS
    'past funding rates of one market between since and until (inclusive), paging through the venue''s history; without since and max_rows one page of the venue''s default size';

CREATE FUNCTION perps_stats.fetch_open_interest(exchange text, symbol text,
    OUT exchange text, OUT symbol text, OUT ts timestamptz,
    OUT open_interest numeric, OUT open_interest_notional numeric)
RETURNS record
AS 'MODULE_PATHNAME', 'fetch_open_interest'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_open_interest(text, text) IS
    'the open interest of one market now, in base units (and in quote currency where the venue says)';

CREATE FUNCTION perps_stats.fetch_klines(exchange text, symbol text, "interval" text,
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, max_rows integer DEFAULT NULL)
RETURNS TABLE (open_time timestamptz, close_time timestamptz, open numeric, high numeric, low numeric,
    close numeric, volume numeric, turnover numeric, trade_count bigint)
AS 'MODULE_PATHNAME', 'fetch_klines'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_klines(text, text, text, timestamptz, timestamptz, integer) IS
    'candles of one market (intervals 1m 5m 15m 30m 1h 4h 1d) opened between since and until (inclusive), paging through the venue''s history; volume in base units, turnover in quote currency';

CREATE FUNCTION perps_stats.fetch_trades(exchange text, symbol text, max_rows integer DEFAULT 100)
RETURNS TABLE (trade_id text, ts timestamptz, price numeric, qty numeric, side text)
AS 'MODULE_PATHNAME', 'fetch_trades'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_trades(text, text, integer) IS
    'the most recent trades of one market (side is the taker''s: buy or sell), quantities in base units';

CREATE FUNCTION perps_stats.fetch_trades(exchange text, symbol text, since timestamptz,
    until timestamptz DEFAULT NULL, max_rows integer DEFAULT NULL)
RETURNS TABLE (trade_id text, ts timestamptz, price numeric, qty numeric, side text)
AS 'MODULE_PATHNAME', 'fetch_trades'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats.fetch_trades(text, text, timestamptz, timestamptz, integer) IS
    'the trades of one market between since and until (inclusive; until NULL: now), paging through the venue''s trade history; feature_not_supported on venues that serve only recent trades';

REVOKE ALL ON FUNCTION
    perps_stats.fetch_markets(text),
    perps_stats.refresh_markets(text),
    perps_stats.fetch_ticker(text, text),
    perps_stats.fetch_tickers(text),
    perps_stats.fetch_orderbook(text, text, integer),
    perps_stats.fetch_funding_rate(text, text),
    perps_stats.fetch_funding_history(text, text, timestamptz, timestamptz, integer),
    perps_stats.fetch_open_interest(text, text),
    perps_stats.fetch_klines(text, text, text, timestamptz, timestamptz, integer),
    perps_stats.fetch_trades(text, text, integer),
    perps_stats.fetch_trades(text, text, timestamptz, timestamptz, integer)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    perps_stats.fetch_markets(text),
    perps_stats.refresh_markets(text),
    perps_stats.fetch_ticker(text, text),
    perps_stats.fetch_tickers(text),
    perps_stats.fetch_orderbook(text, text, integer),
    perps_stats.fetch_funding_rate(text, text),
    perps_stats.fetch_funding_history(text, text, timestamptz, timestamptz, integer),
    perps_stats.fetch_open_interest(text, text),
    perps_stats.fetch_klines(text, text, text, timestamptz, timestamptz, integer),
    perps_stats.fetch_trades(text, text, integer),
    perps_stats.fetch_trades(text, text, timestamptz, timestamptz, integer)
TO perps_collector;

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

CREATE FUNCTION perps_stats._fetch_many(exchanges text[], symbols text[], methods text[])
RETURNS TABLE (exchange text, symbol text, method text, ok boolean, n integer, sqlstate text, message text)
AS 'MODULE_PATHNAME', 'perps_fetch_many_sql'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION perps_stats._fetch_many(text[], text[], text[]) IS
    'internal: runs one job per array position (methods: markets ticker tickers orderbook funding_rate funding_history open_interest klines trades) concurrently as collect() does, and reports per job the rows it got or its error';
REVOKE ALL ON FUNCTION perps_stats._fetch_many(text[], text[], text[]) FROM PUBLIC;
