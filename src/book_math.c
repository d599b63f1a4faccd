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
 * The SQL functions liquidity_depth, market_depth and slippage first try
 * the one-pass form (perps_depth_from_arrays, perps_slippage_from_arrays):
 * each side read once from the array, every level checked, decoded and
 * summed in the same step, nothing stored per level; see "Depth in one
 * pass" below.  The general path above takes whatever that form gives up
 * on, and reports the errors.
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

#include "book_lane.h"
#include "book_math.h"

const PerpsStdBps perps_std_bps[PERPS_STD_BPS_COUNT] = {
	{1, 0}, {25, 1}, {5, 0}, {10, 0}, {20, 0}, {50, 0}, {100, 0}
};

const int64 perps_std_sizes[PERPS_STD_SIZES_COUNT] = {
	1000, 10000, 50000, 100000, 500000, 1000000, 5000000, 10000000
};

StaticAssertDecl(1 + 2 * lengthof(perps_std_bps) + 2 == PERPS_LIQUIDITY_ROW_NATTS,
				 "liquidity_depth row layout");
StaticAssertDecl(2 * lengthof(perps_std_sizes) == PERPS_SLIPPAGE_STD_ROWS,
				 "slippage row count");

void
perps_slippage_values(const PerpsSlippage *res, XNum mid, Datum *values, bool *nulls)
{
	values[0] = NumericGetDatum(xn_to_numeric(mid));
	nulls[0] = false;
	values[1] = res->avg_price ? NumericGetDatum(res->avg_price) : (Datum) 0;
	nulls[1] = res->avg_price == NULL;
	values[2] = res->slippage_bps ? NumericGetDatum(res->slippage_bps) : (Datum) 0;
	nulls[2] = res->slippage_bps == NULL;
	values[3] = NumericGetDatum(res->filled_base);
	values[4] = NumericGetDatum(res->filled_quote);
	values[5] = Int32GetDatum(res->levels_used);
	values[6] = BoolGetDatum(res->feasible);
	nulls[3] = nulls[4] = nulls[5] = nulls[6] = false;
}

void
perps_slippage_row(PerpsSlippageRow *row, Numeric amount, bool is_buy, Numeric mid, const PerpsSlippage *res)
{
	row->amount = amount;
	row->is_buy = is_buy;
	row->mid_price = mid;
	row->feasible = res->feasible;
	row->avg_price = res->avg_price;
	row->slippage_bps = res->slippage_bps;
}

