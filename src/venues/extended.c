/*-------------------------------------------------------------------------
 *
 * src/venues/extended.c
 *		Extended (formerly X10; perpetuals settled on Starknet) public REST
 *		(https://api.starknet.extended.exchange/api/v1) and public streams
 *		(see "the stream side" below).  Plain C (see adapter.h).
 *
 * Facts relied on, from Extended's API documentation (api.docs.extended.
 * exchange, "Public REST-API", and its sections "Mandatory headers", "Rate
 * Limits" and "Pagination"):
 *
 *	 envelope	every answer is {"status": "OK" | "ERROR", "data": ...,
 *				"error": {"code": ..., "message": "..."}}; the examples
 *				write the status "OK" and "ok" both, so it is compared
 *				without regard to case
 *	 headers	a User-Agent is required on every request (http.c sends
 *				perps_stats/<version>)
 *	 rate limit	1 000 requests a minute per IP, shared by every endpoint
 *				(429 past it); every request weighs 1
 *	 markets	GET /info/markets: name (BTC-USD), assetName (the base),
 *				collateralAssetName (USD), active, status (ACTIVE,
 *				REDUCE_ONLY, DELISTED, PRELISTED, DISABLED), marketStats (the
 *				statistics below) and tradingConfig (minOrderSize,
 *				minOrderSizeChange, minPriceChange, maxLeverage, ...)
 *	 stats		GET /info/markets/{market}/stats: lastPrice, bidPrice,
 *				askPrice, markPrice, indexPrice, dailyVolume (collateral),
 *				dailyVolumeBase, dailyPriceChange, dailyPriceChangePercentage,
 *				dailyHigh, dailyLow, fundingRate (recalculated every minute,
 *				applied once an hour), nextFundingRate (the time of the next
 *				funding, despite its name), openInterest (collateral),
 *				openInterestBase; no time of its own
 *	 book		GET /info/markets/{market}/orderbook: data.market, data.bid and
 *				data.ask as [{"qty": "...", "price": "..."}], best first; no
 *				time, no sequence number, no depth parameter
 *	 trades		GET /info/markets/{market}/trades: the latest trades,
 *				[{"i": id (a JSON integer beyond 2^53), "m": market, "S": BUY
 *				| SELL (the taker's side), "tT": TRADE | LIQUIDATION |
 *				DELEVERAGE, "T": ms, "p": price, "q": base quantity}]; no
 *				time range, no paging
 *	 candles	GET /info/candles/{market}/trades?interval=PT1M&limit=N
 *				&endTime=ms: [{"o","h","l","c","v","T" (open time, ms)}],
 *				newest first, limit required, at most 10 000 a request;
 *				intervals PT1M PT5M PT15M PT30M PT1H PT2H PT4H P1D
 *	 funding	GET /info/{market}/funding?startTime=ms&endTime=ms&limit=N:
 *				[{"m","T" (ms),"f"}], newest first, at most 10 000 a request,
 *				one record an hour: "the 1-hour rates that were applied"
 *
 * Units: sizes are base units (contract size 1); prices are USD; every
 * rate is a fraction of one hour's funding (interval 1 h), stored as sent.
 *
 * Where the documentation is silent or contradicts itself, what we chose:
 *
 *	 - dailyPriceChangePercentage is called a percentage, but the stats
 *	   example (-26.00 on a last price of 3085.70: -26 / 3111.70 = -0.0084)
 *	   is a fraction, and that is what we store as price_change_pct, as
 *	   sent.
 *	 - nextFundingRate and the funding history's T are documented as epoch
 *	   milliseconds; two of the examples show seconds (1701563440).  We read
 *	   milliseconds: a value in seconds would be a 1970 time and is refused
 *	   (22008), never silently moved.
 *	 - The candles' v is "trading volume" without a unit; the trades'
 *	   quantities are base units, so v is read as base volume; turnover and
 *	   trade count are not served (NULL).
 *	 - No spot markets are documented; a market whose "type" field is there
 *	   and is not PERPETUAL is left out.  Markets not active (active false,
 *	   or DELISTED, PRELISTED, DISABLED) are left out; REDUCE_ONLY ones stay
 *	   (they still trade, with a book, a mark price and funding).
 *	 - Page sizes: 1000 candles and 1000 hourly funding rates a request
 *	   (a window of 1000 intervals), below the documented 10 000, so that
 *	   an answer stays near 100 KB.
 *	 - The current funding rate is keyed by the next funding time (its
 *	   settlement), as Binance's; the stats give no time of their own, so
 *	   the ticker, the book and the open interest carry none (NULL).
 *
 * Not served by the public API (0A000): trade history over a time range
 * (only the latest trades are public).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

#define EX_SUFFIX "-USD"
#define EX_WEIGHT 1				/* every request counts once */
#define EX_KLINE_PAGE 1000		/* documented maximum: 10 000 */
#define EX_FUNDING_PAGE 1000	/* documented maximum: 10 000 */
#define EX_MS_PER_HOUR INT64_C(3600000)

#define EX_NO_TRADE_HISTORY \
	"Extended's public API serves only the latest trades of a market (GET /api/v1/info/markets/{market}/trades), with no time range and no paging."

