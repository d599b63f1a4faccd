# Demo hook: PostgREST on 127.0.0.1:3000 (DEMO_HTTP_PORT) in front of the
# demo database, serving perps_api as perps_anon.  Sourced by scripts/demo.sh
# after CREATE EXTENSION; `make demo-stop` kills it through .demo/postgrest.pid.
. "$PERPS_ROOT/scripts/postgrest.sh"
DEMO_HTTP_PORT=${DEMO_HTTP_PORT:-3000}
PGDATABASE=perps perps_postgrest_start "$RUN/postgrest" "$DEMO_HTTP_PORT" 4 || exit 1
echo "$PERPS_POSTGREST_PID" > "$RUN/postgrest.pid"
H=http://127.0.0.1:$DEMO_HTTP_PORT
cat <<MSG

HTTP API (PostgREST $PERPS_POSTGREST_VERSION, schema perps_api, role perps_anon) on $H
  curl '$H/rpc/health'
  curl '$H/latest_tickers?symbol=eq.BTC&order=exchange'
  curl '$H/tickers?exchange=eq.binance&symbol=eq.BTC&ts=gte.$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)&order=ts.desc&limit=10'
  curl -H 'Accept: text/csv' '$H/latest_liquidity?symbol=eq.BTC'
  curl '$H/rpc/slippage?exchange=binance&symbol=BTC&amount=100000'
  curl '$H/rpc/liquidity?symbol=BTC'
  curl '$H/table_stats'
  curl '$H/stream_status?order=exchange'
MSG
