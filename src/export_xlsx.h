/*-------------------------------------------------------------------------
 *
 * export_xlsx.h
 *		Rows of queries and views as an Excel workbook (.xlsx), one sheet
 *		per query: perps_stats.export_xlsx and perps_api.export_xlsx.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_EXPORT_XLSX_H
#define PERPS_EXPORT_XLSX_H

#include "postgres.h"

/* Limits of one export (PGC_SUSET settings, see export_xlsx.c). */
extern int	perps_export_max_rows;
extern int	perps_export_max_size;	/* kB */

/* Defines the perps_stats.export_* settings; called by _PG_init. */
extern void perps_export_define_gucs(void);

#endif							/* PERPS_EXPORT_XLSX_H */
