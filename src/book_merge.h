/*-------------------------------------------------------------------------
 *
 * book_merge.h
 *		Liquidity depth and slippage over several books of one market taken
 *		at different resolutions (a venue's finest book and its coarser
 *		aggregations, such as Hyperliquid's nSigFigs), finest first.
 *
 * The merge rule (README, "Multi-resolution books"):
 *
 *	- mid is the finest book's: (best bid + best ask) / 2 of book 0.
 *	- depth: for each threshold and side, the figure comes from the finest
 *	  book whose side reaches the threshold (its deepest level at or beyond
 *	  mid * (1 -/+ bps / 10^4)); within that book the levels are counted as
 *	  liquidity_depth counts them, by their price.  A coarse level's price is
 *	  the venue's label of its bucket; venues label a bid bucket by its
 *	  lowest price and an ask bucket by its highest (the price farthest from
 *	  mid), so a coarse level counted lies wholly within the threshold.
 *	  When no book reaches the threshold, the book that reaches farthest
 *	  gives a lower bound (complete false).
 *	- slippage walks the finest book while it lasts, then each coarser
 *	  book's levels priced strictly beyond the deepest price walked so far
 *	  (the coarse tail), in book order.
 *	- max_bid_bps / max_ask_bps: the deepest level of any of the books.
 *
 * Every book is validated as the single-book functions validate one
 * (perps_book_check's errors), whether or not its levels are needed.
 *
 * Memory: results are palloc'd in the current memory context.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_BOOK_MERGE_H
#define PERPS_BOOK_MERGE_H

#include "postgres.h"

#include "book_math.h"

/* The most books of one market (resolutions) a merge takes. */
#define PERPS_MAX_RESOLUTIONS 8

/* What perps_merge_depth gives per threshold (fractions of mid), per side ([0] bids, [1] asks). */
typedef struct PerpsMergeDepth
{
	XNum	   *fig[2];
	bool	   *complete[2];
	int		   *resolution[2];	/* the book (0-based) the figure came from */
} PerpsMergeDepth;

/*
 * Sets every coarser book's mid to the finest book's (xbs[0] must have a
 * mid): the thresholds of all books are then measured from it.
 */
extern void perps_merge_prepare(PerpsExactBook *xbs, int nb);

/* The figures of n thresholds into the caller's arrays in res (perps_merge_prepare first). */
extern void perps_merge_depth(PerpsExactBook *xbs, int nb, int n, const XNum *fractions,
							  PerpsMergeDepth *res);

/*
 * The same for the thresholds whose figure book 0 did not complete: res
 * holds book 0's figures for every threshold (resolution 0); those with
 * complete false are taken from the coarser books where one reaches
 * further.
 */
extern void perps_merge_depth_tail(PerpsExactBook *xbs, int nb, int n, const XNum *fractions,
								   PerpsMergeDepth *res);

/* distance of the deepest level of a side over all the books from mid, in bps */
extern Numeric perps_merge_max_bps(const PerpsExactBook *xbs, int nb, bool bids);

/* A market order over the merged book; *resolution the book it filled in (or ended in). */
extern void perps_merge_slippage(PerpsExactBook *xbs, int nb, bool is_buy, XNum notional,
								 PerpsSlippage *res, int *resolution);

/*
 * The rows ingestion stores, from books given as Numeric arrays (the C
 * API): a liquidity_depth row as perps_book_liquidity_row fills it, and the
 * standard slippage rows as perps_book_slippage_rows does, with the
 * coarsest book (0-based) any figure of the row came from in *resolution,
 * and per slippage row in resolutions[].  nb = 1 is exactly the
 * single-book computation.
 */
extern bool perps_merged_liquidity_row(const PerpsNumBook *books, int nb, Datum *values, bool *nulls,
									   int *resolution);
extern int	perps_merged_slippage_rows(const PerpsNumBook *books, int nb, PerpsSlippageRow *rows,
									   int *resolutions);

/*
 * Whether both sides of the merged book reach fraction f of the finest
 * book's mid (bps / 10^4); false when the finest book has no mid.  Raises
 * perps_book_check's errors.
 */
extern bool perps_merged_reaches(const PerpsNumBook *books, int nb, XNum f);

#endif							/* PERPS_BOOK_MERGE_H */
