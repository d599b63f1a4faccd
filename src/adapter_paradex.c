/*-------------------------------------------------------------------------
 *
 * adapter_paradex.c
 *		Paradex public REST (api.prod.paradex.trade/v1): perpetual markets
 *		(asset_kind PERP).
 *
 * Symbols: BTC <-> BTC-USD-PERP.  Sizes are base units; prices and sizes
 * are JSON strings.  Times are ms.  Trade ids are 28-digit strings, kept
 * as text.  price_change_rate_24h is a fraction already.
 *
 * Errors are {"error": "NOT_FOUND", "message": "..."} with a 4xx status.
 *
 * Pagination: trades and funding data are cursor-paged ("next"), newest
 * first, page_size default 100; at most 5000 rows a page of funding data,
 * 1000 of trades (the trade tape's documented maximum).  Trade history:
 * /v1/trades takes an optional [start_at, end_at] range (ms, inclusive),
 * kept on every page of the walk.  Klines take a required
 * [start_at, end_at] range and resolutions of 1, 3, 5, 15, 30 and 60
 * minutes (4h and 1d are not served); no page size is documented, so a
 * request spans at most 1000 candles and the caller goes on from
 * next_since_us.
 *
 * Rate limit: public endpoints, 1500 requests per minute per IP.
 *
 * Plain C (see adapter.h): no PostgreSQL API, no I/O.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "adapter.h"

#define PX_MAX_ROWS 100000
#define PX_PAGE 5000			/* page_size limit of trades and funding data */
#define PX_TRADES_PAGE 1000		/* page_size limit of /v1/trades */
#define PX_PAGE_DEFAULT 100		/* page_size default */
#define PX_KLINE_SPAN 1000		/* candles per request (none documented) */
#define PX_SUFFIX "-USD-PERP"

static bool
px_safe(const char *s, size_t maxlen)
{
	size_t		n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++, n++)
	{
		char		c = *s;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return n <= maxlen;
}

/* A pagination cursor: base64 text. */
static bool
px_safe_cursor(const char *s)
{
	size_t		n = strlen(s);

	return n > 0 && n <= 512 &&
		strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_") == n;
}

static bool
px_native_symbol(const char *global, char *buf, size_t buflen)
{
	int			n;

	if (!px_safe(global, 32) || strchr(global, '-') != NULL)
		return false;
	n = snprintf(buf, buflen, "%s" PX_SUFFIX, global);
	return n > 0 && (size_t) n < buflen;
}

