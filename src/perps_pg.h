/*-------------------------------------------------------------------------
 *
 * perps_pg.h
 *		Lets a server-side file use both PostgreSQL's headers and the
 *		adapter interface (which brings in json-c).
 *
 * PostgreSQL's utils/fmgrprotos.h declares the SQL function json_object()
 * and json-c declares a type json_object.  Including fmgrprotos.h here,
 * first, with PostgreSQL's symbol renamed, leaves the name to json-c.
 * Include this right after "postgres.h", before any other header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_PG_H
#define PERPS_PG_H

#include "postgres.h"

#ifdef FMGRPROTOS_H
#error "perps_pg.h must be included before utils/fmgrprotos.h (utils/builtins.h)"
#endif

#include "fmgr.h"
#define json_object perps_pg_json_object_fn
#include "utils/fmgrprotos.h"
#undef json_object

#include "adapter.h"

#endif							/* PERPS_PG_H */
