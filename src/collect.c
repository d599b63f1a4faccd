/*-------------------------------------------------------------------------
 *
 * collect.c
 *		perps_stats.collect(): one snapshot round over the watched markets.
 *
 * For every market of the watchlist (poll = true, venue enabled) the round
 * takes a ticker, the open interest, the funding rate and the order book.
 * All their requests, across venues and markets, run as one concurrent
 * batch through perps_fetch_many() (each venue within its rate limit); the
 * results are then written one (market, kind) at a time.  Markets missing
 * from perps_stats.markets are refreshed from their venue first.  Every row of the
 * round carries the same batch timestamp.  The book is stored truncated to
 * perps_stats.orderbook_store_levels; its liquidity_depth row and the
 * standard slippage rows are computed from the full book.
 *
 * Failures: a (market, kind) whose request, parse or write fails is rolled
 * back in its own subtransaction, reported in the result with its error,
 * and recorded in ingest_events; the other markets go on.  A method the
 * venue has no public endpoint for is reported, not recorded.
 *
 * Memory: everything lives in a "perps collect" context that is deleted at
 * the end; the result rows are in the SRF's tuplestore.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "perps_pg.h"

#include <limits.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "book_math.h"
#include "fetch.h"
#include "perps_stats.h"

/* Levels asked for when a book is collected: liquidity needs the depth. */
#define COLLECT_BOOK_DEPTH 1000

typedef enum CollectKind
{
	CK_TICKER,
	CK_OPEN_INTEREST,
	CK_FUNDING,
	CK_ORDERBOOK,
	CK_COUNT
} CollectKind;

static const char *const collect_kind_names[CK_COUNT] = {
	"ticker", "open_interest", "funding", "orderbook"
};
static const PerpsMethod collect_kind_methods[CK_COUNT] = {
	PERPS_M_TICKER, PERPS_M_OPEN_INTEREST, PERPS_M_FUNDING, PERPS_M_ORDERBOOK
};

/* The insert statements, prepared once per call. */
typedef struct CollectPlans
{
	SPIPlanPtr	ticker;
	SPIPlanPtr	oi;
	SPIPlanPtr	funding;
	SPIPlanPtr	book;
	SPIPlanPtr	liquidity;
	SPIPlanPtr	slippage;
	SPIPlanPtr	event;
} CollectPlans;

static SPIPlanPtr
collect_prepare_plan(const char *sql, int nargs, const Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, (Oid *) types);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	return plan;
}

static void
collect_prepare_plans(CollectPlans *p)
{
	Oid			t[20];

	t[0] = INT4OID;
	t[1] = TIMESTAMPTZOID;
	for (int i = 2; i < 20; i++)
		t[i] = NUMERICOID;
	p->ticker = collect_prepare_plan(
		"INSERT INTO perps_stats.tickers (market_id, ts, last_price, mark_price, index_price, "
		"best_bid_price, best_bid_qty, best_ask_price, best_ask_qty, volume_24h, turnover_24h, "
		"open_interest, open_interest_notional, price_change_24h, price_change_pct, high_24h, low_24h) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) "
		"ON CONFLICT DO NOTHING", 17, t);
	p->oi = collect_prepare_plan(
		"INSERT INTO perps_stats.open_interest (market_id, ts, open_interest, open_interest_notional) "
		"VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", 4, t);
	p->liquidity = collect_prepare_plan(
		"INSERT INTO perps_stats.liquidity_depth (market_id, ts, mid_price, "
		"bid_1bps, bid_2_5bps, bid_5bps, bid_10bps, bid_20bps, bid_50bps, bid_100bps, "
		"ask_1bps, ask_2_5bps, ask_5bps, ask_10bps, ask_20bps, ask_50bps, ask_100bps, "
		"max_bid_bps, max_ask_bps) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) "
		"ON CONFLICT DO NOTHING", 19, t);
	{
		Oid			ft[5] = {INT4OID, TIMESTAMPTZOID, NUMERICOID, NUMERICOID, NUMERICOID};

		p->funding = collect_prepare_plan(
			"INSERT INTO perps_stats.funding_rates (market_id, funding_time, rate, predicted_rate, interval_hours) "
			"VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", 5, ft);
	}
	{
		Oid			bt[5] = {INT4OID, TIMESTAMPTZOID, NUMERICARRAYOID, NUMERICARRAYOID, INT8OID};

		p->book = collect_prepare_plan(
			"INSERT INTO perps_stats.orderbooks (market_id, ts, bids, asks, seq) "
			"VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", 5, bt);
	}
	{
		Oid			st[8] = {INT4OID, TIMESTAMPTZOID, NUMERICOID, TEXTOID, NUMERICOID, NUMERICOID,
		NUMERICOID, BOOLOID};

		p->slippage = collect_prepare_plan(
			"INSERT INTO perps_stats.slippage (market_id, ts, amount, side, mid_price, avg_price, "
			"slippage_bps, feasible) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
			8, st);
	}
	{
		Oid			et[4] = {INT2OID, INT4OID, TEXTOID, TIMESTAMPTZOID};

		p->event = collect_prepare_plan(
			"INSERT INTO perps_stats.ingest_events (exchange_id, market_id, source, kind, message, "
			"range_start, range_end) VALUES ($1, NULLIF($2, 0), 'collect', 'error', $3, $4, $4)", 4, et);
	}
}

