/*-------------------------------------------------------------------------
 *
 * src/venues/nado.c
 *		Nado (nado.xyz, built by the Vertex team on Ink) REST adapter.
 *		Plain C (see adapter.h).
 *
 * Nado's public API is on two hosts (docs.nado.xyz, "Developer resources /
 * API / Endpoints"): the gateway (exchanges.rest_url,
 * https://gateway.prod.nado.xyz) answers queries of the engine's state at
 * GET /v1/query?type=..., and the archive, its indexer (exchanges.aux_url,
 * https://archive.prod.nado.xyz), answers POST /v1 with a JSON query
 * ({"candlesticks": {...}}) and a few GET /v2/... data endpoints.  The
 * requests marked aux below go to the archive.
 *
 *	 method				request (weight)
 *	 markets			gateway /v1/query?type=symbols&product_type=perp (2)
 *						and gateway /v1/symbols, for the delisted flag (2)
 *	 ticker				archive /v2/contracts?edge=false (2) and gateway
 *						market_liquidity depth 1 (1): the best bid and ask
 *	 all tickers		archive /v2/contracts?edge=false (2)
 *	 order book			gateway /v1/query?type=market_liquidity (1), depth <= 100
 *	 funding rate		archive {"funding_rate": {"product_id"}} (2)
 *	 funding history	archive {"market_snapshots": ...} hourly, <= 100 a call
 *						(max(count * products / 100, 2) = 2)
 *	 open interest		archive /v2/contracts?edge=false (2)
 *	 klines				archive {"candlesticks": ...}, <= 500 a call (1 + limit / 20)
 *	 trades				archive /v2/trades?ticker_id=BTC-PERP_USDT0, <= 500 a call
 *						(1 + limit / 20): the newest only, as its paging
 *						(max_trade_id, back from the newest) reaches no past
 *						time range but by walking every later trade
 *
 * Weights are those of "API / Rate limits" (query weights and archive
 * weights).  Three are not documented and chosen here: /v1/symbols as the
 * symbols query (2), /v2/contracts as the funding-rate query (2), and
 * /v2/trades as the candlesticks (1 + limit / 20, the archive's other paged
 * query of small rows).  Limit: 2400 weight a minute or 400 every 10 s per
 * IP on each host; modelled as one account of 400 every 10 s for both
 * hosts (the stricter window, and never more than either host allows).
 *
 * Symbols: a market is its integer product id ("2" is BTC-PERP), which
 * only the symbols list gives; the global symbol is the product's symbol
 * without "-PERP" (BTC), and the v2 endpoints name a market by its
 * ticker_id, the symbol with "_USDT0" (BTC-PERP_USDT0), built from the
 * global symbol.  Spot products and delisted perpetuals are left out.
 *
 * Units: the gateway and the archive's v1 queries give prices, sizes and
 * rates as x18 fixed point, integers as strings 10^18 times the value
 * ("27235000000000000000000" is 27235): converted by moving the decimal
 * point 18 places in the text (exact; trailing zeros of the fraction
 * dropped).  Sizes are base units (contracts of 1).  The v2 endpoints give
 * plain JSON numbers, kept as their text; price_change_percent_24h is in
 * percent (/ 100 here), a trade's base_filled is negative for a sell (its
 * absolute value is the quantity, trade_type the taker's side).
 *
 * Funding settles every hour, on the hour ("Funding rates": hourly rate =
 * funding index / 24).  The archive's funding_rate is the 24 h rate: the
 * hourly rate is it / 24, the one step that is not exact (1/24 has no
 * finite decimal): rounded half away from zero at the 38th decimal.  The
 * market snapshots' funding_rates are the hourly rates of past hours; the
 * documentation calls them "decimal rates", yet its example is an x18
 * integer (3611102723387), so they are read as x18 like every other rate.
 * A snapshot's time is the last transaction at or before its hour mark,
 * so its row is keyed by the next whole hour (the settlement).
 *
 * min_size: the symbols query calls it the minimum order size in base
 * units, but the engine's error 2094 (OrderSizeTooSmall) checks abs(amount)
 * * price >= min_size and "Fees & Rebates" says the minimum size is
 * measured in notional USDT0 ("if minSize is $100, ..."): min_size is the
 * market's min_notional.  Max leverage is 1 / (1 - long initial weight)
 * where that is a whole number (0.95: 20); the documentation gives no
 * leverage field, and Nado's margin is weight-based (Vertex's model).
 *
 * Times: market_liquidity's timestamp is in ns, the archive's in seconds
 * (strings), v2 trades' in seconds.  Errors: the gateway answers
 * {"status": "failure", "error": "...", "error_code": 2015}; the archive an
 * HTTP error status.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#define ND_KLINE_PAGE 500		/* candlesticks: limit <= 500 */
#define ND_FUNDING_PAGE 100		/* market_snapshots: interval.count <= 100 */
#define ND_TRADES_PAGE 500		/* v2 trades: limit <= 500 (default 100) */
#define ND_TRADES_DEFAULT 100
#define ND_BOOK_MAX 100			/* market_liquidity: depth <= 100 */
#define ND_HOUR_S INT64_C(3600)
#define ND_QUOTE "USDT0"		/* every market is quoted in USDT0 */
#define ND_RATE_DECIMALS 38		/* decimals kept of the hourly rate (24 h rate / 24) */

/* why trades cannot be backfilled from this venue (PerpsAdapter.no_trades_history) */
#define ND_NO_TRADE_HISTORY \
	"Nado's trades (archive /v2/trades) page back by trade id from the newest trade, with no time parameter, so a past time range is reached only by walking every later trade."

/* ---- symbols ---- */

static bool
nd_native_symbol(const char *global, char *buf, size_t buflen)
{
	return false;				/* only the symbols list maps a symbol to its product id */
}

/* A product id: 1 to 9 digits. */
static bool
nd_id_ok(const char *s)
{
	size_t		n;

	if (s == NULL)
		return false;
	n = strlen(s);
	return n >= 1 && n <= 9 && strspn(s, "0123456789") == n;
}

/* A global symbol that names a v2 ticker_id (BTC -> BTC-PERP_USDT0). */
static bool
nd_global_ok(const char *s)
{
	return perps_symbol_ok(s, 32, true, "");
}

/* Nado's candlestick granularities (s) of our intervals; 0: none (30m). */
static int
nd_granularity(const char *interval)
{
	int			s = perps_interval_seconds(interval);

	switch (s)
	{
		case 60:
		case 300:
		case 900:
		case 3600:
		case 14400:
		case 86400:
			return s;
		default:
			return 0;
	}
}

/* ---- exact fixed point ---- */

/* Drops the trailing zeros of a fraction ("27235.000" -> "27235", "0.50" -> "0.5"), in place. */
static const char *
nd_trim(const char *dec)
{
	char	   *s = (char *) dec;
	size_t		n;

	if (s == NULL || strchr(s, '.') == NULL)
		return dec;
	n = strlen(s);
	while (n > 0 && s[n - 1] == '0')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	return dec;
}

