/*-------------------------------------------------------------------------
 *
 * book_math.c
 *		Order-book math over numeric: validation, mid, depth within a
 *		threshold of mid, market-order slippage, and the rows ingestion
 *		stores in liquidity_depth and slippage.
 *
 * A side is decoded once and validated.  The common case takes the 64-bit
 * lane: every price and quantity as a 64-bit integer at the side's largest
 * scale, each value's own display scale kept beside it, prefix sums of
 * price * qty and qty in 128 bits.  A value that does not fit, or a sum
 * that would overflow, moves the side to the general form: XNums
 * (exactnum.h: scaled 128-bit integers while values fit, Numeric
 * otherwise).  Either way every sum is exact and has the display scale
 * numeric's operators would give it (sums keep the largest scale of their
 * terms, products add the scales), so a notional here equals sum(price *
 * qty) over the same levels in SQL, value and scale.  The inexact figures
 * (average price, filled base of a partial level, slippage and distances
 * in bps) are one numeric division each of two exact operands, so they
 * carry numeric_div's usual 16 or more significant digits and no
 * accumulated rounding.
 *
 * Thresholds are evaluated without division: with f = bps / 10^4 a bid is
 * within the threshold when price >= mid - mid * f, an ask when price <=
 * mid + mid * f.  Sides are sorted best first, so the levels within any
 * threshold are a prefix of the side, found by binary search over the
 * prices; the prefix sums give the figure.
 *
 * Memory: everything is palloc'd in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
/* arrayaccess.h's inline functions trip -Wsign-compare (part of -Wextra) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "utils/arrayaccess.h"
#pragma GCC diagnostic pop
#include "utils/lsyscache.h"

#include "book_math.h"

/* The liquidity_depth thresholds in bps, as value and scale (2.5 = 25, 1). */
static const struct
{
	int64		v;
	int32		scale;
}			bm_std_bps[] =
{
	{1, 0}, {25, 1}, {5, 0}, {10, 0}, {20, 0}, {50, 0}, {100, 0}
};

#define BM_STD_BPS_COUNT lengthof(bm_std_bps)

/* The standard slippage order sizes, in quote currency. */
static const int64 bm_std_sizes[] = {
	1000, 10000, 50000, 100000, 500000, 1000000, 5000000, 10000000
};

StaticAssertDecl(1 + 2 * lengthof(bm_std_bps) + 2 == PERPS_LIQUIDITY_ROW_NATTS,
				 "liquidity_depth row layout");
StaticAssertDecl(2 * lengthof(bm_std_sizes) == PERPS_SLIPPAGE_STD_ROWS,
				 "slippage row count");

static char *
bm_numeric_text(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
}

/* Checks the shape of a side's array; returns the number of levels. */
static int
bm_check_shape(ArrayType *arr, const char *name)
{
	if (ARR_ELEMTYPE(arr) != NUMERICOID)
		elog(ERROR, "order book %s: expected a numeric array", name);
	if (ARR_NDIM(arr) == 0)
		return 0;
	if (ARR_NDIM(arr) != 2 || ARR_DIMS(arr)[1] != 2)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("order book %s must be a two-dimensional array with two columns", name),
				 ARR_NDIM(arr) != 2 ?
				 errdetail("The array has %d dimensions.", ARR_NDIM(arr)) :
				 errdetail("The array has %d columns.", ARR_DIMS(arr)[1]),
				 errhint("Pass levels as {{price,qty},...}, best level first.")));
	return ARR_DIMS(arr)[0];
}

static void
bm_side_from_array(ArrayType *arr, const char *name, PerpsNumSide *side)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			i;

	side->nlevels = 0;
	side->price = NULL;
	side->qty = NULL;
	if (bm_check_shape(arr, name) == 0)
		return;

	deconstruct_array(arr, NUMERICOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	side->nlevels = nelems / 2;
	side->price = palloc(sizeof(Numeric) * side->nlevels);
	side->qty = palloc(sizeof(Numeric) * side->nlevels);
	for (i = 0; i < side->nlevels; i++)
	{
		if (nulls[2 * i] || nulls[2 * i + 1])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("order book %s level %d has a NULL %s", name, i + 1,
							nulls[2 * i] ? "price" : "quantity")));
		side->price[i] = DatumGetNumeric(elems[2 * i]);
		side->qty[i] = DatumGetNumeric(elems[2 * i + 1]);
	}
	pfree(elems);
	pfree(nulls);
}

