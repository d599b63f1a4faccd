-- fetch_* of trade.xyz, Hyperliquid's HIP-3 DEX "xyz": the venue row tradexyz
-- served by the hyperliquid adapter with adapter_param 'xyz', against the mock
-- Hyperliquid (POST /info) serving the project's own payloads of that DEX.
-- Expected values are read off those files by hand:
--   hyperliquid/fetchMarkets.meta.xyz.json (meta, dex xyz: 6 coins, xyz:INTC delisted),
--   fetchTickers.metaAndAssetCtxs.xyz.json (the same 6 with their contexts, in order),
--   fetchOrderBook.l2Book.xyz.json (xyz:XYZ100 at 2026-12-06 14:00:12.345 = 1796565612345 ms),
--   fetchOHLCV.candleSnapshot.xyz.json (xyz:XYZ100 1h, 11:00 to 13:00),
--   fetchFundingRateHistory.fundingHistory.xyz.json (xyz:XYZ100 hourly, 10:00 to 13:00),
--   fetchTrades.recentTrades.xyz.json (three xyz:XYZ100 trades).
-- The mock answers meta and metaAndAssetCtxs for dex xyz only when the body
-- carries "dex":"xyz" (without it: the main DEX's coins; another dex: null).
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(25);

-- the DEX is the same API as the main one: the same base URL
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/hyperliquid' WHERE name IN ('hyperliquid', 'tradexyz');
CREATE FUNCTION pg_temp.ms(bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$ SELECT to_timestamp(0) + $1 * interval '1 millisecond' $$;

SELECT is((SELECT row(id, adapter, adapter_param, maker_fee, taker_fee)::text FROM perps_stats.exchanges WHERE name = 'tradexyz'),
          row(13::smallint, 'hyperliquid', 'xyz', 0.0003, 0.0009)::text,
          'tradexyz: seed row 13, the hyperliquid adapter with dex xyz, HIP-3 fees (twice the base tier)');

-- markets: the coins of the DEX's meta, global symbol without the "xyz:" prefix
CREATE TEMP TABLE xm AS SELECT * FROM perps_stats.fetch_markets('tradexyz');
SELECT is((SELECT string_agg(symbol || '=' || native_symbol, ',' ORDER BY symbol) FROM xm),
          'GOLD=xyz:GOLD,INTC=xyz:INTC,NVDA=xyz:NVDA,SILVER=xyz:SILVER,TSLA=xyz:TSLA,XYZ100=xyz:XYZ100',
          'tradexyz markets: the six coins of meta dex xyz, global symbols without the prefix');
SELECT is((SELECT row(m.*)::text FROM xm m WHERE symbol = 'XYZ100'),
          row('XYZ100', 'xyz:XYZ100', 'XYZ100', 'USDC', 1::numeric, NULL::numeric, '0.0001'::numeric, '0.0001'::numeric,
              NULL::numeric, 10::numeric, 20::numeric, 1::numeric)::text,
          'tradexyz XYZ100 market: szDecimals 4, maxLeverage 20, USDC collateral (collateralToken 0)');

-- refresh: six markets, the delisted INTC inactive, nothing of the main DEX and
-- nothing of the DEX on the main venue
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1));
SELECT is(perps_stats.refresh_markets('tradexyz'), 6, 'tradexyz refresh_markets upserts the six markets');
SELECT is(perps_stats.refresh_markets('hyperliquid'), 12, 'hyperliquid refresh_markets: still its own 12 coins');
SELECT is((SELECT string_agg(symbol || ':' || active, ',' ORDER BY symbol) FROM perps_stats.markets
            WHERE exchange_id = 13),
          'GOLD:true,INTC:false,NVDA:true,SILVER:true,TSLA:true,XYZ100:true',
          'tradexyz markets: only the DEX''s, xyz:INTC (isDelisted) inactive');
SELECT is((SELECT count(*) FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE (e.name = 'hyperliquid' AND (m.native_symbol LIKE '%:%' OR m.symbol IN ('XYZ100', 'TSLA')))
               OR (e.name = 'tradexyz' AND (m.native_symbol NOT LIKE 'xyz:%' OR m.symbol IN ('BTC', 'ETH')))),
          0::bigint, 'no market of one DEX is listed under the other');

-- ticker: context of xyz:XYZ100 (index 0) and the best levels and time of its book.
-- by hand: notional = 1873.4412 x 25104.0 = 46836030.0 (x 25000) + 194837.8848 (x 104)
--   = 47030867.8848, at scale 4 + 1: 47030867.88480; change = 25104.0 - 25012.0 = 92.0
SELECT is((SELECT t::text FROM perps_stats.fetch_ticker('tradexyz', 'XYZ100') t),
          row('tradexyz', 'XYZ100', pg_temp.ms(1796565612345), NULL::numeric, '25104.0'::numeric,
              '25101.3'::numeric, '25103.0'::numeric, '0.8812'::numeric, '25104.0'::numeric,
              '0.6139'::numeric, '16466.2213'::numeric, '412893012.4418290001'::numeric,
              '1873.4412'::numeric, '47030867.88480'::numeric, '92.0'::numeric, NULL::numeric,
              NULL::numeric, NULL::numeric)::text,
          'tradexyz ticker XYZ100: context values, best bid/ask and time of the book, exact notional and change');

