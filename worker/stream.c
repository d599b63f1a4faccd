/*-------------------------------------------------------------------------
 *
 * stream.c
 *		The stream worker of one venue (perps_stream_main, started by the
 *		launcher with the exchange id as argument): one WebSocket
 *		connection, local order books, buffered batched writes.
 *
 * Loop: service the connection (at most PERPS_WS_TICK_MS of waiting),
 * turn the queued frames into rows through the venue's stream adapter,
 * store a book snapshot per market every book_snapshot_interval (with its
 * liquidity_depth and slippage rows from the full book), flush the
 * buffers every flush_rows rows or flush_interval, check for interrupts.
 * libwebsockets runs in this thread only; its callbacks never call
 * PostgreSQL (see perps_lws.h).
 *
 * Transactions: one per flush (worker_spi's bracket), with one INSERT ...
 * SELECT FROM unnest(...) ON CONFLICT DO NOTHING per table and the
 * ingest_events rows of the batch; one when the watchlist is read.  A
 * failed flush keeps its rows and is retried; the buffers are bounded
 * (stream_max_buffered() rows): when full, reading stops and the
 * status says backpressure.  SIGTERM flushes, then exits.
 *
 * Memory: stream_cxt holds the long-lived state (markets, plans' owner);
 * batch_cxt the buffered rows, reset after each successful flush;
 * frame_cxt one frame's parse, reset after each frame.  Local books and
 * the connection are malloc'd (plain C) and freed at exit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "perps_pg.h"			/* first: PostgreSQL's json_object vs json-c's */

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "book_math.h"
#include "bulk.h"
#include "fetch.h"
#include "http.h"
#include "perps_lws.h"
#include "perps_stats.h"
#include "stream_book.h"
#include "stream_status.h"
#include "workers.h"

#define STREAM_MAX_MARKETS 200
#define STREAM_REFRESH_MS 5000
#define STREAM_MARKETS_REFRESH_MS 300000
#define STREAM_BACKOFF_MIN_MS 1000
#define STREAM_BACKOFF_MAX_MS 32000
#define STREAM_FLUSH_RETRY_MS 1000
/* a full buffer that could not be written for this long is dropped (and recorded) */
#define STREAM_FLUSH_GIVE_UP_MS 60000
#define STREAM_RESYNC_TIMEOUT_MS 15000
/* REST book syncs of one market: at most one per this many ms */
#define STREAM_REST_SYNC_MS 1000
/* a venue's connection lifetime: reconnect this long before the venue's cut-off */
#define STREAM_LIFETIME_MARGIN_S 600
/* bound on buffered rows: ten batches, at least 10000 rows, at most a million (or one batch) */
#define stream_max_buffered() Max(Min(10 * perps_flush_rows, 1000000), Max(perps_flush_rows, 10000))
#define STREAM_NTICKER 15
#define STREAM_TICK_CHANGE 11		/* price_change_24h */
#define STREAM_TICK_PREV STREAM_NTICKER	/* merged too, not stored: the price 24 h ago */

/* Wait events shown in pg_stat_activity (PG_WAIT_EXTENSION class). */
#define STREAM_WAIT_BACKOFF PG_WAIT_EXTENSION
#define STREAM_WAIT_NETWORK PG_WAIT_EXTENSION

typedef struct StreamMarket
{
	char		symbol[40];
	char		native[64];
	int32		market_id;
	/* the market's contract size when the venue streams contracts ("" otherwise) */
	char		contract_size[PERPS_DECIMAL_MAX_LEN + 1];
	/* markets.funding_interval_hours, for funding rows whose stream does not say ("" unknown) */
	char		funding_hours[PERPS_DECIMAL_MAX_LEN + 1];
	PerpsLocalBook book;		/* in the venue's units */
	TimestampTz next_rest_sync;	/* rest_snapshot venues: earliest next REST book */
	/* the last funding rate written */
	int64		funding_time_us;
	char		funding_rate[PERPS_DECIMAL_MAX_LEN + 1];
	int64		stored_seq;		/* seq of the last stored snapshot */
	TimestampTz next_store;		/* local clock */
	/* a gap waiting for its resync */
	bool		resyncing;
	TimestampTz resync_sent;
	int64		gap_first;
	int64		gap_last;
	int64		gap_from_us;	/* venue time of the last good update */
	bool		gap_crossed;	/* resync because the book crossed, not a gap */
	/* merged ticker */
	bool		have_ticker;
	bool		tick_present[STREAM_NTICKER + 1];
	char		tick[STREAM_NTICKER + 1][PERPS_DECIMAL_MAX_LEN + 1];
} StreamMarket;

typedef struct TradeRow
{
	int32		market_id;
	int64		ts_us;
	char	   *trade_id;
	char	   *price;
	char	   *qty;
	bool		is_buy;
} TradeRow;

typedef struct FundingRow
{
	int32		market_id;
	int64		funding_time_us;
	char	   *rate;
	char	   *interval_hours;	/* NULL = SQL NULL */
} FundingRow;

typedef struct TickerRow
{
	int32		market_id;
	int64		ts_us;
	char	   *f[STREAM_NTICKER];	/* NULL = SQL NULL */
} TickerRow;

typedef struct BookRow
{
	int32		market_id;
	int64		ts_us;
	int64		seq;
	char	   *bids;			/* numeric[] literal */
	char	   *asks;
} BookRow;

/* computed from the full book when it is stored */
typedef struct LiquidityRow
{
	int32		market_id;
	int64		ts_us;
	Datum		values[PERPS_LIQUIDITY_ROW_NATTS];
	bool		nulls[PERPS_LIQUIDITY_ROW_NATTS];
} LiquidityRow;

typedef struct SlipRow
{
	int32		market_id;
	int64		ts_us;
	PerpsSlippageRow r;
} SlipRow;

typedef struct EventRow
{
	int32		market_id;		/* 0: none */
	char	   *kind;
	char	   *message;
	TimestampTz range_start;	/* 0: NULL */
	TimestampTz range_end;
} EventRow;

typedef struct RowBuf
{
	int			n;
	int			cap;
	void	   *rows;
} RowBuf;

/* the worker's state */
static int32 stream_exchange_id;
static const PerpsAdapter *stream_adapter;
static const PerpsStreamAdapter *stream_sa;
static char stream_url[1024];
static char stream_rest_url[1024];
static int	conn_ping_ms;		/* the ping interval the connect request asked for; 0: the adapter's */
static TimestampTz conn_opened;	/* when the current connection was opened */
static StreamMarket *stream_markets;
static int	stream_nmarkets;
static PerpsWs *stream_ws;	/* the first connection; NULL while disconnected */
static PerpsWs *stream_conns[PERPS_WS_MAX_CONNECTIONS];	/* all of them (stream_conns[0] = stream_ws) */
static int	stream_nconns;
/* await_hello venues: each connection's subscribe messages until its greeting (stream_cxt) */
static PerpsWsMessage *stream_pending[PERPS_WS_MAX_CONNECTIONS];
static int	stream_npending[PERPS_WS_MAX_CONNECTIONS];
static PerpsStreamStatus status;
static int	status_slot = -1;

static MemoryContext stream_cxt;
static MemoryContext batch_cxt;
static MemoryContext frame_cxt;

static RowBuf buf_trades, buf_tickers, buf_books, buf_events, buf_liquidity, buf_slippage, buf_funding;
static TimestampTz batch_started;	/* when the oldest buffered row came */
static int	flush_failures;
static TimestampTz first_flush_failure;
static TimestampTz next_flush_retry;

static SPIPlanPtr plan_trades, plan_tickers, plan_books, plan_event, plan_liquidity, plan_slippage, plan_funding;

/* connection bookkeeping */
static TimestampTz next_connect;
static int	backoff_ms;
static TimestampTz down_since;	/* last message before a drop; 0 when no reconnect is pending */
static TimestampTz last_rx;		/* any frame */
static TimestampTz last_ping;
static TimestampTz next_refresh;
static TimestampTz last_markets_refresh;	/* qty_in_contracts venues: the last refresh_markets */

