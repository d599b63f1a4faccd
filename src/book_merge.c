/*-------------------------------------------------------------------------
 *
 * book_merge.c
 *		Depth and slippage over several resolutions of one market's book
 *		(the merge rule is in book_merge.h), and the SQL functions
 *		liquidity_depth_merged and slippage_merged.
 *
 * The finest book is taken as the single-book functions take one: the
 * one-pass forms of book_walk.c first, then the general path.  Coarser
 * books are validated whole (a cheap pass) but their levels are decoded
 * only where a threshold or an order reaches past the finest book, so a
 * finest book deep enough costs about what liquidity_depth costs.
 *
 * Numbers: everything is exact numeric arithmetic (XNums), as in
 * book_math.c; the only divisions are those of the single-book functions
 * (average price, bps).
 *
 * Memory: results are palloc'd in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "book_lane.h"
#include "book_merge.h"

/* the standard thresholds and sizes are book_math.c's (perps_std_bps, perps_std_sizes) */

void
perps_merge_prepare(PerpsExactBook *xbs, int nb)
{
	Assert(nb >= 1 && xbs[0].has_mid);
	for (int r = 1; r < nb; r++)
	{
		xbs[r].mid = xbs[0].mid;
		xbs[r].has_mid = true;
	}
}

/* the side of book r, NULL when it is empty */
static inline PerpsExactSide *
bmg_side(PerpsExactBook *xb, bool bids)
{
	PerpsExactSide *xs = bids ? &xb->bids : &xb->asks;

	return xs->n > 0 ? xs : NULL;
}

/* deepest price of a non-empty side */
static inline XNum
bmg_deepest(const PerpsExactSide *xs)
{
	return perps_exact_price(xs, xs->n - 1);
}

/* a strictly farther from mid than b, on that side */
static inline bool
bmg_beyond(XNum a, XNum b, bool bids)
{
	int			c = xn_cmp(a, b);

	return bids ? c < 0 : c > 0;
}

/*
 * The figure of one side and threshold from the coarser books (from book
 * `from` on), when book 0 did not complete it: the finest one that reaches
 * it, else the one that reaches farthest if that is beyond the best so far
 * (book best, whose figure is *fig).
 */
static void
bmg_threshold(PerpsExactBook *xbs, int nb, int from, bool bids, XNum f, XNum *fig,
			  bool *complete, int *resolution)
{
	int			best = *resolution;
	XNum		reach;
	bool		have_reach = false;

	if (bmg_side(&xbs[best], bids) != NULL)
	{
		reach = bmg_deepest(bmg_side(&xbs[best], bids));
		have_reach = true;
	}
	for (int r = from; r < nb; r++)
	{
		PerpsExactSide *xs = bmg_side(&xbs[r], bids);
		bool		c;
		XNum		v;

		if (xs == NULL)
			continue;
		/* a book that reaches no farther than the best so far adds nothing */
		if (have_reach && !bmg_beyond(bmg_deepest(xs), reach, bids))
			continue;
		v = perps_exact_within(&xbs[r], bids, f, false, &c);
		*fig = v;
		*complete = c;
		*resolution = r;
		if (c)
			return;
		reach = bmg_deepest(xs);
		have_reach = true;
	}
}

void
perps_merge_depth_tail(PerpsExactBook *xbs, int nb, int n, const XNum *fractions,
					   PerpsMergeDepth *res)
{
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (!res->complete[s][i] && nb > 1)
				bmg_threshold(xbs, nb, 1, s == 0, fractions[i], &res->fig[s][i],
							  &res->complete[s][i], &res->resolution[s][i]);
		}
}

void
perps_merge_depth(PerpsExactBook *xbs, int nb, int n, const XNum *fractions, PerpsMergeDepth *res)
{
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			/* book 0 has both sides: it has a mid */
			res->fig[s][i] = perps_exact_within(&xbs[0], s == 0, fractions[i], false,
												&res->complete[s][i]);
			res->resolution[s][i] = 0;
		}
	perps_merge_depth_tail(xbs, nb, n, fractions, res);
}

