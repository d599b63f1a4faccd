/*-------------------------------------------------------------------------
 *
 * src/venues/bybit.c
 *		Bybit v5 public market endpoints, category=linear (USDT perpetuals).
 *
 * Endpoints (appended to exchanges.rest_url, all GET):
 *	 markets			/v5/market/instruments-info  (limit <= 1000, nextPageCursor)
 *	 ticker(s)			/v5/market/tickers
 *	 order book			/v5/market/orderbook		 (linear: limit 1..500)
 *	 funding rate		/v5/market/tickers			 (fundingRate, nextFundingTime)
 *	 funding history	/v5/market/funding/history	 (limit <= 200, newest first)
 *	 open interest		/v5/market/open-interest	 (intervalTime=5min, newest first)
 *	 klines				/v5/market/kline			 (limit <= 1000, newest first)
 *	 recent trades		/v5/market/recent-trade		 (linear: limit <= 1000)
 *
 * Errors come back as HTTP 200 with a non-zero retCode and a retMsg.  The
 * recordings carry retCode, time, ts, u and seq both as JSON numbers and as
 * numeric strings: every integer here goes through perps_json_int64/ts,
 * which take both.  Quantities are in the base coin (contract size 1);
 * price24hPcnt is already a fraction; kline turnover is in the quote coin.
 *
 * Paging of klines and funding history: with a `since`, pages go forward
 * in windows that cannot hold more than one page (limit x interval; for
 * funding, limit x 1 h, Bybit's shortest funding interval) and next_since_us
 * resumes after the window; without one, a page is the newest rows up to
 * `until` and next_until_us pages backwards.
 *
 * Plain C: see adapter.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

/* why trades cannot be backfilled from this venue (PerpsAdapter.no_trades_history) */
#define BYBIT_NO_TRADE_HISTORY \
	"Bybit v5 serves only the most recent trades (/v5/market/recent-trade, at most 1000 for linear contracts): no trade history over a time range."

#define BYBIT_BOOK_MAX 500
#define BYBIT_KLINE_PAGE 1000
#define BYBIT_FUNDING_PAGE 200
#define BYBIT_TRADES_PAGE 1000
#define BYBIT_MARKETS_PAGE 1000
#define BYBIT_QUOTE "USDT"

#define MS_PER_HOUR INT64_C(3600000)

/* ---- symbols ---- */

/* BTCUSDT: capitals and digits, up to 40 */
static bool
bybit_symbol_ok(const char *s)
{
	return perps_symbol_ok(s, 40, false, "");
}

static bool
bybit_native_symbol(const char *global, char *buf, size_t buflen)
{
	int			n;

	if (!bybit_symbol_ok(global))
		return false;
	n = snprintf(buf, buflen, "%s%s", global, BYBIT_QUOTE);
	return n > 0 && (size_t) n < buflen;
}

/* ---- request building ---- */

/* Appends printf output to a request path; fails when it does not fit. */
static bool
bybit_append(PerpsRequest *r, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static bool
bybit_append(PerpsRequest *r, const char *fmt,...)
{
	size_t		used = strlen(r->path);
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(r->path + used, sizeof(r->path) - used, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t) n < sizeof(r->path) - used;
}

/* Appends a query value, percent-encoding what is not URL-safe. */
static bool
bybit_append_encoded(PerpsRequest *r, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		used = strlen(r->path);

	for (; *v; v++)
	{
		unsigned char c = (unsigned char) *v;
		bool		plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' || c == '%';

		if (used + (plain ? 1 : 3) >= sizeof(r->path))
			return false;
		if (plain)
			r->path[used++] = (char) c;
		else
		{
			r->path[used++] = '%';
			r->path[used++] = hex[c >> 4];
			r->path[used++] = hex[c & 15];
		}
	}
	r->path[used] = '\0';
	return true;
}

/* kline intervals: perps_stats' names and Bybit's, REST and stream alike */
static const struct
{
	const char *ours;
	const char *theirs;
}			bybit_intervals[] = {
	{"1m", "1"}, {"5m", "5"}, {"15m", "15"}, {"30m", "30"},
	{"1h", "60"}, {"4h", "240"}, {"1d", "D"},
};

static const char *
bybit_interval(const char *interval)
{
	if (interval == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(bybit_intervals) / sizeof(bybit_intervals[0]); i++)
		if (strcmp(bybit_intervals[i].ours, interval) == 0)
			return bybit_intervals[i].theirs;
	return NULL;
}

/* Bybit's name of an interval as perps_stats' (NULL: not one of them) */
static const char *
bybit_interval_ours(const char *theirs)
{
	if (theirs == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(bybit_intervals) / sizeof(bybit_intervals[0]); i++)
		if (strcmp(bybit_intervals[i].theirs, theirs) == 0)
			return bybit_intervals[i].ours;
	return NULL;
}

/*
 * The [start, end] window (ms) of a history page, or no start when paging
 * backwards.  step_ms: the most a page of `page` rows can span.
 */
static bool
bybit_window(PerpsCtx *ctx, const PerpsQuery *q, int page, int64_t step_ms,
			 int64_t *start, int64_t *end)
{
	*start = PERPS_TS_NONE;
	*end = PERPS_TS_NONE;
	if (q->until_us != PERPS_TS_NONE)
	{
		if (q->until_us < 0)
			return perps_fail(ctx, PERPS_ERR_ARG, "until is before 1970"), false;
		*end = perps_us_to_ms_floor(q->until_us);
	}
	if (q->since_us != PERPS_TS_NONE)
	{
		int64_t		wend;

		if (q->since_us < 0)
			return perps_fail(ctx, PERPS_ERR_ARG, "since is before 1970"), false;
		*start = perps_us_to_ms_ceil(q->since_us);
		wend = *start + (int64_t) page * step_ms - 1;
		if (*end == PERPS_TS_NONE || wend < *end)
			*end = wend;
		if (*end < *start)
			return perps_fail(ctx, PERPS_ERR_ARG, "until is before since"), false;
	}
	return true;
}

/* reqs[0], cleared, of weight 1 (every public endpoint weighs the same) */
static PerpsRequest *
bybit_request(PerpsRequest *reqs)
{
	memset(&reqs[0], 0, sizeof(reqs[0]));
	reqs[0].weight = 1;
	return &reqs[0];
}

/* one request, if its path fit */
static int
bybit_built(PerpsCtx *ctx, bool ok)
{
	if (!ok)
		return perps_fail(ctx, PERPS_ERR_ARG, "bybit request path too long");
	return 1;
}

/* ---- build: one function a method ---- */

static int
bybit_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	PerpsRequest *r = bybit_request(reqs);
	bool		ok = bybit_append(r, "/v5/market/instruments-info?category=linear&limit=%d",
								  BYBIT_MARKETS_PAGE);

	if (ok && q->cursor != NULL && q->cursor[0] != '\0')
		ok = bybit_append(r, "&cursor=") && bybit_append_encoded(r, q->cursor);
	return bybit_built(ctx, ok);
}

