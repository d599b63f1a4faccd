/*-------------------------------------------------------------------------
 *
 * export_xlsx.c
 *		Rows of queries and views as an Excel workbook (.xlsx), written
 *		with libxlsxwriter: one sheet per query, a header row of the column
 *		names, typed cells.
 *
 * SQL interface (sql/install/45_export.sql):
 *	perps_stats.export_xlsx(sheets text[], sheet_names text[]) for DBAs and
 *	analysts: each sheet a query text or the name of a table or view, run
 *	with the caller's rights in a read-only transaction state;
 *	perps_api.export_xlsx(view, exchange, symbol, since, until) and the
 *	aggregate perps_api.xlsx for HTTP: the function lists the positions of
 *	one view's rows (the view whitelisted from the catalog, filters as
 *	typed parameters, never spliced into the query text), PostgREST's
 *	limit and offset take a run of them, and the aggregate, PostgREST's
 *	handler for the function's rows, writes those rows and sets
 *	response.headers (Content-Type, Content-Disposition).
 *
 * Cells.  Excel holds a number as an IEEE double and shows 15 significant
 * digits.  A value of a numeric, integer or float column goes as a number
 * when its decimal text (its output function's) has at most 15 significant
 * digits and is 0 or of magnitude in [1e-307, 1e308): such a decimal is the
 * shortest text of the nearest double, so it reads back digit for digit.
 * Otherwise (more digits, out of range, NaN, Infinity) it goes as that text,
 * unchanged.  timestamptz (in UTC), timestamp and date go as Excel dates
 * with a date format when Excel holds them exactly: whole milliseconds,
 * from 1900-03-01 (Excel's 1900 calendar is wrong before) to 9999-12-31;
 * otherwise as ISO 8601 text (timestamptz in UTC, "+00").  Booleans as
 * booleans, NULL as an empty cell, everything else as its output text
 * (UTF-8), at most 32767 characters a cell (Excel's limit; a longer value
 * is an error, not cut).  In text, control characters other than tab, LF
 * and CR are written by libxlsxwriter as Excel's _xHHHH_ escapes; a
 * literal "_xHHHH_" in the text has its underscore escaped (_x005F_) so
 * that Excel shows it as it was.
 *
 * Bounds: at most EXPORT_MAX_SHEETS sheets; perps_stats.export_max_rows
 * data rows over all sheets and 1048575 per sheet (Excel's 1048576 rows,
 * less the header); perps_stats.export_max_size for the finished file,
 * and the values' text may not exceed eight times that uncompressed (the
 * export stops there instead of writing and zipping the rest).  Beyond any
 * of them: an error with SQLSTATE 54000, never a cut workbook.
 *
 * Files and memory.  libxlsxwriter 1.1.4 writes to a named file only:
 * the workbook goes to a file of our own under the database's pgsql_tmp
 * (the server removes leftovers named pgsql_tmp* at restart), the
 * library's own temporary files (anonymous, constant_memory mode) in the
 * same directory.  The file is read into the bytea and removed in
 * PG_FINALLY, whatever happened; on an error before the workbook is closed
 * its sheets' temporary files are closed and the workbook freed (its
 * memory is malloc'ed by the library, outside PostgreSQL's contexts).
 * Rows are fetched through a cursor a batch at a time, each row's
 * conversions in a memory context reset per row; CHECK_FOR_INTERRUPTS
 * every row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_tablespace_d.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/fd.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "export_xlsx.h"
#include "perps_xlsx.h"

/* sheets in one workbook */
#define EXPORT_MAX_SHEETS	64
/* Excel: rows per sheet (the header is one), characters per cell, sheet name */
#define EXCEL_MAX_ROWS		1048576
#define EXCEL_MAX_CELL_CHARS 32767
#define EXCEL_MAX_SHEET_NAME 31
/* rows fetched from the cursor at a time */
#define EXPORT_BATCH		1000
/* the values' text, uncompressed, may be this many times the size limit */
#define EXPORT_RAW_FACTOR	8
/*
 * Excel's serial day number of 2000-01-01 (PostgreSQL's epoch), counting
 * from 1899-12-30 as Excel does for dates after its false 1900-02-29; the
 * serials of 1900-03-01 and of 9999-12-31, the range written as dates.
 */
#define EXCEL_SERIAL_PG_EPOCH 36526
#define EXCEL_SERIAL_MIN	61
#define EXCEL_SERIAL_MAX	2958465
#define EXCEL_DATE_FORMAT	"yyyy-mm-dd"
#define EXCEL_TS_FORMAT		"yyyy-mm-dd hh:mm:ss.000"
#define XLSX_CONTENT_TYPE	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

int			perps_export_max_rows = 100000;
int			perps_export_max_size = 32768;	/* kB */

/* how a column's values become cells */
typedef enum ExportKind
{
	EXPORT_INT,					/* int2, int4: always a number */
	EXPORT_DECIMAL,				/* int8, numeric, float: the 15-digit rule */
	EXPORT_BOOL,
	EXPORT_TIMESTAMPTZ,
	EXPORT_TIMESTAMP,
	EXPORT_DATE,
	EXPORT_TEXT
} ExportKind;

typedef struct ExportColumn
{
	ExportKind	kind;
	Oid			typid;			/* the base type (domains unwrapped) */
	FmgrInfo	out;			/* its output function */
	const char *name;
} ExportColumn;

/* one sheet: its name (UTF-8) and the query giving its rows */
typedef struct ExportSheet
{
	char	   *name;
	char	   *query;
	int			nargs;
	Oid		   *argtypes;
	Datum	   *args;
	char	   *argnulls;
	const char *hint;			/* for the row limit's error */
} ExportSheet;

