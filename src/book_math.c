/*-------------------------------------------------------------------------
 *
 * book_math.c
 *		Order-book math over numeric: validation, mid, depth within a
 *		threshold of mid, market-order slippage, and the rows ingestion
 *		stores in liquidity_depth and slippage.
 *
 * A side is decoded once and validated.  The common case takes the 64-bit
 * lane: every price and quantity as a 64-bit integer at the side's largest
 * scale, each value's own display scale kept beside it, prefix sums of
 * price * qty and qty in 128 bits.  A value that does not fit, or a sum
 * that would overflow, moves the side to the general form: XNums
 * (exactnum.h: scaled 128-bit integers while values fit, Numeric
 * otherwise).  Either way every sum is exact and has the display scale
 * numeric's operators would give it (sums keep the largest scale of their
 * terms, products add the scales), so a notional here equals sum(price *
 * qty) over the same levels in SQL, value and scale.  The inexact figures
 * (average price, filled base of a partial level, slippage and distances
 * in bps) are one numeric division each of two exact operands, so they
 * carry numeric_div's usual 16 or more significant digits and no
 * accumulated rounding.
 *
 * Thresholds are evaluated without division: with f = bps / 10^4 a bid is
 * within the threshold when price >= mid - mid * f, an ask when price <=
 * mid + mid * f.  Sides are sorted best first, so the levels within any
 * threshold are a prefix of the side, found by binary search over the
 * prices; the prefix sums give the figure.
 *
 * The SQL functions liquidity_depth, market_depth and slippage first try
 * the one-pass form (perps_depth_from_arrays, perps_slippage_from_arrays):
 * each side read once from the array, every level checked, decoded and
 * summed in the same step, nothing stored per level; see "Depth in one
 * pass" below.  The general path above takes whatever that form gives up
 * on, and reports the errors.
 *
 * Memory: everything is palloc'd in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
/* arrayaccess.h's inline functions trip -Wsign-compare (part of -Wextra) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "utils/arrayaccess.h"
#pragma GCC diagnostic pop
#include "utils/lsyscache.h"

#include "book_math.h"

/* The liquidity_depth thresholds in bps, as value and scale (2.5 = 25, 1). */
static const struct
{
	int64		v;
	int32		scale;
}			bm_std_bps[] =
{
	{1, 0}, {25, 1}, {5, 0}, {10, 0}, {20, 0}, {50, 0}, {100, 0}
};

#define BM_STD_BPS_COUNT lengthof(bm_std_bps)

/* The standard slippage order sizes, in quote currency. */
static const int64 bm_std_sizes[] = {
	1000, 10000, 50000, 100000, 500000, 1000000, 5000000, 10000000
};

StaticAssertDecl(1 + 2 * lengthof(bm_std_bps) + 2 == PERPS_LIQUIDITY_ROW_NATTS,
				 "liquidity_depth row layout");
StaticAssertDecl(2 * lengthof(bm_std_sizes) == PERPS_SLIPPAGE_STD_ROWS,
				 "slippage row count");

static char *
bm_numeric_text(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
}

/* Checks the shape of a side's array; returns the number of levels. */
static int
bm_check_shape(ArrayType *arr, const char *name)
{
	if (ARR_ELEMTYPE(arr) != NUMERICOID)
		elog(ERROR, "order book %s: expected a numeric array", name);
	if (ARR_NDIM(arr) == 0)
		return 0;
	if (ARR_NDIM(arr) != 2 || ARR_DIMS(arr)[1] != 2)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("order book %s must be a two-dimensional array with two columns", name),
				 ARR_NDIM(arr) != 2 ?
				 errdetail("The array has %d dimensions.", ARR_NDIM(arr)) :
				 errdetail("The array has %d columns.", ARR_DIMS(arr)[1]),
				 errhint("Pass levels as {{price,qty},...}, best level first.")));
	return ARR_DIMS(arr)[0];
}

static void
bm_side_from_array(ArrayType *arr, const char *name, PerpsNumSide *side)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			i;

	side->nlevels = 0;
	side->price = NULL;
	side->qty = NULL;
	if (bm_check_shape(arr, name) == 0)
		return;

	deconstruct_array(arr, NUMERICOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	side->nlevels = nelems / 2;
	side->price = palloc(sizeof(Numeric) * side->nlevels);
	side->qty = palloc(sizeof(Numeric) * side->nlevels);
	for (i = 0; i < side->nlevels; i++)
	{
		if (nulls[2 * i] || nulls[2 * i + 1])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("order book %s level %d has a NULL %s", name, i + 1,
							nulls[2 * i] ? "price" : "quantity")));
		side->price[i] = DatumGetNumeric(elems[2 * i]);
		side->qty[i] = DatumGetNumeric(elems[2 * i + 1]);
	}
	pfree(elems);
	pfree(nulls);
}

void
perps_book_deconstruct(ArrayType *bids, ArrayType *asks, PerpsNumBook *book)
{
	bm_side_from_array(bids, "bids", &book->bids);
	bm_side_from_array(asks, "asks", &book->asks);
}

void
perps_book_from_arrays(ArrayType *bids, ArrayType *asks, PerpsNumBook *book)
{
	PerpsExactBook xb;

	perps_book_deconstruct(bids, asks, book);
	perps_exact_book(book, &xb);
}

static pg_noinline void
bm_level_error(const char *name, int level, XNum p, XNum q)
{
	if (xn_is_special(p) || xn_is_special(q))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order book %s level %d has a %s that is not a finite number",
						name, level, xn_is_special(p) ? "price" : "quantity"),
				 errdetail("The value is %s.",
						   bm_numeric_text(xn_is_special(p) ? p.n : q.n))));
	if (xn_sign(p) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("order book %s level %d has a price that is not positive", name, level),
				 errdetail("The price is %s.", bm_numeric_text(xn_to_numeric(p)))));
	if (xn_sign(q) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("order book %s level %d has a negative quantity", name, level),
				 errdetail("The quantity is %s.", bm_numeric_text(xn_to_numeric(q)))));
}

