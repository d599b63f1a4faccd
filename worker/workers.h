/*-------------------------------------------------------------------------
 *
 * workers.h
 *		The background workers of perps_stats: a static launcher, started
 *		from shared_preload_libraries, and the dynamic workers it starts,
 *		watches and restarts (the collector; the stream workers).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_WORKERS_H
#define PERPS_WORKERS_H

#include "postgres.h"

#include "fmgr.h"

/* Registers the launcher; called by _PG_init while preloading. */
extern void perps_workers_register(void);

/* True when the perps_stats extension exists in the current database (needs a transaction). */
extern bool perps_extension_exists(void);

PGDLLEXPORT void perps_launcher_main(Datum arg);
PGDLLEXPORT void perps_collector_main(Datum arg);
PGDLLEXPORT void perps_stream_main(Datum arg);

#endif							/* PERPS_WORKERS_H */
