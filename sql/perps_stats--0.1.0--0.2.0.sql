-- perps_stats 0.1.0 -> 0.2.0
--
-- The stream workers keep trades continuous (a REST refetch of what the
-- stream missed) and record what remains lost precisely:
--   * ingest_events gains first_missing_id and last_missing_id, and its
--     stream rows' ranges are in the venue's time;
--   * stream_status gains refetches, trades_refetched and trade_gaps.
\echo Use "ALTER EXTENSION perps_stats UPDATE TO '0.2.0'" to load this file. \quit

ALTER TABLE perps_stats.ingest_events
    ADD COLUMN first_missing_id text,
    ADD COLUMN last_missing_id  text;
COMMENT ON COLUMN perps_stats.ingest_events.range_start IS
    'Where the venue gives times (the stream workers'' disconnect, reconnect and gap rows), the venue''s time: of the last message or trade before what is missing';
COMMENT ON COLUMN perps_stats.ingest_events.range_end IS
    'The venue''s time of the first message or trade after what is missing (NULL: not known yet, as on a disconnect row)';
COMMENT ON COLUMN perps_stats.ingest_events.first_missing_id IS
    'A gap row of a venue that numbers its trades or book updates: the first id missing';
COMMENT ON COLUMN perps_stats.ingest_events.last_missing_id IS
    'A gap row of a venue that numbers its trades or book updates: the last id missing';

-- perps_api.exchanges without the venues' URLs (internal addresses)
DROP VIEW perps_api.exchanges;
CREATE VIEW perps_api.exchanges AS
    SELECT e.name AS exchange, e.maker_fee, e.taker_fee, e.enabled
      FROM perps_stats.exchanges e;
GRANT SELECT ON perps_api.exchanges TO perps_anon;

CREATE OR REPLACE VIEW perps_api.ingest_events AS
    SELECT v.id, v.ts, e.name AS exchange, m.symbol, v.source, v.kind, v.message,
           v.range_start, v.range_end, v.first_missing_id, v.last_missing_id
      FROM perps_stats.ingest_events v
      LEFT JOIN perps_stats.markets m ON m.id = v.market_id
      LEFT JOIN perps_stats.exchanges e ON e.id = coalesce(v.exchange_id, m.exchange_id);

-- stream_status: the function's result and both views, with the new counters
DROP VIEW perps_api.stream_status;
DROP VIEW perps_stats.stream_status;
DROP FUNCTION perps_stats._stream_status();

CREATE FUNCTION perps_stats._stream_status(
    OUT exchange text, OUT state text, OUT connected_since timestamptz,
    OUT messages bigint, OUT rows_written bigint, OUT bytes bigint,
    OUT last_message_at timestamptz, OUT reconnects bigint, OUT gaps bigint,
    OUT resyncs bigint, OUT parse_errors bigint, OUT refetches bigint, OUT trades_refetched bigint,
    OUT trade_gaps bigint, OUT buffered_rows bigint,
    OUT last_error text, OUT pid integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'perps_stream_status'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
GRANT EXECUTE ON FUNCTION perps_stats._stream_status() TO PUBLIC;

CREATE VIEW perps_stats.stream_status AS
    SELECT exchange, state, connected_since, messages, rows_written, bytes, last_message_at,
           reconnects, gaps, resyncs, parse_errors, refetches, trades_refetched, trade_gaps,
           buffered_rows, last_error, pid
      FROM perps_stats._stream_status();
COMMENT ON VIEW perps_stats.stream_status IS
    'Stream workers: connection state and counters per venue (state backpressure: the write buffer is full and reading is paused; reconnecting: a connection is down, the others stream; reconnects: connections opened again after one closed; refetches: trade gaps refetched by REST; trade_gaps: trade gaps recorded in ingest_events as lost)';
REVOKE ALL ON perps_stats.stream_status FROM PUBLIC;
GRANT SELECT ON perps_stats.stream_status TO perps_reader;

CREATE VIEW perps_api.stream_status AS
    SELECT exchange, state, connected_since, messages, rows_written, bytes, last_message_at,
           reconnects, gaps, resyncs, parse_errors, refetches, trades_refetched, trade_gaps,
           buffered_rows, last_error
      FROM perps_stats.stream_status;
COMMENT ON VIEW perps_api.stream_status IS
    'Stream workers: connection state and counters per venue, one row per venue streamed since the server started';
GRANT SELECT ON perps_api.stream_status TO perps_anon;
