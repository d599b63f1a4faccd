/*-------------------------------------------------------------------------
 *
 * fuzz_analytics.c
 *		libFuzzer harness of the order-book SQL functions (analytics.c,
 *		book_math.c, book_walk.c, exactnum.c), run inside a backend.
 *
 * Why a backend: the functions hand whatever their fast paths do not take
 * to numeric.c (numeric_add, numeric_div, numeric_in ...), which exists
 * only inside the postgres executable.  So this file and the analytics
 * sources are built into a loadable module (fuzz/run_analytics.sh) whose
 * SQL function perps_fuzz_analytics(args text[]) gives its arguments to
 * libFuzzer's LLVMFuzzerRunDriver in a throwaway single-user backend.
 * libFuzzer ends the process when it is done (exit status 0) or when an
 * input fails (non-zero, the input saved under -artifact_prefix), so the
 * function never returns.  To replay a saved input, pass its path as the
 * only argument.
 *
 * The functions are called through the fmgr as the executor calls them:
 * their catalog entries are those of sql/install/20_analytics.sql (pointing
 * at this module), set-returning functions get a ReturnSetInfo that allows
 * materialize mode, the vwap support functions an aggregate context.
 *
 * An input is text, one directive a line (anything else is ignored):
 *
 *	b P Q			a bid level (levels best first, as the functions take them)
 *	a P Q			an ask level
 *	B N P0 STEP Q...	N bid levels from P0 down by STEP, quantities Q... in turn
 *	A N P0 STEP Q...	N ask levels from P0 up by STEP
 *	t X...			thresholds of liquidity_depth (bps) and market_depth (fractions);
 *					without any, each function's SQL default
 *	T N X0 STEP		N thresholds from X0 up by STEP
 *	s SIDE NOTIONAL	a slippage call (without any: buy and sell for 1000)
 *	v P Q			a vwap row (without any: the book's levels)
 *	w K				vwap in parallel: rows before K in one partial state
 *	r K				a rescaled variant adds K decimals (default 3)
 *	shape X FORM	X bids, asks or t; FORM 1d, 3d, flip (dimensions swapped),
 *					2d (thresholds), empty, lb=N (lower bound)
 *
 * A value is NULL; or ~[-niI]W/D/G.G... for numeric_recv (sign: negative,
 * NaN, Infinity, -Infinity; weight W, display scale D, base-10000 digits
 * G), which makes any value numeric.c can store; or text for numeric_in.
 * Prefixes: L: numeric's long header (what PostgreSQL before 9.1 wrote and
 * pg_upgrade keeps), H: a 1-byte varlena header (a scalar read from a
 * table), Z: compressed inline; arrays store their elements plain (as
 * PostgreSQL does), except the long header.
 *
 * Each input runs as given and in variants that must answer the same:
 *	- every value in the long header form, scalars also with a 1-byte
 *	  header or compressed: the one-pass readers of the arrays take only
 *	  the short header, so the general path runs; the results must be
 *	  identical to the last digit, error messages included;
 *	- the arrays with a null bitmap and no NULL (PostgreSQL makes those):
 *	  the general path again, identical results;
 *	- every value with K, 20 and 40 more decimals: other display scales in
 *	  the 64-bit lane, the 128-bit form, numeric.c; equal values (a quotient
 *	  rounded at a finer scale within one unit of the coarser), the same
 *	  SQLSTATEs;
 * and the result as given is checked against a reference computed here
 * with numeric.c alone from the functions' definitions: the book checks in
 * their order (the SQLSTATE of the first failure), the sums, the single
 * divisions, to the last digit and scale.
 *
 * A failure aborts, and libFuzzer saves the input: an error outside class
 * 22 (data exception) and 54000 (program limit), a difference between the
 * variants or from the reference, a sanitizer report.
 *
 * Memory: an input runs in a memory context reset after it; the arrays and
 * scalars handed to the functions are malloc'd at their exact size, so that
 * AddressSanitizer sees a read past the end of a datum.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdint.h>

#include "access/htup_details.h"
#include "access/toast_compression.h"
#include "access/toast_internals.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "nodes/execnodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "book_math.h"

PG_MODULE_MAGIC;

extern int	LLVMFuzzerRunDriver(int *argc, char ***argv,
								int (*cb) (const uint8_t *data, size_t size));

/* what one input may build: one past each limit of the functions */
#define FZ_MAX_LEVELS		(PERPS_MAX_BOOK_LEVELS + 1)
#define FZ_MAX_THRESHOLDS	(PERPS_MAX_THRESHOLDS + 1)
#define FZ_MAX_SLIP			8
#define FZ_MAX_VWAP			2000
#define FZ_MAX_QTYS			8
#define FZ_MAX_DIGITS		256

/* books larger than this run as given and with a null bitmap only */
#define FZ_VARIANT_LEVELS	2000
/* the reference values are computed below this many level visits */
#define FZ_REF_WORK			200000

/*
 * The rescaled variants: K decimals more (r line; default 3: the 64-bit
 * lane, which takes up to 18, with other display scales), 20 (past the
 * lane: the 128-bit form) and 40 (past its 38 decimals: numeric.c).
 */
#define FZ_RESCALE_DEFAULT	3
#define FZ_RESCALE_INT128	20
#define FZ_RESCALE_NUMERIC	40
#define FZ_RESCALE_MAX		60

/* numeric's 16-bit header (the storage format described in numeric.c) */
#define FZ_NUM_SIGN_MASK	0xC000
#define FZ_NUM_SHORT		0x8000
#define FZ_NUM_NEG			0x4000
#define FZ_NUM_SHORT_NEG	0x2000
#define FZ_NUM_SHORT_DSCALE_SHIFT 7
#define FZ_NUM_SHORT_DSCALE_MASK 0x1F80
#define FZ_NUM_SHORT_WEIGHT_SIGN 0x0040
#define FZ_NUM_SHORT_WEIGHT_MASK 0x003F

/* signs of numeric's binary send format */
#define FZ_SEND_POS			0x0000
#define FZ_SEND_NEG			0x4000
#define FZ_SEND_NAN			0xC000
#define FZ_SEND_PINF		0xD000
#define FZ_SEND_NINF		0xF000

typedef enum FzForm
{
	FZ_PLAIN,
	FZ_LONG,					/* long numeric header */
	FZ_SHORTHDR,				/* 1-byte varlena header */
	FZ_ZIP						/* compressed inline */
} FzForm;

typedef struct FzVal
{
	Datum		d;				/* a Numeric as numeric.c makes it */
	bool		isnull;
	uint8		form;			/* FzForm of the datum handed over */
} FzVal;

/* a numeric[] argument: elements in storage order, and the shape */
typedef struct FzArr
{
	int			ndim;
	int			dims[3];
	int			lbs[3];
	int			n;
	int			cap;
	FzVal	   *el;
} FzArr;

typedef struct FzCase
{
	FzArr		side[2];		/* bids, asks */
	FzArr		thr[2];			/* thresholds of liquidity_depth, market_depth */
	int			nslip;
	char	   *slip_side[FZ_MAX_SLIP];
	FzVal		slip_notional[FZ_MAX_SLIP];
	int			nvwap;
	FzVal	   *vp;
	FzVal	   *vq;
	int			vsplit;
	int			rescale;
	int			levels;			/* both sides */
} FzCase;

/* the results, one per call */
enum
{
	FZ_MID,
	FZ_SPREAD,
	FZ_LDEPTH,
	FZ_MDEPTH,
	FZ_LROW,
	FZ_SROWS,
	FZ_VWAP,
	FZ_VWAP_SPLIT,
	FZ_SLIP0,
	FZ_NRES = FZ_SLIP0 + FZ_MAX_SLIP
};

typedef struct FzRes
{
	bool		ran;
	int			sqlstate;		/* 0: no error */
	char	   *message;
	int			nrows;
	int			ncols;
	char	  **cell;			/* nrows * ncols, NULL for SQL NULL */
} FzRes;

typedef struct FzOut
{
	FzRes		r[FZ_NRES];
} FzOut;

/*
 * The functions called, with the kind of each result column for the
 * rescaled variants: e a numeric equal in value, d a quotient (equal within
 * a unit of the coarser scale), s anything else (equal text).
 */
typedef struct FzFunc
{
	const char *sig;
	const char *kinds;
	FmgrInfo	flinfo;
	TupleDesc	desc;			/* result row of a composite or set result */
} FzFunc;

enum
{
	FZ_F_MID,
	FZ_F_SPREAD,
	FZ_F_LDEPTH,
	FZ_F_MDEPTH,
	FZ_F_SLIP,
	FZ_F_LROW,
	FZ_F_SROWS,
	FZ_F_ACCUM,
	FZ_F_COMBINE,
	FZ_F_FINAL,
	FZ_F_SERIAL,
	FZ_F_DESERIAL,
	FZ_NFUNCS
};

