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

/*
 * The worker registry (registry.c): one entry per dynamic worker, so that
 * there is never more than one of each.
 */
typedef enum PerpsWorkerKind
{
	PERPS_WORKER_COLLECTOR = 1,
	PERPS_WORKER_STREAM			/* id: the venue */
} PerpsWorkerKind;

/* _PG_init, while preloading: asks for the shared memory. */
extern void perps_registry_shmem_request(void);

/* A worker takes its entry when it starts; false: another live process holds it (exit then). */
extern bool perps_registry_claim(PerpsWorkerKind kind, int32 id);

/* The pid of the live worker holding the entry, 0 when none. */
extern pid_t perps_registry_running(PerpsWorkerKind kind, int32 id);

/* SIGTERM to the live worker holding the entry, if any. */
extern void perps_registry_stop(PerpsWorkerKind kind, int32 id);

/* SIGTERM to every live worker of kind whose id is not among ids[0..n-1]. */
extern void perps_registry_stop_unlisted(PerpsWorkerKind kind, const int32 *ids, int n);

/* True when the perps_stats extension exists in the current database (needs a transaction). */
extern bool perps_extension_exists(void);

PGDLLEXPORT void perps_launcher_main(Datum arg);
PGDLLEXPORT void perps_collector_main(Datum arg);
PGDLLEXPORT void perps_stream_main(Datum arg);

#endif							/* PERPS_WORKERS_H */
