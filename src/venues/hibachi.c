/*-------------------------------------------------------------------------
 *
 * src/venues/hibachi.c
 *		Hibachi (hibachi.xyz) public REST and market WebSocket: USDT-settled
 *		perpetual futures.  Plain C (see adapter.h): no PostgreSQL API, no I/O.
 *		The stream side is described where it starts, below the REST one.
 *
 * One host.  All public market data, exchange-info included, is on the data
 * API, https://data-api.hibachi.xyz (the venue row's rest_url), as the
 * official Python SDK (hibachi-xyz/hibachi_sdk) sends every unauthenticated
 * request there; the trading API, https://api.hibachi.xyz, serves only the
 * account and order endpoints (integrators report its /market/exchange-info
 * answering 404).
 *
 * Paths used (all GET, no key; weight 1 each, as the SDK and CCXT's
 * hibachi describe them):
 *
 *	 markets		/market/exchange-info: futureContracts[], each with
 *					symbol "BTC/USDT-P", underlyingSymbol, settlementSymbol,
 *					tickSize, stepSize, minOrderSize, minNotional, status
 *					(LIVE trades; CLOSED and the rest are left out)
 *	 ticker			/market/data/prices (bid, ask, trade, mark and spot
 *					prices, funding estimate), /market/data/stats (24 h
 *					high, low, volume24h: USDT notional),
 *					/market/data/open-interest (totalQuantity, base units)
 *	 all tickers	/market/inventory: markets[] of {contract, info} with
 *					info's markPrice, priceLatest and price24hAgo
 *	 order book		/market/data/orderbook?depth=1..100&granularity=G: {"ask":
 *					{"levels": [{"price","quantity"}], "startPrice",
 *					"endPrice"}, "bid": ...}; G one of the market's
 *					orderbookGranularities (see "Coarser books" below)
 *	 funding		/market/data/prices' fundingRateEstimation:
 *					estimatedFundingRate for the settlement at
 *					nextFundingTimestamp (s)
 *	 funding hist.	/market/data/funding-rates?startTime&endTime (s, both
 *					inclusive)&limit (at most 100): {"data": [{
 *					fundingTimestamp (s), fundingRate, indexPrice}]}
 *	 open interest	/market/data/open-interest
 *	 klines			/market/data/klines?interval=1min|5min|15min|1h|4h|1d|1w
 *					&fromMs&toMs: {"klines": [{timestamp (s), open, high,
 *					low, close, volumeNotional, interval}]}; no 30 minutes
 *	 trades			/market/data/trades: {"trades": [{price, quantity,
 *					takerSide "Buy"/"Sell", timestamp (s)}]}, the most
 *					recent ones only, without ids
 *
 * Units: prices and quantities are decimal strings in quote and base units
 * (the documentation's "Asset Quantities": the 64-bit fixed-point
 * representation, underlyingDecimals, matters only when signing, the API
 * exposes real decimals); contract size 1.  Times are whole seconds except
 * the klines' fromMs/toMs.  Funding: every hour (Hibachi's docs, "Funding":
 * funding payments are made every hour), rates are per hour as fractions
 * (the history's settlements are 3600 s apart, and the estimate is the
 * number that settles); stored as sent with interval_hours 1.  volume24h
 * and volumeNotional are quote (USDT) notionals: they go to turnover, and
 * the base volume is NULL (not derived).  A price change is
 * priceLatest - price24hAgo (exact) where inventory gives both; the fraction
 * would need a division and stays NULL.
 *
 * Trades carry no id: each gets a synthetic one made of what the venue
 * sent, "<seconds>-<B|S>-<price>-<quantity>-<k>", k counting the earlier
 * trades of the answer identical in all four, so the same answer (and an
 * overlapping later one) gives the same ids and a repeated fetch stays
 * idempotent; the stream's trades get theirs the same way (hb_trade), so a
 * trade streamed and fetched is one row.  Its limit: two identical trades in one second of which an
 * answer holds only the later one would get k = 0 and be taken for one.
 *
 * Coarser books: exchange-info gives each contract its
 * orderbookGranularities, the price steps its book can be aggregated to
 * (decimal strings, finest first, a decade apart: BTC "0.1" .. "100").
 * They differ per market, so they are kept with the market
 * (PerpsMarket.book_steps, perps_stats.markets.book_steps; at most
 * HB_MAX_STEPS, each a positive plain decimal, strictly increasing, or the
 * markets answer is refused) and the book's resolution k asks granularity
 * = the market's k-th step, 0 the finest sent explicitly, as the official
 * SDK always sends one.  Resolutions 0 .. 3 (HB_BOOK_STEPS): 100 levels of
 * the fourth step reach 10^5 finest steps (BTC: 10 000 USD of 0.1 steps,
 * about 10 %), far past 100 bps.  A market whose steps are unknown (not in perps_stats.markets
 * yet, or a list the venue omitted) is asked without granularity, the
 * venue's default book, and never a coarser one.  The resolution names
 * are granularity=<step>.
 *
 * How a price is rounded into a bucket is not documented.  The adapter
 * takes Hibachi to label a bucket by its price farthest from mid, the one
 * convention the merge of book_merge.h reads (bids rounded down: the level
 * at p holds the bids in [p, p + G); asks rounded up: (p - G, p]), which
 * is the safe reading: a coarse level is counted within a threshold only
 * when every price of its bucket is, and a market order that reaches it
 * is priced at the bucket's worst price, so depth is never overstated and
 * slippage never understated when the venue rounds so.  Were Hibachi to
 * round toward mid instead, a counted bucket could hold prices up to one
 * step beyond the threshold; the finest book, exact, gives every figure it
 * reaches, so only figures beyond it could be affected.
 *
 * Errors: {"errorCode": 4, "message": "...", "status": "failed"}, with a
 * 4xx status.
 *
 * Rate limit: none published (the documentation is silent; the SDK has
 * none).  CCXT's hibachi spaces requests 100 ms apart, so 10 a second is
 * the account here, every path weight 1.  Paging: funding history by time
 * windows of up to 100 hours (limit 100, the most the venue answers); klines
 * by windows of 1000 candles (no page size is documented; a window goes on
 * right after the newest candle the venue sent, so a shorter answer loses
 * nothing); trades are not paged (no history).
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"

#define HB_SUFFIX "/USDT-P"		/* native symbol of a global one: BTC/USDT-P */
#define HB_PERP_SUFFIX "-P"		/* every perpetual's symbol ends so */
#define HB_BOOK_MAX 100			/* depth: 1..100 */
#define HB_MAX_STEPS 8			/* orderbookGranularities of a market taken */
#define HB_BOOK_STEPS 4			/* resolutions asked: the four finest steps */
#define HB_STEP_MAX_LEN 24		/* digits and point of one step */
#define HB_FUNDING_PAGE 100		/* funding-rates limit */
#define HB_KLINE_SPAN 1000		/* candles per request window */
#define HB_TRADES_PAGE 100		/* the most recent trades served (CCXT: at most 100) */
#define HB_TRADES_MAX 1000		/* a trades answer longer than this is refused */
#define HB_TRADE_ID_MAX 160

#define HB_NO_TRADE_HISTORY \
	"Hibachi serves only its most recent trades (/market/data/trades), without a time range or paging: no trade history."