static const char *const ticker_cols[STREAM_NTICKER] = {
	"last_price", "mark_price", "index_price", "best_bid_price", "best_bid_qty",
	"best_ask_price", "best_ask_qty", "volume_24h", "turnover_24h", "open_interest",
	"open_interest_notional", "price_change_24h", "price_change_pct", "high_24h", "low_24h"
};

static void
ticker_fields(const PerpsTicker *t, const char *f[STREAM_NTICKER])
{
	f[0] = t->last_price;
	f[1] = t->mark_price;
	f[2] = t->index_price;
	f[3] = t->best_bid_price;
	f[4] = t->best_bid_qty;
	f[5] = t->best_ask_price;
	f[6] = t->best_ask_qty;
	f[7] = t->volume_24h;
	f[8] = t->turnover_24h;
	f[9] = t->open_interest;
	f[10] = t->open_interest_notional;
	f[11] = t->price_change_24h;
	f[12] = t->price_change_pct;
	f[13] = t->high_24h;
	f[14] = t->low_24h;
}

/* a frame's time (µs since 1970, range-checked by the parser) as timestamptz */
static TimestampTz
unix_us_to_timestamptz(int64 us)
{
	return DatumGetTimestampTz(perps_fetch_timestamptz(us));
}

static void
set_state(const char *state)
{
	strlcpy(status.state, state, sizeof(status.state));
}

static void
set_error(const char *fmt,...) pg_attribute_printf(1, 2);

static void
set_error(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(status.last_error, sizeof(status.last_error), fmt, ap);
	va_end(ap);
}

static int
buffered_rows(void)
{
	return buf_trades.n + buf_tickers.n + buf_books.n + buf_events.n + buf_liquidity.n + buf_slippage.n +
		buf_funding.n;
}

static void
publish(void)
{
	status.buffered_rows = buffered_rows();
	perps_stream_slot_publish(status_slot, &status);
}

/* ---- the arena the adapters allocate from ---- */

static void *
frame_alloc(void *state, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) state, size, MCXT_ALLOC_NO_OOM);
}

/* An adapter context allocating from frame_cxt. */
static void
frame_ctx_init(PerpsCtx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->arena.alloc = frame_alloc;
	ctx->arena.state = frame_cxt;
}

/* ---- buffers ---- */

static void *
rowbuf_add(RowBuf *b, size_t size)
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

static char *
batch_strdup(const char *s)
{
	return s ? MemoryContextStrdup(batch_cxt, s) : NULL;
}

/*
 * A decimal numeric_in takes without error: valid text (the adapters
 * checked it) with an exponent numeric can hold.
 */
static bool
decimal_storable(const char *s)
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

static void
add_event(int32 market_id, const char *kind, TimestampTz start, TimestampTz end,
		  const char *fmt,...) pg_attribute_printf(5, 6);

static void
add_event(int32 market_id, const char *kind, TimestampTz start, TimestampTz end, const char *fmt,...)
{
	EventRow   *r = rowbuf_add(&buf_events, sizeof(EventRow));
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->market_id = market_id;
	r->kind = batch_strdup(kind);
	r->message = batch_strdup(msg);
	r->range_start = start;
	r->range_end = end;
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
		"INSERT INTO perps_stats.ingest_events (exchange_id, market_id, source, kind, message, range_start, range_end) "
		"VALUES ($1, $2, 'stream', $3, $4, $5, $6)";
	Oid			trade_types[6] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID,
	NUMERICARRAYOID, NUMERICARRAYOID, TEXTARRAYOID};
	Oid			book_types[5] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID};
	Oid			event_types[6] = {INT2OID, INT4OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
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
	pe = SPI_prepare(event_sql, 6, event_types);
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
	status.rows_written += (int64) SPI_processed;
}

/* INSERT ... ON CONFLICT DO NOTHING of the buffered trades (the COPY path's fallback). */
static void
insert_trades(void)
{
	TradeRow   *rows = buf_trades.rows;
	int			n = buf_trades.n;
	Datum	   *v[6];
	bool	   *nl = palloc0(sizeof(bool) * n);
	Datum		args[6];

	for (int k = 0; k < 6; k++)
		v[k] = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		v[0][i] = Int32GetDatum(rows[i].market_id);
		v[1][i] = TimestampTzGetDatum(unix_us_to_timestamptz(rows[i].ts_us));
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
	TradeRow   *t = &((TradeRow *) buf_trades.rows)[row];

	memset(isnull, 0, sizeof(bool) * 6);
	values[0] = Int32GetDatum(t->market_id);
	values[1] = TimestampTzGetDatum(unix_us_to_timestamptz(t->ts_us));
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

	n = perps_bulk_insert_or("perps_stats", "trades", 6, buf_trades.n, fill_trade, NULL,
							 insert_trades_cb, &used_bulk);
	status.rows_written += (int64) n;
}

static void
flush_tickers(void)
{
	TickerRow  *rows = buf_tickers.rows;
	int			n = buf_tickers.n;
	Datum		args[2 + STREAM_NTICKER];
	Datum	   *v = palloc(sizeof(Datum) * n);
	Datum	   *t = palloc(sizeof(Datum) * n);
	bool	   *nl = palloc0(sizeof(bool) * n);

	for (int i = 0; i < n; i++)
	{
		v[i] = Int32GetDatum(rows[i].market_id);
		t[i] = TimestampTzGetDatum(unix_us_to_timestamptz(rows[i].ts_us));
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
	BookRow    *rows = buf_books.rows;
	int			n = buf_books.n;
	Datum	   *v[5];
	bool	   *nl = palloc0(sizeof(bool) * n);
	Datum		args[5];

	for (int k = 0; k < 5; k++)
		v[k] = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		v[0][i] = Int32GetDatum(rows[i].market_id);
		v[1][i] = TimestampTzGetDatum(unix_us_to_timestamptz(rows[i].ts_us));
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
	LiquidityRow *rows = buf_liquidity.rows;
	int			n = buf_liquidity.n;
	Datum		args[2 + PERPS_LIQUIDITY_ROW_NATTS];
	Datum	   *v = palloc(sizeof(Datum) * n);
	Datum	   *t = palloc(sizeof(Datum) * n);
	bool	   *nl = palloc0(sizeof(bool) * n);

	for (int i = 0; i < n; i++)
	{
		v[i] = Int32GetDatum(rows[i].market_id);
		t[i] = TimestampTzGetDatum(unix_us_to_timestamptz(rows[i].ts_us));
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
	SlipRow    *rows = buf_slippage.rows;
	int			n = buf_slippage.n;
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
		v[1][i] = TimestampTzGetDatum(unix_us_to_timestamptz(rows[i].ts_us));
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
	FundingRow *rows = buf_funding.rows;
	int			n = buf_funding.n;
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
		v[1][i] = TimestampTzGetDatum(unix_us_to_timestamptz(rows[i].funding_time_us));
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
	EventRow   *rows = buf_events.rows;

	for (int i = 0; i < buf_events.n; i++)
	{
		Datum		args[6];
		char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

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
		if (SPI_execute_plan(plan_event, args, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "stream event insert failed");
	}
}

static void
reset_buffers(void)
{
	MemoryContextReset(batch_cxt);
	memset(&buf_trades, 0, sizeof(RowBuf));
	memset(&buf_tickers, 0, sizeof(RowBuf));
	memset(&buf_books, 0, sizeof(RowBuf));
	memset(&buf_events, 0, sizeof(RowBuf));
	memset(&buf_liquidity, 0, sizeof(RowBuf));
	memset(&buf_slippage, 0, sizeof(RowBuf));
	memset(&buf_funding, 0, sizeof(RowBuf));
	batch_started = 0;
}

/* Writes everything buffered in one transaction; false when it failed (rows kept). */
static bool
stream_flush(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;
	int64		written_before = status.rows_written;

	if (buffered_rows() == 0)
		return true;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "perps_stats stream flush");

		prepare_plans();
		if (buf_trades.n > 0)
			flush_trades();
		if (buf_tickers.n > 0)
			flush_tickers();
		if (buf_books.n > 0)
			flush_books();
		if (buf_liquidity.n > 0)
			flush_liquidity();
		if (buf_slippage.n > 0)
			flush_slippage();
		if (buf_funding.n > 0)
			flush_funding();
		if (buf_events.n > 0)
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
		status.rows_written = written_before;
		set_error("flush failed: %s", edata->message);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("perps_stats stream worker for \"%s\" could not write a batch: %s",
						status.exchange, edata->message),
				 errdetail("The %d buffered rows are kept and written again.", buffered_rows())));
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
		if (buffered_rows() >= stream_max_buffered() &&
			now >= TimestampTzPlusMilliseconds(first_flush_failure, STREAM_FLUSH_GIVE_UP_MS))
		{
			/* full and unwritable for a minute: drop the batch, say so, go on streaming */
			int			dropped = buffered_rows();
			TimestampTz since = batch_started;

			reset_buffers();
			flush_failures = 0;
			add_event(0, "error", since, now,
					  "%d buffered rows dropped: writing them failed for %d s (%s)",
					  dropped, STREAM_FLUSH_GIVE_UP_MS / 1000, status.last_error);
			set_error("dropped %d buffered rows that could not be written", dropped);
		}
	}
	next_flush_retry = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STREAM_FLUSH_RETRY_MS);
	return ok;
}

