/*-------------------------------------------------------------------------
 *
 * stream_status.h
 *		Shared-memory status of the stream workers, one slot per venue,
 *		read by perps_stats.stream_status.
 *
 * Each worker keeps its counters in a local PerpsStreamStatus and
 * publishes the whole struct into its slot under the slot's spinlock once
 * per loop iteration; readers copy a slot under the same spinlock.  The
 * shared memory exists only when the library is preloaded; without it the
 * view is empty.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_STREAM_STATUS_H
#define PERPS_STREAM_STATUS_H

#include "postgres.h"

#include "datatype/timestamp.h"

#define PERPS_STREAM_SLOTS 32
#define PERPS_STREAM_ERR_LEN 256

typedef struct PerpsStreamStatus
{
	int32		exchange_id;
	char		exchange[NAMEDATALEN];
	int			pid;
	char		state[32];		/* starting, connecting, streaming, reconnecting, backoff, backpressure, idle, stopped */
	TimestampTz connected_since;	/* 0: not connected */
	TimestampTz last_message_at;	/* 0: never */
	int64		messages;
	int64		rows_written;
	int64		bytes;
	int64		reconnects;
	int64		gaps;
	int64		resyncs;
	int64		parse_errors;
	int64		book_trims;		/* local books trimmed to the memory budget */
	int64		refetches;		/* trade gaps the worker refetched by REST */
	int64		trades_refetched;
	int64		trade_gaps;		/* trade gaps recorded as lost (not, or not all, refetched) */
	int64		buffered_rows;
	char		last_error[PERPS_STREAM_ERR_LEN];
} PerpsStreamStatus;

/* _PG_init, while preloading: asks for the shared memory. */
extern void perps_stream_shmem_request(void);

/* The slot of a venue (claimed on first use); NULL when there is no shared memory or no free slot. */
extern int	perps_stream_slot_claim(int32 exchange_id);
extern void perps_stream_slot_publish(int slot, const PerpsStreamStatus *st);

#endif							/* PERPS_STREAM_STATUS_H */
