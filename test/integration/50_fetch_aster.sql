-- fetch_* against the Aster futures mock (test/mock/venues/aster.py, the
-- Binance-compatible routes of binance.py's register_fapi) serving the
-- project's own payloads (test/payloads/aster, written from Aster's API
-- documentation, github.com/asterdex/api-docs, fapi v1).  Expected values
-- are worked out by hand from those payloads and from the formulas of the
-- mock's generated history, never from this code's output.  The mock's
-- "now" is the close of the last 1m kline of fetchOHLCV.swap.json:
-- 1796116499999 ms = 2026-12-01 09:14:59.999 UTC (2026-12-01 00:00 is
-- 1796083200000).
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SELECT plan(32);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/aster' WHERE name = 'aster';

-- ---- the venue row
SELECT results_eq(
    $$SELECT id, rest_url LIKE '%/aster', ws_url, maker_fee, taker_fee FROM perps_stats.exchanges WHERE name = 'aster'$$,
    $$VALUES (7::smallint, true, 'wss://fstream.asterdex.com', 0.0001::numeric, 0.00035::numeric)$$,
    'exchanges: aster is id 7 with its stream URL and Pro fees (1 bps maker, 3.5 bps taker)');

-- ---- markets: fetchMarkets.exchangeInfo.json (8 symbols) and fetchMarkets.fundingInfo.json
-- 5 USDT perpetuals that trade: AAPL, ASTER, BTC, ETH, SOL; left out are BTCUSD1 (quote USD1),
-- XPLUSDT (PENDING_TRADING) and CAKEUSDT (CLOSE)
SELECT is((SELECT string_agg(symbol, ',' ORDER BY symbol) FROM perps_stats.fetch_markets('aster')),
          'AAPL,ASTER,BTC,ETH,SOL', 'fetch_markets: the trading USDT perpetuals only');
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty,
             min_notional, max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('aster') WHERE symbol = 'BTC'$$,
    $$VALUES ('BTC', 'BTCUSDT', 'BTC', 'USDT', 1::numeric, 0.1::numeric, 0.001::numeric, 0.001::numeric,
              100::numeric, 5::numeric, NULL::numeric, 8::numeric)$$,
    'fetch_markets: BTCUSDT filters (PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL), 8 h funding');
SELECT is((SELECT string_agg(symbol || ' ' || tick_size || ' ' || lot_size || ' ' || max_qty || ' ' || funding_interval_hours,
                             ', ' ORDER BY symbol)
             FROM perps_stats.fetch_markets('aster') WHERE symbol IN ('AAPL', 'ASTER', 'SOL')),
          'AAPL 0.01 0.001 1000 8, ASTER 0.00001 1 5000000 4, SOL 0.0100 0.01 50000 4',
          'fetch_markets: sizes as sent (trailing zeros kept), fundingInfo''s 4 h and 8 h intervals');
SELECT is(perps_stats.refresh_markets('aster'), 5, 'refresh_markets upserts 5 markets');
SELECT is((SELECT count(*) FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'aster' AND m.symbol IN ('XPL', 'CAKE')), 0::bigint,
          'markets: no row for a symbol not trading yet or any more');
SELECT is((SELECT string_agg(m.native_symbol, ',' ORDER BY m.native_symbol) FROM perps_stats.markets m
             JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = 'aster' AND m.active),
          'AAPLUSDT,ASTERUSDT,BTCUSDT,ETHUSDT,SOLUSDT', 'markets: native symbols, all active');

-- ---- ticker: ETHUSDT from its 24 h ticker, premium index and book ticker (no open interest:
-- Aster documents none); ts is the latest of closeTime 09:14:58.774, the premium index's
-- 09:14:58.000 and the book ticker's 09:14:59.002
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty,
             best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional,
             price_change_24h, price_change_pct, high_24h, low_24h
        FROM perps_stats.fetch_ticker('aster', 'ETH')$$,
    $$VALUES ('aster', 'ETH', '2026-12-01 09:14:59.002+00'::timestamptz, 3521.37::numeric,
              3520.98712345678901234567::numeric, 3521.66400000::numeric, 3521.36::numeric, 41.207::numeric,
              3521.37::numeric, 8.955::numeric, 612044.218::numeric, 2156390775.86044501128734567890::numeric,
              NULL::numeric, NULL::numeric, -48.25::numeric, -0.01352::numeric, 3588.00::numeric, 3498.11::numeric)$$,
    'fetch_ticker: every field, P -1.352 % as the fraction -0.01352, ts the latest of the three');
