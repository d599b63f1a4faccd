-- perps_stats install script, part 38: the stream workers' status.
--
-- One row per venue whose stream worker ran since the server started,
-- from shared memory (empty when the library is not preloaded).

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

CREATE VIEW perps_stats.stream_status AS
    SELECT exchange, state, connected_since, messages, rows_written, bytes, last_message_at,
           reconnects, gaps, resyncs, parse_errors, refetches, trades_refetched, trade_gaps,
           buffered_rows, last_error, pid
      FROM perps_stats._stream_status();
COMMENT ON VIEW perps_stats.stream_status IS
    'Stream workers: connection state and counters per venue (state backpressure: the write buffer is full and reading is paused; reconnecting: a connection is down, the others stream; reconnects: connections opened again after one closed; refetches: trade gaps refetched by REST; trade_gaps: trade gaps recorded in ingest_events as lost)';

-- counters and connection states only: readable by everybody, like the data
GRANT EXECUTE ON FUNCTION perps_stats._stream_status() TO PUBLIC;

-- The last message a venue's stream worker stored, kept with each batch it
-- writes: a worker that starts (after a crash, a restart of the cluster, a
-- stop) records the outage from there to its first new message.
CREATE TABLE perps_stats.stream_progress (
    exchange_id      smallint PRIMARY KEY REFERENCES perps_stats.exchanges (id) ON DELETE CASCADE,
    last_message_at  timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE perps_stats.stream_progress IS
    'Per venue, the venue''s time of the last message its stream worker stored (written with each batch): a worker that starts records the outage from there to its first message';
REVOKE ALL ON perps_stats.stream_progress FROM PUBLIC;
GRANT SELECT ON perps_stats.stream_progress TO perps_reader;
