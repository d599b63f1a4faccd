/*-------------------------------------------------------------------------
 *
 * adapter_binance.c
 *		Binance USD-M futures (fapi) REST adapter.  Plain C (see adapter.h).
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

#include "adapter.h"

#define BN_MAX_ROWS 100000

static bool
bn_native_symbol(const char *global, char *buf, size_t buflen)
{
	size_t		n = strlen(global);

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char) global[i]) && !isdigit((unsigned char) global[i]))
			return false;
	return (size_t) snprintf(buf, buflen, "%sUSDT", global) < buflen;
}

/* ---- build ---- */

static int
bn_path(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static int
bn_path(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(r->path, sizeof(r->path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(r->path))
		return perps_fail(ctx, PERPS_ERR_ARG, "request path too long");
	r->post = false;
	r->weight = weight;
	return PERPS_OK;
}

/* the symbol, checked to be something Binance could name */
static const char *
bn_symbol(PerpsCtx *ctx, const PerpsQuery *q)
{
	const char *s = (q && q->market) ? q->market->native_symbol : NULL;

	if (s == NULL || s[0] == '\0' || strlen(s) > 40)
	{
		perps_fail(ctx, PERPS_ERR_ARG, "a market is required");
		return NULL;
	}
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char) *p) && *p != '_')
		{
			perps_fail(ctx, PERPS_ERR_ARG, "invalid Binance symbol \"%.40s\"", s);
			return NULL;
		}
	return s;
}

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
	int64_t		until_ms = q->until_us != PERPS_TS_NONE ? q->until_us / 1000 - (q->until_us % 1000 < 0) : INT64_MAX;

	if (q->since_us != PERPS_TS_NONE)
	{
		*start_ms = q->since_us / 1000 + (q->since_us % 1000 > 0);
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
bn_build_agg_trades(PerpsCtx *ctx, PerpsRequest *r, const PerpsQuery *q, const char *s, int limit)
{
	int64_t		start_ms,
				end_ms;

	if (q->cursor != NULL && q->cursor[0] != '\0')
	{
		/* Binance: send fromId or the times, not both */
		if (!bn_safe_cursor(q->cursor))
			return perps_fail(ctx, PERPS_ERR_ARG, "invalid Binance aggregate trade cursor \"%.40s\"", q->cursor);
		if (bn_path(ctx, r, 20, "/fapi/v1/aggTrades?symbol=%s&fromId=%s&limit=%d", s, q->cursor, limit))
			return ctx->status;
		return 1;
	}
	if (!bn_agg_window(q, &start_ms, &end_ms))
		return perps_fail(ctx, PERPS_ERR_ARG, "since is after until");
	if (bn_path(ctx, r, 20, "/fapi/v1/aggTrades?symbol=%s&startTime=%lld&endTime=%lld&limit=%d", s,
				(long long) start_ms, (long long) end_ms, limit))
		return ctx->status;
	return 1;
}

static int
bn_build(PerpsCtx *ctx, PerpsMethod m, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *s = NULL;

	if (m != PERPS_M_MARKETS && m != PERPS_M_TICKERS)
	{
		s = bn_symbol(ctx, q);
		if (s == NULL)
			return ctx->status;
	}
	switch (m)
	{
		case PERPS_M_MARKETS:
			if (bn_path(ctx, &reqs[0], 1, "/fapi/v1/exchangeInfo") ||
				bn_path(ctx, &reqs[1], 1, "/fapi/v1/fundingInfo"))
				return ctx->status;
			return 2;
		case PERPS_M_TICKER:
			if (bn_path(ctx, &reqs[0], 1, "/fapi/v1/ticker/24hr?symbol=%s", s) ||
				bn_path(ctx, &reqs[1], 1, "/fapi/v1/premiumIndex?symbol=%s", s) ||
				bn_path(ctx, &reqs[2], 2, "/fapi/v1/ticker/bookTicker?symbol=%s", s) ||
				bn_path(ctx, &reqs[3], 1, "/fapi/v1/openInterest?symbol=%s", s))
				return ctx->status;
			return 4;
		case PERPS_M_TICKERS:
			if (bn_path(ctx, &reqs[0], 40, "/fapi/v1/ticker/24hr") ||
				bn_path(ctx, &reqs[1], 10, "/fapi/v1/premiumIndex") ||
				bn_path(ctx, &reqs[2], 5, "/fapi/v1/ticker/bookTicker"))
				return ctx->status;
			return 3;
		case PERPS_M_ORDERBOOK:
			{
				static const int limits[] = {5, 10, 20, 50, 100, 500, 1000};
				static const int weights[] = {2, 2, 2, 2, 5, 10, 20};
				int			k = 0;

				while (k < 6 && limits[k] < q->depth)
					k++;
				if (bn_path(ctx, &reqs[0], weights[k], "/fapi/v1/depth?symbol=%s&limit=%d", s, limits[k]))
					return ctx->status;
				return 1;
			}
		case PERPS_M_FUNDING:
			if (bn_path(ctx, &reqs[0], 1, "/fapi/v1/premiumIndex?symbol=%s", s) ||
				bn_path(ctx, &reqs[1], 1, "/fapi/v1/fundingInfo"))
				return ctx->status;
			return 2;
		case PERPS_M_FUNDING_HISTORY:
			{
				int			limit = q->limit > 0 ? (q->limit > 1000 ? 1000 : q->limit) : 100;

				if (bn_path(ctx, &reqs[0], 1, "/fapi/v1/fundingRate?symbol=%s&limit=%d", s, limit) ||
					bn_range(ctx, &reqs[0], q))
					return ctx->status;
				return 1;
			}
		case PERPS_M_OPEN_INTEREST:
			if (bn_path(ctx, &reqs[0], 1, "/fapi/v1/openInterest?symbol=%s", s))
				return ctx->status;
			return 1;
		case PERPS_M_KLINES:
			{
				int			limit = q->limit > 0 ? (q->limit > 1500 ? 1500 : q->limit) : 500;

				if (perps_interval_seconds(q->interval) == 0)
					return perps_fail(ctx, PERPS_ERR_ARG, "unsupported interval");
				if (bn_path(ctx, &reqs[0], bn_kline_weight(limit),
							"/fapi/v1/klines?symbol=%s&interval=%s&limit=%d", s, q->interval, limit) ||
					bn_range(ctx, &reqs[0], q))
					return ctx->status;
				return 1;
			}
		case PERPS_M_TRADES:
			{
				int			limit = q->limit > 0 ? (q->limit > 1000 ? 1000 : q->limit) : 500;

				if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
					return bn_build_agg_trades(ctx, &reqs[0], q, s, limit);
				if (bn_path(ctx, &reqs[0], 5, "/fapi/v1/trades?symbol=%s&limit=%d", s, limit))
					return ctx->status;
				return 1;
			}
		default:
			return perps_fail(ctx, PERPS_UNSUPPORTED, "unknown method");
	}
}

/* ---- parse ---- */

/*
 * Parses a body; an error payload ({"code":..,"msg":..}) or an error status
 * becomes PERPS_ERR_VENUE with Binance's message.
 */
static PerpsStatus
bn_parse_body(PerpsCtx *ctx, const PerpsBody *b, struct json_object **out)
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
		perps_fail(ctx, PERPS_ERR_VENUE, "%.200s (code %.20s)", json_object_get_string(msg),
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

static PerpsStatus
bn_need_array(PerpsCtx *ctx, struct json_object *v, const char *what, size_t *n)
{
	if (v == NULL || !json_object_is_type(v, json_type_array))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not an array", what);
	*n = json_object_array_length(v);
	if (*n > BN_MAX_ROWS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s has %zu elements, more than %d", what, *n, BN_MAX_ROWS);
	return PERPS_OK;
}

static PerpsStatus
bn_need_object(PerpsCtx *ctx, struct json_object *v, const char *what)
{
	if (v == NULL || !json_object_is_type(v, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not an object", what);
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

static PerpsStatus
bn_parse_markets(PerpsCtx *ctx, struct json_object *info, struct json_object *finfo, PerpsResult *out)
{
	struct json_object *symbols;
	size_t		n;
	size_t		fn;

	if (perps_json_need(ctx, info, "symbols", json_type_array, &symbols) ||
		bn_need_array(ctx, symbols, "symbols", &n) ||
		bn_need_array(ctx, finfo, "fundingInfo", &fn))
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

		if (bn_need_object(ctx, s, "symbol entry") ||
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
		if (bn_need_object(ctx, day, "24hr ticker") ||
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
		if (bn_need_object(ctx, prem, "premium index") ||
			perps_json_decimal_field(ctx, prem, "markPrice", false, &t->mark_price) ||
			perps_json_decimal_field(ctx, prem, "indexPrice", false, &t->index_price) ||
			bn_latest(ctx, prem, "time", &t->ts_us))
			return ctx->status;
	}
	if (book)
	{
		if (bn_need_object(ctx, book, "book ticker") ||
			perps_json_decimal_field(ctx, book, "bidPrice", false, &t->best_bid_price) ||
			perps_json_decimal_field(ctx, book, "bidQty", false, &t->best_bid_qty) ||
			perps_json_decimal_field(ctx, book, "askPrice", false, &t->best_ask_price) ||
			perps_json_decimal_field(ctx, book, "askQty", false, &t->best_ask_qty) ||
			bn_latest(ctx, book, "time", &t->ts_us))
			return ctx->status;
	}
	if (oi)
	{
		if (bn_need_object(ctx, oi, "open interest") ||
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

static PerpsStatus
bn_parse_tickers(PerpsCtx *ctx, struct json_object *day, struct json_object *prem,
				 struct json_object *book, PerpsResult *out)
{
	size_t		n;
	size_t		np;
	size_t		nb;

	if (bn_need_array(ctx, day, "24hr tickers", &n) ||
		bn_need_array(ctx, prem, "premium indexes", &np) ||
		bn_need_array(ctx, book, "book tickers", &nb))
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

static PerpsStatus
bn_parse_levels(PerpsCtx *ctx, struct json_object *root, const char *key, PerpsLevel **out, int *nout)
{
	struct json_object *arr;
	size_t		n;

	if (perps_json_need(ctx, root, key, json_type_array, &arr) ||
		bn_need_array(ctx, arr, key, &n))
		return ctx->status;
	*out = perps_alloc_array(ctx, n, sizeof(PerpsLevel));
	if (*out == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *lv = json_object_array_get_idx(arr, i);

		if (lv == NULL || !json_object_is_type(lv, json_type_array) || json_object_array_length(lv) < 2)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "a level of %s is not [price, qty]", key);
		if (perps_json_decimal(ctx, json_object_array_get_idx(lv, 0), "price", &(*out)[i].price) ||
			perps_json_decimal(ctx, json_object_array_get_idx(lv, 1), "qty", &(*out)[i].qty))
			return ctx->status;
	}
	*nout = (int) n;
	return PERPS_OK;
}

static PerpsStatus
bn_parse_book(PerpsCtx *ctx, struct json_object *root, PerpsResult *out)
{
	PerpsBook  *b = perps_alloc(ctx, sizeof(PerpsBook));

	if (b == NULL || bn_need_object(ctx, root, "order book"))
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
	if (bn_parse_levels(ctx, root, "bids", &b->bids, &b->nbids) ||
		bn_parse_levels(ctx, root, "asks", &b->asks, &b->nasks))
		return ctx->status;
	out->u.book = b;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
bn_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *prem,
				 struct json_object *finfo, PerpsResult *out)
{
	PerpsFunding *f = perps_alloc(ctx, sizeof(PerpsFunding));
	size_t		fn;

	if (f == NULL || bn_need_object(ctx, prem, "premium index") ||
		bn_need_array(ctx, finfo, "fundingInfo", &fn))
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

static PerpsStatus
bn_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsResult *out)
{
	size_t		n;
	int			limit = q->limit > 0 ? (q->limit > 1000 ? 1000 : q->limit) : 100;

	if (bn_need_array(ctx, root, "funding history", &n))
		return ctx->status;
	out->u.funding = perps_alloc_array(ctx, n, sizeof(PerpsFunding));
	if (out->u.funding == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(root, i);
		PerpsFunding *f = &out->u.funding[i];

		if (bn_need_object(ctx, e, "funding entry") ||
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
bn_parse_oi(PerpsCtx *ctx, struct json_object *root, PerpsResult *out)
{
	PerpsOpenInterest *oi = perps_alloc(ctx, sizeof(PerpsOpenInterest));

	if (oi == NULL || bn_need_object(ctx, root, "open interest") ||
		perps_json_decimal_field(ctx, root, "openInterest", true, &oi->open_interest) ||
		perps_json_ts_field(ctx, root, "time", PERPS_MS, &oi->ts_us))
		return ctx->status;
	oi->open_interest_notional = NULL;
	out->u.oi = oi;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
bn_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsResult *out)
{
	size_t		n;
	int			limit = q->limit > 0 ? (q->limit > 1500 ? 1500 : q->limit) : 500;
	int64_t		step = (int64_t) perps_interval_seconds(q->interval) * 1000000;

	if (bn_need_array(ctx, root, "klines", &n))
		return ctx->status;
	out->u.klines = perps_alloc_array(ctx, n, sizeof(PerpsKline));
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *r = json_object_array_get_idx(root, i);
		PerpsKline *k = &out->u.klines[i];

		if (r == NULL || !json_object_is_type(r, json_type_array) || json_object_array_length(r) < 9)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "a kline is not an array of at least 9 fields");
		if (perps_json_ts(ctx, json_object_array_get_idx(r, 0), PERPS_MS, "open time", &k->open_time_us) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 1), "open", &k->open) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 2), "high", &k->high) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 3), "low", &k->low) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 4), "close", &k->close) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 5), "volume", &k->volume) ||
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

static PerpsStatus
bn_parse_trades(PerpsCtx *ctx, struct json_object *root, PerpsResult *out)
{
	size_t		n;

	if (bn_need_array(ctx, root, "trades", &n))
		return ctx->status;
	out->u.trades = perps_alloc_array(ctx, n, sizeof(PerpsTrade));
	if (out->u.trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(root, i);
		PerpsTrade *t = &out->u.trades[i];
		struct json_object *maker;

		if (bn_need_object(ctx, e, "trade") ||
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

	if (bn_need_array(ctx, root, "aggregate trades", &n))
		return ctx->status;
	out->u.trades = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsTrade));
	if (out->u.trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(root, i);
		PerpsTrade *t = &out->u.trades[i];
		struct json_object *maker;
		int64_t		id;

		if (bn_need_object(ctx, e, "aggregate trade") ||
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

static PerpsStatus
bn_parse(PerpsCtx *ctx, PerpsMethod m, const PerpsQuery *q, const PerpsBody *bodies, int nbodies,
		 PerpsResult *out)
{
	struct json_object *roots[PERPS_MAX_REQUESTS] = {NULL};
	int			want;
	PerpsStatus st = PERPS_OK;

	memset(out, 0, sizeof(*out));
	out->method = m;
	out->next_since_us = out->next_until_us = PERPS_TS_NONE;

	switch (m)
	{
		case PERPS_M_MARKETS:
		case PERPS_M_FUNDING:
			want = 2;
			break;
		case PERPS_M_TICKER:
			want = 4;
			break;
		case PERPS_M_TICKERS:
			want = 3;
			break;
		case PERPS_M_ORDERBOOK:
		case PERPS_M_FUNDING_HISTORY:
		case PERPS_M_OPEN_INTEREST:
		case PERPS_M_KLINES:
		case PERPS_M_TRADES:
			want = 1;
			break;
		default:
			return perps_fail(ctx, PERPS_UNSUPPORTED, "unknown method");
	}
	if (nbodies != want)
		return perps_fail(ctx, PERPS_ERR_ARG, "expected %d bodies, got %d", want, nbodies);
	if ((m == PERPS_M_TICKER || m == PERPS_M_FUNDING) && (q == NULL || q->market == NULL))
		return perps_fail(ctx, PERPS_ERR_ARG, "a market is required");
	if ((m == PERPS_M_KLINES) && (q == NULL || perps_interval_seconds(q->interval) == 0))
		return perps_fail(ctx, PERPS_ERR_ARG, "unsupported interval");

	for (int i = 0; i < want && st == PERPS_OK; i++)
		st = bn_parse_body(ctx, &bodies[i], &roots[i]);

	if (st == PERPS_OK)
	{
		switch (m)
		{
			case PERPS_M_MARKETS:
				st = bn_parse_markets(ctx, roots[0], roots[1], out);
				break;
			case PERPS_M_TICKER:
				out->u.tickers = perps_alloc(ctx, sizeof(PerpsTicker));
				if (out->u.tickers == NULL)
					st = ctx->status;
				else
					st = bn_fill_ticker(ctx, out->u.tickers, roots[0], roots[1], roots[2], roots[3]);
				if (st == PERPS_OK)
					out->n = 1;
				break;
			case PERPS_M_TICKERS:
				st = bn_parse_tickers(ctx, roots[0], roots[1], roots[2], out);
				break;
			case PERPS_M_ORDERBOOK:
				st = bn_parse_book(ctx, roots[0], out);
				break;
			case PERPS_M_FUNDING:
				st = bn_parse_funding(ctx, q, roots[0], roots[1], out);
				break;
			case PERPS_M_FUNDING_HISTORY:
				st = bn_parse_funding_history(ctx, q, roots[0], out);
				break;
			case PERPS_M_OPEN_INTEREST:
				st = bn_parse_oi(ctx, roots[0], out);
				break;
			case PERPS_M_KLINES:
				st = bn_parse_klines(ctx, q, roots[0], out);
				break;
			case PERPS_M_TRADES:
				if (q != NULL && (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE))
					st = bn_parse_agg_trades(ctx, q, roots[0], out);
				else
					st = bn_parse_trades(ctx, roots[0], out);
				break;
			default:
				st = perps_fail(ctx, PERPS_UNSUPPORTED, "unknown method");
		}
	}
	for (int i = 0; i < want; i++)
		if (roots[i])
			json_object_put(roots[i]);
	if (st != PERPS_OK)
	{
		out->n = 0;
		out->has_more = false;
	}
	return st;
}

const PerpsAdapter perps_adapter_binance = {
	.name = "binance",
	.native_symbol = bn_native_symbol,
	.needs_markets = false,
	.build = bn_build,
	.parse = bn_parse,
	.rate_limit = {.weight = 2400, .window_ms = 60000},
	.max_kline_page = 1500,
	.max_funding_page = 1000,
	.max_trades_page = 1000,
	.no_trades_history = NULL,	/* aggTrades pages through any range */
};