static int
bybit_build_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return bybit_built(ctx, bybit_append(bybit_request(reqs), "/v5/market/tickers?category=linear"));
}

/* one symbol's ticker: also the funding rate's request */
static int
bybit_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	return bybit_built(ctx, bybit_append(bybit_request(reqs), "/v5/market/tickers?category=linear&symbol=%s",
										 sym));
}

static int
bybit_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	int			depth = q->depth;

	if (depth <= 0 || depth > BYBIT_BOOK_MAX)
		depth = BYBIT_BOOK_MAX;
	return bybit_built(ctx, bybit_append(bybit_request(reqs),
										 "/v5/market/orderbook?category=linear&symbol=%s&limit=%d",
										 sym, depth));
}

static int
bybit_build_open_interest(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	return bybit_built(ctx, bybit_append(bybit_request(reqs),
										 "/v5/market/open-interest?category=linear&symbol=%s"
										 "&intervalTime=5min&limit=1", sym));
}

static int
bybit_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_UNSUPPORTED, "%s", BYBIT_NO_TRADE_HISTORY);
	return bybit_built(ctx, bybit_append(bybit_request(reqs),
										 "/v5/market/recent-trade?category=linear&symbol=%s&limit=%d",
										 sym, perps_page_size(q, BYBIT_TRADES_PAGE)));
}

static int
bybit_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	const char *iv = bybit_interval(q->interval);
	int			page = perps_page_size(q, BYBIT_KLINE_PAGE);
	PerpsRequest *r = bybit_request(reqs);
	int64_t		start,
				end;
	bool		ok;

	if (iv == NULL)
		return perps_fail(ctx, PERPS_ERR_ARG, "bybit has no kline interval \"%s\"",
						  q->interval ? q->interval : "(null)");
	if (!bybit_window(ctx, q, page, (int64_t) perps_interval_seconds(q->interval) * 1000, &start, &end))
		return ctx->status;
	ok = bybit_append(r, "/v5/market/kline?category=linear&symbol=%s&interval=%s&limit=%d",
					  sym, iv, page);
	if (ok && start != PERPS_TS_NONE)
		ok = bybit_append(r, "&start=%lld", (long long) start);
	if (ok && end != PERPS_TS_NONE)
		ok = bybit_append(r, "&end=%lld", (long long) end);
	return bybit_built(ctx, ok);
}

static int
bybit_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	int			page = perps_page_size(q, BYBIT_FUNDING_PAGE);
	PerpsRequest *r = bybit_request(reqs);
	int64_t		start,
				end;
	bool		ok;

	if (!bybit_window(ctx, q, page, MS_PER_HOUR, &start, &end))
		return ctx->status;
	ok = bybit_append(r, "/v5/market/funding/history?category=linear&symbol=%s&limit=%d",
					  sym, page);
	if (ok && start != PERPS_TS_NONE)
		ok = bybit_append(r, "&startTime=%lld", (long long) start);
	if (ok && end != PERPS_TS_NONE)
		ok = bybit_append(r, "&endTime=%lld", (long long) end);
	return bybit_built(ctx, ok);
}

/* ---- parsing ---- */

/*
 * PerpsAdapter.open_body: parses a body, checks retCode, the "result"
 * object and the top-level "time" (ms), which bybit_result then reads.
 */
