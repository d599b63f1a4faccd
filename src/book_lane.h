/*-------------------------------------------------------------------------
 *
 * book_lane.h
 *		The lane: reading a book side given as a numeric array in place, in
 *		one pass, without a Datum per element (see "The lane" below).  A
 *		private header of book_math.c, book_walk.c and book_merge.c: everything here is
 *		static inline, so that the hot loops are specialized in each (the
 *		direction of a side built in) as they were in one file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_BOOK_LANE_H
#define PERPS_BOOK_LANE_H

#include "postgres.h"

#include "utils/array.h"
#include "utils/numeric.h"

#include "book_math.h"
#include "exactnum.h"

#define BM_POW10_64(k) ((int64) xn_pow10[k])

/*
 * v * 10^-from with display scale to.  Going down a scale is an exact
 * division: a lane value has no digits beyond its display scale (numeric
 * keeps none, and the reader checks it), and a sum none beyond the largest
 * display scale of its terms.
 */
static inline XNum
bm_at_scale(int128 v, int from, int to)
{
	int128		r;

	if (to <= from)
		return xn_small(v / xn_pow10[from - to], to);
	if (likely(!__builtin_mul_overflow(v, xn_pow10[to - from], &r)))
		return xn_small(r, to);
	/* times 1 at scale to - from: numeric's product has display scale to */
	return xn_mul(xn_small(v, from), xn_small(xn_pow10[to - from], to - from));
}

/*
 * The lane.
 *
 * A side given as an array is first checked whole in one cheap pass over
 * the array's data area, in place (no deconstruct_array, no Datum per
 * element): every price and quantity must be a plain value in numeric's
 * short storage format, prices positive, quantities not negative (both
 * read from the 16-bit header), prices in order (compared as their weight
 * and digit groups, read as one 64-bit key).  Anything else (a NULL, the
 * long format, NaN, infinities, a zero or negative value, a price of more
 * than four digit groups, a side out of order) makes it give up, and the
 * general path decodes the side and reports what is wrong, in level order;
 * so errors do not depend on which path ran.
 *
 * Then levels are decoded into the lane only as far as a computation needs
 * them: the levels within the deepest threshold, up to the level that
 * fills an order, the best level for mid.  A value is read from the short
 * format straight into an int64 in a frame of whole base-10000 digit
 * groups, value * 10000^g, g the most fractional groups any decoded value
 * of the column has (ps = 4 * g); a finer value rescales the values before
 * it (g grows at most four times).  The digits are read without a loop:
 * five group slots, masked past the value's own digits (the slots past the
 * end of a value lie inside the array, so they can be read; near the end
 * of the array the reader takes a loop).  A value that does not fit the
 * lane (or a sum that would overflow) moves the side to the general path.
 */

/* 10000^e for e = -4..4 (0 below 0): digit group k of a value whose leading group weighs 10000^E weighs bm_p4[E - k + 4] */
static const uint64 bm_p4[9] = {
	0, 0, 0, 0, 1, UINT64CONST(10000), UINT64CONST(100000000),
	UINT64CONST(1000000000000), UINT64CONST(10000000000000000)
};

/*
 * Divisibility of a digit group by 10^c (c = 0..3) without a division:
 * d * (5^-c mod 2^32), rotated right by c, is at most (2^32 - 1) / 10^c
 * exactly when 10^c divides d.
 */
static const uint32 bm_inv5[4] = {1, 0xCCCCCCCDU, 0xC28F5C29U, 0x26E978D5U};
static const uint32 bm_div10_max[4] = {0xFFFFFFFFU, 0xFFFFFFFFU / 10, 0xFFFFFFFFU / 100, 0xFFFFFFFFU / 1000};

static inline bool
bm_divisible_pow10(uint32 d, int c)
{
	uint32		x = d * bm_inv5[c];

	x = c == 0 ? x : (x >> c) | (x << (32 - c));
	return x <= bm_div10_max[c];
}

/* One column (prices or quantities) of a side in the lane. */
typedef struct BmCol
{
	int64	   *v;				/* value * 10000^g */
	uint8	   *d;				/* display scale of each value */
	int			g;
} BmCol;

/* Moves the first n values of a column to frame g; false on overflow. */
static pg_noinline bool
bm_col_reframe(BmCol *col, int n, int g)
{
	int64		f = BM_POW10_64(4 * (g - col->g));
	int			i;

	for (i = 0; i < n; i++)
		if (__builtin_mul_overflow(col->v[i], f, &col->v[i]))
			return false;
	col->g = g;
	return true;
}

