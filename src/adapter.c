/*-------------------------------------------------------------------------
 *
 * adapter.c
 *		The registry of exchange adapters, the dispatch of their methods, and
 *		what they share: method names, kline intervals, the helpers of their
 *		parsers.  Plain C (see adapter.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"

/* One line per venue; each adapter is defined in src/venues/<venue>.c. */
extern const PerpsAdapter perps_adapter_aster;
extern const PerpsAdapter perps_adapter_binance;
extern const PerpsAdapter perps_adapter_bybit;
extern const PerpsAdapter perps_adapter_grvt;
extern const PerpsAdapter perps_adapter_hibachi;
extern const PerpsAdapter perps_adapter_extended;
extern const PerpsAdapter perps_adapter_hyperliquid;
extern const PerpsAdapter perps_adapter_kucoin;
extern const PerpsAdapter perps_adapter_lighter;
extern const PerpsAdapter perps_adapter_nado;
extern const PerpsAdapter perps_adapter_pacifica;
extern const PerpsAdapter perps_adapter_paradex;

const PerpsAdapter *const perps_adapters[] = {
	/* PERPS_ADAPTERS: add &perps_adapter_<venue> here when its file exists */
	&perps_adapter_binance,
	&perps_adapter_bybit,
	&perps_adapter_hyperliquid,
	&perps_adapter_kucoin,
	&perps_adapter_lighter,
	&perps_adapter_paradex,
	&perps_adapter_aster,
	&perps_adapter_grvt,
	&perps_adapter_hibachi,
	&perps_adapter_nado,
	&perps_adapter_extended,
	&perps_adapter_pacifica,
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
	/* a method about one market: a symbol the venue can name */
	if (m != PERPS_M_MARKETS && m != PERPS_M_TICKERS &&
		(q == NULL || q->market == NULL || !a->symbol_ok(q->market->native_symbol)))
		return perps_fail(ctx, PERPS_ERR_ARG, "%s needs %s", a->name, a->symbol_what);
	if (q != NULL && q->resolution != 0 &&
		(m != PERPS_M_ORDERBOOK || q->resolution < 0 ||
		 q->resolution >= perps_market_book_resolutions(a, q->market)))
		return perps_fail(ctx, PERPS_ERR_ARG, "%s serves no order book resolution %d", a->name,
						  q->resolution);
	return mi->build(ctx, q, reqs);
}

int
perps_book_resolutions(const PerpsAdapter *a)
{
	int			n = 0;

	if (a->book_resolutions == NULL)
		return 1;
	while (n < PERPS_MAX_BOOK_RESOLUTIONS && a->book_resolutions[n] != NULL)
		n++;
	return n > 0 ? n : 1;
}

int
perps_market_book_resolutions(const PerpsAdapter *a, const PerpsMarketRef *m)
{
	int			n;

	if (a->book_step_param == NULL)
		return perps_book_resolutions(a);
	if (m == NULL || m->book_steps == NULL || m->nbook_steps < 1)
		return 1;
	n = m->nbook_steps;
	if (a->max_book_steps > 0 && n > a->max_book_steps)
		n = a->max_book_steps;
	return n < PERPS_MAX_BOOK_RESOLUTIONS ? n : PERPS_MAX_BOOK_RESOLUTIONS;
}

const char *
perps_book_label(const PerpsAdapter *a, const PerpsMarketRef *m, int k, char *buf, size_t len)
{
	int			n;

	if (k < 0 || k >= perps_market_book_resolutions(a, m))
		return NULL;
	if (a->book_step_param == NULL)
		return a->book_resolutions != NULL ? a->book_resolutions[k] : NULL;
	if (m == NULL || m->book_steps == NULL || m->nbook_steps < 1)
		return NULL;			/* steps unknown: the venue's one book, unnamed */
	n = snprintf(buf, len, "%s=%s", a->book_step_param, m->book_steps[k]);
	return n > 0 && (size_t) n < len ? buf : NULL;
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
	if (st == PERPS_OK && ctx->status == PERPS_OK)
		st = mi->parse(ctx, q, docs, nbodies, out);
	for (int i = 0; i < nbodies; i++)
		if (docs[i] != NULL)
			json_object_put(docs[i]);
	/* the first failure recorded is the one reported */
	if (ctx->status != PERPS_OK)
		st = ctx->status;
	if (st != PERPS_OK)
	{
		out->n = 0;
		out->has_more = false;
	}
	return st;
}

