/*-------------------------------------------------------------------------
 *
 * src/venues/binance.c
 *		Binance USD-M futures (fapi) REST adapter.  Plain C (see adapter.h).
 *		Its REST side is also that of the venues serving the same API
 *		(binance_compat.h: Aster), which supply their own weights.
 *
 * Documented public endpoints used (weights per Binance's USD-M docs):
 *	 markets		GET /fapi/v1/exchangeInfo (1) + GET /fapi/v1/fundingInfo
 *					(symbols whose funding interval was adjusted; others: 8 h)
 *	 ticker			GET /fapi/v1/ticker/24hr (1), /fapi/v1/premiumIndex (1),
 *					/fapi/v1/ticker/bookTicker (2), /fapi/v1/openInterest (1),
 *					concurrently
 *	 all tickers	the first three without symbol (40, 10, 5)
 *	 order book		GET /fapi/v1/depth, limit 5..1000 (2..20)
 *	 funding rate	GET /fapi/v1/premiumIndex + /fapi/v1/fundingInfo
 *	 funding hist.	GET /fapi/v1/fundingRate, startTime/endTime, limit <= 1000
 *	 open interest	GET /fapi/v1/openInterest (1)
 *	 klines			GET /fapi/v1/klines, startTime/endTime, limit <= 1500 (1..10)
 *	 trades			GET /fapi/v1/trades, limit <= 1000 (5): the most recent
 *	 trade history	GET /fapi/v1/aggTrades (20), limit <= 1000: startTime and
 *					endTime (inclusive, less than an hour apart) for the first
 *					page of a window, then fromId (the next aggregate trade id)
 *					while pages come back full; aggregate trade ids, as the
 *					aggTrade stream has them
 * Request weight limit: 2400 per minute per IP.
 *
 * Stream side (combined streams, the book synced from REST): see "the
 * stream side" below.
 *
 * Global symbol BTC <-> BTCUSDT (USDT-margined perpetuals only).  Sizes
 * are in base units already.  Times are milliseconds.  Errors are
 * {"code": -1121, "msg": "Invalid symbol."} with a 4xx status.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"
#include "binance_compat.h"

/* A native symbol for requests: letters, digits and '_', up to 40. */
bool
perps_bnc_symbol_ok(const char *s)
{
	return perps_symbol_ok(s, 40, true, "_");
}

bool
perps_bnc_native_symbol(const char *global, char *buf, size_t buflen)
{
	if (!perps_symbol_ok(global, 20, false, ""))
		return false;
	return (size_t) snprintf(buf, buflen, "%sUSDT", global) < buflen;
}

/* ---- build ---- */

/* Appends &startTime=..&endTime=.. (ms) to a path. */
static int
bn_range(PerpsCtx *ctx, PerpsRequest *r, const PerpsQuery *q)
{
	size_t		len = strlen(r->path);
	int			n = 0;

	if (q->since_us != PERPS_TS_NONE)
	{
		/* inclusive: the first whole millisecond at or after since */
		long long	ms = (long long) ((q->since_us + 999) / 1000);

		n = snprintf(r->path + len, sizeof(r->path) - len, "&startTime=%lld", ms);
		if (n < 0 || (size_t) n >= sizeof(r->path) - len)
			return perps_fail(ctx, PERPS_ERR_ARG, "request path too long");
		len += (size_t) n;
	}
	if (q->until_us != PERPS_TS_NONE)
	{
		n = snprintf(r->path + len, sizeof(r->path) - len, "&endTime=%lld",
					 (long long) (q->until_us / 1000));
		if (n < 0 || (size_t) n >= sizeof(r->path) - len)
			return perps_fail(ctx, PERPS_ERR_ARG, "request path too long");
	}
	return PERPS_OK;
}

static int
bn_kline_weight(int limit)
{
	if (limit < 100)
		return 1;
	if (limit < 500)
		return 2;
	if (limit <= 1000)
		return 5;
	return 10;
}

/*
 * The time window of an aggTrades request (ms, both inclusive): from since
 * (or an hour before until), less than an hour long, not past until.
 * false when the range is empty.
 */
#define BN_AGG_WINDOW_MS 3600000

static bool
bn_agg_window(const PerpsQuery *q, int64_t *start_ms, int64_t *end_ms)
{
	int64_t		until_ms = q->until_us != PERPS_TS_NONE ? perps_us_to_ms_floor(q->until_us) : INT64_MAX;

	if (q->since_us != PERPS_TS_NONE)
	{
		*start_ms = perps_us_to_ms_ceil(q->since_us);
		*end_ms = *start_ms + BN_AGG_WINDOW_MS - 1;
		if (until_ms < *end_ms)
			*end_ms = until_ms;
	}
	else
	{
		*end_ms = until_ms;
		*start_ms = until_ms - BN_AGG_WINDOW_MS + 1;
	}
	return *end_ms >= *start_ms;
}

/* A fromId cursor: the decimal aggregate trade id to go on from. */
static bool
bn_safe_cursor(const char *c)
{
	size_t		n = strlen(c);

	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char) c[i]))
			return false;
	return true;
}

static int
bn_build_agg_trades(PerpsCtx *ctx, PerpsRequest *r, const PerpsQuery *q, const char *s, int limit,
					const PerpsBncWeights *w)
{
	int64_t		start_ms,
				end_ms;

	if (q->cursor != NULL && q->cursor[0] != '\0')
	{
		/* Binance: send fromId or the times, not both */
		if (!bn_safe_cursor(q->cursor))
			return perps_fail(ctx, PERPS_ERR_ARG, "invalid Binance aggregate trade cursor \"%.40s\"", q->cursor);
		if (perps_request_path(ctx, r, w->agg_trades, "/fapi/v1/aggTrades?symbol=%s&fromId=%s&limit=%d", s, q->cursor,
							   limit))
			return ctx->status;
		return 1;
	}
	if (!bn_agg_window(q, &start_ms, &end_ms))
		return perps_fail(ctx, PERPS_ERR_ARG, "since is after until");
	if (perps_request_path(ctx, r, w->agg_trades, "/fapi/v1/aggTrades?symbol=%s&startTime=%lld&endTime=%lld&limit=%d", s,
						   (long long) start_ms, (long long) end_ms, limit))
		return ctx->status;
	return 1;
}

/* ---- build: one function a method ---- */

int
perps_bnc_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (perps_request_path(ctx, &reqs[0], 1, "/fapi/v1/exchangeInfo") ||
		perps_request_path(ctx, &reqs[1], 1, "/fapi/v1/fundingInfo"))
		return ctx->status;
	return 2;
}

int
perps_bnc_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs, const PerpsBncWeights *w)
{
	const char *s = q->market->native_symbol;

	if (perps_request_path(ctx, &reqs[0], w->day, "/fapi/v1/ticker/24hr?symbol=%s", s) ||
		perps_request_path(ctx, &reqs[1], w->premium, "/fapi/v1/premiumIndex?symbol=%s", s) ||
		perps_request_path(ctx, &reqs[2], w->book, "/fapi/v1/ticker/bookTicker?symbol=%s", s))
		return ctx->status;
	if (w->open_interest == 0)
		return 3;
	if (perps_request_path(ctx, &reqs[3], w->open_interest, "/fapi/v1/openInterest?symbol=%s", s))
		return ctx->status;
	return 4;
}

