/*-------------------------------------------------------------------------
 *
 * src/venues/paradex.c
 *		Paradex public REST (api.prod.paradex.trade/v1): perpetual markets
 *		(asset_kind PERP); and the stream side (at the end): the SBE
 *		decoder of the public WebSocket channels and their JSON-RPC
 *		control plane.
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

#define PX_PAGE 5000			/* page_size limit of trades and funding data */
#define PX_TRADES_PAGE 1000		/* page_size limit of /v1/trades */
#define PX_PAGE_DEFAULT 100		/* page_size default */
#define PX_KLINE_SPAN 1000		/* candles per request (none documented) */
#define PX_SUFFIX "-USD-PERP"

/* text that can go into a path: [A-Za-z0-9._-], 1..maxlen characters */
static bool
px_safe(const char *s, size_t maxlen)
{
	return perps_symbol_ok(s, maxlen, true, "-_.");
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

/* a native symbol: BTC-USD-PERP */
static bool
px_symbol_ok(const char *s)
{
	return px_safe(s, 64);
}

/* ---- build: one function a method ---- */

static int
px_build_markets(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], 1, "/v1/markets") ? ctx->status : 1;
}

static int
px_build_tickers(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	return perps_request_path(ctx, &reqs[0], 1, "/v1/markets/summary?market=ALL") ? ctx->status : 1;
}

/* the market's summary: its ticker, funding rate and open interest */
static int
px_build_summary(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;

	return perps_request_path(ctx, &reqs[0], 1, "/v1/markets/summary?market=%s", sym) ? ctx->status : 1;
}

static int
px_build_orderbook(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	int			depth = q->depth > 0 ? q->depth : 100;

	return perps_request_path(ctx, &reqs[0], 1, "/v1/orderbook/%s?depth=%d", sym, depth) ? ctx->status : 1;
}

static int
px_build_funding_history(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	int			rows = q->limit <= 0 ? PX_PAGE_DEFAULT : q->limit < PX_PAGE ? q->limit : PX_PAGE;
	char		cur[1200];
	char		range[80];
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
	return perps_request_path(ctx, &reqs[0], 1, "/v1/funding/data?market=%s&page_size=%d%s%s",
							  sym, rows, range, cur) ? ctx->status : 1;
}

static int
px_build_klines(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	int			secs = perps_interval_seconds(q->interval);
	int			rows = perps_page_size(q, PX_KLINE_SPAN);
	int64_t		start,
				end;

	if (secs == 0 || secs > 3600)
		return perps_fail(ctx, PERPS_ERR_ARG,
						  "paradex: klines are served at 1, 5, 15, 30 and 60 minutes only, not \"%s\"",
						  q->interval ? q->interval : "(null)");
	/* ms */
	if (!perps_page_window(q, 1000, rows * (int64_t) secs * 1000, &start, &end))
		return perps_fail(ctx, PERPS_ERR_ARG, "paradex: since is after until");
	return perps_request_path(ctx, &reqs[0], 1,
							  "/v1/markets/klines?symbol=%s&resolution=%d&start_at=%lld&end_at=%lld",
							  sym, secs / 60, (long long) start, (long long) end) ? ctx->status : 1;
}

static int
px_build_trades(PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs)
{
	const char *sym = q->market->native_symbol;
	int			rows = q->limit <= 0 ? PX_PAGE_DEFAULT : q->limit < PX_TRADES_PAGE ? q->limit : PX_TRADES_PAGE;
	char		cur[1200];
	char		range[80];
	size_t		k = 0;

	if (px_cursor_arg(ctx, q, cur, sizeof(cur)))
		return ctx->status;
	range[0] = '\0';
	if (q->since_us != PERPS_TS_NONE)
		k += (size_t) snprintf(range + k, sizeof(range) - k, "&start_at=%lld",
							   (long long) perps_us_to_ms_ceil(q->since_us));
	if (q->until_us != PERPS_TS_NONE)
		snprintf(range + k, sizeof(range) - k, "&end_at=%lld",
				 (long long) perps_us_to_ms_floor(q->until_us));
	return perps_request_path(ctx, &reqs[0], 1, "/v1/trades?market=%s&page_size=%d%s%s",
							  sym, rows, range, cur) ? ctx->status : 1;
}

/* ---- parsers ---- */

