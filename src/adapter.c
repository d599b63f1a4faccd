/*-------------------------------------------------------------------------
 *
 * adapter.c
 *		The registry of exchange adapters, and what they share: method names
 *		and kline intervals.  Plain C (see adapter.h).
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