Numeric
perps_merge_max_bps(const PerpsExactBook *xbs, int nb, bool bids)
{
	int			deepest = 0;
	XNum		p = bmg_deepest(bids ? &xbs[0].bids : &xbs[0].asks);

	for (int r = 1; r < nb; r++)
	{
		const PerpsExactSide *xs = bids ? &xbs[r].bids : &xbs[r].asks;

		if (xs->n > 0 && bmg_beyond(bmg_deepest(xs), p, bids))
		{
			p = bmg_deepest(xs);
			deepest = r;
		}
	}
	return perps_exact_max_bps(&xbs[deepest], bids);
}

void
perps_merge_slippage(PerpsExactBook *xbs, int nb, bool is_buy, XNum notional,
					 PerpsSlippage *res, int *resolution)
{
	bool		bids = !is_buy;
	XNum		cq = xn_make(0, 0);
	XNum		cb = xn_make(0, 0);
	XNum		last = xn_make(0, 0);
	bool		have_last = false;
	int			used = 0;
	int			walked = 0;

	for (int r = 0; r < nb; r++)
	{
		PerpsExactSide *xs = bmg_side(&xbs[r], bids);
		int			i = 0;

		if (xs == NULL)
			continue;
		/* the coarse tail: the levels beyond the deepest price walked (binary search) */
		if (have_last)
		{
			int			lo = 0,
						hi = xs->n;

			if (!bmg_beyond(bmg_deepest(xs), last, bids))
				continue;
			while (lo < hi)
			{
				int			m = lo + (hi - lo) / 2;

				if (bmg_beyond(perps_exact_price(xs, m), last, bids))
					hi = m;
				else
					lo = m + 1;
			}
			i = lo;
		}
		for (; i < xs->n; i++)
		{
			XNum		p = perps_exact_price(xs, i);
			XNum		q = perps_exact_qty(xs, i);
			XNum		after = xn_add(cq, xn_mul(p, q));

			if ((used & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			if (xn_cmp(after, notional) >= 0)
			{
				bm_slippage_fill(xbs[0].mid, is_buy, notional, used + 1, p, cq, cb, res);
				*resolution = r;
				return;
			}
			cq = after;
			cb = xn_add(cb, q);
			used++;
		}
		last = bmg_deepest(xs);
		have_last = true;
		walked = r;
	}

	/* the merged side cannot fill the order: all it holds */
	res->feasible = false;
	res->levels_used = used;
	res->avg_price = NULL;
	res->slippage_bps = NULL;
	res->filled_base = xn_to_numeric(cb);
	res->filled_quote = xn_to_numeric(cq);
	*resolution = walked;
}

/* ------------------------------------------------------------------------
 * The C API of ingestion.
 * ------------------------------------------------------------------------
 */

/* Decodes and validates every book; false when the finest has no mid. */
static bool
bmg_exact_books(const PerpsNumBook *books, int nb, PerpsExactBook *xbs)
{
	for (int r = 0; r < nb; r++)
		perps_exact_book(&books[r], &xbs[r]);
	if (!xbs[0].has_mid)
		return false;
	perps_merge_prepare(xbs, nb);
	return true;
}

bool
perps_merged_liquidity_row(const PerpsNumBook *books, int nb, Datum *values, bool *nulls,
						   int *resolution)
{
	PerpsExactBook xbs[PERPS_MAX_RESOLUTIONS];
	XNum		fractions[PERPS_STD_BPS_COUNT];
	XNum		fig[2][PERPS_STD_BPS_COUNT];
	bool		complete[2][PERPS_STD_BPS_COUNT];
	int			res_of[2][PERPS_STD_BPS_COUNT];
	PerpsMergeDepth md;

	Assert(nb >= 1 && nb <= PERPS_MAX_RESOLUTIONS);
	*resolution = 0;
	if (nb == 1)
		return perps_book_liquidity_row(&books[0], values, nulls);
	if (!bmg_exact_books(books, nb, xbs))
		return false;

	for (int i = 0; i < (int) PERPS_STD_BPS_COUNT; i++)
		fractions[i] = xn_shift(xn_make(perps_std_bps[i].v, perps_std_bps[i].scale), 4);
	for (int s = 0; s < 2; s++)
	{
		md.fig[s] = fig[s];
		md.complete[s] = complete[s];
		md.resolution[s] = res_of[s];
	}
	perps_merge_depth(xbs, nb, PERPS_STD_BPS_COUNT, fractions, &md);

	values[0] = NumericGetDatum(xn_to_numeric(xbs[0].mid));
	nulls[0] = false;
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < (int) PERPS_STD_BPS_COUNT; i++)
		{
			int			col = 1 + s * PERPS_STD_BPS_COUNT + i;

			values[col] = NumericGetDatum(xn_to_numeric(fig[s][i]));
			nulls[col] = false;
			*resolution = Max(*resolution, res_of[s][i]);
		}
	values[PERPS_LIQUIDITY_ROW_NATTS - 2] = NumericGetDatum(perps_merge_max_bps(xbs, nb, true));
	nulls[PERPS_LIQUIDITY_ROW_NATTS - 2] = false;
	values[PERPS_LIQUIDITY_ROW_NATTS - 1] = NumericGetDatum(perps_merge_max_bps(xbs, nb, false));
	nulls[PERPS_LIQUIDITY_ROW_NATTS - 1] = false;
	return true;
}

int
perps_merged_slippage_rows(const PerpsNumBook *books, int nb, PerpsSlippageRow *rows,
						   int *resolutions)
{
	PerpsExactBook xbs[PERPS_MAX_RESOLUTIONS];
	Numeric		mid;
	int			n = 0;

	Assert(nb >= 1 && nb <= PERPS_MAX_RESOLUTIONS);
	if (nb == 1)
	{
		n = perps_book_slippage_rows(&books[0], rows);
		for (int i = 0; i < n; i++)
			resolutions[i] = 0;
		return n;
	}
	if (!bmg_exact_books(books, nb, xbs))
		return 0;

	mid = xn_to_numeric(xbs[0].mid);
	for (int i = 0; i < (int) lengthof(perps_std_sizes); i++)
	{
		XNum		amount = xn_make(perps_std_sizes[i], 0);
		Numeric		amount_num = xn_to_numeric(amount);

		for (int b = 0; b < 2; b++)
		{
			PerpsSlippage res;
			PerpsSlippageRow *row = &rows[n];

			perps_merge_slippage(xbs, nb, b == 0, amount, &res, &resolutions[n]);
			n++;
			perps_slippage_row(row, amount_num, b == 0, mid, &res);
		}
	}
	return n;
}

bool
perps_merged_reaches(const PerpsNumBook *books, int nb, XNum f)
{
	PerpsExactBook xbs[PERPS_MAX_RESOLUTIONS];

	Assert(nb >= 1 && nb <= PERPS_MAX_RESOLUTIONS);
	if (!bmg_exact_books(books, nb, xbs))
		return false;
	for (int s = 0; s < 2; s++)
	{
		bool		bids = (s == 0);
		XNum		off = xn_mul(xbs[0].mid, f);
		XNum		thr = bids ? xn_sub(xbs[0].mid, off) : xn_add(xbs[0].mid, off);
		bool		reached = false;

		for (int r = 0; r < nb && !reached; r++)
		{
			PerpsExactSide *xs = bmg_side(&xbs[r], bids);

			/* at or beyond the threshold */
			reached = xs != NULL && !bmg_beyond(thr, bmg_deepest(xs), bids);
		}
		if (!reached)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------
 * The SQL functions: books perps_stats.order_book[] (bids, asks), finest
 * first.
 * ------------------------------------------------------------------------
 */

/* errcontext of a book's errors: which of the books it is */
static void
bmg_book_context(void *arg)
{
	int		   *which = (int *) arg;

	errcontext("book %d of %d", which[0] + 1, which[1]);
}

/* The books argument: 1-D, 1 .. PERPS_MAX_RESOLUTIONS books, no NULLs; their arrays. */
static int
bmg_books_arg(FunctionCallInfo fcinfo, int argno, ArrayType **bids, ArrayType **asks)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *enulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("books must be a one-dimensional array")));
	n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("books must hold at least one book"),
				 errhint("Pass the books of one market, finest first.")));
	if (n > PERPS_MAX_RESOLUTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("books has %d books, more than the %d allowed", n, PERPS_MAX_RESOLUTIONS),
				 errhint("No venue serves more resolutions of a book.")));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &enulls, &n);
	for (int r = 0; r < n; r++)
	{
		HeapTupleHeader th;
		bool		bnull,
					anull;
		Datum		b,
					a;

		if (enulls[r])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("book %d of books is NULL", r + 1)));
		th = DatumGetHeapTupleHeader(elems[r]);
		b = GetAttributeByNum(th, 1, &bnull);
		a = GetAttributeByNum(th, 2, &anull);
		if (bnull || anull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("book %d of books has NULL %s", r + 1, bnull ? "bids" : "asks")));
		bids[r] = DatumGetArrayTypeP(b);
		asks[r] = DatumGetArrayTypeP(a);
		for (int s = 0; s < 2; s++)
		{
			ArrayType  *side = s == 0 ? bids[r] : asks[r];

			if (ARR_NDIM(side) >= 1 && ARR_DIMS(side)[0] > PERPS_MAX_BOOK_LEVELS)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("book %d %s have %d levels, more than the %d allowed", r + 1,
								s == 0 ? "bids" : "asks", ARR_DIMS(side)[0], PERPS_MAX_BOOK_LEVELS),
						 errhint("No venue sends deeper books; trim the side to its best levels.")));
		}
	}
	return n;
}

