/*-------------------------------------------------------------------------
 *
 * wsum.c
 *		An exact running sum of numerics and numeric products in base-10000
 *		limbs (wsum.h says how and why).
 *
 * The numeric storage format is read directly, as exactnum.c does (a
 * 16-bit header, an optional 16-bit weight, base-10000 digits); the sum
 * becomes a Numeric through numeric_recv, whose binary format (digit
 * count, weight, sign, dscale, digits) is public and checked there.
 *
 * Invariant after a carry pass (wsum_carry): every limb but the top one is
 * in [0, 9999] and the top one in (-10000, 10000), so the value is negative
 * exactly when the highest non-zero limb is.  Between passes limbs take
 * any signed sum, and room says how much more any limb may take.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "wsum.h"

#define WSUM_BASE		10000
/* headroom after a carry pass: limbs and carries stay far from 2^63 */
#define WSUM_ROOM		(PG_INT64_MAX / 2)
/* limbs added beyond what a term needs, when the limbs grow */
#define WSUM_SLACK		8
/* numeric storage format (numeric.c), as in exactnum.c */
#define WN_SIGN_MASK	0xC000
#define WN_NEG			0x4000
#define WN_SHORT		0x8000
#define WN_SPECIAL		0xC000
#define WN_NAN			0xC000
#define WN_PINF			0xD000
#define WN_NINF			0xF000
#define WN_EXT_MASK		0xF000
#define WN_SHORT_SIGN_MASK	0x2000
#define WN_SHORT_DSCALE_MASK	0x1F80
#define WN_SHORT_DSCALE_SHIFT	7
#define WN_SHORT_WEIGHT_SIGN	0x0040
#define WN_SHORT_WEIGHT_MASK	0x003F
#define WN_DSCALE_MASK	0x3FFF
/* numeric_recv's sign words */
#define WN_RECV_POS		0x0000
#define WN_RECV_NEG		0x4000

void
wnum_decode(Datum d, WNum *x)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(d);
	const char *data;
	Size		len;
	uint16		hdr;

	if (VARATT_IS_EXTENDED(p) && !VARATT_IS_SHORT(p))
		p = pg_detoast_datum_packed(p);
	data = VARDATA_ANY(p);
	len = VARSIZE_ANY_EXHDR(p);
	if (len < sizeof(uint16))
		elog(ERROR, "numeric of %zu bytes", len);
	memcpy(&hdr, data, sizeof(uint16));
	x->neg = false;
	x->weight = 0;
	x->dscale = 0;
	x->ndigits = 0;
	x->digits = NULL;
	if ((hdr & WN_SIGN_MASK) == WN_SPECIAL)
	{
		switch (hdr & WN_EXT_MASK)
		{
			case WN_PINF:
				x->kind = WNUM_PINF;
				break;
			case WN_NINF:
				x->kind = WNUM_NINF;
				break;
			default:
				x->kind = WNUM_NAN;
				break;
		}
		return;
	}
	x->kind = WNUM_FINITE;
	if (hdr & WN_SHORT)
	{
		int			w = hdr & WN_SHORT_WEIGHT_MASK;

		if (hdr & WN_SHORT_WEIGHT_SIGN)
			w |= ~WN_SHORT_WEIGHT_MASK;
		x->neg = (hdr & WN_SHORT_SIGN_MASK) != 0;
		x->dscale = (hdr & WN_SHORT_DSCALE_MASK) >> WN_SHORT_DSCALE_SHIFT;
		x->weight = w;
		x->digits = data + sizeof(uint16);
		x->ndigits = (len - sizeof(uint16)) / sizeof(int16);
	}
	else
	{
		int16		w;

		if (len < 2 * sizeof(uint16))
			elog(ERROR, "numeric of %zu bytes", len);
		memcpy(&w, data + sizeof(uint16), sizeof(int16));
		x->neg = (hdr & WN_SIGN_MASK) == WN_NEG;
		x->dscale = hdr & WN_DSCALE_MASK;
		x->weight = w;
		x->digits = data + 2 * sizeof(uint16);
		x->ndigits = (len - 2 * sizeof(uint16)) / sizeof(int16);
	}
}

