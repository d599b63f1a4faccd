/*-------------------------------------------------------------------------
 *
 * stream_frames.c
 *		A stream worker's frames into rows (see stream_int.h for the
 *		worker's parts): trades, with their continuity and the REST refetch
 *		of what the stream missed; tickers merged from their parts; funding.
 *
 * Trade continuity.  Where the venue numbers a market's trades one by one
 * (PerpsStreamAdapter.trade_ids_sequential: Binance's aggregate trade id),
 * the worker keeps the last id taken per market; a jump is a gap of known
 * ids.  Elsewhere a gap is known only by time: from the last trade taken
 * before the market's trade connection closed to the first one after it
 * reconnected.  Either is refetched by REST through the venue's trade
 * history (PERPS_M_TRADES, the method fetch_trades and the backfill page
 * through): by id from the first missing id while the venue pages by id,
 * by time over the gap otherwise, or, on a venue without trade history,
 * from its most recent trades (a venue whose streamed trades REST cannot
 * match, PerpsStreamAdapter.no_trade_refetch, has the gap recorded
 * instead).  One page per main loop iteration, so the
 * connections keep being read, within the venue's rate limit (http.h).
 * What the refetch cannot recover is recorded as a gap row: its range in
 * the venue's time, its first and last missing id where ids exist.
 *
 *-------------------------------------------------------------------------
 */
#include "stream_int.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "convert.h"
#include "guard.h"
#include "request.h"
#include "perps_stats.h"
#include "http.h"
#include "ratelimit.h"

static void
ticker_fields(const PerpsTicker *t, const char *f[STREAM_NTICKER])
{
	f[0] = t->last_price;
	f[1] = t->mark_price;
	f[2] = t->index_price;
	f[3] = t->best_bid_price;
	f[4] = t->best_bid_qty;
	f[5] = t->best_ask_price;
	f[6] = t->best_ask_qty;
	f[7] = t->volume_24h;
	f[8] = t->turnover_24h;
	f[9] = t->open_interest;
	f[10] = t->open_interest_notional;
	f[11] = t->price_change_24h;
	f[12] = t->price_change_pct;
	f[13] = t->high_24h;
	f[14] = t->low_24h;
}

/* Refetches waiting, oldest first; a gap that finds the queue full is recorded at once. */
#define STREAM_REFETCH_MAX 64
/* a refetch page that failed is tried again this many times, 1 s, 2 s, 4 s apart */
#define STREAM_REFETCH_TRIES 4
/*
 * A jump of more ids than this is not refetched by the worker (a thousand
 * pages and more, minutes of the venue's rate limit): it is recorded, and
 * perps_stats.backfill(..., '{trades}') can fetch it.
 */
#define STREAM_REFETCH_MAX_IDS 1000000

static StreamRefetch refetch_q[STREAM_REFETCH_MAX];
static int	refetch_n;