static FzFunc fz_funcs[FZ_NFUNCS] = {
	[FZ_F_MID] = {"perps_stats.mid_price(numeric[],numeric[])", "e"},
	[FZ_F_SPREAD] = {"perps_stats.spread_bps(numeric[],numeric[])", "d"},
	[FZ_F_LDEPTH] = {"perps_stats.liquidity_depth(numeric[],numeric[],numeric[])", "eeess"},
	[FZ_F_MDEPTH] = {"perps_stats.market_depth(numeric[],numeric[],numeric[])", "eee"},
	[FZ_F_SLIP] = {"perps_stats.slippage(numeric[],numeric[],text,numeric)", "edddess"},
	[FZ_F_LROW] = {"perps_stats.liquidity_depth_row(numeric[],numeric[])", "eeeeeeeeeeeeeeedd"},
	[FZ_F_SROWS] = {"perps_stats.slippage_rows(numeric[],numeric[])", "esedds"},
	[FZ_F_ACCUM] = {"perps_stats._vwap_accum(internal,numeric,numeric)", NULL},
	[FZ_F_COMBINE] = {"perps_stats._vwap_combine(internal,internal)", NULL},
	[FZ_F_FINAL] = {"perps_stats._vwap_final(internal)", "d"},
	[FZ_F_SERIAL] = {"perps_stats._vwap_serialize(internal)", NULL},
	[FZ_F_DESERIAL] = {"perps_stats._vwap_deserialize(bytea,internal)", NULL},
};

/* the function behind each result */
static const int fz_res_func[FZ_NRES] = {
	[FZ_MID] = FZ_F_MID, [FZ_SPREAD] = FZ_F_SPREAD, [FZ_LDEPTH] = FZ_F_LDEPTH,
	[FZ_MDEPTH] = FZ_F_MDEPTH, [FZ_LROW] = FZ_F_LROW, [FZ_SROWS] = FZ_F_SROWS,
	[FZ_VWAP] = FZ_F_FINAL, [FZ_VWAP_SPLIT] = FZ_F_FINAL,
	[FZ_SLIP0] = FZ_F_SLIP, FZ_F_SLIP, FZ_F_SLIP, FZ_F_SLIP,
	FZ_F_SLIP, FZ_F_SLIP, FZ_F_SLIP, FZ_F_SLIP
};

static const char *const fz_res_name[FZ_NRES] = {
	"mid_price", "spread_bps", "liquidity_depth", "market_depth",
	"liquidity_depth_row", "slippage_rows", "vwap", "vwap (partial states)",
	"slippage", "slippage", "slippage", "slippage",
	"slippage", "slippage", "slippage", "slippage"
};

/* the thresholds liquidity_depth and market_depth default to (20_analytics.sql) */
static const char *const fz_default_thr[2] = {
	"1 2.5 5 10 20 50 100",
	"0.001 0.0025 0.005 0.01 0.02 0.05"
};

/* liquidity_depth_row's thresholds and slippage_rows' sizes (book_math.h) */
static const char *const fz_row_bps[] = {"1", "2.5", "5", "10", "20", "50", "100"};
static const char *const fz_row_sizes[] = {
	"1000", "10000", "50000", "100000", "500000", "1000000", "5000000", "10000000"
};

/* levels a side may have in an input (-perps_max_levels=N; at most FZ_MAX_LEVELS) */
static int	fz_max_levels = FZ_MAX_LEVELS;

static MemoryContext fz_cxt;
static const uint8_t *fz_input;
static size_t fz_input_len;

/* datums handed to the functions, freed after each input */
static void **fz_mallocs;
static int	fz_nmallocs;
static int	fz_capmallocs;

static void fz_fail(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();

/*
 * Reports what went wrong with the input and aborts, which libFuzzer
 * catches: it saves the input and ends the process.
 */
static void
fz_fail(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "\nperps_fuzz_analytics: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ninput (%zu bytes):\n%.*s\n", fz_input_len,
			(int) Min(fz_input_len, 4000), (const char *) fz_input);
	abort();
}

static void *
fz_malloc_copy(const void *src, Size len)
{
	void	   *p = malloc(Max(len, 1));

	if (p == NULL)
		fz_fail("out of memory");
	memcpy(p, src, len);
	if (fz_nmallocs == fz_capmallocs)
	{
		fz_capmallocs = Max(64, 2 * fz_capmallocs);
		fz_mallocs = realloc(fz_mallocs, sizeof(void *) * fz_capmallocs);
		if (fz_mallocs == NULL)
			fz_fail("out of memory");
	}
	fz_mallocs[fz_nmallocs++] = p;
	return p;
}

static void
fz_free_mallocs(void)
{
	while (fz_nmallocs > 0)
		free(fz_mallocs[--fz_nmallocs]);
}

/* ------------------------------------------------------------------------
 * numeric.c, called directly
 * ------------------------------------------------------------------------
 */
static Datum
fz_num(const char *s)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

static Datum
fz_add(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_add, a, b);
}

static Datum
fz_sub(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_sub, a, b);
}

static Datum
fz_mul(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_mul, a, b);
}

static Datum
fz_div(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_div, a, b);
}

static int
fz_cmp(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b));
}

static char *
fz_text(Datum a)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, a));
}

static bool
fz_special(Datum a)
{
	return numeric_is_nan(DatumGetNumeric(a)) || numeric_is_inf(DatumGetNumeric(a));
}

/* -1, 0, 1 (finite values only) */
static int
fz_sign(Datum a)
{
	return fz_cmp(a, fz_num("0"));
}

/* decimals shown in numeric_out's text */
static int
fz_dscale(const char *text)
{
	const char *dot = strchr(text, '.');

	return dot ? (int) strlen(dot + 1) : 0;
}

/* ------------------------------------------------------------------------
 * Values and the forms of their datums
 * ------------------------------------------------------------------------
 */

/*
 * ~[sign]W/D/G.G...: the numeric binary format, through numeric_recv, which
 * checks it and stores the value as numeric.c stores any (digits past the
 * display scale cut, zeros stripped).
 */
