/*-------------------------------------------------------------------------
 *
 * src/venues/kucoin.c
 *		KuCoin Futures public REST (api-futures.kucoin.com): USDT-margined
 *		perpetual contracts (type FFWCSX, linear).
 *
 * Symbols: BTC <-> XBTUSDTM (XBT is KuCoin's name for BTC), ETH <-> ETHUSDTM.
 * Every answer is {"code":"200000","data":...}; any other code is a venue
 * error carrying "msg".
 *
 * Units: sizes in books, trades, klines and open interest are contract
 * counts; PerpsResult.qty_mult is set to the market's multiplier (0.001 BTC
 * per XBTUSDTM contract) and the caller multiplies.  The contract details
 * mix units (volumeOf24h is already in base currency, openInterest is in
 * contracts), so the ticker methods convert to base units here, exactly,
 * and leave qty_mult unset.
 *
 * Times: ticker, book and trade "ts" are 19-digit nanoseconds; kline times,
 * funding timePoint/fundingTime and funding history timepoint are ms.  The
 * nanosecond fields are read by their digit count, so a venue switching one
 * of them to ms still reads right.
 *
 * Plain C (see adapter.h): no PostgreSQL API, no I/O.
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
#define KC_NO_TRADE_HISTORY \
	"KuCoin Futures serves only the last 100 trades (/api/v1/trade/history): no trade history over a time range."

#define KC_KLINE_PAGE 500		/* /api/v1/kline/query: at most 500 per request */
#define KC_FUNDING_PAGE 100		/* /api/v1/contract/funding-rates */
#define KC_TRADES_PAGE 100		/* /api/v1/trade/history: the last 100 trades */

/* ---- small helpers ---- */

/* Native symbols go into paths and query strings: only [A-Za-z0-9._-], up to 64. */
static bool
kc_safe_symbol(const char *s)
{
	return perps_symbol_ok(s, 64, true, "._-");
}

static bool
kc_native_symbol(const char *global, char *buf, size_t buflen)
{
	int			n;

	if (!kc_safe_symbol(global) || strchr(global, '-') != NULL)
		return false;
	if (strcmp(global, "BTC") == 0)
		global = "XBT";
	n = snprintf(buf, buflen, "%sUSDTM", global);
	return n > 0 && (size_t) n < buflen;
}

/* Global symbol of a base currency: XBT is BTC. */
static const char *
kc_global(const char *base)
{
	return strcmp(base, "XBT") == 0 ? "BTC" : base;
}

/* A timestamp whose unit is told by its size: ns (>= 1e17), us (>= 1e14), else ms. */
static PerpsStatus
kc_ts_auto(PerpsCtx *ctx, struct json_object *v, const char *what, int64_t *out)
{
	int64_t		raw;

	if (perps_json_int64(ctx, v, what, &raw) != PERPS_OK)
		return ctx->status;
	if (raw >= INT64_C(100000000000000000))
		return perps_json_ts(ctx, v, PERPS_NS, what, out);
	if (raw >= INT64_C(100000000000000))
		return perps_json_ts(ctx, v, PERPS_US, what, out);
	return perps_json_ts(ctx, v, PERPS_MS, what, out);
}

/* Splits a valid decimal into sign, digits and the power of ten they are scaled by. */
static bool
kc_split(const char *s, bool *neg, char *digits, size_t *nd, long *exp10)
{
	const char *p = s;
	long		frac = 0;
	bool		point = false;

	*nd = 0;
	*neg = false;
	*exp10 = 0;
	if (*p == '-' || *p == '+')
		*neg = (*p++ == '-');
	for (; *p && *p != 'e' && *p != 'E'; p++)
	{
		if (*p == '.')
		{
			point = true;
			continue;
		}
		if (*nd >= PERPS_DECIMAL_MAX_LEN)
			return false;
		digits[(*nd)++] = *p;
		if (point)
			frac++;
	}
	if (*p == 'e' || *p == 'E')
		*exp10 = strtol(p + 1, NULL, 10);
	*exp10 -= frac;
	return *nd > 0;
}

/*
 * Exact product of two decimal texts (contracts x multiplier).  NULL with
 * the context's error set when an input is not a decimal or the product is
 * too long; NULL without error when either input is NULL.
 */
static const char *
kc_mul(PerpsCtx *ctx, const char *a, const char *b)
{
	char		da[PERPS_DECIMAL_MAX_LEN],
				db[PERPS_DECIMAL_MAX_LEN];
	int			prod[2 * PERPS_DECIMAL_MAX_LEN];
	char		text[2 * PERPS_DECIMAL_MAX_LEN + 2];
	size_t		na,
				nb,
				k = 0;
	long		ea,
				eb;
	bool		nega,
				negb;
	size_t		i,
				j,
				np;

	if (a == NULL || b == NULL)
		return NULL;
	if (!perps_decimal_valid(a, strlen(a)) || !perps_decimal_valid(b, strlen(b)) ||
		!kc_split(a, &nega, da, &na, &ea) || !kc_split(b, &negb, db, &nb, &eb))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "cannot multiply \"%.30s\" by \"%.30s\"", a, b);
		return NULL;
	}
	np = na + nb;
	memset(prod, 0, sizeof(prod));
	for (i = na; i-- > 0;)
		for (j = nb; j-- > 0;)
			prod[i + j + 1] += (da[i] - '0') * (db[j] - '0');
	for (i = np; i-- > 1;)
	{
		prod[i - 1] += prod[i] / 10;
		prod[i] %= 10;
	}
	/* skip leading zeros, keep one digit */
	for (i = 0; i + 1 < np && prod[i] == 0; i++)
		;
	if (nega != negb)
		text[k++] = '-';
	for (; i < np; i++)
		text[k++] = (char) ('0' + prod[i]);
	text[k] = '\0';
	if (k > PERPS_DECIMAL_MAX_LEN)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "product of \"%.30s\" and \"%.30s\" is too long", a, b);
		return NULL;
	}
	return perps_decimal_shift(ctx, text, (int) (ea + eb));
}

/*
 * Parses a body and checks the KuCoin envelope.  On success *root owns the
 * document and *data is its "data" member (any type).
 */
static PerpsStatus
kc_open(PerpsCtx *ctx, const PerpsBody *b, struct json_object **root, struct json_object **data)
{
	struct json_object *code;
	struct json_object *msg;

	*root = NULL;
	*data = NULL;
	if (perps_json_parse(ctx, b->data, b->len, root) != PERPS_OK)
	{
		if (b->status != 200)
			return perps_fail(ctx, PERPS_ERR_VENUE, "HTTP status %ld", b->status);
		return ctx->status;
	}
	code = perps_json_get(*root, "code");
	msg = perps_json_get(*root, "msg");
	if (code == NULL || !(json_object_is_type(code, json_type_string) || json_object_is_type(code, json_type_int)))
	{
		json_object_put(*root);
		*root = NULL;
		if (b->status != 200)
			return perps_fail(ctx, PERPS_ERR_VENUE, "HTTP status %ld", b->status);
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"code\" is missing or not a string");
	}
	if (strcmp(json_object_get_string(code), "200000") != 0)
	{
		PerpsStatus st;

		st = perps_fail(ctx, PERPS_ERR_VENUE, "kucoin error %s: %s",
						code ? json_object_get_string(code) : "(no code)",
						msg && json_object_is_type(msg, json_type_string) ?
						json_object_get_string(msg) : "(no message)");
		json_object_put(*root);
		*root = NULL;
		return st;
	}
	if (b->status != 200)
	{
		json_object_put(*root);
		*root = NULL;
		return perps_fail(ctx, PERPS_ERR_VENUE, "HTTP status %ld", b->status);
	}
	*data = perps_json_get(*root, "data");
	if (*data == NULL)
	{
		json_object_put(*root);
		*root = NULL;
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"data\" is missing");
	}
	return PERPS_OK;
}

