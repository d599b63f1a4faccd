/*-------------------------------------------------------------------------
 *
 * perps_json.h
 *		The one wrapper around json-c, and the hostile-input helpers every
 *		adapter parses with: exact decimals, integers and timestamps from
 *		JSON numbers or strings, bounded and type-checked.
 *
 * Plain C: no PostgreSQL API is used here or by the adapters, so that the
 * parsers can be fuzzed in a standalone binary.  Allocation goes through
 * the PerpsArena of the context; an allocation failure is a status, never
 * an abort.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_JSON_H
#define PERPS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json.h>				/* json-c */

typedef enum PerpsStatus
{
	PERPS_OK = 0,
	PERPS_ERR_JSON = -1,		/* not well-formed JSON, too deep, too large */
	PERPS_ERR_SHAPE = -2,		/* a field missing or of the wrong type/format */
	PERPS_ERR_VENUE = -3,		/* the venue answered with an error payload */
	PERPS_UNSUPPORTED = -4,		/* the venue has no public endpoint for it */
	PERPS_ERR_NOMEM = -5,
	PERPS_ERR_NOT_FOUND = -6,	/* the symbol is not in the payload */
	PERPS_ERR_ARG = -7			/* a query argument the venue cannot take */
} PerpsStatus;

/* Arena: an allocation function that returns NULL on failure. */
typedef struct PerpsArena
{
	void	   *(*alloc) (void *state, size_t size);
	void	   *state;
} PerpsArena;

#define PERPS_ERRMSG_LEN 256

typedef struct PerpsCtx
{
	PerpsArena	arena;
	PerpsStatus status;			/* first error recorded */
	char		errmsg[PERPS_ERRMSG_LEN];
} PerpsCtx;

/* Largest body parsed, and deepest nesting accepted. */
#define PERPS_JSON_MAX_BYTES (64 * 1024 * 1024)
#define PERPS_JSON_MAX_DEPTH 32
/* Longest decimal text accepted (numeric's own limits are far larger). */
#define PERPS_DECIMAL_MAX_LEN 80

typedef enum PerpsTimeUnit
{
	PERPS_S,
	PERPS_MS,
	PERPS_US,
	PERPS_NS
} PerpsTimeUnit;

/*
 * UTF-8, strictly (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF).  perps_utf8_invalid returns the offset of the first byte that
 * is not part of a valid character, or len when all of s[0..len) is valid.
 * perps_utf8_clean rewrites a NUL-terminated buffer in place so that it is
 * valid: an invalid byte becomes '?', and a character cut short at the end
 * (a message clipped to its buffer) is dropped; returns s.
 */
extern size_t perps_utf8_invalid(const char *s, size_t len);
extern char *perps_utf8_clean(char *s);
/*
 * The length of the longest start of the NUL-terminated s of at most max
 * bytes that ends on a character boundary: "%.*s" with it clips a venue's
 * text without cutting a character in two.
 */
extern int	perps_utf8_cut(const char *s, int max);

/* Records an error (the first one wins, clipped on a character boundary) and returns its status. */
extern PerpsStatus perps_fail(PerpsCtx *ctx, PerpsStatus st, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

extern void *perps_alloc(PerpsCtx *ctx, size_t size);	/* zeroed */
extern void *perps_alloc_array(PerpsCtx *ctx, size_t n, size_t size);	/* overflow-checked */
extern char *perps_strndup(PerpsCtx *ctx, const char *s, size_t n);

/*
 * Parses a whole body.  Fails on malformed or trailing data, bytes that
 * are not UTF-8 (RFC 8259 JSON is UTF-8; a venue's text is stored as
 * text), nesting deeper than PERPS_JSON_MAX_DEPTH, or more than
 * PERPS_JSON_MAX_BYTES.  The caller
 * owns *out and must json_object_put() it.
 */
extern PerpsStatus perps_json_parse(PerpsCtx *ctx, const char *data, size_t len,
									struct json_object **out);

/* Member of an object, or NULL when obj is not an object or has no key. */
extern struct json_object *perps_json_get(struct json_object *obj, const char *key);

/* Member that must be of the given json_type; fails (SHAPE) otherwise. */
extern PerpsStatus perps_json_need(PerpsCtx *ctx, struct json_object *obj, const char *key,
								   json_type type, struct json_object **out);

/*
 * Exact decimal text of a JSON string or number (never through a double:
 * json-c keeps a number's original text).  Accepts [-+]digits[.digits][e[-+]digits]
 * and ".5"/"5." forms; rejects NaN, Infinity, hex, empty and over-long text.
 * *out is arena-allocated.  A JSON null or a missing value gives *out = NULL
 * and PERPS_OK only through perps_json_decimal_opt.
 */
extern PerpsStatus perps_json_decimal(PerpsCtx *ctx, struct json_object *v, const char *what,
									  const char **out);
extern PerpsStatus perps_json_decimal_opt(PerpsCtx *ctx, struct json_object *v, const char *what,
										  const char **out);
/* Same for obj[key]. */
extern PerpsStatus perps_json_decimal_field(PerpsCtx *ctx, struct json_object *obj,
											const char *key, bool required, const char **out);

/* Validates decimal text; true when it is a finite decimal. */
extern bool perps_decimal_valid(const char *s, size_t len);

/*
 * Moves the decimal point of a valid decimal text by `shift` places
 * (negative = divide by 10^-shift): "1.25" shifted -2 is "0.0125".  Exact.
 */
extern const char *perps_decimal_shift(PerpsCtx *ctx, const char *dec, int shift);

/*
 * Exact a - b and a * b of two valid decimal texts, in plain notation with
 * the scale the operands imply ("51444.40" - "50147.50" = "1296.90").
 * NULL when an operand is NULL; SHAPE when one is invalid or too long.
 */
extern const char *perps_decimal_sub(PerpsCtx *ctx, const char *a, const char *b);
extern const char *perps_decimal_mul(PerpsCtx *ctx, const char *a, const char *b);

/* int64 from a JSON integer, or a string of digits; exact; range-checked. */
extern PerpsStatus perps_json_int64(PerpsCtx *ctx, struct json_object *v, const char *what,
									int64_t *out);
extern PerpsStatus perps_json_int64_field(PerpsCtx *ctx, struct json_object *obj, const char *key,
										  int64_t *out);

/*
 * A timestamp in the given unit (JSON integer, numeric string, or a decimal
 * string with a fraction for seconds) to microseconds since the epoch.
 * Nanoseconds are truncated to microseconds.  Range-checked.
 */
extern PerpsStatus perps_json_ts(PerpsCtx *ctx, struct json_object *v, PerpsTimeUnit unit,
								 const char *what, int64_t *out_us);
extern PerpsStatus perps_json_ts_field(PerpsCtx *ctx, struct json_object *obj, const char *key,
									   PerpsTimeUnit unit, int64_t *out_us);

/* A JSON string's text (arena copy), or SHAPE when not a string or it holds a NUL (\u0000). */
extern PerpsStatus perps_json_string(PerpsCtx *ctx, struct json_object *v, const char *what,
									 const char **out);
/* A string or integer identifier as text (trade ids: 28-digit strings, > 2^53 integers). */
extern PerpsStatus perps_json_id(PerpsCtx *ctx, struct json_object *v, const char *what,
								 const char **out);

#endif							/* PERPS_JSON_H */