static PerpsStatus
bybit_open(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
{
	struct json_object *v;
	int64_t		code;
	int64_t		time_us;
	struct json_object *result;

	*root = NULL;
	if (perps_json_parse(ctx, b->data, b->len, root) != PERPS_OK)
	{
		if (b->status >= 400)
		{
			ctx->status = PERPS_OK;
			return perps_fail(ctx, PERPS_ERR_VENUE, "bybit answered HTTP %ld", b->status);
		}
		return ctx->status;
	}
	if (!json_object_is_type(*root, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit response is not an object");
	v = perps_json_get(*root, "retCode");
	if (v == NULL)
		return perps_fail(ctx, b->status >= 400 ? PERPS_ERR_VENUE : PERPS_ERR_SHAPE,
						  "bybit response (HTTP %ld) has no retCode", b->status);
	if (perps_json_int64(ctx, v, "retCode", &code) != PERPS_OK)
		return ctx->status;
	if (code != 0)
	{
		struct json_object *msg = perps_json_get(*root, "retMsg");
		const char *text = msg && json_object_is_type(msg, json_type_string) ?
			json_object_get_string(msg) : "(no retMsg)";

		return perps_fail(ctx, PERPS_ERR_VENUE, "bybit error %lld: %.*s", (long long) code,
						  perps_utf8_cut(text, 160), text);
	}
	if (b->status >= 400)
		return perps_fail(ctx, PERPS_ERR_VENUE, "bybit answered HTTP %ld", b->status);
	if ((v = perps_json_get(*root, "time")) != NULL &&
		perps_json_ts(ctx, v, PERPS_MS, "time", &time_us) != PERPS_OK)
		return ctx->status;
	return perps_json_need(ctx, *root, "result", json_type_object, &result);
}

/* The "result" object of an answer bybit_open accepted, and its "time" (PERPS_TS_NONE when absent). */
static struct json_object *
bybit_result(PerpsCtx *ctx, struct json_object *doc, int64_t *time_us)
{
	struct json_object *v = perps_json_get(doc, "time");

	*time_us = PERPS_TS_NONE;
	if (v != NULL)
		(void) perps_json_ts(ctx, v, PERPS_MS, "time", time_us);	/* bybit_open read it */
	return perps_json_get(doc, "result");
}

/* Minutes (an integer) as hours in decimal text: 480 -> "8", 30 -> "0.5". */
static const char *
minutes_to_hours(PerpsCtx *ctx, int64_t minutes)
{
	char		buf[64];

	if (minutes <= 0 || minutes > 1000000)
		return NULL;
	if (minutes % 60 == 0)
		snprintf(buf, sizeof(buf), "%lld", (long long) (minutes / 60));
	else if ((minutes * 100) % 60 == 0)
	{
		/* exact in hundredths: 30 -> 0.50, 15 -> 0.25 (trailing zeros kept) */
		int64_t		h = minutes * 100 / 60;

		snprintf(buf, sizeof(buf), "%lld.%02lld", (long long) (h / 100), (long long) (h % 100));
	}
	else
		return NULL;
	return perps_strndup(ctx, buf, strlen(buf));
}

static PerpsStatus
bybit_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					PerpsResult *out)
{
	struct json_object *result = perps_json_get(docs[0], "result");
	struct json_object *list;
	struct json_object *cur;
	size_t		n;
	int			k = 0;

	out->u.markets = perps_rows_field(ctx, result, "list", sizeof(PerpsMarket), &list, &n);
	if (out->u.markets == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(list, i);
		struct json_object *lev,
				   *pf,
				   *lot,
				   *v;
		PerpsMarket *mk = &out->u.markets[k];
		const char *base;
		char		native[64];

		if (!json_object_is_type(it, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit instrument %zu is not an object", i);
		/* USDT perpetuals only: dated futures and USDC perps share base coins */
		if (!perps_json_str_eq(perps_json_get(it, "contractType"), "LinearPerpetual") ||
			!perps_json_str_eq(perps_json_get(it, "quoteCoin"), BYBIT_QUOTE))
			continue;
		if (perps_json_string(ctx, perps_json_get(it, "symbol"), "symbol", &mk->native_symbol) ||
			perps_json_string(ctx, perps_json_get(it, "baseCoin"), "baseCoin", &base) ||
			perps_json_string(ctx, perps_json_get(it, "quoteCoin"), "quoteCoin", &mk->quote))
			return ctx->status;
		/* the global symbol is the base coin when the naming rule holds */
		if (!bybit_native_symbol(base, native, sizeof(native)) ||
			strcmp(native, mk->native_symbol) != 0)
			continue;
		mk->symbol = base;
		mk->base = base;
		mk->contract_size = "1";
		if (perps_json_need(ctx, it, "priceFilter", json_type_object, &pf) ||
			perps_json_need(ctx, it, "lotSizeFilter", json_type_object, &lot) ||
			perps_json_need(ctx, it, "leverageFilter", json_type_object, &lev))
			return ctx->status;
		if (perps_json_decimal_field(ctx, pf, "tickSize", false, &mk->tick_size) ||
			perps_json_decimal_field(ctx, lot, "qtyStep", false, &mk->lot_size) ||
			perps_json_decimal_field(ctx, lot, "minOrderQty", false, &mk->min_qty) ||
			perps_json_decimal_field(ctx, lot, "maxOrderQty", false, &mk->max_qty) ||
			perps_json_decimal_field(ctx, lot, "minNotionalValue", false, &mk->min_notional) ||
			perps_json_decimal_field(ctx, lev, "maxLeverage", false, &mk->max_leverage))
			return ctx->status;
		if ((v = perps_json_get(it, "fundingInterval")) != NULL &&
			!json_object_is_type(v, json_type_null))
		{
			int64_t		minutes;

			if (perps_json_int64(ctx, v, "fundingInterval", &minutes) != PERPS_OK)
				return ctx->status;
			mk->funding_interval_hours = minutes_to_hours(ctx, minutes);
			if (ctx->status != PERPS_OK)
				return ctx->status;
		}
		mk->active = perps_json_str_eq(perps_json_get(it, "status"), "Trading");
		k++;
	}
	out->n = k;
	if ((cur = perps_json_get(result, "nextPageCursor")) != NULL &&
		json_object_is_type(cur, json_type_string) && json_object_get_string_len(cur) > 0)
	{
		out->has_more = true;
		if (perps_json_string(ctx, cur, "nextPageCursor", &out->next_cursor) != PERPS_OK)
			return ctx->status;
	}
	return PERPS_OK;
}

static PerpsStatus
bybit_ticker_fields(PerpsCtx *ctx, struct json_object *it, int64_t ts_us, PerpsTicker *t)
{
	if (!json_object_is_type(it, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit ticker is not an object");
	if (perps_json_string(ctx, perps_json_get(it, "symbol"), "symbol", &t->native_symbol))
		return ctx->status;
	t->ts_us = ts_us;
	if (perps_json_decimal_field(ctx, it, "lastPrice", false, &t->last_price) ||
		perps_json_decimal_field(ctx, it, "markPrice", false, &t->mark_price) ||
		perps_json_decimal_field(ctx, it, "indexPrice", false, &t->index_price) ||
		perps_json_decimal_field(ctx, it, "bid1Price", false, &t->best_bid_price) ||
		perps_json_decimal_field(ctx, it, "bid1Size", false, &t->best_bid_qty) ||
		perps_json_decimal_field(ctx, it, "ask1Price", false, &t->best_ask_price) ||
		perps_json_decimal_field(ctx, it, "ask1Size", false, &t->best_ask_qty) ||
		perps_json_decimal_field(ctx, it, "volume24h", false, &t->volume_24h) ||
		perps_json_decimal_field(ctx, it, "turnover24h", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, it, "openInterest", false, &t->open_interest) ||
		perps_json_decimal_field(ctx, it, "openInterestValue", false, &t->open_interest_notional) ||
		perps_json_decimal_field(ctx, it, "price24hPcnt", false, &t->price_change_pct) ||
		perps_json_decimal_field(ctx, it, "highPrice24h", false, &t->high_24h) ||
		perps_json_decimal_field(ctx, it, "lowPrice24h", false, &t->low_24h))
		return ctx->status;
	/* the 24 h change: lastPrice - prevPrice24h, exactly */
	{
		const char *prev;

		if (perps_json_decimal_field(ctx, it, "prevPrice24h", false, &prev))
			return ctx->status;
		if (prev && t->last_price &&
			(t->price_change_24h = perps_decimal_sub(ctx, t->last_price, prev)) == NULL)
			return ctx->status;
	}
	return PERPS_OK;
}

/* The ticker list of a tickers response; one wanted symbol or all. */
static PerpsStatus
bybit_tickers(PerpsCtx *ctx, struct json_object *result, int64_t ts_us,
			  const char *want, PerpsResult *out)
{
	struct json_object *list;
	size_t		n;
	int			k = 0;

	out->u.tickers = perps_rows_field(ctx, result, "list", sizeof(PerpsTicker), &list, &n);
	if (out->u.tickers == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(list, i);

		if (want && !perps_json_str_eq(perps_json_get(it, "symbol"), want))
			continue;
		if (bybit_ticker_fields(ctx, it, ts_us, &out->u.tickers[k]) != PERPS_OK)
			return ctx->status;
		/* a ticker's own timestamp, where the venue gives one, is closer */
		if (perps_json_get(it, "timestamp") != NULL &&
			perps_json_ts_field(ctx, it, "timestamp", PERPS_MS, &out->u.tickers[k].ts_us) != PERPS_OK)
			return ctx->status;
		if (out->u.tickers[k].ts_us == PERPS_TS_NONE)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit ticker has no time");
		k++;
	}
	out->n = k;
	if (want && k == 0)
		return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "bybit returned no ticker for %s", want);
	return PERPS_OK;
}

static PerpsStatus
bybit_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					PerpsResult *out)
{
	int64_t		time_us;
	struct json_object *result = bybit_result(ctx, docs[0], &time_us);

	return bybit_tickers(ctx, result, time_us, NULL, out);
}

static PerpsStatus
bybit_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	int64_t		time_us;
	struct json_object *result = bybit_result(ctx, docs[0], &time_us);

	if (bybit_tickers(ctx, result, time_us, q->market->native_symbol, out) == PERPS_OK && out->n > 1)
		out->n = 1;
	return ctx->status;
}

static PerpsStatus
bybit_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					  PerpsResult *out)
{
	struct json_object *result = perps_json_get(docs[0], "result");
	struct json_object *b,
			   *a,
			   *v;
	PerpsBook  *bk = perps_alloc(ctx, sizeof(PerpsBook));

	if (bk == NULL)
		return ctx->status;
	if (perps_json_need(ctx, result, "b", json_type_array, &b) ||
		perps_json_need(ctx, result, "a", json_type_array, &a))
		return ctx->status;
	if (perps_json_ts_field(ctx, result, "ts", PERPS_MS, &bk->ts_us))
		return ctx->status;
	/* u: the update id the linear orderbook stream continues from */
	if ((v = perps_json_get(result, "u")) != NULL)
	{
		if (perps_json_int64(ctx, v, "u", &bk->seq) != PERPS_OK)
			return ctx->status;
		bk->has_seq = true;
	}
	if (perps_parse_levels(ctx, b, "bid", q->depth, &bk->bids, &bk->nbids) ||
		perps_parse_levels(ctx, a, "ask", q->depth, &bk->asks, &bk->nasks))
		return ctx->status;
	out->u.book = bk;
	out->n = 1;
	return PERPS_OK;
}

/* the funding fields of one symbol's ticker */
static PerpsStatus
bybit_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					PerpsResult *out)
{
	int64_t		ts_us;
	struct json_object *result = bybit_result(ctx, docs[0], &ts_us);
	const char *want = q->market->native_symbol;
	struct json_object *list;
	struct json_object *it = NULL;
	PerpsFunding *f;
	size_t		n;

	if (perps_need_array_field(ctx, result, "list", &list, &n) != PERPS_OK)
		return ctx->status;
	for (size_t i = 0; i < n && it == NULL; i++)
		if (perps_json_str_eq(perps_json_get(json_object_array_get_idx(list, i), "symbol"), want))
			it = json_object_array_get_idx(list, i);
	if (it == NULL)
		return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "bybit returned no ticker for %s", want);
	f = perps_alloc(ctx, sizeof(PerpsFunding));
	if (f == NULL)
		return ctx->status;
	/* funding_time: when the venue reported this rate */
	f->funding_time_us = ts_us;
	if (perps_json_get(it, "timestamp") != NULL &&
		perps_json_ts_field(ctx, it, "timestamp", PERPS_MS, &f->funding_time_us) != PERPS_OK)
		return ctx->status;
	if (f->funding_time_us == PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit ticker has no time");
	if (perps_json_decimal_field(ctx, it, "fundingRate", true, &f->rate))
		return ctx->status;
	f->next_funding_time_us = PERPS_TS_NONE;
	if (perps_json_get(it, "nextFundingTime") != NULL &&
		!perps_json_str_eq(perps_json_get(it, "nextFundingTime"), "") &&
		!perps_json_str_eq(perps_json_get(it, "nextFundingTime"), "0") &&
		perps_json_ts_field(ctx, it, "nextFundingTime", PERPS_MS, &f->next_funding_time_us))
		return ctx->status;
	/* fundingIntervalHour: in newer REST answers and in the stream */
	if (perps_json_decimal_field(ctx, it, "fundingIntervalHour", false, &f->interval_hours))
		return ctx->status;
	out->u.funding = f;
	out->n = 1;
	return PERPS_OK;
}

/*
 * Sets the paging fields after a history page sorted oldest first.
 * oldest_us: open/funding time of the first row.
 */
static void
bybit_paging(const PerpsQuery *q, int page, int64_t step_ms, int n, int64_t oldest_us,
			 PerpsResult *out)
{
	int64_t		start,
				end;
	PerpsCtx	dummy = {0};

	out->next_since_us = PERPS_TS_NONE;
	out->next_until_us = PERPS_TS_NONE;
	if (!bybit_window(&dummy, q, page, step_ms, &start, &end))
		return;
	if (start != PERPS_TS_NONE)
	{
		/* forward windows */
		bool		more = (q->until_us != PERPS_TS_NONE) ?
			end < perps_us_to_ms_floor(q->until_us) : n > 0;

		if (more)
		{
			out->has_more = true;
			out->next_since_us = (end + 1) * 1000;
		}
	}
	else if (n >= page && n > 0)
	{
		/* the newest page up to until: go on backwards */
		out->has_more = true;
		out->next_until_us = oldest_us - 1000;
	}
}

static PerpsStatus
bybit_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
							PerpsResult *out)
{
	struct json_object *result = perps_json_get(docs[0], "result");
	struct json_object *list;
	size_t		n;
	int			page = perps_page_size(q, BYBIT_FUNDING_PAGE);

	out->u.funding = perps_rows_field(ctx, result, "list", sizeof(PerpsFunding), &list, &n);
	if (out->u.funding == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(list, i);
		PerpsFunding *f = &out->u.funding[i];

		if (!json_object_is_type(it, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit funding row %zu is not an object", i);
		if (perps_json_decimal_field(ctx, it, "fundingRate", true, &f->rate) ||
			perps_json_ts_field(ctx, it, "fundingRateTimestamp", PERPS_MS, &f->funding_time_us))
			return ctx->status;
		f->next_funding_time_us = PERPS_TS_NONE;
	}
	qsort(out->u.funding, n, sizeof(PerpsFunding), perps_cmp_funding);
	out->n = (int) n;
	if (out->n > page)
		out->n = page;
	bybit_paging(q, page, MS_PER_HOUR, out->n, n ? out->u.funding[0].funding_time_us : 0, out);
	return PERPS_OK;
}

static PerpsStatus
bybit_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						  PerpsResult *out)
{
	struct json_object *result = perps_json_get(docs[0], "result");
	struct json_object *list;
	struct json_object *it;
	size_t		n;
	PerpsOpenInterest *oi;

	if (perps_need_array_field(ctx, result, "list", &list, &n) != PERPS_OK)
		return ctx->status;
	if (n == 0)
		return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "bybit returned no open interest");
	/* newest first */
	it = json_object_array_get_idx(list, 0);
	oi = perps_alloc(ctx, sizeof(PerpsOpenInterest));
	if (oi == NULL)
		return ctx->status;
	if (!json_object_is_type(it, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit open interest row is not an object");
	if (perps_json_decimal_field(ctx, it, "openInterest", true, &oi->open_interest) ||
		perps_json_ts_field(ctx, it, "timestamp", PERPS_MS, &oi->ts_us))
		return ctx->status;
	out->u.oi = oi;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
bybit_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	struct json_object *result = perps_json_get(docs[0], "result");
	struct json_object *list;
	size_t		n;
	int			page = perps_page_size(q, BYBIT_KLINE_PAGE);
	int64_t		iv_us = (int64_t) perps_interval_seconds(q->interval) * 1000000;

	if (iv_us <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "bybit has no kline interval \"%s\"",
						  q->interval ? q->interval : "(null)");
	out->u.klines = perps_rows_field(ctx, result, "list", sizeof(PerpsKline), &list, &n);
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *row = json_object_array_get_idx(list, i);
		PerpsKline *k = &out->u.klines[i];

		/* [startTime, open, high, low, close, volume, turnover] */
		if (perps_parse_kline_row(ctx, row, i, 7, k) ||
			perps_json_decimal(ctx, json_object_array_get_idx(row, 6), "turnover", &k->turnover))
			return ctx->status;
		k->close_time_us = k->open_time_us + iv_us - 1000;	/* last ms of the bar */
		k->trade_count = -1;
	}
	/* Bybit sends newest first */
	qsort(out->u.klines, n, sizeof(PerpsKline), perps_cmp_kline);
	out->n = (int) n;
	if (out->n > page)
		out->n = page;
	bybit_paging(q, page, iv_us / 1000, out->n, n ? out->u.klines[0].open_time_us : 0, out);
	return PERPS_OK;
}

static PerpsStatus
bybit_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	static const PerpsTradeKeys keys = {"execId", "price", "size", "time", "side", "Buy", "Sell"};
	struct json_object *result = perps_json_get(docs[0], "result");
	struct json_object *list;
	size_t		n;

	if (perps_need_array_field(ctx, result, "list", &list, &n) ||
		perps_parse_trades(ctx, list, n, &keys, out))
		return ctx->status;
	perps_newest_trades(out, q->limit);
	return PERPS_OK;
}

