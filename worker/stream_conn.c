/*-------------------------------------------------------------------------
 *
 * stream_conn.c
 *		A stream worker's connections (see stream_int.h for the worker's
 *		parts): one event loop (one PerpsWsSet) over all of the venue's
 *		connections, each opened, watched and reconnected alone.
 *
 * A venue streams on one connection, or on several paths at once (Binance
 * USD-M: the book on /public, trades on /market).  A quiet connection never
 * delays a busy one: one service call waits for the first event on any of
 * them, then reads whatever else is readable, and the frames of every
 * connection are handed on before the worker flushes.
 *
 * A connection that closes (closed by the venue, silent for stall_timeout,
 * at the end of the venue's connection lifetime, or a book resync that got
 * no snapshot) is replaced alone: what it had received is processed first,
 * the books and trades that came on it are marked interrupted (stream_sync.c
 * rebuilds the books, stream_frames.c refetches the trades), a disconnect
 * row records the venue time of its last message, and it reconnects after
 * a jittered exponential backoff.  The first data message of the new
 * connection records the reconnect, from the venue time of the last message
 * before the drop to the venue time of the first one after it.  The venue's
 * other connections keep streaming throughout.
 *
 * Liveness: any frame, or a pong to the WebSocket ping the worker sends to
 * venues without an application-level ping, shows a connection alive.
 *
 *-------------------------------------------------------------------------
 */
#include "stream_int.h"

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "http.h"
#include "perps_lws.h"
#include "perps_stats.h"

/*
 * Bytes one service call reads at most before the frames are handed on:
 * what is not read yet waits in the socket (TCP pushes back on the venue),
 * not in the worker's memory.
 */
#define STREAM_SERVICE_MAX_BYTES ((size_t) 1024 * 1024)
/* WebSocket pings, for venues without an application-level ping */
#define STREAM_WS_PING_S 15

typedef struct StreamConn
{
	PerpsWs    *ws;				/* NULL while down */
	TimestampTz next_connect;
	int			backoff_ms;
	bool		opened_before;	/* a later opening is a reconnect */
	TimestampTz opened;			/* when this connection was opened */
	TimestampTz last_rx;		/* any frame or pong */
	uint64		pongs;
	TimestampTz last_ping;
	int			ping_ms;		/* the connect request's ping interval; 0: the adapter's */
	bool		streaming;		/* a data message came on this connection */
	int64		last_venue_us;	/* venue time of the last data message on it; 0: none */
	/* a drop waiting for the reconnect's first data message */
	bool		down_pending;
	int64		down_venue_us;
	TimestampTz down_at;
	/* await_hello venues: the subscribe messages until the greeting (stream_cxt) */
	PerpsWsMessage *pending;
	int			npending;
} StreamConn;

static PerpsWsSet *conn_set;
static char conn_set_ca[1024];	/* the stream_ca_file conn_set was made with */
static StreamConn conns[PERPS_WS_MAX_CONNECTIONS];
static int	nconns;				/* the venue's connections (0: not configured yet) */

static int
venue_nconns(void)
{
	if (stream_sa && stream_sa->connections_for)
		return Max(stream_sa->connections_for(stream_nmarkets, stream_nkline_intervals), 1);
	return stream_sa ? Max(stream_sa->nconnections, 1) : 0;
}

/* Connection k as messages name it: its path, or its number where all go to ws_url itself. */
static const char *
conn_label(int k, char *buf, size_t len)
{
	if (stream_sa->nconnections > 0 && stream_sa->connection_paths)
		return stream_sa->connection_paths[k];
	snprintf(buf, len, "%d", k + 1);
	return buf;
}

void
stream_conn_send(int conn, const PerpsWsMessage *msgs, int n)
{
	if (conn < 0 || conn >= nconns || conns[conn].ws == NULL)
	{
		stream_set_error("could not queue a message to the venue: connection %d is down", conn);
		return;
	}
	for (int i = 0; i < n; i++)
		if (!perps_ws_send(conns[conn].ws, msgs[i].data, msgs[i].len))
			stream_set_error("could not queue a message to the venue");
}

bool
stream_conns_any(void)
{
	for (int k = 0; k < nconns; k++)
		if (conns[k].ws)
			return true;
	return false;
}

