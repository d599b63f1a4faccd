/*-------------------------------------------------------------------------
 *
 * fetch.c
 *		The live SQL functions fetch_* and refresh_markets: resolve the
 *		venue and the market, let the venue's adapter build its requests,
 *		run them through the HTTP layer, let the adapter parse the bodies,
 *		and turn the plain results into exact SQL values.
 *
 * Nothing here knows a venue: every venue-specific fact is in its adapter.
 *
 * Conversions: decimals go from the venue's text to numeric through
 * numeric_in; quantity-like fields are multiplied by the result's qty_mult
 * (contract size) in numeric; times are microseconds since the Unix epoch
 * and become timestamptz.  Order books: adjacent equal prices are merged
 * into one level (Lighter lists orders), the order of each side is checked
 * (bids descending, asks ascending) and the sides become 2-D numeric[]
 * {{price,qty},...}, best first.
 *
 * Memory: each call works in a "perps fetch" context below the function's
 * context; an adapter's arena allocates there with MCXT_ALLOC_NO_OOM (an
 * adapter never longjmps).  History calls reset a page context per page.
 *
 * Snapshots: look-ups run with read_only = false so that they see the
 * markets a refresh earlier in the same call wrote.
 *
 * Privileges: the functions reach the network, so they are not executable
 * by PUBLIC.  refresh_markets writes perps_stats.markets and is SECURITY
 * DEFINER with a fixed search_path; the fetch functions call it when a
 * market is missing and the venue needs its markets list.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "perps_pg.h"

#include <limits.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "fetch.h"
#include "http.h"
#include "perps_stats.h"

/* Most rows one history call returns when no max_rows is given. */
#define FETCH_MAX_ROWS 1000000
/* Most pages one history call walks. */
#define FETCH_MAX_PAGES 100000

/* Unix epoch in PostgreSQL's microseconds (since 2000-01-01). */
#define FETCH_UNIX_EPOCH_US \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

typedef struct FetchVenue
{
	const PerpsAdapter *ad;
	int			id;
	char	   *name;
	char	   *rest_url;
	PerpsRateLimit limit;
} FetchVenue;

typedef struct FetchMarket
{
	char	   *symbol;
	char	   *native_symbol;
	char	   *contract_size;
} FetchMarket;

/* ---- arena for the adapters ---- */

static void *
fetch_arena_alloc(void *state, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) state, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
fetch_ctx_init(PerpsCtx *ctx, MemoryContext cxt)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->arena.alloc = fetch_arena_alloc;
	ctx->arena.state = cxt;
	ctx->status = PERPS_OK;
}

/* ---- argument helpers ---- */

static char *
fetch_text_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static int64
fetch_ts_arg(FunctionCallInfo fcinfo, int n)
{
	TimestampTz t;

	if (PG_ARGISNULL(n))
		return PERPS_TS_NONE;
	t = PG_GETARG_TIMESTAMPTZ(n);
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("since and until must be finite timestamps")));
	if (t < -FETCH_UNIX_EPOCH_US)
		return 0;
	return t + FETCH_UNIX_EPOCH_US;
}

/* ---- conversions ---- */

static Datum
fetch_num(const char *s)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* A decimal into values[i]/nulls[i]; NULL text is SQL NULL. */
static void
fetch_set_num(Datum *values, bool *nulls, int i, const char *s)
{
	if (s == NULL)
	{
		nulls[i] = true;
		return;
	}
	values[i] = fetch_num(s);
	nulls[i] = false;
}

/* A quantity: the decimal times the multiplier (NULL = 1). */
static void
fetch_set_qty(Datum *values, bool *nulls, int i, const char *s, const char *mult)
{
	fetch_set_num(values, nulls, i, s);
	if (!nulls[i] && mult != NULL && strcmp(mult, "1") != 0)
		values[i] = DirectFunctionCall2(numeric_mul, values[i], fetch_num(mult));
}

static Datum
fetch_ts_datum(int64 us)
{
	TimestampTz t = us - FETCH_UNIX_EPOCH_US;

	if (!IS_VALID_TIMESTAMP(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return TimestampTzGetDatum(t);
}

static void
fetch_set_ts(Datum *values, bool *nulls, int i, int64 us)
{
	if (us == PERPS_TS_NONE)
	{
		nulls[i] = true;
		return;
	}
	values[i] = fetch_ts_datum(us);
	nulls[i] = false;
}

static void
fetch_set_text(Datum *values, bool *nulls, int i, const char *s)
{
	if (s == NULL)
	{
		nulls[i] = true;
		return;
	}
	values[i] = CStringGetTextDatum(s);
	nulls[i] = false;
}

/* ---- errors ---- */

/* An error recorded instead of raised (one failing market must not stop the others). */
typedef struct FetchError
{
	int			sqlstate;		/* 0: none */
	char	   *msg;
	char	   *detail;
	char	   *hint;
} FetchError;

static void
fetch_error_set(FetchError *e, int sqlstate, char *msg, char *detail)
{
	if (e->sqlstate != 0)
		return;					/* the first error wins */
	e->sqlstate = sqlstate;
	e->msg = msg;
	e->detail = detail;
}

static void
fetch_error_raise(const FetchError *e)
{
	ereport(ERROR,
			(errcode(e->sqlstate),
			 errmsg_internal("%s", e->msg),
			 e->detail ? errdetail_internal("%s", e->detail) : 0,
			 e->hint ? errhint("%s", e->hint) : 0));
}

static void
fetch_status_error(const char *venue, PerpsMethod m, const PerpsCtx *ctx, PerpsStatus st, FetchError *e)
{
	const char *method = perps_method_names[m];
	const char *msg = ctx->errmsg[0] ? ctx->errmsg : "no details";

	switch (st)
	{
		case PERPS_UNSUPPORTED:
			fetch_error_set(e, ERRCODE_FEATURE_NOT_SUPPORTED,
							psprintf("%s has no public endpoint for %s", venue, method),
							ctx->errmsg[0] ? pstrdup(ctx->errmsg) : NULL);
			break;
		case PERPS_ERR_JSON:
			fetch_error_set(e, ERRCODE_INVALID_JSON_TEXT,
							psprintf("could not parse the %s response of %s", method, venue),
							pstrdup(msg));
			break;
		case PERPS_ERR_SHAPE:
			fetch_error_set(e, ERRCODE_DATA_EXCEPTION,
							psprintf("unexpected %s response from %s", method, venue),
							pstrdup(msg));
			break;
		case PERPS_ERR_VENUE:
			fetch_error_set(e, ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
							psprintf("%s refused the %s request", venue, method),
							psprintf("%s says: %s", venue, msg));
			break;
		case PERPS_ERR_NOT_FOUND:
			fetch_error_set(e, ERRCODE_UNDEFINED_OBJECT,
							psprintf("%s did not return the market asked for", venue),
							pstrdup(msg));
			break;
		case PERPS_ERR_ARG:
			fetch_error_set(e, ERRCODE_INVALID_PARAMETER_VALUE,
							psprintf("%s cannot take this %s request", venue, method),
							pstrdup(msg));
			break;
		case PERPS_ERR_NOMEM:
			fetch_error_set(e, ERRCODE_OUT_OF_MEMORY,
							psprintf("out of memory parsing the %s response of %s", method, venue),
							NULL);
			break;
		default:
			fetch_error_set(e, ERRCODE_INTERNAL_ERROR,
							psprintf("adapter %s returned unknown status %d", venue, (int) st),
							NULL);
	}
}

/* ---- SPI look-ups ---- */

static bool
fetch_venue_load(const char *name, FetchVenue *v, bool missing_ok)
{
	MemoryContext outer = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		found = false;
	int			rc;

	args[0] = CStringGetTextDatum(name);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT id::int, rest_url, rate_limit_weight, rate_limit_window_ms "
							   "FROM perps_stats.exchanges WHERE name = $1",
							   1, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		found = true;
		v->id = DatumGetInt32(SPI_getbinval(tup, td, 1, &isnull));
		v->name = MemoryContextStrdup(outer, name);
		v->rest_url = MemoryContextStrdup(outer,
										  TextDatumGetCString(SPI_getbinval(tup, td, 2, &isnull)));
		v->ad = perps_adapter_find(name);
		if (v->ad)
			v->limit = v->ad->rate_limit;
		d = SPI_getbinval(tup, td, 3, &isnull);
		if (!isnull)
			v->limit.weight = DatumGetInt32(d);
		d = SPI_getbinval(tup, td, 4, &isnull);
		if (!isnull)
			v->limit.window_ms = DatumGetInt32(d);
	}
	SPI_finish();

	if (!found)
	{
		if (missing_ok)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("exchange \"%s\" does not exist", name),
				 errhint("The exchanges are listed in perps_stats.exchanges.")));
	}
	if (v->ad == NULL)
	{
		if (missing_ok)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("exchange \"%s\" has no adapter in this build of perps_stats", name)));
	}
	return true;
}

