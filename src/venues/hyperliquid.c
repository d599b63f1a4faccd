/*-------------------------------------------------------------------------
 *
 * src/venues/hyperliquid.c
 *		Hyperliquid perpetuals: POST /info with a JSON body naming the request
 *		type.  Coins ("BTC", "kPEPE") are the global symbols already.
 *
 *	 markets			{"type":"meta"}
 *	 ticker				{"type":"metaAndAssetCtxs"} + {"type":"l2Book"} (best bid/ask, time)
 *	 all tickers		{"type":"metaAndAssetCtxs"}
 *	 order book			{"type":"l2Book","coin"}				(20 levels a side)
 *						 coarser: {"type":"l2Book","coin","nSigFigs"}	(4, 3, 2)
 *	 funding rate		{"type":"metaAndAssetCtxs"} + {"type":"predictedFundings"}
 *	 funding history	{"type":"fundingHistory","coin","startTime","endTime"}
 *	 open interest		{"type":"metaAndAssetCtxs"} + {"type":"l2Book"} (time)
 *	 klines				{"type":"candleSnapshot","req":{coin,interval,startTime,endTime}}
 *	 recent trades		{"type":"recentTrades","coin"}
 *
 * metaAndAssetCtxs is [meta, ctxs]: ctxs[i] belongs to meta.universe[i].
 * It carries no time and no last trade price: a single ticker and the open
 * interest take the venue's time from the coin's l2Book (a weight-2
 * request), all tickers carry no time (PERPS_TS_NONE: the caller's request
 * time).  last_price and the 24 h change as a fraction are left NULL; the
 * 24 h change is markPx - prevDayPx and the open interest notional
 * openInterest x markPx, both exact.  Funding is hourly; the current rate's funding_time is the start
 * of the hour it accrues over (nextFundingTime - interval).
 *
 * Time ranges: responses hold at most 500 rows, the oldest from startTime.
 * With a `since`, a full page goes on after its last row (next_since_us);
 * without one, the window of page x interval ends at `until` (or now:
 * startTime is mandatory here) and pages go backwards (next_until_us)
 * until the venue has nothing more.
 *
 * An unknown coin gets "null" from l2Book; a malformed request gets HTTP 422
 * with a plain-text reason.
 *
 * Builder-deployed DEXes (HIP-3) are venues of their own served by this
 * adapter, the DEX's name its parameter (PerpsQuery.param, from
 * exchanges.adapter_param).  meta and metaAndAssetCtxs take it as a "dex"
 * field (without one they answer for the main DEX; an unknown DEX answers
 * null); the DEX's coins are named "dex:COIN" (xyz:XYZ100) in every answer
 * and in the coin of l2Book, recentTrades, candleSnapshot and
 * fundingHistory, which need no dex field.  The global symbol is the coin
 * without its "dex:" prefix; a DEX's markets are the names of its meta with
 * that prefix, the main DEX's those without a prefix, so neither lists the
 * other's.  predictedFundings takes no dex and predicts the main DEX's
 * coins: a DEX's funding rate takes its time from the coin's l2Book
 * instead (funding is hourly on every DEX), with no predicted rate.
 *
 * The stream side (wss://api.hyperliquid.xyz/ws: l2Book, trades,
 * activeAssetCtx per coin) is at the end of the file.
 *
 * Plain C: see adapter.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"

/* why trades cannot be backfilled from this venue (PerpsAdapter.no_trades_history) */
#define HL_NO_TRADE_HISTORY \
	"Hyperliquid serves only the most recent trades (info type recentTrades): no trade history over a time range."

#define HL_PAGE 500				/* rows per time-range response */
#define HL_BOOK_LEVELS 20
#define HL_TRADES_PAGE 500
#define HL_QUOTE "USDC"
#define HL_MIN_NOTIONAL "10"	/* minimum order value, USDC */
#define MS_PER_HOUR INT64_C(3600000)

/* ---- symbols ---- */

/* a coin: letters, digits and ':' (a builder-deployed dex's "dex:COIN"), up to 40 */
static bool
hl_coin_ok(const char *s)
{
	return perps_symbol_ok(s, 40, true, ":");
}

/* a HIP-3 DEX's name: small letters and digits, at most 16 (it goes into request bodies as is) */
static bool
hl_dex_ok(const char *s)
{
	size_t		n = strlen(s);

	return n >= 1 && n <= 16 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") == n;
}

/*
 * The "dex" field of a meta or metaAndAssetCtxs body for the query's DEX,
 * ',"dex":"xyz"' (arena), or "" for the main DEX; NULL (ARG) when the
 * parameter is not a DEX name.
 */
static const char *
hl_dex_field(PerpsCtx *ctx, const PerpsQuery *q)
{
	char		buf[40];

	if (q == NULL || q->param == NULL)
		return "";
	if (!hl_dex_ok(q->param))
	{
		perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid dex \"%.16s\" is not a HIP-3 DEX name", q->param);
		return NULL;
	}
	snprintf(buf, sizeof(buf), ",\"dex\":\"%s\"", q->param);
	return perps_strndup(ctx, buf, strlen(buf));
}

/*
 * The global symbol of a universe name on the query's DEX: the name
 * without the "dex:" prefix on a HIP-3 DEX, the name itself on the main
 * DEX; NULL when the name is not one of that DEX's.
 */
static const char *
hl_global_of(const PerpsQuery *q, const char *name)
{
	size_t		n;

	if (q == NULL || q->param == NULL)
		return strchr(name, ':') == NULL ? name : NULL;
	n = strlen(q->param);
	if (strncmp(name, q->param, n) != 0 || name[n] != ':' || name[n + 1] == '\0' ||
		strchr(name + n + 1, ':') != NULL)
		return NULL;
	return name + n + 1;
}

static bool
hl_native_symbol(const char *global, char *buf, size_t buflen)
{
	if (!hl_coin_ok(global) || strlen(global) >= buflen)
		return false;
	strcpy(buf, global);
	return true;
}

/* ---- request building ---- */

