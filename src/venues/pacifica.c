/*-------------------------------------------------------------------------
 *
 * src/venues/pacifica.c
 *		Pacifica perpetuals (pacifica.fi, on Solana), over REST: GET paths
 *		under https://api.pacifica.fi/api/v1, every answer in one envelope
 *		{"success": true, "data": ..., "error": null, "code": null}.
 *		Symbols ("BTC", "kBONK") are the global symbols already.
 *
 *	 markets			/api/v1/info							(perpetuals only)
 *	 ticker				/api/v1/info/prices + /api/v1/book?symbol	(best bid and ask)
 *	 all tickers		/api/v1/info/prices
 *	 order book			/api/v1/book?symbol						(up to 10 levels a side)
 *						 coarser: /api/v1/book?symbol&agg_level		(10, 100, 1000, 10000)
 *	 funding rate		/api/v1/info/prices
 *	 funding history	/api/v1/funding_rate/history?symbol&limit&cursor	(4000 a page)
 *	 open interest		/api/v1/info/prices
 *	 klines				/api/v1/kline?symbol&interval&start_time&end_time	(4000 a window)
 *	 recent trades		/api/v1/trades?symbol
 *
 * From Pacifica's API documentation (docs.pacifica.fi, "API Documentation":
 * REST API / Markets, Rate limits, Market symbols, Tick and lot size;
 * "Trading on Pacifica": Funding Rates, Trading Fees).  What it leaves
 * open, and what this adapter chose:
 *
 * - Units.  Prices are USD(C) decimal strings; amounts are in the base
 *   token ("amount in token denomination"), so contract_size is 1.
 *   /info/prices' volume_24h is USD (both pages say so): it is
 *   turnover_24h, and volume_24h stays NULL.  Its open_interest is "in
 *   USD" on the REST page but "open interest amount" on the stream page,
 *   whose example (BTC "0.00524") is a base amount: it is read as base
 *   units, as every other amount of the API, and the notional is
 *   open_interest x mark, exact.
 * - There is no last trade price: last_price is NULL.  yesterday_price is
 *   the oracle price 24 h ago, so price_change_24h = oracle -
 *   yesterday_price (exact); price_change_pct would need a division and is
 *   left NULL, as on Hyperliquid.
 * - Funding is hourly and the rates are per hour, as fractions: no
 *   conversion.  /info/prices' funding is the rate paid in the past epoch,
 *   next_funding the estimate for the next one: the current rate's
 *   funding_time is the hour it was paid at (the answer's time cut to the
 *   hour), the settlement that keys it; next_funding_time stays NULL, the
 *   next settlement (an hour later) being the predicted rate's, not this
 *   one's.  Funding history rows keep created_at as sent (the venue's time
 *   of the record, not always on the hour).
 * - min_order_size and max_order_size are USD: the first is min_notional,
 *   the second has no column.  min_qty and max_qty stay NULL.
 * - Spot markets ("instrument_type": "spot") are skipped; an entry without
 *   instrument_type (the older documentation's) is a perpetual.  The docs
 *   name no inactive state: every perpetual listed is active, and
 *   refresh_markets marks those no longer listed inactive.
 * - Recent trades carry no trade id (the stream's "h" history id is not in
 *   the REST answer).  Each gets a synthetic one, stable over repeated
 *   fetches: "<created_at ms>-<B|S>-<price>-<amount>-<k>", k counting the
 *   trades before it in the answer with the same time, side, price and
 *   amount.  event_type says whose fill a row is; rows "fulfill_maker" are
 *   the maker's view of a fill and are skipped, so a fill listed from both
 *   sides counts once.  The side is then the taker's: open_long and
 *   close_short buy, open_short and close_long sell (the stream page's
 *   older force_close_short buys, force_close_long sells).  The docs give
 *   no order and no size for the list: it is sorted here, and taken as at
 *   most 100.
 * - Klines: t is the open time, T the next bar's open (t + interval), so
 *   close_time = T - 1 ms as on the other venues (a T of t + interval - 1
 *   ms, the other common convention, is taken as the close time itself).
 *   v is the base volume; there is no turnover.  start_time is mandatory;
 *   a window wider than 4000 bars is refused, so each request asks for at
 *   most that many.
 * - Funding history takes no time range, only a cursor, newest first: a
 *   range is walked back from the newest page until a row older than
 *   `since` (the caller keeps the rows inside the range).
 * - The book's "t" is ms (a string in the field table, a number in the
 *   example: both are read).
 *
 * Rate limit ("Rate limits"): an unidentified IP has 125 credits per 60 s
 * rolling window (older revisions of the page said 100, then 300; the
 * current one 125, API config keys 300); a standard request costs 1,
 * "heavy GET requests" 3 to 12 without saying which: the two history
 * endpoints, answering up to 4000 rows, are taken as heavy at the top of
 * that range (12), every other request as standard (1).
 *
 * Errors: an HTTP error status or "success": false is the venue's refusal,
 * its "error" text the detail.
 *
 * The stream side (wss://ws.pacifica.fi/ws: prices, book, bbo, trades,
 * candle) is at the end of the file.
 *
 * Plain C: see adapter.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"

#define PC_NO_TRADE_HISTORY \
	"Pacifica serves only the most recent trades (GET /api/v1/trades): no trade history over a time range."

#define PC_QUOTE "USDC"
#define PC_KLINE_PAGE 4000		/* bars a /kline window may span */
#define PC_FUNDING_PAGE 4000	/* funding_rate/history: limit, max 4000 */
#define PC_TRADES_PAGE 100		/* not documented: what this adapter takes as a page */
#define PC_BOOK_LEVELS 10		/* documented: up to 10 levels a side */
#define PC_W_STANDARD 1			/* credits of a standard request */
#define PC_W_HEAVY 12			/* of a heavy GET (unidentified IP: 3..12) */
#define PC_CURSOR_MAX 128
#define MS_PER_HOUR INT64_C(3600000)
#define US_PER_HOUR (MS_PER_HOUR * 1000)

/* ---- symbols ---- */

/* a symbol: capitals and digits, a lower-case prefix (kBONK), up to 32 */
static bool
pc_symbol_ok(const char *s)
{
	return perps_symbol_ok(s, 32, true, "_-");
}

/* The native symbol is the global one. */
static bool
pc_native_symbol(const char *global, char *buf, size_t buflen)
{
	size_t		n;

	if (!pc_symbol_ok(global))
		return false;
	n = strlen(global);
	if (n + 1 > buflen)
		return false;
	memcpy(buf, global, n + 1);
	return true;
}

