/*-------------------------------------------------------------------------
 *
 * perps_json.c
 *		json-c wrapper and exact-number helpers for the exchange adapters.
 *
 * Every byte parsed here came from the network: lengths are bounded, types
 * are checked before use, numbers are range-checked, and nothing aborts.
 * Plain C (see perps_json.h): no PostgreSQL API.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perps_json.h"

/* Length of the character whose first byte is c (0: c cannot start one). */
static int
utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/*
 * Whether the n bytes at p (n = utf8_seq_len(p[0]) > 1, all present) are
 * one valid character: continuation bytes, and the ranges of the lead that
 * exclude overlong forms, surrogates and code points past U+10FFFF.
 */
static bool
utf8_second_ok(unsigned char lead, unsigned char c)
{
	unsigned char lo = 0x80,
				hi = 0xbf;

	if (lead == 0xe0)
		lo = 0xa0;
	else if (lead == 0xed)
		hi = 0x9f;
	else if (lead == 0xf0)
		lo = 0x90;
	else if (lead == 0xf4)
		hi = 0x8f;
	return c >= lo && c <= hi;
}

/* Whether the first n bytes at p (a lead, then n - 1 of its continuation bytes) are valid so far. */
static bool
utf8_seq_valid(const unsigned char *p, int n)
{
	if (n > 1 && !utf8_second_ok(p[0], p[1]))
		return false;
	for (int k = 2; k < n; k++)
		if ((p[k] & 0xc0) != 0x80)
			return false;
	return true;
}

size_t
perps_utf8_invalid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < len)
	{
		int			n;

		/* plain ASCII, eight bytes at a time */
		while (i + 8 <= len)
		{
			uint64_t	w;

			memcpy(&w, p + i, 8);
			if (w & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		if (i >= len)
			break;
		n = utf8_seq_len(p[i]);
		if (n == 0 || (size_t) n > len - i || (n > 1 && !utf8_seq_valid(p + i, n)))
			return i;
		i += n;
	}
	return len;
}

char *
perps_utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *) s;
	size_t		len = strlen(s);
	size_t		i = 0;

	while ((i += perps_utf8_invalid(s + i, len - i)) < len)
	{
		int			n = utf8_seq_len(p[i]);

		/* a valid start cut short by the end of the buffer: a clipped message */
		if (n > 1 && (size_t) n > len - i && utf8_seq_valid(p + i, (int) (len - i)))
		{
			p[i] = '\0';
			break;
		}
		p[i++] = '?';
	}
	return s;
}

int
perps_utf8_cut(const char *s, int max)
{
	const unsigned char *p = (const unsigned char *) s;
	int			n = 0;

	if (s == NULL || max <= 0)
		return 0;
	while (n < max && p[n] != '\0')
		n++;
	if (n < max || p[n] == '\0')
		return n;				/* all of it fits */
	/* p[n] is the first byte left out: back off over a character it continues */
	if ((p[n] & 0xc0) == 0x80)
	{
		int			k = n;

		while (k > 0 && n - k < 3 && (p[k] & 0xc0) == 0x80)
			k--;
		if (utf8_seq_len(p[k]) > 1)
			return k;
	}
	return n;
}

PerpsStatus
perps_fail(PerpsCtx *ctx, PerpsStatus st, const char *fmt,...)
{
	if (ctx->status == PERPS_OK)
	{
		va_list		ap;

		va_start(ap, fmt);
		vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
		va_end(ap);
		perps_utf8_clean(ctx->errmsg);
		ctx->status = st;
	}
	return st;
}