static pg_noinline void
bm_order_error(const char *name, int level, XNum p, XNum prev)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("order book %s are not sorted best first", name),
			 errdetail("Level %d has price %s after price %s.", level,
					   bm_numeric_text(xn_to_numeric(p)),
					   bm_numeric_text(xn_to_numeric(prev))),
			 errhint("Bids go by descending price, asks by ascending price.")));
}

/* Checks level i (0-based) of a side and stores it. */
static inline void
bm_put_level(PerpsExactSide *xs, int i, XNum p, XNum q, const char *name, bool is_bids)
{
	if (unlikely(p.big || q.big) && (xn_is_special(p) || xn_is_special(q)))
		bm_level_error(name, i + 1, p, q);
	if (unlikely(xn_sign(p) <= 0 || xn_sign(q) < 0))
		bm_level_error(name, i + 1, p, q);
	if (i > 0)
	{
		int			c = xn_cmp(p, xs->price[i - 1]);

		if (unlikely(is_bids ? c > 0 : c < 0))
			bm_order_error(name, i + 1, p, xs->price[i - 1]);
	}
	xs->price[i] = p;
	xs->qty[i] = q;
}

static void
bm_side_init(PerpsExactSide *xs, int n)
{
	xs->n = n;
	xs->lane = false;
	xs->price = palloc(sizeof(XNum) * Max(n, 1));
	xs->qty = palloc(sizeof(XNum) * Max(n, 1));
	xs->cum_quote = NULL;
	xs->cum_base = NULL;
}

static pg_noinline void
bm_null_error(const char *name, int level, bool price_null)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("order book %s level %d has a NULL %s", name, level,
					price_null ? "price" : "quantity")));
}

/* 10^k as int64, k <= XN_INT64_MAX_SCALE */
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

/* the quantity element that follows a price element in the array */
static inline const char *
bm_qty_elem(const char *pp)
{
	return (const char *) INTALIGN(pp + VARSIZE(pp));
}

XNum
perps_exact_price(const PerpsExactSide *xs, int i)
{
	if (!xs->lane)
		return xs->price[i];
	if (i < xs->ndec)
		return bm_at_scale(xs->pv[i], xs->ps, xs->pd[i]);
	/* a level not decoded into the lane yet (the deepest, for instance) */
	return xn_from_datum(PointerGetDatum(xs->elem[i]));
}

