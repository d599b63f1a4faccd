-- fetch_* against the mock KuCoin Futures (test/mock/venues/kucoin.py), which
-- serves the project's own payloads (test/payloads/kucoinfutures, written
-- from KuCoin Futures' API documentation).  Every expected value below is
-- worked out by hand from those payloads: sizes are contract counts x the
-- contract's multiplier (XBTUSDTM 0.001 BTC, ETHUSDTM 0.01 ETH, SOLUSDTM
-- 0.1 SOL), 19-digit "ts" fields are nanoseconds (stored to the
-- microsecond, the rest cut off), kline and funding times milliseconds.
-- Numbers are read from the JSON text: 1.7693405127341821E9 and a
-- 20-decimal value come out digit for digit.
BEGIN;
SELECT plan(50);

\getenv mock_url PERPS_MOCK_URL
-- earlier tests insert markets with explicit ids (test/sql/10_partitions.sql):
-- move the identity past them so that refresh_markets can insert
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1)) \gset
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/kucoin' WHERE name = 'kucoin';

-- ---- markets: contracts/active lists XBTUSDTM, ETHUSDTM, SOLUSDTM (linear) and XBTUSDM (inverse)
SELECT is(perps_stats.refresh_markets('kucoin'), 3, 'refresh_markets upserts the 3 linear perpetuals (BTC, ETH, SOL)');
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty,
             max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('kucoin') ORDER BY symbol$$,
    $$VALUES ('BTC'::text, 'XBTUSDTM'::text, 'BTC'::text, 'USDT'::text, 0.001::numeric, 0.1::numeric,
              0.001::numeric, 0.001::numeric, 1000::numeric, 125::numeric, 8::numeric),
             ('ETH', 'ETHUSDTM', 'ETH', 'USDT', 0.01, 0.01, 0.01, 0.01, 10000, 100, 8),
             ('SOL', 'SOLUSDTM', 'SOL', 'USDT', 0.1, 0.001, 0.1, 0.1, 100000, 75, 4)$$,
    'markets: XBT is BTC; lot 1 contract x multiplier (0.001 BTC, 0.01 ETH, 0.1 SOL); max 1000000 contracts '
    '(1000 BTC, 10000 ETH, 100000 SOL); funding 8 h from fundingRateGranularity 28800000 (BTC) or from '
    '.ETHUSDTMFPI8H (ETH has no granularity field), 4 h from 14400000 (SOL)');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_markets('kucoin') WHERE native_symbol = 'XBTUSDM'), 0,
    'the inverse XBTUSDM contract is not listed');
SELECT is((SELECT native_symbol FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'kucoin' AND m.symbol = 'BTC'), 'XBTUSDTM', 'markets maps BTC to XBTUSDTM');
SELECT is((SELECT contract_size FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'kucoin' AND m.symbol = 'SOL'), 0.1::numeric, 'markets keeps SOL''s multiplier as its contract size');

-- ---- ticker: contracts/XBTUSDTM (detail) + ticker?symbol=XBTUSDTM
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price FROM perps_stats.fetch_ticker('kucoin', 'BTC')$$,
    $$VALUES ('kucoin'::text, 'BTC'::text, '2026-11-18 09:41:27.31825+00'::timestamptz, 97016.9::numeric,
              97018.43::numeric, 97021.87::numeric)$$,
    'ticker: ts 1794994887318250000 ns; last price "97016.9" of /ticker (not the contract''s older lastTradePrice 97012.5); mark and index of the contract');
SELECT results_eq(
    $$SELECT best_bid_price, best_bid_qty, best_ask_price, best_ask_qty FROM perps_stats.fetch_ticker('kucoin', 'BTC')$$,
    $$VALUES (97016.8::numeric, 1.873::numeric, 97016.9::numeric, 0.027::numeric)$$,
    'ticker: best bid 1873 contracts = 1.873 BTC, best ask 27 contracts = 0.027 BTC');