SELECT is((SELECT mark_price::text || ' ' || turnover_24h::text FROM perps_stats.fetch_ticker('aster', 'ETH')),
          '3520.98712345678901234567 2156390775.86044501128734567890',
          'fetch_ticker: 20-decimal mark price and quote volume exactly as sent');

-- ---- all tickers: six in each list; BTCUSD1 is not a market (left out); AAPLUSDT has no book
-- ticker; SOL's latest time is its premium index's 09:14:57.000
SELECT results_eq(
    $$SELECT symbol, ts, last_price, best_bid_qty, price_change_pct, open_interest
        FROM perps_stats.fetch_tickers('aster') ORDER BY symbol$$,
    $$VALUES ('AAPL', '2026-12-01 09:14:57+00'::timestamptz, 238.41::numeric, NULL::numeric, 0::numeric, NULL::numeric),
             ('ASTER', '2026-12-01 09:14:59.31+00', 1.84312, 25014, -0.04909, NULL),
             ('BTC', '2026-12-01 09:14:58.911+00', 97244.8, 2.318, 0.01254, NULL),
             ('ETH', '2026-12-01 09:14:59.002+00', 3521.37, 41.207, -0.01352, NULL),
             ('SOL', '2026-12-01 09:14:57+00', 187.4200, 612.44, 0.01687, NULL)$$,
    'fetch_tickers: known markets only, joined by symbol, without open interest');

-- ---- order book: fetchOrderBook.swap.json (6 levels a side)
SELECT results_eq(
    $$SELECT exchange, symbol, ts, bids, asks, seq FROM perps_stats.fetch_orderbook('aster', 'BTC', 3)$$,
    $$VALUES ('aster', 'BTC', '2026-12-01 09:14:56.795+00'::timestamptz,
              '{{97244.7,2.318},{97244.1,0.030},{97243.0,1.105}}'::numeric[],
              '{{97244.8,0.442},{97245.5,0.917},{97247.2,2.004}}'::numeric[], 2211874305519::bigint)$$,
    'fetch_orderbook: 3 levels a side, best first, T as ts, lastUpdateId as seq');
SELECT is((SELECT array_length(bids, 1) || 'x' || array_length(bids, 2) || ' ' || array_length(asks, 1) || ' '
                  || bids[6][1] || '/' || bids[6][2] || ' ' || asks[6][1] || '/' || asks[6][2]
             FROM perps_stats.fetch_orderbook('aster', 'BTC')),
          '6x2 6 97230.0/10.000 97262.9/1.221', 'fetch_orderbook: the whole book, the last levels exact');

-- ---- funding rate: premium index lastFundingRate for nextFundingTime, fundingInfo's interval
SELECT results_eq(
    $$SELECT exchange, symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('aster', 'BTC')$$,
    $$VALUES ('aster', 'BTC', '2026-12-01 16:00:00+00'::timestamptz, 0.00005417::numeric, NULL::numeric,
              '2026-12-01 16:00:00+00'::timestamptz, 8::numeric)$$,
    'fetch_funding_rate: lastFundingRate for nextFundingTime 1796140800000, 8 h');
SELECT is((SELECT string_agg(symbol || ' ' || rate::text || ' ' || funding_time || ' ' || interval_hours, ', ' ORDER BY symbol)
             FROM (SELECT * FROM perps_stats.fetch_funding_rate('aster', 'ASTER')
                   UNION ALL SELECT * FROM perps_stats.fetch_funding_rate('aster', 'ETH')) f),
          'ASTER -0.00031044 2026-12-01 12:00:00+00 4, ETH -0.00001875 2026-12-01 16:00:00+00 8',
          'fetch_funding_rate: negative rates; ASTERUSDT settles every 4 h');

-- ---- open interest: not in Aster's documentation
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_open_interest('aster', 'BTC')$$, '0A000',
                 'aster has no public endpoint for open interest',
                 'fetch_open_interest: Aster documents no open interest endpoint');