static inline XNum
bm_qty(const PerpsExactSide *xs, int i)
{
	if (!xs->lane)
		return xs->qty[i];
	if (i < xs->ndec)
		return bm_at_scale(xs->qv[i], xs->qs, xs->qd[i]);
	return xn_from_datum(PointerGetDatum(bm_qty_elem(xs->elem[i])));
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

static void
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

/* weight and order key of a price, ordered as the prices */
#define BM_WKEY(w, key) (((int128) (w) << 64) | (int128) (key))

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

static bool
bm_lane_scan_array(ArrayType *arr, bool is_bids, PerpsExactSide *xs)
{
	const char *p;
	const char *end;

	if (ARR_HASNULL(arr))
		return false;
	/* no null bitmap: the data follow the fixed header and the dimensions */
	p = (const char *) arr + ARR_OVERHEAD_NONULLS(ARR_NDIM(arr));
	end = (const char *) arr + VARSIZE(arr);
	xs->elem = palloc(sizeof(const char *) * Max(xs->n, 1));
	/* one loop for each side, with the direction of the order built in */
	if (!(is_bids ? bm_lane_scan(p, end, xs->n, xs->elem, true, BM_WKEY(PG_INT32_MAX, 0)) :
		  bm_lane_scan(p, end, xs->n, xs->elem, false, BM_WKEY(PG_INT32_MIN, 0))))
		return false;
	xs->end = end;
	bm_lane_init(xs);
	xs->lane = true;
	return true;
}

/*
 * A side given as Numeric arrays (the C API) is decoded into the lane whole,
 * with the checks of the general path; false when the general path has to
 * take it.
 */
static bool
bm_lane_from_side(const PerpsNumSide *side, bool is_bids, PerpsExactSide *xs)
{
	int			i;

	xs->elem = NULL;
	xs->end = NULL;
	bm_lane_init(xs);
	for (i = 0; i < xs->n; i++)
	{
		const char *pp = (const char *) side->price[i];
		const char *qp = (const char *) side->qty[i];

		if (pp == NULL || qp == NULL || !VARATT_IS_4B_U(pp) || !VARATT_IS_4B_U(qp) ||
			!bm_lane_decode(xs, i, pp, qp))
			return false;
		if (i > 0 && (is_bids ? xs->pv[i] > xs->pv[i - 1] : xs->pv[i] < xs->pv[i - 1]))
			return false;
	}
	xs->ndec = xs->n;
	xs->lane = true;
	return true;
}

static void
bm_exact_side(const PerpsNumSide *side, const char *name, bool is_bids,
			  PerpsExactSide *xs)
{
	int			i;

	xs->n = side->nlevels;
	xs->lane = false;
	if (bm_lane_from_side(side, is_bids, xs))
		return;

	bm_side_init(xs, side->nlevels);
	for (i = 0; i < xs->n; i++)
	{
		if (side->price[i] == NULL || side->qty[i] == NULL)
			bm_null_error(name, i + 1, side->price[i] == NULL);
		bm_put_level(xs, i, xn_from_datum(NumericGetDatum(side->price[i])),
					 xn_from_datum(NumericGetDatum(side->qty[i])), name, is_bids);
	}
}

/* Checks a side straight from its array, without deconstructing it. */
static void
bm_exact_side_from_array(ArrayType *arr, const char *name, bool is_bids,
						 PerpsExactSide *xs)
{
	array_iter	it;
	int			n = bm_check_shape(arr, name);
	int			i;

	xs->n = n;
	xs->lane = false;
	xs->price = NULL;
	xs->qty = NULL;
	xs->cum_quote = NULL;
	xs->cum_base = NULL;
	if (bm_lane_scan_array(arr, is_bids, xs))
		return;

	bm_side_init(xs, n);
	array_iter_setup(&it, (AnyArrayType *) arr);
	for (i = 0; i < xs->n; i++)
	{
		bool		pnull,
					qnull;
		Datum		pd = array_iter_next(&it, &pnull, 2 * i, -1, false, TYPALIGN_INT);
		Datum		qd = array_iter_next(&it, &qnull, 2 * i + 1, -1, false, TYPALIGN_INT);

		if (unlikely(pnull || qnull))
			bm_null_error(name, i + 1, pnull);
		bm_put_level(xs, i, xn_from_datum(pd), xn_from_datum(qd), name, is_bids);
	}
}

/*
 * Moves a side from the lane to the general form (a value that does not
 * fit, a sum that overflows).  The side was checked whole already.
 */
static pg_noinline void
bm_lane_drop(PerpsExactSide *xs)
{
	XNum	   *price;
	XNum	   *qty;
	int			i;

	if (!xs->lane)
		return;
	price = palloc(sizeof(XNum) * Max(xs->n, 1));
	qty = palloc(sizeof(XNum) * Max(xs->n, 1));
	for (i = 0; i < xs->n; i++)
	{
		if (xs->elem != NULL)
		{
			/* from the array: a failed decode may have left the lane half rescaled */
			price[i] = xn_from_datum(PointerGetDatum(xs->elem[i]));
			qty[i] = xn_from_datum(PointerGetDatum(bm_qty_elem(xs->elem[i])));
		}
		else
		{
			price[i] = perps_exact_price(xs, i);
			qty[i] = bm_qty(xs, i);
		}
	}
	xs->price = price;
	xs->qty = qty;
	xs->cum_quote = NULL;
	xs->cum_base = NULL;
	xs->lane = false;
}

/* Levels available for comparisons: decoded into the lane, or all. */
static inline int
bm_avail(const PerpsExactSide *xs)
{
	return xs->lane ? xs->ndec : xs->n;
}

/*
 * Decodes the best k levels into the lane (k <= n); when a value does not
 * fit, moves the side to the general path.
 */
static void
bm_decode(PerpsExactSide *xs, int k)
{
	int			i;

	if (!xs->lane || k <= xs->ndec)
		return;
	for (i = xs->ndec; i < k; i++)
	{
		const char *pp = xs->elem[i];

		if (unlikely(!bm_lane_decode(xs, i, pp, bm_qty_elem(pp))))
		{
			bm_lane_drop(xs);
			return;
		}
	}
	xs->ndec = k;
}

/*
 * Extends the lane's prefix sums of price * qty to the best k levels
 * (decoded); false when one overflows.
 */
static bool
bm_lane_cum_quote(PerpsExactSide *xs, int k)
{
	int			i;

	if (xs->lcq == NULL)
	{
		xs->lcq = palloc(sizeof(int128) * (xs->n + 1));
		xs->lcqd = palloc(sizeof(uint8) * (xs->n + 1));
		xs->lcq[0] = 0;
		xs->lcqd[0] = 0;
		xs->ncq = 0;
	}
	if (xs->cq_scale != xs->ps + xs->qs)
	{
		/* a finer value came: start over at the new scale */
		xs->ncq = 0;
		xs->cq_scale = xs->ps + xs->qs;
	}
	for (i = xs->ncq; i < k; i++)
	{
		if (unlikely(__builtin_add_overflow(xs->lcq[i], (int128) xs->pv[i] * xs->qv[i],
											&xs->lcq[i + 1])))
			return false;
		xs->lcqd[i + 1] = Max(xs->lcqd[i], xs->pd[i] + xs->qd[i]);
	}
	xs->ncq = Max(xs->ncq, k);
	return true;
}

/* The same for qty (n 64-bit terms cannot overflow 128 bits). */
static void
bm_lane_cum_base(PerpsExactSide *xs, int k)
{
	int			i;

	if (xs->lcb == NULL)
	{
		xs->lcb = palloc(sizeof(int128) * (xs->n + 1));
		xs->lcbd = palloc(sizeof(uint8) * (xs->n + 1));
		xs->lcb[0] = 0;
		xs->lcbd[0] = 0;
		xs->ncb = 0;
	}
	if (xs->cb_scale != xs->qs)
	{
		xs->ncb = 0;
		xs->cb_scale = xs->qs;
	}
	for (i = xs->ncb; i < k; i++)
	{
		xs->lcb[i + 1] = xs->lcb[i] + xs->qv[i];
		xs->lcbd[i + 1] = Max(xs->lcbd[i], xs->qd[i]);
	}
	xs->ncb = Max(xs->ncb, k);
}

/* Makes the best k levels decoded, with their prefix sums of price * qty. */
static void
bm_need_cumq(PerpsExactSide *xs, int k)
{
	bm_decode(xs, k);
	if (xs->lane && !bm_lane_cum_quote(xs, k))
		bm_lane_drop(xs);
}

static void
bm_exact_mid(PerpsExactBook *xb)
{
	XNum		bb,
				ba;

	xb->has_mid = xb->bids.n > 0 && xb->asks.n > 0;
	if (!xb->has_mid)
	{
		xb->mid = xn_make(0, 0);
		return;
	}
	bm_decode(&xb->bids, 1);
	bm_decode(&xb->asks, 1);
	bb = perps_exact_price(&xb->bids, 0);
	ba = perps_exact_price(&xb->asks, 0);
	if (xn_cmp(bb, ba) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order book is crossed"),
				 errdetail("The best bid %s is not below the best ask %s.",
						   bm_numeric_text(xn_to_numeric(bb)),
						   bm_numeric_text(xn_to_numeric(ba)))));
	xb->mid = xn_half_sum(bb, ba);
}

void
perps_exact_from_arrays(ArrayType *bids, ArrayType *asks, PerpsExactBook *xb)
{
	bm_exact_side_from_array(bids, "bids", true, &xb->bids);
	bm_exact_side_from_array(asks, "asks", false, &xb->asks);
	bm_exact_mid(xb);
}