int
perps_bnc_build_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs, const PerpsBncWeights *w)
{
	if (perps_request_path(ctx, &reqs[0], w->day_all, "/fapi/v1/ticker/24hr") ||
		perps_request_path(ctx, &reqs[1], w->premium_all, "/fapi/v1/premiumIndex") ||
		perps_request_path(ctx, &reqs[2], w->book_all, "/fapi/v1/ticker/bookTicker"))
		return ctx->status;
	return 3;
}

int
perps_bnc_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	static const int limits[] = {5, 10, 20, 50, 100, 500, 1000};
	static const int weights[] = {2, 2, 2, 2, 5, 10, 20};
	const char *s = q->market->native_symbol;
	int			k = 0;

	while (k < 6 && limits[k] < q->depth)
		k++;
	if (perps_request_path(ctx, &reqs[0], weights[k], "/fapi/v1/depth?symbol=%s&limit=%d", s, limits[k]))
		return ctx->status;
	return 1;
}

int
perps_bnc_build_funding(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *s = q->market->native_symbol;

	if (perps_request_path(ctx, &reqs[0], 1, "/fapi/v1/premiumIndex?symbol=%s", s) ||
		perps_request_path(ctx, &reqs[1], 1, "/fapi/v1/fundingInfo"))
		return ctx->status;
	return 2;
}

int
perps_bnc_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *s = q->market->native_symbol;
	int			limit = q->limit > 0 ? (q->limit > 1000 ? 1000 : q->limit) : 100;

	if (perps_request_path(ctx, &reqs[0], 1, "/fapi/v1/fundingRate?symbol=%s&limit=%d", s, limit) ||
		bn_range(ctx, &reqs[0], q))
		return ctx->status;
	return 1;
}

static int
bn_build_open_interest(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *s = q->market->native_symbol;

	if (perps_request_path(ctx, &reqs[0], 1, "/fapi/v1/openInterest?symbol=%s", s))
		return ctx->status;
	return 1;
}

int
perps_bnc_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *s = q->market->native_symbol;
	int			limit = q->limit > 0 ? (q->limit > 1500 ? 1500 : q->limit) : 500;

	if (perps_interval_seconds(q->interval) == 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "unsupported interval");
	if (perps_request_path(ctx, &reqs[0], bn_kline_weight(limit),
						   "/fapi/v1/klines?symbol=%s&interval=%s&limit=%d", s, q->interval, limit) ||
		bn_range(ctx, &reqs[0], q))
		return ctx->status;
	return 1;
}

/* the most recent trades, or with a time range (or a fromId cursor) aggregate trades */
int
perps_bnc_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs, const PerpsBncWeights *w)
{
	const char *s = q->market->native_symbol;
	int			limit = q->limit > 0 ? (q->limit > 1000 ? 1000 : q->limit) : 500;

	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return bn_build_agg_trades(ctx, &reqs[0], q, s, limit, w);
	if (perps_request_path(ctx, &reqs[0], w->recent_trades, "/fapi/v1/trades?symbol=%s&limit=%d", s, limit))
		return ctx->status;
	return 1;
}

/* ---- parse ---- */

/*
 * Parses a body; an error payload ({"code":..,"msg":..}) or an error status
 * becomes PERPS_ERR_VENUE with Binance's message.
 */
PerpsStatus
perps_bnc_open_body(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **out)
{
	struct json_object *root;
	struct json_object *code;
	struct json_object *msg;

	*out = NULL;
	if (perps_json_parse(ctx, b->data, b->len, &root) != PERPS_OK)
		return ctx->status;
	code = perps_json_get(root, "code");
	msg = perps_json_get(root, "msg");
	if (code && msg && json_object_is_type(msg, json_type_string) &&
		!(json_object_is_type(code, json_type_int) && json_object_get_int64(code) == 200))
	{
		perps_fail(ctx, PERPS_ERR_VENUE, "%.*s (code %.20s)",
				   perps_utf8_cut(json_object_get_string(msg), 200), json_object_get_string(msg),
				   json_object_to_json_string_ext(code, JSON_C_TO_STRING_PLAIN));
		json_object_put(root);
		return ctx->status;
	}
	if (b->status >= 400)
	{
		json_object_put(root);
		return perps_fail(ctx, PERPS_ERR_SHAPE, "HTTP status %ld without an error payload", b->status);
	}
	*out = root;
	return PERPS_OK;
}

static const char *
bn_filter_field(PerpsCtx *ctx, struct json_object *filters, const char *type, const char *key)
{
	size_t		n = json_object_array_length(filters);

	for (size_t i = 0; i < n; i++)
	{
		struct json_object *f = json_object_array_get_idx(filters, i);
		struct json_object *t = perps_json_get(f, "filterType");
		const char *out = NULL;

		if (t && json_object_is_type(t, json_type_string) && strcmp(json_object_get_string(t), type) == 0)
		{
			if (perps_json_decimal_field(ctx, f, key, false, &out) != PERPS_OK)
				return NULL;
			return out;
		}
	}
	return NULL;
}

/* fundingIntervalHours of a symbol in a fundingInfo array, or "8" */
static const char *
bn_interval_hours(PerpsCtx *ctx, struct json_object *info, const char *symbol)
{
	size_t		n = info ? json_object_array_length(info) : 0;

	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(info, i);
		struct json_object *s = perps_json_get(e, "symbol");
		const char *out = NULL;

		if (s && json_object_is_type(s, json_type_string) && strcmp(json_object_get_string(s), symbol) == 0)
		{
			if (perps_json_decimal_field(ctx, e, "fundingIntervalHours", false, &out) != PERPS_OK)
				return NULL;
			if (out)
				return out;
		}
	}
	return "8";
}