/* PerpsAdapter.open_body: kc_open; the methods take the "data" member */
static PerpsStatus
kc_open_body(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
{
	struct json_object *data;

	return kc_open(ctx, b, root, &data);
}

/*
 * Funding interval in hours from a granularity in ms (28800000 -> "8"),
 * exactly: ms / 3600000 has a finite decimal expansion when ms is a
 * multiple of 9 (3600000 = 9 * 400000 and 1 / 400000 = 25e-7).  NULL when
 * it has none.
 */
static const char *
kc_hours_of_ms(PerpsCtx *ctx, int64_t ms)
{
	char		buf[32];

	if (ms <= 0 || ms % 9 != 0)
		return NULL;
	if (ms % 3600000 == 0)
	{
		snprintf(buf, sizeof(buf), "%lld", (long long) (ms / 3600000));
		return perps_strndup(ctx, buf, strlen(buf));
	}
	snprintf(buf, sizeof(buf), "%lld", (long long) (ms / 9 * 25));
	return perps_decimal_shift(ctx, buf, -7);
}

/* Funding interval of a contract: fundingRateGranularity (ms), else the "8H" of .XBTUSDTMFPI8H. */
static const char *
kc_contract_interval(PerpsCtx *ctx, struct json_object *c)
{
	struct json_object *g = perps_json_get(c, "fundingRateGranularity");
	struct json_object *fs = perps_json_get(c, "fundingRateSymbol");
	int64_t		ms;

	if (g != NULL && !json_object_is_type(g, json_type_null))
	{
		if (perps_json_int64(ctx, g, "fundingRateGranularity", &ms) != PERPS_OK)
			return NULL;
		return kc_hours_of_ms(ctx, ms);
	}
	if (fs != NULL && json_object_is_type(fs, json_type_string))
	{
		const char *s = json_object_get_string(fs);
		const char *fpi = strstr(s, "FPI");
		size_t		len;

		if (fpi != NULL)
		{
			fpi += 3;
			len = strlen(fpi);
			if (len >= 2 && len <= 4 && fpi[len - 1] == 'H' &&
				strspn(fpi, "0123456789") == len - 1)
				return perps_strndup(ctx, fpi, len - 1);
		}
	}
	return NULL;
}

static int
kc_granularity(const char *interval)
{
	int			s = perps_interval_seconds(interval);

	return s > 0 ? s / 60 : 0;
}

/* ---- build: one function a method ---- */

static int
kc_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], 3, "/api/v1/contracts/active") ? ctx->status : 1;
}

static int
kc_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	if (perps_request_path(ctx, &reqs[0], 3, "/api/v1/contracts/%s", sym) ||
		perps_request_path(ctx, &reqs[1], 2, "/api/v1/ticker?symbol=%s", sym))
		return ctx->status;
	return 2;
}

static int
kc_build_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (perps_request_path(ctx, &reqs[0], 3, "/api/v1/contracts/active") ||
		perps_request_path(ctx, &reqs[1], 5, "/api/v1/allTickers"))
		return ctx->status;
	return 2;
}

static int
kc_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	if (q->depth > 0 && q->depth <= 20)
		return perps_request_path(ctx, &reqs[0], 5, "/api/v1/level2/depth20?symbol=%s", sym) ? ctx->status : 1;
	if (q->depth > 0 && q->depth <= 100)
		return perps_request_path(ctx, &reqs[0], 10, "/api/v1/level2/depth100?symbol=%s", sym) ? ctx->status : 1;
	return perps_request_path(ctx, &reqs[0], 3, "/api/v1/level2/snapshot?symbol=%s", sym) ? ctx->status : 1;
}

static int
kc_build_funding(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	return perps_request_path(ctx, &reqs[0], 2, "/api/v1/funding-rate/%s/current", sym) ? ctx->status : 1;
}

static int
kc_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	int64_t		until_ms,
				since_ms;

	/* from and to are required: default to the last page before now */
	until_ms = q->until_us != PERPS_TS_NONE ? q->until_us / 1000 : (int64_t) time(NULL) * 1000;
	since_ms = q->since_us != PERPS_TS_NONE ? q->since_us / 1000 :
		until_ms - (int64_t) KC_FUNDING_PAGE * 8 * 3600 * 1000;
	if (since_ms > until_ms)
		return perps_fail(ctx, PERPS_ERR_ARG, "kucoin: since is after until");
	return perps_request_path(ctx, &reqs[0], 5,
							  "/api/v1/contract/funding-rates?symbol=%s&from=%lld&to=%lld",
							  sym, (long long) since_ms, (long long) until_ms) ? ctx->status : 1;
}

/* the contract's details: its open interest (in contracts) and multiplier */
static int
kc_build_open_interest(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	return perps_request_path(ctx, &reqs[0], 3, "/api/v1/contracts/%s", sym) ? ctx->status : 1;
}

static int
kc_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	int			gran = kc_granularity(q->interval);
	int			rows = perps_page_size(q, KC_KLINE_PAGE);
	int64_t		step_ms = (int64_t) gran * 60000;
	char		range[80] = "";

	if (gran == 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "kucoin: unsupported kline interval \"%s\"",
						  q->interval ? q->interval : "(null)");
	if (q->since_us != PERPS_TS_NONE)
	{
		int64_t		from = q->since_us / 1000;
		int64_t		to = from + rows * step_ms - 1;

		if (q->until_us != PERPS_TS_NONE && q->until_us / 1000 < to)
			to = q->until_us / 1000;
		if (to < from)
			return perps_fail(ctx, PERPS_ERR_ARG, "kucoin: since is after until");
		snprintf(range, sizeof(range), "&from=%lld&to=%lld", (long long) from, (long long) to);
	}
	else if (q->until_us != PERPS_TS_NONE)
	{
		int64_t		to = q->until_us / 1000;

		snprintf(range, sizeof(range), "&from=%lld&to=%lld",
				 (long long) (to - rows * step_ms + 1), (long long) to);
	}
	return perps_request_path(ctx, &reqs[0], 3, "/api/v1/kline/query?symbol=%s&granularity=%d%s",
							  sym, gran, range) ? ctx->status : 1;
}

static int
kc_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_UNSUPPORTED, "%s", KC_NO_TRADE_HISTORY);
	return perps_request_path(ctx, &reqs[0], 5, "/api/v1/trade/history?symbol=%s", sym) ? ctx->status : 1;
}

/* ---- parsers ---- */

/* A perpetual, linear contract (the ones this adapter serves). */
static bool
kc_is_linear_perp(struct json_object *c)
{
	struct json_object *type = perps_json_get(c, "type");
	struct json_object *inv = perps_json_get(c, "isInverse");

	if (type == NULL || !json_object_is_type(type, json_type_string) ||
		strcmp(json_object_get_string(type), "FFWCSX") != 0)
		return false;
	if (inv != NULL && json_object_is_type(inv, json_type_boolean) && json_object_get_boolean(inv))
		return false;
	return true;
}