/* An x18 fixed-point integer text (optionally signed digits) as its decimal value, exactly. */
static const char *
nd_x18_text(PerpsCtx *ctx, const char *x18, const char *what)
{
	const char *p = x18;
	size_t		n;

	if (x18 == NULL)
		return NULL;
	if (*p == '-')
		p++;
	n = strlen(p);
	if (n == 0 || strspn(p, "0123456789") != n)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "%s \"%.40s\" is not an x18 integer", what, x18);
		return NULL;
	}
	return nd_trim(perps_decimal_shift(ctx, x18, -18));
}

/* obj[key], an x18 integer (string or JSON integer), as its decimal value; NULL when absent or null. */
static PerpsStatus
nd_x18_field(PerpsCtx *ctx, struct json_object *obj, const char *key, bool required, const char **out)
{
	const char *raw;

	*out = NULL;
	if (perps_json_decimal_field(ctx, obj, key, required, &raw))
		return ctx->status;
	if (raw == NULL)
		return PERPS_OK;
	*out = nd_x18_text(ctx, raw, key);
	return ctx->status;
}

/*
 * An x18 integer text divided by a small divisor, as a decimal rounded
 * half away from zero at ND_RATE_DECIMALS places: the digits with
 * ND_RATE_DECIMALS - 18 zeros appended, divided by long division.
 */
static const char *
nd_x18_div(PerpsCtx *ctx, const char *x18, int divisor, const char *what)
{
	char		num[PERPS_DECIMAL_MAX_LEN + ND_RATE_DECIMALS + 2];
	char		quo[sizeof(num)];
	const char *p = x18;
	bool		neg = false;
	size_t		n,
				k = 0;
	int			rem = 0;
	int			extra = ND_RATE_DECIMALS - 18;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	n = strlen(p);
	if (n == 0 || n > PERPS_DECIMAL_MAX_LEN || strspn(p, "0123456789") != n)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "%s \"%.40s\" is not an x18 integer", what, x18);
		return NULL;
	}
	memcpy(num, p, n);
	memset(num + n, '0', (size_t) extra + 1);	/* one more digit, to round on */
	n += (size_t) extra + 1;
	for (size_t i = 0; i < n; i++)
	{
		int			cur = rem * 10 + (num[i] - '0');

		quo[k++] = (char) ('0' + cur / divisor);
		rem = cur % divisor;
	}
	/* round on the last digit: half away from zero */
	{
		bool		up = quo[k - 1] >= '5';
		size_t		i;

		k--;
		for (i = k; up && i > 0; i--)
		{
			if (quo[i - 1] == '9')
				quo[i - 1] = '0';
			else
			{
				quo[i - 1]++;
				up = false;
			}
		}
		if (up)
		{
			memmove(quo + 1, quo, k);
			quo[0] = '1';
			k++;
		}
	}
	{
		char		txt[sizeof(quo) + 2];
		size_t		t = 0;

		if (neg)
			txt[t++] = '-';
		memcpy(txt + t, quo, k);
		t += k;
		txt[t] = '\0';
		return nd_trim(perps_decimal_shift(ctx, txt, -ND_RATE_DECIMALS));
	}
}

/* ---- requests ---- */

/* A GET on the archive host. */
static bool
nd_aux_path(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static bool
nd_aux_path(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
{
	va_list		ap;
	int			n;

	memset(r, 0, sizeof(*r));
	r->aux = true;
	r->weight = weight;
	va_start(ap, fmt);
	n = vsnprintf(r->path, sizeof(r->path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(r->path))
	{
		perps_fail(ctx, PERPS_ERR_ARG, "nado request path too long");
		return false;
	}
	return true;
}

/* A query (JSON body) POSTed to the archive's /v1. */
static bool
nd_archive(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static bool
nd_archive(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
{
	va_list		ap;
	char		buf[512];
	int			n;

	memset(r, 0, sizeof(*r));
	r->post = true;
	r->aux = true;
	r->weight = weight;
	strcpy(r->path, "/v1");
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(buf))
	{
		perps_fail(ctx, PERPS_ERR_ARG, "nado request body too long");
		return false;
	}
	r->body = perps_strndup(ctx, buf, (size_t) n);
	return r->body != NULL;
}

static int
nd_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (perps_request_path(ctx, &reqs[0], 2, "/v1/query?type=symbols&product_type=perp") ||
		perps_request_path(ctx, &reqs[1], 2, "/v1/symbols"))
		return ctx->status;
	return 2;
}

static int
nd_build_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	/* edge=false: this venue's own volume and open interest, not every chain's */
	return nd_aux_path(ctx, &reqs[0], 2, "/v2/contracts?edge=false") ? 1 : ctx->status;
}

static int
nd_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (!nd_aux_path(ctx, &reqs[0], 2, "/v2/contracts?edge=false") ||
		perps_request_path(ctx, &reqs[1], 1, "/v1/query?type=market_liquidity&product_id=%s&depth=1",
						   q->market->native_symbol))
		return ctx->status;
	return 2;
}

static int
nd_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	int			depth = q->depth > 0 && q->depth < ND_BOOK_MAX ? q->depth : ND_BOOK_MAX;

	return perps_request_path(ctx, &reqs[0], 1, "/v1/query?type=market_liquidity&product_id=%s&depth=%d",
							  q->market->native_symbol, depth) ? ctx->status : 1;
}

static int
nd_build_funding(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return nd_archive(ctx, &reqs[0], 2, "{\"funding_rate\":{\"product_id\":%s}}",
					  q->market->native_symbol) ? 1 : ctx->status;
}

/*
 * The marks (multiples of step seconds) of a page's window [start, end]:
 * the newest at or before end, and how many back to the first at or after
 * start, at most rows; at least one (a window between two marks asks for
 * the mark before it, which the range check drops).  Both archive queries
 * that page by time (candlesticks, market snapshots) take a max_time and a
 * count back from it, newest first.
 */
static void
nd_marks(int64_t start, int64_t end, int64_t step, int rows, int64_t *last, int *count)
{
	int64_t		first = start + ((step - start % step) % step);
	int64_t		n;

	*last = end - ((end % step) + step) % step;
	n = *last >= first ? (*last - first) / step + 1 : 1;
	*count = n > rows ? rows : (int) n;
}

static int
nd_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	int			rows = perps_page_size(q, ND_FUNDING_PAGE);
	int64_t		start,
				end,
				last;
	int			count;

	if (!perps_page_window(q, 1000000, (int64_t) rows * ND_HOUR_S, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "nado: since is after until");
	nd_marks(start, end, ND_HOUR_S, rows, &last, &count);
	/* weight max(count * 1 product / 100, 2) */
	return nd_archive(ctx, &reqs[0], count / 100 > 2 ? count / 100 : 2,
					  "{\"market_snapshots\":{\"interval\":{\"count\":%d,\"granularity\":3600,"
					  "\"max_time\":%lld},\"product_ids\":[%s]}}",
					  count, (long long) last, q->market->native_symbol) ? 1 : ctx->status;
}