/* a native symbol: BTC-USD, 1000PEPE-USD */
static bool
ex_symbol_ok(const char *s)
{
	return perps_symbol_ok(s, 64, true, "-_.");
}

static bool
ex_native_symbol(const char *global, char *buf, size_t buflen)
{
	int			n;

	if (!perps_symbol_ok(global, 32, true, "_.") || strchr(global, '-') != NULL)
		return false;
	n = snprintf(buf, buflen, "%s" EX_SUFFIX, global);
	return n > 0 && (size_t) n < buflen;
}

/* The venue's name of a kline interval. */
static const char *
ex_interval(const char *interval)
{
	static const char *const names[][2] = {
		{"1m", "PT1M"}, {"5m", "PT5M"}, {"15m", "PT15M"}, {"30m", "PT30M"},
		{"1h", "PT1H"}, {"4h", "PT4H"}, {"1d", "P1D"},
	};

	if (interval == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i][0], interval) == 0)
			return names[i][1];
	return NULL;
}

/* ---- build: one function a method ---- */

static int
ex_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], EX_WEIGHT, "/api/v1/info/markets") ? ctx->status : 1;
}

/* the market's statistics: its ticker, funding rate and open interest */
static int
ex_build_stats(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], EX_WEIGHT, "/api/v1/info/markets/%s/stats",
							  q->market->native_symbol) ? ctx->status : 1;
}

static int
ex_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], EX_WEIGHT, "/api/v1/info/markets/%s/orderbook",
							  q->market->native_symbol) ? ctx->status : 1;
}

static int
ex_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_UNSUPPORTED, "%s", EX_NO_TRADE_HISTORY);
	return perps_request_path(ctx, &reqs[0], EX_WEIGHT, "/api/v1/info/markets/%s/trades",
							  q->market->native_symbol) ? ctx->status : 1;
}

static int
ex_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	int			rows = perps_page_size(q, EX_FUNDING_PAGE);
	int64_t		start,
				end;

	/* ms; one rate an hour, so a window of `rows` hours holds at most `rows` of them */
	if (!perps_page_window(q, 1000, (int64_t) rows * EX_MS_PER_HOUR, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "extended: since is after until");
	return perps_request_path(ctx, &reqs[0], EX_WEIGHT,
							  "/api/v1/info/%s/funding?startTime=%lld&endTime=%lld&limit=%d",
							  q->market->native_symbol, (long long) start, (long long) end,
							  rows) ? ctx->status : 1;
}

static int
ex_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *iv = ex_interval(q->interval);
	int			rows = perps_page_size(q, EX_KLINE_PAGE);
	int64_t		step,
				start,
				end,
				first,
				count = rows;

	if (iv == NULL)
		return perps_fail(ctx, PERPS_ERR_ARG, "extended: unsupported kline interval \"%.20s\"",
						  q->interval ? q->interval : "(null)");
	step = (int64_t) perps_interval_seconds(q->interval) * 1000;
	/* ms: the window [start, end] of `rows` intervals (from since, cut at until) */
	if (!perps_page_window(q, 1000, rows * step, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "extended: since is after until");

	/*
	 * The venue takes an end and a count, no start: ask for the candles
	 * opening in the window, the newest at or before end.  A window in
	 * which no candle opens asks for one (the parser drops it).
	 */
	if (q->since_us != PERPS_TS_NONE)
	{
		first = (start + step - 1) / step * step;
		count = first <= end ? (end - first) / step + 1 : 1;
	}
	return perps_request_path(ctx, &reqs[0], EX_WEIGHT,
							  "/api/v1/info/candles/%s/trades?interval=%s&limit=%lld&endTime=%lld",
							  q->market->native_symbol, iv, (long long) count,
							  (long long) end) ? ctx->status : 1;
}

/* ---- parsers ---- */

/* the envelope's status says OK ("OK" in most examples, "ok" in one) */
static bool
ex_status_ok(struct json_object *st)
{
	return st != NULL && json_object_is_type(st, json_type_string) &&
		strcasecmp(json_object_get_string(st), "OK") == 0;
}