/* a cursor the venue gave: printable URL-safe text, nothing to escape */
static bool
pc_cursor_ok(const char *s)
{
	return perps_symbol_ok(s, PC_CURSOR_MAX, true, "_-.~");
}

/* ---- build ---- */

static int
pc_build_info(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], PC_W_STANDARD, "/api/v1/info") ? ctx->status : 1;
}

static int
pc_build_prices(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], PC_W_STANDARD, "/api/v1/info/prices") ? ctx->status : 1;
}

/*
 * The book's resolutions: agg_level 1 (the default, the finest: 10 levels
 * a side) and the coarser levels the book stream documents, 10 to 10000
 * (price buckets that many ticks wide).
 */
static const char *const pc_book_resolutions[] = {
	"agg_level=1", "agg_level=10", "agg_level=100", "agg_level=1000", "agg_level=10000", NULL
};
static const int pc_agg_levels[] = {1, 10, 100, 1000, 10000};

static int
pc_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	/* the dispatcher checked the resolution against pc_book_resolutions */
	if (q->resolution > 0)
		return perps_request_path(ctx, &reqs[0], PC_W_STANDARD, "/api/v1/book?symbol=%s&agg_level=%d",
								  q->market->native_symbol, pc_agg_levels[q->resolution]) ? ctx->status : 1;
	return perps_request_path(ctx, &reqs[0], PC_W_STANDARD, "/api/v1/book?symbol=%s",
							  q->market->native_symbol) ? ctx->status : 1;
}

/* the prices of every market, and the market's book (best bid and ask) */
static int
pc_build_ticker(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (pc_build_prices(ctx, q, &reqs[0]) < 0 || pc_build_orderbook(ctx, q, &reqs[1]) < 0)
		return ctx->status;
	return 2;
}

static int
pc_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	if (q->since_us != PERPS_TS_NONE || q->until_us != PERPS_TS_NONE)
		return perps_fail(ctx, PERPS_UNSUPPORTED, "%s", PC_NO_TRADE_HISTORY);
	return perps_request_path(ctx, &reqs[0], PC_W_STANDARD, "/api/v1/trades?symbol=%s",
							  q->market->native_symbol) ? ctx->status : 1;
}

/*
 * The [start, end] window (ms, both included) of a klines page of `page`
 * bars of step_ms: from since (cut at until), or the one that ends at
 * until or now.  false, with the error recorded, when it is empty.
 */
static bool
pc_window(PerpsCtx *ctx, const PerpsQuery *q, int page, int64_t step_ms, int64_t *start, int64_t *end)
{
	int64_t		span = (int64_t) page * step_ms;

	if ((q->since_us != PERPS_TS_NONE && q->since_us < 0) ||
		(q->until_us != PERPS_TS_NONE && q->until_us < 0))
	{
		perps_fail(ctx, PERPS_ERR_ARG, "time range before 1970");
		return false;
	}
	if (q->since_us != PERPS_TS_NONE)
	{
		*start = perps_us_to_ms_ceil(q->since_us);
		*end = *start + span - 1;
		if (q->until_us != PERPS_TS_NONE && perps_us_to_ms_floor(q->until_us) < *end)
			*end = perps_us_to_ms_floor(q->until_us);
	}
	else
	{
		*end = q->until_us != PERPS_TS_NONE ? perps_us_to_ms_floor(q->until_us)
			: (int64_t) time(NULL) * 1000;
		*start = *end - span + 1;
		if (*start < 0)
			*start = 0;
	}
	if (*end < *start)
	{
		perps_fail(ctx, PERPS_ERR_ARG, "until is before since");
		return false;
	}
	return true;
}

static int
pc_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	int			secs = perps_interval_seconds(q->interval);
	int64_t		start,
				end;

	if (secs <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "pacifica has no kline interval \"%s\"",
						  q->interval ? q->interval : "(null)");
	if (!pc_window(ctx, q, perps_page_size(q, PC_KLINE_PAGE), (int64_t) secs * 1000, &start, &end))
		return ctx->status;
	return perps_request_path(ctx, &reqs[0], PC_W_HEAVY,
							  "/api/v1/kline?symbol=%s&interval=%s&start_time=%lld&end_time=%lld",
							  q->market->native_symbol, q->interval, (long long) start,
							  (long long) end) ? ctx->status : 1;
}

static int
pc_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	int			page = perps_page_size(q, PC_FUNDING_PAGE);

	if (q->cursor != NULL && !pc_cursor_ok(q->cursor))
		return perps_fail(ctx, PERPS_ERR_ARG, "pacifica cursor is not one the venue gave");
	return perps_request_path(ctx, &reqs[0], PC_W_HEAVY,
							  "/api/v1/funding_rate/history?symbol=%s&limit=%d%s%s",
							  q->market->native_symbol, page, q->cursor ? "&cursor=" : "",
							  q->cursor ? q->cursor : "") ? ctx->status : 1;
}

/* ---- the envelope ---- */

/* the "error" text of an error answer, or what the body starts with when it is not JSON */
static const char *
pc_error_text(PerpsCtx *ctx, struct json_object *root, const PerpsBody *b, char *buf, size_t buflen)
{
	struct json_object *e = perps_json_get(root, "error");
	size_t		n;

	if (e != NULL && json_object_is_type(e, json_type_string))
		return json_object_get_string(e);
	if (root != NULL)
		return "(no error text)";
	n = b->len < buflen - 1 ? b->len : buflen - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (b->data[i] >= 0x20 && b->data[i] < 0x7f) ? b->data[i] : ' ';
	buf[n] = '\0';
	return buf;
}

/* PerpsAdapter.open_body: the envelope checked; *root the whole answer */
static PerpsStatus
pc_open_body(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
{
	struct json_object *ok;
	char		buf[161];

	*root = NULL;
	if (b->data == NULL || b->len == 0)
		return perps_fail(ctx, PERPS_ERR_JSON, "pacifica sent an empty body");
	if (b->status >= 400)
	{
		struct json_object *doc = NULL;
		PerpsCtx	scratch = *ctx;
		PerpsStatus st;

		/* a JSON error answer gives its text; a failed parse is not this error's */
		if (perps_json_parse(&scratch, b->data, b->len, &doc) != PERPS_OK ||
			!json_object_is_type(doc, json_type_object))
		{
			if (doc != NULL)
				json_object_put(doc);
			doc = NULL;
		}
		st = perps_fail(ctx, PERPS_ERR_VENUE, "%s (HTTP %ld)", pc_error_text(ctx, doc, b, buf, sizeof(buf)),
						b->status);
		if (doc != NULL)
			json_object_put(doc);
		return st;
	}
	if (perps_json_parse(ctx, b->data, b->len, root) != PERPS_OK)
		return ctx->status;
	if (!json_object_is_type(*root, json_type_object))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica answer is not an object");
	ok = perps_json_get(*root, "success");
	if (ok != NULL && !json_object_is_type(ok, json_type_boolean))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica \"success\" is not a boolean");
	if (ok != NULL && !json_object_get_boolean(ok))
		return perps_fail(ctx, PERPS_ERR_VENUE, "%s", pc_error_text(ctx, *root, b, buf, sizeof(buf)));
	return PERPS_OK;
}

