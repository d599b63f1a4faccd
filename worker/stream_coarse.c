/*-------------------------------------------------------------------------
 *
 * stream_coarse.c
 *		The coarser books of a stream worker's snapshot ticks (issue 19):
 *		where the venue serves coarser aggregations of its book (adapter.h,
 *		book_resolutions, or the market's own steps with book_step_param:
 *		markets.book_steps, read with the watched markets) and the streamed
 *		book does not reach 100 bps of
 *		mid on both sides, the stored liquidity_depth and slippage rows come
 *		from the streamed book merged with coarser books fetched by REST
 *		(book_merge.h), as collect() stores them.
 *
 * Cost: the coarser books are fetched one after the other, each only while
 * the books so far fall short, and then reused until the next refresh,
 * STREAM_COARSE_REFRESH_MS later (their far levels change slowly; the near
 * levels come from the stream).  A refresh is spread over the snapshot
 * ticks, one request at a time and one every STREAM_COARSE_SPACING_MS for
 * the whole worker, so that the event loop never waits on more than one
 * request (a trade refetch or a flush behind it would be late).  So a
 * market costs at most (resolutions - 1) REST requests a minute, counted
 * against the venue's shared rate limit like every REST call of the
 * worker; a fetch that fails ends the refresh until the next one.
 *
 * Memory: each coarser book lives in a context of its own under
 * stream_cxt, emptied when it is refetched.
 *
 *-------------------------------------------------------------------------
 */
#include "stream_int.h"

#include <limits.h>

#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "book_merge.h"

/* a market's coarser books are refreshed at most this often */
#define STREAM_COARSE_REFRESH_MS 60000
/* the worker sends one coarser-book request at most this often (all markets together) */
#define STREAM_COARSE_SPACING_MS 2000
/* how far the books must reach: the deepest liquidity_depth threshold, in bps */
#define STREAM_COARSE_REACH_BPS 100

typedef struct StreamCoarse
{
	int32		market_id;		/* 0: a free slot */
	int			n;				/* coarser books held: books[0 .. n-1] */
	PerpsNumBook books[PERPS_MAX_RESOLUTIONS - 1];
	MemoryContext cxt[PERPS_MAX_RESOLUTIONS - 1];	/* each book's own */
	int			next_k;			/* the resolution a refresh fetches next; 0: none under way */
	TimestampTz refresh_at;		/* when the next refresh starts */
} StreamCoarse;

static StreamCoarse coarse[STREAM_MAX_MARKETS];
static TimestampTz next_fetch_at;	/* the worker's next coarser-book request */

