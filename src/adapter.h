/*-------------------------------------------------------------------------
 *
 * adapter.h
 *		The exchange adapter interface: one implementation per venue, in
 *		src/venues/<venue>.c, registered in src/adapter.c.
 *
 * An adapter knows a venue's documented REST endpoints and payloads and
 * nothing else.  For each method it builds the HTTP request(s) and parses
 * the response bodies into the plain structs below: a table of functions,
 * one entry per method (PerpsMethodImpl), which perps_adapter_build and
 * perps_adapter_parse dispatch through.  What two adapters would otherwise
 * each write (checks of JSON shapes, time and paging arithmetic, sort
 * orders) is in src/adapter.c, declared at the end of this file.  It never calls a
 * PostgreSQL API, never performs I/O and never aborts: every failure is a
 * status code with a message in the PerpsCtx.  That keeps the parsers
 * fuzzable outside the server and keeps json-c's memory from leaking
 * through an ereport longjmp.
 *
 * Numbers stay exact: every decimal is the venue's own JSON text (validated
 * by perps_json_decimal), converted to numeric by the caller.  Quantities
 * are in the venue's units; when those are contracts, the adapter sets
 * PerpsResult.qty_mult to the contract size and the caller multiplies.
 * Times are int64 microseconds since the Unix epoch.
 *
 * Memory: everything an adapter returns is allocated from the PerpsArena in
 * the context and lives as long as the arena (a memory context in the
 * server, a malloc list in the fuzzers).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_ADAPTER_H
#define PERPS_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perps_json.h"

/* The methods of the interface (the SQL fetch_* functions map onto them). */
typedef enum PerpsMethod
{
	PERPS_M_MARKETS = 0,
	PERPS_M_TICKER,
	PERPS_M_TICKERS,
	PERPS_M_ORDERBOOK,
	PERPS_M_FUNDING,
	PERPS_M_FUNDING_HISTORY,
	PERPS_M_OPEN_INTEREST,
	PERPS_M_KLINES,
	PERPS_M_TRADES,
	PERPS_M_COUNT
} PerpsMethod;

extern const char *const perps_method_names[PERPS_M_COUNT];

/* A market as the caller knows it (from perps_stats.markets). */
typedef struct PerpsMarketRef
{
	const char *symbol;			/* global: BTC */
	const char *native_symbol;	/* BTCUSDT, XBTUSDTM, BTC-USD-PERP, BTC, "1" */
	const char *contract_size;	/* decimal text; NULL means 1 */

	/*
	 * perps_stats.markets.book_steps: the price steps the venue's REST book
	 * of this market can be aggregated to, finest first, as decimal texts
	 * (Hibachi's orderbookGranularities); NULL (nbook_steps 0): unknown, or
	 * the venue's own resolutions (PerpsAdapter.book_resolutions) apply.
	 */
	const char *const *book_steps;
	int			nbook_steps;
} PerpsMarketRef;

/* What the caller asks for. */
typedef struct PerpsQuery
{
	const PerpsMarketRef *market;	/* NULL for markets / all tickers */
	int			depth;			/* order book levels per side wanted */
	const char *interval;		/* klines: 1m 5m 15m 30m 1h 4h 1d */
	int64_t		since_us;		/* inclusive; INT64_MIN when not given */
	int64_t		until_us;		/* inclusive; INT64_MIN when not given */
	int			limit;			/* rows wanted in this page; 0 = venue default */
	const char *cursor;			/* pagination token from a previous page */

	/*
	 * The venue row's adapter_param (perps_stats.exchanges), set by the
	 * caller for every query of that venue: what tells one venue of the
	 * adapter's API from its others (Hyperliquid: a HIP-3 DEX's name).
	 * NULL: none.  The adapter checks it before it reaches a request.
	 */
	const char *param;

	/*
	 * Order book: which of the venue's aggregations to ask for, 0 the
	 * finest, k >= 1 PerpsAdapter.book_resolutions[k], or for a venue with
	 * book_step_param the market's k-th step (market->book_steps[k]); the
	 * dispatcher refuses one the venue or the market does not serve
	 * (perps_market_book_resolutions).
	 */
	int			resolution;
} PerpsQuery;

#define PERPS_TS_NONE INT64_MIN

/* One HTTP request an adapter wants made. */
#define PERPS_MAX_REQUESTS 4
#define PERPS_PATH_MAX 1024
typedef struct PerpsRequest
{
	bool		post;			/* false: GET */
	char		path[PERPS_PATH_MAX];	/* documented path + query string */
	bool		aux;			/* path under the venue's aux_url (its second
								 * host), not its rest_url */
	char	   *body;			/* JSON body of a POST, arena-allocated */
	int			weight;			/* rate-limit weight of this request */
} PerpsRequest;

