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