/* Hands the received frames of one connection to the frame handler until limit rows are buffered. */
static void
conn_drain(int k, bool count_bytes, int limit)
{
	const char *data;
	size_t		len;
	bool		binary;

	while (conns[k].ws && stream_buffered_rows() < limit &&
		   perps_ws_next(conns[k].ws, &data, &len, &binary))
	{
		if (count_bytes)
			worker_status.bytes += (int64) len;
		conns[k].last_rx = GetCurrentTimestamp();
		if (data == NULL)
		{
			worker_status.parse_errors++;
			stream_set_error("a frame longer than %zu bytes was dropped", stream_sa->max_message_bytes);
			continue;
		}
		stream_handle_frame(k, data, len, binary);
	}
}

/*
 * Hands every frame received on any connection to the frame handler,
 * flushing each flush_rows rows on the way (a batch stays the size the
 * settings give, its memory in the store's first block); when a flush
 * fails the buffers take rows up to their bound, and then the worker stops
 * reading (backpressure).
 */
void
stream_conns_drain(bool count_bytes)
{
	for (;;)
	{
		bool		more = false;

		for (int k = 0; k < nconns; k++)
			conn_drain(k, count_bytes, perps_flush_rows);
		for (int k = 0; k < nconns; k++)
			if (conns[k].ws && perps_ws_queued(conns[k].ws) > 0)
				more = true;
		if (!more || stream_buffered_rows() < perps_flush_rows || !stream_flush())
			break;
	}
	for (int k = 0; k < nconns; k++)
		conn_drain(k, count_bytes, stream_max_buffered());
}

/*
 * The REST request some venues need before each connection (a token): the
 * URL to open and the ping interval.  False when it failed (status says why).
 */
static bool
conn_request(PerpsCtx *ctx, const char **url, int *ping_ms)
{
	MemoryContext old = MemoryContextSwitchTo(frame_cxt);
	PerpsRequest req;
	PerpsHttpCall call;
	PerpsBody	body;
	bool		ok = false;

	memset(&req, 0, sizeof(req));
	memset(&call, 0, sizeof(call));
	if (stream_sa->connect_build(ctx, &req) != 1)
		stream_set_error("cannot build the connect request: %s", ctx->errmsg);
	else if (req.aux && stream_aux_url[0] == '\0')
		stream_set_error("the connect request goes to the venue's second host, and its exchanges.aux_url is NULL");
	else
	{
		call.venue = worker_status.exchange;
		call.rate_account = stream_adapter->name;	/* one account per adapter (request.c) */
		call.base_url = req.aux ? stream_aux_url : stream_rest_url;
		call.req = &req;
		call.limit = stream_adapter->rate_limit;
		pgstat_report_wait_start(STREAM_WAIT_NETWORK);
		perps_http_run(&call, 1);
		pgstat_report_wait_end();
		body.data = call.body;
		body.len = call.len;
		body.status = call.status;
		if (call.sqlstate != 0)
			stream_set_error("the connect request failed: %s", call.errmsg ? call.errmsg : "no answer");
		else if (stream_sa->connect_parse(ctx, &body, stream_url, url, ping_ms) != PERPS_OK)
		{
			/* a refused answer (an endpoint outside the venue's domain, ...) is recorded */
			stream_set_error("the connect request's answer is unusable: %s", ctx->errmsg);
			stream_add_event(0, "error", 0, 0, "the connect request's answer is refused: %s", ctx->errmsg);
		}
		else if (*url == NULL || strlen(*url) >= sizeof(stream_url) || *ping_ms < 0)
			stream_set_error("the connect request's answer has no usable URL");
		else
			ok = true;
	}
	MemoryContextSwitchTo(old);
	return ok;
}

/* The next attempt of connection k after a failure or a drop: jittered exponential backoff. */
static void
conn_backoff(int k, TimestampTz now)
{
	StreamConn *c = &conns[k];
	double		jitter = 0.5 + 0.5 * pg_prng_double(&pg_global_prng_state);

	c->backoff_ms = c->backoff_ms == 0 ? STREAM_BACKOFF_MIN_MS : Min(c->backoff_ms * 2, STREAM_BACKOFF_MAX_MS);
	c->next_connect = TimestampTzPlusMilliseconds(now, (int64) (c->backoff_ms * jitter));
}