void *
perps_alloc(PerpsCtx *ctx, size_t size)
{
	void	   *p;

	if (size == 0)
		size = 1;
	p = ctx->arena.alloc(ctx->arena.state, size);
	if (p == NULL)
	{
		perps_fail(ctx, PERPS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	memset(p, 0, size);
	return p;
}

void *
perps_alloc_array(PerpsCtx *ctx, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
	{
		perps_fail(ctx, PERPS_ERR_NOMEM, "array of %zu elements too large", n);
		return NULL;
	}
	return perps_alloc(ctx, n * size);
}

char *
perps_strndup(PerpsCtx *ctx, const char *s, size_t n)
{
	char	   *p = perps_alloc(ctx, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static struct json_tokener *cached_tok;

PerpsStatus
perps_json_parse(PerpsCtx *ctx, const char *data, size_t len, struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t		used;

	*out = NULL;
	if (data == NULL || len == 0)
		return perps_fail(ctx, PERPS_ERR_JSON, "empty response body");
	if (len > PERPS_JSON_MAX_BYTES || len > INT_MAX)
		return perps_fail(ctx, PERPS_ERR_JSON, "response body of %zu bytes exceeds the %d byte limit",
						  len, PERPS_JSON_MAX_BYTES);
	if ((used = perps_utf8_invalid(data, len)) < len)
		return perps_fail(ctx, PERPS_ERR_JSON, "not UTF-8: byte %zu (0x%02x) starts no valid character",
						  used, (unsigned char) data[used]);

	/*
	 * One tokener for the process, reset for each document: a new one per
	 * document costs a large calloc (its stack) that makes glibc consolidate
	 * the small chunks the last document's objects left.  (A process parses
	 * one document at a time.)
	 */
	if (cached_tok == NULL)
	{
		cached_tok = json_tokener_new_ex(PERPS_JSON_MAX_DEPTH);
		if (cached_tok == NULL)
			return perps_fail(ctx, PERPS_ERR_NOMEM, "out of memory");
		json_tokener_set_flags(cached_tok, JSON_TOKENER_STRICT);
	}
	tok = cached_tok;
	json_tokener_reset(tok);
	obj = json_tokener_parse_ex(tok, data, (int) len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_reset(tok);

	if (jerr != json_tokener_success || obj == NULL)
	{
		if (obj)
			json_object_put(obj);
		if (jerr == json_tokener_continue)
			return perps_fail(ctx, PERPS_ERR_JSON, "truncated JSON (%zu bytes)", len);
		return perps_fail(ctx, PERPS_ERR_JSON, "malformed JSON at byte %zu: %s",
						  used, json_tokener_error_desc(jerr));
	}
	/* only white space may follow the value */
	while (used < len && isspace((unsigned char) data[used]))
		used++;
	if (used != len)
	{
		json_object_put(obj);
		return perps_fail(ctx, PERPS_ERR_JSON, "trailing data after JSON value at byte %zu", used);
	}
	*out = obj;
	return PERPS_OK;
}

struct json_object *
perps_json_get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

static const char *
perps_json_type_name(struct json_object *v)
{
	return v == NULL ? "missing" : json_type_to_name(json_object_get_type(v));
}

PerpsStatus
perps_json_need(PerpsCtx *ctx, struct json_object *obj, const char *key, json_type type,
				struct json_object **out)
{
	struct json_object *v = perps_json_get(obj, key);

	*out = NULL;
	if (v == NULL || !json_object_is_type(v, type))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "field \"%s\" is %s, expected %s",
						  key, perps_json_type_name(v), json_type_to_name(type));
	*out = v;
	return PERPS_OK;
}

bool
perps_decimal_valid(const char *s, size_t len)
{
	size_t		i = 0;
	size_t		digits = 0;

	if (len == 0 || len > PERPS_DECIMAL_MAX_LEN)
		return false;
	if (s[i] == '-' || s[i] == '+')
		i++;
	while (i < len && isdigit((unsigned char) s[i]))
		i++, digits++;
	if (i < len && s[i] == '.')
	{
		i++;
		while (i < len && isdigit((unsigned char) s[i]))
			i++, digits++;
	}
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t		edigits = 0;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < len && isdigit((unsigned char) s[i]))
			i++, edigits++;
		/* numeric accepts exponents up to about 1000 */
		if (edigits == 0 || edigits > 3)
			return false;
	}
	return i == len;
}

/*
 * Text of a JSON number or string as the venue sent it: 1, or 0 for another
 * type, or -1 for an integer json-c could not hold.
 */
/*
 * json-c clamps integers beyond 64 bits to INT64_MIN or UINT64_MAX without
 * saying so: the clamp values (and INT64_MAX, which a clamp reaches through
 * the int64 getter) are refused.
 */
static bool
perps_json_int_in_range(struct json_object *v)
{
	return json_object_get_int64(v) != INT64_MIN &&
		json_object_get_uint64(v) != UINT64_MAX &&
		json_object_get_uint64(v) != (uint64_t) INT64_MAX;
}

static int
perps_json_number_text(struct json_object *v, const char **text, size_t *len)
{
	switch (json_object_get_type(v))
	{
		case json_type_string:
			*text = json_object_get_string(v);
			*len = (size_t) json_object_get_string_len(v);
			return 1;
		case json_type_int:
			if (!perps_json_int_in_range(v))
				return -1;
			*text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
			*len = strlen(*text);
			return 1;
		case json_type_double:

			/*
			 * json-c keeps the original text of a parsed number and prints it
			 * back unchanged: no double rounding happens here.
			 */
			*text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
			*len = strlen(*text);
			return 1;
		default:
			return 0;
	}
}

/* perps_json_number_text, failing with a message naming the field. */
static PerpsStatus
perps_json_text_of(PerpsCtx *ctx, struct json_object *v, const char *what, const char *expected,
				   const char **text, size_t *len)
{
	int			r = v ? perps_json_number_text(v, text, len) : 0;

	if (r == 1)
		return PERPS_OK;
	if (r < 0)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is an integer out of the 64-bit range", what);
	return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is %s, expected %s",
					  what, perps_json_type_name(v), expected);
}

PerpsStatus
perps_json_decimal(PerpsCtx *ctx, struct json_object *v, const char *what, const char **out)
{
	const char *text;
	size_t		len;

	*out = NULL;
	if (perps_json_text_of(ctx, v, what, "a decimal number", &text, &len) != PERPS_OK)
		return ctx->status;
	if (!perps_decimal_valid(text, len))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not a finite decimal number: \"%.40s\"",
						  what, text);
	*out = perps_strndup(ctx, text, len);
	return *out ? PERPS_OK : ctx->status;
}