void
wsum_init(WSum *s)
{
	s->limb = NULL;
	s->lo = 0;
	s->nlimbs = 0;
	s->dscale = 0;
	s->room = WSUM_ROOM;
}

/* Makes limbs cover the weights lo .. hi (each side grows with slack). */
static void
wsum_cover(WSum *s, int32 lo, int32 hi, MemoryContext cxt)
{
	int32		nlo,
				nhi,
				n;
	int64	   *limb;

	if (likely(s->nlimbs > 0 && lo >= s->lo && hi < s->lo + s->nlimbs))
		return;
	if (s->nlimbs == 0)
	{
		nlo = lo - WSUM_SLACK / 2;
		nhi = hi + WSUM_SLACK / 2;
	}
	else
	{
		nlo = lo < s->lo ? lo - WSUM_SLACK : s->lo;
		nhi = hi >= s->lo + s->nlimbs ? hi + WSUM_SLACK : s->lo + s->nlimbs - 1;
	}
	n = nhi - nlo + 1;
	limb = MemoryContextAllocZero(cxt, sizeof(int64) * n);
	if (s->nlimbs > 0)
	{
		memcpy(limb + (s->lo - nlo), s->limb, sizeof(int64) * s->nlimbs);
		pfree(s->limb);
	}
	s->limb = limb;
	s->lo = nlo;
	s->nlimbs = n;
}

/*
 * The carry pass: every limb below the highest non-zero one into
 * [0, 9999], and that one into (-10000, 10000), carrying into limbs above
 * (added when needed) as long as it is out of that range.
 */
static void
wsum_carry(WSum *s, MemoryContext cxt)
{
	int64		carry = 0;
	int64		v;
	int32		h = s->nlimbs - 1;
	int32		k;
	int32		w;

	s->room = WSUM_ROOM;
	while (h >= 0 && s->limb[h] == 0)
		h--;
	if (h < 0)
		return;
	for (k = 0; k < h; k++)
	{
		v = s->limb[k] + carry;
		carry = v / WSUM_BASE;
		v -= carry * WSUM_BASE;
		if (v < 0)
		{
			v += WSUM_BASE;
			carry--;
		}
		s->limb[k] = v;
	}
	/* from the highest non-zero limb up, by weight: wsum_cover moves limbs */
	w = s->lo + h;
	v = s->limb[h] + carry;
	while (v <= -WSUM_BASE || v >= WSUM_BASE)
	{
		int64		c = v / WSUM_BASE;
		int64		d = v - c * WSUM_BASE;

		if (d < 0)
		{
			d += WSUM_BASE;
			c--;
		}
		s->limb[w - s->lo] = d;
		w++;
		wsum_cover(s, w, w, cxt);
		v = s->limb[w - s->lo] + c;
	}
	s->limb[w - s->lo] = v;
}

/* Makes room for `need` more in any limb. */
static inline void
wsum_reserve(WSum *s, int64 need, MemoryContext cxt)
{
	if (unlikely(s->room < need))
		wsum_carry(s, cxt);
	s->room -= need;
}

static inline int32
wn_digit(const char *digits, int i)
{
	int16		d;

	memcpy(&d, digits + i * sizeof(int16), sizeof(int16));
	return d;
}

void
wsum_add(WSum *s, const WNum *x, MemoryContext cxt)
{
	int64	   *t;
	int			i;

	Assert(x->kind == WNUM_FINITE);
	s->dscale = Max(s->dscale, x->dscale);
	if (x->ndigits == 0)
		return;
	wsum_cover(s, x->weight - x->ndigits + 1, x->weight, cxt);
	wsum_reserve(s, WSUM_BASE, cxt);
	t = s->limb + (x->weight - s->lo);
	if (x->neg)
		for (i = 0; i < x->ndigits; i++)
			t[-i] -= wn_digit(x->digits, i);
	else
		for (i = 0; i < x->ndigits; i++)
			t[-i] += wn_digit(x->digits, i);
}

