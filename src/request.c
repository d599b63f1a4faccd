/*-------------------------------------------------------------------------
 *
 * request.c
 *		Requests to the venues: resolve the venue and the market, let the
 *		venue's adapter build its requests, run any number of them together
 *		through the HTTP layer (each venue within its rate limit, identical
 *		requests sent once), let the adapter parse the bodies.  The fetch_*
 *		functions, collect(), the stream workers' REST calls and the
 *		backfill all request through here (see request.h).
 *
 * Nothing here knows a venue: every venue-specific fact is in its adapter.
 *
 * Memory: an adapter's arena allocates in the context given to
 * perps_request_ctx_init, with MCXT_ALLOC_NO_OOM (an adapter never
 * longjmps); results and messages live there.
 *
 * Snapshots: look-ups run with read_only = false so that they see the
 * markets a refresh earlier in the same call wrote.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "perps_pg.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "convert.h"
#include "guard.h"
#include "http.h"
#include "request.h"

/* ---- arena for the adapters ---- */

static void *
request_arena_alloc(void *state, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) state, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

void
perps_request_ctx_init(PerpsCtx *ctx, MemoryContext cxt)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->arena.alloc = request_arena_alloc;
	ctx->arena.state = cxt;
	ctx->status = PERPS_OK;
}

/* ---- errors ---- */


void
perps_fetch_error_set(PerpsFetchError *e, int sqlstate, char *msg, char *detail)
{
	if (e->sqlstate != 0)
		return;					/* the first error wins */
	e->sqlstate = sqlstate;
	e->msg = msg;
	e->detail = detail;
}

void
perps_fetch_error_raise(const PerpsFetchError *e)
{
	ereport(ERROR,
			(errcode(e->sqlstate),
			 errmsg_internal("%s", e->msg),
			 e->detail ? errdetail_internal("%s", e->detail) : 0,
			 e->hint ? errhint("%s", e->hint) : 0));
}

static void
request_status_error(const char *venue, PerpsMethod m, const PerpsCtx *ctx, PerpsStatus st, PerpsFetchError *e)
{
	const char *method = perps_method_names[m];
	const char *msg = ctx->errmsg[0] ? ctx->errmsg : "no details";

	switch (st)
	{
		case PERPS_UNSUPPORTED:
			perps_fetch_error_set(e, ERRCODE_FEATURE_NOT_SUPPORTED,
							psprintf("%s has no public endpoint for %s", venue, method),
							ctx->errmsg[0] ? pstrdup(ctx->errmsg) : NULL);
			break;
		case PERPS_ERR_JSON:
			perps_fetch_error_set(e, ERRCODE_INVALID_JSON_TEXT,
							psprintf("could not parse the %s response of %s", method, venue),
							pstrdup(msg));
			break;
		case PERPS_ERR_SHAPE:
			perps_fetch_error_set(e, ERRCODE_DATA_EXCEPTION,
							psprintf("unexpected %s response from %s", method, venue),
							pstrdup(msg));
			break;
		case PERPS_ERR_VENUE:
			perps_fetch_error_set(e, ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
							psprintf("%s refused the %s request", venue, method),
							psprintf("%s says: %s", venue, msg));
			break;
		case PERPS_ERR_NOT_FOUND:
			perps_fetch_error_set(e, ERRCODE_UNDEFINED_OBJECT,
							psprintf("%s did not return the market asked for", venue),
							pstrdup(msg));
			break;
		case PERPS_ERR_ARG:
			perps_fetch_error_set(e, ERRCODE_INVALID_PARAMETER_VALUE,
							psprintf("%s cannot take this %s request", venue, method),
							pstrdup(msg));
			break;
		case PERPS_ERR_NOMEM:
			perps_fetch_error_set(e, ERRCODE_OUT_OF_MEMORY,
							psprintf("out of memory parsing the %s response of %s", method, venue),
							NULL);
			break;
		default:
			perps_fetch_error_set(e, ERRCODE_INTERNAL_ERROR,
							psprintf("adapter %s returned unknown status %d", venue, (int) st),
							NULL);
	}
}

/* ---- SPI look-ups ---- */