/* PerpsAdapter.open_body: {"status": "OK", "data": ...} or {"status": "ERROR", "error": {...}} */
static PerpsStatus
ex_open(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
{
	struct json_object *st;
	struct json_object *err;
	struct json_object *code;
	struct json_object *msg;
	const char *codetxt = "(none)";
	const char *msgtxt = "(no message)";

	*root = NULL;
	if (perps_json_parse(ctx, b->data, b->len, root) != PERPS_OK)
	{
		if (b->status != 200)
			return perps_fail(ctx, PERPS_ERR_VENUE, "HTTP status %ld", b->status);
		return ctx->status;
	}
	st = perps_json_get(*root, "status");
	if (b->status == 200 && ex_status_ok(st))
		return PERPS_OK;
	if (b->status == 200 && (st == NULL || !json_object_is_type(st, json_type_string)))
	{
		/* a 200 that is not the envelope: not what the venue documents */
		json_object_put(*root);
		*root = NULL;
		return perps_fail(ctx, PERPS_ERR_SHAPE, "extended answer has no \"status\" string");
	}
	/* {"status": "ERROR", "error": {"code": "NOT_FOUND" or 1006, "message": "..."}} */
	err = perps_json_get(*root, "error");
	code = perps_json_get(err, "code");
	msg = perps_json_get(err, "message");
	if (code != NULL && (json_object_is_type(code, json_type_string) || json_object_is_type(code, json_type_int)))
		codetxt = json_object_get_string(code);
	if (msg != NULL && json_object_is_type(msg, json_type_string))
		msgtxt = json_object_get_string(msg);
	perps_fail(ctx, PERPS_ERR_VENUE, "extended error %.*s (HTTP %ld): %.*s",
			   perps_utf8_cut(codetxt, 40), codetxt, b->status, perps_utf8_cut(msgtxt, 200), msgtxt);
	json_object_put(*root);
	*root = NULL;
	return ctx->status;
}

/* The "data" member of an answer, of the given type. */
static struct json_object *
ex_data(PerpsCtx *ctx, struct json_object *root, json_type type)
{
	struct json_object *d = NULL;

	if (perps_json_need(ctx, root, "data", type, &d) != PERPS_OK)
		return NULL;
	return d;
}

/*
 * A market of /info/markets we keep: a perpetual (no "type", or PERPETUAL)
 * that is active and ACTIVE or REDUCE_ONLY.  Anything but an object fails.
 */
static PerpsStatus
ex_market_kept(PerpsCtx *ctx, struct json_object *o, size_t i, bool *keep)
{
	struct json_object *type;
	struct json_object *active;
	struct json_object *status;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "market %zu is not an object", i);
	type = perps_json_get(o, "type");
	active = perps_json_get(o, "active");
	status = perps_json_get(o, "status");
	if (active != NULL && !json_object_is_type(active, json_type_boolean))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"active\" of market %zu is not a boolean", i);
	if (status != NULL && !json_object_is_type(status, json_type_string))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"status\" of market %zu is not a string", i);
	if (type != NULL && !json_object_is_type(type, json_type_null) &&
		!json_object_is_type(type, json_type_string))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"type\" of market %zu is not a string", i);
	*keep = (type == NULL || json_object_is_type(type, json_type_null) || perps_json_str_eq(type, "PERPETUAL")) &&
		(active == NULL || json_object_get_boolean(active)) &&
		(status == NULL || perps_json_str_eq(status, "ACTIVE") || perps_json_str_eq(status, "REDUCE_ONLY"));
	return PERPS_OK;
}

static PerpsStatus
ex_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *arr = ex_data(ctx, docs[0], json_type_array);
	size_t		n;
	int			k = 0;

	if (arr == NULL)
		return ctx->status;
	out->u.markets = perps_rows(ctx, arr, "data", sizeof(PerpsMarket), &n);
	if (out->u.markets == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsMarket *mk = &out->u.markets[k];
		struct json_object *tc;
		bool		keep;

		if (ex_market_kept(ctx, o, i, &keep))
			return ctx->status;
		if (!keep)
			continue;
		if (perps_json_string(ctx, perps_json_get(o, "name"), "name", &mk->native_symbol) ||
			perps_json_string(ctx, perps_json_get(o, "assetName"), "assetName", &mk->base) ||
			perps_json_string(ctx, perps_json_get(o, "collateralAssetName"), "collateralAssetName", &mk->quote) ||
			perps_json_need(ctx, o, "tradingConfig", json_type_object, &tc) ||
			perps_json_decimal_field(ctx, tc, "minPriceChange", true, &mk->tick_size) ||
			perps_json_decimal_field(ctx, tc, "minOrderSizeChange", true, &mk->lot_size) ||
			perps_json_decimal_field(ctx, tc, "minOrderSize", false, &mk->min_qty) ||
			perps_json_decimal_field(ctx, tc, "maxLeverage", false, &mk->max_leverage))
			return ctx->status;
		if (!ex_symbol_ok(mk->native_symbol) || !perps_symbol_ok(mk->base, 32, true, "_."))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "market %zu has a name or asset that is not a symbol", i);
		/* the global symbol is the base asset; sizes are base units */
		mk->symbol = mk->base;
		mk->contract_size = "1";
		/* maxPositionValue and the order values are notionals: no max_qty, no min_notional */
		mk->funding_interval_hours = "1";
		mk->active = true;
		k++;
	}
	out->n = k;
	return PERPS_OK;
}

/* The statistics object (of /stats, or a market's marketStats) as a ticker. */
static PerpsStatus
ex_stats(PerpsCtx *ctx, struct json_object *o, PerpsTicker *t)
{
	if (perps_need_object(ctx, o, "statistics"))
		return ctx->status;
	if (perps_json_decimal_field(ctx, o, "lastPrice", false, &t->last_price) ||
		perps_json_decimal_field(ctx, o, "markPrice", false, &t->mark_price) ||
		perps_json_decimal_field(ctx, o, "indexPrice", false, &t->index_price) ||
		perps_json_decimal_field(ctx, o, "bidPrice", false, &t->best_bid_price) ||
		perps_json_decimal_field(ctx, o, "askPrice", false, &t->best_ask_price) ||
		perps_json_decimal_field(ctx, o, "dailyVolumeBase", false, &t->volume_24h) ||
		perps_json_decimal_field(ctx, o, "dailyVolume", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, o, "openInterestBase", false, &t->open_interest) ||
		perps_json_decimal_field(ctx, o, "openInterest", false, &t->open_interest_notional) ||
		perps_json_decimal_field(ctx, o, "dailyPriceChange", false, &t->price_change_24h) ||
		/* a fraction already (see the file header), stored as sent */
		perps_json_decimal_field(ctx, o, "dailyPriceChangePercentage", false, &t->price_change_pct) ||
		perps_json_decimal_field(ctx, o, "dailyHigh", false, &t->high_24h) ||
		perps_json_decimal_field(ctx, o, "dailyLow", false, &t->low_24h))
		return ctx->status;
	t->ts_us = PERPS_TS_NONE;	/* the statistics carry no time */
	return PERPS_OK;
}