static Datum
fz_recv(const char *s)
{
	StringInfoData buf;
	int			sign = FZ_SEND_POS;
	long		weight = 0;
	long		dscale = 0;
	int16		digits[FZ_MAX_DIGITS];
	int			ndigits = 0;
	char	   *end;

	switch (*s)
	{
		case '-':
			sign = FZ_SEND_NEG;
			s++;
			break;
		case 'n':
			sign = FZ_SEND_NAN;
			s++;
			break;
		case 'i':
			sign = FZ_SEND_PINF;
			s++;
			break;
		case 'I':
			sign = FZ_SEND_NINF;
			s++;
			break;
	}
	weight = strtol(s, &end, 10);
	if (*end == '/')
	{
		dscale = strtol(end + 1, &end, 10);
		if (*end == '/')
		{
			s = end + 1;
			while (*s != '\0' && ndigits < FZ_MAX_DIGITS)
			{
				long		g = strtol(s, &end, 10);

				if (end == s)
					break;
				/* a base-10000 digit, as the format allows */
				digits[ndigits++] = (int16) (labs(g % 10000));
				s = *end == '.' ? end + 1 : end;
			}
		}
	}
	initStringInfo(&buf);
	pq_sendint16(&buf, (uint16) ndigits);
	pq_sendint16(&buf, (uint16) (int16) Max(Min(weight, PG_INT16_MAX), PG_INT16_MIN));
	pq_sendint16(&buf, (uint16) sign);
	/* a display scale past the format's 14 bits is numeric_recv's to refuse */
	pq_sendint16(&buf, (uint16) Max(Min(dscale, PG_UINT16_MAX), 0));
	for (int i = 0; i < ndigits; i++)
		pq_sendint16(&buf, (uint16) digits[i]);
	buf.cursor = 0;
	return DirectFunctionCall3(numeric_recv, PointerGetDatum(&buf),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* Reads a value token; ereports (class 22) when numeric.c refuses it. */
static void
fz_value(const char *tok, FzVal *v)
{
	v->form = FZ_PLAIN;
	v->isnull = false;
	v->d = (Datum) 0;
	for (;;)
	{
		if (strncmp(tok, "L:", 2) == 0)
			v->form = FZ_LONG;
		else if (strncmp(tok, "H:", 2) == 0)
			v->form = FZ_SHORTHDR;
		else if (strncmp(tok, "Z:", 2) == 0)
			v->form = FZ_ZIP;
		else
			break;
		tok += 2;
	}
	if (strcmp(tok, "NULL") == 0)
		v->isnull = true;
	else if (tok[0] == '~')
		v->d = fz_recv(tok + 1);
	else
		v->d = fz_num(tok);
}

/*
 * The same value with the long header (n_sign_dscale, n_weight), which
 * numeric.c reads as well as the short one.  NaN and infinities keep their
 * one form.
 */
static Datum
fz_long_form(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	uint16		hdr;
	uint16		sign_dscale;
	int16		weight;
	Size		ndigbytes;
	char	   *r;

	memcpy(&hdr, VARDATA(v), sizeof(uint16));
	if ((hdr & FZ_NUM_SIGN_MASK) != FZ_NUM_SHORT)
		return d;
	sign_dscale = ((hdr & FZ_NUM_SHORT_NEG) ? FZ_NUM_NEG : 0) |
		((hdr & FZ_NUM_SHORT_DSCALE_MASK) >> FZ_NUM_SHORT_DSCALE_SHIFT);
	weight = (int16) (hdr & FZ_NUM_SHORT_WEIGHT_MASK);
	if (hdr & FZ_NUM_SHORT_WEIGHT_SIGN)
		weight = (int16) (weight - (FZ_NUM_SHORT_WEIGHT_MASK + 1));
	ndigbytes = VARSIZE(v) - VARHDRSZ - sizeof(uint16);
	r = palloc(VARHDRSZ + 2 * sizeof(uint16) + ndigbytes);
	SET_VARSIZE(r, VARHDRSZ + 2 * sizeof(uint16) + ndigbytes);
	memcpy(VARDATA(r), &sign_dscale, sizeof(uint16));
	memcpy(VARDATA(r) + sizeof(uint16), &weight, sizeof(int16));
	memcpy(VARDATA(r) + 2 * sizeof(uint16), VARDATA(v) + sizeof(uint16), ndigbytes);
	return PointerGetDatum(r);
}

/* The datum of a value in its form (a plain one when the form cannot hold it). */
static Datum
fz_form(const FzVal *v)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(v->d);

	switch (v->form)
	{
		case FZ_LONG:
			return fz_long_form(v->d);
		case FZ_SHORTHDR:
			if (VARSIZE(p) - VARHDRSZ + VARHDRSZ_SHORT <= VARATT_SHORT_MAX)
			{
				Size		len = VARSIZE(p) - VARHDRSZ;
				char	   *r = palloc(len + VARHDRSZ_SHORT);

				SET_VARSIZE_SHORT(r, len + VARHDRSZ_SHORT);
				memcpy(r + VARHDRSZ_SHORT, VARDATA(p), len);
				return PointerGetDatum(r);
			}
			break;
		case FZ_ZIP:
			{
				Datum		z = toast_compress_datum(v->d, TOAST_PGLZ_COMPRESSION);

				if (DatumGetPointer(z) != NULL)
					return z;
			}
			break;
	}
	return v->d;
}

/* A scalar argument: the datum of the value, malloc'd at its size. */
static Datum
fz_scalar(const FzVal *v)
{
	Datum		d = fz_form(v);

	return PointerGetDatum(fz_malloc_copy(DatumGetPointer(d), VARSIZE_ANY(DatumGetPointer(d))));
}

/* ------------------------------------------------------------------------
 * Arrays
 * ------------------------------------------------------------------------
 */
static FzVal *
fz_copy_vals(const FzVal *src, int n)
{
	FzVal	   *r = palloc(sizeof(FzVal) * Max(n, 1));

	if (n > 0)
		memcpy(r, src, sizeof(FzVal) * n);
	return r;
}

static void
fz_push(FzArr *a, const FzVal *v)
{
	if (a->n == a->cap)
	{
		a->cap = Max(16, 2 * a->cap);
		a->el = a->el ? repalloc(a->el, sizeof(FzVal) * a->cap) : palloc(sizeof(FzVal) * a->cap);
	}
	a->el[a->n++] = *v;
}

/*
 * The shape of an array of n elements: a book side {{p,q},...} (pairs),
 * thresholds one-dimensional; then FORM of a shape line, if any.
 */
static void
fz_shape(FzArr *a, bool pairs, const char *form)
{
	a->lbs[0] = a->lbs[1] = a->lbs[2] = 1;
	if (pairs)
	{
		a->ndim = 2;
		a->dims[0] = a->n / 2;
		a->dims[1] = 2;
	}
	else
	{
		a->ndim = 1;
		a->dims[0] = a->n;
	}
	if (form == NULL)
		form = "";
	if (strcmp(form, "1d") == 0)
	{
		a->ndim = 1;
		a->dims[0] = a->n;
	}
	else if (strcmp(form, "2d") == 0)
	{
		a->ndim = 2;
		a->dims[0] = a->n;
		a->dims[1] = 1;
	}
	else if (strcmp(form, "3d") == 0 && pairs)
	{
		a->ndim = 3;
		a->dims[0] = 1;
		a->dims[1] = a->n / 2;
		a->dims[2] = 2;
	}
	else if (strcmp(form, "flip") == 0 && pairs)
	{
		a->dims[0] = 2;
		a->dims[1] = a->n / 2;
	}
	else if (strcmp(form, "empty") == 0)
		a->n = 0;
	else if (strncmp(form, "lb=", 3) == 0)
		a->lbs[0] = (int) Max(Min(strtol(form + 3, NULL, 10), 1000000), -1000000);
	/* PostgreSQL keeps no array with an empty dimension: '{}' has none */
	if (a->n == 0)
		a->ndim = 0;
}

/* The same array with a null bitmap that marks no element NULL. */
static ArrayType *
fz_with_bitmap(ArrayType *arr)
{
	int			ndim = ARR_NDIM(arr);
	int			nitems = ArrayGetNItems(ndim, ARR_DIMS(arr));
	Size		datasize = ARR_SIZE(arr) - ARR_DATA_OFFSET(arr);
	Size		off = ARR_OVERHEAD_WITHNULLS(ndim, nitems);
	ArrayType  *r = palloc0(off + datasize);
	bits8	   *bitmap;

	SET_VARSIZE(r, off + datasize);
	r->ndim = ndim;
	r->dataoffset = (int32) off;
	r->elemtype = ARR_ELEMTYPE(arr);
	memcpy(ARR_DIMS(r), ARR_DIMS(arr), sizeof(int) * ndim);
	memcpy(ARR_LBOUND(r), ARR_LBOUND(arr), sizeof(int) * ndim);
	bitmap = ARR_NULLBITMAP(r);
	for (int i = 0; i < nitems; i++)
		bitmap[i / 8] |= (bits8) (1 << (i % 8));
	memcpy(ARR_DATA_PTR(r), ARR_DATA_PTR(arr), datasize);
	return r;
}

/* The array argument, malloc'd at its size. */
static Datum
fz_array(const FzArr *a, bool bitmap)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(a->n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(a->n, 1));
	int			dims[3];
	int			lbs[3];
	ArrayType  *arr;

	for (int i = 0; i < a->n; i++)
	{
		nulls[i] = a->el[i].isnull;
		elems[i] = nulls[i] ? (Datum) 0 : fz_form(&a->el[i]);
	}
	memcpy(dims, a->dims, sizeof(dims));
	memcpy(lbs, a->lbs, sizeof(lbs));
	if (a->ndim == 0)
		arr = construct_empty_array(NUMERICOID);
	else
		arr = construct_md_array(elems, nulls, a->ndim, dims, lbs, NUMERICOID, -1, false,
								 TYPALIGN_INT);
	if (bitmap && ARR_NDIM(arr) > 0 && !ARR_HASNULL(arr))
		arr = fz_with_bitmap(arr);
	return PointerGetDatum(fz_malloc_copy(arr, VARSIZE(arr)));
}

/* ------------------------------------------------------------------------
 * Reading an input
 * ------------------------------------------------------------------------
 */
#define FZ_MAX_TOKENS 16

static int
fz_count(const char *tok, int max)
{
	long		n = strtol(tok, NULL, 10);

	return (int) Max(Min(n, max), 0);
}

/* N levels (or thresholds, pairs false) from tokens P0 STEP Q... */
static void
fz_generate(FzArr *a, bool pairs, bool down, int n, char **tok, int ntok)
{
	FzVal		p,
				step,
				q[FZ_MAX_QTYS];
	int			nq = 0;

	if (ntok < 2)
		return;
	fz_value(tok[0], &p);
	fz_value(tok[1], &step);
	for (int i = 2; i < ntok && nq < FZ_MAX_QTYS; i++)
		fz_value(tok[i], &q[nq++]);
	if (pairs && nq == 0)
		return;
	for (int i = 0; i < n; i++)
	{
		fz_push(a, &p);
		if (pairs)
			fz_push(a, &q[i % nq]);
		if (!p.isnull && !step.isnull)
			p.d = down ? fz_sub(p.d, step.d) : fz_add(p.d, step.d);
	}
}

