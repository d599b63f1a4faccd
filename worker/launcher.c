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

#include "access/xact.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "perps_stats.h"
#include "workers.h"

/* How often the launcher looks at the world when nothing wakes it. */
#define LAUNCHER_NAPTIME_MS 2000
#define RESTART_BACKOFF_MIN_MS 1000
#define RESTART_BACKOFF_MAX_MS 60000

/* One supervised dynamic worker. */
typedef struct PerpsChild
{
	const char *name;			/* shown as bgw_name */
	const char *function;		/* entry point in perps_stats.so */
	BackgroundWorkerHandle *handle;
	TimestampTz next_start;		/* not before this after a death */
	int			backoff_ms;
	int			deaths;
} PerpsChild;

static PerpsChild collector = {"perps_stats collector", "perps_collector_main"};

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
	snprintf(worker.bgw_type, BGW_MAXLEN, "%s", child->name);
	worker.bgw_notify_pid = MyProcPid;
	worker.bgw_main_arg = (Datum) 0;

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
			child->deaths++;
			child->backoff_ms = child->backoff_ms == 0 ? RESTART_BACKOFF_MIN_MS
				: Min(child->backoff_ms * 2, RESTART_BACKOFF_MAX_MS);
			child->next_start = TimestampTzPlusMilliseconds(now, child->backoff_ms);
			ereport(LOG,
					(errmsg("perps_stats background worker \"%s\" stopped; restarting in %d ms",
							child->name, child->backoff_ms)));
		}
	}

	if (wanted && child->handle == NULL && now >= child->next_start)
		perps_child_start(child);
	else if (!wanted && child->handle != NULL)
	{
		TerminateBackgroundWorker(child->handle);
		pfree(child->handle);
		child->handle = NULL;
		child->backoff_ms = 0;
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

		pgstat_report_activity(STATE_IDLE, NULL);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LAUNCHER_NAPTIME_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