/* Validates the coarser books (1 .. nb-1) whole into xbs, each error naming its book. */
static void
bmg_coarse_books(ArrayType **bids, ArrayType **asks, int nb, PerpsExactBook *xbs)
{
	ErrorContextCallback cb;
	int			which[2] = {0, nb};

	cb.callback = bmg_book_context;
	cb.arg = which;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	for (int r = 1; r < nb; r++)
	{
		which[0] = r;
		perps_exact_from_arrays(bids[r], asks[r], &xbs[r]);
	}
	error_context_stack = cb.previous;
}

/* book 0 in the general form, its errors naming it when there are several */
static void
bmg_finest_book(ArrayType **bids, ArrayType **asks, int nb, PerpsExactBook *xbs)
{
	ErrorContextCallback cb;
	int			which[2] = {0, nb};

	cb.callback = bmg_book_context;
	cb.arg = which;
	cb.previous = error_context_stack;
	if (nb > 1)
		error_context_stack = &cb;
	perps_exact_from_arrays(bids[0], asks[0], &xbs[0]);
	error_context_stack = cb.previous;
}

static void
bmg_init_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, rsinfo != NULL && IsA(rsinfo, ReturnSetInfo) &&
						rsinfo->expectedDesc != NULL ? MAT_SRF_USE_EXPECTED_DESC : 0);
}

