/*-------------------------------------------------------------------------
 *
 * store.c
 *		The one writer of the time-series tables and ingest_events (see
 *		store.h for the clash policy of each table).
 *
 * Every table is described once (its columns, their types, the key a
 * batch keeps one row of, and what a clash does); a batch keeps each
 * table's rows column by column, and a flush writes each table with one
 * prepared INSERT ... SELECT FROM unnest($1, $2, ...) whose parameters are
 * those columns as arrays.  The trades, the bulk of a stream, go through
 * the multi-insert path (bulk.h) in a subtransaction, and through the
 * INSERT when it refuses (a repeated trade).
 *
 * Memory: the store lives in its creator's context, its rows in a child
 * context that perps_store_reset empties; the plans are kept for
 * the life of the backend (SPI_keepplan), one per table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "perps_pg.h"			/* first: PostgreSQL's json_object vs json-c's */

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "access/htup_details.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "bulk.h"
#include "guard.h"
#include "store.h"

#define STORE_MAX_COLS 20

typedef struct StoreColumn
{
	const char *name;
	Oid			type;
} StoreColumn;

typedef enum StoreClash
{
	CLASH_KEEP,					/* ON CONFLICT DO NOTHING; a batch keeps the first */
	CLASH_REPLACE,				/* the newer non-null values replace; a batch keeps the last */
	CLASH_NONE					/* no key to clash on */
} StoreClash;

typedef struct StoreTableDesc
{
	const char *table;
	int			ncols;
	int			nkeys;			/* the primary key: the first nkeys columns ... */
	const int  *keycols;		/* ... or these */
	StoreClash	clash;
	bool		bulk;			/* the multi-insert path first */
	bool		per_row;		/* array columns: one INSERT per row (no arrays of arrays) */
	StoreColumn cols[STORE_MAX_COLS];
} StoreTableDesc;

static const int trade_key[] = {0, 2, 1};	/* market_id, trade_id, ts */

#define NUM(n) {n, NUMERICOID}