bool
perps_venue_load(const char *name, PerpsVenue *v, bool missing_ok)
{
	MemoryContext outer = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		found = false;
	int			rc;

	args[0] = CStringGetTextDatum(name);
	SPI_connect();
	/*
	 * The row's adapter (NULL: the one named like the venue) and its
	 * parameter.  Venues served by one adapter are one API behind one IP
	 * limit (Hyperliquid's HIP-3 DEXes and its main DEX: 1200 a minute
	 * for all of /info), so they share one rate-limit account, keyed by
	 * the adapter's name (request_rounds_run); its limit is the one set on
	 * the row named like the adapter, so that every venue of the account
	 * asks for the same figures (an account whose limit changes starts
	 * over, see ratelimit.c).  Not keyed by the host: the tests point
	 * every venue at one mock host.
	 */
	rc = SPI_execute_with_args("SELECT e.id::int, e.rest_url, "
							   "  CASE WHEN a.id IS NULL THEN e.rate_limit_weight ELSE a.rate_limit_weight END, "
							   "  CASE WHEN a.id IS NULL THEN e.rate_limit_window_ms ELSE a.rate_limit_window_ms END, "
							   "  coalesce(e.adapter, e.name), e.adapter_param, e.aux_url "
							   "FROM perps_stats.exchanges e "
							   "LEFT JOIN perps_stats.exchanges a ON a.name = coalesce(e.adapter, e.name) "
							   "WHERE e.name = $1",
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
		v->ad = perps_adapter_find(TextDatumGetCString(SPI_getbinval(tup, td, 5, &isnull)));
		d = SPI_getbinval(tup, td, 6, &isnull);
		v->param = isnull ? NULL : MemoryContextStrdup(outer, TextDatumGetCString(d));
		d = SPI_getbinval(tup, td, 7, &isnull);
		v->aux_url = isnull ? NULL : MemoryContextStrdup(outer, TextDatumGetCString(d));
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

/*
 * Column col of tup, a text[] of the market's book steps (NULL: none),
 * into mk in cxt.  At most PERPS_MAX_BOOK_RESOLUTIONS are kept (the most
 * any adapter asks for); a NULL element ends the list.
 */
static void
request_book_steps(HeapTuple tup, TupleDesc td, int col, MemoryContext cxt, PerpsVenueMarket *mk)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, td, col, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	mk->book_steps = NULL;
	mk->nbook_steps = 0;
	if (isnull)
		return;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n < 1)
		return;
	n = Min(n, PERPS_MAX_BOOK_RESOLUTIONS);
	mk->book_steps = MemoryContextAllocZero(cxt, sizeof(char *) * n);
	for (int k = 0; k < n && !nulls[k]; k++)
	{
		mk->book_steps[k] = MemoryContextStrdup(cxt, TextDatumGetCString(elems[k]));
		mk->nbook_steps = k + 1;
	}
}

static bool
request_market_lookup(const PerpsVenue *v, const char *symbol, PerpsVenueMarket *mk)
{
	MemoryContext outer = CurrentMemoryContext;
	Oid			argtypes[2] = {INT4OID, TEXTOID};
	Datum		args[2];
	bool		found = false;
	int			rc;

	args[0] = Int32GetDatum(v->id);
	args[1] = CStringGetTextDatum(symbol);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT symbol, native_symbol, contract_size::text, book_steps::text[] "
							   "FROM perps_stats.markets WHERE exchange_id = $1 AND symbol = $2",
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
		request_book_steps(tup, td, 4, outer, mk);
	}
	SPI_finish();
	return found;
}

/*
 * The names of the resolutions of a market's book: see request.h.  The
 * market is looked up as it is (no refresh: a market not listed yet has
 * unknown steps, so one book).
 */
const char *const *
perps_market_book_labels(const PerpsVenue *v, const char *symbol, int *nres)
{
	PerpsVenueMarket mk = {0};
	PerpsMarketRef ref = {0};
	const char **labels;

	*nres = 1;
	if (v->ad == NULL)
		return NULL;
	if (v->ad->book_step_param == NULL)
	{
		*nres = perps_book_resolutions(v->ad);
		return v->ad->book_resolutions;
	}
	if (!request_market_lookup(v, symbol, &mk) || mk.nbook_steps < 1)
		return NULL;
	ref.book_steps = (const char *const *) mk.book_steps;
	ref.nbook_steps = mk.nbook_steps;
	*nres = perps_market_book_resolutions(v->ad, &ref);
	labels = palloc0(sizeof(char *) * (*nres + 1));
	for (int k = 0; k < *nres; k++)
	{
		char		buf[PERPS_BOOK_LABEL_MAX];
		const char *l = perps_book_label(v->ad, &ref, k, buf, sizeof(buf));

		labels[k] = l ? pstrdup(l) : NULL;
	}
	return labels;
}

static void
request_refresh_step(void *arg)
{
	(void) perps_refresh_markets((const PerpsVenue *) arg);
}

