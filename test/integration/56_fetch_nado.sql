-- fetch_* against the Nado mock (test/mock/venues/nado.py: the gateway under
-- .../nado, the archive under .../nado/aux) serving the project's own
-- payloads (test/payloads/nado, written from docs.nado.xyz, "Developer
-- resources / API").  Expected values are worked out by hand from those
-- payloads and from the formulas of the mock's generated history (its
-- docstring), never from this code's output.  x18 fixed point: the integer
-- text divided by 10^18, i.e. the decimal point moved 18 places left.  The
-- mock's "now" is 1796116499 s = 2026-12-01 09:14:59 UTC (2026-12-01 00:00
-- is 1796083200; 09:00 is 1796115600, 08:00 1796112000, 07:00 1796108400).
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SELECT plan(33);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/nado', aux_url = :'mock_url' || '/nado/aux'
 WHERE name = 'nado';

-- ---- the venue row
SELECT results_eq(
    $$SELECT id, rest_url LIKE '%/nado', aux_url LIKE '%/nado/aux', ws_url, maker_fee, taker_fee
        FROM perps_stats.exchanges WHERE name = 'nado'$$,
    $$VALUES (12::smallint, true, true, 'wss://gateway.prod.nado.xyz/v1/subscribe', 0.0001::numeric, 0.00035::numeric)$$,
    'exchanges: nado is id 12, gateway and archive hosts, entry-tier fees (1 bp maker, 3.5 bps taker)');

-- ---- markets: fetchMarkets.symbols.json (product_type=perp: the spot KBTC is not sent) and
-- fetchMarkets.symbolsList.json (XRP-PERP, product 10, delisted: left out)
SELECT is((SELECT string_agg(symbol || '=' || native_symbol, ',' ORDER BY symbol) FROM perps_stats.fetch_markets('nado')),
          'BTC=2,ETH=4,SOL=8,ZEC=18', 'fetch_markets: the listed perpetuals, global symbol = symbol without -PERP, native = product id');
-- BTC: price_increment_x18 1000000000000000000 / 10^18 = 1; size_increment 50000000000000
-- (14 digits) / 10^18 = 0.00005; min_size 100000000000000000000 (21 digits) = 100 (USDT0
-- notional); long_weight_initial 0.95: 1 / (1 - 0.95) = 20
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty,
             min_notional, max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('nado') WHERE symbol = 'BTC'$$,
    $$VALUES ('BTC', '2', 'BTC', 'USDT0', 1::numeric, 1::numeric, 0.00005::numeric, NULL::numeric, NULL::numeric,
              100::numeric, 20::numeric, 1::numeric)$$,
    'fetch_markets: BTC-PERP from x18 texts: tick 1, lot 0.00005, min notional 100, 20x, hourly funding');
-- ETH: 10^17 / 10^18 = 0.1, 10^15 / 10^18 = 0.001, 0.975: 1 / 0.025 = 40; SOL: 10^16 -> 0.01,
-- 10^16 -> 0.01, 5 x 10^19 -> 50, 0.9: 1 / 0.1 = 10; ZEC: 5 x 10^15 -> 0.005, 10^17 -> 0.1,
-- 12500000000000000000 (20 digits) -> 12.5, 0.93: 1 / 0.07 = 14.28... not whole: no leverage
SELECT is((SELECT string_agg(symbol || ' ' || tick_size || ' ' || lot_size || ' ' || min_notional || ' '
                             || coalesce(max_leverage::text, '-'), ', ' ORDER BY symbol)
             FROM perps_stats.fetch_markets('nado') WHERE symbol <> 'BTC'),
          'ETH 0.1 0.001 100 40, SOL 0.01 0.01 50 10, ZEC 0.005 0.1 12.5 -',
          'fetch_markets: ticks, lots and minimum notionals exact; a leverage only where 1 / (1 - weight) is whole');
SELECT is(perps_stats.refresh_markets('nado'), 4, 'refresh_markets upserts 4 markets');
SELECT is((SELECT string_agg(m.symbol, ',' ORDER BY m.symbol) FROM perps_stats.markets m
             JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = 'nado' AND m.active),
          'BTC,ETH,SOL,ZEC', 'markets: no spot KBTC, no delisted XRP');