static bool
flush_due(TimestampTz now)
{
	int			n = buffered_rows();

	if (n == 0)
		return false;
	if (flush_failures > 0 && now < next_flush_retry)
		return false;
	return n >= perps_flush_rows ||
		now >= TimestampTzPlusMilliseconds(batch_started, perps_flush_interval);
}

/* ---- configuration: the venue and its markets ---- */

static StreamMarket *
market_by_native(const char *native)
{
	for (int i = 0; i < stream_nmarkets; i++)
		if (strcmp(stream_markets[i].native, native) == 0)
			return &stream_markets[i];
	return NULL;
}

/* perps_run_guarded callback: the venue's markets from its REST API. */
static void
stream_refresh_markets(void *arg)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum((const char *) arg)};

	if (SPI_execute_with_args("SELECT perps_stats.refresh_markets($1)", 1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "perps_stats.refresh_markets failed");
}

/*
 * Reads the venue's row and its stream markets (creating missing market
 * rows); returns true when the connection must be (re)made because the
 * URL or the market set changed.  Runs in its own transaction.
 */
static bool
stream_refresh(bool *exists)
{
	bool		changed = false;
	char		url[1024] = "";
	char		rest_url[1024] = "";
	char		name[NAMEDATALEN] = "";
	StreamMarket *nm;
	int			n = 0;
	bool		enabled = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "perps_stats stream: reading the watchlist");

	*exists = perps_extension_exists();
	nm = MemoryContextAllocZero(stream_cxt, sizeof(StreamMarket) * STREAM_MAX_MARKETS);
	if (*exists)
	{
		Oid			argtypes[1] = {INT2OID};
		Datum		args[1] = {Int16GetDatum((int16) stream_exchange_id)};
		bool		isnull;
		int			ret;

		ret = SPI_execute_with_args("SELECT name, ws_url, enabled, rest_url FROM perps_stats.exchanges WHERE id = $1",
									1, argtypes, args, NULL, true, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "reading perps_stats.exchanges failed: %s", SPI_result_code_string(ret));
		if (SPI_processed == 1)
		{
			char	   *v;

			v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			strlcpy(name, v ? v : "", sizeof(name));
			v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
			strlcpy(url, v ? v : "", sizeof(url));
			enabled = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
			v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
			strlcpy(rest_url, v ? v : "", sizeof(rest_url));
		}
		stream_adapter = name[0] ? perps_adapter_find(name) : NULL;
		stream_sa = stream_adapter ? stream_adapter->stream : NULL;
		if (name[0])
			strlcpy(status.exchange, name, sizeof(status.exchange));

		if (enabled && stream_sa != NULL)
		{
			/*
			 * markets the watchlist streams that have no row yet: on a venue
			 * that streams contracts only the venue's markets list can give
			 * the row (its contract size): refresh it, at most every
			 * STREAM_MARKETS_REFRESH_MS; elsewhere the naming rule makes one
			 */
			if (stream_sa->qty_in_contracts)
			{
				ret = SPI_execute_with_args("SELECT 1 FROM perps_stats.watchlist w "
											"JOIN perps_stats.exchanges e ON e.name = w.exchange "
											"WHERE e.id = $1 AND w.stream AND NOT EXISTS "
											"(SELECT 1 FROM perps_stats.markets m WHERE m.exchange_id = e.id AND m.symbol = w.symbol)",
											1, argtypes, args, NULL, true, 1);
				if (ret == SPI_OK_SELECT && SPI_processed > 0 &&
					(last_markets_refresh == 0 ||
					 GetCurrentTimestamp() >= TimestampTzPlusMilliseconds(last_markets_refresh, STREAM_MARKETS_REFRESH_MS)))
				{
					ErrorData  *edata;

					last_markets_refresh = GetCurrentTimestamp();
					edata = perps_run_guarded(stream_refresh_markets, name);
					if (edata)
						set_error("refreshing the markets (for their contract sizes) failed: %s", edata->message);
				}
			}
			ret = SPI_execute_with_args("SELECT w.symbol FROM perps_stats.watchlist w "
										"JOIN perps_stats.exchanges e ON e.name = w.exchange "
										"WHERE e.id = $1 AND w.stream AND NOT EXISTS "
										"(SELECT 1 FROM perps_stats.markets m WHERE m.exchange_id = e.id AND m.symbol = w.symbol)",
										1, argtypes, args, NULL, true, 0);
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "reading perps_stats.watchlist failed: %s", SPI_result_code_string(ret));
			if (SPI_processed > 0)
			{
				int			nmiss = (int) Min(SPI_processed, STREAM_MAX_MARKETS);
				char	  **missing = palloc(sizeof(char *) * nmiss);

				for (int i = 0; i < nmiss; i++)
					missing[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
				for (int i = 0; i < nmiss; i++)
				{
					char		native[64];
					Oid			itypes[4] = {INT2OID, TEXTOID, TEXTOID, TEXTOID};
					Datum		iargs[4];

					if (stream_sa->qty_in_contracts || stream_adapter->native_symbol == NULL ||
						!stream_adapter->native_symbol(missing[i], native, sizeof(native)))
					{
						ereport(WARNING,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("perps_stats cannot stream %s on %s: the market is not in perps_stats.markets",
										missing[i], name),
								 errhint("Refresh the venue's markets first.")));
						continue;
					}
					iargs[0] = Int16GetDatum((int16) stream_exchange_id);
					iargs[1] = CStringGetTextDatum(missing[i]);
					iargs[2] = CStringGetTextDatum(native);
					iargs[3] = CStringGetTextDatum(stream_sa->quote);
					ret = SPI_execute_with_args("INSERT INTO perps_stats.markets (exchange_id, symbol, native_symbol, base, quote) "
												"VALUES ($1, $2, $3, $2, $4) ON CONFLICT DO NOTHING",
												4, itypes, iargs, NULL, false, 0);
					if (ret != SPI_OK_INSERT)
						elog(ERROR, "inserting into perps_stats.markets failed: %s", SPI_result_code_string(ret));
				}
			}

			ret = SPI_execute_with_args("SELECT m.symbol, m.native_symbol, m.id, m.contract_size, m.funding_interval_hours FROM perps_stats.watchlist w "
										"JOIN perps_stats.exchanges e ON e.name = w.exchange "
										"JOIN perps_stats.markets m ON m.exchange_id = e.id AND m.symbol = w.symbol "
										"WHERE e.id = $1 AND w.stream ORDER BY m.native_symbol",
										1, argtypes, args, NULL, false, STREAM_MAX_MARKETS);	/* sees the inserts */
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "reading perps_stats.watchlist failed: %s", SPI_result_code_string(ret));
			for (uint64 i = 0; i < SPI_processed; i++)
			{
				char	   *sym = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
				char	   *nat = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
				bool		isnull2;

				if (sym == NULL || nat == NULL || strlen(sym) >= sizeof(nm[n].symbol) ||
					strlen(nat) >= sizeof(nm[n].native))
					continue;
				strlcpy(nm[n].symbol, sym, sizeof(nm[n].symbol));
				strlcpy(nm[n].native, nat, sizeof(nm[n].native));
				nm[n].market_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
															  SPI_tuptable->tupdesc, 3, &isnull2));
				{
					char	   *fh = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 5);

					if (fh != NULL && strlen(fh) < sizeof(nm[n].funding_hours))
						strlcpy(nm[n].funding_hours, fh, sizeof(nm[n].funding_hours));
				}
				if (stream_sa->qty_in_contracts)
				{
					char	   *cs = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4);

					if (cs == NULL || strlen(cs) >= sizeof(nm[n].contract_size))
					{
						set_error("cannot stream %s: its contract size is unknown", sym);
						continue;
					}
					strlcpy(nm[n].contract_size, cs, sizeof(nm[n].contract_size));
				}
				n++;
			}
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	if (!enabled)
		n = 0;
	/* the same markets and URLs: keep the books */
	if (n != stream_nmarkets || strcmp(url, stream_url) != 0 || strcmp(rest_url, stream_rest_url) != 0)
		changed = true;
	for (int i = 0; i < n && !changed; i++)
		if (strcmp(nm[i].native, stream_markets[i].native) != 0 ||
			nm[i].market_id != stream_markets[i].market_id ||
			strcmp(nm[i].contract_size, stream_markets[i].contract_size) != 0)
			changed = true;
	if (changed)
	{
		for (int i = 0; i < stream_nmarkets; i++)
			perps_local_book_free(&stream_markets[i].book);
		if (stream_markets)
			pfree(stream_markets);
		stream_markets = nm;
		stream_nmarkets = n;
		for (int i = 0; i < n; i++)
			perps_local_book_init(&stream_markets[i].book);
		strlcpy(stream_url, url, sizeof(stream_url));
		strlcpy(stream_rest_url, rest_url, sizeof(stream_rest_url));
	}
	else
		pfree(nm);
	return changed;
}

