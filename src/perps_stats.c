/*-------------------------------------------------------------------------
 *
 * perps_stats.c
 *		Module entry point: _PG_init, the configuration block and the
 *		extension's version function.
 *
 * The SQL functions work whether or not the library is preloaded; only the
 * background workers need shared_preload_libraries.  PGC_POSTMASTER
 * settings exist only when the library is preloaded (PostgreSQL refuses them
 * later); they are read by the workers alone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "perps_pg.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "adapter.h"
#include "export_xlsx.h"
#include "http.h"
#include "perps_stats.h"
#include "ratelimit.h"
#include "stream_status.h"
#include "workers.h"

PG_MODULE_MAGIC;

char	   *perps_database = "postgres";
int			perps_collect_interval = 60;
int			perps_orderbook_store_levels = 100;
int			perps_book_snapshot_interval = 10;
int			perps_flush_rows = 1000;
int			perps_stream_memory_limit = 262144;
int			perps_flush_interval = 200;
int			perps_stall_timeout = 30;
int			perps_stream_connection_lifetime = 0;
bool		perps_stream_workers = true;
char	   *perps_stream_ca_file = "";
char	   *perps_stream_kline_intervals = "1m";

void		_PG_init(void);

int
perps_kline_intervals_parse(const char *list, const char **out, char *bad, size_t bad_len)
{
	int			n = 0;
	const char *p = list ? list : "";

	for (;;)
	{
		char		word[8];
		const char *w;
		const char *name;
		size_t		len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		w = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		len = (size_t) (p - w);
		name = NULL;
		if (len < sizeof(word))
		{
			memcpy(word, w, len);
			word[len] = '\0';
			name = perps_interval_name(word);
		}
		if (name == NULL)
		{
			if (bad_len > 0)
				snprintf(bad, bad_len, "%.*s", (int) Min(len, 32), w);
			return -1;
		}
		for (int j = 0; j < n && name != NULL; j++)
			if (out[j] == name)
				name = NULL;
		if (name != NULL && n < PERPS_KLINE_MAX)
			out[n++] = name;
	}
	return n;
}

static bool
perps_check_kline_intervals(char **newval, void **extra, GucSource source)
{
	const char *iv[PERPS_KLINE_MAX];
	char		bad[40];

	if (perps_kline_intervals_parse(*newval, iv, bad, sizeof(bad)) < 0)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("\"%s\" is not a kline interval", bad);
		GUC_check_errdetail("The intervals are 1m, 5m, 15m, 30m, 1h, 4h and 1d, separated by commas.");
		return false;
	}
	return true;
}

static void
perps_define_core_gucs(void)
{
	/*
	 * PostgreSQL refuses PGC_POSTMASTER settings defined after startup, and
	 * only the workers (which need preloading) read them.
	 */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("perps_stats.database",
								   "Database in which the perps_stats background workers run.",
								   "The extension must be created in this database.",
								   &perps_database,
								   "postgres",
								   PGC_POSTMASTER,
								   GUC_SUPERUSER_ONLY,
								   NULL, NULL, NULL);

	DefineCustomIntVariable("perps_stats.collect_interval",
							"Interval between two collect() rounds of the collector worker.",
							"0 disables the collector.",
							&perps_collect_interval,
							60, 0, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("perps_stats.orderbook_store_levels",
							"Levels per side kept when an order book snapshot is stored.",
							"Liquidity depth and slippage are computed from the full book before truncation.",
							&perps_orderbook_store_levels,
							100, 1, 100000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("perps_stats.book_snapshot_interval",
							"Interval between two stored snapshots of a streamed order book.",
							NULL,
							&perps_book_snapshot_interval,
							10, 1, 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("perps_stats.stream_memory_limit",
							"Memory a stream worker may hold in its local books and receive queues.",
							"Half for the local books (past it the deepest levels are trimmed, and that is recorded), "
							"half for the connections' queues of received messages (past it reading pauses).",
							&perps_stream_memory_limit,
							262144, 4096, INT_MAX / 1024,
							PGC_SIGHUP,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("perps_stats.flush_rows",
							"Buffered rows after which a stream worker writes a batch.",
							NULL,
							&perps_flush_rows,
							1000, 1, 1000000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("perps_stats.flush_interval",
							"Longest time rows wait in a stream worker's buffer before they are written.",
							NULL,
							&perps_flush_interval,
							200, 10, 60000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("perps_stats.stream_workers",
							 "Whether the launcher runs the stream workers.",
							 "Off stops every stream worker; the watchlist decides what each one streams.",
							 &perps_stream_workers,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("perps_stats.stream_ca_file",
							   "PEM file of the certificate authorities the stream workers trust for wss://.",
							   "Empty: the system's certificate authorities.",
							   &perps_stream_ca_file,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("perps_stats.stream_kline_intervals",
							   "Kline intervals the stream workers subscribe, where the venue streams candles.",
							   "A comma-separated list of 1m, 5m, 15m, 30m, 1h, 4h, 1d; empty: no klines from the streams.",
							   &perps_stream_kline_intervals,
							   "1m",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   perps_check_kline_intervals, NULL, NULL);

	DefineCustomIntVariable("perps_stats.stall_timeout",
							"Silence after which a stream connection is restarted.",
							NULL,
							&perps_stall_timeout,
							30, 1, 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("perps_stats.stream_connection_lifetime",
							"Age at which a stream connection is replaced by a new one.",
							"0: ten minutes before the venue's own limit (Binance: 24 h), never on venues without one.",
							&perps_stream_connection_lifetime,
							0, 0, 7 * 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

void
_PG_init(void)
{
	/* Nothing to do while pg_upgrade copies the catalogs. */
	if (IsBinaryUpgrade)
		return;

	perps_define_core_gucs();
	perps_http_define_gucs();
	perps_export_define_gucs();

	MarkGUCPrefixReserved(PERPS_GUC_PREFIX);

	/* The workers exist only when the library is preloaded. */
	if (process_shared_preload_libraries_in_progress)
	{
		perps_workers_register();
		perps_stream_shmem_request();
		perps_registry_shmem_request();
		perps_ratelimit_shmem_request();
	}
}

PG_FUNCTION_INFO_V1(perps_stats_version);
Datum
perps_stats_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(PERPS_STATS_VERSION));
}