static bool
fetch_market_lookup(const FetchVenue *v, const char *symbol, FetchMarket *mk)
{
	MemoryContext outer = CurrentMemoryContext;
	Oid			argtypes[2] = {INT4OID, TEXTOID};
	Datum		args[2];
	bool		found = false;
	int			rc;

	args[0] = Int32GetDatum(v->id);
	args[1] = CStringGetTextDatum(symbol);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT symbol, native_symbol, contract_size::text FROM perps_stats.markets "
							   "WHERE exchange_id = $1 AND symbol = $2",
							   2, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;

		found = true;
		mk->symbol = MemoryContextStrdup(outer, SPI_getvalue(tup, td, 1));
		mk->native_symbol = MemoryContextStrdup(outer, SPI_getvalue(tup, td, 2));
		mk->contract_size = MemoryContextStrdup(outer, SPI_getvalue(tup, td, 3));
	}
	SPI_finish();
	return found;
}

/*
 * Refreshes a venue's markets through the SQL function, which is SECURITY
 * DEFINER: a caller allowed to fetch (perps_collector) need not be allowed
 * to write perps_stats.markets.
 */
static void
fetch_refresh_as_owner(const FetchVenue *v)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			rc;

	args[0] = CStringGetTextDatum(v->name);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT perps_stats.refresh_markets($1)", 1, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

static int	fetch_refresh_one(const FetchVenue *v);

/*
 * The venue's reference for a global symbol: from perps_stats.markets;
 * else from the adapter's naming rule; else (or when the adapter needs the
 * markets list) after refreshing the markets from the venue.
 */
static void
fetch_market_resolve(const FetchVenue *v, const char *symbol, FetchMarket *mk)
{
	char		buf[128];

	if (fetch_market_lookup(v, symbol, mk))
		return;
	if (!v->ad->needs_markets && v->ad->native_symbol &&
		v->ad->native_symbol(symbol, buf, sizeof(buf)))
	{
		mk->symbol = pstrdup(symbol);
		mk->native_symbol = pstrdup(buf);
		mk->contract_size = NULL;
		return;
	}
	fetch_refresh_as_owner(v);
	if (fetch_market_lookup(v, symbol, mk))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("%s has no market \"%s\"", v->name, symbol),
			 errhint("Symbols are global base assets such as BTC; perps_stats.markets lists the known ones.")));
}

/* ---- adapter rounds: build, HTTP (all rounds together), parse ---- */

typedef struct FetchRound
{
	/* in */
	const FetchVenue *v;
	PerpsMethod m;
	const PerpsQuery *q;
	PerpsCtx   *ctx;			/* arena of the results */
	PerpsResult *out;
	/* work */
	PerpsRequest reqs[PERPS_MAX_REQUESTS];
	PerpsHttpCall *calls;		/* n calls, in the array perps_http_run ran */
	int			n;
	/* out */
	FetchError	err;
} FetchRound;

static bool
fetch_round_build(FetchRound *r)
{
	memset(r->reqs, 0, sizeof(r->reqs));
	memset(r->out, 0, sizeof(*r->out));
	r->out->next_since_us = r->out->next_until_us = PERPS_TS_NONE;
	r->n = r->v->ad->build(r->ctx, r->m, r->q, r->reqs);
	if (r->n < 0)
	{
		fetch_status_error(r->v->name, r->m, r->ctx, (PerpsStatus) r->n, &r->err);
		r->n = 0;
		return false;
	}
	if (r->n == 0 || r->n > PERPS_MAX_REQUESTS)
		elog(ERROR, "adapter %s built %d requests for %s", r->v->name, r->n, perps_method_names[r->m]);
	for (int i = 0; i < r->n; i++)
		r->reqs[i].path[PERPS_PATH_MAX - 1] = '\0';
	return true;
}

static void
fetch_round_finish(FetchRound *r)
{
	PerpsBody	bodies[PERPS_MAX_REQUESTS];
	PerpsStatus st;
	const FetchVenue *v = r->v;

	memset(bodies, 0, sizeof(bodies));
	for (int i = 0; i < r->n; i++)
	{
		bodies[i].data = r->calls[i].body;
		bodies[i].len = r->calls[i].len;
		bodies[i].status = r->calls[i].status;
	}
	for (int i = 0; i < r->n; i++)
	{
		if (r->calls[i].sqlstate != 0)
		{
			const char *venue_msg = NULL;

			/* an error payload of the venue says more than the status */
			if (r->calls[i].status >= 400 && r->calls[i].body != NULL)
			{
				PerpsCtx	ectx;
				PerpsResult tmp;

				fetch_ctx_init(&ectx, (MemoryContext) r->ctx->arena.state);
				memset(&tmp, 0, sizeof(tmp));
				(void) v->ad->parse(&ectx, r->m, r->q, bodies, r->n, &tmp);
				if (ectx.status == PERPS_ERR_VENUE)
					venue_msg = pstrdup(ectx.errmsg);
			}
			fetch_error_set(&r->err, r->calls[i].sqlstate,
							pstrdup(r->calls[i].errmsg ? r->calls[i].errmsg : "HTTP request failed"),
							perps_http_detail(&r->calls[i], venue_msg));
			return;
		}
	}

	st = v->ad->parse(r->ctx, r->m, r->q, bodies, r->n, r->out);
	if (st == PERPS_OK && r->ctx->status != PERPS_OK)
		st = r->ctx->status;
	if (st == PERPS_OK && r->out->n < 0)
		elog(ERROR, "adapter %s returned %d rows", v->name, r->out->n);
	if (st != PERPS_OK)
	{
		fetch_status_error(v->name, r->m, r->ctx, st, &r->err);
		r->out->n = 0;
	}
}

