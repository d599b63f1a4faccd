/*-------------------------------------------------------------------------
 *
 * src/venues/grvt.c
 *		GRVT (Gravity Markets) public market data over REST: the POST JSON
 *		API of the market-data host (https://market-data.grvt.io, paths
 *		/full/v1/...), perpetuals only (kind PERPETUAL); and the stream
 *		side (at the end): the JSON-RPC market-data WebSocket (/ws/full).
 *
 * Facts relied on, from GRVT's API documentation (api-docs.grvt.io,
 * "MarketData APIs"; its source gravity-technologies/api-spec,
 * artifacts/apidocs/market_data_api.md and artifacts/apidocs/schemas/):
 *
 * - Every request is a POST with a JSON body; answers are {"result": ...}
 *   (older versions of the documentation say "results": both are read),
 *   errors {"code": 1001, "message": "...", "status": 500} with that HTTP
 *   status (1003 / 404 "Data Not Found" for an unknown instrument).
 * - Instruments are named BASE_QUOTE_Perp (BTC_USDT_Perp); every perpetual
 *   is quoted in USDT, so BTC <-> BTC_USDT_Perp.  full/v1/instruments
 *   takes kind / is_active / limit (default 500, max 100000) filters and
 *   answers InstrumentDisplay objects: instrument, base, quote, kind,
 *   tick_size, min_size, max_position_size, funding_interval_hours
 *   (1, 4 or 8 since October 2025, help.grvt.io "New Funding Rate
 *   Mechanism").
 * - Sizes are base units ("expressed in base asset decimal units"), prices
 *   quote: nothing is in contracts, the contract size is 1.  Every decimal
 *   is a JSON string (the funding rate may be a number); they are kept as
 *   sent.  Times are unix nanoseconds as strings (19 digits).
 * - full/v1/ticker is one instrument a request (there is no endpoint for
 *   all tickers): last, mark, index, best bid / ask with sizes, the 24 h
 *   taker buy and sell volumes in base (buy_volume_24h_b, older docs
 *   buy_volume_24h_u) and quote (_q), high, low and open price of the
 *   last 24 h, open interest (base), funding_rate and next_funding_time.
 *   No percentage change: the documentation lists it among the derived
 *   fields not sent; price_change_24h = last_price - open_price (exact),
 *   price_change_pct stays NULL (it would need a division).
 * - full/v1/book: instrument and depth, one of 10, 50, 100 and 500
 *   (ApiOrderbookLevelsRequest of the current api-spec and grvt-pysdk);
 *   levels are {price, size, num_orders} objects, best first.  Older
 *   versions of the spec capped depth at 100 and had an "aggregate" field
 *   (1, 10, 100 or 1000 levels merged into one); the current one has
 *   neither, so no aggregate is sent and no coarser book is asked for.
 * - full/v1/trades: the most recent trades, limit default 500, max 1000.
 *   full/v1/trade_history: the same trades over [start_time, end_time]
 *   (ns), newest first, limit up to 1000, cursor-paged ("next"); the last
 *   three months are kept.  trade_id is "globally unique, monotonically
 *   increasing (not by 1)", with a "-n" component per fill of one taker
 *   execution: kept as text.  is_taker_buyer is the taker's side.
 * - full/v1/kline: interval CI_1_M .. CI_1_D, type TRADE, start_time /
 *   end_time (ns), limit default 500, max 1000, newest first;
 *   open_time / close_time (ns), open, high, low, close, volume_b (older
 *   docs volume_u) in base, volume_q in quote, trades.
 * - full/v1/funding: the settled funding rates over [start_time,
 *   end_time], limit default 500, max 1000, newest first, cursor-paged;
 *   funding_rate, funding_time (ns), funding_interval_hours.
 *
 * Where the documentation contradicts itself, what this adapter chose:
 *
 * - Funding rates.  The funding history's schema says funding_rate is in
 *   "percentage points" (ApiFundingRate); older versions and the ticker's
 *   schema say "centibeeps" (1/100 of a basis point).  Values served are
 *   of the size of a percentage ("0.01" for the usual 1 bp), and a
 *   centibeep reading would make them a hundred times too small, so both
 *   are read as percent: rate = funding_rate / 100, exactly (the decimal
 *   point moves two places).  The ticker's funding_rate is the indicative
 *   rate "for the active interval", one interval's rate (not 8 h
 *   normalised, unlike the deprecated funding_rate_8h_curr, which is not
 *   read): stored for the funding time next_funding_time, with the
 *   instrument's funding_interval_hours (full/v1/instrument).
 * - max_qty is the instrument's max_position_size (no order size limit is
 *   published; a position cannot exceed it), lot_size and min_qty its
 *   min_size; no minimum notional and no leverage are published (NULL).
 *   A missing funding_interval_hours stays NULL rather than a guess.
 * - Order book depth: asked as the smallest of 10, 50, 100 and 500 levels
 *   that covers the depth wanted (500, the deepest, when more is wanted).
 * - Rate limit: no per-IP limit of the public market data API is
 *   published in the documentation found; every request weighs 1 against
 *   a conservative 600 requests a minute (10 a second), which
 *   exchanges.rate_limit_weight can raise.
 *
 * Plain C (see adapter.h): no PostgreSQL API, no I/O.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#define GV_SUFFIX "_USDT_Perp"
#define GV_PAGE 1000			/* limit max of kline, funding, trades, trade_history */
#define GV_PAGE_DEFAULT 500		/* their default limit */
#define GV_INSTRUMENTS_LIMIT 100000 /* limit max of full/v1/instruments */
#define GV_BODY_MAX 1536
#define GV_CURSOR_MAX 512

/* ---- symbols ---- */

static bool
gv_native_symbol(const char *global, char *buf, size_t buflen)
{
	int			n;

	if (!perps_symbol_ok(global, 32, false, ""))
		return false;
	n = snprintf(buf, buflen, "%s" GV_SUFFIX, global);
	return n > 0 && (size_t) n < buflen;
}

/* an instrument name: [A-Za-z0-9_], what a JSON string can carry unescaped */
static bool
gv_symbol_ok(const char *s)
{
	return perps_symbol_ok(s, 64, true, "_");
}

/* a pagination cursor: base64 text, nothing a JSON string would need to escape */
static bool
gv_cursor_ok(const char *s)
{
	size_t		n = strlen(s);

	return n > 0 && n <= GV_CURSOR_MAX &&
		strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.") == n;
}

/* ---- request building ---- */

static bool
gv_post(PerpsCtx *ctx, PerpsRequest *r, const char *path, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

/* A POST of a JSON body to path; every request weighs 1 (none is documented heavier). */
static bool
gv_post(PerpsCtx *ctx, PerpsRequest *r, const char *path, const char *fmt,...)
{
	va_list		ap;
	char		buf[GV_BODY_MAX];
	int			n;

	if (perps_request_path(ctx, r, 1, "%s", path) != PERPS_OK)
		return false;
	r->post = true;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(buf))
	{
		perps_fail(ctx, PERPS_ERR_ARG, "grvt request body too long");
		return false;
	}
	r->body = perps_strndup(ctx, buf, (size_t) n);
	return r->body != NULL;
}

