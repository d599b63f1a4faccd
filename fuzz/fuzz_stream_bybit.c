/*
 * libFuzzer harness for Bybit's stream frame parser and the local book:
 * every frame is parsed; book events go through the sequence rule and
 * into a local book, as the stream worker does, so the book code sees
 * hostile prices and quantities too.  `make fuzz-stream`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
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
	extern const PerpsAdapter perps_adapter_bybit;
	const PerpsStreamAdapter *sa = perps_adapter_bybit.stream;
	Chunk	   *head = NULL;
	PerpsCtx	ctx;
	PerpsStreamFrame frame;

	if (!book_ready)
	{
		perps_local_book_init(&book);
		book_ready = true;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.arena.alloc = arena_alloc;
	ctx.arena.state = &head;

	if (sa->parse_frame(&ctx, (const char *) data, size, false, &frame) == PERPS_OK)
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
