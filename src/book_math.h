/*-------------------------------------------------------------------------
 *
 * book_math.h
 *		Order-book math over numeric: validation of book arrays, mid price,
 *		liquidity depth, market depth and market-order slippage.  The C API
 *		that ingestion calls, and that the SQL functions in analytics.c wrap.
 *
 * A book side is a 2-D numeric[] of {price, qty} rows, best first: bids
 * descending, asks ascending (equal prices are allowed).  mid = (best bid +
 * best ask) / 2.  Everything is exact; the only inexact results (averages,
 * ratios in bps) are single numeric divisions of exact operands.
 *
 * Memory: all results are palloc'd in the current memory context.  Errors
 * are raised with ereport(ERROR) and an errcode.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_BOOK_MATH_H
#define PERPS_BOOK_MATH_H

#include "postgres.h"

#include "utils/array.h"
#include "utils/numeric.h"

#include "exactnum.h"

/* The liquidity_depth thresholds in bps, as value and scale (2.5 = 25, 1). */
typedef struct PerpsStdBps
{
	int64		v;
	int32		scale;
} PerpsStdBps;

#define PERPS_STD_BPS_COUNT 7
extern const PerpsStdBps perps_std_bps[PERPS_STD_BPS_COUNT];

/* The standard slippage order sizes, in quote currency. */
#define PERPS_STD_SIZES_COUNT 8
extern const int64 perps_std_sizes[PERPS_STD_SIZES_COUNT];

/*
 * The side and order size of a slippage call, checked: true for "buy",
 * false for "sell"; 22023 for any other side and for a notional that is
 * not a positive number (notional_datum: the argument, for the message).
 */
extern bool perps_slippage_args(const char *side, XNum notional, Datum notional_datum);

typedef struct PerpsNumSide
{
	int			nlevels;
	Numeric    *price;
	Numeric    *qty;
} PerpsNumSide;

typedef struct PerpsNumBook
{
	PerpsNumSide bids;
	PerpsNumSide asks;
} PerpsNumBook;

/*
 * Validates two 2-D numeric[] {{price,qty},...} arrays (best first) and
 * deconstructs them; ereports with an errcode on bad input (not 2-D with 2
 * columns, NULLs, price<=0, qty<0, NaN/Inf, unsorted side, crossed book).
 * An empty array ('{}') is an empty side.
 */
extern void perps_book_from_arrays(ArrayType *bids, ArrayType *asks, PerpsNumBook *book);

/*
 * Only the array checks of perps_book_from_arrays (shape, NULLs); the
 * values are checked by perps_book_check or perps_exact_book.
 */
extern void perps_book_deconstruct(ArrayType *bids, ArrayType *asks, PerpsNumBook *book);

/* The same checks for a book built by hand (price and qty arrays). */
extern void perps_book_check(const PerpsNumBook *book);

/* Number of columns of a liquidity_depth row filled by perps_book_liquidity_row */
/*
 * What a caller may hand the SQL functions (they are PUBLIC and reachable
 * over HTTP): levels per side (no venue sends more than a few thousand)
 * and thresholds per call.  Beyond them: program_limit_exceeded (54000).
 */
#define PERPS_MAX_BOOK_LEVELS 100000
#define PERPS_MAX_THRESHOLDS 1000

#define PERPS_LIQUIDITY_ROW_NATTS 17

/*
 * Fills one liquidity_depth row: values/nulls[17] = mid_price, bid_1bps,
 * bid_2_5bps, bid_5bps, bid_10bps, bid_20bps, bid_50bps, bid_100bps,
 * ask_1bps ... ask_100bps, max_bid_bps, max_ask_bps (all numeric Datums).
 * Returns false (nothing filled) when a side is empty and mid is undefined.
 */
extern bool perps_book_liquidity_row(const PerpsNumBook *book, Datum *values, bool *nulls);

#define PERPS_SLIPPAGE_STD_ROWS 16

typedef struct PerpsSlippageRow
{
	Numeric		amount;
	bool		is_buy;
	Numeric		mid_price;
	Numeric		avg_price;		/* NULL when infeasible */
	Numeric		slippage_bps;	/* NULL when infeasible */
	bool		feasible;
} PerpsSlippageRow;

/*
 * The standard slippage rows for sizes 1K, 10K, 50K, 100K, 500K, 1M, 5M,
 * 10M quote, buy and sell (16 rows, each size buy then sell).  Returns the
 * number of rows filled (0 when mid is undefined).
 */
extern int	perps_book_slippage_rows(const PerpsNumBook *book, PerpsSlippageRow *rows);

/* ------------------------------------------------------------------------
 * Lower level: a validated book in exact form, for the SQL functions.
 * ------------------------------------------------------------------------
 */