/* ---- the stream side: wss://stream.bybit.com/v5/public/linear ----
 *
 * Topics per market: orderbook.50.<SYM> (a snapshot, then deltas whose
 * update id u goes up by one; u = 1 is a new snapshot after a service
 * restart), publicTrade.<SYM> (batches of trades) and tickers.<SYM> (a
 * snapshot, then deltas with only the changed fields).  Bybit closes a
 * connection that sends nothing for about a minute: the client sends
 * {"op":"ping"} every 20 s.  Control answers carry "op" and "success".
 */

#define BYBIT_WS_BOOK_DEPTH 50
#define BYBIT_WS_TOPICS_PER_MSG 10
#define BYBIT_WS_MAX_LEVELS 5000
#define BYBIT_WS_MAX_TRADES 10000
#define BYBIT_WS_MAX_MESSAGE (4 * 1024 * 1024)

/* Builds {"op":"<op>","args":["t1","t2",...]} from topics. */
static PerpsStatus
bybit_ws_op(PerpsCtx *ctx, const char *op, const char *const *topics, int n, PerpsWsMessage *out)
{
	size_t		cap = 64 + strlen(op);
	size_t		used;
	char	   *buf;

	for (int i = 0; i < n; i++)
		cap += strlen(topics[i]) + 4;
	buf = perps_alloc(ctx, cap);
	if (buf == NULL)
		return ctx->status;
	used = (size_t) snprintf(buf, cap, "{\"op\":\"%s\",\"args\":[", op);
	for (int i = 0; i < n; i++)
		used += (size_t) snprintf(buf + used, cap - used, "%s\"%s\"", i ? "," : "", topics[i]);
	used += (size_t) snprintf(buf + used, cap - used, "]}");
	if (used >= cap)
		return perps_fail(ctx, PERPS_ERR_ARG, "bybit subscribe message too long");
	out->data = buf;
	out->len = used;
	return PERPS_OK;
}