void
perps_exact_book(const PerpsNumBook *book, PerpsExactBook *xb)
{
	bm_exact_side(&book->bids, "bids", true, &xb->bids);
	bm_exact_side(&book->asks, "asks", false, &xb->asks);
	bm_exact_mid(xb);
}

void
perps_book_check(const PerpsNumBook *book)
{
	PerpsExactBook xb;

	perps_exact_book(book, &xb);
}

/* Sum of price * qty over the best k levels of a side. */
static XNum
bm_cumq(PerpsExactSide *xs, int k)
{
	int			i;

	if (xs->lane)
		bm_need_cumq(xs, k);
	if (xs->lane)
		return bm_at_scale(xs->lcq[k], xs->ps + xs->qs, xs->lcqd[k]);
	if (xs->cum_quote == NULL)
	{
		xs->cum_quote = palloc(sizeof(XNum) * (xs->n + 1));
		xs->cum_quote[0] = xn_make(0, 0);
		for (i = 0; i < xs->n; i++)
			xs->cum_quote[i + 1] = xn_add(xs->cum_quote[i], xn_mul(xs->price[i], xs->qty[i]));
	}
	return xs->cum_quote[k];
}

/* Sum of qty over the best k levels of a side. */
static XNum
bm_cumb(PerpsExactSide *xs, int k)
{
	int			i;

	if (xs->lane)
		bm_decode(xs, k);
	if (xs->lane)
	{
		bm_lane_cum_base(xs, k);
		return bm_at_scale(xs->lcb[k], xs->qs, xs->lcbd[k]);
	}
	if (xs->cum_base == NULL)
	{
		xs->cum_base = palloc(sizeof(XNum) * (xs->n + 1));
		xs->cum_base[0] = xn_make(0, 0);
		for (i = 0; i < xs->n; i++)
			xs->cum_base[i + 1] = xn_add(xs->cum_base[i], xs->qty[i]);
	}
	return xs->cum_base[k];
}

/* price of level i (< bm_avail) compared with x, without rescaling the price */
static inline int
bm_cmp_price(const PerpsExactSide *xs, int i, XNum x)
{
	if (xs->lane)
		return xn_cmp(xn_small(xs->pv[i], xs->ps), x);
	return xn_cmp(xs->price[i], x);
}

/* sum of price * qty of the best k levels (k <= bm_avail, prefix sums there) compared with x */
static inline int
bm_cmp_cumq(PerpsExactSide *xs, int k, XNum x)
{
	if (xs->lane)
		return xn_cmp(xn_small(xs->lcq[k], xs->ps + xs->qs), x);
	return xn_cmp(bm_cumq(xs, k), x);
}

/* the next number of levels to decode when a walk needs more than k */
static inline int
bm_grow(const PerpsExactSide *xs, int k)
{
	return Min(xs->n, Max(16, 2 * k));
}

XNum
perps_exact_within(PerpsExactBook *xb, bool bids, XNum f, bool base, bool *complete)
{
	PerpsExactSide *xs = bids ? &xb->bids : &xb->asks;
	XNum		off = xn_mul(xb->mid, f);
	XNum		thr = bids ? xn_sub(xb->mid, off) : xn_add(xb->mid, off);
	int			lo = 0,
				hi;

	Assert(xb->has_mid);

	/*
	 * Decode until the deepest decoded level lies beyond the threshold (or
	 * the side ends); the levels within it are then a prefix of those.
	 */
	for (;;)
	{
		int			k = bm_avail(xs);
		int			c;

		if (k == xs->n)
			break;
		c = bm_cmp_price(xs, k - 1, thr);
		if (bids ? c < 0 : c > 0)
			break;
		bm_decode(xs, bm_grow(xs, k));
	}
	hi = bm_avail(xs);

	/* lo = number of levels within the threshold */
	while (lo < hi)
	{
		int			m = lo + (hi - lo) / 2;
		int			c = bm_cmp_price(xs, m, thr);

		if (bids ? c >= 0 : c <= 0)
			lo = m + 1;
		else
			hi = m;
	}
	if (complete)
	{
		int			c = xn_cmp(perps_exact_price(xs, xs->n - 1), thr);

		*complete = bids ? c <= 0 : c >= 0;
	}
	return base ? bm_cumb(xs, lo) : bm_cumq(xs, lo);
}

Numeric
perps_exact_max_bps(const PerpsExactBook *xb, bool bids)
{
	const PerpsExactSide *xs = bids ? &xb->bids : &xb->asks;
	XNum		deepest = perps_exact_price(xs, xs->n - 1);
	XNum		dist = bids ? xn_sub(xb->mid, deepest) : xn_sub(deepest, xb->mid);

	Assert(xb->has_mid);
	return xn_div(xn_mul(dist, xn_make(10000, 0)), xb->mid);
}

/*
 * An order that takes the best lo - 1 levels whole (cq and cb their quote
 * and base) and the rest of the notional from level lo at price p.
 */
static void
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

void
perps_exact_slippage(PerpsExactBook *xb, bool is_buy, XNum notional, PerpsSlippage *res)
{
	PerpsExactSide *xs = is_buy ? &xb->asks : &xb->bids;
	int			lo = 1,
				hi;

	Assert(xb->has_mid && xs->n > 0);

	/*
	 * Decode, with prefix sums, until they reach the notional or the side
	 * ends: the order fills within those levels or not at all.
	 */
	for (;;)
	{
		int			k;

		bm_need_cumq(xs, bm_avail(xs));
		k = bm_avail(xs);
		if (k == xs->n || bm_cmp_cumq(xs, k, notional) >= 0)
			break;
		bm_decode(xs, bm_grow(xs, k));
	}
	hi = bm_avail(xs);

	if (bm_cmp_cumq(xs, hi, notional) < 0)
	{
		Assert(hi == xs->n);
		res->feasible = false;
		res->levels_used = xs->n;
		res->avg_price = NULL;
		res->slippage_bps = NULL;
		res->filled_base = xn_to_numeric(bm_cumb(xs, xs->n));
		res->filled_quote = xn_to_numeric(bm_cumq(xs, xs->n));
		return;
	}

	/* smallest k with cum_quote[k] >= notional */
	while (lo < hi)
	{
		int			m = lo + (hi - lo) / 2;

		if (bm_cmp_cumq(xs, m, notional) >= 0)
			hi = m;
		else
			lo = m + 1;
	}

	bm_slippage_fill(xb->mid, is_buy, notional, lo, perps_exact_price(xs, lo - 1),
					 bm_cumq(xs, lo - 1), bm_cumb(xs, lo - 1), res);
}