/* Reads an input into a case; ereports (class 22) on a value numeric.c refuses. */
static void
fz_parse(const uint8_t *data, size_t size, FzCase *c)
{
	char	   *text = palloc(size + 1);
	char	   *save = NULL;
	char	   *shapes[3] = {NULL, NULL, NULL};
	bool		thr_given = false;
	bool		vwap_given = false;
	FzArr		vrows = {0};

	memset(c, 0, sizeof(*c));
	c->rescale = FZ_RESCALE_DEFAULT;
	c->vsplit = -1;
	for (size_t i = 0; i < size; i++)
		text[i] = data[i] == '\0' ? ' ' : (char) data[i];
	text[size] = '\0';

	for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
	{
		char	   *tok[FZ_MAX_TOKENS];
		int			ntok = 0;
		char	   *lsave = NULL;

		for (char *t = strtok_r(line, " \t\r", &lsave); t != NULL && ntok < FZ_MAX_TOKENS;
			 t = strtok_r(NULL, " \t\r", &lsave))
			tok[ntok++] = t;
		if (ntok == 0)
			continue;

		if ((strcmp(tok[0], "b") == 0 || strcmp(tok[0], "a") == 0) && ntok >= 3)
		{
			FzArr	   *side = &c->side[tok[0][0] == 'a'];
			FzVal		p,
						q;

			if (side->n / 2 >= fz_max_levels)
				continue;
			fz_value(tok[1], &p);
			fz_value(tok[2], &q);
			fz_push(side, &p);
			fz_push(side, &q);
		}
		else if ((strcmp(tok[0], "B") == 0 || strcmp(tok[0], "A") == 0) && ntok >= 5)
		{
			FzArr	   *side = &c->side[tok[0][0] == 'A'];

			fz_generate(side, true, tok[0][0] == 'B',
						fz_count(tok[1], fz_max_levels - side->n / 2), tok + 2, ntok - 2);
		}
		else if (strcmp(tok[0], "t") == 0)
		{
			for (int i = 1; i < ntok && c->thr[0].n < FZ_MAX_THRESHOLDS; i++)
			{
				FzVal		x;

				fz_value(tok[i], &x);
				fz_push(&c->thr[0], &x);
			}
			thr_given = true;
		}
		else if (strcmp(tok[0], "T") == 0 && ntok >= 4)
		{
			fz_generate(&c->thr[0], false, false,
						fz_count(tok[1], FZ_MAX_THRESHOLDS - c->thr[0].n), tok + 2, 2);
			thr_given = true;
		}
		else if (strcmp(tok[0], "s") == 0 && ntok >= 3 && c->nslip < FZ_MAX_SLIP)
		{
			c->slip_side[c->nslip] = pstrdup(tok[1]);
			fz_value(tok[2], &c->slip_notional[c->nslip]);
			c->nslip++;
		}
		else if (strcmp(tok[0], "v") == 0 && ntok >= 3 && vrows.n / 2 < FZ_MAX_VWAP)
		{
			FzVal		p,
						q;

			fz_value(tok[1], &p);
			fz_value(tok[2], &q);
			fz_push(&vrows, &p);
			fz_push(&vrows, &q);
			vwap_given = true;
		}
		else if (strcmp(tok[0], "w") == 0 && ntok >= 2)
			c->vsplit = fz_count(tok[1], FZ_MAX_VWAP);
		else if (strcmp(tok[0], "r") == 0 && ntok >= 2)
			c->rescale = fz_count(tok[1], FZ_RESCALE_MAX);
		else if (strcmp(tok[0], "shape") == 0 && ntok >= 3)
		{
			int			which = strcmp(tok[1], "bids") == 0 ? 0 :
				strcmp(tok[1], "asks") == 0 ? 1 :
				strcmp(tok[1], "t") == 0 ? 2 : -1;

			if (which >= 0)
				shapes[which] = pstrdup(tok[2]);
		}
	}

	/* the defaults */
	if (!thr_given)
	{
		for (int f = 0; f < 2; f++)
		{
			char	   *list = pstrdup(fz_default_thr[f]);
			char	   *tsave = NULL;

			for (char *t = strtok_r(list, " ", &tsave); t != NULL; t = strtok_r(NULL, " ", &tsave))
			{
				FzVal		x;

				fz_value(t, &x);
				fz_push(&c->thr[f], &x);
			}
		}
	}
	else
	{
		c->thr[1] = c->thr[0];
		c->thr[1].el = fz_copy_vals(c->thr[0].el, c->thr[0].n);
		c->thr[1].cap = Max(c->thr[0].n, 1);
	}
	if (c->nslip == 0)
	{
		c->slip_side[0] = "buy";
		c->slip_side[1] = "sell";
		fz_value("1000", &c->slip_notional[0]);
		c->slip_notional[1] = c->slip_notional[0];
		c->nslip = 2;
	}
	if (!vwap_given)
	{
		/* the book's levels, in storage order (NULLs included) */
		for (int s = 0; s < 2; s++)
			for (int i = 0; i + 1 < c->side[s].n && vrows.n / 2 < FZ_MAX_VWAP; i += 2)
			{
				fz_push(&vrows, &c->side[s].el[i]);
				fz_push(&vrows, &c->side[s].el[i + 1]);
			}
	}
	c->nvwap = vrows.n / 2;
	c->vp = palloc(sizeof(FzVal) * Max(c->nvwap, 1));
	c->vq = palloc(sizeof(FzVal) * Max(c->nvwap, 1));
	for (int i = 0; i < c->nvwap; i++)
	{
		c->vp[i] = vrows.el[2 * i];
		c->vq[i] = vrows.el[2 * i + 1];
	}
	if (c->vsplit < 0 || c->vsplit > c->nvwap)
		c->vsplit = c->nvwap / 2;

	fz_shape(&c->side[0], true, shapes[0]);
	fz_shape(&c->side[1], true, shapes[1]);
	fz_shape(&c->thr[0], false, shapes[2]);
	fz_shape(&c->thr[1], false, shapes[2]);
	c->levels = c->side[0].n / 2 + c->side[1].n / 2;
}

/*
 * A variant of a case: every value with `decimals` more decimals, or (forms
 * true) every value in the long header form and the scalars in the other
 * forms in turn.
 */
static void
fz_variant_val(FzVal *v, bool forms, int k, Datum zero)
{
	static const uint8 scalar_forms[3] = {FZ_LONG, FZ_SHORTHDR, FZ_ZIP};

	if (v->isnull)
		return;
	if (forms)
		v->form = k >= 0 ? scalar_forms[k % 3] : FZ_LONG;
	else
		v->d = fz_add(v->d, zero);
}

static void
fz_variant(const FzCase *src, FzCase *dst, bool forms, int decimals)
{
	Datum		zero = (Datum) 0;

	if (!forms)
	{
		char	   *z = palloc(decimals + 3);

		strcpy(z, "0.");
		memset(z + 2, '0', decimals);
		z[decimals + 2] = '\0';
		zero = fz_num(decimals > 0 ? z : "0");
	}
	*dst = *src;
	for (int a = 0; a < 4; a++)
	{
		FzArr	   *arr = a < 2 ? &dst->side[a] : &dst->thr[a - 2];

		arr->el = fz_copy_vals(arr->el, arr->n);
		arr->cap = Max(arr->n, 1);
		for (int i = 0; i < arr->n; i++)
			fz_variant_val(&arr->el[i], forms, -1, zero);
	}
	for (int i = 0; i < dst->nslip; i++)
		fz_variant_val(&dst->slip_notional[i], forms, i, zero);
	dst->vp = fz_copy_vals(src->vp, src->nvwap);
	dst->vq = fz_copy_vals(src->vq, src->nvwap);
	for (int i = 0; i < src->nvwap; i++)
	{
		fz_variant_val(&dst->vp[i], forms, i, zero);
		fz_variant_val(&dst->vq[i], forms, i + 1, zero);
	}
}

/* ------------------------------------------------------------------------
 * Calling the functions
 * ------------------------------------------------------------------------
 */

/* An error caught: expected ones are recorded, anything else fails. */
static void
fz_caught(MemoryContext cxt, FzRes *res, const char *what)
{
	ErrorData  *ed;

	MemoryContextSwitchTo(cxt);
	ed = CopyErrorData();
	FlushErrorState();
	res->sqlstate = ed->sqlerrcode;
	res->message = psprintf("%s: %s%s%s", unpack_sql_state(ed->sqlerrcode), ed->message,
							ed->detail ? " " : "", ed->detail ? ed->detail : "");
	if (ERRCODE_TO_CATEGORY(ed->sqlerrcode) != ERRCODE_DATA_EXCEPTION &&
		ed->sqlerrcode != ERRCODE_PROGRAM_LIMIT_EXCEEDED)
		fz_fail("%s raised an unexpected error: %s", what, res->message);
}

static char *
fz_cell(Oid type, Datum v, bool isnull)
{
	if (isnull)
		return NULL;
	switch (type)
	{
		case NUMERICOID:
			return fz_text(v);
		case BOOLOID:
			return pstrdup(DatumGetBool(v) ? "t" : "f");
		case INT4OID:
			return psprintf("%d", DatumGetInt32(v));
		case TEXTOID:
			return TextDatumGetCString(v);
	}
	fz_fail("a result column of type %u", type);
}

static void
fz_add_row(FzRes *res, TupleDesc desc, const Datum *values, const bool *nulls)
{
	res->ncols = desc->natts;
	/* room for a power of two of rows */
	if (res->nrows == 0)
		res->cell = palloc(sizeof(char *) * res->ncols);
	else if ((res->nrows & (res->nrows - 1)) == 0)
		res->cell = repalloc(res->cell, sizeof(char *) * 2 * res->nrows * res->ncols);
	for (int c = 0; c < desc->natts; c++)
		res->cell[res->nrows * res->ncols + c] =
			fz_cell(TupleDescAttr(desc, c)->atttypid, values[c], nulls[c]);
	res->nrows++;
}