/* ---- symbols ---- */

/* a native symbol: BTC/USDT-P (letters, digits, '/', '-', '_', '.') */
static bool
hb_symbol_ok(const char *s)
{
	return perps_symbol_ok(s, 40, true, "/-_.");
}

static bool
hb_native_symbol(const char *global, char *buf, size_t buflen)
{
	int			n;

	if (!perps_symbol_ok(global, 24, true, "_."))
		return false;
	n = snprintf(buf, buflen, "%s" HB_SUFFIX, global);
	return n > 0 && (size_t) n < buflen;
}

/* The symbol as a query value: '/' escaped (the rest is unreserved). */
static const char *
hb_sym_arg(const PerpsQuery *q, char *buf, size_t len)
{
	size_t		k = 0;

	for (const char *p = q->market->native_symbol; *p && k + 4 < len; p++)
	{
		if (*p == '/')
		{
			memcpy(buf + k, "%2F", 3);
			k += 3;
		}
		else
			buf[k++] = *p;
	}
	buf[k] = '\0';
	return buf;
}

/*
 * A granularity: a positive plain decimal (digits, at most one point, a
 * non-zero digit), at most HB_STEP_MAX_LEN characters: safe in a query
 * string and in a numeric[] literal.
 */
static bool
hb_step_ok(const char *s)
{
	bool		point = false;
	bool		nonzero = false;
	size_t		n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; s[n]; n++)
	{
		if (n >= HB_STEP_MAX_LEN)
			return false;
		if (s[n] == '.')
		{
			if (point)
				return false;
			point = true;
		}
		else if (s[n] >= '0' && s[n] <= '9')
			nonzero |= s[n] != '0';
		else
			return false;
	}
	return nonzero && !(n == 1 && point);
}

/* Compares two hb_step_ok decimals by value: < 0, 0, > 0. */
static int
hb_step_cmp(const char *a, const char *b)
{
	size_t		ia,
				ib;
	const char *fa,
			   *fb;

	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	ia = strcspn(a, ".");
	ib = strcspn(b, ".");
	if (ia != ib)
		return ia < ib ? -1 : 1;
	if (strncmp(a, b, ia) != 0)
		return strncmp(a, b, ia);
	/* the same integer part: the fractions digit by digit, missing ones 0 */
	fa = a[ia] == '.' ? a + ia + 1 : a + ia;
	fb = b[ib] == '.' ? b + ib + 1 : b + ib;
	while (*fa || *fb)
	{
		char		da = *fa ? *fa++ : '0';
		char		db = *fb ? *fb++ : '0';

		if (da != db)
			return da < db ? -1 : 1;
	}
	return 0;
}

/* ---- build ---- */

static int
hb_get(PerpsCtx *ctx, PerpsRequest *r, const char *path, const PerpsQuery *q, const char *extra)
{
	char		sym[128];

	return perps_request_path(ctx, r, 1, "%s?symbol=%s%s", path, hb_sym_arg(q, sym, sizeof(sym)),
							  extra ? extra : "") ? ctx->status : PERPS_OK;
}

static int
hb_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], 1, "/market/exchange-info") ? ctx->status : 1;
}

static int
hb_build_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], 1, "/market/inventory") ? ctx->status : 1;
}

/* prices, stats, open interest */
static int
hb_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (hb_get(ctx, &reqs[0], "/market/data/prices", q, NULL) ||
		hb_get(ctx, &reqs[1], "/market/data/stats", q, NULL) ||
		hb_get(ctx, &reqs[2], "/market/data/open-interest", q, NULL))
		return ctx->status;
	return 3;
}

static int
hb_build_prices(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return hb_get(ctx, &reqs[0], "/market/data/prices", q, NULL) ? ctx->status : 1;
}

static int
hb_build_open_interest(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return hb_get(ctx, &reqs[0], "/market/data/open-interest", q, NULL) ? ctx->status : 1;
}

static int
hb_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	char		extra[32 + HB_STEP_MAX_LEN];
	int			depth = q->depth > 0 && q->depth < HB_BOOK_MAX ? q->depth : HB_BOOK_MAX;
	const PerpsMarketRef *m = q->market;

	/*
	 * The dispatcher checked the resolution against the market's steps;
	 * they are what the markets parser let through (plain decimals), or
	 * perps_stats.markets.book_steps written from them, checked again.
	 */
	if (m->book_steps != NULL && m->nbook_steps > 0)
	{
		const char *g = m->book_steps[q->resolution];

		if (!hb_step_ok(g))
			return perps_fail(ctx, PERPS_ERR_ARG, "hibachi: the book step \"%.30s\" is not a positive decimal",
							  g ? g : "");
		snprintf(extra, sizeof(extra), "&depth=%d&granularity=%s", depth, g);
	}
	else
		snprintf(extra, sizeof(extra), "&depth=%d", depth);
	return hb_get(ctx, &reqs[0], "/market/data/orderbook", q, extra) ? ctx->status : 1;
}

static int
hb_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	int			rows = perps_page_size(q, HB_FUNDING_PAGE);
	int64_t		start,
				end;
	char		extra[96];

	/* seconds; one hourly settlement per hour: a window of rows hours holds at most rows */
	if (!perps_page_window(q, 1000000, (int64_t) rows * 3600, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "hibachi: since is after until");
	if (start < 0)
		start = 0;
	snprintf(extra, sizeof(extra), "&startTime=%lld&endTime=%lld&limit=%d",
			 (long long) start, (long long) end, rows);
	return hb_get(ctx, &reqs[0], "/market/data/funding-rates", q, extra) ? ctx->status : 1;
}

/* The venue's name of an interval, or NULL. */
static const char *
hb_interval(const char *interval)
{
	static const char *const names[][2] = {
		{"1m", "1min"}, {"5m", "5min"}, {"15m", "15min"}, {"1h", "1h"}, {"4h", "4h"}, {"1d", "1d"},
	};

	if (interval == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i][0], interval) == 0)
			return names[i][1];
	return NULL;
}

/* The [start, end] (ms) of a klines request. */
static bool
hb_kline_window(const PerpsQuery *q, int64_t *start, int64_t *end)
{
	int			secs = perps_interval_seconds(q->interval);
	int			rows = perps_page_size(q, HB_KLINE_SPAN);

	return perps_page_window(q, 1000, (int64_t) rows * secs * 1000, start, end);
}

static int
hb_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *iv = hb_interval(q->interval);
	int64_t		start,
				end;
	char		extra[128];

	if (iv == NULL)
		return perps_fail(ctx, PERPS_ERR_ARG,
						  "hibachi: klines are served at 1m, 5m, 15m, 1h, 4h and 1d only, not \"%s\"",
						  q->interval ? q->interval : "(null)");
	if (!hb_kline_window(q, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "hibachi: since is after until");
	if (start < 0)
		start = 0;
	snprintf(extra, sizeof(extra), "&interval=%s&fromMs=%lld&toMs=%lld", iv,
			 (long long) start, (long long) end);
	return hb_get(ctx, &reqs[0], "/market/data/klines", q, extra) ? ctx->status : 1;
}

