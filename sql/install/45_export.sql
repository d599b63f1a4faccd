-- perps_stats install script, part 45: Excel export (src/export_xlsx.c).
--
-- perps_stats.export_xlsx: a workbook of one sheet per query or table/view,
-- for DBAs and analysts; it runs the given query text with the caller's
-- rights (SECURITY INVOKER) and with transaction_read_only on, so neither
-- the query nor a function it calls can write.
-- perps_api.export_xlsx: one view of perps_api over HTTP, as a download;
-- its result type is the domain "application/octet-stream", PostgREST's
-- name for what the function answers to Accept: application/octet-stream
-- (PostgREST 12.0.2 cannot match the spreadsheet's own media type by name:
-- 65 characters, and PostgreSQL names stop at 63).  The function sets the
-- spreadsheet's Content-Type and a file name through response.headers.
-- It reads the view with perps_anon's own rights: nothing new is granted
-- but EXECUTE on it.  Nothing here writes to the database.

CREATE FUNCTION perps_stats.export_xlsx(sheets text[], sheet_names text[] DEFAULT NULL)
RETURNS bytea
LANGUAGE c VOLATILE
SET transaction_read_only = on
AS 'MODULE_PATHNAME', 'perps_stats_export_xlsx';
COMMENT ON FUNCTION perps_stats.export_xlsx(text[], text[]) IS
    'Excel workbook (.xlsx) of one sheet per element of sheets: a query (SELECT, WITH, VALUES, TABLE) or a table or view name, run read-only with the caller''s rights; sheet_names names the sheets (default: the relation''s name, or Sheet<n>)';
REVOKE ALL ON FUNCTION perps_stats.export_xlsx(text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_stats.export_xlsx(text[], text[]) TO perps_reader;

CREATE DOMAIN perps_api."application/octet-stream" AS bytea;
COMMENT ON DOMAIN perps_api."application/octet-stream" IS
    'Binary answers of the API (PostgREST media type handler): the Excel export';

CREATE FUNCTION perps_api.export_xlsx(view text, exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                      since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL,
                                      "limit" int DEFAULT NULL)
RETURNS perps_api."application/octet-stream"
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'perps_api_export_xlsx';
COMMENT ON FUNCTION perps_api.export_xlsx(text, text, text, timestamptz, timestamptz, int) IS
    'Excel workbook (.xlsx) of one view of perps_api, filtered on exchange, symbol and [since, until) of its time column, ordered by time, exchange, symbol; at most "limit" rows';
REVOKE ALL ON FUNCTION perps_api.export_xlsx(text, text, text, timestamptz, timestamptz, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_api.export_xlsx(text, text, text, timestamptz, timestamptz, int) TO perps_anon;