void
perps_book_deconstruct(ArrayType *bids, ArrayType *asks, PerpsNumBook *book)
{
	bm_side_from_array(bids, "bids", &book->bids);
	bm_side_from_array(asks, "asks", &book->asks);
}

void
perps_book_from_arrays(ArrayType *bids, ArrayType *asks, PerpsNumBook *book)
{
	PerpsExactBook xb;

	perps_book_deconstruct(bids, asks, book);
	perps_exact_book(book, &xb);
}

static pg_noinline void
bm_level_error(const char *name, int level, XNum p, XNum q)
{
	if (xn_is_special(p) || xn_is_special(q))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order book %s level %d has a %s that is not a finite number",
						name, level, xn_is_special(p) ? "price" : "quantity"),
				 errdetail("The value is %s.",
						   bm_numeric_text(xn_is_special(p) ? p.n : q.n))));
	if (xn_sign(p) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("order book %s level %d has a price that is not positive", name, level),
				 errdetail("The price is %s.", bm_numeric_text(xn_to_numeric(p)))));
	if (xn_sign(q) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("order book %s level %d has a negative quantity", name, level),
				 errdetail("The quantity is %s.", bm_numeric_text(xn_to_numeric(q)))));
}

static pg_noinline void
bm_order_error(const char *name, int level, XNum p, XNum prev)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("order book %s are not sorted best first", name),
			 errdetail("Level %d has price %s after price %s.", level,
					   bm_numeric_text(xn_to_numeric(p)),
					   bm_numeric_text(xn_to_numeric(prev))),
			 errhint("Bids go by descending price, asks by ascending price.")));
}

/* Checks level i (0-based) of a side and stores it. */
static inline void
bm_put_level(PerpsExactSide *xs, int i, XNum p, XNum q, const char *name, bool is_bids)
{
	if (unlikely(p.big || q.big) && (xn_is_special(p) || xn_is_special(q)))
		bm_level_error(name, i + 1, p, q);
	if (unlikely(xn_sign(p) <= 0 || xn_sign(q) < 0))
		bm_level_error(name, i + 1, p, q);
	if (i > 0)
	{
		int			c = xn_cmp(p, xs->price[i - 1]);

		if (unlikely(is_bids ? c > 0 : c < 0))
			bm_order_error(name, i + 1, p, xs->price[i - 1]);
	}
	xs->price[i] = p;
	xs->qty[i] = q;
}

static void
bm_side_init(PerpsExactSide *xs, int n)
{
	xs->n = n;
	xs->lane = false;
	xs->lcq = NULL;
	xs->lcb = NULL;
	xs->price = palloc(sizeof(XNum) * Max(n, 1));
	xs->qty = palloc(sizeof(XNum) * Max(n, 1));
	xs->cum_quote = NULL;
	xs->cum_base = NULL;
}

static pg_noinline void
bm_null_error(const char *name, int level, bool price_null)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("order book %s level %d has a NULL %s", name, level,
					price_null ? "price" : "quantity")));
}

/* 10^k as int64, k <= XN_INT64_MAX_SCALE */
#define BM_POW10_64(k) ((int64) xn_pow10[k])

XNum
perps_exact_price(const PerpsExactSide *xs, int i)
{
	if (xs->lane)
		return xn_make(xs->pv[i] / BM_POW10_64(xs->ps - xs->pd[i]), xs->pd[i]);
	return xs->price[i];
}

static inline XNum
bm_qty(const PerpsExactSide *xs, int i)
{
	if (xs->lane)
		return xn_make(xs->qv[i] / BM_POW10_64(xs->qs - xs->qd[i]), xs->qd[i]);
	return xs->qty[i];
}

static void
bm_lane_init(PerpsExactSide *xs)
{
	int			n = Max(xs->n, 1);

	xs->pv = palloc(sizeof(int64) * n);
	xs->qv = palloc(sizeof(int64) * n);
	xs->pd = palloc(sizeof(uint8) * n);
	xs->qd = palloc(sizeof(uint8) * n);
	xs->ps = 0;
	xs->qs = 0;
}