/* A trade id of a venue that numbers its trades: decimal digits, at most 18. */
static bool
trade_id_int(const char *s, int64 *out)
{
	int64		v = 0;
	int			n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++, n++)
	{
		if (*s < '0' || *s > '9' || n >= 18)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

/* a trade taken: its qty times mult (contracts to base units; NULL or "": none) */
static void
trade_row(const StreamMarket *m, int64 ts_us, const char *trade_id, const char *price, const char *qty,
		  const char *mult, bool is_buy)
{
	stream_add_trade(m->market_id, ts_us, trade_id, price, qty, mult && mult[0] ? mult : NULL, is_buy);
}

/* What a refetch could not recover: a gap row (and the count). */
static void
refetch_gap(const StreamMarket *m, const StreamRefetch *r, const char *why)
{
	worker_status.trade_gaps++;
	if (r->by_id)
	{
		int64		first = Max(r->from_id, r->got_last_id + 1);
		char		a[24];
		char		b[24];

		snprintf(a, sizeof(a), "%lld", (long long) first);
		snprintf(b, sizeof(b), "%lld", (long long) r->to_id);
		stream_add_gap(m->market_id, stream_ts(r->got_last_id >= r->from_id ? r->got_last_us : r->since_us),
					   stream_ts(r->until_us), a, b,
					   "%s trades: ids %lld..%lld (%lld trades) missing: %s",
					   m->native, (long long) first, (long long) r->to_id,
					   (long long) (r->to_id - first + 1), why);
	}
	else
		stream_add_gap(m->market_id, stream_ts(r->since_us), stream_ts(r->until_us), NULL, NULL,
					   "%s trades between the two times (the venue's) missing: %s", m->native, why);
}

/*
 * A gap to refetch: ids from_id..to_id (by_id), else the trades between
 * since_us and until_us, venue times of the last trade taken before it and
 * the first after it.
 */
static void
refetch_queue(StreamMarket *m, bool by_id, int64 from_id, int64 to_id, int64 since_us, int64 until_us)
{
	StreamRefetch r;

	memset(&r, 0, sizeof(r));
	r.market = (int) (m - stream_markets);
	r.by_id = by_id;
	r.from_id = from_id;
	r.to_id = to_id;
	r.since_us = since_us;
	r.until_us = Max(until_us, since_us);
	r.next_id = from_id;
	r.page_since_us = since_us;
	r.got_last_id = from_id - 1;
	r.got_last_us = since_us;
	if (!by_id && stream_sa->no_trade_refetch != NULL)
	{
		refetch_gap(m, &r, stream_sa->no_trade_refetch);
		return;
	}
	if (by_id && to_id - from_id >= STREAM_REFETCH_MAX_IDS)
	{
		refetch_gap(m, &r, "too many to refetch while streaming; perps_stats.backfill can fetch them");
		return;
	}
	if (refetch_n == STREAM_REFETCH_MAX)
	{
		refetch_gap(m, &r, "more gaps than the refetch queue holds");
		return;
	}
	refetch_q[refetch_n++] = r;
	worker_status.refetches++;
}

static void
handle_trades(StreamMarket *m, const PerpsStreamEvent *ev)
{
	for (int i = 0; i < ev->ntrades; i++)
	{
		const PerpsTrade *t = &ev->trades[i];

		if (!stream_decimal_storable(t->price) || !stream_decimal_storable(t->qty))
		{
			worker_status.parse_errors++;
			continue;
		}
		if (stream_sa->trade_ids_sequential)
		{
			int64		id;

			if (!trade_id_int(t->trade_id, &id))
			{
				worker_status.parse_errors++;
				stream_set_error("%s trade id \"%.40s\" is not a sequence number", m->native, t->trade_id);
				continue;
			}
			if (m->have_last_trade)
			{
				if (id <= m->last_trade_id)
					continue;	/* taken already (a venue that replays) */
				if (id > m->last_trade_id + 1)
					refetch_queue(m, true, m->last_trade_id + 1, id - 1, m->last_trade_us, t->ts_us);
			}
			m->last_trade_id = id;
			m->trades_interrupted = false;
		}
		else if (m->trades_interrupted)
		{
			/*
			 * The first trade newer than the last one taken ends the gap (a venue
			 * may first send recent trades again on a new subscription).
			 */
			if (!m->have_last_trade)
				m->trades_interrupted = false;
			else if (t->ts_us > m->last_trade_us)
			{
				refetch_queue(m, false, 0, 0, m->last_trade_us, t->ts_us);
				m->trades_interrupted = false;
			}
		}
		m->have_last_trade = true;
		m->last_trade_us = Max(m->last_trade_us, t->ts_us);
		trade_row(m, t->ts_us, t->trade_id, t->price, t->qty, m->contract_size, t->is_buy);
	}
}

/* The connection conn closed: the trades of its markets are interrupted until it is back. */
void
stream_trades_interrupted(int conn)
{
	for (int i = 0; i < stream_nmarkets; i++)
		if (stream_markets[i].trade_conn == conn)
			stream_markets[i].trades_interrupted = true;
}

bool
stream_refetch_pending(void)
{
	return refetch_n > 0;
}

static void
refetch_pop(void)
{
	memmove(&refetch_q[0], &refetch_q[1], sizeof(StreamRefetch) * (refetch_n - 1));
	refetch_n--;
}

/* Every refetch waiting is given up (the markets changed, the worker stops): recorded as gaps. */
void
stream_refetch_give_up(const char *why)
{
	while (refetch_n > 0)
	{
		if (refetch_q[0].market < stream_nmarkets)
			refetch_gap(&stream_markets[refetch_q[0].market], &refetch_q[0], why);
		refetch_pop();
	}
}

/*
 * One page of the oldest refetch: its trades go to the buffer like the
 * stream's; the refetch ends when it reached the first trade after the gap,
 * when the venue has no more, or when its pages kept failing (a gap row
 * then says what is still missing).
 */
void
stream_refetch_step(void)
{
	StreamRefetch *r;
	StreamMarket *m;
	PerpsFetchJob job;
	MemoryContext cxt;
	MemoryContext old;
	TimestampTz now = GetCurrentTimestamp();
	bool		history = stream_adapter->no_trades_history == NULL;
	bool		done = false;
	char		cursor[24];
	int64		max_id = -1;
	int64		oldest_us = PERPS_TS_NONE;
	const char *mult;

	if (refetch_n == 0)
		return;
	r = &refetch_q[0];
	if (now < r->next_page_at)
		return;
	/*
	 * The venue's rate limit is shared (ratelimit.h): with less than a
	 * twentieth of it left in the window, the page is put off rather than
	 * waited for, so that the connections keep being read meanwhile.
	 */
	if (perps_rate_headroom(stream_adapter->name, stream_adapter->rate_limit.weight,
							stream_adapter->rate_limit.window_ms, perps_now_ms()) <
		stream_adapter->rate_limit.weight / 20)
	{
		r->next_page_at = TimestampTzPlusMilliseconds(now, 250);
		return;
	}
	if (r->market >= stream_nmarkets)
	{
		refetch_pop();
		return;
	}
	m = &stream_markets[r->market];

	memset(&job, 0, sizeof(job));
	job.exchange = worker_status.exchange;
	job.symbol = m->symbol;
	job.method = PERPS_M_TRADES;
	job.limit = stream_adapter->max_trades_page;
	job.since_us = job.until_us = PERPS_TS_NONE;
	if (r->by_id)
	{
		/* from the first id still missing; the time range tells the venue where to stop */
		snprintf(cursor, sizeof(cursor), "%lld", (long long) r->next_id);
		job.cursor = cursor;
		job.since_us = r->since_us;
		job.until_us = r->until_us;
	}
	else if (history)
	{
		job.since_us = r->page_since_us;
		job.until_us = r->until_us;
		job.cursor = r->cursor[0] ? r->cursor : NULL;
	}
	/* else: a venue without trade history has its most recent trades */

	cxt = AllocSetContextCreate(stream_cxt, "perps_stats stream refetch", ALLOCSET_DEFAULT_SIZES);
	if (!stream_fetch(&job, cxt, "perps_stats stream: refetching missed trades"))
	{
		r->failures++;
		if (r->failures >= STREAM_REFETCH_TRIES)
		{
			char		why[300];

			snprintf(why, sizeof(why), "the refetch failed %d times: %s", r->failures, worker_status.last_error);
			refetch_gap(m, r, why);
			refetch_pop();
		}
		else
			r->next_page_at = TimestampTzPlusMilliseconds(now, 1000L << (r->failures - 1));
		MemoryContextDelete(cxt);
		return;
	}
	r->failures = 0;
	r->pages++;
	old = MemoryContextSwitchTo(cxt);
	mult = job.result.qty_mult;
	for (int i = 0; i < job.result.n; i++)
	{
		const PerpsTrade *t = &job.result.u.trades[i];

		if (oldest_us == PERPS_TS_NONE || t->ts_us < oldest_us)
			oldest_us = t->ts_us;
		if (!stream_decimal_storable(t->price) || !stream_decimal_storable(t->qty))
			continue;
		if (r->by_id)
		{
			int64		id;

			if (!trade_id_int(t->trade_id, &id))
				continue;
			max_id = Max(max_id, id);
			if (id < r->from_id || id > r->to_id)
				continue;
			if (id > r->got_last_id)
			{
				r->got_last_id = id;
				r->got_last_us = t->ts_us;
			}
		}
		else if (t->ts_us < r->since_us || t->ts_us > r->until_us)
			continue;
		trade_row(m, t->ts_us, t->trade_id, t->price, t->qty, mult ? mult : m->contract_size, t->is_buy);
		r->got++;
		worker_status.trades_refetched++;
	}
	MemoryContextSwitchTo(old);

	if (r->by_id)
	{
		if (max_id >= r->to_id || job.result.n == 0 || !job.result.has_more || max_id < r->next_id)
			done = true;
		else
			r->next_id = max_id + 1;
		if (done && r->got_last_id < r->to_id)
			refetch_gap(m, r, job.result.n == 0 ? "the venue has no such trades" :
						"the venue's history stops short of them");
	}
	else if (!history)
	{
		/* one page of the most recent trades: does it reach back to the gap's start? */
		done = true;
		if (job.result.n >= job.limit && (oldest_us == PERPS_TS_NONE || oldest_us > r->since_us))
		{
			StreamRefetch rest = *r;

			rest.until_us = oldest_us == PERPS_TS_NONE ? r->until_us : Min(oldest_us, r->until_us);
			refetch_gap(m, &rest, "older than the venue's most recent trades, the only ones it serves");
		}
	}
	else if (!job.result.has_more || (job.result.n == 0 && job.result.next_since_us == PERPS_TS_NONE))
		done = true;
	else if (job.result.next_since_us != PERPS_TS_NONE)
	{
		if (job.result.next_since_us <= r->page_since_us || job.result.next_since_us > r->until_us)
			done = true;
		else
		{
			r->page_since_us = job.result.next_since_us;
			r->cursor[0] = '\0';
		}
	}
	else if (job.result.next_cursor != NULL && strlen(job.result.next_cursor) < sizeof(r->cursor) &&
			 strcmp(job.result.next_cursor, r->cursor) != 0)
		strlcpy(r->cursor, job.result.next_cursor, sizeof(r->cursor));
	else
		done = true;
	if (done)
	{
		if (r->got > 0 || r->by_id)
			stream_add_event(m->market_id, "info", stream_ts(r->since_us), stream_ts(r->until_us),
							 "%s trades: %lld refetched by REST in %d page(s)%s",
							 m->native, (long long) r->got, r->pages,
							 r->by_id ? " by id" : history ? " by time" : " from the most recent");
		refetch_pop();
	}
	MemoryContextDelete(cxt);
}

/*
 * The funding rate of the period ending at the next funding time: a row
 * when it changed (the store keeps the newest of a batch, and a newer
 * observation replaces the stored one).
 */
static void
add_funding(StreamMarket *m, const PerpsStreamEvent *ev, int64 funding_time_us)
{
	if (m->funding_time_us == funding_time_us && strcmp(m->funding_rate, ev->funding_rate) == 0)
		return;
	if (strlen(ev->funding_rate) > PERPS_DECIMAL_MAX_LEN)
		return;
	m->funding_time_us = funding_time_us;
	strlcpy(m->funding_rate, ev->funding_rate, sizeof(m->funding_rate));
	stream_add_funding(m->market_id, funding_time_us, ev->funding_rate,
					   ev->funding_interval_hours ? ev->funding_interval_hours :
					   m->funding_hours[0] ? m->funding_hours : NULL);
}

static void
handle_ticker(StreamMarket *m, const PerpsStreamEvent *ev)
{
	const char *f[STREAM_NTICKER + 1];
	const char *cs;
	int			k0;

	ticker_fields(&ev->ticker, f);
	f[STREAM_TICK_PREV] = ev->prev_price_24h;
	for (int k = 0; k <= STREAM_NTICKER; k++)
		if (!stream_decimal_storable(f[k]))
		{
			worker_status.parse_errors++;
			stream_set_error("%s ticker has an out-of-range decimal", m->native);
			return;
		}
	if (!stream_decimal_storable(ev->funding_rate) || !stream_decimal_storable(ev->funding_interval_hours))
	{
		worker_status.parse_errors++;
		stream_set_error("%s funding rate is out of range", m->native);
		return;
	}
	/*
	 * Quantities in base units: times the market's contract size, or the
	 * ticker's own where it names one (PerpsTicker.contract_size; "1": the
	 * venue sends these fields in base units already).
	 */
	cs = ev->ticker.contract_size ? ev->ticker.contract_size : m->contract_size;
	if (cs[0] != '\0' && !stream_decimal_storable(cs))
	{
		worker_status.parse_errors++;
		stream_set_error("%s ticker has a bad contract size", m->native);
		return;
	}
	f[4] = stream_qty_times(f[4], cs);
	f[6] = stream_qty_times(f[6], cs);
	f[7] = stream_qty_times(f[7], cs);
	f[9] = stream_qty_times(f[9], cs);
	for (int k = 0; k <= STREAM_NTICKER; k++)
		if (f[k] && strlen(f[k]) > PERPS_DECIMAL_MAX_LEN)
		{
			worker_status.parse_errors++;
			stream_set_error("%s ticker has an out-of-range decimal", m->native);
			return;
		}

	/*
	 * A delta carries only what changed (Bybit): a new rate without its
	 * funding time is the rate of the period already known, while that
	 * period has not settled.
	 */
	if (ev->funding_rate && ev->next_funding_time_us != PERPS_TS_NONE)
		add_funding(m, ev, ev->next_funding_time_us);
	else if (ev->funding_rate && !ev->snapshot && m->funding_time_us > 0 &&
			 (ev->ts_us == PERPS_TS_NONE || ev->ts_us < m->funding_time_us))
		add_funding(m, ev, m->funding_time_us);

	/* only funding in this message: no ticker row */
	for (k0 = 0; k0 < STREAM_NTICKER; k0++)
		if (f[k0] != NULL)
			break;
	if (k0 == STREAM_NTICKER && f[STREAM_TICK_PREV] == NULL)
		return;

	/*
	 * A snapshot replaces the merged ticker; a delta changes the fields it
	 * has (venues that stream the ticker in parts send each part as a delta).
	 */
	if (ev->snapshot)
		memset(m->tick_present, 0, sizeof(m->tick_present));
	m->have_ticker = true;
	for (int k = 0; k <= STREAM_NTICKER; k++)
		if (f[k] != NULL)
		{
			strlcpy(m->tick[k], f[k], sizeof(m->tick[k]));
			m->tick_present[k] = true;
		}
	/* a venue that sends the price 24 h ago: the change follows the merged last price */
	if (m->tick_present[STREAM_TICK_PREV] && m->tick_present[0])
	{
		PerpsCtx	ctx;
		const char *chg;

		stream_frame_ctx_init(&ctx);
		chg = perps_decimal_sub(&ctx, m->tick[0], m->tick[STREAM_TICK_PREV]);
		if (chg != NULL && strlen(chg) <= PERPS_DECIMAL_MAX_LEN)
		{
			strlcpy(m->tick[STREAM_TICK_CHANGE], chg, sizeof(m->tick[STREAM_TICK_CHANGE]));
			m->tick_present[STREAM_TICK_CHANGE] = true;
		}
	}
	stream_add_ticker(m->market_id, ev->ts_us, m->tick, m->tick_present);
}

/*
 * A candle: the row of its interval and open time, replaced by each later
 * event of it (the store keeps a batch's last), so the closed candle is
 * the one that stays.  Volume in base units like every quantity.
 */
static void
handle_kline(StreamMarket *m, const PerpsStreamEvent *ev)
{
	const PerpsKline *k = &ev->kline;
	const char *vol;

	if (perps_interval_seconds(ev->kline_interval) == 0 || k->open == NULL || k->high == NULL ||
		k->low == NULL || k->close == NULL || k->close_time_us < k->open_time_us ||
		!stream_decimal_storable(k->open) || !stream_decimal_storable(k->high) ||
		!stream_decimal_storable(k->low) || !stream_decimal_storable(k->close) ||
		!stream_decimal_storable(k->volume) || !stream_decimal_storable(k->turnover))
	{
		worker_status.parse_errors++;
		stream_set_error("%s kline is not storable (interval, times or an out-of-range decimal)", m->native);
		return;
	}
	vol = k->volume && stream_sa->qty_in_contracts ? stream_qty_times(k->volume, m->contract_size) : k->volume;
	if (vol != NULL && strlen(vol) > PERPS_DECIMAL_MAX_LEN)
	{
		worker_status.parse_errors++;
		stream_set_error("%s kline volume is out of range", m->native);
		return;
	}
	stream_add_kline(m->market_id, ev->kline_interval, k, vol);
}

/* ---- the worker's own outage ---- */

/* the venue's time of the last message stored before this worker started; PERPS_TS_NONE: none */
static int64 outage_since_us = PERPS_TS_NONE;

static void
outage_read(void *arg)
{
	Oid			types[1] = {INT2OID};
	Datum		args[1] = {Int16GetDatum((int16) stream_exchange_id)};

	SPI_connect();
	if (SPI_execute_with_args("SELECT (extract(epoch FROM last_message_at) * 1000000)::int8 "
							  "FROM perps_stats.stream_progress WHERE exchange_id = $1",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading perps_stats.stream_progress failed");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			outage_since_us = DatumGetInt64(d);
	}
	SPI_finish();
}

/*
 * At start: where the venue's stream stopped being stored (a crash, a
 * restart of the cluster, a stop), so that the first message records the
 * outage.
 */
void
stream_outage_begin(void)
{
	(void) stream_in_xact(outage_read, NULL, "perps_stats stream: reading the last message stored",
						  "reading the last message stored");
	if (outage_since_us != PERPS_TS_NONE)
		stream_last_venue_us = outage_since_us;
}

/*
 * The first message after the start that is newer than the last one
 * stored (a venue may replay older ones on subscription): the outage, in
 * the venue's time, as a reconnect row.
 */
static void
outage_end(int64 first_us)
{
	if (outage_since_us == PERPS_TS_NONE || first_us == PERPS_TS_NONE || first_us <= outage_since_us)
		return;
	stream_add_event(0, "reconnect", stream_ts(outage_since_us), stream_ts(first_us),
					 "the stream worker started: no message was stored from the last one before (the worker stopped, crashed or the server restarted) to its first");
	outage_since_us = PERPS_TS_NONE;
}

/*
 * Hostile times (convert.h): an event with a time outside 2009-01-01 ..
 * now + 1 day is refused whole, counted as a parse error and recorded
 * (one ingest_events row a minute at most: a venue sending nothing else
 * must not flood the table).
 */
static bool
event_times_ok(const StreamMarket *m, const PerpsStreamEvent *ev)
{
	static TimestampTz last_recorded = 0;
	int64		now_us = perps_unix_now_us();
	int64		bad = PERPS_TS_NONE;

	if (ev->ts_us != PERPS_TS_NONE && !perps_event_time_ok(ev->ts_us, now_us))
		bad = ev->ts_us;
	else if (ev->kind == PERPS_EV_TICKER && ev->next_funding_time_us != PERPS_TS_NONE &&
			 !perps_event_time_ok(ev->next_funding_time_us, now_us))
		bad = ev->next_funding_time_us;
	else if (ev->kind == PERPS_EV_KLINE && !perps_event_time_ok(ev->kline.open_time_us, now_us))
		bad = ev->kline.open_time_us;
	else if (ev->kind == PERPS_EV_KLINE && !perps_event_time_ok(ev->kline.close_time_us, now_us))
		bad = ev->kline.close_time_us;
	for (int k = 0; bad == PERPS_TS_NONE && ev->kind == PERPS_EV_TRADES && k < ev->ntrades; k++)
		if (!perps_event_time_ok(ev->trades[k].ts_us, now_us))
			bad = ev->trades[k].ts_us;
	if (bad == PERPS_TS_NONE)
		return true;
	worker_status.parse_errors++;
	stream_set_error("%s: an event time outside 2009-01-01 .. now + 1 day (%lld µs since 1970), refused",
					 m->native, (long long) bad);
	if (GetCurrentTimestamp() >= TimestampTzPlusMilliseconds(last_recorded, 60000))
	{
		last_recorded = GetCurrentTimestamp();
		stream_add_event(m->market_id, "error", 0, 0,
						 "%s sent an event time outside 2009-01-01 .. now + 1 day (%lld µs since 1970): the event was refused, as are any more in the next minute (counted in parse_errors)",
						 m->native, (long long) bad);
	}
	return false;
}

void
stream_handle_frame(int conn, const char *data, size_t len, bool binary)
{
	PerpsCtx	ctx;
	PerpsStreamFrame frame;

	worker_status.messages++;
	MemoryContextReset(frame_cxt);
	stream_frame_ctx_init(&ctx);
	if ((stream_sa->parse_frame_on ? stream_sa->parse_frame_on(&ctx, conn, data, len, binary, &frame) :
		 stream_sa->parse_frame(&ctx, data, len, binary, &frame)) != PERPS_OK)
	{
		static TimestampTz last_recorded = 0;

		worker_status.parse_errors++;
		stream_set_error("bad frame: %s", ctx.errmsg);
		/* a venue that sends what cannot be read is told in ingest_events too, once a minute */
		if (GetCurrentTimestamp() >= TimestampTzPlusMilliseconds(last_recorded, 60000))
		{
			last_recorded = GetCurrentTimestamp();
			stream_add_event(0, "error", 0, 0,
							 "a frame of %zu bytes could not be read: %s (any more in the next minute are counted in parse_errors only)",
							 len, ctx.errmsg);
		}
		return;
	}
	for (int i = 0; i < frame.nevents; i++)
	{
		PerpsStreamEvent *ev = &frame.events[i];
		StreamMarket *m;

		if (ev->kind == PERPS_EV_CONTROL)
		{
			/* the greeting: now the venue takes the subscriptions */
			if (!ev->is_error)
				stream_conn_hello(conn);
			else
				stream_set_error("the venue refused a request: %s", ev->message ? ev->message : "");
			continue;
		}
		/* a venue numbering a connection's messages: every market's count, ours or not */
		if (ev->kind == PERPS_EV_BOOK && stream_sa->seq_per_connection && !stream_conn_book_seq(conn, ev))
			continue;			/* older than its connection's last: dropped */
		m = ev->native_symbol ? stream_market_by_native(ev->native_symbol) : NULL;
		if (m == NULL)
			continue;			/* not one of ours */
		if (!event_times_ok(m, ev))
			continue;
		outage_end(ev->ts_us);
		stream_conn_data(conn, ev->ts_us);
		switch (ev->kind)
		{
			case PERPS_EV_BOOK:
				m->book_conn = conn;
				stream_handle_book(m, ev);
				break;
			case PERPS_EV_TRADES:
				m->trade_conn = conn;
				handle_trades(m, ev);
				break;
			case PERPS_EV_TICKER:
				handle_ticker(m, ev);
				break;
			case PERPS_EV_KLINE:
				handle_kline(m, ev);
				break;
			default:
				break;
		}
	}
}

/*
 * Where the venue numbers its trades: the last trade stored of each market
 * within the last hour, so that the first trade streamed after the worker
 * (re)started shows the trades it missed while away, refetched like any
 * other gap.  In a transaction of its own; a failure only leaves the
 * markets without it (the status says why).
 */
static void
trades_resume_run(void *arg)
{
	SPI_connect();
	for (int i = 0; i < stream_nmarkets; i++)
	{
		StreamMarket *m = &stream_markets[i];
		Oid			types[1] = {INT4OID};
		Datum		args[1] = {Int32GetDatum(m->market_id)};

		if (SPI_execute_with_args("SELECT trade_id, (extract(epoch FROM ts) * 1000000)::int8 FROM perps_stats.trades "
								  "WHERE market_id = $1 AND ts > now() - interval '1 hour' ORDER BY ts DESC LIMIT 100",
								  1, types, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "reading perps_stats.trades failed");
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			char	   *tid = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
			bool		isnull;
			int64		ts_us = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
			int64		id;

			if (isnull || !trade_id_int(tid, &id))
				continue;
			if (!m->have_last_trade || id > m->last_trade_id)
			{
				m->have_last_trade = true;
				m->last_trade_id = id;
				m->last_trade_us = ts_us;
			}
		}
	}
	SPI_finish();
}

void
stream_trades_resume(void)
{
	if (stream_sa == NULL || !stream_sa->trade_ids_sequential || stream_nmarkets == 0)
		return;
	(void) stream_in_xact(trades_resume_run, NULL, "perps_stats stream: reading the last trades stored",
						  "reading the last trades stored");
}