static PerpsStatus
kc_parse_market(PerpsCtx *ctx, struct json_object *c, PerpsMarket *mk)
{
	const char *base;
	const char *mult;
	const char *lot;
	const char *maxq;
	struct json_object *st;

	if (perps_json_string(ctx, perps_json_get(c, "symbol"), "symbol", &mk->native_symbol) ||
		perps_json_string(ctx, perps_json_get(c, "baseCurrency"), "baseCurrency", &base) ||
		perps_json_string(ctx, perps_json_get(c, "quoteCurrency"), "quoteCurrency", &mk->quote) ||
		perps_json_decimal_field(ctx, c, "multiplier", true, &mult) ||
		perps_json_decimal_field(ctx, c, "tickSize", false, &mk->tick_size) ||
		perps_json_decimal_field(ctx, c, "lotSize", false, &lot) ||
		perps_json_decimal_field(ctx, c, "maxOrderQty", false, &maxq) ||
		perps_json_decimal_field(ctx, c, "maxLeverage", false, &mk->max_leverage))
		return ctx->status;
	mk->base = kc_global(base);
	mk->symbol = mk->base;
	mk->contract_size = mult;
	/* order sizes are in contracts: the market row is in base units */
	mk->lot_size = kc_mul(ctx, lot, mult);
	mk->min_qty = mk->lot_size;
	mk->max_qty = kc_mul(ctx, maxq, mult);
	if (ctx->status != PERPS_OK)
		return ctx->status;
	mk->funding_interval_hours = kc_contract_interval(ctx, c);
	st = perps_json_get(c, "status");
	mk->active = st != NULL && json_object_is_type(st, json_type_string) &&
		strcmp(json_object_get_string(st), "Open") == 0;
	return ctx->status;
}

static PerpsStatus
kc_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *data = perps_json_get(docs[0], "data");
	size_t		n;
	int			k = 0;

	out->u.markets = perps_rows(ctx, data, "data", sizeof(PerpsMarket), &n);
	if (out->u.markets == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *c = json_object_array_get_idx(data, i);

		if (perps_need_object(ctx, c, "contract"))
			return ctx->status;
		if (!kc_is_linear_perp(c))
			continue;
		if (kc_parse_market(ctx, c, &out->u.markets[k]))
			return ctx->status;
		k++;
	}
	out->n = k;
	return PERPS_OK;
}

/* Ticker fields of a contract detail (no best bid/ask: that is /ticker's). */
static PerpsStatus
kc_ticker_from_contract(PerpsCtx *ctx, struct json_object *c, PerpsTicker *t)
{
	const char *mult;
	const char *oi;
	const char *pct;

	if (perps_json_string(ctx, perps_json_get(c, "symbol"), "symbol", &t->native_symbol) ||
		perps_json_decimal_field(ctx, c, "multiplier", true, &mult) ||
		perps_json_decimal_field(ctx, c, "lastTradePrice", false, &t->last_price) ||
		perps_json_decimal_field(ctx, c, "markPrice", false, &t->mark_price) ||
		perps_json_decimal_field(ctx, c, "indexPrice", false, &t->index_price) ||
		perps_json_decimal_field(ctx, c, "volumeOf24h", false, &t->volume_24h) ||
		perps_json_decimal_field(ctx, c, "turnoverOf24h", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, c, "openInterest", false, &oi) ||
		perps_json_decimal_field(ctx, c, "priceChg", false, &t->price_change_24h) ||
		perps_json_decimal_field(ctx, c, "priceChgPct", false, &pct) ||
		perps_json_decimal_field(ctx, c, "highPrice", false, &t->high_24h) ||
		perps_json_decimal_field(ctx, c, "lowPrice", false, &t->low_24h))
		return ctx->status;
	/* volumeOf24h is in base currency already; openInterest is in contracts */
	t->open_interest = kc_mul(ctx, oi, mult);
	t->open_interest_notional = kc_mul(ctx, t->open_interest, t->mark_price);
	t->price_change_pct = pct;	/* priceChgPct is a fraction (0.0004 = 0.04 %) */
	t->contract_size = mult;
	t->ts_us = PERPS_TS_NONE;
	return ctx->status;
}

/* Best bid/ask and time of a /ticker or /allTickers row, sizes converted with mult. */
static PerpsStatus
kc_ticker_bbo(PerpsCtx *ctx, struct json_object *r, const char *mult, PerpsTicker *t)
{
	const char *bq;
	const char *aq;
	const char *last;

	if (perps_json_decimal_field(ctx, r, "bestBidPrice", false, &t->best_bid_price) ||
		perps_json_decimal_field(ctx, r, "bestAskPrice", false, &t->best_ask_price) ||
		perps_json_decimal_field(ctx, r, "bestBidSize", false, &bq) ||
		perps_json_decimal_field(ctx, r, "bestAskSize", false, &aq) ||
		perps_json_decimal_field(ctx, r, "price", false, &last) ||
		kc_ts_auto(ctx, perps_json_get(r, "ts"), "ts", &t->ts_us))
		return ctx->status;
	t->best_bid_qty = kc_mul(ctx, bq, mult);
	t->best_ask_qty = kc_mul(ctx, aq, mult);
	if (last != NULL)
		t->last_price = last;
	return ctx->status;
}

/* the contract's details and its /ticker */
static PerpsStatus
kc_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *data;
	struct json_object *data2;
	PerpsTicker *t;

	if (perps_need_docs(ctx, ndocs, 2))
		return ctx->status;
	data = perps_json_get(docs[0], "data");
	data2 = perps_json_get(docs[1], "data");
	t = out->u.tickers = perps_alloc(ctx, sizeof(PerpsTicker));
	if (t == NULL)
		return ctx->status;
	if (perps_need_object(ctx, data, "data") == PERPS_OK &&
		kc_ticker_from_contract(ctx, data, t) == PERPS_OK &&
		perps_need_object(ctx, data2, "data") == PERPS_OK)
	{
		struct json_object *s2 = perps_json_get(data2, "symbol");

		if (s2 == NULL || !json_object_is_type(s2, json_type_string) ||
			strcmp(json_object_get_string(s2), t->native_symbol) != 0)
			perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin ticker: the two answers are for different symbols");
		else
			kc_ticker_bbo(ctx, data2, t->contract_size, t);
	}
	if (ctx->status != PERPS_OK)
		return ctx->status;
	t->contract_size = NULL;	/* quantities are in base units already */
	out->n = 1;
	return PERPS_OK;
}

/* the active contracts and allTickers */
static PerpsStatus
kc_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *data;
	struct json_object *data2;
	size_t		n,
				n2 = 0;
	int			k = 0;

	if (perps_need_docs(ctx, ndocs, 2))
		return ctx->status;
	data = perps_json_get(docs[0], "data");
	data2 = perps_json_get(docs[1], "data");
	if (perps_need_array(ctx, data, "data", &n) ||
		perps_need_array(ctx, data2, "data", &n2))
		return ctx->status;
	out->u.tickers = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsTicker));
	if (out->u.tickers == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *c = json_object_array_get_idx(data, i);
		PerpsTicker *t = &out->u.tickers[k];

		if (perps_need_object(ctx, c, "contract"))
			return ctx->status;
		if (!kc_is_linear_perp(c))
			continue;
		if (kc_ticker_from_contract(ctx, c, t))
			return ctx->status;
		for (size_t j = 0; j < n2; j++)
		{
			struct json_object *r = json_object_array_get_idx(data2, j);
			struct json_object *s = perps_json_get(r, "symbol");

			if (s && json_object_is_type(s, json_type_string) &&
				strcmp(json_object_get_string(s), t->native_symbol) == 0)
			{
				if (kc_ticker_bbo(ctx, r, t->contract_size, t))
					return ctx->status;
				break;
			}
		}
		t->contract_size = NULL;
		k++;
	}
	out->n = k;
	return PERPS_OK;
}