/* Decodes level i into the lane; false when a value does not fit. */
static inline bool
bm_lane_put(PerpsExactSide *xs, int i, Datum pd, Datum qd)
{
	int32		dp,
				dq;

	if (unlikely(!xn_decode_int64(pd, &xs->pv[i], &dp)) ||
		unlikely(!xn_decode_int64(qd, &xs->qv[i], &dq)))
		return false;
	xs->pd[i] = (uint8) dp;
	xs->qd[i] = (uint8) dq;
	xs->ps = Max(xs->ps, dp);
	xs->qs = Max(xs->qs, dq);
	return true;
}

/*
 * Brings the lane to the side's common scales and checks the values;
 * false when a value does not fit at the common scale.
 */
static bool
bm_lane_finish(PerpsExactSide *xs, const char *name, bool is_bids)
{
	int			i;

	/*
	 * The lane holds the side unless a value turns out not to fit; values
	 * are checked in level order, as the general path does, so the first
	 * bad level is reported either way.
	 */
	xs->lane = true;
	for (i = 0; i < xs->n; i++)
	{
		if (xs->pd[i] != xs->ps &&
			__builtin_mul_overflow(xs->pv[i], BM_POW10_64(xs->ps - xs->pd[i]), &xs->pv[i]))
			break;
		if (xs->qd[i] != xs->qs &&
			__builtin_mul_overflow(xs->qv[i], BM_POW10_64(xs->qs - xs->qd[i]), &xs->qv[i]))
			break;
		if (unlikely(xs->pv[i] <= 0 || xs->qv[i] < 0))
			bm_level_error(name, i + 1, perps_exact_price(xs, i), bm_qty(xs, i));
		if (i > 0 && unlikely(is_bids ? xs->pv[i] > xs->pv[i - 1] : xs->pv[i] < xs->pv[i - 1]))
			bm_order_error(name, i + 1, perps_exact_price(xs, i), perps_exact_price(xs, i - 1));
	}
	xs->lane = (i == xs->n);
	return xs->lane;
}

/*
 * Tries the 64-bit lane for a side given as an array.  Returns false, with
 * nothing reported, when a value does not fit (or is NULL, NaN or
 * infinite): the general path then decodes the side and reports what is
 * wrong.  Errors in values that fit are reported here.
 */
static bool
bm_lane_from_array(ArrayType *arr, const char *name, bool is_bids, PerpsExactSide *xs)
{
	array_iter	it;
	int			i;

	bm_lane_init(xs);
	array_iter_setup(&it, (AnyArrayType *) arr);
	for (i = 0; i < xs->n; i++)
	{
		bool		pnull,
					qnull;
		Datum		pd = array_iter_next(&it, &pnull, 2 * i, -1, false, TYPALIGN_INT);
		Datum		qd = array_iter_next(&it, &qnull, 2 * i + 1, -1, false, TYPALIGN_INT);

		if (unlikely(pnull || qnull) || !bm_lane_put(xs, i, pd, qd))
			return false;
	}
	return bm_lane_finish(xs, name, is_bids);
}

/* The same for a side given as Numeric arrays (the C API). */
static bool
bm_lane_from_side(const PerpsNumSide *side, const char *name, bool is_bids, PerpsExactSide *xs)
{
	int			i;

	bm_lane_init(xs);
	for (i = 0; i < xs->n; i++)
	{
		if (side->price[i] == NULL || side->qty[i] == NULL ||
			!bm_lane_put(xs, i, NumericGetDatum(side->price[i]), NumericGetDatum(side->qty[i])))
			return false;
	}
	return bm_lane_finish(xs, name, is_bids);
}

static void
bm_exact_side(const PerpsNumSide *side, const char *name, bool is_bids,
			  PerpsExactSide *xs)
{
	int			i;

	xs->n = side->nlevels;
	xs->lane = false;
	xs->lcq = NULL;
	xs->lcb = NULL;
	if (bm_lane_from_side(side, name, is_bids, xs))
		return;

	bm_side_init(xs, side->nlevels);
	for (i = 0; i < xs->n; i++)
	{
		if (side->price[i] == NULL || side->qty[i] == NULL)
			bm_null_error(name, i + 1, side->price[i] == NULL);
		bm_put_level(xs, i, xn_from_datum(NumericGetDatum(side->price[i])),
					 xn_from_datum(NumericGetDatum(side->qty[i])), name, is_bids);
	}
}