static int
nd_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	int			g = nd_granularity(q->interval);
	int			rows = perps_page_size(q, ND_KLINE_PAGE);
	int64_t		start,
				end,
				last;
	int			count;

	if (g == 0)
		return perps_fail(ctx, PERPS_UNSUPPORTED,
						  "Nado's candlesticks come in 1m, 5m, 15m, 1h, 2h, 4h, 1d, 1w and 4w granularities, not %s.",
						  q->interval ? q->interval : "(null)");
	/* seconds; the candles opened at or before max_time, newest first */
	if (!perps_page_window(q, 1000000, (int64_t) rows * g, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "nado: since is after until");
	nd_marks(start, end, g, rows, &last, &count);
	return nd_archive(ctx, &reqs[0], 1 + count / 20,
					  "{\"candlesticks\":{\"product_id\":%s,\"granularity\":%d,\"max_time\":%lld,\"limit\":%d}}",
					  q->market->native_symbol, g, (long long) last, count) ? 1 : ctx->status;
}

/* The newest trades (no time range: see ND_NO_TRADE_HISTORY). */
static int
nd_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	int			limit = q->limit > 0 ? perps_page_size(q, ND_TRADES_PAGE) : ND_TRADES_DEFAULT;
	const char *sym = q->market->symbol;

	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_UNSUPPORTED, "%s", ND_NO_TRADE_HISTORY);
	if (!nd_global_ok(sym))
		return perps_fail(ctx, PERPS_ERR_ARG, "nado cannot name the ticker of symbol \"%.40s\"",
						  sym ? sym : "(null)");
	return nd_aux_path(ctx, &reqs[0], 1 + limit / 20, "/v2/trades?ticker_id=%s-PERP_%s&limit=%d",
					   sym, ND_QUOTE, limit) ? 1 : ctx->status;
}

/* ---- parsers ---- */

/*
 * PerpsAdapter.open_body.  The gateway wraps its answers in {"status":
 * "success", "data": ...} and its refusals in {"status": "failure",
 * "error", "error_code"}; the archive answers bare JSON, and refuses with
 * an HTTP error status.
 */
static PerpsStatus
nd_open(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
{
	struct json_object *st;
	struct json_object *err;
	struct json_object *code;

	*root = NULL;
	if (perps_json_parse(ctx, b->data, b->len, root) != PERPS_OK)
	{
		if (b->status != 200)
			return perps_fail(ctx, PERPS_ERR_VENUE, "nado: HTTP status %ld", b->status);
		return ctx->status;
	}
	st = perps_json_get(*root, "status");
	err = perps_json_get(*root, "error");
	code = perps_json_get(*root, "error_code");
	if (b->status != 200 || (st != NULL && !perps_json_str_eq(st, "success")))
	{
		PerpsStatus s;

		s = perps_fail(ctx, PERPS_ERR_VENUE, "nado error %lld (HTTP %ld): %s",
					   code && json_object_is_type(code, json_type_int) ?
					   (long long) json_object_get_int64(code) : 0LL, b->status,
					   err && json_object_is_type(err, json_type_string) ?
					   json_object_get_string(err) : "(no message)");
		json_object_put(*root);
		*root = NULL;
		return s;
	}
	return PERPS_OK;
}

/* The gateway's "data" object. */
static struct json_object *
nd_data(PerpsCtx *ctx, struct json_object *root)
{
	struct json_object *d = NULL;

	if (perps_json_need(ctx, root, "data", json_type_object, &d))
		return NULL;
	return d;
}

/* An integer id of an object (product_id) as text. */
static PerpsStatus
nd_id_text(PerpsCtx *ctx, struct json_object *o, const char *key, const char **out)
{
	int64_t		id;
	char		buf[24];

	if (perps_json_int64_field(ctx, o, key, &id))
		return ctx->status;
	if (id < 0 || id > 999999999)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s %lld is out of range", key, (long long) id);
	snprintf(buf, sizeof(buf), "%lld", (long long) id);
	*out = perps_strndup(ctx, buf, strlen(buf));
	return *out ? PERPS_OK : ctx->status;
}

/* 1 / (1 - w) for an x18 weight w in (0, 1), when it is a whole number; else NULL. */
static const char *
nd_leverage(PerpsCtx *ctx, const char *w_x18)
{
	const int64_t one = INT64_C(1000000000000000000);
	int64_t		w = 0;
	size_t		n;
	char		buf[24];

	if (w_x18 == NULL)
		return NULL;
	n = strlen(w_x18);
	if (n == 0 || n > 18 || strspn(w_x18, "0123456789") != n)
		return NULL;			/* negative, or 1 and more: no leverage to speak of */
	for (size_t i = 0; i < n; i++)
		w = w * 10 + (w_x18[i] - '0');
	if (w <= 0 || w >= one || one % (one - w) != 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%lld", (long long) (one / (one - w)));
	return perps_strndup(ctx, buf, strlen(buf));
}

/* The product ids /v1/symbols says are delisted: *ids, *n of them. */
static PerpsStatus
nd_delisted(PerpsCtx *ctx, struct json_object *list, int64_t **ids, size_t *n)
{
	size_t		len;
	size_t		k = 0;

	*ids = NULL;
	*n = 0;
	if (perps_need_array(ctx, list, "symbols list", &len))
		return ctx->status;
	*ids = perps_alloc_array(ctx, len ? len : 1, sizeof(int64_t));
	if (*ids == NULL)
		return ctx->status;
	for (size_t i = 0; i < len; i++)
	{
		struct json_object *o = json_object_array_get_idx(list, i);
		struct json_object *d;
		int64_t		id;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "symbols list entry %zu is not an object", i);
		if (perps_json_int64_field(ctx, o, "product_id", &id) ||
			perps_json_need(ctx, o, "delisted", json_type_boolean, &d))
			return ctx->status;
		if (json_object_get_boolean(d))
			(*ids)[k++] = id;
	}
	*n = k;
	return PERPS_OK;
}

static PerpsStatus
nd_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *data;
	struct json_object *syms;
	int64_t    *delisted;
	size_t		ndelisted;
	size_t		n;
	int			k = 0;

	if (perps_need_docs(ctx, ndocs, 2) ||
		(data = nd_data(ctx, docs[0])) == NULL ||
		perps_json_need(ctx, data, "symbols", json_type_object, &syms) ||
		nd_delisted(ctx, docs[1], &delisted, &ndelisted))
		return ctx->status;
	n = (size_t) json_object_object_length(syms);
	if (n > PERPS_MAX_ROWS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "symbols has %zu entries", n);
	out->u.markets = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsMarket));
	if (out->u.markets == NULL)
		return ctx->status;
	for (struct json_object_iterator it = json_object_iter_begin(syms), end = json_object_iter_end(syms);
		 !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
	{
		const char *key = json_object_iter_peek_name(&it);
		struct json_object *o = json_object_iter_peek_value(&it);
		PerpsMarket *mk = &out->u.markets[k];
		const char *sym;
		const char *weight;
		size_t		len;
		int64_t		id;
		bool		gone = false;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "symbol \"%.40s\" is not an object", key);
		/* perpetuals only (product_type=perp asks for them; a spot row is skipped all the same) */
		if (!perps_json_str_eq(perps_json_get(o, "type"), "perp"))
			continue;
		if (perps_json_string(ctx, perps_json_get(o, "symbol"), "symbol", &sym) ||
			nd_id_text(ctx, o, "product_id", &mk->native_symbol) ||
			nd_x18_field(ctx, o, "price_increment_x18", true, &mk->tick_size) ||
			nd_x18_field(ctx, o, "size_increment", true, &mk->lot_size) ||
			nd_x18_field(ctx, o, "min_size", false, &mk->min_notional) ||
			perps_json_decimal_field(ctx, o, "long_weight_initial_x18", false, &weight))
			return ctx->status;
		id = strtoll(mk->native_symbol, NULL, 10);
		for (size_t i = 0; i < ndelisted; i++)
			gone |= delisted[i] == id;
		if (gone)
			continue;
		len = strlen(sym);
		if (len <= 5 || strcmp(sym + len - 5, "-PERP") != 0)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "perp symbol \"%.40s\" does not end in -PERP", sym);
		mk->symbol = perps_strndup(ctx, sym, len - 5);
		if (mk->symbol == NULL)
			return ctx->status;
		if (!nd_global_ok(mk->symbol))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "perp symbol \"%.40s\" is not a symbol", sym);
		mk->base = mk->symbol;
		mk->quote = ND_QUOTE;
		mk->contract_size = "1";
		mk->max_leverage = nd_leverage(ctx, weight);
		mk->funding_interval_hours = "1";
		mk->active = true;
		k++;
	}
	out->n = k;
	return ctx->status;
}