-- all tickers: the six contexts of metaAndAssetCtxs dex xyz, no time
CREATE TEMP TABLE xt AS SELECT * FROM perps_stats.fetch_tickers('tradexyz');
SELECT is((SELECT array_agg(symbol ORDER BY symbol) FROM xt), ARRAY['GOLD', 'INTC', 'NVDA', 'SILVER', 'TSLA', 'XYZ100'],
          'tradexyz all tickers: the DEX''s six coins, under their global symbols');
-- TSLA: notional = 41234.817 x 433.47 = 16493926.8 (x 400) + 1360748.961 (x 33)
--   + 19380.36399 (x 0.47) = 17874056.12499; change = 433.47 - 428.91 = 4.56
SELECT is((SELECT row(ts, mark_price, index_price, volume_24h, turnover_24h, open_interest, open_interest_notional,
                      price_change_24h)::text FROM xt WHERE symbol = 'TSLA'),
          row(NULL::timestamptz, '433.47'::numeric, '433.52'::numeric, '182334.112'::numeric,
              '78812345.66901'::numeric, '41234.817'::numeric, '17874056.12499'::numeric, '4.56'::numeric)::text,
          'tradexyz all tickers: the TSLA context, exact notional and change');
-- GOLD: notional = 3127.8841 x 4211.5 = 12511536.4 (x 4000) + 625576.82 (x 200)
--   + 35970.66715 (x 11.5) = 13173083.88715; NVDA: 96012.554 x 184.99 = 17762322.49 (x 185)
--   - 960.12554 (x 0.01) = 17761362.36446, and it fell: 184.99 - 186.33 = -1.34
SELECT is((SELECT string_agg(symbol || ':' || open_interest_notional || ':' || price_change_24h, ',' ORDER BY symbol)
             FROM xt WHERE symbol IN ('GOLD', 'NVDA')),
          'GOLD:13173083.88715:7.4,NVDA:17761362.36446:-1.34',
          'tradexyz all tickers: GOLD notional, NVDA change negative');

-- order book of xyz:XYZ100: five levels a side, best first
SELECT is((SELECT row(ts, bids[1:1], asks[5:5], array_length(bids, 1), array_length(asks, 1), seq)::text
           FROM perps_stats.fetch_orderbook('tradexyz', 'XYZ100')),
          row(pg_temp.ms(1796565612345), '{{25103.0,0.8812}}'::numeric[], '{{25112.0,15.2}}'::numeric[],
              5, 5, NULL::bigint)::text,
          'tradexyz order book XYZ100: five levels a side, no sequence');
SELECT is((SELECT row(bids, asks)::text FROM perps_stats.fetch_orderbook('tradexyz', 'XYZ100', 2)),
          row('{{25103.0,0.8812},{25102.5,1.2047}}'::numeric[], '{{25104.0,0.6139},{25105.5,2.0}}'::numeric[])::text,
          'tradexyz order book XYZ100 depth 2');

-- funding rate: the context's funding; hourly, the hour of the book's time
-- (14:00:12.345 -> 14:00, next 15:00); no prediction on a HIP-3 DEX
SELECT is((SELECT row(funding_time, rate, predicted_rate, interval_hours, next_funding_time)::text
           FROM perps_stats.fetch_funding_rate('tradexyz', 'XYZ100')),
          row(pg_temp.ms(1796565600000), '0.00000625'::numeric, NULL::numeric, 1::numeric,
              pg_temp.ms(1796569200000))::text,
          'tradexyz funding rate XYZ100: current rate, the hour of the book, no predicted rate');

-- funding history from 11:00 (1796554800000) to 13:00 (1796562000000): the
-- 10:00:00.019 row is before the range, the 13:00:00.004 one after its end
SELECT results_eq(
    $$SELECT funding_time, rate::text
      FROM perps_stats.fetch_funding_history('tradexyz', 'XYZ100', pg_temp.ms(1796554800000), pg_temp.ms(1796562000000))$$,
    $$VALUES (pg_temp.ms(1796554800031), '0.00000625'), (pg_temp.ms(1796558400118), '-0.0000014892')$$,
    'tradexyz funding history XYZ100: the two rows in range, to the millisecond');

-- open interest: the context's openInterest at the book's time, notional as above
SELECT is((SELECT row(o.*)::text FROM perps_stats.fetch_open_interest('tradexyz', 'XYZ100') o),
          row('tradexyz', 'XYZ100', pg_temp.ms(1796565612345), '1873.4412'::numeric, '47030867.88480'::numeric)::text,
          'tradexyz open interest XYZ100');

