/*-------------------------------------------------------------------------
 *
 * registry.c
 *		Who runs: one entry in shared memory per dynamic worker (the
 *		collector; a stream worker per venue) with its process id, so that
 *		there is never more than one of each.
 *
 * A worker claims its entry when it starts and gives it back when it
 * exits; a worker that finds its entry held by another live process exits
 * at once.  The launcher looks here before it starts a worker: a launcher
 * that died and came back (pg_terminate_backend, a crash of its own) finds
 * the workers its predecessor started still running, adopts them instead
 * of starting them twice, and stops them by their pid when they are no
 * longer wanted.
 *
 * Liveness: the pid must be a backend of this cluster (BackendPidGetProc),
 * so an entry left by a process that died without exiting cleanly (its pid
 * reused by something else) counts as free.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "workers.h"

#define REGISTRY_SLOTS 64

typedef struct RegistrySlot
{
	int			kind;			/* PerpsWorkerKind; 0: free */
	int32		id;				/* the venue of a stream worker */
	pid_t		pid;
} RegistrySlot;

typedef struct RegistryShared
{
	slock_t		mutex;
	RegistrySlot slots[REGISTRY_SLOTS];
} RegistryShared;

static RegistryShared *registry = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static int	my_slot = -1;

static void
registry_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RegistryShared)));
}

static void
registry_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	registry = ShmemInitStruct("perps_stats worker registry", sizeof(RegistryShared), &found);
	if (!found)
	{
		memset(registry, 0, sizeof(RegistryShared));
		SpinLockInit(&registry->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
perps_registry_shmem_request(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = registry_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = registry_shmem_startup;
}

/* A backend of this cluster (not a reused pid, not a process that is gone). */
static bool
registry_alive(pid_t pid)
{
	return pid > 0 && BackendPidGetProc(pid) != NULL;
}

/* The pid in the entry of (kind, id), 0 when none: read under the lock, checked outside it. */
static pid_t
registry_holder(PerpsWorkerKind kind, int32 id, int *slot)
{
	pid_t		pid = 0;

	*slot = -1;
	SpinLockAcquire(&registry->mutex);
	for (int i = 0; i < REGISTRY_SLOTS; i++)
		if (registry->slots[i].kind == (int) kind && registry->slots[i].id == id)
		{
			*slot = i;
			pid = registry->slots[i].pid;
			break;
		}
	SpinLockRelease(&registry->mutex);
	return pid;
}

pid_t
perps_registry_running(PerpsWorkerKind kind, int32 id)
{
	int			slot;
	pid_t		pid;

	if (registry == NULL)
		return 0;
	pid = registry_holder(kind, id, &slot);
	return registry_alive(pid) ? pid : 0;
}

static void
registry_release(int code, Datum arg)
{
	if (registry == NULL || my_slot < 0)
		return;
	SpinLockAcquire(&registry->mutex);
	if (registry->slots[my_slot].pid == MyProcPid)
		memset(&registry->slots[my_slot], 0, sizeof(RegistrySlot));
	SpinLockRelease(&registry->mutex);
	my_slot = -1;
}

bool
perps_registry_claim(PerpsWorkerKind kind, int32 id)
{
	int			slot;
	pid_t		pid;
	bool		ok = false;

	if (registry == NULL)
		return true;			/* not preloaded: no workers to double */
	pid = registry_holder(kind, id, &slot);
	if (pid != 0 && pid != MyProcPid && registry_alive(pid))
		return false;
	SpinLockAcquire(&registry->mutex);
	/* the entry may have changed since: take it only as it was seen, or a free one */
	if (slot >= 0 && registry->slots[slot].kind == (int) kind && registry->slots[slot].id == id &&
		registry->slots[slot].pid == pid)
	{
		registry->slots[slot].pid = MyProcPid;
		ok = true;
	}
	else if (slot < 0)
	{
		bool		taken = false;

		for (int i = 0; i < REGISTRY_SLOTS; i++)
			if (registry->slots[i].kind == (int) kind && registry->slots[i].id == id)
				taken = true;
		for (int i = 0; i < REGISTRY_SLOTS && !taken && !ok; i++)
			if (registry->slots[i].kind == 0)
			{
				registry->slots[i].kind = (int) kind;
				registry->slots[i].id = id;
				registry->slots[i].pid = MyProcPid;
				slot = i;
				ok = true;
			}
	}
	SpinLockRelease(&registry->mutex);
	if (ok)
	{
		my_slot = slot;
		before_shmem_exit(registry_release, (Datum) 0);
	}
	return ok;
}

void
perps_registry_stop_unlisted(PerpsWorkerKind kind, const int32 *ids, int n)
{
	int32		found[REGISTRY_SLOTS];
	int			nfound = 0;

	if (registry == NULL)
		return;
	SpinLockAcquire(&registry->mutex);
	for (int i = 0; i < REGISTRY_SLOTS; i++)
		if (registry->slots[i].kind == (int) kind)
			found[nfound++] = registry->slots[i].id;
	SpinLockRelease(&registry->mutex);
	for (int i = 0; i < nfound; i++)
	{
		bool		listed = false;

		for (int k = 0; k < n && !listed; k++)
			listed = ids[k] == found[i];
		if (!listed)
			perps_registry_stop(kind, found[i]);
	}
}

void
perps_registry_stop(PerpsWorkerKind kind, int32 id)
{
	pid_t		pid = perps_registry_running(kind, id);

	if (pid != 0)
		(void) kill(pid, SIGTERM);
}
