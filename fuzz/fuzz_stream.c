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
	else if (sa->parse_frame(&ctx, (const char *) data + 1, size - 1, (data[0] & 1) != 0, &frame) == PERPS_OK)
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
			for (int k = 0; k < ev->nbids; k++)
				(void) perps_local_book_set(&book, true, ev->bids[k].price, ev->bids[k].qty);
			for (int k = 0; k < ev->nasks; k++)
				(void) perps_local_book_set(&book, false, ev->asks[k].price, ev->asks[k].qty);
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
