/*-------------------------------------------------------------------------
 *
 * src/venues/lighter.c
 *		Lighter public REST (mainnet.zklighter.elliot.ai/api/v1): perpetual
 *		order books.
 *
 * Symbols: a market is named by its numeric market_id, which only the
 * markets list gives (ETH is "0"), so native_symbol() cannot map a global
 * symbol and the caller passes the market id from perps_stats.markets.
 *
 * Every answer carries "code": 200 on success; anything else is a venue
 * error with its "message".
 *
 * Units: sizes are base units already.  The REST book
 * (/api/v1/orderBookOrders) lists single orders, best first; they are
 * returned as they are and the caller merges equal prices into levels.
 *
 * Times: candlesticks are in ms (start/end parameters too), fundings in
 * seconds (parameters too), trades' "timestamp" in ms.  Trade ids and
 * order indexes can exceed 2^53 and are read as text.
 *
 * Funding: /api/v1/fundings rows give "rate" in percent of the notional per
 * hourly settlement, unsigned, with the paying side in "direction";
 * /api/v1/funding-rates gives the current rate of several venues, Lighter's
 * included, as a fraction over 8 hours.
 *
 * Rate limit: a standard account may send 60 requests per rolling minute,
 * and no more of an endpoint than 24000 / its weight (recentTrades: 600);
 * modelled as 24000 weight per minute with every request costing at least
 * 400.
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

/* why trades cannot be backfilled from this venue (PerpsAdapter.no_trades_history) */
#define LT_NO_TRADE_HISTORY \
	"This build reads only Lighter's most recent trades (/api/v1/recentTrades, at most 100); its cursor-paged /api/v1/trades takes a start but no end and is not used yet."

#define LT_KLINE_PAGE 500		/* candlesticks: at most 500 per call */
#define LT_FUNDING_PAGE 750		/* fundings: at most 750 per call */
#define LT_TRADES_PAGE 100		/* recentTrades: limit 1..100 */
#define LT_BOOK_MAX 250			/* orderBookOrders: limit 1..250 */
#define LT_WEIGHT 400			/* 24000 / 60 requests a minute */
#define LT_WEIGHT_TRADES 600

static bool
lt_native_symbol(const char *global, char *buf, size_t buflen)
{
	return false;				/* only the markets list maps a symbol to its market id */
}

/* A market id: 1 to 9 digits. */
static bool
lt_id_ok(const char *s)
{
	size_t		n;

	if (s == NULL)
		return false;
	n = strlen(s);
	return n >= 1 && n <= 9 && strspn(s, "0123456789") == n;
}

/* Lighter's resolution names are ours (1m 5m 15m 30m 1h 4h 1d). */
static const char *
lt_resolution(const char *interval)
{
	return perps_interval_seconds(interval) > 0 ? interval : NULL;
}

/* ---- build: one function a method ---- */

/* the details of every order book: the markets, and all tickers */
static int
lt_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], LT_WEIGHT, "/api/v1/orderBookDetails") ? ctx->status : 1;
}

/* the details of one order book: its ticker, and its open interest */
static int
lt_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *id = q->market->native_symbol;

	return perps_request_path(ctx, &reqs[0], LT_WEIGHT, "/api/v1/orderBookDetails?market_id=%s", id) ? ctx->status : 1;
}

static int
lt_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *id = q->market->native_symbol;

	/* orders, not levels: ask for the most, the caller merges and cuts */
	return perps_request_path(ctx, &reqs[0], LT_WEIGHT, "/api/v1/orderBookOrders?market_id=%s&limit=%d",
							  id, LT_BOOK_MAX) ? ctx->status : 1;
}

static int
lt_build_funding(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], LT_WEIGHT, "/api/v1/funding-rates") ? ctx->status : 1;
}

static int
lt_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *id = q->market->native_symbol;
	int			rows = perps_page_size(q, LT_FUNDING_PAGE);
	int64_t		start,
				end;

	/* seconds; hourly settlements */
	if (!perps_page_window(q, 1000000, (int64_t) rows * 3600, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "lighter: since is after until");
	return perps_request_path(ctx, &reqs[0], LT_WEIGHT,
							  "/api/v1/fundings?market_id=%s&resolution=1h&start_timestamp=%lld&end_timestamp=%lld&count_back=%d",
							  id, (long long) start, (long long) end, rows) ? ctx->status : 1;
}

static int
lt_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *id = q->market->native_symbol;
	const char *res = lt_resolution(q->interval);
	int			rows = perps_page_size(q, LT_KLINE_PAGE);
	int64_t		start,
				end;

	if (res == NULL)
		return perps_fail(ctx, PERPS_ERR_ARG, "lighter: unsupported kline interval \"%s\"",
						  q->interval ? q->interval : "(null)");
	/* ms */
	if (!perps_page_window(q, 1000, rows * (int64_t) perps_interval_seconds(res) * 1000, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "lighter: since is after until");
	return perps_request_path(ctx, &reqs[0], LT_WEIGHT,
							  "/api/v1/candlesticks?market_id=%s&resolution=%s&start_timestamp=%lld&end_timestamp=%lld&count_back=%d",
							  id, res, (long long) start, (long long) end, rows) ? ctx->status : 1;
}