/* PerpsTickerRead of a market of /info/markets: its marketStats */
static PerpsStatus
ex_ticker_read(PerpsCtx *ctx, struct json_object *o, size_t i, PerpsTicker *t, bool *keep)
{
	if (ex_market_kept(ctx, o, i, keep) || !*keep)
		return ctx->status;
	if (perps_json_string(ctx, perps_json_get(o, "name"), "name", &t->native_symbol))
		return ctx->status;
	return ex_stats(ctx, perps_json_get(o, "marketStats"), t);
}

static PerpsStatus
ex_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *d = ex_data(ctx, docs[0], json_type_object);
	PerpsTicker *t;

	if (d == NULL)
		return ctx->status;
	t = out->u.tickers = perps_alloc(ctx, sizeof(PerpsTicker));
	if (t == NULL || ex_stats(ctx, d, t))
		return ctx->status;
	t->native_symbol = q->market->native_symbol;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
ex_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	if (ex_data(ctx, docs[0], json_type_array) == NULL)
		return ctx->status;
	return perps_pick_tickers(ctx, docs[0], "data", NULL, ex_ticker_read, out);
}

static PerpsStatus
ex_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *d = ex_data(ctx, docs[0], json_type_object);
	PerpsFunding *f;

	if (d == NULL)
		return ctx->status;
	f = out->u.funding = perps_alloc(ctx, sizeof(PerpsFunding));
	if (f == NULL)
		return ctx->status;
	/* the rate of the hour now running, paid at the next funding time (ms) */
	if (perps_json_decimal_field(ctx, d, "fundingRate", true, &f->rate) ||
		perps_json_ts_field(ctx, d, "nextFundingRate", PERPS_MS, &f->next_funding_time_us))
		return ctx->status;
	f->funding_time_us = f->next_funding_time_us;
	f->interval_hours = "1";
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
ex_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	struct json_object *d = ex_data(ctx, docs[0], json_type_object);
	PerpsTicker t;

	if (d == NULL)
		return ctx->status;
	memset(&t, 0, sizeof(t));
	if (ex_stats(ctx, d, &t))
		return ctx->status;
	/* openInterestBase (base units) and openInterest (USD); no time */
	return perps_open_interest_of(ctx, &t, out);
}

/* A book side: [{"qty": "...", "price": "..."}, ...], the first depth levels (0: all). */
static PerpsStatus
ex_levels(PerpsCtx *ctx, struct json_object *d, const char *key, int depth, PerpsLevel **levels, int *nlevels)
{
	return perps_parse_level_objs(ctx, perps_json_get(d, key), key, depth, "price", "qty", levels, nlevels);
}

static PerpsStatus
ex_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	struct json_object *d = ex_data(ctx, docs[0], json_type_object);
	struct json_object *mk;
	PerpsBook  *bk;

	if (d == NULL)
		return ctx->status;
	bk = out->u.book = perps_alloc(ctx, sizeof(PerpsBook));
	if (bk == NULL)
		return ctx->status;
	if (ex_levels(ctx, d, "bid", q->depth, &bk->bids, &bk->nbids) ||
		ex_levels(ctx, d, "ask", q->depth, &bk->asks, &bk->nasks))
		return ctx->status;
	/* the book of the market asked for (data.market, where sent) */
	mk = perps_json_get(d, "market");
	if (mk != NULL && !perps_json_str_eq(mk, q->market->native_symbol))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "book is not %s's", q->market->native_symbol);
	bk->ts_us = PERPS_TS_NONE;	/* no time, no sequence number */
	bk->has_seq = false;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
ex_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	/* ids are JSON integers beyond 2^53, kept as their text; S is the taker's side */
	static const PerpsTradeKeys keys = {"i", "p", "q", "T", "S", "BUY", "SELL"};
	struct json_object *arr = ex_data(ctx, docs[0], json_type_array);
	size_t		n;

	if (arr == NULL || perps_need_array(ctx, arr, "data", &n) ||
		perps_parse_trades(ctx, arr, n, &keys, out))
		return ctx->status;
	/* oldest first, the newest q->limit of them */
	perps_newest_trades(out, q->limit);
	return PERPS_OK;
}

