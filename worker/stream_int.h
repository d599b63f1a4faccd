/*-------------------------------------------------------------------------
 *
 * stream_int.h
 *		The parts of a stream worker (perps_stream_main), one job a file:
 *
 *		stream.c		the main loop, the venue's row and its markets, exit
 *		stream_conn.c	the connection set: one event loop over all of the
 *						venue's connections, each reconnected alone
 *		stream_frames.c	frames into rows: trades (with their continuity and
 *						REST refetch), tickers, funding
 *		stream_sync.c	local books: sequence checks, resyncs, snapshots
 *		stream_flush.c	buffered rows and their batched writes
 *		stream_coarse.c	the venue's coarser books for the snapshots
 *
 * A worker is one process with one thread: these globals are its state,
 * shared by the files above and by nothing else.
 *
 * Memory: stream_cxt holds the long-lived state (markets, the store);
 * the store's own context the buffered rows, reset after each successful flush;
 * frame_cxt one frame's parse, reset after each frame.  Local books and
 * the connections are malloc'd (plain C) and freed at exit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_STREAM_INT_H
#define PERPS_STREAM_INT_H

#include "postgres.h"

#include "perps_pg.h"			/* first: PostgreSQL's json_object vs json-c's */

#include "datatype/timestamp.h"
#include "utils/palloc.h"

#include "adapter.h"
#include "book_math.h"
#include "convert.h"
#include "guard.h"
#include "perps_stats.h"
#include "request.h"
#include "stream_book.h"
#include "store.h"
#include "stream_status.h"

#define STREAM_MAX_MARKETS 200
#define STREAM_REFRESH_MS 5000
#define STREAM_MARKETS_REFRESH_MS 300000
#define STREAM_BACKOFF_MIN_MS 1000
#define STREAM_BACKOFF_MAX_MS 32000
#define STREAM_FLUSH_RETRY_MS 1000
/* a full buffer that could not be written for this long is dropped (and recorded) */
#define STREAM_FLUSH_GIVE_UP_MS 60000
#define STREAM_RESYNC_TIMEOUT_MS 15000
/* REST book syncs of one market: at most one per this many ms */
#define STREAM_REST_SYNC_MS 1000
/* a venue's connection lifetime: reconnect this long before the venue's cut-off */
#define STREAM_LIFETIME_MARGIN_S 600
/* bound on buffered rows: ten batches, at least 10000 rows, at most a million (or one batch) */
#define stream_max_buffered() Max(Min(10 * perps_flush_rows, 1000000), Max(perps_flush_rows, 10000))
#define STREAM_NTICKER 15
#define STREAM_TICK_CHANGE 11		/* price_change_24h */
#define STREAM_TICK_PREV STREAM_NTICKER	/* merged too, not stored: the price 24 h ago */

/* Wait events shown in pg_stat_activity (PG_WAIT_EXTENSION class). */
#define STREAM_WAIT_BACKOFF PG_WAIT_EXTENSION
#define STREAM_WAIT_NETWORK PG_WAIT_EXTENSION

/* A refetch of missed trades by REST (stream_frames.c). */
typedef struct StreamRefetch
{
	int			market;			/* index in stream_markets */
	bool		by_id;			/* the venue numbers its trades: ids from_id..to_id are missing */
	int64		from_id;
	int64		to_id;
	int64		since_us;		/* venue time of the last trade taken before the gap */
	int64		until_us;		/* venue time of the first trade after it */
	int64		next_id;		/* by_id: the next id to ask for */
	int64		page_since_us;	/* by time: the next page's start */
	char		cursor[128];	/* by time: the venue's page token ("" none) */
	int			pages;
	int64		got;			/* trades refetched */
	int64		got_last_id;	/* by_id: the highest id refetched (from_id - 1: none) */
	int64		got_last_us;	/* by_id: its time (since_us: none) */
	TimestampTz next_page_at;	/* local clock: a failed page is tried again after this */
	int			failures;
} StreamRefetch;

