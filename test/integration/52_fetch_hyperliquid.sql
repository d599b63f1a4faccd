-- fetch_* against the mock Hyperliquid (POST /info) serving the project's own
-- payloads (test/payloads).  Expected values are read off those files by hand:
--   hyperliquid/fetchMarkets.meta.json (meta: 12 coins, FTM delisted),
--   fetchMarkets.meta_nautilus.json with websocket/hyperliquid/allDexsAssetCtxs.trimmed.json
--   (metaAndAssetCtxs: BTC, ETH, SOL, HYPE, FTM, MON, contexts in that order),
--   websocket/hyperliquid/l2Book.json (l2Book BTC), fetchOrderBook.l2Book.json (ETH),
--   fetchOHLCV.ccxt_btc_perp.json (BTC 1m), fetchOHLCV.candleSnapshot.json (kPEPE 1h),
--   fetchFundingRateHistory.fundingHistory.json (BTC hourly), websocket/hyperliquid/trades.json.
-- predictedFundings and long ranges are the mock's documented-format data.
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(29);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/hyperliquid' WHERE name = 'hyperliquid';
CREATE FUNCTION pg_temp.ms(bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$ SELECT to_timestamp(0) + $1 * interval '1 millisecond' $$;

-- markets (meta: 12 coins; lot = 10^-szDecimals; USDC-margined; min order 10 USDC; hourly funding)
CREATE TEMP TABLE hm AS SELECT * FROM perps_stats.fetch_markets('hyperliquid');
SELECT is((SELECT count(*) FROM hm), 12::bigint, 'hyperliquid markets: the 12 coins of meta, the delisted one included');
SELECT is((SELECT row(m.*)::text FROM hm m WHERE symbol = 'BTC'),
          row('BTC', 'BTC', 'BTC', 'USDC', 1::numeric, NULL::numeric, '0.00001'::numeric, '0.00001'::numeric,
              NULL::numeric, 10::numeric, 40::numeric, 1::numeric)::text,
          'hyperliquid BTC market: szDecimals 5, maxLeverage 40, no fixed tick');
SELECT is((SELECT row(native_symbol, lot_size, max_leverage)::text FROM hm WHERE symbol = 'kPEPE'),
          row('kPEPE', 1::numeric, 10::numeric)::text, 'hyperliquid kPEPE: coin is the symbol both ways, szDecimals 0');
SELECT is((SELECT string_agg(symbol || ':' || lot_size, ',' ORDER BY symbol) FROM hm WHERE symbol IN ('ETH', 'SOL', 'LINK')),
          'ETH:0.0001,LINK:0.1,SOL:0.01', 'hyperliquid lots: szDecimals 4, 1 and 2');

-- ticker: asset context of BTC and the best levels and time of the BTC l2Book.
-- by hand: notional = 31877.4401999999 x 97118.0
--   = 3187744019.99999 (x 100000) - 91870782.6563997118 (x 2882) = 3095873237.3435902882,
--   at scale 10 + 1: 3095873237.34359028820; change = 97118.0 - 95874.0 = 1244.0
SELECT is((SELECT t::text FROM perps_stats.fetch_ticker('hyperliquid', 'BTC') t),
          row('hyperliquid', 'BTC', pg_temp.ms(1795530690417), NULL::numeric, '97118.0'::numeric,
              '97152.0'::numeric, '97120.0'::numeric, '0.41237'::numeric, '97121.0'::numeric,
              '1.20815'::numeric, '29384.91737'::numeric, '2846127309.8127340156'::numeric,
              '31877.4401999999'::numeric, '3095873237.34359028820'::numeric, '1244.0'::numeric, NULL::numeric,
              NULL::numeric, NULL::numeric)::text,
          'hyperliquid ticker BTC: context values, best bid/ask and time of the book, exact notional and change');

-- all tickers map native symbols through perps_stats.markets: load it first.
-- (pg_regress inserts a market with an explicit id 1: move the identity past it.)
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1));
SELECT is(perps_stats.refresh_markets('hyperliquid'), 12, 'hyperliquid refresh_markets upserts the 12 markets');
SELECT is((SELECT string_agg(symbol, ',' ORDER BY symbol) FROM perps_stats.markets m
            WHERE exchange_id = (SELECT id FROM perps_stats.exchanges WHERE name = 'hyperliquid') AND NOT active),
          'FTM', 'hyperliquid: the coin meta marks isDelisted is an inactive market');
-- all tickers: one per coin of metaAndAssetCtxs that perps_stats.markets knows
-- (MON, listed since that meta, is not); no time in that answer
CREATE TEMP TABLE ht AS SELECT * FROM perps_stats.fetch_tickers('hyperliquid');
SELECT is((SELECT array_agg(symbol ORDER BY symbol) FROM ht), ARRAY['BTC', 'ETH', 'FTM', 'HYPE', 'SOL'],
          'hyperliquid all tickers: every known coin of the answer, the unknown MON left out');
