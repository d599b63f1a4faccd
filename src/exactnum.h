/*-------------------------------------------------------------------------
 *
 * exactnum.h
 *		Exact decimal arithmetic with PostgreSQL numeric semantics and a
 *		fast path: a value is a scaled 128-bit integer while it fits, and a
 *		Numeric otherwise.
 *
 * An XNum holds the same value and the same display scale (dscale) that
 * PostgreSQL's numeric operators would produce: addition and subtraction
 * keep the larger scale, multiplication adds the scales.  Whenever an
 * operation would overflow the 128-bit form (or needs more than 38 decimal
 * places, or meets NaN or infinity) it is done by numeric.c instead, so the
 * result is always exact.  Division is only offered as a Numeric result
 * (xn_div), with numeric_div's choice of result scale.
 *
 * Memory: a "big" XNum points at a Numeric palloc'd in the memory context
 * that was current when it was made (or at the caller's input); callers
 * that keep XNums across calls copy them (see analytics.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_EXACTNUM_H
#define PERPS_EXACTNUM_H

#include "postgres.h"

#include "utils/numeric.h"

/* largest scale held in the 128-bit form */
#define XN_MAX_SCALE 38

typedef struct XNum
{
	union
	{
		int128		v;			/* value * 10^scale, when !big */
		Numeric		n;			/* the value, when big */
	};
	int32		scale;			/* display scale, when !big */
	bool		big;
} XNum;

/* 10^0 .. 10^38 */
extern const int128 xn_pow10[XN_MAX_SCALE + 1];

/* Decodes a numeric Datum (any varlena header form). */
extern XNum xn_from_datum(Datum d);

/* largest scale of the 64-bit form below */
#define XN_INT64_MAX_SCALE 18

/*
 * Decodes a plain (not compressed or external) numeric Datum into m *
 * 10^-dscale when m fits in 64 bits and dscale <= XN_INT64_MAX_SCALE;
 * false otherwise (also for NaN and infinities).
 */
extern bool xn_decode_int64(Datum d, int64 *m, int32 *dscale);

extern Numeric xn_to_numeric(XNum a);

/* A Numeric as an XNum, in the fast form when it fits. */
extern XNum xn_from_numeric(Numeric n);

/* the numeric.c paths of the operations below */
extern XNum xn_add_slow(XNum a, XNum b);
extern XNum xn_sub_slow(XNum a, XNum b);
extern XNum xn_mul_slow(XNum a, XNum b);
extern int	xn_cmp_slow(XNum a, XNum b);

/* -1, 0, 1; NaN counts as greater than any number (as numeric_cmp) */
extern int	xn_sign_slow(XNum a);

/* true for NaN and +-Infinity */
extern bool xn_is_special(XNum a);

/* (a + b) / 2 exactly, with at most one more decimal than a + b */
extern XNum xn_half_sum(XNum a, XNum b);

/* a / b with numeric_div's result scale; b must not be zero */
extern Numeric xn_div(XNum a, XNum b);

/* a / 10^k exactly (only the scale changes in the fast form) */
extern XNum xn_shift(XNum a, int32 k);

static inline XNum
xn_small(int128 v, int32 scale)
{
	XNum		r;

	r.v = v;
	r.scale = scale;
	r.big = false;
	return r;
}

/* v / 10^scale */
static inline XNum
xn_make(int64 v, int32 scale)
{
	Assert(scale >= 0 && scale <= XN_MAX_SCALE);
	return xn_small((int128) v, scale);
}

/* Brings two fast-form values to the same scale; false on overflow. */
static inline bool
xn_align(XNum *a, XNum *b)
{
	if (likely(a->scale == b->scale))
		return true;
	if (a->scale < b->scale)
	{
		if (__builtin_mul_overflow(a->v, xn_pow10[b->scale - a->scale], &a->v))
			return false;
		a->scale = b->scale;
	}
	else
	{
		if (__builtin_mul_overflow(b->v, xn_pow10[a->scale - b->scale], &b->v))
			return false;
		b->scale = a->scale;
	}
	return true;
}

static inline XNum
xn_add(XNum a, XNum b)
{
	if (likely(!a.big && !b.big))
	{
		XNum		x = a,
					y = b;
		int128		r;

		if (xn_align(&x, &y) && !__builtin_add_overflow(x.v, y.v, &r))
			return xn_small(r, x.scale);
	}
	return xn_add_slow(a, b);
}

static inline XNum
xn_sub(XNum a, XNum b)
{
	if (likely(!a.big && !b.big))
	{
		XNum		x = a,
					y = b;
		int128		r;

		if (xn_align(&x, &y) && !__builtin_sub_overflow(x.v, y.v, &r))
			return xn_small(r, x.scale);
	}
	return xn_sub_slow(a, b);
}

static inline XNum
xn_mul(XNum a, XNum b)
{
	if (likely(!a.big && !b.big && a.scale + b.scale <= XN_MAX_SCALE))
	{
		int128		r;

		if (!__builtin_mul_overflow(a.v, b.v, &r))
			return xn_small(r, a.scale + b.scale);
	}
	return xn_mul_slow(a, b);
}

static inline int
xn_cmp(XNum a, XNum b)
{
	if (likely(!a.big && !b.big))
	{
		XNum		x = a,
					y = b;

		if (xn_align(&x, &y))
			return (x.v > y.v) - (x.v < y.v);
	}
	return xn_cmp_slow(a, b);
}

static inline int
xn_sign(XNum a)
{
	if (likely(!a.big))
		return (a.v > 0) - (a.v < 0);
	return xn_sign_slow(a);
}

#endif							/* PERPS_EXACTNUM_H */
