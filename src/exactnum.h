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
	int128		v;				/* value * 10^scale, when !big */
	Numeric		n;				/* the value, when big */
	int32		scale;			/* display scale, when !big */
	bool		big;
} XNum;

/* Decodes a numeric Datum (any varlena header form). */
extern XNum xn_from_datum(Datum d);

/* v / 10^scale */
extern XNum xn_make(int64 v, int32 scale);

/* a / 10^k exactly (only the scale changes in the fast form) */
extern XNum xn_shift(XNum a, int32 k);

extern Numeric xn_to_numeric(XNum a);
extern XNum xn_add(XNum a, XNum b);
extern XNum xn_sub(XNum a, XNum b);
extern XNum xn_mul(XNum a, XNum b);
extern int	xn_cmp(XNum a, XNum b);

/* -1, 0, 1; NaN counts as greater than any number (as numeric_cmp) */
extern int	xn_sign(XNum a);

/* true for NaN and +-Infinity */
extern bool xn_is_special(XNum a);

/* (a + b) / 2 exactly, with at most one more decimal than a + b */
extern XNum xn_half_sum(XNum a, XNum b);

/* a / b with numeric_div's result scale; b must not be zero */
extern Numeric xn_div(XNum a, XNum b);

#endif							/* PERPS_EXACTNUM_H */
