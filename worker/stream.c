/*-------------------------------------------------------------------------
 *
 * stream.c
 *		The stream worker of one venue (perps_stream_main, started by the
 *		launcher with the exchange id as argument): its main loop, the
 *		venue's row and stream markets, its exit.  The other parts are
 *		named in stream_int.h.
 *
 * Loop: read the venue's row and watchlist every STREAM_REFRESH_MS; open
 * the connections that are down and due; service all of them at once
 * (waiting at most PERPS_WS_TICK_MS) and turn every frame received into
 * rows; restart a connection that closed or went silent; take one page of
 * a pending trade refetch; store the books that are due; flush the
 * buffers every flush_rows rows or flush_interval; publish the status;
 * check for interrupts.  libwebsockets runs in this thread only; its
 * callbacks never call PostgreSQL (see perps_lws.h).  SIGTERM: what was
 * received is processed and written, then the worker exits.
 *
 * Transactions: one per flush (stream_flush.c), one when the watchlist is
 * read, one per REST request (a book snapshot, a refetch page).
 *
 *-------------------------------------------------------------------------
 */
#include "stream_int.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "perps_stats.h"
#include "workers.h"
#include "guard.h"

/* the worker's state (stream_int.h) */
int32		stream_exchange_id;
const PerpsAdapter *stream_adapter;
const PerpsStreamAdapter *stream_sa;
char		stream_url[1024];
char		stream_rest_url[1024];
char		stream_aux_url[1024];
char		stream_param[NAMEDATALEN];
const char *stream_kline_intervals[PERPS_KLINE_MAX];
int			stream_nkline_intervals;
StreamMarket *stream_markets;
int			stream_nmarkets;
PerpsStreamStatus worker_status;
MemoryContext stream_cxt;
MemoryContext frame_cxt;

static int	status_slot = -1;
static TimestampTz next_refresh;
static TimestampTz last_markets_refresh;	/* qty_in_contracts venues: the last refresh_markets */

/* a frame's time (µs since 1970, range-checked by the parser) as timestamptz */
TimestampTz
stream_ts(int64 us)
{
	return DatumGetTimestampTz(perps_timestamptz(us));
}

void
stream_set_state(const char *state)
{
	strlcpy(worker_status.state, state, sizeof(worker_status.state));
}

void
stream_set_error(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(worker_status.last_error, sizeof(worker_status.last_error), fmt, ap);
	va_end(ap);
	perps_utf8_clean(worker_status.last_error);
}

void
stream_publish(void)
{
	worker_status.buffered_rows = stream_buffered_rows();
	perps_stream_slot_publish(status_slot, &worker_status);
}

/* ---- the arena the adapters allocate from ---- */

static void *
frame_alloc(void *state, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) state, size, MCXT_ALLOC_NO_OOM);
}

/* An adapter context allocating from frame_cxt. */
void
stream_frame_ctx_init(PerpsCtx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->arena.alloc = frame_alloc;
	ctx->arena.state = frame_cxt;
}


int64
stream_now_unix_us(void)
{
	return GetCurrentTimestamp() + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC;
}

/*
 * fn(arg) in a transaction of its own, with a snapshot, what it does shown
 * in pg_stat_activity.  False when it failed: the status says why, after
 * what; a cancel or a shutdown ends the worker as usual.
 */
