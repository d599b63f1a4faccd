/*-------------------------------------------------------------------------
 *
 * stats.c
 *		The summary aggregate behind the market statistics
 *		(sql/install/24_stats.sql): count, min, mean, median, p5, p95, p99
 *		and max of a numeric column, exact, in one pass and one sort.
 *
 * Percentiles are continuous, as percentile_cont: over the n values sorted
 * ascending x[0..n-1], the p-th percentile is x[lo] + f * (x[lo+1] - x[lo])
 * with h = (n - 1) * p, lo = floor(h), f = h - lo.  With p in hundredths, f
 * is a decimal of at most two places, so the result is exact numeric: the
 * values' scale, plus f's decimals when f is not 0.  The mean is the exact
 * sum divided by the count with numeric_div, the value and scale of
 * avg(numeric).
 *
 * The transition state holds every value.  While they fit, values are
 * 128-bit integers at one common scale (the largest scale seen: a value
 * with more decimals rescales those already held, at most 38 times); the
 * sort is then an LSD radix sort over the bytes that vary, which checks for
 * interrupts between and within its passes.  A value outside that form
 * (more than 38 digits, or too large at the common scale) moves the state to
 * Numeric copies sorted with numeric_cmp (qsort_interruptible).  NaN and
 * infinities are refused.
 *
 * Bounds: at most STATS_MAX_VALUES values per group (54000 beyond).
 *
 * Memory: the state and its arrays live in the aggregate memory context
 * (allocated huge: 16 bytes a value, twice that while sorting).  The final
 * function may sort the state in place: the aggregate is declared with
 * FINALFUNC_MODIFY = READ_WRITE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/tablespace.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "storage/buffile.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "exactnum.h"
#include "wsum.h"

/* 32 Mi values: 512 MiB held, 1 GiB while sorting */
#define STATS_MAX_VALUES ((int64) 32 * 1024 * 1024)

/* the percentiles of the summary, in hundredths, in its column order */
static const int stats_pcts[] = {50, 5, 95, 99};

#define STATS_NCOLS 8

typedef struct StatsState
{
	MemoryContext cxt;			/* the aggregate context: owns the arrays */
	int64		n;				/* values held */
	int64		cap;			/* room in vals or nums */
	int64		maxn;			/* values held at most */
	int32		scale;			/* common scale of vals */
	bool		slow;			/* values are in nums, not vals */
	int128	   *vals;			/* value * 10^scale */
	Datum	   *nums;			/* Numeric copies */
} StatsState;

static void
stats_too_many(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("summary holds more than %lld values", (long long) STATS_MAX_VALUES),
			 errhint("Narrow the time range or group the rows more finely.")));
}

/* Moves the state to Numeric copies. */
static void
stats_go_slow(StatsState *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->cxt);
	Datum	   *nums = MemoryContextAllocHuge(st->cxt, sizeof(Datum) * st->cap);
	int64		i;

	for (i = 0; i < st->n; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		nums[i] = NumericGetDatum(xn_to_numeric(xn_small(st->vals[i], st->scale)));
	}
	MemoryContextSwitchTo(old);
	pfree(st->vals);
	st->vals = NULL;
	st->nums = nums;
	st->slow = true;
}

/* Brings the values held to a larger scale; false on overflow (nothing changed then). */
static bool
stats_rescale(StatsState *st, int32 scale)
{
	int128		f = xn_pow10[scale - st->scale];
	int128		lim = ((int128) 1 << 126) / f;	/* |v| below it: v * f fits */
	int64		i;

	for (i = 0; i < st->n; i++)
		if (st->vals[i] >= lim || st->vals[i] <= -lim)
			return false;
	for (i = 0; i < st->n; i++)
		st->vals[i] *= f;
	st->scale = scale;
	return true;
}

static void
stats_grow(StatsState *st)
{
	int64		cap;

	if (st->n < st->cap)
		return;
	if (st->n >= st->maxn)
		stats_too_many();
	cap = Min(st->cap * 2, st->maxn);
	if (st->slow)
		st->nums = repalloc_huge(st->nums, sizeof(Datum) * cap);
	else
		st->vals = repalloc_huge(st->vals, sizeof(int128) * cap);
	st->cap = cap;
}

static StatsState *
stats_new(MemoryContext cxt, int64 maxn)
{
	StatsState *st = MemoryContextAllocZero(cxt, sizeof(StatsState));

	st->cxt = cxt;
	st->maxn = maxn;
	st->cap = Min(1024, maxn);
	st->vals = MemoryContextAlloc(cxt, sizeof(int128) * st->cap);
	return st;
}

/*
 * Holds one more value (not NULL); returns its display scale while the
 * values are 128-bit integers (the value is then st->vals[st->n - 1]), -1
 * once they are Numeric copies.
 */
static int32
stats_push(StatsState *st, Datum d, const char *what)
{
	Numeric		num;
	int64		m;
	int128		v = 0;
	int32		ds = 0;

	/*
	 * The common case: a short plain numeric that fits 64 bits; else any
	 * that fits 128 bits (a quotient has 20 significant digits or more).
	 */
	num = NULL;
	if (!st->slow && xn_decode_int64(d, &m, &ds))
		v = m;
	else
	{
		XNum		x = st->slow ? xn_make(0, 0) : xn_from_datum(d);

		if (!st->slow && !x.big)
		{
			v = x.v;
			ds = x.scale;
		}
		else
		{
			num = DatumGetNumeric(d);
			if (numeric_is_nan(num) || numeric_is_inf(num))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s does not accept NaN or infinity", what)));
			if (!st->slow)
				stats_go_slow(st);
		}
	}

	stats_grow(st);
	if (!st->slow)
	{
		if (st->n == 0)
			st->scale = ds;
		else if (ds > st->scale && !stats_rescale(st, ds))
			stats_go_slow(st);
		if (!st->slow && ds < st->scale &&
			__builtin_mul_overflow(v, xn_pow10[st->scale - ds], &v))
			stats_go_slow(st);
		if (!st->slow)
		{
			st->vals[st->n++] = v;
			return ds;
		}
		if (num == NULL)
			num = DatumGetNumeric(d);
	}
	{
		MemoryContext old = MemoryContextSwitchTo(st->cxt);

		st->nums[st->n++] = datumCopy(NumericGetDatum(num), false, -1);
		MemoryContextSwitchTo(old);
	}
	return -1;
}