/* exchangeInfo and fundingInfo */
PerpsStatus
perps_bnc_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						PerpsResult *out)
{
	struct json_object *info = docs[0];
	struct json_object *finfo = docs[1];
	struct json_object *symbols;
	size_t		n;
	size_t		fn;

	if (perps_need_docs(ctx, ndocs, 2) ||
		perps_json_need(ctx, info, "symbols", json_type_array, &symbols) ||
		perps_need_array(ctx, symbols, "symbols", &n) ||
		perps_need_array(ctx, finfo, "fundingInfo", &fn))
		return ctx->status;
	out->u.markets = perps_alloc_array(ctx, n, sizeof(PerpsMarket));
	if (out->u.markets == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *s = json_object_array_get_idx(symbols, i);
		struct json_object *filters;
		PerpsMarket *mk = &out->u.markets[out->n];
		const char *ctype;
		const char *quote;
		const char *status;

		if (perps_need_object(ctx, s, "symbol entry") ||
			perps_json_string(ctx, perps_json_get(s, "contractType"), "contractType", &ctype) ||
			perps_json_string(ctx, perps_json_get(s, "quoteAsset"), "quoteAsset", &quote))
			return ctx->status;
		if (strcmp(ctype, "PERPETUAL") != 0 || strcmp(quote, "USDT") != 0)
			continue;
		if (perps_json_string(ctx, perps_json_get(s, "symbol"), "symbol", &mk->native_symbol) ||
			perps_json_string(ctx, perps_json_get(s, "baseAsset"), "baseAsset", &mk->base) ||
			perps_json_string(ctx, perps_json_get(s, "status"), "status", &status) ||
			perps_json_need(ctx, s, "filters", json_type_array, &filters))
			return ctx->status;
		if (mk->base[0] == '\0')
			return perps_fail(ctx, PERPS_ERR_SHAPE, "empty baseAsset");
		mk->symbol = mk->base;
		mk->quote = quote;
		mk->contract_size = "1";
		mk->tick_size = bn_filter_field(ctx, filters, "PRICE_FILTER", "tickSize");
		mk->lot_size = bn_filter_field(ctx, filters, "LOT_SIZE", "stepSize");
		mk->min_qty = bn_filter_field(ctx, filters, "LOT_SIZE", "minQty");
		mk->max_qty = bn_filter_field(ctx, filters, "LOT_SIZE", "maxQty");
		mk->min_notional = bn_filter_field(ctx, filters, "MIN_NOTIONAL", "notional");
		mk->max_leverage = NULL;	/* only in the signed leverageBracket endpoint */
		mk->funding_interval_hours = bn_interval_hours(ctx, finfo, mk->native_symbol);
		mk->active = strcmp(status, "TRADING") == 0;
		if (ctx->status != PERPS_OK)
			return ctx->status;
		out->n++;
	}
	return PERPS_OK;
}

/* Later of *ts and obj[key] (ms); the key is optional. */
static PerpsStatus
bn_latest(PerpsCtx *ctx, struct json_object *obj, const char *key, int64_t *ts)
{
	struct json_object *v = perps_json_get(obj, key);
	int64_t		t;

	if (v == NULL || json_object_is_type(v, json_type_null))
		return PERPS_OK;
	if (perps_json_ts(ctx, v, PERPS_MS, key, &t) != PERPS_OK)
		return ctx->status;
	if (*ts == PERPS_TS_NONE || t > *ts)
		*ts = t;
	return PERPS_OK;
}

/* Fills a ticker from the 24hr, premiumIndex, bookTicker and openInterest objects (each may be NULL). */
static PerpsStatus
bn_fill_ticker(PerpsCtx *ctx, PerpsTicker *t, struct json_object *day, struct json_object *prem,
			   struct json_object *book, struct json_object *oi)
{
	const char *pct = NULL;

	t->ts_us = PERPS_TS_NONE;
	if (day)
	{
		if (perps_need_object(ctx, day, "24hr ticker") ||
			perps_json_string(ctx, perps_json_get(day, "symbol"), "symbol", &t->native_symbol) ||
			perps_json_decimal_field(ctx, day, "lastPrice", true, &t->last_price) ||
			perps_json_decimal_field(ctx, day, "priceChange", false, &t->price_change_24h) ||
			perps_json_decimal_field(ctx, day, "priceChangePercent", false, &pct) ||
			perps_json_decimal_field(ctx, day, "highPrice", false, &t->high_24h) ||
			perps_json_decimal_field(ctx, day, "lowPrice", false, &t->low_24h) ||
			perps_json_decimal_field(ctx, day, "volume", false, &t->volume_24h) ||
			perps_json_decimal_field(ctx, day, "quoteVolume", false, &t->turnover_24h) ||
			bn_latest(ctx, day, "closeTime", &t->ts_us))
			return ctx->status;
		if (pct)
		{
			t->price_change_pct = perps_decimal_shift(ctx, pct, -2);
			if (t->price_change_pct == NULL)
				return ctx->status;
		}
	}
	if (prem)
	{
		if (perps_need_object(ctx, prem, "premium index") ||
			perps_json_decimal_field(ctx, prem, "markPrice", false, &t->mark_price) ||
			perps_json_decimal_field(ctx, prem, "indexPrice", false, &t->index_price) ||
			bn_latest(ctx, prem, "time", &t->ts_us))
			return ctx->status;
	}
	if (book)
	{
		if (perps_need_object(ctx, book, "book ticker") ||
			perps_json_decimal_field(ctx, book, "bidPrice", false, &t->best_bid_price) ||
			perps_json_decimal_field(ctx, book, "bidQty", false, &t->best_bid_qty) ||
			perps_json_decimal_field(ctx, book, "askPrice", false, &t->best_ask_price) ||
			perps_json_decimal_field(ctx, book, "askQty", false, &t->best_ask_qty) ||
			bn_latest(ctx, book, "time", &t->ts_us))
			return ctx->status;
	}
	if (oi)
	{
		if (perps_need_object(ctx, oi, "open interest") ||
			perps_json_decimal_field(ctx, oi, "openInterest", false, &t->open_interest) ||
			bn_latest(ctx, oi, "time", &t->ts_us))
			return ctx->status;
	}
	if (t->ts_us == PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "ticker without a time");
	return PERPS_OK;
}

static struct json_object *
bn_find_symbol(struct json_object *arr, const char *symbol)
{
	size_t		n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct json_object *s = perps_json_get(e, "symbol");

		if (s && json_object_is_type(s, json_type_string) && strcmp(json_object_get_string(s), symbol) == 0)
			return e;
	}
	return NULL;
}

/*
 * 24hr, premiumIndex and bookTicker of one symbol, and its openInterest
 * where the venue has it (4 documents; 3 without)
 */
PerpsStatus
perps_bnc_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	if (ndocs != 3 && perps_need_docs(ctx, ndocs, 4))
		return ctx->status;
	out->u.tickers = perps_alloc(ctx, sizeof(PerpsTicker));
	if (out->u.tickers == NULL ||
		bn_fill_ticker(ctx, out->u.tickers, docs[0], docs[1], docs[2], ndocs == 4 ? docs[3] : NULL))
		return ctx->status;
	out->n = 1;
	return PERPS_OK;
}

/* 24hr, premiumIndex and bookTicker of all symbols */
PerpsStatus
perps_bnc_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						PerpsResult *out)
{
	struct json_object *day = docs[0];
	struct json_object *prem = docs[1];
	struct json_object *book = docs[2];
	size_t		n;
	size_t		np;
	size_t		nb;

	if (perps_need_docs(ctx, ndocs, 3) ||
		perps_need_array(ctx, day, "24hr tickers", &n) ||
		perps_need_array(ctx, prem, "premium indexes", &np) ||
		perps_need_array(ctx, book, "book tickers", &nb))
		return ctx->status;
	out->u.tickers = perps_alloc_array(ctx, n, sizeof(PerpsTicker));
	if (out->u.tickers == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *d = json_object_array_get_idx(day, i);
		struct json_object *s = perps_json_get(d, "symbol");
		const char *sym;

		if (s == NULL || !json_object_is_type(s, json_type_string))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "a 24hr ticker has no symbol");
		sym = json_object_get_string(s);
		if (bn_fill_ticker(ctx, &out->u.tickers[out->n], d, bn_find_symbol(prem, sym),
						   bn_find_symbol(book, sym), NULL))
			return ctx->status;
		out->n++;
	}
	return PERPS_OK;
}