static int
lt_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *id = q->market->native_symbol;
	int			limit = perps_page_size(q, LT_TRADES_PAGE);

	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_UNSUPPORTED, "%s", LT_NO_TRADE_HISTORY);
	return perps_request_path(ctx, &reqs[0], LT_WEIGHT_TRADES, "/api/v1/recentTrades?market_id=%s&limit=%d",
							  id, limit) ? ctx->status : 1;
}

/* ---- parsers ---- */

/* PerpsAdapter.open_body: every answer carries "code" 200 */
static PerpsStatus
lt_open(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
{
	struct json_object *code;
	struct json_object *msg;
	int64_t		c = 0;

	*root = NULL;
	if (perps_json_parse(ctx, b->data, b->len, root) != PERPS_OK)
	{
		if (b->status != 200)
			return perps_fail(ctx, PERPS_ERR_VENUE, "HTTP status %ld", b->status);
		return ctx->status;
	}
	code = perps_json_get(*root, "code");
	msg = perps_json_get(*root, "message");
	if ((code == NULL || !json_object_is_type(code, json_type_int)) && b->status == 200)
	{
		json_object_put(*root);
		*root = NULL;
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"code\" is missing or not an integer");
	}
	if (code == NULL || !json_object_is_type(code, json_type_int) ||
		(c = json_object_get_int64(code)) != 200 || b->status != 200)
	{
		PerpsStatus st;

		st = perps_fail(ctx, PERPS_ERR_VENUE, "lighter error %lld (HTTP %ld): %s", (long long) c, b->status,
						msg && json_object_is_type(msg, json_type_string) ?
						json_object_get_string(msg) : "(no message)");
		json_object_put(*root);
		*root = NULL;
		return st;
	}
	return PERPS_OK;
}

/* Market id of an object as text. */
static PerpsStatus
lt_id_text(PerpsCtx *ctx, struct json_object *o, const char **out)
{
	int64_t		id;
	char		buf[24];

	if (perps_json_int64_field(ctx, o, "market_id", &id))
		return ctx->status;
	if (id < 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "market_id %lld is negative", (long long) id);
	snprintf(buf, sizeof(buf), "%lld", (long long) id);
	*out = perps_strndup(ctx, buf, strlen(buf));
	return *out ? PERPS_OK : ctx->status;
}

/* 10^-d as text ("0.01" for 2). */
static const char *
lt_pow10_neg(PerpsCtx *ctx, struct json_object *o, const char *key)
{
	int64_t		d;

	if (perps_json_get(o, key) == NULL)
		return NULL;
	if (perps_json_int64_field(ctx, o, key, &d))
		return NULL;
	if (d < 0 || d > 30)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "%s is %lld", key, (long long) d);
		return NULL;
	}
	return perps_decimal_shift(ctx, "1", (int) -d);
}

/* A perpetual row of order_book_details (spot markets come in another array). */
static bool
lt_is_perp(struct json_object *o)
{
	struct json_object *t = perps_json_get(o, "market_type");

	return t == NULL || (json_object_is_type(t, json_type_string) &&
						 strcmp(json_object_get_string(t), "perp") == 0);
}

static PerpsStatus
lt_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;
	int			k = 0;

	out->u.markets = perps_rows_field(ctx, root, "order_book_details", sizeof(PerpsMarket), &arr, &n);
	if (out->u.markets == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsMarket *mk = &out->u.markets[k];
		struct json_object *st;
		int64_t		imf;
		char		buf[24];

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "market %zu is not an object", i);
		if (!lt_is_perp(o))
			continue;
		if (perps_json_string(ctx, perps_json_get(o, "symbol"), "symbol", &mk->symbol) ||
			lt_id_text(ctx, o, &mk->native_symbol) ||
			perps_json_decimal_field(ctx, o, "min_base_amount", false, &mk->min_qty) ||
			perps_json_decimal_field(ctx, o, "min_quote_amount", false, &mk->min_notional))
			return ctx->status;
		mk->base = mk->symbol;
		mk->quote = "USDC";		/* Lighter perps are margined and quoted in USDC */
		mk->contract_size = "1";
		mk->tick_size = lt_pow10_neg(ctx, o, "price_decimals");
		mk->lot_size = lt_pow10_neg(ctx, o, "size_decimals");
		if (ctx->status != PERPS_OK)
			return ctx->status;
		/* margin fractions are in hundredths of a percent: 200 = 2 % = 50x */
		if (perps_json_get(o, "min_initial_margin_fraction") != NULL)
		{
			if (perps_json_int64_field(ctx, o, "min_initial_margin_fraction", &imf))
				return ctx->status;
			if (imf > 0 && 10000 % imf == 0)
			{
				snprintf(buf, sizeof(buf), "%lld", (long long) (10000 / imf));
				mk->max_leverage = perps_strndup(ctx, buf, strlen(buf));
			}
		}
		mk->funding_interval_hours = "1";	/* settled every hour */
		st = perps_json_get(o, "status");
		mk->active = st != NULL && json_object_is_type(st, json_type_string) &&
			strcmp(json_object_get_string(st), "active") == 0;
		k++;
	}
	out->n = k;
	return ctx->status;
}