bool
stream_in_xact(void (*fn) (void *arg), void *arg, const char *activity, const char *what)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = false;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, activity);
		fn(arg);
		MemoryContextSwitchTo(oldcxt);
		PopActiveSnapshot();
		CommitTransactionCommand();
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = perps_catch_and_abort(oldcxt);
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		stream_set_error("%s failed: %s", what, edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

typedef struct StreamFetchArg
{
	PerpsFetchJob *job;
	MemoryContext cxt;
} StreamFetchArg;

static void
stream_fetch_run(void *arg)
{
	StreamFetchArg *a = (StreamFetchArg *) arg;

	MemoryContextSwitchTo(a->cxt);
	perps_fetch_many(a->job, 1);
}

/*
 * One REST job of the venue (a book snapshot, a page of trades) in its own
 * transaction, as fetch_orderbook and fetch_trades run them; its result in
 * cxt.  False when it failed (the status says why).
 */
bool
stream_fetch(PerpsFetchJob *job, MemoryContext cxt, const char *activity)
{
	StreamFetchArg a = {job, cxt};

	if (!stream_in_xact(stream_fetch_run, &a, activity,
						job->method == PERPS_M_TRADES ? "a trades page" : "a REST request"))
		return false;
	if (!job->ok)
	{
		stream_set_error("%s %s failed: %s", job->symbol ? job->symbol : "", perps_method_names[job->method],
						 job->errmsg ? job->errmsg : "unknown error");
		return false;
	}
	return true;
}

/* ---- configuration: the venue and its markets ---- */

StreamMarket *
stream_market_by_native(const char *native)
{
	for (int i = 0; i < stream_nmarkets; i++)
		if (strcmp(stream_markets[i].native, native) == 0)
			return &stream_markets[i];
	return NULL;
}

/* perps_run_guarded callback: the venue's markets from its REST API. */
static void
stream_refresh_markets(void *arg)
{
	perps_refresh_markets_of((const char *) arg);
}

/*
 * Reads the venue's row and its stream markets (creating missing market
 * rows); returns true when the connection must be (re)made because the
 * URL or the market set changed.  Runs in its own transaction.
 */
static bool
stream_refresh(bool *exists)
{
	bool		changed = false;
	char		url[1024] = "";
	char		rest_url[1024] = "";
	char		aux_url[1024] = "";
	char		name[NAMEDATALEN] = "";
	char		adapter[NAMEDATALEN] = "";	/* "": none that streams this venue */
	char		param[NAMEDATALEN] = "";	/* the row's adapter_param ("": none) */
	StreamMarket *nm;
	int			n = 0;
	bool		enabled = false;
	const char *wanted[PERPS_KLINE_MAX];
	const char *iv[PERPS_KLINE_MAX];
	int			nwanted;
	int			niv;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "perps_stats stream: reading the watchlist");

	*exists = perps_extension_exists();
	nm = MemoryContextAllocZero(stream_cxt, sizeof(StreamMarket) * STREAM_MAX_MARKETS);
	if (*exists)
	{
		Oid			argtypes[1] = {INT2OID};
		Datum		args[1] = {Int16GetDatum((int16) stream_exchange_id)};
		bool		isnull;
		int			ret;

		/* by the row's adapter, with the row's parameter (a HIP-3 DEX's name) */
		ret = SPI_execute_with_args("SELECT name, ws_url, enabled, rest_url, coalesce(adapter, name), "
									"  adapter_param, aux_url FROM perps_stats.exchanges WHERE id = $1",
									1, argtypes, args, NULL, true, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "reading perps_stats.exchanges failed: %s", SPI_result_code_string(ret));
		if (SPI_processed == 1)
		{
			char	   *v;

			v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			strlcpy(name, v ? v : "", sizeof(name));
			v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
			strlcpy(url, v ? v : "", sizeof(url));
			enabled = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
			v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
			strlcpy(rest_url, v ? v : "", sizeof(rest_url));
			v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5);
			strlcpy(adapter, v ? v : "", sizeof(adapter));
			v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6);
			if (v != NULL && strlen(v) < sizeof(param))
				strlcpy(param, v, sizeof(param));
			else if (v != NULL)
				adapter[0] = '\0';		/* not a parameter the adapter could take */
			v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7);
			strlcpy(aux_url, v ? v : "", sizeof(aux_url));
		}
		stream_adapter = adapter[0] ? perps_adapter_find(adapter) : NULL;
		stream_sa = stream_adapter ? stream_adapter->stream : NULL;
		if (name[0])
			strlcpy(worker_status.exchange, name, sizeof(worker_status.exchange));

		if (enabled && stream_sa != NULL)
		{
			/*
			 * markets the watchlist streams that have no row yet: on a venue
			 * that streams contracts only the venue's markets list can give
			 * the row (its contract size), and on a venue with a parameter
			 * (one part of its adapter's API: a HIP-3 DEX) its names (the
			 * naming rule knows the API's plain names only, as in
			 * perps_market_resolve): refresh it, at most every
			 * STREAM_MARKETS_REFRESH_MS; elsewhere the naming rule makes one
			 */
			if (stream_sa->qty_in_contracts || param[0])
			{
				ret = SPI_execute_with_args("SELECT 1 FROM perps_stats.watchlist w "
											"JOIN perps_stats.exchanges e ON e.name = w.exchange "
											"WHERE e.id = $1 AND w.stream AND NOT EXISTS "
											"(SELECT 1 FROM perps_stats.markets m WHERE m.exchange_id = e.id AND m.symbol = w.symbol)",
											1, argtypes, args, NULL, true, 1);
				if (ret == SPI_OK_SELECT && SPI_processed > 0 &&
					(last_markets_refresh == 0 ||
					 GetCurrentTimestamp() >= TimestampTzPlusMilliseconds(last_markets_refresh, STREAM_MARKETS_REFRESH_MS)))
				{
					ErrorData  *edata;

					last_markets_refresh = GetCurrentTimestamp();
					edata = perps_run_guarded(stream_refresh_markets, name);
					if (edata)
						stream_set_error("refreshing the markets (for their contract sizes) failed: %s", edata->message);
				}
			}
			ret = SPI_execute_with_args("SELECT w.symbol FROM perps_stats.watchlist w "
										"JOIN perps_stats.exchanges e ON e.name = w.exchange "
										"WHERE e.id = $1 AND w.stream AND NOT EXISTS "
										"(SELECT 1 FROM perps_stats.markets m WHERE m.exchange_id = e.id AND m.symbol = w.symbol)",
										1, argtypes, args, NULL, false, 0);	/* sees a refresh just made */
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "reading perps_stats.watchlist failed: %s", SPI_result_code_string(ret));
			if (SPI_processed > 0)
			{
				int			nmiss = (int) Min(SPI_processed, STREAM_MAX_MARKETS);
				char	  **missing = palloc(sizeof(char *) * nmiss);

				for (int i = 0; i < nmiss; i++)
					missing[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
				for (int i = 0; i < nmiss; i++)
				{
					char		native[64];
					Oid			itypes[4] = {INT2OID, TEXTOID, TEXTOID, TEXTOID};
					Datum		iargs[4];

					if (stream_sa->qty_in_contracts || param[0] || stream_adapter->native_symbol == NULL ||
						!stream_adapter->native_symbol(missing[i], native, sizeof(native)))
					{
						ereport(WARNING,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("perps_stats cannot stream %s on %s: the market is not in perps_stats.markets",
										missing[i], name),
								 errhint("Refresh the venue's markets first.")));
						continue;
					}
					iargs[0] = Int16GetDatum((int16) stream_exchange_id);
					iargs[1] = CStringGetTextDatum(missing[i]);
					iargs[2] = CStringGetTextDatum(native);
					iargs[3] = CStringGetTextDatum(stream_sa->quote);
					ret = SPI_execute_with_args("INSERT INTO perps_stats.markets (exchange_id, symbol, native_symbol, base, quote) "
												"VALUES ($1, $2, $3, $2, $4) ON CONFLICT DO NOTHING",
												4, itypes, iargs, NULL, false, 0);
					if (ret != SPI_OK_INSERT)
						elog(ERROR, "inserting into perps_stats.markets failed: %s", SPI_result_code_string(ret));
				}
			}

			ret = SPI_execute_with_args("SELECT m.symbol, m.native_symbol, m.id, m.contract_size, m.funding_interval_hours, m.book_steps FROM perps_stats.watchlist w "
										"JOIN perps_stats.exchanges e ON e.name = w.exchange "
										"JOIN perps_stats.markets m ON m.exchange_id = e.id AND m.symbol = w.symbol "
										"WHERE e.id = $1 AND w.stream ORDER BY m.native_symbol",
										1, argtypes, args, NULL, false, STREAM_MAX_MARKETS);	/* sees the inserts */
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "reading perps_stats.watchlist failed: %s", SPI_result_code_string(ret));
			for (uint64 i = 0; i < SPI_processed; i++)
			{
				char	   *sym = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
				char	   *nat = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
				bool		isnull2;

				if (sym == NULL || nat == NULL || strlen(sym) >= sizeof(nm[n].symbol) ||
					strlen(nat) >= sizeof(nm[n].native))
					continue;
				strlcpy(nm[n].symbol, sym, sizeof(nm[n].symbol));
				strlcpy(nm[n].native, nat, sizeof(nm[n].native));
				nm[n].market_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
															  SPI_tuptable->tupdesc, 3, &isnull2));
				{
					char	   *fh = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 5);

					if (fh != NULL && strlen(fh) < sizeof(nm[n].funding_hours))
						strlcpy(nm[n].funding_hours, fh, sizeof(nm[n].funding_hours));
				}
				if (stream_sa->qty_in_contracts)
				{
					char	   *cs = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4);

					if (cs == NULL || strlen(cs) >= sizeof(nm[n].contract_size))
					{
						stream_set_error("cannot stream %s: its contract size is unknown", sym);
						continue;
					}
					strlcpy(nm[n].contract_size, cs, sizeof(nm[n].contract_size));
				}
				stream_coarse_steps(&nm[n], SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 6));
				n++;
			}
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	if (!enabled)
		n = 0;

	/*
	 * The kline intervals configured that the venue streams: a change
	 * subscribes anew.  A venue that streams no candles says so once.
	 */
	niv = 0;
	nwanted = stream_sa ? perps_kline_intervals_parse(perps_stream_kline_intervals, wanted, NULL, 0) : 0;
	for (int k = 0; k < nwanted; k++)
		if (stream_sa->kline_channel != NULL && stream_sa->kline_channel(wanted[k]) != NULL)
			iv[niv++] = wanted[k];
	if (niv != stream_nkline_intervals ||
		memcmp(iv, stream_kline_intervals, sizeof(iv[0]) * niv) != 0)
	{
		changed = true;
		if (nwanted > niv && n > 0 && stream_store != NULL)
			stream_add_event(0, "info", 0, 0,
							 "%s streams no klines of %d of the %d intervals of perps_stats.stream_kline_intervals (\"%s\")%s%s; collect() and backfill() fetch its klines over REST",
							 worker_status.exchange, nwanted - niv, nwanted, perps_stream_kline_intervals,
							 stream_sa->kline_unsupported ? ": " : "",
							 stream_sa->kline_unsupported ? stream_sa->kline_unsupported : "");
		memcpy(stream_kline_intervals, iv, sizeof(iv[0]) * niv);
		stream_nkline_intervals = niv;
	}

	/* the same markets and URLs: keep the books */
	if (n != stream_nmarkets || strcmp(url, stream_url) != 0 || strcmp(rest_url, stream_rest_url) != 0 ||
		strcmp(aux_url, stream_aux_url) != 0 || strcmp(param, stream_param) != 0)
		changed = true;
	for (int i = 0; i < n && !changed; i++)
		if (strcmp(nm[i].native, stream_markets[i].native) != 0 ||
			nm[i].market_id != stream_markets[i].market_id ||
			strcmp(nm[i].contract_size, stream_markets[i].contract_size) != 0)
			changed = true;
	if (changed)
	{
		/* the refetches name markets by their place in the old list */
		stream_refetch_give_up("the venue's stream markets changed before the refetch");
		for (int i = 0; i < stream_nmarkets; i++)
			perps_local_book_free(&stream_markets[i].book);
		if (stream_markets)
			pfree(stream_markets);
		stream_markets = nm;
		stream_nmarkets = n;
		for (int i = 0; i < n; i++)
		{
			perps_local_book_init(&stream_markets[i].book);
			stream_markets[i].book_conn = -1;
			stream_markets[i].trade_conn = -1;
		}
		strlcpy(stream_url, url, sizeof(stream_url));
		strlcpy(stream_rest_url, rest_url, sizeof(stream_rest_url));
		strlcpy(stream_aux_url, aux_url, sizeof(stream_aux_url));
		strlcpy(stream_param, param, sizeof(stream_param));
		/* where the venue numbers its trades, go on from the last one stored */
		stream_trades_resume();
	}
	else
	{
		/* the same markets: their coarser books' steps may have changed */
		for (int i = 0; i < n; i++)
		{
			stream_markets[i].nbook_res = nm[i].nbook_res;
			memcpy(stream_markets[i].book_labels, nm[i].book_labels, sizeof(nm[i].book_labels));
		}
		pfree(nm);
	}
	return changed;
}