SELECT is((SELECT row(ts, mark_price, index_price, volume_24h, turnover_24h, open_interest, price_change_24h)::text
           FROM ht WHERE symbol = 'ETH'),
          row(NULL::timestamptz, '3612.4'::numeric, '3612.8'::numeric, '329781.4215999998'::numeric,
              '1184702915.4410238761'::numeric, '712904.1187999999'::numeric, '40.5'::numeric)::text,
          'hyperliquid all tickers: the ETH context (change 3612.4 - 3571.9 = 40.5)');
-- HYPE: notional = 28719330.56 x 42.426 = 1218446318.33856 (x 42 = 1206211883.52, x 0.426 = 12234434.81856)
SELECT is((SELECT row(open_interest, open_interest_notional, price_change_24h)::text FROM ht WHERE symbol = 'HYPE'),
          row('28719330.56'::numeric, '1218446318.33856'::numeric, '0.553'::numeric)::text,
          'hyperliquid all tickers: HYPE notional and change (42.426 - 41.873)');
-- FTM, delisted: premium, midPx and impactPxs are null, the volumes zero
SELECT is((SELECT row(mark_price, index_price, volume_24h, open_interest, open_interest_notional, price_change_24h)::text
           FROM ht WHERE symbol = 'FTM'),
          row('0.6731'::numeric, '0.6729'::numeric, '0.0'::numeric, '0.0'::numeric, '0.00000'::numeric,
              '0.0000'::numeric)::text,
          'hyperliquid all tickers: the delisted FTM context with its null fields');

-- order books
SELECT is((SELECT row(ts, bids[1:1], bids[4:4], asks[20:20], array_length(bids, 1), array_length(asks, 1), seq)::text
           FROM perps_stats.fetch_orderbook('hyperliquid', 'BTC')),
          row(pg_temp.ms(1795530690417), '{{97120.0,0.41237}}'::numeric[], '{{97115.0,0.25}}'::numeric[],
              '{{97281.0,3.6}}'::numeric[], 20, 20, NULL::bigint)::text,
          'hyperliquid order book BTC: 20 levels a side, best first, no sequence');
SELECT is((SELECT row(ts, bids, asks)::text FROM perps_stats.fetch_orderbook('hyperliquid', 'ETH', 3)),
          row(pg_temp.ms(1795530691226), '{{3612.4,12.4817},{3612.3,0.0414},{3612.1,5.5}}'::numeric[],
              '{{3612.5,8.0216},{3612.6,0.533},{3612.8,14.1}}'::numeric[])::text,
          'hyperliquid order book ETH depth 3: the REST book cut to 3');

-- funding rate: funding of the BTC context; next time and interval from predictedFundings (HlPerp)
SELECT is((SELECT row(rate, predicted_rate, interval_hours, next_funding_time - funding_time)::text
           FROM perps_stats.fetch_funding_rate('hyperliquid', 'BTC')),
          row('0.0000093412'::numeric, '0.0000093412'::numeric, 1::numeric, interval '1 hour')::text,
          'hyperliquid funding rate BTC: hourly, current context rate');
SELECT ok((SELECT next_funding_time > now() - interval '1 minute'
                  AND next_funding_time <= now() + interval '61 minutes'
                  AND extract(epoch FROM next_funding_time)::bigint % 3600 = 0
           FROM perps_stats.fetch_funding_rate('hyperliquid', 'BTC')),
          'hyperliquid next funding: the next whole hour');

-- funding history: the BTC rows from 2026-11-24 01:00 to 04:00 (1795482000000 ..
-- 1795492800000 ms); the 00:00:00.041 row is before the range, the
-- 04:00:00.236 one after its end
SELECT results_eq(
    $$SELECT funding_time, rate::text, interval_hours
      FROM perps_stats.fetch_funding_history('hyperliquid', 'BTC', pg_temp.ms(1795482000000), pg_temp.ms(1795492800000))$$,
    $$VALUES (pg_temp.ms(1795482000027), '0.0000109342', NULL::numeric),
             (pg_temp.ms(1795485600113), '-0.0000037615', NULL),
             (pg_temp.ms(1795489200008), '0.0000125', NULL)$$,
    'hyperliquid funding history BTC: three hourly rows to the millisecond');
-- generated hourly history over 31 days: 745 rows, more than one page of 500
SELECT is((SELECT row(count(*), count(DISTINCT funding_time))::text
           FROM perps_stats.fetch_funding_history('hyperliquid', 'ETH', '2024-01-01', '2024-02-01 00:30')),
          row(745::bigint, 745::bigint)::text, 'hyperliquid funding history over 745 hours: paged');
SELECT is((SELECT count(*) FROM perps_stats.fetch_funding_history('hyperliquid', 'ETH', '2024-01-01', NULL, 7)),
          7::bigint, 'hyperliquid funding history max_rows 7');

