-- The Excel export's contract in the database (src/export_xlsx.c,
-- sql/install/45_export.sql): declarations and privileges, every error
-- with its SQLSTATE, the bounds, read-only execution with the caller's
-- rights, the response headers for PostgREST, and nothing left behind
-- (temporary files, open file descriptors) by a failed export.  What the
-- cells hold is read back with openpyxl in test/integration/45_export_xlsx.sh.
BEGIN;
SELECT plan(70);

-- ---------------------------------------------------------------------------
-- Declarations and privileges
-- ---------------------------------------------------------------------------
SELECT has_function('perps_stats', 'export_xlsx', ARRAY['text[]', 'text[]']);
SELECT has_function('perps_api', 'export_xlsx',
    ARRAY['text', 'text', 'text', 'timestamp with time zone', 'timestamp with time zone']);
SELECT is((SELECT ARRAY[provolatile::text, prosecdef::text, array_to_string(proconfig, ',')]
             FROM pg_proc WHERE oid = 'perps_stats.export_xlsx(text[],text[])'::regprocedure),
          ARRAY['v', 'false', 'transaction_read_only=on'],
          'perps_stats.export_xlsx: SECURITY INVOKER, runs with transaction_read_only on');
SELECT is((SELECT ARRAY[provolatile::text, prosecdef::text, coalesce(array_to_string(proconfig, ','), ''),
                        proretset::text, prorettype::regtype::text]
             FROM pg_proc WHERE oid = 'perps_api.export_xlsx(text,text,text,timestamptz,timestamptz)'::regprocedure),
          ARRAY['s', 'false', '', 'true', 'perps_api.export_xlsx_rows'],
          'perps_api.export_xlsx: STABLE (GET works), SECURITY INVOKER, a set of the view export_xlsx_rows');
-- PostgREST's handler: an aggregate over the function's row type whose
-- final function returns the "*/*" domain, a bytea
SELECT is((SELECT ARRAY[a.aggfnoid::regprocedure::text, f.prorettype::regtype::text, t.typbasetype::regtype::text]
             FROM pg_aggregate a JOIN pg_proc f ON f.oid = a.aggfinalfn JOIN pg_type t ON t.oid = f.prorettype
            WHERE a.aggfnoid = 'perps_api.xlsx(perps_api.export_xlsx_rows)'::regprocedure),
          ARRAY['perps_api.xlsx(perps_api.export_xlsx_rows)', 'perps_api."*/*"', 'bytea'],
          'perps_api.xlsx: the handler of export_xlsx_rows, its final function returning the "*/*" domain of bytea');
SELECT function_privs_are('perps_api', 'export_xlsx',
    ARRAY['text', 'text', 'text', 'timestamp with time zone', 'timestamp with time zone'],
    'perps_anon', ARRAY['EXECUTE']);
SELECT function_privs_are('perps_stats', 'export_xlsx', ARRAY['text[]', 'text[]'], 'perps_anon', '{}'::text[],
    'perps_anon cannot run query text');
SELECT function_privs_are('perps_stats', 'export_xlsx', ARRAY['text[]', 'text[]'], 'perps_reader', ARRAY['EXECUTE']);
CREATE ROLE perps_tap_nobody;
SELECT function_privs_are('perps_stats', 'export_xlsx', ARRAY['text[]', 'text[]'], 'perps_tap_nobody', '{}'::text[],
    'PUBLIC cannot run perps_stats.export_xlsx');
SELECT function_privs_are('perps_api', 'export_xlsx',
    ARRAY['text', 'text', 'text', 'timestamp with time zone', 'timestamp with time zone'],
    'perps_tap_nobody', '{}'::text[], 'PUBLIC cannot call perps_api.export_xlsx');
SELECT function_privs_are('perps_stats', '_xlsx_final', ARRAY['internal'],
    'perps_anon', '{}'::text[], 'perps_anon holds no grant on the aggregate''s final function (its owner''s rights are checked)');
