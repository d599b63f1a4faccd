/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		The launcher background worker: connects to perps_stats.database,
 *		waits for the extension to exist there, and keeps the dynamic
 *		workers running: it starts them, restarts one that died (with
 *		exponential backoff) and stops them when they are no longer wanted
 *		(the extension was dropped, or collect_interval set to 0).
 *
 * The launcher is a static worker, so the postmaster restarts it after a
 * crash of any backend; the dynamic workers are BGW_NEVER_RESTART and come
 * back through it.  It holds no locks and no transaction while it sleeps.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "perps_pg.h"			/* first: PostgreSQL's json_object vs json-c's */

#include "access/xact.h"
#include "executor/spi.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "perps_stats.h"
#include "workers.h"
#include "guard.h"

/* How often the launcher looks at the world when nothing wakes it. */
#define LAUNCHER_NAPTIME_MS 2000
#define RESTART_BACKOFF_MIN_MS 1000
#define RESTART_BACKOFF_MAX_MS 60000
/* a worker that ran this long before it stopped was healthy: its backoff starts again */
#define RESTART_HEALTHY_MS 60000

/* One supervised dynamic worker. */
typedef struct PerpsChild
{
	const char *name;			/* shown as bgw_name */
	const char *function;		/* entry point in perps_stats.so */
	const char *type;			/* bgw_type; NULL: the name */
	Datum		arg;			/* bgw_main_arg */
	PerpsWorkerKind kind;		/* its entry in the worker registry */
	int32		id;
	BackgroundWorkerHandle *handle;
	TimestampTz started;		/* when this launcher last started it */
	TimestampTz next_start;		/* not before this after a death */
	int			backoff_ms;
	int			deaths;
	pid_t		adopted;		/* running, started by an earlier launcher */
} PerpsChild;

static PerpsChild collector = {"perps_stats collector", "perps_collector_main", NULL, 0,
PERPS_WORKER_COLLECTOR, 0};

/* One stream worker per venue that has markets to stream. */
typedef struct PerpsStreamChild
{
	bool		used;
	int32		exchange_id;
	char		name[BGW_MAXLEN];
	PerpsChild	child;
} PerpsStreamChild;

#define MAX_STREAM_CHILDREN 32
static PerpsStreamChild stream_children[MAX_STREAM_CHILDREN];

void
perps_workers_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "perps_stats");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "perps_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "perps_stats launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "perps_stats launcher");
	RegisterBackgroundWorker(&worker);
}

bool
perps_extension_exists(void)
{
	return OidIsValid(get_extension_oid("perps_stats", true));
}

/* True when perps_stats.<relname> exists (an older install may lack it). */
static bool
perps_relation_exists(const char *relname)
{
	Oid			nsp = get_namespace_oid("perps_stats", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid(relname, nsp));
}

static bool
perps_launcher_extension_ready(void)
{
	bool		exists;

	StartTransactionCommand();
	exists = perps_extension_exists();
	CommitTransactionCommand();
	return exists;
}

static bool
perps_child_start(PerpsChild *child)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "perps_stats");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", child->function);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s", child->name);
	snprintf(worker.bgw_type, BGW_MAXLEN, "%s", child->type ? child->type : child->name);
	worker.bgw_notify_pid = MyProcPid;
	worker.bgw_main_arg = child->arg;

	if (!RegisterDynamicBackgroundWorker(&worker, &child->handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("perps_stats could not start the background worker \"%s\"", child->name),
				 errhint("Raise max_worker_processes.")));
		child->handle = NULL;
		return false;
	}
	return true;
}

/* Keeps one child in the wanted state; a dead child is restarted after a backoff. */
static void
perps_child_supervise(PerpsChild *child, bool wanted)
{
	pid_t		pid;
	TimestampTz now = GetCurrentTimestamp();

	if (child->handle != NULL &&
		GetBackgroundWorkerPid(child->handle, &pid) == BGWH_STOPPED)
	{
		pfree(child->handle);
		child->handle = NULL;
		if (wanted)
		{
			double		jitter = 0.5 + 0.5 * pg_prng_double(&pg_global_prng_state);
			int			delay;

			child->deaths++;
			if (now >= TimestampTzPlusMilliseconds(child->started, RESTART_HEALTHY_MS))
				child->backoff_ms = 0;	/* it had run well: a quick restart */
			child->backoff_ms = child->backoff_ms == 0 ? RESTART_BACKOFF_MIN_MS
				: Min(child->backoff_ms * 2, RESTART_BACKOFF_MAX_MS);
			delay = (int) (child->backoff_ms * jitter);
			child->next_start = TimestampTzPlusMilliseconds(now, delay);
			ereport(LOG,
					(errmsg("perps_stats background worker \"%s\" stopped; restarting in %d ms",
							child->name, delay)));
		}
	}

	if (child->handle == NULL)
	{
		/* one started by an earlier launcher (this one was restarted): adopt it, or stop it */
		pid_t		other = perps_registry_running(child->kind, child->id);

		if (other != 0)
		{
			if (!wanted)
				perps_registry_stop(child->kind, child->id);
			else if (child->adopted != other)
				ereport(LOG,
						(errmsg("perps_stats launcher found \"%s\" running as process %d and keeps it",
								child->name, (int) other)));
			child->adopted = wanted ? other : 0;
			return;
		}
		child->adopted = 0;
	}

	if (wanted && child->handle == NULL && now >= child->next_start)
	{
		if (perps_child_start(child))
			child->started = now;
	}
	else if (!wanted && child->handle != NULL)
	{
		TerminateBackgroundWorker(child->handle);
		pfree(child->handle);
		child->handle = NULL;
		child->backoff_ms = 0;
	}
}