static PerpsStatus
ex_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						 PerpsResult *out)
{
	struct json_object *arr = ex_data(ctx, docs[0], json_type_array);
	int			rows = perps_page_size(q, EX_FUNDING_PAGE);
	int64_t		latest = PERPS_TS_NONE;
	size_t		n;

	if (arr == NULL)
		return ctx->status;
	out->u.funding = perps_rows(ctx, arr, "data", sizeof(PerpsFunding), &n);
	if (out->u.funding == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsFunding *f = &out->u.funding[i];

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "funding %zu is not an object", i);
		if (perps_json_ts_field(ctx, o, "T", PERPS_MS, &f->funding_time_us) ||
			perps_json_decimal_field(ctx, o, "f", true, &f->rate))
			return ctx->status;
		f->interval_hours = "1";
		f->next_funding_time_us = PERPS_TS_NONE;
		if (latest == PERPS_TS_NONE || f->funding_time_us > latest)
			latest = f->funding_time_us;
	}
	out->n = (int) n;
	/* newest first on the wire: oldest first here */
	qsort(out->u.funding, n, sizeof(PerpsFunding), perps_cmp_funding);
	/* the page asked for [since, since + rows hours): go on after it */
	perps_page_forward(q, rows, EX_MS_PER_HOUR * 1000, latest, n, out);
	return PERPS_OK;
}

static PerpsStatus
ex_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *arr = ex_data(ctx, docs[0], json_type_array);
	int			rows = perps_page_size(q, EX_KLINE_PAGE);
	int64_t		step_us = (int64_t) perps_interval_seconds(q->interval) * 1000000;
	int64_t		latest = PERPS_TS_NONE;
	size_t		n;
	int			k = 0;

	if (step_us <= 0 || ex_interval(q->interval) == NULL)
		return perps_fail(ctx, PERPS_ERR_ARG, "extended: unsupported kline interval");
	if (arr == NULL)
		return ctx->status;
	out->u.klines = perps_rows(ctx, arr, "data", sizeof(PerpsKline), &n);
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);
		PerpsKline *kl = &out->u.klines[k];

		if (o == NULL || !json_object_is_type(o, json_type_object))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "candle %zu is not an object", i);
		if (perps_json_ts_field(ctx, o, "T", PERPS_MS, &kl->open_time_us) ||
			perps_json_decimal_field(ctx, o, "o", true, &kl->open) ||
			perps_json_decimal_field(ctx, o, "h", true, &kl->high) ||
			perps_json_decimal_field(ctx, o, "l", true, &kl->low) ||
			perps_json_decimal_field(ctx, o, "c", true, &kl->close) ||
			perps_json_decimal_field(ctx, o, "v", false, &kl->volume))
			return ctx->status;
		if (latest == PERPS_TS_NONE || kl->open_time_us > latest)
			latest = kl->open_time_us;
		/* the count asked for may reach before since: those are not this page's */
		if (q->since_us != PERPS_TS_NONE && kl->open_time_us < q->since_us)
			continue;
		kl->close_time_us = kl->open_time_us + step_us - 1000;
		kl->turnover = NULL;	/* not served */
		kl->trade_count = -1;
		k++;
	}
	out->n = k;
	/* newest first on the wire: oldest first here */
	qsort(out->u.klines, (size_t) k, sizeof(PerpsKline), perps_cmp_kline);
	/* the page asked for [since, since + rows intervals): go on after it */
	perps_page_forward(q, rows, step_us, latest, (size_t) k, out);
	return PERPS_OK;
}

/* ---- the stream side: wss://api.starknet.extended.exchange/stream.extended.exchange/v1 ----
 *
 * Facts relied on, from Extended's API documentation ("Public WebSocket
 * streams": the order book, trades, funding rates and candles streams, and
 * its notes on connections), and where it is terse, from its own Python
 * SDK (x10xchange/python_sdk: the stream client and the local order book
 * it keeps), read for the facts only:
 *
 *	 subscribing	none: each stream is its own path under ws_url, and
 *					opening the path is the subscription.  The market is a
 *					last path segment (/orderbooks/BTC-USD); without it the
 *					stream carries every market.  No message is ever sent.
 *	 envelope		{"type": "SNAPSHOT" | "DELTA" (books), "data": ...,
 *					"error": "..." (when refused), "ts": ms, "seq": n}; seq
 *					numbers the messages of the connection, previous + 1:
 *					"if a message arrives out of sequence, reconnect".
 *	 /orderbooks	data {"m": market, "b": [{"p","q"}], "a": [...]}: a
 *					SNAPSHOT first, then DELTAs every 100 ms (and a SNAPSHOT
 *					again about once a minute).  A DELTA's q is the CHANGE of
 *					the level's quantity, to be added to it (the SDK's book
 *					adds it, and deletes a level that comes to 0), not the
 *					new quantity.  With ?depth=1 the best bid and ask only,
 *					every 10 ms.
 *	 /publicTrades	data [{"i": id, "m", "S": BUY | SELL (the taker), "tT":
 *					TRADE | LIQUIDATION | DELEVERAGE, "T": ms, "p", "q"}],
 *					the same fields as the REST trades; the first message of
 *					a connection repeats recent trades.
 *	 /funding		data {"m", "f": the rate of the hour in progress, "T":
 *					ms}; funding is paid every hour on the hour.
 *	 /candles/{market}/{trades|mark-prices|index-prices}?interval=PT1M
 *					one market and one interval a connection.
 *	 keep-alive		the server sends a WebSocket ping every 15 s and closes
 *					a connection that does not answer within 10 s (the
 *					WebSocket library answers); no application ping.
 *	 headers		a User-Agent, as on REST.
 *
 * What we stream, on four connections whatever the number of markets
 * (PERPS_WS_MAX_CONNECTIONS), each an all-market path whose other markets
 * the worker drops: /orderbooks (the books), /publicTrades, /funding and
 * /orderbooks?depth=1 (best bid and ask with their sizes, as the ticker's).
 * One connection per market and stream instead would take 2 or 3 a market;
 * the all-market paths keep them bounded.  Consequences:
 *
 *	 - seq counts the connection's messages, every market's, so the
 *	   continuity check is the connection's (seq_per_connection): a jump
 *	   resyncs every book on it.  The venue documents no way to ask for a
 *	   snapshot on an open connection, so a resync (a gap, a crossed book,
 *	   a level that would go below zero) reconnects /orderbooks (resync
 *	   NULL); its first messages are the books' snapshots.
 *	 - Candles are not streamed: their path takes one market and one
 *	   interval, a connection each (kline_unsupported); they stay on REST.
 *	 - Mark and index prices have streams of their own (/prices/mark,
 *	   /prices/index); with four connections they are left to REST, as are
 *	   the 24 h statistics (no statistics stream is documented).
 *
 * Where the documentation is silent, what we chose: a DELTA on the
 * depth=1 path is not a ticker (its q would be a change): only its
 * SNAPSHOTs are; the funding row is keyed by the next whole hour after T
 * (the settlement of the hour in progress, as the REST side keys the
 * current rate), interval 1 h; a message with an "error" that is not null
 * is the venue's refusal (a control event that says so).
 */

