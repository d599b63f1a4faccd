-- fetch_* against the mock Bybit v5 (category=linear) serving the recorded
-- payloads (test/services/recorded.sh).  Expected values are
-- read off the recorded payloads in ../shared/fixtures/bybit by hand:
--   fetchMarkets.instruments-info.linear.json, fetchTicker.json (single ticker,
--   funding), fetchFundingRate.json (the BTCUSDT row of all tickers),
--   fetchOrderBook.linear.json, fetchOpenInterest.linear.json, fetchOHLCV.json,
--   fetchTrades.json.
-- Funding history and the long kline ranges are the mock's generated
-- documented-format history: there only counts, order and spacing are asserted.
\getenv mock_url PERPS_RECORDED_MOCK_URL
BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(24);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/bybit' WHERE name = 'bybit';
CREATE FUNCTION pg_temp.ms(bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$ SELECT to_timestamp(0) + $1 * interval '1 millisecond' $$;

-- markets: 800 instruments, of which 692 USDT perpetuals named <base>USDT
-- (USDC perpetuals such as BTCPERP and dated futures such as BTCUSDT-14AUG26 are left out)
CREATE TEMP TABLE bm AS SELECT * FROM perps_stats.fetch_markets('bybit');
SELECT is((SELECT count(*) FROM bm), 692::bigint, 'bybit markets: the 692 USDT perpetuals');
SELECT is((SELECT row(m.*)::text FROM bm m WHERE symbol = 'BTC'),
          row('BTC', 'BTCUSDT', 'BTC', 'USDT', 1::numeric, '0.10'::numeric, '0.001'::numeric,
              '0.001'::numeric, '1500.000'::numeric, 5::numeric, '100.00'::numeric, 8::numeric)::text,
          'bybit BTC market: filters of BTCUSDT, fundingInterval 480 min = 8 h');
SELECT is((SELECT symbol FROM bm WHERE native_symbol = '1000PEPEUSDT'), '1000PEPE',
          'bybit native 1000PEPEUSDT is global 1000PEPE');
SELECT is((SELECT count(*) FROM bm WHERE native_symbol IN ('BTCPERP', 'BTCUSDT-14AUG26')), 0::bigint,
          'bybit USDC perpetuals and dated futures are not markets');
SELECT is((SELECT funding_interval_hours FROM bm WHERE symbol = '0G'), 4::numeric,
          'bybit 0GUSDT fundingInterval 240 min = 4 h');

-- ticker (fetchTicker.json; time 1707905549267; price24hPcnt is a fraction already)
SELECT is((SELECT t::text FROM perps_stats.fetch_ticker('bybit', 'BTC') t),
          row('bybit', 'BTC', pg_temp.ms(1707905549267), '51444.40'::numeric, '51444.40'::numeric,
              '51469.95'::numeric, '51444.30'::numeric, '55.841'::numeric, '51444.40'::numeric,
              '491.691'::numeric, '47293.8870'::numeric, '2352063794.0035'::numeric,
              '225766.793'::numeric, '11614437205.81'::numeric, '1296.90'::numeric, '0.025861'::numeric,
              '51444.40'::numeric, '48381.60'::numeric)::text,
          'bybit ticker BTC: every column of the recorded BTCUSDT ticker, change = 51444.40 - 50147.50');

-- all tickers map native symbols through perps_stats.markets: load it first.
-- (pg_regress inserts a market with an explicit id 1: move the identity past it.)
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1));
SELECT is(perps_stats.refresh_markets('bybit'), 692, 'bybit refresh_markets upserts the 692 markets');
-- all tickers: BTCUSDT of fetchFundingRate.json (its row timestamp 1730730080834)
CREATE TEMP TABLE bt AS SELECT * FROM perps_stats.fetch_tickers('bybit');
SELECT is((SELECT row(ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty,
                      best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest,
                      open_interest_notional, price_change_24h, price_change_pct, high_24h, low_24h)::text
           FROM bt WHERE symbol = 'BTC'),
          row(pg_temp.ms(1730730080834), '68577.50'::numeric, '68591.46'::numeric, '68599.90'::numeric,
              '68577.40'::numeric, '6.371'::numeric, '68577.50'::numeric, '7.927'::numeric,
              '115843.2740'::numeric, '7939403499.8677'::numeric, '69604.924'::numeric,
              '4774303360.35'::numeric, '583.70'::numeric, '0.008584'::numeric, '69497.00'::numeric, '67456.10'::numeric)::text,
          'bybit all tickers: the recorded BTCUSDT row, change = 68577.50 - 67993.80');
SELECT is((SELECT array_agg(symbol ORDER BY symbol) FROM bt), ARRAY['BTC', 'ETH', 'SOL'],
          'bybit all tickers: native symbols mapped back to global ones');

-- order book (fetchOrderBook.linear.json: ts 1706803948569, u 342690)
SELECT is((SELECT row(b.*)::text FROM perps_stats.fetch_orderbook('bybit', 'BTC') b),
          row('bybit', 'BTC', pg_temp.ms(1706803948569),
              '{{42544.7,172.404},{42544.5,88.856}}'::numeric[],
              '{{42548,108.998},{42548.2,75.008}}'::numeric[], 342690::bigint)::text,
          'bybit order book BTC: both levels a side, ts and update id');
