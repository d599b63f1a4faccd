/*-------------------------------------------------------------------------
 *
 * adapter.c
 *		The registry of exchange adapters, the dispatch of their methods, and
 *		what they share: method names, kline intervals, the helpers of their
 *		parsers.  Plain C (see adapter.h).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "adapter.h"

/* One line per venue; each adapter is defined in src/venues/<venue>.c. */
extern const PerpsAdapter perps_adapter_binance;
extern const PerpsAdapter perps_adapter_bybit;
extern const PerpsAdapter perps_adapter_hyperliquid;
extern const PerpsAdapter perps_adapter_kucoin;
extern const PerpsAdapter perps_adapter_lighter;
extern const PerpsAdapter perps_adapter_paradex;

const PerpsAdapter *const perps_adapters[] = {
	/* PERPS_ADAPTERS: add &perps_adapter_<venue> here when its file exists */
	&perps_adapter_binance,
	&perps_adapter_bybit,
	&perps_adapter_hyperliquid,
	&perps_adapter_kucoin,
	&perps_adapter_lighter,
	&perps_adapter_paradex,
	NULL
};

const char *const perps_method_names[PERPS_M_COUNT] = {
	[PERPS_M_MARKETS] = "markets",
	[PERPS_M_TICKER] = "ticker",
	[PERPS_M_TICKERS] = "all tickers",
	[PERPS_M_ORDERBOOK] = "order book",
	[PERPS_M_FUNDING] = "funding rate",
	[PERPS_M_FUNDING_HISTORY] = "funding history",
	[PERPS_M_OPEN_INTEREST] = "open interest",
	[PERPS_M_KLINES] = "klines",
	[PERPS_M_TRADES] = "recent trades",
};

const PerpsAdapter *
perps_adapter_find(const char *name)
{
	for (int i = 0; perps_adapters[i] != NULL; i++)
		if (strcmp(perps_adapters[i]->name, name) == 0)
			return perps_adapters[i];
	return NULL;
}

/* The method's table entry, or NULL (with the reason recorded) where the venue does not serve it. */
static const PerpsMethodImpl *
adapter_method(const PerpsAdapter *a, PerpsCtx *ctx, PerpsMethod m)
{
	const PerpsMethodImpl *mi;

	if ((int) m < 0 || m >= PERPS_M_COUNT)
	{
		perps_fail(ctx, PERPS_UNSUPPORTED, "unknown method");
		return NULL;
	}
	mi = &a->methods[m];
	if (mi->build == NULL || mi->parse == NULL)
	{
		perps_fail(ctx, PERPS_UNSUPPORTED, "%s", mi->unsupported ? mi->unsupported :
				   "The venue has no public endpoint for this method.");
		return NULL;
	}
	return mi;
}

int
perps_adapter_build(const PerpsAdapter *a, PerpsCtx *ctx, PerpsMethod m, const PerpsQuery *q,
					PerpsRequest *reqs)
{
	const PerpsMethodImpl *mi = adapter_method(a, ctx, m);

	if (mi == NULL)
		return ctx->status;
	return mi->build(ctx, q, reqs);
}

PerpsStatus
perps_adapter_parse(const PerpsAdapter *a, PerpsCtx *ctx, PerpsMethod m, const PerpsQuery *q,
					const PerpsBody *bodies, int nbodies, PerpsResult *out)
{
	const PerpsMethodImpl *mi;
	struct json_object *docs[PERPS_MAX_REQUESTS] = {NULL};
	PerpsStatus st = PERPS_OK;

	memset(out, 0, sizeof(*out));
	out->method = m;
	out->next_since_us = PERPS_TS_NONE;
	out->next_until_us = PERPS_TS_NONE;
	if ((mi = adapter_method(a, ctx, m)) == NULL)
		return ctx->status;
	if (bodies == NULL || nbodies < 1 || nbodies > PERPS_MAX_REQUESTS)
		return perps_fail(ctx, PERPS_ERR_ARG, "%s: %d response bodies", a->name, nbodies);
	/* every method but the markets list and all tickers is about one market */
	if (m != PERPS_M_MARKETS && m != PERPS_M_TICKERS &&
		(q == NULL || q->market == NULL || q->market->native_symbol == NULL))
		return perps_fail(ctx, PERPS_ERR_ARG, "%s: a market is required", a->name);
	for (int i = 0; i < nbodies && st == PERPS_OK; i++)
		st = a->open_body(ctx, &bodies[i], i, &docs[i]);
	if (st == PERPS_OK)
		st = mi->parse(ctx, q, docs, nbodies, out);
	for (int i = 0; i < nbodies; i++)
		if (docs[i] != NULL)
			json_object_put(docs[i]);
	if (st == PERPS_OK)
		st = ctx->status;
	if (st != PERPS_OK)
	{
		out->n = 0;
		out->has_more = false;
	}
	return st;
}

int
perps_interval_seconds(const char *interval)
{
	static const struct
	{
		const char *name;
		int			seconds;
	}			intervals[] = {
		{"1m", 60}, {"5m", 300}, {"15m", 900}, {"30m", 1800},
		{"1h", 3600}, {"4h", 14400}, {"1d", 86400},
	};

	if (interval == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++)
		if (strcmp(intervals[i].name, interval) == 0)
			return intervals[i].seconds;
	return 0;
}

/* ---- helpers the adapters share ---- */

PerpsStatus
perps_need_docs(PerpsCtx *ctx, int ndocs, int want)
{
	if (ndocs != want)
		return perps_fail(ctx, PERPS_ERR_ARG, "expected %d bodies, got %d", want, ndocs);
	return PERPS_OK;
}

/* ---- the stream side ---- */

PerpsStatus
perps_ws_json_begin(PerpsCtx *ctx, const char *venue, const char *data, size_t len, bool binary,
					size_t max, PerpsStreamFrame *out, struct json_object **root)
{
	memset(out, 0, sizeof(*out));
	*root = NULL;
	if (binary)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s sent a binary frame", venue);
	if (len > max)
		return perps_fail(ctx, PERPS_ERR_JSON, "%s frame of %zu bytes is too large", venue, len);
	if (perps_json_parse(ctx, data, len, root) != PERPS_OK)
		return ctx->status;
	if (!json_object_is_type(*root, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s frame is not an object", venue);
	return PERPS_OK;
}

PerpsStatus
perps_ws_json_end(PerpsCtx *ctx, struct json_object *root, PerpsStreamFrame *out)
{
	if (root)
		json_object_put(root);
	if (ctx->status != PERPS_OK)
	{
		out->nevents = 0;
		out->events = NULL;
	}
	return ctx->status;
}

PerpsStreamEvent *
perps_ws_event_new(PerpsCtx *ctx)
{
	PerpsStreamEvent *ev = perps_alloc(ctx, sizeof(PerpsStreamEvent));

	if (ev != NULL)
	{
		ev->ts_us = PERPS_TS_NONE;
		ev->next_funding_time_us = PERPS_TS_NONE;
	}
	return ev;
}
