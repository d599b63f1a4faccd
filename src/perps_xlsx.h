/*-------------------------------------------------------------------------
 *
 * perps_xlsx.h
 *		The one place that includes libxlsxwriter's header.
 *
 * libxlsxwriter (1.1.4 on Debian 12) writes a workbook to a named file:
 * that version has no in-memory output.  In constant_memory mode each
 * worksheet's rows go to an anonymous temporary file (in the directory the
 * tmpdir option names) as they are written, so memory does not grow with
 * the rows; the workbook is zipped when it is closed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_XLSX_H
#define PERPS_XLSX_H

#include <xlsxwriter.h>

#endif							/* PERPS_XLSX_H */