/* A /v2/contracts entry as a ticker; *keep false for what is not a perpetual. */
static PerpsStatus
nd_contract(PerpsCtx *ctx, const char *key, struct json_object *o, PerpsTicker *t, bool *keep)
{
	const char *pct;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "contract \"%.40s\" is not an object", key);
	*keep = perps_json_str_eq(perps_json_get(o, "product_type"), "perpetual");
	if (!*keep)
		return PERPS_OK;
	if (nd_id_text(ctx, o, "product_id", &t->native_symbol) ||
		perps_json_decimal_field(ctx, o, "last_price", false, &t->last_price) ||
		perps_json_decimal_field(ctx, o, "mark_price", false, &t->mark_price) ||
		perps_json_decimal_field(ctx, o, "index_price", false, &t->index_price) ||
		perps_json_decimal_field(ctx, o, "base_volume", false, &t->volume_24h) ||
		perps_json_decimal_field(ctx, o, "quote_volume", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, o, "open_interest", false, &t->open_interest) ||
		perps_json_decimal_field(ctx, o, "open_interest_usd", false, &t->open_interest_notional) ||
		perps_json_decimal_field(ctx, o, "price_change_percent_24h", false, &pct))
		return ctx->status;
	/* in percent */
	t->price_change_pct = nd_trim(perps_decimal_shift(ctx, pct, -2));
	t->ts_us = PERPS_TS_NONE;	/* the contracts carry no time */
	return ctx->status;
}

/* The perpetuals of /v2/contracts (a map of ticker_id to contract): all, or want's. */
static PerpsStatus
nd_contracts(PerpsCtx *ctx, struct json_object *root, const char *want, PerpsResult *out)
{
	size_t		n;
	int			k = 0;

	if (perps_need_object(ctx, root, "contracts"))
		return ctx->status;
	n = (size_t) json_object_object_length(root);
	if (n > PERPS_MAX_ROWS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "contracts has %zu entries", n);
	out->u.tickers = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsTicker));
	if (out->u.tickers == NULL)
		return ctx->status;
	for (struct json_object_iterator it = json_object_iter_begin(root), end = json_object_iter_end(root);
		 !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
	{
		const char *key = json_object_iter_peek_name(&it);
		struct json_object *o = json_object_iter_peek_value(&it);
		bool		keep;

		if (nd_contract(ctx, key, o, &out->u.tickers[k], &keep))
			return ctx->status;
		if (!keep)
			continue;
		if (want == NULL)
			k++;
		else if (strcmp(out->u.tickers[k].native_symbol, want) == 0)
		{
			out->n = 1;
			return PERPS_OK;
		}
	}
	if (want != NULL)
		return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "nado: no contract for product %s", want);
	out->n = k;
	return PERPS_OK;
}

/* Book levels read as x18 texts, converted in place to decimals; a negative size is refused. */
static PerpsStatus
nd_x18_levels(PerpsCtx *ctx, PerpsLevel *lv, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (lv[i].qty[0] == '-')
			return perps_fail(ctx, PERPS_ERR_SHAPE, "nado book size \"%.40s\" is negative", lv[i].qty);
		lv[i].price = nd_x18_text(ctx, lv[i].price, "price");
		lv[i].qty = nd_x18_text(ctx, lv[i].qty, "size");
		if (ctx->status != PERPS_OK)
			return ctx->status;
	}
	return PERPS_OK;
}

/* market_liquidity's levels: [[price_x18, size_x18], ...] as decimals. */
static PerpsStatus
nd_levels(PerpsCtx *ctx, struct json_object *data, const char *key, int depth, PerpsLevel **lv, int *n)
{
	if (perps_parse_levels_field(ctx, data, key, depth, lv, n))
		return ctx->status;
	return nd_x18_levels(ctx, *lv, *n);
}

/* The book of a market_liquidity answer, checked to be the product asked for. */
static PerpsStatus
nd_book(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, int depth, PerpsBook *bk)
{
	struct json_object *data = nd_data(ctx, root);
	const char *id;

	if (data == NULL ||
		nd_id_text(ctx, data, "product_id", &id) ||
		perps_json_ts_field(ctx, data, "timestamp", PERPS_NS, &bk->ts_us) ||
		perps_json_int64_field(ctx, data, "timestamp", &bk->seq) ||
		nd_levels(ctx, data, "bids", depth, &bk->bids, &bk->nbids) ||
		nd_levels(ctx, data, "asks", depth, &bk->asks, &bk->nasks))
		return ctx->status;
	if (strcmp(id, q->market->native_symbol) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "nado answered the book of product %s for %s",
						  id, q->market->native_symbol);
	/*
	 * The snapshot's time in ns is its sequence: the stream's book_depth
	 * updates continue it (see nd_ws_seq_rule).
	 */
	bk->has_seq = true;
	return PERPS_OK;
}

static PerpsStatus
nd_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	return nd_contracts(ctx, docs[0], NULL, out);
}

static PerpsStatus
nd_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	PerpsBook	bk;
	PerpsTicker *t;

	memset(&bk, 0, sizeof(bk));
	if (perps_need_docs(ctx, ndocs, 2) ||
		nd_contracts(ctx, docs[0], q->market->native_symbol, out) ||
		nd_book(ctx, q, docs[1], 1, &bk))
		return ctx->status;
	t = &out->u.tickers[0];
	t->ts_us = bk.ts_us;
	if (bk.nbids > 0)
	{
		t->best_bid_price = bk.bids[0].price;
		t->best_bid_qty = bk.bids[0].qty;
	}
	if (bk.nasks > 0)
	{
		t->best_ask_price = bk.asks[0].price;
		t->best_ask_qty = bk.asks[0].qty;
	}
	return PERPS_OK;
}

static PerpsStatus
nd_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	PerpsResult tk;

	memset(&tk, 0, sizeof(tk));
	if (nd_contracts(ctx, docs[0], q->market->native_symbol, &tk))
		return ctx->status;
	return perps_open_interest_of(ctx, &tk.u.tickers[0], out);
}

