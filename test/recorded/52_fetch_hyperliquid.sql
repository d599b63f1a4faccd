-- fetch_* against the mock Hyperliquid (POST /info) serving the recorded
-- payloads (PERPS_RECORDED_MOCK_URL, test/services/recorded.sh).  Expected values are read
-- off the recorded payloads by hand:
--   hyperliquid/fetchMarkets.meta.json (meta), fetchMarkets.meta_nautilus.json with
--   websocket/hyperliquid/allDexsAssetCtxs.trimmed.json (metaAndAssetCtxs),
--   websocket/hyperliquid/l2Book.json (l2Book BTC), fetchOrderBook.l2Book.json (DYDX),
--   fetchOHLCV.ccxt_btc_perp.json, fetchOHLCV.candleSnapshot.json,
--   fetchFundingRateHistory.fundingHistory.json, websocket/hyperliquid/trades.json.
-- predictedFundings and long ranges are the mock's documented-format data.
\getenv mock_url PERPS_RECORDED_MOCK_URL
BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(22);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/hyperliquid' WHERE name = 'hyperliquid';
CREATE FUNCTION pg_temp.ms(bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$ SELECT to_timestamp(0) + $1 * interval '1 millisecond' $$;

-- markets (meta: 28 coins; lot = 10^-szDecimals; USDC-margined; min order 10 USDC; hourly funding)
CREATE TEMP TABLE hm AS SELECT * FROM perps_stats.fetch_markets('hyperliquid');
SELECT is((SELECT count(*) FROM hm), 28::bigint, 'hyperliquid markets: the 28 coins of meta');
SELECT is((SELECT row(m.*)::text FROM hm m WHERE symbol = 'BTC'),
          row('BTC', 'BTC', 'BTC', 'USDC', 1::numeric, NULL::numeric, '0.00001'::numeric, '0.00001'::numeric,
              NULL::numeric, 10::numeric, 50::numeric, 1::numeric)::text,
          'hyperliquid BTC market: szDecimals 5, maxLeverage 50');
SELECT is((SELECT row(native_symbol, lot_size)::text FROM hm WHERE symbol = 'kPEPE'),
          row('kPEPE', 1::numeric)::text, 'hyperliquid kPEPE: coin is the symbol both ways, szDecimals 0');

-- ticker: asset context of BTC (markPx 77562.0, oraclePx 77605.0, dayBaseVlm, dayNtlVlm,
-- openInterest) and the best levels and time of the BTC l2Book
SELECT is((SELECT t::text FROM perps_stats.fetch_ticker('hyperliquid', 'BTC') t),
          row('hyperliquid', 'BTC', pg_temp.ms(1751427259657), NULL::numeric, '77562.0'::numeric,
              '77605.0'::numeric, '106217.0'::numeric, '0.001'::numeric, '106233.0'::numeric,
              '0.26739'::numeric, '19707.77457'::numeric, '1516669192.1953897476'::numeric,
              '27353.17682'::numeric, '2121567100.512840'::numeric, '1245.0'::numeric, NULL::numeric,
              NULL::numeric, NULL::numeric)::text,
          'hyperliquid ticker BTC: context values, best bid/ask and time of the book, '
          'notional = 27353.17682 x 77562.0, change = 77562.0 - 76317.0');

-- all tickers map native symbols through perps_stats.markets: load it first.
-- (pg_regress inserts a market with an explicit id 1: move the identity past it.)
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1));
SELECT is(perps_stats.refresh_markets('hyperliquid'), 28, 'hyperliquid refresh_markets upserts the 28 markets');
-- all tickers: one per coin of metaAndAssetCtxs; no time in that answer
CREATE TEMP TABLE ht AS SELECT * FROM perps_stats.fetch_tickers('hyperliquid');
SELECT is((SELECT row(ts, mark_price, index_price, volume_24h, turnover_24h, open_interest)::text
           FROM ht WHERE symbol = 'ETH'),
          row(NULL::timestamptz, '2123.7'::numeric, '2124.6'::numeric, '281686.8234999999'::numeric,
              '591989409.9392402172'::numeric, '605822.2557999999'::numeric)::text,
          'hyperliquid all tickers: the recorded ETH context');
SELECT is((SELECT array_agg(symbol ORDER BY symbol) FROM ht), ARRAY['ATOM', 'BTC', 'ETH', 'SOL'],
          'hyperliquid all tickers: every coin of the answer');

-- order books
SELECT is((SELECT row(ts, bids[1:1], bids[4:4], asks[20:20], array_length(bids, 1), array_length(asks, 1), seq)::text
           FROM perps_stats.fetch_orderbook('hyperliquid', 'BTC')),
          row(pg_temp.ms(1751427259657), '{{106217.0,0.001}}'::numeric[], '{{106193.0,0.49943}}'::numeric[],
              '{{107675.0,0.00083}}'::numeric[], 20, 20, NULL::bigint)::text,
          'hyperliquid order book BTC: 20 levels a side, best first, no sequence');
SELECT is((SELECT row(ts, bids, asks)::text FROM perps_stats.fetch_orderbook('hyperliquid', 'DYDX', 3)),
          row(pg_temp.ms(1689630203930), '{{2.111,134.4},{2.1105,141.1},{2.1104,125.8}}'::numeric[],
              '{{2.1124,352.3},{2.1125,364.9},{2.1128,3798.0}}'::numeric[])::text,
          'hyperliquid order book DYDX depth 3: the recorded REST book cut to 3');

