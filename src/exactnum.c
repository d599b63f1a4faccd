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

const int128 xn_pow10[XN_MAX_SCALE + 1] = {
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
	r.n = n;
	r.scale = 0;
	r.big = true;
	return r;
}

/*
 * Decodes the payload of a numeric varlena (data, len bytes, header
 * excluded) into v * 10^-dscale.  Returns false for NaN, infinities and
 * values that do not fit.
 */
static inline bool
xn_decode(const char *data, Size len, int128 *v, int32 *dscale)
{
	uint16		hdr;
	int			weight;
	bool		neg;
	const char *digits;
	int			ndigits;
	int128		acc = 0;
	int			shift;

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

	/*
	 * The digit groups read as one integer are the value times
	 * 10^(4 * (ndigits - 1 - weight)); scaling that to 10^dscale is a
	 * multiplication, or, when the last group holds digits past dscale
	 * (always zeros), a cut of 1 to 3 decimal digits of that group.
	 */
	shift = *dscale - 4 * (ndigits - 1 - weight);
	if (shift < -3 || shift > XN_MAX_SCALE)
		return false;
	{
		int			nfull = shift < 0 ? ndigits - 1 : ndigits;
		int64		acc64 = 0;
		int			i;

		for (i = 0; i < nfull && i < 4; i++)
		{
			int16		d;

			memcpy(&d, digits + i * sizeof(int16), sizeof(int16));
			acc64 = acc64 * 10000 + d;
		}
		acc = acc64;
		for (; i < nfull; i++)
		{
			int16		d;

			memcpy(&d, digits + i * sizeof(int16), sizeof(int16));
			acc = acc * 10000 + d;
		}
		if (shift < 0)
		{
			static const int16 cut_pow[4] = {1, 10, 100, 1000};
			int16		d;
			int			cut = -shift;

			memcpy(&d, digits + (ndigits - 1) * sizeof(int16), sizeof(int16));
			if (d % cut_pow[cut] != 0)
				return false;
			acc = acc * cut_pow[4 - cut] + d / cut_pow[cut];
		}
		else if (shift > 0 &&
				 __builtin_mul_overflow(acc, xn_pow10[shift], &acc))
			return false;
	}
	*v = neg ? -acc : acc;
	return true;
}

/*
 * The 64-bit decoder: the same reading of the format as xn_decode,
 * specialised for values of at most five digit groups.
 */
bool
xn_decode_int64(Datum d, int64 *m, int32 *dscale)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(d);
	const char *data;
	Size		len;
	uint16		hdr;
	int			weight;
	int			ndigits;
	int			ds;
	int			shift;
	int			nfull;
	bool		neg;
	const char *digits;
	uint64		acc = 0;
	int			i;

	if (VARATT_IS_4B_U(p))
	{
		data = VARDATA(p);
		len = VARSIZE(p) - VARHDRSZ;
	}
	else if (VARATT_IS_1B(p) && !VARATT_IS_1B_E(p))
	{
		data = VARDATA_SHORT(p);
		len = VARSIZE_SHORT(p) - VARHDRSZ_SHORT;
	}
	else
		return false;
	if (unlikely(len < sizeof(uint16)))
		return false;
	memcpy(&hdr, data, sizeof(uint16));
	if ((hdr & XN_SIGN_MASK) == XN_SHORT)
	{
		neg = (hdr & XN_SHORT_SIGN_MASK) != 0;
		ds = (hdr & XN_SHORT_DSCALE_MASK) >> XN_SHORT_DSCALE_SHIFT;
		weight = (hdr & XN_SHORT_WEIGHT_MASK);
		if (hdr & XN_SHORT_WEIGHT_SIGN)
			weight |= ~XN_SHORT_WEIGHT_MASK;
		digits = data + sizeof(uint16);
		ndigits = (len - sizeof(uint16)) / sizeof(int16);
	}
	else if ((hdr & XN_SIGN_MASK) == XN_SPECIAL || len < 2 * sizeof(uint16))
		return false;
	else
	{
		int16		w;

		neg = (hdr & XN_SIGN_MASK) == XN_NEG;
		ds = hdr & XN_DSCALE_MASK;
		memcpy(&w, data + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = data + 2 * sizeof(uint16);
		ndigits = (len - 2 * sizeof(uint16)) / sizeof(int16);
	}
	if (ds > XN_INT64_MAX_SCALE || ndigits > 5)
		return false;
	*dscale = ds;
	if (ndigits == 0)
	{
		*m = 0;
		return true;
	}

	/* as in xn_decode */
	shift = ds - 4 * (ndigits - 1 - weight);
	if (shift < -3 || shift > XN_INT64_MAX_SCALE)
		return false;
	nfull = shift < 0 ? ndigits - 1 : ndigits;
	for (i = 0; i < nfull; i++)
	{
		int16		dg;

		memcpy(&dg, digits + i * sizeof(int16), sizeof(int16));
		if (i < 4)
			acc = acc * 10000 + (uint64) dg;
		else if (__builtin_mul_overflow(acc, (uint64) 10000, &acc) ||
				 __builtin_add_overflow(acc, (uint64) dg, &acc))
			return false;
	}
	if (shift < 0)
	{
		uint16		dg;
		uint64		keep;
		uint64		mul;

		memcpy(&dg, digits + (ndigits - 1) * sizeof(int16), sizeof(int16));
		/* constant divisors: no division instruction on this hot path */
		switch (-shift)
		{
			case 1:
				if (dg % 10 != 0)
					return false;
				keep = dg / 10;
				mul = 1000;
				break;
			case 2:
				if (dg % 100 != 0)
					return false;
				keep = dg / 100;
				mul = 100;
				break;
			default:
				if (dg % 1000 != 0)
					return false;
				keep = dg / 1000;
				mul = 10;
				break;
		}
		if (__builtin_mul_overflow(acc, mul, &acc) ||
			__builtin_add_overflow(acc, keep, &acc))
			return false;
	}
	else if (shift > 0 &&
			 __builtin_mul_overflow(acc, (uint64) xn_pow10[shift], &acc))
		return false;
	if (acc > (uint64) PG_INT64_MAX)
		return false;
	*m = neg ? -(int64) acc : (int64) acc;
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

/* |v|, for every int128 (the most negative included) */
static inline uint128
xn_uabs(int128 v)
{
	return v < 0 ? -(uint128) v : (uint128) v;
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
	/* the common case: numeric.c builds it from the 64-bit integer directly */
	if (a.v >= PG_INT64_MIN && a.v <= PG_INT64_MAX)
		return int64_div_fast_to_numeric((int64) a.v, a.scale);
	u = xn_uabs(a.v);
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

XNum
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
xn_add_slow(XNum a, XNum b)
{
	return xn_from_numeric(numeric_add_opt_error(xn_to_numeric(a), xn_to_numeric(b), NULL));
}

XNum
xn_sub_slow(XNum a, XNum b)
{
	return xn_from_numeric(numeric_sub_opt_error(xn_to_numeric(a), xn_to_numeric(b), NULL));
}

XNum
xn_mul_slow(XNum a, XNum b)
{
	return xn_from_numeric(numeric_mul_opt_error(xn_to_numeric(a), xn_to_numeric(b), NULL));
}

int
xn_cmp_slow(XNum a, XNum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 NumericGetDatum(xn_to_numeric(a)),
											 NumericGetDatum(xn_to_numeric(b))));
}