PG_FUNCTION_INFO_V1(summary_accum);
Datum
summary_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	StatsState *st;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "summary_accum called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (StatsState *) PG_GETARG_POINTER(0);
	if (st == NULL)
		st = stats_new(aggcxt, STATS_MAX_VALUES);
	if (!PG_ARGISNULL(1))
		stats_push(st, PG_GETARG_DATUM(1), "summary");
	PG_RETURN_POINTER(st);
}

/*
 * Sorts v[0..n-1] ascending: LSD radix sort by bytes of the value with its
 * sign bit flipped, skipping the bytes that are the same in every value.
 */
static void
stats_radix_sort(int128 *v, int64 n, MemoryContext cxt)
{
	static const uint128 flip = (uint128) 1 << 127;
	int64		(*count)[256] = MemoryContextAllocZero(cxt, sizeof(int64) * 16 * 256);
	int128	   *tmp;
	int128	   *src = v;
	int128	   *dst;
	int64		i;
	int			b;

	for (i = 0; i < n; i++)
	{
		uint128		u = (uint128) v[i] ^ flip;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (b = 0; b < 16; b++)
			count[b][(uint8) (u >> (8 * b))]++;
	}
	tmp = MemoryContextAllocHuge(cxt, sizeof(int128) * n);
	dst = tmp;
	for (b = 0; b < 16; b++)
	{
		int64		pos[256];
		int64		sum = 0;
		int			d;
		bool		trivial = false;

		for (d = 0; d < 256; d++)
		{
			if (count[b][d] == n)
				trivial = true;
			pos[d] = sum;
			sum += count[b][d];
		}
		if (trivial)
			continue;
		for (i = 0; i < n; i++)
		{
			uint128		u = (uint128) src[i] ^ flip;

			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			dst[pos[(uint8) (u >> (8 * b))]++] = src[i];
		}
		/* the next pass reads what this one wrote */
		{
			int128	   *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != v)
		memcpy(v, src, sizeof(int128) * n);
	pfree(tmp);
	pfree(count);
}

static int
stats_numeric_cmp(const void *a, const void *b, void *arg)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, *(const Datum *) a, *(const Datum *) b));
}

/* the i-th smallest value */
static inline XNum
stats_at(StatsState *st, int64 i)
{
	return st->slow ? xn_from_datum(st->nums[i]) : xn_small(st->vals[i], st->scale);
}

/* the k-th percentile (k in hundredths), continuous */
static Numeric
stats_percentile(StatsState *st, int k)
{
	int64		h = (st->n - 1) * (int64) k;
	int64		lo = h / 100;
	int64		r = h % 100;
	XNum		f;
	XNum		a;

	a = stats_at(st, lo);
	if (r == 0)
		return xn_to_numeric(a);
	/* f = r / 100 without trailing zeros */
	f = (r % 10 == 0) ? xn_make(r / 10, 1) : xn_make(r, 2);
	return xn_to_numeric(xn_add(a, xn_mul(f, xn_sub(stats_at(st, lo + 1), a))));
}