/* ---- parsers ---- */

static PerpsStatus
pc_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int			kept = 0;

	out->u.markets = perps_rows_field(ctx, docs[0], "data", sizeof(PerpsMarket), &arr, &n);
	if (out->u.markets == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(arr, i);
		struct json_object *kind;
		PerpsMarket *mk = &out->u.markets[kept];
		const char *sym;

		if (perps_need_object(ctx, it, "pacifica market"))
			return ctx->status;
		kind = perps_json_get(it, "instrument_type");
		if (kind != NULL && !json_object_is_type(kind, json_type_null) && !perps_json_str_eq(kind, "perpetual"))
		{
			if (!json_object_is_type(kind, json_type_string))
				return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica market %zu: instrument_type is not a string", i);
			continue;			/* spot, or what else may come: not a perpetual */
		}
		if (perps_json_string(ctx, perps_json_get(it, "symbol"), "symbol", &sym))
			return ctx->status;
		if (!pc_symbol_ok(sym))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica market %zu: symbol is not a market symbol", i);
		*mk = (PerpsMarket) {0};
		if (perps_json_decimal_field(ctx, it, "tick_size", true, &mk->tick_size) ||
			perps_json_decimal_field(ctx, it, "lot_size", true, &mk->lot_size) ||
			perps_json_decimal_field(ctx, it, "min_order_size", false, &mk->min_notional) ||
			perps_json_decimal_field(ctx, it, "max_leverage", false, &mk->max_leverage))
			return ctx->status;
		mk->base = sym;
		if (perps_json_get(it, "base_asset") != NULL &&
			!json_object_is_type(perps_json_get(it, "base_asset"), json_type_null) &&
			perps_json_string(ctx, perps_json_get(it, "base_asset"), "base_asset", &mk->base))
			return ctx->status;
		mk->symbol = sym;
		mk->native_symbol = sym;
		mk->quote = PC_QUOTE;
		mk->contract_size = "1";
		mk->funding_interval_hours = "1";
		mk->active = true;
		kept++;
	}
	out->n = kept;
	return PERPS_OK;
}

/* One element of /info/prices as a ticker (PerpsTickerRead). */
static PerpsStatus
pc_read_price(PerpsCtx *ctx, struct json_object *e, size_t i, PerpsTicker *t, bool *keep)
{
	const char *oracle,
			   *yday;

	*keep = true;
	if (perps_need_object(ctx, e, "pacifica price"))
		return ctx->status;
	if (perps_json_string(ctx, perps_json_get(e, "symbol"), "symbol", &t->native_symbol) ||
		perps_json_ts_field(ctx, e, "timestamp", PERPS_MS, &t->ts_us) ||
		perps_json_decimal_field(ctx, e, "mark", true, &t->mark_price) ||
		perps_json_decimal_field(ctx, e, "oracle", false, &oracle) ||
		perps_json_decimal_field(ctx, e, "open_interest", false, &t->open_interest) ||
		perps_json_decimal_field(ctx, e, "volume_24h", false, &t->turnover_24h) ||
		perps_json_decimal_field(ctx, e, "yesterday_price", false, &yday))
		return ctx->status;
	t->index_price = oracle;
	/* exact: the change of the oracle price over 24 h, the notional at the mark */
	if (oracle && yday && (t->price_change_24h = perps_decimal_sub(ctx, oracle, yday)) == NULL)
		return ctx->status;
	if (t->open_interest &&
		(t->open_interest_notional = perps_decimal_mul(ctx, t->open_interest, t->mark_price)) == NULL)
		return ctx->status;
	return PERPS_OK;
}

static PerpsStatus
pc_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	return perps_pick_tickers(ctx, docs[0], "data", NULL, pc_read_price, out);
}

/* a book side: [{"p": price, "a": amount, "n": orders}, ...], the first depth (0: all) */
static PerpsStatus
pc_parse_side(PerpsCtx *ctx, struct json_object *arr, const char *side, int depth,
			  PerpsLevel **levels, int *nlevels)
{
	char		what[32];

	snprintf(what, sizeof(what), "pacifica %s", side);
	return perps_parse_level_objs(ctx, arr, what, depth, "p", "a", levels, nlevels);
}

/* /book's data: {"s": symbol, "l": [bids, asks], "t": ms} */
static PerpsStatus
pc_book(PerpsCtx *ctx, struct json_object *root, const char *sym, int depth, PerpsBook **out)
{
	struct json_object *data,
			   *l;
	PerpsBook  *bk;

	if (perps_json_need(ctx, root, "data", json_type_object, &data) ||
		perps_json_need(ctx, data, "l", json_type_array, &l))
		return ctx->status;
	if (perps_json_get(data, "s") != NULL && !perps_json_str_eq(perps_json_get(data, "s"), sym))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica book is for another symbol");
	if (json_object_array_length(l) != 2)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica book \"l\" is not [bids, asks]");
	if ((bk = perps_alloc(ctx, sizeof(PerpsBook))) == NULL)
		return ctx->status;
	if (perps_json_ts_field(ctx, data, "t", PERPS_MS, &bk->ts_us) ||
		pc_parse_side(ctx, json_object_array_get_idx(l, 0), "bid", depth, &bk->bids, &bk->nbids) ||
		pc_parse_side(ctx, json_object_array_get_idx(l, 1), "ask", depth, &bk->asks, &bk->nasks))
		return ctx->status;
	*out = bk;
	return PERPS_OK;
}

static PerpsStatus
pc_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	if (pc_book(ctx, docs[0], q->market->native_symbol, q->depth, &out->u.book))
		return ctx->status;
	out->n = 1;
	return PERPS_OK;
}

/* the market's element of /info/prices, as its one ticker */
static PerpsStatus
pc_price_of(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *root, PerpsResult *out)
{
	return perps_pick_tickers(ctx, root, "data", q->market->native_symbol, pc_read_price, out);
}