static const struct
{
	const char *name;
	int			seconds;
}			perps_intervals[PERPS_KLINE_MAX] = {
	{"1m", 60}, {"5m", 300}, {"15m", 900}, {"30m", 1800},
	{"1h", 3600}, {"4h", 14400}, {"1d", 86400},
};

int
perps_interval_seconds(const char *interval)
{
	if (interval == NULL)
		return 0;
	for (size_t i = 0; i < PERPS_KLINE_MAX; i++)
		if (strcmp(perps_intervals[i].name, interval) == 0)
			return perps_intervals[i].seconds;
	return 0;
}

const char *
perps_interval_name(const char *interval)
{
	if (interval == NULL)
		return NULL;
	for (size_t i = 0; i < PERPS_KLINE_MAX; i++)
		if (strcmp(perps_intervals[i].name, interval) == 0)
			return perps_intervals[i].name;
	return NULL;
}

/* ---- helpers the adapters share ---- */

PerpsStatus
perps_need_docs(PerpsCtx *ctx, int ndocs, int want)
{
	if (ndocs != want)
		return perps_fail(ctx, PERPS_ERR_ARG, "expected %d bodies, got %d", want, ndocs);
	return PERPS_OK;
}

bool
perps_json_str_eq(struct json_object *v, const char *s)
{
	return v != NULL && json_object_is_type(v, json_type_string) &&
		strcmp(json_object_get_string(v), s) == 0;
}