PerpsStatus
perps_json_decimal_opt(PerpsCtx *ctx, struct json_object *v, const char *what, const char **out)
{
	*out = NULL;
	if (v == NULL || json_object_is_type(v, json_type_null))
		return PERPS_OK;
	/* venues send "" for "not applicable" */
	if (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0)
		return PERPS_OK;
	return perps_json_decimal(ctx, v, what, out);
}

PerpsStatus
perps_json_decimal_field(PerpsCtx *ctx, struct json_object *obj, const char *key, bool required,
						 const char **out)
{
	struct json_object *v = perps_json_get(obj, key);

	if (required)
		return perps_json_decimal(ctx, v, key, out);
	return perps_json_decimal_opt(ctx, v, key, out);
}

const char *
perps_decimal_shift(PerpsCtx *ctx, const char *dec, int shift)
{
	/*
	 * Rewrite as sign, digit string and a decimal exponent, then print with
	 * the exponent moved by shift.  Output uses plain notation.
	 */
	char		digits[PERPS_DECIMAL_MAX_LEN + 1];
	const char *d;				/* the significant digits */
	size_t		nd = 0;
	long		point;			/* position of the decimal point in digits */
	long		exp10 = 0;
	bool		neg = false;
	const char *p = dec;
	bool		seen_point = false;
	char	   *res;
	size_t		cap;
	size_t		k = 0;

	if (dec == NULL)
		return NULL;
	if (!perps_decimal_valid(dec, strlen(dec)) || shift < -1000 || shift > 1000)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "cannot shift \"%.40s\"", dec);
		return NULL;
	}
	if (*p == '-' || *p == '+')
		neg = (*p++ == '-');
	point = -1;
	for (; *p && *p != 'e' && *p != 'E'; p++)
	{
		if (*p == '.')
		{
			seen_point = true;
			point = (long) nd;
			continue;
		}
		digits[nd++] = *p;
	}
	if (!seen_point)
		point = (long) nd;
	if (*p == 'e' || *p == 'E')
		exp10 = strtol(p + 1, NULL, 10);
	point += exp10 + shift;

	/* skip leading zeros (keeping the point position right) */
	{
		size_t		lead = 0;

		while (lead < nd && digits[lead] == '0')
			lead++;
		if (lead == nd)
			return perps_strndup(ctx, "0", 1);
		d = digits + lead;
		nd -= lead;
		point -= (long) lead;
	}

	cap = nd + (size_t) (point < 0 ? -point : point) + 4;
	res = perps_alloc(ctx, cap);
	if (res == NULL)
		return NULL;
	if (neg)
		res[k++] = '-';
	if (point <= 0)
	{
		res[k++] = '0';
		res[k++] = '.';
		for (long z = 0; z < -point; z++)
			res[k++] = '0';
		memcpy(res + k, d, nd);
		k += nd;
	}
	else if ((size_t) point >= nd)
	{
		memcpy(res + k, d, nd);
		k += nd;
		for (long z = 0; z < point - (long) nd; z++)
			res[k++] = '0';
	}
	else
	{
		memcpy(res + k, d, (size_t) point);
		k += (size_t) point;
		res[k++] = '.';
		memcpy(res + k, d + point, nd - (size_t) point);
		k += nd - (size_t) point;
	}
	res[k] = '\0';
	return res;
}