static PerpsStatus
lt_ticker(PerpsCtx *ctx, struct json_object *o, PerpsTicker *t)
{
	const char *pct;

	if (lt_id_text(ctx, o, &t->native_symbol) ||
		perps_json_decimal_field(ctx, o, "last_trade_price", false, &t->last_price) ||
		perps_json_decimal_field(ctx, o, "daily_base_token_volume", false, &t->volume_24h) ||
		perps_json_decimal_field(ctx, o, "daily_quote_token_volume", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, o, "open_interest", false, &t->open_interest) ||
		perps_json_decimal_field(ctx, o, "daily_price_change", false, &pct) ||
		perps_json_decimal_field(ctx, o, "daily_price_high", false, &t->high_24h) ||
		perps_json_decimal_field(ctx, o, "daily_price_low", false, &t->low_24h))
		return ctx->status;
	/* daily_price_change is in percent */
	t->price_change_pct = perps_decimal_shift(ctx, pct, -2);
	t->ts_us = PERPS_TS_NONE;	/* the details carry no time */
	return ctx->status;
}

/* PerpsTickerRead of an order book details row: perpetuals only (spot markets come too) */
static PerpsStatus
lt_ticker_read(PerpsCtx *ctx, struct json_object *o, size_t i, PerpsTicker *t, bool *keep)
{
	if (o == NULL || !json_object_is_type(o, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "market %zu is not an object", i);
	*keep = lt_is_perp(o);
	return *keep ? lt_ticker(ctx, o, t) : PERPS_OK;
}

static PerpsStatus
lt_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	return perps_pick_tickers(ctx, docs[0], "order_book_details", q->market->native_symbol, lt_ticker_read, out);
}

static PerpsStatus
lt_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	return perps_pick_tickers(ctx, docs[0], "order_book_details", NULL, lt_ticker_read, out);
}

static PerpsStatus
lt_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	PerpsResult tk;

	memset(&tk, 0, sizeof(tk));
	if (perps_pick_tickers(ctx, docs[0], "order_book_details", q->market->native_symbol, lt_ticker_read, &tk))
		return ctx->status;
	/* the details carry no time: the open interest has none either */
	return perps_open_interest_of(ctx, &tk.u.tickers[0], out);
}

static PerpsStatus
lt_orders(PerpsCtx *ctx, struct json_object *root, const char *key, int depth,
		  PerpsLevel **out, int *nout)
{
	struct json_object *arr;
	size_t		n;
	int			k = 0;

	if (perps_need_array_field(ctx, root, key, &arr, &n))
		return ctx->status;
	*out = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsLevel));
	if (*out == NULL)
		return ctx->status;
	for (size_t i = 0; i < n && (depth <= 0 || k < depth); i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsLevel *lv = &(*out)[k];

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "%s order %zu is not an object", key, i);
		if (perps_json_decimal_field(ctx, o, "price", true, &lv->price) ||
			perps_json_decimal_field(ctx, o, "remaining_base_amount", true, &lv->qty))
			return ctx->status;
		/* a filled order (size 0) is no liquidity */
		if (strspn(lv->qty, "0.") == strlen(lv->qty))
			continue;
		k++;
	}
	*nout = k;
	return PERPS_OK;
}

static PerpsStatus
lt_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	struct json_object *root = docs[0];
	PerpsBook  *bk = out->u.book = perps_alloc(ctx, sizeof(PerpsBook));

	if (bk == NULL)
		return ctx->status;
	/* the caller merges orders of equal price into levels; depth bounds orders here */
	if (lt_orders(ctx, root, "bids", 0, &bk->bids, &bk->nbids) ||
		lt_orders(ctx, root, "asks", 0, &bk->asks, &bk->nasks))
		return ctx->status;
	bk->ts_us = PERPS_TS_NONE;
	bk->has_seq = false;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
lt_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;

	if (perps_need_array_field(ctx, root, "funding_rates", &arr, &n))
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct json_object *ex = perps_json_get(o, "exchange");
		const char *id;
		PerpsFunding *f;
		int64_t		now_us,
					hour_us = INT64_C(3600000000);

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "funding rate %zu is not an object", i);
		if (ex == NULL || !json_object_is_type(ex, json_type_string) ||
			strcmp(json_object_get_string(ex), "lighter") != 0)
			continue;
		if (lt_id_text(ctx, o, &id))
			return ctx->status;
		if (strcmp(id, q->market->native_symbol) != 0)
			continue;
		f = out->u.funding = perps_alloc(ctx, sizeof(PerpsFunding));
		if (f == NULL)
			return ctx->status;
		if (perps_json_decimal_field(ctx, o, "rate", true, &f->rate))
			return ctx->status;
		/* the rate is over 8 hours; settlements are hourly, on the hour */
		f->interval_hours = "8";
		now_us = (int64_t) time(NULL) * 1000000;
		f->funding_time_us = now_us - now_us % hour_us;
		f->next_funding_time_us = f->funding_time_us + hour_us;
		out->n = 1;
		return PERPS_OK;
	}
	return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "lighter: no funding rate for market %s",
					  q->market->native_symbol);
}