PerpsStatus
perps_bnc_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						  PerpsResult *out)
{
	struct json_object *root = docs[0];
	PerpsBook  *b = perps_alloc(ctx, sizeof(PerpsBook));

	if (b == NULL || perps_need_object(ctx, root, "order book"))
		return ctx->status;
	b->ts_us = PERPS_TS_NONE;
	if (perps_json_int64_field(ctx, root, "lastUpdateId", &b->seq) ||
		bn_latest(ctx, root, "T", &b->ts_us))
		return ctx->status;
	if (b->ts_us == PERPS_TS_NONE && bn_latest(ctx, root, "E", &b->ts_us))
		return ctx->status;
	if (b->ts_us == PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "order book without a time");
	b->has_seq = true;
	if (perps_parse_levels_field(ctx, root, "bids", 0, &b->bids, &b->nbids) ||
		perps_parse_levels_field(ctx, root, "asks", 0, &b->asks, &b->nasks))
		return ctx->status;
	out->u.book = b;
	out->n = 1;
	return PERPS_OK;
}

/* premiumIndex and fundingInfo */
PerpsStatus
perps_bnc_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						PerpsResult *out)
{
	struct json_object *prem = docs[0];
	struct json_object *finfo = docs[1];
	PerpsFunding *f;
	size_t		fn;

	if (perps_need_docs(ctx, ndocs, 2))
		return ctx->status;
	f = perps_alloc(ctx, sizeof(PerpsFunding));
	if (f == NULL || perps_need_object(ctx, prem, "premium index") ||
		perps_need_array(ctx, finfo, "fundingInfo", &fn))
		return ctx->status;
	/* lastFundingRate is the rate of the coming settlement, at nextFundingTime */
	if (perps_json_decimal_field(ctx, prem, "lastFundingRate", true, &f->rate) ||
		perps_json_ts_field(ctx, prem, "nextFundingTime", PERPS_MS, &f->next_funding_time_us))
		return ctx->status;
	f->funding_time_us = f->next_funding_time_us;
	f->predicted_rate = NULL;
	f->interval_hours = bn_interval_hours(ctx, finfo, q->market->native_symbol);
	if (ctx->status != PERPS_OK)
		return ctx->status;
	out->u.funding = f;
	out->n = 1;
	return PERPS_OK;
}

PerpsStatus
perps_bnc_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
								PerpsResult *out)
{
	struct json_object *root = docs[0];
	size_t		n;
	int			limit = q->limit > 0 ? (q->limit > 1000 ? 1000 : q->limit) : 100;

	out->u.funding = perps_rows(ctx, root, "funding history", sizeof(PerpsFunding), &n);
	if (out->u.funding == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(root, i);
		PerpsFunding *f = &out->u.funding[i];

		if (perps_need_object(ctx, e, "funding entry") ||
			perps_json_decimal_field(ctx, e, "fundingRate", true, &f->rate) ||
			perps_json_ts_field(ctx, e, "fundingTime", PERPS_MS, &f->funding_time_us))
			return ctx->status;
		f->next_funding_time_us = PERPS_TS_NONE;
		f->predicted_rate = NULL;
		f->interval_hours = NULL;
	}
	out->n = (int) n;
	/* ascending: a full page means the range may go on after its last entry */
	if (n > 0 && (int) n >= limit)
	{
		out->has_more = true;
		if (q->since_us != PERPS_TS_NONE)
			out->next_since_us = out->u.funding[n - 1].funding_time_us + 1000;
		else					/* the newest page: go on backwards */
			out->next_until_us = out->u.funding[0].funding_time_us - 1000;
	}
	return PERPS_OK;
}

static PerpsStatus
bn_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	struct json_object *root = docs[0];
	PerpsOpenInterest *oi = perps_alloc(ctx, sizeof(PerpsOpenInterest));

	if (oi == NULL || perps_need_object(ctx, root, "open interest") ||
		perps_json_decimal_field(ctx, root, "openInterest", true, &oi->open_interest) ||
		perps_json_ts_field(ctx, root, "time", PERPS_MS, &oi->ts_us))
		return ctx->status;
	oi->open_interest_notional = NULL;
	out->u.oi = oi;
	out->n = 1;
	return PERPS_OK;
}

PerpsStatus
perps_bnc_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	struct json_object *root = docs[0];
	size_t		n;
	int			limit = q->limit > 0 ? (q->limit > 1500 ? 1500 : q->limit) : 500;
	int64_t		step = (int64_t) perps_interval_seconds(q->interval) * 1000000;

	if (step == 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "unsupported interval");
	out->u.klines = perps_rows(ctx, root, "klines", sizeof(PerpsKline), &n);
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *r = json_object_array_get_idx(root, i);
		PerpsKline *k = &out->u.klines[i];

		/* [open time, o, h, l, c, volume, close time, quote volume, trade count, ...] */
		if (perps_parse_kline_row(ctx, r, i, 9, k) ||
			perps_json_ts(ctx, json_object_array_get_idx(r, 6), PERPS_MS, "close time", &k->close_time_us) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 7), "quote volume", &k->turnover) ||
			perps_json_int64(ctx, json_object_array_get_idx(r, 8), "trade count", &k->trade_count))
			return ctx->status;
		if (i > 0 && k->open_time_us <= out->u.klines[i - 1].open_time_us)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "klines are not in ascending order");
	}
	out->n = (int) n;
	if (n > 0 && (int) n >= limit && q->since_us == PERPS_TS_NONE)
	{
		/* the newest page: go on backwards */
		out->has_more = true;
		out->next_until_us = out->u.klines[0].open_time_us - 1000;
	}
	else if (n > 0 && (int) n >= limit && step > 0)
	{
		int64_t		next = out->u.klines[n - 1].open_time_us + step;

		if (q->until_us == PERPS_TS_NONE || next <= q->until_us)
		{
			out->has_more = true;
			out->next_since_us = next;
		}
	}
	return PERPS_OK;
}

/* /fapi/v1/trades: the most recent */
static PerpsStatus
bn_recent_trades(PerpsCtx *ctx, struct json_object *root, PerpsResult *out)
{
	size_t		n;

	out->u.trades = perps_rows(ctx, root, "trades", sizeof(PerpsTrade), &n);
	if (out->u.trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(root, i);
		PerpsTrade *t = &out->u.trades[i];
		struct json_object *maker;

		if (perps_need_object(ctx, e, "trade") ||
			perps_json_id(ctx, perps_json_get(e, "id"), "id", &t->trade_id) ||
			perps_json_decimal_field(ctx, e, "price", true, &t->price) ||
			perps_json_decimal_field(ctx, e, "qty", true, &t->qty) ||
			perps_json_ts_field(ctx, e, "time", PERPS_MS, &t->ts_us) ||
			perps_json_need(ctx, e, "isBuyerMaker", json_type_boolean, &maker))
			return ctx->status;
		/* the buyer was the maker: the taker sold */
		t->is_buy = !json_object_get_boolean(maker);
	}
	out->n = (int) n;
	return PERPS_OK;
}

