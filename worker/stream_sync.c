/*-------------------------------------------------------------------------
 *
 * stream_sync.c
 *		A stream worker's local order books (see stream_int.h for the
 *		worker's parts): the venue's sequence rule applied to each update,
 *		a resync on a gap or a crossed book (by the stream itself, or from
 *		the REST book on rest_snapshot venues), the gap recorded once the
 *		book is back, and a snapshot stored every book_snapshot_interval
 *		with its liquidity_depth and slippage rows from the full book.
 *
 * A book belongs to the connection it comes on: when that connection
 * closes, its books are cleared (and a pending gap recorded), and the new
 * connection's first updates rebuild them; the venue's other connections
 * are not touched.
 *
 *-------------------------------------------------------------------------
 */
#include "stream_int.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "convert.h"
#include "guard.h"
#include "request.h"
#include "perps_stats.h"

/*
 * A quantity in base units: the venue's text times the market's contract
 * size when the venue streams contracts (else the text itself).  The
 * product lives in frame_cxt.
 */
const char *
stream_qty_times(const char *qty, const char *contract_size)
{
	MemoryContext old;
	char	   *out;

	if (qty == NULL || contract_size == NULL || contract_size[0] == '\0')
		return qty;
	old = MemoryContextSwitchTo(frame_cxt);
	out = DatumGetCString(DirectFunctionCall1(numeric_out, perps_qty(qty, contract_size)));
	MemoryContextSwitchTo(old);
	return out;
}

/* One side of the local book as numerics (in the current memory context). */
static void book_budget(StreamMarket *m);

static void
num_side(const StreamMarket *m, const PerpsLocalSide *side, PerpsNumSide *out)
{
	out->nlevels = side->n;
	out->price = palloc(sizeof(Numeric) * Max(side->n, 1));
	out->qty = palloc(sizeof(Numeric) * Max(side->n, 1));
	for (int i = 0; i < side->n; i++)
	{
		out->price[i] = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(side->levels[i].price),
															ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
		out->qty[i] = DatumGetNumeric(perps_qty(side->levels[i].qty,
													  m->contract_size[0] ? m->contract_size : NULL));
	}
}

/*
 * The book as it stands into the batch (the store computes its
 * liquidity_depth and slippage rows from all its levels).  A book the
 * store refuses (crossed, unsorted, bad values) adds nothing: that is
 * caught and said in the status; no resource is held here, only memory of
 * book_cxt, emptied after each book.
 */