-- open interest "7431856" (a string) contracts x 0.001 = 7431.856 BTC;
-- x mark 97018.43: 7431.856 x 97000 = 720890032 + 7431.856 x 18.43 = 136969.10608 -> 721027001.10608
SELECT results_eq(
    $$SELECT volume_24h, turnover_24h, open_interest, open_interest_notional FROM perps_stats.fetch_ticker('kucoin', 'BTC')$$,
    $$VALUES (18245.318::numeric, 1769340512.7341821::numeric, 7431.856::numeric, 721027001.10608::numeric)$$,
    'ticker: volumeOf24h is BTC already; turnover 1.7693405127341821E9; open interest in BTC and its notional at mark');
SELECT is((SELECT turnover_24h::text FROM perps_stats.fetch_ticker('kucoin', 'BTC')), '1769340512.7341821',
    'ticker: the exponent form 1.7693405127341821E9 is read exactly (7 decimals, not rounded through a double)');
SELECT results_eq(
    $$SELECT price_change_24h, price_change_pct, high_24h, low_24h FROM perps_stats.fetch_ticker('kucoin', 'BTC')$$,
    $$VALUES (-1238.6::numeric, -0.0126::numeric, 98650.0::numeric, 96102.4::numeric)$$,
    'ticker: priceChg -1238.6, priceChgPct is a fraction, high and low');

-- ---- all tickers: contracts/active + allTickers
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_tickers('kucoin')), 3, 'fetch_tickers: one row per linear market');
SELECT results_eq(
    $$SELECT symbol, best_bid_qty, best_ask_qty, open_interest FROM perps_stats.fetch_tickers('kucoin') ORDER BY symbol$$,
    $$VALUES ('BTC'::text, 1.873::numeric, 0.027::numeric, 7431.856::numeric),
             ('ETH', 1.2, 0.8, 29045.18),
             ('SOL', 12.0, 8.0, 185037.7)$$,
    'fetch_tickers in base units: BTC 1873/27 contracts x 0.001; ETH 120/80 x 0.01, OI 2904518 x 0.01; '
    'SOL 120/80 x 0.1, OI 1850377 x 0.1');
SELECT results_eq(
    $$SELECT price_change_24h::text, turnover_24h::text, ts FROM perps_stats.fetch_tickers('kucoin') WHERE symbol = 'SOL'$$,
    $$VALUES ('-3.41500000000000000000'::text, '318446120.59360000000000000000'::text,
              '2026-11-18 09:41:27.318+00'::timestamptz)$$,
    'SOL: 20-decimal priceChg and turnoverOf24h kept digit for digit; the allTickers row''s time');

-- ---- order book: level2 depth20 for depth <= 20 (prices are strings, sizes contracts)
SELECT results_eq(
    $$SELECT ts, seq, bids, asks FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 20)$$,
    $$VALUES ('2026-11-18 09:41:27.530482+00'::timestamptz, 1812734905518::bigint,
              '{{97016.8,1.873},{97016.5,0.402},{97015.0,0.005},{97011.2,12.040},{97009.9,0.077},{97004.1,3.150},{96998.7,0.860},{96990.0,25.000}}'::numeric[],
              '{{97016.9,0.027},{97017.3,1.190},{97018.0,6.425},{97020.6,0.300},{97024.4,0.009},{97027.0,18.750},{97031.8,2.222},{97040.0,40.000}}'::numeric[])$$,
    'book: ts 1794994887530482117 ns (to the microsecond), sequence, 8 levels a side, sizes x 0.001');
SELECT is((SELECT bids[4][2]::text || ' ' || asks[8][2]::text FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 20)),
    '12.040 40.000', 'book: 12040 and 40000 contracts x 0.001 keep the multiplier''s scale');
SELECT results_eq(
    $$SELECT bids, asks FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 2)$$,
    $$VALUES ('{{97016.8,1.873},{97016.5,0.402}}'::numeric[], '{{97016.9,0.027},{97017.3,1.190}}'::numeric[])$$,
    'book: depth 2 keeps the two best levels per side');
