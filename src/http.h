/*-------------------------------------------------------------------------
 *
 * http.h
 *		The HTTP layer every exchange adapter's requests go through:
 *		libcurl with connection reuse, timeouts, compression, TLS
 *		verification, a bounded response size, a per-venue rate limit,
 *		retries with jittered exponential backoff (honouring Retry-After)
 *		within a time budget, and any number of requests run concurrently.
 *
 * Runs in the calling backend, in its one thread.  Waiting is
 * interruptible: a query cancel or a termination stops a transfer within
 * about 100 ms, and an ereport unwinding through perps_http_run() leaves no
 * libcurl handle behind.
 *
 * Memory: response bodies and error texts are palloc'd in the memory
 * context current when perps_http_run() is called.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_HTTP_H
#define PERPS_HTTP_H

#include "postgres.h"

#include "adapter.h"
#include "ratelimit.h"

typedef struct PerpsHttpCall
{
	/* in */
	const char *venue;			/* venue name: messages, and the rate-limit account
								 * unless rate_account says otherwise */
	const char *rate_account;	/* the rate-limit account; NULL: venue */
	const char *base_url;		/* exchanges.rest_url, or aux_url (req->aux) */
	const PerpsRequest *req;	/* path (appended to base_url), method, body, weight */
	PerpsRateLimit limit;		/* the venue's limit; weight 0 = unlimited */
	bool		held;			/* not sent until an on_done callback clears it (perps_http_run_cb);
								 * still set when nothing else is left: ends unsent */

	/* out */
	char	   *body;			/* NUL-terminated; NULL when nothing arrived */
	size_t		len;
	long		status;			/* last HTTP status; 0 when none arrived */
	int			attempts;
	int			sqlstate;		/* 0 when the call succeeded (2xx) */
	char	   *errmsg;			/* primary message when it failed */
	char	   *errdetail;		/* a full sentence, or NULL */

	/* private to http.c */
	int			state;
	int64		not_before_ms;
	int64		deadline_ms;
	void	   *easy;
	size_t		cap;
	bool		too_big;
	bool		nomem;
	PerpsRateTicket rate;		/* the weight of the attempt in flight */
	bool		told;			/* on_done has been called */
	char		errbuf[256];	/* CURLOPT_ERRORBUFFER (CURL_ERROR_SIZE) */
} PerpsHttpCall;

/* Defines the perps_stats.http_* settings; called from _PG_init. */
extern void perps_http_define_gucs(void);

/*
 * Runs the calls concurrently (up to perps_stats.http_max_concurrency at a
 * time, each venue within its rate limit) until every one has succeeded or
 * failed for good.  A call's failure is recorded in the call, never raised:
 * one failing request must not stop the others.  Raises only for
 * interrupts and can't-happen libcurl failures.
 */
extern void perps_http_run(PerpsHttpCall *calls, int ncalls);

/*
 * The same, calling on_done(call, arg) as each call ends for good (done or
 * failed), from inside the loop: the caller can use an answer while the
 * other calls are in flight or wait for their venue's limit.  A held call
 * goes once on_done (for another call) clears its held; those still held
 * when no other call is left end unsent (PERPS_HTTP_UNSENT), told too.  An error
 * on_done raises ends the run as an interrupt does (every transfer let go);
 * on_done must not free calls.
 */
extern void perps_http_run_cb(PerpsHttpCall *calls, int ncalls,
							  void (*on_done) (PerpsHttpCall *call, void *arg), void *arg);

/* The sqlstate of a held call that was never released: it was not sent. */
#define PERPS_HTTP_UNSENT ERRCODE_NO_DATA

/*
 * The detail of a failed call's error: the venue's own message (parsed from
 * its error payload by the adapter) or the start of the body, and why no
 * further retry was made.  NULL when there is nothing to say.
 */
extern char *perps_http_detail(const PerpsHttpCall *call, const char *venue_message);

/* Raises the error recorded in a failed call. */
extern void perps_http_raise(const PerpsHttpCall *call, const char *venue_message) pg_attribute_noreturn();

/* Milliseconds on a monotonic clock. */
extern int64 perps_now_ms(void);

/* Settings (perps_stats.http_*). */
extern int	perps_http_timeout;
extern int	perps_http_connect_timeout;
extern int	perps_http_retry_budget;
extern int	perps_http_max_retries;
extern int	perps_http_max_response_size;
extern int	perps_http_max_concurrency;

#endif							/* PERPS_HTTP_H */