/*
 * aggTrades, ascending by aggregate trade id.  Paging: a full page goes on
 * with fromId = its last id + 1 unless it already reached past until; a
 * short page ends a fromId walk (there is nothing newer) or the time
 * window, and then the next window starts right after it.
 */
static PerpsStatus
bn_parse_agg_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsResult *out)
{
	size_t		n;
	int			limit = q->limit > 0 ? (q->limit > 1000 ? 1000 : q->limit) : 500;
	int64_t		last_id = -1;
	bool		by_id = q->cursor != NULL && q->cursor[0] != '\0';
	int64_t		start_ms,
				end_ms;

	out->u.trades = perps_rows(ctx, root, "aggregate trades", sizeof(PerpsTrade), &n);
	if (out->u.trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(root, i);
		PerpsTrade *t = &out->u.trades[i];
		struct json_object *maker;
		int64_t		id;

		if (perps_need_object(ctx, e, "aggregate trade") ||
			perps_json_id(ctx, perps_json_get(e, "a"), "a", &t->trade_id) ||
			perps_json_int64_field(ctx, e, "a", &id) ||
			perps_json_decimal_field(ctx, e, "p", true, &t->price) ||
			perps_json_decimal_field(ctx, e, "q", true, &t->qty) ||
			perps_json_ts_field(ctx, e, "T", PERPS_MS, &t->ts_us) ||
			perps_json_need(ctx, e, "m", json_type_boolean, &maker))
			return ctx->status;
		if (id < 0 || id <= last_id)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "aggregate trade ids are not ascending");
		last_id = id;
		/* the buyer was the maker: the taker sold */
		t->is_buy = !json_object_get_boolean(maker);
	}
	out->n = (int) n;
	if (q->since_us == PERPS_TS_NONE)
		return PERPS_OK;		/* the window before until: one page */
	if ((int) n >= limit && n > 0)
	{
		if (q->until_us == PERPS_TS_NONE || out->u.trades[n - 1].ts_us <= q->until_us)
		{
			char	   *c = perps_alloc(ctx, 24);

			if (c == NULL || last_id == INT64_MAX)
				return c == NULL ? ctx->status : perps_fail(ctx, PERPS_ERR_SHAPE, "aggregate trade id overflows");
			snprintf(c, 24, "%lld", (long long) (last_id + 1));
			out->has_more = true;
			out->next_cursor = c;
		}
	}
	else if (!by_id && q->until_us != PERPS_TS_NONE && bn_agg_window(q, &start_ms, &end_ms) &&
			 (end_ms + 1) * 1000 <= q->until_us)
	{
		out->has_more = true;
		out->next_since_us = (end_ms + 1) * 1000;
	}
	return PERPS_OK;
}

/* the most recent trades, or the aggregate trades of a time range */
PerpsStatus
perps_bnc_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return bn_parse_agg_trades(ctx, q, docs[0], out);
	return bn_recent_trades(ctx, docs[0], out);
}


/* ---- the stream side: wss://fstream.binance.com/{public,market}/stream ----
 *
 * Binance's notice of 2026-03-06 splits the USD-M streams by path (the
 * legacy unsplit URLs stopped delivering on 2026-04-23): depth and
 * bookTicker on /public, aggTrade, markPrice and ticker on /market.  So
 * two connections (nconnections): /public/stream carries the diff depth,
 * /market/stream the rest; both are combined-stream endpoints.
 *
 * Streams per market (lowercase symbol): <sym>@aggTrade (trades aggregated
 * per price and taker order; USD-M's public trade stream), <sym>@depth@100ms
 * (diff depth: U first and u last update id of the event, pu the u of the
 * previous event), <sym>@markPrice@1s (mark and index price, the funding
 * rate r of the coming settlement at T) and <sym>@ticker (the rolling 24 h
 * statistics).  Each frame is {"stream":"<name>","data":{...}}; requests are
 * {"method":"SUBSCRIBE","params":[...],"id":N}, answered {"result":null,"id":N}
 * or {"error":{"code":..,"msg":..},"id":N}.  Binance pings with WebSocket
 * ping frames (answered by the client library), so there is no
 * application-level ping.
 *
 * Documented limits: 10 incoming messages per second per connection (the
 * worker sends all subscribe messages at once, so at most
 * BN_WS_MAX_SUB_MESSAGES), 1024 streams per connection, a connection lives
 * 24 h at most.  Messages are also kept under 4 KB (larger requests are
 * reported refused by clients of the spot API).
 *
 * The book comes from REST (rest_snapshot): GET /fapi/v1/depth?limit=1000,
 * PerpsBook.seq = lastUpdateId; see bn_ws_seq_rule for the continuity rule.
 *
 */

#define BN_WS_MAX_STREAMS 1024
#define BN_WS_MAX_SUB_MESSAGES 10
#define BN_WS_MAX_MSG_BYTES 4096
#define BN_WS_MAX_LEVELS 20000
#define BN_WS_MAX_ARRAY 5000

/* A native symbol that can go into a stream name: [A-Z0-9_], 1..40 chars. */
static bool
bn_ws_symbol_ok(const char *s)
{
	return perps_symbol_ok(s, 40, false, "_");
}

/* Closes the open message in buf (if any) and stores it in out[*nmsg]. */
static PerpsStatus
bn_ws_close_msg(PerpsCtx *ctx, const char *venue, char *buf, size_t *used, int *nparams, int *nmsg,
				PerpsWsMessage *out)
{
	char	   *data;

	if (*nparams == 0)
		return PERPS_OK;
	if (*nmsg >= BN_WS_MAX_SUB_MESSAGES)
		return perps_fail(ctx, PERPS_ERR_ARG, "%s: more subscribe messages than the %d a second allowed",
						  venue, BN_WS_MAX_SUB_MESSAGES);
	*used += (size_t) snprintf(buf + *used, BN_WS_MAX_MSG_BYTES + 1 - *used, "],\"id\":%d}", *nmsg + 1);
	data = perps_strndup(ctx, buf, *used);
	if (data == NULL)
		return ctx->status;
	out[*nmsg].data = data;
	out[*nmsg].len = *used;
	(*nmsg)++;
	*used = 0;
	*nparams = 0;
	return PERPS_OK;
}

/* the two connections: their paths under ws_url and the streams each carries */
#define BN_WS_PUBLIC 0
#define BN_WS_MARKET 1
static const char *const bn_ws_paths[2] = {"/public/stream", "/market/stream"};
static const char *const bn_ws_public_streams[] = {"@depth@100ms", NULL};
static const char *const bn_ws_market_streams[] = {"@aggTrade", "@markPrice@1s", "@ticker", NULL};
static const char *const *const bn_ws_streams[2] = {bn_ws_public_streams, bn_ws_market_streams};

static const PerpsBncStreamLayout bn_ws_layout = {
	.venue = "binance",
	.max_streams = BN_WS_MAX_STREAMS,
	.nconnections = 2,
	.streams = bn_ws_streams,
	.kline_connection = BN_WS_MARKET,
};

/* the stream's kline intervals are perps_stats' own names (1m 5m 15m 30m 1h 4h 1d) */
const char *
perps_bnc_ws_kline_channel(const char *interval)
{
	return perps_interval_seconds(interval) > 0 ? interval : NULL;
}

