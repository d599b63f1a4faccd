/*-------------------------------------------------------------------------
 *
 * backfill.c
 *		What the backfill procedure (sql/install/50_backfill.sql) needs to
 *		know about a venue from its adapter: the documented page sizes of
 *		its history endpoints and its rate limit.
 *
 * The procedure itself is PL/pgSQL: it commits per chunk, which a C
 * function called from SQL cannot do.  It sizes each chunk to one page of
 * the venue, so that one chunk is one request (and one commit).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"

/*
 * Not utils/builtins.h: its json_object() clashes with json-c's type of the
 * same name, which adapter.h brings in.
 */
#include "adapter.h"
#include "request.h"

PG_FUNCTION_INFO_V1(perps_stats_adapter_limits);

/*
 * perps_stats.adapter_limits(exchange text)
 *		-> (kline_page int, funding_page int, trades_page int,
 *			rate_weight int, rate_window_ms int, no_trades_history text)
 *
 * Page sizes of 0 (unknown) come back as NULL; no_trades_history is NULL
 * when the venue serves trade history over a time range, else the reason
 * it does not.
 */
Datum
perps_stats_adapter_limits(PG_FUNCTION_ARGS)
{
	text	   *arg = PG_GETARG_TEXT_PP(0);
	char	   *name = pnstrdup(VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg));
	PerpsVenue	v;
	const PerpsAdapter *a;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false};
	int			figures[5];

	/* the adapter the venue's row names (a HIP-3 DEX: hyperliquid's); else an adapter by its name */
	memset(&v, 0, sizeof(v));
	a = perps_venue_load(name, &v, true) ? v.ad : perps_adapter_find(name);
	if (a == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no exchange adapter named \"%s\"", name),
				 errdetail("This build of perps_stats has no adapter for that venue.")));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	figures[0] = a->max_kline_page;
	figures[1] = a->max_funding_page;
	figures[2] = a->max_trades_page;
	figures[3] = a->rate_limit.weight;
	figures[4] = a->rate_limit.window_ms;
	for (int i = 0; i < 5; i++)
	{
		values[i] = Int32GetDatum(figures[i]);
		nulls[i] = figures[i] <= 0;
	}
	nulls[5] = a->no_trades_history == NULL;
	if (!nulls[5])
	{
		size_t		len = strlen(a->no_trades_history);
		text	   *t = palloc(VARHDRSZ + len);

		SET_VARSIZE(t, VARHDRSZ + len);
		memcpy(VARDATA(t), a->no_trades_history, len);
		values[5] = PointerGetDatum(t);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