static int
hb_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_UNSUPPORTED, "%s", HB_NO_TRADE_HISTORY);
	return hb_get(ctx, &reqs[0], "/market/data/trades", q, NULL) ? ctx->status : 1;
}

/* ---- parse ---- */

/* PerpsAdapter.open_body: {"errorCode": N, "message": "...", "status": "failed"} */
static PerpsStatus
hb_open(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
{
	struct json_object *msg;
	struct json_object *code;
	PerpsStatus st;

	*root = NULL;
	if (perps_json_parse(ctx, b->data, b->len, root) != PERPS_OK)
	{
		if (b->status != 200)
			return perps_fail(ctx, PERPS_ERR_VENUE, "HTTP status %ld", b->status);
		return ctx->status;
	}
	if (b->status == 200 && !perps_json_str_eq(perps_json_get(*root, "status"), "failed"))
	{
		if (!json_object_is_type(*root, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "the answer is not an object");
		return PERPS_OK;
	}
	msg = perps_json_get(*root, "message");
	code = perps_json_get(*root, "errorCode");
	st = perps_fail(ctx, PERPS_ERR_VENUE, "hibachi error %s (HTTP %ld): %s",
					code && json_object_is_type(code, json_type_int) ? json_object_get_string(code) : "(none)",
					b->status,
					msg && json_object_is_type(msg, json_type_string) ? json_object_get_string(msg) :
					"(no message)");
	json_object_put(*root);
	*root = NULL;
	return st;
}

/* true when a symbol names a perpetual (ends in -P) */
static bool
hb_is_perp(const char *s)
{
	size_t		n = strlen(s),
				k = strlen(HB_PERP_SUFFIX);

	return n > k && strcmp(s + n - k, HB_PERP_SUFFIX) == 0;
}

/* The answer is about the market asked for: its "symbol" field, when sent, names it. */
static PerpsStatus
hb_same_symbol(PerpsCtx *ctx, struct json_object *o, const PerpsQuery *q, const char *what)
{
	struct json_object *s = perps_json_get(o, "symbol");

	if (s == NULL || json_object_is_type(s, json_type_null))
		return PERPS_OK;
	if (!json_object_is_type(s, json_type_string))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s: field \"symbol\" is not a string", what);
	if (strcmp(json_object_get_string(s), q->market->native_symbol) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is for %.40s, not %s", what,
						  json_object_get_string(s), q->market->native_symbol);
	return PERPS_OK;
}

/*
 * A contract's orderbookGranularities into mk->book_steps: at most
 * HB_MAX_STEPS positive plain decimals, strictly increasing (finest
 * first).  Missing or null: none (the market's book is asked without
 * granularity).
 */
static PerpsStatus
hb_parse_steps(PerpsCtx *ctx, struct json_object *o, size_t i, PerpsMarket *mk)
{
	struct json_object *arr = perps_json_get(o, "orderbookGranularities");
	size_t		n;

	mk->book_steps = NULL;
	mk->nbook_steps = 0;
	if (arr == NULL || json_object_is_type(arr, json_type_null))
		return PERPS_OK;
	if (perps_need_array(ctx, arr, "orderbookGranularities", &n))
		return ctx->status;
	if (n == 0)
		return PERPS_OK;
	if (n > HB_MAX_STEPS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "contract %zu has %zu orderbookGranularities, more than %d",
						  i, n, HB_MAX_STEPS);
	mk->book_steps = perps_alloc(ctx, sizeof(char *) * n);
	if (mk->book_steps == NULL)
		return ctx->status;
	for (size_t k = 0; k < n; k++)
	{
		struct json_object *g = json_object_array_get_idx(arr, k);

		if (!json_object_is_type(g, json_type_string) || !hb_step_ok(json_object_get_string(g)))
			return perps_fail(ctx, PERPS_ERR_SHAPE,
							  "contract %zu: orderbookGranularities[%zu] is not a positive decimal string", i, k);
		mk->book_steps[k] = perps_strndup(ctx, json_object_get_string(g),
										  (size_t) json_object_get_string_len(g));
		if (mk->book_steps[k] == NULL)
			return ctx->status;
		if (k > 0 && hb_step_cmp(mk->book_steps[k - 1], mk->book_steps[k]) >= 0)
			return perps_fail(ctx, PERPS_ERR_SHAPE,
							  "contract %zu: orderbookGranularities are not finest first", i);
	}
	mk->nbook_steps = (int) n;
	return PERPS_OK;
}

static PerpsStatus
hb_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int			k = 0;

	out->u.markets = perps_rows_field(ctx, docs[0], "futureContracts", sizeof(PerpsMarket), &arr, &n);
	if (out->u.markets == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsMarket *mk = &out->u.markets[k];

		if (perps_need_object(ctx, o, "contract"))
			return ctx->status;
		if (perps_json_string(ctx, perps_json_get(o, "symbol"), "symbol", &mk->native_symbol))
			return ctx->status;
		/* LIVE perpetuals only: CLOSED (delisted) and not yet open markets are left out */
		if (!hb_is_perp(mk->native_symbol) || !perps_json_str_eq(perps_json_get(o, "status"), "LIVE"))
			continue;
		if (perps_json_string(ctx, perps_json_get(o, "underlyingSymbol"), "underlyingSymbol", &mk->base) ||
			perps_json_string(ctx, perps_json_get(o, "settlementSymbol"), "settlementSymbol", &mk->quote) ||
			perps_json_decimal_field(ctx, o, "tickSize", false, &mk->tick_size) ||
			perps_json_decimal_field(ctx, o, "stepSize", false, &mk->lot_size) ||
			perps_json_decimal_field(ctx, o, "minOrderSize", false, &mk->min_qty) ||
			perps_json_decimal_field(ctx, o, "minNotional", false, &mk->min_notional))
			return ctx->status;
		if (!perps_symbol_ok(mk->base, 24, true, "_.") || !hb_symbol_ok(mk->native_symbol))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "contract %zu has a malformed symbol", i);
		if (hb_parse_steps(ctx, o, i, mk))
			return ctx->status;
		mk->symbol = mk->base;
		mk->contract_size = "1";
		mk->funding_interval_hours = "1";
		mk->active = true;
		k++;
	}
	out->n = k;
	return PERPS_OK;
}

/* The prices answer into a ticker (its prices, no time: the answer has none). */
static PerpsStatus
hb_prices(PerpsCtx *ctx, struct json_object *p, PerpsTicker *t)
{
	if (perps_need_object(ctx, p, "prices") ||
		perps_json_decimal_field(ctx, p, "tradePrice", false, &t->last_price) ||
		perps_json_decimal_field(ctx, p, "markPrice", false, &t->mark_price) ||
		perps_json_decimal_field(ctx, p, "spotPrice", false, &t->index_price) ||
		perps_json_decimal_field(ctx, p, "bidPrice", false, &t->best_bid_price) ||
		perps_json_decimal_field(ctx, p, "askPrice", false, &t->best_ask_price))
		return ctx->status;
	return PERPS_OK;
}

