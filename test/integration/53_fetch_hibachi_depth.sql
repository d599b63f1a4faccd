-- collect() for Hibachi with its coarser books (issue 19): each market's
-- orderbookGranularities (exchange-info) are kept in markets.book_steps, and
-- the book's resolution k asks /market/data/orderbook?granularity= the
-- market's k-th step, the finest sent explicitly.  The mock's /hibachi/deep
-- (test/mock/venues/hibachi.py, module docstring) serves a BTC book of four
-- zones a side, aggregated as the adapter takes Hibachi to round (a bid at x
-- into floor(x / G) * G, an ask into ceil(x / G) * G), and refuses a book
-- asked without granularity.  BTC's granularities are 0.1, 1, 10, 100.
--
-- The book, bids (asks mirror them above mid = (99999.9 + 100000.1) / 2 =
-- 100000, 1 bps = 10 USD):
--   A 99999.9 .. 99990.0 every 0.1, 0.1 each (100 levels)
--   B 99989.5 .. 99900.5 every 1, 1 each (90)
--   C 99895 .. 99005 every 10, 2 each (90)
--   D 98950 .. 98050 every 100, 5 each (10)
-- By hand, the first 100 buckets of each granularity:
--   0.1: A as it is, 99999.9 .. 99990.0 (reach (100000 - 99990) / 10 = 1 bps)
--   1:   A in 10 buckets 99999 .. 99990 of 10 x 0.1 = 1 each, B floored to
--        99989 .. 99900 (90 buckets, 1 each): reach 10 bps
--   10:  A into 99990 (qty 10), B into 99980 .. 99900 (9 buckets of 10 x 1 =
--        10), C into 99890 .. 99000 (90 buckets, 2 each): reach 100 bps
--   asks: 0.1 100000.1 .. 100010.0; 1: 100001 .. 100010 (1 each), 100011 ..
--        100100 (1 each); 10: 100010 (10), 100020 .. 100100 (10 each),
--        100110 .. 101000 (2 each)
-- So collect() asks 0.1 (1 bps), 1 (10 bps), 10 (100 bps) and stops: never 100.
-- Depth (bids >= 100000 - 10 x bps, asks <= 100000 + 10 x bps), each figure
-- from the finest book that reaches the threshold; n prices from a to b
-- sum to n x (a + b) / 2:
--   1 bps (0.1, deepest 99990.0 = the threshold): all of A, 0.1 x 100 x
--     (99990.0 + 99999.9) / 2 = 0.1 x 9999495 = 999949.5;
--     asks 0.1 x 100 x (100000.1 + 100010.0) / 2 = 1000050.5
--   2.5 bps (granularity 1, >= 99975): 10 x (99990 + 99999) / 2 = 999945
--     plus 99989 .. 99975, 15 x 99982 = 1499730: 2499675;
--     asks 10 x 100005.5 = 1000055 plus 100011 .. 100025, 15 x 100018 =
--     1500270: 2500325
--   5 bps (1, >= 99950): 999945 + 40 x (99989 + 99950) / 2 = 999945 +
--     3998780 = 4998725; asks 1000055 + 40 x 100030.5 = 1000055 + 4001220 =
--     5001275
--   10 bps (1, >= 99900, its deepest): 999945 + 90 x 99944.5 = 999945 +
--     8995005 = 9994950; asks 1000055 + 90 x 100055.5 = 1000055 + 9004995 =
--     10005050
--   20 bps (10, >= 99800): 99990 x 10 = 999900; 99980 .. 99900 x 10: 10 x 9
--     x 99940 = 8994600; 99890 .. 99800 x 2: 2 x 10 x 99845 = 1996900; in all
--     11991400; asks 100010 x 10 = 1000100, 10 x 9 x 100060 = 9005400, 2 x
--     10 x 100155 = 2003100: 12008600
--   50 bps (10, >= 99500): 999900 + 8994600 + 2 x 40 x 99695 (7975600) =
--     17970100; asks 1000100 + 9005400 + 2 x 40 x 100305 (8024400) = 18029900
--   100 bps (10, >= 99000): 999900 + 8994600 + 2 x 90 x 99445 (17900100) =
--     27894600; asks 1000100 + 9005400 + 2 x 90 x 100555 (18099900) = 28105400
--   max_bid_bps = (100000 - 99000) / 10 = 100, max_ask_bps = 100
-- Slippage (the finest book while it lasts, then each coarser one's levels
-- beyond the deepest price walked):
--   1K buy: 100000.1 x 0.1 = 10000.01 covers it: avg 100000.1, 0.01 bps
--   10M buy: the finest asks hold 1000050.5 (10 BTC, to 100010.0); then
--     granularity 1 beyond 100010.0: 100011 + j, 1 each, the first m sum to
--     100010 m + m (m + 1) / 2: m = 89 gives 8900890 + 4005 = 8904895 <=
--     8999949.5 (= 1e7 - 1000050.5) < m = 90; the rest, 95054.5, at 100100:
--     avg = 1e7 x 100100 / (99 x 100100 + 95054.5) = 1.001e12 / 10004954.5
--     = 100050.4300144493, (avg - 100000) / 10 = 5.0430014449 bps
--   10M sell: the finest bids hold 999949.5 (10 BTC, to 99990.0); granularity
--     1 beyond: 99989 .. 99900, 90 x 99944.5 = 8995005 (100 BTC in all, to 10
--     bps); the rest, 1e7 - 999949.5 - 8995005 = 5045.5, in granularity 10
--     beyond 99900: at 99890: avg = 1e7 x 99890 / (100 x 99890 + 5045.5) =
--     9.989e11 / 9994045.5 = 99949.5149386702, (100000 - avg) / 10 =
--     5.0485061330 bps
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(33);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/hibachi/deep' WHERE name = 'hibachi';
SELECT ok(perps_stats.refresh_markets('hibachi') >= 4, 'the markets of /deep exchange-info');
SELECT results_eq($$SELECT m.symbol, m.book_steps FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
                     WHERE e.name = 'hibachi' AND m.symbol IN ('BTC', 'ETH', 'PEPE') ORDER BY 1$$,
                  $$VALUES ('BTC', '{0.1,1,10,100}'::numeric[]), ('ETH', '{0.01,0.1,1,10}'),
                           ('PEPE', '{0.00000000000000000001,0.0000000000000000001}')$$,
                  'markets.book_steps holds each market''s orderbookGranularities, finest first');

SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE r AS SELECT * FROM perps_stats.collect('{hibachi}', '{BTC}');
SELECT clock_timestamp() AS t1 \gset
CREATE TEMP TABLE m AS
    SELECT m.id FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     WHERE e.name = 'hibachi' AND m.symbol = 'BTC';

-- (the /deep books answer only a request with granularity: the finest was sent)
SELECT results_eq($$SELECT kind, rows, error FROM r WHERE kind = 'orderbook'$$,
                  $$VALUES ('orderbook', 18, NULL::text)$$,
                  'hibachi BTC: a book (asked with granularity=0.1), its depth row and 16 slippage rows');
SELECT is((SELECT count(*)::int FROM perps_stats.ingest_events
            WHERE market_id = (SELECT id FROM m) AND range_start BETWEEN :'t0' AND :'t1'), 0,
          'no coarser book failed');
SELECT is((SELECT bids[1:2][1:2]::text || ' ' || bids[100][1]::text || ' ' || asks[100][1]::text
             FROM perps_stats.orderbooks WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1'),
          '{{99999.9,0.1},{99999.8,0.1}} 99990.0 100010.0',
          'the orderbooks row keeps the finest book (granularity 0.1, 100 levels)');

CREATE TEMP TABLE l AS SELECT * FROM perps_stats.liquidity_depth
    WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1';
SELECT results_eq($$SELECT mid_price, bid_1bps, bid_2_5bps, bid_5bps, bid_10bps, bid_20bps, bid_50bps, bid_100bps FROM l$$,
                  $$VALUES (100000::numeric, 999949.5, 2499675::numeric, 4998725::numeric, 9994950::numeric,
                            11991400::numeric, 17970100::numeric, 27894600::numeric)$$,
                  'bid depth 1 to 100 bps from the merged books');
SELECT results_eq($$SELECT ask_1bps, ask_2_5bps, ask_5bps, ask_10bps, ask_20bps, ask_50bps, ask_100bps FROM l$$,
                  $$VALUES (1000050.5, 2500325::numeric, 5001275::numeric, 10005050::numeric, 12008600::numeric,
                            18029900::numeric, 28105400::numeric)$$,
                  'ask depth 1 to 100 bps from the merged books');
SELECT results_eq($$SELECT max_bid_bps, max_ask_bps, resolution FROM l$$,
                  $$VALUES (100::numeric, 100::numeric, 'granularity=10')$$,
                  'complete at 100 bps on both sides; the row names the coarsest book it used, granularity 10 (100 was not needed)');

CREATE TEMP TABLE s AS SELECT * FROM perps_stats.slippage
    WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1';
SELECT is((SELECT count(*)::int FROM s WHERE feasible), 16, 'sixteen slippage rows, all filled');
SELECT results_eq($$SELECT avg_price, slippage_bps, resolution FROM s WHERE amount = 1000 AND side = 'buy'$$,
                  $$VALUES (100000.1::numeric, 0.01::numeric, 'granularity=0.1')$$,
                  '1K buy fills at the best ask of the finest book');
SELECT results_eq($$SELECT round(avg_price, 10), round(slippage_bps, 10), resolution FROM s WHERE amount = 10000000 AND side = 'buy'$$,
                  $$VALUES (100050.4300144493, 5.0430014449, 'granularity=1')$$,
                  'buy 10M walks into granularity 1');
SELECT results_eq($$SELECT round(avg_price, 10), round(slippage_bps, 10), resolution FROM s WHERE amount = 10000000 AND side = 'sell'$$,
                  $$VALUES (99949.5149386702, 5.0485061330, 'granularity=10')$$,
                  'sell 10M walks into granularity 10');

-- the same books at one resolution: the finest alone leaves 2.5 bps and beyond short
SELECT is((SELECT bid_complete FROM perps_stats.liquidity_depth(
              (SELECT bids FROM perps_stats.orderbooks WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1'),
              (SELECT asks FROM perps_stats.orderbooks WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1'),
              '{2.5}')),
          false, 'the finest book alone does not reach 2.5 bps');

-- PEPE has two granularities (1e-20, 1e-19); its /deep book, 0.0000103319 down and
-- 0.0000103320 up by 1e-10, is the same 100 levels at both, about
-- (0.00001033195 - 0.0000103220) / 0.00001033195 x 1e4 = 9.63 bps deep: short of
-- 100 bps after both, and there is no third to ask (no request, no error)
INSERT INTO perps_stats.watchlist (exchange, symbol, poll, stream) VALUES ('hibachi', 'PEPE', true, false)
    ON CONFLICT DO NOTHING;
SELECT clock_timestamp() AS t2 \gset
CREATE TEMP TABLE r2 AS SELECT * FROM perps_stats.collect('{hibachi}', '{PEPE}');
SELECT clock_timestamp() AS t3 \gset
CREATE TEMP TABLE mp AS
    SELECT m.id FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     WHERE e.name = 'hibachi' AND m.symbol = 'PEPE';
SELECT results_eq($$SELECT rows, error FROM r2 WHERE kind = 'orderbook'$$, $$VALUES (18, NULL::text)$$,
                  'PEPE: its book and rows, from its two books');
SELECT is((SELECT count(*)::int FROM perps_stats.ingest_events
            WHERE market_id = (SELECT id FROM mp) AND range_start BETWEEN :'t2' AND :'t3'), 0,
          'PEPE asked no resolution beyond its two granularities: nothing refused, nothing recorded');
SELECT results_eq($$SELECT round(max_bid_bps, 2), bid_100bps, bid_complete_100 FROM (
                       SELECT max_bid_bps, bid_100bps, max_bid_bps >= 100 AS bid_complete_100 FROM perps_stats.liquidity_depth
                        WHERE market_id = (SELECT id FROM mp) AND ts BETWEEN '$$ || :'t2' || $$' AND '$$ || :'t3' || $$') x$$,
                  -- 100 bids of 1000000: 1e6 x 100 x (0.0000103319 + 0.0000103220) / 2 = 1032.695
                  $$VALUES (9.63::numeric, 1032.695::numeric, false)$$,
                  'PEPE stays short of 100 bps: every bid a lower bound');

-- markets.book_steps is what the adapter asks: a step the venue does not list
-- answers Hibachi's 400, which collect() records
UPDATE perps_stats.markets SET book_steps = '{0.5,1}' WHERE id = (SELECT id FROM m);
SELECT clock_timestamp() AS t4 \gset
CREATE TEMP TABLE r3 AS SELECT * FROM perps_stats.collect('{hibachi}', '{BTC}');
SELECT clock_timestamp() AS t5 \gset
SELECT ok((SELECT error LIKE '%Invalid granularity: 0.5%' FROM r3 WHERE kind = 'orderbook'),
          'a granularity the market does not list: the venue''s error');
SELECT is((SELECT count(*)::int FROM perps_stats.ingest_events
            WHERE market_id = (SELECT id FROM m) AND kind = 'error' AND message LIKE 'BTC orderbook: %'
              AND range_start BETWEEN :'t4' AND :'t5'), 1,
          'and it is recorded in ingest_events');

-- steps unknown (NULL): the venue's default book, asked without granularity,
-- which /deep refuses: so the request had none; no coarser one is asked
UPDATE perps_stats.markets SET book_steps = NULL WHERE id = (SELECT id FROM m);
CREATE TEMP TABLE r4 AS SELECT * FROM perps_stats.collect('{hibachi}', '{BTC}');
SELECT ok((SELECT error LIKE '%granularity is required here%' FROM r4 WHERE kind = 'orderbook'),
          'a market whose steps are unknown is asked without granularity');

-- the default path: the payload book (orderbook.BTC.json) at granularity 1, by hand:
-- bids 97250.9 + 97250.1 -> 97250 (0.4127 + 0.0012 = 0.4139), 97249.0 -> 97249;
-- asks 97251.3 + 97251.9 -> 97252 (0.2318 + 0.03 = 0.2618), 97253.0 -> 97253
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/hibachi' WHERE name = 'hibachi';
UPDATE perps_stats.markets SET book_steps = '{1,10}' WHERE id = (SELECT id FROM m);
SELECT is((SELECT bids[1:2][1:2]::text || ' ' || asks[1:2][1:2]::text FROM perps_stats.fetch_orderbook('hibachi', 'BTC', 2)),
          '{{97250,0.4139000000},{97249,3.2500000000}} {{97252,0.2618000000},{97253,1.1050000000}}',
          'fetch_orderbook asks the market''s finest step (here 1, as book_steps says)');
SELECT results_eq($$SELECT book_steps FROM perps_stats.markets WHERE id = (SELECT id FROM m)$$,
                  $$VALUES ('{1,10}'::numeric[])$$, 'a fetch does not rewrite book_steps');

-- exchange-info whose orderbookGranularities are malformed: the whole
-- markets answer is refused (22000, the parser's reason in the detail) and
-- nothing is rewritten.  The mock answers it once (a fault with a body):
-- the payload's exchange-info with BTC's list replaced (BTC is its first
-- contract, "contract 0" in the messages).
CREATE FUNCTION pg_temp.bad_steps() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    st text; msg text; det text;
BEGIN
    PERFORM perps_stats.refresh_markets('hibachi');
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ' ' || msg || ': ' || det;
END $f$;
\! jq -c --argjson g '["0.1","1","10","100","1000","10000","100000","1000000","10000000"]' '{venue: "hibachi", path: "exchange-info", kind: "status", status: 200, body: (.futureContracts |= map(if .symbol == "BTC/USDT-P" then .orderbookGranularities = $g else . end))}' test/payloads/hibachi/exchangeInfo.json | curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -H 'Content-Type: application/json' -d @- >/dev/null
SELECT is(pg_temp.bad_steps(), '22000 unexpected markets response from hibachi: contract 0 has 9 orderbookGranularities, more than 8',
          'nine granularities (eight at most): the markets answer refused');
\! jq -c --argjson g '["0.1","-1"]' '{venue: "hibachi", path: "exchange-info", kind: "status", status: 200, body: (.futureContracts |= map(if .symbol == "BTC/USDT-P" then .orderbookGranularities = $g else . end))}' test/payloads/hibachi/exchangeInfo.json | curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -H 'Content-Type: application/json' -d @- >/dev/null
SELECT is(pg_temp.bad_steps(), '22000 unexpected markets response from hibachi: contract 0: orderbookGranularities[1] is not a positive decimal string',
          'a negative step: the markets answer refused');
\! jq -c --argjson g '["1","0.1"]' '{venue: "hibachi", path: "exchange-info", kind: "status", status: 200, body: (.futureContracts |= map(if .symbol == "BTC/USDT-P" then .orderbookGranularities = $g else . end))}' test/payloads/hibachi/exchangeInfo.json | curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -H 'Content-Type: application/json' -d @- >/dev/null
SELECT is(pg_temp.bad_steps(), '22000 unexpected markets response from hibachi: contract 0: orderbookGranularities are not finest first',
          'steps not finest first: the markets answer refused');
\! jq -c --argjson g '["0.1","0.1"]' '{venue: "hibachi", path: "exchange-info", kind: "status", status: 200, body: (.futureContracts |= map(if .symbol == "BTC/USDT-P" then .orderbookGranularities = $g else . end))}' test/payloads/hibachi/exchangeInfo.json | curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -H 'Content-Type: application/json' -d @- >/dev/null
SELECT is(pg_temp.bad_steps(), '22000 unexpected markets response from hibachi: contract 0: orderbookGranularities are not finest first',
          'the same step twice: the markets answer refused');
\! jq -c --argjson g '[0.1,1]' '{venue: "hibachi", path: "exchange-info", kind: "status", status: 200, body: (.futureContracts |= map(if .symbol == "BTC/USDT-P" then .orderbookGranularities = $g else . end))}' test/payloads/hibachi/exchangeInfo.json | curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -H 'Content-Type: application/json' -d @- >/dev/null
SELECT is(pg_temp.bad_steps(), '22000 unexpected markets response from hibachi: contract 0: orderbookGranularities[0] is not a positive decimal string',
          'a JSON number instead of a decimal string: the markets answer refused');
\! jq -c --argjson g '["1e-3"]' '{venue: "hibachi", path: "exchange-info", kind: "status", status: 200, body: (.futureContracts |= map(if .symbol == "BTC/USDT-P" then .orderbookGranularities = $g else . end))}' test/payloads/hibachi/exchangeInfo.json | curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -H 'Content-Type: application/json' -d @- >/dev/null
SELECT is(pg_temp.bad_steps(), '22000 unexpected markets response from hibachi: contract 0: orderbookGranularities[0] is not a positive decimal string',
          'an exponent: the markets answer refused');
\! jq -c --argjson g '["0.0"]' '{venue: "hibachi", path: "exchange-info", kind: "status", status: 200, body: (.futureContracts |= map(if .symbol == "BTC/USDT-P" then .orderbookGranularities = $g else . end))}' test/payloads/hibachi/exchangeInfo.json | curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -H 'Content-Type: application/json' -d @- >/dev/null
SELECT is(pg_temp.bad_steps(), '22000 unexpected markets response from hibachi: contract 0: orderbookGranularities[0] is not a positive decimal string',
          'zero: the markets answer refused');
\! jq -c --argjson g '["0.00000000000000000000001"]' '{venue: "hibachi", path: "exchange-info", kind: "status", status: 200, body: (.futureContracts |= map(if .symbol == "BTC/USDT-P" then .orderbookGranularities = $g else . end))}' test/payloads/hibachi/exchangeInfo.json | curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -H 'Content-Type: application/json' -d @- >/dev/null
SELECT is(pg_temp.bad_steps(), '22000 unexpected markets response from hibachi: contract 0: orderbookGranularities[0] is not a positive decimal string',
          '25 characters (24 at most: a query string and a numeric[] literal stay bounded): the markets answer refused');
\! jq -c --argjson g '["0.1&depth=1"]' '{venue: "hibachi", path: "exchange-info", kind: "status", status: 200, body: (.futureContracts |= map(if .symbol == "BTC/USDT-P" then .orderbookGranularities = $g else . end))}' test/payloads/hibachi/exchangeInfo.json | curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -H 'Content-Type: application/json' -d @- >/dev/null
SELECT is(pg_temp.bad_steps(), '22000 unexpected markets response from hibachi: contract 0: orderbookGranularities[0] is not a positive decimal string',
          'a step that would smuggle a query parameter: the markets answer refused');
SELECT results_eq($$SELECT book_steps FROM perps_stats.markets WHERE id = (SELECT id FROM m)$$,
                  $$VALUES ('{1,10}'::numeric[])$$, 'after the refused answers BTC''s book_steps are as they were');
SELECT is(pg_temp.bad_steps(), 'no error', 'the next exchange-info, the payload''s, is taken');
SELECT results_eq($$SELECT book_steps FROM perps_stats.markets WHERE id = (SELECT id FROM m)$$,
                  $$VALUES ('{0.1,1,10,100}'::numeric[])$$, 'and BTC''s book_steps are the payload''s four');


SELECT * FROM finish();
ROLLBACK;
