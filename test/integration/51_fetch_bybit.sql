-- fetch_* against the mock Bybit v5 (category=linear) serving the project's
-- own payloads (test/payloads/bybit, see its README.md).  Expected values are
-- read off those files by hand:
--   fetchMarkets.instruments-info.linear.json, fetchTicker.json (single ticker,
--   funding), fetchFundingRate.json (all tickers), fetchOrderBook.linear.json,
--   fetchOpenInterest.linear.json, fetchOHLCV.json, fetchTrades.json.
-- Funding history and the long kline ranges are the mock's generated
-- documented-format history: there only counts, order and spacing are asserted.
-- The faults are injected with the mock's POST /_mock/faults (psql's \!).
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(36);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/bybit' WHERE name = 'bybit';
CREATE FUNCTION pg_temp.ms(bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$ SELECT to_timestamp(0) + $1 * interval '1 millisecond' $$;
-- the SQLSTATE, message and detail of the error a query raises
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; m text; d text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
    RETURN s || ' ' || m || ' / ' || coalesce(d, '');
END $$;

-- markets: 10 instruments, of which 7 USDT perpetuals named <base>USDT (one of
-- them pre-launch); the USDC perpetuals BTCPERP and ETHPERP and the dated
-- future BTCUSDT-25DEC26 are left out
CREATE TEMP TABLE bm AS SELECT * FROM perps_stats.fetch_markets('bybit');
SELECT is((SELECT string_agg(native_symbol, ',' ORDER BY native_symbol) FROM bm),
          '1000000MOGUSDT,1000PEPEUSDT,BTCUSDT,ETHUSDT,MEGAUSDT,SOLUSDT,XRPUSDT',
          'bybit markets: the 7 USDT perpetuals');
SELECT is((SELECT row(m.*)::text FROM bm m WHERE symbol = 'BTC'),
          row('BTC', 'BTCUSDT', 'BTC', 'USDT', 1::numeric, '0.10'::numeric, '0.001'::numeric,
              '0.001'::numeric, '1190.000'::numeric, 5::numeric, '100.00'::numeric, 8::numeric)::text,
          'bybit BTC market: filters of BTCUSDT, fundingInterval 480 min = 8 h');
SELECT is((SELECT row(m.*)::text FROM bm m WHERE native_symbol = '1000PEPEUSDT'),
          row('1000PEPE', '1000PEPEUSDT', '1000PEPE', 'USDT', 1::numeric, '0.0000001'::numeric, 100::numeric,
              100::numeric, 180000000::numeric, 5::numeric, '50.00'::numeric, 4::numeric)::text,
          'bybit native 1000PEPEUSDT is global 1000PEPE: tick 0.0000001, lots of 100, fundingInterval 240 min = 4 h');
SELECT is((SELECT symbol || ' ' || funding_interval_hours FROM bm WHERE native_symbol = '1000000MOGUSDT'), '1000000MOG 1',
          'bybit 1000000MOGUSDT: fundingInterval 60 min = 1 h');
SELECT is((SELECT count(*) FROM bm WHERE native_symbol IN ('BTCPERP', 'ETHPERP', 'BTCUSDT-25DEC26') OR quote <> 'USDT'), 0::bigint,
          'bybit USDC perpetuals and dated futures are not markets');

-- ticker (fetchTicker.json; time 1794907805123; price24hPcnt is a fraction already)
SELECT is((SELECT t::text FROM perps_stats.fetch_ticker('bybit', 'BTC') t),
          row('bybit', 'BTC', pg_temp.ms(1794907805123), '96874.30'::numeric, '96876.15'::numeric,
              '96889.42'::numeric, '96874.20'::numeric, '3.918'::numeric, '96874.30'::numeric,
              '0.046'::numeric, '91688.407'::numeric, '8912337418.662093'::numeric,
              '55103.482'::numeric, '5338213187.75'::numeric, '-1248.70'::numeric, '-0.012726'::numeric,
              '98410.00'::numeric, '96512.60'::numeric)::text,
          'bybit ticker BTC: every column of the BTCUSDT ticker, change = 96874.30 - 98123.00, turnover to the last of its 16 digits');

-- all tickers map native symbols through perps_stats.markets: load it first.
-- (pg_regress inserts a market with an explicit id 1: move the identity past it.)
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1));
SELECT is(perps_stats.refresh_markets('bybit'), 7, 'bybit refresh_markets upserts the 7 markets');
SELECT is((SELECT string_agg(native_symbol || '=' || active, ',' ORDER BY native_symbol) FROM perps_stats.markets
            WHERE exchange_id = (SELECT id FROM perps_stats.exchanges WHERE name = 'bybit')
              AND native_symbol IN ('BTCUSDT', 'MEGAUSDT')),
          'BTCUSDT=true,MEGAUSDT=false', 'bybit: a market with status PreLaunch is stored inactive, one Trading active');