PG_FUNCTION_INFO_V1(summary_final);
Datum
summary_final(PG_FUNCTION_ARGS)
{
	StatsState *st = PG_ARGISNULL(0) ? NULL : (StatsState *) PG_GETARG_POINTER(0);
	TupleDesc	tupdesc;
	Datum		values[STATS_NCOLS];
	bool		nulls[STATS_NCOLS];
	XNum		total;
	int64		i;
	int			j;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "summary_final: return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	memset(nulls, true, sizeof(nulls));
	values[0] = Int64GetDatum(st == NULL ? 0 : st->n);
	nulls[0] = false;
	if (st == NULL || st->n == 0)
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));

	if (st->slow)
	{
		qsort_interruptible(st->nums, st->n, sizeof(Datum), stats_numeric_cmp, NULL);
		total = xn_make(0, 0);
		for (i = 0; i < st->n; i++)
		{
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			total = xn_add(total, xn_from_datum(st->nums[i]));
		}
	}
	else
	{
		int128		acc = 0;
		int128		next;

		stats_radix_sort(st->vals, st->n, st->cxt);
		/* the exact sum: an int128 accumulator, spilled into total before it overflows */
		total = xn_make(0, 0);
		for (i = 0; i < st->n; i++)
		{
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			if (__builtin_add_overflow(acc, st->vals[i], &next))
			{
				total = xn_add(total, xn_small(acc, st->scale));
				next = st->vals[i];
			}
			acc = next;
		}
		/* the sum's scale is the largest of the values', as numeric_add's */
		total = xn_add(total, xn_small(acc, st->scale));
	}

	values[1] = NumericGetDatum(xn_to_numeric(stats_at(st, 0)));
	values[2] = NumericGetDatum(xn_div(total, xn_make(st->n, 0)));
	for (j = 0; j < (int) lengthof(stats_pcts); j++)
		values[3 + j] = NumericGetDatum(stats_percentile(st, stats_pcts[j]));
	values[7] = NumericGetDatum(xn_to_numeric(stats_at(st, st->n - 1)));
	memset(nulls, false, sizeof(nulls));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * _histogram(x numeric, bins int): market_histogram's equal-width bins over
 * [min, max] in one scan.  The values are held as the summary holds them
 * (above), work_mem of them at a time (16 bytes a value); beyond that, each
 * batch is written to a temporary file (with the batch's scale), as a sort
 * spills.  The final function then finds each value's bin exactly, as
 * width_bucket(x, min, max, bins) would (floor((x - min) * bins / (max -
 * min)) + 1, max in the last bin), in 128-bit integers at the values'
 * largest scale.  The result is (lo, hi, counts): min and max as min() and
 * max() return them (their own display scale; of equal values, the later
 * one), and counts NULL when a value is outside the 128-bit form (more than
 * 38 digits, or too large at the largest scale): the caller then counts
 * with width_bucket in a second scan, and the state keeps only min and max
 * (as Numeric copies) from that value on.
 */
typedef struct HistState
{
	StatsState *st;				/* the values in memory; NULL once dropped */
	int32		bins;
	int64		n;				/* values seen */
	XNum		minx;			/* min and max at their own display scales, */
	XNum		maxx;			/* while the values are 128-bit */
	Datum		mind;			/* min and max as Numeric copies, once dropped */
	Datum		maxd;
	BufFile    *spill;			/* batches beyond work_mem: scale, count, values */
	int32		spill_scale;	/* the largest scale of a spilled batch */
	bool		done;			/* the final function has run: its result below */
	Datum		res[3];
	bool		resnull[3];
} HistState;

static void
hist_close(HistState *hs)
{
	if (hs->spill != NULL)
		BufFileClose(hs->spill);
	hs->spill = NULL;
}

/* Writes the values in memory to the temporary file, as one batch. */
static void
hist_spill(HistState *hs)
{
	StatsState *st = hs->st;

	if (hs->spill == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(st->cxt);

		PrepareTempTablespaces();
		hs->spill = BufFileCreateTemp(false);
		MemoryContextSwitchTo(old);
		hs->spill_scale = 0;
	}
	BufFileWrite(hs->spill, &st->scale, sizeof(st->scale));
	BufFileWrite(hs->spill, &st->n, sizeof(st->n));
	BufFileWrite(hs->spill, st->vals, sizeof(int128) * st->n);
	hs->spill_scale = Max(hs->spill_scale, st->scale);
	st->n = 0;
}

/* Stops holding values: min and max become Numeric copies in the aggregate context. */
static void
hist_drop(HistState *hs, MemoryContext aggcxt)
{
	StatsState *st = hs->st;
	MemoryContext old = MemoryContextSwitchTo(aggcxt);
	int64		i;

	if (hs->n > 0)
	{
		hs->mind = NumericGetDatum(xn_to_numeric(hs->minx));
		hs->maxd = NumericGetDatum(xn_to_numeric(hs->maxx));
	}
	if (st->slow)
	{
		for (i = 0; i < st->n; i++)
			pfree(DatumGetPointer(st->nums[i]));
		pfree(st->nums);
	}
	else
		pfree(st->vals);
	pfree(st);
	hs->st = NULL;
	hist_close(hs);
	MemoryContextSwitchTo(old);
}

PG_FUNCTION_INFO_V1(histogram_accum);
Datum
histogram_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	HistState  *hs;
	StatsState *st;
	Datum		d;
	int32		ds;
	Numeric		num;
	MemoryContext old;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "histogram_accum called in non-aggregate context");
	hs = PG_ARGISNULL(0) ? NULL : (HistState *) PG_GETARG_POINTER(0);
	if (hs == NULL)
	{
		int32		bins = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);

		if (bins < 1 || bins > 1000)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("bins must be between 1 and 1000")));
		hs = MemoryContextAllocZero(aggcxt, sizeof(HistState));
		hs->bins = bins;
		/* work_mem is in kB */
		hs->st = stats_new(aggcxt, Max(1024, Min(STATS_MAX_VALUES, (int64) work_mem * 1024 / (int64) sizeof(int128))));
	}
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(hs);
	if (hs->done)
		elog(ERROR, "histogram_accum called after the final function");
	d = PG_GETARG_DATUM(1);
	st = hs->st;
	if (st != NULL)
	{
		if (st->n >= st->maxn)
			hist_spill(hs);
		ds = stats_push(st, d, "market_histogram");
		if (ds >= 0)
		{
			int128		v = st->vals[st->n - 1];
			XNum		x = xn_small(v, st->scale);

			/* min and max at their own scale: v's digits below ds are zeros */
			if (hs->n == 0 || xn_cmp(x, hs->minx) <= 0)
				hs->minx = xn_small(v / xn_pow10[st->scale - ds], ds);
			if (hs->n == 0 || xn_cmp(x, hs->maxx) >= 0)
				hs->maxx = xn_small(v / xn_pow10[st->scale - ds], ds);
			hs->n++;
			PG_RETURN_POINTER(hs);
		}
		/* a value outside the 128-bit form: min and max only from here on */
		hist_drop(hs, aggcxt);
	}
	num = DatumGetNumeric(d);
	if (numeric_is_nan(num) || numeric_is_inf(num))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("market_histogram does not accept NaN or infinity")));
	old = MemoryContextSwitchTo(aggcxt);
	if (hs->n == 0 || DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(num), hs->mind)) <= 0)
	{
		if (hs->n > 0)
			pfree(DatumGetPointer(hs->mind));
		hs->mind = datumCopy(NumericGetDatum(num), false, -1);
	}
	if (hs->n == 0 || DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(num), hs->maxd)) >= 0)
	{
		if (hs->n > 0)
			pfree(DatumGetPointer(hs->maxd));
		hs->maxd = datumCopy(NumericGetDatum(num), false, -1);
	}
	MemoryContextSwitchTo(old);
	hs->n++;
	PG_RETURN_POINTER(hs);
}

