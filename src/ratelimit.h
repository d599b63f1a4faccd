/*-------------------------------------------------------------------------
 *
 * ratelimit.h
 *		Each venue's rate limit, shared by every backend of the cluster.
 *
 * A venue documents a weight it allows per window (Binance: 2400 a
 * minute).  Every request anyone sends to the venue (the collector, the
 * stream workers' REST calls, backfills, any number of sessions calling
 * fetch_*) takes its weight from one account per venue in shared memory:
 * the weight sent in the last window, kept in RL_SLOTS slots of
 * window/RL_SLOTS each.  A request goes when the weight of the slots that
 * overlap the last window plus its own stays within the limit, so the
 * weight of any window (sliding, not only aligned ones) never exceeds it,
 * while a round of up to the whole limit (a collect() round) goes at once;
 * otherwise the caller is told how long until enough slots have aged out.
 * A request heavier than the whole limit goes alone, in an empty window.
 *
 * Without shared_preload_libraries there is no shared memory: each
 * backend then keeps its own account (the limit holds per backend only).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_RATELIMIT_H
#define PERPS_RATELIMIT_H

#include "postgres.h"

extern void perps_ratelimit_shmem_request(void);

/*
 * Takes weight from venue's account (limit weight per window_ms) at now
 * (perps_now_ms(), ms on a monotonic clock the same for every process): true when the request may go; false and *wait_ms until it is
 * worth asking again.  A limit of 0 or less is no limit.
 */
extern bool perps_rate_take(const char *venue, int limit, int window_ms, int weight, int64 now,
							int64 *wait_ms);

/*
 * The weight the venue's account could take now (INT_MAX: no limit): for
 * a caller that must not wait (a stream worker's loop), to put a request
 * off rather than block on it.
 */
extern int	perps_rate_headroom(const char *venue, int limit, int window_ms, int64 now);

#endif							/* PERPS_RATELIMIT_H */