/* Decodes a side straight from its array, without deconstructing it. */
static void
bm_exact_side_from_array(ArrayType *arr, const char *name, bool is_bids,
						 PerpsExactSide *xs)
{
	array_iter	it;
	int			n = bm_check_shape(arr, name);
	int			i;

	xs->n = n;
	xs->lane = false;
	xs->lcq = NULL;
	xs->lcb = NULL;
	xs->price = NULL;
	xs->qty = NULL;
	xs->cum_quote = NULL;
	xs->cum_base = NULL;
	if (bm_lane_from_array(arr, name, is_bids, xs))
		return;

	bm_side_init(xs, n);
	array_iter_setup(&it, (AnyArrayType *) arr);
	for (i = 0; i < xs->n; i++)
	{
		bool		pnull,
					qnull;
		Datum		pd = array_iter_next(&it, &pnull, 2 * i, -1, false, TYPALIGN_INT);
		Datum		qd = array_iter_next(&it, &qnull, 2 * i + 1, -1, false, TYPALIGN_INT);

		if (unlikely(pnull || qnull))
			bm_null_error(name, i + 1, pnull);
		bm_put_level(xs, i, xn_from_datum(pd), xn_from_datum(qd), name, is_bids);
	}
}

/* Moves a side from the lane to the general form (when a sum overflows). */
static void
bm_lane_drop(PerpsExactSide *xs)
{
	int			i;

	if (!xs->lane)
		return;
	xs->price = palloc(sizeof(XNum) * Max(xs->n, 1));
	xs->qty = palloc(sizeof(XNum) * Max(xs->n, 1));
	for (i = 0; i < xs->n; i++)
	{
		xs->price[i] = perps_exact_price(xs, i);
		xs->qty[i] = bm_qty(xs, i);
	}
	xs->cum_quote = NULL;
	xs->cum_base = NULL;
	xs->lane = false;
}

/* Fills the lane's prefix sums of price * qty; false when one overflows. */
static bool
bm_lane_cum_quote(PerpsExactSide *xs)
{
	int			i;

	if (xs->lcq != NULL)
		return true;
	xs->lcq = palloc(sizeof(int128) * (xs->n + 1));
	xs->lcqd = palloc(sizeof(uint8) * (xs->n + 1));
	xs->lcq[0] = 0;
	xs->lcqd[0] = 0;
	for (i = 0; i < xs->n; i++)
	{
		if (unlikely(__builtin_add_overflow(xs->lcq[i], (int128) xs->pv[i] * xs->qv[i],
											&xs->lcq[i + 1])))
		{
			xs->lcq = NULL;
			return false;
		}
		xs->lcqd[i + 1] = Max(xs->lcqd[i], xs->pd[i] + xs->qd[i]);
	}
	return true;
}

/* Fills the lane's prefix sums of qty (n 64-bit terms cannot overflow 128 bits). */
static void
bm_lane_cum_base(PerpsExactSide *xs)
{
	int			i;

	if (xs->lcb != NULL)
		return;
	xs->lcb = palloc(sizeof(int128) * (xs->n + 1));
	xs->lcbd = palloc(sizeof(uint8) * (xs->n + 1));
	xs->lcb[0] = 0;
	xs->lcbd[0] = 0;
	for (i = 0; i < xs->n; i++)
	{
		xs->lcb[i + 1] = xs->lcb[i] + xs->qv[i];
		xs->lcbd[i + 1] = Max(xs->lcbd[i], xs->qd[i]);
	}
}

static void
bm_exact_mid(PerpsExactBook *xb)
{
	XNum		bb,
				ba;

	xb->has_mid = xb->bids.n > 0 && xb->asks.n > 0;
	if (!xb->has_mid)
	{
		xb->mid = xn_make(0, 0);
		return;
	}
	bb = perps_exact_price(&xb->bids, 0);
	ba = perps_exact_price(&xb->asks, 0);
	if (xn_cmp(bb, ba) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order book is crossed"),
				 errdetail("The best bid %s is not below the best ask %s.",
						   bm_numeric_text(xn_to_numeric(bb)),
						   bm_numeric_text(xn_to_numeric(ba)))));
	xb->mid = xn_half_sum(bb, ba);
}

void
perps_exact_from_arrays(ArrayType *bids, ArrayType *asks, PerpsExactBook *xb)
{
	bm_exact_side_from_array(bids, "bids", true, &xb->bids);
	bm_exact_side_from_array(asks, "asks", false, &xb->asks);
	bm_exact_mid(xb);
}

