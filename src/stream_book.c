/*-------------------------------------------------------------------------
 *
 * stream_book.c
 *		The local order book of the stream workers (see stream_book.h).
 *
 * Levels are kept in a sorted array per side and found by binary search
 * with an exact decimal comparison: books hold tens to a few thousand
 * levels and most updates touch the top, so the memmove of an insert or a
 * delete costs less than a tree would.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "stream_book.h"

/* A decimal as sign, significant digits and the place of the first one. */
typedef struct DecKey
{
	bool		neg;
	bool		zero;
	long		mag;			/* value = 0.d1d2... x 10^mag */
	const char *digits;			/* significant digits (no leading zeros) ... */
	char		buf[PERPS_DECIMAL_MAX_LEN + 1];
	int			nd;				/* ... without trailing zeros */
} DecKey;

static void
dec_key(const char *s, DecKey *k)
{
	long		intlen = 0;
	long		exp10 = 0;
	int			nd = 0;
	int			lead = 0;
	bool		in_frac = false;
	bool		seen_sig = false;

	k->neg = false;
	if (*s == '+' || *s == '-')
		k->neg = (*s++ == '-');
	for (; *s && *s != 'e' && *s != 'E'; s++)
	{
		if (*s == '.')
		{
			in_frac = true;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		if (!in_frac)
			intlen++;
		if (!seen_sig && *s == '0')
		{
			lead++;
			continue;
		}
		seen_sig = true;
		if (nd < PERPS_DECIMAL_MAX_LEN)
			k->buf[nd++] = *s;
	}
	if (*s == 'e' || *s == 'E')
	{
		bool		eneg = false;

		s++;
		if (*s == '+' || *s == '-')
			eneg = (*s++ == '-');
		for (; *s >= '0' && *s <= '9'; s++)
			if (exp10 < 1000000)
				exp10 = exp10 * 10 + (*s - '0');
		if (eneg)
			exp10 = -exp10;
	}
	while (nd > 0 && k->buf[nd - 1] == '0')
		nd--;
	k->buf[nd] = '\0';
	k->nd = nd;
	k->digits = k->buf;
	k->zero = (nd == 0);
	k->mag = intlen - lead + exp10;
}

int
perps_decimal_cmp(const char *a, const char *b)
{
	DecKey		x,
				y;
	int			sign;
	int			c;

	dec_key(a, &x);
	dec_key(b, &y);
	if (x.zero && y.zero)
		return 0;
	if (x.zero)
		return y.neg ? 1 : -1;
	if (y.zero)
		return x.neg ? -1 : 1;
	if (x.neg != y.neg)
		return x.neg ? -1 : 1;
	sign = x.neg ? -1 : 1;
	if (x.mag != y.mag)
		return x.mag < y.mag ? -sign : sign;
	c = strcmp(x.digits, y.digits);		/* equal lengths or a prefix: strcmp orders them */
	return c == 0 ? 0 : (c < 0 ? -sign : sign);
}

bool
perps_decimal_is_zero(const char *a)
{
	DecKey		x;

	dec_key(a, &x);
	return x.zero;
}

void
perps_local_book_init(PerpsLocalBook *book)
{
	memset(book, 0, sizeof(*book));
	book->bids.descending = true;
	book->asks.descending = false;
}

void
perps_local_book_clear(PerpsLocalBook *book)
{
	book->bids.n = 0;
	book->asks.n = 0;
	book->valid = false;
	book->seq = 0;
	book->ts_us = 0;
}

/* one side down to its best max_levels levels, its memory shrunk to them */
static int
local_side_trim(PerpsLocalSide *side, int max_levels)
{
	int			dropped;

	if (side->n <= max_levels)
		return 0;
	dropped = side->n - max_levels;
	side->n = max_levels;
	if (side->cap > max_levels)
	{
		PerpsLocalLevel *shrunk = realloc(side->levels, (size_t) (max_levels > 0 ? max_levels : 1) * sizeof(PerpsLocalLevel));

		if (shrunk != NULL)
		{
			side->levels = shrunk;
			side->cap = max_levels > 0 ? max_levels : 1;
		}
	}
	return dropped;
}

int
perps_local_book_trim(PerpsLocalBook *book, int max_levels)
{
	if (max_levels < 1)
		max_levels = 1;
	return local_side_trim(&book->bids, max_levels) + local_side_trim(&book->asks, max_levels);
}

void
perps_local_book_free(PerpsLocalBook *book)
{
	free(book->bids.levels);
	free(book->asks.levels);
	perps_local_book_init(book);
}

/* Index of price in the side, or where it would go (*found false). */
static int
side_find(const PerpsLocalSide *side, const char *price, bool *found)
{
	int			lo = 0,
				hi = side->n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = perps_decimal_cmp(side->levels[mid].price, price);

		if (side->descending)
			c = -c;
		if (c == 0)
		{
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

bool
perps_local_book_set(PerpsLocalBook *book, bool bid, const char *price, const char *qty)
{
	PerpsLocalSide *side = bid ? &book->bids : &book->asks;
	size_t		plen,
				qlen;
	bool		found;
	int			i;

	if (price == NULL || qty == NULL)
		return false;
	plen = strlen(price);
	qlen = strlen(qty);
	if (plen > PERPS_DECIMAL_MAX_LEN || qlen > PERPS_DECIMAL_MAX_LEN ||
		!perps_decimal_valid(price, plen) || !perps_decimal_valid(qty, qlen) ||
		price[0] == '-' || qty[0] == '-')
		return false;

	i = side_find(side, price, &found);
	if (perps_decimal_is_zero(qty))
	{
		if (found)
		{
			memmove(&side->levels[i], &side->levels[i + 1],
					(size_t) (side->n - i - 1) * sizeof(PerpsLocalLevel));
			side->n--;
		}
		return true;
	}
	if (!found)
	{
		if (side->n >= PERPS_LOCAL_BOOK_MAX_LEVELS)
			return false;
		if (side->n == side->cap)
		{
			int			ncap = side->cap ? side->cap * 2 : 64;
			PerpsLocalLevel *nl;

			if (ncap > PERPS_LOCAL_BOOK_MAX_LEVELS)
				ncap = PERPS_LOCAL_BOOK_MAX_LEVELS;
			nl = realloc(side->levels, (size_t) ncap * sizeof(PerpsLocalLevel));
			if (nl == NULL)
				return false;
			side->levels = nl;
			side->cap = ncap;
		}
		memmove(&side->levels[i + 1], &side->levels[i],
				(size_t) (side->n - i) * sizeof(PerpsLocalLevel));
		side->n++;
		memcpy(side->levels[i].price, price, plen + 1);
	}
	memcpy(side->levels[i].qty, qty, qlen + 1);
	return true;
}

#ifndef Max
#define Max(a, b) ((a) > (b) ? (a) : (b))
#endif

/* an update level and its position in the update, for sorting */
typedef struct ApplyLevel
{
	const char *price;
	const char *qty;
	int			pos;
	bool		new_text;		/* the level was deleted, then set again: its text is the update's */
} ApplyLevel;

/* best first, then the update's order */
static int
apply_cmp_asc(const void *a, const void *b)
{
	const ApplyLevel *x = a;
	const ApplyLevel *y = b;
	int			c = perps_decimal_cmp(x->price, y->price);

	return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static int
apply_cmp_desc(const void *a, const void *b)
{
	const ApplyLevel *x = a;
	const ApplyLevel *y = b;
	int			c = perps_decimal_cmp(y->price, x->price);

	return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static bool
level_ok(const char *price, const char *qty)
{
	size_t		plen,
				qlen;

	if (price == NULL || qty == NULL)
		return false;
	plen = strlen(price);
	qlen = strlen(qty);
	return plen <= PERPS_DECIMAL_MAX_LEN && qlen <= PERPS_DECIMAL_MAX_LEN &&
		perps_decimal_valid(price, plen) && perps_decimal_valid(qty, qlen) &&
		price[0] != '-' && qty[0] != '-';
}

bool
perps_local_book_apply(PerpsLocalBook *book, bool bid, const PerpsLevel *levels, int n)
{
	PerpsLocalSide *side = bid ? &book->bids : &book->asks;
	ApplyLevel *up;
	PerpsLocalLevel *out;
	int			nu = 0,
				i = 0,
				j = 0,
				k = 0;

	if (n <= 16)
	{
		/* few levels (most deltas): in place; checked first, so all or nothing */
		for (int u = 0; u < n; u++)
			if (!level_ok(levels[u].price, levels[u].qty))
				return false;
		for (int u = 0; u < n; u++)
			if (!perps_local_book_set(book, bid, levels[u].price, levels[u].qty))
				return false;	/* only a full side: the caller resyncs */
		return true;
	}
	if (n > 8 * PERPS_LOCAL_BOOK_MAX_LEVELS)
		return false;
	up = malloc((size_t) n * sizeof(ApplyLevel));
	if (up == NULL)
		return false;
	for (int u = 0; u < n; u++)
	{
		if (!level_ok(levels[u].price, levels[u].qty))
		{
			free(up);
			return false;
		}
		up[u].price = levels[u].price;
		up[u].qty = levels[u].qty;
		up[u].pos = u;
		up[u].new_text = false;
	}
	qsort(up, (size_t) n, sizeof(ApplyLevel), side->descending ? apply_cmp_desc : apply_cmp_asc);
	/*
	 * One level per price, the outcome of its updates in order: the last
	 * quantity; the price's text that of the update that (re)created it
	 * (the first, or the first after the last deletion), as setting them
	 * one by one would leave it.
	 */
	for (int u = 0; u < n; u++)
	{
		if (nu > 0 && perps_decimal_cmp(up[nu - 1].price, up[u].price) == 0)
		{
			ApplyLevel *g = &up[nu - 1];

			if (perps_decimal_is_zero(g->qty))
			{
				/* deleted, now set again (or deleted again) */
				g->price = up[u].price;
				g->new_text = true;
			}
			g->qty = up[u].qty;
			g->pos = up[u].pos;
		}
		else
			up[nu++] = up[u];
	}

	/* merge with the side (both best first) into a new array */
	out = malloc((size_t) (side->n + nu) * sizeof(PerpsLocalLevel) + 1);
	if (out == NULL)
	{
		free(up);
		return false;
	}
	while (i < side->n || j < nu)
	{
		int			c;

		if (j >= nu)
			c = -1;
		else if (i >= side->n)
			c = 1;
		else
		{
			c = perps_decimal_cmp(side->levels[i].price, up[j].price);
			if (side->descending)
				c = -c;
		}
		if (c < 0)
			out[k++] = side->levels[i++];
		else
		{
			/* a new or changed level; qty 0 deletes (an absent price: nothing) */
			if (!perps_decimal_is_zero(up[j].qty))
			{
				strcpy(out[k].price, c == 0 && !up[j].new_text ? side->levels[i].price : up[j].price);
				strcpy(out[k].qty, up[j].qty);
				k++;
			}
			if (c == 0)
				i++;
			j++;
		}
		if (k > PERPS_LOCAL_BOOK_MAX_LEVELS)
		{
			free(out);
			free(up);
			return false;
		}
	}
	free(up);
	free(side->levels);
	side->levels = out;
	side->cap = side->n + nu;
	side->n = k;
	/* give back what the merge did not use */
	if (side->cap > 2 * Max(k, 64))
	{
		PerpsLocalLevel *shrunk = realloc(side->levels, (size_t) Max(k, 64) * sizeof(PerpsLocalLevel));

		if (shrunk != NULL)
		{
			side->levels = shrunk;
			side->cap = Max(k, 64);
		}
	}
	return true;
}

static bool
span_bound_ok(const char *s)
{
	size_t		len = strlen(s);

	return len <= PERPS_DECIMAL_MAX_LEN && perps_decimal_valid(s, len);
}

bool
perps_local_book_keep_span(PerpsLocalBook *book, bool bid, const char *from, const char *to)
{
	PerpsLocalSide *side = bid ? &book->bids : &book->asks;
	const char *lo = from;
	const char *hi = to;
	int			k = 0;

	if (from == NULL && to == NULL)
	{
		side->n = 0;
		return true;
	}
	if (from == NULL || to == NULL || !span_bound_ok(from) || !span_bound_ok(to))
		return false;
	if (perps_decimal_cmp(from, to) > 0)
	{
		lo = to;
		hi = from;
	}
	/* the side stays sorted: keeping some levels in their order needs no sort */
	for (int i = 0; i < side->n; i++)
		if (perps_decimal_cmp(side->levels[i].price, lo) >= 0 &&
			perps_decimal_cmp(side->levels[i].price, hi) <= 0)
		{
			if (k != i)
				side->levels[k] = side->levels[i];
			k++;
		}
	side->n = k;
	return true;
}

const char *
perps_local_book_qty(const PerpsLocalBook *book, bool bid, const char *price)
{
	const PerpsLocalSide *side = bid ? &book->bids : &book->asks;
	bool		found;
	int			i;

	if (price == NULL || strlen(price) > PERPS_DECIMAL_MAX_LEN || !perps_decimal_valid(price, strlen(price)))
		return NULL;
	i = side_find(side, price, &found);
	return found ? side->levels[i].qty : NULL;
}

bool
perps_local_book_crossed(const PerpsLocalBook *book)
{
	if (book->bids.n == 0 || book->asks.n == 0)
		return false;
	return perps_decimal_cmp(book->bids.levels[0].price, book->asks.levels[0].price) >= 0;
}