int
xn_sign_slow(XNum a)
{
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

/*
 * The weight of the leading base-10000 digit of a non-zero value of
 * magnitude u * 10^-scale and that digit, as numeric.c's select_div_scale
 * finds them in the value's NumericVar (whose digits carry no leading zero).
 */
static void
xn_lead(uint128 u, int32 scale, int *weight, int *first)
{
	int			d = 1;			/* decimal digits of u */
	int			e,
				k;

	while (d <= XN_MAX_SCALE && u >= (uint128) xn_pow10[d])
		d++;
	e = d - 1 - scale;			/* 10^e <= |value| < 10^(e+1) */
	*weight = e >= 0 ? e / 4 : -((3 - e) / 4);	/* floor(e / 4) */
	k = scale + 4 * *weight;	/* |value| / 10000^weight = u / 10^k, d - 4 <= k < d */
	*first = k >= 0 ? (int) (u / (uint128) xn_pow10[k]) : (int) (u * (uint128) xn_pow10[-k]);
}

/*
 * a / b as numeric_div computes it: the result scale of select_div_scale
 * (16 significant digits from the quotient's estimated weight, at least the
 * operands' scales), the exact quotient rounded half away from zero at that
 * scale.  In 128-bit integers when the operands are in that form and the
 * scaled dividend fits; numeric_div otherwise (and for a zero dividend).
 */
Numeric
xn_div(XNum a, XNum b)
{
	if (!a.big && !b.big && a.v != 0 && b.v != 0)
	{
		int			w1,
					f1,
					w2,
					f2,
					qweight,
					rscale,
					t;
		uint128		u = xn_uabs(a.v);
		uint128		d = b.v < 0 ? -(uint128) b.v : (uint128) b.v;
		uint128		n;

		xn_lead(u, a.scale, &w1, &f1);
		xn_lead(d, b.scale, &w2, &f2);
		qweight = w1 - w2;
		if (f1 <= f2)
			qweight--;
		rscale = NUMERIC_MIN_SIG_DIGITS - qweight * 4;
		rscale = Max(rscale, a.scale);
		rscale = Max(rscale, b.scale);
		rscale = Max(rscale, NUMERIC_MIN_DISPLAY_SCALE);
		/* |a| / |b| * 10^rscale = |a.v| * 10^t / |b.v|, t >= b.scale >= 0 */
		t = rscale + b.scale - a.scale;
		if (rscale <= XN_MAX_SCALE && t <= XN_MAX_SCALE &&
			!__builtin_mul_overflow(u, (uint128) xn_pow10[t], &n))
		{
			uint128		q = n / d;
			uint128		r = n % d;

			if (r >= d - r)
				q++;			/* half away from zero */
			if ((q >> 127) == 0)
				return xn_to_numeric(xn_small((a.v < 0) != (b.v < 0) ? -(int128) q : (int128) q,
											  rscale));
		}
	}
	return numeric_div_opt_error(xn_to_numeric(a), xn_to_numeric(b), NULL);
}