/* Parses an optionally signed run of decimal digits into int64, exactly. */
static bool
perps_parse_int64(const char *s, size_t len, int64_t *out)
{
	size_t		i = 0;
	bool		neg = false;
	uint64_t	acc = 0;
	uint64_t	limit;

	if (len == 0 || len > 21)
		return false;
	if (s[0] == '-' || s[0] == '+')
	{
		neg = (s[0] == '-');
		i++;
	}
	if (i == len)
		return false;
	limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	for (; i < len; i++)
	{
		unsigned	d;

		if (!isdigit((unsigned char) s[i]))
			return false;
		d = (unsigned) (s[i] - '0');
		if (acc > (limit - d) / 10)
			return false;
		acc = acc * 10 + d;
	}
	*out = neg ? (int64_t) (0 - acc) : (int64_t) acc;
	return true;
}

PerpsStatus
perps_json_int64(PerpsCtx *ctx, struct json_object *v, const char *what, int64_t *out)
{
	const char *text;
	size_t		len;

	if (v != NULL && json_object_is_type(v, json_type_int) && perps_json_int_in_range(v))
	{
		/* the value json-c parsed, not printed and read back */
		*out = json_object_get_int64(v);
		return PERPS_OK;
	}
	if (perps_json_text_of(ctx, v, what, "an integer", &text, &len) != PERPS_OK)
		return ctx->status;
	/* "123.0" style integers (some venues print them so) */
	if (len > 2 && memchr(text, '.', len) != NULL)
	{
		const char *dot = memchr(text, '.', len);
		size_t		k;

		for (k = (size_t) (dot - text) + 1; k < len; k++)
			if (text[k] != '0')
				break;
		if (k == len)
			len = (size_t) (dot - text);
	}
	if (!perps_parse_int64(text, len, out))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not an integer in range: \"%.40s\"",
						  what, text);
	return PERPS_OK;
}

PerpsStatus
perps_json_int64_field(PerpsCtx *ctx, struct json_object *obj, const char *key, int64_t *out)
{
	return perps_json_int64(ctx, perps_json_get(obj, key), key, out);
}

/* Years 1970 .. 2200 in microseconds: anything else is not a market time. */
#define PERPS_TS_MAX_US INT64_C(7258118400000000)

PerpsStatus
perps_json_ts(PerpsCtx *ctx, struct json_object *v, PerpsTimeUnit unit, const char *what,
			  int64_t *out_us)
{
	const char *text;
	size_t		len = 0;
	const char *dot;
	int64_t		whole;
	int64_t		us;
	int64_t		frac_us = 0;
	size_t		intlen = 0;

	if (v != NULL && json_object_is_type(v, json_type_int) && perps_json_int_in_range(v))
	{
		/* the value json-c parsed, not printed and read back */
		whole = json_object_get_int64(v);
		if (whole < 0)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not a timestamp: \"%lld\"",
							  what, (long long) whole);
		text = NULL;
		dot = NULL;
	}
	else
	{
		if (perps_json_text_of(ctx, v, what, "a timestamp", &text, &len) != PERPS_OK)
			return ctx->status;
		dot = memchr(text, '.', len);
		intlen = dot ? (size_t) (dot - text) : len;
		if (!perps_parse_int64(text, intlen, &whole) || whole < 0)
			return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not a timestamp: \"%.40s\"", what, text);
	}
	if (dot)
	{
		/* fractional part: digits only, used to sub-unit precision down to 1 µs */
		int64_t		scale;
		size_t		k;

		switch (unit)
		{
			case PERPS_S:
				scale = 100000;
				break;
			case PERPS_MS:
				scale = 100;
				break;
			default:
				scale = 0;
				break;
		}
		for (k = intlen + 1; k < len; k++)
		{
			if (!isdigit((unsigned char) text[k]))
				return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is not a timestamp: \"%.40s\"", what, text);
			frac_us += (text[k] - '0') * scale;
			scale /= 10;
		}
	}
	switch (unit)
	{
		case PERPS_S:
			if (whole > PERPS_TS_MAX_US / 1000000)
				goto range;
			us = whole * 1000000;
			break;
		case PERPS_MS:
			if (whole > PERPS_TS_MAX_US / 1000)
				goto range;
			us = whole * 1000;
			break;
		case PERPS_US:
			us = whole;
			break;
		case PERPS_NS:
		default:
			us = whole / 1000;
			break;
	}
	us += frac_us;
	if (us > PERPS_TS_MAX_US)
		goto range;
	*out_us = us;
	return PERPS_OK;