static PerpsStatus
lt_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						 PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;
	int			rows = perps_page_size(q, LT_FUNDING_PAGE);
	int64_t		max_ts = PERPS_TS_NONE;

	out->u.funding = perps_rows_field(ctx, root, "fundings", sizeof(PerpsFunding), &arr, &n);
	if (out->u.funding == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsFunding *f = &out->u.funding[i];
		const char *rate;
		const char *dir;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "funding %zu is not an object", i);
		if (perps_json_ts_field(ctx, o, "timestamp", PERPS_S, &f->funding_time_us) ||
			perps_json_decimal_field(ctx, o, "rate", true, &rate) ||
			perps_json_string(ctx, perps_json_get(o, "direction"), "direction", &dir))
			return ctx->status;
		if (rate[0] == '-' || rate[0] == '+')
			return perps_fail(ctx, PERPS_ERR_SHAPE, "funding rate \"%.30s\" is signed", rate);
		/* percent -> fraction; positive when longs pay */
		f->rate = perps_decimal_shift(ctx, rate, -2);
		if (f->rate == NULL)
			return ctx->status;
		if (strcmp(dir, "short") == 0)
		{
			if (strspn(f->rate, "0.") != strlen(f->rate))
			{
				char	   *neg = perps_alloc(ctx, strlen(f->rate) + 2);

				if (neg == NULL)
					return ctx->status;
				neg[0] = '-';
				strcpy(neg + 1, f->rate);
				f->rate = neg;
			}
		}
		else if (strcmp(dir, "long") != 0)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "direction is \"%.20s\", expected long or short", dir);
		f->interval_hours = "1";
		f->next_funding_time_us = PERPS_TS_NONE;
		if (max_ts == PERPS_TS_NONE || f->funding_time_us > max_ts)
			max_ts = f->funding_time_us;
	}
	out->n = (int) n;
	/* hourly settlements: the page asked for [since, since + rows hours) */
	perps_page_forward(q, rows, INT64_C(3600000000), max_ts, n, out);
	return PERPS_OK;
}

static PerpsStatus
lt_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;
	int			rows = perps_page_size(q, LT_KLINE_PAGE);
	int64_t		step_us = (int64_t) perps_interval_seconds(q->interval) * 1000000;
	int64_t		latest = PERPS_TS_NONE;

	if (step_us <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "lighter: unsupported kline interval");
	out->u.klines = perps_rows_field(ctx, root, "candlesticks", sizeof(PerpsKline), &arr, &n);
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsKline *k = &out->u.klines[i];

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "candlestick %zu is not an object", i);
		if (perps_json_ts_field(ctx, o, "timestamp", PERPS_MS, &k->open_time_us) ||
			perps_json_decimal_field(ctx, o, "open", true, &k->open) ||
			perps_json_decimal_field(ctx, o, "high", true, &k->high) ||
			perps_json_decimal_field(ctx, o, "low", true, &k->low) ||
			perps_json_decimal_field(ctx, o, "close", true, &k->close) ||
			perps_json_decimal_field(ctx, o, "volume0", false, &k->volume) ||
			perps_json_decimal_field(ctx, o, "volume1", false, &k->turnover))
			return ctx->status;
		/* zero values are left out of the answer */
		if (k->volume == NULL)
			k->volume = "0";
		if (k->turnover == NULL)
			k->turnover = "0";
		k->close_time_us = k->open_time_us + step_us - 1000;
		k->trade_count = -1;
		if (latest == PERPS_TS_NONE || k->open_time_us > latest)
			latest = k->open_time_us;
	}
	out->n = (int) n;
	/* the page asked for [since, since + rows intervals): go on after it */
	perps_page_forward(q, rows, step_us, latest, n, out);
	return PERPS_OK;
}

static PerpsStatus
lt_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;

	if (perps_need_array_field(ctx, root, "trades", &arr, &n))
		return ctx->status;
	if (q->limit > 0 && (size_t) q->limit < n)
		n = (size_t) q->limit;
	out->u.trades = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsTrade));
	if (out->u.trades == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsTrade *t = &out->u.trades[i];
		struct json_object *mk;

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "trade %zu is not an object", i);
		if (perps_json_id(ctx, perps_json_get(o, "trade_id"), "trade_id", &t->trade_id) ||
			perps_json_ts_field(ctx, o, "timestamp", PERPS_MS, &t->ts_us) ||
			perps_json_decimal_field(ctx, o, "price", true, &t->price) ||
			perps_json_decimal_field(ctx, o, "size", true, &t->qty) ||
			perps_json_need(ctx, o, "is_maker_ask", json_type_boolean, &mk))
			return ctx->status;
		/* the maker sold: the taker bought */
		t->is_buy = json_object_get_boolean(mk);
	}
	out->n = (int) n;
	return PERPS_OK;
}