/* µs since the epoch as the ns text GRVT takes; end: the last ns of that µs */
static bool
gv_ns(PerpsCtx *ctx, int64_t us, bool end, char *buf, size_t len)
{
	if (us < 0 || us > INT64_MAX / 1000 - 1)
	{
		perps_fail(ctx, PERPS_ERR_ARG, "grvt: a time outside 1970 .. 2262 cannot be asked for");
		return false;
	}
	snprintf(buf, len, "%lld", (long long) (us * 1000 + (end ? 999 : 0)));
	return true;
}

/*
 * The members of a history request after the instrument: limit, the time
 * range (start_time / end_time in ns, when given) and the cursor.
 */
static bool
gv_range_members(PerpsCtx *ctx, int64_t since_us, int64_t until_us, int limit, const char *cursor,
				 char *buf, size_t len)
{
	char		st[32],
				et[32];
	int			n;

	if (since_us != PERPS_TS_NONE && !gv_ns(ctx, since_us, false, st, sizeof(st)))
		return false;
	if (until_us != PERPS_TS_NONE && !gv_ns(ctx, until_us, true, et, sizeof(et)))
		return false;
	if (cursor != NULL && cursor[0] != '\0' && !gv_cursor_ok(cursor))
	{
		perps_fail(ctx, PERPS_ERR_ARG, "grvt: malformed cursor");
		return false;
	}
	n = snprintf(buf, len, ",\"limit\":%d%s%s%s%s%s%s%s%s%s", limit,
				 since_us != PERPS_TS_NONE ? ",\"start_time\":\"" : "", since_us != PERPS_TS_NONE ? st : "",
				 since_us != PERPS_TS_NONE ? "\"" : "",
				 until_us != PERPS_TS_NONE ? ",\"end_time\":\"" : "", until_us != PERPS_TS_NONE ? et : "",
				 until_us != PERPS_TS_NONE ? "\"" : "",
				 cursor && cursor[0] ? ",\"cursor\":\"" : "", cursor && cursor[0] ? cursor : "",
				 cursor && cursor[0] ? "\"" : "");
	if (n < 0 || (size_t) n >= len)
	{
		perps_fail(ctx, PERPS_ERR_ARG, "grvt request body too long");
		return false;
	}
	return true;
}

/* rows of a history page: the query's limit up to 1000, else the venue's default 500 */
static int
gv_rows(const PerpsQuery *q)
{
	return q->limit <= 0 ? GV_PAGE_DEFAULT : q->limit < GV_PAGE ? q->limit : GV_PAGE;
}

static int
gv_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return gv_post(ctx, &reqs[0], "/full/v1/instruments",
				   "{\"kind\":[\"PERPETUAL\"],\"is_active\":true,\"limit\":%d}", GV_INSTRUMENTS_LIMIT) ?
		1 : ctx->status;
}

/* the market's ticker: ticker, open interest */
static int
gv_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return gv_post(ctx, &reqs[0], "/full/v1/ticker", "{\"instrument\":\"%s\"}", q->market->native_symbol) ?
		1 : ctx->status;
}

/* the funding rate: the ticker (rate, next funding time) and the instrument (its interval) */
static int
gv_build_funding(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	return gv_post(ctx, &reqs[0], "/full/v1/ticker", "{\"instrument\":\"%s\"}", sym) &&
		gv_post(ctx, &reqs[1], "/full/v1/instrument", "{\"instrument\":\"%s\"}", sym) ? 2 : ctx->status;
}

static int
gv_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	static const int depths[] = {10, 50, 100, 500};	/* the documented values */
	int			k = 0;

	while (k < 3 && (q->depth <= 0 || depths[k] < q->depth))
		k++;
	return gv_post(ctx, &reqs[0], "/full/v1/book", "{\"instrument\":\"%s\",\"depth\":%d}",
				   q->market->native_symbol, depths[k]) ? 1 : ctx->status;
}

static int
gv_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	char		m[GV_CURSOR_MAX + 160];

	if (!gv_range_members(ctx, q->since_us, q->until_us, gv_rows(q), q->cursor, m, sizeof(m)))
		return ctx->status;
	return gv_post(ctx, &reqs[0], "/full/v1/funding", "{\"instrument\":\"%s\"%s}",
				   q->market->native_symbol, m) ? 1 : ctx->status;
}

static const char *
gv_interval(const char *interval)
{
	static const char *const names[][2] = {
		{"1m", "CI_1_M"}, {"5m", "CI_5_M"}, {"15m", "CI_15_M"}, {"30m", "CI_30_M"},
		{"1h", "CI_1_H"}, {"4h", "CI_4_H"}, {"1d", "CI_1_D"},
	};

	for (size_t i = 0; interval != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i][0], interval) == 0)
			return names[i][1];
	return NULL;
}

/*
 * Klines: one window of `rows` candles from since (or ending at until, or
 * now), asked with limit rows, so that one answer holds the whole window;
 * the caller goes on from next_since_us.
 */
static int
gv_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *ci = gv_interval(q->interval);
	int64_t		step_us = (int64_t) perps_interval_seconds(q->interval) * 1000000;
	int			rows = gv_rows(q);
	int64_t		start,
				end;
	char		st[32],
				et[32];

	if (ci == NULL || step_us <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "grvt: unsupported kline interval \"%s\"",
						  q->interval ? q->interval : "(null)");
	if (!perps_page_window(q, 1, rows * step_us, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "grvt: since is after until");
	if (!gv_ns(ctx, start, false, st, sizeof(st)) || !gv_ns(ctx, end, true, et, sizeof(et)))
		return ctx->status;
	return gv_post(ctx, &reqs[0], "/full/v1/kline",
				   "{\"instrument\":\"%s\",\"interval\":\"%s\",\"type\":\"TRADE\",\"start_time\":\"%s\","
				   "\"end_time\":\"%s\",\"limit\":%d}",
				   q->market->native_symbol, ci, st, et, rows) ? 1 : ctx->status;
}

/* recent trades without a time range, trade history with one */
static int
gv_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	char		m[GV_CURSOR_MAX + 160];

	if (q->since_us == PERPS_TS_NONE && q->until_us == PERPS_TS_NONE && (q->cursor == NULL || !q->cursor[0]))
		return gv_post(ctx, &reqs[0], "/full/v1/trades", "{\"instrument\":\"%s\",\"limit\":%d}",
					   sym, gv_rows(q)) ? 1 : ctx->status;
	if (!gv_range_members(ctx, q->since_us, q->until_us, gv_rows(q), q->cursor, m, sizeof(m)))
		return ctx->status;
	return gv_post(ctx, &reqs[0], "/full/v1/trade_history", "{\"instrument\":\"%s\"%s}", sym, m) ?
		1 : ctx->status;
}

