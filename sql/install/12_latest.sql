-- perps_stats install script, part 12: the newest ticker of each market,
-- kept at ingest.
--
-- perps_stats.latest_tickers holds one row per market: a copy of its newest
-- row in perps_stats.tickers (same columns), with the market's exchange and
-- symbol names.  The HTTP API's latest_tickers view reads it alone, so "the
-- newest ticker of every BTC market" is a few rows of one small table: no
-- newest-first index probe per market into every daily partition, no join
-- for the names (measured: the join cost as much as the rest of the query).
--
-- Statement-level triggers on tickers keep it right, with transition tables
-- (one upsert per statement, whatever the number of rows: the stream
-- workers' batches, collect()'s rows, a bulk load), so the writers need no
-- change:
--   INSERT    a row newer than (or as new as) the market's newest replaces it;
--             an older row (late data, a backfill) leaves it alone;
--   UPDATE    a changed newest row is copied again; a row whose key moved
--             away from the newest is looked up again in tickers;
--   DELETE    a deleted newest row is replaced by the newest row left;
--   TRUNCATE  of tickers empties it.
-- Triggers on markets and exchanges keep the names right (a market renamed,
-- moved, deleted or added after its tickers; an exchange renamed).
-- What the triggers cannot see (statement triggers of the parent do not fire
-- for statements on a partition itself, nor for DROP TABLE) is handled where
-- it happens: drop_partitions() and clean() call _latest_tickers_refresh;
-- after writing into partitions directly, call refresh_latest_tickers().
--
-- Locking: the upsert locks the rows of the markets a statement wrote until
-- its transaction ends.  Rows are locked in the order collect() writes
-- markets (by venue id, then symbol), so a collect() round and a stream
-- worker's batch that share markets wait for each other, never deadlock on it.

