/*-------------------------------------------------------------------------
 *
 * bulk.c
 *		Bulk loading through COPY FROM with a callback source (see bulk.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
#include "utils/varlena.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "bulk.h"

/* the data the COPY source callback hands out (COPY takes no callback argument) */
static const char *bulk_data;
static size_t bulk_len;
static size_t bulk_pos;

static int
bulk_source(void *outbuf, int minread, int maxread)
{
	size_t		n = Min((size_t) maxread, bulk_len - bulk_pos);

	memcpy(outbuf, bulk_data + bulk_pos, n);
	bulk_pos += n;
	return (int) n;
}

void
perps_bulk_append_field(StringInfo buf, const char *s)
{
	const char *start = s;

	for (; *s; s++)
	{
		const char *esc = NULL;

		switch (*s)
		{
			case '\\':
				esc = "\\\\";
				break;
			case '\t':
				esc = "\\t";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\r':
				esc = "\\r";
				break;
			default:
				continue;
		}
		appendBinaryStringInfo(buf, start, s - start);
		appendStringInfoString(buf, esc);
		start = s + 1;
	}
	appendBinaryStringInfo(buf, start, s - start);
}

uint64
perps_bulk_copy(const char *schema, const char *table, const char *columns,
				const char *data, size_t len)
{
	RangeVar   *rv = makeRangeVar(pstrdup(schema), pstrdup(table), -1);
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	List	   *attnames = NIL;
	List	   *names;
	ListCell   *lc;
	CopyFromState cstate;
	uint64		processed;

	if (!SplitIdentifierString(pstrdup(columns), ',', &names))
		elog(ERROR, "perps_bulk_copy: bad column list \"%s\"", columns);
	foreach(lc, names)
		attnames = lappend(attnames, makeString(pstrdup((char *) lfirst(lc))));

	rel = table_openrv(rv, RowExclusiveLock);
	pstate = make_parsestate(NULL);
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	nsitem->p_rte->requiredPerms = ACL_INSERT;
	ExecCheckRTPerms(pstate->p_rtable, true);

	bulk_data = data;
	bulk_len = len;
	bulk_pos = 0;
	cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, bulk_source, attnames, NIL);
	processed = CopyFrom(cstate);
	EndCopyFrom(cstate);
	bulk_data = NULL;

	free_parsestate(pstate);
	table_close(rel, NoLock);
	return processed;
}

uint64
perps_bulk_copy_or(const char *schema, const char *table, const char *columns,
				   const char *data, size_t len,
				   uint64 (*fallback) (void *arg), void *arg, bool *used_copy)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile uint64 processed = 0;
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		processed = perps_bulk_copy(schema, table, columns, data, len);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		bulk_data = NULL;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();

	*used_copy = ok;
	return ok ? processed : fallback(arg);
}
