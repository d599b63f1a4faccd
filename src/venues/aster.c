/*-------------------------------------------------------------------------
 *
 * src/venues/aster.c
 *		Aster futures (asterdex.com) REST adapter.  Plain C (see adapter.h).
 *
 * Aster serves Binance's USD-M futures REST API (fapi v1) at its own host,
 * so this adapter is Binance's (binance_compat.h) with what Aster's own
 * documentation (github.com/asterdex/api-docs, "aster-finance-futures-api",
 * the fapi v1 reference) says differently:
 *
 *	 weights		ticker/bookTicker 1 for one symbol, 2 for all;
 *					premiumIndex 1 with or without symbol; recent trades 1;
 *					aggTrades 20; the rest as Binance's
 *	 open interest	no /fapi/v1/openInterest in the documentation, so
 *					neither fetch_open_interest nor the ticker's open
 *					interest (an undocumented endpoint can change or go
 *					without notice)
 *	 funding		fundingInfo ("Get Funding Rate Config") lists every
 *					symbol with its fundingIntervalHours
 *	 rate limit		REQUEST_WEIGHT 2400 per minute per IP (exchangeInfo's
 *					rateLimits)
 *
 * The same paths and pages as Binance: klines limit <= 1500, fundingRate
 * and aggTrades limit <= 1000, aggTrades startTime/endTime less than an
 * hour apart or fromId, so backfill() pages klines, funding history and
 * trades (aggregate trade ids) here as on Binance.
 *
 * Global symbol BTC <-> BTCUSDT; markets quoted in anything but USDT (Aster
 * lists some USD1 pairs) are left out as Binance's parser does, and so are
 * symbols whose status is not TRADING (see aster_parse_markets).  Errors are
 * {"code": -1121, "msg": "Invalid symbol."}.  No stream adapter yet.
 *
 *-------------------------------------------------------------------------
 */
#include "adapter.h"
#include "binance_compat.h"

static const PerpsBncWeights aster_weights = {
	.day = 1, .day_all = 40, .premium = 1, .premium_all = 1, .book = 1, .book_all = 2,
	.open_interest = 0, .recent_trades = 1, .agg_trades = 20,
};

PERPS_BNC_BUILDERS(aster, aster_weights)

/*
 * exchangeInfo's USDT perpetuals that trade now: Aster lists symbols
 * before they open (PENDING_TRADING) and after they close (CLOSE), and
 * refresh_markets makes a market that leaves the list inactive.
 */
static PerpsStatus
aster_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					PerpsResult *out)
{
	int			k = 0;

	if (perps_bnc_parse_markets(ctx, q, docs, ndocs, out) != PERPS_OK)
		return ctx->status;
	for (int i = 0; i < out->n; i++)
		if (out->u.markets[i].active)
			out->u.markets[k++] = out->u.markets[i];
	out->n = k;
	return PERPS_OK;
}

const PerpsAdapter perps_adapter_aster = {
	.name = "aster",
	PERPS_BNC_COMMON,
	.methods = {
		PERPS_BNC_METHODS(aster),
		[PERPS_M_MARKETS] = {.build = perps_bnc_build_markets, .parse = aster_parse_markets},
		[PERPS_M_OPEN_INTEREST] = {
			.unsupported = "Aster's futures API documentation has no open interest endpoint.",
		},
	},
	.rate_limit = {.weight = 2400, .window_ms = 60000},
	.stream = NULL,				/* streams are a later change */
};