-- ---- klines: the three 1m candles of fetchOHLCV.swap.json
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('aster', 'BTC', '1m', '2026-12-01 09:12:00+00', '2026-12-01 09:14:00+00')$$,
    $$VALUES ('2026-12-01 09:12:00+00'::timestamptz, '2026-12-01 09:12:59.999+00'::timestamptz,
              97198.3::numeric, 97221.0::numeric, 97190.1::numeric, 97215.6::numeric, 38.412::numeric, 3733795.04413::numeric, 812::bigint),
             ('2026-12-01 09:13:00+00', '2026-12-01 09:13:59.999+00', 97215.6, 97250.0, 97209.9, 97238.2, 51.007,
              4959770.90117340028111234567, 1190),
             ('2026-12-01 09:14:00+00', '2026-12-01 09:14:59.999+00', 97238.2, 97251.2, 97230.4, 97244.8, 22.930, 2229817.15520, 604)$$,
    'fetch_klines: the candles of the payload, exact');
SELECT is((SELECT turnover::text FROM perps_stats.fetch_klines('aster', 'BTC', '1m', '2026-12-01 09:13:00+00', '2026-12-01 09:13:00+00')),
          '4959770.90117340028111234567', 'fetch_klines: a 20-decimal quote volume as sent');
-- paging: 2026-11-30 00:00 .. 2026-12-01 09:14 is 1440 + 9 x 60 + 14 + 1 = 1995 candles, more than
-- the page of 1500
SELECT is((SELECT count(*) || ' ' || count(DISTINCT open_time) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('aster', 'BTC', '1m', '2026-11-30 00:00:00+00', '2026-12-01 09:14:00+00')),
          '1995 1995 2026-11-30 00:00:00+00 2026-12-01 09:14:00+00', 'fetch_klines: two pages, no gap, no duplicate');
-- a generated 1h candle: 2026-12-01 08:00 is 1796112000000 ms, k = 498920, open = 60000 + 920,
-- high + 5, low - 5, close + 1.5, volume 1 + 498920 mod 7 (= 2, 498918 = 7 x 71274) = 3,
-- trades 498920 mod 50 + 1 = 21
SELECT results_eq(
    $$SELECT open, high, low, close, volume, trade_count
        FROM perps_stats.fetch_klines('aster', 'BTC', '1h', '2026-12-01 08:00:00+00', '2026-12-01 08:00:00+00')$$,
    $$VALUES (60920.00::numeric, 60925.00::numeric, 60915.00::numeric, 60921.50::numeric, 3.000::numeric, 21::bigint)$$,
    'fetch_klines: 1h interval');
SELECT is((SELECT count(*) FROM perps_stats.fetch_klines('aster', 'BTC', '1m')), 500::bigint,
          'fetch_klines: without a range, one page of the default 500');

-- ---- funding history: fetchFundingRateHistory.json has 2026-11-30 16:00, 2026-12-01 00:00 and
-- 08:00; 2026-11-30 08:00 is generated: k = 1796025600000 / 28800000 = 62362, k mod 5 = 2,
-- rate 0.0001 + 2 x 0.00001
SELECT results_eq(
    $$SELECT funding_time, rate FROM perps_stats.fetch_funding_history('aster', 'BTC', '2026-11-30 08:00:00+00', NULL, 4)$$,
    $$VALUES ('2026-11-30 08:00:00+00'::timestamptz, 0.00012000::numeric),
             ('2026-11-30 16:00:00+00', 0.00003125), ('2026-12-01 00:00:00+00', -0.00000738201944017365),
             ('2026-12-01 08:00:00+00', 0.00010000)$$,
    'fetch_funding_history: since and max_rows; the payload''s rates where it has them');
SELECT is((SELECT string_agg(rate::text, ' ' ORDER BY funding_time)
             FROM perps_stats.fetch_funding_history('aster', 'BTC', '2026-11-30 16:00:00+00', '2026-12-01 08:00:00+00')),
          '0.00003125 -0.00000738201944017365 0.00010000', 'fetch_funding_history: a 20-decimal rate exactly as sent');
