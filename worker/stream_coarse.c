/*-------------------------------------------------------------------------
 *
 * stream_coarse.c
 *		The coarser books of a stream worker's snapshot ticks (issue 19):
 *		where the venue serves coarser aggregations of its book (adapter.h,
 *		book_resolutions) and the streamed book does not reach 100 bps of
 *		mid on both sides, the stored liquidity_depth and slippage rows come
 *		from the streamed book merged with coarser books fetched by REST
 *		(book_merge.h), as collect() stores them.
 *
 * Cost: the coarser books are fetched one after the other, each only while
 * the books so far fall short, and then reused for STREAM_COARSE_REFRESH_MS
 * (their far levels change slowly; the near levels come from the stream).
 * So a market costs at most (resolutions - 1) REST requests a minute,
 * counted against the venue's shared rate limit like every REST call of the
 * worker; a fetch that fails is not retried before the next refresh.
 *
 * Memory: each market's coarser books live in a context of their own under
 * stream_cxt, emptied when they are refetched.
 *
 *-------------------------------------------------------------------------
 */
#include "stream_int.h"

#include <limits.h>

#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "book_merge.h"

/* coarser books are refetched at most this often per market */
#define STREAM_COARSE_REFRESH_MS 60000
/* how far the books must reach: the deepest liquidity_depth threshold, in bps */
#define STREAM_COARSE_REACH_BPS 100

typedef struct StreamCoarse
{
	int32		market_id;		/* 0: a free slot */
	int			n;				/* coarser books held */
	PerpsNumBook books[PERPS_MAX_RESOLUTIONS - 1];
	TimestampTz fetched;
	MemoryContext cxt;
} StreamCoarse;

static StreamCoarse coarse[STREAM_MAX_MARKETS];

static StreamCoarse *
coarse_slot(int32 market_id)
{
	StreamCoarse *free_slot = NULL;

	for (int i = 0; i < STREAM_MAX_MARKETS; i++)
	{
		if (coarse[i].market_id == market_id)
			return &coarse[i];
		if (coarse[i].market_id == 0 && free_slot == NULL)
			free_slot = &coarse[i];
	}
	if (free_slot == NULL)
	{
		/* more markets than slots over the worker's life: reuse the first */
		free_slot = &coarse[0];
		MemoryContextReset(free_slot->cxt);
	}
	if (free_slot->cxt == NULL)
		free_slot->cxt = AllocSetContextCreate(stream_cxt, "perps_stats stream coarse books",
											   ALLOCSET_SMALL_SIZES);
	free_slot->market_id = market_id;
	free_slot->n = 0;
	free_slot->fetched = 0;
	return free_slot;
}

/* a fetched book as numeric arrays in base units, in the current context */
static void
coarse_num_book(const PerpsFetchJob *job, PerpsNumBook *book)
{
	const PerpsBook *b = job->result.u.book;
	Datum		bids = perps_book_side_array(job->exchange, b->bids, b->nbids, true,
											 job->result.qty_mult, INT_MAX);
	Datum		asks = perps_book_side_array(job->exchange, b->asks, b->nasks, false,
											 job->result.qty_mult, INT_MAX);

	perps_book_deconstruct(DatumGetArrayTypeP(bids), DatumGetArrayTypeP(asks), book);
}

/*
 * books[0] is the streamed book; fills books[1..] with the coarser ones it
 * needs and returns how many books there are in all (1: the streamed one
 * reaches far enough, or the venue serves one book).  Raises on a bad book.
 */
int
stream_coarse_books(StreamMarket *m, PerpsNumBook *books)
{
	const XNum	reach = xn_make(STREAM_COARSE_REACH_BPS, 4);
	int			nres;
	StreamCoarse *c;
	TimestampTz now;

	if (stream_adapter == NULL || stream_adapter->book_resolutions == NULL)
		return 1;
	nres = Min(perps_book_resolutions(stream_adapter), PERPS_MAX_RESOLUTIONS);
	if (nres < 2 || perps_merged_reaches(books, 1, reach))
		return 1;

	c = coarse_slot(m->market_id);
	now = GetCurrentTimestamp();
	if (c->fetched == 0 || now >= TimestampTzPlusMilliseconds(c->fetched, STREAM_COARSE_REFRESH_MS))
	{
		MemoryContext old;

		MemoryContextReset(c->cxt);
		c->n = 0;
		c->fetched = now;		/* a failure waits for the next refresh too */
		old = MemoryContextSwitchTo(c->cxt);
		for (int k = 1; k < nres; k++)
		{
			PerpsFetchJob job;

			memset(&job, 0, sizeof(job));
			job.exchange = worker_status.exchange;
			job.symbol = m->symbol;
			job.method = PERPS_M_ORDERBOOK;
			job.depth = 1000;
			job.resolution = k;
			job.since_us = PERPS_TS_NONE;
			job.until_us = PERPS_TS_NONE;
			if (!stream_fetch(&job, c->cxt, "perps_stats stream: fetching a coarser book") ||
				job.result.n < 1)
				break;
			coarse_num_book(&job, &c->books[c->n]);
			c->n++;
			books[c->n] = c->books[c->n - 1];
			if (perps_merged_reaches(books, 1 + c->n, reach))
				break;
		}
		MemoryContextSwitchTo(old);
	}
	for (int r = 0; r < c->n; r++)
		books[1 + r] = c->books[r];
	return 1 + c->n;
}
