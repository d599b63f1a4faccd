/*-------------------------------------------------------------------------
 *
 * fetch.c
 *		The live SQL functions fetch_*, refresh_markets and _fetch_many:
 *		their arguments, a request through request.h, and the results as
 *		exact SQL values (convert.h).  Only SQL entry points live here.
 *
 * Nothing here knows a venue: every venue-specific fact is in its adapter.
 *
 * Memory: each call works in a "perps fetch" context below the function's
 * context.  History calls reset a page context per page.
 *
 * Privileges: the functions reach the network, so they are not executable
 * by PUBLIC.  refresh_markets writes perps_stats.markets and is SECURITY
 * DEFINER with a fixed search_path; the fetch functions refresh a venue's
 * markets with the owner's rights (guard.h) when a market is missing and
 * the venue needs its markets list.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "perps_pg.h"

#include <limits.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "convert.h"
#include "guard.h"
#include "request.h"
#include "http.h"
#include "perps_stats.h"

/* Most rows one history call returns when no max_rows is given. */
#define FETCH_MAX_ROWS 1000000
/* Most pages one history call walks. */
#define FETCH_MAX_PAGES 100000

/* ---- argument helpers ---- */

static char *
fetch_text_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static int64
fetch_ts_arg(FunctionCallInfo fcinfo, int n)
{
	TimestampTz t;

	if (PG_ARGISNULL(n))
		return PERPS_TS_NONE;
	t = PG_GETARG_TIMESTAMPTZ(n);
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("since and until must be finite timestamps")));
	if (t < -PERPS_UNIX_EPOCH_US)
		return 0;
	return t + PERPS_UNIX_EPOCH_US;
}

/* Composite result of a one-row function. */
static TupleDesc
fetch_tupdesc(FunctionCallInfo fcinfo)
{
	TupleDesc	td;

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return BlessTupleDesc(td);
}

/* ---- markets ---- */