/* stream_refresh, with an error logged in the status instead of ending the worker. */
static bool
stream_refresh_safe(bool *exists)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool changed = false;

	*exists = true;
	PG_TRY();
	{
		changed = stream_refresh(exists);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		set_error("reading the watchlist failed: %s", edata->message);
		FreeErrorData(edata);
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_END_TRY();
	return changed;
}

/* ---- the connection ---- */

static void
stream_send(int conn, const PerpsWsMessage *msgs, int n)
{
	for (int i = 0; i < n; i++)
		if (!perps_ws_send(stream_conns[conn], msgs[i].data, msgs[i].len))
			set_error("could not queue a message to the venue");
}

/* Closes every connection of the venue. */
static void
stream_close_all(void)
{
	for (int k = 0; k < stream_nconns; k++)
		if (stream_conns[k])
			perps_ws_free(stream_conns[k]);
	memset(stream_conns, 0, sizeof(stream_conns));
	stream_nconns = 0;
	memset(stream_npending, 0, sizeof(stream_npending));
	stream_ws = NULL;
}

/* CLOSED when any connection closed, OPEN when all are open. */
static PerpsWsState
stream_conns_state(const char **why)
{
	PerpsWsState st = PERPS_WS_OPEN;

	for (int k = 0; k < stream_nconns; k++)
	{
		PerpsWsState s = perps_ws_state(stream_conns[k]);

		if (s == PERPS_WS_CLOSED)
		{
			*why = perps_ws_error(stream_conns[k]);
			return PERPS_WS_CLOSED;
		}
		if (s == PERPS_WS_CONNECTING)
			st = PERPS_WS_CONNECTING;
	}
	return st;
}

static uint64
stream_conns_oversized(void)
{
	uint64		n = 0;

	for (int k = 0; k < stream_nconns; k++)
		n += perps_ws_oversized(stream_conns[k]);
	return n;
}

static void handle_frame(int conn, const char *data, size_t len, bool binary);

/* Hands the received frames of every connection to handle_frame, within the buffer bound. */
static void
stream_drain(bool count_bytes)
{
	const char *data;
	size_t		len;
	bool		binary;

	for (int k = 0; k < stream_nconns; k++)
		while (buffered_rows() < stream_max_buffered() &&
			   perps_ws_next(stream_conns[k], &data, &len, &binary))
		{
			if (count_bytes)
				status.bytes += (int64) len;
			handle_frame(k, data, len, binary);
		}
}

static void stream_disconnected(const char *why);

/*
 * The REST request some venues need before each connection (a token): the
 * URL to open and the ping interval.  False when it failed (status says why).
 */
static bool
stream_connect_request(PerpsCtx *ctx, const char **url)
{
	MemoryContext old = MemoryContextSwitchTo(frame_cxt);
	PerpsRequest req;
	PerpsHttpCall call;
	PerpsBody	body;
	bool		ok = false;

	memset(&req, 0, sizeof(req));
	memset(&call, 0, sizeof(call));
	if (stream_sa->connect_build(ctx, &req) != 1)
		set_error("cannot build the connect request: %s", ctx->errmsg);
	else
	{
		call.venue = status.exchange;
		call.base_url = stream_rest_url;
		call.req = &req;
		call.limit = stream_adapter->rate_limit;
		pgstat_report_wait_start(STREAM_WAIT_NETWORK);
		perps_http_run(&call, 1);
		pgstat_report_wait_end();
		body.data = call.body;
		body.len = call.len;
		body.status = call.status;
		if (call.sqlstate != 0)
			set_error("the connect request failed: %s", call.errmsg ? call.errmsg : "no answer");
		else if (stream_sa->connect_parse(ctx, &body, stream_url, url, &conn_ping_ms) != PERPS_OK)
			set_error("the connect request's answer is unusable: %s", ctx->errmsg);
		else if (*url == NULL || strlen(*url) >= sizeof(stream_url) || conn_ping_ms < 0)
			set_error("the connect request's answer has no usable URL");
		else
			ok = true;
	}
	MemoryContextSwitchTo(old);
	return ok;
}

