-- fetch_* against the GRVT mock (test/mock/venues/grvt.py) serving the
-- project's own payloads (test/payloads/grvt, written from GRVT's API
-- documentation, api-docs.grvt.io "MarketData APIs": POST JSON bodies to
-- /full/v1/..., times in unix nanoseconds as strings).  Expected values are
-- worked out by hand from those payloads and from the formulas of the mock's
-- generated history (its docstring), never from this code's output.  The
-- mock's "now" is 2026-12-01 09:15:00 UTC; 2026-12-01 00:00 UTC is
-- 1796083200000 ms.
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SELECT plan(35);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/grvt' WHERE name = 'grvt';

-- ---- the venue row
SELECT results_eq(
    $$SELECT id, rest_url LIKE '%/grvt', ws_url, maker_fee, taker_fee FROM perps_stats.exchanges WHERE name = 'grvt'$$,
    $$VALUES (11::smallint, true, 'wss://market-data.grvt.io/ws/full', 0.00027::numeric, 0.00055::numeric)$$,
    'exchanges: grvt is id 11 with its market-data stream URL and first-tier fees (2.7 bps maker, 5.5 bps taker)');

-- ---- markets: fetchMarkets.instruments.json lists 7 instruments; kept are the 4 active
-- perpetuals BTC, DOGE, ETH, SOL; left out are BTC_USDT_Fut_25Dec26 (FUTURE),
-- ETH_USDT_Call_25Dec26_4000 (CALL) and MOVE_USDT_Perp (is_active false)
SELECT is((SELECT string_agg(symbol, ',' ORDER BY symbol) FROM perps_stats.fetch_markets('grvt')),
          'BTC,DOGE,ETH,SOL', 'fetch_markets: the active perpetuals only');
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty,
             min_notional, max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('grvt') WHERE symbol = 'BTC'$$,
    $$VALUES ('BTC', 'BTC_USDT_Perp', 'BTC', 'USDT', 1::numeric, 0.1::numeric, 0.001::numeric, 0.001::numeric,
              1000.000::numeric, NULL::numeric, NULL::numeric, 8::numeric)$$,
    'fetch_markets: BTC_USDT_Perp: tick_size, min_size as lot and minimum, max_position_size, 8 h funding');
SELECT is((SELECT string_agg(symbol || ' ' || tick_size || ' ' || lot_size || ' ' || coalesce(max_qty::text, '-') || ' '
                             || funding_interval_hours, ', ' ORDER BY symbol)
             FROM perps_stats.fetch_markets('grvt') WHERE symbol <> 'BTC'),
          'DOGE 0.000001 1 - 1, ETH 0.01 0.01 15000.00 4, SOL 0.0010 0.1 250000.0 4',
          'fetch_markets: sizes as sent (trailing zeros kept), no max_position_size is NULL, 1, 4 and 8 h intervals');
SELECT is(perps_stats.refresh_markets('grvt'), 4, 'refresh_markets upserts 4 markets');
SELECT is((SELECT string_agg(m.native_symbol, ',' ORDER BY m.native_symbol) FROM perps_stats.markets m
             JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = 'grvt' AND m.active),
          'BTC_USDT_Perp,DOGE_USDT_Perp,ETH_USDT_Perp,SOL_USDT_Perp', 'markets: native symbols, all active, no MOVE');

-- ---- ticker: fetchTicker.BTC_USDT_Perp.json
-- ts: event_time 1796116499123456789 ns = 1796116499 s (00:00 + 33299 s = 09:14:59) + 123456 us
--     (the last 789 ns truncated)
-- volume_24h = buy 6102.557 + sell 5987.031 = 12089.588 (base)
-- turnover_24h = 592103337.4410 + 580870213.12345678901234567890 = 1172973550.56445678901234567890
-- open_interest_notional = 2210.448 x 97241.331877212345678901234
--     = 2210 x 97241.331877212345678901234 (= 214903343.448639283950371727140)
--     + 0.448 x 97241.331877212345678901234 (= 43564.116680991130864147752832)
--     = 214946907.565320275081235874892832 (24 decimals: 3 + 21)
-- price_change_24h = last 97244.8 - open_price 96307.9 = 936.9; no percentage (GRVT sends none)
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty,
             best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional,
             price_change_24h, price_change_pct, high_24h, low_24h
        FROM perps_stats.fetch_ticker('grvt', 'BTC')$$,
    $$VALUES ('grvt', 'BTC', '2026-12-01 09:14:59.123456+00'::timestamptz, 97244.8::numeric,
              97241.331877212345678901234::numeric, 97250.120000000::numeric, 97244.7::numeric, 2.318::numeric,
              97244.8::numeric, 0.442::numeric, 12089.588::numeric, 1172973550.56445678901234567890::numeric,
              2210.448::numeric, 214946907.565320275081235874892832::numeric,
              936.9::numeric, NULL::numeric, 98120.5::numeric, 96011.2::numeric)$$,
    'fetch_ticker: every field; volumes the taker buys plus sells; notional = open interest x mark');