/* ---- parsers ---- */

/* PerpsAdapter.open_body: errors are {"code": N, "message": "...", "status": S} */
static PerpsStatus
gv_open(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
{
	struct json_object *code;

	*root = NULL;
	if (perps_json_parse(ctx, b->data, b->len, root) != PERPS_OK)
	{
		if (b->status != 200)
			return perps_fail(ctx, PERPS_ERR_VENUE, "HTTP status %ld", b->status);
		return ctx->status;
	}
	/* an error payload, or an error status; a 200 that is not an object fails as a shape later */
	code = perps_json_get(*root, "code");
	if (b->status != 200 ||
		(code != NULL && perps_json_get(*root, "result") == NULL && perps_json_get(*root, "results") == NULL))
	{
		struct json_object *msg = perps_json_get(*root, "message");
		PerpsStatus st;

		st = perps_fail(ctx, PERPS_ERR_VENUE, "grvt error %.20s (HTTP %ld): %s",
						code && (json_object_is_type(code, json_type_int) ||
								 json_object_is_type(code, json_type_string)) ?
						json_object_get_string(code) : "(none)",
						b->status,
						msg && json_object_is_type(msg, json_type_string) ?
						json_object_get_string(msg) : "(no message)");
		json_object_put(*root);
		*root = NULL;
		return st;
	}
	return PERPS_OK;
}

/* The answer's result ("results" in older versions of the documentation), of the given type. */
static PerpsStatus
gv_result(PerpsCtx *ctx, struct json_object *root, json_type type, struct json_object **out)
{
	struct json_object *r = perps_json_get(root, "result");

	if (r == NULL)
		r = perps_json_get(root, "results");
	if (r == NULL || !json_object_is_type(r, type))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "\"result\" is missing or not %s",
						  type == json_type_array ? "an array" : "an object");
	*out = r;
	return PERPS_OK;
}

/* obj[key], or obj[alt] when it has no key (a field renamed between versions of the docs) */
static PerpsStatus
gv_decimal(PerpsCtx *ctx, struct json_object *obj, const char *key, const char *alt, const char **out)
{
	if (alt != NULL && perps_json_get(obj, key) == NULL)
		key = alt;
	return perps_json_decimal_field(ctx, obj, key, false, out);
}

/* a + b, exactly (NULL when either is NULL) */
static const char *
gv_add(PerpsCtx *ctx, const char *a, const char *b)
{
	const char *neg;

	if (a == NULL || b == NULL)
		return NULL;
	neg = perps_decimal_sub(ctx, "0", b);
	return neg ? perps_decimal_sub(ctx, a, neg) : NULL;
}

/* a rate in percent as a fraction: the decimal point two places left */
static const char *
gv_percent(PerpsCtx *ctx, const char *pct)
{
	return pct ? perps_decimal_shift(ctx, pct, -2) : NULL;
}

/* The instrument an answer is about, when it names one: it must be the one asked for. */
static PerpsStatus
gv_same_instrument(PerpsCtx *ctx, struct json_object *o, const char *want)
{
	struct json_object *i = perps_json_get(o, "instrument");

	if (i == NULL || json_object_is_type(i, json_type_null))
		return PERPS_OK;
	if (!perps_json_str_eq(i, want))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "the answer is about %.64s, not %s",
						  json_object_is_type(i, json_type_string) ? json_object_get_string(i) : "(not a string)",
						  want);
	return PERPS_OK;
}

/* funding_interval_hours (an integer), as decimal text; NULL when not sent */
static PerpsStatus
gv_interval_hours(PerpsCtx *ctx, struct json_object *o, const char **out)
{
	struct json_object *v = perps_json_get(o, "funding_interval_hours");
	int64_t		h;
	char		buf[24];

	*out = NULL;
	if (v == NULL || json_object_is_type(v, json_type_null))
		return PERPS_OK;
	if (perps_json_int64(ctx, v, "funding_interval_hours", &h))
		return ctx->status;
	if (h < 1 || h > 24 * 366)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "funding_interval_hours %lld is out of range", (long long) h);
	snprintf(buf, sizeof(buf), "%lld", (long long) h);
	*out = perps_strndup(ctx, buf, strlen(buf));
	return *out ? PERPS_OK : ctx->status;
}

/* a time in ns, PERPS_TS_NONE when absent or null */
static PerpsStatus
gv_ts_opt(PerpsCtx *ctx, struct json_object *o, const char *key, int64_t *us)
{
	struct json_object *v = perps_json_get(o, key);

	*us = PERPS_TS_NONE;
	if (v == NULL || json_object_is_type(v, json_type_null))
		return PERPS_OK;
	return perps_json_ts(ctx, v, PERPS_NS, key, us);
}

static PerpsStatus
gv_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int			k = 0;

	if (gv_result(ctx, docs[0], json_type_array, &arr) || perps_need_array(ctx, arr, "result", &n))
		return ctx->status;
	if ((out->u.markets = perps_alloc_array(ctx, n, sizeof(PerpsMarket))) == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct json_object *act;
		PerpsMarket *mk = &out->u.markets[k];

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "instrument %zu is not an object", i);
		/* perpetuals only (the filter asked for them; futures and options are skipped all the same) */
		if (!perps_json_str_eq(perps_json_get(o, "kind"), "PERPETUAL"))
			continue;
		/* an inactive instrument, where the answer says so */
		act = perps_json_get(o, "is_active");
		if (act != NULL && json_object_is_type(act, json_type_boolean) && !json_object_get_boolean(act))
			continue;
		if (perps_json_string(ctx, perps_json_get(o, "instrument"), "instrument", &mk->native_symbol) ||
			perps_json_string(ctx, perps_json_get(o, perps_json_get(o, "base") ? "base" : "underlying"),
							  "base", &mk->base) ||
			perps_json_string(ctx, perps_json_get(o, "quote"), "quote", &mk->quote) ||
			perps_json_decimal_field(ctx, o, "tick_size", true, &mk->tick_size) ||
			perps_json_decimal_field(ctx, o, "min_size", true, &mk->lot_size) ||
			perps_json_decimal_field(ctx, o, "max_position_size", false, &mk->max_qty) ||
			gv_interval_hours(ctx, o, &mk->funding_interval_hours))
			return ctx->status;
		if (!gv_symbol_ok(mk->native_symbol) || !perps_symbol_ok(mk->base, 32, false, ""))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "instrument %zu has a malformed name", i);
		mk->symbol = mk->base;
		mk->contract_size = "1";
		mk->min_qty = mk->lot_size;
		mk->active = true;
		k++;
	}
	out->n = k;
	return PERPS_OK;
}

/*
 * A ticker object's fields (full/v1/ticker's result, a v1.ticker.s feed):
 * absent fields stay NULL; the derived ones need both of their parts.
 */