static void
stream_connect(void)
{
	char		err[PERPS_WS_ERR_LEN];
	PerpsCtx	ctx;
	PerpsWsMessage *msgs;
	const char **natives;
	const char *url = stream_url;
	int			nconns = Max(stream_sa ? stream_sa->nconnections : 1, 1);
	int			nmsgs[PERPS_WS_MAX_CONNECTIONS];

	if (stream_sa == NULL || stream_nmarkets == 0 ||
		(stream_url[0] == '\0' && stream_sa->connect_build == NULL))
		return;
	MemoryContextReset(frame_cxt);
	frame_ctx_init(&ctx);
	natives = MemoryContextAlloc(frame_cxt, sizeof(char *) * stream_nmarkets);
	msgs = MemoryContextAllocZero(frame_cxt, sizeof(PerpsWsMessage) * PERPS_WS_MAX_MESSAGES * PERPS_WS_MAX_CONNECTIONS);
	for (int i = 0; i < stream_nmarkets; i++)
		natives[i] = stream_markets[i].native;
	if (nconns > PERPS_WS_MAX_CONNECTIONS)
	{
		set_error("the venue wants %d connections, at most %d are possible", nconns, PERPS_WS_MAX_CONNECTIONS);
		next_connect = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STREAM_BACKOFF_MAX_MS);
		return;
	}
	for (int k = 0; k < nconns; k++)
	{
		PerpsWsMessage *out = msgs + k * PERPS_WS_MAX_MESSAGES;

		nmsgs[k] = stream_sa->nconnections > 0 ?
			stream_sa->subscribe_on(&ctx, k, natives, stream_nmarkets, out) :
			stream_sa->subscribe(&ctx, natives, stream_nmarkets, out);
		if (nmsgs[k] < 0)
		{
			set_error("cannot subscribe: %s", ctx.errmsg);
			next_connect = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STREAM_BACKOFF_MAX_MS);
			return;
		}
	}

	conn_ping_ms = 0;
	if (stream_sa->connect_build != NULL && !stream_connect_request(&ctx, &url))
	{
		stream_disconnected(status.last_error);
		return;
	}
	for (int k = 0; k < nconns; k++)
	{
		char		curl[2048];

		snprintf(curl, sizeof(curl), "%s%s", url,
				 stream_sa->nconnections > 0 ? stream_sa->connection_paths[k] : "");
		stream_conns[k] = perps_ws_open(curl, perps_stream_ca_file, stream_sa->max_message_bytes,
										err, sizeof(err));
		stream_nconns = k + 1;
		if (stream_conns[k] == NULL)
		{
			stream_close_all();
			set_error("%s", err);
			next_connect = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STREAM_BACKOFF_MAX_MS);
			return;
		}
	}
	stream_ws = stream_conns[0];
	for (int i = 0; i < stream_nmarkets; i++)
	{
		perps_local_book_clear(&stream_markets[i].book);
		stream_markets[i].resyncing = false;
		stream_markets[i].have_ticker = false;
		stream_markets[i].next_rest_sync = 0;
	}
	for (int k = 0; k < nconns; k++)
	{
		if (!stream_sa->await_hello)
			stream_send(k, msgs + k * PERPS_WS_MAX_MESSAGES, nmsgs[k]);
		else
		{
			/* kept until the connection's greeting (frame_cxt is reset per frame) */
			if (stream_pending[k] == NULL)
				stream_pending[k] = MemoryContextAllocZero(stream_cxt, sizeof(PerpsWsMessage) * PERPS_WS_MAX_MESSAGES);
			for (int i = 0; i < nmsgs[k]; i++)
			{
				if (stream_pending[k][i].data)
					pfree((void *) stream_pending[k][i].data);
				stream_pending[k][i].data = MemoryContextStrdup(stream_cxt, msgs[k * PERPS_WS_MAX_MESSAGES + i].data);
				stream_pending[k][i].len = msgs[k * PERPS_WS_MAX_MESSAGES + i].len;
			}
			stream_npending[k] = nmsgs[k];
		}
	}
	set_state("connecting");
	last_rx = GetCurrentTimestamp();
	last_ping = last_rx;
	conn_opened = last_rx;
}

/* After a disconnect: records it and plans the next attempt. */
static void
stream_disconnected(const char *why)
{
	TimestampTz now = GetCurrentTimestamp();
	double		jitter = 0.5 + 0.5 * pg_prng_double(&pg_global_prng_state);

	if (status.connected_since != 0)
	{
		/* a connection that delivered data went down: the data gap starts at its last message */
		down_since = status.last_message_at ? status.last_message_at : now;
		add_event(0, "disconnect", down_since, now, "%s", why);
	}
	/* pending gaps end here */
	for (int i = 0; i < stream_nmarkets; i++)
	{
		StreamMarket *m = &stream_markets[i];

		if (m->resyncing)
		{
			add_event(m->market_id, m->gap_crossed ? "resync" : "gap",
					  m->gap_from_us ? unix_us_to_timestamptz(m->gap_from_us) : 0, now,
					  "%s book: update ids %lld..%lld lost; the connection closed before the resync",
					  m->native, (long long) m->gap_first, (long long) m->gap_last);
			m->resyncing = false;
		}
	}
	status.connected_since = 0;
	set_error("%s", why);
	backoff_ms = backoff_ms == 0 ? STREAM_BACKOFF_MIN_MS : Min(backoff_ms * 2, STREAM_BACKOFF_MAX_MS);
	next_connect = TimestampTzPlusMilliseconds(now, (int64) (backoff_ms * jitter));
	set_state("backoff");
	stream_close_all();
}

/* ---- frames ---- */

/*
 * A quantity in base units: the venue's text times the market's contract
 * size when the venue streams contracts (else the text itself).  The
 * product lives in frame_cxt.
 */
static const char *
qty_times(const char *qty, const char *contract_size)
{
	MemoryContext old;
	char	   *out;

	if (qty == NULL || contract_size == NULL || contract_size[0] == '\0')
		return qty;
	old = MemoryContextSwitchTo(frame_cxt);
	out = DatumGetCString(DirectFunctionCall1(numeric_out, perps_fetch_qty(qty, contract_size)));
	MemoryContextSwitchTo(old);
	return out;
}

static const char *
base_qty(const StreamMarket *m, const char *qty)
{
	return qty_times(qty, m->contract_size);
}

static char *
side_literal(const StreamMarket *m, const PerpsLocalSide *side, int levels)
{
	StringInfoData s;
	int			n = Min(side->n, levels);

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int i = 0; i < n; i++)
		appendStringInfo(&s, "%s{%s,%s}", i ? "," : "", side->levels[i].price,
						 base_qty(m, side->levels[i].qty));
	appendStringInfoChar(&s, '}');
	return s.data;
}

/* One side of the local book as numerics (in the current memory context). */
static void
num_side(const StreamMarket *m, const PerpsLocalSide *side, PerpsNumSide *out)
{
	out->nlevels = side->n;
	out->price = palloc(sizeof(Numeric) * Max(side->n, 1));
	out->qty = palloc(sizeof(Numeric) * Max(side->n, 1));
	for (int i = 0; i < side->n; i++)
	{
		out->price[i] = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(side->levels[i].price),
															ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
		out->qty[i] = DatumGetNumeric(perps_fetch_qty(side->levels[i].qty,
													  m->contract_size[0] ? m->contract_size : NULL));
	}
}

/*
 * The liquidity_depth row and the standard slippage rows of the full book
 * (book_math.h), buffered with the snapshot.  The book math checks the
 * book and ereports on a bad one: that is caught, counted and the rows
 * left out (no resource is held here, only memory of batch_cxt).
 */
