/*-------------------------------------------------------------------------
 *
 * exactnum.c
 *		Exact decimal arithmetic for the order-book math: scaled 128-bit
 *		integers while values fit, PostgreSQL's numeric otherwise.
 *
 * The decoder reads the stored numeric format directly (a 16-bit header,
 * an optional 16-bit weight, then base-10000 digits; see the comments on
 * NumericData in PostgreSQL's numeric.c).  That format is part of the
 * on-disk format, so it cannot change within a major version.  Anything it
 * does not recognise as a plain finite value that fits is handed to
 * numeric.c unchanged, so the fast path never changes a result, it only
 * avoids palloc and fmgr calls.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "exactnum.h"

/* numeric storage format (numeric.c) */
#define XN_SIGN_MASK		0xC000
#define XN_NEG				0x4000
#define XN_SHORT			0x8000
#define XN_SPECIAL			0xC000
#define XN_SHORT_SIGN_MASK	0x2000
#define XN_SHORT_DSCALE_MASK	0x1F80
#define XN_SHORT_DSCALE_SHIFT	7
#define XN_SHORT_WEIGHT_SIGN	0x0040
#define XN_SHORT_WEIGHT_MASK	0x003F
#define XN_DSCALE_MASK		0x3FFF
#define XN_MAX_GROUPS		9	/* 9 base-10000 digits < 10^36 */

static const int128 xn_pow10_tab[XN_MAX_SCALE + 1] = {
	(int128) 1,
	(int128) 10,
	(int128) 100,
	(int128) 1000,
	(int128) 10000,
	(int128) 100000,
	(int128) 1000000,
	(int128) 10000000,
	(int128) 100000000,
	(int128) 1000000000,
	(int128) 10000000000LL,
	(int128) 100000000000LL,
	(int128) 1000000000000LL,
	(int128) 10000000000000LL,
	(int128) 100000000000000LL,
	(int128) 1000000000000000LL,
	(int128) 10000000000000000LL,
	(int128) 100000000000000000LL,
	(int128) 1000000000000000000LL,
	(int128) 1000000000000000000LL * 10,
	(int128) 1000000000000000000LL * 100,
	(int128) 1000000000000000000LL * 1000,
	(int128) 1000000000000000000LL * 10000,
	(int128) 1000000000000000000LL * 100000,
	(int128) 1000000000000000000LL * 1000000,
	(int128) 1000000000000000000LL * 10000000,
	(int128) 1000000000000000000LL * 100000000,
	(int128) 1000000000000000000LL * 1000000000,
	(int128) 1000000000000000000LL * 10000000000LL,
	(int128) 1000000000000000000LL * 100000000000LL,
	(int128) 1000000000000000000LL * 1000000000000LL,
	(int128) 1000000000000000000LL * 10000000000000LL,
	(int128) 1000000000000000000LL * 100000000000000LL,
	(int128) 1000000000000000000LL * 1000000000000000LL,
	(int128) 1000000000000000000LL * 10000000000000000LL,
	(int128) 1000000000000000000LL * 100000000000000000LL,
	(int128) 1000000000000000000LL * 1000000000000000000LL,
	(int128) 1000000000000000000LL * 1000000000000000000LL * 10,
	(int128) 1000000000000000000LL * 1000000000000000000LL * 100,
};

static inline XNum
xn_big(Numeric n)
{
	XNum		r;

	r.v = 0;
	r.scale = 0;
	r.n = n;
	r.big = true;
	return r;
}

static inline XNum
xn_small(int128 v, int32 scale)
{
	XNum		r;

	r.v = v;
	r.scale = scale;
	r.n = NULL;
	r.big = false;
	return r;
}

/*
 * Decodes the payload of a numeric varlena (data, len bytes, header
 * excluded) into v * 10^-dscale.  Returns false for NaN, infinities and
 * values that do not fit.
 */
