-- perps_stats install script, part 35: the watchlist.
--
-- What the collector polls and the stream workers stream, by venue name and
-- global symbol.  Changed with plain SQL at runtime; the workers pick the
-- change up on their next round.

CREATE TABLE perps_stats.watchlist (
    exchange    text NOT NULL REFERENCES perps_stats.exchanges (name) ON UPDATE CASCADE ON DELETE CASCADE,
    symbol      text NOT NULL CHECK (symbol ~ '^[A-Z0-9]{1,32}$'),
    poll        boolean NOT NULL DEFAULT true,
    stream      boolean NOT NULL DEFAULT true,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol)
);
COMMENT ON TABLE perps_stats.watchlist IS
    'Markets to collect: poll = collect() snapshots (ticker, open interest, funding, order book), stream = the stream workers';

-- BTC, ETH and SOL on each venue of its own adapter: a venue served by
-- another's (a HIP-3 DEX) lists other assets and is watched only on demand.
INSERT INTO perps_stats.watchlist (exchange, symbol)
SELECT e.name, s.symbol
  FROM perps_stats.exchanges e
 CROSS JOIN (VALUES ('BTC'), ('ETH'), ('SOL')) AS s (symbol)
 WHERE e.adapter IS NULL
 ORDER BY e.id, s.symbol;

SELECT pg_catalog.pg_extension_config_dump('perps_stats.watchlist', '');