/*
 * Runs several rounds, of any venues, with all their requests in one
 * concurrent HTTP run.  Errors are recorded in each round.
 */
/* Same request: same venue URL, method, path and body. */
static bool
fetch_same_request(const PerpsHttpCall *a, const PerpsHttpCall *b)
{
	if (a->req->post != b->req->post || strcmp(a->base_url, b->base_url) != 0 ||
		strcmp(a->req->path, b->req->path) != 0)
		return false;
	if (a->req->body == NULL || b->req->body == NULL)
		return a->req->body == b->req->body;
	return strcmp(a->req->body, b->req->body) == 0;
}

/*
 * Runs the calls, each distinct request once: a batch often asks the same
 * thing for several markets or kinds (a venue whose one endpoint answers
 * for all its markets), and asking it once keeps the venue's rate limit
 * for the requests that differ.  The duplicates share the answer, which
 * the parsers only read.
 */
static void
fetch_http_run_shared(PerpsHttpCall *calls, int n)
{
	int		   *first = palloc(sizeof(int) * n);
	PerpsHttpCall *distinct = palloc0(sizeof(PerpsHttpCall) * n);
	int		   *slot = palloc(sizeof(int) * n);
	int			ndistinct = 0;

	for (int i = 0; i < n; i++)
	{
		first[i] = i;
		for (int j = 0; j < i; j++)
			if (first[j] == j && fetch_same_request(&calls[j], &calls[i]))
			{
				first[i] = j;
				break;
			}
		if (first[i] == i)
		{
			slot[i] = ndistinct;
			distinct[ndistinct++] = calls[i];
		}
		else
			slot[i] = slot[first[i]];
	}
	perps_http_run(distinct, ndistinct);
	for (int i = 0; i < n; i++)
	{
		const PerpsRequest *req = calls[i].req;

		calls[i] = distinct[slot[i]];
		calls[i].req = req;
	}
	pfree(first);
	pfree(slot);
	pfree(distinct);
}

static void
fetch_rounds_run(FetchRound *rs, int nrounds)
{
	int			total = 0;
	int			k = 0;
	PerpsHttpCall *calls;

	for (int i = 0; i < nrounds; i++)
		if (rs[i].err.sqlstate == 0 && fetch_round_build(&rs[i]))
			total += rs[i].n;
	calls = palloc0(sizeof(PerpsHttpCall) * Max(total, 1));
	for (int i = 0; i < nrounds; i++)
	{
		if (rs[i].err.sqlstate != 0)
			continue;
		rs[i].calls = &calls[k];
		for (int j = 0; j < rs[i].n; j++, k++)
		{
			calls[k].venue = rs[i].v->name;
			calls[k].base_url = rs[i].v->rest_url;
			calls[k].req = &rs[i].reqs[j];
			calls[k].limit = rs[i].v->limit;
		}
	}
	if (total > 0)
		fetch_http_run_shared(calls, total);
	for (int i = 0; i < nrounds; i++)
		if (rs[i].err.sqlstate == 0)
			fetch_round_finish(&rs[i]);
}

/* One round; raises its error. */
static void
fetch_run(const FetchVenue *v, PerpsMethod m, const PerpsQuery *q, PerpsCtx *ctx, PerpsResult *out)
{
	FetchRound *r = palloc0(sizeof(FetchRound));

	r->v = v;
	r->m = m;
	r->q = q;
	r->ctx = ctx;
	r->out = out;
	fetch_rounds_run(r, 1);
	if (r->err.sqlstate != 0)
		fetch_error_raise(&r->err);
}

#define fetch_cxt_create(name) \
	AllocSetContextCreate(CurrentMemoryContext, name, ALLOCSET_DEFAULT_SIZES)

static PerpsQuery
fetch_query(const PerpsMarketRef *ref)
{
	PerpsQuery	q;

	memset(&q, 0, sizeof(q));
	q.market = ref;
	q.since_us = q.until_us = PERPS_TS_NONE;
	return q;
}

/* Composite result of a one-row function. */
static TupleDesc
fetch_tupdesc(FunctionCallInfo fcinfo)
{
	TupleDesc	td;

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return BlessTupleDesc(td);
}

/* ---- markets ---- */

static void
fetch_markets_result(const FetchVenue *v, PerpsCtx *ctx, PerpsResult *res)
{
	PerpsQuery	q = fetch_query(NULL);

	fetch_run(v, PERPS_M_MARKETS, &q, ctx, res);
}