/* stream_refresh, with an error logged in the status instead of ending the worker. */
static bool
stream_refresh_safe(bool *exists)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool changed = false;

	*exists = true;
	PG_TRY();
	{
		changed = stream_refresh(exists);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = perps_catch_and_abort(oldcxt);
		stream_set_error("reading the watchlist failed: %s", edata->message);
		FreeErrorData(edata);
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_END_TRY();
	return changed;
}


/* ---- exit ---- */

static void
stream_on_exit(int code, Datum arg)
{
	stream_conns_close_all(NULL);
	for (int i = 0; i < stream_nmarkets; i++)
		perps_local_book_free(&stream_markets[i].book);
	stream_nmarkets = 0;
	stream_set_state("stopped");
	worker_status.pid = 0;
	worker_status.connected_since = 0;
	stream_publish();
}

static void
stream_shutdown(void)
{
	/* SIGTERM: frames already received are data too; what is buffered is written before leaving */
	stream_conns_close_all("the stream worker stopped");
	stream_refetch_give_up("the stream worker stopped before the refetch");
	stream_flush_or_record_loss("SIGTERM");
	ereport(LOG, (errmsg("perps_stats stream worker for \"%s\" stopped", worker_status.exchange)));
	proc_exit(0);
}

/*
 * An error escaped an iteration of the loop (a cancel, out of memory, a
 * bug): what was received is processed and written, or its loss recorded,
 * before the worker exits (the launcher starts it again).
 */