/* Opens connection k and subscribes (or waits for the greeting to). */
static void
conn_open(int k, TimestampTz now)
{
	StreamConn *c = &conns[k];
	char		err[PERPS_WS_ERR_LEN];
	char		url[2048];
	PerpsCtx	ctx;
	PerpsWsMessage *msgs;
	const char **natives;
	PerpsStreamWant want;
	const char *base = stream_url;
	int			nmsgs;

	MemoryContextReset(frame_cxt);
	stream_frame_ctx_init(&ctx);
	natives = MemoryContextAlloc(frame_cxt, sizeof(char *) * Max(stream_nmarkets, 1));
	msgs = MemoryContextAllocZero(frame_cxt, sizeof(PerpsWsMessage) * PERPS_WS_MAX_MESSAGES);
	for (int i = 0; i < stream_nmarkets; i++)
		natives[i] = stream_markets[i].native;
	want.natives = natives;
	want.n = stream_nmarkets;
	want.intervals = stream_kline_intervals;
	want.nintervals = stream_nkline_intervals;
	want.param = stream_param[0] ? stream_param : NULL;
	nmsgs = stream_sa->nconnections > 0 || stream_sa->connections_for ?
		stream_sa->subscribe_on(&ctx, k, &want, msgs) :
		stream_sa->subscribe(&ctx, &want, msgs);
	if (nmsgs < 0)
	{
		stream_set_error("cannot subscribe: %s", ctx.errmsg);
		c->next_connect = TimestampTzPlusMilliseconds(now, STREAM_BACKOFF_MAX_MS);
		return;
	}
	c->ping_ms = 0;
	if (stream_sa->connect_build != NULL && !conn_request(&ctx, &base, &c->ping_ms))
	{
		conn_backoff(k, now);
		return;
	}
	snprintf(url, sizeof(url), "%s%s", base,
			 stream_sa->nconnections > 0 && stream_sa->connection_paths ? stream_sa->connection_paths[k] : "");
	if (conn_set == NULL)
	{
		conn_set = perps_ws_set_new(perps_stream_ca_file, err, sizeof(err));
		stream_conns_memory_limit();
		if (conn_set != NULL && stream_sa->user_agent)
			perps_ws_set_user_agent(conn_set, "perps_stats/" PERPS_STATS_VERSION);
		strlcpy(conn_set_ca, perps_stream_ca_file ? perps_stream_ca_file : "", sizeof(conn_set_ca));
		if (conn_set == NULL)
		{
			stream_set_error("%s", err);
			c->next_connect = TimestampTzPlusMilliseconds(now, STREAM_BACKOFF_MAX_MS);
			return;
		}
	}
	c->ws = perps_ws_open(conn_set, url, stream_sa->max_message_bytes, err, sizeof(err));
	if (c->ws == NULL)
	{
		stream_set_error("%s", err);
		c->next_connect = TimestampTzPlusMilliseconds(now, STREAM_BACKOFF_MAX_MS);
		return;
	}
	if (c->opened_before)
		worker_status.reconnects++;
	c->opened_before = true;
	c->opened = c->last_rx = c->last_ping = now;
	c->pongs = 0;
	c->streaming = false;
	if (!stream_sa->await_hello)
		stream_conn_send(k, msgs, nmsgs);
	else
	{
		/* kept until the connection's greeting (frame_cxt is reset per frame) */
		if (c->pending == NULL)
			c->pending = MemoryContextAllocZero(stream_cxt, sizeof(PerpsWsMessage) * PERPS_WS_MAX_MESSAGES);
		for (int i = 0; i < c->npending; i++)
			if (c->pending[i].data)
				pfree((void *) c->pending[i].data);
		for (int i = 0; i < nmsgs; i++)
		{
			c->pending[i].data = MemoryContextStrdup(stream_cxt, msgs[i].data);
			c->pending[i].len = msgs[i].len;
		}
		c->npending = nmsgs;
	}
}

void
stream_conn_hello(int conn)
{
	StreamConn *c;

	if (conn < 0 || conn >= nconns)
		return;
	c = &conns[conn];
	if (c->npending > 0)
	{
		stream_conn_send(conn, c->pending, c->npending);
		c->npending = 0;
	}
}

/* Opens every connection that is down and due. */
void
stream_conns_connect_due(TimestampTz now)
{
	int			want = venue_nconns();

	if (stream_sa == NULL || stream_nmarkets == 0 ||
		(stream_url[0] == '\0' && stream_sa->connect_build == NULL))
		return;
	if (want > PERPS_WS_MAX_CONNECTIONS)
	{
		stream_set_error("the venue wants %d connections, at most %d are possible", want, PERPS_WS_MAX_CONNECTIONS);
		return;
	}
	if (nconns != want)
	{
		/* a new venue configuration: every connection starts now */
		stream_conns_close_all(NULL);
		nconns = want;
	}
	if (conn_set != NULL && strcmp(conn_set_ca, perps_stream_ca_file ? perps_stream_ca_file : "") != 0)
	{
		/* the authorities a wss:// server is checked against are the set's: a new set */
		if (stream_conns_any())
			stream_conns_close_all("perps_stats.stream_ca_file changed: reconnecting");
		else
			stream_conns_close_all(NULL);
		nconns = want;
	}
	for (int k = 0; k < nconns; k++)
		if (conns[k].ws == NULL && now >= conns[k].next_connect)
			conn_open(k, now);
}

