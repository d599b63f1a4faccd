/*-------------------------------------------------------------------------
 *
 * src/venues/binance_compat.h
 *		The REST and stream sides of Binance's USD-M futures API (fapi v1), shared with
 *		the venues that serve the same API: src/venues/binance.c implements
 *		it, and a Binance-compatible venue's adapter (src/venues/aster.c)
 *		reuses it and supplies only what is its own: its name, request
 *		weights, rate limit, page sizes and the endpoints it lacks.
 *
 * Paths, parameters, payloads and paging rules are Binance's (see the
 * comment at the top of binance.c); a venue whose documentation differs in
 * any of those does not use this header for that method.  Plain C (see
 * adapter.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_BINANCE_COMPAT_H
#define PERPS_BINANCE_COMPAT_H

#include "adapter.h"

/* The documented request weights that differ between compatible venues. */
typedef struct PerpsBncWeights
{
	int			day;			/* GET /fapi/v1/ticker/24hr?symbol= */
	int			day_all;		/* ... without symbol */
	int			premium;		/* GET /fapi/v1/premiumIndex?symbol= */
	int			premium_all;
	int			book;			/* GET /fapi/v1/ticker/bookTicker?symbol= */
	int			book_all;
	int			open_interest;	/* GET /fapi/v1/openInterest; 0: not documented,
								 * the ticker goes without open interest */
	int			recent_trades;	/* GET /fapi/v1/trades */
	int			agg_trades;		/* GET /fapi/v1/aggTrades */
} PerpsBncWeights;

/* BTC <-> BTCUSDT; native symbols of letters, digits and '_' */
extern bool perps_bnc_symbol_ok(const char *s);
extern bool perps_bnc_native_symbol(const char *global, char *buf, size_t buflen);

/* {"code": -1121, "msg": "Invalid symbol."} and error statuses */
extern PerpsStatus perps_bnc_open_body(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **out);

/* builds whose weights are the same wherever the API is served */
extern int	perps_bnc_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs);
extern int	perps_bnc_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs);
extern int	perps_bnc_build_funding(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs);
extern int	perps_bnc_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs);
extern int	perps_bnc_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs);

/* builds with the venue's weights (PERPS_BNC_BUILDERS wraps them) */
extern int	perps_bnc_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs,
								   const PerpsBncWeights *w);
extern int	perps_bnc_build_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs,
									const PerpsBncWeights *w);
extern int	perps_bnc_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs,
								   const PerpsBncWeights *w);

/* the parsers (PerpsMethodImpl.parse) */
#define PERPS_BNC_PARSE(name) \
	extern PerpsStatus perps_bnc_parse_##name(PerpsCtx *ctx, const PerpsQuery *q, \
											  struct json_object *const *docs, int ndocs, PerpsResult *out)
PERPS_BNC_PARSE(markets);
PERPS_BNC_PARSE(ticker);		/* 3 documents, or 4 with the open interest */
PERPS_BNC_PARSE(tickers);
PERPS_BNC_PARSE(orderbook);
PERPS_BNC_PARSE(funding);
PERPS_BNC_PARSE(funding_history);
PERPS_BNC_PARSE(klines);
PERPS_BNC_PARSE(trades);

/*
 * A venue's builds of the three weighted methods, as PerpsMethodImpl.build
 * functions named prefix_build_ticker, prefix_build_tickers and
 * prefix_build_trades, with the venue's PerpsBncWeights w.
 */
#define PERPS_BNC_BUILDERS(prefix, w) \
	static int \
	prefix##_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs) \
	{ \
		return perps_bnc_build_ticker(ctx, q, reqs, &(w)); \
	} \
	static int \
	prefix##_build_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs) \
	{ \
		return perps_bnc_build_tickers(ctx, q, reqs, &(w)); \
	} \
	static int \
	prefix##_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs) \
	{ \
		return perps_bnc_build_trades(ctx, q, reqs, &(w)); \
	}