static PerpsStatus
gv_ticker_read(PerpsCtx *ctx, struct json_object *o, PerpsTicker *t)
{
	const char *buy_b,
			   *sell_b,
			   *buy_q,
			   *sell_q,
			   *open;

	if (gv_ts_opt(ctx, o, "event_time", &t->ts_us) ||
		gv_decimal(ctx, o, "last_price", NULL, &t->last_price) ||
		gv_decimal(ctx, o, "mark_price", NULL, &t->mark_price) ||
		gv_decimal(ctx, o, "index_price", NULL, &t->index_price) ||
		gv_decimal(ctx, o, "best_bid_price", NULL, &t->best_bid_price) ||
		gv_decimal(ctx, o, "best_bid_size", NULL, &t->best_bid_qty) ||
		gv_decimal(ctx, o, "best_ask_price", NULL, &t->best_ask_price) ||
		gv_decimal(ctx, o, "best_ask_size", NULL, &t->best_ask_qty) ||
		gv_decimal(ctx, o, "buy_volume_24h_b", "buy_volume_24h_u", &buy_b) ||
		gv_decimal(ctx, o, "sell_volume_24h_b", "sell_volume_24h_u", &sell_b) ||
		gv_decimal(ctx, o, "buy_volume_24h_q", NULL, &buy_q) ||
		gv_decimal(ctx, o, "sell_volume_24h_q", NULL, &sell_q) ||
		gv_decimal(ctx, o, "high_price", NULL, &t->high_24h) ||
		gv_decimal(ctx, o, "low_price", NULL, &t->low_24h) ||
		gv_decimal(ctx, o, "open_price", NULL, &open) ||
		gv_decimal(ctx, o, "open_interest", NULL, &t->open_interest))
		return ctx->status;
	/* exact: the 24 h volumes are the taker buys plus the taker sells */
	if ((buy_b && sell_b && (t->volume_24h = gv_add(ctx, buy_b, sell_b)) == NULL) ||
		(buy_q && sell_q && (t->turnover_24h = gv_add(ctx, buy_q, sell_q)) == NULL) ||
		(t->last_price && open && (t->price_change_24h = perps_decimal_sub(ctx, t->last_price, open)) == NULL) ||
		(t->open_interest && t->mark_price &&
		 (t->open_interest_notional = perps_decimal_mul(ctx, t->open_interest, t->mark_price)) == NULL))
		return ctx->status;
	return PERPS_OK;
}

/* The ticker of an answer of full/v1/ticker about the instrument q asks for. */
static PerpsStatus
gv_ticker_of(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsTicker *t,
			 struct json_object **res)
{
	struct json_object *o;

	if (gv_result(ctx, root, json_type_object, &o) || gv_same_instrument(ctx, o, q->market->native_symbol))
		return ctx->status;
	*res = o;
	t->native_symbol = q->market->native_symbol;
	return gv_ticker_read(ctx, o, t);
}

static PerpsStatus
gv_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *o;

	if ((out->u.tickers = perps_alloc(ctx, sizeof(PerpsTicker))) == NULL ||
		gv_ticker_of(ctx, q, docs[0], &out->u.tickers[0], &o))
		return ctx->status;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
gv_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	PerpsTicker t;
	struct json_object *o;

	memset(&t, 0, sizeof(t));
	if (gv_ticker_of(ctx, q, docs[0], &t, &o))
		return ctx->status;
	return perps_open_interest_of(ctx, &t, out);
}

static PerpsStatus
gv_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *o,
			   *ins;
	const char *pct;
	int64_t		event_us;
	PerpsFunding *f;

	if (perps_need_docs(ctx, ndocs, 2) ||
		gv_result(ctx, docs[0], json_type_object, &o) || gv_same_instrument(ctx, o, q->market->native_symbol) ||
		gv_result(ctx, docs[1], json_type_object, &ins) || gv_same_instrument(ctx, ins, q->market->native_symbol))
		return ctx->status;
	if ((f = out->u.funding = perps_alloc(ctx, sizeof(PerpsFunding))) == NULL)
		return ctx->status;
	if (perps_json_decimal_field(ctx, o, "funding_rate", true, &pct) ||
		gv_ts_opt(ctx, o, "next_funding_time", &f->next_funding_time_us) ||
		gv_ts_opt(ctx, o, "event_time", &event_us) ||
		gv_interval_hours(ctx, ins, &f->interval_hours))
		return ctx->status;
	/* percent -> fraction, for the interval that ends at next_funding_time */
	if ((f->rate = gv_percent(ctx, pct)) == NULL)
		return ctx->status;
	f->funding_time_us = f->next_funding_time_us != PERPS_TS_NONE ? f->next_funding_time_us : event_us;
	if (f->funding_time_us == PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "the ticker has neither next_funding_time nor event_time");
	out->n = 1;
	return PERPS_OK;
}

/* A side of the book: [{price, size, num_orders}, ...], the first depth of them (0: all). */
static PerpsStatus
gv_levels(PerpsCtx *ctx, struct json_object *o, const char *key, int depth, PerpsLevel **levels, int *nl)
{
	return perps_parse_level_objs(ctx, perps_json_get(o, key), key, depth, "price", "size", levels, nl);
}

static PerpsStatus
gv_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	struct json_object *o;
	PerpsBook  *bk;

	if (gv_result(ctx, docs[0], json_type_object, &o) || gv_same_instrument(ctx, o, q->market->native_symbol))
		return ctx->status;
	if ((bk = out->u.book = perps_alloc(ctx, sizeof(PerpsBook))) == NULL)
		return ctx->status;
	if (gv_levels(ctx, o, "bids", q->depth, &bk->bids, &bk->nbids) ||
		gv_levels(ctx, o, "asks", q->depth, &bk->asks, &bk->nasks) ||
		gv_ts_opt(ctx, o, "event_time", &bk->ts_us))
		return ctx->status;
	bk->has_seq = false;		/* the REST book carries no sequence number */
	out->n = 1;
	return PERPS_OK;
}

/* The "next" cursor of a page: has_more and next_cursor (none when absent, null or empty). */
static PerpsStatus
gv_next(PerpsCtx *ctx, struct json_object *root, PerpsResult *out)
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
	if (!gv_cursor_ok(out->next_cursor))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "malformed \"next\" cursor");
	out->has_more = true;
	return PERPS_OK;
}

static PerpsStatus
gv_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						 PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;

	if (gv_result(ctx, docs[0], json_type_array, &arr) || perps_need_array(ctx, arr, "result", &n))
		return ctx->status;
	if ((out->u.funding = perps_alloc_array(ctx, n, sizeof(PerpsFunding))) == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsFunding *f = &out->u.funding[i];
		const char *pct;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "funding %zu is not an object", i);
		if (gv_same_instrument(ctx, o, q->market->native_symbol) ||
			perps_json_ts_field(ctx, o, "funding_time", PERPS_NS, &f->funding_time_us) ||
			perps_json_decimal_field(ctx, o, "funding_rate", true, &pct) ||
			gv_interval_hours(ctx, o, &f->interval_hours))
			return ctx->status;
		if ((f->rate = gv_percent(ctx, pct)) == NULL)
			return ctx->status;
		f->next_funding_time_us = PERPS_TS_NONE;
	}
	out->n = (int) n;
	/* newest first on the wire; oldest first here */
	qsort(out->u.funding, n, sizeof(PerpsFunding), perps_cmp_funding);
	return gv_next(ctx, docs[0], out);
}

