/*-------------------------------------------------------------------------
 *
 * dashboard.c
 *		The dashboard's static files (its page, its script and style, the
 *		charting library), read from the installation's share directory.
 *
 * `make install` copies them to <sharedir>/perps_stats/dashboard/ (the
 * charting library comes from npm at build time, see README.md, "Dashboard"),
 * the way PostgreSQL keeps its text-search data files in
 * <sharedir>/tsearch_data.  So the install and upgrade scripts carry no copy
 * of them, and a reinstalled library is served without ALTER EXTENSION.
 *
 * Only the names in dashboard_files are served: the caller never names a
 * path.  A file is read whole, at most DASHBOARD_FILE_MAX bytes, into the
 * caller's memory context; nothing is cached (the files are small and the
 * page asks for each once per load).  Reads nothing from the database and
 * writes nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"

/* the largest file served: the charting library is about 51 kB */
#define DASHBOARD_FILE_MAX (1024 * 1024)

/* the files served, by the name the page asks for */
static const char *const dashboard_files[] = {
	"index.html",
	"dashboard.js",
	"dashboard.css",
	"uPlot.iife.min.js",
	"uPlot.min.css",
	"uPlot.LICENSE",
};

static bool
dashboard_known(const char *name)
{
	for (size_t i = 0; i < lengthof(dashboard_files); i++)
		if (strcmp(name, dashboard_files[i]) == 0)
			return true;
	return false;
}

PG_FUNCTION_INFO_V1(perps_stats_dashboard_file);
Datum
perps_stats_dashboard_file(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char		share[MAXPGPATH];
	char		path[MAXPGPATH];
	FILE	   *f;
	struct stat st;
	bytea	   *result;
	size_t		got;

	if (!dashboard_known(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown dashboard file \"%s\"", name),
				 errhint("The dashboard serves index.html, dashboard.js, dashboard.css, uPlot.iife.min.js, uPlot.min.css and uPlot.LICENSE.")));

	get_share_path(my_exec_path, share);
	snprintf(path, sizeof(path), "%s/perps_stats/dashboard/%s", share, name);

	f = AllocateFile(path, PG_BINARY_R);
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open dashboard file \"%s\": %m", path),
				 errhint("The dashboard's files are installed by \"make install\" of perps_stats.")));
	if (fstat(fileno(f), &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat dashboard file \"%s\": %m", path)));
	if (st.st_size > DASHBOARD_FILE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("dashboard file \"%s\" is too large", path),
				 errdetail("It has %lld bytes; at most %d are served.",
						   (long long) st.st_size, DASHBOARD_FILE_MAX)));

	result = (bytea *) palloc(VARHDRSZ + st.st_size);
	got = fread(VARDATA(result), 1, st.st_size, f);
	if (ferror(f) || got != (size_t) st.st_size)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read dashboard file \"%s\"", path),
				 errdetail("Read %zu of %lld bytes.", got, (long long) st.st_size)));
	FreeFile(f);
	SET_VARSIZE(result, VARHDRSZ + got);
	PG_RETURN_BYTEA_P(result);
}