static PerpsStatus
nd_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	PerpsBook  *bk = out->u.book = perps_alloc(ctx, sizeof(PerpsBook));

	if (bk == NULL || nd_book(ctx, q, docs[0], q->depth > 0 ? q->depth : 0, bk))
		return ctx->status;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
nd_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *root = docs[0];
	PerpsFunding *f;
	const char *id;
	const char *rate;
	int64_t		hour_us = ND_HOUR_S * 1000000;

	if (perps_need_object(ctx, root, "funding rate") ||
		nd_id_text(ctx, root, "product_id", &id))
		return ctx->status;
	if (strcmp(id, q->market->native_symbol) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "nado answered the funding rate of product %s for %s",
						  id, q->market->native_symbol);
	f = out->u.funding = perps_alloc(ctx, sizeof(PerpsFunding));
	if (f == NULL ||
		perps_json_decimal_field(ctx, root, "funding_rate_x18", true, &rate) ||
		perps_json_ts_field(ctx, root, "update_time", PERPS_S, &f->funding_time_us))
		return ctx->status;
	/* the 24 h rate; settled hourly: the hour's rate is a 24th of it */
	f->rate = nd_x18_div(ctx, rate, 24, "funding_rate_x18");
	if (f->rate == NULL)
		return ctx->status;
	f->interval_hours = "1";
	/* paid at the next whole hour after the rate's time: the row's settlement */
	f->next_funding_time_us = f->funding_time_us - f->funding_time_us % hour_us + hour_us;
	if (f->funding_time_us < 0 && f->funding_time_us % hour_us != 0)
		f->next_funding_time_us -= hour_us;
	f->funding_time_us = f->next_funding_time_us;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
nd_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						 PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int			k = 0;
	int			rows = perps_page_size(q, ND_FUNDING_PAGE);
	int64_t		hour_us = ND_HOUR_S * 1000000;
	int64_t		latest = PERPS_TS_NONE;

	out->u.funding = perps_rows_field(ctx, docs[0], "snapshots", sizeof(PerpsFunding), &arr, &n);
	if (out->u.funding == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct json_object *rates;
		PerpsFunding *f = &out->u.funding[k];
		int64_t		t;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "snapshot %zu is not an object", i);
		if (perps_json_ts_field(ctx, o, "timestamp", PERPS_S, &t))
			return ctx->status;
		rates = perps_json_get(o, "funding_rates");
		if (rates != NULL && !json_object_is_type(rates, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "snapshot %zu funding_rates is not an object", i);
		/* a snapshot from before the market's first funding has no rate for it */
		if (rates == NULL || perps_json_get(rates, q->market->native_symbol) == NULL)
			continue;
		if (nd_x18_field(ctx, rates, q->market->native_symbol, true, &f->rate))
			return ctx->status;
		/* the last transaction at or before the hour mark: keyed by that hour */
		f->funding_time_us = t % hour_us == 0 ? t : t - t % hour_us + (t > 0 ? hour_us : 0);
		f->interval_hours = "1";
		f->next_funding_time_us = PERPS_TS_NONE;
		if (latest == PERPS_TS_NONE || f->funding_time_us > latest)
			latest = f->funding_time_us;
		k++;
	}
	out->n = k;
	qsort(out->u.funding, (size_t) k, sizeof(PerpsFunding), perps_cmp_funding);
	/* the page asked for the rows hours up to since + rows hours: go on after it */
	perps_page_forward(q, rows, hour_us, latest, n, out);
	return PERPS_OK;
}

static PerpsStatus
nd_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int			rows = perps_page_size(q, ND_KLINE_PAGE);
	int64_t		step_us = (int64_t) nd_granularity(q->interval) * 1000000;
	int64_t		latest = PERPS_TS_NONE;

	if (step_us <= 0)
		return perps_fail(ctx, PERPS_UNSUPPORTED, "Nado has no %s candlesticks.",
						  q->interval ? q->interval : "(null)");
	out->u.klines = perps_rows_field(ctx, docs[0], "candlesticks", sizeof(PerpsKline), &arr, &n);
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsKline *k = &out->u.klines[i];

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "candlestick %zu is not an object", i);
		if (perps_json_ts_field(ctx, o, "timestamp", PERPS_S, &k->open_time_us) ||
			nd_x18_field(ctx, o, "open_x18", true, &k->open) ||
			nd_x18_field(ctx, o, "high_x18", true, &k->high) ||
			nd_x18_field(ctx, o, "low_x18", true, &k->low) ||
			nd_x18_field(ctx, o, "close_x18", true, &k->close) ||
			nd_x18_field(ctx, o, "volume", true, &k->volume))
			return ctx->status;
		if (k->volume[0] == '-')
			return perps_fail(ctx, PERPS_ERR_SHAPE, "candlestick %zu has a negative volume", i);
		k->close_time_us = k->open_time_us + step_us - 1000;
		k->turnover = NULL;		/* not given */
		k->trade_count = -1;
		if (latest == PERPS_TS_NONE || k->open_time_us > latest)
			latest = k->open_time_us;
	}
	out->n = (int) n;
	qsort(out->u.klines, n, sizeof(PerpsKline), perps_cmp_kline);
	/* the page asked for rows candles ending at since + rows intervals: go on after it */
	perps_page_forward(q, rows, step_us, latest, n, out);
	return PERPS_OK;
}

static PerpsStatus
nd_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	size_t		n;
	int			limit = q->limit > 0 ? perps_page_size(q, ND_TRADES_PAGE) : ND_TRADES_DEFAULT;

	out->u.trades = perps_rows(ctx, docs[0], "trades", sizeof(PerpsTrade), &n);
	if (out->u.trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(docs[0], i);
		PerpsTrade *t = &out->u.trades[i];
		const char *base;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "trade %zu is not an object", i);
		if (perps_json_id(ctx, perps_json_get(o, "trade_id"), "trade_id", &t->trade_id) ||
			perps_json_decimal_field(ctx, o, "price", true, &t->price) ||
			perps_json_decimal_field(ctx, o, "base_filled", true, &base) ||
			perps_json_ts_field(ctx, o, "timestamp", PERPS_S, &t->ts_us) ||
			perps_taker_side(ctx, perps_json_get(o, "trade_type"), "buy", "sell", &t->is_buy))
			return ctx->status;
		/* base_filled is signed by the taker's side: the quantity is its absolute value */
		t->qty = base[0] == '-' || base[0] == '+' ? base + 1 : base;
	}
	out->n = (int) n;
	perps_newest_trades(out, limit);
	return PERPS_OK;
}