/*
 * Candle i (a full/v1/kline row, a v1.candle feed) of the instrument
 * native: open and close time (ns), prices, volume_b (older docs
 * volume_u) in base, volume_q in quote, trades.
 */
static PerpsStatus
gv_kline_read(PerpsCtx *ctx, struct json_object *o, size_t i, const char *native, PerpsKline *k)
{
	struct json_object *tr;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kline %zu is not an object", i);
	if (gv_same_instrument(ctx, o, native) ||
		perps_json_ts_field(ctx, o, "open_time", PERPS_NS, &k->open_time_us) ||
		perps_json_ts_field(ctx, o, "close_time", PERPS_NS, &k->close_time_us) ||
		perps_json_decimal_field(ctx, o, "open", true, &k->open) ||
		perps_json_decimal_field(ctx, o, "high", true, &k->high) ||
		perps_json_decimal_field(ctx, o, "low", true, &k->low) ||
		perps_json_decimal_field(ctx, o, "close", true, &k->close) ||
		gv_decimal(ctx, o, "volume_b", "volume_u", &k->volume) ||
		gv_decimal(ctx, o, "volume_q", NULL, &k->turnover))
		return ctx->status;
	if (k->volume == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kline %zu has no volume_b", i);
	k->trade_count = -1;
	tr = perps_json_get(o, "trades");
	if (tr != NULL && !json_object_is_type(tr, json_type_null) &&
		perps_json_int64(ctx, tr, "trades", &k->trade_count))
		return ctx->status;
	if (k->trade_count < -1)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "kline %zu has a negative trade count", i);
	return PERPS_OK;
}

static PerpsStatus
gv_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int64_t		step_us = (int64_t) perps_interval_seconds(q->interval) * 1000000;
	int64_t		latest = PERPS_TS_NONE;

	if (step_us <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "grvt: unsupported kline interval");
	if (gv_result(ctx, docs[0], json_type_array, &arr) || perps_need_array(ctx, arr, "result", &n))
		return ctx->status;
	if ((out->u.klines = perps_alloc_array(ctx, n, sizeof(PerpsKline))) == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsKline *k = &out->u.klines[i];

		if (gv_kline_read(ctx, o, i, q->market->native_symbol, k))
			return ctx->status;
		if (latest == PERPS_TS_NONE || k->open_time_us > latest)
			latest = k->open_time_us;
	}
	out->n = (int) n;
	/* newest first on the wire; oldest first here */
	qsort(out->u.klines, n, sizeof(PerpsKline), perps_cmp_kline);
	perps_page_forward(q, gv_rows(q), step_us, latest, n, out);
	return PERPS_OK;
}

/* Trade i (full/v1/trades, trade_history, a v1.trade feed) of the instrument native. */
static PerpsStatus
gv_trade_read(PerpsCtx *ctx, struct json_object *o, size_t i, const char *native, PerpsTrade *t)
{
	struct json_object *side;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "trade %zu is not an object", i);
	if (gv_same_instrument(ctx, o, native) ||
		perps_json_id(ctx, perps_json_get(o, "trade_id"), "trade_id", &t->trade_id) ||
		perps_json_decimal_field(ctx, o, "price", true, &t->price) ||
		perps_json_decimal_field(ctx, o, "size", true, &t->qty) ||
		perps_json_ts_field(ctx, o, "event_time", PERPS_NS, &t->ts_us))
		return ctx->status;
	side = perps_json_get(o, "is_taker_buyer");
	if (side == NULL || !json_object_is_type(side, json_type_boolean))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "trade %zu: is_taker_buyer is not a boolean", i);
	t->is_buy = json_object_get_boolean(side);
	return PERPS_OK;
}

static PerpsStatus
gv_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	bool		history = q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE ||
		(q->cursor != NULL && q->cursor[0] != '\0');

	if (gv_result(ctx, docs[0], json_type_array, &arr) || perps_need_array(ctx, arr, "result", &n))
		return ctx->status;
	if ((out->u.trades = perps_alloc_array(ctx, n, sizeof(PerpsTrade))) == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		if (gv_trade_read(ctx, json_object_array_get_idx(arr, i), i, q->market->native_symbol,
						  &out->u.trades[i]))
			return ctx->status;
	}
	out->n = (int) n;
	if (!history)
	{
		/* the most recent, oldest first, at most the limit asked for */
		perps_newest_trades(out, q->limit);
		return PERPS_OK;
	}
	qsort(out->u.trades, n, sizeof(PerpsTrade), perps_cmp_trade);
	return gv_next(ctx, docs[0], out);
}