range:
	if (text == NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is out of range: \"%lld\"", what, (long long) whole);
	return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is out of range: \"%.40s\"", what, text);
}

PerpsStatus
perps_json_ts_field(PerpsCtx *ctx, struct json_object *obj, const char *key, PerpsTimeUnit unit,
					int64_t *out_us)
{
	return perps_json_ts(ctx, perps_json_get(obj, key), unit, key, out_us);
}

PerpsStatus
perps_json_string(PerpsCtx *ctx, struct json_object *v, const char *what, const char **out)
{
	*out = NULL;
	if (v == NULL || !json_object_is_type(v, json_type_string))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is %s, expected a string",
						  what, perps_json_type_name(v));
	if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s holds a NUL character", what);
	*out = perps_strndup(ctx, json_object_get_string(v), (size_t) json_object_get_string_len(v));
	return *out ? PERPS_OK : ctx->status;
}

PerpsStatus
perps_json_id(PerpsCtx *ctx, struct json_object *v, const char *what, const char **out)
{
	const char *text;
	size_t		len;

	*out = NULL;
	if (v != NULL && json_object_is_type(v, json_type_double))
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s is a fractional number, expected an identifier", what);
	if (perps_json_text_of(ctx, v, what, "an identifier", &text, &len) != PERPS_OK)
		return ctx->status;
	if (len == 0 || len > 128)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s has a length of %zu", what, len);
	if (memchr(text, '\0', len) != NULL)
		return perps_fail(ctx, PERPS_ERR_SHAPE, "%s holds a NUL character", what);
	*out = perps_strndup(ctx, text, len);
	return *out ? PERPS_OK : ctx->status;
}

/* ---- exact decimal arithmetic on texts (a venue sends a and b, we need a - b, a * b) ---- */

#define PERPS_ARITH_DIGITS 200

/* A valid decimal text as sign, digits (no point) and scale (fraction digits). */
typedef struct PerpsDec
{
	bool		neg;
	int			nd;
	int			scale;
	char		d[2 * PERPS_ARITH_DIGITS + 2];
} PerpsDec;

static bool
perps_dec_read(const char *s, PerpsDec *x)
{
	const char *p = s;
	long		exp10 = 0;
	int			frac = 0;
	bool		point = false;

	if (s == NULL || !perps_decimal_valid(s, strlen(s)))
		return false;
	x->neg = false;
	x->nd = 0;
	if (*p == '-' || *p == '+')
		x->neg = (*p++ == '-');
	for (; *p && *p != 'e' && *p != 'E'; p++)
	{
		if (*p == '.')
		{
			point = true;
			continue;
		}
		if (x->nd >= PERPS_ARITH_DIGITS)
			return false;
		x->d[x->nd++] = *p;
		if (point)
			frac++;
	}
	if (*p)
		exp10 = strtol(p + 1, NULL, 10);
	x->scale = frac - (int) exp10;
	while (x->scale < 0)
	{
		if (x->nd >= PERPS_ARITH_DIGITS)
			return false;
		x->d[x->nd++] = '0';
		x->scale++;
	}
	if (x->scale > PERPS_ARITH_DIGITS)
		return false;
	return true;
}

/* Appends zeros until x has the given scale. */
static bool
perps_dec_rescale(PerpsDec *x, int scale)
{
	while (x->scale < scale)
	{
		if (x->nd >= 2 * PERPS_ARITH_DIGITS)
			return false;
		x->d[x->nd++] = '0';
		x->scale++;
	}
	return true;
}

/* Compares magnitudes of equal scale. */
static int
perps_dec_cmpabs(const PerpsDec *a, const PerpsDec *b)
{
	int			i = 0,
				j = 0;

	while (i < a->nd - 1 && a->d[i] == '0')
		i++;
	while (j < b->nd - 1 && b->d[j] == '0')
		j++;
	if (a->nd - i != b->nd - j)
		return (a->nd - i) > (b->nd - j) ? 1 : -1;
	for (; i < a->nd; i++, j++)
		if (a->d[i] != b->d[j])
			return a->d[i] > b->d[j] ? 1 : -1;
	return 0;
}