/*
 * Refreshes a venue's markets with the owner's rights: a caller allowed to
 * fetch (perps_collector) need not be allowed to write perps_stats.markets.
 */
void
perps_refresh_markets_as_owner(const PerpsVenue *v)
{
	perps_run_as_owner(request_refresh_step, (void *) v);
}


static void request_market_resolve(const PerpsVenue *v, const char *symbol, PerpsVenueMarket *mk,
								   bool may_refresh);

/*
 * The venue's reference for a global symbol: from perps_stats.markets;
 * else from the adapter's naming rule; else (or when the adapter needs the
 * markets list) after refreshing the markets from the venue.
 */
void
perps_market_resolve(const PerpsVenue *v, const char *symbol, PerpsVenueMarket *mk)
{
	request_market_resolve(v, symbol, mk, true);
}

static void
request_market_resolve(const PerpsVenue *v, const char *symbol, PerpsVenueMarket *mk, bool may_refresh)
{
	char		buf[128];

	if (request_market_lookup(v, symbol, mk))
		return;
	/*
	 * A venue with a parameter is one part of its adapter's API (a HIP-3
	 * DEX): the naming rule knows the API's plain names only, so its
	 * markets come from its own list.
	 */
	if (v->param == NULL && !v->ad->needs_markets && v->ad->native_symbol &&
		v->ad->native_symbol(symbol, buf, sizeof(buf)))
	{
		mk->symbol = pstrdup(symbol);
		mk->native_symbol = pstrdup(buf);
		mk->contract_size = NULL;
		mk->book_steps = NULL;
		mk->nbook_steps = 0;
		return;
	}
	if (may_refresh)
	{
		perps_refresh_markets_as_owner(v);
		if (request_market_lookup(v, symbol, mk))
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("%s has no market \"%s\"", v->name, symbol),
			 errhint("Symbols are global base assets such as BTC; perps_stats.markets lists the known ones.")));
}

/* ---- adapter rounds: build, HTTP (all rounds together), parse ---- */

typedef struct RequestRound
{
	/* in */
	const PerpsVenue *v;
	PerpsMethod m;
	const PerpsQuery *q;		/* the caller's; then &query */
	PerpsCtx   *ctx;			/* arena of the results */
	PerpsResult *out;
	bool		held;			/* its calls wait for perps_fetch_release */
	/* work */
	PerpsQuery	query;			/* the caller's query with the venue's parameter */
	PerpsRequest reqs[PERPS_MAX_REQUESTS];
	PerpsHttpCall *calls;		/* n calls, in the array perps_http_run ran */
	int			n;
	/* out */
	PerpsFetchError	err;
} RequestRound;

static bool
request_round_build(RequestRound *r)
{
	/* every query of a venue carries its parameter, whoever made the query */
	r->query = *r->q;
	r->query.param = r->v->param;
	r->q = &r->query;
	memset(r->reqs, 0, sizeof(r->reqs));
	memset(r->out, 0, sizeof(*r->out));
	r->out->next_since_us = r->out->next_until_us = PERPS_TS_NONE;
	r->n = perps_adapter_build(r->v->ad, r->ctx, r->m, r->q, r->reqs);
	if (r->n < 0)
	{
		request_status_error(r->v->name, r->m, r->ctx, (PerpsStatus) r->n, &r->err);
		r->n = 0;
		return false;
	}
	if (r->n == 0 || r->n > PERPS_MAX_REQUESTS)
		elog(ERROR, "adapter %s built %d requests for %s", r->v->name, r->n, perps_method_names[r->m]);
	for (int i = 0; i < r->n; i++)
	{
		r->reqs[i].path[PERPS_PATH_MAX - 1] = '\0';
		if (r->reqs[i].aux && r->v->aux_url == NULL)
		{
			perps_fetch_error_set(&r->err, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
								  psprintf("exchange \"%s\" has no aux_url", r->v->name),
								  psprintf("Its adapter asks %s from the venue's second host, "
										   "perps_stats.exchanges.aux_url.",
										   perps_method_names[r->m]));
			r->n = 0;
			return false;
		}
	}
	return true;
}