-- all tickers (fetchFundingRate.json: retCode "0" and time "1794907862045" as strings)
CREATE TEMP TABLE bt AS SELECT * FROM perps_stats.fetch_tickers('bybit');
SELECT is((SELECT string_agg(symbol, ',' ORDER BY symbol) FROM bt), '1000PEPE,BTC,ETH,SOL',
          'bybit all tickers: native symbols mapped back to global ones; BTCPERP (not a market) left out');
-- BTCUSDT carries its own timestamp 1794907862011; change = 96881.70 - 98090.50 = -1208.80
SELECT is((SELECT row(ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty,
                      best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest,
                      open_interest_notional, price_change_24h, price_change_pct, high_24h, low_24h)::text
           FROM bt WHERE symbol = 'BTC'),
          row(pg_temp.ms(1794907862011), '96881.70'::numeric, '96882.41'::numeric, '96893.05'::numeric,
              '96881.60'::numeric, '2.407'::numeric, '96881.70'::numeric, '0.119'::numeric,
              '91622.031'::numeric, '8905774126.318452'::numeric, '55098.117'::numeric,
              '5338038361.42'::numeric, '-1208.80'::numeric, '-0.012323'::numeric, '98410.00'::numeric,
              '96512.60'::numeric)::text,
          'bybit all tickers: the BTCUSDT row, at its own timestamp');
-- ETHUSDT has no timestamp of its own: the answer's time; change = 3612.47 - 3587.91 = 24.56
SELECT is((SELECT row(ts, last_price, price_change_24h, price_change_pct, best_bid_qty, best_ask_qty)::text FROM bt WHERE symbol = 'ETH'),
          row(pg_temp.ms(1794907862045), '3612.47'::numeric, '24.56'::numeric, '0.006845'::numeric,
              '41.07'::numeric, '12.50'::numeric)::text,
          'bybit all tickers: ETHUSDT at the answer''s time (a string)');
-- 7-decimal prices; change = 0.0108734 - 0.0112050 = -0.0003316
SELECT is((SELECT row(last_price, mark_price, index_price, best_bid_price, best_bid_qty, best_ask_price,
                      best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional,
                      price_change_24h, price_change_pct, high_24h, low_24h)::text FROM bt WHERE symbol = '1000PEPE'),
          row('0.0108734'::numeric, '0.0108741'::numeric, '0.0108760'::numeric, '0.0108733'::numeric,
              1834500::numeric, '0.0108734'::numeric, 926100::numeric, 30712550400::numeric,
              '338771205.6483'::numeric, 52881470100::numeric, '575038394.01'::numeric,
              '-0.0003316'::numeric, '-0.029594'::numeric, '0.0113990'::numeric, '0.0106021'::numeric)::text,
          'bybit all tickers: 1000PEPEUSDT exactly as sent');

-- order book (fetchOrderBook.linear.json: ts "1794907803517", u "5120447" as strings)
SELECT is((SELECT row(b.*)::text FROM perps_stats.fetch_orderbook('bybit', 'BTC') b),
          row('bybit', 'BTC', pg_temp.ms(1794907803517),
              '{{96874.20,3.918},{96874.00,0.250},{96873.50,1.204},{96872.10,0.008},{96870.00,5.500},
                {96868.80,0.731},{96865.40,2.046},{96861.00,0.090},{96857.30,1.333},{96850.00,7.125}}'::numeric[],
              '{{96874.30,0.046},{96874.90,0.800},{96875.60,1.117},{96877.00,0.302},{96879.20,4.000},
                {96880.50,0.015},{96884.10,2.682},{96888.80,0.540},{96892.00,6.010},{96900.00,9.999}}'::numeric[],
              5120447::bigint)::text,
          'bybit order book BTC: all ten levels a side, ts and update id');