static PerpsStatus
hb_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	PerpsTicker *t;

	if (perps_need_docs(ctx, ndocs, 3))
		return ctx->status;
	t = out->u.tickers = perps_alloc(ctx, sizeof(PerpsTicker));
	if (t == NULL)
		return ctx->status;
	t->native_symbol = q->market->native_symbol;
	t->ts_us = PERPS_TS_NONE;
	if (hb_same_symbol(ctx, docs[0], q, "prices") || hb_prices(ctx, docs[0], t) ||
		hb_same_symbol(ctx, docs[1], q, "stats") ||
		perps_json_decimal_field(ctx, docs[1], "high24h", false, &t->high_24h) ||
		perps_json_decimal_field(ctx, docs[1], "low24h", false, &t->low_24h) ||
		/* volume24h is the USDT notional traded */
		perps_json_decimal_field(ctx, docs[1], "volume24h", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, docs[2], "totalQuantity", false, &t->open_interest))
		return ctx->status;
	out->n = 1;
	return PERPS_OK;
}

/* PerpsTickerRead of an inventory market: {"contract": {...}, "info": {...}} */
static PerpsStatus
hb_inventory_read(PerpsCtx *ctx, struct json_object *e, size_t i, PerpsTicker *t, bool *keep)
{
	struct json_object *c = perps_json_get(e, "contract");
	struct json_object *info = perps_json_get(e, "info");
	const char *prev = NULL;

	if (perps_need_object(ctx, e, "market") || perps_need_object(ctx, c, "contract") ||
		perps_json_string(ctx, perps_json_get(c, "symbol"), "symbol", &t->native_symbol))
		return ctx->status;
	t->ts_us = PERPS_TS_NONE;
	*keep = hb_is_perp(t->native_symbol) && perps_json_str_eq(perps_json_get(c, "status"), "LIVE");
	if (!*keep)
		return PERPS_OK;
	if (perps_need_object(ctx, info, "info") ||
		perps_json_decimal_field(ctx, info, "priceLatest", false, &t->last_price) ||
		perps_json_decimal_field(ctx, info, "markPrice", false, &t->mark_price) ||
		perps_json_decimal_field(ctx, info, "price24hAgo", false, &prev))
		return ctx->status;
	if (t->last_price != NULL && prev != NULL &&
		(t->price_change_24h = perps_decimal_sub(ctx, t->last_price, prev)) == NULL)
		return ctx->status;
	return PERPS_OK;
}

static PerpsStatus
hb_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	return perps_pick_tickers(ctx, docs[0], "markets", NULL, hb_inventory_read, out);
}

static PerpsStatus
hb_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *est;
	PerpsFunding *f;

	if (hb_same_symbol(ctx, docs[0], q, "prices") ||
		perps_json_need(ctx, docs[0], "fundingRateEstimation", json_type_object, &est))
		return ctx->status;
	f = out->u.funding = perps_alloc(ctx, sizeof(PerpsFunding));
	if (f == NULL)
		return ctx->status;
	/* the estimate is the rate of the hour that settles at nextFundingTimestamp */
	if (perps_json_decimal_field(ctx, est, "estimatedFundingRate", true, &f->rate) ||
		perps_json_ts_field(ctx, est, "nextFundingTimestamp", PERPS_S, &f->next_funding_time_us))
		return ctx->status;
	f->funding_time_us = f->next_funding_time_us;
	f->predicted_rate = NULL;
	f->interval_hours = "1";
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
hb_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						 PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int64_t		latest = PERPS_TS_NONE;

	out->u.funding = perps_rows_field(ctx, docs[0], "data", sizeof(PerpsFunding), &arr, &n);
	if (out->u.funding == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsFunding *f = &out->u.funding[i];

		if (perps_need_object(ctx, o, "funding rate") ||
			perps_json_ts_field(ctx, o, "fundingTimestamp", PERPS_S, &f->funding_time_us) ||
			perps_json_decimal_field(ctx, o, "fundingRate", true, &f->rate))
			return ctx->status;
		f->next_funding_time_us = PERPS_TS_NONE;
		f->interval_hours = "1";
		if (latest == PERPS_TS_NONE || f->funding_time_us > latest)
			latest = f->funding_time_us;
	}
	out->n = (int) n;
	qsort(out->u.funding, n, sizeof(PerpsFunding), perps_cmp_funding);
	perps_page_forward(q, perps_page_size(q, HB_FUNDING_PAGE), (int64_t) 3600 * 1000000, latest, n, out);
	return PERPS_OK;
}

static PerpsStatus
hb_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	PerpsOpenInterest *oi = out->u.oi = perps_alloc(ctx, sizeof(PerpsOpenInterest));

	if (oi == NULL)
		return ctx->status;
	/* totalQuantity: base units; the answer has no time and no notional */
	if (perps_json_decimal_field(ctx, docs[0], "totalQuantity", true, &oi->open_interest))
		return ctx->status;
	oi->ts_us = PERPS_TS_NONE;
	out->n = 1;
	return PERPS_OK;
}

/*
 * One side of the book: obj[key] is {"levels": [{"price", "quantity"}], ...}
 * or null (no levels).  Put best first when the venue lists it the other way
 * (the documentation does not say which way); the store checks the order.
 */
static PerpsStatus
hb_book_side(PerpsCtx *ctx, struct json_object *root, const char *key, int depth, bool bids,
			 PerpsLevel **levels, int *nlevels)
{
	struct json_object *side = perps_json_get(root, key);
	struct json_object *arr;
	size_t		n;
	int			nl;

	*levels = NULL;
	*nlevels = 0;
	if (side == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"%s\" is missing", key);
	if (json_object_is_type(side, json_type_null))
		return PERPS_OK;
	if (perps_need_object(ctx, side, key) ||
		perps_json_need(ctx, side, "levels", json_type_array, &arr) ||
		perps_parse_level_objs(ctx, arr, key, 0, "price", "quantity", levels, &nl))
		return ctx->status;
	n = (size_t) nl;
	if (n >= 2)
	{
		const char *d = perps_decimal_sub(ctx, (*levels)[0].price, (*levels)[n - 1].price);

		if (d == NULL)
			return ctx->status;
		/* bids best (highest) first: first - last >= 0; asks: <= 0 */
		if ((d[0] == '-') == bids)
			for (size_t i = 0, j = n - 1; i < j; i++, j--)
			{
				PerpsLevel	tmp = (*levels)[i];

				(*levels)[i] = (*levels)[j];
				(*levels)[j] = tmp;
			}
	}
	*nlevels = depth > 0 && (size_t) depth < n ? depth : (int) n;
	return PERPS_OK;
}

static PerpsStatus
hb_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	PerpsBook  *bk = out->u.book = perps_alloc(ctx, sizeof(PerpsBook));

	if (bk == NULL)
		return ctx->status;
	if (hb_same_symbol(ctx, docs[0], q, "book") ||
		hb_book_side(ctx, docs[0], "bid", q->depth, true, &bk->bids, &bk->nbids) ||
		hb_book_side(ctx, docs[0], "ask", q->depth, false, &bk->asks, &bk->nasks))
		return ctx->status;
	bk->ts_us = PERPS_TS_NONE;	/* the answer carries no time, and no sequence */
	bk->has_seq = false;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