typedef struct ExportState
{
	lxw_workbook *wb;			/* until closed */
	lxw_worksheet *ws[EXPORT_MAX_SHEETS];
	int			nws;
	lxw_format *fmt_header;
	lxw_format *fmt_ts;
	lxw_format *fmt_date;
	int64		rows;			/* data rows written, all sheets */
	int64		raw_bytes;		/* the values' text, about */
	int64		raw_max;
	const char *sheet;			/* the sheet being written, for errors */
	char		dir[MAXPGPATH];
	char		path[MAXPGPATH];
} ExportState;

static uint32 export_counter = 0;

void
perps_export_define_gucs(void)
{
	DefineCustomIntVariable("perps_stats.export_max_rows",
							"Most data rows of one Excel export, over all its sheets.",
							"An export with more rows fails (SQLSTATE 54000); a sheet holds at most 1048575 rows in any case.",
							&perps_export_max_rows,
							100000, 1, 10 * (EXCEL_MAX_ROWS - 1),
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("perps_stats.export_max_size",
							"Largest Excel workbook one export may produce.",
							"A larger one fails (SQLSTATE 54000), as does an export whose values take more "
							"than eight times this uncompressed.",
							&perps_export_max_size,
							32768, 16, 512 * 1024,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
}

/* libxlsxwriter's message for err, without its final period if any */
static char *
export_lxw_message(lxw_error err)
{
	char	   *m = pstrdup(lxw_strerror(err));
	size_t		len = strlen(m);

	if (len > 0 && m[len - 1] == '.')
		m[len - 1] = '\0';
	return m;
}

/* libxlsxwriter's failures, in one place */
static void
export_lxw_check(lxw_error err, const char *what)
{
	if (err == LXW_NO_ERROR)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("could not write the Excel workbook: %s", what),
			 errdetail("libxlsxwriter: %s.", export_lxw_message(err))));
}

/*
 * Whether the decimal text s ([-]digits[.digits][e[+-]digits], as the
 * output functions of the numeric, integer and float types print) is a
 * number an Excel cell holds exactly: at most 15 significant digits, and 0
 * or a magnitude in [1e-307, 1e308).  If so, *out is its value.
 */
static bool
export_excel_number(const char *s, double *out)
{
	const char *p = s;
	int			ndigits = 0;	/* mantissa digits seen */
	int			nint = -1;		/* digits before the point */
	int			first = -1;		/* index of the first and last nonzero digit */
	int			last = -1;
	long		exp10 = 0;
	long		lead;

	if (*p == '-' || *p == '+')
		p++;
	for (; *p; p++)
	{
		if (*p >= '0' && *p <= '9')
		{
			if (*p != '0')
			{
				if (first < 0)
					first = ndigits;
				last = ndigits;
			}
			ndigits++;
		}
		else if (*p == '.' && nint < 0)
			nint = ndigits;
		else
			break;
	}
	if (ndigits == 0)
		return false;			/* NaN, Infinity, or not a number at all */
	if (nint < 0)
		nint = ndigits;
	if (*p == 'e' || *p == 'E')
	{
		bool		neg = false;

		p++;
		if (*p == '-' || *p == '+')
			neg = (*p++ == '-');
		if (!(*p >= '0' && *p <= '9'))
			return false;
		for (; *p >= '0' && *p <= '9'; p++)
			if (exp10 < 100000)
				exp10 = exp10 * 10 + (*p - '0');
		if (neg)
			exp10 = -exp10;
	}
	if (*p != '\0')
		return false;
	if (first < 0)
	{
		*out = 0.0;
		return true;
	}
	if (last - first + 1 > 15)
		return false;
	/* the power of ten of the leading nonzero digit */
	lead = (long) (nint - 1 - first) + exp10;
	if (lead < -307 || lead > 307)
		return false;
	*out = strtod(s, NULL);
	return isfinite(*out);
}

/* text of a timestamp, ISO 8601, in UTC for timestamptz */
static char *
export_timestamp_text(Timestamp t, bool with_tz)
{
	char		buf[MAXDATELEN + 1];
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(t))
		EncodeSpecialTimestamp(t, buf);
	else if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) == 0)
	{
		tm.tm_isdst = 0;		/* UTC: else EncodeDateTime leaves out "+00" */
		EncodeDateTime(&tm, fsec, with_tz, 0, NULL, USE_ISO_DATES, buf);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return pstrdup(buf);
}

/*
 * Escapes the underscore of every literal "_xHHHH_" in s (UTF-8), which
 * Excel would otherwise read as the character HHHH; NULL when there is
 * none, the common case.
 */
static char *
export_escape_xstring(const char *s)
{
	StringInfoData buf;
	const char *p;
	const char *done = s;
	bool		any = false;

	for (p = s; (p = strstr(p, "_x")) != NULL; p++)
	{
		int			i;

		for (i = 2; i < 6; i++)
			if (!isxdigit((unsigned char) p[i]))
				break;
		if (i < 6 || p[6] != '_')
			continue;
		if (!any)
			initStringInfo(&buf);
		any = true;
		appendBinaryStringInfo(&buf, done, p - done);
		appendStringInfoString(&buf, "_x005F");
		done = p;
	}
	if (!any)
		return NULL;
	appendStringInfoString(&buf, done);
	return buf.data;
}

/* characters of UTF-8 text as Excel counts them (UTF-16 code units) */
static int64
export_excel_chars(const char *s, size_t len)
{
	int64		n = 0;

	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if ((c & 0xC0) != 0x80)
			n++;
		if (c >= 0xF0)
			n++;				/* a surrogate pair */
	}
	return n;
}