/* ------------------------------------------------------------------------
 * Depth in one pass (liquidity_depth and market_depth from the arrays).
 *
 * With the thresholds known before the walk (mid needs only the best level
 * of each side), each side is read once: every level is checked as in
 * bm_lane_scan, decoded, compared with the nearest threshold not passed
 * yet, and added to one 128-bit running sum; the sum (with its frame and
 * the largest display scale of its terms) is taken for a threshold when
 * the first level beyond it comes.  Once every threshold is passed, the
 * rest of the side is only checked (bm_lane_scan).  Nothing is stored per
 * level and nothing is allocated.
 *
 * Prices are compared in the price column's frame (value * 10000^gp): a bid
 * lies within T when m >= ceil(T * 10000^gp), an ask when m <= floor(T *
 * 10000^gp).  A finer value deeper in the side grows the frame: the running
 * sum, the previous price and the thresholds are rescaled (at most four
 * times per column).
 *
 * Anything this walk does not take (an empty side, a value or sum that
 * does not fit, and every kind of bad input) makes it give up before it
 * has reported anything, and the caller takes the general path, which
 * reports errors in level order.
 * ------------------------------------------------------------------------
 */

/* One level read in place; the 32 bytes from its price on can be read. */
typedef struct BmLevel
{
	uint16		ph;				/* numeric headers */
	uint16		qh;
	int			pnd;			/* digit groups */
	int			qnd;
	const char *pdg;			/* the digit groups */
	const char *qdg;
	uint32		size;			/* bytes from the price to the next level */
} BmLevel;

static pg_attribute_always_inline bool
bm_level_read(const char *pp, BmLevel *lv)
{
	uint32		ph4,
				qh4,
				plen,
				qlen,
				qoff;
	const char *qp;

	/* the array's elements are int-aligned, so offsets align as pointers */
	memcpy(&ph4, pp, sizeof(uint32));
	plen = ph4 >> 2;			/* VARSIZE of a 4-byte header */
	/* a 4-byte header, one to four digit groups */
	if (unlikely((ph4 & 3) != 0 || plen - 8 > 6))
		return false;
	qoff = INTALIGN(plen);
	qp = pp + qoff;
	memcpy(&qh4, qp, sizeof(uint32));
	qlen = qh4 >> 2;
	/* a 4-byte header, zero to five digit groups */
	if (unlikely((qh4 & 3) != 0 || qlen - 6 > 10))
		return false;
	memcpy(&lv->ph, pp + VARHDRSZ, sizeof(uint16));
	memcpy(&lv->qh, qp + VARHDRSZ, sizeof(uint16));
	/* both in the short format, not negative, not special */
	if (unlikely((((lv->ph & 0xE000) ^ 0x8000) | ((lv->qh & 0xE000) ^ 0x8000)) != 0))
		return false;
	lv->pnd = (plen - 6) >> 1;
	lv->qnd = (qlen - 6) >> 1;
	lv->pdg = pp + VARHDRSZ + sizeof(uint16);
	lv->qdg = qp + VARHDRSZ + sizeof(uint16);
	lv->size = qoff + INTALIGN(qlen);
	return true;
}

/*
 * Value of a short-format non-negative numeric of nd >= 1 digit groups (the
 * five slots from dgp on readable) in frame g, which holds its fractional
 * groups (nd - 1 - weight <= g <= 4).  false when it does not fit.
 */
static pg_attribute_always_inline bool
bm_frame_value(uint16 hdr, int nd, const char *dgp, int g, int64 *m)
{
	int			w = bm_weight(hdr);
	int			ds = (hdr >> 7) & 0x3F;
	int			e = g + w;		/* weight of the leading group in the frame */
	int			cut = 4 * (nd - 1 - w) - ds;
	uint16		dg[5];
	uint64		d1,
				d2,
				d3,
				d4;

	memcpy(dg, dgp, sizeof(dg));
	if (unlikely(ds > XN_INT64_MAX_SCALE || e > 4 || (e == 4 && dg[0] > 921)))
		return false;
	/* digits past the display scale must be zero (numeric keeps none) */
	if (cut > 0 && unlikely(cut > 3 || !bm_divisible_pow10(dg[nd - 1], cut)))
		return false;
	d1 = nd > 1 ? dg[1] : 0;
	d2 = nd > 2 ? dg[2] : 0;
	d3 = nd > 3 ? dg[3] : 0;
	d4 = nd > 4 ? dg[4] : 0;
	*m = (int64) (dg[0] * bm_p4[e + 4] + d1 * bm_p4[e + 3] + d2 * bm_p4[e + 2] +
				  d3 * bm_p4[e + 1] + d4 * bm_p4[e]);
	return true;
}

/* x * 10000^k (k >= 0) in place; false on overflow */
static inline bool
bm_rescale128(int128 *x, int k)
{
	return k == 0 || !__builtin_mul_overflow(*x, xn_pow10[4 * k], x);
}

/*
 * The thresholds from j on in price frame g: ceil(T * 10000^g) for bids,
 * floor for asks.  false when one does not fit.
 */