PerpsStatus
perps_need_object(PerpsCtx *ctx, struct json_object *v, const char *what)
{
	if (v == NULL || !json_object_is_type(v, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not an object", what);
	return PERPS_OK;
}

PerpsStatus
perps_need_array(PerpsCtx *ctx, struct json_object *v, const char *what, size_t *n)
{
	if (v == NULL || !json_object_is_type(v, json_type_array))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not an array", what);
	*n = json_object_array_length(v);
	if (*n > PERPS_MAX_ROWS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s has %zu rows, more than %d", what, *n, PERPS_MAX_ROWS);
	return PERPS_OK;
}

PerpsStatus
perps_need_array_field(PerpsCtx *ctx, struct json_object *obj, const char *key,
					   struct json_object **arr, size_t *n)
{
	if (perps_json_need(ctx, obj, key, json_type_array, arr) != PERPS_OK)
		return ctx->status;
	return perps_need_array(ctx, *arr, key, n);
}

void *
perps_rows(PerpsCtx *ctx, struct json_object *v, const char *what, size_t size, size_t *n)
{
	if (perps_need_array(ctx, v, what, n) != PERPS_OK)
		return NULL;
	return perps_alloc_array(ctx, *n, size);
}

void *
perps_rows_field(PerpsCtx *ctx, struct json_object *obj, const char *key, size_t size,
				 struct json_object **arr, size_t *n)
{
	if (perps_need_array_field(ctx, obj, key, arr, n) != PERPS_OK)
		return NULL;
	return perps_alloc_array(ctx, *n, size);
}

PerpsStatus
perps_parse_levels(PerpsCtx *ctx, struct json_object *arr, const char *what, int depth,
				   PerpsLevel **levels, int *nlevels)
{
	size_t		n;

	if (perps_need_array(ctx, arr, what, &n) != PERPS_OK)
		return ctx->status;
	if (depth > 0 && (size_t) depth < n)
		n = (size_t) depth;
	*levels = perps_alloc_array(ctx, n, sizeof(PerpsLevel));
	if (*levels == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *lv = json_object_array_get_idx(arr, i);

		if (lv == NULL || !json_object_is_type(lv, json_type_array) || json_object_array_length(lv) < 2)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "%s level %zu is not [price, size]", what, i);
		if (perps_json_decimal(ctx, json_object_array_get_idx(lv, 0), "price", &(*levels)[i].price) ||
			perps_json_decimal(ctx, json_object_array_get_idx(lv, 1), "size", &(*levels)[i].qty))
			return ctx->status;
	}
	*nlevels = (int) n;
	return PERPS_OK;
}

PerpsStatus
perps_parse_level_objs(PerpsCtx *ctx, struct json_object *arr, const char *what, int depth,
					   const char *price_key, const char *qty_key, PerpsLevel **levels, int *nlevels)
{
	size_t		n;

	if (perps_need_array(ctx, arr, what, &n) != PERPS_OK)
		return ctx->status;
	if (depth > 0 && (size_t) depth < n)
		n = (size_t) depth;
	*levels = perps_alloc_array(ctx, n, sizeof(PerpsLevel));
	if (*levels == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *lv = json_object_array_get_idx(arr, i);

		if (lv == NULL || !json_object_is_type(lv, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "%s level %zu is not an object", what, i);
		if (perps_json_decimal_field(ctx, lv, price_key, true, &(*levels)[i].price) ||
			perps_json_decimal_field(ctx, lv, qty_key, true, &(*levels)[i].qty))
			return ctx->status;
	}
	*nlevels = (int) n;
	return PERPS_OK;
}

PerpsStatus
perps_parse_levels_field(PerpsCtx *ctx, struct json_object *obj, const char *key, int depth,
						 PerpsLevel **levels, int *n)
{
	struct json_object *arr;

	if (perps_json_need(ctx, obj, key, json_type_array, &arr) != PERPS_OK)
		return ctx->status;
	return perps_parse_levels(ctx, arr, key, depth, levels, n);
}

PerpsStatus
perps_ws_levels(PerpsCtx *ctx, const char *venue, struct json_object *obj, const char *key,
				const char *what, size_t max, PerpsLevel **levels, int *n)
{
	struct json_object *arr;

	if (perps_json_need(ctx, obj, key, json_type_array, &arr) != PERPS_OK)
		return ctx->status;
	if (json_object_array_length(arr) > max)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s book frame has %zu %s levels", venue,
						  json_object_array_length(arr), what);
	return perps_parse_levels(ctx, arr, what, 0, levels, n);
}

PerpsStatus
perps_parse_kline_row(PerpsCtx *ctx, struct json_object *row, size_t i, size_t min, PerpsKline *k)
{
	if (row == NULL || !json_object_is_type(row, json_type_array) || json_object_array_length(row) < min)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kline %zu is not an array of at least %zu fields", i, min);
	if (perps_json_ts(ctx, json_object_array_get_idx(row, 0), PERPS_MS, "kline time", &k->open_time_us) ||
		perps_json_decimal(ctx, json_object_array_get_idx(row, 1), "open", &k->open) ||
		perps_json_decimal(ctx, json_object_array_get_idx(row, 2), "high", &k->high) ||
		perps_json_decimal(ctx, json_object_array_get_idx(row, 3), "low", &k->low) ||
		perps_json_decimal(ctx, json_object_array_get_idx(row, 4), "close", &k->close) ||
		perps_json_decimal(ctx, json_object_array_get_idx(row, 5), "volume", &k->volume))
		return ctx->status;
	return PERPS_OK;
}

PerpsStatus
perps_parse_kline_obj(PerpsCtx *ctx, struct json_object *it, const char *what, const PerpsKlineKeys *keys,
					  int interval_s, PerpsKline *k)
{
	if (it == NULL || !json_object_is_type(it, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not an object", what);
	k->trade_count = -1;
	k->turnover = NULL;
	if (perps_json_ts_field(ctx, it, keys->open_ms, PERPS_MS, &k->open_time_us) ||
		(keys->close_ms && perps_json_ts_field(ctx, it, keys->close_ms, PERPS_MS, &k->close_time_us)) ||
		perps_json_decimal_field(ctx, it, keys->open, true, &k->open) ||
		perps_json_decimal_field(ctx, it, keys->high, true, &k->high) ||
		perps_json_decimal_field(ctx, it, keys->low, true, &k->low) ||
		perps_json_decimal_field(ctx, it, keys->close, true, &k->close) ||
		perps_json_decimal_field(ctx, it, keys->volume, true, &k->volume) ||
		(keys->turnover && perps_json_decimal_field(ctx, it, keys->turnover, false, &k->turnover)) ||
		(keys->count && perps_json_get(it, keys->count) != NULL &&
		 perps_json_int64_field(ctx, it, keys->count, &k->trade_count)))
		return ctx->status;
	if (keys->close_ms == NULL)
	{
		if (interval_s <= 0)
			return perps_fail(ctx, PERPS_ERR_ARG, "%s: no interval to close it", what);
		k->close_time_us = k->open_time_us + (int64_t) interval_s * 1000000 - 1000;	/* its last ms */
	}
	if (k->close_time_us < k->open_time_us)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s closes before it opens", what);
	if (keys->count && k->trade_count < -1)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s counts fewer than 0 trades", what);
	return PERPS_OK;
}

static int
adapter_cmp_time(int64_t x, int64_t y)
{
	return (x > y) - (x < y);
}

int
perps_cmp_funding(const void *a, const void *b)
{
	return adapter_cmp_time(((const PerpsFunding *) a)->funding_time_us,
							((const PerpsFunding *) b)->funding_time_us);
}

int
perps_cmp_kline(const void *a, const void *b)
{
	return adapter_cmp_time(((const PerpsKline *) a)->open_time_us, ((const PerpsKline *) b)->open_time_us);
}

int
perps_cmp_trade(const void *a, const void *b)
{
	return adapter_cmp_time(((const PerpsTrade *) a)->ts_us, ((const PerpsTrade *) b)->ts_us);
}

int64_t
perps_us_to_ms_ceil(int64_t us)
{
	return us / 1000 + (us % 1000 > 0 ? 1 : 0);
}

int64_t
perps_us_to_ms_floor(int64_t us)
{
	return us / 1000 - (us % 1000 < 0 ? 1 : 0);
}

int
perps_page_size(const PerpsQuery *q, int max)
{
	return (q->limit > 0 && q->limit < max) ? q->limit : max;
}

bool
perps_page_window(const PerpsQuery *q, int64_t unit_us, int64_t span, int64_t *start, int64_t *end)
{
	if (q->since_us != PERPS_TS_NONE)
	{
		*start = q->since_us / unit_us;
		*end = *start + span - 1;
		if (q->until_us != PERPS_TS_NONE && q->until_us / unit_us < *end)
			*end = q->until_us / unit_us;
	}
	else
	{
		*end = q->until_us != PERPS_TS_NONE ? q->until_us / unit_us :
			(int64_t) time(NULL) * (1000000 / unit_us);
		*start = *end - span + 1;
	}
	return *end >= *start;
}

void
perps_page_forward(const PerpsQuery *q, int rows, int64_t step_us, int64_t latest_us, size_t n,
				   PerpsResult *out)
{
	int64_t		next;

	if (q->since_us == PERPS_TS_NONE)
		return;
	next = q->since_us + (int64_t) rows * step_us;
	if (latest_us != PERPS_TS_NONE && latest_us + step_us > next)
		next = latest_us + step_us;
	if (q->until_us == PERPS_TS_NONE ? n >= (size_t) rows : next <= q->until_us)
	{
		out->has_more = true;
		out->next_since_us = next;
	}
}

PerpsStatus
perps_parse_trade(PerpsCtx *ctx, struct json_object *it, size_t i, const PerpsTradeKeys *keys, PerpsTrade *t)
{
	if (it == NULL || !json_object_is_type(it, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "trade %zu is not an object", i);
	if (perps_json_id(ctx, perps_json_get(it, keys->id), keys->id, &t->trade_id) ||
		perps_json_decimal_field(ctx, it, keys->price, true, &t->price) ||
		perps_json_decimal_field(ctx, it, keys->qty, true, &t->qty) ||
		perps_json_ts_field(ctx, it, keys->time_ms, PERPS_MS, &t->ts_us) ||
		perps_taker_side(ctx, perps_json_get(it, keys->side), keys->buy, keys->sell, &t->is_buy))
		return ctx->status;
	return PERPS_OK;
}

PerpsStatus
perps_parse_trades(PerpsCtx *ctx, struct json_object *arr, size_t n, const PerpsTradeKeys *keys,
				   PerpsResult *out)
{
	out->u.trades = perps_alloc_array(ctx, n, sizeof(PerpsTrade));
	if (out->u.trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
		if (perps_parse_trade(ctx, json_object_array_get_idx(arr, i), i, keys, &out->u.trades[i]) != PERPS_OK)
			return ctx->status;
	out->n = (int) n;
	return PERPS_OK;
}

PerpsStatus
perps_taker_side(PerpsCtx *ctx, struct json_object *v, const char *buy, const char *sell, bool *is_buy)
{
	if (perps_json_str_eq(v, buy))
		*is_buy = true;
	else if (perps_json_str_eq(v, sell))
		*is_buy = false;
	else
		return perps_fail(ctx, PERPS_ERR_SHAPE, "trade side is neither %s nor %s", buy, sell);
	return PERPS_OK;
}

void
perps_newest_trades(PerpsResult *out, int limit)
{
	qsort(out->u.trades, (size_t) out->n, sizeof(PerpsTrade), perps_cmp_trade);
	if (limit > 0 && out->n > limit)
	{
		out->u.trades += out->n - limit;
		out->n = limit;
	}
}

PerpsStatus
perps_open_interest_of(PerpsCtx *ctx, const PerpsTicker *t, PerpsResult *out)
{
	PerpsOpenInterest *oi;

	if (t->open_interest == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"open_interest\" is missing");
	oi = perps_alloc(ctx, sizeof(PerpsOpenInterest));
	if (oi == NULL)
		return ctx->status;
	oi->ts_us = t->ts_us;
	oi->open_interest = t->open_interest;
	oi->open_interest_notional = t->open_interest_notional;
	out->u.oi = oi;
	out->n = 1;
	return PERPS_OK;
}

bool
perps_symbol_ok(const char *s, size_t maxlen, bool lower, const char *punct)
{
	size_t		n = 0;

	if (s == NULL)
		return false;
	for (; s[n]; n++)
	{
		char		c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (lower && c >= 'a' && c <= 'z') ||
			  strchr(punct, c) != NULL))
			return false;
	}
	return n > 0 && n <= maxlen;
}

PerpsStatus
perps_pick_tickers(PerpsCtx *ctx, struct json_object *obj, const char *key, const char *want,
				   PerpsTickerRead read, PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int			k = 0;

	if (perps_need_array_field(ctx, obj, key, &arr, &n) != PERPS_OK)
		return ctx->status;
	out->u.tickers = perps_alloc_array(ctx, n, sizeof(PerpsTicker));
	if (out->u.tickers == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		PerpsTicker *t = &out->u.tickers[k];
		bool		keep = true;

		if (read(ctx, json_object_array_get_idx(arr, i), i, t, &keep) != PERPS_OK)
			return ctx->status;
		if (!keep || (want != NULL && strcmp(t->native_symbol, want) != 0))
			continue;
		k++;
		if (want != NULL)
			break;
	}
	if (want != NULL && k == 0)
		return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "market %s is not in the answer", want);
	out->n = k;
	return PERPS_OK;
}

PerpsStatus
perps_request_path(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
{
	va_list		ap;
	int			n;

	memset(r, 0, sizeof(*r));
	va_start(ap, fmt);
	n = vsnprintf(r->path, sizeof(r->path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(r->path))
		return perps_fail(ctx, PERPS_ERR_ARG, "request path too long");
	r->weight = weight;
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

PerpsStatus
perps_ws_json_end_one(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev, PerpsStreamFrame *out)
{
	out->events = ev;
	out->nevents = 1;
	return perps_ws_json_end(ctx, root, out);
}

PerpsSeqCheck
perps_seq_next(int64_t last_seq, const PerpsStreamEvent *ev)
{
	if (ev->seq <= last_seq)
		return PERPS_SEQ_STALE;
	if (last_seq < INT64_MAX && ev->seq == last_seq + 1)
		return PERPS_SEQ_APPLY;
	return PERPS_SEQ_GAP;
}

PerpsSeqCheck
perps_seq_snapshot_then_next(bool have_book, int64_t last_seq, const PerpsStreamEvent *ev)
{
	if (ev->snapshot)
		return PERPS_SEQ_RESET;
	if (!have_book)
		return PERPS_SEQ_STALE;
	return perps_seq_next(last_seq, ev);
}

PerpsSeqCheck
perps_seq_newer_whole_book(bool have_book, int64_t last_seq, const PerpsStreamEvent *ev)
{
	if (!have_book || ev->seq > last_seq)
		return PERPS_SEQ_RESET;
	return PERPS_SEQ_STALE;
}

PerpsStatus
perps_ws_trade_runs(PerpsCtx *ctx, struct json_object *data, const char *what, size_t max,
					PerpsWsTradeParse parse, void *arg, const char *channel, PerpsStreamFrame *out)
{
	size_t		n;
	PerpsTrade *trades;
	PerpsStreamEvent *evs;
	int			nev = 0;

	if (data == NULL || !json_object_is_type(data, json_type_array))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s data is not an array", what);
	n = json_object_array_length(data);
	if (n > max)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s frame has %zu trades", what, n);
	if (n == 0)
		return PERPS_OK;
	trades = perps_alloc_array(ctx, n, sizeof(PerpsTrade));
	evs = perps_alloc_array(ctx, n, sizeof(PerpsStreamEvent));
	if (trades == NULL || evs == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		PerpsTrade *t = &trades[i];
		const char *sym = NULL;

		if (parse(ctx, json_object_array_get_idx(data, i), i, t, &sym, arg) != PERPS_OK)
			return ctx->status;
		if (sym == NULL)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "%s trade names no market", what);
		if (nev == 0 || strcmp(evs[nev - 1].native_symbol, sym) != 0)
		{
			PerpsStreamEvent *ev = &evs[nev++];

			ev->kind = PERPS_EV_TRADES;
			ev->native_symbol = sym;
			ev->channel = channel;
			ev->ts_us = t->ts_us;
			ev->next_funding_time_us = PERPS_TS_NONE;
			ev->trades = t;
		}
		evs[nev - 1].ntrades++;
	}
	out->events = evs;
	out->nevents = nev;
	return PERPS_OK;
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