/* A response body handed to the parser. */
typedef struct PerpsBody
{
	const char *data;
	size_t		len;
	long		status;			/* HTTP status */
} PerpsBody;

/* ---- results ---- */

typedef struct PerpsMarket
{
	const char *symbol;
	const char *native_symbol;
	const char *base;
	const char *quote;
	const char *contract_size;	/* decimal texts below; NULL = unknown */
	const char *tick_size;
	const char *lot_size;
	const char *min_qty;
	const char *max_qty;
	const char *min_notional;
	const char *max_leverage;
	const char *funding_interval_hours;
	bool		active;
	/* the book's price steps, finest first (PerpsMarketRef.book_steps); NULL: none given */
	const char **book_steps;
	int			nbook_steps;
} PerpsMarket;

typedef struct PerpsTicker
{
	const char *native_symbol;
	int64_t		ts_us;
	const char *last_price;
	const char *mark_price;
	const char *index_price;
	const char *best_bid_price;
	const char *best_bid_qty;	/* qty-like: multiplied by qty_mult */
	const char *best_ask_price;
	const char *best_ask_qty;	/* qty-like */
	const char *volume_24h;		/* qty-like */
	const char *turnover_24h;
	const char *open_interest;	/* qty-like */
	const char *open_interest_notional;
	const char *price_change_24h;
	const char *price_change_pct;	/* a fraction: 0.01 = 1 % */
	const char *high_24h;
	const char *low_24h;
	const char *contract_size;	/* per-row multiplier for all-tickers calls; NULL = result's qty_mult */
} PerpsTicker;

typedef struct PerpsLevel
{
	const char *price;
	const char *qty;			/* qty-like */
} PerpsLevel;

typedef struct PerpsBook
{
	int64_t		ts_us;
	int64_t		seq;
	bool		has_seq;
	int			nbids;
	int			nasks;
	PerpsLevel *bids;			/* best first; the caller merges equal prices */
	PerpsLevel *asks;
} PerpsBook;

typedef struct PerpsTrade
{
	const char *trade_id;
	int64_t		ts_us;
	const char *price;
	const char *qty;			/* qty-like */
	bool		is_buy;			/* the taker's side */
} PerpsTrade;

typedef struct PerpsFunding
{
	int64_t		funding_time_us;
	const char *rate;
	const char *predicted_rate;
	int64_t		next_funding_time_us;	/* PERPS_TS_NONE when unknown */
	const char *interval_hours;
} PerpsFunding;

typedef struct PerpsOpenInterest
{
	int64_t		ts_us;
	const char *open_interest;	/* qty-like */
	const char *open_interest_notional;
} PerpsOpenInterest;

typedef struct PerpsKline
{
	int64_t		open_time_us;
	int64_t		close_time_us;
	const char *open;
	const char *high;
	const char *low;
	const char *close;
	const char *volume;			/* qty-like */
	const char *turnover;
	int64_t		trade_count;	/* -1 when the venue does not say */
} PerpsKline;

typedef struct PerpsResult
{
	PerpsMethod method;
	const char *qty_mult;		/* contract size for qty-like fields; NULL = 1 */
	int			n;				/* number of items in the array below */
	union
	{
		PerpsMarket *markets;
		PerpsTicker *tickers;
		PerpsBook  *book;		/* n = 1 */
		PerpsFunding *funding;
		PerpsOpenInterest *oi;
		PerpsKline *klines;
		PerpsTrade *trades;
	}			u;
	/* pagination: set when the venue has more in the asked range */
	bool		has_more;
	int64_t		next_since_us;	/* resume from here (PERPS_TS_NONE if n/a) */
	int64_t		next_until_us;	/* or page backwards to here */
	const char *next_cursor;	/* or with this token */
} PerpsResult;

/* A venue's documented public rate limit. */
typedef struct PerpsRateLimit
{
	int			weight;			/* weight allowed ... */
	int			window_ms;		/* ... per window */
} PerpsRateLimit;


/* ---- the stream side (WebSocket) ----
 *
 * Same rules as the REST side: plain C, no I/O, statuses instead of errors,
 * everything returned lives in the context's arena.  The stream worker owns
 * the connection; the adapter builds the text messages it sends and turns
 * each received frame into events.
 */

/* A message to send (text frame), arena-allocated. */
typedef struct PerpsWsMessage
{
	const char *data;
	size_t		len;
} PerpsWsMessage;

#define PERPS_WS_MAX_MESSAGES 256
#define PERPS_WS_MAX_CONNECTIONS 4

typedef enum PerpsStreamEventKind
{
	PERPS_EV_TRADES = 1,		/* trades of one market */
	PERPS_EV_BOOK,				/* a book snapshot or delta of one market */
	PERPS_EV_TICKER,			/* a full ticker (snapshot) or the changed fields (delta) */
	PERPS_EV_KLINE,				/* one candle of one market, open (so far) or closed */
	PERPS_EV_CONTROL			/* subscribe ack, pong, ...: counted, nothing to store */
} PerpsStreamEventKind;