/* ---- the stream side: wss://mainnet.zklighter.elliot.ai/stream ----
 *
 * One subscription per channel: {"type":"subscribe","channel":"order_book/36"},
 * "trade/36" and "market_stats/36" (the market id is the native symbol).
 * Frames name their channel with a colon ("order_book:36") and their kind
 * in "type":
 *
 *   connected, unsubscribed, pong, update/height, ...   control
 *   {"error":{"code":30003,"message":"..."}}              a refusal (control, is_error)
 *   subscribed/order_book     the full book (a snapshot)
 *   update/order_book         the levels that changed since the previous
 *                             message (size 0 deletes); sizes in base units
 *   subscribed|update/trade   trades ("trades", and "liquidation_trades")
 *   subscribed|update/market_stats
 *                             every statistic of the market (or of every
 *                             market, keyed by id, on market_stats/all)
 *
 * The book's nonce chain: order_book.nonce is the matching engine's id of
 * the book state a message leaves, order_book.begin_nonce the state it
 * starts from.  An update continues the book when its begin_nonce equals
 * the nonce of the previous message (the snapshot included): in the
 * recorded CRV sequence the snapshot has nonce 18032383898, the first
 * update begin_nonce 18032383898 and nonce 18032384006, the second
 * begin_nonce 18032384006, and so on.  The nonces themselves are not
 * consecutive, and neither is "offset" (415809 is followed by 415811 in
 * that same unbroken chain): offset counts the API server's messages and
 * changes with the server, so it is no continuity check.  seq is the
 * nonce, prev_seq the begin_nonce (first_seq begin_nonce + 1).
 *
 * Times: the frame's "timestamp" is in ms (book and market_stats events
 * take it), a trade's "timestamp" in ms; last_updated_at and
 * transaction_time (µs) are not used.
 *
 * market_stats: prices are decimal strings, the daily figures JSON numbers
 * (their text is kept), daily_price_change in percent.  open_interest is
 * in USD (the REST details give base units; 86574362.97 for ETH at 1914 is
 * dollars), so it is the ticker's open_interest_notional.  Funding settles
 * every hour on the hour; current_funding_rate is the estimate for the
 * hour in progress and funding_rate the last settled one, both in percent:
 * the event carries current_funding_rate / 100, due at the next hour mark
 * after the frame's time (funding_timestamp is the last settlement).
 *
 * Keepalive: the server closes a connection that has sent nothing for two
 * minutes; {"type":"ping"} every 30 s (the answer is {"type":"pong"}).
 * Limits: 100 subscriptions per connection, 3 per market here.
 */

#define LT_WS_BOOK_DEPTH 0		/* the channel sends the whole book */
#define LT_WS_MAX_LEVELS 20000
#define LT_WS_MAX_TRADES 10000
#define LT_WS_MAX_STATS 5000
#define LT_WS_MAX_MESSAGE (8 * 1024 * 1024)
#define LT_WS_HOUR_US INT64_C(3600000000)

/* {"type":"<op>","channel":"<kind>/<id>"} */
static PerpsStatus
lt_ws_msg(PerpsCtx *ctx, const char *op, const char *kind, const char *id, PerpsWsMessage *out)
{
	char		buf[128];
	int			n;

	n = snprintf(buf, sizeof(buf), "{\"type\":\"%s\",\"channel\":\"%s/%s\"}", op, kind, id);
	if (n < 0 || (size_t) n >= sizeof(buf))
		return perps_fail(ctx, PERPS_ERR_ARG, "lighter subscribe message too long");
	out->data = perps_strndup(ctx, buf, (size_t) n);
	out->len = (size_t) n;
	return out->data ? PERPS_OK : ctx->status;
}

static int
lt_ws_subscribe(PerpsCtx *ctx, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	static const char *const kinds[3] = {"order_book", "trade", "market_stats"};
	const char *const *natives = want->natives;
	int			n = want->n;
	int			k = 0;

	if (n < 0 || (size_t) n * 3 > PERPS_WS_MAX_MESSAGES)
		return perps_fail(ctx, PERPS_ERR_ARG, "lighter cannot stream %d markets on one connection", n);
	for (int i = 0; i < n; i++)
	{
		if (!lt_id_ok(natives[i]))
			return perps_fail(ctx, PERPS_ERR_ARG, "lighter market id \"%.40s\" is not valid", natives[i]);
		for (int c = 0; c < 3; c++)
			if (lt_ws_msg(ctx, "subscribe", kinds[c], natives[i], &out[k++]) != PERPS_OK)
				return ctx->status;
	}
	return k;
}

/* A fresh snapshot: unsubscribe and subscribe the market's order_book channel. */
static int
lt_ws_resync(PerpsCtx *ctx, const char *native, PerpsWsMessage *out)
{
	if (!lt_id_ok(native))
		return perps_fail(ctx, PERPS_ERR_ARG, "lighter market id is not valid");
	if (lt_ws_msg(ctx, "unsubscribe", "order_book", native, &out[0]) != PERPS_OK ||
		lt_ws_msg(ctx, "subscribe", "order_book", native, &out[1]) != PERPS_OK)
		return ctx->status;
	return 2;
}