/* the book's sizes are contracts: qty_mult is the contract size */
static PerpsStatus
kc_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	struct json_object *data = perps_json_get(docs[0], "data");
	PerpsBook  *bk;
	struct json_object *seq;

	out->qty_mult = q->market->contract_size;
	if (perps_need_object(ctx, data, "data"))
		return ctx->status;
	bk = out->u.book = perps_alloc(ctx, sizeof(PerpsBook));
	if (bk == NULL)
		return ctx->status;
	if (perps_parse_levels(ctx, perps_json_get(data, "bids"), "bids", q->depth, &bk->bids, &bk->nbids) ||
		perps_parse_levels(ctx, perps_json_get(data, "asks"), "asks", q->depth, &bk->asks, &bk->nasks) ||
		kc_ts_auto(ctx, perps_json_get(data, "ts"), "ts", &bk->ts_us))
		return ctx->status;
	seq = perps_json_get(data, "sequence");
	if (seq != NULL && !json_object_is_type(seq, json_type_null))
	{
		if (perps_json_int64(ctx, seq, "sequence", &bk->seq))
			return ctx->status;
		bk->has_seq = true;
	}
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
kc_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *data = perps_json_get(docs[0], "data");
	PerpsFunding *f;
	int64_t		gran;
	struct json_object *ft;

	if (perps_need_object(ctx, data, "data"))
		return ctx->status;
	f = out->u.funding = perps_alloc(ctx, sizeof(PerpsFunding));
	if (f == NULL)
		return ctx->status;
	if (perps_json_ts_field(ctx, data, "timePoint", PERPS_MS, &f->funding_time_us) ||
		perps_json_decimal_field(ctx, data, "value", true, &f->rate) ||
		perps_json_decimal_field(ctx, data, "predictedValue", false, &f->predicted_rate) ||
		perps_json_int64_field(ctx, data, "granularity", &gran))
		return ctx->status;
	if (gran <= 0 || gran > INT64_C(7) * 24 * 3600 * 1000)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "granularity %lld is not a funding interval", (long long) gran);
	f->interval_hours = kc_hours_of_ms(ctx, gran);
	ft = perps_json_get(data, "fundingTime");
	if (ft != NULL && !json_object_is_type(ft, json_type_null))
	{
		if (perps_json_ts(ctx, ft, PERPS_MS, "fundingTime", &f->next_funding_time_us))
			return ctx->status;
	}
	else
		f->next_funding_time_us = f->funding_time_us + gran * 1000;
	out->n = 1;
	return ctx->status;
}

static PerpsStatus
kc_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						 PerpsResult *out)
{
	struct json_object *data = perps_json_get(docs[0], "data");
	size_t		n;
	int64_t		min_ts = INT64_MAX;
	struct json_object *rows = data;

	/* documented as a list; accept the paged {dataList, hasMore} shape too */
	if (json_object_is_type(data, json_type_object))
		rows = perps_json_get(data, "dataList");
	out->u.funding = perps_rows(ctx, rows, "data", sizeof(PerpsFunding), &n);
	if (out->u.funding == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *r = json_object_array_get_idx(rows, i);
		PerpsFunding *f = &out->u.funding[i];

		if (perps_need_object(ctx, r, "funding row") ||
			perps_json_ts_field(ctx, r, "timepoint", PERPS_MS, &f->funding_time_us) ||
			perps_json_decimal_field(ctx, r, "fundingRate", true, &f->rate))
			return ctx->status;
		f->next_funding_time_us = PERPS_TS_NONE;
		if (f->funding_time_us < min_ts)
			min_ts = f->funding_time_us;
	}
	out->n = (int) n;
	out->next_since_us = PERPS_TS_NONE;
	out->next_until_us = PERPS_TS_NONE;
	/* a full page: the venue answers newest first, so page backwards */
	if (n >= KC_FUNDING_PAGE)
	{
		out->has_more = true;
		out->next_until_us = min_ts - 1000;
		if (q->since_us != PERPS_TS_NONE && out->next_until_us < q->since_us)
			out->has_more = false;
	}
	return PERPS_OK;
}

static PerpsStatus
kc_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	struct json_object *data = perps_json_get(docs[0], "data");
	PerpsOpenInterest *oi;
	const char *mult;
	const char *mark;

	if (perps_need_object(ctx, data, "data"))
		return ctx->status;
	oi = out->u.oi = perps_alloc(ctx, sizeof(PerpsOpenInterest));
	if (oi == NULL)
		return ctx->status;
	if (perps_json_decimal_field(ctx, data, "openInterest", true, &oi->open_interest) ||
		perps_json_decimal_field(ctx, data, "multiplier", true, &mult) ||
		perps_json_decimal_field(ctx, data, "markPrice", false, &mark))
		return ctx->status;
	/* contracts x multiplier x mark price */
	oi->open_interest_notional = kc_mul(ctx, kc_mul(ctx, oi->open_interest, mult), mark);
	oi->ts_us = PERPS_TS_NONE;	/* the contract detail carries no time */
	out->qty_mult = mult;
	out->n = 1;
	return ctx->status;
}

static PerpsStatus
kc_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *data = perps_json_get(docs[0], "data");
	size_t		n;
	int64_t		step_us = (int64_t) perps_interval_seconds(q->interval) * 1000000;
	int			rows = perps_page_size(q, KC_KLINE_PAGE);
	int64_t		latest = PERPS_TS_NONE;

	if (step_us <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "kucoin: unsupported kline interval");
	out->u.klines = perps_rows(ctx, data, "data", sizeof(PerpsKline), &n);
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *r = json_object_array_get_idx(data, i);
		PerpsKline *k = &out->u.klines[i];

		/* [time, o, h, l, c, volume, turnover (optional)] */
		if (perps_parse_kline_row(ctx, r, i, 6, k))
			return ctx->status;
		if (json_object_array_length(r) >= 7 &&
			perps_json_decimal_opt(ctx, json_object_array_get_idx(r, 6), "turnover", &k->turnover))
			return ctx->status;
		k->close_time_us = k->open_time_us + step_us - 1000;
		k->trade_count = -1;
		if (latest == PERPS_TS_NONE || k->open_time_us > latest)
			latest = k->open_time_us;
	}
	out->n = (int) n;
	/* the page asked for [since, since + rows intervals): go on after it */
	perps_page_forward(q, rows, step_us, latest, n, out);
	out->qty_mult = q->market->contract_size;
	return PERPS_OK;
}

static PerpsStatus
kc_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *data = perps_json_get(docs[0], "data");
	size_t		n;

	if (perps_need_array(ctx, data, "data", &n))
		return ctx->status;
	if (q->limit > 0 && (size_t) q->limit < n)
		n = (size_t) q->limit;
	out->u.trades = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsTrade));
	if (out->u.trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *r = json_object_array_get_idx(data, i);
		PerpsTrade *t = &out->u.trades[i];

		if (perps_need_object(ctx, r, "trade") ||
			perps_json_id(ctx, perps_json_get(r, "tradeId"), "tradeId", &t->trade_id) ||
			kc_ts_auto(ctx, perps_json_get(r, "ts"), "ts", &t->ts_us) ||
			perps_json_decimal_field(ctx, r, "price", true, &t->price) ||
			perps_json_decimal_field(ctx, r, "size", true, &t->qty) ||
			perps_taker_side(ctx, perps_json_get(r, "side"), "buy", "sell", &t->is_buy))
			return ctx->status;
	}
	out->n = (int) n;
	out->qty_mult = q->market->contract_size;
	return PERPS_OK;
}

