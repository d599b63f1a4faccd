/*-------------------------------------------------------------------------
 *
 * src/venues/binance_compat.h
 *		The REST side of Binance's USD-M futures API (fapi v1), shared with
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

#endif							/* PERPS_BINANCE_COMPAT_H */