-- 2025-11-01 .. 2026-12-01 09:14: 395 whole days x 3 + 00:00 and 08:00 of 2026-12-01 = 1187,
-- more than a page of 1000
SELECT is((SELECT count(*) || ' ' || count(DISTINCT funding_time)
             FROM perps_stats.fetch_funding_history('aster', 'BTC', '2025-11-01 00:00:00+00', '2026-12-01 09:14:00+00')),
          '1187 1187', 'fetch_funding_history: pages through more than 1000 settlements');

-- ---- recent trades: fetchTrades.json (ids 1984930112 .. 1984930116); isBuyerMaker true: the taker sold
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('aster', 'BTC', 3)$$,
    $$VALUES ('1984930114', '2026-12-01 09:14:57.388+00'::timestamptz, 97244.7::numeric, 1.250::numeric, 'sell'),
             ('1984930115', '2026-12-01 09:14:58.046+00', 97244.8, 0.031, 'buy'),
             ('1984930116', '2026-12-01 09:14:58.530+00', 97244.8, 0.300, 'buy')$$,
    'fetch_trades: the most recent 3: id as text, time, price, qty, taker side');
SELECT is((SELECT count(*) || ' ' || min(trade_id) || ' ' || count(*) FILTER (WHERE side = 'sell')
             FROM perps_stats.fetch_trades('aster', 'BTC')),
          '5 1984930112 2', 'fetch_trades: by default the 5 the venue has, 2 of them sells');
-- trade history by time (aggTrades, generated): trade a is at 2019-09-08 + (a - 1) x 1.5 s, so
-- 2026-12-01 09:00:00 is a = (1796115600000 - 1567900800000) / 1500 + 1 = 152143201; up to
-- 09:00:03 there are 3.  a mod 2000 = 1201: price 60000 + 120 . (a mod 10) x 10 = 60120.10, .20,
-- .30; 152143201 = 997 x 152601 + 4: qty 0.005, 0.006, 0.007; 152143203 is divisible by 3
-- (digit sum 21): its buyer was the maker, a sell
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side
        FROM perps_stats.fetch_trades('aster', 'BTC', '2026-12-01 09:00:00+00', '2026-12-01 09:00:03+00')$$,
    $$VALUES ('152143201', '2026-12-01 09:00:00+00'::timestamptz, 60120.10::numeric, 0.005::numeric, 'buy'),
             ('152143202', '2026-12-01 09:00:01.5+00', 60120.20, 0.006, 'buy'),
             ('152143203', '2026-12-01 09:00:03+00', 60120.30, 0.007, 'sell')$$,
    'fetch_trades over a time range: the aggregate trades, both ends inclusive');

-- ---- collect: one round for BTC; open interest is reported unsupported, not recorded
CREATE TEMP TABLE r AS SELECT * FROM perps_stats.collect('{aster}', '{BTC}');
SELECT results_eq(
    $$SELECT kind, rows, error IS NULL FROM r ORDER BY kind$$,
    $$VALUES ('funding', 1, true), ('open_interest', 0, false), ('orderbook', 18, true), ('ticker', 1, true)$$,
    'collect: ticker, funding and a book with its depth and 16 slippage rows; no open interest');
SELECT is((SELECT error FROM r WHERE kind = 'open_interest'),
          'aster has no public endpoint for open interest: Aster''s futures API documentation has no open interest endpoint.',
          'collect: the reason open interest is not collected');
SELECT is((SELECT count(*) FROM perps_stats.ingest_events v JOIN perps_stats.exchanges e ON e.id = v.exchange_id
            WHERE e.name = 'aster' AND v.message LIKE '%open_interest%'), 0::bigint,
          'collect: an unsupported kind is no ingest event');
SELECT is((SELECT last_price::text || ' ' || mark_price::text FROM perps_stats.tickers t
             JOIN perps_stats.markets m ON m.id = t.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'aster' AND m.symbol = 'BTC'),
          '97244.8 97240.11234567', 'collect: the stored ticker');

-- ---- errors
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('aster', 'NOPE')$$, '38000',
                 'aster answered GET /fapi/v1/ticker/24hr?symbol=NOPEUSDT with HTTP status 400',
                 'an unknown symbol: Aster''s 400, naming venue, path and status');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('aster', 'btc/x')$$, '42704',
                 NULL, 'a symbol Aster cannot name');

SELECT * FROM finish();
ROLLBACK;
