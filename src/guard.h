/*-------------------------------------------------------------------------
 *
 * guard.h
 *		Running a step so that its failure is the caller's to handle: in a
 *		subtransaction (one market's error must not end a round), or with
 *		the rights of the extension's owner (a caller allowed to fetch need
 *		not be allowed to write perps_stats.markets).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_GUARD_H
#define PERPS_GUARD_H

#include "postgres.h"

/*
 * Runs fn(arg) in a subtransaction.  Returns NULL when it succeeded, else
 * its error (copied into the memory context current at the call), the
 * subtransaction rolled back.  A query cancel or a shutdown is raised
 * again: it ends the whole call.
 */
extern ErrorData *perps_run_guarded(void (*fn) (void *arg), void *arg);

/*
 * Runs fn(arg) as the owner of perps_stats.markets (the extension's
 * owner), with search_path = pg_catalog, pg_temp, as a SECURITY DEFINER
 * function with a fixed search_path would; the caller's user and settings
 * are back afterwards, also when fn raises.
 */
extern void perps_run_as_owner(void (*fn) (void *arg), void *arg);

/*
 * In a worker's PG_CATCH around a transaction of its own: the error,
 * copied into cxt, and the transaction aborted, ready for the next one.
 */
extern ErrorData *perps_catch_and_abort(MemoryContext cxt);

#endif							/* PERPS_GUARD_H */