typedef struct PerpsStreamEvent
{
	PerpsStreamEventKind kind;
	const char *native_symbol;
	const char *channel;		/* the venue's topic, for messages and resyncs */
	int64_t		ts_us;			/* the venue's time of the message */

	/* PERPS_EV_BOOK: levels with qty 0 delete the price in a delta */
	bool		snapshot;		/* book or ticker: replaces the state */
	bool		qty_is_change;	/* a book delta whose quantities are changes to add to the
								 * level's (Extended), not its new quantity: a level that
								 * comes to 0 is deleted, one below 0 means a lost update */
	int64_t		seq;			/* the venue's update id (see seq_rule) */
	int64_t		prev_seq;		/* the id the update follows, where the venue gives it */
	bool		has_prev_seq;
	int64_t		first_seq;		/* the first id the update covers (Binance U), where given */
	bool		has_first_seq;
	int			nbids;
	int			nasks;
	PerpsLevel *bids;
	PerpsLevel *asks;

	/*
	 * A delta that also says what prices a side still spans (Hibachi's
	 * startPrice and endPrice): with has_span[s] (0 bids, 1 asks), the
	 * side's levels priced outside [span_from[s], span_to[s]] (either
	 * order) are dropped before the levels apply; both NULL empties the
	 * side.  false (the default): no such bound.
	 */
	bool		has_span[2];
	const char *span_from[2];
	const char *span_to[2];

	/* PERPS_EV_TRADES */
	int			ntrades;
	PerpsTrade *trades;

	/* PERPS_EV_TICKER: absent fields are NULL (a delta changes only those given) */
	PerpsTicker ticker;
	const char *prev_price_24h;	/* the price 24 h ago, where the venue sends it instead of the
								 * change: the caller keeps it merged and derives the change */
	const char *funding_rate;	/* the current period's rate, where the stream gives it; the
								 * worker writes it to funding_rates (funding_time = the
								 * next funding time), NULL otherwise */
	int64_t		next_funding_time_us;	/* PERPS_TS_NONE when not given */
	const char *funding_interval_hours; /* NULL when not given */

	/*
	 * PERPS_EV_KLINE: the candle as the venue has it now; a later event of
	 * the same interval and open time replaces it (the closed one last).
	 * kline_interval is perps_stats' name (1m 5m 15m 30m 1h 4h 1d).
	 */
	PerpsKline	kline;
	const char *kline_interval;
	bool		kline_closed;	/* the venue says the candle is final */

	/* PERPS_EV_CONTROL */
	bool		is_error;		/* the venue refused something (bad subscribe, ...) */
	const char *message;		/* its text, for last_error */
} PerpsStreamEvent;

/* What one frame held. */
typedef struct PerpsStreamFrame
{
	int			nevents;
	PerpsStreamEvent *events;
} PerpsStreamFrame;

/*
 * The first steps of a JSON stream frame, the same on every venue: *out
 * cleared; a binary frame, one over max bytes, malformed JSON or anything
 * but an object refused (the messages name the venue); *root the parsed
 * object, which perps_ws_json_end releases.
 */
extern PerpsStatus perps_ws_json_begin(PerpsCtx *ctx, const char *venue, const char *data,
									   size_t len, bool binary, size_t max,
									   PerpsStreamFrame *out, struct json_object **root);

/* The last: root released (NULL is fine); a frame that failed has no events.  Returns ctx->status. */
extern PerpsStatus perps_ws_json_end(PerpsCtx *ctx, struct json_object *root, PerpsStreamFrame *out);

/* perps_ws_json_end of a frame that held the one event ev. */
extern PerpsStatus perps_ws_json_end_one(PerpsCtx *ctx, struct json_object *root, PerpsStreamEvent *ev,
										 PerpsStreamFrame *out);

/*
 * A stream frame's array of trade objects, at most max, into one
 * PERPS_EV_TRADES event per run of trades of one market (a venue whose
 * subscriptions are per market sends one run a frame): parse reads trade
 * i into t and sets *native to its market's native symbol.  Each event's
 * time is its first trade's.  what names the venue's frame in messages.
 */
typedef PerpsStatus (*PerpsWsTradeParse) (PerpsCtx *ctx, struct json_object *it, size_t i, PerpsTrade *t,
										  const char **native, void *arg);
extern PerpsStatus perps_ws_trade_runs(PerpsCtx *ctx, struct json_object *data, const char *what, size_t max,
									   PerpsWsTradeParse parse, void *arg, const char *channel,
									   PerpsStreamFrame *out);

