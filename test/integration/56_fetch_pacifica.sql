-- fetch_* against the Pacifica mock (test/mock/venues/pacifica.py) serving the
-- project's own payloads (test/payloads/pacifica, written from Pacifica's API
-- documentation, docs.pacifica.fi "REST API / Markets").  Expected values are
-- worked out by hand from those payloads and from the formulas of the mock's
-- generated history (its docstring), never from this code's output.  The
-- mock's "now" is 1796116500000 ms = 2026-12-01 09:15:00 UTC (2026-12-01
-- 00:00 is 1796083200000; an hour is 3600000 ms, so 09:00 is hour 498921).
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SELECT plan(35);

-- Pacifica's own limit (125 a minute, the history requests 12 each) is
-- 59_rate_limit_shared.sh's subject: here it would only make the paging wait
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/pacifica', rate_limit_weight = 1000000, rate_limit_window_ms = 1000
 WHERE name = 'pacifica';

-- ---- the venue row
SELECT results_eq(
    $$SELECT id, rest_url LIKE '%/pacifica', ws_url, maker_fee, taker_fee FROM perps_stats.exchanges WHERE name = 'pacifica'$$,
    $$VALUES (9::smallint, true, 'wss://ws.pacifica.fi/ws', 0.00015::numeric, 0.0004::numeric)$$,
    'exchanges: pacifica is id 9 with its stream URL and tier-1 fees (1.5 bps maker, 4 bps taker)');

-- ---- markets: fetchMarkets.info.json lists 6: PUMP is "instrument_type": "spot" (left out),
-- HYPE has no instrument_type (the older docs' form: a perpetual)
SELECT is((SELECT string_agg(symbol, ',' ORDER BY symbol COLLATE "C") FROM perps_stats.fetch_markets('pacifica')),
          'BTC,ETH,HYPE,SOL,kBONK', 'fetch_markets: the perpetuals only, kBONK with its lower-case prefix');
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty,
             min_notional, max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('pacifica') WHERE symbol = 'BTC'$$,
    $$VALUES ('BTC', 'BTC', 'BTC', 'USDC', 1::numeric, 1::numeric, 0.00001::numeric, NULL::numeric, NULL::numeric,
              10::numeric, 50::numeric, 1::numeric)$$,
    'fetch_markets: BTC tick 1, lot 0.00001, min_order_size 10 USD as min_notional, 50x, hourly funding');
SELECT is((SELECT string_agg(symbol || ' ' || base || ' ' || tick_size || ' ' || lot_size || ' ' || min_notional || ' ' || max_leverage,
                             ', ' ORDER BY symbol COLLATE "C")
             FROM perps_stats.fetch_markets('pacifica') WHERE symbol IN ('HYPE', 'kBONK')),
          'HYPE HYPE 0.001 0.01 10 10, kBONK kBONK 0.000001 1 10.50 5',
          'fetch_markets: HYPE without base_asset (its symbol), kBONK''s sizes as sent (trailing zero kept)');
SELECT is(perps_stats.refresh_markets('pacifica'), 5, 'refresh_markets upserts 5 markets');
SELECT is((SELECT string_agg(m.native_symbol || ':' || m.active, ',' ORDER BY m.native_symbol COLLATE "C")
             FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = 'pacifica'),
          'BTC:true,ETH:true,HYPE:true,SOL:true,kBONK:true', 'markets: no spot market, all active');

-- ---- ticker: BTC of fetchTickers.prices.json with the best levels of fetchOrderBook.book.json;
-- ts the later of prices' 1796116498731 and the book's 1796116499012 (09:14:59.012);
-- price_change_24h = oracle - yesterday_price = 97008.123456789012345678901 - 95210.5
--                  = 1797.623456789012345678901;
-- open_interest_notional = 1523.40817 x 97012.345678
--   = 1523.40817 x 97000 + 1523.40817 x 12.345678
--   = 147770592.49 + (18280.89804 + 526.60868938926) = 147789399.99672938926;
-- volume_24h (USD) is the turnover; no last price, no percentage, no high or low
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty,
             best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional,
             price_change_24h, price_change_pct, high_24h, low_24h
        FROM perps_stats.fetch_ticker('pacifica', 'BTC')$$,
    $$VALUES ('pacifica', 'BTC', '2026-12-01 09:14:59.012+00'::timestamptz, NULL::numeric, 97012.345678::numeric,
              97008.123456789012345678901::numeric, 97011::numeric, 0.26203::numeric, 97012::numeric, 0.18002::numeric,
              NULL::numeric, 812345678.123456::numeric, 1523.40817::numeric, 147789399.99672938926::numeric,
              1797.623456789012345678901::numeric, NULL::numeric, NULL::numeric, NULL::numeric)$$,
    'fetch_ticker: prices and the book''s best levels, exact derived change and notional');
