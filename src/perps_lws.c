/*-------------------------------------------------------------------------
 *
 * perps_lws.c
 *		WebSocket client on libwebsockets (see perps_lws.h).
 *
 * One lws context per PerpsWsSet, one client wsi per PerpsWs; the wsi's
 * user pointer is its PerpsWs, cleared when the PerpsWs is freed first (lws
 * then kills the wsi on its own).  The lws callbacks only copy bytes into
 * and out of bounded queues and record states; all interpretation happens
 * in the caller after perps_ws_set_service() returns.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "perps_json.h"			/* perps_utf8_* */
#include "perps_lws.h"

#define PERPS_WS_MAX_OUT ((size_t) 1024 * 1024)
#define PERPS_WS_URL_MAX 1024
/* bytes lws reads from a socket at a time (its per-thread buffer) */
#define PERPS_WS_READ_BUF (128 * 1024)
/* reads without waiting in one service call, at most */
#define PERPS_WS_MAX_ROUNDS 256

typedef struct WsMsg
{
	struct WsMsg *next;
	size_t		len;
	bool		binary;
	bool		dropped;		/* a message over max_message, dropped: no data */
	char		data[];
} WsMsg;

struct PerpsWsSet
{
	struct lws_context *ctx;
	lws_sorted_usec_list_t tick;
	PerpsWs    *conns;			/* the open PerpsWs of the set */
	size_t		bytes_read;
	size_t		queue_limit;	/* a connection's queue: reading pauses above it */
	char		user_agent[128];	/* "": no User-Agent header */
};

struct PerpsWs
{
	PerpsWsSet *set;
	PerpsWs    *next;			/* in set->conns */
	struct lws *wsi;			/* NULL once lws let go of it */
	PerpsWsState state;
	bool		connecting;		/* inside lws_client_connect_via_info */
	char		error[PERPS_WS_ERR_LEN];
	bool		close_requested;
	bool		ping_requested;
	bool		paused;
	uint64_t	pongs;

	/* the message being reassembled */
	char	   *rx;
	size_t		rx_len;
	size_t		rx_cap;
	size_t		max_message;
	bool		rx_discard;		/* the current message went over max_message */

	/* received, not yet taken */
	WsMsg	   *in_head;
	WsMsg	   *in_tail;
	size_t		in_bytes;
	WsMsg	   *taken;			/* handed out by perps_ws_next, freed on the next call */

	/* to send */
	WsMsg	   *out_head;
	WsMsg	   *out_tail;
	size_t		out_bytes;

	uint64_t	bytes;

	char		host[256];
	char		path[PERPS_WS_URL_MAX];
	char		user_agent[128];	/* the set's when the connection opened */
};