static PerpsStatus
pc_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	PerpsBook  *bk;
	PerpsTicker *t;

	if (perps_need_docs(ctx, ndocs, 2) || pc_price_of(ctx, q, docs[0], out) ||
		pc_book(ctx, docs[1], q->market->native_symbol, 1, &bk))
		return ctx->status;
	t = &out->u.tickers[0];
	if (bk->nbids > 0)
	{
		t->best_bid_price = bk->bids[0].price;
		t->best_bid_qty = bk->bids[0].qty;
	}
	if (bk->nasks > 0)
	{
		t->best_ask_price = bk->asks[0].price;
		t->best_ask_qty = bk->asks[0].qty;
	}
	/* the later of the two answers' times */
	if (bk->ts_us > t->ts_us)
		t->ts_us = bk->ts_us;
	return PERPS_OK;
}

static PerpsStatus
pc_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	PerpsResult tk = {0};

	if (pc_price_of(ctx, q, docs[0], &tk))
		return ctx->status;
	return perps_open_interest_of(ctx, &tk.u.tickers[0], out);
}

/* the hour the past epoch's rate was paid at, and the next one */
static PerpsStatus
pc_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *arr,
			   *e = NULL;
	size_t		n;
	int64_t		ts;
	PerpsFunding *f;

	if (perps_need_array_field(ctx, docs[0], "data", &arr, &n))
		return ctx->status;
	for (size_t i = 0; i < n && e == NULL; i++)
		if (perps_json_str_eq(perps_json_get(json_object_array_get_idx(arr, i), "symbol"),
							  q->market->native_symbol))
			e = json_object_array_get_idx(arr, i);
	if (e == NULL)
		return perps_fail(ctx, PERPS_ERR_NOT_FOUND, "market %s is not in the answer", q->market->native_symbol);
	if ((f = perps_alloc(ctx, sizeof(PerpsFunding))) == NULL)
		return ctx->status;
	if (perps_json_decimal_field(ctx, e, "funding", true, &f->rate) ||
		perps_json_decimal_field(ctx, e, "next_funding", false, &f->predicted_rate) ||
		perps_json_ts_field(ctx, e, "timestamp", PERPS_MS, &ts))
		return ctx->status;
	/*
	 * The rate was paid at the hour: that settlement is its key (collect
	 * keys a row by next_funding_time when there is one, so there is none:
	 * the next settlement, an hour later, is the predicted rate's).
	 */
	f->funding_time_us = ts - ts % US_PER_HOUR;
	f->next_funding_time_us = PERPS_TS_NONE;
	f->interval_hours = "1";
	out->u.funding = f;
	out->n = 1;
	return PERPS_OK;
}

/*
 * A page of funding_rate/history, newest first: {"data": [...],
 * "next_cursor": text, "has_more": bool}.  There is more to read while the
 * venue says so and the page's oldest row is not before since.
 */
static PerpsStatus
pc_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						 PerpsResult *out)
{
	struct json_object *arr,
			   *more,
			   *cur;
	size_t		n;
	PerpsFunding *rows;

	rows = perps_rows_field(ctx, docs[0], "data", sizeof(PerpsFunding), &arr, &n);
	if (rows == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(arr, i);
		PerpsFunding *f = &rows[i];

		if (perps_need_object(ctx, it, "pacifica funding row"))
			return ctx->status;
		if (perps_json_decimal_field(ctx, it, "funding_rate", true, &f->rate) ||
			perps_json_decimal_field(ctx, it, "next_funding_rate", false, &f->predicted_rate) ||
			perps_json_ts_field(ctx, it, "created_at", PERPS_MS, &f->funding_time_us))
			return ctx->status;
		f->next_funding_time_us = PERPS_TS_NONE;
		f->interval_hours = "1";
	}
	qsort(rows, n, sizeof(PerpsFunding), perps_cmp_funding);
	out->u.funding = rows;
	out->n = (int) n;

	more = perps_json_get(docs[0], "has_more");
	cur = perps_json_get(docs[0], "next_cursor");
	if (more != NULL && !json_object_is_type(more, json_type_boolean))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica \"has_more\" is not a boolean");
	if (more == NULL || !json_object_get_boolean(more) || cur == NULL || json_object_is_type(cur, json_type_null))
		return PERPS_OK;
	if (perps_json_string(ctx, cur, "next_cursor", &out->next_cursor))
		return ctx->status;
	if (!pc_cursor_ok(out->next_cursor))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica \"next_cursor\" is not a cursor");
	/* an empty page, or one reaching back past since: the range is covered */
	if (n == 0 || (q->since_us != PERPS_TS_NONE && rows[0].funding_time_us < q->since_us))
	{
		out->next_cursor = NULL;
		return PERPS_OK;
	}
	out->has_more = true;
	return PERPS_OK;
}

/*
 * Candle i: {t, T, s, i, o, c, h, l, v, n}, on REST (/kline) and on the
 * stream (candle) alike, of an interval of step_us.
 */
static PerpsStatus
pc_candle(PerpsCtx *ctx, struct json_object *it, size_t i, const char *interval, int64_t step_us,
		  PerpsKline *k)
{
	int64_t		next_open;

	if (perps_need_object(ctx, it, "pacifica candle"))
		return ctx->status;
	if (perps_json_ts_field(ctx, it, "t", PERPS_MS, &k->open_time_us) ||
		perps_json_ts_field(ctx, it, "T", PERPS_MS, &next_open) ||
		perps_json_decimal_field(ctx, it, "o", true, &k->open) ||
		perps_json_decimal_field(ctx, it, "h", true, &k->high) ||
		perps_json_decimal_field(ctx, it, "l", true, &k->low) ||
		perps_json_decimal_field(ctx, it, "c", true, &k->close) ||
		perps_json_decimal_field(ctx, it, "v", true, &k->volume))
		return ctx->status;
	/* T is the next bar's open as documented; a T on the bar's last ms is taken as it is */
	if (next_open - k->open_time_us == step_us)
		k->close_time_us = next_open - 1000;
	else if (next_open - k->open_time_us == step_us - 1000)
		k->close_time_us = next_open;
	else
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica candle %zu does not span one %s", i, interval);
	k->trade_count = -1;
	if (perps_json_get(it, "n") != NULL && perps_json_int64_field(ctx, it, "n", &k->trade_count))
		return ctx->status;
	if (k->trade_count < -1)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica candle %zu counts fewer than 0 trades", i);
	return PERPS_OK;
}