/*
 * Reads the numeric varlena at p (4-byte header, len bytes in all) into
 * value i of col.  tail: at least 16 bytes from p may be read.  Sets *zero
 * when the value is 0.  false: not a plain non-negative value that fits.
 */
static inline bool
bm_col_put(BmCol *col, int i, const char *p, uint32 len, bool tail, bool *zero)
{
	uint16		hdr;
	int			ds,
				w,
				nd,
				fg,
				e,
				cut;
	const uint16 *dg;
	uint64		m;

	if (unlikely(len < VARHDRSZ + sizeof(uint16)))
		return false;
	memcpy(&hdr, p + VARHDRSZ, sizeof(uint16));
	/* the short format, not negative (0x8000 set, 0x4000 and 0x2000 clear) */
	if (unlikely((hdr & 0xE000) != 0x8000))
		return false;
	ds = (hdr >> 7) & 0x3F;
	w = (int) ((hdr & 0x7F) ^ 0x40) - 0x40;
	nd = (len - VARHDRSZ - sizeof(uint16)) / sizeof(uint16);
	col->d[i] = (uint8) ds;
	*zero = (nd == 0);
	if (nd == 0)
	{
		col->v[i] = 0;
		return ds <= XN_INT64_MAX_SCALE;
	}
	fg = nd - 1 - w;			/* fractional digit groups of the value */
	if (unlikely(ds > XN_INT64_MAX_SCALE || nd > 5 || fg > 4))
		return false;
	if (unlikely(fg > col->g) && !bm_col_reframe(col, i, fg))
		return false;
	e = col->g + w;				/* weight of the leading group in the frame */
	dg = (const uint16 *) (p + VARHDRSZ + sizeof(uint16));
	if (unlikely(e > 4 || (e == 4 && dg[0] > 921)))
		return false;
	/* digits past the display scale must be zero (numeric keeps none) */
	cut = 4 * fg - ds;
	if (cut > 0 && unlikely(cut > 3 || !bm_divisible_pow10(dg[nd - 1], cut)))
		return false;
	if (likely(tail))
	{
		/* read all five slots, then mask: no branch on the digit count */
		uint64		d1 = dg[1],
					d2 = dg[2],
					d3 = dg[3],
					d4 = dg[4];

		d1 = nd > 1 ? d1 : 0;
		d2 = nd > 2 ? d2 : 0;
		d3 = nd > 3 ? d3 : 0;
		d4 = nd > 4 ? d4 : 0;
		m = dg[0] * bm_p4[e + 4] + d1 * bm_p4[e + 3] + d2 * bm_p4[e + 2] +
			d3 * bm_p4[e + 1] + d4 * bm_p4[e];
	}
	else
	{
		int			k;

		m = 0;
		for (k = 0; k < nd; k++)
			m += dg[k] * bm_p4[e - k + 4];
	}
	col->v[i] = (int64) m;
	return true;
}

static inline void
bm_lane_init(PerpsExactSide *xs)
{
	int			n = Max(xs->n, 1);

	xs->pv = palloc(sizeof(int64) * n);
	xs->qv = palloc(sizeof(int64) * n);
	xs->pd = palloc(sizeof(uint8) * n);
	xs->qd = palloc(sizeof(uint8) * n);
	xs->ps = 0;
	xs->qs = 0;
	xs->ndec = 0;
	xs->ncq = 0;
	xs->ncb = 0;
	xs->cq_scale = -1;
	xs->cb_scale = -1;
	xs->lcq = NULL;
	xs->lcb = NULL;
}

/* Decodes level i into the lane; false when a value does not fit. */
static inline bool
bm_lane_decode(PerpsExactSide *xs, int i, const char *pp, const char *qp)
{
	BmCol		pc = {xs->pv, xs->pd, xs->ps / 4};
	BmCol		qc = {xs->qv, xs->qd, xs->qs / 4};
	bool		zero;
	bool		ok;

	ok = bm_col_put(&pc, i, pp, VARSIZE(pp), xs->end != NULL && xs->end - pp >= 16, &zero) &&
		!zero &&
		bm_col_put(&qc, i, qp, VARSIZE(qp), xs->end != NULL && xs->end - qp >= 16, &zero);
	xs->ps = 4 * pc.g;
	xs->qs = 4 * qc.g;
	return ok;
}

/*
 * The order key of a positive short-format price of at most four digit
 * groups: the groups, most significant first, in one 64-bit integer (groups
 * past the value's own read as 0).  With the weight it orders the prices.
 */