static StreamCoarse *
coarse_slot(int32 market_id)
{
	StreamCoarse *slot = NULL;

	for (int i = 0; i < STREAM_MAX_MARKETS; i++)
	{
		if (coarse[i].market_id == market_id)
			return &coarse[i];
		if (coarse[i].market_id == 0 && slot == NULL)
			slot = &coarse[i];
	}
	/* more markets than slots over the worker's life: reuse the first */
	if (slot == NULL)
		slot = &coarse[0];
	for (int k = 0; k < PERPS_MAX_RESOLUTIONS - 1; k++)
	{
		if (slot->cxt[k] == NULL)
			slot->cxt[k] = AllocSetContextCreate(stream_cxt, "perps_stats stream coarse book",
												 ALLOCSET_SMALL_SIZES);
		else
			MemoryContextReset(slot->cxt[k]);
	}
	slot->market_id = market_id;
	slot->n = 0;
	slot->next_k = 0;
	slot->refresh_at = 0;
	return slot;
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

/* the refresh of c ends: the next one in STREAM_COARSE_REFRESH_MS */
static void
coarse_pass_done(StreamCoarse *c, TimestampTz now)
{
	c->next_k = 0;
	c->refresh_at = TimestampTzPlusMilliseconds(now, STREAM_COARSE_REFRESH_MS);
}

/*
 * Fetches resolution k of m's book into c (one REST request, in its own
 * transaction); false when it failed (the status says why).
 */
static bool
coarse_fetch(StreamMarket *m, StreamCoarse *c, int k)
{
	PerpsFetchJob job;
	MemoryContext old;

	MemoryContextReset(c->cxt[k - 1]);
	memset(&job, 0, sizeof(job));
	job.exchange = worker_status.exchange;
	job.symbol = m->symbol;
	job.method = PERPS_M_ORDERBOOK;
	job.depth = 1000;
	job.resolution = k;
	job.since_us = PERPS_TS_NONE;
	job.until_us = PERPS_TS_NONE;
	if (!stream_fetch(&job, c->cxt[k - 1], "perps_stats stream: fetching a coarser book") ||
		job.result.n < 1)
		return false;
	old = MemoryContextSwitchTo(c->cxt[k - 1]);
	coarse_num_book(&job, &c->books[k - 1]);
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * books[0] is the streamed book; fills books[1..] with the coarser ones
 * held for the market and returns how many books there are in all (1: the
 * streamed one reaches far enough, or the venue serves one book, or none
 * is held yet).  A refresh fetches one coarser book a call at most, the
 * next coarser one only while the books so far fall short, and the worker
 * one every STREAM_COARSE_SPACING_MS at most: a snapshot tick never waits
 * on more than one REST request.  Raises on a bad book.
 */
int
stream_coarse_books(StreamMarket *m, PerpsNumBook *books)
{
	const XNum	reach = xn_make(STREAM_COARSE_REACH_BPS, 4);
	int			nres;
	StreamCoarse *c;
	TimestampTz now;

	if (stream_adapter == NULL)
		return 1;
	if (stream_adapter->book_step_param != NULL)
		nres = Min(m->nbook_res, PERPS_MAX_RESOLUTIONS);
	else if (stream_adapter->book_resolutions != NULL)
		nres = Min(perps_book_resolutions(stream_adapter), PERPS_MAX_RESOLUTIONS);
	else
		return 1;
	if (nres < 2 || perps_merged_reaches(books, 1, reach))
		return 1;

	c = coarse_slot(m->market_id);
	/* the market's steps may have shrunk since its books were fetched */
	c->n = Min(c->n, nres - 1);
	if (c->next_k >= nres)
		c->next_k = 0;
	now = GetCurrentTimestamp();
	if (c->next_k == 0 && now >= c->refresh_at)
		c->next_k = 1;
	if (c->next_k > 0 && now >= next_fetch_at)
	{
		int			k = c->next_k;

		next_fetch_at = TimestampTzPlusMilliseconds(now, STREAM_COARSE_SPACING_MS);
		if (!coarse_fetch(m, c, k))
		{
			c->n = Min(c->n, k - 1);
			coarse_pass_done(c, now);
		}
		else
		{
			for (int r = 0; r < k; r++)
				books[1 + r] = c->books[r];
			c->n = Max(c->n, k);
			if (k + 1 >= nres || perps_merged_reaches(books, 1 + k, reach))
			{
				c->n = k;		/* coarser ones held from before are not needed */
				coarse_pass_done(c, now);
			}
			else
				c->next_k = k + 1;
		}
	}
	for (int r = 0; r < c->n; r++)
		books[1 + r] = c->books[r];
	return 1 + c->n;
}

/*
 * m's resolutions from markets.book_steps as PostgreSQL prints a numeric[]
 * ("{0.1,1,10}"; NULL: unknown): for a venue with book_step_param, their
 * names, as many as the adapter takes (perps_market_book_resolutions); an
 * unknown or malformed list leaves one unnamed book, the venue's default.
 */
void
stream_coarse_steps(StreamMarket *m, const char *steps)
{
	char		buf[PERPS_MAX_BOOK_RESOLUTIONS * (PERPS_DECIMAL_MAX_LEN + 1) + 3];
	const char *st[PERPS_MAX_BOOK_RESOLUTIONS];
	PerpsMarketRef ref = {0};
	size_t		len;
	int			n = 0;
	char	   *p;

	m->nbook_res = 1;
	memset(m->book_labels, 0, sizeof(m->book_labels));
	if (stream_adapter == NULL || stream_adapter->book_step_param == NULL || steps == NULL)
		return;
	len = strlen(steps);
	if (len < 3 || len >= sizeof(buf) || steps[0] != '{' || steps[len - 1] != '}')
		return;
	memcpy(buf, steps + 1, len - 2);
	buf[len - 2] = '\0';
	for (p = buf; n < PERPS_MAX_BOOK_RESOLUTIONS;)
	{
		char	   *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (!perps_decimal_valid(p, strlen(p)))
			return;
		st[n++] = p;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	ref.book_steps = st;
	ref.nbook_steps = n;
	m->nbook_res = perps_market_book_resolutions(stream_adapter, &ref);
	for (int k = 0; k < m->nbook_res; k++)
	{
		const char *l = perps_book_label(stream_adapter, &ref, k, m->book_labels[k],
										 sizeof(m->book_labels[k]));

		if (l == NULL)
		{
			m->nbook_res = 1;	/* a step too long to name: the finest book only */
			memset(m->book_labels, 0, sizeof(m->book_labels));
			return;
		}
	}
}

/* The names of m's resolutions (NULL: unnamed books); buf has room for PERPS_MAX_BOOK_RESOLUTIONS + 1. */
const char *const *
stream_coarse_labels(const StreamMarket *m, const char **buf)
{
	if (stream_adapter == NULL)
		return NULL;
	if (stream_adapter->book_step_param == NULL)
		return stream_adapter->book_resolutions;
	if (m->book_labels[0][0] == '\0')
		return NULL;
	for (int k = 0; k <= PERPS_MAX_BOOK_RESOLUTIONS; k++)
		buf[k] = k < m->nbook_res && k < PERPS_MAX_BOOK_RESOLUTIONS ? m->book_labels[k] : NULL;
	return buf;
}