static int
px_path(PerpsCtx *ctx, PerpsRequest *r, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static int
px_path(PerpsCtx *ctx, PerpsRequest *r, const char *fmt,...)
{
	va_list		ap;
	int			n;

	memset(r, 0, sizeof(*r));
	va_start(ap, fmt);
	n = vsnprintf(r->path, sizeof(r->path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(r->path))
		return perps_fail(ctx, PERPS_ERR_ARG, "request path too long");
	r->weight = 1;
	return PERPS_OK;
}

/* "&cursor=..." when the query continues a page, "" otherwise. */
static int
px_cursor_arg(PerpsCtx *ctx, const PerpsQuery *q, char *buf, size_t len)
{
	buf[0] = '\0';
	if (q->cursor == NULL || q->cursor[0] == '\0')
		return PERPS_OK;
	if (!px_safe_cursor(q->cursor))
		return perps_fail(ctx, PERPS_ERR_ARG, "paradex: malformed cursor");
	/* '+', '/' and '=' must be escaped in a query string */
	{
		size_t		k = (size_t) snprintf(buf, len, "&cursor=");

		for (const char *p = q->cursor; *p && k + 4 < len; p++)
		{
			if (*p == '+' || *p == '/' || *p == '=')
				k += (size_t) snprintf(buf + k, len - k, "%%%02X", (unsigned char) *p);
			else
				buf[k++] = *p;
		}
		buf[k] = '\0';
	}
	return PERPS_OK;
}

static int
px_build(PerpsCtx *ctx, PerpsMethod m, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = NULL;
	char		cur[1200];
	char		range[80];

	if (m != PERPS_M_MARKETS && m != PERPS_M_TICKERS)
	{
		if (q == NULL || q->market == NULL || !px_safe(q->market->native_symbol, 64))
			return perps_fail(ctx, PERPS_ERR_ARG, "paradex: a market with a valid native symbol is required");
		sym = q->market->native_symbol;
	}
	switch (m)
	{
		case PERPS_M_MARKETS:
			return px_path(ctx, &reqs[0], "/v1/markets") ? ctx->status : 1;

		case PERPS_M_TICKERS:
			return px_path(ctx, &reqs[0], "/v1/markets/summary?market=ALL") ? ctx->status : 1;

		case PERPS_M_TICKER:
		case PERPS_M_FUNDING:
		case PERPS_M_OPEN_INTEREST:
			return px_path(ctx, &reqs[0], "/v1/markets/summary?market=%s", sym) ? ctx->status : 1;

		case PERPS_M_ORDERBOOK:
			{
				int			depth = q->depth > 0 ? q->depth : 100;

				return px_path(ctx, &reqs[0], "/v1/orderbook/%s?depth=%d", sym, depth) ? ctx->status : 1;
			}

		case PERPS_M_FUNDING_HISTORY:
			{
				int			rows = q->limit <= 0 ? PX_PAGE_DEFAULT : q->limit < PX_PAGE ? q->limit : PX_PAGE;
				size_t		k = 0;

				if (px_cursor_arg(ctx, q, cur, sizeof(cur)))
					return ctx->status;
				range[0] = '\0';
				if (q->since_us != PERPS_TS_NONE)
					k += (size_t) snprintf(range + k, sizeof(range) - k, "&start_at=%lld",
										   (long long) (q->since_us / 1000));
				if (q->until_us != PERPS_TS_NONE)
					snprintf(range + k, sizeof(range) - k, "&end_at=%lld",
							 (long long) (q->until_us / 1000));
				return px_path(ctx, &reqs[0], "/v1/funding/data?market=%s&page_size=%d%s%s",
							   sym, rows, range, cur) ? ctx->status : 1;
			}

		case PERPS_M_KLINES:
			{
				int			secs = perps_interval_seconds(q->interval);
				int			rows = q->limit > 0 && q->limit < PX_KLINE_SPAN ? q->limit : PX_KLINE_SPAN;
				int64_t		step,
							start,
							end;

				if (secs == 0 || secs > 3600)
					return perps_fail(ctx, PERPS_ERR_ARG,
									  "paradex: klines are served at 1, 5, 15, 30 and 60 minutes only, not \"%s\"",
									  q->interval ? q->interval : "(null)");
				step = (int64_t) secs * 1000;
				if (q->since_us != PERPS_TS_NONE)
				{
					start = q->since_us / 1000;
					end = start + rows * step - 1;
					if (q->until_us != PERPS_TS_NONE && q->until_us / 1000 < end)
						end = q->until_us / 1000;
				}
				else
				{
					end = q->until_us != PERPS_TS_NONE ? q->until_us / 1000 : (int64_t) time(NULL) * 1000;
					start = end - rows * step + 1;
				}
				if (end < start)
					return perps_fail(ctx, PERPS_ERR_ARG, "paradex: since is after until");
				return px_path(ctx, &reqs[0],
							   "/v1/markets/klines?symbol=%s&resolution=%d&start_at=%lld&end_at=%lld",
							   sym, secs / 60, (long long) start, (long long) end) ? ctx->status : 1;
			}

		case PERPS_M_TRADES:
			{
				int			rows = q->limit <= 0 ? PX_PAGE_DEFAULT : q->limit < PX_TRADES_PAGE ? q->limit : PX_TRADES_PAGE;
				size_t		k = 0;

				if (px_cursor_arg(ctx, q, cur, sizeof(cur)))
					return ctx->status;
				range[0] = '\0';
				if (q->since_us != PERPS_TS_NONE)
					k += (size_t) snprintf(range + k, sizeof(range) - k, "&start_at=%lld",
										   (long long) (q->since_us / 1000 + (q->since_us % 1000 > 0)));
				if (q->until_us != PERPS_TS_NONE)
					snprintf(range + k, sizeof(range) - k, "&end_at=%lld",
							 (long long) (q->until_us / 1000 - (q->until_us % 1000 < 0)));
				return px_path(ctx, &reqs[0], "/v1/trades?market=%s&page_size=%d%s%s",
							   sym, rows, range, cur) ? ctx->status : 1;
			}

		default:
			return perps_fail(ctx, PERPS_UNSUPPORTED, "paradex: no public endpoint for this method");
	}
}

/* ---- parsers ---- */

static PerpsStatus
px_open(PerpsCtx *ctx, const PerpsBody *b, struct json_object **root)
{
	*root = NULL;
	if (perps_json_parse(ctx, b->data, b->len, root) != PERPS_OK)
	{
		if (b->status != 200)
			return perps_fail(ctx, PERPS_ERR_VENUE, "HTTP status %ld", b->status);
		return ctx->status;
	}
	if (b->status != 200 || perps_json_get(*root, "error") != NULL)
	{
		struct json_object *e = perps_json_get(*root, "error");
		struct json_object *msg = perps_json_get(*root, "message");
		PerpsStatus st;

		st = perps_fail(ctx, PERPS_ERR_VENUE, "paradex error %s (HTTP %ld): %s",
						e && json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "(none)",
						b->status,
						msg && json_object_is_type(msg, json_type_string) ?
						json_object_get_string(msg) : "(no message)");
		json_object_put(*root);
		*root = NULL;
		return st;
	}
	return PERPS_OK;
}

static PerpsStatus
px_results(PerpsCtx *ctx, struct json_object *root, struct json_object **arr, size_t *n)
{
	if (perps_json_need(ctx, root, "results", json_type_array, arr))
		return ctx->status;
	*n = json_object_array_length(*arr);
	if (*n > PX_MAX_ROWS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "results has %zu rows, more than %d", *n, PX_MAX_ROWS);
	return PERPS_OK;
}

/* The "next" cursor of a page: has_more and next_cursor. */
static PerpsStatus
px_next(PerpsCtx *ctx, struct json_object *root, PerpsResult *out)
{
	struct json_object *nx = perps_json_get(root, "next");

	if (nx == NULL || json_object_is_type(nx, json_type_null))
		return PERPS_OK;
	if (perps_json_string(ctx, nx, "next", &out->next_cursor))
		return ctx->status;
	if (out->next_cursor[0] == '\0')
	{
		out->next_cursor = NULL;
		return PERPS_OK;
	}
	if (!px_safe_cursor(out->next_cursor))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "malformed \"next\" cursor");
	out->has_more = true;
	return PERPS_OK;
}

/* Global symbol of BTC-USD-PERP. */
static const char *
px_global(PerpsCtx *ctx, const char *native)
{
	size_t		n = strlen(native),
				s = strlen(PX_SUFFIX);

	if (n > s && strcmp(native + n - s, PX_SUFFIX) == 0)
		return perps_strndup(ctx, native, n - s);
	return native;
}

static PerpsStatus
px_parse_markets(PerpsCtx *ctx, struct json_object *root, PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int			k = 0;

	if (px_results(ctx, root, &arr, &n))
		return ctx->status;
	out->u.markets = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsMarket));
	if (out->u.markets == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsMarket *mk = &out->u.markets[k];
		struct json_object *kind;
		struct json_object *fph;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "market %zu is not an object", i);
		kind = perps_json_get(o, "asset_kind");
		if (kind == NULL || !json_object_is_type(kind, json_type_string) ||
			strcmp(json_object_get_string(kind), "PERP") != 0)
			continue;
		if (perps_json_string(ctx, perps_json_get(o, "symbol"), "symbol", &mk->native_symbol) ||
			perps_json_string(ctx, perps_json_get(o, "base_currency"), "base_currency", &mk->base) ||
			perps_json_string(ctx, perps_json_get(o, "quote_currency"), "quote_currency", &mk->quote) ||
			perps_json_decimal_field(ctx, o, "price_tick_size", false, &mk->tick_size) ||
			perps_json_decimal_field(ctx, o, "order_size_increment", false, &mk->lot_size) ||
			perps_json_decimal_field(ctx, o, "min_notional", false, &mk->min_notional) ||
			perps_json_decimal_field(ctx, o, "max_order_size", false, &mk->max_qty))
			return ctx->status;
		mk->symbol = px_global(ctx, mk->native_symbol);
		mk->contract_size = "1";
		mk->min_qty = mk->lot_size;
		/* funding_period_hours when the venue sends it; the documented period is 8 h */
		fph = perps_json_get(o, "funding_period_hours");
		if (fph != NULL && !json_object_is_type(fph, json_type_null))
		{
			if (perps_json_decimal(ctx, fph, "funding_period_hours", &mk->funding_interval_hours))
				return ctx->status;
		}
		else
			mk->funding_interval_hours = "8";
		mk->active = true;
		k++;
	}
	out->n = k;
	return ctx->status;
}