/* PerpsAdapter.open_body: errors are {"error": "NOT_FOUND", "message": "..."} */
static PerpsStatus
px_open(PerpsCtx *ctx, const PerpsBody *b, int i, struct json_object **root)
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
px_parse_markets(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;
	int			k = 0;

	out->u.markets = perps_rows_field(ctx, root, "results", sizeof(PerpsMarket), &arr, &n);
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

/* PerpsTickerRead of a summary: perpetuals only (the summary of ALL lists options too) */
static PerpsStatus
px_ticker_read(PerpsCtx *ctx, struct json_object *o, size_t i, PerpsTicker *t, bool *keep)
{
	size_t		len;

	if (px_summary(ctx, o, t))
		return ctx->status;
	len = strlen(t->native_symbol);
	*keep = len > strlen(PX_SUFFIX) && strcmp(t->native_symbol + len - strlen(PX_SUFFIX), PX_SUFFIX) == 0;
	return PERPS_OK;
}

static PerpsStatus
px_parse_ticker(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	return perps_pick_tickers(ctx, docs[0], "results", q->market->native_symbol, px_ticker_read, out);
}

static PerpsStatus
px_parse_tickers(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	return perps_pick_tickers(ctx, docs[0], "results", NULL, px_ticker_read, out);
}

static PerpsStatus
px_parse_funding(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				 PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;

	if (perps_need_array_field(ctx, root, "results", &arr, &n))
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
px_parse_open_interest(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
					   PerpsResult *out)
{
	PerpsResult tk;

	memset(&tk, 0, sizeof(tk));
	if (perps_pick_tickers(ctx, docs[0], "results", q->market->native_symbol, px_ticker_read, &tk))
		return ctx->status;
	return perps_open_interest_of(ctx, &tk.u.tickers[0], out);
}

static PerpsStatus
px_parse_orderbook(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				   PerpsResult *out)
{
	struct json_object *root = docs[0];
	PerpsBook  *bk = out->u.book = perps_alloc(ctx, sizeof(PerpsBook));
	struct json_object *mk = perps_json_get(root, "market");

	if (bk == NULL)
		return ctx->status;
	if (mk != NULL && json_object_is_type(mk, json_type_string) &&
		strcmp(json_object_get_string(mk), q->market->native_symbol) != 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "book is for %.40s, not %s",
						  json_object_get_string(mk), q->market->native_symbol);
	if (perps_parse_levels_field(ctx, root, "bids", q->depth, &bk->bids, &bk->nbids) ||
		perps_parse_levels_field(ctx, root, "asks", q->depth, &bk->asks, &bk->nasks) ||
		perps_json_ts_field(ctx, root, "last_updated_at", PERPS_MS, &bk->ts_us) ||
		perps_json_int64_field(ctx, root, "seq_no", &bk->seq))
		return ctx->status;
	bk->has_seq = true;
	out->n = 1;
	return PERPS_OK;
}

static PerpsStatus
px_parse_funding_history(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						 PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;

	out->u.funding = perps_rows_field(ctx, root, "results", sizeof(PerpsFunding), &arr, &n);
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
px_parse_klines(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;
	int64_t		step_us = (int64_t) perps_interval_seconds(q->interval) * 1000000;
	int			rows = perps_page_size(q, PX_KLINE_SPAN);

	if (step_us <= 0)
		return perps_fail(ctx, PERPS_ERR_ARG, "paradex: unsupported kline interval");
	out->u.klines = perps_rows_field(ctx, root, "results", sizeof(PerpsKline), &arr, &n);
	if (out->u.klines == NULL)
		return ctx->status;
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *r = json_object_array_get_idx(arr, i);
		PerpsKline *k = &out->u.klines[i];

		/* [time, o, h, l, c, volume] */
		if (perps_parse_kline_row(ctx, r, i, 6, k))
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
px_parse_trades(PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
				PerpsResult *out)
{
	/* trade ids are 28-digit strings; the side is the taker's */
	static const PerpsTradeKeys keys = {"id", "price", "size", "created_at", "side", "BUY", "SELL"};
	struct json_object *root = docs[0];
	struct json_object *arr;
	size_t		n;

	if (perps_need_array_field(ctx, root, "results", &arr, &n) ||
		perps_parse_trades(ctx, arr, n, &keys, out))
		return ctx->status;
	return px_next(ctx, root, out);
}

/* ---- the stream side: wss://ws.api.prod.paradex.trade/v1?sbeSchemaId=1&sbeSchemaVersion=1 ----
 *
 * Facts relied on, and where they come from:
 *
 * - Paradex docs, "Binary Encoding (SBE)" (docs.paradex.trade/ws/general-
 *   information/binary-encoding-sbe; tradeparadex/paradex-docs
 *   docs/pages/websockets/binary-encoding-sbe.mdx): since 2026-09-21 the
 *   public channel payloads are SBE binary frames, negotiated with
 *   ?sbeSchemaId=1&sbeSchemaVersion=1 on the URL (an unsupported schema or
 *   version is refused with HTTP 400 at connect, no fallback to JSON).
 *   Requests, subscribe/unsubscribe answers and errors stay JSON-RPC text
 *   frames; binary frames from the server are channel data.  One SBE
 *   message per frame.  Template ids: 1 TradeEvent (trades), 2 BboEvent
 *   (bbo), 3 BookEvent (order_book), 4 MarketSummaryEvent
 *   (markets_summary), 5 FundingDataEvent (funding_data), 6
 *   FundingRateComparisonEvent, 20-23 private, 40 HeartbeatEvent, 41
 *   SubscribedEvent.  "Read the block length from the frame header": v1 of
 *   MarketSummaryEvent has a 240-byte root block, v0 216.
 *
 * - The schema, paradex_1_0.xml (tradeparadex/paradex-py
 *   paradex_py/api/sbe/paradex_1_0.xml, schema id 1, version 2 of
 *   2026-03-17; 1:2 is not negotiable yet, 1:1 is what we request):
 *   byteOrder littleEndian.  messageHeader (8 bytes): blockLength u16,
 *   templateId u16, schemaId u16, version u16.  groupSizeEncoding (4
 *   bytes): blockLength u16 (of one entry), numInGroup u16.  varString8:
 *   length u8, then that many UTF-8 bytes.  Fields have no offset
 *   attributes, so each follows the previous one; groups follow the root
 *   block, var data follows the groups.  Decimals: Price8/Qty8/Value8/
 *   Rate8 are an int64 mantissa with a constant exponent -8 that is not
 *   on the wire, Rate12 exponent -12; INT64_MIN is the null value.
 *   Timestamps: int64 microseconds since the epoch.  Enums u8: Side 1 BUY,
 *   2 SELL, 254 NON_REPRESENTABLE; PkgType 0 SNAPSHOT, 1 DELTA.  Offsets
 *   (after the 8-byte header), worked out from the field order:
 *     TradeEvent (block 50): ts 0, seq 8, tradeId i64 16, side u8 24,
 *       price 25, size 33, createdAt 41, tradeType u8 49; data market.
 *     BboEvent (block 48): ts 0, seq 8, bidPrice 16, bidSize 24,
 *       askPrice 32, askSize 40 (all nullable); data market.
 *     BookEvent (block 89, "an 89-byte block is what every client has
 *       always received"): ts 0, seq 8, pkgType u8 16, then nine nullable
 *       best-price/spread fields 17..88; group bids {price 0, size 8}
 *       (entry 16 bytes; size 0 removes the level), group asks (same);
 *       data market.
 *     MarketSummaryEvent (block 216 at v0, 240 at v1): ts 0, seq 8,
 *       markPrice 16, indexPrice 24, lastPrice 32, volumeUsd24h 40,
 *       openInterest 48 (base units), fundingRate 56 (Rate8), bid 64, ask
 *       72, totalVolume 80, priceChangeRate24h 88 (a fraction), options
 *       fields 96..199, bidSize 200, askSize 208; since v1: forwardRate
 *       216, riskFreeRate 224, fundingRatePrecise 232 (Rate12, "prefer
 *       over fundingRate", null -> fall back); data market.
 *     FundingDataEvent (block 58 at v0, 66 at v1): ts 0, seq 8,
 *       fundingRate 16 (Rate8, the rate of the actual funding period),
 *       fundingIndex 24, createdAt 32, fundingPremium 40, fundingRate8h
 *       48, fundingPeriodHours i16 56; since v1 impactPremiumRate 58;
 *       data market.
 *     HeartbeatEvent (block 16): ts 0, seq 8 ("every 20s on idle
 *       connections").
 *   Versioning: fields are appended with sinceVersion; a field is read
 *   only when the frame's version has it and the block reaches it.  Newer
 *   versions are announced before they are served; "unknown templateIds
 *   must be skipped".
 *
 * - Channels (docs asyncapi, docs/apis/prod_ws/asyncapi-2.6.0.yaml):
 *   trades.{M}, bbo.{M}, markets_summary.{M}, funding_data.{M},
 *   order_book.{M}.deltas (the deltas feed takes no parameters: one
 *   full-depth snapshot on subscribe, then incremental updates).
 *   Subscribe: {"jsonrpc":"2.0","method":"subscribe","params":{"channel":
 *   "..."},"id":N}, answer {"jsonrpc":"2.0","result":{"channel":"..."},
 *   "usIn":..,"usDiff":..,"id":N}; errors {"jsonrpc":"2.0","error":
 *   {"code":-32602,"message":"..."},"id":N}; unsubscribe the same way.
 *   Subscribing twice to a channel is an error.  Without SBE, channel data
 *   came as {"method":"subscription","params":{"channel":..,"data":..}}.
 *
 * - Ping (docs "Maintaining a Connection"): WebSocket protocol pings, the
 *   server every 55 s; libwebsockets answers them.  No application ping.
 *
 * Assumptions (not found written down): the deltas feed's seq goes up by
 * one per message, so snapshot -> RESET, seq + 1 -> APPLY, older -> STALE,
 * a jump -> GAP (resync: unsubscribe and subscribe the book channel for a
 * fresh snapshot).  Paradex funding accrues continuously and has no
 * settlement time: a funding_data record's createdAt is given as its
 * funding time (the key the REST funding history stores as well).
 *
 * What we subscribe per market: trades, order_book deltas,
 * markets_summary and funding_data (4 JSON-RPC requests; bbo is decoded
 * too, as a ticker delta, but not subscribed: the summary carries best
 * bid/ask and a row per BBO tick would be too many).  Decimals become
 * exact text (trailing zeros of the fixed exponent dropped).
 */

#define PX_WS_SCHEMA_ID 1
#define PX_WS_MAX_VERSION 2		/* the newest schema version we know the layout of */
#define PX_WS_HEADER 8
#define PX_WS_GROUP_HEADER 4
#define PX_WS_LEVEL_BLOCK 16
#define PX_WS_MAX_LEVELS 20000	/* per side (PERPS_LOCAL_BOOK_MAX_LEVELS) */
#define PX_WS_CHANNELS 4		/* per market */
#define PX_WS_MAX_MESSAGE (4 * 1024 * 1024)
#define PX_WS_NULL INT64_MIN

enum
{
	PX_TPL_TRADE = 1,
	PX_TPL_BBO = 2,
	PX_TPL_BOOK = 3,
	PX_TPL_SUMMARY = 4,
	PX_TPL_FUNDING = 5,
	PX_TPL_HEARTBEAT = 40
};

/* JSON-RPC request ids: unique per process is enough (answers only echo them). */
static int	px_ws_next_id = 1;

static PerpsStatus
px_ws_request(PerpsCtx *ctx, const char *method, const char *channel, PerpsWsMessage *out)
{
	size_t		cap = strlen(channel) + 128;
	char	   *buf = perps_alloc(ctx, cap);
	int			n;

	if (buf == NULL)
		return ctx->status;
	if (px_ws_next_id <= 0 || px_ws_next_id == INT32_MAX)
		px_ws_next_id = 1;
	n = snprintf(buf, cap, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":{\"channel\":\"%s\"},\"id\":%d}",
				 method, channel, px_ws_next_id++);
	if (n < 0 || (size_t) n >= cap)
		return perps_fail(ctx, PERPS_ERR_ARG, "paradex %s message too long", method);
	out->data = buf;
	out->len = (size_t) n;
	return PERPS_OK;
}

static int
px_ws_subscribe(PerpsCtx *ctx, const PerpsStreamWant *want, PerpsWsMessage *out)
{
	const char *const *natives = want->natives;
	int			n = want->n;
	static const char *const fmts[PX_WS_CHANNELS] = {
		"trades.%s", "order_book.%s.deltas", "markets_summary.%s", "funding_data.%s"
	};
	int			nmsg = 0;

	if (n < 0 || (size_t) n * PX_WS_CHANNELS > PERPS_WS_MAX_MESSAGES)
		return perps_fail(ctx, PERPS_ERR_ARG, "paradex cannot stream %d markets on one connection (at most %d)",
						  n, PERPS_WS_MAX_MESSAGES / PX_WS_CHANNELS);
	for (int i = 0; i < n; i++)
	{
		if (!px_symbol_ok(natives[i]))
			return perps_fail(ctx, PERPS_ERR_ARG, "paradex native symbol \"%.40s\" is not valid", natives[i]);
		for (int k = 0; k < PX_WS_CHANNELS; k++)
		{
			char		channel[128];

			snprintf(channel, sizeof(channel), fmts[k], natives[i]);
			if (px_ws_request(ctx, "subscribe", channel, &out[nmsg++]) != PERPS_OK)
				return ctx->status;
		}
	}
	return nmsg;
}

/* A fresh book snapshot: unsubscribe and subscribe the deltas channel again. */
static int
px_ws_resync(PerpsCtx *ctx, const char *native, PerpsWsMessage *out)
{
	char		channel[128];

	if (!px_symbol_ok(native))
		return perps_fail(ctx, PERPS_ERR_ARG, "paradex native symbol is not valid");
	snprintf(channel, sizeof(channel), "order_book.%s.deltas", native);
	if (px_ws_request(ctx, "unsubscribe", channel, &out[0]) != PERPS_OK ||
		px_ws_request(ctx, "subscribe", channel, &out[1]) != PERPS_OK)
		return ctx->status;
	return 2;
}

/* ---- SBE decoding ---- */

/* One SBE message: its root block, and a cursor over what follows it. */
typedef struct PxSbe
{
	const unsigned char *block;	/* root block */
	size_t		block_len;
	unsigned	version;		/* the frame's schema version (acting version) */
	const unsigned char *cur;	/* next group or var data */
	const unsigned char *end;	/* end of the frame */
} PxSbe;

static uint16_t
px_u16(const unsigned char *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static int64_t
px_i64(const unsigned char *p)
{
	uint64_t	u = 0;
	int64_t		v;

	for (int i = 7; i >= 0; i--)
		u = (u << 8) | p[i];
	memcpy(&v, &u, sizeof(v));	/* two's complement, no overflow */
	return v;
}

/*
 * An int64 of the root block at off, present since schema version `since`:
 * PX_WS_NULL when the frame's version or block does not have it.  The
 * block itself was checked against the frame length.
 */
static int64_t
px_field(const PxSbe *m, size_t off, unsigned since)
{
	if (m->version < since || off > m->block_len || m->block_len - off < 8)
		return PX_WS_NULL;
	return px_i64(m->block + off);
}

/*
 * mantissa * 10^-scale as exact decimal text, trailing fractional zeros
 * dropped: 4200050000000 at scale 8 is "42000.5".  NULL for the null value.
 */
static const char *
px_decimal(PerpsCtx *ctx, int64_t mantissa, int scale)
{
	char		digits[32];
	char		out[48];
	uint64_t	mag;
	int			nd,
				intlen,
				k = 0,
				last;

	if (mantissa == PX_WS_NULL)
		return NULL;
	mag = mantissa < 0 ? (uint64_t) (-(mantissa + 1)) + 1 : (uint64_t) mantissa;
	nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long) mag);
	if (mantissa < 0)
		out[k++] = '-';
	intlen = nd - scale;
	if (intlen <= 0)
		out[k++] = '0';
	else
	{
		memcpy(out + k, digits, (size_t) intlen);
		k += intlen;
	}
	out[k++] = '.';
	for (int i = intlen; i < 0; i++)
		out[k++] = '0';
	memcpy(out + k, digits + (intlen > 0 ? intlen : 0), (size_t) (nd - (intlen > 0 ? intlen : 0)));
	k += nd - (intlen > 0 ? intlen : 0);
	/* drop trailing zeros of the fraction, and the point when nothing is left */
	last = k - 1;
	while (out[last] == '0')
		last--;
	if (out[last] == '.')
		last--;
	return perps_strndup(ctx, out, (size_t) (last + 1));
}

/* A required decimal field: present, and not negative where that makes no sense. */
static PerpsStatus
px_need_decimal(PerpsCtx *ctx, int64_t mantissa, int scale, bool nonneg, const char *what,
				const char **out)
{
	if (mantissa == PX_WS_NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE field %s is null", what);
	if (nonneg && mantissa < 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE field %s is negative", what);
	*out = px_decimal(ctx, mantissa, scale);
	return *out ? PERPS_OK : ctx->status;
}

/* A timestamp field (µs): present and within what timestamptz takes. */
static PerpsStatus
px_need_ts(PerpsCtx *ctx, int64_t us, const char *what, int64_t *out)
{
	/* 1970 .. 9999-12-31 */
	if (us == PX_WS_NULL || us < 0 || us > INT64_C(253402300799000000))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE timestamp %s is null or out of range", what);
	*out = us;
	return PERPS_OK;
}

/* A repeating group of price levels at the cursor. */
static PerpsStatus
px_levels_group(PerpsCtx *ctx, PxSbe *m, const char *side, PerpsLevel **levels, int *n)
{
	size_t		avail = (size_t) (m->end - m->cur);
	uint16_t	entry,
				count;

	if (avail < PX_WS_GROUP_HEADER)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE book frame ends before its %s group", side);
	entry = px_u16(m->cur);
	count = px_u16(m->cur + 2);
	m->cur += PX_WS_GROUP_HEADER;
	avail -= PX_WS_GROUP_HEADER;
	if (entry < PX_WS_LEVEL_BLOCK)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE %s entries of %u bytes, fewer than %d",
						  side, entry, PX_WS_LEVEL_BLOCK);
	if ((size_t) count * entry > avail)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE %s group of %u x %u bytes overruns the frame (%zu left)",
						  side, count, entry, avail);
	if (count > PX_WS_MAX_LEVELS)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE book has %u %s levels", count, side);
	*levels = perps_alloc_array(ctx, count ? count : 1, sizeof(PerpsLevel));
	if (*levels == NULL)
		return ctx->status;
	for (unsigned i = 0; i < count; i++)
	{
		const unsigned char *e = m->cur + (size_t) i * entry;
		int64_t		price = px_i64(e);
		int64_t		size = px_i64(e + 8);

		if (price == PX_WS_NULL || price <= 0)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE %s level %u has no positive price", side, i);
		if (px_need_decimal(ctx, size, 8, true, "level size", &(*levels)[i].qty) != PERPS_OK)
			return ctx->status;
		(*levels)[i].price = px_decimal(ctx, price, 8);
		if ((*levels)[i].price == NULL)
			return ctx->status;
	}
	m->cur += (size_t) count * entry;
	*n = count;
	return PERPS_OK;
}

/* The varString8 market symbol at the cursor. */
static PerpsStatus
px_market(PerpsCtx *ctx, PxSbe *m, const char **out)
{
	size_t		avail = (size_t) (m->end - m->cur);
	unsigned	len;
	const char *s;

	if (avail < 1)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE frame ends before its market");
	len = m->cur[0];
	if (len > avail - 1)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE market of %u bytes overruns the frame (%zu left)",
						  len, avail - 1);
	s = perps_strndup(ctx, (const char *) m->cur + 1, len);
	if (s == NULL)
		return ctx->status;
	m->cur += 1 + len;
	if (strlen(s) != len || !px_symbol_ok(s))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE market is not a valid symbol");
	*out = s;
	return PERPS_OK;
}

static const char *
px_channel(PerpsCtx *ctx, const char *prefix, const char *market, const char *suffix)
{
	size_t		n = strlen(prefix) + strlen(market) + strlen(suffix) + 1;
	char	   *c = perps_alloc(ctx, n);

	if (c != NULL)
		snprintf(c, n, "%s%s%s", prefix, market, suffix);
	return c;
}

static PerpsStatus
px_sbe_trade(PerpsCtx *ctx, PxSbe *m, PerpsStreamEvent *ev)
{
	PerpsTrade *t;
	char		id[24];
	unsigned	side = m->block[24];
	int64_t		trade_id = px_field(m, 16, 0);

	ev->kind = PERPS_EV_TRADES;
	t = ev->trades = perps_alloc(ctx, sizeof(PerpsTrade));
	if (t == NULL)
		return ctx->status;
	if (trade_id == PX_WS_NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE trade has no id");
	snprintf(id, sizeof(id), "%lld", (long long) trade_id);
	t->trade_id = perps_strndup(ctx, id, strlen(id));
	if (t->trade_id == NULL ||
		px_need_decimal(ctx, px_field(m, 25, 0), 8, true, "price", &t->price) != PERPS_OK ||
		px_need_decimal(ctx, px_field(m, 33, 0), 8, true, "size", &t->qty) != PERPS_OK ||
		px_need_ts(ctx, px_field(m, 41, 0), "createdAt", &t->ts_us) != PERPS_OK)
		return ctx->status;
	if (side == 1)
		t->is_buy = true;
	else if (side == 2)
		t->is_buy = false;
	else
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE trade side %u is neither BUY nor SELL", side);
	if (px_market(ctx, m, &ev->native_symbol) != PERPS_OK)
		return ctx->status;
	ev->ntrades = 1;
	ev->channel = px_channel(ctx, "trades.", ev->native_symbol, "");
	return PERPS_OK;
}

static PerpsStatus
px_sbe_bbo(PerpsCtx *ctx, PxSbe *m, PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;

	/* best bid/ask only: a delta of the merged ticker; a null side stays as it was */
	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	t->best_bid_price = px_decimal(ctx, px_field(m, 16, 0), 8);
	t->best_bid_qty = px_decimal(ctx, px_field(m, 24, 0), 8);
	t->best_ask_price = px_decimal(ctx, px_field(m, 32, 0), 8);
	t->best_ask_qty = px_decimal(ctx, px_field(m, 40, 0), 8);
	if (ctx->status != PERPS_OK || px_market(ctx, m, &ev->native_symbol) != PERPS_OK)
		return ctx->status;
	t->native_symbol = ev->native_symbol;
	t->ts_us = ev->ts_us;
	ev->channel = px_channel(ctx, "bbo.", ev->native_symbol, "");
	return PERPS_OK;
}

static PerpsStatus
px_sbe_book(PerpsCtx *ctx, PxSbe *m, PerpsStreamEvent *ev)
{
	unsigned	pkg = m->block[16];

	ev->kind = PERPS_EV_BOOK;
	if (pkg > 1)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE book package type %u is neither snapshot nor delta", pkg);
	ev->snapshot = (pkg == 0);
	ev->seq = px_field(m, 8, 0);
	if (ev->seq == PX_WS_NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE book has no sequence number");
	if (px_levels_group(ctx, m, "bid", &ev->bids, &ev->nbids) != PERPS_OK ||
		px_levels_group(ctx, m, "ask", &ev->asks, &ev->nasks) != PERPS_OK ||
		px_market(ctx, m, &ev->native_symbol) != PERPS_OK)
		return ctx->status;
	ev->channel = px_channel(ctx, "order_book.", ev->native_symbol, ".deltas");
	return PERPS_OK;
}

static PerpsStatus
px_sbe_summary(PerpsCtx *ctx, PxSbe *m, PerpsStreamEvent *ev)
{
	PerpsTicker *t = &ev->ticker;
	int64_t		precise = px_field(m, 232, 1);

	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = true;		/* every field of the ticker, each time */
	t->mark_price = px_decimal(ctx, px_field(m, 16, 0), 8);
	t->index_price = px_decimal(ctx, px_field(m, 24, 0), 8);
	t->last_price = px_decimal(ctx, px_field(m, 32, 0), 8);
	/* volumeUsd24h is the traded value in USD (the REST volume_24h) */
	t->turnover_24h = px_decimal(ctx, px_field(m, 40, 0), 8);
	t->open_interest = px_decimal(ctx, px_field(m, 48, 0), 8);
	t->best_bid_price = px_decimal(ctx, px_field(m, 64, 0), 8);
	t->best_ask_price = px_decimal(ctx, px_field(m, 72, 0), 8);
	t->price_change_pct = px_decimal(ctx, px_field(m, 88, 0), 8);
	t->best_bid_qty = px_decimal(ctx, px_field(m, 200, 0), 8);
	t->best_ask_qty = px_decimal(ctx, px_field(m, 208, 0), 8);
	/* the 12-digit rate from v1 on, else the 8-digit one */
	ev->funding_rate = precise != PX_WS_NULL ? px_decimal(ctx, precise, 12)
		: px_decimal(ctx, px_field(m, 56, 0), 8);
	if (ctx->status != PERPS_OK || px_market(ctx, m, &ev->native_symbol) != PERPS_OK)
		return ctx->status;
	t->native_symbol = ev->native_symbol;
	t->ts_us = ev->ts_us;
	ev->channel = px_channel(ctx, "markets_summary.", ev->native_symbol, "");
	return PERPS_OK;
}

static PerpsStatus
px_sbe_funding(PerpsCtx *ctx, PxSbe *m, PerpsStreamEvent *ev)
{
	int			hours = (int16_t) px_u16(m->block + 56);

	/* funding only: a ticker delta without ticker fields */
	ev->kind = PERPS_EV_TICKER;
	ev->snapshot = false;
	if (px_need_decimal(ctx, px_field(m, 16, 0), 8, false, "fundingRate", &ev->funding_rate) != PERPS_OK ||
		px_need_ts(ctx, px_field(m, 32, 0), "createdAt", &ev->next_funding_time_us) != PERPS_OK)
		return ctx->status;
	if (hours > 0)
	{
		char		h[8];

		snprintf(h, sizeof(h), "%d", hours);
		ev->funding_interval_hours = perps_strndup(ctx, h, strlen(h));
		if (ev->funding_interval_hours == NULL)
			return ctx->status;
	}
	if (px_market(ctx, m, &ev->native_symbol) != PERPS_OK)
		return ctx->status;
	ev->ticker.native_symbol = ev->native_symbol;
	ev->ticker.ts_us = ev->ts_us;
	ev->channel = px_channel(ctx, "funding_data.", ev->native_symbol, "");
	return PERPS_OK;
}

/* The smallest root block of each message we decode (its version 0 layout). */
static size_t
px_min_block(unsigned tpl)
{
	switch (tpl)
	{
		case PX_TPL_TRADE:
			return 50;
		case PX_TPL_BBO:
			return 48;
		case PX_TPL_BOOK:
			return 89;
		case PX_TPL_SUMMARY:
			return 216;
		case PX_TPL_FUNDING:
			return 58;
		case PX_TPL_HEARTBEAT:
			return 16;
		default:
			return 0;
	}
}

static PerpsStatus
px_ws_binary(PerpsCtx *ctx, const unsigned char *p, size_t len, PerpsStreamEvent *ev)
{
	PxSbe		m;
	unsigned	block_len,
				tpl,
				schema;
	size_t		need;
	char		msg[160];

	if (len < PX_WS_HEADER)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE frame of %zu bytes has no message header", len);
	block_len = px_u16(p);
	tpl = px_u16(p + 2);
	schema = px_u16(p + 4);
	m.version = px_u16(p + 6);
	if (schema != PX_WS_SCHEMA_ID || m.version > PX_WS_MAX_VERSION)
	{
		/* not a layout we know: skipped and said, not decoded by guesswork */
		ev->kind = PERPS_EV_CONTROL;
		ev->is_error = true;
		snprintf(msg, sizeof(msg), "paradex sent an SBE frame of schema %u version %u (template %u); "
				 "this decoder reads schema %d up to version %d", schema, m.version, tpl,
				 PX_WS_SCHEMA_ID, PX_WS_MAX_VERSION);
		ev->message = perps_strndup(ctx, msg, strlen(msg));
		return ev->message ? PERPS_OK : ctx->status;
	}
	if (block_len > len - PX_WS_HEADER)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE root block of %u bytes overruns the frame of %zu",
						  block_len, len);
	need = px_min_block(tpl);
	if (need == 0)
	{
		/* FundingRateComparison, private channels, SubscribedEvent, newer messages: not ours */
		ev->kind = PERPS_EV_CONTROL;
		snprintf(msg, sizeof(msg), "paradex SBE template %u skipped", tpl);
		ev->message = perps_strndup(ctx, msg, strlen(msg));
		return ev->message ? PERPS_OK : ctx->status;
	}
	if (block_len < need)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex SBE template %u has a root block of %u bytes, the schema's is %zu",
						  tpl, block_len, need);
	m.block = p + PX_WS_HEADER;
	m.block_len = block_len;
	m.cur = m.block + block_len;
	m.end = p + len;
	if (px_need_ts(ctx, px_field(&m, 0, 0), "ts", &ev->ts_us) != PERPS_OK)
		return ctx->status;
	switch (tpl)
	{
		case PX_TPL_TRADE:
			return px_sbe_trade(ctx, &m, ev);
		case PX_TPL_BBO:
			return px_sbe_bbo(ctx, &m, ev);
		case PX_TPL_BOOK:
			return px_sbe_book(ctx, &m, ev);
		case PX_TPL_SUMMARY:
			return px_sbe_summary(ctx, &m, ev);
		case PX_TPL_FUNDING:
			return px_sbe_funding(ctx, &m, ev);
		default:
			ev->kind = PERPS_EV_CONTROL;	/* heartbeat */
			return PERPS_OK;
	}
}

/* ---- the JSON-RPC control plane ---- */

static PerpsStatus
px_ws_text(PerpsCtx *ctx, const char *data, size_t len, PerpsStreamEvent *ev)
{
	struct json_object *root = NULL;
	struct json_object *v;
	char		msg[256];

	ev->kind = PERPS_EV_CONTROL;
	if (perps_json_parse(ctx, data, len, &root) != PERPS_OK)
		return ctx->status;
	if (!json_object_is_type(root, json_type_object))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "paradex text frame is not an object");
		goto done;
	}
	if ((v = perps_json_get(root, "error")) != NULL)
	{
		/* {"jsonrpc":"2.0","error":{"code":-32602,"message":"..."},"id":1} */
		struct json_object *code = perps_json_get(v, "code");
		struct json_object *m = perps_json_get(v, "message");
		struct json_object *d = perps_json_get(v, "data");

		ev->is_error = true;
		{
			const char *mt = m && json_object_is_type(m, json_type_string) ? json_object_get_string(m) : "(no message)";
			const char *dt = d && json_object_is_type(d, json_type_string) ? json_object_get_string(d) : "";

			snprintf(msg, sizeof(msg), "paradex error %s: %.*s%s%.*s",
					 code && json_object_is_type(code, json_type_int) ? json_object_get_string(code) : "(no code)",
					 perps_utf8_cut(mt, 120), mt, dt[0] ? " " : "", perps_utf8_cut(dt, 80), dt);
		}
		ev->message = perps_strndup(ctx, msg, strlen(msg));
	}
	else if ((v = perps_json_get(root, "result")) != NULL)
	{
		/* a subscribe/unsubscribe answer */
		struct json_object *ch = perps_json_get(v, "channel");

		if (ch != NULL && json_object_is_type(ch, json_type_string) &&
			perps_json_string(ctx, ch, "channel", &ev->channel) != PERPS_OK)
			goto done;
	}
	else if ((v = perps_json_get(root, "method")) != NULL && json_object_is_type(v, json_type_string) &&
			 strcmp(json_object_get_string(v), "subscription") == 0)
	{
		/* channel data as JSON: what a connection without the SBE parameters gets */
		struct json_object *ch = perps_json_get(perps_json_get(root, "params"), "channel");
		const char *c = ch && json_object_is_type(ch, json_type_string) ? json_object_get_string(ch) : "";

		if (strncmp(c, "trades.", 7) == 0 || strncmp(c, "order_book.", 11) == 0 ||
			strncmp(c, "markets_summary", 15) == 0 || strncmp(c, "funding_data.", 13) == 0 ||
			strncmp(c, "bbo.", 4) == 0)
		{
			ev->is_error = true;
			snprintf(msg, sizeof(msg), "paradex sent %.60s as JSON: the ws_url needs ?sbeSchemaId=1&sbeSchemaVersion=1", c);
			ev->message = perps_strndup(ctx, msg, strlen(msg));
		}
	}
	else
		perps_fail(ctx, PERPS_ERR_SHAPE, "paradex text frame is neither a result, an error nor channel data");
done:
	json_object_put(root);
	return ctx->status;
}