static void
stream_failed(ErrorData *edata)
{
	char		why[PERPS_STREAM_ERR_LEN];

	snprintf(why, sizeof(why), "an error in the stream worker: %s", edata->message);
	ereport(LOG,
			(errmsg("perps_stats stream worker for \"%s\" exits after an error: %s",
					worker_status.exchange, edata->message)));
	stream_set_error("%s", why);
	stream_conns_close_all(why);
	stream_refetch_give_up(why);
	stream_flush_or_record_loss(why);
	proc_exit(1);
}

/* ---- main ---- */

static void stream_iteration(void);

void
perps_stream_main(Datum arg)
{
	bool		exists = true;

	stream_exchange_id = DatumGetInt32(arg);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	if (!perps_registry_claim(PERPS_WORKER_STREAM, stream_exchange_id))
	{
		ereport(LOG, (errmsg("perps_stats stream worker for venue %d not started: process %d streams it",
							 stream_exchange_id, (int) perps_registry_running(PERPS_WORKER_STREAM, stream_exchange_id))));
		proc_exit(0);
	}
	BackgroundWorkerInitializeConnection(perps_database, NULL, 0);
	pgstat_report_appname("perps_stats stream");

	stream_cxt = AllocSetContextCreate(TopMemoryContext, "perps_stats stream", ALLOCSET_DEFAULT_SIZES);
	/*
	 * A frame's and a batch's allocations fit in the first block, which a
	 * reset keeps: no block is given back to malloc and asked for again per
	 * frame (a large malloc also makes glibc consolidate the small chunks
	 * json-c just freed).
	 */
	stream_store = perps_store_new(stream_cxt, "stream");
	frame_cxt = AllocSetContextCreate(stream_cxt, "perps_stats stream frame",
									  0, 256 * 1024, ALLOCSET_DEFAULT_MAXSIZE);

	memset(&worker_status, 0, sizeof(worker_status));
	worker_status.exchange_id = stream_exchange_id;
	worker_status.pid = MyProcPid;
	stream_set_state("starting");
	status_slot = perps_stream_slot_claim(stream_exchange_id);
	before_shmem_exit(stream_on_exit, (Datum) 0);

	(void) stream_refresh(&exists);
	if (!exists)
		proc_exit(0);
	stream_outage_begin();
	ereport(LOG, (errmsg("perps_stats stream worker for \"%s\" started with %d market(s)",
						 worker_status.exchange, stream_nmarkets)));
	next_refresh = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STREAM_REFRESH_MS);

	for (;;)
	{
		MemoryContext loopcxt = CurrentMemoryContext;

		PG_TRY();
		{
			stream_iteration();
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(loopcxt);
			edata = CopyErrorData();
			FlushErrorState();
			AbortOutOfAnyTransaction();
			pgstat_report_activity(STATE_IDLE, NULL);
			stream_failed(edata);
		}
		PG_END_TRY();
	}
}

