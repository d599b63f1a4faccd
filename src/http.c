/*-------------------------------------------------------------------------
 *
 * http.c
 *		The HTTP layer on libcurl (see http.h for what it promises).
 *
 * One curl multi handle per backend, created on first use and kept: its
 * connection cache and DNS cache make later calls to the same venue reuse
 * their connections.  Easy handles are pooled too.  Both are freed by an
 * on_proc_exit callback.
 *
 * perps_http_run() is a small scheduler: each call waits for its start
 * time (backoff) and its venue's token bucket, runs in the multi handle
 * with at most perps_stats.http_max_concurrency transfers at a time, and
 * on a 429, 418, 5xx or a transient transport failure is scheduled again
 * after a jittered exponential backoff (at least Retry-After), as long as
 * the retry would start within perps_stats.http_retry_budget of the
 * call's first attempt.  Waits are slices of at most 100 ms followed by
 * CHECK_FOR_INTERRUPTS(); PG_FINALLY takes every easy handle out of the
 * multi handle whatever happened.
 *
 * Response bodies grow in the caller's memory context with
 * MCXT_ALLOC_NO_OOM allocations: libcurl's write callback must never
 * longjmp.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "perps_pg.h"

#include <time.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "perps_curl.h"
#include "http.h"
#include "ratelimit.h"
#include "perps_stats.h"

StaticAssertDecl(sizeof(((PerpsHttpCall *) 0)->errbuf) >= CURL_ERROR_SIZE,
				 "PerpsHttpCall.errbuf must hold CURL_ERROR_SIZE bytes");

int			perps_http_timeout = 10000;
int			perps_http_connect_timeout = 5000;
int			perps_http_retry_budget = 30000;
int			perps_http_max_retries = 5;
int			perps_http_max_response_size = 32768;	/* kB */
int			perps_http_max_concurrency = 64;

/* backoff: first retry after about this, doubling, capped */
#define HTTP_BACKOFF_BASE_MS 250
#define HTTP_BACKOFF_MAX_MS 10000
/* longest single wait before interrupts are checked */
#define HTTP_WAIT_SLICE_MS 100

enum
{
	CALL_WAITING = 0,
	CALL_RUNNING,
	CALL_DONE
};

/* ---- per-backend libcurl state ---- */

static bool http_initialized = false;
static CURLM *http_multi = NULL;
static struct curl_slist *http_headers_get = NULL;
static struct curl_slist *http_headers_post = NULL;
#define HTTP_POOL_MAX 64
static CURL *http_pool[HTTP_POOL_MAX];
static int	http_npool = 0;

/* the context response bodies go to, during perps_http_run() */
static MemoryContext http_body_cxt = NULL;