-- open interest: BTC context openInterest, time of the BTC book, notional as above
SELECT is((SELECT row(o.*)::text FROM perps_stats.fetch_open_interest('hyperliquid', 'BTC') o),
          row('hyperliquid', 'BTC', pg_temp.ms(1795530690417), '31877.4401999999'::numeric,
              '3095873237.34359028820'::numeric)::text,
          'hyperliquid open interest BTC in BTC, notional at markPx 97118.0');

-- klines: BTC 1m (t, T, n as strings in that file), kPEPE 1h
SELECT results_eq(
    $$SELECT open_time, close_time, open::text, high::text, low::text, close::text, volume::text, turnover, trade_count
      FROM perps_stats.fetch_klines('hyperliquid', 'BTC', '1m', pg_temp.ms(1795530480000), pg_temp.ms(1795530659999))$$,
    $$VALUES (pg_temp.ms(1795530480000), pg_temp.ms(1795530539999), '97088.0', '97112.0', '97071.0', '97104.0', '18.40219', NULL::numeric, 212::bigint),
             (pg_temp.ms(1795530540000), pg_temp.ms(1795530599999), '97104.0', '97139.0', '97098.0', '97131.0', '9.77153', NULL, 147),
             (pg_temp.ms(1795530600000), pg_temp.ms(1795530659999), '97131.0', '97146.0', '97113.0', '97120.0', '23.11874', NULL, 305)$$,
    'hyperliquid klines BTC 1m: the three candles, times and counts sent as strings');
-- kPEPE 1h: 2026-11-23 18:00 (1795456800000) to 23:00 (1795474800000), six candles,
-- the last closing at 1795474800000 + 3599999 = 1795478399999
SELECT is((SELECT row(count(*), min(open_time), max(close_time))::text
           FROM perps_stats.fetch_klines('hyperliquid', 'kPEPE', '1h', pg_temp.ms(1795456800000), pg_temp.ms(1795474800000))),
          row(6::bigint, pg_temp.ms(1795456800000), pg_temp.ms(1795478399999))::text,
          'hyperliquid klines kPEPE 1h: the six candles');
SELECT is((SELECT row(open, high, low, close, volume, trade_count)::text
           FROM perps_stats.fetch_klines('hyperliquid', 'kPEPE', '1h', pg_temp.ms(1795474800000), pg_temp.ms(1795474800000))),
          row('0.012517'::numeric, '0.012529'::numeric, '0.012462'::numeric, '0.012488'::numeric,
              '146082739.0'::numeric, 602::bigint)::text,
          'hyperliquid klines kPEPE: the last candle, six decimals');
SELECT is((SELECT row(count(*), count(DISTINCT open_time), min(open_time), max(open_time))::text
           FROM perps_stats.fetch_klines('hyperliquid', 'ETH', '1h', '2024-01-01', '2024-02-01')),
          row(745::bigint, 745::bigint, '2024-01-01 00:00+00'::timestamptz, '2024-02-01 00:00+00'::timestamptz)::text,
          'hyperliquid klines ETH 1h over 745 hours: two pages of 500, no gap');

-- recent trades: the four BTC trades, oldest first; B: the taker bought, A: sold;
-- tid 9007199254740993 is 2^53 + 1, which a double cannot hold
SELECT results_eq(
    $$SELECT trade_id, ts, price::text, qty::text, side FROM perps_stats.fetch_trades('hyperliquid', 'BTC')$$,
    $$VALUES ('812734901276534', pg_temp.ms(1795530692005), '97121.0', '0.0481', 'buy'),
             ('9007199254740993', pg_temp.ms(1795530692118), '97123.0', '0.00142', 'buy'),
             ('1042387164952177', pg_temp.ms(1795530693540), '97119.0', '0.31', 'sell'),
             ('1042387164952178', pg_temp.ms(1795530693871), '97117.0', '0.00011', 'sell')$$,
    'hyperliquid trades BTC: tid exact beyond 2^53, time, price, size, taker side');
SELECT is((SELECT count(*) FROM perps_stats.fetch_trades('hyperliquid', 'BTC', 2)), 2::bigint,
          'hyperliquid trades max_rows 2');

-- errors: l2Book answers null for an unknown coin
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('hyperliquid', 'NOPE')$$, '42704', NULL,
                 'hyperliquid unknown coin');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('hyperliquid', 'BTC', '2w')$$, '22023', NULL,
                 'hyperliquid unknown interval');
-- kPEPE is in meta but has no context in metaAndAssetCtxs
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('hyperliquid', 'kPEPE')$$, '42704', NULL,
                 'hyperliquid ticker of a coin without an asset context');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('hyperliquid', 'BTC', now() - interval '1 hour')$$, '0A000', NULL,
                 'hyperliquid has no trade history over a time range');

SELECT * FROM finish();
ROLLBACK;