static PerpsStatus
pc_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	PerpsKline *rows;
	int			secs = perps_interval_seconds(q->interval);
	int			page = perps_page_size(q, PC_KLINE_PAGE);
	int64_t		step_us = (int64_t) secs * 1000000,
				start,
				end;

	if (secs <= 0 || !pc_window(ctx, q, page, (int64_t) secs * 1000, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "pacifica kline query without a valid interval or window");
	rows = perps_rows_field(ctx, docs[0], "data", sizeof(PerpsKline), &arr, &n);
	if (rows == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
		if (pc_candle(ctx, json_object_array_get_idx(arr, i), i, q->interval, step_us, &rows[i]))
			return ctx->status;
	qsort(rows, n, sizeof(PerpsKline), perps_cmp_kline);
	out->u.klines = rows;
	out->n = (int) n;
	if (q->since_us != PERPS_TS_NONE)
	{
		/* the next window starts after this one, while until (or, without it, a full page) says so */
		int64_t		next = (end + 1) * 1000;

		if (q->until_us != PERPS_TS_NONE ? next <= q->until_us : n >= (size_t) page)
		{
			out->has_more = true;
			out->next_since_us = next;
		}
	}
	else if (n > 0 && start > 0)
	{
		out->has_more = true;
		out->next_until_us = (start - 1) * 1000;
	}
	return PERPS_OK;
}

/* trades by the fields of their synthetic id: time, side, price text, amount text */
static int
pc_cmp_trade_key(const void *a, const void *b)
{
	const PerpsTrade *x = a;
	const PerpsTrade *y = b;
	int			c;

	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	if (x->is_buy != y->is_buy)
		return x->is_buy ? -1 : 1;
	if ((c = strcmp(x->price, y->price)) != 0)
		return c;
	return strcmp(x->qty, y->qty);
}

/*
 * The taker bought: the side of a trade (REST "side", the stream's "d") is
 * open_long or close_short (or the older force_close_short); it sold:
 * open_short or close_long (force_close_long).
 */
static PerpsStatus
pc_taker_buys(PerpsCtx *ctx, struct json_object *side, size_t i, bool *is_buy)
{
	if (perps_json_str_eq(side, "open_long") || perps_json_str_eq(side, "close_short") ||
		perps_json_str_eq(side, "force_close_short"))
		*is_buy = true;
	else if (perps_json_str_eq(side, "open_short") || perps_json_str_eq(side, "close_long") ||
			 perps_json_str_eq(side, "force_close_long"))
		*is_buy = false;
	else
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica trade %zu: side is not open_long, open_short, close_long or close_short", i);
	return PERPS_OK;
}

/*
 * The synthetic ids of n trades (see the file header), the same on REST
 * and on the stream: sorted by the key's fields, a trade's k is how many
 * equal ones precede it (equal trades are interchangeable, so their order
 * among themselves does not matter).  The trades end up sorted by time.
 */
static PerpsStatus
pc_name_trades(PerpsCtx *ctx, PerpsTrade *rows, int n)
{
	qsort(rows, (size_t) n, sizeof(PerpsTrade), pc_cmp_trade_key);
	for (int i = 0, same = 0; i < n; i++)
	{
		PerpsTrade *t = &rows[i];
		char		id[2 * PERPS_DECIMAL_MAX_LEN + 64];
		int			len;

		same = (i > 0 && pc_cmp_trade_key(&rows[i - 1], t) == 0) ? same + 1 : 0;
		len = snprintf(id, sizeof(id), "%lld-%c-%s-%s-%d", (long long) (t->ts_us / 1000),
					   t->is_buy ? 'B' : 'S', t->price, t->qty, same);
		if (len < 0 || (size_t) len >= sizeof(id))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica trade %d is too long to name", i);
		if ((t->trade_id = perps_strndup(ctx, id, (size_t) len)) == NULL)
			return ctx->status;
	}
	return PERPS_OK;
}

/*
 * /trades: [{event_type, price, amount, side, cause, created_at}, ...] with
 * no id (see the file header for the synthetic one).
 */
static PerpsStatus
pc_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *arr;
	size_t		n;
	int			k = 0;
	PerpsTrade *rows;

	rows = perps_rows_field(ctx, docs[0], "data", sizeof(PerpsTrade), &arr, &n);
	if (rows == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *it = json_object_array_get_idx(arr, i);
		struct json_object *ev,
				   *side;
		PerpsTrade *t = &rows[k];

		if (perps_need_object(ctx, it, "pacifica trade"))
			return ctx->status;
		ev = perps_json_get(it, "event_type");
		if (perps_json_str_eq(ev, "fulfill_maker"))
			continue;			/* the maker's view of a fill */
		if (!perps_json_str_eq(ev, "fulfill_taker"))
			return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica trade %zu: event_type is neither fulfill_taker nor fulfill_maker", i);
		side = perps_json_get(it, "side");
		if (pc_taker_buys(ctx, side, i, &t->is_buy) ||
			perps_json_decimal_field(ctx, it, "price", true, &t->price) ||
			perps_json_decimal_field(ctx, it, "amount", true, &t->qty) ||
			perps_json_ts_field(ctx, it, "created_at", PERPS_MS, &t->ts_us))
			return ctx->status;
		k++;
	}
	out->u.trades = rows;
	out->n = k;

	/* the synthetic ids, the trades sorted */
	if (pc_name_trades(ctx, rows, k))
		return ctx->status;
	/* oldest first already: the newest `limit` are the last ones */
	if (q->limit > 0 && k > q->limit)
	{
		out->u.trades += k - q->limit;
		out->n = q->limit;
	}
	return PERPS_OK;
}