void
perps_exact_book(const PerpsNumBook *book, PerpsExactBook *xb)
{
	bm_exact_side(&book->bids, "bids", true, &xb->bids);
	bm_exact_side(&book->asks, "asks", false, &xb->asks);
	bm_exact_mid(xb);
}

void
perps_book_check(const PerpsNumBook *book)
{
	PerpsExactBook xb;

	perps_exact_book(book, &xb);
}

/* Sum of price * qty over the best k levels of a side. */
static XNum
bm_cumq(PerpsExactSide *xs, int k)
{
	int			i;

	if (xs->lane && !bm_lane_cum_quote(xs))
		bm_lane_drop(xs);
	if (xs->lane)
	{
		int			d = xs->lcqd[k];

		return xn_small(xs->lcq[k] / xn_pow10[xs->ps + xs->qs - d], d);
	}
	if (xs->cum_quote == NULL)
	{
		xs->cum_quote = palloc(sizeof(XNum) * (xs->n + 1));
		xs->cum_quote[0] = xn_make(0, 0);
		for (i = 0; i < xs->n; i++)
			xs->cum_quote[i + 1] = xn_add(xs->cum_quote[i], xn_mul(xs->price[i], xs->qty[i]));
	}
	return xs->cum_quote[k];
}

/* Sum of qty over the best k levels of a side. */
static XNum
bm_cumb(PerpsExactSide *xs, int k)
{
	int			i;

	if (xs->lane)
	{
		int			d;

		bm_lane_cum_base(xs);
		d = xs->lcbd[k];

		return xn_small(xs->lcb[k] / xn_pow10[xs->qs - d], d);
	}
	if (xs->cum_base == NULL)
	{
		xs->cum_base = palloc(sizeof(XNum) * (xs->n + 1));
		xs->cum_base[0] = xn_make(0, 0);
		for (i = 0; i < xs->n; i++)
			xs->cum_base[i + 1] = xn_add(xs->cum_base[i], xs->qty[i]);
	}
	return xs->cum_base[k];
}

/* price of level i compared with x, without rescaling the price */
static inline int
bm_cmp_price(const PerpsExactSide *xs, int i, XNum x)
{
	if (xs->lane)
		return xn_cmp(xn_small(xs->pv[i], xs->ps), x);
	return xn_cmp(xs->price[i], x);
}

/* sum of price * qty of the best k levels compared with x */
static inline int
bm_cmp_cumq(PerpsExactSide *xs, int k, XNum x)
{
	if (xs->lane && xs->lcq != NULL)
		return xn_cmp(xn_small(xs->lcq[k], xs->ps + xs->qs), x);
	return xn_cmp(bm_cumq(xs, k), x);
}

XNum
perps_exact_within(PerpsExactBook *xb, bool bids, XNum f, bool base, bool *complete)
{
	PerpsExactSide *xs = bids ? &xb->bids : &xb->asks;
	XNum		off = xn_mul(xb->mid, f);
	XNum		thr = bids ? xn_sub(xb->mid, off) : xn_add(xb->mid, off);
	int			lo = 0,
				hi = xs->n;

	Assert(xb->has_mid);

	/* lo = number of levels within the threshold (a prefix of the side) */
	while (lo < hi)
	{
		int			m = lo + (hi - lo) / 2;
		int			c = bm_cmp_price(xs, m, thr);

		if (bids ? c >= 0 : c <= 0)
			lo = m + 1;
		else
			hi = m;
	}
	if (complete)
	{
		int			c = bm_cmp_price(xs, xs->n - 1, thr);

		*complete = bids ? c <= 0 : c >= 0;
	}
	return base ? bm_cumb(xs, lo) : bm_cumq(xs, lo);
}

Numeric
perps_exact_max_bps(const PerpsExactBook *xb, bool bids)
{
	const PerpsExactSide *xs = bids ? &xb->bids : &xb->asks;
	XNum		deepest = perps_exact_price(xs, xs->n - 1);
	XNum		dist = bids ? xn_sub(xb->mid, deepest) : xn_sub(deepest, xb->mid);

	Assert(xb->has_mid);
	return xn_div(xn_mul(dist, xn_make(10000, 0)), xb->mid);
}

