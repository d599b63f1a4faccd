/*-------------------------------------------------------------------------
 *
 * collector.c
 *		The collector background worker: every perps_stats.collect_interval
 *		it runs one perps_stats.collect() round over the watchlist, and once
 *		per UTC day (and at start) perps_stats.create_partitions().
 *
 * Transactions: one per round, bracketed as in worker_spi.  collect()
 * records a failing market in ingest_events and goes on with the others;
 * an error that still escapes a round is logged, its transaction rolled
 * back, and the next round runs as planned.  Memory: the round runs in
 * the transaction's contexts; nothing survives it but the schedule.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
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
#include "utils/timestamp.h"

#include "perps_stats.h"
#include "workers.h"
#include "guard.h"

/* Longest sleep between two interrupt checks. */
#define COLLECTOR_TICK_MS 1000

/* Runs one round; returns false when the extension is gone. */
static bool
perps_collector_round(bool partitions_due)
{
	bool		exists;
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	exists = perps_extension_exists();
	if (exists && partitions_due)
	{
		pgstat_report_activity(STATE_RUNNING, "SELECT perps_stats.create_partitions(3)");
		ret = SPI_execute("SELECT perps_stats.create_partitions(3)", false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "create_partitions failed: SPI error %d", ret);
	}
	if (exists)
	{
		const char *sql = "SELECT count(*) FROM perps_stats.collect()";

		/* collect() may not exist in an older install: then only maintenance runs */
		ret = SPI_execute("SELECT to_regprocedure('perps_stats.collect(text[],text[])') IS NOT NULL",
						  true, 1);
		if (ret == SPI_OK_SELECT && SPI_processed == 1)
		{
			bool		isnull;
			bool		have = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 1, &isnull));

			if (have)
			{
				pgstat_report_activity(STATE_RUNNING, sql);
				ret = SPI_execute(sql, false, 0);
				if (ret != SPI_OK_SELECT)
					elog(ERROR, "collect failed: SPI error %d", ret);
			}
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return exists;
}

void
perps_collector_main(Datum arg)
{
	TimestampTz next_round;
	volatile int partition_day = -1;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (!perps_registry_claim(PERPS_WORKER_COLLECTOR, 0))
	{
		ereport(LOG, (errmsg("perps_stats collector not started: process %d is the collector",
							 (int) perps_registry_running(PERPS_WORKER_COLLECTOR, 0))));
		proc_exit(0);
	}

	BackgroundWorkerInitializeConnection(perps_database, NULL, 0);
	pgstat_report_appname("perps_stats collector");

	next_round = GetCurrentTimestamp();
	for (;;)
	{
		TimestampTz now;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (perps_collect_interval <= 0)
			proc_exit(0);		/* the launcher only restarts us when wanted */

		now = GetCurrentTimestamp();
		if (now >= next_round)
		{
			MemoryContext oldcxt = CurrentMemoryContext;
			int			today = (int) (now / USECS_PER_DAY);
			volatile bool exists = true;

			PG_TRY();
			{
				exists = perps_collector_round(today != partition_day);
				partition_day = today;
			}
			PG_CATCH();
			{
				ErrorData  *edata;

				edata = perps_catch_and_abort(oldcxt);
				ereport(WARNING,
						(errcode(edata->sqlerrcode),
						 errmsg("perps_stats collector round failed: %s", edata->message),
						 errdetail("The next round runs as scheduled.")));
				FreeErrorData(edata);
				pgstat_report_activity(STATE_IDLE, NULL);
			}
			PG_END_TRY();

			if (!exists)
			{
				ereport(LOG, (errmsg("perps_stats collector exiting: the extension is not installed")));
				proc_exit(0);
			}
			next_round = TimestampTzPlusMilliseconds(now, (int64) perps_collect_interval * 1000);
		}

		now = GetCurrentTimestamp();
		wait_ms = Max(0, Min(COLLECTOR_TICK_MS, (next_round - now) / 1000));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