static void
ws_set_error(PerpsWs *ws, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
ws_set_error(PerpsWs *ws, const char *fmt,...)
{
	va_list		ap;

	if (ws->error[0] != '\0')
		return;					/* the first cause wins */
	va_start(ap, fmt);
	vsnprintf(ws->error, sizeof(ws->error), fmt, ap);
	va_end(ap);
	perps_utf8_clean(ws->error);
}

static void
ws_free_list(WsMsg *m)
{
	while (m)
	{
		WsMsg	   *n = m->next;

		free(m);
		m = n;
	}
}

/* Moves the reassembled message to the receive queue. */
static void
ws_deliver(PerpsWs *ws, bool binary, bool dropped)
{
	WsMsg	   *m = malloc(sizeof(WsMsg) + ws->rx_len + 1);

	if (m == NULL)
	{
		/* no memory for it: a dropped marker in its place, if even that can be had */
		m = malloc(sizeof(WsMsg) + 1);
		if (m == NULL)
			return;
		ws->rx_len = 0;
		dropped = true;
	}
	m->next = NULL;
	m->len = ws->rx_len;
	m->binary = binary;
	m->dropped = dropped;
	if (ws->rx_len > 0)
		memcpy(m->data, ws->rx, ws->rx_len);
	m->data[ws->rx_len] = '\0';
	if (ws->in_tail)
		ws->in_tail->next = m;
	else
		ws->in_head = m;
	ws->in_tail = m;
	ws->in_bytes += m->len;
	if (ws->in_bytes > ws->set->queue_limit && ws->wsi && !ws->paused)
	{
		lws_rx_flow_control(ws->wsi, 0);
		ws->paused = true;
	}
}

static void
ws_receive(PerpsWs *ws, struct lws *wsi, const char *in, size_t len)
{
	ws->bytes += len;
	ws->set->bytes_read += len;
	if (lws_is_first_fragment(wsi))
	{
		ws->rx_len = 0;
		ws->rx_discard = false;
	}
	if (!ws->rx_discard)
	{
		if (len > ws->max_message - ws->rx_len)
		{
			ws->rx_discard = true;
			}
		else
		{
			if (ws->rx_len + len > ws->rx_cap)
			{
				size_t		ncap = ws->rx_cap ? ws->rx_cap : 64 * 1024;
				char	   *nb;

				while (ncap < ws->rx_len + len)
					ncap *= 2;
				if (ncap > ws->max_message)
					ncap = ws->max_message;
				nb = realloc(ws->rx, ncap);
				if (nb == NULL)
				{
					ws->rx_discard = true;
								return;
				}
				ws->rx = nb;
				ws->rx_cap = ncap;
			}
			memcpy(ws->rx + ws->rx_len, in, len);
			ws->rx_len += len;
		}
	}
	if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0)
	{
		if (ws->rx_discard)
			ws->rx_len = 0;		/* in its place, an empty message marked dropped */
		ws_deliver(ws, lws_frame_is_binary(wsi), ws->rx_discard);
		ws->rx_len = 0;
		ws->rx_discard = false;
	}
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	PerpsWs    *ws = wsi ? (PerpsWs *) lws_wsi_user(wsi) : NULL;

	/* not a connection of ours, or one whose PerpsWs was freed */
	if (ws == NULL)
		return 0;
	if (ws->connecting && ws->wsi == NULL)
		ws->wsi = wsi;			/* a callback before lws_client_connect_via_info returned */
	if (ws->wsi != wsi)
		return 0;
	switch (reason)
	{
		case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
			ws_set_error(ws, "connection failed: %.*s", perps_utf8_cut(in ? (const char *) in : "unknown error", 200),
						 in ? (const char *) in : "unknown error");
			ws->state = PERPS_WS_CLOSED;
			ws->wsi = NULL;
			break;
		case LWS_CALLBACK_CLIENT_ESTABLISHED:
			ws->state = PERPS_WS_OPEN;
			if (ws->out_head)
				lws_callback_on_writable(wsi);
			break;
		case LWS_CALLBACK_CLIENT_RECEIVE:
			if (in != NULL && len > 0)
				ws_receive(ws, wsi, in, len);
			else if (lws_is_final_fragment(wsi) && lws_is_first_fragment(wsi))
			{
				ws->rx_len = 0;
				ws_deliver(ws, lws_frame_is_binary(wsi), false);
			}
			break;
		case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
			ws->pongs++;
			break;
		case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
			if (ws->user_agent[0] != '\0' && in != NULL)
			{
				unsigned char **p = (unsigned char **) in;

				if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_USER_AGENT,
												 (const unsigned char *) ws->user_agent,
												 (int) strlen(ws->user_agent), p, *p + len) != 0)
					return -1;
			}
			break;
		case LWS_CALLBACK_CLIENT_WRITEABLE:
			if (ws->close_requested)
			{
				lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
				return -1;
			}
			if (ws->ping_requested)
			{
				unsigned char ping[LWS_PRE + 1];

				ws->ping_requested = false;
				if (lws_write(wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0)
				{
					ws_set_error(ws, "send failed");
					return -1;
				}
				if (ws->out_head)
					lws_callback_on_writable(wsi);
				break;
			}
			if (ws->out_head)
			{
				WsMsg	   *m = ws->out_head;
				unsigned char *p = (unsigned char *) m->data + LWS_PRE;

				ws->out_head = m->next;
				if (ws->out_head == NULL)
					ws->out_tail = NULL;
				ws->out_bytes -= m->len;
				if (lws_write(wsi, p, m->len, LWS_WRITE_TEXT) < (int) m->len)
				{
					free(m);
					ws_set_error(ws, "send failed");
					return -1;
				}
				free(m);
				if (ws->out_head)
					lws_callback_on_writable(wsi);
			}
			break;
		case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
			{
				int			code = 0;

				if (in != NULL && len >= 2)
					code = (((unsigned char *) in)[0] << 8) | ((unsigned char *) in)[1];
				ws_set_error(ws, "closed by the venue (close code %d)", code);
				break;
			}
		case LWS_CALLBACK_CLIENT_CLOSED:
			ws_set_error(ws, "connection closed");
			ws->state = PERPS_WS_CLOSED;
			ws->wsi = NULL;
			break;
		case LWS_CALLBACK_WSI_DESTROY:
			if (ws->wsi == wsi)
			{
				ws_set_error(ws, "connection closed");
				ws->state = PERPS_WS_CLOSED;
				ws->wsi = NULL;
			}
			break;
		default:
			break;
	}
	return 0;
}