/* ---- the stream side: wss://gateway.prod.nado.xyz/v1/subscribe ----
 *
 * docs.nado.xyz, "Developer resources / API / Subscriptions" (its Streams
 * and Events pages).  One connection carries every watched market: a
 * subscription per stream and product,
 *
 *   {"method":"subscribe","stream":{"type":"book_depth","product_id":4},"id":1}
 *
 * for book_depth, trade and best_bid_offer; latest_candlestick with a
 * "granularity" in seconds per kline interval; and one funding_rate with
 * product_id null (every product: the rates of markets not watched are
 * ignored).  The venue answers {"result":null,"id":N}.  Its refusals are
 * not shown in the documentation: a frame with an "error" member is taken
 * as one (the gateway's own {"status":"failure","error":...,"error_code"}
 * shape, chosen here).  Frames of the other streams (fill, liquidation,
 * ...) are control frames: nothing of ours.
 *
 * Events, each one frame, "type" naming the stream, "product_id" the
 * market (the native symbol, as on the REST side), prices and sizes x18
 * (converted exactly, as on the REST side), times in ns as strings:
 *
 *   trade             timestamp, price, taker_qty (= maker_qty, the filled
 *                     amount), is_taker_buyer.  No trade id: the stored id
 *                     is "<timestamp ns>-<b|s>-<price x18>-<qty x18>", the
 *                     same for the same fill however often it comes (two
 *                     fills equal in all four would be stored once).
 *   best_bid_offer    timestamp, bid_price, bid_qty, ask_price, ask_qty: the
 *                     ticker's best levels (a delta: nothing else changes).
 *   book_depth        the changes of the last 50 ms: bids and asks as
 *                     [[price, new size]] (size 0 deletes the level),
 *                     min_timestamp and max_timestamp of the engine events
 *                     they aggregate, last_max_timestamp the max_timestamp
 *                     of the product's previous book_depth event.  Deltas
 *                     only: the book comes from the gateway's
 *                     market_liquidity query (rest_snapshot; its timestamp
 *                     in ns is its sequence).  The rule ("Events / Book
 *                     Depth"): apply the events whose max_timestamp is past
 *                     the snapshot's; an event whose last_max_timestamp is
 *                     not the previous event's max_timestamp means events
 *                     were lost: resync from a new snapshot.  seq is
 *                     max_timestamp, prev_seq last_max_timestamp (see
 *                     nd_ws_seq_rule).
 *   funding_rate      every 20 s: funding_rate_x18 (the 24 h rate, as the
 *                     archive's funding_rate query gives it) and update_time
 *                     (s).  The hour's rate is a 24th of it (rounded at the
 *                     38th decimal, as on the REST side), settled at the next
 *                     whole hour after update_time.
 *   latest_candlestick
 *                     on every trade: the candle of a granularity as it
 *                     stands, open_x18 high_x18 low_x18 close_x18 volume
 *                     (x18, base units).  Its "timestamp" is the candle's
 *                     open time: in seconds here (the Events page's example,
 *                     1234567890000, says no unit; the candles of the
 *                     archive are keyed by their start in seconds, and the
 *                     SDKs' examples of this event are multiples of the
 *                     granularity in seconds).  No closed flag: a candle's
 *                     row is replaced by each later event of it, the last
 *                     one being the closed candle.  Granularities 60 300 900
 *                     3600 14400 86400 are 1m 5m 15m 1h 4h 1d; there is no
 *                     30m.
 *
 * Not streamed: the ticker's last price, mark and index prices, 24 h
 * figures and open interest (no public stream carries them; the collector
 * polls them by REST).  Trades have no id and REST trades (archive
 * /v2/trades) have other ids and times in whole seconds, so trades the
 * stream missed are not refetched: the gap is recorded by time.
 *
 * Keep-alive: "You must send ping frames every 30 seconds": WebSocket
 * pings (the worker sends one every 15 s).  The documentation gives no
 * limit of subscriptions per connection nor a connection lifetime; one
 * connection holds at most PERPS_WS_MAX_MESSAGES subscriptions here.  It
 * also asks for permessage-deflate (Sec-WebSocket-Extensions), which the
 * worker's connections do not offer (see the README).
 */

#define ND_WS_MAX_MESSAGE (4 * 1024 * 1024)
#define ND_WS_MAX_LEVELS 20000
#define ND_WS_MSG_MAX 160
#define ND_WS_HOUR_US INT64_C(3600000000)

/* The stream's name of a kline interval: its granularity in seconds; NULL: none (30m). */
static const char *
nd_ws_kline_channel(const char *interval)
{
	switch (nd_granularity(interval))
	{
		case 60:
			return "60";
		case 300:
			return "300";
		case 900:
			return "900";
		case 3600:
			return "3600";
		case 14400:
			return "14400";
		case 86400:
			return "86400";
		default:
			return NULL;
	}
}

/* {"method":"subscribe","stream":{"type":<type>,"product_id":<product>[,"granularity":g]},"id":<id>} */
static PerpsStatus
nd_ws_msg(PerpsCtx *ctx, const char *type, const char *product, const char *granularity, int id,
		  PerpsWsMessage *out)
{
	char		buf[ND_WS_MSG_MAX];
	int			n;

	if (granularity != NULL)
		n = snprintf(buf, sizeof(buf),
					 "{\"method\":\"subscribe\",\"stream\":{\"type\":\"%s\",\"product_id\":%s,\"granularity\":%s},\"id\":%d}",
					 type, product, granularity, id);
	else
		n = snprintf(buf, sizeof(buf),
					 "{\"method\":\"subscribe\",\"stream\":{\"type\":\"%s\",\"product_id\":%s},\"id\":%d}",
					 type, product, id);
	if (n < 0 || (size_t) n >= sizeof(buf))
		return perps_fail(ctx, PERPS_ERR_ARG, "nado subscribe message too long");
	out->data = perps_strndup(ctx, buf, (size_t) n);
	out->len = (size_t) n;
	return out->data ? PERPS_OK : ctx->status;
}

static int
nd_ws_subscribe(PerpsCtx *ctx, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	static const char *const kinds[3] = {"book_depth", "trade", "best_bid_offer"};
	const char *grans[PERPS_KLINE_MAX];
	int			ngrans = 0;
	int			k = 0;

	for (int i = 0; i < want->nintervals && ngrans < PERPS_KLINE_MAX; i++)
	{
		const char *g = nd_ws_kline_channel(want->intervals[i]);

		if (g != NULL)
			grans[ngrans++] = g;
	}
	if (want->n < 0 || (size_t) want->n * (3 + ngrans) + 1 > PERPS_WS_MAX_MESSAGES)
		return perps_fail(ctx, PERPS_ERR_ARG, "nado cannot stream %d markets with %d kline intervals on one connection",
						  want->n, ngrans);
	if (want->n == 0)
		return 0;
	/* the funding rates of every product, in one subscription */
	if (nd_ws_msg(ctx, "funding_rate", "null", NULL, k + 1, &out[k]) != PERPS_OK)
		return ctx->status;
	k++;
	for (int i = 0; i < want->n; i++)
	{
		if (!nd_id_ok(want->natives[i]))
			return perps_fail(ctx, PERPS_ERR_ARG, "nado product id \"%.40s\" is not valid", want->natives[i]);
		for (int c = 0; c < 3; c++, k++)
			if (nd_ws_msg(ctx, kinds[c], want->natives[i], NULL, k + 1, &out[k]) != PERPS_OK)
				return ctx->status;
		for (int g = 0; g < ngrans; g++, k++)
			if (nd_ws_msg(ctx, "latest_candlestick", want->natives[i], grans[g], k + 1, &out[k]) != PERPS_OK)
				return ctx->status;
	}
	return k;
}