static void
request_round_finish(RequestRound *r)
{
	PerpsBody	bodies[PERPS_MAX_REQUESTS];
	PerpsStatus st;
	const PerpsVenue *v = r->v;

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

				perps_request_ctx_init(&ectx, (MemoryContext) r->ctx->arena.state);
				memset(&tmp, 0, sizeof(tmp));
				(void) perps_adapter_parse(v->ad, &ectx, r->m, r->q, bodies, r->n, &tmp);
				if (ectx.status == PERPS_ERR_VENUE)
					venue_msg = pstrdup(ectx.errmsg);
			}
			perps_fetch_error_set(&r->err, r->calls[i].sqlstate,
							pstrdup(r->calls[i].errmsg ? r->calls[i].errmsg : "HTTP request failed"),
							perps_http_detail(&r->calls[i], venue_msg));
			return;
		}
	}

	st = perps_adapter_parse(v->ad, r->ctx, r->m, r->q, bodies, r->n, r->out);
	if (st == PERPS_OK && r->ctx->status != PERPS_OK)
		st = r->ctx->status;
	if (st == PERPS_OK && r->out->n < 0)
		elog(ERROR, "adapter %s returned %d rows", v->name, r->out->n);
	if (st != PERPS_OK)
	{
		request_status_error(v->name, r->m, r->ctx, st, &r->err);
		r->out->n = 0;
		return;
	}
	/* hostile times: the whole answer is refused (convert.h) */
	r->out->method = r->m;
	{
		int64		bad = perps_result_bad_time(r->out, perps_unix_now_us());

		if (bad != PERPS_TS_NONE)
		{
			perps_fetch_error_set(&r->err, ERRCODE_DATETIME_VALUE_OUT_OF_RANGE,
								  psprintf("%s sent a %s time outside 2009-01-01 .. now + 1 day",
										   v->name, perps_method_names[r->m]),
								  psprintf("The time was %lld microseconds since 1970; the answer is refused.",
										   (long long) bad));
			r->out->n = 0;
		}
	}
}

/* Same request: same venue URL, method, path and body. */
static bool
request_same(const PerpsHttpCall *a, const PerpsHttpCall *b)
{
	if (a->req->post != b->req->post || strcmp(a->base_url, b->base_url) != 0 ||
		strcmp(a->req->path, b->req->path) != 0)
		return false;
	if (a->req->body == NULL || b->req->body == NULL)
		return a->req->body == b->req->body;
	return strcmp(a->req->body, b->req->body) == 0;
}

/*
 * The calls of the accounts their rate limits hold back go first: an
 * account whose requests in this run weigh more than its window allows
 * can only go a window at a time, so the sooner its first requests leave,
 * the sooner the run ends; the calls that fit at once go after them.
 * Pressure is the weight asked over the weight allowed (compared as
 * cross products, in integers); ties keep their order, so within an
 * account the calls leave as built.
 */
typedef struct RequestOrder
{
	int			index;
	int64		asked;			/* the account's weight asked in this run */
	int64		allowed;		/* its limit's weight per window; 0: no pressure */
} RequestOrder;

static bool
request_order_pressed(const RequestOrder *o)
{
	return o->allowed > 0 && o->asked > o->allowed;
}