static int
bybit_ws_subscribe(PerpsCtx *ctx, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	const char *topics[BYBIT_WS_TOPICS_PER_MSG];
	int			nt = 0;
	int			nmsg = 0;
	int			per_market = 3 + want->nintervals;

	if (want->n < 0 || want->nintervals < 0 || want->nintervals > PERPS_KLINE_MAX ||
		(size_t) want->n * per_market > (size_t) PERPS_WS_MAX_MESSAGES * BYBIT_WS_TOPICS_PER_MSG)
		return perps_fail(ctx, PERPS_ERR_ARG, "bybit cannot stream %d markets on one connection", want->n);
	for (int i = 0; i < want->n; i++)
	{
		const char *native = want->natives[i];

		if (!bybit_symbol_ok(native))
			return perps_fail(ctx, PERPS_ERR_ARG, "bybit native symbol \"%.40s\" is not valid", native);
		for (int k = 0; k < per_market; k++)
		{
			char		topic[96];
			char	   *t;

			if (k == 0)
				snprintf(topic, sizeof(topic), "orderbook.%d.%s", BYBIT_WS_BOOK_DEPTH, native);
			else if (k == 1)
				snprintf(topic, sizeof(topic), "publicTrade.%s", native);
			else if (k == 2)
				snprintf(topic, sizeof(topic), "tickers.%s", native);
			else
			{
				const char *iv = bybit_interval(want->intervals[k - 3]);

				if (iv == NULL)
					return perps_fail(ctx, PERPS_ERR_ARG, "bybit streams no kline interval \"%.8s\"",
									  want->intervals[k - 3] ? want->intervals[k - 3] : "");
				snprintf(topic, sizeof(topic), "kline.%s.%s", iv, native);
			}
			t = perps_strndup(ctx, topic, strlen(topic));
			if (t == NULL)
				return ctx->status;
			topics[nt++] = t;
			if (nt == BYBIT_WS_TOPICS_PER_MSG)
			{
				if (bybit_ws_op(ctx, "subscribe", topics, nt, &out[nmsg++]) != PERPS_OK)
					return ctx->status;
				nt = 0;
			}
		}
	}
	if (nt > 0 && bybit_ws_op(ctx, "subscribe", topics, nt, &out[nmsg++]) != PERPS_OK)
		return ctx->status;
	return nmsg;
}