-- the columns of tickers, then the names (NULL for a market_id that is not
-- in markets, which the API does not show)
CREATE TABLE perps_stats.latest_tickers (LIKE perps_stats.tickers INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE perps_stats.latest_tickers ADD COLUMN exchange text, ADD COLUMN symbol text,
    ADD PRIMARY KEY (market_id);
CREATE INDEX ON perps_stats.latest_tickers (symbol);
COMMENT ON TABLE perps_stats.latest_tickers IS
    'The newest row of perps_stats.tickers of each market with its exchange and symbol names, kept by triggers on tickers, markets and exchanges (see refresh_latest_tickers)';
-- its rows are dumped with the data (a restore writes the partitions
-- directly, which the triggers do not see)
SELECT pg_catalog.pg_extension_config_dump('perps_stats.latest_tickers', '');

-- Copies the newest row of tickers for each market of p_markets into
-- latest_tickers, or removes the market's row when tickers has none left.
-- A row that another transaction replaced meanwhile by a newer one stays.
CREATE FUNCTION perps_stats._latest_tickers_reload(p_markets int[])
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    DELETE FROM perps_stats.latest_tickers l
     WHERE l.market_id = ANY (p_markets)
       AND NOT EXISTS (SELECT 1 FROM perps_stats.tickers t WHERE t.market_id = l.market_id);
    INSERT INTO perps_stats.latest_tickers AS l
    SELECT n.*, e.name, m.symbol
      FROM (SELECT DISTINCT u.id FROM unnest(p_markets) u(id)) mk
      LEFT JOIN perps_stats.markets m ON m.id = mk.id
      LEFT JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     CROSS JOIN LATERAL (SELECT * FROM perps_stats.tickers t WHERE t.market_id = mk.id
                          ORDER BY t.ts DESC LIMIT 1) n
     ORDER BY m.exchange_id, m.symbol, mk.id
        ON CONFLICT (market_id) DO UPDATE
       SET ts = excluded.ts, last_price = excluded.last_price, mark_price = excluded.mark_price,
           index_price = excluded.index_price, best_bid_price = excluded.best_bid_price,
           best_bid_qty = excluded.best_bid_qty, best_ask_price = excluded.best_ask_price,
           best_ask_qty = excluded.best_ask_qty, volume_24h = excluded.volume_24h,
           turnover_24h = excluded.turnover_24h, open_interest = excluded.open_interest,
           open_interest_notional = excluded.open_interest_notional,
           price_change_24h = excluded.price_change_24h, price_change_pct = excluded.price_change_pct,
           high_24h = excluded.high_24h, low_24h = excluded.low_24h,
           exchange = excluded.exchange, symbol = excluded.symbol
     -- the row in latest_tickers is gone from tickers (deleted, moved,
     -- dropped with its partition), or older than the newest one left
     WHERE NOT EXISTS (SELECT 1 FROM perps_stats.tickers t WHERE t.market_id = l.market_id AND t.ts = l.ts)
        OR l.ts < excluded.ts;
$$;

-- AFTER INSERT and AFTER UPDATE (FOR EACH STATEMENT, NEW TABLE AS new_rows):
-- the newest written row of each market replaces the market's row unless
-- that one is newer.  The queries over the transition tables run through
-- EXECUTE, so each is planned for the statement's own number of rows: a
-- plan cached for collect()'s one row would be a nested loop over the
-- millions of rows of a bulk load.  The newest row per market is found
-- with an aggregate and a join, not a sort of the written rows.
CREATE FUNCTION perps_stats._latest_tickers_written()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE $q$
    INSERT INTO perps_stats.latest_tickers AS l
    SELECT n.*, e.name, m.symbol
      FROM (SELECT market_id, max(ts) AS ts FROM new_rows GROUP BY market_id) nw
      JOIN new_rows n ON n.market_id = nw.market_id AND n.ts = nw.ts
      LEFT JOIN perps_stats.markets m ON m.id = n.market_id
      LEFT JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     ORDER BY m.exchange_id, m.symbol, n.market_id
        ON CONFLICT (market_id) DO UPDATE
       SET ts = excluded.ts, last_price = excluded.last_price, mark_price = excluded.mark_price,
           index_price = excluded.index_price, best_bid_price = excluded.best_bid_price,
           best_bid_qty = excluded.best_bid_qty, best_ask_price = excluded.best_ask_price,
           best_ask_qty = excluded.best_ask_qty, volume_24h = excluded.volume_24h,
           turnover_24h = excluded.turnover_24h, open_interest = excluded.open_interest,
           open_interest_notional = excluded.open_interest_notional,
           price_change_24h = excluded.price_change_24h, price_change_pct = excluded.price_change_pct,
           high_24h = excluded.high_24h, low_24h = excluded.low_24h,
           exchange = excluded.exchange, symbol = excluded.symbol
     -- as new: the same row updated (or written again after its copy's
     -- original was dropped behind the triggers' back)
     WHERE l.ts <= excluded.ts
    $q$;
    IF TG_OP = 'UPDATE' THEN
        -- rows whose key changed: where one was a market's newest, look again
        EXECUTE $q$
        SELECT perps_stats._latest_tickers_reload(array_agg(DISTINCT l.market_id))
          FROM perps_stats.latest_tickers l
          JOIN old_rows o ON o.market_id = l.market_id AND o.ts = l.ts
         WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.market_id = o.market_id AND n.ts = o.ts)
        HAVING count(*) > 0
        $q$;
    END IF;
    RETURN NULL;
END
$$;

-- AFTER DELETE (FOR EACH STATEMENT, OLD TABLE AS old_rows): a market whose
-- newest row was deleted gets the newest row left.
CREATE FUNCTION perps_stats._latest_tickers_deleted()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE $q$
    SELECT perps_stats._latest_tickers_reload(array_agg(DISTINCT l.market_id))
      FROM perps_stats.latest_tickers l
      JOIN old_rows o ON o.market_id = l.market_id AND o.ts = l.ts
    HAVING count(*) > 0
    $q$;
    RETURN NULL;
END
$$;

CREATE FUNCTION perps_stats._latest_tickers_truncated()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    TRUNCATE perps_stats.latest_tickers;
    RETURN NULL;
END
$$;

CREATE TRIGGER latest_tickers_insert AFTER INSERT ON perps_stats.tickers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION perps_stats._latest_tickers_written();
CREATE TRIGGER latest_tickers_update AFTER UPDATE ON perps_stats.tickers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION perps_stats._latest_tickers_written();
CREATE TRIGGER latest_tickers_delete AFTER DELETE ON perps_stats.tickers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION perps_stats._latest_tickers_deleted();
CREATE TRIGGER latest_tickers_truncate AFTER TRUNCATE ON perps_stats.tickers
    FOR EACH STATEMENT EXECUTE FUNCTION perps_stats._latest_tickers_truncated();

-- AFTER any change to markets or to the names of exchanges (FOR EACH
-- STATEMENT): the names of the copied rows, where they changed.
CREATE FUNCTION perps_stats._latest_tickers_names()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE perps_stats.latest_tickers l
       SET exchange = n.exchange, symbol = n.symbol
      FROM (SELECT x.market_id, e.name AS exchange, m.symbol
              FROM perps_stats.latest_tickers x
              LEFT JOIN perps_stats.markets m ON m.id = x.market_id
              LEFT JOIN perps_stats.exchanges e ON e.id = m.exchange_id) n
     WHERE n.market_id = l.market_id
       AND (l.exchange, l.symbol) IS DISTINCT FROM (n.exchange, n.symbol);
    RETURN NULL;
END
$$;

CREATE TRIGGER latest_tickers_names AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF id, exchange_id, symbol
    ON perps_stats.markets
    FOR EACH STATEMENT EXECUTE FUNCTION perps_stats._latest_tickers_names();
CREATE TRIGGER latest_tickers_names AFTER UPDATE OF id, name ON perps_stats.exchanges
    FOR EACH STATEMENT EXECUTE FUNCTION perps_stats._latest_tickers_names();

-- Used by drop_partitions() and clean(): the markets whose copied row is
-- older than p_before may have lost it with a partition.
CREATE FUNCTION perps_stats._latest_tickers_refresh(p_before timestamptz)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT perps_stats._latest_tickers_reload(array_agg(l.market_id))
      FROM perps_stats.latest_tickers l
     WHERE l.ts < p_before
    HAVING count(*) > 0;
$$;

-- Rebuilds latest_tickers from tickers: after rows were written into or
-- removed from partitions directly, or partitions detached or attached.
-- One newest-first index probe per market and partition.
CREATE FUNCTION perps_stats.refresh_latest_tickers()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows bigint;
BEGIN
    -- every market with a row anywhere in tickers, and every one copied
    PERFORM perps_stats._latest_tickers_reload(array_agg(x.id))
       FROM (SELECT m.id FROM perps_stats.markets m
              WHERE EXISTS (SELECT 1 FROM perps_stats.tickers t WHERE t.market_id = m.id)
             UNION
             SELECT l.market_id FROM perps_stats.latest_tickers l) x
     HAVING count(*) > 0;
    SELECT count(*) INTO v_rows FROM perps_stats.latest_tickers;
    RETURN v_rows;
END
$$;
COMMENT ON FUNCTION perps_stats.refresh_latest_tickers() IS
    'Rebuilds perps_stats.latest_tickers from perps_stats.tickers (needed only after writing into partitions directly); returns its rows';

REVOKE ALL ON FUNCTION perps_stats._latest_tickers_reload(int[]),
                       perps_stats._latest_tickers_written(),
                       perps_stats._latest_tickers_deleted(),
                       perps_stats._latest_tickers_truncated(),
                       perps_stats._latest_tickers_names(),
                       perps_stats._latest_tickers_refresh(timestamptz),
                       perps_stats.refresh_latest_tickers()
    FROM PUBLIC;