/* Runs a prepared insert; returns the rows it wrote. */
static int
collect_exec(SPIPlanPtr plan, Datum *values, const bool *nulls)
{
	char		n[20];
	int			nargs = SPI_getargcount(plan);
	int			rc;

	for (int i = 0; i < nargs; i++)
		n[i] = nulls[i] ? 'n' : ' ';
	rc = SPI_execute_plan(plan, values, n, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return (int) SPI_processed;
}

/* A decimal or SQL NULL into values[i] / nulls[i]. */
static void
collect_num(Datum *values, bool *nulls, int i, const char *dec, const char *mult, bool qty)
{
	nulls[i] = dec == NULL;
	if (dec != NULL)
		values[i] = qty ? perps_fetch_qty(dec, mult) : perps_fetch_numeric(dec);
}

/* Writes the rows of one (market, kind) from its fetched result. */
static int
collect_write(CollectPlans *p, const PerpsFetchJob *job, CollectKind k, TimestampTz batch_ts)
{
	const PerpsResult *res = &job->result;
	Datum		values[20];
	bool		nulls[20];
	int			rows = 0;

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int32GetDatum(job->market_id);
	values[1] = TimestampTzGetDatum(batch_ts);

	if (res->n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s returned no %s for %s", job->exchange, collect_kind_names[k],
						job->native_symbol)));

	switch (k)
	{
		case CK_TICKER:
			{
				const PerpsTicker *t = &res->u.tickers[0];
				const char *mult = t->contract_size ? t->contract_size : res->qty_mult;

				collect_num(values, nulls, 2, t->last_price, NULL, false);
				collect_num(values, nulls, 3, t->mark_price, NULL, false);
				collect_num(values, nulls, 4, t->index_price, NULL, false);
				collect_num(values, nulls, 5, t->best_bid_price, NULL, false);
				collect_num(values, nulls, 6, t->best_bid_qty, mult, true);
				collect_num(values, nulls, 7, t->best_ask_price, NULL, false);
				collect_num(values, nulls, 8, t->best_ask_qty, mult, true);
				collect_num(values, nulls, 9, t->volume_24h, mult, true);
				collect_num(values, nulls, 10, t->turnover_24h, NULL, false);
				collect_num(values, nulls, 11, t->open_interest, mult, true);
				collect_num(values, nulls, 12, t->open_interest_notional, NULL, false);
				collect_num(values, nulls, 13, t->price_change_24h, NULL, false);
				collect_num(values, nulls, 14, t->price_change_pct, NULL, false);
				collect_num(values, nulls, 15, t->high_24h, NULL, false);
				collect_num(values, nulls, 16, t->low_24h, NULL, false);
				rows = collect_exec(p->ticker, values, nulls);
				break;
			}
		case CK_OPEN_INTEREST:
			{
				const PerpsOpenInterest *oi = &res->u.oi[0];

				if (oi->open_interest == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("%s returned no open interest for %s", job->exchange,
									job->native_symbol)));
				collect_num(values, nulls, 2, oi->open_interest, res->qty_mult, true);
				collect_num(values, nulls, 3, oi->open_interest_notional, NULL, false);
				rows = collect_exec(p->oi, values, nulls);
				break;
			}
		case CK_FUNDING:
			{
				const PerpsFunding *fr = &res->u.funding[0];

				if (fr->rate == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("%s returned no funding rate for %s", job->exchange,
									job->native_symbol)));
				/*
				 * The row of a rate is keyed by the settlement it is paid at,
				 * the next funding time, as the streams and the funding
				 * history key theirs (so one period is one row whoever wrote
				 * it).  A venue with no settlement time (continuous funding)
				 * keys it by its own time of the rate, else the batch's.
				 */
				if (fr->next_funding_time_us != PERPS_TS_NONE)
					values[1] = perps_fetch_timestamptz(fr->next_funding_time_us);
				else if (fr->funding_time_us != PERPS_TS_NONE)
					values[1] = perps_fetch_timestamptz(fr->funding_time_us);
				collect_num(values, nulls, 2, fr->rate, NULL, false);
				collect_num(values, nulls, 3, fr->predicted_rate, NULL, false);
				collect_num(values, nulls, 4, fr->interval_hours, NULL, false);
				rows = collect_exec(p->funding, values, nulls);
				break;
			}
		case CK_ORDERBOOK:
			{
				const PerpsBook *b = res->u.book;
				Datum		full_bids = perps_fetch_book_side(job->exchange, b->bids, b->nbids, true,
															  res->qty_mult, INT_MAX);
				Datum		full_asks = perps_fetch_book_side(job->exchange, b->asks, b->nasks, false,
															  res->qty_mult, INT_MAX);
				PerpsNumBook book;
				PerpsSlippageRow slip[PERPS_SLIPPAGE_STD_ROWS];
				int			nslip;

				/* validates the full book (crossed, unsorted, bad values) */
				perps_book_from_arrays(DatumGetArrayTypeP(full_bids), DatumGetArrayTypeP(full_asks), &book);

				values[2] = perps_fetch_book_side(job->exchange, b->bids, b->nbids, true, res->qty_mult,
												  perps_orderbook_store_levels);
				values[3] = perps_fetch_book_side(job->exchange, b->asks, b->nasks, false, res->qty_mult,
												  perps_orderbook_store_levels);
				values[4] = Int64GetDatum(b->seq);
				nulls[4] = !b->has_seq;
				rows = collect_exec(p->book, values, nulls);

				memset(nulls + 2, 0, sizeof(bool) * 18);
				if (perps_book_liquidity_row(&book, values + 2, nulls + 2))
					rows += collect_exec(p->liquidity, values, nulls);

				nslip = perps_book_slippage_rows(&book, slip);
				for (int i = 0; i < nslip; i++)
				{
					memset(nulls + 2, 0, sizeof(bool) * 6);
					values[2] = NumericGetDatum(slip[i].amount);
					values[3] = CStringGetTextDatum(slip[i].is_buy ? "buy" : "sell");
					values[4] = NumericGetDatum(slip[i].mid_price);
					values[5] = slip[i].avg_price ? NumericGetDatum(slip[i].avg_price) : (Datum) 0;
					nulls[5] = slip[i].avg_price == NULL;
					values[6] = slip[i].slippage_bps ? NumericGetDatum(slip[i].slippage_bps) : (Datum) 0;
					nulls[6] = slip[i].slippage_bps == NULL;
					values[7] = BoolGetDatum(slip[i].feasible);
					rows += collect_exec(p->slippage, values, nulls);
				}
				break;
			}
		default:
			elog(ERROR, "unknown collect kind %d", (int) k);
	}
	return rows;
}