/*
 * Connection k goes down: what it received is processed first (flushing
 * when the buffers are full), its books and trades are marked interrupted,
 * the drop is recorded, and it reconnects after a backoff.
 */
void
stream_conn_restart(int k, const char *why)
{
	StreamConn *c = &conns[k];
	TimestampTz now;
	char		reason[PERPS_WS_ERR_LEN];
	char		label[16];

	if (c->ws == NULL)
		return;
	strlcpy(reason, why, sizeof(reason));
	for (int tries = 0; tries < 100; tries++)
	{
		conn_drain(k, true, stream_max_buffered());
		if (perps_ws_queued(c->ws) == 0 || !stream_flush())
			break;
	}
	if (perps_ws_queued(c->ws) > 0)
		stream_add_event(0, "error", 0, 0,
						 "connection %d closed with %zu received bytes that could not be buffered",
						 k, perps_ws_queued(c->ws));
	now = GetCurrentTimestamp();
	if (c->streaming)
	{
		/* the data of this connection stops at its last message, in the venue's time */
		c->down_pending = true;
		c->down_venue_us = c->last_venue_us;
		c->down_at = now;
		if (nconns > 1)
			stream_add_event(0, "disconnect", c->last_venue_us ? stream_ts(c->last_venue_us) : 0, 0,
							 "%s (connection %s)", reason, conn_label(k, label, sizeof(label)));
		else
			stream_add_event(0, "disconnect", c->last_venue_us ? stream_ts(c->last_venue_us) : 0, 0,
							 "%s", reason);
		c->backoff_ms = 0;		/* it streamed: the first retry comes soon */
	}
	stream_books_interrupted(k, c->last_venue_us);
	stream_trades_interrupted(k);
	perps_ws_free(c->ws);
	c->ws = NULL;
	c->streaming = false;
	c->npending = 0;
	stream_set_error("%s", reason);
	worker_status.connected_since = 0;
	conn_backoff(k, now);
}

/* A data message for one of our markets came on connection conn. */
void
stream_conn_data(int conn, int64 venue_us)
{
	StreamConn *c;
	TimestampTz now = GetCurrentTimestamp();
	char		label[16];

	worker_status.last_message_at = now;
	if (conn < 0 || conn >= nconns)
		return;
	c = &conns[conn];
	if (venue_us > 0 && venue_us != PERPS_TS_NONE)
	{
		c->last_venue_us = venue_us;
		stream_last_venue_us = Max(stream_last_venue_us, venue_us);
	}
	if (c->streaming)
		return;
	c->streaming = true;
	c->backoff_ms = 0;
	if (c->down_pending)
	{
		int64		first_us = c->last_venue_us ? c->last_venue_us : 0;

		stream_add_event(0, "reconnect",
						 c->down_venue_us ? stream_ts(c->down_venue_us) : 0,
						 first_us ? stream_ts(first_us) : 0,
						 "reconnected after %ld ms%s%s%s; between the two times (the venue's) what this connection carries is missing but for trades refetched by REST",
						 (long) ((now - c->down_at) / 1000),
						 nconns > 1 ? " (connection " : "", nconns > 1 ? conn_label(conn, label, sizeof(label)) : "",
						 nconns > 1 ? ")" : "");
		c->down_pending = false;
	}
}

/* Every connection closed (a new configuration, or the worker stops); why NULL: nothing to record. */
void
stream_conns_close_all(const char *why)
{
	for (int k = 0; k < nconns; k++)
	{
		if (conns[k].ws && why != NULL)
			stream_conn_restart(k, why);
		if (conns[k].ws)
		{
			perps_ws_free(conns[k].ws);
			conns[k].ws = NULL;
		}
		stream_conn_book_seq_reset(k);
		conns[k].streaming = false;
		conns[k].down_pending = false;
		conns[k].npending = 0;
		conns[k].backoff_ms = 0;
		conns[k].next_connect = 0;
		conns[k].opened_before = false;
	}
	if (conn_set)
	{
		perps_ws_set_free(conn_set);
		conn_set = NULL;
	}
	worker_status.connected_since = 0;
}