/* ---- the stream side: wss://market-data.grvt.io/ws/full ----
 *
 * From GRVT's "MarketData Websocket Streams" documentation
 * (api-docs.grvt.io/market_data_streams; gravity-technologies/api-spec,
 * artifacts/apidocs/market_data_streams.md).  Checked against the
 * documentation only: no frame of GRVT's was recorded.
 *
 * Requests are JSON-RPC 2.0 on the "full" path (/ws/full; /ws/lite takes
 * the same with one- or two-letter keys):
 *
 *   {"jsonrpc":"2.0","method":"subscribe",
 *    "params":{"stream":"v1.book.d","selectors":["BTC_USDT_Perp@100",...]},"id":1}
 *
 * one message per stream listing every watched instrument (the
 * documentation publishes no limit of selectors per request or per
 * connection, so one connection serves every market).  The answers:
 * {"jsonrpc":"2.0","result":{"stream",..,"subs":[..],"num_snapshots":[..],
 * "first_sequence_number":[..]},"id":1,"method":"subscribe"} and, for a
 * refusal, {"jsonrpc":"2.0","error":{"code":1101,"message":".."},"id":1,
 * "method":"subscribe"} (the legacy form {"code","message","status"} is
 * read as a refusal too).  Feed frames:
 *
 *   {"stream":"v1.book.d","selector":"BTC_USDT_Perp@100","sequence_number":"12",
 *    "prev_sequence_number":"11","feed":{...}}
 *
 * Streams subscribed, per instrument:
 *
 *   v1.book.d  instrument@rate (rate 100 ms of 50, 100, 500, 1000; a delta
 *              feed has no depth: the whole book).  A full snapshot on
 *              subscription, then the levels that changed ({price, size,
 *              num_orders}; size "0" removes the level).  "All snapshot
 *              payloads have a sequence number of 0, all delta payloads
 *              1+"; each feed's sequence number goes up by one and
 *              prev_sequence_number is the one before it (a duplicate may
 *              come again after a network retry: ignored).
 *   v1.trade   instrument@50 (the documented default limit): one trade per
 *              feed, the same fields as full/v1/trades (trade_id
 *              "73808524-19" is increasing but not by one: trade_ids_sequential
 *              false, gaps are refetched by time through full/v1/trade_history).
 *   v1.ticker.s instrument@500 (snapshot rates 500, 1000, 5000): the whole
 *              ticker on every feed, the fields of full/v1/ticker: last, mark,
 *              index, best bid and ask with their sizes (no separate bbo
 *              stream is needed), 24 h taker volumes, high, low, open, open
 *              interest, and funding_rate (percent, the active interval's),
 *              next_funding_time, funding_interval_hours: a funding_rates row.
 *   v1.candle  instrument@CI_1_M-TRADE, per wanted interval (CI_1_M ..
 *              CI_1_D): the candle so far, the fields of full/v1/kline; no
 *              closed flag (a candle is final when the next one opens).
 *
 * Where the documentation is silent, what this adapter chose:
 *
 * - Sequence rule.  A snapshot (sequence number 0) says nothing about where
 *   it stands in the chain, so the first delta after it is applied whatever
 *   its prev_sequence_number; after that, a delta whose
 *   prev_sequence_number is the last applied sequence number is the next
 *   one, one at or below it a duplicate, anything else a gap (the
 *   documentation says "reconnect"; unsubscribing and subscribing the
 *   book's selector again brings a fresh snapshot without disturbing the
 *   trades and tickers of the connection, as for Lighter).  The gap row
 *   names the sequence numbers after the book's up to the delta's
 *   prev_sequence_number.  A delta without prev_sequence_number must be
 *   the book's sequence number + 1.
 * - Keep-alive: no application-level ping is documented; the worker's
 *   WebSocket ping (every 15 s) keeps the connection alive.
 * - No connection lifetime is documented (max_connection_s 0).
 * - The ticker feed's time is its event_time; a candle's feed has no time
 *   of its own.
 */

#define GV_WS_MAX_MESSAGE (8 * 1024 * 1024)
#define GV_WS_MAX_MARKETS 1000		/* instruments on one connection (a bound of ours) */
#define GV_WS_MAX_TRADES 10000		/* trades in one feed, where it is an array */
#define GV_WS_BOOK_RATE "100"
#define GV_WS_TRADE_LIMIT "50"
#define GV_WS_TICKER_RATE "500"

/* The candle interval of a selector suffix (CI_1_M) in perps_stats' name, NULL when not one. */
static const char *
gv_interval_name(const char *ci, size_t len)
{
	static const char *const names[] = {"1m", "5m", "15m", "30m", "1h", "4h", "1d"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		const char *c = gv_interval(names[i]);

		if (strlen(c) == len && strncmp(c, ci, len) == 0)
			return names[i];
	}
	return NULL;
}

/*
 * {"jsonrpc":"2.0","method":"<method>","params":{"stream":"<stream>",
 * "selectors":["<native>@<suffix>", ...]},"id":<id>}: every native of the
 * list with each suffix.
 */
static PerpsStatus
gv_ws_request(PerpsCtx *ctx, const char *method, const char *stream, const char *const *natives, int n,
			  const char *const *suffixes, int nsuffixes, int id, PerpsWsMessage *out)
{
	size_t		cap = 160 + (size_t) n * (size_t) nsuffixes * 96;
	char	   *buf = perps_alloc(ctx, cap);
	size_t		len;
	int			w;

	if (buf == NULL)
		return ctx->status;
	w = snprintf(buf, cap, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":{\"stream\":\"%s\",\"selectors\":[",
				 method, stream);
	if (w < 0 || (size_t) w >= cap)
		return perps_fail(ctx, PERPS_ERR_ARG, "grvt subscribe message too long");
	len = (size_t) w;
	for (int i = 0; i < n; i++)
	{
		if (natives[i] == NULL || !gv_symbol_ok(natives[i]))
			return perps_fail(ctx, PERPS_ERR_ARG, "grvt instrument \"%.64s\" is not valid",
							  natives[i] ? natives[i] : "(null)");
		for (int k = 0; k < nsuffixes; k++)
		{
			w = snprintf(buf + len, cap - len, "%s\"%s@%s\"", len > 0 && buf[len - 1] != '[' ? "," : "",
						 natives[i], suffixes[k]);
			if (w < 0 || (size_t) w >= cap - len)
				return perps_fail(ctx, PERPS_ERR_ARG, "grvt subscribe message too long");
			len += (size_t) w;
		}
	}
	w = snprintf(buf + len, cap - len, "]},\"id\":%d}", id);
	if (w < 0 || (size_t) w >= cap - len)
		return perps_fail(ctx, PERPS_ERR_ARG, "grvt subscribe message too long");
	out->data = buf;
	out->len = len + (size_t) w;
	return PERPS_OK;
}

/* One request per stream: the book, the trades, the ticker, and the candles of the wanted intervals. */
static int
gv_ws_subscribe(PerpsCtx *ctx, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	const char *book = GV_WS_BOOK_RATE;
	const char *trade = GV_WS_TRADE_LIMIT;
	const char *ticker = GV_WS_TICKER_RATE;
	const char *candles[PERPS_KLINE_MAX];
	char		bufs[PERPS_KLINE_MAX][24];
	int			nc = 0;
	int			k = 0;

	if (want->n < 0 || want->n > GV_WS_MAX_MARKETS)
		return perps_fail(ctx, PERPS_ERR_ARG, "grvt streams at most %d instruments on one connection, not %d",
						  GV_WS_MAX_MARKETS, want->n);
	if (want->nintervals < 0 || want->nintervals > PERPS_KLINE_MAX)
		return perps_fail(ctx, PERPS_ERR_ARG, "grvt: %d candle intervals", want->nintervals);
	for (int i = 0; i < want->nintervals; i++)
	{
		const char *ci = gv_interval(want->intervals[i]);

		if (ci == NULL)
			return perps_fail(ctx, PERPS_ERR_ARG, "grvt has no candle interval \"%.8s\"",
							  want->intervals[i] ? want->intervals[i] : "(null)");
		snprintf(bufs[nc], sizeof(bufs[nc]), "%s-TRADE", ci);
		candles[nc] = bufs[nc];
		nc++;
	}
	if (want->n == 0)
		return 0;
	if (gv_ws_request(ctx, "subscribe", "v1.book.d", want->natives, want->n, &book, 1, 1, &out[k++]) ||
		gv_ws_request(ctx, "subscribe", "v1.trade", want->natives, want->n, &trade, 1, 2, &out[k++]) ||
		gv_ws_request(ctx, "subscribe", "v1.ticker.s", want->natives, want->n, &ticker, 1, 3, &out[k++]))
		return ctx->status;
	if (nc > 0 && gv_ws_request(ctx, "subscribe", "v1.candle", want->natives, want->n, candles, nc, 4, &out[k++]))
		return ctx->status;
	return k;
}