/* ---- the stream side: wss://ws.pacifica.fi/ws ----
 *
 * From the documentation's "Websocket" pages (docs.pacifica.fi, API
 * Documentation / API / Websocket: the connection, Subscriptions: Prices,
 * Orderbook, Best bid offer (BBO), Trades, Candle; "Rate limits"; the
 * API changelog).  Checked against the documentation only: no recorded
 * frames exist for this venue.
 *
 * One endpoint for every stream.  A subscription is
 * {"method":"subscribe","params":{"source":S, ...}}; what this adapter
 * subscribes on its one connection:
 *
 *	 prices		(once, every market) [{symbol, timestamp (ms), mark,
 *				oracle, mid, funding, next_funding, open_interest,
 *				volume_24h (USD), yesterday_price}, ...]: the ticker, read
 *				as the REST /info/prices (pc_read_price, see the file
 *				header), and the funding rate, keyed as the REST side keys
 *				it (the hour it was paid at).  A ticker delta: the best bid
 *				and ask (bbo's) stay.
 *	 book		(symbol, agg_level 1) {l: [bids, asks] of {p, a, n}, s,
 *				t (ms), li}: the whole aggregated book, pushed every 250 ms
 *				(an older revision of the page: 100 ms), not a delta.
 *	 bbo		(symbol) {s, i, li, t (ms), b, B, a, A}: best bid and ask
 *				prices and amounts, a ticker delta.
 *	 trades		(symbol) [{h, s, a, p, d, tc, t (ms), li}, ...].
 *	 candle		(symbol, interval) {t, T, s, i, o, c, h, l, v, n}: the
 *				candle so far, as on REST; no closed flag (a candle is final
 *				when the next one opens: each frame replaces the row).
 *
 * The sequence rule.  Every book frame is a whole book: there is no update
 * chain, so no update can be lost between two frames and there is no gap
 * to detect, only order.  A snapshot newer than the book (by its time t)
 * replaces it; one as old or older (a replay, a reordered push) is stale.
 * li, the exchange-wide last order id, would order the snapshots too, but
 * it was added to the book stream later (2026-01-01) and is absent from
 * older revisions of the page: t, present in every revision, is the seq.
 * A crossed book is resynced by unsubscribing and subscribing the market's
 * book again (the subscription answers with the current book; the next
 * 250 ms push would do as well).
 *
 * Trades.  The stream's trades carry a history id h that the REST
 * /trades answer lacks, so a trade gets the REST side's synthetic id
 * (pc_name_trades, the file header): stream and REST rows of one trade
 * have one key.  k counts equal trades within one frame here and within
 * one answer there: two trades alike in time (ms), side, price and amount
 * sent in two frames would be taken as one (the docs say nothing of how
 * trades are batched into frames).  Ids are not sequential: continuity
 * is by time, the worker refetching a drop from REST's most recent trades.
 *
 * Keep-alive: the venue closes a connection no message was sent on for 60
 * s, and any connection after 24 h: {"method":"ping"} every 15 s, answered
 * with {"channel":"pong"}; the worker reconnects ahead of the 24 h.
 *
 * Limits ("Rate limits"): 300 connections an IP, 20 subscriptions per
 * channel (source) per connection.  One connection carries at most 20
 * markets, and fewer with several candle intervals (20 candle
 * subscriptions in all): the markets are shared out over as many
 * connections to the one endpoint as that takes (connections_for), in
 * watchlist order, prices on the first only; past PERPS_WS_MAX_CONNECTIONS
 * (80 markets with one interval) the worker says it cannot.
 *
 * Not documented, chosen here: the acknowledgement of a subscription and
 * other channels are control frames; a frame {"channel":"error", ...} or
 * one with a top-level "error" text is the venue's refusal (its text the
 * message).
 */

#define PC_WS_MAX_MESSAGE ((size_t) 1024 * 1024)
#define PC_WS_MAX_LEVELS 5000
#define PC_WS_MAX_TRADES 20000
#define PC_WS_MAX_PRICES 5000
#define PC_WS_SUBS_PER_CHANNEL 20	/* documented: per channel, per connection */
#define PC_WS_BOOK_DEPTH 10			/* REST's "up to 10 levels"; the stream page gives none */

/*
 * {"method":"<method>","params":{"source":"<source>","symbol":"<symbol>"}}
 * with "agg_level":1 for a book, "interval":"<interval>" for a candle;
 * without symbol for prices.
 */
static PerpsStatus
pc_ws_sub(PerpsCtx *ctx, const char *method, const char *source, const char *symbol, const char *interval,
		  PerpsWsMessage *out)
{
	char		buf[192];
	char		extra[48] = "";
	int			n;

	if (symbol != NULL && !pc_symbol_ok(symbol))
		return perps_fail(ctx, PERPS_ERR_ARG, "pacifica symbol \"%.32s\" is not valid", symbol);
	if (interval != NULL && perps_interval_name(interval) == NULL)
		return perps_fail(ctx, PERPS_ERR_ARG, "pacifica streams no candle interval \"%.8s\"", interval);
	if (strcmp(source, "book") == 0)
		snprintf(extra, sizeof(extra), ",\"agg_level\":1");
	else if (interval != NULL)
		snprintf(extra, sizeof(extra), ",\"interval\":\"%s\"", interval);
	if (symbol != NULL)
		n = snprintf(buf, sizeof(buf), "{\"method\":\"%s\",\"params\":{\"source\":\"%s\",\"symbol\":\"%s\"%s}}",
					 method, source, symbol, extra);
	else
		n = snprintf(buf, sizeof(buf), "{\"method\":\"%s\",\"params\":{\"source\":\"%s\"}}", method, source);
	if (n < 0 || (size_t) n >= sizeof(buf))
		return perps_fail(ctx, PERPS_ERR_ARG, "pacifica subscribe message too long");
	out->data = perps_strndup(ctx, buf, (size_t) n);
	out->len = (size_t) n;
	return out->data ? PERPS_OK : ctx->status;
}

/* candle intervals: perps_stats' names (1m 5m 15m 30m 1h 4h 1d) are Pacifica's */
static const char *
pc_ws_kline_channel(const char *interval)
{
	return perps_interval_name(interval);
}

/* markets one connection may carry: 20 subscriptions a channel, candles of every interval counted */
static int
pc_ws_markets_per_connection(int nintervals)
{
	int			per = nintervals > 0 ? PC_WS_SUBS_PER_CHANNEL / nintervals : PC_WS_SUBS_PER_CHANNEL;

	return per > 0 ? per : 1;
}

/* PerpsStreamAdapter.connections_for: as many connections as the cap needs */
static int
pc_ws_connections_for(int nmarkets, int nintervals)
{
	int			per = pc_ws_markets_per_connection(nintervals);

	return nmarkets <= 0 ? 1 : (nmarkets + per - 1) / per;
}

/*
 * Connection conn: prices once (the first connection), and per market of
 * its share (the conn-th run of markets_per_connection) its book, bbo,
 * trades and a candle per interval.
 */
static int
pc_ws_subscribe_on(PerpsCtx *ctx, int conn, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	static const char *const sources[] = {"book", "bbo", "trades"};
	int			nmsg = 0;
	int			per,
				first,
				last;

	if (want->nintervals < 0 || want->nintervals > PERPS_KLINE_MAX)
		return perps_fail(ctx, PERPS_ERR_ARG, "pacifica: %d candle intervals", want->nintervals);
	per = pc_ws_markets_per_connection(want->nintervals);
	if (want->n < 0 || conn < 0 || conn >= PERPS_WS_MAX_CONNECTIONS)
		return perps_fail(ctx, PERPS_ERR_ARG, "pacifica: connection %d of %d markets", conn, want->n);
	first = conn * per;
	last = want->n < first + per ? want->n : first + per;
	if (conn == 0 && pc_ws_sub(ctx, "subscribe", "prices", NULL, NULL, &out[nmsg++]) != PERPS_OK)
		return ctx->status;
	for (int i = first; i < last; i++)
	{
		for (int k = 0; k < 3; k++)
			if (pc_ws_sub(ctx, "subscribe", sources[k], want->natives[i], NULL, &out[nmsg++]) != PERPS_OK)
				return ctx->status;
		for (int k = 0; k < want->nintervals; k++)
			if (pc_ws_sub(ctx, "subscribe", "candle", want->natives[i], want->intervals[k], &out[nmsg++]) != PERPS_OK)
				return ctx->status;
	}
	return nmsg;
}