SELECT is((SELECT ARRAY[context, unit, boot_val, min_val] FROM pg_settings WHERE name = 'perps_stats.export_max_rows'),
          ARRAY['superuser', NULL, '100000', '1'], 'perps_stats.export_max_rows: superuser-set, 100000 rows');
SELECT is((SELECT ARRAY[context, unit, boot_val, min_val] FROM pg_settings WHERE name = 'perps_stats.export_max_size'),
          ARRAY['superuser', 'kB', '32768', '16'], 'perps_stats.export_max_size: superuser-set, 32 MB');

-- ---------------------------------------------------------------------------
-- A workbook: a zip file (its "PK\x03\x04" signature)
-- ---------------------------------------------------------------------------
SELECT is(substr(perps_stats.export_xlsx(ARRAY['SELECT 1 AS one']), 1, 4), '\x504b0304'::bytea,
          'a query''s rows: a zip file, as an .xlsx is');
SELECT is((SELECT substr(perps_api.xlsx(r), 1, 4) FROM perps_api.export_xlsx('exchanges') r), '\x504b0304'::bytea,
          'a view of perps_api: a zip file');

-- ---------------------------------------------------------------------------
-- Bad arguments: 22023, and PostgreSQL's own errors passed on
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT perps_stats.export_xlsx(NULL)$$, '22023', 'sheets must not be null', 'sheets NULL');
SELECT throws_ok($$SELECT perps_stats.export_xlsx('{}')$$, '22023', 'a workbook has 1 to 64 sheets, not 0', 'no sheet');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(array_fill('SELECT 1'::text, ARRAY[65]))$$, '54000',
                 'a workbook has 1 to 64 sheets, not 65', '65 sheets: too many');
SELECT throws_ok($$SELECT perps_stats.export_xlsx('{{SELECT 1},{SELECT 2}}')$$, '22023',
                 'sheets must be a one-dimensional array', 'a 2-D array of sheets');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT 1', NULL])$$, '22023', 'sheet 2 is null', 'a NULL sheet');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT 1'], ARRAY['a', 'b'])$$, '22023',
                 'sheet_names has 2 elements, sheets 1', 'one name per sheet');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT 1'], ARRAY['a/b'])$$, '22023',
                 'invalid sheet name "a/b"', 'a sheet name with a character Excel refuses');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT 1'], ARRAY[repeat('x', 32)])$$, '22023',
                 'invalid sheet name "' || repeat('x', 32) || '"', 'a sheet name of 32 characters (Excel: 31 at most)');
SELECT lives_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT 1'], ARRAY[repeat('é', 31)])$$,
                'a sheet name of 31 characters (62 bytes) is fine');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT 1'], ARRAY[''])$$, '22023',
                 'invalid sheet name ""', 'an empty sheet name');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT 1', 'SELECT 2'], ARRAY['Ticks', 'TICKS'])$$, '22023',
                 'sheet name "TICKS" is used twice', 'sheet names differing in case only (Excel: the same)');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['perps_stats.no_such_table'])$$, '42P01',
                 NULL, 'a relation that does not exist');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT 1; SELECT 2'])$$, '42P11',
                 NULL, 'two statements in one sheet: refused');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['DELETE FROM perps_stats.watchlist'])$$, '42602',
                 NULL, 'a DELETE is neither a query nor a relation name');

SELECT throws_ok($$SELECT perps_api.export_xlsx(NULL)$$, '22023', 'view must not be null', 'view NULL');
SELECT throws_ok($$SELECT perps_api.export_xlsx('no_such_view')$$, '22023',
                 '"no_such_view" is not a view of perps_api', 'a view perps_api does not have');
SELECT throws_ok($$SELECT perps_api.export_xlsx('perps_stats.tickers')$$, '22023',
                 '"perps_stats.tickers" is not a view of perps_api', 'a table of perps_stats: refused');