static const StoreTableDesc store_tables[PERPS_ST_COUNT] = {
	[PERPS_ST_TICKERS] = {"tickers", 17, 2, NULL, CLASH_KEEP, false, false,
		{{"market_id", INT4OID}, {"ts", TIMESTAMPTZOID}, NUM("last_price"), NUM("mark_price"),
			NUM("index_price"), NUM("best_bid_price"), NUM("best_bid_qty"), NUM("best_ask_price"),
			NUM("best_ask_qty"), NUM("volume_24h"), NUM("turnover_24h"), NUM("open_interest"),
			NUM("open_interest_notional"), NUM("price_change_24h"), NUM("price_change_pct"),
	NUM("high_24h"), NUM("low_24h")}},
	[PERPS_ST_ORDERBOOKS] = {"orderbooks", 5, 2, NULL, CLASH_KEEP, false, true,
		{{"market_id", INT4OID}, {"ts", TIMESTAMPTZOID}, {"bids", NUMERICARRAYOID},
	{"asks", NUMERICARRAYOID}, {"seq", INT8OID}}},
	[PERPS_ST_LIQUIDITY] = {"liquidity_depth", 20, 2, NULL, CLASH_KEEP, false, false,
		{{"market_id", INT4OID}, {"ts", TIMESTAMPTZOID}, NUM("mid_price"),
			NUM("bid_1bps"), NUM("bid_2_5bps"), NUM("bid_5bps"), NUM("bid_10bps"), NUM("bid_20bps"),
			NUM("bid_50bps"), NUM("bid_100bps"), NUM("ask_1bps"), NUM("ask_2_5bps"), NUM("ask_5bps"),
			NUM("ask_10bps"), NUM("ask_20bps"), NUM("ask_50bps"), NUM("ask_100bps"),
	NUM("max_bid_bps"), NUM("max_ask_bps"), {"resolution", TEXTOID}}},
	[PERPS_ST_SLIPPAGE] = {"slippage", 9, 4, NULL, CLASH_KEEP, false, false,
		{{"market_id", INT4OID}, {"ts", TIMESTAMPTZOID}, NUM("amount"), {"side", TEXTOID},
			NUM("mid_price"), NUM("avg_price"), NUM("slippage_bps"), {"feasible", BOOLOID},
	{"resolution", TEXTOID}}},
	[PERPS_ST_TRADES] = {"trades", 6, 3, trade_key, CLASH_KEEP, true, false,
		{{"market_id", INT4OID}, {"ts", TIMESTAMPTZOID}, {"trade_id", TEXTOID}, NUM("price"),
	NUM("qty"), {"side", TEXTOID}}},
	[PERPS_ST_FUNDING] = {"funding_rates", 5, 2, NULL, CLASH_REPLACE, false, false,
		{{"market_id", INT4OID}, {"funding_time", TIMESTAMPTZOID}, NUM("rate"),
	NUM("predicted_rate"), NUM("interval_hours")}},
	[PERPS_ST_OPEN_INTEREST] = {"open_interest", 4, 2, NULL, CLASH_KEEP, false, false,
		{{"market_id", INT4OID}, {"ts", TIMESTAMPTZOID}, NUM("open_interest"),
	NUM("open_interest_notional")}},
	[PERPS_ST_KLINES] = {"klines", 11, 3, NULL, CLASH_REPLACE, false, false,
		{{"market_id", INT4OID}, {"\"interval\"", TEXTOID}, {"open_time", TIMESTAMPTZOID},
			{"close_time", TIMESTAMPTZOID}, NUM("open"), NUM("high"), NUM("low"), NUM("close"),
	NUM("volume"), NUM("turnover"), {"trade_count", INT8OID}}},
	[PERPS_ST_EVENTS] = {"ingest_events", 9, 0, NULL, CLASH_NONE, false, false,
		{{"exchange_id", INT2OID}, {"market_id", INT4OID}, {"source", TEXTOID}, {"kind", TEXTOID},
			{"message", TEXTOID}, {"range_start", TIMESTAMPTZOID}, {"range_end", TIMESTAMPTZOID},
	{"first_missing_id", TEXTOID}, {"last_missing_id", TEXTOID}}},
};

const char *const perps_ticker_columns[PERPS_TICKER_NCOLS] = {
	"last_price", "mark_price", "index_price", "best_bid_price", "best_bid_qty",
	"best_ask_price", "best_ask_qty", "volume_24h", "turnover_24h", "open_interest",
	"open_interest_notional", "price_change_24h", "price_change_pct", "high_24h", "low_24h"
};

/* one table's rows, column by column */
typedef struct StoreRows
{
	int			n;
	int			cap;
	Datum	   *values[STORE_MAX_COLS];
	bool	   *nulls[STORE_MAX_COLS];
} StoreRows;

struct PerpsStore
{
	MemoryContext cxt;
	const char *source;
	StoreRows	rows[PERPS_ST_COUNT];
	uint64		written[PERPS_ST_COUNT];	/* by the last flush */
};

/* the type facts datumCopy and construct_md_array need, per column type */
typedef struct StoreType
{
	Oid			type;
	int16		typlen;
	bool		typbyval;
	char		typalign;
} StoreType;

static SPIPlanPtr store_plans[PERPS_ST_COUNT];

static void
store_type(Oid type, StoreType *t)
{
	t->type = type;
	get_typlenbyvalalign(type, &t->typlen, &t->typbyval, &t->typalign);
}

PerpsStore *
perps_store_new(MemoryContext parent, const char *source)
{
	PerpsStore *s = MemoryContextAllocZero(parent, sizeof(PerpsStore));

	/*
	 * a first block that a stream's batch fits in and that a reset keeps:
	 * each batch reuses it instead of asking malloc again
	 */
	s->cxt = AllocSetContextCreate(parent, "perps store rows", 0, 256 * 1024, ALLOCSET_DEFAULT_MAXSIZE);
	s->source = MemoryContextStrdup(parent, source);
	return s;
}

void
perps_store_reset(PerpsStore *s)
{
	MemoryContextReset(s->cxt);
	memset(s->rows, 0, sizeof(s->rows));
}