SELECT is((SELECT mark_price::text || ' ' || turnover_24h::text || ' ' || open_interest_notional::text
             FROM perps_stats.fetch_ticker('grvt', 'BTC')),
          '97241.331877212345678901234 1172973550.56445678901234567890 214946907.565320275081235874892832',
          'fetch_ticker: 21-, 20- and 24-decimal values exactly, to the last digit');
-- ETH: the older field names buy_volume_24h_u / sell_volume_24h_u: 301022.11 + 311022.10 = 612044.21;
-- 1061190387.9 + 1095200387.96044501128734567890 = 2156390775.86044501128734567890; no open_price:
-- no change; notional 61450.22 x 3520.98712345678901234567 = 216365433.3535868453022241375474
SELECT results_eq(
    $$SELECT ts, volume_24h, turnover_24h, price_change_24h, open_interest_notional
        FROM perps_stats.fetch_ticker('grvt', 'ETH')$$,
    $$VALUES ('2026-12-01 09:14:58+00'::timestamptz, 612044.21::numeric, 2156390775.86044501128734567890::numeric,
              NULL::numeric, 216365433.3535868453022241375474::numeric)$$,
    'fetch_ticker: the documentation''s older volume names, and no change without an open price');

-- ---- all tickers: one instrument a request on GRVT
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_tickers('grvt')$$, '0A000',
                 'grvt has no public endpoint for all tickers',
                 'fetch_tickers: GRVT has no endpoint for all tickers');

-- ---- open interest: the ticker's, in base units
SELECT results_eq(
    $$SELECT exchange, symbol, ts, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('grvt', 'BTC')$$,
    $$VALUES ('grvt', 'BTC', '2026-12-01 09:14:59.123456+00'::timestamptz, 2210.448::numeric,
              214946907.565320275081235874892832::numeric)$$,
    'fetch_open_interest: the ticker''s open interest and its notional at the mark');

-- ---- order book: fetchOrderBook.BTC_USDT_Perp.json (12 levels a side, objects {price, size, num_orders})
-- event_time 1796116496795000123 ns = 09:14:56.795000 (123 ns truncated)
SELECT results_eq(
    $$SELECT exchange, symbol, ts, bids, asks, seq FROM perps_stats.fetch_orderbook('grvt', 'BTC', 3)$$,
    $$VALUES ('grvt', 'BTC', '2026-12-01 09:14:56.795+00'::timestamptz,
              '{{97244.7,2.318},{97244.1,0.030},{97243.0,0.12345678901234567890123}}'::numeric[],
              '{{97244.8,0.442},{97245.5,0.917},{97247.2,2.004}}'::numeric[], NULL::bigint)$$,
    'fetch_orderbook: 3 levels a side, best first, a 23-decimal size exact, no sequence number');
SELECT is((SELECT array_length(bids, 1) || 'x' || array_length(bids, 2) || ' ' || array_length(asks, 1) || ' '
                  || bids[12][1] || '/' || bids[12][2] || ' ' || asks[12][1] || '/' || asks[12][2]
             FROM perps_stats.fetch_orderbook('grvt', 'BTC')),
          '12x2 12 97228.4/0.620 97262.9/1.221', 'fetch_orderbook: the whole book, the last levels exact');