SELECT is((SELECT index_price::text || ' ' || price_change_24h::text FROM perps_stats.fetch_ticker('pacifica', 'BTC')),
          '97008.123456789012345678901 1797.623456789012345678901',
          'fetch_ticker: a 21-decimal oracle price and the change, every digit kept');

-- ---- all tickers: the five of prices, known markets; no book, so no best levels.
-- changes: ETH 3520.87 - 3577.02 = -56.15, SOL 187.2 - 180.10 = 7.10, HYPE 41.23 - 40.5 = 0.73,
-- kBONK 0.02123 - 0.0208 = 0.00043; notionals: ETH 20345.6789 x 3521.4 = 71209876.15 + 435397.52846
-- = 71645273.67846, SOL 150000.5 x 187.234 = 28085100 + 93.617 = 28085193.617, HYPE 88000 x 41.2345
-- = (3298.76 + 329.876) x 1000 = 3628636, kBONK 987654321 x 0.021234 = 987654321 x (0.02 + 0.001 +
-- 0.0002 + 0.00003 + 0.000004) = 19753086.42 + 987654.321 + 197530.8642 + 29629.62963 + 3950.617284
-- = 20971851.852114
SELECT results_eq(
    $$SELECT symbol, ts, price_change_24h, open_interest_notional, best_bid_price
        FROM perps_stats.fetch_tickers('pacifica') WHERE symbol IN ('ETH', 'SOL', 'HYPE', 'kBONK')
       ORDER BY symbol COLLATE "C"$$,
    $$VALUES ('ETH', '2026-12-01 09:14:58.731+00'::timestamptz, -56.15::numeric, 71645273.67846::numeric, NULL::numeric),
             ('HYPE', '2026-12-01 09:14:58.729+00', 0.73, 3628636.0000, NULL),
             ('SOL', '2026-12-01 09:14:58.73+00', 7.10, 28085193.6170, NULL),
             ('kBONK', '2026-12-01 09:14:58.728+00', 0.00043, 20971851.852114, NULL)$$,
    'fetch_tickers: every market''s time, change and notional');
SELECT is((SELECT count(*) FROM perps_stats.fetch_tickers('pacifica')), 5::bigint, 'fetch_tickers: five markets');

-- ---- order book: fetchOrderBook.book.json, 5 levels a side
SELECT results_eq(
    $$SELECT exchange, symbol, ts, bids, asks, seq FROM perps_stats.fetch_orderbook('pacifica', 'BTC', 3)$$,
    $$VALUES ('pacifica', 'BTC', '2026-12-01 09:14:59.012+00'::timestamptz,
              '{{97011,0.26203},{97010,1.50000},{97008,0.00001}}'::numeric[],
              '{{97012,0.18002},{97013,0.3002},{97015,1.1}}'::numeric[], NULL::bigint)$$,
    'fetch_orderbook: 3 levels a side, best first, "t" as ts, no sequence');
SELECT is((SELECT array_length(bids, 1) || 'x' || array_length(bids, 2) || ' ' || array_length(asks, 1) || ' '
                  || bids[4][2] || ' ' || bids[2][2] || ' ' || asks[5][1] || '/' || asks[5][2]
             FROM perps_stats.fetch_orderbook('pacifica', 'BTC')),
          '5x2 5 2.123456789012345678901 1.50000 97031/3.25',
          'fetch_orderbook: the whole book, a 21-decimal amount and trailing zeros as sent');

-- ---- funding rate: prices' funding (paid in the past hour) and next_funding; timestamp
-- 1796116498731 is in the hour from 09:00, the settlement the rate was paid at (and its key);
-- the next one, 10:00, is the predicted rate's, so no next funding time
SELECT results_eq(
    $$SELECT exchange, symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('pacifica', 'BTC')$$,
    $$VALUES ('pacifica', 'BTC', '2026-12-01 09:00:00+00'::timestamptz, 0.0000125::numeric, 0.00001874::numeric,
              NULL::timestamptz, 1::numeric)$$,
    'fetch_funding_rate: the hourly rate paid at 09:00 and the estimate for the next hour');
SELECT is((SELECT rate::text || ' ' || predicted_rate::text FROM perps_stats.fetch_funding_rate('pacifica', 'ETH')),
          '0.0000125000000000000000000000 -0.00000437',
          'fetch_funding_rate: a 28-decimal rate with its trailing zeros, a negative estimate');

-- ---- open interest: prices' open_interest (base units), notional at the mark (see the ticker)
SELECT results_eq(
    $$SELECT exchange, symbol, ts, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('pacifica', 'BTC')$$,
    $$VALUES ('pacifica', 'BTC', '2026-12-01 09:14:58.731+00'::timestamptz, 1523.40817::numeric, 147789399.99672938926::numeric)$$,
    'fetch_open_interest: the amount and its notional');