static int
request_order_cmp(const void *a, const void *b)
{
	const RequestOrder *x = a;
	const RequestOrder *y = b;
	bool		px = request_order_pressed(x);
	bool		py = request_order_pressed(y);

	if (px != py)
		return px ? -1 : 1;
	if (px && x->asked * y->allowed != y->asked * x->allowed)
		return x->asked * y->allowed > y->asked * x->allowed ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* Reorders d (n distinct calls) by request_order_cmp; slot[] (nslots) follows. */
static void
request_order_by_pressure(PerpsHttpCall *d, int n, int *slot, int nslots)
{
	RequestOrder *o;
	PerpsHttpCall *sorted;
	int		   *newpos;

	if (n < 2)
		return;
	o = palloc(sizeof(RequestOrder) * n);
	sorted = palloc(sizeof(PerpsHttpCall) * n);
	newpos = palloc(sizeof(int) * n);
	for (int i = 0; i < n; i++)
	{
		const char *acc = d[i].rate_account ? d[i].rate_account : d[i].venue;
		int64		asked = 0;

		for (int j = 0; j < n; j++)
			if (strcmp(acc, d[j].rate_account ? d[j].rate_account : d[j].venue) == 0)
				asked += d[j].req->weight > 0 ? d[j].req->weight : 1;
		o[i].index = i;
		o[i].asked = asked;
		o[i].allowed = Max(d[i].limit.weight, 0);
	}
	qsort(o, n, sizeof(RequestOrder), request_order_cmp);
	for (int k = 0; k < n; k++)
	{
		sorted[k] = d[o[k].index];
		newpos[o[k].index] = k;
	}
	memcpy(d, sorted, sizeof(PerpsHttpCall) * n);
	for (int i = 0; i < nslots; i++)
		slot[i] = newpos[slot[i]];
	pfree(o);
	pfree(sorted);
	pfree(newpos);
}

/*
 * Runs the calls, each distinct request once: a batch often asks the same
 * thing for several markets or kinds (a venue whose one endpoint answers
 * for all its markets), and asking it once keeps the venue's rate limit
 * for the requests that differ.  The duplicates share the answer, which
 * the parsers only read.
 */
/* the rounds of a run, told as their last call ends (request_rounds_run) */
typedef struct RequestRun
{
	RequestRound *rs;
	int			nrounds;
	int		   *round_of;		/* per call: its round */
	int		   *pending;		/* per round: calls not ended */
	PerpsHttpCall *calls;
	PerpsHttpCall *distinct;
	int		   *slot;			/* per call: its distinct call */
	int		   *users;			/* per distinct call: its calls, users[ustart[d] .. ustart[d + 1]) */
	int		   *ustart;
	void		(*on_round) (RequestRound *r, int i, void *arg);
	void	   *arg;
} RequestRun;

/* A distinct call ended: its calls take its answer; a round whose calls have all ended is finished. */
static void
request_call_done(PerpsHttpCall *d, void *arg)
{
	RequestRun *run = arg;
	int			di = (int) (d - run->distinct);

	for (int u = run->ustart[di]; u < run->ustart[di + 1]; u++)
	{
		int			i = run->users[u];
		const PerpsRequest *req = run->calls[i].req;
		int			r = run->round_of[i];

		run->calls[i] = *d;
		run->calls[i].req = req;
		if (--run->pending[r] == 0)
		{
			request_round_finish(&run->rs[r]);
			if (run->on_round)
				run->on_round(&run->rs[r], r, run->arg);
		}
	}
}

/* the run and the jobs perps_fetch_many_cb is running (perps_fetch_release) */
static RequestRun *request_run_current = NULL;
static PerpsFetchJob *request_jobs_current = NULL;

static void
request_http_run_shared(PerpsHttpCall *calls, int n, RequestRun *run)
{
	int		   *first = palloc(sizeof(int) * n);
	PerpsHttpCall *distinct = palloc0(sizeof(PerpsHttpCall) * n);
	int		   *slot = palloc(sizeof(int) * n);
	int			ndistinct = 0;

	for (int i = 0; i < n; i++)
	{
		first[i] = i;
		for (int j = 0; j < i; j++)
			/* a held call is its own: released, it goes alone */
			if (first[j] == j && !calls[i].held && !calls[j].held && request_same(&calls[j], &calls[i]))
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
	request_order_by_pressure(distinct, ndistinct, slot, n);
	/* each distinct call's users, to hand its answer over as it ends */
	run->calls = calls;
	run->distinct = distinct;
	run->slot = slot;
	run->ustart = palloc0(sizeof(int) * (ndistinct + 1));
	run->users = palloc(sizeof(int) * n);
	for (int i = 0; i < n; i++)
		run->ustart[slot[i] + 1]++;
	for (int d = 0; d < ndistinct; d++)
		run->ustart[d + 1] += run->ustart[d];
	{
		int		   *fill = palloc(sizeof(int) * Max(ndistinct, 1));

		memcpy(fill, run->ustart, sizeof(int) * ndistinct);
		for (int i = 0; i < n; i++)
			run->users[fill[slot[i]]++] = i;
		pfree(fill);
	}
	{
		RequestRun *save = request_run_current;

		request_run_current = run;
		PG_TRY();
		{
			perps_http_run_cb(distinct, ndistinct, request_call_done, run);
		}
		PG_FINALLY();
		{
			request_run_current = save;
		}
		PG_END_TRY();
	}
	pfree(first);
	pfree(slot);
	pfree(run->ustart);
	pfree(run->users);
	/* the calls keep the answers (bodies live in the caller's context); distinct goes */
	pfree(distinct);
}

/*
 * Builds the rounds, runs all their calls together and finishes (parses)
 * each round as its last call ends; on_round (may be NULL) is then told,
 * from inside the HTTP loop (perps_http_run_cb's rules), and at the end
 * for the rounds that failed before any call.
 */
static void
request_rounds_run(RequestRound *rs, int nrounds, void (*on_round) (RequestRound *r, int i, void *arg),
				   void *arg)
{
	int			total = 0;
	int			k = 0;
	PerpsHttpCall *calls;
	RequestRun	run = {0};

	for (int i = 0; i < nrounds; i++)
		if (rs[i].err.sqlstate == 0 && request_round_build(&rs[i]))
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
			/* one account per adapter: see perps_venue_load */
			calls[k].rate_account = rs[i].v->ad->name;
			calls[k].base_url = rs[i].reqs[j].aux ? rs[i].v->aux_url : rs[i].v->rest_url;
			calls[k].req = &rs[i].reqs[j];
			calls[k].limit = rs[i].v->limit;
			calls[k].held = rs[i].held;
		}
	}
	run.rs = rs;
	run.nrounds = nrounds;
	run.on_round = on_round;
	run.arg = arg;
	run.pending = palloc0(sizeof(int) * Max(nrounds, 1));
	run.round_of = palloc(sizeof(int) * Max(total, 1));
	for (int i = 0, c = 0; i < nrounds; i++)
		if (rs[i].err.sqlstate == 0)
			for (int j = 0; j < rs[i].n; j++)
			{
				run.round_of[c++] = i;
				run.pending[i]++;
			}
	if (total > 0)
		request_http_run_shared(calls, total, &run);
	/* rounds without a call: failed before the HTTP run */
	for (int i = 0; i < nrounds; i++)
		if (rs[i].err.sqlstate != 0 && rs[i].n == 0 && on_round)
			on_round(&rs[i], i, arg);
	pfree(run.pending);
	pfree(run.round_of);
}