/* A new stream event, with no time and no funding time yet (NULL when out of memory). */
extern PerpsStreamEvent *perps_ws_event_new(PerpsCtx *ctx);

/* How a book update relates to the local book (PerpsStreamAdapter.seq_rule). */
typedef enum PerpsSeqCheck
{
	PERPS_SEQ_APPLY = 0,		/* the next update: apply it */
	PERPS_SEQ_RESET,			/* a new snapshot: replace the book */
	PERPS_SEQ_STALE,			/* older than the book: ignore it */
	PERPS_SEQ_GAP				/* updates were lost: the book must be resynced */
} PerpsSeqCheck;

/*
 * Where a book update stands when the venue numbers its updates one by one:
 * at or before last_seq STALE, last_seq + 1 APPLY, later GAP.
 */
extern PerpsSeqCheck perps_seq_next(int64_t last_seq, const PerpsStreamEvent *ev);

/*
 * The seq_rule of venues whose book stream starts with a snapshot and goes
 * on with updates numbered one by one (Bybit, Paradex): a snapshot RESETs
 * the book; without a book an update is STALE (the snapshot is coming);
 * else perps_seq_next.
 */
extern PerpsSeqCheck perps_seq_snapshot_then_next(bool have_book, int64_t last_seq,
												  const PerpsStreamEvent *ev);

/*
 * The seq_rule of venues whose every book message is a whole book, with
 * no update chain (Hyperliquid, Pacifica; seq is the book's time): a newer
 * one RESETs the book, an older or equal one is STALE; there are no gaps.
 */
extern PerpsSeqCheck perps_seq_newer_whole_book(bool have_book, int64_t last_seq,
												const PerpsStreamEvent *ev);

/*
 * What one connection subscribes: the markets (native symbols) and the
 * kline intervals wanted (perps_stats.stream_kline_intervals, in perps_stats'
 * names), only those the venue's kline_channel serves.
 */
typedef struct PerpsStreamWant
{
	const char *const *natives;
	int			n;
	const char *const *intervals;
	int			nintervals;
	const char *param;			/* the venue row's adapter_param, as PerpsQuery.param; NULL: none */
} PerpsStreamWant;