static bool
bm_thr_frame(const XNum *thr, int j, int n, int g, bool is_bids, int128 *tm)
{
	for (; j < n; j++)
	{
		int			d = 4 * g - thr[j].scale;
		int128		v = thr[j].v;

		if (thr[j].big)
			return false;
		if (d >= 0)
		{
			if (__builtin_mul_overflow(v, xn_pow10[d], &tm[j]))
				return false;
		}
		else
		{
			int128		p = xn_pow10[-d];
			int128		q = v / p;

			if (v % p != 0)
			{
				if (is_bids && v > 0)
					q++;		/* ceil */
				else if (!is_bids && v < 0)
					q--;		/* floor */
			}
			tm[j] = q;
		}
	}
	return true;
}

/* What the walk found for one threshold. */
typedef struct BmDepthFig
{
	int128		sum;
	int			scale;			/* decimals of sum */
	int			dscale;			/* display scale of the figure */
	bool		complete;
} BmDepthFig;

/*
 * The walk over one side: the position, the column frames (digit groups),
 * the previous price (for the order) and the level just read.
 */
typedef struct BmWalk
{
	const char *p;				/* the next level */
	const char *end;
	int			gp;				/* price frame */
	int			gq;				/* quantity frame */
	int64		prevm;
	int64		mp;				/* price of the level read, frame gp */
	int64		mq;				/* its quantity, frame gq */
	int			pds;			/* their display scales */
	int			qds;
	const char *lp;				/* the level read */
} BmWalk;

static inline void
bm_walk_init(BmWalk *wk, ArrayType *arr, bool is_bids)
{
	wk->p = (const char *) arr + ARR_OVERHEAD_NONULLS(2);
	wk->end = (const char *) arr + VARSIZE(arr);
	wk->gp = 0;
	wk->gq = 0;
	wk->prevm = is_bids ? PG_INT64_MAX : 0;
}

/*
 * Reads, checks and decodes the next level and moves on.  *dgp and *dgq
 * are set to how many digit groups the price and quantity frames grew by
 * (the caller rescales what it keeps in them).  false when the general path
 * has to take the side.
 */
static pg_attribute_always_inline bool
bm_walk_level(BmWalk *wk, const bool is_bids, int *dgp, int *dgq)
{
	union
	{
		char		c[32];
		int32		align;
	}			buf;
	const char *rp = wk->p;
	BmLevel		lv;
	int			fgp;

	if (unlikely(wk->end - wk->p < 32))
	{
		/* near the end: read the level from a zero-padded copy */
		if (wk->end - wk->p < 12)
			return false;
		memset(buf.c, 0, sizeof(buf.c));
		memcpy(buf.c, wk->p, wk->end - wk->p);
		rp = buf.c;
	}
	if (unlikely(!bm_level_read(rp, &lv) || lv.size > (uint32) (wk->end - wk->p)))
		return false;
	wk->lp = wk->p;
	wk->p += lv.size;

	/* the price, in frame gp (grown when it is finer) */
	fgp = lv.pnd - 1 - bm_weight(lv.ph);
	*dgp = 0;
	if (unlikely(fgp > wk->gp))
	{
		int128		pm = wk->prevm;

		if (fgp > 4)
			return false;
		*dgp = fgp - wk->gp;
		if (wk->prevm != PG_INT64_MAX)
		{
			if (!bm_rescale128(&pm, *dgp) || pm > PG_INT64_MAX)
				return false;
			wk->prevm = (int64) pm;
		}
		wk->gp = fgp;
	}
	if (unlikely(!bm_frame_value(lv.ph, lv.pnd, lv.pdg, wk->gp, &wk->mp)))
		return false;
	/* a zero price, or out of order */
	if (unlikely(wk->mp == 0 || (is_bids ? wk->mp > wk->prevm : wk->mp < wk->prevm)))
		return false;
	wk->prevm = wk->mp;
	wk->pds = (lv.ph >> 7) & 0x3F;

	/* the quantity, in frame gq */
	wk->qds = (lv.qh >> 7) & 0x3F;
	*dgq = 0;
	if (lv.qnd == 0)
	{
		wk->mq = 0;
		return wk->qds <= XN_INT64_MAX_SCALE;
	}
	else
	{
		int			fgq = lv.qnd - 1 - bm_weight(lv.qh);

		if (unlikely(fgq > wk->gq))
		{
			if (fgq > 4)
				return false;
			*dgq = fgq - wk->gq;
			wk->gq = fgq;
		}
		return bm_frame_value(lv.qh, lv.qnd, lv.qdg, wk->gq, &wk->mq);
	}
}

/* Checks the rest of the side (n levels after the one read), in order after it. */
static pg_attribute_always_inline bool
bm_walk_check_rest(BmWalk *wk, int n, const bool is_bids)
{
	const char *lp = wk->lp;
	uint16		ph;
	int			nd = (VARSIZE(lp) - VARHDRSZ - sizeof(uint16)) / sizeof(uint16);
	const char *dp = lp + VARHDRSZ + sizeof(uint16);

	/* the order key of the level read (bm_walk_level checked its format) */
	memcpy(&ph, lp + VARHDRSZ, sizeof(uint16));
	return bm_lane_scan(wk->p, wk->end, n, NULL, is_bids,
						BM_WKEY(bm_weight(ph), bm_price_key(dp, nd, wk->end - dp >= 8)));
}

/*
 * One side, thresholds thr[0..nthr-1] nearest to mid first (tm: scratch of
 * nthr).  Fills fig[] in that order; false when the general path has to
 * take the side.
 */