SELECT is((SELECT bids::text || asks::text FROM perps_stats.fetch_orderbook('bybit', 'BTC', 1)),
          '{{42544.7,172.404}}{{42548,108.998}}', 'bybit order book depth 1: the best level a side');

-- funding rate (fetchTicker.json: fundingRate -0.00046295, nextFundingTime 1707926400000)
SELECT is((SELECT row(f.*)::text FROM perps_stats.fetch_funding_rate('bybit', 'BTC') f),
          row('bybit', 'BTC', pg_temp.ms(1707905549267), '-0.00046295'::numeric, NULL::numeric,
              pg_temp.ms(1707926400000), NULL::numeric)::text,
          'bybit funding rate BTC: rate and next funding time of the ticker');

-- open interest (fetchOpenInterest.linear.json)
SELECT is((SELECT row(o.*)::text FROM perps_stats.fetch_open_interest('bybit', 'BTC') o),
          row('bybit', 'BTC', pg_temp.ms(1739725200000), '62129.45500000'::numeric, NULL::numeric)::text,
          'bybit open interest BTC: openInterest in BTC at its 5-min timestamp');

-- klines (fetchOHLCV.json, sent newest first; returned oldest first)
SELECT results_eq(
    $$SELECT open_time, close_time, open::text, high::text, low::text, close::text, volume::text,
             turnover::text, trade_count
      FROM perps_stats.fetch_klines('bybit', 'BTC', '1h', pg_temp.ms(1706630400000), pg_temp.ms(1706637600000))$$,
    $$VALUES (pg_temp.ms(1706630400000), pg_temp.ms(1706633999999), '43350.7', '43492.5', '43204.5', '43488', '1341.261', '58117391.4117', NULL::bigint),
             (pg_temp.ms(1706634000000), pg_temp.ms(1706637599999), '43488', '43579.5', '43286.8', '43376.1', '3199.431', '138878389.2519', NULL),
             (pg_temp.ms(1706637600000), pg_temp.ms(1706641199999), '43376.1', '43474.1', '43264.8', '43352.8', '1575.305', '68345898.1407', NULL)$$,
    'bybit klines BTC 1h: the three recorded bars, oldest first, turnover in USDT');
SELECT is((SELECT array_agg(open::text ORDER BY open_time) FROM perps_stats.fetch_klines('bybit', 'BTC', '1h')),
          ARRAY['43350.7', '43488', '43376.1'], 'bybit klines BTC 1h without a range: the recorded page');
-- generated history: 2024-01-01 .. 2024-03-01 inclusive = 60 days x 24 + 1 bars, two pages of 1000
SELECT is((SELECT row(count(*), count(DISTINCT open_time), min(open_time), max(open_time))::text
           FROM perps_stats.fetch_klines('bybit', 'ETH', '1h', '2024-01-01', '2024-03-01')),
          row(1441::bigint, 1441::bigint, '2024-01-01 00:00+00'::timestamptz, '2024-03-01 00:00+00'::timestamptz)::text,
          'bybit klines ETH 1h over 1441 hours: paged, no gap, no duplicate');
SELECT is((SELECT count(*) FROM perps_stats.fetch_klines('bybit', 'ETH', '1d', NULL, NULL, 3)), 3::bigint,
          'bybit klines max_rows 3');

-- funding history (generated: every 8 h at 00, 08, 16 UTC; pages of 200 h windows)
SELECT is((SELECT row(count(*), count(DISTINCT funding_time), min(funding_time), max(funding_time))::text
           FROM perps_stats.fetch_funding_history('bybit', 'BTC', '2024-01-01', '2024-03-01')),
          row(181::bigint, 181::bigint, '2024-01-01 00:00+00'::timestamptz, '2024-03-01 00:00+00'::timestamptz)::text,
          'bybit funding history over 60 days: 181 settlements across pages');
SELECT is((SELECT count(*) FROM (SELECT funding_time - lag(funding_time) OVER (ORDER BY funding_time) AS d
                                 FROM perps_stats.fetch_funding_history('bybit', 'BTC', '2024-01-01', '2024-01-10')) s
           WHERE d <> interval '8 hours'), 0::bigint, 'bybit funding history: 8 h apart, in order');
SELECT is((SELECT count(*) FROM perps_stats.fetch_funding_history('bybit', 'BTC', NULL, NULL, 5)), 5::bigint,
          'bybit funding history max_rows 5');

-- recent trades (fetchTrades.json)
SELECT is((SELECT row(t.*)::text FROM perps_stats.fetch_trades('bybit', 'BTC') t),
          row('9afd1288-b444-53f8-8e40-c2f99368ad22', pg_temp.ms(1707905515968), '51444.40'::numeric,
              '0.972'::numeric, 'buy')::text,
          'bybit trades BTC: the recorded trade, taker side Buy');

-- errors: Bybit answers retCode 10001 for an unknown symbol
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('bybit', 'NOPE')$$, '38000', NULL,
                 'bybit unknown symbol: the venue''s refusal');
SELECT throws_like($$SELECT * FROM perps_stats.fetch_orderbook('bybit', 'NOPE')$$, '%refused%',
                   'bybit unknown symbol in the book: refused');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('bybit', 'BTC', '2w')$$, '22023', NULL,
                 'bybit unknown interval');


SELECT * FROM finish();
ROLLBACK;