/* Calls a function as the executor does and records the result or error. */
static void
fz_call(int f, int nargs, const Datum *args, FzRes *res)
{
	FzFunc	   *fn = &fz_funcs[f];
	MemoryContext cxt = CurrentMemoryContext;

	memset(res, 0, sizeof(*res));
	res->ran = true;
	PG_TRY();
	{
		LOCAL_FCINFO(fcinfo, 4);
		ReturnSetInfo rsi;
		Datum		result;

		memset(&rsi, 0, sizeof(rsi));
		rsi.type = T_ReturnSetInfo;
		rsi.econtext = CreateStandaloneExprContext();
		rsi.expectedDesc = fn->desc;
		rsi.allowedModes = SFRM_ValuePerCall | SFRM_Materialize;
		rsi.returnMode = SFRM_ValuePerCall;
		InitFunctionCallInfoData(*fcinfo, &fn->flinfo, nargs, InvalidOid, NULL,
								 fn->flinfo.fn_retset ? (Node *) &rsi : NULL);
		for (int i = 0; i < nargs; i++)
		{
			fcinfo->args[i].value = args[i];
			fcinfo->args[i].isnull = false;
		}
		result = FunctionCallInvoke(fcinfo);

		if (fn->flinfo.fn_retset)
		{
			if (rsi.returnMode != SFRM_Materialize)
				fz_fail("%s did not return its rows in materialize mode", fn->sig);
			res->ncols = fn->desc->natts;
			if (rsi.setResult != NULL)
			{
				TupleTableSlot *slot = MakeSingleTupleTableSlot(rsi.setDesc, &TTSOpsMinimalTuple);

				while (tuplestore_gettupleslot(rsi.setResult, true, false, slot))
				{
					slot_getallattrs(slot);
					fz_add_row(res, rsi.setDesc, slot->tts_values, slot->tts_isnull);
				}
				ExecDropSingleTupleTableSlot(slot);
				tuplestore_end(rsi.setResult);
			}
		}
		else if (fn->desc != NULL)
		{
			/* a row, or no row for NULL */
			res->ncols = fn->desc->natts;
			if (!fcinfo->isnull)
			{
				HeapTupleHeader th = DatumGetHeapTupleHeader(result);
				HeapTupleData tuple;
				Datum	   *values = palloc(sizeof(Datum) * fn->desc->natts);
				bool	   *nulls = palloc(sizeof(bool) * fn->desc->natts);

				tuple.t_len = HeapTupleHeaderGetDatumLength(th);
				ItemPointerSetInvalid(&tuple.t_self);
				tuple.t_tableOid = InvalidOid;
				tuple.t_data = th;
				heap_deform_tuple(&tuple, fn->desc, values, nulls);
				fz_add_row(res, fn->desc, values, nulls);
			}
		}
		else
		{
			res->ncols = 1;
			res->nrows = 1;
			res->cell = palloc(sizeof(char *));
			res->cell[0] = fcinfo->isnull ? NULL : fz_text(result);
		}
	}
	PG_CATCH();
	{
		fz_caught(cxt, res, fn->sig);
	}
	PG_END_TRY();
}

/* one call of a vwap support function in an aggregate context */
static Datum
fz_agg_call(int f, AggState *agg, int nargs, Datum a0, bool n0, Datum a1, bool n1,
			Datum a2, bool n2, bool *isnull)
{
	LOCAL_FCINFO(fcinfo, 3);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, &fz_funcs[f].flinfo, nargs, InvalidOid, (Node *) agg, NULL);
	fcinfo->args[0].value = a0;
	fcinfo->args[0].isnull = n0;
	fcinfo->args[1].value = a1;
	fcinfo->args[1].isnull = n1;
	fcinfo->args[2].value = a2;
	fcinfo->args[2].isnull = n2;
	result = FunctionCallInvoke(fcinfo);
	*isnull = fcinfo->isnull;
	return result;
}

/*
 * An aggregate's context as AggCheckCallContext reads it: the memory
 * context of the current aggregate's state.
 */
static AggState *
fz_agg(void)
{
	AggState   *agg = makeNode(AggState);
	ExprContext *ec = makeNode(ExprContext);

	ec->ecxt_per_tuple_memory = AllocSetContextCreate(CurrentMemoryContext, "fuzz vwap",
													  ALLOCSET_SMALL_SIZES);
	agg->curaggcontext = ec;
	return agg;
}

/* The transition function over rows [from, to); NULL state when it had none. */
static Datum
fz_vwap_rows(const FzCase *c, AggState *agg, int from, int to, bool *isnull)
{
	Datum		st = (Datum) 0;

	*isnull = true;
	for (int i = from; i < to; i++)
		st = fz_agg_call(FZ_F_ACCUM, agg, 3, st, *isnull,
						 c->vp[i].isnull ? (Datum) 0 : fz_scalar(&c->vp[i]), c->vp[i].isnull,
						 c->vq[i].isnull ? (Datum) 0 : fz_scalar(&c->vq[i]), c->vq[i].isnull,
						 isnull);
	return st;
}

/*
 * vwap over the rows, in one state, or (split) as a parallel plan runs it:
 * two partial states serialized, deserialized in the leader and combined
 * (a partial state without rows stays NULL and is not serialized).
 */
static void
fz_vwap(const FzCase *c, bool split, FzRes *res)
{
	MemoryContext cxt = CurrentMemoryContext;

	memset(res, 0, sizeof(*res));
	res->ran = true;
	res->nrows = 1;
	res->ncols = 1;
	res->cell = palloc0(sizeof(char *));
	PG_TRY();
	{
		AggState   *leader = fz_agg();
		Datum		st;
		bool		stnull;
		Datum		result;
		bool		rnull;

		if (!split)
			st = fz_vwap_rows(c, leader, 0, c->nvwap, &stnull);
		else
		{
			st = (Datum) 0;
			stnull = true;
			for (int part = 0; part < 2; part++)
			{
				AggState   *worker = fz_agg();
				bool		pnull;
				Datum		pst = fz_vwap_rows(c, worker,
											   part == 0 ? 0 : c->vsplit,
											   part == 0 ? c->vsplit : c->nvwap, &pnull);

				if (!pnull)
				{
					bool		n;
					Datum		ser = fz_agg_call(FZ_F_SERIAL, worker, 1, pst, false,
												  0, true, 0, true, &n);
					Datum		copy = PointerGetDatum(fz_malloc_copy(DatumGetPointer(ser),
																	  VARSIZE_ANY(DatumGetPointer(ser))));

					pst = fz_agg_call(FZ_F_DESERIAL, leader, 2, copy, false, (Datum) 0, false,
									  0, true, &pnull);
				}
				st = fz_agg_call(FZ_F_COMBINE, leader, 2, st, stnull, pst, pnull, 0, true, &stnull);
			}
		}
		result = fz_agg_call(FZ_F_FINAL, leader, 1, st, stnull, 0, true, 0, true, &rnull);
		res->cell[0] = rnull ? NULL : fz_text(result);
	}
	PG_CATCH();
	{
		fz_caught(cxt, res, "vwap");
	}
	PG_END_TRY();
}

/* Runs every function on a case (bitmap: the arrays with a null bitmap). */
static void
fz_run(const FzCase *c, bool bitmap, FzOut *o)
{
	Datum		args[4];

	memset(o, 0, sizeof(*o));
	args[0] = fz_array(&c->side[0], bitmap);
	args[1] = fz_array(&c->side[1], bitmap);
	fz_call(FZ_F_MID, 2, args, &o->r[FZ_MID]);
	fz_call(FZ_F_SPREAD, 2, args, &o->r[FZ_SPREAD]);
	fz_call(FZ_F_LROW, 2, args, &o->r[FZ_LROW]);
	fz_call(FZ_F_SROWS, 2, args, &o->r[FZ_SROWS]);
	args[2] = fz_array(&c->thr[0], bitmap);
	fz_call(FZ_F_LDEPTH, 3, args, &o->r[FZ_LDEPTH]);
	args[2] = fz_array(&c->thr[1], bitmap);
	fz_call(FZ_F_MDEPTH, 3, args, &o->r[FZ_MDEPTH]);
	for (int i = 0; i < c->nslip; i++)
	{
		text	   *side = cstring_to_text(c->slip_side[i]);

		args[2] = PointerGetDatum(fz_malloc_copy(side, VARSIZE(side)));
		args[3] = c->slip_notional[i].isnull ? (Datum) 0 : fz_scalar(&c->slip_notional[i]);
		/* a NULL argument: the function is strict, the executor does not call it */
		if (!c->slip_notional[i].isnull)
			fz_call(FZ_F_SLIP, 4, args, &o->r[FZ_SLIP0 + i]);
	}
	if (!bitmap)
	{
		fz_vwap(c, false, &o->r[FZ_VWAP]);
		fz_vwap(c, true, &o->r[FZ_VWAP_SPLIT]);
	}
}

/* ------------------------------------------------------------------------
 * Comparing answers
 * ------------------------------------------------------------------------
 */
static const char *
fz_show(const char *cell)
{
	return cell ? cell : "NULL";
}

/* |a - b| <= 10^-min(scale of a, scale of b): one quotient rounded twice */
static bool
fz_close(const char *a, const char *b)
{
	Datum		x = fz_num(a);
	Datum		y = fz_num(b);
	Datum		diff;
	int			ds = Min(fz_dscale(a), fz_dscale(b));

	if (fz_special(x) || fz_special(y))
		return strcmp(a, b) == 0;
	diff = DirectFunctionCall1(numeric_abs, fz_sub(x, y));
	return fz_cmp(diff, fz_num(psprintf("1e-%d", ds))) <= 0;
}

/*
 * One answer against another (k: which result): identical (exact), or
 * equal in value as the columns' kinds say.
 */
