-- perps_stats install script, part 90: table privileges.  Runs after every
-- part that creates tables, so it covers all of them.
--
-- Only the extension owner writes the tables or changes exchanges (its URLs
-- decide where the server connects).  Members of perps_reader read them
-- (GRANT perps_reader TO analyst); PUBLIC, and so perps_anon, may not.
-- Function privileges are set by the part that creates each function:
-- the math is executable by PUBLIC, anything that writes, maintains or
-- reaches the network is not.

REVOKE ALL ON ALL TABLES IN SCHEMA perps_stats FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA perps_stats TO perps_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA perps_stats FROM PUBLIC;