/* One round; raises its error. */
void
perps_request_run(const PerpsVenue *v, PerpsMethod m, const PerpsQuery *q, PerpsCtx *ctx, PerpsResult *out)
{
	RequestRound *r = palloc0(sizeof(RequestRound));

	r->v = v;
	r->m = m;
	r->q = q;
	r->ctx = ctx;
	r->out = out;
	request_rounds_run(r, 1, NULL, NULL);
	if (r->err.sqlstate != 0)
		perps_fetch_error_raise(&r->err);
}

PerpsQuery
perps_request_query(const PerpsMarketRef *ref)
{
	PerpsQuery	q;

	memset(&q, 0, sizeof(q));
	q.market = ref;
	q.since_us = q.until_us = PERPS_TS_NONE;
	return q;
}

void
perps_markets_result(const PerpsVenue *v, PerpsCtx *ctx, PerpsResult *res)
{
	PerpsQuery	q = perps_request_query(NULL);

	perps_request_run(v, PERPS_M_MARKETS, &q, ctx, res);
}

static Datum
request_text_array(const char **strs, int n)
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

/*
 * A market's book steps as a numeric[] literal ("{0.1,1,10}"), NULL when it
 * has none.  The adapter gave them as decimal texts; each is checked again
 * here, so that the literal holds decimals only.
 */
static const char *
request_steps_literal(const PerpsVenue *v, const PerpsMarket *mk)
{
	StringInfoData buf;

	if (mk->book_steps == NULL || mk->nbook_steps < 1)
		return NULL;
	if (mk->nbook_steps > PERPS_MAX_BOOK_RESOLUTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("unexpected markets response from %s", v->name),
				 errdetail("Market %s has %d book steps, more than %d.", mk->symbol, mk->nbook_steps,
						   PERPS_MAX_BOOK_RESOLUTIONS)));
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int k = 0; k < mk->nbook_steps; k++)
	{
		const char *st = mk->book_steps[k];

		if (st == NULL || !perps_decimal_valid(st, strlen(st)))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("unexpected markets response from %s", v->name),
					 errdetail("Market %s has a book step that is not a decimal number.", mk->symbol)));
		appendStringInfo(&buf, "%s%s", k > 0 ? "," : "", st);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* Fetches a venue's markets and upserts them; returns the number upserted. */
