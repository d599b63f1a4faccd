-- perps_stats install script, part 45: Excel export (src/export_xlsx.c).
--
-- perps_stats.export_xlsx: a workbook of one sheet per query or table/view,
-- for DBAs and analysts; it runs the given query text with the caller's
-- rights (SECURITY INVOKER) and with transaction_read_only on, so neither
-- the query nor a function it calls can write.
-- perps_api.export_xlsx and perps_api.xlsx: one view of perps_api over
-- HTTP, as a download (below).

CREATE FUNCTION perps_stats.export_xlsx(sheets text[], sheet_names text[] DEFAULT NULL)
RETURNS bytea
LANGUAGE c VOLATILE
SET transaction_read_only = on
AS 'MODULE_PATHNAME', 'perps_stats_export_xlsx';
COMMENT ON FUNCTION perps_stats.export_xlsx(text[], text[]) IS
    'Excel workbook (.xlsx) of one sheet per element of sheets: a query (SELECT, WITH, VALUES, TABLE) or a table or view name, run read-only with the caller''s rights; sheet_names names the sheets (default: the relation''s name, or Sheet<n>)';
REVOKE ALL ON FUNCTION perps_stats.export_xlsx(text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_stats.export_xlsx(text[], text[]) TO perps_reader;

-- perps_api.export_xlsx lists the positions of one view's rows (its
-- filters as arguments); PostgREST's own limit and offset take a run of
-- them, and the aggregate perps_api.xlsx, PostgREST's handler for the
-- function's row type (its result is the "*/*" domain: a media type
-- handler for any Accept), writes those rows as the workbook and sets its
-- Content-Type and a file name through response.headers.  So
--   GET /rpc/export_xlsx?view=tickers&symbol=BTC&limit=1000&offset=1000
-- answers the second thousand rows as a spreadsheet.  The row type is a
-- view (PostgREST finds handlers for tables' and views' types only): it
-- has no row of its own.  It all reads the view with perps_anon's own
-- rights: nothing new is granted but EXECUTE.  Nothing writes.

CREATE DOMAIN perps_api."*/*" AS bytea;
COMMENT ON DOMAIN perps_api."*/*" IS
    'Answers of the API in a media type of their own, whatever the Accept header (PostgREST''s "any" media type handler): the Excel export, the dashboard''s files';

CREATE VIEW perps_api.export_xlsx_rows AS
    SELECT NULL::bigint AS n WHERE false;
COMMENT ON VIEW perps_api.export_xlsx_rows IS
    'The row type of perps_api.export_xlsx: n, a row''s position in the export (1 = the first by time); no row of its own';
COMMENT ON COLUMN perps_api.export_xlsx_rows.n IS
    'the row''s position in the export, 1 = the first by time, then exchange, then symbol';

CREATE FUNCTION perps_api.export_xlsx(view text, exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                      since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS SETOF perps_api.export_xlsx_rows
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'perps_api_export_xlsx';
COMMENT ON FUNCTION perps_api.export_xlsx(text, text, text, timestamptz, timestamptz) IS
    'The positions of the rows of one view of perps_api, filtered on exchange, symbol and [since, until) of its time column and ordered by time, exchange, symbol; perps_api.xlsx (over HTTP: Accept application/octet-stream, or none) writes those PostgREST''s limit and offset leave as an Excel workbook';

CREATE FUNCTION perps_stats._xlsx_step(internal, perps_api.export_xlsx_rows)
RETURNS internal
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'perps_api_xlsx_step';
CREATE FUNCTION perps_stats._xlsx_final(internal)
RETURNS perps_api."*/*"
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'perps_api_xlsx_final';
CREATE AGGREGATE perps_api.xlsx(perps_api.export_xlsx_rows) (
    SFUNC = perps_stats._xlsx_step,
    STYPE = internal,
    FINALFUNC = perps_stats._xlsx_final
);
COMMENT ON AGGREGATE perps_api.xlsx(perps_api.export_xlsx_rows) IS
    'Excel workbook (.xlsx) of the rows of perps_api.export_xlsx it is given (a run of positions, as limit and offset leave), from the same statement''s call';

REVOKE ALL ON FUNCTION perps_api.export_xlsx(text, text, text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_api.export_xlsx(text, text, text, timestamptz, timestamptz) TO perps_anon;
REVOKE ALL ON FUNCTION perps_stats._xlsx_step(internal, perps_api.export_xlsx_rows) FROM PUBLIC;
REVOKE ALL ON FUNCTION perps_stats._xlsx_final(internal) FROM PUBLIC;
-- (calling the aggregate takes EXECUTE on it alone: its functions are
-- checked against its owner)
REVOKE ALL ON FUNCTION perps_api.xlsx(perps_api.export_xlsx_rows) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_api.xlsx(perps_api.export_xlsx_rows) TO perps_anon;
GRANT SELECT ON perps_api.export_xlsx_rows TO perps_anon;