static void
export_write_text(ExportState *st, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c,
				  const char *colname, const char *s, lxw_format *fmt)
{
	size_t		len = strlen(s);
	char	   *utf8 = (char *) s;
	char	   *escaped;
	int64		chars;

	if (GetDatabaseEncoding() != PG_UTF8)
	{
		if (GetDatabaseEncoding() == PG_SQL_ASCII)
			(void) pg_verify_mbstr(PG_UTF8, s, len, false);
		else
			utf8 = pg_server_to_any(s, len, PG_UTF8);
		len = strlen(utf8);
	}
	chars = export_excel_chars(utf8, len);
	if (chars > EXCEL_MAX_CELL_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value too long for an Excel cell"),
				 errdetail("Sheet \"%s\", Excel row %u, column \"%s\" has %lld characters; an Excel cell holds at most %d.",
						   st->sheet, (unsigned) r + 1, colname, (long long) chars, EXCEL_MAX_CELL_CHARS)));
	escaped = export_escape_xstring(utf8);
	if (escaped != NULL)
		utf8 = escaped;
	st->raw_bytes += len;
	export_lxw_check(worksheet_write_string(ws, r, c, utf8, fmt), "a text cell");
}

/* one cell of a data row */
static void
export_cell(ExportState *st, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c,
			ExportColumn *col, Datum d)
{
	double		num;
	char	   *s;

	switch (col->kind)
	{
		case EXPORT_INT:
			num = (col->typid == INT2OID) ? (double) DatumGetInt16(d) : (double) DatumGetInt32(d);
			st->raw_bytes += 8;
			export_lxw_check(worksheet_write_number(ws, r, c, num, NULL), "a number cell");
			return;
		case EXPORT_BOOL:
			st->raw_bytes += 1;
			export_lxw_check(worksheet_write_boolean(ws, r, c, DatumGetBool(d), NULL), "a boolean cell");
			return;
		case EXPORT_DECIMAL:
			s = OutputFunctionCall(&col->out, d);
			if (export_excel_number(s, &num))
			{
				st->raw_bytes += 8;
				export_lxw_check(worksheet_write_number(ws, r, c, num, NULL), "a number cell");
			}
			else
				export_write_text(st, ws, r, c, col->name, s, NULL);
			return;
		case EXPORT_TIMESTAMPTZ:
		case EXPORT_TIMESTAMP:
			{
				Timestamp	t = DatumGetTimestamp(d);

				if (!TIMESTAMP_NOT_FINITE(t) && t % 1000 == 0)
				{
					int64		ms = t / 1000;
					int64		days = ms / 86400000;
					int64		msod = ms % 86400000;

					if (msod < 0)
					{
						msod += 86400000;
						days--;
					}
					days += EXCEL_SERIAL_PG_EPOCH;
					if (days >= EXCEL_SERIAL_MIN && days <= EXCEL_SERIAL_MAX)
					{
						num = (double) days + (double) msod / 86400000.0;
						st->raw_bytes += 8;
						export_lxw_check(worksheet_write_number(ws, r, c, num, st->fmt_ts), "a date cell");
						return;
					}
				}
				s = export_timestamp_text(t, col->kind == EXPORT_TIMESTAMPTZ);
				export_write_text(st, ws, r, c, col->name, s, NULL);
				return;
			}
		case EXPORT_DATE:
			{
				DateADT		dt = DatumGetDateADT(d);

				if (!DATE_NOT_FINITE(dt) &&
					(int64) dt + EXCEL_SERIAL_PG_EPOCH >= EXCEL_SERIAL_MIN &&
					(int64) dt + EXCEL_SERIAL_PG_EPOCH <= EXCEL_SERIAL_MAX)
				{
					st->raw_bytes += 8;
					export_lxw_check(worksheet_write_number(ws, r, c, (double) dt + EXCEL_SERIAL_PG_EPOCH,
															st->fmt_date), "a date cell");
					return;
				}
				if (DATE_NOT_FINITE(dt))
				{
					char		buf[MAXDATELEN + 1];

					EncodeSpecialDate(dt, buf);
					s = pstrdup(buf);
				}
				else
				{
					struct pg_tm tm;
					char		buf[MAXDATELEN + 1];

					j2date(dt + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
					EncodeDateOnly(&tm, USE_ISO_DATES, buf);
					s = pstrdup(buf);
				}
				export_write_text(st, ws, r, c, col->name, s, NULL);
				return;
			}
		case EXPORT_TEXT:
			s = OutputFunctionCall(&col->out, d);
			export_write_text(st, ws, r, c, col->name, s, NULL);
			return;
	}
}

static void
export_column_init(ExportColumn *col, Form_pg_attribute att)
{
	Oid			func;
	bool		isvarlena;

	col->name = NameStr(att->attname);
	col->typid = getBaseType(att->atttypid);
	switch (col->typid)
	{
		case INT2OID:
		case INT4OID:
			col->kind = EXPORT_INT;
			break;
		case INT8OID:
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
			col->kind = EXPORT_DECIMAL;
			break;
		case BOOLOID:
			col->kind = EXPORT_BOOL;
			break;
		case TIMESTAMPTZOID:
			col->kind = EXPORT_TIMESTAMPTZ;
			break;
		case TIMESTAMPOID:
			col->kind = EXPORT_TIMESTAMP;
			break;
		case DATEOID:
			col->kind = EXPORT_DATE;
			break;
		default:
			col->kind = EXPORT_TEXT;
			break;
	}
	getTypeOutputInfo(att->atttypid, &func, &isvarlena);
	fmgr_info(func, &col->out);
}

static void
export_row_limit(ExportState *st, const ExportSheet *sh, lxw_row_t r)
{
	if (st->rows > perps_export_max_rows)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("export exceeds perps_stats.export_max_rows (%d rows)", perps_export_max_rows),
				 errhint("%s", sh->hint)));
	if (r >= EXCEL_MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sheet \"%s\" exceeds Excel's %d rows", sh->name, EXCEL_MAX_ROWS),
				 errdetail("A sheet holds a header row and at most %d rows of data.", EXCEL_MAX_ROWS - 1),
				 errhint("%s", sh->hint)));
	if (st->raw_bytes > st->raw_max)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("export exceeds perps_stats.export_max_size (%d kB)", perps_export_max_size),
				 errdetail("The values written so far take more than %d times that, uncompressed.",
						   EXPORT_RAW_FACTOR),
				 errhint("%s", sh->hint)));
}