typedef struct PerpsExactSide
{
	int			n;

	/*
	 * The 64-bit lane, used when every price and quantity of the side is a
	 * plain value that fits: pv[i] = price * 10^ps, qv[i] = qty * 10^qs,
	 * ps and qs multiples of 4 (whole base-10000 digit groups), and pd[i],
	 * qd[i] the display scale of each value, so that results keep numeric's
	 * scales.  Levels are decoded into the lane as far as a computation
	 * needs (ndec levels so far; the whole side was checked before), from
	 * the element pointers in elem (NULL when the side was decoded whole).
	 * lcq[k] (scale ps + qs) and lcb[k] (scale qs) are the prefix sums of
	 * price * qty and qty over the best k levels, for k <= ncq and k <= ncb,
	 * with lcqd[k], lcbd[k] the largest display scale of their terms.
	 */
	bool		lane;
	int32		ps;
	int32		qs;
	int			ndec;
	const char **elem;
	const char *end;			/* end of the array's data */
	int64	   *pv;
	int64	   *qv;
	uint8	   *pd;
	uint8	   *qd;
	int			ncq;
	int			ncb;
	int32		cq_scale;		/* ps + qs when lcq was computed */
	int32		cb_scale;		/* qs when lcb was computed */
	int128	   *lcq;
	uint8	   *lcqd;
	int128	   *lcb;
	uint8	   *lcbd;

	/* The general form, when !lane; prefix sums NULL until needed. */
	XNum	   *price;
	XNum	   *qty;
	XNum	   *cum_quote;
	XNum	   *cum_base;
} PerpsExactSide;

typedef struct PerpsExactBook
{
	PerpsExactSide bids;
	PerpsExactSide asks;
	bool		has_mid;		/* false when a side is empty */
	XNum		mid;
} PerpsExactBook;

/* Price of level i (0-based) of a side, with its own display scale. */
extern XNum perps_exact_price(const PerpsExactSide *xs, int i);

/* Quantity of level i (0-based) of a side. */
extern XNum perps_exact_qty(const PerpsExactSide *xs, int i);

/* Decodes and validates (perps_book_check's errors). */
extern void perps_exact_book(const PerpsNumBook *book, PerpsExactBook *xb);

/* The same from the arrays, without deconstructing them first. */
extern void perps_exact_from_arrays(ArrayType *bids, ArrayType *asks, PerpsExactBook *xb);

/*
 * Levels of one side within fraction f of mid, inclusive: bids with price
 * >= mid - mid*f, asks with price <= mid + mid*f.  Sets the quote notional
 * (or the base quantity when base is true) of those levels and whether the
 * side's deepest level lies at or beyond the threshold.  Requires has_mid.
 */
extern XNum perps_exact_within(PerpsExactBook *xb, bool bids, XNum f, bool base, bool *complete);

/* distance of the deepest level of a side from mid, in bps (numeric division) */
extern Numeric perps_exact_max_bps(const PerpsExactBook *xb, bool bids);

/* The figures of liquidity_depth or market_depth, one per threshold. */
typedef struct PerpsDepthResult
{
	XNum		mid;
	XNum	   *fig[2];			/* [0] bids, [1] asks: n figures each */
	bool	   *complete[2];	/* the same for the *_complete flags */
} PerpsDepthResult;

/*
 * liquidity_depth's notionals (base false) or market_depth's volumes (base
 * true) for n thresholds (fractions of mid, as perps_exact_within takes
 * them) in one pass over each side's array, without decoding the sides
 * first.  Fills the caller's arrays in res.  Returns false, having reported
 * nothing, when the one-pass form does not take the book (an empty side, a
 * value or sum it does not hold, any bad input): the caller then takes
 * perps_exact_from_arrays and perps_exact_within, which report what is
 * wrong.
 */
extern bool perps_depth_from_arrays(ArrayType *bids, ArrayType *asks, int n,
									const XNum *fractions, bool base,
									PerpsDepthResult *res);

typedef struct PerpsSlippage
{
	bool		feasible;
	int			levels_used;
	Numeric		avg_price;		/* NULL when infeasible */
	Numeric		slippage_bps;	/* NULL when infeasible */
	Numeric		filled_base;
	Numeric		filled_quote;
} PerpsSlippage;

/*
 * A slippage result as slippage()'s first seven columns (mid_price,
 * avg_price, slippage_bps, filled_base, filled_quote, levels_used,
 * feasible) into values/nulls; as a stored row of an order size.
 */
extern void perps_slippage_values(const PerpsSlippage *res, XNum mid, Datum *values, bool *nulls);
extern void perps_slippage_row(PerpsSlippageRow *row, Numeric amount, bool is_buy, Numeric mid,
							   const PerpsSlippage *res);

/* A market order of notional quote (> 0): buy walks the asks, sell the bids. */
extern void perps_exact_slippage(PerpsExactBook *xb, bool is_buy, XNum notional, PerpsSlippage *res);

/*
 * perps_exact_slippage from the arrays in one pass over each side: the side
 * the order walks is decoded only as far as the order fills, the rest of
 * the book only checked.  Sets mid.  Returns false, having reported
 * nothing, when the one-pass form does not take the book; the caller then
 * takes perps_exact_from_arrays and perps_exact_slippage.
 */
extern bool perps_slippage_from_arrays(ArrayType *bids, ArrayType *asks, bool is_buy,
									   XNum notional, XNum *mid, PerpsSlippage *res);

#endif							/* PERPS_BOOK_MATH_H */