typedef struct PerpsStreamAdapter
{
	/* Quote currency of a market created from the stream side (the REST markets call knows better). */
	const char *quote;

	/*
	 * Quantities (book levels, trades, qty-like ticker fields) come in
	 * contracts: the worker multiplies them by the market's contract_size
	 * (perps_stats.markets, from the REST markets call).  false: base units.
	 */
	bool		qty_in_contracts;

	/*
	 * The venue numbers each market's trades one by one (Binance's
	 * aggregate trade id): a jump in the ids streamed is a gap of known
	 * ids, and PERPS_M_TRADES with the decimal id as cursor pages on from
	 * it.  false: trade ids are not sequential, gaps are known by time.
	 */
	bool		trade_ids_sequential;

	/*
	 * Why the trades a stream missed cannot be refetched by REST, where
	 * they cannot (Nado: its streamed trades carry no id, its REST trades
	 * ids of their own and times in whole seconds, so a refetch would store
	 * trades twice): a gap by time is then recorded as it is found, one
	 * full sentence its reason.  NULL: refetched as the venue's trade
	 * history allows.
	 */
	const char *no_trade_refetch;

	/* Book depth subscribed per market. */
	int			book_depth;

	/* Application-level ping (NULL when the venue uses WebSocket pings) and its interval. */
	const char *ping_message;
	int			ping_interval_s;

	/* Longest message the venue sends, in bytes (a bound, not a promise). */
	size_t		max_message_bytes;

	/*
	 * Book sync from REST (Binance, KuCoin): with no book, and after a gap,
	 * the worker fetches the venue's REST order book (the adapter's
	 * PERPS_M_ORDERBOOK, snapshot_depth levels) and applies it as a
	 * snapshot whose seq is PerpsBook.seq; seq_rule then tells which
	 * updates are stale and which continue it.  false: the venue sends
	 * book snapshots on the stream itself (resync() asks for a new one).
	 */
	bool		rest_snapshot;
	int			snapshot_depth;

	/* The venue closes connections after this long (Binance: 24 h); the
	 * worker reconnects a little ahead of it.  0: no limit. */
	int			max_connection_s;

	/*
	 * A REST request each connection needs first (KuCoin's bullet-public
	 * token); NULL when none.  connect_build returns 1 and fills req (a
	 * path under the venue's rest_url), or a negative PerpsStatus.
	 * connect_parse reads the answer: the URL to open (ws_url is the
	 * configured one, for venues whose answer is relative to it) and the
	 * ping interval the venue asks for (0: ping_interval_s stays).
	 */
	int			(*connect_build) (PerpsCtx *ctx, PerpsRequest *req);
	PerpsStatus (*connect_parse) (PerpsCtx *ctx, const PerpsBody *body, const char *ws_url,
								  const char **url, int *ping_interval_ms);

	/*
	 * The venue's name of a kline interval on its stream (Bybit: "60" for
	 * 1h), NULL when its stream has no candles of that interval.  NULL
	 * function: the venue streams no candles (kline_unsupported says why).
	 */
	const char *(*kline_channel) (const char *interval);
	const char *kline_unsupported;

	/*
	 * The messages that subscribe trades, book, ticker and the klines of
	 * the wanted markets; returns how many (<= PERPS_WS_MAX_MESSAGES) or a
	 * negative PerpsStatus.
	 */
	int			(*subscribe) (PerpsCtx *ctx, const PerpsStreamWant *want, PerpsWsMessage *out);

	/*
	 * Venues that serve their streams on several paths under ws_url
	 * (Binance USD-M: the book on /public, trades, mark price and tickers
	 * on /market): one connection per path, opened, watched and closed
	 * together; subscribe_on() gives each connection its messages, and
	 * resync() messages go to book_connection.  nconnections 0: one
	 * connection to ws_url itself, subscribe().
	 */
	int			nconnections;	/* at most PERPS_WS_MAX_CONNECTIONS */
	const char *const *connection_paths;
	int			book_connection;
	int			(*subscribe_on) (PerpsCtx *ctx, int conn, const PerpsStreamWant *want,
								 PerpsWsMessage *out);

	/* The venue requires a User-Agent on the handshake (Extended); false: none is sent. */
	bool		user_agent;

	/*
	 * Venues that cap what one connection may subscribe (Pacifica: 20
	 * subscriptions a channel): how many connections to ws_url itself
	 * nmarkets markets with nintervals kline intervals need (more than
	 * PERPS_WS_MAX_CONNECTIONS: the worker says it cannot).  Connection k
	 * gets subscribe_on(k)'s messages, and a market's resync goes to the
	 * connection its book comes on.  NULL: nconnections above decides.
	 */
	int			(*connections_for) (int nmarkets, int nintervals);

	/*
	 * The venue greets a new connection (KuCoin's welcome) and takes
	 * requests only after that: the subscribe messages wait for the
	 * connection's first control event.
	 */
	bool		await_hello;

	/*
	 * The messages that make the venue send a fresh book snapshot for one
	 * market (Bybit: unsubscribe and subscribe its book topic again);
	 * NULL for rest_snapshot venues, and for venues that send a snapshot
	 * only on a new connection: then the worker reconnects the book's
	 * connection.
	 */
	int			(*resync) (PerpsCtx *ctx, const char *native, PerpsWsMessage *out);

	/* Parses one received frame (text or binary). */
	PerpsStatus (*parse_frame) (PerpsCtx *ctx, const char *data, size_t len, bool binary,
								PerpsStreamFrame *out);

	/*
	 * Venues whose connections send frames alike that mean different
	 * things (Extended: the whole book on one path, its best levels on
	 * another): parses a frame received on connection conn (0 ..
	 * nconnections - 1).  NULL: parse_frame, whatever the connection.
	 */
	PerpsStatus (*parse_frame_on) (PerpsCtx *ctx, int conn, const char *data, size_t len, bool binary,
								   PerpsStreamFrame *out);

	/*
	 * The venue numbers the messages of a connection, not the updates of a
	 * market's book (Extended's all-market book stream): the worker checks
	 * that each book event's seq is its connection's previous + 1; a jump
	 * resyncs every book on the connection, an older seq is dropped, and
	 * seq_rule sees last_seq = seq - 1 for the events that continue it.
	 */
	bool		seq_per_connection;

	/*
	 * The venue's sequence rule: how a book update relates to a book whose
	 * last applied update had id last_seq (have_book false: no book yet).
	 */
	PerpsSeqCheck (*seq_rule) (bool have_book, int64_t last_seq, const PerpsStreamEvent *ev);
} PerpsStreamAdapter;

/*
 * One method of the interface as a venue serves it (PerpsAdapter.methods[m]),
 * the C equivalent of one function of an IPerps trait.
 *
 * build: the requests for the method (for a method about one market,
 * q->market's native symbol is one the venue's symbol_ok accepted).
 * Returns their number (1..PERPS_MAX_REQUESTS), or a negative
 * PerpsStatus; PERPS_UNSUPPORTED for the queries of a served method the
 * venue cannot answer (a trades query with a time range where
 * PerpsAdapter.no_trades_history says why).
 *
 * parse: the method's rows from the answers to the requests build made, in
 * the same order: docs[i] is body i as the adapter's open_body parsed and
 * checked it; ndocs of them, at least one.  The result is cleared first
 * (its method set, no next page); a failure leaves it without rows.
 *
 * Both NULL where the venue has no public endpoint for the method; then
 * unsupported says why, in one full sentence (the error's detail).
 */
