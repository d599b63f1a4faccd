/*-------------------------------------------------------------------------
 *
 * vwap.c
 *		The vwap(price, qty) aggregate: sum(price * qty) / sum(qty), equal in
 *		value and scale to that SQL expression, on any numeric scale.
 *
 * The state keeps each of the two sums as an XSum (wsum.h): a scaled
 * 128-bit integer, which takes the rows whose price and qty fit in 64 bits
 * with at most 18 decimals (market data: prices of 1-8 decimals, sizes of
 * 0-8) without a carry or a palloc; base-10000 limbs for every other finite
 * row, whatever its scale or magnitude; and which non-finite values were
 * added, for numeric's rules.
 * The sums' display scales follow numeric's rules (a sum has the largest
 * scale of its terms, a product the sum of its factors' scales), so the
 * result is one numeric division of the two exact sums, as the SQL
 * expression computes it.  Products numeric would round (scale above
 * 16383) or reject (weight out of range), and products of factors of more
 * than 64 base-10000 digits, are computed by numeric_mul itself and then
 * added exactly.
 *
 * Memory: the state and the WSum limbs live in the aggregate context; the
 * final function works on copies in the current context (the state is
 * READ_ONLY for it).  Per-row temporaries are in the per-tuple context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "exactnum.h"
#include "wsum.h"

typedef struct VwapState
{
	int64		n;				/* rows accumulated */
	XSum		pq;				/* sum of price * qty */
	XSum		q;				/* sum of qty */
} VwapState;

/* the aggregate's SSPACE (sql/install/20_analytics.sql) */
StaticAssertDecl(sizeof(VwapState) == 120, "vwap's SSPACE is the size of VwapState");

static MemoryContext
vwap_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return aggcontext;
}

static VwapState *
vwap_new(MemoryContext aggcontext)
{
	VwapState  *st = MemoryContextAlloc(aggcontext, sizeof(VwapState));

	st->n = 0;
	xsum_init(&st->pq);
	xsum_init(&st->q);
	return st;
}

/* The general path of a row: any scale, any magnitude, NaN and infinities. */
static pg_noinline void
vwap_accum_general(VwapState *st, Datum price, Datum qty, MemoryContext cxt)
{
	WNum		p,
				q;

	wnum_decode(price, &p);
	wnum_decode(qty, &q);
	/* numeric's own product where the limbs do not take it: its rounding, its errors, its NaN rules */
	xsum_add_product(&st->pq, &p, &q, price, qty, cxt);
	xsum_add_wnum(&st->q, &q, cxt);
}

PG_FUNCTION_INFO_V1(vwap_accum);
Datum
vwap_accum(PG_FUNCTION_ARGS)
{
	VwapState  *st = PG_ARGISNULL(0) ? NULL : (VwapState *) PG_GETARG_POINTER(0);
	MemoryContext aggcontext = vwap_context(fcinfo, "vwap_accum");
	int64		pm,
				qm;
	int32		pd,
				qd;

	if (st == NULL)
		st = vwap_new(aggcontext);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);

	/* the common case: both fit in 64 bits, their product in 128 */
	if (likely(xn_decode_int64(PG_GETARG_DATUM(1), &pm, &pd) &&
			   xn_decode_int64(PG_GETARG_DATUM(2), &qm, &qd)))
	{
		xsum_add_small(&st->pq, (int128) pm * qm, pd + qd, aggcontext);
		xsum_add_small(&st->q, qm, qd, aggcontext);
	}
	else
		vwap_accum_general(st, PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), aggcontext);
	st->n++;
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(vwap_combine);
Datum
vwap_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = vwap_context(fcinfo, "vwap_combine");
	VwapState  *st1 = PG_ARGISNULL(0) ? NULL : (VwapState *) PG_GETARG_POINTER(0);
	VwapState  *st2 = PG_ARGISNULL(1) ? NULL : (VwapState *) PG_GETARG_POINTER(1);

	if (st2 == NULL)
	{
		if (st1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st1);
	}
	if (st1 == NULL)
		st1 = vwap_new(aggcontext);
	xsum_add_sum(&st1->pq, &st2->pq, aggcontext);
	xsum_add_sum(&st1->q, &st2->q, aggcontext);
	st1->n += st2->n;
	PG_RETURN_POINTER(st1);
}

PG_FUNCTION_INFO_V1(vwap_final);
Datum
vwap_final(PG_FUNCTION_ARGS)
{
	VwapState  *st = PG_ARGISNULL(0) ? NULL : (VwapState *) PG_GETARG_POINTER(0);
	XNum		pq,
				q;

	(void) vwap_context(fcinfo, "vwap_final");
	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	q = xsum_value(&st->q);
	if (!xn_is_special(q) && xn_sign(q) == 0)
		PG_RETURN_NULL();
	pq = xsum_value(&st->pq);
	PG_RETURN_NUMERIC(xn_div(pq, q));
}

/* Serial form: the row count, then each sum's (xsum_send). */
PG_FUNCTION_INFO_V1(vwap_serialize);
Datum
vwap_serialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = vwap_context(fcinfo, "vwap_serialize");
	VwapState  *st = (VwapState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, st->n);
	xsum_send(&buf, &st->pq, aggcontext);
	xsum_send(&buf, &st->q, aggcontext);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(vwap_deserialize);
Datum
vwap_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = vwap_context(fcinfo, "vwap_deserialize");
	bytea	   *sstate = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	VwapState  *st;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(sstate), VARSIZE_ANY_EXHDR(sstate));
	st = vwap_new(aggcontext);
	st->n = pq_getmsgint64(&buf);
	xsum_recv(&buf, &st->pq, aggcontext);
	xsum_recv(&buf, &st->q, aggcontext);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}