SELECT results_eq(
    $$SELECT array_length(bids, 1), array_length(asks, 1), bids[8:8][1:2] FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 500)$$,
    $$VALUES (8, 8, '{{96990.0,25.000}}'::numeric[])$$,
    'book: depth 500 uses the full snapshot (all 8 levels a side)');

-- ---- funding rate: timePoint 1794988800000 ms = 2026-11-18 08:00; + granularity 28800000 ms (8 h) = 16:00
SELECT results_eq(
    $$SELECT symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('kucoin', 'BTC')$$,
    $$VALUES ('BTC'::text, '2026-11-18 08:00:00+00'::timestamptz, 0.000087::numeric, 0.000112::numeric,
              '2026-11-18 16:00:00+00'::timestamptz, 8::numeric)$$,
    'funding: timePoint, value, predictedValue, next = timePoint + granularity, 8 h');

-- ---- open interest: from the contract detail
SELECT results_eq(
    $$SELECT symbol, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('kucoin', 'BTC')$$,
    $$VALUES ('BTC'::text, 7431.856::numeric, 721027001.10608::numeric)$$,
    'open interest: "7431856" contracts = 7431.856 BTC; notional at mark 97018.43 (see the ticker)');
SELECT ok((SELECT ts IS NULL FROM perps_stats.fetch_open_interest('kucoin', 'BTC')),
    'open interest: the contract detail has no time, so ts is null (not invented)');
SELECT results_eq(
    $$SELECT open_interest FROM perps_stats.fetch_open_interest('kucoin', 'SOL')$$,
    $$VALUES (185037.7::numeric)$$,
    'open interest: SOL "1850377" contracts x 0.1');

-- ---- klines: the payload's 1h candles [time ms, open, high, low, close, volume (contracts), turnover (USDT)]
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('kucoin', 'BTC', '1h', '2026-11-18 05:00+00', '2026-11-18 07:00+00')$$,
    $$VALUES ('2026-11-18 05:00+00'::timestamptz, '2026-11-18 05:59:59.999+00'::timestamptz,
              96780.4::numeric, 97122.9::numeric, 96701.3::numeric, 97045.0::numeric, 402.317::numeric,
              38979123.4621::numeric, NULL::bigint),
             ('2026-11-18 06:00+00', '2026-11-18 06:59:59.999+00', 97045.1, 97311.7, 96938.2, 97260.5, 288.904, 28054318.73815, NULL),
             ('2026-11-18 07:00+00', '2026-11-18 07:59:59.999+00', 97260.4, 97288.0, 96874.6, 96931.8, 351.622, 34112905.216, NULL)$$,
    'klines: 1794978000000 ms = 05:00; volumes 402317/288904/351622 contracts x 0.001; turnover in USDT as sent');
-- a day of 1m candles (the mock generates them, documented format): 1441 candles, pages of 500 (documented limit)
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT open_time)::int, min(open_time), max(open_time)
        FROM perps_stats.fetch_klines('kucoin', 'BTC', '1m', '2026-11-01 00:00+00', '2026-11-02 00:00+00')$$,
    $$VALUES (1441, 1441, '2026-11-01 00:00+00'::timestamptz, '2026-11-02 00:00+00'::timestamptz)$$,
    'klines: 1441 one-minute candles over a day, paged 500 at a time without gaps or repeats');
SELECT ok((SELECT count(*) FROM perps_stats.fetch_klines('kucoin', 'BTC', '1m', '2026-11-01 00:00+00', NULL, 700)) = 700,
    'klines: max_rows 700 over two pages');
SELECT ok((SELECT bool_and(volume = (1000 + (extract(epoch FROM open_time)::bigint / 60) % 13) * 0.001)
             FROM perps_stats.fetch_klines('kucoin', 'BTC', '1m', '2026-11-01 00:00+00', '2026-11-01 10:00+00')),
    'klines: generated volumes (1000 + minute mod 13 contracts) come out x 0.001');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('kucoin', 'BTC', '2h')$$, '22023', NULL,
    'klines: an interval outside 1m..1d is refused');