static void
fz_compare_res(int k, const FzRes *x, const FzRes *y, bool exact, const char *variant)
{
	const char *kinds = fz_funcs[fz_res_func[k]].kinds;

	if (!x->ran || !y->ran)
		return;
	if (x->sqlstate != y->sqlstate ||
		(exact && x->sqlstate != 0 && strcmp(x->message, y->message) != 0))
		fz_fail("%s %s: %s; as given: %s", fz_res_name[k], variant,
				y->sqlstate ? y->message : "no error", x->sqlstate ? x->message : "no error");
	if (x->sqlstate != 0)
		return;
	if (x->nrows != y->nrows || x->ncols != y->ncols)
		fz_fail("%s %s: %d rows of %d, as given %d of %d", fz_res_name[k], variant,
				y->nrows, y->ncols, x->nrows, x->ncols);
	for (int i = 0; i < x->nrows * x->ncols; i++)
	{
		const char *u = x->cell[i];
		const char *v = y->cell[i];
		char		kind = kinds[i % x->ncols];
		bool		same;

		if (u == NULL || v == NULL)
			same = u == v;
		else if (exact || kind == 's')
			same = strcmp(u, v) == 0;
		else if (kind == 'e')
			same = fz_cmp(fz_num(u), fz_num(v)) == 0;
		else
			same = fz_close(u, v);
		if (!same)
			fz_fail("%s %s: row %d column %d is %s, as given %s", fz_res_name[k], variant,
					i / x->ncols + 1, i % x->ncols + 1, fz_show(v), fz_show(u));
	}
}

/* The answers of a variant against those of the case as given. */
static void
fz_compare(const FzOut *a, const FzOut *b, bool exact, const char *variant)
{
	for (int k = 0; k < FZ_NRES; k++)
		fz_compare_res(k, &a->r[k], &b->r[k], exact, variant);
}

/* mid_price's answer, NULL when it has none */
static const char *
fz_mid(const FzOut *o)
{
	const FzRes *r = &o->r[FZ_MID];

	return r->sqlstate == 0 && r->nrows == 1 ? r->cell[0] : NULL;
}

/* ------------------------------------------------------------------------
 * The reference: the functions' definitions, with numeric.c alone
 * ------------------------------------------------------------------------
 */
static int
fz_nlevels(const FzArr *a)
{
	return a->ndim == 0 ? 0 : a->dims[0];
}

static Datum
fz_price(const FzArr *a, int i)
{
	return a->el[2 * i].d;
}

static Datum
fz_qty(const FzArr *a, int i)
{
	return a->el[2 * i + 1].d;
}

static int
fz_ref_limit(const FzArr *a)
{
	return a->ndim >= 1 && a->dims[0] > PERPS_MAX_BOOK_LEVELS ? ERRCODE_PROGRAM_LIMIT_EXCEEDED : 0;
}

static int
fz_ref_shape(const FzArr *a)
{
	return a->ndim != 0 && (a->ndim != 2 || a->dims[1] != 2) ? ERRCODE_ARRAY_SUBSCRIPT_ERROR : 0;
}

static int
fz_ref_nulls(const FzArr *a)
{
	for (int i = 0; i < fz_nlevels(a); i++)
		if (a->el[2 * i].isnull || a->el[2 * i + 1].isnull)
			return ERRCODE_NULL_VALUE_NOT_ALLOWED;
	return 0;
}

/* shape, then each level: NULLs, not finite, price <= 0, qty < 0, order */
static int
fz_ref_side(const FzArr *a, bool bids)
{
	int			e = fz_ref_shape(a);

	for (int i = 0; e == 0 && i < fz_nlevels(a); i++)
	{
		Datum		p = fz_price(a, i);
		Datum		q = fz_qty(a, i);

		if (a->el[2 * i].isnull || a->el[2 * i + 1].isnull)
			e = ERRCODE_NULL_VALUE_NOT_ALLOWED;
		else if (fz_special(p) || fz_special(q))
			e = ERRCODE_INVALID_PARAMETER_VALUE;
		else if (fz_sign(p) <= 0 || fz_sign(q) < 0)
			e = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
		else if (i > 0 && (bids ? fz_cmp(p, fz_price(a, i - 1)) > 0 :
						   fz_cmp(p, fz_price(a, i - 1)) < 0))
			e = ERRCODE_INVALID_PARAMETER_VALUE;
	}
	return e;
}

/*
 * The error the functions report for the book, the first in their order:
 * the level limits; then shape and NULLs of both sides first when the
 * function deconstructs the arrays (liquidity_depth_row, slippage_rows);
 * each side level by level; a crossed book.
 */
static int
fz_ref_book_uncached(const FzCase *c, bool deconstruct)
{
	int			e;

	for (int s = 0; s < 2; s++)
		if ((e = fz_ref_limit(&c->side[s])) != 0)
			return e;
	if (deconstruct)
		for (int s = 0; s < 2; s++)
			if ((e = fz_ref_shape(&c->side[s])) != 0 || (e = fz_ref_nulls(&c->side[s])) != 0)
				return e;
	for (int s = 0; s < 2; s++)
		if ((e = fz_ref_side(&c->side[s], s == 0)) != 0)
			return e;
	if (fz_nlevels(&c->side[0]) > 0 && fz_nlevels(&c->side[1]) > 0 &&
		fz_cmp(fz_price(&c->side[0], 0), fz_price(&c->side[1], 0)) >= 0)
		return ERRCODE_INVALID_PARAMETER_VALUE;
	return 0;
}

/* what the reference knows of the current input: -1 not worked out yet */
static int	fz_book_verdict[2];
static int	fz_overflow_verdict;

static void
fz_ref_reset(void)
{
	fz_book_verdict[0] = fz_book_verdict[1] = -1;
	fz_overflow_verdict = -1;
}

static int
fz_ref_book(const FzCase *c, bool deconstruct)
{
	if (fz_book_verdict[deconstruct] < 0)
		fz_book_verdict[deconstruct] = fz_ref_book_uncached(c, deconstruct);
	return fz_book_verdict[deconstruct];
}

static int
fz_ref_thresholds(const FzArr *t)
{
	if (t->ndim > 1)
		return ERRCODE_ARRAY_SUBSCRIPT_ERROR;
	if (t->n > PERPS_MAX_THRESHOLDS)
		return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
	for (int i = 0; i < t->n; i++)
	{
		if (t->el[i].isnull)
			return ERRCODE_NULL_VALUE_NOT_ALLOWED;
		if (fz_special(t->el[i].d) || fz_sign(t->el[i].d) < 0)
			return ERRCODE_INVALID_PARAMETER_VALUE;
	}
	return 0;
}

static bool
fz_has_mid(const FzCase *c)
{
	return fz_nlevels(&c->side[0]) > 0 && fz_nlevels(&c->side[1]) > 0;
}

/*
 * Depth within fraction f of mid on one side: the sum of price * qty (or
 * qty, base) of the levels with price >= mid - mid * f (bids) or <= mid +
 * mid * f (asks), and whether the deepest level is at or beyond it.
 */
static char *
fz_ref_depth(const FzArr *a, bool bids, Datum mid, Datum f, bool base, bool *complete)
{
	Datum		off = fz_mul(mid, f);
	Datum		thr = bids ? fz_sub(mid, off) : fz_add(mid, off);
	Datum		sum = fz_num("0");
	int			n = fz_nlevels(a);
	int			c;

	for (int i = 0; i < n; i++)
	{
		c = fz_cmp(fz_price(a, i), thr);
		if (bids ? c < 0 : c > 0)
			break;
		sum = fz_add(sum, base ? fz_qty(a, i) : fz_mul(fz_price(a, i), fz_qty(a, i)));
	}
	c = fz_cmp(fz_price(a, n - 1), thr);
	*complete = bids ? c <= 0 : c >= 0;
	return fz_text(sum);
}

/*
 * A market order of `notional` quote on one side: it takes levels whole
 * until the one where the quote reaches the notional, and from that level
 * at price p what remains.  The columns of slippage: mid, avg_price,
 * slippage_bps, filled_base, filled_quote, levels_used, feasible.
 */
static void
fz_ref_slippage(const FzArr *a, bool is_buy, Datum notional, Datum mid, char **cell)
{
	Datum		cq = fz_num("0");
	Datum		cb = fz_num("0");
	int			n = fz_nlevels(a);

	cell[0] = fz_text(mid);
	for (int i = 0; i < n; i++)
	{
		Datum		p = fz_price(a, i);
		Datum		after = fz_add(cq, fz_mul(p, fz_qty(a, i)));

		if (fz_cmp(after, notional) >= 0)
		{
			Datum		rem = fz_sub(notional, cq);
			Datum		den = fz_add(fz_mul(cb, p), rem);
			Datum		num = fz_mul(notional, p);
			Datum		mid_den = fz_mul(mid, den);
			Datum		diff = is_buy ? fz_sub(num, mid_den) : fz_sub(mid_den, num);

			cell[1] = fz_text(fz_div(num, den));
			cell[2] = fz_text(fz_div(fz_mul(diff, fz_num("10000")), mid_den));
			cell[3] = fz_text(fz_div(den, p));
			cell[4] = fz_text(notional);
			cell[5] = psprintf("%d", i + 1);
			cell[6] = "t";
			return;
		}
		cq = after;
		cb = fz_add(cb, fz_qty(a, i));
	}
	cell[1] = NULL;
	cell[2] = NULL;
	cell[3] = fz_text(cb);
	cell[4] = fz_text(cq);
	cell[5] = psprintf("%d", n);
	cell[6] = "f";
}

