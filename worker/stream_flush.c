/*-------------------------------------------------------------------------
 *
 * stream_flush.c
 *		A stream worker's buffered rows and their batched writes (see
 *		stream_int.h for the worker's parts).
 *
 * Transactions: one per flush (worker_spi's bracket), with one INSERT ...
 * SELECT FROM unnest(...) per table (trades through the multi-insert path,
 * bulk.h) and the ingest_events rows of the batch.  A failed flush keeps
 * its rows and is retried; the buffers are bounded (stream_max_buffered()
 * rows): when full, the connections stop being read and the status says
 * backpressure; full and unwritable for STREAM_FLUSH_GIVE_UP_MS, the batch
 * is dropped and that is recorded.
 *
 * Memory: the rows live in batch_cxt, reset after each successful flush.
 *
 *-------------------------------------------------------------------------
 */
#include "stream_int.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bulk.h"
#include "fetch.h"
#include "perps_stats.h"

StreamBuffers stream_buf;
static TimestampTz batch_started;	/* when the oldest buffered row came */
static int	flush_failures;
static TimestampTz first_flush_failure;
static TimestampTz next_flush_retry;

static SPIPlanPtr plan_trades, plan_tickers, plan_books, plan_event, plan_liquidity, plan_slippage, plan_funding;

static const char *const ticker_cols[STREAM_NTICKER] = {
	"last_price", "mark_price", "index_price", "best_bid_price", "best_bid_qty",
	"best_ask_price", "best_ask_qty", "volume_24h", "turnover_24h", "open_interest",
	"open_interest_notional", "price_change_24h", "price_change_pct", "high_24h", "low_24h"
};

int
stream_buffered_rows(void)
{
	return stream_buf.trades.n + stream_buf.tickers.n + stream_buf.books.n + stream_buf.events.n + stream_buf.liquidity.n + stream_buf.slippage.n +
		stream_buf.funding.n;
}

/* ---- buffers ---- */

void *
stream_rowbuf_add(RowBuf *b, size_t size)
{
	MemoryContext old = MemoryContextSwitchTo(batch_cxt);
	char	   *row;

	if (b->n == b->cap)
	{
		int			ncap = b->cap ? b->cap * 2 : 256;

		b->rows = b->rows ? repalloc(b->rows, (Size) ncap * size) : palloc((Size) ncap * size);
		b->cap = ncap;
	}
	row = (char *) b->rows + (Size) b->n * size;
	memset(row, 0, size);
	b->n++;
	if (batch_started == 0)
		batch_started = GetCurrentTimestamp();
	MemoryContextSwitchTo(old);
	return row;
}

char *
stream_batch_strdup(const char *s)
{
	return s ? MemoryContextStrdup(batch_cxt, s) : NULL;
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
	EventRow   *r = stream_rowbuf_add(&stream_buf.events, sizeof(EventRow));
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->market_id = market_id;
	r->kind = stream_batch_strdup(kind);
	r->message = stream_batch_strdup(msg);
	r->range_start = start;
	r->range_end = end;
}

/* A gap row: what is missing, in the venue's time, with its first and last missing id where known. */
void
stream_add_gap(int32 market_id, TimestampTz start, TimestampTz end, const char *first_id,
			   const char *last_id, const char *fmt,...)
{
	EventRow   *r;
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r = stream_rowbuf_add(&stream_buf.events, sizeof(EventRow));
	r->market_id = market_id;
	r->kind = stream_batch_strdup("gap");
	r->message = stream_batch_strdup(msg);
	r->range_start = start;
	r->range_end = end;
	r->first_id = stream_batch_strdup(first_id);
	r->last_id = stream_batch_strdup(last_id);
}

/* ---- flushing ---- */