static void
store_book_analytics(StreamMarket *m)
{
	MemoryContext old = MemoryContextSwitchTo(batch_cxt);
	int			nliq = buf_liquidity.n;
	int			nslip = buf_slippage.n;

	PG_TRY();
	{
		PerpsNumBook book;
		PerpsSlippageRow slip[PERPS_SLIPPAGE_STD_ROWS];
		LiquidityRow *lr;
		int			ns;

		num_side(m, &m->book.bids, &book.bids);
		num_side(m, &m->book.asks, &book.asks);
		perps_book_check(&book);
		lr = rowbuf_add(&buf_liquidity, sizeof(LiquidityRow));
		lr->market_id = m->market_id;
		lr->ts_us = m->book.ts_us;
		if (!perps_book_liquidity_row(&book, lr->values, lr->nulls))
			buf_liquidity.n--;	/* a side is empty: no mid */
		ns = perps_book_slippage_rows(&book, slip);
		for (int i = 0; i < ns; i++)
		{
			SlipRow    *sr = rowbuf_add(&buf_slippage, sizeof(SlipRow));

			sr->market_id = m->market_id;
			sr->ts_us = m->book.ts_us;
			sr->r = slip[i];
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(stream_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		buf_liquidity.n = nliq;
		buf_slippage.n = nslip;
		set_error("%s book: no liquidity rows: %s", m->native, edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
}

static void
store_book(StreamMarket *m)
{
	BookRow    *r;
	MemoryContext old;

	if (!m->book.valid || m->book.seq == m->stored_seq)
		return;
	r = rowbuf_add(&buf_books, sizeof(BookRow));
	old = MemoryContextSwitchTo(batch_cxt);
	r->market_id = m->market_id;
	r->ts_us = m->book.ts_us;
	r->seq = m->book.seq;
	r->bids = side_literal(m, &m->book.bids, perps_orderbook_store_levels);
	r->asks = side_literal(m, &m->book.asks, perps_orderbook_store_levels);
	MemoryContextSwitchTo(old);
	m->stored_seq = m->book.seq;
	store_book_analytics(m);
}

static void
start_resync(StreamMarket *m, const PerpsStreamEvent *ev, bool crossed)
{
	PerpsCtx	ctx;
	PerpsWsMessage msgs[PERPS_WS_MAX_MESSAGES];
	int			n;

	m->resyncing = true;
	m->resync_sent = GetCurrentTimestamp();
	m->gap_crossed = crossed;
	/* a gap: the ids between the book and this update; crossed: this update */
	m->gap_first = crossed ? ev->seq : m->book.seq + 1;
	m->gap_last = crossed ? ev->seq : (ev->has_first_seq ? ev->first_seq : ev->seq) - 1;
	m->gap_from_us = m->book.ts_us;
	perps_local_book_clear(&m->book);
	if (!crossed)
		status.gaps++;
	status.resyncs++;
	if (stream_sa->rest_snapshot)
		return;					/* the next update fetches the REST book */

	frame_ctx_init(&ctx);
	n = stream_sa->resync(&ctx, m->native, msgs);
	if (n < 0)
		set_error("cannot resync %s: %s", m->native, ctx.errmsg);
	else
		stream_send(stream_sa->nconnections > 0 ? stream_sa->book_connection : 0, msgs, n);
}

static bool
apply_levels(PerpsLocalBook *b, const PerpsStreamEvent *ev)
{
	/* decimal_storable: a level numeric_in would refuse must not poison a batch later */
	for (int i = 0; i < ev->nbids; i++)
		if (!decimal_storable(ev->bids[i].price) || !decimal_storable(ev->bids[i].qty))
			return false;
	for (int i = 0; i < ev->nasks; i++)
		if (!decimal_storable(ev->asks[i].price) || !decimal_storable(ev->asks[i].qty))
			return false;
	return perps_local_book_apply(b, true, ev->bids, ev->nbids) &&
		perps_local_book_apply(b, false, ev->asks, ev->nasks);
}

/*
 * rest_snapshot venues: the book from the venue's REST order book (in its
 * own transaction; HTTP as fetch_orderbook does it), its seq the
 * snapshot's update id.  False when it could not be had (the status says
 * why; the next update tries again after STREAM_REST_SYNC_MS).
 */
static bool
book_sync_rest(StreamMarket *m)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(stream_cxt, "perps_stats stream book sync",
											  ALLOCSET_DEFAULT_SIZES);
	PerpsFetchJob job;
	volatile bool ok = false;

	m->next_rest_sync = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STREAM_REST_SYNC_MS);
	perps_local_book_clear(&m->book);
	memset(&job, 0, sizeof(job));
	job.exchange = status.exchange;
	job.symbol = m->symbol;
	job.method = PERPS_M_ORDERBOOK;
	job.depth = stream_sa->snapshot_depth;
	job.since_us = PERPS_TS_NONE;
	job.until_us = PERPS_TS_NONE;
	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "perps_stats stream: fetching a book snapshot");
		MemoryContextSwitchTo(cxt);
		perps_fetch_many(&job, 1);
		MemoryContextSwitchTo(oldcxt);
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		pgstat_report_activity(STATE_IDLE, NULL);
		/* a cancel or a shutdown ends the worker as usual */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		set_error("%s book snapshot failed: %s", m->native, edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();

	if (ok && !job.ok)
	{
		set_error("%s book snapshot failed: %s", m->native, job.errmsg ? job.errmsg : "unknown error");
		ok = false;
	}
	else if (ok)
	{
		const PerpsBook *b = job.result.u.book;
		bool		good = b != NULL && b->has_seq;

		for (int i = 0; good && i < b->nbids; i++)
			good = decimal_storable(b->bids[i].price) && decimal_storable(b->bids[i].qty);
		for (int i = 0; good && i < b->nasks; i++)
			good = decimal_storable(b->asks[i].price) && decimal_storable(b->asks[i].qty);
		good = good && perps_local_book_apply(&m->book, true, b->bids, b->nbids) &&
			perps_local_book_apply(&m->book, false, b->asks, b->nasks);
		if (good && !perps_local_book_crossed(&m->book))
		{
			m->book.valid = true;
			m->book.seq = b->seq;
			/* the venue's time of the snapshot, else ours */
			m->book.ts_us = b->ts_us != PERPS_TS_NONE ? b->ts_us :
				GetCurrentTimestamp() + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC;
		}
		else
		{
			perps_local_book_clear(&m->book);
			set_error("%s book snapshot is unusable (no update id, a bad level, or crossed)", m->native);
			ok = false;
		}
	}
	MemoryContextDelete(cxt);
	return ok;
}

/*
 * A book update on a rest_snapshot venue.  With no book (the first update
 * of a connection, or after a gap) the book comes from REST; the update is
 * then judged against it: older ones are stale, the one that straddles the
 * snapshot's id continues it.
 */
static PerpsSeqCheck
book_check_rest(StreamMarket *m, const PerpsStreamEvent *ev)
{
	PerpsSeqCheck chk = stream_sa->seq_rule(m->book.valid, m->book.seq, ev);
	TimestampTz now;

	if (chk != PERPS_SEQ_GAP && chk != PERPS_SEQ_RESET)
		return chk;
	if (m->book.valid)
	{
		/* updates were lost: the gap is recorded once the book is back */
		start_resync(m, ev, false);
	}
	now = GetCurrentTimestamp();
	if (now < m->next_rest_sync || !book_sync_rest(m))
		return PERPS_SEQ_STALE;		/* dropped: the book is invalid until a sync succeeds */
	if (m->resyncing)
	{
		TimestampTz from = m->gap_from_us ? unix_us_to_timestamptz(m->gap_from_us) : 0;
		/* the REST book's time can be older than the last update the stream gave */
		TimestampTz to = Max(from, unix_us_to_timestamptz(m->book.ts_us));

		if (m->gap_crossed)
			add_event(m->market_id, "resync", from, to,
					  "%s book crossed at update id %lld; resynced from the REST book at update id %lld",
					  m->native, (long long) m->gap_first, (long long) m->book.seq);
		else
			add_event(m->market_id, "gap", from, to,
					  "%s book: update ids %lld..%lld lost; resynced from the REST book at update id %lld",
					  m->native, (long long) m->gap_first, (long long) m->gap_last, (long long) m->book.seq);
		m->resyncing = false;
	}
	chk = stream_sa->seq_rule(true, m->book.seq, ev);
	if (chk == PERPS_SEQ_GAP || chk == PERPS_SEQ_RESET)
	{
		/* the snapshot is older than the stream: try again (no data was lost) */
		perps_local_book_clear(&m->book);
		return PERPS_SEQ_STALE;
	}
	return chk;
}

static void
handle_book(StreamMarket *m, const PerpsStreamEvent *ev)
{
	PerpsSeqCheck chk = stream_sa->rest_snapshot ? book_check_rest(m, ev) :
		stream_sa->seq_rule(m->book.valid, m->book.seq, ev);

	switch (chk)
	{
		case PERPS_SEQ_STALE:
			return;
		case PERPS_SEQ_GAP:
			start_resync(m, ev, false);
			return;
		case PERPS_SEQ_RESET:
			perps_local_book_clear(&m->book);
			if (m->resyncing)
			{
				TimestampTz from = m->gap_from_us ? unix_us_to_timestamptz(m->gap_from_us) : 0;
				TimestampTz to = unix_us_to_timestamptz(ev->ts_us);

				if (m->gap_crossed)
					add_event(m->market_id, "resync", from, to,
							  "%s book crossed at update id %lld; resynced at update id %lld",
							  m->native, (long long) m->gap_first, (long long) ev->seq);
				else
					add_event(m->market_id, "gap", from, to,
							  "%s book: update ids %lld..%lld lost; resynced at update id %lld",
							  m->native, (long long) m->gap_first, (long long) m->gap_last,
							  (long long) ev->seq);
				m->resyncing = false;
			}
			break;
		case PERPS_SEQ_APPLY:
			break;
	}
	if (!apply_levels(&m->book, ev))
	{
		status.parse_errors++;
		set_error("%s book update %lld has a level the local book cannot take", m->native, (long long) ev->seq);
		start_resync(m, ev, false);
		return;
	}
	m->book.valid = true;
	m->book.seq = ev->seq;
	m->book.ts_us = ev->ts_us;
	if (perps_local_book_crossed(&m->book))
		start_resync(m, ev, true);
}

static void
handle_trades(StreamMarket *m, const PerpsStreamEvent *ev)
{
	for (int i = 0; i < ev->ntrades; i++)
	{
		const PerpsTrade *t = &ev->trades[i];
		TradeRow   *r;

		if (!decimal_storable(t->price) || !decimal_storable(t->qty))
		{
			status.parse_errors++;
			continue;
		}
		r = rowbuf_add(&buf_trades, sizeof(TradeRow));
		r->market_id = m->market_id;
		r->ts_us = t->ts_us;
		r->trade_id = batch_strdup(t->trade_id);
		r->price = batch_strdup(t->price);
		r->qty = batch_strdup(base_qty(m, t->qty));
		r->is_buy = t->is_buy;
	}
}

/*
 * The funding rate of the period ending at the next funding time: a row
 * when it changed; within a batch one row per (market, funding time), the
 * newest (the flush upserts).
 */
static void
add_funding(StreamMarket *m, const PerpsStreamEvent *ev)
{
	FundingRow *rows = buf_funding.rows;
	FundingRow *r = NULL;
	MemoryContext old;

	if (m->funding_time_us == ev->next_funding_time_us && strcmp(m->funding_rate, ev->funding_rate) == 0)
		return;
	if (strlen(ev->funding_rate) > PERPS_DECIMAL_MAX_LEN)
		return;
	m->funding_time_us = ev->next_funding_time_us;
	strlcpy(m->funding_rate, ev->funding_rate, sizeof(m->funding_rate));
	for (int i = buf_funding.n - 1; i >= 0; i--)
		if (rows[i].market_id == m->market_id && rows[i].funding_time_us == ev->next_funding_time_us)
		{
			r = &rows[i];
			break;
		}
	if (r == NULL)
	{
		r = rowbuf_add(&buf_funding, sizeof(FundingRow));
		r->market_id = m->market_id;
		r->funding_time_us = ev->next_funding_time_us;
	}
	old = MemoryContextSwitchTo(batch_cxt);
	r->rate = pstrdup(ev->funding_rate);
	r->interval_hours = ev->funding_interval_hours ? pstrdup(ev->funding_interval_hours) :
		m->funding_hours[0] ? pstrdup(m->funding_hours) : NULL;
	MemoryContextSwitchTo(old);
}

static void
handle_ticker(StreamMarket *m, const PerpsStreamEvent *ev)
{
	const char *f[STREAM_NTICKER + 1];
	const char *cs;
	TickerRow  *r;
	int			k0;

	ticker_fields(&ev->ticker, f);
	f[STREAM_TICK_PREV] = ev->prev_price_24h;
	for (int k = 0; k <= STREAM_NTICKER; k++)
		if (!decimal_storable(f[k]))
		{
			status.parse_errors++;
			set_error("%s ticker has an out-of-range decimal", m->native);
			return;
		}
	if (!decimal_storable(ev->funding_rate) || !decimal_storable(ev->funding_interval_hours))
	{
		status.parse_errors++;
		set_error("%s funding rate is out of range", m->native);
		return;
	}
	/*
	 * Quantities in base units: times the market's contract size, or the
	 * ticker's own where it names one (PerpsTicker.contract_size; "1": the
	 * venue sends these fields in base units already).
	 */
	cs = ev->ticker.contract_size ? ev->ticker.contract_size : m->contract_size;
	if (cs[0] != '\0' && !decimal_storable(cs))
	{
		status.parse_errors++;
		set_error("%s ticker has a bad contract size", m->native);
		return;
	}
	f[4] = qty_times(f[4], cs);
	f[6] = qty_times(f[6], cs);
	f[7] = qty_times(f[7], cs);
	f[9] = qty_times(f[9], cs);
	for (int k = 0; k <= STREAM_NTICKER; k++)
		if (f[k] && strlen(f[k]) > PERPS_DECIMAL_MAX_LEN)
		{
			status.parse_errors++;
			set_error("%s ticker has an out-of-range decimal", m->native);
			return;
		}

	if (ev->funding_rate && ev->next_funding_time_us != PERPS_TS_NONE)
		add_funding(m, ev);

	/* only funding in this message: no ticker row */
	for (k0 = 0; k0 < STREAM_NTICKER; k0++)
		if (f[k0] != NULL)
			break;
	if (k0 == STREAM_NTICKER && f[STREAM_TICK_PREV] == NULL)
		return;

	/*
	 * A snapshot replaces the merged ticker; a delta changes the fields it
	 * has (venues that stream the ticker in parts send each part as a delta).
	 */
	if (ev->snapshot)
		memset(m->tick_present, 0, sizeof(m->tick_present));
	m->have_ticker = true;
	for (int k = 0; k <= STREAM_NTICKER; k++)
		if (f[k] != NULL)
		{
			strlcpy(m->tick[k], f[k], sizeof(m->tick[k]));
			m->tick_present[k] = true;
		}
	/* a venue that sends the price 24 h ago: the change follows the merged last price */
	if (m->tick_present[STREAM_TICK_PREV] && m->tick_present[0])
	{
		PerpsCtx	ctx;
		const char *chg;

		frame_ctx_init(&ctx);
		chg = perps_decimal_sub(&ctx, m->tick[0], m->tick[STREAM_TICK_PREV]);
		if (chg != NULL && strlen(chg) <= PERPS_DECIMAL_MAX_LEN)
		{
			strlcpy(m->tick[STREAM_TICK_CHANGE], chg, sizeof(m->tick[STREAM_TICK_CHANGE]));
			m->tick_present[STREAM_TICK_CHANGE] = true;
		}
	}
	r = rowbuf_add(&buf_tickers, sizeof(TickerRow));
	r->market_id = m->market_id;
	r->ts_us = ev->ts_us;
	for (int k = 0; k < STREAM_NTICKER; k++)
		r->f[k] = m->tick_present[k] ? batch_strdup(m->tick[k]) : NULL;
}

static void
handle_frame(int conn, const char *data, size_t len, bool binary)
{
	PerpsCtx	ctx;
	PerpsStreamFrame frame;
	TimestampTz now = GetCurrentTimestamp();

	status.messages++;
	last_rx = now;
	MemoryContextReset(frame_cxt);
	frame_ctx_init(&ctx);
	if (stream_sa->parse_frame(&ctx, data, len, binary, &frame) != PERPS_OK)
	{
		status.parse_errors++;
		set_error("bad frame: %s", ctx.errmsg);
		return;
	}
	for (int i = 0; i < frame.nevents; i++)
	{
		PerpsStreamEvent *ev = &frame.events[i];
		StreamMarket *m;

		if (ev->kind == PERPS_EV_CONTROL)
		{
			/* the greeting: now the venue takes the subscriptions */
			if (conn >= 0 && stream_npending[conn] > 0 && !ev->is_error)
			{
				stream_send(conn, stream_pending[conn], stream_npending[conn]);
				stream_npending[conn] = 0;
			}
			if (ev->is_error)
				set_error("the venue refused a request: %s", ev->message ? ev->message : "");
			continue;
		}
		m = ev->native_symbol ? market_by_native(ev->native_symbol) : NULL;
		if (m == NULL)
			continue;			/* not one of ours */

		/* the first data message of a connection */
		if (status.connected_since == 0)
		{
			status.connected_since = now;
			set_state("streaming");
			if (down_since != 0)
			{
				status.reconnects++;
				add_event(0, "reconnect", down_since, now,
						  "reconnected; data between the two times is missing");
			}
			down_since = 0;
			backoff_ms = 0;
		}
		status.last_message_at = now;
		switch (ev->kind)
		{
			case PERPS_EV_BOOK:
				handle_book(m, ev);
				break;
			case PERPS_EV_TRADES:
				handle_trades(m, ev);
				break;
			case PERPS_EV_TICKER:
				handle_ticker(m, ev);
				break;
			default:
				break;
		}
	}
}

/* ---- exit ---- */

static void
stream_on_exit(int code, Datum arg)
{
	stream_close_all();
	for (int i = 0; i < stream_nmarkets; i++)
		perps_local_book_free(&stream_markets[i].book);
	stream_nmarkets = 0;
	set_state("stopped");
	status.pid = 0;
	status.connected_since = 0;
	publish();
}

static void
stream_shutdown(void)
{
	/* SIGTERM: what is buffered is written before leaving */
	if (stream_ws)
	{
		/* frames already received are data too */
		stream_drain(false);
		stream_close_all();
	}
	if (status.connected_since != 0)
		add_event(0, "disconnect", status.last_message_at, GetCurrentTimestamp(),
				  "the stream worker stopped");
	stream_flush();
	ereport(LOG, (errmsg("perps_stats stream worker for \"%s\" stopped", status.exchange)));
	proc_exit(0);
}

/* ---- main ---- */

void
perps_stream_main(Datum arg)
{
	bool		exists = true;

	stream_exchange_id = DatumGetInt32(arg);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(perps_database, NULL, 0);
	pgstat_report_appname("perps_stats stream");

	stream_cxt = AllocSetContextCreate(TopMemoryContext, "perps_stats stream", ALLOCSET_DEFAULT_SIZES);
	/*
	 * A frame's and a batch's allocations fit in the first block, which a
	 * reset keeps: no block is given back to malloc and asked for again per
	 * frame (a large malloc also makes glibc consolidate the small chunks
	 * json-c just freed).
	 */
	batch_cxt = AllocSetContextCreate(stream_cxt, "perps_stats stream batch",
									  0, 256 * 1024, ALLOCSET_DEFAULT_MAXSIZE);
	frame_cxt = AllocSetContextCreate(stream_cxt, "perps_stats stream frame",
									  0, 256 * 1024, ALLOCSET_DEFAULT_MAXSIZE);

	memset(&status, 0, sizeof(status));
	status.exchange_id = stream_exchange_id;
	status.pid = MyProcPid;
	set_state("starting");
	status_slot = perps_stream_slot_claim(stream_exchange_id);
	before_shmem_exit(stream_on_exit, (Datum) 0);

	(void) stream_refresh(&exists);
	if (!exists)
		proc_exit(0);
	ereport(LOG, (errmsg("perps_stats stream worker for \"%s\" started with %d market(s)",
						 status.exchange, stream_nmarkets)));
	next_connect = GetCurrentTimestamp();
	next_refresh = TimestampTzPlusMilliseconds(next_connect, STREAM_REFRESH_MS);

	for (;;)
	{
		TimestampTz now;

		if (ShutdownRequestPending)
			stream_shutdown();
		CHECK_FOR_INTERRUPTS();
		if (!PostmasterIsAlive())
			proc_exit(1);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		now = GetCurrentTimestamp();
		if (now >= next_refresh)
		{
			bool		changed = stream_refresh_safe(&exists);

			if (!exists)
			{
				ereport(LOG, (errmsg("perps_stats stream worker exiting: the extension is not installed")));
				proc_exit(0);
			}
			if (changed && stream_ws)
			{
				stream_close_all();
				add_event(0, "info", status.last_message_at, now,
						  "the venue's URL or its stream markets changed: reconnecting");
				status.connected_since = 0;
				down_since = 0;
				next_connect = now;
			}
			next_refresh = TimestampTzPlusMilliseconds(now, STREAM_REFRESH_MS);
		}

		if (stream_ws == NULL)
		{
			if (now >= next_connect && stream_nmarkets > 0)
				stream_connect();
			else
			{
				long		wait = Min(1000, Max(0, (next_connect - now) / 1000));

				if (stream_nmarkets == 0)
					set_state("idle");
				publish();
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 Max(wait, 10), STREAM_WAIT_BACKOFF);
				ResetLatch(MyLatch);
			}
		}
		else
		{
			uint64		oversized = stream_conns_oversized();
			const char *closed_why = "";
			int			lifetime_s = perps_stream_connection_lifetime > 0 ? perps_stream_connection_lifetime :
				stream_sa->max_connection_s > 0 ? Max(stream_sa->max_connection_s - STREAM_LIFETIME_MARGIN_S, 60) : 0;
			bool		full = buffered_rows() >= stream_max_buffered();

			if (full)
			{
				/* the buffers are full: stop reading, TCP pushes back on the venue */
				set_state("backpressure");
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 100, STREAM_WAIT_BACKOFF);
				ResetLatch(MyLatch);
				last_rx = GetCurrentTimestamp();
			}
			else
			{
				if (strcmp(status.state, "backpressure") == 0)
					set_state(status.connected_since ? "streaming" : "connecting");
				pgstat_report_wait_start(STREAM_WAIT_NETWORK);
				for (int k = 0; k < stream_nconns; k++)
					perps_ws_service(stream_conns[k]);
				pgstat_report_wait_end();
				stream_drain(true);
			}
			if (stream_ws && stream_conns_oversized() > oversized)
			{
				status.parse_errors += (int64) (stream_conns_oversized() - oversized);
				set_error("a frame longer than %zu bytes was dropped", stream_sa->max_message_bytes);
			}

			now = GetCurrentTimestamp();
			if (stream_conns_state(&closed_why) == PERPS_WS_CLOSED)
			{
				char		why[PERPS_WS_ERR_LEN];

				strlcpy(why, closed_why, sizeof(why));
				stream_disconnected(why[0] ? why : "connection closed");
			}
			else if (now >= TimestampTzPlusMilliseconds(last_rx, (int64) perps_stall_timeout * 1000))
			{
				char		why[128];

				snprintf(why, sizeof(why), "no message for %d s: connection restarted", perps_stall_timeout);
				stream_disconnected(why);
			}
			else if (lifetime_s > 0 && now >= TimestampTzPlusMilliseconds(conn_opened, (int64) lifetime_s * 1000))
			{
				char		why[128];

				/* the venue would cut it soon: a new connection now, without backoff */
				snprintf(why, sizeof(why), "connection replaced after %d s (the venue's connection lifetime)", lifetime_s);
				stream_disconnected(why);
				backoff_ms = 0;
				next_connect = now;
			}
			else if (stream_conns_state(&closed_why) == PERPS_WS_OPEN)
			{
				int64		ping_ms = conn_ping_ms > 0 ? conn_ping_ms : (int64) stream_sa->ping_interval_s * 1000;

				if (stream_sa->ping_message && now >= TimestampTzPlusMilliseconds(last_ping, ping_ms))
				{
					for (int k = 0; k < stream_nconns; k++)
						(void) perps_ws_send(stream_conns[k], stream_sa->ping_message, strlen(stream_sa->ping_message));
					last_ping = now;
				}
				for (int i = 0; i < stream_nmarkets; i++)
				{
					StreamMarket *m = &stream_markets[i];

					/* (rest_snapshot venues resync with the next update, not the venue) */
					if (m->resyncing && !stream_sa->rest_snapshot &&
						now >= TimestampTzPlusMilliseconds(m->resync_sent, STREAM_RESYNC_TIMEOUT_MS))
					{
						stream_disconnected("a book resync got no snapshot in time");
						break;
					}
					if (now >= m->next_store)
					{
						store_book(m);
						m->next_store = TimestampTzPlusMilliseconds(now, (int64) perps_book_snapshot_interval * 1000);
					}
				}
			}
		}

		now = GetCurrentTimestamp();
		if (flush_due(now))
			stream_flush();
		publish();
	}
}