/* ---- the stream side: the endpoint of POST /api/v1/bullet-public ----
 *
 * A connection needs a token first: POST /api/v1/bullet-public on the REST
 * base answers {token, instanceServers: [{endpoint, protocol, pingInterval
 * (ms), pingTimeout (ms)}]}; the client opens endpoint?token=..&connectId=..
 * and is greeted with {"type":"welcome"}.  Subscribes are
 * {"id","type":"subscribe","topic","privateChannel","response"} whose topic
 * lists up to 100 symbols after the colon, comma-separated (at most 300
 * subscriptions per connection); each is answered by {"type":"ack"}.  The
 * client sends {"type":"ping"} every pingInterval and gets a "pong"; a
 * refusal is {"type":"error","code":...,"data":"..."}.
 *
 * Data frames are {"type":"message","topic","subject","data"}:
 *   /contractMarket/level2:SYM   subject level2: one change "price,side,size"
 *                                with a sequence that goes up by one per
 *                                symbol, synced against the REST snapshot's
 *                                sequence (/api/v1/level2/snapshot); price 0
 *                                changes nothing but the sequence
 *   /contractMarket/execution:SYM  subject match: one trade, side = the taker's
 *   /contractMarket/tickerV2:SYM  best bid/ask and their sizes
 *   /contractMarket/snapshot:SYM  subject snapshot.24h: last price, 24 h
 *                                volume (base currency, not contracts),
 *                                turnover, high, low, change and change pct
 *   /contract/instrument:SYM      subject mark.index.price: mark and index
 *                                price; subject funding.rate: the funding
 *                                rate (granularity 60000: the current
 *                                period's predicted rate; a funding interval,
 *                                e.g. 28800000: the rate settled at timestamp)
 * Sizes of books, trades and best bid/ask are contract counts
 * (qty_in_contracts); the 24 h volume is in base units already, so that
 * event says contract_size "1".  Times: ts in ns, timestamp in ms (read by
 * their size, kc_ts_auto).
 */

#define KC_WS_MAX_MESSAGE (1024 * 1024)
#define KC_WS_SYMBOLS_PER_TOPIC 100	/* "100 per time" */
#define KC_WS_MAX_SUBSCRIPTIONS 300 /* "300 per session" */
#define KC_WS_NTOPICS 5
#define KC_WS_PING_S 18			/* the bullet's usual pingInterval */
#define KC_WS_MAX_URL 1000
/* REST book sync: more than 100 asks for the full book; a local book side holds at most 20000 */
#define KC_WS_SNAPSHOT_LEVELS 20000

static const char *const kc_ws_topics[KC_WS_NTOPICS] = {
	"/contractMarket/level2:",
	"/contractMarket/execution:",
	"/contractMarket/tickerV2:",
	"/contractMarket/snapshot:",
	"/contract/instrument:",
};

static int
kc_ws_connect_build(PerpsCtx *ctx, PerpsRequest *req)
{
	if (perps_request_path(ctx, req, 10, "/api/v1/bullet-public"))
		return ctx->status;
	req->post = true;
	req->body = perps_strndup(ctx, "{}", 2);
	if (req->body == NULL)
		return ctx->status;
	return 1;
}

/* Appends s to buf (cap bytes, *used so far), percent-encoding all but [A-Za-z0-9._~-]. */
static bool
kc_url_append(char *buf, size_t cap, size_t *used, const char *s, bool encode)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;
		bool		plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' || c == '-';

		if (!encode || plain)
		{
			if (*used + 1 >= cap)
				return false;
			buf[(*used)++] = (char) c;
		}
		else
		{
			if (*used + 3 >= cap)
				return false;
			buf[(*used)++] = '%';
			buf[(*used)++] = hex[c >> 4];
			buf[(*used)++] = hex[c & 15];
		}
	}
	buf[*used] = '\0';
	return true;
}

/* A WebSocket endpoint we can open: ws:// or wss://, printable, no fragment. */
static bool
kc_ws_endpoint_ok(const char *e)
{
	size_t		n = strlen(e);

	if (n < 6 || n > 512 || (strncmp(e, "ws://", 5) != 0 && strncmp(e, "wss://", 6) != 0))
		return false;
	for (const char *p = e; *p; p++)
		if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 127 || *p == '#' || *p == '"' || *p == '\\')
			return false;
	return true;
}

/* The host of a ws://, wss://, http:// or https:// URL into buf ("" when there is none). */
static void
kc_url_host(const char *url, char *buf, size_t len)
{
	const char *p = strstr(url ? url : "", "://");
	size_t		n = 0;

	buf[0] = '\0';
	if (p == NULL)
		return;
	p += 3;
	if (strchr(p, '@') && strchr(p, '@') < p + strcspn(p, "/?#"))
		p = strchr(p, '@') + 1; /* user info is not the host */
	if (*p == '[')
		n = strcspn(p, "]") + 1;	/* an IPv6 literal */
	else
		n = strcspn(p, ":/?#");
	if (n >= len)
		n = 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] += 'a' - 'A';
}

/*
 * The domain a host belongs to: its last two labels ("ws-api-futures.
 * kucoin.com" -> "kucoin.com"); an IP address or a one-label host is its
 * own.
 */
static const char *
kc_host_domain(const char *host)
{
	const char *last = strrchr(host, '.');
	const char *p;

	if (host[0] == '[' || last == NULL || strspn(host, "0123456789.") == strlen(host))
		return host;
	for (p = last - 1; p >= host && *p != '.'; p--)
		;
	return p < host ? host : p + 1;
}

/*
 * A bullet endpoint we may open: in the domain of the configured ws_url
 * (perps_stats.exchanges, which only the owner sets) and wss://, unless the
 * owner configured a plain ws:// URL (a local mock).  Otherwise a hostile or
 * hijacked REST answer could send the server's connections anywhere.
 */
static bool
kc_ws_endpoint_allowed(PerpsCtx *ctx, const char *endpoint, const char *ws_url)
{
	char		want[256];
	char		got[256];

	kc_url_host(ws_url, want, sizeof(want));
	kc_url_host(endpoint, got, sizeof(got));
	if (want[0] == '\0' || got[0] == '\0' || strcmp(kc_host_domain(want), kc_host_domain(got)) != 0)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin bullet endpoint host \"%.80s\" is not in the domain of the configured ws_url (%.80s)",
				   got, kc_host_domain(want));
		return false;
	}
	if (strncmp(endpoint, "wss://", 6) != 0 && strncmp(ws_url, "ws://", 5) != 0)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin bullet endpoint \"%.80s\" is not wss:// (the configured ws_url is)",
				   endpoint);
		return false;
	}
	return true;
}

static PerpsStatus
kc_ws_connect_parse(PerpsCtx *ctx, const PerpsBody *body, const char *ws_url,
					const char **url, int *ping_interval_ms)
{
	static unsigned int connect_n;
	struct json_object *root = NULL;
	struct json_object *data;
	struct json_object *servers;
	const char *token = NULL;
	const char *endpoint = NULL;
	int64_t		ping = 0;
	size_t		n;
	char	   *buf;
	size_t		used = 0;
	char		cid[64];
	struct timespec now;

	*url = NULL;
	*ping_interval_ms = 0;
	if (body == NULL)
		return perps_fail(ctx, PERPS_ERR_ARG, "kucoin bullet: no answer");
	if (kc_open(ctx, body, &root, &data) != PERPS_OK)
		return ctx->status;
	if (perps_need_object(ctx, data, "bullet data") ||
		perps_json_string(ctx, perps_json_get(data, "token"), "token", &token) ||
		perps_need_array(ctx, (servers = perps_json_get(data, "instanceServers")), "instanceServers", &n))
		goto done;
	if (token[0] == '\0' || strlen(token) > 512)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin bullet token is empty or too long");
		goto done;
	}
	/* the first server that speaks websocket */
	for (size_t i = 0; i < n && endpoint == NULL; i++)
	{
		struct json_object *sv = json_object_array_get_idx(servers, i);
		struct json_object *proto = perps_json_get(sv, "protocol");
		struct json_object *pi;

		if (perps_need_object(ctx, sv, "instance server"))
			goto done;
		if (proto != NULL && !(json_object_is_type(proto, json_type_string) &&
							   strcmp(json_object_get_string(proto), "websocket") == 0))
			continue;
		if (perps_json_string(ctx, perps_json_get(sv, "endpoint"), "endpoint", &endpoint))
			goto done;
		if (kc_ws_endpoint_ok(endpoint) && !kc_ws_endpoint_allowed(ctx, endpoint, ws_url))
			goto done;
		if (!kc_ws_endpoint_ok(endpoint))
		{
			perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin bullet endpoint \"%.80s\" is not a ws:// or wss:// URL",
					   endpoint);
			goto done;
		}
		pi = perps_json_get(sv, "pingInterval");
		if (pi != NULL && !json_object_is_type(pi, json_type_null) &&
			perps_json_int64(ctx, pi, "pingInterval", &ping))
			goto done;
	}
	if (endpoint == NULL)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin bullet lists no websocket server");
		goto done;
	}
	/* a ping interval we can honour: 1 s .. 10 min; else the default stays */
	if (ping >= 1000 && ping <= 600000)
		*ping_interval_ms = (int) ping;

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(cid, sizeof(cid), "perps%lld%06ld%u", (long long) now.tv_sec,
			 (long) (now.tv_nsec / 1000), ++connect_n);
	buf = perps_alloc(ctx, KC_WS_MAX_URL + 1);
	if (buf == NULL)
		goto done;
	if (!kc_url_append(buf, KC_WS_MAX_URL, &used, endpoint, false) ||
		!kc_url_append(buf, KC_WS_MAX_URL, &used, strchr(endpoint, '?') ? "&token=" : "?token=", false) ||
		!kc_url_append(buf, KC_WS_MAX_URL, &used, token, true) ||
		!kc_url_append(buf, KC_WS_MAX_URL, &used, "&connectId=", false) ||
		!kc_url_append(buf, KC_WS_MAX_URL, &used, cid, false))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin bullet endpoint and token make too long a URL");
		goto done;
	}
	*url = buf;