/* A fresh book snapshot: unsubscribe and subscribe the instrument's v1.book.d selector again. */
static int
gv_ws_resync(PerpsCtx *ctx, const char *native, PerpsWsMessage *out)
{
	const char *book = GV_WS_BOOK_RATE;

	if (gv_ws_request(ctx, "unsubscribe", "v1.book.d", &native, 1, &book, 1, 5, &out[0]) ||
		gv_ws_request(ctx, "subscribe", "v1.book.d", &native, 1, &book, 1, 6, &out[1]))
		return ctx->status;
	return 2;
}

/* A JSON-RPC refusal {"code":..,"message":..} as the control event's message. */
static PerpsStatus
gv_ws_refusal(PerpsCtx *ctx, struct json_object *err, PerpsStreamEvent *ev)
{
	struct json_object *code = perps_json_get(err, "code");
	struct json_object *msg = perps_json_get(err, "message");
	char		buf[300];

	ev->kind = PERPS_EV_CONTROL;
	ev->is_error = true;
	snprintf(buf, sizeof(buf), "grvt error %.20s: %.*s",
			 code && (json_object_is_type(code, json_type_int) || json_object_is_type(code, json_type_string)) ?
			 json_object_get_string(code) : "(no code)",
			 msg && json_object_is_type(msg, json_type_string) ? perps_utf8_cut(json_object_get_string(msg), 240) : 12,
			 msg && json_object_is_type(msg, json_type_string) ? json_object_get_string(msg) : "(no message)");
	ev->message = perps_strndup(ctx, buf, strlen(buf));
	return ev->message ? PERPS_OK : ctx->status;
}

/*
 * A book feed: the snapshot (sequence number 0) or the changed levels; a
 * whole book each time on v1.book.s (whole).
 */
static PerpsStatus
gv_ws_book(PerpsCtx *ctx, struct json_object *root, struct json_object *f, bool whole, PerpsStreamEvent *ev)
{
	struct json_object *prev = perps_json_get(root, "prev_sequence_number");

	ev->kind = PERPS_EV_BOOK;
	if (perps_json_int64_field(ctx, root, "sequence_number", &ev->seq) ||
		perps_json_ts_field(ctx, f, "event_time", PERPS_NS, &ev->ts_us))
		return ctx->status;
	if (ev->seq < 0 || ev->seq == INT64_MAX)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "grvt book sequence number %lld is out of range", (long long) ev->seq);
	ev->snapshot = whole || ev->seq == 0;
	/* a snapshot has both sides; a delta may leave out a side that did not change */
	if ((ev->snapshot || perps_json_get(f, "bids") != NULL) &&
		gv_levels(ctx, f, "bids", 0, &ev->bids, &ev->nbids))
		return ctx->status;
	if ((ev->snapshot || perps_json_get(f, "asks") != NULL) &&
		gv_levels(ctx, f, "asks", 0, &ev->asks, &ev->nasks))
		return ctx->status;
	if (!ev->snapshot && prev != NULL && !json_object_is_type(prev, json_type_null))
	{
		if (perps_json_int64(ctx, prev, "prev_sequence_number", &ev->prev_seq))
			return ctx->status;
		if (ev->prev_seq < 0 || ev->prev_seq >= ev->seq)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "grvt book delta %lld follows %lld",
							  (long long) ev->seq, (long long) ev->prev_seq);
		ev->has_prev_seq = true;
		/* the deltas lost in a gap: the book's sequence number + 1 .. prev_sequence_number */
		ev->first_seq = ev->prev_seq + 1;
		ev->has_first_seq = true;
	}
	return PERPS_OK;
}

/* A trade feed: one trade object (or an array of them). */
static PerpsStatus
gv_ws_trades(PerpsCtx *ctx, struct json_object *f, PerpsStreamEvent *ev)
{
	size_t		n = 1;

	ev->kind = PERPS_EV_TRADES;
	if (json_object_is_type(f, json_type_array))
	{
		n = json_object_array_length(f);
		if (n > GV_WS_MAX_TRADES)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "grvt trade feed has %zu trades", n);
	}
	if ((ev->trades = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsTrade))) == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
		if (gv_trade_read(ctx, json_object_is_type(f, json_type_array) ? json_object_array_get_idx(f, i) : f,
						  i, ev->native_symbol, &ev->trades[i]))
			return ctx->status;
	ev->ntrades = (int) n;
	if (n > 0)
		ev->ts_us = ev->trades[n - 1].ts_us;
	return PERPS_OK;
}

/* A ticker feed: v1.ticker.s is the whole ticker each time, a .d feed (not subscribed) the changes. */
static PerpsStatus
gv_ws_ticker(PerpsCtx *ctx, const char *stream, struct json_object *root, struct json_object *f,
			 PerpsStreamEvent *ev)
{
	int64_t		sn;
	const char *pct;

	ev->kind = PERPS_EV_TICKER;
	if (perps_json_int64_field(ctx, root, "sequence_number", &sn))
		return ctx->status;
	ev->snapshot = strcmp(stream + strlen(stream) - 2, ".s") == 0 || sn == 0;
	ev->ticker.native_symbol = ev->native_symbol;
	if (gv_ticker_read(ctx, f, &ev->ticker) ||
		perps_json_decimal_field(ctx, f, "funding_rate", false, &pct) ||
		gv_ts_opt(ctx, f, "next_funding_time", &ev->next_funding_time_us) ||
		gv_interval_hours(ctx, f, &ev->funding_interval_hours))
		return ctx->status;
	ev->ts_us = ev->ticker.ts_us;
	/* the active interval's rate, in percent, for the funding at next_funding_time */
	if (pct != NULL && ev->next_funding_time_us != PERPS_TS_NONE &&
		(ev->funding_rate = gv_percent(ctx, pct)) == NULL)
		return ctx->status;
	return PERPS_OK;
}

/* A candle feed: its interval from the selector's suffix (CI_1_M-TRADE). */
static PerpsStatus
gv_ws_candle(PerpsCtx *ctx, const char *suffix, struct json_object *f, PerpsStreamEvent *ev)
{
	const char *dash = strchr(suffix, '-');

	ev->kind = PERPS_EV_KLINE;
	if (dash == NULL || strcmp(dash, "-TRADE") != 0 ||
		(ev->kline_interval = gv_interval_name(suffix, (size_t) (dash - suffix))) == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "grvt candle selector suffix \"%.32s\" is not one perps_stats streams",
						  suffix);
	if (gv_kline_read(ctx, f, 0, ev->native_symbol, &ev->kline))
		return ctx->status;
	ev->kline_closed = false;	/* no closed flag: final when the next candle opens */
	ev->ts_us = PERPS_TS_NONE;
	return PERPS_OK;
}