PG_FUNCTION_INFO_V1(fetch_markets);
Datum
fetch_markets(PG_FUNCTION_ARGS)
{
	char	   *name = fetch_text_arg(fcinfo, 0, "exchange");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PerpsVenue	v;
	PerpsCtx	ctx;
	PerpsResult res;
	MemoryContext cxt;

	perps_venue_load(name, &v, false);
	InitMaterializedSRF(fcinfo, 0);
	cxt = perps_request_cxt_create("perps fetch");
	perps_request_ctx_init(&ctx, cxt);
	perps_markets_result(&v, &ctx, &res);
	for (int i = 0; i < res.n; i++)
	{
		const PerpsMarket *mk = &res.u.markets[i];
		Datum		values[12];
		bool		nulls[12];

		perps_set_text(values, nulls, 0, mk->symbol);
		perps_set_text(values, nulls, 1, mk->native_symbol);
		perps_set_text(values, nulls, 2, mk->base);
		perps_set_text(values, nulls, 3, mk->quote);
		perps_set_num(values, nulls, 4, mk->contract_size);
		perps_set_num(values, nulls, 5, mk->tick_size);
		perps_set_num(values, nulls, 6, mk->lot_size);
		perps_set_num(values, nulls, 7, mk->min_qty);
		perps_set_num(values, nulls, 8, mk->max_qty);
		perps_set_num(values, nulls, 9, mk->min_notional);
		perps_set_num(values, nulls, 10, mk->max_leverage);
		perps_set_num(values, nulls, 11, mk->funding_interval_hours);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

/* A text[] (with NULLs) from C strings. */
PG_FUNCTION_INFO_V1(refresh_markets);
Datum
refresh_markets(PG_FUNCTION_ARGS)
{
	PerpsVenue	v;
	int			total = 0;

	if (!PG_ARGISNULL(0))
	{
		perps_venue_load(text_to_cstring(PG_GETARG_TEXT_PP(0)), &v, false);
		PG_RETURN_INT32(perps_refresh_markets(&v));
	}
	/* every enabled venue that has an adapter */
	for (int i = 0; perps_adapters[i] != NULL; i++)
	{
		bool		enabled = false;
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1];

		if (!perps_venue_load(perps_adapters[i]->name, &v, true))
			continue;
		args[0] = CStringGetTextDatum(v.name);
		SPI_connect();
		if (SPI_execute_with_args("SELECT 1 FROM perps_stats.exchanges WHERE name = $1 AND enabled",
								  1, argtypes, args, NULL, false, 1) == SPI_OK_SELECT)
			enabled = SPI_processed == 1;
		SPI_finish();
		if (enabled)
			total += perps_refresh_markets(&v);
	}
	PG_RETURN_INT32(total);
}

/* ---- tickers ---- */

#define TICKER_NCOLS 18

static void
fetch_ticker_values(const char *exchange, const char *symbol, const PerpsTicker *t,
					const char *mult, Datum *values, bool *nulls)
{
	perps_set_text(values, nulls, 0, exchange);
	perps_set_text(values, nulls, 1, symbol);
	perps_set_ts(values, nulls, 2, t->ts_us);
	perps_ticker_values(t, mult, values + 3, nulls + 3);
}

/* Sets up venue, market and context for a one-market call. */
typedef struct FetchOne
{
	PerpsVenue	v;
	PerpsVenueMarket mk;
	PerpsMarketRef ref;
	PerpsCtx	ctx;
	MemoryContext cxt;
	int64		since_us;		/* the range asked for (the query's moves while paging) */
	int64		until_us;
} FetchOne;

static void
fetch_one_init(FunctionCallInfo fcinfo, FetchOne *f)
{
	char	   *name = fetch_text_arg(fcinfo, 0, "exchange");
	char	   *symbol = fetch_text_arg(fcinfo, 1, "symbol");

	perps_venue_load(name, &f->v, false);
	perps_market_resolve(&f->v, symbol, &f->mk);
	f->ref.symbol = f->mk.symbol;
	f->ref.native_symbol = f->mk.native_symbol;
	f->ref.contract_size = f->mk.contract_size;
	f->ref.book_steps = (const char *const *) f->mk.book_steps;
	f->ref.nbook_steps = f->mk.nbook_steps;
	f->cxt = perps_request_cxt_create("perps fetch");
	f->since_us = f->until_us = PERPS_TS_NONE;
	perps_request_ctx_init(&f->ctx, f->cxt);
}

PG_FUNCTION_INFO_V1(fetch_ticker);
Datum
fetch_ticker(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	PerpsResult res;
	TupleDesc	td = fetch_tupdesc(fcinfo);
	Datum		values[TICKER_NCOLS];
	bool		nulls[TICKER_NCOLS];
	const PerpsTicker *t = NULL;

	fetch_one_init(fcinfo, &f);
	q = perps_request_query(&f.ref);
	perps_request_run(&f.v, PERPS_M_TICKER, &q, &f.ctx, &res);
	for (int i = 0; i < res.n && t == NULL; i++)
		if (res.u.tickers[i].native_symbol == NULL ||
			strcmp(res.u.tickers[i].native_symbol, f.ref.native_symbol) == 0)
			t = &res.u.tickers[i];
	if (t == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s returned no ticker for %s", f.v.name, f.ref.native_symbol)));
	fetch_ticker_values(f.v.name, f.mk.symbol, t, res.qty_mult, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

PG_FUNCTION_INFO_V1(fetch_tickers);
Datum
fetch_tickers(PG_FUNCTION_ARGS)
{
	char	   *name = fetch_text_arg(fcinfo, 0, "exchange");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PerpsVenue	v;
	PerpsCtx	ctx;
	PerpsResult res;
	PerpsQuery	q = perps_request_query(NULL);
	MemoryContext cxt;
	char	  **natives = NULL;
	char	  **globals = NULL;
	int			nmarkets = 0;
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];

	perps_venue_load(name, &v, false);
	InitMaterializedSRF(fcinfo, 0);

	/* native -> global symbols, from the markets table (loaded if empty) */
	for (int pass = 0; pass < 2 && nmarkets == 0; pass++)
	{
		MemoryContext outer = CurrentMemoryContext;

		if (pass == 1)
			perps_refresh_markets_as_owner(&v);
		args[0] = Int32GetDatum(v.id);
		SPI_connect();
		if (SPI_execute_with_args("SELECT native_symbol, symbol FROM perps_stats.markets WHERE exchange_id = $1",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed");
		nmarkets = (int) SPI_processed;
		natives = MemoryContextAlloc(outer, sizeof(char *) * Max(nmarkets, 1));
		globals = MemoryContextAlloc(outer, sizeof(char *) * Max(nmarkets, 1));
		for (int i = 0; i < nmarkets; i++)
		{
			natives[i] = MemoryContextStrdup(outer, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
			globals[i] = MemoryContextStrdup(outer, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
		}
		SPI_finish();
	}

	cxt = perps_request_cxt_create("perps fetch");
	perps_request_ctx_init(&ctx, cxt);
	perps_request_run(&v, PERPS_M_TICKERS, &q, &ctx, &res);
	for (int i = 0; i < res.n; i++)
	{
		const PerpsTicker *t = &res.u.tickers[i];
		const char *global = NULL;
		Datum		values[TICKER_NCOLS];
		bool		nulls[TICKER_NCOLS];

		if (t->native_symbol == NULL)
			continue;
		for (int k = 0; k < nmarkets && global == NULL; k++)
			if (strcmp(natives[k], t->native_symbol) == 0)
				global = globals[k];
		if (global == NULL)
			continue;			/* not a market perps_stats knows */
		fetch_ticker_values(v.name, global, t, res.qty_mult, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

/* ---- order book ---- */

/*
 * One side as a 2-D numeric[] {{price,qty},...}: equal adjacent prices
 * merged, order checked, at most depth levels.
 */
PG_FUNCTION_INFO_V1(fetch_orderbook);
Datum
fetch_orderbook(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	PerpsResult res;
	TupleDesc	td = fetch_tupdesc(fcinfo);
	Datum		values[6];
	bool		nulls[6];
	int			depth = PG_ARGISNULL(2) ? 100 : PG_GETARG_INT32(2);
	const PerpsBook *b;

	if (depth < 1 || depth > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("depth must be between 1 and 100000")));
	fetch_one_init(fcinfo, &f);
	q = perps_request_query(&f.ref);
	q.depth = depth;
	perps_request_run(&f.v, PERPS_M_ORDERBOOK, &q, &f.ctx, &res);
	if (res.n < 1 || res.u.book == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s returned no order book for %s", f.v.name, f.ref.native_symbol)));
	b = res.u.book;
	perps_set_text(values, nulls, 0, f.v.name);
	perps_set_text(values, nulls, 1, f.mk.symbol);
	perps_set_ts(values, nulls, 2, b->ts_us);
	values[3] = perps_book_side_array(f.v.name, b->bids, b->nbids, true, res.qty_mult, depth);
	values[4] = perps_book_side_array(f.v.name, b->asks, b->nasks, false, res.qty_mult, depth);
	nulls[3] = nulls[4] = false;
	values[5] = Int64GetDatum(b->seq);
	nulls[5] = !b->has_seq;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/* ---- funding, open interest ---- */

#define FUNDING_NCOLS 7

static void
fetch_funding_values(const char *exchange, const char *symbol, const PerpsFunding *fr,
					 Datum *values, bool *nulls)
{
	perps_set_text(values, nulls, 0, exchange);
	perps_set_text(values, nulls, 1, symbol);
	perps_set_ts(values, nulls, 2, fr->funding_time_us);
	perps_set_num(values, nulls, 3, fr->rate);
	perps_set_num(values, nulls, 4, fr->predicted_rate);
	perps_set_ts(values, nulls, 5, fr->next_funding_time_us);
	perps_set_num(values, nulls, 6, fr->interval_hours);
}

PG_FUNCTION_INFO_V1(fetch_funding_rate);
Datum
fetch_funding_rate(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	PerpsResult res;
	TupleDesc	td = fetch_tupdesc(fcinfo);
	Datum		values[FUNDING_NCOLS];
	bool		nulls[FUNDING_NCOLS];

	fetch_one_init(fcinfo, &f);
	q = perps_request_query(&f.ref);
	perps_request_run(&f.v, PERPS_M_FUNDING, &q, &f.ctx, &res);
	if (res.n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s returned no funding rate for %s", f.v.name, f.ref.native_symbol)));
	fetch_funding_values(f.v.name, f.mk.symbol, &res.u.funding[0], values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

PG_FUNCTION_INFO_V1(fetch_open_interest);
Datum
fetch_open_interest(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	PerpsResult res;
	TupleDesc	td = fetch_tupdesc(fcinfo);
	Datum		values[5];
	bool		nulls[5];

	fetch_one_init(fcinfo, &f);
	q = perps_request_query(&f.ref);
	perps_request_run(&f.v, PERPS_M_OPEN_INTEREST, &q, &f.ctx, &res);
	if (res.n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s returned no open interest for %s", f.v.name, f.ref.native_symbol)));
	perps_set_text(values, nulls, 0, f.v.name);
	perps_set_text(values, nulls, 1, f.mk.symbol);
	perps_set_ts(values, nulls, 2, res.u.oi[0].ts_us);
	perps_set_qty(values, nulls, 3, res.u.oi[0].open_interest, res.qty_mult);
	perps_set_num(values, nulls, 4, res.u.oi[0].open_interest_notional);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/* ---- history: funding, klines, trades ---- */

typedef int (*FetchEmit) (FunctionCallInfo fcinfo, FetchOne *f, const PerpsResult *res, int i,
						  const PerpsQuery *q);

/*
 * Pages through a history method.  Without since and max_rows, one page of
 * the venue's default size (ending at until when given); otherwise pages of
 * the venue's largest size until the range is covered or max_rows rows were
 * returned.
 */
static void
fetch_history(FunctionCallInfo fcinfo, FetchOne *f, PerpsMethod m, PerpsQuery *q,
			  int page_max, int64 max_rows, FetchEmit emit)
{
	/* without since nor max_rows, paging back from until could walk all history */
	bool		one_page = (q->since_us == PERPS_TS_NONE && max_rows < 0);
	int64		remaining = max_rows < 0 ? FETCH_MAX_ROWS : max_rows;
	MemoryContext page_cxt = AllocSetContextCreate(f->cxt, "perps fetch page", ALLOCSET_DEFAULT_SIZES);
	char	   *cursor = NULL;

	for (int page = 0; page < FETCH_MAX_PAGES && remaining > 0; page++)
	{
		PerpsResult res;
		MemoryContext old;
		int64		prev_since = q->since_us;
		int64		prev_until = q->until_us;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(page_cxt);
		perps_request_ctx_init(&f->ctx, page_cxt);
		if (one_page)
			q->limit = 0;
		else
			q->limit = (int) Min(remaining, (int64) (page_max > 0 ? page_max : INT_MAX));
		q->cursor = cursor;

		old = MemoryContextSwitchTo(page_cxt);
		perps_request_run(&f->v, m, q, &f->ctx, &res);
		MemoryContextSwitchTo(old);

		for (int i = 0; i < res.n && remaining > 0; i++)
			remaining -= emit(fcinfo, f, &res, i, q);

		/* an empty page ends the walk, unless the venue moves on in time (a quiet window) */
		if (one_page || !res.has_more || (res.n == 0 && res.next_since_us == PERPS_TS_NONE))
			break;
		if (res.next_since_us != PERPS_TS_NONE)
		{
			if (prev_since != PERPS_TS_NONE && res.next_since_us <= prev_since)
				break;			/* no progress: the venue repeats itself */
			if (q->until_us != PERPS_TS_NONE && res.next_since_us > q->until_us)
				break;
			q->since_us = res.next_since_us;
			cursor = NULL;		/* a new time window starts afresh */
		}
		else if (res.next_until_us != PERPS_TS_NONE)
		{
			if (prev_until != PERPS_TS_NONE && res.next_until_us >= prev_until)
				break;
			if (q->since_us != PERPS_TS_NONE && res.next_until_us < q->since_us)
				break;
			q->until_us = res.next_until_us;
		}
		else if (res.next_cursor != NULL)
		{
			if (cursor && strcmp(cursor, res.next_cursor) == 0)
				break;
			cursor = MemoryContextStrdup(f->cxt, res.next_cursor);
		}
		else
			break;
	}
	MemoryContextDelete(page_cxt);
}

static bool
fetch_in_asked_range(const FetchOne *f, int64 t)
{
	if (f->since_us != PERPS_TS_NONE && t < f->since_us)
		return false;
	if (f->until_us != PERPS_TS_NONE && t > f->until_us)
		return false;
	return true;
}

static int
fetch_emit_funding(FunctionCallInfo fcinfo, FetchOne *f, const PerpsResult *res, int i, const PerpsQuery *q)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[FUNDING_NCOLS];
	bool		nulls[FUNDING_NCOLS];

	if (!fetch_in_asked_range(f, res->u.funding[i].funding_time_us))
		return 0;
	fetch_funding_values(f->v.name, f->mk.symbol, &res->u.funding[i], values, nulls);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return 1;
}

static int64
fetch_max_rows_arg(FunctionCallInfo fcinfo, int n)
{
	int32		v;

	if (PG_ARGISNULL(n))
		return -1;
	v = PG_GETARG_INT32(n);
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows must not be negative")));
	return v;
}

PG_FUNCTION_INFO_V1(fetch_funding_history);
Datum
fetch_funding_history(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	int64		max_rows = fetch_max_rows_arg(fcinfo, 4);

	fetch_one_init(fcinfo, &f);
	q = perps_request_query(&f.ref);
	q.since_us = f.since_us = fetch_ts_arg(fcinfo, 2);
	q.until_us = f.until_us = fetch_ts_arg(fcinfo, 3);
	InitMaterializedSRF(fcinfo, 0);
	fetch_history(fcinfo, &f, PERPS_M_FUNDING_HISTORY, &q, f.v.ad->max_funding_page, max_rows,
				  fetch_emit_funding);
	MemoryContextDelete(f.cxt);
	return (Datum) 0;
}

static int
fetch_emit_kline(FunctionCallInfo fcinfo, FetchOne *f, const PerpsResult *res, int i, const PerpsQuery *q)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const PerpsKline *k = &res->u.klines[i];
	Datum		values[9];
	bool		nulls[9];

	if (!fetch_in_asked_range(f, k->open_time_us))
		return 0;
	perps_set_ts(values, nulls, 0, k->open_time_us);
	perps_set_ts(values, nulls, 1, k->close_time_us);
	perps_set_num(values, nulls, 2, k->open);
	perps_set_num(values, nulls, 3, k->high);
	perps_set_num(values, nulls, 4, k->low);
	perps_set_num(values, nulls, 5, k->close);
	perps_set_qty(values, nulls, 6, k->volume, res->qty_mult);
	perps_set_num(values, nulls, 7, k->turnover);
	values[8] = Int64GetDatum(k->trade_count);
	nulls[8] = k->trade_count < 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return 1;
}

PG_FUNCTION_INFO_V1(fetch_klines);
Datum
fetch_klines(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	char	   *interval = fetch_text_arg(fcinfo, 2, "interval");
	int64		max_rows = fetch_max_rows_arg(fcinfo, 5);

	if (perps_interval_seconds(interval) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unsupported kline interval \"%s\"", interval),
				 errhint("The intervals are 1m, 5m, 15m, 30m, 1h, 4h and 1d.")));
	fetch_one_init(fcinfo, &f);
	q = perps_request_query(&f.ref);
	q.interval = interval;
	q.since_us = f.since_us = fetch_ts_arg(fcinfo, 3);
	q.until_us = f.until_us = fetch_ts_arg(fcinfo, 4);
	InitMaterializedSRF(fcinfo, 0);
	fetch_history(fcinfo, &f, PERPS_M_KLINES, &q, f.v.ad->max_kline_page, max_rows, fetch_emit_kline);
	MemoryContextDelete(f.cxt);
	return (Datum) 0;
}

static int
fetch_emit_trade(FunctionCallInfo fcinfo, FetchOne *f, const PerpsResult *res, int i, const PerpsQuery *q)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const PerpsTrade *t = &res->u.trades[i];
	Datum		values[5];
	bool		nulls[5];

	if (!fetch_in_asked_range(f, t->ts_us))
		return 0;
	perps_set_text(values, nulls, 0, t->trade_id);
	perps_set_ts(values, nulls, 1, t->ts_us);
	perps_set_num(values, nulls, 2, t->price);
	perps_set_qty(values, nulls, 3, t->qty, res->qty_mult);
	perps_set_text(values, nulls, 4, t->is_buy ? "buy" : "sell");
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return 1;
}

/*
 * fetch_trades(exchange, symbol, max_rows default 100): the most recent
 * trades; fetch_trades(exchange, symbol, since, until default NULL,
 * max_rows default NULL): the trade history of [since, until] (until NULL:
 * now), oldest or newest first as the venue pages, on venues that serve it
 * (PerpsAdapter.no_trades_history says why the others do not).
 */
PG_FUNCTION_INFO_V1(fetch_trades);
Datum
fetch_trades(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	bool		ranged = PG_NARGS() >= 5;
	int64		max_rows = fetch_max_rows_arg(fcinfo, ranged ? 4 : 2);

	if (ranged && PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("since must not be null"),
				 errhint("Without a time range, fetch_trades(exchange, symbol, max_rows) returns the most recent trades.")));
	fetch_one_init(fcinfo, &f);
	q = perps_request_query(&f.ref);
	if (ranged)
	{
		q.since_us = f.since_us = fetch_ts_arg(fcinfo, 2);
		q.until_us = f.until_us = PG_ARGISNULL(3)
			? GetCurrentTimestamp() + PERPS_UNIX_EPOCH_US
			: fetch_ts_arg(fcinfo, 3);
		if (q.until_us < q.since_us)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("since must not be later than until")));
		if (f.v.ad->no_trades_history != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s serves no trade history over a time range", f.v.name),
					 errdetail("%s", f.v.ad->no_trades_history),
					 errhint("fetch_trades(exchange, symbol, max_rows) returns its most recent trades; the stream workers collect trades as they happen.")));
	}
	InitMaterializedSRF(fcinfo, 0);
	if (max_rows != 0)
		fetch_history(fcinfo, &f, PERPS_M_TRADES, &q, f.v.ad->max_trades_page, max_rows,
					  fetch_emit_trade);
	MemoryContextDelete(f.cxt);
	return (Datum) 0;
}

static bool
fetch_method_by_name(const char *name, PerpsMethod *m)
{
	static const struct
	{
		const char *name;
		PerpsMethod m;
	}			methods[] = {
		{"markets", PERPS_M_MARKETS}, {"ticker", PERPS_M_TICKER}, {"tickers", PERPS_M_TICKERS},
		{"orderbook", PERPS_M_ORDERBOOK}, {"funding_rate", PERPS_M_FUNDING},
		{"funding_history", PERPS_M_FUNDING_HISTORY}, {"open_interest", PERPS_M_OPEN_INTEREST},
		{"klines", PERPS_M_KLINES}, {"trades", PERPS_M_TRADES},
	};

	for (size_t i = 0; i < lengthof(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
		{
			*m = methods[i].m;
			return true;
		}
	return false;
}

/*
 * perps_stats._fetch_many(exchanges text[], symbols text[], methods text[])
 * runs the jobs (one per array position) through perps_fetch_many and
 * reports, per job, whether it succeeded, the rows it got, or its error:
 * the way to see from SQL what collect() gets from the HTTP layer.
 */
PG_FUNCTION_INFO_V1(perps_fetch_many_sql);
Datum
perps_fetch_many_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *ex;
	Datum	   *sy;
	Datum	   *me;
	bool	   *exn;
	bool	   *syn;
	bool	   *men;
	int			nex;
	int			nsy;
	int			nme;
	PerpsFetchJob *jobs;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("arguments must not be null")));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT, &ex, &exn, &nex);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT, &sy, &syn, &nsy);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT, &me, &men, &nme);
	if (nex != nsy || nex != nme)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("exchanges, symbols and methods must have the same length")));
	jobs = palloc0(sizeof(PerpsFetchJob) * Max(nex, 1));
	for (int i = 0; i < nex; i++)
	{
		char	   *mname;

		if (exn[i] || men[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("exchange and method must not be null")));
		jobs[i].exchange = TextDatumGetCString(ex[i]);
		jobs[i].symbol = syn[i] ? NULL : TextDatumGetCString(sy[i]);
		mname = TextDatumGetCString(me[i]);
		if (!fetch_method_by_name(mname, &jobs[i].method))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown method \"%s\"", mname)));
		jobs[i].interval = "1m";
		jobs[i].since_us = jobs[i].until_us = PERPS_TS_NONE;
	}
	InitMaterializedSRF(fcinfo, 0);
	perps_fetch_many(jobs, nex);
	for (int i = 0; i < nex; i++)
	{
		Datum		values[7];
		bool		nulls[7];

		perps_set_text(values, nulls, 0, jobs[i].exchange);
		perps_set_text(values, nulls, 1, jobs[i].global_symbol ? jobs[i].global_symbol : jobs[i].symbol);
		perps_set_text(values, nulls, 2, perps_method_names[jobs[i].method]);
		values[3] = BoolGetDatum(jobs[i].ok);
		nulls[3] = false;
		values[4] = Int32GetDatum(jobs[i].result.n);
		nulls[4] = !jobs[i].ok;
		perps_set_text(values, nulls, 5, jobs[i].ok ? NULL : unpack_sql_state(jobs[i].sqlstate));
		perps_set_text(values, nulls, 6, jobs[i].errmsg);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