done:
	if (root)
		json_object_put(root);
	return ctx->status;
}

/* kline intervals: perps_stats' names and the types of KuCoin's limitCandle topic */
static const struct
{
	const char *ours;
	const char *theirs;
}			kc_ws_candle_types[PERPS_KLINE_MAX] = {
	{"1m", "1min"}, {"5m", "5min"}, {"15m", "15min"}, {"30m", "30min"},
	{"1h", "1hour"}, {"4h", "4hour"}, {"1d", "1day"},
};

#define KC_WS_CANDLE_TOPIC "/contractMarket/limitCandle:"

static const char *
kc_ws_kline_channel(const char *interval)
{
	for (int i = 0; interval != NULL && i < PERPS_KLINE_MAX; i++)
		if (strcmp(kc_ws_candle_types[i].ours, interval) == 0)
			return kc_ws_candle_types[i].theirs;
	return NULL;
}

/*
 * One topic per kind with up to KC_WS_SYMBOLS_PER_TOPIC symbols each; the
 * candles' topic names each symbol with its type (XBTUSDTM_1min).
 */
static int
kc_ws_subscribe(PerpsCtx *ctx, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	const char *const *natives = want->natives;
	int			n = want->n;
	int			ntopics = KC_WS_NTOPICS + want->nintervals;
	int			nmsg = 0;

	if (want->nintervals < 0 || want->nintervals > PERPS_KLINE_MAX)
		return perps_fail(ctx, PERPS_ERR_ARG, "kucoin: %d kline intervals", want->nintervals);
	if (n < 0 || n * ntopics > KC_WS_MAX_SUBSCRIPTIONS)
		return perps_fail(ctx, PERPS_ERR_ARG,
						  "kucoin allows %d subscriptions per connection: %d markets need %d",
						  KC_WS_MAX_SUBSCRIPTIONS, n, n * ntopics);
	for (int i = 0; i < n; i++)
		if (!kc_safe_symbol(natives[i]) || strlen(natives[i]) > 40)
			return perps_fail(ctx, PERPS_ERR_ARG, "kucoin native symbol \"%.40s\" is not valid", natives[i]);
	for (int k = 0; k < ntopics; k++)
	{
		const char *topic = k < KC_WS_NTOPICS ? kc_ws_topics[k] : KC_WS_CANDLE_TOPIC;
		const char *type = NULL;

		if (k >= KC_WS_NTOPICS && (type = kc_ws_kline_channel(want->intervals[k - KC_WS_NTOPICS])) == NULL)
			return perps_fail(ctx, PERPS_ERR_ARG, "kucoin streams no kline interval");
		for (int first = 0; first < n; first += KC_WS_SYMBOLS_PER_TOPIC)
		{
			int			last = first + KC_WS_SYMBOLS_PER_TOPIC < n ? first + KC_WS_SYMBOLS_PER_TOPIC : n;
			size_t		cap = 160;
			size_t		used;
			char	   *buf;

			if (nmsg >= PERPS_WS_MAX_MESSAGES)
				return perps_fail(ctx, PERPS_ERR_ARG, "kucoin subscribe needs too many messages");
			for (int i = first; i < last; i++)
				cap += strlen(natives[i]) + 1 + (type ? strlen(type) + 1 : 0);
			buf = perps_alloc(ctx, cap);
			if (buf == NULL)
				return ctx->status;
			used = (size_t) snprintf(buf, cap, "{\"id\":\"sub%d\",\"type\":\"subscribe\",\"topic\":\"%s",
									 nmsg + 1, topic);
			for (int i = first; i < last && used < cap; i++)
				used += (size_t) snprintf(buf + used, cap - used, "%s%s%s%s", i > first ? "," : "", natives[i],
										  type ? "_" : "", type ? type : "");
			if (used < cap)
				used += (size_t) snprintf(buf + used, cap - used,
										  "\",\"privateChannel\":false,\"response\":true}");
			if (used >= cap)
				return perps_fail(ctx, PERPS_ERR_ARG, "kucoin subscribe message too long");
			out[nmsg].data = buf;
			out[nmsg].len = used;
			nmsg++;
		}
	}
	return nmsg;
}

/* A valid decimal text that is zero. */
static bool
kc_decimal_zero(const char *s)
{
	for (; *s && *s != 'e' && *s != 'E'; s++)
		if (*s >= '1' && *s <= '9')
			return false;
	return true;
}

/* One level2 change "price,side,size" as a one-level delta (price 0: no level). */
static PerpsStatus
kc_ws_book(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	const char *change;
	const char *c1;
	const char *c2;
	const char *price;
	const char *side;
	const char *size;
	PerpsLevel *lv;
	struct json_object *t;

	ev->kind = PERPS_EV_BOOK;
	if (perps_json_int64_field(ctx, data, "sequence", &ev->seq) ||
		perps_json_string(ctx, perps_json_get(data, "change"), "change", &change))
		return ctx->status;
	if ((t = perps_json_get(data, "timestamp")) == NULL || json_object_is_type(t, json_type_null))
		t = perps_json_get(data, "ts");
	if (kc_ts_auto(ctx, t, "timestamp", &ev->ts_us))
		return ctx->status;
	c1 = strchr(change, ',');
	c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (c1 == NULL || c2 == NULL || strchr(c2 + 1, ',') != NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin level2 change \"%.60s\" is not price,side,size", change);
	price = perps_strndup(ctx, change, (size_t) (c1 - change));
	side = perps_strndup(ctx, c1 + 1, (size_t) (c2 - c1 - 1));
	size = perps_strndup(ctx, c2 + 1, strlen(c2 + 1));
	if (price == NULL || side == NULL || size == NULL)
		return ctx->status;
	if (!perps_decimal_valid(price, strlen(price)) || !perps_decimal_valid(size, strlen(size)) ||
		price[0] == '-' || size[0] == '-')
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin level2 change \"%.60s\" has a bad price or size", change);
	if (strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin level2 change side is \"%.20s\"", side);
	if (kc_decimal_zero(price))
		return PERPS_OK;		/* only the sequence moves */
	lv = perps_alloc(ctx, sizeof(PerpsLevel));
	if (lv == NULL)
		return ctx->status;
	lv->price = price;
	lv->qty = size;
	if (side[0] == 'b')
	{
		ev->bids = lv;
		ev->nbids = 1;
	}
	else
	{
		ev->asks = lv;
		ev->nasks = 1;
	}
	return PERPS_OK;
}