static PerpsStatus
gv_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *f;
	struct json_object *v;
	PerpsStreamEvent *ev;
	const char *stream;
	const char *selector;
	const char *at;

	if (perps_ws_json_begin(ctx, "grvt", data, len, binary, GV_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	if ((ev = perps_ws_event_new(ctx)) == NULL)
		goto done;

	f = perps_json_get(root, "feed");
	if (f == NULL)
	{
		/* a JSON-RPC answer: a refusal, or the confirmation of a (un)subscribe */
		if ((v = perps_json_get(root, "error")) != NULL && !json_object_is_type(v, json_type_null))
		{
			if (!json_object_is_type(v, json_type_object))
			{
				perps_fail(ctx, PERPS_ERR_SHAPE, "grvt \"error\" is not an object");
				goto done;
			}
			gv_ws_refusal(ctx, v, ev);
			goto one;
		}
		/* the legacy error form: {"code":1101,"message":"...","status":400} */
		if (perps_json_get(root, "code") != NULL && perps_json_get(root, "message") != NULL)
		{
			gv_ws_refusal(ctx, root, ev);
			goto one;
		}
		if (perps_json_get(root, "result") != NULL || perps_json_get(root, "jsonrpc") != NULL ||
			perps_json_get(root, "method") != NULL)
		{
			ev->kind = PERPS_EV_CONTROL;
			goto one;
		}
		perps_fail(ctx, PERPS_ERR_SHAPE, "grvt frame is neither a feed nor a JSON-RPC answer");
		goto done;
	}

	if (perps_json_string(ctx, perps_json_get(root, "stream"), "stream", &stream) ||
		perps_json_string(ctx, perps_json_get(root, "selector"), "selector", &selector))
		goto done;
	/* the selector names the instrument: BTC_USDT_Perp@100 */
	at = strchr(selector, '@');
	if (at == NULL || at == selector || (size_t) (at - selector) > 64)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "grvt selector \"%.80s\" names no instrument", selector);
		goto done;
	}
	if ((ev->native_symbol = perps_strndup(ctx, selector, (size_t) (at - selector))) == NULL)
		goto done;
	if (!gv_symbol_ok(ev->native_symbol))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "grvt selector \"%.80s\" names no instrument", selector);
		goto done;
	}
	ev->channel = stream;
	if (strcmp(stream, "v1.trade") == 0)
	{
		if (!json_object_is_type(f, json_type_object) && !json_object_is_type(f, json_type_array))
		{
			perps_fail(ctx, PERPS_ERR_SHAPE, "grvt trade feed is not an object");
			goto done;
		}
		gv_ws_trades(ctx, f, ev);
		goto one;
	}
	if (!json_object_is_type(f, json_type_object))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "grvt %.20s feed is not an object", stream);
		goto done;
	}
	if (gv_same_instrument(ctx, f, ev->native_symbol))
		goto done;
	if (strcmp(stream, "v1.book.d") == 0 || strcmp(stream, "v1.book.s") == 0)
		gv_ws_book(ctx, root, f, strcmp(stream, "v1.book.s") == 0, ev);
	else if (strncmp(stream, "v1.ticker.", 10) == 0 || strncmp(stream, "v1.mini.", 8) == 0)
		gv_ws_ticker(ctx, stream, root, f, ev);
	else if (strcmp(stream, "v1.candle") == 0)
		gv_ws_candle(ctx, at + 1, f, ev);
	else
		ev->kind = PERPS_EV_CONTROL;	/* a stream we did not subscribe */

one:
	return perps_ws_json_end_one(ctx, root, ev, out);
done:
	return perps_ws_json_end(ctx, root, out);
}

/*
 * The book's chain (see above): a snapshot replaces the book; the first
 * delta after it applies; then a delta that follows the book's sequence
 * number applies, one the book has already reached is a duplicate, and
 * anything else means deltas were lost.
 */
static PerpsSeqCheck
gv_ws_seq_rule(bool have_book, int64_t last_seq, const PerpsStreamEvent *ev)
{
	if (ev->snapshot)
		return PERPS_SEQ_RESET;
	if (!have_book)
		return PERPS_SEQ_STALE;
	if (last_seq == 0)
		return PERPS_SEQ_APPLY;
	if (ev->has_prev_seq)
	{
		if (ev->prev_seq == last_seq)
			return PERPS_SEQ_APPLY;
		if (ev->seq <= last_seq)
			return PERPS_SEQ_STALE;
		return PERPS_SEQ_GAP;
	}
	return perps_seq_next(last_seq, ev);
}

static const PerpsStreamAdapter gv_stream = {
	.quote = "USDT",
	.qty_in_contracts = false,
	.trade_ids_sequential = false,
	.book_depth = 0,			/* a delta feed has no depth: the whole book */
	.ping_message = NULL,		/* none documented: the worker's WebSocket ping */
	.max_message_bytes = GV_WS_MAX_MESSAGE,
	.rest_snapshot = false,
	.max_connection_s = 0,
	.kline_channel = gv_interval,
	.subscribe = gv_ws_subscribe,
	.resync = gv_ws_resync,
	.parse_frame = gv_ws_parse,
	.seq_rule = gv_ws_seq_rule,
};

const PerpsAdapter perps_adapter_grvt = {
	.name = "grvt",
	.native_symbol = gv_native_symbol,
	.needs_markets = false,
	.symbol_ok = gv_symbol_ok,
	.symbol_what = "an instrument name like BTC_USDT_Perp",
	.open_body = gv_open,
	.methods = {
		[PERPS_M_MARKETS] = {.build = gv_build_markets, .parse = gv_parse_markets},
		[PERPS_M_TICKER] = {.build = gv_build_ticker, .parse = gv_parse_ticker},
		[PERPS_M_TICKERS] = {.unsupported = "GRVT serves tickers one instrument a request (full/v1/ticker); "
		"its API has no endpoint for all tickers."},
		[PERPS_M_ORDERBOOK] = {.build = gv_build_orderbook, .parse = gv_parse_orderbook},
		[PERPS_M_FUNDING] = {.build = gv_build_funding, .parse = gv_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = gv_build_funding_history, .parse = gv_parse_funding_history},
		[PERPS_M_OPEN_INTEREST] = {.build = gv_build_ticker, .parse = gv_parse_open_interest},
		[PERPS_M_KLINES] = {.build = gv_build_klines, .parse = gv_parse_klines},
		[PERPS_M_TRADES] = {.build = gv_build_trades, .parse = gv_parse_trades},
	},
	/* no published limit for the public market data API: a conservative 10 requests a second */
	.rate_limit = {.weight = 600, .window_ms = 60000},
	.max_kline_page = GV_PAGE,
	.max_funding_page = GV_PAGE,
	.max_trades_page = GV_PAGE,
	.no_trades_history = NULL,	/* full/v1/trade_history pages through any range of the last 3 months */
	.stream = &gv_stream,
};