hb_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int64_t		step_us = (int64_t) perps_interval_seconds(q->interval) * 1000000;
	int			rows = perps_page_size(q, HB_KLINE_SPAN);
	int64_t		start,
				end,
				next;

	if (step_us <= 0 || hb_interval(q->interval) == NULL)
		return perps_fail(ctx, PERPS_ERR_ARG, "hibachi: unsupported kline interval");
	out->u.klines = perps_rows_field(ctx, docs[0], "klines", sizeof(PerpsKline), &arr, &n);
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsKline *k = &out->u.klines[i];

		if (perps_need_object(ctx, o, "kline") ||
			perps_json_ts_field(ctx, o, "timestamp", PERPS_S, &k->open_time_us) ||
			perps_json_decimal_field(ctx, o, "open", true, &k->open) ||
			perps_json_decimal_field(ctx, o, "high", true, &k->high) ||
			perps_json_decimal_field(ctx, o, "low", true, &k->low) ||
			perps_json_decimal_field(ctx, o, "close", true, &k->close) ||
			perps_json_decimal_field(ctx, o, "volumeNotional", false, &k->turnover))
			return ctx->status;
		if (k->open_time_us > INT64_MAX - step_us)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "kline %zu: time out of range", i);
		k->close_time_us = k->open_time_us + step_us - 1000;
		k->volume = NULL;		/* only the quote notional is sent */
		k->trade_count = -1;
	}
	out->n = (int) n;
	qsort(out->u.klines, n, sizeof(PerpsKline), perps_cmp_kline);
	if (q->since_us == PERPS_TS_NONE || !hb_kline_window(q, &start, &end))
		return PERPS_OK;
	/* on from the newest candle sent, or past the window when it is covered or empty */
	next = (end + 1) * 1000;
	if (n > 0)
	{
		int64_t		after = out->u.klines[n - 1].open_time_us + step_us;

		if (after > q->since_us && after < next)
			next = after;
	}
	if (q->until_us == PERPS_TS_NONE ? n >= (size_t) rows : next <= q->until_us)
	{
		out->has_more = true;
		out->next_since_us = next;
	}
	return PERPS_OK;
}

/*
 * Trade i of a trades array, {price, quantity, takerSide, timestamp (s)},
 * with its synthetic id (see the file header): trades[0 .. i-1] are the
 * earlier ones of the same answer or stream frame.  The REST and the
 * stream side read trades through this alone, so the same trade gets the
 * same id on both.
 */
static PerpsStatus
hb_trade(PerpsCtx *ctx, struct json_object *o, size_t i, PerpsTrade *trades)
{
	PerpsTrade *t = &trades[i];
	int			k = 0;
	char	   *id;
	int			len;

	if (perps_need_object(ctx, o, "trade") ||
		perps_json_decimal_field(ctx, o, "price", true, &t->price) ||
		perps_json_decimal_field(ctx, o, "quantity", true, &t->qty) ||
		perps_json_ts_field(ctx, o, "timestamp", PERPS_S, &t->ts_us) ||
		perps_taker_side(ctx, perps_json_get(o, "takerSide"), "Buy", "Sell", &t->is_buy))
		return ctx->status;
	/* k: the earlier trades identical in time, side, price and quantity */
	for (size_t j = 0; j < i; j++)
	{
		const PerpsTrade *u = &trades[j];

		if (u->ts_us == t->ts_us && u->is_buy == t->is_buy &&
			strcmp(u->price, t->price) == 0 && strcmp(u->qty, t->qty) == 0)
			k++;
	}
	id = perps_alloc(ctx, HB_TRADE_ID_MAX);
	if (id == NULL)
		return ctx->status;
	len = snprintf(id, HB_TRADE_ID_MAX, "%lld-%c-%s-%s-%d", (long long) (t->ts_us / 1000000),
				   t->is_buy ? 'B' : 'S', t->price, t->qty, k);
	if (len < 0 || len >= HB_TRADE_ID_MAX)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "trade %zu: price and quantity too long for an id", i);
	t->trade_id = id;
	return PERPS_OK;
}

static PerpsStatus
hb_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;

	out->u.trades = perps_rows_field(ctx, docs[0], "trades", sizeof(PerpsTrade), &arr, &n);
	if (out->u.trades == NULL)
		return ctx->status;
	if (n > HB_TRADES_MAX)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%zu trades, more than the %d recent ones Hibachi serves",
						  n, HB_TRADES_MAX);
	for (size_t i = 0; i < n; i++)
		if (hb_trade(ctx, json_object_array_get_idx(arr, i), i, out->u.trades))
			return ctx->status;
	out->n = (int) n;
	perps_newest_trades(out, q->limit);
	return PERPS_OK;
}

/* ---- the stream side: wss://data-api.hibachi.xyz/ws/market ----
 *
 * Hibachi's market WebSocket (the documentation's "Market Websocket API";
 * no key).  Checked against the documentation and the official SDK's
 * market client only: there are no recorded frames.
 *
 * Subscribe: {"method":"subscribe","parameters":{"subscriptions":[{"symbol":
 * S,"topic":T}, ...]}}, any number of symbols and topics in one message;
 * the venue does not answer it.  One connection carries every market (the
 * documentation states no limit), one message per market with all its
 * topics.  Frames are {"symbol":S,"topic":T,"data":{...}}:
 *
 *	 orderbook		(with "depth":100, the most REST serves; no granularity:
 *					the venue's finest) {"messageType":"Snapshot"|"Update",
 *					"timestamp_ms", "data":{"bid":SIDE,"ask":SIDE}}, SIDE
 *					{"startPrice","endPrice","levels":[{"price","quantity"}]}
 *					or null.  The first message after subscribing is a
 *					Snapshot (all levels); Updates follow, and for each side
 *					the documentation says: null empties it, levels priced
 *					outside [startPrice, endPrice] go, a quantity of zero
 *					deletes its price, any other sets it.  That bound is
 *					PerpsStreamEvent.has_span.
 *	 trades			{"trade":{price, quantity, takerSide Buy|Sell, timestamp
 *					(s)}} (a "trades" array of them is read the same way):
 *					no id, so each gets the synthetic id of the REST side
 *					(hb_trade), counted within its frame.
 *	 mark_price		{"markPrice"}, spot_price {"spotPrice"} (the index),
 *	 ask_bid_price	{"askPrice","askSize","bidPrice","bidSize"} (the bbo with
 *					sizes), funding_rate_estimation {"fundingRateEstimation":
 *					{"estimatedFundingRate","nextFundingTimestamp" (s)}}: each
 *					a ticker delta stamped with the local clock (they carry
 *					no time); the estimate is the funding row of the next
 *					hourly settlement, as on the REST side.
 *	 klines			one subscription per interval ("interval": 1min 5min
 *					15min 1h 4h 1d, the REST names).  The documentation names
 *					the topic but shows no message: read as the REST answer's
 *					candles, {"klines":[{timestamp (s), open, high, low,
 *					close, volumeNotional, interval}]} (or one such object as
 *					data), the interval from the candle or the frame.  No
 *					closed flag: a candle is final when the next one opens.
 *
 * Sequence rule: the orderbook messages carry no sequence number, only
 * timestamp_ms, which is the event's seq.  A Snapshot no older than the
 * book replaces it (an older one, a replay, is stale); without a book an
 * Update waits for the Snapshot; an Update as new as the book or newer
 * applies; an Update older than the book means the deltas came out of
 * order: it can be neither applied nor skipped, so the book is resynced.
 * Nothing can show a lost Update (the venue numbers none): that is the
 * limit of this stream.  A resync (that, or a crossed book) unsubscribes
 * and subscribes the symbol's orderbook again, which answers with a fresh
 * Snapshot.
 *
 * Replies to requests (an error, list_subscription) have no topic:
 * control events, an error where "status" is not 200 or "error" is set.
 * Keep-alive: the documentation states no ping rule for this endpoint;
 * the SDK's client keeps its WebSocket library's protocol pings, and so
 * does the worker (ping_message NULL).  No connection lifetime is stated.
 */

