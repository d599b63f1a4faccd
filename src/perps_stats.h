/*-------------------------------------------------------------------------
 *
 * perps_stats.h
 *		Shared declarations of the perps_stats extension: the version and
 *		the configuration (GUC) variables every module reads.
 *
 * Each module that owns settings defines them in a perps_*_define_gucs()
 * function that _PG_init() calls; the variables are declared here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PERPS_STATS_H
#define PERPS_STATS_H

#include "postgres.h"

#ifndef PERPS_STATS_VERSION
#error "PERPS_STATS_VERSION must be defined by the Makefile"
#endif

/* GUC prefix reserved by _PG_init */
#define PERPS_GUC_PREFIX "perps_stats"

/* Database the background workers connect to (PGC_POSTMASTER). */
extern char *perps_database;

/* Seconds between two collect() rounds of the collector worker. */
extern int	perps_collect_interval;

/* Levels per side kept when a book snapshot is stored in orderbooks. */
extern int	perps_orderbook_store_levels;

/* Seconds between two stored snapshots of a streamed book. */
extern int	perps_book_snapshot_interval;

/* Stream write buffering: flush after this many rows or milliseconds. */
extern int	perps_flush_rows;
extern int	perps_stream_memory_limit;	/* kB */
extern int	perps_flush_interval;

/* Seconds of silence after which a stream connection is restarted. */
extern int	perps_stall_timeout;

/* Age in seconds at which a stream connection is replaced; 0: the venue's limit less a margin. */
extern int	perps_stream_connection_lifetime;

/* Whether the launcher runs the stream workers at all. */
extern bool perps_stream_workers;

/* Certificate authorities (PEM file) for wss://; empty: the system's. */
extern char *perps_stream_ca_file;

/*
 * The kline intervals the stream workers subscribe where the venue streams
 * candles: a comma-separated list of 1m 5m 15m 30m 1h 4h 1d ("": none).
 */
extern char *perps_stream_kline_intervals;

/*
 * The intervals of such a list, each once and in perps_stats' spelling
 * (perps_interval_name's static strings), into out[PERPS_KLINE_MAX]
 * (adapter.h); -1 and the offending word (clipped to bad_len) when one is
 * not an interval.
 */
extern int	perps_kline_intervals_parse(const char *list, const char **out, char *bad, size_t bad_len);

#endif							/* PERPS_STATS_H */
