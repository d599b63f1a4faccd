# Sourced by test/run.sh: starts the WebSocket mock on a free loopback port.
# Exports PERPS_MOCK_WS_URL (ws://127.0.0.1:PORT; a venue is reached at
# $PERPS_MOCK_WS_URL/<venue>/<its path>) and PERPS_MOCK_WS_CONTROL (its
# control endpoints, see test/mock/ws_mock.py).
python3 test/mock/ws_mock.py --port-file "$PERPS_RUN/ws_mock.port" 2>"$PERPS_RUN/ws_mock.log" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$PERPS_RUN/ws_mock.port" ] && break; sleep 0.1; done
if [ ! -s "$PERPS_RUN/ws_mock.port" ]; then cat "$PERPS_RUN/ws_mock.log"; return 1; fi
PERPS_MOCK_WS_URL=ws://127.0.0.1:$(cat "$PERPS_RUN/ws_mock.port")
PERPS_MOCK_WS_CONTROL=http://127.0.0.1:$(cat "$PERPS_RUN/ws_mock.port")/_ws
export PERPS_MOCK_WS_URL PERPS_MOCK_WS_CONTROL
curl -sf "$PERPS_MOCK_WS_CONTROL/health" >/dev/null || { cat "$PERPS_RUN/ws_mock.log"; return 1; }
echo "WebSocket mock at $PERPS_MOCK_WS_URL ($(head -1 "$PERPS_RUN/ws_mock.log"))"
