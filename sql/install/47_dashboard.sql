-- perps_stats install script, part 47: the dashboard page (issue 21).
--
-- PostgREST serves a function whose return type is a domain named after a
-- media type as that media type (its "media type handlers", PostgREST 12):
--   GET /rpc/dashboard                      the page, text/html
--   GET /rpc/dashboard_asset?name=FILE      its script, style and charting
--                                           library, each with its own
--                                           Content-Type
-- A browser asks for a script with "Accept: */*", which a "text/javascript"
-- domain does not match on PostgREST 12.0.2: the assets come through the
-- "*/*" handler, which matches any Accept, and say their Content-Type in
-- response.headers.
--
-- The files themselves are not in this script: `make install` puts them in
-- <sharedir>/perps_stats/dashboard/ and perps_stats._dashboard_file reads
-- them (src/dashboard.c, README.md, "Dashboard", says why).  The page reads the
-- data with the browser, from the views and functions of perps_api, as any
-- other HTTP client: these functions read no table and write nothing.

CREATE FUNCTION perps_stats._dashboard_file(name text)
RETURNS bytea
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'perps_stats_dashboard_file';
COMMENT ON FUNCTION perps_stats._dashboard_file(text) IS
    'One of the dashboard''s installed files (index.html, dashboard.js, dashboard.css, uPlot.iife.min.js, uPlot.min.css, uPlot.LICENSE)';
-- The files are the public page: anybody may read them, as anybody may call
-- the math (perps_anon holds no grant of its own outside perps_api).
GRANT EXECUTE ON FUNCTION perps_stats._dashboard_file(text) TO PUBLIC;

CREATE DOMAIN perps_api."text/html" AS text;

-- The page.  Its Content-Security-Policy lets it load and fetch from its
-- own origin only (no inline script or style either).
CREATE FUNCTION perps_api.dashboard()
RETURNS perps_api."text/html"
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM pg_catalog.set_config('response.headers', pg_catalog.jsonb_build_array(
        pg_catalog.jsonb_build_object('Content-Security-Policy',
            'default-src ''self''; object-src ''none''; base-uri ''none''; form-action ''none''; frame-ancestors ''none'''),
        pg_catalog.jsonb_build_object('Cache-Control', 'no-cache'),
        pg_catalog.jsonb_build_object('X-Content-Type-Options', 'nosniff'))::text, true);
    RETURN pg_catalog.convert_from(perps_stats._dashboard_file('index.html'), 'UTF8');
END
$$;
COMMENT ON FUNCTION perps_api.dashboard() IS
    'The dashboard page (text/html): liquidity, slippage, funding, open interest and collection health per symbol, from this API';

-- The page's script and style and the charting library (uPlot, MIT licence:
-- name=uPlot.LICENSE), with their Content-Type.
CREATE FUNCTION perps_api.dashboard_asset(name text)
RETURNS perps_api."*/*"
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_type text := CASE
        WHEN name LIKE '%.js' THEN 'text/javascript; charset=utf-8'
        WHEN name LIKE '%.css' THEN 'text/css; charset=utf-8'
        ELSE 'text/plain; charset=utf-8' END;
BEGIN
    IF name IS NULL OR name = 'index.html' THEN
        RAISE EXCEPTION 'unknown dashboard asset "%"', name
            USING ERRCODE = '22023', HINT = 'The page itself is /rpc/dashboard.';
    END IF;
    PERFORM pg_catalog.set_config('response.headers', pg_catalog.jsonb_build_array(
        pg_catalog.jsonb_build_object('Content-Type', v_type),
        pg_catalog.jsonb_build_object('Cache-Control', 'max-age=300'),
        pg_catalog.jsonb_build_object('X-Content-Type-Options', 'nosniff'))::text, true);
    RETURN perps_stats._dashboard_file(name);
END
$$;
COMMENT ON FUNCTION perps_api.dashboard_asset(text) IS
    'A file of the dashboard page (its script, its style, the charting library and its licence), with its Content-Type';

REVOKE ALL ON FUNCTION perps_api.dashboard(), perps_api.dashboard_asset(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_api.dashboard(), perps_api.dashboard_asset(text) TO perps_anon;