/* One turn of the worker's loop. */
static void
stream_iteration(void)
{
	bool		exists = true;
	TimestampTz now;

	if (ShutdownRequestPending)
		stream_shutdown();
	CHECK_FOR_INTERRUPTS();
	if (!PostmasterIsAlive())
		proc_exit(1);
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
		stream_conns_memory_limit();
	}

	now = GetCurrentTimestamp();
	if (now >= next_refresh)
	{
		bool		connected = stream_conns_any();
		bool		changed = stream_refresh_safe(&exists);

		if (!exists)
		{
			ereport(LOG, (errmsg("perps_stats stream worker exiting: the extension is not installed")));
			proc_exit(0);
		}
		if (changed)
		{
			if (connected)
				stream_add_event(0, "info", 0, 0, "the venue's URL or its stream markets changed: reconnecting");
			stream_conns_close_all(NULL);
		}
		next_refresh = TimestampTzPlusMilliseconds(now, STREAM_REFRESH_MS);
	}

	if (stream_nmarkets == 0 || stream_sa == NULL)
	{
		stream_conns_close_all(NULL);
		stream_set_state("idle");
		stream_publish();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000, STREAM_WAIT_BACKOFF);
		ResetLatch(MyLatch);
		return;
	}

	stream_conns_connect_due(now);
	if (stream_buffered_rows() >= stream_max_buffered())
	{
		/* the buffers are full: stop reading, TCP pushes back on the venue */
		stream_set_state("backpressure");
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100, STREAM_WAIT_BACKOFF);
		ResetLatch(MyLatch);
	}
	else if (stream_conns_any())
		stream_conns_service();
	else
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(stream_conns_wait_ms(now), 10), STREAM_WAIT_BACKOFF);
		ResetLatch(MyLatch);
	}

	now = GetCurrentTimestamp();
	if (strcmp(worker_status.state, "backpressure") != 0 || stream_buffered_rows() < stream_max_buffered())
		stream_conns_check(now);
	stream_books_tick(now);
	if (stream_buffered_rows() < stream_max_buffered())
		stream_refetch_step();
	now = GetCurrentTimestamp();
	if (stream_flush_due(now))
		stream_flush();
	stream_publish();
}