/* one sheet: the header row, then the query's rows; inside SPI */
static void
export_sheet(ExportState *st, const ExportSheet *sh)
{
	lxw_worksheet *ws;
	lxw_error	err;
	Portal		portal;
	TupleDesc	tupdesc;
	ExportColumn *cols;
	Datum	   *values;
	bool	   *nulls;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	lxw_row_t	r = 0;
	int			ncols;

	st->sheet = sh->name;
	for (int i = 0; i < st->nws; i++)
		if (pg_strcasecmp(st->ws[i]->name, sh->name) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sheet name \"%s\" is used twice", sh->name),
					 errdetail("Excel compares sheet names without regard to case.")));
	err = sh->name[0] == '\0' ? LXW_ERROR_PARAMETER_VALIDATION
		: workbook_validate_sheet_name(st->wb, sh->name);
	if (err != LXW_NO_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid sheet name \"%s\"", sh->name),
				 errdetail("libxlsxwriter: %s.", export_lxw_message(err)),
				 errhint("A sheet name has 1 to 31 characters, none of []:*?/\\, and does not begin or end with an apostrophe.")));
	ws = workbook_add_worksheet(st->wb, sh->name);
	if (ws == NULL)
		export_lxw_check(LXW_ERROR_MEMORY_MALLOC_FAILED, "a sheet");
	st->ws[st->nws++] = ws;

	portal = SPI_cursor_open_with_args(NULL, sh->query, sh->nargs, sh->argtypes,
									   sh->args, sh->argnulls, true, CURSOR_OPT_NO_SCROLL);
	tupdesc = portal->tupDesc;
	ncols = tupdesc->natts;
	if (ncols > 16384)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sheet \"%s\" has more columns than Excel's 16384", sh->name)));
	cols = palloc0(sizeof(ExportColumn) * Max(ncols, 1));
	values = palloc(sizeof(Datum) * Max(ncols, 1));
	nulls = palloc(sizeof(bool) * Max(ncols, 1));
	for (int c = 0; c < ncols; c++)
	{
		export_column_init(&cols[c], TupleDescAttr(tupdesc, c));
		export_write_text(st, ws, 0, (lxw_col_t) c, cols[c].name, cols[c].name, st->fmt_header);
	}
	worksheet_freeze_panes(ws, 1, 0);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "export_xlsx row", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, EXPORT_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			CHECK_FOR_INTERRUPTS();
			r++;
			st->rows++;
			export_row_limit(st, sh, r);
			oldcxt = MemoryContextSwitchTo(rowcxt);
			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
			for (int c = 0; c < ncols; c++)
				if (!nulls[c])
					export_cell(st, ws, r, (lxw_col_t) c, &cols[c], values[c]);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(rowcxt);
}

/* on an error before the workbook is closed: what the library holds */
static void
export_abandon(ExportState *st)
{
	if (st->wb == NULL)
		return;
	/* lxw_workbook_free leaves constant_memory sheets' files open */
	for (int i = 0; i < st->nws; i++)
		if (st->ws[i]->optimize_tmpfile != NULL)
		{
			fclose(st->ws[i]->optimize_tmpfile);
			st->ws[i]->optimize_tmpfile = NULL;
		}
	lxw_workbook_free(st->wb);
	st->wb = NULL;
}

/* the finished file, read into a bytea */
static bytea *
export_read_file(ExportState *st)
{
	struct stat sb;
	bytea	   *result;
	int			fd;
	char	   *p;
	off_t		left;

	fd = OpenTransientFile(st->path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", st->path)));
	if (fstat(fd, &sb) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", st->path)));
	if (sb.st_size > (off_t) perps_export_max_size * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("export exceeds perps_stats.export_max_size (%d kB)", perps_export_max_size),
				 errdetail("The workbook takes %lld bytes.", (long long) sb.st_size)));
	result = (bytea *) palloc(VARHDRSZ + sb.st_size);
	SET_VARSIZE(result, VARHDRSZ + sb.st_size);
	p = VARDATA(result);
	left = sb.st_size;
	while (left > 0)
	{
		ssize_t		n = read(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", st->path)));
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("could not read file \"%s\": read %lld of %lld bytes",
							st->path, (long long) (sb.st_size - left), (long long) sb.st_size)));
		p += n;
		left -= n;
	}
	CloseTransientFile(fd);
	return result;
}

