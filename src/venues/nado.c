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

/* market_liquidity's levels: [[price_x18, size_x18], ...] as decimals. */
static PerpsStatus
nd_levels(PerpsCtx *ctx, struct json_object *data, const char *key, int depth, PerpsLevel **lv, int *n)
{
	if (perps_parse_levels_field(ctx, data, key, depth, lv, n))
		return ctx->status;
	for (int i = 0; i < *n; i++)
	{
		(*lv)[i].price = nd_x18_text(ctx, (*lv)[i].price, "price");
		(*lv)[i].qty = nd_x18_text(ctx, (*lv)[i].qty, "size");
		if (ctx->status != PERPS_OK)
			return ctx->status;
	}
	return PERPS_OK;
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
		nd_levels(ctx, data, "bids", depth, &bk->bids, &bk->nbids) ||
		nd_levels(ctx, data, "asks", depth, &bk->asks, &bk->nasks))
		return ctx->status;
	if (strcmp(id, q->market->native_symbol) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "nado answered the book of product %s for %s",
						  id, q->market->native_symbol);
	bk->has_seq = false;
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
	.stream = NULL,
};