-- ---- trades: the payload's last trades, newest first (two share a time, 09:41:26.905)
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('kucoin', 'BTC') ORDER BY trade_id$$,
    $$VALUES ('1812734905371'::text, '2026-11-18 09:41:25.042731+00'::timestamptz, 97017.2::numeric, 0.001::numeric, 'buy'::text),
             ('1812734905375', '2026-11-18 09:41:26.905+00', 97016.8, 0.250, 'sell'),
             ('1812734905376', '2026-11-18 09:41:26.905+00', 97016.8, 0.003, 'sell'),
             ('1812734905377', '2026-11-18 09:41:27.31825+00', 97016.9, 0.014, 'buy')$$,
    'trades: ns times to the microsecond; sizes 1, 250, 3, 14 contracts x 0.001; the taker''s side');
SELECT results_eq(
    $$SELECT trade_id FROM perps_stats.fetch_trades('kucoin', 'BTC', 2)$$,
    $$VALUES ('1812734905377'::text), ('1812734905376')$$,
    'trades: max_rows 2 keeps the first two of the answer (the newest)');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_trades('kucoin', 'ETH', 10)), 10, 'trades: max_rows bounds the rows');
SELECT results_eq(
    $$SELECT qty FROM perps_stats.fetch_trades('kucoin', 'ETH', 2)$$,
    $$VALUES (0.01::numeric), (0.02::numeric)$$,
    'trades: ETHUSDTM sizes 1 and 2 contracts (documented-format mock) x multiplier 0.01');

-- ---- funding history (documented-format mock: settlements at 04, 12, 20 UTC, newest first, 100 per page;
-- the rate of the settlement at t ms is ((n mod 7) - 3) x 0.000025 with n = floor(t / 28800000):
-- 2026-11-01 04:00 = 1793505600000 ms, n = 62274, 62274 mod 7 = 2 -> -0.000025; 12:00: n = 62275 -> 0;
-- 20:00: n = 62276 -> 0.000025)
SELECT results_eq(
    $$SELECT funding_time, rate FROM perps_stats.fetch_funding_history('kucoin', 'BTC', '2026-11-01 00:00+00', '2026-11-01 23:59+00')
       ORDER BY funding_time$$,
    $$VALUES ('2026-11-01 04:00+00'::timestamptz, -0.000025::numeric),
             ('2026-11-01 12:00+00', 0), ('2026-11-01 20:00+00', 0.000025)$$,
    'funding history: timepoint ms; a negative, a zero and a positive rate');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT funding_time)::int, min(funding_time), max(funding_time)
        FROM perps_stats.fetch_funding_history('kucoin', 'BTC', '2026-09-01 00:00+00', '2026-11-15 00:00+00')$$,
    $$VALUES (225, 225, '2026-09-01 04:00+00'::timestamptz, '2026-11-14 20:00+00'::timestamptz)$$,
    'funding history: 75 days (30 + 31 + 14) x 3 = 225 settlements, paging backwards 100 at a time');

-- ---- ETH: another multiplier (0.01); its ticker and book are the mock's documented format, from the contract
SELECT results_eq(
    $$SELECT mark_price, best_bid_price, best_bid_qty, best_ask_qty, open_interest, volume_24h FROM perps_stats.fetch_ticker('kucoin', 'ETH')$$,
    $$VALUES (3612.47::numeric, 3612.46::numeric, 1.2::numeric, 0.8::numeric, 29045.18::numeric, 402881.27::numeric)$$,
    'ETH ticker: mark of the contract; bid mark - tick; 120 and 80 contracts and OI 2904518 contracts x 0.01 ETH; volume as sent');
SELECT results_eq(
    $$SELECT bids[1:1][1:2], asks[1:1][1:2] FROM perps_stats.fetch_orderbook('kucoin', 'ETH', 5)$$,
    $$VALUES ('{{3612.46,0.1}}'::numeric[], '{{3612.47,0.1}}'::numeric[])$$,
    'ETH book: 10 contracts x 0.01 at mark - tick and at mark');

