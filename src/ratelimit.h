/*-------------------------------------------------------------------------
 *
 * ratelimit.h
 *		Each venue's rate limit, shared by every backend of the cluster.
 *
 * A venue documents a weight it allows per window (Binance: 2400 a
 * minute).  Every request anyone sends to the venue (the collector, the
 * stream workers' REST calls, backfills, any number of sessions calling
 * fetch_*) takes its weight from one token bucket per venue in shared
 * memory.  The bucket holds half of the limit and refills the other half
 * evenly over the window, so the weight sent in any window (sliding, not
 * only aligned ones) is at most what the bucket held at its start plus
 * what it refilled during it: the limit.  A round of up to half the limit
 * (a collect() round) goes at once, a long run at half the documented
 * rate, and nobody waits longer than one request's weight takes to refill.  A request heavier than the
 * bucket goes when it is full and leaves a debt paid by waiting after.
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

#endif							/* PERPS_RATELIMIT_H */
