-- perps_stats install script, part 05: core functions.

CREATE FUNCTION perps_stats.version()
RETURNS text
AS 'MODULE_PATHNAME', 'perps_stats_version'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perps_stats.version() IS 'version of the loaded perps_stats library';
GRANT EXECUTE ON FUNCTION perps_stats.version() TO PUBLIC;
