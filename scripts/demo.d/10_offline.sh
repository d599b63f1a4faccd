# Sourced by scripts/demo.sh after CREATE EXTENSION.  Decides where the demo
# collects from: the real exchanges when they answer, otherwise (or with
# OFFLINE=1) the bundled mock exchange, said plainly.
reachable=0
if [ "${OFFLINE:-0}" != 1 ]; then
    for url in https://fapi.binance.com/fapi/v1/ping https://api.bybit.com/v5/market/time; do
        if curl -s -o /dev/null --max-time 4 "$url"; then reachable=1; break; fi
    done
fi
if [ "$reachable" = 1 ]; then
    echo "collecting from the real exchanges"
else
    [ "${OFFLINE:-0}" = 1 ] && why="OFFLINE=1" || why="the exchanges cannot be reached from here"
    echo "collecting from the bundled mock exchange ($why)"
    python3 test/mock/mock_exchange.py --port-file "$RUN/mock.port" >/dev/null 2>"$RUN/mock.log" &
    echo $! > "$RUN/mock.pid"
    for _ in $(seq 1 100); do [ -s "$RUN/mock.port" ] && break; sleep 0.1; done
    mock_url=http://127.0.0.1:$(cat "$RUN/mock.port")
    # (the mock serves each API once: a venue of another's adapter, a HIP-3 DEX, at its adapter's;
    # a venue's second host, exchanges.aux_url, under .../<venue>/aux)
    psql -X -q -d perps -c "UPDATE perps_stats.exchanges SET rest_url = '$mock_url/' || coalesce(adapter, name),
        aux_url = CASE WHEN aux_url IS NULL THEN NULL ELSE '$mock_url/' || coalesce(adapter, name) || '/aux' END"
    echo "mock exchange at $mock_url (exchanges.rest_url and aux_url point there)"
fi
if [ "$reachable" != 1 ]; then
    # the streams too: the WebSocket mock, with a generated trade flow on Bybit
    python3 test/mock/ws_mock.py --port-file "$RUN/ws_mock.port" >/dev/null 2>"$RUN/ws_mock.log" &
    echo $! > "$RUN/ws_mock.pid"
    for _ in $(seq 1 100); do [ -s "$RUN/ws_mock.port" ] && break; sleep 0.1; done
    ws_port=$(cat "$RUN/ws_mock.port")
    # every venue's stream at the mock, on the venue's own path (KuCoin: its REST mock's
    # bullet answer names the WebSocket mock)
    psql -X -q -d perps -c "UPDATE perps_stats.exchanges SET ws_url = 'ws://127.0.0.1:$ws_port/' || name ||
        CASE name WHEN 'bybit' THEN '/v5/public/linear' WHEN 'hyperliquid' THEN '/ws' WHEN 'lighter' THEN '/stream'
                  WHEN 'paradex' THEN '/v1?sbeSchemaId=1&sbeSchemaVersion=1' ELSE '' END"
    [ -n "${mock_url:-}" ] && curl -s -X POST -d "{\"ws_url\": \"ws://127.0.0.1:$ws_port\"}" "$mock_url/_mock/config" >/dev/null
    # once each venue's worker is subscribed, two trades a second on every venue for the
    # next hours (the mock's generated trades, near the payloads' prices)
    ( pending="binance bybit hyperliquid kucoin lighter paradex"
      for _ in $(seq 1 120); do
          left=""
          for v in $pending; do
              sent=$(curl -s -X POST "http://127.0.0.1:$ws_port/_ws/action" \
                         -d "{\"venue\": \"$v\", \"action\": \"trades\", \"count\": 100000, \"rate\": 2}" |
                     python3 -c 'import json,sys
try: print(int(json.load(sys.stdin).get("sent", 0)))
except Exception: print(0)')
              [ "${sent:-0}" -gt 0 ] || left="$left $v"
          done
          pending=$left
          [ -z "$pending" ] && break
          sleep 2
      done ) >/dev/null 2>&1 &
    echo "WebSocket mock at ws://127.0.0.1:$ws_port (every venue's ws_url points there; it replays the project's own frames, then a generated trade flow on every venue)"
fi