-- ---- ticker: the BTC-PERP_USDT0 contract of fetchTickers.contracts.json, the best levels of
-- fetchOrderBook.btc.json (market_liquidity depth 1): bid 97244 (97244 x 10^18) of 1.25
-- (1250000000000000000), ask 97245 of 0.8 (800000000000000000); ts the book's
-- 1796116498123456789 ns = 09:14:58.123456 (ns truncated to µs); price_change_percent_24h
-- -0.6348599635253989123456 (percent, 22 decimals) / 100 = -0.006348599635253989123456
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty,
             best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional,
             price_change_24h, price_change_pct, high_24h, low_24h
        FROM perps_stats.fetch_ticker('nado', 'BTC')$$,
    $$VALUES ('nado', 'BTC', '2026-12-01 09:14:58.123456+00'::timestamptz, 97244.0::numeric,
              97251.99874120045::numeric, 97262.13120445701::numeric, 97244::numeric, 1.25::numeric,
              97245::numeric, 0.8::numeric, 1523.187::numeric, 148021655.50449601::numeric,
              812.455::numeric, 79013581.27::numeric, NULL::numeric, -0.006348599635253989123456::numeric,
              NULL::numeric, NULL::numeric)$$,
    'fetch_ticker: the contract''s figures as sent, the book''s best levels from x18, the change as a fraction');
SELECT is((SELECT price_change_pct::text FROM perps_stats.fetch_ticker('nado', 'BTC')),
          '-0.006348599635253989123456', 'fetch_ticker: a 24-decimal fraction exactly (no double on the way)');

-- ---- all tickers: the four perpetual contracts (the spot KBTC_USDT0 is left out); percents
-- 2.5 -> 0.025, 0 -> 0, -12.75 -> -0.1275
SELECT results_eq(
    $$SELECT symbol, last_price, volume_24h, open_interest, price_change_pct, best_bid_price
        FROM perps_stats.fetch_tickers('nado') ORDER BY symbol$$,
    $$VALUES ('BTC', 97244.0::numeric, 1523.187::numeric, 812.455::numeric, -0.006348599635253989123456::numeric, NULL::numeric),
             ('ETH', 3521.4, 20418.25, 15002.5, 0.025, NULL),
             ('SOL', 160.12, 88000.5, 41000, 0, NULL),
             ('ZEC', 412.345, 1200.3, 3300.1, -0.1275, NULL)$$,
    'fetch_tickers: the perpetual contracts, percent changes as fractions, no book');

-- ---- order book: fetchOrderBook.btc.json, 5 levels a side, x18 prices and sizes:
-- 500000000000000 (15 digits) = 0.0005, 10050000000000000 (17) = 0.01005, 7777777000000000000
-- (19) = 7.777777, 2000000000000000 (16) = 0.002, 123456789012345678 (18) = 0.123456789012345678
SELECT results_eq(
    $$SELECT exchange, symbol, ts, bids, asks, seq FROM perps_stats.fetch_orderbook('nado', 'BTC')$$,
    $$VALUES ('nado', 'BTC', '2026-12-01 09:14:58.123456+00'::timestamptz,
              '{{97244,1.25},{97243,0.0005},{97242,3},{97240,0.01005},{97235,7.777777}}'::numeric[],
              '{{97245,0.8},{97246,0.002},{97248,1.5},{97250,25},{97260,0.123456789012345678}}'::numeric[],
              1796116498123456789::bigint)$$,
    'fetch_orderbook: the whole book from x18, exact to the 18th decimal, best first, its timestamp in ns as its sequence (the stream continues it)');
SELECT is((SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[2][2] || ' ' || asks[2][1]
             FROM perps_stats.fetch_orderbook('nado', 'BTC', 2)),
          '2 2 0.0005 97246', 'fetch_orderbook: depth 2 asks market_liquidity for 2 levels');

-- ---- funding rate: fetchFundingRate.json, the archive's 24 h rate for product 2:
-- 2447900598160953 / 24 = 101995858256706 rest 9 (24 x 101995858256706 = 2447900598160944),
-- 9 / 24 = 0.375: 101995858256706.375 x 10^-18 = 0.000101995858256706375 an hour, exactly;
-- update_time 1796116470 = 09:14:30, settled at the next whole hour, 10:00
SELECT results_eq(
    $$SELECT exchange, symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('nado', 'BTC')$$,
    $$VALUES ('nado', 'BTC', '2026-12-01 10:00:00+00'::timestamptz, 0.000101995858256706375::numeric,
              NULL::numeric, '2026-12-01 10:00:00+00'::timestamptz, 1::numeric)$$,
    'fetch_funding_rate: the 24 h rate / 24 for the hour settling at 10:00');
-- ETH: -697407056090986 / 24 = -29058627337124 rest 10 (24 x 29058627337124 = 697407056090976),
-- 10 / 24 = 0.41666...: -0.000029058627337124 41666666666666666666|6..., rounded at the 38th
-- decimal (the 39th is 6: up) -0.00002905862733712441666666666666666667
SELECT is((SELECT rate::text FROM perps_stats.fetch_funding_rate('nado', 'ETH')),
          '-0.00002905862733712441666666666666666667',
          'fetch_funding_rate: a 24th that does not end is rounded at the 38th decimal, half away from zero');

