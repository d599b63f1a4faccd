/*-------------------------------------------------------------------------
 *
 * bulk.h
 *		Bulk loading of rows given as Datums, for the writers whose batches
 *		are large: the table access method's multi-insert path (the one
 *		COPY FROM takes), with partition routing, CHECK and NOT NULL
 *		constraints and unique indexes as usual, but without COPY's text
 *		round trip and without a tuple slot per row pinned by the
 *		transaction's resource owner (COPY's per-statement set-up, which a
 *		writer that commits every thousand rows pays every time).
 *
 * Tables with triggers, foreign or differently laid out partitions, row
 * level security or generated columns are refused (an error, nothing
 * written): their writers use INSERT.  There is no ON CONFLICT: a caller
 * that must be idempotent runs the load in a subtransaction and, when it
 * fails, writes the same rows with INSERT ... ON CONFLICT DO NOTHING instead
 * (perps_bulk_insert_or).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_BULK_H
#define PERPS_BULK_H

#include "postgres.h"

/*
 * Fills row `row` (0-based): values and isnull for every column of the
 * table, in the table's column order.  Called in a memory context that
 * lives until the row is written.
 */
typedef void (*PerpsBulkFill) (void *arg, int row, Datum *values, bool *isnull);

/*
 * Loads nrows rows into schema.table, which must have exactly natts
 * columns.  Needs a transaction, a snapshot and INSERT privilege.  Returns
 * the rows loaded; raises like INSERT does (a duplicate key, a row no
 * partition takes, a CHECK constraint).
 */
extern uint64 perps_bulk_insert(const char *schema, const char *table, int natts, int nrows,
								PerpsBulkFill fill, void *arg);

/*
 * perps_bulk_insert in a subtransaction; when it fails (a duplicate key, or
 * anything else), the subtransaction is rolled back and fallback(arg) is
 * called instead, whose rows count is returned.  *used_bulk tells which
 * one wrote.  A query cancel or a shutdown is raised again.
 */
extern uint64 perps_bulk_insert_or(const char *schema, const char *table, int natts, int nrows,
								   PerpsBulkFill fill, void *arg,
								   uint64 (*fallback) (void *arg), bool *used_bulk);

#endif							/* PERPS_BULK_H */