/* obj[key]: a time in ns (string or integer), as ns and as µs. */
static PerpsStatus
nd_ws_ns(PerpsCtx *ctx, struct json_object *obj, const char *key, int64_t *ns, int64_t *us)
{
	if (perps_json_int64_field(ctx, obj, key, ns) != PERPS_OK)
		return ctx->status;
	if (*ns <= 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "nado %s %lld is not a time", key, (long long) *ns);
	if (us != NULL)
		*us = *ns / 1000;
	return PERPS_OK;
}

/* obj[key], an x18 integer that must not be negative (sizes, volumes), as its decimal value. */
static PerpsStatus
nd_x18_size(PerpsCtx *ctx, struct json_object *obj, const char *key, const char **raw, const char **out)
{
	if (perps_json_decimal_field(ctx, obj, key, true, raw) != PERPS_OK)
		return ctx->status;
	if ((*raw)[0] == '-')
		return perps_fail(ctx, PERPS_ERR_SHAPE, "nado %s \"%.40s\" is negative", key, *raw);
	*out = nd_x18_text(ctx, *raw, key);
	return ctx->status;
}

static PerpsStatus
nd_ws_book(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev)
{
	int64_t		min_ns;

	ev->kind = PERPS_EV_BOOK;
	ev->snapshot = false;		/* deltas only: the book comes from REST */
	if (nd_ws_ns(ctx, root, "max_timestamp", &ev->seq, &ev->ts_us) != PERPS_OK ||
		nd_ws_ns(ctx, root, "min_timestamp", &min_ns, NULL) != PERPS_OK ||
		perps_json_int64_field(ctx, root, "last_max_timestamp", &ev->prev_seq) != PERPS_OK)
		return ctx->status;
	/* the first event of a product may follow none (0) */
	if (min_ns > ev->seq || ev->prev_seq < 0 || ev->prev_seq >= ev->seq)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "nado book_depth from %lld over %lld..%lld is out of order",
						  (long long) ev->prev_seq, (long long) min_ns, (long long) ev->seq);
	ev->has_prev_seq = true;
	/* what a gap lost ends at last_max_timestamp: the update covers the times after it */
	ev->first_seq = ev->prev_seq + 1;
	ev->has_first_seq = true;
	if (perps_ws_levels(ctx, "nado", root, "bids", "bid", ND_WS_MAX_LEVELS, &ev->bids, &ev->nbids) != PERPS_OK ||
		perps_ws_levels(ctx, "nado", root, "asks", "ask", ND_WS_MAX_LEVELS, &ev->asks, &ev->nasks) != PERPS_OK ||
		nd_x18_levels(ctx, ev->bids, ev->nbids) != PERPS_OK ||
		nd_x18_levels(ctx, ev->asks, ev->nasks) != PERPS_OK)
		return ctx->status;
	return PERPS_OK;
}

static PerpsStatus
nd_ws_trade(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev)
{
	PerpsTrade *t;
	struct json_object *buyer;
	const char *price_raw;
	const char *qty_raw;
	int64_t		ns;
	size_t		idlen;
	char	   *id;

	ev->kind = PERPS_EV_TRADES;
	t = ev->trades = perps_alloc(ctx, sizeof(PerpsTrade));
	if (t == NULL ||
		nd_ws_ns(ctx, root, "timestamp", &ns, &t->ts_us) != PERPS_OK ||
		perps_json_decimal_field(ctx, root, "price", true, &price_raw) != PERPS_OK ||
		nd_x18_size(ctx, root, "taker_qty", &qty_raw, &t->qty) != PERPS_OK ||
		perps_json_need(ctx, root, "is_taker_buyer", json_type_boolean, &buyer) != PERPS_OK)
		return ctx->status;
	if ((t->price = nd_x18_text(ctx, price_raw, "price")) == NULL)
		return ctx->status;
	t->is_buy = json_object_get_boolean(buyer);
	ev->ts_us = t->ts_us;
	/* no id on the wire: the fill's time, side, price and size (see above) */
	idlen = strlen(price_raw) + strlen(qty_raw) + 32;
	if ((id = perps_alloc(ctx, idlen)) == NULL)
		return ctx->status;
	snprintf(id, idlen, "%lld-%c-%s-%s", (long long) ns, t->is_buy ? 'b' : 's', price_raw, qty_raw);
	t->trade_id = id;
	ev->ntrades = 1;
	return PERPS_OK;
}

static PerpsStatus
nd_ws_bbo(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;
	const char *raw;
	int64_t		ns;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;		/* the best levels only: the rest of the ticker stays */
	if (nd_ws_ns(ctx, root, "timestamp", &ns, &ev->ts_us) != PERPS_OK ||
		nd_x18_field(ctx, root, "bid_price", true, &t->best_bid_price) != PERPS_OK ||
		nd_x18_size(ctx, root, "bid_qty", &raw, &t->best_bid_qty) != PERPS_OK ||
		nd_x18_field(ctx, root, "ask_price", true, &t->best_ask_price) != PERPS_OK ||
		nd_x18_size(ctx, root, "ask_qty", &raw, &t->best_ask_qty) != PERPS_OK)
		return ctx->status;
	t->native_symbol = ev->native_symbol;
	t->ts_us = ev->ts_us;
	return PERPS_OK;
}

static PerpsStatus
nd_ws_funding(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev)
{
	const char *rate;
	int64_t		ns;
	int64_t		upd;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	if (nd_ws_ns(ctx, root, "timestamp", &ns, &ev->ts_us) != PERPS_OK ||
		perps_json_decimal_field(ctx, root, "funding_rate_x18", true, &rate) != PERPS_OK ||
		perps_json_ts_field(ctx, root, "update_time", PERPS_S, &upd) != PERPS_OK)
		return ctx->status;
	/* the 24 h rate; settled hourly: the hour's rate is a 24th of it */
	if ((ev->funding_rate = nd_x18_div(ctx, rate, 24, "funding_rate_x18")) == NULL)
		return ctx->status;
	/* paid at the next whole hour after the rate's time */
	if (upd < 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "nado funding update_time is before 1970");
	ev->next_funding_time_us = (upd / ND_WS_HOUR_US + 1) * ND_WS_HOUR_US;
	ev->funding_interval_hours = "1";
	ev->ticker.native_symbol = ev->native_symbol;
	ev->ticker.ts_us = ev->ts_us;
	return PERPS_OK;
}