static bool
hl_body(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static bool
hl_body(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
{
	va_list		ap;
	char		buf[512];
	int			n;

	memset(r, 0, sizeof(*r));
	r->post = true;
	r->weight = weight;
	strcpy(r->path, "/info");
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(buf))
	{
		perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid request body too long");
		return false;
	}
	r->body = perps_strndup(ctx, buf, (size_t) n);
	return r->body != NULL;
}

/*
 * The [start, end] window (ms) of a history page; *forward says which way
 * the next page lies.  startTime is mandatory on this venue, so without
 * since and until the window ends now.
 */
static bool
hl_window(PerpsCtx *ctx, const PerpsQuery *q, int page, int64_t step_ms,
		  int64_t *start, int64_t *end, bool *forward)
{
	int64_t		span = (int64_t) page * step_ms;

	if ((q->since_us != PERPS_TS_NONE && q->since_us < 0) ||
		(q->until_us != PERPS_TS_NONE && q->until_us < 0))
	{
		perps_fail(ctx, PERPS_ERR_ARG, "time range before 1970");
		return false;
	}
	if (q->since_us != PERPS_TS_NONE)
	{
		/* the venue answers the oldest 500 from startTime: page on from the last */
		*forward = true;
		*start = perps_us_to_ms_ceil(q->since_us);
		*end = q->until_us != PERPS_TS_NONE ? perps_us_to_ms_floor(q->until_us)
			: (int64_t) time(NULL) * 1000;
		if (*end < *start)
		{
			perps_fail(ctx, PERPS_ERR_ARG, "until is before since");
			return false;
		}
	}
	else
	{
		*forward = false;
		*end = q->until_us != PERPS_TS_NONE ? perps_us_to_ms_floor(q->until_us)
			: (int64_t) time(NULL) * 1000;
		*start = *end - span + 1;
		if (*start < 0)
			*start = 0;
	}
	return true;
}

/* ---- build: one function a method ---- */

static int
hl_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *dex = hl_dex_field(ctx, q);

	return dex && hl_body(ctx, &reqs[0], 20, "{\"type\":\"meta\"%s}", dex) ? 1 : ctx->status;
}

static int
hl_build_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *dex = hl_dex_field(ctx, q);

	return dex && hl_body(ctx, &reqs[0], 20, "{\"type\":\"metaAndAssetCtxs\"%s}", dex) ? 1 : ctx->status;
}

/*
 * The asset contexts and the coin's book (its time): a ticker, the open
 * interest, and a HIP-3 DEX's funding rate.
 */
static int
hl_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *coin = q->market->native_symbol;
	const char *dex = hl_dex_field(ctx, q);

	return dex && hl_body(ctx, &reqs[0], 20, "{\"type\":\"metaAndAssetCtxs\"%s}", dex) &&
		hl_body(ctx, &reqs[1], 2, "{\"type\":\"l2Book\",\"coin\":\"%s\"}", coin) ? 2 : ctx->status;
}

/* predictedFundings predicts the main DEX's coins only (see the file header) */
static int
hl_build_funding(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (q->param != NULL)
		return hl_build_ticker(ctx, q, reqs);
	return hl_body(ctx, &reqs[0], 20, "{\"type\":\"metaAndAssetCtxs\"}") &&
		hl_body(ctx, &reqs[1], 20, "{\"type\":\"predictedFundings\"}") ? 2 : ctx->status;
}

/*
 * The book's resolutions: l2Book at full precision (20 levels a side, a few
 * bps of BTC), then aggregated to 4, 3 and 2 significant figures of the
 * price (nSigFigs; each step ten times coarser, so twenty levels reach ten
 * times farther).  Not 5: prices have at most five significant figures
 * (whole prices aside), so nSigFigs 5 is the full book again, a request
 * that would reach no farther.  The mantissa (only with 5) is not used.
 */
static const char *const hl_book_resolutions[] = {
	"full", "nSigFigs=4", "nSigFigs=3", "nSigFigs=2", NULL
};
static const int hl_nsigfigs[] = {0, 4, 3, 2};

static int
hl_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *coin = q->market->native_symbol;

	/* the dispatcher checked the resolution against hl_book_resolutions */
	if (q->resolution > 0)
		return hl_body(ctx, &reqs[0], 2, "{\"type\":\"l2Book\",\"coin\":\"%s\",\"nSigFigs\":%d}",
					   coin, hl_nsigfigs[q->resolution]) ? 1 : ctx->status;
	return hl_body(ctx, &reqs[0], 2, "{\"type\":\"l2Book\",\"coin\":\"%s\"}", coin) ? 1 : ctx->status;
}

static int
hl_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *coin = q->market->native_symbol;

	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_UNSUPPORTED, "%s", HL_NO_TRADE_HISTORY);
	return hl_body(ctx, &reqs[0], 20, "{\"type\":\"recentTrades\",\"coin\":\"%s\"}", coin) ? 1 : ctx->status;
}

static int
hl_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *coin = q->market->native_symbol;
	int			secs = perps_interval_seconds(q->interval);
	int			page = perps_page_size(q, HL_PAGE);
	int64_t		start,
				end;
	bool		fwd;

	if (secs <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid has no kline interval \"%s\"",
						  q->interval ? q->interval : "(null)");
	if (!hl_window(ctx, q, page, (int64_t) secs * 1000, &start, &end, &fwd))
		return ctx->status;
	/* weight: 20, plus 1 per 60 candles returned */
	return hl_body(ctx, &reqs[0], 20 + page / 60,
				   "{\"type\":\"candleSnapshot\",\"req\":{\"coin\":\"%s\",\"interval\":\"%s\","
				   "\"startTime\":%lld,\"endTime\":%lld}}",
				   coin, q->interval, (long long) start, (long long) end) ? 1 : ctx->status;
}

static int
hl_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *coin = q->market->native_symbol;
	int			page = perps_page_size(q, HL_PAGE);
	int64_t		start,
				end;
	bool		fwd;

	if (!hl_window(ctx, q, page, MS_PER_HOUR, &start, &end, &fwd))
		return ctx->status;
	/* weight: 20, plus 1 per 20 rows returned */
	return hl_body(ctx, &reqs[0], 20 + page / 20,
				   "{\"type\":\"fundingHistory\",\"coin\":\"%s\",\"startTime\":%lld,\"endTime\":%lld}",
				   coin, (long long) start, (long long) end) ? 1 : ctx->status;
}

/* ---- parsing ---- */

/*
 * A trade, in recentTrades and on the trades channel: tid (may exceed
 * 2^53), px, sz, time (ms), side the aggressor's: B (bid) bought, A (ask)
 * sold.
 */
static const PerpsTradeKeys hl_trade_keys = {"tid", "px", "sz", "time", "side", "B", "A"};

