/*-------------------------------------------------------------------------
 *
 * fetch.h
 *		Fetching from the exchanges for C callers (collect(), backfills):
 *		many markets and methods of any venues in one concurrent HTTP run,
 *		with each job's failure recorded rather than raised, and the
 *		conversions the fetch_* SQL functions use.
 *
 * Memory: results, messages and Datums are allocated in the memory
 * context current at the call.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_FETCH_H
#define PERPS_FETCH_H

#include "postgres.h"

#include "adapter.h"

typedef struct PerpsFetchJob
{
	/* in */
	const char *exchange;		/* perps_stats.exchanges.name */
	const char *symbol;			/* global symbol; NULL for markets and all tickers */
	PerpsMethod method;
	int			depth;			/* order book levels wanted (0: 100) */
	const char *interval;		/* klines */
	int64		since_us;		/* history: PERPS_TS_NONE when not given */
	int64		until_us;
	int			limit;			/* rows wanted; 0: the venue's default page */
	const char *cursor;			/* history: the page token to go on from (NULL: none); a trade
								 * id where the venue pages trades by id */

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

/* Conversions: decimal text -> numeric; text x multiplier (NULL = 1); µs since 1970 -> timestamptz. */
extern Datum perps_fetch_numeric(const char *dec);
extern Datum perps_fetch_qty(const char *dec, const char *mult);
extern Datum perps_fetch_timestamptz(int64 us);

/*
 * A book side as a 2-D numeric[] {{price,qty},...}, best first: adjacent
 * equal prices merged, quantities times mult, at most depth levels; raises
 * data_exception when the side is not sorted (bids descending, asks
 * ascending) or a level lacks a price or quantity.
 */
extern Datum perps_fetch_book_side(const char *venue, const PerpsLevel *levels, int n, bool bids,
								   const char *mult, int depth);

/*
 * Runs fn(arg) in a subtransaction.  Returns NULL when it succeeded, else
 * its error (copied into the memory context current at the call), the
 * subtransaction rolled back.  A query cancel or a shutdown is raised
 * again: it ends the whole call.
 */
extern ErrorData *perps_run_guarded(void (*fn) (void *arg), void *arg);

#endif							/* PERPS_FETCH_H */