static pg_attribute_always_inline bool
bm_depth_walk(ArrayType *arr, const bool is_bids, const bool base,
			  int nthr, const XNum *thr, int128 *tm, BmDepthFig *fig)
{
	BmWalk		wk;
	int			n = ARR_DIMS(arr)[0];
	int128		s = 0;
	int			dmax = 0;
	int			j = 0;
	int			i;

	bm_walk_init(&wk, arr, is_bids);
	if (n < 1 || !bm_thr_frame(thr, 0, nthr, 0, is_bids, tm))
		return false;
	for (i = 0; i < n; i++)
	{
		int			dgp,
					dgq;

		if (unlikely(!bm_walk_level(&wk, is_bids, &dgp, &dgq)))
			return false;
		if (unlikely(dgp + dgq > 0))
		{
			/* a finer value: the sum and the thresholds to the new frames */
			if (!bm_rescale128(&s, base ? dgq : dgp + dgq) ||
				(dgp > 0 && !bm_thr_frame(thr, j, nthr, wk.gp, is_bids, tm)))
				return false;
		}

		/* the thresholds this level lies beyond take the sum so far */
		while (j < nthr && (is_bids ? (int128) wk.mp < tm[j] : (int128) wk.mp > tm[j]))
		{
			fig[j].sum = s;
			fig[j].scale = 4 * (base ? wk.gq : wk.gp + wk.gq);
			fig[j].dscale = dmax;
			fig[j].complete = true;
			j++;
		}
		if (j == nthr)
			return bm_walk_check_rest(&wk, n - i - 1, is_bids);

		if (base)
		{
			s += wk.mq;			/* n 64-bit terms cannot overflow */
			dmax = Max(dmax, wk.qds);
		}
		else
		{
			if (unlikely(__builtin_add_overflow(s, (int128) wk.mp * wk.mq, &s)))
				return false;
			dmax = Max(dmax, wk.pds + wk.qds);
		}
	}

	/* thresholds the whole side lies within: complete when the deepest level is at one */
	for (; j < nthr; j++)
	{
		fig[j].sum = s;
		fig[j].scale = 4 * (base ? wk.gq : wk.gp + wk.gq);
		fig[j].dscale = dmax;
		fig[j].complete = xn_cmp(bm_at_scale(wk.mp, 4 * wk.gp, wk.pds), thr[j]) == 0;
	}
	return true;
}

/* the price of the best level of a side given as an array, or a big XNum */
static XNum
bm_best_price(ArrayType *arr)
{
	const char *p = (const char *) arr + ARR_OVERHEAD_NONULLS(ARR_NDIM(arr));

	return xn_from_datum(PointerGetDatum(p));
}

/*
 * The arrays' shapes as the one-pass forms take them (two columns, at least
 * one level, no NULLs) and mid from the best levels, which the walks check
 * again.  false when the general path has to take the book.
 */
static bool
bm_fast_mid(ArrayType *bids, ArrayType *asks, XNum *mid)
{
	XNum		bb,
				ba;

	if (ARR_ELEMTYPE(bids) != NUMERICOID || ARR_ELEMTYPE(asks) != NUMERICOID ||
		ARR_NDIM(bids) != 2 || ARR_NDIM(asks) != 2 ||
		ARR_DIMS(bids)[1] != 2 || ARR_DIMS(asks)[1] != 2 ||
		ARR_DIMS(bids)[0] < 1 || ARR_DIMS(asks)[0] < 1 ||
		ARR_HASNULL(bids) || ARR_HASNULL(asks))
		return false;
	bb = bm_best_price(bids);
	ba = bm_best_price(asks);
	if (bb.big || ba.big || xn_sign(bb) <= 0 || xn_cmp(bb, ba) >= 0)
		return false;
	*mid = xn_half_sum(bb, ba);
	return !mid->big;
}

/* qsort_arg comparator of threshold indexes by their fraction; ties by index (a stable order) */
static int
bm_cmp_fraction(const void *a, const void *b, void *arg)
{
	const XNum *fractions = (const XNum *) arg;
	int			ia = *(const int *) a;
	int			ib = *(const int *) b;
	int			c = xn_cmp(fractions[ia], fractions[ib]);

	return c != 0 ? c : (ia > ib) - (ia < ib);
}

bool
perps_depth_from_arrays(ArrayType *bids, ArrayType *asks, int n, const XNum *fractions,
						bool base, PerpsDepthResult *res)
{
	int			side;
	int			i;
	/* scratch for up to BM_DEPTH_STACK thresholds on the stack */
#define BM_DEPTH_STACK 16
	int			order_s[BM_DEPTH_STACK];
	XNum		thr_s[BM_DEPTH_STACK];
	int128		tm_s[BM_DEPTH_STACK];
	BmDepthFig	fig_s[BM_DEPTH_STACK];
	int		   *order = order_s;
	XNum	   *thr = thr_s;
	int128	   *tm = tm_s;
	BmDepthFig *fig = fig_s;

	for (i = 0; i < n; i++)
		if (fractions[i].big)
			return false;
	if (!bm_fast_mid(bids, asks, &res->mid))
		return false;

	/* thresholds nearest to mid first: by fraction (equal ones in their given order) */
	if (n > BM_DEPTH_STACK)
	{
		order = palloc(sizeof(int) * n);
		thr = palloc(sizeof(XNum) * n);
		tm = palloc(sizeof(int128) * n);
		fig = palloc(sizeof(BmDepthFig) * n);
	}
	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_arg(order, n, sizeof(int), bm_cmp_fraction, (void *) fractions);

	for (side = 0; side < 2; side++)
	{
		bool		is_bids = (side == 0);
		bool		ok;

		for (i = 0; i < n; i++)
		{
			XNum		off = xn_mul(res->mid, fractions[order[i]]);

			thr[i] = is_bids ? xn_sub(res->mid, off) : xn_add(res->mid, off);
		}
		/* one loop for each case, the direction and the sum built in */
		if (is_bids)
			ok = base ? bm_depth_walk(bids, true, true, n, thr, tm, fig) :
				bm_depth_walk(bids, true, false, n, thr, tm, fig);
		else
			ok = base ? bm_depth_walk(asks, false, true, n, thr, tm, fig) :
				bm_depth_walk(asks, false, false, n, thr, tm, fig);
		if (!ok)
			return false;
		for (i = 0; i < n; i++)
		{
			int			k = order[i];

			res->fig[side][k] = bm_at_scale(fig[i].sum, fig[i].scale, fig[i].dscale);
			res->complete[side][k] = fig[i].complete;
		}
	}
	return true;
}