static void
prepare_plans(void)
{
	static const char *trades_sql =
		"INSERT INTO perps_stats.trades (market_id, ts, trade_id, price, qty, side) "
		"SELECT * FROM unnest($1::int4[], $2::timestamptz[], $3::text[], $4::numeric[], $5::numeric[], $6::text[]) "
		"ON CONFLICT DO NOTHING";
	static const char *books_sql =
		"INSERT INTO perps_stats.orderbooks (market_id, ts, bids, asks, seq) "
		"SELECT m, t, b::numeric[], a::numeric[], s "
		"FROM unnest($1::int4[], $2::timestamptz[], $3::text[], $4::text[], $5::int8[]) AS u(m, t, b, a, s) "
		"ON CONFLICT DO NOTHING";
	static const char *event_sql =
		"INSERT INTO perps_stats.ingest_events (exchange_id, market_id, source, kind, message, range_start, range_end, "
		"first_missing_id, last_missing_id) VALUES ($1, $2, 'stream', $3, $4, $5, $6, $7, $8)";
	Oid			trade_types[6] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID,
	NUMERICARRAYOID, NUMERICARRAYOID, TEXTARRAYOID};
	Oid			book_types[5] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID};
	Oid			event_types[8] = {INT2OID, INT4OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Oid			ticker_types[2 + STREAM_NTICKER];
	StringInfoData sql;
	SPIPlanPtr	pt,
				pk,
				pb,
				pe,
				pl,
				ps;
	static const char *slippage_sql =
		"INSERT INTO perps_stats.slippage (market_id, ts, amount, side, mid_price, avg_price, slippage_bps, feasible) "
		"SELECT * FROM unnest($1::int4[], $2::timestamptz[], $3::numeric[], $4::text[], $5::numeric[], "
		"$6::numeric[], $7::numeric[], $8::bool[]) ON CONFLICT DO NOTHING";
	Oid			slippage_types[8] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID, NUMERICARRAYOID, TEXTARRAYOID,
	NUMERICARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID, BOOLARRAYOID};
	Oid			liquidity_types[2 + PERPS_LIQUIDITY_ROW_NATTS];
	StringInfoData lsql;

	/*
	 * The current period's rate changes until the funding time: the newest
	 * value seen replaces the older one (a batch holds at most one row per
	 * key, see add_funding).
	 */
	static const char *funding_sql =
		"INSERT INTO perps_stats.funding_rates AS f (market_id, funding_time, rate, interval_hours) "
		"SELECT * FROM unnest($1::int4[], $2::timestamptz[], $3::numeric[], $4::numeric[]) "
		"ON CONFLICT (market_id, funding_time) DO UPDATE SET rate = EXCLUDED.rate, "
		"interval_hours = coalesce(EXCLUDED.interval_hours, f.interval_hours) "
		"WHERE (f.rate, f.interval_hours) IS DISTINCT FROM (EXCLUDED.rate, coalesce(EXCLUDED.interval_hours, f.interval_hours))";
	Oid			funding_types[4] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID};
	SPIPlanPtr	pf;

	if (plan_trades != NULL)
		return;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "INSERT INTO perps_stats.tickers (market_id, ts");
	for (int i = 0; i < STREAM_NTICKER; i++)
		appendStringInfo(&sql, ", %s", ticker_cols[i]);
	appendStringInfoString(&sql, ") SELECT * FROM unnest($1::int4[], $2::timestamptz[]");
	for (int i = 0; i < STREAM_NTICKER; i++)
		appendStringInfo(&sql, ", $%d::numeric[]", i + 3);
	appendStringInfoString(&sql, ") ON CONFLICT DO NOTHING");
	ticker_types[0] = INT4ARRAYOID;
	ticker_types[1] = TIMESTAMPTZARRAYOID;
	for (int i = 0; i < STREAM_NTICKER; i++)
		ticker_types[i + 2] = NUMERICARRAYOID;

	initStringInfo(&lsql);
	appendStringInfoString(&lsql,
						   "INSERT INTO perps_stats.liquidity_depth (market_id, ts, mid_price, "
						   "bid_1bps, bid_2_5bps, bid_5bps, bid_10bps, bid_20bps, bid_50bps, bid_100bps, "
						   "ask_1bps, ask_2_5bps, ask_5bps, ask_10bps, ask_20bps, ask_50bps, ask_100bps, "
						   "max_bid_bps, max_ask_bps) SELECT * FROM unnest($1::int4[], $2::timestamptz[]");
	for (int i = 0; i < PERPS_LIQUIDITY_ROW_NATTS; i++)
		appendStringInfo(&lsql, ", $%d::numeric[]", i + 3);
	appendStringInfoString(&lsql, ") ON CONFLICT DO NOTHING");
	liquidity_types[0] = INT4ARRAYOID;
	liquidity_types[1] = TIMESTAMPTZARRAYOID;
	for (int i = 0; i < PERPS_LIQUIDITY_ROW_NATTS; i++)
		liquidity_types[i + 2] = NUMERICARRAYOID;

	/* all or none: a failure here (the tables are gone) is retried */
	pl = SPI_prepare(lsql.data, 2 + PERPS_LIQUIDITY_ROW_NATTS, liquidity_types);
	ps = SPI_prepare(slippage_sql, 8, slippage_types);
	pf = SPI_prepare(funding_sql, 4, funding_types);
	if (!pl || !ps || !pf)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	pt = SPI_prepare(trades_sql, 6, trade_types);
	pk = SPI_prepare(sql.data, 2 + STREAM_NTICKER, ticker_types);
	pb = SPI_prepare(books_sql, 5, book_types);
	pe = SPI_prepare(event_sql, 8, event_types);
	if (!pt || !pk || !pb || !pe)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(pt);
	SPI_keepplan(pk);
	SPI_keepplan(pb);
	SPI_keepplan(pe);
	SPI_keepplan(pl);
	SPI_keepplan(ps);
	SPI_keepplan(pf);
	plan_funding = pf;
	plan_liquidity = pl;
	plan_slippage = ps;
	plan_trades = pt;
	plan_tickers = pk;
	plan_books = pb;
	plan_event = pe;
}