void
stream_store_book(StreamMarket *m)
{
	static MemoryContext book_cxt = NULL;
	MemoryContext old;

	if (!m->book.valid || (m->book.seq == m->stored_seq && m->book.ts_us == m->stored_ts_us))
		return;
	if (book_cxt == NULL)
		book_cxt = AllocSetContextCreate(stream_cxt, "perps_stats stream book", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(book_cxt);
	PG_TRY();
	{
		PerpsNumBook books[PERPS_MAX_RESOLUTIONS];
		int			nbooks;
		const char *lbuf[PERPS_MAX_BOOK_RESOLUTIONS + 1];

		num_side(m, &m->book.bids, &books[0].bids);
		num_side(m, &m->book.asks, &books[0].asks);
		/* where the venue serves coarser books and this one falls short of 100 bps */
		nbooks = stream_coarse_books(m, books);
		stream_add_books(m->market_id, m->book.ts_us, books, nbooks, m->book.seq,
						 stream_coarse_labels(m, lbuf));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(stream_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		stream_set_error("%s book not stored: %s", m->native, edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	MemoryContextReset(book_cxt);
	m->stored_seq = m->book.seq;
	m->stored_ts_us = m->book.ts_us;
}

static void
start_resync(StreamMarket *m, const PerpsStreamEvent *ev, bool crossed)
{
	PerpsCtx	ctx;
	PerpsWsMessage msgs[PERPS_WS_MAX_MESSAGES];
	int			n;

	m->resyncing = true;
	m->resync_sent = GetCurrentTimestamp();
	m->gap_crossed = crossed;
	/* a gap: the ids between the book and this update; crossed: this update */
	m->gap_first = crossed ? ev->seq : m->book.seq + 1;
	m->gap_last = crossed ? ev->seq : (ev->has_first_seq ? ev->first_seq : ev->seq) - 1;
	m->gap_from_us = m->book.ts_us;
	perps_local_book_clear(&m->book);
	if (!crossed)
		worker_status.gaps++;
	worker_status.resyncs++;
	if (stream_sa->rest_snapshot)
		return;					/* the next update fetches the REST book */
	if (stream_sa->resync == NULL)
	{
		/* the venue's snapshot comes on a new connection: stream_books_tick reconnects */
		m->resync_reconnect = true;
		return;
	}

	stream_frame_ctx_init(&ctx);
	n = stream_sa->resync(&ctx, m->native, msgs);
	if (n < 0)
		stream_set_error("cannot resync %s: %s", m->native, ctx.errmsg);
	else
		stream_conn_send(stream_sa->connections_for && m->book_conn >= 0 ? m->book_conn :
						 stream_sa->nconnections > 0 ? stream_sa->book_connection : 0, msgs, n);
}

/*
 * A resync is done: the gap (or the crossed book) it repaired is recorded,
 * from the last good update to the book's new start, in the venue's time.
 */
static void
book_gap_recorded(StreamMarket *m, TimestampTz from, TimestampTz to, const char *how, int64 at)
{
	char		first[24];
	char		last[24];

	snprintf(first, sizeof(first), "%lld", (long long) m->gap_first);
	snprintf(last, sizeof(last), "%lld", (long long) m->gap_last);
	if (m->gap_crossed)
		stream_add_event(m->market_id, "resync", from, to,
						 "%s book crossed at update id %lld; resynced %sat update id %lld",
						 m->native, (long long) m->gap_first, how, (long long) at);
	else if (m->gap_last < m->gap_first)
	{
		/* a seq_rule that takes an update older than the book for a gap: no id range is lost */
		stream_add_gap(m->market_id, from, to, NULL, NULL,
					   "%s book: update id %lld came after %lld, out of order; resynced %sat update id %lld",
					   m->native, (long long) m->gap_last + 1, (long long) m->gap_first - 1, how, (long long) at);
	}
	else
		stream_add_gap(m->market_id, from, to, first, last,
					   "%s book: update ids %lld..%lld lost; resynced %sat update id %lld",
					   m->native, (long long) m->gap_first, (long long) m->gap_last, how, (long long) at);
	m->resyncing = false;
}

static bool
apply_levels(PerpsLocalBook *b, const PerpsStreamEvent *ev)
{
	/* decimal_storable: a level numeric_in would refuse must not poison a batch later */
	for (int i = 0; i < ev->nbids; i++)
		if (!stream_decimal_storable(ev->bids[i].price) || !stream_decimal_storable(ev->bids[i].qty))
			return false;
	for (int i = 0; i < ev->nasks; i++)
		if (!stream_decimal_storable(ev->asks[i].price) || !stream_decimal_storable(ev->asks[i].qty))
			return false;
	/* a venue that bounds each side of a delta: what lies outside goes first */
	for (int s = 0; s < 2; s++)
		if (ev->has_span[s] && !perps_local_book_keep_span(b, s == 0, ev->span_from[s], ev->span_to[s]))
			return false;
	return perps_local_book_apply(b, true, ev->bids, ev->nbids) &&
		perps_local_book_apply(b, false, ev->asks, ev->nasks);
}

/* a + b of two valid decimal texts (frame_cxt), NULL when too long */
static const char *
decimal_add(PerpsCtx *ctx, const char *a, const char *b)
{
	const char *negb = b[0] == '-' ? b + 1 : psprintf("-%s", b[0] == '+' ? b + 1 : b);

	return perps_decimal_sub(ctx, a, negb);
}

/*
 * A delta whose quantities are changes (PerpsStreamEvent.qty_is_change):
 * each level's new quantity is the book's plus the change, 0 deletes it; a
 * level that would fall below 0 (or that the book cannot take) means the
 * book missed an update: false, and the caller resyncs.
 */
static bool
apply_changes(PerpsLocalBook *b, const PerpsStreamEvent *ev)
{
	PerpsCtx	ctx;

	stream_frame_ctx_init(&ctx);
	for (int side = 0; side < 2; side++)
	{
		const PerpsLevel *lv = side == 0 ? ev->bids : ev->asks;
		int			n = side == 0 ? ev->nbids : ev->nasks;

		for (int i = 0; i < n; i++)
		{
			const char *cur;
			const char *q;

			if (!stream_decimal_storable(lv[i].price) || !stream_decimal_storable(lv[i].qty) ||
				lv[i].price == NULL || lv[i].qty == NULL)
				return false;
			cur = perps_local_book_qty(b, side == 0, lv[i].price);
			q = cur ? decimal_add(&ctx, cur, lv[i].qty) : lv[i].qty;
			if (q == NULL || (q[0] == '-' && !perps_decimal_is_zero(q)) ||
				!perps_local_book_set(b, side == 0, lv[i].price, q[0] == '-' ? "0" : q))
				return false;
		}
	}
	return true;
}

/*
 * rest_snapshot venues: the book from the venue's REST order book (in its
 * own transaction; HTTP as fetch_orderbook does it), its seq the
 * snapshot's update id.  False when it could not be had (the status says
 * why; the next update tries again after STREAM_REST_SYNC_MS).
 */
static bool
book_sync_rest(StreamMarket *m)
{
	MemoryContext cxt = AllocSetContextCreate(stream_cxt, "perps_stats stream book sync",
											  ALLOCSET_DEFAULT_SIZES);
	PerpsFetchJob job;
	bool		ok;

	m->next_rest_sync = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STREAM_REST_SYNC_MS);
	perps_local_book_clear(&m->book);
	memset(&job, 0, sizeof(job));
	job.exchange = worker_status.exchange;
	job.symbol = m->symbol;
	job.method = PERPS_M_ORDERBOOK;
	job.depth = stream_sa->snapshot_depth;
	job.since_us = PERPS_TS_NONE;
	job.until_us = PERPS_TS_NONE;
	ok = stream_fetch(&job, cxt, "perps_stats stream: fetching a book snapshot");
	if (!ok)
	{
		char		why[PERPS_STREAM_ERR_LEN];

		strlcpy(why, worker_status.last_error, sizeof(why));
		stream_set_error("%s book snapshot failed: %s", m->native, why);
	}
	else
	{
		const PerpsBook *b = job.result.u.book;
		bool		good = b != NULL && b->has_seq;

		for (int i = 0; good && i < b->nbids; i++)
			good = stream_decimal_storable(b->bids[i].price) && stream_decimal_storable(b->bids[i].qty);
		for (int i = 0; good && i < b->nasks; i++)
			good = stream_decimal_storable(b->asks[i].price) && stream_decimal_storable(b->asks[i].qty);
		good = good && perps_local_book_apply(&m->book, true, b->bids, b->nbids) &&
			perps_local_book_apply(&m->book, false, b->asks, b->nasks);
		if (good && !perps_local_book_crossed(&m->book))
		{
			m->book.valid = true;
			m->book.seq = b->seq;
			/* the venue's time of the snapshot, else ours */
			m->book.ts_us = b->ts_us != PERPS_TS_NONE ? b->ts_us : stream_now_unix_us();
			book_budget(m);
		}
		else
		{
			perps_local_book_clear(&m->book);
			stream_set_error("%s book snapshot is unusable (no update id, a bad level, or crossed)", m->native);
			ok = false;
		}
	}
	MemoryContextDelete(cxt);
	return ok;
}

/*
 * A book update on a rest_snapshot venue.  With no book (the first update
 * of a connection, or after a gap) the book comes from REST; the update is
 * then judged against it: older ones are stale, the one that straddles the
 * snapshot's id continues it.
 */
static PerpsSeqCheck
book_check_rest(StreamMarket *m, const PerpsStreamEvent *ev)
{
	PerpsSeqCheck chk = stream_sa->seq_rule(m->book.valid, m->book.seq, ev);
	TimestampTz now;

	if (chk != PERPS_SEQ_GAP && chk != PERPS_SEQ_RESET)
		return chk;
	if (m->book.valid)
	{
		/* updates were lost: the gap is recorded once the book is back */
		start_resync(m, ev, false);
	}
	now = GetCurrentTimestamp();
	if (now < m->next_rest_sync || !book_sync_rest(m))
		return PERPS_SEQ_STALE;		/* dropped: the book is invalid until a sync succeeds */
	if (m->resyncing)
	{
		TimestampTz from = m->gap_from_us ? stream_ts(m->gap_from_us) : 0;
		/* the REST book's time can be older than the last update the stream gave */
		TimestampTz to = Max(from, stream_ts(m->book.ts_us));

		book_gap_recorded(m, from, to, "from the REST book ", m->book.seq);
	}
	chk = stream_sa->seq_rule(true, m->book.seq, ev);
	if (chk == PERPS_SEQ_GAP || chk == PERPS_SEQ_RESET)
	{
		/* the snapshot is older than the stream: try again (no data was lost) */
		perps_local_book_clear(&m->book);
		return PERPS_SEQ_STALE;
	}
	return chk;
}

void
stream_handle_book(StreamMarket *m, const PerpsStreamEvent *ev)
{
	/* seq_per_connection: stream_conn_book_seq found the event continues its connection */
	PerpsSeqCheck chk = stream_sa->rest_snapshot ? book_check_rest(m, ev) :
		stream_sa->seq_rule(m->book.valid,
							stream_sa->seq_per_connection && ev->seq > INT64_MIN ? ev->seq - 1 : m->book.seq, ev);

	switch (chk)
	{
		case PERPS_SEQ_STALE:
			return;
		case PERPS_SEQ_GAP:
			start_resync(m, ev, false);
			return;
		case PERPS_SEQ_RESET:
			perps_local_book_clear(&m->book);
			if (m->resyncing)
			{
				TimestampTz from = m->gap_from_us ? stream_ts(m->gap_from_us) : 0;
				TimestampTz to = stream_ts(ev->ts_us);

				book_gap_recorded(m, from, to, "", ev->seq);
			}
			break;
		case PERPS_SEQ_APPLY:
			break;
	}
	if (!(ev->qty_is_change && !ev->snapshot ? apply_changes(&m->book, ev) : apply_levels(&m->book, ev)))
	{
		worker_status.parse_errors++;
		stream_set_error("%s book update %lld has a level the local book cannot take", m->native, (long long) ev->seq);
		start_resync(m, ev, false);
		return;
	}
	m->book.valid = true;
	m->book.seq = ev->seq;
	m->book.ts_us = ev->ts_us;
	book_budget(m);
	if (perps_local_book_crossed(&m->book))
		start_resync(m, ev, true);
}


/*
 * seq_per_connection venues: the seq of the last book event of each
 * connection (any market's); reset when the connection closes.
 */
static int64 conn_book_seq[PERPS_WS_MAX_CONNECTIONS];
static bool conn_book_seq_set[PERPS_WS_MAX_CONNECTIONS];

/*
 * A book event on connection conn of a venue that numbers a connection's
 * messages: a jump past the previous + 1 lost messages of any market on
 * it, so every book that came on the connection is resynced (the gap is
 * recorded when it is back); false when the event is not newer than the
 * connection's last (dropped).
 */
bool
stream_conn_book_seq(int conn, const PerpsStreamEvent *ev)
{
	if (conn < 0 || conn >= PERPS_WS_MAX_CONNECTIONS)
		return true;
	if (conn_book_seq_set[conn] && ev->seq <= conn_book_seq[conn])
		return false;
	if (conn_book_seq_set[conn] && ev->seq > conn_book_seq[conn] + 1)
	{
		for (int i = 0; i < stream_nmarkets; i++)
		{
			StreamMarket *m = &stream_markets[i];

			if (m->book_conn == conn && m->book.valid && !m->resyncing)
				start_resync(m, ev, false);
		}
	}
	conn_book_seq[conn] = ev->seq;
	conn_book_seq_set[conn] = true;
	return true;
}

/* Connection conn is gone (closed, or replaced by a new configuration): its count starts again. */
void
stream_conn_book_seq_reset(int conn)
{
	if (conn >= 0 && conn < PERPS_WS_MAX_CONNECTIONS)
		conn_book_seq_set[conn] = false;
}

/*
 * The memory budget (perps_stats.stream_memory_limit): half of it for the
 * local books, shared by the markets, so a side may hold
 * budget / (markets x 2 x a level) levels.  A book past that loses its
 * deepest levels (they never count within 100 bps of a book that deep),
 * said once a minute per market in ingest_events.
 */
static void
book_budget(StreamMarket *m)
{
	size_t		books = (size_t) perps_stream_memory_limit * 1024 / 2;
	int			per_side = (int) Min(books / ((size_t) Max(stream_nmarkets, 1) * 2 * sizeof(PerpsLocalLevel)),
									 (size_t) PERPS_LOCAL_BOOK_MAX_LEVELS);
	int			dropped;
	TimestampTz now;

	if (m->book.bids.n <= per_side && m->book.asks.n <= per_side)
		return;
	dropped = perps_local_book_trim(&m->book, per_side);
	worker_status.book_trims++;
	now = GetCurrentTimestamp();
	if (now >= TimestampTzPlusMilliseconds(m->trim_recorded, 60000))
	{
		m->trim_recorded = now;
		stream_add_event(m->market_id, "info", stream_ts(m->book.ts_us), 0,
						 "%s book trimmed to its best %d levels a side (%d deeper levels dropped): "
						 "perps_stats.stream_memory_limit = %d kB gives the local books half, over %d market(s)",
						 m->native, per_side, dropped, perps_stream_memory_limit, stream_nmarkets);
	}
}

/*
 * The connection conn closed: the books that came on it are gone (the new
 * connection rebuilds them); a resync that was pending is recorded as what
 * was lost, up to venue_us (the last venue time seen on the connection).
 */
void
stream_books_interrupted(int conn, int64 venue_us)
{
	stream_conn_book_seq_reset(conn);
	for (int i = 0; i < stream_nmarkets; i++)
	{
		StreamMarket *m = &stream_markets[i];

		if (m->book_conn != conn)
			continue;
		m->resync_reconnect = false;
		if (m->resyncing && !stream_sa->rest_snapshot && stream_sa->resync == NULL)
		{
			/* the resync is this reconnection: recorded with the new connection's snapshot */
			m->resync_sent = GetCurrentTimestamp();
		}
		else if (m->resyncing)
		{
			char		first[24];
			char		last[24];

			snprintf(first, sizeof(first), "%lld", (long long) m->gap_first);
			snprintf(last, sizeof(last), "%lld", (long long) m->gap_last);
			if (m->gap_crossed)
				stream_add_event(m->market_id, "resync",
								 m->gap_from_us ? stream_ts(m->gap_from_us) : 0,
								 stream_ts(Max(venue_us, m->gap_from_us)),
								 "%s book crossed at update id %lld; the connection closed before the resync",
								 m->native, (long long) m->gap_first);
			else
				stream_add_gap(m->market_id, m->gap_from_us ? stream_ts(m->gap_from_us) : 0,
							   stream_ts(Max(venue_us, m->gap_from_us)), first, last,
							   "%s book: update ids %lld..%lld lost; the connection closed before the resync",
							   m->native, (long long) m->gap_first, (long long) m->gap_last);
			m->resyncing = false;
		}
		perps_local_book_clear(&m->book);
		m->next_rest_sync = 0;
	}
}

/*
 * Per market: a resync that got no snapshot in time restarts the book's
 * connection; a book due is stored.
 */
void
stream_books_tick(TimestampTz now)
{
	for (int i = 0; i < stream_nmarkets; i++)
	{
		StreamMarket *m = &stream_markets[i];

		if (m->resyncing && m->resync_reconnect && m->book_conn >= 0)
		{
			stream_conn_restart(m->book_conn, "book resync: the venue sends a new snapshot on a new connection");
			continue;
		}
		/* (rest_snapshot venues resync with the next update, not the venue) */
		if (m->resyncing && !stream_sa->rest_snapshot && m->book_conn >= 0 &&
			now >= TimestampTzPlusMilliseconds(m->resync_sent, STREAM_RESYNC_TIMEOUT_MS))
		{
			stream_conn_restart(m->book_conn, "a book resync got no snapshot in time");
			continue;
		}
		if (now >= m->next_store)
		{
			stream_store_book(m);
			m->next_store = TimestampTzPlusMilliseconds(now, (int64) perps_book_snapshot_interval * 1000);
		}
	}
}