SELECT throws_ok($$SELECT perps_api.export_xlsx('pg_authid')$$, '22023',
                 '"pg_authid" is not a view of perps_api', 'a catalog: refused');
SELECT throws_ok($$SELECT perps_api.export_xlsx('symbols', exchange => 'binance')$$, '22023',
                 'view "symbols" has no column exchange to filter on', 'a filter the view has no column for');
SELECT throws_ok($$SELECT perps_api.export_xlsx('exchanges', since => now())$$, '22023',
                 'view "exchanges" has no timestamptz column for since and until', 'since on a view without time');
SELECT throws_ok($$SELECT perps_api.export_xlsx('export_xlsx_rows')$$, '22023',
                 '"export_xlsx_rows" is not a view of perps_api', 'the positions'' own row type: refused');
-- the aggregate takes a run of the positions of this statement's call
SELECT throws_ok($$SELECT perps_api.xlsx(r) FROM perps_api.export_xlsx_rows r$$, '22023',
                 'perps_api.xlsx takes the rows of perps_api.export_xlsx, in the same statement',
                 'the aggregate without the function');
SELECT throws_ok($$SELECT perps_api.xlsx(r) FROM perps_api.export_xlsx('exchanges') r WHERE r.n <> 2$$, '22023',
                 'export_xlsx takes a run of its rows: positions 1 to 13, 12 of them, are not one',
                 'the 13 exchanges but the 2nd: not a run');
SELECT throws_ok($$SELECT perps_api.xlsx(r) FROM (SELECT * FROM perps_api.export_xlsx('exchanges')
                                                  UNION ALL SELECT 4) r$$, '22023',
                 'export_xlsx takes a run of its rows: positions 1 to 13, 14 of them, are not one',
                 'position 4 twice (14 rows over 13 positions): not a run');
SELECT throws_ok($$SELECT perps_api.xlsx(r) FROM (SELECT * FROM perps_api.export_xlsx('exchanges')
                                                  UNION ALL SELECT 14) r$$, '22023',
                 'export_xlsx takes a run of its rows: positions 1 to 14, 14 of them, are not one',
                 'a 14th position the call did not list');

-- ---------------------------------------------------------------------------
-- Bounds: 54000
-- ---------------------------------------------------------------------------
SET LOCAL perps_stats.export_max_rows = 10;
SELECT lives_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT i FROM generate_series(1, 10) i'])$$,
                'export_max_rows = 10: 10 rows are fine');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT i FROM generate_series(1, 6) i',
                                                         'SELECT i FROM generate_series(1, 5) i'])$$,
                 '54000', 'export exceeds perps_stats.export_max_rows (10 rows)',
                 'export_max_rows = 10: 6 + 5 rows over two sheets are too many');
-- 13 exchanges and export_max_rows = 1: perps_api.export_xlsx lists 10 x 1
-- positions only; a window within them is fine, one that reaches the 10th
-- (and so maybe past it) is refused, as is the whole range
SET LOCAL perps_stats.export_max_rows = 1;
SELECT is((SELECT count(*)::int FROM perps_api.export_xlsx('exchanges')), 10,
          '13 exchanges, export_max_rows = 1: 10 positions listed');
SELECT lives_ok($$SELECT perps_api.xlsx(r) FROM (SELECT * FROM perps_api.export_xlsx('exchanges') OFFSET 8 LIMIT 1) r$$,
                'the 9th row alone: fine');
SELECT throws_ok($$SELECT perps_api.xlsx(r) FROM (SELECT * FROM perps_api.export_xlsx('exchanges') OFFSET 9 LIMIT 1) r$$,
                 '54000', 'export_xlsx lists the first 10 rows of a range only (10 times perps_stats.export_max_rows)',
                 'the 10th row of a range holding more: refused (it may reach past the listed ones)');