/*
 * The SUBSCRIBE messages of connection conn of a venue laid out as lay
 * says: its streams of every wanted market, and the klines on the
 * connection that carries them; at most BN_WS_MAX_SUB_MESSAGES messages
 * of at most BN_WS_MAX_MSG_BYTES each.
 */
int
perps_bnc_ws_subscribe(PerpsCtx *ctx, const PerpsBncStreamLayout *lay, int conn, const PerpsStreamWant *want,
					   PerpsWsMessage *out)
{
	const char *const *natives = want->natives;
	int			n = want->n;
	const char *suffixes[8 + PERPS_KLINE_MAX];
	int			nsuffixes = 0;
	static const char head[] = "{\"method\":\"SUBSCRIBE\",\"params\":[";
	/* room kept for the tail: ],"id":NN} */
	const size_t tail = 16;
	char		buf[BN_WS_MAX_MSG_BYTES + 1];
	size_t		used = 0;
	int			nparams = 0;
	int			nmsg = 0;

	if (conn < 0 || conn >= lay->nconnections)
		return perps_fail(ctx, PERPS_ERR_ARG, "%s has no stream connection %d", lay->venue, conn);
	if (want->nintervals < 0 || want->nintervals > PERPS_KLINE_MAX)
		return perps_fail(ctx, PERPS_ERR_ARG, "%s: %d kline intervals", lay->venue, want->nintervals);
	for (const char *const *f = lay->streams[conn]; *f && nsuffixes < 8; f++)
		suffixes[nsuffixes++] = *f;
	/* the candles go with the market data: <sym>@kline_<interval> */
	for (int k = 0; conn == lay->kline_connection && k < want->nintervals; k++)
	{
		char		sfx[24];

		if (perps_bnc_ws_kline_channel(want->intervals[k]) == NULL)
			return perps_fail(ctx, PERPS_ERR_ARG, "%s streams no kline interval \"%.8s\"", lay->venue,
							  want->intervals[k]);
		snprintf(sfx, sizeof(sfx), "@kline_%s", want->intervals[k]);
		if ((suffixes[nsuffixes++] = perps_strndup(ctx, sfx, strlen(sfx))) == NULL)
			return ctx->status;
	}
	suffixes[nsuffixes] = NULL;
	if (n < 0 || (size_t) n * nsuffixes > (size_t) lay->max_streams)
		return perps_fail(ctx, PERPS_ERR_ARG, "%s cannot stream %d markets on one connection (%d streams at most)",
						  lay->venue, n, lay->max_streams);
	for (int i = 0; i < n; i++)
	{
		char		lower[48];
		size_t		len;

		if (!bn_ws_symbol_ok(natives[i]))
			return perps_fail(ctx, PERPS_ERR_ARG, "%s native symbol \"%.40s\" is not valid", lay->venue, natives[i]);
		len = strlen(natives[i]);
		for (size_t k = 0; k <= len; k++)
			lower[k] = (char) tolower((unsigned char) natives[i][k]);
		for (int k = 0; suffixes[k] != NULL; k++)
		{
			/* "name", plus a comma */
			size_t		need = len + strlen(suffixes[k]) + 3;

			if (used > 0 && used + need + tail > BN_WS_MAX_MSG_BYTES &&
				bn_ws_close_msg(ctx, lay->venue, buf, &used, &nparams, &nmsg, out) != PERPS_OK)
				return ctx->status;
			if (used == 0)
				used = (size_t) snprintf(buf, sizeof(buf), "%s", head);
			used += (size_t) snprintf(buf + used, sizeof(buf) - used, "%s\"%s%s\"",
									  nparams ? "," : "", lower, suffixes[k]);
			nparams++;
		}
	}
	if (bn_ws_close_msg(ctx, lay->venue, buf, &used, &nparams, &nmsg, out) != PERPS_OK)
		return ctx->status;
	return nmsg;
}

static int
bn_ws_subscribe(PerpsCtx *ctx, int conn, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	return perps_bnc_ws_subscribe(ctx, &bn_ws_layout, conn, want, out);
}

/* e = depthUpdate of a diff depth stream */
static PerpsStatus
bn_ws_depth(PerpsCtx *ctx, const char *venue, struct json_object *d, PerpsStreamEvent *ev)
{
	ev->kind = PERPS_EV_BOOK;
	ev->snapshot = false;
	if (perps_json_int64_field(ctx, d, "u", &ev->seq) != PERPS_OK ||
		perps_json_int64_field(ctx, d, "U", &ev->first_seq) != PERPS_OK ||
		perps_json_int64_field(ctx, d, "pu", &ev->prev_seq) != PERPS_OK)
		return ctx->status;
	if (ev->first_seq > ev->seq)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s depth event has U > u", venue);
	ev->has_first_seq = true;
	ev->has_prev_seq = true;
	/* the matching engine's time (T), as the REST book; else the event time */
	if (perps_json_get(d, "T") != NULL &&
		perps_json_ts_field(ctx, d, "T", PERPS_MS, &ev->ts_us) != PERPS_OK)
		return ctx->status;
	if (perps_ws_levels(ctx, venue, d, "b", "bid", BN_WS_MAX_LEVELS, &ev->bids, &ev->nbids) != PERPS_OK ||
		perps_ws_levels(ctx, venue, d, "a", "ask", BN_WS_MAX_LEVELS, &ev->asks, &ev->nasks) != PERPS_OK)
		return ctx->status;
	return PERPS_OK;
}

/* e = aggTrade: one aggregated trade */
static PerpsStatus
bn_ws_agg_trade(PerpsCtx *ctx, const char *venue, struct json_object *d, PerpsStreamEvent *ev)
{
	struct json_object *maker;
	PerpsTrade *t;

	ev->kind = PERPS_EV_TRADES;
	t = perps_alloc(ctx, sizeof(PerpsTrade));
	if (t == NULL)
		return ctx->status;
	if (perps_json_id(ctx, perps_json_get(d, "a"), "a", &t->trade_id) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "p", true, &t->price) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "q", true, &t->qty) != PERPS_OK ||
		perps_json_ts_field(ctx, d, "T", PERPS_MS, &t->ts_us) != PERPS_OK ||
		perps_json_need(ctx, d, "m", json_type_boolean, &maker) != PERPS_OK)
		return ctx->status;
	if (t->trade_id[0] == '\0' || strlen(t->trade_id) > 64)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s aggregate trade id is empty or too long", venue);
	/* m: the buyer is the maker, so the taker sold */
	t->is_buy = !json_object_get_boolean(maker);
	ev->trades = t;
	ev->ntrades = 1;
	return PERPS_OK;
}