/* A fresh snapshot of one book: unsubscribe and subscribe its topic again. */
static int
bybit_ws_resync(PerpsCtx *ctx, const char *native, PerpsWsMessage *out)
{
	char		topic[96];
	const char *topics[1] = {topic};

	if (!bybit_symbol_ok(native))
		return perps_fail(ctx, PERPS_ERR_ARG, "bybit native symbol is not valid");
	snprintf(topic, sizeof(topic), "orderbook.%d.%s", BYBIT_WS_BOOK_DEPTH, native);
	if (bybit_ws_op(ctx, "unsubscribe", topics, 1, &out[0]) != PERPS_OK ||
		bybit_ws_op(ctx, "subscribe", topics, 1, &out[1]) != PERPS_OK)
		return ctx->status;
	return 2;
}

static PerpsStatus
bybit_ws_book(PerpsCtx *ctx, struct json_object *root, bool snapshot, PerpsStreamEvent *ev)
{
	struct json_object *data;

	ev->kind = PERPS_EV_BOOK;
	if (perps_json_need(ctx, root, "data", json_type_object, &data) != PERPS_OK ||
		perps_json_string(ctx, perps_json_get(data, "s"), "s", &ev->native_symbol) != PERPS_OK ||
		perps_json_int64_field(ctx, data, "u", &ev->seq) != PERPS_OK ||
		perps_ws_levels(ctx, "bybit", data, "b", "bid", BYBIT_WS_MAX_LEVELS, &ev->bids, &ev->nbids) != PERPS_OK ||
		perps_ws_levels(ctx, "bybit", data, "a", "ask", BYBIT_WS_MAX_LEVELS, &ev->asks, &ev->nasks) != PERPS_OK)
		return ctx->status;
	/* u = 1: the service restarted and this is a new snapshot, whatever the type says */
	ev->snapshot = snapshot || ev->seq == 1;
	return PERPS_OK;
}

