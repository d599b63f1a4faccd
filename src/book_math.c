/*-------------------------------------------------------------------------
 *
 * book_math.c
 *		Order-book math over numeric: validation, mid, depth within a
 *		threshold of mid, market-order slippage, and the rows ingestion
 *		stores in liquidity_depth and slippage.
 *
 * A book is decoded once into XNums (exactnum.h: scaled 128-bit integers
 * while values fit, Numeric otherwise), validated, and then every figure is
 * exact: sums keep the largest display scale of their terms and products
 * add the scales, exactly as numeric's operators do, so a notional here
 * equals sum(price * qty) over the same levels in SQL, value and scale.
 * The inexact figures (average price, filled base of a partial level,
 * slippage and distances in bps) are one numeric division each of two
 * exact operands, so they carry numeric_div's usual 16 or more
 * significant digits and no accumulated rounding.
 *
 * Thresholds are evaluated without division: with f = bps / 10^4 a bid is
 * within the threshold when price >= mid - mid * f, an ask when price <=
 * mid + mid * f.  Sides are sorted best first, so the levels within any
 * threshold are a prefix of the side, found by binary search over the
 * prefix sums.
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
bm_side_from_array(ArrayType *arr, const char *name, PerpsBookSide *side)
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
perps_book_deconstruct(ArrayType *bids, ArrayType *asks, PerpsBook *book)
{
	bm_side_from_array(bids, "bids", &book->bids);
	bm_side_from_array(asks, "asks", &book->asks);
}

void
perps_book_from_arrays(ArrayType *bids, ArrayType *asks, PerpsBook *book)
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

static void
bm_exact_side(const PerpsBookSide *side, const char *name, bool is_bids,
			  PerpsExactSide *xs)
{
	int			i;

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
	int			i;

	bm_side_init(xs, bm_check_shape(arr, name));
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

static void
bm_exact_mid(PerpsExactBook *xb)
{
	xb->has_mid = xb->bids.n > 0 && xb->asks.n > 0;
	if (!xb->has_mid)
	{
		xb->mid = xn_make(0, 0);
		return;
	}
	if (xn_cmp(xb->bids.price[0], xb->asks.price[0]) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order book is crossed"),
				 errdetail("The best bid %s is not below the best ask %s.",
						   bm_numeric_text(xn_to_numeric(xb->bids.price[0])),
						   bm_numeric_text(xn_to_numeric(xb->asks.price[0])))));
	xb->mid = xn_half_sum(xb->bids.price[0], xb->asks.price[0]);
}

void
perps_exact_from_arrays(ArrayType *bids, ArrayType *asks, PerpsExactBook *xb)
{
	bm_exact_side_from_array(bids, "bids", true, &xb->bids);
	bm_exact_side_from_array(asks, "asks", false, &xb->asks);
	bm_exact_mid(xb);
}

void
perps_exact_book(const PerpsBook *book, PerpsExactBook *xb)
{
	bm_exact_side(&book->bids, "bids", true, &xb->bids);
	bm_exact_side(&book->asks, "asks", false, &xb->asks);
	bm_exact_mid(xb);
}

void
perps_book_check(const PerpsBook *book)
{
	PerpsExactBook xb;

	perps_exact_book(book, &xb);
}

/* The prefix sums of a side's quote notional, computed once. */
static XNum *
bm_cum_quote(PerpsExactSide *xs)
{
	int			i;

	if (xs->cum_quote == NULL)
	{
		xs->cum_quote = palloc(sizeof(XNum) * (xs->n + 1));
		xs->cum_quote[0] = xn_make(0, 0);
		for (i = 0; i < xs->n; i++)
			xs->cum_quote[i + 1] = xn_add(xs->cum_quote[i], xn_mul(xs->price[i], xs->qty[i]));
	}
	return xs->cum_quote;
}

/* The prefix sums of a side's base quantity, computed once. */
static XNum *
bm_cum_base(PerpsExactSide *xs)
{
	int			i;

	if (xs->cum_base == NULL)
	{
		xs->cum_base = palloc(sizeof(XNum) * (xs->n + 1));
		xs->cum_base[0] = xn_make(0, 0);
		for (i = 0; i < xs->n; i++)
			xs->cum_base[i + 1] = xn_add(xs->cum_base[i], xs->qty[i]);
	}
	return xs->cum_base;
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
		int			c = xn_cmp(xs->price[m], thr);

		if (bids ? c >= 0 : c <= 0)
			lo = m + 1;
		else
			hi = m;
	}
	if (complete)
	{
		int			c = xn_cmp(xs->price[xs->n - 1], thr);

		*complete = bids ? c <= 0 : c >= 0;
	}
	return base ? bm_cum_base(xs)[lo] : bm_cum_quote(xs)[lo];
}

Numeric
perps_exact_max_bps(const PerpsExactBook *xb, bool bids)
{
	const PerpsExactSide *xs = bids ? &xb->bids : &xb->asks;
	XNum		deepest = xs->price[xs->n - 1];
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
	bm_cum_quote(xs);
	bm_cum_base(xs);

	if (xn_cmp(xs->cum_quote[xs->n], notional) < 0)
	{
		res->feasible = false;
		res->levels_used = xs->n;
		res->avg_price = NULL;
		res->slippage_bps = NULL;
		res->filled_base = xn_to_numeric(xs->cum_base[xs->n]);
		res->filled_quote = xn_to_numeric(xs->cum_quote[xs->n]);
		return;
	}

	/* smallest k with cum_quote[k] >= notional */
	while (lo < hi)
	{
		int			m = lo + (hi - lo) / 2;

		if (xn_cmp(xs->cum_quote[m], notional) >= 0)
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
	p = xs->price[lo - 1];
	rem = xn_sub(notional, xs->cum_quote[lo - 1]);
	den = xn_add(xn_mul(xs->cum_base[lo - 1], p), rem);
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
perps_book_liquidity_row(const PerpsBook *book, Datum *values, bool *nulls)
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
perps_book_slippage_rows(const PerpsBook *book, PerpsSlippageRow *rows)
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