static void
fz_expect(const FzRes *r, int k, int row, int col, const char *want)
{
	const char *got = r->cell[row * r->ncols + col];

	if ((want == NULL) != (got == NULL) || (want != NULL && strcmp(want, got) != 0))
		fz_fail("%s row %d column %d is %s, the reference %s", fz_res_name[k], row + 1, col + 1,
				fz_show(got), fz_show(want));
}

static void
fz_expect_shape(const FzRes *r, int k, int nrows)
{
	if (r->nrows != nrows)
		fz_fail("%s gave %d rows, the reference %d", fz_res_name[k], r->nrows, nrows);
}

/*
 * The reference's verdict on an error: the SQLSTATE it expects (0 none)
 * against the one raised; where the functions' arithmetic may leave
 * numeric's range (fz_may_overflow), 22003 is theirs to raise.  true when
 * both agree on an error.
 */
static bool fz_may_overflow(const FzCase *c);

static bool
fz_ref_error(const FzCase *c, const FzRes *r, int k, int want)
{
	if (r->sqlstate == want)
		return want != 0;
	if (r->sqlstate == ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE && fz_may_overflow(c))
		return true;
	fz_fail("%s: %s, the reference expects %s", fz_res_name[k],
			r->sqlstate ? r->message : "no error", want ? unpack_sql_state(want) : "no error");
}

static bool
fz_finite(const FzVal *v)
{
	return !v->isnull && !fz_special(v->d);
}

/*
 * Whether the arithmetic the functions may do leaves numeric's range: the
 * general path sums whole sides, and a threshold of 10^100000 bps makes
 * mid * f too large wherever it is computed.
 */
static bool
fz_may_overflow(const FzCase *c)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool overflow = false;

	if (fz_overflow_verdict >= 0)
		return fz_overflow_verdict;

	PG_TRY();
	{
		for (int s = 0; s < 2; s++)
		{
			const FzArr *a = &c->side[s];
			Datum		cq = fz_num("0");
			Datum		cb = fz_num("0");

			for (int i = 0; i + 1 < a->n; i += 2)
				if (fz_finite(&a->el[i]) && fz_finite(&a->el[i + 1]))
				{
					cq = fz_add(cq, fz_mul(a->el[i].d, a->el[i + 1].d));
					cb = fz_add(cb, a->el[i + 1].d);
				}
		}
		if (c->side[0].n > 0 && c->side[1].n > 0 &&
			fz_finite(&c->side[0].el[0]) && fz_finite(&c->side[1].el[0]))
		{
			Datum		mid = fz_mul(fz_add(c->side[0].el[0].d, c->side[1].el[0].d), fz_num("0.5"));

			for (int f = 0; f < 2; f++)
				for (int i = 0; i < c->thr[f].n; i++)
					if (fz_finite(&c->thr[f].el[i]))
						(void) fz_add(mid, fz_mul(mid, c->thr[f].el[i].d));
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		overflow = true;
	}
	PG_END_TRY();
	fz_overflow_verdict = overflow;
	return overflow;
}

/* the checks and values of one result against the reference */
static void
fz_ref_one(const FzCase *c, const FzOut *o, int k, bool values)
{
	const FzRes *r = &o->r[k];
	bool		has_mid = fz_has_mid(c);
	Datum		mid = (Datum) 0;
	const FzArr *bids = &c->side[0];
	const FzArr *asks = &c->side[1];

	switch (k)
	{
		case FZ_MID:
		case FZ_SPREAD:
			if (fz_ref_error(c, r, k, fz_ref_book(c, false)))
				return;
			fz_expect_shape(r, k, 1);
			if (!has_mid)
			{
				fz_expect(r, k, 0, 0, NULL);
				return;
			}
			if (k == FZ_SPREAD)
			{
				/* (best ask - best bid) * 10^4 / mid, with the mid mid_price gives */
				if (fz_mid(o) != NULL && values)
					fz_expect(r, k, 0, 0,
							  fz_text(fz_div(fz_mul(fz_sub(fz_price(asks, 0), fz_price(bids, 0)),
													fz_num("10000")),
											 fz_num(fz_mid(o)))));
				return;
			}
			{
				/* (bb + ba) / 2 exactly, with at most one more decimal than bb + ba */
				Datum		sum = fz_add(fz_price(bids, 0), fz_price(asks, 0));
				const char *got = r->cell[0];
				int			extra = fz_dscale(got) - fz_dscale(fz_text(sum));

				if (fz_cmp(fz_mul(fz_num(got), fz_num("2")), sum) != 0 || extra < 0 || extra > 1)
					fz_fail("mid_price is %s, for a best bid %s and best ask %s", got,
							fz_text(fz_price(bids, 0)), fz_text(fz_price(asks, 0)));
			}
			return;

		case FZ_LDEPTH:
		case FZ_MDEPTH:
			{
				const FzArr *t = &c->thr[k == FZ_MDEPTH];
				int			e = fz_ref_thresholds(t);

				if (fz_ref_error(c, r, k, e ? e : fz_ref_book(c, false)))
					return;
				fz_expect_shape(r, k, has_mid ? t->n : 0);
				if (!has_mid || !values)
					return;
				mid = fz_mul(fz_add(fz_price(bids, 0), fz_price(asks, 0)), fz_num("0.5"));
				for (int i = 0; i < t->n; i++)
				{
					Datum		f = k == FZ_LDEPTH ? fz_mul(t->el[i].d, fz_num("0.0001")) : t->el[i].d;

					fz_expect(r, k, i, 0, fz_text(t->el[i].d));
					for (int s = 0; s < 2; s++)
					{
						bool		complete;
						char	   *fig = fz_ref_depth(&c->side[s], s == 0, mid, f, k == FZ_MDEPTH,
													   &complete);

						fz_expect(r, k, i, 1 + s, fig);
						if (k == FZ_LDEPTH)
							fz_expect(r, k, i, 3 + s, complete ? "t" : "f");
					}
				}
			}
			return;

		case FZ_LROW:
			if (fz_ref_error(c, r, k, fz_ref_book(c, true)))
				return;
			fz_expect_shape(r, k, has_mid ? 1 : 0);
			if (!has_mid || !values)
				return;
			if (fz_mid(o) != NULL)
				fz_expect(r, k, 0, 0, fz_mid(o));
			mid = fz_num(r->cell[0]);
			for (int s = 0; s < 2; s++)
			{
				const FzArr *a = &c->side[s];
				Datum		deepest = fz_price(a, fz_nlevels(a) - 1);
				Datum		dist = s == 0 ? fz_sub(mid, deepest) : fz_sub(deepest, mid);

				for (int i = 0; i < (int) lengthof(fz_row_bps); i++)
				{
					bool		complete;

					fz_expect(r, k, 0, 1 + s * lengthof(fz_row_bps) + i,
							  fz_ref_depth(a, s == 0, mid,
										   fz_mul(fz_num(fz_row_bps[i]), fz_num("0.0001")),
										   false, &complete));
				}
				fz_expect(r, k, 0, 15 + s, fz_text(fz_div(fz_mul(dist, fz_num("10000")), mid)));
			}
			return;

		case FZ_SROWS:
			if (fz_ref_error(c, r, k, fz_ref_book(c, true)))
				return;
			fz_expect_shape(r, k, has_mid ? 2 * lengthof(fz_row_sizes) : 0);
			if (!has_mid || !values || fz_mid(o) == NULL)
				return;
			mid = fz_num(fz_mid(o));
			for (int i = 0; i < 2 * (int) lengthof(fz_row_sizes); i++)
			{
				bool		is_buy = i % 2 == 0;
				char	   *cell[7];

				fz_ref_slippage(&c->side[is_buy], is_buy, fz_num(fz_row_sizes[i / 2]), mid, cell);
				fz_expect(r, k, i, 0, fz_row_sizes[i / 2]);
				fz_expect(r, k, i, 1, is_buy ? "buy" : "sell");
				fz_expect(r, k, i, 2, cell[0]);
				fz_expect(r, k, i, 3, cell[1]);
				fz_expect(r, k, i, 4, cell[2]);
				fz_expect(r, k, i, 5, cell[6]);
			}
			return;

		case FZ_VWAP:
		case FZ_VWAP_SPLIT:
			{
				Datum		pq = fz_num("0");
				Datum		q = fz_num("0");
				int			n = 0;

				/* sums of products may leave numeric's range */
				if (r->sqlstate == ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE ||
					fz_ref_error(c, r, k, 0))
					return;
				for (int i = 0; i < c->nvwap; i++)
				{
					if (c->vp[i].isnull || c->vq[i].isnull)
						continue;
					pq = fz_add(pq, fz_mul(c->vp[i].d, c->vq[i].d));
					q = fz_add(q, c->vq[i].d);
					n++;
				}
				fz_expect(r, k, 0, 0, n == 0 || (!fz_special(q) && fz_sign(q) == 0) ? NULL :
						  fz_text(fz_div(pq, q)));
			}
			return;

		default:
			{
				int			i = k - FZ_SLIP0;
				const char *side = c->slip_side[i];
				Datum		notional = c->slip_notional[i].d;
				int			e = 0;
				char	   *cell[7];
				bool		is_buy = strcmp(side, "buy") == 0;

				if (!is_buy && strcmp(side, "sell") != 0)
					e = ERRCODE_INVALID_PARAMETER_VALUE;
				else if (fz_special(notional) || fz_sign(notional) <= 0)
					e = ERRCODE_INVALID_PARAMETER_VALUE;
				if (fz_ref_error(c, r, k, e ? e : fz_ref_book(c, false)))
					return;
				fz_expect_shape(r, k, has_mid ? 1 : 0);
				if (!has_mid || !values)
					return;
				if (fz_mid(o) != NULL)
					fz_expect(r, k, 0, 0, fz_mid(o));
				fz_ref_slippage(&c->side[is_buy], is_buy, notional, fz_num(r->cell[0]), cell);
				for (int col = 1; col < 7; col++)
					fz_expect(r, k, 0, col, cell[col]);
			}
			return;
	}
}