typedef struct PerpsMethodImpl
{
	int			(*build) (PerpsCtx *ctx, const PerpsQuery *q, PerpsRequest *reqs);
	PerpsStatus (*parse) (PerpsCtx *ctx, const PerpsQuery *q, struct json_object *const *docs, int ndocs,
						  PerpsResult *out);
	const char *unsupported;
} PerpsMethodImpl;

typedef struct PerpsAdapter
{
	const char *name;			/* matches perps_stats.exchanges.name */

	/*
	 * The venue's native symbol for a global one when a naming rule gives
	 * it (BTC -> BTCUSDT); false when only the markets list can tell
	 * (Lighter's market ids), or the symbol cannot be mapped.
	 */
	bool		(*native_symbol) (const char *global, char *buf, size_t buflen);

	/* true when queries need the market's contract size / native id */
	bool		needs_markets;

	/*
	 * A native symbol the venue's requests can carry, and what one must be
	 * ("a native symbol like BTCUSDT"): perps_adapter_build refuses a
	 * method about one market whose symbol is not, "<name> needs <what>".
	 */
	bool		(*symbol_ok) (const char *native);
	const char *symbol_what;

	/*
	 * Parses one response body (the i-th request of a method) and checks
	 * the venue's envelope: an error payload or an error status becomes
	 * PERPS_ERR_VENUE with the venue's message.  *doc is the document
	 * (NULL or released by the caller, whatever the status).
	 */
	PerpsStatus (*open_body) (PerpsCtx *ctx, const PerpsBody *body, int i, struct json_object **doc);

	/* The methods, by PerpsMethod (see PerpsMethodImpl). */
	PerpsMethodImpl methods[PERPS_M_COUNT];

	PerpsRateLimit rate_limit;
	int			max_kline_page;	/* documented page-size limits */
	int			max_funding_page;
	int			max_trades_page;

	/*
	 * Trade history over a time range.  NULL when PERPS_M_TRADES honours
	 * since_us / until_us (paging with has_more and next_since_us or
	 * next_cursor, like klines); otherwise the reason the venue has none,
	 * one full sentence for an errdetail, and the trades build answers
	 * PERPS_UNSUPPORTED to a query with a time range.
	 */
	const char *no_trades_history;

	/* The stream side; NULL when the venue is not streamed yet. */
	const PerpsStreamAdapter *stream;

	/*
	 * Coarser aggregations of the order book the venue serves besides its
	 * finest (Hyperliquid's nSigFigs, Pacifica's agg_level), whose levels
	 * reach farther from mid: their names, NULL-terminated, [0] the finest
	 * book's and then coarser and coarser, at most PERPS_MAX_BOOK_RESOLUTIONS
	 * in all.  PERPS_M_ORDERBOOK with PerpsQuery.resolution = k asks for
	 * the k-th.  The names are what liquidity_depth.resolution and
	 * slippage.resolution store.  NULL: the venue serves one book.
	 */
	const char *const *book_resolutions;

	/*
	 * Coarser books chosen per market instead (Hibachi's granularity): the
	 * query parameter that names a price step of the market's own list,
	 * PerpsMarketRef.book_steps (finest first, kept in perps_stats.markets
	 * by the markets parser).  Resolution k is the market's k-th step, at
	 * most max_book_steps of them; its name (stored in the resolution
	 * columns) is "<param>=<step>", e.g. granularity=0.1.  A market whose
	 * steps are unknown has one book, the venue's default.  NULL: the
	 * venue's book_resolutions (or one book) serve every market alike.
	 */
	const char *book_step_param;
	int			max_book_steps;
} PerpsAdapter;

/* The most resolutions of a book an adapter lists (book_merge.h takes as many). */
#define PERPS_MAX_BOOK_RESOLUTIONS 8

/* How many resolutions of its book a venue serves: 1 without book_resolutions. */
extern int	perps_book_resolutions(const PerpsAdapter *a);

/*
 * The same for one market (m may be NULL): with book_step_param, as many
 * of the market's steps as the adapter takes (1 when they are unknown);
 * else perps_book_resolutions.
 */
extern int	perps_market_book_resolutions(const PerpsAdapter *a, const PerpsMarketRef *m);

/*
 * The name of resolution k of a market's book into buf (what the
 * resolution columns store): book_resolutions[k], or "<param>=<step>";
 * NULL when the book has no name (one book, or a step too long for buf).
 */
extern const char *perps_book_label(const PerpsAdapter *a, const PerpsMarketRef *m, int k,
									char *buf, size_t len);

/* The longest name perps_book_label gives (with its terminator). */
#define PERPS_BOOK_LABEL_MAX 64