/* [{"price":"0.20382","size":"7816.7"}, ...] */
static PerpsStatus
lt_ws_levels(PerpsCtx *ctx, struct json_object *book, const char *key, PerpsLevel **out, int *nout)
{
	struct json_object *arr;
	size_t		n;

	if (perps_json_need(ctx, book, key, json_type_array, &arr) != PERPS_OK)
		return ctx->status;
	n = json_object_array_length(arr);
	if (n > LT_WS_MAX_LEVELS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter book frame has %zu %s", n, key);
	*out = perps_alloc_array(ctx, n ? n : 1, sizeof(PerpsLevel));
	if (*out == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter %s level %zu is not an object", key, i);
		if (perps_json_decimal_field(ctx, o, "price", true, &(*out)[i].price) != PERPS_OK ||
			perps_json_decimal_field(ctx, o, "size", true, &(*out)[i].qty) != PERPS_OK)
			return ctx->status;
	}
	*nout = (int) n;
	return PERPS_OK;
}

static PerpsStatus
lt_ws_book(PerpsCtx *ctx, struct json_object *root, bool snapshot, PerpsStreamEvent *ev)
{
	struct json_object *book;

	ev->kind = PERPS_EV_BOOK;
	ev->snapshot = snapshot;
	if (perps_json_need(ctx, root, "order_book", json_type_object, &book) != PERPS_OK ||
		perps_json_int64_field(ctx, book, "nonce", &ev->seq) != PERPS_OK ||
		lt_ws_levels(ctx, book, "bids", &ev->bids, &ev->nbids) != PERPS_OK ||
		lt_ws_levels(ctx, book, "asks", &ev->asks, &ev->nasks) != PERPS_OK)
		return ctx->status;
	if (ev->seq < 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter book nonce %lld is negative", (long long) ev->seq);
	/* an update must say where it starts; the snapshot's begin_nonce (0) means nothing */
	if (!snapshot)
	{
		if (perps_json_int64_field(ctx, book, "begin_nonce", &ev->prev_seq) != PERPS_OK)
			return ctx->status;
		if (ev->prev_seq < 0 || ev->prev_seq >= INT64_MAX || ev->prev_seq > ev->seq)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter book update from nonce %lld to %lld",
							  (long long) ev->prev_seq, (long long) ev->seq);
		ev->has_prev_seq = true;
		/* the states it covers start after begin_nonce: a gap lost nonce + 1 .. begin_nonce */
		ev->first_seq = ev->prev_seq + 1;
		ev->has_first_seq = true;
	}
	return PERPS_OK;
}

static PerpsStatus
lt_ws_trade_list(PerpsCtx *ctx, struct json_object *arr, const char *native, PerpsTrade *out)
{
	size_t		n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct json_object *mk;
		PerpsTrade *t = &out[i];

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter trade %zu is not an object", i);
		if (perps_json_id(ctx, perps_json_get(o, "trade_id"), "trade_id", &t->trade_id) != PERPS_OK ||
			perps_json_ts_field(ctx, o, "timestamp", PERPS_MS, &t->ts_us) != PERPS_OK ||
			perps_json_decimal_field(ctx, o, "price", true, &t->price) != PERPS_OK ||
			perps_json_decimal_field(ctx, o, "size", true, &t->qty) != PERPS_OK ||
			perps_json_need(ctx, o, "is_maker_ask", json_type_boolean, &mk) != PERPS_OK)
			return ctx->status;
		if (perps_json_get(o, "market_id") != NULL)
		{
			const char *id;

			if (lt_id_text(ctx, o, &id) != PERPS_OK)
				return ctx->status;
			if (strcmp(id, native) != 0)
				return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter trade of market %.20s in the channel of %.20s",
								  id, native);
		}
		/* the maker was the ask: the taker bought */
		t->is_buy = json_object_get_boolean(mk);
	}
	return PERPS_OK;
}

static PerpsStatus
lt_ws_trades(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev)
{
	struct json_object *arr;
	struct json_object *liq = perps_json_get(root, "liquidation_trades");
	size_t		n,
				nl = 0;

	ev->kind = PERPS_EV_TRADES;
	if (perps_json_need(ctx, root, "trades", json_type_array, &arr) != PERPS_OK)
		return ctx->status;
	n = json_object_array_length(arr);
	if (liq != NULL && !json_object_is_type(liq, json_type_null))
	{
		if (!json_object_is_type(liq, json_type_array))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter liquidation_trades is not an array");
		nl = json_object_array_length(liq);
	}
	if (n > LT_WS_MAX_TRADES || nl > LT_WS_MAX_TRADES)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter trade frame has %zu + %zu trades", n, nl);
	ev->trades = perps_alloc_array(ctx, (n + nl) ? n + nl : 1, sizeof(PerpsTrade));
	if (ev->trades == NULL)
		return ctx->status;
	/* liquidations are trades of the market too (a trade id is stored once) */
	if (lt_ws_trade_list(ctx, arr, ev->native_symbol, ev->trades) != PERPS_OK ||
		(nl > 0 && lt_ws_trade_list(ctx, liq, ev->native_symbol, ev->trades + n) != PERPS_OK))
		return ctx->status;
	ev->ntrades = (int) (n + nl);
	return PERPS_OK;
}