/* Prints digits with a scale as plain decimal text. */
static const char *
perps_dec_print(PerpsCtx *ctx, bool neg, const char *digits, int nd, int scale)
{
	char		buf[2 * PERPS_ARITH_DIGITS + 8];
	int			k = 0;
	int			i = 0;
	bool		zero = true;

	/* leading zeros of the integer part */
	while (i < nd - scale - 1 && digits[i] == '0')
		i++;
	for (int z = i; z < nd; z++)
		if (digits[z] != '0')
			zero = false;
	if (neg && !zero)
		buf[k++] = '-';
	if (nd - scale <= 0)
		buf[k++] = '0';
	for (; i < nd - scale; i++)
		buf[k++] = digits[i];
	if (scale > 0)
	{
		buf[k++] = '.';
		for (int z = 0; z < scale - nd; z++)
			buf[k++] = '0';
		for (i = (nd - scale > 0 ? nd - scale : 0); i < nd; i++)
			buf[k++] = digits[i];
	}
	return perps_strndup(ctx, buf, (size_t) k);
}

const char *
perps_decimal_sub(PerpsCtx *ctx, const char *a, const char *b)
{
	PerpsDec	x,
				y;
	char		r[2 * PERPS_ARITH_DIGITS + 2];
	int			n,
				carry = 0;
	bool		neg;
	const PerpsDec *big,
			   *small;

	if (a == NULL || b == NULL)
		return NULL;
	if (!perps_dec_read(a, &x) || !perps_dec_read(b, &y))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "cannot subtract \"%.40s\" and \"%.40s\"", a, b);
		return NULL;
	}
	y.neg = !y.neg;				/* a - b = a + (-b) */
	if (!perps_dec_rescale(&x, y.scale) || !perps_dec_rescale(&y, x.scale))
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "cannot subtract \"%.40s\" and \"%.40s\"", a, b);
		return NULL;
	}
	n = (x.nd > y.nd ? x.nd : y.nd) + 1;
	if (x.neg == y.neg)
	{
		for (int i = 0; i < n; i++)
		{
			int			dx = i < x.nd ? x.d[x.nd - 1 - i] - '0' : 0;
			int			dy = i < y.nd ? y.d[y.nd - 1 - i] - '0' : 0;
			int			s = dx + dy + carry;

			r[n - 1 - i] = (char) ('0' + s % 10);
			carry = s / 10;
		}
		neg = x.neg;
	}
	else
	{
		bool		xbig = perps_dec_cmpabs(&x, &y) >= 0;

		big = xbig ? &x : &y;
		small = xbig ? &y : &x;
		for (int i = 0; i < n; i++)
		{
			int			db = i < big->nd ? big->d[big->nd - 1 - i] - '0' : 0;
			int			ds = i < small->nd ? small->d[small->nd - 1 - i] - '0' : 0;
			int			s = db - ds - carry;

			carry = s < 0;
			if (s < 0)
				s += 10;
			r[n - 1 - i] = (char) ('0' + s);
		}
		neg = big->neg;
	}
	return perps_dec_print(ctx, neg, r, n, x.scale);
}

const char *
perps_decimal_mul(PerpsCtx *ctx, const char *a, const char *b)
{
	PerpsDec	x,
				y;
	int			acc[2 * PERPS_ARITH_DIGITS + 2];
	char		r[2 * PERPS_ARITH_DIGITS + 2];
	int			n;

	if (a == NULL || b == NULL)
		return NULL;
	if (!perps_dec_read(a, &x) || !perps_dec_read(b, &y) || x.nd + y.nd > 2 * PERPS_ARITH_DIGITS)
	{
		perps_fail(ctx, PERPS_ERR_SHAPE, "cannot multiply \"%.40s\" and \"%.40s\"", a, b);
		return NULL;
	}
	n = x.nd + y.nd;
	memset(acc, 0, sizeof(int) * (size_t) n);
	for (int i = x.nd - 1; i >= 0; i--)
		for (int j = y.nd - 1; j >= 0; j--)
			acc[i + j + 1] += (x.d[i] - '0') * (y.d[j] - '0');
	for (int k = n - 1; k > 0; k--)
	{
		acc[k - 1] += acc[k] / 10;
		acc[k] %= 10;
	}
	for (int k = 0; k < n; k++)
		r[k] = (char) ('0' + acc[k]);
	return perps_dec_print(ctx, x.neg != y.neg, r, n, x.scale + y.scale);
}