static bool
xn_decode(const char *data, Size len, int128 *v, int32 *dscale)
{
	uint16		hdr;
	int			weight;
	bool		neg;
	const char *digits;
	int			ndigits;
	int128		acc = 0;
	int			shift;
	int			i;

	if (len < sizeof(uint16))
		return false;
	memcpy(&hdr, data, sizeof(uint16));
	if ((hdr & XN_SIGN_MASK) == XN_SPECIAL)
		return false;
	if (hdr & XN_SHORT)
	{
		neg = (hdr & XN_SHORT_SIGN_MASK) != 0;
		*dscale = (hdr & XN_SHORT_DSCALE_MASK) >> XN_SHORT_DSCALE_SHIFT;
		weight = (hdr & XN_SHORT_WEIGHT_MASK);
		if (hdr & XN_SHORT_WEIGHT_SIGN)
			weight |= ~XN_SHORT_WEIGHT_MASK;
		digits = data + sizeof(uint16);
		ndigits = (len - sizeof(uint16)) / sizeof(int16);
	}
	else
	{
		int16		w;

		if (len < 2 * sizeof(uint16))
			return false;
		neg = (hdr & XN_SIGN_MASK) == XN_NEG;
		*dscale = hdr & XN_DSCALE_MASK;
		memcpy(&w, data + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = data + 2 * sizeof(uint16);
		ndigits = (len - 2 * sizeof(uint16)) / sizeof(int16);
	}
	if (*dscale > XN_MAX_SCALE)
		return false;
	if (ndigits == 0)
	{
		*v = 0;
		return true;
	}
	if (ndigits > XN_MAX_GROUPS)
		return false;
	for (i = 0; i < ndigits; i++)
	{
		int16		d;

		memcpy(&d, digits + i * sizeof(int16), sizeof(int16));
		acc = acc * 10000 + d;
	}
	/* acc is the value times 10^(4 * (ndigits - 1 - weight)) */
	shift = *dscale - 4 * (ndigits - 1 - weight);
	if (shift > 0)
	{
		if (shift > XN_MAX_SCALE ||
			__builtin_mul_overflow(acc, xn_pow10_tab[shift], &acc))
			return false;
	}
	else if (shift < 0)
	{
		/* digits past dscale in the last group; they are zeros */
		if (-shift > XN_MAX_SCALE || acc % xn_pow10_tab[-shift] != 0)
			return false;
		acc /= xn_pow10_tab[-shift];
	}
	*v = neg ? -acc : acc;
	return true;
}

XNum
xn_from_datum(Datum d)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(d);
	int128		v;
	int32		dscale;

	if (VARATT_IS_EXTENDED(p) && !VARATT_IS_SHORT(p))
		p = pg_detoast_datum(p);
	if (xn_decode(VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p), &v, &dscale))
		return xn_small(v, dscale);
	return xn_big(DatumGetNumeric(PointerGetDatum(p)));
}

XNum
xn_make(int64 v, int32 scale)
{
	Assert(scale >= 0 && scale <= XN_MAX_SCALE);
	return xn_small((int128) v, scale);
}

