/*-------------------------------------------------------------------------
 *
 * convert.c
 *		From a venue's text to exact SQL values (see convert.h).
 *
 * Order books: adjacent equal prices are merged into one level (Lighter
 * lists orders), the order of each side is checked (bids descending, asks
 * ascending) and the sides become 2-D numeric[] {{price,qty},...}, best
 * first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "perps_pg.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "convert.h"

Datum
perps_numeric(const char *s)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* A decimal into values[i]/nulls[i]; NULL text is SQL NULL. */
void
perps_set_num(Datum *values, bool *nulls, int i, const char *s)
{
	if (s == NULL)
	{
		nulls[i] = true;
		return;
	}
	values[i] = perps_numeric(s);
	nulls[i] = false;
}

/* A quantity: the decimal times the multiplier (NULL = 1). */
void
perps_set_qty(Datum *values, bool *nulls, int i, const char *s, const char *mult)
{
	perps_set_num(values, nulls, i, s);
	if (!nulls[i] && mult != NULL && strcmp(mult, "1") != 0)
		values[i] = DirectFunctionCall2(numeric_mul, values[i], perps_numeric(mult));
}

Datum
perps_timestamptz(int64 us)
{
	TimestampTz t = us - PERPS_UNIX_EPOCH_US;

	if (!IS_VALID_TIMESTAMP(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return TimestampTzGetDatum(t);
}

void
perps_set_ts(Datum *values, bool *nulls, int i, int64 us)
{
	if (us == PERPS_TS_NONE)
	{
		nulls[i] = true;
		return;
	}
	values[i] = perps_timestamptz(us);
	nulls[i] = false;
}

void
perps_set_text(Datum *values, bool *nulls, int i, const char *s)
{
	if (s == NULL)
	{
		nulls[i] = true;
		return;
	}
	values[i] = CStringGetTextDatum(s);
	nulls[i] = false;
}

Datum
perps_book_side_array(const char *venue, const PerpsLevel *lv, int n, bool bids,
					  const char *mult, int depth)
{
	Datum	   *elems;
	int			k = 0;
	int			dims[2];
	int			lbs[2] = {1, 1};

	if (n < 0)
		n = 0;
	elems = palloc(sizeof(Datum) * 2 * Max(Min(n, depth), 1));
	for (int i = 0; i < n; i++)
	{
		Datum		price;
		Datum		qty;
		Datum		vals[1];
		bool		nulls[1];

		if (lv[i].price == NULL || lv[i].qty == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("unexpected order book response from %s", venue),
					 errdetail("A level has no price or no quantity.")));
		price = perps_numeric(lv[i].price);
		perps_set_qty(vals, nulls, 0, lv[i].qty, mult);
		qty = vals[0];
		if (k > 0)
		{
			int			c = DatumGetInt32(DirectFunctionCall2(numeric_cmp, price, elems[2 * (k - 1)]));

			if (c == 0)
			{
				elems[2 * (k - 1) + 1] = DirectFunctionCall2(numeric_add, elems[2 * (k - 1) + 1], qty);
				continue;
			}
			if (bids ? c > 0 : c < 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("order book from %s is not sorted", venue),
						 errdetail("%s price %s follows %s.", bids ? "Bid" : "Ask", lv[i].price,
								   DatumGetCString(DirectFunctionCall1(numeric_out, elems[2 * (k - 1)])))));
		}
		if (k == depth)
			break;
		elems[2 * k] = price;
		elems[2 * k + 1] = qty;
		k++;
	}
	if (k == 0)
		return PointerGetDatum(construct_empty_array(NUMERICOID));
	dims[0] = k;
	dims[1] = 2;
	return PointerGetDatum(construct_md_array(elems, NULL, 2, dims, lbs, NUMERICOID, -1, false, TYPALIGN_INT));
}


Datum
perps_qty(const char *dec, const char *mult)
{
	Datum		v[1];
	bool		n[1];

	perps_set_qty(v, n, 0, dec, mult);
	return v[0];
}

void
perps_ticker_values(const PerpsTicker *t, const char *mult, Datum *values, bool *nulls)
{
	if (t->contract_size)
		mult = t->contract_size;
	perps_set_num(values, nulls, 0, t->last_price);
	perps_set_num(values, nulls, 1, t->mark_price);
	perps_set_num(values, nulls, 2, t->index_price);
	perps_set_num(values, nulls, 3, t->best_bid_price);
	perps_set_qty(values, nulls, 4, t->best_bid_qty, mult);
	perps_set_num(values, nulls, 5, t->best_ask_price);
	perps_set_qty(values, nulls, 6, t->best_ask_qty, mult);
	perps_set_qty(values, nulls, 7, t->volume_24h, mult);
	perps_set_num(values, nulls, 8, t->turnover_24h);
	perps_set_qty(values, nulls, 9, t->open_interest, mult);
	perps_set_num(values, nulls, 10, t->open_interest_notional);
	perps_set_num(values, nulls, 11, t->price_change_24h);
	perps_set_num(values, nulls, 12, t->price_change_pct);
	perps_set_num(values, nulls, 13, t->high_24h);
	perps_set_num(values, nulls, 14, t->low_24h);
}

int64
perps_unix_now_us(void)
{
	return (int64) GetCurrentTimestamp() + PERPS_UNIX_EPOCH_US;
}

/* one time: bad when given and outside the bounds */
static bool
convert_bad_time(int64 us, int64 now_us)
{
	return us != PERPS_TS_NONE && !perps_event_time_ok(us, now_us);
}

int64
perps_result_bad_time(const PerpsResult *res, int64 now_us)
{
	for (int i = 0; i < res->n; i++)
	{
		int64		t = PERPS_TS_NONE;

		switch (res->method)
		{
			case PERPS_M_TICKER:
			case PERPS_M_TICKERS:
				t = res->u.tickers[i].ts_us;
				break;
			case PERPS_M_ORDERBOOK:
				t = res->u.book[i].ts_us;
				break;
			case PERPS_M_FUNDING:
			case PERPS_M_FUNDING_HISTORY:
				t = res->u.funding[i].funding_time_us;
				if (convert_bad_time(res->u.funding[i].next_funding_time_us, now_us))
					return res->u.funding[i].next_funding_time_us;
				break;
			case PERPS_M_OPEN_INTEREST:
				t = res->u.oi[i].ts_us;
				break;
			case PERPS_M_KLINES:
				t = res->u.klines[i].open_time_us;
				break;
			case PERPS_M_TRADES:
				t = res->u.trades[i].ts_us;
				break;
			default:
				return PERPS_TS_NONE;
		}
		if (convert_bad_time(t, now_us))
			return t;
	}
	return PERPS_TS_NONE;
}