uint64
perps_store_written(const PerpsStore *s, PerpsStoreTable t)
{
	return s->written[t];
}

int
perps_store_count(const PerpsStore *s)
{
	int			n = 0;

	for (int t = 0; t < PERPS_ST_COUNT; t++)
		n += s->rows[t].n;
	return n;
}

void
perps_store_describe(const PerpsStore *s, char *buf, size_t len)
{
	size_t		off = 0;

	buf[0] = '\0';
	for (int t = 0; t < PERPS_ST_COUNT && off < len; t++)
		if (s->rows[t].n > 0)
			off += snprintf(buf + off, len - off, "%s%s %d", off ? ", " : "", store_tables[t].table,
							s->rows[t].n);
}

/* ---- appending ---- */

static bool
store_keys_equal(const StoreTableDesc *d, const StoreRows *r, int a, const Datum *values)
{
	for (int k = 0; k < d->nkeys; k++)
	{
		int			c = d->keycols ? d->keycols[k] : k;

		switch (d->cols[c].type)
		{
			case INT4OID:
			case TIMESTAMPTZOID:
			case INT8OID:
				if (r->values[c][a] != values[c])
					return false;
				break;
			default:
				if (!datumIsEqual(r->values[c][a], values[c], false, -1))
					return false;
		}
	}
	return true;
}

/*
 * Adds one row (values/nulls in the table's column order), copied into the
 * store's context.  A replacing table merges a row of the same key.
 */
static void
store_add(PerpsStore *s, PerpsStoreTable t, const Datum *values, const bool *nulls)
{
	const StoreTableDesc *d = &store_tables[t];
	StoreRows  *r = &s->rows[t];
	MemoryContext old = MemoryContextSwitchTo(s->cxt);
	int			row = r->n;

	if (d->clash == CLASH_REPLACE)
	{
		for (int i = r->n - 1; i >= 0; i--)
			if (store_keys_equal(d, r, i, values))
			{
				row = i;
				break;
			}
	}
	if (row == r->n)
	{
		if (r->n == r->cap)
		{
			int			ncap = r->cap ? r->cap * 2 : 64;

			for (int c = 0; c < d->ncols; c++)
			{
				r->values[c] = r->values[c] ? repalloc(r->values[c], sizeof(Datum) * ncap)
					: palloc(sizeof(Datum) * ncap);
				r->nulls[c] = r->nulls[c] ? repalloc(r->nulls[c], sizeof(bool) * ncap)
					: palloc(sizeof(bool) * ncap);
			}
			r->cap = ncap;
		}
		r->n++;
		for (int c = 0; c < d->ncols; c++)
			r->nulls[c][row] = true;
	}
	for (int c = 0; c < d->ncols; c++)
	{
		bool		byval;
		int16		typlen;

		if (nulls[c])
			continue;			/* a new row's NULL, or a merge keeping the older value */
		switch (d->cols[c].type)
		{
			case INT2OID:
			case INT4OID:
			case INT8OID:
			case TIMESTAMPTZOID:
			case BOOLOID:
				byval = true;
				typlen = 8;
				break;
			default:
				byval = false;
				typlen = -1;
		}
		r->values[c][row] = byval ? values[c] : datumCopy(values[c], false, typlen);
		r->nulls[c][row] = false;
	}
	MemoryContextSwitchTo(old);
}

void
perps_store_ticker(PerpsStore *s, int32 market_id, TimestampTz ts, const Datum *values, const bool *nulls)
{
	Datum		v[2 + PERPS_TICKER_NCOLS];
	bool		n[2 + PERPS_TICKER_NCOLS];

	v[0] = Int32GetDatum(market_id);
	v[1] = TimestampTzGetDatum(ts);
	n[0] = n[1] = false;
	memcpy(v + 2, values, sizeof(Datum) * PERPS_TICKER_NCOLS);
	memcpy(n + 2, nulls, sizeof(bool) * PERPS_TICKER_NCOLS);
	store_add(s, PERPS_ST_TICKERS, v, n);
}

