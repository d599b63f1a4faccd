/*-------------------------------------------------------------------------
 *
 * stream_status.c
 *		The stream workers' status in shared memory and the set-returning
 *		function behind the perps_stats.stream_status view.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "stream_status.h"

typedef struct PerpsStreamSlot
{
	slock_t		mutex;
	bool		in_use;
	PerpsStreamStatus st;
} PerpsStreamSlot;

typedef struct PerpsStreamShared
{
	slock_t		mutex;			/* guards in_use of the slots */
	PerpsStreamSlot slots[PERPS_STREAM_SLOTS];
} PerpsStreamShared;

static PerpsStreamShared *stream_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
perps_stream_shmem_request_hook(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(PerpsStreamShared)));
}

static void
perps_stream_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	stream_shared = ShmemInitStruct("perps_stats stream status", sizeof(PerpsStreamShared), &found);
	if (!found)
	{
		memset(stream_shared, 0, sizeof(PerpsStreamShared));
		SpinLockInit(&stream_shared->mutex);
		for (int i = 0; i < PERPS_STREAM_SLOTS; i++)
			SpinLockInit(&stream_shared->slots[i].mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
perps_stream_shmem_request(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = perps_stream_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = perps_stream_shmem_startup;
}

int
perps_stream_slot_claim(int32 exchange_id)
{
	int			slot = -1;

	if (stream_shared == NULL)
		return -1;
	SpinLockAcquire(&stream_shared->mutex);
	for (int i = 0; i < PERPS_STREAM_SLOTS && slot < 0; i++)
		if (stream_shared->slots[i].in_use && stream_shared->slots[i].st.exchange_id == exchange_id)
			slot = i;
	for (int i = 0; i < PERPS_STREAM_SLOTS && slot < 0; i++)
		if (!stream_shared->slots[i].in_use)
		{
			slot = i;
			stream_shared->slots[i].in_use = true;
			stream_shared->slots[i].st.exchange_id = exchange_id;
		}
	SpinLockRelease(&stream_shared->mutex);
	return slot;
}

void
perps_stream_slot_publish(int slot, const PerpsStreamStatus *st)
{
	PerpsStreamSlot *s;

	if (stream_shared == NULL || slot < 0 || slot >= PERPS_STREAM_SLOTS)
		return;
	s = &stream_shared->slots[slot];
	SpinLockAcquire(&s->mutex);
	memcpy(&s->st, st, sizeof(PerpsStreamStatus));
	SpinLockRelease(&s->mutex);
}

PG_FUNCTION_INFO_V1(perps_stream_status);
Datum
perps_stream_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		v010;

	InitMaterializedSRF(fcinfo, 0);
	if (stream_shared == NULL)
		PG_RETURN_VOID();
	/* the 0.1.0 declaration (until ALTER EXTENSION UPDATE) has no refetch counters */
	v010 = rsinfo->setDesc->natts == 14;
	if (!v010 && rsinfo->setDesc->natts != 17)
		elog(ERROR, "perps_stats._stream_status is declared with %d columns", rsinfo->setDesc->natts);

	for (int i = 0; i < PERPS_STREAM_SLOTS; i++)
	{
		PerpsStreamSlot *s = &stream_shared->slots[i];
		PerpsStreamStatus st;
		bool		in_use;
		Datum		values[17];
		bool		nulls[17];
		int			k = 0;

		SpinLockAcquire(&s->mutex);
		in_use = s->in_use;
		memcpy(&st, &s->st, sizeof(st));
		SpinLockRelease(&s->mutex);
		if (!in_use || st.exchange[0] == '\0')
			continue;

		memset(nulls, 0, sizeof(nulls));
		st.exchange[NAMEDATALEN - 1] = '\0';
		st.state[sizeof(st.state) - 1] = '\0';
		st.last_error[PERPS_STREAM_ERR_LEN - 1] = '\0';
		values[k++] = CStringGetTextDatum(st.exchange);
		values[k++] = CStringGetTextDatum(st.state);
		nulls[k] = st.connected_since == 0;
		values[k++] = TimestampTzGetDatum(st.connected_since);
		values[k++] = Int64GetDatum(st.messages);
		values[k++] = Int64GetDatum(st.rows_written);
		values[k++] = Int64GetDatum(st.bytes);
		nulls[k] = st.last_message_at == 0;
		values[k++] = TimestampTzGetDatum(st.last_message_at);
		values[k++] = Int64GetDatum(st.reconnects);
		values[k++] = Int64GetDatum(st.gaps);
		values[k++] = Int64GetDatum(st.resyncs);
		values[k++] = Int64GetDatum(st.parse_errors);
		if (!v010)
		{
			values[k++] = Int64GetDatum(st.refetches);
			values[k++] = Int64GetDatum(st.trades_refetched);
			values[k++] = Int64GetDatum(st.trade_gaps);
		}
		values[k++] = Int64GetDatum(st.buffered_rows);
		nulls[k] = st.last_error[0] == '\0';
		values[k++] = CStringGetTextDatum(st.last_error);
		values[k++] = Int32GetDatum(st.pid);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