-- klines 1h, 11:00 to 13:00: three candles (o, h, l, c read off the file's o, c, h, l)
SELECT results_eq(
    $$SELECT open_time, close_time, open::text, high::text, low::text, close::text, volume::text, turnover, trade_count
      FROM perps_stats.fetch_klines('tradexyz', 'XYZ100', '1h', pg_temp.ms(1796554800000), pg_temp.ms(1796562000000))$$,
    $$VALUES (pg_temp.ms(1796554800000), pg_temp.ms(1796558399999), '25061.5', '25097.5', '25049.0', '25088.0', '312.4418', NULL::numeric, 1873::bigint),
             (pg_temp.ms(1796558400000), pg_temp.ms(1796561999999), '25088.0', '25110.0', '25071.0', '25079.5', '287.0093', NULL, 1604),
             (pg_temp.ms(1796562000000), pg_temp.ms(1796565599999), '25079.5', '25106.5', '25066.5', '25101.0', '198.7761', NULL, 1210)$$,
    'tradexyz klines XYZ100 1h: the three candles');

-- recent trades, oldest first; A: the taker sold, B: bought; 9007199254740995 > 2^53
SELECT results_eq(
    $$SELECT trade_id, ts, price::text, qty::text, side FROM perps_stats.fetch_trades('tradexyz', 'XYZ100')$$,
    $$VALUES ('438120918273645', pg_temp.ms(1796565611874), '25103.0', '0.0519', 'sell'),
             ('9007199254740995', pg_temp.ms(1796565612011), '25104.0', '0.2', 'buy'),
             ('438120918273702', pg_temp.ms(1796565612208), '25104.0', '0.0007', 'buy')$$,
    'tradexyz trades XYZ100: exact ids, times, sizes and taker sides');

-- rate limit: Hyperliquid's, one account with the main DEX (the adapter's)
SELECT is((SELECT row(kline_page, funding_page, rate_weight, rate_window_ms, no_trades_history IS NOT NULL)::text
           FROM perps_stats.adapter_limits('tradexyz')),
          row(500, 500, 1200, 60000, true)::text, 'tradexyz: the hyperliquid adapter''s pages and rate limit');
CREATE TEMP TABLE r0 AS SELECT coalesce(sum(requests), 0) AS n FROM perps_stats.rate_limits WHERE exchange = 'hyperliquid';
SELECT lives_ok($$SELECT * FROM perps_stats.fetch_orderbook('tradexyz', 'XYZ100', 1)$$, 'one more tradexyz request');
SELECT ok((SELECT coalesce(sum(requests), 0) FROM perps_stats.rate_limits WHERE exchange = 'hyperliquid') > (SELECT n FROM r0)
          AND NOT EXISTS (SELECT 1 FROM perps_stats.rate_limits WHERE exchange = 'tradexyz'),
          'tradexyz requests take from the hyperliquid account, there is no tradexyz account');

-- collect(): a watched XYZ100 goes through the same adapter, dex and all
INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('tradexyz', 'XYZ100', true, false);
CREATE TEMP TABLE c1 AS SELECT * FROM perps_stats.collect('{tradexyz}', '{XYZ100}');
SELECT is((SELECT string_agg(kind || ':' || (rows > 0) || ':' || coalesce(error, '-'), ',' ORDER BY kind) FROM c1),
          'funding:true:-,open_interest:true:-,orderbook:true:-,ticker:true:-',
          'tradexyz collect XYZ100: ticker, open interest, funding and book written');
SELECT is((SELECT row(f.funding_time, f.rate, f.interval_hours, t.mark_price, t.open_interest_notional)::text
             FROM perps_stats.funding_rates f, perps_stats.tickers t
            WHERE f.market_id = t.market_id
              AND f.market_id = (SELECT id FROM perps_stats.markets WHERE exchange_id = 13 AND symbol = 'XYZ100')),
          row(pg_temp.ms(1796569200000), 0.00000625, 1::numeric, 25104.0, 47030867.88480)::text,
          'tradexyz collect: the funding rate stored at its settlement (15:00, the next funding time), and the ticker');

-- errors: a coin the DEX does not list (BTC is the main DEX's)
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('tradexyz', 'BTC')$$, '42704', NULL,
                 'tradexyz has no BTC: the main DEX''s coins are not its');
-- another HIP-3 DEX is one row; one the venue does not know answers null
INSERT INTO perps_stats.exchanges (id, name, rest_url, adapter, adapter_param)
    VALUES (14, 'nodex', :'mock_url' || '/hyperliquid', 'hyperliquid', 'nodex');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_markets('nodex')$$, '42704', NULL,
                 'a DEX unknown to the venue: meta answers null');

SELECT * FROM finish();
ROLLBACK;
