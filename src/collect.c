/*-------------------------------------------------------------------------
 *
 * collect.c
 *		perps_stats.collect(): one snapshot round over the watched markets.
 *
 * For every market of the watchlist (poll = true, venue enabled) the round
 * takes a ticker, the open interest, the funding rate and the order book.
 * All their requests, across venues and markets, run as one concurrent
 * batch through perps_fetch_many_cb() (each venue within its rate limit);
 * each (market, kind) is written as soon as its answers are in, while the
 * rest of the batch is in flight or waits for its venue.  Markets missing
 * from perps_stats.markets are refreshed from their venue first.  Every row of the
 * round carries the same batch timestamp.  The book is stored truncated to
 * perps_stats.orderbook_store_levels; its liquidity_depth row and the
 * standard slippage rows are computed from the full book.
 *
 * Venues that serve coarser aggregations of their book (adapter.h,
 * book_resolutions, or per market book_step_param with the market's
 * markets.book_steps) get more book requests where the finest book falls
 * short: each such market's coarser books are in the batch, held
 * (perps_fetch_release), and as soon as its books so far are in and do not
 * both reach 100 bps of mid, the next coarser one is asked, while the rest
 * of the batch goes on, until the books together reach 100 bps or the
 * venue has no coarser one; the books not needed are never sent.
 * liquidity_depth and slippage then come from the merged books
 * (book_merge.h); the orderbooks row keeps the finest.  A coarser book that
 * cannot be fetched is recorded in ingest_events and the rows come from the
 * books there are.
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
#include "book_merge.h"
#include "convert.h"
#include "guard.h"
#include "request.h"
#include "perps_stats.h"
#include "store.h"

/* Levels asked for when a book is collected: liquidity needs the depth. */
#define COLLECT_BOOK_DEPTH 1000

StaticAssertDecl(PERPS_MAX_BOOK_RESOLUTIONS <= PERPS_MAX_RESOLUTIONS,
				 "every resolution an adapter lists fits a merge");

/* How far the books of a market must reach on each side: the deepest liquidity_depth threshold. */
#define COLLECT_REACH_BPS 100

/*
 * The books of one market's round: the finest (its CK_ORDERBOOK job) and
 * the coarser ones fetched after it, and the venue's names of them.
 */
typedef struct CollectBooks
{
	int			n;				/* jobs below: 1 + coarser books fetched */
	const PerpsFetchJob *job[PERPS_MAX_RESOLUTIONS];
	int			nres;			/* resolutions the venue serves (1: one book) */
	const char *const *labels;	/* their names; NULL: the venue's one book */
	bool		done;			/* reaches far enough, or nothing more to fetch */
} CollectBooks;

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

/* A decimal (NULL: none) as a numeric Datum into *d; returns d or NULL. */
static const Datum *
collect_num(Datum *d, const char *dec, const char *mult)
{
	if (dec == NULL)
		return NULL;
	*d = mult ? perps_qty(dec, mult) : perps_numeric(dec);
	return d;
}

/*
 * Writes the rows of one (market, kind) from its fetched result through
 * the store; returns the rows the tables took.
 */
/* A fetched book as numeric arrays, qty in base units (the store validates it). */
static void
collect_num_book(const PerpsFetchJob *job, PerpsNumBook *book)
{
	const PerpsResult *res = &job->result;
	const PerpsBook *b = res->u.book;
	Datum		bids = perps_book_side_array(job->exchange, b->bids, b->nbids, true,
											 res->qty_mult, INT_MAX);
	Datum		asks = perps_book_side_array(job->exchange, b->asks, b->nasks, false,
											 res->qty_mult, INT_MAX);

	perps_book_deconstruct(DatumGetArrayTypeP(bids), DatumGetArrayTypeP(asks), book);
}