static PerpsStatus
px_ws_parse(PerpsCtx *ctx, const char *data, size_t len, bool binary, PerpsStreamFrame *out)
{
	PerpsStreamEvent *ev;

	memset(out, 0, sizeof(*out));
	if (data == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex frame has no data");
	if (len > PX_WS_MAX_MESSAGE)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "paradex frame of %zu bytes is too large", len);
	ev = perps_ws_event_new(ctx);
	if (ev == NULL)
		return ctx->status;
	if (binary)
		px_ws_binary(ctx, (const unsigned char *) data, len, ev);
	else
		px_ws_text(ctx, data, len, ev);
	if (ctx->status != PERPS_OK)
		return ctx->status;
	out->events = ev;
	out->nevents = 1;
	return PERPS_OK;
}

static const PerpsStreamAdapter px_stream = {
	.quote = "USD",
	.book_depth = 0,			/* the deltas feed is full depth */
	.ping_message = NULL,		/* protocol pings from the server; lws answers */
	.ping_interval_s = 0,
	.max_message_bytes = PX_WS_MAX_MESSAGE,
	.subscribe = px_ws_subscribe,
	.kline_unsupported = "Paradex's WebSocket API has no candle channel.",
	.resync = px_ws_resync,
	.parse_frame = px_ws_parse,
	.seq_rule = perps_seq_snapshot_then_next,	/* deltas continue seq one by one */
};

