-- The schema contract: tables, primary keys, partitioning, the seeded venues
-- and the privileges that keep non-owners from writing.
BEGIN;
SELECT plan(48);

SELECT has_schema('perps_stats');
SELECT set_eq(
    $$SELECT relname::text FROM pg_class
       WHERE relnamespace = 'perps_stats'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition$$,
    ARRAY['exchanges', 'markets', 'tickers', 'orderbooks', 'trades', 'funding_rates', 'open_interest',
          'klines', 'liquidity_depth', 'slippage', 'ingest_events', 'partitioned_tables', 'watchlist',
          'backfill_progress', 'backfill_earliest', 'backfill_empty_ranges', 'backfill_covered', 'latest_tickers',
          'stream_progress'],
    'the tables of perps_stats (partitions aside)');

SELECT col_is_pk('perps_stats', 'exchanges', 'id', 'exchanges pk');
SELECT col_is_pk('perps_stats', 'markets', 'id', 'markets pk');
SELECT col_is_pk('perps_stats', 'tickers', ARRAY['market_id', 'ts'], 'tickers pk');
SELECT col_is_pk('perps_stats', 'orderbooks', ARRAY['market_id', 'ts'], 'orderbooks pk');
SELECT col_is_pk('perps_stats', 'trades', ARRAY['market_id', 'trade_id', 'ts'], 'trades pk');
SELECT col_is_pk('perps_stats', 'funding_rates', ARRAY['market_id', 'funding_time'], 'funding pk');
SELECT col_is_pk('perps_stats', 'open_interest', ARRAY['market_id', 'ts'], 'open interest pk');
SELECT col_is_pk('perps_stats', 'klines', ARRAY['market_id', 'interval', 'open_time'], 'klines pk');
SELECT col_is_pk('perps_stats', 'liquidity_depth', ARRAY['market_id', 'ts'], 'liquidity pk');
SELECT col_is_pk('perps_stats', 'slippage', ARRAY['market_id', 'ts', 'amount', 'side'], 'slippage pk');
SELECT col_is_unique('perps_stats', 'markets', ARRAY['exchange_id', 'symbol'], 'one market per venue and symbol');

SELECT is_partitioned('perps_stats', t, t || ' is partitioned')
  FROM unnest(ARRAY['tickers','orderbooks','trades','funding_rates','open_interest','klines',
                    'liquidity_depth','slippage']) t;
SELECT is((SELECT array_agg(pg_get_partkeydef(format('perps_stats.%I', t)::regclass) ORDER BY t)
             FROM unnest(ARRAY['tickers','orderbooks','trades','funding_rates','open_interest','klines',
                               'liquidity_depth','slippage']) t),
          ARRAY['RANGE (funding_time)','RANGE (open_time)','RANGE (ts)','RANGE (ts)','RANGE (ts)',
                'RANGE (ts)','RANGE (ts)','RANGE (ts)'],
          'range partitioned on their time columns');

SELECT columns_are('perps_stats', 'tickers', ARRAY['market_id', 'ts', 'last_price', 'mark_price',
    'index_price', 'best_bid_price', 'best_bid_qty', 'best_ask_price', 'best_ask_qty', 'volume_24h',
    'turnover_24h', 'open_interest', 'open_interest_notional', 'price_change_24h', 'price_change_pct',
    'high_24h', 'low_24h']);
SELECT columns_are('perps_stats', 'liquidity_depth', ARRAY['market_id', 'ts', 'mid_price',
    'bid_1bps', 'bid_2_5bps', 'bid_5bps', 'bid_10bps', 'bid_20bps', 'bid_50bps', 'bid_100bps',
    'ask_1bps', 'ask_2_5bps', 'ask_5bps', 'ask_10bps', 'ask_20bps', 'ask_50bps', 'ask_100bps',
    'max_bid_bps', 'max_ask_bps', 'resolution']);
SELECT col_type_is('perps_stats', 'orderbooks', 'bids', 'numeric[]', 'book sides are numeric arrays');
SELECT col_type_is('perps_stats', 'trades', 'trade_id', 'text', 'trade ids are text (28-digit ids exist)');
SELECT is((SELECT string_agg(DISTINCT a.attcompression::text, ',')
             FROM pg_attribute a JOIN pg_inherits i ON i.inhrelid = a.attrelid
            WHERE i.inhparent = 'perps_stats.orderbooks'::regclass AND a.attname IN ('bids', 'asks')),
          'l', 'every orderbooks partition (daily and default) stores books with lz4');

-- the seeded venues and their real endpoints
SELECT results_eq(
    'SELECT name, rest_url, ws_url FROM perps_stats.exchanges ORDER BY id',
    $$VALUES ('binance', 'https://fapi.binance.com', 'wss://fstream.binance.com'),
             ('bybit', 'https://api.bybit.com', 'wss://stream.bybit.com/v5/public/linear'),
             ('hyperliquid', 'https://api.hyperliquid.xyz', 'wss://api.hyperliquid.xyz/ws'),
             ('kucoin', 'https://api-futures.kucoin.com', 'wss://ws-api-futures.kucoin.com/'),
             ('lighter', 'https://mainnet.zklighter.elliot.ai', 'wss://mainnet.zklighter.elliot.ai/stream'),
             ('paradex', 'https://api.prod.paradex.trade', 'wss://ws.api.prod.paradex.trade/v1?sbeSchemaId=1&sbeSchemaVersion=1'),
             ('aster', 'https://fapi.asterdex.com', 'wss://fstream.asterdex.com'),
             ('extended', 'https://api.starknet.extended.exchange', 'wss://api.starknet.extended.exchange/stream.extended.exchange/v1'),
             ('pacifica', 'https://api.pacifica.fi', 'wss://ws.pacifica.fi/ws'),
             ('hibachi', 'https://data-api.hibachi.xyz', 'wss://data-api.hibachi.xyz/ws/market'),
             ('grvt', 'https://market-data.grvt.io', 'wss://market-data.grvt.io/ws/full'),
             ('nado', 'https://gateway.prod.nado.xyz', 'wss://gateway.prod.nado.xyz/v1/subscribe'),
             ('tradexyz', 'https://api.hyperliquid.xyz', 'wss://api.hyperliquid.xyz/ws')$$,
    'thirteen seeded venues with their endpoints (tradexyz: a HIP-3 DEX of the Hyperliquid API)');
