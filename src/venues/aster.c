/*-------------------------------------------------------------------------
 *
 * src/venues/aster.c
 *		Aster futures (asterdex.com) REST and stream adapter.  Plain C (see
 *		adapter.h).
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
 * {"code": -1121, "msg": "Invalid symbol."}.
 *
 * The stream side (Aster's "Websocket Market Streams", the same document):
 * Binance's USD-M market streams (binance_compat.h: frame parsing, the
 * book's pu/U/u rule over the REST depth's lastUpdateId), laid out as Aster
 * documents them, which is not Binance's 2026 split into /public and
 * /market: one base URL, wss://fstream.asterdex.com (the seeded ws_url),
 * raw streams at /ws/<name> and combined ones at /stream?streams=...; the
 * worker opens one combined connection, ws_url + "/stream", and subscribes
 * with {"method":"SUBSCRIBE","params":[...],"id":N}.  Per market
 * (lowercase symbol): <sym>@depth@100ms (the diff book), <sym>@aggTrade
 * (aggregate trade ids a, sequential per symbol: trade continuity by id,
 * refetched through aggTrades fromId), <sym>@markPrice@1s (mark, index,
 * funding rate r for the settlement at T), <sym>@ticker (24 h statistics),
 * <sym>@bookTicker (best bid and ask with their quantities) and
 * <sym>@kline_<interval> for perps_stats.stream_kline_intervals.
 *
 * Documented limits: 200 streams a connection (so 200 / (5 + klines)
 * markets: 33 with the default 1m klines; more is refused with a message,
 * see aster_ws_subscribe), 10 incoming messages a second, a connection
 * lives 24 h; the server sends a WebSocket ping frame every 5 minutes and
 * drops a connection that has not answered with a pong within 15 minutes
 * (libwebsockets answers pings), so there is no application-level ping.
 * The documentation does not say whether /stream without ?streams= takes
 * SUBSCRIBE requests (Binance's does); it says the combined property is
 * true on /stream, which is what the worker relies on.
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

/* ---- the stream side ---- */

#define ASTER_WS_MAX_STREAMS 200

static const char *const aster_ws_paths[1] = {"/stream"};
static const char *const aster_ws_market_streams[] = {
	"@depth@100ms", "@aggTrade", "@markPrice@1s", "@ticker", "@bookTicker", NULL
};
static const char *const *const aster_ws_streams[1] = {aster_ws_market_streams};

static const PerpsBncStreamLayout aster_ws_layout = {
	.venue = "aster",
	.max_streams = ASTER_WS_MAX_STREAMS,
	.nconnections = 1,
	.streams = aster_ws_streams,
	.kline_connection = 0,
};

static int
aster_ws_subscribe(PerpsCtx *ctx, int conn, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	return perps_bnc_ws_subscribe(ctx, &aster_ws_layout, conn, want, out);
}

static PerpsStatus
aster_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	return perps_bnc_ws_parse(ctx, "aster", data, len, binary, out);
}

static const PerpsStreamAdapter aster_stream = {
	.quote = "USDT",
	.trade_ids_sequential = true,	/* aggTrade "a", per symbol */
	.book_depth = 1000,
	.ping_message = NULL,		/* WebSocket ping frames */
	.max_message_bytes = PERPS_BNC_WS_MAX_MESSAGE,
	.rest_snapshot = true,		/* GET /fapi/v1/depth?limit=1000: lastUpdateId */
	.snapshot_depth = 1000,
	.max_connection_s = 86400,
	.nconnections = 1,
	.connection_paths = aster_ws_paths,
	.book_connection = 0,
	.subscribe_on = aster_ws_subscribe,
	.kline_channel = perps_bnc_ws_kline_channel,
	.resync = NULL,
	.parse_frame = aster_ws_parse,
	.seq_rule = perps_bnc_ws_seq_rule,
};

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
	.stream = &aster_stream,
};