typedef struct StreamMarket
{
	char		symbol[40];
	char		native[64];
	int32		market_id;
	/* the market's contract size when the venue streams contracts ("" otherwise) */
	char		contract_size[PERPS_DECIMAL_MAX_LEN + 1];
	/* markets.funding_interval_hours, for funding rows whose stream does not say ("" unknown) */
	char		funding_hours[PERPS_DECIMAL_MAX_LEN + 1];
	PerpsLocalBook book;		/* in the venue's units */
	int			book_conn;		/* the connection its book comes on; -1: none yet */
	TimestampTz next_rest_sync;	/* rest_snapshot venues: earliest next REST book */
	/* the last funding rate written */
	int64		funding_time_us;
	char		funding_rate[PERPS_DECIMAL_MAX_LEN + 1];
	int64		stored_seq;		/* seq of the last stored snapshot */
	int64		stored_ts_us;	/* and its time: a venue whose snapshots all carry one seq
								 * (GRVT: 0) is told apart by time */
	TimestampTz next_store;		/* local clock */
	/* a gap waiting for its resync */
	bool		resyncing;
	TimestampTz resync_sent;
	int64		gap_first;
	int64		gap_last;
	int64		gap_from_us;	/* venue time of the last good update */
	bool		gap_crossed;	/* resync because the book crossed, not a gap */
	bool		resync_reconnect;	/* resync by a new book connection, due (no resync()) */
	/* merged ticker */
	bool		have_ticker;
	bool		tick_present[STREAM_NTICKER + 1];
	char		tick[STREAM_NTICKER + 1][PERPS_DECIMAL_MAX_LEN + 1];
	/* trade continuity */
	int			trade_conn;		/* the connection its trades come on; -1: none yet */
	bool		have_last_trade;
	int64		last_trade_id;	/* sequential venues: the highest id taken */
	int64		last_trade_us;	/* venue time of the last trade taken */
	bool		trades_interrupted; /* its trade connection closed since */
	TimestampTz trim_recorded;	/* the last book trim recorded */
	/*
	 * A venue whose coarser books are each market's own (book_step_param):
	 * the names of the market's resolutions, nbook_res of them (from
	 * markets.book_steps; 1 and an unnamed book when they are unknown).
	 */
	int			nbook_res;
	char		book_labels[PERPS_MAX_BOOK_RESOLUTIONS][PERPS_BOOK_LABEL_MAX];
} StreamMarket;

/* stream_coarse.c: the coarser books a snapshot of m needs (books[0] the streamed one); returns the count */
extern int	stream_coarse_books(StreamMarket *m, PerpsNumBook *books);
/* stream_coarse.c: m's resolutions from markets.book_steps as text ("{0.1,1,10}"; NULL: unknown) */
extern void stream_coarse_steps(StreamMarket *m, const char *steps);
/* stream_coarse.c: the names of m's resolutions (what the resolution columns store), into buf */
extern const char *const *stream_coarse_labels(const StreamMarket *m, const char **buf);

/* stream.c: the venue, its markets, the status */
extern int32 stream_exchange_id;
extern const PerpsAdapter *stream_adapter;
extern const PerpsStreamAdapter *stream_sa;
extern char stream_url[1024];
extern char stream_rest_url[1024];
extern char stream_aux_url[1024];	/* "": the venue row has none */
extern char stream_param[NAMEDATALEN];	/* the row's adapter_param; "": none */
/* the intervals of perps_stats.stream_kline_intervals that the venue streams */
extern const char *stream_kline_intervals[PERPS_KLINE_MAX];
extern int	stream_nkline_intervals;
extern StreamMarket *stream_markets;
extern int	stream_nmarkets;
extern PerpsStreamStatus worker_status;
extern MemoryContext stream_cxt;
extern MemoryContext frame_cxt;

