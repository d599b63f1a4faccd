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
    psql -X -q -d perps -c "UPDATE perps_stats.exchanges SET rest_url = '$mock_url/' || name"
    echo "mock exchange at $mock_url (exchanges.rest_url points there)"
fi