/* the workbook of the sheets, as a bytea */
static bytea *
export_workbook(ExportSheet *sheets, int nsheets)
{
	ExportState *volatile st = palloc0(sizeof(ExportState));
	lxw_workbook_options opts = {0};
	bytea	   *volatile result = NULL;

	TempTablespacePath(st->dir, DEFAULTTABLESPACE_OID);
	if (MakePGDirectory(st->dir) < 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", st->dir)));
	snprintf(st->path, sizeof(st->path), "%s/%s%d.xlsx.%u",
			 st->dir, PG_TEMP_FILE_PREFIX, MyProcPid, export_counter++);
	st->raw_max = (int64) perps_export_max_size * 1024 * EXPORT_RAW_FACTOR;

	opts.constant_memory = LXW_TRUE;
	opts.tmpdir = st->dir;
	opts.use_zip64 = LXW_FALSE;

	PG_TRY();
	{
		st->wb = workbook_new_opt(st->path, &opts);
		if (st->wb == NULL)
			export_lxw_check(LXW_ERROR_MEMORY_MALLOC_FAILED, "a workbook");
		st->fmt_header = workbook_add_format(st->wb);
		st->fmt_ts = workbook_add_format(st->wb);
		st->fmt_date = workbook_add_format(st->wb);
		if (st->fmt_header == NULL || st->fmt_ts == NULL || st->fmt_date == NULL)
			export_lxw_check(LXW_ERROR_MEMORY_MALLOC_FAILED, "a format");
		format_set_bold(st->fmt_header);
		format_set_num_format(st->fmt_ts, EXCEL_TS_FORMAT);
		format_set_num_format(st->fmt_date, EXCEL_DATE_FORMAT);

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		for (int i = 0; i < nsheets; i++)
			export_sheet(st, &sheets[i]);
		SPI_finish();

		{
			lxw_workbook *wb = st->wb;

			st->wb = NULL;		/* closing frees it, whatever the outcome */
			export_lxw_check(workbook_close(wb), "the file");
		}
		result = export_read_file(st);
	}
	PG_FINALLY();
	{
		export_abandon(st);
		if (unlink(st->path) < 0 && errno != ENOENT)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", st->path)));
	}
	PG_END_TRY();
	return result;
}

/* a default sheet name: s cut to Excel's 31 characters */
static char *
export_sheet_name(const char *s)
{
	int			len = strlen(s);
	int			n = 0;
	int			i = 0;

	while (i < len && n < EXCEL_MAX_SHEET_NAME)
	{
		i += pg_mblen(s + i);
		n++;
	}
	return pnstrdup(s, i);
}

/* a sheet name in UTF-8, as libxlsxwriter wants it */
static char *
export_utf8(const char *s)
{
	if (GetDatabaseEncoding() == PG_UTF8 || GetDatabaseEncoding() == PG_SQL_ASCII)
		return (char *) s;
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

/* whether a sheet's text is a query (else the name of a table or view) */
static bool
export_is_query(const char *s)
{
	static const char *const words[] = {"select", "with", "values", "table"};
	size_t		len;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '(')
		return true;
	for (len = 0; (s[len] >= 'a' && s[len] <= 'z') || (s[len] >= 'A' && s[len] <= 'Z'); len++)
		;
	for (size_t i = 0; i < lengthof(words); i++)
		if (len == strlen(words[i]) && pg_strncasecmp(s, words[i], len) == 0 &&
			(s[len] == '\0' || !(IS_HIGHBIT_SET(s[len]) || isalnum((unsigned char) s[len]) ||
								 s[len] == '_' || s[len] == '$')))
			return true;
	return false;
}

/*
 * perps_stats.export_xlsx(sheets text[], sheet_names text[] DEFAULT NULL)
 * RETURNS bytea
 *
 * Each element of sheets is a query (SELECT, WITH, VALUES, TABLE or a
 * parenthesised query) or the name of a table or view, possibly
 * schema-qualified and quoted; sheet_names[i], when given and not NULL,
 * names sheet i (default: the relation's name, or Sheet<i> for a query).
 * The SQL declaration runs it with transaction_read_only on.
 */
PG_FUNCTION_INFO_V1(perps_stats_export_xlsx);
Datum
perps_stats_export_xlsx(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *texts;
	bool	   *tnulls;
	Datum	   *names = NULL;
	bool	   *nnulls = NULL;
	int			n;
	int			nn = 0;
	ExportSheet *sheets;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sheets must not be null")));
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sheets must be a one-dimensional array")));
	n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	if (n < 1 || n > EXPORT_MAX_SHEETS)
		ereport(ERROR,
				(errcode(n < 1 ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a workbook has 1 to %d sheets, not %d", EXPORT_MAX_SHEETS, n)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &texts, &tnulls, &n);
	if (!PG_ARGISNULL(1))
	{
		ArrayType  *narr = PG_GETARG_ARRAYTYPE_P(1);

		if (ARR_NDIM(narr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sheet_names must be a one-dimensional array")));
		deconstruct_array(narr, TEXTOID, -1, false, TYPALIGN_INT, &names, &nnulls, &nn);
		if (nn != n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sheet_names has %d elements, sheets %d", nn, n),
					 errhint("Give one name per sheet, or NULL for the default.")));
	}

	sheets = palloc0(sizeof(ExportSheet) * n);
	for (int i = 0; i < n; i++)
	{
		char	   *s;
		char	   *name = NULL;

		if (tnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sheet %d is null", i + 1)));
		s = TextDatumGetCString(texts[i]);
		sheets[i].hint = "Add a WHERE clause or a LIMIT to the queries.";
		if (export_is_query(s))
		{
			sheets[i].query = s;
			name = psprintf("Sheet%d", i + 1);
		}
		else
		{
			List	   *qname = textToQualifiedNameList((text *) DatumGetPointer(texts[i]));
			Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(qname), AccessShareLock, false);
			char	   *relname = get_rel_name(relid);

			sheets[i].query = psprintf("SELECT * FROM %s",
									   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																  relname));
			name = export_sheet_name(relname);
		}
		if (names != NULL && !nnulls[i])
			name = TextDatumGetCString(names[i]);
		sheets[i].name = export_utf8(name);
	}
	PG_RETURN_BYTEA_P(export_workbook(sheets, n));
}

/*
 * s, with anything but [A-Za-z0-9.-] replaced by '_', at most 40 bytes, for
 * a file name (a header value: no quote, backslash or control character)
 */
static void
export_file_part(StringInfo buf, const char *s)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, '_');
	for (int i = 0; s[i] != '\0' && i < 40; i++)
	{
		unsigned char c = (unsigned char) s[i];

		appendStringInfoChar(buf, (isalnum(c) && !IS_HIGHBIT_SET(c)) || c == '.' || c == '-' ? c : '_');
	}
}

/*
 * Whether this runs in an HTTP request (PostgREST sets request.headers),
 * and the client's Accept header there, lower-cased (NULL: none sent).
 */
static bool
export_request_accept(char **out)
{
	const char *rh = GetConfigOption("request.headers", true, false);
	Jsonb	   *jb;
	JsonbValue	v;
	JsonbValue *accept;
	char	   *val;

	*out = NULL;
	if (rh == NULL || rh[0] == '\0')
		return false;
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(rh)));
	if (!JB_ROOT_IS_OBJECT(jb))
		return true;
	accept = getKeyJsonValueFromContainer(&jb->root, "accept", 6, &v);
	if (accept == NULL || accept->type != jbvString)
		return true;
	val = pnstrdup(accept->val.string.val, accept->val.string.len);
	for (char *c = val; *c; c++)
		*c = pg_ascii_tolower((unsigned char) *c);
	*out = val;
	return true;
}