extern void stream_set_state(const char *state);
extern void stream_set_error(const char *fmt,...) pg_attribute_printf(1, 2);
extern void stream_publish(void);
extern void stream_frame_ctx_init(PerpsCtx *ctx);
extern TimestampTz stream_ts(int64 unix_us);
extern int64 stream_now_unix_us(void);
extern StreamMarket *stream_market_by_native(const char *native);
extern bool stream_in_xact(void (*fn) (void *arg), void *arg, const char *activity, const char *what);
extern bool stream_fetch(PerpsFetchJob *job, MemoryContext cxt, const char *activity);

/* stream_flush.c: the batch (store.h), and what adds to it */
extern PerpsStore *stream_store;
extern int64 stream_last_venue_us;	/* the venue's time of the newest message taken */
extern bool stream_decimal_storable(const char *s);
extern void stream_add_trade(int32 market_id, int64 ts_us, const char *trade_id, const char *price,
							 const char *qty, const char *qty_mult, bool is_buy);
extern void stream_add_ticker(int32 market_id, int64 ts_us, char f[][PERPS_DECIMAL_MAX_LEN + 1],
							  const bool *present);
extern void stream_add_funding(int32 market_id, int64 funding_time_us, const char *rate,
							   const char *interval_hours);
extern void stream_add_book(int32 market_id, int64 ts_us, const PerpsNumBook *book, int64 seq);
/* the streamed book (books[0]) and nbooks - 1 coarser ones of the venue (stream_coarse.c) */
extern void stream_add_books(int32 market_id, int64 ts_us, const PerpsNumBook *books, int nbooks, int64 seq,
							 const char *const *labels);
extern void stream_add_kline(int32 market_id, const char *interval, const PerpsKline *k, const char *volume);
extern void stream_add_event(int32 market_id, const char *kind, TimestampTz start, TimestampTz end,
							 const char *fmt,...) pg_attribute_printf(5, 6);
extern void stream_add_gap(int32 market_id, TimestampTz start, TimestampTz end,
						   const char *first_id, const char *last_id,
						   const char *fmt,...) pg_attribute_printf(6, 7);
extern int	stream_buffered_rows(void);
extern bool stream_flush(void);
extern bool stream_flush_due(TimestampTz now);
extern void stream_flush_or_record_loss(const char *why);

/* stream_conn.c */
extern void stream_conns_connect_due(TimestampTz now);
extern void stream_conns_service(void);
extern void stream_conns_check(TimestampTz now);
extern void stream_conns_close_all(const char *why);
extern bool stream_conns_any(void);
extern void stream_conns_drain(bool count_bytes);
extern void stream_conn_send(int conn, const PerpsWsMessage *msgs, int n);
extern void stream_conn_hello(int conn);
extern void stream_conn_data(int conn, int64 venue_us);
extern void stream_conn_restart(int conn, const char *why);
extern long stream_conns_wait_ms(TimestampTz now);
extern void stream_conns_memory_limit(void);

/* stream_frames.c */
extern void stream_handle_frame(int conn, const char *data, size_t len, bool binary);
extern void stream_trades_interrupted(int conn);
extern void stream_refetch_step(void);
extern bool stream_refetch_pending(void);
extern void stream_refetch_give_up(const char *why);
extern void stream_trades_resume(void);
extern void stream_outage_begin(void);

/* stream_sync.c */
extern const char *stream_qty_times(const char *qty, const char *contract_size);
extern void stream_handle_book(StreamMarket *m, const PerpsStreamEvent *ev);
extern bool stream_conn_book_seq(int conn, const PerpsStreamEvent *ev);
extern void stream_conn_book_seq_reset(int conn);
extern void stream_store_book(StreamMarket *m);
extern void stream_books_interrupted(int conn, int64 venue_us);
extern void stream_books_tick(TimestampTz now);

#endif							/* PERPS_STREAM_INT_H */