-- ---- symbols both ways and errors
SELECT is((SELECT symbol FROM perps_stats.fetch_ticker('kucoin', 'BTC')), 'BTC', 'fetch_ticker answers with the global symbol');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('kucoin', 'NOPE')$$, '42704', NULL,
    'an unknown symbol is an undefined_object error');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 0)$$, '22023', NULL,
    'depth 0 is refused');

-- a venue error payload is an error naming the venue, not a row
INSERT INTO perps_stats.markets (exchange_id, symbol, native_symbol, base, quote, contract_size)
SELECT id, 'GONE', 'GONEUSDTM', 'GONE', 'USDT', 1 FROM perps_stats.exchanges WHERE name = 'kucoin';
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('kucoin', 'GONE')$$, '38000', NULL,
    'KuCoin code 400100 becomes an external_routine_exception');
SELECT throws_like($$SELECT * FROM perps_stats.fetch_funding_rate('kucoin', 'GONE')$$, '%kucoin%',
    'the error names the venue');

-- ---- more paths: depth100, allTickers times, limits of the other contracts
SELECT results_eq(
    $$SELECT seq, array_length(bids, 1), asks[1][1] FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 100)$$,
    $$VALUES (1812734905518::bigint, 8, 97016.9::numeric)$$,
    'depth 100 book');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_tickers('kucoin') WHERE ts IS NOT NULL), 3,
    'every all-tickers row has the time of its allTickers entry');
SELECT is((SELECT interval_hours FROM perps_stats.fetch_funding_history('kucoin', 'BTC', '2026-11-01 00:00+00', '2026-11-01 12:00+00') LIMIT 1),
    NULL, 'funding history rows do not say their interval');
SELECT is((SELECT max_leverage FROM perps_stats.fetch_markets('kucoin') WHERE symbol = 'ETH'), 100::numeric,
    'ETH max leverage');
SELECT is((SELECT max_qty FROM perps_stats.fetch_markets('kucoin') WHERE symbol = 'SOL'), 100000::numeric,
    'SOL max order 1000000 contracts x 0.1');
SELECT is((SELECT string_agg(symbol || ':' || active, ',' ORDER BY symbol) FROM perps_stats.markets m
             JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = 'kucoin' AND symbol <> 'GONE'),
    'BTC:true,ETH:true,SOL:true', 'markets: each contract of status Open is active');

-- ---- faults injected by the mock (one request each): errors, never rows
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"kucoin","path":"^/api/v1/level2/depth20$","kind":"truncate","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 20)$$, '22032', NULL,
    'truncate: a truncated book is an invalid-JSON error, not a half book');
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"kucoin","path":"^/api/v1/trade/history$","kind":"garbage","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('kucoin', 'BTC')$$, '22032', NULL,
    'garbage: an HTML page instead of JSON is an invalid-JSON error');
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"kucoin","path":"^/api/v1/funding-rate/XBTUSDTM/current$","kind":"wrong_types","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_funding_rate('kucoin', 'BTC')$$, '22000', NULL,
    'wrong_types: wrong-typed fields are a data exception');
-- KuCoin also says "too many requests" in an HTTP 200 answer, with its own code (documented: 200002)
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"kucoin","path":"^/api/v1/contracts/XBTUSDTM$","kind":"status","status":200,"body":{"code":"200002","msg":"Too many requests in a short period of time, please retry later"},"count":1}' >/dev/null
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ' ' || SQLERRM || ' / ' || d;
END $f$;
SELECT alike(pg_temp.error_of($$SELECT * FROM perps_stats.fetch_open_interest('kucoin', 'BTC')$$),
    '38000 kucoin refused the open interest request / %200002%Too many requests%',
    'code 200002 in an HTTP 200 answer is a venue error (external_routine_exception) that says the code and message, not a row');
\! curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
SELECT results_eq(
    $$SELECT bids[1:1][1:2] FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 20)$$,
    $$VALUES ('{{97016.8,1.873}}'::numeric[])$$,
    'the same call succeeds once the faults are spent');

SELECT * FROM finish();
ROLLBACK;