const PerpsAdapter perps_adapter_paradex = {
	.name = "paradex",
	.native_symbol = px_native_symbol,
	.needs_markets = false,
	.symbol_ok = px_symbol_ok,
	.symbol_what = "a native symbol like BTC-USD-PERP",
	.open_body = px_open,
	.methods = {
		[PERPS_M_MARKETS] = {.build = px_build_markets, .parse = px_parse_markets},
		[PERPS_M_TICKER] = {.build = px_build_summary, .parse = px_parse_ticker},
		[PERPS_M_TICKERS] = {.build = px_build_tickers, .parse = px_parse_tickers},
		[PERPS_M_ORDERBOOK] = {.build = px_build_orderbook, .parse = px_parse_orderbook},
		[PERPS_M_FUNDING] = {.build = px_build_summary, .parse = px_parse_funding},
		[PERPS_M_FUNDING_HISTORY] = {.build = px_build_funding_history, .parse = px_parse_funding_history},
		[PERPS_M_OPEN_INTEREST] = {.build = px_build_summary, .parse = px_parse_open_interest},
		[PERPS_M_KLINES] = {.build = px_build_klines, .parse = px_parse_klines},
		[PERPS_M_TRADES] = {.build = px_build_trades, .parse = px_parse_trades},
	},
	.rate_limit = {.weight = 1500, .window_ms = 60000},
	.max_kline_page = PX_KLINE_SPAN,
	.max_funding_page = PX_PAGE,
	.max_trades_page = PX_TRADES_PAGE,
	.no_trades_history = NULL,	/* /v1/trades pages through any range */
	.stream = &px_stream,
};