SELECT is((SELECT bids::text || asks::text FROM perps_stats.fetch_orderbook('bybit', 'BTC', 1)),
          '{{96874.20,3.918}}{{96874.30,0.046}}', 'bybit order book depth 1: the best level a side');
SELECT is((SELECT bids[3:3]::text || asks[3:3]::text || array_length(bids, 1) || array_length(asks, 1)
             FROM perps_stats.fetch_orderbook('bybit', 'BTC', 3)),
          '{{96873.50,1.204}}{{96875.60,1.117}}33', 'bybit order book depth 3: three levels a side');

-- funding rate (fetchTicker.json: fundingRate -0.00002317, nextFundingTime 1794931200000 =
-- 2026-11-17 16:00, fundingIntervalHour "8")
SELECT is((SELECT row(f.*)::text FROM perps_stats.fetch_funding_rate('bybit', 'BTC') f),
          row('bybit', 'BTC', pg_temp.ms(1794907805123), '-0.00002317'::numeric, NULL::numeric,
              '2026-11-17 16:00+00'::timestamptz, 8::numeric)::text,
          'bybit funding rate BTC: rate, next funding time and interval of the ticker');

-- open interest (fetchOpenInterest.linear.json: three 5-min rows, newest first)
SELECT is((SELECT row(o.*)::text FROM perps_stats.fetch_open_interest('bybit', 'BTC') o),
          row('bybit', 'BTC', '2026-11-17 09:30+00'::timestamptz, '55103.48200000'::numeric, NULL::numeric)::text,
          'bybit open interest BTC: the newest row, in BTC, at its 5-min timestamp 1794907800000');

-- klines (fetchOHLCV.json, sent newest first; returned oldest first; prices without
-- trailing zeros as Bybit sends them; close time = open + 1 h - 1 ms)
SELECT results_eq(
    $$SELECT open_time, close_time, open::text, high::text, low::text, close::text, volume::text,
             turnover::text, trade_count
      FROM perps_stats.fetch_klines('bybit', 'BTC', '1h', '2026-11-17 06:00+00', '2026-11-17 09:00+00')$$,
    $$VALUES (pg_temp.ms(1794895200000), pg_temp.ms(1794898799999), '97310', '97498.4', '97255.1', '97402.7', '2466.019', '240162170.2457', NULL::bigint),
             (pg_temp.ms(1794898800000), pg_temp.ms(1794902399999), '97402.7', '97455.8', '97101', '97188.5', '2931.608', '285137129.8806', NULL),
             (pg_temp.ms(1794902400000), pg_temp.ms(1794905999999), '97188.5', '97240', '96870.2', '96915', '3874.152', '375954962.3318', NULL),
             (pg_temp.ms(1794906000000), pg_temp.ms(1794909599999), '96915', '96960.1', '96801.3', '96874.3', '1021.337', '98946541.0172', NULL)$$,
    'bybit klines BTC 1h 06:00 .. 09:00: the four bars, oldest first, turnover in USDT');
SELECT is((SELECT array_agg(open::text ORDER BY open_time) FROM perps_stats.fetch_klines('bybit', 'BTC', '1h')),
          ARRAY['97310', '97402.7', '97188.5', '96915'], 'bybit klines BTC 1h without a range: the page as sent');
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

