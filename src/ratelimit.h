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
 * The venue counts a request when it arrives, somewhere between the take
 * and the answer.  So a request's weight counts from its take until a
 * window after its answer: while in flight it is held apart, and when it
 * ends (perps_rate_done) it moves to the slot of that moment.  Then every
 * request the venue saw in any window of its own was, at the end of that
 * window, either in flight or answered less than a window before, and all
 * of those were let through together: at most the limit, however late the
 * network delivered them.  (Weight still in flight a whole window after
 * its take ages out with its slot, so a backend killed mid-request leaks
 * nothing.)
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

/* A request's weight while it is in flight; zeroed: none held. */
typedef struct PerpsRateTicket
{
	int			account;		/* index + 1 of the venue's account; 0: none held */
	uint32		generation;		/* the account's, when taken */
	int64		slot;			/* absolute slot of the take */
	int			weight;
} PerpsRateTicket;

/*
 * Takes weight from venue's account (limit weight per window_ms) at now
 * (perps_now_ms(), ms on a monotonic clock the same for every process):
 * true when the request may go, its weight held in *ticket until
 * perps_rate_done; false and *wait_ms until it is worth asking again.  A
 * limit of 0 or less is no limit (nothing held).
 */
extern bool perps_rate_take(const char *venue, int limit, int window_ms, int weight, int64 now,
							int64 *wait_ms, PerpsRateTicket *ticket);

/*
 * The request of *ticket ended at now (answered, failed or abandoned): its
 * weight counts for a window from now.  Does nothing for an empty ticket;
 * empties it.
 */
extern void perps_rate_done(PerpsRateTicket *ticket, int64 now);

/*
 * The weight the venue's account could take now (INT_MAX: no limit): for
 * a caller that must not wait (a stream worker's loop), to put a request
 * off rather than block on it.
 */
extern int	perps_rate_headroom(const char *venue, int limit, int window_ms, int64 now);

#endif							/* PERPS_RATELIMIT_H */