/* A fresh book: the subscription answers with the current one. */
static int
pc_ws_resync(PerpsCtx *ctx, const char *native, PerpsWsMessage *out)
{
	if (pc_ws_sub(ctx, "unsubscribe", "book", native, NULL, &out[0]) != PERPS_OK ||
		pc_ws_sub(ctx, "subscribe", "book", native, NULL, &out[1]) != PERPS_OK)
		return ctx->status;
	return 2;
}

/* data: {l: [bids, asks], s, t, li}, a whole book; seq = t (see above) */
static PerpsStatus
pc_ws_book(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	struct json_object *l;
	int64_t		ms;

	ev->kind = PERPS_EV_BOOK;
	ev->snapshot = true;
	if (perps_need_object(ctx, data, "pacifica book data"))
		return ctx->status;
	if (perps_json_string(ctx, perps_json_get(data, "s"), "s", &ev->native_symbol) ||
		perps_json_int64_field(ctx, data, "t", &ms) ||
		perps_json_ts_field(ctx, data, "t", PERPS_MS, &ev->ts_us) ||
		perps_json_need(ctx, data, "l", json_type_array, &l))
		return ctx->status;
	if (json_object_array_length(l) != 2)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica book \"l\" is not [bids, asks]");
	for (int side = 0; side < 2; side++)
	{
		struct json_object *arr = json_object_array_get_idx(l, side);

		if (arr != NULL && json_object_is_type(arr, json_type_array) &&
			json_object_array_length(arr) > PC_WS_MAX_LEVELS)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica book frame has %zu %s levels",
							  json_object_array_length(arr), side == 0 ? "bid" : "ask");
	}
	if (pc_parse_side(ctx, json_object_array_get_idx(l, 0), "bid", 0, &ev->bids, &ev->nbids) ||
		pc_parse_side(ctx, json_object_array_get_idx(l, 1), "ask", 0, &ev->asks, &ev->nasks))
		return ctx->status;
	ev->seq = ms;
	return PERPS_OK;
}

/*
 * data: [{h, s, a, p, d, tc, t, li}, ...]: one event per run of trades of
 * one symbol (a subscription is per symbol, so a frame normally holds one),
 * each run named as REST names its trades.
 */
static PerpsStatus
pc_ws_trade(PerpsCtx *ctx, struct json_object *it, size_t i, PerpsTrade *t, const char **sym, void *arg)
{
	if (perps_need_object(ctx, it, "pacifica trade"))
		return ctx->status;
	if (perps_json_string(ctx, perps_json_get(it, "s"), "s", sym) ||
		pc_taker_buys(ctx, perps_json_get(it, "d"), i, &t->is_buy) ||
		perps_json_decimal_field(ctx, it, "p", true, &t->price) ||
		perps_json_decimal_field(ctx, it, "a", true, &t->qty) ||
		perps_json_ts_field(ctx, it, "t", PERPS_MS, &t->ts_us))
		return ctx->status;
	return PERPS_OK;
}

static PerpsStatus
pc_ws_trades(PerpsCtx *ctx, struct json_object *data, const char *channel, PerpsStreamFrame *out)
{
	if (perps_ws_trade_runs(ctx, data, "pacifica trades", PC_WS_MAX_TRADES, pc_ws_trade, NULL, channel, out))
		return ctx->status;
	for (int e = 0; e < out->nevents; e++)
	{
		PerpsStreamEvent *ev = &out->events[e];

		if (pc_name_trades(ctx, ev->trades, ev->ntrades))
			return ctx->status;
		ev->ts_us = ev->trades[ev->ntrades - 1].ts_us;	/* the newest, after the sort */
	}
	return PERPS_OK;
}

/*
 * data: the prices of every market: a ticker delta and a funding rate for
 * each (the worker keeps those of its markets).
 */
static PerpsStatus
pc_ws_prices(PerpsCtx *ctx, struct json_object *data, const char *channel, PerpsStreamFrame *out)
{
	size_t		n;
	PerpsStreamEvent *evs;

	if (data == NULL || !json_object_is_type(data, json_type_array))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica prices data is not an array");
	n = json_object_array_length(data);
	if (n > PC_WS_MAX_PRICES)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica prices frame has %zu markets", n);
	if (n == 0)
		return PERPS_OK;
	if ((evs = perps_alloc_array(ctx, n, sizeof(PerpsStreamEvent))) == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(data, i);
		PerpsStreamEvent *ev = &evs[i];
		bool		keep;

		ev->kind = PERPS_EV_TICKER;
		ev->channel = channel;
		ev->snapshot = false;
		ev->next_funding_time_us = PERPS_TS_NONE;
		if (pc_read_price(ctx, e, i, &ev->ticker, &keep) ||
			perps_json_decimal_field(ctx, e, "funding", false, &ev->funding_rate))
			return ctx->status;
		ev->native_symbol = ev->ticker.native_symbol;
		ev->ts_us = ev->ticker.ts_us;
		if (ev->funding_rate != NULL)
		{
			/* the rate paid at the hour, keyed as the REST side keys it (pc_parse_funding) */
			ev->next_funding_time_us = ev->ts_us - ev->ts_us % US_PER_HOUR;
			ev->funding_interval_hours = "1";
		}
	}
	out->events = evs;
	out->nevents = (int) n;
	return PERPS_OK;
}

/* data: {s, i, li, t, b, B, a, A}: the best bid and ask with their amounts, a ticker delta */
static PerpsStatus
pc_ws_bbo(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	if (perps_need_object(ctx, data, "pacifica bbo data"))
		return ctx->status;
	if (perps_json_string(ctx, perps_json_get(data, "s"), "s", &ev->native_symbol) ||
		perps_json_ts_field(ctx, data, "t", PERPS_MS, &ev->ts_us) ||
		perps_json_decimal_field(ctx, data, "b", false, &t->best_bid_price) ||
		perps_json_decimal_field(ctx, data, "B", false, &t->best_bid_qty) ||
		perps_json_decimal_field(ctx, data, "a", false, &t->best_ask_price) ||
		perps_json_decimal_field(ctx, data, "A", false, &t->best_ask_qty))
		return ctx->status;
	if ((t->best_bid_price == NULL) != (t->best_bid_qty == NULL) ||
		(t->best_ask_price == NULL) != (t->best_ask_qty == NULL))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica bbo has a price without its amount");
	t->native_symbol = ev->native_symbol;
	t->ts_us = ev->ts_us;
	return PERPS_OK;
}