#define EX_WS_MAX_MESSAGE (4 * 1024 * 1024)
#define EX_WS_MAX_LEVELS 20000
#define EX_WS_MAX_TRADES 10000
#define EX_WS_HOUR_US INT64_C(3600000000)

enum
{
	EX_CONN_BOOK = 0,
	EX_CONN_TRADES,
	EX_CONN_FUNDING,
	EX_CONN_BBO,
	EX_NCONN
};

static const char *const ex_ws_paths[EX_NCONN] = {
	[EX_CONN_BOOK] = "/orderbooks",
	[EX_CONN_TRADES] = "/publicTrades",
	[EX_CONN_FUNDING] = "/funding",
	[EX_CONN_BBO] = "/orderbooks?depth=1",
};

/* The path is the subscription: no message; the markets are only checked. */
static int
ex_ws_subscribe_on(PerpsCtx *ctx, int conn, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	if (conn < 0 || conn >= EX_NCONN)
		return perps_fail(ctx, PERPS_ERR_ARG, "extended has no stream connection %d", conn);
	for (int i = 0; i < want->n; i++)
		if (!ex_symbol_ok(want->natives[i]))
			return perps_fail(ctx, PERPS_ERR_ARG, "extended market \"%.40s\" is not valid", want->natives[i]);
	return 0;
}

/* data.m: the market a message is about */
static PerpsStatus
ex_ws_market(PerpsCtx *ctx, struct json_object *o, const char **native)
{
	if (perps_json_string(ctx, perps_json_get(o, "m"), "m", native) != PERPS_OK)
		return ctx->status;
	if (!ex_symbol_ok(*native))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "extended market \"%.40s\" is not valid", *native);
	return PERPS_OK;
}

/* one side of a book message: [{"p": price, "q": quantity}, ...] */
static PerpsStatus
ex_ws_side(PerpsCtx *ctx, struct json_object *d, const char *key, PerpsLevel **levels, int *n)
{
	struct json_object *arr;

	if (perps_json_need(ctx, d, key, json_type_array, &arr) != PERPS_OK)
		return ctx->status;
	if (json_object_array_length(arr) > EX_WS_MAX_LEVELS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "extended book frame has %zu %s levels",
						  json_object_array_length(arr), key);
	return perps_parse_level_objs(ctx, arr, key, 0, "p", "q", levels, n);
}

/* /orderbooks: a SNAPSHOT or a DELTA (its quantities changes) of one market */
static PerpsStatus
ex_ws_book(PerpsCtx *ctx, struct json_object *d, bool snapshot, PerpsStreamEvent *ev)
{
	ev->kind = PERPS_EV_BOOK;
	ev->snapshot = snapshot;
	ev->qty_is_change = !snapshot;
	ev->channel = "orderbooks";
	if (ex_ws_market(ctx, d, &ev->native_symbol) != PERPS_OK ||
		ex_ws_side(ctx, d, "b", &ev->bids, &ev->nbids) != PERPS_OK ||
		ex_ws_side(ctx, d, "a", &ev->asks, &ev->nasks) != PERPS_OK)
		return ctx->status;
	/* a snapshot's quantities are the levels' own: none below zero */
	for (int i = 0; snapshot && i < ev->nbids + ev->nasks; i++)
	{
		const PerpsLevel *lv = i < ev->nbids ? &ev->bids[i] : &ev->asks[i - ev->nbids];

		if (lv->qty[0] == '-' || lv->price[0] == '-')
			return perps_fail(ctx, PERPS_ERR_SHAPE, "extended book snapshot has a negative level");
	}
	return PERPS_OK;
}