int
perps_refresh_markets(const PerpsVenue *v)
{
	MemoryContext cxt = perps_request_cxt_create("perps refresh");
	MemoryContext old = MemoryContextSwitchTo(cxt);
	PerpsCtx	ctx;
	PerpsResult res;
	const char **cols[12];
	bool	   *active;
	const char **steps;			/* per market: its book steps as an array literal, or NULL */
	Datum		args[15];
	Oid			argtypes[15];
	int			n;
	int			rc;
	int			count;

	perps_request_ctx_init(&ctx, cxt);
	perps_markets_result(v, &ctx, &res);
	n = res.n;
	for (int c = 0; c < 12; c++)
		cols[c] = palloc0(sizeof(char *) * Max(n, 1));
	active = palloc0(sizeof(bool) * Max(n, 1));
	steps = palloc0(sizeof(char *) * Max(n, 1));
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
		steps[i] = request_steps_literal(v, mk);
	}

	args[0] = Int32GetDatum(v->id);
	argtypes[0] = INT4OID;
	for (int c = 0; c < 12; c++)
	{
		args[c + 1] = request_text_array(cols[c], n);
		argtypes[c + 1] = TEXTARRAYOID;
	}
	{
		Datum	   *bd = palloc0(sizeof(Datum) * Max(n, 1));

		for (int i = 0; i < n; i++)
			bd[i] = BoolGetDatum(active[i]);
		args[13] = PointerGetDatum(construct_array(bd, n, BOOLOID, 1, true, TYPALIGN_CHAR));
		argtypes[13] = BOOLARRAYOID;
	}
	args[14] = request_text_array(steps, n);
	argtypes[14] = TEXTARRAYOID;

	SPI_connect();
	rc = SPI_execute_with_args(
							   "INSERT INTO perps_stats.markets AS m (exchange_id, symbol, native_symbol, base, quote, "
							   "  contract_size, tick_size, lot_size, min_qty, max_qty, min_notional, max_leverage, "
							   "  funding_interval_hours, active, updated_at, book_steps) "
							   "SELECT DISTINCT ON (u.symbol) $1::smallint, u.symbol, u.native_symbol, u.base, u.quote, "
							   "  coalesce(u.contract_size::numeric, 1), u.tick_size::numeric, u.lot_size::numeric, "
							   "  u.min_qty::numeric, u.max_qty::numeric, u.min_notional::numeric, "
							   "  u.max_leverage::numeric, u.funding_interval_hours::numeric, u.active, now(), "
							   "  u.book_steps::numeric[] "
							   "FROM unnest($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
							   "  AS u(symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, "
							   "       min_qty, max_qty, min_notional, max_leverage, funding_interval_hours, active, "
							   "       book_steps) "
							   "ORDER BY u.symbol, u.active DESC "
							   "ON CONFLICT (exchange_id, symbol) DO UPDATE SET "
							   "  native_symbol = excluded.native_symbol, base = excluded.base, quote = excluded.quote, "
							   "  contract_size = excluded.contract_size, tick_size = excluded.tick_size, "
							   "  lot_size = excluded.lot_size, min_qty = excluded.min_qty, max_qty = excluded.max_qty, "
							   "  min_notional = excluded.min_notional, max_leverage = excluded.max_leverage, "
							   "  funding_interval_hours = excluded.funding_interval_hours, active = excluded.active, "
							   "  updated_at = excluded.updated_at, book_steps = excluded.book_steps",
							   15, argtypes, args, NULL, false, 0);
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

typedef struct RequestResolveArgs
{
	PerpsFetchJob *job;
	PerpsVenue *v;
	PerpsVenueMarket *mk;
	bool		venue_known;	/* *v is loaded already (an earlier job's venue) */
} RequestResolveArgs;

static void
request_job_resolve_step(void *arg)
{
	RequestResolveArgs *a = arg;

	if (!a->venue_known)
		perps_venue_load(a->job->exchange, a->v, false);
	if (a->job->symbol)
		request_market_resolve(a->v, a->job->symbol, a->mk, !a->job->no_refresh);
}

/*
 * Resolves a job's venue and market in a subtransaction, so that an error
 * (an unknown venue or market, a failed markets refresh) is recorded for
 * that job only.
 */
static bool
request_job_resolve(PerpsFetchJob *job, PerpsVenue *v, PerpsVenueMarket *mk, PerpsFetchError *err,
					bool venue_known)
{
	RequestResolveArgs a = {job, v, mk, venue_known};
	ErrorData  *ed = perps_run_guarded(request_job_resolve_step, &a);

	if (ed == NULL)
		return true;
	perps_fetch_error_set(err, ed->sqlerrcode, ed->message, ed->detail);
	err->hint = ed->hint;
	return false;
}

/* perps_stats.markets.id of a market, 0 when not listed */
static int
request_market_id(int exchange_id, const char *symbol)
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
perps_fetch_release(PerpsFetchJob *job)
{
	RequestRun *run = request_run_current;
	RequestRound *r;
	int			i;

	if (run == NULL || request_jobs_current == NULL)
		elog(ERROR, "perps_fetch_release outside perps_fetch_many_cb");
	i = (int) (job - request_jobs_current);
	if (i < 0 || i >= run->nrounds)
		elog(ERROR, "perps_fetch_release of a job not in the batch");
	r = &run->rs[i];
	for (int j = 0; j < r->n; j++)
		run->distinct[run->slot[(r->calls - run->calls) + j]].held = false;
}