/*
 * The side an order walks, in one pass: levels are checked, decoded and
 * summed until the sums reach the notional, the rest only checked.
 */
static pg_attribute_always_inline bool
bm_slippage_walk(ArrayType *arr, const bool is_bids, XNum mid, XNum notional,
				 PerpsSlippage *res)
{
	BmWalk		wk;
	int			n = ARR_DIMS(arr)[0];
	int128		cq = 0,			/* quote of the levels before, frame gp + gq */
				cb = 0,			/* base, frame gq */
				nt;				/* ceil(notional) in frame gp + gq */
	int			dq = 0,
				db = 0;
	int			i;

	bm_walk_init(&wk, arr, is_bids);
	if (n < 1 || !bm_thr_frame(&notional, 0, 1, 0, true, &nt))
		return false;
	for (i = 0; i < n; i++)
	{
		int			dgp,
					dgq;
		int128		term,
					after;

		if (unlikely(!bm_walk_level(&wk, is_bids, &dgp, &dgq)))
			return false;
		if (unlikely(dgp + dgq > 0))
		{
			if (!bm_rescale128(&cq, dgp + dgq) || !bm_rescale128(&cb, dgq) ||
				!bm_thr_frame(&notional, 0, 1, wk.gp + wk.gq, true, &nt))
				return false;
		}
		term = (int128) wk.mp * wk.mq;
		if (unlikely(__builtin_add_overflow(cq, term, &after)))
			return false;
		if (after >= nt)
		{
			/* the order fills at this level */
			bm_slippage_fill(mid, !is_bids, notional, i + 1,
							 bm_at_scale(wk.mp, 4 * wk.gp, wk.pds),
							 bm_at_scale(cq, 4 * (wk.gp + wk.gq), dq),
							 bm_at_scale(cb, 4 * wk.gq, db), res);
			return bm_walk_check_rest(&wk, n - i - 1, is_bids);
		}
		cq = after;
		cb += wk.mq;			/* n 64-bit terms cannot overflow */
		dq = Max(dq, wk.pds + wk.qds);
		db = Max(db, wk.qds);
	}

	/* the side cannot fill the order: all it holds */
	res->feasible = false;
	res->levels_used = n;
	res->avg_price = NULL;
	res->slippage_bps = NULL;
	res->filled_base = xn_to_numeric(bm_at_scale(cb, 4 * wk.gq, db));
	res->filled_quote = xn_to_numeric(bm_at_scale(cq, 4 * (wk.gp + wk.gq), dq));
	return true;
}

bool
perps_slippage_from_arrays(ArrayType *bids, ArrayType *asks, bool is_buy, XNum notional,
						   XNum *mid, PerpsSlippage *res)
{
	ArrayType  *other = is_buy ? bids : asks;

	if (notional.big || !bm_fast_mid(bids, asks, mid))
		return false;
	/* the side the order does not walk is only checked */
	if (!(is_buy ? bm_lane_scan((const char *) other + ARR_OVERHEAD_NONULLS(2),
								(const char *) other + VARSIZE(other), ARR_DIMS(other)[0],
								NULL, true, BM_WKEY(PG_INT32_MAX, 0)) :
		  bm_lane_scan((const char *) other + ARR_OVERHEAD_NONULLS(2),
					   (const char *) other + VARSIZE(other), ARR_DIMS(other)[0],
					   NULL, false, BM_WKEY(PG_INT32_MIN, 0))))
		return false;
	return is_buy ? bm_slippage_walk(asks, false, *mid, notional, res) :
		bm_slippage_walk(bids, true, *mid, notional, res);
}

bool
perps_book_liquidity_row(const PerpsNumBook *book, Datum *values, bool *nulls)
{
	PerpsExactBook xb;
	int			i;
	int			s;

	perps_exact_book(book, &xb);
	if (!xb.has_mid)
		return false;

	values[0] = NumericGetDatum(xn_to_numeric(xb.mid));
	nulls[0] = false;
	for (s = 0; s < 2; s++)
	{
		for (i = 0; i < (int) BM_STD_BPS_COUNT; i++)
		{
			XNum		f = xn_shift(xn_make(bm_std_bps[i].v, bm_std_bps[i].scale), 4);
			int			col = 1 + s * BM_STD_BPS_COUNT + i;

			values[col] = NumericGetDatum(xn_to_numeric(perps_exact_within(&xb, s == 0, f,
																		   false, NULL)));
			nulls[col] = false;
		}
	}
	values[PERPS_LIQUIDITY_ROW_NATTS - 2] = NumericGetDatum(perps_exact_max_bps(&xb, true));
	nulls[PERPS_LIQUIDITY_ROW_NATTS - 2] = false;
	values[PERPS_LIQUIDITY_ROW_NATTS - 1] = NumericGetDatum(perps_exact_max_bps(&xb, false));
	nulls[PERPS_LIQUIDITY_ROW_NATTS - 1] = false;
	return true;
}

int
perps_book_slippage_rows(const PerpsNumBook *book, PerpsSlippageRow *rows)
{
	PerpsExactBook xb;
	Numeric		mid;
	int			i;
	int			n = 0;

	perps_exact_book(book, &xb);
	if (!xb.has_mid)
		return 0;

	mid = xn_to_numeric(xb.mid);
	for (i = 0; i < (int) lengthof(bm_std_sizes); i++)
	{
		XNum		amount = xn_make(bm_std_sizes[i], 0);
		Numeric		amount_num = xn_to_numeric(amount);
		int			b;

		for (b = 0; b < 2; b++)
		{
			PerpsSlippage res;
			PerpsSlippageRow *row = &rows[n++];

			perps_exact_slippage(&xb, b == 0, amount, &res);
			row->amount = amount_num;
			row->is_buy = (b == 0);
			row->mid_price = mid;
			row->feasible = res.feasible;
			row->avg_price = res.avg_price;
			row->slippage_bps = res.slippage_bps;
		}
	}
	return n;
}