/* /orderbooks?depth=1: the best bid and ask with their sizes, as a ticker delta */
static PerpsStatus
ex_ws_bbo(PerpsCtx *ctx, struct json_object *d, PerpsStreamEvent *ev)
{
	PerpsLevel *bids = NULL;
	PerpsLevel *asks = NULL;
	int			nb = 0,
				na = 0;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;		/* the prices only: the merged ticker keeps the rest */
	ev->channel = "orderbooks?depth=1";
	if (ex_ws_market(ctx, d, &ev->native_symbol) != PERPS_OK ||
		ex_ws_side(ctx, d, "b", &bids, &nb) != PERPS_OK ||
		ex_ws_side(ctx, d, "a", &asks, &na) != PERPS_OK)
		return ctx->status;
	ev->ticker.native_symbol = ev->native_symbol;
	ev->ticker.ts_us = ev->ts_us;
	if (nb > 0)
	{
		ev->ticker.best_bid_price = bids[0].price;
		ev->ticker.best_bid_qty = bids[0].qty;
	}
	if (na > 0)
	{
		ev->ticker.best_ask_price = asks[0].price;
		ev->ticker.best_ask_qty = asks[0].qty;
	}
	if ((nb > 0 && (bids[0].qty[0] == '-' || bids[0].price[0] == '-')) ||
		(na > 0 && (asks[0].qty[0] == '-' || asks[0].price[0] == '-')))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "extended best bid or ask is negative");
	return PERPS_OK;
}

/* /funding: {"m", "f", "T"}: the rate of the hour in progress */
static PerpsStatus
ex_ws_funding(PerpsCtx *ctx, struct json_object *d, PerpsStreamEvent *ev)
{
	int64_t		t_us;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	ev->channel = "funding";
	if (ex_ws_market(ctx, d, &ev->native_symbol) != PERPS_OK ||
		perps_json_decimal_field(ctx, d, "f", true, &ev->funding_rate) != PERPS_OK ||
		perps_json_ts_field(ctx, d, "T", PERPS_MS, &t_us) != PERPS_OK)
		return ctx->status;
	if (t_us < 0 || t_us > INT64_MAX - EX_WS_HOUR_US)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "extended funding time is out of range");
	ev->ts_us = t_us;
	ev->ticker.native_symbol = ev->native_symbol;
	/* paid on the hour: the hour in progress settles at the next mark */
	ev->next_funding_time_us = (t_us / EX_WS_HOUR_US + 1) * EX_WS_HOUR_US;
	ev->funding_interval_hours = "1";
	return PERPS_OK;
}

/* /publicTrades: one event per run of trades of the same market, in their order */
static PerpsStatus
ex_ws_trades(PerpsCtx *ctx, struct json_object *arr, int64_t ts_us, PerpsStreamFrame *out)
{
	static const PerpsTradeKeys keys = {"i", "p", "q", "T", "S", "BUY", "SELL"};
	size_t		n = json_object_array_length(arr);
	const char **mk;
	PerpsTrade *tr;
	int			k = 0;

	if (n > EX_WS_MAX_TRADES)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "extended trade frame has %zu trades", n);
	if (n == 0)
		return PERPS_OK;
	tr = perps_alloc_array(ctx, n, sizeof(PerpsTrade));
	mk = perps_alloc_array(ctx, n, sizeof(const char *));
	out->events = perps_alloc_array(ctx, n, sizeof(PerpsStreamEvent));
	if (tr == NULL || mk == NULL || out->events == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *o = json_object_array_get_idx(arr, i);

		if (perps_parse_trade(ctx, o, i, &keys, &tr[i]) != PERPS_OK ||
			ex_ws_market(ctx, o, &mk[i]) != PERPS_OK)
			return ctx->status;
		if (tr[i].price[0] == '-' || tr[i].qty[0] == '-')
			return perps_fail(ctx, PERPS_ERR_SHAPE, "extended trade %zu has a negative price or size", i);
		if (k > 0 && strcmp(out->events[k - 1].native_symbol, mk[i]) == 0)
			out->events[k - 1].ntrades++;
		else
		{
			PerpsStreamEvent *ev = &out->events[k++];

			ev->kind = PERPS_EV_TRADES;
			ev->native_symbol = mk[i];
			ev->channel = "publicTrades";
			ev->ts_us = ts_us;
			ev->next_funding_time_us = PERPS_TS_NONE;
			ev->trades = &tr[i];
			ev->ntrades = 1;
		}
	}
	out->nevents = k;
	return PERPS_OK;
}

