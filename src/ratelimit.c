/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *		Each venue's rate limit, shared by every backend of the cluster
 *		(see ratelimit.h).
 *
 * Shared memory: RL_VENUES accounts under one spinlock, each two rings of
 * RL_SLOTS weights (sent and answered; taken and still in flight, by the
 * slot of the take); a take sums at most 2 * RL_SLOTS integers while
 * holding it.
 * Without preloading, the same accounts live in backend memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "perps_pg.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "http.h"
#include "ratelimit.h"

#define RL_VENUES 64
#define RL_SLOTS 64

typedef struct RateAccount
{
	char		venue[NAMEDATALEN]; /* "": free */
	int			limit;
	int			window_ms;
	int64		slot_ms;		/* window_ms / RL_SLOTS, rounded up */
	int64		newest;			/* absolute number (ms / slot_ms) of the newest slot */
	int32		used[RL_SLOTS];	/* weight of the requests that ended in each slot, a ring by absolute number */
	int32		inflight[RL_SLOTS];	/* weight taken in each slot and not ended yet */
	uint32		generation;		/* changes when the rings are reset: older tickets are void */
	int64		taken;			/* requests let through, weight sent */
	int64		weight_sent;
	int64		refused;		/* takes refused (the caller waited) */
	TimestampTz last_refused_at;
	int32		last_refused_pid;
} RateAccount;

typedef struct RateShared
{
	slock_t		mutex;
	RateAccount accounts[RL_VENUES];
} RateShared;

static RateShared *rate_shared = NULL;
static RateShared rate_local;	/* without preloading */
static bool rate_local_init = false;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
ratelimit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RateShared)));
}