/* true when the body is the JSON literal null (what l2Book says for an unknown coin) */
static bool
hl_is_null(const PerpsBody *b)
{
	size_t		i = 0,
				j = b->len;

	while (i < j && (b->data[i] == ' ' || b->data[i] == '\n' || b->data[i] == '\r' || b->data[i] == '\t'))
		i++;
	while (j > i && (b->data[j - 1] == ' ' || b->data[j - 1] == '\n' || b->data[j - 1] == '\r' ||
					 b->data[j - 1] == '\t'))
		j--;
	return j - i == 4 && memcmp(b->data + i, "null", 4) == 0;
}

/* Parses one body; HTTP errors become VENUE errors with the venue's text. */
static PerpsStatus
hl_open(PerpsCtx *ctx, const PerpsBody *b, const char *what, struct json_object **root)
{
	*root = NULL;
	if (b->data == NULL)
		return perps_fail(ctx, PERPS_ERR_JSON, "hyperliquid %s: empty response body", what);
	if (b->status >= 400)
	{
		char		msg[161];
		size_t		n = b->len < sizeof(msg) - 1 ? b->len : sizeof(msg) - 1;

		for (size_t i = 0; i < n; i++)
			msg[i] = (b->data[i] >= 0x20 && b->data[i] < 0x7f) ? b->data[i] : ' ';
		msg[n] = '\0';
		return perps_fail(ctx, PERPS_ERR_VENUE, "hyperliquid %s: HTTP %ld: %s", what, b->status, msg);
	}
	/* null: an unknown coin (l2Book), or an unknown dex (meta, metaAndAssetCtxs) */
	if (hl_is_null(b))
		return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "hyperliquid %s: no such coin or dex", what);
	return perps_json_parse(ctx, b->data, b->len, root);
}

static PerpsStatus
hl_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *uni;
	size_t		n;
	int			kept = 0;

	if (perps_json_need(ctx, root, "universe", json_type_array, &uni) ||
		perps_need_array(ctx, uni, "universe", &n))
		return ctx->status;
	out->u.markets = perps_alloc_array(ctx, n, sizeof(PerpsMarket));
	if (out->u.markets == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(uni, i);
		struct json_object *dl;
		PerpsMarket *mk = &out->u.markets[kept];
		const char *name;
		int64_t		szd;

		if (!json_object_is_type(it, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid universe entry %zu is not an object", i);
		if (perps_json_string(ctx, perps_json_get(it, "name"), "name", &name) ||
			perps_json_int64_field(ctx, it, "szDecimals", &szd) ||
			perps_json_decimal_field(ctx, it, "maxLeverage", false, &mk->max_leverage))
			return ctx->status;
		if (szd < 0 || szd > 30)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid szDecimals %lld out of range",
							  (long long) szd);
		/* another DEX's coin is not one of this venue's markets */
		if ((mk->symbol = hl_global_of(q, name)) == NULL)
		{
			mk->max_leverage = NULL;
			continue;
		}
		kept++;
		mk->native_symbol = name;
		mk->base = mk->symbol;
		mk->quote = HL_QUOTE;
		mk->contract_size = "1";
		/* sizes have szDecimals decimals; prices follow a significant-figure rule, no fixed tick */
		mk->lot_size = perps_decimal_shift(ctx, "1", -(int) szd);
		if (mk->lot_size == NULL)
			return ctx->status;
		mk->min_qty = mk->lot_size;
		mk->min_notional = HL_MIN_NOTIONAL;
		mk->funding_interval_hours = "1";
		dl = perps_json_get(it, "isDelisted");
		mk->active = !(dl && json_object_is_type(dl, json_type_boolean) && json_object_get_boolean(dl));
	}
	out->n = kept;
	return PERPS_OK;
}

/*
 * From a metaAndAssetCtxs answer: the universe and ctxs arrays, and the
 * index of `coin` (-1 when coin is NULL).
 */
static PerpsStatus
hl_ctxs(PerpsCtx *ctx, struct json_object *root, const char *coin,
		struct json_object **uni, struct json_object **ctxs, size_t *n, int *idx)
{
	struct json_object *meta;
	size_t		nu,
				nc;

	*idx = -1;
	if (perps_need_array(ctx, root, "metaAndAssetCtxs", &nu))
		return ctx->status;
	if (nu != 2)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid metaAndAssetCtxs is not [meta, ctxs]");
	meta = json_object_array_get_idx(root, 0);
	*ctxs = json_object_array_get_idx(root, 1);
	if (perps_json_need(ctx, meta, "universe", json_type_array, uni) ||
		perps_need_array(ctx, *uni, "universe", &nu) || perps_need_array(ctx, *ctxs, "asset contexts", &nc))
		return ctx->status;
	if (nu != nc)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid sent %zu markets but %zu asset contexts",
						  nu, nc);
	*n = nu;
	if (coin)
	{
		for (size_t i = 0; i < nu; i++)
			if (perps_json_str_eq(perps_json_get(json_object_array_get_idx(*uni, i), "name"), coin))
			{
				*idx = (int) i;
				break;
			}
		if (*idx < 0)
			return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "hyperliquid has no coin %s", coin);
	}
	return PERPS_OK;
}

/*
 * An asset context's ticker fields (REST metaAndAssetCtxs and the stream's
 * activeAssetCtx carry the same ones), *prev its prevDayPx.
 */
static PerpsStatus
hl_ctx_ticker(PerpsCtx *ctx, struct json_object *c, PerpsTicker *t, const char **prev)
{
	if (perps_json_decimal_field(ctx, c, "markPx", false, &t->mark_price) ||
		perps_json_decimal_field(ctx, c, "oraclePx", false, &t->index_price) ||
		perps_json_decimal_field(ctx, c, "dayBaseVlm", false, &t->volume_24h) ||
		perps_json_decimal_field(ctx, c, "dayNtlVlm", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, c, "openInterest", false, &t->open_interest) ||
		perps_json_decimal_field(ctx, c, "prevDayPx", false, prev))
		return ctx->status;
	/* exact: change = markPx - prevDayPx, notional = openInterest x markPx */
	if (t->mark_price && *prev &&
		(t->price_change_24h = perps_decimal_sub(ctx, t->mark_price, *prev)) == NULL)
		return ctx->status;
	if (t->mark_price && t->open_interest &&
		(t->open_interest_notional = perps_decimal_mul(ctx, t->open_interest, t->mark_price)) == NULL)
		return ctx->status;
	return PERPS_OK;
}