/* publicTrade: i, p, v, T, S */
static const PerpsTradeKeys bybit_ws_trade_keys = {"i", "p", "v", "T", "S", "Buy", "Sell"};

static PerpsStatus
bybit_ws_trades(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev)
{
	struct json_object *data;
	size_t		n;

	ev->kind = PERPS_EV_TRADES;
	if (perps_json_need(ctx, root, "data", json_type_array, &data) != PERPS_OK)
		return ctx->status;
	n = json_object_array_length(data);
	if (n > BYBIT_WS_MAX_TRADES)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit trade frame has %zu trades", n);
	ev->trades = perps_alloc_array(ctx, n, sizeof(PerpsTrade));
	if (ev->trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(data, i);
		PerpsTrade *t = &ev->trades[i];
		const char *sym;

		if (perps_parse_trade(ctx, it, i, &bybit_ws_trade_keys, t) ||
			perps_json_string(ctx, perps_json_get(it, "s"), "s", &sym))
			return ctx->status;
		if (strcmp(sym, ev->native_symbol) != 0)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit trade of %.40s in the topic of %.40s",
							  sym, ev->native_symbol);
		if (t->trade_id[0] == '\0' || strlen(t->trade_id) > 128)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit trade id is empty or too long");
	}
	ev->ntrades = (int) n;
	return PERPS_OK;
}

static PerpsStatus
bybit_ws_ticker(PerpsCtx *ctx, struct json_object *root, bool snapshot, PerpsStreamEvent *ev)
{
	struct json_object *data;
	struct json_object *v;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = snapshot;
	ev->next_funding_time_us = PERPS_TS_NONE;
	if (perps_json_need(ctx, root, "data", json_type_object, &data) != PERPS_OK)
		return ctx->status;
	/* the REST ticker parser reads the same field names; every field is optional in a delta */
	if (bybit_ticker_fields(ctx, data, ev->ts_us, &ev->ticker) != PERPS_OK)
		return ctx->status;
	if (strcmp(ev->ticker.native_symbol, ev->native_symbol) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit ticker of %.40s in the topic of %.40s",
						  ev->ticker.native_symbol, ev->native_symbol);
	if (perps_json_decimal_field(ctx, data, "fundingRate", false, &ev->funding_rate) != PERPS_OK ||
		perps_json_decimal_field(ctx, data, "fundingIntervalHour", false, &ev->funding_interval_hours) != PERPS_OK ||
		perps_json_decimal_field(ctx, data, "prevPrice24h", false, &ev->prev_price_24h) != PERPS_OK)
		return ctx->status;
	if ((v = perps_json_get(data, "nextFundingTime")) != NULL &&
		!perps_json_str_eq(v, "") && !perps_json_str_eq(v, "0") &&
		perps_json_ts(ctx, v, PERPS_MS, "nextFundingTime", &ev->next_funding_time_us) != PERPS_OK)
		return ctx->status;
	return PERPS_OK;
}

/*
 * kline.<interval>.<symbol>: data is an array of candles {start, end,
 * interval, open, close, high, low, volume, turnover, confirm, timestamp},
 * confirm true once the candle is closed; one event each.
 */
static const PerpsKlineKeys bybit_ws_kline_keys = {
	.open_ms = "start",.close_ms = "end",.open = "open",.high = "high",.low = "low",.close = "close",
	.volume = "volume",.turnover = "turnover",
};

#define BYBIT_WS_MAX_KLINES 1000

static PerpsStatus
bybit_ws_klines(PerpsCtx *ctx, struct json_object *root, const PerpsStreamEvent *head, PerpsStreamFrame *out)
{
	struct json_object *data = perps_json_get(root, "data");
	size_t		n;

	if (data == NULL || !json_object_is_type(data, json_type_array))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit kline data is not an array");
	n = json_object_array_length(data);
	if (n > BYBIT_WS_MAX_KLINES)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit kline frame has %zu candles", n);
	out->events = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsStreamEvent));
	if (out->events == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(data, i);
		PerpsStreamEvent *ev = &out->events[i];
		struct json_object *confirm;
		const char *iv;
		char		what[40];

		*ev = *head;
		ev->kind = PERPS_EV_KLINE;
		snprintf(what, sizeof(what), "bybit kline %zu", i);
		if (perps_parse_kline_obj(ctx, it, what, &bybit_ws_kline_keys, 0, &ev->kline) != PERPS_OK ||
			perps_json_string(ctx, perps_json_get(it, "interval"), "interval", &iv) != PERPS_OK ||
			perps_json_need(ctx, it, "confirm", json_type_boolean, &confirm) != PERPS_OK)
			return ctx->status;
		if ((ev->kline_interval = bybit_interval_ours(iv)) == NULL)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "bybit kline interval \"%.8s\" is not one perps_stats streams", iv);
		ev->kline_closed = json_object_get_boolean(confirm);
	}
	out->nevents = (int) n;
	return PERPS_OK;
}