#define HB_WS_BOOK_DEPTH 100
#define HB_WS_MAX_LEVELS 5000
#define HB_WS_MAX_TRADES 1000
#define HB_WS_MAX_KLINES 1000
#define HB_WS_MAX_MESSAGE (4 * 1024 * 1024)
#define HB_WS_SUB_MAX 2048
#define HB_WS_ERR_MAX 200

/* The topics of every market, the orderbook first (its depth is added). */
static const char *const hb_ws_topics[] = {
	"orderbook", "trades", "mark_price", "spot_price", "ask_bid_price", "funding_rate_estimation",
};

/* The venue's name of a candle interval, or NULL (1m 5m 15m 1h 4h 1d: no 30m). */
static const char *
hb_ws_kline_channel(const char *interval)
{
	return hb_interval(interval);
}

/* perps_stats' name of the venue's interval, or NULL. */
static const char *
hb_ws_interval_name(const char *venue_iv)
{
	static const char *const ours[] = {"1m", "5m", "15m", "1h", "4h", "1d"};

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (strcmp(hb_interval(ours[i]), venue_iv) == 0)
			return ours[i];
	return NULL;
}

/* Appends printf output to buf (len used of size); false when it does not fit. */
static bool
hb_ws_cat(char *buf, size_t size, size_t *len, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static bool
hb_ws_cat(char *buf, size_t size, size_t *len, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= size - *len)
		return false;
	*len += (size_t) n;
	return true;
}

/*
 * {"method":<method>,"parameters":{"subscriptions":[...]}} for one symbol:
 * the topics given (the orderbook with its depth on subscribe), then a
 * klines subscription per interval.
 */
static PerpsStatus
hb_ws_message(PerpsCtx *ctx, const char *method, const char *sym, const char *const *topics, int ntopics,
			  const PerpsStreamWant *want, PerpsWsMessage *out)
{
	char		buf[HB_WS_SUB_MAX];
	size_t		len = 0;
	bool		ok;
	bool		sub = strcmp(method, "subscribe") == 0;

	/* the symbol goes into JSON text: hb_symbol_ok allows nothing that needs escaping */
	if (sym == NULL || !hb_symbol_ok(sym))
		return perps_fail(ctx, PERPS_ERR_ARG, "hibachi symbol \"%.40s\" is not valid", sym ? sym : "");
	ok = hb_ws_cat(buf, sizeof(buf), &len, "{\"method\":\"%s\",\"parameters\":{\"subscriptions\":[", method);
	for (int k = 0; ok && k < ntopics; k++)
	{
		ok = hb_ws_cat(buf, sizeof(buf), &len, "%s{\"symbol\":\"%s\",\"topic\":\"%s\"", k ? "," : "",
					   sym, topics[k]);
		if (ok && sub && strcmp(topics[k], "orderbook") == 0)
			ok = hb_ws_cat(buf, sizeof(buf), &len, ",\"depth\":%d", HB_WS_BOOK_DEPTH);
		ok = ok && hb_ws_cat(buf, sizeof(buf), &len, "}");
	}
	for (int k = 0; ok && want != NULL && k < want->nintervals; k++)
	{
		const char *iv = hb_interval(want->intervals[k]);

		if (iv == NULL)
			return perps_fail(ctx, PERPS_ERR_ARG, "hibachi streams no candle interval \"%.8s\"",
							  want->intervals[k] ? want->intervals[k] : "");
		ok = hb_ws_cat(buf, sizeof(buf), &len, ",{\"symbol\":\"%s\",\"topic\":\"klines\",\"interval\":\"%s\"}",
					   sym, iv);
	}
	ok = ok && hb_ws_cat(buf, sizeof(buf), &len, "]}}");
	if (!ok)
		return perps_fail(ctx, PERPS_ERR_ARG, "hibachi subscribe message too long");
	out->data = perps_strndup(ctx, buf, len);
	out->len = len;
	return out->data ? PERPS_OK : ctx->status;
}

/* One message per market: its book, trades, prices, funding and candles. */
static int
hb_ws_subscribe(PerpsCtx *ctx, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	int			ntopics = (int) (sizeof(hb_ws_topics) / sizeof(hb_ws_topics[0]));

	if (want->nintervals < 0 || want->nintervals > PERPS_KLINE_MAX)
		return perps_fail(ctx, PERPS_ERR_ARG, "hibachi: %d candle intervals", want->nintervals);
	if (want->n < 0 || want->n > PERPS_WS_MAX_MESSAGES)
		return perps_fail(ctx, PERPS_ERR_ARG, "hibachi streams at most %d markets on one connection, not %d",
						  PERPS_WS_MAX_MESSAGES, want->n);
	for (int i = 0; i < want->n; i++)
		if (hb_ws_message(ctx, "subscribe", want->natives[i], hb_ws_topics, ntopics, want, &out[i]))
			return ctx->status;
	return want->n;
}

/* A fresh Snapshot of one book: the orderbook subscription answers with one. */
static int
hb_ws_resync(PerpsCtx *ctx, const char *native, PerpsWsMessage *out)
{
	if (hb_ws_message(ctx, "unsubscribe", native, hb_ws_topics, 1, NULL, &out[0]) ||
		hb_ws_message(ctx, "subscribe", native, hb_ws_topics, 1, NULL, &out[1]))
		return ctx->status;
	return 2;
}

/* The local clock in µs (the price frames carry no time). */
static int64_t
hb_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (int64_t) time(NULL) * 1000000;
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * One side of an orderbook message, data[key] (s: 0 bids, 1 asks): its
 * levels, and on an Update its span (null: the side is emptied).  A
 * missing side changes nothing.
 */
static PerpsStatus
hb_ws_side(PerpsCtx *ctx, struct json_object *data, const char *key, int s, PerpsStreamEvent *ev)
{
	struct json_object *side = perps_json_get(data, key);
	struct json_object *arr;
	PerpsLevel **levels = s == 0 ? &ev->bids : &ev->asks;
	int		   *n = s == 0 ? &ev->nbids : &ev->nasks;

	if (side == NULL)
		return PERPS_OK;
	if (json_object_is_type(side, json_type_null))
	{
		/* an empty side: no span to keep (both bounds NULL) */
		ev->has_span[s] = !ev->snapshot;
		return PERPS_OK;
	}
	if (perps_need_object(ctx, side, key) ||
		perps_json_need(ctx, side, "levels", json_type_array, &arr))
		return ctx->status;
	if (json_object_array_length(arr) > HB_WS_MAX_LEVELS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hibachi book frame has %zu %s levels",
						  json_object_array_length(arr), key);
	if (perps_parse_level_objs(ctx, arr, key, 0, "price", "quantity", levels, n))
		return ctx->status;
	if (ev->snapshot)
		return PERPS_OK;
	if (perps_json_decimal_field(ctx, side, "startPrice", false, &ev->span_from[s]) ||
		perps_json_decimal_field(ctx, side, "endPrice", false, &ev->span_to[s]))
		return ctx->status;
	/* both bounds, or none (then nothing is dropped) */
	if ((ev->span_from[s] == NULL) != (ev->span_to[s] == NULL))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hibachi book %s side has only one of startPrice and endPrice", key);
	ev->has_span[s] = ev->span_from[s] != NULL;
	return PERPS_OK;
}