-- ---- open interest: the contract's open_interest (base) and open_interest_usd
SELECT results_eq(
    $$SELECT open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('nado', 'SOL')$$,
    $$VALUES (41000::numeric, 6565330::numeric)$$,
    'fetch_open_interest: SOL-PERP_USDT0''s open interest and its USD value');

-- ---- klines: the three 1m candles of fetchOHLCV.json (09:12, 09:13, 09:14 = 1796116320,
-- ..380, ..440); volume 1999999999999999998 (19 digits) = 1.999999999999999998, 3512050000000000000
-- = 3.51205; no turnover or trade count in Nado's candles
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('nado', 'BTC', '1m', '2026-12-01 09:12:00+00', '2026-12-01 09:14:00+00')$$,
    $$VALUES ('2026-12-01 09:12:00+00'::timestamptz, '2026-12-01 09:12:59.999+00'::timestamptz,
              97228::numeric, 97235::numeric, 97220::numeric, 97231::numeric, 0::numeric, NULL::numeric, NULL::bigint),
             ('2026-12-01 09:13:00+00', '2026-12-01 09:13:59.999+00', 97231, 97252, 97229, 97250,
              1.999999999999999998, NULL, NULL),
             ('2026-12-01 09:14:00+00', '2026-12-01 09:14:59.999+00', 97250, 97260.5, 97238, 97244, 3.51205, NULL, NULL)$$,
    'fetch_klines: the payload''s candles from x18, oldest first');
-- a generated 1h candle: 08:00 = 1796112000 s, i = 1796112000 / 60 = 29935200, i mod 83 =
-- 29935200 - 83 x 360665 (= 29935195) = 5: open 97000 + 5/8 = 97000.625, high + 6, low - 6,
-- close + 0.625; i mod 5 = 0: volume 1/4
SELECT results_eq(
    $$SELECT open, high, low, close, volume
        FROM perps_stats.fetch_klines('nado', 'BTC', '1h', '2026-12-01 08:00:00+00', '2026-12-01 08:00:00+00')$$,
    $$VALUES (97000.625::numeric, 97006.625::numeric, 96994.625::numeric, 97001.25::numeric, 0.25::numeric)$$,
    'fetch_klines: a 1h candle (granularity 3600)');
-- paging: 2026-11-30 00:00 .. 2026-12-01 09:14 is 1440 + 9 x 60 + 14 + 1 = 1995 candles,
-- 4 pages of at most 500
SELECT is((SELECT count(*) || ' ' || count(DISTINCT open_time) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('nado', 'BTC', '1m', '2026-11-30 00:00:00+00', '2026-12-01 09:14:00+00')),
          '1995 1995 2026-11-30 00:00:00+00 2026-12-01 09:14:00+00', 'fetch_klines: four pages, no gap, no duplicate');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('nado', 'BTC', '30m')$$, '0A000', NULL,
                 'fetch_klines: Nado has no 30m candles (0A000)');

-- ---- funding history: market_snapshots for [2], count 3, granularity 3600, max_time 09:00
-- is fetchFundingRateHistory.json: 1796115598 (09:00 - 2 s) rate 3611102723387 (13 digits) x
-- 10^-18 = 0.000003611102723387, keyed 09:00; 1796111996 (08:00 - 4 s) -1250000000000 =
-- -0.00000125, keyed 08:00; 07:00 has no rate for product 2: no row
SELECT results_eq(
    $$SELECT funding_time, rate, interval_hours
        FROM perps_stats.fetch_funding_history('nado', 'BTC', '2026-12-01 07:00:00+00', '2026-12-01 09:00:00+00')$$,
    $$VALUES ('2026-12-01 08:00:00+00'::timestamptz, -0.00000125::numeric, 1::numeric),
             ('2026-12-01 09:00:00+00', 0.000003611102723387, 1)$$,
    'fetch_funding_history: hourly x18 rates keyed by the hour mark, a snapshot without the product skipped');
-- generated: 2026-11-01 00:00 (1793491200, hour 498192) .. 2026-12-01 09:00: 30 x 24 + 10 = 730
-- marks, pages of 100; the mark M = 2026-11-01 05:00 (hour 498197, mod 11 = 498197 - 11 x
-- 45290 (= 498190) = 7): (7 - 5) x 10^12 + 2 = 2000000000002 -> 0.000002000000000002
SELECT is((SELECT count(*) || ' ' || count(DISTINCT funding_time) || ' '
                  || (SELECT rate FROM perps_stats.fetch_funding_history('nado', 'BTC', '2026-11-01 05:00+00', '2026-11-01 05:00+00'))
             FROM perps_stats.fetch_funding_history('nado', 'BTC', '2026-11-01 00:00:00+00', '2026-12-01 09:00:00+00')),
          '730 730 0.000002000000000002', 'fetch_funding_history: pages through 730 hours, 100 at a time');