static PerpsStatus
hl_ticker_from_ctx(PerpsCtx *ctx, struct json_object *u, struct json_object *c, PerpsTicker *t)
{
	const char *prev;

	if (!json_object_is_type(c, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid asset context is not an object");
	if (perps_json_string(ctx, perps_json_get(u, "name"), "name", &t->native_symbol))
		return ctx->status;
	t->ts_us = PERPS_TS_NONE;
	return hl_ctx_ticker(ctx, c, t, &prev);
}

static PerpsStatus
hl_parse_levels(PerpsCtx *ctx, struct json_object *arr, const char *side, int maxn,
				PerpsLevel **levels, int *nlevels)
{
	char		what[32];

	snprintf(what, sizeof(what), "hyperliquid %s", side);
	return perps_parse_level_objs(ctx, arr, what, maxn, "px", "sz", levels, nlevels);
}

static PerpsStatus
hl_parse_book(PerpsCtx *ctx, struct json_object *root, const char *coin, int depth, PerpsBook **out)
{
	struct json_object *levels;
	PerpsBook  *bk;

	if (!json_object_is_type(root, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid l2Book is not an object");
	if (perps_json_get(root, "coin") != NULL && !perps_json_str_eq(perps_json_get(root, "coin"), coin))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid l2Book is for another coin");
	bk = perps_alloc(ctx, sizeof(PerpsBook));
	if (bk == NULL)
		return ctx->status;
	if (perps_json_ts_field(ctx, root, "time", PERPS_MS, &bk->ts_us) ||
		perps_json_need(ctx, root, "levels", json_type_array, &levels))
		return ctx->status;
	if (json_object_array_length(levels) != 2)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid l2Book levels is not [bids, asks]");
	if (hl_parse_levels(ctx, json_object_array_get_idx(levels, 0), "bid", depth, &bk->bids, &bk->nbids) ||
		hl_parse_levels(ctx, json_object_array_get_idx(levels, 1), "ask", depth, &bk->asks, &bk->nasks))
		return ctx->status;
	*out = bk;
	return PERPS_OK;
}

/*
 * Keeps at most `page` of n rows sorted oldest first (the oldest going
 * forward, the newest going backwards) and sets the paging fields.
 * first_us/last_us: times of the first and last row kept.
 */
static void
hl_paging(const PerpsQuery *q, int page, int64_t step_ms, int *n, size_t elem, void **rows,
		  int64_t (*time_of) (const void *), PerpsResult *out)
{
	int64_t		start,
				end;
	bool		fwd;
	PerpsCtx	dummy = {0};

	out->next_since_us = PERPS_TS_NONE;
	out->next_until_us = PERPS_TS_NONE;
	if (!hl_window(&dummy, q, page, step_ms, &start, &end, &fwd))
		return;
	if (fwd)
	{
		/* a full page: there may be more after its last row */
		if (*n >= page && page > 0)
		{
			*n = page;
			out->has_more = true;
			out->next_since_us = time_of((char *) *rows + (size_t) (page - 1) * elem) + 1000;
		}
	}
	else
	{
		if (*n > page)
		{
			*rows = (char *) *rows + (size_t) (*n - page) * elem;
			*n = page;
			out->has_more = true;
			out->next_until_us = time_of(*rows) - 1000;
			return;
		}
		if (*n > 0 && start > 0)
		{
			out->has_more = true;
			out->next_until_us = (start - 1) * 1000;
		}
	}
}

static int64_t
funding_time_of(const void *p)
{
	return ((const PerpsFunding *) p)->funding_time_us;
}

static int64_t
kline_time_of(const void *p)
{
	return ((const PerpsKline *) p)->open_time_us;
}

static PerpsStatus
hl_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						 PerpsResult *out)
{
	struct json_object *root = docs[0];
	size_t		n;
	PerpsFunding *rows;
	int			kept;
	void	   *p;

	rows = perps_rows(ctx, root, "fundingHistory", sizeof(PerpsFunding), &n);
	if (rows == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(root, i);
		PerpsFunding *f = &rows[i];

		if (!json_object_is_type(it, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid funding row %zu is not an object", i);
		if (perps_json_get(it, "coin") != NULL && !perps_json_str_eq(perps_json_get(it, "coin"), q->market->native_symbol))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid funding row %zu is for another coin", i);
		if (perps_json_decimal_field(ctx, it, "fundingRate", true, &f->rate) ||
			perps_json_ts_field(ctx, it, "time", PERPS_MS, &f->funding_time_us))
			return ctx->status;
		f->next_funding_time_us = PERPS_TS_NONE;
	}
	qsort(rows, n, sizeof(PerpsFunding), perps_cmp_funding);
	kept = (int) n;
	p = rows;
	hl_paging(q, perps_page_size(q, HL_PAGE), MS_PER_HOUR, &kept, sizeof(PerpsFunding), &p,
			  funding_time_of, out);
	out->u.funding = p;
	out->n = kept;
	return PERPS_OK;
}

/* a candle: {t, T, s, i, o, c, h, l, v, n}, REST and stream alike; no turnover */
static const PerpsKlineKeys hl_candle_keys = {
	.open_ms = "t",.close_ms = "T",.open = "o",.high = "h",.low = "l",.close = "c",.volume = "v",
	.count = "n",
};

static PerpsStatus
hl_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *root = docs[0];
	size_t		n;
	PerpsKline *rows;
	int			kept;
	void	   *p;
	int			secs = perps_interval_seconds(q->interval);

	if (secs <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid has no kline interval \"%s\"",
						  q->interval ? q->interval : "(null)");
	rows = perps_rows(ctx, root, "candleSnapshot", sizeof(PerpsKline), &n);
	if (rows == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		char		what[48];

		snprintf(what, sizeof(what), "hyperliquid candle %zu", i);
		if (perps_parse_kline_obj(ctx, json_object_array_get_idx(root, i), what, &hl_candle_keys, secs,
								  &rows[i]) != PERPS_OK)
			return ctx->status;
	}
	qsort(rows, n, sizeof(PerpsKline), perps_cmp_kline);
	kept = (int) n;
	p = rows;
	hl_paging(q, perps_page_size(q, HL_PAGE), (int64_t) secs * 1000, &kept, sizeof(PerpsKline), &p,
			  kline_time_of, out);
	out->u.klines = p;
	out->n = kept;
	return PERPS_OK;
}

static PerpsStatus
hl_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	size_t		n;

	if (perps_need_array(ctx, docs[0], "recentTrades", &n) ||
		perps_parse_trades(ctx, docs[0], n, &hl_trade_keys, out))
		return ctx->status;
	perps_newest_trades(out, q->limit);
	return PERPS_OK;
}

/* predictedFundings: [[coin, [[venue, {fundingRate, nextFundingTime, ...} | null], ...]], ...] */
static PerpsStatus
hl_parse_predicted(PerpsCtx *ctx, struct json_object *root, const char *coin, PerpsFunding *f)
{
	size_t		n;

	if (perps_need_array(ctx, root, "predictedFundings", &n))
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(root, i);
		struct json_object *venues;
		size_t		nv;

		if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 2)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid predictedFundings entry is not [coin, venues]");
		if (!perps_json_str_eq(json_object_array_get_idx(e, 0), coin))
			continue;
		venues = json_object_array_get_idx(e, 1);
		if (perps_need_array(ctx, venues, "predictedFundings venues", &nv))
			return ctx->status;
		for (size_t j = 0; j < nv; j++)
		{
			struct json_object *ve = json_object_array_get_idx(venues, j);
			struct json_object *d;

			if (!json_object_is_type(ve, json_type_array) || json_object_array_length(ve) != 2)
				return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid predictedFundings venue is not [name, data]");
			if (!perps_json_str_eq(json_object_array_get_idx(ve, 0), "HlPerp"))
				continue;
			d = json_object_array_get_idx(ve, 1);
			if (!json_object_is_type(d, json_type_object))
				return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "hyperliquid predicts no funding for %s", coin);
			if (perps_json_decimal_field(ctx, d, "fundingRate", false, &f->predicted_rate) ||
				perps_json_ts_field(ctx, d, "nextFundingTime", PERPS_MS, &f->next_funding_time_us) ||
				perps_json_decimal_field(ctx, d, "fundingIntervalHours", false, &f->interval_hours))
				return ctx->status;
			return PERPS_OK;
		}
		return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "hyperliquid predicts no funding for %s", coin);
	}
	return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "hyperliquid predicts no funding for %s", coin);
}

