/*-------------------------------------------------------------------------
 *
 * request.h
 *		Requests to the venues, for the fetch_* functions and the C callers
 *		(collect(), the stream workers' REST calls, backfills): one request
 *		raising its error, or many markets and methods of any venues in one
 *		concurrent HTTP run, each job's failure recorded rather than raised.
 *
 * Memory: results, messages and Datums are allocated in the memory
 * context current at the call (or the one given to perps_request_ctx_init).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_REQUEST_H
#define PERPS_REQUEST_H

#include "postgres.h"

#include "adapter.h"

/* A venue as perps_stats.exchanges has it, with its adapter. */
typedef struct PerpsVenue
{
	const PerpsAdapter *ad;
	int			id;
	char	   *name;
	char	   *rest_url;
	char	   *aux_url;		/* exchanges.aux_url: the second host; NULL: none */
	char	   *param;			/* exchanges.adapter_param: every query carries it; NULL: none */
	PerpsRateLimit limit;		/* of the adapter's rate-limit account (see perps_venue_load) */
} PerpsVenue;

typedef struct PerpsVenueMarket
{
	char	   *symbol;
	char	   *native_symbol;
	char	   *contract_size;
	char	  **book_steps;		/* markets.book_steps as decimal texts; NULL: none */
	int			nbook_steps;
} PerpsVenueMarket;


/* An error recorded instead of raised (one failing market must not stop the others). */
typedef struct PerpsFetchError
{
	int			sqlstate;		/* 0: none */
	char	   *msg;
	char	   *detail;
	char	   *hint;
} PerpsFetchError;

#define perps_request_cxt_create(name) \
	AllocSetContextCreate(CurrentMemoryContext, name, ALLOCSET_DEFAULT_SIZES)

/* An adapter context whose arena allocates in cxt. */
extern void perps_request_ctx_init(PerpsCtx *ctx, MemoryContext cxt);

/* The venue of perps_stats.exchanges named name (false when missing_ok and unknown). */
extern bool perps_venue_load(const char *name, PerpsVenue *v, bool missing_ok);

/*
 * The venue's reference for a global symbol: from perps_stats.markets;
 * else from the adapter's naming rule; else (or when the adapter needs the
 * markets list) after refreshing the markets from the venue.
 */
extern void perps_market_resolve(const PerpsVenue *v, const char *symbol, PerpsVenueMarket *mk);

/*
 * The names of the resolutions of a market's book (what the resolution
 * columns store), *nres of them, palloc'd: the venue's book_resolutions,
 * or for a venue whose coarser books are per market (book_step_param) the
 * market's book_steps read from perps_stats.markets.  NULL (*nres 1) for
 * a book without names.
 */
extern const char *const *perps_market_book_labels(const PerpsVenue *v, const char *symbol, int *nres);

/* A query with no market, no time range and the defaults. */
extern PerpsQuery perps_request_query(const PerpsMarketRef *ref);

/* One method's requests, run and parsed; raises its error. */
extern void perps_request_run(const PerpsVenue *v, PerpsMethod m, const PerpsQuery *q, PerpsCtx *ctx,
							  PerpsResult *out);
extern void perps_markets_result(const PerpsVenue *v, PerpsCtx *ctx, PerpsResult *res);

/* Fetches a venue's markets and upserts them into perps_stats.markets; returns the number upserted. */
extern int	perps_refresh_markets(const PerpsVenue *v);

/* The same with the owner's rights (guard.h): for callers that may fetch but not write markets. */
extern void perps_refresh_markets_as_owner(const PerpsVenue *v);
/* The same by the venue's name (perps_stats.exchanges.name). */
extern void perps_refresh_markets_of(const char *exchange);

extern void perps_fetch_error_set(PerpsFetchError *e, int sqlstate, char *msg, char *detail);
extern void perps_fetch_error_raise(const PerpsFetchError *e);

typedef struct PerpsFetchJob
{
	/* in */
	const char *exchange;		/* perps_stats.exchanges.name */
	const char *symbol;			/* global symbol; NULL for markets and all tickers */
	PerpsMethod method;
	int			depth;			/* order book levels wanted (0: 100) */
	int			resolution;		/* order book: 0 the finest, k the venue's k-th coarser one */
	const char *interval;		/* klines */
	int64		since_us;		/* history: PERPS_TS_NONE when not given */
	int64		until_us;
	int			limit;			/* rows wanted; 0: the venue's default page */
	const char *cursor;			/* history: the page token to go on from (NULL: none); a trade
								 * id where the venue pages trades by id */
	bool		no_refresh;		/* a market missing from perps_stats.markets fails the job
								 * (the caller refreshed its venue already) */
	bool		held;			/* perps_fetch_many_cb: sent only once released
								 * (perps_fetch_release); never released: not sent, the job
								 * fails with PERPS_HTTP_UNSENT */

	/* out */
	bool		ok;
	int			exchange_id;
	int			market_id;		/* perps_stats.markets.id; 0 when not listed there */
	const char *global_symbol;
	const char *native_symbol;
	PerpsResult result;			/* when ok: venue units, multiply qty-like fields by qty_mult */
	int			sqlstate;		/* when not ok */
	char	   *errmsg;
	char	   *errdetail;
} PerpsFetchJob;

/*
 * Resolves each job's venue and market (refreshing a venue's markets when
 * needed), runs all their requests concurrently (each venue within its rate
 * limit, retried as the HTTP layer does) and parses them.  A job's failure,
 * including an unknown venue or market, is recorded in the job; only a
 * query cancel or a termination is raised.
 */
extern void perps_fetch_many(PerpsFetchJob *jobs, int njobs);

/*
 * The same, calling on_job(job, arg) as each job ends (its answers parsed,
 * or failed), from inside the HTTP loop while the other jobs' requests are
 * in flight or wait for their venue's limit, and at the end for jobs that
 * failed before sending anything.  What on_job raises ends the whole batch
 * (the HTTP layer lets go of its transfers): run what may fail for one job
 * only guarded (guard.h).
 */
extern void perps_fetch_many_cb(PerpsFetchJob *jobs, int njobs,
								void (*on_job) (PerpsFetchJob *job, void *arg), void *arg);

/*
 * From an on_job callback of perps_fetch_many_cb: a held job of the batch
 * goes now (a request that is only wanted if an earlier answer says so).
 */
extern void perps_fetch_release(PerpsFetchJob *job);

#endif							/* PERPS_REQUEST_H */