-- ---- funding rate: the ticker's funding_rate in percent, for next_funding_time, with the
-- instrument's interval: BTC 0.0087 % = 0.000087 for 1796140800000000000 ns = 16:00, 8 h;
-- ETH -0.0123 % = -0.000123 for 1796126400000000000 ns = 12:00, 4 h
SELECT results_eq(
    $$SELECT exchange, symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('grvt', 'BTC')$$,
    $$VALUES ('grvt', 'BTC', '2026-12-01 16:00:00+00'::timestamptz, 0.000087::numeric, NULL::numeric,
              '2026-12-01 16:00:00+00'::timestamptz, 8::numeric)$$,
    'fetch_funding_rate: 0.0087 % as the fraction 0.000087, for the next funding time, 8 h');
SELECT is((SELECT rate::text || ' ' || funding_time || ' ' || interval_hours FROM perps_stats.fetch_funding_rate('grvt', 'ETH')),
          '-0.000123 2026-12-01 12:00:00+00 4', 'fetch_funding_rate: a negative rate; ETH settles every 4 h');

-- ---- klines: the three 1m candles of fetchOHLCV.BTC_USDT_Perp.json (newest first on the wire);
-- close_time 1796116379999999999 ns = 09:12:59.999999 (999 ns truncated)
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('grvt', 'BTC', '1m', '2026-12-01 09:12:00+00', '2026-12-01 09:14:00+00')$$,
    $$VALUES ('2026-12-01 09:12:00+00'::timestamptz, '2026-12-01 09:12:59.999999+00'::timestamptz,
              97198.3::numeric, 97221.0::numeric, 97190.1::numeric, 97215.6::numeric, 38.412::numeric, 3733795.04413::numeric, 812::bigint),
             ('2026-12-01 09:13:00+00', '2026-12-01 09:13:59.999999+00', 97215.6, 97250.0, 97209.9, 97238.2, 51.007,
              4959770.90117340028111234567, 1190),
             ('2026-12-01 09:14:00+00', '2026-12-01 09:14:59.999999+00', 97238.2, 97251.2, 97230.4, 97244.8, 22.930, 2229817.15520, 604)$$,
    'fetch_klines: the candles of the payload, oldest first, exact');
SELECT is((SELECT turnover::text FROM perps_stats.fetch_klines('grvt', 'BTC', '1m', '2026-12-01 09:13:00+00', '2026-12-01 09:13:00+00')),
          '4959770.90117340028111234567', 'fetch_klines: a 20-decimal quote volume as sent');
-- a generated 1h candle: 08:00 is 1796112000000 ms, i = 1796112000000 / 3600000 = 498920;
-- 498920 = 83 x 6011 + 7: open 97000.7, high + 7 = 97007.7, low - 6 = 96994.7, close + 2 = 97002.7;
-- 498920 mod 9 = 5 (digit sum 32): volume (1 + 5) / 10 = 0.6, turnover 97000.7 x 0.6 = 58200.42;
-- 498920 = 13 x 38378 + 6: trades 16; close 08:00 + 3600 s - 1 ns = 08:59:59.999999
SELECT results_eq(
    $$SELECT close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('grvt', 'BTC', '1h', '2026-12-01 08:00:00+00', '2026-12-01 08:00:00+00')$$,
    $$VALUES ('2026-12-01 08:59:59.999999+00'::timestamptz, 97000.7::numeric, 97007.7::numeric, 96994.7::numeric,
              97002.7::numeric, 0.6::numeric, 58200.42::numeric, 16::bigint)$$,
    'fetch_klines: 1h interval (CI_1_H)');
-- paging: 2026-11-30 00:00 .. 2026-12-01 09:14 is 1440 + 9 x 60 + 14 + 1 = 1995 candles, two windows of 1000
SELECT is((SELECT count(*) || ' ' || count(DISTINCT open_time) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('grvt', 'BTC', '1m', '2026-11-30 00:00:00+00', '2026-12-01 09:14:00+00')),
          '1995 1995 2026-11-30 00:00:00+00 2026-12-01 09:14:00+00', 'fetch_klines: two pages, no gap, no duplicate');
-- without since: one page of GRVT's default 500 ending at until: 09:14 - 499 minutes = 00:55
SELECT is((SELECT count(*) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('grvt', 'BTC', '1m', NULL, '2026-12-01 09:14:00+00')),
          '500 2026-12-01 00:55:00+00 2026-12-01 09:14:00+00', 'fetch_klines: without since, one page of the default 500');