static void
ratelimit_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rate_shared = ShmemInitStruct("perps_stats rate limits", sizeof(RateShared), &found);
	if (!found)
	{
		memset(rate_shared, 0, sizeof(RateShared));
		SpinLockInit(&rate_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
perps_ratelimit_shmem_request(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ratelimit_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ratelimit_shmem_startup;
}

static RateShared *
ratelimit_state(void)
{
	if (rate_shared != NULL)
		return rate_shared;
	if (!rate_local_init)
	{
		memset(&rate_local, 0, sizeof(rate_local));
		SpinLockInit(&rate_local.mutex);
		rate_local_init = true;
	}
	return &rate_local;
}

/* (Re)sets an account's limit: an empty window. */
static void
ratelimit_set(RateAccount *a, int limit, int window_ms)
{
	a->limit = limit;
	a->window_ms = window_ms;
	a->slot_ms = Max((window_ms + RL_SLOTS - 1) / RL_SLOTS, 1);
	a->newest = 0;
	memset(a->used, 0, sizeof(a->used));
	memset(a->inflight, 0, sizeof(a->inflight));
	a->generation++;
}

/* The venue's account (made, or reset when its limit changed); NULL when all are taken.  Under the lock. */
static RateAccount *
ratelimit_account(RateShared *st, const char *venue, int limit, int window_ms)
{
	RateAccount *free_acc = NULL;

	for (int i = 0; i < RL_VENUES; i++)
	{
		RateAccount *a = &st->accounts[i];

		if (a->venue[0] == '\0')
		{
			if (free_acc == NULL)
				free_acc = a;
			continue;
		}
		if (strcmp(a->venue, venue) != 0)
			continue;
		if (a->limit != limit || a->window_ms != window_ms)
			ratelimit_set(a, limit, window_ms);
		return a;
	}
	if (free_acc == NULL)
		return NULL;
	memset(free_acc, 0, sizeof(*free_acc));
	strlcpy(free_acc->venue, venue, sizeof(free_acc->venue));
	ratelimit_set(free_acc, limit, window_ms);
	return free_acc;
}

/* The ring moved on to the slot of now, the slots that left the window emptied; the weight in it.  Under the lock. */
static int64
ratelimit_advance(RateAccount *a, int64 now)
{
	int64		cur = now / a->slot_ms;
	int64		sum = 0;

	if (cur > a->newest)
	{
		if (cur - a->newest >= RL_SLOTS)
		{
			memset(a->used, 0, sizeof(a->used));
			memset(a->inflight, 0, sizeof(a->inflight));
		}
		else
			for (int64 k = a->newest + 1; k <= cur; k++)
				a->used[k % RL_SLOTS] = a->inflight[k % RL_SLOTS] = 0;
		a->newest = cur;
	}
	for (int i = 0; i < RL_SLOTS; i++)
		sum += a->used[i] + a->inflight[i];
	return sum;
}

bool
perps_rate_take(const char *venue, int limit, int window_ms, int weight, int64 now, int64 *wait_ms,
				PerpsRateTicket *ticket)
{
	RateShared *st = ratelimit_state();
	RateAccount *a;
	int64		sum;
	bool		ok;

	*wait_ms = 0;
	memset(ticket, 0, sizeof(*ticket));
	if (limit <= 0 || window_ms <= 0)
		return true;
	if (weight < 1)
		weight = 1;

	SpinLockAcquire(&st->mutex);
	a = ratelimit_account(st, venue, limit, window_ms);
	if (a == NULL)
	{
		SpinLockRelease(&st->mutex);
		elog(ERROR, "more than %d rate-limited venues", RL_VENUES);
	}
	sum = ratelimit_advance(a, now);
	/* a request heavier than the whole limit goes alone, in an empty window */
	ok = weight > limit ? sum == 0 : sum + weight <= limit;
	if (ok)
	{
		a->inflight[a->newest % RL_SLOTS] += weight;
		ticket->account = (int) (a - st->accounts) + 1;
		ticket->generation = a->generation;
		ticket->slot = a->newest;
		ticket->weight = weight;
		a->taken++;
		a->weight_sent += weight;
	}
	else
	{
		int64		need = weight > limit ? sum : sum + weight - limit;
		int64		freed = 0;

		/* the oldest slots leave the window first: until enough of them have */
		*wait_ms = (int64) RL_SLOTS * a->slot_ms;
		for (int64 k = a->newest - RL_SLOTS + 1; k <= a->newest; k++)
		{
			int			i = ((k % RL_SLOTS) + RL_SLOTS) % RL_SLOTS;

			/* (weight in flight may end later than that: then it is asked again) */
			freed += a->used[i] + a->inflight[i];
			if (freed >= need)
			{
				*wait_ms = Max((k + RL_SLOTS) * a->slot_ms - now, 1);
				break;
			}
		}
		a->refused++;
		a->last_refused_at = GetCurrentTimestamp();
		a->last_refused_pid = MyProcPid;
	}
	SpinLockRelease(&st->mutex);
	return ok;
}

void
perps_rate_done(PerpsRateTicket *ticket, int64 now)
{
	RateShared *st;
	RateAccount *a;

	if (ticket->account <= 0 || ticket->account > RL_VENUES)
		return;
	st = ratelimit_state();
	SpinLockAcquire(&st->mutex);
	a = &st->accounts[ticket->account - 1];
	if (a->venue[0] != '\0' && a->generation == ticket->generation)
	{
		(void) ratelimit_advance(a, now);
		if (a->newest - ticket->slot < RL_SLOTS)
		{
			int32	   *held = &a->inflight[ticket->slot % RL_SLOTS];

			*held -= Min(*held, ticket->weight);
		}
		a->used[a->newest % RL_SLOTS] += ticket->weight;
	}
	SpinLockRelease(&st->mutex);
	memset(ticket, 0, sizeof(*ticket));
}

int
perps_rate_headroom(const char *venue, int limit, int window_ms, int64 now)
{
	RateShared *st = ratelimit_state();
	RateAccount *a;
	int64		left;

	if (limit <= 0 || window_ms <= 0)
		return INT_MAX;
	/* the account as the requests set it (a limit configured in exchanges may differ) */
	left = INT_MAX;
	SpinLockAcquire(&st->mutex);
	for (int i = 0; i < RL_VENUES; i++)
	{
		a = &st->accounts[i];
		if (a->venue[0] != '\0' && strcmp(a->venue, venue) == 0)
		{
			left = a->limit - ratelimit_advance(a, now);
			break;
		}
	}
	SpinLockRelease(&st->mutex);
	return (int) Max(Min(left, INT_MAX), 0);
}

PG_FUNCTION_INFO_V1(perps_stats_rate_limits);

/*
 * perps_stats.rate_limits() -> (exchange, weight_limit, window_ms,
 * available, requests, weight_sent, refused, last_refused_at,
 * last_refused_pid, shared): each venue's account since the server
 * started (or, without preloading, this backend's).
 */
Datum
perps_stats_rate_limits(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RateShared *st = ratelimit_state();
	RateAccount *copy = palloc(sizeof(RateAccount) * RL_VENUES);
	int64		now = perps_now_ms();
	int64		in_window[RL_VENUES];

	InitMaterializedSRF(fcinfo, 0);
	SpinLockAcquire(&st->mutex);
	for (int i = 0; i < RL_VENUES; i++)
	{
		in_window[i] = st->accounts[i].venue[0] != '\0' ? ratelimit_advance(&st->accounts[i], now) : 0;
		copy[i] = st->accounts[i];
	}
	SpinLockRelease(&st->mutex);

	for (int i = 0; i < RL_VENUES; i++)
	{
		RateAccount *a = &copy[i];
		Datum		values[10];
		bool		nulls[10] = {false};

		if (a->venue[0] == '\0')
			continue;
		values[0] = CStringGetTextDatum(a->venue);
		values[1] = Int32GetDatum(a->limit);
		values[2] = Int32GetDatum(a->window_ms);
		values[3] = Float8GetDatum((double) Max(a->limit - in_window[i], 0));
		values[4] = Int64GetDatum(a->taken);
		values[5] = Int64GetDatum(a->weight_sent);
		values[6] = Int64GetDatum(a->refused);
		nulls[7] = a->last_refused_at == 0;
		values[7] = TimestampTzGetDatum(a->last_refused_at);
		nulls[8] = a->last_refused_pid == 0;
		values[8] = Int32GetDatum(a->last_refused_pid);
		values[9] = BoolGetDatum(st == rate_shared);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