static pg_attribute_always_inline uint64
bm_price_key(const char *dp, int nd, bool tail)
{
	uint64		x;

	if (likely(tail))
		memcpy(&x, dp, sizeof(uint64));
	else
	{
		uint16		g[4] = {0, 0, 0, 0};

		memcpy(g, dp, nd * sizeof(uint16));
		memcpy(&x, g, sizeof(uint64));
	}
	/* the four 16-bit groups in reverse order: the first is the highest */
	x = (x >> 32) | (x << 32);
	x = ((x & UINT64CONST(0xFFFF0000FFFF0000)) >> 16) | ((x & UINT64CONST(0x0000FFFF0000FFFF)) << 16);
	return x & (~UINT64CONST(0) << (16 * (4 - nd)));
}

/*
 * Checks a side given as an array (see above) and sets it up for the lane,
 * nothing decoded yet; false when the general path has to take it.
 */
/*
 * The first 8 bytes of a numeric element, read as one little-endian
 * integer: the 4-byte varlena header (its two low bits 0 when uncompressed
 * and 4-byte), then the 16-bit numeric header (0x8000 in its three top bits
 * for the short format, not negative, not special).
 *
 * BM_PRICE_MASK also takes the length: 8, 10, 12 or 14 bytes (one to four
 * digit groups; the low byte is the length times 4: 0x20, 0x28, 0x30 or
 * 0x38, the other bits of the header 0).  BM_QTY_MASK takes any even length
 * below 16 (up to four groups; a length below a numeric's own 6 bytes, which
 * no datum PostgreSQL makes has, is left to whoever decodes the value).
 */
#define BM_PRICE_MASK UINT64CONST(0x0000E000FFFFFFE7)
#define BM_PRICE_GOOD UINT64CONST(0x0000800000000020)
#define BM_QTY_MASK UINT64CONST(0x0000E000FFFFFFC7)
#define BM_QTY_GOOD UINT64CONST(0x0000800000000000)

/*
 * weight and order key of a price, ordered as the prices (w * 2^64 + key;
 * shifted unsigned, as shifting a negative weight left is undefined in C)
 */
#define BM_WKEY(w, key) ((int128) (((uint128) (int128) (w) << 64) | (uint128) (key)))

/* bm_price_key's mask of the groups a price of 1-4 groups has, by (length / 2) & 3 */
static const uint64 bm_key_mask[4] = {
	UINT64CONST(0xFFFF000000000000), UINT64CONST(0xFFFFFFFF00000000),
	UINT64CONST(0xFFFFFFFFFFFF0000), UINT64CONST(0xFFFFFFFFFFFFFFFF)
};

/* weight of a short-format numeric */
static inline int
bm_weight(uint16 hdr)
{
	return (int) ((hdr & 0x7F) ^ 0x40) - 0x40;
}