int64
perps_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
perps_http_define_gucs(void)
{
	DefineCustomIntVariable("perps_stats.http_timeout",
							"Longest time one HTTP request to an exchange may take.",
							NULL,
							&perps_http_timeout,
							10000, 100, 600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("perps_stats.http_connect_timeout",
							"Longest time connecting to an exchange may take.",
							NULL,
							&perps_http_connect_timeout,
							5000, 100, 600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("perps_stats.http_retry_budget",
							"Time after a request's first attempt within which it may be retried.",
							"Requests answered with 429, 418 or 5xx, or that fail in transit, are retried "
							"with jittered exponential backoff (at least Retry-After) while a retry "
							"can start within this budget.  0 disables retries.",
							&perps_http_retry_budget,
							30000, 0, 3600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("perps_stats.http_max_retries",
							"Most retries of one HTTP request.",
							NULL,
							&perps_http_max_retries,
							5, 0, 100,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("perps_stats.http_max_response_size",
							"Largest response body accepted from an exchange.",
							NULL,
							&perps_http_max_response_size,
							32768, 1, PERPS_JSON_MAX_BYTES / 1024,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("perps_stats.http_max_concurrency",
							"Most HTTP requests one backend runs at the same time.",
							"Each venue's rate limit still applies; a collect() round of 6 venues and 20 symbols is 640 requests.",
							&perps_http_max_concurrency,
							64, 1, HTTP_POOL_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

static void
http_cleanup(int code, Datum arg)
{
	for (int i = 0; i < http_npool; i++)
		curl_easy_cleanup(http_pool[i]);
	http_npool = 0;
	if (http_multi)
		curl_multi_cleanup(http_multi);
	http_multi = NULL;
	curl_slist_free_all(http_headers_get);
	curl_slist_free_all(http_headers_post);
	http_headers_get = http_headers_post = NULL;
	curl_global_cleanup();
	http_initialized = false;
}

static struct curl_slist *
http_header(struct curl_slist *list, const char *h)
{
	struct curl_slist *n = curl_slist_append(list, h);

	if (n == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	return n;
}

static void
http_init(void)
{
	CURLcode	rc;

	if (http_initialized)
		return;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialize libcurl: %s", curl_easy_strerror(rc))));
	http_multi = curl_multi_init();
	if (http_multi == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a libcurl multi handle")));
	/* several requests to one venue share a connection under HTTP/2 */
	curl_multi_setopt(http_multi, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX);
	http_headers_get = http_header(NULL, "Accept: application/json");
	http_headers_post = http_header(NULL, "Accept: application/json");
	http_headers_post = http_header(http_headers_post, "Content-Type: application/json");
	http_initialized = true;
	on_proc_exit(http_cleanup, (Datum) 0);
}

static CURL *
http_easy_get(void)
{
	CURL	   *h;

	if (http_npool > 0)
		return http_pool[--http_npool];
	h = curl_easy_init();
	if (h == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a libcurl handle")));
	return h;
}

static void
http_easy_put(CURL *h)
{
	curl_easy_reset(h);
	if (http_npool < HTTP_POOL_MAX)
		http_pool[http_npool++] = h;
	else
		curl_easy_cleanup(h);
}

/* ---- rate limits ---- */

/*
 * Takes the request's weight from its venue's account, shared by the
 * cluster (ratelimit.h), held in c->rate until the attempt ends
 * (http_detach); otherwise returns false and how long to wait.
 */
static bool
http_rate_take(PerpsHttpCall *c, int64 now, int64 *wait_ms)
{
	return perps_rate_take(c->rate_account ? c->rate_account : c->venue, c->limit.weight, c->limit.window_ms,
						   c->req->weight > 0 ? c->req->weight : 1, now, wait_ms, &c->rate);
}

/* ---- transfers ---- */

static size_t
http_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	PerpsHttpCall *c = (PerpsHttpCall *) userdata;
	size_t		n = size * nmemb;
	size_t		max = (size_t) perps_http_max_response_size * 1024;

	if (n > max || c->len > max - n)
	{
		c->too_big = true;
		return 0;
	}
	if (c->body == NULL || c->len + n + 1 > c->cap)
	{
		size_t		cap = Max(Max(c->cap * 2, c->len + n + 1), (size_t) 16384);
		char	   *nb;

		cap = Min(cap, max + 1);
		nb = MemoryContextAllocExtended(http_body_cxt, cap, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (nb == NULL)
		{
			c->nomem = true;
			return 0;
		}
		if (c->body)
		{
			memcpy(nb, c->body, c->len);
			pfree(c->body);
		}
		c->body = nb;
		c->cap = cap;
	}
	memcpy(c->body + c->len, ptr, n);
	c->len += n;
	c->body[c->len] = '\0';
	return n;
}

static void
http_start(PerpsHttpCall *c, int64 now)
{
	CURL	   *h = http_easy_get();
	char	   *url;

	c->easy = h;
	if (c->body)
		pfree(c->body);
	c->body = NULL;
	c->len = c->cap = 0;
	c->too_big = c->nomem = false;
	c->status = 0;
	if (c->attempts == 0)
		c->deadline_ms = now + perps_http_retry_budget;
	c->attempts++;

	url = psprintf("%s%s", c->base_url, c->req->path);
	PERPS_CURL_SETOPT(h, CURLOPT_URL, url);
	pfree(url);
	PERPS_CURL_SETOPT(h, CURLOPT_PRIVATE, (void *) c);
	PERPS_CURL_SETOPT(h, CURLOPT_WRITEFUNCTION, http_write);
	PERPS_CURL_SETOPT(h, CURLOPT_WRITEDATA, (void *) c);
	c->errbuf[0] = '\0';
	PERPS_CURL_SETOPT(h, CURLOPT_ERRORBUFFER, c->errbuf);
	PERPS_CURL_SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	PERPS_CURL_SETOPT(h, CURLOPT_TIMEOUT_MS, (long) perps_http_timeout);
	PERPS_CURL_SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, (long) perps_http_connect_timeout);
	PERPS_CURL_SETOPT(h, CURLOPT_ACCEPT_ENCODING, "");
	PERPS_CURL_SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
	PERPS_CURL_SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
	PERPS_CURL_SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
	PERPS_CURL_SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	PERPS_CURL_SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
	PERPS_CURL_SETOPT(h, CURLOPT_MAXFILESIZE_LARGE,
					  (curl_off_t) perps_http_max_response_size * 1024);
	PERPS_CURL_SETOPT(h, CURLOPT_USERAGENT, "perps_stats/" PERPS_STATS_VERSION);
	if (c->req->post)
	{
		PERPS_CURL_SETOPT(h, CURLOPT_HTTPHEADER, http_headers_post);
		PERPS_CURL_SETOPT(h, CURLOPT_COPYPOSTFIELDS, c->req->body ? c->req->body : "");
	}
	else
		PERPS_CURL_SETOPT(h, CURLOPT_HTTPHEADER, http_headers_get);

	PERPS_CURL_MULTI_CHECK(curl_multi_add_handle(http_multi, h));
	c->state = CALL_RUNNING;
}

static void
http_detach(PerpsHttpCall *c)
{
	/* the attempt ended (or is abandoned): its weight counts a window from now */
	perps_rate_done(&c->rate, perps_now_ms());
	if (c->easy)
	{
		curl_multi_remove_handle(http_multi, (CURL *) c->easy);
		http_easy_put((CURL *) c->easy);
		c->easy = NULL;
	}
}

static const char *
http_verb(const PerpsHttpCall *c)
{
	return c->req->post ? "POST" : "GET";
}

/* Records a final failure. */
static void
http_fail(PerpsHttpCall *c, int sqlstate, char *msg, char *detail)
{
	c->state = CALL_DONE;
	c->sqlstate = sqlstate;
	c->errmsg = msg;
	c->errdetail = detail;
}

/* A jittered exponential backoff before retry number `attempt` (1-based). */
static int64
http_backoff_ms(int attempt)
{
	double		base = HTTP_BACKOFF_BASE_MS;

	for (int i = 1; i < attempt && base < HTTP_BACKOFF_MAX_MS; i++)
		base *= 2;
	base = Min(base, HTTP_BACKOFF_MAX_MS);
	/* "equal jitter": half fixed, half random */
	return (int64) (base / 2 + pg_prng_double(&pg_global_prng_state) * base / 2);
}

/*
 * Schedules a retry when one is allowed; true if it did.  retry_after is
 * the server's Retry-After in seconds (0 when none).
 */
static bool
http_maybe_retry(PerpsHttpCall *c, int64 now, long retry_after)
{
	int64		delay;

	if (c->attempts > perps_http_max_retries)
		return false;
	delay = http_backoff_ms(c->attempts);
	if (retry_after > 0)
		delay = Max(delay, (int64) retry_after * 1000);
	if (now + delay > c->deadline_ms)
		return false;
	c->state = CALL_WAITING;
	c->not_before_ms = now + delay;
	return true;
}

static char *
http_gave_up(const PerpsHttpCall *c)
{
	if (c->attempts <= 1)
		return NULL;
	if (c->attempts > perps_http_max_retries)
		return psprintf("Gave up after %d attempts (perps_stats.http_max_retries is %d).",
						c->attempts, perps_http_max_retries);
	return psprintf("Gave up after %d attempts: another would not start within "
					"perps_stats.http_retry_budget (%d ms).",
					c->attempts, perps_http_retry_budget);
}

static void
http_finish(PerpsHttpCall *c, CURLcode rc, int64 now)
{
	CURL	   *h = (CURL *) c->easy;
	long		status = 0;
	curl_off_t	retry_after = 0;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after);
	http_detach(c);
	c->status = status;

	if (rc != CURLE_OK)
	{
		int			sqlstate;
		bool		transient;
		const char *what;

		if (c->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		{
			http_fail(c, ERRCODE_PROGRAM_LIMIT_EXCEEDED,
					  psprintf("response of %s to %s %s exceeds perps_stats.http_max_response_size (%d kB)",
							   c->venue, http_verb(c), c->req->path, perps_http_max_response_size),
					  NULL);
			return;
		}
		if (c->nomem)
		{
			http_fail(c, ERRCODE_OUT_OF_MEMORY,
					  psprintf("out of memory reading the response of %s to %s %s",
							   c->venue, http_verb(c), c->req->path),
					  NULL);
			return;
		}
		what = perps_curl_describe(rc, c->errbuf, &sqlstate, &transient);
		if (transient && http_maybe_retry(c, now, 0))
			return;
		http_fail(c, sqlstate,
				  psprintf("could not fetch %s %s from %s: %s",
						   http_verb(c), c->req->path, c->venue, what),
				  http_gave_up(c));
		return;
	}

	if (status >= 200 && status < 300)
	{
		c->state = CALL_DONE;
		c->sqlstate = 0;
		return;
	}
	if (status == 429 || status == 418 || status >= 500)
	{
		if (http_maybe_retry(c, now, (long) retry_after))
			return;
		http_fail(c,
				  status >= 500 ? ERRCODE_CONNECTION_FAILURE
				  : ERRCODE_SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION,
				  psprintf("%s answered %s %s with HTTP status %ld%s",
						   c->venue, http_verb(c), c->req->path, status,
						   status == 429 || status == 418 ? " (rate limited)" : ""),
				  http_gave_up(c));
		return;
	}
	http_fail(c,
			  (status == 401 || status == 403) ? ERRCODE_INSUFFICIENT_PRIVILEGE
			  : ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
			  psprintf("%s answered %s %s with HTTP status %ld",
					   c->venue, http_verb(c), c->req->path, status),
			  NULL);
}

static void
http_drain(PerpsHttpCall *calls, int ncalls, int *running)
{
	CURLMsg    *msg;
	int			left;

	while ((msg = curl_multi_info_read(http_multi, &left)) != NULL)
	{
		PerpsHttpCall *c = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &c);
		if (c == NULL || c->easy != msg->easy_handle)
			elog(ERROR, "libcurl reported a transfer perps_stats did not start");
		(*running)--;
		http_finish(c, msg->data.result, perps_now_ms());
	}
}

void
perps_http_run(PerpsHttpCall *calls, int ncalls)
{
	perps_http_run_cb(calls, ncalls, NULL, NULL);
}

/* on_done for each call that ended since the last time */
static void
http_tell(PerpsHttpCall *calls, int ncalls, void (*on_done) (PerpsHttpCall *, void *), void *arg)
{
	for (int i = 0; i < ncalls; i++)
	{
		PerpsHttpCall *c = &calls[i];

		if (c->told || c->state == CALL_WAITING || c->state == CALL_RUNNING)
			continue;
		c->told = true;
		if (on_done)
			on_done(c, arg);
	}
}

void
perps_http_run_cb(PerpsHttpCall *calls, int ncalls, void (*on_done) (PerpsHttpCall *, void *), void *arg)
{
	MemoryContext save_body_cxt = http_body_cxt;

	http_init();
	for (int i = 0; i < ncalls; i++)
	{
		PerpsHttpCall *c = &calls[i];

		c->state = CALL_WAITING;
		c->not_before_ms = 0;
		c->deadline_ms = 0;
		c->attempts = 0;
		c->easy = NULL;
		memset(&c->rate, 0, sizeof(c->rate));
		c->body = NULL;
		c->len = c->cap = 0;
		c->status = 0;
		c->sqlstate = 0;
		c->errmsg = c->errdetail = NULL;
		c->told = false;
	}
	http_body_cxt = CurrentMemoryContext;

	PG_TRY();
	{
		int			running = 0;

		for (;;)
		{
			int64		now = perps_now_ms();
			int64		wake = PG_INT64_MAX;
			int			waiting = 0;
			int			still;

			for (int i = 0; i < ncalls; i++)
			{
				PerpsHttpCall *c = &calls[i];
				int64		wait_ms;

				if (c->state != CALL_WAITING || c->held)
					continue;
				waiting++;
				if (running >= perps_http_max_concurrency)
					continue;	/* a completion wakes us */
				if (c->not_before_ms > now)
				{
					wake = Min(wake, c->not_before_ms);
					continue;
				}
				if (!http_rate_take(c, now, &wait_ms))
				{
					wake = Min(wake, now + wait_ms);
					continue;
				}
				http_start(c, now);
				running++;
				waiting--;
			}
			if (on_done)
				http_tell(calls, ncalls, on_done, arg);
			if (running == 0 && waiting == 0)
			{
				/* what is still held goes unsent; telling it may release others */
				bool		released = false;

				/* a call a callback released since this turn counted them */
				for (int i = 0; i < ncalls; i++)
					released |= calls[i].state == CALL_WAITING && !calls[i].held;
				if (released)
					continue;
				for (int i = 0; i < ncalls; i++)
					if (calls[i].state == CALL_WAITING && calls[i].held)
						http_fail(&calls[i], PERPS_HTTP_UNSENT,
								  psprintf("%s %s to %s was not sent: nothing asked for it",
										   http_verb(&calls[i]), calls[i].req->path, calls[i].venue),
								  NULL);
				if (on_done)
					http_tell(calls, ncalls, on_done, arg);
				for (int i = 0; i < ncalls; i++)
					released |= calls[i].state == CALL_WAITING;
				if (!released)
					break;
				continue;
			}

			if (running > 0)
			{
				long		timeout = HTTP_WAIT_SLICE_MS;

				PERPS_CURL_MULTI_CHECK(curl_multi_perform(http_multi, &still));
				http_drain(calls, ncalls, &running);
				if (wake != PG_INT64_MAX)
					timeout = (long) Max(0, Min(timeout, wake - perps_now_ms()));
				pgstat_report_wait_start(PG_WAIT_EXTENSION);
				curl_multi_poll(http_multi, NULL, 0, (int) timeout, NULL);
				pgstat_report_wait_end();
				CHECK_FOR_INTERRUPTS();
				PERPS_CURL_MULTI_CHECK(curl_multi_perform(http_multi, &still));
				http_drain(calls, ncalls, &running);
				if (on_done)
					http_tell(calls, ncalls, on_done, arg);
			}
			else
			{
				long		timeout = (long) Min(Max(wake - perps_now_ms(), 1), 1000);

				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 timeout, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
		}
	}
	PG_FINALLY();
	{
		for (int i = 0; i < ncalls; i++)
			http_detach(&calls[i]);
		http_body_cxt = save_body_cxt;
	}
	PG_END_TRY();
}

/* Printable start of a body for an error detail. */
static char *
http_snippet(const char *body, size_t len)
{
	size_t		n = Min(len, (size_t) 200);
	char	   *s = palloc(n + 4);

	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) body[i];

		s[i] = (ch >= 0x20 && ch < 0x7f) ? (char) ch : '?';
	}
	s[n] = '\0';
	if (len > n)
		strcat(s, "...");
	return s;
}

char *
perps_http_detail(const PerpsHttpCall *c, const char *venue_message)
{
	char	   *detail = c->errdetail;

	if (venue_message && venue_message[0])
		detail = psprintf("%s says: %s.%s%s", c->venue, venue_message,
						  detail ? " " : "", detail ? detail : "");
	else if (c->status >= 400 && c->body && c->len > 0)
		detail = psprintf("The response began: %s.%s%s", http_snippet(c->body, c->len),
						  detail ? " " : "", detail ? detail : "");
	return detail;
}

void
perps_http_raise(const PerpsHttpCall *c, const char *venue_message)
{
	char	   *detail = perps_http_detail(c, venue_message);

	ereport(ERROR,
			(errcode(c->sqlstate ? c->sqlstate : ERRCODE_CONNECTION_EXCEPTION),
			 errmsg_internal("%s", c->errmsg ? c->errmsg : "HTTP request failed"),
			 detail ? errdetail_internal("%s", detail) : 0));
}