/* *v at scale from, brought to scale to >= from; false on overflow */
static inline bool
hist_rescale(int128 *v, int32 from, int32 to)
{
	return from == to || !__builtin_mul_overflow(*v, xn_pow10[to - from], v);
}

/* floor(a * bins / w) for 0 <= a <= w, w * bins within 127 bits: a double's estimate, made exact */
static inline int32
hist_bin(int128 a, int128 w, int32 bins)
{
	int128		num = a * bins;
	int64		q = (int64) ((double) a / (double) w * bins);

	if (q < 0)
		q = 0;
	if (q > bins)
		q = bins;
	while (q > 0 && (int128) q * w > num)
		q--;
	while (q < bins && (int128) (q + 1) * w <= num)
		q++;
	return (int32) Min(q, bins - 1);
}

/* counts[bin] += each of v[0..n-1] at scale from; false when a value does not fit at scale to */
static bool
hist_count_batch(const int128 *v, int64 n, int32 from, int32 to, int128 lo, int128 w,
				 int32 bins, int64 *counts)
{
	int64		i;

	for (i = 0; i < n; i++)
	{
		int128		x = v[i];

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!hist_rescale(&x, from, to))
			return false;
		counts[hist_bin(x - lo, w, bins)]++;
	}
	return true;
}

/*
 * The counts of every value, in memory and spilled, at the largest scale;
 * NULL when a value, or (max - min) * bins, does not fit 128 bits there.
 */
