/*-------------------------------------------------------------------------
 *
 * bulk.h
 *		Bulk loading of rows through COPY FROM's own code path (a callback
 *		source, text format), for the writers whose batches are large: the
 *		same multi-insert path `COPY ... FROM STDIN` takes, with triggers,
 *		constraints and partition routing as usual.
 *
 * COPY has no ON CONFLICT: a caller that must be idempotent runs it in a
 * subtransaction and, when it fails, writes the same rows with INSERT ...
 * ON CONFLICT DO NOTHING instead (perps_bulk_copy_or).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_BULK_H
#define PERPS_BULK_H

#include "postgres.h"

#include "lib/stringinfo.h"

/*
 * Appends text to a COPY text-format field: backslash, tab, newline and
 * carriage return escaped.
 */
extern void perps_bulk_append_field(StringInfo buf, const char *s);

/*
 * Loads data (COPY text format: tab-separated fields, one row per line,
 * \N for NULL) into schema.table's columns (a comma-separated list).
 * Needs a transaction, a snapshot and INSERT privilege.  Returns the rows
 * loaded; raises like COPY does.
 */
extern uint64 perps_bulk_copy(const char *schema, const char *table, const char *columns,
							  const char *data, size_t len);

/*
 * perps_bulk_copy in a subtransaction; when it fails (a duplicate key, or
 * anything else), the subtransaction is rolled back and fallback(arg) is
 * called instead, whose rows count is returned.  *used_copy tells which
 * one wrote.  A query cancel or a shutdown is raised again.
 */
extern uint64 perps_bulk_copy_or(const char *schema, const char *table, const char *columns,
								 const char *data, size_t len,
								 uint64 (*fallback) (void *arg), void *arg, bool *used_copy);

#endif							/* PERPS_BULK_H */
