/*-------------------------------------------------------------------------
 *
 * wsum.h
 *		An exact running sum of numeric values and numeric products, for any
 *		scale and magnitude numeric can hold: base-10000 limbs in 64-bit
 *		integers, one per digit position, with the carries left for later.
 *
 * A numeric is stored as base-10000 digits and the weight of the first
 * one (PostgreSQL's numeric.c), so a value is added by adding each of its
 * digits into the limb of that digit's weight, and a product of two values
 * by adding every product of a digit of one and a digit of the other
 * (each below 10^8) into the limb of the sum of their weights: no digit
 * ever needs a carry at once.  A limb is an int64, so the carries are
 * propagated only when the limbs' headroom (WSum.room) runs out, in
 * practice never: after a carry pass every limb is below 10^4, and the
 * room of 2^62 takes over 10^10 products of numbers of two or more digits
 * (each adds at most 2 * 9999^2 to a limb) before the next.  Carrying, reading the sum out and sending it keep the value.
 *
 * The sum also keeps the largest display scale (dscale) of its terms, the
 * scale that PostgreSQL's numeric addition gives to a sum, and a product's
 * dscale is the sum of its factors' dscales, as numeric multiplication
 * gives it.  wsum_numeric() turns the sum into a Numeric with that dscale,
 * exactly what adding the terms one by one with numeric's + would give.
 *
 * Bounds: limbs cover the weights the terms reach, which numeric's format
 * keeps within 2^15 digits above the point and 2^14 decimals below it
 * (about 300 kB at the very worst; a few dozen bytes for market data).
 * Products whose factors have more than WSUM_MAX_FACTOR_DIGITS digits, or
 * whose scale or weight numeric's format cannot hold, are left to the
 * caller (numeric_mul, which rounds or raises the error numeric raises).
 *
 * Memory: the limbs are palloc'd in the context given to the functions
 * that may grow them (the aggregate context for a transition state).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_WSUM_H
#define PERPS_WSUM_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/numeric.h"

#include "exactnum.h"

/* factors of at most this many base-10000 digits are multiplied here */
#define WSUM_MAX_FACTOR_DIGITS 64

/* numeric's format: weights are int16, display scales 14 bits */
#define WSUM_WEIGHT_MAX PG_INT16_MAX
#define WSUM_WEIGHT_MIN PG_INT16_MIN
#define WSUM_DSCALE_MAX 0x3FFF

/* a numeric value, decoded in place (see wnum_decode) */
typedef enum WNumKind
{
	WNUM_FINITE,
	WNUM_NAN,
	WNUM_PINF,
	WNUM_NINF
} WNumKind;

typedef struct WNum
{
	WNumKind	kind;
	bool		neg;
	int32		weight;			/* weight of the first digit */
	int32		dscale;
	int32		ndigits;
	const char *digits;			/* ndigits int16, not necessarily aligned */
} WNum;

typedef struct WSum
{
	int64	   *limb;			/* limb[k]: the coefficient of 10000^(lo + k) */
	int32		lo;				/* weight of limb[0] */
	int32		nlimbs;			/* limbs allocated; 0 while nothing was added */
	int32		dscale;			/* largest dscale of the terms, 0 for none */
	int64		room;			/* what any limb may still take before a carry pass */
} WSum;

/*
 * Decodes a numeric Datum; a compressed or external one is detoasted into
 * the current memory context first.
 */
extern void wnum_decode(Datum d, WNum *x);

extern void wsum_init(WSum *s);

/* s += x; x finite */
extern void wsum_add(WSum *s, const WNum *x, MemoryContext cxt);

/*
 * s += a * b, a and b finite; false (and s unchanged) when the product is
 * not one this file computes (see the bounds above): the caller then uses
 * numeric_mul and wsum_add.
 */
extern bool wsum_add_product(WSum *s, const WNum *a, const WNum *b, MemoryContext cxt);

/* s += v * 10^-scale, 0 <= scale */
extern void wsum_add_int128(WSum *s, int128 v, int32 scale, MemoryContext cxt);

/* dst += src (src unchanged) */
extern void wsum_add_sum(WSum *dst, const WSum *src, MemoryContext cxt);

/* a copy of src in cxt */
extern void wsum_copy(WSum *dst, const WSum *src, MemoryContext cxt);

/* The sum as a Numeric in the current memory context (s is carried). */
extern Numeric wsum_numeric(WSum *s, MemoryContext cxt);

/* serial form, and back (s is carried first) */
extern void wsum_send(StringInfo buf, WSum *s, MemoryContext cxt);
extern void wsum_recv(StringInfo buf, WSum *s, MemoryContext cxt);


/*
 * XSum: an exact running sum of any numerics, in up to three parts whose
 * total is the sum:
 *   - a scaled 128-bit integer (value * 10^scale), which takes the terms
 *     that fit (market data: prices of 1-8 decimals, sizes of 0-8, their
 *     products) without a carry or a palloc;
 *   - a WSum, which takes every other finite term, whatever its scale or
 *     magnitude, and the 128-bit part when an addition would overflow it;
 *   - which non-finite values (NaN, +-Infinity) were added, for numeric's
 *     rules: NaN absorbs everything, +Inf + -Inf is NaN.
 * Its display scale is the largest of its terms', as numeric's + gives it.
 * The WSum's limbs are palloc'd in the context given.
 */
#define XSUM_NAN	0x01
#define XSUM_PINF	0x02
#define XSUM_NINF	0x04

typedef struct XSum
{
	int128		v;				/* the 128-bit part: value * 10^scale */
	int32		scale;
	uint8		special;		/* XSUM_* bits */
	WSum		w;				/* the rest */
} XSum;

extern void xsum_init(XSum *s);

/* s += x, a finite or non-finite numeric */
extern void xsum_add_wnum(XSum *s, const WNum *x, MemoryContext cxt);

/* s += n, a Numeric */
extern void xsum_add_numeric(XSum *s, Numeric n, MemoryContext cxt);

/*
 * s += a * b (a and b decoded from da and db): exactly in the limbs, or
 * numeric_mul's own product where the limbs do not take it (non-finite
 * factors, the bounds above), with its rounding and its errors.
 */
extern void xsum_add_product(XSum *s, const WNum *a, const WNum *b, Datum da, Datum db,
							 MemoryContext cxt);

/* dst += src (src unchanged) */
extern void xsum_add_sum(XSum *dst, const XSum *src, MemoryContext cxt);

/* The sum as an XNum: the 128-bit part alone when it is all of it, else a Numeric in the current context. */
extern XNum xsum_value(const XSum *s);

/* serial form: special bits, the 128-bit part (scale, two 64-bit halves), the WSum */
extern void xsum_send(StringInfo buf, XSum *s, MemoryContext cxt);
extern void xsum_recv(StringInfo buf, XSum *s, MemoryContext cxt);

/*
 * s += v * 10^-scale (0 <= scale <= XN_MAX_SCALE) into the 128-bit part;
 * when the scales cannot be aligned or the addition overflows, that part
 * moves into the WSum first.
 */
static inline void
xsum_add_small(XSum *s, int128 v, int32 scale, MemoryContext cxt)
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

#endif							/* PERPS_WSUM_H */