static PerpsStatus
hb_ws_book(PerpsCtx *ctx, struct json_object *root, struct json_object *data, PerpsStreamEvent *ev)
{
	struct json_object *type = perps_json_get(root, "messageType");
	int64_t		ms;

	ev->kind = PERPS_EV_BOOK;
	if (perps_json_str_eq(type, "Snapshot"))
		ev->snapshot = true;
	else if (!perps_json_str_eq(type, "Update"))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hibachi orderbook messageType is neither Snapshot nor Update");
	if (perps_need_object(ctx, data, "orderbook data") ||
		perps_json_int64_field(ctx, root, "timestamp_ms", &ms) ||
		perps_json_ts_field(ctx, root, "timestamp_ms", PERPS_MS, &ev->ts_us) ||
		hb_ws_side(ctx, data, "bid", 0, ev) ||
		hb_ws_side(ctx, data, "ask", 1, ev))
		return ctx->status;
	ev->seq = ms;				/* no sequence number: the time orders the messages */
	return PERPS_OK;
}

/* {"trade": {...}} or {"trades": [...]}: one event with the frame's trades. */
static PerpsStatus
hb_ws_trades(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	struct json_object *one = perps_json_get(data, "trade");
	struct json_object *arr = NULL;
	size_t		n = 1;

	ev->kind = PERPS_EV_TRADES;
	if (perps_need_object(ctx, data, "trades data"))
		return ctx->status;
	if (one == NULL)
	{
		if (perps_json_need(ctx, data, "trades", json_type_array, &arr))
			return ctx->status;
		n = json_object_array_length(arr);
		if (n > HB_WS_MAX_TRADES)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "hibachi trade frame has %zu trades", n);
	}
	if (n == 0)
		return PERPS_OK;
	ev->trades = perps_alloc_array(ctx, n, sizeof(PerpsTrade));
	if (ev->trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
		if (hb_trade(ctx, arr ? json_object_array_get_idx(arr, i) : one, i, ev->trades))
			return ctx->status;
	ev->ntrades = (int) n;
	ev->ts_us = ev->trades[n - 1].ts_us;
	return PERPS_OK;
}

/* The price topics: a ticker delta of what the topic carries, at the local time. */
static PerpsStatus
hb_ws_ticker(PerpsCtx *ctx, const char *topic, struct json_object *data, PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	if (perps_need_object(ctx, data, topic))
		return ctx->status;
	if (strcmp(topic, "mark_price") == 0)
	{
		if (perps_json_decimal_field(ctx, data, "markPrice", true, &t->mark_price))
			return ctx->status;
	}
	else if (strcmp(topic, "spot_price") == 0)
	{
		if (perps_json_decimal_field(ctx, data, "spotPrice", true, &t->index_price))
			return ctx->status;
	}
	else if (strcmp(topic, "ask_bid_price") == 0)
	{
		if (perps_json_decimal_field(ctx, data, "bidPrice", false, &t->best_bid_price) ||
			perps_json_decimal_field(ctx, data, "bidSize", false, &t->best_bid_qty) ||
			perps_json_decimal_field(ctx, data, "askPrice", false, &t->best_ask_price) ||
			perps_json_decimal_field(ctx, data, "askSize", false, &t->best_ask_qty))
			return ctx->status;
	}
	else
	{
		struct json_object *est;

		/* funding_rate_estimation: the rate of the hour that settles next */
		if (perps_json_need(ctx, data, "fundingRateEstimation", json_type_object, &est) ||
			perps_json_decimal_field(ctx, est, "estimatedFundingRate", true, &ev->funding_rate) ||
			perps_json_ts_field(ctx, est, "nextFundingTimestamp", PERPS_S, &ev->next_funding_time_us))
			return ctx->status;
		ev->funding_interval_hours = "1";
	}
	ev->ts_us = hb_now_us();
	t->native_symbol = ev->native_symbol;
	t->ts_us = ev->ts_us;
	return PERPS_OK;
}

/* Candle i of a klines frame: the REST candle fields, its interval its own or the frame's. */
static PerpsStatus
hb_ws_kline(PerpsCtx *ctx, struct json_object *o, const char *frame_iv, PerpsStreamEvent *ev)
{
	PerpsKline *k = &ev->kline;
	struct json_object *ivo = perps_json_get(o, "interval");
	const char *iv = frame_iv;
	int			secs;

	ev->kind = PERPS_EV_KLINE;
	if (perps_need_object(ctx, o, "kline"))
		return ctx->status;
	if (ivo != NULL && perps_json_string(ctx, ivo, "interval", &iv))
		return ctx->status;
	if (iv == NULL || (ev->kline_interval = hb_ws_interval_name(iv)) == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hibachi kline interval \"%.8s\" is not one perps_stats streams",
						  iv ? iv : "(none)");
	secs = perps_interval_seconds(ev->kline_interval);
	if (perps_json_ts_field(ctx, o, "timestamp", PERPS_S, &k->open_time_us) ||
		perps_json_decimal_field(ctx, o, "open", true, &k->open) ||
		perps_json_decimal_field(ctx, o, "high", true, &k->high) ||
		perps_json_decimal_field(ctx, o, "low", true, &k->low) ||
		perps_json_decimal_field(ctx, o, "close", true, &k->close) ||
		perps_json_decimal_field(ctx, o, "volumeNotional", false, &k->turnover))
		return ctx->status;
	if (k->open_time_us > INT64_MAX - (int64_t) secs * 1000000)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hibachi kline time out of range");
	k->close_time_us = k->open_time_us + (int64_t) secs * 1000000 - 1000;
	k->volume = NULL;			/* only the quote notional is sent */
	k->trade_count = -1;
	ev->kline_closed = false;
	ev->ts_us = PERPS_TS_NONE;
	return PERPS_OK;
}

/* klines: {"klines": [candle, ...]} or a candle as data; one event each. */
static PerpsStatus
hb_ws_klines(PerpsCtx *ctx, struct json_object *root, struct json_object *data, const char *sym,
			 PerpsStreamFrame *out)
{
	struct json_object *arr = perps_json_get(data, "klines");
	struct json_object *ivo = perps_json_get(root, "interval");
	const char *frame_iv = NULL;
	size_t		n = 1;

	if (perps_need_object(ctx, data, "klines data"))
		return ctx->status;
	if (ivo != NULL && perps_json_string(ctx, ivo, "interval", &frame_iv))
		return ctx->status;
	if (arr != NULL)
	{
		if (!json_object_is_type(arr, json_type_array))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "hibachi klines is not an array");
		n = json_object_array_length(arr);
		if (n > HB_WS_MAX_KLINES)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "hibachi kline frame has %zu candles", n);
	}
	if (n == 0)
		return PERPS_OK;
	out->events = perps_alloc_array(ctx, n, sizeof(PerpsStreamEvent));
	if (out->events == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		PerpsStreamEvent *ev = &out->events[i];

		ev->native_symbol = sym;
		ev->channel = "klines";
		ev->next_funding_time_us = PERPS_TS_NONE;
		if (hb_ws_kline(ctx, arr ? json_object_array_get_idx(arr, i) : data, frame_iv, ev))
			return ctx->status;
	}
	out->nevents = (int) n;
	return PERPS_OK;
}

