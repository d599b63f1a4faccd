/*-------------------------------------------------------------------------
 *
 * vwap.c
 *		The vwap(price, qty) aggregate: sum(price * qty) / sum(qty), equal in
 *		value and scale to that SQL expression, on any numeric scale.
 *
 * The state keeps each of the two sums in up to three parts, whose total
 * is the sum:
 *   - a scaled 128-bit integer (value * 10^scale), which takes the rows
 *     whose price and qty fit in 64 bits with at most 18 decimals (market
 *     data: prices of 1-8 decimals, sizes of 0-8) without a carry or a
 *     palloc;
 *   - a WSum (wsum.h), base-10000 limbs, which takes every other finite
 *     row, whatever its scale or magnitude, and the 128-bit part when an
 *     addition would overflow it;
 *   - which non-finite values (NaN, +-Infinity) were added, for numeric's
 *     rules: NaN absorbs everything, +Inf + -Inf is NaN.
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

/* which non-finite values a sum has met */
#define VWAP_NAN	0x01
#define VWAP_PINF	0x02
#define VWAP_NINF	0x04

typedef struct VwapSum
{
	int128		v;				/* the 128-bit part: value * 10^scale */
	int32		scale;
	uint8		special;		/* VWAP_* bits */
	WSum		w;				/* the rest */
} VwapSum;

typedef struct VwapState
{
	int64		n;				/* rows accumulated */
	VwapSum		pq;				/* sum of price * qty */
	VwapSum		q;				/* sum of qty */
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

static void
vwap_sum_init(VwapSum *s)
{
	s->v = 0;
	s->scale = 0;
	s->special = 0;
	wsum_init(&s->w);
}

static VwapState *
vwap_new(MemoryContext aggcontext)
{
	VwapState  *st = MemoryContextAlloc(aggcontext, sizeof(VwapState));

	st->n = 0;
	vwap_sum_init(&st->pq);
	vwap_sum_init(&st->q);
	return st;
}

/*
 * s += v * 10^-scale into the 128-bit part; when the scales cannot be
 * aligned or the addition overflows, that part moves into the WSum first.
 */
static inline void
vwap_add_small(VwapSum *s, int128 v, int32 scale, MemoryContext cxt)
{
	int128		a = s->v,
				r;

	if (likely(scale == s->scale))
	{
		if (likely(!__builtin_add_overflow(a, v, &r)))
		{
			s->v = r;
			return;
		}
	}
	else if (scale < s->scale)
	{
		if (!__builtin_mul_overflow(v, xn_pow10[s->scale - scale], &r) &&
			!__builtin_add_overflow(a, r, &r))
		{
			s->v = r;
			return;
		}
	}
	else if (!__builtin_mul_overflow(a, xn_pow10[scale - s->scale], &r) &&
			 !__builtin_add_overflow(r, v, &r))
	{
		s->v = r;
		s->scale = scale;
		return;
	}
	/* the WSum keeps the larger scale as its dscale */
	wsum_add_int128(&s->w, s->v, s->scale, cxt);
	s->v = v;
	s->scale = scale;
}

static void
vwap_add_special(VwapSum *s, WNumKind kind)
{
	s->special |= kind == WNUM_NAN ? VWAP_NAN : kind == WNUM_PINF ? VWAP_PINF : VWAP_NINF;
}

/* s += a finite or non-finite numeric */
static void
vwap_add_wnum(VwapSum *s, const WNum *x, MemoryContext cxt)
{
	if (x->kind == WNUM_FINITE)
		wsum_add(&s->w, x, cxt);
	else
		vwap_add_special(s, x->kind);
}

/* The general path of a row: any scale, any magnitude, NaN and infinities. */
static pg_noinline void
vwap_accum_general(VwapState *st, Datum price, Datum qty, MemoryContext cxt)
{
	WNum		p,
				q;

	wnum_decode(price, &p);
	wnum_decode(qty, &q);
	if (p.kind != WNUM_FINITE || q.kind != WNUM_FINITE ||
		!wsum_add_product(&st->pq.w, &p, &q, cxt))
	{
		/* numeric's own product: its rounding, its errors, its NaN rules */
		Numeric		pq = numeric_mul_opt_error(DatumGetNumeric(price), DatumGetNumeric(qty), NULL);
		WNum		x;

		wnum_decode(NumericGetDatum(pq), &x);
		vwap_add_wnum(&st->pq, &x, cxt);
	}
	vwap_add_wnum(&st->q, &q, cxt);
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
		vwap_add_small(&st->pq, (int128) pm * qm, pd + qd, aggcontext);
		vwap_add_small(&st->q, qm, qd, aggcontext);
	}
	else
		vwap_accum_general(st, PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), aggcontext);
	st->n++;
	PG_RETURN_POINTER(st);
}