/* e = markPriceUpdate: mark and index price, the funding rate and its time */
static PerpsStatus
bn_ws_mark_price(PerpsCtx *ctx, const char *venue, struct json_object *d, PerpsStreamEvent *ev)
{
	struct json_object *v;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	if (perps_json_decimal_field(ctx, d, "p", true, &ev->ticker.mark_price) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "i", false, &ev->ticker.index_price) != PERPS_OK)
		return ctx->status;
	/* r is "" and T 0 for delivery contracts: no funding */
	v = perps_json_get(d, "r");
	if (v != NULL && !perps_json_str_eq(v, "") &&
		perps_json_decimal_opt(ctx, v, "r", &ev->funding_rate) != PERPS_OK)
		return ctx->status;
	v = perps_json_get(d, "T");
	if (v != NULL && !json_object_is_type(v, json_type_null) && !perps_json_str_eq(v, "0") &&
		!(json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0) &&
		perps_json_ts(ctx, v, PERPS_MS, "T", &ev->next_funding_time_us) != PERPS_OK)
		return ctx->status;
	if (ev->next_funding_time_us == PERPS_TS_NONE)
		ev->funding_rate = NULL;	/* a rate without its settlement time cannot be stored */
	return PERPS_OK;
}

/* e = 24hrTicker: the rolling 24 h statistics */
static PerpsStatus
bn_ws_day_ticker(PerpsCtx *ctx, const char *venue, struct json_object *d, PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;
	const char *pct = NULL;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	if (perps_json_decimal_field(ctx, d, "c", true, &t->last_price) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "p", false, &t->price_change_24h) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "P", false, &pct) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "h", false, &t->high_24h) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "l", false, &t->low_24h) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "v", false, &t->volume_24h) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "q", false, &t->turnover_24h) != PERPS_OK)
		return ctx->status;
	/* P is a percentage: 1.405 means 1.405 % */
	if (pct != NULL && (t->price_change_pct = perps_decimal_shift(ctx, pct, -2)) == NULL)
		return ctx->status;
	return PERPS_OK;
}

/*
 * e = kline: the candle k of one interval so far ({t, T, i, o, h, l, c, v,
 * q, n, x}: q the quote volume); x true once it is closed.
 */
static const PerpsKlineKeys bn_ws_kline_keys = {
	.open_ms = "t",.close_ms = "T",.open = "o",.high = "h",.low = "l",.close = "c",.volume = "v",
	.turnover = "q",.count = "n",
};

static PerpsStatus
bn_ws_kline(PerpsCtx *ctx, const char *venue, struct json_object *d, PerpsStreamEvent *ev)
{
	struct json_object *k = perps_json_get(d, "k");
	struct json_object *closed;
	const char *iv;
	char		what[48];

	snprintf(what, sizeof(what), "%.30s kline k", venue);
	ev->kind = PERPS_EV_KLINE;
	if (perps_parse_kline_obj(ctx, k, what, &bn_ws_kline_keys, 0, &ev->kline) != PERPS_OK ||
		perps_json_string(ctx, perps_json_get(k, "i"), "i", &iv) != PERPS_OK ||
		perps_json_need(ctx, k, "x", json_type_boolean, &closed) != PERPS_OK)
		return ctx->status;
	if ((ev->kline_interval = perps_interval_name(iv)) == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s kline interval \"%.8s\" is not one perps_stats streams", venue, iv);
	ev->kline_closed = json_object_get_boolean(closed);
	return PERPS_OK;
}

/*
 * e = bookTicker: the best bid and ask with their quantities (b B a A), a
 * ticker delta at the transaction time T (else the event time).  Binance
 * does not subscribe it; Aster does.
 */
static PerpsStatus
bn_ws_book_ticker(PerpsCtx *ctx, const char *venue, struct json_object *d, PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;

	(void) venue;
	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	if (perps_json_decimal_field(ctx, d, "b", true, &t->best_bid_price) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "B", true, &t->best_bid_qty) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "a", true, &t->best_ask_price) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "A", true, &t->best_ask_qty) != PERPS_OK)
		return ctx->status;
	if (perps_json_get(d, "T") != NULL &&
		perps_json_ts_field(ctx, d, "T", PERPS_MS, &ev->ts_us) != PERPS_OK)
		return ctx->status;
	t->ts_us = ev->ts_us;
	return PERPS_OK;
}

/* true when a stream name (after the symbol's '@') is a diff depth stream: depth, depth@100ms, ... */
static bool
bn_ws_diff_depth(const char *kind)
{
	return strcmp(kind, "depth") == 0 || strncmp(kind, "depth@", 6) == 0;
}

/*
 * One event object (data, or an element of an !...@arr data array) into
 * ev.  stream_kind is the part of the stream name after '@' (NULL: not
 * combined), stream_sym its symbol part (NULL for !... streams).
 */
