/*-------------------------------------------------------------------------
 *
 * perps_lws.h
 *		The one wrapper around libwebsockets: a WebSocket client connection
 *		(ws:// or wss:// with TLS verification) serviced from the caller's
 *		own loop, in the caller's thread.
 *
 * A PerpsWsSet is one lws context: one event loop over all of a worker's
 * connections, so a quiet connection never delays a busy one.  A PerpsWs
 * is one client connection in a set; it is opened and freed alone (a
 * connection that closes is replaced without touching the others), and
 * what it received stays readable until it is freed.
 * perps_ws_set_service() waits at most PERPS_WS_TICK_MS for the first
 * event (an lws timer guarantees it, lws_service's own timeout being
 * ignored since lws 3.2), then reads whatever else is readable without
 * waiting, so the caller can check for interrupts between calls and
 * drains everything that arrived before it flushes.
 *
 * Received messages are reassembled from their fragments into a queue
 * that the caller drains after each service call.  Every bound is
 * enforced here: a message longer than max_message is dropped (a marker
 * takes its place in the queue, see perps_ws_next), and when the queue holds more than PERPS_WS_MAX_QUEUED bytes
 * reading stops until it is drained (TCP then pushes back on the venue).
 *
 * Plain C (malloc, no PostgreSQL API): nothing here may ereport, since an
 * error longjmp out of an lws callback would leave lws inconsistent.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_LWS_H
#define PERPS_LWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERPS_WS_TICK_MS 100
#define PERPS_WS_MAX_QUEUED ((size_t) 64 * 1024 * 1024)
#define PERPS_WS_ERR_LEN 256

typedef enum PerpsWsState
{
	PERPS_WS_CONNECTING,
	PERPS_WS_OPEN,
	PERPS_WS_CLOSED
} PerpsWsState;

typedef struct PerpsWsSet PerpsWsSet;
typedef struct PerpsWs PerpsWs;

/*
 * The event loop of a set of connections.  wss:// connections verify the
 * server's certificate and name against the system's certificate
 * authorities, or against those in ca_file (PEM) when it is not NULL or
 * empty.  NULL with a message in err when lws cannot start.  Freeing the
 * set frees the connections still in it.
 */
extern PerpsWsSet *perps_ws_set_new(const char *ca_file, char *err, size_t errlen);
extern void perps_ws_set_free(PerpsWsSet *set);

/*
 * Services every connection of the set: waits at most about
 * PERPS_WS_TICK_MS for something to happen (not at all when wait is
 * false), then goes on reading without waiting while data keeps coming,
 * up to max_bytes (a bound on one call's work).  Returns the bytes read.
 */
extern size_t perps_ws_set_service(PerpsWsSet *set, bool wait, size_t max_bytes);

/*
 * A connection's queue of received messages may hold this many bytes
 * (at least 1 MB; PERPS_WS_MAX_QUEUED until set): above it reading that
 * connection pauses until half of it is taken.
 */
extern void perps_ws_set_queue_limit(PerpsWsSet *set, size_t bytes);

/*
 * The User-Agent header of the handshakes of the connections opened after
 * it (a venue that requires one, as Extended does); NULL, the default:
 * none.  At most 127 bytes, copied.
 */
extern void perps_ws_set_user_agent(PerpsWsSet *set, const char *user_agent);

/*
 * Starts connecting to url (ws://host[:port]/path or wss://...) in the
 * set.  Returns NULL with a message in err when the URL is bad or lws
 * cannot start.
 */
extern PerpsWs *perps_ws_open(PerpsWsSet *set, const char *url, size_t max_message,
							  char *err, size_t errlen);

/* Closes the connection (without waiting) and frees it with what it still holds. */
extern void perps_ws_free(PerpsWs *ws);

extern PerpsWsState perps_ws_state(const PerpsWs *ws);

/* Why the connection closed or could not open ("" while it is up). */
extern const char *perps_ws_error(const PerpsWs *ws);

/* Queues a text message; false when closed or more than 1 MB is waiting. */
extern bool perps_ws_send(PerpsWs *ws, const char *data, size_t len);

/*
 * The oldest received message, or false when none is queued.  *data stays
 * valid until the next call or perps_ws_free.  A message dropped because
 * it exceeded max_message comes in its place, in order, with *data NULL.
 */
extern bool perps_ws_next(PerpsWs *ws, const char **data, size_t *len, bool *binary);

/*
 * Sends a WebSocket ping (for venues without an application-level one);
 * the pongs that come back are counted, so a quiet connection can be told
 * from a dead one.
 */
extern void perps_ws_ping(PerpsWs *ws);
extern uint64_t perps_ws_pongs(const PerpsWs *ws);

/* Asks lws to close the connection (the state becomes CLOSED). */
extern void perps_ws_close(PerpsWs *ws);

/* Bytes received (on the wire). */
extern uint64_t perps_ws_bytes(const PerpsWs *ws);

/* True while reading is paused because the queue is full. */
extern bool perps_ws_paused(const PerpsWs *ws);

/* Bytes received and not yet taken with perps_ws_next. */
extern size_t perps_ws_queued(const PerpsWs *ws);

#endif							/* PERPS_LWS_H */