-- ---- funding history: fetchFundingRateHistory.BTC_USDT_Perp.json has 2026-11-30 16:00 (0.00123456789012345678901 %),
-- 2026-12-01 00:00 (-0.0037 %) and 08:00 (0.0100 %); 2026-11-30 08:00 is generated: 1796025600000 ms,
-- k = 1796025600000 / 28800000 = 62362 = 7 x 8908 + 6, (6 - 3) x 0.0025 = 0.0075 %
SELECT results_eq(
    $$SELECT funding_time, rate, interval_hours FROM perps_stats.fetch_funding_history('grvt', 'BTC', '2026-11-30 08:00:00+00', NULL, 4)$$,
    $$VALUES ('2026-11-30 08:00:00+00'::timestamptz, 0.000075::numeric, 8::numeric),
             ('2026-11-30 16:00:00+00', 0.0000123456789012345678901, 8), ('2026-12-01 00:00:00+00', -0.000037, 8),
             ('2026-12-01 08:00:00+00', 0.000100, 8)$$,
    'fetch_funding_history: percent as fractions, oldest first, the interval of each settlement');
SELECT is((SELECT string_agg(rate::text, ' ' ORDER BY funding_time)
             FROM perps_stats.fetch_funding_history('grvt', 'BTC', '2026-11-30 16:00:00+00', '2026-12-01 08:00:00+00')),
          '0.0000123456789012345678901 -0.000037 0.000100', 'fetch_funding_history: a 23-decimal percent moved two places, exactly');
-- ETH settles every 4 h: 00:00 is k = 1796083200000 / 14400000 = 124728 = 7 x 17818 + 2: -0.0025 %;
-- 04:00 k mod 7 = 3: 0; 08:00: 4: 0.0025 % (trim_scale: the zero's scale is not what is tested)
SELECT is((SELECT string_agg(to_char(funding_time AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || trim_scale(rate) || ' ' || interval_hours, ', '
                             ORDER BY funding_time)
             FROM perps_stats.fetch_funding_history('grvt', 'ETH', '2026-12-01 00:00:00+00', '2026-12-01 09:14:00+00')),
          '00:00 -0.000025 4, 04:00 0 4, 08:00 0.000025 4', 'fetch_funding_history: 4-hourly settlements of ETH');
-- 2026-01-01 .. 2026-12-01 09:14: 334 whole days x 3 + 00:00 and 08:00 of 2026-12-01 = 1004, two cursor pages
SELECT is((SELECT count(*) || ' ' || count(DISTINCT funding_time)
             FROM perps_stats.fetch_funding_history('grvt', 'BTC', '2026-01-01 00:00:00+00', '2026-12-01 09:14:00+00')),
          '1004 1004', 'fetch_funding_history: pages through more than 1000 settlements with the cursor');

-- ---- recent trades: fetchTrades.BTC_USDT_Perp.json, newest first on the wire; is_taker_buyer is the side;
-- trade ids beyond 2^53 (9007199254740992) kept as text
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('grvt', 'BTC', 3)$$,
    $$VALUES ('23948219300000045-1', '2026-12-01 09:14:58.046+00'::timestamptz, 97244.8::numeric, 0.031::numeric, 'buy'),
             ('23948219300000102-1', '2026-12-01 09:14:58.530+00', 97244.8, 0.300, 'buy'),
             ('23948219300000230-1', '2026-12-01 09:14:59.001+00', 97244.7, 0.015, 'sell')$$,
    'fetch_trades: the most recent 3, oldest first: id as text, time, price, qty, taker side');
-- the two fills of one taker execution share the time 1796116497388123456 ns = 09:14:57.388123
SELECT is((SELECT count(*) || ' ' || count(*) FILTER (WHERE side = 'sell') || ' '
                  || string_agg(trade_id || '@' || to_char(ts AT TIME ZONE 'UTC', 'SS.US'), ' ' ORDER BY trade_id)
                    FILTER (WHERE trade_id LIKE '%00001-_')
             FROM perps_stats.fetch_trades('grvt', 'BTC')),
          '5 3 23948219300000001-1@57.388123 23948219300000001-2@57.388123',
          'fetch_trades: all 5, 3 sells; two fills of one execution, ids -1 and -2 at the same ns time');
-- trade history (generated): trade n at n x 750 ms; 09:00:00 = 1796115600000 ms = 750 x 2394820800;
-- up to 09:00:02 there are n = 2394820800, 801, 802 (at 0, 0.75 and 1.5 s).  2394820800 = 57 x 42014400:
-- prices 97000 + 0.0, 0.1, 0.2; n mod 40 = 0, 1, 2: sizes 0.001, 0.002, 0.003; 2394820800 is divisible by 3
-- (digit sum 36): a sell, the other two buys; ids n x 10^7 "-1"
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side
        FROM perps_stats.fetch_trades('grvt', 'BTC', '2026-12-01 09:00:00+00', '2026-12-01 09:00:02+00')$$,
    $$VALUES ('23948208000000000-1', '2026-12-01 09:00:00+00'::timestamptz, 97000.0::numeric, 0.001::numeric, 'sell'),
             ('23948208010000000-1', '2026-12-01 09:00:00.75+00', 97000.1, 0.002, 'buy'),
             ('23948208020000000-1', '2026-12-01 09:00:01.5+00', 97000.2, 0.003, 'buy')$$,
    'fetch_trades over a time range: trade_history, both ends inclusive');