static PerpsStatus
px_summary(PerpsCtx *ctx, struct json_object *o, PerpsTicker *t)
{
	if (o == NULL || !json_object_is_type(o, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "summary is not an object");
	if (perps_json_string(ctx, perps_json_get(o, "symbol"), "symbol", &t->native_symbol) ||
		perps_json_ts_field(ctx, o, "created_at", PERPS_MS, &t->ts_us) ||
		perps_json_decimal_field(ctx, o, "last_traded_price", false, &t->last_price) ||
		perps_json_decimal_field(ctx, o, "mark_price", false, &t->mark_price) ||
		perps_json_decimal_field(ctx, o, "underlying_price", false, &t->index_price) ||
		perps_json_decimal_field(ctx, o, "bid", false, &t->best_bid_price) ||
		perps_json_decimal_field(ctx, o, "bid_size", false, &t->best_bid_qty) ||
		perps_json_decimal_field(ctx, o, "ask", false, &t->best_ask_price) ||
		perps_json_decimal_field(ctx, o, "ask_size", false, &t->best_ask_qty) ||
		/* volume_24h is the traded value in USD */
		perps_json_decimal_field(ctx, o, "volume_24h", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, o, "open_interest", false, &t->open_interest) ||
		perps_json_decimal_field(ctx, o, "price_change_rate_24h", false, &t->price_change_pct))
		return ctx->status;
	return PERPS_OK;
}

static PerpsStatus
px_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsMethod m, struct json_object *root,
				 PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int			k = 0;

	if (px_results(ctx, root, &arr, &n))
		return ctx->status;
	out->u.tickers = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsTicker));
	if (out->u.tickers == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		PerpsTicker *t = &out->u.tickers[k];
		size_t		len;

		if (px_summary(ctx, json_object_array_get_idx(arr, i), t))
			return ctx->status;
		len = strlen(t->native_symbol);
		if (m == PERPS_M_TICKERS)
		{
			/* perpetuals only (the summary of ALL lists options too) */
			if (len <= strlen(PX_SUFFIX) || strcmp(t->native_symbol + len - strlen(PX_SUFFIX), PX_SUFFIX) != 0)
				continue;
		}
		else if (strcmp(t->native_symbol, q->market->native_symbol) != 0)
			continue;
		k++;
		if (m != PERPS_M_TICKERS)
			break;
	}
	if (m != PERPS_M_TICKERS && k == 0)
		return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "paradex: %s is not in the answer",
						  q->market->native_symbol);
	out->n = k;
	return PERPS_OK;
}