-- ---- klines: the five 1m bars of fetchOHLCV.kline.json; T is the next bar's open, so the close
-- time is T - 1 ms
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('pacifica', 'BTC', '1m', '2026-12-01 09:10:00+00', '2026-12-01 09:12:00+00')$$,
    $$VALUES ('2026-12-01 09:10:00+00'::timestamptz, '2026-12-01 09:10:59.999+00'::timestamptz,
              97001::numeric, 97020::numeric, 96990::numeric, 97015::numeric, 3.21045::numeric, NULL::numeric, 41::bigint),
             ('2026-12-01 09:11:00+00', '2026-12-01 09:11:59.999+00', 97015, 97030, 97002, 97004, 0.00022, NULL, 2),
             ('2026-12-01 09:12:00+00', '2026-12-01 09:12:59.999+00', 97004, 97009, 96981, 96998, 12.5, NULL, 108)$$,
    'fetch_klines: the payload''s bars, exact, without turnover');
SELECT is((SELECT volume::text FROM perps_stats.fetch_klines('pacifica', 'BTC', '1m', '2026-12-01 09:13:00+00', '2026-12-01 09:13:00+00')),
          '1.000000000000000000001', 'fetch_klines: a 21-decimal volume as sent');
-- 2026-11-28 00:00 .. 2026-12-01 09:14 is 3 x 1440 + 9 x 60 + 14 + 1 = 4875 bars, more than a
-- window of 4000
SELECT is((SELECT count(*) || ' ' || count(DISTINCT open_time) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('pacifica', 'BTC', '1m', '2026-11-28 00:00:00+00', '2026-12-01 09:14:00+00')),
          '4875 4875 2026-11-28 00:00:00+00 2026-12-01 09:14:00+00', 'fetch_klines: two windows, no gap, no duplicate');
-- a generated 1h bar: 2026-12-01 08:00 is hour i = 498920; 498920 mod 53 = 498920 - 53 x 9413 = 31:
-- open 97031, high + 7, low - 6, close + 2; volume (498920 mod 5).(498920 mod 1000) = 0.920;
-- trades 498920 mod 40 + 1 = 1 (498920 = 40 x 12473)
SELECT results_eq(
    $$SELECT close_time, open, high, low, close, volume, trade_count
        FROM perps_stats.fetch_klines('pacifica', 'BTC', '1h', '2026-12-01 08:00:00+00', '2026-12-01 08:00:00+00')$$,
    $$VALUES ('2026-12-01 08:59:59.999+00'::timestamptz, 97031::numeric, 97038::numeric, 97025::numeric, 97033::numeric,
              0.920::numeric, 1::bigint)$$,
    'fetch_klines: 1h interval');
-- without since: one window of 4000 bars ending at until (start_time is mandatory on this venue):
-- 09:14 - 3999 minutes (66 h 39 min) = 2026-11-28 14:35
SELECT is((SELECT count(*) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('pacifica', 'BTC', '1m', NULL, '2026-12-01 09:14:00+00')),
          '4000 2026-11-28 14:35:00+00 2026-12-01 09:14:00+00', 'fetch_klines: without since, one window of 4000 ending at until');

-- ---- funding history: newest first by cursor; fetchFundingRateHistory.json has 06:00:00.187,
-- 07:00:00.305, 08:00:00.198 and 09:00:00.212; 05:00 is generated: hour 498917, 498917 mod 41 =
-- 498917 - 41 x 12168 = 29, rate (29 - 20) x 1e-7 = 0.0000009, the next hour's 0.0000010
SELECT results_eq(
    $$SELECT funding_time, rate, predicted_rate, interval_hours
        FROM perps_stats.fetch_funding_history('pacifica', 'BTC', '2026-12-01 05:00:00+00', NULL, NULL)$$,
    $$VALUES ('2026-12-01 05:00:00+00'::timestamptz, 0.0000009::numeric, 0.0000010::numeric, 1::numeric),
             ('2026-12-01 06:00:00.187+00', 0.0000125000000000000000000001, -0.0000043, 1),
             ('2026-12-01 07:00:00.305+00', -0.0000043, 0.00001702, 1),
             ('2026-12-01 08:00:00.198+00', 0.00001702, 0.0000125, 1),
             ('2026-12-01 09:00:00.212+00', 0.0000125, 0.00001874, 1)$$,
    'fetch_funding_history: created_at as sent, the payload''s rows where it has them');
SELECT is((SELECT string_agg(rate::text, ' ' ORDER BY funding_time)
             FROM perps_stats.fetch_funding_history('pacifica', 'BTC', '2026-12-01 06:00:00+00', '2026-12-01 07:00:00+00')),
          '0.0000125000000000000000000001', 'fetch_funding_history: a 28-decimal rate, until excludes 07:00:00.305');