/* Reads what every connection has (waiting at most a tick) and hands the frames on. */
void
stream_conns_service(void)
{
	size_t		queued = 0;

	if (conn_set == NULL)
		return;
	for (int k = 0; k < nconns; k++)
		if (conns[k].ws)
			queued += perps_ws_queued(conns[k].ws);
	/*
	 * Frames still queued (the buffers filled up last time): no waiting for
	 * the network, and no more reading while a service call's worth waits.
	 */
	if (queued < STREAM_SERVICE_MAX_BYTES)
	{
		pgstat_report_wait_start(STREAM_WAIT_NETWORK);
		(void) perps_ws_set_service(conn_set, queued == 0, STREAM_SERVICE_MAX_BYTES);
		pgstat_report_wait_end();
	}
	stream_conns_drain(true);
}

/*
 * Per connection: closed, silent too long, at the end of its lifetime:
 * restarted alone; open: pinged when due.  Then the worker's state.
 */
void
stream_conns_check(TimestampTz now)
{
	int			lifetime_s = perps_stream_connection_lifetime > 0 ? perps_stream_connection_lifetime :
		stream_sa && stream_sa->max_connection_s > 0 ? Max(stream_sa->max_connection_s - STREAM_LIFETIME_MARGIN_S, 60) : 0;
	int			up = 0,
				open = 0,
				streaming = 0;

	for (int k = 0; k < nconns; k++)
	{
		StreamConn *c = &conns[k];
		PerpsWsState st;

		if (c->ws == NULL)
			continue;
		if (perps_ws_pongs(c->ws) != c->pongs)
		{
			c->pongs = perps_ws_pongs(c->ws);
			c->last_rx = now;
		}
		st = perps_ws_state(c->ws);
		if (st == PERPS_WS_CLOSED)
		{
			const char *e = perps_ws_error(c->ws);

			stream_conn_restart(k, e[0] ? e : "connection closed");
			continue;
		}
		if (now >= TimestampTzPlusMilliseconds(c->last_rx, (int64) perps_stall_timeout * 1000))
		{
			char		why[128];

			snprintf(why, sizeof(why), "no message for %d s: connection restarted", perps_stall_timeout);
			stream_conn_restart(k, why);
			continue;
		}
		if (lifetime_s > 0 && now >= TimestampTzPlusMilliseconds(c->opened, (int64) lifetime_s * 1000))
		{
			char		why[128];

			/* the venue would cut it soon: a new connection now, without backoff */
			snprintf(why, sizeof(why), "connection replaced after %d s (the venue's connection lifetime)", lifetime_s);
			stream_conn_restart(k, why);
			c->backoff_ms = 0;
			c->next_connect = now;
			continue;
		}
		up++;
		if (st == PERPS_WS_OPEN)
		{
			int64		ping_ms = c->ping_ms > 0 ? c->ping_ms :
				stream_sa->ping_message ? (int64) stream_sa->ping_interval_s * 1000 : STREAM_WS_PING_S * 1000;

			open++;
			if (now >= TimestampTzPlusMilliseconds(c->last_ping, ping_ms))
			{
				if (stream_sa->ping_message)
					(void) perps_ws_send(c->ws, stream_sa->ping_message, strlen(stream_sa->ping_message));
				else
					perps_ws_ping(c->ws);
				c->last_ping = now;
			}
			if (c->streaming)
				streaming++;
		}
	}
	/*
	 * streaming: every connection open, data flowing on one at least (a
	 * connection may be quiet); connecting: some not open yet;
	 * reconnecting: some down while others are up; backoff: all down.
	 */
	if (nconns == 0)
		return;
	if (open == nconns && streaming > 0)
	{
		if (worker_status.connected_since == 0)
			worker_status.connected_since = now;
		stream_set_state("streaming");
	}
	else if (up == nconns)
		stream_set_state("connecting");
	else
		stream_set_state(up > 0 ? "reconnecting" : "backoff");
}

/* How long the main loop may sleep while no connection is up. */
long
stream_conns_wait_ms(TimestampTz now)
{
	TimestampTz next = 0;

	for (int k = 0; k < nconns; k++)
		if (conns[k].ws == NULL && (next == 0 || conns[k].next_connect < next))
			next = conns[k].next_connect;
	if (next == 0)
		return 1000;
	return Min(1000, Max(0, (long) ((next - now) / 1000)));
}

/* The receive queues' half of perps_stats.stream_memory_limit, shared by the connections. */
void
stream_conns_memory_limit(void)
{
	if (conn_set != NULL)
		perps_ws_set_queue_limit(conn_set, (size_t) perps_stream_memory_limit * 1024 / 2 / PERPS_WS_MAX_CONNECTIONS);
}