-- recent trades (fetchTrades.json, newest first; two in the same millisecond; one block trade)
SELECT results_eq(
    $$SELECT trade_id, ts, price::text, qty::text, side FROM perps_stats.fetch_trades('bybit', 'BTC') ORDER BY ts, trade_id$$,
    $$VALUES ('0b96d4a7-f1e2-5c83-9d07-2e8a5b1c6f94', pg_temp.ms(1794907859018), '96882.00', '1.250', 'buy'),
             ('5af2e318-c7d0-5e49-8b26-91c3d4e5f607', pg_temp.ms(1794907860993), '96881.60', '12.000', 'sell'),
             ('81d5c6fa-2e07-5b94-a3d2-6f19e0b7c448', pg_temp.ms(1794907861452), '96881.60', '0.500', 'sell'),
             ('3c0f7b2e-91d4-5a6e-b8f1-0d2c7e4a9b15', pg_temp.ms(1794907861870), '96881.70', '0.119', 'buy'),
             ('e7a41d09-5b3c-5f28-9e61-c4b8d2f07a33', pg_temp.ms(1794907861870), '96881.70', '0.006', 'buy')$$,
    'bybit trades BTC: the five trades, taker side Buy / Sell');
SELECT is((SELECT string_agg(trade_id, ',' ORDER BY trade_id) FROM perps_stats.fetch_trades('bybit', 'BTC', 2)),
          '3c0f7b2e-91d4-5a6e-b8f1-0d2c7e4a9b15,e7a41d09-5b3c-5f28-9e61-c4b8d2f07a33',
          'bybit trades max_rows 2: the newest two (both at 1794907861870)');

-- errors: Bybit answers retCode 10001 for an unknown symbol
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('bybit', 'NOPE')$$, '38000', NULL,
                 'bybit unknown symbol: the venue''s refusal');
SELECT throws_like($$SELECT * FROM perps_stats.fetch_orderbook('bybit', 'NOPE')$$, '%refused%',
                   'bybit unknown symbol in the book: refused');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_open_interest('bybit', 'NOPE')$$, '38000', NULL,
                 'bybit unknown symbol in the open interest: refused');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('bybit', 'BTC', '2w')$$, '22023', NULL,
                 'bybit unknown interval');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('bybit', 'BTC', now() - interval '1 hour')$$, '0A000', NULL,
                 'bybit serves no trade history over a time range');

-- faults, each on the next request of its path
-- Bybit's rate limit answer: HTTP 200 with retCode 10006
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"bybit","path":"^/v5/market/tickers$","kind":"status","status":200,"body":{"retCode":10006,"retMsg":"Too many visits. Exceeded the API Rate Limit.","result":{},"retExtInfo":{},"time":1794907865000}}' >/dev/null
SELECT is(pg_temp.err($$SELECT * FROM perps_stats.fetch_ticker('bybit', 'BTC')$$),
          '38000 bybit refused the ticker request / bybit says: bybit error 10006: Too many visits. Exceeded the API Rate Limit.',
          'bybit retCode 10006 at HTTP 200: refused, with the venue''s code and message');
-- a region blocked at Bybit's CDN: HTTP 403 with an HTML page
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"bybit","path":"^/v5/market/tickers$","kind":"status","status":403,"body":"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"><HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY><H1>403 ERROR</H1></BODY></HTML>"}' >/dev/null
SELECT is(pg_temp.err($$SELECT * FROM perps_stats.fetch_funding_rate('bybit', 'BTC')$$),
          '42501 bybit answered GET /v5/market/tickers?category=linear&symbol=BTCUSDT with HTTP status 403 / bybit says: bybit answered HTTP 403.',
          'bybit HTTP 403 with an HTML body: insufficient privilege, naming the request');
-- half a body
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"bybit","path":"^/v5/market/orderbook$","kind":"truncate"}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('bybit', 'BTC')$$, '22032',
                 'could not parse the order book response of bybit', 'bybit truncated book: not JSON');
-- every string an object and every number an array
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"bybit","path":"^/v5/market/open-interest$","kind":"wrong_types"}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_open_interest('bybit', 'BTC')$$, '22000',
                 'unexpected open interest response from bybit', 'bybit wrong-typed open interest: a shape error');
SELECT is((SELECT open_interest FROM perps_stats.fetch_open_interest('bybit', 'BTC')), '55103.48200000'::numeric,
          'bybit after the faults: the next answer is parsed again');

SELECT * FROM finish();
ROLLBACK;