/*
 * The fields of a PerpsAdapter every compatible venue fills the same way;
 * the page sizes are the API's (klines limit <= 1500, fundingRate and
 * aggTrades <= 1000), which the builds above ask for, and aggTrades pages
 * through any time range.
 */
#define PERPS_BNC_COMMON \
	.native_symbol = perps_bnc_native_symbol, \
	.needs_markets = false, \
	.symbol_ok = perps_bnc_symbol_ok, \
	.symbol_what = "a native symbol like BTCUSDT", \
	.open_body = perps_bnc_open_body, \
	.max_kline_page = 1500, \
	.max_funding_page = 1000, \
	.max_trades_page = 1000, \
	.no_trades_history = NULL

/*
 * PerpsAdapter.methods entries of every method but the markets and open
 * interest (the venue says which symbols it keeps and whether it has
 * the endpoint), with the builds PERPS_BNC_BUILDERS(prefix, ...) defined.
 */
#define PERPS_BNC_METHODS(prefix) \
	[PERPS_M_TICKER] = {.build = prefix##_build_ticker, .parse = perps_bnc_parse_ticker}, \
	[PERPS_M_TICKERS] = {.build = prefix##_build_tickers, .parse = perps_bnc_parse_tickers}, \
	[PERPS_M_ORDERBOOK] = {.build = perps_bnc_build_orderbook, .parse = perps_bnc_parse_orderbook}, \
	[PERPS_M_FUNDING] = {.build = perps_bnc_build_funding, .parse = perps_bnc_parse_funding}, \
	[PERPS_M_FUNDING_HISTORY] = {.build = perps_bnc_build_funding_history, \
								 .parse = perps_bnc_parse_funding_history}, \
	[PERPS_M_KLINES] = {.build = perps_bnc_build_klines, .parse = perps_bnc_parse_klines}, \
	[PERPS_M_TRADES] = {.build = prefix##_build_trades, .parse = perps_bnc_parse_trades}

/*
 * The stream side of the API (implemented in binance.c): combined streams
 * {"stream":"<sym>@<kind>","data":{...}} subscribed with
 * {"method":"SUBSCRIBE","params":[...],"id":N}, events aggTrade,
 * depthUpdate (U, u, pu), markPriceUpdate, 24hrTicker, kline and
 * bookTicker, the book synced from the REST depth (rest_snapshot).  A venue
 * says how it lays its streams out over its connections.
 */
#define PERPS_BNC_WS_MAX_MESSAGE (4 * 1024 * 1024)

typedef struct PerpsBncStreamLayout
{
	const char *venue;			/* names the venue in messages */
	int			max_streams;	/* the venue's limit of streams a connection */
	int			nconnections;	/* its PerpsStreamAdapter.nconnections */
	/* per connection, the stream names after the symbol ("@aggTrade"), NULL-terminated (at most 8) */
	const char *const *const *streams;
	int			kline_connection;	/* the connection that carries <sym>@kline_<interval> */
} PerpsBncStreamLayout;

/* PerpsStreamAdapter.subscribe_on of such a venue */
extern int	perps_bnc_ws_subscribe(PerpsCtx *ctx, const PerpsBncStreamLayout *lay, int conn,
								   const PerpsStreamWant *want, PerpsWsMessage *out);

/* PerpsStreamAdapter.parse_frame, with the venue's name for messages */
extern PerpsStatus perps_bnc_ws_parse(PerpsCtx *ctx, const char *venue, const char *data, size_t len,
									  bool binary, PerpsStreamFrame *out);

/* the book's continuity rule (U, u, pu over a REST snapshot's lastUpdateId) */
extern PerpsSeqCheck perps_bnc_ws_seq_rule(bool have_book, int64_t last_seq, const PerpsStreamEvent *ev);

/* kline intervals: the stream's names are perps_stats' own */
extern const char *perps_bnc_ws_kline_channel(const char *interval);

#endif							/* PERPS_BINANCE_COMPAT_H */