static pg_attribute_always_inline bool
bm_lane_scan(const char *p, const char *end, int n, const char **elem, const bool is_bids,
			 int128 prev)
{
	uint32		stride = 0;
	uint32		prevw = 0x100;	/* weight bits of the level before; none yet */
	uint64		prevx = 0;		/* its digit groups (bm_price_key) */
	int			i = 0;

	/*
	 * Levels that start at least 32 bytes before the end: the reads below
	 * stay within the 24 bytes from a level's start when the price is one
	 * this loop takes (at most 14 bytes, so the quantity starts within 16
	 * bytes of it), without checking the bounds again.  (The quantity's
	 * header is read before the price's length is checked: for any other
	 * price that read is at the element after it, which an array keeps
	 * whole and int-aligned, so 8 bytes of it are there.)
	 */
	for (; i < n && end - p >= 32; i++)
	{
		const char *pp = p;
		uint64		pw,
					qw,
					x,
					bad;
		uint32		qoff,
					size,
					w;

		/* the 4-byte varlena header and the numeric header, in one load each */
		memcpy(&pw, pp, sizeof(uint64));
		qoff = (((uint32) pw >> 2) + 3) & ~3U;	/* INTALIGN(VARSIZE) */
		memcpy(&qw, pp + qoff, sizeof(uint64));
		size = qoff + ((((uint32) qw >> 2) + 3) & ~3U);
		/* both headers and lengths, in one branch */
		bad = ((pw & BM_PRICE_MASK) ^ BM_PRICE_GOOD) | ((qw & BM_QTY_MASK) ^ BM_QTY_GOOD);
		w = (uint32) (pw >> 32) & 0x7F;
		/* the price's digit groups, the first the highest (bm_price_key) */
		memcpy(&x, pp + VARHDRSZ + sizeof(uint16), sizeof(uint64));
		x = (x >> 32) | (x << 32);
		x = ((x & UINT64CONST(0xFFFF0000FFFF0000)) >> 16) | ((x & UINT64CONST(0x0000FFFF0000FFFF)) << 16);
		x &= bm_key_mask[(pw >> 3) & 3];
		if (unlikely(bad != 0))
			return false;

		/*
		 * Prices of one weight are ordered as their groups; the weight is
		 * compared too only where it changes (rarely within a side).
		 */
		if (likely(w == prevw))
		{
			if (unlikely(is_bids ? x > prevx : x < prevx))
				return false;
		}
		else
		{
			int128		k = BM_WKEY(bm_weight(w), x);

			if (prevw != 0x100)
				prev = BM_WKEY(bm_weight(prevw), prevx);
			if (is_bids ? k > prev : k < prev)
				return false;
			prevw = w;
		}
		prevx = x;
		if (elem != NULL)
			elem[i] = pp;

		/*
		 * Where the next level starts depends on this level's lengths, a
		 * chain of loads through the whole side.  Levels mostly take as many
		 * bytes as the level before, so go on from that guess and correct it
		 * when wrong: the processor runs ahead on the guess instead of
		 * waiting for each length (a wrong guess costs a branch miss).  The
		 * empty asm keeps the compiler from folding the check away.
		 */
		p = pp + stride;
		if (unlikely(stride != size))
		{
			__asm__("" : "+r"(size));
			stride = size;
			p = pp + size;
		}
	}
	if (prevw != 0x100)
		prev = BM_WKEY(bm_weight(prevw), prevx);

	/* the last levels, every read checked against the end */
	for (; i < n; i++)
	{
		const char *pp = p,
				   *qp;
		uint32		plen,
					qlen;
		uint16		ph,
					qh;
		int			nd;
		int128		k;

		if (unlikely(end - pp < VARHDRSZ + (int) sizeof(uint16) || !VARATT_IS_4B_U(pp)))
			return false;
		plen = VARSIZE(pp);
		qp = (const char *) INTALIGN(pp + plen);
		if (unlikely(end - qp < VARHDRSZ + (int) sizeof(uint16) || !VARATT_IS_4B_U(qp)))
			return false;
		qlen = VARSIZE(qp);
		if (unlikely(qp + qlen > end || plen < VARHDRSZ + sizeof(uint16) ||
					 qlen < VARHDRSZ + sizeof(uint16)))
			return false;
		p = (const char *) INTALIGN(qp + qlen);
		memcpy(&ph, pp + VARHDRSZ, sizeof(uint16));
		memcpy(&qh, qp + VARHDRSZ, sizeof(uint16));
		nd = (plen - VARHDRSZ - sizeof(uint16)) / sizeof(uint16);
		/* short format, not negative, and a price not zero */
		if (unlikely((((ph & 0xE000) ^ 0x8000) | ((qh & 0xE000) ^ 0x8000)) != 0 ||
					 nd == 0 || nd > 4))
			return false;
		k = BM_WKEY(bm_weight(ph), bm_price_key(pp + VARHDRSZ + sizeof(uint16), nd, end - pp >= 14));
		if (unlikely(is_bids ? k > prev : k < prev))
			return false;
		prev = k;
		if (elem != NULL)
			elem[i] = pp;
	}
	return true;
}

/*
 * An order that takes the best lo - 1 levels whole (cq and cb their quote
 * and base) and the rest of the notional from level lo at price p.
 */
static inline void
bm_slippage_fill(XNum mid, bool is_buy, XNum notional, int lo, XNum p, XNum cq, XNum cb,
				 PerpsSlippage *res)
{
	XNum		rem,
				den,
				num,
				mid_den,
				diff;

	/*
	 * rem quote of level lo at price p: filled base = cb + rem / p = den / p
	 * with den = cb * p + rem, and the average price = notional / filled
	 * base = notional * p / den.
	 */
	rem = xn_sub(notional, cq);
	den = xn_add(xn_mul(cb, p), rem);
	num = xn_mul(notional, p);
	mid_den = xn_mul(mid, den);
	diff = is_buy ? xn_sub(num, mid_den) : xn_sub(mid_den, num);

	res->feasible = true;
	res->levels_used = lo;
	res->filled_quote = xn_to_numeric(notional);
	res->filled_base = xn_div(den, p);
	res->avg_price = xn_div(num, den);
	/* (avg - mid) / mid * 10^4 = (num - mid * den) * 10^4 / (mid * den) */
	res->slippage_bps = xn_div(xn_mul(diff, xn_make(10000, 0)), mid_den);
}


#endif							/* PERPS_BOOK_LANE_H */