bool
perps_slippage_args(const char *side, XNum notional, Datum notional_datum)
{
	bool		is_buy = false;

	if (strcmp(side, "buy") == 0)
		is_buy = true;
	else if (strcmp(side, "sell") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("side must be \"buy\" or \"sell\", not \"%s\"", side)));
	if (xn_is_special(notional) || xn_sign(notional) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("notional must be a positive number"),
				 errdetail("The notional is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, notional_datum)))));
	return is_buy;
}

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

/* the quantity element that follows a price element in the array */
static inline const char *
bm_qty_elem(const char *pp)
{
	return (const char *) INTALIGN(pp + VARSIZE(pp));
}

XNum
perps_exact_price(const PerpsExactSide *xs, int i)
{
	if (!xs->lane)
		return xs->price[i];
	if (i < xs->ndec)
		return bm_at_scale(xs->pv[i], xs->ps, xs->pd[i]);
	/* a level not decoded into the lane yet (the deepest, for instance) */
	return xn_from_datum(PointerGetDatum(xs->elem[i]));
}

static inline XNum
bm_qty(const PerpsExactSide *xs, int i)
{
	if (!xs->lane)
		return xs->qty[i];
	if (i < xs->ndec)
		return bm_at_scale(xs->qv[i], xs->qs, xs->qd[i]);
	return xn_from_datum(PointerGetDatum(bm_qty_elem(xs->elem[i])));
}

XNum
perps_exact_qty(const PerpsExactSide *xs, int i)
{
	return bm_qty(xs, i);
}

static bool
bm_lane_scan_array(ArrayType *arr, bool is_bids, PerpsExactSide *xs)
{
	const char *p;
	const char *end;

	if (ARR_HASNULL(arr))
		return false;
	/* no null bitmap: the data follow the fixed header and the dimensions */
	p = (const char *) arr + ARR_OVERHEAD_NONULLS(ARR_NDIM(arr));
	end = (const char *) arr + VARSIZE(arr);
	xs->elem = palloc(sizeof(const char *) * Max(xs->n, 1));
	/* one loop for each side, with the direction of the order built in */
	if (!(is_bids ? bm_lane_scan(p, end, xs->n, xs->elem, true, BM_WKEY(PG_INT32_MAX, 0)) :
		  bm_lane_scan(p, end, xs->n, xs->elem, false, BM_WKEY(PG_INT32_MIN, 0))))
		return false;
	xs->end = end;
	bm_lane_init(xs);
	xs->lane = true;
	return true;
}

/*
 * A side given as Numeric arrays (the C API) is decoded into the lane whole,
 * with the checks of the general path; false when the general path has to
 * take it.
 */
static bool
bm_lane_from_side(const PerpsNumSide *side, bool is_bids, PerpsExactSide *xs)
{
	int			i;

	xs->elem = NULL;
	xs->end = NULL;
	bm_lane_init(xs);
	for (i = 0; i < xs->n; i++)
	{
		const char *pp = (const char *) side->price[i];
		const char *qp = (const char *) side->qty[i];

		if (pp == NULL || qp == NULL || !VARATT_IS_4B_U(pp) || !VARATT_IS_4B_U(qp) ||
			!bm_lane_decode(xs, i, pp, qp))
			return false;
		if (i > 0 && (is_bids ? xs->pv[i] > xs->pv[i - 1] : xs->pv[i] < xs->pv[i - 1]))
			return false;
	}
	xs->ndec = xs->n;
	xs->lane = true;
	return true;
}

static void
bm_exact_side(const PerpsNumSide *side, const char *name, bool is_bids,
			  PerpsExactSide *xs)
{
	int			i;

	xs->n = side->nlevels;
	xs->lane = false;
	if (bm_lane_from_side(side, is_bids, xs))
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

/* Checks a side straight from its array, without deconstructing it. */
static void
bm_exact_side_from_array(ArrayType *arr, const char *name, bool is_bids,
						 PerpsExactSide *xs)
{
	array_iter	it;
	int			n = bm_check_shape(arr, name);
	int			i;

	xs->n = n;
	xs->lane = false;
	xs->price = NULL;
	xs->qty = NULL;
	xs->cum_quote = NULL;
	xs->cum_base = NULL;
	if (bm_lane_scan_array(arr, is_bids, xs))
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

/*
 * Moves a side from the lane to the general form (a value that does not
 * fit, a sum that overflows).  The side was checked whole already.
 */
static pg_noinline void
bm_lane_drop(PerpsExactSide *xs)
{
	XNum	   *price;
	XNum	   *qty;
	int			i;

	if (!xs->lane)
		return;
	price = palloc(sizeof(XNum) * Max(xs->n, 1));
	qty = palloc(sizeof(XNum) * Max(xs->n, 1));
	for (i = 0; i < xs->n; i++)
	{
		if (xs->elem != NULL)
		{
			/* from the array: a failed decode may have left the lane half rescaled */
			price[i] = xn_from_datum(PointerGetDatum(xs->elem[i]));
			qty[i] = xn_from_datum(PointerGetDatum(bm_qty_elem(xs->elem[i])));
		}
		else
		{
			price[i] = perps_exact_price(xs, i);
			qty[i] = bm_qty(xs, i);
		}
	}
	xs->price = price;
	xs->qty = qty;
	xs->cum_quote = NULL;
	xs->cum_base = NULL;
	xs->lane = false;
}

/* Levels available for comparisons: decoded into the lane, or all. */
static inline int
bm_avail(const PerpsExactSide *xs)
{
	return xs->lane ? xs->ndec : xs->n;
}

/*
 * Decodes the best k levels into the lane (k <= n); when a value does not
 * fit, moves the side to the general path.
 */
static void
bm_decode(PerpsExactSide *xs, int k)
{
	int			i;

	if (!xs->lane || k <= xs->ndec)
		return;
	for (i = xs->ndec; i < k; i++)
	{
		const char *pp = xs->elem[i];

		if (unlikely(!bm_lane_decode(xs, i, pp, bm_qty_elem(pp))))
		{
			bm_lane_drop(xs);
			return;
		}
	}
	xs->ndec = k;
}

/*
 * Extends the lane's prefix sums of price * qty to the best k levels
 * (decoded); false when one overflows.
 */
static bool
bm_lane_cum_quote(PerpsExactSide *xs, int k)
{
	int			i;

	if (xs->lcq == NULL)
	{
		xs->lcq = palloc(sizeof(int128) * (xs->n + 1));
		xs->lcqd = palloc(sizeof(uint8) * (xs->n + 1));
		xs->lcq[0] = 0;
		xs->lcqd[0] = 0;
		xs->ncq = 0;
	}
	if (xs->cq_scale != xs->ps + xs->qs)
	{
		/* a finer value came: start over at the new scale */
		xs->ncq = 0;
		xs->cq_scale = xs->ps + xs->qs;
	}
	for (i = xs->ncq; i < k; i++)
	{
		if (unlikely(__builtin_add_overflow(xs->lcq[i], (int128) xs->pv[i] * xs->qv[i],
											&xs->lcq[i + 1])))
			return false;
		xs->lcqd[i + 1] = Max(xs->lcqd[i], xs->pd[i] + xs->qd[i]);
	}
	xs->ncq = Max(xs->ncq, k);
	return true;
}

/* The same for qty (n 64-bit terms cannot overflow 128 bits). */
static void
bm_lane_cum_base(PerpsExactSide *xs, int k)
{
	int			i;

	if (xs->lcb == NULL)
	{
		xs->lcb = palloc(sizeof(int128) * (xs->n + 1));
		xs->lcbd = palloc(sizeof(uint8) * (xs->n + 1));
		xs->lcb[0] = 0;
		xs->lcbd[0] = 0;
		xs->ncb = 0;
	}
	if (xs->cb_scale != xs->qs)
	{
		xs->ncb = 0;
		xs->cb_scale = xs->qs;
	}
	for (i = xs->ncb; i < k; i++)
	{
		xs->lcb[i + 1] = xs->lcb[i] + xs->qv[i];
		xs->lcbd[i + 1] = Max(xs->lcbd[i], xs->qd[i]);
	}
	xs->ncb = Max(xs->ncb, k);
}

/* Makes the best k levels decoded, with their prefix sums of price * qty. */
static void
bm_need_cumq(PerpsExactSide *xs, int k)
{
	bm_decode(xs, k);
	if (xs->lane && !bm_lane_cum_quote(xs, k))
		bm_lane_drop(xs);
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
	bm_decode(&xb->bids, 1);
	bm_decode(&xb->asks, 1);
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

	if (xs->lane)
		bm_need_cumq(xs, k);
	if (xs->lane)
		return bm_at_scale(xs->lcq[k], xs->ps + xs->qs, xs->lcqd[k]);
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
		bm_decode(xs, k);
	if (xs->lane)
	{
		bm_lane_cum_base(xs, k);
		return bm_at_scale(xs->lcb[k], xs->qs, xs->lcbd[k]);
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

/* price of level i (< bm_avail) compared with x, without rescaling the price */
static inline int
bm_cmp_price(const PerpsExactSide *xs, int i, XNum x)
{
	if (xs->lane)
		return xn_cmp(xn_small(xs->pv[i], xs->ps), x);
	return xn_cmp(xs->price[i], x);
}

/* sum of price * qty of the best k levels (k <= bm_avail, prefix sums there) compared with x */
static inline int
bm_cmp_cumq(PerpsExactSide *xs, int k, XNum x)
{
	if (xs->lane)
		return xn_cmp(xn_small(xs->lcq[k], xs->ps + xs->qs), x);
	return xn_cmp(bm_cumq(xs, k), x);
}

/* the next number of levels to decode when a walk needs more than k */
static inline int
bm_grow(const PerpsExactSide *xs, int k)
{
	return Min(xs->n, Max(16, 2 * k));
}

XNum
perps_exact_within(PerpsExactBook *xb, bool bids, XNum f, bool base, bool *complete)
{
	PerpsExactSide *xs = bids ? &xb->bids : &xb->asks;
	XNum		off = xn_mul(xb->mid, f);
	XNum		thr = bids ? xn_sub(xb->mid, off) : xn_add(xb->mid, off);
	int			lo = 0,
				hi;

	Assert(xb->has_mid);

	/*
	 * Decode until the deepest decoded level lies beyond the threshold (or
	 * the side ends); the levels within it are then a prefix of those.
	 */
	for (;;)
	{
		int			k = bm_avail(xs);
		int			c;

		if (k == xs->n)
			break;
		c = bm_cmp_price(xs, k - 1, thr);
		if (bids ? c < 0 : c > 0)
			break;
		bm_decode(xs, bm_grow(xs, k));
	}
	hi = bm_avail(xs);

	/* lo = number of levels within the threshold */
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
		int			c = xn_cmp(perps_exact_price(xs, xs->n - 1), thr);

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
				hi;

	Assert(xb->has_mid && xs->n > 0);

	/*
	 * Decode, with prefix sums, until they reach the notional or the side
	 * ends: the order fills within those levels or not at all.
	 */
	for (;;)
	{
		int			k;

		bm_need_cumq(xs, bm_avail(xs));
		k = bm_avail(xs);
		if (k == xs->n || bm_cmp_cumq(xs, k, notional) >= 0)
			break;
		bm_decode(xs, bm_grow(xs, k));
	}
	hi = bm_avail(xs);

	if (bm_cmp_cumq(xs, hi, notional) < 0)
	{
		Assert(hi == xs->n);
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

	bm_slippage_fill(xb->mid, is_buy, notional, lo, perps_exact_price(xs, lo - 1),
					 bm_cumq(xs, lo - 1), bm_cumb(xs, lo - 1), res);
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
		for (i = 0; i < (int) PERPS_STD_BPS_COUNT; i++)
		{
			XNum		f = xn_shift(xn_make(perps_std_bps[i].v, perps_std_bps[i].scale), 4);
			int			col = 1 + s * PERPS_STD_BPS_COUNT + i;

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
	for (i = 0; i < (int) lengthof(perps_std_sizes); i++)
	{
		XNum		amount = xn_make(perps_std_sizes[i], 0);
		Numeric		amount_num = xn_to_numeric(amount);
		int			b;

		for (b = 0; b < 2; b++)
		{
			PerpsSlippage res;
			PerpsSlippageRow *row = &rows[n++];

			perps_exact_slippage(&xb, b == 0, amount, &res);
			perps_slippage_row(row, amount_num, b == 0, mid, &res);
		}
	}
	return n;
}