-- 2026-05-01 00:00 .. 2026-12-01 09:00: 214 days (31 + 30 + 31 + 31 + 30 + 31 + 30) x 24 + 9 + 1
-- = 5146 hourly rows, more than a page of 4000
SELECT is((SELECT count(*) || ' ' || count(DISTINCT funding_time)
             FROM perps_stats.fetch_funding_history('pacifica', 'BTC', '2026-05-01 00:00:00+00', '2026-12-01 09:14:00+00')),
          '5146 5146', 'fetch_funding_history: pages back through more than 4000 rows by cursor');
SELECT is((SELECT count(*) || ' ' || min(funding_time)
             FROM perps_stats.fetch_funding_history('pacifica', 'BTC', NULL, NULL, 3)),
          '3 2026-12-01 07:00:00.305+00', 'fetch_funding_history: max_rows alone, the newest 3');

-- ---- recent trades: fetchTrades.json has 6 rows; the fulfill_maker one is the maker's view of the
-- 09:14:58.400 fill and is left out; the ids are synthetic: ms-side-price-amount-k, k counting
-- equal trades before (the two 0.00020 sells at 09:14:57.950); close_long and a liquidation sell,
-- open_long and close_short buy
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('pacifica', 'BTC') ORDER BY ts, trade_id$$,
    $$VALUES ('1796116495000-B-97012-1.2-0', '2026-12-01 09:14:55+00'::timestamptz, 97012::numeric, 1.2::numeric, 'buy'),
             ('1796116496105-S-97009-0.41-0', '2026-12-01 09:14:56.105+00', 97009, 0.41, 'sell'),
             ('1796116497950-S-97011-0.00020-0', '2026-12-01 09:14:57.95+00', 97011, 0.00020, 'sell'),
             ('1796116497950-S-97011-0.00020-1', '2026-12-01 09:14:57.95+00', 97011, 0.00020, 'sell'),
             ('1796116498400-B-97012-0.01500-0', '2026-12-01 09:14:58.4+00', 97012, 0.01500, 'buy')$$,
    'fetch_trades: taker rows only, synthetic ids, the taker''s side');
SELECT is((SELECT string_agg(trade_id, ' ' ORDER BY ts, trade_id) FROM perps_stats.fetch_trades('pacifica', 'BTC', 2)),
          '1796116497950-S-97011-0.00020-1 1796116498400-B-97012-0.01500-0', 'fetch_trades: the newest 2');
SELECT is((SELECT string_agg(trade_id, ' ' ORDER BY trade_id) FROM perps_stats.fetch_trades('pacifica', 'BTC')),
          (SELECT string_agg(trade_id, ' ' ORDER BY trade_id) FROM perps_stats.fetch_trades('pacifica', 'BTC')),
          'fetch_trades: the same ids on a second fetch');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('pacifica', 'BTC', now() - interval '1 hour')$$, '0A000',
                 NULL, 'fetch_trades over a time range: Pacifica serves recent trades only');

-- ---- collect: one round for BTC; all four kinds
CREATE TEMP TABLE r AS SELECT * FROM perps_stats.collect('{pacifica}', '{BTC}');
SELECT results_eq(
    $$SELECT kind, rows, error IS NULL FROM r ORDER BY kind$$,
    $$VALUES ('funding', 1, true), ('open_interest', 1, true), ('orderbook', 18, true), ('ticker', 1, true)$$,
    'collect: ticker, open interest, funding and a book with its depth and 16 slippage rows');
SELECT is((SELECT mark_price::text || ' ' || best_bid_price::text || ' ' || open_interest::text FROM perps_stats.tickers t
             JOIN perps_stats.markets m ON m.id = t.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'pacifica' AND m.symbol = 'BTC'),
          '97012.345678 97011 1523.40817', 'collect: the stored ticker');
SELECT is((SELECT rate::text || ' ' || funding_time FROM perps_stats.funding_rates f
             JOIN perps_stats.markets m ON m.id = f.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'pacifica' AND m.symbol = 'BTC'),
          '0.0000125 2026-12-01 09:00:00+00', 'collect: the stored funding rate');

-- ---- errors
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('pacifica', 'NOPE')$$, '38000',
                 'pacifica answered GET /api/v1/book?symbol=NOPE with HTTP status 400',
                 'an unknown symbol: Pacifica''s 400, naming venue, path and status');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_funding_rate('pacifica', 'NOPE')$$, '42704',
                 NULL, 'a symbol missing from the prices: undefined_object');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('pacifica', 'btc/x')$$, '42704',
                 NULL, 'a symbol Pacifica cannot name');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('pacifica', 'BTC', '2h')$$, '22023',
                 NULL, 'an interval perps_stats does not take');

SELECT * FROM finish();
ROLLBACK;