/* A reply without a topic: an error when its status is not 200 or it has an error. */
static PerpsStatus
hb_ws_reply(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev)
{
	struct json_object *status = perps_json_get(root, "status");
	struct json_object *err = perps_json_get(root, "error");
	struct json_object *msg = perps_json_get(root, "message");
	const char *text = NULL;

	ev->kind = PERPS_EV_CONTROL;
	if (err != NULL && !json_object_is_type(err, json_type_null))
		ev->is_error = true;
	else if (status != NULL && !(json_object_is_type(status, json_type_int) && json_object_get_int64(status) == 200))
		ev->is_error = true;
	if (!ev->is_error)
		return PERPS_OK;
	/* the venue's words: error (a text, or an object's message), else message, else the status */
	if (err != NULL && json_object_is_type(err, json_type_string))
		text = json_object_get_string(err);
	else if (json_object_is_type(perps_json_get(err, "message"), json_type_string))
		text = json_object_get_string(perps_json_get(err, "message"));
	else if (msg != NULL && json_object_is_type(msg, json_type_string))
		text = json_object_get_string(msg);
	if (text != NULL)
		ev->message = perps_strndup(ctx, text, strnlen(text, HB_WS_ERR_MAX));
	else
	{
		char		buf[64];

		snprintf(buf, sizeof(buf), "status %.20s", status ? json_object_get_string(status) : "(none)");
		ev->message = perps_strndup(ctx, buf, strlen(buf));
	}
	return ev->message ? PERPS_OK : ctx->status;
}

static PerpsStatus
hb_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *topic_o;
	struct json_object *body;
	PerpsStreamEvent *ev;
	const char *topic;
	const char *sym;

	if (perps_ws_json_begin(ctx, "hibachi", data, len, binary, HB_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	ev = perps_ws_event_new(ctx);
	if (ev == NULL)
		goto done;
	topic_o = perps_json_get(root, "topic");
	if (topic_o == NULL)
	{
		hb_ws_reply(ctx, root, ev);
		return perps_ws_json_end_one(ctx, root, ev, out);
	}
	if (perps_json_string(ctx, topic_o, "topic", &topic) ||
		perps_json_string(ctx, perps_json_get(root, "symbol"), "symbol", &sym))
		goto done;
	if (!hb_symbol_ok(sym))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "hibachi frame has a malformed symbol");
		goto done;
	}
	ev->channel = topic;
	ev->native_symbol = sym;
	body = perps_json_get(root, "data");

	if (strcmp(topic, "orderbook") == 0)
		hb_ws_book(ctx, root, body, ev);
	else if (strcmp(topic, "trades") == 0)
		hb_ws_trades(ctx, body, ev);
	else if (strcmp(topic, "mark_price") == 0 || strcmp(topic, "spot_price") == 0 ||
			 strcmp(topic, "ask_bid_price") == 0 || strcmp(topic, "funding_rate_estimation") == 0)
		hb_ws_ticker(ctx, topic, body, ev);
	else if (strcmp(topic, "klines") == 0)
	{
		hb_ws_klines(ctx, root, body, sym, out);
		goto done;
	}
	else
		ev->kind = PERPS_EV_CONTROL;	/* a topic we did not ask for */
	return perps_ws_json_end_one(ctx, root, ev, out);
done:
	return perps_ws_json_end(ctx, root, out);
}

/*
 * No sequence number (see above): the orderbook message's time in ms is
 * its seq.  A Snapshot no older than the book resets it; an Update needs a
 * book, applies when it is no older than the book, and one older than the
 * book (the deltas came out of order) is a gap.
 */
static PerpsSeqCheck
hb_ws_seq_rule(bool have_book, int64_t last_seq, const PerpsStreamEvent *ev)
{
	if (ev->snapshot)
		return !have_book || ev->seq >= last_seq ? PERPS_SEQ_RESET : PERPS_SEQ_STALE;
	if (!have_book)
		return PERPS_SEQ_STALE;
	return ev->seq >= last_seq ? PERPS_SEQ_APPLY : PERPS_SEQ_GAP;
}

static const PerpsStreamAdapter hb_stream = {
	.quote = "USDT",
	.qty_in_contracts = false,
	.trade_ids_sequential = false,
	.book_depth = HB_WS_BOOK_DEPTH,
	.ping_message = NULL,		/* WebSocket protocol pings (see above) */
	.max_message_bytes = HB_WS_MAX_MESSAGE,
	.rest_snapshot = false,
	.kline_channel = hb_ws_kline_channel,
	.subscribe = hb_ws_subscribe,
	.resync = hb_ws_resync,
	.parse_frame = hb_ws_parse,
	.seq_rule = hb_ws_seq_rule,
};

const PerpsAdapter perps_adapter_hibachi = {
	.name = "hibachi",
	.native_symbol = hb_native_symbol,
	.needs_markets = false,
	.symbol_ok = hb_symbol_ok,
	.symbol_what = "a native symbol like BTC/USDT-P",
	.open_body = hb_open,
	.methods = {
		[PERPS_M_MARKETS] = {.build = hb_build_markets, .parse = hb_parse_markets},
		[PERPS_M_TICKER] = {.build = hb_build_ticker, .parse = hb_parse_ticker},
		[PERPS_M_TICKERS] = {.build = hb_build_tickers, .parse = hb_parse_tickers},
		[PERPS_M_ORDERBOOK] = {.build = hb_build_orderbook, .parse = hb_parse_orderbook},
		[PERPS_M_FUNDING] = {.build = hb_build_prices, .parse = hb_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = hb_build_funding_history, .parse = hb_parse_funding_history},
		[PERPS_M_OPEN_INTEREST] = {.build = hb_build_open_interest, .parse = hb_parse_open_interest},
		[PERPS_M_KLINES] = {.build = hb_build_klines, .parse = hb_parse_klines},
		[PERPS_M_TRADES] = {.build = hb_build_trades, .parse = hb_parse_trades},
	},
	/* none published: CCXT's 100 ms spacing (see the file header) */
	.rate_limit = {.weight = 10, .window_ms = 1000},
	.max_kline_page = HB_KLINE_SPAN,
	.max_funding_page = HB_FUNDING_PAGE,
	.max_trades_page = HB_TRADES_PAGE,
	.no_trades_history = HB_NO_TRADE_HISTORY,
	.stream = &hb_stream,
	/* coarser books: the market's orderbookGranularities (see the file header) */
	.book_step_param = "granularity",
	.max_book_steps = HB_BOOK_STEPS,
};