/* One market's statistics as a full ticker with its funding. */
static PerpsStatus
lt_ws_stats(PerpsCtx *ctx, struct json_object *st, const char *native, int64_t ts_us,
			PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;
	const char *id;
	const char *pct;
	const char *rate;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = true;		/* every frame carries every statistic */
	ev->native_symbol = native;
	ev->ts_us = ts_us;
	ev->next_funding_time_us = PERPS_TS_NONE;
	if (!json_object_is_type(st, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter market_stats of %.20s is not an object", native);
	if (lt_id_text(ctx, st, &id) != PERPS_OK)
		return ctx->status;
	if (strcmp(id, native) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter market_stats of market %.20s under %.20s", id, native);
	t->native_symbol = native;
	t->ts_us = ts_us;
	if (perps_json_decimal_field(ctx, st, "last_trade_price", false, &t->last_price) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "mark_price", false, &t->mark_price) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "index_price", false, &t->index_price) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "best_bid_price", false, &t->best_bid_price) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "best_ask_price", false, &t->best_ask_price) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "daily_base_token_volume", false, &t->volume_24h) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "daily_quote_token_volume", false, &t->turnover_24h) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "open_interest", false, &t->open_interest_notional) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "daily_price_change", false, &pct) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "daily_price_high", false, &t->high_24h) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "daily_price_low", false, &t->low_24h) != PERPS_OK ||
		perps_json_decimal_field(ctx, st, "current_funding_rate", false, &rate) != PERPS_OK)
		return ctx->status;
	/* percent -> fraction */
	if (pct != NULL && (t->price_change_pct = perps_decimal_shift(ctx, pct, -2)) == NULL)
		return ctx->status;
	if (rate != NULL)
	{
		if ((ev->funding_rate = perps_decimal_shift(ctx, rate, -2)) == NULL)
			return ctx->status;
		/* hourly, on the hour: the hour in progress settles at the next mark */
		ev->next_funding_time_us = (ts_us / LT_WS_HOUR_US + 1) * LT_WS_HOUR_US;
		ev->funding_interval_hours = "1";
	}
	return PERPS_OK;
}

/* market_stats:<id> holds one market's statistics; market_stats:all every market's, by id. */
static PerpsStatus
lt_ws_market_stats(PerpsCtx *ctx, struct json_object *root, const char *native, int64_t ts_us,
				   PerpsStreamFrame *out)
{
	struct json_object *st;

	if (perps_json_need(ctx, root, "market_stats", json_type_object, &st) != PERPS_OK)
		return ctx->status;
	if (strcmp(native, "all") != 0)
	{
		out->events = perps_alloc(ctx, sizeof(PerpsStreamEvent));
		if (out->events == NULL || lt_ws_stats(ctx, st, native, ts_us, &out->events[0]) != PERPS_OK)
			return ctx->status;
		out->nevents = 1;
		return PERPS_OK;
	}
	else
	{
		int			n = json_object_object_length(st);
		int			k = 0;
		struct json_object_iterator it;
		struct json_object_iterator end;

		if (n < 0 || n > LT_WS_MAX_STATS)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter market_stats:all has %d markets", n);
		out->events = perps_alloc_array(ctx, n ? (size_t) n : 1, sizeof(PerpsStreamEvent));
		if (out->events == NULL)
			return ctx->status;
		it = json_object_iter_begin(st);
		end = json_object_iter_end(st);
		for (; k < n && !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		{
			const char *key = json_object_iter_peek_name(&it);
			const char *id;

			if (!lt_id_ok(key))
				return perps_fail(ctx, PERPS_ERR_SHAPE, "lighter market_stats key \"%.20s\" is no market id", key);
			if ((id = perps_strndup(ctx, key, strlen(key))) == NULL ||
				lt_ws_stats(ctx, json_object_iter_peek_value(&it), id, ts_us, &out->events[k]) != PERPS_OK)
				return ctx->status;
			out->events[k].channel = "market_stats:all";
			k++;
		}
		out->nevents = k;
		return PERPS_OK;
	}
}

static PerpsStatus
lt_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *v;
	PerpsStreamEvent *ev;
	const char *type;
	const char *channel = NULL;
	const char *colon;
	const char *kind;
	bool		snapshot;

	if (perps_ws_json_begin(ctx, "lighter", data, len, binary, LT_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	ev = perps_ws_event_new(ctx);
	if (ev == NULL)
		goto done;

	/* a refusal: {"error":{"code":30003,"message":"Already Subscribed to : order_book:0"}} */
	if ((v = perps_json_get(root, "error")) != NULL)
	{
		struct json_object *msg = perps_json_get(v, "message");

		ev->kind = PERPS_EV_CONTROL;
		ev->is_error = true;
		if (msg != NULL && json_object_is_type(msg, json_type_string))
		{
			if (perps_json_string(ctx, msg, "error message", &ev->message) != PERPS_OK)
				goto done;
		}
		else
			ev->message = "lighter error without a message";
		goto one;
	}

	if (perps_json_string(ctx, perps_json_get(root, "type"), "type", &type) != PERPS_OK)
		goto done;
	if (strncmp(type, "subscribed/", 11) == 0)
	{
		snapshot = true;
		kind = type + 11;
	}
	else if (strncmp(type, "update/", 7) == 0)
	{
		snapshot = false;
		kind = type + 7;
	}
	else
	{
		/* connected, unsubscribed, pong, ... */
		ev->kind = PERPS_EV_CONTROL;
		goto one;
	}
	if (strcmp(kind, "order_book") != 0 && strcmp(kind, "trade") != 0 && strcmp(kind, "market_stats") != 0)
	{
		ev->kind = PERPS_EV_CONTROL;	/* height, ticker, ...: nothing we subscribe */
		goto one;
	}

	/* the channel names the market: order_book:36, trade:36, market_stats:36 (or :all) */
	if (perps_json_string(ctx, perps_json_get(root, "channel"), "channel", &channel) != PERPS_OK)
		goto done;
	colon = strchr(channel, ':');
	if (colon == NULL || (size_t) (colon - channel) != strlen(kind) ||
		strncmp(channel, kind, strlen(kind)) != 0 ||
		!(lt_id_ok(colon + 1) || (strcmp(kind, "market_stats") == 0 && strcmp(colon + 1, "all") == 0)))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "lighter channel \"%.60s\" does not match %.40s", channel, type);
		goto done;
	}
	ev->channel = channel;
	ev->native_symbol = colon + 1;

	if (strcmp(kind, "trade") == 0)
	{
		lt_ws_trades(ctx, root, ev);
		goto one;
	}
	/* books and statistics take the frame's time */
	if (perps_json_ts_field(ctx, root, "timestamp", PERPS_MS, &ev->ts_us) != PERPS_OK)
		goto done;
	if (strcmp(kind, "order_book") == 0)
	{
		lt_ws_book(ctx, root, snapshot, ev);
		goto one;
	}
	if (lt_ws_market_stats(ctx, root, ev->native_symbol, ev->ts_us, out) == PERPS_OK)
		for (int i = 0; i < out->nevents; i++)
			if (out->events[i].channel == NULL)
				out->events[i].channel = channel;
	goto done;

one:
	return perps_ws_json_end_one(ctx, root, ev, out);
done:
	return perps_ws_json_end(ctx, root, out);
}