static PerpsStatus
px_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;

	if (px_results(ctx, root, &arr, &n))
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct json_object *s = perps_json_get(o, "symbol");
		PerpsFunding *f;

		if (s == NULL || !json_object_is_type(s, json_type_string) ||
			strcmp(json_object_get_string(s), q->market->native_symbol) != 0)
			continue;
		f = out->u.funding = perps_alloc(ctx, sizeof(PerpsFunding));
		if (f == NULL)
			return ctx->status;
		if (perps_json_ts_field(ctx, o, "created_at", PERPS_MS, &f->funding_time_us) ||
			perps_json_decimal_field(ctx, o, "funding_rate", true, &f->rate))
			return ctx->status;
		/* funding accrues continuously over an 8-hour period: no settlement time */
		f->next_funding_time_us = PERPS_TS_NONE;
		f->interval_hours = "8";
		out->n = 1;
		return PERPS_OK;
	}
	return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "paradex: %s is not in the answer",
					  q->market->native_symbol);
}

static PerpsStatus
px_parse_oi(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsResult *out)
{
	PerpsResult tk;

	memset(&tk, 0, sizeof(tk));
	if (px_parse_tickers(ctx, q, PERPS_M_TICKER, root, &tk))
		return ctx->status;
	if (tk.u.tickers[0].open_interest == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"open_interest\" is missing");
	out->u.oi = perps_alloc(ctx, sizeof(PerpsOpenInterest));
	if (out->u.oi == NULL)
		return ctx->status;
	out->u.oi->ts_us = tk.u.tickers[0].ts_us;
	out->u.oi->open_interest = tk.u.tickers[0].open_interest;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
px_levels(PerpsCtx *ctx, struct json_object *root, const char *key, int depth,
		  PerpsLevel **out, int *nout)
{
	struct json_object *arr;
	size_t		n;

	if (perps_json_need(ctx, root, key, json_type_array, &arr))
		return ctx->status;
	n = json_object_array_length(arr);
	if (n > PX_MAX_ROWS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s has %zu levels", key, n);
	if (depth > 0 && (size_t) depth < n)
		n = (size_t) depth;
	*out = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsLevel));
	if (*out == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *lv = json_object_array_get_idx(arr, i);

		if (lv == NULL || !json_object_is_type(lv, json_type_array) || json_object_array_length(lv) < 2)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "%s level %zu is not [price, size]", key, i);
		if (perps_json_decimal(ctx, json_object_array_get_idx(lv, 0), "price", &(*out)[i].price) ||
			perps_json_decimal(ctx, json_object_array_get_idx(lv, 1), "size", &(*out)[i].qty))
			return ctx->status;
	}
	*nout = (int) n;
	return PERPS_OK;
}