/* Whole hours in decimal text to ms; false when not a positive integer. */
static bool
hours_ms(const char *h, int64_t *ms)
{
	char	   *end;
	long		v;

	if (h == NULL)
		return false;
	v = strtol(h, &end, 10);
	if (*end != '\0' || v <= 0 || v > 1000)
		return false;
	*ms = (int64_t) v * MS_PER_HOUR;
	return true;
}

/* PerpsAdapter.open_body */
static PerpsStatus
hl_open_body(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
{
	return hl_open(ctx, b, i == 0 ? "info" : "second info request", root);
}

/* ---- parse: one function a method ---- */

static PerpsStatus
hl_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *uni,
			   *ctxs;
	size_t		n;
	int			idx;

	if (hl_ctxs(ctx, docs[0], NULL, &uni, &ctxs, &n, &idx))
		return ctx->status;
	out->u.tickers = perps_alloc_array(ctx, n, sizeof(PerpsTicker));
	if (out->u.tickers == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
		if (hl_ticker_from_ctx(ctx, json_object_array_get_idx(uni, i),
							   json_object_array_get_idx(ctxs, i), &out->u.tickers[i]))
			return ctx->status;
	out->n = (int) n;
	return PERPS_OK;
}

/* The coin's ticker from metaAndAssetCtxs, with the time of its l2Book, and the book. */
static PerpsStatus
hl_ticker_and_book(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsTicker **t, PerpsBook **bk)
{
	const char *coin = q->market->native_symbol;
	struct json_object *uni,
			   *ctxs;
	size_t		n;
	int			idx;

	if (perps_need_docs(ctx, ndocs, 2) ||
		hl_ctxs(ctx, docs[0], coin, &uni, &ctxs, &n, &idx))
		return ctx->status;
	*t = perps_alloc(ctx, sizeof(PerpsTicker));
	if (*t == NULL ||
		hl_ticker_from_ctx(ctx, json_object_array_get_idx(uni, (size_t) idx),
						   json_object_array_get_idx(ctxs, (size_t) idx), *t) ||
		hl_parse_book(ctx, docs[1], coin, 1, bk))
		return ctx->status;
	(*t)->ts_us = (*bk)->ts_us;
	return PERPS_OK;
}

static PerpsStatus
hl_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	PerpsTicker *t;
	PerpsBook  *bk;

	if (hl_ticker_and_book(ctx, q, docs, ndocs, &t, &bk))
		return ctx->status;
	if (bk->nbids > 0)
	{
		t->best_bid_price = bk->bids[0].price;
		t->best_bid_qty = bk->bids[0].qty;
	}
	if (bk->nasks > 0)
	{
		t->best_ask_price = bk->asks[0].price;
		t->best_ask_qty = bk->asks[0].qty;
	}
	out->u.tickers = t;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
hl_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	PerpsTicker *t;
	PerpsBook  *bk;

	/* the ticker has the book's time */
	if (hl_ticker_and_book(ctx, q, docs, ndocs, &t, &bk))
		return ctx->status;
	return perps_open_interest_of(ctx, t, out);
}

/* metaAndAssetCtxs (the current rate) and predictedFundings (the next), or on a HIP-3 DEX the l2Book (the time) */
static PerpsStatus
hl_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	const char *coin = q->market->native_symbol;
	struct json_object *uni,
			   *ctxs;
	size_t		n;
	int			idx;
	int64_t		iv_ms;
	PerpsFunding *f;

	if (perps_need_docs(ctx, ndocs, 2))
		return ctx->status;
	f = perps_alloc(ctx, sizeof(PerpsFunding));
	if (f == NULL || hl_ctxs(ctx, docs[0], coin, &uni, &ctxs, &n, &idx) ||
		perps_json_decimal_field(ctx, json_object_array_get_idx(ctxs, (size_t) idx),
								 "funding", true, &f->rate))
		return ctx->status;
	if (q->param != NULL)
	{
		PerpsBook  *bk;

		/* a HIP-3 DEX: no prediction; hourly, the period of the book's time */
		if (hl_parse_book(ctx, docs[1], coin, 1, &bk))
			return ctx->status;
		f->interval_hours = "1";
		f->next_funding_time_us = (bk->ts_us / (MS_PER_HOUR * 1000) + 1) * (MS_PER_HOUR * 1000);
	}
	else if (hl_parse_predicted(ctx, docs[1], coin, f))
		return ctx->status;
	if (f->interval_hours == NULL)
		f->interval_hours = "1";
	if (!hours_ms(f->interval_hours, &iv_ms))
		iv_ms = MS_PER_HOUR;
	/* the current rate accrues over the interval that ends at the next funding */
	f->funding_time_us = f->next_funding_time_us - iv_ms * 1000;
	out->u.funding = f;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
