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

bool
perps_local_book_crossed(const PerpsLocalBook *book)
{
	if (book->bids.n == 0 || book->asks.n == 0)
		return false;
	return perps_decimal_cmp(book->bids.levels[0].price, book->asks.levels[0].price) >= 0;
}
