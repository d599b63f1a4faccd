/*-------------------------------------------------------------------------
 *
 * convert.h
 *		From a venue's text to exact SQL values: decimals to numeric through
 *		numeric_in (never a double), quantity-like fields times the contract
 *		size in numeric, microseconds since 1970 to timestamptz, book sides
 *		to 2-D numeric[] and a ticker to its table's columns.  The one place
 *		these conversions are written, for the fetch_* functions, collect()
 *		and the stream workers alike.
 *
 * Memory: results are allocated in the memory context current at the call.
 * Errors: invalid text raises numeric_in's error; a time outside
 * timestamptz's range raises datetime_field_overflow's cousin
 * (22008, datetime_value_out_of_range).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_CONVERT_H
#define PERPS_CONVERT_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "adapter.h"
#include "store.h"

/* Unix epoch in PostgreSQL's microseconds (since 2000-01-01). */
#define PERPS_UNIX_EPOCH_US \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/*
 * Event times a venue may send: from 2009-01-01 (before any exchange of
 * these markets) to one day after now.  Anything else is refused, never
 * stored or returned: one row stamped 2200 would pin "the latest" views
 * and make a partition per distinct future day.
 */
#define PERPS_EVENT_TIME_MIN_US INT64CONST(1230768000000000)	/* 2009-01-01 00:00 UTC */
#define PERPS_EVENT_TIME_AHEAD_US INT64CONST(86400000000)	/* one day */

/* now_us: µs since 1970 (perps_unix_now_us()) */
static inline bool
perps_event_time_ok(int64 us, int64 now_us)
{
	return us >= PERPS_EVENT_TIME_MIN_US && us <= now_us + PERPS_EVENT_TIME_AHEAD_US;
}
extern int64 perps_unix_now_us(void);

/*
 * The first event time of a result outside the bounds above (trades,
 * tickers, books, funding, open interest: their time; klines: the open
 * time), PERPS_TS_NONE when all are inside.
 */
extern int64 perps_result_bad_time(const PerpsResult *res, int64 now_us);

/* decimal text -> numeric; text x multiplier (NULL = 1); µs since 1970 -> timestamptz */
extern Datum perps_numeric(const char *dec);
extern Datum perps_qty(const char *dec, const char *mult);
extern Datum perps_timestamptz(int64 us);

/* The same into values[i] / nulls[i]: a NULL text (PERPS_TS_NONE time) is SQL NULL. */
extern void perps_set_num(Datum *values, bool *nulls, int i, const char *dec);
extern void perps_set_qty(Datum *values, bool *nulls, int i, const char *dec, const char *mult);
extern void perps_set_ts(Datum *values, bool *nulls, int i, int64 us);
extern void perps_set_text(Datum *values, bool *nulls, int i, const char *s);

/*
 * A ticker's columns of perps_stats.tickers after (market_id, ts), in
 * perps_ticker_columns' order: quantity-like fields times the ticker's
 * own contract size where it names one, else times mult.
 */
extern void perps_ticker_values(const PerpsTicker *t, const char *mult, Datum *values, bool *nulls);

/*
 * A book side as a 2-D numeric[] {{price,qty},...}, best first: adjacent
 * equal prices merged, quantities times mult, at most depth levels; raises
 * data_exception when the side is not sorted (bids descending, asks
 * ascending) or a level lacks a price or quantity.
 */
extern Datum perps_book_side_array(const char *venue, const PerpsLevel *levels, int n, bool bids,
								   const char *mult, int depth);

#endif							/* PERPS_CONVERT_H */