-- ---- recent trades: fetchTrades.json; base_filled signed by the side (-0.125 sold), ids
-- beyond 2^53 (9007199254740992) kept as text, seconds
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('nado', 'BTC') ORDER BY trade_id$$,
    $$VALUES ('9007199254740990', '2026-12-01 09:13:41+00'::timestamptz, 97243.0::numeric, 2.0::numeric, 'buy'),
             ('9007199254740993', '2026-12-01 09:14:57+00', 97244.58899999999, 1.2, 'sell'),
             ('9007199254740994', '2026-12-01 09:14:57+00', 97245.0, 0.0005, 'buy'),
             ('9007199254740995', '2026-12-01 09:14:58+00', 97244.0, 0.125, 'sell')$$,
    'fetch_trades: ids beyond 2^53 as text, quantities unsigned, the taker''s side from trade_type');
SELECT is((SELECT string_agg(trade_id, ',' ORDER BY trade_id) FROM perps_stats.fetch_trades('nado', 'BTC', 2)),
          '9007199254740994,9007199254740995', 'fetch_trades: the newest 2 (limit=2)');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('nado', 'BTC', '2026-12-01 09:00+00', '2026-12-01 09:10+00')$$,
                 '0A000', NULL, 'fetch_trades over a time range: 0A000 (trades page back by id from the newest only)');
SELECT is((SELECT no_trades_history LIKE 'Nado''s trades (archive /v2/trades) page back by trade id%'
             FROM perps_stats.adapter_limits('nado')), true, 'adapter_limits: why no trade history');
SELECT results_eq(
    $$SELECT kline_page, funding_page, trades_page, rate_weight, rate_window_ms FROM perps_stats.adapter_limits('nado')$$,
    $$VALUES (500, 100, 500, 400, 10000)$$,
    'adapter_limits: pages of 500 candles and 100 snapshots, 400 weight every 10 s');

-- ---- collect: one round for BTC (ticker, open interest, funding, book)
CREATE TEMP TABLE r AS SELECT * FROM perps_stats.collect('{nado}', '{BTC}');
SELECT results_eq(
    $$SELECT kind, rows, error IS NULL FROM r ORDER BY kind$$,
    $$VALUES ('funding', 1, true), ('open_interest', 1, true), ('orderbook', 18, true), ('ticker', 1, true)$$,
    'collect: ticker, open interest, funding and a book with its depth and 16 slippage rows');
SELECT is((SELECT f.rate::text || ' ' || f.funding_time || ' ' || f.interval_hours FROM perps_stats.funding_rates f
             JOIN perps_stats.markets m ON m.id = f.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'nado' AND m.symbol = 'BTC'),
          '0.000101995858256706375 2026-12-01 10:00:00+00 1', 'collect: the hour''s rate keyed by its settlement');
SELECT is((SELECT best_bid_qty::text || ' ' || best_ask_price::text || ' ' || open_interest::text FROM perps_stats.tickers t
             JOIN perps_stats.markets m ON m.id = t.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'nado' AND m.symbol = 'BTC'),
          '1.25 97245 812.455', 'collect: the stored ticker');
-- mid (97244 + 97245) / 2 = 97244.5; within 1 bp (from 97244.5 x 0.9999 = 97234.77555): bids
-- 97244 x 1.25 = 121555, 97243 x 0.0005 = 48.6215, 97242 x 3 = 291726, 97240 x 0.01005 =
-- 977.262, 97235 x 7.777777 = 680645 + 97235 x 0.777777 (68064.5 + 6806.45 + 680.645 + 68.0645 +
-- 6.80645 + 0.680645 = 75627.146595) = 756272.146595; the sum 1170579.030095
SELECT is((SELECT bid_1bps::text FROM perps_stats.liquidity_depth d
             JOIN perps_stats.markets m ON m.id = d.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'nado' AND m.symbol = 'BTC'),
          '1170579.030095', 'collect: the liquidity depth of the stored book');

-- ---- errors
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('nado', 'NOPE')$$, '42704', NULL,
                 'a symbol the markets list does not have');
UPDATE perps_stats.markets SET native_symbol = '77' WHERE symbol = 'ZEC'
   AND exchange_id = (SELECT id FROM perps_stats.exchanges WHERE name = 'nado');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('nado', 'ZEC')$$, '38000', NULL,
                 'a product the gateway does not know: its failure answer is the venue''s error');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_funding_rate('nado', 'ZEC')$$, '38000', NULL,
                 'a product the archive does not know: its HTTP 400 is the venue''s error');
UPDATE perps_stats.exchanges SET aux_url = NULL WHERE name = 'nado';
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_funding_rate('nado', 'BTC')$$, '55000',
                 'exchange "nado" has no aux_url', 'without aux_url the archive''s queries fail with 55000');

SELECT * FROM finish();
ROLLBACK;
