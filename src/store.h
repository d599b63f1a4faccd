/*-------------------------------------------------------------------------
 *
 * store.h
 *		The one writer of the time-series tables and ingest_events.
 *
 * A PerpsStore is a batch of rows: typed appenders add to it, one flush
 * writes each table with one statement (array parameters and unnest; the
 * trades through the multi-insert path of bulk.h), then the batch is empty
 * again.  collect(), the stream workers and the backfill (through
 * perps_stats._store_rows) all write through it, so each table has one
 * clash policy whoever wrote the row:
 *
 *	tickers, orderbooks, liquidity_depth, slippage, open_interest, trades:
 *		the first row of a key stays; a repeated one is ignored
 *		(a venue's replay, a second writer of the same moment);
 *	funding_rates: a newer observation of the same (market, funding_time)
 *		replaces the rate, the predicted rate and the interval it carries
 *		(a value it lacks keeps the stored one): the current period's rate
 *		moves until it settles, and the settled one is final;
 *	klines: a newer observation of the same (market, interval, open_time)
 *		replaces the candle (the forming candle becomes the closed one);
 *	ingest_events: every row is new.
 *
 * Within a batch the same holds: a funding rate or kline appended twice
 * keeps the later one; the other tables keep the first.
 *
 * Memory: the rows live in the store's own context (a child of the one
 * given to perps_store_new); the appenders copy what they are given.
 * Transactions: perps_store_flush needs a transaction, a snapshot and SPI
 * connected; it raises on failure (the caller's transaction or
 * subtransaction decides what is kept) and leaves the rows in the batch
 * until perps_store_reset.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_STORE_H
#define PERPS_STORE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/array.h"

#include "book_math.h"
#include "book_merge.h"

typedef enum PerpsStoreTable
{
	PERPS_ST_TICKERS,
	PERPS_ST_ORDERBOOKS,
	PERPS_ST_LIQUIDITY,
	PERPS_ST_SLIPPAGE,
	PERPS_ST_TRADES,
	PERPS_ST_FUNDING,
	PERPS_ST_OPEN_INTEREST,
	PERPS_ST_KLINES,
	PERPS_ST_EVENTS,
	PERPS_ST_COUNT
} PerpsStoreTable;

/* The ticker columns after (market_id, ts), in the table's order. */
#define PERPS_TICKER_NCOLS 15
extern const char *const perps_ticker_columns[PERPS_TICKER_NCOLS];

typedef struct PerpsStore PerpsStore;

/* source: the ingest_events.source of the batch's events ('collect', 'stream', ...) */
extern PerpsStore *perps_store_new(MemoryContext parent, const char *source);

/* values/nulls[PERPS_TICKER_NCOLS]: numeric Datums in perps_ticker_columns' order */
extern void perps_store_ticker(PerpsStore *s, int32 market_id, TimestampTz ts,
							   const Datum *values, const bool *nulls);

/*
 * A book (best first, validated here: perps_book_check's errors) with the
 * liquidity_depth row and the standard slippage rows computed from all its
 * levels; the orderbooks row keeps the best store_levels of each side.
 * Nothing is added when it raises.
 */
extern void perps_store_book(PerpsStore *s, int32 market_id, TimestampTz ts, const PerpsNumBook *book,
							 int store_levels, int64 seq, bool has_seq);

/*
 * The same for books of one market at several resolutions (book_merge.h),
 * finest first, 1 .. PERPS_MAX_RESOLUTIONS of them: liquidity_depth and
 * slippage from the merged books, each row's resolution column the name
 * (labels[r], NULL labels: SQL NULL) of the coarsest book it came from; the
 * orderbooks row keeps the finest book.
 */
extern void perps_store_books(PerpsStore *s, int32 market_id, TimestampTz ts, const PerpsNumBook *books,
							  const char *const *labels, int nbooks, int store_levels, int64 seq,
							  bool has_seq);

extern void perps_store_trade(PerpsStore *s, int32 market_id, TimestampTz ts, const char *trade_id,
							  Datum price, Datum qty, bool is_buy);

/* a NULL pointer is SQL NULL */
extern void perps_store_funding(PerpsStore *s, int32 market_id, TimestampTz funding_time,
								const Datum *rate, const Datum *predicted_rate, const Datum *interval_hours);
extern void perps_store_open_interest(PerpsStore *s, int32 market_id, TimestampTz ts,
									  const Datum *open_interest, const Datum *notional);

/* a candle (interval: 1m 5m ...); a NULL pointer is SQL NULL; replaces a stored one of the same open time */
extern void perps_store_kline(PerpsStore *s, int32 market_id, const char *interval, TimestampTz open_time,
							  TimestampTz close_time, Datum open, Datum high, Datum low, Datum close,
							  const Datum *volume, const Datum *turnover, const int64 *trade_count);

/* market_id 0: none; range times 0: NULL; first/last_id NULL: none */
extern void perps_store_event(PerpsStore *s, int16 exchange_id, int32 market_id, const char *kind,
							  const char *message, TimestampTz range_start, TimestampTz range_end,
							  const char *first_id, const char *last_id);

/* Rows given as an array of a time-series table's row type (perps_stats._store_rows); returns the table. */
extern PerpsStoreTable perps_store_rows_of_type(PerpsStore *s, ArrayType *rows);

extern int	perps_store_count(const PerpsStore *s);

/* "trades 3, tickers 1, ..." of the tables with rows, into buf */
extern void perps_store_describe(const PerpsStore *s, char *buf, size_t len);

/* Writes every row; returns the rows the tables took (a repeat ignored is not counted). */
extern uint64 perps_store_flush(PerpsStore *s);
extern void perps_store_reset(PerpsStore *s);

/* The rows a table took in the last flush. */
extern uint64 perps_store_written(const PerpsStore *s, PerpsStoreTable t);

#endif							/* PERPS_STORE_H */
