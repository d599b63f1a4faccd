/*
 * libFuzzer harness for one venue's stream frame parser and the local
 * book (the venue is PERPS_FUZZ_VENUE, set by fuzz/run_stream.sh): every
 * frame is parsed; book events go through the sequence rule and into a
 * local book, as the stream worker does, so the book code sees hostile
 * prices and quantities too.  The input's first byte says the frame's
 * type (bit 0: binary), the rest is the frame; with bit 1 set the rest is
 * instead the answer to the venue's connect request (connect_parse, e.g.
 * KuCoin's bullet-public), for venues that have one.  `make fuzz-stream`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#ifndef PERPS_FUZZ_VENUE
#error "PERPS_FUZZ_VENUE must name the venue"
#endif
#include "stream_book.h"

typedef struct Chunk
{
	struct Chunk *next;
} Chunk;

static void *
arena_alloc(void *state, size_t size)
{
	Chunk	  **head = state;
	Chunk	   *c;

	if (size > (size_t) 256 * 1024 * 1024)
		return NULL;
	c = malloc(sizeof(Chunk) + size);
	if (c == NULL)
		return NULL;
	c->next = *head;
	*head = c;
	return c + 1;
}

static PerpsLocalBook book;
static bool book_ready;

/* the same side as two arrays of levels */
static bool
side_equal(const PerpsLocalSide *x, const PerpsLocalSide *y)
{
	if (x->n != y->n)
		return false;
	for (int i = 0; i < x->n; i++)
		if (strcmp(x->levels[i].price, y->levels[i].price) != 0 ||
			strcmp(x->levels[i].qty, y->levels[i].qty) != 0)
			return false;
	return true;
}

/*
 * Applies levels with perps_local_book_apply and checks the result against
 * perps_local_book_set level by level on a copy (where both succeed): the
 * bulk merge must be the same as the one-by-one rule.
 */
static void
apply_checked(bool bid, const PerpsLevel *levels, int n)
{
	PerpsLocalSide *side = bid ? &book.bids : &book.asks;
	PerpsLocalBook ref;
	PerpsLocalSide *rside = bid ? &ref.bids : &ref.asks;
	bool		ok_ref = true;

	perps_local_book_init(&ref);
	for (int i = 0; i < side->n; i++)
		(void) perps_local_book_set(&ref, bid, side->levels[i].price, side->levels[i].qty);
	for (int i = 0; i < n && ok_ref; i++)
		ok_ref = perps_local_book_set(&ref, bid, levels[i].price, levels[i].qty);
	if (perps_local_book_apply(&book, bid, levels, n) && ok_ref && !side_equal(side, rside))
		abort();				/* the merge and the one-by-one rule disagree */
	perps_local_book_free(&ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const PerpsAdapter *a = perps_adapter_find(PERPS_FUZZ_VENUE);
	const PerpsStreamAdapter *sa = a ? a->stream : NULL;
	Chunk	   *head = NULL;
	PerpsCtx	ctx;
	PerpsStreamFrame frame;

	if (sa == NULL)
		abort();				/* the venue has no stream side: a build error */
	if (size < 1)
		return 0;
	if (!book_ready)
	{
		perps_local_book_init(&book);
		book_ready = true;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.arena.alloc = arena_alloc;
	ctx.arena.state = &head;

	if ((data[0] & 2) != 0)
	{
		if (sa->connect_parse != NULL)
		{
			PerpsBody	body = {(const char *) data + 1, size - 1, 200};
			const char *url = NULL;
			int			ping_ms = 0;

			if (sa->connect_parse(&ctx, &body, "wss://example.invalid/", &url, &ping_ms) == PERPS_OK &&
				(url == NULL || ping_ms < 0))
				abort();		/* success must give a URL and a usable interval */
		}
	}
	else if ((sa->parse_frame_on != NULL ?
			  /* bits 2 and 3 of the type byte: the connection the frame came on */
			  sa->parse_frame_on(&ctx, ((data[0] >> 2) & 3) % (sa->nconnections > 0 ? sa->nconnections : 1),
								 (const char *) data + 1, size - 1, (data[0] & 1) != 0, &frame) :
			  sa->parse_frame(&ctx, (const char *) data + 1, size - 1, (data[0] & 1) != 0, &frame)) == PERPS_OK)
	{
		for (int i = 0; i < frame.nevents; i++)
		{
			PerpsStreamEvent *ev = &frame.events[i];
			PerpsSeqCheck chk;

			if (ev->kind != PERPS_EV_BOOK)
				continue;
			chk = sa->seq_rule(book.valid, book.seq, ev);
			if (chk == PERPS_SEQ_RESET)
				perps_local_book_clear(&book);
			if (chk == PERPS_SEQ_GAP || chk == PERPS_SEQ_STALE)
				continue;
			for (int s = 0; s < 2; s++)
				if (ev->has_span[s])
					(void) perps_local_book_keep_span(&book, s == 0, ev->span_from[s], ev->span_to[s]);
			/* quantities that are changes: the levels they change are looked up */
			for (int j = 0; ev->qty_is_change && j < ev->nbids + ev->nasks; j++)
				(void) perps_local_book_qty(&book, j < ev->nbids,
											j < ev->nbids ? ev->bids[j].price : ev->asks[j - ev->nbids].price);
			apply_checked(true, ev->bids, ev->nbids);
			apply_checked(false, ev->asks, ev->nasks);
			book.valid = true;
			book.seq = ev->seq;
			(void) perps_local_book_crossed(&book);
		}
	}
	while (head)
	{
		Chunk	   *n = head->next;

		free(head);
		head = n;
	}
	return 0;
}