/* data: one candle {t, T, s, i, o, c, h, l, v, n} of symbol s, so far */
static PerpsStatus
pc_ws_candle(PerpsCtx *ctx, struct json_object *data, PerpsStreamEvent *ev)
{
	const char *iv;
	int			secs;

	ev->kind = PERPS_EV_KLINE;
	if (perps_need_object(ctx, data, "pacifica candle") ||
		perps_json_string(ctx, perps_json_get(data, "s"), "s", &ev->native_symbol) ||
		perps_json_string(ctx, perps_json_get(data, "i"), "i", &iv))
		return ctx->status;
	if ((ev->kline_interval = perps_interval_name(iv)) == NULL ||
		(secs = perps_interval_seconds(iv)) <= 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "pacifica candle interval \"%.8s\" is not one perps_stats streams", iv);
	if (pc_candle(ctx, data, 0, ev->kline_interval, (int64_t) secs * 1000000, &ev->kline))
		return ctx->status;
	/* no closed flag, no time of the push */
	ev->ts_us = PERPS_TS_NONE;
	return PERPS_OK;
}

/* the text of an error frame: data or error as text, else the frame's channel */
static const char *
pc_ws_error_text(PerpsCtx *ctx, struct json_object *root, struct json_object *body)
{
	struct json_object *e = perps_json_get(root, "error");
	const char *msg;

	if (e == NULL || !json_object_is_type(e, json_type_string))
		e = body;
	if (e == NULL || !json_object_is_type(e, json_type_string))
		return "error";
	msg = json_object_get_string(e);
	return perps_strndup(ctx, msg, strnlen(msg, 200));
}

static PerpsStatus
pc_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	struct json_object *root = NULL;
	struct json_object *body,
			   *ch;
	PerpsStreamEvent *ev;
	const char *channel = NULL;

	if (perps_ws_json_begin(ctx, "pacifica", data, len, binary, PC_WS_MAX_MESSAGE, out, &root) != PERPS_OK)
		goto done;
	if ((ev = perps_ws_event_new(ctx)) == NULL)
		goto done;
	ch = perps_json_get(root, "channel");
	if (ch != NULL && perps_json_string(ctx, ch, "channel", &channel) != PERPS_OK)
		goto done;
	ev->channel = channel;
	body = perps_json_get(root, "data");

	if (channel == NULL || strcmp(channel, "error") == 0 ||
		(perps_json_get(root, "error") != NULL &&
		 !json_object_is_type(perps_json_get(root, "error"), json_type_null)))
	{
		/* an error, or a frame without a channel: a control event, an error when it says so */
		ev->kind = PERPS_EV_CONTROL;
		if (channel != NULL || perps_json_get(root, "error") != NULL)
		{
			ev->is_error = true;
			if ((ev->message = pc_ws_error_text(ctx, root, body)) == NULL)
				goto done;
		}
	}
	else if (strcmp(channel, "book") == 0)
		pc_ws_book(ctx, body, ev);
	else if (strcmp(channel, "trades") == 0)
	{
		pc_ws_trades(ctx, body, channel, out);
		goto done;
	}
	else if (strcmp(channel, "prices") == 0)
	{
		pc_ws_prices(ctx, body, channel, out);
		goto done;
	}
	else if (strcmp(channel, "bbo") == 0)
		pc_ws_bbo(ctx, body, ev);
	else if (strcmp(channel, "candle") == 0)
		pc_ws_candle(ctx, body, ev);
	else
		ev->kind = PERPS_EV_CONTROL;	/* pong, a subscription's answer, a channel not asked for */
	return perps_ws_json_end_one(ctx, root, ev, out);
done:
	return perps_ws_json_end(ctx, root, out);
}

static const PerpsStreamAdapter pc_stream = {
	.quote = PC_QUOTE,
	.book_depth = PC_WS_BOOK_DEPTH,
	.ping_message = "{\"method\":\"ping\"}",
	.ping_interval_s = 15,
	.max_message_bytes = PC_WS_MAX_MESSAGE,
	.max_connection_s = 24 * 3600,
	.subscribe_on = pc_ws_subscribe_on,
	.connections_for = pc_ws_connections_for,
	.kline_channel = pc_ws_kline_channel,
	.resync = pc_ws_resync,
	.parse_frame = pc_ws_parse,
	.seq_rule = perps_seq_newer_whole_book,	/* every book message is a whole book */
};

const PerpsAdapter perps_adapter_pacifica = {
	.name = "pacifica",
	.native_symbol = pc_native_symbol,
	.needs_markets = false,
	.symbol_ok = pc_symbol_ok,
	.symbol_what = "a market symbol like BTC or kBONK",
	.open_body = pc_open_body,
	.methods = {
		[PERPS_M_MARKETS] = {.build = pc_build_info, .parse = pc_parse_markets},
		[PERPS_M_TICKER] = {.build = pc_build_ticker, .parse = pc_parse_ticker},
		[PERPS_M_TICKERS] = {.build = pc_build_prices, .parse = pc_parse_tickers},
		[PERPS_M_ORDERBOOK] = {.build = pc_build_orderbook, .parse = pc_parse_orderbook},
		[PERPS_M_FUNDING] = {.build = pc_build_prices, .parse = pc_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = pc_build_funding_history, .parse = pc_parse_funding_history},
		[PERPS_M_OPEN_INTEREST] = {.build = pc_build_prices, .parse = pc_parse_open_interest},
		[PERPS_M_KLINES] = {.build = pc_build_klines, .parse = pc_parse_klines},
		[PERPS_M_TRADES] = {.build = pc_build_trades, .parse = pc_parse_trades},
	},
	/* docs.pacifica.fi "Rate limits": 125 credits a 60 s rolling window per unidentified IP */
	.rate_limit = {.weight = 125,.window_ms = 60000},
	.max_kline_page = PC_KLINE_PAGE,
	.max_funding_page = PC_FUNDING_PAGE,
	.max_trades_page = PC_TRADES_PAGE,
	.no_trades_history = PC_NO_TRADE_HISTORY,
	.stream = &pc_stream,
	.book_resolutions = pc_book_resolutions,
};