/*
 * Checks the answers to the case as given against the reference.  The
 * reference's own arithmetic may leave numeric's range (values of 10^100000
 * multiplied): then that result is not checked.
 */
static void
fz_reference(const FzCase *c, const FzOut *o)
{
	int			nthr = Max(c->thr[0].n, c->thr[1].n);
	bool		values = (int64) c->levels * (nthr + 2 * lengthof(fz_row_sizes) + 2) <= FZ_REF_WORK;

	for (int k = 0; k < FZ_NRES; k++)
	{
		MemoryContext cxt = CurrentMemoryContext;

		if (!o->r[k].ran)
			continue;
		PG_TRY();
		{
			fz_ref_one(c, o, k, values);
		}
		PG_CATCH();
		{
			ErrorData  *ed;

			MemoryContextSwitchTo(cxt);
			ed = CopyErrorData();
			FlushErrorState();
			if (ERRCODE_TO_CATEGORY(ed->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
				fz_fail("the reference of %s raised %s: %s", fz_res_name[k],
						unpack_sql_state(ed->sqlerrcode), ed->message);
		}
		PG_END_TRY();
	}
}

/* qsort_arg comparator of row indexes by the numeric in column 0 */
static int
fz_cmp_rows(const void *a, const void *b, void *arg)
{
	const Datum *thr = (const Datum *) arg;

	return fz_cmp(thr[*(const int *) a], thr[*(const int *) b]);
}

/*
 * What holds whatever the book's size: one mid for every function, depth
 * that grows with the threshold (and is complete at a threshold when it is
 * at a larger one), an order filled to its notional or short of it, vwap
 * the same in one state or in two.
 */
static void
fz_invariants(const FzCase *c, const FzOut *o)
{
	const char *mid = fz_mid(o);

	if (mid != NULL && o->r[FZ_LROW].sqlstate == 0 && o->r[FZ_LROW].nrows == 1 &&
		strcmp(o->r[FZ_LROW].cell[0], mid) != 0)
		fz_fail("liquidity_depth_row's mid %s, mid_price %s", o->r[FZ_LROW].cell[0], mid);
	for (int k = FZ_LDEPTH; k <= FZ_MDEPTH; k++)
	{
		const FzRes *r = &o->r[k];
		int			n = r->nrows;
		int		   *order;
		Datum	   *thr;

		if (r->sqlstate != 0 || n < 2)
			continue;
		order = palloc(sizeof(int) * n);
		thr = palloc(sizeof(Datum) * n);
		for (int i = 0; i < n; i++)
		{
			order[i] = i;
			thr[i] = fz_num(r->cell[i * r->ncols]);
		}
		qsort_arg(order, n, sizeof(int), fz_cmp_rows, thr);
		for (int i = 0; i + 1 < n; i++)
		{
			char	  **a = &r->cell[order[i] * r->ncols];
			char	  **b = &r->cell[order[i + 1] * r->ncols];

			for (int s = 1; s <= 2; s++)
				if (fz_cmp(fz_num(a[s]), fz_num(b[s])) > 0)
					fz_fail("%s: %s within %s, %s within %s", fz_res_name[k], a[s], a[0], b[s], b[0]);
			if (k == FZ_LDEPTH)
				for (int s = 3; s <= 4; s++)
					if (strcmp(a[s], "f") == 0 && strcmp(b[s], "t") == 0 &&
						fz_cmp(thr[order[i]], thr[order[i + 1]]) < 0)
						fz_fail("liquidity_depth: complete within %s, not within %s", b[0], a[0]);
		}
	}
	for (int i = 0; i < c->nslip; i++)
	{
		const FzRes *r = &o->r[FZ_SLIP0 + i];
		int			c_fill;

		if (!r->ran || r->sqlstate != 0 || r->nrows == 0)
			continue;
		if (mid != NULL && strcmp(r->cell[0], mid) != 0)
			fz_fail("slippage's mid %s, mid_price %s", r->cell[0], mid);
		c_fill = fz_cmp(fz_num(r->cell[4]), c->slip_notional[i].d);
		if (strcmp(r->cell[6], "t") == 0 ? c_fill != 0 : c_fill >= 0)
			fz_fail("slippage filled %s of %s (feasible %s)", r->cell[4],
					fz_text(c->slip_notional[i].d), r->cell[6]);
	}
	fz_compare_res(FZ_VWAP, &o->r[FZ_VWAP], &o->r[FZ_VWAP_SPLIT], true, "in two partial states");
}

/* ------------------------------------------------------------------------
 * libFuzzer's callback and the SQL entry point
 * ------------------------------------------------------------------------
 */

/* Builds a case or a variant; false when numeric.c refuses a value (class 22). */
static bool
fz_build(const uint8_t *data, size_t size, const FzCase *src, bool forms, int decimals,
		 FzCase *c)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		if (src == NULL)
			fz_parse(data, size, c);
		else
			fz_variant(src, c, forms, decimals);
	}
	PG_CATCH();
	{
		FzRes		res = {0};

		fz_caught(cxt, &res, "building the input");
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

static int
fz_one_input(const uint8_t *data, size_t size)
{
	MemoryContext old = MemoryContextSwitchTo(fz_cxt);
	FzCase		c;

	fz_input = data;
	fz_input_len = size;
	fz_ref_reset();
	if (fz_build(data, size, NULL, false, 0, &c))
	{
		FzOut		given;
		FzOut		other;
		FzCase		v;

		fz_run(&c, false, &given);
		fz_invariants(&c, &given);
		fz_reference(&c, &given);
		fz_run(&c, true, &other);
		fz_compare(&given, &other, true, "with a null bitmap");
		if (c.levels <= FZ_VARIANT_LEVELS)
		{
			if (fz_build(NULL, 0, &c, true, 0, &v))
			{
				fz_run(&v, false, &other);
				fz_compare(&given, &other, true, "in the long header form");
			}
			int			decimals[3] = {c.rescale, FZ_RESCALE_INT128, FZ_RESCALE_NUMERIC};

			for (int i = 0; i < 3; i++)
			{
				if ((i > 0 && decimals[i] == c.rescale) ||
					!fz_build(NULL, 0, &c, false, decimals[i], &v))
					continue;
				fz_run(&v, false, &other);
				fz_compare(&given, &other, false, psprintf("with %d more decimals", decimals[i]));
			}
		}
	}
	fz_free_mallocs();
	MemoryContextSwitchTo(old);
	MemoryContextReset(fz_cxt);
	return 0;
}

/*
 * perps_fuzz_analytics(args text[]): runs libFuzzer with that command line;
 * does not return.  -perps_max_levels=N (taken out before libFuzzer sees
 * the rest) bounds the levels of a side: a book of 100000 levels takes
 * seconds under the sanitizers, so everyday runs keep books small.
 */
PG_FUNCTION_INFO_V1(perps_fuzz_analytics);
Datum
perps_fuzz_analytics(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			argc;
	char	  **argv;

	for (int f = 0; f < FZ_NFUNCS; f++)
	{
		Oid			oid = DatumGetObjectId(DirectFunctionCall1(regprocedurein,
															   CStringGetDatum(fz_funcs[f].sig)));
		TupleDesc	desc = NULL;

		fmgr_info_cxt(oid, &fz_funcs[f].flinfo, TopMemoryContext);
		if (get_func_result_type(oid, NULL, &desc) == TYPEFUNC_COMPOSITE)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			fz_funcs[f].desc = CreateTupleDescCopy(desc);
			MemoryContextSwitchTo(old);
		}
	}
	fz_cxt = AllocSetContextCreate(TopMemoryContext, "perps_fuzz_analytics",
								   ALLOCSET_DEFAULT_SIZES);

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	argv = palloc(sizeof(char *) * (n + 2));
	argv[0] = "perps_fuzz_analytics";
	argc = 1;
	for (int i = 0; i < n; i++)
	{
		char	   *arg = nulls[i] ? "" : TextDatumGetCString(elems[i]);

		if (strncmp(arg, "-perps_max_levels=", 18) == 0)
			fz_max_levels = fz_count(arg + 18, FZ_MAX_LEVELS);
		else
			argv[argc++] = arg;
	}
	argv[argc] = NULL;
	PG_RETURN_INT32(LLVMFuzzerRunDriver(&argc, &argv, fz_one_input));
}