/* The registry (src/adapter.c). */
extern const PerpsAdapter *const perps_adapters[];
extern const PerpsAdapter *perps_adapter_find(const char *name);

/*
 * The dispatchers: every caller builds and parses through these.  Both
 * answer PERPS_UNSUPPORTED, with the method's unsupported sentence, where
 * the venue does not serve the method.  perps_adapter_build refuses a
 * method about one market without a symbol the venue can name, and
 * returns what the method's build does.  perps_adapter_parse clears *out,
 * refuses a query without the market the method needs, has the venue's
 * open_body parse each body and the method's parse read them; a failure
 * leaves *out without rows.
 */
extern int	perps_adapter_build(const PerpsAdapter *a, PerpsCtx *ctx, PerpsMethod m, const PerpsQuery *q,
								PerpsRequest *reqs);
extern PerpsStatus perps_adapter_parse(const PerpsAdapter *a, PerpsCtx *ctx, PerpsMethod m,
									   const PerpsQuery *q, const PerpsBody *bodies, int nbodies,
									   PerpsResult *out);

/* Supported kline intervals (1m 5m 15m 30m 1h 4h 1d), in seconds; 0 when not one of them. */
#define PERPS_KLINE_MAX 7
extern int	perps_interval_seconds(const char *interval);

/* The same interval as a static string (outlives any document); NULL when not one of them. */
extern const char *perps_interval_name(const char *interval);

/* ---- helpers the adapters share (src/adapter.c) ---- */

/* The most rows (or book levels) one response may hold. */
#define PERPS_MAX_ROWS 100000

/* A method's parse that reads several documents: fails (ARG) unless there are want of them. */
extern PerpsStatus perps_need_docs(PerpsCtx *ctx, int ndocs, int want);

/* true when v is a JSON string equal to s */
extern bool perps_json_str_eq(struct json_object *v, const char *s);

/* v is an object; fails (SHAPE) naming it `what` otherwise. */
extern PerpsStatus perps_need_object(PerpsCtx *ctx, struct json_object *v, const char *what);

/* v is an array of at most PERPS_MAX_ROWS elements, *n of them; fails (SHAPE) otherwise. */
extern PerpsStatus perps_need_array(PerpsCtx *ctx, struct json_object *v, const char *what, size_t *n);

/* The same for obj[key], *arr the array. */
extern PerpsStatus perps_need_array_field(PerpsCtx *ctx, struct json_object *obj, const char *key,
										  struct json_object **arr, size_t *n);

/*
 * The rows of an answer: perps_need_array, then room for its *n rows of
 * size bytes each (zeroed); NULL, with the error recorded, on failure.
 * perps_rows_field: the same for obj[key], *arr the array.
 */
extern void *perps_rows(PerpsCtx *ctx, struct json_object *v, const char *what, size_t size, size_t *n);
extern void *perps_rows_field(PerpsCtx *ctx, struct json_object *obj, const char *key, size_t size,
							  struct json_object **arr, size_t *n);

/*
 * Book levels [[price, qty], ...] (each at least two decimals), the first
 * depth of them (0: all), arena-allocated.  `what` names the side.
 */
extern PerpsStatus perps_parse_levels(PerpsCtx *ctx, struct json_object *arr, const char *what,
									  int depth, PerpsLevel **levels, int *n);

/*
 * Book levels as objects ({"px": .., "sz": ..}: the price and size under
 * price_key and qty_key), best first, at most depth (0: all); `what` names
 * the side in messages.
 */
extern PerpsStatus perps_parse_level_objs(PerpsCtx *ctx, struct json_object *arr, const char *what, int depth,
										  const char *price_key, const char *qty_key,
										  PerpsLevel **levels, int *nlevels);

/* obj[key] as book levels (perps_parse_levels, named by the key). */
extern PerpsStatus perps_parse_levels_field(PerpsCtx *ctx, struct json_object *obj, const char *key,
											int depth, PerpsLevel **levels, int *n);

/*
 * A stream frame's book side: obj[key], at most max levels (a frame with
 * more is refused, "<venue> book frame has N <what> levels"), all read.
 */
extern PerpsStatus perps_ws_levels(PerpsCtx *ctx, const char *venue, struct json_object *obj,
								   const char *key, const char *what, size_t max,
								   PerpsLevel **levels, int *n);

/*
 * Row i of a kline array: [open time (ms), open, high, low, close, volume,
 * ...] with at least min elements.  Reads those six into *k; the rest is
 * the venue's.
 */
extern PerpsStatus perps_parse_kline_row(PerpsCtx *ctx, struct json_object *row, size_t i, size_t min,
										 PerpsKline *k);

/*
 * The fields of a venue's kline objects (Hyperliquid's candles, the klines
 * of Binance's and Bybit's streams): open and close time in ms (close:
 * NULL when the venue sends none, then the last ms of the interval of
 * interval_s seconds), the prices, the volume, and where sent (else NULL)
 * the turnover and the number of trades.
 */