static PerpsStatus
px_parse_book(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsResult *out)
{
	PerpsBook  *bk = out->u.book = perps_alloc(ctx, sizeof(PerpsBook));
	struct json_object *mk = perps_json_get(root, "market");

	if (bk == NULL)
		return ctx->status;
	if (mk != NULL && json_object_is_type(mk, json_type_string) &&
		strcmp(json_object_get_string(mk), q->market->native_symbol) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "book is for %.40s, not %s",
						  json_object_get_string(mk), q->market->native_symbol);
	if (px_levels(ctx, root, "bids", q->depth, &bk->bids, &bk->nbids) ||
		px_levels(ctx, root, "asks", q->depth, &bk->asks, &bk->nasks) ||
		perps_json_ts_field(ctx, root, "last_updated_at", PERPS_MS, &bk->ts_us) ||
		perps_json_int64_field(ctx, root, "seq_no", &bk->seq))
		return ctx->status;
	bk->has_seq = true;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
px_parse_funding_history(PerpsCtx *ctx, struct json_object *root, PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;

	if (px_results(ctx, root, &arr, &n))
		return ctx->status;
	out->u.funding = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsFunding));
	if (out->u.funding == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsFunding *f = &out->u.funding[i];

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "funding %zu is not an object", i);
		if (perps_json_ts_field(ctx, o, "created_at", PERPS_MS, &f->funding_time_us) ||
			perps_json_decimal_field(ctx, o, "funding_rate", true, &f->rate))
			return ctx->status;
		f->next_funding_time_us = PERPS_TS_NONE;
		f->interval_hours = "8";
	}
	out->n = (int) n;
	return px_next(ctx, root, out);
}

static PerpsStatus
px_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int64_t		step_us = (int64_t) perps_interval_seconds(q->interval) * 1000000;
	int			rows = q->limit > 0 && q->limit < PX_KLINE_SPAN ? q->limit : PX_KLINE_SPAN;

	if (step_us <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "paradex: unsupported kline interval");
	if (px_results(ctx, root, &arr, &n))
		return ctx->status;
	out->u.klines = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsKline));
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *r = json_object_array_get_idx(arr, i);
		PerpsKline *k = &out->u.klines[i];

		if (r == NULL || !json_object_is_type(r, json_type_array) || json_object_array_length(r) < 6)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "kline %zu is not [time, o, h, l, c, volume]", i);
		if (perps_json_ts(ctx, json_object_array_get_idx(r, 0), PERPS_MS, "kline time", &k->open_time_us) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 1), "open", &k->open) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 2), "high", &k->high) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 3), "low", &k->low) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 4), "close", &k->close) ||
			perps_json_decimal(ctx, json_object_array_get_idx(r, 5), "volume", &k->volume))
			return ctx->status;
		k->close_time_us = k->open_time_us + step_us - 1000;
		k->trade_count = -1;
	}
	out->n = (int) n;
	if (q->since_us != PERPS_TS_NONE)
	{
		int64_t		next = q->since_us + (int64_t) rows * step_us;

		if (q->until_us != PERPS_TS_NONE && next <= q->until_us)
		{
			out->has_more = true;
			out->next_since_us = next;
		}
	}
	return PERPS_OK;
}

