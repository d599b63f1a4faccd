-- The launcher and the collector: the launcher starts with the cluster; the
-- collector once the extension exists and collect_interval > 0 (the test
-- cluster starts with 0, so that no collector round writes into the tables
-- other tests count), stopped and started again with collect_interval, and
-- restarted by the launcher when killed.  Polls with a timeout, never a
-- fixed sleep.
SELECT plan(7);

CREATE FUNCTION pg_temp.wait_for(q text, timeout_s int DEFAULT 30) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    ok boolean;
    deadline timestamptz := clock_timestamp() + make_interval(secs => timeout_s);
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        EXECUTE q INTO ok;
        IF ok THEN RETURN true; END IF;
        IF clock_timestamp() > deadline THEN RETURN false; END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;

SELECT ok(pg_temp.wait_for($$SELECT count(*) = 1 FROM pg_stat_activity
                             WHERE backend_type = 'perps_stats launcher' AND datname = current_database()$$),
          'the launcher runs in perps_stats.database');
SELECT is((SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'perps_stats collector'), 0,
          'no collector while collect_interval = 0');
-- an hour: the collector runs its first round at start, then waits
ALTER SYSTEM SET perps_stats.collect_interval = '1h';
DO $$BEGIN PERFORM pg_reload_conf(); END$$;
SELECT ok(pg_temp.wait_for($$SELECT count(*) = 1 FROM pg_stat_activity
                             WHERE backend_type = 'perps_stats collector'$$),
          'the launcher started the collector');

-- collect_interval = 0 stops the collector (SIGHUP, no restart)
ALTER SYSTEM SET perps_stats.collect_interval = 0;
DO $$BEGIN PERFORM pg_reload_conf(); END$$;
SELECT ok(pg_temp.wait_for($$SELECT count(*) = 0 FROM pg_stat_activity
                             WHERE backend_type = 'perps_stats collector'$$),
          'collect_interval = 0 stops the collector');
ALTER SYSTEM SET perps_stats.collect_interval = '1h';
DO $$BEGIN PERFORM pg_reload_conf(); END$$;
SELECT ok(pg_temp.wait_for($$SELECT count(*) = 1 FROM pg_stat_activity
                             WHERE backend_type = 'perps_stats collector'$$),
          'setting it again starts the collector again');

-- a collector that dies is restarted by the launcher (after its backoff)
CREATE TEMP TABLE old_pid AS
    SELECT pid FROM pg_stat_activity WHERE backend_type = 'perps_stats collector';
DO $$BEGIN PERFORM pg_terminate_backend(pid) FROM old_pid; END$$;
SELECT ok(pg_temp.wait_for($$SELECT count(*) = 1 FROM pg_stat_activity
                             WHERE backend_type = 'perps_stats collector'
                               AND pid NOT IN (SELECT pid FROM old_pid)$$),
          'a killed collector is restarted');
SELECT is((SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'perps_stats launcher'), 1,
          'still one launcher');

-- off again for the tests that follow
ALTER SYSTEM RESET perps_stats.collect_interval;
DO $$BEGIN PERFORM pg_reload_conf(); END$$;
SELECT * FROM finish();