Numeric
xn_to_numeric(XNum a)
{
	char		digits[48];
	char		buf[64];
	int			nd = 0;
	int			pos = 0;
	uint128		u;

	if (a.big)
		return a.n;
	u = a.v < 0 ? -(uint128) a.v : (uint128) a.v;
	do
	{
		digits[nd++] = '0' + (int) (u % 10);
		u /= 10;
	} while (u != 0);
	while (nd < a.scale + 1)
		digits[nd++] = '0';
	if (a.v < 0)
		buf[pos++] = '-';
	while (nd > a.scale)
		buf[pos++] = digits[--nd];
	if (a.scale > 0)
	{
		buf[pos++] = '.';
		while (nd > 0)
			buf[pos++] = digits[--nd];
	}
	buf[pos] = '\0';
	return DatumGetNumeric(DirectFunctionCall3(numeric_in,
											   CStringGetDatum(buf),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

/* Brings two fast-form values to the same scale; false on overflow. */
static inline bool
xn_align(XNum *a, XNum *b)
{
	if (a->scale < b->scale)
	{
		if (__builtin_mul_overflow(a->v, xn_pow10_tab[b->scale - a->scale], &a->v))
			return false;
		a->scale = b->scale;
	}
	else if (b->scale < a->scale)
	{
		if (__builtin_mul_overflow(b->v, xn_pow10_tab[a->scale - b->scale], &b->v))
			return false;
		b->scale = a->scale;
	}
	return true;
}

/* Turns a numeric result into an XNum, in the fast form when it fits. */
static XNum
xn_from_numeric(Numeric n)
{
	return xn_from_datum(NumericGetDatum(n));
}

XNum
xn_shift(XNum a, int32 k)
{
	if (!a.big && a.scale + k <= XN_MAX_SCALE)
		return xn_small(a.v, a.scale + k);
	/* multiplying by 1/10^k adds k to the display scale, as the fast form does */
	return xn_from_numeric(numeric_mul_opt_error(xn_to_numeric(a),
												 xn_to_numeric(xn_small(1, k)),
												 NULL));
}

XNum
xn_add(XNum a, XNum b)
{
	if (!a.big && !b.big)
	{
		XNum		x = a,
					y = b;
		int128		r;

		if (xn_align(&x, &y) && !__builtin_add_overflow(x.v, y.v, &r))
			return xn_small(r, x.scale);
	}
	return xn_from_numeric(numeric_add_opt_error(xn_to_numeric(a), xn_to_numeric(b), NULL));
}

XNum
xn_sub(XNum a, XNum b)
{
	if (!a.big && !b.big)
	{
		XNum		x = a,
					y = b;
		int128		r;

		if (xn_align(&x, &y) && !__builtin_sub_overflow(x.v, y.v, &r))
			return xn_small(r, x.scale);
	}
	return xn_from_numeric(numeric_sub_opt_error(xn_to_numeric(a), xn_to_numeric(b), NULL));
}

XNum
xn_mul(XNum a, XNum b)
{
	if (!a.big && !b.big && a.scale + b.scale <= XN_MAX_SCALE)
	{
		int128		r;

		if (!__builtin_mul_overflow(a.v, b.v, &r))
			return xn_small(r, a.scale + b.scale);
	}
	return xn_from_numeric(numeric_mul_opt_error(xn_to_numeric(a), xn_to_numeric(b), NULL));
}

int
xn_cmp(XNum a, XNum b)
{
	if (!a.big && !b.big)
	{
		XNum		x = a,
					y = b;

		if (xn_align(&x, &y))
			return (x.v > y.v) - (x.v < y.v);
	}
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 NumericGetDatum(xn_to_numeric(a)),
											 NumericGetDatum(xn_to_numeric(b))));
}

int
xn_sign(XNum a)
{
	if (!a.big)
		return (a.v > 0) - (a.v < 0);
	return xn_cmp(a, xn_small(0, 0));
}

bool
xn_is_special(XNum a)
{
	return a.big && (numeric_is_nan(a.n) || numeric_is_inf(a.n));
}

XNum
xn_half_sum(XNum a, XNum b)
{
	XNum		s = xn_add(a, b);

	if (!s.big)
	{
		int128		r;

		if (s.v % 2 == 0)
			return xn_small(s.v / 2, s.scale);
		if (s.scale < XN_MAX_SCALE && !__builtin_mul_overflow(s.v, 5, &r))
			return xn_small(r, s.scale + 1);
	}
	return xn_mul(s, xn_small(5, 1));
}

Numeric
xn_div(XNum a, XNum b)
{
	return numeric_div_opt_error(xn_to_numeric(a), xn_to_numeric(b), NULL);
}
