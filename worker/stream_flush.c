/*-------------------------------------------------------------------------
 *
 * stream_flush.c
 *		A stream worker's batch of rows and its writes (see stream_int.h
 *		for the worker's parts); the rows go through the store (store.h),
 *		the one writer of the tables.
 *
 * Transactions: one per flush (worker_spi's bracket), in which the store
 * writes each table with one statement.  A failed flush keeps its rows
 * and is retried; the batch is bounded (stream_max_buffered() rows): when
 * full, the connections stop being read and the status says backpressure;
 * full and unwritable for STREAM_FLUSH_GIVE_UP_MS, the batch is dropped
 * and that is recorded.
 *
 * Memory: the rows live in the store's context, emptied after each
 * successful flush.
 *
 *-------------------------------------------------------------------------
 */
#include "stream_int.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "perps_stats.h"
#include "guard.h"

PerpsStore *stream_store;
int64		stream_last_venue_us = 0;
static int64 progress_written_us = 0;	/* stream_last_venue_us as stream_progress has it */
static TimestampTz batch_started;	/* when the oldest buffered row came */
static bool flush_now;			/* a gap row is buffered: write it in this turn */
static int	flush_failures;
static TimestampTz first_flush_failure;
static TimestampTz next_flush_retry;

int
stream_buffered_rows(void)
{
	return stream_store ? perps_store_count(stream_store) : 0;
}

/* Notes when the batch's oldest row came (after the rows were added). */
static void
batch_touch(void)
{
	if (batch_started == 0)
		batch_started = GetCurrentTimestamp();
}

/*
 * A decimal numeric_in takes without error: valid text (the adapters
 * checked it) with an exponent numeric can hold.
 */
bool
stream_decimal_storable(const char *s)
{
	const char *e;

	if (s == NULL)
		return true;
	if (!perps_decimal_valid(s, strlen(s)))
		return false;
	e = strpbrk(s, "eE");
	if (e != NULL)
	{
		long		v = strtol(e + 1, NULL, 10);

		if (v > 1000 || v < -1000)
			return false;
	}
	return true;
}

void
stream_add_event(int32 market_id, const char *kind, TimestampTz start, TimestampTz end, const char *fmt,...)
{
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perps_store_event(stream_store, (int16) stream_exchange_id, market_id, kind, msg, start, end, NULL, NULL);
	batch_touch();
}

/* A gap row: what is missing, in the venue's time, with its first and last missing id where known. */
void
stream_add_gap(int32 market_id, TimestampTz start, TimestampTz end, const char *first_id,
			   const char *last_id, const char *fmt,...)
{
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perps_store_event(stream_store, (int16) stream_exchange_id, market_id, "gap", msg, start, end,
					  first_id, last_id);
	batch_touch();
	/* written before the turn publishes the gap's count: the count never runs ahead of the row */
	flush_now = true;
}

void
stream_add_trade(int32 market_id, int64 ts_us, const char *trade_id, const char *price, const char *qty,
				 const char *qty_mult, bool is_buy)
{
	perps_store_trade(stream_store, market_id, stream_ts(ts_us), trade_id, perps_numeric(price),
					  perps_qty(qty, qty_mult), is_buy);
	batch_touch();
}

void
stream_add_ticker(int32 market_id, int64 ts_us, char f[][PERPS_DECIMAL_MAX_LEN + 1], const bool *present)
{
	Datum		v[PERPS_TICKER_NCOLS];
	bool		n[PERPS_TICKER_NCOLS];

	for (int k = 0; k < PERPS_TICKER_NCOLS; k++)
	{
		n[k] = !present[k];
		v[k] = present[k] ? perps_numeric(f[k]) : (Datum) 0;
	}
	perps_store_ticker(stream_store, market_id, stream_ts(ts_us), v, n);
	batch_touch();
}

void
stream_add_funding(int32 market_id, int64 funding_time_us, const char *rate, const char *interval_hours)
{
	Datum		r = perps_numeric(rate);
	Datum		ih = interval_hours ? perps_numeric(interval_hours) : (Datum) 0;

	perps_store_funding(stream_store, market_id, stream_ts(funding_time_us), &r, NULL,
						interval_hours ? &ih : NULL);
	batch_touch();
}

/* a candle; volume already in base units (NULL: not given) */
void
stream_add_kline(int32 market_id, const char *interval, const PerpsKline *k, const char *volume)
{
	Datum		o = perps_numeric(k->open),
				h = perps_numeric(k->high),
				l = perps_numeric(k->low),
				c = perps_numeric(k->close);
	Datum		v = volume ? perps_numeric(volume) : (Datum) 0;
	Datum		t = k->turnover ? perps_numeric(k->turnover) : (Datum) 0;
	int64		n = k->trade_count;

	perps_store_kline(stream_store, market_id, interval, stream_ts(k->open_time_us), stream_ts(k->close_time_us),
					  o, h, l, c, volume ? &v : NULL, k->turnover ? &t : NULL, n >= 0 ? &n : NULL);
	batch_touch();
}

void
stream_add_book(int32 market_id, int64 ts_us, const PerpsNumBook *book, int64 seq)
{
	perps_store_book(stream_store, market_id, stream_ts(ts_us), book, perps_orderbook_store_levels, seq, true);
	batch_touch();
}

void
stream_add_books(int32 market_id, int64 ts_us, const PerpsNumBook *books, int nbooks, int64 seq,
				 const char *const *labels)
{
	perps_store_books(stream_store, market_id, stream_ts(ts_us), books, labels,
					  nbooks, perps_orderbook_store_levels, seq, true);
	batch_touch();
}