/* Runs a step in a subtransaction: NULL, or its error message. */
static char *
collect_guarded(void (*fn) (void *arg), void *arg)
{
	ErrorData  *edata = perps_run_guarded(fn, arg);

	if (edata == NULL)
		return NULL;
	if (edata->detail)
		return psprintf("%s: %s", edata->message, edata->detail);
	return pstrdup(edata->message);
}

typedef struct CollectStepArgs
{
	CollectPlans *plans;
	const PerpsFetchJob *job;
	CollectKind kind;
	TimestampTz batch_ts;
	const char *exchange;
	int			rows;			/* out: rows written */
} CollectStepArgs;

static void
collect_step_write(void *arg)
{
	CollectStepArgs *a = arg;

	a->rows = collect_write(a->plans, a->job, a->kind, a->batch_ts);
}

static void
collect_step_refresh(void *arg)
{
	CollectStepArgs *a = arg;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			rc;

	args[0] = CStringGetTextDatum(a->exchange);
	rc = SPI_execute_with_args("SELECT perps_stats.refresh_markets($1)", 1, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
}

static void
collect_event(CollectPlans *p, int exchange_id, int market_id, const char *msg, TimestampTz ts)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (exchange_id == 0)
		return;
	values[0] = Int16GetDatum((int16) exchange_id);
	values[1] = Int32GetDatum(market_id);
	values[2] = CStringGetTextDatum(msg);
	values[3] = TimestampTzGetDatum(ts);
	(void) collect_exec(p->event, values, nulls);
}

static void
collect_emit(ReturnSetInfo *rsinfo, const char *exchange, const char *symbol, const char *kind,
			 int rows, const char *error)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = CStringGetTextDatum(exchange);
	values[1] = CStringGetTextDatum(symbol);
	values[2] = CStringGetTextDatum(kind);
	values[3] = Int32GetDatum(rows);
	if (error)
		values[4] = CStringGetTextDatum(error);
	else
		nulls[4] = true;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(collect);