SELECT throws_ok($$SELECT perps_api.xlsx(r) FROM (SELECT * FROM perps_api.export_xlsx('exchanges') OFFSET 20) r$$,
                 '54000', 'export_xlsx lists the first 10 rows of a range only (10 times perps_stats.export_max_rows)',
                 'an offset past the listed rows: refused, not an empty workbook');
SELECT throws_ok($$SELECT perps_api.xlsx(r) FROM (SELECT * FROM perps_api.export_xlsx('exchanges') LIMIT 2) r$$,
                 '54000', 'export exceeds perps_stats.export_max_rows (1 rows)',
                 'two rows with export_max_rows = 1: the row limit');
SET LOCAL perps_stats.export_max_rows = 2;
SELECT lives_ok($$SELECT perps_api.xlsx(r) FROM (SELECT * FROM perps_api.export_xlsx('exchanges') OFFSET 11 LIMIT 2) r$$,
                'export_max_rows = 2: 20 positions listed, the 12th and 13th rows are fine');
RESET perps_stats.export_max_rows;
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT repeat(''x'', 32768)'])$$,
                 '54000', 'value too long for an Excel cell', 'a text of 32768 characters (Excel: 32767 a cell)');
-- 32767 characters of which one is U+1F600, two UTF-16 units for Excel: 32768
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT repeat(''x'', 32766) || U&''\+01F600'''])$$,
                 '54000', 'value too long for an Excel cell', 'a character outside the BMP counts twice, as in Excel');
SELECT lives_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT repeat(''x'', 32767)'])$$, '32767 characters are fine');
SET LOCAL perps_stats.export_max_size = 16;
-- 3000 md5 texts: 96000 bytes of values, less than 8 x 16 kB, but about
-- 60 kB zipped (hexadecimal digits compress to about half)
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT md5(i::text) FROM generate_series(1, 3000) i'])$$,
                 '54000', 'export exceeds perps_stats.export_max_size (16 kB)', 'a workbook larger than export_max_size');
-- 5000 of them: 160000 bytes, beyond 8 x 16 kB = 131072 before the end
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT md5(i::text) FROM generate_series(1, 5000) i'])$$,
                 '54000', 'export exceeds perps_stats.export_max_size (16 kB)', 'values beyond 8 x export_max_size: stopped early');
RESET perps_stats.export_max_size;
-- nothing left behind by the failures: no file in pgsql_tmp, and as many
-- open files as before (libxlsxwriter's sheets' temporary files are
-- closed).  The failing export runs once first, so that the catalogs it
-- reads are open in the baseline too.
CREATE FUNCTION pg_temp.failing_exports(n int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            PERFORM perps_stats.export_xlsx(ARRAY['SELECT 1',
                'SELECT CASE WHEN i < 500 THEN i ELSE 1 / 0 END FROM generate_series(1, 1000) i']);
        EXCEPTION WHEN division_by_zero THEN NULL;
        END;
    END LOOP;
    RETURN (SELECT count(*) FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/fd'));
END $$;
SELECT ok(length(perps_stats.export_xlsx(ARRAY['SELECT i, md5(i::text) FROM generate_series(1, 20000) i'])) > 0,
          'an export of 20000 rows');
SELECT pg_temp.failing_exports(1) AS fds_before \gset
SELECT is(pg_temp.failing_exports(5), :fds_before,
          'five exports failing in their second sheet leave no file descriptor open');
SELECT is((SELECT count(*)::int FROM pg_ls_tmpdir()), 0, 'and no file in pgsql_tmp');

-- ---------------------------------------------------------------------------
-- Read-only, with the caller's rights
-- ---------------------------------------------------------------------------
CREATE TABLE public.perps_tap_export_w (i int);
CREATE FUNCTION public.perps_tap_export_write() RETURNS int LANGUAGE sql
    AS 'INSERT INTO public.perps_tap_export_w VALUES (1) RETURNING i';
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['SELECT public.perps_tap_export_write()'])$$, '25006',
                 NULL, 'a function of the query that writes: read-only transaction');
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['WITH d AS (DELETE FROM public.perps_tap_export_w RETURNING *) SELECT * FROM d'])$$,
                 '0A000', NULL, 'a data-modifying WITH: refused');
SELECT lives_ok($$INSERT INTO public.perps_tap_export_w VALUES (2)$$, 'after the export the transaction writes again');
CREATE ROLE perps_tap_reader IN ROLE perps_reader;
CREATE ROLE perps_tap_granted;
GRANT EXECUTE ON FUNCTION perps_stats.export_xlsx(text[], text[]) TO perps_tap_granted;
SET LOCAL ROLE perps_tap_reader;
SELECT lives_ok($$SELECT perps_stats.export_xlsx(ARRAY['perps_stats.exchanges'])$$, 'a member of perps_reader exports a table');
RESET ROLE;
SET LOCAL ROLE perps_tap_granted;
SELECT throws_ok($$SELECT perps_stats.export_xlsx(ARRAY['perps_stats.exchanges'])$$, '42501', NULL,
                 'a role allowed to call it but not to read the table: permission denied');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- perps_anon and the response headers
-- ---------------------------------------------------------------------------
SET LOCAL ROLE perps_anon;
SELECT lives_ok($$SELECT perps_api.xlsx(r) FROM perps_api.export_xlsx('tickers', 'a"b\c', 'BTC', now() - interval '1 day', now()) r$$,
                'perps_anon exports a view with every filter');
SELECT is(current_setting('response.headers', true), NULL, 'outside an HTTP request: no response.headers');
DO $$ BEGIN PERFORM set_config('request.headers', '{"accept": "*/*"}', true); END $$;
SELECT lives_ok($$SELECT perps_api.xlsx(r) FROM perps_api.export_xlsx('tickers', 'a"b\c', 'BTC', now() - interval '1 day', now()) r$$,
                'the same in an HTTP request (request.headers set, Accept: */*)');
SELECT is(current_setting('response.headers'),
          '[{"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, '
          || '{"Content-Disposition": "attachment; filename=\"tickers_a_b_c_BTC.xlsx\""}]',
          'response.headers: the spreadsheet''s type, a file name with anything but [A-Za-z0-9.-] replaced');
DO $$ BEGIN PERFORM set_config('request.headers', '{"accept": "application/json"}', true); END $$;
SELECT throws_ok($$SELECT perps_api.xlsx(r) FROM perps_api.export_xlsx('exchanges') r$$, 'PT406',
                 'export_xlsx answers a spreadsheet (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)',
                 'Accept: application/json: refused, PostgREST''s 406');
DO $$ BEGIN PERFORM set_config('request.headers', '{"accept": "text/csv, application/octet-stream;q=0"}', true); END $$;
SELECT throws_ok($$SELECT perps_api.xlsx(r) FROM perps_api.export_xlsx('exchanges') r$$, 'PT406', NULL,
                 'octet-stream with q=0 does not count');
DO $$ BEGIN PERFORM set_config('request.headers', '{"accept": "text/html, Application/Octet-Stream; q=0.5"}', true); END $$;
SELECT lives_ok($$SELECT perps_api.xlsx(r) FROM perps_api.export_xlsx('exchanges') r$$,
                'octet-stream among other types, in any case, q=0.5: the workbook');
DO $$ BEGIN PERFORM set_config('request.headers', '{"accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}', true); END $$;
SELECT lives_ok($$SELECT perps_api.xlsx(r) FROM perps_api.export_xlsx('exchanges') r$$,
                'the spreadsheet''s own media type: the workbook');
DO $$ BEGIN PERFORM set_config('request.headers', '{"user-agent": "no accept header"}', true); END $$;
SELECT lives_ok($$SELECT perps_api.xlsx(r) FROM perps_api.export_xlsx('exchanges') r$$,
                'no Accept header: the workbook');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