static int
collect_write(PerpsStore *store, const PerpsFetchJob *job, CollectKind k, TimestampTz batch_ts,
			  const CollectBooks *cb)
{
	const PerpsResult *res = &job->result;

	perps_store_reset(store);
	if (res->n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s returned no %s for %s", job->exchange, collect_kind_names[k],
						job->native_symbol)));

	switch (k)
	{
		case CK_TICKER:
			{
				Datum		values[PERPS_TICKER_NCOLS];
				bool		nulls[PERPS_TICKER_NCOLS];

				perps_ticker_values(&res->u.tickers[0], res->qty_mult, values, nulls);
				perps_store_ticker(store, job->market_id, batch_ts, values, nulls);
				break;
			}
		case CK_OPEN_INTEREST:
			{
				const PerpsOpenInterest *oi = &res->u.oi[0];
				Datum		v,
							notional;

				if (oi->open_interest == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("%s returned no open interest for %s", job->exchange,
									job->native_symbol)));
				perps_store_open_interest(store, job->market_id, batch_ts,
										  collect_num(&v, oi->open_interest, res->qty_mult),
										  collect_num(&notional, oi->open_interest_notional, NULL));
				break;
			}
		case CK_FUNDING:
			{
				const PerpsFunding *fr = &res->u.funding[0];
				TimestampTz at = batch_ts;
				Datum		rate,
							predicted,
							hours;

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
					at = DatumGetTimestampTz(perps_timestamptz(fr->next_funding_time_us));
				else if (fr->funding_time_us != PERPS_TS_NONE)
					at = DatumGetTimestampTz(perps_timestamptz(fr->funding_time_us));
				perps_store_funding(store, job->market_id, at, collect_num(&rate, fr->rate, NULL),
									collect_num(&predicted, fr->predicted_rate, NULL),
									collect_num(&hours, fr->interval_hours, NULL));
				break;
			}
		case CK_ORDERBOOK:
			{
				const PerpsBook *b = res->u.book;
				PerpsNumBook books[PERPS_MAX_RESOLUTIONS];
				int			nb = cb != NULL ? cb->n : 1;

				/* the store validates them (crossed, unsorted, bad values) */
				collect_num_book(job, &books[0]);
				for (int r = 1; r < nb; r++)
					collect_num_book(cb->job[r], &books[r]);
				perps_store_books(store, job->market_id, batch_ts, books,
								  cb != NULL ? cb->labels : NULL, nb,
								  perps_orderbook_store_levels, b->seq, b->has_seq);
				break;
			}
		default:
			elog(ERROR, "unknown collect kind %d", (int) k);
	}
	/* the rows of this (market, kind), not a record of a row set aside */
	return (int) (perps_store_flush(store) - perps_store_written(store, PERPS_ST_EVENTS));
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
	PerpsStore *store;
	const PerpsFetchJob *job;
	CollectKind kind;
	TimestampTz batch_ts;
	const char *exchange;
	CollectBooks *books;		/* the orderbook's books */
	int			rows;			/* out: rows written */
} CollectStepArgs;

static void
collect_step_write(void *arg)
{
	CollectStepArgs *a = arg;

	a->rows = collect_write(a->store, a->job, a->kind, a->batch_ts, a->books);
}

/* Whether a market's books so far reach COLLECT_REACH_BPS on both sides (raises on a bad book). */
static void
collect_step_reach(void *arg)
{
	CollectStepArgs *a = arg;
	CollectBooks *cb = a->books;
	PerpsNumBook books[PERPS_MAX_RESOLUTIONS];

	for (int r = 0; r < cb->n; r++)
		collect_num_book(cb->job[r], &books[r]);
	cb->done = perps_merged_reaches(books, cb->n, xn_make(COLLECT_REACH_BPS, 4));
}

static void
collect_step_refresh(void *arg)
{
	CollectStepArgs *a = arg;

	perps_refresh_markets_of(a->exchange);
}