static const struct lws_protocols ws_protocols[] = {
	{"perps-stream", ws_callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

/* Keeps lws_service() from sleeping longer than a tick. */
static void
ws_tick(lws_sorted_usec_list_t *sul)
{
	PerpsWsSet *set = lws_container_of(sul, PerpsWsSet, tick);

	lws_sul_schedule(set->ctx, 0, &set->tick, ws_tick, (lws_usec_t) PERPS_WS_TICK_MS * 1000);
}

/* lws logs errors and warnings through here; they become the connection's error. */
static void
ws_log(int level, const char *line)
{
	(void) level;
	(void) line;
}

/* scheme://host[:port][/path][?query] */
static bool
ws_parse_url(const char *url, bool *tls, char *host, size_t hostlen, int *port,
			 char *path, size_t pathlen)
{
	const char *p;
	const char *h;
	size_t		hl;

	if (strncmp(url, "wss://", 6) == 0)
	{
		*tls = true;
		*port = 443;
		p = url + 6;
	}
	else if (strncmp(url, "ws://", 5) == 0)
	{
		*tls = false;
		*port = 80;
		p = url + 5;
	}
	else
		return false;
	h = p;
	while (*p && *p != ':' && *p != '/' && *p != '?')
		p++;
	hl = (size_t) (p - h);
	if (hl == 0 || hl >= hostlen)
		return false;
	for (size_t i = 0; i < hl; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
			  (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-'))
			return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (*p == ':')
	{
		long		v = 0;

		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
		{
			v = v * 10 + (*p++ - '0');
			if (v > 65535)
				return false;
		}
		if (v == 0)
			return false;
		*port = (int) v;
	}
	if (*p != '\0' && *p != '/' && *p != '?')
		return false;
	if (snprintf(path, pathlen, "%s%s", *p == '/' ? "" : "/", p) >= (int) pathlen)
		return false;
	for (const char *c = path; *c; c++)
		if ((unsigned char) *c <= ' ' || (unsigned char) *c >= 0x7f)
			return false;
	return true;
}

PerpsWsSet *
perps_ws_set_new(const char *ca_file, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	PerpsWsSet *set = calloc(1, sizeof(PerpsWsSet));

	if (set == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	set->queue_limit = PERPS_WS_MAX_QUEUED;
	lws_set_log_level(LLL_ERR, ws_log);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = ws_protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = set;
	info.fd_limit_per_thread = 4 * 4 + 4;
	info.pt_serv_buf_size = PERPS_WS_READ_BUF;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (ca_file != NULL && ca_file[0] != '\0')
		info.client_ssl_ca_filepath = ca_file;	/* instead of the system's authorities */
	set->ctx = lws_create_context(&info);
	if (set->ctx == NULL)
	{
		snprintf(err, errlen, "libwebsockets could not create its context");
		free(set);
		return NULL;
	}
	lws_sul_schedule(set->ctx, 0, &set->tick, ws_tick, (lws_usec_t) PERPS_WS_TICK_MS * 1000);
	return set;
}

void
perps_ws_set_free(PerpsWsSet *set)
{
	if (set == NULL)
		return;
	while (set->conns)
		perps_ws_free(set->conns);
	lws_sul_cancel(&set->tick);
	lws_context_destroy(set->ctx);
	free(set);
}

void
perps_ws_set_queue_limit(PerpsWsSet *set, size_t bytes)
{
	set->queue_limit = bytes < 1024 * 1024 ? 1024 * 1024 : bytes;
}

void
perps_ws_set_user_agent(PerpsWsSet *set, const char *user_agent)
{
	size_t		n = user_agent ? strlen(user_agent) : 0;

	/* printable ASCII only: it goes into the request head as is */
	for (size_t i = 0; i < n; i++)
		if (user_agent[i] < 0x20 || user_agent[i] > 0x7e)
			n = 0;
	if (n >= sizeof(set->user_agent))
		n = 0;
	memcpy(set->user_agent, user_agent ? user_agent : "", n);
	set->user_agent[n] = '\0';
}

size_t
perps_ws_set_service(PerpsWsSet *set, bool wait, size_t max_bytes)
{
	size_t		start = set->bytes_read;

	for (PerpsWs *ws = set->conns; ws; ws = ws->next)
		if (ws->paused && ws->in_bytes <= set->queue_limit / 2 && ws->wsi)
		{
			lws_rx_flow_control(ws->wsi, 1);
			ws->paused = false;
		}
	/* lws_service: 0 waits for an event or the tick, -1 only takes what is ready */
	(void) lws_service(set->ctx, wait ? 0 : -1);
	for (int i = 0; i < PERPS_WS_MAX_ROUNDS && set->bytes_read - start < max_bytes; i++)
	{
		size_t		before = set->bytes_read;

		(void) lws_service(set->ctx, -1);
		if (set->bytes_read == before)
			break;
	}
	return set->bytes_read - start;
}

PerpsWs *
perps_ws_open(PerpsWsSet *set, const char *url, size_t max_message, char *err, size_t errlen)
{
	struct lws_client_connect_info cc;
	struct lws *wsi;
	PerpsWs    *ws;
	bool		tls;
	int			port;

	ws = calloc(1, sizeof(PerpsWs));
	if (ws == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (url == NULL || strlen(url) >= PERPS_WS_URL_MAX ||
		!ws_parse_url(url, &tls, ws->host, sizeof(ws->host), &port, ws->path, sizeof(ws->path)))
	{
		snprintf(err, errlen, "\"%.200s\" is not a ws:// or wss:// URL", url ? url : "(null)");
		free(ws);
		return NULL;
	}
	ws->set = set;
	memcpy(ws->user_agent, set->user_agent, sizeof(ws->user_agent));
	ws->max_message = max_message > 0 ? max_message : 1024 * 1024;
	ws->state = PERPS_WS_CONNECTING;
	ws->next = set->conns;
	set->conns = ws;

	memset(&cc, 0, sizeof(cc));
	cc.context = set->ctx;
	cc.address = ws->host;
	cc.port = port;
	cc.path = ws->path;
	cc.host = ws->host;
	cc.origin = ws->host;
	cc.ssl_connection = tls ? LCCSCF_USE_SSL : 0;	/* verification stays on */
	cc.protocol = NULL;
	cc.local_protocol_name = ws_protocols[0].name;
	cc.userdata = ws;

	/*
	 * The callbacks act only for the wsi the PerpsWs holds (one that comes
	 * while connecting is adopted); no pwsi: lws would write through it
	 * after the PerpsWs may be gone.
	 */
	ws->wsi = NULL;
	ws->connecting = true;
	wsi = lws_client_connect_via_info(&cc);
	ws->connecting = false;
	if (ws->state == PERPS_WS_CLOSED)
		ws->wsi = NULL;			/* it failed in there (the callback said why) */
	else if (wsi != NULL)
		ws->wsi = wsi;
	else
	{
		ws->wsi = NULL;
		/* the error callback may have said why */
		ws_set_error(ws, "could not start connecting to %s:%d", ws->host, port);
		ws->state = PERPS_WS_CLOSED;
	}
	return ws;
}

void
perps_ws_free(PerpsWs *ws)
{
	if (ws == NULL)
		return;
	for (PerpsWs **p = &ws->set->conns; *p; p = &(*p)->next)
		if (*p == ws)
		{
			*p = ws->next;
			break;
		}
	if (ws->wsi)
	{
		/* lws closes it on its next service; its callbacks no longer find us */
		lws_set_wsi_user(ws->wsi, NULL);
		lws_set_timeout(ws->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		ws->wsi = NULL;
	}
	ws_free_list(ws->in_head);
	ws_free_list(ws->taken);
	ws_free_list(ws->out_head);
	free(ws->rx);
	free(ws);
}

PerpsWsState
perps_ws_state(const PerpsWs *ws)
{
	return ws->state;
}

const char *
perps_ws_error(const PerpsWs *ws)
{
	return ws->error;
}

bool
perps_ws_send(PerpsWs *ws, const char *data, size_t len)
{
	WsMsg	   *m;

	if (ws->state == PERPS_WS_CLOSED || len > PERPS_WS_MAX_OUT - ws->out_bytes)
		return false;
	m = malloc(sizeof(WsMsg) + LWS_PRE + len);
	if (m == NULL)
		return false;
	m->next = NULL;
	m->len = len;
	m->binary = false;
	memcpy(m->data + LWS_PRE, data, len);
	if (ws->out_tail)
		ws->out_tail->next = m;
	else
		ws->out_head = m;
	ws->out_tail = m;
	ws->out_bytes += len;
	if (ws->state == PERPS_WS_OPEN && ws->wsi)
		lws_callback_on_writable(ws->wsi);
	return true;
}

bool
perps_ws_next(PerpsWs *ws, const char **data, size_t *len, bool *binary)
{
	WsMsg	   *m = ws->in_head;

	ws_free_list(ws->taken);
	ws->taken = NULL;
	if (m == NULL)
		return false;
	ws->in_head = m->next;
	if (ws->in_head == NULL)
		ws->in_tail = NULL;
	ws->in_bytes -= m->len;
	m->next = NULL;
	ws->taken = m;
	*data = m->dropped ? NULL : m->data;
	*len = m->len;
	*binary = m->binary;
	return true;
}

void
perps_ws_ping(PerpsWs *ws)
{
	if (ws->state != PERPS_WS_OPEN || ws->wsi == NULL)
		return;
	ws->ping_requested = true;
	lws_callback_on_writable(ws->wsi);
}

uint64_t
perps_ws_pongs(const PerpsWs *ws)
{
	return ws->pongs;
}

void
perps_ws_close(PerpsWs *ws)
{
	ws->close_requested = true;
	if (ws->wsi && ws->state == PERPS_WS_OPEN)
		lws_callback_on_writable(ws->wsi);
	else if (ws->wsi)
		lws_set_timeout(ws->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
	else
		ws->state = PERPS_WS_CLOSED;
}


uint64_t
perps_ws_bytes(const PerpsWs *ws)
{
	return ws->bytes;
}

bool
perps_ws_paused(const PerpsWs *ws)
{
	return ws->paused;
}

size_t
perps_ws_queued(const PerpsWs *ws)
{
	return ws->in_bytes;
}