static int64 *
hist_counts(HistState *hs)
{
	StatsState *st = hs->st;
	int32		to = Max(st->n > 0 ? st->scale : 0, hs->spill != NULL ? hs->spill_scale : 0);
	int128		lo = hs->minx.v;
	int128		hi = hs->maxx.v;
	int128		w;
	int64	   *counts = palloc0(sizeof(int64) * hs->bins);

	to = Max(to, Max(hs->minx.scale, hs->maxx.scale));
	if (!hist_rescale(&lo, hs->minx.scale, to) || !hist_rescale(&hi, hs->maxx.scale, to) ||
		__builtin_sub_overflow(hi, lo, &w) || w > (((int128) 1 << 126) / hs->bins))
		return NULL;
	if (w == 0)
	{
		counts[0] = hs->n;
		return counts;
	}
	if (!hist_count_batch(st->vals, st->n, st->scale, to, lo, w, hs->bins, counts))
		return NULL;
	if (hs->spill != NULL)
	{
		int128	   *buf = palloc(sizeof(int128) * 8192);

		if (BufFileSeek(hs->spill, 0, 0, SEEK_SET) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not rewind the histogram's temporary file: %m")));
		for (;;)
		{
			int32		scale;
			int64		n;
			size_t		got = BufFileRead(hs->spill, &scale, sizeof(scale));

			if (got == 0)
				break;
			if (got != sizeof(scale) || BufFileRead(hs->spill, &n, sizeof(n)) != sizeof(n) ||
				scale < 0 || scale > XN_MAX_SCALE || n < 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not read the histogram's temporary file")));
			while (n > 0)
			{
				int64		k = Min(n, 8192);

				if (BufFileRead(hs->spill, buf, sizeof(int128) * k) != sizeof(int128) * k)
					ereport(ERROR,
							(errcode_for_file_access(),
							 errmsg("could not read the histogram's temporary file")));
				if (!hist_count_batch(buf, k, scale, to, lo, w, hs->bins, counts))
					return NULL;
				n -= k;
			}
		}
		pfree(buf);
	}
	return counts;
}

PG_FUNCTION_INFO_V1(histogram_final);
Datum
histogram_final(PG_FUNCTION_ARGS)
{
	HistState  *hs = PG_ARGISNULL(0) ? NULL : (HistState *) PG_GETARG_POINTER(0);
	TupleDesc	tupdesc;
	bool		nulls[3] = {true, true, true};
	Datum		values[3];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "histogram_final: return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (hs == NULL || hs->n == 0)
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	if (!hs->done)
	{
		MemoryContext aggcxt;
		MemoryContext old;
		int64	   *counts = NULL;

		if (!AggCheckCallContext(fcinfo, &aggcxt))
			elog(ERROR, "histogram_final called in non-aggregate context");
		old = MemoryContextSwitchTo(aggcxt);
		memset(hs->resnull, true, sizeof(hs->resnull));
		if (hs->st != NULL)
		{
			hs->res[0] = NumericGetDatum(xn_to_numeric(hs->minx));
			hs->res[1] = NumericGetDatum(xn_to_numeric(hs->maxx));
			counts = hist_counts(hs);
		}
		else
		{
			hs->res[0] = hs->mind;
			hs->res[1] = hs->maxd;
		}
		hs->resnull[0] = hs->resnull[1] = false;
		if (counts != NULL)
		{
			Datum	   *elems = palloc(sizeof(Datum) * hs->bins);
			int			b;

			for (b = 0; b < hs->bins; b++)
				elems[b] = Int64GetDatum(counts[b]);
			hs->res[2] = PointerGetDatum(construct_array(elems, hs->bins, INT8OID, sizeof(int64),
														 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			hs->resnull[2] = false;
		}
		hist_close(hs);
		hs->done = true;
		MemoryContextSwitchTo(old);
	}
	memcpy(values, hs->res, sizeof(values));
	memcpy(nulls, hs->resnull, sizeof(nulls));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * slope_per_day(y numeric, t timestamptz): the least-squares slope of y
 * against time, per day, exact: the sums n, x, x^2, y, xy with x the
 * microseconds since the group's first row (the slope does not depend on
 * the origin), kept as XNums (128-bit while they fit, numeric beyond), and
 * one numeric division at the end.  NULL for fewer than two distinct times.
 * The state and any Numeric its sums hold live in the aggregate context.
 * The same sums make the trend of _funding (below).
 */
typedef struct SlopeState
{
	int64		n;
	TimestampTz x0;
	XNum		sx;
	XNum		sxx;
	XNum		sy;
	XNum		sxy;
} SlopeState;

/*
 * *dst = v, kept in cxt: a big v is copied there (it may point into a tuple
 * or a per-tuple temporary), and the big value *dst held is freed (every
 * big XNum of a state is its own copy).
 */
static void
xn_put(XNum *dst, XNum v, MemoryContext cxt)
{
	if (v.big && dst->big && v.n == dst->n)
		return;
	if (dst->big)
		pfree(dst->n);
	if (v.big)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		v.n = DatumGetNumeric(datumCopy(NumericGetDatum(v.n), false, -1));
		MemoryContextSwitchTo(old);
	}
	*dst = v;
}

/*
 * Adds (t, y) to the sums, computed in the current memory context and kept
 * in cxt; the caller has refused NaN, infinities and infinite times.
 */
static void
slope_add(SlopeState *st, XNum y, TimestampTz t, MemoryContext cxt)
{
	XNum		x;

	if (st->n == 0)
	{
		st->x0 = t;
		st->sx = st->sxx = st->sy = st->sxy = xn_make(0, 0);
	}
	/* timestamps are within +-2^63 microseconds: their difference fits 128 bits */
	x = xn_small((int128) t - (int128) st->x0, 0);
	st->n++;
	xn_put(&st->sx, xn_add(st->sx, x), cxt);
	xn_put(&st->sxx, xn_add(st->sxx, xn_mul(x, x)), cxt);
	xn_put(&st->sy, xn_add(st->sy, y), cxt);
	xn_put(&st->sxy, xn_add(st->sxy, xn_mul(x, y)), cxt);
}

/* the slope per day, NULL for fewer than two distinct times */
static Numeric
slope_value(SlopeState *st)
{
	XNum		n;
	XNum		num;
	XNum		den;

	if (st->n < 2)
		return NULL;
	n = xn_make(st->n, 0);
	/* (n sxy - sx sy) / (n sxx - sx^2), per microsecond; times 86400 * 10^6 */
	num = xn_sub(xn_mul(n, st->sxy), xn_mul(st->sx, st->sy));
	den = xn_sub(xn_mul(n, st->sxx), xn_mul(st->sx, st->sx));
	if (xn_sign(den) == 0)
		return NULL;
	return xn_div(xn_mul(num, xn_make(INT64CONST(86400000000), 0)), den);
}

/*
 * Adds b's sums to a's.  b's x are at b's origin: with d = x0(b) - x0(a),
 * every x of b is x + d at a's origin, so sum x gains n d, sum x^2 gains
 * 2 d sum x + n d^2 and sum xy gains d sum y.
 */
static void
slope_merge(SlopeState *a, const SlopeState *b, MemoryContext cxt)
{
	XNum		d;
	XNum		nb;

	if (b->n == 0)
		return;
	if (a->n == 0)
	{
		a->n = b->n;
		a->x0 = b->x0;
		a->sx = a->sxx = a->sy = a->sxy = xn_make(0, 0);
		xn_put(&a->sx, b->sx, cxt);
		xn_put(&a->sxx, b->sxx, cxt);
		xn_put(&a->sy, b->sy, cxt);
		xn_put(&a->sxy, b->sxy, cxt);
		return;
	}
	d = xn_small((int128) b->x0 - (int128) a->x0, 0);
	nb = xn_make(b->n, 0);
	xn_put(&a->sxx, xn_add(a->sxx, xn_add(b->sxx, xn_add(xn_mul(xn_make(2, 0), xn_mul(d, b->sx)),
														  xn_mul(nb, xn_mul(d, d))))), cxt);
	xn_put(&a->sxy, xn_add(a->sxy, xn_add(b->sxy, xn_mul(d, b->sy))), cxt);
	xn_put(&a->sx, xn_add(a->sx, xn_add(b->sx, xn_mul(nb, d))), cxt);
	xn_put(&a->sy, xn_add(a->sy, b->sy), cxt);
	a->n += b->n;
}

/* an XNum in a state's serial form: numeric's binary send format, length first */
static void
xn_send(StringInfo buf, XNum x)
{
	bytea	   *b = DatumGetByteaPP(DirectFunctionCall1(numeric_send, NumericGetDatum(xn_to_numeric(x))));

	pq_sendint32(buf, VARSIZE_ANY_EXHDR(b));
	pq_sendbytes(buf, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

static XNum
xn_recv(StringInfo buf)
{
	int32		len = pq_getmsgint(buf, 4);
	StringInfoData nbuf;

	if (len < 0 || len > buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid numeric length %d in an aggregate state", len)));
	initStringInfo(&nbuf);
	appendBinaryStringInfo(&nbuf, pq_getmsgbytes(buf, len), len);
	return xn_from_datum(DirectFunctionCall3(numeric_recv, PointerGetDatum(&nbuf),
											 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

static void
slope_send(StringInfo buf, const SlopeState *st)
{
	pq_sendint64(buf, st->n);
	if (st->n == 0)
		return;
	pq_sendint64(buf, st->x0);
	xn_send(buf, st->sx);
	xn_send(buf, st->sxx);
	xn_send(buf, st->sy);
	xn_send(buf, st->sxy);
}

static void
slope_recv(StringInfo buf, SlopeState *st)
{
	st->n = pq_getmsgint64(buf);
	if (st->n == 0)
		return;
	st->x0 = pq_getmsgint64(buf);
	st->sx = xn_recv(buf);
	st->sxx = xn_recv(buf);
	st->sy = xn_recv(buf);
	st->sxy = xn_recv(buf);
}

/* y as an XNum, refusing what the sums cannot hold (what: the function's name) */
static XNum
stats_finite(Datum d, const char *what)
{
	XNum		y = xn_from_datum(d);

	if (xn_is_special(y))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s does not accept NaN or infinity", what)));
	return y;
}

static void
stats_finite_time(TimestampTz t, const char *what)
{
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s does not accept an infinite time", what)));
}

PG_FUNCTION_INFO_V1(slope_accum);
Datum
slope_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	SlopeState *st;
	XNum		y;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "slope_accum called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (SlopeState *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	if (st == NULL)
		st = MemoryContextAllocZero(aggcxt, sizeof(SlopeState));
	y = stats_finite(PG_GETARG_DATUM(1), "slope_per_day");
	stats_finite_time(PG_GETARG_TIMESTAMPTZ(2), "slope_per_day");
	slope_add(st, y, PG_GETARG_TIMESTAMPTZ(2), aggcxt);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(slope_final);
Datum
slope_final(PG_FUNCTION_ARGS)
{
	Numeric		r = PG_ARGISNULL(0) ? NULL : slope_value((SlopeState *) PG_GETARG_POINTER(0));

	if (r == NULL)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(r);
}

/* Parallel aggregation: combine, and the serial form (n, then x0 and the four sums) */
PG_FUNCTION_INFO_V1(slope_combine);
Datum
slope_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	SlopeState *a = PG_ARGISNULL(0) ? NULL : (SlopeState *) PG_GETARG_POINTER(0);
	SlopeState *b = PG_ARGISNULL(1) ? NULL : (SlopeState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "slope_combine called in non-aggregate context");
	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
		a = MemoryContextAllocZero(aggcxt, sizeof(SlopeState));
	slope_merge(a, b, aggcxt);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(slope_serialize);
Datum
slope_serialize(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	slope_send(&buf, (SlopeState *) PG_GETARG_POINTER(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* a state's serial form as a message to read */
static void
stats_state_buf(StringInfo buf, bytea *sstate)
{
	initStringInfo(buf);
	appendBinaryStringInfo(buf, VARDATA_ANY(sstate), VARSIZE_ANY_EXHDR(sstate));
}

PG_FUNCTION_INFO_V1(slope_deserialize);
Datum
slope_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MemoryContext old;
	StringInfoData buf;
	SlopeState *st;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "slope_deserialize called in non-aggregate context");
	old = MemoryContextSwitchTo(aggcxt);
	stats_state_buf(&buf, PG_GETARG_BYTEA_PP(0));
	st = palloc0(sizeof(SlopeState));
	slope_recv(&buf, st);
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

/*
 * _funding(rate numeric, interval_hours numeric, t timestamptz): every
 * figure of funding_stats for one market in one pass, exact:
 *   count, mean (avg(numeric)'s value and scale), min and max (min()'s and
 *   max()'s: of equal values, the later one);
 *   stddev: stddev_samp(numeric)'s value and scale: the exact n sum x^2 -
 *   (sum x)^2 over n (n - 1) with numeric_div's scale r, its square root
 *   rounded to r (an integer square root, exact);
 *   interval_hours: the interval when every row with one has the same,
 *   else NULL;
 *   annualized_pct: the mean of rate * 8760 / interval_hours * 100 over
 *   the rows with an interval (not 0), with one division: the rates are
 *   summed per interval (FUND_MAX_IH intervals; the rows of any further
 *   one add their own numeric_div quotient);
 *   slope_per_day: the sums above.
 * The sums are XSums (wsum.h): the common case allocates nothing per row.
 * Per-row temporaries are in the per-tuple context; the state, its limbs
 * and its big XNums in the aggregate context.  Partial states combine
 * (parallel aggregation).
 */
#define FUND_MAX_IH 16

typedef struct FundIh
{
	XNum		ih;
	int64		n;
	XSum		sum;
} FundIh;

typedef struct FundState
{
	int64		n;				/* rates */
	XSum		sum;
	XSum		sumsq;
	XNum		min;
	XNum		max;
	bool		has_ih;			/* ihmin and ihmax are set */
	XNum		ihmin;
	XNum		ihmax;
	int64		ann_n;			/* rates with an interval other than 0 */
	int			nih;
	FundIh		ih[FUND_MAX_IH];
	XSum		extra;			/* quotients of the rows of further intervals */
	SlopeState	slope;
} FundState;

static FundState *
fund_new(MemoryContext cxt)
{
	FundState  *st = MemoryContextAllocZero(cxt, sizeof(FundState));
	int			k;

	xsum_init(&st->sum);
	xsum_init(&st->sumsq);
	xsum_init(&st->extra);
	for (k = 0; k < FUND_MAX_IH; k++)
		xsum_init(&st->ih[k].sum);
	return st;
}

/* s += y (d: y's Datum, for the general path) */
static inline void
fund_add(XSum *s, XNum y, Datum d, MemoryContext cxt)
{
	if (likely(!y.big))
		xsum_add_small(s, y.v, y.scale, cxt);
	else
	{
		WNum		w;

		wnum_decode(d, &w);
		xsum_add_wnum(s, &w, cxt);
	}
}

/* the interval's slot, a new one while there is room; -1 beyond */
static int
fund_slot(FundState *st, XNum ih, MemoryContext cxt)
{
	int			k;

	for (k = 0; k < st->nih; k++)
		if (xn_cmp(st->ih[k].ih, ih) == 0)
			return k;
	if (st->nih == FUND_MAX_IH)
		return -1;
	st->ih[k].ih = xn_make(0, 0);
	xn_put(&st->ih[k].ih, ih, cxt);
	st->nih++;
	return k;
}

static void
fund_minmax(FundState *st, XNum lo, XNum hi, int64 n_before, MemoryContext cxt)
{
	if (n_before == 0 || xn_cmp(lo, st->min) <= 0)
		xn_put(&st->min, lo, cxt);
	if (n_before == 0 || xn_cmp(hi, st->max) >= 0)
		xn_put(&st->max, hi, cxt);
}

static void
fund_ih_minmax(FundState *st, XNum lo, XNum hi, MemoryContext cxt)
{
	if (!st->has_ih || xn_cmp(lo, st->ihmin) <= 0)
		xn_put(&st->ihmin, lo, cxt);
	if (!st->has_ih || xn_cmp(hi, st->ihmax) >= 0)
		xn_put(&st->ihmax, hi, cxt);
	st->has_ih = true;
}

PG_FUNCTION_INFO_V1(funding_accum);
Datum
funding_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	FundState  *st;
	Datum		d;
	XNum		y;
	int128		sq;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "funding_accum called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (FundState *) PG_GETARG_POINTER(0);
	if (st == NULL)
		st = fund_new(aggcxt);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	d = PG_GETARG_DATUM(1);
	y = stats_finite(d, "funding_stats");
	fund_minmax(st, y, y, st->n, aggcxt);
	st->n++;
	fund_add(&st->sum, y, d, aggcxt);
	/* y^2: in 128 bits while it fits, else the limbs' exact product */
	if (likely(!y.big && y.scale * 2 <= XN_MAX_SCALE && !__builtin_mul_overflow(y.v, y.v, &sq)))
		xsum_add_small(&st->sumsq, sq, y.scale * 2, aggcxt);
	else
	{
		WNum		w;

		wnum_decode(d, &w);
		xsum_add_product(&st->sumsq, &w, &w, d, d, aggcxt);
	}
	if (!PG_ARGISNULL(2))
	{
		XNum		ih = stats_finite(PG_GETARG_DATUM(2), "funding_stats");

		fund_ih_minmax(st, ih, ih, aggcxt);
		if (xn_sign(ih) != 0)
		{
			int			k = fund_slot(st, ih, aggcxt);

			if (k >= 0)
			{
				st->ih[k].n++;
				fund_add(&st->ih[k].sum, y, d, aggcxt);
			}
			else
				/* rate * 8760 / ih, as the hand-written avg(rate * 8760 / ih) divides each row */
				xsum_add_numeric(&st->extra, xn_div(xn_mul(y, xn_make(8760, 0)), ih), aggcxt);
			st->ann_n++;
		}
	}
	if (!PG_ARGISNULL(3))
	{
		stats_finite_time(PG_GETARG_TIMESTAMPTZ(3), "funding_stats");
		slope_add(&st->slope, y, PG_GETARG_TIMESTAMPTZ(3), aggcxt);
	}
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(funding_combine);
Datum
funding_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	FundState  *a = PG_ARGISNULL(0) ? NULL : (FundState *) PG_GETARG_POINTER(0);
	FundState  *b = PG_ARGISNULL(1) ? NULL : (FundState *) PG_GETARG_POINTER(1);
	int			k;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "funding_combine called in non-aggregate context");
	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
		a = fund_new(aggcxt);
	if (b->n > 0)
		fund_minmax(a, b->min, b->max, a->n, aggcxt);
	a->n += b->n;
	xsum_add_sum(&a->sum, &b->sum, aggcxt);
	xsum_add_sum(&a->sumsq, &b->sumsq, aggcxt);
	if (b->has_ih)
		fund_ih_minmax(a, b->ihmin, b->ihmax, aggcxt);
	for (k = 0; k < b->nih; k++)
	{
		int			j = fund_slot(a, b->ih[k].ih, aggcxt);

		if (j >= 0)
		{
			a->ih[j].n += b->ih[k].n;
			xsum_add_sum(&a->ih[j].sum, &b->ih[k].sum, aggcxt);
		}
		else
			xsum_add_numeric(&a->extra, xn_div(xn_mul(xsum_value(&b->ih[k].sum), xn_make(8760, 0)),
											   b->ih[k].ih), aggcxt);
	}
	xsum_add_sum(&a->extra, &b->extra, aggcxt);
	a->ann_n += b->ann_n;
	slope_merge(&a->slope, &b->slope, aggcxt);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(funding_serialize);
Datum
funding_serialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	FundState  *st = (FundState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int			k;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "funding_serialize called in non-aggregate context");
	pq_begintypsend(&buf);
	pq_sendint64(&buf, st->n);
	xsum_send(&buf, &st->sum, aggcxt);
	xsum_send(&buf, &st->sumsq, aggcxt);
	if (st->n > 0)
	{
		xn_send(&buf, st->min);
		xn_send(&buf, st->max);
	}
	pq_sendbyte(&buf, st->has_ih);
	if (st->has_ih)
	{
		xn_send(&buf, st->ihmin);
		xn_send(&buf, st->ihmax);
	}
	pq_sendint64(&buf, st->ann_n);
	pq_sendint32(&buf, st->nih);
	for (k = 0; k < st->nih; k++)
	{
		xn_send(&buf, st->ih[k].ih);
		pq_sendint64(&buf, st->ih[k].n);
		xsum_send(&buf, &st->ih[k].sum, aggcxt);
	}
	xsum_send(&buf, &st->extra, aggcxt);
	slope_send(&buf, &st->slope);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(funding_deserialize);
Datum
funding_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	StringInfoData buf;
	FundState  *st;
	SlopeState	slope;
	int			k;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "funding_deserialize called in non-aggregate context");
	stats_state_buf(&buf, PG_GETARG_BYTEA_PP(0));
	st = fund_new(aggcxt);
	st->n = pq_getmsgint64(&buf);
	xsum_recv(&buf, &st->sum, aggcxt);
	xsum_recv(&buf, &st->sumsq, aggcxt);
	if (st->n > 0)
	{
		xn_put(&st->min, xn_recv(&buf), aggcxt);
		xn_put(&st->max, xn_recv(&buf), aggcxt);
	}
	st->has_ih = pq_getmsgbyte(&buf) != 0;
	if (st->has_ih)
	{
		xn_put(&st->ihmin, xn_recv(&buf), aggcxt);
		xn_put(&st->ihmax, xn_recv(&buf), aggcxt);
	}
	st->ann_n = pq_getmsgint64(&buf);
	st->nih = pq_getmsgint(&buf, 4);
	if (st->nih < 0 || st->nih > FUND_MAX_IH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid interval count %d in a funding state", st->nih)));
	for (k = 0; k < st->nih; k++)
	{
		xn_put(&st->ih[k].ih, xn_recv(&buf), aggcxt);
		st->ih[k].n = pq_getmsgint64(&buf);
		xsum_recv(&buf, &st->ih[k].sum, aggcxt);
	}
	xsum_recv(&buf, &st->extra, aggcxt);
	memset(&slope, 0, sizeof(slope));
	slope_recv(&buf, &slope);
	slope_merge(&st->slope, &slope, aggcxt);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/* 10^e as a Numeric (display scale -e for e < 0) */
static Numeric
num_pow10(int e)
{
	char		text[16];

	snprintf(text, sizeof(text), "1e%d", e);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/*
 * stddev_samp(numeric) of the state: NULL for fewer than 2 rates, 0 when
 * n sum x^2 - (sum x)^2 is not positive, else the square root of the
 * variance v (numeric_div, scale r) rounded to r: f = isqrt(v 10^2r), plus
 * one where (f + 1/2)^2 <= v 10^2r (never equal: the left side is not an
 * integer), over 10^r.
 */
static Numeric
fund_stddev(FundState *st)
{
	XNum		n = xn_make(st->n, 0);
	XNum		num;
	Numeric		var;
	int32		r;
	XNum		big;
	XNum		f;
	XNum		one = xn_make(1, 0);

	if (st->n < 2)
		return NULL;
	num = xn_sub(xn_mul(n, xsum_value(&st->sumsq)), xn_mul(xsum_value(&st->sum), xsum_value(&st->sum)));
	if (xn_sign(num) <= 0)
		return xn_to_numeric(xn_make(0, 0));
	var = xn_div(num, xn_mul(n, xn_make(st->n - 1, 0)));
	r = DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(var)));
	big = xn_mul(xn_from_numeric(var), xn_from_numeric(num_pow10(2 * r)));
	/* an integer at scale 0 (numeric_floor's), so that its products compare as integers */
	f = xn_from_numeric(DatumGetNumeric(DirectFunctionCall1(numeric_floor,
															DirectFunctionCall1(numeric_sqrt, NumericGetDatum(xn_to_numeric(big))))));
	while (xn_sign(f) > 0 && xn_cmp(xn_mul(f, f), big) > 0)
		f = xn_sub(f, one);
	while (xn_cmp(xn_mul(xn_add(f, one), xn_add(f, one)), big) <= 0)
		f = xn_add(f, one);
	/* (2f + 1)^2 <= 4 big: round up */
	{
		XNum		t = xn_add(xn_mul(xn_make(2, 0), f), one);

		if (xn_cmp(xn_mul(t, t), xn_mul(xn_make(4, 0), big)) <= 0)
			f = xn_add(f, one);
	}
	return xn_to_numeric(xn_mul(f, xn_from_numeric(num_pow10(-r))));
}

/* the mean of rate * 8760 / interval * 100 over the rows with an interval, with one division */
static Numeric
fund_annualized(FundState *st)
{
	XNum		num = xn_make(0, 0);
	XNum		den = xn_make(1, 0);
	int			k;

	if (st->ann_n == 0)
		return NULL;
	/* sum_k S_k / ih_k = (sum_k S_k prod_{j != k} ih_j) / prod_k ih_k */
	for (k = 0; k < st->nih; k++)
	{
		num = xn_add(xn_mul(num, st->ih[k].ih), xn_mul(xsum_value(&st->ih[k].sum), den));
		den = xn_mul(den, st->ih[k].ih);
	}
	/* (876000 num + 100 extra den) / (den ann_n) */
	num = xn_add(xn_mul(xn_make(876000, 0), num), xn_mul(xn_make(100, 0), xn_mul(xsum_value(&st->extra), den)));
	return xn_div(num, xn_mul(den, xn_make(st->ann_n, 0)));
}

#define FUND_NCOLS 8

PG_FUNCTION_INFO_V1(funding_final);
Datum
funding_final(PG_FUNCTION_ARGS)
{
	FundState  *st = PG_ARGISNULL(0) ? NULL : (FundState *) PG_GETARG_POINTER(0);
	TupleDesc	tupdesc;
	Datum		values[FUND_NCOLS];
	bool		nulls[FUND_NCOLS];
	Numeric		r;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "funding_final: return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	memset(nulls, true, sizeof(nulls));
	values[0] = Int64GetDatum(st == NULL ? 0 : st->n);
	nulls[0] = false;
	if (st != NULL && st->n > 0)
	{
		values[1] = NumericGetDatum(xn_div(xsum_value(&st->sum), xn_make(st->n, 0)));
		values[2] = NumericGetDatum(xn_to_numeric(st->min));
		values[3] = NumericGetDatum(xn_to_numeric(st->max));
		nulls[1] = nulls[2] = nulls[3] = false;
		if ((r = fund_stddev(st)) != NULL)
		{
			values[4] = NumericGetDatum(r);
			nulls[4] = false;
		}
		if (st->has_ih && xn_cmp(st->ihmin, st->ihmax) == 0)
		{
			values[5] = NumericGetDatum(xn_to_numeric(st->ihmin));
			nulls[5] = false;
		}
		if ((r = fund_annualized(st)) != NULL)
		{
			values[6] = NumericGetDatum(r);
			nulls[6] = false;
		}
		if ((r = slope_value(&st->slope)) != NULL)
		{
			values[7] = NumericGetDatum(r);
			nulls[7] = false;
		}
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