static PerpsStatus
ex_ws_parse_on(PerpsCtx *ctx, int conn, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *d;
	struct json_object *err;
	struct json_object *type;
	PerpsStreamEvent *ev;
	int64_t		ts_us = PERPS_TS_NONE;

	if (perps_ws_json_begin(ctx, "extended", data, len, binary, EX_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	ev = perps_ws_event_new(ctx);
	if (ev == NULL)
		goto done;

	/* a refusal (an unknown market or stream): {"error": "...", ...} */
	err = perps_json_get(root, "error");
	if (err != NULL && !json_object_is_type(err, json_type_null))
	{
		ev->kind = PERPS_EV_CONTROL;
		ev->is_error = true;
		if (json_object_is_type(err, json_type_string))
		{
			if (perps_json_string(ctx, err, "error", &ev->message) != PERPS_OK)
				goto done;
		}
		else
			ev->message = "extended error without a message";
		goto one;
	}
	d = perps_json_get(root, "data");
	if (d == NULL || json_object_is_type(d, json_type_null))
	{
		ev->kind = PERPS_EV_CONTROL;	/* nothing to store */
		goto one;
	}
	if (perps_json_ts_field(ctx, root, "ts", PERPS_MS, &ts_us) != PERPS_OK)
		goto done;

	if (json_object_is_type(d, json_type_array))
	{
		/* trades (on any connection: the content says what it is) */
		if (ex_ws_trades(ctx, d, ts_us, out) == PERPS_OK && out->nevents == 0)
		{
			ev->kind = PERPS_EV_CONTROL;
			goto one;
		}
		goto done;
	}
	if (!json_object_is_type(d, json_type_object))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "extended data is neither an object nor an array");
		goto done;
	}
	ev->ts_us = ts_us;
	if (perps_json_get(d, "f") != NULL)
	{
		ex_ws_funding(ctx, d, ev);
		goto one;
	}

	/* a book message: its type, and the connection's message number */
	type = perps_json_get(root, "type");
	if (!perps_json_str_eq(type, "SNAPSHOT") && !perps_json_str_eq(type, "DELTA"))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "extended book message type is neither SNAPSHOT nor DELTA");
		goto done;
	}
	if (conn == EX_CONN_BBO)
	{
		if (!perps_json_str_eq(type, "SNAPSHOT"))
		{
			ev->kind = PERPS_EV_CONTROL;	/* a change of the best levels: not a price */
			goto one;
		}
		ex_ws_bbo(ctx, d, ev);
		goto one;
	}
	if (perps_json_int64_field(ctx, root, "seq", &ev->seq) != PERPS_OK)
		goto done;
	if (ev->seq < 0 || ev->seq == INT64_MAX)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "extended seq %lld is out of range", (long long) ev->seq);
		goto done;
	}
	ex_ws_book(ctx, d, perps_json_str_eq(type, "SNAPSHOT"), ev);
	goto one;

one:
	return perps_ws_json_end_one(ctx, root, ev, out);
done:
	return perps_ws_json_end(ctx, root, out);
}

/* A frame whose connection is not known (the fuzzers): read as /orderbooks' would be. */
static PerpsStatus
ex_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	return ex_ws_parse_on(ctx, EX_CONN_BOOK, data, len, binary, out);
}

static const PerpsStreamAdapter ex_stream = {
	.quote = "USD",
	.qty_in_contracts = false,
	.trade_ids_sequential = false,	/* ids are unique, not one by one per market */
	.book_depth = 0,			/* the whole book */
	.ping_message = NULL,		/* WebSocket pings (the server's every 15 s) */
	.ping_interval_s = 15,
	.max_message_bytes = EX_WS_MAX_MESSAGE,
	.rest_snapshot = false,
	.max_connection_s = 0,
	.user_agent = true,			/* as on REST */
	.kline_unsupported = "Extended streams candles on one connection per market and interval (/candles/{market}/trades?interval=...); with the all-market book, trade and funding streams the connections stay bounded, and candles come from REST.",
	.nconnections = EX_NCONN,
	.connection_paths = ex_ws_paths,
	.book_connection = EX_CONN_BOOK,
	.subscribe_on = ex_ws_subscribe_on,
	.resync = NULL,				/* a new /orderbooks connection sends the snapshots */
	.parse_frame = ex_ws_parse,
	.parse_frame_on = ex_ws_parse_on,
	.seq_per_connection = true,
	.seq_rule = perps_seq_snapshot_then_next,
};

const PerpsAdapter perps_adapter_extended = {
	.name = "extended",
	.native_symbol = ex_native_symbol,
	.needs_markets = false,
	.symbol_ok = ex_symbol_ok,
	.symbol_what = "a native symbol like BTC-USD",
	.open_body = ex_open,
	.methods = {
		[PERPS_M_MARKETS] = {.build = ex_build_markets, .parse = ex_parse_markets},
		[PERPS_M_TICKER] = {.build = ex_build_stats, .parse = ex_parse_ticker},
		[PERPS_M_TICKERS] = {.build = ex_build_markets, .parse = ex_parse_tickers},
		[PERPS_M_ORDERBOOK] = {.build = ex_build_orderbook, .parse = ex_parse_orderbook},
		[PERPS_M_FUNDING] = {.build = ex_build_stats, .parse = ex_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = ex_build_funding_history, .parse = ex_parse_funding_history},
		[PERPS_M_OPEN_INTEREST] = {.build = ex_build_stats, .parse = ex_parse_open_interest},
		[PERPS_M_KLINES] = {.build = ex_build_klines, .parse = ex_parse_klines},
		[PERPS_M_TRADES] = {.build = ex_build_trades, .parse = ex_parse_trades},
	},
	/* "1,000 requests per minute, shared across all endpoints", per IP */
	.rate_limit = {.weight = 1000, .window_ms = 60000},
	.max_kline_page = EX_KLINE_PAGE,
	.max_funding_page = EX_FUNDING_PAGE,
	.max_trades_page = 0,		/* the latest trades only, no page size */
	.no_trades_history = EX_NO_TRADE_HISTORY,
	.stream = &ex_stream,
};
