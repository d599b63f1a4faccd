/*-------------------------------------------------------------------------
 *
 * book_walk.c
 *		Depth and slippage in one pass over the arrays (liquidity_depth,
 *		market_depth and slippage from a stored book): the fast path of the
 *		SQL functions, which gives up to the general path of book_math.c on
 *		anything it does not take.
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

#include "book_lane.h"
#include "book_math.h"

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