/* data.symbol, where given, must be the topic's. */
static PerpsStatus
kc_ws_same_symbol(PerpsCtx *ctx, struct json_object *data, const PerpsStreamEvent *ev)
{
	struct json_object *s = perps_json_get(data, "symbol");

	if (s == NULL)
		return PERPS_OK;
	if (!json_object_is_type(s, json_type_string) ||
		strcmp(json_object_get_string(s), ev->native_symbol) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin data of another symbol in the topic of %.40s",
						  ev->native_symbol);
	return PERPS_OK;
}

/*
 * limitCandle:<symbol>_<type>, subject candle.stick: data {symbol,
 * candles: [start (s), open, close, high, low, volume, amount], time (ms)}.
 * KuCoin documents the volume as wrong ("do not use it") and the amount
 * alongside it as unclear, so neither is stored: the row keeps what
 * fetch_klines and backfill() wrote there.
 */
static PerpsStatus
kc_ws_candle(PerpsCtx *ctx, struct json_object *data, const char *type, PerpsStreamEvent *ev)
{
	struct json_object *c;
	PerpsKline *k = &ev->kline;
	int			secs;

	ev->kind = PERPS_EV_KLINE;
	for (int i = 0; i < PERPS_KLINE_MAX && ev->kline_interval == NULL; i++)
		if (strcmp(kc_ws_candle_types[i].theirs, type) == 0)
			ev->kline_interval = kc_ws_candle_types[i].ours;
	if (ev->kline_interval == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin candle type \"%.12s\" is not one perps_stats streams", type);
	secs = perps_interval_seconds(ev->kline_interval);
	if (perps_json_need(ctx, data, "candles", json_type_array, &c) != PERPS_OK ||
		perps_json_ts_field(ctx, data, "time", PERPS_MS, &ev->ts_us) != PERPS_OK)
		return ctx->status;
	if (json_object_array_length(c) < 5)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin candle has %zu fields, not 7", json_object_array_length(c));
	if (perps_json_ts(ctx, json_object_array_get_idx(c, 0), PERPS_S, "candle start", &k->open_time_us) ||
		perps_json_decimal(ctx, json_object_array_get_idx(c, 1), "open", &k->open) ||
		perps_json_decimal(ctx, json_object_array_get_idx(c, 2), "close", &k->close) ||
		perps_json_decimal(ctx, json_object_array_get_idx(c, 3), "high", &k->high) ||
		perps_json_decimal(ctx, json_object_array_get_idx(c, 4), "low", &k->low))
		return ctx->status;
	k->close_time_us = k->open_time_us + (int64_t) secs * 1000000 - 1000;	/* its last ms, as fetch_klines */
	k->volume = NULL;
	k->turnover = NULL;
	k->trade_count = -1;
	return PERPS_OK;
}

static PerpsStatus
kc_ws_trade(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	PerpsTrade *t;
	const char *side;
	struct json_object *v;

	ev->kind = PERPS_EV_TRADES;
	t = ev->trades = perps_alloc(ctx, sizeof(PerpsTrade));
	if (t == NULL)
		return ctx->status;
	/* the older format says matchSize (filled) next to size (left); the current one size (filled) */
	v = perps_json_get(data, "matchSize");
	if (v == NULL || json_object_is_type(v, json_type_null))
		v = perps_json_get(data, "size");
	if (perps_json_id(ctx, perps_json_get(data, "tradeId"), "tradeId", &t->trade_id) ||
		perps_json_decimal_field(ctx, data, "price", true, &t->price) ||
		perps_json_decimal(ctx, v, "size", &t->qty) ||
		perps_json_string(ctx, perps_json_get(data, "side"), "side", &side))
		return ctx->status;
	if ((v = perps_json_get(data, "ts")) == NULL || json_object_is_type(v, json_type_null))
		v = perps_json_get(data, "time");
	if (kc_ts_auto(ctx, v, "ts", &t->ts_us))
		return ctx->status;
	if (t->price[0] == '-' || t->qty[0] == '-')
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin trade with a negative price or size");
	if (strcmp(side, "buy") == 0)
		t->is_buy = true;
	else if (strcmp(side, "sell") == 0)
		t->is_buy = false;
	else
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kucoin trade side is \"%.20s\", expected buy or sell", side);
	ev->ntrades = 1;
	ev->ts_us = t->ts_us;
	return PERPS_OK;
}

static PerpsStatus
kc_ws_ticker_v2(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;

	ev->kind = PERPS_EV_TICKER;
	if (perps_json_decimal_field(ctx, data, "bestBidPrice", false, &t->best_bid_price) ||
		perps_json_decimal_field(ctx, data, "bestBidSize", false, &t->best_bid_qty) ||
		perps_json_decimal_field(ctx, data, "bestAskPrice", false, &t->best_ask_price) ||
		perps_json_decimal_field(ctx, data, "bestAskSize", false, &t->best_ask_qty) ||
		kc_ts_auto(ctx, perps_json_get(data, "ts"), "ts", &ev->ts_us))
		return ctx->status;
	return PERPS_OK;
}

static PerpsStatus
kc_ws_snapshot_24h(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;

	ev->kind = PERPS_EV_TICKER;
	if (perps_json_decimal_field(ctx, data, "lastPrice", false, &t->last_price) ||
		perps_json_decimal_field(ctx, data, "volume", false, &t->volume_24h) ||
		perps_json_decimal_field(ctx, data, "turnover", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, data, "priceChg", false, &t->price_change_24h) ||
		perps_json_decimal_field(ctx, data, "priceChgPct", false, &t->price_change_pct) ||
		perps_json_decimal_field(ctx, data, "highPrice", false, &t->high_24h) ||
		perps_json_decimal_field(ctx, data, "lowPrice", false, &t->low_24h) ||
		kc_ts_auto(ctx, perps_json_get(data, "ts"), "ts", &ev->ts_us))
		return ctx->status;
	/* the 24 h volume is in base currency, not contracts: nothing to multiply */
	t->contract_size = "1";
	return PERPS_OK;
}

static PerpsStatus
kc_ws_instrument(PerpsCtx *ctx, const char *subject, struct json_object *data, PerpsStreamEvent *ev)
{
	ev->kind = PERPS_EV_TICKER;
	if (kc_ts_auto(ctx, perps_json_get(data, "timestamp"), "timestamp", &ev->ts_us))
		return ctx->status;
	if (strcmp(subject, "mark.index.price") == 0)
		return perps_json_decimal_field(ctx, data, "markPrice", false, &ev->ticker.mark_price) ||
			perps_json_decimal_field(ctx, data, "indexPrice", false, &ev->ticker.index_price) ?
			ctx->status : PERPS_OK;
	if (strcmp(subject, "funding.rate") == 0)
	{
		int64_t		gran;

		if (perps_json_decimal_field(ctx, data, "fundingRate", true, &ev->funding_rate) ||
			perps_json_int64_field(ctx, data, "granularity", &gran))
			return ctx->status;
		/* a whole number of hours: the rate settled at timestamp for that interval */
		if (gran >= 3600000 && gran <= INT64_C(7) * 24 * 3600000 && gran % 3600000 == 0)
		{
			ev->funding_interval_hours = kc_hours_of_ms(ctx, gran);
			ev->next_funding_time_us = ev->ts_us;
		}
		return ctx->status;
	}
	ev->kind = PERPS_EV_CONTROL;	/* a subject we do not read */
	return PERPS_OK;
}