/*
 * Whether an Accept header takes the workbook: one of its media ranges is
 * the spreadsheet's type, application/octet-stream, or a wildcard range
 * covering them (any application type, any type); parameters aside.  A range given q=0 is refused by the
 * client: it does not count.
 */
static bool
export_accept_takes_xlsx(const char *accept)
{
	static const char *const ok[] = {
		XLSX_CONTENT_TYPE, "application/octet-stream", "application/*", "*/*"
	};
	const char *p = accept;

	while (*p != '\0')
	{
		const char *end = strchr(p, ',');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		const char *semi = memchr(p, ';', len);
		size_t		tlen = semi ? (size_t) (semi - p) : len;
		const char *t = p;

		while (tlen > 0 && (*t == ' ' || *t == '\t'))
			t++, tlen--;
		while (tlen > 0 && (t[tlen - 1] == ' ' || t[tlen - 1] == '\t'))
			tlen--;
		for (size_t i = 0; i < lengthof(ok); i++)
			if (tlen == strlen(ok[i]) && strncmp(t, ok[i], tlen) == 0)
			{
				/* q=0 (q=0, q=0.0, q=0.00 ...) says "not this one" */
				const char *q = semi ? strstr(semi, "q=") : NULL;
				bool		zero = false;

				if (q != NULL && q < p + len)
				{
					zero = q[2] == '0';
					for (const char *d = q + 3; zero && d < p + len && *d != ';' && *d != ' '; d++)
						zero = (*d == '.' || *d == '0');
				}
				if (!zero)
					return true;
			}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

/*
 * One call of perps_api.export_xlsx: the view, its filters and the rows'
 * order, for the aggregate perps_api.xlsx that writes the rows PostgREST's
 * limit and offset leave of the positions the call listed.  It lives in
 * TopTransactionContext and belongs to the statement that made it: the
 * local transaction id and the statement's start time say which (checked
 * before it is read: the memory is gone with the transaction).
 */
#define EXPORT_REQUEST_ARGS 7

typedef struct ExportRequest
{
	char	   *view;
	char	   *file;			/* the download's name, without ".xlsx" */
	char	   *from_where;		/* "FROM perps_api.v v WHERE ..." */
	char	   *order;			/* "v.ts, v.exchange, v.symbol", or "" */
	int			nargs;			/* the filters' parameters, $1 .. $nargs */
	Oid			argtypes[EXPORT_REQUEST_ARGS];
	Datum		args[EXPORT_REQUEST_ARGS];
	int64		listed;			/* positions 1 .. listed */
	bool		truncated;		/* the range holds more rows than listed */
} ExportRequest;

static ExportRequest *export_request = NULL;
static LocalTransactionId export_request_lxid = InvalidLocalTransactionId;
static TimestampTz export_request_stmt = 0;

/*
 * Most positions one call lists: ten times the rows one export may hold,
 * so that limit and offset page through a range ten exports long.  A
 * range with more rows lists the first ones and says so; a window that
 * reaches past them is refused.
 */
static int64
export_max_positions(void)
{
	return (int64) perps_export_max_rows * 10;
}

/* the request made by this statement's perps_api.export_xlsx, or NULL */
static ExportRequest *
export_request_current(void)
{
	if (export_request == NULL || export_request_lxid != MyProc->lxid ||
		export_request_stmt != GetCurrentStatementStartTimestamp())
		return NULL;
	return export_request;
}

/*
 * perps_api.export_xlsx(view text, exchange text, symbol text,
 *		since timestamptz, until timestamptz) RETURNS SETOF export_xlsx_rows
 *
 * One view of perps_api, filtered on its exchange and symbol columns and on
 * [since, until) of its time column (its first timestamptz column), its
 * rows ordered by that column, then exchange and symbol.  It lists the
 * rows' positions, 1 to the rows' count (at most export_max_positions()),
 * and keeps the view and filters for perps_api.xlsx, the aggregate
 * PostgREST applies to what its limit and offset leave of them.  The view
 * is named from the catalog (a view of perps_api, nothing else), the
 * filters are typed parameters, never spliced into the query text.
 * SECURITY INVOKER: the caller (perps_anon) reads the view with its own
 * rights.  STABLE, as the aggregate: both read with the statement's
 * snapshot, so the rows counted are the rows written.
 */
PG_FUNCTION_INFO_V1(perps_api_export_xlsx);
Datum
perps_api_export_xlsx(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *view;
	Oid			nsp;
	Oid			relid;
	Relation	rel;
	TupleDesc	desc;
	bool		has_exchange = false;
	bool		has_symbol = false;
	char	   *tcol = NULL;
	StringInfoData q;
	StringInfoData order;
	StringInfoData file;
	StringInfoData count;
	ExportRequest *req;
	MemoryContext oldcxt;
	int64		max = export_max_positions();
	int64		n;
	bool		isnull;
	Oid			cargtypes[EXPORT_REQUEST_ARGS + 1];
	Datum		cargs[EXPORT_REQUEST_ARGS + 1];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("view must not be null")));
	view = text_to_cstring(PG_GETARG_TEXT_PP(0));
	nsp = get_namespace_oid("perps_api", false);
	relid = strlen(view) < NAMEDATALEN ? get_relname_relid(view, nsp) : InvalidOid;
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_VIEW ||
		relid == get_typ_typrelid(get_func_rettype(fcinfo->flinfo->fn_oid)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a view of perps_api", view),
				 errhint("The views are those of GET / on the API (\\dv perps_api.* in psql).")));

	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);

		if (att->attisdropped)
			continue;
		if (strcmp(name, "exchange") == 0)
			has_exchange = true;
		else if (strcmp(name, "symbol") == 0)
			has_symbol = true;
		else if (tcol == NULL && att->atttypid == TIMESTAMPTZOID)
			tcol = pstrdup(name);
	}
	table_close(rel, AccessShareLock);

	/* kept for the aggregate, which runs later in the same statement */
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	req = palloc0(sizeof(ExportRequest));
	req->view = pstrdup(view);
	initStringInfo(&q);
	initStringInfo(&order);
	initStringInfo(&file);
	appendStringInfo(&q, "FROM perps_api.%s v WHERE true", quote_identifier(view));
	export_file_part(&file, view);
	if (!PG_ARGISNULL(1))
	{
		if (!has_exchange)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("view \"%s\" has no column exchange to filter on", view)));
		req->argtypes[req->nargs] = TEXTOID;
		req->args[req->nargs++] = PointerGetDatum(PG_GETARG_TEXT_P_COPY(1));
		appendStringInfo(&q, " AND v.exchange OPERATOR(pg_catalog.=) $%d", req->nargs);
		export_file_part(&file, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	}
	if (!PG_ARGISNULL(2))
	{
		if (!has_symbol)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("view \"%s\" has no column symbol to filter on", view)));
		req->argtypes[req->nargs] = TEXTOID;
		req->args[req->nargs++] = PointerGetDatum(PG_GETARG_TEXT_P_COPY(2));
		appendStringInfo(&q, " AND v.symbol OPERATOR(pg_catalog.=) $%d", req->nargs);
		export_file_part(&file, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	}
	for (int a = 3; a <= 4; a++)
	{
		if (PG_ARGISNULL(a))
			continue;
		if (tcol == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("view \"%s\" has no timestamptz column for since and until", view)));
		req->argtypes[req->nargs] = TIMESTAMPTZOID;
		req->args[req->nargs++] = PG_GETARG_DATUM(a);
		appendStringInfo(&q, " AND v.%s OPERATOR(pg_catalog.%s) $%d", quote_identifier(tcol),
						 a == 3 ? ">=" : "<", req->nargs);
	}
	if (tcol != NULL)
		appendStringInfo(&order, "v.%s", quote_identifier(tcol));
	if (has_exchange)
		appendStringInfo(&order, "%sv.exchange", order.len > 0 ? ", " : "");
	if (has_symbol)
		appendStringInfo(&order, "%sv.symbol", order.len > 0 ? ", " : "");
	req->from_where = q.data;
	req->order = order.data;
	req->file = file.data;
	MemoryContextSwitchTo(oldcxt);

	/* the rows' count, up to one past the positions listed */
	memcpy(cargtypes, req->argtypes, sizeof(Oid) * req->nargs);
	memcpy(cargs, req->args, sizeof(Datum) * req->nargs);
	cargtypes[req->nargs] = INT8OID;
	cargs[req->nargs] = Int64GetDatum(max + 1);
	initStringInfo(&count);
	appendStringInfo(&count, "SELECT pg_catalog.count(*) FROM (SELECT 1 %s LIMIT $%d) c",
					 req->from_where, req->nargs + 1);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(count.data, req->nargs + 1, cargtypes, cargs, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not count the rows of view \"%s\"", view);
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	req->truncated = n > max;
	req->listed = Min(n, max);

	export_request = req;
	export_request_lxid = MyProc->lxid;
	export_request_stmt = GetCurrentStatementStartTimestamp();

	InitMaterializedSRF(fcinfo, 0);
	for (int64 i = 1; i <= req->listed; i++)
	{
		Datum		value = Int64GetDatum(i);
		bool		null = false;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &null);
	}
	return (Datum) 0;
}