/* the best `levels` levels of a side as a 2-D numeric[] {{price,qty},...} */
static Datum
store_side_array(const PerpsNumSide *side, int levels)
{
	int			k = Min(side->nlevels, Max(levels, 0));
	Datum	   *elems;
	int			dims[2];
	int			lbs[2] = {1, 1};

	if (k == 0)
		return PointerGetDatum(construct_empty_array(NUMERICOID));
	elems = palloc(sizeof(Datum) * 2 * k);
	for (int i = 0; i < k; i++)
	{
		elems[2 * i] = NumericGetDatum(side->price[i]);
		elems[2 * i + 1] = NumericGetDatum(side->qty[i]);
	}
	dims[0] = k;
	dims[1] = 2;
	return PointerGetDatum(construct_md_array(elems, NULL, 2, dims, lbs, NUMERICOID, -1, false, TYPALIGN_INT));
}

void
perps_store_book(PerpsStore *s, int32 market_id, TimestampTz ts, const PerpsNumBook *book,
				 int store_levels, int64 seq, bool has_seq)
{
	perps_store_books(s, market_id, ts, book, NULL, 1, store_levels, seq, has_seq);
}

/* a resolution's name as the resolution column's value */
static void
store_resolution(const char *const *labels, int r, Datum *v, bool *n)
{
	*n = labels == NULL || labels[r] == NULL;
	*v = *n ? (Datum) 0 : CStringGetTextDatum(labels[r]);
}

void
perps_store_books(PerpsStore *s, int32 market_id, TimestampTz ts, const PerpsNumBook *books,
				  const char *const *labels, int nbooks, int store_levels, int64 seq, bool has_seq)
{
	Datum		v[STORE_MAX_COLS];
	bool		n[STORE_MAX_COLS];
	PerpsSlippageRow slip[PERPS_SLIPPAGE_STD_ROWS];
	int			slip_res[PERPS_SLIPPAGE_STD_ROWS];
	int			liq_res;
	bool		have_liquidity;
	int			nslip;

	Assert(nbooks >= 1 && nbooks <= PERPS_MAX_RESOLUTIONS);
	/* everything that can raise first, so that a bad book adds nothing */
	for (int r = 0; r < nbooks; r++)
		perps_book_check(&books[r]);
	memset(n, 0, sizeof(n));
	have_liquidity = perps_merged_liquidity_row(books, nbooks, v + 2, n + 2, &liq_res);
	nslip = perps_merged_slippage_rows(books, nbooks, slip, slip_res);

	v[0] = Int32GetDatum(market_id);
	v[1] = TimestampTzGetDatum(ts);
	n[0] = n[1] = false;
	if (have_liquidity)
	{
		store_resolution(labels, liq_res, &v[2 + PERPS_LIQUIDITY_ROW_NATTS],
						 &n[2 + PERPS_LIQUIDITY_ROW_NATTS]);
		store_add(s, PERPS_ST_LIQUIDITY, v, n);
	}

	memset(n, 0, sizeof(n));
	for (int i = 0; i < nslip; i++)
	{
		v[2] = NumericGetDatum(slip[i].amount);
		v[3] = CStringGetTextDatum(slip[i].is_buy ? "buy" : "sell");
		v[4] = NumericGetDatum(slip[i].mid_price);
		n[5] = slip[i].avg_price == NULL;
		v[5] = n[5] ? (Datum) 0 : NumericGetDatum(slip[i].avg_price);
		n[6] = slip[i].slippage_bps == NULL;
		v[6] = n[6] ? (Datum) 0 : NumericGetDatum(slip[i].slippage_bps);
		v[7] = BoolGetDatum(slip[i].feasible);
		store_resolution(labels, slip_res[i], &v[8], &n[8]);
		store_add(s, PERPS_ST_SLIPPAGE, v, n);
	}

	/* the orderbooks row keeps the finest book */
	memset(n, 0, sizeof(n));
	v[2] = store_side_array(&books[0].bids, store_levels);
	v[3] = store_side_array(&books[0].asks, store_levels);
	v[4] = Int64GetDatum(seq);
	n[4] = !has_seq;
	store_add(s, PERPS_ST_ORDERBOOKS, v, n);
}