hl_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	if (hl_parse_book(ctx, docs[0], q->market->native_symbol, q->depth, &out->u.book))
		return ctx->status;
	out->n = 1;
	return PERPS_OK;
}

/* ---- the stream side: wss://api.hyperliquid.xyz/ws ----
 *
 * One subscription per message, {"method":"subscribe","subscription":
 * {"type":T,"coin":C}}, three per coin:
 *
 *	 l2Book			a full snapshot of the book (20 levels a side) on every
 *					push, at most one per block and 0.5 s: each one replaces
 *					the book.  Its seq is the snapshot's time (ms).  There is
 *					no update chain, so nothing can be lost between two
 *					messages: a newer snapshot resets the book, an older or
 *					equal one (a replay, or a reordered push) is stale.  A
 *					resync (crossed book) unsubscribes and subscribes the
 *					book again: the subscription answers with the current
 *					snapshot.
 *	 trades			WsTrade[]: tid (unique across assets, may exceed 2^53),
 *					time (ms), px, sz, side: the aggressor's, B (bid: the
 *					taker bought) or A (ask: the taker sold).
 *	 activeAssetCtx	{coin, ctx}: markPx, oraclePx, funding, openInterest
 *					(base units), dayBaseVlm, dayNtlVlm, prevDayPx, midPx,
 *					premium, impactPxs.
 *
 * Why activeAssetCtx and not allDexsAssetCtxs (or assetCtxs): the latter
 * push every market of every dex in one frame, positionally (ctxs[i] is
 * the i-th market of the dex's meta universe, with no name in the frame),
 * so a frame could only be read with the universe order from the REST
 * meta call, which the stream side does not have, and it costs the whole
 * exchange's contexts on every push.  activeAssetCtx names its coin, is
 * subscribed per market like the book and trades, and carries the same
 * per-asset context fields.
 *
 * The asset context carries no time: the ticker is stamped with the local
 * clock when the frame is parsed.  It has no last trade price and no best
 * bid/ask (impactPxs are the average fill prices of an impact-sized order,
 * not the top of the book; midPx is a mid): those stay NULL, as on the REST
 * side.  The 24 h change is markPx - prevDayPx, exact, as on the REST side
 * (the worker derives a change only from a last price, which this channel
 * does not have); prevDayPx is handed on too.  funding is the current
 * hourly rate: funding is paid every hour on the hour, so the next funding
 * time is the next whole hour after the ticker's time.
 *
 * A HIP-3 DEX (a venue row with adapter_param, tradexyz: dex xyz) streams
 * on the same host and channels: its coins are named "dex:COIN"
 * (xyz:XYZ100) in the subscriptions and in every frame, as in the REST
 * answers and in perps_stats.markets.native_symbol, so a frame's coin is
 * the market's native symbol as it is; hl_ws_subscribe checks that the
 * coins are the DEX's.  Hyperliquid's documentation names builder-deployed
 * perps this way for the info requests and the WebSocket alike and says
 * nothing of a "dex" field in subscriptions: none is sent.
 *
 * Frames are {"channel":..., "data":...}; subscriptionResponse and pong
 * (the answer to {"method":"ping"}) are control events, error (data: the
 * reason as text) an error control event.  The server closes a connection
 * it has sent nothing to for 60 s: the client pings every 20 s, which
 * also keeps a quiet connection inside the worker's stall timeout.
 */

#define HL_WS_BOOK_DEPTH 20
#define HL_WS_MAX_LEVELS 5000
#define HL_WS_MAX_TRADES 20000
#define HL_WS_MAX_MESSAGE (4 * 1024 * 1024)
#define HL_WS_SUBS_PER_COIN 4
#define US_PER_HOUR INT64_C(3600000000)

/*
 * {"method":"<method>","subscription":{"type":"<type>","coin":"<coin>"}},
 * with "interval":"<interval>" for a candle subscription.
 */
static PerpsStatus
hl_ws_sub(PerpsCtx *ctx, const char *method, const char *type, const char *coin, const char *interval,
		  PerpsWsMessage *out)
{
	char		buf[192];
	int			n;

	if (!hl_coin_ok(coin))
		return perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid coin \"%.40s\" is not valid", coin ? coin : "");
	if (interval != NULL && perps_interval_name(interval) == NULL)
		return perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid streams no candle interval \"%.8s\"", interval);
	n = snprintf(buf, sizeof(buf), "{\"method\":\"%s\",\"subscription\":{\"type\":\"%s\",\"coin\":\"%s\"%s%s%s}}",
				 method, type, coin, interval ? ",\"interval\":\"" : "", interval ? interval : "",
				 interval ? "\"" : "");
	if (n < 0 || (size_t) n >= sizeof(buf))
		return perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid subscribe message too long");
	out->data = perps_strndup(ctx, buf, (size_t) n);
	out->len = (size_t) n;
	return out->data ? PERPS_OK : ctx->status;
}

/* candle intervals: perps_stats' names are Hyperliquid's */
static const char *
hl_ws_kline_channel(const char *interval)
{
	return perps_interval_name(interval);
}

/*
 * Per coin: its book, trades, asset context (the ticker), best bid and
 * offer with their sizes (bbo), and a candle subscription per interval.
 * On a HIP-3 DEX (want->param, the venue row's adapter_param) the coins are
 * the DEX's, "dex:COIN" as its markets name them (hl_global_of): a coin
 * of another DEX, or of the main one, is refused rather than streamed
 * under this venue's name.
 */
