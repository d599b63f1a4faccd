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

#endif							/* PERPS_WSUM_H */