-- 09:00 .. 09:15: the generated trades 2394820800 .. 2394821919 (1120, before 09:14:00) and the 5 recent ones:
-- 1125, more than a page of 1000
SELECT is((SELECT count(*) || ' ' || count(DISTINCT trade_id) || ' ' || max(trade_id)
             FROM perps_stats.fetch_trades('grvt', 'BTC', '2026-12-01 09:00:00+00', '2026-12-01 09:15:00+00')),
          '1125 1125 23948219300000230-1', 'fetch_trades over a time range: two cursor pages, no duplicate');

-- ---- collect: one round for BTC, all four kinds
CREATE TEMP TABLE r AS SELECT * FROM perps_stats.collect('{grvt}', '{BTC}');
SELECT results_eq(
    $$SELECT kind, rows, error IS NULL FROM r ORDER BY kind$$,
    $$VALUES ('funding', 1, true), ('open_interest', 1, true), ('orderbook', 18, true), ('ticker', 1, true)$$,
    'collect: ticker, open interest, funding and a book with its depth and 16 slippage rows');
SELECT is((SELECT last_price::text || ' ' || mark_price::text || ' ' || volume_24h::text FROM perps_stats.tickers t
             JOIN perps_stats.markets m ON m.id = t.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'grvt' AND m.symbol = 'BTC'),
          '97244.8 97241.331877212345678901234 12089.588', 'collect: the stored ticker');
SELECT is((SELECT rate::text || ' ' || funding_time || ' ' || interval_hours FROM perps_stats.funding_rates f
             JOIN perps_stats.markets m ON m.id = f.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'grvt' AND m.symbol = 'BTC'),
          '0.000087 2026-12-01 16:00:00+00 8', 'collect: the stored funding rate');
-- mid = (97244.7 + 97244.8) / 2 = 97244.75; 1 bps below: 97244.75 x 0.9999 = 97235.025525; bids at or above
-- it: the first 8 levels (97237.3 is, 97235.0 is not): 97244.7 x 2.318 + 97244.1 x 0.030
-- + 97243.0 x 0.12345678901234567890123 + 97242.5 x 1.105 + 97241.9 x 0.500 + 97240.0 x 3.210
-- + 97238.8 x 0.077 + 97237.3 x 1.000
--   = 225413.2146 + 2917.3230 + 12005.308533927530853392308890 + 107452.9625 + 48620.9500
--     + 312140.4000 + 7487.3876 + 97237.3000 = 813274.846233927530853392308890 (24 decimals: 1 + 23)
SELECT is((SELECT d.bid_1bps::text FROM perps_stats.liquidity_depth d
             JOIN perps_stats.markets m ON m.id = d.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'grvt' AND m.symbol = 'BTC'),
          '813274.846233927530853392308890', 'collect: liquidity within 1 bps of mid, from the 23-decimal book, exact');

-- ---- errors
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('grvt', 'NOPE')$$, '38000',
                 'grvt answered POST /full/v1/ticker with HTTP status 404',
                 'an unknown instrument: GRVT''s 404 "Data Not Found", naming venue, path and status');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('grvt', 'btc/x')$$, '42704',
                 NULL, 'a symbol GRVT cannot name');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('grvt', 'BTC', '2w')$$, '22023',
                 NULL, 'an interval GRVT does not serve');

SELECT * FROM finish();
ROLLBACK;