static Datum
numeric_datum(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s == NULL ? (Datum) 0 : perps_fetch_numeric(s);
}

static Datum
array_datum(Datum *vals, bool *nulls, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(vals, nulls, 1, dims, lbs, elemtype,
											  typlen, typbyval, typalign));
}

static void
exec_plan(SPIPlanPtr plan, Datum *args, const char *nulls)
{
	int			ret = SPI_execute_plan(plan, args, nulls, false, 0);

	if (ret != SPI_OK_INSERT)
		elog(ERROR, "stream insert failed: %s", SPI_result_code_string(ret));
	worker_status.rows_written += (int64) SPI_processed;
}

/* INSERT ... ON CONFLICT DO NOTHING of the buffered trades (the COPY path's fallback). */
static void
insert_trades(void)
{
	TradeRow   *rows = stream_buf.trades.rows;
	int			n = stream_buf.trades.n;
	Datum	   *v[6];
	bool	   *nl = palloc0(sizeof(bool) * n);
	Datum		args[6];

	for (int k = 0; k < 6; k++)
		v[k] = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		v[0][i] = Int32GetDatum(rows[i].market_id);
		v[1][i] = TimestampTzGetDatum(stream_ts(rows[i].ts_us));
		v[2][i] = CStringGetTextDatum(rows[i].trade_id);
		v[3][i] = numeric_datum(rows[i].price, &isnull);
		v[4][i] = numeric_datum(rows[i].qty, &isnull);
		v[5][i] = CStringGetTextDatum(rows[i].is_buy ? "buy" : "sell");
	}
	args[0] = array_datum(v[0], nl, n, INT4OID);
	args[1] = array_datum(v[1], nl, n, TIMESTAMPTZOID);
	args[2] = array_datum(v[2], nl, n, TEXTOID);
	args[3] = array_datum(v[3], nl, n, NUMERICOID);
	args[4] = array_datum(v[4], nl, n, NUMERICOID);
	args[5] = array_datum(v[5], nl, n, TEXTOID);
	exec_plan(plan_trades, args, NULL);
}

static uint64
insert_trades_cb(void *arg)
{
	insert_trades();
	return 0;					/* counted by exec_plan */
}

/* a buffered trade as the columns of perps_stats.trades */
static void
fill_trade(void *arg, int row, Datum *values, bool *isnull)
{
	TradeRow   *t = &((TradeRow *) stream_buf.trades.rows)[row];

	memset(isnull, 0, sizeof(bool) * 6);
	values[0] = Int32GetDatum(t->market_id);
	values[1] = TimestampTzGetDatum(stream_ts(t->ts_us));
	values[2] = CStringGetTextDatum(t->trade_id);
	values[3] = numeric_datum(t->price, &isnull[3]);
	values[4] = numeric_datum(t->qty, &isnull[4]);
	values[5] = CStringGetTextDatum(t->is_buy ? "buy" : "sell");
}

/*
 * Trades are the bulk of a stream: the multi-insert path writes them
 * (bulk.h), in a subtransaction; a batch it refuses (a trade already
 * stored: a venue that replays after a reconnect) is written by INSERT ...
 * ON CONFLICT DO NOTHING instead, so a flush stays idempotent.
 */
static void
flush_trades(void)
{
	bool		used_bulk;
	uint64		n;

	n = perps_bulk_insert_or("perps_stats", "trades", 6, stream_buf.trades.n, fill_trade, NULL,
							 insert_trades_cb, &used_bulk);
	worker_status.rows_written += (int64) n;
}

