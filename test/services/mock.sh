# Sourced by test/run.sh and bench/run.sh: starts the mock exchange on a
# free loopback port.  Exports PERPS_MOCK_URL (http://127.0.0.1:PORT); a venue
# is reached at $PERPS_MOCK_URL/<venue>.  Tests point exchanges.rest_url there
# (in psql: \getenv mock_url PERPS_MOCK_URL).
python3 test/mock/mock_exchange.py --port-file "$PERPS_RUN/mock.port" >/dev/null 2>"$PERPS_RUN/mock.log" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$PERPS_RUN/mock.port" ] && break; sleep 0.1; done
if [ ! -s "$PERPS_RUN/mock.port" ]; then cat "$PERPS_RUN/mock.log"; return 1; fi
PERPS_MOCK_URL=http://127.0.0.1:$(cat "$PERPS_RUN/mock.port")
export PERPS_MOCK_URL
curl -sf "$PERPS_MOCK_URL/_mock/health" >/dev/null || { cat "$PERPS_RUN/mock.log"; return 1; }
echo "mock exchange at $PERPS_MOCK_URL ($(head -1 "$PERPS_RUN/mock.log"))"