/* An error of the round into ingest_events, through the store. */
static void
collect_event(PerpsStore *store, int exchange_id, int market_id, const char *msg, TimestampTz ts)
{
	if (exchange_id == 0)
		return;
	perps_store_reset(store);
	perps_store_event(store, (int16) exchange_id, market_id, "error", msg, ts, ts, NULL, NULL);
	(void) perps_store_flush(store);
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

/* collect()'s round: what perps_fetch_many_cb hands each job to */
typedef struct CollectRun
{
	PerpsFetchJob *jobs;
	int			njobs;			/* the market x kind jobs; the held coarser books follow */
	int		   *market_of;		/* per held coarser book: its market */
	PerpsStore *store;
	TimestampTz batch_ts;
	char	  **refresh_error;	/* per market */
	int		   *rows;			/* per job: rows written */
	char	  **error;			/* per job: its error, or NULL */
	bool	   *reported;		/* per job: handled */
	int		   *coarse_first;	/* per market: its first held coarser book's job, or -1 */
	CollectBooks *books;		/* per market: its books so far */
} CollectRun;

/* A job of the round (market x kind) ends: its rows written, or its error recorded. */
static void
collect_report(CollectRun *run, int j)
{
	PerpsFetchJob *job = &run->jobs[j];
	CollectKind k = (CollectKind) (j % CK_COUNT);
	char	   *error = NULL;

	if (run->reported[j])
		return;
	run->reported[j] = true;
	if (run->refresh_error[j / CK_COUNT])
		error = run->refresh_error[j / CK_COUNT];
	else if (!job->ok)
	{
		error = job->errdetail ? psprintf("%s: %s", job->errmsg, job->errdetail) : pstrdup(job->errmsg);
		/* a method the venue has no endpoint for is reported, not recorded */
		if (job->sqlstate == ERRCODE_FEATURE_NOT_SUPPORTED)
		{
			run->error[j] = error;
			return;
		}
	}
	else if (job->market_id == 0)
		error = psprintf("%s has no market \"%s\" in perps_stats.markets", job->exchange, job->symbol);
	else
	{
		CollectStepArgs a = {0};

		a.store = run->store;
		a.job = job;
		a.kind = k;
		a.batch_ts = run->batch_ts;
		a.books = k == CK_ORDERBOOK ? &run->books[j / CK_COUNT] : NULL;
		error = collect_guarded(collect_step_write, &a);
		run->rows[j] = error ? 0 : a.rows;
	}
	run->error[j] = error;
	if (error)
		collect_event(run->store, job->exchange_id, job->market_id,
					  psprintf("%s %s: %s", job->symbol, collect_kind_names[k], error), run->batch_ts);
}

/*
 * Market i has one more book (its finest, or a coarser one): its books
 * written when they reach far enough or no coarser one is left, else the
 * next coarser one asked (its held job released).
 */
static void
collect_books_step(CollectRun *run, int i)
{
	CollectBooks *cb = &run->books[i];
	CollectStepArgs a = {0};

	/* a bad book stops here: its write reports it */
	a.books = cb;
	if (cb->n >= cb->nres || collect_guarded(collect_step_reach, &a) != NULL)
		cb->done = true;
	if (cb->done)
		collect_report(run, i * CK_COUNT + CK_ORDERBOOK);
	else
		perps_fetch_release(&run->jobs[run->coarse_first[i] + cb->n - 1]);
}

/* A job's answers are in (or it failed), inside the HTTP loop (perps_fetch_many_cb). */
static void
collect_job_done(PerpsFetchJob *job, void *arg)
{
	CollectRun *run = arg;
	int			j = (int) (job - run->jobs);
	int			i;
	CollectBooks *cb;

	if (j < run->njobs)
	{
		i = j / CK_COUNT;
		/* a finest book whose venue serves coarser ones: as far as it reaches */
		if (j % CK_COUNT == CK_ORDERBOOK && run->coarse_first[i] >= 0 && job->ok &&
			job->market_id != 0 && run->refresh_error[i] == NULL && !run->reported[j])
		{
			collect_books_step(run, i);
			return;
		}
		collect_report(run, j);
		return;
	}

	/* a coarser book */
	i = run->market_of[j - run->njobs];
	cb = &run->books[i];
	if (cb->done || run->reported[i * CK_COUNT + CK_ORDERBOOK])
		return;					/* not needed: never sent */
	if (job->ok && job->result.n >= 1)
	{
		cb->job[cb->n++] = job;
		collect_books_step(run, i);
		return;
	}
	/* the books there are make the rows; the missing one is recorded */
	collect_event(run->store, job->exchange_id, job->market_id,
				  psprintf("%s orderbook %s: %s", job->symbol, cb->labels[cb->n],
						   job->ok ? "no book" :
						   job->errdetail ? psprintf("%s: %s", job->errmsg, job->errdetail) :
						   job->errmsg), run->batch_ts);
	cb->done = true;
	collect_report(run, i * CK_COUNT + CK_ORDERBOOK);
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
	PerpsStore *store;
	PerpsFetchJob *jobs;
	char	  **refresh_error;	/* per market: why its venue's refresh failed */
	int			nmarkets;
	int			njobs;
	int			nall;
	int			rc;
	CollectRun	run = {0};

	InitMaterializedSRF(fcinfo, 0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "perps collect", ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	args[0] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	args[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	argnulls[0] = PG_ARGISNULL(0) ? 'n' : ' ';
	argnulls[1] = PG_ARGISNULL(1) ? 'n' : ' ';

	SPI_connect();
	store = perps_store_new(cxt, "collect");

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
	/* room for the coarser books a market may ask, held in the batch */
	jobs = palloc0(sizeof(PerpsFetchJob) * Max(nmarkets, 1) * (CK_COUNT + PERPS_MAX_RESOLUTIONS));
	refresh_error = palloc0(sizeof(char *) * Max(nmarkets, 1));
	run.coarse_first = palloc(sizeof(int) * Max(nmarkets, 1));
	run.books = palloc0(sizeof(CollectBooks) * Max(nmarkets, 1));
	run.market_of = palloc(sizeof(int) * Max(nmarkets, 1) * PERPS_MAX_RESOLUTIONS);
	{
		SPITupleTable *tt = SPI_tuptable;
		const char *refreshed = NULL;
		char	   *last_error = NULL;
		const char *venue = NULL;
		int			nres = 1;
		const char *const *labels = NULL;
		PerpsVenue	v = {0};

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
			/*
			 * whether the venue serves coarser books (the markets come venue
			 * by venue), or the market (a venue whose coarser books are each
			 * market's own steps: as many as the market has, read now that
			 * it is listed)
			 */
			if (venue == NULL || strcmp(venue, ex) != 0)
			{
				venue = ex;
				memset(&v, 0, sizeof(v));
				if (!perps_venue_load(ex, &v, true))
					v.ad = NULL;
				nres = 1;
				labels = NULL;
				if (v.ad != NULL && v.ad->book_resolutions != NULL)
				{
					nres = Min(perps_book_resolutions(v.ad), PERPS_MAX_RESOLUTIONS);
					labels = v.ad->book_resolutions;
				}
			}
			if (v.ad != NULL && v.ad->book_step_param != NULL)
			{
				labels = perps_market_book_labels(&v, sym, &nres);
				nres = Min(nres, PERPS_MAX_RESOLUTIONS);
			}
			run.books[i].n = 1;
			run.books[i].job[0] = &jobs[i * CK_COUNT + CK_ORDERBOOK];
			run.books[i].nres = nres;
			run.books[i].labels = labels;
			run.books[i].done = nres == 1;
			run.coarse_first[i] = nres > 1 ? 0 : -1;	/* numbered below */

			for (int k = 0; k < CK_COUNT; k++)
			{
				PerpsFetchJob *job = &jobs[i * CK_COUNT + k];

				job->exchange = ex;
				job->symbol = sym;
				job->method = collect_kind_methods[k];
				job->depth = COLLECT_BOOK_DEPTH;
				/* refreshed above where a market was missing: once a round is enough */
				job->no_refresh = true;
				job->since_us = job->until_us = PERPS_TS_NONE;
			}
		}
	}
	njobs = nmarkets * CK_COUNT;
	/*
	 * A venue's coarser books of each market, held: the callback asks the
	 * next one when the books so far do not reach far enough, as soon as
	 * they are in, while the rest of the batch goes on.
	 */
	nall = njobs;
	for (int i = 0; i < nmarkets; i++)
		if (run.coarse_first[i] == 0)
		{
			run.coarse_first[i] = nall;
			for (int r = 1; r < run.books[i].nres; r++)
			{
				jobs[nall] = jobs[i * CK_COUNT + CK_ORDERBOOK];
				jobs[nall].resolution = r;
				jobs[nall].held = true;
				run.market_of[nall - njobs] = i;
				nall++;
			}
		}

	/*
	 * Every request of the round as one concurrent batch, each (market,
	 * kind) written as soon as its answers are in: while the venues that
	 * are short of rate limit are still waited for, the others' rows are
	 * being written.  The result rows follow the watchlist's order.
	 */
	run.jobs = jobs;
	run.njobs = njobs;
	run.store = store;
	run.batch_ts = batch_ts;
	run.refresh_error = refresh_error;
	run.rows = palloc0(sizeof(int) * Max(njobs, 1));
	run.error = palloc0(sizeof(char *) * Max(njobs, 1));
	run.reported = palloc0(sizeof(bool) * Max(njobs, 1));
	if (nall > 0)
		perps_fetch_many_cb(jobs, nall, collect_job_done, &run);
	/* whatever the callbacks left (a job that never ended): reported now */
	for (int j = 0; j < njobs; j++)
		collect_report(&run, j);
	for (int j = 0; j < njobs; j++)
		collect_emit(rsinfo, jobs[j].exchange, jobs[j].symbol, collect_kind_names[j % CK_COUNT],
					 run.rows[j], run.error[j]);

	SPI_finish();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