bool
wsum_add_product(WSum *s, const WNum *a, const WNum *b, MemoryContext cxt)
{
	int64		da[WSUM_MAX_FACTOR_DIGITS];
	int64		db[WSUM_MAX_FACTOR_DIGITS];
	int32		na = a->ndigits,
				nb = b->ndigits;
	int32		top,
				bottom;
	int64	   *t;
	int			i,
				j;

	Assert(a->kind == WNUM_FINITE && b->kind == WNUM_FINITE);
	if (na > WSUM_MAX_FACTOR_DIGITS || nb > WSUM_MAX_FACTOR_DIGITS ||
		a->dscale + b->dscale > WSUM_DSCALE_MAX)
		return false;
	if (na == 0 || nb == 0)
	{
		s->dscale = Max(s->dscale, a->dscale + b->dscale);
		return true;
	}
	/* the product's digits lie between these weights (the top one may be 0) */
	top = a->weight + b->weight + 1;
	bottom = (a->weight - na + 1) + (b->weight - nb + 1);
	if (top > WSUM_WEIGHT_MAX || bottom < WSUM_WEIGHT_MIN)
		return false;
	s->dscale = Max(s->dscale, a->dscale + b->dscale);
	wsum_cover(s, bottom, top, cxt);
	wsum_reserve(s, (int64) Min(na, nb) * (WSUM_BASE - 1) * (WSUM_BASE - 1), cxt);
	for (i = 0; i < na; i++)
		da[i] = a->neg != b->neg ? -wn_digit(a->digits, i) : wn_digit(a->digits, i);
	for (j = 0; j < nb; j++)
		db[j] = wn_digit(b->digits, j);
	t = s->limb + (top - 1 - s->lo);
	for (i = 0; i < na; i++)
	{
		int64	   *ti = t - i;
		int64		ai = da[i];

		for (j = 0; j < nb; j++)
			ti[-j] += ai * db[j];
	}
	return true;
}

void
wsum_add_int128(WSum *s, int128 v, int32 scale, MemoryContext cxt)
{
	/* v * 10^-scale = v * 10^r * 10000^-m, scale + r = 4m, 0 <= r < 4 */
	static const int64 pow10[4] = {1, 10, 100, 1000};
	int32		r = (4 - scale % 4) % 4;
	int32		m = (scale + r) / 4;
	bool		neg = v < 0;
	uint128		u = neg ? -(uint128) v : (uint128) v;
	int32		w = -m;

	Assert(scale >= 0);
	s->dscale = Max(s->dscale, scale);
	if (u == 0)
		return;
	/* at most 39 decimal digits, ten limbs */
	wsum_cover(s, -m, -m + 10, cxt);
	wsum_reserve(s, WSUM_BASE * pow10[3], cxt);
	while (u != 0)
	{
		int64		c = (int64) (u % WSUM_BASE) * pow10[r];

		u /= WSUM_BASE;
		s->limb[w - s->lo] += neg ? -c : c;
		w++;
	}
}

void
wsum_copy(WSum *dst, const WSum *src, MemoryContext cxt)
{
	*dst = *src;
	if (src->nlimbs > 0)
	{
		dst->limb = MemoryContextAlloc(cxt, sizeof(int64) * src->nlimbs);
		memcpy(dst->limb, src->limb, sizeof(int64) * src->nlimbs);
	}
}

void
wsum_add_sum(WSum *dst, const WSum *src, MemoryContext cxt)
{
	WSum		c;
	int32		k;

	dst->dscale = Max(dst->dscale, src->dscale);
	if (src->nlimbs == 0)
		return;
	/* a carried copy of src: each of its limbs is then below 10^4 */
	wsum_copy(&c, src, CurrentMemoryContext);
	wsum_carry(&c, CurrentMemoryContext);
	wsum_cover(dst, c.lo, c.lo + c.nlimbs - 1, cxt);
	wsum_reserve(dst, WSUM_BASE, cxt);
	for (k = 0; k < c.nlimbs; k++)
		dst->limb[c.lo + k - dst->lo] += c.limb[k];
	pfree(c.limb);
}

