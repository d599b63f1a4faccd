/*-------------------------------------------------------------------------
 *
 * bulk.c
 *		Bulk loading of rows given as Datums through the table access
 *		method's multi-insert path (see bulk.h).
 *
 * The rows are routed to their partitions as INSERT and COPY route them,
 * checked against the partition's constraints, buffered per partition and
 * written a batch at a time with table_multi_insert, then indexed.  The
 * batch slots share one copy per partition of its row type, which nothing
 * reference-counts: COPY's slots pin the relation's row type in the
 * transaction's resource owner, a thousand identical entries whose
 * bookkeeping grows with their number; for a writer that commits every
 * thousand rows that was a tenth of its time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/rls.h"

#include "bulk.h"
#include "guard.h"

/* rows a partition's buffer holds before it is written (COPY's figure) */
#define BULK_BATCH 1000

/* the rows waiting for one partition */
typedef struct BulkBuffer
{
	ResultRelInfo *rri;
	TupleDesc	desc;			/* a copy of the row type, shared by the slots */
	TupleTableSlot **slots;		/* created as needed, BULK_BATCH at most */
	int			nslots;
	int			n;				/* slots holding a row */
} BulkBuffer;

typedef struct BulkState
{
	EState	   *estate;
	CommandId	cid;
	BulkInsertState bistate;
	BulkBuffer *bufs;
	int			nbufs;
	int			maxbufs;
	uint64		processed;
} BulkState;

static void
bulk_refuse(ResultRelInfo *rri, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("bulk load into \"%s\" is not supported: %s",
					RelationGetRelationName(rri->ri_RelationDesc), why)));
}

/* What this path does not do (the caller's INSERT does): refused. */
static void
bulk_check_target(ResultRelInfo *rri, bool routed)
{
	Relation	rel = rri->ri_RelationDesc;

	if (rri->ri_TrigDesc != NULL)
		bulk_refuse(rri, "it has triggers");
	if (rri->ri_FdwRoutine != NULL)
		bulk_refuse(rri, "it is a foreign table");
	if (routed && rri->ri_RootToPartitionMap != NULL)
		bulk_refuse(rri, "its columns are not laid out as its parent's");
	if (rel->rd_att->constr != NULL && rel->rd_att->constr->has_generated_stored)
		bulk_refuse(rri, "it has generated columns");
	if (check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED)
		bulk_refuse(rri, "it has row level security");
}

/* the buffer of a partition, made on its first row */
static BulkBuffer *
bulk_buffer(BulkState *bs, ResultRelInfo *rri, bool routed)
{
	for (int i = 0; i < bs->nbufs; i++)
		if (bs->bufs[i].rri == rri)
			return &bs->bufs[i];
	bulk_check_target(rri, routed);
	if (bs->nbufs == bs->maxbufs)
	{
		bs->maxbufs = bs->maxbufs ? bs->maxbufs * 2 : 4;
		bs->bufs = bs->bufs ? repalloc(bs->bufs, sizeof(BulkBuffer) * bs->maxbufs) :
			palloc(sizeof(BulkBuffer) * bs->maxbufs);
	}
	bs->bufs[bs->nbufs].rri = rri;
	/* a copy of the row type: no reference count, nothing to pin */
	bs->bufs[bs->nbufs].desc = CreateTupleDescCopy(RelationGetDescr(rri->ri_RelationDesc));
	bs->bufs[bs->nbufs].slots = palloc(sizeof(TupleTableSlot *) * BULK_BATCH);
	bs->bufs[bs->nbufs].nslots = 0;
	bs->bufs[bs->nbufs].n = 0;
	return &bs->bufs[bs->nbufs++];
}

/* the next free slot of a buffer (which has room) */
static TupleTableSlot *
bulk_slot(BulkBuffer *b)
{
	if (b->n == b->nslots)
		b->slots[b->nslots++] = MakeSingleTupleTableSlot(b->desc, table_slot_callbacks(b->rri->ri_RelationDesc));
	return b->slots[b->n];
}

/* Writes a buffer's rows and their index entries. */
static void
bulk_write(BulkState *bs, BulkBuffer *b)
{
	ResultRelInfo *rri = b->rri;

	if (b->n == 0)
		return;
	table_multi_insert(rri->ri_RelationDesc, b->slots, b->n, bs->cid, 0, bs->bistate);
	for (int i = 0; i < b->n; i++)
	{
		if (rri->ri_NumIndices > 0)
		{
			List	   *recheck;

			ResetPerTupleExprContext(bs->estate);
			recheck = ExecInsertIndexTuples(rri, b->slots[i], bs->estate, false, false, NULL, NIL);
			list_free(recheck);
		}
		ExecClearTuple(b->slots[i]);
	}
	bs->processed += b->n;
	b->n = 0;
	ReleaseBulkInsertStatePin(bs->bistate);
}