void
perps_store_trade(PerpsStore *s, int32 market_id, TimestampTz ts, const char *trade_id,
				  Datum price, Datum qty, bool is_buy)
{
	Datum		v[6];
	bool		n[6] = {false};

	v[0] = Int32GetDatum(market_id);
	v[1] = TimestampTzGetDatum(ts);
	v[2] = CStringGetTextDatum(trade_id);
	v[3] = price;
	v[4] = qty;
	v[5] = CStringGetTextDatum(is_buy ? "buy" : "sell");
	store_add(s, PERPS_ST_TRADES, v, n);
}

/* an optional Datum into v[i] / n[i] */
static void
store_opt(Datum *v, bool *n, int i, const Datum *d)
{
	n[i] = d == NULL;
	v[i] = d ? *d : (Datum) 0;
}

void
perps_store_funding(PerpsStore *s, int32 market_id, TimestampTz funding_time,
					const Datum *rate, const Datum *predicted_rate, const Datum *interval_hours)
{
	Datum		v[5];
	bool		n[5] = {false};

	v[0] = Int32GetDatum(market_id);
	v[1] = TimestampTzGetDatum(funding_time);
	store_opt(v, n, 2, rate);
	store_opt(v, n, 3, predicted_rate);
	store_opt(v, n, 4, interval_hours);
	store_add(s, PERPS_ST_FUNDING, v, n);
}

void
perps_store_kline(PerpsStore *s, int32 market_id, const char *interval, TimestampTz open_time,
				  TimestampTz close_time, Datum open, Datum high, Datum low, Datum close,
				  const Datum *volume, const Datum *turnover, const int64 *trade_count)
{
	Datum		v[11];
	bool		n[11] = {false};

	v[0] = Int32GetDatum(market_id);
	v[1] = CStringGetTextDatum(interval);
	v[2] = TimestampTzGetDatum(open_time);
	v[3] = TimestampTzGetDatum(close_time);
	v[4] = open;
	v[5] = high;
	v[6] = low;
	v[7] = close;
	store_opt(v, n, 8, volume);
	store_opt(v, n, 9, turnover);
	n[10] = trade_count == NULL;
	v[10] = trade_count ? Int64GetDatum(*trade_count) : (Datum) 0;
	store_add(s, PERPS_ST_KLINES, v, n);
}

void
perps_store_open_interest(PerpsStore *s, int32 market_id, TimestampTz ts,
						  const Datum *open_interest, const Datum *notional)
{
	Datum		v[4];
	bool		n[4] = {false};

	v[0] = Int32GetDatum(market_id);
	v[1] = TimestampTzGetDatum(ts);
	store_opt(v, n, 2, open_interest);
	store_opt(v, n, 3, notional);
	store_add(s, PERPS_ST_OPEN_INTEREST, v, n);
}

void
perps_store_event(PerpsStore *s, int16 exchange_id, int32 market_id, const char *kind,
				  const char *message, TimestampTz range_start, TimestampTz range_end,
				  const char *first_id, const char *last_id)
{
	Datum		v[9];
	bool		n[9] = {false};

	/* texts that may carry a venue's bytes, or be clipped to a buffer: valid UTF-8 */
	message = message ? perps_utf8_clean(pstrdup(message)) : NULL;
	first_id = first_id ? perps_utf8_clean(pstrdup(first_id)) : NULL;
	last_id = last_id ? perps_utf8_clean(pstrdup(last_id)) : NULL;
	v[0] = Int16GetDatum(exchange_id);
	n[0] = exchange_id == 0;
	v[1] = Int32GetDatum(market_id);
	n[1] = market_id == 0;
	v[2] = CStringGetTextDatum(s->source);
	v[3] = CStringGetTextDatum(kind);
	n[4] = message == NULL;
	v[4] = message ? CStringGetTextDatum(message) : (Datum) 0;
	v[5] = TimestampTzGetDatum(range_start);
	n[5] = range_start == 0;
	v[6] = TimestampTzGetDatum(range_end);
	n[6] = range_end == 0;
	n[7] = first_id == NULL;
	v[7] = first_id ? CStringGetTextDatum(first_id) : (Datum) 0;
	n[8] = last_id == NULL;
	v[8] = last_id ? CStringGetTextDatum(last_id) : (Datum) 0;
	store_add(s, PERPS_ST_EVENTS, v, n);
}