/*
 * After a carry pass: the index of the highest non-zero limb, -1 for a zero
 * sum; and makes every limb non-negative (negating a negative sum).
 */
static int32
wsum_magnitude(WSum *s, bool *neg, MemoryContext cxt)
{
	int32		h;
	int32		k;

	/* the carry pass may add limbs at the top: the highest is found after it */
	wsum_carry(s, cxt);
	h = s->nlimbs - 1;
	while (h >= 0 && s->limb[h] == 0)
		h--;
	*neg = h >= 0 && s->limb[h] < 0;
	if (*neg)
	{
		for (k = 0; k <= h; k++)
			s->limb[k] = -s->limb[k];
		/* limbs in [-9999, 0] under a positive top: the carries stay below h */
		wsum_carry(s, cxt);
		while (h >= 0 && s->limb[h] == 0)
			h--;
	}
	return h;
}

Numeric
wsum_numeric(WSum *s, MemoryContext cxt)
{
	StringInfoData buf;
	bool		neg = false;
	int32		h = s->nlimbs > 0 ? wsum_magnitude(s, &neg, cxt) : -1;
	int32		l = 0;
	int32		k;

	initStringInfo(&buf);
	if (h < 0)
	{
		pq_sendint16(&buf, 0);
		pq_sendint16(&buf, 0);
		pq_sendint16(&buf, WN_RECV_POS);
	}
	else
	{
		int32		weight = s->lo + h;

		while (s->limb[l] == 0)
			l++;
		if (weight > WSUM_WEIGHT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value overflows numeric format")));
		/* the terms' digits end within their dscale, and so do the sum's */
		if (h - l + 1 > PG_UINT16_MAX || s->lo + l < WSUM_WEIGHT_MIN)
			elog(ERROR, "sum of %d digits from weight %d", h - l + 1, s->lo + l);
		pq_sendint16(&buf, h - l + 1);
		pq_sendint16(&buf, (int16) weight);
		pq_sendint16(&buf, neg ? WN_RECV_NEG : WN_RECV_POS);
	}
	pq_sendint16(&buf, s->dscale);
	for (k = h; k >= l && h >= 0; k--)
		pq_sendint16(&buf, (int16) s->limb[k]);
	return DatumGetNumeric(DirectFunctionCall3(numeric_recv,
											   PointerGetDatum(&buf),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

/*
 * Serial form: dscale, the weight of the lowest limb, the number of limbs
 * and the limbs after a carry pass (each in (-10000, 10000), an int16).
 */
void
wsum_send(StringInfo buf, WSum *s, MemoryContext cxt)
{
	int32		k;

	if (s->nlimbs > 0)
		wsum_carry(s, cxt);
	pq_sendint32(buf, s->dscale);
	pq_sendint32(buf, s->lo);
	pq_sendint32(buf, s->nlimbs);
	for (k = 0; k < s->nlimbs; k++)
		pq_sendint16(buf, (int16) s->limb[k]);
}

void
wsum_recv(StringInfo buf, WSum *s, MemoryContext cxt)
{
	int32		dscale = pq_getmsgint(buf, 4);
	int32		lo = pq_getmsgint(buf, 4);
	int32		n = pq_getmsgint(buf, 4);
	int32		k;

	/* limbs of weights an int16 holds, with the slack and a carry's limbs */
	if (dscale < 0 || dscale > WSUM_DSCALE_MAX || n < 0 ||
		n > (WSUM_WEIGHT_MAX - WSUM_WEIGHT_MIN + 1) + 4 * WSUM_SLACK ||
		lo < WSUM_WEIGHT_MIN - 2 * WSUM_SLACK || lo > WSUM_WEIGHT_MAX)
		elog(ERROR, "invalid vwap sum in serial form");
	wsum_init(s);
	s->dscale = dscale;
	if (n == 0)
		return;
	s->limb = MemoryContextAlloc(cxt, sizeof(int64) * n);
	s->lo = lo;
	s->nlimbs = n;
	for (k = 0; k < n; k++)
	{
		int16		d = (int16) pq_getmsgint(buf, 2);

		if (d <= -WSUM_BASE || d >= WSUM_BASE)
			elog(ERROR, "invalid vwap sum in serial form");
		s->limb[k] = d;
	}
}

/* XSum (wsum.h) */

void
xsum_init(XSum *s)
{
	s->v = 0;
	s->scale = 0;
	s->special = 0;
	wsum_init(&s->w);
}

void
xsum_add_wnum(XSum *s, const WNum *x, MemoryContext cxt)
{
	if (x->kind == WNUM_FINITE)
		wsum_add(&s->w, x, cxt);
	else
		s->special |= x->kind == WNUM_NAN ? XSUM_NAN : x->kind == WNUM_PINF ? XSUM_PINF : XSUM_NINF;
}

void
xsum_add_numeric(XSum *s, Numeric n, MemoryContext cxt)
{
	WNum		x;

	wnum_decode(NumericGetDatum(n), &x);
	xsum_add_wnum(s, &x, cxt);
}

void
xsum_add_product(XSum *s, const WNum *a, const WNum *b, Datum da, Datum db, MemoryContext cxt)
{
	if (a->kind != WNUM_FINITE || b->kind != WNUM_FINITE || !wsum_add_product(&s->w, a, b, cxt))
		xsum_add_numeric(s, numeric_mul_opt_error(DatumGetNumeric(da), DatumGetNumeric(db), NULL), cxt);
}

void
xsum_add_sum(XSum *dst, const XSum *src, MemoryContext cxt)
{
	xsum_add_small(dst, src->v, src->scale, cxt);
	wsum_add_sum(&dst->w, &src->w, cxt);
	dst->special |= src->special;
}

XNum
xsum_value(const XSum *s)
{
	const char *special = NULL;
	WSum		t;

	if (s->special & XSUM_NAN || (s->special & XSUM_PINF && s->special & XSUM_NINF))
		special = "NaN";
	else if (s->special & XSUM_PINF)
		special = "Infinity";
	else if (s->special & XSUM_NINF)
		special = "-Infinity";
	if (special != NULL)
		return xn_from_datum(DirectFunctionCall3(numeric_in, CStringGetDatum(special),
												 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	if (s->w.nlimbs == 0 && s->w.dscale <= s->scale)
		return xn_small(s->v, s->scale);
	wsum_copy(&t, &s->w, CurrentMemoryContext);
	wsum_add_int128(&t, s->v, s->scale, CurrentMemoryContext);
	return xn_from_numeric(wsum_numeric(&t, CurrentMemoryContext));
}

void
xsum_send(StringInfo buf, XSum *s, MemoryContext cxt)
{
	pq_sendbyte(buf, s->special);
	pq_sendint32(buf, s->scale);
	pq_sendint64(buf, (int64) (s->v >> 64));
	pq_sendint64(buf, (int64) (uint64) s->v);
	wsum_send(buf, &s->w, cxt);
}

void
xsum_recv(StringInfo buf, XSum *s, MemoryContext cxt)
{
	uint64		hi,
				lo;

	s->special = pq_getmsgbyte(buf);
	s->scale = pq_getmsgint(buf, 4);
	hi = (uint64) pq_getmsgint64(buf);
	lo = (uint64) pq_getmsgint64(buf);
	if ((s->special & ~(XSUM_NAN | XSUM_PINF | XSUM_NINF)) != 0 ||
		s->scale < 0 || s->scale > XN_MAX_SCALE)
		elog(ERROR, "invalid sum in an aggregate state's serial form");
	s->v = (int128) (((uint128) hi << 64) | (uint128) lo);
	wsum_recv(buf, &s->w, cxt);
}