static int
hl_ws_subscribe(PerpsCtx *ctx, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	static const char *const types[HL_WS_SUBS_PER_COIN] = {"l2Book", "trades", "activeAssetCtx", "bbo"};
	int			per_coin = HL_WS_SUBS_PER_COIN + want->nintervals;
	int			nmsg = 0;
	PerpsQuery	dex;

	memset(&dex, 0, sizeof(dex));
	dex.param = want->param;
	if (want->param != NULL && !hl_dex_ok(want->param))
		return perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid dex \"%.16s\" is not a HIP-3 DEX name", want->param);
	for (int i = 0; i < want->n; i++)
		if (want->natives[i] == NULL || hl_global_of(&dex, want->natives[i]) == NULL)
			return perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid coin \"%.40s\" is not one of %s%s",
							  want->natives[i] ? want->natives[i] : "",
							  want->param ? "dex " : "the main dex", want->param ? want->param : "");

	if (want->nintervals < 0 || want->nintervals > PERPS_KLINE_MAX)
		return perps_fail(ctx, PERPS_ERR_ARG, "hyperliquid: %d candle intervals", want->nintervals);
	if (want->n < 0 || want->n > PERPS_WS_MAX_MESSAGES / per_coin)
		return perps_fail(ctx, PERPS_ERR_ARG,
						  "hyperliquid streams at most %d coins on one connection, not %d",
						  PERPS_WS_MAX_MESSAGES / per_coin, want->n);
	for (int i = 0; i < want->n; i++)
	{
		for (int k = 0; k < HL_WS_SUBS_PER_COIN; k++)
			if (hl_ws_sub(ctx, "subscribe", types[k], want->natives[i], NULL, &out[nmsg++]) != PERPS_OK)
				return ctx->status;
		for (int k = 0; k < want->nintervals; k++)
			if (hl_ws_sub(ctx, "subscribe", "candle", want->natives[i], want->intervals[k], &out[nmsg++]) != PERPS_OK)
				return ctx->status;
	}
	return nmsg;
}

/* A fresh snapshot of one book: the subscription answers with the current one. */
static int
hl_ws_resync(PerpsCtx *ctx, const char *native, PerpsWsMessage *out)
{
	if (hl_ws_sub(ctx, "unsubscribe", "l2Book", native, NULL, &out[0]) != PERPS_OK ||
		hl_ws_sub(ctx, "subscribe", "l2Book", native, NULL, &out[1]) != PERPS_OK)
		return ctx->status;
	return 2;
}

static PerpsStatus
hl_ws_levels(PerpsCtx *ctx, struct json_object *arr, const char *side, PerpsLevel **levels, int *n)
{
	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid l2Book %s side is not an array", side);
	if (json_object_array_length(arr) > HL_WS_MAX_LEVELS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid l2Book frame has %zu %s levels",
						  json_object_array_length(arr), side);
	return hl_parse_levels(ctx, arr, side, 0, levels, n);
}

