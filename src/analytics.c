/*-------------------------------------------------------------------------
 *
 * analytics.c
 *		The SQL functions of the order-book math (mid_price, spread_bps,
 *		liquidity_depth, market_depth, slippage); the vwap aggregate is in
 *		vwap.c.
 *
 * The math lives in book_math.c; this file checks the SQL arguments and
 * builds the result rows.  A book with an empty side has no mid: the scalar
 * functions return NULL and the set-returning ones no rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "book_math.h"
#include "exactnum.h"

/*
 * A book side argument (0: bids, 1: asks), within PERPS_MAX_BOOK_LEVELS
 * levels: the functions are PUBLIC and reachable over HTTP, so what a
 * caller may hand them is bounded.
 */
static ArrayType *
analytics_side(FunctionCallInfo fcinfo, int argno)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);

	if (ARR_NDIM(arr) >= 1 && ARR_DIMS(arr)[0] > PERPS_MAX_BOOK_LEVELS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("order book %s have %d levels, more than the %d allowed",
						argno == 0 ? "bids" : "asks", ARR_DIMS(arr)[0], PERPS_MAX_BOOK_LEVELS),
				 errhint("No venue sends deeper books; trim the side to its best levels.")));
	return arr;
}

/* Reads the two book arguments and validates the book. */
static void
analytics_book_args(FunctionCallInfo fcinfo, PerpsExactBook *xb)
{
	perps_exact_from_arrays(analytics_side(fcinfo, 0), analytics_side(fcinfo, 1), xb);
}

/*
 * Reads a 1-D numeric[] of thresholds (bps or fractions of mid).  Sets the
 * elements as given and as fractions of mid (divided by 10^shift).
 */
static int
analytics_thresholds(ArrayType *arr, const char *what, int shift,
					 Datum **elems, XNum **fractions)
{
	bool	   *nulls;
	int			n;
	int			i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	if (ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)) > PERPS_MAX_THRESHOLDS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s has %d thresholds, more than the %d allowed", what,
						ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)), PERPS_MAX_THRESHOLDS)));
	deconstruct_array(arr, NUMERICOID, -1, false, TYPALIGN_INT, elems, &nulls, &n);
	*fractions = palloc(sizeof(XNum) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		XNum		x;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULLs", what)));
		x = xn_from_datum((*elems)[i]);
		if (xn_is_special(x) || xn_sign(x) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be finite and not negative", what),
					 errdetail("Element %d is %s.", i + 1,
							   DatumGetCString(DirectFunctionCall1(numeric_out, (*elems)[i])))));
		(*fractions)[i] = xn_shift(x, shift);
	}
	return n;
}

/*
 * Sets up materialize mode.  The result's tuple descriptor is a copy of the
 * one the executor expects (the function's declared columns), when it gives
 * one, which spares looking the function's OUT parameters up in the catalog
 * for every book.
 */
static void
analytics_init_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, rsinfo != NULL && IsA(rsinfo, ReturnSetInfo) &&
						rsinfo->expectedDesc != NULL ? MAT_SRF_USE_EXPECTED_DESC : 0);
}

PG_FUNCTION_INFO_V1(mid_price);
Datum
mid_price(PG_FUNCTION_ARGS)
{
	PerpsExactBook xb;

	analytics_book_args(fcinfo, &xb);
	if (!xb.has_mid)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(xn_to_numeric(xb.mid));
}

PG_FUNCTION_INFO_V1(spread_bps);
Datum
spread_bps(PG_FUNCTION_ARGS)
{
	PerpsExactBook xb;
	XNum		spread;

	analytics_book_args(fcinfo, &xb);
	if (!xb.has_mid)
		PG_RETURN_NULL();
	spread = xn_sub(perps_exact_price(&xb.asks, 0), perps_exact_price(&xb.bids, 0));
	PG_RETURN_NUMERIC(xn_div(xn_mul(spread, xn_make(10000, 0)), xb.mid));
}

/*
 * liquidity_depth(bids, asks, bps) and market_depth(bids, asks, pct): one
 * row per threshold, (threshold, bid figure, ask figure[, bid complete, ask
 * complete]).
 */
