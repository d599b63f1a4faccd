/*-------------------------------------------------------------------------
 *
 * fetch.h
 *		What fetch.c shares with the other SQL-callable ingestion code
 *		(collect.c): venue and market resolution, one adapter round split
 *		into prepare (build the requests) and complete (parse the bodies)
 *		so that many rounds can share one concurrent HTTP batch, and the
 *		exact conversions from adapter results to SQL values.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_FETCH_H
#define PERPS_FETCH_H

#include "postgres.h"

#include "perps_pg.h"
#include "adapter.h"
#include "http.h"

typedef struct FetchVenue
{
	const PerpsAdapter *ad;
	int			id;
	char	   *name;
	char	   *rest_url;
	PerpsRateLimit limit;
} FetchVenue;

typedef struct FetchMarket
{
	int			id;				/* perps_stats.markets.id; 0 when not stored */
	char	   *symbol;
	char	   *native_symbol;
	char	   *contract_size;
} FetchMarket;

/* One adapter round: its requests, their HTTP calls and bodies. */
typedef struct FetchUnit
{
	const FetchVenue *v;
	PerpsMethod m;
	const PerpsQuery *q;
	PerpsCtx   *ctx;
	int			n;				/* requests built; negative PerpsStatus when build failed */
	PerpsRequest reqs[PERPS_MAX_REQUESTS];
	PerpsHttpCall calls[PERPS_MAX_REQUESTS];
	PerpsBody	bodies[PERPS_MAX_REQUESTS];
} FetchUnit;

extern void fetch_ctx_init(PerpsCtx *ctx, MemoryContext cxt);

extern bool fetch_venue_load(const char *name, FetchVenue *v, bool missing_ok);
extern bool fetch_market_lookup(const FetchVenue *v, const char *symbol, FetchMarket *mk);
extern int	fetch_refresh_one(const FetchVenue *v);

/*
 * Builds the unit's requests; never raises for the adapter's own refusal
 * (unit->n < 0 then, raised by fetch_complete).
 */
extern void fetch_prepare(FetchUnit *unit, const FetchVenue *v, PerpsMethod m,
						  const PerpsQuery *q, PerpsCtx *ctx);
/* Raises the unit's HTTP or parse error, or fills *out. */
extern void fetch_complete(FetchUnit *unit, PerpsResult *out);
extern void fetch_raise_status(const FetchVenue *v, PerpsMethod m, const PerpsCtx *ctx,
							   PerpsStatus st) pg_attribute_noreturn();

extern Datum fetch_num(const char *s);
extern void fetch_set_num(Datum *values, bool *nulls, int i, const char *s);
extern void fetch_set_qty(Datum *values, bool *nulls, int i, const char *s, const char *mult);
extern void fetch_set_ts(Datum *values, bool *nulls, int i, int64 us);
extern Datum fetch_book_side(const FetchVenue *v, const PerpsLevel *lv, int n, bool bids,
							 const char *mult, int depth);

#endif							/* PERPS_FETCH_H */