/* the stream's kline interval names are the REST ones */
static const char *
bybit_ws_kline_channel(const char *interval)
{
	return bybit_interval(interval);
}

static PerpsStatus
bybit_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *topic;
	struct json_object *v;
	PerpsStreamEvent *ev;
	const char *t;
	const char *dot;

	if (perps_ws_json_begin(ctx, "bybit", data, len, binary, BYBIT_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	ev = perps_ws_event_new(ctx);
	if (ev == NULL)
		goto done;

	topic = perps_json_get(root, "topic");
	if (topic == NULL)
	{
		/* control: {"success":true,"ret_msg":"","op":"subscribe",...} or a pong */
		ev->kind = PERPS_EV_CONTROL;
		if ((v = perps_json_get(root, "op")) == NULL || !json_object_is_type(v, json_type_string))
		{
			perps_fail(ctx, PERPS_ERR_SHAPE, "bybit frame has neither topic nor op");
			goto done;
		}
		v = perps_json_get(root, "success");
		if (v != NULL && json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v))
		{
			struct json_object *msg = perps_json_get(root, "ret_msg");

			ev->is_error = true;
			if (perps_json_string(ctx, msg ? msg : perps_json_get(root, "op"), "ret_msg", &ev->message))
				goto done;
		}
		goto one;
	}
	if (perps_json_string(ctx, topic, "topic", &t) != PERPS_OK)
		goto done;
	ev->channel = t;
	dot = strrchr(t, '.');
	if (dot == NULL || !bybit_symbol_ok(dot + 1))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "bybit topic \"%.60s\" names no symbol", t);
		goto done;
	}
	ev->native_symbol = dot + 1;
	if (perps_json_ts_field(ctx, root, "ts", PERPS_MS, &ev->ts_us) != PERPS_OK)
		goto done;

	{
		struct json_object *type = perps_json_get(root, "type");
		bool		snapshot = perps_json_str_eq(type, "snapshot");

		if (!snapshot && !perps_json_str_eq(type, "delta"))
		{
			perps_fail(ctx, PERPS_ERR_SHAPE, "bybit frame type is neither snapshot nor delta");
			goto done;
		}
		if (strncmp(t, "kline.", 6) == 0)
		{
			bybit_ws_klines(ctx, root, ev, out);
			goto done;
		}
		if (strncmp(t, "orderbook.", 10) == 0)
			bybit_ws_book(ctx, root, snapshot, ev);
		else if (strncmp(t, "publicTrade.", 12) == 0)
			bybit_ws_trades(ctx, root, ev);
		else if (strncmp(t, "tickers.", 8) == 0)
			bybit_ws_ticker(ctx, root, snapshot, ev);
		else
			ev->kind = PERPS_EV_CONTROL;	/* a topic we did not ask for */
		if (ctx->status != PERPS_OK)
			goto done;
		if (ev->kind == PERPS_EV_BOOK && strcmp(ev->native_symbol, dot + 1) != 0)
		{
			perps_fail(ctx, PERPS_ERR_SHAPE, "bybit book of %.40s in topic %.60s", ev->native_symbol, t);
			goto done;
		}
	}
one:
	return perps_ws_json_end_one(ctx, root, ev, out);
done:
	return perps_ws_json_end(ctx, root, out);
}

static const PerpsStreamAdapter bybit_stream = {
	.quote = BYBIT_QUOTE,
	.book_depth = BYBIT_WS_BOOK_DEPTH,
	.ping_message = "{\"op\":\"ping\"}",
	.ping_interval_s = 20,
	.max_message_bytes = BYBIT_WS_MAX_MESSAGE,
	.subscribe = bybit_ws_subscribe,
	.kline_channel = bybit_ws_kline_channel,
	.resync = bybit_ws_resync,
	.parse_frame = bybit_ws_parse,
	.seq_rule = perps_seq_snapshot_then_next,	/* u one by one; u = 1 is a snapshot */
};

const PerpsAdapter perps_adapter_bybit = {
	.name = "bybit",
	.native_symbol = bybit_native_symbol,
	.needs_markets = false,
	.symbol_ok = bybit_symbol_ok,
	.symbol_what = "a native symbol like BTCUSDT",
	.open_body = bybit_open,
	.methods = {
		[PERPS_M_MARKETS] = {.build = bybit_build_markets, .parse = bybit_parse_markets},
		[PERPS_M_TICKER] = {.build = bybit_build_ticker, .parse = bybit_parse_ticker},
		[PERPS_M_TICKERS] = {.build = bybit_build_tickers, .parse = bybit_parse_tickers},
		[PERPS_M_ORDERBOOK] = {.build = bybit_build_orderbook, .parse = bybit_parse_orderbook},
		/* the symbol's ticker carries its funding */
		[PERPS_M_FUNDING] = {.build = bybit_build_ticker, .parse = bybit_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = bybit_build_funding_history, .parse = bybit_parse_funding_history},
		[PERPS_M_OPEN_INTEREST] = {.build = bybit_build_open_interest, .parse = bybit_parse_open_interest},
		[PERPS_M_KLINES] = {.build = bybit_build_klines, .parse = bybit_parse_klines},
		[PERPS_M_TRADES] = {.build = bybit_build_trades, .parse = bybit_parse_trades},
	},
	/* v5: 600 requests per 5 s per IP, across all public endpoints */
	.rate_limit = {.weight = 600,.window_ms = 5000},
	.max_kline_page = BYBIT_KLINE_PAGE,
	.max_funding_page = BYBIT_FUNDING_PAGE,
	.max_trades_page = BYBIT_TRADES_PAGE,
	.no_trades_history = BYBIT_NO_TRADE_HISTORY,
	.stream = &bybit_stream,
};