/*
 * Rows given as an array of a time-series table's row type (the
 * backfill's): the table is the one of that row type, whose columns are
 * the descriptor's.
 */
PerpsStoreTable
perps_store_rows_of_type(PerpsStore *s, ArrayType *rows)
{
	Oid			rowtype = ARR_ELEMTYPE(rows);
	Oid			relid = get_typ_typrelid(rowtype);
	char	   *relname = relid ? get_rel_name(relid) : NULL;
	char	   *nspname = relid ? get_namespace_name(get_rel_namespace(relid)) : NULL;
	int			t;
	TupleDesc	tupdesc;
	Datum	   *elems;
	bool	   *enulls;
	int			nelems;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	for (t = 0; t < PERPS_ST_COUNT; t++)
		if (relname && nspname && strcmp(nspname, "perps_stats") == 0 &&
			strcmp(relname, store_tables[t].table) == 0 && t != PERPS_ST_EVENTS)
			break;
	if (t == PERPS_ST_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot store rows of type %s", format_type_be(rowtype)),
				 errhint("Give an array of the row type of one of perps_stats' time-series tables.")));
	tupdesc = lookup_rowtype_tupdesc(rowtype, -1);
	if (tupdesc->natts != store_tables[t].ncols)
		elog(ERROR, "perps_stats.%s has %d columns, the writer knows %d", relname, tupdesc->natts,
			 store_tables[t].ncols);
	get_typlenbyvalalign(rowtype, &typlen, &typbyval, &typalign);
	deconstruct_array(rows, rowtype, typlen, typbyval, typalign, &elems, &enulls, &nelems);
	for (int i = 0; i < nelems; i++)
	{
		HeapTupleHeader th;
		HeapTupleData tuple;
		Datum		v[STORE_MAX_COLS];
		bool		n[STORE_MAX_COLS];

		CHECK_FOR_INTERRUPTS();
		if (enulls[i])
			continue;
		th = DatumGetHeapTupleHeader(elems[i]);
		tuple.t_len = HeapTupleHeaderGetDatumLength(th);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = th;
		heap_deform_tuple(&tuple, tupdesc, v, n);
		store_add(s, (PerpsStoreTable) t, v, n);
	}
	ReleaseTupleDesc(tupdesc);
	return (PerpsStoreTable) t;
}

/* ---- flushing ---- */