PG_FUNCTION_INFO_V1(fetch_markets);
Datum
fetch_markets(PG_FUNCTION_ARGS)
{
	char	   *name = fetch_text_arg(fcinfo, 0, "exchange");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FetchVenue	v;
	PerpsCtx	ctx;
	PerpsResult res;
	MemoryContext cxt;

	fetch_venue_load(name, &v, false);
	InitMaterializedSRF(fcinfo, 0);
	cxt = fetch_cxt_create("perps fetch");
	fetch_ctx_init(&ctx, cxt);
	fetch_markets_result(&v, &ctx, &res);
	for (int i = 0; i < res.n; i++)
	{
		const PerpsMarket *mk = &res.u.markets[i];
		Datum		values[12];
		bool		nulls[12];

		fetch_set_text(values, nulls, 0, mk->symbol);
		fetch_set_text(values, nulls, 1, mk->native_symbol);
		fetch_set_text(values, nulls, 2, mk->base);
		fetch_set_text(values, nulls, 3, mk->quote);
		fetch_set_num(values, nulls, 4, mk->contract_size);
		fetch_set_num(values, nulls, 5, mk->tick_size);
		fetch_set_num(values, nulls, 6, mk->lot_size);
		fetch_set_num(values, nulls, 7, mk->min_qty);
		fetch_set_num(values, nulls, 8, mk->max_qty);
		fetch_set_num(values, nulls, 9, mk->min_notional);
		fetch_set_num(values, nulls, 10, mk->max_leverage);
		fetch_set_num(values, nulls, 11, mk->funding_interval_hours);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

/* A text[] (with NULLs) from C strings. */
static Datum
fetch_text_array(const char **strs, int n)
{
	Datum	   *d = palloc0(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc0(sizeof(bool) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	for (int i = 0; i < n; i++)
	{
		nulls[i] = (strs[i] == NULL);
		if (!nulls[i])
			d[i] = CStringGetTextDatum(strs[i]);
	}
	return PointerGetDatum(construct_md_array(d, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Fetches a venue's markets and upserts them; returns the number upserted. */
static int
fetch_refresh_one(const FetchVenue *v)
{
	MemoryContext cxt = fetch_cxt_create("perps refresh");
	MemoryContext old = MemoryContextSwitchTo(cxt);
	PerpsCtx	ctx;
	PerpsResult res;
	const char **cols[12];
	bool	   *active;
	Datum		args[14];
	Oid			argtypes[14];
	int			n;
	int			rc;
	int			count;

	fetch_ctx_init(&ctx, cxt);
	fetch_markets_result(v, &ctx, &res);
	n = res.n;
	for (int c = 0; c < 12; c++)
		cols[c] = palloc0(sizeof(char *) * Max(n, 1));
	active = palloc0(sizeof(bool) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		const PerpsMarket *mk = &res.u.markets[i];

		if (mk->symbol == NULL || mk->native_symbol == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("unexpected markets response from %s", v->name),
					 errdetail("A market has no symbol.")));
		cols[0][i] = mk->symbol;
		cols[1][i] = mk->native_symbol;
		cols[2][i] = mk->base ? mk->base : mk->symbol;
		cols[3][i] = mk->quote ? mk->quote : "";
		cols[4][i] = mk->contract_size;
		cols[5][i] = mk->tick_size;
		cols[6][i] = mk->lot_size;
		cols[7][i] = mk->min_qty;
		cols[8][i] = mk->max_qty;
		cols[9][i] = mk->min_notional;
		cols[10][i] = mk->max_leverage;
		cols[11][i] = mk->funding_interval_hours;
		active[i] = mk->active;
	}

	args[0] = Int32GetDatum(v->id);
	argtypes[0] = INT4OID;
	for (int c = 0; c < 12; c++)
	{
		args[c + 1] = fetch_text_array(cols[c], n);
		argtypes[c + 1] = TEXTARRAYOID;
	}
	{
		Datum	   *bd = palloc0(sizeof(Datum) * Max(n, 1));

		for (int i = 0; i < n; i++)
			bd[i] = BoolGetDatum(active[i]);
		args[13] = PointerGetDatum(construct_array(bd, n, BOOLOID, 1, true, TYPALIGN_CHAR));
		argtypes[13] = BOOLARRAYOID;
	}

	SPI_connect();
	rc = SPI_execute_with_args(
							   "INSERT INTO perps_stats.markets AS m (exchange_id, symbol, native_symbol, base, quote, "
							   "  contract_size, tick_size, lot_size, min_qty, max_qty, min_notional, max_leverage, "
							   "  funding_interval_hours, active, updated_at) "
							   "SELECT DISTINCT ON (u.symbol) $1::smallint, u.symbol, u.native_symbol, u.base, u.quote, "
							   "  coalesce(u.contract_size::numeric, 1), u.tick_size::numeric, u.lot_size::numeric, "
							   "  u.min_qty::numeric, u.max_qty::numeric, u.min_notional::numeric, "
							   "  u.max_leverage::numeric, u.funding_interval_hours::numeric, u.active, now() "
							   "FROM unnest($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
							   "  AS u(symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, "
							   "       min_qty, max_qty, min_notional, max_leverage, funding_interval_hours, active) "
							   "ORDER BY u.symbol, u.active DESC "
							   "ON CONFLICT (exchange_id, symbol) DO UPDATE SET "
							   "  native_symbol = excluded.native_symbol, base = excluded.base, quote = excluded.quote, "
							   "  contract_size = excluded.contract_size, tick_size = excluded.tick_size, "
							   "  lot_size = excluded.lot_size, min_qty = excluded.min_qty, max_qty = excluded.max_qty, "
							   "  min_notional = excluded.min_notional, max_leverage = excluded.max_leverage, "
							   "  funding_interval_hours = excluded.funding_interval_hours, active = excluded.active, "
							   "  updated_at = excluded.updated_at",
							   14, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	count = (int) SPI_processed;
	/* markets the venue no longer lists */
	rc = SPI_execute_with_args("UPDATE perps_stats.markets SET active = false, updated_at = now() "
							   "WHERE exchange_id = $1 AND active AND symbol <> ALL ($2)",
							   2, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	SPI_finish();

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return count;
}

PG_FUNCTION_INFO_V1(refresh_markets);
Datum
refresh_markets(PG_FUNCTION_ARGS)
{
	FetchVenue	v;
	int			total = 0;

	if (!PG_ARGISNULL(0))
	{
		fetch_venue_load(text_to_cstring(PG_GETARG_TEXT_PP(0)), &v, false);
		PG_RETURN_INT32(fetch_refresh_one(&v));
	}
	/* every enabled venue that has an adapter */
	for (int i = 0; perps_adapters[i] != NULL; i++)
	{
		bool		enabled = false;
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1];

		if (!fetch_venue_load(perps_adapters[i]->name, &v, true))
			continue;
		args[0] = CStringGetTextDatum(v.name);
		SPI_connect();
		if (SPI_execute_with_args("SELECT 1 FROM perps_stats.exchanges WHERE name = $1 AND enabled",
								  1, argtypes, args, NULL, false, 1) == SPI_OK_SELECT)
			enabled = SPI_processed == 1;
		SPI_finish();
		if (enabled)
			total += fetch_refresh_one(&v);
	}
	PG_RETURN_INT32(total);
}

/* ---- tickers ---- */

#define TICKER_NCOLS 18

static void
fetch_ticker_values(const char *exchange, const char *symbol, const PerpsTicker *t,
					const char *mult, Datum *values, bool *nulls)
{
	if (t->contract_size)
		mult = t->contract_size;
	fetch_set_text(values, nulls, 0, exchange);
	fetch_set_text(values, nulls, 1, symbol);
	fetch_set_ts(values, nulls, 2, t->ts_us);
	fetch_set_num(values, nulls, 3, t->last_price);
	fetch_set_num(values, nulls, 4, t->mark_price);
	fetch_set_num(values, nulls, 5, t->index_price);
	fetch_set_num(values, nulls, 6, t->best_bid_price);
	fetch_set_qty(values, nulls, 7, t->best_bid_qty, mult);
	fetch_set_num(values, nulls, 8, t->best_ask_price);
	fetch_set_qty(values, nulls, 9, t->best_ask_qty, mult);
	fetch_set_qty(values, nulls, 10, t->volume_24h, mult);
	fetch_set_num(values, nulls, 11, t->turnover_24h);
	fetch_set_qty(values, nulls, 12, t->open_interest, mult);
	fetch_set_num(values, nulls, 13, t->open_interest_notional);
	fetch_set_num(values, nulls, 14, t->price_change_24h);
	fetch_set_num(values, nulls, 15, t->price_change_pct);
	fetch_set_num(values, nulls, 16, t->high_24h);
	fetch_set_num(values, nulls, 17, t->low_24h);
}

/* Sets up venue, market and context for a one-market call. */
typedef struct FetchOne
{
	FetchVenue	v;
	FetchMarket mk;
	PerpsMarketRef ref;
	PerpsCtx	ctx;
	MemoryContext cxt;
	int64		since_us;		/* the range asked for (the query's moves while paging) */
	int64		until_us;
} FetchOne;

static void
fetch_one_init(FunctionCallInfo fcinfo, FetchOne *f)
{
	char	   *name = fetch_text_arg(fcinfo, 0, "exchange");
	char	   *symbol = fetch_text_arg(fcinfo, 1, "symbol");

	fetch_venue_load(name, &f->v, false);
	fetch_market_resolve(&f->v, symbol, &f->mk);
	f->ref.symbol = f->mk.symbol;
	f->ref.native_symbol = f->mk.native_symbol;
	f->ref.contract_size = f->mk.contract_size;
	f->cxt = fetch_cxt_create("perps fetch");
	f->since_us = f->until_us = PERPS_TS_NONE;
	fetch_ctx_init(&f->ctx, f->cxt);
}

PG_FUNCTION_INFO_V1(fetch_ticker);
Datum
fetch_ticker(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	PerpsResult res;
	TupleDesc	td = fetch_tupdesc(fcinfo);
	Datum		values[TICKER_NCOLS];
	bool		nulls[TICKER_NCOLS];
	const PerpsTicker *t = NULL;

	fetch_one_init(fcinfo, &f);
	q = fetch_query(&f.ref);
	fetch_run(&f.v, PERPS_M_TICKER, &q, &f.ctx, &res);
	for (int i = 0; i < res.n && t == NULL; i++)
		if (res.u.tickers[i].native_symbol == NULL ||
			strcmp(res.u.tickers[i].native_symbol, f.ref.native_symbol) == 0)
			t = &res.u.tickers[i];
	if (t == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s returned no ticker for %s", f.v.name, f.ref.native_symbol)));
	fetch_ticker_values(f.v.name, f.mk.symbol, t, res.qty_mult, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

PG_FUNCTION_INFO_V1(fetch_tickers);
Datum
fetch_tickers(PG_FUNCTION_ARGS)
{
	char	   *name = fetch_text_arg(fcinfo, 0, "exchange");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FetchVenue	v;
	PerpsCtx	ctx;
	PerpsResult res;
	PerpsQuery	q = fetch_query(NULL);
	MemoryContext cxt;
	char	  **natives = NULL;
	char	  **globals = NULL;
	int			nmarkets = 0;
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];

	fetch_venue_load(name, &v, false);
	InitMaterializedSRF(fcinfo, 0);

	/* native -> global symbols, from the markets table (loaded if empty) */
	for (int pass = 0; pass < 2 && nmarkets == 0; pass++)
	{
		MemoryContext outer = CurrentMemoryContext;

		if (pass == 1)
			fetch_refresh_as_owner(&v);
		args[0] = Int32GetDatum(v.id);
		SPI_connect();
		if (SPI_execute_with_args("SELECT native_symbol, symbol FROM perps_stats.markets WHERE exchange_id = $1",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed");
		nmarkets = (int) SPI_processed;
		natives = MemoryContextAlloc(outer, sizeof(char *) * Max(nmarkets, 1));
		globals = MemoryContextAlloc(outer, sizeof(char *) * Max(nmarkets, 1));
		for (int i = 0; i < nmarkets; i++)
		{
			natives[i] = MemoryContextStrdup(outer, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
			globals[i] = MemoryContextStrdup(outer, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
		}
		SPI_finish();
	}

	cxt = fetch_cxt_create("perps fetch");
	fetch_ctx_init(&ctx, cxt);
	fetch_run(&v, PERPS_M_TICKERS, &q, &ctx, &res);
	for (int i = 0; i < res.n; i++)
	{
		const PerpsTicker *t = &res.u.tickers[i];
		const char *global = NULL;
		Datum		values[TICKER_NCOLS];
		bool		nulls[TICKER_NCOLS];

		if (t->native_symbol == NULL)
			continue;
		for (int k = 0; k < nmarkets && global == NULL; k++)
			if (strcmp(natives[k], t->native_symbol) == 0)
				global = globals[k];
		if (global == NULL)
			continue;			/* not a market perps_stats knows */
		fetch_ticker_values(v.name, global, t, res.qty_mult, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

/* ---- order book ---- */

/*
 * One side as a 2-D numeric[] {{price,qty},...}: equal adjacent prices
 * merged, order checked, at most depth levels.
 */
Datum
perps_fetch_book_side(const char *venue, const PerpsLevel *lv, int n, bool bids,
					  const char *mult, int depth)
{
	Datum	   *elems;
	int			k = 0;
	int			dims[2];
	int			lbs[2] = {1, 1};

	if (n < 0)
		n = 0;
	elems = palloc(sizeof(Datum) * 2 * Max(Min(n, depth), 1));
	for (int i = 0; i < n; i++)
	{
		Datum		price;
		Datum		qty;
		Datum		vals[1];
		bool		nulls[1];

		if (lv[i].price == NULL || lv[i].qty == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("unexpected order book response from %s", venue),
					 errdetail("A level has no price or no quantity.")));
		price = fetch_num(lv[i].price);
		fetch_set_qty(vals, nulls, 0, lv[i].qty, mult);
		qty = vals[0];
		if (k > 0)
		{
			int			c = DatumGetInt32(DirectFunctionCall2(numeric_cmp, price, elems[2 * (k - 1)]));

			if (c == 0)
			{
				elems[2 * (k - 1) + 1] = DirectFunctionCall2(numeric_add, elems[2 * (k - 1) + 1], qty);
				continue;
			}
			if (bids ? c > 0 : c < 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("order book from %s is not sorted", venue),
						 errdetail("%s price %s follows %s.", bids ? "Bid" : "Ask", lv[i].price,
								   DatumGetCString(DirectFunctionCall1(numeric_out, elems[2 * (k - 1)])))));
		}
		if (k == depth)
			break;
		elems[2 * k] = price;
		elems[2 * k + 1] = qty;
		k++;
	}
	if (k == 0)
		return PointerGetDatum(construct_empty_array(NUMERICOID));
	dims[0] = k;
	dims[1] = 2;
	return PointerGetDatum(construct_md_array(elems, NULL, 2, dims, lbs, NUMERICOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(fetch_orderbook);
Datum
fetch_orderbook(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	PerpsResult res;
	TupleDesc	td = fetch_tupdesc(fcinfo);
	Datum		values[6];
	bool		nulls[6];
	int			depth = PG_ARGISNULL(2) ? 100 : PG_GETARG_INT32(2);
	const PerpsBook *b;

	if (depth < 1 || depth > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("depth must be between 1 and 100000")));
	fetch_one_init(fcinfo, &f);
	q = fetch_query(&f.ref);
	q.depth = depth;
	fetch_run(&f.v, PERPS_M_ORDERBOOK, &q, &f.ctx, &res);
	if (res.n < 1 || res.u.book == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s returned no order book for %s", f.v.name, f.ref.native_symbol)));
	b = res.u.book;
	fetch_set_text(values, nulls, 0, f.v.name);
	fetch_set_text(values, nulls, 1, f.mk.symbol);
	fetch_set_ts(values, nulls, 2, b->ts_us);
	values[3] = perps_fetch_book_side(f.v.name, b->bids, b->nbids, true, res.qty_mult, depth);
	values[4] = perps_fetch_book_side(f.v.name, b->asks, b->nasks, false, res.qty_mult, depth);
	nulls[3] = nulls[4] = false;
	values[5] = Int64GetDatum(b->seq);
	nulls[5] = !b->has_seq;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/* ---- funding, open interest ---- */

#define FUNDING_NCOLS 7

static void
fetch_funding_values(const char *exchange, const char *symbol, const PerpsFunding *fr,
					 Datum *values, bool *nulls)
{
	fetch_set_text(values, nulls, 0, exchange);
	fetch_set_text(values, nulls, 1, symbol);
	fetch_set_ts(values, nulls, 2, fr->funding_time_us);
	fetch_set_num(values, nulls, 3, fr->rate);
	fetch_set_num(values, nulls, 4, fr->predicted_rate);
	fetch_set_ts(values, nulls, 5, fr->next_funding_time_us);
	fetch_set_num(values, nulls, 6, fr->interval_hours);
}

PG_FUNCTION_INFO_V1(fetch_funding_rate);
Datum
fetch_funding_rate(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	PerpsResult res;
	TupleDesc	td = fetch_tupdesc(fcinfo);
	Datum		values[FUNDING_NCOLS];
	bool		nulls[FUNDING_NCOLS];

	fetch_one_init(fcinfo, &f);
	q = fetch_query(&f.ref);
	fetch_run(&f.v, PERPS_M_FUNDING, &q, &f.ctx, &res);
	if (res.n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s returned no funding rate for %s", f.v.name, f.ref.native_symbol)));
	fetch_funding_values(f.v.name, f.mk.symbol, &res.u.funding[0], values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

PG_FUNCTION_INFO_V1(fetch_open_interest);
Datum
fetch_open_interest(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	PerpsResult res;
	TupleDesc	td = fetch_tupdesc(fcinfo);
	Datum		values[5];
	bool		nulls[5];

	fetch_one_init(fcinfo, &f);
	q = fetch_query(&f.ref);
	fetch_run(&f.v, PERPS_M_OPEN_INTEREST, &q, &f.ctx, &res);
	if (res.n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s returned no open interest for %s", f.v.name, f.ref.native_symbol)));
	fetch_set_text(values, nulls, 0, f.v.name);
	fetch_set_text(values, nulls, 1, f.mk.symbol);
	fetch_set_ts(values, nulls, 2, res.u.oi[0].ts_us);
	fetch_set_qty(values, nulls, 3, res.u.oi[0].open_interest, res.qty_mult);
	fetch_set_num(values, nulls, 4, res.u.oi[0].open_interest_notional);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/* ---- history: funding, klines, trades ---- */

typedef int (*FetchEmit) (FunctionCallInfo fcinfo, FetchOne *f, const PerpsResult *res, int i,
						  const PerpsQuery *q);

/*
 * Pages through a history method.  Without since and max_rows, one page of
 * the venue's default size (ending at until when given); otherwise pages of
 * the venue's largest size until the range is covered or max_rows rows were
 * returned.
 */
static void
fetch_history(FunctionCallInfo fcinfo, FetchOne *f, PerpsMethod m, PerpsQuery *q,
			  int page_max, int64 max_rows, FetchEmit emit)
{
	/* without since nor max_rows, paging back from until could walk all history */
	bool		one_page = (q->since_us == PERPS_TS_NONE && max_rows < 0);
	int64		remaining = max_rows < 0 ? FETCH_MAX_ROWS : max_rows;
	MemoryContext page_cxt = AllocSetContextCreate(f->cxt, "perps fetch page", ALLOCSET_DEFAULT_SIZES);
	char	   *cursor = NULL;

	for (int page = 0; page < FETCH_MAX_PAGES && remaining > 0; page++)
	{
		PerpsResult res;
		MemoryContext old;
		int64		prev_since = q->since_us;
		int64		prev_until = q->until_us;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(page_cxt);
		fetch_ctx_init(&f->ctx, page_cxt);
		if (one_page)
			q->limit = 0;
		else
			q->limit = (int) Min(remaining, (int64) (page_max > 0 ? page_max : INT_MAX));
		q->cursor = cursor;

		old = MemoryContextSwitchTo(page_cxt);
		fetch_run(&f->v, m, q, &f->ctx, &res);
		MemoryContextSwitchTo(old);

		for (int i = 0; i < res.n && remaining > 0; i++)
			remaining -= emit(fcinfo, f, &res, i, q);

		/* an empty page ends the walk, unless the venue moves on in time (a quiet window) */
		if (one_page || !res.has_more || (res.n == 0 && res.next_since_us == PERPS_TS_NONE))
			break;
		if (res.next_since_us != PERPS_TS_NONE)
		{
			if (prev_since != PERPS_TS_NONE && res.next_since_us <= prev_since)
				break;			/* no progress: the venue repeats itself */
			if (q->until_us != PERPS_TS_NONE && res.next_since_us > q->until_us)
				break;
			q->since_us = res.next_since_us;
			cursor = NULL;		/* a new time window starts afresh */
		}
		else if (res.next_until_us != PERPS_TS_NONE)
		{
			if (prev_until != PERPS_TS_NONE && res.next_until_us >= prev_until)
				break;
			if (q->since_us != PERPS_TS_NONE && res.next_until_us < q->since_us)
				break;
			q->until_us = res.next_until_us;
		}
		else if (res.next_cursor != NULL)
		{
			if (cursor && strcmp(cursor, res.next_cursor) == 0)
				break;
			cursor = MemoryContextStrdup(f->cxt, res.next_cursor);
		}
		else
			break;
	}
	MemoryContextDelete(page_cxt);
}

static bool
fetch_in_asked_range(const FetchOne *f, int64 t)
{
	if (f->since_us != PERPS_TS_NONE && t < f->since_us)
		return false;
	if (f->until_us != PERPS_TS_NONE && t > f->until_us)
		return false;
	return true;
}

static int
fetch_emit_funding(FunctionCallInfo fcinfo, FetchOne *f, const PerpsResult *res, int i, const PerpsQuery *q)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[FUNDING_NCOLS];
	bool		nulls[FUNDING_NCOLS];

	if (!fetch_in_asked_range(f, res->u.funding[i].funding_time_us))
		return 0;
	fetch_funding_values(f->v.name, f->mk.symbol, &res->u.funding[i], values, nulls);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return 1;
}

static int64
fetch_max_rows_arg(FunctionCallInfo fcinfo, int n)
{
	int32		v;

	if (PG_ARGISNULL(n))
		return -1;
	v = PG_GETARG_INT32(n);
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows must not be negative")));
	return v;
}

PG_FUNCTION_INFO_V1(fetch_funding_history);
Datum
fetch_funding_history(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	int64		max_rows = fetch_max_rows_arg(fcinfo, 4);

	fetch_one_init(fcinfo, &f);
	q = fetch_query(&f.ref);
	q.since_us = f.since_us = fetch_ts_arg(fcinfo, 2);
	q.until_us = f.until_us = fetch_ts_arg(fcinfo, 3);
	InitMaterializedSRF(fcinfo, 0);
	fetch_history(fcinfo, &f, PERPS_M_FUNDING_HISTORY, &q, f.v.ad->max_funding_page, max_rows,
				  fetch_emit_funding);
	MemoryContextDelete(f.cxt);
	return (Datum) 0;
}

static int
fetch_emit_kline(FunctionCallInfo fcinfo, FetchOne *f, const PerpsResult *res, int i, const PerpsQuery *q)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const PerpsKline *k = &res->u.klines[i];
	Datum		values[9];
	bool		nulls[9];

	if (!fetch_in_asked_range(f, k->open_time_us))
		return 0;
	fetch_set_ts(values, nulls, 0, k->open_time_us);
	fetch_set_ts(values, nulls, 1, k->close_time_us);
	fetch_set_num(values, nulls, 2, k->open);
	fetch_set_num(values, nulls, 3, k->high);
	fetch_set_num(values, nulls, 4, k->low);
	fetch_set_num(values, nulls, 5, k->close);
	fetch_set_qty(values, nulls, 6, k->volume, res->qty_mult);
	fetch_set_num(values, nulls, 7, k->turnover);
	values[8] = Int64GetDatum(k->trade_count);
	nulls[8] = k->trade_count < 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return 1;
}

PG_FUNCTION_INFO_V1(fetch_klines);
Datum
fetch_klines(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	char	   *interval = fetch_text_arg(fcinfo, 2, "interval");
	int64		max_rows = fetch_max_rows_arg(fcinfo, 5);

	if (perps_interval_seconds(interval) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unsupported kline interval \"%s\"", interval),
				 errhint("The intervals are 1m, 5m, 15m, 30m, 1h, 4h and 1d.")));
	fetch_one_init(fcinfo, &f);
	q = fetch_query(&f.ref);
	q.interval = interval;
	q.since_us = f.since_us = fetch_ts_arg(fcinfo, 3);
	q.until_us = f.until_us = fetch_ts_arg(fcinfo, 4);
	InitMaterializedSRF(fcinfo, 0);
	fetch_history(fcinfo, &f, PERPS_M_KLINES, &q, f.v.ad->max_kline_page, max_rows, fetch_emit_kline);
	MemoryContextDelete(f.cxt);
	return (Datum) 0;
}

static int
fetch_emit_trade(FunctionCallInfo fcinfo, FetchOne *f, const PerpsResult *res, int i, const PerpsQuery *q)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const PerpsTrade *t = &res->u.trades[i];
	Datum		values[5];
	bool		nulls[5];

	if (!fetch_in_asked_range(f, t->ts_us))
		return 0;
	fetch_set_text(values, nulls, 0, t->trade_id);
	fetch_set_ts(values, nulls, 1, t->ts_us);
	fetch_set_num(values, nulls, 2, t->price);
	fetch_set_qty(values, nulls, 3, t->qty, res->qty_mult);
	fetch_set_text(values, nulls, 4, t->is_buy ? "buy" : "sell");
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return 1;
}

/*
 * fetch_trades(exchange, symbol, max_rows default 100): the most recent
 * trades; fetch_trades(exchange, symbol, since, until default NULL,
 * max_rows default NULL): the trade history of [since, until] (until NULL:
 * now), oldest or newest first as the venue pages, on venues that serve it
 * (PerpsAdapter.no_trades_history says why the others do not).
 */
PG_FUNCTION_INFO_V1(fetch_trades);
Datum
fetch_trades(PG_FUNCTION_ARGS)
{
	FetchOne	f;
	PerpsQuery	q;
	bool		ranged = PG_NARGS() >= 5;
	int64		max_rows = fetch_max_rows_arg(fcinfo, ranged ? 4 : 2);

	if (ranged && PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("since must not be null"),
				 errhint("Without a time range, fetch_trades(exchange, symbol, max_rows) returns the most recent trades.")));
	fetch_one_init(fcinfo, &f);
	q = fetch_query(&f.ref);
	if (ranged)
	{
		q.since_us = f.since_us = fetch_ts_arg(fcinfo, 2);
		q.until_us = f.until_us = PG_ARGISNULL(3)
			? GetCurrentTimestamp() + FETCH_UNIX_EPOCH_US
			: fetch_ts_arg(fcinfo, 3);
		if (q.until_us < q.since_us)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("since must not be later than until")));
		if (f.v.ad->no_trades_history != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s serves no trade history over a time range", f.v.name),
					 errdetail("%s", f.v.ad->no_trades_history),
					 errhint("fetch_trades(exchange, symbol, max_rows) returns its most recent trades; the stream workers collect trades as they happen.")));
	}
	InitMaterializedSRF(fcinfo, 0);
	if (max_rows != 0)
		fetch_history(fcinfo, &f, PERPS_M_TRADES, &q, f.v.ad->max_trades_page, max_rows,
					  fetch_emit_trade);
	MemoryContextDelete(f.cxt);
	return (Datum) 0;
}

/* ---- for C callers (fetch.h) ---- */

Datum
perps_fetch_numeric(const char *dec)
{
	return fetch_num(dec);
}

Datum
perps_fetch_qty(const char *dec, const char *mult)
{
	Datum		v[1];
	bool		n[1];

	fetch_set_qty(v, n, 0, dec, mult);
	return v[0];
}

Datum
perps_fetch_timestamptz(int64 us)
{
	return fetch_ts_datum(us);
}

ErrorData *
perps_run_guarded(void (*fn) (void *arg), void *arg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
	}
	PG_END_TRY();
	return edata;
}

typedef struct FetchResolveArgs
{
	PerpsFetchJob *job;
	FetchVenue *v;
	FetchMarket *mk;
} FetchResolveArgs;

static void
fetch_job_resolve_step(void *arg)
{
	FetchResolveArgs *a = arg;

	fetch_venue_load(a->job->exchange, a->v, false);
	if (a->job->symbol)
		fetch_market_resolve(a->v, a->job->symbol, a->mk);
}

/*
 * Resolves a job's venue and market in a subtransaction, so that an error
 * (an unknown venue or market, a failed markets refresh) is recorded for
 * that job only.
 */
static bool
fetch_job_resolve(PerpsFetchJob *job, FetchVenue *v, FetchMarket *mk, FetchError *err)
{
	FetchResolveArgs a = {job, v, mk};
	ErrorData  *ed = perps_run_guarded(fetch_job_resolve_step, &a);

	if (ed == NULL)
		return true;
	fetch_error_set(err, ed->sqlerrcode, ed->message, ed->detail);
	err->hint = ed->hint;
	return false;
}

/* perps_stats.markets.id of a market, 0 when not listed */
static int
fetch_market_id(int exchange_id, const char *symbol)
{
	Oid			argtypes[2] = {INT4OID, TEXTOID};
	Datum		args[2];
	int			id = 0;

	args[0] = Int32GetDatum(exchange_id);
	args[1] = CStringGetTextDatum(symbol);
	SPI_connect();
	if (SPI_execute_with_args("SELECT id FROM perps_stats.markets WHERE exchange_id = $1 AND symbol = $2",
							  2, argtypes, args, NULL, false, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;

		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	return id;
}

void
perps_fetch_many(PerpsFetchJob *jobs, int njobs)
{
	FetchRound *rs = palloc0(sizeof(FetchRound) * Max(njobs, 1));

	for (int i = 0; i < njobs; i++)
	{
		PerpsFetchJob *job = &jobs[i];
		FetchVenue *v = palloc0(sizeof(FetchVenue));
		FetchMarket *mk = palloc0(sizeof(FetchMarket));
		PerpsMarketRef *ref = palloc0(sizeof(PerpsMarketRef));
		PerpsQuery *q = palloc0(sizeof(PerpsQuery));
		PerpsCtx   *ctx = palloc0(sizeof(PerpsCtx));

		job->ok = false;
		job->exchange_id = job->market_id = 0;
		job->global_symbol = job->native_symbol = NULL;
		job->sqlstate = 0;
		job->errmsg = job->errdetail = NULL;
		memset(&job->result, 0, sizeof(job->result));

		rs[i].v = v;
		rs[i].m = job->method;
		rs[i].q = q;
		rs[i].ctx = ctx;
		rs[i].out = &job->result;
		fetch_ctx_init(ctx, CurrentMemoryContext);
		*q = fetch_query(NULL);

		/* a venue that could not be resolved (or refreshed) fails all its jobs at once */
		for (int k = 0; k < i; k++)
			if (rs[k].err.sqlstate != 0 && rs[k].err.sqlstate != ERRCODE_UNDEFINED_OBJECT &&
				rs[k].n == 0 && jobs[k].exchange_id == 0 && jobs[k].exchange && job->exchange &&
				strcmp(jobs[k].exchange, job->exchange) == 0)
			{
				rs[i].err = rs[k].err;
				break;
			}
		if (rs[i].err.sqlstate != 0)
			continue;
		if (!fetch_job_resolve(job, v, mk, &rs[i].err))
			continue;
		job->exchange_id = v->id;
		if (job->symbol)
		{
			ref->symbol = job->global_symbol = mk->symbol;
			ref->native_symbol = job->native_symbol = mk->native_symbol;
			ref->contract_size = mk->contract_size;
			q->market = ref;
			job->market_id = fetch_market_id(v->id, mk->symbol);
		}
		q->depth = job->depth > 0 ? job->depth : 100;
		q->interval = job->interval;
		q->since_us = job->since_us;
		q->until_us = job->until_us;
		q->limit = job->limit;
		q->cursor = job->cursor;
	}

	fetch_rounds_run(rs, njobs);

	for (int i = 0; i < njobs; i++)
	{
		PerpsFetchJob *job = &jobs[i];

		job->ok = rs[i].err.sqlstate == 0;
		job->sqlstate = rs[i].err.sqlstate;
		job->errmsg = rs[i].err.msg;
		job->errdetail = rs[i].err.detail;
	}
}

static bool
fetch_method_by_name(const char *name, PerpsMethod *m)
{
	static const struct
	{
		const char *name;
		PerpsMethod m;
	}			methods[] = {
		{"markets", PERPS_M_MARKETS}, {"ticker", PERPS_M_TICKER}, {"tickers", PERPS_M_TICKERS},
		{"orderbook", PERPS_M_ORDERBOOK}, {"funding_rate", PERPS_M_FUNDING},
		{"funding_history", PERPS_M_FUNDING_HISTORY}, {"open_interest", PERPS_M_OPEN_INTEREST},
		{"klines", PERPS_M_KLINES}, {"trades", PERPS_M_TRADES},
	};

	for (size_t i = 0; i < lengthof(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
		{
			*m = methods[i].m;
			return true;
		}
	return false;
}

/*
 * perps_stats._fetch_many(exchanges text[], symbols text[], methods text[])
 * runs the jobs (one per array position) through perps_fetch_many and
 * reports, per job, whether it succeeded, the rows it got, or its error:
 * the way to see from SQL what collect() gets from the HTTP layer.
 */
PG_FUNCTION_INFO_V1(perps_fetch_many_sql);
Datum
perps_fetch_many_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *ex;
	Datum	   *sy;
	Datum	   *me;
	bool	   *exn;
	bool	   *syn;
	bool	   *men;
	int			nex;
	int			nsy;
	int			nme;
	PerpsFetchJob *jobs;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("arguments must not be null")));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT, &ex, &exn, &nex);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT, &sy, &syn, &nsy);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT, &me, &men, &nme);
	if (nex != nsy || nex != nme)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("exchanges, symbols and methods must have the same length")));
	jobs = palloc0(sizeof(PerpsFetchJob) * Max(nex, 1));
	for (int i = 0; i < nex; i++)
	{
		char	   *mname;

		if (exn[i] || men[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("exchange and method must not be null")));
		jobs[i].exchange = TextDatumGetCString(ex[i]);
		jobs[i].symbol = syn[i] ? NULL : TextDatumGetCString(sy[i]);
		mname = TextDatumGetCString(me[i]);
		if (!fetch_method_by_name(mname, &jobs[i].method))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown method \"%s\"", mname)));
		jobs[i].interval = "1m";
		jobs[i].since_us = jobs[i].until_us = PERPS_TS_NONE;
	}
	InitMaterializedSRF(fcinfo, 0);
	perps_fetch_many(jobs, nex);
	for (int i = 0; i < nex; i++)
	{
		Datum		values[7];
		bool		nulls[7];

		fetch_set_text(values, nulls, 0, jobs[i].exchange);
		fetch_set_text(values, nulls, 1, jobs[i].global_symbol ? jobs[i].global_symbol : jobs[i].symbol);
		fetch_set_text(values, nulls, 2, perps_method_names[jobs[i].method]);
		values[3] = BoolGetDatum(jobs[i].ok);
		nulls[3] = false;
		values[4] = Int32GetDatum(jobs[i].result.n);
		nulls[4] = !jobs[i].ok;
		fetch_set_text(values, nulls, 5, jobs[i].ok ? NULL : unpack_sql_state(jobs[i].sqlstate));
		fetch_set_text(values, nulls, 6, jobs[i].errmsg);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