static PerpsStatus
bn_ws_event(PerpsCtx *ctx, const char *venue, struct json_object *d, const char *stream_sym,
			const char *stream_kind, PerpsStreamEvent *ev)
{
	struct json_object *e = perps_json_get(d, "e");
	const char *type;
	const char *sym;

	ev->ts_us = PERPS_TS_NONE;
	ev->next_funding_time_us = PERPS_TS_NONE;
	if (!json_object_is_type(d, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s event is not an object", venue);
	if (perps_json_string(ctx, e, "e", &type) != PERPS_OK)
		return ctx->status;
	if (strcmp(type, "depthUpdate") != 0 && strcmp(type, "aggTrade") != 0 &&
		strcmp(type, "markPriceUpdate") != 0 && strcmp(type, "24hrTicker") != 0 &&
		strcmp(type, "kline") != 0 && strcmp(type, "bookTicker") != 0)
	{
		ev->kind = PERPS_EV_CONTROL;	/* a stream we did not ask for */
		return PERPS_OK;
	}
	/* partial book depth (<sym>@depth5/10/20) is also a depthUpdate: not a diff */
	if (strcmp(type, "depthUpdate") == 0 && stream_kind != NULL && !bn_ws_diff_depth(stream_kind))
	{
		ev->kind = PERPS_EV_CONTROL;
		return PERPS_OK;
	}
	if (perps_json_string(ctx, perps_json_get(d, "s"), "s", &sym) != PERPS_OK ||
		perps_json_ts_field(ctx, d, "E", PERPS_MS, &ev->ts_us) != PERPS_OK)
		return ctx->status;
	if (!bn_ws_symbol_ok(sym))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s event symbol \"%.40s\" is not valid", venue, sym);
	if (stream_sym != NULL && strcasecmp(stream_sym, sym) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s event of %.40s in the stream of %.40s", venue, sym, stream_sym);
	ev->native_symbol = sym;
	ev->ticker.native_symbol = sym;
	ev->ticker.ts_us = ev->ts_us;
	if (strcmp(type, "depthUpdate") == 0)
		return bn_ws_depth(ctx, venue, d, ev);
	if (strcmp(type, "aggTrade") == 0)
		return bn_ws_agg_trade(ctx, venue, d, ev);
	if (strcmp(type, "markPriceUpdate") == 0)
		return bn_ws_mark_price(ctx, venue, d, ev);
	if (strcmp(type, "kline") == 0)
		return bn_ws_kline(ctx, venue, d, ev);
	if (strcmp(type, "bookTicker") == 0)
		return bn_ws_book_ticker(ctx, venue, d, ev);
	return bn_ws_day_ticker(ctx, venue, d, ev);
}

/* {"result":...,"id":N} or {"error":{"code":..,"msg":..},"id":N} (or {"code":..,"msg":..}) */
static PerpsStatus
bn_ws_control(PerpsCtx *ctx, const char *venue, struct json_object *root, PerpsStreamEvent *ev)
{
	struct json_object *err = perps_json_get(root, "error");
	struct json_object *msg;

	ev->kind = PERPS_EV_CONTROL;
	ev->ts_us = PERPS_TS_NONE;
	ev->next_funding_time_us = PERPS_TS_NONE;
	if (err == NULL && perps_json_get(root, "code") != NULL)
		err = root;
	if (err == NULL)
	{
		if (perps_json_get(root, "result") == NULL && perps_json_get(root, "id") == NULL)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "%s frame is neither a stream event nor an answer", venue);
		return PERPS_OK;
	}
	ev->is_error = true;
	msg = perps_json_get(err, "msg");
	if (msg != NULL && json_object_is_type(msg, json_type_string))
		return perps_json_string(ctx, msg, "msg", &ev->message);
	ev->message = perps_strndup(ctx, "error without a message", 23);
	return ev->message ? PERPS_OK : ctx->status;
}

/* One frame of a combined (or raw) stream connection; messages name the venue. */
PerpsStatus
perps_bnc_ws_parse(PerpsCtx *ctx, const char *venue, const char *data, size_t len, bool binary,
				   PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *stream;
	struct json_object *d;
	const char *name = NULL;
	char	   *sym = NULL;
	const char *kind = NULL;

	if (perps_ws_json_begin(ctx, venue, data, len, binary, PERPS_BNC_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	stream = perps_json_get(root, "stream");
	d = perps_json_get(root, "data");
	if (stream == NULL && perps_json_get(root, "e") != NULL)
		d = root;				/* a raw stream (/ws/...): the event itself */
	else if (stream == NULL)
	{
		out->events = perps_alloc(ctx, sizeof(PerpsStreamEvent));
		if (out->events == NULL || bn_ws_control(ctx, venue, root, out->events) != PERPS_OK)
			goto done;
		out->nevents = 1;
		goto done;
	}
	else
	{
		const char *at;

		if (perps_json_string(ctx, stream, "stream", &name) != PERPS_OK)
			goto done;
		if (d == NULL)
		{
			perps_fail(ctx, PERPS_ERR_SHAPE, "%s stream frame without data", venue);
			goto done;
		}
		at = strchr(name, '@');
		if (at == NULL || at == name || at - name > 48)
		{
			perps_fail(ctx, PERPS_ERR_SHAPE, "%s stream name \"%.60s\" names no symbol", venue, name);
			goto done;
		}
		kind = at + 1;
		if (name[0] != '!' && (sym = perps_strndup(ctx, name, (size_t) (at - name))) == NULL)
			goto done;
	}

	if (json_object_is_type(d, json_type_array))
	{
		/* !markPrice@arr, !ticker@arr: one event per market */
		size_t		n = json_object_array_length(d);

		if (n > BN_WS_MAX_ARRAY)
		{
			perps_fail(ctx, PERPS_ERR_SHAPE, "%s frame has %zu events", venue, n);
			goto done;
		}
		out->events = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsStreamEvent));
		if (out->events == NULL)
			goto done;
		for (size_t i = 0; i < n; i++)
			if (bn_ws_event(ctx, venue, json_object_array_get_idx(d, i), sym, kind, &out->events[i]) != PERPS_OK)
				goto done;
		out->nevents = (int) n;
	}
	else
	{
		out->events = perps_alloc(ctx, sizeof(PerpsStreamEvent));
		if (out->events == NULL || bn_ws_event(ctx, venue, d, sym, kind, out->events) != PERPS_OK)
			goto done;
		out->nevents = 1;
	}
	for (int i = 0; i < out->nevents; i++)
		out->events[i].channel = name;
done:
	return perps_ws_json_end(ctx, root, out);
}

static PerpsStatus
bn_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	return perps_bnc_ws_parse(ctx, "binance", data, len, binary, out);
}

/*
 * Binance's procedure for a local USD-M book ("How to manage a local order
 * book correctly"): buffer the diff events, get a REST snapshot
 * (lastUpdateId), drop any event whose u is < lastUpdateId, the first event
 * applied must have U <= lastUpdateId AND u >= lastUpdateId, and from then
 * on each event's pu must equal the previous event's u, otherwise start
 * again from the snapshot.  Here last_seq is lastUpdateId right after a
 * snapshot and the u of the last applied event afterwards:
 *
 *	no book							-> GAP (the worker syncs from REST)
 *	pu == last_seq					-> APPLY (continues the previous event)
 *	u < last_seq					-> STALE (older than the book)
 *	U <= last_seq <= u				-> APPLY (the first event over a snapshot)
 *	anything else					-> GAP
 *
 * Deltas never reset: only the REST snapshot replaces the book.
 */
PerpsSeqCheck
perps_bnc_ws_seq_rule(bool have_book, int64_t last_seq, const PerpsStreamEvent *ev)
{
	if (ev->snapshot)
		return PERPS_SEQ_RESET;
	if (!have_book)
		return PERPS_SEQ_GAP;
	if (ev->has_prev_seq && ev->prev_seq == last_seq)
		return PERPS_SEQ_APPLY;
	if (ev->seq < last_seq)
		return PERPS_SEQ_STALE;
	if (ev->has_first_seq && ev->first_seq <= last_seq && ev->seq >= last_seq)
		return PERPS_SEQ_APPLY;
	return PERPS_SEQ_GAP;
}

static const PerpsStreamAdapter binance_stream = {
	.quote = "USDT",
	.trade_ids_sequential = true,	/* aggTrade "a", per symbol */
	.book_depth = 1000,
	.ping_message = NULL,		/* WebSocket ping frames */
	.max_message_bytes = PERPS_BNC_WS_MAX_MESSAGE,
	.rest_snapshot = true,
	.snapshot_depth = 1000,
	.max_connection_s = 86400,
	.nconnections = 2,
	.connection_paths = bn_ws_paths,
	.book_connection = BN_WS_PUBLIC,
	.subscribe_on = bn_ws_subscribe,
	.kline_channel = perps_bnc_ws_kline_channel,
	.resync = NULL,
	.parse_frame = bn_ws_parse,
	.seq_rule = perps_bnc_ws_seq_rule,
};

/* Binance's weights: USD-M futures docs, "Market Data Endpoints" */
static const PerpsBncWeights bn_weights = {
	.day = 1, .day_all = 40, .premium = 1, .premium_all = 10, .book = 2, .book_all = 5,
	.open_interest = 1, .recent_trades = 5, .agg_trades = 20,
};

PERPS_BNC_BUILDERS(bn, bn_weights)

const PerpsAdapter perps_adapter_binance = {
	.name = "binance",
	PERPS_BNC_COMMON,
	.methods = {
		PERPS_BNC_METHODS(bn),
		[PERPS_M_MARKETS] = {.build = perps_bnc_build_markets, .parse = perps_bnc_parse_markets},
		[PERPS_M_OPEN_INTEREST] = {.build = bn_build_open_interest, .parse = bn_parse_open_interest},
	},
	.rate_limit = {.weight = 2400, .window_ms = 60000},
	.stream = &binance_stream,
};