static PerpsStatus
px_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;

	if (px_results(ctx, root, &arr, &n))
		return ctx->status;
	out->u.trades = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsTrade));
	if (out->u.trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsTrade *t = &out->u.trades[i];
		const char *side;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "trade %zu is not an object", i);
		if (perps_json_id(ctx, perps_json_get(o, "id"), "id", &t->trade_id) ||
			perps_json_ts_field(ctx, o, "created_at", PERPS_MS, &t->ts_us) ||
			perps_json_decimal_field(ctx, o, "price", true, &t->price) ||
			perps_json_decimal_field(ctx, o, "size", true, &t->qty) ||
			perps_json_string(ctx, perps_json_get(o, "side"), "side", &side))
			return ctx->status;
		if (strcmp(side, "BUY") == 0)
			t->is_buy = true;
		else if (strcmp(side, "SELL") == 0)
			t->is_buy = false;
		else
			return perps_fail(ctx, PERPS_ERR_SHAPE, "side is \"%.20s\", expected BUY or SELL", side);
	}
	out->n = (int) n;
	return px_next(ctx, root, out);
}

static PerpsStatus
px_parse(PerpsCtx *ctx, PerpsMethod m, const PerpsQuery *q, const PerpsBody *bodies, int nbodies,
		 PerpsResult *out)
{
	struct json_object *root = NULL;
	PerpsStatus st;

	memset(out, 0, sizeof(*out));
	out->method = m;
	out->next_since_us = PERPS_TS_NONE;
	out->next_until_us = PERPS_TS_NONE;
	if (bodies == NULL || nbodies < 1)
		return perps_fail(ctx, PERPS_ERR_ARG, "paradex: no response body");
	if (m != PERPS_M_MARKETS && m != PERPS_M_TICKERS &&
		(q == NULL || q->market == NULL || q->market->native_symbol == NULL))
		return perps_fail(ctx, PERPS_ERR_ARG, "paradex: a market is required");
	if (px_open(ctx, &bodies[0], &root) != PERPS_OK)
		return ctx->status;
	switch (m)
	{
		case PERPS_M_MARKETS:
			st = px_parse_markets(ctx, root, out);
			break;
		case PERPS_M_TICKER:
		case PERPS_M_TICKERS:
			st = px_parse_tickers(ctx, q, m, root, out);
			break;
		case PERPS_M_ORDERBOOK:
			st = px_parse_book(ctx, q, root, out);
			break;
		case PERPS_M_FUNDING:
			st = px_parse_funding(ctx, q, root, out);
			break;
		case PERPS_M_FUNDING_HISTORY:
			st = px_parse_funding_history(ctx, root, out);
			break;
		case PERPS_M_OPEN_INTEREST:
			st = px_parse_oi(ctx, q, root, out);
			break;
		case PERPS_M_KLINES:
			st = px_parse_klines(ctx, q, root, out);
			break;
		case PERPS_M_TRADES:
			st = px_parse_trades(ctx, q, root, out);
			break;
		default:
			st = perps_fail(ctx, PERPS_UNSUPPORTED, "paradex: no public endpoint for this method");
			break;
	}
	json_object_put(root);
	if (st != PERPS_OK)
		out->n = 0;
	return st;
}

const PerpsAdapter perps_adapter_paradex = {
	.name = "paradex",
	.native_symbol = px_native_symbol,
	.needs_markets = false,
	.build = px_build,
	.parse = px_parse,
	.rate_limit = {.weight = 1500, .window_ms = 60000},
	.max_kline_page = PX_KLINE_SPAN,
	.max_funding_page = PX_PAGE,
	.max_trades_page = PX_TRADES_PAGE,
	.no_trades_history = NULL,	/* /v1/trades pages through any range */
};