static void
reset_buffers(void)
{
	perps_store_reset(stream_store);
	batch_started = 0;
	flush_now = false;
}

/*
 * The venue's time of the newest message, into stream_progress with the
 * batch (its one writer): a worker that starts records the outage from
 * there (stream_outage_begin).
 */
static void
progress_write_run(void *arg)
{
	Oid			types[2] = {INT2OID, TIMESTAMPTZOID};
	Datum		args[2];

	args[0] = Int16GetDatum((int16) stream_exchange_id);
	args[1] = TimestampTzGetDatum(stream_ts(stream_last_venue_us));
	if (SPI_execute_with_args("INSERT INTO perps_stats.stream_progress AS p (exchange_id, last_message_at) "
							  "VALUES ($1, $2) ON CONFLICT (exchange_id) DO UPDATE "
							  "SET last_message_at = greatest(p.last_message_at, EXCLUDED.last_message_at), updated_at = now()",
							  2, types, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "writing perps_stats.stream_progress failed");
}

/* in a subtransaction: a schema without the table (an extension not updated yet) must not stop the batch */
static void
progress_write(void)
{
	ErrorData  *edata;

	if (stream_last_venue_us <= progress_written_us)
		return;
	edata = perps_run_guarded(progress_write_run, NULL);
	if (edata != NULL)
	{
		stream_set_error("stream_progress not written: %s", edata->message);
		FreeErrorData(edata);
	}
}

/* Writes everything buffered in one transaction; false when it failed (rows kept). */
bool
stream_flush(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;
	int64		written_before = worker_status.rows_written;

	if (stream_buffered_rows() == 0)
		return true;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "perps_stats stream flush");

		worker_status.rows_written += (int64) perps_store_flush(stream_store);
		progress_write();

		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_stat(false);
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = perps_catch_and_abort(oldcxt);
		worker_status.rows_written = written_before;
		stream_set_error("flush failed: %s", edata->message);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("perps_stats stream worker for \"%s\" could not write a batch: %s",
						worker_status.exchange, edata->message),
				 errdetail("The %d buffered rows are kept and written again.", stream_buffered_rows())));
		FreeErrorData(edata);
		pgstat_report_activity(STATE_IDLE, NULL);
		ok = false;
	}
	PG_END_TRY();

	if (ok)
	{
		reset_buffers();
		flush_failures = 0;
		progress_written_us = Max(progress_written_us, stream_last_venue_us);
	}
	else
	{
		TimestampTz now = GetCurrentTimestamp();

		if (flush_failures++ == 0)
			first_flush_failure = now;
		if (stream_buffered_rows() >= stream_max_buffered() &&
			now >= TimestampTzPlusMilliseconds(first_flush_failure, STREAM_FLUSH_GIVE_UP_MS))
		{
			/* full and unwritable for a minute: drop the batch, say so, go on streaming */
			int			dropped = stream_buffered_rows();
			TimestampTz since = batch_started;

			reset_buffers();
			flush_failures = 0;
			stream_add_event(0, "error", since, now,
					  "%d buffered rows dropped: writing them failed for %d s (%s)",
					  dropped, STREAM_FLUSH_GIVE_UP_MS / 1000, worker_status.last_error);
			stream_set_error("dropped %d buffered rows that could not be written", dropped);
		}
	}
	next_flush_retry = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STREAM_FLUSH_RETRY_MS);
	return ok;
}

bool
stream_flush_due(TimestampTz now)
{
	int			n = stream_buffered_rows();

	if (n == 0)
		return false;
	if (flush_failures > 0 && now < next_flush_retry)
		return false;
	return flush_now || n >= perps_flush_rows ||
		now >= TimestampTzPlusMilliseconds(batch_started, perps_flush_interval);
}


typedef struct LossArg
{
	const char *message;
	TimestampTz since;
} LossArg;

static void
loss_record_run(void *arg)
{
	LossArg    *a = (LossArg *) arg;
	PerpsStore *record = perps_store_new(CurrentMemoryContext, "stream");

	perps_store_event(record, (int16) stream_exchange_id, 0, "error", a->message,
					  a->since ? a->since : GetCurrentTimestamp(), GetCurrentTimestamp(), NULL, NULL);
	SPI_connect();
	perps_store_flush(record);
	SPI_finish();
}

/*
 * The worker is about to exit (SIGTERM, or an error in its loop): what is
 * buffered is written, a few tries; when it cannot be, the loss is
 * recorded instead, rows per table and their time, in a transaction of its
 * own (the server log says it when even that fails).
 */
void
stream_flush_or_record_loss(const char *why)
{
	char		counts[256];
	char		msg[600];
	LossArg		a;
	int			n;

	for (int tries = 0; tries < 3 && stream_buffered_rows() > 0; tries++)
		if (stream_flush())
			return;
	n = stream_buffered_rows();
	if (n == 0)
		return;
	perps_store_describe(stream_store, counts, sizeof(counts));
	snprintf(msg, sizeof(msg), "%d buffered rows lost (%s) as the stream worker exited: %s; the last write error: %s",
			 n, counts, why, worker_status.last_error);
	a.message = msg;
	a.since = batch_started;
	if (!stream_in_xact(loss_record_run, &a, "perps_stats stream: recording lost rows", "recording the lost rows"))
		ereport(LOG,
				(errmsg("perps_stats stream worker for \"%s\" lost %d buffered rows (%s): %s",
						worker_status.exchange, n, counts, why),
				 errdetail("Neither the rows nor the record of their loss could be written: %s",
						   worker_status.last_error)));
	reset_buffers();
}