static PerpsStatus
nd_ws_candle(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev)
{
	static const char *const names[] = {"1m", "5m", "15m", "1h", "4h", "1d"};
	PerpsKline *k = &ev->kline;
	const char *raw;
	int64_t		g;

	ev->kind = PERPS_EV_KLINE;
	if (perps_json_int64_field(ctx, root, "granularity", &g) != PERPS_OK)
		return ctx->status;
	/* the interval of this granularity (1m .. 1d); the others (2h, 1w, 4w) are not ours */
	ev->kline_interval = NULL;
	for (int i = 0; i < (int) (sizeof(names) / sizeof(names[0])); i++)
		if (perps_interval_seconds(names[i]) == g)
			ev->kline_interval = perps_interval_name(names[i]);
	if (ev->kline_interval == NULL)
	{
		ev->kind = PERPS_EV_CONTROL;
		return PERPS_OK;
	}
	if (perps_json_ts_field(ctx, root, "timestamp", PERPS_S, &k->open_time_us) != PERPS_OK ||
		nd_x18_field(ctx, root, "open_x18", true, &k->open) != PERPS_OK ||
		nd_x18_field(ctx, root, "high_x18", true, &k->high) != PERPS_OK ||
		nd_x18_field(ctx, root, "low_x18", true, &k->low) != PERPS_OK ||
		nd_x18_field(ctx, root, "close_x18", true, &k->close) != PERPS_OK ||
		nd_x18_size(ctx, root, "volume", &raw, &k->volume) != PERPS_OK)
		return ctx->status;
	if (k->open_time_us % (g * 1000000) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "nado candle of %lld s opens off its granularity", (long long) g);
	k->close_time_us = k->open_time_us + g * 1000000 - 1000;
	k->turnover = NULL;			/* not given */
	k->trade_count = -1;
	ev->kline_closed = false;	/* never said: the next candle's events close it */
	ev->ts_us = k->open_time_us;
	return PERPS_OK;
}

static PerpsStatus
nd_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *v;
	PerpsStreamEvent *ev;
	const char *type;

	if (perps_ws_json_begin(ctx, "nado", data, len, binary, ND_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	ev = perps_ws_event_new(ctx);
	if (ev == NULL)
		goto done;

	/* a refusal (shape chosen: see above) */
	if ((v = perps_json_get(root, "error")) != NULL && !json_object_is_type(v, json_type_null))
	{
		ev->kind = PERPS_EV_CONTROL;
		ev->is_error = true;
		if (json_object_is_type(v, json_type_string))
		{
			if (perps_json_string(ctx, v, "error", &ev->message) != PERPS_OK)
				goto done;
		}
		else
			ev->message = "nado error without a message";
		goto one;
	}
	v = perps_json_get(root, "type");
	if (v == NULL)
	{
		/* {"result":null,"id":N}: a request answered */
		if (perps_json_get(root, "id") == NULL)
		{
			perps_fail(ctx, PERPS_ERR_SHAPE, "nado frame has neither a type nor an id");
			goto done;
		}
		ev->kind = PERPS_EV_CONTROL;
		goto one;
	}
	if (perps_json_string(ctx, v, "type", &type) != PERPS_OK)
		goto done;
	if (strcmp(type, "book_depth") != 0 && strcmp(type, "trade") != 0 &&
		strcmp(type, "best_bid_offer") != 0 && strcmp(type, "funding_rate") != 0 &&
		strcmp(type, "latest_candlestick") != 0)
	{
		ev->kind = PERPS_EV_CONTROL;	/* fill, liquidation, ...: nothing we subscribe */
		goto one;
	}
	ev->channel = type;
	if (nd_id_text(ctx, root, "product_id", &ev->native_symbol) != PERPS_OK)
		goto done;
	if (strcmp(type, "book_depth") == 0)
		nd_ws_book(ctx, root, ev);
	else if (strcmp(type, "trade") == 0)
		nd_ws_trade(ctx, root, ev);
	else if (strcmp(type, "best_bid_offer") == 0)
		nd_ws_bbo(ctx, root, ev);
	else if (strcmp(type, "funding_rate") == 0)
		nd_ws_funding(ctx, root, ev);
	else
		nd_ws_candle(ctx, root, ev);

one:
	return perps_ws_json_end_one(ctx, root, ev, out);
done:
	return perps_ws_json_end(ctx, root, out);
}

/*
 * "Events / Book Depth": an update continues the book when its
 * last_max_timestamp is the max_timestamp of the update before it; one the
 * book is past (its max_timestamp at or before the book's) is old.  After
 * a REST snapshot the book's sequence is the snapshot's timestamp, which
 * no update's last_max_timestamp names: the update that spans it (last
 * max at or before it, max after it) continues it.  Anything else starts
 * after updates the book never had: a gap.  No book: the worker fetches
 * the snapshot (GAP).
 */
static PerpsSeqCheck
nd_ws_seq_rule(bool have_book, int64_t last_seq, const PerpsStreamEvent *ev)
{
	if (!have_book)
		return PERPS_SEQ_GAP;
	if (ev->has_prev_seq && ev->prev_seq == last_seq)
		return PERPS_SEQ_APPLY;
	if (ev->seq <= last_seq)
		return PERPS_SEQ_STALE;
	if (ev->has_prev_seq && ev->prev_seq < last_seq)
		return PERPS_SEQ_APPLY;
	return PERPS_SEQ_GAP;
}

static const PerpsStreamAdapter nd_stream = {
	.quote = ND_QUOTE,
	.qty_in_contracts = false,
	.trade_ids_sequential = false,
	.book_depth = 0,			/* the stream has no depth: every change */
	.ping_message = NULL,		/* WebSocket ping frames */
	.max_message_bytes = ND_WS_MAX_MESSAGE,
	.rest_snapshot = true,
	.snapshot_depth = ND_BOOK_MAX,
	.kline_channel = nd_ws_kline_channel,
	.subscribe = nd_ws_subscribe,
	.parse_frame = nd_ws_parse,
	.seq_rule = nd_ws_seq_rule,
	.no_trade_refetch = "Nado's streamed trades carry no id, and its REST trades (archive /v2/trades) have ids of their own and times in whole seconds, so a refetch could not tell the trades it stored already from the others.",
};

const PerpsAdapter perps_adapter_nado = {
	.name = "nado",
	.native_symbol = nd_native_symbol,
	.needs_markets = true,
	.symbol_ok = nd_id_ok,
	.symbol_what = "a product id (from the markets list)",
	.open_body = nd_open,
	.methods = {
		[PERPS_M_MARKETS] = {.build = nd_build_markets, .parse = nd_parse_markets},
		[PERPS_M_TICKER] = {.build = nd_build_ticker, .parse = nd_parse_ticker},
		[PERPS_M_TICKERS] = {.build = nd_build_tickers, .parse = nd_parse_tickers},
		[PERPS_M_ORDERBOOK] = {.build = nd_build_orderbook, .parse = nd_parse_orderbook},
		[PERPS_M_FUNDING] = {.build = nd_build_funding, .parse = nd_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = nd_build_funding_history, .parse = nd_parse_funding_history},
		/* the same request as all tickers */
		[PERPS_M_OPEN_INTEREST] = {.build = nd_build_tickers, .parse = nd_parse_open_interest},
		[PERPS_M_KLINES] = {.build = nd_build_klines, .parse = nd_parse_klines},
		[PERPS_M_TRADES] = {.build = nd_build_trades, .parse = nd_parse_trades},
	},
	/* 400 weight every 10 s per IP (2400 a minute), gateway and archive alike */
	.rate_limit = {.weight = 400, .window_ms = 10000},
	.max_kline_page = ND_KLINE_PAGE,
	.max_funding_page = ND_FUNDING_PAGE,
	.max_trades_page = ND_TRADES_PAGE,
	.no_trades_history = ND_NO_TRADE_HISTORY,
	.stream = &nd_stream,
};
