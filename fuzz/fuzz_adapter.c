/*-------------------------------------------------------------------------
 *
 * fuzz_adapter.c
 *		libFuzzer harness for one adapter's build and parse functions
 *		(through perps_adapter_build and perps_adapter_parse), compiled
 *		once per venue with -DPERPS_FUZZ_VENUE="<name>".
 *
 * Input layout: byte 0 picks the method, byte 1 the HTTP status handed to
 * the parser (200, 404, 422, 429, 500), byte 2 the query variant (symbol,
 * depth, interval, time range, limit); the rest are the response bodies,
 * separated by PERPS_FUZZ_SEP when the method makes several requests (a
 * missing body repeats the last one).  Every allocation goes to a list
 * freed after the run, as the server's memory context would be.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#ifndef PERPS_FUZZ_VENUE
#error "compile with -DPERPS_FUZZ_VENUE=\"venue\""
#endif

#define PERPS_FUZZ_SEP "\n--8<--\n"

typedef struct FuzzChunk
{
	struct FuzzChunk *next;
	max_align_t data[];
} FuzzChunk;

static void *
fuzz_alloc(void *state, size_t size)
{
	FuzzChunk **head = state;
	FuzzChunk  *c;

	if (size > 256 * 1024 * 1024)
		return NULL;
	c = malloc(sizeof(FuzzChunk) + size);
	if (c == NULL)
		return NULL;
	c->next = *head;
	*head = c;
	return c->data;
}

static void
fuzz_free_all(FuzzChunk *c)
{
	while (c)
	{
		FuzzChunk  *n = c->next;

		free(c);
		c = n;
	}
}

/* Touches every string of a result so ASAN sees reads past their ends. */
static size_t
fuzz_touch(const char *s)
{
	return s ? strlen(s) : 0;
}