static void
flush_tickers(void)
{
	TickerRow  *rows = stream_buf.tickers.rows;
	int			n = stream_buf.tickers.n;
	Datum		args[2 + STREAM_NTICKER];
	Datum	   *v = palloc(sizeof(Datum) * n);
	Datum	   *t = palloc(sizeof(Datum) * n);
	bool	   *nl = palloc0(sizeof(bool) * n);

	for (int i = 0; i < n; i++)
	{
		v[i] = Int32GetDatum(rows[i].market_id);
		t[i] = TimestampTzGetDatum(stream_ts(rows[i].ts_us));
	}
	args[0] = array_datum(v, nl, n, INT4OID);
	args[1] = array_datum(t, nl, n, TIMESTAMPTZOID);
	for (int k = 0; k < STREAM_NTICKER; k++)
	{
		Datum	   *fv = palloc(sizeof(Datum) * n);
		bool	   *fn = palloc(sizeof(bool) * n);

		for (int i = 0; i < n; i++)
			fv[i] = numeric_datum(rows[i].f[k], &fn[i]);
		args[2 + k] = array_datum(fv, fn, n, NUMERICOID);
	}
	exec_plan(plan_tickers, args, NULL);
}

static void
flush_books(void)
{
	BookRow    *rows = stream_buf.books.rows;
	int			n = stream_buf.books.n;
	Datum	   *v[5];
	bool	   *nl = palloc0(sizeof(bool) * n);
	Datum		args[5];

	for (int k = 0; k < 5; k++)
		v[k] = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		v[0][i] = Int32GetDatum(rows[i].market_id);
		v[1][i] = TimestampTzGetDatum(stream_ts(rows[i].ts_us));
		v[2][i] = CStringGetTextDatum(rows[i].bids);
		v[3][i] = CStringGetTextDatum(rows[i].asks);
		v[4][i] = Int64GetDatum(rows[i].seq);
	}
	args[0] = array_datum(v[0], nl, n, INT4OID);
	args[1] = array_datum(v[1], nl, n, TIMESTAMPTZOID);
	args[2] = array_datum(v[2], nl, n, TEXTOID);
	args[3] = array_datum(v[3], nl, n, TEXTOID);
	args[4] = array_datum(v[4], nl, n, INT8OID);
	exec_plan(plan_books, args, NULL);
}

static void
flush_liquidity(void)
{
	LiquidityRow *rows = stream_buf.liquidity.rows;
	int			n = stream_buf.liquidity.n;
	Datum		args[2 + PERPS_LIQUIDITY_ROW_NATTS];
	Datum	   *v = palloc(sizeof(Datum) * n);
	Datum	   *t = palloc(sizeof(Datum) * n);
	bool	   *nl = palloc0(sizeof(bool) * n);

	for (int i = 0; i < n; i++)
	{
		v[i] = Int32GetDatum(rows[i].market_id);
		t[i] = TimestampTzGetDatum(stream_ts(rows[i].ts_us));
	}
	args[0] = array_datum(v, nl, n, INT4OID);
	args[1] = array_datum(t, nl, n, TIMESTAMPTZOID);
	for (int k = 0; k < PERPS_LIQUIDITY_ROW_NATTS; k++)
	{
		Datum	   *fv = palloc(sizeof(Datum) * n);
		bool	   *fn = palloc(sizeof(bool) * n);

		for (int i = 0; i < n; i++)
		{
			fv[i] = rows[i].values[k];
			fn[i] = rows[i].nulls[k];
		}
		args[2 + k] = array_datum(fv, fn, n, NUMERICOID);
	}
	exec_plan(plan_liquidity, args, NULL);
}

static void
flush_slippage(void)
{
	SlipRow    *rows = stream_buf.slippage.rows;
	int			n = stream_buf.slippage.n;
	Datum	   *v[8];
	bool	   *nl = palloc0(sizeof(bool) * n);
	bool	   *n_avg = palloc0(sizeof(bool) * n);
	bool	   *n_bps = palloc0(sizeof(bool) * n);
	Datum		args[8];

	for (int k = 0; k < 8; k++)
		v[k] = palloc0(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		const PerpsSlippageRow *r = &rows[i].r;

		v[0][i] = Int32GetDatum(rows[i].market_id);
		v[1][i] = TimestampTzGetDatum(stream_ts(rows[i].ts_us));
		v[2][i] = NumericGetDatum(r->amount);
		v[3][i] = CStringGetTextDatum(r->is_buy ? "buy" : "sell");
		v[4][i] = NumericGetDatum(r->mid_price);
		n_avg[i] = r->avg_price == NULL;
		v[5][i] = n_avg[i] ? (Datum) 0 : NumericGetDatum(r->avg_price);
		n_bps[i] = r->slippage_bps == NULL;
		v[6][i] = n_bps[i] ? (Datum) 0 : NumericGetDatum(r->slippage_bps);
		v[7][i] = BoolGetDatum(r->feasible);
	}
	args[0] = array_datum(v[0], nl, n, INT4OID);
	args[1] = array_datum(v[1], nl, n, TIMESTAMPTZOID);
	args[2] = array_datum(v[2], nl, n, NUMERICOID);
	args[3] = array_datum(v[3], nl, n, TEXTOID);
	args[4] = array_datum(v[4], nl, n, NUMERICOID);
	args[5] = array_datum(v[5], n_avg, n, NUMERICOID);
	args[6] = array_datum(v[6], n_bps, n, NUMERICOID);
	args[7] = array_datum(v[7], nl, n, BOOLOID);
	exec_plan(plan_slippage, args, NULL);
}

