-- The dashboard page (sql/install/47_dashboard.sql, src/dashboard.c): its
-- functions and media-type domains, that they serve the installed files
-- and nothing else, and that they give perps_anon no right but calling
-- them.  Over HTTP and in a browser: test/integration/47_dashboard_browser.sh.
BEGIN;
SELECT plan(17);

SELECT has_domain('perps_api', 'text/html', 'the text/html media type handler''s domain');
SELECT has_domain('perps_api', '*/*', 'the */* (any) media type handler''s domain');
SELECT is((SELECT typbasetype::regtype::text FROM pg_type WHERE oid = 'perps_api."*/*"'::regtype), 'bytea',
          '*/* is over bytea: the assets go out as their bytes');
SELECT function_returns('perps_api', 'dashboard', '{}'::name[], 'perps_api."text/html"');
SELECT function_returns('perps_api', 'dashboard_asset', ARRAY['text'], 'perps_api."*/*"');
-- read-only: STABLE, so PostgREST answers GET with them in a read-only transaction
SELECT is(array_agg(p.proname::text || ':' || p.provolatile::text ORDER BY 1), ARRAY['dashboard:s', 'dashboard_asset:s'],
          'both functions are STABLE')
  FROM pg_proc p WHERE p.pronamespace = 'perps_api'::regnamespace AND p.proname LIKE 'dashboard%';
SELECT function_privs_are('perps_api', 'dashboard', '{}'::name[], 'perps_anon', ARRAY['EXECUTE']);
SELECT function_privs_are('perps_api', 'dashboard_asset', ARRAY['text'], 'perps_anon', ARRAY['EXECUTE']);

-- the page: the installed dashboard/index.html, which loads its script and
-- the library through dashboard_asset, by relative URLs
SELECT ok(perps_api.dashboard()::text LIKE '<!doctype html>%'
          AND perps_api.dashboard()::text LIKE '%<script src="dashboard_asset?name=uPlot.iife.min.js" defer></script>%',
          'dashboard(): the page, which loads uPlot through dashboard_asset');
SELECT is(current_setting('response.headers')::jsonb -> 0 ->> 'Content-Security-Policy',
          'default-src ''self''; object-src ''none''; base-uri ''none''; form-action ''none''; frame-ancestors ''none''',
          'dashboard(): a Content-Security-Policy that allows its own origin only');
-- uPlot 1.6.32's minified build is 51081 bytes (npm tarball, dist/uPlot.iife.min.js)
SELECT is(length(perps_api.dashboard_asset('uPlot.iife.min.js')), 51081, 'uPlot.iife.min.js: the whole file');
SELECT is(current_setting('response.headers')::jsonb -> 0 ->> 'Content-Type', 'text/javascript; charset=utf-8',
          'dashboard_asset: a script says so in Content-Type');
SELECT is(convert_from(substr(perps_stats._dashboard_file('uPlot.LICENSE'), 1, 21), 'UTF8'), 'The MIT License (MIT)',
          'the library''s licence is installed beside it');
SELECT throws_ok($$SELECT perps_api.dashboard_asset('../../../../etc/passwd')$$, '22023',
                 'unknown dashboard file "../../../../etc/passwd"', 'a path is no file name: refused');
SELECT throws_ok($$SELECT perps_api.dashboard_asset('index.html')$$, '22023',
                 'unknown dashboard asset "index.html"', 'the page is not an asset');
SELECT throws_ok($$SELECT perps_stats._dashboard_file('postgresql.conf')$$, '22023', NULL,
                 'only the dashboard''s own files');
-- perps_anon: the same rights as before but for the two functions
SELECT is(array_agg(format('%s %s', a.privilege_type, p.oid::regprocedure) ORDER BY 1),
          ARRAY['EXECUTE perps_api.dashboard()', 'EXECUTE perps_api.dashboard_asset(text)'],
          'perps_anon''s grants of the dashboard: executing its two functions')
  FROM pg_proc p, aclexplode(p.proacl) a
 WHERE a.grantee = 'perps_anon'::regrole AND p.proname LIKE '%dashboard%';

SELECT * FROM finish();
ROLLBACK;