SELECT results_eq(
    'SELECT name, aux_url FROM perps_stats.exchanges WHERE aux_url IS NOT NULL ORDER BY id',
    $$VALUES ('nado', 'https://archive.prod.nado.xyz')$$,
    'nado has its archive (indexer) host as aux_url, the only venue with a second host');
SELECT results_eq(
    'SELECT name, coalesce(adapter, name), adapter_param FROM perps_stats.exchanges WHERE adapter IS NOT NULL OR adapter_param IS NOT NULL ORDER BY id',
    $$VALUES ('tradexyz', 'hyperliquid', 'xyz')$$,
    'every venue is served by the adapter of its name, but tradexyz: hyperliquid''s, dex xyz');
SELECT throws_ok($$UPDATE perps_stats.exchanges SET adapter_param = 'x"y' WHERE name = 'tradexyz'$$,
                 '23514', NULL, 'an adapter parameter is a plain name (it reaches request bodies)');
SELECT results_eq(
    'SELECT exchange, string_agg(symbol, '','' ORDER BY symbol) FROM perps_stats.watchlist GROUP BY 1 ORDER BY 1',
    $$VALUES ('aster', 'BTC,ETH,SOL'), ('binance', 'BTC,ETH,SOL'), ('bybit', 'BTC,ETH,SOL'), ('extended', 'BTC,ETH,SOL'), ('grvt', 'BTC,ETH,SOL'), ('hibachi', 'BTC,ETH,SOL'), ('hyperliquid', 'BTC,ETH,SOL'),
             ('kucoin', 'BTC,ETH,SOL'), ('lighter', 'BTC,ETH,SOL'), ('nado', 'BTC,ETH,SOL'), ('pacifica', 'BTC,ETH,SOL'), ('paradex', 'BTC,ETH,SOL')$$,
    'the watchlist is seeded with BTC, ETH and SOL on each venue');
SELECT throws_ok($$UPDATE perps_stats.exchanges SET rest_url = 'https://x/' WHERE id = 1$$,
                 '23514', NULL, 'rest_url may not end with a slash');
SELECT throws_ok($$UPDATE perps_stats.exchanges SET aux_url = 'https://x/?q' WHERE id = 1$$,
                 '23514', NULL, 'aux_url is a base URL like rest_url (no query, no trailing slash)');

-- privileges: a role that is not the owner
CREATE ROLE perps_tap_intruder;
SELECT ok(NOT has_table_privilege('perps_tap_intruder', 'perps_stats.exchanges', 'UPDATE'),
          'non-owner has no UPDATE on exchanges');
SELECT ok(NOT has_table_privilege('perps_tap_intruder', 'perps_stats.tickers', 'SELECT'),
          'a role outside perps_reader cannot read the data');
SELECT ok(has_table_privilege('perps_reader', 'perps_stats.tickers', 'SELECT')
          AND has_table_privilege('perps_reader', 'perps_stats.table_stats', 'SELECT')
          AND NOT has_table_privilege('perps_reader', 'perps_stats.tickers', 'INSERT'),
          'perps_reader reads and does not write');
SELECT ok(NOT has_function_privilege('perps_tap_intruder', 'perps_stats.clean(interval)', 'EXECUTE'),
          'non-owner cannot run clean()');
SET ROLE perps_tap_intruder;
SELECT throws_ok($$UPDATE perps_stats.exchanges SET rest_url = 'http://evil.example' WHERE name = 'binance'$$,
                 '42501', NULL, 'non-owner cannot update exchanges.rest_url');
SELECT throws_ok($$INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES (1, now(), 1)$$,
                 '42501', NULL, 'non-owner cannot insert into tickers');
SELECT throws_ok($$INSERT INTO perps_stats.trades VALUES (1, now(), 'x', 1, 1, 'buy')$$,
                 '42501', NULL, 'non-owner cannot insert into trades');
SELECT throws_ok($$DELETE FROM perps_stats.markets$$,
                 '42501', NULL, 'non-owner cannot delete markets');
SELECT throws_ok($$SELECT perps_stats.drop_partitions('1 day')$$,
                 '42501', NULL, 'non-owner cannot drop partitions');
RESET ROLE;
SELECT is((SELECT rest_url FROM perps_stats.exchanges WHERE name = 'binance'),
          'https://fapi.binance.com', 'rest_url unchanged');

SELECT has_view('perps_stats', 'table_stats', 'table_stats view');
-- a reader sees table_stats, also for partitions created after install
GRANT perps_reader TO perps_tap_intruder;
SELECT perps_stats.create_partitions(5);
SET ROLE perps_tap_intruder;
SELECT lives_ok('SELECT * FROM perps_stats.table_stats', 'a perps_reader member reads table_stats');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM perps_stats.table_stats), 9, 'table_stats: 8 series and ingest_events');
SELECT ok((SELECT bool_and(partitions >= 4) FROM perps_stats.table_stats WHERE table_name <> 'ingest_events'),
          'each series has today''s partition and three ahead');

SELECT * FROM finish();
ROLLBACK;