/* The thresholds argument (bps): 1-D, at most PERPS_MAX_THRESHOLDS, finite, not negative. */
static int
bmg_thresholds(ArrayType *arr, Datum **elems, XNum **fractions)
{
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("bps must be a one-dimensional array")));
	if (ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)) > PERPS_MAX_THRESHOLDS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("bps has %d thresholds, more than the %d allowed",
						ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)), PERPS_MAX_THRESHOLDS)));
	deconstruct_array(arr, NUMERICOID, -1, false, TYPALIGN_INT, elems, &nulls, &n);
	*fractions = palloc(sizeof(XNum) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		XNum		x;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("bps must not contain NULLs")));
		x = xn_from_datum((*elems)[i]);
		if (xn_is_special(x) || xn_sign(x) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("bps must be finite and not negative"),
					 errdetail("Element %d is %s.", i + 1,
							   DatumGetCString(DirectFunctionCall1(numeric_out, (*elems)[i])))));
		(*fractions)[i] = xn_shift(x, 4);
	}
	return n;
}

PG_FUNCTION_INFO_V1(liquidity_depth_merged);
Datum
liquidity_depth_merged(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *bids[PERPS_MAX_RESOLUTIONS];
	ArrayType  *asks[PERPS_MAX_RESOLUTIONS];
	PerpsExactBook xbs[PERPS_MAX_RESOLUTIONS];
	PerpsDepthResult dr;
	PerpsMergeDepth md;
	Datum	   *elems;
	XNum	   *fractions;
	int			nb;
	int			n;

	bmg_init_srf(fcinfo);
	n = bmg_thresholds(PG_GETARG_ARRAYTYPE_P(1), &elems, &fractions);
	nb = bmg_books_arg(fcinfo, 0, bids, asks);
	for (int s = 0; s < 2; s++)
	{
		md.fig[s] = dr.fig[s] = palloc(sizeof(XNum) * Max(n, 1));
		md.complete[s] = dr.complete[s] = palloc(sizeof(bool) * Max(n, 1));
		md.resolution[s] = palloc0(sizeof(int) * Max(n, 1));
	}

	/* every book is checked, needed or not */
	bmg_coarse_books(bids, asks, nb, xbs);
	/* the finest book in one pass where it can be (book_walk.c), else the general path */
	if (perps_depth_from_arrays(bids[0], asks[0], n, fractions, false, &dr))
	{
		bool		short_of = false;

		for (int s = 0; s < 2; s++)
			for (int i = 0; i < n; i++)
				short_of |= !dr.complete[s][i];
		/* a threshold the finest book does not reach: the coarse books, from its deepest levels */
		if (nb > 1 && short_of)
		{
			bmg_finest_book(bids, asks, nb, xbs);
			perps_merge_prepare(xbs, nb);
			perps_merge_depth_tail(xbs, nb, n, fractions, &md);
		}
	}
	else
	{
		bmg_finest_book(bids, asks, nb, xbs);
		if (!xbs[0].has_mid)
			return (Datum) 0;
		perps_merge_prepare(xbs, nb);
		perps_merge_depth(xbs, nb, n, fractions, &md);
	}

	for (int i = 0; i < n; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		values[0] = elems[i];
		values[1] = NumericGetDatum(xn_to_numeric(md.fig[0][i]));
		values[2] = NumericGetDatum(xn_to_numeric(md.fig[1][i]));
		values[3] = BoolGetDatum(md.complete[0][i]);
		values[4] = BoolGetDatum(md.complete[1][i]);
		/* the SQL array's subscript of the book */
		values[5] = Int32GetDatum(md.resolution[0][i] + 1);
		values[6] = Int32GetDatum(md.resolution[1][i] + 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(slippage_merged);
Datum
slippage_merged(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *side = text_to_cstring(PG_GETARG_TEXT_PP(1));
	XNum		notional = xn_from_datum(PG_GETARG_DATUM(2));
	ArrayType  *bids[PERPS_MAX_RESOLUTIONS];
	ArrayType  *asks[PERPS_MAX_RESOLUTIONS];
	PerpsExactBook xbs[PERPS_MAX_RESOLUTIONS];
	PerpsSlippage res;
	XNum		mid;
	bool		is_buy;
	int			resolution = 0;
	int			nb;
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false, false};

	bmg_init_srf(fcinfo);
	is_buy = perps_slippage_args(side, notional, PG_GETARG_DATUM(2));
	nb = bmg_books_arg(fcinfo, 0, bids, asks);
	bmg_coarse_books(bids, asks, nb, xbs);

	/* the finest book alone in one pass while it fills the order */
	if (!perps_slippage_from_arrays(bids[0], asks[0], is_buy, notional, &mid, &res) ||
		(!res.feasible && nb > 1))
	{
		bmg_finest_book(bids, asks, nb, xbs);
		if (!xbs[0].has_mid)
			return (Datum) 0;
		perps_merge_prepare(xbs, nb);
		perps_merge_slippage(xbs, nb, is_buy, notional, &res, &resolution);
		mid = xbs[0].mid;
	}
	perps_slippage_values(&res, mid, values, nulls);
	values[7] = Int32GetDatum(resolution + 1);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