/*
 * The venues that should stream: enabled, with a ws_url, a stream adapter
 * and watchlist rows with stream = true.  Returns how many were found;
 * -1 when they could not be read (the current workers are then left as
 * they are).
 */
static int
perps_launcher_stream_venues(int32 *ids, char (*names)[NAMEDATALEN], int max)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile int n = 0;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (perps_relation_exists("watchlist"))
		{
			/*
			 * By the row's adapter; a venue with an adapter parameter (a
			 * HIP-3 DEX) too: its stream worker hands the parameter to the
			 * adapter's subscribe (PerpsStreamWant.param).
			 */
			int			ret = SPI_execute("SELECT e.id, e.name, coalesce(e.adapter, e.name) FROM perps_stats.exchanges e "
										  "WHERE e.enabled AND e.ws_url IS NOT NULL AND EXISTS "
										  "(SELECT 1 FROM perps_stats.watchlist w WHERE w.exchange = e.name AND w.stream) "
										  "ORDER BY e.id", true, 0);

			if (ret != SPI_OK_SELECT)
				elog(ERROR, "reading the watchlist failed: %s", SPI_result_code_string(ret));
			for (uint64 i = 0; i < SPI_processed && n < max; i++)
			{
				bool		isnull;
				char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
				char	   *adapter = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
				const PerpsAdapter *ad = name && adapter ? perps_adapter_find(adapter) : NULL;

				if (ad == NULL || ad->stream == NULL)
					continue;
				ids[n] = DatumGetInt16(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
				strlcpy(names[n], name, NAMEDATALEN);
				n++;
			}
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = perps_catch_and_abort(oldcxt);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("perps_stats launcher could not read the watchlist: %s", edata->message)));
		FreeErrorData(edata);
		n = -1;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	return n;
}

/* Starts, keeps and stops the stream workers. */
static void
perps_launcher_supervise_streams(bool ready)
{
	int32		ids[MAX_STREAM_CHILDREN];
	char		names[MAX_STREAM_CHILDREN][NAMEDATALEN];
	int			n = 0;

	if (ready && perps_stream_workers)
	{
		n = perps_launcher_stream_venues(ids, names, MAX_STREAM_CHILDREN);
		if (n < 0)
			return;
	}
	/* stream workers of venues no longer wanted, an earlier launcher's included */
	perps_registry_stop_unlisted(PERPS_WORKER_STREAM, ids, n);
	for (int k = 0; k < MAX_STREAM_CHILDREN; k++)
	{
		PerpsStreamChild *sc = &stream_children[k];
		bool		wanted = false;

		if (!sc->used)
			continue;
		for (int i = 0; i < n; i++)
			if (ids[i] == sc->exchange_id)
				wanted = true;
		perps_child_supervise(&sc->child, wanted);
		if (!wanted && sc->child.handle == NULL)
			sc->used = false;
	}
	for (int i = 0; i < n; i++)
	{
		PerpsStreamChild *sc = NULL;

		for (int k = 0; k < MAX_STREAM_CHILDREN && sc == NULL; k++)
			if (stream_children[k].used && stream_children[k].exchange_id == ids[i])
				sc = &stream_children[k];
		for (int k = 0; k < MAX_STREAM_CHILDREN && sc == NULL; k++)
			if (!stream_children[k].used)
			{
				sc = &stream_children[k];
				memset(sc, 0, sizeof(*sc));
				sc->used = true;
				sc->exchange_id = ids[i];
				snprintf(sc->name, sizeof(sc->name), "perps_stats stream %s", names[i]);
				sc->child.name = sc->name;
				sc->child.function = "perps_stream_main";
				sc->child.type = "perps_stats stream";
				sc->child.arg = Int32GetDatum(ids[i]);
				sc->child.kind = PERPS_WORKER_STREAM;
				sc->child.id = ids[i];
				perps_child_supervise(&sc->child, true);
			}
	}
}

void
perps_launcher_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(perps_database, NULL, 0);
	pgstat_report_appname("perps_stats launcher");

	ereport(LOG, (errmsg("perps_stats launcher started in database \"%s\"", perps_database)));

	for (;;)
	{
		bool		ready;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		ready = perps_launcher_extension_ready();
		perps_child_supervise(&collector, ready && perps_collect_interval > 0);
		perps_launcher_supervise_streams(ready);

		pgstat_report_activity(STATE_IDLE, NULL);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LAUNCHER_NAPTIME_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