typedef struct PerpsKlineKeys
{
	const char *open_ms;
	const char *close_ms;
	const char *open;
	const char *high;
	const char *low;
	const char *close;
	const char *volume;
	const char *turnover;
	const char *count;
} PerpsKlineKeys;

/* Kline `what` (an object with those fields), checked: it closes after it opens, counts >= 0 trades. */
extern PerpsStatus perps_parse_kline_obj(PerpsCtx *ctx, struct json_object *it, const char *what,
										 const PerpsKlineKeys *keys, int interval_s, PerpsKline *k);

/* qsort orders, oldest first: funding rows by funding time, klines by open time, trades by time. */
extern int	perps_cmp_funding(const void *a, const void *b);
extern int	perps_cmp_kline(const void *a, const void *b);
extern int	perps_cmp_trade(const void *a, const void *b);

/* µs to ms, rounding a `since` up (the first whole ms at or after it) and an `until` down. */
extern int64_t perps_us_to_ms_ceil(int64_t us);
extern int64_t perps_us_to_ms_floor(int64_t us);

/* Rows to ask for: the query's limit when it is below the venue's max, else max. */
extern int	perps_page_size(const PerpsQuery *q, int max);

/*
 * The [*start, *end] of one page of a time range, in units of unit_us
 * microseconds (1000: ms, 1000000: s), span units long: from since, cut at
 * until; without since, the span that ends at until (or now).  false when
 * it is empty (until before since).
 */
extern bool perps_page_window(const PerpsQuery *q, int64_t unit_us, int64_t span, int64_t *start,
							  int64_t *end);

/*
 * Paging forward from since: the page asked for [since, since + rows
 * steps); the next one starts after it, or after the latest row's step
 * (latest_us, PERPS_TS_NONE without rows) if that is later.  There is
 * more when that is not past until, or without until when the page (n
 * rows) came back full.  Nothing without since.
 */
extern void perps_page_forward(const PerpsQuery *q, int rows, int64_t step_us, int64_t latest_us,
							   size_t n, PerpsResult *out);

/*
 * The fields of a venue's trade objects: its id (string or integer), price,
 * size, time in ms, and the taker's side as the strings buy and sell.
 */
typedef struct PerpsTradeKeys
{
	const char *id;
	const char *price;
	const char *qty;
	const char *time_ms;
	const char *side;
	const char *buy;
	const char *sell;
} PerpsTradeKeys;

/* Trade i of a trades array: an object with those fields. */
extern PerpsStatus perps_parse_trade(PerpsCtx *ctx, struct json_object *it, size_t i, const PerpsTradeKeys *keys,
									 PerpsTrade *t);

/* A trades array of n such objects, in their order, as the result's rows. */
extern PerpsStatus perps_parse_trades(PerpsCtx *ctx, struct json_object *arr, size_t n,
									  const PerpsTradeKeys *keys, PerpsResult *out);

/* The taker's side of a trade: v is the string buy or sell; fails (SHAPE) otherwise. */
extern PerpsStatus perps_taker_side(PerpsCtx *ctx, struct json_object *v, const char *buy, const char *sell,
									bool *is_buy);

/* Sorts a result's trades oldest first and keeps the newest `limit` of them (limit 0: all). */
extern void perps_newest_trades(PerpsResult *out, int limit);

/* The open interest of a ticker (its time, open interest and notional) as the result's one row. */
extern PerpsStatus perps_open_interest_of(PerpsCtx *ctx, const PerpsTicker *t, PerpsResult *out);

/*
 * A symbol of 1 to maxlen characters, each an ASCII capital or digit, a
 * small letter where lower, or one of the characters in punct.
 */
extern bool perps_symbol_ok(const char *s, size_t maxlen, bool lower, const char *punct);

/*
 * Reads element e (the i-th) of a venue's per-market array into *t; *keep
 * false skips it (not one of the venue's perpetuals).
 */
typedef PerpsStatus (*PerpsTickerRead) (PerpsCtx *ctx, struct json_object *e, size_t i, PerpsTicker *t,
										bool *keep);

/*
 * The tickers of such an array, obj[key]: all those kept, or with want (a
 * native symbol) the first kept one of it, PERPS_ERR_NOT_FOUND when there
 * is none.
 */
extern PerpsStatus perps_pick_tickers(PerpsCtx *ctx, struct json_object *obj, const char *key,
									  const char *want, PerpsTickerRead read, PerpsResult *out);

/* A GET request: printf into r->path, with its rate-limit weight; fails (ARG) when it is too long. */
extern PerpsStatus perps_request_path(PerpsCtx *ctx, PerpsRequest *r, int weight, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

#endif							/* PERPS_ADAPTER_H */