static SPIPlanPtr
store_plan(PerpsStoreTable t)
{
	const StoreTableDesc *d = &store_tables[t];
	StringInfoData sql;
	Oid			types[STORE_MAX_COLS];
	SPIPlanPtr	plan;

	if (store_plans[t] != NULL)
		return store_plans[t];
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO perps_stats.%s AS t (", d->table);
	for (int c = 0; c < d->ncols; c++)
		appendStringInfo(&sql, "%s%s", c ? ", " : "", d->cols[c].name);
	appendStringInfoString(&sql, d->per_row ? ") VALUES (" : ") SELECT * FROM unnest(");
	for (int c = 0; c < d->ncols; c++)
	{
		types[c] = d->per_row ? d->cols[c].type : get_array_type(d->cols[c].type);
		appendStringInfo(&sql, "%s$%d::%s", c ? ", " : "", c + 1, format_type_be(types[c]));
	}
	appendStringInfoChar(&sql, ')');
	if (d->clash == CLASH_KEEP)
		appendStringInfoString(&sql, " ON CONFLICT DO NOTHING");
	else if (d->clash == CLASH_REPLACE)
	{
		/* ON CONFLICT (keys) DO UPDATE SET c = coalesce(EXCLUDED.c, t.c) ... WHERE changed */
		StringInfoData now,
					was;

		initStringInfo(&now);
		initStringInfo(&was);
		appendStringInfoString(&sql, " ON CONFLICT (");
		for (int k = 0; k < d->nkeys; k++)
			appendStringInfo(&sql, "%s%s", k ? ", " : "", d->cols[k].name);
		appendStringInfoString(&sql, ") DO UPDATE SET ");
		for (int c = d->nkeys; c < d->ncols; c++)
		{
			const char *col = d->cols[c].name;

			appendStringInfo(&sql, "%s%s = coalesce(EXCLUDED.%s, t.%s)", c > d->nkeys ? ", " : "", col, col, col);
			appendStringInfo(&now, "%scoalesce(EXCLUDED.%s, t.%s)", c > d->nkeys ? ", " : "", col, col);
			appendStringInfo(&was, "%st.%s", c > d->nkeys ? ", " : "", col);
		}
		appendStringInfo(&sql, " WHERE (%s) IS DISTINCT FROM (%s)", was.data, now.data);
	}
	plan = SPI_prepare(sql.data, d->ncols, types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql.data, SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	store_plans[t] = plan;
	return plan;
}

/* one INSERT of rows [from, from + count) of a table; returns the rows it wrote */
static uint64
store_insert(PerpsStore *s, PerpsStoreTable t, int from, int count)
{
	const StoreTableDesc *d = &store_tables[t];
	StoreRows  *r = &s->rows[t];
	SPIPlanPtr	plan = store_plan(t);
	Datum		args[STORE_MAX_COLS];
	int			dims[1] = {count};
	int			lbs[1] = {1};
	int			rc;

	if (d->per_row)
	{
		uint64		written = 0;

		for (int i = from; i < from + count; i++)
		{
			char		nulls[STORE_MAX_COLS];

			for (int c = 0; c < d->ncols; c++)
			{
				args[c] = r->values[c][i];
				nulls[c] = r->nulls[c][i] ? 'n' : ' ';
			}
			rc = SPI_execute_plan(plan, args, nulls, false, 0);
			if (rc != SPI_OK_INSERT)
				elog(ERROR, "writing perps_stats.%s failed: %s", d->table, SPI_result_code_string(rc));
			written += SPI_processed;
		}
		return written;
	}
	for (int c = 0; c < d->ncols; c++)
	{
		StoreType	ty;

		store_type(d->cols[c].type, &ty);
		args[c] = PointerGetDatum(construct_md_array(r->values[c] + from, r->nulls[c] + from, 1, dims, lbs,
													 ty.type, ty.typlen, ty.typbyval, ty.typalign));
	}
	rc = SPI_execute_plan(plan, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "writing perps_stats.%s failed: %s", d->table, SPI_result_code_string(rc));
	return SPI_processed;
}

/* rows [from, from + count) of one table, to write */
typedef struct StoreWrite
{
	PerpsStore *s;
	PerpsStoreTable t;
	int			from;
	int			count;
	uint64		written;		/* out */
} StoreWrite;

static void
store_bulk_fill(void *arg, int row, Datum *values, bool *isnull)
{
	StoreWrite *w = arg;
	StoreRows  *r = &w->s->rows[w->t];

	for (int c = 0; c < store_tables[w->t].ncols; c++)
	{
		values[c] = r->values[c][w->from + row];
		isnull[c] = r->nulls[c][w->from + row];
	}
}

static uint64
store_bulk_fallback(void *arg)
{
	StoreWrite *w = arg;

	return store_insert(w->s, w->t, w->from, w->count);
}

/* the write itself: the multi-insert path first where the table has it, else one INSERT */
static void
store_write(void *arg)
{
	StoreWrite *w = arg;
	const StoreTableDesc *d = &store_tables[w->t];
	bool		used_bulk;

	if (d->bulk && w->count > 1)
		w->written = perps_bulk_insert_or("perps_stats", d->table, d->ncols, w->count,
										  store_bulk_fill, w, store_bulk_fallback, &used_bulk);
	else
		w->written = store_insert(w->s, w->t, w->from, w->count);
}

/* "market_id 3, trade_id 12, ts 2026-..." of a row's key, for the record of a row set aside */
static char *
store_key_text(PerpsStore *s, PerpsStoreTable t, int row)
{
	const StoreTableDesc *d = &store_tables[t];
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < d->nkeys; k++)
	{
		int			c = d->keycols ? d->keycols[k] : k;
		Oid			out;
		bool		varlena;

		appendStringInfo(&buf, "%s%s ", k ? ", " : "", d->cols[c].name);
		if (s->rows[t].nulls[c][row])
		{
			appendStringInfoString(&buf, "NULL");
			continue;
		}
		getTypeOutputInfo(d->cols[c].type, &out, &varlena);
		appendStringInfoString(&buf, OidOutputFunctionCall(out, s->rows[t].values[c][row]));
	}
	return buf.data;
}

/*
 * Writes one table's rows.  When the statement fails, the rows are written
 * one at a time, each in a subtransaction: a row that fails alone (a
 * trigger, a constraint) is set aside, and an ingest_events row of the
 * batch names it, while the rest is written.  When no row goes in (the
 * first STORE_SYSTEMIC_ROWS tried all fail, or all of them), the fault is
 * not in the rows (a table locked, a trigger refusing everything): the
 * first error is raised and the caller keeps the batch.  ingest_events
 * itself is written in one statement.
 */
#define STORE_SYSTEMIC_ROWS 100

static uint64
store_write_table(PerpsStore *s, PerpsStoreTable t)
{
	int			n = s->rows[t].n;
	StoreWrite	w = {s, t, 0, n, 0};
	ErrorData  *first;
	uint64		written = 0;
	int			good = 0;
	int			nbad = 0;
	int		   *bad;
	char	  **why;

	if (t == PERPS_ST_EVENTS)
	{
		store_write(&w);
		return w.written;
	}
	first = perps_run_guarded(store_write, &w);
	if (first == NULL)
		return w.written;

	bad = palloc(sizeof(int) * n);
	why = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
	{
		StoreWrite	one = {s, t, i, 1, 0};
		ErrorData  *e = perps_run_guarded(store_write, &one);

		if (e == NULL)
		{
			good++;
			written += one.written;
			continue;
		}
		bad[nbad] = i;
		why[nbad++] = e->message;
		if (good == 0 && nbad >= STORE_SYSTEMIC_ROWS)
			break;
	}
	if (good == 0)
		ReThrowError(first);
	for (int k = 0; k < nbad; k++)
	{
		int			row = bad[k];
		char	   *msg = psprintf("a row of perps_stats.%s was set aside, the rest of its batch written: %s (%s)",
								   store_tables[t].table, why[k], store_key_text(s, t, row));

		/* the market in the message only: its id may be what the row failed on */
		perps_store_event(s, 0, 0, "error", msg, 0, 0, NULL, NULL);
	}
	return written;
}

uint64
perps_store_flush(PerpsStore *s)
{
	uint64		written = 0;

	/* ingest_events last: a row set aside adds to it */
	memset(s->written, 0, sizeof(s->written));
	for (int t = 0; t < PERPS_ST_COUNT; t++)
	{
		CHECK_FOR_INTERRUPTS();
		if (s->rows[t].n > 0)
		{
			s->written[t] = store_write_table(s, (PerpsStoreTable) t);
			written += s->written[t];
		}
	}
	return written;
}

/* ---- SQL ---- */

PG_FUNCTION_INFO_V1(perps_stats_store_rows);

/*
 * perps_stats._store_rows(rows anyarray) -> bigint: rows of a time-series
 * table (an array of its row type) written with the table's clash policy;
 * the rows the table took.
 */
Datum
perps_stats_store_rows(PG_FUNCTION_ARGS)
{
	ArrayType  *rows = PG_GETARG_ARRAYTYPE_P(0);
	PerpsStore *s = perps_store_new(CurrentMemoryContext, "backfill");
	PerpsStoreTable t;

	t = perps_store_rows_of_type(s, rows);
	SPI_connect();
	(void) perps_store_flush(s);
	SPI_finish();
	PG_RETURN_INT64((int64) perps_store_written(s, t));
}