/* dst += src */
static void
vwap_sum_combine(VwapSum *dst, const VwapSum *src, MemoryContext cxt)
{
	vwap_add_small(dst, src->v, src->scale, cxt);
	wsum_add_sum(&dst->w, &src->w, cxt);
	dst->special |= src->special;
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
	vwap_sum_combine(&st1->pq, &st2->pq, aggcontext);
	vwap_sum_combine(&st1->q, &st2->q, aggcontext);
	st1->n += st2->n;
	PG_RETURN_POINTER(st1);
}

/*
 * A sum as an XNum: the 128-bit part alone when the rest is empty (and
 * its scale the sum's), a Numeric in the current context otherwise.
 */
static XNum
vwap_sum_value(const VwapSum *s)
{
	const char *special = NULL;
	WSum		t;

	if (s->special & VWAP_NAN || (s->special & VWAP_PINF && s->special & VWAP_NINF))
		special = "NaN";
	else if (s->special & VWAP_PINF)
		special = "Infinity";
	else if (s->special & VWAP_NINF)
		special = "-Infinity";
	if (special != NULL)
		return xn_from_datum(DirectFunctionCall3(numeric_in, CStringGetDatum(special),
												 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	if (s->w.nlimbs == 0 && s->w.dscale <= s->scale)
		return xn_small(s->v, s->scale);
	wsum_copy(&t, &s->w, CurrentMemoryContext);
	wsum_add_int128(&t, s->v, s->scale, CurrentMemoryContext);
	return xn_from_datum(NumericGetDatum(wsum_numeric(&t, CurrentMemoryContext)));
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
	q = vwap_sum_value(&st->q);
	if (!xn_is_special(q) && xn_sign(q) == 0)
		PG_RETURN_NULL();
	pq = vwap_sum_value(&st->pq);
	PG_RETURN_NUMERIC(xn_div(pq, q));
}

/*
 * Serial form: the row count, then per sum its special bits, the 128-bit
 * part (scale, then two 64-bit halves) and the WSum (wsum_send).
 */
static void
vwap_send_sum(StringInfo buf, VwapSum *s, MemoryContext cxt)
{
	pq_sendbyte(buf, s->special);
	pq_sendint32(buf, s->scale);
	pq_sendint64(buf, (int64) (s->v >> 64));
	pq_sendint64(buf, (int64) (uint64) s->v);
	wsum_send(buf, &s->w, cxt);
}

static void
vwap_recv_sum(StringInfo buf, VwapSum *s, MemoryContext cxt)
{
	uint64		hi,
				lo;

	s->special = pq_getmsgbyte(buf);
	s->scale = pq_getmsgint(buf, 4);
	hi = (uint64) pq_getmsgint64(buf);
	lo = (uint64) pq_getmsgint64(buf);
	if ((s->special & ~(VWAP_NAN | VWAP_PINF | VWAP_NINF)) != 0 ||
		s->scale < 0 || s->scale > XN_MAX_SCALE)
		elog(ERROR, "invalid vwap state in serial form");
	s->v = (int128) (((uint128) hi << 64) | (uint128) lo);
	wsum_recv(buf, &s->w, cxt);
}

PG_FUNCTION_INFO_V1(vwap_serialize);
Datum
vwap_serialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = vwap_context(fcinfo, "vwap_serialize");
	VwapState  *st = (VwapState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, st->n);
	vwap_send_sum(&buf, &st->pq, aggcontext);
	vwap_send_sum(&buf, &st->q, aggcontext);
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
	vwap_recv_sum(&buf, &st->pq, aggcontext);
	vwap_recv_sum(&buf, &st->q, aggcontext);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}
