/*-------------------------------------------------------------------------
 *
 * stream_book.h
 *		A local order book kept by a stream worker: the levels of both sides
 *		as exact decimal texts, sorted best first, updated by snapshots and
 *		deltas (qty 0 deletes a level).
 *
 * Plain C (no PostgreSQL API), like the adapters, so the book can be
 * fuzzed and checked outside the server.  Memory is malloc'd and bounded:
 * a side never holds more than PERPS_LOCAL_BOOK_MAX_LEVELS levels; an
 * update that would go beyond fails and the caller resyncs.  Prices and
 * quantities must be valid decimals (perps_decimal_valid) of at most
 * PERPS_DECIMAL_MAX_LEN characters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_STREAM_BOOK_H
#define PERPS_STREAM_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perps_json.h"

#define PERPS_LOCAL_BOOK_MAX_LEVELS 20000

typedef struct PerpsLocalLevel
{
	char		price[PERPS_DECIMAL_MAX_LEN + 1];
	char		qty[PERPS_DECIMAL_MAX_LEN + 1];
} PerpsLocalLevel;

typedef struct PerpsLocalSide
{
	bool		descending;		/* bids: best (highest) first */
	int			n;
	int			cap;
	PerpsLocalLevel *levels;
} PerpsLocalSide;

typedef struct PerpsLocalBook
{
	PerpsLocalSide bids;
	PerpsLocalSide asks;
	bool		valid;			/* a snapshot was applied and no gap since */
	int64_t		seq;			/* the venue's id of the last applied update */
	int64_t		ts_us;			/* the venue's time of the last applied update */
} PerpsLocalBook;

/* Compares two valid decimal texts by value: <0, 0, >0.  "1.50" equals "1.5" and "15e-1". */
extern int	perps_decimal_cmp(const char *a, const char *b);

/* True when a valid decimal text is zero ("0", "0.000", "-0e5"). */
extern bool perps_decimal_is_zero(const char *a);

extern void perps_local_book_init(PerpsLocalBook *book);
extern void perps_local_book_clear(PerpsLocalBook *book);	/* empties, keeps memory */
extern void perps_local_book_free(PerpsLocalBook *book);

/*
 * Keeps the best max_levels (at least 1) of each side and gives the memory
 * of the others back: the memory budget of a worker with many deep books.
 * Returns the levels dropped.
 */
extern int	perps_local_book_trim(PerpsLocalBook *book, int max_levels);

/*
 * Sets one level (qty 0: deletes it; deleting an absent price is no
 * error).  Returns false when the text is not a valid decimal, too long,
 * negative, or the side is full (nothing changed then).
 */
extern bool perps_local_book_set(PerpsLocalBook *book, bool bid, const char *price, const char *qty);

/*
 * Sets n levels of one side at once, in the order given (a later level of
 * the same price wins), as perps_local_book_set would one by one, but in
 * O(n log n + side) whatever their order: a hostile update of thousands
 * of levels in reverse order must not cost a quadratic number of moves.
 * All or nothing: false (the side unchanged) when a level is invalid, the
 * side would exceed PERPS_LOCAL_BOOK_MAX_LEVELS or memory runs out.
 */
struct PerpsLevel;
extern bool perps_local_book_apply(PerpsLocalBook *book, bool bid, const struct PerpsLevel *levels, int n);

/*
 * Drops the levels of one side priced outside [from, to] (either order;
 * both NULL: every level).  Returns false, nothing changed, when a bound
 * is not a valid decimal or only one is given.
 */
extern bool perps_local_book_keep_span(PerpsLocalBook *book, bool bid, const char *from, const char *to);
/* The quantity of one level (the book's own text), NULL when the price has none. */
extern const char *perps_local_book_qty(const PerpsLocalBook *book, bool bid, const char *price);

/* True when both sides have levels and best bid >= best ask. */
extern bool perps_local_book_crossed(const PerpsLocalBook *book);

#endif							/* PERPS_STREAM_BOOK_H */