/*
 * Nonce chain (see above): a snapshot replaces the book; an update whose
 * begin_nonce is the book's nonce is the next one; one whose nonce the
 * book has already reached is old; anything else (it starts after the
 * book's nonce, or straddles it) means updates were lost.
 */
static PerpsSeqCheck
lt_ws_seq_rule(bool have_book, int64_t last_seq, const PerpsStreamEvent *ev)
{
	if (ev->snapshot)
		return PERPS_SEQ_RESET;
	if (!have_book)
		return PERPS_SEQ_STALE;
	if (ev->has_prev_seq && ev->prev_seq == last_seq)
		return PERPS_SEQ_APPLY;
	if (ev->seq <= last_seq)
		return PERPS_SEQ_STALE;
	return PERPS_SEQ_GAP;
}

static const PerpsStreamAdapter lt_stream = {
	.quote = "USDC",
	.qty_in_contracts = false,
	.book_depth = LT_WS_BOOK_DEPTH,
	.ping_message = "{\"type\":\"ping\"}",
	.ping_interval_s = 30,
	.max_message_bytes = LT_WS_MAX_MESSAGE,
	.rest_snapshot = false,
	.subscribe = lt_ws_subscribe,
	.kline_unsupported = "Lighter's WebSocket API documents no candle channel.",
	.resync = lt_ws_resync,
	.parse_frame = lt_ws_parse,
	.seq_rule = lt_ws_seq_rule,
};

const PerpsAdapter perps_adapter_lighter = {
	.name = "lighter",
	.native_symbol = lt_native_symbol,
	.needs_markets = true,
	.symbol_ok = lt_id_ok,
	.symbol_what = "a market id (from the markets list)",
	.open_body = lt_open,
	.methods = {
		[PERPS_M_MARKETS] = {.build = lt_build_markets, .parse = lt_parse_markets},
		[PERPS_M_TICKER] = {.build = lt_build_ticker, .parse = lt_parse_ticker},
		/* the same request as the markets */
		[PERPS_M_TICKERS] = {.build = lt_build_markets, .parse = lt_parse_tickers},
		[PERPS_M_ORDERBOOK] = {.build = lt_build_orderbook, .parse = lt_parse_orderbook},
		[PERPS_M_FUNDING] = {.build = lt_build_funding, .parse = lt_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = lt_build_funding_history, .parse = lt_parse_funding_history},
		/* the same request as the ticker */
		[PERPS_M_OPEN_INTEREST] = {.build = lt_build_ticker, .parse = lt_parse_open_interest},
		[PERPS_M_KLINES] = {.build = lt_build_klines, .parse = lt_parse_klines},
		[PERPS_M_TRADES] = {.build = lt_build_trades, .parse = lt_parse_trades},
	},
	.rate_limit = {.weight = 24000, .window_ms = 60000},
	.max_kline_page = LT_KLINE_PAGE,
	.max_funding_page = LT_FUNDING_PAGE,
	.max_trades_page = LT_TRADES_PAGE,
	.no_trades_history = LT_NO_TRADE_HISTORY,
	.stream = &lt_stream,
};