/* perps_api.xlsx's state: which of the listed positions it was given */
typedef struct ExportWindow
{
	int64		first;
	int64		last;
	int64		count;
} ExportWindow;

/*
 * perps_stats._xlsx_step(internal, export_xlsx_rows) RETURNS internal:
 * perps_api.xlsx's transition function.
 */
PG_FUNCTION_INFO_V1(perps_api_xlsx_step);
Datum
perps_api_xlsx_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	ExportWindow *w;
	HeapTupleHeader row;
	Datum		pos;
	bool		isnull;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "perps_stats._xlsx_step called in non-aggregate context");
	w = PG_ARGISNULL(0) ? NULL : (ExportWindow *) PG_GETARG_POINTER(0);
	if (w == NULL)
	{
		w = MemoryContextAllocZero(aggcxt, sizeof(ExportWindow));
		w->first = PG_INT64_MAX;
		w->last = PG_INT64_MIN;
	}
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(w);
	row = PG_GETARG_HEAPTUPLEHEADER(1);
	pos = GetAttributeByNum(row, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a row of perps_api.export_xlsx without its position")));
	w->first = Min(w->first, DatumGetInt64(pos));
	w->last = Max(w->last, DatumGetInt64(pos));
	w->count++;
	PG_RETURN_POINTER(w);
}