static PerpsStatus
kc_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *d;
	PerpsStreamEvent *ev;
	const char *type;
	const char *topic;
	const char *subject;
	const char *colon;
	const char *kind = NULL;

	if (perps_ws_json_begin(ctx, "kucoin", data, len, binary, KC_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	ev = perps_ws_event_new(ctx);
	if (ev == NULL)
		goto done;
	if (perps_json_string(ctx, perps_json_get(root, "type"), "type", &type))
		goto done;
	if (strcmp(type, "message") != 0)
	{
		/* welcome, ack, pong, notice ...; an error names its code and text */
		ev->kind = PERPS_EV_CONTROL;
		if (strcmp(type, "error") == 0)
		{
			struct json_object *code = perps_json_get(root, "code");
			struct json_object *msg = perps_json_get(root, "data");
			char		text[200];

			snprintf(text, sizeof(text), "kucoin error %.20s: %.150s",
					 code && (json_object_is_type(code, json_type_int) ||
							  json_object_is_type(code, json_type_string)) ?
					 json_object_get_string(code) : "(no code)",
					 msg && json_object_is_type(msg, json_type_string) ?
					 json_object_get_string(msg) : "(no message)");
			ev->is_error = true;
			ev->message = perps_strndup(ctx, text, strlen(text));
			if (ev->message == NULL)
				goto done;
		}
		goto one;
	}
	if (perps_json_string(ctx, perps_json_get(root, "topic"), "topic", &topic) ||
		perps_json_string(ctx, perps_json_get(root, "subject"), "subject", &subject) ||
		perps_json_need(ctx, root, "data", json_type_object, &d))
		goto done;
	ev->channel = topic;
	colon = strrchr(topic, ':');
	if (colon == NULL || !kc_safe_symbol(colon + 1))
	{
		/* not a per-symbol topic of ours (several symbols, or none) */
		ev->kind = PERPS_EV_CONTROL;
		goto one;
	}
	ev->native_symbol = colon + 1;
	if (strncmp(topic, KC_WS_CANDLE_TOPIC, strlen(KC_WS_CANDLE_TOPIC)) == 0 &&
		(size_t) (colon + 1 - topic) == strlen(KC_WS_CANDLE_TOPIC))
	{
		/* <symbol>_<type>: the symbol before the last underscore */
		const char *us = strrchr(colon + 1, '_');
		char	   *sym;

		if (us == NULL || us == colon + 1 || strcmp(subject, "candle.stick") != 0)
		{
			ev->kind = PERPS_EV_CONTROL;
			goto one;
		}
		if ((sym = perps_strndup(ctx, colon + 1, (size_t) (us - colon - 1))) == NULL)
			goto done;
		ev->native_symbol = sym;
		if (kc_ws_same_symbol(ctx, d, ev) != PERPS_OK ||
			kc_ws_candle(ctx, d, us + 1, ev) != PERPS_OK)
			goto done;
		goto one;
	}
	for (int k = 0; k < KC_WS_NTOPICS; k++)
		if (strlen(kc_ws_topics[k]) == (size_t) (colon + 1 - topic) &&
			strncmp(topic, kc_ws_topics[k], (size_t) (colon + 1 - topic)) == 0)
			kind = kc_ws_topics[k];
	if (kind == NULL)
		ev->kind = PERPS_EV_CONTROL;	/* a topic we did not ask for */
	else if (kc_ws_same_symbol(ctx, d, ev) != PERPS_OK)
		goto done;
	else if (kind == kc_ws_topics[0] && strcmp(subject, "level2") == 0)
		kc_ws_book(ctx, d, ev);
	else if (kind == kc_ws_topics[1] && strcmp(subject, "match") == 0)
		kc_ws_trade(ctx, d, ev);
	else if (kind == kc_ws_topics[2] && strcmp(subject, "tickerV2") == 0)
		kc_ws_ticker_v2(ctx, d, ev);
	else if (kind == kc_ws_topics[3] && strcmp(subject, "snapshot.24h") == 0)
		kc_ws_snapshot_24h(ctx, d, ev);
	else if (kind == kc_ws_topics[4])
		kc_ws_instrument(ctx, subject, d, ev);
	else
		ev->kind = PERPS_EV_CONTROL;	/* a subject we do not read */
	if (ctx->status != PERPS_OK)
		goto done;
	if (ev->kind == PERPS_EV_TICKER)
		ev->ticker.native_symbol = ev->native_symbol;
one:
	return perps_ws_json_end_one(ctx, root, ev, out);
done:
	return perps_ws_json_end(ctx, root, out);
}

/*
 * The book comes from the REST snapshot (its sequence); each change has
 * the next sequence.  No book yet: the worker syncs it (GAP).
 */
static PerpsSeqCheck
kc_ws_seq_rule(bool have_book, int64_t last_seq, const PerpsStreamEvent *ev)
{
	if (!have_book)
		return PERPS_SEQ_GAP;
	return perps_seq_next(last_seq, ev);
}

static const PerpsStreamAdapter kc_stream = {
	.quote = "USDT",
	.qty_in_contracts = true,
	.await_hello = true,		/* requests only after {"type":"welcome"} */
	.book_depth = 0,			/* level2 is the full book */
	.ping_message = "{\"id\":\"perps-ping\",\"type\":\"ping\"}",
	.ping_interval_s = KC_WS_PING_S,
	.max_message_bytes = KC_WS_MAX_MESSAGE,
	.rest_snapshot = true,
	.snapshot_depth = KC_WS_SNAPSHOT_LEVELS,
	.max_connection_s = 24 * 3600,	/* the token lasts 24 h; KuCoin ends connections then */
	.connect_build = kc_ws_connect_build,
	.connect_parse = kc_ws_connect_parse,
	.subscribe = kc_ws_subscribe,
	.kline_channel = kc_ws_kline_channel,
	.resync = NULL,
	.parse_frame = kc_ws_parse,
	.seq_rule = kc_ws_seq_rule,
};

const PerpsAdapter perps_adapter_kucoin = {
	.name = "kucoin",
	.native_symbol = kc_native_symbol,
	.needs_markets = true,
	.symbol_ok = kc_safe_symbol,
	.symbol_what = "a native symbol like XBTUSDTM",
	.open_body = kc_open_body,
	.methods = {
		[PERPS_M_MARKETS] = {.build = kc_build_markets, .parse = kc_parse_markets},
		[PERPS_M_TICKER] = {.build = kc_build_ticker, .parse = kc_parse_ticker},
		[PERPS_M_TICKERS] = {.build = kc_build_tickers, .parse = kc_parse_tickers},
		[PERPS_M_ORDERBOOK] = {.build = kc_build_orderbook, .parse = kc_parse_orderbook},
		[PERPS_M_FUNDING] = {.build = kc_build_funding, .parse = kc_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = kc_build_funding_history, .parse = kc_parse_funding_history},
		[PERPS_M_OPEN_INTEREST] = {.build = kc_build_open_interest, .parse = kc_parse_open_interest},
		[PERPS_M_KLINES] = {.build = kc_build_klines, .parse = kc_parse_klines},
		[PERPS_M_TRADES] = {.build = kc_build_trades, .parse = kc_parse_trades},
	},
	/* public pool: 2000 weight per 30 s per IP */
	.rate_limit = {.weight = 2000, .window_ms = 30000},
	.max_kline_page = KC_KLINE_PAGE,
	.max_funding_page = KC_FUNDING_PAGE,
	.max_trades_page = KC_TRADES_PAGE,
	.no_trades_history = KC_NO_TRADE_HISTORY,
	.stream = &kc_stream,
};