Datum
collect(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt;
	MemoryContext oldcxt;
	TimestampTz batch_ts = GetCurrentTimestamp();
	Oid			argtypes[2] = {TEXTARRAYOID, TEXTARRAYOID};
	Datum		args[2];
	char		argnulls[2];
	CollectPlans plans;
	PerpsFetchJob *jobs;
	char	  **refresh_error;	/* per market: why its venue's refresh failed */
	int			nmarkets;
	int			njobs;
	int			rc;

	InitMaterializedSRF(fcinfo, 0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "perps collect", ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	args[0] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	args[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	argnulls[0] = PG_ARGISNULL(0) ? 'n' : ' ';
	argnulls[1] = PG_ARGISNULL(1) ? 'n' : ' ';

	SPI_connect();
	collect_prepare_plans(&plans);

	/* the watched markets, venue by venue, and whether they are listed */
	rc = SPI_execute_with_args(
		"SELECT w.exchange, w.symbol, EXISTS (SELECT 1 FROM perps_stats.markets m "
		"  WHERE m.exchange_id = e.id AND m.symbol = w.symbol) "
		"FROM perps_stats.watchlist w JOIN perps_stats.exchanges e ON e.name = w.exchange "
		"WHERE w.poll AND e.enabled AND ($1 IS NULL OR w.exchange = ANY ($1)) "
		"AND ($2 IS NULL OR w.symbol = ANY ($2)) ORDER BY e.id, w.symbol",
		2, argtypes, args, argnulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	nmarkets = (int) SPI_processed;
	jobs = palloc0(sizeof(PerpsFetchJob) * Max(nmarkets, 1) * CK_COUNT);
	refresh_error = palloc0(sizeof(char *) * Max(nmarkets, 1));
	{
		SPITupleTable *tt = SPI_tuptable;
		const char *refreshed = NULL;
		char	   *last_error = NULL;

		for (int i = 0; i < nmarkets; i++)
		{
			char	   *ex = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
			char	   *sym = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
			bool		isnull;
			bool		listed = DatumGetBool(SPI_getbinval(tt->vals[i], tt->tupdesc, 3, &isnull));

			/* a market not listed yet: refresh its venue's markets once */
			if (!listed && (refreshed == NULL || strcmp(refreshed, ex) != 0))
			{
				CollectStepArgs a = {0};

				a.exchange = ex;
				refreshed = ex;
				last_error = collect_guarded(collect_step_refresh, &a);
			}
			if (!listed && last_error)
				refresh_error[i] = psprintf("could not refresh the markets of %s: %s", ex, last_error);

			for (int k = 0; k < CK_COUNT; k++)
			{
				PerpsFetchJob *job = &jobs[i * CK_COUNT + k];

				job->exchange = ex;
				job->symbol = sym;
				job->method = collect_kind_methods[k];
				job->depth = COLLECT_BOOK_DEPTH;
				job->since_us = job->until_us = PERPS_TS_NONE;
			}
		}
	}
	njobs = nmarkets * CK_COUNT;

	/* every request of the round as one concurrent batch */
	if (njobs > 0)
		perps_fetch_many(jobs, njobs);

	/* write, one (market, kind) at a time */
	for (int j = 0; j < njobs; j++)
	{
		PerpsFetchJob *job = &jobs[j];
		CollectKind k = (CollectKind) (j % CK_COUNT);
		const char *error = NULL;
		int			rows = 0;

		if (refresh_error[j / CK_COUNT])
			error = refresh_error[j / CK_COUNT];
		else if (!job->ok)
		{
			error = job->errdetail ? psprintf("%s: %s", job->errmsg, job->errdetail) : job->errmsg;
			/* a method the venue has no endpoint for is reported, not recorded */
			if (job->sqlstate == ERRCODE_FEATURE_NOT_SUPPORTED)
			{
				collect_emit(rsinfo, job->exchange, job->symbol, collect_kind_names[k], 0, error);
				continue;
			}
		}
		else if (job->market_id == 0)
			error = psprintf("%s has no market \"%s\" in perps_stats.markets", job->exchange, job->symbol);
		else
		{
			CollectStepArgs a = {0};

			a.plans = &plans;
			a.job = job;
			a.kind = k;
			a.batch_ts = batch_ts;
			error = collect_guarded(collect_step_write, &a);
			rows = error ? 0 : a.rows;
		}
		collect_emit(rsinfo, job->exchange, job->symbol, collect_kind_names[k], rows, error);
		if (error)
			collect_event(&plans, job->exchange_id, job->market_id,
						  psprintf("%s %s: %s", job->symbol, collect_kind_names[k], error), batch_ts);
	}

	SPI_finish();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