-- funding rate: funding of the BTC context; next time and interval from predictedFundings (HlPerp)
SELECT is((SELECT row(rate, predicted_rate, interval_hours, next_funding_time - funding_time)::text
           FROM perps_stats.fetch_funding_rate('hyperliquid', 'BTC')),
          row('-0.0000015186'::numeric, '-0.0000015186'::numeric, 1::numeric, interval '1 hour')::text,
          'hyperliquid funding rate BTC: hourly, current context rate');
SELECT ok((SELECT next_funding_time > now() - interval '1 minute'
                  AND next_funding_time <= now() + interval '61 minutes'
                  AND extract(epoch FROM next_funding_time)::bigint % 3600 = 0
           FROM perps_stats.fetch_funding_rate('hyperliquid', 'BTC')),
          'hyperliquid next funding: the next whole hour');

-- funding history: the recorded BTC rows from 2023-05-12 00:00 to 2023-05-13 00:00
SELECT results_eq(
    $$SELECT funding_time, rate::text, interval_hours
      FROM perps_stats.fetch_funding_history('hyperliquid', 'BTC', pg_temp.ms(1683849600000), pg_temp.ms(1683936000000))$$,
    $$VALUES (pg_temp.ms(1683849600048), '-0.00061334', NULL::numeric),
             (pg_temp.ms(1683878400388), '-0.00074503', NULL),
             (pg_temp.ms(1683907200253), '-0.00081798', NULL)$$,
    'hyperliquid funding history BTC: three recorded rows to the millisecond');
-- generated hourly history over 31 days: 745 rows, more than one page of 500
SELECT is((SELECT row(count(*), count(DISTINCT funding_time))::text
           FROM perps_stats.fetch_funding_history('hyperliquid', 'ETH', '2024-01-01', '2024-02-01 00:30')),
          row(745::bigint, 745::bigint)::text, 'hyperliquid funding history over 745 hours: paged');
SELECT is((SELECT count(*) FROM perps_stats.fetch_funding_history('hyperliquid', 'ETH', '2024-01-01', NULL, 7)),
          7::bigint, 'hyperliquid funding history max_rows 7');

-- open interest: BTC context openInterest, time of the BTC book
SELECT is((SELECT row(o.*)::text FROM perps_stats.fetch_open_interest('hyperliquid', 'BTC') o),
          row('hyperliquid', 'BTC', pg_temp.ms(1751427259657), '27353.17682'::numeric,
              '2121567100.512840'::numeric)::text,
          'hyperliquid open interest BTC in BTC, notional at markPx 77562.0');

-- klines: BTC 1m (t, T, n recorded as strings), kPEPE 1h
SELECT results_eq(
    $$SELECT open_time, close_time, open::text, high::text, low::text, close::text, volume::text, turnover, trade_count
      FROM perps_stats.fetch_klines('hyperliquid', 'BTC', '1m', pg_temp.ms(1710552360000), pg_temp.ms(1710552479999))$$,
    $$VALUES (pg_temp.ms(1710552360000), pg_temp.ms(1710552419999), '69584.0', '69610.0', '69474.0', '69483.0', '6.83271', NULL::numeric, 67::bigint),
             (pg_temp.ms(1710552420000), pg_temp.ms(1710552479999), '69471.0', '69497.0', '69465.0', '69497.0', '0.88301', NULL, 26)$$,
    'hyperliquid klines BTC 1m: the two recorded candles');
SELECT is((SELECT row(count(*), min(open_time), max(close_time))::text
           FROM perps_stats.fetch_klines('hyperliquid', 'kPEPE', '1h', pg_temp.ms(1684699200000), pg_temp.ms(1684782000000))),
          row(24::bigint, pg_temp.ms(1684699200000), pg_temp.ms(1684785599999))::text,
          'hyperliquid klines kPEPE 1h: the 24 recorded candles');
SELECT is((SELECT row(open, high, low, close, volume, trade_count)::text
           FROM perps_stats.fetch_klines('hyperliquid', 'kPEPE', '1h', pg_temp.ms(1684782000000), pg_temp.ms(1684782000000))),
          row('0.001538'::numeric, '0.001548'::numeric, '0.001536'::numeric, '0.00154'::numeric,
              '308219489.0'::numeric, 430::bigint)::text,
          'hyperliquid klines kPEPE: the last recorded candle');
SELECT is((SELECT row(count(*), count(DISTINCT open_time), min(open_time), max(open_time))::text
           FROM perps_stats.fetch_klines('hyperliquid', 'ETH', '1h', '2024-01-01', '2024-02-01')),
          row(745::bigint, 745::bigint, '2024-01-01 00:00+00'::timestamptz, '2024-02-01 00:00+00'::timestamptz)::text,
          'hyperliquid klines ETH 1h over 745 hours: two pages of 500, no gap');

-- recent trades: the recorded BTC trade (side A: the taker sold)
SELECT is((SELECT row(t.*)::text FROM perps_stats.fetch_trades('hyperliquid', 'BTC') t),
          row('293353986402527', pg_temp.ms(1751430933565), '106296.0'::numeric, '0.00017'::numeric, 'sell')::text,
          'hyperliquid trades BTC: tid, time, price, size, taker side');

-- errors: l2Book answers null for an unknown coin
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('hyperliquid', 'NOPE')$$, '42704', NULL,
                 'hyperliquid unknown coin');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('hyperliquid', 'BTC', '2w')$$, '22023', NULL,
                 'hyperliquid unknown interval');

SELECT * FROM finish();
ROLLBACK;