/* perps_fetch_many_cb's: a round (job i) is finished */
typedef struct FetchManyArg
{
	PerpsFetchJob *jobs;
	void		(*on_job) (PerpsFetchJob *job, void *arg);
	void	   *arg;
} FetchManyArg;

static void
request_job_done(RequestRound *r, int i, void *arg)
{
	FetchManyArg *a = arg;
	PerpsFetchJob *job = &a->jobs[i];

	job->ok = r->err.sqlstate == 0;
	job->sqlstate = r->err.sqlstate;
	job->errmsg = r->err.msg;
	job->errdetail = r->err.detail;
	if (a->on_job)
		a->on_job(job, a->arg);
}

/* An earlier job of the same venue (and market) that resolved: its index, or -1. */
static int
request_job_same(PerpsFetchJob *jobs, RequestRound *rs, int i, bool same_market)
{
	for (int k = i - 1; k >= 0; k--)
	{
		if (jobs[k].exchange_id == 0 || rs[k].err.sqlstate != 0 ||
			strcmp(jobs[k].exchange, jobs[i].exchange) != 0)
			continue;
		if (!same_market)
			return k;
		if ((jobs[k].symbol == NULL) == (jobs[i].symbol == NULL) &&
			(jobs[i].symbol == NULL || strcmp(jobs[k].symbol, jobs[i].symbol) == 0))
			return k;
	}
	return -1;
}

void
perps_fetch_many(PerpsFetchJob *jobs, int njobs)
{
	perps_fetch_many_cb(jobs, njobs, NULL, NULL);
}

void
perps_fetch_many_cb(PerpsFetchJob *jobs, int njobs, void (*on_job) (PerpsFetchJob *job, void *arg), void *arg)
{
	RequestRound *rs = palloc0(sizeof(RequestRound) * Max(njobs, 1));
	FetchManyArg fa = {jobs, on_job, arg};

	for (int i = 0; i < njobs; i++)
	{
		PerpsFetchJob *job = &jobs[i];
		PerpsVenue *v = palloc0(sizeof(PerpsVenue));
		PerpsVenueMarket *mk = palloc0(sizeof(PerpsVenueMarket));
		PerpsMarketRef *ref = palloc0(sizeof(PerpsMarketRef));
		PerpsQuery *q = palloc0(sizeof(PerpsQuery));
		PerpsCtx   *ctx = palloc0(sizeof(PerpsCtx));
		int			same;

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
		perps_request_ctx_init(ctx, CurrentMemoryContext);
		*q = perps_request_query(NULL);

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
		/*
		 * A round asks each market several things (collect(): four): the
		 * venue and the market are looked up once, for the first job that
		 * names them.
		 */
		if ((same = request_job_same(jobs, rs, i, true)) >= 0)
		{
			*v = *rs[same].v;
			job->exchange_id = v->id;
			if (job->symbol)
			{
				*ref = *rs[same].q->market;
				q->market = ref;
				job->global_symbol = ref->symbol;
				job->native_symbol = ref->native_symbol;
				job->market_id = jobs[same].market_id;
			}
		}
		else
		{
			int			venue_of = request_job_same(jobs, rs, i, false);

			if (venue_of >= 0)
				*v = *rs[venue_of].v;
			if (!request_job_resolve(job, v, mk, &rs[i].err, venue_of >= 0))
				continue;
			job->exchange_id = v->id;
			if (job->symbol)
			{
				ref->symbol = job->global_symbol = mk->symbol;
				ref->native_symbol = job->native_symbol = mk->native_symbol;
				ref->contract_size = mk->contract_size;
				ref->book_steps = (const char *const *) mk->book_steps;
				ref->nbook_steps = mk->nbook_steps;
				q->market = ref;
				job->market_id = request_market_id(v->id, mk->symbol);
			}
		}
		q->depth = job->depth > 0 ? job->depth : 100;
		q->resolution = job->resolution;
		rs[i].held = job->held;
		q->interval = job->interval;
		q->since_us = job->since_us;
		q->until_us = job->until_us;
		q->limit = job->limit;
		q->cursor = job->cursor;
	}

	{
		PerpsFetchJob *save = request_jobs_current;

		request_jobs_current = jobs;
		PG_TRY();
		{
			request_rounds_run(rs, njobs, request_job_done, &fa);
		}
		PG_FINALLY();
		{
			request_jobs_current = save;
		}
		PG_END_TRY();
	}
}


void
perps_refresh_markets_of(const char *exchange)
{
	PerpsVenue	v;

	perps_venue_load(exchange, &v, false);
	perps_refresh_markets_as_owner(&v);
}