static PerpsStatus
hl_ws_book(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	struct json_object *levels;
	int64_t		ms;

	ev->kind = PERPS_EV_BOOK;
	ev->snapshot = true;
	if (data == NULL || !json_object_is_type(data, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid l2Book data is not an object");
	if (perps_json_string(ctx, perps_json_get(data, "coin"), "coin", &ev->native_symbol) ||
		perps_json_int64_field(ctx, data, "time", &ms) ||
		perps_json_ts_field(ctx, data, "time", PERPS_MS, &ev->ts_us) ||
		perps_json_need(ctx, data, "levels", json_type_array, &levels))
		return ctx->status;
	if (json_object_array_length(levels) != 2)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid l2Book levels is not [bids, asks]");
	if (hl_ws_levels(ctx, json_object_array_get_idx(levels, 0), "bid", &ev->bids, &ev->nbids) ||
		hl_ws_levels(ctx, json_object_array_get_idx(levels, 1), "ask", &ev->asks, &ev->nasks))
		return ctx->status;
	ev->seq = ms;				/* the snapshot's time orders the snapshots */
	return PERPS_OK;
}

/*
 * One WsTrade of a trades frame, its coin the market; the frame's array
 * becomes one event per run of one coin's trades (a subscription is per
 * coin, so a frame normally holds one run).
 */
static PerpsStatus
hl_ws_trade(PerpsCtx *ctx, struct json_object *it, size_t i, PerpsTrade *t, const char **coin, void *arg)
{
	if (perps_parse_trade(ctx, it, i, &hl_trade_keys, t) ||
		perps_json_string(ctx, perps_json_get(it, "coin"), "coin", coin))
		return ctx->status;
	if (t->trade_id[0] == '\0' || strlen(t->trade_id) > 128)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid trade id is empty or too long");
	return PERPS_OK;
}

static PerpsStatus
hl_ws_trades(PerpsCtx *ctx, struct json_object *data, const char *channel, PerpsStreamFrame *out)
{
	return perps_ws_trade_runs(ctx, data, "hyperliquid trades", HL_WS_MAX_TRADES, hl_ws_trade, NULL, channel, out);
}

/* The local clock in µs (the asset context frames carry no time). */
static int64_t
hl_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (int64_t) time(NULL) * 1000000;
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static PerpsStatus
hl_ws_ticker(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	struct json_object *c;
	PerpsTicker *t = &ev->ticker;

	/*
	 * Every push carries the whole context, but not the best bid and offer
	 * (bbo's): a delta, so that those stay.
	 */
	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	if (data == NULL || !json_object_is_type(data, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid activeAssetCtx data is not an object");
	if (perps_json_string(ctx, perps_json_get(data, "coin"), "coin", &ev->native_symbol) ||
		perps_json_need(ctx, data, "ctx", json_type_object, &c))
		return ctx->status;
	t->native_symbol = ev->native_symbol;
	ev->ts_us = hl_now_us();
	t->ts_us = ev->ts_us;
	if (hl_ctx_ticker(ctx, c, t, &ev->prev_price_24h) ||
		perps_json_decimal_field(ctx, c, "funding", false, &ev->funding_rate))
		return ctx->status;
	if (ev->funding_rate != NULL)
	{
		/* paid every hour on the hour: the next payment is the next whole hour */
		ev->funding_interval_hours = "1";
		ev->next_funding_time_us = (ev->ts_us / US_PER_HOUR + 1) * US_PER_HOUR;
	}
	return PERPS_OK;
}

/* candle: one candle {t, T, s, i, o, c, h, l, v, n} of the coin s, so far */
static PerpsStatus
hl_ws_candle(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	const char *iv;

	ev->kind = PERPS_EV_KLINE;
	if (perps_parse_kline_obj(ctx, data, "hyperliquid candle", &hl_candle_keys, 0, &ev->kline) != PERPS_OK ||
		perps_json_string(ctx, perps_json_get(data, "s"), "s", &ev->native_symbol) != PERPS_OK ||
		perps_json_string(ctx, perps_json_get(data, "i"), "i", &iv) != PERPS_OK)
		return ctx->status;
	if ((ev->kline_interval = perps_interval_name(iv)) == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid candle interval \"%.8s\" is not one perps_stats streams", iv);
	/* no closed flag (a candle is final when the next one opens), no time of the push */
	ev->ts_us = PERPS_TS_NONE;
	return PERPS_OK;
}

/* one side of bbo: {px, sz, n}, or null when the side is empty */
static PerpsStatus
hl_ws_bbo_side(PerpsCtx *ctx, struct json_object *lvl, const char *side, const char **px, const char **sz)
{
	if (lvl == NULL || json_object_is_type(lvl, json_type_null))
		return PERPS_OK;
	if (!json_object_is_type(lvl, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid bbo %s is not an object", side);
	if (perps_json_decimal_field(ctx, lvl, "px", true, px) ||
		perps_json_decimal_field(ctx, lvl, "sz", true, sz))
		return ctx->status;
	return PERPS_OK;
}

/*
 * bbo: {coin, time, bbo: [bid, ask]}, the best bid and offer with their
 * sizes: a ticker delta (the asset context has neither).
 */
static PerpsStatus
hl_ws_bbo(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	struct json_object *bbo;
	PerpsTicker *t = &ev->ticker;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	if (data == NULL || !json_object_is_type(data, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid bbo data is not an object");
	if (perps_json_string(ctx, perps_json_get(data, "coin"), "coin", &ev->native_symbol) ||
		perps_json_ts_field(ctx, data, "time", PERPS_MS, &ev->ts_us) ||
		perps_json_need(ctx, data, "bbo", json_type_array, &bbo))
		return ctx->status;
	if (json_object_array_length(bbo) != 2)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "hyperliquid bbo has %zu sides, not 2", json_object_array_length(bbo));
	if (hl_ws_bbo_side(ctx, json_object_array_get_idx(bbo, 0), "bid", &t->best_bid_price, &t->best_bid_qty) ||
		hl_ws_bbo_side(ctx, json_object_array_get_idx(bbo, 1), "ask", &t->best_ask_price, &t->best_ask_qty))
		return ctx->status;
	t->native_symbol = ev->native_symbol;
	t->ts_us = ev->ts_us;
	return PERPS_OK;
}

static PerpsStatus
hl_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *body;
	PerpsStreamEvent *ev;
	const char *channel;

	if (perps_ws_json_begin(ctx, "hyperliquid", data, len, binary, HL_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	ev = perps_ws_event_new(ctx);
	if (ev == NULL)
		goto done;
	if (perps_json_string(ctx, perps_json_get(root, "channel"), "channel", &channel) != PERPS_OK)
		goto done;
	ev->channel = channel;
	body = perps_json_get(root, "data");

	if (strcmp(channel, "l2Book") == 0)
		hl_ws_book(ctx, body, ev);
	else if (strcmp(channel, "trades") == 0)
	{
		hl_ws_trades(ctx, body, channel, out);
		goto done;
	}
	else if (strcmp(channel, "activeAssetCtx") == 0)
		hl_ws_ticker(ctx, body, ev);
	else if (strcmp(channel, "bbo") == 0)
		hl_ws_bbo(ctx, body, ev);
	else if (strcmp(channel, "candle") == 0)
		hl_ws_candle(ctx, body, ev);
	else if (strcmp(channel, "error") == 0)
	{
		/* {"channel":"error","data":"Invalid subscription ..."} */
		ev->kind = PERPS_EV_CONTROL;
		ev->is_error = true;
		if (body != NULL && json_object_is_type(body, json_type_string))
		{
			const char *msg = json_object_get_string(body);

			ev->message = perps_strndup(ctx, msg, strnlen(msg, 200));
			if (ev->message == NULL)
				goto done;
		}
		else
			ev->message = "error";
	}
	else
		ev->kind = PERPS_EV_CONTROL;	/* subscriptionResponse, pong, a channel we did not ask for */
	return perps_ws_json_end_one(ctx, root, ev, out);
done:
	return perps_ws_json_end(ctx, root, out);
}

static const PerpsStreamAdapter hl_stream = {
	.quote = HL_QUOTE,
	.book_depth = HL_WS_BOOK_DEPTH,
	.ping_message = "{\"method\":\"ping\"}",
	.ping_interval_s = 20,
	.max_message_bytes = HL_WS_MAX_MESSAGE,
	.subscribe = hl_ws_subscribe,
	.kline_channel = hl_ws_kline_channel,
	.resync = hl_ws_resync,
	.parse_frame = hl_ws_parse,
	.seq_rule = perps_seq_newer_whole_book,	/* every book message is a whole book */
};

const PerpsAdapter perps_adapter_hyperliquid = {
	.name = "hyperliquid",
	.native_symbol = hl_native_symbol,
	.needs_markets = false,
	.symbol_ok = hl_coin_ok,
	.symbol_what = "a coin name like BTC",
	.open_body = hl_open_body,
	.methods = {
		[PERPS_M_MARKETS] = {.build = hl_build_markets, .parse = hl_parse_markets},
		[PERPS_M_TICKER] = {.build = hl_build_ticker, .parse = hl_parse_ticker},
		[PERPS_M_TICKERS] = {.build = hl_build_tickers, .parse = hl_parse_tickers},
		[PERPS_M_ORDERBOOK] = {.build = hl_build_orderbook, .parse = hl_parse_orderbook},
		[PERPS_M_FUNDING] = {.build = hl_build_funding, .parse = hl_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = hl_build_funding_history, .parse = hl_parse_funding_history},
		/* the same requests as the ticker */
		[PERPS_M_OPEN_INTEREST] = {.build = hl_build_ticker, .parse = hl_parse_open_interest},
		[PERPS_M_KLINES] = {.build = hl_build_klines, .parse = hl_parse_klines},
		[PERPS_M_TRADES] = {.build = hl_build_trades, .parse = hl_parse_trades},
	},
	/* 1200 weight per minute per IP; l2Book weighs 2, most info requests 20 */
	.rate_limit = {.weight = 1200,.window_ms = 60000},
	.max_kline_page = HL_PAGE,
	.max_funding_page = HL_PAGE,
	.max_trades_page = HL_TRADES_PAGE,
	.no_trades_history = HL_NO_TRADE_HISTORY,
	.stream = &hl_stream,
	.book_resolutions = hl_book_resolutions,
};