/*
 * perps_stats._xlsx_final(internal) RETURNS the any-type domain: perps_api.xlsx's final
 * function.  The positions it was given must be a run of those listed
 * (what limit and offset leave: anything else is refused rather than
 * guessed at); it writes those rows of the view, in the export's order,
 * as a workbook of one sheet.  In an HTTP request the client must take
 * the workbook (export_accept_takes_xlsx: else 406), and response.headers
 * gives its Content-Type and a file name.
 */
PG_FUNCTION_INFO_V1(perps_api_xlsx_final);
Datum
perps_api_xlsx_final(PG_FUNCTION_ARGS)
{
	ExportWindow *w = PG_ARGISNULL(0) ? NULL : (ExportWindow *) PG_GETARG_POINTER(0);
	ExportRequest *req = export_request_current();
	char	   *accept;
	bool		http = export_request_accept(&accept);
	int64		count = w ? w->count : 0;
	int64		offset = count > 0 ? w->first - 1 : 0;
	ExportSheet sheet = {0};
	Oid			argtypes[EXPORT_REQUEST_ARGS + 2];
	Datum		args[EXPORT_REQUEST_ARGS + 2];
	StringInfoData q;
	StringInfoData hdr;
	bytea	   *result;

	if (req == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("perps_api.xlsx takes the rows of perps_api.export_xlsx, in the same statement"),
				 errhint("SELECT perps_api.xlsx(r) FROM (SELECT * FROM perps_api.export_xlsx('tickers') LIMIT 100) r")));
	if (accept != NULL && !export_accept_takes_xlsx(accept))
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('P', 'T', '4', '0', '6')),
				 errmsg("export_xlsx answers a spreadsheet (%s)", XLSX_CONTENT_TYPE),
				 errdetail("The request accepts \"%s\" only.", accept),
				 errhint("Send Accept: application/octet-stream, or no Accept header.")));
	if (count > 0 && (w->first < 1 || w->last > req->listed || w->last - w->first + 1 != count))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("export_xlsx takes a run of its rows: positions %lld to %lld, %lld of them, are not one",
						(long long) w->first, (long long) w->last, (long long) count),
				 errhint("Choose the rows with limit and offset, and the range with the function's arguments.")));
	if (req->truncated && (count == 0 || w->last == req->listed))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("export_xlsx lists the first %lld rows of a range only (10 times perps_stats.export_max_rows)",
						(long long) req->listed),
				 errdetail("The range holds more, and the rows asked for reach past them."),
				 errhint("Narrow the range with since and until.")));

	memcpy(argtypes, req->argtypes, sizeof(Oid) * req->nargs);
	memcpy(args, req->args, sizeof(Datum) * req->nargs);
	sheet.nargs = req->nargs;
	initStringInfo(&q);
	appendStringInfo(&q, "SELECT v.* %s", req->from_where);
	if (req->order[0] != '\0')
		appendStringInfo(&q, " ORDER BY %s", req->order);
	/* one row more than allowed, to tell that the window has too many */
	argtypes[sheet.nargs] = INT8OID;
	args[sheet.nargs++] = Int64GetDatum(Min(count, (int64) perps_export_max_rows + 1));
	argtypes[sheet.nargs] = INT8OID;
	args[sheet.nargs++] = Int64GetDatum(offset);
	appendStringInfo(&q, " LIMIT $%d OFFSET $%d", sheet.nargs - 1, sheet.nargs);

	sheet.query = q.data;
	sheet.argtypes = argtypes;
	sheet.args = args;
	sheet.argnulls = NULL;
	sheet.name = export_sheet_name(req->view);
	sheet.hint = "Narrow the range with since and until, or take the first rows with limit.";
	result = export_workbook(&sheet, 1);

	if (http)
	{
		initStringInfo(&hdr);
		appendStringInfo(&hdr, "[{\"Content-Type\": \"%s\"}, "
						 "{\"Content-Disposition\": \"attachment; filename=\\\"%s.xlsx\\\"\"}]",
						 XLSX_CONTENT_TYPE, req->file);
		(void) set_config_option("response.headers", hdr.data, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	}
	PG_RETURN_BYTEA_P(result);
}