static void
flush_funding(void)
{
	FundingRow *rows = stream_buf.funding.rows;
	int			n = stream_buf.funding.n;
	Datum	   *v[4];
	bool	   *nl = palloc0(sizeof(bool) * n);
	bool	   *ihnull = palloc0(sizeof(bool) * n);
	Datum		args[4];

	for (int k = 0; k < 4; k++)
		v[k] = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		v[0][i] = Int32GetDatum(rows[i].market_id);
		v[1][i] = TimestampTzGetDatum(stream_ts(rows[i].funding_time_us));
		v[2][i] = numeric_datum(rows[i].rate, &isnull);
		v[3][i] = numeric_datum(rows[i].interval_hours, &ihnull[i]);
	}
	args[0] = array_datum(v[0], nl, n, INT4OID);
	args[1] = array_datum(v[1], nl, n, TIMESTAMPTZOID);
	args[2] = array_datum(v[2], nl, n, NUMERICOID);
	args[3] = array_datum(v[3], ihnull, n, NUMERICOID);
	exec_plan(plan_funding, args, NULL);
}

static void
flush_events(void)
{
	EventRow   *rows = stream_buf.events.rows;

	for (int i = 0; i < stream_buf.events.n; i++)
	{
		Datum		args[8];
		char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', 'n', 'n'};

		args[0] = Int16GetDatum((int16) stream_exchange_id);
		args[1] = Int32GetDatum(rows[i].market_id);
		if (rows[i].market_id == 0)
			nulls[1] = 'n';
		args[2] = CStringGetTextDatum(rows[i].kind);
		args[3] = CStringGetTextDatum(rows[i].message);
		args[4] = TimestampTzGetDatum(rows[i].range_start);
		if (rows[i].range_start == 0)
			nulls[4] = 'n';
		args[5] = TimestampTzGetDatum(rows[i].range_end);
		if (rows[i].range_end == 0)
			nulls[5] = 'n';
		if (rows[i].first_id)
		{
			args[6] = CStringGetTextDatum(rows[i].first_id);
			nulls[6] = ' ';
		}
		if (rows[i].last_id)
		{
			args[7] = CStringGetTextDatum(rows[i].last_id);
			nulls[7] = ' ';
		}
		if (SPI_execute_plan(plan_event, args, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "stream event insert failed");
	}
}

static void
reset_buffers(void)
{
	MemoryContextReset(batch_cxt);
	memset(&stream_buf, 0, sizeof(stream_buf));
	batch_started = 0;
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

		prepare_plans();
		if (stream_buf.trades.n > 0)
			flush_trades();
		if (stream_buf.tickers.n > 0)
			flush_tickers();
		if (stream_buf.books.n > 0)
			flush_books();
		if (stream_buf.liquidity.n > 0)
			flush_liquidity();
		if (stream_buf.slippage.n > 0)
			flush_slippage();
		if (stream_buf.funding.n > 0)
			flush_funding();
		if (stream_buf.events.n > 0)
			flush_events();

		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_stat(false);
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
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
	return n >= perps_flush_rows ||
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
	Oid			types[4] = {INT2OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[4];

	args[0] = Int16GetDatum((int16) stream_exchange_id);
	args[1] = CStringGetTextDatum(a->message);
	args[2] = TimestampTzGetDatum(a->since ? a->since : GetCurrentTimestamp());
	args[3] = TimestampTzGetDatum(GetCurrentTimestamp());
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO perps_stats.ingest_events (exchange_id, source, kind, message, range_start, range_end) "
							  "VALUES ($1, 'stream', 'error', $2, $3, $4)", 4, types, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "recording the loss failed");
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
	snprintf(counts, sizeof(counts),
			 "trades %d, tickers %d, orderbooks %d, liquidity_depth %d, slippage %d, funding_rates %d, ingest_events %d",
			 stream_buf.trades.n, stream_buf.tickers.n, stream_buf.books.n, stream_buf.liquidity.n,
			 stream_buf.slippage.n, stream_buf.funding.n, stream_buf.events.n);
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