void
perps_exact_slippage(PerpsExactBook *xb, bool is_buy, XNum notional, PerpsSlippage *res)
{
	PerpsExactSide *xs = is_buy ? &xb->asks : &xb->bids;
	int			lo = 1,
				hi = xs->n;
	XNum		p,
				rem,
				den,
				num,
				mid_den,
				diff;

	Assert(xb->has_mid && xs->n > 0);
	/* computes the prefix sums (and leaves the lane if they overflow) */
	(void) bm_cumq(xs, 0);

	if (bm_cmp_cumq(xs, xs->n, notional) < 0)
	{
		res->feasible = false;
		res->levels_used = xs->n;
		res->avg_price = NULL;
		res->slippage_bps = NULL;
		res->filled_base = xn_to_numeric(bm_cumb(xs, xs->n));
		res->filled_quote = xn_to_numeric(bm_cumq(xs, xs->n));
		return;
	}

	/* smallest k with cum_quote[k] >= notional */
	while (lo < hi)
	{
		int			m = lo + (hi - lo) / 2;

		if (bm_cmp_cumq(xs, m, notional) >= 0)
			hi = m;
		else
			lo = m + 1;
	}

	/*
	 * The order takes the best lo - 1 levels whole and rem quote of level lo
	 * at price p: filled base = cum_base + rem / p = den / p with den =
	 * cum_base * p + rem, and the average price = notional / filled base =
	 * notional * p / den.
	 */
	p = perps_exact_price(xs, lo - 1);
	rem = xn_sub(notional, bm_cumq(xs, lo - 1));
	den = xn_add(xn_mul(bm_cumb(xs, lo - 1), p), rem);
	num = xn_mul(notional, p);
	mid_den = xn_mul(xb->mid, den);
	diff = is_buy ? xn_sub(num, mid_den) : xn_sub(mid_den, num);

	res->feasible = true;
	res->levels_used = lo;
	res->filled_quote = xn_to_numeric(notional);
	res->filled_base = xn_div(den, p);
	res->avg_price = xn_div(num, den);
	/* (avg - mid) / mid * 10^4 = (num - mid * den) * 10^4 / (mid * den) */
	res->slippage_bps = xn_div(xn_mul(diff, xn_make(10000, 0)), mid_den);
}

bool
perps_book_liquidity_row(const PerpsNumBook *book, Datum *values, bool *nulls)
{
	PerpsExactBook xb;
	int			i;
	int			s;

	perps_exact_book(book, &xb);
	if (!xb.has_mid)
		return false;

	values[0] = NumericGetDatum(xn_to_numeric(xb.mid));
	nulls[0] = false;
	for (s = 0; s < 2; s++)
	{
		for (i = 0; i < (int) BM_STD_BPS_COUNT; i++)
		{
			XNum		f = xn_shift(xn_make(bm_std_bps[i].v, bm_std_bps[i].scale), 4);
			int			col = 1 + s * BM_STD_BPS_COUNT + i;

			values[col] = NumericGetDatum(xn_to_numeric(perps_exact_within(&xb, s == 0, f,
																		   false, NULL)));
			nulls[col] = false;
		}
	}
	values[PERPS_LIQUIDITY_ROW_NATTS - 2] = NumericGetDatum(perps_exact_max_bps(&xb, true));
	nulls[PERPS_LIQUIDITY_ROW_NATTS - 2] = false;
	values[PERPS_LIQUIDITY_ROW_NATTS - 1] = NumericGetDatum(perps_exact_max_bps(&xb, false));
	nulls[PERPS_LIQUIDITY_ROW_NATTS - 1] = false;
	return true;
}

int
perps_book_slippage_rows(const PerpsNumBook *book, PerpsSlippageRow *rows)
{
	PerpsExactBook xb;
	Numeric		mid;
	int			i;
	int			n = 0;

	perps_exact_book(book, &xb);
	if (!xb.has_mid)
		return 0;

	mid = xn_to_numeric(xb.mid);
	for (i = 0; i < (int) lengthof(bm_std_sizes); i++)
	{
		XNum		amount = xn_make(bm_std_sizes[i], 0);
		Numeric		amount_num = xn_to_numeric(amount);
		int			b;

		for (b = 0; b < 2; b++)
		{
			PerpsSlippage res;
			PerpsSlippageRow *row = &rows[n++];

			perps_exact_slippage(&xb, b == 0, amount, &res);
			row->amount = amount_num;
			row->is_buy = (b == 0);
			row->mid_price = mid;
			row->feasible = res.feasible;
			row->avg_price = res.avg_price;
			row->slippage_bps = res.slippage_bps;
		}
	}
	return n;
}