static size_t
fuzz_walk(const PerpsResult *r)
{
	size_t		sum = fuzz_touch(r->qty_mult) + fuzz_touch(r->next_cursor);

	for (int i = 0; i < r->n; i++)
	{
		switch (r->method)
		{
			case PERPS_M_MARKETS:
				{
					const PerpsMarket *m = &r->u.markets[i];

					sum += fuzz_touch(m->symbol) + fuzz_touch(m->native_symbol) + fuzz_touch(m->base) +
						fuzz_touch(m->quote) + fuzz_touch(m->contract_size) + fuzz_touch(m->tick_size) +
						fuzz_touch(m->lot_size) + fuzz_touch(m->min_qty) + fuzz_touch(m->max_qty) +
						fuzz_touch(m->min_notional) + fuzz_touch(m->max_leverage) +
						fuzz_touch(m->funding_interval_hours);
					break;
				}
			case PERPS_M_TICKER:
			case PERPS_M_TICKERS:
				{
					const PerpsTicker *t = &r->u.tickers[i];

					sum += fuzz_touch(t->native_symbol) + fuzz_touch(t->last_price) + fuzz_touch(t->mark_price) +
						fuzz_touch(t->index_price) + fuzz_touch(t->best_bid_price) + fuzz_touch(t->best_bid_qty) +
						fuzz_touch(t->best_ask_price) + fuzz_touch(t->best_ask_qty) + fuzz_touch(t->volume_24h) +
						fuzz_touch(t->turnover_24h) + fuzz_touch(t->open_interest) +
						fuzz_touch(t->open_interest_notional) + fuzz_touch(t->price_change_24h) +
						fuzz_touch(t->price_change_pct) + fuzz_touch(t->high_24h) + fuzz_touch(t->low_24h) +
						fuzz_touch(t->contract_size);
					break;
				}
			case PERPS_M_ORDERBOOK:
				{
					const PerpsBook *b = r->u.book;

					for (int k = 0; k < b->nbids; k++)
						sum += fuzz_touch(b->bids[k].price) + fuzz_touch(b->bids[k].qty);
					for (int k = 0; k < b->nasks; k++)
						sum += fuzz_touch(b->asks[k].price) + fuzz_touch(b->asks[k].qty);
					break;
				}
			case PERPS_M_FUNDING:
			case PERPS_M_FUNDING_HISTORY:
				sum += fuzz_touch(r->u.funding[i].rate) + fuzz_touch(r->u.funding[i].predicted_rate) +
					fuzz_touch(r->u.funding[i].interval_hours);
				break;
			case PERPS_M_OPEN_INTEREST:
				sum += fuzz_touch(r->u.oi[i].open_interest) + fuzz_touch(r->u.oi[i].open_interest_notional);
				break;
			case PERPS_M_KLINES:
				{
					const PerpsKline *k = &r->u.klines[i];

					sum += fuzz_touch(k->open) + fuzz_touch(k->high) + fuzz_touch(k->low) +
						fuzz_touch(k->close) + fuzz_touch(k->volume) + fuzz_touch(k->turnover);
					break;
				}
			case PERPS_M_TRADES:
				sum += fuzz_touch(r->u.trades[i].trade_id) + fuzz_touch(r->u.trades[i].price) +
					fuzz_touch(r->u.trades[i].qty);
				break;
			default:
				break;
		}
	}
	return sum;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 200, 200, 404, 422, 429, 500};
	static const char *const symbols[][2] = {
		{"BTC", "BTCUSDT"}, {"BTC", "BTC"}, {"BTC", "XBTUSDTM"}, {"BTC", "BTC-USD-PERP"}, {"BTC", "1"},
		{"BTC", "BTC/USDT-P"},
	};
	static const char *const intervals[] = {"1m", "1h", "1d", "5m", "2w"};
	static const char *const fuzz_book_steps[] = {"0.1", "1", "10", "100"};
	const PerpsAdapter *ad = perps_adapter_find(PERPS_FUZZ_VENUE);
	FuzzChunk  *chunks = NULL;
	PerpsCtx	ctx;
	PerpsRequest reqs[PERPS_MAX_REQUESTS];
	PerpsBody	bodies[PERPS_MAX_REQUESTS];
	PerpsMarketRef mr;
	PerpsQuery	q;
	PerpsResult res;
	PerpsMethod m;
	int			nreq;
	uint8_t		v;
	const char *p;
	const char *end;
	volatile size_t sink;

	if (ad == NULL)
		abort();				/* the venue is not registered */
	if (size < 3)
		return 0;
	m = (PerpsMethod) (data[0] % PERPS_M_COUNT);
	v = data[2];

	memset(&ctx, 0, sizeof(ctx));
	ctx.arena.alloc = fuzz_alloc;
	ctx.arena.state = &chunks;
	memset(&mr, 0, sizeof(mr));
	mr.symbol = symbols[v % 6][0];
	mr.native_symbol = symbols[v % 6][1];
	mr.contract_size = (v & 8) ? "0.001" : NULL;
	memset(&q, 0, sizeof(q));
	q.market = (m == PERPS_M_MARKETS || m == PERPS_M_TICKERS) ? NULL : &mr;
	q.depth = (v & 16) ? 1 : 100;
	q.interval = intervals[(v >> 5) % 5];
	q.since_us = (v & 32) ? INT64_C(1706630400000000) : PERPS_TS_NONE;
	q.until_us = (v & 64) ? INT64_C(1706716800000000) : PERPS_TS_NONE;
	q.limit = (v & 128) ? 2 : 0;
	/* a token of some venue, or a decimal id (Binance fromId) */
	q.cursor = (v & 4) ? ((v & 2) ? "96446401" : "offset%3D500") : NULL;
	/* the venue row's parameter: a Hyperliquid HIP-3 DEX (the other adapters take none) */
	q.param = (data[1] & 0x80) ? "xyz" : NULL;
	/* a market with its own book steps (Hibachi's granularities), and a resolution of them */
	if (data[1] & 0x40)
	{
		mr.book_steps = fuzz_book_steps;
		mr.nbook_steps = 4;
	}
	q.resolution = (m == PERPS_M_ORDERBOOK && (data[1] & 0x40)) ? (data[1] >> 4) & 3 : 0;

	memset(reqs, 0, sizeof(reqs));
	nreq = perps_adapter_build(ad, &ctx, m, &q, reqs);
	if (nreq < 0)
	{
		if (ctx.status == PERPS_OK)
			abort();			/* a failure must say why */
		fuzz_free_all(chunks);
		return 0;
	}
	if (nreq == 0 || nreq > PERPS_MAX_REQUESTS)
		abort();
	for (int i = 0; i < nreq; i++)
		if (memchr(reqs[i].path, '\0', PERPS_PATH_MAX) == NULL || reqs[i].path[0] != '/')
			abort();

	/* the bodies */
	p = (const char *) data + 3;
	end = (const char *) data + size;
	for (int i = 0; i < nreq; i++)
	{
		const char *sep = NULL;
		size_t		seplen = strlen(PERPS_FUZZ_SEP);

		for (const char *s = p; s + seplen <= end; s++)
			if (memcmp(s, PERPS_FUZZ_SEP, seplen) == 0)
			{
				sep = s;
				break;
			}
		bodies[i].data = p;
		bodies[i].len = (size_t) ((sep ? sep : end) - p);
		bodies[i].status = statuses[data[1] % 7];
		if (sep)
			p = sep + seplen;
		else if (i + 1 < nreq)
		{
			/* repeat the last body for the remaining requests */
			for (int k = i + 1; k < nreq; k++)
				bodies[k] = bodies[i];
			break;
		}
	}
	/* a copy without slack, so that ASAN catches reads past the body */
	for (int i = 0; i < nreq; i++)
	{
		char	   *copy = fuzz_alloc(&chunks, bodies[i].len ? bodies[i].len : 1);

		if (copy == NULL)
			abort();
		memcpy(copy, bodies[i].data, bodies[i].len);
		bodies[i].data = copy;
	}

	memset(&res, 0, sizeof(res));
	if (perps_adapter_parse(ad, &ctx, m, &q, bodies, nreq, &res) == PERPS_OK)
	{
		if (ctx.status != PERPS_OK || res.n < 0 || res.n > 100000)
			abort();
		if ((m == PERPS_M_ORDERBOOK || m == PERPS_M_OPEN_INTEREST || m == PERPS_M_FUNDING ||
			 m == PERPS_M_TICKER) && res.n > 1)
			abort();
		sink = fuzz_walk(&res);
		(void) sink;
	}
	else if (ctx.status == PERPS_OK || ctx.errmsg[0] == '\0')
		abort();				/* a failure must say why */
	fuzz_free_all(chunks);
	return 0;
}