static Datum
analytics_depth(FunctionCallInfo fcinfo, const char *what, int shift, bool base,
				bool with_complete)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *bids;
	ArrayType  *asks;
	PerpsExactBook xb;
	PerpsDepthResult dr;
	bool		fast;
	Datum	   *elems;
	XNum	   *fractions;
	int			n;
	int			i;
	int			s;

	analytics_init_srf(fcinfo);
	n = analytics_thresholds(PG_GETARG_ARRAYTYPE_P(2), what, shift, &elems, &fractions);
	bids = analytics_side(fcinfo, 0);
	asks = analytics_side(fcinfo, 1);

	/* the common case: both sides in one pass each (book_math.c) */
	for (s = 0; s < 2; s++)
	{
		dr.fig[s] = palloc(sizeof(XNum) * Max(n, 1));
		dr.complete[s] = palloc(sizeof(bool) * Max(n, 1));
	}
	fast = perps_depth_from_arrays(bids, asks, n, fractions, base, &dr);
	if (!fast)
	{
		perps_exact_from_arrays(bids, asks, &xb);
		if (!xb.has_mid)
			return (Datum) 0;
	}

	for (i = 0; i < n; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();	/* the general path walks the book once per threshold */
		if (!fast)
		{
			for (s = 0; s < 2; s++)
				dr.fig[s][i] = perps_exact_within(&xb, s == 0, fractions[i], base,
												  with_complete ? &dr.complete[s][i] : NULL);
		}
		values[0] = elems[i];
		values[1] = NumericGetDatum(xn_to_numeric(dr.fig[0][i]));
		values[2] = NumericGetDatum(xn_to_numeric(dr.fig[1][i]));
		if (with_complete)
		{
			values[3] = BoolGetDatum(dr.complete[0][i]);
			values[4] = BoolGetDatum(dr.complete[1][i]);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(liquidity_depth);
Datum
liquidity_depth(PG_FUNCTION_ARGS)
{
	return analytics_depth(fcinfo, "bps", 4, false, true);
}

PG_FUNCTION_INFO_V1(market_depth);
Datum
market_depth(PG_FUNCTION_ARGS)
{
	return analytics_depth(fcinfo, "pct", 0, true, false);
}

PG_FUNCTION_INFO_V1(slippage);
Datum
slippage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *side = text_to_cstring(PG_GETARG_TEXT_PP(2));
	XNum		notional = xn_from_datum(PG_GETARG_DATUM(3));
	PerpsExactBook xb;
	PerpsSlippage res;
	bool		is_buy;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	analytics_init_srf(fcinfo);
	is_buy = perps_slippage_args(side, notional, PG_GETARG_DATUM(3));

	/* the common case in one pass (book_math.c), else the general path */
	if (!perps_slippage_from_arrays(analytics_side(fcinfo, 0), analytics_side(fcinfo, 1),
									is_buy, notional, &xb.mid, &res))
	{
		analytics_book_args(fcinfo, &xb);
		if (!xb.has_mid)
			return (Datum) 0;
		perps_exact_slippage(&xb, is_buy, notional, &res);
	}
	perps_slippage_values(&res, xb.mid, values, nulls);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * The rows ingestion stores, through the C API of book_math.h: one
 * liquidity_depth row and the standard slippage rows of a book.
 * ------------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(liquidity_depth_row);
Datum
liquidity_depth_row(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	PerpsNumBook	book;
	Datum		values[PERPS_LIQUIDITY_ROW_NATTS];
	bool		nulls[PERPS_LIQUIDITY_ROW_NATTS];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != PERPS_LIQUIDITY_ROW_NATTS)
		elog(ERROR, "liquidity_depth_row must return %d columns", PERPS_LIQUIDITY_ROW_NATTS);
	tupdesc = BlessTupleDesc(tupdesc);

	perps_book_from_arrays(analytics_side(fcinfo, 0), analytics_side(fcinfo, 1), &book);
	if (!perps_book_liquidity_row(&book, values, nulls))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(slippage_rows);
Datum
slippage_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PerpsNumBook	book;
	PerpsSlippageRow rows[PERPS_SLIPPAGE_STD_ROWS];
	int			n;
	int			i;

	analytics_init_srf(fcinfo);
	perps_book_from_arrays(analytics_side(fcinfo, 0), analytics_side(fcinfo, 1), &book);
	n = perps_book_slippage_rows(&book, rows);
	for (i = 0; i < n; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		values[0] = NumericGetDatum(rows[i].amount);
		values[1] = CStringGetTextDatum(rows[i].is_buy ? "buy" : "sell");
		values[2] = NumericGetDatum(rows[i].mid_price);
		values[3] = rows[i].avg_price ? NumericGetDatum(rows[i].avg_price) : (Datum) 0;
		nulls[3] = rows[i].avg_price == NULL;
		values[4] = rows[i].slippage_bps ? NumericGetDatum(rows[i].slippage_bps) : (Datum) 0;
		nulls[4] = rows[i].slippage_bps == NULL;
		values[5] = BoolGetDatum(rows[i].feasible);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