uint64
perps_bulk_insert(const char *schema, const char *table, int natts, int nrows,
				  PerpsBulkFill fill, void *arg)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "perps bulk insert",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	RangeVar   *rv = makeRangeVar(pstrdup(schema), pstrdup(table), -1);
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	List	   *rtable;
	BulkState	bs = {0};
	ResultRelInfo *root = makeNode(ResultRelInfo);
	ModifyTableState *mtstate = NULL;
	PartitionTupleRouting *proute = NULL;
	Relation	rel;
	TupleDesc	desc;
	TupleTableSlot *rslot;
	BulkBuffer *b = NULL;

	rte->rtekind = RTE_RELATION;
	rte->relid = RangeVarGetRelid(rv, RowExclusiveLock, false);
	rte->relkind = get_rel_relkind(rte->relid);
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	rtable = list_make1(rte);
	ExecCheckRTPerms(rtable, true);

	bs.estate = CreateExecutorState();
	ExecInitRangeTable(bs.estate, rtable);
	ExecInitResultRelation(bs.estate, root, 1);
	CheckValidResultRel(root, CMD_INSERT);
	rel = root->ri_RelationDesc;
	desc = RelationGetDescr(rel);
	if (desc->natts != natts)
		bulk_refuse(root, "its columns are not the ones given");
	for (int i = 0; i < natts; i++)
		if (TupleDescAttr(desc, i)->attisdropped)
			bulk_refuse(root, "it has a dropped column");
	bulk_check_target(root, false);

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
		/* routing wants a ModifyTableState; this one stands for an INSERT */
		mtstate = makeNode(ModifyTableState);
		mtstate->ps.state = bs.estate;
		mtstate->operation = CMD_INSERT;
		mtstate->mt_nrels = 1;
		mtstate->resultRelInfo = root;
		mtstate->rootResultRelInfo = root;
		proute = ExecSetupPartitionTupleRouting(bs.estate, rel);
	}
	else
	{
		ExecOpenIndices(root, false);
		b = bulk_buffer(&bs, root, false);
	}
	bs.cid = GetCurrentCommandId(true);
	bs.bistate = GetBulkInsertState();
	rslot = MakeSingleTupleTableSlot(CreateTupleDescCopy(desc), &TTSOpsVirtual);

	for (int r = 0; r < nrows; r++)
	{
		TupleTableSlot *slot;

		CHECK_FOR_INTERRUPTS();
		ResetPerTupleExprContext(bs.estate);
		/* the values only have to live until they are copied into the batch slot */
		MemoryContextSwitchTo(GetPerTupleMemoryContext(bs.estate));
		ExecClearTuple(rslot);
		fill(arg, r, rslot->tts_values, rslot->tts_isnull);
		ExecStoreVirtualTuple(rslot);
		MemoryContextSwitchTo(cxt);

		if (proute != NULL)
			b = bulk_buffer(&bs, ExecFindPartition(mtstate, root, proute, rslot, bs.estate), true);
		slot = bulk_slot(b);
		ExecCopySlot(slot, rslot);
		slot->tts_tableOid = RelationGetRelid(b->rri->ri_RelationDesc);
		if (b->rri->ri_RelationDesc->rd_att->constr != NULL)
			ExecConstraints(b->rri, slot, bs.estate);
		if (++b->n == BULK_BATCH)
			bulk_write(&bs, b);
	}
	for (int i = 0; i < bs.nbufs; i++)
		bulk_write(&bs, &bs.bufs[i]);

	for (int i = 0; i < bs.nbufs; i++)
		for (int k = 0; k < bs.bufs[i].nslots; k++)
			ExecDropSingleTupleTableSlot(bs.bufs[i].slots[k]);
	ExecDropSingleTupleTableSlot(rslot);
	FreeBulkInsertState(bs.bistate);
	if (proute != NULL)
		ExecCleanupTupleRouting(mtstate, proute);
	ExecCloseResultRelations(bs.estate);
	ExecCloseRangeTableRelations(bs.estate);
	FreeExecutorState(bs.estate);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	return bs.processed;
}

typedef struct BulkGuardArg
{
	const char *schema;
	const char *table;
	int			natts;
	int			nrows;
	PerpsBulkFill fill;
	void	   *arg;
	uint64		processed;
} BulkGuardArg;

static void
bulk_guarded(void *arg)
{
	BulkGuardArg *a = arg;

	a->processed = perps_bulk_insert(a->schema, a->table, a->natts, a->nrows, a->fill, a->arg);
}

uint64
perps_bulk_insert_or(const char *schema, const char *table, int natts, int nrows,
					 PerpsBulkFill fill, void *arg,
					 uint64 (*fallback) (void *arg), bool *used_bulk)
{
	BulkGuardArg a = {schema, table, natts, nrows, fill, arg, 0};
	ErrorData  *edata = perps_run_guarded(bulk_guarded, &a);

	*used_bulk = edata == NULL;
	if (edata == NULL)
		return a.processed;
	FreeErrorData(edata);
	return fallback(arg);
}
